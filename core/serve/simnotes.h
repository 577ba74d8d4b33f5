/*
 * serve/simnotes: what `tandem simulate` says besides the month counts (simulate.h), read
 * from the simulated copy after its last wake.
 *
 * Contract:
 *  - simnotes_unplanned: the pairs of program_id whose last plan left them without
 *    sessions (matches.plan_note, sched/plan.h), by match id, into r->unplanned.
 *  - simnotes_failures: what failed in each of r's months (r->month must be filled):
 *    failed job runs (occurrences, by finished_at), report.failed events of program_id,
 *    and plan-sessions runs whose result skipped `program` for a reason other than its
 *    end; grouped by month, source, name and error into r->failures, each month's runs
 *    summed into r->month[i].failed and r->total.failed.
 *  - simnotes_relative: the copy's folder dir taken out of those messages (a plugin's
 *    FILE:LINE names the copy's file: plugins/reports/x.lua:3, as in the workspace).
 *  - simnotes_fini: frees what these put into r.
 *  Each returns 0, or -1 with a diag (a database error, out of memory).
 */
#ifndef TANDEM_SERVE_SIMNOTES_H
#define TANDEM_SERVE_SIMNOTES_H

#include <stdint.h>

#include "base/diag.h"

struct store;
struct simulate_result;

int simnotes_unplanned(struct store *st, int64_t program_id, struct simulate_result *r,
		       struct diag *d);
int simnotes_failures(struct store *st, int64_t program_id, const char *program,
		      struct simulate_result *r, struct diag *d);
void simnotes_relative(struct simulate_result *r, const char *dir);
void simnotes_fini(struct simulate_result *r);

#endif

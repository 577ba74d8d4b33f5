/*
 * serve/simnotes: what `tandem simulate` says besides the month counts (simulate.h), read
 * from the simulated copy after its last wake.
 *
 * Contract:
 *  - simnotes_unplanned: the pairs of program_id whose last plan left them without
 *    sessions (matches.plan_note, sched/plan.h), by match id, into r->unplanned.
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
void simnotes_fini(struct simulate_result *r);

#endif

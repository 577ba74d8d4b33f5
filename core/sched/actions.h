/*
 * sched/actions: what a Lua job receives (ctx) and what it may return (actions),
 * validated and then applied by the core in the run's transaction.
 *
 * A job's `run(ctx)` runs in the plugin's worker on a snapshot and never touches
 * the database (ARCHITECTURE rule 1). ctx is plain data:
 *     ctx.job, ctx.occurrence          the job's name, the occurrence's id
 *     ctx.now, ctx.due                 ISO 8601 UTC ("2027-01-11T08:00:00Z")
 *     ctx.covers                       instants this run stands for (misfire once: > 1)
 *     ctx.timezone                     the job's zone
 *     ctx.programs                     { {name=, title=, starts=, ends=}, ... }
 *     ctx.sessions  (needs "sessions") sessions starting from 30 days before now to
 *                                      30 days after: { {id=, match=, program=, starts=,
 *                                      duration=, timezone=, status=, topic=}, ... }
 *     ctx.matches   (needs "matches")  approved and active matches: { {id=, program=,
 *                                      status=, score=, mentor={id=, name=},
 *                                      mentee={id=, name=}}, ... }  (ids: external ids)
 *
 * It returns nil (nothing to do) or a list of actions, each a table with one action
 * key (documented in docs/plugin-api.md "Jobs"):
 *     {event = {kind = "custom.NAME", payload = {...}}}
 *         appends an event (kind "custom." then a-z, 0-9, '_' or '.'; payload a table
 *         of strings, numbers, booleans and tables, at most 64 KiB as JSON); actor
 *         "job:NAME".
 * At most SCHED_MAX_ACTIONS per run. Every action is validated before any is
 * applied, so a bad one applies nothing: the run is 'failed' with a reason naming
 * the script, the action's index and the field: "scripts/digest.lua: action 2:
 * field 'event.kind' must start with \"custom.\" (got \"session.held\")".
 *
 * Who calls it: sched/run.c (a Lua run), tests (sched_actions_apply on data).
 */
#ifndef TANDEM_SCHED_ACTIONS_H
#define TANDEM_SCHED_ACTIONS_H

#include <stddef.h>

#include "base/diag.h"
#include "store/store.h"

enum { SCHED_MAX_ACTIONS = 1000, SCHED_MAX_PAYLOAD = 64 * 1024 };

/*
 * Validates the marshalled results of a run hook (lua/marshal: {n = count, r1}) and
 * applies them, inside the caller's transaction. script and job name the job in
 * messages and events. result receives a JSON summary ({"actions":2,"events":2}).
 * 0, or -1 + diag: DIAG_INVALID (a bad action; nothing applied), or the store's error.
 */
int sched_actions_apply(struct store *st, const char *script, const char *job, const void *data,
			size_t n, char *result, size_t size, struct diag *d);

#endif

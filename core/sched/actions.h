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
 *         of strings, numbers, booleans and tables, at most 64 KiB as JSON);
 *     {message = {to = PERSON, subject = TEXT, body = TEXT, key = KEY}}
 *         queues a message in the outbox (events/outbox.h) for the person with that
 *         external id, under the idempotency key "job:JOBNAME:KEY" (a job that runs
 *         again with the same key queues nothing twice); kind "job";
 *     {cancel_session = ID, reason = TEXT}   session_cancel (sched/session.h);
 *     {end_match = ID, reason = TEXT}        lifecycle_end (program/lifecycle.h).
 * Every actor is "job:NAME". At most JOB_OUT_MAX per run. Every action is
 * validated before any is applied (lua/job_out: the same reading `plugins check` uses), and all are applied in one savepoint, so a bad
 * one applies nothing: the run is 'failed' with a reason naming the script, the
 * action's index and the field: "scripts/digest.lua: action 2: field 'event.kind'
 * must be \"custom.\" ... (got \"session.held\")", or the refusal of the module
 * that applies it ("scripts/x.lua: action 1: session 9 is cancelled already").
 *
 * Who calls it: sched/run.c (a Lua run), tests (sched_actions_apply on data).
 */
#ifndef TANDEM_SCHED_ACTIONS_H
#define TANDEM_SCHED_ACTIONS_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"
#include "store/store.h"

/* Who applies the actions, and when. */
struct sched_actions_ctx {
	struct store *st;
	const char *script;  /* the job's file, for messages */
	const char *job;     /* the job's name: actor "job:NAME", message keys */
	time_t now;          /* messages are due from now */
	const char *channel; /* the notifier of messages; NULL: "eml" */
};

/*
 * Validates the marshalled results of a run hook (lua/marshal: {n = count, r1}) and
 * applies them in a savepoint of the caller's transaction. result receives a JSON
 * summary ({"actions":2,"events":1,"messages":1,...}). 0, or -1 + diag: DIAG_INVALID
 * for a bad action (nothing applied), the applying module's code (DIAG_NOTFOUND,
 * DIAG_CONFLICT) for a refused one, DIAG_DB/DIAG_NOMEM for the store.
 */
int sched_actions_apply(const struct sched_actions_ctx *c, const void *data, size_t n,
			char *result, size_t size, struct diag *d);

#endif

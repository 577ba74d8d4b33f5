/*
 * rewards/dispatch: delivering the event log to reward rules (tandem.reward plugins), and
 * writing what they return into the ledger.
 *
 * Who calls it: `tandem rewards dispatch` (cli/cmd_rewards), the service once per wake
 * after the wake's jobs (serve/service: outside any transaction, so no write lock is held
 * while workers run), the bench and the tests.
 *
 * Contract:
 *  - The rules are every reward plugin found for the workspace (WS/plugins/rewards, then
 *    the built-ins; a workspace file shadows a built-in of the same name), or only the
 *    one named. A rule that fails to load is reported (its result's error) and the others
 *    still run.
 *  - Each rule has a cursor (table hook_cursors): the id of the last event delivered to
 *    it. Delivery is in event-id order, at least once, of the events whose kind the rule
 *    has a handler for (`on = { ["session.held"] = function(ev, ctx) ... end }`), up to
 *    the last event that existed when the dispatch started. A new rule starts at 0: it
 *    sees the whole log.
 *  - Per batch (at most opts->batch events): the rule's handlers run in its worker
 *    (lua/plugin's plugin_exec, the path every hook takes; one round trip per batch), on
 *    tables built from a snapshot (see docs/plugin-api.md "Reward rules" for ev and ctx;
 *    ev.match is the run's read-only copy of the match, sent to the worker once), the
 *    next batch already in the worker while this one is written (pipelined); then
 *    ONE transaction level (no savepoint per event) re-reads the cursor (if another dispatch moved it, the batch is
 *    dropped and the rule stops for this run), applies the grants and revocations, and
 *    moves the cursor. Grants are INSERT OR IGNORE under their award key
 *    ("PLUGIN:EVENT_ID:INDEX", or "PLUGIN:KEY" for a grant that names its own key), so a
 *    crash anywhere (crash points rewards.hooks_ran, rewards.applied,
 *    rewards.before_commit, rewards.committed) redelivers at most one batch and never
 *    doubles a grant.
 *  - A handler that raises, or returns something reward_out refuses, or a grant naming a
 *    person that does not exist, or a revocation of a key the ledger does not have, stops
 *    that rule AT that event: the events before it in the batch are applied, the cursor
 *    stays just before it, hook_cursors.stopped_at and .error say where and why (the
 *    message names the plugin file and line, the event id, the entry's index and the
 *    field), and the next dispatch tries that event again. Nothing is skipped silently.
 *    Fix the rule (or the data) and dispatch again.
 *  - Unless opts->force, when no rule has an event of its kinds after its cursor
 *    (hook_cursors.kinds, as of its last dispatch) and none is stopped, it returns at once
 *    without starting a worker (the service asks at every wake): a rule added to the
 *    workspace, or a kind added to a rule, is then picked up at the next event of a kind
 *    some rule listens to, or by `tandem rewards dispatch` (which forces); in the service,
 *    whose dispatcher keeps the rules it loaded (see below), after a reload (SIGHUP).
 *  - Runs inside the caller's transaction when there is one, else (the CLI, the service)
 *    each batch commits by itself and the workers run while no write lock is held.
 */
#ifndef TANDEM_REWARDS_DISPATCH_H
#define TANDEM_REWARDS_DISPATCH_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "program/config.h"
#include "store/store.h"

enum { DISPATCH_BATCH = 1024 };

struct dispatch_opts {
	const char *ws;            /* workspace folder (its plugins/rewards); NULL: built-ins only */
	const struct config *cfg;  /* for ctx (zone, programs); NULL: UTC, no program details */
	const char *only;          /* a rule's name, or NULL: every rule */
	int batch;                 /* events per worker call; 0: DISPATCH_BATCH */
	int force;                 /* 1: load the rules even when all seem caught up */
};

struct dispatch_rule {
	char name[80];
	char path[512];
	int64_t cursor;            /* after the run */
	long delivered;            /* events handed to the rule and applied */
	long granted, revoked;     /* new ledger rows */
	long repeated;             /* grants whose key was in the ledger already */
	int stopped;               /* 1: stopped at an event (error says why) */
	char error[DIAG_MSG_MAX];  /* "" when fine */
};

struct dispatch_result {
	struct dispatch_rule *rules;
	int nrules;
	long delivered, granted, revoked;
	int failed;                /* rules that did not load or stopped */
};

/* 0 (per-rule problems in *r), or -1 + diag for a failure of the store. The rules are
 * loaded for this call (a dispatcher of its own). */
int rewards_dispatch(struct store *st, const struct dispatch_opts *o, time_t now,
		     struct dispatch_result *r, struct diag *d);

/*
 * The rules loaded once and kept, for a caller that dispatches again and again (the
 * service, at every wake with new events): discovering the rules and starting a worker
 * per rule at every dispatch was 30-45% of a simulated month.
 *  - dispatcher_new(ws, only): nothing is loaded yet; the first run discovers the rules
 *    (WS/plugins/rewards, then the built-ins; only: that rule) and starts their workers,
 *    which then live until dispatcher_reload or _delete. Later runs start no work when
 *    every cursor is caught up; the first run after a (re)load always delivers, so a rule
 *    without a cursor yet (new, or listening to a new kind) starts from its beginning.
 *  - dispatcher_run: rewards_dispatch with those rules (o->ws and o->only are the
 *    dispatcher's, not o's). A worker that died (a deadline, a crash) is started again at
 *    its next batch, its file loaded again (lua/plugin); the matches it was sent are sent
 *    again at every run (the sessions and ratings change between runs).
 *  - dispatcher_reload: the rules are let go; the next run discovers them again.
 *  - dispatcher_refresh (the service's SIGHUP): the rules are discovered and loaded again
 *    now, so a rule added, removed or edited is picked up; a rule whose file no longer
 *    loads keeps its loaded version (and worker). 0, or 1 + diag naming the first rule
 *    kept and the load error (file and line), or -1 + diag (the loaded rules stay).
 */
struct dispatcher;
struct dispatcher *dispatcher_new(const char *ws, const char *only, struct diag *d);
int dispatcher_run(struct dispatcher *x, struct store *st, const struct dispatch_opts *o,
		   time_t now, struct dispatch_result *r, struct diag *d);
void dispatcher_reload(struct dispatcher *x);
int dispatcher_refresh(struct dispatcher *x, struct diag *d);
void dispatcher_delete(struct dispatcher *x);
void dispatch_result_fini(struct dispatch_result *r);

#endif

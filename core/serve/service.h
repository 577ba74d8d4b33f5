/*
 * serve/service: what one wake of the service does, as the operations the loop
 * calls (serve/loop.h): the domain side of `tandem serve`.
 *
 * For: serve_run (the loop) and `tandem simulate` (serve/simulate.h), which drives the
 * same operations on a copy of the workspace under a virtual clock.
 *
 * Contract:
 *  - service_open(workspace, store, clock): reads WORKSPACE/tandem.lua (an error
 *    there fails the start), syncs the declared programs, and builds the scheduler
 *    and the notifier (From: tandem.lua's mail_from) on the borrowed store, and
 *    removes the temporary files a killed writer left in the outbox folder (older
 *    than a minute). service_close undoes it (the store stays the caller's).
 *  - begin(now): the start of a wake, in this order: outbox_recover (messages left
 *    'sending' by a dead sender, past their lease, become 'unknown'), sched_sync,
 *    sched_materialize(now) (always read again: a wake may be for another process's
 *    write, within the second of the last one).
 *  - step(now): one unit: one due occurrence (sched_run_one) or one due message
 *    (notify_deliver_one), taking turns while both have work (a backlog of occurrences
 *    does not starve the messages); once no occurrence is due, the new events go to
 *    the reward rules, then the messages. The monthly-reports occurrences are held
 *    (sched_hold_reports) until that first delivery, so a wake's reports read the
 *    catch-up of its other jobs and the rewards it earned, whatever their due instants;
 *    when a report ran, its events are delivered again after it. 1 when it did one, 0
 *    when nothing is due. A job's reminders are delivered in the same wake.
 *  - next_due: the earliest of sched_next_due and outbox_next_due; 1 when neither has
 *    anything.
 *  - reload: tandem.lua read again; on success it replaces the loaded one (and the
 *    programs are synced); on failure the loaded one stays and the diag says why.
 *    Job scripts are re-read by the next sched_sync, cadences at the next plan, reward
 *    rules at the next dispatch.
 *  - The reward rules (rewards/dispatch's dispatcher) are discovered and their workers
 *    started at the first wake with new events, then kept for the service's life: a
 *    rule added or edited is picked up after a reload (SIGHUP), a worker that died is
 *    started again at its next batch.
 */
#ifndef TANDEM_SERVE_SERVICE_H
#define TANDEM_SERVE_SERVICE_H

#include <time.h>

#include "base/clock.h"
#include "base/diag.h"
#include "serve/loop.h"

struct store;
struct service;

struct service *service_open(const char *workspace, struct store *st, const struct clock *c,
			     struct diag *d);
void service_close(struct service *sv);

/* The operations for serve_loop_run / serve_loop_once (ud = sv). */
void service_ops(struct service *sv, struct serve_ops *ops);

int service_begin(struct service *sv, time_t now, struct diag *d);
int service_step(struct service *sv, time_t now, struct diag *d);
int service_next_due(struct service *sv, time_t *due, struct diag *d);
int service_reload(struct service *sv, struct diag *d);

/* The loaded tandem.lua (a reload replaces its content, the pointer stays) and the
 * scheduler, for the HTTP API on the same loop. */
struct config;
struct sched;
const struct config *service_config(const struct service *sv);
struct sched *service_sched(struct service *sv);

/* The base URL of check-in links (`tandem serve --public-url`): replaces tandem.lua's
 * workspace{ public_url = } now and after every reload. 0 or -1 + diag. */
int service_set_public_url(struct service *sv, const char *url, struct diag *d);

/* What the service did since it opened, for the final log line and simulate. */
struct service_counts {
	unsigned long jobs_run;      /* occurrences run */
	unsigned long jobs_failed;   /* of them, those that ended 'failed' (sched_failed_runs) */
	unsigned long parts_failed;  /* failures inside runs that ended 'done': report plugins
				      * that failed (report.failed; sched_failed_parts) */
	unsigned long messages_sent; /* messages delivered */
	unsigned long messages_expired; /* messages that expired unsent (their not_after passed,
					 * their session was cancelled) */
	unsigned long plugin_errors; /* plugin problems logged: job scripts and reward rules
				      * that did not load or stopped, and a reload's problems
				      * beyond the one it returns (serve's exit summary counts
				      * them with its own errors) */
};
void service_counts(const struct service *sv, struct service_counts *out);

/* The notifier's files skip their fsyncs (notify_set_no_sync): for `tandem simulate`'s copy,
 * which is thrown away like its database (synchronous = OFF). */
void service_set_no_sync(struct service *sv);

/* The notifier builds each message but writes no file (notify_set_no_files): for
 * `tandem simulate` without --keep, whose copy's outbox folder nobody reads. */
void service_set_no_files(struct service *sv);

#endif

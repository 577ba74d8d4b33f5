/*
 * sched/occur: occurrences: materializing a job's due instants, what happens to
 * the ones found late (misfire), and running them.
 *
 * Why materialized rows: a scheduler that asks "does now match the rule?" on a
 * timer doubles or skips runs when the clock jumps (DST, downtime). Here each due
 * instant of a job becomes a row unique by (job, due instant), inserted with ON
 * CONFLICT DO NOTHING, so materializing again, from any process, after any crash,
 * never makes a second one; and running one is an UPDATE of that row in the same
 * transaction as the run's effects, so it happens once.
 *
 * Who calls it: `tandem serve` (sched_materialize and sched_run_one at each wake,
 * sched_next_due to arm its one timer), `tandem simulate` (the same on a virtual
 * clock), `tandem jobs run`, tests.
 *
 * Contract:
 *  - sched_materialize(now): for every enabled job, the instants of its schedule
 *    from just after the last one materialized (the first time: from when the job
 *    was created) up to now, plus the first one after now, expanded in the job's
 *    zone (a wall-clock job runs once per local day across DST: time/rrule.h) and
 *    inserted as 'pending', each with run_at = due + a jitter drawn from a hash of
 *    (job name, instant): deterministic, in [0, jitter_s]. Then the misfire policy
 *    for pending occurrences found more than grace_s late (run_at < now - grace):
 *      'all'  runs each of them;
 *      'once' keeps the latest one pending, covers = the instants it stands for,
 *             and marks the others 'skipped' with reason "coalesced into the run
 *             due at T (misfire = once)";
 *      'skip' marks them all 'skipped' with reason "missed by D (more than the
 *             grace of G; misfire = skip)".
 *    One job.skipped event per job and policy application sums up what was
 *    skipped (its count: the instants, the rows' covers summed, each instant once: a
 *    run kept by 'once' that a later outage skips counts 1, its coalesced runs having
 *    been counted when they were skipped: SCHED_OWN_COVERS_SQL). A job is never
 *    disabled by a backlog: a 30-day outage is 30 days of rows (expanded in bounded
 *    chunks), coalesced or skipped as its policy says. Under 'once' and 'skip' a
 *    backlog keeps one row per instant for its latest 1,024 late instants only; the
 *    older ones become ONE row due at the latest of them with covers = how many,
 *    skipped with the same reason (a 30-year outage of an hourly job: ~1,000 rows,
 *    not 262,991).
 *    Also recovers Lua runs whose process died ('running' rows whose lease ran
 *    out go back to 'pending', attempts kept). One transaction; crash point
 *    "sched.materialized" after its commit when it wrote anything. Called again at the
 *    same `now` as the last one that committed in this struct sched, with no sched_sync
 *    in between, it returns at once (nothing can be new at the same instant: a wake's
 *    steps, each sched_run_one, share their wake's now).
 *  - sched_next_due: the earliest run_at of a pending occurrence of an enabled job;
 *    1 (and *due untouched) when nothing is pending.
 *  - sched_run_one(now): materializes, then runs the pending occurrence with the
 *    earliest run_at <= now (*ran = 1), or does nothing (*ran = 0); the built-in
 *    monthly-reports job's occurrences come after every other one due by now,
 *    whatever their due instants, because the reports read what the others catch up
 *    (after an outage across a month's end: the sessions marked missed, the pairs
 *    activated and planned), and none at all while sched_hold_reports(1) is set
 *    (the service releases them once the wake's events reached the reward rules,
 *    which the reports read too). A built-in
 *    job's claim, its effects, its event and its completion commit in ONE
 *    transaction (store_begin outermost; crash points "sched.claimed",
 *    "sched.effects", "sched.before_commit", "sched.committed"): a crash anywhere
 *    leaves the occurrence pending and untouched, or done with all its effects.
 *    A Lua job: the claim ('running', claimed_at = now: a lease) commits first;
 *    the plugin runs outside any transaction on a snapshot (ctx); then one
 *    transaction re-checks the occurrence is still ours and running, validates and
 *    applies the returned actions (sched/actions.h), and completes it. A crash
 *    during the plugin leaves 'running' until the lease runs out, then it is
 *    pending again; its effects were never written.
 *    Before running: max lateness (max_lateness_s > 0 and now - run_at beyond it)
 *    -> 'missed' with the reason; overlap (overlap = 0 and another occurrence of
 *    the job 'running' under a live lease) -> 'skipped' with the reason. Events:
 *    job.ran (done), job.failed (the body or plugin failed; reason = its error),
 *    job.skipped (missed or skipped here). Returns -1 only when the store fails;
 *    a failing job is a 'failed' occurrence and 0.
 *  - sched_run_job(name, now): runs job NAME now, whatever its schedule, as an
 *    occurrence due at now (for operators and tests: `tandem jobs run`), through
 *    the same path. *occ_id is the occurrence.
 *  - sched_failed_runs: how many occurrences this struct sched has recorded
 *    'failed' since it was created (the service's exit line counts them as errors).
 *  - sched_failed_parts: the failures that 'done' built-in runs of this struct sched
 *    recorded without failing (sched_run.failures: a monthly report plugin that failed,
 *    report.failed); the service's exit line counts them as errors too.
 */
#ifndef TANDEM_SCHED_OCCUR_H
#define TANDEM_SCHED_OCCUR_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "sched/job.h"

/* How long a Lua run's claim holds before another process may take the occurrence over. */
enum { SCHED_LEASE_S = 600 };

int sched_materialize(struct sched *s, time_t now, struct diag *d);
int sched_next_due(struct sched *s, time_t *due, struct diag *d);
int sched_run_one(struct sched *s, time_t now, int *ran, struct diag *d);
int sched_run_job(struct sched *s, const char *name, time_t now, int64_t *occ_id, struct diag *d);
void sched_hold_reports(struct sched *s, int hold);
int sched_holds_reports(const struct sched *s);
unsigned long sched_failed_runs(const struct sched *s);
unsigned long sched_failed_parts(const struct sched *s);

/* The jitter of job `name` at instant `due`: a hash of both, in [0, jitter_s]. */
int64_t sched_jitter(const char *name, time_t due, int64_t jitter_s);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" as stored; 0 or -1. */
int sched_parse_time(const char *s, time_t *out);

#endif

/*
 * crash: deterministic crash points, for the tests that prove a unit of work is
 * all-or-nothing across a process death.
 *
 * Code that commits work in steps (the scheduler's claim, effects and commit;
 * the outbox's send; the service's loop) calls crash_point("sched.claimed") at
 * each step boundary. When the environment variable TANDEM_CRASH_AT names that
 * point, the process dies right there with _exit(137): no atexit handlers, no
 * stdio flush, no SQLite rollback or close, as if SIGKILL had arrived at that
 * instruction (137 = 128 + SIGKILL, the status a shell reports for one). A test
 * then opens the store and checks that nothing is half done.
 *
 * TANDEM_CRASH_AT is read at every call (so a test may set it between runs of
 * one process) and says:
 *   NAME     die at the first time point NAME is reached;
 *   NAME:K   die at the K-th time point NAME is reached (K >= 1);
 *   N        die at the N-th crash point reached, whatever its name (N >= 1),
 *            for tests that walk every step boundary of a run in turn.
 * Unset or empty: crash_point does nothing but count. Anything else (a name
 * that never comes) is simply never reached.
 *
 * The points: sched.materialized, sched.claimed, sched.effects, sched.before_commit,
 * sched.committed (sched/occur.h); inside a built-in job's transaction plan.program
 * (after each program planned), session.batch (a batch of sessions inserted, before its
 * commit), remind.queued (reminders queued, before the commit), session.marked_missed
 * (before the commit), report.written (a monthly report's two files written, before its
 * event and the commit: report/publish.h); notify.claimed, notify.rendered, notify.written, notify.done
 * (sched/notify.h); erase.committed (the erasure's rows gone, its files not yet),
 * erase.files (an erasure's files done, its erasure_files row not yet deleted:
 * privacy/erase.h). tests/e2e/test_crash_serve.sh dies at each one a wake reaches.
 *
 * Before dying it logs one line through tlog (WARN): "crash point NAME reached
 * (TANDEM_CRASH_AT=...)", so a test's stderr shows where the process stopped.
 *
 * State: one process-wide counter per process (points reached so far) and a small
 * table of per-name counts; a test facility, cheap when the variable is unset
 * (one getenv). The counters are not locked: crash points are reached on the
 * thread that owns the store. crash_reset() zeroes them (for unit tests that
 * fork a child per case: the child starts from the parent's counts).
 */
#ifndef TANDEM_CRASH_H
#define TANDEM_CRASH_H

/* Dies with _exit(137) when TANDEM_CRASH_AT selects this point; returns otherwise. */
void crash_point(const char *name);

/* How many crash points this process has reached (since the start or crash_reset). */
long crash_count(void);

/* Zeroes the counters. */
void crash_reset(void);

#endif

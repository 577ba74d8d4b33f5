/*
 * serve/loop: the service's libuv loop: one timer for the next due thing, signals,
 * and nothing else (no periodic polling: an idle service sleeps in epoll_wait until
 * something is due, a signal arrives, or an attachment calls serve_loop_wake: the
 * database watch when another process commits).
 *
 * For: serve_run (serve/serve.h), which hands it the service's work as a small
 * table of operations, and the unit tests, which hand it fakes. The loop knows
 * nothing of jobs, sessions or the outbox; it decides only WHEN to call them.
 *
 * Contract:
 *  - A wake: ops->begin(now) once (recover leases, sync and materialize jobs), then
 *    ops->step(now) repeatedly, each call one unit of work (one job occurrence, one
 *    message), until it returns 0 (nothing due now). Between two steps the loop
 *    polls its descriptors (an idle handle, not a zero timer), so a signal is seen
 *    after the step that is running, never in the middle of one.
 *  - After a wake: ops->next_due says when the next thing is due (virtual time on a
 *    scaled clock); the ONE timer is armed for it (timescale_delay_ms); when nothing
 *    is ever due, no timer is armed at all. A wake that did nothing while next_due is
 *    already past (a job held back by its overlap policy) waits at least 1 s of real
 *    time before the next, so a stuck item cannot spin the loop.
 *  - A failing begin/step/next_due is logged and retried after SERVE_RETRY_MS of real
 *    time: a busy or briefly unreadable database must not end the service.
 *  - SIGTERM and SIGINT: the running step finishes, the handles are closed, and
 *    serve_loop_run returns 0. SIGHUP: ops->reload() (it keeps the previous
 *    configuration when the new one is broken, and says why in the diag, which the
 *    loop logs), then a wake, since the reloaded jobs may be due.
 *  - serve_loop_once: one wake without a loop (begin, steps until nothing is due),
 *    for `tandem serve --once`, the tests and simulate.
 *  - serve_loop_run_with: the same, with another module's handles on the loop (the HTTP
 *    server): they are served in the poll phase between two steps, so a long wake of
 *    many steps does not starve them, and one request does not hold a step back for
 *    longer than it takes.
 *  - Everything runs on the calling thread; all logging through tlog.
 */
#ifndef TANDEM_SERVE_LOOP_H
#define TANDEM_SERVE_LOOP_H

#include <time.h>

#include "base/diag.h"
#include "serve/timescale.h"

enum { SERVE_RETRY_MS = 5000, SERVE_STUCK_MS = 1000 };

struct serve_ops {
	void *ud;
	/* Start of a wake: 0, or -1 with a diag. May be NULL. */
	int (*begin)(void *ud, time_t now, struct diag *d);
	/* One unit of work due at now: 1 did something (call again), 0 nothing due, -1 failed. */
	int (*step)(void *ud, time_t now, struct diag *d);
	/* 0 and *due; 1 when nothing is ever due; -1 failed. */
	int (*next_due)(void *ud, time_t *due, struct diag *d);
	/* SIGHUP: 0 reloaded, -1 kept the previous version (diag: why). May be NULL. */
	int (*reload)(void *ud, struct diag *d);
};

/* What a run did, for the final log line and the tests. */
struct serve_stats {
	unsigned long wakes, steps, errors, reloads;
	int signal; /* the signal that stopped the loop, 0 if none */
};

/* Runs until SIGTERM/SIGINT; 0, or -1 with a diag when the loop cannot be set up. */
int serve_loop_run(const struct serve_ops *ops, struct timescale *ts, struct serve_stats *st,
		   struct diag *d);

/*
 * Handles of someone else on the same loop (the HTTP server): start(loop) once the loop and
 * the signals are set up (a failure ends serve_loop_run_with with -1 and its diag, before
 * any wake); stop() on SIGTERM/SIGINT, before the loop's own handles close, so that every
 * handle is closed and the loop returns. Their callbacks run between two steps, never
 * during one.
 */
struct uv_loop_s;
struct serve_attach {
	void *ud;
	int (*start)(void *ud, struct uv_loop_s *loop, struct diag *d);
	void (*stop)(void *ud);
};

/* serve_loop_run with an attachment (NULL: none). */
int serve_loop_run_with(const struct serve_ops *ops, const struct serve_attach *at,
			struct timescale *ts, struct serve_stats *st, struct diag *d);

/* From a handle's callback on the loop of serve_loop_run_with (an attachment's): a wake
 * now, or right after the running one (as after SIGHUP). Something changed that may make
 * work due sooner than the timer says (serve/dbwatch: another process committed). */
void serve_loop_wake(struct uv_loop_s *loop);

/* One wake, no loop: 0, or -1 with a diag (the first failure). */
int serve_loop_once(const struct serve_ops *ops, struct timescale *ts, struct serve_stats *st,
		    struct diag *d);

#endif

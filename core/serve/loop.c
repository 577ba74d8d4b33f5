/*
 * serve/loop: one timer, an idle handle between steps, three signals (see loop.h).
 *
 * Why an idle handle between steps and not a timer of 0 ms: libuv runs, in one
 * pass over its timers, a timer that a timer callback restarted with timeout 0
 * (its due time is the loop's cached now), so a wake of many steps would never
 * reach the poll phase where signals are read. An active idle handle makes the
 * poll non-blocking and its callback runs once per loop iteration, after the poll.
 */
#include "serve/loop.h"

#include <signal.h>
#include <string.h>

#include <uv.h>

struct loop {
	uv_loop_t uv;
	uv_timer_t timer;
	uv_idle_t idle;
	uv_signal_t sig_term, sig_int, sig_hup;
	const struct serve_ops *ops;
	const struct serve_attach *at;
	struct timescale *ts;
	struct serve_stats *st;
	int stopping;
	int in_wake;       /* begin done, steps running */
	int rewake;        /* a SIGHUP came during a wake: wake again when it ends */
	unsigned long wake_steps; /* steps of the current wake */
};

static void
log_diag(const char *what, const struct diag *d)
{
	tlog(TLOG_ERROR, "%s: %s", what, d->msg[0] ? d->msg : "unknown error");
}

static void
close_all(struct loop *l)
{
	uv_close((uv_handle_t *)&l->timer, NULL);
	uv_close((uv_handle_t *)&l->idle, NULL);
	uv_close((uv_handle_t *)&l->sig_term, NULL);
	uv_close((uv_handle_t *)&l->sig_int, NULL);
	uv_close((uv_handle_t *)&l->sig_hup, NULL);
}

static void on_timer(uv_timer_t *t);

static void
arm(struct loop *l, uint64_t ms)
{
	uv_idle_stop(&l->idle);
	uv_timer_start(&l->timer, on_timer, ms, 0);
}

/* A wake is over: arm the timer for the next due thing, or for nothing. */
static void
rearm(struct loop *l)
{
	if (l->rewake) {
		l->rewake = 0;
		return; /* the idle handle stays active: a new wake at the next iteration */
	}
	struct diag d;
	diag_clear(&d);
	time_t due;
	int rc = l->ops->next_due(l->ops->ud, &due, &d);
	if (rc < 0) {
		l->st->errors++;
		log_diag("cannot read the next due time", &d);
		arm(l, SERVE_RETRY_MS);
		return;
	}
	if (rc == 1) {
		uv_idle_stop(&l->idle);
		uv_timer_stop(&l->timer);
		tlog(TLOG_INFO, "nothing is due: sleeping until a signal");
		return;
	}
	timescale_tick(l->ts);
	uint64_t ms = timescale_delay_ms(l->ts, due);
	if (ms == 0 && l->wake_steps == 0)
		ms = SERVE_STUCK_MS; /* due but nothing ran: do not spin */
	char when[CLOCK_UTC_MAX];
	clock_format_utc(due, when);
	tlog(TLOG_INFO, "next wake at %s (in %.3f s)", when, (double)ms / 1000.0);
	arm(l, ms);
}

/* One unit of work; the idle handle calls it again until nothing is due. */
static void
on_idle(uv_idle_t *h)
{
	struct loop *l = h->data;
	if (l->stopping)
		return;
	struct diag d;
	diag_clear(&d);
	timescale_tick(l->ts);
	time_t now = timescale_now(l->ts);
	if (!l->in_wake) {
		l->st->wakes++;
		l->wake_steps = 0;
		if (l->ops->begin != NULL && l->ops->begin(l->ops->ud, now, &d) != 0) {
			l->st->errors++;
			log_diag("wake failed", &d);
			arm(l, SERVE_RETRY_MS);
			return;
		}
		l->in_wake = 1;
	}
	int rc = l->ops->step(l->ops->ud, now, &d);
	if (rc > 0) {
		l->st->steps++;
		l->wake_steps++;
		return; /* the idle handle stays active: the next step after the next poll */
	}
	l->in_wake = 0;
	if (rc < 0) {
		l->st->errors++;
		log_diag("step failed", &d);
		arm(l, SERVE_RETRY_MS);
		return;
	}
	rearm(l);
}

static void
on_timer(uv_timer_t *t)
{
	struct loop *l = t->data;
	if (!l->stopping)
		uv_idle_start(&l->idle, on_idle);
}

/* A wake at the next loop iteration, or right after the running one. */
static void
wake_soon(struct loop *l)
{
	if (l->stopping)
		return;
	if (l->in_wake)
		l->rewake = 1;
	else
		uv_idle_start(&l->idle, on_idle);
}

void
serve_loop_wake(struct uv_loop_s *loop)
{
	if (loop != NULL && loop->data != NULL)
		wake_soon(loop->data);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct loop *l = h->data;
	if (signum == SIGHUP) {
		struct diag d;
		diag_clear(&d);
		if (l->ops->reload == NULL) {
			tlog(TLOG_INFO, "SIGHUP: nothing to reload");
		} else if (l->ops->reload(l->ops->ud, &d) != 0) {
			l->st->errors++;
			tlog(TLOG_ERROR, "SIGHUP: reload failed, keeping the previous version: %s",
			     d.msg[0] ? d.msg : "unknown error");
		} else {
			l->st->reloads++;
			tlog(TLOG_INFO, "SIGHUP: reloaded the configuration and plugins");
		}
		/* Reloaded jobs may be due now: a new wake, at once or after the running one. */
		wake_soon(l);
		return;
	}
	tlog(TLOG_INFO, "%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	l->st->signal = signum;
	l->stopping = 1;
	if (l->at != NULL && l->at->stop != NULL)
		l->at->stop(l->at->ud);
	close_all(l);
}

int
serve_loop_run(const struct serve_ops *ops, struct timescale *ts, struct serve_stats *st,
	       struct diag *d)
{
	return serve_loop_run_with(ops, NULL, ts, st, d);
}

int
serve_loop_run_with(const struct serve_ops *ops, const struct serve_attach *at,
		    struct timescale *ts, struct serve_stats *st, struct diag *d)
{
	struct loop l;
	memset(&l, 0, sizeof(l));
	memset(st, 0, sizeof(*st));
	l.ops = ops;
	l.at = at;
	l.ts = ts;
	l.st = st;
	int rc = uv_loop_init(&l.uv);
	if (rc != 0)
		return diag_set(d, DIAG_IO, "cannot start the event loop: %s", uv_strerror(rc));
	l.uv.data = &l; /* serve_loop_wake */
	uv_timer_init(&l.uv, &l.timer);
	uv_idle_init(&l.uv, &l.idle);
	uv_signal_init(&l.uv, &l.sig_term);
	uv_signal_init(&l.uv, &l.sig_int);
	uv_signal_init(&l.uv, &l.sig_hup);
	l.timer.data = l.idle.data = &l;
	l.sig_term.data = l.sig_int.data = l.sig_hup.data = &l;
	if ((rc = uv_signal_start(&l.sig_term, on_signal, SIGTERM)) != 0 ||
	    (rc = uv_signal_start(&l.sig_int, on_signal, SIGINT)) != 0 ||
	    (rc = uv_signal_start(&l.sig_hup, on_signal, SIGHUP)) != 0) {
		diag_set(d, DIAG_IO, "cannot watch signals: %s", uv_strerror(rc));
		close_all(&l);
		uv_run(&l.uv, UV_RUN_DEFAULT);
		uv_loop_close(&l.uv);
		return -1;
	}
	if (at != NULL && at->start != NULL && at->start(at->ud, &l.uv, d) != 0) {
		close_all(&l);
		uv_run(&l.uv, UV_RUN_DEFAULT);
		uv_loop_close(&l.uv);
		return -1;
	}
	uv_idle_start(&l.idle, on_idle); /* the first wake: at once */
	uv_run(&l.uv, UV_RUN_DEFAULT);
	rc = uv_loop_close(&l.uv);
	if (rc != 0)
		tlog(TLOG_WARN, "event loop closed with handles open: %s", uv_strerror(rc));
	return 0;
}

int
serve_loop_once(const struct serve_ops *ops, struct timescale *ts, struct serve_stats *st,
		struct diag *d)
{
	memset(st, 0, sizeof(*st));
	timescale_tick(ts);
	time_t now = timescale_now(ts);
	st->wakes = 1;
	if (ops->begin != NULL && ops->begin(ops->ud, now, d) != 0)
		return -1;
	for (;;) {
		timescale_tick(ts);
		int rc = ops->step(ops->ud, timescale_now(ts), d);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 0;
		st->steps++;
	}
}

/*
 * rewards/dispatch_lane: the host's side of a rule's worker during a dispatch (see
 * dispatch.h and dispatch_internal.h): a batch's request sent without waiting, so the
 * worker computes the next batch while the host writes the grants of the one before
 * (pipelining), and its reply collected under the batch deadline, worded as plugin_exec
 * words a worker's failure. An in-process rule (limits.isolate = 0) runs at the wait.
 */
#include "rewards/dispatch_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/* worker_send only queues the request (worker_pump writes it): written now, the worker
 * runs the batch while the host writes the one before. A reply (or failure) that comes
 * meanwhile is kept for lane_wait. */
static void
lane_flush(struct lane *l)
{
	struct worker *w = plugin_worker(l->p);
	while (l->early_rc == 0 && (worker_events(w) & POLLOUT)) {
		int64_t left = l->until - clock_mono_ms(NULL);
		if (left <= 0)
			return; /* lane_wait expires it */
		struct pollfd pfd = {.fd = worker_fd(w), .events = POLLOUT};
		if (poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR)
			return;
		diag_clear(&l->early_d);
		l->early_rc = worker_pump(w, &l->early, &l->early_st, &l->early_d);
	}
}

void
dispatch__lane_send(struct lane *l)
{
	l->sent = 1;
	l->error[0] = '\0';
	if (!plugin_isolated(l->p))
		return;
	struct diag hd;
	diag_clear(&hd);
	int deadline = plugin_limits(l->p)->batch_deadline_ms;
	buf_reset(&l->wire);
	if (plugin_exec_request(l->p, dispatch__op, "on", l->req.data, l->req.len, &l->wire, &hd) ||
	    worker_send(plugin_worker(l->p), l->wire.data, l->wire.len, deadline, &hd)) {
		snprintf(l->error, sizeof(l->error), "%s", hd.msg[0] ? hd.msg : "the worker failed");
		return;
	}
	l->until = clock_mono_ms(NULL) + deadline + 200;
	lane_flush(l);
}

/* The reply of the batch sent (out), or -1 with the worker's failure in hd. */
int
dispatch__lane_wait(struct lane *l, struct buf *out, struct diag *hd)
{
	l->sent = 0;
	if (!plugin_isolated(l->p))
		return plugin_exec(l->p, dispatch__op, "on", l->req.data, l->req.len,
				   plugin_limits(l->p)->batch_deadline_ms, out, hd);
	if (l->error[0])
		return diag_set(hd, DIAG_PLUGIN, "%s", l->error);
	int early = l->early_rc;
	l->early_rc = 0;
	if (early == 1) {
		int rc = buf_append(out, l->early.data, l->early.len, hd);
		buf_reset(&l->early);
		return rc;
	}
	if (early < 0) {
		*hd = l->early_d;
		return plugin_exec_failure(l->p, "on", l->early_st, hd);
	}
	struct worker *w = plugin_worker(l->p);
	int deadline = plugin_limits(l->p)->batch_deadline_ms;
	enum worker_status st;
	for (;;) {
		int rc = worker_pump(w, out, &st, hd);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return plugin_exec_failure(l->p, "on", st, hd);
		int64_t left = l->until - clock_mono_ms(NULL);
		if (left <= 0) {
			worker_expire(w, deadline, &st, hd);
			return plugin_exec_failure(l->p, "on", st, hd);
		}
		struct pollfd pfd = {.fd = worker_fd(w), .events = worker_events(w)};
		if (poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR) {
			worker_expire(w, deadline, &st, hd);
			return plugin_exec_failure(l->p, "on", st, hd);
		}
	}
}

/* Waits for a batch whose reply is not wanted any more (the rule stopped before it). */
void
dispatch__lane_drop(struct lane *l)
{
	if (!l->sent)
		return;
	if (!plugin_isolated(l->p)) { /* never sent: it runs at lane_wait */
		l->sent = 0;
		return;
	}
	struct buf out;
	struct diag hd;
	buf_init(&out);
	dispatch__lane_wait(l, &out, &hd);
	buf_fini(&out);
}

int
dispatch__lane_init(struct lane *l, struct plugin *p, int batch, struct diag *d)
{
	memset(l, 0, sizeof(*l));
	l->p = p;
	buf_init(&l->req);
	buf_init(&l->wire);
	buf_init(&l->early);
	l->b.ids = malloc((size_t)batch * sizeof(*l->b.ids));
	l->b.programs = malloc((size_t)batch * sizeof(*l->b.programs));
	if (l->b.ids == NULL || l->b.programs == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

void
dispatch__lane_fini(struct lane *l)
{
	dispatch__lane_drop(l);
	buf_fini(&l->req);
	buf_fini(&l->wire);
	buf_fini(&l->early);
	free(l->b.ids);
	free(l->b.programs);
}


/*
 * serve: lock, open, loop, close (see serve.h).
 */
#include "serve/serve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/api.h"
#include "http/server.h"
#include "serve/lock.h"
#include "serve/dbwatch.h"
#include "serve/service.h"
#include "serve/webhook.h"
#include "store/store.h"

/* What shares the service's loop (serve_attach): the HTTP API (with --http), the
 * webhooks (serve/webhook.h), pumped after every wake through the wrapped operations, and
 * the database watch (serve/dbwatch.h), which wakes the service when another process
 * commits. */
struct http_side {
	const struct serve_opts *o;
	struct service *sv;
	struct store *st;
	struct http_api *api;
	struct http_server *server;
	struct webhook *hooks;
	struct dbwatch *watch;
	struct uv_loop_s *loop;
	struct serve_ops inner; /* the service's own operations */
};

/* Another process committed (serve/dbwatch), or an HTTP request wrote: the new events go
 * to the webhooks, and the service wakes, since what was written may be work due before
 * the timer (sched/nextwork.h). */
static void
on_db_change(void *ud)
{
	struct http_side *h = ud;
	webhook_pump(h->hooks);
	serve_loop_wake(h->loop);
}

static int
side_begin(void *ud, time_t now, struct diag *d)
{
	struct http_side *h = ud;
	return h->inner.begin ? h->inner.begin(h->inner.ud, now, d) : 0;
}

static int
side_step(void *ud, time_t now, struct diag *d)
{
	struct http_side *h = ud;
	return h->inner.step(h->inner.ud, now, d);
}

/* Called after every wake: the wake's events go to the webhooks before the loop sleeps. */
static int
side_next_due(void *ud, time_t *due, struct diag *d)
{
	struct http_side *h = ud;
	webhook_pump(h->hooks);
	return h->inner.next_due(h->inner.ud, due, d);
}

static int
side_reload(void *ud, struct diag *d)
{
	struct http_side *h = ud;
	return h->inner.reload ? h->inner.reload(h->inner.ud, d) : 0;
}

static int
http_start(void *ud, struct uv_loop_s *loop, struct diag *d)
{
	struct http_side *h = ud;
	h->loop = loop;
	if (h->o->http != NULL) {
		struct http_api_opts ao = {.st = h->st, .cfg = service_config(h->sv),
					   .sched = service_sched(h->sv), .ws = h->o->workspace,
					   .loop = loop, .on_write = on_db_change, .on_write_ud = h};
		if ((h->api = http_api_new(&ao, d)) == NULL)
			return -1;
		struct http_server_opts so = {.addr = h->o->http, .public_ok = h->o->http_public,
					      .handler = http_api_handle, .ud = h->api};
		if ((h->server = http_server_start(loop, &so, d)) == NULL) {
			http_api_stop(h->api); /* its work on the loop ends before the store closes */
			return diag_prefix(d, "http");
		}
		tlog(TLOG_INFO, "http: listening on %s (port %d)", h->o->http,
		     http_server_port(h->server));
	}
	if ((h->hooks = webhook_new(loop, h->st, service_config(h->sv), h->o->ts, d)) == NULL ||
	    (h->watch = dbwatch_new(loop, h->st, h->o->db_path, on_db_change, h, d)) == NULL) {
		webhook_stop(h->hooks);
		h->hooks = NULL;
		http_server_stop(h->server);
		h->server = NULL;
		return -1;
	}
	return 0;
}

static void
http_stop(void *ud)
{
	struct http_side *h = ud;
	http_api_stop(h->api);
	http_server_stop(h->server);
	h->server = NULL;
	webhook_stop(h->hooks);
	h->hooks = NULL;
	dbwatch_stop(h->watch);
	h->watch = NULL;
}

/* The lock file of folder dir, its path resolved (so two spellings of one folder are one
 * lock); "" when the folder cannot be resolved. */
static void
lock_file_of(const char *dir, char *out, size_t size)
{
	char real[PATH_MAX];
	if (realpath(dir, real) == NULL)
		out[0] = '\0';
	else
		snprintf(out, size, "%s/%s", real, SERVE_LOCK_FILE);
}

/*
 * The workspace's lock, then the database folder's when it is another folder. 1 with
 * *holder when another service holds one; d->msg names the database when it is the
 * database folder's (empty: the workspace's).
 */
static int
take_locks(const struct serve_opts *o, struct serve_lock **out, long *holder, struct diag *d)
{
	char ws_lock[PATH_MAX + 64], db_lock[PATH_MAX + 64], db_dir[PATH_MAX];
	snprintf(ws_lock, sizeof(ws_lock), "%s/%s", o->workspace, SERVE_LOCK_FILE);
	int rc = serve_lock_acquire(ws_lock, out, holder, d);
	if (rc != 0 || o->db_path == NULL)
		return rc;
	snprintf(db_dir, sizeof(db_dir), "%s", o->db_path);
	char *slash = strrchr(db_dir, '/');
	if (slash == NULL)
		snprintf(db_dir, sizeof(db_dir), ".");
	else if (slash == db_dir)
		db_dir[1] = '\0';
	else
		*slash = '\0';
	char a[PATH_MAX + 64];
	lock_file_of(o->workspace, a, sizeof(a));
	lock_file_of(db_dir, db_lock, sizeof(db_lock));
	if (db_lock[0] == '\0' || strcmp(a, db_lock) == 0)
		return 0; /* the database is in the workspace: one lock */
	struct serve_lock *second;
	rc = serve_lock_acquire(db_lock, &second, holder, d);
	if (rc != 0) {
		serve_lock_release(*out);
		*out = NULL;
		if (rc == 1)
			diag_set(d, DIAG_CONFLICT, "the database %s", o->db_path);
		return rc;
	}
	serve_lock_chain(*out, second);
	return 0;
}

int
serve_run(const struct serve_opts *o, struct serve_stats *st, long *holder, struct diag *d)
{
	memset(st, 0, sizeof(*st));
	struct serve_lock *lock;
	int rc = take_locks(o, &lock, holder, d);
	if (rc != 0)
		return rc; /* 1: held by *holder; -1: diag */

	struct store *store = store_open(o->db_path, 0, d);
	if (store == NULL) {
		serve_lock_release(lock);
		return -1;
	}
	timescale_tick(o->ts);
	store_set_clock(store, timescale_clock(o->ts));
	struct service *sv = service_open(o->workspace, store, timescale_clock(o->ts), d);
	if (sv == NULL) {
		store_close(store);
		serve_lock_release(lock);
		return -1;
	}
	if (o->public_url != NULL && service_set_public_url(sv, o->public_url, d) != 0) {
		service_close(sv);
		store_close(store);
		serve_lock_release(lock);
		return -1;
	}
	struct serve_ops ops;
	service_ops(sv, &ops);
	char now[CLOCK_UTC_MAX];
	clock_format_utc(timescale_now(o->ts), now);
	tlog(TLOG_INFO, "tandem serve started: pid %ld, workspace %s, database %s, clock %s%s%s",
	     (long)getpid(), o->workspace, o->db_path, now,
	     o->ts->scale > 1 ? " (virtual, scaled)" : " (real)", o->once ? ", once" : "");
	if (o->ts->scale > 1)
		tlog(TLOG_INFO, "time scale: %g x real time", o->ts->scale);

	struct http_side hs = {.o = o, .sv = sv, .st = store, .inner = ops};
	struct serve_attach at = {.ud = &hs, .start = http_start, .stop = http_stop};
	struct serve_ops side = {.ud = &hs, .begin = side_begin, .step = side_step,
				 .next_due = side_next_due, .reload = side_reload};
	if (o->once)
		rc = serve_loop_once(&ops, o->ts, st, d);
	else
		rc = serve_loop_run_with(&side, &at, o->ts, st, d);
	http_api_delete(hs.api); /* logs the requests served */

	struct service_counts counts;
	service_counts(sv, &counts);
	if (rc == 0)
		tlog(TLOG_INFO,
		     "tandem serve stopped: %lu wakes, %lu steps, %lu jobs run, %lu messages sent, "
		     "%lu expired, %lu errors",
		     st->wakes, st->steps, counts.jobs_run, counts.messages_sent, counts.messages_expired,
		     st->errors + counts.plugin_errors + counts.jobs_failed + counts.parts_failed);
	service_close(sv);
	store_close(store);
	serve_lock_release(lock);
	return rc;
}

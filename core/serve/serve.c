/*
 * serve: lock, open, loop, close (see serve.h).
 */
#include "serve/serve.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "serve/lock.h"
#include "serve/service.h"
#include "store/store.h"

int
serve_run(const struct serve_opts *o, struct serve_stats *st, long *holder, struct diag *d)
{
	memset(st, 0, sizeof(*st));
	char lock_path[4096];
	snprintf(lock_path, sizeof(lock_path), "%s/%s", o->workspace, SERVE_LOCK_FILE);
	struct serve_lock *lock;
	int rc = serve_lock_acquire(lock_path, &lock, holder, d);
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
	struct serve_ops ops;
	service_ops(sv, &ops);
	char now[CLOCK_UTC_MAX];
	clock_format_utc(timescale_now(o->ts), now);
	tlog(TLOG_INFO, "tandem serve started: pid %ld, workspace %s, database %s, clock %s%s%s",
	     (long)getpid(), o->workspace, o->db_path, now,
	     o->ts->scale > 1 ? " (virtual, scaled)" : " (real)", o->once ? ", once" : "");
	if (o->ts->scale > 1)
		tlog(TLOG_INFO, "time scale: %g x real time", o->ts->scale);

	rc = o->once ? serve_loop_once(&ops, o->ts, st, d) : serve_loop_run(&ops, o->ts, st, d);

	struct service_counts counts;
	service_counts(sv, &counts);
	if (rc == 0)
		tlog(TLOG_INFO,
		     "tandem serve stopped: %lu wakes, %lu steps, %lu jobs run, %lu messages sent, "
		     "%lu errors",
		     st->wakes, st->steps, counts.jobs_run, counts.messages_sent, st->errors);
	service_close(sv);
	store_close(store);
	serve_lock_release(lock);
	return rc;
}

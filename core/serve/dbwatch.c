/*
 * serve/dbwatch: other processes' commits wake the service (see dbwatch.h).
 *
 * Why the folder and not the -wal file itself: the -wal file may not exist yet when the
 * service starts, and SQLite deletes and creates it again (the last connection to close
 * deletes it; journal_size_limit truncates it): a watch on the file would be lost with it.
 * The folder's watch sees every write to whatever -wal file is there.
 */
#include "serve/dbwatch.h"

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/diag.h"
#include "store/stmt.h"
#include "store/store.h"

struct dbwatch {
	uv_fs_event_t ev;
	struct store *st;
	struct stmt version; /* PRAGMA data_version */
	int64_t data_version;
	char *dir, *wal;     /* the folder watched, and the -wal file's name in it */
	void (*on_change)(void *ud);
	void *ud;
	unsigned long checks;
};

/* The connection's data_version now: 0 (*v), -1 + diag. */
static int
read_version(struct dbwatch *w, int64_t *v, struct diag *d)
{
	int r = stmt_step(&w->version, d);
	if (r == STMT_ROW)
		*v = stmt_int64(&w->version, 0);
	struct diag rd;
	diag_clear(&rd);
	int rr = stmt_reset(&w->version, &rd);
	if (r < 0)
		return -1;
	if (rr != 0) {
		*d = rd;
		return -1;
	}
	if (r != STMT_ROW)
		return diag_set(d, DIAG_DB, "PRAGMA data_version: no row");
	w->checks++;
	return 0;
}

static void
on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct dbwatch *w = h->data;
	(void)events;
	if (status < 0) {
		tlog(TLOG_WARN, "database watch: %s", uv_strerror(status));
		return;
	}
	if (name == NULL || strcmp(name, w->wal) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	int64_t v = 0;
	if (read_version(w, &v, &d) != 0) {
		tlog(TLOG_ERROR, "database watch: %s", d.msg);
		return;
	}
	if (v == w->data_version)
		return; /* our own commit, or no commit at all */
	w->data_version = v;
	w->on_change(w->ud);
}

static void
on_closed(uv_handle_t *h)
{
	struct dbwatch *w = h->data;
	free(w->dir);
	free(w->wal);
	free(w);
}

static void
dbwatch_free(struct dbwatch *w)
{
	stmt_finalize(&w->version);
	free(w->dir);
	free(w->wal);
	free(w);
}

struct dbwatch *
dbwatch_new(struct uv_loop_s *loop, struct store *st, const char *db_path,
	    void (*on_change)(void *ud), void *ud, struct diag *d)
{
	struct dbwatch *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	w->st = st;
	w->on_change = on_change;
	w->ud = ud;
	const char *slash = strrchr(db_path, '/');
	const char *base = slash != NULL ? slash + 1 : db_path;
	size_t nd = slash != NULL ? (size_t)(slash - db_path) : 0;
	w->dir = nd > 0 ? strndup(db_path, nd) : strdup(slash != NULL ? "/" : ".");
	w->wal = malloc(strlen(base) + sizeof("-wal"));
	if (w->dir == NULL || w->wal == NULL) {
		dbwatch_free(w);
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	strcpy(w->wal, base);
	strcat(w->wal, "-wal");
	if (stmt_prepare(&w->version, st, "watching the database", "PRAGMA data_version", d) != 0 ||
	    read_version(w, &w->data_version, d) != 0) {
		dbwatch_free(w);
		return NULL;
	}
	int rc = uv_fs_event_init(loop, &w->ev);
	if (rc == 0) {
		w->ev.data = w;
		rc = uv_fs_event_start(&w->ev, on_event, w->dir, 0);
		if (rc != 0) {
			stmt_finalize(&w->version);
			uv_close((uv_handle_t *)&w->ev, on_closed);
			diag_set(d, DIAG_IO, "cannot watch %s: %s", w->dir, uv_strerror(rc));
			return NULL;
		}
	} else {
		dbwatch_free(w);
		diag_set(d, DIAG_IO, "cannot watch the database: %s", uv_strerror(rc));
		return NULL;
	}
	return w;
}

void
dbwatch_stop(struct dbwatch *w)
{
	if (w == NULL)
		return;
	stmt_finalize(&w->version);
	uv_fs_event_stop(&w->ev);
	uv_close((uv_handle_t *)&w->ev, on_closed);
}

unsigned long
dbwatch_checks(const struct dbwatch *w)
{
	return w->checks;
}

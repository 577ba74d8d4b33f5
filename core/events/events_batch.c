/*
 * events/events_batch: many events appended in multi-row INSERTs (events_append_many, see
 * events.h). rewards/ledger appends a reward.granted per new grant of a dispatch batch
 * (thousands per transaction): a statement per event cost more than the event's row, and
 * SQLite's json functions, checking each payload again, a third of the rest.
 *
 * INSERT OR IGNORE on purpose: every value bound is non-NULL and the id is the rowid, so no
 * row can be ignored (the rows inserted are counted and compared), and an insert that
 * cannot abort runs without a statement journal: a multi-row INSERT that may abort copies
 * every page it touches first (16 KiB each) into one, ~a page per row for the events'
 * subject index.
 */
#include "events/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/stmt.h"

/* Payloads are built by the caller from checked values: only the outer braces are looked
 * at (a full parse per event is what this file exists to avoid). */
static int
payload_looks_like_object(const char *p)
{
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n'))
		n--;
	return n >= 2 && p[0] == '{' && p[n - 1] == '}';
}

/* "INSERT ... VALUES (?1, ?2, ?3, ?4, ?5, ?6), (?1, ?7, ...)" for k rows into sql. */
static int
many_sql(struct buf *sql, size_t k, struct diag *d)
{
	buf_reset(sql);
	if (buf_puts(sql, "INSERT OR IGNORE INTO events(at, kind, actor, subject_id, program_id, "
			  "payload) VALUES ", d) != 0)
		return -1;
	for (size_t i = 0; i < k; i++) {
		int p = 2 + 5 * (int)i;
		if (buf_printf(sql, d, "%s(?1, ?%d, ?%d, ?%d, ?%d, ?%d)", i ? ", " : "", p, p + 1,
			       p + 2, p + 3, p + 4) != 0)
			return -1;
	}
	return 0;
}

int
events_append_many(struct store *st, const struct event *ev, size_t n, struct diag *d)
{
	if (store_depth(st) == 0)
		return diag_set(d, DIAG_INTERNAL, "recording events: events_append_many outside a "
						  "transaction");
	for (size_t i = 0; i < n; i++) {
		const char *kind = ev[i].kind != NULL ? ev[i].kind : "(null)";
		if (!events_kind_ok(ev[i].kind))
			return diag_set(d, DIAG_INTERNAL,
					"recording event %s: the kind is not \"domain.verb\" in lower case",
					kind);
		if (ev[i].payload_json != NULL && !payload_looks_like_object(ev[i].payload_json))
			return diag_set(d, DIAG_INTERNAL,
					"recording event %s: the payload is not a JSON object", kind);
	}
	char at[STORE_TIME_MAX];
	if (store_timestamp(st, at) != 0)
		return diag_set(d, DIAG_INTERNAL,
				"recording events: the clock's time cannot be written as a date");
	struct buf sql;
	buf_init(&sql);
	int rc = 0;
	size_t built = 0; /* the rows of the statement in sql */
	for (size_t off = 0; rc == 0 && off < n; off += EVENTS_MANY_ROWS) {
		size_t k = n - off < EVENTS_MANY_ROWS ? n - off : EVENTS_MANY_ROWS;
		struct stmt s;
		if ((k != built && many_sql(&sql, built = k, d) != 0) ||
		    stmt_prepare(&s, st, "recording events", sql.data, d) != 0) {
			rc = -1;
			break;
		}
		rc = stmt_bind_text(&s, 1, at, d);
		for (size_t i = 0; rc == 0 && i < k; i++) {
			const struct event *e = &ev[off + i];
			int p = 2 + 5 * (int)i;
			rc = stmt_bind_text(&s, p, e->kind, d) || stmt_bind_text(&s, p + 1, e->actor, d) ||
					     (e->subject_id != 0
						  ? stmt_bind_int64(&s, p + 2, e->subject_id, d)
						  : stmt_bind_null(&s, p + 2, d)) ||
					     (e->program_id != 0
						  ? stmt_bind_int64(&s, p + 3, e->program_id, d)
						  : stmt_bind_null(&s, p + 3, d)) ||
					     stmt_bind_text(&s, p + 4,
							    e->payload_json ? e->payload_json : "{}", d)
				     ? -1
				     : 0;
		}
		if (rc == 0)
			rc = stmt_run(&s, d);
		if (rc == 0 && sqlite3_changes64(store_db(st)) != (sqlite3_int64)k)
			rc = diag_set(d, DIAG_INTERNAL, "recording events: %zu rows but %lld inserted", k,
				      (long long)sqlite3_changes64(store_db(st)));
		stmt_finalize(&s);
	}
	buf_fini(&sql);
	if (rc != 0)
		diag_prefix(d, "recording events %.64s", n ? ev[0].kind : "");
	return rc;
}

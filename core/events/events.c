/*
 * events: the only writer of new rows in `events`. See events.h for the contract.
 */
#include "events/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"

/* "domain.verb": lower-case words of letters, digits and '_' joined by dots. */
int
events_kind_ok(const char *kind)
{
	if (kind == NULL || kind[0] == '\0' || kind[0] == '.')
		return 0;
	int dots = 0;
	for (const char *p = kind; *p != '\0'; p++) {
		if (*p == '.') {
			if (p[1] == '\0' || p[1] == '.')
				return 0;
			dots++;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			return 0;
		}
	}
	return dots > 0;
}

/* The payload is checked by SQLite's JSON parser in the same statement (json_type raises on
 * malformed text, hence json_valid first, in a CASE, which is evaluated lazily): a payload
 * that is not an object becomes NULL, which the NOT NULL column refuses before anything is
 * written, and that refusal is told apart by its error code. One row of VALUES, not an
 * INSERT ... SELECT: SQLite runs a SELECT-fed insert under a statement savepoint, whose
 * first write to each page copies the page (16 KiB) into the statement journal, and events
 * are appended by the tens of thousands inside long transactions (`tandem simulate`). */
static const char events_insert_sql[] =
	"INSERT INTO events(at, kind, actor, subject_id, program_id, payload)"
	" VALUES (?1, ?2, ?3, ?4, ?5,"
	" CASE WHEN json_valid(?6) THEN CASE json_type(?6) WHEN 'object' THEN ?6 END END)";

int
events_writer_init(struct events_writer *w, struct store *st, struct diag *d)
{
	w->st = st;
	w->ins = NULL;
	struct stmt *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory preparing to record events");
	if (stmt_prepare(s, st, "inserting the row", events_insert_sql, d) != 0) {
		free(s);
		return -1;
	}
	w->ins = s;
	return 0;
}

void
events_writer_fini(struct events_writer *w)
{
	if (w->ins != NULL) {
		stmt_finalize(w->ins);
		free(w->ins);
	}
	w->ins = NULL;
}

int
events_writer_append(struct events_writer *w, const struct event *ev, int64_t *id_out,
		     struct diag *d)
{
	struct store *st = w->st;
	struct stmt *s = w->ins;
	const char *kind = ev->kind != NULL ? ev->kind : "(null)";
	if (store_depth(st) == 0)
		return diag_set(d, DIAG_INTERNAL,
				"recording event %s: events_append outside a transaction", kind);
	if (!events_kind_ok(ev->kind))
		return diag_set(d, DIAG_INTERNAL,
				"recording event %s: the kind is not \"domain.verb\" in lower case", kind);
	char at[STORE_TIME_MAX];
	if (store_timestamp(st, at) != 0)
		return diag_set(d, DIAG_INTERNAL,
				"recording event %s: the clock's time cannot be written as a date", kind);
	const char *payload = ev->payload_json != NULL ? ev->payload_json : "{}";
	int rc = stmt_bind_text(s, 1, at, d) || stmt_bind_text(s, 2, ev->kind, d) ||
			 stmt_bind_text(s, 3, ev->actor, d) ||
			 (ev->subject_id != 0 ? stmt_bind_int64(s, 4, ev->subject_id, d)
					      : stmt_bind_null(s, 4, d)) ||
			 (ev->program_id != 0 ? stmt_bind_int64(s, 5, ev->program_id, d)
					      : stmt_bind_null(s, 5, d)) ||
			 stmt_bind_text(s, 6, payload, d) || stmt_run(s, d)
		 ? -1
		 : 0;
	sqlite3 *db = store_db(st);
	if (rc != 0 && sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_NOTNULL)
		return diag_set(d, DIAG_INTERNAL, "recording event %s: the payload is not a JSON object",
				kind);
	if (rc != 0) {
		diag_prefix(d, "recording event %.64s", kind);
		return -1;
	}
	if (sqlite3_changes(db) != 1)
		return diag_set(d, DIAG_INTERNAL, "recording event %s: the payload is not a JSON object",
				kind);
	if (id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(db);
	return 0;
}

int
events_append(struct store *st, const struct event *ev, int64_t *id_out, struct diag *d)
{
	struct events_writer w;
	if (events_writer_init(&w, st, d) != 0)
		return -1;
	int rc = events_writer_append(&w, ev, id_out, d);
	events_writer_fini(&w);
	return rc;
}

int
events_append_rows(struct store *st, const char *kind, const char *rows_sql, int64_t arg,
		   int64_t *n, struct diag *d)
{
	*n = 0;
	const char *k = kind != NULL ? kind : "(null)";
	if (store_depth(st) == 0)
		return diag_set(d, DIAG_INTERNAL,
				"recording events %s: events_append_rows outside a transaction", k);
	if (!events_kind_ok(kind))
		return diag_set(d, DIAG_INTERNAL,
				"recording events %s: the kind is not \"domain.verb\" in lower case", k);
	char at[STORE_TIME_MAX];
	if (store_timestamp(st, at) != 0)
		return diag_set(d, DIAG_INTERNAL,
				"recording events %s: the clock's time cannot be written as a date", k);
	/* The rows are counted first and compared with the rows inserted: a payload that is not
	 * a JSON object is left out by the WHERE (as in events_insert_sql) and told apart so. */
	size_t len = strlen(rows_sql);
	char *sql = malloc(len * 2 + 512);
	if (sql == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory recording events %s", k);
	snprintf(sql, len * 2 + 512,
		 "WITH r(a, s, p, j) AS (%s)"
		 " INSERT INTO events(at, kind, actor, subject_id, program_id, payload)"
		 " SELECT ?2, ?3, a, nullif(s, 0), nullif(p, 0), coalesce(j, '{}') FROM r"
		 " WHERE CASE WHEN json_valid(coalesce(j, '{}'))"
		 " THEN json_type(coalesce(j, '{}')) END IS 'object'",
		 rows_sql);
	struct stmt s;
	int64_t want = 0;
	int rc = stmt_prepare(&s, st, "inserting the rows", sql, d) || stmt_bind_int64(&s, 1, arg, d) ||
			 stmt_bind_text(&s, 2, at, d) || stmt_bind_text(&s, 3, kind, d) ||
			 stmt_run(&s, d)
		     ? -1
		     : 0;
	if (rc == 0)
		*n = sqlite3_changes64(store_db(st));
	stmt_finalize(&s);
	if (rc == 0) {
		snprintf(sql, len * 2 + 512, "SELECT count(*) FROM (%s)", rows_sql);
		rc = stmt_prepare(&s, st, "counting the rows", sql, d) ||
			     (stmt_param_count(&s) > 0 && stmt_bind_int64(&s, 1, arg, d))
			 ? -1
			 : stmt_step(&s, d);
		if (rc == STMT_ROW) {
			want = stmt_int64(&s, 0);
			rc = 0;
		} else if (rc >= 0) {
			rc = diag_set(d, DIAG_INTERNAL, "counting the rows: no row");
		}
		stmt_finalize(&s);
	}
	free(sql);
	if (rc != 0) {
		diag_prefix(d, "recording events %.64s", k);
		return -1;
	}
	if (*n != want)
		return diag_set(d, DIAG_INTERNAL,
				"recording events %s: %lld of %lld payloads are not JSON objects", k,
				(long long)(want - *n), (long long)want);
	return 0;
}

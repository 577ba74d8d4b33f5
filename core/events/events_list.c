/*
 * events/events_list: the event log as JSON (see events_list.h).
 */
#include "events/events_list.h"

#include <string.h>

#include "store/stmt.h"

/* ?1 since, ?2 kind (NULL: any), ?3 program id (NULL: any), ?4 limit (-1: none). A kind
 * without a '.' at the end matches itself and "kind.*"; one ending in '.' is a prefix. */
static const char events_list_sql[] =
	"SELECT e.id, e.at, e.kind, e.actor, e.subject_id, e.program_id, p.name, e.payload"
	" FROM events e LEFT JOIN programs p ON p.id = e.program_id"
	" WHERE e.id > ?1"
	" AND (?2 IS NULL OR e.kind = ?2"
	"  OR (substr(?2, -1) = '.' AND substr(e.kind, 1, length(?2)) = ?2)"
	"  OR substr(e.kind, 1, length(?2) + 1) = ?2 || '.')"
	" AND (?3 IS NULL OR e.program_id = ?3)"
	" ORDER BY e.id LIMIT ?4";

static json_t *
column_or_null(struct stmt *s, int col, int integer)
{
	if (stmt_is_null(s, col))
		return json_null();
	if (integer)
		return json_integer((json_int_t)stmt_int64(s, col));
	const char *t = NULL;
	if (stmt_text(s, col, &t, NULL) != 0 || t == NULL)
		return json_null();
	return json_string(t);
}

int
events_list(struct store *st, const struct events_filter *f, json_t **out, struct diag *d)
{
	*out = NULL;
	int64_t pid = 0;
	if (f->program != NULL) {
		struct stmt q;
		int rc = stmt_prepare(&q, st, "finding the program", "SELECT id FROM programs WHERE name = ?1",
				      d) ||
				 stmt_bind_text(&q, 1, f->program, d)
			     ? -1
			     : stmt_step(&q, d);
		if (rc == STMT_ROW)
			pid = stmt_int64(&q, 0);
		stmt_finalize(&q);
		if (rc < 0)
			return -1;
		if (rc != STMT_ROW)
			return diag_set(d, DIAG_NOTFOUND, "no program '%s' in the database", f->program);
	}
	struct stmt s;
	if (stmt_prepare(&s, st, "listing events", events_list_sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, f->since, d) ||
			 (f->kind ? stmt_bind_text(&s, 2, f->kind, d) : stmt_bind_null(&s, 2, d)) ||
			 (pid ? stmt_bind_int64(&s, 3, pid, d) : stmt_bind_null(&s, 3, d)) ||
			 stmt_bind_int64(&s, 4, f->limit > 0 ? f->limit : -1, d)
		     ? -1
		     : 0;
	json_t *arr = json_array();
	if (arr == NULL && rc == 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory listing events");
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *payload = NULL;
		if (stmt_text(&s, 7, &payload, d) != 0) {
			rc = -1;
			break;
		}
		json_t *p = payload ? json_loads(payload, 0, NULL) : NULL;
		json_t *o = json_object();
		if (o == NULL ||
		    json_object_set_new(o, "id", json_integer((json_int_t)stmt_int64(&s, 0))) ||
		    json_object_set_new(o, "at", column_or_null(&s, 1, 0)) ||
		    json_object_set_new(o, "kind", column_or_null(&s, 2, 0)) ||
		    json_object_set_new(o, "actor", column_or_null(&s, 3, 0)) ||
		    json_object_set_new(o, "subject_id", column_or_null(&s, 4, 1)) ||
		    json_object_set_new(o, "program_id", column_or_null(&s, 5, 1)) ||
		    json_object_set_new(o, "program", column_or_null(&s, 6, 0)) ||
		    json_object_set_new(o, "payload", p ? p : json_object()) ||
		    json_array_append_new(arr, o)) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory listing events");
			break;
		}
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

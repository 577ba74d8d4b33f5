/*
 * people_read: reading people back: the listing, one person with their manager, and the
 * export of every row about one person (people.h); see people_read.h for what the erasure
 * shares with it. Rows become JSON objects keyed by column, typed as SQLite stored them,
 * with the columns that hold JSON text decoded.
 *
 * Called by cli/cmd_people.c, the public API and people_erase.c.
 */
#include "program/people_read.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "program/enroll.h"
#include "program/people.h"
#include "program/session_reveal.h"
#include "store/stmt.h"
#include "store/store.h"

/* Columns that hold JSON text: returned as JSON values, not strings. */
static int
people_json_column(const char *name)
{
	static const char *const cols[] = {"skills",       "topics_wanted", "languages", "attributes",
					   "topics_offered", "availability", "explanation", "payload",
					   "config"};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(name, cols[i]) == 0)
			return 1;
	return 0;
}

/* The current row of s as an object: one key per column, typed as SQLite stored it.
 * NULL + diag when SQLite or jansson runs out of memory. */
static json_t *
people_row_json(struct stmt *s, struct diag *d)
{
	json_t *o = json_object();
	if (o == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory reading rows");
		return NULL;
	}
	int n = stmt_column_count(s);
	for (int i = 0; i < n; i++) {
		const char *col, *t;
		if (stmt_column_name(s, i, &col, d) != 0)
			goto fail;
		json_t *v;
		switch (stmt_type(s, i)) {
		case SQLITE_INTEGER:
			v = json_integer(stmt_int64(s, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(stmt_double(s, i));
			break;
		case SQLITE_NULL:
			v = json_null();
			break;
		default:
			if (stmt_text(s, i, &t, d) != 0)
				goto fail;
			v = people_json_column(col) ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
			if (v == NULL)
				v = json_string(t);
		}
		json_object_set_new(o, col, v);
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *
people_rows_page_json(struct store *st, const char *sql, long long id, const char *after,
		      int limit, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "reading rows", sql, d) != 0)
		return NULL;
	json_t *arr = json_array();
	int rc = arr == NULL ? diag_set(d, DIAG_NOMEM, "out of memory reading rows") : 0;
	int np = stmt_param_count(&s); /* a query may take fewer than the three */
	if (rc == 0 && ((np >= 1 && stmt_bind_int64(&s, 1, id, d)) ||
			(np >= 2 && stmt_bind_text(&s, 2, after, d)) ||
			(np >= 3 && stmt_bind_int64(&s, 3, limit > 0 ? limit : -1, d))))
		rc = -1;
	/* A row that cannot be built is out of memory, not a row to leave out of the answer. */
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		json_t *row = people_row_json(&s, d);
		if (row == NULL)
			rc = -1;
		else if (json_array_append_new(arr, row) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory reading rows");
		else
			rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Runs a query with up to one integer parameter and collects its rows. */
static json_t *
people_rows_json(struct store *st, const char *sql, long long param, struct diag *d)
{
	return people_rows_page_json(st, sql, param, NULL, 0, d);
}

#define PEOPLE_PUBLIC_COLUMNS                                                                      \
	"p.external_id AS id, p.name, p.email, p.title, p.level, p.department, p.team,"           \
	" p.location, p.timezone, m.external_id AS manager, p.birth_year, p.generation,"          \
	" p.hire_date, p.status, p.skills, p.topics_wanted, p.languages, p.attributes,"           \
	" p.created_at, p.updated_at, p.id AS person_id"

json_t *
people_list_json(struct store *st, struct diag *d)
{
	return people_rows_json(st,
				"SELECT " PEOPLE_PUBLIC_COLUMNS
				" FROM people p LEFT JOIN people m ON m.id = p.manager_id"
				" ORDER BY p.external_id",
				0, d);
}

json_t *
people_page_json(struct store *st, const char *after, int limit, struct diag *d)
{
	return people_rows_page_json(st,
				     "SELECT " PEOPLE_PUBLIC_COLUMNS
				     " FROM people p LEFT JOIN people m ON m.id = p.manager_id"
				     " WHERE ?1 = ?1 AND p.external_id > ?2"
				     " ORDER BY p.external_id LIMIT ?3",
				     0, after ? after : "", limit, d);
}

json_t *
enroll_page_json(struct store *st, int64_t program_id, const char *after, int limit,
		 struct diag *d)
{
	return people_rows_page_json(
	    st,
	    "SELECT p.external_id AS person, p.name, e.role, e.capacity, e.topics_offered,"
	    " e.topics_wanted, e.availability, e.consent, e.attributes, e.created_at"
	    " FROM enrollments e JOIN people p ON p.id = e.person_id"
	    " WHERE e.program_id = ?1 AND p.external_id > ?2"
	    " ORDER BY p.external_id LIMIT ?3",
	    program_id, after ? after : "", limit, d);
}

long long
people_find(struct store *st, const char *key, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "looking up a person",
			 "SELECT id FROM people WHERE external_id = ?1"
			 " UNION ALL SELECT id FROM people WHERE email = ?1 LIMIT 1",
			 d) != 0)
		return 0;
	long long id = 0;
	int rc = stmt_bind_text(&s, 1, key, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW)
		id = stmt_int64(&s, 0);
	else if (rc == STMT_DONE)
		diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
	stmt_finalize(&s);
	return id;
}

json_t *
people_show_json(struct store *st, const char *key, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return NULL;
	json_t *rows = people_rows_json(st,
					"SELECT " PEOPLE_PUBLIC_COLUMNS ", m.name AS manager_name"
					" FROM people p LEFT JOIN people m ON m.id = p.manager_id"
					" WHERE p.id = ?",
					id, d);
	if (rows == NULL || json_array_size(rows) != 1) {
		json_decref(rows);
		if (rows != NULL)
			diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
		return NULL;
	}
	json_t *p = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	json_t *mid = json_object_get(p, "manager");
	json_t *mgr = json_is_string(mid) ? json_pack("{s:O, s:O}", "id", mid, "name",
						      json_object_get(p, "manager_name"))
					  : json_null();
	json_object_set_new(p, "manager", mgr);
	json_object_del(p, "manager_name");
	return p;
}

#define FEEDBACK_SHOWN                                                                             \
	"(f.author_id = ?1 OR " SESSION_REVEALED_SQL("s", "fr", "fe", "CAST(?2 AS INTEGER)") ")"

const struct people_table people_tables[] = {
	{"enrollments", "SELECT * FROM enrollments WHERE person_id = ?1 ORDER BY id"},
	{"matches", "SELECT * FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1 ORDER BY id"},
	{"vetoes", "SELECT * FROM vetoes WHERE mentor_id = ?1 OR mentee_id = ?1 ORDER BY id"},
	{"sessions", "SELECT * FROM sessions WHERE match_id IN"
		     " (SELECT id FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1) ORDER BY id"},
	/* The partner's rating and notes only once visible (program/session_reveal.h); ?2 is
	 * the store's clock in Unix seconds, as text (NULL when erasure counts the rows). */
	{"feedback", "SELECT f.id, f.session_id, f.match_id, f.author_id, f.outcome,"
		     " CASE WHEN " FEEDBACK_SHOWN " THEN f.rating END AS rating,"
		     " CASE WHEN " FEEDBACK_SHOWN " THEN f.comment END AS comment,"
		     " f.share_story, f.actor, f.created_at,"
		     " CASE WHEN " FEEDBACK_SHOWN " THEN 0 ELSE 1 END AS hidden"
		     " FROM feedback f JOIN sessions s ON s.id = f.session_id"
		     " JOIN matches m ON m.id = f.match_id"
		     " LEFT JOIN feedback fr ON fr.session_id = f.session_id AND fr.author_id = m.mentor_id"
		     " LEFT JOIN feedback fe ON fe.session_id = f.session_id AND fe.author_id = m.mentee_id"
		     " WHERE f.author_id = ?1 OR f.match_id IN"
		     " (SELECT id FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1) ORDER BY f.id"},
	{"rewards", "SELECT * FROM rewards WHERE person_id = ?1 ORDER BY id"},
	{"events", "SELECT * FROM events WHERE subject_id = ?1 ORDER BY id"},
	{"outbox", "SELECT * FROM outbox WHERE recipient_id = ?1 ORDER BY id"},
};
const size_t people_ntables = sizeof(people_tables) / sizeof(people_tables[0]);

json_t *
people_export_json(struct store *st, const char *key, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return NULL;
	json_t *out = json_object();
	if (out == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	json_t *person = people_rows_json(st, "SELECT * FROM people WHERE id = ?", id, d);
	if (person == NULL)
		goto fail;
	json_object_set(out, "person", json_array_get(person, 0));
	json_decref(person);
	char now[24];
	snprintf(now, sizeof(now), "%lld", (long long)store_time(st));
	for (size_t i = 0; i < people_ntables; i++) {
		json_t *rows = people_rows_page_json(st, people_tables[i].sql, id, now, 0, d);
		if (rows == NULL)
			goto fail;
		json_object_set_new(out, people_tables[i].table, rows);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}


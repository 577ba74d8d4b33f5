/*
 * matches_read: matches back as JSON: a program's listing, one match with its
 * explanation, a list of ids (what a decision prints), a person, a person's current
 * partners. See matches.h for the functions' contracts.
 */
#include "program/matches.h"

#include <stdio.h>
#include <string.h>

#include "program/matches_internal.h"
#include "store/stmt.h"
#include "store/store.h"

static const char list_sql[] =
    "SELECT m.id, pm.external_id, pm.name, pe.external_id, pe.name, m.status, m.pinned, "
    "m.score, m.policy_name, m.policy_version, m.run_id, m.created_at, m.decided_at, "
    "m.decided_by, m.explanation, m.program_id, m.superseded_by, pm.department, "
    "pe.department "
    "FROM matches m LEFT JOIN people pm ON pm.id = m.mentor_id "
    "LEFT JOIN people pe ON pe.id = m.mentee_id ";

/* The column as a JSON string or null; NULL when out of memory. */
static json_t *
text_or_null(struct stmt *s, int i)
{
	const char *t;
	if (stmt_text(s, i, &t, NULL) < 0)
		return NULL;
	return t ? json_string(t) : json_null();
}

/* One row of list_sql as JSON; NULL when out of memory. */
static json_t *
row_json(struct stmt *s, int with_explanation)
{
	/* The departments come last, as their own keys: the people objects keep the
	 * {id, name} shape that scripts read. A side erased by `people erase` is NULL in
	 * the row (the match stays, detached): its id, name and department are null. */
	json_t *o = json_pack(
	    "{s:I, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}",
	    "id", (json_int_t)stmt_int64(s, 0), "mentor", "id", text_or_null(s, 1), "name",
	    text_or_null(s, 2), "mentee", "id", text_or_null(s, 3), "name", text_or_null(s, 4),
	    "status", text_or_null(s, 5), "pinned", (int)stmt_int64(s, 6), "score",
	    stmt_is_null(s, 7) ? json_null() : json_real(stmt_double(s, 7)), "policy",
	    text_or_null(s, 8), "policy_version", text_or_null(s, 9), "run_id", text_or_null(s, 10),
	    "created_at", text_or_null(s, 11), "decided_at", text_or_null(s, 12), "decided_by",
	    text_or_null(s, 13), "mentor_department", text_or_null(s, 17), "mentee_department",
	    text_or_null(s, 18));
	if (o && with_explanation) {
		const char *t;
		json_t *ex = stmt_text(s, 14, &t, NULL) == 0 && t ? json_loads(t, 0, NULL) : NULL;
		if (json_object_set_new(o, "explanation", ex ? ex : json_object()) != 0 ||
		    json_object_set_new(o, "program_id", json_integer(stmt_int64(s, 15))) != 0 ||
		    json_object_set_new(o, "superseded_by", text_or_null(s, 16)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Steps s to the end and finalizes it: an array of row_json() objects, or NULL. */
static json_t *
rows_json(struct stmt *s, const char *what, struct diag *d)
{
	json_t *arr = json_array();
	int rc = arr ? STMT_ROW : -2;
	while (rc == STMT_ROW && (rc = stmt_step(s, d)) == STMT_ROW)
		if (json_array_append_new(arr, row_json(s, 0)) != 0)
			rc = -2;
	stmt_finalize(s);
	if (rc == STMT_DONE)
		return arr;
	if (rc == -2)
		diag_set(d, DIAG_NOMEM, "%s: out of memory", what);
	json_decref(arr);
	return NULL;
}

/* Prepares list_sql + where under NAME with its integer parameters; 0 or -1. */
static int
prepare_list(struct stmt *s, struct store *st, const char *name, const char *where,
	     const int64_t *v, int n, struct diag *d)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%s%s", list_sql, where);
	return matches__prepare_ids(s, st, name, sql, v, n, d);
}

json_t *
matches_list_json(struct store *st, int64_t program_id, const char *status, struct diag *d)
{
	struct stmt s = {0};
	if (prepare_list(&s, st, "listing matches",
			 "WHERE m.program_id = ?1 AND (?2 IS NULL AND m.status <> 'superseded' "
			 "OR m.status = ?2) ORDER BY m.id",
			 &program_id, 1, d) < 0)
		return NULL;
	if (status && stmt_bind_text(&s, 2, status, d) < 0) {
		stmt_finalize(&s);
		return NULL;
	}
	return rows_json(&s, "listing matches", d);
}

json_t *
matches_page_json(struct store *st, int64_t program_id, const char *status, int64_t after_id,
		  int limit, struct diag *d)
{
	struct stmt s = {0};
	int64_t v[3] = {program_id, after_id, limit > 0 ? limit : -1};
	if (prepare_list(&s, st, "listing matches",
			 "WHERE m.program_id = ?1 AND m.id > ?2 AND (?4 IS NULL AND m.status <> "
			 "'superseded' OR m.status = ?4) ORDER BY m.id LIMIT ?3",
			 v, 3, d) < 0)
		return NULL;
	if (status && stmt_bind_text(&s, 4, status, d) < 0) {
		stmt_finalize(&s);
		return NULL;
	}
	return rows_json(&s, "listing matches", d);
}

json_t *
matches_get_json(struct store *st, int64_t id, struct diag *d)
{
	struct stmt s = {0};
	if (prepare_list(&s, st, "reading a match", "WHERE m.id = ?1", &id, 1, d) < 0)
		return NULL;
	json_t *o = NULL;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW && (o = row_json(&s, 1)) == NULL)
		diag_set(d, DIAG_NOMEM, "reading a match: out of memory");
	else if (rc == STMT_DONE)
		diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	stmt_finalize(&s);
	return o;
}

json_t *
matches_ids_json(struct store *st, const int64_t *ids, int n, struct diag *d)
{
	json_t *arr = json_array();
	if (arr == NULL) {
		diag_set(d, DIAG_NOMEM, "reading matches: out of memory");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		struct stmt s = {0};
		if (prepare_list(&s, st, "reading a match", "WHERE m.id = ?1", &ids[i], 1, d) < 0)
			goto fail;
		json_t *one = rows_json(&s, "reading a match", d);
		if (one == NULL)
			goto fail;
		if (json_array_size(one) == 0) {
			json_decref(one);
			diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)ids[i]);
			goto fail;
		}
		int rc = json_array_append(arr, json_array_get(one, 0));
		json_decref(one);
		if (rc != 0) {
			diag_set(d, DIAG_NOMEM, "reading matches: out of memory");
			goto fail;
		}
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

json_t *
matches_person_json(struct store *st, int64_t person, struct diag *d)
{
	struct stmt s = {0};
	if (matches__prepare_ids(&s, st, "reading a person",
			"SELECT external_id, name, department FROM people WHERE id = ?1", &person, 1,
			d) < 0)
		return NULL;
	json_t *o = NULL;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW &&
	    (o = json_pack("{s:o, s:o, s:o}", "id", text_or_null(&s, 0), "name",
			   text_or_null(&s, 1), "department", text_or_null(&s, 2))) == NULL)
		diag_set(d, DIAG_NOMEM, "reading a person: out of memory");
	else if (rc == STMT_DONE)
		diag_set(d, DIAG_NOTFOUND, "no person #%lld", (long long)person);
	stmt_finalize(&s);
	return o;
}

json_t *
matches_partners_json(struct store *st, int64_t program_id, int64_t person, int as_mentor,
		      struct diag *d)
{
	struct stmt s = {0};
	int64_t v[2] = {program_id, person};
	if (prepare_list(&s, st, "reading matches",
			 as_mentor ? "WHERE m.program_id = ?1 AND m.mentor_id = ?2 AND m.status IN "
				     "('proposed', 'approved', 'active') ORDER BY m.id"
				   : "WHERE m.program_id = ?1 AND m.mentee_id = ?2 AND m.status IN "
				     "('proposed', 'approved', 'active') ORDER BY m.id",
			 v, 2, d) < 0)
		return NULL;
	return rows_json(&s, "reading matches", d);
}

int
matches_current_id(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		   int64_t *id, struct diag *d)
{
	struct stmt s = {0};
	int64_t v[3] = {program_id, mentor, mentee};
	*id = 0;
	if (matches__prepare_ids(&s, st, "reading the pair's match",
				 "SELECT id FROM matches WHERE program_id = ?1 AND mentor_id = ?2 AND "
				 "mentee_id = ?3 AND status IN ('approved', 'active') ORDER BY id "
				 "DESC LIMIT 1",
				 v, 3, d) < 0)
		return -1;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW)
		*id = stmt_int64(&s, 0);
	stmt_finalize(&s);
	return rc == STMT_ROW || rc == STMT_DONE ? 0 : -1;
}

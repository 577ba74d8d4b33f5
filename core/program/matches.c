/*
 * matches: storing proposals, reviewing matches. See matches.h for the rules.
 */
#include "program/matches.h"

#include <stdlib.h>
#include <string.h>

#include "program/config.h"
#include "program/explain.h"
#include "store/store.h"

/* ---- small helpers ---------------------------------------------------------------- */

static int
step_done(struct store *st, sqlite3_stmt *s, struct diag *d, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(st, d, "%s", what);
	return rc;
}

static int
lookup_id(struct store *st, const char *sql, const char *key, int64_t *id, struct diag *d)
{
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	int rc = step_done(st, s, d, "lookup");
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int
matches_find_person(struct store *st, const char *key, int64_t *id, struct diag *d)
{
	int rc = lookup_id(st,
			   "SELECT id FROM people WHERE external_id = ?1 OR email = ?1 "
			   "ORDER BY external_id = ?1 DESC LIMIT 1",
			   key, id, d);
	if (rc == 1)
		return diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
	return rc;
}

int
matches_program_id(struct store *st, const char *name, int64_t *id, struct diag *d)
{
	int rc = lookup_id(st, "SELECT id FROM programs WHERE name = ?1", name, id, d);
	if (rc == 1)
		return diag_set(d, DIAG_NOTFOUND, "no program '%s' in the database", name);
	return rc;
}

int
matches_open_program(struct store *st, const char *config_path, const char *name,
		     struct config *cfg, const struct config_program **prog, int64_t *id,
		     struct diag *d)
{
	memset(cfg, 0, sizeof(*cfg));
	if (config_load(config_path, cfg, d) < 0)
		return -1;
	*prog = config_find_program(cfg, name, d);
	if (*prog == NULL)
		return -1;
	if (config_sync_programs(st, cfg, d) < 0)
		return -1;
	return config_program_id(st, cfg, name, id, d);
}

/* ---- storing a run ------------------------------------------------------------------- */

static int
add_event(struct store *st, const char *kind, const char *actor, int64_t subject,
	  int64_t program_id, json_t *payload, struct diag *d)
{
	char at[STORE_TIME_MAX];
	store_timestamp(st, at);
	char *text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	sqlite3_stmt *s =
	    store_prepare(st,
			  "INSERT INTO events (at, kind, actor, subject_id, program_id, "
			  "payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			  d);
	int rc = -1;
	if (s) {
		sqlite3_bind_text(s, 1, at, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, actor, -1, SQLITE_TRANSIENT);
		if (subject > 0)
			sqlite3_bind_int64(s, 4, subject);
		sqlite3_bind_int64(s, 5, program_id);
		sqlite3_bind_text(s, 6, text, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s) == SQLITE_DONE
			 ? 0
			 : store_error(st, d, "recording event %s", kind);
		sqlite3_finalize(s);
	}
	free(text);
	return rc;
}

static int
insert_proposals(struct store *st, const struct cohort *c, const struct policy *pol,
		 const struct solve_result *res, const char *run_id, int *nstored, struct diag *d)
{
	char now[STORE_TIME_MAX];
	store_timestamp(st, now);
	sqlite3_stmt *s = store_prepare(
	    st,
	    "INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, score, "
	    "explanation, policy_name, policy_version, run_id, created_at) "
	    "VALUES (?1, ?2, ?3, 'proposed', 0, ?4, ?5, ?6, ?7, ?8, ?9)",
	    d);
	if (s == NULL)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < res->npairs; i++) {
		const struct solve_pair *p = &res->pairs[i];
		if (p->kept)
			continue;
		json_t *ex = explain_pair(pol, c, p->mentor, p->mentee, p->lua);
		json_object_set_new(ex, "run_id", json_string(run_id));
		char *text = json_dumps(ex, JSON_COMPACT | JSON_REAL_PRECISION(10));
		json_decref(ex);
		if (text == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, c->program_id);
		sqlite3_bind_int64(s, 2, c->people[c->mentors[p->mentor].person].id);
		sqlite3_bind_int64(s, 3, c->people[c->mentees[p->mentee].person].id);
		sqlite3_bind_double(s, 4, p->score);
		sqlite3_bind_text(s, 5, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 6, pol->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, pol->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 9, now, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = store_error(st, d, "storing a proposal");
		else
			(*nstored)++;
		free(text);
	}
	sqlite3_finalize(s);
	return rc;
}

static int
exec_bound(struct store *st, const char *sql, int64_t a, int64_t b, int64_t c3, struct diag *d)
{
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, b);
	if (sqlite3_bind_parameter_count(s) >= 3)
		sqlite3_bind_int64(s, 3, c3);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_error(st, d, "updating matches");
	sqlite3_finalize(s);
	return rc;
}

int
matches_store_run(struct store *st, const struct cohort *c, const struct policy *pol,
		  const struct solve_result *res, const char *run_id, const char *actor,
		  int *nstored, struct diag *d)
{
	*nstored = 0;
	if (store_begin(st, d) < 0)
		return -1;
	int kept = 0;
	for (int i = 0; i < res->npairs; i++)
		kept += res->pairs[i].kept;
	if (exec_bound(st,
		       "DELETE FROM matches WHERE program_id = ?1 AND status = 'proposed' "
		       "AND pinned = 0",
		       c->program_id, 0, 0, d) < 0 ||
	    insert_proposals(st, c, pol, res, run_id, nstored, d) < 0)
		goto fail;
	json_t *payload =
	    json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f}", "run_id", run_id, "policy", pol->name,
		      "policy_version", pol->version, "proposed", *nstored, "kept", kept,
		      "unmatched", res->nunmatched, "total", res->total);
	if (add_event(st, "match.proposed", actor, 0, c->program_id, payload, d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	*nstored = 0;
	return -1;
}

/* ---- reading matches ----------------------------------------------------------------- */

static const char list_sql[] =
    "SELECT m.id, pm.external_id, pm.name, pe.external_id, pe.name, m.status, m.pinned, "
    "m.score, m.policy_name, m.policy_version, m.run_id, m.created_at, m.decided_at, "
    "m.decided_by, m.explanation, m.program_id "
    "FROM matches m JOIN people pm ON pm.id = m.mentor_id JOIN people pe ON pe.id = m.mentee_id ";

static json_t *
text_or_null(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? json_string((const char *)t) : json_null();
}

static json_t *
row_json(sqlite3_stmt *s, int with_explanation)
{
	json_t *o = json_pack(
	    "{s:I, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)sqlite3_column_int64(s, 0), "mentor", "id", text_or_null(s, 1), "name",
	    text_or_null(s, 2), "mentee", "id", text_or_null(s, 3), "name", text_or_null(s, 4),
	    "status", text_or_null(s, 5), "pinned", sqlite3_column_int(s, 6), "score",
	    sqlite3_column_type(s, 7) == SQLITE_NULL ? json_null()
						     : json_real(sqlite3_column_double(s, 7)),
	    "policy", text_or_null(s, 8), "policy_version", text_or_null(s, 9), "run_id",
	    text_or_null(s, 10), "created_at", text_or_null(s, 11), "decided_at",
	    text_or_null(s, 12), "decided_by", text_or_null(s, 13));
	if (o && with_explanation) {
		const char *t = (const char *)sqlite3_column_text(s, 14);
		json_t *ex = t ? json_loads(t, 0, NULL) : NULL;
		json_object_set_new(o, "explanation", ex ? ex : json_object());
		json_object_set_new(o, "program_id", json_integer(sqlite3_column_int64(s, 15)));
	}
	return o;
}

/* Steps s to the end and finalizes it: an array of row_json() objects, or NULL. */
static json_t *
rows_json(struct store *st, sqlite3_stmt *s, const char *what, struct diag *d)
{
	json_t *arr = json_array();
	int rc = arr ? SQLITE_ROW : SQLITE_NOMEM;
	while (rc == SQLITE_ROW && (rc = step_done(st, s, d, what)) == SQLITE_ROW)
		if (json_array_append_new(arr, row_json(s, 0)) != 0)
			rc = SQLITE_NOMEM;
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return arr;
	if (rc == SQLITE_NOMEM)
		diag_set(d, DIAG_NOMEM, "%s: out of memory", what);
	json_decref(arr);
	return NULL;
}

json_t *
matches_list_json(struct store *st, int64_t program_id, const char *status, struct diag *d)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "%s WHERE m.program_id = ?1 AND (?2 IS NULL OR m.status = ?2) "
		 "ORDER BY m.id",
		 list_sql);
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, program_id);
	if (status)
		sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
	return rows_json(st, s, "listing matches", d);
}

json_t *
matches_get_json(struct store *st, int64_t id, struct diag *d)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%s WHERE m.id = ?1", list_sql);
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	json_t *o = NULL;
	int rc = step_done(st, s, d, "reading a match");
	if (rc == SQLITE_ROW)
		o = row_json(s, 1);
	else if (rc == SQLITE_DONE)
		diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	sqlite3_finalize(s);
	return o;
}

json_t *
matches_partners_json(struct store *st, int64_t program_id, int64_t person, int as_mentor,
		      struct diag *d)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "%s WHERE m.program_id = ?1 AND m.%s = ?2 AND m.status IN ('proposed', "
		 "'approved', 'active') ORDER BY m.id",
		 list_sql, as_mentor ? "mentor_id" : "mentee_id");
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, program_id);
	sqlite3_bind_int64(s, 2, person);
	return rows_json(st, s, "reading matches", d);
}

/* ---- reviewing ----------------------------------------------------------------------- */

struct match_row {
	int64_t id, program_id, mentor, mentee;
	char status[16];
	int pinned;
};

/* 1 found, 0 not found, -1 error. */
static int
read_match(struct store *st, const char *where, int64_t a, int64_t b, int64_t c3,
	   struct match_row *m, struct diag *d)
{
	char sql[512];
	snprintf(
	    sql, sizeof(sql),
	    "SELECT id, program_id, mentor_id, mentee_id, status, pinned FROM matches WHERE %s "
	    "ORDER BY id LIMIT 1",
	    where);
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return -1;
	int np = sqlite3_bind_parameter_count(s);
	sqlite3_bind_int64(s, 1, a);
	if (np >= 2)
		sqlite3_bind_int64(s, 2, b);
	if (np >= 3)
		sqlite3_bind_int64(s, 3, c3);
	int rc = step_done(st, s, d, "reading a match");
	if (rc == SQLITE_ROW) {
		m->id = sqlite3_column_int64(s, 0);
		m->program_id = sqlite3_column_int64(s, 1);
		m->mentor = sqlite3_column_int64(s, 2);
		m->mentee = sqlite3_column_int64(s, 3);
		snprintf(m->status, sizeof(m->status), "%s", sqlite3_column_text(s, 4));
		m->pinned = sqlite3_column_int(s, 5);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
set_status(struct store *st, int64_t id, const char *status, int pinned, const char *actor,
	   struct diag *d)
{
	char now[STORE_TIME_MAX];
	store_timestamp(st, now);
	sqlite3_stmt *s =
	    store_prepare(st,
			  "UPDATE matches SET status = ?2, pinned = ?3, decided_at = ?4, "
			  "decided_by = ?5 WHERE id = ?1",
			  d);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, pinned);
	sqlite3_bind_text(s, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, actor, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s) == SQLITE_DONE
		     ? 0
		     : store_error(st, d, "updating match #%lld", (long long)id);
	sqlite3_finalize(s);
	return rc;
}

static int
decide_one(struct store *st, int64_t id, enum matches_decision what, const char *actor,
	   struct diag *d)
{
	struct match_row m;
	int rc = read_match(st, "id = ?1", id, 0, 0, &m, d);
	if (rc <= 0)
		return rc < 0 ? -1 : diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	if (what == MATCHES_APPROVE) {
		if (strcmp(m.status, "proposed") != 0)
			return diag_set(d, DIAG_CONFLICT, "match #%lld is %s, not proposed",
					(long long)id, m.status);
		struct match_row other;
		rc = read_match(st,
				"program_id = ?1 AND mentee_id = ?2 AND id <> ?3 AND status IN "
				"('approved', 'active')",
				m.program_id, m.mentee, id, &other, d);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return diag_set(d, DIAG_CONFLICT,
					"match #%lld: the mentee already has %s match #%lld",
					(long long)id, other.status, (long long)other.id);
	} else if (strcmp(m.status, "proposed") != 0 && strcmp(m.status, "approved") != 0) {
		return diag_set(d, DIAG_CONFLICT,
				"match #%lld is %s: only proposed or approved "
				"matches can be rejected",
				(long long)id, m.status);
	}
	const char *status = what == MATCHES_APPROVE ? "approved" : "rejected";
	if (set_status(st, id, status, what == MATCHES_APPROVE ? m.pinned : 0, actor, d) < 0)
		return -1;
	return add_event(st, what == MATCHES_APPROVE ? "match.approved" : "match.rejected", actor,
			 m.mentee, m.program_id, json_pack("{s:I}", "match_id", (json_int_t)id), d);
}

int
matches_decide(struct store *st, const int64_t *ids, int n, enum matches_decision what,
	       const char *actor, struct diag *d)
{
	if (store_begin(st, d) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (decide_one(st, ids[i], what, actor, d) < 0) {
			store_rollback(st);
			return -1;
		}
	}
	return store_commit(st, d);
}

/* Checks an enrollment of a person in a program with a role on the wanted side. */
static int
check_enrolled(struct store *st, int64_t program_id, int64_t person, int mentor, struct diag *d)
{
	sqlite3_stmt *s = store_prepare(
	    st,
	    "SELECT e.role, e.consent, p.external_id FROM people p LEFT JOIN enrollments e "
	    "ON e.person_id = p.id AND e.program_id = ?1 WHERE p.id = ?2",
	    d);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, program_id);
	sqlite3_bind_int64(s, 2, person);
	int rc = step_done(st, s, d, "reading an enrollment");
	if (rc == SQLITE_ROW) {
		const char *role = (const char *)sqlite3_column_text(s, 0);
		const char *who = (const char *)sqlite3_column_text(s, 2);
		const char *want = mentor ? "mentor" : "mentee";
		if (role == NULL)
			rc = diag_set(d, DIAG_INVALID, "%s is not enrolled in this program", who);
		else if (strcmp(role, "both") != 0 && strcmp(role, want) != 0)
			rc = diag_set(d, DIAG_INVALID, "%s is enrolled as a %s, not as a %s", who,
				      role, want);
		else if (!sqlite3_column_int(s, 1))
			rc = diag_set(d, DIAG_INVALID, "%s has not consented to this program", who);
		else
			rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = diag_set(d, DIAG_NOTFOUND, "no person #%lld", (long long)person);
	}
	sqlite3_finalize(s);
	return rc;
}

int
matches_pin(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee, const char *actor,
	    int64_t *id, struct diag *d)
{
	if (mentor == mentee)
		return diag_set(d, DIAG_INVALID, "a person cannot mentor themself");
	if (check_enrolled(st, program_id, mentor, 1, d) < 0 ||
	    check_enrolled(st, program_id, mentee, 0, d) < 0)
		return -1;
	if (store_begin(st, d) < 0)
		return -1;
	struct match_row m;
	int rc = read_match(st,
			    "program_id = ?1 AND mentee_id = ?2 AND mentor_id <> ?3 AND status IN "
			    "('approved', 'active')",
			    program_id, mentee, mentor, &m, d);
	if (rc == 1)
		rc = diag_set(d, DIAG_CONFLICT,
			      "the mentee already has %s match #%lld with someone else; reject it "
			      "first",
			      m.status, (long long)m.id);
	if (rc < 0)
		goto fail;
	rc = exec_bound(st,
			"DELETE FROM matches WHERE program_id = ?1 AND mentee_id = ?2 AND status = "
			"'proposed' AND pinned = 0 AND mentor_id <> ?3",
			program_id, mentee, mentor, d);
	if (rc < 0)
		goto fail;
	rc = read_match(st,
			"program_id = ?1 AND mentor_id = ?2 AND mentee_id = ?3 AND status IN "
			"('proposed', 'approved', 'active')",
			program_id, mentor, mentee, &m, d);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		*id = m.id;
		if (set_status(st, m.id, strcmp(m.status, "active") == 0 ? "active" : "approved", 1,
			       actor, d) < 0)
			goto fail;
	} else {
		char now[STORE_TIME_MAX];
		store_timestamp(st, now);
		sqlite3_stmt *s = store_prepare(
		    st,
		    "INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, "
		    "explanation, created_at, decided_at, decided_by) VALUES (?1, ?2, ?3, "
		    "'approved', 1, '{\"pinned\":true}', ?4, ?4, ?5)",
		    d);
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, program_id);
		sqlite3_bind_int64(s, 2, mentor);
		sqlite3_bind_int64(s, 3, mentee);
		sqlite3_bind_text(s, 4, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 5, actor, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_error(st, d, "pinning");
		sqlite3_finalize(s);
		if (rc < 0)
			goto fail;
		*id = sqlite3_last_insert_rowid(store_db(st));
	}
	if (add_event(st, "match.pinned", actor, mentee, program_id,
		      json_pack("{s:I}", "match_id", (json_int_t)*id), d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

int
matches_veto(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
	     const char *reason, const char *actor, struct diag *d)
{
	if (store_begin(st, d) < 0)
		return -1;
	char now[STORE_TIME_MAX];
	store_timestamp(st, now);
	sqlite3_stmt *s =
	    store_prepare(st,
			  "INSERT INTO vetoes (program_id, mentor_id, mentee_id, reason, "
			  "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
			  d);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, program_id);
	sqlite3_bind_int64(s, 2, mentor);
	sqlite3_bind_int64(s, 3, mentee);
	sqlite3_bind_text(s, 4, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		diag_set(d, DIAG_CONFLICT, "this pair is already vetoed in the program");
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		store_error(st, d, "recording the veto");
		goto fail;
	}
	struct match_row m;
	for (;;) {
		int found = read_match(st,
				       "program_id = ?1 AND mentor_id = ?2 AND mentee_id = ?3 AND "
				       "status IN ('proposed', 'approved')",
				       program_id, mentor, mentee, &m, d);
		if (found < 0)
			goto fail;
		if (found == 0)
			break;
		if (set_status(st, m.id, "rejected", 0, actor, d) < 0)
			goto fail;
	}
	json_t *payload = json_pack("{s:I, s:I, s:s?}", "mentor_id", (json_int_t)mentor,
				    "mentee_id", (json_int_t)mentee, "reason", reason);
	if (add_event(st, "match.vetoed", actor, mentee, program_id, payload, d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

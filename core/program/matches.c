/*
 * matches: storing proposals, reviewing matches. See matches.h for the rules.
 */
#include "program/matches.h"

#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "program/config.h"
#include "program/explain.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- small helpers ---------------------------------------------------------------- */

/*
 * Prepares sql under NAME and binds ?1..?n to the n integers of v (a statement
 * may take fewer: the extra values are not bound). 0 or -1; s is finalized on
 * failure.
 */
static int
prepare_ids(struct stmt *s, struct store *st, const char *name, const char *sql, const int64_t *v,
	    int n, struct diag *d)
{
	if (stmt_prepare(s, st, name, sql, d) < 0)
		return -1;
	int np = stmt_param_count(s);
	for (int i = 0; i < n && i < np; i++)
		if (stmt_bind_int64(s, i + 1, v[i], d) < 0) {
			stmt_finalize(s);
			return -1;
		}
	return 0;
}

/* 0 found (*id set), 1 not found, -1 error. */
static int
lookup_id(struct store *st, const char *sql, const char *key, int64_t *id, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "lookup", sql, d);
	if (rc == 0)
		rc = stmt_bind_text(&s, 1, key, d);
	if (rc == 0)
		rc = stmt_step(&s, d);
	if (rc == STMT_ROW)
		*id = stmt_int64(&s, 0);
	stmt_finalize(&s);
	return rc == STMT_ROW ? 0 : rc == STMT_DONE ? 1 : -1;
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

/* Appends an event (payload: a JSON object, taken over) through the events module. */
static int
add_event(struct store *st, const char *kind, const char *actor, int64_t subject,
	  int64_t program_id, json_t *payload, struct diag *d)
{
	char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct event ev = {.kind = kind,
			   .actor = actor,
			   .subject_id = subject > 0 ? subject : 0,
			   .program_id = program_id,
			   .payload_json = text};
	int rc = events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

/* Binds and inserts one proposal; its explanation carries the run id. */
static int
insert_proposal(struct stmt *s, const struct cohort *c, const struct policy *pol,
		const struct solve_pair *p, const char *run_id, struct diag *d)
{
	json_t *ex = explain_pair(pol, c, p->mentor, p->mentee, p->lua);
	if (ex)
		json_object_set_new(ex, "run_id", json_string(run_id));
	char *text = ex ? json_dumps(ex, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(ex);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc = stmt_bind_int64(s, 1, c->program_id, d) ||
			 stmt_bind_int64(s, 2, c->people[c->mentors[p->mentor].person].id, d) ||
			 stmt_bind_int64(s, 3, c->people[c->mentees[p->mentee].person].id, d) ||
			 stmt_bind_double(s, 4, p->score, d) || stmt_bind_text(s, 5, text, d) ||
			 stmt_run(s, d)
		     ? -1
		     : 0;
	free(text);
	return rc;
}

static int
insert_proposals(struct store *st, const struct cohort *c, const struct policy *pol,
		 const struct solve_result *res, const char *run_id, int *nstored, struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) < 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int rc =
	    stmt_prepare(&s, st, "storing a proposal",
			 "INSERT INTO matches (program_id, mentor_id, mentee_id, status, "
			 "pinned, score, explanation, policy_name, policy_version, run_id, "
			 "created_at) VALUES (?1, ?2, ?3, 'proposed', 0, ?4, ?5, ?6, ?7, ?8, ?9)",
			 d);
	if (rc == 0)
		rc = stmt_bind_text(&s, 6, pol->name, d) ||
			     stmt_bind_text(&s, 7, pol->version, d) ||
			     stmt_bind_text(&s, 8, run_id, d) || stmt_bind_text(&s, 9, now, d)
			 ? -1
			 : 0;
	for (int i = 0; rc == 0 && i < res->npairs; i++) {
		if (res->pairs[i].kept)
			continue;
		rc = insert_proposal(&s, c, pol, &res->pairs[i], run_id, d);
		if (rc == 0)
			(*nstored)++;
	}
	stmt_finalize(&s);
	return rc;
}

/* Runs an UPDATE or DELETE whose parameters are the given ids. */
static int
exec_ids(struct store *st, const char *name, const char *sql, const int64_t *v, int n,
	 struct diag *d)
{
	struct stmt s = {0};
	if (prepare_ids(&s, st, name, sql, v, n, d) < 0)
		return -1;
	int rc = stmt_run(&s, d);
	stmt_finalize(&s);
	return rc;
}

/*
 * Marks the program's unreviewed proposals as superseded by run_id. They are kept (not
 * deleted) so that an id a reviewer read keeps meaning that pair: acting on it fails and
 * names the run to look at instead.
 */
static int
supersede(struct store *st, int64_t program_id, const char *run_id, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "superseding unreviewed proposals",
			      "UPDATE matches SET status = 'superseded', superseded_by = ?2 "
			      "WHERE program_id = ?1 AND status = 'proposed' AND pinned = 0",
			      d) ||
			 stmt_bind_int64(&s, 1, program_id, d) ||
			 stmt_bind_text(&s, 2, run_id, d) || stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
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
	if (supersede(st, c->program_id, run_id, d) < 0 ||
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
    "m.decided_by, m.explanation, m.program_id, m.superseded_by, pm.department, "
    "pe.department "
    "FROM matches m JOIN people pm ON pm.id = m.mentor_id JOIN people pe ON pe.id = m.mentee_id ";

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
	 * {id, name} shape that scripts read. */
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
	return prepare_ids(s, st, name, sql, v, n, d);
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
	if (prepare_ids(&s, st, "reading a person",
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

/* ---- reviewing ----------------------------------------------------------------------- */

struct match_row {
	int64_t id, program_id, mentor, mentee;
	char status[16];
	int pinned;
	char superseded_by[64]; /* run id, "" when not superseded */
};

/* The first match (by id) WHERE where holds, with its integer parameters. 1 found,
 * 0 not found, -1 error. */
static int
read_match(struct store *st, const char *where, int64_t a, int64_t b, int64_t c3,
	   struct match_row *m, struct diag *d)
{
	char sql[512];
	snprintf(
	    sql, sizeof(sql),
	    "SELECT id, program_id, mentor_id, mentee_id, status, pinned, superseded_by FROM "
	    "matches WHERE %s "
	    "ORDER BY id LIMIT 1",
	    where);
	struct stmt s = {0};
	int64_t v[3] = {a, b, c3};
	if (prepare_ids(&s, st, "reading a match", sql, v, 3, d) < 0)
		return -1;
	int rc = stmt_step(&s, d);
	const char *status = NULL, *by = NULL;
	if (rc == STMT_ROW && (stmt_text(&s, 4, &status, d) < 0 || stmt_text(&s, 6, &by, d) < 0))
		rc = -1;
	if (rc == STMT_ROW) {
		m->id = stmt_int64(&s, 0);
		m->program_id = stmt_int64(&s, 1);
		m->mentor = stmt_int64(&s, 2);
		m->mentee = stmt_int64(&s, 3);
		snprintf(m->status, sizeof(m->status), "%s", status ? status : "");
		m->pinned = (int)stmt_int64(&s, 5);
		snprintf(m->superseded_by, sizeof(m->superseded_by), "%s", by ? by : "");
	}
	stmt_finalize(&s);
	return rc == STMT_ROW ? 1 : rc == STMT_DONE ? 0 : -1;
}

static int
set_status(struct store *st, int64_t id, const char *status, int pinned, const char *actor,
	   struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) < 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "updating a match",
			      "UPDATE matches SET status = ?2, pinned = ?3, decided_at = ?4, "
			      "decided_by = ?5 WHERE id = ?1",
			      d) ||
			 stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, status, d) ||
			 stmt_bind_int64(&s, 3, pinned, d) || stmt_bind_text(&s, 4, now, d) ||
			 stmt_bind_text(&s, 5, actor, d) || stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	if (rc < 0)
		diag_prefix(d, "match #%lld", (long long)id);
	return rc;
}

/* The error of acting on a superseded proposal: which run replaced it. */
static int
superseded_error(const struct match_row *m, struct diag *d)
{
	return diag_set(d, DIAG_CONFLICT,
			"match #%lld was superseded by run %s: it is no longer a proposal; see "
			"`tandem match list` for that run's proposals",
			(long long)m->id, m->superseded_by[0] ? m->superseded_by : "(unknown)");
}

int
matches_check_current(struct store *st, int64_t id, struct diag *d)
{
	struct match_row m;
	int rc = read_match(st, "id = ?1", id, 0, 0, &m, d);
	if (rc <= 0)
		return rc < 0 ? -1 : diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	return strcmp(m.status, "superseded") == 0 ? superseded_error(&m, d) : 0;
}

static int
decide_one(struct store *st, int64_t id, enum matches_decision what, const char *actor,
	   struct diag *d)
{
	struct match_row m;
	int rc = read_match(st, "id = ?1", id, 0, 0, &m, d);
	if (rc <= 0)
		return rc < 0 ? -1 : diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	if (strcmp(m.status, "superseded") == 0)
		return superseded_error(&m, d);
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

/*
 * The proposed matches of run_id (or of the program when run_id is NULL) into a new
 * array; a run with none left names the run that superseded it, or is unknown.
 */
static int
collect_proposed(struct store *st, int64_t program_id, const char *run_id, int64_t **ids, int *n,
		 struct diag *d)
{
	struct stmt s = {0};
	size_t cap = 0;
	*ids = NULL;
	*n = 0;
	int rc = stmt_prepare(&s, st, "reading the proposals",
			      "SELECT id FROM matches WHERE status = 'proposed' AND "
			      "(?1 IS NULL OR run_id = ?1) AND (?2 = 0 OR program_id = ?2) ORDER BY id",
			      d) ||
			 (run_id && stmt_bind_text(&s, 1, run_id, d) < 0) ||
			 stmt_bind_int64(&s, 2, program_id, d)
		     ? -1
		     : STMT_ROW;
	while (rc == STMT_ROW && (rc = stmt_step(&s, d)) == STMT_ROW) {
		if ((size_t)*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			int64_t *p = realloc(*ids, nc * sizeof(**ids));
			if (p == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*ids = p;
			cap = nc;
		}
		(*ids)[(*n)++] = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	if (rc == STMT_DONE && *n == 0 && run_id) {
		struct match_row m = {0};
		int64_t prog = program_id;
		struct stmt q = {0};
		rc = stmt_prepare(&q, st, "reading a run",
				  "SELECT id FROM matches WHERE run_id = ?1 AND (?2 = 0 OR program_id = "
				  "?2) AND status = 'superseded' ORDER BY id LIMIT 1",
				  d) || stmt_bind_text(&q, 1, run_id, d) ||
			     stmt_bind_int64(&q, 2, prog, d)
			 ? -1
			 : stmt_step(&q, d);
		int64_t sid = rc == STMT_ROW ? stmt_int64(&q, 0) : 0;
		stmt_finalize(&q);
		if (rc == STMT_ROW && read_match(st, "id = ?1", sid, 0, 0, &m, d) == 1)
			return diag_set(d, DIAG_CONFLICT,
					"run %s was superseded by run %s: its proposals can no longer "
					"be decided",
					run_id, m.superseded_by);
		if (rc == STMT_DONE)
			return diag_set(d, DIAG_NOTFOUND, "run %s has no proposals to decide",
					run_id);
	}
	if (rc != STMT_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
matches_decide_bulk(struct store *st, int64_t program_id, const char *run_id,
		    enum matches_decision what, const char *actor, int *n, struct diag *d)
{
	*n = 0;
	int64_t *ids = NULL;
	if (store_begin(st, d) < 0)
		return -1;
	int rc = collect_proposed(st, program_id, run_id, &ids, n, d);
	if (rc == 0)
		rc = matches_decide(st, ids, *n, what, actor, d);
	free(ids);
	if (rc < 0) {
		store_rollback(st);
		*n = 0;
		return -1;
	}
	if (store_commit(st, d) < 0) {
		*n = 0;
		return -1;
	}
	return 0;
}

/* The role, consent and external id read by check_enrolled, judged. */
static int
judge_enrollment(struct stmt *s, int mentor, struct diag *d)
{
	const char *role, *who;
	if (stmt_text(s, 0, &role, d) < 0 || stmt_text(s, 2, &who, d) < 0)
		return -1;
	const char *want = mentor ? "mentor" : "mentee";
	if (role == NULL)
		return diag_set(d, DIAG_INVALID, "%s is not enrolled in this program", who);
	if (strcmp(role, "both") != 0 && strcmp(role, want) != 0)
		return diag_set(d, DIAG_INVALID, "%s is enrolled as a %s, not as a %s", who, role,
				want);
	if (!stmt_int64(s, 1))
		return diag_set(d, DIAG_INVALID, "%s has not consented to this program", who);
	return 0;
}

/* Checks an enrollment of a person in a program with a role on the wanted side. */
static int
check_enrolled(struct store *st, int64_t program_id, int64_t person, int mentor, struct diag *d)
{
	struct stmt s = {0};
	int64_t v[2] = {program_id, person};
	if (prepare_ids(&s, st, "reading an enrollment",
			"SELECT e.role, e.consent, p.external_id FROM people p LEFT JOIN "
			"enrollments e ON e.person_id = p.id AND e.program_id = ?1 WHERE p.id = ?2",
			v, 2, d) < 0)
		return -1;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW)
		rc = judge_enrollment(&s, mentor, d);
	else if (rc == STMT_DONE)
		rc = diag_set(d, DIAG_NOTFOUND, "no person #%lld", (long long)person);
	stmt_finalize(&s);
	return rc;
}

/* The checks pin and veto share: two different people, each enrolled with consent on
 * the side they are given for. */
static int
check_pair(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee, struct diag *d)
{
	if (mentor == mentee)
		return diag_set(d, DIAG_INVALID, "a person cannot mentor themself");
	if (check_enrolled(st, program_id, mentor, 1, d) < 0 ||
	    check_enrolled(st, program_id, mentee, 0, d) < 0)
		return -1;
	return 0;
}

/* A new approved, pinned match of the pair; *id = its id. */
static int
insert_pinned(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
	      const char *actor, int64_t *id, struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) < 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int64_t v[3] = {program_id, mentor, mentee};
	int rc =
	    prepare_ids(&s, st, "pinning",
			"INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, "
			"explanation, created_at, decided_at, decided_by) VALUES (?1, ?2, ?3, "
			"'approved', 1, '{\"pinned\":true}', ?4, ?4, ?5)",
			v, 3, d);
	if (rc < 0)
		return -1;
	rc = stmt_bind_text(&s, 4, now, d) || stmt_bind_text(&s, 5, actor, d) || stmt_run(&s, d)
		 ? -1
		 : 0;
	stmt_finalize(&s);
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

int
matches_pin(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee, const char *actor,
	    int64_t *id, struct diag *d)
{
	if (check_pair(st, program_id, mentor, mentee, d) < 0)
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
	int64_t v[3] = {program_id, mentee, mentor};
	rc = exec_ids(st, "dropping the mentee's other proposals",
		      "DELETE FROM matches WHERE program_id = ?1 AND mentee_id = ?2 AND status = "
		      "'proposed' AND pinned = 0 AND mentor_id <> ?3",
		      v, 3, d);
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
	} else if (insert_pinned(st, program_id, mentor, mentee, actor, id, d) < 0) {
		goto fail;
	}
	if (add_event(st, "match.pinned", actor, mentee, program_id,
		      json_pack("{s:I}", "match_id", (json_int_t)*id), d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

/* The veto row; DIAG_CONFLICT when the pair is vetoed already. */
static int
record_veto(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
	    const char *reason, struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) < 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int64_t v[3] = {program_id, mentor, mentee};
	if (prepare_ids(&s, st, "recording the veto",
			"INSERT INTO vetoes (program_id, mentor_id, mentee_id, reason, created_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5)",
			v, 3, d) < 0)
		return -1;
	int rc = stmt_bind_text(&s, 4, reason, d) || stmt_bind_text(&s, 5, now, d) ? -1 : 0;
	if (rc == 0 && (rc = stmt_run(&s, d)) < 0 && d && d->code == DIAG_CONFLICT)
		diag_set(d, DIAG_CONFLICT, "this pair is already vetoed in the program");
	stmt_finalize(&s);
	return rc;
}

int
matches_veto(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
	     const char *reason, const char *actor, int *nrejected, struct diag *d)
{
	*nrejected = 0;
	if (check_pair(st, program_id, mentor, mentee, d) < 0)
		return -1;
	if (store_begin(st, d) < 0)
		return -1;
	if (record_veto(st, program_id, mentor, mentee, reason, d) < 0)
		goto fail;
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
		(*nrejected)++;
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

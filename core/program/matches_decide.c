/*
 * matches_decide: the review of matches: approve, reject (by ids, a run or a
 * program, all or nothing), pin and veto. See matches.h for the rules.
 */
#include "program/matches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program/matches_internal.h"
#include "store/stmt.h"
#include "store/store.h"

/* Runs an UPDATE or DELETE whose parameters are the given ids. */
static int
exec_ids(struct store *st, const char *name, const char *sql, const int64_t *v, int n,
	 struct diag *d)
{
	struct stmt s = {0};
	if (matches__prepare_ids(&s, st, name, sql, v, n, d) < 0)
		return -1;
	int rc = stmt_run(&s, d);
	stmt_finalize(&s);
	return rc;
}

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
	if (matches__prepare_ids(&s, st, "reading a match", sql, v, 3, d) < 0)
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
	return matches__add_event(st, what == MATCHES_APPROVE ? "match.approved" : "match.rejected", actor,
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
	if (matches__prepare_ids(&s, st, "reading an enrollment",
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
	    matches__prepare_ids(&s, st, "pinning",
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
	if (matches__add_event(st, "match.pinned", actor, mentee, program_id,
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
	if (matches__prepare_ids(&s, st, "recording the veto",
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
	if (matches__add_event(st, "match.vetoed", actor, mentee, program_id, payload, d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

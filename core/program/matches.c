/*
 * matches: storing a run's proposals, and finding people and programs by name.
 * See matches.h for the rules; reading matches back is matches_read.c, reviewing
 * them matches_decide.c, the helpers the three share matches_internal.h.
 */
#include "program/matches.h"

#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "program/config.h"
#include "program/explain.h"
#include "program/matches_internal.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- small helpers ---------------------------------------------------------------- */

int
matches__prepare_ids(struct stmt *s, struct store *st, const char *name, const char *sql,
		     const int64_t *v, int n, struct diag *d)
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

int
matches__add_event(struct store *st, const char *kind, const char *actor, int64_t subject,
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

/*
 * Whether one member of the cohort is still what cohort_load saw: an active person
 * enrolled (this enrollment row) with consent. 0 yes, 1 no (*why says what changed),
 * -1 error.
 */
static int
member_changed(struct stmt *s, const struct cohort_member *m, const struct cohort_person *p,
	       const char **why, struct diag *d)
{
	if (stmt_reset(s, d) < 0 || stmt_bind_int64(s, 1, m->enrollment_id, d) < 0 ||
	    stmt_bind_int64(s, 2, p->id, d) < 0)
		return -1;
	int rc = stmt_step(s, d);
	if (rc == STMT_DONE) {
		*why = "was erased or unenrolled";
		return 1;
	}
	if (rc != STMT_ROW)
		return -1;
	if (stmt_int64(s, 0) != 1) {
		*why = "withdrew consent";
		return 1;
	}
	if (stmt_int64(s, 1) != 1) {
		*why = "is no longer active";
		return 1;
	}
	return 0;
}

/*
 * Inside the run's write transaction: the cohort was loaded before the run computed
 * (seconds to minutes earlier, without a lock), so a person may have been erased or
 * unenrolled meanwhile. Their proposal would then fail a foreign key with a message
 * that names nobody; this names them instead, and the caller rolls back.
 */
static int
check_cohort(struct store *st, const struct cohort *c, struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "checking the cohort",
			 "SELECT e.consent = 1, p.status = 'active' FROM enrollments e JOIN people "
			 "p ON p.id = e.person_id WHERE e.id = ?1 AND e.person_id = ?2",
			 d) < 0)
		return -1;
	int rc = 0;
	for (int side = 0; rc == 0 && side < 2; side++) {
		const struct cohort_member *v = side ? c->mentees : c->mentors;
		int n = side ? c->nmentees : c->nmentors;
		for (int i = 0; rc == 0 && i < n; i++) {
			const struct cohort_person *p = &c->people[v[i].person];
			const char *why = NULL;
			rc = member_changed(&s, &v[i], p, &why, d);
			if (rc == 1)
				rc = diag_set(d, DIAG_CONFLICT,
					      "person %s %s while the run computed; nothing was "
					      "stored; run `tandem match run --program %s` again",
					      p->external_id ? p->external_id : "?", why,
					      c->program ? c->program : "?");
		}
	}
	stmt_finalize(&s);
	return rc;
}

/*
 * A rematch touches only the proposals of its own mentees: those of the cohort that no
 * kept pair holds (the freed ones). With count set, adds how many unreviewed proposals
 * they have to *n; else supersedes them by run_id.
 */
static int
rematch_scope(struct store *st, const struct cohort *c, const char *run_id, int count, int *n,
	      struct diag *d)
{
	char *kept = calloc((size_t)c->nmentees + 1, 1);
	if (kept == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int k = 0; k < c->nkept; k++)
		kept[c->kept[k].mentee] = 1;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "the unreviewed proposals of the freed mentees",
			      count ? "SELECT count(*) FROM matches WHERE program_id = ?1 AND "
				      "status = 'proposed' AND pinned = 0 AND mentee_id = ?2"
				    : "UPDATE matches SET status = 'superseded', superseded_by = ?3 "
				      "WHERE program_id = ?1 AND status = 'proposed' AND pinned = 0 "
				      "AND mentee_id = ?2",
			      d) ||
			 stmt_bind_int64(&s, 1, c->program_id, d) ||
			 (!count && stmt_bind_text(&s, 3, run_id, d))
		     ? -1
		     : 0;
	for (int i = 0; rc == 0 && i < c->nmentees; i++) {
		if (kept[i])
			continue;
		rc = stmt_reset(&s, d) ||
			     stmt_bind_int64(&s, 2, c->people[c->mentees[i].person].id, d)
			 ? -1
			 : 0;
		if (rc == 0 && count) {
			rc = stmt_step(&s, d) == STMT_ROW ? 0 : -1;
			if (rc == 0)
				*n += (int)stmt_int64(&s, 0);
		} else if (rc == 0) {
			rc = stmt_run(&s, d);
		}
	}
	stmt_finalize(&s);
	free(kept);
	return rc < 0 ? -1 : 0;
}

/* The program's unreviewed proposals: what a run supersedes. */
static int
count_current(struct store *st, int64_t program_id, int *n, struct diag *d)
{
	struct stmt s = {0};
	int rc = matches__prepare_ids(&s, st, "counting the unreviewed proposals",
				      "SELECT count(*) FROM matches WHERE program_id = ?1 AND "
				      "status = 'proposed' AND pinned = 0",
				      &program_id, 1, d);
	if (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		*n = (int)stmt_int64(&s, 0);
		rc = 0;
	} else if (rc == STMT_DONE) {
		rc = diag_set(d, DIAG_INTERNAL, "counting the unreviewed proposals: no row");
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

/* The --replace rule (matches.h): refuses a run that would replace the program's
 * unreviewed proposals with none or with fewer than half as many. */
static int
guard(const struct cohort *c, const struct policy *pol, const struct solve_result *res,
      struct matches_store *out, struct diag *d)
{
	if (out->replace)
		return 0;
	if (res->allowed == 0 && res->nunmatched > 0 && c->nmentors > 0) {
		out->refused = MATCHES_NO_PAIR;
		return diag_set(d, DIAG_CONFLICT,
				"policy %s %s allows no pair for the %d mentees left to match; %d "
				"unreviewed proposals of %s are left in place and nothing was stored",
				pol->name, pol->version, res->nunmatched, out->ncurrent,
				c->program ? c->program : "?");
	}
	if (out->ncurrent > 0 && 2 * (int64_t)out->nproposed < out->ncurrent) {
		out->refused = MATCHES_FEWER;
		return diag_set(d, DIAG_CONFLICT,
				"policy %s %s proposes %d pairs, fewer than half of the %d "
				"unreviewed proposals of %s; they are left in place and nothing "
				"was stored",
				pol->name, pol->version, out->nproposed, out->ncurrent,
				c->program ? c->program : "?");
	}
	return 0;
}

int
matches_store_run(struct store *st, const struct cohort *c, const struct policy *pol,
		  const struct solve_result *res, const char *run_id, const char *actor,
		  struct matches_store *out, struct diag *d)
{
	out->nstored = out->ncurrent = out->nproposed = 0;
	out->refused = MATCHES_STORED;
	int kept = 0;
	for (int i = 0; i < res->npairs; i++)
		kept += res->pairs[i].kept;
	out->nproposed = res->npairs - kept;
	if (store_begin(st, d) < 0)
		return -1;
	if (check_cohort(st, c, d) < 0 ||
	    (out->rematch ? rematch_scope(st, c, NULL, 1, &out->ncurrent, d)
			  : count_current(st, c->program_id, &out->ncurrent, d)) < 0 ||
	    guard(c, pol, res, out, d) < 0)
		goto fail;
	/* A rematch with nothing to propose nor replace would store an empty run. */
	out->empty = out->rematch && out->nproposed == 0 && out->ncurrent == 0;
	if (out->empty) {
		store_rollback(st);
		return 0;
	}
	if ((out->rematch ? rematch_scope(st, c, run_id, 0, NULL, d)
			  : supersede(st, c->program_id, run_id, d)) < 0 ||
	    insert_proposals(st, c, pol, res, run_id, &out->nstored, d) < 0)
		goto fail;
	json_t *payload =
	    json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f}", "run_id", run_id, "policy", pol->name,
		      "policy_version", pol->version, "proposed", out->nstored, "kept", kept,
		      "unmatched", res->nunmatched, "total", res->total);
	if (payload && out->rematch)
		json_object_set_new(payload, "rematch", json_true());
	if (matches__add_event(st, "match.proposed", actor, 0, c->program_id, payload, d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	out->nstored = 0;
	return -1;
}

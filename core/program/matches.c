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
	if (matches__add_event(st, "match.proposed", actor, 0, c->program_id, payload, d) < 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	*nstored = 0;
	return -1;
}

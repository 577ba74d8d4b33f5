/*
 * http/routes_match: the matches of a program and their review over HTTP: the paged
 * listing, one match, approve/reject (one, or every proposal of a run), a run of the
 * program's policy, pins, vetoes and the explanation of any pair. The work is
 * program/match_run's and program/matches' (the functions `tandem match` calls); this
 * file reads arguments and answers (see routes_internal.h).
 *
 * A run executes the policy's plugin in its worker and waits for it on the loop's thread,
 * as `tandem match run` does in the CLI: other requests wait meanwhile (docs/http.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http/routes_internal.h"
#include "program/match_run.h"
#include "program/lifecycle.h"
#include "program/matches.h"

void
routes__get_matches(struct http_call *c)
{
	const char *program = http_query(c->req, "program");
	const char *status = http_query(c->req, "status");
	int64_t pid, after;
	int limit;
	if (program == NULL) {
		http_error(c->resp, 400, "program is required: /api/v1/matches?program=NAME");
		return;
	}
	if (routes__program(c, program, &pid) == NULL || http_limit(c, &limit) != 0 ||
	    routes__id_cursor(c, &after) != 0)
		return;
	static const char *const statuses[] = {"proposed", "approved", "rejected",
					       "active",   "ended",    "superseded"};
	int known = status == NULL;
	for (int i = 0; !known && i < 6; i++)
		known = strcmp(status, statuses[i]) == 0;
	if (!known) {
		http_error(c->resp, 400,
			   "status must be proposed, approved, rejected, active, ended or "
			   "superseded (got '%s')",
			   status);
		return;
	}
	struct diag d;
	diag_clear(&d);
	json_t *rows = matches_page_json(routes__store(c), pid, status, after, limit + 1, &d);
	static const char *const keep[] = {"program", "status", NULL};
	routes__page(c, rows, "id", limit, keep, &d);
}

void
routes__get_match(struct http_call *c)
{
	int64_t id;
	if (routes__id_param(c, 0, "match", &id) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	routes__answer(c, matches_get_json(routes__store(c), id, &d), &d);
}

/* After an approval or a pin: the approved matches of started programs become active at
 * once, as with the CLI (program/lifecycle.h). */
static int
activate_started(struct http_call *c, struct diag *d)
{
	if (routes__config(c) == NULL)
		return 0;
	return lifecycle_run_due(routes__store(c), routes__config(c), store_time(routes__store(c)),
				 NULL, NULL, d);
}

static void
decide(struct http_call *c, enum matches_decision what)
{
	int64_t id;
	if (routes__id_param(c, 0, "match", &id) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	if (matches_decide(routes__store(c), &id, 1, what, c->actor, &d) != 0 ||
	    (what == MATCHES_APPROVE && activate_started(c, &d) != 0)) {
		http_error_diag(c->resp, &d);
		return;
	}
	routes__answer(c, matches_get_json(routes__store(c), id, &d), &d);
}

void
routes__post_match_approve(struct http_call *c)
{
	decide(c, MATCHES_APPROVE);
}

void
routes__post_match_reject(struct http_call *c)
{
	decide(c, MATCHES_REJECT);
}

/* ---- runs -------------------------------------------------------------------------- */

/* The proposals the run stored (program's proposed matches of run_id), by id. */
static json_t *
run_proposals(struct store *st, int64_t program_id, const char *run_id, struct diag *d)
{
	json_t *all = matches_list_json(st, program_id, "proposed", d);
	json_t *out = all ? json_array() : NULL;
	size_t i;
	json_t *m;
	json_array_foreach(all, i, m)
	{
		const char *r = json_string_value(json_object_get(m, "run_id"));
		if (out != NULL && r != NULL && strcmp(r, run_id) == 0 &&
		    json_array_append(out, m) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	json_decref(all);
	if (all != NULL && out == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return out;
}

void
routes__post_run(struct http_call *c)
{
	int64_t pid;
	const struct config_program *prog = routes__program(c, c->params[0], &pid);
	json_t *body;
	if (prog == NULL || http_body_json(c, &body) != 0)
		return;
	const char *policy;
	int replace, rematch, dry, explain;
	if (routes__body_string(c, body, "policy", &policy) != 0 ||
	    routes__body_bool(c, body, "replace", &replace) != 0 ||
	    routes__body_bool(c, body, "rematch", &rematch) != 0 ||
	    routes__body_bool(c, body, "dry_run", &dry) != 0 ||
	    routes__body_bool(c, body, "explain", &explain) != 0) {
		json_decref(body);
		return;
	}
	struct match_run_ctx x = {.st = routes__store(c), .ws = routes__ws(c), .prog = prog,
				  .program_id = pid, .rematch = rematch};
	struct match_run run;
	struct diag d;
	diag_clear(&d);
	json_t *why = NULL, *doc = NULL, *props = NULL;
	if (match_run_solve(&x, policy, &run, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	if (!dry && match_run_store(&x, &run, c->actor, replace, &d) != 0) {
		http_error_diag(c->resp, &d);
		/* A refused run: the same facts as `match run --json` prints, under "refusal". */
		json_t *err = run.refusal ? json_loadb(c->resp->body, c->resp->body_len, 0, NULL) : NULL;
		if (err != NULL &&
		    json_object_set(json_object_get(err, "error"), "refusal", run.refusal) == 0)
			http_json(c->resp, 409, err);
		else
			json_decref(err);
		goto out;
	}
	if ((why = match_run_unmatched(&x, &run, &d)) == NULL ||
	    (!dry && (props = run_proposals(x.st, pid, run.run_id, &d)) == NULL)) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	doc = match_run_json(&run, explain, dry);
	if (doc == NULL || json_object_set(doc, "unmatched_reasons", why) != 0 ||
	    json_object_set(doc, "proposals", props ? props : json_null()) != 0 ||
	    json_object_set_new(doc, "stored", json_integer(dry ? 0 : run.nstored)) != 0) {
		http_error(c->resp, 500, "out of memory");
		goto out;
	}
	http_json(c->resp, dry ? 200 : 201, json_incref(doc));
out:
	json_decref(doc);
	json_decref(props);
	json_decref(why);
	match_run_fini(&run);
	json_decref(body);
}

static void
decide_run(struct http_call *c, enum matches_decision what)
{
	struct diag d;
	diag_clear(&d);
	int n = 0;
	if (matches_decide_bulk(routes__store(c), 0, c->params[0], what, c->actor, &n, &d) != 0 ||
	    (what == MATCHES_APPROVE && n > 0 && activate_started(c, &d) != 0)) {
		http_error_diag(c->resp, &d);
		return;
	}
	http_json(c->resp, 200,
		  json_pack("{s:s, s:i, s:s}", "action",
			    what == MATCHES_APPROVE ? "approved" : "rejected", "count", n, "run_id",
			    c->params[0]));
}

void
routes__post_run_approve(struct http_call *c)
{
	decide_run(c, MATCHES_APPROVE);
}

void
routes__post_run_reject(struct http_call *c)
{
	decide_run(c, MATCHES_REJECT);
}

/* ---- pins, vetoes, explanations ---------------------------------------------------- */

/* The mentor and mentee a body or the query names: 0 and their people ids, or -1 and an
 * error (422 when missing from a body, 400 from a query, 404 when unknown). */
static int
two_people(struct http_call *c, json_t *body, int64_t *mentor, int64_t *mentee,
	   const char **a, const char **b)
{
	if (body != NULL) {
		if (routes__body_string(c, body, "mentor", a) != 0 ||
		    routes__body_string(c, body, "mentee", b) != 0)
			return -1;
		if (*a == NULL || *b == NULL)
			return http_error(c->resp, 422,
					  "fields 'mentor' and 'mentee' are required (external ids "
					  "or e-mail addresses)");
	} else {
		*a = http_query(c->req, "mentor");
		*b = http_query(c->req, "mentee");
		if (*a == NULL || *b == NULL)
			return http_error(c->resp, 400,
					  "mentor and mentee are required: ?mentor=ID&mentee=ID");
	}
	struct diag d;
	diag_clear(&d);
	if (matches_find_person(routes__store(c), *a, mentor, &d) != 0 ||
	    matches_find_person(routes__store(c), *b, mentee, &d) != 0)
		return http_error_diag(c->resp, &d);
	return 0;
}

void
routes__post_pin(struct http_call *c)
{
	int64_t pid, mentor, mentee, id = 0;
	const char *a, *b;
	json_t *body;
	if (routes__program(c, c->params[0], &pid) == NULL || http_body_json(c, &body) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	if (two_people(c, body, &mentor, &mentee, &a, &b) == 0) {
		json_t *arr = NULL;
		if (matches_pin(routes__store(c), pid, mentor, mentee, c->actor, &id, &d) != 0 ||
		    activate_started(c, &d) != 0 ||
		    (arr = matches_ids_json(routes__store(c), &id, 1, &d)) == NULL)
			http_error_diag(c->resp, &d);
		else
			http_json(c->resp, 200, json_incref(json_array_get(arr, 0)));
		json_decref(arr);
	}
	json_decref(body);
}

void
routes__post_veto(struct http_call *c)
{
	int64_t pid, mentor, mentee;
	const char *a, *b, *reason = NULL;
	json_t *body;
	if (routes__program(c, c->params[0], &pid) == NULL || http_body_json(c, &body) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	int nrej = 0;
	if (two_people(c, body, &mentor, &mentee, &a, &b) != 0 ||
	    routes__body_string(c, body, "reason", &reason) != 0)
		goto out;
	if (matches_veto(routes__store(c), pid, mentor, mentee, reason, c->actor, &nrej, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	json_t *pa = matches_person_json(routes__store(c), mentor, &d);
	json_t *pb = pa ? matches_person_json(routes__store(c), mentee, &d) : NULL;
	if (pb == NULL) {
		json_decref(pa);
		http_error_diag(c->resp, &d);
		goto out;
	}
	http_json(c->resp, 200,
		  json_pack("{s:s, s:s, s:o, s:o, s:s?, s:i}", "action", "vetoed", "program",
			    c->params[0], "mentor", pa, "mentee", pb, "reason", reason, "rejected",
			    nrej));
out:
	json_decref(body);
}

void
routes__get_explain(struct http_call *c)
{
	int64_t pid, mentor, mentee;
	const char *a, *b;
	const struct config_program *prog = routes__program(c, c->params[0], &pid);
	if (prog == NULL || two_people(c, NULL, &mentor, &mentee, &a, &b) != 0)
		return;
	struct match_run_ctx x = {.st = routes__store(c), .ws = routes__ws(c), .prog = prog,
				  .program_id = pid};
	struct match_run_report r;
	struct diag d;
	diag_clear(&d);
	if (match_run_explain(&x, http_query(c->req, "policy"), mentor, mentee, a, b, &r, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	http_json(c->resp, 200, json_incref(r.json));
	match_run_report_fini(&r);
}

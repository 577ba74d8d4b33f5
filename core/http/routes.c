/*
 * http/routes: the route table of the JSON API and its handlers. Each handler reads its
 * arguments, calls the domain function the CLI's command calls (and the JSON the CLI's
 * --json prints: people_*_json, matches_*_json, session_row_json, sched_job_json), and
 * answers through router.h. docs/openapi.yaml describes exactly this table
 * (tests/e2e/test_http.sh compares it with `tandem serve --routes`).
 *
 * Lists are pages: {"data": [...], "next": URL or null}; the cursor carries the last
 * key of the page (people and enrollments: the external id; matches: the id; sessions:
 * "START.ID", START in seconds since the epoch).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "program/config.h"
#include "program/enroll.h"
#include "program/matches.h"
#include "program/people.h"
#include "sched/job.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"

static struct store *
store_of(struct http_call *c)
{
	return ((struct http_api *)c->ud)->o.st;
}

/* A positive integer path parameter (an id): 0 and *id, or -1 and a 404. */
static int
id_param(struct http_call *c, int i, const char *what, int64_t *id)
{
	char *end;
	*id = 0;
	long long v = strtoll(c->params[i], &end, 10);
	if (*end != '\0' || v <= 0)
		return http_error(c->resp, 404, "no %s '%s' (ids are positive integers)", what,
				  c->params[i]);
	*id = v;
	return 0;
}

/* Answers a domain JSON value, or the diag when it is NULL. */
static void
answer(struct http_call *c, json_t *v, const struct diag *d)
{
	if (v == NULL)
		http_error_diag(c->resp, d);
	else
		http_json(c->resp, 200, v);
}

/* ---- health ------------------------------------------------------------------------ */

static void
get_healthz(struct http_call *c)
{
	char now[STORE_TIME_MAX] = "";
	store_timestamp(store_of(c), now);
	http_json(c->resp, 200,
		  json_pack("{sbssss}", "ok", 1, "version", TANDEM_VERSION, "time", now));
}

/* ---- people ------------------------------------------------------------------------ */

/* A page of rows keyed by a text column: fetches limit + 1 to know whether more follow. */
static void
text_page(struct http_call *c, json_t *rows, const char *key_field, int limit,
	  const char *const *keep, const struct diag *d)
{
	if (rows == NULL) {
		http_error_diag(c->resp, d);
		return;
	}
	const char *next = NULL;
	char last[HTTP_PARAM_MAX] = "";
	if (json_array_size(rows) > (size_t)limit) {
		json_array_remove(rows, (size_t)limit);
		json_t *k = json_object_get(json_array_get(rows, (size_t)limit - 1), key_field);
		snprintf(last, sizeof(last), "%s", json_string_value(k) ? json_string_value(k) : "");
		next = last;
	}
	http_page(c, rows, keep, limit, next);
}

static void
get_people(struct http_call *c)
{
	int limit;
	char after[HTTP_CURSOR_MAX];
	if (http_limit(c, &limit) != 0 || http_cursor(c, after, sizeof(after)) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *rows = people_page_json(store_of(c), after, limit + 1, &d);
	text_page(c, rows, "id", limit, NULL, &d);
}

static void
get_person(struct http_call *c)
{
	struct diag d;
	diag_clear(&d);
	answer(c, people_show_json(store_of(c), c->params[0], &d), &d);
}

static void
get_person_export(struct http_call *c)
{
	struct diag d;
	diag_clear(&d);
	answer(c, people_export_json(store_of(c), c->params[0], &d), &d);
}

/* ---- programs and enrollments ------------------------------------------------------ */

static void
get_programs(struct http_call *c)
{
	const struct config *cfg = ((struct http_api *)c->ud)->o.cfg;
	json_t *arr = json_array();
	for (int i = 0; arr != NULL && i < cfg->nprograms; i++)
		if (json_array_append_new(arr, config_program_value(&cfg->programs[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr == NULL) {
		http_error(c->resp, 500, "out of memory");
		return;
	}
	http_page(c, arr, NULL, HTTP_LIMIT_MAX, NULL);
}

static const struct config_program *
program_param(struct http_call *c, const char *name, int64_t *id)
{
	struct diag d;
	diag_clear(&d);
	const struct config *cfg = ((struct http_api *)c->ud)->o.cfg;
	const struct config_program *p = config_find_program(cfg, name, &d);
	if (p == NULL) {
		d.code = DIAG_NOTFOUND;
		http_error_diag(c->resp, &d);
		return NULL;
	}
	if (id != NULL && matches_program_id(store_of(c), name, id, &d) != 0) {
		http_error_diag(c->resp, &d);
		return NULL;
	}
	return p;
}

static void
get_program(struct http_call *c)
{
	const struct config_program *p = program_param(c, c->params[0], NULL);
	if (p != NULL)
		answer(c, config_program_value(p), NULL);
}

static void
get_enrollments(struct http_call *c)
{
	int64_t id;
	int limit;
	char after[HTTP_CURSOR_MAX];
	if (program_param(c, c->params[0], &id) == NULL || http_limit(c, &limit) != 0 ||
	    http_cursor(c, after, sizeof(after)) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *rows = enroll_page_json(store_of(c), id, after, limit + 1, &d);
	text_page(c, rows, "person", limit, NULL, &d);
}

/* ---- matches ----------------------------------------------------------------------- */

static void
get_matches(struct http_call *c)
{
	const char *program = http_query(c->req, "program");
	const char *status = http_query(c->req, "status");
	int64_t pid, after = 0;
	int limit;
	char cur[HTTP_CURSOR_MAX];
	if (program == NULL) {
		http_error(c->resp, 400, "program is required: /api/v1/matches?program=NAME");
		return;
	}
	if (program_param(c, program, &pid) == NULL || http_limit(c, &limit) != 0 ||
	    http_cursor(c, cur, sizeof(cur)) != 0)
		return;
	if (cur[0] != '\0' && sscanf(cur, "%" SCNd64, &after) != 1) {
		http_error(c->resp, 400, "cursor is not one this API gave");
		return;
	}
	struct diag d;
	diag_clear(&d);
	json_t *all = matches_list_json(store_of(c), pid, status, &d);
	if (all == NULL) {
		http_error_diag(c->resp, &d);
		return;
	}
	/* The program's matches are ordered by id: the page is the slice after the cursor. */
	json_t *page = json_array();
	char next[32] = "";
	size_t i;
	json_t *m;
	json_array_foreach(all, i, m)
	{
		json_int_t id = json_integer_value(json_object_get(m, "id"));
		if (id <= after)
			continue;
		if (json_array_size(page) == (size_t)limit) {
			json_int_t last = json_integer_value(
			    json_object_get(json_array_get(page, (size_t)limit - 1), "id"));
			snprintf(next, sizeof(next), "%lld", (long long)last);
			break;
		}
		json_array_append(page, m);
	}
	json_decref(all);
	static const char *const keep[] = {"program", "status", NULL};
	http_page(c, page, keep, limit, next[0] ? next : NULL);
}

static void
get_match(struct http_call *c)
{
	int64_t id;
	if (id_param(c, 0, "match", &id) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	answer(c, matches_get_json(store_of(c), id, &d), &d);
}

static void
decide(struct http_call *c, enum matches_decision what)
{
	int64_t id;
	if (id_param(c, 0, "match", &id) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	if (matches_decide(store_of(c), &id, 1, what, c->actor, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	answer(c, matches_get_json(store_of(c), id, &d), &d);
}

static void
post_match_approve(struct http_call *c)
{
	decide(c, MATCHES_APPROVE);
}

static void
post_match_reject(struct http_call *c)
{
	decide(c, MATCHES_REJECT);
}

/* ---- sessions ---------------------------------------------------------------------- */

/* from/to: a date (00:00 UTC; `to` takes the whole day) or a UTC time. */
static int
range_param(struct http_call *c, const char *name, int is_to, time_t *out)
{
	const char *s = http_query(c->req, name);
	*out = 0;
	if (s == NULL)
		return 0;
	struct diag d;
	diag_clear(&d);
	if (strlen(s) == 10 && tz_date_valid(s)) {
		char t[24];
		snprintf(t, sizeof(t), "%sT00:00Z", s);
		if (session_parse_time(t, NULL, out, &d) == 0) {
			*out += is_to ? 86400 : 0;
			return 0;
		}
	} else if (session_parse_time(s, NULL, out, &d) == 0) {
		return 0;
	}
	return http_error(c->resp, 400,
			  "%s wants a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS]Z (got '%s')",
			  name, s);
}

static void
get_sessions(struct http_call *c)
{
	struct session_filter f = {.status = -1};
	struct diag d;
	diag_clear(&d);
	char cur[HTTP_CURSOR_MAX];
	const char *program = http_query(c->req, "program");
	const char *person = http_query(c->req, "person");
	const char *status = http_query(c->req, "status");
	if (http_limit(c, &f.limit) != 0 || http_cursor(c, cur, sizeof(cur)) != 0 ||
	    range_param(c, "from", 0, &f.from) != 0 || range_param(c, "to", 1, &f.until) != 0)
		return;
	int page = f.limit;
	long long start = 0, id = 0;
	char extra;
	if (cur[0] != '\0') {
		if (sscanf(cur, "%lld.%lld%c", &start, &id, &extra) != 2 || id <= 0) {
			http_error(c->resp, 400, "cursor is not one this API gave");
			return;
		}
		f.after_start = (time_t)start;
		f.after_id = id;
	}
	if (program != NULL && program_param(c, program, &f.program_id) == NULL)
		return;
	if (person != NULL && matches_find_person(store_of(c), person, &f.person_id, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	if (status != NULL) {
		enum session_status s;
		if (session_status_parse(status, &s, &d) != 0) {
			http_error(c->resp, 400, "status: %s", d.msg);
			return;
		}
		f.status = (int)s;
	}
	f.limit = page + 1;
	struct session_row *rows;
	size_t n;
	if (session_list(store_of(c), &f, &rows, &n, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	json_t *arr = json_array();
	size_t shown = n > (size_t)page ? (size_t)page : n;
	for (size_t i = 0; arr != NULL && i < shown; i++)
		if (json_array_append_new(arr, session_row_json(&rows[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	char next[48] = "";
	if (n > (size_t)page)
		snprintf(next, sizeof(next), "%lld.%lld", (long long)rows[shown - 1].start,
			 (long long)rows[shown - 1].id);
	session_rows_free(rows, n);
	if (arr == NULL) {
		http_error(c->resp, 500, "out of memory");
		return;
	}
	static const char *const keep[] = {"program", "person", "status", "from", "to", NULL};
	http_page(c, arr, keep, page, next[0] ? next : NULL);
}

/* The session as JSON (organizer's view), with extra fields merged in (may be NULL). */
static void
answer_session(struct http_call *c, int64_t id, json_t *extra)
{
	struct diag d;
	diag_clear(&d);
	struct session_row *r = NULL;
	if (session_get(store_of(c), id, 0, &r, &d) != 0) {
		json_decref(extra);
		http_error_diag(c->resp, &d);
		return;
	}
	json_t *v = session_row_json(r);
	session_rows_free(r, 1);
	if (v != NULL && extra != NULL)
		json_object_update(v, extra);
	json_decref(extra);
	answer(c, v, &d);
}

static void
get_session(struct http_call *c)
{
	int64_t id;
	if (id_param(c, 0, "session", &id) == 0)
		answer_session(c, id, NULL);
}

/* A string member of a body, or NULL; -1 and a 422 when it is there but not a string. */
static int
body_string(struct http_call *c, json_t *body, const char *key, const char **out)
{
	json_t *v = json_object_get(body, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return http_error(c->resp, 422, "field '%s' must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static void
post_session_checkin(struct http_call *c)
{
	int64_t id;
	json_t *body;
	if (id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	struct session_checkin ci = {.session_id = id, .actor = c->actor};
	const char *outcome, *person;
	struct diag d;
	diag_clear(&d);
	json_t *rating = json_object_get(body, "rating");
	json_t *share = json_object_get(body, "share_story");
	if (body_string(c, body, "outcome", &outcome) != 0 ||
	    body_string(c, body, "person", &person) != 0 ||
	    body_string(c, body, "notes", &ci.notes) != 0)
		goto out;
	if (outcome == NULL || (strcmp(outcome, "held") != 0 && strcmp(outcome, "missed") != 0)) {
		http_error(c->resp, 422, "field 'outcome' must be \"held\" or \"missed\"");
		goto out;
	}
	ci.outcome = outcome[0] == 'h' ? SESSION_OUTCOME_HELD : SESSION_OUTCOME_MISSED;
	if (rating != NULL && !json_is_null(rating)) {
		if (!json_is_integer(rating) || json_integer_value(rating) < 1 ||
		    json_integer_value(rating) > 5) {
			http_error(c->resp, 422, "field 'rating' must be an integer from 1 to 5");
			goto out;
		}
		ci.rating = (int)json_integer_value(rating);
	}
	if (share != NULL && !json_is_boolean(share)) {
		http_error(c->resp, 422, "field 'share_story' must be true or false");
		goto out;
	}
	ci.share_story = json_is_true(share);
	if (person == NULL && (ci.rating || ci.notes || ci.share_story)) {
		http_error(c->resp, 422,
			   "rating, notes and share_story need 'person' (they belong to one side)");
		goto out;
	}
	if (person != NULL && matches_find_person(store_of(c), person, &ci.person_id, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	int changed = 0;
	if (session_checkin(store_of(c), &ci, &changed, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	answer_session(c, id, json_pack("{sb}", "changed", changed));
out:
	json_decref(body);
}

static void
post_session_cancel(struct http_call *c)
{
	int64_t id;
	json_t *body;
	if (id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	const char *reason;
	struct diag d;
	diag_clear(&d);
	if (body_string(c, body, "reason", &reason) == 0) {
		if (session_cancel(store_of(c), id, reason, c->actor, &d) != 0)
			http_error_diag(c->resp, &d);
		else
			answer_session(c, id, NULL);
	}
	json_decref(body);
}

static void
post_session_reschedule(struct http_call *c)
{
	int64_t id, nid = 0;
	json_t *body;
	if (id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	const char *to, *zone;
	struct diag d;
	diag_clear(&d);
	struct session_row *r = NULL;
	time_t when;
	if (body_string(c, body, "to", &to) != 0 || body_string(c, body, "zone", &zone) != 0)
		goto out;
	if (to == NULL) {
		http_error(c->resp, 422, "field 'to' is required: \"YYYY-MM-DDTHH:MM\" in the "
					 "session's zone (or 'zone'), or a UTC time ending in Z");
		goto out;
	}
	if (session_get(store_of(c), id, 0, &r, &d) != 0 ||
	    session_parse_time(to, zone ? zone : r->zone, &when, &d) != 0 ||
	    session_reschedule(store_of(c), id, when, c->actor, &nid, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	answer_session(c, nid, json_pack("{sI}", "rescheduled_from_id", (json_int_t)id));
out:
	session_rows_free(r, r ? 1 : 0);
	json_decref(body);
}

/* ---- jobs -------------------------------------------------------------------------- */

static void
get_jobs(struct http_call *c)
{
	struct sched *s = ((struct http_api *)c->ud)->o.sched;
	if (s == NULL) {
		http_error(c->resp, 503, "the scheduler is not running in this server");
		return;
	}
	struct sched_job_info *v;
	size_t n;
	struct diag d;
	diag_clear(&d);
	if (sched_list(s, 5, &v, &n, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, sched_job_json(&v[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	sched_list_free(v, n);
	if (arr == NULL) {
		http_error(c->resp, 500, "out of memory");
		return;
	}
	http_page(c, arr, NULL, HTTP_LIMIT_MAX, NULL);
}

/* ---- the table --------------------------------------------------------------------- */

#define R HTTP_SCOPE_READ
#define M HTTP_SCOPE_MANAGE

const struct http_route http_routes[] = {
    {"GET", "/healthz", HTTP_SCOPE_NONE, get_healthz, "liveness: the server answers"},
    {"GET", "/api/v1/people", R, get_people, "people, by external id (paged)"},
    {"GET", "/api/v1/people/{id}", R, get_person, "one person (external id or e-mail)"},
    {"GET", "/api/v1/people/{id}/export", R, get_person_export,
     "every row about one person (data subject access)"},
    {"GET", "/api/v1/programs", R, get_programs, "the programs tandem.lua declares"},
    {"GET", "/api/v1/programs/{name}", R, get_program, "one program"},
    {"GET", "/api/v1/programs/{name}/enrollments", R, get_enrollments,
     "a program's enrollments, by person (paged)"},
    {"GET", "/api/v1/matches", R, get_matches, "a program's matches, by id (paged)"},
    {"GET", "/api/v1/matches/{id}", R, get_match, "one match with its explanation"},
    {"POST", "/api/v1/matches/{id}/approve", M, post_match_approve, "approve a proposal"},
    {"POST", "/api/v1/matches/{id}/reject", M, post_match_reject,
     "reject a proposal or an approved match"},
    {"GET", "/api/v1/sessions", R, get_sessions, "sessions, by start (paged, filtered)"},
    {"GET", "/api/v1/sessions/{id}", R, get_session, "one session"},
    {"POST", "/api/v1/sessions/{id}/checkin", M, post_session_checkin,
     "record that a session was held or missed"},
    {"POST", "/api/v1/sessions/{id}/cancel", M, post_session_cancel,
     "cancel a planned session"},
    {"POST", "/api/v1/sessions/{id}/reschedule", M, post_session_reschedule,
     "move a planned session"},
    {"GET", "/api/v1/jobs", R, get_jobs, "the service's jobs, their runs and counts"},
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);

/*
 * http/routes: the route table of the JSON API, the helpers its handlers share
 * (routes_internal.h), and the handlers of health, people, programs, enrollments and jobs.
 * Each handler reads its arguments, calls the domain function the CLI's command calls (and
 * the JSON the CLI's --json prints: people_*_json, matches_*_json, session_row_json,
 * sched_job_json), and answers through router.h. The other areas' handlers are in
 * routes_match.c, routes_session.c, routes_report.c and sse.c. docs/openapi.yaml
 * describes exactly this table (tests/e2e/test_http.sh compares it with `tandem serve
 * --routes`).
 *
 * Lists are pages: {"data": [...], "next": URL or null}; the cursor carries the last
 * key of the page (people and enrollments: the external id; matches, feedback and events:
 * the id; sessions: "START.ID", START in seconds since the epoch).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/routes_internal.h"
#include "program/config.h"
#include "program/enroll.h"
#include "program/matches.h"
#include "program/people.h"
#include "sched/job.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"

struct store *
routes__store(struct http_call *c)
{
	return ((struct http_api *)c->ud)->o.st;
}

const struct config *
routes__config(struct http_call *c)
{
	return ((struct http_api *)c->ud)->o.cfg;
}

const char *
routes__ws(struct http_call *c)
{
	return ((struct http_api *)c->ud)->o.ws;
}

int
routes__id_param(struct http_call *c, int i, const char *what, int64_t *id)
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

void
routes__answer(struct http_call *c, json_t *v, const struct diag *d)
{
	if (v == NULL)
		http_error_diag(c->resp, d);
	else
		http_json(c->resp, 200, v);
}

int
routes__body_string(struct http_call *c, json_t *body, const char *key, const char **out)
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

int
routes__body_bool(struct http_call *c, json_t *body, const char *key, int *out)
{
	json_t *v = json_object_get(body, key);
	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return http_error(c->resp, 422, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
routes__id_cursor(struct http_call *c, int64_t *after)
{
	char cur[HTTP_CURSOR_MAX];
	*after = 0;
	if (http_cursor(c, cur, sizeof(cur)) != 0)
		return -1;
	char extra;
	long long v;
	if (cur[0] != '\0' && (sscanf(cur, "%lld%c", &v, &extra) != 1 || v < 0))
		return http_error(c->resp, 400, "cursor is not one this API gave");
	*after = cur[0] ? v : 0;
	return 0;
}

/* ---- health ------------------------------------------------------------------------ */

static void
get_healthz(struct http_call *c)
{
	char now[STORE_TIME_MAX] = "";
	store_timestamp(routes__store(c), now);
	http_json(c->resp, 200,
		  json_pack("{sbssss}", "ok", 1, "version", TANDEM_VERSION, "time", now));
}

/* ---- people ------------------------------------------------------------------------ */

void
routes__page(struct http_call *c, json_t *rows, const char *key_field, int limit,
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
		if (json_is_integer(k))
			snprintf(last, sizeof(last), "%lld", (long long)json_integer_value(k));
		else
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
	json_t *rows = people_page_json(routes__store(c), after, limit + 1, &d);
	routes__page(c, rows, "id", limit, NULL, &d);
}

static void
get_person(struct http_call *c)
{
	struct diag d;
	diag_clear(&d);
	routes__answer(c, people_show_json(routes__store(c), c->params[0], &d), &d);
}

static void
get_person_export(struct http_call *c)
{
	struct diag d;
	diag_clear(&d);
	routes__answer(c, people_export_json(routes__store(c), c->params[0], &d), &d);
}

/* ---- programs and enrollments ------------------------------------------------------ */

static void
get_programs(struct http_call *c)
{
	const struct config *cfg = routes__config(c);
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

const struct config_program *
routes__program(struct http_call *c, const char *name, int64_t *id)
{
	struct diag d;
	diag_clear(&d);
	const struct config *cfg = routes__config(c);
	const struct config_program *p = config_find_program(cfg, name, &d);
	if (p == NULL) {
		d.code = DIAG_NOTFOUND;
		http_error_diag(c->resp, &d);
		return NULL;
	}
	if (id != NULL && matches_program_id(routes__store(c), name, id, &d) != 0) {
		http_error_diag(c->resp, &d);
		return NULL;
	}
	return p;
}

static void
get_program(struct http_call *c)
{
	const struct config_program *p = routes__program(c, c->params[0], NULL);
	if (p != NULL)
		routes__answer(c, config_program_value(p), NULL);
}

static void
get_enrollments(struct http_call *c)
{
	int64_t id;
	int limit;
	char after[HTTP_CURSOR_MAX];
	if (routes__program(c, c->params[0], &id) == NULL || http_limit(c, &limit) != 0 ||
	    http_cursor(c, after, sizeof(after)) != 0)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *rows = enroll_page_json(routes__store(c), id, after, limit + 1, &d);
	routes__page(c, rows, "person", limit, NULL, &d);
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
    {"GET", "/healthz", HTTP_SCOPE_NONE, get_healthz, "liveness: the server answers", 0},
    {"GET", "/api/v1/people", R, get_people, "people, by external id (paged)", 0},
    {"GET", "/api/v1/people/{id}", R, get_person, "one person (external id or e-mail)", 0},
    {"GET", "/api/v1/people/{id}/export", R, get_person_export,
     "every row about one person (data subject access)", 0},
    {"GET", "/api/v1/people/{id}/rewards", R, routes__get_person_rewards,
     "a person's reward ledger, oldest first", 0},
    {"GET", "/api/v1/programs", R, get_programs, "the programs tandem.lua declares", 0},
    {"GET", "/api/v1/programs/{name}", R, get_program, "one program", 0},
    {"GET", "/api/v1/programs/{name}/enrollments", R, get_enrollments,
     "a program's enrollments, by person (paged)", 0},
    {"POST", "/api/v1/programs/{name}/runs", M, routes__post_run,
     "run the program's matching policy and store its proposals", 0},
    {"POST", "/api/v1/programs/{name}/pins", M, routes__post_pin,
     "pin a pair: approved and kept by every later run", 0},
    {"POST", "/api/v1/programs/{name}/vetoes", M, routes__post_veto,
     "veto a pair: never proposed again in the program", 0},
    {"GET", "/api/v1/programs/{name}/explain", R, routes__get_explain,
     "why a pair scores what it scores under the policy", 0},
    {"GET", "/api/v1/programs/{name}/health", R, routes__get_health,
     "the program's pairs by health, with the reasons", 0},
    {"GET", "/api/v1/programs/{name}/reports/{plugin}", R, routes__get_report,
     "a report plugin's document in md, csv, json or html", 0},
    {"POST", "/api/v1/runs/{run}/approve", M, routes__post_run_approve,
     "approve every proposal of a run", 0},
    {"POST", "/api/v1/runs/{run}/reject", M, routes__post_run_reject,
     "reject every proposal of a run", 0},
    {"GET", "/api/v1/matches", R, routes__get_matches, "a program's matches, by id (paged)", 0},
    {"GET", "/api/v1/matches/{id}", R, routes__get_match, "one match with its explanation", 0},
    {"POST", "/api/v1/matches/{id}/approve", M, routes__post_match_approve,
     "approve a proposal", 0},
    {"POST", "/api/v1/matches/{id}/reject", M, routes__post_match_reject,
     "reject a proposal or an approved match", 0},
    {"GET", "/api/v1/sessions", R, routes__get_sessions, "sessions, by start (paged, filtered)", 0},
    {"GET", "/api/v1/sessions/{id}", R, routes__get_session, "one session", 0},
    {"POST", "/api/v1/sessions/{id}/checkin", M, routes__post_session_checkin,
     "record that a session was held or missed", 0},
    {"POST", "/api/v1/sessions/{id}/cancel", M, routes__post_session_cancel,
     "cancel a planned session", 0},
    {"POST", "/api/v1/sessions/{id}/reschedule", M, routes__post_session_reschedule,
     "move a planned session", 0},
    {"GET", "/api/v1/feedback", R, routes__get_feedback, "check-ins, by id (paged, filtered)", 0},
    {"POST", "/api/v1/feedback", M, routes__post_feedback, "a side's check-in of a session", 0},
    {"GET", "/api/v1/leaderboard", R, routes__get_leaderboard,
     "people by points, only those who opted in", 0},
    {"GET", "/api/v1/events", R, routes__get_events, "the event log, by id (paged)", 0},
    {"GET", "/api/v1/events/stream", R, routes__get_event_stream,
     "the event log as Server-Sent Events, resuming after Last-Event-ID", HTTP_ROUTE_STREAM},
    {"GET", "/api/v1/jobs", R, get_jobs, "the service's jobs, their runs and counts", 0},
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);

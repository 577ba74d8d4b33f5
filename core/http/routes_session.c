/*
 * http/routes_session: sessions over HTTP (the paged listing by start, one session,
 * check-in, cancel, reschedule) and feedback (the check-ins listed; a side's check-in
 * posted). The work is sched/session's (the functions `tandem sessions` calls) and
 * sched/feedback's reader; this file reads arguments and answers (routes_internal.h).
 *
 * The listing gives summaries (session_row_summary_json: when, status, topic, who, who
 * checked in); a session's details (agenda, reasons, reschedule links, the check-ins'
 * ratings, notes and skills) are at its own URL. A page of up to 500 sessions would
 * otherwise carry every agenda and both sides' notes, and be kept whole by http/cache.
 *
 * Session cursors carry "START.ID" (START in seconds since the epoch), feedback's the id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/routes_internal.h"
#include "program/matches.h"
#include "sched/feedback.h"
#include "sched/plan.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"


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

void
routes__get_sessions(struct http_call *c)
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
	if (program != NULL && routes__program(c, program, &f.program_id) == NULL)
		return;
	if (person != NULL && matches_find_person(routes__store(c), person, &f.person_id, &d) != 0) {
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
	if (session_list(routes__store(c), &f, &rows, &n, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	json_t *arr = json_array();
	size_t shown = n > (size_t)page ? (size_t)page : n;
	for (size_t i = 0; arr != NULL && i < shown; i++)
		if (json_array_append_new(arr, session_row_summary_json(&rows[i])) != 0) {
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
	if (session_get(routes__store(c), id, 0, &r, &d) != 0) {
		json_decref(extra);
		http_error_diag(c->resp, &d);
		return;
	}
	json_t *v = session_row_json(r);
	session_rows_free(r, 1);
	if (v != NULL && extra != NULL)
		json_object_update(v, extra);
	json_decref(extra);
	routes__answer(c, v, &d);
}

void
routes__get_session(struct http_call *c)
{
	int64_t id;
	if (routes__id_param(c, 0, "session", &id) == 0)
		answer_session(c, id, NULL);
}

/* The check-in a body describes ({outcome, person, rating, notes, share_story}): 0 and *ci
 * (its strings point into body), or -1 and the error. need_person: feedback is a side's. */
static int
checkin_body(struct http_call *c, json_t *body, struct session_checkin *ci, int need_person)
{
	const char *outcome, *person;
	struct diag d;
	diag_clear(&d);
	json_t *rating = json_object_get(body, "rating");
	if (routes__body_string(c, body, "outcome", &outcome) != 0 ||
	    routes__body_string(c, body, "person", &person) != 0 ||
	    routes__body_string(c, body, "notes", &ci->notes) != 0)
		return -1;
	if (outcome == NULL || (strcmp(outcome, "held") != 0 && strcmp(outcome, "missed") != 0))
		return http_error(c->resp, 422, "field 'outcome' must be \"held\" or \"missed\"");
	ci->outcome = outcome[0] == 'h' ? SESSION_OUTCOME_HELD : SESSION_OUTCOME_MISSED;
	if (rating != NULL && !json_is_null(rating)) {
		if (!json_is_integer(rating) || json_integer_value(rating) < 1 ||
		    json_integer_value(rating) > 5)
			return http_error(c->resp, 422,
					  "field 'rating' must be an integer from 1 to 5");
		ci->rating = (int)json_integer_value(rating);
	}
	if (routes__body_bool(c, body, "share_story", &ci->share_story) != 0)
		return -1;
	if (person == NULL && need_person)
		return http_error(c->resp, 422,
				  "field 'person' is required: the side giving the feedback");
	if (person == NULL && (ci->rating || ci->notes || ci->share_story))
		return http_error(c->resp, 422, "rating, notes and share_story need 'person' "
						"(they belong to one side)");
	if (person != NULL &&
	    matches_find_person(routes__store(c), person, &ci->person_id, &d) != 0)
		return http_error_diag(c->resp, &d);
	return 0;
}

void
routes__post_session_checkin(struct http_call *c)
{
	int64_t id;
	json_t *body;
	if (routes__id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	struct session_checkin ci = {.session_id = id, .actor = c->actor};
	struct diag d;
	diag_clear(&d);
	int changed = 0;
	if (checkin_body(c, body, &ci, 0) != 0)
		goto out;
	if (session_checkin(routes__store(c), &ci, &changed, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	answer_session(c, id, json_pack("{sb}", "changed", changed));
out:
	json_decref(body);
}

void
routes__post_session_cancel(struct http_call *c)
{
	int64_t id;
	json_t *body;
	if (routes__id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	const char *reason;
	struct diag d;
	diag_clear(&d);
	if (routes__body_string(c, body, "reason", &reason) == 0) {
		if (session_cancel(routes__store(c), id, reason, c->actor, &d) != 0)
			http_error_diag(c->resp, &d);
		else
			answer_session(c, id, NULL);
	}
	json_decref(body);
}

void
routes__post_session_reschedule(struct http_call *c)
{
	int64_t id, nid = 0;
	json_t *body;
	if (routes__id_param(c, 0, "session", &id) != 0 || http_body_json(c, &body) != 0)
		return;
	const char *to, *zone;
	struct diag d;
	diag_clear(&d);
	struct session_row *r = NULL;
	time_t when;
	if (routes__body_string(c, body, "to", &to) != 0 || routes__body_string(c, body, "zone", &zone) != 0)
		goto out;
	if (to == NULL) {
		http_error(c->resp, 422, "field 'to' is required: \"YYYY-MM-DDTHH:MM\" in the "
					 "session's zone (or 'zone'), or a UTC time ending in Z");
		goto out;
	}
	/* As the CLI: a zone that is none is named as 'zone'; with a UTC 'to' it is refused as
	 * contradictory, not silently ignored. */
	if (zone) {
		struct tz_switch sw;
		size_t tl = strlen(to);
		if (tz_enter(&sw, zone, &d) != 0) {
			http_error(c->resp, 422, "field 'zone': %s", d.msg);
			goto out;
		}
		tz_leave(&sw);
		if (tl > 0 && (to[tl - 1] == 'Z' || to[tl - 1] == 'z')) {
			http_error(c->resp, 422, "field 'to' is a UTC time (it ends with Z) and 'zone' "
						 "a zone to read it in: give one or the other");
			goto out;
		}
	}
	struct session_window w;
	if (session_get(routes__store(c), id, 0, &r, &d) != 0 ||
	    session_parse_time(to, zone ? zone : r->zone, &when, &d) != 0 ||
	    plan_program_window(routes__config(c), r->program, &w, &d) != 0 ||
	    session_reschedule(routes__store(c), id, when, &w, c->actor, &nid, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	answer_session(c, nid, json_pack("{sI}", "rescheduled_from_id", (json_int_t)id));
out:
	session_rows_free(r, r ? 1 : 0);
	json_decref(body);
}

/* ---- feedback ---------------------------------------------------------------------- */

void
routes__get_feedback(struct http_call *c)
{
	struct feedback_filter f = {0};
	int limit;
	struct diag d;
	diag_clear(&d);
	const char *program = http_query(c->req, "program");
	const char *person = http_query(c->req, "person");
	const char *session = http_query(c->req, "session");
	if (http_limit(c, &limit) != 0 || routes__id_cursor(c, &f.after_id) != 0)
		return;
	if (program != NULL && routes__program(c, program, &f.program_id) == NULL)
		return;
	if (person != NULL && matches_find_person(routes__store(c), person, &f.person_id, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	if (session != NULL) {
		char *end;
		long long v = strtoll(session, &end, 10);
		if (*session == '\0' || *end != '\0' || v <= 0) {
			http_error(c->resp, 400, "session must be a session id (got '%s')", session);
			return;
		}
		f.session_id = v;
	}
	f.limit = limit + 1;
	json_t *rows = NULL;
	if (feedback_list_json(routes__store(c), &f, &rows, &d) != 0)
		rows = NULL;
	static const char *const keep[] = {"program", "person", "session", NULL};
	routes__page(c, rows, "id", limit, keep, &d);
}

/* POST /api/v1/feedback: a side's check-in of a session, as the check-in route takes it
 * with the session in the body; answers the feedback row (201, or 200 for a repeat). */
void
routes__post_feedback(struct http_call *c)
{
	json_t *body;
	if (http_body_json(c, &body) != 0)
		return;
	struct session_checkin ci = {.actor = c->actor};
	json_t *sid = json_object_get(body, "session");
	struct diag d;
	diag_clear(&d);
	int changed = 0;
	json_t *rows = NULL;
	if (!json_is_integer(sid) || json_integer_value(sid) <= 0) {
		http_error(c->resp, 422, "field 'session' must be a session id");
		goto out;
	}
	ci.session_id = json_integer_value(sid);
	if (checkin_body(c, body, &ci, 1) != 0)
		goto out;
	if (session_checkin(routes__store(c), &ci, &changed, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	struct feedback_filter f = {.session_id = ci.session_id, .person_id = ci.person_id};
	if (feedback_list_json(routes__store(c), &f, &rows, &d) != 0) {
		http_error_diag(c->resp, &d);
		goto out;
	}
	json_t *row = json_array_get(rows, 0);
	if (row == NULL || json_object_set_new(row, "changed", json_boolean(changed)) != 0) {
		http_error(c->resp, 500, "the feedback row was not found after the check-in");
		goto out;
	}
	http_json(c->resp, changed ? 201 : 200, json_incref(row));
out:
	json_decref(rows);
	json_decref(body);
}

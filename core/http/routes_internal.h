/*
 * http/routes_internal: what the files of the route table share. routes.c holds the table
 * (http_routes) and the handlers of health, people, programs and jobs; routes_match.c
 * the matches, runs, pins, vetoes and explanations; routes_session.c the sessions and
 * feedback; routes_report.c rewards, leaderboard, health, reports and the event log;
 * http/sse.c the event stream. Only these files include this header.
 *
 * Every handler reads its arguments, calls the domain function the CLI's command calls,
 * and answers through router.h (errors as JSON, lists as pages).
 */
#ifndef TANDEM_HTTP_ROUTES_INTERNAL_H
#define TANDEM_HTTP_ROUTES_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "http/api.h"

struct config_program;

/* The API's store, config and workspace folder. */
struct store *routes__store(struct http_call *c);
const struct config *routes__config(struct http_call *c);
const char *routes__ws(struct http_call *c);

/* A positive integer path parameter i (an id): 0 and *id, or -1 and a 404. */
int routes__id_param(struct http_call *c, int i, const char *what, int64_t *id);

/* Answers v (200), or d's error when v is NULL. */
void routes__answer(struct http_call *c, json_t *v, const struct diag *d);

/* A program tandem.lua declares (404 otherwise); with id, its row id too (404 when it has
 * no row yet). NULL when the answer (an error) is set. */
const struct config_program *routes__program(struct http_call *c, const char *name, int64_t *id);

/* A string member of a JSON body or NULL when absent or null; -1 and a 422 when it is not a
 * string. */
int routes__body_string(struct http_call *c, json_t *body, const char *key, const char **out);

/* A boolean member (absent or null: 0); -1 and a 422 when it is not a boolean. */
int routes__body_bool(struct http_call *c, json_t *body, const char *key, int *out);

/* A page of rows fetched with limit + 1 (the extra row says more follow), keyed by the
 * text member key_field (an integer member is printed); rows NULL: d's error. */
void routes__page(struct http_call *c, json_t *rows, const char *key_field, int limit,
		  const char *const *keep, const struct diag *d);

/* The cursor of an id-ordered list: 0 and *after (0 when absent), or -1 and a 400. */
int routes__id_cursor(struct http_call *c, int64_t *after);

/* routes_match.c */
void routes__get_matches(struct http_call *c);
void routes__get_match(struct http_call *c);
void routes__post_match_approve(struct http_call *c);
void routes__post_match_reject(struct http_call *c);
void routes__post_run(struct http_call *c);
void routes__post_run_approve(struct http_call *c);
void routes__post_run_reject(struct http_call *c);
void routes__post_pin(struct http_call *c);
void routes__post_veto(struct http_call *c);
void routes__get_explain(struct http_call *c);

/* routes_session.c */
void routes__get_sessions(struct http_call *c);
void routes__get_session(struct http_call *c);
void routes__post_session_checkin(struct http_call *c);
void routes__post_session_cancel(struct http_call *c);
void routes__post_session_reschedule(struct http_call *c);
void routes__get_feedback(struct http_call *c);
void routes__post_feedback(struct http_call *c);

/* routes_report.c */
void routes__get_person_rewards(struct http_call *c);
void routes__get_leaderboard(struct http_call *c);
void routes__get_health(struct http_call *c);
void routes__get_report(struct http_call *c);
void routes__get_events(struct http_call *c);

/* sse.c */
void routes__get_event_stream(struct http_call *c);

#endif

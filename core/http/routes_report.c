/*
 * http/routes_report: what a program achieved and how it stands, over HTTP: a person's
 * reward ledger, the leaderboard (only people who opted in: rewards/ledger's rule),
 * program health (report/health, the document `tandem health --json` prints), a report
 * plugin's document in any format (report/report + report/render, what `tandem report`
 * writes) and the event log (events/events_list, `tandem events`). This file reads
 * arguments and answers (routes_internal.h).
 *
 * A report runs its plugin in a worker and waits for it on the loop's thread, like a
 * match run (docs/http.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "events/events_list.h"
#include "http/routes_internal.h"
#include "lua/plugin.h"
#include "program/matches.h"
#include "report/health.h"
#include "report/render.h"
#include "report/report.h"
#include "rewards/ledger.h"
#include "store/store.h"

void
routes__get_person_rewards(struct http_call *c)
{
	const char *program = http_query(c->req, "program");
	int64_t id;
	struct diag d;
	diag_clear(&d);
	if (program != NULL && routes__program(c, program, NULL) == NULL)
		return;
	if (matches_find_person(routes__store(c), c->params[0], &id, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	/* The ledger names people by external id; the path may hold an e-mail. */
	json_t *who = matches_person_json(routes__store(c), id, &d);
	const char *ext = json_string_value(json_object_get(who, "id"));
	json_t *rows = NULL;
	if (ext == NULL || ledger_list(routes__store(c), program, ext, &rows, &d) != 0) {
		json_decref(who);
		http_error_diag(c->resp, &d);
		return;
	}
	json_decref(who);
	http_page(c, rows, NULL, HTTP_LIMIT_MAX, NULL);
}

void
routes__get_leaderboard(struct http_call *c)
{
	const char *program = http_query(c->req, "program");
	const char *as = http_query(c->req, "as");
	if (program != NULL && routes__program(c, program, NULL) == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *board = NULL;
	if (ledger_leaderboard(routes__store(c), program, as, &board, &d) != 0)
		board = NULL;
	routes__answer(c, board, &d);
}

void
routes__get_health(struct http_call *c)
{
	const char *status = http_query(c->req, "status");
	struct diag d;
	diag_clear(&d);
	enum health_status want = HEALTH_ON_TRACK;
	if (status != NULL && health_status_parse(status, &want, &d) != 0) {
		http_error(c->resp, 400, "status: %s", d.msg);
		return;
	}
	if (routes__program(c, c->params[0], NULL) == NULL)
		return;
	json_t *doc = NULL;
	if (health_program(routes__store(c), routes__config(c), c->params[0],
			   store_time(routes__store(c)), &doc, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	if (status != NULL) {
		/* Only the pairs of that status (the counts stay the program's). */
		json_t *pairs = json_object_get(doc, "pairs");
		for (size_t i = json_array_size(pairs); i-- > 0;) {
			const char *s = json_string_value(
			    json_object_get(json_array_get(pairs, i), "status"));
			if (s == NULL || strcmp(s, health_status_name(want)) != 0)
				json_array_remove(pairs, i);
		}
	}
	http_json(c->resp, 200, doc);
}

static const char *
content_type(enum render_format f)
{
	switch (f) {
	case RENDER_CSV: return "text/csv; charset=utf-8";
	case RENDER_JSON: return "application/json";
	case RENDER_HTML: return "text/html; charset=utf-8";
	default: return "text/markdown; charset=utf-8";
	}
}

void
routes__get_report(struct http_call *c)
{
	const char *format = http_query(c->req, "format");
	enum render_format f = RENDER_JSON;
	if (format != NULL && render_format_parse(format, &f) != 0) {
		http_error(c->resp, 400, "format must be md, csv, json or html (got '%s')", format);
		return;
	}
	/* A name only: a path would let a client run any file as a plugin. */
	if (!plugin_name_valid(c->params[1])) {
		http_error(c->resp, 404, "no report plugin '%s' (a plugin's name: letters, digits, "
					 "'-' and '_')",
			   c->params[1]);
		return;
	}
	if (routes__program(c, c->params[0], NULL) == NULL)
		return;
	struct report_opts o = {.ws = routes__ws(c), .plugin = c->params[1]};
	struct diag d;
	diag_clear(&d);
	json_t *doc = NULL;
	struct buf b;
	buf_init(&b);
	if (report_build(routes__store(c), routes__config(c), c->params[0], &o, &doc, &d) != 0 ||
	    render_doc(f, doc, &b, &d) != 0) {
		http_error_diag(c->resp, &d);
	} else {
		free(c->resp->body);
		c->resp->status = 200;
		c->resp->content_type = content_type(f);
		c->resp->body_len = b.len;
		c->resp->body = buf_release(&b);
		if (c->resp->body == NULL) /* an empty CSV: no buffer was ever allocated */
			c->resp->body = calloc(1, 1);
		if (c->resp->body == NULL)
			http_error(c->resp, 500, "out of memory");
	}
	json_decref(doc);
	buf_fini(&b);
}

void
routes__get_events(struct http_call *c)
{
	struct events_filter f = {.kind = http_query(c->req, "kind"),
				  .program = http_query(c->req, "program")};
	const char *since = http_query(c->req, "since");
	int limit;
	int64_t after;
	if (http_limit(c, &limit) != 0 || routes__id_cursor(c, &after) != 0)
		return;
	if (since != NULL) {
		char *end;
		long long v = strtoll(since, &end, 10);
		if (*since == '\0' || *end != '\0' || v < 0) {
			http_error(c->resp, 400, "since must be an event id, 0 or more (got '%s')",
				   since);
			return;
		}
		f.since = v;
	}
	if (after > f.since)
		f.since = after;
	f.limit = limit + 1;
	struct diag d;
	diag_clear(&d);
	json_t *rows = NULL;
	if (events_list(routes__store(c), &f, &rows, &d) != 0)
		rows = NULL;
	static const char *const keep[] = {"kind", "program", "since", NULL};
	routes__page(c, rows, "id", limit, keep, &d);
}

/*
 * http/dash_feed: a program's rewards page (`/p/PROGRAM/rewards`: the ledger and the
 * opt-in leaderboard, rewards/ledger's listings), its reports (`/p/PROGRAM/reports`: every
 * report plugin found where `tandem report` looks, each downloadable in the four formats
 * of report/render), and the events feed (`/events`: the newest events of the log, which
 * the script keeps up to date through the API's event stream).
 *
 * A report download runs the plugin's build in its worker and waits on the loop's thread,
 * as the API's report route does.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events_list.h"
#include "http/dash_internal.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "program/config.h"
#include "report/render.h"
#include "report/report.h"
#include "rewards/ledger.h"
#include "store/stmt.h"
#include "store/store.h"

enum { DASH_LEDGER_MAX = 200, DASH_EVENTS_MAX = 100 };

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void
built(struct http_call *c, struct buf *b, int rc)
{
	if (rc != 0) {
		buf_fini(b);
		dash__error(c, 500, "Something went wrong", "The page could not be built.");
		return;
	}
	dash__page_send(c, b, 200);
}

void
dash__get_rewards(struct http_call *c)
{
	const struct config_program *p = dash__program(c, NULL);
	if (p == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *ledger = NULL, *board = NULL;
	if (ledger_list(dash__store(c), p->name, NULL, &ledger, &d) != 0 ||
	    ledger_leaderboard(dash__store(c), p->name, NULL, &board, &d) != 0) {
		json_decref(ledger);
		dash__error_diag(c, &d);
		return;
	}
	char title[200];
	snprintf(title, sizeof(title), "%s: rewards", p->name);
	struct buf b;
	json_t *entries = json_object_get(board, "entries");
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/rewards") ||
		 buf_puts(&b, "<section aria-labelledby=\"h-lb\"><h2 id=\"h-lb\">Leaderboard</h2>\n"
			      "<p class=\"help\">Only the people who opted in are listed.</p>\n"
			      "<div class=\"scroll\" tabindex=\"0\"><table id=\"leaderboard\"><thead><tr><th "
			      "scope=\"col\">Rank</th><th scope=\"col\">Person</th><th scope=\"col\">"
			      "Points</th><th scope=\"col\">Badges</th></tr></thead><tbody>\n", NULL);
	size_t i;
	json_t *e;
	json_array_foreach(entries, i, e)
	{
		rc = rc || buf_printf(&b, NULL, "<tr><td class=\"num\">%lld</td><th scope=\"row\">",
				      (long long)json_integer_value(json_object_get(e, "rank"))) ||
		     html_put(&b, jstr(e, "name")) ||
		     buf_printf(&b, NULL, "</th><td class=\"num\">%lld</td><td>",
				(long long)json_integer_value(json_object_get(e, "points")));
		size_t j;
		json_t *bd;
		json_array_foreach(json_object_get(e, "badges"), j, bd)
		{
			rc = rc || (j && buf_puts(&b, ", ", NULL)) ||
			     html_put(&b, json_string_value(bd) ? json_string_value(bd) : "");
		}
		rc = rc || buf_puts(&b, "</td></tr>\n", NULL);
	}
	rc = rc || buf_puts(&b, "</tbody></table></div>", NULL) ||
	     (json_array_size(entries) == 0 && buf_puts(&b, "<p>Nobody on the board yet.</p>", NULL)) ||
	     buf_printf(&b, NULL, "</section>\n<section aria-labelledby=\"h-led\"><h2 id=\"h-led\">"
				  "Ledger</h2>\n<p class=\"help\">The newest %d grants and "
				  "revocations.</p><div class=\"scroll\" tabindex=\"0\"><table id=\"ledger\"><thead><tr>"
				  "<th scope=\"col\">When</th><th scope=\"col\">Person</th><th "
				  "scope=\"col\">Reward</th><th scope=\"col\">Rule</th></tr></thead>"
				  "<tbody>\n", DASH_LEDGER_MAX);
	size_t n = json_array_size(ledger);
	for (size_t k = n; rc == 0 && k > 0 && n - k < DASH_LEDGER_MAX; k--) {
		json_t *g = json_array_get(ledger, k - 1);
		json_t *pts = json_object_get(g, "points");
		const char *badge = jstr(g, "badge");
		rc = buf_puts(&b, "<tr><td>", NULL) || dash__time(&b, jstr(g, "at")) ||
		     buf_puts(&b, "</td><td>", NULL) || html_put(&b, jstr(g, "name")) ||
		     buf_puts(&b, "</td><td>", NULL) ||
		     (badge[0] ? html_put(&b, badge)
			       : buf_printf(&b, NULL, "%lld points", (long long)json_integer_value(pts))) ||
		     (json_integer_value(json_object_get(g, "revokes")) > 0 &&
		      buf_puts(&b, " (a revocation)", NULL)) ||
		     buf_puts(&b, "</td><td>", NULL) || html_put(&b, jstr(g, "plugin")) ||
		     buf_puts(&b, "</td></tr>\n", NULL);
	}
	rc = rc || buf_puts(&b, "</tbody></table></div></section>\n", NULL);
	json_decref(ledger);
	json_decref(board);
	built(c, &b, rc);
}

/* ---- reports ---------------------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The report plugins' names, sorted, each once (workspace first, then built-ins). */
static int
report_names(const char *ws, char ***out)
{
	char *dirs[8];
	enum plugin_source src[8];
	int nd = plugin_search_dirs(ws ? ws : ".", PLUGIN_REPORT, dirs, src, 8);
	char **names = NULL;
	int n = 0, cap = 0;
	for (int i = 0; i < nd; i++) {
		DIR *dp = opendir(dirs[i]);
		struct dirent *de;
		while (dp != NULL && (de = readdir(dp)) != NULL) {
			size_t len = strlen(de->d_name);
			if (len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0)
				continue;
			char name[NAME_MAX + 1];
			snprintf(name, sizeof(name), "%.*s", (int)(len - 4), de->d_name);
			int seen = !plugin_name_valid(name);
			for (int k = 0; !seen && k < n; k++)
				seen = strcmp(names[k], name) == 0;
			if (seen)
				continue;
			if (n == cap) {
				char **v = realloc(names, (size_t)(cap ? cap * 2 : 8) * sizeof(*v));
				if (v == NULL)
					break;
				names = v;
				cap = cap ? cap * 2 : 8;
			}
			if ((names[n] = strdup(name)) != NULL)
				n++;
		}
		if (dp != NULL)
			closedir(dp);
		free(dirs[i]);
	}
	if (n > 1)
		qsort(names, (size_t)n, sizeof(*names), cmp_str);
	*out = names;
	return n;
}

void
dash__get_reports(struct http_call *c)
{
	const struct config_program *p = dash__program(c, NULL);
	if (p == NULL)
		return;
	char **names = NULL;
	int n = report_names(dash__ws(c), &names);
	char title[200];
	snprintf(title, sizeof(title), "%s: reports", p->name);
	struct buf b;
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/reports") ||
		 buf_puts(&b, "<p class=\"help\">Each report is built now from the program's "
			      "figures (a few seconds on a large program).</p>\n"
			      "<ul id=\"reports\">\n", NULL);
	static const char *const fmts[4][2] = {
		{"html", "HTML"}, {"md", "Markdown"}, {"csv", "CSV"}, {"json", "JSON"}};
	for (int i = 0; i < n; i++) {
		rc = rc || buf_puts(&b, "<li data-report=\"", NULL) || html_put(&b, names[i]) ||
		     buf_puts(&b, "\"><span class=\"name\">", NULL) || html_put(&b, names[i]) ||
		     buf_puts(&b, "</span>:", NULL);
		for (int k = 0; k < 4; k++)
			rc = rc || buf_puts(&b, " <a download href=\"/p/", NULL) || html_put(&b, p->name) ||
			     buf_puts(&b, "/reports/", NULL) || html_put(&b, names[i]) ||
			     buf_printf(&b, NULL, ".%s\">%s<span class=\"vh\"> of ", fmts[k][0],
					fmts[k][1]) ||
			     html_put(&b, names[i]) || buf_puts(&b, "</span></a>", NULL);
		rc = rc || buf_puts(&b, "</li>\n", NULL);
		free(names[i]);
	}
	free(names);
	rc = rc || buf_puts(&b, "</ul>\n", NULL) ||
	     (n == 0 && buf_puts(&b, "<p>No report plugin found.</p>\n", NULL));
	built(c, &b, rc);
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
dash__get_report_file(struct http_call *c)
{
	const struct config_program *p = dash__program(c, NULL);
	if (p == NULL)
		return;
	char name[HTTP_PARAM_MAX];
	snprintf(name, sizeof(name), "%s", c->params[1]);
	char *dot = strrchr(name, '.');
	enum render_format f;
	if (dot == NULL || render_format_parse(dot + 1, &f) != 0) {
		dash__error(c, 404, "No such report", "A report is PLUGIN.html, .md, .csv or .json.");
		return;
	}
	*dot = '\0';
	if (!plugin_name_valid(name)) { /* a name only: never a path */
		dash__error(c, 404, "No such report", "No report plugin '%s'.", name);
		return;
	}
	struct report_opts o = {.ws = dash__ws(c), .plugin = name};
	struct diag d;
	diag_clear(&d);
	json_t *doc = NULL;
	struct buf b;
	buf_init(&b);
	if (report_build(dash__store(c), dash__config(c), p->name, &o, &doc, &d) != 0 ||
	    render_doc(f, doc, &b, &d) != 0) {
		json_decref(doc);
		buf_fini(&b);
		dash__error_diag(c, &d);
		return;
	}
	json_decref(doc);
	struct http_response *r = c->resp;
	http_response_fini(r);
	r->status = 200;
	r->content_type = content_type(f);
	r->body_len = b.len;
	r->body = b.len ? buf_release(&b) : calloc(1, 1);
	buf_fini(&b);
	if (r->body == NULL) {
		r->status = 500;
		return;
	}
	char disp[HTTP_PARAM_MAX * 2 + 64];
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.%s\"", p->name, name,
		 render_format_name(f));
	http_response_header(r, "Content-Disposition", disp);
	http_response_header(r, "Cache-Control", "no-store");
	http_response_header(r, "X-Content-Type-Options", "nosniff");
	http_response_header(r, "Content-Security-Policy", "default-src 'none'; style-src "
							   "'unsafe-inline'; img-src data:");
}

/* ---- events ------------------------------------------------------------------------------ */

void
dash__get_events(struct http_call *c)
{
	struct store *st = dash__store(c);
	struct diag d;
	diag_clear(&d);
	int64_t last = 0;
	if (stmt_query_int64(st, "the newest event", "SELECT coalesce(max(id), 0) FROM events", &last,
			     &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	struct events_filter f = {.since = last > DASH_EVENTS_MAX ? last - DASH_EVENTS_MAX : 0,
				  .limit = DASH_EVENTS_MAX};
	json_t *rows = NULL;
	if (events_list(st, &f, &rows, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	struct buf b;
	int rc = dash__page_start(c, &b, "Events") ||
		 buf_printf(&b, NULL, "<p class=\"help\">The newest events first; new ones appear "
				      "as they happen (<span id=\"live\" role=\"status\">live updates "
				      "need JavaScript</span>).</p>\n<ol id=\"events\" "
				      "data-last=\"%lld\" aria-live=\"polite\">\n", (long long)last);
	for (size_t k = json_array_size(rows); rc == 0 && k > 0; k--) {
		json_t *e = json_array_get(rows, k - 1);
		json_int_t id = json_integer_value(json_object_get(e, "id"));
		rc = buf_printf(&b, NULL, "<li data-event=\"%lld\">", (long long)id) ||
		     dash__time(&b, jstr(e, "at")) || buf_puts(&b, " <span class=\"kind\">", NULL) ||
		     html_put(&b, jstr(e, "kind")) || buf_puts(&b, "</span>", NULL) ||
		     (jstr(e, "program")[0] && (buf_puts(&b, " in ", NULL) || html_put(&b, jstr(e, "program")))) ||
		     (jstr(e, "actor")[0] && (buf_puts(&b, " by ", NULL) || html_put(&b, jstr(e, "actor")))) ||
		     buf_puts(&b, "</li>\n", NULL);
	}
	rc = rc || buf_puts(&b, "</ol>\n", NULL);
	json_decref(rows);
	built(c, &b, rc);
}

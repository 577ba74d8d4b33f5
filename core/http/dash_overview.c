/*
 * http/dash_overview: the programs overview (`/`) and a program's page (`/p/PROGRAM`): the
 * figures of report/metrics and the health counts of report/health, with the report charts
 * drawn by report/svg (the same code as the HTML reports). The figures are computed here
 * and kept by dash.c (dash.h says when they are computed again), so a page does not run a
 * metrics pass per request on a large workspace.
 */
#include <stdio.h>
#include <string.h>

#include "http/dash_internal.h"
#include "program/config.h"
#include "report/health.h"
#include "report/metrics.h"
#include "report/svg.h"
#include "store/store.h"

static const char *const health_names[4] = {"on_track", "needs_checkin", "at_risk", "too_early"};
static const char *const health_labels[4] = {"On track", "Needs a check-in", "At risk",
					     "Too early"};

json_t *
dash__figures_compute(struct http_api *api, const char *program, struct diag *d)
{
	struct store *st = api->o.st;
	time_t now = store_time(st);
	json_t *m = NULL, *h = NULL;
	if (metrics_program(st, api->o.cfg, program, now, &m, d) != 0)
		return NULL;
	if (health_program(st, api->o.cfg, program, now, &h, d) != 0) {
		json_decref(m);
		return NULL;
	}
	char at[STORE_TIME_MAX];
	store_format_time(now, at);
	json_t *v = json_pack("{s:o, s:O, s:s}", "metrics", m, "health",
			      json_object_get(h, "counts"), "computed_at", at);
	json_decref(h);
	if (v == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return v;
}

static json_int_t
num(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_number_value(v);
}

/* A rate (0..1 or null) as "62%" or an em dash. */
static int
put_rate(struct buf *b, json_t *v)
{
	if (!json_is_number(v))
		return buf_puts(b, "&mdash;", NULL);
	return buf_printf(b, NULL, "%.0f%%", 100.0 * json_number_value(v));
}

/* The sessions-per-month chart of metrics m (NULL when there is no month yet). */
static json_t *
chart_months(json_t *m, const char *title)
{
	json_t *months = json_object_get(json_object_get(m, "sessions"), "per_month");
	if (json_array_size(months) == 0)
		return NULL;
	static const char *const series[] = {"held", "missed", "cancelled", "planned"};
	json_t *labels = json_array(), *ss = json_array();
	for (int k = 0; k < 4; k++) {
		json_t *vals = json_array();
		size_t i;
		json_t *row;
		json_array_foreach(months, i, row)
		{
			if (k == 0)
				json_array_append(labels, json_object_get(row, "month"));
			json_array_append_new(vals, json_integer(num(row, series[k], NULL)));
		}
		json_array_append_new(ss, json_pack("{s:s, s:o}", "name", series[k], "values", vals));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "type", "stacked", "title", title,
			 "labels", labels, "series", ss, "x_label", "month", "y_label", "sessions");
}

static int
put_chart(struct buf *b, json_t *chart, int id)
{
	if (chart == NULL)
		return buf_puts(b, "<p class=\"note\">No sessions yet: no chart.</p>\n", NULL);
	struct diag d;
	diag_clear(&d);
	int rc = buf_puts(b, "<figure class=\"chart\">", NULL) || svg_chart(chart, id, b, &d) ||
		 buf_puts(b, "</figure>\n", NULL);
	json_decref(chart);
	return rc;
}

/* The figures of one program as a definition list (and the health counts). */
static int
put_figures(struct buf *b, json_t *f)
{
	json_t *m = json_object_get(f, "metrics"), *h = json_object_get(f, "health");
	int rc = buf_printf(b, NULL,
			    "<dl class=\"figures\"><div><dt>Enrolled</dt><dd data-figure=\"enrolled\">%lld</dd></div>"
			    "<div><dt>Matched</dt><dd data-figure=\"matched\">%lld</dd></div>"
			    "<div><dt>Match rate</dt><dd data-figure=\"match_rate\">",
			    (long long)num(m, "enrollment", "enrolled"),
			    (long long)num(m, "enrollment", "matched")) ||
		 put_rate(b, json_object_get(json_object_get(m, "enrollment"), "match_rate")) ||
		 buf_printf(b, NULL,
			    "</dd></div><div><dt>Sessions held</dt><dd data-figure=\"held\">%lld</dd></div>"
			    "</dl>\n<ul class=\"health\" aria-label=\"Pairs by health\">",
			    (long long)num(m, "sessions", "held"));
	for (int i = 0; rc == 0 && i < 4; i++)
		rc = buf_printf(b, NULL, "<li data-health=\"%s\"><span class=\"count\">%lld</span> %s</li>",
				health_names[i], (long long)num(h, health_names[i], NULL),
				health_labels[i]);
	return rc || buf_puts(b, "</ul>\n", NULL);
}

void
dash__get_overview(struct http_call *c)
{
	const struct config *cfg = dash__config(c);
	struct buf b;
	int rc = dash__page_start(c, &b, "Programs") ||
		 buf_puts(&b, "<div id=\"programs\" class=\"cards\">\n", NULL);
	const char *computed = NULL;
	for (int i = 0; rc == 0 && i < cfg->nprograms; i++) {
		const char *name = cfg->programs[i].name;
		struct diag d;
		diag_clear(&d);
		rc = buf_puts(&b, "<section class=\"program card\" data-program=\"", NULL) ||
		     html_put(&b, name) || buf_printf(&b, NULL, "\" aria-labelledby=\"prog-%d\">", i) ||
		     buf_printf(&b, NULL, "<h2 id=\"prog-%d\"><a href=\"/p/", i) || html_put(&b, name) ||
		     buf_puts(&b, "\">", NULL) || html_put(&b, name) || buf_puts(&b, "</a></h2>\n", NULL);
		json_t *f = rc == 0 ? dash__figures(c, name, &d) : NULL;
		if (rc == 0 && f == NULL) {
			rc = buf_puts(&b, "<p class=\"note\">", NULL) ||
			     html_put(&b, d.code == DIAG_NOTFOUND ? "Nothing stored for this program yet "
								    "(no enrollment imported)."
								  : d.msg) ||
			     buf_puts(&b, "</p>\n", NULL);
			if (d.code != DIAG_NOTFOUND)
				tlog(TLOG_ERROR, "dashboard: figures of %s: %s", name, d.msg);
		} else if (rc == 0) {
			char title[160];
			snprintf(title, sizeof(title), "%s: sessions per month", name);
			rc = put_figures(&b, f) ||
			     put_chart(&b, chart_months(json_object_get(f, "metrics"), title), i);
			computed = json_string_value(json_object_get(f, "computed_at"));
			if (rc == 0 && computed != NULL)
				rc = buf_puts(&b, "<p class=\"note\">Figures as of ", NULL) ||
				     dash__time(&b, computed) || buf_puts(&b, ".</p>\n", NULL);
			json_decref(f);
		}
		rc = rc || buf_puts(&b, "</section>\n", NULL);
	}
	if (rc == 0 && cfg->nprograms == 0)
		rc = buf_puts(&b, "<p>No program is declared in tandem.lua yet.</p>\n", NULL);
	if (rc != 0 || buf_puts(&b, "</div>\n", NULL) != 0) {
		buf_fini(&b);
		dash__error(c, 500, "Something went wrong", "The page could not be built.");
		return;
	}
	dash__page_send(c, &b, 200);
}

static json_t *
chart_one(const char *type, const char *title, const char *series, json_t *labels, json_t *vals)
{
	return json_pack("{s:s, s:s, s:o, s:[{s:s, s:o}]}", "type", type, "title", title, "labels",
			 labels, "series", "name", series, "values", vals);
}

void
dash__get_program(struct http_call *c)
{
	const struct config_program *p = dash__program(c, NULL);
	if (p == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	json_t *f = dash__figures(c, p->name, &d);
	if (f == NULL && d.code != DIAG_NOTFOUND) {
		dash__error_diag(c, &d);
		return;
	}
	struct buf b;
	int rc = dash__page_start(c, &b, p->name) || dash__subnav(c, &b, p->name, "");
	if (rc == 0 && f == NULL)
		rc = buf_puts(&b, "<p>Nothing stored for this program yet: import its enrollments "
				  "(<code>tandem import enrollments FILE --program NAME</code>).</p>\n",
			      NULL);
	if (rc == 0 && f != NULL) {
		json_t *m = json_object_get(f, "metrics");
		char title[160];
		snprintf(title, sizeof(title), "%s: sessions per month", p->name);
		rc = buf_puts(&b, "<section aria-labelledby=\"figs\"><h2 id=\"figs\">Figures</h2>\n",
			      NULL) ||
		     put_figures(&b, f) || buf_puts(&b, "</section>\n<section aria-labelledby=\"charts\">"
							"<h2 id=\"charts\">Charts</h2>\n", NULL) ||
		     put_chart(&b, chart_months(m, title), 1);
		json_t *dist = json_object_get(json_object_get(m, "ratings"), "distribution");
		json_int_t nrat = num(m, "ratings", "count");
		if (rc == 0 && nrat > 0 && json_array_size(dist) == 5) {
			snprintf(title, sizeof(title), "%s: ratings", p->name);
			rc = put_chart(&b, chart_one("histogram", title, "ratings",
						     json_pack("[sssss]", "1", "2", "3", "4", "5"),
						     json_deep_copy(dist)), 2);
		}
		json_t *fun = json_object_get(m, "funnel");
		if (rc == 0 && num(fun, "enrolled", NULL) > 0) {
			static const char *const steps[] = {"enrolled", "matched", "first_session",
							    "active", "completed"};
			json_t *labels = json_array(), *vals = json_array();
			for (int i = 0; i < 5; i++) {
				json_array_append_new(labels, json_string(steps[i]));
				json_array_append_new(vals, json_integer(num(fun, steps[i], NULL)));
			}
			snprintf(title, sizeof(title), "%s: participation funnel", p->name);
			rc = put_chart(&b, chart_one("funnel", title, "people", labels, vals), 3);
		}
		rc = rc || buf_puts(&b, "</section>\n<p class=\"note\">Figures as of ", NULL) ||
		     dash__time(&b, json_string_value(json_object_get(f, "computed_at"))) ||
		     buf_puts(&b, " (docs/metrics.md defines each).</p>\n", NULL);
	}
	json_decref(f);
	dash__page_finish(c, &b, rc);
}

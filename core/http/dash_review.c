/*
 * http/dash_review: the match review page of a program (`/p/PROGRAM/review`): its
 * proposals with each pair's per-feature explanation and the actions on them (approve,
 * reject, pin, veto, approve a whole run), the approved and active matches, the unmatched
 * people with the reasons, and the read-only comparison of two policies
 * (`/p/PROGRAM/compare`). The work is program/matches' and program/match_run's (what `tandem
 * match` runs); actions are recorded with the session's token name as actor.
 *
 * The unmatched reasons and the comparison run the policies' plugins (in their workers) and
 * wait for them on the loop's thread, like the API's match run: the reasons are computed on
 * the page only for cohorts up to DASH_UNMATCHED_AUTO enrollments, else on request
 * (`?unmatched=1`); docs/dashboard.md says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/dash_internal.h"
#include "program/config.h"
#include "program/match_run.h"
#include "program/matches.h"
#include "store/stmt.h"
#include "store/store.h"

enum { DASH_REVIEW_PAGE = 100, DASH_UNMATCHED_AUTO = 2000 };

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "Name (ID)" of a {id, name} object. */
static int
put_person(struct buf *b, json_t *p)
{
	if (json_is_null(json_object_get(p, "id"))) /* erased: the match is kept, detached */
		return buf_puts(b, "(erased)", NULL);
	return html_put(b, jstr(p, "name")) || buf_puts(b, " <span class=\"id\">(", NULL) ||
	       html_put(b, jstr(p, "id")) || buf_puts(b, ")</span>", NULL);
}

/* The features of an explanation as a small list: name, value, weight, contribution. */
static int
put_explanation(struct buf *b, json_t *ex)
{
	json_t *feats = json_object_get(ex, "features");
	if (json_object_size(feats) == 0)
		return buf_puts(b, "&mdash;", NULL);
	int rc = buf_puts(b, "<details><summary>Why</summary><ul class=\"why\">", NULL);
	const char *k;
	json_t *f;
	json_object_foreach(feats, k, f)
	{
		rc = rc || buf_puts(b, "<li>", NULL) || html_put(b, k) ||
		     buf_printf(b, NULL, ": value %.2f &times; weight %.2f = <strong>%+.3f</strong></li>",
				json_number_value(json_object_get(f, "value")),
				json_number_value(json_object_get(f, "weight")),
				json_number_value(json_object_get(f, "contribution")));
	}
	json_t *lua = json_object_get(ex, "lua");
	if (rc == 0 && json_is_number(lua) && json_number_value(lua) != 0)
		rc = buf_printf(b, NULL, "<li>policy's own score: %+.3f</li>", json_number_value(lua));
	return rc || buf_puts(b, "</ul></details>", NULL);
}

/* The run ids of the proposals, each once, in order of first appearance. */
static json_t *
runs_of(json_t *rows)
{
	json_t *runs = json_array();
	size_t i, j;
	json_t *m, *r;
	json_array_foreach(rows, i, m)
	{
		const char *id = jstr(m, "run_id");
		int seen = id[0] == '\0';
		json_array_foreach(runs, j, r) seen = seen || strcmp(json_string_value(r), id) == 0;
		if (!seen)
			json_array_append_new(runs, json_string(id));
	}
	return runs;
}

static int
put_proposals(struct http_call *c, struct buf *b, const char *program, json_t *rows, int page)
{
	struct store *st = dash__store(c);
	int act = dash__can_act(c);
	size_t n = json_array_size(rows), from = (size_t)page * DASH_REVIEW_PAGE;
	int rc = buf_printf(b, NULL, "<section aria-labelledby=\"h-prop\"><h2 id=\"h-prop\">Proposals "
				     "(%zu)</h2>\n", n);
	json_t *runs = runs_of(rows);
	size_t i;
	json_t *r;
	json_array_foreach(runs, i, r)
	{
		if (!act || rc)
			break;
		char action[512];
		snprintf(action, sizeof(action), "/p/%s/runs/%s/approve", program, json_string_value(r));
		char label[160];
		snprintf(label, sizeof(label), "Approve every proposal of run %s", json_string_value(r));
		rc = dash__button(c, b, action, label, "bulk-approve",
				  "Approve every proposal of this run?");
	}
	json_decref(runs);
	if (rc == 0 && n == 0)
		return buf_puts(b, "<p>No proposal waits for review. Run the matching with <code>tandem "
				   "match run --program NAME</code>.</p></section>\n", NULL);
	rc = rc || buf_puts(b, "<div class=\"scroll\" tabindex=\"0\"><table id=\"proposals\"><caption>Proposed pairs, "
			       "best score first within a run</caption><thead><tr>"
			       "<th scope=\"col\">Match</th><th scope=\"col\">Mentor</th>"
			       "<th scope=\"col\">Mentee</th><th scope=\"col\">Score</th>"
			       "<th scope=\"col\">Explanation</th>", NULL) ||
	     (act && buf_puts(b, "<th scope=\"col\">Actions</th>", NULL)) ||
	     buf_puts(b, "</tr></thead><tbody>\n", NULL);
	for (size_t k = from; rc == 0 && k < n && k < from + DASH_REVIEW_PAGE; k++) {
		json_t *m = json_array_get(rows, k);
		json_int_t id = json_integer_value(json_object_get(m, "id"));
		struct diag d;
		diag_clear(&d);
		json_t *full = matches_get_json(st, id, &d);
		rc = buf_printf(b, NULL, "<tr data-match=\"%lld\"><th scope=\"row\">%lld</th><td>",
				(long long)id, (long long)id) ||
		     put_person(b, json_object_get(m, "mentor")) || buf_puts(b, "</td><td>", NULL) ||
		     put_person(b, json_object_get(m, "mentee")) ||
		     buf_printf(b, NULL, "</td><td class=\"num\">%.3f</td><td>",
				json_number_value(json_object_get(m, "score"))) ||
		     put_explanation(b, json_object_get(full, "explanation")) ||
		     buf_puts(b, "</td>", NULL);
		json_decref(full);
		if (rc == 0 && act) {
			char base[256];
			snprintf(base, sizeof(base), "/p/%s/matches/%lld/", program, (long long)id);
			char a1[300], a2[300], a3[300], a4[300];
			snprintf(a1, sizeof(a1), "%sapprove", base);
			snprintf(a2, sizeof(a2), "%sreject", base);
			snprintf(a3, sizeof(a3), "%spin", base);
			snprintf(a4, sizeof(a4), "%sveto", base);
			rc = buf_puts(b, "<td class=\"actions\">", NULL) ||
			     dash__button(c, b, a1, "Approve", "approve", NULL) ||
			     dash__button(c, b, a2, "Reject", "reject", NULL) ||
			     dash__button(c, b, a3, "Pin", "pin", NULL) ||
			     buf_puts(b, "<form method=\"post\" class=\"veto\" action=\"", NULL) ||
			     html_put(b, a4) ||
			     buf_puts(b, "\" data-confirm=\"Veto this pair for good?\">", NULL) ||
			     dash__csrf_field(c, b) ||
			     buf_printf(b, NULL, "<label for=\"veto-%lld\">Reason</label><input "
						 "id=\"veto-%lld\" name=\"reason\" maxlength=\"200\">"
						 "<button type=\"submit\">Veto</button></form></td>",
					(long long)id, (long long)id);
		}
		rc = rc || buf_puts(b, "</tr>\n", NULL);
	}
	rc = rc || buf_puts(b, "</tbody></table></div>\n", NULL);
	if (rc == 0 && n > DASH_REVIEW_PAGE) {
		rc = buf_printf(b, NULL, "<nav class=\"pages\" aria-label=\"Proposal pages\"><ul>");
		for (size_t p = 0; rc == 0 && p * DASH_REVIEW_PAGE < n; p++) {
			rc = buf_puts(b, "<li><a href=\"/p/", NULL) || html_put(b, program) ||
			     buf_printf(b, NULL, "/review?page=%zu\"%s>%zu</a></li>", p,
					(int)p == page ? " aria-current=\"page\"" : "", p + 1);
		}
		rc = rc || buf_puts(b, "</ul></nav>\n", NULL);
	}
	return rc || buf_puts(b, "</section>\n", NULL);
}

static int
put_decided(struct buf *b, json_t *rows)
{
	int rc = buf_printf(b, NULL, "<section aria-labelledby=\"h-appr\"><h2 id=\"h-appr\">Approved "
				     "and active (%zu)</h2>\n", json_array_size(rows));
	if (json_array_size(rows) == 0)
		return rc || buf_puts(b, "<p>None yet.</p></section>\n", NULL);
	rc = rc || buf_puts(b, "<div class=\"scroll\" tabindex=\"0\"><table id=\"approved\"><thead><tr>"
			       "<th scope=\"col\">Match</th><th scope=\"col\">Mentor</th>"
			       "<th scope=\"col\">Mentee</th><th scope=\"col\">Status</th>"
			       "<th scope=\"col\">Decided by</th></tr></thead><tbody>\n", NULL);
	size_t i;
	json_t *m;
	json_array_foreach(rows, i, m)
	{
		if (rc || i >= 500)
			break;
		json_int_t id = json_integer_value(json_object_get(m, "id"));
		rc = buf_printf(b, NULL, "<tr data-match=\"%lld\" data-status=\"", (long long)id) ||
		     html_put(b, jstr(m, "status")) ||
		     buf_printf(b, NULL, "\"><th scope=\"row\">%lld</th><td>", (long long)id) ||
		     put_person(b, json_object_get(m, "mentor")) || buf_puts(b, "</td><td>", NULL) ||
		     put_person(b, json_object_get(m, "mentee")) || buf_puts(b, "</td><td>", NULL) ||
		     html_put(b, jstr(m, "status")) ||
		     (json_is_true(json_object_get(m, "pinned")) && buf_puts(b, " (pinned)", NULL)) ||
		     buf_puts(b, "</td><td>", NULL) || html_put(b, jstr(m, "decided_by")) ||
		     buf_puts(b, "</td></tr>\n", NULL);
	}
	if (rc == 0 && json_array_size(rows) > 500)
		rc = buf_printf(b, NULL, "</tbody></table></div><p class=\"note\">The first 500 of %zu "
					 "(tandem match list shows all).</p></section>\n",
				json_array_size(rows));
	else
		rc = rc || buf_puts(b, "</tbody></table></div></section>\n", NULL);
	return rc;
}

static const char *
reason_text(const char *r)
{
	return strcmp(r, "no_consent") == 0		? "enrolled without consent"
	       : strcmp(r, "no_allowed_partner") == 0 ? "no allowed partner under the policy"
	       : strcmp(r, "lost_to_better_use") == 0 ? "every allowed partner went to someone "
							 "else (a better use of capacity)"
							 : r;
}

static int
put_unmatched(struct http_call *c, struct buf *b, const struct config_program *p, int64_t pid,
	      int64_t enrolled)
{
	int rc = buf_puts(b, "<section aria-labelledby=\"h-unm\"><h2 id=\"h-unm\">Unmatched, with "
			     "the reasons</h2>\n<div id=\"unmatched\">", NULL);
	const char *ask = http_query(c->req, "unmatched");
	if (enrolled > DASH_UNMATCHED_AUTO && (ask == NULL || strcmp(ask, "1") != 0))
		return rc || buf_puts(b, "<p>This cohort is large: finding the reasons runs the policy "
				    "(a few seconds). <a href=\"/p/", NULL) ||
		       html_put(b, p->name) ||
		       buf_puts(b, "/review?unmatched=1#unmatched\">Find the reasons</a>.</p></div>"
				   "</section>\n", NULL);
	struct match_run_ctx x = {.st = dash__store(c), .ws = dash__ws(c), .prog = p,
				  .program_id = pid};
	struct match_run run;
	struct diag d;
	diag_clear(&d);
	json_t *why = NULL;
	if (match_run_solve(&x, NULL, &run, &d) != 0 || (why = match_run_unmatched(&x, &run, &d)) == NULL) {
		if (d.code != DIAG_NOTFOUND && d.code != DIAG_INVALID)
			tlog(TLOG_WARN, "dashboard: unmatched of %s: %s", p->name, d.msg);
		rc = rc || buf_puts(b, "<p>The reasons could not be found: ", NULL) ||
		     html_put(b, d.msg) || buf_puts(b, "</p>", NULL);
	} else {
		json_t *people = json_object_get(why, "people");
		if (json_array_size(people) == 0)
			rc = rc || buf_puts(b, "<p>Everybody has a partner.</p>", NULL);
		else
			rc = rc || buf_puts(b, "<ul>", NULL);
		size_t i;
		json_t *q;
		json_array_foreach(people, i, q)
		{
			if (rc || i >= 500)
				break;
			rc = buf_puts(b, "<li data-person=\"", NULL) || html_put(b, jstr(q, "id")) ||
			     buf_puts(b, "\">", NULL) || html_put(b, jstr(q, "side")) ||
			     buf_puts(b, " ", NULL) || put_person(b, q) || buf_puts(b, ": ", NULL) ||
			     html_put(b, reason_text(jstr(q, "reason"))) || buf_puts(b, "</li>", NULL);
		}
		if (json_array_size(people) > 0)
			rc = rc || buf_puts(b, "</ul>", NULL);
	}
	json_decref(why);
	match_run_fini(&run);
	return rc || buf_puts(b, "</div></section>\n", NULL);
}

static int64_t
count_enrolled(struct store *st, int64_t pid)
{
	struct stmt s = {0};
	struct diag d;
	int64_t n = 0;
	if (stmt_prepare(&s, st, "counting enrollments",
			 "SELECT count(*) FROM enrollments WHERE program_id = ?1", &d) == 0 &&
	    stmt_bind_int64(&s, 1, pid, &d) == 0 && stmt_step(&s, &d) == STMT_ROW)
		n = stmt_int64(&s, 0);
	stmt_finalize(&s);
	return n;
}

void
dash__get_review(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	const char *pg = http_query(c->req, "page");
	int page = pg != NULL ? atoi(pg) : 0;
	if (page < 0 || page > 100000)
		page = 0;
	json_t *prop = matches_list_json(dash__store(c), pid, "proposed", &d);
	json_t *appr = prop ? matches_list_json(dash__store(c), pid, "approved", &d) : NULL;
	json_t *act = appr ? matches_list_json(dash__store(c), pid, "active", &d) : NULL;
	if (act == NULL) {
		json_decref(prop);
		json_decref(appr);
		dash__error_diag(c, &d);
		return;
	}
	json_array_extend(appr, act);
	json_decref(act);
	struct buf b;
	char title[200];
	snprintf(title, sizeof(title), "%s: match review", p->name);
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/review") ||
		 put_proposals(c, &b, p->name, prop, page) || put_decided(&b, appr) ||
		 put_unmatched(c, &b, p, pid, count_enrolled(dash__store(c), pid)) ||
		 buf_puts(&b, "<section aria-labelledby=\"h-cmp\"><h2 id=\"h-cmp\">Compare two "
			      "policies</h2>\n<form method=\"get\" class=\"compare\" action=\"/p/", NULL) ||
		 html_put(&b, p->name) ||
		 buf_puts(&b, "/compare\"><label for=\"cmp-a\">Policy A</label><input id=\"cmp-a\" "
			      "name=\"a\" required value=\"", NULL) ||
		 html_put(&b, p->policy ? p->policy : "") ||
		 buf_puts(&b, "\"><label for=\"cmp-b\">Policy B</label><input id=\"cmp-b\" name=\"b\" "
			      "required><button type=\"submit\">Compare</button></form>"
			      "<p class=\"help\">A policy's name (policies/) or path; read only, nothing "
			      "is stored.</p></section>\n", NULL);
	json_decref(prop);
	json_decref(appr);
	dash__page_finish(c, &b, rc);
}

/* ---- actions ------------------------------------------------------------------------- */

/* 303 back to the review page with a done word. */
static void
back(struct http_call *c, const char *done)
{
	char loc[400];
	snprintf(loc, sizeof(loc), "/p/%s/review?done=%s", c->params[0], done);
	dash__redirect(c, loc);
}

void
dash__post_match(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	char *end;
	long long id = strtoll(c->params[1], &end, 10);
	const char *what = c->params[2];
	struct store *st = dash__store(c);
	struct diag d;
	diag_clear(&d);
	if (*end != '\0' || id <= 0) {
		dash__error(c, 404, "No such match", "No match '%s'.", c->params[1]);
		return;
	}
	json_t *m = matches_get_json(st, id, &d);
	if (m == NULL) {
		dash__error_diag(c, &d);
		return;
	}
	int64_t mpid = json_integer_value(json_object_get(m, "program_id"));
	int rc = 0;
	const char *done = NULL;
	if (mpid != pid) {
		rc = diag_set(&d, DIAG_NOTFOUND, "match %lld is not of program %s", id, p->name);
	} else if (strcmp(what, "approve") == 0 || strcmp(what, "reject") == 0) {
		int64_t one = id;
		int approve = what[0] == 'a';
		rc = matches_decide(st, &one, 1, approve ? MATCHES_APPROVE : MATCHES_REJECT,
				    c->actor, &d);
		done = approve ? "approved" : "rejected";
	} else if (strcmp(what, "pin") == 0 || strcmp(what, "veto") == 0) {
		int64_t mentor, mentee, pinned;
		const char *a = jstr(json_object_get(m, "mentor"), "id");
		const char *b = jstr(json_object_get(m, "mentee"), "id");
		rc = matches_find_person(st, a, &mentor, &d) || matches_find_person(st, b, &mentee, &d);
		if (rc == 0 && what[0] == 'p') {
			rc = matches_pin(st, pid, mentor, mentee, c->actor, &pinned, &d);
			done = "pinned";
		} else if (rc == 0) {
			char reason[256];
			int nrej = 0;
			if (dash__field(c, "reason", reason, sizeof(reason)) < 0)
				rc = diag_set(&d, DIAG_INVALID, "the reason is badly encoded or longer "
								"than 255 bytes");
			else
				rc = matches_veto(st, pid, mentor, mentee,
						  reason[0] ? reason : NULL, c->actor, &nrej, &d);
			done = "vetoed";
		}
	} else {
		rc = diag_set(&d, DIAG_NOTFOUND, "no action '%s' (approve, reject, pin, veto)", what);
	}
	json_decref(m);
	if (rc != 0) {
		dash__error_diag(c, &d);
		return;
	}
	back(c, done);
}

void
dash__post_run_approve(struct http_call *c)
{
	int64_t pid;
	if (dash__program(c, &pid) == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	int n = 0;
	if (matches_decide_bulk(dash__store(c), pid, c->params[1], MATCHES_APPROVE, c->actor, &n,
				&d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	back(c, "approved_the_run");
}

/* ---- compare ------------------------------------------------------------------------ */

static int
put_cmp_row(struct buf *b, json_t *pols, const char *label, const char *key, const char *fmt)
{
	int rc = buf_puts(b, "<tr><th scope=\"row\">", NULL) || html_put(b, label) ||
		 buf_puts(b, "</th>", NULL);
	size_t i;
	json_t *s;
	json_array_foreach(pols, i, s)
	{
		json_t *v = json_object_get(s, key);
		rc = rc || buf_puts(b, "<td class=\"num\">", NULL) ||
		     (json_is_number(v) ? buf_printf(b, NULL, fmt, json_number_value(v))
					: buf_puts(b, "&mdash;", NULL)) ||
		     buf_puts(b, "</td>", NULL);
	}
	return rc || buf_puts(b, "</tr>\n", NULL);
}

void
dash__get_compare(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	const char *refs[2] = {http_query(c->req, "a"), http_query(c->req, "b")};
	if (refs[0] == NULL || refs[1] == NULL || !refs[0][0] || !refs[1][0]) {
		dash__error(c, 400, "Two policies needed", "Name two policies: ?a=POLICY&b=POLICY.");
		return;
	}
	struct match_run_ctx x = {.st = dash__store(c), .ws = dash__ws(c), .prog = p,
				  .program_id = pid};
	struct diag d;
	diag_clear(&d);
	json_t *doc = match_run_compare(&x, refs, 2, &d);
	if (doc == NULL) {
		dash__error_diag(c, &d);
		return;
	}
	json_t *pols = json_object_get(doc, "policies");
	struct buf b;
	char title[200];
	snprintf(title, sizeof(title), "%s: two policies compared", p->name);
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/review") ||
		 buf_puts(&b, "<p>A dry run of each policy on the program's cohort: nothing was "
			      "stored.</p>\n<div class=\"scroll\" tabindex=\"0\"><table id=\"compare\"><thead><tr>"
			      "<th scope=\"col\">Figure</th>", NULL);
	size_t i;
	json_t *s;
	json_array_foreach(pols, i, s)
	{
		rc = rc || buf_puts(&b, "<th scope=\"col\">", NULL) || html_put(&b, jstr(s, "policy")) ||
		     buf_puts(&b, "</th>", NULL);
	}
	rc = rc || buf_puts(&b, "</tr></thead><tbody>\n", NULL) ||
	     put_cmp_row(&b, pols, "Pairs matched", "matched", "%.0f") ||
	     put_cmp_row(&b, pols, "Mentees unmatched", "unmatched", "%.0f") ||
	     put_cmp_row(&b, pols, "Total score", "total", "%.3f") ||
	     put_cmp_row(&b, pols, "Mean score (own scale)", "mean", "%.3f") ||
	     put_cmp_row(&b, pols, "Mean score (0..1, common scale)", "normalized_mean", "%.3f");
	/* Each feature's mean, for the features of the first policy. */
	const char *k;
	json_t *f;
	json_object_foreach(json_object_get(json_array_get(pols, 0), "feature_means"), k, f)
	{
		rc = rc || buf_puts(&b, "<tr><th scope=\"row\">Feature ", NULL) || html_put(&b, k) ||
		     buf_puts(&b, "</th>", NULL);
		json_array_foreach(pols, i, s)
		{
			json_t *v = json_object_get(json_object_get(s, "feature_means"), k);
			rc = rc || (json_is_number(v) ? buf_printf(&b, NULL, "<td class=\"num\">%.3f</td>",
								   json_number_value(v))
						      : buf_puts(&b, "<td>&mdash;</td>", NULL));
		}
		rc = rc || buf_puts(&b, "</tr>\n", NULL);
	}
	json_t *common = json_object_get(doc, "pairs_in_common");
	rc = rc || buf_printf(&b, NULL, "</tbody></table></div>\n<p>Pairs both policies chose: "
					"<strong id=\"in-common\">%lld</strong>.</p>\n",
			      (long long)(json_is_array(common) ? (json_int_t)json_array_size(common)
								: json_integer_value(common)));
	json_decref(doc);
	dash__page_finish(c, &b, rc);
}

/*
 * http/dash_pages: a program's sessions calendar (`/p/PROGRAM/sessions`: a month grid or a
 * list, for the program or one person, cancelled and missed marked; the days those of ?tz=,
 * which the page's script sets to the viewer's zone, else the workspace's) and its health page
 * (`/p/PROGRAM/health`: the pairs by health with the reasons, and the actions nudge, end
 * and rematch). The data is sched/session's listing and report/health's document (what
 * `tandem sessions list` and `tandem health` print); actions are program/lifecycle's end,
 * an outbox message (events/outbox) and program/match_run's rematch run.
 *
 * A rematch ends the match and stores the new proposals in one transaction (a refused run
 * leaves the match as it was); it runs the program's policy plugin (in its worker) and
 * waits for it on the loop's thread, as the API's match run does (docs/dashboard.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/outbox.h"
#include "http/dash_internal.h"
#include "program/config.h"
#include "program/lifecycle.h"
#include "program/match_run.h"
#include "program/matches.h"
#include "report/health.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/cal.h"
#include "time/tz.h"

enum { DASH_SESSIONS_MAX = 400, DASH_PAIRS_PAGE = 50 };

static int
put_side(struct buf *b, const struct session_side *s)
{
	return html_put(b, s->name ? s->name : s->external_id);
}

/* One session as an element of the calendar (li in the grid, tr in the list). */
static int
put_session(struct buf *b, const struct session_row *r, int as_row)
{
	char iso[STORE_TIME_MAX];
	store_format_time(r->start, iso);
	const char *state = session_status_name(r->status);
	int rc = buf_printf(b, NULL, "<%s data-session=\"%lld\" data-state=\"%s\" class=\"s-%s\">",
			    as_row ? "tr" : "li", (long long)r->id, state, state);
	if (as_row)
		return rc || buf_puts(b, "<td>", NULL) || dash__time(b, iso) ||
		       buf_puts(b, "</td><td>", NULL) || put_side(b, &r->mentor) ||
		       buf_puts(b, " &amp; ", NULL) || put_side(b, &r->mentee) ||
		       buf_puts(b, "</td><td>", NULL) || html_put(b, r->topic ? r->topic : "") ||
		       buf_printf(b, NULL, "</td><td><span class=\"state\">%s</span>", state) ||
		       (r->status_reason && (buf_puts(b, " (", NULL) ||
					     html_put(b, r->status_reason) || buf_puts(b, ")", NULL))) ||
		       buf_puts(b, "</td></tr>\n", NULL);
	return rc || dash__time(b, iso) || buf_puts(b, " ", NULL) || put_side(b, &r->mentor) ||
	       buf_puts(b, " &amp; ", NULL) || put_side(b, &r->mentee) ||
	       buf_printf(b, NULL, " <span class=\"state\">%s</span></li>\n", state);
}

void
dash__get_sessions(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	struct store *st = dash__store(c);
	const char *view = http_query(c->req, "view");
	const char *month = http_query(c->req, "month");
	const char *person = http_query(c->req, "person");
	const char *tzq = http_query(c->req, "tz");
	int list = view != NULL && strcmp(view, "list") == 0;
	if (view != NULL && !list && strcmp(view, "month") != 0) {
		dash__error(c, 400, "Unknown view", "view is month or list (got '%s').", view);
		return;
	}
	/* The days are those of a zone: ?tz= (the script passes the viewer's), else the
	 * workspace's. */
	const struct config *cfg = dash__config(c);
	const char *zone = tzq != NULL && tzq[0] != '\0' ? tzq
			   : cfg != NULL && cfg->timezone != NULL ? cfg->timezone
								  : "UTC";
	struct diag d;
	diag_clear(&d);
	if (strlen(zone) > 64 || tz_check(zone, &d) != 0) {
		dash__error(c, 400, "Unknown time zone",
			    "tz is an IANA zone name like Europe/Paris (got '%.64s').", zone);
		return;
	}
	int y, m;
	char extra;
	time_t now = store_time(st);
	struct tm tm;
	if (tz_utc_to_local(zone, now, &tm, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	if (month == NULL || month[0] == '\0') {
		y = tm.tm_year + 1900, m = tm.tm_mon + 1;
	} else if (sscanf(month, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12 || y < 1970 ||
		   y > 9999) {
		dash__error(c, 400, "Unknown month", "month is YYYY-MM (got '%s').", month);
		return;
	}
	struct session_filter f = {.program_id = pid, .status = -1, .limit = DASH_SESSIONS_MAX + 1};
	if (person != NULL && person[0] != '\0' && matches_find_person(st, person, &f.person_id, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	struct tm a = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1};
	struct tm z = {.tm_year = (m == 12 ? y + 1 : y) - 1900, .tm_mon = m % 12, .tm_mday = 1};
	if (tz_local_to_utc(zone, &a, &f.from, &d) != 0 || tz_local_to_utc(zone, &z, &f.until, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	struct session_row *rows = NULL;
	size_t n = 0;
	if (session_list(st, &f, &rows, &n, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	char title[200], prev[24], next[24], here[24];
	snprintf(title, sizeof(title), "%s: sessions", p->name);
	snprintf(here, sizeof(here), "%04d-%02d", y, m);
	snprintf(prev, sizeof(prev), "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
	snprintf(next, sizeof(next), "%04d-%02d", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	char q[160] = "";
	if (f.person_id != 0) {
		/* person is one of ours (it was found): its text goes into links escaped. */
		snprintf(q, sizeof(q), "&amp;person=");
	}
	struct buf b;
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/sessions") ||
		 buf_puts(&b, "<form method=\"get\" class=\"filters\"><label for=\"f-month\">Month"
			      "</label><input id=\"f-month\" name=\"month\" type=\"month\" value=\"", NULL) ||
		 buf_puts(&b, here, NULL) ||
		 buf_puts(&b, "\"><label for=\"f-person\">Person (id or e-mail)</label><input "
			      "id=\"f-person\" name=\"person\" value=\"", NULL) ||
		 html_put(&b, f.person_id ? person : "") ||
		 buf_puts(&b, "\"><label for=\"f-view\">View</label><select id=\"f-view\" "
			      "name=\"view\"><option value=\"month\"", NULL) ||
		 buf_puts(&b, list ? "" : " selected", NULL) ||
		 buf_puts(&b, ">Month</option><option value=\"list\"", NULL) ||
		 buf_puts(&b, list ? " selected" : "", NULL) ||
		 buf_puts(&b, ">List</option></select><input type=\"hidden\" name=\"tz\" value=\"",
			  NULL) ||
		 html_put(&b, zone) ||
		 buf_puts(&b, "\"><button type=\"submit\">Show</button></form>\n<p class=\"months\">",
			  NULL);
	const char *nav[2][2] = {{prev, "Previous month"}, {next, "Next month"}};
	for (int i = 0; rc == 0 && i < 2; i++)
		rc = buf_puts(&b, "<a href=\"/p/", NULL) || html_put(&b, p->name) ||
		     buf_printf(&b, NULL, "/sessions?view=%s&amp;month=%s", list ? "list" : "month",
				nav[i][0]) ||
		     (f.person_id && (buf_puts(&b, q, NULL) || html_put(&b, person))) ||
		     buf_puts(&b, "&amp;tz=", NULL) || html_put(&b, zone) ||
		     buf_printf(&b, NULL, "\">%s</a> ", nav[i][1]);
	size_t shown = n > DASH_SESSIONS_MAX ? DASH_SESSIONS_MAX : n;
	rc = rc || buf_printf(&b, NULL, "</p>\n<h2>%s</h2>\n<p class=\"note\" id=\"zone\" data-zone=\"", here) ||
	     html_put(&b, zone) || buf_puts(&b, "\">Days in ", NULL) || html_put(&b, zone) ||
	     buf_puts(&b, ".</p>\n", NULL);
	if (rc == 0 && n > DASH_SESSIONS_MAX)
		rc = buf_printf(&b, NULL, "<p class=\"note\">The first %d sessions of the month; "
					  "name a person to see theirs.</p>\n", DASH_SESSIONS_MAX);
	if (rc == 0 && list) {
		rc = buf_puts(&b, "<div class=\"scroll\" tabindex=\"0\"><table id=\"calendar\" class=\"list\"><thead><tr>"
				  "<th scope=\"col\">When</th><th scope=\"col\">Pair</th><th "
				  "scope=\"col\">Topic</th><th scope=\"col\">State</th></tr></thead>"
				  "<tbody>\n", NULL);
		for (size_t i = 0; rc == 0 && i < shown; i++)
			rc = put_session(&b, &rows[i], 1);
		rc = rc || buf_puts(&b, "</tbody></table></div>\n", NULL);
	} else if (rc == 0) {
		/* A grid of the month's days in the zone, Monday first; each day lists its
		 * sessions (the rows come ordered by start, so by local day too). */
		static const char *const wd[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
		int days = cal_days_in_month(y, m);
		struct tm first = a;
		timegm(&first);
		int lead = (first.tm_wday + 6) % 7;
		rc = buf_puts(&b, "<div id=\"calendar\" class=\"month\"><ol class=\"days\">", NULL);
		for (int i = 0; rc == 0 && i < lead; i++)
			rc = buf_puts(&b, "<li class=\"pad\" aria-hidden=\"true\"></li>", NULL);
		size_t k = 0;
		for (int day = 1; rc == 0 && day <= days; day++) {
			rc = buf_printf(&b, NULL, "<li class=\"day\"><h3><span class=\"wd\">%s</span> %d</h3>",
					wd[(lead + day - 1) % 7], day);
			int any = 0;
			for (; rc == 0 && k < shown; k++) {
				struct tm st_tm;
				if (tz_utc_to_local(zone, rows[k].start, &st_tm, &d) != 0) {
					rc = -1;
					break;
				}
				if (st_tm.tm_mday != day)
					break;
				rc = (!any && buf_puts(&b, "<ul>", NULL)) || put_session(&b, &rows[k], 0);
				any = 1;
			}
			rc = rc || (any && buf_puts(&b, "</ul>", NULL)) || buf_puts(&b, "</li>\n", NULL);
		}
		rc = rc || buf_puts(&b, "</ol></div>\n", NULL);
	}
	if (rc == 0 && n == 0)
		rc = buf_puts(&b, "<p>No session this month.</p>\n", NULL);
	session_rows_free(rows, n);
	dash__page_finish(c, &b, rc);
}

/* ---- health ---------------------------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int
put_pair_actions(struct http_call *c, struct buf *b, const char *program, json_int_t id)
{
	char a[3][300];
	snprintf(a[0], sizeof(a[0]), "/p/%s/pairs/%lld/nudge", program, (long long)id);
	snprintf(a[1], sizeof(a[1]), "/p/%s/pairs/%lld/end", program, (long long)id);
	snprintf(a[2], sizeof(a[2]), "/p/%s/pairs/%lld/rematch", program, (long long)id);
	return buf_puts(b, "<td class=\"actions\">", NULL) ||
	       dash__button(c, b, a[0], "Nudge", "nudge", NULL) ||
	       buf_puts(b, "<form method=\"post\" class=\"end\" action=\"", NULL) || html_put(b, a[1]) ||
	       buf_puts(b, "\" data-confirm=\"End this match?\">", NULL) || dash__csrf_field(c, b) ||
	       buf_printf(b, NULL, "<label for=\"end-%lld\">Reason</label><input id=\"end-%lld\" "
				   "name=\"reason\" required maxlength=\"200\"><button "
				   "type=\"submit\">End</button></form>",
			  (long long)id, (long long)id) ||
	       dash__button(c, b, a[2], "End and rematch", "rematch",
			    "End this match and propose new partners?") ||
	       buf_puts(b, "</td>", NULL);
}

void
dash__get_health(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	const char *want = http_query(c->req, "status");
	const char *pg = http_query(c->req, "page");
	int page = pg != NULL ? atoi(pg) : 0;
	if (page < 0 || page > 1000000)
		page = 0;
	struct diag d;
	diag_clear(&d);
	enum health_status ws;
	if (want != NULL && want[0] != '\0' && health_status_parse(want, &ws, &d) != 0) {
		dash__error(c, 400, "Unknown status", "%s", d.msg);
		return;
	}
	json_t *doc = NULL;
	if (health_program(dash__store(c), dash__config(c), p->name, store_time(dash__store(c)),
			   &doc, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	int act = dash__can_act(c);
	char title[200];
	snprintf(title, sizeof(title), "%s: health", p->name);
	json_t *counts = json_object_get(doc, "counts");
	struct buf b;
	int rc = dash__page_start(c, &b, title) || dash__subnav(c, &b, p->name, "/health") ||
		 buf_puts(&b, "<ul class=\"health filters\" aria-label=\"Show pairs\">", NULL);
	static const char *const st[4] = {"at_risk", "needs_checkin", "too_early", "on_track"};
	for (int i = 0; rc == 0 && i < 4; i++)
		rc = buf_puts(&b, "<li><a href=\"/p/", NULL) || html_put(&b, p->name) ||
		     buf_printf(&b, NULL, "/health?status=%s\" data-health=\"%s\">%s: %lld</a></li>",
				st[i], st[i], st[i],
				(long long)json_integer_value(json_object_get(counts, st[i])));
	rc = rc || buf_puts(&b, "</ul>\n<p class=\"note\">", NULL) ||
	     buf_puts(&b, want && want[0] ? "Pairs of one status." : "Pairs that need attention "
								      "(at risk, then needing a "
								      "check-in).", NULL) ||
	     buf_puts(&b, "</p>\n<div class=\"scroll\" tabindex=\"0\"><table id=\"pairs\"><thead><tr>"
			  "<th scope=\"col\">Match</th><th scope=\"col\">Pair</th><th scope=\"col\">"
			  "Status</th><th scope=\"col\">Held / missed</th><th scope=\"col\">Reasons"
			  "</th>", NULL) ||
	     (act && buf_puts(&b, "<th scope=\"col\">Actions</th>", NULL)) ||
	     buf_puts(&b, "</tr></thead><tbody>\n", NULL);
	int shown = 0, listed = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t i;
		json_t *pr;
		json_array_foreach(json_object_get(doc, "pairs"), i, pr)
		{
			const char *s = jstr(pr, "status");
			int keep = want && want[0] ? pass == 0 && strcmp(s, want) == 0
						   : strcmp(s, pass == 0 ? "at_risk" : "needs_checkin") == 0;
			if (!keep || rc)
				continue;
			listed++;
			if (listed <= page * DASH_PAIRS_PAGE || shown >= DASH_PAIRS_PAGE)
				continue;
			shown++;
			json_int_t id = json_integer_value(json_object_get(pr, "match_id"));
			json_t *mr = json_object_get(pr, "mentor"), *me = json_object_get(pr, "mentee");
			rc = buf_printf(&b, NULL, "<tr data-pair=\"%lld\" data-status=\"", (long long)id) ||
			     html_put(&b, s) ||
			     buf_printf(&b, NULL, "\"><th scope=\"row\">%lld</th><td>", (long long)id) ||
			     html_put(&b, jstr(mr, "name")) || buf_puts(&b, " &amp; ", NULL) ||
			     html_put(&b, jstr(me, "name")) || buf_puts(&b, "</td><td>", NULL) ||
			     html_put(&b, s) ||
			     buf_printf(&b, NULL, "</td><td class=\"num\">%lld / %lld</td><td><ul>",
					(long long)json_integer_value(json_object_get(pr, "held")),
					(long long)json_integer_value(json_object_get(pr, "missed")));
			size_t j;
			json_t *r;
			json_array_foreach(json_object_get(pr, "reasons"), j, r)
			{
				rc = rc || buf_puts(&b, "<li>", NULL) || html_put(&b, jstr(r, "text")) ||
				     buf_puts(&b, " <span class=\"action\">(suggested: ", NULL) ||
				     html_put(&b, jstr(r, "action")) || buf_puts(&b, ")</span></li>", NULL);
			}
			rc = rc || buf_puts(&b, "</ul></td>", NULL) ||
			     (act && put_pair_actions(c, &b, p->name, id)) || buf_puts(&b, "</tr>\n", NULL);
		}
	}
	rc = rc || buf_puts(&b, "</tbody></table></div>\n", NULL);
	if (rc == 0 && shown == 0)
		rc = buf_puts(&b, "<p>No pair to show.</p>\n", NULL);
	if (rc == 0 && listed > DASH_PAIRS_PAGE) {
		rc = buf_printf(&b, NULL, "<p class=\"note\">Pairs %d-%d of %d.</p><nav class=\"pages\" "
					  "aria-label=\"Pair pages\"><ul>",
				page * DASH_PAIRS_PAGE + (shown > 0), page * DASH_PAIRS_PAGE + shown, listed);
		for (int k = 0; rc == 0 && k * DASH_PAIRS_PAGE < listed; k++)
			rc = buf_puts(&b, "<li><a href=\"/p/", NULL) || html_put(&b, p->name) ||
			     buf_puts(&b, "/health?", NULL) ||
			     (want && want[0] && (buf_puts(&b, "status=", NULL) || html_put(&b, want) ||
						  buf_puts(&b, "&amp;", NULL))) ||
			     buf_printf(&b, NULL, "page=%d\"%s>%d</a></li>", k,
					k == page ? " aria-current=\"page\"" : "", k + 1);
		rc = rc || buf_puts(&b, "</ul></nav>\n", NULL);
	}
	json_decref(doc);
	dash__page_finish(c, &b, rc);
}

/* A nudge to each side of the pair, queued in the outbox once a day at most (both or
 * neither, in one transaction); *queued: how many were new. */
static int
nudge(struct http_call *c, int64_t pid, json_t *m, int64_t id, int *queued, struct diag *d)
{
	struct store *st = dash__store(c);
	const struct config *cfg = dash__config(c);
	char day[STORE_TIME_MAX];
	*queued = 0;
	if (store_timestamp(st, day) != 0)
		return diag_set(d, DIAG_INTERNAL, "nudging: the clock is out of range");
	const char *ids[2] = {jstr(json_object_get(m, "mentor"), "id"),
			      jstr(json_object_get(m, "mentee"), "id")};
	const char *names[2] = {jstr(json_object_get(m, "mentee"), "name"),
				jstr(json_object_get(m, "mentor"), "name")};
	if (store_begin(st, d) != 0)
		return -1;
	for (int k = 0; k < 2; k++) {
		int64_t person, out = 0;
		char key[200], body[600];
		if (matches_find_person(st, ids[k], &person, d) != 0)
			goto fail;
		snprintf(key, sizeof(key), "nudge:%lld:%lld:%.10s", (long long)id, (long long)person,
			 day);
		snprintf(body, sizeof(body),
			 "Hello,\n\nyour program's manager would like to hear how your sessions with %s "
			 "are going. If you have not met for a while, now is a good time to plan the "
			 "next session.\n\n(sent by %s from the tandem dashboard)\n",
			 names[k], c->actor);
		struct outbox_msg msg = {.key = key, .kind = "nudge",
					 .channel = cfg && cfg->notify ? cfg->notify : "eml",
					 .recipient_id = person, .program_id = pid,
					 .subject = "How are your mentoring sessions going?", .body = body,
					 .not_before = store_time(st)};
		if (outbox_enqueue(st, &msg, &out, d) != 0)
			goto fail;
		*queued += out != 0;
	}
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

void
dash__post_pair(struct http_call *c)
{
	int64_t pid;
	const struct config_program *p = dash__program(c, &pid);
	if (p == NULL)
		return;
	struct store *st = dash__store(c);
	char *end;
	long long id = strtoll(c->params[1], &end, 10);
	const char *what = c->params[2];
	struct diag d;
	diag_clear(&d);
	json_t *m = *end == '\0' && id > 0 ? matches_get_json(st, id, &d) : NULL;
	if (m == NULL) {
		if (*end != '\0' || id <= 0)
			diag_set(&d, DIAG_NOTFOUND, "no match '%s'", c->params[1]);
		dash__error_diag(c, &d);
		return;
	}
	int rc = 0;
	const char *done = NULL;
	char reason[256];
	if (json_integer_value(json_object_get(m, "program_id")) != pid) {
		rc = diag_set(&d, DIAG_NOTFOUND, "match %lld is not of program %s", id, p->name);
	} else if (strcmp(what, "nudge") == 0) {
		int queued = 0;
		rc = nudge(c, pid, m, id, &queued, &d);
		done = queued ? "nudge_queued" : "nudged_today_already";
	} else if (strcmp(what, "end") == 0) {
		int got = dash__field(c, "reason", reason, sizeof(reason));
		if (got != 1 || reason[strspn(reason, " ")] == '\0')
			rc = diag_set(&d, DIAG_INVALID, "say why the match ends (a reason of 1-255 bytes)");
		else
			rc = lifecycle_end(st, id, reason, c->actor, NULL, &d);
		done = "match_ended";
	} else if (strcmp(what, "rematch") == 0) {
		/* One transaction: the end and the new proposals land together, or a refused run
		 * (no allowed partner, fewer than half) leaves the match as it was. The run reads
		 * the cohort through this connection, so it sees the pair as ended. */
		rc = store_begin(st, &d);
		if (rc == 0) {
			struct match_run_ctx x = {.st = st, .ws = dash__ws(c), .prog = p,
						  .program_id = pid, .rematch = 1};
			struct match_run run;
			rc = lifecycle_end(st, id, "rematch (dashboard)", c->actor, NULL, &d);
			if (rc == 0) {
				rc = match_run_solve(&x, NULL, &run, &d) != 0 ||
				     match_run_store(&x, &run, c->actor, 0, &d) != 0;
				match_run_fini(&run);
			}
			if (rc == 0)
				rc = store_commit(st, &d);
			else
				store_rollback(st);
		}
		done = "ended_and_proposed_new_partners";
	} else {
		rc = diag_set(&d, DIAG_NOTFOUND, "no action '%s' (nudge, end, rematch)", what);
	}
	json_decref(m);
	if (rc != 0) {
		dash__error_diag(c, &d);
		return;
	}
	char loc[400];
	snprintf(loc, sizeof(loc), "/p/%s/%s?done=%s", p->name,
		 strcmp(what, "rematch") == 0 ? "review" : "health", done);
	dash__redirect(c, loc);
}

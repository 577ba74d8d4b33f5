/*
 * http/dash: the dashboard's dispatch, sign-in and sign-out, the page frame
 * and the checks every POST passes (see dash.h, docs/dashboard.md). The pages themselves
 * are in dash_overview.c, dash_review.c and dash_pages.c (dash_internal.h), the static files
 * in dash_static.c.
 */
#include "http/dash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "base/clock.h"
#include "http/dash_internal.h"
#include "http/dash_static.h"
#include "http/dbgen.h"
#include "program/config.h"
#include "program/matches.h"
#include "store/store.h"

struct figures {
	char *program;
	json_t *v;
	uint64_t stale_at; /* monotonic ms when the database changed after it; 0: fresh */
	uint64_t computed; /* monotonic ms when computed */
	struct figures *next;
};

/* The loop's timer that computes figures after the answer went out (its own allocation:
 * the close callback frees it whenever the loop runs it). */
struct refresher {
	uv_timer_t timer;
	struct dash *dash; /* NULL once stopped */
};

struct dash {
	struct http_api *api;
	struct dash_file files[DASH_STATIC_FILES];
	struct dbgen gen;
	struct figures *figures;
	struct refresher *refresher; /* NULL without a loop */
	int warm;		     /* 1: compute every program's figures at the next tick */
};


/* ---- lifecycle --------------------------------------------------------------------- */

static void on_refresh(uv_timer_t *t);

struct dash *
dash_new(struct http_api *api, struct diag *d)
{
	struct dash *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	x->api = api;
	dbgen_init_shared(&x->gen, &api->gen);
	dash_static_load(x->files);
	if (api->o.loop != NULL) {
		struct refresher *r = calloc(1, sizeof(*r));
		if (r == NULL || uv_timer_init(api->o.loop, &r->timer) != 0) {
			free(r);
			dash_delete(x);
			diag_set(d, DIAG_NOMEM, "dashboard: cannot make its timer");
			return NULL;
		}
		r->dash = x;
		r->timer.data = r;
		x->refresher = r;
		/* The overview's figures are computed once the server runs, so the first page
		 * finds them ready (see DASH_WARM_MS). */
		x->warm = 1;
		uv_timer_start(&r->timer, on_refresh, DASH_WARM_MS, 0);
	}
	return x;
}

static void
on_refresher_closed(uv_handle_t *h)
{
	free(h->data);
}

void
dash_stop(struct dash *d)
{
	if (d == NULL || d->refresher == NULL)
		return;
	d->refresher->dash = NULL;
	uv_close((uv_handle_t *)&d->refresher->timer, on_refresher_closed);
	d->refresher = NULL;
}

void
dash_delete(struct dash *d)
{
	if (d == NULL)
		return;
	dash_stop(d);
	dash_static_free(d->files);
	for (struct figures *f = d->figures, *next; f != NULL; f = next) {
		next = f->next;
		json_decref(f->v);
		free(f->program);
		free(f);
	}
	dbgen_fini(&d->gen);
	free(d);
}

int
dash_path(const char *path)
{
	return strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0 &&
	       strcmp(path, "/healthz") != 0 && strncmp(path, "/c/", 3) != 0;
}

/* ---- the figures' cache ------------------------------------------------------------- */

static struct figures *
find(struct dash *d, const char *program)
{
	struct figures *f = d->figures;
	for (; f != NULL && strcmp(f->program, program) != 0; f = f->next)
		;
	return f;
}

static void
put(struct dash *d, const char *program, json_t *v)
{
	struct figures *f = find(d, program);
	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL || (f->program = strdup(program)) == NULL) {
			free(f);
			return;
		}
		f->next = d->figures;
		d->figures = f;
	}
	json_decref(f->v);
	f->v = json_incref(v);
	f->stale_at = 0;
	f->computed = clock_mono_ms(NULL);
}

/* Marks every kept figure stale when the database changed since the last look. */
static void
notice_changes(struct dash *d)
{
	int changed = 0;
	struct diag dg;
	diag_clear(&dg);
	if (dbgen_check(&d->gen, &changed, &dg) != 0)
		changed = 1;
	uint64_t now = clock_mono_ms(NULL);
	for (struct figures *f = d->figures; changed && f != NULL; f = f->next)
		if (f->stale_at == 0)
			f->stale_at = now ? now : 1;
}

static void
on_refresh(uv_timer_t *t)
{
	struct refresher *r = t->data;
	struct dash *d = r->dash;
	if (d == NULL)
		return;
	const struct config *cfg = d->api->o.cfg;
	uint64_t t0 = clock_mono_ms(NULL);
	int n = 0;
	notice_changes(d);
	for (int i = 0; cfg != NULL && i < cfg->nprograms; i++) {
		const char *name = cfg->programs[i].name;
		struct figures *f = find(d, name);
		if (f == NULL ? !d->warm : f->stale_at == 0)
			continue;
		struct diag dg;
		diag_clear(&dg);
		json_t *v = dash__figures_compute(d->api, name, &dg);
		if (v == NULL && dg.code != DIAG_NOTFOUND)
			tlog(TLOG_WARN, "dashboard: figures of %s: %s", name, dg.msg);
		if (v != NULL)
			put(d, name, v);
		json_decref(v);
		n++;
	}
	d->warm = 0;
	if (n > 0)
		tlog(TLOG_INFO, "dashboard: figures of %d programs computed in %llu ms", n,
		     (unsigned long long)(clock_mono_ms(NULL) - t0));
}

json_t *
dash__figures(struct http_call *c, const char *program, struct diag *dg)
{
	struct dash *d = dash__req(c)->dash;
	notice_changes(d);
	struct figures *f = find(d, program);
	uint64_t now = clock_mono_ms(NULL);
	if (f != NULL && f->stale_at != 0 && d->refresher != NULL &&
	    !uv_is_active((uv_handle_t *)&d->refresher->timer)) {
		/* At most one computation a DASH_FIGURES_STALE_S: each holds the loop. */
		uint64_t due = f->computed + DASH_FIGURES_STALE_S * 1000u, wait = DASH_REFRESH_MS;
		if (due > now + wait)
			wait = due - now;
		uv_timer_start(&d->refresher->timer, on_refresh, wait, 0);
	}
	if (f != NULL && (f->stale_at == 0 || d->refresher != NULL ||
			  now - f->stale_at < DASH_FIGURES_STALE_S * 1000u))
		return json_incref(f->v);
	json_t *v = dash__figures_compute(d->api, program, dg);
	if (v != NULL)
		put(d, program, v);
	return v;
}

/* ---- helpers for the pages ----------------------------------------------------------- */

struct store *
dash__store(struct http_call *c)
{
	return dash__req(c)->api->o.st;
}

const struct config *
dash__config(struct http_call *c)
{
	return dash__req(c)->api->o.cfg;
}

const char *
dash__ws(struct http_call *c)
{
	return dash__req(c)->api->o.ws;
}

int
dash__can_act(struct http_call *c)
{
	return dash__req(c)->who.scope >= HTTP_SCOPE_MANAGE;
}

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	"<meta name=\"robots\" content=\"noindex\">"
	/* No icon file: an empty one, so browsers do not ask /favicon.ico (a sign-in redirect). */
	"<link rel=\"icon\" href=\"data:,\">";

/* The <head> up to <body> and the skip link. */
static int
put_head(struct dash *x, struct buf *b, const char *title)
{
	int rc = buf_puts(b, page_head, NULL) || buf_puts(b, "<title>", NULL) ||
		 html_put(b, title) || buf_puts(b, " - tandem</title>", NULL);
	if (rc == 0 && x->files[0].body != NULL)
		rc = buf_printf(b, NULL, "<link rel=\"stylesheet\" href=\"/static/dashboard.css?v=%s\">",
				x->files[0].version);
	if (rc == 0 && x->files[1].body != NULL)
		rc = buf_printf(b, NULL, "<script src=\"/static/dashboard.js?v=%s\" defer></script>",
				x->files[1].version);
	return rc || buf_puts(b, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to "
				 "content</a>\n", NULL);
}

int
dash__csrf_field(struct http_call *c, struct buf *b)
{
	return buf_printf(b, NULL, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
			  dash__req(c)->who.csrf);
}

int
dash__page_start(struct http_call *c, struct buf *b, const char *title)
{
	struct dash_req *r = dash__req(c);
	const struct config *cfg = dash__config(c);
	buf_init(b);
	int rc = put_head(r->dash, b, title) ||
		 buf_puts(b, "<header class=\"top\"><nav aria-label=\"Main\"><ul>"
			     "<li><a href=\"/\">Programs</a></li>", NULL);
	for (int i = 0; rc == 0 && cfg != NULL && i < cfg->nprograms; i++) {
		const char *name = cfg->programs[i].name;
		rc = buf_puts(b, "<li><a href=\"/p/", NULL) || html_put(b, name) ||
		     buf_puts(b, "\">", NULL) || html_put(b, name) || buf_puts(b, "</a></li>", NULL);
	}
	rc = rc || buf_puts(b, "<li><a href=\"/events\">Events</a></li></ul></nav>"
			       "<form id=\"signout\" method=\"post\" action=\"/signout\">", NULL) ||
	     dash__csrf_field(c, b) || buf_puts(b, "<span id=\"whoami\">", NULL) ||
	     html_put(b, r->who.name) ||
	     buf_printf(b, NULL, " (%s)</span> <button type=\"submit\">Sign out</button></form>"
				 "</header>\n<main id=\"main\">\n<h1>",
			http_scope_name(r->who.scope)) ||
	     html_put(b, title) || buf_puts(b, "</h1>\n", NULL);
	const char *done = http_query(c->req, "done");
	char said[64];
	if (rc == 0 && done != NULL && done[0] != '\0' && strlen(done) < sizeof(said) &&
	    strspn(done, "abcdefghijklmnopqrstuvwxyz_") == strlen(done)) {
		/* A fixed word from our own redirect, shown as words, never as markup. */
		snprintf(said, sizeof(said), "%s", done);
		for (char *p = said; *p; p++)
			if (*p == '_')
				*p = ' ';
		rc = buf_puts(b, "<p id=\"flash\" role=\"status\">Done: ", NULL) ||
		     html_put(b, said) || buf_puts(b, ".</p>\n", NULL);
	}
	return rc;
}

static void
send_html(struct http_response *resp, struct buf *b, int status)
{
	http_response_fini(resp);
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body_len = b->len;
	resp->body = buf_release(b);
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_response_header(resp, "Referrer-Policy", "same-origin");
	http_response_header(resp, "Content-Security-Policy",
			     "default-src 'none'; style-src 'self'; script-src 'self'; "
			     "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
			     "frame-ancestors 'none'; base-uri 'none'");
}

void
dash__page_send(struct http_call *c, struct buf *b, int status)
{
	if (buf_puts(b, "</main>\n<footer><p>tandem " TANDEM_VERSION "</p></footer>\n"
			"</body></html>\n", NULL) != 0) {
		buf_fini(b);
		http_response_fini(c->resp);
		c->resp->status = 500;
		return;
	}
	send_html(c->resp, b, status);
}

void
dash__page_finish(struct http_call *c, struct buf *b, int rc)
{
	if (rc != 0) {
		buf_fini(b);
		dash__error(c, 500, "Something went wrong", "The page could not be built.");
		return;
	}
	dash__page_send(c, b, 200);
}

static void
verror(struct http_call *c, int status, const char *title, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct buf b;
	if (dash__page_start(c, &b, title) || buf_puts(&b, "<p id=\"error\" role=\"alert\">", NULL) ||
	    html_put(&b, msg) || buf_puts(&b, "</p>\n<p><a href=\"/\">Back to the programs</a></p>\n",
					  NULL)) {
		buf_fini(&b);
		http_response_fini(c->resp);
		c->resp->status = 500;
		return;
	}
	dash__page_send(c, &b, status);
}

void
dash__error(struct http_call *c, int status, const char *title, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(c, status, title, fmt, ap);
	va_end(ap);
}

void
dash__error_diag(struct http_call *c, const struct diag *d)
{
	int status = d->code == DIAG_NOTFOUND ? 404
		     : d->code == DIAG_CONFLICT ? 409
		     : d->code == DIAG_INVALID	? 422
						: 500;
	if (status == 500)
		tlog(TLOG_ERROR, "dashboard: %s %s: %s", c->req->method, c->req->path, d->msg);
	dash__error(c, status, status == 500 ? "Something went wrong" : "Not done", "%s", d->msg);
}

void
dash__redirect(struct http_call *c, const char *location)
{
	http_response_fini(c->resp);
	c->resp->status = 303;
	http_response_header(c->resp, "Location", location);
	http_response_header(c->resp, "Cache-Control", "no-store");
}

int
dash__button(struct http_call *c, struct buf *b, const char *action, const char *label,
	     const char *cls, const char *confirm)
{
	int rc = buf_puts(b, "<form method=\"post\" class=\"", NULL) || html_put(b, cls) ||
		 buf_puts(b, "\" action=\"", NULL) || html_put(b, action) || buf_puts(b, "\"", NULL);
	if (rc == 0 && confirm != NULL)
		rc = buf_puts(b, " data-confirm=\"", NULL) || html_put(b, confirm) ||
		     buf_puts(b, "\"", NULL);
	return rc || buf_puts(b, ">", NULL) || dash__csrf_field(c, b) ||
	       buf_puts(b, "<button type=\"submit\">", NULL) || html_put(b, label) ||
	       buf_puts(b, "</button></form>", NULL);
}

int
dash__time(struct buf *b, const char *iso)
{
	if (iso == NULL || strlen(iso) < 16)
		return buf_puts(b, "&mdash;", NULL);
	return buf_puts(b, "<time datetime=\"", NULL) || html_put(b, iso) ||
	       buf_printf(b, NULL, "\">%.10s %.5s UTC</time>", iso, iso + 11);
}

int
dash__field(struct http_call *c, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	return html_form_get(c->req->body, c->req->body_len, name, out, cap);
}

const struct config_program *
dash__program(struct http_call *c, int64_t *id)
{
	struct diag d;
	diag_clear(&d);
	const struct config_program *p = config_find_program(dash__config(c), c->params[0], &d);
	if (p == NULL) {
		dash__error(c, 404, "No such program", "%s", d.msg);
		return NULL;
	}
	if (id != NULL && matches_program_id(dash__store(c), p->name, id, &d) != 0) {
		d.code = d.code == DIAG_NOTFOUND ? DIAG_NOTFOUND : d.code;
		dash__error_diag(c, &d);
		return NULL;
	}
	return p;
}

int
dash__subnav(struct http_call *c, struct buf *b, const char *program, const char *current)
{
	static const char *const pages[][2] = {
		{"", "Overview"},	   {"/review", "Match review"}, {"/sessions", "Sessions"},
		{"/health", "Health"},	   {"/rewards", "Rewards"},	{"/reports", "Reports"}};
	int rc = buf_puts(b, "<nav class=\"subnav\" aria-label=\"Program\"><ul>", NULL);
	for (size_t i = 0; rc == 0 && i < sizeof(pages) / sizeof(pages[0]); i++) {
		rc = buf_puts(b, "<li><a href=\"/p/", NULL) || html_put(b, program) ||
		     buf_puts(b, pages[i][0], NULL) || buf_puts(b, "\"", NULL) ||
		     (strcmp(current, pages[i][0]) == 0 &&
		      buf_puts(b, " aria-current=\"page\"", NULL)) ||
		     buf_printf(b, NULL, ">%s</a></li>", pages[i][1]);
	}
	return rc || buf_puts(b, "</ul></nav>\n", NULL);
}

/* ---- sign-in and sign-out ------------------------------------------------------------- */

/* A local path to go back to after sign-in: starts with one '/', no control characters
 * nor backslash; anything else is "/". */
static const char *
safe_next(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return "/";
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return "/";
	return next;
}

static void
signin_page(struct dash *x, struct http_response *resp, int status, const char *next,
	    const char *error)
{
	struct buf b;
	buf_init(&b);
	int rc = put_head(x, &b, "Sign in") ||
		 buf_puts(&b, "<main id=\"main\" class=\"signin\">\n<h1>Sign in to tandem</h1>\n", NULL);
	if (rc == 0 && error != NULL)
		rc = buf_puts(&b, "<p id=\"signin-error\" role=\"alert\">", NULL) ||
		     html_put(&b, error) || buf_puts(&b, "</p>\n", NULL);
	rc = rc ||
	     buf_puts(&b, "<form method=\"post\" action=\"/signin\">\n"
			  "<label for=\"token\">API token</label>\n"
			  "<input name=\"token\" type=\"password\" id=\"token\" required "
			  "autocomplete=\"current-password\" aria-describedby=\"token-help\">\n"
			  "<p id=\"token-help\" class=\"help\">A token made with <code>tandem tokens "
			  "create NAME --scope manage</code> (or read, to look without acting).</p>\n"
			  "<input type=\"hidden\" name=\"next\" value=\"", NULL) ||
	     html_put(&b, safe_next(next)) ||
	     buf_puts(&b, "\">\n<p><button type=\"submit\">Sign in</button></p>\n</form>\n</main>\n"
			  "</body></html>\n", NULL);
	if (rc != 0) {
		buf_fini(&b);
		resp->status = 500;
		return;
	}
	send_html(resp, &b, status);
}

static void
post_signin(struct dash *x, const struct http_request *req, struct http_response *resp)
{
	const struct config *cfg = x->api->o.cfg;
	if (!html_origin_ok(req, cfg ? cfg->public_url : NULL)) {
		signin_page(x, resp, 403, "/", "This form was sent from another site: sign in here.");
		return;
	}
	char token[TOKENS_TEXT_MAX + 8], next[1024];
	if (!html_is_form_type(http_header(req, "Content-Type")) ||
	    html_form_get(req->body, req->body_len, "token", token, sizeof(token)) != 1) {
		signin_page(x, resp, 401, "/", "Paste an API token into the form.");
		return;
	}
	if (html_form_get(req->body, req->body_len, "next", next, sizeof(next)) != 1)
		snprintf(next, sizeof(next), "/");
	char bearer[TOKENS_TEXT_MAX + 16];
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	memset(token, 0, sizeof(token));
	const char *name = NULL;
	enum http_scope scope = HTTP_SCOPE_NONE;
	struct diag d;
	diag_clear(&d);
	int rc = tokens_check(x->api->tokens, bearer, &name, &scope, &d);
	memset(bearer, 0, sizeof(bearer));
	char cookie[DASH_COOKIE_LEN + 1], name_copy[TOKENS_NAME_MAX + 1];
	if (rc == 1) {
		snprintf(name_copy, sizeof(name_copy), "%s", name);
		rc = dash_session_open(x->api->o.st, name_copy, cookie, &d) == 0 ? 1 : -1;
	}
	if (rc < 0) {
		tlog(TLOG_ERROR, "dashboard: sign-in: %s", d.msg);
		signin_page(x, resp, 500, next, "The server could not sign you in; try again.");
		return;
	}
	if (rc == 0) {
		signin_page(x, resp, 401, next,
			    "This token is not valid (unknown or revoked). Check that you pasted the "
			    "whole token.");
		return;
	}
	const char *proto = http_header(req, "X-Forwarded-Proto");
	char set[160];
	snprintf(set, sizeof(set), "tandem_session=%s; HttpOnly; SameSite=Strict; Path=/%s", cookie,
		 proto != NULL && strcasecmp(proto, "https") == 0 ? "; Secure" : "");
	memset(cookie, 0, sizeof(cookie));
	tlog(TLOG_INFO, "dashboard: token '%s' signed in", name_copy);
	resp->status = 303;
	http_response_header(resp, "Location", safe_next(next));
	http_response_header(resp, "Set-Cookie", set);
	http_response_header(resp, "Cache-Control", "no-store");
	memset(set, 0, sizeof(set));
}

/* ---- dispatch ------------------------------------------------------------------------ */

static void
post_signout(struct http_call *c)
{
	char cookie[DASH_COOKIE_LEN + 8];
	struct diag d;
	diag_clear(&d);
	if (dash_cookie_value(http_header(c->req, "Cookie"), cookie, sizeof(cookie)) &&
	    dash_session_close(dash__store(c), cookie, &d) != 0) {
		dash__error_diag(c, &d);
		return;
	}
	dash__redirect(c, "/signin");
	http_response_header(c->resp, "Set-Cookie",
			     "tandem_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

#define R HTTP_SCOPE_READ
#define M HTTP_SCOPE_MANAGE

static const struct http_route dash_routes[] = {
    {"GET", "/", R, dash__get_overview, "programs overview", 0},
    {"POST", "/signout", R, post_signout, "sign out", 0},
    {"GET", "/events", R, dash__get_events, "events feed", 0},
    {"GET", "/p/{program}", R, dash__get_program, "a program", 0},
    {"GET", "/p/{program}/review", R, dash__get_review, "match review", 0},
    {"GET", "/p/{program}/compare", R, dash__get_compare, "two policies side by side", 0},
    {"POST", "/p/{program}/matches/{id}/{action}", M, dash__post_match, "a match's action", 0},
    {"POST", "/p/{program}/runs/{run}/approve", M, dash__post_run_approve, "approve a run", 0},
    {"GET", "/p/{program}/sessions", R, dash__get_sessions, "sessions calendar", 0},
    {"GET", "/p/{program}/health", R, dash__get_health, "pairs by health", 0},
    {"POST", "/p/{program}/pairs/{id}/{action}", M, dash__post_pair, "a pair's action", 0},
    {"GET", "/p/{program}/rewards", R, dash__get_rewards, "rewards and leaderboard", 0},
    {"GET", "/p/{program}/reports", R, dash__get_reports, "report plugins", 0},
    {"GET", "/p/{program}/reports/{file}", R, dash__get_report_file, "a report download", 0},
};

/* 303 to /signin?next=URI (the request target, percent-encoded as a query value). */
static void
to_signin(const struct http_request *req, struct http_response *resp)
{
	struct buf b;
	buf_init(&b);
	int rc = buf_puts(&b, "/signin?next=", NULL);
	for (const char *p = req->uri; rc == 0 && *p; p++) {
		unsigned char ch = (unsigned char)*p;
		rc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				     strchr("/-_.~", ch) != NULL
			 ? buf_putc(&b, (char)ch, NULL)
			 : buf_printf(&b, NULL, "%%%02X", ch);
	}
	resp->status = rc == 0 ? 303 : 500;
	if (rc == 0 && buf_putc(&b, '\0', NULL) == 0)
		http_response_header(resp, "Location", b.data);
	http_response_header(resp, "Cache-Control", "no-store");
	buf_fini(&b);
}

void
dash_handle(struct dash *x, const struct http_request *req, struct http_response *resp)
{
	int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (strncmp(req->path, "/static/", 8) == 0) {
		dash_static_get(x->files, req->path + 8, req, resp);
		return;
	}
	if (strcmp(req->path, "/signin") == 0) {
		if (get)
			signin_page(x, resp, 200, http_query(req, "next"), NULL);
		else if (strcmp(req->method, "POST") == 0)
			post_signin(x, req, resp);
		else {
			resp->status = 405;
			http_response_header(resp, "Allow", "GET, HEAD, POST");
		}
		return;
	}
	struct http_match m;
	enum http_route_result rr = http_route_find(dash_routes, sizeof(dash_routes) / sizeof(dash_routes[0]),
						    req->method, req->path, &m);
	struct dash_req r = {.api = x->api, .dash = x};
	struct http_call c = {.req = req, .resp = resp, .nparams = m.nparams, .ud = &r};
	for (int i = 0; i < m.nparams; i++)
		c.params[i] = m.params[i];
	/* The session first: without one, every page (even an unknown one) goes to sign-in. */
	char cookie[DASH_COOKIE_LEN + 8];
	struct diag d;
	diag_clear(&d);
	int have = dash_cookie_value(http_header(req, "Cookie"), cookie, sizeof(cookie))
			   ? dash_session_check(x->api->o.st, cookie, &r.who, &d)
			   : 0;
	if (have < 0) {
		tlog(TLOG_ERROR, "dashboard: checking a session: %s", d.msg);
		resp->status = 500;
		return;
	}
	if (have == 0) {
		if (get)
			to_signin(req, resp);
		else
			signin_page(x, resp, 403, "/", "Your session has ended: sign in again.");
		return;
	}
	c.actor = r.who.name;
	c.scope = r.who.scope;
	if (rr == HTTP_ROUTE_NONE) {
		dash__error(&c, 404, "Not found", "There is no page %s here.", req->path);
		return;
	}
	if (rr == HTTP_ROUTE_METHOD) {
		dash__error(&c, 405, "Not allowed", "%s is not a method of this page.", req->method);
		http_response_header(resp, "Allow", m.allow);
		return;
	}
	if (!get) {
		const struct config *cfg = x->api->o.cfg;
		char csrf[SHA256_HEX_LEN + 8];
		if (!html_origin_ok(req, cfg ? cfg->public_url : NULL)) {
			dash__error(&c, 403, "Refused", "This form was sent from another site; "
							"nothing was changed.");
			return;
		}
		if (!html_is_form_type(http_header(req, "Content-Type")) ||
		    html_form_get(req->body, req->body_len, "csrf", csrf, sizeof(csrf)) != 1 ||
		    !dash_csrf_ok(&r.who, csrf)) {
			dash__error(&c, 403, "Refused",
				    "This form's security field is missing or belongs to another "
				    "session (reload the page and try again); nothing was changed.");
			return;
		}
		if (r.who.scope < m.route->scope) {
			dash__error(&c, 403, "Refused",
				    "Token '%s' has scope %s: it may look but not act; nothing was "
				    "changed.",
				    r.who.name, http_scope_name(r.who.scope));
			return;
		}
	}
	m.route->fn(&c);
}

int
dash_cookie_session(struct dash *x, const struct http_request *req, char *name, int *scope,
		    struct diag *d)
{
	char cookie[DASH_COOKIE_LEN + 8];
	struct dash_who who;
	if (!dash_cookie_value(http_header(req, "Cookie"), cookie, sizeof(cookie)))
		return 0;
	int rc = dash_session_check(x->api->o.st, cookie, &who, d);
	if (rc == 1) {
		snprintf(name, TOKENS_NAME_MAX + 1, "%s", who.name);
		*scope = (int)who.scope;
	}
	return rc;
}

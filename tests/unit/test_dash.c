/* Unit tests for core/http/dash (and the pages it dispatches to), called as http/api.c
 * calls it (a request struct, no socket), on session_fixture.h's store (program 'p',
 * match #3 proposed): which paths are the dashboard's; a page without a session goes to
 * sign-in with the path in next; sign-in with a live token sets the cookie, a wrong token
 * gets 401; the overview and review pages carry the ids docs/dashboard.md names; a POST
 * without the csrf field, with a foreign Origin, or from a read-scope session gets 403 and
 * changes nothing; with them a decision is recorded with the token's name as actor (a
 * refusal of the domain is a 409 page, nothing changed);
 * static files and unknown pages; sign-out. */
#include "session_fixture.h"

#include "http/api.h"
#include "http/dash.h"
#include "http/dash_session.h"
#include "http/tokens.h"
#include "program/config.h"

enum { T_NOW = 1798794000 }; /* 2027-01-01T09:00:00Z */

struct fake {
	const char *cookie, *origin, *ctype, *query_next;
};

static const char *
lookup(void *ctx, enum http_kind kind, const char *key)
{
	const struct fake *f = ctx;
	if (kind == HTTP_QUERY)
		return strcmp(key, "next") == 0 ? f->query_next : NULL;
	return strcmp(key, "Cookie") == 0	  ? f->cookie
	       : strcmp(key, "Origin") == 0	  ? f->origin
	       : strcmp(key, "Content-Type") == 0 ? f->ctype
	       : strcmp(key, "Host") == 0	  ? "127.0.0.1:8080"
						  : NULL;
}

struct world {
	struct store *st;
	struct config cfg;
	struct config_program prog;
	struct http_api *api;
	char mgr[TOKENS_TEXT_MAX], ro[TOKENS_TEXT_MAX];
};

static struct world *
world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	w->st = fx_store(T_NOW);
	w->prog.name = "p";
	w->cfg.programs = &w->prog;
	w->cfg.nprograms = 1;
	struct diag d;
	assert_int_equal(tokens_create(w->st, "mgr", HTTP_SCOPE_MANAGE, "t", w->mgr, &d), 0);
	assert_int_equal(tokens_create(w->st, "ro", HTTP_SCOPE_READ, "t", w->ro, &d), 0);
	struct http_api_opts o = {.st = w->st, .cfg = &w->cfg};
	w->api = http_api_new(&o, &d);
	assert_non_null(w->api);
	return w;
}

static void
world_delete(struct world *w)
{
	http_api_delete(w->api);
	store_close(w->st);
	free(w);
}

struct answer {
	int status;
	char *body;
	char location[512], set_cookie[256];
};

static void
call(struct world *w, const char *method, const char *path, const char *body,
     const struct fake *f, struct answer *a)
{
	struct fake none = {0};
	struct http_request req = {.method = method, .path = path, .uri = path,
				   .body = body ? body : "", .body_len = body ? strlen(body) : 0,
				   .lookup = lookup, .ctx = (void *)(f ? f : &none)};
	struct http_response resp = {0};
	http_api_handle(w->api, &req, &resp);
	memset(a, 0, sizeof(*a));
	a->status = resp.status;
	a->body = strndup(resp.body ? resp.body : "", resp.body_len);
	for (int i = 0; i < resp.nheaders; i++) {
		if (strcmp(resp.header_names[i], "Location") == 0)
			snprintf(a->location, sizeof(a->location), "%s", resp.header_values[i]);
		if (strcmp(resp.header_names[i], "Set-Cookie") == 0)
			snprintf(a->set_cookie, sizeof(a->set_cookie), "%s", resp.header_values[i]);
	}
	http_response_fini(&resp);
}

/* Signs in with token; the cookie header value into cookie. */
static void
sign_in(struct world *w, const char *token, char *cookie, size_t cap)
{
	char body[200];
	snprintf(body, sizeof(body), "token=%s&next=%%2Fp%%2Fp", token);
	struct fake f = {.ctype = "application/x-www-form-urlencoded"};
	struct answer a;
	call(w, "POST", "/signin", body, &f, &a);
	assert_int_equal(a.status, 303);
	assert_string_equal(a.location, "/p/p");
	assert_non_null(strstr(a.set_cookie, "; HttpOnly; SameSite=Strict; Path=/"));
	assert_null(strstr(a.set_cookie, "Secure"));
	snprintf(cookie, cap, "%.*s", (int)strcspn(a.set_cookie, ";"), a.set_cookie);
	free(a.body);
}

/* The csrf value a page carries. */
static void
csrf_of(const char *page, char out[SHA256_HEX_LEN])
{
	const char *p = strstr(page, "name=\"csrf\" value=\"");
	assert_non_null(p);
	snprintf(out, SHA256_HEX_LEN, "%.64s", p + strlen("name=\"csrf\" value=\""));
}

static void
test_paths(void **state)
{
	(void)fx_utc; /* the fixture's helpers this file does not need */
	assert_true(dash_path("/"));
	assert_true(dash_path("/p/x/review"));
	assert_true(dash_path("/signin"));
	assert_true(dash_path("/static/dashboard.css"));
	assert_false(dash_path("/api/v1/people"));
	assert_false(dash_path("/api"));
	assert_false(dash_path("/healthz"));
	assert_false(dash_path("/c/TOKEN"));
}

static void
test_signin_and_pages(void **state)
{
	struct world *w = world_new();
	struct answer a;
	call(w, "GET", "/p/p/review", NULL, NULL, &a);
	assert_int_equal(a.status, 303);
	assert_string_equal(a.location, "/signin?next=/p/p/review");
	free(a.body);
	call(w, "GET", "/signin", NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "<input name=\"token\" type=\"password\" id=\"token\""));
	free(a.body);
	struct fake form = {.ctype = "application/x-www-form-urlencoded"};
	call(w, "POST", "/signin", "token=tdm_nope", &form, &a);
	assert_int_equal(a.status, 401);
	assert_non_null(strstr(a.body, "id=\"signin-error\""));
	assert_string_equal(a.set_cookie, "");
	free(a.body);

	char cookie[128];
	sign_in(w, w->mgr, cookie, sizeof(cookie));
	struct fake s = {.cookie = cookie};
	call(w, "GET", "/", NULL, &s, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "id=\"programs\""));
	assert_non_null(strstr(a.body, "data-program=\"p\""));
	assert_non_null(strstr(a.body, "<main id=\"main\">"));
	free(a.body);
	call(w, "GET", "/p/p/review", NULL, &s, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "<tr data-match=\"3\">"));
	assert_non_null(strstr(a.body, "action=\"/p/p/matches/3/approve\""));
	free(a.body);
	call(w, "GET", "/p/nope", NULL, &s, &a);
	assert_int_equal(a.status, 404);
	free(a.body);
	call(w, "GET", "/no/such/page", NULL, &s, &a);
	assert_int_equal(a.status, 404);
	free(a.body);
	call(w, "GET", "/static/nope.js", NULL, &s, &a);
	assert_int_equal(a.status, 404);
	free(a.body);
	call(w, "DELETE", "/", NULL, &s, &a);
	assert_int_equal(a.status, 405);
	free(a.body);
	world_delete(w);
}

static void
test_posts(void **state)
{
	struct world *w = world_new();
	char cookie[128], ro_cookie[128], csrf[SHA256_HEX_LEN], ro_csrf[SHA256_HEX_LEN], body[200];
	sign_in(w, w->mgr, cookie, sizeof(cookie));
	sign_in(w, w->ro, ro_cookie, sizeof(ro_cookie));
	struct fake s = {.cookie = cookie, .ctype = "application/x-www-form-urlencoded"};
	struct fake r = {.cookie = ro_cookie, .ctype = "application/x-www-form-urlencoded"};
	struct answer a;
	call(w, "GET", "/", NULL, &s, &a);
	csrf_of(a.body, csrf);
	free(a.body);
	call(w, "GET", "/p/p/review", NULL, &r, &a);
	assert_null(strstr(a.body, "/approve\""));
	csrf_of(a.body, ro_csrf);
	free(a.body);
	const char *status = "SELECT status FROM matches WHERE id = 3";

	call(w, "POST", "/p/p/matches/3/approve", "", &s, &a);
	assert_int_equal(a.status, 403);
	free(a.body);
	snprintf(body, sizeof(body), "csrf=%s", ro_csrf);
	call(w, "POST", "/p/p/matches/3/approve", body, &s, &a);
	assert_int_equal(a.status, 403);
	free(a.body);
	call(w, "POST", "/p/p/matches/3/approve", body, &r, &a); /* read scope */
	assert_int_equal(a.status, 403);
	free(a.body);
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	struct fake evil = s;
	evil.origin = "http://evil.example";
	call(w, "POST", "/p/p/matches/3/approve", body, &evil, &a);
	assert_int_equal(a.status, 403);
	free(a.body);
	struct fake json = s;
	json.ctype = "application/json";
	call(w, "POST", "/p/p/matches/3/approve", body, &json, &a);
	assert_int_equal(a.status, 403);
	free(a.body);
	assert_string_equal(fx_text(w->st, status), "proposed");
	assert_int_equal(fx_events(w->st, "match.approved"), 0);

	/* (Approving #3 would give Di a second mentor: the domain's 409, nothing changed.) */
	call(w, "POST", "/p/p/matches/3/approve", body, &s, &a);
	assert_int_equal(a.status, 409);
	assert_non_null(strstr(a.body, "id=\"error\""));
	free(a.body);
	assert_string_equal(fx_text(w->st, status), "proposed");
	call(w, "POST", "/p/p/matches/3/reject", body, &s, &a);
	assert_int_equal(a.status, 303);
	assert_string_equal(a.location, "/p/p/review?done=rejected");
	free(a.body);
	assert_string_equal(fx_text(w->st, status), "rejected");
	assert_string_equal(fx_text(w->st, "SELECT decided_by FROM matches WHERE id = 3"), "mgr");
	/* A match of another program, an unknown action: 404, nothing changed. */
	call(w, "POST", "/p/p/matches/99/approve", body, &s, &a);
	assert_int_equal(a.status, 404);
	free(a.body);

	/* Sign-out ends the session; the read-only one lives on. */
	call(w, "POST", "/signout", body, &s, &a);
	assert_int_equal(a.status, 303);
	assert_string_equal(a.location, "/signin");
	assert_non_null(strstr(a.set_cookie, "Max-Age=0"));
	free(a.body);
	call(w, "GET", "/", NULL, &s, &a);
	assert_int_equal(a.status, 303);
	free(a.body);
	call(w, "GET", "/", NULL, &r, &a);
	assert_int_equal(a.status, 200);
	free(a.body);
	world_delete(w);
}

/* Every page answers 200 with the ids docs/dashboard.md names; bad arguments are 400. */
static void
test_pages(void **state)
{
	struct world *w = world_new();
	fx_exec(w->st, "INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, "
		       "planned_by, status, created_at, updated_at) VALUES "
		       "(7, 1, '2027-01-05T10:00:00Z', 45, 'UTC', 'manual', 'held', 'x', 'x'),"
		       "(8, 1, '2027-01-12T10:00:00Z', 45, 'UTC', 'manual', 'cancelled', 'x', 'x')");
	char cookie[128];
	sign_in(w, w->mgr, cookie, sizeof(cookie));
	struct fake s = {.cookie = cookie};
	static const char *const pages[][2] = {
		{"/p/p", "class=\"subnav\""},
		{"/p/p/sessions", "id=\"calendar\""},
		{"/p/p/health", "id=\"pairs\""},
		{"/p/p/rewards", "id=\"leaderboard\""},
		{"/p/p/reports", "id=\"reports\""},
		{"/events", "id=\"events\""},
	};
	struct answer a;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		call(w, "GET", pages[i][0], NULL, &s, &a);
		if (a.status != 200 || strstr(a.body, pages[i][1]) == NULL)
			fail_msg("%s: %d %.300s", pages[i][0], a.status, a.body);
		assert_non_null(strstr(a.body, "<h1>"));
		free(a.body);
	}
	world_delete(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_signin_and_pages, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_posts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pages, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/http/checkin_page, called as http/api.c calls it (a request struct,
 * no socket): the page of a valid token, the form recorded once for its side with the
 * link actor, reuse refused, bad tokens and bad forms refused without a change, Origin
 * rules, escaping, the headers. The store is session_fixture.h's (match #1: Ann -> Bo). */
#include "session_fixture.h"

#include "http/checkin_page.h"
#include "program/config.h"
#include "sched/links.h"

enum { T_START = 1798794000 }; /* 2027-01-01T09:00:00Z */

struct fake {
	const char *origin, *host, *ctype, *site;
};

static const char *
fake_lookup(void *ctx, enum http_kind kind, const char *key)
{
	const struct fake *f = ctx;
	if (kind != HTTP_HEADER)
		return NULL;
	if (strcmp(key, "Origin") == 0)
		return f->origin;
	if (strcmp(key, "Host") == 0)
		return f->host;
	if (strcmp(key, "Content-Type") == 0)
		return f->ctype;
	if (strcmp(key, "Sec-Fetch-Site") == 0)
		return f->site;
	return NULL;
}

/* Answers method path body with headers f; the status, the page in *page (caller frees). */
static int
call(struct store *st, const struct config *cfg, const char *method, const char *path,
     const char *body, const struct fake *f, char **page)
{
	struct fake none = {.host = "127.0.0.1:8080",
			    .ctype = "application/x-www-form-urlencoded"};
	struct http_request req = {.method = method, .path = path, .uri = path,
				   .body = body ? body : "", .body_len = body ? strlen(body) : 0,
				   .lookup = fake_lookup, .ctx = (void *)(f ? f : &none)};
	struct http_response resp = {0};
	checkin_page_handle(st, cfg, &req, &resp);
	int status = resp.status;
	if (page != NULL) {
		*page = strndup(resp.body ? resp.body : "", resp.body_len);
		if (status != 500)
			assert_string_equal(resp.content_type, "text/html; charset=utf-8");
	}
	http_response_fini(&resp);
	return status;
}

static void
link_path(struct store *st, int64_t session, enum links_side side, time_t expires, char *out)
{
	unsigned char key[LINKS_KEY_LEN];
	struct diag d;
	assert_int_equal(links_key(st, 1, key, &d), 1);
	struct links_token t = {.session_id = session, .side = side, .expires = expires, .nonce = 3};
	char tok[LINKS_TOKEN_MAX];
	links_encode(key, &t, tok);
	sprintf(out, "/c/%s", tok);
}

static struct store *
seeded(void)
{
	struct store *st = fx_store(T_START + 7200);
	fx_exec(st, "UPDATE people SET name = 'Bo <b>&' WHERE id = 2;"
		    "INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, "
		    "planned_by, agenda, created_at, updated_at) VALUES (1, 1, "
		    "'2027-01-01T09:00:00Z', 60, 'Europe/Paris', 'manual', '[]', 'x', 'x'),"
		    "(2, 1, '2027-01-09T09:00:00Z', 60, 'Europe/Paris', 'manual', '[]', 'x', 'x')");
	return st;
}

static void
test_page_and_record_once(void **state)
{
	(void)state;
	struct store *st = seeded();
	char mentor[96], mentee[96], *page;
	link_path(st, 1, LINKS_MENTOR, T_START + 86400, mentor);
	link_path(st, 1, LINKS_MENTEE, T_START + 86400, mentee);
	assert_int_equal(call(st, NULL, "GET", mentor, NULL, NULL, &page), 200);
	assert_non_null(strstr(page, "<form method=\"post\">"));
	assert_non_null(strstr(page, "Bo &lt;b&gt;&amp;"));
	assert_null(strstr(page, "<b>"));
	assert_non_null(strstr(page, "Friday 1 January 2027, 10:00-11:00 (Europe/Paris)"));
	assert_null(strstr(page, "<script"));
	free(page);

	assert_int_equal(call(st, NULL, "POST", mentor, "outcome=held&rating=4&notes=a+%26+b"
				   "&share_story=yes", NULL, &page), 200);
	assert_non_null(strstr(page, "Recorded: the session was held."));
	free(page);
	assert_string_equal(fx_text(st, "SELECT outcome || rating || share_story || actor || "
					"'/' || comment FROM feedback WHERE author_id = 1"),
			    "held41link:mentor/a & b");
	assert_string_equal(fx_text(st, "SELECT status FROM sessions WHERE id = 1"), "held");

	/* Reused: said, nothing changed. */
	assert_int_equal(call(st, NULL, "GET", mentor, NULL, NULL, &page), 200);
	assert_non_null(strstr(page, "Already recorded on 1 January 2027"));
	assert_null(strstr(page, "<form"));
	free(page);
	assert_int_equal(call(st, NULL, "POST", mentor, "outcome=missed", NULL, &page), 409);
	free(page);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM feedback"), 1);
	assert_string_equal(fx_text(st, "SELECT outcome FROM feedback WHERE author_id = 1"), "held");

	/* The other side's link works, once. */
	assert_int_equal(call(st, NULL, "POST", mentee, "outcome=missed", NULL, NULL), 200);
	assert_string_equal(fx_text(st, "SELECT actor FROM feedback WHERE author_id = 2"),
			    "link:mentee");
	assert_int_equal(call(st, NULL, "POST", mentee, "outcome=held", NULL, NULL), 409);
	store_close(st);
}

static void
test_bad_tokens(void **state)
{
	(void)state;
	struct store *st = seeded();
	char p[96];
	/* No key yet: nothing can be valid, not even a token made with a zero key. */
	assert_int_equal(call(st, NULL, "GET", "/c/AAAA", NULL, NULL, NULL), 400);
	static const unsigned char zero[LINKS_KEY_LEN];
	struct links_token zt = {.session_id = 1, .expires = T_START + 86400};
	char ztok[LINKS_TOKEN_MAX], zpath[96];
	links_encode(zero, &zt, ztok);
	snprintf(zpath, sizeof(zpath), "/c/%s", ztok);
	assert_int_equal(call(st, NULL, "POST", zpath, "outcome=held", NULL, NULL), 403);
	link_path(st, 1, LINKS_MENTOR, T_START + 86400, p);
	char forged[96];
	strcpy(forged, p);
	forged[30] = forged[30] == 'A' ? 'B' : 'A';
	assert_int_equal(call(st, NULL, "GET", forged, NULL, NULL, NULL), 403);
	assert_int_equal(call(st, NULL, "POST", forged, "outcome=held", NULL, NULL), 403);
	link_path(st, 1, LINKS_MENTOR, T_START + 7200, p); /* expires now */
	assert_int_equal(call(st, NULL, "GET", p, NULL, NULL, NULL), 410);
	assert_int_equal(call(st, NULL, "POST", p, "outcome=held", NULL, NULL), 410);
	link_path(st, 77, LINKS_MENTOR, T_START + 86400, p);
	assert_int_equal(call(st, NULL, "GET", p, NULL, NULL, NULL), 404);
	assert_int_equal(call(st, NULL, "GET", "/c/", NULL, NULL, NULL), 404);
	assert_int_equal(call(st, NULL, "GET", "/c/x/y", NULL, NULL, NULL), 404);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM feedback"), 0);
	store_close(st);
}

static void
test_forms_and_origins(void **state)
{
	(void)state;
	struct store *st = seeded();
	char p[96], future[96];
	link_path(st, 1, LINKS_MENTOR, T_START + 86400, p);
	link_path(st, 2, LINKS_MENTOR, T_START + 30 * 86400, future);
	struct config cfg = {0};
	cfg.public_url = "https://m.example/base";
	struct fake evil = {.origin = "https://evil.example", .host = "127.0.0.1:8080",
			    .ctype = "application/x-www-form-urlencoded"};
	struct fake pub = evil, same = evil, nul = evil, site = evil, json = evil;
	pub.origin = "https://M.example";
	same.origin = "http://127.0.0.1:8080";
	nul.origin = "null";
	site.origin = NULL;
	site.site = "cross-site";
	json.origin = NULL;
	json.ctype = "application/json";
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held", &evil, NULL), 403);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held", &nul, NULL), 403);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held", &site, NULL), 403);
	assert_int_equal(call(st, NULL, "POST", p, "outcome=held", &pub, NULL), 403);
	assert_int_equal(call(st, &cfg, "POST", p, "{}", &json, NULL), 415);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=maybe", NULL, NULL), 422);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held&rating=0", NULL, NULL), 422);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held&rating=45", NULL, NULL), 422);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=missed&rating=2", NULL, NULL), 422);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held&notes=%4", NULL, NULL), 400);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held&notes=%00", NULL, NULL), 400);
	assert_int_equal(call(st, &cfg, "POST", p, "notes=a&notes=b&outcome=held", NULL, NULL), 400);
	char big[CHECKIN_FORM_MAX + 64];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "outcome=held&notes=", 19);
	assert_int_equal(call(st, &cfg, "POST", p, big, NULL, NULL), 413);
	big[19 + CHECKIN_NOTES_MAX + 1] = '\0';
	assert_int_equal(call(st, &cfg, "POST", p, big, NULL, NULL), 400);
	assert_int_equal(call(st, &cfg, "PUT", p, "", NULL, NULL), 405);
	/* Before the session starts: the session's rule, nothing recorded. */
	assert_int_equal(call(st, &cfg, "POST", future, "outcome=held", NULL, NULL), 409);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM feedback"), 0);
	/* Accepted origins: the public URL's, the Host's. */
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held&rating=", &pub, NULL), 200);
	link_path(st, 1, LINKS_MENTEE, T_START + 86400, p);
	assert_int_equal(call(st, &cfg, "POST", p, "outcome=held", &same, NULL), 200);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM feedback WHERE rating IS NULL"), 2);
	store_close(st);
}

int
main(void)
{
	(void)fx_utc; /* the fixture's helpers this file does not need */
	(void)fx_events;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_and_record_once),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_forms_and_origins),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

/* Unit tests for core/http/router: route matching (captures, 405 with Allow, HEAD, trailing
 * slash, long segments), JSON errors and diag mapping, ETag and If-None-Match, cursor
 * encode/decode round trips and refusals, limit parsing and the page's next link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void fn_a(struct http_call *c) { (void)c; }
static void fn_b(struct http_call *c) { (void)c; }

static const struct http_route table[] = {
    {"GET", "/healthz", HTTP_SCOPE_NONE, fn_a, "", 0},
    {"GET", "/api/v1/things", HTTP_SCOPE_READ, fn_a, "", 0},
    {"GET", "/api/v1/things/{id}", HTTP_SCOPE_READ, fn_b, "", 0},
    {"POST", "/api/v1/things/{id}/approve", HTTP_SCOPE_MANAGE, fn_a, "", 0},
    {"GET", "/api/v1/things/{id}/parts/{part}", HTTP_SCOPE_READ, fn_b, "", 0},
    {"DELETE", "/api/v1/things/{id}", HTTP_SCOPE_ADMIN, fn_a, "", 0},
};
static const size_t ntable = sizeof(table) / sizeof(table[0]);

static void
test_match(void **state)
{
	(void)state;
	struct http_match m;
	assert_int_equal(http_route_find(table, ntable, "GET", "/healthz", &m), HTTP_ROUTE_OK);
	assert_ptr_equal(m.route, &table[0]);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(http_route_find(table, ntable, "GET", "/api/v1/things/42", &m),
			 HTTP_ROUTE_OK);
	assert_ptr_equal(m.route, &table[2]);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "42");
	assert_int_equal(
	    http_route_find(table, ntable, "GET", "/api/v1/things/a.b/parts/x y", &m),
	    HTTP_ROUTE_OK);
	assert_ptr_equal(m.route, &table[4]);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "a.b");
	assert_string_equal(m.params[1], "x y");
	/* HEAD finds the GET route. */
	assert_int_equal(http_route_find(table, ntable, "HEAD", "/api/v1/things", &m),
			 HTTP_ROUTE_OK);
	assert_ptr_equal(m.route, &table[1]);
}

static void
test_no_match(void **state)
{
	(void)state;
	struct http_match m;
	const char *none[] = {"/", "", "/healthz/", "/api/v1/things/", "/api/v1/things//approve",
			      "/api/v1/thing", "/api/v1/things/1/approve/x", "/HEALTHZ",
			      "/api/v1/things/1/parts/"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(http_route_find(table, ntable, "GET", none[i], &m),
				 HTTP_ROUTE_NONE);
	/* A capture longer than HTTP_PARAM_MAX does not match (never truncated). */
	char path[HTTP_PARAM_MAX + 32];
	snprintf(path, sizeof(path), "/api/v1/things/");
	memset(path + strlen(path), 'x', HTTP_PARAM_MAX);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(http_route_find(table, ntable, "GET", path, &m), HTTP_ROUTE_NONE);
}

static void
test_method_not_allowed(void **state)
{
	(void)state;
	struct http_match m;
	assert_int_equal(http_route_find(table, ntable, "POST", "/api/v1/things/7", &m),
			 HTTP_ROUTE_METHOD);
	assert_string_equal(m.allow, "GET, HEAD, DELETE");
	assert_int_equal(http_route_find(table, ntable, "GET", "/api/v1/things/7/approve", &m),
			 HTTP_ROUTE_METHOD);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(http_route_find(table, ntable, "PUT", "/healthz", &m), HTTP_ROUTE_METHOD);
	assert_string_equal(m.allow, "GET, HEAD");
}

static void
test_scopes(void **state)
{
	(void)state;
	enum http_scope s;
	assert_int_equal(http_scope_parse("read", &s), 0);
	assert_int_equal(s, HTTP_SCOPE_READ);
	assert_int_equal(http_scope_parse("admin", &s), 0);
	assert_int_equal(s, HTTP_SCOPE_ADMIN);
	assert_int_equal(http_scope_parse("none", &s), -1);
	assert_int_equal(http_scope_parse("Read", &s), -1);
	assert_true(HTTP_SCOPE_READ < HTTP_SCOPE_MANAGE && HTTP_SCOPE_MANAGE < HTTP_SCOPE_ADMIN);
	assert_string_equal(http_scope_name(HTTP_SCOPE_MANAGE), "manage");
}

static void
test_errors(void **state)
{
	(void)state;
	struct http_response r = {0};
	assert_int_equal(http_error(&r, 404, "no thing '%s'", "x\"y"), -1);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body,
			    "{\"error\":{\"code\":\"not_found\",\"message\":\"no thing 'x\\\"y'\"}}");
	assert_int_equal(r.body_len, strlen(r.body));
	http_response_fini(&r);
	struct diag d;
	int codes[][2] = {{DIAG_INVALID, 422}, {DIAG_NOTFOUND, 404}, {DIAG_CONFLICT, 409},
			  {DIAG_DB, 500}};
	for (size_t i = 0; i < 4; i++) {
		diag_set(&d, codes[i][0], "why %zu", i);
		http_error_diag(&r, &d);
		assert_int_equal(r.status, codes[i][1]);
		json_t *v = json_loads(r.body, 0, NULL);
		assert_non_null(v);
		assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"),
								      "code")),
				    http_error_code(codes[i][1]));
		json_decref(v);
		http_response_fini(&r);
	}
	assert_string_equal(http_error_code(413), "payload_too_large");
	assert_string_equal(http_error_code(415), "unsupported_media_type");
	assert_string_equal(http_error_code(405), "method_not_allowed");
}

static void
test_etag(void **state)
{
	(void)state;
	char a[HTTP_ETAG_MAX], b[HTTP_ETAG_MAX], c[HTTP_ETAG_MAX];
	http_etag("{\"x\":1}", 7, a);
	http_etag("{\"x\":1}", 7, b);
	http_etag("{\"x\":2}", 7, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 18);
	assert_true(a[0] == '"' && a[17] == '"');
	assert_true(http_etag_matches(a, a));
	char list[96], weak[40];
	snprintf(list, sizeof(list), "%s, %s", c, a);
	assert_true(http_etag_matches(list, a));
	snprintf(weak, sizeof(weak), "W/%s", a);
	assert_true(http_etag_matches(weak, a));
	assert_true(http_etag_matches("*", a));
	assert_false(http_etag_matches(c, a));
	assert_false(http_etag_matches(NULL, a));
	assert_false(http_etag_matches("", a));
	assert_false(http_etag_matches("\"0\"", a));
}

static void
test_cursor(void **state)
{
	(void)state;
	const char *keys[] = {"a", "ab", "abc", "abcd", "1790000000.123", "E00042", "x y/z+?&=",
			      "p\xc3\xa9"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char enc[64], dec[64];
		http_cursor_encode(keys[i], enc, sizeof(enc));
		assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789-_"),
				 strlen(enc));
		assert_int_equal(http_cursor_decode(enc, dec, sizeof(dec)), 0);
		assert_string_equal(dec, keys[i]);
	}
	char enc[16];
	http_cursor_encode("abc", enc, sizeof(enc));
	assert_string_equal(enc, "YWJj");
	char dec[64];
	assert_int_equal(http_cursor_decode("", dec, sizeof(dec)), -1);
	assert_int_equal(http_cursor_decode("Y", dec, sizeof(dec)), -1);      /* length 1 mod 4 */
	assert_int_equal(http_cursor_decode("YW=j", dec, sizeof(dec)), -1);   /* padding */
	assert_int_equal(http_cursor_decode("YW+j", dec, sizeof(dec)), -1);   /* not url-safe */
	assert_int_equal(http_cursor_decode("YR", dec, sizeof(dec)), -1);     /* stray bits */
	assert_int_equal(http_cursor_decode("AA", dec, sizeof(dec)), -1);     /* NUL byte */
	assert_int_equal(http_cursor_decode("Cg", dec, sizeof(dec)), -1);     /* a newline */
	assert_int_equal(http_cursor_decode("YWJjZGVm", dec, 4), -1);         /* too long */
}

/* A fake request: query arguments from a NULL-terminated key/value list. */
static const char *const *fake_args;

static const char *
fake_lookup(void *ctx, enum http_kind kind, const char *key)
{
	(void)ctx;
	if (kind != HTTP_QUERY)
		return NULL;
	for (int i = 0; fake_args[i]; i += 2)
		if (strcmp(fake_args[i], key) == 0)
			return fake_args[i + 1];
	return NULL;
}

static void
test_limit_and_page(void **state)
{
	(void)state;
	struct http_request req = {.method = "GET", .path = "/api/v1/things", .body = "",
				   .lookup = fake_lookup};
	struct http_response resp = {0};
	struct http_call c = {.req = &req, .resp = &resp};
	int limit;
	static const char *const none[] = {NULL};
	fake_args = none;
	assert_int_equal(http_limit(&c, &limit), 0);
	assert_int_equal(limit, HTTP_LIMIT_DEFAULT);
	const char *bad[] = {"0", "501", "-1", "abc", "", "5x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = {"limit", bad[i], NULL};
		fake_args = args;
		assert_int_equal(http_limit(&c, &limit), -1);
		assert_int_equal(resp.status, 400);
		http_response_fini(&resp);
	}
	const char *args[] = {"limit", "2", "program", "p one&", "cursor", "YWJj", NULL};
	fake_args = args;
	assert_int_equal(http_limit(&c, &limit), 0);
	assert_int_equal(limit, 2);
	char key[64];
	assert_int_equal(http_cursor(&c, key, sizeof(key)), 0);
	assert_string_equal(key, "abc");
	static const char *const keep[] = {"program", "status", NULL};
	assert_int_equal(http_page(&c, json_pack("[ii]", 1, 2), keep, limit, "E2"), 0);
	assert_int_equal(resp.status, 200);
	json_t *v = json_loads(resp.body, 0, NULL);
	assert_non_null(v);
	assert_int_equal(json_array_size(json_object_get(v, "data")), 2);
	char want[128], enc[16];
	http_cursor_encode("E2", enc, sizeof(enc));
	snprintf(want, sizeof(want), "/api/v1/things?program=p%%20one%%26&limit=2&cursor=%s", enc);
	assert_string_equal(json_string_value(json_object_get(v, "next")), want);
	assert_int_equal(resp.nheaders, 1);
	assert_string_equal(resp.header_names[0], "Link");
	json_decref(v);
	http_response_fini(&resp);
	/* The last page: next is null. */
	assert_int_equal(http_page(&c, json_array(), keep, limit, NULL), 0);
	assert_string_equal(resp.body, "{\"data\":[],\"next\":null}");
	http_response_fini(&resp);
	const char *badcur[] = {"cursor", "!!", NULL};
	fake_args = badcur;
	assert_int_equal(http_cursor(&c, key, sizeof(key)), -1);
	assert_int_equal(resp.status, 400);
	http_response_fini(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),	    cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_method_not_allowed), cmocka_unit_test(test_scopes),
	    cmocka_unit_test(test_errors),	    cmocka_unit_test(test_etag),
	    cmocka_unit_test(test_cursor),	    cmocka_unit_test(test_limit_and_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/http/html: escaping, form fields (decoding, absent, empty, sent
 * twice, malformed escapes, too long, %00), the form content type, and the same-origin
 * rule (Origin, Referer, Sec-Fetch-Site, public_url, Origin: null). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/html.h"

static void
test_escape(void **state)
{
	struct buf b;
	buf_init(&b);
	assert_int_equal(html_put(&b, "a<b>&\"c'd"), 0);
	assert_int_equal(html_put(&b, NULL), 0);
	assert_int_equal(buf_putc(&b, '\0', NULL), 0);
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d");
	buf_fini(&b);
}

static void
test_form(void **state)
{
	const char *body = "csrf=abc&next=%2Fp%2Fx%3Fa%3D1&empty=&bare&sp=a+b%20c";
	char v[64];
	assert_int_equal(html_form_get(body, strlen(body), "csrf", v, sizeof(v)), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(html_form_get(body, strlen(body), "next", v, sizeof(v)), 1);
	assert_string_equal(v, "/p/x?a=1");
	assert_int_equal(html_form_get(body, strlen(body), "empty", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(html_form_get(body, strlen(body), "bare", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(html_form_get(body, strlen(body), "sp", v, sizeof(v)), 1);
	assert_string_equal(v, "a b c");
	assert_int_equal(html_form_get(body, strlen(body), "nope", v, sizeof(v)), 0);
	assert_int_equal(html_form_get(body, strlen(body), "csr", v, sizeof(v)), 0);
	/* Only len bytes count. */
	assert_int_equal(html_form_get(body, 3, "csrf", v, sizeof(v)), 0);
	/* Twice, malformed, %00, too long. */
	assert_int_equal(html_form_get("a=1&a=2", 7, "a", v, sizeof(v)), -1);
	assert_int_equal(html_form_get("a=%4", 4, "a", v, sizeof(v)), -1);
	assert_int_equal(html_form_get("a=%zz", 5, "a", v, sizeof(v)), -1);
	assert_int_equal(html_form_get("a=%00", 5, "a", v, sizeof(v)), -1);
	assert_int_equal(html_form_get("a=12345", 7, "a", v, 4), -1);
	assert_int_equal(html_form_get("a=123", 5, "a", v, 4), 1);
	assert_int_equal(html_form_value("%41", 3, v, sizeof(v)), 0);
	assert_string_equal(v, "A");
	assert_int_equal(html_form_value("x", 1, v, 0), -1);
}

static void
test_form_type(void **state)
{
	assert_true(html_is_form_type("application/x-www-form-urlencoded"));
	assert_true(html_is_form_type(" application/x-www-form-urlencoded; charset=UTF-8"));
	assert_false(html_is_form_type("application/x-www-form-urlencodedX"));
	assert_false(html_is_form_type("multipart/form-data"));
	assert_false(html_is_form_type(NULL));
}

struct fake {
	const char *origin, *referer, *site, *host;
};

static const char *
lookup(void *ctx, enum http_kind kind, const char *key)
{
	const struct fake *f = ctx;
	if (kind != HTTP_HEADER)
		return NULL;
	return strcmp(key, "Origin") == 0	  ? f->origin
	       : strcmp(key, "Referer") == 0	  ? f->referer
	       : strcmp(key, "Sec-Fetch-Site") == 0 ? f->site
	       : strcmp(key, "Host") == 0	  ? f->host
						  : NULL;
}

static int
ok(struct fake f, const char *public_url)
{
	struct http_request r = {.method = "POST", .path = "/", .uri = "/", .body = "",
				 .lookup = lookup, .ctx = &f};
	return html_origin_ok(&r, public_url);
}

static void
test_origin(void **state)
{
	const char *h = "127.0.0.1:8080";
	assert_true(ok((struct fake){.host = h}, NULL)); /* curl: no header */
	assert_true(ok((struct fake){.origin = "http://127.0.0.1:8080", .host = h}, NULL));
	assert_true(ok((struct fake){.origin = "https://127.0.0.1:8080", .host = h}, NULL));
	assert_false(ok((struct fake){.origin = "http://127.0.0.1:8081", .host = h}, NULL));
	assert_false(ok((struct fake){.origin = "http://evil.example", .host = h}, NULL));
	assert_false(ok((struct fake){.origin = "http://127.0.0.1:80800", .host = h}, NULL));
	assert_false(ok((struct fake){.origin = "null", .host = h}, NULL));
	assert_false(ok((struct fake){.origin = "http://127.0.0.1:8080", .host = NULL}, NULL));
	assert_false(ok((struct fake){.site = "cross-site", .host = h}, NULL));
	assert_true(ok((struct fake){.site = "same-origin", .host = h}, NULL));
	/* public_url's origin (path and all) is ours too. */
	assert_true(ok((struct fake){.origin = "https://m.example.org", .host = h},
		       "https://m.example.org/tandem"));
	assert_false(ok((struct fake){.origin = "https://m.example.org.evil", .host = h},
			"https://m.example.org/tandem"));
	/* Without Origin, the Referer's origin is judged. */
	assert_true(ok((struct fake){.referer = "http://127.0.0.1:8080/p/x/review", .host = h}, NULL));
	assert_false(ok((struct fake){.referer = "http://evil.example/form.html", .host = h}, NULL));
	assert_false(ok((struct fake){.referer = "garbage", .host = h}, NULL));
	assert_true(ok((struct fake){.referer = "http://127.0.0.1:8080", .host = h}, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_type),
		cmocka_unit_test(test_origin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/http/dash_static: both files read from $TANDEM_DATADIR/dashboard,
 * versioned by their SHA-256; a GET answers 200 with the long cache headers, 304 when
 * If-None-Match names the ETag, 404 for any other name; a folder without dashboard.css is
 * passed over; free is safe twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/sha256.h"
#include "http/dash_static.h"

static char dir[] = "/tmp/test_dash_static.XXXXXX";
static const char *if_none_match;

static const char *
lookup(void *ctx, enum http_kind kind, const char *key)
{
	(void)ctx;
	if (kind == HTTP_HEADER && strcasecmp(key, "If-None-Match") == 0)
		return if_none_match;
	return NULL;
}

static void
put(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/dashboard/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *
header(const struct http_response *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->header_names[i], name) == 0)
			return r->header_values[i];
	return NULL;
}

static void
get(const struct dash_file *files, const char *name, struct http_response *resp)
{
	struct http_request req = {.method = "GET", .path = name, .uri = name, .body = "",
				   .lookup = lookup};
	memset(resp, 0, sizeof(*resp));
	dash_static_get(files, name, &req, resp);
}

static void
test_load_and_get(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/dashboard", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("dashboard.css", "body { color: #111; }\n");
	put("dashboard.js", "\"use strict\";\n");
	setenv("TANDEM_DATADIR", dir, 1);
	struct dash_file files[DASH_STATIC_FILES];
	memset(files, 0, sizeof(files));
	dash_static_load(files);
	assert_non_null(files[0].body);
	assert_non_null(files[1].body);
	char hex[SHA256_HEX_LEN];
	sha256_hex("body { color: #111; }\n", 22, hex);
	assert_int_equal(strncmp(files[0].version, hex, 16), 0);
	assert_int_equal(strlen(files[0].version), 16);

	struct http_response r;
	if_none_match = NULL;
	get(files, "dashboard.css", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 22);
	assert_memory_equal(r.body, "body { color: #111; }\n", 22);
	assert_non_null(strstr(r.content_type, "text/css"));
	assert_string_equal(header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	char etag[HTTP_ETAG_MAX];
	snprintf(etag, sizeof(etag), "%s", header(&r, "ETag"));
	http_response_fini(&r);

	if_none_match = etag;
	get(files, "dashboard.css", &r);
	assert_int_equal(r.status, 304);
	assert_null(r.body);
	http_response_fini(&r);
	if_none_match = "\"0000000000000000\"";
	get(files, "dashboard.js", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.content_type, "javascript"));
	http_response_fini(&r);

	get(files, "../tandem.db", &r);
	assert_int_equal(r.status, 404);
	http_response_fini(&r);
	dash_static_free(files);
	dash_static_free(files);

	/* A folder without dashboard.css is passed over: the files come from the next place
	 * (the installed or the source tree's), never this folder's lone dashboard.js. */
	snprintf(sub, sizeof(sub), "%s/dashboard/dashboard.css", dir);
	assert_int_equal(unlink(sub), 0);
	memset(files, 0, sizeof(files));
	dash_static_load(files);
	assert_true(files[1].body == NULL || strcmp(files[1].body, "\"use strict\";\n") != 0);
	dash_static_free(files);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_and_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

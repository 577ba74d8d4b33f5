/* Unit tests for core/http/dash_session: a session opened for a live token (only the hash
 * stored), checked (name, scope, csrf), refused for a revoked token, a dead token name, a
 * malformed or unknown cookie, idle and absolute expiry on the store's clock, last_seen_at
 * throttled, sign-out, expired rows removed at the next sign-in, cookie header parsing and
 * the csrf value (stable per session, differs between sessions, compared whole). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "http/dash_session.h"
#include "store/stmt.h"
#include "store/store.h"

enum { T0 = 1795356000 }; /* 2026-11-22T14:00:00Z */

struct fixture {
	char dir[64], path[128];
	struct store *st;
	struct clock clock;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_dash_session.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	if ((f->st = store_open(f->path, STORE_CREATE, &d)) == NULL)
		return -1;
	clock_virtual_init(&f->clock, T0);
	store_set_clock(f->st, &f->clock);
	char tok[TOKENS_TEXT_MAX];
	if (tokens_create(f->st, "mgr", HTTP_SCOPE_MANAGE, "t", tok, &d) != 0 ||
	    tokens_create(f->st, "ro", HTTP_SCOPE_READ, "t", tok, &d) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t
count(struct store *st, const char *sql)
{
	int64_t n = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "count", sql, &n, &d), 0);
	return n;
}

static void
test_open_check_close(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char c1[DASH_COOKIE_LEN + 1], c2[DASH_COOKIE_LEN + 1];
	assert_int_equal(dash_session_open(f->st, "mgr", c1, &d), 0);
	assert_int_equal(dash_session_open(f->st, "ro", c2, &d), 0);
	assert_int_equal(strlen(c1), DASH_COOKIE_LEN);
	assert_string_not_equal(c1, c2);
	/* Only the hash is stored. */
	char hex[SHA256_HEX_LEN], sql[200];
	sha256_hex(c1, strlen(c1), hex);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dash_sessions WHERE hash = '%s'", hex);
	assert_int_equal(count(f->st, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dash_sessions WHERE hash = '%s'", c1);
	assert_int_equal(count(f->st, sql), 0);

	struct dash_who w1, w2;
	assert_int_equal(dash_session_check(f->st, c1, &w1, &d), 1);
	assert_string_equal(w1.name, "mgr");
	assert_int_equal(w1.scope, HTTP_SCOPE_MANAGE);
	assert_int_equal(dash_session_check(f->st, c2, &w2, &d), 1);
	assert_string_equal(w2.name, "ro");
	assert_int_equal(w2.scope, HTTP_SCOPE_READ);
	/* The csrf value: the session's, stable, not another's, compared whole. */
	char again[SHA256_HEX_LEN];
	dash_csrf(c1, again);
	assert_string_equal(w1.csrf, again);
	assert_string_not_equal(w1.csrf, w2.csrf);
	assert_true(dash_csrf_ok(&w1, again));
	assert_false(dash_csrf_ok(&w1, w2.csrf));
	assert_false(dash_csrf_ok(&w1, ""));
	assert_false(dash_csrf_ok(&w1, NULL));
	again[10] = again[10] == 'a' ? 'b' : 'a';
	assert_false(dash_csrf_ok(&w1, again));

	/* Unknown, malformed, a dead token name. */
	char forged[DASH_COOKIE_LEN + 1];
	memcpy(forged, c1, sizeof(forged));
	forged[5] = forged[5] == 'A' ? 'B' : 'A';
	assert_int_equal(dash_session_check(f->st, forged, &w1, &d), 0);
	assert_int_equal(dash_session_check(f->st, "short", &w1, &d), 0);
	assert_int_equal(dash_session_check(f->st, "", &w1, &d), 0);
	assert_int_equal(dash_session_check(f->st, NULL, &w1, &d), 0);
	assert_int_equal(dash_session_open(f->st, "nobody", c2, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);

	/* Sign-out ends it; the other stays. */
	assert_int_equal(dash_session_close(f->st, c1, &d), 0);
	assert_int_equal(dash_session_check(f->st, c1, &w1, &d), 0);
	assert_int_equal(dash_session_close(f->st, c1, &d), 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM dash_sessions"), 1);
}

static void
test_revoked(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char c[DASH_COOKIE_LEN + 1];
	struct dash_who w;
	assert_int_equal(dash_session_open(f->st, "mgr", c, &d), 0);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 1);
	assert_int_equal(tokens_revoke(f->st, "mgr", "t", &d), 0);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 0);
	/* A revoked token opens no new session. */
	assert_int_equal(dash_session_open(f->st, "mgr", c, &d), -1);
}

static void
test_expiry(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char c[DASH_COOKIE_LEN + 1];
	struct dash_who w;
	assert_int_equal(dash_session_open(f->st, "mgr", c, &d), 0);
	/* Seen within a minute: last_seen_at unchanged; after a minute: touched. */
	clock_virtual_advance(&f->clock, 30 * 1000);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 1);
	assert_int_equal(count(f->st, "SELECT count(*) FROM dash_sessions "
				      "WHERE last_seen_at = '2026-11-22T14:00:00Z'"), 1);
	clock_virtual_advance(&f->clock, 60 * 1000);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 1);
	assert_int_equal(count(f->st, "SELECT count(*) FROM dash_sessions "
				      "WHERE last_seen_at = '2026-11-22T14:01:30Z'"), 1);
	/* Idle for 12 hours less a second: alive (and touched); then 12 hours idle: over. */
	clock_virtual_advance(&f->clock, ((int64_t)DASH_SESSION_IDLE_S - 1) * 1000);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 1);
	clock_virtual_advance(&f->clock, ((int64_t)DASH_SESSION_IDLE_S + 1) * 1000);
	assert_int_equal(dash_session_check(f->st, c, &w, &d), 0);
	/* Expired rows go at the next sign-in. */
	char c2[DASH_COOKIE_LEN + 1];
	assert_int_equal(dash_session_open(f->st, "mgr", c2, &d), 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM dash_sessions"), 1);
	/* A session used every hour still ends 7 days after sign-in. */
	for (int h = 0; h < 7 * 24 - 1; h++) {
		clock_virtual_advance(&f->clock, 3600 * 1000);
		assert_int_equal(dash_session_check(f->st, c2, &w, &d), 1);
	}
	clock_virtual_advance(&f->clock, 3600 * 1000);
	assert_int_equal(dash_session_check(f->st, c2, &w, &d), 0);
}

static void
test_cookie_header(void **state)
{
	char v[64];
	assert_int_equal(dash_cookie_value("tandem_session=abc", v, sizeof(v)), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(dash_cookie_value("a=1; tandem_session=xyz; b=2", v, sizeof(v)), 1);
	assert_string_equal(v, "xyz");
	assert_int_equal(dash_cookie_value("a=1;tandem_session=q", v, sizeof(v)), 1);
	assert_string_equal(v, "q");
	assert_int_equal(dash_cookie_value("my_tandem_session=abc", v, sizeof(v)), 0);
	assert_int_equal(dash_cookie_value("a=1", v, sizeof(v)), 0);
	assert_int_equal(dash_cookie_value(NULL, v, sizeof(v)), 0);
	assert_int_equal(dash_cookie_value("tandem_session=0123456789", v, 5), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_check_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test(test_cookie_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

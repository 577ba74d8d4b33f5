/* Unit tests for core/http/tokens: creation (format, only the SHA-256 stored, events),
 * names and scopes refused, listing, checking (scope, unknown, malformed, revoked seen at
 * the next check, also when revoked through another connection), last_used_at throttled,
 * and the constant-time comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/sha256.h"
#include "http/tokens.h"
#include "store/stmt.h"
#include "store/store.h"

enum { T0 = 1795356000 }; /* 2026-11-22T14:00:00Z */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_tokens.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	if ((f->st = store_open(f->path, STORE_CREATE, &d)) == NULL)
		return -1;
	clock_virtual_init(&f->clock, T0);
	store_set_clock(f->st, &f->clock);
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
bearer(char *out, size_t cap, const char *token)
{
	snprintf(out, cap, "Bearer %s", token);
}

static void
test_create_and_check(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char tok[TOKENS_TEXT_MAX], tok2[TOKENS_TEXT_MAX];
	assert_int_equal(tokens_create(f->st, "dash-board.1", HTTP_SCOPE_READ, "ada", tok, &d), 0);
	assert_int_equal(strlen(tok), 4 + 43);
	assert_memory_equal(tok, "tdm_", 4);
	assert_int_equal(tokens_create(f->st, "ops", HTTP_SCOPE_MANAGE, "ada", tok2, &d), 0);
	assert_string_not_equal(tok, tok2);
	/* Only the hash is stored, never the text. */
	char hex[SHA256_HEX_LEN], sql[256];
	sha256_hex(tok, strlen(tok), hex);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE hash = '%s'", hex);
	assert_int_equal(count(f->st, sql), 1);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM api_tokens WHERE hash LIKE '%%%s%%' OR name LIKE '%%%s%%'",
		 tok + 4, tok + 4);
	assert_int_equal(count(f->st, sql), 0);
	assert_int_equal(
	    count(f->st, "SELECT count(*) FROM events WHERE kind = 'token.created' AND actor = "
			 "'ada' AND payload NOT LIKE '%tdm_%'"),
	    2);

	struct tokens_cache *c = tokens_cache_new(f->st, NULL, &d);
	assert_non_null(c);
	const char *name;
	enum http_scope scope;
	char auth[96];
	bearer(auth, sizeof(auth), tok);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);
	assert_string_equal(name, "dash-board.1");
	assert_int_equal(scope, HTTP_SCOPE_READ);
	bearer(auth, sizeof(auth), tok2);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);
	assert_string_equal(name, "ops");
	assert_int_equal(scope, HTTP_SCOPE_MANAGE);
	/* Lower-case scheme is the same scheme (RFC 9110 11.1). */
	snprintf(auth, sizeof(auth), "bearer %s", tok2);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);

	/* Unknown, malformed, missing. */
	char wrong[TOKENS_TEXT_MAX];
	snprintf(wrong, sizeof(wrong), "%s", tok);
	wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
	bearer(auth, sizeof(auth), wrong);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 0);
	assert_int_equal(tokens_check(c, NULL, &name, &scope, &d), 0);
	assert_int_equal(tokens_check(c, "Bearer ", &name, &scope, &d), 0);
	assert_int_equal(tokens_check(c, tok, &name, &scope, &d), 0); /* no scheme */
	snprintf(auth, sizeof(auth), "Basic %s", tok);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 0);

	/* last_used_at: written on first use, not again within the minute. */
	assert_int_equal(count(f->st, "SELECT count(*) FROM api_tokens WHERE name = 'ops' AND "
				      "last_used_at = '2026-11-22T14:00:00Z'"),
			 1);
	clock_virtual_set(&f->clock, T0 + 30);
	bearer(auth, sizeof(auth), tok2);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);
	assert_int_equal(count(f->st, "SELECT count(*) FROM api_tokens WHERE name = 'ops' AND "
				      "last_used_at = '2026-11-22T14:00:00Z'"),
			 1);
	clock_virtual_set(&f->clock, T0 + 61);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);
	assert_int_equal(count(f->st, "SELECT count(*) FROM api_tokens WHERE name = 'ops' AND "
				      "last_used_at = '2026-11-22T14:01:01Z'"),
			 1);

	/* Revoked through this connection: refused at the next check. */
	assert_int_equal(tokens_revoke(f->st, "ops", "bob", &d), 0);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM events WHERE kind = 'token.revoked' "
				      "AND actor = 'bob'"),
			 1);

	/* Revoked through another connection (the CLI beside the service). */
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	bearer(auth, sizeof(auth), tok);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 1);
	assert_int_equal(tokens_revoke(other, "dash-board.1", "carol", &d), 0);
	store_close(other);
	assert_int_equal(tokens_check(c, auth, &name, &scope, &d), 0);
	tokens_cache_delete(c);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char tok[TOKENS_TEXT_MAX];
	const char *bad[] = {"", "a b", "x/y", "é",
			     "a1234567890123456789012345678901234567890123456789012345678901234"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tokens_create(f->st, bad[i], HTTP_SCOPE_READ, "t", tok, &d), -1);
		assert_int_equal(d.code, DIAG_INVALID);
	}
	assert_int_equal(tokens_create(f->st, "x", HTTP_SCOPE_NONE, "t", tok, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_int_equal(tokens_create(f->st, "x", HTTP_SCOPE_ADMIN, "t", tok, &d), 0);
	assert_int_equal(tokens_create(f->st, "x", HTTP_SCOPE_READ, "t", tok, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "'x' exists"));
	assert_int_equal(tokens_revoke(f->st, "nope", "t", &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_int_equal(tokens_revoke(f->st, "x", "t", &d), 0);
	assert_int_equal(tokens_revoke(f->st, "x", "t", &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	/* A revoked name stays taken. */
	assert_int_equal(tokens_create(f->st, "x", HTTP_SCOPE_READ, "t", tok, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_int_equal(count(f->st, "SELECT count(*) FROM api_tokens"), 1);
	assert_int_equal(count(f->st, "SELECT count(*) FROM events WHERE kind LIKE 'token.%'"), 2);
}

static void
test_list(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char tok[TOKENS_TEXT_MAX];
	assert_int_equal(tokens_create(f->st, "b", HTTP_SCOPE_MANAGE, "t", tok, &d), 0);
	assert_int_equal(tokens_create(f->st, "a", HTTP_SCOPE_READ, "t", tok, &d), 0);
	assert_int_equal(tokens_revoke(f->st, "b", "t", &d), 0);
	json_t *v = tokens_list_json(f->st, &d);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 2);
	json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "a");
	assert_string_equal(json_string_value(json_object_get(a, "scope")), "read");
	assert_true(json_is_null(json_object_get(a, "revoked_at")));
	assert_string_equal(json_string_value(json_object_get(b, "revoked_at")),
			    "2026-11-22T14:00:00Z");
	char *text = json_dumps(v, 0);
	assert_null(strstr(text, "tdm_"));
	assert_null(strstr(text, "hash"));
	free(text);
	json_decref(v);
}

static void
test_equal(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(tokens_equal(a, b, 32));
	for (int i = 0; i < 32; i += 7) {
		b[i] ^= 1;
		assert_false(tokens_equal(a, b, 32));
		b[i] ^= 1;
	}
	assert_true(tokens_equal(a, b, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

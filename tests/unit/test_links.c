/* Unit tests for core/sched/links: the check-in token round-trips; changing any byte or
 * character of a token, or the key, refuses it; expiry at its boundaries; the workspace's
 * link key is made once and kept; links_url's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/hmac.h"
#include "sched/links.h"
#include "store/stmt.h"
#include "store/store.h"

static const unsigned char key1[LINKS_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[LINKS_KEY_LEN] = "0123456789abcdef0123456789abcdeF";

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
test_round_trip(void **state)
{
	(void)state;
	struct links_token t = {.session_id = 123456789012LL, .side = LINKS_MENTEE,
				.expires = 1800000000, .nonce = 0x0123456789abcdefULL};
	char tok[LINKS_TOKEN_MAX];
	links_encode(key1, &t, tok);
	assert_int_equal(strlen(tok), LINKS_TOKEN_LEN);
	assert_int_equal(strspn(tok, alphabet), LINKS_TOKEN_LEN);
	struct links_token u;
	assert_int_equal(links_decode(key1, tok, 1700000000, &u), LINKS_OK);
	assert_int_equal(u.session_id, t.session_id);
	assert_int_equal(u.side, LINKS_MENTEE);
	assert_int_equal(u.expires, t.expires);
	assert_true(u.nonce == t.nonce);
	t.side = LINKS_MENTOR;
	t.session_id = 1;
	links_encode(key1, &t, tok);
	assert_int_equal(links_decode(key1, tok, 0, &u), LINKS_OK);
	assert_int_equal(u.side, LINKS_MENTOR);
	assert_int_equal(u.session_id, 1);
	/* Another key: forged. */
	assert_int_equal(links_decode(key2, tok, 0, &u), LINKS_FORGED);
	assert_string_equal(links_side_name(LINKS_MENTOR), "mentor");
	assert_string_equal(links_side_name(LINKS_MENTEE), "mentee");
}

/* Every character replaced by every other character of the alphabet: never accepted. */
static void
test_tamper_any_character(void **state)
{
	(void)state;
	struct links_token t = {.session_id = 42, .side = LINKS_MENTOR, .expires = 1800000000,
				.nonce = 7};
	char tok[LINKS_TOKEN_MAX], bad[LINKS_TOKEN_MAX];
	links_encode(key1, &t, tok);
	struct links_token u;
	int forged = 0, malformed = 0;
	for (size_t i = 0; i < LINKS_TOKEN_LEN; i++) {
		for (const char *c = alphabet; *c; c++) {
			if (*c == tok[i])
				continue;
			memcpy(bad, tok, sizeof(bad));
			bad[i] = *c;
			enum links_verdict v = links_decode(key1, bad, 0, &u);
			assert_true(v == LINKS_FORGED || v == LINKS_MALFORMED);
			forged += v == LINKS_FORGED;
			malformed += v == LINKS_MALFORMED;
		}
	}
	assert_true(forged > 0 && malformed > 0);
	/* Shorter, longer, characters outside the alphabet, padding, empty. */
	memcpy(bad, tok, sizeof(bad));
	bad[LINKS_TOKEN_LEN - 1] = '\0';
	assert_int_equal(links_decode(key1, bad, 0, &u), LINKS_MALFORMED);
	char longer[LINKS_TOKEN_MAX + 4];
	snprintf(longer, sizeof(longer), "%sA", tok);
	assert_int_equal(links_decode(key1, longer, 0, &u), LINKS_MALFORMED);
	memcpy(bad, tok, sizeof(bad));
	bad[10] = '+';
	assert_int_equal(links_decode(key1, bad, 0, &u), LINKS_MALFORMED);
	bad[10] = '=';
	assert_int_equal(links_decode(key1, bad, 0, &u), LINKS_MALFORMED);
	assert_int_equal(links_decode(key1, "", 0, &u), LINKS_MALFORMED);
}

/* Every bit of the raw bytes flipped (re-encoded canonically): refused, never OK. */
static void
test_tamper_any_byte(void **state)
{
	(void)state;
	struct links_token t = {.session_id = 9, .side = LINKS_MENTEE, .expires = 1800000000,
				.nonce = 99};
	char tok[LINKS_TOKEN_MAX];
	links_encode(key1, &t, tok);
	/* Decode the characters to bits, flip one, encode again. */
	unsigned char raw[LINKS_RAW_LEN + 2];
	for (int bit = 0; bit < LINKS_RAW_LEN * 8; bit++) {
		memset(raw, 0, sizeof(raw));
		for (int i = 0; i < LINKS_RAW_LEN * 8; i++) {
			int v = (int)(strchr(alphabet, tok[i / 6]) - alphabet);
			if (v >> (5 - i % 6) & 1)
				raw[i / 8] |= (unsigned char)(0x80 >> (i % 8));
		}
		raw[bit / 8] ^= (unsigned char)(0x80 >> (bit % 8));
		char bad[LINKS_TOKEN_MAX];
		size_t o = 0;
		for (int i = 0; i < LINKS_TOKEN_LEN; i++) {
			int v = 0;
			for (int j = 0; j < 6; j++) {
				int k = i * 6 + j;
				v = v << 1 | (k < LINKS_RAW_LEN * 8 && (raw[k / 8] >> (7 - k % 8) & 1));
			}
			bad[o++] = alphabet[v];
		}
		bad[o] = '\0';
		struct links_token u;
		enum links_verdict v = links_decode(key1, bad, 0, &u);
		assert_true(v == LINKS_FORGED || v == LINKS_MALFORMED);
	}
}

static void
test_expiry_boundaries(void **state)
{
	(void)state;
	struct links_token t = {.session_id = 5, .side = LINKS_MENTOR, .expires = 1800000000,
				.nonce = 1};
	char tok[LINKS_TOKEN_MAX];
	links_encode(key1, &t, tok);
	struct links_token u;
	assert_int_equal(links_decode(key1, tok, t.expires - 1, &u), LINKS_OK);
	assert_int_equal(links_decode(key1, tok, t.expires, &u), LINKS_EXPIRED);
	assert_int_equal(u.expires, t.expires);
	assert_int_equal(links_decode(key1, tok, t.expires + 86400, &u), LINKS_EXPIRED);
	/* An expired token of another key is forged, not expired. */
	assert_int_equal(links_decode(key2, tok, t.expires + 1, &u), LINKS_FORGED);
	/* The expiry of a session: its end + the TTL. */
	assert_int_equal(links_expiry(1000, 45), 1000 + 45 * 60 + LINKS_TTL_DAYS * 86400);
}

static void
test_key_and_url(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_links.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tandem.db", dir);
	struct diag d;
	struct store *st = store_open(path, STORE_CREATE, &d);
	assert_non_null(st);
	unsigned char k1[LINKS_KEY_LEN], k2[LINKS_KEY_LEN];
	assert_int_equal(links_key(st, 0, k1, &d), 0);
	assert_int_equal(links_key(st, 1, k1, &d), 1);
	assert_int_equal(links_key(st, 1, k2, &d), 1);
	assert_memory_equal(k1, k2, LINKS_KEY_LEN);
	assert_int_equal(links_key(st, 0, k2, &d), 1);
	assert_memory_equal(k1, k2, LINKS_KEY_LEN);
	int64_t n = -1;
	assert_int_equal(stmt_query_int64(st, "t",
					  "SELECT COUNT(*) FROM secrets WHERE name = 'link_key'"
					  " AND length(value) = 64",
					  &n, &d),
			 0);
	assert_int_equal(n, 1);

	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	assert_int_equal(links_url(&a, "https://m.example/x//", k1, 17, LINKS_MENTEE, 2000000000, &d), 0);
	assert_int_equal(links_url(&b, "https://m.example/x", k1, 17, LINKS_MENTEE, 2000000000, &d), 0);
	const char *prefix = "https://m.example/x/c/";
	assert_int_equal(strncmp(a.data, prefix, strlen(prefix)), 0);
	assert_int_equal(strlen(a.data), strlen(prefix) + LINKS_TOKEN_LEN);
	assert_string_not_equal(a.data, b.data); /* the nonces differ */
	struct links_token u;
	assert_int_equal(links_decode(k1, a.data + strlen(prefix), 1900000000, &u), LINKS_OK);
	assert_int_equal(u.session_id, 17);
	assert_int_equal(u.side, LINKS_MENTEE);
	assert_int_equal(u.expires, 2000000000);
	buf_fini(&a);
	buf_fini(&b);
	store_close(st);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper_any_character),
		cmocka_unit_test(test_tamper_any_byte),
		cmocka_unit_test(test_expiry_boundaries),
		cmocka_unit_test(test_key_and_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

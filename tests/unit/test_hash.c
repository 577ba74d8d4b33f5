/* Unit tests for base/hash: 64-bit FNV-1a and the mixing step, pinned to known values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"

static void
test_fnv1a_known_values(void **state)
{
	(void)state;
	/* The published FNV-1a 64-bit values: the offset basis for "", then "a" and "foobar". */
	assert_true(hash_fnv1a("", 0) == 0xcbf29ce484222325ull);
	assert_true(hash_fnv1a("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(hash_fnv1a("foobar", 6) == 0x85944171f73967e8ull);
	assert_true(hash_str("") == 0xcbf29ce484222325ull);
	assert_true(hash_str("a") == 0xaf63dc4c8601ec8cull);
	assert_true(hash_str("foobar") == 0x85944171f73967e8ull);
}

static void
test_str_agrees_with_bytes(void **state)
{
	(void)state;
	const char *s[] = {"Europe/Paris", "p00017", "p00018", "\xc3\xa9t\xc3\xa9", "x"};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		assert_true(hash_str(s[i]) == hash_fnv1a(s[i], strlen(s[i])));
	/* Bytes past a NUL count for hash_fnv1a. */
	assert_true(hash_fnv1a("a\0b", 3) != hash_str("a"));
}

static void
test_mix64(void **state)
{
	(void)state;
	assert_true(hash_mix64(0) == 0);
	/* 1 * 0xff51afd7ed558ccd, then xor with itself shifted right by 33. */
	assert_true(hash_mix64(1) == 0xff51afd792fd5b26ull);
	assert_true(hash_mix64(0xaf63dc4c8601ec8cull) == 0xed8170de1919a24dull);
	/* Sequential ids: FNV's low 10 bits collide often; mixed ones spread over the slots. */
	int used[1024] = {0};
	int distinct = 0;
	for (int i = 0; i < 512; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%05d", i);
		size_t slot = hash_mix64(hash_str(id)) & 1023;
		distinct += used[slot]++ == 0;
	}
	assert_true(distinct > 350); /* a random function gives about 405 of 512 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv1a_known_values),
		cmocka_unit_test(test_str_agrees_with_bytes),
		cmocka_unit_test(test_mix64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

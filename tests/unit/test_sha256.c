/* Unit tests for base/sha256: the FIPS 180 test vectors, split updates, hex output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/sha256.h"

static void
hex_of(const unsigned char dg[SHA256_LEN], char out[SHA256_HEX_LEN])
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", dg[i]);
}

static void
check(const void *p, size_t n, const char *want)
{
	unsigned char dg[SHA256_LEN];
	char hex[SHA256_HEX_LEN];
	sha256(p, n, dg);
	hex_of(dg, hex);
	assert_string_equal(hex, want);
	sha256_hex(p, n, hex);
	assert_string_equal(hex, want);
}

static const char abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char msg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg448_sha[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
static const char million_a[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

static void
test_fips_vectors(void **state)
{
	(void)state;
	check("abc", 3, abc);
	check("", 0, empty);
	assert_int_equal(strlen(msg448) * 8, 448);
	check(msg448, strlen(msg448), msg448_sha);
}

static void
test_million_a(void **state)
{
	(void)state;
	/* In chunks of 1000, through the streaming interface... */
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	struct sha256 c;
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, chunk, sizeof(chunk));
	unsigned char dg[SHA256_LEN];
	char hex[SHA256_HEX_LEN];
	sha256_final(&c, dg);
	hex_of(dg, hex);
	assert_string_equal(hex, million_a);
	/* ... and in one call. */
	char *all = malloc(1000000);
	assert_non_null(all);
	memset(all, 'a', 1000000);
	check(all, 1000000, million_a);
	free(all);
}

static void
test_any_split_gives_the_same_digest(void **state)
{
	(void)state;
	/* Every split point of messages around the padding boundaries (55, 56, 63, 64 bytes). */
	unsigned char msg[200];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 37 + 11);
	const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200};
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t n = lens[k];
		unsigned char whole[SHA256_LEN];
		sha256(msg, n, whole);
		for (size_t cut = 0; cut <= n; cut++) {
			struct sha256 c;
			unsigned char part[SHA256_LEN];
			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, msg + cut, n - cut);
			sha256_final(&c, part);
			assert_memory_equal(part, whole, SHA256_LEN);
		}
	}
	/* Byte by byte, over two blocks and a half. */
	struct sha256 c;
	unsigned char dg[SHA256_LEN];
	char hex[SHA256_HEX_LEN];
	sha256_init(&c);
	for (size_t i = 0; i < strlen(msg448); i++)
		sha256_update(&c, msg448 + i, 1);
	sha256_final(&c, dg);
	hex_of(dg, hex);
	assert_string_equal(hex, msg448_sha);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_any_split_gives_the_same_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

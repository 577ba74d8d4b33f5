/* Unit tests for base/hmac: HMAC-SHA256 against the test vectors of RFC 4231 (cases 1-4,
 * 6 and 7; case 5 is a truncated output, checked as a prefix), and the constant-time
 * comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/hmac.h"

static void
hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
check(const void *key, size_t klen, const void *msg, size_t mlen, const char *want)
{
	unsigned char mac[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	hmac_sha256(key, klen, msg, mlen, mac);
	hex(mac, sizeof(mac), got);
	assert_memory_equal(got, want, strlen(want));
}

static void
test_rfc4231(void **state)
{
	(void)state;
	unsigned char k[131];
	memset(k, 0x0b, 20);
	check(k, 20, "Hi There", 8,
	      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check("Jefe", 4, "what do ya want for nothing?", 28,
	      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	unsigned char m[50];
	memset(k, 0xaa, 20);
	memset(m, 0xdd, 50);
	check(k, 20, m, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (int i = 0; i < 25; i++)
		k[i] = (unsigned char)(i + 1);
	memset(m, 0xcd, 50);
	check(k, 25, m, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(k, 0x0c, 20);
	check(k, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b");
	memset(k, 0xaa, 131);
	check(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	static const char long_msg[] =
	    "This is a test using a larger than block-size key and a larger than block-size data. "
	    "The key needs to be hashed before being used by the HMAC algorithm.";
	check(k, 131, long_msg, strlen(long_msg),
	      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(hmac_equal("abcdef", "abcdef", 6));
	assert_false(hmac_equal("abcdef", "abcdeg", 6));
	assert_false(hmac_equal("xbcdef", "abcdef", 6));
	assert_true(hmac_equal("a", "b", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4231),
	    cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

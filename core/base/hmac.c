/*
 * hmac: HMAC-SHA256. See hmac.h.
 */
#include "base/hmac.h"

#include <string.h>

void
hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
	    unsigned char out[SHA256_LEN])
{
	unsigned char k[64] = {0}, pad[64], inner[SHA256_LEN];
	if (klen > sizeof(k))
		sha256(key, klen, k);
	else if (klen > 0)
		memcpy(k, key, klen);
	struct sha256 c;
	for (int i = 0; i < 64; i++)
		pad[i] = (unsigned char)(k[i] ^ 0x36);
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, msg, mlen);
	sha256_final(&c, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = (unsigned char)(k[i] ^ 0x5c);
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);
}

int
hmac_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}

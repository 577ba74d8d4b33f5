/*
 * hmac: HMAC-SHA256 (RFC 2104 over FIPS 180-4, test vectors of RFC 4231), on base/sha256.
 *
 * For: verification codes that only the holder of a key can make (completion
 * certificates, rewards/certificate), where a bare digest would let anyone forge one.
 *
 * Contract: hmac_sha256 writes the 32-byte MAC of msg under key; a key longer than the
 * block (64 bytes) is hashed first, as the RFC says. hmac_equal compares two MACs in time
 * that does not depend on where they differ. No allocation, no state.
 */
#ifndef TANDEM_HMAC_H
#define TANDEM_HMAC_H

#include <stddef.h>

#include "base/sha256.h"

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char out[SHA256_LEN]);

/* 1 when the n bytes at a and b are equal; the time taken depends only on n. */
int hmac_equal(const void *a, const void *b, size_t n);

#endif

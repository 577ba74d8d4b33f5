/*
 * sha256: SHA-256 (FIPS 180-4), the one cryptographic digest of the core.
 *
 * For: pseudonymizing erased people (a salted digest in place of their id), content
 * digests of files and generated data. Called by program/people and whoever needs
 * a digest that must not collide by accident or by design.
 *
 * Contract: sha256_init, then sha256_update any number of times with any split of
 * the message, then sha256_final writes the 32-byte digest; the result depends only
 * on the bytes, not on how they were split. sha256() does the three in one call.
 * sha256_hex writes 64 lower-case hex digits and a NUL. No allocation, no state
 * outside struct sha256: thread-safe as long as each context has one user.
 */
#ifndef TANDEM_SHA256_H
#define TANDEM_SHA256_H

#include <stddef.h>
#include <stdint.h>

enum { SHA256_LEN = 32, SHA256_HEX_LEN = 65 };

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;		/* message length so far */
	unsigned char blk[64];	/* a partial block */
	size_t fill;		/* bytes in blk */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t n);
/* Writes the digest; c must be initialized again before another use. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);

/* The digest of n bytes at p, as hex: out receives 64 digits and a NUL. */
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN]);

#endif

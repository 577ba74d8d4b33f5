/*
 * hash: the one non-cryptographic hash of the core (64-bit FNV-1a) and a finalizer.
 *
 * For: hash tables (strmap, caches), seeds derived from names (genorg). Not for
 * anything an adversary may choose to collide on purpose where that would matter
 * beyond speed, and never for integrity: that is sha256.
 *
 * Contract: pure functions, the same value on every platform and in every run (the
 * generated orgs are pinned by digests, so a seed drawn from hash_str must never
 * change). hash_fnv1a and hash_str agree: hash_str(s) == hash_fnv1a(s, strlen(s)).
 * FNV-1a's low bits cluster for keys that differ only in their last characters
 * (ids "p00017", "p00018"); a table that indexes by the low bits wants
 * hash_mix64(hash_str(s)), which strmap uses.
 */
#ifndef TANDEM_HASH_H
#define TANDEM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV64_OFFSET 0xcbf29ce484222325ull
#define HASH_FNV64_PRIME 0x100000001b3ull

/* 64-bit FNV-1a of n bytes. */
static inline uint64_t
hash_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = HASH_FNV64_OFFSET;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * HASH_FNV64_PRIME;
	return h;
}

/* 64-bit FNV-1a of a NUL-terminated string (without the NUL). */
static inline uint64_t
hash_str(const char *s)
{
	uint64_t h = HASH_FNV64_OFFSET;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * HASH_FNV64_PRIME;
	return h;
}

/* Spreads the high bits over the low ones (the first half of MurmurHash3's 64-bit finalizer):
 * enough for sequential ids to land in scattered slots of a power-of-two table. */
static inline uint64_t
hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

#endif

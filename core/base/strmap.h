/*
 * strmap: a map from strings to a pointer or an integer, owned by the caller.
 *
 * For: every string-keyed table of the core (ids and e-mails of an import, zones
 * already checked, plugin and kind registries, feature names). There are no global
 * tables: each map lives in the struct of whoever needs it.
 *
 * How: open addressing with linear probing in a power-of-two table kept at most half
 * full. Each entry keeps its key's 64-bit hash (hash_mix64(hash_str(key))), so a probe
 * compares text only on a likely match and growing never re-reads the keys. Deletion
 * shifts the following entries back (no tombstones), so a table that churns stays fast.
 * Tables of 1 MiB and more come from pages_alloc (huge pages, zeroed by the kernel).
 *
 * Contract:
 *  - strmap_init(m, 0): keys are borrowed, and must stay valid and unchanged while
 *    they are in the map (strings in an arena, in the caller's rows). With
 *    STRMAP_COPY_KEYS the map keeps its own copy of each key and frees it.
 *  - The value is a union: ptr or num, whichever the caller uses; a new entry starts
 *    with num = 0 (ptr = NULL).
 *  - An entry pointer stays valid until the next put, intern, reserve or del on the map.
 *  - Calls that may add return -1/NULL with DIAG_NOMEM on failure and leave the map
 *    as it was. Not thread-safe: one owner, or the owner's lock.
 *  - Iteration (strmap_next) visits every entry once, in no particular order; the map
 *    must not be changed during it.
 */
#ifndef TANDEM_STRMAP_H
#define TANDEM_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

enum { STRMAP_COPY_KEYS = 1 };

struct strmap_entry {
	const char *key; /* NULL = free slot */
	uint64_t hash;
	union {
		void *ptr;
		int64_t num;
	};
};

struct strmap {
	struct strmap_entry *slots;
	size_t cap, len; /* slots (0 or a power of two), entries */
	unsigned flags;
};

void strmap_init(struct strmap *m, unsigned flags);
void strmap_fini(struct strmap *m);

/* Sizes the table so that n entries in all fit without growing. */
int strmap_reserve(struct strmap *m, size_t n, struct diag *d);

/* The entry of key, NULL when absent. */
struct strmap_entry *strmap_get(const struct strmap *m, const char *key);

/* The entry of key, added (value zero, *added = 1) when absent; NULL when out of memory. */
struct strmap_entry *strmap_intern(struct strmap *m, const char *key, int *added,
				   struct diag *d);

/* Sets key -> ptr (or num), adding or replacing. */
int strmap_put(struct strmap *m, const char *key, void *ptr, struct diag *d);
int strmap_put_num(struct strmap *m, const char *key, int64_t num, struct diag *d);

/* Removes key; 1 when it was there, 0 when absent. */
int strmap_del(struct strmap *m, const char *key);

/* Iteration: strmap_next(m, NULL) is the first entry, strmap_next(m, e) the one after e;
 * NULL at the end. */
struct strmap_entry *strmap_next(const struct strmap *m, const struct strmap_entry *e);

#endif

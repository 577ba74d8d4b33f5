/*
 * strmap: open addressing from strings. See strmap.h for the contract.
 */
#include "base/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/pages.h"

enum { STRMAP_MIN_CAP = 16, STRMAP_PAGES_FROM = 1 << 20 };

static uint64_t
strmap_hash(const char *key)
{
	return hash_mix64(hash_str(key));
}

static struct strmap_entry *
slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct strmap_entry);
	return bytes >= STRMAP_PAGES_FROM ? pages_alloc(bytes) : calloc(cap, sizeof(struct strmap_entry));
}

static void
slots_free(struct strmap_entry *slots, size_t cap)
{
	size_t bytes = cap * sizeof(struct strmap_entry);
	if (bytes >= STRMAP_PAGES_FROM)
		pages_free(slots, bytes);
	else
		free(slots);
}

void
strmap_init(struct strmap *m, unsigned flags)
{
	m->slots = NULL;
	m->cap = m->len = 0;
	m->flags = flags;
}

void
strmap_fini(struct strmap *m)
{
	if (m->flags & STRMAP_COPY_KEYS)
		for (size_t i = 0; i < m->cap; i++)
			free((char *)m->slots[i].key);
	slots_free(m->slots, m->cap);
	strmap_init(m, m->flags);
}

/* Moves every entry into a table of cap slots (a power of two, more than twice len). */
static int
strmap_rehash(struct strmap *m, size_t cap, struct diag *d)
{
	if (cap > SIZE_MAX / sizeof(struct strmap_entry))
		return diag_set(d, DIAG_NOMEM, "string map of %zu slots is too large", cap);
	struct strmap_entry *slots = slots_alloc(cap);
	if (slots == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory (string map of %zu slots)", cap);
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		size_t j = m->slots[i].hash & (cap - 1);
		while (slots[j].key != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	slots_free(m->slots, m->cap);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int
strmap_reserve(struct strmap *m, size_t n, struct diag *d)
{
	size_t cap = m->cap ? m->cap : STRMAP_MIN_CAP;
	while (cap / 2 < n) {
		if (cap > SIZE_MAX / 4)
			return diag_set(d, DIAG_NOMEM, "string map of %zu entries is too large", n);
		cap *= 2;
	}
	return cap == m->cap ? 0 : strmap_rehash(m, cap, d);
}

/* The slot of key, or the free slot where it would go (cap must be > 0). */
static struct strmap_entry *
strmap_probe(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t j = h & mask;
	while (m->slots[j].key != NULL &&
	       (m->slots[j].hash != h || strcmp(m->slots[j].key, key) != 0))
		j = (j + 1) & mask;
	return &m->slots[j];
}

struct strmap_entry *
strmap_get(const struct strmap *m, const char *key)
{
	if (m->len == 0)
		return NULL;
	struct strmap_entry *e = strmap_probe(m, key, strmap_hash(key));
	return e->key != NULL ? e : NULL;
}

struct strmap_entry *
strmap_intern(struct strmap *m, const char *key, int *added, struct diag *d)
{
	if (strmap_reserve(m, m->len + 1, d) != 0)
		return NULL;
	uint64_t h = strmap_hash(key);
	struct strmap_entry *e = strmap_probe(m, key, h);
	if (e->key != NULL) {
		if (added != NULL)
			*added = 0;
		return e;
	}
	const char *k = key;
	if (m->flags & STRMAP_COPY_KEYS) {
		k = strdup(key);
		if (k == NULL) {
			diag_set(d, DIAG_NOMEM, "out of memory (string map key)");
			return NULL;
		}
	}
	e->key = k;
	e->hash = h;
	e->num = 0;
	m->len++;
	if (added != NULL)
		*added = 1;
	return e;
}

int
strmap_put(struct strmap *m, const char *key, void *ptr, struct diag *d)
{
	struct strmap_entry *e = strmap_intern(m, key, NULL, d);
	if (e == NULL)
		return -1;
	e->ptr = ptr;
	return 0;
}

int
strmap_put_num(struct strmap *m, const char *key, int64_t num, struct diag *d)
{
	struct strmap_entry *e = strmap_intern(m, key, NULL, d);
	if (e == NULL)
		return -1;
	e->num = num;
	return 0;
}

int
strmap_del(struct strmap *m, const char *key)
{
	struct strmap_entry *e = strmap_get(m, key);
	if (e == NULL)
		return 0;
	if (m->flags & STRMAP_COPY_KEYS)
		free((char *)e->key);
	/*
	 * Backward shift: walk the run after the hole; an entry whose home slot is not
	 * cyclically in (hole, j] would become unreachable past the hole, so move it in.
	 */
	size_t mask = m->cap - 1;
	size_t hole = (size_t)(e - m->slots);
	for (size_t j = (hole + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		int reachable = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!reachable) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	memset(&m->slots[hole], 0, sizeof(m->slots[hole]));
	m->len--;
	return 1;
}

struct strmap_entry *
strmap_next(const struct strmap *m, const struct strmap_entry *e)
{
	size_t i = e == NULL ? 0 : (size_t)(e - m->slots) + 1;
	for (; i < m->cap; i++)
		if (m->slots[i].key != NULL)
			return &m->slots[i];
	return NULL;
}

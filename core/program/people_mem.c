/*
 * people_mem: the memory of one people import (see people_import.h): large zeroed buffers
 * from mmap, the arena that holds every string of the import, the string map used for ids,
 * e-mails, zones and lists, and the phase timings. Built for 100k-row files, where the
 * tables are far bigger than the CPU caches; docs/performance.md has the measurements.
 */
#include "program/people_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- big buffers ------------------------------------------------------------------------- */

/*
 * The large buffers of an import (the arena, the row array, the hash tables: ~60 MB for 100k
 * rows, written once and probed at random) come straight from mmap, zeroed, with transparent
 * huge pages asked for. On 4 KiB pages their first-touch page faults and TLB misses were a
 * third of the time spent reading and checking the file.
 */
void *
people_big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (n >= (2u << 20))
		madvise(p, n, MADV_HUGEPAGE); /* advice only: it may be refused */
#endif
	return p;
}

void
people_big_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

/* ---- arena ------------------------------------------------------------------------------- */

struct people_arena_block {
	struct people_arena_block *next;
	size_t used, cap;
	char data[];
};

enum { PEOPLE_ARENA_BLOCK_MIN = 4u << 20 };

char *
people_arena_alloc(struct people_arena *a, size_t n)
{
	struct people_arena_block *b = a->head;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = a->next_cap > PEOPLE_ARENA_BLOCK_MIN ? a->next_cap : PEOPLE_ARENA_BLOCK_MIN;
		if (cap < n)
			cap = n;
		a->next_cap = 0;
		b = people_big_alloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

void *
people_arena_alloc_aligned(struct people_arena *a, size_t n)
{
	if (a->head != NULL) {
		size_t used = (a->head->used + 7) & ~(size_t)7;
		a->head->used = used < a->head->cap ? used : a->head->cap;
	}
	return people_arena_alloc(a, n);
}

char *
people_arena_strndup(struct people_arena *a, const char *s, size_t n)
{
	char *p = people_arena_alloc(a, n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void
people_arena_free(struct people_arena *a)
{
	while (a->head != NULL) {
		struct people_arena_block *b = a->head;
		a->head = b->next;
		people_big_free(b, sizeof(*b) + b->cap);
	}
}

/* ---- string map -------------------------------------------------------------------------- */

/* Open addressing from a string (not copied) to an int. Each slot keeps the key's hash, so a
 * probe touches one cache line and the key's text only on a likely match, and growing never
 * re-reads the keys: with 100k-row imports the table is far bigger than the CPU caches. */
struct people_map_slot {
	const char *key; /* NULL = empty */
	uint32_t hash;   /* the low half of the key's hash */
	int val;
};

static uint64_t
people_map_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	/* FNV's low bits cluster on ids that differ only in their last digits: mix them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* Zeroed slots: big tables from people_big_alloc(), small ones from calloc (see
 * people_map_slots_free). */
static struct people_map_slot *
people_map_slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct people_map_slot);
	return bytes >= (1u << 20) ? people_big_alloc(bytes) : calloc(cap, sizeof(struct people_map_slot));
}

static void
people_map_slots_free(struct people_map_slot *slots, size_t cap)
{
	size_t bytes = cap * sizeof(struct people_map_slot);
	if (bytes >= (1u << 20))
		people_big_free(slots, bytes);
	else
		free(slots);
}

static int
people_map_grow(struct people_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct people_map_slot *slots = people_map_slots_alloc(cap);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		size_t j = people_map_hash(m->slots[i].key) & (cap - 1);
		while (slots[j].key != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	people_map_slots_free(m->slots, m->cap);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Sizes an empty map for about n keys up front: growing a big table step by step costs a
 * rehash per step and, worse, page faults on every fresh table. */
int
people_map_reserve(struct people_map *m, size_t n)
{
	if (m->cap != 0)
		return 0;
	size_t cap = 1024;
	while (cap < 2 * n + 2)
		cap *= 2;
	m->slots = people_map_slots_alloc(cap);
	if (m->slots == NULL)
		return -1;
	m->cap = cap;
	return 0;
}

int
people_map_get(const struct people_map *m, const char *key)
{
	if (m->cap == 0)
		return -1;
	uint64_t h = people_map_hash(key);
	uint32_t h32 = (uint32_t)h;
	for (size_t j = h & (m->cap - 1); m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (m->slots[j].hash == h32 && strcmp(m->slots[j].key, key) == 0)
			return m->slots[j].val;
	return -1;
}

int
people_map_put(struct people_map *m, const char *key, int val)
{
	if ((m->n + 1) * 2 > m->cap && people_map_grow(m) != 0)
		return -2;
	uint64_t h = people_map_hash(key);
	size_t j = h & (m->cap - 1);
	for (; m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (m->slots[j].hash == (uint32_t)h && strcmp(m->slots[j].key, key) == 0)
			return m->slots[j].val;
	m->slots[j].hash = (uint32_t)h;
	m->slots[j].key = key;
	m->slots[j].val = val;
	m->n++;
	return -1;
}

void
people_map_fini(struct people_map *m)
{
	people_map_slots_free(m->slots, m->cap);
	memset(m, 0, sizeof(*m));
}

/* ---- phase timings ----------------------------------------------------------------------- */

static void
people_times_now(struct timespec *wall, struct timespec *cpu)
{
	clock_gettime(CLOCK_MONOTONIC, wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, cpu);
}

void
people_times_start(struct people_times *t)
{
	people_times_now(&t->wall, &t->cpu);
	t->len = 0;
	t->text[0] = '\0';
}

static double
people_times_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void
people_times_mark(struct people_times *t, const char *phase)
{
	struct timespec wall, cpu;
	people_times_now(&wall, &cpu);
	if (t->len < sizeof(t->text)) {
		int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s%s %.3f/%.3f",
				 t->len ? ", " : "", phase, people_times_diff(&t->wall, &wall),
				 people_times_diff(&t->cpu, &cpu));
		t->len += n > 0 ? (size_t)n : 0;
	}
	t->wall = wall;
	t->cpu = cpu;
}


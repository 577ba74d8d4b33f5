/*
 * arena: block allocation freed at once. See arena.h for the contract.
 */
#include "base/arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/pages.h"

struct arena_block {
	struct arena_block *next;
	size_t used, cap; /* bytes of data[] handed out / available */
	size_t size;	  /* the whole block, as allocated (pages_free wants it back) */
	char data[];
};

/* data[] follows four words, so it is 8-aligned in any block that malloc or mmap returns. */
_Static_assert(offsetof(struct arena_block, data) % 8 == 0, "arena data must be 8-aligned");

enum { ARENA_BLOCK_MIN = 4096, ARENA_PAGES_FROM = 1 << 20 };

void
arena_init(struct arena *a, size_t block)
{
	a->head = NULL;
	a->block = block < ARENA_BLOCK_MIN ? ARENA_BLOCK_MIN : block;
	a->total = 0;
}

static void
block_free(struct arena_block *b)
{
	if (b->size >= ARENA_PAGES_FROM)
		pages_free(b, b->size);
	else
		free(b);
}

void
arena_fini(struct arena *a)
{
	while (a->head != NULL) {
		struct arena_block *b = a->head;
		a->head = b->next;
		block_free(b);
	}
	a->total = 0;
}

/* A fresh block with at least n bytes of room, made the head. */
static int
arena_new_block(struct arena *a, size_t n, struct diag *d)
{
	size_t cap = n > a->block ? n : a->block;
	if (cap > SIZE_MAX - sizeof(struct arena_block))
		return diag_set(d, DIAG_NOMEM, "arena block of %zu bytes is too large", n);
	size_t size = sizeof(struct arena_block) + cap;
	struct arena_block *b = size >= ARENA_PAGES_FROM ? pages_alloc(size) : calloc(1, size);
	if (b == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory (arena block of %zu bytes)", size);
	b->used = 0;
	b->cap = cap;
	b->size = size;
	b->next = a->head;
	a->head = b;
	a->total += size;
	return 0;
}

int
arena_reserve(struct arena *a, size_t n, struct diag *d)
{
	if (a->head != NULL && a->head->cap - a->head->used >= n)
		return 0;
	return arena_new_block(a, n, d);
}

char *
arena_alloc_text(struct arena *a, size_t n, struct diag *d)
{
	if (arena_reserve(a, n, d) != 0)
		return NULL;
	char *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

void *
arena_alloc(struct arena *a, size_t n, struct diag *d)
{
	if (a->head != NULL) {
		/* Round the fill level up to 8; a full block stays full. */
		size_t used = (a->head->used + 7) & ~(size_t)7;
		a->head->used = used < a->head->cap ? used : a->head->cap;
	}
	/* A fresh block's data[] is 8-aligned, so either way the result is. */
	return arena_alloc_text(a, n, d);
}

char *
arena_strndup(struct arena *a, const char *s, size_t n, struct diag *d)
{
	if (n == SIZE_MAX) {
		diag_set(d, DIAG_NOMEM, "string too long for the arena");
		return NULL;
	}
	char *p = arena_alloc_text(a, n + 1, d);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *
arena_strdup(struct arena *a, const char *s, struct diag *d)
{
	return arena_strndup(a, s, strlen(s), d);
}

/*
 * arena: many small allocations freed all at once (the strings and rows of one
 * import, the names of one run), without a malloc header per string and with
 * pointers that never move.
 *
 * Contract:
 *  - arena_init(a, block) sets the usual block size (at least 4 KiB); an arena owns
 *    nothing until the first allocation. arena_fini frees every block.
 *  - Memory comes zeroed and stays valid until arena_fini: blocks never move, so
 *    pointers into the arena are stable (unlike vec and buf).
 *  - arena_alloc aligns to 8 bytes (any scalar or pointer); arena_alloc_text packs
 *    bytes with no alignment, for strings.
 *  - A request larger than the block size gets a block of its own. arena_reserve(a,
 *    n) makes the next n bytes come from one block (an import sizes its first block
 *    from the file size with it).
 *  - Blocks of 1 MiB and more come from pages_alloc (huge pages), smaller ones from
 *    calloc. Allocation failure returns NULL with DIAG_NOMEM (d may be NULL).
 *  - Not thread-safe: one owner.
 */
#ifndef TANDEM_ARENA_H
#define TANDEM_ARENA_H

#include <stddef.h>

#include "base/diag.h"

struct arena_block;

struct arena {
	struct arena_block *head; /* the block being filled; older ones follow */
	size_t block;		  /* usual block size */
	size_t total;		  /* bytes held in all blocks (their sizes), for logs and tests */
};

void arena_init(struct arena *a, size_t block);
void arena_fini(struct arena *a);

int arena_reserve(struct arena *a, size_t n, struct diag *d);

void *arena_alloc(struct arena *a, size_t n, struct diag *d);
char *arena_alloc_text(struct arena *a, size_t n, struct diag *d);

/* A NUL-terminated copy of n bytes of s (s need not be terminated). */
char *arena_strndup(struct arena *a, const char *s, size_t n, struct diag *d);
char *arena_strdup(struct arena *a, const char *s, struct diag *d);

#endif

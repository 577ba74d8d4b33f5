/*
 * pages: large zeroed blocks straight from the kernel, for the big tables of one
 * operation (an import's arena and hash tables, a solver's score table).
 *
 * Why not malloc: a 100k-row import or a 2000 x 2000 table is written once and read
 * at random; on 4 KiB pages its first-touch page faults and TLB misses cost a third
 * of the work (docs/performance.md). pages_alloc maps fresh memory (zeroed by the
 * kernel, so no memset) and asks for transparent huge pages from 2 MiB on.
 *
 * Contract: pages_alloc(n) returns n zeroed bytes aligned to the page size, or NULL
 * when the kernel refuses (n == 0 too). pages_free(p, n) takes the same n back;
 * p may be NULL. The huge-page request is advice only. Thread-safe (no state).
 */
#ifndef TANDEM_PAGES_H
#define TANDEM_PAGES_H

#include <stddef.h>

void *pages_alloc(size_t n);
void pages_free(void *p, size_t n);

#endif

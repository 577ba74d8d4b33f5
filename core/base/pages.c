/*
 * pages: large zeroed blocks from mmap. See pages.h for the contract.
 */
#include "base/pages.h"

#include <sys/mman.h>

void *
pages_alloc(size_t n)
{
	if (n == 0)
		return NULL;
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (n >= ((size_t)2 << 20))
		madvise(p, n, MADV_HUGEPAGE); /* advice only: it may be refused */
#endif
	return p;
}

void
pages_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

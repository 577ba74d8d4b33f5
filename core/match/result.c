/*
 * result: the helpers every solver's result shares (match_result_fini,
 * match_result_pairs) and match_dtype_size. Contract: match.h. Callers: every
 * user of the primitive (the policy pipeline, `tandem solve`, embedders, the
 * solvers themselves on their error paths), and match__big_alloc, the large
 * blocks of the stable matching (stable.c, prefs.c).
 */
#include "match/match_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void
match_result_fini(struct match_result *res)
{
	if (res == NULL)
		return;
	free(res->row_to_col);
	free(res->unmatched_rows);
	free(res->u);
	free(res->v);
	memset(res, 0, sizeof(*res));
}

int
match_result_pairs(const struct match_result *res, struct match_pair **out, struct diag *d)
{
	*out = NULL;
	if (res->npairs == 0)
		return 0;
	struct match_pair *p = malloc((size_t)res->npairs * sizeof(*p));
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory listing %d pairs", res->npairs);
	int n = 0;
	for (int i = 0; i < res->nr; i++) {
		if (res->row_to_col[i] < 0)
			continue;
		if (n == res->npairs) {
			free(p);
			return diag_set(d, DIAG_INTERNAL, "result lists more pairs than npairs");
		}
		p[n].row = i;
		p[n].col = res->row_to_col[i];
		n++;
	}
	*out = p;
	return 0;
}

size_t
match_dtype_size(enum match_dtype t)
{
	switch (t) {
	case MATCH_F64:
		return sizeof(double);
	case MATCH_F32:
		return sizeof(float);
	case MATCH_I16:
		return sizeof(int16_t);
	case MATCH_I32:
		return sizeof(int32_t);
	}
	return 0;
}

/*
 * Memory for large tables and lists, not zeroed. Large blocks ask for
 * transparent huge pages: a 2000 x 2000 table in 4 KiB pages costs thousands
 * of page faults, which on virtual machines is most of the time spent. The
 * block is released with free().
 */
void *
match__big_alloc(size_t size)
{
	size_t huge = (size_t)2 << 20;
	if (size < 2 * huge)
		return malloc(size);
	void *p = NULL;
	size_t rounded = (size + huge - 1) / huge * huge;
	if (posix_memalign(&p, huge, rounded) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE);
#endif
	return p;
}

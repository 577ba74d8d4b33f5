/*
 * match_stable: deferred acceptance (Gale-Shapley, hospitals/residents with
 * column capacities), preference lists from score matrices, and the
 * blocking-pair check. See match.h for the contract. Callers: policies (via
 * the plugin host), `tandem solve --stable`, the benchmark driver.
 *
 * Cost: O(total list length) after building a rank table for the side that
 * receives proposals. The rank table is a flat n x m array (uint16 when every
 * list is shorter than 65535, else int32) when that is at most RANK_FLAT_MAX
 * entries: one lookup, no hashing. Otherwise it is one open-addressing hash
 * over the listed (entity, item) pairs, so memory stays O(total list length).
 *
 * A column keeps its accepted rows as bits over the positions of its own
 * list, plus the worst accepted position; once the column is full that
 * position only moves up the list, so rejecting the worst is amortized O(1).
 */
#include "match/match.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { RANK_FLAT_MAX = 1 << 24 };

/*
 * Memory for large tables and lists, not zeroed. Large blocks ask for
 * transparent huge pages: a 2000 x 2000 table in 4 KiB pages costs thousands
 * of page faults, which on virtual machines is most of the time spent. The
 * block is released with free().
 */
static void *
big_alloc(size_t size)
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

/* rank(e, x): position of item x in entity e's list, or -1 when not listed. */
struct rank {
	int n, m;
	uint16_t *r16;	/* flat n * m, position + 1, 0 = not listed */
	int32_t *r32;	/* same, when a list may be 65535 long or more */
	uint64_t *keys; /* hash: key = e * m + x + 1, 0 = empty */
	int32_t *vals;
	size_t mask;
};

static void
rank_fini(struct rank *r)
{
	free(r->r16);
	free(r->r32);
	free(r->keys);
	free(r->vals);
}

static inline size_t
rank_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

static inline int
rank_get(const struct rank *r, int e, int x)
{
	if (r->r16)
		return (int)r->r16[(size_t)e * r->m + x] - 1;
	if (r->r32)
		return r->r32[(size_t)e * r->m + x] - 1;
	uint64_t k = (uint64_t)e * (uint64_t)r->m + (uint64_t)x + 1;
	for (size_t i = rank_hash(k) & r->mask;; i = (i + 1) & r->mask) {
		if (r->keys[i] == k)
			return r->vals[i];
		if (r->keys[i] == 0)
			return -1;
	}
}

static int
bad_item(struct rank *r, int e, int x, const char *what, const char *item, struct diag *d)
{
	rank_fini(r);
	if (x < 0 || x >= r->m)
		return diag_set(d, DIAG_INVALID, "%s %d lists %s %d, outside 0..%d", what, e, item,
				x, r->m - 1);
	return diag_set(d, DIAG_INVALID, "%s %d lists %s %d twice", what, e, item, x);
}

/* Entity e's row of a flat table: cleared, then filled; a set slot is a duplicate. */
#define RANK_FILL_ROW(T, tab)                                                                      \
	do {                                                                                       \
		T *row = (tab) + (size_t)e * (size_t)m;                                            \
		memset(row, 0, (size_t)m * sizeof(T));                                             \
		for (int k = beg; k < end; k++) {                                                  \
			int x = p->items[k];                                                       \
			if ((unsigned)x >= (unsigned)m || row[x] != 0)                             \
				return bad_item(r, e, x, what, item, d);                           \
			row[x] = (T)(k - beg + 1);                                                 \
		}                                                                                  \
	} while (0)

/*
 * Checks the lists of one side (n entities over m items: range, duplicates)
 * and builds their rank table. what/item name the sides in messages.
 */
static int
rank_build(const struct match_prefs *p, int n, int m, const char *what, const char *item,
	   struct rank *r, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->m = m;
	if (p->n != n || (n > 0 && (p->ptr == NULL || p->ptr[0] != 0)))
		return diag_set(d, DIAG_INVALID, "%s preferences: expected %d lists starting at 0",
				what, n);
	for (int e = 0; e < n; e++)
		if (p->ptr[e + 1] < p->ptr[e])
			return diag_set(d, DIAG_INVALID,
					"%s preferences: list %d has negative length", what, e);
	size_t total = n > 0 ? (size_t)p->ptr[n] : 0, cells = (size_t)n * (size_t)m;
	if (cells <= RANK_FLAT_MAX) {
		if (m < 65535)
			r->r16 = big_alloc((cells + 1) * sizeof(uint16_t));
		else
			r->r32 = big_alloc((cells + 1) * sizeof(int32_t));
		if (r->r16 == NULL && r->r32 == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		/* A list longer than m holds a repeat or a stray item, caught before its slot. */
		for (int e = 0; e < n; e++) {
			int beg = p->ptr[e], end = p->ptr[e + 1];
			if (r->r16)
				RANK_FILL_ROW(uint16_t, r->r16);
			else
				RANK_FILL_ROW(int32_t, r->r32);
		}
		return 0;
	}
	size_t cap = 16;
	while (cap < 2 * total + 2)
		cap <<= 1;
	r->keys = calloc(cap, sizeof(uint64_t));
	r->vals = malloc(cap * sizeof(int32_t));
	r->mask = cap - 1;
	if (!r->keys || !r->vals) {
		rank_fini(r);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int e = 0; e < n; e++)
		for (int k = p->ptr[e]; k < p->ptr[e + 1]; k++) {
			int x = p->items[k];
			if (x < 0 || x >= m)
				return bad_item(r, e, x, what, item, d);
			uint64_t key = (uint64_t)e * (uint64_t)m + (uint64_t)x + 1;
			size_t i = rank_hash(key) & r->mask;
			while (r->keys[i] != 0 && r->keys[i] != key)
				i = (i + 1) & r->mask;
			if (r->keys[i] == key)
				return bad_item(r, e, x, what, item, d);
			r->keys[i] = key;
			r->vals[i] = k - p->ptr[e];
		}
	return 0;
}

/* Shape, range and duplicates of one side's lists, with a stamp per item: O(total + m). */
static int
check_lists(const struct match_prefs *p, int n, int m, const char *what, const char *item,
	    struct diag *d)
{
	if (p->n != n || (n > 0 && (p->ptr == NULL || p->ptr[0] != 0)))
		return diag_set(d, DIAG_INVALID, "%s preferences: expected %d lists starting at 0",
				what, n);
	int *stamp = malloc(((size_t)m + 1) * sizeof(int));
	if (stamp == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int x = 0; x < m; x++)
		stamp[x] = -1;
	for (int e = 0; e < n; e++) {
		if (p->ptr[e + 1] < p->ptr[e]) {
			free(stamp);
			return diag_set(d, DIAG_INVALID,
					"%s preferences: list %d has negative length", what, e);
		}
		for (int k = p->ptr[e]; k < p->ptr[e + 1]; k++) {
			int x = p->items[k];
			if (x < 0 || x >= m || stamp[x] == e) {
				free(stamp);
				if (x < 0 || x >= m)
					return diag_set(d, DIAG_INVALID,
							"%s %d lists %s %d, outside 0..%d", what, e,
							item, x, m - 1);
				return diag_set(d, DIAG_INVALID, "%s %d lists %s %d twice", what, e,
						item, x);
			}
			stamp[x] = e;
		}
	}
	free(stamp);
	return 0;
}

static int
check_input(const struct match_stable_input *in, struct diag *d)
{
	if (in == NULL || in->nr < 0 || in->nc < 0)
		return diag_set(d, DIAG_INVALID, "stable matching: missing input or negative size");
	for (int c = 0; in->capacity && c < in->nc; c++)
		if (in->capacity[c] < 0)
			return diag_set(d, DIAG_INVALID, "capacity of column %d is negative (%d)",
					c, in->capacity[c]);
	return 0;
}

static int
fill_result(int nr, int nc, int *row_to_col, struct match_result *res, struct diag *d)
{
	res->nr = nr;
	res->nc = nc;
	res->row_to_col = row_to_col;
	res->unmatched_rows = malloc(((size_t)nr + 1) * sizeof(int));
	if (res->unmatched_rows == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int r = 0; r < nr; r++)
		if (row_to_col[r] >= 0)
			res->npairs++;
		else
			res->unmatched_rows[res->nunmatched++] = r;
	return 0;
}

/* Bit i of a bitset. */
static inline int
bit_get(const uint64_t *b, size_t i)
{
	return (int)(b[i >> 6] >> (i & 63)) & 1;
}

static inline void
bit_put(uint64_t *b, size_t i, int on)
{
	if (on)
		b[i >> 6] |= (uint64_t)1 << (i & 63);
	else
		b[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/*
 * Rows propose; a column holds up to its capacity. held has one bit per
 * position of the columns' lists (bit C->ptr[c] + pos: c holds the row at pos).
 */
static int
rows_propose(const struct match_stable_input *in, const struct rank *colrank, int *row_to_col,
	     struct diag *d)
{
	int nr = in->nr, nc = in->nc;
	const struct match_prefs *R = &in->rows, *C = &in->cols;
	size_t ctotal = nc > 0 ? (size_t)C->ptr[nc] : 0;
	uint64_t *held = calloc(ctotal / 64 + 1, sizeof(uint64_t));
	int *worst = malloc(((size_t)nc + 1) * sizeof(int));
	int *count = calloc((size_t)nc + 1, sizeof(int));
	int *next = malloc(((size_t)nr + 1) * sizeof(int));
	int *stack = malloc(((size_t)nr + 1) * sizeof(int));
	if (!held || !worst || !count || !next || !stack) {
		free(held), free(worst), free(count), free(next), free(stack);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int top = 0;
	for (int c = 0; c < nc; c++)
		worst[c] = -1;
	for (int r = nr - 1; r >= 0; r--) {
		row_to_col[r] = -1;
		next[r] = R->ptr[r];
		stack[top++] = r;
	}
	while (top > 0) {
		int r = stack[--top];
		while (next[r] < R->ptr[r + 1]) {
			int c = R->items[next[r]++];
			int pos = rank_get(colrank, c, r);
			int cap = in->capacity ? in->capacity[c] : 1;
			if (pos < 0 || cap == 0)
				continue;
			size_t base = (size_t)C->ptr[c];
			if (count[c] < cap) {
				bit_put(held, base + pos, 1);
				count[c]++;
				if (pos > worst[c])
					worst[c] = pos;
				row_to_col[r] = c;
				break;
			}
			if (pos > worst[c])
				continue;
			/* Full and r beats the worst holder: swap them. */
			int out = C->items[base + worst[c]];
			bit_put(held, base + worst[c], 0);
			bit_put(held, base + pos, 1);
			while (worst[c] >= 0 && !bit_get(held, base + worst[c]))
				worst[c]--;
			row_to_col[r] = c;
			row_to_col[out] = -1;
			stack[top++] = out;
			break;
		}
	}
	free(held), free(worst), free(count), free(next), free(stack);
	return 0;
}

/* Columns propose, each with as many open proposals as free slots; rows hold one. */
static int
cols_propose(const struct match_stable_input *in, const struct rank *rowrank, int *row_to_col,
	     struct diag *d)
{
	int nr = in->nr, nc = in->nc;
	const struct match_prefs *C = &in->cols;
	int *next = malloc(((size_t)nc + 1) * sizeof(int));
	int *slots = malloc(((size_t)nc + 1) * sizeof(int));
	int *stack = malloc(((size_t)nc + (size_t)nr + 1) * sizeof(int));
	if (!next || !slots || !stack) {
		free(next), free(slots), free(stack);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int top = 0;
	for (int r = 0; r < nr; r++)
		row_to_col[r] = -1;
	for (int c = nc - 1; c >= 0; c--) {
		next[c] = C->ptr[c];
		slots[c] = in->capacity ? in->capacity[c] : 1;
		stack[top++] = c;
	}
	while (top > 0) {
		int c = stack[--top];
		while (slots[c] > 0 && next[c] < C->ptr[c + 1]) {
			int r = C->items[next[c]++];
			int pos = rank_get(rowrank, r, c);
			if (pos < 0)
				continue;
			int cur = row_to_col[r];
			if (cur >= 0 && rank_get(rowrank, r, cur) <= pos)
				continue;
			row_to_col[r] = c;
			slots[c]--;
			if (cur >= 0) {
				/* The jilted column has a slot again; it resumes where it stopped.
				 */
				if (slots[cur]++ == 0)
					stack[top++] = cur;
			}
		}
	}
	free(next), free(slots), free(stack);
	return 0;
}

int
match_stable(const struct match_stable_input *in, struct match_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	if (check_input(in, d) != 0)
		return -1;
	struct rank rr, cr;
	/* The receiving side is checked while its rank table is built. */
	if (!in->cols_propose ? check_lists(&in->rows, in->nr, in->nc, "row", "column", d)
			      : check_lists(&in->cols, in->nc, in->nr, "column", "row", d))
		return -1;
	int *row_to_col = malloc(((size_t)in->nr + 1) * sizeof(int));
	if (row_to_col == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc;
	if (!in->cols_propose) {
		if (rank_build(&in->cols, in->nc, in->nr, "column", "row", &cr, d) != 0) {
			free(row_to_col);
			return -1;
		}
		rc = rows_propose(in, &cr, row_to_col, d);
		rank_fini(&cr);
	} else {
		if (rank_build(&in->rows, in->nr, in->nc, "row", "column", &rr, d) != 0) {
			free(row_to_col);
			return -1;
		}
		rc = cols_propose(in, &rr, row_to_col, d);
		rank_fini(&rr);
	}
	if (rc != 0) {
		free(row_to_col);
		return -1;
	}
	if (fill_result(in->nr, in->nc, row_to_col, res, d) != 0) {
		match_result_fini(res);
		return -1;
	}
	return 0;
}

/* ---- Preference lists from scores --------------------------------------------- */

/*
 * Sorting the lists is the hot spot of stable matching on dense scores
 * (2 n^2 entries for n x n), so each list is sorted in two cheap, stable
 * passes: a counting pass on bucket(x) = floor((x - min) * k / (max - min)),
 * a monotone map (buckets come out in value order and equal values share a
 * bucket), then an insertion pass that only has to order each bucket's few
 * values. Ties keep the lower index first because both passes are stable.
 * A skewed distribution (a few huge buckets of distinct values) would make
 * the insertion pass quadratic; a work budget catches that and the list is
 * finished by a stable LSD radix sort on the bits of the doubles instead.
 *
 * Column lists read the row-major matrix in blocks of PREFS_BLOCK columns,
 * one short contiguous run per row, into a column-major buffer that stays in
 * the L2 cache: walking down a column with stride nc would miss the cache on
 * every entry.
 */

enum { PREFS_BLOCK = 32, PREFS_SPREAD = 4 };

/* Order-preserving map of a finite double to an unsigned key (-0 and +0 equal). */
static inline uint64_t
sort_key(double x)
{
	uint64_t b;
	if (x == 0)
		x = 0;
	memcpy(&b, &x, sizeof(b));
	return (b & 0x8000000000000000ULL) ? ~b : b | 0x8000000000000000ULL;
}

/*
 * Stable LSD radix sort of idx[0..n) by key[0..n), 8 bits per pass; passes
 * whose byte is the same for every key are skipped. The result is in idx;
 * key2 and idx2 are scratch of n entries.
 */
static void
radix_sort(uint64_t *key, int *idx, uint64_t *key2, int *idx2, int n)
{
	uint32_t hist[8][256];
	memset(hist, 0, sizeof(hist));
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			hist[b][(key[i] >> (8 * b)) & 0xff]++;
	int *i0 = idx;
	for (int b = 0; b < 8; b++) {
		uint32_t *h = hist[b];
		if (h[(key[0] >> (8 * b)) & 0xff] == (uint32_t)n)
			continue;
		uint32_t sum = 0;
		for (int v = 0; v < 256; v++) {
			uint32_t c = h[v];
			h[v] = sum;
			sum += c;
		}
		for (int i = 0; i < n; i++) {
			uint32_t at = h[(key[i] >> (8 * b)) & 0xff]++;
			key2[at] = key[i];
			idx2[at] = idx[i];
		}
		uint64_t *tk = key;
		key = key2;
		key2 = tk;
		int *ti = idx;
		idx = idx2;
		idx2 = ti;
	}
	if (idx != i0) /* an odd number of passes ran: the result is in the scratch */
		memcpy(i0, idx, (size_t)n * sizeof(*idx));
}

/* Scratch for sorting one list of up to len entries. */
struct sorter {
	int len;
	double *v, *v2;
	int *ix;
	uint32_t *bk, *cnt;
	uint64_t *key, *key2;
};

static void
sorter_fini(struct sorter *s)
{
	free(s->v);
	free(s->v2);
	free(s->ix);
	free(s->bk);
	free(s->cnt);
	free(s->key);
	free(s->key2);
}

static int
sorter_init(struct sorter *s, int len)
{
	size_t n = (size_t)len + 1;
	memset(s, 0, sizeof(*s));
	s->len = len;
	s->v = malloc(n * sizeof(double));
	s->v2 = malloc(n * sizeof(double));
	s->ix = malloc(n * sizeof(int));
	s->bk = malloc(n * sizeof(uint32_t));
	s->cnt = malloc(n * PREFS_SPREAD * sizeof(uint32_t));
	s->key = malloc(n * sizeof(uint64_t));
	s->key2 = malloc(n * sizeof(uint64_t));
	if (!s->v || !s->v2 || !s->ix || !s->bk || !s->cnt || !s->key || !s->key2) {
		sorter_fini(s);
		return -1;
	}
	return 0;
}

/* Radix fallback: out[0..k) (indices, in the order of v) sorted stably by v. */
static void
sort_by_radix(struct sorter *s, const double *v, int *out, int k)
{
	for (int j = 0; j < k; j++)
		s->key[j] = sort_key(v[j]);
	radix_sort(s->key, out, s->key2, s->ix, k);
}

/*
 * Lists of at most 65536 entries: each value is quantized to 16 bits,
 * q = (x - lo) * 65535 / (hi - lo) (monotone), packed with its position as
 * q << 16 | j, and the words are sorted by two stable 8-bit counting passes
 * (256 buckets each: no long prefix sums). Values sharing a q are then put in
 * order by an insertion pass, which with 2000 values over 65536 levels has a
 * few dozen short moves to make. Same contract as sort_list.
 */
static void
sort_short(struct sorter *s, const double *v, const int *ix, double sg, int k, double lo, double hi,
	   int *out)
{
	double scale = 65535.0 / (hi - lo), *v2 = s->v2;
	uint32_t *a = s->bk, *b = s->cnt, h0[256], h1[256];
	memset(h0, 0, sizeof(h0));
	memset(h1, 0, sizeof(h1));
	for (int j = 0; j < k; j++) {
		uint32_t q = (uint32_t)((sg * v[j] - lo) * scale);
		q = q < 65535 ? q : 65535;
		a[j] = q << 16 | (uint32_t)j;
		h0[q & 255]++;
		h1[q >> 8]++;
	}
	uint32_t s0 = 0, s1 = 0;
	for (int d = 0; d < 256; d++) {
		uint32_t c0 = h0[d], c1 = h1[d];
		h0[d] = s0;
		h1[d] = s1;
		s0 += c0;
		s1 += c1;
	}
	for (int j = 0; j < k; j++)
		b[h0[(a[j] >> 16) & 255]++] = a[j];
	for (int j = 0; j < k; j++)
		a[h1[b[j] >> 24]++] = b[j];
	/* Strict comparison: equal values never pass each other. */
	long budget = 8L * k + 64;
	for (int j = 0; j < k; j++) {
		int pos = (int)(a[j] & 0xffff), p = j;
		double x = sg * v[pos];
		while (p > 0 && x < v2[p - 1]) {
			v2[p] = v2[p - 1];
			out[p] = out[p - 1];
			p--;
		}
		v2[p] = x;
		out[p] = pos;
		budget -= j - p;
		if (budget < 0) {
			/* Skewed values: finish by radix on the doubles. */
			for (int t = j + 1; t < k; t++) {
				out[t] = (int)(a[t] & 0xffff);
				v2[t] = sg * v[out[t]];
			}
			if (ix)
				for (int t = 0; t < k; t++)
					out[t] = ix[out[t]];
			sort_by_radix(s, v2, out, k);
			return;
		}
	}
	if (ix)
		for (int j = 0; j < k; j++)
			out[j] = ix[out[j]];
}

/*
 * Writes to out the indices of v[0..k) (ix[j], or j when ix is NULL) ordered
 * by ascending sg * v, ties in their given order; lo and hi are the smallest
 * and largest sg * v.
 */
static void
sort_list(struct sorter *s, const double *v, const int *ix, double sg, int k, double lo, double hi,
	  int *out)
{
	double scale = PREFS_SPREAD * (double)k / (hi - lo), *v2 = s->v2;
	if (k < 2 || lo == hi || !(scale > 0 && scale < INFINITY)) {
		for (int j = 0; j < k; j++) {
			out[j] = ix ? ix[j] : j;
			v2[j] = sg * v[j];
		}
		/* All equal, or a range that overflows or underflows. */
		if (k >= 2 && lo != hi)
			sort_by_radix(s, v2, out, k);
		return;
	}
	if (k <= 65536 && 65535.0 / (hi - lo) < INFINITY) {
		sort_short(s, v, ix, sg, k, lo, hi, out);
		return;
	}
	uint32_t *bk = s->bk, *cnt = s->cnt, nb = (uint32_t)k * PREFS_SPREAD, last = nb - 1;
	memset(cnt, 0, (size_t)nb * sizeof(uint32_t));
	for (int j = 0; j < k; j++) {
		uint32_t b = (uint32_t)((sg * v[j] - lo) * scale);
		b = b < last ? b : last;
		bk[j] = b;
		cnt[b]++;
	}
	uint32_t sum = 0;
	for (uint32_t b = 0; b < nb; b++) {
		uint32_t c = cnt[b];
		cnt[b] = sum;
		sum += c;
	}
	if (ix) {
		for (int j = 0; j < k; j++) {
			uint32_t at = cnt[bk[j]]++;
			v2[at] = sg * v[j];
			out[at] = ix[j];
		}
	} else {
		for (int j = 0; j < k; j++) {
			uint32_t at = cnt[bk[j]]++;
			v2[at] = sg * v[j];
			out[at] = j;
		}
	}
	/* Strict comparison: equal values never pass each other. */
	long budget = 8L * k + 64;
	for (int j = 1; j < k; j++) {
		double x = v2[j];
		if (!(x < v2[j - 1]))
			continue;
		int id = out[j], p = j;
		do {
			v2[p] = v2[p - 1];
			out[p] = out[p - 1];
			p--;
		} while (p > 0 && x < v2[p - 1]);
		v2[p] = x;
		out[p] = id;
		budget -= j - p;
		if (budget < 0) {
			sort_by_radix(s, v2, out, k);
			return;
		}
	}
}

/*
 * Smallest and largest of v[0..n), two lanes at a time (GCC vector
 * extensions: SSE2 code on x86-64); returns nonzero if some v is NaN.
 */
typedef double stable_v2d __attribute__((vector_size(16)));
typedef int64_t stable_v2l __attribute__((vector_size(16)));

static int
bounds(const double *v, int n, double *lo, double *hi)
{
	stable_v2d a0 = {INFINITY, INFINITY}, a1 = a0, b0 = -a0, b1 = b0;
	stable_v2l nan = {0, 0};
	int x = 0;
	for (; x + 4 <= n; x += 4) {
		stable_v2d y0, y1;
		memcpy(&y0, v + x, sizeof(y0));
		memcpy(&y1, v + x + 2, sizeof(y1));
		stable_v2l l0 = y0<a0, l1 = y1<a1, g0 = y0> b0, g1 = y1> b1;
		a0 = (stable_v2d)(((stable_v2l)y0 & l0) | ((stable_v2l)a0 & ~l0));
		a1 = (stable_v2d)(((stable_v2l)y1 & l1) | ((stable_v2l)a1 & ~l1));
		b0 = (stable_v2d)(((stable_v2l)y0 & g0) | ((stable_v2l)b0 & ~g0));
		b1 = (stable_v2d)(((stable_v2l)y1 & g1) | ((stable_v2l)b1 & ~g1));
		nan |= (y0 != y0) | (y1 != y1);
	}
	double l = fmin(fmin(a0[0], a0[1]), fmin(a1[0], a1[1]));
	double h = fmax(fmax(b0[0], b0[1]), fmax(b1[0], b1[1]));
	int bad = (nan[0] | nan[1]) != 0;
	for (; x < n; x++) {
		l = v[x] < l ? v[x] : l;
		h = v[x] > h ? v[x] : h;
		bad |= v[x] != v[x];
	}
	*lo = l;
	*hi = h;
	return bad;
}

/*
 * Ranks one list: v[0..len) are its scores as doubles, forb its forbidden
 * flags or NULL. Writes the allowed indices, best first, to out and returns
 * their count, or -1 - x when v[x] (allowed) is not finite.
 */
static int
rank_list(struct sorter *s, const double *v, const uint8_t *forb, int len, int maximize, int *out)
{
	double lo = INFINITY, hi = -INFINITY, sg = maximize ? -1.0 : 1.0;
	if (forb == NULL) {
		/* Bounds of v, then of sg * v; an infinity fails the range test. */
		double a, b;
		int nan = bounds(v, len, &a, &b);
		if (len > 0 && (nan || !(-DBL_MAX <= a && b <= DBL_MAX))) {
			for (int x = 0; x < len; x++)
				if (!isfinite(v[x]))
					return -1 - x;
		}
		lo = maximize ? -b : a;
		hi = maximize ? -a : b;
		sort_list(s, v, NULL, sg, len, lo, hi, out);
		return len;
	}
	int k = 0, *ix = s->ix;
	double *w = s->v;
	for (int x = 0; x < len; x++) {
		if (forb[x])
			continue;
		double y = v[x] * sg;
		if (!isfinite(y))
			return -1 - x;
		lo = y < lo ? y : lo;
		hi = y > hi ? y : hi;
		w[k] = y;
		ix[k++] = x;
	}
	sort_list(s, w, ix, 1.0, k, lo, hi, out);
	return k;
}

/* Row r of m as doubles into dst. */
static void
load_row(const struct match_dense *m, int r, double *dst)
{
	size_t off = (size_t)r * (size_t)m->nc;
	int nc = m->nc;
	switch (m->dtype) {
	case MATCH_F64:
		memcpy(dst, (const double *)m->scores + off, (size_t)nc * sizeof(double));
		break;
	case MATCH_F32:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const float *)m->scores)[off + c];
		break;
	case MATCH_I16:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const int16_t *)m->scores)[off + c];
		break;
	case MATCH_I32:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const int32_t *)m->scores)[off + c];
		break;
	}
}

/* Columns c0 .. c0+w-1 of m, column-major (stride nr), as doubles into dst; flags into fdst. */
static void
load_cols(const struct match_dense *m, int c0, int w, double *dst, uint8_t *fdst)
{
	int nr = m->nr;
	size_t nc = (size_t)m->nc;
	for (int r = 0; r < nr; r++) {
		size_t off = (size_t)r * nc + (size_t)c0;
		switch (m->dtype) {
		case MATCH_F64:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const double *)m->scores)[off + j];
			break;
		case MATCH_F32:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const float *)m->scores)[off + j];
			break;
		case MATCH_I16:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const int16_t *)m->scores)[off + j];
			break;
		case MATCH_I32:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const int32_t *)m->scores)[off + j];
			break;
		}
		if (fdst)
			for (int j = 0; j < w; j++)
				fdst[(size_t)j * nr + r] = m->forbidden[off + j];
	}
}

int
match_prefs_from_scores(const struct match_dense *m, int by_rows, int maximize,
			struct match_prefs *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL || m->nr < 0 || m->nc < 0 || (m->nr > 0 && m->nc > 0 && m->scores == NULL))
		return diag_set(d, DIAG_INVALID, "score matrix: missing or negative shape");
	int nr = m->nr, nc = m->nc;
	int n = by_rows ? nr : nc, len = by_rows ? nc : nr;
	size_t total = (size_t)nr * (size_t)nc;
	if (total > INT32_MAX)
		return diag_set(d, DIAG_INVALID, "score matrix: %d x %d is too large for lists", nr,
				nc);
	int bw = by_rows ? 1 : PREFS_BLOCK;
	int *ptr = malloc(((size_t)n + 1) * sizeof(int));
	int *items = big_alloc((total + 1) * sizeof(int));
	double *buf = malloc(((size_t)bw * len + 1) * sizeof(double));
	uint8_t *fbuf = m->forbidden ? malloc((size_t)bw * len + 1) : NULL;
	struct sorter s;
	int sok = sorter_init(&s, len) == 0;
	if (!ptr || !items || !buf || (m->forbidden && !fbuf) || !sok) {
		free(ptr), free(items), free(buf), free(fbuf);
		if (sok)
			sorter_fini(&s);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int at = 0, rc = 0;
	for (int e0 = 0; e0 < n && rc == 0; e0 += bw) {
		int w = n - e0 < bw ? n - e0 : bw;
		const double *vals = buf;
		if (by_rows && m->dtype == MATCH_F64)
			vals = (const double *)m->scores + (size_t)e0 * nc; /* read in place */
		else if (by_rows)
			load_row(m, e0, buf);
		else
			load_cols(m, e0, w, buf, fbuf);
		for (int j = 0; j < w; j++) {
			int e = e0 + j;
			const uint8_t *forb = NULL;
			if (m->forbidden)
				forb = by_rows ? m->forbidden + (size_t)e * nc
					       : fbuf + (size_t)j * len;
			ptr[e] = at;
			int k =
			    rank_list(&s, vals + (size_t)j * len, forb, len, maximize, items + at);
			if (k < 0) {
				int x = -1 - k, r = by_rows ? e : x, c = by_rows ? x : e;
				rc = diag_set(d, DIAG_INVALID,
					      "score of row %d, column %d is not finite (%g)", r, c,
					      match_score_at(m->dtype, m->scores, (size_t)r * nc + c));
				break;
			}
			at += k;
		}
	}
	ptr[n] = at;
	free(buf);
	free(fbuf);
	sorter_fini(&s);
	if (rc != 0) {
		free(ptr);
		free(items);
		return -1;
	}
	out->n = n;
	out->ptr = ptr;
	out->items = items;
	return 0;
}

void
match_prefs_fini(struct match_prefs *p)
{
	if (p == NULL)
		return;
	free((void *)p->ptr);
	free((void *)p->items);
	memset(p, 0, sizeof(*p));
}

/* ---- Blocking pairs ------------------------------------------------------------ */

/*
 * For each column: how many rows it holds and the worst position (in its own
 * list) among them; then each row checks the columns it prefers to its partner.
 * A row matched to a column that does not list it, or to one that it does not
 * list, makes the result invalid (error), not merely unstable.
 */
int
match_blocking_pairs(const struct match_stable_input *in, const struct match_result *res,
		     struct match_pair **out, struct diag *d)
{
	*out = NULL;
	if (check_input(in, d) != 0)
		return -1;
	if (res == NULL || res->row_to_col == NULL || res->nr != in->nr || res->nc != in->nc)
		return diag_set(d, DIAG_INVALID,
				"blocking pairs: result does not match the %d x %d input", in->nr,
				in->nc);
	if (check_lists(&in->rows, in->nr, in->nc, "row", "column", d) != 0 ||
	    check_lists(&in->cols, in->nc, in->nr, "column", "row", d) != 0)
		return -1;
	int nr = in->nr, nc = in->nc, rc = -1, nout = 0, cap_out = 0;
	const struct match_prefs *R = &in->rows, *C = &in->cols;
	struct rank cr;
	int *worst = malloc(((size_t)nc + 1) * sizeof(int));
	int *count = calloc((size_t)nc + 1, sizeof(int));
	int *listed = calloc((size_t)nc + 1, sizeof(int));
	if (!worst || !count || !listed) {
		free(worst), free(count), free(listed);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	if (rank_build(C, nc, nr, "column", "row", &cr, d) != 0) {
		free(worst), free(count), free(listed);
		return -1;
	}
	for (int r = 0; r < nr; r++) {
		int c = res->row_to_col[r];
		if (c >= nc) {
			diag_set(d, DIAG_INVALID,
				 "blocking pairs: row %d has column %d, outside 0..%d", r, c,
				 nc - 1);
			goto done;
		}
		if (c >= 0)
			count[c]++;
	}
	for (int c = 0; c < nc; c++) {
		worst[c] = -1;
		int cap = in->capacity ? in->capacity[c] : 1;
		for (int k = C->ptr[c]; k < C->ptr[c + 1]; k++)
			if (res->row_to_col[C->items[k]] == c) {
				worst[c] = k - C->ptr[c];
				listed[c]++;
			}
		if (listed[c] != count[c] || count[c] > cap) {
			diag_set(d, DIAG_INVALID,
				 "blocking pairs: column %d holds %d rows (capacity %d), %d of "
				 "them acceptable",
				 c, count[c], cap, listed[c]);
			goto done;
		}
	}
	for (int r = 0; r < nr; r++) {
		int partner = res->row_to_col[r], found = partner < 0;
		for (int k = R->ptr[r]; k < R->ptr[r + 1]; k++) {
			int c = R->items[k];
			if (c == partner) {
				found = 1;
				break;
			}
			int pos = rank_get(&cr, c, r);
			int cap = in->capacity ? in->capacity[c] : 1;
			if (pos < 0 || cap == 0 || (count[c] >= cap && pos > worst[c]))
				continue;
			if (nout == cap_out) {
				cap_out = cap_out ? 2 * cap_out : 16;
				struct match_pair *p = realloc(*out, (size_t)cap_out * sizeof(*p));
				if (p == NULL) {
					diag_set(d, DIAG_NOMEM, "out of memory");
					goto done;
				}
				*out = p;
			}
			(*out)[nout++] = (struct match_pair){r, c};
		}
		if (!found) {
			diag_set(d, DIAG_INVALID,
				 "blocking pairs: row %d is matched to column %d, which it does "
				 "not list",
				 r, partner);
			goto done;
		}
	}
	rc = nout;
done:
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	rank_fini(&cr);
	free(worst), free(count), free(listed);
	return rc;
}

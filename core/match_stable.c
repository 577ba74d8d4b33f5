/*
 * match_stable: deferred acceptance (Gale-Shapley, hospitals/residents with
 * column capacities), preference lists from score matrices, and the
 * blocking-pair check. See match.h for the contract. Callers: policies (via
 * the plugin host), `tandem solve --stable`, the benchmark driver.
 *
 * Cost: O(total list length) after building a rank table for the side that
 * receives proposals. The rank table is a flat nr x nc array of int32 when that
 * is at most RANK_FLAT_MAX entries (one lookup, no hashing), else one open-
 * addressing hash over the listed (entity, item) pairs.
 *
 * A column keeps its accepted rows as flags over the positions of its own
 * list, plus a pointer to the worst accepted position; once the column is full
 * that pointer only moves up the list, so rejecting the worst is amortized O(1).
 */
#include "match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { RANK_FLAT_MAX = 1 << 24 };

/* rank(e, x): position of item x in entity e's list, or -1 when not listed. */
struct rank {
	int n, m;
	int32_t *flat; /* n * m, position + 1, 0 = not listed */
	uint64_t *keys; /* hash: key = e * m + x + 1, 0 = empty */
	int32_t *vals;
	size_t mask;
};

/*
 * Zeroed memory for the flat rank table. Large tables ask for transparent huge
 * pages: on virtual machines a 4 KiB page fault costs tens of microseconds, and
 * a 2000 x 2000 table would otherwise spend most of its time faulting.
 */
static void *
table_calloc(size_t size)
{
	size_t huge = (size_t)2 << 20;
	if (size < 2 * huge)
		return calloc(size, 1);
	void *p = NULL;
	size_t rounded = (size + huge - 1) / huge * huge;
	if (posix_memalign(&p, huge, rounded) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE);
#endif
	memset(p, 0, size);
	return p;
}

static void
rank_fini(struct rank *r)
{
	free(r->flat);
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
	if (r->flat)
		return r->flat[(size_t)e * r->m + x] - 1;
	uint64_t k = (uint64_t)e * (uint64_t)r->m + (uint64_t)x + 1;
	for (size_t i = rank_hash(k) & r->mask;; i = (i + 1) & r->mask) {
		if (r->keys[i] == k)
			return r->vals[i];
		if (r->keys[i] == 0)
			return -1;
	}
}

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
			return diag_set(d, DIAG_INVALID, "%s preferences: list %d has negative length",
					what, e);
	size_t total = n > 0 ? (size_t)p->ptr[n] : 0;
	if ((size_t)n * (size_t)m <= RANK_FLAT_MAX) {
		r->flat = table_calloc(((size_t)n * (size_t)m + 1) * sizeof(int32_t));
		if (r->flat == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
	} else {
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
	}
	for (int e = 0; e < n; e++)
		for (int k = p->ptr[e]; k < p->ptr[e + 1]; k++) {
			int x = p->items[k];
			int pos = k - p->ptr[e];
			if (x < 0 || x >= m) {
				rank_fini(r);
				return diag_set(d, DIAG_INVALID, "%s %d lists %s %d, outside 0..%d", what,
						e, item, x, m - 1);
			}
			if (r->flat) {
				int32_t *slot = &r->flat[(size_t)e * m + x];
				if (*slot != 0)
					goto dup;
				*slot = pos + 1;
				continue;
			}
			uint64_t key = (uint64_t)e * (uint64_t)m + (uint64_t)x + 1;
			size_t i = rank_hash(key) & r->mask;
			while (r->keys[i] != 0 && r->keys[i] != key)
				i = (i + 1) & r->mask;
			if (r->keys[i] == key)
				goto dup;
			r->keys[i] = key;
			r->vals[i] = pos;
			continue;
		dup:
			rank_fini(r);
			return diag_set(d, DIAG_INVALID, "%s %d lists %s %d twice", what, e, item, x);
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
			return diag_set(d, DIAG_INVALID, "%s preferences: list %d has negative length",
					what, e);
		}
		for (int k = p->ptr[e]; k < p->ptr[e + 1]; k++) {
			int x = p->items[k];
			if (x < 0 || x >= m || stamp[x] == e) {
				free(stamp);
				if (x < 0 || x >= m)
					return diag_set(d, DIAG_INVALID, "%s %d lists %s %d, outside 0..%d",
							what, e, item, x, m - 1);
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
			return diag_set(d, DIAG_INVALID, "capacity of column %d is negative (%d)", c,
					in->capacity[c]);
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

/* Rows propose; columns hold up to capacity, by flags over their list positions. */
static int
rows_propose(const struct match_stable_input *in, const struct rank *colrank, int *row_to_col,
	     struct diag *d)
{
	int nr = in->nr, nc = in->nc;
	const struct match_prefs *R = &in->rows, *C = &in->cols;
	size_t ctotal = nc > 0 ? (size_t)C->ptr[nc] : 0;
	uint8_t *held = calloc(ctotal + 1, 1);
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
			uint8_t *h = held + C->ptr[c];
			if (count[c] < cap) {
				h[pos] = 1;
				count[c]++;
				if (pos > worst[c])
					worst[c] = pos;
				row_to_col[r] = c;
				break;
			}
			if (pos > worst[c])
				continue;
			/* Full and r beats the worst holder: swap them. */
			int out = C->items[C->ptr[c] + worst[c]];
			h[worst[c]] = 0;
			h[pos] = 1;
			while (worst[c] >= 0 && !h[worst[c]])
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
				/* The jilted column has a slot again; it resumes where it stopped. */
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

static inline double
score_at(const struct match_dense *m, size_t k)
{
	switch (m->dtype) {
	case MATCH_F64: return ((const double *)m->scores)[k];
	case MATCH_F32: return ((const float *)m->scores)[k];
	case MATCH_I16: return ((const int16_t *)m->scores)[k];
	case MATCH_I32: return ((const int32_t *)m->scores)[k];
	}
	return 0;
}

/*
 * Stable LSD radix sort of idx[0..n) by key[0..n), 8 bits per pass; passes
 * whose byte is the same for every key are skipped (integer scores need two
 * or three). Equal keys keep their order, so ties stay with the lower index.
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

int
match_prefs_from_scores(const struct match_dense *m, int by_rows, int maximize,
			struct match_prefs *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL || m->nr < 0 || m->nc < 0 || (m->nr > 0 && m->nc > 0 && m->scores == NULL))
		return diag_set(d, DIAG_INVALID, "score matrix: missing or negative shape");
	int n = by_rows ? m->nr : m->nc, len = by_rows ? m->nc : m->nr;
	size_t total = (size_t)m->nr * (size_t)m->nc;
	if (total > INT32_MAX)
		return diag_set(d, DIAG_INVALID, "score matrix: %d x %d is too large for lists",
				m->nr, m->nc);
	int *ptr = malloc(((size_t)n + 1) * sizeof(int));
	int *items = malloc((total + 1) * sizeof(int));
	uint64_t *key = malloc(((size_t)len + 1) * 2 * sizeof(uint64_t));
	int *idx = malloc(((size_t)len + 1) * 2 * sizeof(int));
	if (!ptr || !items || !key || !idx) {
		free(ptr), free(items), free(key), free(idx);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int at = 0;
	for (int e = 0; e < n; e++) {
		ptr[e] = at;
		int k = 0;
		for (int x = 0; x < len; x++) {
			int r = by_rows ? e : x, c = by_rows ? x : e;
			size_t off = (size_t)r * (size_t)m->nc + (size_t)c;
			if (m->forbidden && m->forbidden[off])
				continue;
			double v = score_at(m, off);
			if (!isfinite(v)) {
				free(ptr), free(items), free(key), free(idx);
				return diag_set(d, DIAG_INVALID,
						"score of row %d, column %d is not finite (%g)", r, c, v);
			}
			uint64_t kk = sort_key(v);
			key[k] = maximize ? ~kk : kk;
			idx[k++] = x;
		}
		if (k > 1)
			radix_sort(key, idx, key + len + 1, idx + len + 1, k);
		memcpy(items + at, idx, (size_t)k * sizeof(int));
		at += k;
	}
	ptr[n] = at;
	free(key);
	free(idx);
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
		return diag_set(d, DIAG_INVALID, "blocking pairs: result does not match the %d x %d input",
				in->nr, in->nc);
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
			diag_set(d, DIAG_INVALID, "blocking pairs: row %d has column %d, outside 0..%d",
				 r, c, nc - 1);
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
				 "blocking pairs: column %d holds %d rows (capacity %d), %d of them acceptable",
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
				 "blocking pairs: row %d is matched to column %d, which it does not list",
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

/*
 * stable: deferred acceptance (Gale-Shapley, hospitals/residents with column
 * capacities) and the blocking-pair check. See match.h for the contract.
 * Callers: policies (via the plugin host), `tandem solve --stable`, the
 * benchmark driver. Preference lists from score matrices are in prefs.c.
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
#include "match/match_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/vec.h"

enum { RANK_FLAT_MAX = 1 << 24 };

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

static inline int
rank_get(const struct rank *r, int e, int x)
{
	if (r->r16)
		return (int)r->r16[(size_t)e * r->m + x] - 1;
	if (r->r32)
		return r->r32[(size_t)e * r->m + x] - 1;
	uint64_t k = (uint64_t)e * (uint64_t)r->m + (uint64_t)x + 1;
	for (size_t i = (size_t)hash_mix64(k) & r->mask;; i = (i + 1) & r->mask) {
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
			r->r16 = match__big_alloc((cells + 1) * sizeof(uint16_t));
		else
			r->r32 = match__big_alloc((cells + 1) * sizeof(int32_t));
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
			size_t i = (size_t)hash_mix64(key) & r->mask;
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

/* ---- Blocking pairs ------------------------------------------------------------ */

/*
 * For each column: how many rows it holds and the worst position (in its own
 * list) among them; then each row checks the columns it prefers to its partner.
 * A row matched to a column that does not list it, or to one that it does not
 * list, makes the result invalid (error), not merely unstable.
 */

/* Step 1: count[c] rows held, worst[c] their worst position in c's list (-1: none). */
static int
column_loads(const struct match_stable_input *in, const struct match_result *res, int *count,
	     int *worst, struct diag *d)
{
	const struct match_prefs *C = &in->cols;
	for (int r = 0; r < in->nr; r++) {
		int c = res->row_to_col[r];
		if (c >= in->nc)
			return diag_set(d, DIAG_INVALID,
					"blocking pairs: row %d has column %d, outside 0..%d", r, c,
					in->nc - 1);
		if (c >= 0)
			count[c]++;
	}
	for (int c = 0; c < in->nc; c++) {
		int listed = 0;
		worst[c] = -1;
		int cap = in->capacity ? in->capacity[c] : 1;
		for (int k = C->ptr[c]; k < C->ptr[c + 1]; k++)
			if (res->row_to_col[C->items[k]] == c) {
				worst[c] = k - C->ptr[c];
				listed++;
			}
		if (listed != count[c] || count[c] > cap)
			return diag_set(d, DIAG_INVALID,
					"blocking pairs: column %d holds %d rows (capacity %d), %d of "
					"them acceptable",
					c, count[c], cap, listed);
	}
	return 0;
}

/* A growing list of pairs. */
struct pairs {
	struct match_pair *p;
	int n;
	size_t cap;
};

static int
pairs_push(struct pairs *l, int r, int c, struct diag *d)
{
	if (vec_grow(&l->p, &l->cap, (size_t)l->n + 1, sizeof(*l->p), d) != 0)
		return -1;
	l->p[l->n++] = (struct match_pair){r, c};
	return 0;
}

/* Step 2: row r's blocking pairs: the columns it prefers to its partner that would take it. */
static int
row_blocking(const struct match_stable_input *in, const struct match_result *res,
	     const struct rank *cr, const int *count, const int *worst, int r, struct pairs *out,
	     struct diag *d)
{
	const struct match_prefs *R = &in->rows;
	int partner = res->row_to_col[r];
	for (int k = R->ptr[r]; k < R->ptr[r + 1]; k++) {
		int c = R->items[k];
		if (c == partner)
			return 0;
		int pos = rank_get(cr, c, r);
		int cap = in->capacity ? in->capacity[c] : 1;
		if (pos < 0 || cap == 0 || (count[c] >= cap && pos > worst[c]))
			continue;
		if (pairs_push(out, r, c, d) != 0)
			return -1;
	}
	if (partner < 0)
		return 0;
	return diag_set(d, DIAG_INVALID,
			"blocking pairs: row %d is matched to column %d, which it does not list", r,
			partner);
}

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
	int nc = in->nc, rc = -1;
	struct rank cr;
	struct pairs found = {NULL, 0, 0};
	int *worst = malloc(((size_t)nc + 1) * sizeof(int));
	int *count = calloc((size_t)nc + 1, sizeof(int));
	if (!worst || !count) {
		free(worst), free(count);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	if (rank_build(&in->cols, nc, in->nr, "column", "row", &cr, d) != 0) {
		free(worst), free(count);
		return -1;
	}
	if (column_loads(in, res, count, worst, d) != 0)
		goto done;
	for (int r = 0; r < in->nr; r++)
		if (row_blocking(in, res, &cr, count, worst, r, &found, d) != 0)
			goto done;
	rc = found.n;
	*out = found.p;
done:
	if (rc < 0)
		free(found.p);
	rank_fini(&cr);
	free(worst), free(count);
	return rc;
}

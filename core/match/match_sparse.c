/*
 * match_sparse: optimal assignment over sparse candidate lists (CSR), and its
 * certificate. See match.h for the shared semantics; callers are the policies
 * (through the plugin host), `tandem solve --sparse` and the benchmark driver.
 *
 * Method. Rows "propose", columns are "items" with a capacity and one shared
 * price v[j]. Shortest augmenting paths (successive shortest paths with
 * potentials), Dijkstra with an indexed binary heap over only the listed
 * candidates:
 *
 *  1. Initialisation in the spirit of Jonker-Volgenant's augmenting row
 *     reduction: each free row takes its cheapest column (reduced by price);
 *     when that makes a unit-capacity column full, the column's price drops by
 *     the gap to the row's second-best choice, and a row holding a unit column
 *     that a newcomer strictly prefers is displaced and retried. Prices only ever
 *     go down, and only on columns that are full, so columns with free slots keep
 *     the common price 0 (that is what makes the result optimal when columns are
 *     left free, see the certificate below).
 *  2. For each still-free row, Dijkstra from that row over reduced costs
 *     c - u - v >= 0. A column with a free slot ends the search; a full column
 *     leads on to all the rows it holds. Prices of the settled columns are then
 *     raised by d - D (i.e. lowered), and the path is flipped.
 *  3. A search that runs out of columns proves the row cannot be matched now or
 *     later: every column it reached is full and held by rows that only reach
 *     full columns. That whole tree is frozen (later searches skip it) and the
 *     row is set aside. Frozen columns and the rows that touch them form the
 *     "deficient" part Z (Dulmage-Mendelsohn): in every maximum matching the
 *     columns of Z are full with rows of Z, and some rows of Z stay unmatched.
 *  4. Which rows of Z stay unmatched is an optimisation of its own: all Z
 *     columns must be filled, rows are optional. We solve it with the same
 *     engine transposed (one proposer per free slot of each Z column, rows as
 *     unit items), on a transposed copy of the Z candidates only (12 bytes per Z
 *     candidate; only built when some row cannot be matched).
 *
 * Costs are c = score (minimize) or -score (maximize), read in place.
 * Memory: O(nr + nc) beyond the caller's arrays in the perfect case.
 */
#include "match/match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- The engine: proposers with demand 1, items with capacities ---------- */

enum { Q_UNSEEN = 0, Q_HEAP = 1, Q_DONE = 2 };

/* Everything a relaxation touches about an item, in one 32-byte record. */
struct item {
	double dist;	/* Dijkstra label */
	int cap, cnt;	/* capacity and load */
	int hpos;	/* heap position */
	uint8_t state;	/* Q_* */
	uint8_t frozen; /* proven to be in the deficient part */
};

struct hent {
	double d;
	int q;
};

struct ssp {
	int np, nq;
	const int64_t *beg, *end; /* proposer p's arcs are [beg[p], end[p]) */
	const int32_t *adj;	  /* arc -> item */
	const double *w;	  /* arc -> score */
	double sign;		  /* cost = sign * score */
	const uint8_t *vetoed;	  /* optional bitset over arcs */
	const int *qcap;	  /* item capacities; NULL = 1 */
	int colred;		  /* start prices at each item's cheapest arc */

	struct item *it;
	/*
	 * Prices, apart from the records: the reduction scans them for every arc
	 * and 8 bytes an item stay in cache where 32 would not. Items without
	 * capacity hold -inf during the solve, so no arc to them is ever cheapest.
	 */
	double *price;
	int *pm;     /* proposer -> item or -1 */
	int64_t *pe; /* proposer -> arc of its match */
	int *qhead;  /* first holder of an item, -1 */
	int *pnext, *pprev;

	/* Dijkstra scratch. */
	int *pred;
	int64_t *pred_e;
	struct hent *heap;
	int nheap;
	int *touched, ntouched;
	int *settled, nsettled;
};

static inline double
ssp_cost(const struct ssp *s, int64_t e)
{
	return s->sign * s->w[e];
}

static inline int
ssp_arc_ok(const struct ssp *s, int64_t e)
{
	return s->vetoed == NULL || !(s->vetoed[e >> 3] & (1u << (e & 7)));
}

static void
ssp_free(struct ssp *s)
{
	free(s->it);
	free(s->price);
	free(s->pm);
	free(s->pe);
	free(s->qhead);
	free(s->pnext);
	free(s->pprev);
	free(s->pred);
	free(s->pred_e);
	free(s->heap);
	free(s->touched);
	free(s->settled);
}

static int
ssp_alloc(struct ssp *s)
{
	size_t np = (size_t)s->np + 1, nq = (size_t)s->nq + 1;
	s->it = calloc(nq, sizeof(struct item));
	s->price = malloc(nq * sizeof(double));
	s->pm = malloc(np * sizeof(int));
	s->pe = malloc(np * sizeof(int64_t));
	s->qhead = malloc(nq * sizeof(int));
	s->pnext = malloc(np * sizeof(int));
	s->pprev = malloc(np * sizeof(int));
	s->pred = malloc(nq * sizeof(int));
	s->pred_e = malloc(nq * sizeof(int64_t));
	s->heap = malloc(nq * sizeof(struct hent));
	s->touched = malloc(nq * sizeof(int));
	s->settled = malloc(nq * sizeof(int));
	if (!s->it || !s->price || !s->pm || !s->pe || !s->qhead || !s->pnext || !s->pprev ||
	    !s->pred || !s->pred_e || !s->heap || !s->touched || !s->settled)
		return -1;
	for (int p = 0; p < s->np; p++)
		s->pm[p] = -1;
	for (int q = 0; q < s->nq; q++) {
		s->qhead[q] = -1;
		s->it[q].cap = s->qcap ? s->qcap[q] : 1;
		s->price[q] = s->it[q].cap > 0 ? 0 : -INFINITY;
	}
	return 0;
}

static void
ssp_hold(struct ssp *s, int p, int q, int64_t e)
{
	s->pm[p] = q;
	s->pe[p] = e;
	s->it[q].cnt++;
	s->pprev[p] = -1;
	s->pnext[p] = s->qhead[q];
	if (s->qhead[q] >= 0)
		s->pprev[s->qhead[q]] = p;
	s->qhead[q] = p;
}

static void
ssp_release(struct ssp *s, int p)
{
	int q = s->pm[p];
	if (q < 0)
		return;
	if (s->pprev[p] >= 0)
		s->pnext[s->pprev[p]] = s->pnext[p];
	else
		s->qhead[q] = s->pnext[p];
	if (s->pnext[p] >= 0)
		s->pprev[s->pnext[p]] = s->pprev[p];
	s->it[q].cnt--;
	s->pm[p] = -1;
}

/* Potential of a matched proposer: its matched arc is tight. */
static inline double
ssp_u(const struct ssp *s, int p)
{
	return ssp_cost(s, s->pe[p]) - s->price[s->pm[p]];
}

/* ---- Indexed binary heap, keys stored inline ------------------------------ */

static void
heap_up(struct ssp *s, int i, int q, double d)
{
	while (i > 0) {
		int parent = (i - 1) >> 1;
		if (s->heap[parent].d <= d)
			break;
		s->heap[i] = s->heap[parent];
		s->it[s->heap[i].q].hpos = i;
		i = parent;
	}
	s->heap[i].d = d;
	s->heap[i].q = q;
	s->it[q].hpos = i;
}

static int
heap_pop(struct ssp *s)
{
	int top = s->heap[0].q;
	struct hent last = s->heap[--s->nheap];
	int n = s->nheap, i = 0;
	if (n > 0) {
		for (;;) {
			int c = 2 * i + 1;
			if (c >= n)
				break;
			if (c + 1 < n && s->heap[c + 1].d < s->heap[c].d)
				c++;
			if (s->heap[c].d >= last.d)
				break;
			s->heap[i] = s->heap[c];
			s->it[s->heap[i].q].hpos = i;
			i = c;
		}
		s->heap[i] = last;
		s->it[last.q].hpos = i;
	}
	return top;
}

static inline void
relax(struct ssp *s, int q, double nd, int p, int64_t e)
{
	struct item *x = &s->it[q];
	int pos;
	if (x->state == Q_UNSEEN) {
		x->state = Q_HEAP;
		s->touched[s->ntouched++] = q;
		pos = s->nheap++;
	} else if (nd < x->dist) {
		pos = x->hpos;
	} else {
		return;
	}
	x->dist = nd;
	s->pred[q] = p;
	s->pred_e[q] = e;
	heap_up(s, pos, q, nd);
}

/*
 * Relaxes every usable arc of proposer p, reached at distance dp with potential
 * up. Returns an item with a free slot reached at distance dp exactly (a
 * zero-length extension: nothing can beat it), or -1.
 */
static int
scan(struct ssp *s, int p, double dp, double up)
{
	int own = s->pm[p], hit = -1;
	for (int64_t e = s->beg[p]; e < s->end[p]; e++) {
		int q = s->adj[e];
		struct item *x = &s->it[q];
		if (q == own || x->state == Q_DONE || x->frozen || x->cap == 0 || !ssp_arc_ok(s, e))
			continue;
		double r = ssp_cost(s, e) - up - s->price[q];
		if (r < 0 && own >= 0)
			r = 0; /* rounding: reduced costs of matched proposers are >= 0 */
		relax(s, q, dp + r, p, e);
		if (r == 0 && own >= 0 && x->cnt < x->cap && hit < 0 && x->dist == dp)
			hit = q;
	}
	return hit;
}

/* Ends a search at item t: lowers the settled prices and flips the path. */
static void
ssp_flip(struct ssp *s, int p0, int t, double D)
{
	for (int i = 0; i < s->nsettled; i++) {
		int q = s->settled[i];
		s->price[q] += s->it[q].dist - D;
	}
	for (int q = t;;) {
		int p = s->pred[q];
		int64_t e = s->pred_e[q];
		int old = s->pm[p];
		ssp_release(s, p);
		ssp_hold(s, p, q, e);
		if (p == p0)
			break;
		q = old;
	}
}

/* One shortest augmenting path from free proposer p0. Returns 1 if matched, 0 if not. */
static int
ssp_augment(struct ssp *s, int p0)
{
	s->ntouched = s->nsettled = s->nheap = 0;
	scan(s, p0, 0, 0);
	int t = -1;
	double D = 0;
	while (s->nheap > 0 && t < 0) {
		int q = heap_pop(s);
		struct item *x = &s->it[q];
		x->state = Q_DONE;
		if (x->cnt < x->cap) {
			t = q;
			D = x->dist;
			break;
		}
		s->settled[s->nsettled++] = q;
		for (int h = s->qhead[q]; h >= 0 && t < 0; h = s->pnext[h]) {
			int hit = scan(s, h, x->dist, ssp_u(s, h));
			if (hit >= 0) {
				t = hit;
				D = x->dist;
			}
		}
	}
	if (t < 0) {
		/* Everything reached is full and leads nowhere: freeze it. */
		for (int i = 0; i < s->nsettled; i++)
			s->it[s->settled[i]].frozen = 1;
	} else {
		ssp_flip(s, p0, t, D);
	}
	for (int i = 0; i < s->ntouched; i++)
		s->it[s->touched[i]].state = Q_UNSEEN;
	return t >= 0;
}

/*
 * The reduction runs in epochs of one step per proposer (a step scans one
 * list), at most SSP_REDUCE_EPOCHS of them; it stops early when no more
 * proposers can be matched (free = proposers - slots) or when SSP_REDUCE_STALL
 * epochs in a row matched no one more. Measured on 50k x 50k with 51 random
 * candidates per row: a fixed 4 steps per row left ~1,600 rows free, whose
 * long Dijkstra searches cost 4.7 s; 16 epochs leave 335 free (3.2 s), 64
 * leave 58 (1.8 s), 128 leave ~25 (2.0 s), 256 leave 2 but the reduction
 * itself then costs 3 s. A single epoch without progress is common in the
 * tail, hence the window: stopping on it doubled the time of that case.
 */
enum { SSP_REDUCE_EPOCHS = 128, SSP_REDUCE_STALL = 8 };

/*
 * Augmenting row reduction (see the file comment) over the queue, a
 * displaced proposer retried at once, until *budget steps are spent.
 */
static void
reduce_pass(struct ssp *s, const int *queue, int nqueue, long *budget)
{
	for (int k = 0; k < nqueue; k++) {
		if (*budget <= 0)
			return;
		int p = queue[k];
		while (p >= 0 && (*budget)-- > 0) {
			double m1 = INFINITY, m2 = INFINITY;
			int q1 = -1, q2 = -1;
			int64_t e1 = -1, e2 = -1;
			for (int64_t e = s->beg[p]; e < s->end[p]; e++) {
				int q = s->adj[e];
				if (!ssp_arc_ok(s, e))
					continue;
				double r = ssp_cost(s, e) - s->price[q]; /* +inf without capacity */
				if (r < m1) {
					m2 = m1, q2 = q1, e2 = e1;
					m1 = r, q1 = q, e1 = e;
				} else if (r < m2) {
					m2 = r, q2 = q, e2 = e;
				}
			}
			int next = -1;
			if (q1 < 0 || !(m1 < INFINITY))
				break;
			if (!(m2 < INFINITY))
				q2 = -1;
			struct item *x1 = &s->it[q1];
			if (x1->cnt < x1->cap) {
				ssp_hold(s, p, q1, e1);
				if (x1->cap == 1 && q2 >= 0)
					s->price[q1] -= m2 - m1;
			} else if (x1->cap == 1 && q2 >= 0 && m1 < m2) {
				next = s->qhead[q1];
				ssp_release(s, next);
				ssp_hold(s, p, q1, e1);
				s->price[q1] -= m2 - m1;
			} else if (q2 >= 0 && m1 == m2 && s->it[q2].cnt < s->it[q2].cap) {
				ssp_hold(s, p, q2, e2);
			}
			p = next;
		}
	}
}

/*
 * Column reduction (Jonker-Volgenant): each item's price starts at its
 * cheapest arc. Only used when every item is expected to end up full; the
 * caller checks that afterwards, since a free item's price must stay at the
 * common level for the result to be optimal.
 */
static void
column_reduction(struct ssp *s)
{
	double *v = s->price;
	for (int q = 0; q < s->nq; q++)
		v[q] = INFINITY;
	for (int p = 0; p < s->np; p++)
		for (int64_t e = s->beg[p]; e < s->end[p]; e++) {
			int q = s->adj[e];
			double c = ssp_cost(s, e);
			if (c < v[q] && ssp_arc_ok(s, e))
				v[q] = c;
		}
	for (int q = 0; q < s->nq; q++)
		if (s->it[q].cap == 0)
			v[q] = -INFINITY;
		else if (isinf(v[q]))
			v[q] = 0;
}

/* Initial prices and reduction, then Dijkstra for every proposer still free. */
static int
ssp_solve(struct ssp *s, const int *order, int norder)
{
	int *queue = malloc(((size_t)norder + 1) * sizeof(int));
	if (queue == NULL)
		return -1;
	if (s->colred)
		column_reduction(s);
	int nqueue = 0;
	for (int k = 0; k < norder; k++)
		queue[nqueue++] = order[k];
	long slots = 0;
	for (int q = 0; q < s->nq; q++)
		slots += s->it[q].cap;
	long must_free = norder > slots ? norder - slots : 0; /* bound on the matchable */
	int best = nqueue, stalled = 0;
	for (int epoch = 0; epoch < SSP_REDUCE_EPOCHS && nqueue > must_free; epoch++) {
		long budget = norder;
		reduce_pass(s, queue, nqueue, &budget);
		/* Rebuild from all proposers: a chain may end on a displaced one. */
		nqueue = 0;
		for (int k = 0; k < norder; k++)
			if (s->pm[order[k]] < 0)
				queue[nqueue++] = order[k];
		stalled = nqueue < best ? 0 : stalled + 1;
		best = nqueue < best ? nqueue : best;
		if (stalled >= SSP_REDUCE_STALL)
			break;
	}
	/* A proposer matched in an early pass may have been displaced later. */
	for (int k = 0; k < norder; k++)
		if (s->pm[order[k]] < 0)
			ssp_augment(s, order[k]);
	free(queue);
	return 0;
}

/* ---- Input checks ---------------------------------------------------------- */

static int
find_arc(const struct match_sparse *m, int r, int c, int64_t *out)
{
	for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++)
		if (m->cols[e] == c) {
			*out = e;
			return 0;
		}
	return -1;
}

/* Structure, duplicates, vetoes (into a bitset), finiteness of allowed scores. */
static int
check_sparse(const struct match_sparse *m, const struct match_opts *o, uint8_t **vetoed,
	     struct diag *d)
{
	*vetoed = NULL;
	if (m == NULL || m->nr < 0 || m->nc < 0 || m->row_ptr == NULL)
		return diag_set(d, DIAG_INVALID, "sparse matrix: missing or negative shape");
	if (m->row_ptr[0] < 0)
		return diag_set(d, DIAG_INVALID, "sparse matrix: row_ptr[0] is negative");
	for (int r = 0; r < m->nr; r++)
		if (m->row_ptr[r + 1] < m->row_ptr[r])
			return diag_set(d, DIAG_INVALID,
					"sparse matrix: row_ptr decreases at row %d", r);
	int64_t ne = m->row_ptr[m->nr];
	if (ne > 0 && (m->cols == NULL || m->scores == NULL))
		return diag_set(d, DIAG_INVALID, "sparse matrix: missing cols or scores");
	int *seen = malloc(((size_t)m->nc + 1) * sizeof(int));
	if (seen == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int c = 0; c < m->nc; c++)
		seen[c] = -1;
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (c < 0 || c >= m->nc) {
				free(seen);
				return diag_set(
				    d, DIAG_INVALID,
				    "sparse matrix: row %d lists column %d, outside 0..%d", r, c,
				    m->nc - 1);
			}
			if (seen[c] == r) {
				free(seen);
				return diag_set(d, DIAG_INVALID,
						"sparse matrix: row %d lists column %d twice", r,
						c);
			}
			seen[c] = r;
		}
	free(seen);
	if (o != NULL && o->nvetoed > 0) {
		*vetoed = calloc((size_t)(ne / 8 + 1), 1);
		if (*vetoed == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		for (int k = 0; k < o->nvetoed; k++) {
			struct match_pair v = o->vetoed[k];
			int64_t e;
			if (v.row < 0 || v.row >= m->nr || v.col < 0 || v.col >= m->nc)
				return diag_set(
				    d, DIAG_INVALID,
				    "vetoed pair (%d, %d) is outside the %d x %d matrix", v.row,
				    v.col, m->nr, m->nc);
			if (find_arc(m, v.row, v.col, &e) == 0)
				(*vetoed)[e >> 3] |= (uint8_t)(1u << (e & 7));
		}
	}
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++)
			if (!isfinite(m->scores[e]) &&
			    (*vetoed == NULL || !((*vetoed)[e >> 3] & (1u << (e & 7)))))
				return diag_set(d, DIAG_INVALID,
						"score of row %d, column %d is not finite (%g)", r,
						m->cols[e], m->scores[e]);
	return 0;
}

/*
 * Pinned pairs: checks them and fills pin_arc (arc per row, -1 = not pinned) and
 * the remaining capacity per column. Errors name the pair.
 */
static int
apply_pins(const struct match_sparse *m, const struct match_opts *o, const uint8_t *vetoed,
	   int64_t *pin_arc, int *cap, struct diag *d)
{
	for (int r = 0; r < m->nr; r++)
		pin_arc[r] = -1;
	for (int c = 0; c < m->nc; c++) {
		cap[c] = (o && o->capacity) ? o->capacity[c] : 1;
		if (cap[c] < 0)
			return diag_set(d, DIAG_INVALID, "capacity of column %d is negative (%d)",
					c, cap[c]);
	}
	for (int k = 0; o != NULL && k < o->npinned; k++) {
		struct match_pair p = o->pinned[k];
		int64_t e;
		if (p.row < 0 || p.row >= m->nr || p.col < 0 || p.col >= m->nc)
			return diag_set(d, DIAG_INVALID,
					"pinned pair (%d, %d) is outside the %d x %d matrix", p.row,
					p.col, m->nr, m->nc);
		if (find_arc(m, p.row, p.col, &e) != 0 ||
		    (vetoed && (vetoed[e >> 3] & (1u << (e & 7)))))
			return diag_set(
			    d, DIAG_INVALID,
			    "pinned pair (%d, %d) is forbidden (not a candidate or vetoed)", p.row,
			    p.col);
		if (pin_arc[p.row] >= 0)
			return diag_set(d, DIAG_INVALID, "row %d is pinned twice", p.row);
		if (cap[p.col] == 0)
			return diag_set(d, DIAG_INVALID,
					"column %d is over-filled by pinned pairs (capacity %d)",
					p.col, (o && o->capacity) ? o->capacity[p.col] : 1);
		pin_arc[p.row] = e;
		cap[p.col]--;
	}
	return 0;
}

/* ---- The deficient part, solved transposed --------------------------------- */

/*
 * Rows of Z: failed rows and rows holding frozen columns. Builds the transposed
 * candidates of Z (column slots propose to rows), solves, and writes the
 * assignment of Z rows and the duals of Z rows and columns.
 */
static int
solve_deficient(const struct match_sparse *m, struct ssp *s1, const int *cap, double sign,
		const uint8_t *vetoed, const int64_t *pin_arc, int *row_to_col, int64_t *row_arc,
		double *u, double *v, struct diag *d)
{
	int nr = m->nr, nc = m->nc, rc = -1;
	int *zr = malloc(((size_t)nr + 1) * sizeof(int)); /* row -> local Z row or -1 */
	int *zc = malloc(((size_t)nc + 1) * sizeof(int)); /* col -> local Z col or -1 */
	int *rows = NULL, *colsz = NULL;
	int64_t *tptr = NULL, *sbeg = NULL, *send = NULL;
	int32_t *tadj = NULL;
	double *tw = NULL;
	int *order = NULL;
	struct ssp s2 = {0};
	if (!zr || !zc)
		goto nomem;
	int nzr = 0, nzc = 0;
	for (int c = 0; c < nc; c++)
		zc[c] = s1->it[c].frozen ? nzc++ : -1;
	colsz = malloc(((size_t)nzc + 1) * sizeof(int));
	rows = malloc(((size_t)nr + 1) * sizeof(int));
	if (!colsz || !rows)
		goto nomem;
	for (int k = 0; k < nzc; k++)
		colsz[k] = 0;
	for (int r = 0; r < nr; r++) {
		int in = pin_arc[r] < 0 && (s1->pm[r] < 0 || s1->it[s1->pm[r]].frozen);
		zr[r] = in ? nzr : -1;
		if (in)
			rows[nzr++] = r;
	}
	/* Count, then fill, the Z candidates by column. */
	tptr = calloc((size_t)nzc + 2, sizeof(int64_t));
	if (!tptr)
		goto nomem;
	for (int k = 0; k < nzr; k++) {
		int r = rows[k];
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (cap[c] == 0 || (vetoed && (vetoed[e >> 3] & (1u << (e & 7)))))
				continue;
			if (zc[c] < 0) {
				diag_set(d, DIAG_INTERNAL,
					 "sparse solver: row %d of the deficient part reaches "
					 "column %d outside it",
					 r, c);
				goto out;
			}
			tptr[zc[c] + 2]++;
		}
	}
	for (int k = 0; k < nzc; k++)
		tptr[k + 2] += tptr[k + 1];
	int64_t nze = tptr[nzc + 1];
	tadj = malloc(((size_t)nze + 1) * sizeof(int32_t));
	tw = malloc(((size_t)nze + 1) * sizeof(double));
	if (!tadj || !tw)
		goto nomem;
	for (int k = 0; k < nzr; k++) {
		int r = rows[k];
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (cap[c] == 0 || (vetoed && (vetoed[e >> 3] & (1u << (e & 7)))))
				continue;
			int64_t at = tptr[zc[c] + 1]++;
			tadj[at] = k;
			tw[at] = m->scores[e];
		}
	}
	/* Now tptr[k] .. tptr[k+1] are column k's candidates. One proposer per slot. */
	int nslots = 0;
	for (int c = 0; c < nc; c++)
		if (zc[c] >= 0)
			nslots += cap[c];
	sbeg = malloc(((size_t)nslots + 1) * sizeof(int64_t));
	send = malloc(((size_t)nslots + 1) * sizeof(int64_t));
	order = malloc(((size_t)nslots + 1) * sizeof(int));
	if (!sbeg || !send || !order)
		goto nomem;
	int ns = 0;
	for (int c = 0; c < nc; c++)
		for (int k = 0; zc[c] >= 0 && k < cap[c]; k++) {
			sbeg[ns] = tptr[zc[c]];
			send[ns] = tptr[zc[c] + 1];
			colsz[zc[c]] = ns - k; /* first slot of the column */
			order[ns] = ns;
			ns++;
		}
	s2.np = nslots;
	s2.nq = nzr;
	s2.beg = sbeg;
	s2.end = send;
	s2.adj = tadj;
	s2.w = tw;
	s2.sign = sign;
	if (ssp_alloc(&s2) != 0)
		goto nomem;
	if (ssp_solve(&s2, order, nslots) != 0)
		goto nomem;
	/* Slot -> column: walk the columns again in the same order. */
	ns = 0;
	for (int c = 0; c < nc; c++) {
		if (zc[c] < 0)
			continue;
		for (int k = 0; k < cap[c]; k++, ns++) {
			if (s2.pm[ns] < 0) {
				diag_set(
				    d, DIAG_INTERNAL,
				    "sparse solver: column %d of the deficient part is not full",
				    c);
				goto out;
			}
		}
		v[c] = cap[c] > 0 ? ssp_u(&s2, colsz[zc[c]]) : 0;
	}
	for (int k = 0; k < nzr; k++) {
		int r = rows[k];
		row_to_col[r] = -1;
		u[r] = s2.price[k];
	}
	ns = 0;
	for (int c = 0; c < nc; c++) {
		if (zc[c] < 0)
			continue;
		for (int k = 0; k < cap[c]; k++, ns++) {
			int r = rows[s2.pm[ns]];
			row_to_col[r] = c;
			/* Recover the row's arc: the transposed copy lost it; look it up. */
			if (find_arc(m, r, c, &row_arc[r]) != 0) {
				diag_set(d, DIAG_INTERNAL, "sparse solver: lost arc (%d, %d)", r,
					 c);
				goto out;
			}
		}
	}
	rc = 0;
	goto out;
nomem:
	diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
out:
	ssp_free(&s2);
	free(zr);
	free(zc);
	free(rows);
	free(colsz);
	free(tptr);
	free(tadj);
	free(tw);
	free(sbeg);
	free(send);
	free(order);
	return rc;
}

/* ---- Public entry points ----------------------------------------------------- */

/*
 * After a run with column reduction: true if every usable column reachable
 * from some unpinned row is full or frozen. Columns nobody lists get the
 * largest used price, which keeps the common level of free columns.
 */
static int
all_filled(const struct match_sparse *m, struct ssp *s, const int64_t *pin_arc)
{
	uint8_t *listed = calloc((size_t)s->nq + 1, 1);
	if (listed == NULL)
		return 0;
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; pin_arc[r] < 0 && e < m->row_ptr[r + 1]; e++)
			if (ssp_arc_ok(s, e))
				listed[m->cols[e]] = 1;
	int ok = 1;
	double vmax = 0;
	for (int q = 0; q < s->nq; q++) {
		struct item *x = &s->it[q];
		if (x->cap == 0 || x->frozen)
			continue;
		if (x->cnt < x->cap && listed[q])
			ok = 0;
		if (x->cnt > 0 && s->price[q] > vmax)
			vmax = s->price[q];
	}
	for (int q = 0; q < s->nq; q++)
		if (!listed[q] && s->it[q].cap > 0)
			s->price[q] = vmax;
	free(listed);
	return ok;
}

static int
fill_result(const struct match_sparse *m, const int *row_to_col, const int64_t *row_arc,
	    struct match_result *res, struct diag *d)
{
	res->nr = m->nr;
	res->nc = m->nc;
	res->row_to_col = malloc(((size_t)m->nr + 1) * sizeof(int));
	res->unmatched_rows = malloc(((size_t)m->nr + 1) * sizeof(int));
	if (!res->row_to_col || !res->unmatched_rows)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	double total = 0;
	for (int r = 0; r < m->nr; r++) {
		res->row_to_col[r] = row_to_col[r];
		if (row_to_col[r] >= 0) {
			res->npairs++;
			total += m->scores[row_arc[r]];
		} else {
			res->unmatched_rows[res->nunmatched++] = r;
		}
	}
	res->total = total;
	return 0;
}

int
match_assign_sparse(const struct match_sparse *m, const struct match_opts *o,
		    struct match_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	uint8_t *vetoed = NULL;
	if (check_sparse(m, o, &vetoed, d) != 0) {
		free(vetoed);
		return -1;
	}
	int nr = m->nr, nc = m->nc, rc = -1;
	double sign = (o && o->maximize) ? -1.0 : 1.0;
	int64_t *pin_arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	int64_t *row_arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	int *cap = malloc(((size_t)nc + 1) * sizeof(int));
	int *row_to_col = malloc(((size_t)nr + 1) * sizeof(int));
	int *order = malloc(((size_t)nr + 1) * sizeof(int));
	struct ssp s = {0};
	if (!pin_arc || !row_arc || !cap || !row_to_col || !order) {
		diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
		goto out;
	}
	if (apply_pins(m, o, vetoed, pin_arc, cap, d) != 0)
		goto out;
	s.np = nr;
	s.nq = nc;
	s.beg = m->row_ptr;
	s.end = m->row_ptr + 1;
	s.adj = m->cols;
	s.w = m->scores;
	s.sign = sign;
	s.vetoed = vetoed;
	s.qcap = cap;
	int norder = 0;
	long slots = 0;
	for (int r = 0; r < nr; r++)
		if (pin_arc[r] < 0)
			order[norder++] = r;
	for (int c = 0; c < nc; c++)
		slots += cap[c];
	/*
	 * Jonker-Volgenant column reduction pays off a lot but is only correct if
	 * every column that has candidates ends up full; when rows outnumber the
	 * slots that is likely, so we try it and start again without it if a
	 * column with candidates is left with a free slot.
	 */
	s.colred = norder >= slots;
	for (;;) {
		if (ssp_alloc(&s) != 0 || ssp_solve(&s, order, norder) != 0) {
			diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
			goto out;
		}
		if (!s.colred || all_filled(m, &s, pin_arc))
			break;
		ssp_free(&s);
		struct ssp fresh = s;
		memset(&s, 0, sizeof(s));
		s.np = fresh.np, s.nq = fresh.nq, s.beg = fresh.beg, s.end = fresh.end;
		s.adj = fresh.adj, s.w = fresh.w, s.sign = fresh.sign, s.vetoed = fresh.vetoed;
		s.qcap = fresh.qcap;
	}

	res->u = malloc(((size_t)nr + 1) * sizeof(double));
	res->v = malloc(((size_t)nc + 1) * sizeof(double));
	if (!res->u || !res->v) {
		diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
		goto out;
	}
	int deficient = 0;
	for (int r = 0; r < nr; r++) {
		row_to_col[r] = s.pm[r];
		row_arc[r] = s.pm[r] >= 0 ? s.pe[r] : -1;
		if (pin_arc[r] < 0 && s.pm[r] < 0)
			deficient = 1;
	}
	for (int c = 0; c < nc; c++)
		res->v[c] = s.price[c];
	for (int r = 0; r < nr; r++)
		res->u[r] = s.pm[r] >= 0 ? ssp_u(&s, r) : 0;
	if (deficient && solve_deficient(m, &s, cap, sign, vetoed, pin_arc, row_to_col, row_arc,
					 res->u, res->v, d) != 0)
		goto out;
	/* Columns without capacity take no part: report the largest feasible price. */
	for (int c = 0; c < nc; c++)
		if (cap[c] == 0)
			res->v[c] = INFINITY;
	for (int r = 0; r < nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (cap[c] == 0 && pin_arc[r] < 0 && ssp_arc_ok(&s, e)) {
				double x = sign * m->scores[e] - res->u[r];
				if (x < res->v[c])
					res->v[c] = x;
			}
		}
	for (int c = 0; c < nc; c++)
		if (isinf(res->v[c]))
			res->v[c] = 0;
	/* Pinned rows: matched by decree, their arc made tight. */
	for (int r = 0; r < nr; r++)
		if (pin_arc[r] >= 0) {
			int c = m->cols[pin_arc[r]];
			row_to_col[r] = c;
			row_arc[r] = pin_arc[r];
			res->u[r] = sign * m->scores[pin_arc[r]] - res->v[c];
		}
	if (fill_result(m, row_to_col, row_arc, res, d) != 0)
		goto out;
	rc = 0;
out:
	ssp_free(&s);
	free(vetoed);
	free(pin_arc);
	free(row_arc);
	free(cap);
	free(row_to_col);
	free(order);
	if (rc != 0)
		match_result_fini(res);
	return rc;
}

/* ---- Certificate ------------------------------------------------------------- */

/*
 * match_certify_sparse checks, for costs c = score (or -score when maximizing),
 * with pinned rows taken out and each column's capacity reduced by its pins
 * (cap'), and columns with cap' = 0 and vetoed pairs ignored:
 *
 *  Feasibility: every matched pair is listed, not vetoed, pins are honoured,
 *  no column holds more than its capacity, npairs/unmatched_rows/total agree.
 *
 *  Maximum cardinality: let Z be everything reachable from the unmatched rows
 *  by alternating paths (row -> any candidate column, column -> the rows it
 *  holds). No column of Z may have a free slot (else an augmenting path
 *  exists, Berge). Z's rows only reach Z's columns by construction.
 *
 *  Optimality (the finite part of lexicographic duals; the cardinality part is
 *  the cover given by Z), within tol * scale, scale = the largest |score|:
 *   (a) u[i] + v[j] <= c[i][j] for every candidate pair with i and j both in Z
 *       or both outside Z (pairs from outside Z into Z are never usable);
 *   (b) u[i] + v[j] == c[i][j] for every matched pair;
 *   (c) in Z, every matched row's u is <= every unmatched row's u (a common
 *       level U: no cheaper choice of which rows to leave out);
 *   (d) outside Z, every column holding a row has v <= every column with a free
 *       slot (a common level V: no cheaper use of the free slots).
 * (a)-(d) are the reduced-cost conditions of the min-cost flow network
 * source -> rows -> columns -> sink, so they prove that no cheaper matching of
 * the same (maximum) size exists.
 */
int
match_certify_sparse(const struct match_sparse *m, const struct match_opts *o,
		     const struct match_result *res, double tol, struct diag *d)
{
	uint8_t *vetoed = NULL;
	if (check_sparse(m, o, &vetoed, d) != 0) {
		free(vetoed);
		return -1;
	}
	int nr = m->nr, nc = m->nc, rc = -1;
	double sign = (o && o->maximize) ? -1.0 : 1.0;
	int64_t *pin_arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	int64_t *arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	int *cap = malloc(((size_t)nc + 1) * sizeof(int));
	int *load = calloc((size_t)nc + 1, sizeof(int));
	int *hptr = calloc((size_t)nc + 2, sizeof(int));
	int *holders = malloc(((size_t)nr + 1) * sizeof(int));
	int *queue = malloc(((size_t)nr + 1) * sizeof(int));
	uint8_t *zr = calloc((size_t)nr + 1, 1), *zc = calloc((size_t)nc + 1, 1);
	if (!pin_arc || !arc || !cap || !load || !hptr || !holders || !queue || !zr || !zc) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	if (apply_pins(m, o, vetoed, pin_arc, cap, d) != 0)
		goto out;
	if (res == NULL || res->row_to_col == NULL || res->nr != nr || res->nc != nc) {
		diag_set(d, DIAG_INVALID, "certificate: result does not match the %d x %d problem",
			 nr, nc);
		goto out;
	}
	if (res->u == NULL || res->v == NULL) {
		diag_set(d, DIAG_INVALID, "certificate: result has no duals");
		goto out;
	}
#define VETOED(e) (vetoed && (vetoed[(e) >> 3] & (1u << ((e)&7))))
	/* Feasibility. */
	double total = 0, scale = 0;
	int npairs = 0, nunmatched = 0;
	for (int r = 0; r < nr; r++) {
		int c = res->row_to_col[r];
		arc[r] = -1;
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++)
			if (!VETOED(e) && fabs(m->scores[e]) > scale)
				scale = fabs(m->scores[e]);
		if (c < 0) {
			if (pin_arc[r] >= 0) {
				diag_set(d, DIAG_INVALID, "certificate: pinned row %d is unmatched",
					 r);
				goto out;
			}
			if (nunmatched >= res->nunmatched || res->unmatched_rows[nunmatched] != r) {
				diag_set(d, DIAG_INVALID,
					 "certificate: row %d is unmatched but not listed as such",
					 r);
				goto out;
			}
			nunmatched++;
			continue;
		}
		npairs++;
		if (c >= nc || find_arc(m, r, c, &arc[r]) != 0 || VETOED(arc[r])) {
			diag_set(d, DIAG_INVALID, "certificate: pair (%d, %d) is not allowed", r,
				 c);
			goto out;
		}
		total += m->scores[arc[r]];
		if (pin_arc[r] >= 0) {
			if (pin_arc[r] != arc[r]) {
				diag_set(d, DIAG_INVALID,
					 "certificate: row %d is not at its pinned column", r);
				goto out;
			}
			continue;
		}
		if (++load[c] > cap[c]) {
			diag_set(d, DIAG_INVALID,
				 "certificate: column %d holds more than its capacity", c);
			goto out;
		}
		hptr[c + 2]++;
	}
	if (npairs != res->npairs || nunmatched != res->nunmatched) {
		diag_set(d, DIAG_INVALID,
			 "certificate: pair counts disagree (%d matched, %d listed)", npairs,
			 res->npairs);
		goto out;
	}
	if (fabs(total - res->total) > 1e-9 * (1 + fabs(total)) + 1e-12 * scale * nr) {
		diag_set(d, DIAG_INVALID, "certificate: total %.17g, but the pairs sum to %.17g",
			 res->total, total);
		goto out;
	}
	double tl = tol * (scale > 0 ? scale : 1);
	/* Holders of each column, for the alternating search. */
	for (int c = 0; c < nc; c++)
		hptr[c + 2] += hptr[c + 1];
	for (int r = 0; r < nr; r++)
		if (res->row_to_col[r] >= 0 && pin_arc[r] < 0)
			holders[hptr[res->row_to_col[r] + 1]++] = r;
	/* Maximum cardinality: Z from the unmatched rows. */
	int head = 0, tail = 0;
	for (int r = 0; r < nr; r++)
		if (res->row_to_col[r] < 0) {
			zr[r] = 1;
			queue[tail++] = r;
		}
	while (head < tail) {
		int r = queue[head++];
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (VETOED(e) || cap[c] == 0 || zc[c])
				continue;
			zc[c] = 1;
			if (load[c] < cap[c]) {
				diag_set(d, DIAG_INVALID,
					 "certificate: not of maximum size: unmatched rows reach "
					 "column %d, which has a free slot",
					 c);
				goto out;
			}
			for (int k = hptr[c]; k < hptr[c + 1]; k++)
				if (!zr[holders[k]]) {
					zr[holders[k]] = 1;
					queue[tail++] = holders[k];
				}
		}
	}
	/* Dual conditions (a)-(d). */
	double zmax_matched = -INFINITY, zmin_free = INFINITY;
	double vmax_used = -INFINITY, vmin_free = INFINITY;
	for (int r = 0; r < nr; r++) {
		if (pin_arc[r] >= 0)
			continue;
		if (zr[r]) {
			if (res->row_to_col[r] >= 0)
				zmax_matched = fmax(zmax_matched, res->u[r]);
			else
				zmin_free = fmin(zmin_free, res->u[r]);
		}
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (VETOED(e) || cap[c] == 0 || zr[r] != zc[c])
				continue;
			double slack = sign * m->scores[e] - res->u[r] - res->v[c];
			if (e == arc[r] ? fabs(slack) > tl : slack < -tl) {
				diag_set(d, DIAG_INVALID,
					 "certificate: %s pair (%d, %d) has reduced cost %.3g (u "
					 "%.17g, v %.17g)",
					 e == arc[r] ? "matched" : "candidate", r, c, slack,
					 res->u[r], res->v[c]);
				goto out;
			}
		}
	}
	for (int c = 0; c < nc; c++) {
		if (zc[c] || cap[c] == 0)
			continue;
		if (load[c] > 0)
			vmax_used = fmax(vmax_used, res->v[c]);
		if (load[c] < cap[c])
			vmin_free = fmin(vmin_free, res->v[c]);
	}
	if (zmax_matched > zmin_free + tl) {
		diag_set(d, DIAG_INVALID,
			 "certificate: a matched row of the deficient part has u %.17g above an "
			 "unmatched one's %.17g",
			 zmax_matched, zmin_free);
		goto out;
	}
	if (vmax_used > vmin_free + tl) {
		diag_set(d, DIAG_INVALID,
			 "certificate: a used column has price %.17g above a column with a free "
			 "slot (%.17g)",
			 vmax_used, vmin_free);
		goto out;
	}
#undef VETOED
	rc = 0;
out:
	free(vetoed);
	free(pin_arc);
	free(arc);
	free(cap);
	free(load);
	free(hptr);
	free(holders);
	free(queue);
	free(zr);
	free(zc);
	return rc;
}

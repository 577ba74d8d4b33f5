/*
 * sparse_engine: the sparse solver's engine. Proposers (rows, or column slots
 * when the deficient part is solved transposed) with demand 1, items with a
 * capacity and one shared price each; shortest augmenting paths (successive
 * shortest paths with potentials), Dijkstra with an indexed binary heap over
 * only the listed arcs. Callers: sparse.c. Contract: sparse_internal.h.
 *
 *  1. Initialisation in the spirit of Jonker-Volgenant's augmenting row
 *     reduction: each free proposer takes its cheapest item (reduced by price);
 *     when that makes a unit-capacity item full, the item's price drops by the
 *     gap to the proposer's second-best choice, and a proposer holding a unit
 *     item that a newcomer strictly prefers is displaced and retried. Prices
 *     only ever go down, and only on items that are full, so items with free
 *     slots keep the common price 0 (that is what makes the result optimal when
 *     items are left free, see the certificate in sparse_certify.c).
 *  2. For each still-free proposer, Dijkstra from it over reduced costs
 *     c - u - v >= 0. An item with a free slot ends the search; a full item
 *     leads on to all the proposers it holds. Prices of the settled items are
 *     then raised by d - D (i.e. lowered), and the path is flipped.
 *  3. A search that runs out of items proves the proposer cannot be matched
 *     now or later: every item it reached is full and held by proposers that
 *     only reach full items. That whole tree is frozen (later searches skip it)
 *     and the proposer is set aside (sparse.c solves that "deficient" part).
 *
 * Costs are c = sign * score, read in place; the hot loops (scan, relax, the
 * heap) are static here, in the translation unit of their only caller.
 */
#include "match/sparse_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
match__spe_free(struct spe *s)
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

int
match__spe_alloc(struct spe *s)
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
spe_hold(struct spe *s, int p, int q, int64_t e)
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
spe_release(struct spe *s, int p)
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

/* ---- Indexed binary heap, keys stored inline ------------------------------ */

static void
heap_up(struct spe *s, int i, int q, double d)
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
heap_pop(struct spe *s)
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
relax(struct spe *s, int q, double nd, int p, int64_t e)
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
scan(struct spe *s, int p, double dp, double up)
{
	int own = s->pm[p], hit = -1;
	for (int64_t e = s->beg[p]; e < s->end[p]; e++) {
		int q = s->adj[e];
		struct item *x = &s->it[q];
		if (q == own || x->state == Q_DONE || x->frozen || x->cap == 0 || !spe_arc_ok(s, e))
			continue;
		double r = spe_cost(s, e) - up - s->price[q];
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
spe_flip(struct spe *s, int p0, int t, double D)
{
	for (int i = 0; i < s->nsettled; i++) {
		int q = s->settled[i];
		s->price[q] += s->it[q].dist - D;
	}
	for (int q = t;;) {
		int p = s->pred[q];
		int64_t e = s->pred_e[q];
		int old = s->pm[p];
		spe_release(s, p);
		spe_hold(s, p, q, e);
		if (p == p0)
			break;
		q = old;
	}
}

/* One shortest augmenting path from free proposer p0. Returns 1 if matched, 0 if not. */
static int
spe_augment(struct spe *s, int p0)
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
			int hit = scan(s, h, x->dist, spe_u(s, h));
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
		spe_flip(s, p0, t, D);
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
reduce_pass(struct spe *s, const int *queue, int nqueue, long *budget)
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
				if (!spe_arc_ok(s, e))
					continue;
				double r = spe_cost(s, e) - s->price[q]; /* +inf without capacity */
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
				spe_hold(s, p, q1, e1);
				if (x1->cap == 1 && q2 >= 0)
					s->price[q1] -= m2 - m1;
			} else if (x1->cap == 1 && q2 >= 0 && m1 < m2) {
				next = s->qhead[q1];
				spe_release(s, next);
				spe_hold(s, p, q1, e1);
				s->price[q1] -= m2 - m1;
			} else if (q2 >= 0 && m1 == m2 && s->it[q2].cnt < s->it[q2].cap) {
				spe_hold(s, p, q2, e2);
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
column_reduction(struct spe *s)
{
	double *v = s->price;
	for (int q = 0; q < s->nq; q++)
		v[q] = INFINITY;
	for (int p = 0; p < s->np; p++)
		for (int64_t e = s->beg[p]; e < s->end[p]; e++) {
			int q = s->adj[e];
			double c = spe_cost(s, e);
			if (c < v[q] && spe_arc_ok(s, e))
				v[q] = c;
		}
	for (int q = 0; q < s->nq; q++)
		if (s->it[q].cap == 0)
			v[q] = -INFINITY;
		else if (isinf(v[q]))
			v[q] = 0;
}

/* Initial prices and reduction, then Dijkstra for every proposer still free. */
int
match__spe_solve(struct spe *s, const int *order, int norder)
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
			spe_augment(s, order[k]);
	free(queue);
	return 0;
}

/*
 * sparse_internal: what the files of the sparse assignment solver share, and
 * nothing else. Private to core/match/ (the contract is match.h).
 *
 * Who includes it: sparse_engine.c (the engine: shortest augmenting paths over
 * CSR candidate lists, proposers with demand 1 and items with capacities),
 * sparse.c (input checks, the deficient part, match_assign_sparse) and
 * sparse_certify.c (match_certify_sparse).
 *
 * Contract: match__* functions are internal; the inline accessors are used in
 * the solver's loops. Vetoes are a bitset over the arcs (NULL = none).
 */
#ifndef TANDEM_SPARSE_INTERNAL_H
#define TANDEM_SPARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "match/match.h"

/* Is arc e vetoed in the bitset (NULL = nothing is)? */
static inline int
arc_vetoed(const uint8_t *vetoed, int64_t e)
{
	return vetoed != NULL && (vetoed[e >> 3] & (1u << (e & 7)));
}

/* ---- The problem, checked (sparse.c) --------------------------------------- */

/* The arc of (r, c) in *out: 0, or -1 when row r does not list column c. */
int match__sparse_find_arc(const struct match_sparse *m, int r, int c, int64_t *out);

/* (m, o) checked, as both the solver and the certificate see it. */
struct sparse_prob {
	const struct match_sparse *m;
	double sign;      /* cost = sign * score: 1 to minimize, -1 to maximize */
	uint8_t *vetoed;  /* bitset over the arcs; NULL = none */
	int64_t *pin_arc; /* per row: the pinned arc, -1 = not pinned */
	int *cap;         /* per column: capacity left after the pins */
};

/*
 * Checks the structure (shape, row_ptr, columns in range, no column twice in a
 * row), the vetoes, allowed scores (finite, within MATCH_SCORE_MAX) and the
 * pins (each names the pair in its error), and applies the pins. p must be
 * released with match__sparse_prob_fini even on failure.
 */
int match__sparse_prob_init(struct sparse_prob *p, const struct match_sparse *m,
			    const struct match_opts *o, struct diag *d);
void match__sparse_prob_fini(struct sparse_prob *p);

/* ---- The engine (sparse_engine.c) ------------------------------------------- */

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

struct spe {
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
spe_cost(const struct spe *s, int64_t e)
{
	return s->sign * s->w[e];
}

static inline int
spe_arc_ok(const struct spe *s, int64_t e)
{
	return !arc_vetoed(s->vetoed, e);
}

/* Potential of a matched proposer: its matched arc is tight. */
static inline double
spe_u(const struct spe *s, int p)
{
	return spe_cost(s, s->pe[p]) - s->price[s->pm[p]];
}

/* Allocates the state for the inputs set in s (np, nq, beg, end, adj, w, sign, ...); -1 when out of memory. */
int match__spe_alloc(struct spe *s);
/* Frees the state; the inputs stay. */
void match__spe_free(struct spe *s);
/*
 * Matches the proposers order[0..norder): initial prices (column reduction when
 * s->colred), augmenting row reduction, then one Dijkstra per proposer still
 * free. A proposer that cannot be matched freezes what its search reached.
 * -1 when out of memory.
 */
int match__spe_solve(struct spe *s, const int *order, int norder);

#endif

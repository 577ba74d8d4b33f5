/*
 * sparse_certify: match_certify_sparse, the certificate of a sparse
 * assignment. Contract: match.h. Callers: the tests, the benchmark driver
 * (every solution it times), embedders. It rebuilds the problem from (m, o)
 * (sparse.c's checks) and trusts nothing of the solver but its result.
 */
#include "match/sparse_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

struct cert {
	struct sparse_prob p;
	const struct match_result *res;
	int64_t *arc;   /* per row: the arc of its pair, -1 */
	int *load;      /* per column: rows held, pins excluded */
	int *hptr;      /* holders of column c: holders[hptr[c] .. hptr[c + 1]) */
	int *holders;
	int *queue;
	uint8_t *zr, *zc; /* Z: rows and columns reached from the unmatched rows */
	double tl;      /* tolerance: tol * the largest |score| */
};

static void
cert_fini(struct cert *C)
{
	match__sparse_prob_fini(&C->p);
	free(C->arc), free(C->load), free(C->hptr), free(C->holders), free(C->queue);
	free(C->zr), free(C->zc);
}

static int
cert_init(struct cert *C, const struct match_sparse *m, const struct match_opts *o,
	  const struct match_result *res, struct diag *d)
{
	memset(C, 0, sizeof(*C));
	C->res = res;
	if (match__sparse_prob_init(&C->p, m, o, d) != 0)
		return -1;
	int nr = m->nr, nc = m->nc;
	C->arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	C->load = calloc((size_t)nc + 1, sizeof(int));
	C->hptr = calloc((size_t)nc + 2, sizeof(int));
	C->holders = malloc(((size_t)nr + 1) * sizeof(int));
	C->queue = malloc(((size_t)nr + 1) * sizeof(int));
	C->zr = calloc((size_t)nr + 1, 1);
	C->zc = calloc((size_t)nc + 1, 1);
	if (!C->arc || !C->load || !C->hptr || !C->holders || !C->queue || !C->zr || !C->zc)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	if (res == NULL || res->row_to_col == NULL || res->nr != nr || res->nc != nc)
		return diag_set(d, DIAG_INVALID,
				"certificate: result does not match the %d x %d problem", nr, nc);
	if (res->u == NULL || res->v == NULL)
		return diag_set(d, DIAG_INVALID, "certificate: result has no duals");
	return 0;
}

/*
 * Feasibility: every matched pair listed and not vetoed, pins honoured,
 * capacities respected, the counts and the total right. Fills arc, load, the
 * holder counts and the tolerance.
 */
static int
cert_feasible(struct cert *C, double tol, struct diag *d)
{
	const struct match_sparse *m = C->p.m;
	const struct match_result *res = C->res;
	double total = 0, scale = 0;
	int npairs = 0, nunmatched = 0;
	for (int r = 0; r < m->nr; r++) {
		int c = res->row_to_col[r];
		C->arc[r] = -1;
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++)
			if (!arc_vetoed(C->p.vetoed, e) && fabs(m->scores[e]) > scale)
				scale = fabs(m->scores[e]);
		if (c < 0) {
			if (C->p.pin_arc[r] >= 0)
				return diag_set(d, DIAG_INVALID,
						"certificate: pinned row %d is unmatched", r);
			if (nunmatched >= res->nunmatched || res->unmatched_rows[nunmatched] != r)
				return diag_set(d, DIAG_INVALID,
						"certificate: row %d is unmatched but not listed as "
						"such",
						r);
			nunmatched++;
			continue;
		}
		npairs++;
		if (c >= m->nc || match__sparse_find_arc(m, r, c, &C->arc[r]) != 0 ||
		    arc_vetoed(C->p.vetoed, C->arc[r]))
			return diag_set(d, DIAG_INVALID, "certificate: pair (%d, %d) is not allowed",
					r, c);
		total += m->scores[C->arc[r]];
		if (C->p.pin_arc[r] >= 0) {
			if (C->p.pin_arc[r] != C->arc[r])
				return diag_set(d, DIAG_INVALID,
						"certificate: row %d is not at its pinned column", r);
			continue;
		}
		if (++C->load[c] > C->p.cap[c])
			return diag_set(d, DIAG_INVALID,
					"certificate: column %d holds more than its capacity", c);
		C->hptr[c + 2]++;
	}
	if (npairs != res->npairs || nunmatched != res->nunmatched)
		return diag_set(d, DIAG_INVALID,
				"certificate: pair counts disagree (%d matched, %d listed)", npairs,
				res->npairs);
	if (fabs(total - res->total) > 1e-9 * (1 + fabs(total)) + 1e-12 * scale * m->nr)
		return diag_set(d, DIAG_INVALID,
				"certificate: total %.17g, but the pairs sum to %.17g", res->total,
				total);
	C->tl = tol * (scale > 0 ? scale : 1);
	return 0;
}

/* Holders of each column, for the alternating search. */
static void
cert_holders(struct cert *C)
{
	const struct match_sparse *m = C->p.m;
	for (int c = 0; c < m->nc; c++)
		C->hptr[c + 2] += C->hptr[c + 1];
	for (int r = 0; r < m->nr; r++)
		if (C->res->row_to_col[r] >= 0 && C->p.pin_arc[r] < 0)
			C->holders[C->hptr[C->res->row_to_col[r] + 1]++] = r;
}

/* Maximum cardinality: Z from the unmatched rows reaches no free slot. */
static int
cert_cardinality(struct cert *C, struct diag *d)
{
	const struct match_sparse *m = C->p.m;
	int head = 0, tail = 0;
	for (int r = 0; r < m->nr; r++)
		if (C->res->row_to_col[r] < 0) {
			C->zr[r] = 1;
			C->queue[tail++] = r;
		}
	while (head < tail) {
		int r = C->queue[head++];
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (arc_vetoed(C->p.vetoed, e) || C->p.cap[c] == 0 || C->zc[c])
				continue;
			C->zc[c] = 1;
			if (C->load[c] < C->p.cap[c])
				return diag_set(d, DIAG_INVALID,
						"certificate: not of maximum size: unmatched rows "
						"reach column %d, which has a free slot",
						c);
			for (int k = C->hptr[c]; k < C->hptr[c + 1]; k++)
				if (!C->zr[C->holders[k]]) {
					C->zr[C->holders[k]] = 1;
					C->queue[tail++] = C->holders[k];
				}
		}
	}
	return 0;
}

/*
 * Conditions (a) and (b) on every usable candidate pair; leaves in *zmax and
 * *zmin the highest u of a matched row and the lowest u of an unmatched row of
 * Z, for (c).
 */
static int
cert_slack(const struct cert *C, double *zmax, double *zmin, struct diag *d)
{
	const struct match_sparse *m = C->p.m;
	const struct match_result *res = C->res;
	double zmax_matched = -INFINITY, zmin_free = INFINITY;
	for (int r = 0; r < m->nr; r++) {
		if (C->p.pin_arc[r] >= 0)
			continue;
		if (C->zr[r]) {
			if (res->row_to_col[r] >= 0)
				zmax_matched = fmax(zmax_matched, res->u[r]);
			else
				zmin_free = fmin(zmin_free, res->u[r]);
		}
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (arc_vetoed(C->p.vetoed, e) || C->p.cap[c] == 0 || C->zr[r] != C->zc[c])
				continue;
			double slack = C->p.sign * m->scores[e] - res->u[r] - res->v[c];
			if (e == C->arc[r] ? fabs(slack) > C->tl : slack < -C->tl)
				return diag_set(d, DIAG_INVALID,
						"certificate: %s pair (%d, %d) has reduced cost %.3g "
						"(u %.17g, v %.17g)",
						e == C->arc[r] ? "matched" : "candidate", r, c, slack,
						res->u[r], res->v[c]);
		}
	}
	*zmax = zmax_matched;
	*zmin = zmin_free;
	return 0;
}

/* Conditions (c) in Z and (d) outside it: the common levels U and V. */
static int
cert_levels(const struct cert *C, double zmax_matched, double zmin_free, struct diag *d)
{
	double vmax_used = -INFINITY, vmin_free = INFINITY;
	for (int c = 0; c < C->p.m->nc; c++) {
		if (C->zc[c] || C->p.cap[c] == 0)
			continue;
		if (C->load[c] > 0)
			vmax_used = fmax(vmax_used, C->res->v[c]);
		if (C->load[c] < C->p.cap[c])
			vmin_free = fmin(vmin_free, C->res->v[c]);
	}
	if (zmax_matched > zmin_free + C->tl)
		return diag_set(d, DIAG_INVALID,
				"certificate: a matched row of the deficient part has u %.17g "
				"above an unmatched one's %.17g",
				zmax_matched, zmin_free);
	if (vmax_used > vmin_free + C->tl)
		return diag_set(d, DIAG_INVALID,
				"certificate: a used column has price %.17g above a column with a "
				"free slot (%.17g)",
				vmax_used, vmin_free);
	return 0;
}

int
match_certify_sparse(const struct match_sparse *m, const struct match_opts *o,
		     const struct match_result *res, double tol, struct diag *d)
{
	struct cert C;
	int rc = -1;
	double zmax = -INFINITY, zmin = INFINITY;
	if (cert_init(&C, m, o, res, d) != 0 || cert_feasible(&C, tol, d) != 0)
		goto out;
	cert_holders(&C);
	if (cert_cardinality(&C, d) != 0 || cert_slack(&C, &zmax, &zmin, d) != 0 ||
	    cert_levels(&C, zmax, zmin, d) != 0)
		goto out;
	rc = 0;
out:
	cert_fini(&C);
	return rc;
}

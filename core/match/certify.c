/*
 * certify: match_certify, the certificate of a dense assignment. Contract:
 * match.h. Callers: the tests, `tandem solve` users through embedders, anyone
 * who wants proof rather than trust. It never trusts the solver: it rebuilds
 * the problem from (m, o) and checks, in order,
 *  1. the matching itself: pins kept, pairs allowed, capacities respected, the
 *     counts, the unmatched list and the total agree with the pairs;
 *  2. maximum cardinality: no augmenting path (Berge), by its own search;
 *  3. the dual levels: every unmatched row at one potential alpha and no row
 *     above it; every column with a free slot at one price beta and no column
 *     above it;
 *  4. complementary slackness: u_i + v_j <= c_ij on every allowed pair, with
 *     equality on the matched ones.
 * Together (see the top comment of dense.c) they prove the result optimal
 * among the matchings of maximum cardinality. Tolerances are tol times the
 * size of the allowed costs.
 */
#include "match/match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The result has the problem's shape and the arrays a certificate reads. */
static int
check_shape(const struct prob *p, const struct match_result *res, struct diag *d)
{
	if (res == NULL || res->nr != p->nr || res->nc != p->nc)
		return diag_set(d, DIAG_INVALID, "result shape does not match the %d x %d problem",
				p->nr, p->nc);
	if (p->nr > 0 && (res->row_to_col == NULL || res->u == NULL))
		return diag_set(d, DIAG_INVALID, "result has no assignment or no row duals");
	if (p->nc > 0 && res->v == NULL)
		return diag_set(d, DIAG_INVALID, "result has no column duals");
	return 0;
}

/*
 * Step 1: the matching itself: pins kept, pairs allowed, capacities, the
 * unmatched list and the counts. Fills used[j] (rows per column, pins
 * excluded) and *total (the sum of the chosen scores).
 */
static int
check_pairs(const struct prob *p, const struct match_result *res, int *used, double *total,
	    struct diag *d)
{
	int npairs = 0, nun = 0;
	double sum = 0;
	for (int i = 0; i < p->nr; i++) {
		int j = res->row_to_col[i];
		if (p->pin[i] >= 0 && j != p->pin[i])
			return diag_set(d, DIAG_INVALID,
					"row %d is pinned to column %d but matched to %d", i,
					p->pin[i], j);
		if (j < 0) {
			if (nun >= res->nunmatched || res->unmatched_rows[nun] != i)
				return diag_set(d, DIAG_INVALID,
						"row %d is unmatched but not listed so", i);
			nun++;
			continue;
		}
		if (j >= p->nc || !is_allowed(p, i, j))
			return diag_set(d, DIAG_INVALID, "row %d is matched to forbidden column %d",
					i, j);
		if (p->pin[i] < 0 && ++used[j] > p->cap[j])
			return diag_set(d, DIAG_INVALID,
					"column %d holds more rows than its capacity", j);
		npairs++;
		sum += score_at(p->m, i, j);
	}
	if (npairs != res->npairs || nun != res->nunmatched)
		return diag_set(d, DIAG_INVALID,
				"result counts %d pairs and %d unmatched, found %d and %d",
				res->npairs, res->nunmatched, npairs, nun);
	*total = sum;
	return 0;
}

/* Tolerance scale: the spread and size of the allowed costs (1 when there are none). */
static double
cost_scale(const struct prob *p)
{
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < p->nr; i++)
		for (int j = 0; j < p->nc; j++) {
			if (p->pin[i] >= 0 || !is_allowed(p, i, j))
				continue;
			double c = cost_at(p, i, j);
			lo = c < lo ? c : lo;
			hi = c > hi ? c : hi;
		}
	double scale = 1;
	if (hi >= lo) {
		scale = hi - lo;
		if (fabs(hi) > scale)
			scale = fabs(hi);
		if (fabs(lo) > scale)
			scale = fabs(lo);
		if (scale == 0)
			scale = 1;
	}
	return scale;
}

/*
 * Is there an augmenting path (an unmatched free row reaching a column with a
 * free slot by alternating paths)? Multi-source BFS over the allowed pairs;
 * returns the row it starts from, or -1 when the matching has maximum cardinality.
 */
static int
find_augmenting(const struct prob *p, const int *r2c, const int *used, struct diag *d)
{
	int nr = p->nr, nc = p->nc;
	int *origin = malloc(((size_t)nr + 1) * sizeof(int));
	int *queue = malloc(((size_t)nr + 1) * sizeof(int));
	uint8_t *seen = calloc((size_t)nc + 1, 1);
	int *first = malloc(((size_t)nc + 1) * sizeof(int));
	int *nxt = malloc(((size_t)nr + 1) * sizeof(int));
	if (!origin || !queue || !seen || !first || !nxt) {
		free(origin), free(queue), free(seen), free(first), free(nxt);
		diag_set(d, DIAG_NOMEM, "out of memory checking cardinality");
		return -2;
	}
	for (int j = 0; j < nc; j++)
		first[j] = -1;
	int qt = 0, qh = 0, found = -1;
	for (int i = 0; i < nr; i++) {
		if (p->pin[i] >= 0)
			continue;
		if (r2c[i] < 0) {
			origin[i] = i;
			queue[qt++] = i;
		} else {
			nxt[i] = first[r2c[i]];
			first[r2c[i]] = i;
		}
	}
	while (qh < qt && found < 0) {
		int x = queue[qh++];
		for (int j = 0; j < nc && found < 0; j++) {
			if (seen[j] || p->cap[j] == 0 || !is_allowed(p, x, j))
				continue;
			seen[j] = 1;
			if (used[j] < p->cap[j]) {
				found = origin[x];
				break;
			}
			for (int r = first[j]; r >= 0; r = nxt[r]) {
				origin[r] = origin[x];
				queue[qt++] = r;
			}
		}
	}
	free(origin), free(queue), free(seen), free(first), free(nxt);
	return found;
}

/* Step 2: maximum cardinality, proved by the absence of an augmenting path. */
static int
check_cardinality(const struct prob *p, const struct match_result *res, const int *used,
		  struct diag *d)
{
	int aug = find_augmenting(p, res->row_to_col, used, d);
	if (aug == -2)
		return -1;
	if (aug >= 0)
		return diag_set(d, DIAG_INVALID,
				"not maximum cardinality: an augmenting path starts at row %d", aug);
	return 0;
}

/* Step 3a: row potentials finite, unmatched rows at one level alpha, none above it. */
static int
check_row_levels(const struct prob *p, const struct match_result *res, double eps,
		 struct diag *d)
{
	double alpha = -INFINITY;
	int have_alpha = 0;
	for (int i = 0; i < p->nr && !have_alpha; i++)
		if (p->pin[i] < 0 && res->row_to_col[i] < 0) {
			alpha = res->u[i];
			have_alpha = 1;
		}
	for (int i = 0; i < p->nr; i++) {
		if (p->pin[i] >= 0)
			continue;
		double u = res->u[i];
		if (!isfinite(u))
			return diag_set(d, DIAG_INVALID, "row dual u[%d] is not finite", i);
		if (have_alpha && res->row_to_col[i] < 0 && fabs(u - alpha) > eps)
			return diag_set(
			    d, DIAG_INVALID,
			    "unmatched rows %d and %d have different potentials (%.17g, %.17g)",
			    res->unmatched_rows[0], i, alpha, u);
		if (have_alpha && u > alpha + eps)
			return diag_set(d, DIAG_INVALID,
					"row %d has potential %.17g above the unmatched rows' %.17g",
					i, u, alpha);
	}
	return 0;
}

/* Step 3b: column prices finite, columns with a free slot at one level beta, none above it. */
static int
check_col_levels(const struct prob *p, const struct match_result *res, const int *used,
		 double eps, struct diag *d)
{
	double beta = -INFINITY;
	int have_beta = 0;
	for (int j = 0; j < p->nc && !have_beta; j++)
		if (used[j] < p->cap[j]) {
			beta = res->v[j];
			have_beta = 1;
		}
	for (int j = 0; j < p->nc; j++) {
		double v = res->v[j];
		if (!isfinite(v))
			return diag_set(d, DIAG_INVALID, "column dual v[%d] is not finite", j);
		if (have_beta && used[j] < p->cap[j] && fabs(v - beta) > eps)
			return diag_set(d, DIAG_INVALID,
					"columns with free slots have different prices (column "
					"%d: %.17g vs %.17g)",
					j, v, beta);
		if (have_beta && v > beta + eps)
			return diag_set(d, DIAG_INVALID,
					"column %d has price %.17g above the free columns' %.17g",
					j, v, beta);
	}
	return 0;
}

/* Step 4: dual feasibility on every allowed pair, tightness on the matched ones. */
static int
check_slack(const struct prob *p, const struct match_result *res, double eps, struct diag *d)
{
	for (int i = 0; i < p->nr; i++) {
		if (p->pin[i] >= 0)
			continue;
		for (int j = 0; j < p->nc; j++) {
			if (!is_allowed(p, i, j))
				continue;
			double slack = cost_at(p, i, j) - res->u[i] - res->v[j];
			if (slack < -eps)
				return diag_set(d, DIAG_INVALID,
						"dual infeasible at row %d, column %d (reduced cost "
						"%.3g)",
						i, j, slack);
			if (res->row_to_col[i] == j && slack > eps)
				return diag_set(d, DIAG_INVALID,
						"matched pair row %d, column %d is not tight (reduced "
						"cost %.3g)",
						i, j, slack);
		}
	}
	return 0;
}

int
match_certify(const struct match_dense *m, const struct match_opts *o,
	      const struct match_result *res, double tol, struct diag *d)
{
	struct prob p;
	int rc = -1;
	int *used = NULL;
	if (match__prob_init(&p, m, o, d) < 0 || check_shape(&p, res, d) < 0)
		goto out;
	used = calloc((size_t)p.nc + 1, sizeof(int));
	if (used == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory certifying");
		goto out;
	}
	double total = 0;
	if (check_pairs(&p, res, used, &total, d) < 0)
		goto out;
	double eps = tol * cost_scale(&p);
	if (!(fabs(total - res->total) <= eps * (res->npairs + 1) + 1e-12 * fabs(total))) {
		diag_set(d, DIAG_INVALID, "result total %.17g differs from the recomputed %.17g",
			 res->total, total);
		goto out;
	}
	if (check_cardinality(&p, res, used, d) < 0 || check_row_levels(&p, res, eps, d) < 0 ||
	    check_col_levels(&p, res, used, eps, d) < 0 || check_slack(&p, res, eps, d) < 0)
		goto out;
	rc = 0;
out:
	free(used);
	match__prob_fini(&p);
	return rc;
}

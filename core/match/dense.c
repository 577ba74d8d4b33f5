/*
 * dense: optimal assignment on a dense score matrix (match_assign) and the
 * solver at its core, shortest augmenting paths from the rows with a
 * Jonker-Volgenant start. Contract: core/match/match.h. Callers: the policy
 * pipeline, `tandem solve`, embedders. Pure: no I/O, no globals, deterministic.
 * The other parts of the dense solver: problem.c (the problem, the maximum
 * cardinality, the result), kernels.c (row loops), tall.c (candidate rows per
 * column), zone.c (the zones), certify.c (match_certify); they share
 * match_internal.h.
 *
 * THE PROBLEM. Rows i (agents), columns j with k_j slots, cost c_ij = score or
 * -score when maximizing, allowed pairs = not masked and not vetoed. Pinned pairs
 * are fixed first: their rows leave the problem and each takes one slot of its
 * column. We want the matching of maximum cardinality T and, among those, the
 * least total cost.
 *
 * THE REDUCTION (why it is correct). T is computed first (cheap when nothing is
 * forbidden: T = min(rows, slots); otherwise an augmenting-path max flow on the
 * allowed pairs, see max_cardinality in problem.c). If T < rows we add one virtual column D
 * with n_rows - T slots, allowed to every row at a constant cost kappa. Every row
 * must then be assigned (to a real slot or to D): since real pairs number at most
 * T and D takes at most rows - T, every complete assignment has exactly T real
 * pairs, and its cost is (real cost) + kappa * (rows - T); so the cheapest complete
 * assignment is exactly the lexicographic optimum we want, whatever kappa is.
 * Forbidden pairs are simply absent from the graph, so no big-M appears and the
 * duals keep the magnitude of the scores.
 *
 * THE SOLVER. Successive shortest augmenting paths from rows (Jonker-Volgenant
 * style): column prices v_j, row potentials implicit (u_i = c_i,col(i) - v_col(i),
 * tight on matched pairs), reduced costs c_ij - u_i - v_j >= 0. A Dijkstra search
 * from a free row over the columns: all columns at the current minimum distance
 * are finalized together (the "todo" list), the search stops as soon as one of
 * them has a free slot, and only finalized columns get their price lowered
 * (v_j += d_j - delta). A full column, once finalized, continues the search
 * through every row assigned to it (their matched edges have zero reduced cost),
 * so k_j slots share one price and memory stays O(rows + columns). Each relaxation
 * is one pass over a contiguous matrix row, specialised per dtype and sense.
 *
 * TALL PROBLEMS (fewer slots than rows) take another road: the columns that
 * cannot all fill are split off by the Gallai-Edmonds "zone" of a maximum
 * matching and solved from the rows; the others, which all fill, are solved
 * from the columns on per-column candidate rows, proved optimal on the whole
 * matrix by their duals (tall.c, and zone.c for the zone). Its mirror, slots to
 * spare but rows that cannot all be matched, splits off the "row zone" the
 * same way (zone.c, "Rows that cannot all be matched").
 *
 * DUALS AND THE CERTIFICATE. With the cardinality fixed at T, the problem is the
 * LP  min c.x  s.t.  sum_j x_ij <= 1, sum_i x_ij <= k_j, sum x = T, x >= 0, whose
 * dual is: u_i + v_j <= c_ij on allowed pairs, and there are alpha, beta with
 * u_i <= alpha for every row (= alpha when the row is unmatched) and v_j <= beta
 * for every column (= beta when the column has a free slot); the dual objective
 * equals the primal cost exactly when matched pairs are tight. Here alpha =
 * kappa - v_D (each row's edge to D is dual-feasible, tight for rows on D) and
 * beta = 0 (prices start at 0 and only a column that is full ever gets cheaper,
 * so columns left with a free slot keep price 0) -- except where every column
 * ends full, where column reduction may start prices anywhere. Weak duality
 * proves optimality among matchings of size T; that T is maximum is proved
 * separately by the absence of an augmenting path (Berge), which
 * match_certify (certify.c) checks with its own search.
 */
#include "match/match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Shortest augmenting paths ------------------------------------------ */

void
match__ssp_fini(struct ssp *S)
{
	free(S->row_col);
	free(S->head);
	free(S->next);
	free(S->prev);
	free(S->cnt);
	free(S->cap);
	free(S->v);
	free(S->dist);
	free(S->pred);
	free(S->fin);
	free(S->fin_d);
	free(S->fin_v);
	free(S->vsave);
}

/*
 * Integer scores (of any dtype) tie a lot; a sample of 257 entries spread over
 * the matrix tells. Only a speed choice: both search modes are exact.
 */
static int
ties_likely(const struct prob *p)
{
	if (p->m->dtype == MATCH_I16 || p->m->dtype == MATCH_I32)
		return 1;
	size_t n = (size_t)p->nr * (size_t)p->nc, step = n / 257 + 1;
	for (size_t k = 0; k < n; k += step) {
		double x = score_at(p->m, (int)(k / (size_t)p->nc), (int)(k % (size_t)p->nc));
		if (isfinite(x) && x != rint(x))
			return 0;
	}
	return 1;
}

int
match__ssp_init(struct ssp *S, const struct prob *p, int T, struct diag *d)
{
	memset(S, 0, sizeof(*S));
	S->p = p;
	S->nr = p->nr;
	S->nc = p->nc;
	S->has_d = T < p->nfree;
	S->k = match__pick_kernels(p->m->dtype, p->maximize);
	S->relax = S->k.relax;
	S->rowbytes = (size_t)p->nc * match_dtype_size(p->m->dtype);
	S->base = p->m->scores;
	size_t nr = (size_t)p->nr, nc1 = (size_t)p->nc + 1;
	S->row_col = malloc(nr * sizeof(int));
	S->next = malloc(nr * sizeof(int));
	S->prev = malloc(nr * sizeof(int));
	S->head = malloc(nc1 * sizeof(int));
	S->cnt = calloc(nc1, sizeof(int));
	S->cap = malloc(nc1 * sizeof(int));
	S->v = malloc(nc1 * sizeof(double));
	S->dist = malloc(nc1 * sizeof(double));
	S->pred = malloc(nc1 * sizeof(int));
	S->fin = malloc(nc1 * sizeof(int));
	S->fin_d = malloc(nc1 * sizeof(double));
	S->fin_v = malloc(nc1 * sizeof(double));
	S->vsave = malloc(((size_t)p->maxveto + 1) * sizeof(double));
	if (!S->row_col || !S->next || !S->prev || !S->head || !S->cnt || !S->cap || !S->v ||
	    !S->dist || !S->pred || !S->fin || !S->fin_d || !S->fin_v || !S->vsave)
		return diag_set(d, DIAG_NOMEM, "out of memory for a %d x %d assignment", p->nr,
				p->nc);
	for (int i = 0; i < p->nr; i++)
		S->row_col[i] = -1;
	for (int j = 0; j <= p->nc; j++) {
		S->head[j] = -1;
		S->dist[j] = INFINITY;
		S->pred[j] = -1;
		S->v[j] = 0;
		S->cap[j] = j < p->nc ? p->cap[j] : (S->has_d ? p->nfree - T : 0);
	}
	/* Columns without a slot are never reachable: price -inf keeps them out. */
	for (int j = 0; j < p->nc; j++)
		if (S->cap[j] == 0)
			S->v[j] = -INFINITY;
	if (!S->has_d)
		S->v[p->nc] = -INFINITY;
	S->kappa = 0;
	S->tie_scan = ties_likely(p);
	return 0;
}

static void
col_add(struct ssp *S, int j, int r)
{
	S->row_col[r] = j;
	S->prev[r] = -1;
	S->next[r] = S->head[j];
	if (S->head[j] >= 0)
		S->prev[S->head[j]] = r;
	S->head[j] = r;
	S->cnt[j]++;
}

static void
col_remove(struct ssp *S, int r)
{
	int j = S->row_col[r];
	if (S->prev[r] >= 0)
		S->next[S->prev[r]] = S->next[r];
	else
		S->head[j] = S->next[r];
	if (S->next[r] >= 0)
		S->prev[S->next[r]] = S->prev[r];
	S->cnt[j]--;
	S->row_col[r] = -1;
}

/* Cost of row r on column j, j = nc meaning D. */
static double
ssp_cost(const struct ssp *S, int r, int j)
{
	return j == S->nc ? S->kappa : cost_at(S->p, r, j);
}

/*
 * Relaxes along row r entered at offset o (= distance of r minus u_r); returns
 * the minimum distance over the open columns and one column achieving it (*am).
 */
static double
ssp_relax(struct ssp *S, int r, double o, int *am)
{
	const struct prob *p = S->p;
	int nc = S->nc;
	int v0 = 0, v1 = 0;
	if (p->vptr) { /* vetoed columns of this row: hide them for this pass */
		v0 = p->vptr[r];
		v1 = p->vptr[r + 1];
		for (int k = v0; k < v1; k++) {
			S->vsave[k - v0] = S->v[p->vcol[k]];
			S->v[p->vcol[k]] = -INFINITY;
		}
	}
	const uint8_t *mk = p->mask ? p->mask + (size_t)r * (size_t)nc : NULL;
	double m = S->relax(S->base + (size_t)r * S->rowbytes, mk, S->v, S->dist, S->pred, nc, r,
			    o, am);
	for (int k = v0; k < v1; k++)
		S->v[p->vcol[k]] = S->vsave[k - v0];
	if (S->has_d) {
		double nd = o + S->kappa - S->v[nc];
		if (nd < S->dist[nc]) {
			S->dist[nc] = nd;
			S->pred[nc] = r;
		}
		if (S->dist[nc] < m) {
			m = S->dist[nc];
			*am = nc;
		}
	}
	return m;
}

/*
 * Finalizes every column at distance <= h (hides it: v = -inf, d = +inf, keeps
 * its distance and price in the fin list). Returns the first one with a free slot
 * or -1, and stores the minimum distance of the columns still open in *m.
 */
static int
ssp_collect(struct ssp *S, double h, double *m)
{
	int sink = -1;
	double mm = INFINITY;
	int ncol = S->nc + S->has_d;
	for (int j = 0; j < ncol; j++) {
		double dj = S->dist[j];
		if (dj > h) {
			mm = dj < mm ? dj : mm;
			continue;
		}
		S->fin[S->nfin] = j;
		S->fin_d[S->nfin] = dj;
		S->fin_v[S->nfin] = S->v[j];
		S->nfin++;
		S->v[j] = -INFINITY;
		S->dist[j] = INFINITY;
		if (sink < 0 && S->cnt[j] < S->cap[j])
			sink = j;
	}
	*m = mm;
	return sink;
}

/* Finalizes column j alone at distance h; returns j if it has a free slot, else -1. */
static int
ssp_take(struct ssp *S, int j, double h)
{
	S->fin[S->nfin] = j;
	S->fin_d[S->nfin] = h;
	S->fin_v[S->nfin] = S->v[j];
	S->nfin++;
	S->v[j] = -INFINITY;
	S->dist[j] = INFINITY;
	return S->cnt[j] < S->cap[j] ? j : -1;
}

/*
 * One shortest augmenting path from free row s; returns 0, or -1 if none exists.
 * With integer scores, ties are the rule: all columns at the current minimum
 * are finalized together (one scan) so that a free one among them ends the
 * search at once. With floating scores ties are rare and that scan would cost
 * as much as the relaxations: the column achieving the minimum (reported by the
 * relaxation itself) is taken alone, which is plain Dijkstra.
 */
int
match__ssp_augment(struct ssp *S, int s)
{
	int nc = S->nc;
	S->nfin = 0;
	S->nexp = 0;
	double h = -INFINITY;
	int am = -1;
	double m = ssp_relax(S, s, 0.0, &am);
	int sink = -1;
	for (;;) {
		if (S->nexp == S->nfin) {
			if (m == INFINITY)
				break;
			h = m;
			if (!S->tie_scan) {
				sink = ssp_take(S, am, h);
				if (sink >= 0)
					break;
			}
		}
		if (S->tie_scan && m <= h) {
			sink = ssp_collect(S, h, &m);
			if (sink >= 0)
				break;
		}
		if (S->nexp == S->nfin)
			continue;
		int k = S->nexp++;
		int j = S->fin[k];
		for (int r = S->head[j]; r >= 0; r = S->next[r]) {
			double u = ssp_cost(S, r, j) - S->fin_v[k];
			m = ssp_relax(S, r, S->fin_d[k] - u, &am);
		}
	}
	/* Prices: finalized columns get cheaper by how much closer they were than the sink. */
	double delta = h;
	for (int k = 0; k < S->nfin; k++)
		S->v[S->fin[k]] = S->fin_v[k] + (S->fin_d[k] < delta ? S->fin_d[k] - delta : 0.0);
	for (int j = 0; j <= nc; j++)
		S->dist[j] = INFINITY;
	if (sink < 0)
		return -1;
	/* Flip the path back from the sink. */
	int j = sink;
	for (;;) {
		int r = S->pred[j];
		int old = S->row_col[r];
		if (old >= 0)
			col_remove(S, r);
		col_add(S, j, r);
		if (r == s)
			break;
		j = old;
	}
	return 0;
}

/* ---- Initial assignment (Jonker-Volgenant) ------------------------------ */

/* Row r's matrix row and mask row; hides r's vetoed columns (v = -inf) until unhide. */
static const void *
ssp_row(struct ssp *S, int r, const uint8_t **mk)
{
	const struct prob *p = S->p;
	*mk = p->mask ? p->mask + (size_t)r * (size_t)S->nc : NULL;
	if (p->vptr)
		for (int k = p->vptr[r]; k < p->vptr[r + 1]; k++) {
			S->vsave[k - p->vptr[r]] = S->v[p->vcol[k]];
			S->v[p->vcol[k]] = -INFINITY;
		}
	return S->base + (size_t)r * S->rowbytes;
}

static void
ssp_unhide(struct ssp *S, int r)
{
	const struct prob *p = S->p;
	if (p->vptr)
		for (int k = p->vptr[r]; k < p->vptr[r + 1]; k++)
			S->v[p->vcol[k]] = S->vsave[k - p->vptr[r]];
}

static void
ssp_best2(struct ssp *S, int r, double *u1, int *j1, double *u2, int *j2)
{
	const uint8_t *mk;
	const void *row = ssp_row(S, r, &mk);
	S->k.best2(row, mk, S->v, S->nc, u1, j1, u2, j2);
	ssp_unhide(S, r);
}

/*
 * Column reduction, read row by row: v_j = min_i c_ij and column j takes its
 * argmin row when that row is still free (columns from the last, as in the
 * paper). Each assigned row then sits on its cheapest reduced column (0), which
 * is the invariant the shortest-path phase needs. Reduction transfer then lowers
 * the price of a column holding a single row by that row's margin to its second
 * best column, which keeps the invariant and leaves more room for later searches.
 * Only valid when every slot ends up filled (prices of columns left with free
 * slots would otherwise differ); the caller checks that.
 */
static int
ssp_column_reduction(struct ssp *S, struct diag *d)
{
	const struct prob *p = S->p;
	int nr = S->nr, nc = S->nc;
	double *cm = malloc((size_t)nc * sizeof(double));
	int *am = malloc((size_t)nc * sizeof(int));
	int *hits = calloc((size_t)nr, sizeof(int));
	if (!cm || !am || !hits) {
		free(cm), free(am), free(hits);
		return diag_set(d, DIAG_NOMEM, "out of memory in column reduction");
	}
	for (int j = 0; j < nc; j++) {
		cm[j] = INFINITY;
		am[j] = -1;
	}
	for (int i = 0; i < nr; i++) {
		if (p->pin[i] >= 0)
			continue;
		const uint8_t *mk = p->mask ? p->mask + (size_t)i * (size_t)nc : NULL;
		if (p->vptr && p->vptr[i] < p->vptr[i + 1]) {
			for (int j = 0; j < nc; j++) {
				if (!is_allowed(p, i, j))
					continue;
				double c = cost_at(p, i, j);
				if (c < cm[j]) {
					cm[j] = c;
					am[j] = i;
				}
			}
			continue;
		}
		S->k.colmin(S->base + (size_t)i * S->rowbytes, mk, cm, am, nc, i);
	}
	for (int j = nc - 1; j >= 0; j--) {
		if (S->cap[j] == 0 || am[j] < 0)
			continue;
		S->v[j] = cm[j];
		int i = am[j];
		if (hits[i]++ == 0)
			col_add(S, j, i);
	}
	for (int i = 0; i < nr; i++) {
		int j1 = S->row_col[i];
		if (hits[i] != 1 || j1 < 0 || S->cnt[j1] != 1)
			continue;
		double u1, u2;
		int k1, k2;
		ssp_best2(S, i, &u1, &k1, &u2, &k2);
		double mu = k1 == j1 ? u2 : u1;
		if (mu < INFINITY && mu > 0)
			S->v[j1] -= mu;
	}
	free(cm), free(am), free(hits);
	return 0;
}

/*
 * Augmenting row reduction: a free row takes its best column j1 (smallest
 * c - v); when j1 is strictly better than the runner-up, j1's price drops by the
 * margin so the row is indifferent, and j1's previous row is evicted and tries
 * again at once. Every assigned row stays on a cheapest reduced column, so the
 * duals stay valid. Prices only drop on columns that end up full with that one
 * row (capacity 1), so columns that keep free slots keep their common price. A
 * column with several slots takes rows only while it has room. On heavy ties
 * rows can chase each other: each pass is bounded by a budget of steps, the
 * rows left over go to the shortest-path phase.
 */
void
match__ssp_arr(struct ssp *S, int *freel, int *nfree)
{
	int n = *nfree, out = 0, k = 0;
	long budget = 8L * n + 64;
	while (k < n) {
		int i = freel[k++];
		if (--budget < 0) {
			freel[out++] = i;
			continue;
		}
		double u1, u2;
		int j1, j2;
		ssp_best2(S, i, &u1, &j1, &u2, &j2);
		if (j1 < 0) {
			freel[out++] = i;
			continue;
		}
		/* A row with a single allowed column has no margin to give: treat as a tie. */
		int strict = u1 < u2 && u2 < INFINITY;
		if (!strict && S->cnt[j1] == S->cap[j1] && j2 >= 0)
			j1 = j2; /* a tie: prefer the runner-up rather than evicting */
		int full = S->cnt[j1] == S->cap[j1];
		if (full && S->cap[j1] > 1) {
			freel[out++] = i;
			continue;
		}
		int i0 = full ? S->head[j1] : -1;
		if (strict && S->cap[j1] == 1)
			S->v[j1] -= u2 - u1;
		if (i0 >= 0)
			col_remove(S, i0);
		col_add(S, j1, i);
		if (i0 < 0)
			continue;
		if (strict)
			freel[--k] = i0;
		else
			freel[out++] = i0;
	}
	*nfree = out;
}

/* ---- match_assign -------------------------------------------------------- */

int
match_assign(const struct match_dense *m, const struct match_opts *o, struct match_result *res,
	     struct diag *d)
{
	memset(res, 0, sizeof(*res));
	struct prob p;
	struct ssp S;
	memset(&S, 0, sizeof(S));
	struct mcard mc = {NULL, NULL};
	int rc = -1, T = 0;
	int *freel = NULL;
	if (match__prob_init(&p, m, o, d) < 0)
		goto out;
	if (p.nfree == 0 || p.nc == 0) {
		rc = match__fill_result(&p, NULL, res, d);
		goto out;
	}
	/* p.cap is fixed from here on: count the slots (and the largest capacity) once. */
	long slots = 0;
	int maxcap = 0;
	for (int j = 0; j < p.nc; j++) {
		slots += p.cap[j];
		maxcap = p.cap[j] > maxcap ? p.cap[j] : maxcap;
	}
	if (p.mask == NULL && p.vptr == NULL)
		T = slots < p.nfree ? (int)slots : p.nfree;
	else if (match__max_cardinality(&p, &T, &mc, d) < 0)
		goto out;
	if (slots > 0 && slots < p.nfree) {
		int st = match__tall_zone_assign(&p, &mc, res, d);
		if (st <= 0) {
			rc = st;
			goto out;
		}
		match_result_fini(res); /* candidates could not fill every column: general path */
	} else if (mc.rc && T < p.nfree) {
		int st = match__wide_zone_assign(&p, &mc, res, d);
		if (st <= 0) {
			rc = st;
			goto out;
		}
		match_result_fini(res);
	}
	match__mcard_fini(&mc);
	if (match__ssp_init(&S, &p, T, d) < 0)
		goto out;
	freel = malloc(((size_t)p.nr + 1) * sizeof(int));
	if (freel == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory for %d rows", p.nr);
		goto out;
	}
	/* Column reduction needs every slot filled; the row reductions need no D. */
	if (!S.has_d && slots == T && maxcap <= 1 && ssp_column_reduction(&S, d) < 0)
		goto out;
	int nfree = 0;
	for (int i = 0; i < p.nr; i++)
		if (p.pin[i] < 0 && S.row_col[i] < 0)
			freel[nfree++] = i;
	if (!S.has_d)
		for (int pass = 0; pass < 2 && nfree > 0; pass++)
			match__ssp_arr(&S, freel, &nfree);
	for (int k = 0; k < nfree; k++) {
		if (match__ssp_augment(&S, freel[k]) < 0) {
			diag_set(d, DIAG_INTERNAL, "no augmenting path from row %d", freel[k]);
			goto out;
		}
	}
	struct sol s = {S.row_col, NULL, S.v, S.has_d ? S.kappa - S.v[S.nc] : 0, 0};
	rc = match__fill_result(&p, &s, res, d);
out:
	free(freel);
	match__mcard_fini(&mc);
	match__ssp_fini(&S);
	match__prob_fini(&p);
	if (rc < 0)
		match_result_fini(res);
	return rc;
}

/*
 * tall: the dense solver's road for problems with fewer slots than rows (and
 * for the part of any problem where every column fills with rows to spare):
 * candidate rows per column, solved from the columns, proved optimal on the
 * whole matrix by an exact pricing pass. Callers: zone.c (match__tall_assign,
 * for the part outside a zone). Contract: match_internal.h.
 */
#include "match/match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

/* ---- Tall problems: candidate rows per column ----------------------------- */

/*
 * When rows outnumber the slots, searching from rows is hopeless: most rows end
 * unmatched and each would explore the whole matched structure to learn it. The
 * transposed problem (columns augment into rows) is the natural one, but reading
 * columns of a row-major matrix is slow. So:
 *
 * 1. One row-major pass keeps, for each column j, its K_j = k_j + extra cheapest
 *    allowed rows (a small max-heap per column, fed by a vectorized threshold
 *    test) and rej_j, the exact minimum cost over the rows it did not keep.
 * 2. The sparse transposed problem on those candidates is solved exactly by
 *    shortest augmenting paths from the columns (Dijkstra with a binary heap over
 *    candidate rows; row prices u_i start at 0 and only drop, so unmatched rows
 *    keep u_i = 0 = alpha; column potentials v_j are tight on their rows).
 * 3. Proof of global optimality: every non-candidate pair (i, j) has
 *    c_ij >= rej_j and u_i <= 0, so u_i + v_j <= c_ij holds for all of them as
 *    soon as v_j <= rej_j. If every column is full (cardinality is then the
 *    maximum possible) and that inequality holds everywhere, the duals are a
 *    certificate for the whole matrix (see the top comment).
 * 4. When that quick test fails somewhere, an exact pricing pass checks
 *    u_i + v_j <= c_ij on every pair with the actual u_i. No violation: done.
 *    Otherwise the most violated pairs of each violating row are forced into
 *    the candidates, each column's rows are re-ranked by c_ij - uh_i (uh: the
 *    best row duals the current prices allow) and the sparse problem is solved
 *    again; every later round is accepted only by the exact pricing.
 * 5. If the candidates cannot fill the columns (every column wants the same few
 *    rows), a filling of every column (from the maximum matching, or any rows
 *    when nothing is forbidden) is forced into the candidates.
 * The caller guarantees that every column can be filled (see the zone below);
 * after 16 rounds it falls back to the general solver (never seen in tests).
 * Memory: O(rows + columns + candidates).
 */
struct tall {
	const struct prob *p;
	struct kernels k;
	int nr, nc, ncand;
	const uint8_t *skip;   /* rows left to the zone solver (NULL = none) */
	int *cap;              /* slots per column, 0 for the zone's columns */
	int nrows;             /* rows this solver may use */
	const int *mrc;        /* a maximum matching (row -> column), NULL = none known */
	int *xr, *xc, nx;      /* forced candidate pairs (a filling, priced pairs) */
	size_t xrcap, xccap;
	int *xcnt;             /* forced pairs per column */
	int *xord, *rmark;     /* scratch: forced pairs by column, row marks */
	int filled;            /* the filling is among the forced pairs */
	double *uh;            /* row dual estimates from the last pricing, NULL = 0 */
	int *K, *off, *len, *crow;
	double *ccost, *thr, *rej;
	int *loc, *glob;       /* row <-> candidate index */
	double *u, *dist, *fd; /* per candidate */
	int *rcol, *predc, *fstamp, *dstamp, *fin;
	double *v, *dcol;      /* per column */
	int *cnt, *entry, *cstamp, *scol;
	int nscol, nfin, stamp;
	double *hk;            /* binary heap of (distance, candidate) */
	int *hv, hn;
	int *hit;
	double *hitc;
};

static void
tall_free_solve(struct tall *t)
{
	free(t->loc), free(t->glob), free(t->u), free(t->dist), free(t->fd);
	free(t->rcol), free(t->predc), free(t->fstamp), free(t->dstamp), free(t->fin);
	free(t->v), free(t->dcol), free(t->cnt), free(t->entry), free(t->cstamp);
	free(t->scol), free(t->hk), free(t->hv);
	t->loc = t->glob = t->rcol = t->predc = t->fstamp = t->dstamp = t->fin = NULL;
	t->u = t->dist = t->fd = t->v = t->dcol = t->hk = NULL;
	t->cnt = t->entry = t->cstamp = t->scol = t->hv = NULL;
}

static void
tall_fini(struct tall *t)
{
	tall_free_solve(t);
	free(t->cap), free(t->xr), free(t->xc), free(t->xcnt), free(t->xord), free(t->rmark);
	free(t->uh);
	free(t->K), free(t->off), free(t->len), free(t->crow), free(t->ccost);
	free(t->thr), free(t->rej), free(t->hit), free(t->hitc);
}

/*
 * Ties between rows of one column are broken by a hash of (row, column), not by
 * the row: with integer scores many rows tie, and the lowest rows would be every
 * column's candidates alike (too few distinct rows to fill the columns).
 */
static uint32_t
tie_key(int i, int j)
{
	uint32_t h = (uint32_t)i * 0x9E3779B1u ^ (uint32_t)j * 0x85EBCA77u;
	h ^= h >> 15;
	h *= 0x2C1B3C6Du;
	h ^= h >> 12;
	return h;
}

/* Max-heap of column j's candidates by (cost, tie key, row): the worst kept one on top. */
static int
cand_worse(const struct tall *t, int j, int a, int b)
{
	if (t->ccost[a] != t->ccost[b])
		return t->ccost[a] > t->ccost[b];
	uint32_t ka = tie_key(t->crow[a], j), kb = tie_key(t->crow[b], j);
	if (ka != kb)
		return ka > kb;
	return t->crow[a] > t->crow[b];
}

static void
cand_swap(struct tall *t, int a, int b)
{
	double c = t->ccost[a];
	int r = t->crow[a];
	t->ccost[a] = t->ccost[b];
	t->crow[a] = t->crow[b];
	t->ccost[b] = c;
	t->crow[b] = r;
}

static void
cand_insert(struct tall *t, int j, int i, double c)
{
	int base = t->off[j], n = t->len[j];
	if (n < t->K[j]) {
		int q = n;
		t->crow[base + q] = i;
		t->ccost[base + q] = c;
		while (q > 0 && cand_worse(t, j, base + q, base + (q - 1) / 2)) {
			cand_swap(t, base + q, base + (q - 1) / 2);
			q = (q - 1) / 2;
		}
		t->len[j] = ++n;
	} else {
		/* a tie with the worst kept row (c == thr_j) enters only by its tie key */
		if (c == t->ccost[base] &&
		    (tie_key(i, j) > tie_key(t->crow[base], j) ||
		     (tie_key(i, j) == tie_key(t->crow[base], j) && i > t->crow[base]))) {
			if (c < t->rej[j])
				t->rej[j] = c;
			return;
		}
		if (t->ccost[base] < t->rej[j])
			t->rej[j] = t->ccost[base];
		t->crow[base] = i;
		t->ccost[base] = c;
		int q = 0;
		for (;;) {
			int l = 2 * q + 1, w = q;
			if (l < n && cand_worse(t, j, base + l, base + w))
				w = l;
			if (l + 1 < n && cand_worse(t, j, base + l + 1, base + w))
				w = l + 1;
			if (w == q)
				break;
			cand_swap(t, base + q, base + w);
			q = w;
		}
	}
	if (n == t->K[j])
		t->thr[j] = t->ccost[base];
}

/* Adds (i, j) to the forced candidate pairs (kept for every later round). */
static int
tall_force(struct tall *t, int i, int j, struct diag *d)
{
	size_t need = (size_t)t->nx + 1;
	if (vec_grow(&t->xr, &t->xrcap, need, sizeof(int), d) != 0 ||
	    vec_grow(&t->xc, &t->xccap, need, sizeof(int), d) != 0)
		return -1;
	t->xr[t->nx] = i;
	t->xc[t->nx++] = j;
	t->xcnt[j]++;
	return 0;
}

/* The forced pairs join their columns' lists after the heaps, each row once. */
static int
tall_add_forced(struct tall *t, struct diag *d)
{
	if (t->nx == 0)
		return 0;
	int nc = t->nc;
	free(t->xord);
	t->xord = malloc((size_t)t->nx * sizeof(int));
	int *pos = malloc(((size_t)nc + 1) * sizeof(int));
	if (!t->xord || !pos) {
		free(pos);
		return diag_set(d, DIAG_NOMEM, "out of memory for candidate pairs");
	}
	pos[0] = 0;
	for (int j = 0; j < nc; j++)
		pos[j + 1] = pos[j] + t->xcnt[j];
	for (int k = 0; k < t->nx; k++)
		t->xord[pos[t->xc[k]]++] = k;
	for (int i = 0; i < t->nr; i++)
		t->rmark[i] = -1;
	int k = 0;
	for (int j = 0; j < nc; j++) {
		int base = t->off[j];
		for (int q = base; q < base + t->len[j]; q++)
			t->rmark[t->crow[q]] = j;
		for (; k < pos[j]; k++) {
			int i = t->xr[t->xord[k]];
			if (t->rmark[i] == j)
				continue;
			t->rmark[i] = j;
			t->crow[base + t->len[j]] = i;
			t->ccost[base + t->len[j]] = cost_at(t->p, i, j);
			t->len[j]++;
		}
	}
	free(pos);
	return 0;
}

/* Step 1: the candidate pass over the whole matrix, row by row. */
static int
tall_select(struct tall *t, struct diag *d)
{
	const struct prob *p = t->p;
	int nc = t->nc;
	free(t->off), free(t->crow), free(t->ccost);
	t->off = malloc(((size_t)nc + 1) * sizeof(int));
	if (t->off == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory selecting candidates");
	t->off[0] = 0;
	for (int j = 0; j < nc; j++)
		t->off[j + 1] = t->off[j] + t->K[j] + t->xcnt[j];
	t->crow = malloc(((size_t)t->off[nc] + 1) * sizeof(int));
	t->ccost = malloc(((size_t)t->off[nc] + 1) * sizeof(double));
	if (!t->crow || !t->ccost)
		return diag_set(d, DIAG_NOMEM, "out of memory selecting candidates");
	for (int j = 0; j < nc; j++) {
		t->len[j] = 0;
		t->thr[j] = t->K[j] > 0 ? INFINITY : -INFINITY;
		t->rej[j] = INFINITY;
	}
	for (int i = 0; i < t->nr; i++) {
		if (p->pin[i] >= 0 || (t->skip && t->skip[i]))
			continue;
		int nh = 0;
		double o = t->uh ? t->uh[i] : 0.0;
		if (p->vptr && p->vptr[i] < p->vptr[i + 1]) {
			for (int j = 0; j < nc; j++) {
				if (!is_allowed(p, i, j))
					continue;
				double c = cost_at(p, i, j) - o;
				if (c <= t->thr[j]) {
					t->hit[nh] = j;
					t->hitc[nh++] = c;
				} else if (c < t->rej[j]) {
					t->rej[j] = c;
				}
			}
		} else {
			const uint8_t *mk = p->mask ? p->mask + (size_t)i * (size_t)nc : NULL;
			nh = t->k.cand(p->m->scores + (size_t)i * (size_t)nc * match_dtype_size(p->m->dtype),
				       mk, o, t->thr, t->rej, nc, t->hit, t->hitc);
		}
		for (int h = 0; h < nh; h++)
			cand_insert(t, t->hit[h], i, t->hitc[h]);
	}
	if (t->uh) /* the heaps ranked c - uh; the solver needs the costs themselves */
		for (int j = 0; j < nc; j++)
			for (int q = t->off[j]; q < t->off[j] + t->len[j]; q++)
				t->ccost[q] = cost_at(p, t->crow[q], j);
	return tall_add_forced(t, d);
}

static int
heap_less(const struct tall *t, int a, int b)
{
	if (t->hk[a] != t->hk[b])
		return t->hk[a] < t->hk[b];
	/* at equal distance a free row first: it ends the search at once (ties abound with integer scores) */
	int fa = t->rcol[t->hv[a]] < 0, fb = t->rcol[t->hv[b]] < 0;
	if (fa != fb)
		return fa;
	return t->hv[a] < t->hv[b];
}

static void
heap_swap(struct tall *t, int a, int b)
{
	double k = t->hk[a];
	int v = t->hv[a];
	t->hk[a] = t->hk[b];
	t->hv[a] = t->hv[b];
	t->hk[b] = k;
	t->hv[b] = v;
}

static void
heap_push(struct tall *t, double key, int v)
{
	int q = t->hn++;
	t->hk[q] = key;
	t->hv[q] = v;
	while (q > 0 && heap_less(t, q, (q - 1) / 2)) {
		heap_swap(t, q, (q - 1) / 2);
		q = (q - 1) / 2;
	}
}

static void
heap_pop(struct tall *t)
{
	t->hn--;
	heap_swap(t, 0, t->hn);
	int q = 0;
	for (;;) {
		int l = 2 * q + 1, w = q;
		if (l < t->hn && heap_less(t, l, w))
			w = l;
		if (l + 1 < t->hn && heap_less(t, l + 1, w))
			w = l + 1;
		if (w == q)
			break;
		heap_swap(t, q, w);
		q = w;
	}
}

static void
tall_relax(struct tall *t, int j, double dj)
{
	t->dcol[j] = dj;
	t->cstamp[j] = t->stamp;
	t->scol[t->nscol++] = j;
	for (int q = t->off[j]; q < t->off[j] + t->len[j]; q++) {
		int i = t->loc[t->crow[q]];
		if (t->fstamp[i] == t->stamp)
			continue;
		double nd = dj + t->ccost[q] - t->v[j] - t->u[i];
		if (t->dstamp[i] != t->stamp || nd < t->dist[i]) {
			t->dstamp[i] = t->stamp;
			t->dist[i] = nd;
			t->predc[i] = j;
			heap_push(t, nd, i);
		}
	}
}

/* One shortest augmenting path from a free slot of column j0; -1 if none. */
static int
tall_augment(struct tall *t, int j0)
{
	t->stamp++;
	t->nscol = t->nfin = t->hn = 0;
	tall_relax(t, j0, 0.0);
	int sink = -1;
	double delta = 0;
	while (t->hn > 0) {
		double dd = t->hk[0];
		int i = t->hv[0];
		heap_pop(t);
		if (t->fstamp[i] == t->stamp || dd > t->dist[i])
			continue;
		t->fstamp[i] = t->stamp;
		t->fin[t->nfin] = i;
		t->fd[t->nfin++] = dd;
		if (t->rcol[i] < 0) {
			sink = i;
			delta = dd;
			break;
		}
		int j = t->rcol[i];
		if (t->cstamp[j] != t->stamp) {
			t->entry[j] = i;
			tall_relax(t, j, dd);
		}
	}
	if (sink < 0)
		return -1;
	for (int k = 0; k < t->nfin; k++)
		if (t->fd[k] < delta)
			t->u[t->fin[k]] += t->fd[k] - delta;
	for (int k = 0; k < t->nscol; k++)
		t->v[t->scol[k]] += delta - t->dcol[t->scol[k]];
	int r = sink;
	for (;;) {
		int j = t->predc[r];
		t->rcol[r] = j;
		if (j == j0) {
			t->cnt[j0]++;
			break;
		}
		r = t->entry[j];
	}
	return 0;
}

/*
 * A filling of every column (row -> column) whose rows join the candidates once
 * the cheapest rows alone could not fill the columns: then every search finds a
 * free row (the candidates contain a complete filling). From the maximum
 * matching when one is known (it fills every column outside the zone), else,
 * nothing being forbidden, any rows will do.
 */
static int
tall_make_fill(struct tall *t, struct diag *d)
{
	const struct prob *p = t->p;
	int j = 0, used = 0;
	t->filled = 1;
	for (int i = 0; i < t->nr; i++) {
		if (p->pin[i] >= 0 || (t->skip && t->skip[i]))
			continue;
		int c = -1;
		if (t->mrc) {
			if (t->mrc[i] >= 0 && t->cap[t->mrc[i]] > 0)
				c = t->mrc[i];
		} else {
			while (j < t->nc && used == t->cap[j])
				j++, used = 0;
			if (j < t->nc) {
				c = j;
				used++;
			}
		}
		if (c >= 0 && tall_force(t, i, c, d) < 0)
			return -1;
	}
	return 0;
}

/* More candidates for column j: twice as many, at most every usable row. */
static int
tall_widen(struct tall *t, int j)
{
	if (t->K[j] >= t->nrows)
		return 0;
	t->K[j] = t->K[j] * 2 < t->nrows ? t->K[j] * 2 : t->nrows;
	return 1;
}

/*
 * Steps 2 and 3. Returns 0 when solved and certified, 3 when solved but some
 * column fails the quick test (v_j <= rej_j), 1 when the candidates could not
 * fill the columns (a filling was added), 2 when they cannot even so (not
 * expected), -1 on error. The caller
 * guarantees that every column can be filled in the whole matrix, so a search
 * that finds no free row only means that the candidates are too few: the
 * columns it went through get more and the next round adds a filling.
 */
static int
tall_solve(struct tall *t, struct diag *d)
{
	int nr = t->nr, nc = t->nc;
	tall_free_solve(t);
	t->loc = malloc((size_t)nr * sizeof(int));
	if (t->loc == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < nr; i++)
		t->loc[i] = -1;
	for (int j = 0; j < nc; j++)
		for (int q = t->off[j]; q < t->off[j] + t->len[j]; q++)
			t->loc[t->crow[q]] = 0;
	int n = 0;
	for (int i = 0; i < nr; i++)
		if (t->loc[i] == 0)
			n++;
	t->ncand = n;
	size_t nn = (size_t)n + 1, m = (size_t)nc + 1, e = (size_t)t->off[nc] + 1;
	t->glob = malloc(nn * sizeof(int));
	t->u = calloc(nn, sizeof(double));
	t->dist = malloc(nn * sizeof(double));
	t->fd = malloc(nn * sizeof(double));
	t->rcol = malloc(nn * sizeof(int));
	t->predc = malloc(nn * sizeof(int));
	t->fstamp = calloc(nn, sizeof(int));
	t->dstamp = calloc(nn, sizeof(int));
	t->fin = malloc(nn * sizeof(int));
	t->v = malloc(m * sizeof(double));
	t->dcol = malloc(m * sizeof(double));
	t->cnt = calloc(m, sizeof(int));
	t->entry = malloc(m * sizeof(int));
	t->cstamp = calloc(m, sizeof(int));
	t->scol = malloc(m * sizeof(int));
	t->hk = malloc(e * sizeof(double));
	t->hv = malloc(e * sizeof(int));
	if (!t->glob || !t->u || !t->dist || !t->fd || !t->rcol || !t->predc || !t->fstamp ||
	    !t->dstamp || !t->fin || !t->v || !t->dcol || !t->cnt || !t->entry || !t->cstamp ||
	    !t->scol || !t->hk || !t->hv)
		return diag_set(d, DIAG_NOMEM, "out of memory solving candidates");
	n = 0;
	for (int i = 0; i < nr; i++)
		if (t->loc[i] == 0) {
			t->glob[n] = i;
			t->loc[i] = n;
			t->rcol[n] = -1;
			n++;
		}
	t->stamp = 0;
	for (int j = 0; j < nc; j++) {
		double best = 0;
		for (int q = t->off[j]; q < t->off[j] + t->len[j]; q++)
			if (q == t->off[j] || t->ccost[q] < best)
				best = t->ccost[q];
		t->v[j] = best;
	}
	for (int j = 0; j < nc; j++)
		for (int s = 0; s < t->cap[j]; s++)
			if (tall_augment(t, j) < 0) {
				for (int k = 0; k < t->nscol; k++)
					tall_widen(t, t->scol[k]);
				if (t->filled)
					return 2;
				return tall_make_fill(t, d) < 0 ? -1 : 1;
			}
	if (t->uh) /* rej_j bounds c - uh, not c: only the exact pricing can tell */
		return 3;
	for (int j = 0; j < nc; j++)
		if (t->cap[j] > 0 && !(t->v[j] <= t->rej[j]))
			return 3;
	return 0;
}

/*
 * Exact pricing: every allowed pair (i, j) of this part is checked against
 * u_i + v_j <= c_ij (u_i = 0 for rows that are no candidate), one vectorized
 * pass over the matrix. The few most violated pairs of each row become forced
 * candidates. Candidate pairs hold the condition by construction; the tolerance
 * (1e-12 of the duals' size) keeps their rounding from being reported. Returns
 * the number of rows with a violation (0: the duals are a certificate), -1.
 * It also leaves uh_i = min(0, min_j c_ij - v_j), the best row duals these
 * prices allow, by which the next round ranks each column's rows (c - uh):
 * when a row effect dominates the scores (some rows good for every column),
 * ranking by c alone gives every column the same rows, while c - uh removes
 * the row effect and leaves each column the rows it prefers relative to others.
 */
static int
tall_price(struct tall *t, struct diag *d)
{
	enum { PER_ROW = 2 };
	const struct prob *p = t->p;
	int nc = t->nc, nbad = 0;
	double *vh = t->dcol, vmax = 0; /* dcol is free between searches */
	for (int j = 0; j < nc; j++) {
		vh[j] = t->cap[j] > 0 ? t->v[j] : -INFINITY;
		if (t->cap[j] > 0 && fabs(t->v[j]) > vmax)
			vmax = fabs(t->v[j]);
	}
	size_t rowbytes = (size_t)nc * match_dtype_size(p->m->dtype);
	if (t->uh == NULL && (t->uh = calloc((size_t)t->nr + 1, sizeof(double))) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory pricing");
	for (int i = 0; i < t->nr; i++) {
		if (p->pin[i] >= 0 || (t->skip && t->skip[i]))
			continue;
		double o = t->loc[i] >= 0 ? t->u[t->loc[i]] : 0.0;
		t->uh[i] = 0;
		o -= 1e-12 * (fabs(o) + vmax);
		int v0 = p->vptr ? p->vptr[i] : 0, v1 = p->vptr ? p->vptr[i + 1] : 0;
		for (int k = v0; k < v1; k++) { /* vetoed columns: hidden for this row */
			t->hitc[k - v0] = vh[p->vcol[k]];
			vh[p->vcol[k]] = -INFINITY;
		}
		const uint8_t *mk = p->mask ? p->mask + (size_t)i * (size_t)nc : NULL;
		int best[PER_ROW];
		double bestr[PER_ROW];
		int nb = 0;
		/* the row's smallest c - v; while violated, hide that column and go on */
		for (int l = 0; l < PER_ROW; l++) {
			double m, m2;
			int am, am2;
			t->k.best2((const char *)p->m->scores + (size_t)i * rowbytes, mk, vh, nc, &m,
				   &am, &m2, &am2);
			if (l == 0 && m < 0)
				t->uh[i] = m; /* the largest u_i the prices v allow, at most 0 */
			if (!(m < o) || am < 0)
				break;
			best[nb] = am;
			bestr[nb++] = vh[am];
			vh[am] = -INFINITY;
		}
		for (int l = 0; l < nb; l++)
			vh[best[l]] = bestr[l];
		for (int k = v0; k < v1; k++)
			vh[p->vcol[k]] = t->hitc[k - v0];
		if (nb == 0)
			continue;
		nbad++;
		for (int l = 0; l < nb; l++)
			if (tall_force(t, i, best[l], d) < 0)
				return -1;
	}
	return nbad;
}

/*
 * Solves the part outside the zone (rows with zrow[i] == 0, columns with
 * zcol[j] == 0; every such column can be filled, by mrc's rows when mrc is not
 * NULL, a maximum matching) into rowcol (its rows), u (its
 * rows; unmatched ones keep 0) and v (its columns). Returns 0, 1 when the caller
 * must use the general path, -1 on error.
 */
int
match__tall_assign(const struct prob *p, const uint8_t *zrow, const uint8_t *zcol, const int *mrc,
		   int *rowcol, double *u, double *v, struct diag *d)
{
	struct tall t;
	memset(&t, 0, sizeof(t));
	t.p = p;
	t.k = match__pick_kernels(p->m->dtype, p->maximize);
	t.nr = p->nr;
	t.nc = p->nc;
	t.skip = zrow;
	t.mrc = mrc;
	int rc = -1;
	size_t m = (size_t)t.nc + 1;
	t.cap = malloc(m * sizeof(int));
	t.K = malloc(m * sizeof(int));
	t.len = malloc(m * sizeof(int));
	t.thr = malloc(m * sizeof(double));
	t.rej = malloc(m * sizeof(double));
	t.hit = malloc(m * sizeof(int));
	t.hitc = malloc(m * sizeof(double));
	t.xcnt = calloc(m, sizeof(int));
	t.rmark = malloc(((size_t)t.nr + 1) * sizeof(int));
	if (!t.cap || !t.K || !t.len || !t.thr || !t.rej || !t.hit || !t.hitc || !t.xcnt ||
	    !t.rmark) {
		diag_set(d, DIAG_NOMEM, "out of memory for a tall problem");
		goto out;
	}
	for (int i = 0; i < t.nr; i++)
		if (p->pin[i] < 0 && !(zrow && zrow[i]))
			t.nrows++;
	for (int j = 0; j < t.nc; j++) {
		t.cap[j] = zcol && zcol[j] ? 0 : p->cap[j];
		int k = t.cap[j] > 0 ? t.cap[j] + 8 : 0;
		t.K[j] = k < t.nrows ? k : t.nrows;
	}
	int st = 1;
	for (int round = 0; round < 16 && st == 1; round++) {
		if (tall_select(&t, d) < 0 || (st = tall_solve(&t, d)) < 0)
			goto out;
		if (st == 3) { /* the quick test failed somewhere: price every pair */
			int nbad = tall_price(&t, d);
			if (nbad < 0)
				goto out;
			st = nbad > 0;
		}
	}
	if (st != 0) {
		rc = 1;
		goto out;
	}
	for (int c = 0; c < t.ncand; c++) {
		rowcol[t.glob[c]] = t.rcol[c];
		u[t.glob[c]] = t.u[c];
	}
	for (int j = 0; j < t.nc; j++)
		if (!(zcol && zcol[j]))
			v[j] = t.v[j];
	rc = 0;
out:
	tall_fini(&t);
	return rc;
}

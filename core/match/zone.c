/*
 * zone: the Gallai-Edmonds zones that split a dense problem whose maximum
 * matching leaves columns with free slots (tall problems) or rows unmatched
 * (wide ones) into two independent parts: one solved by the candidate method
 * (tall.c), the other by the row-side paths (dense.c), their duals joined by a
 * shift. Callers: match_assign (dense.c). Contract: match_internal.h.
 */
#include "match/match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Tall problems whose columns cannot all fill: the zone -------------- */

/*
 * When forbidden pairs keep the maximum cardinality T below the slots, some
 * columns keep free slots and the candidate method above cannot fill them. Take
 * any maximum matching M (max_cardinality's) and let the zone be the columns
 * reachable from a free slot by alternating paths (free slot -> any allowed row
 * -> that row's column in M), and the zone's rows be every row allowed to a zone
 * column. Gallai-Edmonds (slots as copies of their column) says this does not
 * depend on M, and that in EVERY maximum matching:
 *  - every zone row is matched, to a zone column (a zone row left unmatched would
 *    end an augmenting path; one matched outside would put its column in the zone);
 *  - every column outside the zone is full (a free slot there is in the zone);
 *  - zone columns take only zone rows (by definition of the zone's rows).
 * So the maximum-cardinality matchings are exactly (a matching of all zone rows
 * into the zone columns) + (a filling of every other column from the other
 * rows), and the optimum splits into two independent problems:
 *  1. the zone: fewer rows than slots, all rows matched: the row-side shortest
 *     augmenting paths below (no D; free-slot columns keep price 0);
 *  2. the rest: every column fills, rows to spare: the candidate method above.
 * Duals. Part 2 has unmatched rows at u = 0 = alpha and every u <= 0. Part 1 has
 * v <= 0 = its beta. The only pairs that join the parts are zone rows x outside
 * columns (allowed, never used). Shifting part 1 by s (u += s on zone rows,
 * v -= s on zone columns) keeps its own conditions and sets beta = -s; taking
 *   s = min( -max u_i (zone rows),  -max v_j (outside columns),
 *            min over allowed zone-row x outside pairs of c_ij - u_i - v_j )
 * gives u_i <= alpha, v_j <= beta and feasibility on the joining pairs, so the
 * two dual solutions together certify the whole problem.
 */

/* Does row i have an allowed pair with a column flagged in zc? */
static int
row_meets(const struct prob *p, int i, const uint8_t *zc)
{
	int nc = p->nc;
	if (p->vptr && p->vptr[i] < p->vptr[i + 1]) {
		for (int j = 0; j < nc; j++)
			if (zc[j] && is_allowed(p, i, j))
				return 1;
		return 0;
	}
	if (p->mask == NULL) {
		for (int j = 0; j < nc; j++)
			if (zc[j])
				return 1;
		return 0;
	}
	const uint8_t *mk = p->mask + (size_t)i * (size_t)nc;
	for (int j0 = 0; j0 < nc; j0 += 256) {
		int e = j0 + 256 < nc ? j0 + 256 : nc;
		unsigned acc = 0;
		for (int j = j0; j < e; j++) /* branch-free: vectorized */
			acc |= zc[j] & (mk[j] == 0);
		if (acc)
			return 1;
	}
	return 0;
}

/*
 * The zone of the maximum matching mc: zcol/zrow flags (nc, nr entries, zeroed
 * by the caller). Row-major sweeps, alternately forward and backward, each
 * adding the rows that meet a zone column (and their columns) as it goes; they
 * stop at the first sweep that adds no column. A long chain could need many
 * sweeps, so after four the remaining search is done column by column.
 * Returns the number of zone columns, or -1 (a zone row left unmatched: mc is
 * not maximum).
 */
static int
zone_find(const struct prob *p, const struct mcard *mc, uint8_t *zcol, uint8_t *zrow,
	  struct diag *d)
{
	int nr = p->nr, nc = p->nc, nz = 0;
	for (int j = 0; j < nc; j++)
		if (p->cap[j] > 0 && mc->cnt[j] < p->cap[j]) {
			zcol[j] = 1;
			nz++;
		}
	if (nz == 0)
		return 0;
	for (int sweep = 0; sweep < 4; sweep++) {
		int added = 0;
		for (int k = 0; k < nr; k++) {
			int i = sweep % 2 ? nr - 1 - k : k;
			if (p->pin[i] >= 0 || zrow[i] || !row_meets(p, i, zcol))
				continue;
			int j = mc->rc[i];
			if (j < 0)
				return diag_set(d, DIAG_INTERNAL,
						"row %d ends an augmenting path", i);
			zrow[i] = 1;
			if (!zcol[j]) {
				zcol[j] = 1;
				nz++;
				added++;
			}
		}
		if (added == 0)
			return nz;
	}
	/* Column by column: every zone column scans all rows once. */
	int *queue = malloc(((size_t)nc + 1) * sizeof(int));
	if (queue == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory finding the zone");
	int qh = 0, qt = 0;
	for (int j = 0; j < nc; j++)
		if (zcol[j])
			queue[qt++] = j;
	while (qh < qt) {
		int j = queue[qh++];
		for (int i = 0; i < nr; i++) {
			if (p->pin[i] >= 0 || zrow[i] || !is_allowed(p, i, j))
				continue;
			int c = mc->rc[i];
			if (c < 0) {
				free(queue);
				return diag_set(d, DIAG_INTERNAL,
						"row %d ends an augmenting path", i);
			}
			zrow[i] = 1;
			if (!zcol[c]) {
				zcol[c] = 1;
				nz++;
				queue[qt++] = c;
			}
		}
	}
	free(queue);
	return nz;
}

/*
 * Part 1: the zone rows into the zone columns by row-side shortest augmenting
 * paths (columns outside the zone are closed: price -inf). Every zone row is
 * matched and the zone has free slots, so there is no D and the free columns
 * keep price 0. Writes rowcol and u of the zone rows, v of the zone columns.
 */
static int
zone_assign(const struct prob *p, const uint8_t *zcol, const uint8_t *zrow, int *rowcol,
	    double *u, double *v, struct diag *d)
{
	struct ssp S;
	int rc = -1;
	int *freel = NULL;
	if (match__ssp_init(&S, p, p->nfree, d) < 0)
		goto out;
	for (int j = 0; j < p->nc; j++)
		if (!zcol[j]) {
			S.cap[j] = 0;
			S.v[j] = -INFINITY;
		}
	freel = malloc(((size_t)p->nr + 1) * sizeof(int));
	if (freel == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory for %d rows", p->nr);
		goto out;
	}
	int nfree = 0;
	for (int i = 0; i < p->nr; i++)
		if (zrow[i])
			freel[nfree++] = i;
	for (int pass = 0; pass < 2 && nfree > 0; pass++)
		match__ssp_arr(&S, freel, &nfree);
	for (int k = 0; k < nfree; k++)
		if (match__ssp_augment(&S, freel[k]) < 0) {
			diag_set(d, DIAG_INTERNAL, "zone row %d cannot be matched", freel[k]);
			goto out;
		}
	for (int i = 0; i < p->nr; i++)
		if (zrow[i]) {
			int j = S.row_col[i];
			rowcol[i] = j;
			u[i] = cost_at(p, i, j) - S.v[j];
		}
	for (int j = 0; j < p->nc; j++)
		if (zcol[j])
			v[j] = S.v[j];
	rc = 0;
out:
	free(freel);
	match__ssp_fini(&S);
	return rc;
}

/*
 * The shift s of the top comment of this section, applied: zone rows u += s,
 * zone columns v -= s; returns beta = -s. vx is scratch (nc + 1 doubles).
 */
static double
zone_shift(const struct prob *p, const uint8_t *zcol, const uint8_t *zrow, double *u,
	   double *v, double *vx)
{
	struct kernels k = match__pick_kernels(p->m->dtype, p->maximize);
	size_t rowbytes = (size_t)p->nc * match_dtype_size(p->m->dtype);
	double s = INFINITY;
	for (int j = 0; j < p->nc; j++) {
		int out = !zcol[j] && p->cap[j] > 0;
		vx[j] = out ? v[j] : -INFINITY; /* -inf: c - v = +inf, the column is skipped */
		if (out && -v[j] < s)
			s = -v[j];
	}
	for (int i = 0; i < p->nr; i++) {
		if (!zrow[i])
			continue;
		if (-u[i] < s)
			s = -u[i];
		const uint8_t *mk = p->mask ? p->mask + (size_t)i * (size_t)p->nc : NULL;
		int v0 = p->vptr ? p->vptr[i] : 0, v1 = p->vptr ? p->vptr[i + 1] : 0;
		double u1, u2;
		int j1, j2;
		if (v0 == v1) {
			k.best2((const char *)p->m->scores + (size_t)i * rowbytes, mk, vx, p->nc,
				&u1, &j1, &u2, &j2);
		} else { /* vetoed pairs: exact loop */
			u1 = INFINITY;
			for (int j = 0; j < p->nc; j++)
				if (vx[j] > -INFINITY && is_allowed(p, i, j) &&
				    cost_at(p, i, j) - vx[j] < u1)
					u1 = cost_at(p, i, j) - vx[j];
		}
		if (u1 - u[i] < s)
			s = u1 - u[i];
	}
	if (!(s < INFINITY))
		s = 0;
	for (int i = 0; i < p->nr; i++)
		if (zrow[i])
			u[i] += s;
	for (int j = 0; j < p->nc; j++)
		if (zcol[j])
			v[j] -= s;
	return -s;
}

/*
 * Tall problems (fewer slots than rows): the zone (when some column cannot
 * fill), the candidate method for the rest, the shift, the result. Returns 0,
 * 1 when the caller must use the general path, -1 on error.
 */
int
match__tall_zone_assign(const struct prob *p, const struct mcard *mc, struct match_result *res,
			struct diag *d)
{
	int nr = p->nr, nc = p->nc, rc = -1;
	uint8_t *zcol = calloc((size_t)nc + 1, 1), *zrow = calloc((size_t)nr + 1, 1);
	int *rowcol = malloc(((size_t)nr + 1) * sizeof(int));
	double *u = calloc((size_t)nr + 1, sizeof(double));
	double *v = calloc((size_t)nc + 1, sizeof(double));
	double *vx = malloc(((size_t)nc + 1) * sizeof(double));
	if (!zcol || !zrow || !rowcol || !u || !v || !vx) {
		diag_set(d, DIAG_NOMEM, "out of memory for a tall problem");
		goto out;
	}
	for (int i = 0; i < nr; i++)
		rowcol[i] = -1;
	int nz = mc && mc->rc ? zone_find(p, mc, zcol, zrow, d) : 0;
	if (nz < 0)
		goto out;
	int st = match__tall_assign(p, nz ? zrow : NULL, nz ? zcol : NULL, mc ? mc->rc : NULL, rowcol,
			     u, v, d);
	if (st != 0) {
		rc = st;
		goto out;
	}
	double beta = 0;
	if (nz > 0) {
		if (zone_assign(p, zcol, zrow, rowcol, u, v, d) < 0)
			goto out;
		beta = zone_shift(p, zcol, zrow, u, v, vx);
	}
	struct sol s = {rowcol, u, v, 0, beta};
	rc = match__fill_result(p, &s, res, d);
out:
	free(zcol), free(zrow), free(rowcol), free(u), free(v), free(vx);
	return rc;
}

/* ---- Rows that cannot all be matched: the row zone ------------------------ */

/*
 * The mirror of the zone above, for problems with slots to spare (not tall)
 * where forbidden pairs leave some rows unmatched. The row zone is the rows
 * reachable from a free row by alternating paths (free row -> any allowed
 * column -> that column's rows in M) and its columns every column allowed to
 * one of them. By Gallai-Edmonds, in every maximum matching the zone columns
 * are full, with zone rows only, and every other row is matched, outside the
 * zone. So: the zone (more rows than slots, every column fills) goes to the
 * candidate method; the rest (every row matched, slots to spare) to the
 * row-side paths without D, which are fast there; the shift of the rest's
 * duals (zone_shift, with the roles swapped) joins them. The row-side paths
 * with D over the whole problem spend most of their time proving, row after
 * row, that a zone row cannot get a better slot (7 s at 4000x2500).
 */

/* Zone rows and columns (flags zeroed by the caller); returns the zone row count. */
static int
row_zone_find(const struct prob *p, const struct mcard *mc, uint8_t *zr, uint8_t *zc,
	      struct diag *d)
{
	int nr = p->nr, nc = p->nc, nz = 0;
	int *first = malloc(((size_t)nc + 1) * sizeof(int)), *nxt = malloc(((size_t)nr + 1) * sizeof(int));
	int *queue = malloc(((size_t)nr + 1) * sizeof(int));
	if (!first || !nxt || !queue) {
		free(first), free(nxt), free(queue);
		return diag_set(d, DIAG_NOMEM, "out of memory finding the row zone");
	}
	for (int j = 0; j < nc; j++)
		first[j] = -1;
	int qt = 0;
	for (int i = 0; i < nr; i++) {
		if (p->pin[i] >= 0)
			continue;
		if (mc->rc[i] >= 0) {
			nxt[i] = first[mc->rc[i]];
			first[mc->rc[i]] = i;
		} else {
			zr[i] = 1;
			queue[qt++] = i;
		}
	}
	for (int qh = 0; qh < qt; qh++) {
		int i = queue[qh];
		const uint8_t *mk = p->mask ? p->mask + (size_t)i * (size_t)nc : NULL;
		int vet = p->vptr && p->vptr[i] < p->vptr[i + 1];
		for (int j = 0; j < nc; j++) {
			if (zc[j] || p->cap[j] == 0 || (mk && mk[j]) || (vet && is_vetoed(p, i, j)))
				continue;
			zc[j] = 1;
			for (int r = first[j]; r >= 0; r = nxt[r])
				if (!zr[r]) {
					zr[r] = 1;
					queue[qt++] = r;
				}
		}
	}
	nz = qt;
	free(first), free(nxt), free(queue);
	return nz;
}

/* Not tall, some rows unmatched: returns 0, 1 when the caller must use the general path, -1. */
int
match__wide_zone_assign(const struct prob *p, const struct mcard *mc, struct match_result *res,
			struct diag *d)
{
	int nr = p->nr, nc = p->nc, rc = -1;
	uint8_t *zr = calloc((size_t)nr + 1, 1), *zc = calloc((size_t)nc + 1, 1);
	uint8_t *restr = calloc((size_t)nr + 1, 1), *restc = calloc((size_t)nc + 1, 1);
	int *rowcol = malloc(((size_t)nr + 1) * sizeof(int));
	double *u = calloc((size_t)nr + 1, sizeof(double));
	double *v = calloc((size_t)nc + 1, sizeof(double));
	double *vx = malloc(((size_t)nc + 1) * sizeof(double));
	if (!zr || !zc || !restr || !restc || !rowcol || !u || !v || !vx) {
		diag_set(d, DIAG_NOMEM, "out of memory for a row zone");
		goto out;
	}
	if (row_zone_find(p, mc, zr, zc, d) < 0)
		goto out;
	for (int i = 0; i < nr; i++) {
		rowcol[i] = -1;
		restr[i] = p->pin[i] < 0 && !zr[i];
	}
	for (int j = 0; j < nc; j++)
		restc[j] = p->cap[j] > 0 && !zc[j];
	int st = match__tall_assign(p, restr, restc, mc->rc, rowcol, u, v, d);
	if (st != 0) {
		rc = st;
		goto out;
	}
	if (zone_assign(p, restc, restr, rowcol, u, v, d) < 0)
		goto out;
	double beta = zone_shift(p, restc, restr, u, v, vx);
	struct sol s = {rowcol, u, v, 0, beta};
	rc = match__fill_result(p, &s, res, d);
out:
	free(zr), free(zc), free(restr), free(restc), free(rowcol), free(u), free(v), free(vx);
	return rc;
}

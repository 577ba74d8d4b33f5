/*
 * problem: the dense problem as the solvers see it, and back. Builds struct prob
 * from the caller's matrix and options (vetoes indexed by row, pins applied,
 * scores checked finite and within MATCH_SCORE_MAX), computes the maximum cardinality T with a maximum
 * matching (Kuhn's augmenting paths), and writes a solution back into a
 * match_result in the caller's terms (pairs, total, duals, prices of the columns
 * without slots).
 * Callers: dense.c (match_assign), zone.c, certify.c. Contract: match_internal.h.
 */
#include "match/match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Building the problem ------------------------------------------------- */

void
match__prob_fini(struct prob *p)
{
	free(p->vptr);
	free(p->vcol);
	free(p->pin);
	free(p->cap);
	memset(p, 0, sizeof(*p));
}

static int
cmp_pair(const void *a, const void *b)
{
	const struct match_pair *x = a, *y = b;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return (x->col > y->col) - (x->col < y->col);
}

/* Vetoes sorted into per-row lists so a row's vetoes are found in O(log). */
static int
build_vetoes(struct prob *p, const struct match_opts *o, struct diag *d)
{
	if (o == NULL || o->nvetoed <= 0)
		return 0;
	if (o->vetoed == NULL)
		return diag_set(d, DIAG_INVALID, "nvetoed is %d but vetoed is NULL", o->nvetoed);
	int n = o->nvetoed;
	struct match_pair *s = malloc((size_t)n * sizeof(*s));
	p->vptr = calloc((size_t)p->nr + 1, sizeof(int));
	p->vcol = malloc((size_t)n * sizeof(int));
	if (s == NULL || p->vptr == NULL || p->vcol == NULL) {
		free(s);
		return diag_set(d, DIAG_NOMEM, "out of memory indexing %d vetoed pairs", n);
	}
	for (int k = 0; k < n; k++) {
		struct match_pair q = o->vetoed[k];
		if (q.row < 0 || q.row >= p->nr || q.col < 0 || q.col >= p->nc) {
			free(s);
			return diag_set(d, DIAG_INVALID,
					"vetoed pair %d (row %d, column %d) is out of range (%d x %d)",
					k, q.row, q.col, p->nr, p->nc);
		}
		s[k] = q;
	}
	qsort(s, (size_t)n, sizeof(*s), cmp_pair);
	int w = 0;
	for (int k = 0; k < n; k++) {
		if (w > 0 && s[k].row == s[w - 1].row && s[k].col == s[w - 1].col)
			continue;
		s[w++] = s[k];
	}
	for (int k = 0; k < w; k++) {
		p->vcol[k] = s[k].col;
		p->vptr[s[k].row + 1]++;
	}
	for (int i = 0; i < p->nr; i++) {
		int len = p->vptr[i + 1];
		if (len > p->maxveto)
			p->maxveto = len;
		p->vptr[i + 1] += p->vptr[i];
	}
	free(s);
	return 0;
}

/*
 * NaN, infinities and magnitudes above MATCH_SCORE_MAX (match.h says why) are
 * refused on every allowed pair; vetoed and masked ones are ignored. Integer
 * scores are always within the bound. One pass per row whose test, a NaN
 * failing the comparison too, is an integer OR the compiler can vectorize;
 * only a row that fails it is scanned again, pair by pair, for its error.
 */
static int
check_scores(const struct prob *p, struct diag *d)
{
	const struct match_dense *m = p->m;
	if (m->dtype == MATCH_I16 || m->dtype == MATCH_I32)
		return 0;
	for (int i = 0; i < p->nr; i++) {
		size_t base = (size_t)i * (size_t)p->nc;
		int bad = 0;
		if (m->dtype == MATCH_F64) {
			const double *s = (const double *)m->scores + base;
			for (int j = 0; j < p->nc; j++)
				bad |= !(fabs(s[j]) <= MATCH_SCORE_MAX);
		} else {
			const float *s = (const float *)m->scores + base;
			for (int j = 0; j < p->nc; j++)
				bad |= !(fabs((double)s[j]) <= MATCH_SCORE_MAX);
		}
		if (!bad)
			continue;
		for (int j = 0; j < p->nc; j++) {
			double x = score_at(m, i, j);
			if (fabs(x) <= MATCH_SCORE_MAX || !is_allowed(p, i, j))
				continue;
			if (isfinite(x))
				return diag_set(d, DIAG_INVALID,
						"score at row %d, column %d is %g, beyond the "
						"largest magnitude allowed (%g)",
						i, j, x, MATCH_SCORE_MAX);
			return diag_set(d, DIAG_INVALID, "score at row %d, column %d is %s", i, j,
					isnan(x) ? "NaN" : (x > 0 ? "+inf" : "-inf"));
		}
	}
	return 0;
}

int
match__prob_init(struct prob *p, const struct match_dense *m, const struct match_opts *o,
		 struct diag *d)
{
	memset(p, 0, sizeof(*p));
	if (m == NULL)
		return diag_set(d, DIAG_INVALID, "no score matrix");
	if (m->nr < 0 || m->nc < 0)
		return diag_set(d, DIAG_INVALID, "negative matrix shape %d x %d", m->nr, m->nc);
	if (match_dtype_size(m->dtype) == 0)
		return diag_set(d, DIAG_INVALID, "unknown score dtype %d", (int)m->dtype);
	if (m->scores == NULL && m->nr > 0 && m->nc > 0)
		return diag_set(d, DIAG_INVALID, "score matrix %d x %d has no data", m->nr, m->nc);
	p->m = m;
	p->nr = m->nr;
	p->nc = m->nc;
	p->maximize = o ? o->maximize != 0 : 0;
	p->mask = m->forbidden;
	p->pin = malloc(((size_t)p->nr + 1) * sizeof(int));
	p->cap = malloc(((size_t)p->nc + 1) * sizeof(int));
	if (p->pin == NULL || p->cap == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory for a %d x %d problem", p->nr,
				p->nc);
	for (int j = 0; j < p->nc; j++) {
		int k = (o && o->capacity) ? o->capacity[j] : 1;
		if (k < 0)
			return diag_set(d, DIAG_INVALID, "capacity of column %d is negative (%d)", j,
					k);
		p->cap[j] = k;
	}
	for (int i = 0; i < p->nr; i++)
		p->pin[i] = -1;
	if (build_vetoes(p, o, d) < 0)
		return -1;
	int npin = o ? o->npinned : 0;
	if (npin > 0 && o->pinned == NULL)
		return diag_set(d, DIAG_INVALID, "npinned is %d but pinned is NULL", npin);
	for (int k = 0; k < npin; k++) {
		struct match_pair q = o->pinned[k];
		if (q.row < 0 || q.row >= p->nr || q.col < 0 || q.col >= p->nc)
			return diag_set(d, DIAG_INVALID,
					"pinned pair %d (row %d, column %d) is out of range (%d x %d)",
					k, q.row, q.col, p->nr, p->nc);
		if (!is_allowed(p, q.row, q.col))
			return diag_set(d, DIAG_INVALID,
					"pinned pair %d (row %d, column %d) is forbidden", k, q.row,
					q.col);
		if (p->pin[q.row] >= 0)
			return diag_set(d, DIAG_INVALID,
					"pinned pair %d pins row %d a second time (already to column %d)",
					k, q.row, p->pin[q.row]);
		if (p->cap[q.col] == 0)
			return diag_set(d, DIAG_INVALID,
					"pinned pair %d (row %d, column %d) exceeds the capacity of column %d",
					k, q.row, q.col, q.col);
		p->pin[q.row] = q.col;
		p->cap[q.col]--;
	}
	p->nfree = p->nr - (npin > 0 ? npin : 0);
	/* No column can take more rows than there are: keeps slot sums in int range. */
	for (int j = 0; j < p->nc; j++)
		if (p->cap[j] > p->nfree)
			p->cap[j] = p->nfree;
	return check_scores(p, d);
}

/* ---- Maximum cardinality ------------------------------------------------- */

void
match__mcard_fini(struct mcard *mc)
{
	free(mc->rc);
	free(mc->cnt);
	mc->rc = mc->cnt = NULL;
}

/*
 * T for the rows not pinned, by augmenting paths (Kuhn) after a greedy start.
 * A search that fails leaves its columns marked: between two successful
 * augmentations nothing changes, so a column from which no free slot was
 * reachable stays useless and is not explored again; marks are reset only after a
 * success. That bounds the failed searches by O(pairs) per success.
 * When out is not NULL it receives the matching itself.
 */
int
match__max_cardinality(const struct prob *p, int *T, struct mcard *out, struct diag *d)
{
	int nr = p->nr, nc = p->nc;
	int *rc = malloc((size_t)nr * sizeof(int));     /* row -> column or -1 */
	int *cnt = calloc((size_t)nc + 1, sizeof(int)); /* rows per column */
	int *mark = calloc((size_t)nc + 1, sizeof(int));
	int *par = malloc((size_t)nc * sizeof(int)); /* row that reached the column */
	int *queue = malloc((size_t)nr * sizeof(int));
	int *first = malloc((size_t)nc * sizeof(int)); /* one row of each column... */
	int *nxt = malloc((size_t)nr * sizeof(int));   /* ...and the next one */
	if (!rc || !cnt || !mark || !par || !queue || !first || !nxt) {
		free(rc), free(cnt), free(mark), free(par), free(queue), free(first), free(nxt);
		return diag_set(d, DIAG_NOMEM, "out of memory computing the maximum cardinality");
	}
	for (int j = 0; j < nc; j++)
		first[j] = -1;
	int t = 0, stamp = 1;
	for (int i = 0; i < nr; i++) {
		rc[i] = -1;
		if (p->pin[i] >= 0)
			continue;
		for (int j = 0; j < nc; j++)
			if (cnt[j] < p->cap[j] && is_allowed(p, i, j)) {
				rc[i] = j;
				cnt[j]++;
				nxt[i] = first[j];
				first[j] = i;
				t++;
				break;
			}
	}
	for (int s = 0; s < nr; s++) {
		if (p->pin[s] >= 0 || rc[s] >= 0)
			continue;
		int qh = 0, qt = 0, found = -1;
		queue[qt++] = s;
		while (qh < qt && found < 0) {
			int x = queue[qh++];
			for (int j = 0; j < nc && found < 0; j++) {
				if (mark[j] == stamp || p->cap[j] == 0 || !is_allowed(p, x, j))
					continue;
				mark[j] = stamp;
				par[j] = x;
				if (cnt[j] < p->cap[j])
					found = j;
				else
					for (int r = first[j]; r >= 0; r = nxt[r])
						queue[qt++] = r;
			}
		}
		if (found < 0)
			continue;
		/* Flip the path: each row moves to the column it reached. */
		int j = found;
		cnt[j]++;
		for (;;) {
			int x = par[j], old = rc[x];
			if (old >= 0) { /* unlink x from its old column */
				int *pp = &first[old];
				while (*pp != x)
					pp = &nxt[*pp];
				*pp = nxt[x];
			}
			rc[x] = j;
			nxt[x] = first[j];
			first[j] = x;
			if (old < 0)
				break;
			j = old;
		}
		t++;
		stamp++;
	}
	free(mark), free(par), free(queue), free(first), free(nxt);
	if (out) {
		out->rc = rc;
		out->cnt = cnt;
	} else {
		free(rc), free(cnt);
	}
	*T = t;
	return 0;
}

/* ---- The result ---------------------------------------------------------- */

/*
 * v for columns without a free slot to offer: as high as dual feasibility allows,
 * at most beta (the price shared by the columns that keep a free slot).
 */
static double
zero_cap_price(const struct prob *p, const double *u, int j, double beta)
{
	double best = beta;
	for (int i = 0; i < p->nr; i++) {
		if (p->pin[i] >= 0 || !is_allowed(p, i, j))
			continue;
		double t = cost_at(p, i, j) - u[i];
		if (t < best)
			best = t;
	}
	return best;
}

int
match__fill_result(const struct prob *p, const struct sol *s, struct match_result *res,
		   struct diag *d)
{
	int nr = p->nr, nc = p->nc;
	res->nr = nr;
	res->nc = nc;
	res->row_to_col = malloc(((size_t)nr + 1) * sizeof(int));
	res->unmatched_rows = malloc(((size_t)nr + 1) * sizeof(int));
	res->u = malloc(((size_t)nr + 1) * sizeof(double));
	res->v = malloc(((size_t)nc + 1) * sizeof(double));
	if (!res->row_to_col || !res->unmatched_rows || !res->u || !res->v)
		return diag_set(d, DIAG_NOMEM, "out of memory for the result");
	double total = 0;
	for (int i = 0; i < nr; i++) {
		int j = p->pin[i] >= 0 ? p->pin[i] : (s ? s->row_col[i] : -1);
		if (j == nc)
			j = -1;
		res->row_to_col[i] = j;
		res->u[i] = 0;
		if (j >= 0) {
			total += score_at(p->m, i, j);
			res->npairs++;
			if (p->pin[i] < 0)
				res->u[i] = s->u ? s->u[i] : cost_at(p, i, j) - s->v[j];
		} else {
			res->unmatched_rows[res->nunmatched++] = i;
			res->u[i] = s ? (s->u ? s->u[i] : s->alpha) : 0;
		}
	}
	res->total = total;
	for (int j = 0; j < nc; j++)
		res->v[j] = s ? s->v[j] : 0;
	for (int j = 0; j < nc; j++)
		if (p->cap[j] == 0)
			res->v[j] = zero_cap_price(p, res->u, j, s ? s->beta : 0);
	return 0;
}

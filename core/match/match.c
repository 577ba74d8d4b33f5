/*
 * match.c: dense assignment (match_assign), its certificate (match_certify) and
 * the result helpers every solver shares (match_result_fini, match_result_pairs).
 * Contract: core/match/match.h. Callers: the policy pipeline, `tandem solve`, embedders.
 * Pure: no I/O, no globals, deterministic.
 *
 * THE PROBLEM. Rows i (agents), columns j with k_j slots, cost c_ij = score or
 * -score when maximizing, allowed pairs = not masked and not vetoed. Pinned pairs
 * are fixed first: their rows leave the problem and each takes one slot of its
 * column. We want the matching of maximum cardinality T and, among those, the
 * least total cost.
 *
 * THE REDUCTION (why it is correct). T is computed first (cheap when nothing is
 * forbidden: T = min(rows, slots); otherwise an augmenting-path max flow on the
 * allowed pairs, see max_cardinality). If T < rows we add one virtual column D
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
 * matrix by their duals (sections "Tall problems" below). Its mirror, slots to
 * spare but rows that cannot all be matched, splits off the "row zone" the
 * same way (section "Rows that cannot all be matched").
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
 * match_certify checks with its own search.
 */
#include "match/match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Result helpers ------------------------------------------------------ */

void
match_result_fini(struct match_result *res)
{
	if (res == NULL)
		return;
	free(res->row_to_col);
	free(res->unmatched_rows);
	free(res->u);
	free(res->v);
	memset(res, 0, sizeof(*res));
}

int
match_result_pairs(const struct match_result *res, struct match_pair **out, struct diag *d)
{
	*out = NULL;
	if (res->npairs == 0)
		return 0;
	struct match_pair *p = malloc((size_t)res->npairs * sizeof(*p));
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory listing %d pairs", res->npairs);
	int n = 0;
	for (int i = 0; i < res->nr; i++) {
		if (res->row_to_col[i] < 0)
			continue;
		if (n == res->npairs) {
			free(p);
			return diag_set(d, DIAG_INTERNAL, "result lists more pairs than npairs");
		}
		p[n].row = i;
		p[n].col = res->row_to_col[i];
		n++;
	}
	*out = p;
	return 0;
}

/* ---- The problem as the solver sees it ---------------------------------- */

struct prob {
	const struct match_dense *m;
	int nr, nc;
	int maximize;
	const uint8_t *mask; /* NULL = none */
	int *vptr, *vcol;    /* vetoes by row (CSR, sorted, deduplicated); NULL = none */
	int maxveto;         /* longest veto list of one row */
	int *pin;            /* per row: pinned column or -1 */
	int *cap;            /* per column: slots left after pins, clamped to the free rows */
	int nfree;           /* rows not pinned */
};

size_t
match_dtype_size(enum match_dtype t)
{
	switch (t) {
	case MATCH_F64:
		return sizeof(double);
	case MATCH_F32:
		return sizeof(float);
	case MATCH_I16:
		return sizeof(int16_t);
	case MATCH_I32:
		return sizeof(int32_t);
	}
	return 0;
}

static double
score_at(const struct match_dense *m, int i, int j)
{
	return match_score_at(m->dtype, m->scores, (size_t)i * (size_t)m->nc + (size_t)j);
}

static double
cost_at(const struct prob *p, int i, int j)
{
	double s = score_at(p->m, i, j);
	return p->maximize ? -s : s;
}

static int
is_vetoed(const struct prob *p, int i, int j)
{
	if (p->vptr == NULL)
		return 0;
	int lo = p->vptr[i], hi = p->vptr[i + 1];
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (p->vcol[mid] == j)
			return 1;
		if (p->vcol[mid] < j)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
is_allowed(const struct prob *p, int i, int j)
{
	if (p->mask && p->mask[(size_t)i * (size_t)p->nc + (size_t)j])
		return 0;
	return !is_vetoed(p, i, j);
}

static void
prob_fini(struct prob *p)
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

/* NaN and infinities are refused on every allowed pair (vetoed/masked ones are ignored). */
static int
check_finite(const struct prob *p, struct diag *d)
{
	const struct match_dense *m = p->m;
	if (m->dtype == MATCH_I16 || m->dtype == MATCH_I32)
		return 0;
	for (int i = 0; i < p->nr; i++) {
		size_t base = (size_t)i * (size_t)p->nc;
		const uint8_t *mk = p->mask ? p->mask + base : NULL;
		double acc = 0;
		/* x * 0 is 0 for finite x and NaN otherwise: one vectorizable sum per row. */
		if (m->dtype == MATCH_F64) {
			const double *s = (const double *)m->scores + base;
			for (int j = 0; j < p->nc; j++)
				acc += (mk && mk[j]) ? 0.0 : s[j] * 0.0;
		} else {
			const float *s = (const float *)m->scores + base;
			for (int j = 0; j < p->nc; j++)
				acc += (mk && mk[j]) ? 0.0 : (double)s[j] * 0.0;
		}
		if (acc == 0)
			continue;
		for (int j = 0; j < p->nc; j++) {
			double x = score_at(m, i, j);
			if (!isfinite(x) && is_allowed(p, i, j))
				return diag_set(d, DIAG_INVALID, "score at row %d, column %d is %s", i,
						j, isnan(x) ? "NaN" : (x > 0 ? "+inf" : "-inf"));
		}
	}
	return 0;
}

static int
prob_init(struct prob *p, const struct match_dense *m, const struct match_opts *o,
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
	return check_finite(p, d);
}

/* ---- Maximum cardinality ------------------------------------------------- */

/* A maximum matching: what max_cardinality leaves for the tall path. */
struct mcard {
	int *rc;  /* row -> column or -1 (pinned rows: -1) */
	int *cnt; /* rows per column, pins excluded */
};

static void
mcard_fini(struct mcard *mc)
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
static int
max_cardinality(const struct prob *p, int *T, struct mcard *out, struct diag *d)
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

/* ---- Kernels -------------------------------------------------------------- */

/*
 * The hot loops run over one contiguous matrix row, four columns at a time with
 * GCC vector extensions (SSE2 or AVX2 code, chosen at load time by
 * target_clones), and are instantiated per dtype and sense so they hold no
 * switch: the score is converted to double and negated for maximize in
 * registers, the matrix is never copied. Finalized, vetoed and slot-less columns
 * carry v_j = -inf, so c - v = +inf for them: no index lists, no branches.
 */
/* The vector helpers are static inline: the AVX argument-passing ABI note does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double match_v4d __attribute__((vector_size(32)));
typedef int64_t match_v4l __attribute__((vector_size(32)));
typedef int32_t match_v4i __attribute__((vector_size(16)));
typedef float match_v4f __attribute__((vector_size(16)));
typedef int16_t match_v4s __attribute__((vector_size(8)));
typedef uint8_t match_v4b __attribute__((vector_size(4)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define MATCH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MATCH_CLONES
#endif

static inline __attribute__((always_inline)) match_v4d
ld4_f64(const void *p, int j)
{
	match_v4d x;
	memcpy(&x, (const double *)p + j, sizeof(x));
	return x;
}

static inline __attribute__((always_inline)) match_v4d
ld4_f32(const void *p, int j)
{
	match_v4f x;
	memcpy(&x, (const float *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) match_v4d
ld4_i32(const void *p, int j)
{
	match_v4i x;
	memcpy(&x, (const int32_t *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) match_v4d
ld4_i16(const void *p, int j)
{
	match_v4s x;
	memcpy(&x, (const int16_t *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) double
ld1_f64(const void *p, int j)
{
	return ((const double *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_f32(const void *p, int j)
{
	return ((const float *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_i32(const void *p, int j)
{
	return ((const int32_t *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_i16(const void *p, int j)
{
	return ((const int16_t *)p)[j];
}

static inline __attribute__((always_inline)) match_v4d
vsel(match_v4l m, match_v4d a, match_v4d b)
{
	return (match_v4d)(((match_v4l)a & m) | ((match_v4l)b & ~m));
}

static inline __attribute__((always_inline)) match_v4l
mask4(const uint8_t *mk, int j)
{
	match_v4b b;
	memcpy(&b, mk + j, sizeof(b));
	return __builtin_convertvector(b, match_v4l) != 0;
}

static inline __attribute__((always_inline)) match_v4d
ldv(const double *p)
{
	match_v4d x;
	memcpy(&x, p, sizeof(x));
	return x;
}

/*
 * relax: d_j = min(d_j, o + c_rj - v_j) for every column, pred_j = r where it
 * improves; returns min_j d_j (a Dijkstra relaxation along row r).
 * colmin: cm_j = min(cm_j, c_rj), am_j = r where it improves (column reduction
 * read row by row).
 * best2: the smallest and second smallest c_rj - v_j with their columns.
 * cand: the columns where c_rj - o <= thr_j (listed with c_rj - o); rej_j takes
 * the minimum of c_rj - o over the others (candidate selection, tall path).
 */
typedef double (*relax_fn)(const void *row, const uint8_t *mk, const double *v, double *d,
			   int *pred, int nc, int r, double o, int *amin);
typedef void (*colmin_fn)(const void *row, const uint8_t *mk, double *cm, int *am, int nc,
			  int r);
typedef void (*best2_fn)(const void *row, const uint8_t *mk, const double *v, int nc,
			 double *u1, int *j1, double *u2, int *j2);
typedef int (*cand_fn)(const void *row, const uint8_t *mk, double o, const double *thr,
		       double *rej, int nc, int *hit, double *hitc);

#define MATCH_RELAX_BODY(DT, SGN, MASKED)                                                    \
	do {                                                                                 \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d nd = o + (SGN ld4_##DT(row, j)) - ldv(v + j);              \
			match_v4d dj = ldv(d + j);                                           \
			match_v4l better = nd < dj;                                          \
			if (MASKED)                                                          \
				better &= ~mask4(mk, j);                                     \
			dj = vsel(better, nd, dj);                                           \
			memcpy(d + j, &dj, sizeof(dj));                                      \
			match_v4i b32 = __builtin_convertvector(better, match_v4i);          \
			match_v4i pj;                                                        \
			memcpy(&pj, pred + j, sizeof(pj));                                   \
			pj = (rv & b32) | (pj & ~b32);                                       \
			memcpy(pred + j, &pj, sizeof(pj));                                   \
			match_v4l lt = dj < mv;                                              \
			mv = vsel(lt, dj, mv);                                               \
			mi = (lt & jv) | (~lt & mi);                                         \
			jv += 4;                                                             \
		}                                                                            \
	} while (0)

#define MATCH_KERNELS(DT, SN, SGN)                                                           \
	MATCH_CLONES static double relax_##DT##_##SN(                                        \
		const void *row, const uint8_t *mk, const double *restrict v,                \
		double *restrict d, int *restrict pred, int nc, int r, double o, int *amin)  \
	{                                                                                    \
		match_v4d mv = {INFINITY, INFINITY, INFINITY, INFINITY};                     \
		match_v4i rv = {r, r, r, r};                                                 \
		match_v4l mi = {-1, -1, -1, -1}, jv = {0, 1, 2, 3};                          \
		int j = 0;                                                                   \
		if (mk)                                                                      \
			MATCH_RELAX_BODY(DT, SGN, 1);                                        \
		else                                                                         \
			MATCH_RELAX_BODY(DT, SGN, 0);                                        \
		double m = INFINITY;                                                         \
		int am = -1;                                                                 \
		for (int l = 0; l < 4; l++)                                                  \
			if (mv[l] < m || (mv[l] == m && mi[l] < am)) {                       \
				m = mv[l];                                                   \
				am = (int)mi[l];                                             \
			}                                                                    \
		for (; j < nc; j++) {                                                        \
			double nd = o + (SGN ld1_##DT(row, j)) - v[j];                       \
			if (nd < d[j] && !(mk && mk[j])) {                                   \
				d[j] = nd;                                                   \
				pred[j] = r;                                                 \
			}                                                                    \
			if (d[j] < m) {                                                      \
				m = d[j];                                                    \
				am = j;                                                      \
			}                                                                    \
		}                                                                            \
		*amin = am;                                                                  \
		return m;                                                                    \
	}                                                                                    \
	MATCH_CLONES static void colmin_##DT##_##SN(const void *row, const uint8_t *mk,      \
						    double *restrict cm, int *restrict am,   \
						    int nc, int r)                           \
	{                                                                                    \
		match_v4i rv = {r, r, r, r};                                                 \
		match_v4l none = {0, 0, 0, 0};                                               \
		int j = 0;                                                                   \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d c = SGN ld4_##DT(row, j);                                  \
			match_v4d cj = ldv(cm + j);                                          \
			match_v4l lt = (c < cj) & (mk ? ~mask4(mk, j) : ~none);              \
			cj = vsel(lt, c, cj);                                                \
			memcpy(cm + j, &cj, sizeof(cj));                                     \
			match_v4i b32 = __builtin_convertvector(lt, match_v4i);              \
			match_v4i aj;                                                        \
			memcpy(&aj, am + j, sizeof(aj));                                     \
			aj = (rv & b32) | (aj & ~b32);                                       \
			memcpy(am + j, &aj, sizeof(aj));                                     \
		}                                                                            \
		for (; j < nc; j++) {                                                        \
			double c = SGN ld1_##DT(row, j);                                     \
			if (c < cm[j] && !(mk && mk[j])) {                                   \
				cm[j] = c;                                                   \
				am[j] = r;                                                   \
			}                                                                    \
		}                                                                            \
	}                                                                                    \
	MATCH_CLONES static void best2_##DT##_##SN(const void *row, const uint8_t *mk,       \
						   const double *restrict v, int nc,         \
						   double *u1, int *j1, double *u2, int *j2) \
	{                                                                                    \
		match_v4d inf4 = {INFINITY, INFINITY, INFINITY, INFINITY};                   \
		match_v4d m1 = inf4, m2 = inf4;                                              \
		match_v4l i1 = {-1, -1, -1, -1}, i2 = i1, jv = {0, 1, 2, 3};                 \
		int j = 0;                                                                   \
		for (; j + 4 <= nc; j += 4, jv += 4) {                                       \
			match_v4d x = (SGN ld4_##DT(row, j)) - ldv(v + j);                   \
			if (mk)                                                              \
				x = vsel(mask4(mk, j), inf4, x);                             \
			match_v4l lt1 = x < m1, lt2 = x < m2;                                \
			m2 = vsel(lt1, m1, vsel(lt2, x, m2));                                \
			i2 = (lt1 & i1) | (~lt1 & ((lt2 & jv) | (~lt2 & i2)));               \
			m1 = vsel(lt1, x, m1);                                               \
			i1 = (lt1 & jv) | (~lt1 & i1);                                       \
		}                                                                            \
		double b1 = INFINITY, b2 = INFINITY;                                         \
		int k1 = -1, k2 = -1;                                                        \
		/* merge the lanes, then the tail, keeping the lowest column on ties */      \
		double cand[8 + 3];                                                          \
		int cidx[8 + 3], nc8 = 0;                                                    \
		for (int l = 0; l < 4; l++) {                                                \
			cand[nc8] = m1[l], cidx[nc8++] = (int)i1[l];                         \
			cand[nc8] = m2[l], cidx[nc8++] = (int)i2[l];                         \
		}                                                                            \
		for (; j < nc; j++) {                                                        \
			cand[nc8] = (mk && mk[j]) ? INFINITY : (SGN ld1_##DT(row, j)) - v[j]; \
			cidx[nc8++] = j;                                                     \
		}                                                                            \
		for (int q = 0; q < nc8; q++) {                                              \
			double x = cand[q];                                                  \
			int c = cidx[q];                                                     \
			if (c < 0 || !(x < INFINITY))                                        \
				continue;                                                    \
			if (x < b1 || (x == b1 && c < k1)) {                                 \
				b2 = b1, k2 = k1;                                            \
				b1 = x, k1 = c;                                              \
			} else if (x < b2 || (x == b2 && c < k2)) {                          \
				b2 = x, k2 = c;                                              \
			}                                                                    \
		}                                                                            \
		*u1 = b1, *j1 = k1, *u2 = b2, *j2 = k2;                                      \
	}                                                                                    \
	MATCH_CLONES static int cand_##DT##_##SN(const void *row, const uint8_t *mk,         \
						 double o, const double *restrict thr,       \
						 double *restrict rej, int nc, int *hit,     \
						 double *hitc)                               \
	{                                                                                    \
		match_v4d inf4 = {INFINITY, INFINITY, INFINITY, INFINITY};                   \
		match_v4l none = {0, 0, 0, 0};                                               \
		int j = 0, nh = 0;                                                           \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d c = (SGN ld4_##DT(row, j)) - o;                            \
			match_v4l ok = mk ? ~mask4(mk, j) : ~none;                           \
			match_v4l lt = (c <= ldv(thr + j)) & ok;                             \
			match_v4d rj = ldv(rej + j);                                         \
			rj = vsel(~lt & ok & (c < rj), c, rj);                               \
			memcpy(rej + j, &rj, sizeof(rj));                                    \
			if (lt[0] | lt[1] | lt[2] | lt[3])                                   \
				for (int l = 0; l < 4; l++)                                  \
					if (lt[l]) {                                         \
						hit[nh] = j + l;                             \
						hitc[nh++] = c[l];                           \
					}                                                    \
		}                                                                            \
		(void)inf4;                                                                  \
		for (; j < nc; j++) {                                                        \
			if (mk && mk[j])                                                     \
				continue;                                                    \
			double c = (SGN ld1_##DT(row, j)) - o;                               \
			if (c <= thr[j]) {                                                   \
				hit[nh] = j;                                                 \
				hitc[nh++] = c;                                              \
			} else if (c < rej[j]) {                                             \
				rej[j] = c;                                                  \
			}                                                                    \
		}                                                                            \
		return nh;                                                                   \
	}

MATCH_KERNELS(f64, min, +)
MATCH_KERNELS(f64, max, -)
MATCH_KERNELS(f32, min, +)
MATCH_KERNELS(f32, max, -)
MATCH_KERNELS(i16, min, +)
MATCH_KERNELS(i16, max, -)
MATCH_KERNELS(i32, min, +)
MATCH_KERNELS(i32, max, -)

struct kernels {
	relax_fn relax;
	colmin_fn colmin;
	best2_fn best2;
	cand_fn cand;
};

static struct kernels
pick_kernels(enum match_dtype t, int maximize)
{
#define MATCH_K(DT, SN)                                                                    \
	((struct kernels){relax_##DT##_##SN, colmin_##DT##_##SN, best2_##DT##_##SN,          \
			  cand_##DT##_##SN})
	switch (t) {
	case MATCH_F64:
		return maximize ? MATCH_K(f64, max) : MATCH_K(f64, min);
	case MATCH_F32:
		return maximize ? MATCH_K(f32, max) : MATCH_K(f32, min);
	case MATCH_I16:
		return maximize ? MATCH_K(i16, max) : MATCH_K(i16, min);
	case MATCH_I32:
		return maximize ? MATCH_K(i32, max) : MATCH_K(i32, min);
	}
#undef MATCH_K
	return (struct kernels){NULL, NULL, NULL, NULL};
}

/* ---- Shortest augmenting paths ------------------------------------------ */

struct ssp {
	const struct prob *p;
	int nr, nc;     /* nc real columns; column nc is D when has_d */
	int has_d;
	double kappa;   /* cost of any row on D */
	relax_fn relax;
	struct kernels k;
	size_t rowbytes;
	const char *base;
	int *row_col;   /* row -> column, nc = on D, -1 = free */
	int *head;      /* column -> first row (nc + 1) */
	int *next, *prev; /* doubly linked rows of a column */
	int *cnt, *cap; /* nc + 1 */
	double *v, *dist;
	int *pred;
	int *fin;       /* finalized columns of the current search, in order */
	double *fin_d, *fin_v;
	int nfin, nexp;
	int tie_scan;   /* finalize all columns at the current minimum together */
	double *vsave;  /* v of a row's vetoed columns during a relaxation */
};

static void
ssp_fini(struct ssp *S)
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

static int
ssp_init(struct ssp *S, const struct prob *p, int T, struct diag *d)
{
	memset(S, 0, sizeof(*S));
	S->p = p;
	S->nr = p->nr;
	S->nc = p->nc;
	S->has_d = T < p->nfree;
	S->k = pick_kernels(p->m->dtype, p->maximize);
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
static int
ssp_augment(struct ssp *S, int s)
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
static void
ssp_arr(struct ssp *S, int *freel, int *nfree)
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

/* A solution in the caller's indices: row_col (-1 or nc = unmatched), prices, u optional. */
struct sol {
	const int *row_col;
	const double *u; /* NULL: u = c - v on matched rows, alpha on unmatched ones */
	const double *v;
	double alpha; /* potential of the unmatched rows */
	double beta;  /* price of the columns left with a free slot */
};

static int
fill_result(const struct prob *p, const struct sol *s, struct match_result *res,
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
	int *xr, *xc, nx, xmax; /* forced candidate pairs (a filling, priced pairs) */
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
	if (t->nx == t->xmax) {
		int n = t->xmax ? 2 * t->xmax : 1024;
		int *xr = realloc(t->xr, (size_t)n * sizeof(int));
		if (xr)
			t->xr = xr;
		int *xc = realloc(t->xc, (size_t)n * sizeof(int));
		if (xc)
			t->xc = xc;
		if (!xr || !xc)
			return diag_set(d, DIAG_NOMEM, "out of memory for candidate pairs");
		t->xmax = n;
	}
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
static int
tall_assign(const struct prob *p, const uint8_t *zrow, const uint8_t *zcol, const int *mrc,
	    int *rowcol, double *u, double *v, struct diag *d)
{
	struct tall t;
	memset(&t, 0, sizeof(t));
	t.p = p;
	t.k = pick_kernels(p->m->dtype, p->maximize);
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
	if (ssp_init(&S, p, p->nfree, d) < 0)
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
		ssp_arr(&S, freel, &nfree);
	for (int k = 0; k < nfree; k++)
		if (ssp_augment(&S, freel[k]) < 0) {
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
	ssp_fini(&S);
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
	struct kernels k = pick_kernels(p->m->dtype, p->maximize);
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
static int
tall_zone_assign(const struct prob *p, const struct mcard *mc, struct match_result *res,
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
	int st = tall_assign(p, nz ? zrow : NULL, nz ? zcol : NULL, mc ? mc->rc : NULL, rowcol,
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
	rc = fill_result(p, &s, res, d);
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
static int
wide_zone_assign(const struct prob *p, const struct mcard *mc, struct match_result *res,
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
	int st = tall_assign(p, restr, restc, mc->rc, rowcol, u, v, d);
	if (st != 0) {
		rc = st;
		goto out;
	}
	if (zone_assign(p, restc, restr, rowcol, u, v, d) < 0)
		goto out;
	double beta = zone_shift(p, restc, restr, u, v, vx);
	struct sol s = {rowcol, u, v, 0, beta};
	rc = fill_result(p, &s, res, d);
out:
	free(zr), free(zc), free(restr), free(restc), free(rowcol), free(u), free(v), free(vx);
	return rc;
}

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
	if (prob_init(&p, m, o, d) < 0)
		goto out;
	if (p.nfree == 0 || p.nc == 0) {
		rc = fill_result(&p, NULL, res, d);
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
	else if (max_cardinality(&p, &T, &mc, d) < 0)
		goto out;
	if (slots > 0 && slots < p.nfree) {
		int st = tall_zone_assign(&p, &mc, res, d);
		if (st <= 0) {
			rc = st;
			goto out;
		}
		match_result_fini(res); /* candidates could not fill every column: general path */
	} else if (mc.rc && T < p.nfree) {
		int st = wide_zone_assign(&p, &mc, res, d);
		if (st <= 0) {
			rc = st;
			goto out;
		}
		match_result_fini(res);
	}
	mcard_fini(&mc);
	if (ssp_init(&S, &p, T, d) < 0)
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
			ssp_arr(&S, freel, &nfree);
	for (int k = 0; k < nfree; k++) {
		if (ssp_augment(&S, freel[k]) < 0) {
			diag_set(d, DIAG_INTERNAL, "no augmenting path from row %d", freel[k]);
			goto out;
		}
	}
	struct sol s = {S.row_col, NULL, S.v, S.has_d ? S.kappa - S.v[S.nc] : 0, 0};
	rc = fill_result(&p, &s, res, d);
out:
	free(freel);
	mcard_fini(&mc);
	ssp_fini(&S);
	prob_fini(&p);
	if (rc < 0)
		match_result_fini(res);
	return rc;
}

/* ---- match_certify ------------------------------------------------------- */

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

int
match_certify(const struct match_dense *m, const struct match_opts *o,
	      const struct match_result *res, double tol, struct diag *d)
{
	struct prob p;
	int rc = -1;
	int *used = NULL;
	if (prob_init(&p, m, o, d) < 0)
		goto out;
	int nr = p.nr, nc = p.nc;
	if (res == NULL || res->nr != nr || res->nc != nc) {
		diag_set(d, DIAG_INVALID, "result shape does not match the %d x %d problem", nr,
			 nc);
		goto out;
	}
	if (nr > 0 && (res->row_to_col == NULL || res->u == NULL)) {
		diag_set(d, DIAG_INVALID, "result has no assignment or no row duals");
		goto out;
	}
	if (nc > 0 && res->v == NULL) {
		diag_set(d, DIAG_INVALID, "result has no column duals");
		goto out;
	}
	used = calloc((size_t)nc + 1, sizeof(int));
	if (used == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory certifying");
		goto out;
	}
	/* The matching itself: pins kept, pairs allowed, capacities, counts and total. */
	int npairs = 0, nun = 0;
	double total = 0, lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < nr; i++) {
		int j = res->row_to_col[i];
		if (p.pin[i] >= 0 && j != p.pin[i]) {
			diag_set(d, DIAG_INVALID, "row %d is pinned to column %d but matched to %d",
				 i, p.pin[i], j);
			goto out;
		}
		if (j < 0) {
			if (nun >= res->nunmatched || res->unmatched_rows[nun] != i) {
				diag_set(d, DIAG_INVALID, "row %d is unmatched but not listed so", i);
				goto out;
			}
			nun++;
			continue;
		}
		if (j >= nc || !is_allowed(&p, i, j)) {
			diag_set(d, DIAG_INVALID, "row %d is matched to forbidden column %d", i, j);
			goto out;
		}
		if (p.pin[i] < 0 && ++used[j] > p.cap[j]) {
			diag_set(d, DIAG_INVALID, "column %d holds more rows than its capacity", j);
			goto out;
		}
		npairs++;
		total += score_at(m, i, j);
	}
	if (npairs != res->npairs || nun != res->nunmatched) {
		diag_set(d, DIAG_INVALID, "result counts %d pairs and %d unmatched, found %d and %d",
			 res->npairs, res->nunmatched, npairs, nun);
		goto out;
	}
	/* Tolerance scale: the spread and size of the allowed costs. */
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			if (p.pin[i] >= 0 || !is_allowed(&p, i, j))
				continue;
			double c = cost_at(&p, i, j);
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
	double eps = tol * scale;
	if (!(fabs(total - res->total) <= eps * (npairs + 1) + 1e-12 * fabs(total))) {
		diag_set(d, DIAG_INVALID, "result total %.17g differs from the recomputed %.17g",
			 res->total, total);
		goto out;
	}
	int aug = find_augmenting(&p, res->row_to_col, used, d);
	if (aug == -2)
		goto out;
	if (aug >= 0) {
		diag_set(d, DIAG_INVALID,
			 "not maximum cardinality: an augmenting path starts at row %d", aug);
		goto out;
	}
	/* Dual conditions: alpha for unmatched rows, beta for columns with a free slot. */
	double alpha = -INFINITY, beta = -INFINITY;
	int have_alpha = 0, have_beta = 0;
	for (int i = 0; i < nr; i++)
		if (p.pin[i] < 0 && res->row_to_col[i] < 0 && !have_alpha) {
			alpha = res->u[i];
			have_alpha = 1;
		}
	for (int j = 0; j < nc; j++)
		if (used[j] < p.cap[j] && !have_beta) {
			beta = res->v[j];
			have_beta = 1;
		}
	for (int i = 0; i < nr; i++) {
		if (p.pin[i] >= 0)
			continue;
		double u = res->u[i];
		if (!isfinite(u)) {
			diag_set(d, DIAG_INVALID, "row dual u[%d] is not finite", i);
			goto out;
		}
		if (have_alpha && res->row_to_col[i] < 0 && fabs(u - alpha) > eps) {
			diag_set(d, DIAG_INVALID,
				 "unmatched rows %d and %d have different potentials (%.17g, %.17g)",
				 res->unmatched_rows[0], i, alpha, u);
			goto out;
		}
		if (have_alpha && u > alpha + eps) {
			diag_set(d, DIAG_INVALID,
				 "row %d has potential %.17g above the unmatched rows' %.17g", i, u,
				 alpha);
			goto out;
		}
	}
	for (int j = 0; j < nc; j++) {
		double v = res->v[j];
		if (!isfinite(v)) {
			diag_set(d, DIAG_INVALID, "column dual v[%d] is not finite", j);
			goto out;
		}
		if (have_beta && used[j] < p.cap[j] && fabs(v - beta) > eps) {
			diag_set(d, DIAG_INVALID,
				 "columns with free slots have different prices (column %d: %.17g vs %.17g)",
				 j, v, beta);
			goto out;
		}
		if (have_beta && v > beta + eps) {
			diag_set(d, DIAG_INVALID,
				 "column %d has price %.17g above the free columns' %.17g", j, v,
				 beta);
			goto out;
		}
	}
	for (int i = 0; i < nr; i++) {
		if (p.pin[i] >= 0)
			continue;
		for (int j = 0; j < nc; j++) {
			if (!is_allowed(&p, i, j))
				continue;
			double slack = cost_at(&p, i, j) - res->u[i] - res->v[j];
			if (slack < -eps) {
				diag_set(d, DIAG_INVALID,
					 "dual infeasible at row %d, column %d (reduced cost %.3g)", i,
					 j, slack);
				goto out;
			}
			if (res->row_to_col[i] == j && slack > eps) {
				diag_set(d, DIAG_INVALID,
					 "matched pair row %d, column %d is not tight (reduced cost %.3g)",
					 i, j, slack);
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(used);
	prob_fini(&p);
	return rc;
}

/*
 * match_internal: what the files of the dense assignment solver share, and
 * nothing else. Private to core/match/: not part of the primitive's contract
 * (that is match.h), never included from another layer.
 *
 * Who includes it: problem.c (the problem as the solver sees it, the maximum
 * cardinality, the result in the caller's terms), kernels.c (the vectorized row
 * loops), dense.c (shortest augmenting paths from the rows and match_assign),
 * tall.c (candidate rows per column), zone.c (the Gallai-Edmonds zones),
 * certify.c (match_certify); stable.c and prefs.c use only match__big_alloc.
 *
 * Contract: functions named match__* are internal (double underscore, like
 * libuv's uv__); they return 0 or -1 with a diag like the public ones unless
 * said otherwise. The accessors below are static inline: they sit in the hot
 * loops of every file that includes this header.
 */
#ifndef TANDEM_MATCH_INTERNAL_H
#define TANDEM_MATCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "match/match.h"

/* ---- The problem as the solver sees it (problem.c) ----------------------- */

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

static inline double
score_at(const struct match_dense *m, int i, int j)
{
	return match_score_at(m->dtype, m->scores, (size_t)i * (size_t)m->nc + (size_t)j);
}

static inline double
cost_at(const struct prob *p, int i, int j)
{
	double s = score_at(p->m, i, j);
	return p->maximize ? -s : s;
}

static inline int
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

static inline int
is_allowed(const struct prob *p, int i, int j)
{
	if (p->mask && p->mask[(size_t)i * (size_t)p->nc + (size_t)j])
		return 0;
	return !is_vetoed(p, i, j);
}

/*
 * Checks (m, o) and builds the problem: vetoes indexed by row, pins applied
 * (their rows leave, their slots are taken), scores on allowed pairs finite.
 * p must be released with match__prob_fini even on failure.
 */
int match__prob_init(struct prob *p, const struct match_dense *m, const struct match_opts *o,
		     struct diag *d);
void match__prob_fini(struct prob *p);

/* A maximum matching: what match__max_cardinality leaves for the tall path. */
struct mcard {
	int *rc;  /* row -> column or -1 (pinned rows: -1) */
	int *cnt; /* rows per column, pins excluded */
};

/* T, the maximum cardinality of the rows not pinned; out (optional) gets the matching. */
int match__max_cardinality(const struct prob *p, int *T, struct mcard *out, struct diag *d);
void match__mcard_fini(struct mcard *mc);

/* A solution in the caller's indices: row_col (-1 or nc = unmatched), prices, u optional. */
struct sol {
	const int *row_col;
	const double *u; /* NULL: u = c - v on matched rows, alpha on unmatched ones */
	const double *v;
	double alpha; /* potential of the unmatched rows */
	double beta;  /* price of the columns left with a free slot */
};

/* res from s (NULL: only the pins) in the caller's terms: pairs, total, duals. */
int match__fill_result(const struct prob *p, const struct sol *s, struct match_result *res,
		       struct diag *d);

/* ---- Row kernels (kernels.c) ---------------------------------------------- */

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

struct kernels {
	relax_fn relax;
	colmin_fn colmin;
	best2_fn best2;
	cand_fn cand;
};

/* The kernels of one dtype and sense (all NULL for a dtype outside the enum). */
struct kernels match__pick_kernels(enum match_dtype t, int maximize);

/* ---- Shortest augmenting paths from the rows (dense.c) -------------------- */

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

/* The search state for p with maximum cardinality T (D gets the rows beyond T). */
int match__ssp_init(struct ssp *S, const struct prob *p, int T, struct diag *d);
void match__ssp_fini(struct ssp *S);
/* Augmenting row reduction over freel[0..*nfree); leaves the rows still free there. */
void match__ssp_arr(struct ssp *S, int *freel, int *nfree);
/* One shortest augmenting path from free row s; -1 if none exists (no diag). */
int match__ssp_augment(struct ssp *S, int s);

/* ---- Tall problems (tall.c) and the zones (zone.c) ------------------------ */

/*
 * The candidate method on the rows with zrow[i] == 0 and the columns with
 * zcol[j] == 0 (NULL = all), every such column fillable (by mrc's rows when
 * mrc, a maximum matching, is not NULL). Writes rowcol and u of its rows, v of
 * its columns. Returns 0, 1 when the caller must use the general path, -1.
 */
int match__tall_assign(const struct prob *p, const uint8_t *zrow, const uint8_t *zcol,
		       const int *mrc, int *rowcol, double *u, double *v, struct diag *d);

/* Fewer slots than rows: returns 0, 1 when the caller must use the general path, -1. */
int match__tall_zone_assign(const struct prob *p, const struct mcard *mc,
			    struct match_result *res, struct diag *d);

/* Slots to spare, some rows unmatched: 0, 1 for the general path, -1. */
int match__wide_zone_assign(const struct prob *p, const struct mcard *mc,
			    struct match_result *res, struct diag *d);

/* ---- Memory (result.c) --------------------------------------------------- */

/*
 * A large block, not zeroed, on transparent huge pages when it is big (rank
 * tables and preference lists of stable matching); released with free().
 */
void *match__big_alloc(size_t size);

#endif

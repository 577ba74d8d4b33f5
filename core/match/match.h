/*
 * match: the matching primitive. Arrays in, arrays out: no I/O, no globals, no
 * SQLite, no Lua; deterministic for the same input. Callers are features/policies
 * (via the plugin host), `tandem solve`, and embedders.
 *
 * Rows are mentees (or whatever the caller puts there), columns are mentors.
 * Scores are caller-owned and never copied, whatever the sense or shape.
 *
 * Semantics shared by every assignment solver here:
 *  - A solution has maximum cardinality: as many rows matched as the forbidden
 *    pairs and the column capacities allow. Among those, it optimizes the total
 *    (sum of chosen scores), minimizing or maximizing as asked.
 *  - Forbidden pairs (mask, vetoed list) are never chosen. Pinned pairs are always
 *    part of the result (they consume capacity); pinning a forbidden pair or
 *    pinning a row or over-filling a column twice is an error.
 *  - Rows that end up unmatched are listed in result.unmatched_rows; that is not
 *    an error.
 *  - NaN or infinite scores, and scores whose magnitude exceeds MATCH_SCORE_MAX
 *    (on allowed pairs; forbidden ones may hold anything) are an error
 *    (DIAG_INVALID) naming the row and column. The certificates refuse them the
 *    same way. match_prefs_from_scores only compares scores and takes any
 *    finite value.
 *  - Ties are broken deterministically (same input, same output).
 *
 * Where each part lives: dense assignment in dense.c (with problem.c, kernels.c,
 * tall.c, zone.c; certificate in certify.c), sparse candidate lists in sparse.c
 * (with sparse_engine.c; certificate in sparse_certify.c), stable matching in
 * stable.c and prefs.c, the result helpers in result.c. The files of one solver
 * share a private header (match_internal.h, sparse_internal.h) that no other
 * layer includes.
 */
#ifndef TANDEM_MATCH_H
#define TANDEM_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

enum match_dtype { MATCH_F64, MATCH_F32, MATCH_I16, MATCH_I32 };

/*
 * The largest score magnitude the assignment solvers accept (inclusive). Why
 * 1e290 and not DBL_MAX: the solvers and certificates add and subtract scores.
 * A total sums at most n < 2^31 of them (< 2^31 * 1e290); a dual is the length
 * of an alternating path, at most 2n arcs of one score each (< 2^32 * 1e290);
 * a reduced cost c - u - v or a shortest-path label adds a few such terms
 * (< 2^34 * 1e290, about 1.7e300). All stay far below DBL_MAX (about 1.8e308),
 * with room for the intermediate sums. 1e300 would not do: 2^31 scores of 1e300
 * already overflow. Integer dtypes are always within the bound; float scores
 * (at most about 3.4e38) too, when finite.
 */
#define MATCH_SCORE_MAX 1e290

/* Bytes per score of a dtype; 0 for a value outside the enum. */
size_t match_dtype_size(enum match_dtype t);

/* Score k (row-major index) of a caller-owned array of dtype t, as a double. */
static inline double
match_score_at(enum match_dtype t, const void *scores, size_t k)
{
	switch (t) {
	case MATCH_F64:
		return ((const double *)scores)[k];
	case MATCH_F32:
		return ((const float *)scores)[k];
	case MATCH_I16:
		return ((const int16_t *)scores)[k];
	case MATCH_I32:
		return ((const int32_t *)scores)[k];
	}
	return 0;
}

/* A dense nr x nc score matrix, row-major with row stride nc, owned by the caller. */
struct match_dense {
	int nr, nc;
	enum match_dtype dtype;
	const void *scores;
	const uint8_t *forbidden; /* optional nr*nc mask, nonzero = forbidden; NULL = none */
};

struct match_pair {
	int row, col;
};

struct match_opts {
	int maximize;              /* 0 = minimize total, 1 = maximize */
	const int *capacity;       /* optional, nc entries >= 0; NULL = 1 for every column */
	const struct match_pair *pinned;
	int npinned;
	const struct match_pair *vetoed;
	int nvetoed;
};

/* What a solver returns. Free with match_result_fini(). */
struct match_result {
	int nr, nc;
	int *row_to_col;     /* nr entries; -1 = unmatched */
	int npairs;          /* rows matched */
	double total;        /* sum of the chosen scores, in the caller's sense */
	int *unmatched_rows; /* nunmatched entries, ascending */
	int nunmatched;
	/*
	 * Dual variables in minimization form (costs c = score, or -score when
	 * maximizing): u[nr] row potentials, v[nc] column prices, one price per column
	 * however large its capacity. NULL for stable matching.
	 */
	double *u, *v;
};

void match_result_fini(struct match_result *res);

/* The matched pairs as a list (ascending row); *out is malloc'd, caller frees. */
int match_result_pairs(const struct match_result *res, struct match_pair **out, struct diag *d);

/* ---- Dense assignment (dense.c, certify.c) ---------------------------------- */

/*
 * Optimal assignment, rectangular either way, with optional capacities, pinned
 * and vetoed pairs. Memory O(nr + nc) beyond the caller's matrix (plus
 * O(nr + sum capacity) bookkeeping); the matrix is never copied.
 */
int match_assign(const struct match_dense *m, const struct match_opts *o,
		 struct match_result *res, struct diag *d);

/*
 * Verifies res's optimality for (m, o) from its duals by complementary
 * slackness, within tolerance tol (relative to the score range). Returns 0 if
 * the certificate holds, -1 with a diag naming the first violated condition.
 */
int match_certify(const struct match_dense *m, const struct match_opts *o,
		  const struct match_result *res, double tol, struct diag *d);

/* ---- Sparse candidate lists (sparse.c, sparse_certify.c) -------------------- */

/*
 * CSR candidate lists: row i may be matched to cols[row_ptr[i] .. row_ptr[i+1])
 * with the parallel scores. About 12 bytes per candidate. Pairs not listed are
 * forbidden. Duplicate columns in one row are an error.
 */
struct match_sparse {
	int nr, nc;
	const int64_t *row_ptr; /* nr + 1 entries */
	const int32_t *cols;
	const double *scores;
};

int match_assign_sparse(const struct match_sparse *m, const struct match_opts *o,
			struct match_result *res, struct diag *d);

int match_certify_sparse(const struct match_sparse *m, const struct match_opts *o,
			 const struct match_result *res, double tol, struct diag *d);

/* ---- Stable matching (stable.c, prefs.c) ----------------------------------- */

/*
 * Preference lists in CSR form: entity i ranks items[ptr[i] .. ptr[i+1]), best
 * first. Lists may be incomplete: a pair is acceptable only if each side lists
 * the other. An item listed twice is an error.
 */
struct match_prefs {
	int n;
	const int *ptr; /* n + 1 entries */
	const int *items;
};

struct match_stable_input {
	int nr, nc;
	struct match_prefs rows; /* each row's ranking of columns */
	struct match_prefs cols; /* each column's ranking of rows */
	const int *capacity;     /* optional, nc entries; NULL = 1 each */
	int cols_propose;        /* 0 = rows (mentees) propose, 1 = columns (mentors) propose */
};

/* Deferred acceptance (hospitals/residents). res->u and res->v are NULL. */
int match_stable(const struct match_stable_input *in, struct match_result *res, struct diag *d);

/*
 * Builds preference lists from a score matrix: by_rows = 1 ranks, for each row,
 * the allowed columns by score (best first: highest when maximize, else lowest);
 * by_rows = 0 ranks, for each column, the allowed rows. Ties go to the lower
 * index. Allocates ptr and items; free with match_prefs_fini().
 */
int match_prefs_from_scores(const struct match_dense *m, int by_rows, int maximize,
			    struct match_prefs *out, struct diag *d);
void match_prefs_fini(struct match_prefs *p);

/*
 * Lists the blocking pairs of res under in (a pair (r,c), acceptable to both,
 * where r prefers c to its partner or is unmatched, and c prefers r to its
 * worst assignee or has a free slot). *out is malloc'd (may be NULL when none).
 * Returns the count, or -1 on error.
 */
int match_blocking_pairs(const struct match_stable_input *in, const struct match_result *res,
			 struct match_pair **out, struct diag *d);

#endif

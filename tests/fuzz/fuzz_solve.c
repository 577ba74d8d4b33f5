/*
 * fuzz_solve: `tandem solve`'s path from a CSV score matrix (io/matrix.h: numbers, an empty
 * cell forbids the pair) to the solvers (match/match.h), on arbitrary text.
 *
 * A matrix read (at most 400 cells, to keep each input fast) is solved with and without
 * column capacities (0 to 2, from the input's size), minimizing and maximizing, by the dense
 * and the sparse solvers and by deferred acceptance from both sides. Checked:
 *  - every solver succeeds on a finite matrix within the bound below, and its result is a matching: rows and
 *    columns in range, no forbidden pair, capacities kept, npairs, total and the unmatched
 *    rows as the assignment says;
 *  - the dense and sparse results carry certificates (match_certify*, tolerance 1e-9 of the
 *    score range), agree on the cardinality and the total, and for small problems equal the
 *    brute-force optimum (maximum cardinality, then the best total);
 *  - a stable matching has no blocking pair.
 * Exact comparisons are skipped when a score exceeds 1e6 in magnitude (sums would round).
 * A score beyond MATCH_SCORE_MAX (match.h: sums and differences of scores must fit a double)
 * must make both assignment solvers refuse the matrix (DIAG_INVALID, naming the pair);
 * stable matching only compares scores and still runs. Before that bound existed, the
 * sparse duals failed their certificate from about 9e307 on
 * (tests/fuzz/regressions/solve-sparse-dual-overflow.csv).
 */
#include "fuzz.h"

#include <math.h>

#include "io/matrix.h"
#include "match/match.h"

enum { MAX_CELLS = 400, BRUTE_STATES = 20000 };

struct problem {
	const struct matrix *m;
	const int *cap; /* NULL = 1 each */
	int maximize;
	int exact;      /* scores small enough for exact comparisons */
	int beyond;     /* some allowed score exceeds MATCH_SCORE_MAX: to be refused */
};

static int
allowed(const struct matrix *m, int r, int c)
{
	return m->forbidden == NULL || !m->forbidden[(size_t)r * m->nc + c];
}

static double
score(const struct matrix *m, int r, int c)
{
	return match_score_at(m->dtype, m->data, (size_t)r * m->nc + c);
}

static int
cap_of(const struct problem *p, int c)
{
	return p->cap ? p->cap[c] : 1;
}

/* res is a matching of p; its total recomputed into *total. */
static void
check_matching(const struct problem *p, const struct match_result *res, double *total)
{
	const struct matrix *m = p->m;
	FUZZ_CHECK(res->nr == m->nr && res->nc == m->nc);
	int *used = calloc((size_t)m->nc + 1, sizeof(int));
	FUZZ_CHECK(used != NULL);
	int pairs = 0, k = 0;
	double sum = 0;
	for (int r = 0; r < m->nr; r++) {
		int c = res->row_to_col[r];
		if (c < 0) {
			FUZZ_CHECK(c == -1);
			FUZZ_CHECK(k < res->nunmatched && res->unmatched_rows[k] == r);
			k++;
			continue;
		}
		FUZZ_CHECK(c < m->nc && allowed(m, r, c));
		FUZZ_CHECK(++used[c] <= cap_of(p, c));
		sum += score(m, r, c);
		pairs++;
	}
	FUZZ_CHECK(k == res->nunmatched && pairs == res->npairs);
	free(used);
	*total = sum;
}

static int
close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-6 * (1 + fabs(a) + fabs(b));
}

/* Brute force: the best (cardinality, total) over every assignment of rows to columns. */
struct brute {
	const struct problem *p;
	int *left; /* capacity left per column */
	int best_card;
	double best_total;
};

static void
brute_rec(struct brute *b, int r, int card, double total)
{
	const struct matrix *m = b->p->m;
	if (r == m->nr) {
		int better = card > b->best_card ||
			     (card == b->best_card && (b->p->maximize ? total > b->best_total
								      : total < b->best_total));
		if (better) {
			b->best_card = card;
			b->best_total = total;
		}
		return;
	}
	brute_rec(b, r + 1, card, total);
	for (int c = 0; c < m->nc; c++) {
		if (!allowed(m, r, c) || b->left[c] == 0)
			continue;
		b->left[c]--;
		brute_rec(b, r + 1, card + 1, total + score(m, r, c));
		b->left[c]++;
	}
}

/* 1 with the optimum filled when the problem is small enough to enumerate. */
static int
brute_force(const struct problem *p, int *card, double *total)
{
	double states = 1;
	for (int r = 0; r < p->m->nr; r++)
		states *= p->m->nc + 1;
	if (states > BRUTE_STATES)
		return 0;
	struct brute b = {p, calloc((size_t)p->m->nc + 1, sizeof(int)), -1, 0};
	FUZZ_CHECK(b.left != NULL);
	for (int c = 0; c < p->m->nc; c++)
		b.left[c] = cap_of(p, c);
	brute_rec(&b, 0, 0, 0);
	free(b.left);
	*card = b.best_card;
	*total = b.best_total;
	return 1;
}

static void
solve_assign(const struct problem *p)
{
	struct diag d;
	struct match_opts o = {.maximize = p->maximize, .capacity = p->cap};
	struct match_dense md = matrix_dense(p->m);
	struct match_result dense = {0}, sparse = {0};
	struct match_sparse sp = {0};
	if (p->beyond) {
		FUZZ_CHECK(match_assign(&md, &o, &dense, &d) == -1 && d.code == DIAG_INVALID);
		FUZZ_CHECK_MSG(strstr(d.msg, "beyond the largest magnitude") != NULL, d.msg);
		FUZZ_CHECK_MSG(matrix_to_sparse(p->m, &sp, &d) == 0, d.msg);
		FUZZ_CHECK(match_assign_sparse(&sp, &o, &sparse, &d) == -1 &&
			   d.code == DIAG_INVALID);
		FUZZ_CHECK_MSG(strstr(d.msg, "beyond the largest magnitude") != NULL, d.msg);
		matrix_sparse_fini(&sp);
		return;
	}
	FUZZ_CHECK_MSG(match_assign(&md, &o, &dense, &d) == 0, d.msg);
	double td, ts;
	check_matching(p, &dense, &td);
	if (p->exact)
		FUZZ_CHECK(close_enough(td, dense.total));
	FUZZ_CHECK_MSG(match_certify(&md, &o, &dense, 1e-9, &d) == 0, d.msg);

	FUZZ_CHECK_MSG(matrix_to_sparse(p->m, &sp, &d) == 0, d.msg);
	FUZZ_CHECK_MSG(match_assign_sparse(&sp, &o, &sparse, &d) == 0, d.msg);
	check_matching(p, &sparse, &ts);
	FUZZ_CHECK_MSG(match_certify_sparse(&sp, &o, &sparse, 1e-9, &d) == 0, d.msg);
	FUZZ_CHECK(sparse.npairs == dense.npairs);
	int card;
	double best;
	if (p->exact) {
		FUZZ_CHECK(close_enough(ts, sparse.total));
		FUZZ_CHECK(close_enough(td, ts));
		if (brute_force(p, &card, &best)) {
			FUZZ_CHECK(dense.npairs == card);
			FUZZ_CHECK(close_enough(td, best));
		}
	}
	matrix_sparse_fini(&sp);
	match_result_fini(&dense);
	match_result_fini(&sparse);
}

static void
solve_stable(const struct problem *p, int cols_propose)
{
	struct diag d;
	struct match_dense md = matrix_dense(p->m);
	struct match_prefs rows = {0}, cols = {0};
	FUZZ_CHECK_MSG(match_prefs_from_scores(&md, 1, p->maximize, &rows, &d) == 0, d.msg);
	FUZZ_CHECK_MSG(match_prefs_from_scores(&md, 0, p->maximize, &cols, &d) == 0, d.msg);
	struct match_stable_input in = {p->m->nr, p->m->nc, rows, cols, p->cap, cols_propose};
	struct match_result res = {0};
	FUZZ_CHECK_MSG(match_stable(&in, &res, &d) == 0, d.msg);
	double total;
	check_matching(p, &res, &total);
	struct match_pair *blocking = NULL;
	int nb = match_blocking_pairs(&in, &res, &blocking, &d);
	FUZZ_CHECK_MSG(nb == 0, nb < 0 ? d.msg : "a blocking pair");
	free(blocking);
	match_result_fini(&res);
	match_prefs_fini(&rows);
	match_prefs_fini(&cols);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("m.csv", data, size);
	struct matrix m;
	struct diag d;
	diag_clear(&d);
	if (matrix_read(path, &m, &d) != 0) {
		FUZZ_CHECK_MSG(strstr(d.msg, "m.csv") != NULL, d.msg);
		matrix_fini(&m);
		return 0;
	}
	FUZZ_CHECK(m.nr >= 0 && m.nc >= 0);
	if ((size_t)m.nr * (size_t)m.nc > MAX_CELLS || m.nr == 0 || m.nc == 0) {
		matrix_fini(&m);
		return 0;
	}
	double top = 0;
	for (int r = 0; r < m.nr; r++)
		for (int c = 0; c < m.nc; c++)
			if (allowed(&m, r, c) && fabs(score(&m, r, c)) > top)
				top = fabs(score(&m, r, c));
	int *caps = malloc((size_t)m.nc * sizeof(int));
	FUZZ_CHECK(caps != NULL);
	for (int c = 0; c < m.nc; c++)
		caps[c] = (int)((size_t)c * 7 + size) % 3;
	for (int withcap = 0; withcap < 2; withcap++) {
		for (int maximize = 0; maximize < 2; maximize++) {
			struct problem p = {&m, withcap ? caps : NULL, maximize, top <= 1e6,
					    top > MATCH_SCORE_MAX};
			solve_assign(&p);
			solve_stable(&p, 0);
			solve_stable(&p, 1);
		}
	}
	free(caps);
	matrix_fini(&m);
	return 0;
}

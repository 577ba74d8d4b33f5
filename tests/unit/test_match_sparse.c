/*
 * Unit tests for core/match/sparse*.c: the sparse assignment solver against brute
 * force on small random problems (capacities, vetoes, pins, deficient cases),
 * the certificate on larger ones, and every input error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}
static int
rnd_int(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

struct csr {
	int nr, nc;
	int64_t *row_ptr;
	int32_t *cols;
	double *scores;
};

static void
csr_free(struct csr *c)
{
	free(c->row_ptr);
	free(c->cols);
	free(c->scores);
}

/* Random CSR: each (r, c) listed with probability dens/100; integer scores 0..range-1. */
static void
csr_random(struct csr *g, int nr, int nc, int dens, int range)
{
	g->nr = nr;
	g->nc = nc;
	g->row_ptr = malloc(((size_t)nr + 1) * sizeof(int64_t));
	g->cols = malloc(((size_t)nr * nc + 1) * sizeof(int32_t));
	g->scores = malloc(((size_t)nr * nc + 1) * sizeof(double));
	int64_t e = 0;
	for (int r = 0; r < nr; r++) {
		g->row_ptr[r] = e;
		/* Shuffle-free: list columns in a random rotation to vary the order. */
		int off = rnd_int(nc > 0 ? nc : 1);
		for (int k = 0; k < nc; k++) {
			int c = (k + off) % nc;
			if (rnd_int(100) < dens) {
				g->cols[e] = c;
				g->scores[e] = range > 0
						   ? rnd_int(range)
						   : (double)(rnd() >> 11) / 9007199254740992.0;
				e++;
			}
		}
	}
	g->row_ptr[nr] = e;
}

static struct match_sparse
as_sparse(const struct csr *g)
{
	struct match_sparse m = {g->nr, g->nc, g->row_ptr, g->cols, g->scores};
	return m;
}

/* Brute force: best (cardinality, then total) over all assignments. */
struct brute {
	const struct csr *g;
	const struct match_opts *o;
	int *load, *pick;
	int best_card;
	double best_total;
};

static int
brute_allowed(const struct brute *b, int r, int64_t e)
{
	for (int k = 0; k < b->o->nvetoed; k++)
		if (b->o->vetoed[k].row == r && b->o->vetoed[k].col == b->g->cols[e])
			return 0;
	return 1;
}

static void
brute_rec(struct brute *b, int r, int card, double total)
{
	const struct csr *g = b->g;
	if (r == g->nr) {
		double sgn = b->o->maximize ? -1 : 1;
		if (card > b->best_card ||
		    (card == b->best_card && sgn * total < sgn * b->best_total - 1e-9)) {
			b->best_card = card;
			b->best_total = total;
		}
		return;
	}
	int pin = -1;
	for (int k = 0; k < b->o->npinned; k++)
		if (b->o->pinned[k].row == r)
			pin = b->o->pinned[k].col;
	if (pin < 0)
		brute_rec(b, r + 1, card, total);
	for (int64_t e = g->row_ptr[r]; e < g->row_ptr[r + 1]; e++) {
		int c = g->cols[e];
		int cap = b->o->capacity ? b->o->capacity[c] : 1;
		if ((pin >= 0 && c != pin) || b->load[c] >= cap || !brute_allowed(b, r, e))
			continue;
		b->load[c]++;
		brute_rec(b, r + 1, card + 1, total + g->scores[e]);
		b->load[c]--;
	}
}

static void
check_against_brute(const struct csr *g, const struct match_opts *o)
{
	struct brute b = {g, o, calloc((size_t)g->nc + 1, sizeof(int)), NULL, -1, 0};
	brute_rec(&b, 0, 0, 0);
	free(b.load);
	struct match_sparse m = as_sparse(g);
	struct match_result res;
	struct diag d = {0};
	int rc = match_assign_sparse(&m, o, &res, &d);
	if (rc != 0)
		fail_msg("solver failed: %s", d.msg);
	assert_int_equal(res.npairs, b.best_card);
	if (fabs(res.total - b.best_total) > 1e-9)
		fail_msg("total %g, brute force %g", res.total, b.best_total);
	if (match_certify_sparse(&m, o, &res, 1e-9, &d) != 0)
		fail_msg("certificate failed: %s", d.msg);
	match_result_fini(&res);
}

static void
test_brute_force_small(void **state)
{
	(void)state;
	for (int it = 0; it < 1500; it++) {
		int nr = 1 + rnd_int(6), nc = 1 + rnd_int(6);
		struct csr g;
		csr_random(&g, nr, nc, 20 + rnd_int(70), it % 3 == 0 ? 4 : (it % 3 == 1 ? 100 : 0));
		int cap[8];
		struct match_opts o = {0};
		o.maximize = it % 2;
		if (it % 4 >= 2) {
			for (int c = 0; c < nc; c++)
				cap[c] = rnd_int(3);
			o.capacity = cap;
		}
		struct match_pair veto[2] = {{0, 0}, {0, 0}};
		if (it % 5 == 0 && g.row_ptr[nr] > 0) {
			int r = rnd_int(nr);
			if (g.row_ptr[r + 1] > g.row_ptr[r]) {
				veto[0] = (struct match_pair){r, g.cols[g.row_ptr[r]]};
				o.vetoed = veto;
				o.nvetoed = 1;
			}
		}
		struct match_pair pin[1];
		if (it % 7 == 0) {
			int r = rnd_int(nr);
			for (int64_t e = g.row_ptr[r]; e < g.row_ptr[r + 1]; e++) {
				int c = g.cols[e];
				int ok = (o.capacity ? o.capacity[c] : 1) > 0;
				for (int k = 0; k < o.nvetoed; k++)
					if (veto[k].row == r && veto[k].col == c)
						ok = 0;
				if (ok) {
					pin[0] = (struct match_pair){r, c};
					o.pinned = pin;
					o.npinned = 1;
					break;
				}
			}
		}
		check_against_brute(&g, &o);
		csr_free(&g);
	}
}

/* A random problem with a hidden perfect matching (a permutation) plus k others per row. */
static void
csr_with_perfect(struct csr *g, int n, int k)
{
	g->nr = g->nc = n;
	g->row_ptr = malloc(((size_t)n + 1) * sizeof(int64_t));
	g->cols = malloc(((size_t)n * (k + 1) + 1) * sizeof(int32_t));
	g->scores = malloc(((size_t)n * (k + 1) + 1) * sizeof(double));
	int *perm = malloc((size_t)n * sizeof(int));
	int *mark = calloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++)
		perm[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = rnd_int(i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	int64_t e = 0;
	for (int r = 0; r < n; r++) {
		g->row_ptr[r] = e;
		g->cols[e] = perm[r];
		mark[perm[r]] = r + 1;
		g->scores[e++] = (double)(rnd() >> 11) / 9007199254740992.0;
		for (int t = 0; t < k; t++) {
			int c = rnd_int(n);
			if (mark[c] == r + 1)
				continue;
			mark[c] = r + 1;
			g->cols[e] = c;
			g->scores[e++] = (double)(rnd() >> 11) / 9007199254740992.0;
		}
	}
	g->row_ptr[n] = e;
	free(perm);
	free(mark);
}

static void
test_certified_medium(void **state)
{
	(void)state;
	struct csr g;
	csr_with_perfect(&g, 3000, 10);
	struct match_sparse m = as_sparse(&g);
	for (int maximize = 0; maximize < 2; maximize++) {
		struct match_opts o = {.maximize = maximize};
		struct match_result res, again;
		struct diag d = {0};
		assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
		assert_int_equal(res.npairs, 3000);
		assert_int_equal(res.nunmatched, 0);
		if (match_certify_sparse(&m, &o, &res, 1e-9, &d) != 0)
			fail_msg("%s", d.msg);
		/* Same input, same output. */
		assert_int_equal(match_assign_sparse(&m, &o, &again, &d), 0);
		assert_memory_equal(res.row_to_col, again.row_to_col, 3000 * sizeof(int));
		match_result_fini(&again);
		/* A swap of two rows' columns breaks the certificate (or feasibility). */
		int a = res.row_to_col[0], b = res.row_to_col[1];
		res.row_to_col[0] = b;
		res.row_to_col[1] = a;
		assert_int_equal(match_certify_sparse(&m, &o, &res, 1e-9, &d), -1);
		match_result_fini(&res);
	}
	csr_free(&g);
}

/* More rows than slots, and capacities: the deficient part is solved transposed. */
static void
test_deficient_medium(void **state)
{
	(void)state;
	struct csr g;
	csr_random(&g, 1500, 400, 2, 0);
	int *cap = malloc(400 * sizeof(int));
	for (int c = 0; c < 400; c++)
		cap[c] = 1 + c % 3;
	struct match_sparse m = as_sparse(&g);
	for (int variant = 0; variant < 4; variant++) {
		struct match_opts o = {.maximize = variant & 1,
				       .capacity = (variant & 2) ? cap : NULL};
		struct match_result res;
		struct diag d = {0};
		if (match_assign_sparse(&m, &o, &res, &d) != 0)
			fail_msg("variant %d: %s", variant, d.msg);
		assert_true(res.nunmatched > 0);
		if (match_certify_sparse(&m, &o, &res, 1e-9, &d) != 0)
			fail_msg("variant %d: %s", variant, d.msg);
		/* Unmatching a matched row breaks maximum cardinality. */
		for (int r = 0; r < g.nr; r++)
			if (res.row_to_col[r] >= 0) {
				res.row_to_col[r] = -1;
				break;
			}
		assert_int_equal(match_certify_sparse(&m, &o, &res, 1e-9, &d), -1);
		match_result_fini(&res);
	}
	/* Wide: 300 rows, 1000 columns; most columns stay free. */
	struct csr w;
	csr_random(&w, 300, 1000, 3, 50);
	struct match_sparse mw = as_sparse(&w);
	struct match_opts ow = {.maximize = 1};
	struct match_result rw;
	struct diag d = {0};
	assert_int_equal(match_assign_sparse(&mw, &ow, &rw, &d), 0);
	if (match_certify_sparse(&mw, &ow, &rw, 1e-9, &d) != 0)
		fail_msg("wide: %s", d.msg);
	match_result_fini(&rw);
	csr_free(&w);
	free(cap);
	csr_free(&g);
}

static void
expect_error(const struct csr *g, const struct match_opts *o, const char *text)
{
	struct match_sparse m = as_sparse(g);
	struct match_result res;
	struct diag d = {0};
	assert_int_equal(match_assign_sparse(&m, o, &res, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	if (strstr(d.msg, text) == NULL)
		fail_msg("message '%s' lacks '%s'", d.msg, text);
	assert_null(res.row_to_col);
}

static void
test_input_errors(void **state)
{
	(void)state;
	int64_t rp[] = {0, 2, 4};
	int32_t cols[] = {0, 1, 1, 0};
	double sc[] = {1, 2, 3, 4};
	struct csr g = {2, 2, rp, cols, sc};
	struct match_opts o = {0};

	sc[2] = NAN;
	expect_error(&g, &o, "row 1, column 1 is not finite");
	sc[2] = INFINITY;
	expect_error(&g, &o, "row 1, column 1 is not finite");
	/* A vetoed pair may hold anything. */
	struct match_pair veto = {1, 1};
	o.vetoed = &veto;
	o.nvetoed = 1;
	struct match_sparse m = as_sparse(&g);
	struct match_result res;
	struct diag d = {0};
	assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
	assert_int_equal(res.row_to_col[1], 0);
	assert_int_equal(res.row_to_col[0], 1);
	match_result_fini(&res);
	o.vetoed = NULL;
	o.nvetoed = 0;
	sc[2] = 3;

	cols[3] = 1;
	expect_error(&g, &o, "row 1 lists column 1 twice");
	cols[3] = 5;
	expect_error(&g, &o, "row 1 lists column 5, outside 0..1");
	cols[3] = 0;

	struct match_pair pin[2] = {{0, 0}, {0, 1}};
	o.pinned = pin;
	o.npinned = 2;
	expect_error(&g, &o, "row 0 is pinned twice");
	pin[1] = (struct match_pair){1, 0};
	expect_error(&g, &o, "column 0 is over-filled");
	int32_t cols2[] = {0, 1, 1};
	int64_t rp2[] = {0, 2, 3};
	struct csr g2 = {2, 2, rp2, cols2, sc};
	o.npinned = 1;
	pin[0] = (struct match_pair){1, 0};
	expect_error(&g2, &o, "pinned pair (1, 0) is forbidden");
	o.pinned = NULL;
	o.npinned = 0;
	int cap[2] = {1, -1};
	o.capacity = cap;
	expect_error(&g, &o, "capacity of column 1 is negative");
	o.capacity = NULL;
	rp[1] = 5;
	expect_error(&g, &o, "row_ptr decreases at row 1");
	rp[1] = 2;
}

/*
 * Scores at +-MATCH_SCORE_MAX are solved and certified (the duals stay finite);
 * beyond it, here the fuzzer's 9e307 (tests/fuzz/regressions/
 * solve-sparse-dual-overflow.csv, whose duals failed their certificate), the
 * solver and the certificate refuse the pair by name. Vetoed, it may hold
 * anything.
 */
static void
test_score_bound(void **state)
{
	(void)state;
	const double B = MATCH_SCORE_MAX;
	int64_t rp[] = {0, 2, 4};
	int32_t cols[] = {0, 1, 0, 1};
	double sc[] = {1, 2, 5, B};
	struct csr g = {2, 2, rp, cols, sc};
	struct match_sparse m = as_sparse(&g);
	struct match_result res;
	struct diag d = {0};
	for (int maximize = 0; maximize < 2; maximize++)
		for (int sign = -1; sign <= 1; sign += 2) {
			sc[3] = sign * B;
			struct match_opts o = {.maximize = maximize};
			assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
			if (match_certify_sparse(&m, &o, &res, 1e-9, &d) != 0)
				fail_msg("at the bound (max %d, %g): %s", maximize, sc[3], d.msg);
			/* The extreme pair is taken exactly when it is the better one. */
			int extreme = (sign > 0) == (maximize != 0);
			assert_int_equal(res.row_to_col[1], extreme ? 1 : 0);
			assert_true(res.total == (extreme ? 1 + sc[3] : 7));
			assert_true(isfinite(res.u[0]) && isfinite(res.u[1]));
			assert_true(isfinite(res.v[0]) && isfinite(res.v[1]));
			match_result_fini(&res);
		}

	/* Rows outnumbering the columns: the deficient part's duals, at the bound. */
	int64_t rp3[] = {0, 2, 4, 6};
	int32_t cols3[] = {0, 1, 0, 1, 0, 1};
	double sc3[] = {B, -B, -B, B, B, B};
	struct csr g3 = {3, 2, rp3, cols3, sc3};
	struct match_sparse m3 = as_sparse(&g3);
	for (int maximize = 0; maximize < 2; maximize++) {
		struct match_opts o = {.maximize = maximize};
		assert_int_equal(match_assign_sparse(&m3, &o, &res, &d), 0);
		if (match_certify_sparse(&m3, &o, &res, 1e-9, &d) != 0)
			fail_msg("deficient at the bound (max %d): %s", maximize, d.msg);
		assert_int_equal(res.npairs, 2);
		assert_true(res.total == (maximize ? 2 * B : -2 * B));
		match_result_fini(&res);
	}

	struct match_opts o = {0};
	sc[3] = 9e307;
	expect_error(&g, &o,
		     "score of row 1, column 1 is 9e+307, beyond the largest magnitude allowed "
		     "(1e+290)");
	sc[3] = -2e290;
	expect_error(&g, &o, "row 1, column 1 is -2e+290, beyond");
	sc[3] = nextafter(B, INFINITY);
	expect_error(&g, &o, "row 1, column 1 is");

	/* The certificate refuses it too, whatever result it is shown. */
	sc[3] = 3;
	assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
	sc[3] = 9e307;
	assert_int_equal(match_certify_sparse(&m, &o, &res, 1e-9, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	if (strstr(d.msg, "row 1, column 1 is 9e+307, beyond") == NULL)
		fail_msg("certificate message '%s'", d.msg);
	match_result_fini(&res);

	struct match_pair veto = {1, 1};
	o.vetoed = &veto;
	o.nvetoed = 1;
	assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
	assert_int_equal(res.row_to_col[1], 0);
	assert_int_equal(match_certify_sparse(&m, &o, &res, 1e-9, &d), 0);
	match_result_fini(&res);
}

static void
test_pins_and_empty(void **state)
{
	(void)state;
	/* Row 0 would rather have column 0, but it is pinned to column 1. */
	int64_t rp[] = {0, 2, 4, 4};
	int32_t cols[] = {0, 1, 0, 1};
	double sc[] = {1, 5, 2, 3};
	struct csr g = {3, 2, rp, cols, sc};
	struct match_pair pin = {0, 1};
	struct match_opts o = {.pinned = &pin, .npinned = 1};
	struct match_sparse m = as_sparse(&g);
	struct match_result res;
	struct diag d = {0};
	assert_int_equal(match_assign_sparse(&m, &o, &res, &d), 0);
	assert_int_equal(res.row_to_col[0], 1);
	assert_int_equal(res.row_to_col[1], 0);
	assert_int_equal(res.row_to_col[2], -1);
	assert_int_equal(res.nunmatched, 1);
	assert_int_equal(res.unmatched_rows[0], 2);
	assert_true(res.total == 7);
	assert_int_equal(match_certify_sparse(&m, &o, &res, 1e-9, &d), 0);
	match_result_fini(&res);

	/* No rows, no columns. */
	int64_t rp0[] = {0};
	struct match_sparse m0 = {0, 0, rp0, NULL, NULL};
	struct match_opts o0 = {0};
	assert_int_equal(match_assign_sparse(&m0, &o0, &res, &d), 0);
	assert_int_equal(res.npairs, 0);
	assert_int_equal(match_certify_sparse(&m0, &o0, &res, 1e-9, &d), 0);
	match_result_fini(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_brute_force_small), cmocka_unit_test(test_certified_medium),
	    cmocka_unit_test(test_deficient_medium),  cmocka_unit_test(test_input_errors),
	    cmocka_unit_test(test_pins_and_empty),    cmocka_unit_test(test_score_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

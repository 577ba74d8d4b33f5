/*
 * Unit tests for core/match/dense.c and its parts (problem, kernels, tall, zone), certify.c and result.c.
 * The oracle enumerates every assignment of small instances (capacities expanded,
 * memoized over the remaining capacities) and keeps the lexicographic best:
 * most pairs first, then the best total.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "match/match.h"

/* ---- A small deterministic generator ------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int
rnd(int n)
{
	return (int)(rng() % (uint64_t)n);
}

static double
rnd01(void)
{
	return (double)(rng() >> 11) * (1.0 / 9007199254740992.0);
}

static int
under_asan(void)
{
	const char *e = getenv("TANDEM_ASAN");
	return e && *e && strcmp(e, "0") != 0;
}

/* ---- Instances ---------------------------------------------------------- */

struct inst {
	int nr, nc;
	enum match_dtype dt;
	void *scores;
	double *val; /* the same scores as doubles, for the oracle */
	uint8_t *mask;
	int *cap;
	struct match_pair *pinned, *vetoed;
	int npinned, nvetoed;
	int maximize;
};

static void
inst_free(struct inst *x)
{
	free(x->scores);
	free(x->val);
	free(x->mask);
	free(x->cap);
	free(x->pinned);
	free(x->vetoed);
	memset(x, 0, sizeof(*x));
}

static void
inst_set(struct inst *x, int i, int j, double s)
{
	size_t k = (size_t)i * (size_t)x->nc + (size_t)j;
	switch (x->dt) {
	case MATCH_F64:
		((double *)x->scores)[k] = s;
		break;
	case MATCH_F32:
		((float *)x->scores)[k] = (float)s;
		s = (float)s;
		break;
	case MATCH_I16:
		((int16_t *)x->scores)[k] = (int16_t)s;
		break;
	case MATCH_I32:
		((int32_t *)x->scores)[k] = (int32_t)s;
		break;
	}
	x->val[k] = s;
}

static void
inst_alloc(struct inst *x, int nr, int nc, enum match_dtype dt)
{
	memset(x, 0, sizeof(*x));
	x->nr = nr;
	x->nc = nc;
	x->dt = dt;
	size_t n = (size_t)nr * (size_t)nc + 1;
	x->scores = calloc(n, 8);
	x->val = calloc(n, sizeof(double));
	assert_non_null(x->scores);
	assert_non_null(x->val);
}

static struct match_dense
inst_dense(const struct inst *x)
{
	struct match_dense m = {x->nr, x->nc, x->dt, x->scores, x->mask};
	return m;
}

static struct match_opts
inst_opts(const struct inst *x)
{
	struct match_opts o = {x->maximize, x->cap, x->pinned, x->npinned, x->vetoed, x->nvetoed};
	return o;
}

/* Random small instance: ties, forbidden pairs, capacities, pins and vetoes. */
static void
random_small(struct inst *x)
{
	int nr = 1 + rnd(8), nc = 1 + rnd(8);
	enum match_dtype dt = (enum match_dtype)rnd(4);
	inst_alloc(x, nr, nc, dt);
	x->maximize = rnd(2);
	int range = (int[]){2, 3, 5, 20, 1000}[rnd(5)];
	int frac = (dt == MATCH_F64 || dt == MATCH_F32) && rnd(2);
	int neg = rnd(2);
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			double s = rnd(range) - (neg ? range / 2 : 0);
			if (frac)
				s = (rnd01() - 0.5 * neg) * range;
			inst_set(x, i, j, s);
		}
	int mode = rnd(4); /* 0 none, 1 sparse forbidden, 2 dense forbidden, 3 rows all forbidden */
	if (mode) {
		x->mask = calloc((size_t)nr * (size_t)nc, 1);
		for (int i = 0; i < nr; i++) {
			int allf = mode == 3 && rnd(3) == 0;
			for (int j = 0; j < nc; j++)
				x->mask[i * nc + j] = allf || rnd(mode == 1 ? 6 : 2) == 0;
		}
	}
	if (rnd(2)) {
		x->cap = malloc((size_t)nc * sizeof(int));
		for (int j = 0; j < nc; j++)
			x->cap[j] = rnd(4);
	}
	if (rnd(3) == 0) {
		x->nvetoed = rnd(4);
		x->vetoed = malloc(4 * sizeof(struct match_pair));
		for (int k = 0; k < x->nvetoed; k++)
			x->vetoed[k] = (struct match_pair){rnd(nr), rnd(nc)};
	}
	if (rnd(3) == 0) {
		/* Valid pins only: allowed, one per row, within capacity. */
		x->pinned = malloc((size_t)nr * sizeof(struct match_pair));
		int *left = malloc((size_t)nc * sizeof(int));
		for (int j = 0; j < nc; j++)
			left[j] = x->cap ? x->cap[j] : 1;
		for (int i = 0; i < nr; i++) {
			if (rnd(3))
				continue;
			int j = rnd(nc);
			int ok = left[j] > 0 && !(x->mask && x->mask[i * nc + j]);
			for (int k = 0; k < x->nvetoed; k++)
				if (x->vetoed[k].row == i && x->vetoed[k].col == j)
					ok = 0;
			if (!ok)
				continue;
			left[j]--;
			x->pinned[x->npinned++] = (struct match_pair){i, j};
		}
		free(left);
	}
}

/*
 * Random small TALL instance (more rows than slots) where forbidden pairs often
 * keep columns from filling: department blocks, starved columns (few allowed
 * rows), dense random masks, or rows that every column wants most (too few
 * distinct candidates to fill the columns), or a row effect that dominates the
 * scores (the candidate method must rank rows by their reduced costs). Up to 6
 * columns so the oracle stays quick. With wide set, there are at least as many
 * slots as rows, and the masks leave rows unmatched instead (the row zone).
 */
static void
random_tall(struct inst *x, int wide)
{
	int nc = 1 + rnd(6), cap[6], slots = 0;
	for (int j = 0; j < nc; j++) {
		cap[j] = rnd(8) == 0 ? 0 : 1 + rnd(3);
		slots += cap[j];
	}
	int nr = wide ? 1 + rnd(slots + 1) : slots + 1 + rnd(6);
	enum match_dtype dt = (enum match_dtype)rnd(4);
	inst_alloc(x, nr, nc, dt);
	x->maximize = rnd(2);
	x->cap = malloc((size_t)nc * sizeof(int));
	memcpy(x->cap, cap, (size_t)nc * sizeof(int));
	/* 0 departments, 1 starved columns, 2 dense random, 3 shared favourites, 4 row effect */
	int shape = rnd(5);
	int range = (int[]){2, 4, 10, 100}[rnd(4)];
	int frac = (dt == MATCH_F64 || dt == MATCH_F32) && rnd(2);
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			double sc = frac ? rnd01() * range : rnd(range);
			if (shape == 3 && i < 3) /* rows 0-2 are everyone's favourites */
				sc = x->maximize ? range + 1 : -1;
			if (shape == 4)
				sc += 10 * range * (double)((i * 7) % 5);
			inst_set(x, i, j, sc);
		}
	x->mask = calloc((size_t)nr * (size_t)nc, 1);
	int ndep = 2 + rnd(2), pr = rnd(4);
	int drow[32], dcol[6];
	for (int i = 0; i < nr; i++)
		drow[i] = rnd(3) ? 0 : rnd(ndep); /* one big department */
	for (int j = 0; j < nc; j++)
		dcol[j] = rnd(3) ? 0 : rnd(ndep);
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			int f = 0;
			if (shape == 0)
				f = drow[i] == dcol[j] || rnd(10) < pr;
			else if (shape == 1)
				f = j % 2 == 0 ? rnd(nr) >= 1 + rnd(2) : rnd(10) < pr;
			else if (shape == 2)
				f = rnd(10) < 5 + pr;
			x->mask[i * nc + j] = (uint8_t)f;
		}
	if (rnd(4) == 0) {
		x->nvetoed = 1 + rnd(4);
		x->vetoed = malloc(4 * sizeof(struct match_pair));
		for (int k = 0; k < x->nvetoed; k++)
			x->vetoed[k] = (struct match_pair){rnd(nr), rnd(nc)};
	}
	if (rnd(4) == 0) {
		x->pinned = malloc((size_t)nr * sizeof(struct match_pair));
		int left[6];
		memcpy(left, cap, sizeof(left));
		for (int i = 0; i < nr; i++) {
			int j = rnd(nc);
			int ok = rnd(4) == 0 && left[j] > 0 && !x->mask[i * nc + j];
			for (int k = 0; k < x->nvetoed; k++)
				if (x->vetoed[k].row == i && x->vetoed[k].col == j)
					ok = 0;
			if (!ok)
				continue;
			left[j]--;
			x->pinned[x->npinned++] = (struct match_pair){i, j};
		}
	}
}

/* ---- The oracle ---------------------------------------------------------- */

struct oracle {
	const struct inst *x;
	int *pin;
	uint8_t *allowed;
	int radix[8];
	int *memo_card;
	double *memo_cost;
	uint8_t *memo_done;
	int nstates;
};

/* Best (cardinality, cost) for rows i.. given remaining capacities coded in state. */
static void
oracle_go(struct oracle *o, int i, int state, int *card, double *cost)
{
	const struct inst *x = o->x;
	if (i == x->nr) {
		*card = 0;
		*cost = 0;
		return;
	}
	size_t key = (size_t)i * (size_t)o->nstates + (size_t)state;
	if (o->memo_done[key]) {
		*card = o->memo_card[key];
		*cost = o->memo_cost[key];
		return;
	}
	int bc;
	double bv;
	oracle_go(o, i + 1, state, &bc, &bv); /* row i unmatched */
	if (o->pin[i] >= 0) {
		bc = -1; /* pinned rows are not part of the optimization */
		int c;
		double v;
		oracle_go(o, i + 1, state, &c, &v);
		bc = c;
		bv = v;
	} else {
		int rem = state;
		for (int j = 0; j < x->nc; j++) {
			int left = rem % o->radix[j];
			rem /= o->radix[j];
			if (left == 0 || !o->allowed[i * x->nc + j])
				continue;
			int mul = 1;
			for (int k = 0; k < j; k++)
				mul *= o->radix[k];
			int c;
			double v;
			oracle_go(o, i + 1, state - mul, &c, &v);
			c += 1;
			double s = x->val[i * x->nc + j];
			v += x->maximize ? -s : s;
			if (c > bc || (c == bc && v < bv - 1e-9)) {
				bc = c;
				bv = v;
			}
		}
	}
	o->memo_done[key] = 1;
	o->memo_card[key] = bc;
	o->memo_cost[key] = bv;
	*card = bc;
	*cost = bv;
}

/* Expected (pairs, total in the caller's sense) including pinned pairs. */
static void
oracle_solve(const struct inst *x, int *pairs, double *total)
{
	struct oracle o;
	memset(&o, 0, sizeof(o));
	o.x = x;
	int nr = x->nr, nc = x->nc;
	o.pin = malloc((size_t)nr * sizeof(int));
	o.allowed = calloc((size_t)nr * (size_t)nc + 1, 1);
	int left[8];
	for (int j = 0; j < nc; j++)
		left[j] = x->cap ? x->cap[j] : 1;
	for (int i = 0; i < nr; i++)
		o.pin[i] = -1;
	double pin_total = 0;
	for (int k = 0; k < x->npinned; k++) {
		o.pin[x->pinned[k].row] = x->pinned[k].col;
		left[x->pinned[k].col]--;
		pin_total += x->val[x->pinned[k].row * nc + x->pinned[k].col];
	}
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			int ok = !(x->mask && x->mask[i * nc + j]);
			for (int k = 0; k < x->nvetoed; k++)
				if (x->vetoed[k].row == i && x->vetoed[k].col == j)
					ok = 0;
			o.allowed[i * nc + j] = (uint8_t)ok;
		}
	int state = 0, mul = 1;
	o.nstates = 1;
	for (int j = 0; j < nc; j++) {
		o.radix[j] = left[j] + 1;
		state += left[j] * mul;
		mul *= o.radix[j];
	}
	o.nstates = mul;
	size_t n = (size_t)(nr + 1) * (size_t)o.nstates;
	o.memo_card = malloc(n * sizeof(int));
	o.memo_cost = malloc(n * sizeof(double));
	o.memo_done = calloc(n, 1);
	int c;
	double v;
	oracle_go(&o, 0, state, &c, &v);
	*pairs = c + x->npinned;
	*total = (x->maximize ? -v : v) + pin_total;
	free(o.pin);
	free(o.allowed);
	free(o.memo_card);
	free(o.memo_cost);
	free(o.memo_done);
}

/* ---- Checks --------------------------------------------------------------- */

static void
solve_and_certify(const struct inst *x, struct match_result *res)
{
	struct match_dense m = inst_dense(x);
	struct match_opts o = inst_opts(x);
	struct diag d;
	diag_clear(&d);
	int rc = match_assign(&m, &o, res, &d);
	if (rc != 0)
		fail_msg("match_assign failed: %s", d.msg);
	rc = match_certify(&m, &o, res, 1e-9, &d);
	if (rc != 0)
		fail_msg("certificate rejected (%dx%d dt=%d max=%d): %s", x->nr, x->nc, x->dt,
			 x->maximize, d.msg);
}

static void
test_brute_force(void **state)
{
	(void)state;
	int n = under_asan() ? 1500 : 6000;
	for (int t = 0; t < n; t++) {
		struct inst x;
		random_small(&x);
		struct match_result res;
		solve_and_certify(&x, &res);
		int pairs;
		double total;
		oracle_solve(&x, &pairs, &total);
		if (res.npairs != pairs || fabs(res.total - total) > 1e-6 * (1 + fabs(total)))
			fail_msg("instance %d (%dx%d dt=%d max=%d): got %d pairs total %.9g, oracle "
				 "%d pairs total %.9g",
				 t, x.nr, x.nc, x.dt, x.maximize, res.npairs, res.total, pairs, total);
		for (int k = 0; k < x.npinned; k++)
			assert_int_equal(res.row_to_col[x.pinned[k].row], x.pinned[k].col);
		match_result_fini(&res);
		inst_free(&x);
	}
}

static void random_large(struct inst *x, int nr, int nc, enum match_dtype dt, int ints);

/* Compares match_assign with the oracle; certifies. */
static void
check_with_oracle(const struct inst *x, int t)
{
	struct match_result res;
	solve_and_certify(x, &res);
	int pairs;
	double total;
	oracle_solve(x, &pairs, &total);
	if (res.npairs != pairs || fabs(res.total - total) > 1e-6 * (1 + fabs(total)))
		fail_msg("instance %d (%dx%d dt=%d max=%d): got %d pairs total %.9g, oracle "
			 "%d pairs total %.9g",
			 t, x->nr, x->nc, x->dt, x->maximize, res.npairs, res.total, pairs, total);
	for (int k = 0; k < x->npinned; k++)
		assert_int_equal(res.row_to_col[x->pinned[k].row], x->pinned[k].col);
	match_result_fini(&res);
}

static void
test_brute_force_tall(void **state)
{
	(void)state;
	int n = under_asan() ? 900 : 6000;
	for (int t = 0; t < n; t++) {
		struct inst x;
		random_tall(&x, t % 3 == 2);
		check_with_oracle(&x, t);
		inst_free(&x);
	}
}

/*
 * A path of columns: chain row k is allowed to columns k and k+1 only, so one
 * slot stays free and the zone runs along the whole chain. The chain rows sit
 * at shuffled indices so that row-order sweeps advance a step or two each (the
 * zone search then finishes column by column). Which column keeps the free
 * slot is the optimizer's choice. Extra rows are allowed nowhere: they make
 * the problem tall.
 */
static void
chain_instance(struct inst *x, int len, int extra)
{
	int nc = len + 1, nr = len + extra;
	inst_alloc(x, nr, nc, MATCH_F64);
	x->mask = malloc((size_t)nr * (size_t)nc);
	memset(x->mask, 1, (size_t)nr * (size_t)nc);
	int *perm = malloc((size_t)len * sizeof(int));
	for (int k = 0; k < len; k++)
		perm[k] = k;
	for (int k = len - 1; k > 0; k--) {
		int q = rnd(k + 1), tmp = perm[k];
		perm[k] = perm[q];
		perm[q] = tmp;
	}
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++)
			inst_set(x, i, j, rnd(7));
	for (int k = 0; k < len; k++) {
		x->mask[(size_t)perm[k] * (size_t)nc + (size_t)k] = 0;
		x->mask[(size_t)perm[k] * (size_t)nc + (size_t)k + 1] = 0;
	}
	x->cap = malloc((size_t)nc * sizeof(int));
	for (int j = 0; j < nc; j++)
		x->cap[j] = 1;
	free(perm);
}

static void
test_tall_zone_shapes(void **state)
{
	(void)state;
	/* Small chains against the oracle. */
	for (int t = 0; t < 200; t++) {
		struct inst x;
		chain_instance(&x, 2 + rnd(5), 2 + rnd(3));
		x.maximize = rnd(2);
		check_with_oracle(&x, t);
		inst_free(&x);
	}
	/* Long chains: certified (the zone search needs more than a few sweeps). */
	for (int t = 0; t < 4; t++) {
		struct inst x;
		chain_instance(&x, under_asan() ? 60 : 300, 50);
		x.maximize = t % 2;
		struct match_result res;
		solve_and_certify(&x, &res);
		assert_int_equal(res.npairs, x.nc - 1);
		match_result_fini(&res);
		inst_free(&x);
	}
	/*
	 * Every column ranks the rows almost alike (a row value plus small noise):
	 * the first candidate lists share their rows, cannot fill the columns and
	 * must be widened. Certified.
	 */
	int nr = under_asan() ? 600 : 3000, nc = under_asan() ? 60 : 200;
	struct inst x;
	random_large(&x, nr, nc, MATCH_F64, 0);
	for (int i = 0; i < nr; i++) {
		double base = rnd01();
		for (int j = 0; j < nc; j++)
			inst_set(&x, i, j, base + 1e-3 * rnd01());
	}
	x.cap = malloc((size_t)nc * sizeof(int));
	for (int j = 0; j < nc; j++)
		x.cap[j] = 1 + rnd(3);
	struct match_result res;
	solve_and_certify(&x, &res);
	match_result_fini(&res);
	inst_free(&x);
}

/*
 * Policy-shaped inputs: mentees x mentors, capacities 1-3 with 0.6-1.0x as many
 * slots as rows, department blocks (one big department whose mentors cannot all
 * fill) plus random forbidden pairs, integer scores with ties, vetoes and pins.
 */
static void
policy_instance(struct inst *x, int nr, int nc, enum match_dtype dt, int big)
{
	inst_alloc(x, nr, nc, dt);
	x->maximize = rnd(2);
	x->cap = malloc((size_t)nc * sizeof(int));
	x->mask = malloc((size_t)nr * (size_t)nc);
	int *dr = malloc((size_t)nr * sizeof(int)), *dcl = malloc((size_t)nc * sizeof(int));
	for (int i = 0; i < nr; i++)
		dr[i] = rnd(100) < big ? 0 : 1 + rnd(6);
	for (int j = 0; j < nc; j++) {
		dcl[j] = rnd(100) < big ? 0 : 1 + rnd(6);
		x->cap[j] = 1 + rnd(3);
	}
	int pr = 10 + rnd(30);
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			x->mask[(size_t)i * (size_t)nc + (size_t)j] = dr[i] == dcl[j] || rnd(100) < pr;
			inst_set(x, i, j, rnd(21) * 5);
		}
	x->nvetoed = nr / 10;
	x->vetoed = malloc((size_t)x->nvetoed * sizeof(struct match_pair));
	for (int k = 0; k < x->nvetoed; k++)
		x->vetoed[k] = (struct match_pair){rnd(nr), rnd(nc)};
	x->pinned = malloc(8 * sizeof(struct match_pair));
	int *left = malloc((size_t)nc * sizeof(int));
	memcpy(left, x->cap, (size_t)nc * sizeof(int));
	for (int k = 0; k < 8; k++) {
		int i = k * (nr / 8), j = rnd(nc);
		if (x->mask[(size_t)i * (size_t)nc + (size_t)j] || left[j] == 0)
			continue;
		int vetoed = 0;
		for (int q = 0; q < x->nvetoed; q++)
			vetoed |= x->vetoed[q].row == i && x->vetoed[q].col == j;
		if (vetoed)
			continue;
		left[j]--;
		x->pinned[x->npinned++] = (struct match_pair){i, j};
	}
	free(left);
	free(dr);
	free(dcl);
}

static void
test_policy_shaped(void **state)
{
	(void)state;
	int s = under_asan() ? 1 : 4;
	struct {
		int nr, nc, dt, big;
	} cases[] = {
		{100 * s, 40 * s, MATCH_F64, 60},  {100 * s, 50 * s, MATCH_I32, 60},
		{150 * s, 45 * s, MATCH_I16, 70},  {100 * s, 30 * s, MATCH_F32, 40},
		{200 * s, 80 * s, MATCH_F64, 80},  {120 * s, 40 * s, MATCH_F64, 0},
		/* more slots than rows: the big department's mentees cannot all be matched */
		{100 * s, 80 * s, MATCH_F64, 70},  {150 * s, 100 * s, MATCH_I32, 60},
		{100 * s, 120 * s, MATCH_F32, 80},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct inst x;
		policy_instance(&x, cases[c].nr, cases[c].nc, (enum match_dtype)cases[c].dt,
				cases[c].big);
		struct match_result res;
		solve_and_certify(&x, &res);
		for (int k = 0; k < x.npinned; k++)
			assert_int_equal(res.row_to_col[x.pinned[k].row], x.pinned[k].col);
		match_result_fini(&res);
		inst_free(&x);
	}
	/* Small policy shapes against the oracle. */
	for (int t = 0; t < (under_asan() ? 100 : 400); t++) {
		struct inst x;
		policy_instance(&x, 8 + rnd(8), 2 + rnd(5), (enum match_dtype)rnd(4), 50);
		free(x.pinned);
		x.pinned = NULL;
		x.npinned = 0;
		check_with_oracle(&x, t);
		inst_free(&x);
	}
}

/* Larger instances: certified only (the oracle cannot follow). */
static void
random_large(struct inst *x, int nr, int nc, enum match_dtype dt, int ints)
{
	inst_alloc(x, nr, nc, dt);
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++)
			inst_set(x, i, j, ints ? rnd(101) : rnd01() * 1000);
}

static void
test_large_certified(void **state)
{
	(void)state;
	int big = under_asan() ? 300 : 2000;
	struct {
		int nr, nc, dt, ints, maximize, caps, mask;
	} cases[] = {
		{big, big, MATCH_F64, 0, 0, 0, 0},   {big, big, MATCH_I16, 1, 1, 0, 0},
		{big / 2, big, MATCH_F32, 0, 1, 0, 0}, {big, big / 3, MATCH_F64, 0, 0, 0, 0},
		{big, big / 4, MATCH_I32, 1, 1, 1, 0}, {big / 2, big / 2, MATCH_F64, 0, 0, 0, 1},
		{big / 2, big / 5, MATCH_I16, 1, 0, 1, 1}, {big / 5, big / 2, MATCH_F64, 0, 1, 1, 1},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct inst x;
		random_large(&x, cases[c].nr, cases[c].nc, (enum match_dtype)cases[c].dt,
			     cases[c].ints);
		x.maximize = cases[c].maximize;
		if (cases[c].caps) {
			x.cap = malloc((size_t)x.nc * sizeof(int));
			for (int j = 0; j < x.nc; j++)
				x.cap[j] = rnd(5);
		}
		if (cases[c].mask) {
			x.mask = malloc((size_t)x.nr * (size_t)x.nc);
			for (size_t k = 0; k < (size_t)x.nr * (size_t)x.nc; k++)
				x.mask[k] = rnd(10) < 7;
		}
		struct match_result res;
		solve_and_certify(&x, &res);
		match_result_fini(&res);
		inst_free(&x);
	}
}

static void
test_tampered_rejected(void **state)
{
	(void)state;
	struct inst x;
	random_large(&x, 40, 30, MATCH_F64, 0);
	x.cap = malloc(30 * sizeof(int));
	for (int j = 0; j < 30; j++)
		x.cap[j] = 2;
	struct match_result res;
	solve_and_certify(&x, &res);
	struct match_dense m = inst_dense(&x);
	struct match_opts o = inst_opts(&x);
	struct diag d;

	/* Swap the columns of two matched rows (and fix the total): not optimal any more. */
	int a = -1, b = -1;
	for (int i = 0; i < x.nr && b < 0; i++)
		if (res.row_to_col[i] >= 0) {
			if (a < 0)
				a = i;
			else if (res.row_to_col[i] != res.row_to_col[a])
				b = i;
		}
	assert_true(b >= 0);
	int ca = res.row_to_col[a], cb = res.row_to_col[b];
	double t0 = res.total;
	res.row_to_col[a] = cb;
	res.row_to_col[b] = ca;
	res.total += x.val[a * 30 + cb] + x.val[b * 30 + ca] - x.val[a * 30 + ca] -
		     x.val[b * 30 + cb];
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	res.row_to_col[a] = ca;
	res.row_to_col[b] = cb;
	res.total = t0;
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), 0);

	/* Change one dual. */
	double u0 = res.u[a];
	res.u[a] += 0.5;
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	res.u[a] = u0;
	double v0 = res.v[ca];
	res.v[ca] -= 0.5;
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	res.v[ca] = v0;

	/* Break a capacity: move a third row into a full column. */
	int full = -1, cnt[30] = {0};
	for (int i = 0; i < x.nr; i++)
		if (res.row_to_col[i] >= 0 && ++cnt[res.row_to_col[i]] == 2)
			full = res.row_to_col[i];
	assert_true(full >= 0);
	int mover = -1;
	for (int i = 0; i < x.nr && mover < 0; i++)
		if (res.row_to_col[i] >= 0 && res.row_to_col[i] != full)
			mover = i;
	int oldc = res.row_to_col[mover];
	res.row_to_col[mover] = full;
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	assert_non_null(strstr(d.msg, "capacity"));
	res.row_to_col[mover] = oldc;

	/* Drop a pair: cardinality is no longer maximum. */
	int keep = res.row_to_col[a];
	res.row_to_col[a] = -1;
	res.npairs--;
	res.total -= x.val[a * 30 + keep];
	int *un = malloc(((size_t)res.nunmatched + 1) * sizeof(int));
	int k = 0, w = 0;
	for (int i = 0; i < x.nr; i++)
		if (res.row_to_col[i] < 0)
			un[w++] = i;
	(void)k;
	int *saved = res.unmatched_rows;
	int nsaved = res.nunmatched;
	res.unmatched_rows = un;
	res.nunmatched = w;
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	res.unmatched_rows = saved;
	res.nunmatched = nsaved;
	free(un);
	match_result_fini(&res);
	inst_free(&x);
}

static void
expect_error(struct inst *x, const char *needle)
{
	struct match_dense m = inst_dense(x);
	struct match_opts o = inst_opts(x);
	struct match_result res;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(match_assign(&m, &o, &res, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", d.msg, needle);
	assert_null(res.row_to_col);
	match_result_fini(&res);
}

static void
test_degenerate(void **state)
{
	(void)state;
	struct match_result res;
	struct diag d;
	/* 0 rows, 0 columns: empty results. */
	struct match_dense m0 = {0, 5, MATCH_F64, NULL, NULL};
	assert_int_equal(match_assign(&m0, NULL, &res, &d), 0);
	assert_int_equal(res.npairs, 0);
	assert_int_equal(match_certify(&m0, NULL, &res, 1e-9, &d), 0);
	match_result_fini(&res);
	double dummy = 0;
	struct match_dense m1 = {3, 0, MATCH_F64, &dummy, NULL};
	assert_int_equal(match_assign(&m1, NULL, &res, &d), 0);
	assert_int_equal(res.npairs, 0);
	assert_int_equal(res.nunmatched, 3);
	assert_int_equal(res.unmatched_rows[2], 2);
	assert_int_equal(match_certify(&m1, NULL, &res, 1e-9, &d), 0);
	match_result_fini(&res);

	/* All forbidden. */
	struct inst x;
	random_large(&x, 4, 3, MATCH_F64, 0);
	x.mask = malloc(12);
	memset(x.mask, 1, 12);
	solve_and_certify(&x, &res);
	assert_int_equal(res.npairs, 0);
	assert_int_equal(res.nunmatched, 4);
	match_result_fini(&res);

	/* Non-finite scores: an error naming row and column, unless the pair is forbidden. */
	x.mask[1 * 3 + 2] = 0;
	((double *)x.scores)[1 * 3 + 2] = NAN;
	expect_error(&x, "row 1, column 2 is NaN");
	((double *)x.scores)[1 * 3 + 2] = INFINITY;
	expect_error(&x, "row 1, column 2 is +inf");
	((double *)x.scores)[1 * 3 + 2] = -INFINITY;
	expect_error(&x, "row 1, column 2 is -inf");
	x.mask[1 * 3 + 2] = 1;
	solve_and_certify(&x, &res);
	match_result_fini(&res);
	free(x.mask);
	x.mask = NULL;
	((double *)x.scores)[1 * 3 + 2] = 1;

	/* Bad options. */
	int cap[3] = {1, -1, 1};
	x.cap = cap;
	expect_error(&x, "capacity of column 1 is negative");
	cap[1] = 1;
	struct match_pair pins[2] = {{0, 3}, {0, 1}};
	x.pinned = pins;
	x.npinned = 1;
	expect_error(&x, "out of range");
	pins[0] = (struct match_pair){0, 1};
	x.npinned = 2;
	expect_error(&x, "second time");
	pins[1] = (struct match_pair){1, 1};
	expect_error(&x, "capacity");
	struct match_pair veto = {1, 1};
	x.vetoed = &veto;
	x.nvetoed = 1;
	x.npinned = 1;
	pins[0] = (struct match_pair){1, 1};
	expect_error(&x, "forbidden");
	x.cap = NULL;
	x.pinned = NULL;
	x.vetoed = NULL;
	x.npinned = x.nvetoed = 0;
	inst_free(&x);

	/* One row, one column. */
	random_large(&x, 1, 6, MATCH_I32, 1);
	solve_and_certify(&x, &res);
	assert_int_equal(res.npairs, 1);
	match_result_fini(&res);
	inst_free(&x);
	random_large(&x, 6, 1, MATCH_F32, 0);
	x.maximize = 1;
	solve_and_certify(&x, &res);
	assert_int_equal(res.npairs, 1);
	float best = -1;
	for (int i = 0; i < 6; i++)
		if (((float *)x.scores)[i] > best)
			best = ((float *)x.scores)[i];
	assert_true(res.total == best);
	match_result_fini(&res);
	inst_free(&x);
}

/*
 * Scores at +-MATCH_SCORE_MAX are accepted and certified: the solver's sums and
 * differences of them stay finite. One beyond the bound, finite or not, is an
 * error naming the pair (from the certificate too); a forbidden pair may hold
 * anything.
 */
static void
test_score_bound(void **state)
{
	(void)state;
	const double B = MATCH_SCORE_MAX;
	/* 4 x 3: each column has rows at -B and at +B, so the optimum is +-3B. */
	const double s[4][3] = {{B, -B, 0}, {-B, B, B / 2}, {B, B, -B}, {-B, -B, B}};
	int cap[3] = {2, 1, 1};
	for (int withcap = 0; withcap < 2; withcap++)
		for (int maximize = 0; maximize < 2; maximize++) {
			struct inst x;
			inst_alloc(&x, 4, 3, MATCH_F64);
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 3; j++)
					inst_set(&x, i, j, s[i][j]);
			x.maximize = maximize;
			if (withcap) {
				x.cap = malloc(sizeof(cap));
				memcpy(x.cap, cap, sizeof(cap));
			}
			struct match_result res;
			solve_and_certify(&x, &res);
			assert_int_equal(res.npairs, withcap ? 4 : 3);
			assert_true(res.total == (maximize ? 1 : -1) * (withcap ? 4 : 3) * B);
			for (int i = 0; i < 4; i++)
				assert_true(isfinite(res.u[i]));
			for (int j = 0; j < 3; j++)
				assert_true(isfinite(res.v[j]));
			match_result_fini(&res);
			inst_free(&x);
		}

	struct inst x;
	inst_alloc(&x, 4, 3, MATCH_F64);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 3; j++)
			inst_set(&x, i, j, s[i][j]);
	inst_set(&x, 1, 2, 9e307);
	expect_error(&x, "score at row 1, column 2 is 9e+307, beyond the largest magnitude "
			 "allowed (1e+290)");
	inst_set(&x, 1, 2, -2e290);
	expect_error(&x, "row 1, column 2 is -2e+290, beyond");
	inst_set(&x, 1, 2, nextafter(B, INFINITY));
	expect_error(&x, "row 1, column 2 is");
	inst_set(&x, 1, 2, NAN);
	expect_error(&x, "row 1, column 2 is NaN");

	/* The certificate refuses the problem the same way. */
	inst_set(&x, 1, 2, 0);
	struct match_dense m = inst_dense(&x);
	struct match_opts o = inst_opts(&x);
	struct match_result res;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(match_assign(&m, &o, &res, &d), 0);
	inst_set(&x, 3, 0, -9e307);
	assert_int_equal(match_certify(&m, &o, &res, 1e-9, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "row 3, column 0 is -9e+307, beyond"));
	match_result_fini(&res);

	/* Forbidden (masked or vetoed), the pair is not looked at. */
	x.mask = calloc(12, 1);
	assert_non_null(x.mask);
	x.mask[3 * 3 + 0] = 1;
	solve_and_certify(&x, &res);
	assert_int_not_equal(res.row_to_col[3], 0);
	match_result_fini(&res);
	x.mask[3 * 3 + 0] = 0;
	struct match_pair veto = {3, 0};
	x.vetoed = malloc(sizeof(veto));
	assert_non_null(x.vetoed);
	x.vetoed[0] = veto;
	x.nvetoed = 1;
	solve_and_certify(&x, &res);
	assert_int_not_equal(res.row_to_col[3], 0);
	match_result_fini(&res);
	inst_free(&x);
}

static void
test_deterministic_and_pairs(void **state)
{
	(void)state;
	struct inst x;
	random_large(&x, 300, 200, MATCH_I16, 1);
	for (int i = 0; i < 300; i++)
		for (int j = 0; j < 200; j++)
			inst_set(&x, i, j, rnd(3)); /* massive ties */
	struct match_result a, b;
	solve_and_certify(&x, &a);
	solve_and_certify(&x, &b);
	assert_memory_equal(a.row_to_col, b.row_to_col, 300 * sizeof(int));
	struct match_pair *pairs;
	struct diag d;
	assert_int_equal(match_result_pairs(&a, &pairs, &d), 0);
	assert_int_equal(a.npairs, 200);
	for (int k = 0; k < a.npairs; k++) {
		assert_int_equal(a.row_to_col[pairs[k].row], pairs[k].col);
		if (k > 0)
			assert_true(pairs[k].row > pairs[k - 1].row);
	}
	free(pairs);
	match_result_fini(&a);
	match_result_fini(&b);
	inst_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_brute_force_tall),
		cmocka_unit_test(test_tall_zone_shapes),
		cmocka_unit_test(test_policy_shaped),
		cmocka_unit_test(test_large_certified),
		cmocka_unit_test(test_tampered_rejected),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_score_bound),
		cmocka_unit_test(test_deterministic_and_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

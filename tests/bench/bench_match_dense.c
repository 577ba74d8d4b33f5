/*
 * bench_match_dense: times match_assign (solver only) on matrices generated in C,
 * with the distributions of the scipy comparison (tests/bench/bench_match.sh):
 * uniform doubles in [0,1), and "survey" integer scores (two people answer 10
 * items in 1..5; score = rint(100 - 100 * sum|a-b| / 40)).
 *
 * "policy" cases imitate what core/program/solve.c hands to match_assign: mentees x
 * mentors, capacities 1-3 (slots about 0.75-0.8x the mentees), a forbidden mask
 * made of department blocks (one department holds 60% of both sides, so its
 * mentors cannot all fill: some slots stay free) plus 20% random vetoes (about
 * half the pairs forbidden in all), integer-valued survey scores (ties), maximize.
 * "policyrow" adds a per-mentee bonus of 0-49 to every score of the mentee (a
 * priority that dominates: the same mentees are good for every mentor);
 * "tallrow" is "tall" plus a row value in [0, 1) as large as the noise;
 * "policywide" has more slots than mentees (4000 x 2500): the big department's
 * mentees cannot all be matched.
 *
 * usage: bench_match_dense CASE [REPEATS] [--certify]
 * CASE: min1000 min2000 min4000 min8000 max4000 tall wide survey survey16 survey64
 *       cap4 tallmask tallmask2k policy policy2k policyrow tallrow policywide all
 * Prints one line per case: name, shape, median and min wall seconds, min and
 * median CPU seconds, total.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "match/match.h"

/* A benchmark has nothing sensible to do without memory: stop at once. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint64_t
next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct bcase {
	const char *name;
	int nr, nc, maximize, kind, cap; /* kind 0 uniform f64, 1 survey i32, 2 survey i16, 3 survey f64 */
	int forbid_col0; /* column 0 entirely forbidden (cardinality below the slots) */
	int policy;      /* department blocks + random forbidden pairs, capacities 1-3 */
	int rowbonus;    /* row i's scores get + (hash of i) % rowbonus (/ rowbonus if uniform) */
};

static const struct bcase cases[] = {
	{"min1000", 1000, 1000, 0, 0, 1, 0, 0, 0},    {"min2000", 2000, 2000, 0, 0, 1, 0, 0, 0},
	{"min4000", 4000, 4000, 0, 0, 1, 0, 0, 0},    {"min8000", 8000, 8000, 0, 0, 1, 0, 0, 0},
	{"max4000", 4000, 4000, 1, 0, 1, 0, 0, 0},    {"tall", 8000, 2000, 0, 0, 1, 0, 0, 0},
	{"wide", 2000, 8000, 0, 0, 1, 0, 0, 0},       {"survey", 4000, 4000, 1, 1, 1, 0, 0, 0},
	{"survey16", 4000, 4000, 1, 2, 1, 0, 0, 0},   {"survey64", 4000, 4000, 1, 3, 1, 0, 0, 0},
	{"cap4", 4000, 1000, 0, 0, 4, 0, 0, 0},       {"tallmask", 8000, 2000, 0, 0, 1, 1, 0, 0},
	{"tallmask2k", 2000, 500, 0, 0, 1, 1, 0, 0},  {"policy", 8000, 3000, 1, 3, 0, 0, 1, 0},
	{"policy2k", 2000, 800, 1, 3, 0, 0, 1, 0},
	{"policyrow", 8000, 3000, 1, 3, 0, 0, 1, 50}, {"tallrow", 8000, 2000, 0, 0, 1, 0, 0, 1000},
	{"policywide", 4000, 2500, 1, 3, 0, 0, 1, 0},
};

/* Department of a person: 0 for 60% of them, else one of 9 small ones. */
static int
department(void)
{
	return next() % 100 < 60 ? 0 : 1 + (int)(next() % 9);
}

/* The policy-shaped mask and capacities (see the top comment). */
static uint8_t *
policy_mask(const struct bcase *c, int *cap)
{
	int *dr = xmalloc((size_t)c->nr * sizeof(int)), *dc = xmalloc((size_t)c->nc * sizeof(int));
	uint8_t *mask = xmalloc((size_t)c->nr * (size_t)c->nc);
	for (int i = 0; i < c->nr; i++)
		dr[i] = department();
	for (int j = 0; j < c->nc; j++) {
		dc[j] = department();
		cap[j] = 1 + (int)(next() % 3);
	}
	for (int i = 0; i < c->nr; i++)
		for (int j = 0; j < c->nc; j++)
			mask[(size_t)i * (size_t)c->nc + (size_t)j] =
				dr[i] == dc[j] || next() % 100 < 20;
	free(dr);
	free(dc);
	return mask;
}

static void *
generate(const struct bcase *c, enum match_dtype *dt)
{
	size_t n = (size_t)c->nr * (size_t)c->nc;
	if (c->kind == 0) {
		double *s = xmalloc(n * sizeof(double));
		for (size_t k = 0; k < n; k++) {
			s[k] = (double)(next() >> 11) * (1.0 / 9007199254740992.0);
			if (c->rowbonus) {
				unsigned i = (unsigned)(k / (size_t)c->nc);
				s[k] += (double)(i * 2654435761u % (unsigned)c->rowbonus) / c->rowbonus;
			}
		}
		*dt = MATCH_F64;
		return s;
	}
	int8_t *a = xmalloc((size_t)c->nr * 10), *b = xmalloc((size_t)c->nc * 10);
	for (int i = 0; i < c->nr * 10; i++)
		a[i] = (int8_t)(1 + next() % 5);
	for (int j = 0; j < c->nc * 10; j++)
		b[j] = (int8_t)(1 + next() % 5);
	size_t es = c->kind == 1 ? 4 : c->kind == 2 ? 2 : 8;
	char *s = xmalloc(n * es);
	for (int i = 0; i < c->nr; i++)
		for (int j = 0; j < c->nc; j++) {
			int dsum = 0;
			for (int q = 0; q < 10; q++)
				dsum += abs(a[i * 10 + q] - b[j * 10 + q]);
			double sc = rint(100.0 - 100.0 * dsum / 40.0);
			size_t k = (size_t)i * (size_t)c->nc + (size_t)j;
			if (c->kind == 1)
				((int32_t *)s)[k] = (int32_t)sc;
			else if (c->kind == 2)
				((int16_t *)s)[k] = (int16_t)sc;
			else
				((double *)s)[k] = sc + (c->rowbonus ? (double)((unsigned)i * 2654435761u % (unsigned)c->rowbonus) : 0.0);
		}
	free(a);
	free(b);
	*dt = c->kind == 1 ? MATCH_I32 : c->kind == 2 ? MATCH_I16 : MATCH_F64;
	return s;
}

static int
run(const struct bcase *c, int reps, int certify)
{
	enum match_dtype dt;
	void *s = generate(c, &dt);
	uint8_t *mask = NULL;
	if (c->forbid_col0) {
		mask = calloc((size_t)c->nr * (size_t)c->nc, 1);
		for (int i = 0; i < c->nr; i++)
			mask[(size_t)i * (size_t)c->nc] = 1;
	}
	int *cap = NULL;
	if (c->policy) {
		cap = xmalloc((size_t)c->nc * sizeof(int));
		mask = policy_mask(c, cap);
	}
	struct match_dense m = {c->nr, c->nc, dt, s, mask};
	if (c->cap != 1 && cap == NULL) {
		cap = xmalloc((size_t)c->nc * sizeof(int));
		for (int j = 0; j < c->nc; j++)
			cap[j] = c->cap;
	}
	struct match_opts o = {c->maximize, cap, NULL, 0, NULL, 0};
	double t[64], cpu[64];
	double total = 0;
	int rc = 0;
	for (int r = 0; r < reps; r++) {
		struct match_result res;
		struct diag d;
		double t0 = now(), c0 = cpu_now();
		if (match_assign(&m, &o, &res, &d) < 0) {
			fprintf(stderr, "%s: %s\n", c->name, d.msg);
			rc = 1;
			break;
		}
		t[r] = now() - t0;
		cpu[r] = cpu_now() - c0;
		total = res.total;
		if (certify && r == 0 && match_certify(&m, &o, &res, 1e-9, &d) < 0) {
			fprintf(stderr, "%s: certificate: %s\n", c->name, d.msg);
			rc = 1;
		}
		match_result_fini(&res);
	}
	if (rc == 0) {
		qsort(t, (size_t)reps, sizeof(double), cmp_double);
		qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
		printf("%-10s %5dx%-5d median %.4f s  min %.4f s  cpu min %.4f s  cpu median "
		       "%.4f s  total %.6f\n",
		       c->name, c->nr, c->nc, t[reps / 2], t[0], cpu[0], cpu[reps / 2], total);
	}
	free(cap);
	free(mask);
	free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CASE|all [REPEATS] [--certify]\n", argv[0]);
		return 2;
	}
	int reps = argc > 2 ? atoi(argv[2]) : 3;
	if (reps < 1 || reps > 64)
		reps = 3;
	int certify = argc > 3 && strcmp(argv[3], "--certify") == 0;
	int rc = 0, found = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		if (strcmp(argv[1], "all") == 0 || strcmp(argv[1], cases[k].name) == 0) {
			found = 1;
			rc |= run(&cases[k], reps, certify);
		}
	if (!found) {
		fprintf(stderr, "unknown case %s\n", argv[1]);
		return 2;
	}
	return rc;
}

/*
 * bench_match: times tandem's matching solvers on matrices stored as .npy, for
 * tests/bench/bench_match.sh. Only the solver call is timed (monotonic clock);
 * the median of the runs is printed with the total and the peak RSS.
 *
 *   bench_match dense FILE [--maximize] [--capacity K] [--runs N]
 *   bench_match sparse ROW_PTR.npy COLS.npy SCORES.npy [--maximize] [--runs N]
 *   bench_match stable ROWS_SCORES.npy COLS_SCORES.npy [--maximize] [--runs N]
 *   bench_match gen NR NC SEED OUT.npy
 *
 * Sparse input is three n x 1 (or 1 x n) .npy arrays: row_ptr and cols as int32,
 * scores as float64. Output: "median_s=S total=T pairs=P rss_mib=M [blocking=B]".
 * Stable timing includes building the preference lists and rank tables.
 * "gen" writes uniform [0, 1) doubles (xorshift64*), for tandem-only runs on
 * machines without numpy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "match/match.h"
#include "io/npy.h"

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

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double
rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static int
die(const struct diag *d)
{
	fprintf(stderr, "bench_match: %s\n", d->msg);
	return 1;
}

static int
open_vec(const char *path, enum match_dtype want, struct npy_array *a, struct diag *d)
{
	if (npy_open(path, a, d) != 0)
		return -1;
	if (a->dtype != want || (a->nr != 1 && a->nc != 1))
		return diag_set(d, DIAG_INVALID, "%s: expected an n x 1 %s array", path,
				npy_dtype_descr(want));
	return 0;
}

static int
run_dense(const char *file, int maximize, int capk, int runs)
{
	struct diag d = {0};
	struct npy_array a;
	if (npy_open(file, &a, &d) != 0)
		return die(&d);
	struct match_dense m = {a.nr, a.nc, a.dtype, a.data, NULL};
	int *cap = NULL;
	if (capk > 0) {
		cap = xmalloc((size_t)a.nc * sizeof(int));
		for (int c = 0; c < a.nc; c++)
			cap[c] = capk;
	}
	struct match_opts o = {.maximize = maximize, .capacity = cap};
	double t[64], total = 0;
	int pairs = 0;
	for (int k = 0; k < runs; k++) {
		struct match_result res;
		double t0 = now();
		if (match_assign(&m, &o, &res, &d) != 0)
			return die(&d);
		t[k] = now() - t0;
		total = res.total;
		pairs = res.npairs;
		match_result_fini(&res);
	}
	printf("median_s=%.6f total=%.17g pairs=%d rss_mib=%.1f\n", median(t, runs), total, pairs,
	       rss_mib());
	free(cap);
	npy_close(&a);
	return 0;
}

static int
run_sparse(const char *fptr, const char *fcols, const char *fsc, int maximize, int runs)
{
	struct diag d = {0};
	struct npy_array ap, ac, as;
	if (open_vec(fptr, MATCH_I32, &ap, &d) || open_vec(fcols, MATCH_I32, &ac, &d) ||
	    open_vec(fsc, MATCH_F64, &as, &d))
		return die(&d);
	int nr = (int)(ap.nr * ap.nc) - 1;
	int64_t *rp = xmalloc(((size_t)nr + 1) * sizeof(int64_t));
	const int32_t *p32 = ap.data;
	int nc = 0;
	for (int r = 0; r <= nr; r++)
		rp[r] = p32[r];
	const int32_t *cols = ac.data;
	for (int64_t e = 0; e < rp[nr]; e++)
		if (cols[e] >= nc)
			nc = cols[e] + 1;
	struct match_sparse m = {nr, nc, rp, cols, as.data};
	struct match_opts o = {.maximize = maximize};
	double t[64], total = 0;
	int pairs = 0;
	for (int k = 0; k < runs; k++) {
		struct match_result res;
		double t0 = now();
		if (match_assign_sparse(&m, &o, &res, &d) != 0)
			return die(&d);
		t[k] = now() - t0;
		total = res.total;
		pairs = res.npairs;
		if (k == 0 && match_certify_sparse(&m, &o, &res, 1e-9, &d) != 0)
			return die(&d);
		match_result_fini(&res);
	}
	printf("median_s=%.6f total=%.17g pairs=%d rss_mib=%.1f\n", median(t, runs), total, pairs,
	       rss_mib());
	free(rp);
	npy_close(&ap);
	npy_close(&ac);
	npy_close(&as);
	return 0;
}

/*
 * Stable matching, timed two ways per run:
 *  - lists: match_stable on full preference lists built beforehand, the case the
 *    target speaks of ("full lists, including building rank tables": match_stable
 *    checks the lists, builds the rank table and runs deferred acceptance);
 *  - scores: the whole path from two score matrices (both preference lists sorted
 *    by match_prefs_from_scores, then match_stable), for information.
 */
static int
run_stable(const char *frows, const char *fcols, int maximize, int runs)
{
	struct diag d = {0};
	struct npy_array ar, ac;
	if (npy_open(frows, &ar, &d) != 0 || npy_open(fcols, &ac, &d) != 0)
		return die(&d);
	struct match_dense mr = {ar.nr, ar.nc, ar.dtype, ar.data, NULL};
	struct match_dense mc = {ac.nr, ac.nc, ac.dtype, ac.data, NULL};
	double t_lists[64], t_scores[64];
	int pairs = 0, blocking = 0;
	for (int k = 0; k < runs; k++) {
		struct match_prefs pr, pc;
		struct match_result res;
		double t0 = now();
		if (match_prefs_from_scores(&mr, 1, maximize, &pr, &d) != 0 ||
		    match_prefs_from_scores(&mc, 0, maximize, &pc, &d) != 0)
			return die(&d);
		struct match_stable_input in = {ar.nr, ar.nc, pr, pc, NULL, 0};
		double t1 = now();
		if (match_stable(&in, &res, &d) != 0)
			return die(&d);
		double t2 = now();
		t_lists[k] = t2 - t1;
		t_scores[k] = t2 - t0;
		pairs = res.npairs;
		struct match_pair *bp = NULL;
		blocking = match_blocking_pairs(&in, &res, &bp, &d);
		free(bp);
		match_result_fini(&res);
		match_prefs_fini(&pr);
		match_prefs_fini(&pc);
	}
	printf("median_s=%.6f total=0 pairs=%d rss_mib=%.1f blocking=%d from_scores_s=%.6f\n",
	       median(t_lists, runs), pairs, rss_mib(), blocking, median(t_scores, runs));
	npy_close(&ar);
	npy_close(&ac);
	return 0;
}

static int
run_gen(int nr, int nc, unsigned long long seed, const char *out)
{
	struct diag d = {0};
	if (nr < 1 || nc < 1)
		return fprintf(stderr, "bench_match: bad shape %d x %d\n", nr, nc), 2;
	double *m = xmalloc((size_t)nr * (size_t)nc * sizeof(double));
	if (m == NULL)
		return fprintf(stderr, "bench_match: out of memory\n"), 1;
	uint64_t x = seed | 1;
	for (size_t k = 0; k < (size_t)nr * (size_t)nc; k++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		m[k] = (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
	}
	int rc = npy_write(out, nr, nc, MATCH_F64, m, &d) != 0 ? die(&d) : 0;
	free(m);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "gen") == 0)
		return run_gen(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), argv[5]);
	int maximize = 0, capk = 0, runs = 3, npos = 0;
	const char *pos[4] = {0};
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--maximize") == 0)
			maximize = 1;
		else if (strcmp(argv[i], "--capacity") == 0 && i + 1 < argc)
			capk = atoi(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (npos < 4)
			pos[npos++] = argv[i];
	}
	if (runs < 1 || runs > 64)
		runs = 3;
	if (argc >= 3 && strcmp(argv[1], "dense") == 0 && npos == 1)
		return run_dense(pos[0], maximize, capk, runs);
	if (argc >= 5 && strcmp(argv[1], "sparse") == 0 && npos == 3)
		return run_sparse(pos[0], pos[1], pos[2], maximize, runs);
	if (argc >= 4 && strcmp(argv[1], "stable") == 0 && npos == 2)
		return run_stable(pos[0], pos[1], maximize, runs);
	fprintf(stderr, "usage: bench_match dense FILE [--maximize] [--capacity K] [--runs N]\n"
			"       bench_match sparse ROW_PTR COLS SCORES [--maximize] [--runs N]\n"
			"       bench_match stable ROWS COLS [--maximize] [--runs N]\n"
			"       bench_match gen NR NC SEED OUT.npy\n");
	return 2;
}

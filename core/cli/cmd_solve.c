/*
 * cli/cmd_solve: `tandem solve`, the matching primitive on a matrix file, with
 * no workspace or database. Parses the arguments, reads the matrix through
 * io/matrix (.npy mapped, or CSV: numbers, no header, an empty cell = forbidden
 * pair), calls match_assign / match_assign_sparse / match_stable, prints the
 * pairs or JSON. Used by people trying policies by hand, by the e2e tests and
 * by the benchmark.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "io/matrix.h"
#include "match/match.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tandem solve FILE [--maximize] [--capacity K | --capacities FILE]\n"
		"                    [--stable --rows-prefer FILE2 [--cols-propose]] [--sparse]\n"
		"                    [--json] [--timing]\n\n"
		"Solves an assignment (or a stable matching) on a score matrix, rows x columns.\n"
		"FILE is a .npy matrix (float64, float32, int16, int32; C order) or a .csv of\n"
		"numbers without header, where an empty cell forbids the pair.\n\n"
		"Options:\n"
		"  --maximize          maximize the total (default: minimize); with --stable,\n"
		"                      a higher score is preferred (default: lower is better)\n"
		"  --capacity K        every column takes up to K rows (default 1)\n"
		"  --capacities FILE   one whole number per column (text or CSV)\n"
		"  --stable            stable matching instead of an optimal one: FILE holds the\n"
		"                      columns' scores of the rows (mentors' view)\n"
		"  --rows-prefer FILE2 with --stable: the rows' scores of the columns (mentees'\n"
		"                      view), same shape as FILE\n"
		"  --cols-propose      with --stable: columns propose (default: rows propose)\n"
		"  --sparse            use the sparse solver on the allowed entries\n"
		"  --json              print {\"total\", \"pairs\", \"unmatched_rows\", ...}\n"
		"  --timing            print the solver's time on stderr (\"solve: 0.123 s\")\n"
		"  -h, --help          print this help\n\n"
		"Output: one \"row col score\" line per pair (0-based), then \"total: T\" and\n"
		"\"unmatched: ...\" when some rows are unmatched; --stable adds \"blocking pairs: "
		"N\".\n");
}

struct solve_opts {
	int maximize, stable, cols_propose, sparse, json, timing;
	long capacity;
	const char *capfile, *rows_prefer, *file;
};

static int
parse_args(int argc, char **argv, struct solve_opts *so)
{
	static const struct option longopts[] = {
	    {"maximize", no_argument, NULL, 'm'},
	    {"capacity", required_argument, NULL, 'k'},
	    {"capacities", required_argument, NULL, 'K'},
	    {"stable", no_argument, NULL, 's'},
	    {"rows-prefer", required_argument, NULL, 'r'},
	    {"cols-propose", no_argument, NULL, 'c'},
	    {"sparse", no_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {"timing", no_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	memset(so, 0, sizeof(*so));
	so->capacity = -1;
	optind = 0;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			so->maximize = 1;
			break;
		case 'k':
			if (cli_parse_int("solve", "--capacity", optarg, 0, 1000000000,
					  &so->capacity))
				return -1;
			break;
		case 'K':
			so->capfile = optarg;
			break;
		case 's':
			so->stable = 1;
			break;
		case 'r':
			so->rows_prefer = optarg;
			break;
		case 'c':
			so->cols_propose = 1;
			break;
		case 'S':
			so->sparse = 1;
			break;
		case 'j':
			so->json = 1;
			break;
		case 't':
			so->timing = 1;
			break;
		default:
			cli_usage("solve", "unknown option or missing argument '%s'",
				  argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		cli_usage("solve", optind >= argc ? "missing FILE" : "expected one FILE");
		return -1;
	}
	so->file = argv[optind];
	if (so->capacity >= 0 && so->capfile) {
		cli_usage("solve", "--capacity and --capacities exclude each other");
		return -1;
	}
	if (so->stable != (so->rows_prefer != NULL)) {
		cli_usage("solve", "--stable and --rows-prefer go together");
		return -1;
	}
	if (so->cols_propose && !so->stable) {
		cli_usage("solve", "--cols-propose needs --stable");
		return -1;
	}
	if (so->stable && so->sparse) {
		cli_usage("solve", "--sparse applies to assignment, not to --stable");
		return -1;
	}
	return 0;
}

static int
print_result(const struct solve_opts *so, const struct matrix *m, const struct match_result *res,
	     int blocking)
{
	/* Assignment reports its total; stable matching leaves it to us (FILE's scores). */
	double total = res->total;
	if (so->stable) {
		total = 0;
		for (int r = 0; r < res->nr; r++)
			if (res->row_to_col[r] >= 0)
				total += match_score_at(m->dtype, m->data, (size_t)r * m->nc + res->row_to_col[r]);
	}
	int integer = m->dtype == MATCH_I16 || m->dtype == MATCH_I32;
	if (so->json) {
		json_t *o = json_object(), *pairs = json_array(), *un = json_array();
		json_object_set_new(o, "total",
				    integer ? json_integer((json_int_t)llround(total))
					    : json_real(total));
		for (int r = 0; r < res->nr; r++)
			if (res->row_to_col[r] >= 0)
				json_array_append_new(pairs,
						      json_pack("[ii]", r, res->row_to_col[r]));
		json_object_set_new(o, "pairs", pairs);
		for (int k = 0; k < res->nunmatched; k++)
			json_array_append_new(un, json_integer(res->unmatched_rows[k]));
		json_object_set_new(o, "unmatched_rows", un);
		json_object_set_new(o, "matched", json_integer(res->npairs));
		if (so->stable)
			json_object_set_new(o, "blocking_pairs", json_integer(blocking));
		return cli_json_out(o);
	}
	for (int r = 0; r < res->nr; r++) {
		int c = res->row_to_col[r];
		if (c >= 0)
			printf("%d %d %.17g\n", r, c, match_score_at(m->dtype, m->data, (size_t)r * m->nc + c));
	}
	printf("total: %.17g\n", total);
	if (res->nunmatched > 0) {
		printf("unmatched:");
		for (int k = 0; k < res->nunmatched; k++)
			printf(" %d", res->unmatched_rows[k]);
		printf("\n");
	}
	if (so->stable)
		printf("blocking pairs: %d\n", blocking);
	return CLI_OK;
}

static int
run_stable(const struct solve_opts *so, const struct matrix *m, const int *cap)
{
	struct diag d = {0};
	struct matrix rp;
	if (matrix_read(so->rows_prefer, &rp, &d) != 0)
		return cli_diag(&d);
	int rc = CLI_FAIL;
	struct match_prefs pr = {0}, pc = {0};
	struct match_result res = {0};
	if (rp.nr != m->nr || rp.nc != m->nc) {
		cli_error("%s is %d x %d but %s is %d x %d", so->rows_prefer, rp.nr, rp.nc,
			  so->file, m->nr, m->nc);
		goto out;
	}
	/* A pair forbidden in either file is unacceptable to both. */
	struct match_dense mr = matrix_dense(&rp);
	struct match_dense mc = matrix_dense(m);
	double t0 = now();
	if (match_prefs_from_scores(&mr, 1, so->maximize, &pr, &d) != 0 ||
	    match_prefs_from_scores(&mc, 0, so->maximize, &pc, &d) != 0) {
		cli_diag(&d);
		goto out;
	}
	struct match_stable_input in = {m->nr, m->nc, pr, pc, cap, so->cols_propose};
	if (match_stable(&in, &res, &d) != 0) {
		cli_diag(&d);
		goto out;
	}
	double t = now() - t0;
	struct match_pair *bp = NULL;
	int nb = match_blocking_pairs(&in, &res, &bp, &d);
	free(bp);
	if (nb < 0) {
		cli_diag(&d);
		goto out;
	}
	if (so->timing)
		fprintf(stderr, "solve: %.3f s\n", t);
	rc = print_result(so, m, &res, nb);
out:
	match_result_fini(&res);
	match_prefs_fini(&pr);
	match_prefs_fini(&pc);
	matrix_fini(&rp);
	return rc;
}

static int
run_assign(const struct solve_opts *so, const struct matrix *m, const int *cap)
{
	struct diag d = {0};
	struct match_opts o = {.maximize = so->maximize, .capacity = cap};
	struct match_result res = {0};
	struct match_sparse sp = {0};
	int rc = CLI_FAIL;
	double t0, t;
	if (so->sparse) {
		if (matrix_to_sparse(m, &sp, &d) != 0)
			return cli_diag(&d);
		t0 = now();
		if (match_assign_sparse(&sp, &o, &res, &d) != 0) {
			cli_diag(&d);
			goto out;
		}
	} else {
		struct match_dense md = matrix_dense(m);
		t0 = now();
		if (match_assign(&md, &o, &res, &d) != 0) {
			cli_diag(&d);
			goto out;
		}
	}
	t = now() - t0;
	if (so->timing)
		fprintf(stderr, "solve: %.3f s\n", t);
	rc = print_result(so, m, &res, 0);
out:
	match_result_fini(&res);
	matrix_sparse_fini(&sp);
	return rc;
}

int
cmd_solve(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return CLI_OK;
	}
	struct solve_opts so;
	if (parse_args(argc, argv, &so) != 0)
		return CLI_USAGE;
	struct diag d = {0};
	struct matrix m;
	if (matrix_read(so.file, &m, &d) != 0)
		return cli_diag(&d);
	int *cap = NULL, rc;
	if (so.capfile && matrix_read_capacities(so.capfile, m.nc, &cap, &d) != 0) {
		matrix_fini(&m);
		return cli_diag(&d);
	}
	if (so.capacity >= 0) {
		cap = malloc(((size_t)m.nc + 1) * sizeof(int));
		if (cap == NULL) {
			matrix_fini(&m);
			cli_error("out of memory");
			return CLI_FAIL;
		}
		for (int k = 0; k < m.nc; k++)
			cap[k] = (int)so.capacity;
	}
	rc = so.stable ? run_stable(&so, &m, cap) : run_assign(&so, &m, cap);
	free(cap);
	matrix_fini(&m);
	return rc;
}

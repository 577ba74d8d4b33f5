/*
 * cli/cmd_metrics: `tandem metrics --program P [--cohort YYYY-MM] [--json]`, a program's
 * metrics as text or as the JSON object of report/metrics.h. Argument parsing and
 * printing only: report/metrics computes everything (docs/metrics.md defines each number).
 * --cohort narrows the output to one cohort's entry (the month its pairs were activated).
 *
 * Called by main.c's dispatch (cmd_metrics).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "report/metrics.h"
#include "store/store.h"
#include "time/tz.h"

static void
metrics_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem metrics --program P [--cohort YYYY-MM] [--json]\n\n"
		"What a program achieved, computed from the database now: the funnel (enrolled,\n"
		"matched, first session, active, completed), the match rate, days from a pair's\n"
		"activation to its first held session, sessions by state and month and the held\n"
		"rate per pair, ratings (only those visible: both sides rated, or 7 days after\n"
		"the session), goal progress from the mentees' skill self-assessments (`sessions\n"
		"checkin --skill`), participation by department, location, level and generation,\n"
		"retention of participants versus non-participants, reward totals, and the\n"
		"session and rating counts of each cohort. docs/metrics.md defines every number.\n\n"
		"Options:\n"
		"  --program P     a program of the workspace\n"
		"  --cohort C      only cohort C: the month (YYYY-MM, UTC) its pairs were activated\n"
		"                  (not a YYYY-MM: exit 2; a month with no cohort: exit 1)\n"
		"  --json          the metrics as one JSON object\n"
		"  -h, --help      print this help\n");
}

static const char *
pct(json_t *v, char *buf, size_t size)
{
	if (!json_is_number(v))
		return "-";
	snprintf(buf, size, "%.1f%%", 100 * json_number_value(v));
	return buf;
}

static const char *
num(json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_number(v))
		snprintf(buf, size, "%.2f", json_number_value(v));
	else
		return "-";
	return buf;
}

/* o[key] as text; the buffers rotate so one printf can take several. */
static const char *
f(json_t *o, const char *key)
{
	static char bufs[16][48];
	static int next;
	char *b = bufs[next++ % 16];
	return num(json_object_get(o, key), b, sizeof(bufs[0]));
}

static const char *
p(json_t *o, const char *key)
{
	static char bufs[8][32];
	static int next;
	char *b = bufs[next++ % 8];
	return pct(json_object_get(o, key), b, sizeof(bufs[0]));
}

static void
print_table(const char *title, json_t *rows, const char *const *keys, const char *const *hdr,
	    int ncols)
{
	printf("%s\n", title);
	if (json_array_size(rows) == 0) {
		printf("  (none)\n");
		return;
	}
	struct cli_table *t = cli_table_new(ncols);
	cli_table_add(t, hdr);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *cells[12];
		char bufs[12][48];
		for (int k = 0; k < ncols; k++) {
			json_t *v = json_object_get(r, keys[k]);
			cells[k] = json_is_string(v) ? json_string_value(v)
						     : num(v, bufs[k], sizeof(bufs[k]));
		}
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
}

static void
print_cohorts(json_t *list)
{
	printf("Cohorts (the month, UTC, its pairs were activated):\n");
	if (json_array_size(list) == 0) {
		printf("  (none)\n");
		return;
	}
	struct cli_table *t = cli_table_new(9);
	const char *hdr[] = {"COHORT", "PAIRS",	    "PLANNED", "HELD",	      "MISSED",
			     "CANCELLED", "HELD RATE", "RATINGS", "MEAN RATING"};
	cli_table_add(t, hdr);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		json_t *s = json_object_get(e, "sessions"), *r = json_object_get(e, "ratings");
		const char *row[] = {json_string_value(json_object_get(e, "cohort")),
				     f(e, "pairs"),
				     f(s, "planned"),
				     f(s, "held"),
				     f(s, "missed"),
				     f(s, "cancelled"),
				     p(s, "held_rate"),
				     f(r, "count"),
				     f(r, "mean")};
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
}

static void
print_metrics(json_t *m)
{
	json_t *fu = json_object_get(m, "funnel"), *en = json_object_get(m, "enrollment"),
	       *fs = json_object_get(m, "first_session"), *se = json_object_get(m, "sessions"),
	       *ra = json_object_get(m, "ratings"), *re = json_object_get(m, "retention"),
	       *rw = json_object_get(m, "rewards"), *pp = json_object_get(se, "per_pair_held_rate");
	printf("program %s, metrics at %s\n\n", json_string_value(json_object_get(m, "program")),
	       json_string_value(json_object_get(m, "generated_at")));
	printf("Funnel: enrolled %s -> matched %s -> first session %s -> active %s -> completed "
	       "%s\n",
	       f(fu, "enrolled"), f(fu, "matched"), f(fu, "first_session"), f(fu, "active"),
	       f(fu, "completed"));
	printf("Enrollment: %s enrolled, %s matched (match rate %s), %s unmatched\n",
	       f(en, "enrolled"), f(en, "matched"), p(en, "match_rate"), f(en, "unmatched"));
	printf("First session: %s pairs met; days from activation: median %s, mean %s\n",
	       f(fs, "pairs"), f(fs, "median_days"), f(fs, "mean_days"));
	printf("Sessions: %s planned, %s held, %s missed, %s cancelled, %s rescheduled; held "
	       "rate %s\n",
	       f(se, "planned"), f(se, "held"), f(se, "missed"), f(se, "cancelled"),
	       f(se, "rescheduled"), p(se, "held_rate"));
	printf("  held rate per pair (%s pairs with an outcome): mean %s, min %s, max %s\n",
	       f(pp, "pairs"), p(pp, "mean"), p(pp, "min"), p(pp, "max"));
	static const char *const mkeys[] = {"month", "planned", "held", "missed", "cancelled"};
	static const char *const mhdr[] = {"MONTH", "PLANNED", "HELD", "MISSED", "CANCELLED"};
	print_table("Sessions per month (UTC):", json_object_get(se, "per_month"), mkeys, mhdr, 5);
	json_t *dist = json_object_get(ra, "distribution");
	printf("Ratings: %s visible (%s hidden until both sides rate or 7 days pass), mean %s; "
	       "1:%lld 2:%lld 3:%lld 4:%lld 5:%lld\n",
	       f(ra, "count"), f(ra, "hidden"), f(ra, "mean"),
	       (long long)json_integer_value(json_array_get(dist, 0)),
	       (long long)json_integer_value(json_array_get(dist, 1)),
	       (long long)json_integer_value(json_array_get(dist, 2)),
	       (long long)json_integer_value(json_array_get(dist, 3)),
	       (long long)json_integer_value(json_array_get(dist, 4)));
	printf("  given by mentors: %s, mean %s; by mentees: %s, mean %s\n",
	       f(json_object_get(ra, "mentor"), "count"), f(json_object_get(ra, "mentor"), "mean"),
	       f(json_object_get(ra, "mentee"), "count"), f(json_object_get(ra, "mentee"), "mean"));
	static const char *const gkeys[] = {"topic",	  "assessed", "n",
					    "start_mean", "end_mean", "delta"};
	static const char *const ghdr[] = {"TOPIC", "ASSESSED", "START+END", "START",
					   "END",   "DELTA"};
	print_table("Goals (mentees' self-assessment 1-5, first -> latest):",
		    json_object_get(m, "goals"), gkeys, ghdr, 6);
	static const char *const pkeys[] = {"group", "people", "enrolled", "matched", "active"};
	static const char *const phdr[] = {"GROUP", "PEOPLE", "ENROLLED", "MATCHED", "ACTIVE"};
	static const char *const dims[] = {"department", "location", "level", "generation"};
	for (int i = 0; i < 4; i++) {
		char title[64];
		snprintf(title, sizeof(title), "Participation by %s:", dims[i]);
		print_table(title, json_object_get(json_object_get(m, "participation"), dims[i]),
			    pkeys, phdr, 5);
	}
	json_t *in = json_object_get(re, "participants"), *out = json_object_get(re, "non_participants");
	printf("Retention (employed at the program's start, not terminated now): participants "
	       "%s of %s (%s), non-participants %s of %s (%s)\n",
	       f(in, "retained"), f(in, "n"), p(in, "rate"), f(out, "retained"), f(out, "n"),
	       p(out, "rate"));
	printf("Rewards: %s points, %s badges, %s grants, %s people\n", f(rw, "points"),
	       f(rw, "badges"), f(rw, "grants"), f(rw, "people"));
	print_cohorts(json_object_get(m, "cohorts"));
}

/* --cohort: that cohort's entry alone (takes m); an unknown one names those there are. */
static int
print_cohort(json_t *m, const char *program, const char *cohort, int json)
{
	json_t *e = metrics_cohort(m, cohort);
	if (e == NULL) {
		char names[1024] = "";
		size_t len = 0, i;
		json_t *x;
		json_array_foreach(json_object_get(m, "cohorts"), i, x)
		{
			int n = snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
					 json_string_value(json_object_get(x, "cohort")));
			if (n < 0 || (size_t)n >= sizeof(names) - len)
				break;
			len += (size_t)n;
		}
		json_decref(m);
		return cli_error("--cohort %s: program %s has no such cohort (cohorts: %s)", cohort,
				 program, len ? names : "none");
	}
	int rc = CLI_OK;
	if (json) {
		json_t *one = json_pack("{sO sO sO}", "program", json_object_get(m, "program"),
					"generated_at", json_object_get(m, "generated_at"), "cohort",
					e);
		rc = one ? cli_json_out(one) : cli_error("out of memory");
	} else {
		json_t *list = json_pack("[O]", e);
		printf("program %s, metrics at %s\n", program,
		       json_string_value(json_object_get(m, "generated_at")));
		if (list)
			print_cohorts(list);
		json_decref(list);
		rc = list ? CLI_OK : cli_error("out of memory");
	}
	json_decref(m);
	return rc;
}

int
cmd_metrics(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"cohort", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *program = NULL, *cohort = NULL;
	int json = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			program = optarg;
			break;
		case 'c':
			cohort = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			metrics_usage(stdout);
			return CLI_OK;
		default:
			return cli_usage("metrics", "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("metrics", "unexpected argument '%s'", argv[optind]);
	if (program == NULL)
		return cli_usage("metrics", "missing --program P");
	/* A cohort is a month, YYYY-MM: anything else is a usage error, as a malformed date
	 * is elsewhere (only a well-formed month that has no cohort exits 1). */
	if (cohort != NULL) {
		char day[16];
		snprintf(day, sizeof(day), "%.7s-01", cohort);
		if (strlen(cohort) != 7 || cohort[4] != '-' || !tz_date_valid(day))
			return cli_usage("metrics", "--cohort wants a month YYYY-MM, got '%s'", cohort);
	}
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	if (cli_program_known(c, st, program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	json_t *m = NULL;
	int rc = metrics_program(st, NULL, program, store_time(st), &m, &d) == 0 ? CLI_OK
										  : cli_diag(&d);
	store_close(st);
	if (rc != CLI_OK)
		return rc;
	if (cohort != NULL)
		return print_cohort(m, program, cohort, json);
	if (json)
		return cli_json_out(m);
	print_metrics(m);
	json_decref(m);
	return CLI_OK;
}

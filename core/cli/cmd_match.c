/*
 * cli/cmd_match: `tandem match run|list|approve|reject|pin|veto|explain|compare|
 * unmatched|export`.
 * Argument parsing and printing only: the pipeline is program/match_run (run,
 * explain a pair, compare: the documents this file prints) over the stages it
 * calls, and program/matches (reviews, listings). This file holds the usage, the
 * options the subcommands share, the dispatch, and run, unmatched and compare;
 * the review subcommands are cmd_match_review.c, explain cmd_match_explain.c,
 * export cmd_match_export.c (cmd_match.h is what they share).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_match.h"
#include "program/config.h"
#include "program/feat.h"
#include "store/store.h"

static void
match_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tandem match run --program P [--policy NAME|FILE] [--dry-run] [--explain] "
	    "[--replace] [--rematch] [--json]\n"
	    "       tandem match list --program P [--status S] [--json]\n"
	    "       tandem match export --program P --format csv|json [--status S] [--out FILE]\n"
	    "       tandem match approve ID... | --run RUN | --all --program P [--json]\n"
	    "       tandem match reject ID... | --run RUN | --all --program P [--json]\n"
	    "       tandem match pin MENTOR MENTEE --program P [--json]\n"
	    "       tandem match veto MENTOR MENTEE --program P [--reason R] [--json]\n"
	    "       tandem match explain ID [--json]\n"
	    "       tandem match explain --program P MENTOR MENTEE [--policy NAME|FILE] [--json]\n"
	    "       tandem match compare --program P --policy A --policy B [--policy C ...] "
	    "[--json]\n"
	    "       tandem match unmatched --program P [--policy NAME|FILE] [--rematch] [--json]\n"
	    "       tandem match end PAIR --reason TEXT [--program P] [--json]\n"
	    "       tandem match activate --program P [--json]\n\n"
	    "  run      match the program's enrolled, consenting people with a policy and store\n"
	    "           the result as proposals (replacing unreviewed ones); pinned and\n"
	    "           approved matches are kept. --dry-run prints instead of writing;\n"
	    "           --explain adds each pair's feature contributions. A run whose\n"
	    "           policy allows no pair, or that proposes fewer than half of the\n"
	    "           unreviewed proposals, exits 1 and leaves them in place, naming the\n"
	    "           constraints that removed the pairs; --replace stores it anyway.\n"
	    "           --rematch: new partners only for the people ended matches freed\n"
	    "           (`match end`), every other pair and proposal left as it is; the\n"
	    "           former partner is never proposed again; it lists only their new\n"
	    "           pairs, and stores nothing when it has none to propose.\n"
	    "  list     the program's matches (status: proposed, approved, rejected, active, "
	    "ended;\n"
	    "           superseded = replaced by a later run, shown only with --status), with\n"
	    "           the names and departments of both people\n"
	    "  export   the program's current matches (proposed, approved, active; --status S:\n"
	    "           those of S) as CSV or JSON for the client, to stdout or --out FILE\n"
	    "  approve  proposed -> approved (nothing becomes active without approval); with\n"
	    "           --run, every proposal of that run, with --all, every proposal of the\n"
	    "           program, in one transaction (all or none)\n"
	    "  reject   proposed or approved -> rejected (--run / --all: their proposals)\n"
	    "  pin      fix a pair: approved and kept by every later run\n"
	    "  veto     never propose this pair again in the program\n"
	    "  explain  why a pair scores what it scores; for a pair that was not chosen, which\n"
	    "           constraint forbade it or how it compares with the chosen partners\n"
	    "  compare  dry-run two or more policies (up to 16) on the same cohort and compare\n"
	    "           the outcomes, each policy's scores also rescaled to 0..1 over the range\n"
	    "           of pair scores its solve weighed (normalized_total, normalized_mean)\n"
	    "  unmatched  why each person a run would leave unmatched is: no consent, no\n"
	    "           allowed partner (which constraints removed how many candidates), or\n"
	    "           lost to a better use of capacity (the best mentor and who took them);\n"
	    "           mentors with unused capacity likewise. `run` prints the same lists;\n"
	    "           with --rematch, those of a rematch run.\n"
	    "  end      an approved or active match ends (PAIR: a match id or MENTOR:MENTEE);\n"
	    "           its planned sessions after now are cancelled with the reason\n"
	    "  activate approved matches of the program become active if it has started (its\n"
	    "           `starts` date, in the workspace zone, is today or past); matches of a\n"
	    "           program past its `ends` date end. `tandem serve` does this hourly.\n\n"
	    "MENTOR and MENTEE are external ids or e-mail addresses. The policy defaults to the\n"
	    "program's `policy` in tandem.lua. Policies are found in WS/policies, then the\n"
	    "built-ins (digital_upskilling, inclusion_listening, reciprocal, cross_department).\n");
}

int
cmd_match_opts(const char *cmd, int argc, char **argv, struct mopts *m, const char *allowed)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'}, {"policy", required_argument, NULL, 'P'},
	    {"status", required_argument, NULL, 's'},  {"reason", required_argument, NULL, 'r'},
	    {"dry-run", no_argument, NULL, 'n'},       {"explain", no_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},	       {"replace", no_argument, NULL, 'x'},
	    {"rematch", no_argument, NULL, 'm'},       {NULL, 0, NULL, 0},
	};
	memset(m, 0, sizeof(*m));
	int ch;
	optind = 0;
	opterr = 0;
	/* Permute so that options may follow the positional arguments. */
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		if (ch == 1)
			continue;
		if (ch == '?' || strchr(allowed, ch) == NULL)
			return cli_usage(cmd, "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		switch (ch) {
		case 'p':
			m->program = optarg;
			break;
		case 'P':
			if (m->npolicy == MATCH_RUN_COMPARE_MAX)
				return cli_usage(cmd, "at most %d --policy options",
						 MATCH_RUN_COMPARE_MAX);
			m->policy[m->npolicy++] = optarg;
			break;
		case 's':
			m->status = optarg;
			break;
		case 'r':
			m->reason = optarg;
			break;
		case 'n':
			m->dry_run = 1;
			break;
		case 'e':
			m->explain = 1;
			break;
		case 'j':
			m->json = 1;
			break;
		case 'x':
			m->replace = 1;
			break;
		case 'm':
			m->rematch = 1;
			break;
		}
	}
	return CLI_OK;
}

/* The positional arguments (getopt "-" mode hands them back in order). */
int
cmd_match_positionals(int argc, char **argv, const char **out, int max)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--program") == 0 || strcmp(a, "--policy") == 0 ||
			    strcmp(a, "--status") == 0 || strcmp(a, "--reason") == 0)
				i++;
			continue;
		}
		if (n < max)
			out[n] = a;
		n++;
	}
	return n;
}

/* A phase of a long run on stderr, as the people import shows its progress: only
 * when stderr is a terminal (cli_progress checks). */
static void
run_progress(void *ud, const char *phase, long done, long total)
{
	cli_progress(ud, phase, done, total);
}

/* The pipeline's context of an opened workspace; progress is shown on a terminal. */
struct match_run_ctx
cmd_match_ctx(const struct cli *c, const struct cli_ws *w)
{
	return (struct match_run_ctx){
	    .st = w->st, .ws = c->dir, .prog = w->prog, .program_id = w->program_id};
}

const char *
cmd_match_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

const char *
cmd_match_side(json_t *side, const char *key)
{
	if (json_is_null(json_object_get(side, "id")))
		return "(erased)";
	return cmd_match_jstr(side, key);
}

/* Resolves the two people of pin/veto/explain. */
int
cmd_match_two_people(struct store *st, const char *a, const char *b, int64_t *x, int64_t *y)
{
	struct diag d;
	diag_clear(&d);
	if (matches_find_person(st, a, x, &d) < 0 || matches_find_person(st, b, y, &d) < 0)
		return cli_diag(&d);
	return CLI_OK;
}

/* ---- run ---------------------------------------------------------------------------- */

/* The pairs of a run document as a table; with explain, each followed by its explanation.
 * A rematch's lists only the freed mentees' new pairs (the kept ones are not its news). */
static void
print_pairs(json_t *doc, int explain, int rematch)
{
	struct cli_table *t = cli_table_new(5);
	const char *hdr[] = {"MENTOR", "MENTEE", "SCORE", "LUA", "KEPT"};
	int need_hdr = 1; /* each table's header comes with its first row */
	json_t *pairs = json_object_get(doc, "pairs");
	size_t n = json_array_size(pairs), i;
	int kept = 0;
	double fresh_total = 0;
	json_t *p;
	json_array_foreach(pairs, i, p)
	{
		char sc[32], lua[32];
		if (rematch && json_is_true(json_object_get(p, "kept"))) {
			kept++;
			continue;
		}
		fresh_total += json_number_value(json_object_get(p, "score"));
		snprintf(sc, sizeof(sc), "%.4f", json_number_value(json_object_get(p, "score")));
		snprintf(lua, sizeof(lua), "%.4f", json_number_value(json_object_get(p, "lua")));
		int k = json_is_true(json_object_get(p, "kept"));
		kept += k;
		const char *row[] = {cmd_match_jstr(json_object_get(p, "mentor"), "id"),
				     cmd_match_jstr(json_object_get(p, "mentee"), "id"), sc, lua, k ? "yes" : ""};
		if (need_hdr)
			cli_table_add(t, hdr);
		need_hdr = 0;
		cli_table_add(t, row);
		if (explain) {
			cli_table_print(t, stdout);
			cli_table_delete(t);
			cmd_match_print_explanation(json_object_get(p, "explanation"), stdout);
			printf("\n");
			t = cli_table_new(5);
			need_hdr = 1;
		}
	}
	if (need_hdr && !explain)
		cli_table_add(t, hdr); /* no pair: the header alone, as ever */
	cli_table_print(t, stdout);
	cli_table_delete(t);
	int unmatched = (int)json_array_size(json_object_get(doc, "unmatched"));
	int mentees = (int)json_integer_value(json_object_get(doc, "mentees"));
	if (rematch) {
		int fresh = (int)n - kept, freed = mentees - kept;
		printf("%d new pair%s for the %d freed mentee%s, %d unmatched, score %.4f\n", fresh,
		       fresh == 1 ? "" : "s", freed, freed == 1 ? "" : "s", unmatched, fresh_total);
		return;
	}
	printf("%d pair%s (%d kept), %d of %d mentees unmatched, total score %.4f\n", (int)n,
	       n == 1 ? "" : "s", kept, unmatched, mentees,
	       json_number_value(json_object_get(doc, "total")));
}

/* "forbidden: same_department 12, vetoed by an administrator 1" from removed {verdict: n}. */
static void
print_removed(json_t *removed, FILE *out)
{
	const char *k;
	json_t *v;
	int first = 1;
	json_object_foreach(removed, k, v)
	{
		fprintf(out, "%s%s removed %lld", first ? "" : "; ", k,
			(long long)json_integer_value(v));
		first = 0;
	}
}

/* The counts of one side of unmatched_reasons and its people, one line each. */
static void
print_unmatched_side(json_t *doc, const char *side, FILE *out)
{
	json_t *n = json_object_get(doc, strcmp(side, "mentee") == 0 ? "mentees" : "mentors");
	fprintf(out,
		"%s: %lld (%lld without consent, %lld with no allowed partner, %lld lost to a "
		"better use of capacity",
		strcmp(side, "mentee") == 0 ? "unmatched mentees" : "mentors with unused capacity",
		(long long)json_integer_value(json_object_get(n, "total")),
		(long long)json_integer_value(json_object_get(n, "no_consent")),
		(long long)json_integer_value(json_object_get(n, "no_allowed_partner")),
		(long long)json_integer_value(json_object_get(n, "lost_to_better_use")));
	/* Only when there are such people: the line stays what it was otherwise. */
	json_int_t erased = json_integer_value(json_object_get(n, "partner_erased"));
	if (erased > 0)
		fprintf(out, ", %lld whose partner was erased", (long long)erased);
	fprintf(out, ")\n");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "people"), i, p)
	{
		if (strcmp(cmd_match_jstr(p, "side"), side) != 0)
			continue;
		const char *reason = cmd_match_jstr(p, "reason");
		fprintf(out, "  %s %s (%s)", side, cmd_match_jstr(p, "id"), cmd_match_jstr(p, "name"));
		if (strcmp(side, "mentor") == 0 && strcmp(reason, "no_consent") != 0)
			fprintf(out, " capacity %lld, used %lld",
				(long long)json_integer_value(json_object_get(p, "capacity")),
				(long long)json_integer_value(json_object_get(p, "used")));
		if (strcmp(reason, "no_consent") == 0) {
			fprintf(out, ": no consent (enrolled without consent)\n");
		} else if (strcmp(reason, "partner_erased") == 0) {
			fprintf(out, ": their partner was erased (match #%lld ended)\n",
				(long long)json_integer_value(json_object_get(p, "match")));
		} else if (strcmp(reason, "no_allowed_partner") == 0) {
			fprintf(out, ": no allowed partner (");
			print_removed(json_object_get(p, "removed"), out);
			fprintf(out, ")\n");
		} else if (strcmp(side, "mentor") == 0) {
			fprintf(out, ": lost to a better use: every allowed mentee was matched to "
				     "another mentor\n");
		} else {
			json_t *b = json_object_get(p, "best");
			fprintf(out,
				": lost to a better use: best available mentor %s (%s, score "
				"%.4f, capacity %lld) was taken by",
				cmd_match_jstr(b, "id"), cmd_match_jstr(b, "name"),
				json_number_value(json_object_get(b, "score")),
				(long long)json_integer_value(json_object_get(b, "capacity")));
			size_t j;
			json_t *t;
			json_t *taken = json_object_get(p, "taken_by");
			json_array_foreach(taken, j, t)
			    fprintf(out, "%s %s", j ? "," : "", json_string_value(t));
			if (json_array_size(taken) == 0)
				fprintf(out, " nobody (no capacity)");
			fprintf(out, "\n");
		}
	}
}

static void
print_unmatched(json_t *doc, FILE *out)
{
	print_unmatched_side(doc, "mentee", out);
	print_unmatched_side(doc, "mentor", out);
}

/* What `match run` makes of a program's policy or cadence that names no plugin. */
struct run_refs {
	int policy_given; /* --policy overrides the program's */
	int failed;
};

static void
run_ref_problem(void *arg, const char *field, const char *msg)
{
	struct run_refs *r = arg;
	if (strcmp(field, "policy") == 0) {
		if (!r->policy_given) {
			cli_error("%s", msg);
			r->failed = 1;
		}
	} else {
		/* The run does not use the cadence: said before it runs, not fatal. */
		cli_error("warning: %s", msg);
	}
}

static int
match_run(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match run", argc, argv, &m, "pPnejxm") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL)
		return cli_usage("match run", "missing --program P");
	if (m.npolicy > 1)
		return cli_usage("match run", "one --policy at most (see 'match compare')");
	const char *pos[1];
	if (cmd_match_positionals(argc, argv, pos, 1) > 0)
		return cli_usage("match run", "unexpected argument '%s'", pos[0]);
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct run_refs refs = {m.policy[0] != NULL, 0};
	config_check_plugins(&w.cfg, w.prog, NULL, c->dir, run_ref_problem, &refs);
	if (refs.failed) {
		cli_ws_close(&w);
		return CLI_FAIL;
	}
	struct match_run_ctx x = cmd_match_ctx(c, &w);
	x.rematch = m.rematch;
	struct solve_progress pr = {.fn = run_progress, .ud = c};
	if (c->stderr_tty)
		x.progress = &pr;
	struct match_run run;
	struct diag d;
	diag_clear(&d);
	int rc = CLI_OK;
	if (match_run_solve(&x, m.policy[0], &run, &d) < 0)
		rc = cli_diag(&d);
	else if (!m.dry_run && match_run_store(&x, &run, cli_actor(), m.replace, &d) < 0) {
		/* A refused run says why on stderr; with --json the same facts on stdout. */
		if (m.json && run.refusal)
			cli_json_out(json_incref(run.refusal));
		rc = cli_diag(&d);
	}
	else if (!m.dry_run && !m.json && !m.explain && run.store.empty)
		printf("no new partner to propose in %s (rematch, policy %s %s): %d freed mentee%s "
		       "unmatched; nothing stored\n",
		       m.program, run.pol->name, run.pol->version, run.res.nunmatched,
		       run.res.nunmatched == 1 ? "" : "s");
	else if (!m.dry_run && !m.json && !m.explain)
		printf("proposed %d match%s in %s (run %s, policy %s %s%s); %d mentee%s "
		       "unmatched\n",
		       run.nstored, run.nstored == 1 ? "" : "es", m.program, run.run_id,
		       run.pol->name, run.pol->version, m.rematch ? ", rematch" : "",
		       run.res.nunmatched, run.res.nunmatched == 1 ? "" : "s");
	json_t *why = rc == CLI_OK ? match_run_unmatched(&x, &run, &d) : NULL;
	if (rc == CLI_OK && why == NULL)
		rc = cli_diag(&d);
	if (rc == CLI_OK && (m.json || m.dry_run || m.explain)) {
		json_t *doc = match_run_json(&run, m.explain, m.dry_run);
		/* An empty rematch stored no run: no id to name. */
		if (doc && run.store.empty && json_object_set_new(doc, "run_id", json_null()) != 0) {
			json_decref(doc);
			doc = NULL;
		}
		if (doc && json_object_set(doc, "unmatched_reasons", why) != 0) {
			json_decref(doc);
			doc = NULL;
		}
		if (m.json)
			rc = cli_json_out(doc);
		else if (doc == NULL)
			rc = cli_error("out of memory");
		else
			print_pairs(doc, m.explain, m.rematch);
		if (!m.json)
			json_decref(doc);
	}
	if (rc == CLI_OK && !m.json) {
		/* The import counted the enrolled mentees without consent too: say where
		 * they went, so that the two counts add up. */
		long long nc = (long long)json_integer_value(
		    json_object_get(json_object_get(why, "mentees"), "no_consent"));
		if (nc > 0)
			printf("%lld more enrolled mentees without consent were not matched\n", nc);
		print_unmatched(why, stdout);
	}
	json_decref(why);
	match_run_fini(&run);
	cli_ws_close(&w);
	return rc;
}

/* ---- unmatched ---------------------------------------------------------------------- */

/* A dry run of the program's policy (or --policy) and the reason of each person it
 * leaves unmatched: what `match run` would report now. */
static int
match_unmatched(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match unmatched", argc, argv, &m, "pPjm") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL)
		return cli_usage("match unmatched", "missing --program P");
	if (m.npolicy > 1)
		return cli_usage("match unmatched", "one --policy at most");
	const char *pos[1];
	if (cmd_match_positionals(argc, argv, pos, 1) > 0)
		return cli_usage("match unmatched", "unexpected argument '%s'", pos[0]);
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct match_run_ctx x = cmd_match_ctx(c, &w);
	x.rematch = m.rematch;
	struct match_run run;
	struct diag d;
	diag_clear(&d);
	int rc = CLI_OK;
	json_t *why = NULL;
	if (match_run_solve(&x, m.policy[0], &run, &d) < 0 ||
	    (why = match_run_unmatched(&x, &run, &d)) == NULL)
		rc = cli_diag(&d);
	else if (m.json)
		rc = cli_json_out(json_incref(why));
	else
		print_unmatched(why, stdout);
	json_decref(why);
	match_run_fini(&run);
	cli_ws_close(&w);
	return rc;
}

/* ---- compare ------------------------------------------------------------------------ */

/* One row of the comparison: NAME, then each policy's value of KEY (a number, or
 * a number inside the object SUB when SUB is set) printed with FMT. */
static void
comparison_row(struct cli_table *t, json_t *pols, const char *name, const char *sub,
	       const char *key, const char *fmt)
{
	size_t n = json_array_size(pols);
	const char *row[1 + MATCH_RUN_COMPARE_MAX];
	char cell[MATCH_RUN_COMPARE_MAX][32];
	row[0] = name;
	for (size_t j = 0; j < n && j < MATCH_RUN_COMPARE_MAX; j++) {
		json_t *o = json_array_get(pols, j);
		if (sub)
			o = json_object_get(o, sub);
		snprintf(cell[j], sizeof(cell[j]), fmt, json_number_value(json_object_get(o, key)));
		row[1 + j] = cell[j];
	}
	cli_table_add(t, row);
}

/* The summaries of a comparison side by side, one column per policy. */
static void
print_comparison(json_t *doc)
{
	json_t *pols = json_object_get(doc, "policies");
	size_t n = json_array_size(pols);
	if (n > MATCH_RUN_COMPARE_MAX)
		n = MATCH_RUN_COMPARE_MAX;
	struct cli_table *t = cli_table_new((int)n + 1);
	const char *hdr[1 + MATCH_RUN_COMPARE_MAX] = {""};
	for (size_t j = 0; j < n; j++)
		hdr[1 + j] = cmd_match_jstr(json_array_get(pols, j), "policy");
	cli_table_add(t, hdr);
	/* Counts as integers and scores to 4 decimals, as `match run` prints them:
	 * "%g" turned 12345 pairs into "1.234e+04". */
	comparison_row(t, pols, "matched", NULL, "matched", "%.0f");
	comparison_row(t, pols, "unmatched", NULL, "unmatched", "%.0f");
	comparison_row(t, pols, "total", NULL, "total", "%.4f");
	comparison_row(t, pols, "mean", NULL, "mean", "%.4f");
	comparison_row(t, pols, "normalized_total", NULL, "normalized_total", "%.4f");
	comparison_row(t, pols, "normalized_mean", NULL, "normalized_mean", "%.4f");
	comparison_row(t, pols, "score_min", "score_range", "min", "%.4f");
	comparison_row(t, pols, "score_max", "score_range", "max", "%.4f");
	for (int f = 0; f < FEAT_COUNT; f++) {
		char name[64];
		snprintf(name, sizeof(name), "mean %s", feat_name(f));
		comparison_row(t, pols, name, "feature_means", feat_name(f), "%.3f");
	}
	const char *sp[] = {"by_department", "by_location", "by_generation"};
	for (int k = 0; k < 3; k++) {
		char name[64];
		snprintf(name, sizeof(name), "score spread %s", sp[k]);
		comparison_row(t, pols, name, sp[k], "spread", "%.3f");
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	printf("pairs in common: %d\n", (int)json_integer_value(json_object_get(doc, "pairs_in_common")));
	if (n > 2) {
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(doc, "pairs_in_common_by_pair"), i, p)
		{
			json_t *ab = json_object_get(p, "policies");
			printf("pairs in common %s / %s: %d\n", json_string_value(json_array_get(ab, 0)),
			       json_string_value(json_array_get(ab, 1)),
			       (int)json_integer_value(json_object_get(p, "pairs")));
		}
	}
	printf("normalized: each pair's score rescaled to 0..1 over the range of scores the "
	       "policy's solve weighed (score_min..score_max)\n");
}

static int
match_compare(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match compare", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL || m.npolicy < 2)
		return cli_usage("match compare",
				 "expected --program P --policy A --policy B [--policy C ...]");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct match_run_ctx x = cmd_match_ctx(c, &w);
	x.rematch = m.rematch;
	struct solve_progress pr = {.fn = run_progress, .ud = c};
	if (c->stderr_tty)
		x.progress = &pr;
	struct diag d;
	diag_clear(&d);
	json_t *doc = match_run_compare(&x, m.policy, m.npolicy, &d);
	int rc = CLI_OK;
	if (doc == NULL) {
		rc = cli_diag(&d);
	} else if (m.json) {
		rc = cli_json_out(doc);
	} else {
		print_comparison(doc);
		json_decref(doc);
	}
	cli_ws_close(&w);
	return rc;
}

int
cmd_match(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		match_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || cli_wants_help(argc, argv)) {
		match_usage(stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (strcmp(sub, "run") == 0)
		return match_run(c, argc, argv);
	if (strcmp(sub, "list") == 0)
		return cmd_match_list(c, argc, argv);
	if (strcmp(sub, "approve") == 0)
		return cmd_match_decide(c, argc, argv, MATCHES_APPROVE);
	if (strcmp(sub, "reject") == 0)
		return cmd_match_decide(c, argc, argv, MATCHES_REJECT);
	if (strcmp(sub, "pin") == 0)
		return cmd_match_pin_veto(c, argc, argv, 0);
	if (strcmp(sub, "veto") == 0)
		return cmd_match_pin_veto(c, argc, argv, 1);
	if (strcmp(sub, "explain") == 0)
		return cmd_match_explain(c, argc, argv);
	if (strcmp(sub, "export") == 0)
		return cmd_match_export(c, argc, argv);
	if (strcmp(sub, "compare") == 0)
		return match_compare(c, argc, argv);
	if (strcmp(sub, "unmatched") == 0)
		return match_unmatched(c, argc, argv);
	if (strcmp(sub, "end") == 0)
		return cmd_match_end(c, argc, argv);
	if (strcmp(sub, "activate") == 0)
		return cmd_match_activate(c, argc, argv);
	return cli_usage("match", "unknown subcommand '%s'", sub);
}

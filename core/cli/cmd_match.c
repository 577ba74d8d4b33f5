/*
 * cli/cmd_match: `tandem match run|list|approve|reject|pin|veto|explain|compare|unmatched`.
 * Argument parsing and printing only: the pipeline is program/match_run (run,
 * explain a pair, compare: the documents this file prints) over the stages it
 * calls, and program/matches (reviews, listings).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "program/config.h"
#include "program/matches.h"
#include "program/feat.h"
#include "program/match_run.h"
#include "store/store.h"

static void
match_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tandem match run --program P [--policy NAME|FILE] [--dry-run] [--explain] "
	    "[--json]\n"
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
	    "       tandem match unmatched --program P [--policy NAME|FILE] [--json]\n\n"
	    "  run      match the program's enrolled, consenting people with a policy and store\n"
	    "           the result as proposals (replacing unreviewed ones); pinned and\n"
	    "           approved matches are kept. --dry-run prints instead of writing;\n"
	    "           --explain adds each pair's feature contributions.\n"
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
	    "           mentors with unused capacity likewise. `run` prints the same lists.\n\n"
	    "MENTOR and MENTEE are external ids or e-mail addresses. The policy defaults to the\n"
	    "program's `policy` in tandem.lua. Policies are found in WS/policies, then the\n"
	    "built-ins (digital_upskilling, inclusion_listening, reciprocal, cross_department).\n");
}

/* Options shared by the subcommands; each accepts a subset. */
struct mopts {
	const char *program, *status, *reason;
	const char *policy[MATCH_RUN_COMPARE_MAX];
	int npolicy;
	int dry_run, explain, json;
	int optind;
};

static int
parse_opts(const char *cmd, int argc, char **argv, struct mopts *m, const char *allowed)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'}, {"policy", required_argument, NULL, 'P'},
	    {"status", required_argument, NULL, 's'},  {"reason", required_argument, NULL, 'r'},
	    {"dry-run", no_argument, NULL, 'n'},       {"explain", no_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},	       {NULL, 0, NULL, 0},
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
		}
	}
	return CLI_OK;
}

/* The positional arguments (getopt "-" mode hands them back in order). */
static int
positionals(int argc, char **argv, const char **out, int max)
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
static struct match_run_ctx
ctx_of(const struct cli *c, const struct cli_ws *w)
{
	return (struct match_run_ctx){
	    .st = w->st, .ws = c->dir, .prog = w->prog, .program_id = w->program_id};
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ---- explanations ----------------------------------------------------------------- */

static void
print_explanation(json_t *ex, FILE *out)
{
	json_t *feats = json_object_get(ex, "features");
	if (json_is_object(feats)) {
		struct cli_table *t = cli_table_new(5);
		const char *hdr[] = {"feature", "value", "raw", "weight", "contribution"};
		cli_table_add(t, hdr);
		const char *k;
		json_t *v;
		json_object_foreach(feats, k, v)
		{
			char val[32], raw[32], w[32], con[32];
			snprintf(val, sizeof(val), "%.3f",
				 json_number_value(json_object_get(v, "value")));
			json_t *r = json_object_get(v, "raw");
			if (json_is_number(r))
				snprintf(raw, sizeof(raw), "%.3g", json_number_value(r));
			else
				snprintf(raw, sizeof(raw), "unknown");
			snprintf(w, sizeof(w), "%g",
				 json_number_value(json_object_get(v, "weight")));
			double cv = json_number_value(json_object_get(v, "contribution"));
			snprintf(con, sizeof(con), "%+.3f", fabs(cv) < 5e-4 ? 0.0 : cv);
			const char *row[] = {k, val, raw, w, con};
			cli_table_add(t, row);
		}
		cli_table_print(t, out);
		cli_table_delete(t);
	}
	json_t *cons = json_object_get(ex, "constraints");
	if (json_is_object(cons)) {
		fprintf(out, "constraints:");
		const char *k;
		json_t *v;
		json_object_foreach(cons, k, v)
		{
			const char *rule = json_string_value(json_object_get(v, "rule"));
			fprintf(out, " %s=%s%s%s%s", k,
				json_is_true(json_object_get(v, "holds")) ? "yes" : "no",
				rule && strcmp(rule, "none") ? " (" : "",
				rule && strcmp(rule, "none") ? rule : "",
				rule && strcmp(rule, "none") ? ")" : "");
		}
		fprintf(out, "\n");
	}
	const char *verdict = json_string_value(json_object_get(ex, "verdict"));
	if (json_object_get(ex, "builtin") && json_is_null(json_object_get(ex, "lua")))
		fprintf(out, "built-in %.4f; the Lua score was not run (%s)\n",
			json_number_value(json_object_get(ex, "builtin")), verdict ? verdict : "?");
	else if (json_object_get(ex, "builtin"))
		fprintf(out, "built-in %.4f + lua %.4f = score %.4f (%s)\n",
			json_number_value(json_object_get(ex, "builtin")),
			json_number_value(json_object_get(ex, "lua")),
			json_number_value(json_object_get(ex, "score")),
			json_string_value(json_object_get(ex, "verdict"))
			    ? json_string_value(json_object_get(ex, "verdict"))
			    : "?");
}

/* ---- run ---------------------------------------------------------------------------- */

/* The pairs of a run document as a table; with explain, each followed by its explanation. */
static void
print_pairs(json_t *doc, int explain)
{
	struct cli_table *t = cli_table_new(5);
	const char *hdr[] = {"MENTOR", "MENTEE", "SCORE", "LUA", "KEPT"};
	cli_table_add(t, hdr);
	json_t *pairs = json_object_get(doc, "pairs");
	size_t n = json_array_size(pairs), i;
	int kept = 0;
	json_t *p;
	json_array_foreach(pairs, i, p)
	{
		char sc[32], lua[32];
		snprintf(sc, sizeof(sc), "%.4f", json_number_value(json_object_get(p, "score")));
		snprintf(lua, sizeof(lua), "%.4f", json_number_value(json_object_get(p, "lua")));
		int k = json_is_true(json_object_get(p, "kept"));
		kept += k;
		const char *row[] = {jstr(json_object_get(p, "mentor"), "id"),
				     jstr(json_object_get(p, "mentee"), "id"), sc, lua, k ? "yes" : ""};
		cli_table_add(t, row);
		if (explain) {
			cli_table_print(t, stdout);
			cli_table_delete(t);
			print_explanation(json_object_get(p, "explanation"), stdout);
			printf("\n");
			t = cli_table_new(5);
			if (i + 1 < n)
				cli_table_add(t, hdr);
		}
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	printf("%d pairs (%d kept), %d of %d mentees unmatched, total score %.4f\n", (int)n, kept,
	       (int)json_array_size(json_object_get(doc, "unmatched")),
	       (int)json_integer_value(json_object_get(doc, "mentees")),
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
		"better use of capacity)\n",
		strcmp(side, "mentee") == 0 ? "unmatched mentees" : "mentors with unused capacity",
		(long long)json_integer_value(json_object_get(n, "total")),
		(long long)json_integer_value(json_object_get(n, "no_consent")),
		(long long)json_integer_value(json_object_get(n, "no_allowed_partner")),
		(long long)json_integer_value(json_object_get(n, "lost_to_better_use")));
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "people"), i, p)
	{
		if (strcmp(jstr(p, "side"), side) != 0)
			continue;
		const char *reason = jstr(p, "reason");
		fprintf(out, "  %s %s (%s)", side, jstr(p, "id"), jstr(p, "name"));
		if (strcmp(side, "mentor") == 0 && strcmp(reason, "no_consent") != 0)
			fprintf(out, " capacity %lld, used %lld",
				(long long)json_integer_value(json_object_get(p, "capacity")),
				(long long)json_integer_value(json_object_get(p, "used")));
		if (strcmp(reason, "no_consent") == 0) {
			fprintf(out, ": no consent (enrolled without consent)\n");
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
				jstr(b, "id"), jstr(b, "name"),
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
	if (parse_opts("match run", argc, argv, &m, "pPnej") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL)
		return cli_usage("match run", "missing --program P");
	if (m.npolicy > 1)
		return cli_usage("match run", "one --policy at most (see 'match compare')");
	const char *pos[1];
	if (positionals(argc, argv, pos, 1) > 0)
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
	struct match_run_ctx x = ctx_of(c, &w);
	struct solve_progress pr = {.fn = run_progress, .ud = c};
	if (c->stderr_tty)
		x.progress = &pr;
	struct match_run run;
	struct diag d;
	diag_clear(&d);
	int rc = CLI_OK;
	if (match_run_solve(&x, m.policy[0], &run, &d) < 0)
		rc = cli_diag(&d);
	else if (!m.dry_run && match_run_store(&x, &run, cli_actor(), &d) < 0)
		rc = cli_diag(&d);
	else if (!m.dry_run && !m.json && !m.explain)
		printf("proposed %d matches in %s (run %s, policy %s %s); %d mentees "
		       "unmatched\n",
		       run.nstored, m.program, run.run_id, run.pol->name, run.pol->version,
		       run.res.nunmatched);
	json_t *why = rc == CLI_OK ? match_run_unmatched(&x, &run, &d) : NULL;
	if (rc == CLI_OK && why == NULL)
		rc = cli_diag(&d);
	if (rc == CLI_OK && (m.json || m.dry_run || m.explain)) {
		json_t *doc = match_run_json(&run, m.explain, m.dry_run);
		if (doc && json_object_set(doc, "unmatched_reasons", why) != 0) {
			json_decref(doc);
			doc = NULL;
		}
		if (m.json)
			rc = cli_json_out(doc);
		else if (doc == NULL)
			rc = cli_error("out of memory");
		else
			print_pairs(doc, m.explain);
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
	if (parse_opts("match unmatched", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL)
		return cli_usage("match unmatched", "missing --program P");
	if (m.npolicy > 1)
		return cli_usage("match unmatched", "one --policy at most");
	const char *pos[1];
	if (positionals(argc, argv, pos, 1) > 0)
		return cli_usage("match unmatched", "unexpected argument '%s'", pos[0]);
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct match_run_ctx x = ctx_of(c, &w);
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

/* ---- list / approve / reject / pin / veto ------------------------------------------ */

static int
match_list(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (parse_opts("match list", argc, argv, &m, "psj") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL)
		return cli_usage("match list", "missing --program P");
	static const char *const statuses[] = {"proposed", "approved", "rejected",
					       "active",   "ended",    "superseded"};
	if (m.status) {
		int ok = 0;
		for (int i = 0; i < 6; i++)
			ok |= strcmp(m.status, statuses[i]) == 0;
		if (!ok)
			return cli_usage("match list",
					 "--status must be proposed, approved, rejected, "
					 "active, ended or superseded (got '%s')",
					 m.status);
	}
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	json_t *arr = matches_list_json(w.st, w.program_id, m.status, &d);
	cli_ws_close(&w);
	if (arr == NULL)
		return cli_diag(&d);
	if (m.json)
		return cli_json_out(arr);
	/* The first seven columns are the ones scripts parse; names and departments follow. */
	struct cli_table *t = cli_table_new(11);
	const char *hdr[] = {"ID",	    "MENTOR",	  "MENTEE",	 "STATUS",
			     "PINNED",	    "SCORE",	  "POLICY",	 "MENTOR NAME",
			     "DEPARTMENT", "MENTEE NAME", "DEPARTMENT"};
	cli_table_add(t, hdr);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char id[32], sc[32];
		snprintf(id, sizeof(id), "%lld",
			 (long long)json_integer_value(json_object_get(v, "id")));
		json_t *s = json_object_get(v, "score");
		if (json_is_number(s))
			snprintf(sc, sizeof(sc), "%.4f", json_number_value(s));
		else
			sc[0] = '\0';
		const char *pol = json_string_value(json_object_get(v, "policy"));
		const char *row[] = {
		    id,
		    json_string_value(json_object_get(json_object_get(v, "mentor"), "id")),
		    json_string_value(json_object_get(json_object_get(v, "mentee"), "id")),
		    json_string_value(json_object_get(v, "status")),
		    json_is_true(json_object_get(v, "pinned")) ? "yes" : "",
		    sc,
		    pol ? pol : "",
		    jstr(json_object_get(v, "mentor"), "name"),
		    jstr(v, "mentor_department"),
		    jstr(json_object_get(v, "mentee"), "name"),
		    jstr(v, "mentee_department")};
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(arr);
	return CLI_OK;
}

/* "Ana Lima (mentor) - Ben Okafor (mentee)" of a match or veto document. */
static void
print_pair_names(json_t *mentor, json_t *mentee)
{
	printf("%s (mentor) - %s (mentee)", jstr(mentor, "name"), jstr(mentee, "name"));
}

/* One line per decided match: "approved #62: A (mentor) - B (mentee), score 0.83". */
static void
print_decided(const char *verb, json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		printf("%s #%lld: ", verb, (long long)json_integer_value(json_object_get(v, "id")));
		print_pair_names(json_object_get(v, "mentor"), json_object_get(v, "mentee"));
		json_t *sc = json_object_get(v, "score");
		if (json_is_number(sc))
			printf(", score %.2f", json_number_value(sc));
		printf("\n");
	}
}

struct decide_opts {
	const char *run, *program;
	int all, json;
};

static int
decide_opts(const char *cmd, int argc, char **argv, struct decide_opts *o, int64_t *ids, int *n)
{
	static const struct option opts[] = {
	    {"run", required_argument, NULL, 'R'}, {"program", required_argument, NULL, 'p'},
	    {"all", no_argument, NULL, 'a'},	   {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	*n = 0;
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		long v;
		switch (ch) {
		case 1:
			if (cli_parse_int(cmd, "ID", optarg, 1, 0x7fffffffL, &v) < 0)
				return CLI_USAGE;
			ids[(*n)++] = v;
			break;
		case 'R':
			o->run = optarg;
			break;
		case 'p':
			o->program = optarg;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		default:
			return cli_usage(cmd, "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (*n > 0 && (o->run || o->all))
		return cli_usage(cmd, "give IDs, --run RUN or --all --program P, not several");
	if (o->run && o->all)
		return cli_usage(cmd, "give --run RUN or --all --program P, not both");
	if (o->all && o->program == NULL)
		return cli_usage(cmd, "--all needs --program P");
	if (*n == 0 && !o->run && !o->all)
		return cli_usage(cmd, "missing ID (or --run RUN, or --all --program P)");
	if (*n > 0 && o->program)
		return cli_usage(cmd, "--program goes with --run or --all, not with IDs");
	return CLI_OK;
}

/* approve/reject --run RUN | --all --program P: one transaction, counts printed. */
static int
decide_bulk(struct cli *c, const struct decide_opts *o, enum matches_decision what)
{
	const char *verb = what == MATCHES_APPROVE ? "approved" : "rejected";
	struct store *st = NULL;
	struct cli_ws w;
	int64_t program_id = 0;
	if (o->program) {
		if (cli_ws_open(c, o->program, &w) != CLI_OK)
			return CLI_FAIL;
		st = w.st;
		program_id = w.program_id;
	} else if (cli_open_store(c, &st) != CLI_OK) {
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	int n = 0;
	int rc = matches_decide_bulk(st, program_id, o->run, what, cli_actor(), &n, &d);
	if (o->program)
		cli_ws_close(&w);
	else
		store_close(st);
	if (rc < 0)
		return cli_diag(&d);
	if (o->json)
		return cli_json_out(json_pack("{s:s, s:i, s:s?, s:s?}", "action", verb, "count", n,
					      "run_id", o->run, "program", o->program));
	printf("%s %d proposal%s of %s %s\n", verb, n, n == 1 ? "" : "s",
	       o->run ? "run" : "program", o->run ? o->run : o->program);
	return CLI_OK;
}

static int
match_decide(struct cli *c, int argc, char **argv, enum matches_decision what)
{
	const char *cmd = what == MATCHES_APPROVE ? "match approve" : "match reject";
	const char *verb = what == MATCHES_APPROVE ? "approved" : "rejected";
	int64_t *ids = calloc((size_t)argc + 1, sizeof(int64_t));
	if (ids == NULL)
		return cli_error("out of memory");
	struct decide_opts o;
	int n = 0;
	int rc = decide_opts(cmd, argc, argv, &o, ids, &n);
	if (rc != CLI_OK) {
		free(ids);
		return rc;
	}
	if (n == 0) {
		free(ids);
		return decide_bulk(c, &o, what);
	}
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK) {
		free(ids);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	json_t *done = NULL;
	if (matches_decide(st, ids, n, what, cli_actor(), &d) == 0)
		done = matches_ids_json(st, ids, n, &d);
	store_close(st);
	free(ids);
	if (done == NULL)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(json_pack("{s:s, s:i, s:o}", "action", verb, "count", n,
					      "matches", done));
	print_decided(verb, done);
	json_decref(done);
	return CLI_OK;
}

/* Resolves the two people of pin/veto/explain. */
static int
two_people(struct store *st, const char *a, const char *b, int64_t *x, int64_t *y)
{
	struct diag d;
	diag_clear(&d);
	if (matches_find_person(st, a, x, &d) < 0 || matches_find_person(st, b, y, &d) < 0)
		return cli_diag(&d);
	return CLI_OK;
}

/* The document a veto prints: {action, program, mentor, mentee, reason, rejected}. */
static json_t *
veto_json(struct store *st, int64_t mentor, int64_t mentee, const char *program,
	  const char *reason, int nrejected, struct diag *d)
{
	json_t *a = matches_person_json(st, mentor, d);
	json_t *b = a ? matches_person_json(st, mentee, d) : NULL;
	if (b == NULL) {
		json_decref(a);
		return NULL;
	}
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s?, s:i}", "action", "vetoed", "program",
			      program, "mentor", a, "mentee", b, "reason", reason, "rejected",
			      nrejected);
	if (o == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return o;
}

/* Prints (and releases) the document of a pin (an array of the one match) or a veto. */
static int
print_pin_veto(json_t *doc, int veto, int json)
{
	if (json && veto)
		return cli_json_out(doc);
	if (json) {
		json_t *m = json_incref(json_array_get(doc, 0));
		json_decref(doc);
		return cli_json_out(m);
	}
	if (veto) {
		printf("vetoed ");
		print_pair_names(json_object_get(doc, "mentor"), json_object_get(doc, "mentee"));
		int n = (int)json_integer_value(json_object_get(doc, "rejected"));
		printf(" in %s; rejected %d match%s of the pair\n", jstr(doc, "program"), n,
		       n == 1 ? "" : "es");
	} else {
		json_t *m = json_array_get(doc, 0);
		printf("pinned match #%lld: ",
		       (long long)json_integer_value(json_object_get(m, "id")));
		print_pair_names(json_object_get(m, "mentor"), json_object_get(m, "mentee"));
		printf("\n");
	}
	json_decref(doc);
	return CLI_OK;
}

static int
match_pin_veto(struct cli *c, int argc, char **argv, int veto)
{
	const char *cmd = veto ? "match veto" : "match pin";
	struct mopts m;
	if (parse_opts(cmd, argc, argv, &m, veto ? "prj" : "pj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[2];
	int np = positionals(argc, argv, pos, 2);
	if (np != 2)
		return cli_usage(cmd, "expected MENTOR MENTEE");
	if (m.program == NULL)
		return cli_usage(cmd, "missing --program P");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	int64_t mentor, mentee;
	int rc = two_people(w.st, pos[0], pos[1], &mentor, &mentee);
	if (rc == CLI_OK) {
		struct diag d;
		diag_clear(&d);
		int64_t id = 0;
		int nrej = 0;
		int r = veto
			    ? matches_veto(w.st, w.program_id, mentor, mentee, m.reason,
					   cli_actor(), &nrej, &d)
			    : matches_pin(w.st, w.program_id, mentor, mentee, cli_actor(), &id, &d);
		json_t *doc = NULL;
		if (r == 0)
			doc = veto ? veto_json(w.st, mentor, mentee, m.program, m.reason, nrej, &d)
				   : matches_ids_json(w.st, &id, 1, &d);
		if (doc == NULL)
			rc = cli_diag(&d);
		else
			rc = print_pin_veto(doc, veto, m.json);
	}
	cli_ws_close(&w);
	return rc;
}

/* ---- explain ------------------------------------------------------------------------ */

static int
explain_id(struct cli *c, const char *arg, int json)
{
	long id;
	if (cli_parse_int("match explain", "ID", arg, 1, 0x7fffffffL, &id) < 0)
		return CLI_USAGE;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	json_t *o = matches_check_current(st, id, &d) < 0 ? NULL : matches_get_json(st, id, &d);
	store_close(st);
	if (o == NULL)
		return cli_diag(&d);
	if (json)
		return cli_json_out(o);
	json_t *mt = json_object_get(o, "mentor"), *me = json_object_get(o, "mentee");
	const char *pol = json_string_value(json_object_get(o, "policy"));
	printf("match #%ld: mentor %s (%s) -> mentee %s (%s), %s%s, policy %s %s\n", id,
	       json_string_value(json_object_get(mt, "id")),
	       json_string_value(json_object_get(mt, "name")),
	       json_string_value(json_object_get(me, "id")),
	       json_string_value(json_object_get(me, "name")),
	       json_string_value(json_object_get(o, "status")),
	       json_is_true(json_object_get(o, "pinned")) ? ", pinned" : "", pol ? pol : "(none)",
	       pol ? json_string_value(json_object_get(o, "policy_version")) : "");
	json_t *ex = json_object_get(o, "explanation");
	if (json_object_get(ex, "features"))
		print_explanation(ex, stdout);
	else
		printf("pinned by an administrator: no policy explanation\n");
	json_decref(o);
	return CLI_OK;
}

/* The standing of a pair that the program did not match: why not, against whom. */
static void
print_not_chosen(json_t *ex, const char *a, const char *b, int capacity)
{
	if (!json_is_true(json_object_get(ex, "allowed"))) {
		printf("not chosen: the pair is not allowed (%s)\n", jstr(ex, "verdict"));
		return;
	}
	double score = json_number_value(json_object_get(ex, "score"));
	size_t i;
	json_t *v;
	json_t *partners = json_object_get(ex, "mentee_matches");
	json_array_foreach(partners, i, v)
	{
		json_t *s = json_object_get(v, "score");
		printf("not chosen: %s is matched with %s (%s), score %s%.4f vs %.4f here\n", b,
		       jstr(json_object_get(v, "mentor"), "id"), jstr(v, "status"),
		       json_is_number(s) ? "" : "~", json_is_number(s) ? json_number_value(s) : 0.0,
		       score);
	}
	json_array_foreach(json_object_get(ex, "mentor_matches"), i, v)
	{
		json_t *s = json_object_get(v, "score");
		printf("  %s mentors %s (%s), score %.4f\n", a,
		       jstr(json_object_get(v, "mentee"), "id"), jstr(v, "status"),
		       json_is_number(s) ? json_number_value(s) : 0.0);
	}
	if (json_array_size(partners) == 0)
		printf("not chosen: %s has no current match; run 'tandem match run' (capacity "
		       "of %s: %d)\n",
		       b, a, capacity);
}

static int
explain_people(struct cli *c, struct mopts *m, const char *a, const char *b)
{
	struct cli_ws w;
	if (cli_ws_open(c, m->program, &w) != CLI_OK)
		return CLI_FAIL;
	int64_t mentor_id, mentee_id;
	int rc = two_people(w.st, a, b, &mentor_id, &mentee_id);
	if (rc != CLI_OK) {
		cli_ws_close(&w);
		return rc;
	}
	struct match_run_ctx x = ctx_of(c, &w);
	struct match_run_report r;
	struct diag d;
	diag_clear(&d);
	if (match_run_explain(&x, m->policy[0], mentor_id, mentee_id, a, b, &r, &d) < 0) {
		cli_ws_close(&w);
		return cli_diag(&d);
	}
	if (m->json) {
		rc = cli_json_out(json_incref(r.json));
	} else {
		printf("%s (%s) mentoring %s (%s) under policy %s %s\n", a, r.mentor_name, b,
		       r.mentee_name, jstr(r.json, "policy"), jstr(r.json, "policy_version"));
		print_explanation(r.json, stdout);
		if (json_is_true(json_object_get(r.json, "chosen")))
			printf("this pair is matched in %s\n", m->program);
		else
			print_not_chosen(r.json, a, b, r.mentor_capacity);
	}
	match_run_report_fini(&r);
	cli_ws_close(&w);
	return rc;
}

static int
match_explain(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (parse_opts("match explain", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[2];
	int np = positionals(argc, argv, pos, 2);
	if (m.program == NULL) {
		if (np != 1)
			return cli_usage("match explain",
					 "expected ID, or --program P MENTOR MENTEE");
		return explain_id(c, pos[0], m.json);
	}
	if (np != 2)
		return cli_usage("match explain", "expected MENTOR MENTEE with --program");
	return explain_people(c, &m, pos[0], pos[1]);
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
		hdr[1 + j] = jstr(json_array_get(pols, j), "policy");
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
	if (parse_opts("match compare", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL || m.npolicy < 2)
		return cli_usage("match compare",
				 "expected --program P --policy A --policy B [--policy C ...]");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct match_run_ctx x = ctx_of(c, &w);
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
		return match_list(c, argc, argv);
	if (strcmp(sub, "approve") == 0)
		return match_decide(c, argc, argv, MATCHES_APPROVE);
	if (strcmp(sub, "reject") == 0)
		return match_decide(c, argc, argv, MATCHES_REJECT);
	if (strcmp(sub, "pin") == 0)
		return match_pin_veto(c, argc, argv, 0);
	if (strcmp(sub, "veto") == 0)
		return match_pin_veto(c, argc, argv, 1);
	if (strcmp(sub, "explain") == 0)
		return match_explain(c, argc, argv);
	if (strcmp(sub, "export") == 0)
		return cmd_match_export(c, argc, argv);
	if (strcmp(sub, "compare") == 0)
		return match_compare(c, argc, argv);
	if (strcmp(sub, "unmatched") == 0)
		return match_unmatched(c, argc, argv);
	return cli_usage("match", "unknown subcommand '%s'", sub);
}

/*
 * cli/cmd_match: `tandem match run|list|approve|reject|pin|veto|explain|compare`.
 * Argument parsing and printing only: the pipeline is core/policy (solving,
 * explaining) and core/matches (cohorts from the store, proposals, reviews).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "program/config.h"
#include "program/matches.h"
#include "program/cohort.h"
#include "program/explain.h"
#include "program/policy.h"
#include "program/score.h"
#include "program/solve.h"
#include "store/store.h"

static void
match_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tandem match run --program P [--policy NAME|FILE] [--dry-run] [--explain] "
	    "[--json]\n"
	    "       tandem match list --program P [--status S] [--json]\n"
	    "       tandem match approve ID...\n"
	    "       tandem match reject ID...\n"
	    "       tandem match pin MENTOR MENTEE --program P\n"
	    "       tandem match veto MENTOR MENTEE --program P [--reason R]\n"
	    "       tandem match explain ID [--json]\n"
	    "       tandem match explain --program P MENTOR MENTEE [--policy NAME|FILE] [--json]\n"
	    "       tandem match compare --program P --policy A --policy B [--json]\n\n"
	    "  run      match the program's enrolled, consenting people with a policy and store\n"
	    "           the result as proposals (replacing unreviewed ones); pinned and\n"
	    "           approved matches are kept. --dry-run prints instead of writing;\n"
	    "           --explain adds each pair's feature contributions.\n"
	    "  list     the program's matches (status: proposed, approved, rejected, active, "
	    "ended)\n"
	    "  approve  proposed -> approved (nothing becomes active without approval)\n"
	    "  reject   proposed or approved -> rejected\n"
	    "  pin      fix a pair: approved and kept by every later run\n"
	    "  veto     never propose this pair again in the program\n"
	    "  explain  why a pair scores what it scores; for a pair that was not chosen, which\n"
	    "           constraint forbade it or how it compares with the chosen partners\n"
	    "  compare  dry-run two policies on the same cohort and compare the outcomes\n\n"
	    "MENTOR and MENTEE are external ids or e-mail addresses. The policy defaults to the\n"
	    "program's `policy` in tandem.lua. Policies are found in WS/policies, then the\n"
	    "built-ins (digital_upskilling, inclusion_listening, reciprocal, cross_department).\n");
}

/* Options shared by the subcommands; each accepts a subset. */
struct mopts {
	const char *program, *status, *reason;
	const char *policy[2];
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
			if (m->npolicy == 2)
				return cli_usage(cmd, "at most two --policy options");
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

static struct policy *
open_policy(struct cli *c, const struct cli_ws *w, const char *ref, struct diag *d)
{
	if (ref == NULL)
		ref = w->prog ? w->prog->policy : NULL;
	if (ref == NULL) {
		diag_set(d, DIAG_INVALID,
			 "program '%s' names no policy: pass --policy NAME or set policy = \"...\" "
			 "in tandem.lua",
			 w->prog ? w->prog->name : "?");
		return NULL;
	}
	struct policy *pol = policy_open(c->dir, ref, d);
	if (pol == NULL && w->prog && ref == w->prog->policy && d->code == DIAG_NOTFOUND)
		/* The name came from the config, not the command line: say where. */
		diag_prefix(d, "tandem.lua:%d: program '%s': field 'policy'", w->prog->line,
			    w->prog->name);
	return pol;
}

static const char *
pname(const struct cohort *co, int person, int which)
{
	const struct cohort_person *p = &co->people[person];
	const char *s = which ? p->name : p->external_id;
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

static void
make_run_id(struct store *st, char *buf, size_t size)
{
	char ts[STORE_TIME_MAX];
	store_timestamp(st, ts);
	char compact[STORE_TIME_MAX];
	size_t k = 0;
	for (const char *p = ts; *p && k + 1 < sizeof(compact); p++)
		if (*p != '-' && *p != ':')
			compact[k++] = *p;
	compact[k] = '\0';
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(buf, size, "run-%s-%04x", compact,
		 (unsigned)((now.tv_nsec / 1000) ^ (unsigned)getpid()) & 0xffff);
}

static json_t *
result_json(const struct policy *pol, const struct cohort *co,
	    const struct solve_result *res, int explain)
{
	json_t *pairs = json_array(), *unmatched = json_array();
	for (int i = 0; i < res->npairs; i++) {
		const struct solve_pair *p = &res->pairs[i];
		int mp = co->mentors[p->mentor].person, ep = co->mentees[p->mentee].person;
		json_t *o =
		    json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:f, s:f, s:f, s:b}", "mentor", "id",
			      pname(co, mp, 0), "name", pname(co, mp, 1), "mentee", "id",
			      pname(co, ep, 0), "name", pname(co, ep, 1), "score", p->score,
			      "builtin", p->builtin, "lua", p->lua, "kept", p->kept);
		if (explain)
			json_object_set_new(o, "explanation",
					    explain_pair(pol, co, p->mentor, p->mentee, p->lua));
		json_array_append_new(pairs, o);
	}
	for (int i = 0; i < res->nunmatched; i++)
		json_array_append_new(
		    unmatched, json_string(pname(co, co->mentees[res->unmatched[i]].person, 0)));
	return json_pack(
	    "{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:f, s:b, s:I, s:I, s:{s:f, s:f, s:f}}", "program",
	    co->program, "policy", pol->name, "policy_version", pol->version, "mentors",
	    co->nmentors, "mentees", co->nmentees, "pairs", pairs, "unmatched", unmatched, "total",
	    res->total, "candidate_lists", res->sparse, "allowed_pairs", (json_int_t)res->allowed,
	    "lua_calls", (json_int_t)res->lua_calls, "seconds", "features", res->secs_features,
	    "lua", res->secs_lua, "solve", res->secs_solve);
}

static void
print_pairs(const struct policy *pol, const struct cohort *co,
	    const struct solve_result *res, int explain)
{
	struct cli_table *t = cli_table_new(5);
	const char *hdr[] = {"MENTOR", "MENTEE", "SCORE", "LUA", "KEPT"};
	cli_table_add(t, hdr);
	for (int i = 0; i < res->npairs; i++) {
		const struct solve_pair *p = &res->pairs[i];
		char sc[32], lua[32];
		snprintf(sc, sizeof(sc), "%.4f", p->score);
		snprintf(lua, sizeof(lua), "%.4f", p->lua);
		const char *row[] = {pname(co, co->mentors[p->mentor].person, 0),
				     pname(co, co->mentees[p->mentee].person, 0), sc, lua,
				     p->kept ? "yes" : ""};
		cli_table_add(t, row);
		if (explain) {
			cli_table_print(t, stdout);
			cli_table_delete(t);
			json_t *ex = explain_pair(pol, co, p->mentor, p->mentee, p->lua);
			print_explanation(ex, stdout);
			json_decref(ex);
			printf("\n");
			t = cli_table_new(5);
			if (i + 1 < res->npairs)
				cli_table_add(t, hdr);
		}
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	int kept = 0;
	for (int i = 0; i < res->npairs; i++)
		kept += res->pairs[i].kept;
	printf("%d pairs (%d kept), %d of %d mentees unmatched, total score %.4f\n", res->npairs,
	       kept, res->nunmatched, co->nmentees, res->total);
}

/* Loads cohort and policy and solves; the caller frees all three on success. */
static int
solve(struct cli *c, struct cli_ws *w, const char *ref, struct policy **pol, struct cohort *co,
      struct solve_result *res)
{
	struct diag d;
	diag_clear(&d);
	*pol = open_policy(c, w, ref, &d);
	if (*pol == NULL)
		return cli_diag(&d);
	if (cohort_load(w->st, w->program_id, w->prog->name, co, &d) < 0) {
		cohort_fini(co);
		policy_delete(*pol);
		return cli_diag(&d);
	}
	if (solve_cohort(*pol, co, res, &d) < 0) {
		cohort_fini(co);
		policy_delete(*pol);
		return cli_diag(&d);
	}
	return CLI_OK;
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
	struct policy *pol;
	struct cohort co;
	struct solve_result res;
	if (solve(c, &w, m.policy[0], &pol, &co, &res) != CLI_OK) {
		cli_ws_close(&w);
		return CLI_FAIL;
	}
	int rc = CLI_OK;
	char run_id[64] = "dry-run";
	if (!m.dry_run) {
		make_run_id(w.st, run_id, sizeof(run_id));
		struct diag d;
		diag_clear(&d);
		int n;
		if (matches_store_run(w.st, &co, pol, &res, run_id, cli_actor(), &n, &d) < 0)
			rc = cli_diag(&d);
		else if (!m.json && !m.explain)
			printf("proposed %d matches in %s (run %s, policy %s %s); %d mentees "
			       "unmatched\n",
			       n, m.program, run_id, pol->name, pol->version, res.nunmatched);
	}
	if (rc == CLI_OK && m.json) {
		json_t *o = result_json(pol, &co, &res, m.explain);
		json_object_set_new(o, "run_id", m.dry_run ? json_null() : json_string(run_id));
		json_object_set_new(o, "dry_run", json_boolean(m.dry_run));
		rc = cli_json_out(o);
	} else if (rc == CLI_OK && (m.dry_run || m.explain)) {
		print_pairs(pol, &co, &res, m.explain);
	}
	solve_result_fini(&res);
	cohort_fini(&co);
	policy_delete(pol);
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
	static const char *const statuses[] = {"proposed", "approved", "rejected", "active",
					       "ended"};
	if (m.status) {
		int ok = 0;
		for (int i = 0; i < 5; i++)
			ok |= strcmp(m.status, statuses[i]) == 0;
		if (!ok)
			return cli_usage("match list",
					 "--status must be proposed, approved, rejected, "
					 "active or ended (got '%s')",
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
	struct cli_table *t = cli_table_new(7);
	const char *hdr[] = {"ID", "MENTOR", "MENTEE", "STATUS", "PINNED", "SCORE", "POLICY"};
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
		    pol ? pol : ""};
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(arr);
	return CLI_OK;
}

static int
match_decide(struct cli *c, int argc, char **argv, enum matches_decision what)
{
	const char *cmd = what == MATCHES_APPROVE ? "match approve" : "match reject";
	if (argc < 2)
		return cli_usage(cmd, "missing ID");
	int64_t *ids = calloc((size_t)argc, sizeof(int64_t));
	if (ids == NULL)
		return cli_error("out of memory");
	int n = 0;
	for (int i = 1; i < argc; i++) {
		long v;
		if (cli_parse_int(cmd, "ID", argv[i], 1, 0x7fffffffL, &v) < 0) {
			free(ids);
			return CLI_USAGE;
		}
		ids[n++] = v;
	}
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK) {
		free(ids);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	int rc = matches_decide(st, ids, n, what, cli_actor(), &d);
	store_close(st);
	free(ids);
	return rc < 0 ? cli_diag(&d) : CLI_OK;
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

static int
match_pin_veto(struct cli *c, int argc, char **argv, int veto)
{
	const char *cmd = veto ? "match veto" : "match pin";
	struct mopts m;
	if (parse_opts(cmd, argc, argv, &m, veto ? "pr" : "p") != CLI_OK)
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
		int r = veto
			    ? matches_veto(w.st, w.program_id, mentor, mentee, m.reason,
					   cli_actor(), &d)
			    : matches_pin(w.st, w.program_id, mentor, mentee, cli_actor(), &id, &d);
		if (r < 0)
			rc = cli_diag(&d);
		else if (!veto)
			printf("pinned match #%lld\n", (long long)id);
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
	json_t *o = matches_get_json(st, id, &d);
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

static int
side_index(const struct cohort *co, int64_t id, int mentor)
{
	for (int i = 0; i < co->npeople; i++)
		if (co->people[i].id == id)
			return mentor ? cohort_mentor_of(co, i)
				      : cohort_mentee_of(co, i);
	return -1;
}

static int
explain_people(struct cli *c, struct mopts *m, const char *a, const char *b)
{
	struct cli_ws w;
	if (cli_ws_open(c, m->program, &w) != CLI_OK)
		return CLI_FAIL;
	int64_t mentor_id, mentee_id;
	struct diag d;
	diag_clear(&d);
	struct policy *pol = NULL;
	struct cohort co;
	cohort_init(&co);
	json_t *partners = NULL;
	int rc = two_people(w.st, a, b, &mentor_id, &mentee_id);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	if ((pol = open_policy(c, &w, m->policy[0], &d)) == NULL ||
	    cohort_load(w.st, w.program_id, w.prog->name, &co, &d) < 0) {
		cli_diag(&d);
		goto out;
	}
	int cm = side_index(&co, mentor_id, 1), ce = side_index(&co, mentee_id, 0);
	if (cm < 0 || ce < 0) {
		cli_error("%s is not an enrolled %s with consent in %s", cm < 0 ? a : b,
			  cm < 0 ? "mentor" : "mentee", m->program);
		goto out;
	}
	int verdict = feat_check(co.snap, &pol->rules, cm, ce);
	double lua = 0;
	if (verdict == FV_ALLOWED && score_pairs(pol, &co, &cm, &ce, 1, &lua, &d) < 0) {
		cli_diag(&d);
		goto out;
	}
	json_t *ex = explain_pair(pol, &co, cm, ce, lua);
	if (verdict != FV_ALLOWED && pol->has_score) {
		/* The policy's score hook only runs on allowed pairs: showing 0 as its
		 * value would make up a score the pair never had. */
		json_object_set_new(ex, "lua", json_null());
		json_object_set_new(ex, "score", json_null());
	}
	partners = matches_partners_json(w.st, w.program_id, mentee_id, 0, &d);
	json_t *mpart =
	    partners ? matches_partners_json(w.st, w.program_id, mentor_id, 1, &d) : NULL;
	if (partners == NULL || mpart == NULL) {
		json_decref(ex);
		json_decref(mpart);
		cli_diag(&d);
		goto out;
	}
	int chosen = 0;
	size_t i;
	json_t *v;
	json_array_foreach(partners, i, v)
	{
		const char *mid =
		    json_string_value(json_object_get(json_object_get(v, "mentor"), "id"));
		if (mid && strcmp(mid, co.people[co.mentors[cm].person].external_id) == 0)
			chosen = 1;
	}
	json_object_set_new(ex, "chosen", json_boolean(chosen));
	json_object_set_new(ex, "mentee_matches", json_incref(partners));
	json_object_set_new(ex, "mentor_matches", mpart);
	if (m->json) {
		rc = cli_json_out(ex);
		goto out;
	}
	printf("%s (%s) mentoring %s (%s) under policy %s %s\n", a,
	       pname(&co, co.mentors[cm].person, 1), b, pname(&co, co.mentees[ce].person, 1),
	       pol->name, pol->version);
	print_explanation(ex, stdout);
	if (chosen) {
		printf("this pair is matched in %s\n", m->program);
	} else if (verdict != FV_ALLOWED) {
		char why[128];
		feat_verdict_text(verdict, why, sizeof(why));
		printf("not chosen: the pair is not allowed (%s)\n", why);
	} else {
		double score = json_number_value(json_object_get(ex, "score"));
		int any = 0;
		json_array_foreach(partners, i, v)
		{
			json_t *s = json_object_get(v, "score");
			printf(
			    "not chosen: %s is matched with %s (%s), score %s%.4f vs %.4f here\n",
			    b,
			    json_string_value(json_object_get(json_object_get(v, "mentor"), "id")),
			    json_string_value(json_object_get(v, "status")),
			    json_is_number(s) ? "" : "~",
			    json_is_number(s) ? json_number_value(s) : 0.0, score);
			any = 1;
		}
		json_array_foreach(mpart, i, v)
		{
			json_t *s = json_object_get(v, "score");
			printf(
			    "  %s mentors %s (%s), score %.4f\n", a,
			    json_string_value(json_object_get(json_object_get(v, "mentee"), "id")),
			    json_string_value(json_object_get(v, "status")),
			    json_is_number(s) ? json_number_value(s) : 0.0);
		}
		if (!any)
			printf(
			    "not chosen: %s has no current match; run 'tandem match run' (capacity "
			    "of %s: %d)\n",
			    b, a, co.mentors[cm].capacity);
	}
	json_decref(ex);
	rc = CLI_OK;
out:
	json_decref(partners);
	cohort_fini(&co);
	policy_delete(pol);
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

/* Mean score per group (by a person attribute of the mentee) and the spread max - min. */
static json_t *
spread_json(const struct cohort *co, const struct solve_result *res, int which)
{
	json_t *groups = json_object();
	for (int i = 0; i < res->npairs; i++) {
		const struct cohort_person *p =
		    &co->people[co->mentees[res->pairs[i].mentee].person];
		const char *g = which == 0   ? p->department
				: which == 1 ? p->location
					     : p->generation;
		if (g == NULL || g[0] == '\0')
			g = "(unknown)";
		json_t *o = json_object_get(groups, g);
		if (o == NULL) {
			o = json_pack("{s:i, s:f}", "pairs", 0, "sum", 0.0);
			json_object_set_new(groups, g, o);
		}
		json_object_set_new(
		    o, "pairs", json_integer(json_integer_value(json_object_get(o, "pairs")) + 1));
		json_object_set_new(
		    o, "sum",
		    json_real(json_real_value(json_object_get(o, "sum")) + res->pairs[i].score));
	}
	double lo = INFINITY, hi = -INFINITY;
	const char *k;
	json_t *v;
	json_object_foreach(groups, k, v)
	{
		double mean = json_real_value(json_object_get(v, "sum")) /
			      (double)json_integer_value(json_object_get(v, "pairs"));
		json_object_del(v, "sum");
		json_object_set_new(v, "mean_score", json_real(mean));
		lo = mean < lo ? mean : lo;
		hi = mean > hi ? mean : hi;
	}
	return json_pack("{s:o, s:f}", "groups", groups, "spread",
			 json_object_size(groups) ? hi - lo : 0.0);
}

static json_t *
summary_json(const struct policy *pol, const struct cohort *co,
	     const struct solve_result *res)
{
	double sums[FEAT_COUNT] = {0};
	for (int i = 0; i < res->npairs; i++) {
		struct feat_values v;
		feat_eval(co->snap, res->pairs[i].mentor, res->pairs[i].mentee, &v);
		for (int f = 0; f < FEAT_COUNT; f++)
			sums[f] += v.value[f];
	}
	json_t *means = json_object();
	for (int f = 0; f < FEAT_COUNT; f++)
		json_object_set_new(means, feat_name(f),
				    json_real(res->npairs ? sums[f] / res->npairs : 0.0));
	return json_pack("{s:s, s:s, s:i, s:i, s:f, s:f, s:o, s:o, s:o, s:o}", "policy", pol->name,
			 "policy_version", pol->version, "matched", res->npairs, "unmatched",
			 res->nunmatched, "total", res->total, "mean",
			 res->npairs ? res->total / res->npairs : 0.0, "feature_means", means,
			 "by_department", spread_json(co, res, 0), "by_location",
			 spread_json(co, res, 1), "by_generation", spread_json(co, res, 2));
}

static int
match_compare(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (parse_opts("match compare", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	if (m.program == NULL || m.npolicy != 2)
		return cli_usage("match compare", "expected --program P --policy A --policy B");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	struct policy *pol[2] = {NULL, NULL};
	struct cohort co[2];
	struct solve_result res[2];
	int rc = CLI_OK, ok = 0;
	for (; ok < 2; ok++)
		if (solve(c, &w, m.policy[ok], &pol[ok], &co[ok], &res[ok]) != CLI_OK) {
			rc = CLI_FAIL;
			break;
		}
	if (rc == CLI_OK) {
		/* Same cohort loaded twice: side indexes agree, so pairs compare directly. */
		int common = 0;
		int *mentor_of = malloc(((size_t)co[1].nmentees + 1) * sizeof(int));
		if (mentor_of == NULL) {
			rc = cli_error("out of memory");
			goto done;
		}
		for (int r = 0; r < co[1].nmentees; r++)
			mentor_of[r] = -1;
		for (int k = 0; k < res[1].npairs; k++)
			mentor_of[res[1].pairs[k].mentee] = res[1].pairs[k].mentor;
		for (int i = 0; i < res[0].npairs; i++)
			common += mentor_of[res[0].pairs[i].mentee] == res[0].pairs[i].mentor;
		free(mentor_of);
		json_t *a = summary_json(pol[0], &co[0], &res[0]);
		json_t *b = summary_json(pol[1], &co[1], &res[1]);
		if (m.json) {
			rc = cli_json_out(json_pack("{s:s, s:[o, o], s:i}", "program", m.program,
						    "policies", a, b, "pairs_in_common", common));
		} else {
			struct cli_table *t = cli_table_new(3);
			const char *hdr[] = {"", pol[0]->name, pol[1]->name};
			cli_table_add(t, hdr);
			json_t *s[2] = {a, b};
			const char *keys[] = {"matched", "unmatched", "total", "mean"};
			for (int k = 0; k < 4; k++) {
				char x[2][32];
				/* Counts as integers and scores to 4 decimals, as `match run`
				 * prints them: "%g" turned 12345 pairs into "1.234e+04". */
				for (int j = 0; j < 2; j++)
					snprintf(x[j], 32, k < 2 ? "%.0f" : "%.4f",
						 json_number_value(json_object_get(s[j], keys[k])));
				const char *row[] = {keys[k], x[0], x[1]};
				cli_table_add(t, row);
			}
			for (int f = 0; f < FEAT_COUNT; f++) {
				char x[2][32], name[64];
				for (int j = 0; j < 2; j++)
					snprintf(x[j], 32, "%.3f",
						 json_number_value(json_object_get(
						     json_object_get(s[j], "feature_means"),
						     feat_name(f))));
				snprintf(name, sizeof(name), "mean %s", feat_name(f));
				const char *row[] = {name, x[0], x[1]};
				cli_table_add(t, row);
			}
			const char *sp[] = {"by_department", "by_location", "by_generation"};
			for (int k = 0; k < 3; k++) {
				char x[2][32], name[64];
				for (int j = 0; j < 2; j++)
					snprintf(x[j], 32, "%.3f",
						 json_number_value(json_object_get(
						     json_object_get(s[j], sp[k]), "spread")));
				snprintf(name, sizeof(name), "score spread %s", sp[k]);
				const char *row[] = {name, x[0], x[1]};
				cli_table_add(t, row);
			}
			cli_table_print(t, stdout);
			cli_table_delete(t);
			printf("pairs in common: %d\n", common);
			json_decref(a);
			json_decref(b);
		}
	}
done:
	for (int j = 0; j < ok; j++) {
		solve_result_fini(&res[j]);
		cohort_fini(&co[j]);
		policy_delete(pol[j]);
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
	if (strcmp(sub, "compare") == 0)
		return match_compare(c, argc, argv);
	return cli_usage("match", "unknown subcommand '%s'", sub);
}

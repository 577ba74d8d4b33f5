/*
 * cli/cmd_match_explain: `tandem match explain ID` (a stored match and its
 * explanation) and `tandem match explain --program P MENTOR MENTEE` (any pair, as
 * the policy sees it now: matched, not allowed, or not chosen and against whom).
 * Also prints explanations for `match run --explain`. Printing only: the documents
 * come from program/matches and program/match_run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_match.h"
#include "store/store.h"

void
cmd_match_print_explanation(json_t *ex, FILE *out)
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

/* ---- explain ------------------------------------------------------------------------ */

/* "E000019 (Elena Ortiz)" of a match's side, "(erased)" for an erased one. */
static void
side_label(json_t *side, char *buf, size_t size)
{
	if (json_is_null(json_object_get(side, "id")))
		snprintf(buf, size, "(erased)");
	else
		snprintf(buf, size, "%s (%s)", cmd_match_jstr(side, "id"),
			 cmd_match_jstr(side, "name"));
}

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
	char who[2][256];
	side_label(mt, who[0], sizeof(who[0]));
	side_label(me, who[1], sizeof(who[1]));
	printf("match #%ld: mentor %s -> mentee %s, %s%s, policy %s %s\n", id, who[0], who[1],
	       json_string_value(json_object_get(o, "status")),
	       json_is_true(json_object_get(o, "pinned")) ? ", pinned" : "", pol ? pol : "(none)",
	       pol ? json_string_value(json_object_get(o, "policy_version")) : "");
	json_t *ex = json_object_get(o, "explanation");
	if (json_object_get(ex, "features"))
		cmd_match_print_explanation(ex, stdout);
	else if (json_is_null(json_object_get(mt, "id")) || json_is_null(json_object_get(me, "id")))
		printf("no policy explanation: it described the erased person and was removed "
		       "with them\n");
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
		printf("not chosen: the pair is not allowed (%s)\n", cmd_match_jstr(ex, "verdict"));
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
		       cmd_match_jstr(json_object_get(v, "mentor"), "id"), cmd_match_jstr(v, "status"),
		       json_is_number(s) ? "" : "~", json_is_number(s) ? json_number_value(s) : 0.0,
		       score);
	}
	json_array_foreach(json_object_get(ex, "mentor_matches"), i, v)
	{
		json_t *s = json_object_get(v, "score");
		printf("  %s mentors %s (%s), score %.4f\n", a,
		       cmd_match_jstr(json_object_get(v, "mentee"), "id"), cmd_match_jstr(v, "status"),
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
	int rc = cmd_match_two_people(w.st, a, b, &mentor_id, &mentee_id);
	if (rc != CLI_OK) {
		cli_ws_close(&w);
		return rc;
	}
	struct match_run_ctx x = cmd_match_ctx(c, &w);
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
		       r.mentee_name, cmd_match_jstr(r.json, "policy"), cmd_match_jstr(r.json, "policy_version"));
		cmd_match_print_explanation(r.json, stdout);
		if (json_is_true(json_object_get(r.json, "chosen")))
			printf("this pair is matched in %s\n", m->program);
		else
			print_not_chosen(r.json, a, b, r.mentor_capacity);
	}
	match_run_report_fini(&r);
	cli_ws_close(&w);
	return rc;
}

int
cmd_match_explain(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match explain", argc, argv, &m, "pPj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[2];
	int np = cmd_match_positionals(argc, argv, pos, 2);
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

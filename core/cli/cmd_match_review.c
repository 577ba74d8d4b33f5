/*
 * cli/cmd_match_review: `tandem match list|approve|reject|pin|veto`, the review of a
 * program's matches. Argument parsing and printing only: program/matches does the
 * work (matches_list_json, matches_decide, matches_decide_bulk, matches_pin,
 * matches_veto) and gives back the documents printed here; after an approval or a pin,
 * program/lifecycle activates the approved matches of started programs at once. Called
 * by cmd_match.c's dispatch through cmd_match.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_match.h"
#include "program/config.h"
#include "program/lifecycle.h"
#include "store/store.h"

int
cmd_match_list(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match list", argc, argv, &m, "psj") != CLI_OK)
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
		    cmd_match_side(json_object_get(v, "mentor"), "id"),
		    cmd_match_side(json_object_get(v, "mentee"), "id"),
		    json_string_value(json_object_get(v, "status")),
		    json_is_true(json_object_get(v, "pinned")) ? "yes" : "",
		    sc,
		    pol ? pol : "",
		    cmd_match_side(json_object_get(v, "mentor"), "name"),
		    cmd_match_jstr(v, "mentor_department"),
		    cmd_match_side(json_object_get(v, "mentee"), "name"),
		    cmd_match_jstr(v, "mentee_department")};
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
	printf("%s (mentor) - %s (mentee)", cmd_match_side(mentor, "name"),
	       cmd_match_side(mentee, "name"));
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

/*
 * After an approval or a pin: approved matches of programs that have started become active
 * at once (the activate-matches job would at its next run; lifecycle.h), so a rematch or a
 * late pair approved mid-program gets sessions without waiting. *activated = how many.
 * cfg is the workspace's tandem.lua, loaded (ws_config) before the decision commits: a
 * broken one then refuses the command with nothing changed, not after the approval.
 */
static int
activate_started(struct store *st, const struct config *cfg, int *activated)
{
	*activated = 0;
	struct diag d;
	diag_clear(&d);
	return lifecycle_run_due(st, cfg, store_time(st), activated, NULL, &d) != 0 ? cli_diag(&d)
										      : CLI_OK;
}

/* The workspace's tandem.lua, loaded and checked (its problems printed: CLI_FAIL). */
static int
ws_config(struct cli *c, struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	char path[4096];
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", path, sizeof(path))) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	if (config_load(path, cfg, &d) != 0)
		return cli_diag(&d);
	return CLI_OK;
}

static void
print_activated(int n)
{
	if (n > 0)
		printf("activated %d match%s at once: %s program has started\n", n,
		       n == 1 ? "" : "es", n == 1 ? "its" : "their");
}

/* approve/reject --run RUN | --all --program P: one transaction, counts printed. */
static int
decide_bulk(struct cli *c, const struct decide_opts *o, enum matches_decision what)
{
	const char *verb = what == MATCHES_APPROVE ? "approved" : "rejected";
	struct store *st = NULL;
	struct cli_ws w;
	struct config own = {0}; /* --run: tandem.lua read before anything is decided */
	int64_t program_id = 0;
	if (o->program) {
		if (cli_ws_open(c, o->program, &w) != CLI_OK)
			return CLI_FAIL;
		st = w.st;
		program_id = w.program_id;
	} else if ((what == MATCHES_APPROVE && ws_config(c, &own) != CLI_OK) ||
		   cli_open_store(c, &st) != CLI_OK) {
		config_fini(&own);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	int n = 0, act = 0;
	int rc = matches_decide_bulk(st, program_id, o->run, what, cli_actor(), &n, &d);
	int arc = rc < 0 ? CLI_OK
		  : what == MATCHES_APPROVE && n > 0
		      ? activate_started(st, o->program ? &w.cfg : &own, &act)
		      : CLI_OK;
	if (o->program)
		cli_ws_close(&w);
	else
		store_close(st);
	config_fini(&own);
	if (rc < 0)
		return cli_diag(&d);
	if (arc != CLI_OK)
		return arc;
	if (o->json)
		return cli_json_out(json_pack("{s:s, s:i, s:s?, s:s?, s:i}", "action", verb, "count",
					      n, "run_id", o->run, "program", o->program,
					      "activated", act));
	printf("%s %d proposal%s of %s %s\n", verb, n, n == 1 ? "" : "s",
	       o->run ? "run" : "program", o->run ? o->run : o->program);
	print_activated(act);
	return CLI_OK;
}

int
cmd_match_decide(struct cli *c, int argc, char **argv, enum matches_decision what)
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
	/* An approval activates pairs by tandem.lua's dates: read it first, so a broken one
	 * changes nothing. */
	struct store *st;
	struct config cfg = {0};
	if ((what == MATCHES_APPROVE && ws_config(c, &cfg) != CLI_OK) ||
	    cli_open_store(c, &st) != CLI_OK) {
		config_fini(&cfg);
		free(ids);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	json_t *done = NULL;
	int act = 0, arc = CLI_OK;
	if (matches_decide(st, ids, n, what, cli_actor(), &d) == 0) {
		if (what == MATCHES_APPROVE)
			arc = activate_started(st, &cfg, &act);
		done = matches_ids_json(st, ids, n, &d);
	}
	store_close(st);
	config_fini(&cfg);
	free(ids);
	if (done == NULL)
		return cli_diag(&d);
	if (arc != CLI_OK) {
		json_decref(done);
		return arc;
	}
	if (o.json)
		return cli_json_out(json_pack("{s:s, s:i, s:o, s:i}", "action", verb, "count", n,
					      "matches", done, "activated", act));
	print_decided(verb, done);
	json_decref(done);
	print_activated(act);
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
		printf(" in %s; rejected %d match%s of the pair\n", cmd_match_jstr(doc, "program"), n,
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

int
cmd_match_pin_veto(struct cli *c, int argc, char **argv, int veto)
{
	const char *cmd = veto ? "match veto" : "match pin";
	struct mopts m;
	if (cmd_match_opts(cmd, argc, argv, &m, veto ? "prj" : "pj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[2];
	int np = cmd_match_positionals(argc, argv, pos, 2);
	if (np != 2)
		return cli_usage(cmd, "expected MENTOR MENTEE");
	if (m.program == NULL)
		return cli_usage(cmd, "missing --program P");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	int64_t mentor, mentee;
	int rc = cmd_match_two_people(w.st, pos[0], pos[1], &mentor, &mentee);
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
		int act = 0;
		if (r == 0 && !veto)
			rc = activate_started(w.st, &w.cfg, &act);
		if (r == 0 && rc == CLI_OK)
			doc = veto ? veto_json(w.st, mentor, mentee, m.program, m.reason, nrej, &d)
				   : matches_ids_json(w.st, &id, 1, &d);
		if (rc != CLI_OK)
			json_decref(doc);
		else if (doc == NULL)
			rc = cli_diag(&d);
		else if ((rc = print_pin_veto(doc, veto, m.json)) == CLI_OK && !m.json)
			print_activated(act);
	}
	cli_ws_close(&w);
	return rc;
}

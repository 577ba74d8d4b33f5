/*
 * cli/cmd_rewards: `tandem rewards list|leaderboard|dispatch|revoke|certificate|verify`.
 * Argument parsing and printing only: rewards/ledger keeps the ledger, rewards/dispatch
 * delivers events to reward rules, rewards/certificate makes and checks certificates.
 *
 * Called by main.c's dispatch (cmd_rewards).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "io/outfile.h"
#include "program/matches.h"
#include "rewards/certificate.h"
#include "rewards/dispatch.h"
#include "rewards/ledger.h"
#include "store/store.h"

static void
rewards_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem rewards list [--program P] [--person ID] [--json]\n"
		"       tandem rewards leaderboard [--program P] [--as ID] [--json]\n"
		"       tandem rewards dispatch [--rule NAME] [--json]\n"
		"       tandem rewards revoke KEY --reason TEXT [--json]\n"
		"       tandem rewards certificate ID [--program P] [--out FILE]\n"
		"       tandem rewards verify CODE [--json]\n\n"
		"  list         the ledger, oldest first: award key, person, program, points,\n"
		"               badge, reason, the rule and the event that earned it; a\n"
		"               revocation shows the negative points and the row it revokes\n"
		"  leaderboard  people by points (then name), with their badges. Only people who\n"
		"               opted in (enrollment column `leaderboard`) are listed; --as ID\n"
		"               adds that person's own standing whether they opted in or not\n"
		"  dispatch     deliver the new events to every reward rule (WORKSPACE/plugins/\n"
		"               rewards and the built-ins) and write their grants; the service\n"
		"               does the same at each wake, after its jobs. A rule whose\n"
		"               handler fails stops at that event (exit 1, named with the file,\n"
		"               line, event and field) and is retried there next time\n"
		"  revoke       revoke the grant with award key KEY: a compensating entry with the\n"
		"               negative points (a grant is revoked at most once)\n"
		"  certificate  write the completion certificate of person ID (a self-contained\n"
		"               HTML page with a verification code) to FILE (default\n"
		"               certificates/PROGRAM-ID.html in the workspace)\n"
		"  verify       check a certificate's verification code: who, what and when\n"
		"               (exit 0), or why it is not valid (exit 1)\n\n"
		"Options:\n"
		"  --program P   only program P\n"
		"  --person ID   list: only person ID (external id or e-mail)\n"
		"  --as ID       leaderboard: show person ID's own standing too\n"
		"  --rule NAME   dispatch: only the reward rule NAME\n"
		"  --reason TEXT revoke: why (required)\n"
		"  --out FILE    certificate: where to write the page\n"
		"  --json        print JSON\n"
		"  -h, --help    print this help\n");
}

struct ropts {
	const char *arg, *program, *person, *as, *rule, *reason, *out;
	int json;
};

/* Parses options; `allowed` lists the long options this subcommand takes (by letter). */
static int
rewards_opts(const char *cmd, int argc, char **argv, const char *allowed, int want_arg,
	     const char *arg_name, struct ropts *o)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'}, {"person", required_argument, NULL, 'P'},
	    {"as", required_argument, NULL, 'a'},      {"rule", required_argument, NULL, 'r'},
	    {"reason", required_argument, NULL, 'R'},  {"out", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},	       {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		if (ch == 1) {
			if (!want_arg || o->arg != NULL)
				return cli_usage(cmd, "unexpected argument '%s'", optarg);
			o->arg = optarg;
			continue;
		}
		if (ch == '?' || strchr(allowed, ch) == NULL)
			return cli_usage(cmd, "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		switch (ch) {
		case 'p': o->program = optarg; break;
		case 'P': o->person = optarg; break;
		case 'a': o->as = optarg; break;
		case 'r': o->rule = optarg; break;
		case 'R': o->reason = optarg; break;
		case 'o': o->out = optarg; break;
		case 'j': o->json = 1; break;
		}
	}
	if (want_arg && o->arg == NULL)
		return cli_usage(cmd, "missing %s", arg_name);
	return CLI_OK;
}

static const char *
str_or(json_t *v, const char *dflt, char *buf, size_t size)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v) && buf) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return dflt;
}

static int
rewards_list(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards list", argc, argv, "pPj", 0, NULL, &o);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if ((rc = cli_open_store_readonly(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	diag_clear(&d);
	json_t *arr;
	if (cli_program_known(c, st, o.program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	rc = ledger_list(st, o.program, o.person, &arr, &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(arr);
	struct cli_table *t = cli_table_new(8);
	cli_table_add(t, (const char *const[]){"ID", "AT", "PERSON", "PROGRAM", "POINTS", "BADGE",
					       "REASON", "KEY"});
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		char id[32], pts[32];
		const char *cells[8] = {str_or(json_object_get(e, "id"), "", id, sizeof(id)),
					str_or(json_object_get(e, "at"), "", NULL, 0),
					str_or(json_object_get(e, "person"), "", NULL, 0),
					str_or(json_object_get(e, "program"), "-", NULL, 0),
					str_or(json_object_get(e, "points"), "0", pts, sizeof(pts)),
					str_or(json_object_get(e, "badge"), "-", NULL, 0),
					str_or(json_object_get(e, "reason"), "", NULL, 0),
					str_or(json_object_get(e, "award_key"), "", NULL, 0)};
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(arr);
	return CLI_OK;
}

static void
badges_text(json_t *badges, char *buf, size_t size)
{
	buf[0] = '\0';
	size_t i, n = 0;
	json_t *b;
	json_array_foreach(badges, i, b)
	{
		const char *name = json_string_value(b);
		if (name == NULL)
			continue; /* the ledger gives names only; anything else is not shown */
		if (n >= size)
			break; /* full: the rest is cut */
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", name);
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

static int
rewards_leaderboard(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards leaderboard", argc, argv, "paj", 0, NULL, &o);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if ((rc = cli_open_store_readonly(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	diag_clear(&d);
	json_t *board;
	if (cli_program_known(c, st, o.program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	rc = ledger_leaderboard(st, o.program, o.as, &board, &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(board);
	struct cli_table *t = cli_table_new(5);
	cli_table_add(t, (const char *const[]){"RANK", "PERSON", "NAME", "POINTS", "BADGES"});
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(board, "entries"), i, e)
	{
		char rank[32], pts[32], badges[512];
		badges_text(json_object_get(e, "badges"), badges, sizeof(badges));
		const char *cells[5] = {str_or(json_object_get(e, "rank"), "", rank, sizeof(rank)),
					str_or(json_object_get(e, "person"), "", NULL, 0),
					str_or(json_object_get(e, "name"), "", NULL, 0),
					str_or(json_object_get(e, "points"), "0", pts, sizeof(pts)),
					badges};
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_t *you = json_object_get(board, "you");
	if (you != NULL) {
		char badges[512];
		badges_text(json_object_get(you, "badges"), badges, sizeof(badges));
		printf("\nyou (%s): %lld points, rank %lld, badges %s%s\n",
		       str_or(json_object_get(you, "person"), "?", NULL, 0),
		       (long long)json_integer_value(json_object_get(you, "points")),
		       (long long)json_integer_value(json_object_get(you, "rank")), badges,
		       json_is_true(json_object_get(you, "on_board"))
			   ? ""
			   : " (not on the leaderboard: you did not opt in)");
	}
	json_decref(board);
	return CLI_OK;
}

static int
rewards_dispatch_cmd(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards dispatch", argc, argv, "rj", 0, NULL, &o);
	if (rc != CLI_OK)
		return rc;
	char path[4096];
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	int have_cfg = 0;
	struct diag d;
	diag_clear(&d);
	cli_ws_path(c, "tandem.lua", path, sizeof(path));
	if (access(path, F_OK) == 0) {
		if (config_load(path, &cfg, &d) != 0)
			return cli_diag(&d);
		have_cfg = 1;
	}
	struct store *st;
	if ((rc = cli_open_store(c, &st)) != CLI_OK) {
		if (have_cfg)
			config_fini(&cfg);
		return rc;
	}
	struct dispatch_opts opts = {.ws = c->dir, .cfg = have_cfg ? &cfg : NULL, .only = o.rule,
				     .force = 1};
	struct dispatch_result res;
	rc = rewards_dispatch(st, &opts, store_time(st), &res, &d);
	store_close(st);
	if (have_cfg)
		config_fini(&cfg);
	if (rc != 0) {
		dispatch_result_fini(&res);
		return cli_diag(&d);
	}
	if (o.json) {
		json_t *rules = json_array();
		for (int i = 0; i < res.nrules; i++) {
			const struct dispatch_rule *r = &res.rules[i];
			json_array_append_new(
			    rules, json_pack("{ss ss sI sI sI sI sI sb ss?}", "rule", r->name, "path",
					     r->path, "cursor", (json_int_t)r->cursor, "delivered",
					     (json_int_t)r->delivered, "granted",
					     (json_int_t)r->granted, "revoked", (json_int_t)r->revoked,
					     "repeated", (json_int_t)r->repeated, "stopped", r->stopped,
					     "error", r->error[0] ? r->error : NULL));
		}
		json_t *o2 = json_pack("{sI sI sI si so}", "delivered", (json_int_t)res.delivered,
				       "granted", (json_int_t)res.granted, "revoked",
				       (json_int_t)res.revoked, "failed", res.failed, "rules", rules);
		rc = cli_json_out(o2);
	} else {
		for (int i = 0; i < res.nrules; i++) {
			const struct dispatch_rule *r = &res.rules[i];
			printf("%s: %ld event%s delivered, %ld granted, %ld revoked (cursor %lld)\n",
			       r->name, r->delivered, r->delivered == 1 ? "" : "s", r->granted,
			       r->revoked, (long long)r->cursor);
		}
		printf("total: %ld delivered, %ld granted, %ld revoked\n", res.delivered, res.granted,
		       res.revoked);
	}
	for (int i = 0; i < res.nrules; i++)
		if (res.rules[i].error[0])
			fprintf(stderr, "tandem: rule %s: %s\n", res.rules[i].name, res.rules[i].error);
	int failed = res.failed;
	dispatch_result_fini(&res);
	return failed ? CLI_FAIL : rc;
}

static int
rewards_revoke(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards revoke", argc, argv, "Rj", 1, "the award KEY", &o);
	if (rc != CLI_OK)
		return rc;
	if (o.reason == NULL || o.reason[0] == '\0')
		return cli_usage("rewards revoke", "--reason TEXT is required");
	struct store *st;
	if ((rc = cli_open_store(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	diag_clear(&d);
	int done = 0;
	rc = ledger_revoke(st, o.arg, o.reason, NULL, 0, &done, &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(json_pack("{ss sb}", "award_key", o.arg, "revoked", done));
	printf(done ? "revoked %s\n" : "%s was already revoked\n", o.arg);
	return CLI_OK;
}

static int
rewards_certificate(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards certificate", argc, argv, "po", 1, "the person's ID", &o);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if ((rc = cli_open_store(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	diag_clear(&d);
	struct buf b;
	buf_init(&b);
	char code[CERTIFICATE_CODE_MAX];
	if (cli_program_known(c, st, o.program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	/* A person who does not exist is named as every command names one, not as one
	 * without a certificate. */
	int64_t pid;
	if (matches_find_person(st, o.arg, &pid, &d) != 0) {
		store_close(st);
		return cli_diag(&d);
	}
	rc = certificate_html(st, o.arg, o.program, &b, code, &d);
	store_close(st);
	if (rc != 0) {
		buf_fini(&b);
		return cli_diag(&d);
	}
	char path[4096], rel[1024];
	const char *out = o.out;
	if (out == NULL) {
		snprintf(rel, sizeof(rel), "certificates/%s-%s.html", o.program ? o.program : "all",
			 o.arg);
		for (char *p = rel + strlen("certificates/"); *p; p++)
			if (*p == '/' || *p == '\\')
				*p = '_';
		cli_ws_path(c, "certificates", path, sizeof(path));
		(void)mkdir(path, 0755);
		out = cli_ws_path(c, rel, path, sizeof(path));
	}
	rc = outfile_write_all(out, b.data, b.len, &d) != 0 ? cli_diag(&d) : CLI_OK;
	buf_fini(&b);
	if (rc == CLI_OK)
		printf("wrote %s (verification code %s)\n", out, code);
	return rc;
}

static int
rewards_verify(struct cli *c, int argc, char **argv)
{
	struct ropts o;
	int rc = rewards_opts("rewards verify", argc, argv, "j", 1, "the CODE", &o);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if ((rc = cli_open_store_readonly(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	diag_clear(&d);
	json_t *v;
	rc = certificate_verify(st, o.arg, &v, &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(v);
	printf("valid: %s (%s) completed %s (%s) on %s\n",
	       json_string_value(json_object_get(v, "name")),
	       json_string_value(json_object_get(v, "person")),
	       json_string_value(json_object_get(v, "title")),
	       json_string_value(json_object_get(v, "program")),
	       json_string_value(json_object_get(v, "date")));
	json_decref(v);
	return CLI_OK;
}

int
cmd_rewards(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		rewards_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	static const struct {
		const char *name;
		cli_cmd_fn fn;
	} subs[] = {{"list", rewards_list},	    {"leaderboard", rewards_leaderboard},
		    {"dispatch", rewards_dispatch_cmd}, {"revoke", rewards_revoke},
		    {"certificate", rewards_certificate}, {"verify", rewards_verify}};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			if (cli_wants_help(argc - 1, argv + 1)) {
				rewards_usage(stdout);
				return CLI_OK;
			}
			return subs[i].fn(c, argc - 1, argv + 1);
		}
	return cli_usage("rewards", "unknown subcommand '%s'", argv[1]);
}

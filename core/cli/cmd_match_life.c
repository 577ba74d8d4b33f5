/*
 * cli/cmd_match_life: `tandem match end PAIR --reason TEXT` and `tandem match activate
 * --program P`, the lifecycle of approved matches. Argument parsing and printing only:
 * program/lifecycle does the work (lifecycle_find_match, lifecycle_end,
 * lifecycle_run_due). Called by cmd_match.c's dispatch through cmd_match.h; the usage
 * lines are in cmd_match.c's match_usage with the other subcommands'.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_match.h"
#include "program/lifecycle.h"
#include "store/store.h"

int
cmd_match_end(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match end", argc, argv, &m, "prj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[2];
	int npos = cmd_match_positionals(argc, argv, pos, 2);
	if (npos != 1)
		return cli_usage("match end", npos ? "one PAIR only"
						   : "missing PAIR (a match id or MENTOR:MENTEE)");
	if (m.reason == NULL || m.reason[0] == '\0')
		return cli_usage("match end", "missing --reason TEXT");
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	int64_t program_id = 0, id = 0;
	int n = 0, rc = CLI_OK;
	if (m.program && cli_program_known(c, st, m.program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	if ((m.program && matches_program_id(st, m.program, &program_id, &d) != 0) ||
	    lifecycle_find_match(st, program_id, pos[0], &id, &d) != 0 ||
	    lifecycle_end(st, id, m.reason, cli_actor(), &n, &d) != 0)
		rc = cli_diag(&d);
	json_t *doc = NULL;
	if (rc == CLI_OK && (doc = matches_get_json(st, id, &d)) == NULL)
		rc = cli_diag(&d);
	store_close(st);
	if (rc != CLI_OK)
		return rc;
	if (m.json) {
		json_t *out =
		    json_pack("{sI ss ss si so}", "match", (json_int_t)id, "status", "ended",
			      "reason", m.reason, "sessions_cancelled", n, "detail", doc);
		return out ? cli_json_out(out) : cli_error("out of memory");
	}
	printf("match #%lld ended (%s -> %s): %s; %d planned session%s cancelled\n", (long long)id,
	       cmd_match_side(json_object_get(doc, "mentor"), "id"),
	       cmd_match_side(json_object_get(doc, "mentee"), "id"), m.reason, n,
	       n == 1 ? "" : "s");
	json_decref(doc);
	return CLI_OK;
}

int
cmd_match_activate(struct cli *c, int argc, char **argv)
{
	struct mopts m;
	if (cmd_match_opts("match activate", argc, argv, &m, "pj") != CLI_OK)
		return CLI_USAGE;
	const char *pos[1];
	if (cmd_match_positionals(argc, argv, pos, 1) != 0)
		return cli_usage("match activate", "unexpected argument '%s'", pos[0]);
	if (m.program == NULL)
		return cli_usage("match activate", "missing --program P");
	struct cli_ws w;
	if (cli_ws_open(c, m.program, &w) != CLI_OK)
		return CLI_FAIL;
	/* Only the named program: the rest of tandem.lua is left to its own run. */
	struct config one = w.cfg;
	one.programs = (struct config_program *)w.prog;
	one.nprograms = 1;
	struct diag d;
	diag_clear(&d);
	int activated = 0, ended = 0, rc = CLI_OK;
	if (lifecycle_run_due(w.st, &one, store_time(w.st), &activated, &ended, &d) != 0)
		rc = cli_diag(&d);
	cli_ws_close(&w);
	if (rc != CLI_OK)
		return rc;
	if (m.json) {
		json_t *out = json_pack("{ss si si}", "program", m.program, "activated", activated,
					"ended", ended);
		return out ? cli_json_out(out) : cli_error("out of memory");
	}
	printf("%s: %d match%s activated", m.program, activated, activated == 1 ? "" : "es");
	if (ended)
		printf(", %d ended (the program is over)", ended);
	printf("\n");
	return CLI_OK;
}

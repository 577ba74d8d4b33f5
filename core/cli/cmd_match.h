/*
 * cli/cmd_match: what the files of `tandem match` share. cmd_match.c parses the
 * shared options and dispatches the subcommands, and runs run, unmatched and
 * compare; cmd_match_review.c runs list, approve, reject, pin and veto;
 * cmd_match_explain.c runs explain and prints explanations (run --explain prints
 * them too); cmd_match_export.c runs export; cmd_match_life.c runs end and activate. Only these files include this header.
 */
#ifndef TANDEM_CLI_CMD_MATCH_H
#define TANDEM_CLI_CMD_MATCH_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/commands.h"
#include "program/match_run.h"
#include "program/matches.h"

/* Options shared by the subcommands; each accepts a subset. */
struct mopts {
	const char *program, *status, *reason;
	const char *policy[MATCH_RUN_COMPARE_MAX];
	int npolicy;
	int dry_run, explain, json, replace, rematch;
	int optind;
};

/*
 * Parses the options of cmd into m; allowed lists the short codes the subcommand
 * accepts (p program, P policy, s status, r reason, n dry-run, e explain, j json,
 * x replace, m rematch).
 * CLI_OK or a usage error naming cmd.
 */
int cmd_match_opts(const char *cmd, int argc, char **argv, struct mopts *m, const char *allowed);

/* The positional arguments in order: up to max into out; gives how many there are. */
int cmd_match_positionals(int argc, char **argv, const char **out, int max);

/* The pipeline's context of an opened workspace. */
struct match_run_ctx cmd_match_ctx(const struct cli *c, const struct cli_ws *w);

/* The string at key of o, "" when missing. */
const char *cmd_match_jstr(json_t *o, const char *key);
/* KEY ("id", "name") of a match's side object; "(erased)" when the side is null (the
 * person was erased: the match is kept, detached). */
const char *cmd_match_side(json_t *side, const char *key);

/* Resolves the two people of pin/veto/explain (external ids or e-mails). */
int cmd_match_two_people(struct store *st, const char *a, const char *b, int64_t *x, int64_t *y);

/* A pair's explanation: the feature table, the constraints, the score line. */
void cmd_match_print_explanation(json_t *ex, FILE *out);

/* The subcommands; argv[0] is the subcommand's name. */
int cmd_match_list(struct cli *c, int argc, char **argv);    /* cmd_match_review.c */
int cmd_match_decide(struct cli *c, int argc, char **argv,   /* cmd_match_review.c */
		     enum matches_decision what);
int cmd_match_pin_veto(struct cli *c, int argc, char **argv, /* cmd_match_review.c */
		       int veto);
int cmd_match_explain(struct cli *c, int argc, char **argv); /* cmd_match_explain.c */
int cmd_match_end(struct cli *c, int argc, char **argv);      /* cmd_match_life.c */
int cmd_match_activate(struct cli *c, int argc, char **argv); /* cmd_match_life.c */

#endif

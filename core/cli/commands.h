/*
 * cli/commands: the command groups main.c dispatches to. Each group function gets
 * argv starting at the group name (argv[0] = "people") and handles its own
 * subcommands and --help. One file per group: cmd_<group>.c.
 */
#ifndef TANDEM_CLI_COMMANDS_H
#define TANDEM_CLI_COMMANDS_H

#include "cli/cli.h"

int cmd_init(struct cli *c, int argc, char **argv);     /* cmd_init.c */
int cmd_programs(struct cli *c, int argc, char **argv); /* cmd_init.c */
int cmd_import(struct cli *c, int argc, char **argv);   /* cmd_import.c */
/* --encoding NAME / --delimiter ','|';'|tab of both imports: CLI_OK, or a usage error for cmd. */
int cmd_import_input_opt(const char *cmd, const char *opt, const char *arg, const char **encoding,
			 int *delimiter);
#define CMD_IMPORT_INPUT_HELP                                                                      \
	"  --encoding NAME      the file's encoding when not UTF-8 (UTF-8 and UTF-16 with a\n"      \
	"                       byte order mark are recognized), e.g. windows-1252, latin1\n"       \
	"  --delimiter D        ',' ';' or tab (default: detected from the header line)\n"
int cmd_people(struct cli *c, int argc, char **argv);   /* cmd_people.c */
int cmd_gen_org(struct cli *c, int argc, char **argv);  /* cmd_genorg.c */
int cmd_solve(struct cli *c, int argc, char **argv);    /* cmd_solve.c */
int cmd_plugins(struct cli *c, int argc, char **argv);  /* cmd_plugins.c */
int cmd_match(struct cli *c, int argc, char **argv);    /* cmd_match.c */
int cmd_match_export(struct cli *c, int argc, char **argv); /* cmd_match_export.c */
int cmd_sessions(struct cli *c, int argc, char **argv); /* cmd_sessions.c */
int cmd_sessions_plan(struct cli *c, int argc, char **argv); /* cmd_sessions_plan.c */
int cmd_jobs(struct cli *c, int argc, char **argv);     /* cmd_jobs.c */
int cmd_serve(struct cli *c, int argc, char **argv);    /* cmd_serve.c */
int cmd_simulate(struct cli *c, int argc, char **argv); /* cmd_simulate.c */
int cmd_outbox(struct cli *c, int argc, char **argv);   /* cmd_outbox.c */
int cmd_calendar(struct cli *c, int argc, char **argv); /* cmd_calendar.c */
int cmd_tokens(struct cli *c, int argc, char **argv);   /* cmd_tokens.c */
int cmd_health(struct cli *c, int argc, char **argv);   /* cmd_health.c */
int cmd_metrics(struct cli *c, int argc, char **argv);  /* cmd_metrics.c */
int cmd_report(struct cli *c, int argc, char **argv);   /* cmd_report.c */
int cmd_events(struct cli *c, int argc, char **argv);   /* cmd_events.c */
int cmd_rewards(struct cli *c, int argc, char **argv);  /* cmd_rewards.c */

/* Subcommands of `import`, each in its own group's file. argv[0] = "people" / "enrollments". */
int cmd_import_people(struct cli *c, int argc, char **argv);      /* cmd_people.c */
int cmd_import_enrollments(struct cli *c, int argc, char **argv); /* cmd_enroll.c */

#endif

/*
 * cli/main: entry point of the `tandem` executable. Parses the global options
 * (-C DIR, --db FILE, --version, --help), installs the log sink, and hands the
 * rest of argv to the command group named first. `tandem help [COMMAND [SUB]]`
 * is the same as `tandem --help` / `tandem COMMAND [SUB] --help`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"

struct command {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
};

static const struct command commands[] = {
	{"init", cmd_init, "create a workspace (tandem.lua, policies/, plugins/, scripts/, tandem.db)"},
	{"programs", cmd_programs, "list the programs the workspace config declares"},
	{"import", cmd_import, "import people or enrollments from CSV (all-or-nothing)"},
	{"people", cmd_people, "list, show, export or erase people"},
	{"gen-org", cmd_gen_org, "write a synthetic, deterministic organization as CSV"},
	{"solve", cmd_solve, "solve an assignment or stable matching from a .npy or CSV matrix"},
	{"plugins", cmd_plugins, "list plugins or check a plugin file"},
	{"match", cmd_match, "run, review, explain and compare matchings"},
	{"sessions", cmd_sessions, "list sessions, check in, cancel or reschedule them"},
	{"health", cmd_health, "which active pairs of a program are on track, need a check-in or are at risk"},
	{"jobs", cmd_jobs, "list scheduled jobs, their runs and why runs were skipped; run one now"},
	{"serve", cmd_serve, "run the background service (jobs, reminders, HTTP API) until stopped"},
	{"simulate", cmd_simulate, "run a program for months in seconds on a copy of the workspace"},
	{"tokens", cmd_tokens, "create, list or revoke the HTTP API's bearer tokens"},
	{"outbox", cmd_outbox, "list the messages, deliver what is due, queue reminders"},
	{"calendar", cmd_calendar, "export sessions as an iCalendar (.ics) file"},
	{"metrics", cmd_metrics, "a program's metrics: funnel, sessions, ratings, goals, retention"},
	{"report", cmd_report, "a program's report (HTML with charts, Markdown, CSV or JSON)"},
	{"events", cmd_events, "list the event log: every state change, oldest first"},
	{"rewards", cmd_rewards, "reward ledger, leaderboards, dispatch to reward rules, certificates"},
	{NULL, NULL, NULL},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: tandem [-C DIR] [--db FILE] COMMAND [ARGS...]\n"
		     "       tandem --version | --help | help [COMMAND [SUBCOMMAND]]\n\n"
		     "tandem runs reverse-mentoring programs: people, matching, sessions, rewards.\n\n"
		     "Global options:\n"
		     "  -C DIR       run in workspace DIR, as if started there (default: the current folder)\n"
		     "  --db FILE    use FILE as the database (default: DIR/tandem.db)\n"
		     "  --version    print the version and exit\n"
		     "  -h, --help   print this help and exit\n\n"
		     "Commands:\n");
	for (const struct command *cmd = commands; cmd->name; cmd++)
		fprintf(out, "  %-10s %s\n", cmd->name, cmd->summary);
	fprintf(out, "  %-10s %s\n", "help", "print this help, or a command's: tandem help COMMAND");
	fprintf(out, "\nRun 'tandem COMMAND --help' (or 'tandem help COMMAND') for a command's options.\n");
}

static const struct command *
find_command(const char *name)
{
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

/*
 * `tandem help [COMMAND [SUB...]]`: runs COMMAND [SUB...] --help, so the text
 * stays the one each command prints for --help (no second copy to keep in step).
 */
static int
help_command(struct cli *c, int argc, char **argv)
{
	/* `tandem help --help` is help about help: the same text. */
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	const struct command *cmd = find_command(argv[1]);
	if (cmd == NULL) {
		fprintf(stderr, "tandem help: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return CLI_USAGE;
	}
	char *args[16];
	int n = 0;
	for (int k = 1; k < argc && n < 14; k++)
		args[n++] = argv[k];
	args[n++] = "--help";
	args[n] = NULL;
	return cmd->fn(c, n, args);
}

static void
log_to_stderr(void *ud, int level, const char *msg)
{
	(void)ud;
	static const char *names[] = {"debug", "info", "warning", "error"};
	if (level == TLOG_DEBUG && getenv("TANDEM_DEBUG") == NULL)
		return;
	fprintf(stderr, "tandem: %s: %s\n", names[level & 3], msg);
}

int
main(int argc, char **argv)
{
	struct cli c = {.dir = ".", .dir_name = ".", .db_path = NULL, .stderr_tty = isatty(STDERR_FILENO)};
	tlog_set_handler(log_to_stderr, NULL);

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("tandem %s\n", TANDEM_VERSION);
			return CLI_OK;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CLI_OK;
		} else if (strcmp(a, "-C") == 0 || strcmp(a, "--db") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tandem: %s needs an argument\n", a);
				return CLI_USAGE;
			}
			if (a[1] == 'C')
				c.dir = argv[++i];
			else
				c.db_path = argv[++i];
		} else if (strncmp(a, "-C", 2) == 0) {
			c.dir = a + 2;
		} else if (strncmp(a, "--db=", 5) == 0) {
			c.db_path = a + 5;
		} else {
			fprintf(stderr, "tandem: unknown option '%s'\n", a);
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	/* Like git -C and make -C: every relative path is relative to the workspace.
	 * `help` reads no workspace, so a -C folder that does not exist is no error. */
	if (strcmp(c.dir, ".") != 0 && strcmp(argv[i], "help") != 0) {
		c.dir_name = c.dir;
		if (chdir(c.dir) == 0) {
			c.dir = ".";
		} else if (errno == ENOENT && strcmp(argv[i], "init") == 0) {
			/* `tandem -C new init`: init creates the folder itself. */
		} else if (errno == ENOENT) {
			fprintf(stderr, "tandem: no workspace at %s (no such folder); run 'tandem init %s'\n",
				c.dir, c.dir);
			return CLI_FAIL;
		} else {
			fprintf(stderr, "tandem: cannot enter workspace folder %s: %s\n", c.dir,
				strerror(errno));
			return CLI_FAIL;
		}
	}
	if (strcmp(argv[i], "help") == 0)
		return help_command(&c, argc - i, argv + i);
	const struct command *cmd = find_command(argv[i]);
	if (cmd != NULL)
		return cmd->fn(&c, argc - i, argv + i);
	fprintf(stderr, "tandem: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return CLI_USAGE;
}

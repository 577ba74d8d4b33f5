/*
 * cli/cmd_calendar: `tandem calendar export [--person ID | --program P] [--out FILE.ics]`,
 * the sessions as an iCalendar file for calendar clients. Argument parsing only:
 * sched/calendar builds the document (UIDs stable across exports, one event per
 * reschedule chain, STATUS:CANCELLED, SEQUENCE), time/ical writes it. --out goes
 * through io/outfile: a temporary file renamed into place, so a failed export never
 * leaves half a file (without --out: standard output).
 *
 * Called by main.c's dispatch (cmd_calendar).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "cli/commands.h"
#include "io/outfile.h"
#include "program/config.h"
#include "program/matches.h"
#include "sched/calendar.h"
#include "store/store.h"

static void
calendar_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem calendar export [--person ID | --program P] [--out FILE.ics]\n\n"
		"  export  the sessions (of one person, either side, or of one program; default:\n"
		"          all) as an RFC 5545 calendar, METHOD:PUBLISH, one event per session,\n"
		"          times in the pair's zone with a VTIMEZONE named by its IANA name\n\n"
		"Options:\n"
		"  --person ID    an external id or e-mail address\n"
		"  --program P    a program of tandem.lua\n"
		"  --out FILE     write FILE (atomically) instead of standard output\n"
		"  -h, --help     print this help\n\n"
		"Each event's UID is session-<id>@<workspace> (the workspace id comes from\n"
		"tandem.lua's organization), so importing a new export updates the events instead\n"
		"of adding them again; a rescheduled session keeps its first session's UID with a\n"
		"higher SEQUENCE, and a cancelled one is exported with STATUS:CANCELLED.\n\n"
		"With no session to export (a person without sessions, say) it writes nothing\n"
		"and exits 1: RFC 5545 wants at least one event in a calendar.\n");
}

static int
calendar_export_cmd(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"person", required_argument, NULL, 'p'},
		{"program", required_argument, NULL, 'g'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *person = NULL, *program = NULL, *out = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			person = optarg;
			break;
		case 'g':
			program = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cli_bad_option("calendar export", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage("calendar export", "unexpected argument '%s'", argv[optind]);
	if (person != NULL && program != NULL)
		return cli_usage("calendar export", "give --person or --program, not both");

	char path[4096];
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", path, sizeof(path))) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	struct config cfg = {0};
	if (config_load(path, &cfg, &d) != 0)
		return cli_diag(&d);
	struct store *st;
	int rc = cli_open_store(c, &st);
	if (rc != CLI_OK) {
		config_fini(&cfg);
		return rc;
	}
	struct calendar_filter f = {0};
	char domain[CALENDAR_DOMAIN_MAX];
	calendar_domain(cfg.organization, domain);
	struct calendar_opts o = {.domain = domain, .organizer = cfg.mail_from != NULL ? cfg.mail_from
											: "tandem@localhost",
				  .now = store_time(st)};
	struct buf b;
	buf_init(&b);
	size_t count = 0;
	if (program != NULL && cli_program_known(c, st, program) != CLI_OK)
		rc = CLI_FAIL;
	else if ((person != NULL && matches_find_person(st, person, &f.person_id, &d) != 0) ||
		 (program != NULL && matches_program_id(st, program, &f.program_id, &d) != 0) ||
		 calendar_export(st, &f, &o, &b, &count, &d) != 0)
		rc = cli_diag(&d);
	store_close(st);
	config_fini(&cfg);
	/* RFC 5545 wants at least one component: an empty VCALENDAR is refused by clients. */
	if (rc == CLI_OK && count == 0)
		rc = cli_error("no session to export%s%s%s%s: a calendar needs at least one event "
			       "(RFC 5545); nothing written",
			       person != NULL ? " for " : "", person != NULL ? person : "",
			       program != NULL ? " in program " : "", program != NULL ? program : "");
	if (rc == CLI_OK) {
		if (outfile_write_all(out, b.data, b.len, &d) != 0)
			rc = cli_diag(&d);
	}
	buf_fini(&b);
	if (rc == CLI_OK && out != NULL)
		fprintf(stderr, "tandem: wrote %zu event%s to %s\n", count, count == 1 ? "" : "s", out);
	return rc;
}

int
cmd_calendar(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		calendar_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || cli_wants_help(argc, argv)) {
		calendar_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "export") == 0)
		return calendar_export_cmd(c, argc - 1, argv + 1);
	return cli_usage("calendar", "unknown subcommand '%s'", sub);
}

/*
 * cli/cmd_enroll: `tandem import enrollments FILE.csv --program P [--dry-run]
 * [--map COLUMN=FIELD ...]`. The program must be declared in tandem.lua; the
 * import itself is core/enroll (all-or-nothing).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "program/config.h"
#include "program/enroll.h"
#include "store/store.h"

enum { ENROLL_ERRORS_SHOWN = 50 };

static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

static void
enroll_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tandem import enrollments FILE.csv --program P [--dry-run] [--map COLUMN=FIELD "
	    "...]\n"
	    "                            [--encoding NAME] [--delimiter D]\n\n"
	    "Imports the sign-up survey of program P (declared in tandem.lua). Nothing is written\n"
	    "unless every row is valid; each problem is printed as FILE:LINE:COLUMN: field: "
	    "message.\n"
	    "Rows are upserted by (program, person).\n\n"
	    "Columns (header, any order, any case):\n"
	    "  person          external id or e-mail of a person already imported (required)\n"
	    "  role            mentor | mentee | both (required; juniors enroll as mentors)\n"
	    "  capacity        mentees a mentor takes, 0..1000 (empty = 1)\n"
	    "  topics_offered  ';'-separated topics the person can teach\n"
	    "  topics_wanted   ';'-separated topics the person wants to learn\n"
	    "  availability    ';'-separated slots DAY-PART: mon..sun, am|pm|eve (mon-am;wed-pm)\n"
	    "  consent         yes | no | true | false | 1 | 0 (required; only yes is matched)\n"
	    "Other columns are kept in the enrollment's attributes. Topics the program does not\n"
	    "declare are accepted with a warning.\n\n"
	    "Options:\n"
	    "  --program P          the program (required)\n"
	    "  --dry-run            validate and count; write nothing\n"
	    "  --map COLUMN=FIELD   read header COLUMN as FIELD (repeatable)\n"
	    CMD_IMPORT_INPUT_HELP
	    "  -h, --help           print this help\n");
}

int
cmd_import_enrollments(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"map", required_argument, NULL, 'm'},
	    {"encoding", required_argument, NULL, 'E'},
	    {"delimiter", required_argument, NULL, 'D'},
	    {"program", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv)) {
		enroll_usage(stdout);
		return CLI_OK;
	}
	const char **map = calloc((size_t)argc + 1, sizeof(char *));
	if (map == NULL)
		return cli_error("out of memory");
	struct enroll_opts o = {.map = map};
	const char *program = NULL;
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'n') {
			o.dry_run = 1;
		} else if (ch == 'p') {
			program = optarg;
		} else if (ch == 'E' || ch == 'D') {
			int urc = cmd_import_input_opt("import enrollments", ch == 'E' ? "encoding" : "delimiter",
						       optarg, &o.encoding, &o.delimiter);
			if (urc != CLI_OK) {
				free(map);
				return urc;
			}
		} else if (ch == 'm') {
			if (strchr(optarg, '=') == NULL) {
				free(map);
				return cli_usage("import enrollments",
						 "--map expects COLUMN=FIELD, got '%s'", optarg);
			}
			map[o.nmap++] = optarg;
		} else {
			free(map);
			return cli_usage("import enrollments",
					 "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (argc - optind != 1 || program == NULL) {
		free(map);
		return cli_usage("import enrollments", program == NULL ? "missing --program P"
						       : argc - optind == 0
							   ? "missing FILE.csv"
							   : "expected one FILE.csv");
	}
	const char *file = argv[optind];
	o.actor = cli_actor();
	struct cli_ws w;
	if (cli_ws_open(c, program, &w) != CLI_OK) {
		free(map);
		return CLI_FAIL;
	}
	o.topics = (const char *const *)w.prog->topics;
	o.ntopics = w.prog->ntopics;
	struct diag d;
	diag_clear(&d);
	struct enroll_result res;
	int rc = enroll_import_file(w.st, w.program_id, file, &o, &res, &d);
	cli_ws_close(&w);
	free(map);
	for (int i = 0; i < res.nwarnings && i < ENROLL_ERRORS_SHOWN; i++)
		fprintf(stderr, "tandem: warning: %s\n", res.warnings[i]);
	if (res.nwarnings > ENROLL_ERRORS_SHOWN)
		fprintf(stderr, "tandem: ... and %d more warnings\n",
			res.nwarnings - ENROLL_ERRORS_SHOWN);
	if (rc != 0) {
		for (int i = 0; i < res.nkept && i < ENROLL_ERRORS_SHOWN; i++)
			fprintf(stderr, "%s\n", res.errors[i]);
		if (res.nerrors > ENROLL_ERRORS_SHOWN)
			fprintf(stderr, "... and %ld more\n", res.nerrors - ENROLL_ERRORS_SHOWN);
		enroll_result_fini(&res);
		return cli_diag(&d);
	}
	if (o.dry_run)
		printf("would import %ld enrollment%s in %s: %ld new, %ld updated, %ld mentor%s, "
		       "%ld mentee%s (dry run: nothing written)\n",
		       res.total, plural(res.total), program, res.created, res.updated, res.mentors,
		       plural(res.mentors), res.mentees, plural(res.mentees));
	else
		printf("imported %ld enrollment%s in %s (%ld new, %ld updated; %ld mentor%s, %ld "
		       "mentee%s)\n",
		       res.total, plural(res.total), program, res.created, res.updated, res.mentors,
		       plural(res.mentors), res.mentees, plural(res.mentees));
	enroll_result_fini(&res);
	return CLI_OK;
}

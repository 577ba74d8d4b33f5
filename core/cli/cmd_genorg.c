/*
 * cli/cmd_genorg: `tandem gen-org`, a synthetic organization as people CSV, and
 * optionally the sign-up survey of a program drawn from it.
 *
 * The generator is program/genorg; this file parses options and writes the rows
 * with io/csv into io/outfile files, which appear only when everything was
 * written, so a failure never leaves a half file behind (devices and pipes are
 * written in place).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "io/csv.h"
#include "io/outfile.h"
#include "program/genorg.h"

static const char *const CMD = "gen-org";

static void
help(void)
{
	printf(
	    "usage: tandem gen-org --people N [--seed S] [--out FILE.csv]\n"
	    "                      [--survey PROGRAM --survey-out FILE.csv [--survey-size M]]\n\n"
	    "Writes a realistic, deterministic organization as people CSV (the format\n"
	    "'tandem import people' reads): a CEO, VPs heading departments, directors,\n"
	    "managers and individual contributors in 10 locations. The same N and seed\n"
	    "give byte-identical output on any machine.\n\n"
	    "Options:\n"
	    "  --people N           number of people, 1 to %d (required)\n"
	    "  --seed S             random seed, 0 to %ld (default 1)\n"
	    "  --out FILE           write the people CSV to FILE (default: standard output)\n"
	    "  --survey PROGRAM     also write the sign-up survey of reverse-mentoring\n"
	    "                       program PROGRAM (the name seeds the draw)\n"
	    "  --survey-out FILE    where to write the survey CSV (required with --survey)\n"
	    "  --survey-size M      people who answer the survey, 1 to N (default: 40%% of N)\n"
	    "  -h, --help           print this help and exit\n\n"
	    "People CSV columns:\n  %s",
	    GENORG_MAX_PEOPLE, LONG_MAX, genorg_columns[0]);
	for (int i = 1; i < GENORG_NCOLS; i++)
		printf(",%s", genorg_columns[i]);
	printf("\nSurvey CSV columns:\n  %s", genorg_survey_columns[0]);
	for (int i = 1; i < GENORG_SURVEY_NCOLS; i++)
		printf(",%s", genorg_survey_columns[i]);
	printf("\n  role: mentor|mentee|both; capacity: 1-3 for mentors and both, empty for\n"
	       "  mentees; lists separated by ';'; availability slots mon-am .. fri-pm;\n"
	       "  consent: yes|no.\n");
}

struct opts {
	long people;
	long seed;
	long survey_size; /* 0 = default */
	const char *out;
	const char *survey;
	const char *survey_out;
};

static int
parse(int argc, char **argv, struct opts *o)
{
	enum { O_PEOPLE = 256, O_SEED, O_OUT, O_SURVEY, O_SURVEY_OUT, O_SURVEY_SIZE };
	static const struct option longopts[] = {
	    {"people", required_argument, NULL, O_PEOPLE},
	    {"seed", required_argument, NULL, O_SEED},
	    {"out", required_argument, NULL, O_OUT},
	    {"survey", required_argument, NULL, O_SURVEY},
	    {"survey-out", required_argument, NULL, O_SURVEY_OUT},
	    {"survey-size", required_argument, NULL, O_SURVEY_SIZE},
	    {NULL, 0, NULL, 0},
	};
	int have_people = 0, opt;
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case O_PEOPLE:
			if (cli_parse_int(CMD, "--people", optarg, 1, GENORG_MAX_PEOPLE,
					  &o->people) != 0)
				return CLI_USAGE;
			have_people = 1;
			break;
		case O_SEED:
			if (cli_parse_int(CMD, "--seed", optarg, 0, LONG_MAX, &o->seed) != 0)
				return CLI_USAGE;
			break;
		case O_OUT:
			o->out = optarg;
			break;
		case O_SURVEY:
			o->survey = optarg;
			break;
		case O_SURVEY_OUT:
			o->survey_out = optarg;
			break;
		case O_SURVEY_SIZE:
			if (cli_parse_int(CMD, "--survey-size", optarg, 1, GENORG_MAX_PEOPLE,
					  &o->survey_size) != 0)
				return CLI_USAGE;
			break;
		case ':':
			return cli_usage(CMD, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!have_people)
		return cli_usage(CMD, "--people N is required");
	if (o->survey != NULL && o->survey[0] == '\0')
		return cli_usage(CMD, "--survey needs a program name");
	if (o->survey != NULL && o->survey_out == NULL)
		return cli_usage(CMD, "--survey needs --survey-out FILE");
	if (o->survey == NULL && (o->survey_out != NULL || o->survey_size != 0))
		return cli_usage(CMD, "--survey-out and --survey-size need --survey PROGRAM");
	if (o->survey_size > o->people)
		return cli_usage(CMD, "--survey-size %ld is more than the %ld people",
				 o->survey_size, o->people);
	if (o->out != NULL && o->survey_out != NULL && strcmp(o->out, o->survey_out) == 0)
		return cli_usage(CMD, "--out and --survey-out name the same file");
	return CLI_OK;
}

static int
write_people(const struct genorg *g, FILE *f, struct genorg_row *row)
{
	struct diag d;
	if (csv_write_row(f, genorg_columns, GENORG_NCOLS) != 0)
		return -1;
	for (long i = 0; i < genorg_count(g); i++) {
		if (genorg_format(g, i, row, &d) != 0)
			return cli_diag(&d), -1;
		if (csv_write_row(f, row->field, GENORG_NCOLS) != 0)
			return -1;
	}
	return 0;
}

static int
write_survey(const struct genorg_survey *s, FILE *f, struct genorg_row *row)
{
	struct diag d;
	if (csv_write_row(f, genorg_survey_columns, GENORG_SURVEY_NCOLS) != 0)
		return -1;
	for (long i = 0; i < genorg_survey_count(s); i++) {
		if (genorg_survey_format(s, i, row, &d) != 0)
			return cli_diag(&d), -1;
		if (csv_write_row(f, row->field, GENORG_SURVEY_NCOLS) != 0)
			return -1;
	}
	return 0;
}

/* Reports a stream error (a formatting error was already reported); returns 0 for `ok`. */
static int
write_failed(const struct outfile *o)
{
	if (ferror(o->f))
		cli_error("cannot write '%s': %s", outfile_name(o), strerror(errno));
	return 0;
}

/* Opens path into o; reports a failure; true when open. */
static int
opened(struct outfile *o, const char *path)
{
	struct diag d;
	diag_clear(&d);
	if (outfile_open(o, path, &d) == 0)
		return 1;
	cli_diag(&d);
	return 0;
}

/* Closes o; reports a write failure; true when o is complete and ok was. */
static int
closed(struct outfile *o, int ok)
{
	struct diag d;
	diag_clear(&d);
	if (outfile_close(o, ok, &d) == 0)
		return 1;
	if (d.msg[0])
		cli_diag(&d);
	return 0;
}

/*
 * Generates and writes; a write failure in either file leaves neither. (Only a
 * rename failure of the survey after the people file was renamed can split them.)
 */
static int
run(const struct opts *o)
{
	struct diag d;
	diag_clear(&d);
	struct genorg_opts go = {.people = o->people, .seed = (uint64_t)o->seed};
	struct genorg *g = genorg_new(&go, &d);
	if (g == NULL)
		return cli_diag(&d);
	struct genorg_survey *s = NULL;
	if (o->survey != NULL &&
	    (s = genorg_survey_new(g, o->survey, o->survey_size, &d)) == NULL) {
		genorg_delete(g);
		return cli_diag(&d);
	}

	struct genorg_row row;
	struct outfile people = {0}, survey = {0};
	int ok = opened(&people, o->out);
	if (ok && s != NULL)
		ok = opened(&survey, o->survey_out);
	if (ok && write_people(g, people.f, &row) != 0)
		ok = write_failed(&people);
	if (ok && s != NULL && write_survey(s, survey.f, &row) != 0)
		ok = write_failed(&survey);
	/* Close both even after a failure, so no temporary file is left behind. */
	ok = closed(&people, ok) && ok;
	ok = closed(&survey, ok) && ok;
	if (!ok)
		outfile_discard(&people);
	else if (outfile_commit(&people, &d) != 0 || outfile_commit(&survey, &d) != 0) {
		cli_diag(&d);
		ok = 0;
	}
	/* A summary only when the CSV went to files: on stdout it would mix with the CSV's
	 * readers' stderr for nothing (the pipe shows what came through). */
	if (ok && o->out != NULL) {
		fprintf(stderr, "gen-org: %ld people to %s", o->people, o->out);
		if (s != NULL)
			fprintf(stderr, ", survey of program '%s': %ld rows to %s", o->survey,
				genorg_survey_count(s), o->survey_out);
		fprintf(stderr, " (seed %ld)\n", o->seed);
	}
	genorg_survey_delete(s);
	genorg_delete(g);
	return ok ? CLI_OK : CLI_FAIL;
}

int
cmd_gen_org(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (cli_wants_help(argc, argv)) {
		help();
		return CLI_OK;
	}
	struct opts o;
	int rc = parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	return run(&o);
}

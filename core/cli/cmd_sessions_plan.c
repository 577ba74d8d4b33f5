/*
 * cli/cmd_sessions_plan: `tandem sessions plan --program P [--horizon 8w|56d] [--json]`,
 * plans the program's sessions now, as the service's plan-sessions job does every hour.
 * Argument parsing and printing only: sched/plan does the work (plan_program) and says
 * what it did; this file prints its report.
 *
 * Called by cmd_sessions.c's dispatch (the "plan" row of its subcommands).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "sched/plan.h"
#include "store/store.h"

static void
plan_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem sessions plan --program P [--horizon 8w|56d] [--json]\n\n"
		"Plans the sessions of every active pair of program P from now until the horizon\n"
		"(default 8 weeks; never past the program's last day or a pair's end), by the\n"
		"program's cadence: tandem.lua `cadence` (weekly, biweekly, monthly, taper,\n"
		"after_miss, or a plugin of plugins/cadences/), else the one sessions_per_month\n"
		"implies (1 monthly, 2 biweekly, 4 weekly), else biweekly. A weekday or hour the\n"
		"cadence leaves open is the pair's first shared slot (both people's availability\n"
		"inside their working hours, each in their own zone). Planning again inserts\n"
		"nothing twice; sessions an earlier plan made that the cadence no longer wants\n"
		"(after a missed session, say) are cancelled when more than 24 hours away; after a\n"
		"change of the program's cadence, so are the previous cadence's sessions that the\n"
		"new one does not have (those moved by hand stay). Planned sessions after the\n"
		"program's last day or a pair's end (an `ends` moved earlier) are cancelled. A\n"
		"session lies inside both people's slots on its own date (a week where one zone\n"
		"changed its clocks moves it within its day), and never overlaps another session\n"
		"of either person (a mentor with two mentees): it moves to the next free start of\n"
		"its day, else it is reported (no free slot).\n\n"
		"  --program P   the program (as declared in tandem.lua)\n"
		"  --horizon H   how far ahead: Nw (weeks) or Nd (days), 1 day to 520 weeks\n"
		"  --json        the report as a JSON object\n\n"
		"Pairs that could not be planned are listed with the reason (no shared slot, no\n"
		"free slot, or the cadence plugin's error), and so are sessions a cadence returned\n"
		"that were refused (ending after the program's or the pair's end, or overlapping\n"
		"another session of the pair); neither changes the exit status.\n");
}

/* "8w", "56d" or "56" (days) into days; -1 when not. */
static int
horizon_days(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	long days = *end == 'w' ? v * 7 : v;
	if ((*end != '\0' && *end != 'w' && *end != 'd') || (*end && end[1] != '\0') ||
	    days > 520 * 7)
		return -1;
	return (int)days;
}

static void
fmt_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static json_t *
notes_json(const struct plan_note *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{sIssssss}", "match", (json_int_t)v[i].match_id,
						   "mentor", v[i].mentor, "mentee", v[i].mentee,
						   "reason", v[i].reason));
	return a;
}

static void
notes_text(const char *head, const struct plan_note *v, size_t n)
{
	if (n > 0)
		printf(head, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		printf("  match %lld %s / %s: %s\n", (long long)v[i].match_id, v[i].mentor,
		       v[i].mentee, v[i].reason);
}

static int
print_json(const struct plan_report *r)
{
	char from[80], until[80];
	fmt_utc(r->from, from, sizeof(from));
	fmt_utc(r->until, until, sizeof(until));
	json_t *notes = notes_json(r->notes, r->nnotes);
	json_t *refused = notes_json(r->refused, r->nrefused);
	json_t *o = notes && refused
			? json_pack("{sssssssssssisisisisisisOsO}", "program", r->program,
				    "cadence", r->cadence, "cadence_from", r->cadence_from, "from",
				    from, "until", until, "pairs", r->pairs, "planned", r->planned,
				    "existing", r->existing, "cancelled", r->cancelled,
				    "cancelled_after_end", r->late, "cancelled_cadence_changed",
				    r->changed, "unplanned", notes, "refused", refused)
			: NULL;
	json_decref(notes);
	json_decref(refused);
	return o ? cli_json_out(o) : cli_error("out of memory");
}

static void
print_text(const struct plan_report *r)
{
	static const struct {
		const char *key, *text;
	} whence[] = {
	    {"program", "tandem.lua"},
	    {"sessions_per_month", "from sessions_per_month"},
	    {"default", "the default"},
	    {"override", "given"},
	};
	const char *why = r->cadence_from;
	for (size_t i = 0; i < sizeof(whence) / sizeof(*whence); i++)
		if (strcmp(whence[i].key, r->cadence_from) == 0)
			why = whence[i].text;
	char from[80], until[80];
	fmt_utc(r->from, from, sizeof(from));
	fmt_utc(r->until, until, sizeof(until));
	printf("program %s: cadence %s (%s), from %s until %s\n", r->program, r->cadence, why,
	       from, until);
	printf("%d active pair%s: %d session%s planned, %d already there, %d cancelled ",
	       r->pairs, r->pairs == 1 ? "" : "s", r->planned, r->planned == 1 ? "" : "s",
	       r->existing, r->cancelled);
	if (r->late > 0 || r->changed > 0) {
		printf("(%d replanned", r->cancelled - r->late - r->changed);
		if (r->changed > 0)
			printf(", %d because the program's cadence changed", r->changed);
		if (r->late > 0)
			printf(", %d after the program's or the match's end", r->late);
		printf(")\n");
	} else {
		printf("(replanned)\n");
	}
	/* Not "without a session": a pair whose cadence fails now may have sessions of before. */
	notes_text("%zu pair%s could not be planned:\n", r->notes, r->nnotes);
	notes_text("%zu session%s refused:\n", r->refused, r->nrefused);
}

int
cmd_sessions_plan(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"horizon", required_argument, NULL, 'H'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *program = NULL;
	int days = PLAN_HORIZON_DAYS, json = 0, ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			program = optarg;
			break;
		case 'H':
			if ((days = horizon_days(optarg)) < 0)
				return cli_usage("sessions plan",
						 "--horizon wants Nw or Nd (1 day to 520 weeks), got '%s'",
						 optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			plan_usage(stdout);
			return CLI_OK;
		default:
			return cli_usage("sessions plan", "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("sessions plan", "unexpected argument '%s'", argv[optind]);
	if (program == NULL)
		return cli_usage("sessions plan", "--program P is required");
	struct cli_ws w;
	if (cli_ws_open(c, program, &w) != CLI_OK)
		return CLI_FAIL;
	struct plan_ctx ctx = {.st = w.st, .cfg = &w.cfg, .ws = c->dir};
	struct plan_report rep;
	struct diag d;
	diag_clear(&d);
	int rc = CLI_OK;
	if (plan_program(&ctx, program, store_time(w.st), days, &rep, &d) != 0) {
		rc = cli_diag(&d);
	} else {
		rc = json ? print_json(&rep) : (print_text(&rep), CLI_OK);
		plan_report_fini(&rep);
	}
	cli_ws_close(&w);
	return rc;
}

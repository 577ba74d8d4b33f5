/*
 * cli/cmd_simulate: `tandem simulate --program P --months N [--seed S] [--from D]
 * [--keep DIR] [--json]`: months of the program on a copy of the workspace, with the
 * service's code on a virtual clock and synthetic participants. Argument parsing and
 * printing only: serve/simulate does the work (simulate_run) and counts what happened;
 * this file prints the months as a table or a JSON document, and a progress line on
 * stderr when it is a terminal. Exit status: 0, 1 when the simulation fails (a broken
 * tandem.lua, an unknown program), 2 for bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/diag.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "program/config.h"
#include "serve/simulate.h"
#include "store/store.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tandem simulate --program P --months N [--seed S] [--from D] [--keep DIR]\n"
		"                       [--json]\n\n"
		"Runs program P for N months in seconds on a copy of the workspace: the\n"
		"service's own jobs (activate matches, plan sessions, send reminders, mark\n"
		"missed sessions, the Lua jobs in scripts/), cadence and notifier plugins run\n"
		"on a virtual clock that jumps to the next thing due, while synthetic\n"
		"participants check in, miss, cancel and move sessions (pairs with better\n"
		"match scores meet more reliably; the model is in docs/service.md). Prints\n"
		"month by month: sessions planned, held, missed, cancelled and moved, the held\n"
		"rate, the mean rating, messages sent, active pairs, job runs, reports and\n"
		"failed runs; then the pairs the planner could not plan and why (no shared\n"
		"slot, or the cadence plugin's error with its FILE:LINE), and what failed each\n"
		"month (a Lua job's run, a report plugin, the program's plan) with its error.\n"
		"The real workspace is only read; the copy is removed at the end unless\n"
		"--keep DIR (without it, messages are rendered by their notifiers but no .eml\n"
		"or JSON-lines file is written: nobody could read them).\n"
		"A database of an older schema is simulated on a migrated copy; the real one\n"
		"stays as it is.\n\n"
		"Options:\n"
		"  --program P   the program reported on (as declared in tandem.lua)\n"
		"  --months N    how long, 1 to %d calendar months\n"
		"  --seed S      the participants' seed, 0 to 2^64-1 (default 1): the same\n"
		"                seed on the same workspace gives the same months\n"
		"  --from D      start at D (YYYY-MM-DD, midnight UTC, or YYYY-MM-DDTHH:MM[:SS]Z)\n"
		"                instead of now\n"
		"  --keep DIR    make the copy in DIR (new or empty) and keep it, to inspect\n"
		"                with tandem -C DIR sessions list, jobs list, outbox list\n"
		"                (the messages' files are in DIR/outbox/)\n"
		"  --json        the months as a JSON document\n"
		"  -h, --help    print this help\n",
		SIMULATE_MAX_MONTHS);
}

static int
parse_seed(const char *s, uint64_t *out)
{
	char *end;
	if (*s == '-' || *s == '\0')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static void
day(time_t t, char buf[16])
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, 16, "?");
}

struct progress {
	struct cli *c;
	long last;
};

static void
on_progress(void *ud, time_t now, time_t from, time_t until)
{
	struct progress *p = ud;
	long done = (long)((now - from) / 86400), total = (long)((until - from) / 86400);
	if (done == p->last)
		return;
	p->last = done;
	cli_progress(p->c, "simulating (days)", done, total);
}

static json_t *
month_json(const struct simulate_month *m)
{
	char from[CLOCK_UTC_MAX], until[CLOCK_UTC_MAX];
	clock_format_utc(m->from, from);
	clock_format_utc(m->until, until);
	long closed = m->held + m->missed;
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, "
			 "s:I}",
			 "from", from, "until", until, "planned", (json_int_t)m->planned, "held",
			 (json_int_t)m->held, "missed", (json_int_t)m->missed, "cancelled",
			 (json_int_t)m->cancelled, "rescheduled", (json_int_t)m->rescheduled,
			 "open", (json_int_t)m->open, "held_rate",
			 closed ? json_real((double)m->held / (double)closed) : json_null(),
			 "mean_rating", m->ratings ? json_real(m->rating_sum / (double)m->ratings)
						   : json_null(),
			 "ratings", (json_int_t)m->ratings, "messages_sent",
			 (json_int_t)m->messages_sent, "active_pairs", (json_int_t)m->active_pairs,
			 "jobs_run", (json_int_t)m->jobs_run, "reports", (json_int_t)m->reports,
			 "failed", (json_int_t)m->failed);
}

static int
print_json(const char *program, uint64_t seed, const struct simulate_result *r)
{
	json_t *months = json_array();
	for (int i = 0; months != NULL && i < r->months; i++)
		if (json_array_append_new(months, month_json(&r->month[i])) != 0) {
			json_decref(months);
			months = NULL;
		}
	char from[CLOCK_UTC_MAX], until[CLOCK_UTC_MAX], seedtxt[32];
	clock_format_utc(r->from, from);
	clock_format_utc(r->until, until);
	snprintf(seedtxt, sizeof(seedtxt), "%" PRIu64, seed);
	json_t *unplanned = json_array();
	for (size_t i = 0; unplanned != NULL && i < r->nunplanned; i++) {
		const struct simulate_unplanned *u = &r->unplanned[i];
		json_array_append_new(unplanned,
				      json_pack("{s:I, s:s, s:s, s:s}", "match",
						(json_int_t)u->match_id, "mentor", u->mentor,
						"mentee", u->mentee, "reason", u->reason));
	}
	json_t *failures = json_array();
	for (size_t i = 0; failures != NULL && i < r->nfailures; i++) {
		const struct simulate_failure *f = &r->failures[i];
		char month[CLOCK_UTC_MAX];
		clock_format_utc(r->month[f->month].from, month);
		json_array_append_new(failures,
				      json_pack("{s:s, s:s, s:s, s:s, s:I}", "month", month, "source",
						f->source, "name", f->name, "error", f->error, "runs",
						(json_int_t)f->runs));
	}
	json_t *v = months == NULL || unplanned == NULL || failures == NULL
			? NULL
			: json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:{s:I, s:I, s:I}, "
				    "s:o, s:O, s:O}",
				    "program", program, "seed", seedtxt, "from", from, "until",
				    until, "months", months, "total", month_json(&r->total),
				    "wakes", (json_int_t)r->wakes, "steps", (json_int_t)r->steps,
				    "participants", "checkins", (json_int_t)r->checkins, "cancels",
				    (json_int_t)r->cancels, "moves", (json_int_t)r->moves, "copy",
				    r->copy[0] ? json_string(r->copy) : json_null(), "unplanned",
				    unplanned, "failures", failures);
	json_decref(unplanned);
	json_decref(failures);
	if (v == NULL)
		return cli_error("out of memory");
	return cli_json_out(v);
}

static void
month_cells(const char *label, const struct simulate_month *m, struct cli_table *t)
{
	char c[14][32];
	long closed = m->held + m->missed;
	snprintf(c[0], sizeof(c[0]), "%s", label);
	snprintf(c[1], sizeof(c[1]), "%ld", m->planned);
	snprintf(c[2], sizeof(c[2]), "%ld", m->held);
	snprintf(c[3], sizeof(c[3]), "%ld", m->missed);
	snprintf(c[4], sizeof(c[4]), "%ld", m->cancelled);
	snprintf(c[5], sizeof(c[5]), "%ld", m->rescheduled);
	snprintf(c[6], sizeof(c[6]), "%ld", m->open);
	if (closed)
		snprintf(c[7], sizeof(c[7]), "%.0f%%", 100.0 * (double)m->held / (double)closed);
	else
		snprintf(c[7], sizeof(c[7]), "-");
	if (m->ratings)
		snprintf(c[8], sizeof(c[8]), "%.2f", m->rating_sum / (double)m->ratings);
	else
		snprintf(c[8], sizeof(c[8]), "-");
	snprintf(c[9], sizeof(c[9]), "%ld", m->messages_sent);
	snprintf(c[10], sizeof(c[10]), "%ld", m->active_pairs);
	snprintf(c[11], sizeof(c[11]), "%ld", m->jobs_run);
	snprintf(c[12], sizeof(c[12]), "%ld", m->reports);
	snprintf(c[13], sizeof(c[13]), "%ld", m->failed);
	const char *cells[14];
	for (int i = 0; i < 14; i++)
		cells[i] = c[i];
	cli_table_add(t, cells);
}

static void
print_text(const char *program, uint64_t seed, const struct simulate_result *r)
{
	char from[16], until[16];
	day(r->from, from);
	day(r->until, until);
	printf("program %s simulated from %s to %s (%d month%s, seed %" PRIu64 ") on a copy %s\n",
	       program, from, until, r->months, r->months == 1 ? "" : "s", seed,
	       r->copy[0] ? r->copy : "(removed)");
	struct cli_table *t = cli_table_new(14);
	static const char *const head[] = {"MONTH",	"PLANNED",  "HELD",	"MISSED",
					   "CANCELLED", "MOVED",    "OPEN",	"HELD RATE",
					   "RATING",	"MESSAGES", "PAIRS",	"JOBS RUN",
					   "REPORTS",	"FAILED"};
	cli_table_add(t, head);
	for (int i = 0; i < r->months; i++) {
		char label[16];
		day(r->month[i].from, label);
		month_cells(label, &r->month[i], t);
	}
	month_cells("total", &r->total, t);
	cli_table_print(t, stdout);
	cli_table_delete(t);
	printf("%lu wakes, %lu steps; participants: %ld check-ins, %ld sessions cancelled, "
	       "%ld moved\n",
	       r->wakes, r->steps, r->checkins, r->cancels, r->moves);
	printf("held rate = held / (held + missed); open = still planned at the end (the "
	       "mark-missed grace)\n");
	if (r->copy[0] && r->total.reports > 0)
		printf("monthly reports: %s/reports/\n", r->copy);
	if (r->copy[0]) { /* the copy's clock ran ahead: a report of it needs its date */
		char last[16];
		day(r->until - 1, last);
		printf("the copy's last day is %s: tandem -C %s report --program %s --as-of %s\n",
		       last, r->copy, program, last);
	}
	if (r->nunplanned > 0)
		printf("%zu pair%s could not be planned (as of their last plan):\n", r->nunplanned,
		       r->nunplanned == 1 ? "" : "s");
	for (size_t i = 0; i < r->nunplanned; i++)
		printf("  match %lld %s / %s: %s\n", (long long)r->unplanned[i].match_id,
		       r->unplanned[i].mentor, r->unplanned[i].mentee, r->unplanned[i].reason);
	if (r->nfailures > 0)
		printf("%ld run%s failed (jobs, report plugins, the program's plan), by month:\n",
		       r->total.failed, r->total.failed == 1 ? "" : "s");
	for (size_t i = 0; i < r->nfailures; i++) {
		const struct simulate_failure *f = &r->failures[i];
		char month[16];
		day(r->month[f->month].from, month);
		printf("  %s %s %s: %s (%ld run%s)\n", month, f->source, f->name, f->error, f->runs,
		       f->runs == 1 ? "" : "s");
	}
}

/* The simulated service's own info lines (a wake's job summaries, reward deliveries) would be
 * hundreds per simulated month; the month table says what happened. Warnings and errors pass. */
static void
sim_log(void *ud, int level, const char *msg)
{
	(void)ud;
	if (level >= TLOG_WARN)
		fprintf(stderr, "tandem: %s: %s\n", level == TLOG_WARN ? "warning" : "error", msg);
}

int
cmd_simulate(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"months", required_argument, NULL, 'm'},
	    {"seed", required_argument, NULL, 's'},
	    {"from", required_argument, NULL, 'f'},
	    {"keep", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *program = NULL, *keep = NULL;
	long months = 0;
	uint64_t seed = 1;
	time_t from = 0;
	int json = 0, opt;
	optind = 0;
	opterr = 0; /* cli_bad_option says it, once */
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			program = optarg;
			break;
		case 'm':
			if (cli_parse_int("simulate", "--months", optarg, 1, SIMULATE_MAX_MONTHS,
					  &months) != 0)
				return CLI_USAGE;
			break;
		case 's':
			if (parse_seed(optarg, &seed) != 0)
				return cli_usage("simulate",
						 "--seed must be an integer from 0 to 2^64-1 (got '%s')",
						 optarg);
			break;
		case 'f':
			if (cli_parse_instant(optarg, 0, &from) != 0)
				return cli_usage("simulate",
						 "--from must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z "
						 "(got '%s')", optarg);
			break;
		case 'k':
			keep = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("simulate", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage("simulate", "unexpected argument '%s'", argv[optind]);
	if (program == NULL)
		return cli_usage("simulate", "--program P is required");
	if (months == 0)
		return cli_usage("simulate", "--months N is required");

	/* The workspace must be there; the program declared (the names listed when not). A
	 * database of an older schema is fine: the copy is migrated, the real one left as is. */
	struct store *probe;
	if (cli_open_store_copyable(c, &probe) != CLI_OK)
		return CLI_FAIL;
	store_close(probe);
	char cfg_path[4096];
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", cfg_path, sizeof(cfg_path))) != CLI_OK)
		return CLI_FAIL;
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct diag d;
	diag_clear(&d);
	if (config_load(cfg_path, &cfg, &d) != 0)
		return cli_diag(&d);
	int found = config_find_program(&cfg, program, &d) != NULL;
	config_fini(&cfg);
	if (!found)
		return cli_diag(&d);

	struct progress p = {.c = c, .last = -1};
	struct simulate_opts o = {.workspace = c->dir, .db_path = cli_db_path(c),
				  .program = program, .months = (int)months, .seed = seed,
				  .from = from ? from : time(NULL), .keep = keep,
				  .progress = on_progress, .progress_ud = &p};
	struct simulate_result r;
	tlog_set_handler(sim_log, NULL); /* this process ends with the command */
	if (simulate_run(&o, &r, &d) != 0) {
		if (c->stderr_tty && p.last >= 0)
			fputc('\n', stderr);
		return cli_diag(&d);
	}
	int rc = CLI_OK;
	if (json)
		rc = print_json(program, seed, &r);
	else
		print_text(program, seed, &r);
	simulate_result_fini(&r);
	return rc;
}

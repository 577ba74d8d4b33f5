/*
 * cli/cmd_sessions: `tandem sessions list|show|checkin|cancel|reschedule`, the sessions
 * of the pairs and their check-ins. Argument parsing and printing only: sched/session
 * does the work (session_list, session_get, session_checkin, session_cancel,
 * session_reschedule) and applies the rating-visibility rule; this file prints what
 * it gives back. Times are shown in the pair's zone and in UTC.
 *
 * Called by main.c's dispatch (cmd_sessions). Each subcommand is a row of `subs`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "program/config.h"
#include "program/matches.h"
#include "sched/plan.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"

static void
sessions_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tandem sessions list [--program P] [--person ID] [--from D] [--to D]\n"
	    "                            [--status S] [--as PERSON] [--json]\n"
	    "       tandem sessions show ID [--as PERSON] [--json]\n"
	    "       tandem sessions checkin ID --held|--missed [--as PERSON] [--rating 1-5]\n"
	    "                               [--notes TEXT] [--share-story] [--skill TOPIC=1-5]...\n"
	    "                               [--json]\n"
	    "       tandem sessions cancel ID [--as PERSON] [--reason TEXT] [--json]\n"
	    "       tandem sessions reschedule ID --to YYYY-MM-DDTHH:MM [--zone Z] [--json]\n"
	    "       tandem sessions plan --program P [--horizon 8w|56d] [--json]\n\n"
	    "  list        sessions by start time: of a program, of a person (either side),\n"
	    "              starting from --from and up to --to, both included (a date\n"
	    "              YYYY-MM-DD: from its start, through its end; a time\n"
	    "              YYYY-MM-DDTHH:MM: at or after, at or before; UTC), in a status\n"
	    "              (planned, held, missed, cancelled, rescheduled)\n"
	    "  show        one session: when (the pair's zone and UTC), both sides' check-ins,\n"
	    "              the topic and the agenda of suggested questions\n"
	    "  checkin     record that the session was held or missed. With --as, as that side\n"
	    "              of the pair (each side checks in once; a different second check-in\n"
	    "              is refused); without, as an organizer (no rating, no notes). The\n"
	    "              first side's 'held' makes the session held; both sides' 'missed'\n"
	    "              make it missed. No check-in before the session starts.\n"
	    "              --skill TOPIC=N (repeatable): the mentee's own level in a topic of\n"
	    "              the program's library, 1 (novice) to 5 (expert); the first and the\n"
	    "              latest assessment of a topic are its start and end in `tandem metrics`\n"
	    "  cancel      a planned session is cancelled (its row stays, so its time is never\n"
	    "              planned again). With --as, that side of the pair called it off\n"
	    "              (recorded: `tandem health` names who cancelled missed sessions)\n"
	    "  reschedule  a planned session moves to another time: the old row is kept,\n"
	    "              marked rescheduled and linked to the new one. --to is local time in\n"
	    "              the pair's zone unless --zone Z is given or it ends with Z (UTC);\n"
	    "              --zone with a --to ending in Z is refused (exit 2).\n"
	    "  plan        plan the sessions of the program's active pairs by its cadence, from\n"
	    "              now until the horizon (default 8 weeks; `sessions plan --help`)\n\n"
	    "ID is a session id; PERSON and --person an external id or e-mail address.\n"
	    "Ratings and notes: a side's are hidden from the other side and from everyone else\n"
	    "until both sides have rated or 7 days have passed since the session's end; --as\n"
	    "PERSON lists as that person sees it (their own always shown).\n");
}

enum { SOPTS_SKILLS_MAX = 32 };

struct sopts {
	const char *program, *person, *from, *to, *status, *as, *notes, *reason, *when, *zone;
	int json, held, missed, share_story;
	long rating;
	struct session_skill skills[SOPTS_SKILLS_MAX];
	size_t nskills;
	const char *pos[2];
	int npos;
};

/* --skill TOPIC=N: appended to o->skills (the topic points into argv). */
static int
skill_arg(const char *cmd, char *arg, struct sopts *o)
{
	char *eq = strrchr(arg, '=');
	if (eq == NULL || eq == arg)
		return cli_usage(cmd, "--skill wants TOPIC=LEVEL (LEVEL 1 to 5), got '%s'", arg);
	if (o->nskills == SOPTS_SKILLS_MAX)
		return cli_usage(cmd, "--skill: at most %d per check-in", SOPTS_SKILLS_MAX);
	long level;
	if (cli_parse_int(cmd, "--skill", eq + 1, 1, 5, &level) != 0)
		return CLI_USAGE;
	*eq = '\0';
	o->skills[o->nskills++] = (struct session_skill){.topic = arg, .level = (int)level};
	return CLI_OK;
}

/*
 * Parses argv (argv[0] = the subcommand) into o; allowed lists the options the
 * subcommand accepts by their short codes. CLI_OK or a usage error.
 */
static int
sessions_opts(const char *cmd, int argc, char **argv, struct sopts *o, const char *allowed)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"person", required_argument, NULL, 'P'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"status", required_argument, NULL, 's'},
	    {"as", required_argument, NULL, 'a'},
	    {"rating", required_argument, NULL, 'r'},
	    {"notes", required_argument, NULL, 'n'},
	    {"reason", required_argument, NULL, 'R'},
	    {"zone", required_argument, NULL, 'z'},
	    {"held", no_argument, NULL, 'H'},
	    {"missed", no_argument, NULL, 'M'},
	    {"share-story", no_argument, NULL, 'S'},
	    {"skill", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		if (ch == 1) {
			if (o->npos == 2)
				return cli_usage(cmd, "unexpected argument '%s'", optarg);
			o->pos[o->npos++] = optarg;
			continue;
		}
		if (ch == '?' || strchr(allowed, ch) == NULL)
			return cli_usage(cmd, "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		switch (ch) {
		case 'p':
			o->program = optarg;
			break;
		case 'P':
			o->person = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 's':
			o->status = optarg;
			break;
		case 'a':
			o->as = optarg;
			break;
		case 'n':
			o->notes = optarg;
			break;
		case 'R':
			o->reason = optarg;
			break;
		case 'z':
			o->zone = optarg;
			break;
		case 'H':
			o->held = 1;
			break;
		case 'M':
			o->missed = 1;
			break;
		case 'S':
			o->share_story = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'r':
			if (cli_parse_int(cmd, "--rating", optarg, 1, 5, &o->rating) != 0)
				return CLI_USAGE;
			break;
		case 'k':
			if (skill_arg(cmd, optarg, o) != CLI_OK)
				return CLI_USAGE;
			break;
		}
	}
	return CLI_OK;
}

/* The one positional ID of show/checkin/cancel/reschedule. */
static int
session_id_arg(const char *cmd, const struct sopts *o, int64_t *id)
{
	if (o->npos != 1)
		return cli_usage(cmd, o->npos ? "one session ID only" : "missing the session ID");
	const char *s = o->pos[0][0] == '#' ? o->pos[0] + 1 : o->pos[0];
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0)
		return cli_usage(cmd, "'%s' is not a session ID", o->pos[0]);
	*id = v;
	return CLI_OK;
}

/* "2027-01-12 10:00 Europe/Paris" into buf. */
static const char *
fmt_local(time_t t, const char *zone, char *buf, size_t size)
{
	struct tm tm;
	if (tz_utc_to_local(zone, t, &tm, NULL) != 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d %s", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, zone ? zone : "UTC");
	return buf;
}

static const char *
fmt_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

/* The people id of a person given by external id or e-mail; CLI_FAIL printed. */
static int
person_arg(struct store *st, const char *key, int64_t *id)
{
	struct diag d;
	diag_clear(&d);
	return matches_find_person(st, key, id, &d) == 0 ? CLI_OK : cli_diag(&d);
}

/* --from/--to: a date (00:00 UTC; for --to the day after, so the day is included) or a
 * time YYYY-MM-DDTHH:MM[Z] (UTC; for --to the second after, so a session starting at it is
 * included). *out is the bound of the filter: from <= start < until. */
static int
range_arg(const char *opt, const char *s, int is_to, time_t *out)
{
	struct diag d;
	diag_clear(&d);
	if (strlen(s) == 10 && tz_date_valid(s)) {
		char t[24];
		snprintf(t, sizeof(t), "%sT00:00Z", s);
		if (session_parse_time(t, NULL, out, &d) != 0)
			return cli_diag(&d);
		if (is_to)
			*out += 86400;
		return CLI_OK;
	}
	if (session_parse_time(s, NULL, out, &d) != 0)
		return cli_usage("sessions list",
				 "%s wants a date YYYY-MM-DD or a time "
				 "YYYY-MM-DDTHH:MM (UTC), got '%s'",
				 opt, s);
	if (is_to)
		*out += 1;
	return CLI_OK;
}

/* A side's external id; "(erased)" for the side `people erase` removed (NULL in the
 * kept match). */
static const char *
side_id(const struct session_side *s)
{
	return s->person_id == 0 ? "(erased)" : s->external_id ? s->external_id : "";
}

/* "held, rating 4" / "missed" / "rating hidden" / "-" for one side. */
static const char *
fmt_side(const struct session_side *s, char *buf, size_t size)
{
	if (!s->checked_in)
		return "-";
	int n = snprintf(buf, size, "%s", s->outcome == SESSION_OUTCOME_HELD ? "held" : "missed");
	if (s->rating && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %d/5", s->rating);
	else if (s->rating_hidden && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (rating hidden)");
	return buf;
}

static int
print_rows(struct session_row *rows, size_t n, int json)
{
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, session_row_json(&rows[i]));
		return a ? cli_json_out(a) : cli_error("out of memory");
	}
	struct cli_table *t = cli_table_new(9);
	const char *hdr[] = {"ID",     "START (PAIR'S ZONE)", "UTC",  "MIN", "STATUS", "MENTOR",
			     "MENTEE", "CHECK-INS",	      "TOPIC"};
	cli_table_add(t, hdr);
	for (size_t i = 0; i < n; i++) {
		const struct session_row *r = &rows[i];
		char id[24], local[96], utc[40], min[16], a[48], b[48], ci[112];
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		snprintf(min, sizeof(min), "%d", r->duration_min);
		snprintf(ci, sizeof(ci), "%s | %s", fmt_side(&r->mentor, a, sizeof(a)),
			 fmt_side(&r->mentee, b, sizeof(b)));
		const char *row[] = {id,
				     fmt_local(r->start, r->zone, local, sizeof(local)),
				     fmt_utc(r->start, utc, sizeof(utc)),
				     min,
				     session_status_name(r->status),
				     side_id(&r->mentor),
				     side_id(&r->mentee),
				     ci,
				     r->topic ? r->topic : ""};
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	return CLI_OK;
}

static int
sessions_list(struct cli *c, int argc, char **argv)
{
	struct sopts o;
	if (sessions_opts("sessions list", argc, argv, &o, "pPftsaj") != CLI_OK)
		return CLI_USAGE;
	if (o.npos)
		return cli_usage("sessions list", "unexpected argument '%s'", o.pos[0]);
	struct session_filter f = {.status = -1};
	struct diag d;
	diag_clear(&d);
	if (o.status) {
		enum session_status s;
		if (session_status_parse(o.status, &s, &d) != 0)
			return cli_usage("sessions list", "%s", d.msg);
		f.status = (int)s;
	}
	if ((o.from && range_arg("--from", o.from, 0, &f.from) != CLI_OK) ||
	    (o.to && range_arg("--to", o.to, 1, &f.until) != CLI_OK))
		return CLI_USAGE;
	if (o.from && o.to && f.from >= f.until)
		return cli_usage("sessions list", "--from %s is after --to %s", o.from, o.to);
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	int rc = CLI_OK;
	if (o.program && cli_program_known(c, st, o.program) != CLI_OK)
		rc = CLI_FAIL;
	else if (o.program && matches_program_id(st, o.program, &f.program_id, &d) != 0)
		rc = cli_diag(&d);
	if (rc == CLI_OK && o.person)
		rc = person_arg(st, o.person, &f.person_id);
	if (rc == CLI_OK && o.as)
		rc = person_arg(st, o.as, &f.viewer_id);
	struct session_row *rows = NULL;
	size_t n = 0;
	if (rc == CLI_OK && session_list(st, &f, &rows, &n, &d) != 0)
		rc = cli_diag(&d);
	store_close(st);
	if (rc == CLI_OK)
		rc = print_rows(rows, n, o.json);
	session_rows_free(rows, n);
	return rc;
}

static void
print_side(const char *role, const struct session_side *s)
{
	printf("  %-11s %s %s", role, side_id(s), s->name ? s->name : "");
	if (!s->checked_in) {
		printf(" (not checked in)\n");
		return;
	}
	printf(": %s", s->outcome == SESSION_OUTCOME_HELD ? "held" : "missed");
	if (s->rating)
		printf(", rating %d/5", s->rating);
	if (s->rating_hidden)
		printf(", rating and notes hidden until both have rated or the window closes");
	if (s->share_story)
		printf(", story may be shared");
	printf("\n");
	if (s->notes)
		printf("  %-11s \"%s\"\n", "", s->notes);
	json_error_t err;
	json_t *skills = s->skills_json ? json_loads(s->skills_json, 0, &err) : NULL;
	size_t i;
	json_t *k;
	json_array_foreach(skills, i, k)
	{
		printf("  %-11s %s %s %lld/5\n", "", i == 0 ? "skills:" : "       ",
		       json_string_value(json_object_get(k, "topic")),
		       (long long)json_integer_value(json_object_get(k, "level")));
	}
	json_decref(skills);
}

static void
print_session(const struct session_row *r)
{
	char local[96], utc[40];
	printf("session #%lld  %s", (long long)r->id, session_status_name(r->status));
	if (r->status_reason)
		printf(" (%s)", r->status_reason);
	printf("\n  %-11s %s (match #%lld)\n", "program:", r->program ? r->program : "?",
	       (long long)r->match_id);
	printf("  %-11s %s (%s), %d min\n",
	       "when:", fmt_local(r->start, r->zone, local, sizeof(local)),
	       fmt_utc(r->start, utc, sizeof(utc)), r->duration_min);
	print_side("mentor:", &r->mentor);
	print_side("mentee:", &r->mentee);
	printf("  %-11s %s\n", "topic:", r->topic ? r->topic : "-");
	json_error_t err;
	json_t *agenda = r->agenda_json ? json_loads(r->agenda_json, 0, &err) : NULL;
	size_t i;
	json_t *q;
	json_array_foreach(agenda, i, q)
	{
		printf("  %-11s - %s\n", i == 0 ? "agenda:" : "", json_string_value(q));
	}
	json_decref(agenda);
	printf("  %-11s %s, sequence %d\n", "planned by:", r->planned_by ? r->planned_by : "?",
	       r->sequence);
	if (r->rescheduled_from)
		printf("  %-11s #%lld\n", "moved from:", (long long)r->rescheduled_from);
	if (r->rescheduled_to)
		printf("  %-11s #%lld\n", "moved to:", (long long)r->rescheduled_to);
}

/* Prints session id as viewer sees it (text or JSON, with extra fields merged in). */
static int
show_one(struct store *st, int64_t id, int64_t viewer, int json, json_t *extra)
{
	struct session_row *r = NULL;
	struct diag d;
	diag_clear(&d);
	if (session_get(st, id, viewer, &r, &d) != 0) {
		json_decref(extra);
		return cli_diag(&d);
	}
	int rc = CLI_OK;
	if (json) {
		json_t *o = session_row_json(r);
		if (o && extra)
			json_object_update(o, extra);
		rc = o ? cli_json_out(o) : cli_error("out of memory");
	} else {
		print_session(r);
	}
	json_decref(extra);
	session_rows_free(r, 1);
	return rc;
}

static int
sessions_show(struct cli *c, int argc, char **argv)
{
	struct sopts o;
	int64_t id, viewer = 0;
	if (sessions_opts("sessions show", argc, argv, &o, "aj") != CLI_OK ||
	    session_id_arg("sessions show", &o, &id) != CLI_OK)
		return CLI_USAGE;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	int rc = o.as ? person_arg(st, o.as, &viewer) : CLI_OK;
	if (rc == CLI_OK)
		rc = show_one(st, id, viewer, o.json, NULL);
	store_close(st);
	return rc;
}

static int
sessions_checkin(struct cli *c, int argc, char **argv)
{
	const char *cmd = "sessions checkin";
	struct sopts o;
	int64_t id;
	if (sessions_opts(cmd, argc, argv, &o, "arnSHMkj") != CLI_OK ||
	    session_id_arg(cmd, &o, &id) != CLI_OK)
		return CLI_USAGE;
	if (o.held == o.missed)
		return cli_usage(cmd, "say --held or --missed");
	if (o.as == NULL && (o.rating || o.notes || o.share_story || o.nskills))
		return cli_usage(cmd, "--rating, --notes, --share-story and --skill need --as PERSON "
				      "(they belong to one side of the pair)");
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct session_checkin ci = {.session_id = id,
				     .outcome =
					 o.held ? SESSION_OUTCOME_HELD : SESSION_OUTCOME_MISSED,
				     .rating = (int)o.rating,
				     .notes = o.notes,
				     .share_story = o.share_story,
				     .actor = cli_actor(),
				     .skills = o.skills,
				     .nskills = o.nskills};
	int rc = o.as ? person_arg(st, o.as, &ci.person_id) : CLI_OK;
	struct diag d;
	diag_clear(&d);
	int changed = 0;
	if (rc == CLI_OK && session_checkin(st, &ci, &changed, &d) != 0)
		rc = cli_diag(&d);
	if (rc == CLI_OK && o.json) {
		rc = show_one(st, id, ci.person_id, 1, json_pack("{sb}", "changed", changed));
	} else if (rc == CLI_OK) {
		struct session_row *r = NULL;
		if (session_get(st, id, ci.person_id, &r, &d) != 0) {
			rc = cli_diag(&d);
		} else {
			const char *who = o.as ? o.as : "an organizer";
			if (changed)
				printf("session #%lld: %s checked in '%s'; the session is %s\n",
				       (long long)id, who, o.held ? "held" : "missed",
				       session_status_name(r->status));
			else
				printf(
				    "session #%lld: %s had already checked in so; nothing changed "
				    "(the session is %s)\n",
				    (long long)id, who, session_status_name(r->status));
			session_rows_free(r, 1);
		}
	}
	store_close(st);
	return rc;
}

static int
sessions_cancel(struct cli *c, int argc, char **argv)
{
	struct sopts o;
	int64_t id;
	if (sessions_opts("sessions cancel", argc, argv, &o, "aRj") != CLI_OK ||
	    session_id_arg("sessions cancel", &o, &id) != CLI_OK)
		return CLI_USAGE;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	int64_t by = 0;
	int rc = o.as ? person_arg(st, o.as, &by) : CLI_OK;
	if (rc == CLI_OK && session_cancel_by(st, id, by, o.reason, cli_actor(), &d) != 0)
		rc = cli_diag(&d);
	else if (rc == CLI_OK && o.json)
		rc = show_one(st, id, 0, 1, NULL);
	else if (rc == CLI_OK)
		printf("session #%lld cancelled%s%s%s%s\n", (long long)id, o.as ? " by " : "",
		       o.as ? o.as : "", o.reason ? ": " : "", o.reason ? o.reason : "");
	store_close(st);
	return rc;
}

static int
sessions_reschedule(struct cli *c, int argc, char **argv)
{
	const char *cmd = "sessions reschedule";
	struct sopts o;
	int64_t id;
	if (sessions_opts(cmd, argc, argv, &o, "tzj") != CLI_OK ||
	    session_id_arg(cmd, &o, &id) != CLI_OK)
		return CLI_USAGE;
	if (o.to == NULL)
		return cli_usage(cmd, "missing --to YYYY-MM-DDTHH:MM");
	/* --zone is checked on its own, before the time it reads: a zone that is none is
	 * blamed on --zone; with a UTC --to ("...Z") it would say nothing, so the two
	 * together are refused as contradictory rather than one silently ignored. */
	if (o.zone) {
		struct diag zd;
		struct tz_switch sw;
		size_t tl = strlen(o.to);
		if (tz_enter(&sw, o.zone, &zd) != 0)
			return cli_usage(cmd, "--zone: %s", zd.msg);
		tz_leave(&sw);
		if (tl > 0 && (o.to[tl - 1] == 'Z' || o.to[tl - 1] == 'z'))
			return cli_usage(cmd,
					 "--to %s is a UTC time (it ends with Z) and --zone %s a "
					 "zone to read it in: give one or the other",
					 o.to, o.zone);
	}
	char path[4096];
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", path, sizeof(path))) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	struct config cfg = {0};
	if (config_load(path, &cfg, &d) != 0)
		return cli_diag(&d);
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK) {
		config_fini(&cfg);
		return CLI_FAIL;
	}
	struct session_row *r = NULL;
	int64_t nid = 0;
	time_t when;
	int rc = CLI_OK;
	if (session_get(st, id, 0, &r, &d) != 0)
		rc = cli_diag(&d);
	const char *zone = o.zone ? o.zone : r ? r->zone : NULL;
	/* A time that does not parse (or a --zone that is no zone) is a usage error naming
	 * the option, like --from/--to of list. */
	if (rc == CLI_OK && session_parse_time(o.to, zone, &when, &d) != 0)
		rc = d.code == DIAG_INVALID ? cli_usage(cmd, "--to: %s", d.msg) : cli_diag(&d);
	/* The program's dates bound the move (tandem.lua's, in the workspace zone). */
	struct session_window w;
	if (rc == CLI_OK && plan_program_window(&cfg, r->program, &w, &d) != 0)
		rc = cli_diag(&d);
	if (rc == CLI_OK && session_reschedule(st, id, when, &w, cli_actor(), &nid, &d) != 0)
		rc = cli_diag(&d);
	if (rc == CLI_OK && o.json) {
		rc = show_one(st, nid, 0, 1,
			      json_pack("{sI}", "rescheduled_from_id", (json_int_t)id));
	} else if (rc == CLI_OK) {
		char local[96], utc[40];
		printf("session #%lld moved to #%lld: %s (%s)\n", (long long)id, (long long)nid,
		       fmt_local(when, r->zone, local, sizeof(local)),
		       fmt_utc(when, utc, sizeof(utc)));
	}
	session_rows_free(r, r ? 1 : 0);
	store_close(st);
	config_fini(&cfg);
	return rc;
}

static const struct {
	const char *name;
	cli_cmd_fn fn;
} subs[] = {
    {"list", sessions_list},
    {"show", sessions_show},
    {"checkin", sessions_checkin},
    {"cancel", sessions_cancel},
    {"reschedule", sessions_reschedule},
    {"plan", cmd_sessions_plan},
};

int
cmd_sessions(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		sessions_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 ||
	    (cli_wants_help(argc, argv) && strcmp(sub, "plan") != 0)) { /* plan has its own */
		sessions_usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].fn(c, argc - 1, argv + 1);
	return cli_usage("sessions", "unknown subcommand '%s'", sub);
}

/*
 * Unit tests for sched/plan (and sched/cadence through it): a program's active pairs
 * planned from built-in and test cadences. Idempotence, clipping to the horizon, the
 * program's end and the match's end, never in the past, a Paris + New York pair landing
 * in the overlap of their working days, a pair without a shared slot reported by name,
 * a Lua cadence returning bad values, taper and after_miss, wall times kept across the
 * March DST change in New York, and a weekly session in each DST gap and overlap of
 * New York, London and Lord Howe Island (and Kolkata, which has none), by rule and by a
 * plan hook's wall time, checked to the exact UTC instant, and their calendar export
 * read back by python3-icalendar at the same instants. A cadence changed: the previous
 * one's future sessions replanned, held and hand-moved ones kept. The service's incremental plan
 * against planning every pair every hour (biweekly, monthly, after_miss).
 *
 * The organization is session_fixture.h's: match #1 is Ann (mentor, Europe/Paris) and
 * Bo (mentee, America/New_York), active; #2 approved, #3 proposed (never planned).
 */
#include "session_fixture.h"

#include <sys/stat.h>

#include "program/config.h"
#include "sched/cadence.h"
#include "sched/calendar.h"
#include "sched/plan.h"
#include "time/tz.h"

/* 2027-01-12 10:00 UTC: a Tuesday. */
#define T0 fx_utc(2027, 1, 12, 10, 0)
#define DAY 86400

static struct config_program fx_prog;
static struct config fx_cfg;

/* A store whose match #1 was activated at `activated`, the clock at now. */
static struct store *
plan_store(time_t activated, time_t now)
{
	struct store *st = fx_store(now);
	char sql[256], iso[STORE_TIME_MAX];
	store_format_time(activated, iso);
	snprintf(sql, sizeof(sql), "UPDATE matches SET activated_at = '%s' WHERE id = 1", iso);
	fx_exec(st, sql);
	memset(&fx_prog, 0, sizeof(fx_prog));
	fx_prog.name = "p";
	fx_prog.minutes_per_session = 60;
	memset(&fx_cfg, 0, sizeof(fx_cfg));
	fx_cfg.programs = &fx_prog;
	fx_cfg.nprograms = 1;
	fx_cfg.timezone = "UTC";
	return st;
}

static void
plan_ok(struct store *st, const char *cadence, time_t now, int days, struct plan_report *rep)
{
	struct plan_ctx ctx = {.st = st, .cfg = &fx_cfg, .cadence = cadence};
	struct diag d;
	if (plan_program(&ctx, "p", now, days, rep, &d) != 0)
		fail_msg("plan_program: %s", d.msg);
}

/* The starts of match 1's sessions with status st_, as "YYYY-MM-DDTHH:MM" in zone, joined
 * by spaces. */
static const char *
starts(struct store *st, const char *status, const char *zone)
{
	static char out[2048];
	out[0] = '\0';
	struct stmt s = {0};
	struct diag d;
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT starts_at FROM sessions WHERE match_id = 1 AND status = '%s' ORDER BY "
		 "starts_at",
		 status);
	if (stmt_prepare(&s, st, "test", sql, &d) != 0)
		fail_msg("%s", d.msg);
	while (stmt_step(&s, &d) == STMT_ROW) {
		const char *t;
		stmt_text(&s, 0, &t, &d);
		int y, mo, da, h, mi;
		sscanf(t, "%d-%d-%dT%d:%d", &y, &mo, &da, &h, &mi);
		struct tm tm;
		tz_utc_to_local(zone, fx_utc(y, mo, da, h, mi), &tm, &d);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%04d-%02d-%02dT%02d:%02d",
			 out[0] ? " " : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min);
	}
	stmt_finalize(&s);
	return out;
}

static const char *
write_cadence(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s.lua", fx_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_weekly_overlap_idempotent(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	struct plan_report rep;
	plan_ok(st, "weekly", T0, 28, &rep);
	/* Paris pm (13-17) meets New York am (9-12) at 14:00-16:00 UTC in January: the first
	 * shared hour on or after the activation, every week, 09:00 in the pair's zone. */
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-12T14:00 2027-01-19T14:00 2027-01-26T14:00 2027-02-02T14:00");
	assert_string_equal(starts(st, "planned", "America/New_York"),
			    "2027-01-12T09:00 2027-01-19T09:00 2027-01-26T09:00 2027-02-02T09:00");
	assert_int_equal(rep.pairs, 1);
	assert_int_equal(rep.planned, 4);
	assert_int_equal(rep.existing, 0);
	assert_string_equal(rep.cadence, "weekly");
	assert_string_equal(fx_text(st, "SELECT planned_by FROM sessions LIMIT 1"), "weekly");
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE duration_min = 60"), 4);
	assert_string_equal(fx_text(st, "SELECT timezone FROM sessions LIMIT 1"),
			    "America/New_York");
	plan_report_fini(&rep);
	/* Planning again (an hour later, too) inserts nothing. */
	plan_ok(st, "weekly", T0 + 3600, 28, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.existing, 4);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions"), 4);
	assert_int_equal(fx_events(st, "session.planned"), 4);
	/* Approved and proposed matches are not planned. */
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE match_id <> 1"), 0);
	store_close(st);
}

static void
test_clipping(void **state)
{
	(void)state;
	struct plan_report rep;
	/* The program's last day: 2027-01-25 (its end in the workspace zone, UTC). */
	struct store *st = plan_store(T0, T0);
	fx_prog.ends = "2027-01-25";
	plan_ok(st, "weekly", T0, 56, &rep);
	assert_string_equal(starts(st, "planned", "UTC"), "2027-01-12T14:00 2027-01-19T14:00");
	plan_report_fini(&rep);
	store_close(st);
	/* The match's end: a session must end by it, so the 14:00 one of the 19th (60
	 * minutes, to 15:00) is dropped, quietly (a rule's last instant, not a mistake). */
	st = plan_store(T0, T0);
	fx_exec(st, "UPDATE matches SET ended_at = '2027-01-19T14:30:00Z' WHERE id = 1");
	plan_ok(st, "weekly", T0, 56, &rep);
	assert_string_equal(starts(st, "planned", "UTC"), "2027-01-12T14:00");
	assert_int_equal(rep.nrefused, 0);
	plan_report_fini(&rep);
	store_close(st);
	/* Never in the past, and the phase stays the activation's: biweekly from Jan 12. */
	st = plan_store(T0, T0 + 15 * DAY);
	plan_ok(st, "biweekly", T0 + 15 * DAY, 28, &rep);
	assert_string_equal(starts(st, "planned", "UTC"), "2027-02-09T14:00 2027-02-23T14:00");
	plan_report_fini(&rep);
	/* The horizon: 8 weeks by default. */
	plan_ok(st, "biweekly", T0 + 15 * DAY, 0, &rep);
	assert_int_equal(rep.until - rep.from, 56 * DAY);
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-02-09T14:00 2027-02-23T14:00 2027-03-09T14:00 2027-03-23T13:00");
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_no_slot_and_default_cadence(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	fx_exec(st, "UPDATE enrollments SET availability = '[\"mon-am\"]' WHERE person_id = 1;"
		    "UPDATE enrollments SET availability = '[\"fri-pm\"]' WHERE person_id = 2");
	fx_prog.sessions_per_month = 1;
	struct plan_report rep;
	plan_ok(st, NULL, T0, 56, &rep);
	assert_string_equal(rep.cadence, "monthly");
	assert_string_equal(rep.cadence_from, "sessions_per_month");
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.nnotes, 1);
	assert_int_equal(rep.notes[0].match_id, 1);
	assert_string_equal(rep.notes[0].mentor, "Ann");
	assert_string_equal(rep.notes[0].mentee, "Bo");
	assert_string_equal(rep.notes[0].reason,
			    "no shared slot: Ann (Europe/Paris: mon-am) and Bo (America/New_York: "
			    "fri-pm) have no common time inside both working days");
	plan_report_fini(&rep);
	store_close(st);
	/* Monthly keeps the slot's place in the month: the second Tuesday. */
	st = plan_store(T0, T0);
	fx_prog.sessions_per_month = 1;
	plan_ok(st, NULL, T0, 120, &rep);
	assert_string_equal(starts(st, "planned", "America/New_York"),
			    "2027-01-12T09:00 2027-02-09T09:00 2027-03-09T09:00 2027-04-13T09:00 "
			    "2027-05-11T09:00");
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_dst_new_york(void **state)
{
	(void)state;
	/* A rule that fixes day and hour, in the mentee's zone: 10:00 New York every Tuesday,
	 * before and after the change of 2027-03-14 (UTC-5 -> UTC-4). */
	const char *path = write_cadence(
	    "tue10", "return tandem.cadence{ name = \"tue10\", version = \"1.0.0\", api = 1,\n"
		     "  rule = \"FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=0\", zone = \"mentee\" }\n");
	time_t now = fx_utc(2027, 3, 1, 0, 0);
	struct store *st = plan_store(T0, now);
	struct plan_report rep;
	plan_ok(st, path, now, 28, &rep);
	assert_string_equal(starts(st, "planned", "America/New_York"),
			    "2027-03-02T10:00 2027-03-09T10:00 2027-03-16T10:00 2027-03-23T10:00");
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-03-02T15:00 2027-03-09T15:00 2027-03-16T14:00 2027-03-23T14:00");
	plan_report_fini(&rep);
	store_close(st);
}

/* One DST case of test_dst_gap_overlap: the mentee's zone, the wall time of a weekly
 * rule on the change day, the window, and the UTC instants planned (exactly). */
struct dst_case {
	const char *zone, *rule, *from, *wall; /* wall: a plan-returned start on that day */
	const char *want_utc;  /* every planned start, UTC, as starts() prints them */
	const char *want_wall; /* the same in the zone */
};

/* The store's sessions exported as .ics (sched/calendar) and read back by python3's
 * icalendar (the Debian package): every event's DTSTART and DTEND, through the document's
 * own VTIMEZONE, are the instants of its row; the TZID is the plain zone name. */
static void
ics_matches_rows(struct store *st, const char *zone)
{
	struct buf b;
	buf_init(&b);
	struct diag d;
	struct calendar_filter cf = {0};
	struct calendar_opts co = {.domain = "dst.test", .now = T0};
	size_t count = 0;
	if (calendar_export(st, &cf, &co, &b, &count, &d) != 0)
		fail_msg("calendar_export: %s", d.msg);
	assert_int_equal((int64_t)count, fx_int(st, "SELECT count(*) FROM sessions"));
	char path[128];
	snprintf(path, sizeof(path), "%s/dst.ics", fx_dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	buf_fini(&b);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s -c 'import sys, icalendar\n"
		 "cal = icalendar.Calendar.from_ical(open(sys.argv[1], \"rb\").read())\n"
		 "for c in cal.walk(\"VTIMEZONE\"): print(\"TZ\", c[\"TZID\"])\n"
		 "for e in sorted(cal.walk(\"VEVENT\"), key=lambda e: e.decoded(\"DTSTART\")):\n"
		 "  print(int(e.decoded(\"DTSTART\").timestamp()), int(e.decoded(\"DTEND\").timestamp()))\n"
		 "' %s 2>&1",
		 access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096] = "";
	size_t len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	if (pclose(p) != 0)
		fail_msg("python3 icalendar (python3-icalendar, see scripts/deps.sh): %s", out);
	/* The rows, in the same form. */
	char want[4096];
	snprintf(want, sizeof(want), "TZ %s\n", zone);
	struct stmt q = {0};
	if (stmt_prepare(&q, st, "test",
			 "SELECT CAST(strftime('%s', starts_at) AS INTEGER), duration_min FROM "
			 "sessions ORDER BY starts_at",
			 &d) != 0)
		fail_msg("%s", d.msg);
	while (stmt_step(&q, &d) == STMT_ROW) {
		int64_t t = stmt_int64(&q, 0), dur = stmt_int64(&q, 1);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%lld %lld\n",
			 (long long)t, (long long)(t + 60 * dur));
	}
	stmt_finalize(&q);
	if (strcmp(out, want) != 0)
		fail_msg("%s: python3 icalendar read\n%swant\n%s", zone, out, want);
}

static void
test_dst_gap_overlap(void **state)
{
	(void)state;
	/* Each zone's 2027 changes: a weekly session at a wall time that falls in the spring
	 * gap (it moves forward by the gap: an hour, or 30 minutes on Lord Howe Island) or
	 * in the autumn overlap (the first of the two instants, still summer time). Kolkata
	 * has no change: the same wall time is the same UTC time every week. */
	static const struct dst_case cases[] = {
	    /* New York: 2027-03-14 02:00 EST -> 03:00 EDT; 2027-11-07 02:00 EDT -> 01:00 EST */
	    {"America/New_York", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", "2027-03-07",
	     "2027-03-14T02:30",
	     "2027-03-07T07:30 2027-03-14T07:30 2027-03-21T06:30",
	     "2027-03-07T02:30 2027-03-14T03:30 2027-03-21T02:30"},
	    {"America/New_York", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", "2027-10-31",
	     "2027-11-07T01:30",
	     "2027-10-31T05:30 2027-11-07T05:30 2027-11-14T06:30",
	     "2027-10-31T01:30 2027-11-07T01:30 2027-11-14T01:30"},
	    /* London: 2027-03-28 01:00 GMT -> 02:00 BST; 2027-10-31 02:00 BST -> 01:00 GMT */
	    {"Europe/London", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", "2027-03-21",
	     "2027-03-28T01:30",
	     "2027-03-21T01:30 2027-03-28T01:30 2027-04-04T00:30",
	     "2027-03-21T01:30 2027-03-28T02:30 2027-04-04T01:30"},
	    {"Europe/London", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", "2027-10-24",
	     "2027-10-31T01:30",
	     "2027-10-24T00:30 2027-10-31T00:30 2027-11-07T01:30",
	     "2027-10-24T01:30 2027-10-31T01:30 2027-11-07T01:30"},
	    /* Lord Howe: 2027-10-03 02:00 +10:30 -> 02:30 +11 (a 30-minute gap);
	     * 2027-04-04 02:00 +11 -> 01:30 +10:30 (01:30-02:00 twice) */
	    {"Australia/Lord_Howe", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=15", "2027-09-26",
	     "2027-10-03T02:15",
	     "2027-09-25T15:45 2027-10-02T15:45 2027-10-09T15:15",
	     "2027-09-26T02:15 2027-10-03T02:45 2027-10-10T02:15"},
	    {"Australia/Lord_Howe", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=45", "2027-03-28",
	     "2027-04-04T01:45",
	     "2027-03-27T14:45 2027-04-03T14:45 2027-04-10T15:15",
	     "2027-03-28T01:45 2027-04-04T01:45 2027-04-11T01:45"},
	    /* Kolkata, over New York's and London's spring changes: 02:30 IST is 21:00Z */
	    {"Asia/Kolkata", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", "2027-03-14",
	     "2027-03-21T02:30",
	     "2027-03-13T21:00 2027-03-20T21:00 2027-03-27T21:00",
	     "2027-03-14T02:30 2027-03-21T02:30 2027-03-28T02:30"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dst_case *c = &cases[i];
		/* The window opens a day before the first Sunday and holds three of them. */
		int y, mo, da;
		sscanf(c->from, "%d-%d-%d", &y, &mo, &da);
		time_t now = fx_utc(y, mo, da, 0, 0) - 2 * DAY;
		char text[512];
		/* A rule alone: the planner expands it from the activation. */
		snprintf(text, sizeof(text),
			 "return tandem.cadence{ name = \"dst\", version = \"1.0.0\", api = 1,\n"
			 "  rule = \"%s\", zone = \"mentee\" }\n",
			 c->rule);
		const char *path = write_cadence("dst", text);
		struct store *st = plan_store(T0, now);
		char sql[160];
		snprintf(sql, sizeof(sql), "UPDATE people SET timezone = '%s' WHERE id = 2", c->zone);
		fx_exec(st, sql);
		struct plan_report rep;
		plan_ok(st, path, now, 20, &rep);
		if (strcmp(starts(st, "planned", "UTC"), c->want_utc) != 0)
			fail_msg("%s %s: UTC %s, want %s", c->zone, c->rule, starts(st, "planned", "UTC"),
				 c->want_utc);
		if (strcmp(starts(st, "planned", c->zone), c->want_wall) != 0)
			fail_msg("%s %s: wall %s, want %s", c->zone, c->rule,
				 starts(st, "planned", c->zone), c->want_wall);
		assert_int_equal(rep.nnotes, 0);
		plan_report_fini(&rep);
		ics_matches_rows(st, c->zone);
		/* Planning again (an hour later) gives the same instants: nothing new. */
		plan_ok(st, path, now + 3600, 20, &rep);
		assert_int_equal(rep.planned, 0);
		assert_int_equal(rep.cancelled, 0);
		plan_report_fini(&rep);
		store_close(st);
		/* A plan hook returning the change day's wall time as a string lands on the
		 * same instant as the rule's. */
		snprintf(text, sizeof(text),
			 "return tandem.cadence{ name = \"dstplan\", version = \"1.0.0\", api = 1,\n"
			 "  zone = \"mentee\",\n"
			 "  plan = function(pair, history, ctx) return { { start = \"%s\" } } end }\n",
			 c->wall);
		path = write_cadence("dstplan", text);
		st = plan_store(T0, now);
		fx_exec(st, sql);
		plan_ok(st, path, now, 20, &rep);
		assert_int_equal(rep.planned, 1);
		char want[32];
		snprintf(want, sizeof(want), "%.16s", c->want_utc + 17);
		if (strcmp(starts(st, "planned", "UTC"), want) != 0)
			fail_msg("%s plan '%s': UTC %s, want %s", c->zone, c->wall,
				 starts(st, "planned", "UTC"), want);
		plan_report_fini(&rep);
		store_close(st);
	}
}

static void
test_bad_lua_values(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	struct {
		const char *ret, *want;
	} cases[] = {
	    {"{ { start = \"2027-13-01T10:00\" } }",
	     "plan returned a bad session 1: field 'start': bad time '2027-13-01T10:00': no such "
	     "date or time"},
	    {"{ { start = pair.activated }, { start = pair.activated, duration = 0 } }",
	     "plan returned a bad session 2: field 'duration' must be an integer number of "
	     "minutes between 1 and 1440 (got 0)"},
	    {"{ { rule = \"FREQ=WEEKLY;BYSETPOS=1\", from = \"2027-01-12\" } }",
	     "plan returned a bad rule segment 1: field 'rule': rule 'FREQ=WEEKLY;BYSETPOS=1': "
	     "part 'BYSETPOS' is not supported"},
	    {"{ { rule = \"FREQ=WEEKLY\" } }",
	     "plan returned a bad rule segment 1: missing field 'from'"},
	    {"{ { start = 1, rule = \"FREQ=DAILY\" } }",
	     "plan returned a bad entry 1: has both 'start' (a session) and 'rule'"},
	    {"{ { when = 3 } }", "plan returned a bad entry 1: needs a field 'start'"},
	    {"{ { start = \"2027-01-20T10:00\", room = 4 } }",
	     "plan returned a bad session 1: unknown field 'room' (fields: start, duration, topic)"},
	    {"\"weekly\"", "plan must return a list of sessions and rule segments (got string)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 "return tandem.cadence{ name = \"bad\", version = \"1.0.0\", api = 1,\n"
			 "  plan = function(pair, history, ctx)\n"
			 "    return %s\n"
			 "  end }\n",
			 cases[i].ret);
		const char *path = write_cadence("bad", text);
		struct plan_report rep;
		plan_ok(st, path, T0, 28, &rep);
		assert_int_equal(rep.planned, 0);
		assert_int_equal(rep.nnotes, 1);
		char want[600];
		snprintf(want, sizeof(want), "%s:2: %s", path, cases[i].want);
		if (strncmp(rep.notes[0].reason, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, rep.notes[0].reason, want);
		assert_non_null(strstr(rep.notes[0].reason, "(in hook plan)"));
		plan_report_fini(&rep);
	}
	/* Good values: a session at a wall time in the pair's zone (New York) with its own
	 * duration and topic, and a rule segment whose day and hour come from the slots. */
	const char *good = write_cadence(
	    "good", "return tandem.cadence{ name = \"good\", version = \"1.0.0\", api = 1,\n"
		    "  plan = function(pair, history, ctx)\n"
		    "    return { { start = \"2027-01-13T08:30\", duration = 30, topic = \"kickoff\" },\n"
		    "             { rule = \"FREQ=WEEKLY;INTERVAL=2\", from = \"2027-01-18\",\n"
		    "               [\"until\"] = \"2027-02-10\" } }\n"
		    "  end }\n");
	struct plan_report rep;
	plan_ok(st, good, T0, 28, &rep);
	assert_int_equal(rep.nnotes, 0);
	assert_string_equal(starts(st, "planned", "America/New_York"),
			    "2027-01-13T08:30 2027-01-18T09:00 2027-02-01T09:00");
	assert_string_equal(fx_text(st, "SELECT topic FROM sessions WHERE duration_min = 30"),
			    "kickoff");
	plan_report_fini(&rep);
	store_close(st);
}

/* A plan hook's sessions held to the pair's calendar (sched/plan_check): one that would
 * run past the program's end, or overlap another of the result or a stored one, is
 * dropped with a note naming FILE:LINE, the entry and the field; the rest are planned. */
static void
test_refused_sessions(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	fx_prog.ends = "2027-01-25"; /* ends 2027-01-26T00:00Z (the workspace zone is UTC) */
	const char *path = write_cadence(
	    "clash", "return tandem.cadence{ name = \"clash\", version = \"1.0.0\", api = 1,\n"
		     "  plan = function(pair, history, ctx)\n"
		     "    return { { start = \"2027-01-20T10:00Z\", duration = 1440 },\n"
		     "             { start = \"2027-01-20T11:00Z\" },\n"
		     "             { start = \"2027-01-22T10:00Z\" }, { start = \"2027-01-22T11:00Z\" },\n"
		     "             { start = \"2027-01-25T23:30Z\", duration = 45 },\n"
		     "             { start = \"2027-01-25T22:00Z\", duration = 120 } }\n"
		     "  end }\n");
	struct plan_report rep;
	plan_ok(st, path, T0, 28, &rep);
	/* Back to back is no overlap; ending exactly at the end is inside it. */
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-20T10:00 2027-01-22T10:00 2027-01-22T11:00 2027-01-25T22:00");
	assert_int_equal(rep.planned, 4);
	assert_int_equal(rep.nnotes, 0);
	assert_int_equal(rep.nrefused, 2);
	char want[600];
	snprintf(want, sizeof(want),
		 "%s:2: plan returned a bad session 2: field 'start': 2027-01-20T11:00Z (60 minutes) "
		 "overlaps session 1 of the same result (2027-01-20T10:00Z, 1440 minutes) (in hook "
		 "plan)",
		 path);
	assert_string_equal(rep.refused[0].reason, want);
	assert_string_equal(rep.refused[0].mentor, "Ann");
	snprintf(want, sizeof(want),
		 "%s:2: plan returned a bad session 5: field 'duration': 2027-01-25T23:30Z (45 "
		 "minutes) would end after the program's end (2027-01-26T00:00Z) (in hook plan)",
		 path);
	assert_string_equal(rep.refused[1].reason, want);
	plan_report_fini(&rep);
	/* A stored session counts too: the long one held, a new one inside it is refused; the
	 * stored instants themselves are the same sessions, never refused. */
	fx_exec(st, "UPDATE sessions SET status = 'held' WHERE starts_at = '2027-01-20T10:00:00Z'");
	path = write_cadence(
	    "clash", "return tandem.cadence{ name = \"clash\", version = \"1.0.0\", api = 1,\n"
		     "  plan = function(pair, history, ctx)\n"
		     "    return { { start = \"2027-01-22T10:00Z\" }, { start = \"2027-01-21T09:00Z\" } }\n"
		     "  end }\n");
	plan_ok(st, path, T0, 28, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.existing, 1);
	assert_int_equal(rep.nrefused, 1);
	snprintf(want, sizeof(want),
		 "%s:2: plan returned a bad session 2: field 'start': 2027-01-21T09:00Z (60 minutes) "
		 "overlaps the pair's held session #%lld (2027-01-20T10:00Z, 1440 minutes) (in hook "
		 "plan)",
		 path,
		 (long long)fx_int(st, "SELECT id FROM sessions WHERE status = 'held'"));
	assert_string_equal(rep.refused[0].reason, want);
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_taper(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	struct plan_report rep;
	plan_ok(st, "taper", T0, 70, &rep);
	/* Weekly for the four weeks after the activation, then every two weeks. */
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-12T14:00 2027-01-19T14:00 2027-01-26T14:00 2027-02-02T14:00 "
			    "2027-02-09T14:00 2027-02-23T14:00 2027-03-09T14:00");
	assert_int_equal(rep.nnotes, 0);
	plan_report_fini(&rep);
	/* A day later, over the same window's end: nothing new, nothing cancelled. */
	plan_ok(st, "taper", T0 + DAY, 69, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_after_miss(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	struct plan_report rep;
	plan_ok(st, "after_miss", T0, 56, &rep);
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-12T14:00 2027-01-26T14:00 2027-02-09T14:00 2027-02-23T14:00");
	plan_report_fini(&rep);
	/* The session of Jan 26 is missed: the pair meets a week later, then every two weeks
	 * from there; the old rhythm's planned sessions are cancelled. */
	fx_exec(st, "UPDATE sessions SET status = 'held' WHERE starts_at = '2027-01-12T14:00:00Z';"
		    "UPDATE sessions SET status = 'missed' WHERE starts_at = '2027-01-26T14:00:00Z'");
	time_t now = fx_utc(2027, 1, 27, 8, 0);
	clock_virtual_set(&fx_clock, now);
	plan_ok(st, "after_miss", now, 56, &rep);
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-02-02T14:00 2027-02-16T14:00 2027-03-02T14:00 2027-03-16T13:00");
	assert_string_equal(starts(st, "cancelled", "UTC"), "2027-02-09T14:00 2027-02-23T14:00");
	assert_int_equal(rep.cancelled, 2);
	assert_string_equal(fx_text(st, "SELECT status_reason FROM sessions WHERE status = "
					"'cancelled' LIMIT 1"),
			    "replanned by cadence after_miss");
	plan_report_fini(&rep);
	/* Planning again changes nothing. */
	plan_ok(st, "after_miss", now + 3600, 56, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);
	store_close(st);
}

/* The program's cadence changes (tandem.lua): the sessions the previous cadence planned are
 * replanned as the new one's own: kept at an instant the new plan has, cancelled otherwise
 * when more than 24 hours away (the reason says the cadence changed, the report counts
 * them apart, the calendar update is noted). Held sessions, sessions moved by hand
 * ('manual') and the near ones are never touched. Weekly -> biweekly (a subset of the
 * instants), then a rule whose instants all differ. */
static void
test_cadence_changed(void **state)
{
	(void)state;
	struct store *st = plan_store(T0, T0);
	struct plan_report rep;
	plan_ok(st, "weekly", T0, 28, &rep);
	plan_report_fini(&rep);
	/* Jan 12 held; Jan 26 as if moved there by hand. */
	fx_exec(st, "UPDATE sessions SET status = 'held' WHERE starts_at = '2027-01-12T14:00:00Z';"
		    "UPDATE sessions SET planned_by = 'manual' WHERE starts_at = "
		    "'2027-01-26T14:00:00Z'");
	time_t now = fx_utc(2027, 1, 18, 16, 0); /* Jan 19 14:00 is 22 hours away */
	clock_virtual_set(&fx_clock, now);
	plan_ok(st, "weekly", now, 28, &rep); /* adds Feb 9 */
	assert_int_equal(rep.planned, 1);
	plan_report_fini(&rep);

	plan_ok(st, "biweekly", now, 28, &rep); /* Jan 26 and Feb 9 are biweekly's too */
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.existing, 2);
	assert_int_equal(rep.cancelled, 1);
	assert_int_equal(rep.changed, 1);
	assert_int_equal(rep.late, 0);
	plan_report_fini(&rep);
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-19T14:00 2027-01-26T14:00 2027-02-09T14:00");
	assert_string_equal(starts(st, "held", "UTC"), "2027-01-12T14:00");
	assert_string_equal(starts(st, "cancelled", "UTC"), "2027-02-02T14:00");
	assert_string_equal(fx_text(st, "SELECT status_reason || ', ' || planned_by || ', ' || "
					"(id IN (SELECT session_id FROM session_changes)) FROM "
					"sessions WHERE status = 'cancelled'"),
			    "replanned by cadence biweekly (the program's cadence changed), weekly, 1");
	/* Planning again changes nothing. */
	plan_ok(st, "biweekly", now + 3600, 28, &rep);
	assert_int_equal(rep.planned + rep.cancelled + rep.changed, 0);
	plan_report_fini(&rep);

	/* Tuesdays 10:00 New York (15:00 UTC): none of the earlier instants. */
	const char *path = write_cadence(
	    "tue10", "return tandem.cadence{ name = \"tue10\", version = \"1.0.0\", api = 1,\n"
		     "  rule = \"FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=0\", zone = \"mentee\" }\n");
	fx_exec(st, "UPDATE sessions SET status = 'held' WHERE starts_at = '2027-01-19T14:00:00Z'");
	now = fx_utc(2027, 1, 20, 8, 0);
	clock_virtual_set(&fx_clock, now);
	plan_ok(st, path, now, 28, &rep);
	assert_int_equal(rep.planned, 4);
	assert_int_equal(rep.cancelled, 1);
	assert_int_equal(rep.changed, 1);
	plan_report_fini(&rep);
	assert_string_equal(starts(st, "planned", "UTC"),
			    "2027-01-26T14:00 2027-01-26T15:00 2027-02-02T15:00 2027-02-09T15:00 "
			    "2027-02-16T15:00");
	assert_string_equal(starts(st, "held", "UTC"), "2027-01-12T14:00 2027-01-19T14:00");
	assert_string_equal(starts(st, "cancelled", "UTC"), "2027-02-02T14:00 2027-02-09T14:00");
	assert_int_equal(fx_int(st, "SELECT count(*) FROM session_changes"), 2);
	store_close(st);
}

/* Every session of the store as one line per row: what planning decided. */
static char *
all_sessions(struct store *st)
{
	return strdup(fx_text(st, "SELECT group_concat(id || ' ' || match_id || ' ' || starts_at || "
				  "' ' || status || ' ' || created_at, ';') FROM (SELECT * FROM "
				  "sessions ORDER BY id)"));
}

/* The service's incremental plan (only the pairs whose plan can have changed, cadences kept
 * loaded) against planning every pair, both run every hour for 70 days while the pairs'
 * sessions are held and missed, a match is activated, then an enrollment and a person
 * change: after each run both stores hold the same sessions, inserted and cancelled at the
 * same runs (ids and created_at equal), each run reports the same counts (pairs, planned,
 * already there: the service's job result agrees with `sessions plan`), and the
 * incremental one read fewer pairs. */
static void
test_incremental_equals_full(void **state)
{
	(void)state;
	/* A rule that repeats weekly, one that leaves a month between instants (beyond the
	 * weekly lookahead), and a plan hook that reads the history. */
	static const char *const cadences[] = {"biweekly", "monthly", "after_miss"};
	for (size_t c = 0; c < sizeof(cadences) / sizeof(cadences[0]); c++) {
		struct store *full = plan_store(T0, T0), *inc = plan_store(T0, T0);
		fx_exec(full, "PRAGMA synchronous = OFF");
		fx_exec(inc, "PRAGMA synchronous = OFF");
		/* Both keep their cadences loaded (a worker started per run would dominate). */
		struct cadence_cache *caches[2] = {cadence_cache_new(), cadence_cache_new()};
		assert_non_null(caches[0]);
		assert_non_null(caches[1]);
		long read_full = 0, read_inc = 0;
		for (int h = 0; h < 70 * 24; h++) {
			time_t now = T0 + (time_t)h * 3600;
			clock_virtual_set(&fx_clock, now);
			char sql[512], iso[STORE_TIME_MAX];
			store_format_time(now, iso);
			/* Sessions that ended: every third one missed, the others held. */
			snprintf(sql, sizeof(sql),
				 "UPDATE sessions SET status = CASE WHEN id %% 3 = 0 THEN 'missed' "
				 "ELSE 'held' END WHERE status = 'planned' AND starts_at < '%s'", iso);
			const char *change = h == 24 * 15 ? "UPDATE matches SET status = 'active', "
							    "activated_at = '@T' WHERE id = 2"
					     : h == 24 * 35 ? "UPDATE enrollments SET availability = "
							      "'[\"mon-pm\",\"thu-pm\"]' WHERE person_id = 2"
					     : h == 24 * 55 ? "UPDATE people SET timezone = "
							      "'Europe/London' WHERE id = 4"
							    : NULL;
			char buf[256] = "";
			if (change != NULL) {
				snprintf(buf, sizeof(buf), "%s", change);
				char *at = strstr(buf, "@T");
				if (at != NULL) {
					char tail[256];
					snprintf(tail, sizeof(tail), "%s%s", iso, at + 2);
					snprintf(at, sizeof(buf) - (size_t)(at - buf), "%s", tail);
				}
			}
			struct store *both[2] = {full, inc};
			int counts[2][3]; /* what each run says: pairs, planned, existing */
			for (int k = 0; k < 2; k++) {
				fx_exec(both[k], sql);
				if (buf[0])
					fx_exec(both[k], buf);
				struct plan_ctx ctx = {.st = both[k], .cfg = &fx_cfg,
						       .cadence = cadences[c], .incremental = k,
						       .cadences = caches[k]};
				struct plan_report rep;
				struct diag d;
				if (plan_program(&ctx, "p", now, 56, &rep, &d) != 0)
					fail_msg("%s at hour %d: %s", cadences[c], h, d.msg);
				*(k ? &read_inc : &read_full) += rep.replanned;
				counts[k][0] = rep.pairs;
				counts[k][1] = rep.planned;
				counts[k][2] = rep.existing;
				plan_report_fini(&rep);
			}
			/* The incremental run says what a full plan says at the same moment (for a
			 * plan hook, "already there" can differ when a replan brings back an instant
			 * an earlier one cancelled: plan_internal.h). */
			if (memcmp(counts[0], counts[1],
				   sizeof(counts[0]) - (c == 2 ? sizeof(int) : 0)) != 0)
				fail_msg("%s, hour %d: full says %d pairs, %d planned, %d there; "
					 "incremental %d, %d, %d",
					 cadences[c], h, counts[0][0], counts[0][1], counts[0][2],
					 counts[1][0], counts[1][1], counts[1][2]);
			char *a = all_sessions(full), *b = all_sessions(inc);
			if (strcmp(a, b) != 0)
				fail_msg("%s, hour %d: incremental differs\nfull %s\ninc  %s", cadences[c],
					 h, a, b);
			free(a);
			free(b);
		}
		assert_true(fx_int(full, "SELECT count(*) FROM sessions WHERE match_id = 2") > 0);
		assert_true(read_inc * 10 < read_full);
		cadence_cache_delete(caches[0]);
		cadence_cache_delete(caches[1]);
		store_close(full);
		store_close(inc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_weekly_overlap_idempotent),
	    cmocka_unit_test(test_clipping),
	    cmocka_unit_test(test_no_slot_and_default_cadence),
	    cmocka_unit_test(test_dst_new_york),
	    cmocka_unit_test(test_dst_gap_overlap),
	    cmocka_unit_test(test_bad_lua_values),
	    cmocka_unit_test(test_refused_sessions),
	    cmocka_unit_test(test_taper),
	    cmocka_unit_test(test_after_miss),
	    cmocka_unit_test(test_cadence_changed),
	    cmocka_unit_test(test_incremental_equals_full),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

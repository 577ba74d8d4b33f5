/*
 * Unit tests for sched/plan_fit through sched/plan: a person is never planned into two
 * overlapping sessions across their pairs (a mentor with two mentees; the second pair
 * moves to the next free quarter hour of its shared time, or is reported "no free slot"),
 * `sessions reschedule` refuses a time that overlaps another session of either person,
 * and a weekly open-slot session stays inside both people's working hours on each date
 * when only one zone has changed its clocks (Paris and New York in March 2027).
 *
 * The organization is session_fixture.h's: match #1 Ann (mentor, Europe/Paris) and Bo
 * (mentee, America/New_York); #3 Ann and Di, made active here.
 */
#include "session_fixture.h"

#include "program/config.h"
#include "sched/plan.h"
#include "sched/session.h"
#include "time/tz.h"

#define DAY 86400

static struct config_program fx_prog;
static struct config fx_cfg;

static struct store *
fit_store(time_t now, int minutes)
{
	struct store *st = fx_store(now);
	char sql[512], iso[STORE_TIME_MAX];
	store_format_time(now, iso);
	snprintf(sql, sizeof(sql),
		 "UPDATE matches SET activated_at = '%s' WHERE id = 1;"
		 "UPDATE matches SET activated_at = '%s', status = 'active' WHERE id = 3;"
		 "UPDATE matches SET status = 'approved' WHERE id = 2",
		 iso, iso);
	fx_exec(st, sql);
	memset(&fx_prog, 0, sizeof(fx_prog));
	fx_prog.name = "p";
	fx_prog.minutes_per_session = minutes;
	memset(&fx_cfg, 0, sizeof(fx_cfg));
	fx_cfg.programs = &fx_prog;
	fx_cfg.nprograms = 1;
	fx_cfg.timezone = "UTC";
	return st;
}

static void
plan_ok(struct store *st, time_t now, int days, struct plan_report *rep)
{
	struct plan_ctx ctx = {.st = st, .cfg = &fx_cfg, .cadence = "weekly"};
	struct diag d;
	if (plan_program(&ctx, "p", now, days, rep, &d) != 0)
		fail_msg("plan_program: %s", d.msg);
}

/* Match m's planned starts as "YYYY-MM-DDTHH:MM" in zone, joined by spaces. */
static const char *
starts(struct store *st, int m, const char *zone)
{
	static char out[2048];
	out[0] = '\0';
	struct stmt s = {0};
	struct diag d;
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT starts_at FROM sessions WHERE match_id = %d AND status = 'planned' "
		 "ORDER BY starts_at",
		 m);
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

/* Sessions of one person (Ann, in both matches) that overlap. */
#define OVERLAPS                                                                            \
	"SELECT count(*) FROM sessions a JOIN sessions b ON a.id < b.id WHERE "            \
	"a.status = 'planned' AND b.status = 'planned' AND "                               \
	"strftime('%s', a.starts_at) < strftime('%s', b.starts_at) + b.duration_min * 60 " \
	"AND strftime('%s', b.starts_at) < strftime('%s', a.starts_at) + a.duration_min * 60"

static void
test_one_mentor_two_mentees(void **state)
{
	(void)state;
	/* Di in New York too: both pairs share 14:00-16:00 UTC (Paris pm, New York am). */
	time_t t0 = fx_utc(2027, 1, 12, 10, 0);
	struct store *st = fit_store(t0, 45);
	fx_exec(st, "UPDATE people SET timezone = 'America/New_York' WHERE id = 4");
	struct plan_report rep;
	plan_ok(st, t0, 21, &rep);
	assert_string_equal(starts(st, 1, "UTC"), "2027-01-12T14:00 2027-01-19T14:00 2027-01-26T14:00");
	/* The next free quarter hour after Ann's session with Bo. */
	assert_string_equal(starts(st, 3, "UTC"), "2027-01-12T14:45 2027-01-19T14:45 2027-01-26T14:45");
	assert_int_equal(fx_int(st, OVERLAPS), 0);
	assert_int_equal(rep.nnotes, 0);
	plan_report_fini(&rep);
	/* Planning again changes nothing. */
	plan_ok(st, t0 + 3600, 21, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);

	/* A reschedule into Ann's other session is refused, naming it. */
	int64_t id = fx_int(st, "SELECT id FROM sessions WHERE match_id = 3 ORDER BY starts_at LIMIT 1");
	int64_t other = fx_int(st, "SELECT id FROM sessions WHERE match_id = 1 ORDER BY starts_at LIMIT 1");
	struct diag d;
	assert_int_equal(session_reschedule(st, id, fx_utc(2027, 1, 12, 14, 30), NULL, "test", NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	char want[64];
	snprintf(want, sizeof(want), "session #%lld", (long long)other);
	if (strstr(d.msg, want) == NULL)
		fail_msg("reschedule: %s (want %s named)", d.msg, want);
	/* A free time is accepted. */
	assert_int_equal(session_reschedule(st, id, fx_utc(2027, 1, 12, 15, 0), NULL, "test", NULL, &d), 0);
	store_close(st);

	/* Two hours each: the pair's shared time holds one session a day; the second pair is
	 * reported, never double-booked. */
	st = fit_store(t0, 120);
	fx_exec(st, "UPDATE people SET timezone = 'America/New_York' WHERE id = 4");
	plan_ok(st, t0, 21, &rep);
	assert_string_equal(starts(st, 1, "UTC"), "2027-01-12T14:00 2027-01-19T14:00 2027-01-26T14:00");
	assert_string_equal(starts(st, 3, "UTC"), "");
	assert_int_equal(rep.nnotes, 1);
	assert_int_equal(rep.notes[0].match_id, 3);
	if (strstr(rep.notes[0].reason, "no free slot on 2027-01-12: Ann already has a session then (match #1)") == NULL)
		fail_msg("note: %s", rep.notes[0].reason);
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_dst_one_side(void **state)
{
	(void)state;
	/* 16 March 2027: New York changed its clocks on the 14th, Paris changes on the 28th.
	 * Ann mon-pm in Paris, Bo mon-am in New York, the pair's zone Paris. */
	time_t t0 = fx_utc(2027, 3, 16, 11, 0);
	struct store *st = fit_store(t0, 45);
	fx_exec(st, "UPDATE matches SET status = 'approved' WHERE id = 3;"
		    "UPDATE matches SET timezone = 'Europe/Paris' WHERE id = 1;"
		    "UPDATE enrollments SET availability = '[\"mon-pm\"]' WHERE person_id = 1;"
		    "UPDATE enrollments SET availability = '[\"mon-am\"]' WHERE person_id = 2");
	struct plan_report rep;
	plan_ok(st, t0, 28, &rep);
	/* 14:00 Paris is 09:00 New York on the 22nd only; after the 28th, 15:00. */
	assert_string_equal(starts(st, 1, "Europe/Paris"),
			    "2027-03-22T14:00 2027-03-29T15:00 2027-04-05T15:00 2027-04-12T15:00");
	assert_string_equal(starts(st, 1, "America/New_York"),
			    "2027-03-22T09:00 2027-03-29T09:00 2027-04-05T09:00 2027-04-12T09:00");
	plan_report_fini(&rep);
	plan_ok(st, t0 + 3600, 28, &rep);
	assert_int_equal(rep.planned, 0);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);
	store_close(st);
}

static void
test_end_moved_earlier(void **state)
{
	(void)state;
	time_t t0 = fx_utc(2027, 1, 12, 10, 0);
	struct store *st = fit_store(t0, 60);
	fx_exec(st, "UPDATE matches SET status = 'approved' WHERE id = 3");
	fx_prog.ends = "2027-06-30";
	struct plan_report rep;
	plan_ok(st, t0, 28, &rep);
	assert_int_equal(rep.planned, 4);
	plan_report_fini(&rep);
	/* A manual one too: whatever planned it, it is after the end. */
	fx_exec(st, "UPDATE sessions SET planned_by = 'manual' WHERE starts_at = "
		    "'2027-02-02T14:00:00Z'");
	/* tandem.lua's `ends` moves to 20 January: the two sessions after it are cancelled,
	 * with their events, a bumped SEQUENCE and the reason. */
	fx_prog.ends = "2027-01-20";
	plan_ok(st, t0 + 3600, 28, &rep);
	assert_int_equal(rep.cancelled, 2);
	assert_int_equal(rep.late, 2);
	plan_report_fini(&rep);
	assert_string_equal(starts(st, 1, "UTC"), "2027-01-12T14:00 2027-01-19T14:00");
	assert_int_equal(fx_events(st, "session.cancelled"), 2);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE status = 'cancelled' AND "
				    "sequence = 1 AND status_reason = 'after the program''s end "
				    "(2027-01-20 is its last day)'"),
			 2);
	/* Again: nothing more. An end already past cancels what is after it too. */
	plan_ok(st, t0 + 7200, 28, &rep);
	assert_int_equal(rep.cancelled, 0);
	plan_report_fini(&rep);
	fx_prog.ends = "2027-01-10";
	plan_ok(st, t0 + 7200, 28, &rep);
	assert_int_equal(rep.cancelled, 2);
	plan_report_fini(&rep);
	assert_string_equal(starts(st, 1, "UTC"), "");
	store_close(st);
	/* A match's end, the same. */
	st = fit_store(t0, 60);
	fx_exec(st, "UPDATE matches SET status = 'approved' WHERE id = 3");
	plan_ok(st, t0, 28, &rep);
	plan_report_fini(&rep);
	fx_exec(st, "UPDATE matches SET ended_at = '2027-01-20T00:00:00Z' WHERE id = 1");
	plan_ok(st, t0 + 7200, 28, &rep);
	assert_int_equal(rep.late, 2);
	plan_report_fini(&rep);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE status_reason = "
				    "'after the match''s end'"),
			 2);
	assert_string_equal(fx_text(st, "SELECT status_reason FROM sessions WHERE status = "
					"'cancelled' LIMIT 1"),
			    "after the match's end");
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_mentor_two_mentees),
	    cmocka_unit_test(test_dst_one_side),
	    cmocka_unit_test(test_end_moved_earlier),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

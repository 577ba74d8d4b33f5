/* Unit tests for program/lifecycle: activation when the program starts (in the workspace
 * zone), at once without a start, nothing twice; ending a match cancels its future planned
 * sessions with the reason and leaves the rest; programs past their end end their
 * matches; refusals; finding a match by id or MENTOR:MENTEE; events in the caller's
 * transaction. */
#include "session_fixture.h"

#include "program/config.h"
#include "program/lifecycle.h"
#include "sched/builtin.h"
#include "sched/session.h"

#define DAY 86400

static char p_name[] = "p", p_starts[] = "2027-01-11", p_ends[] = "2027-06-30";
static char zone[] = "Asia/Tokyo";

/* A config declaring program p with the given dates (NULL: none). */
static struct config
config_of(struct config_program *prog, char *starts, char *ends)
{
	memset(prog, 0, sizeof(*prog));
	prog->name = p_name;
	prog->starts = starts;
	prog->ends = ends;
	return (struct config){.timezone = zone, .programs = prog, .nprograms = 1};
}

static const char *
match_status(struct store *st, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT status FROM matches WHERE id = %lld", (long long)id);
	return fx_text(st, sql);
}

static void
test_activate_when_started(void **state)
{
	(void)state;
	/* 2027-01-10 15:30 UTC is 2027-01-11 00:30 in Tokyo: the program has started there. */
	time_t before = fx_utc(2027, 1, 10, 14, 59), after = fx_utc(2027, 1, 10, 15, 0);
	struct store *st = fx_store(before);
	struct config_program prog;
	struct config cfg = config_of(&prog, p_starts, p_ends);
	struct diag d;
	int n = -1;
	assert_int_equal(lifecycle_activate_due(st, &cfg, before, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_string_equal(match_status(st, 2), "approved");
	assert_int_equal(lifecycle_activate_due(st, &cfg, after, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(match_status(st, 2), "active");
	assert_string_equal(match_status(st, 3), "proposed"); /* only approved ones */
	assert_string_equal(fx_text(st, "SELECT activated_at FROM matches WHERE id = 2"),
			    "2027-01-10T15:00:00Z");
	assert_int_equal(fx_events(st, "match.activated"), 1);
	assert_int_equal(lifecycle_activate_due(st, &cfg, after + DAY, &n, &d), 0);
	assert_int_equal(n, 0); /* nothing twice */
	assert_int_equal(fx_events(st, "match.activated"), 1);
	store_close(st);
}

static void
test_activate_without_start_and_unknown_programs(void **state)
{
	(void)state;
	struct store *st = fx_store(fx_utc(2026, 12, 1, 0, 0));
	struct config_program prog;
	struct config cfg = config_of(&prog, NULL, NULL);
	struct diag d;
	int n = -1;
	assert_int_equal(lifecycle_activate_due(st, &cfg, fx_utc(2026, 12, 1, 0, 0), &n, &d), 0);
	assert_int_equal(n, 1);
	/* A declared program the database has no row for is skipped. */
	static char other[] = "other";
	prog.name = other;
	fx_exec(st, "UPDATE matches SET status = 'approved' WHERE id = 2");
	assert_int_equal(lifecycle_activate_due(st, &cfg, fx_utc(2026, 12, 1, 0, 0), &n, &d), 0);
	assert_int_equal(n, 0);
	assert_string_equal(match_status(st, 2), "approved");
	store_close(st);
}

static void
test_end_cancels_future_sessions(void **state)
{
	(void)state;
	time_t t0 = fx_utc(2027, 2, 1, 10, 0);
	struct store *st = fx_store(t0 - 2 * DAY);
	int64_t past = 0, held = 0, fut1 = 0, fut2 = 0, other = 0;
	struct session_new sn = {.match_id = 1, .start = t0 - DAY};
	struct diag d;
	assert_int_equal(session_insert(st, &sn, &past, &d), 0);
	sn.start = t0 - DAY / 2;
	assert_int_equal(session_insert(st, &sn, &held, &d), 0);
	sn.start = t0 + 7 * DAY;
	assert_int_equal(session_insert(st, &sn, &fut1, &d), 0);
	sn.start = t0 + 14 * DAY;
	assert_int_equal(session_insert(st, &sn, &fut2, &d), 0);
	sn.match_id = 2;
	assert_int_equal(session_insert(st, &sn, &other, &d), 0);
	clock_virtual_set(&fx_clock, t0);
	struct session_checkin c = {
	    .session_id = held, .person_id = 2, .outcome = SESSION_OUTCOME_HELD};
	assert_int_equal(session_checkin(st, &c, NULL, &d), 0);
	int n = -1;
	assert_int_equal(lifecycle_end(st, 1, "mentor left the company", "hr", &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(match_status(st, 1), "ended");
	assert_string_equal(fx_text(st, "SELECT end_reason || ' ' || ended_at FROM matches "
					"WHERE id = 1"),
			    "mentor left the company 2027-02-01T10:00:00Z");
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE status = 'cancelled' AND "
				    "status_reason = 'match ended: mentor left the company' AND "
				    "sequence = 1"),
			 2);
	/* The past planned session may still get its check-in; the held one stays; the other
	 * pair's is untouched. */
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT status FROM sessions WHERE id = %lld", (long long)past);
	assert_string_equal(fx_text(st, sql), "planned");
	snprintf(sql, sizeof(sql), "SELECT status FROM sessions WHERE id = %lld", (long long)other);
	assert_string_equal(fx_text(st, sql), "planned");
	assert_int_equal(fx_events(st, "match.ended"), 1);
	assert_int_equal(fx_events(st, "session.cancelled"), 2);
	assert_non_null(strstr(fx_text(st, "SELECT payload FROM events WHERE kind = 'match.ended'"),
			       "\"sessions_cancelled\":2"));
	assert_string_equal(fx_text(st, "SELECT actor FROM events WHERE kind = 'match.ended'"),
			    "hr");
	/* Refusals. */
	assert_int_equal(lifecycle_end(st, 1, "again", "hr", NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_string_equal(d.msg, "match #1 already ended at 2027-02-01T10:00:00Z (mentor left "
				   "the company)");
	assert_int_equal(lifecycle_end(st, 3, "x", "hr", NULL, &d), -1);
	assert_string_equal(d.msg,
			    "match #3 is proposed: only an approved or active match can end");
	assert_int_equal(lifecycle_end(st, 2, "", "hr", NULL, &d), -1);
	assert_string_equal(d.msg, "ending match #2 needs a reason");
	assert_int_equal(lifecycle_end(st, 77, "x", "hr", NULL, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	/* No session can be planned for an ended match. */
	sn.match_id = 1;
	sn.start = t0 + 21 * DAY;
	assert_int_equal(session_insert(st, &sn, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	store_close(st);
}

static void
test_end_in_callers_transaction(void **state)
{
	(void)state;
	time_t t0 = fx_utc(2027, 2, 1, 10, 0);
	struct store *st = fx_store(t0);
	struct session_new sn = {.match_id = 1, .start = t0 + DAY};
	struct diag d;
	assert_int_equal(session_insert(st, &sn, NULL, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(lifecycle_end(st, 1, "test", "t", NULL, &d), 0);
	assert_string_equal(match_status(st, 1), "ended");
	store_rollback(st);
	assert_string_equal(match_status(st, 1), "active");
	assert_int_equal(fx_events(st, "match.ended"), 0);
	assert_int_equal(fx_events(st, "session.cancelled"), 0);
	assert_string_equal(fx_text(st, "SELECT status FROM sessions"), "planned");
	store_close(st);
}

static void
test_program_over_ends_matches(void **state)
{
	(void)state;
	/* 2027-06-30 is the program's last day in Tokyo; 15:00 UTC is July 1st there. */
	time_t last = fx_utc(2027, 6, 30, 14, 59), over = fx_utc(2027, 6, 30, 15, 0);
	struct store *st = fx_store(last);
	struct session_new sn = {.match_id = 1, .start = over + DAY};
	struct diag d;
	assert_int_equal(session_insert(st, &sn, NULL, &d), 0);
	struct config_program prog;
	struct config cfg = config_of(&prog, p_starts, p_ends);
	int n = -1, ended = -1;
	assert_int_equal(lifecycle_run_due(st, &cfg, last, &n, &ended, &d), 0);
	assert_int_equal(n, 1); /* the approved match #2 becomes active on the last day */
	assert_int_equal(ended, 0);
	clock_virtual_set(&fx_clock, over);
	assert_int_equal(lifecycle_run_due(st, &cfg, over, &n, &ended, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ended, 2);
	assert_string_equal(match_status(st, 1), "ended");
	assert_string_equal(match_status(st, 2), "ended");
	assert_string_equal(match_status(st, 3), "proposed");
	assert_int_equal(
	    fx_int(st, "SELECT count(*) FROM matches WHERE end_reason = 'program ended'"), 2);
	assert_string_equal(fx_text(st, "SELECT status FROM sessions"), "cancelled");
	assert_int_equal(lifecycle_run_due(st, &cfg, over + DAY, &n, &ended, &d), 0);
	assert_int_equal(ended, 0);
	store_close(st);
}

static void
test_find_match(void **state)
{
	(void)state;
	struct store *st = fx_store(fx_utc(2027, 1, 1, 0, 0));
	int64_t id = 0;
	struct diag d;
	assert_int_equal(lifecycle_find_match(st, 0, "2", &id, &d), 0);
	assert_int_equal(id, 2);
	assert_int_equal(lifecycle_find_match(st, 0, "#1", &id, &d), 0);
	assert_int_equal(id, 1);
	assert_int_equal(lifecycle_find_match(st, 0, "E1:E2", &id, &d), 0);
	assert_int_equal(id, 1);
	assert_int_equal(lifecycle_find_match(st, 1, "c@x:E4", &id, &d), 0);
	assert_int_equal(id, 2);
	assert_int_equal(lifecycle_find_match(st, 0, "9", &id, &d), -1);
	assert_string_equal(d.msg, "no match #9");
	/* E1 -> E4 is only proposed. */
	assert_int_equal(lifecycle_find_match(st, 0, "E1:E4", &id, &d), -1);
	assert_string_equal(d.msg, "E1 and E4 have no approved or active match");
	assert_int_equal(lifecycle_find_match(st, 0, "E1:E9", &id, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_int_equal(lifecycle_find_match(st, 0, "E1", &id, &d), -1);
	assert_string_equal(d.msg, "'E1' names no match: give a match id or MENTOR:MENTEE");
	/* The same pair current in two programs. */
	fx_exec(st,
		"INSERT INTO programs (id, name, created_at) VALUES (2, 'q', 'now');"
		"INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at) "
		"VALUES (8, 2, 1, 2, 'approved', 'now')");
	assert_int_equal(lifecycle_find_match(st, 0, "E1:E2", &id, &d), -1);
	assert_string_equal(d.msg, "E1 and E2 have 2 current matches (#1, #8): give the match id");
	assert_int_equal(lifecycle_find_match(st, 2, "E1:E2", &id, &d), 0);
	assert_int_equal(id, 8);
	store_close(st);
}

/* The service's activate-matches job runs lifecycle_run_due and reports the counts. */
static void
test_builtin_job(void **state)
{
	(void)state;
	time_t now = fx_utc(2027, 1, 12, 0, 0);
	struct store *st = fx_store(now);
	struct config_program prog;
	struct config cfg = config_of(&prog, p_starts, p_ends);
	size_t n = 0;
	const struct sched_job_ops *jobs = sched_builtin_jobs(&n);
	const struct sched_job_ops *job = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(jobs[i].name, "activate-matches") == 0)
			job = &jobs[i];
	assert_non_null(job);
	struct sched_run r = {.st = st, .cfg = &cfg, .job = job->name, .due = now, .now = now};
	struct diag d;
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(job->run(&r, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_string_equal(r.result, "{\"activated\":1,\"ended\":0}");
	assert_string_equal(match_status(st, 2), "active");
	/* Without a tandem.lua there are no programs: nothing to do. */
	r.cfg = NULL;
	assert_int_equal(job->run(&r, &d), 0);
	assert_string_equal(r.result, "{\"activated\":0,\"ended\":0}");
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_activate_when_started),
	    cmocka_unit_test(test_activate_without_start_and_unknown_programs),
	    cmocka_unit_test(test_end_cancels_future_sessions),
	    cmocka_unit_test(test_end_in_callers_transaction),
	    cmocka_unit_test(test_program_over_ends_matches),
	    cmocka_unit_test(test_find_match),
	    cmocka_unit_test(test_builtin_job),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

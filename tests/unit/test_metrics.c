/*
 * Unit tests for report/metrics: a hand-built store where every number is known (worked
 * out in the comments next to the rows), one program beside another whose rows must not
 * count, the hidden-until-both-rated rule at two instants, goal progress from the mentees'
 * assessments only, participation groups, retention, the ledger (absent, then present),
 * cohorts, and an unknown program.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/metrics.h"
#include "store/store.h"
#include "tmpdir.h"
#include "time/cal.h"

/*
 * People (department, location, level, birth year -> generation, hired, status):
 *  1 Ann Eng Paris 2 1998 gen_z 2020 active      mentor of pair 1
 *  2 Bo  Sales NY 8 1960 baby_boomer 2000 active  mentee of pair 1
 *  3 Cy  Eng Paris 1 2000 gen_z 2021 terminated  mentor of pair 2
 *  4 Di  Sales NY 9 1970 gen_x 1995 leave         mentee of pair 2
 *  5 Ed  Eng - - - unknown hired 2027-02-01 (after the start) active, enrolled, only proposed/rejected
 *  6 Fa  HR Paris 3 1985 millennial no hire date terminated, not enrolled
 *  7 Gi  HR NY 7 (no year, imported gen_x) 2010 active, enrolled, unmatched
 * Program p (1) starts 2027-01-01, library [data_literacy, ai_tools]; program q (2) beside it.
 */
static const char org_sql[] =
    "INSERT INTO programs (id, name, starts_on, ends_on, config, created_at) VALUES "
    "(1, 'p', '2027-01-01', '2027-06-30', '{\"topics\":[\"data_literacy\",\"ai_tools\"]}', 'x'),"
    "(2, 'q', '2027-01-01', NULL, '{}', 'x');"
    "INSERT INTO people (id, external_id, name, email, department, location, level, timezone,"
    " birth_year, generation, hire_date, status, created_at, updated_at) VALUES "
    "(1, 'E1', 'Ann', 'a@x', 'Eng', 'Paris', 2, 'UTC', 1998, NULL, '2020-01-01', 'active', 'x', 'x'),"
    "(2, 'E2', 'Bo', 'b@x', 'Sales', 'NY', 8, 'UTC', 1960, NULL, '2000-01-01', 'active', 'x', 'x'),"
    "(3, 'E3', 'Cy', 'c@x', 'Eng', 'Paris', 1, 'UTC', 2000, NULL, '2021-01-01', 'terminated', 'x', 'x'),"
    "(4, 'E4', 'Di', 'd@x', 'Sales', 'NY', 9, 'UTC', 1970, NULL, '1995-01-01', 'leave', 'x', 'x'),"
    "(5, 'E5', 'Ed', 'e@x', 'Eng', NULL, NULL, 'UTC', NULL, NULL, '2027-02-01', 'active', 'x', 'x'),"
    "(6, 'E6', 'Fa', 'f@x', 'HR', 'Paris', 3, 'UTC', 1985, NULL, NULL, 'terminated', 'x', 'x'),"
    "(7, 'E7', 'Gi', 'g@x', 'HR', 'NY', 7, 'UTC', NULL, 'gen_x', '2010-01-01', 'active', 'x', 'x');"
    "INSERT INTO enrollments (program_id, person_id, role, created_at) VALUES "
    "(1, 1, 'mentor', 'x'), (1, 2, 'mentee', 'x'), (1, 3, 'mentor', 'x'), (1, 4, 'mentee', 'x'),"
    "(1, 5, 'mentor', 'x'), (1, 7, 'mentee', 'x'), (2, 1, 'mentor', 'x'), (2, 2, 'mentee', 'x');"
    /* pair 1 active since 2027-01-04 09:00; pair 2 ended with the program, active since
     * 2027-02-10 09:00; 3 proposed and 4 rejected do not count; 5 is program q's. */
    "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, activated_at, ended_at,"
    " end_reason, created_at) VALUES "
    "(1, 1, 1, 2, 'active', '2027-01-04T09:00:00Z', NULL, NULL, 'x'),"
    "(2, 1, 3, 4, 'ended', '2027-02-10T09:00:00Z', '2027-06-30T23:00:00Z', 'program ended', 'x'),"
    "(3, 1, 5, 7, 'proposed', NULL, NULL, NULL, 'x'),"
    "(4, 1, 5, 4, 'rejected', NULL, NULL, NULL, 'x'),"
    "(5, 2, 1, 2, 'active', '2027-01-04T09:00:00Z', NULL, NULL, 'x');"
    "INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, status, planned_by,"
    " created_at, updated_at) VALUES "
    "(1, 1, '2027-01-10T10:00:00Z', 60, 'UTC', 'held', 'c', 'x', 'x'),"
    "(2, 1, '2027-01-24T10:00:00Z', 60, 'UTC', 'missed', 'c', 'x', 'x'),"
    "(3, 1, '2027-02-07T10:00:00Z', 60, 'UTC', 'held', 'c', 'x', 'x'),"
    "(4, 1, '2027-02-21T10:00:00Z', 60, 'UTC', 'planned', 'c', 'x', 'x'),"
    "(5, 1, '2027-01-17T10:00:00Z', 60, 'UTC', 'cancelled', 'c', 'x', 'x'),"
    "(6, 1, '2027-01-31T10:00:00Z', 60, 'UTC', 'rescheduled', 'c', 'x', 'x'),"
    "(7, 2, '2027-02-14T10:00:00Z', 60, 'UTC', 'held', 'c', 'x', 'x'),"
    "(8, 2, '2027-02-28T10:00:00Z', 60, 'UTC', 'held', 'c', 'x', 'x'),"
    "(10, 5, '2027-01-12T10:00:00Z', 60, 'UTC', 'held', 'c', 'x', 'x');"
    /* s1 both rated (4, 5); s3 mentee only (3), window closed 02-14; s7 mentor only (2),
     * closed 02-21; s8 mentee only (5), open until 03-07 11:00; s2 missed, no rating; s10 is
     * program q's (1, 1). */
    "INSERT INTO feedback (session_id, match_id, author_id, outcome, rating, created_at) VALUES "
    "(1, 1, 1, 'held', 4, 'x'), (1, 1, 2, 'held', 5, 'x'), (3, 1, 2, 'held', 3, 'x'),"
    "(7, 2, 3, 'held', 2, 'x'), (8, 2, 4, 'held', 5, 'x'), (2, 1, 1, 'missed', NULL, 'x'),"
    "(10, 5, 1, 'held', 1, 'x'), (10, 5, 2, 'held', 1, 'x');"
    /* Mentees: Bo ai_tools 2 -> 4, data_literacy 1 once; Di ai_tools 3 -> 3. Cy (a mentor)
     * ai_tools 1 does not count. */
    "INSERT INTO skill_assessments (session_id, person_id, program_id, topic, level, created_at)"
    " VALUES (3, 2, 1, 'ai_tools', 4, 'x'), (1, 2, 1, 'ai_tools', 2, 'x'),"
    " (1, 2, 1, 'data_literacy', 1, 'x'), (7, 4, 1, 'ai_tools', 3, 'x'),"
    " (8, 4, 1, 'ai_tools', 3, 'x'), (7, 3, 1, 'ai_tools', 1, 'x');";

static time_t
utc(int y, int mo, int da, int h)
{
	struct cal_time w = {.year = y, .mon = mo, .day = da, .hour = h};
	return (time_t)cal_to_epoch(&w);
}

static struct store *
org_store(const char *name)
{
	struct diag d;
	struct store *st = store_open(tmpdir_path(name), STORE_CREATE, &d);
	if (st == NULL)
		fail_msg("store_open: %s", d.msg);
	if (store_exec(st, org_sql, &d) != 0)
		fail_msg("org: %s", d.msg);
	return st;
}

/* The value at a dotted path ("sessions.per_month.1.held"; numbers index arrays). */
static json_t *
at(json_t *v, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v;
	     k = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(k, NULL, 10))
				     : json_object_get(v, k);
	if (v == NULL)
		fail_msg("no value at %s", path);
	return v;
}

static void
check_int(json_t *m, const char *path, long long want)
{
	json_t *v = at(m, path);
	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail_msg("%s: got %s, want %lld", path, json_dumps(v, JSON_ENCODE_ANY), want);
}

static void
check_real(json_t *m, const char *path, double want)
{
	json_t *v = at(m, path);
	if (!json_is_number(v) || fabs(json_number_value(v) - want) > 1e-9)
		fail_msg("%s: got %s, want %.12g", path, json_dumps(v, JSON_ENCODE_ANY), want);
}

static void
check_null(json_t *m, const char *path)
{
	if (!json_is_null(at(m, path)))
		fail_msg("%s: got %s, want null", path, json_dumps(at(m, path), JSON_ENCODE_ANY));
}

static void
check_str(json_t *m, const char *path, const char *want)
{
	const char *s = json_string_value(at(m, path));
	if (s == NULL || strcmp(s, want) != 0)
		fail_msg("%s: got %s, want %s", path, s ? s : "(not a string)", want);
}

static json_t *
metrics_at(struct store *st, const char *program, time_t now)
{
	struct diag d;
	diag_clear(&d);
	json_t *m = NULL;
	if (metrics_program(st, NULL, program, now, &m, &d) != 0)
		fail_msg("metrics_program: %s", d.msg);
	return m;
}

static void
test_people_side(void **state)
{
	(void)state;
	struct store *st = org_store("people");
	json_t *m = metrics_at(st, "p", utc(2027, 3, 3, 0));
	check_str(m, "program", "p");
	check_str(m, "generated_at", "2027-03-03T00:00:00Z");
	/* Enrolled 1 2 3 4 5 7; matched (decided pairs) 1-4; all four met; pair 1 is active,
	 * pair 2 completed. */
	check_int(m, "funnel.enrolled", 6);
	check_int(m, "funnel.matched", 4);
	check_int(m, "funnel.first_session", 4);
	check_int(m, "funnel.active", 4);
	check_int(m, "funnel.completed", 2);
	check_int(m, "enrollment.enrolled", 6);
	check_int(m, "enrollment.matched", 4);
	check_real(m, "enrollment.match_rate", 4.0 / 6);
	check_int(m, "enrollment.unmatched", 2);
	/* Departments by name: Eng {1,3,5}, HR {6,7}, Sales {2,4}. */
	check_str(m, "participation.department.0.group", "Eng");
	check_int(m, "participation.department.0.people", 3);
	check_int(m, "participation.department.0.enrolled", 3);
	check_int(m, "participation.department.0.matched", 2);
	check_int(m, "participation.department.0.active", 2);
	check_str(m, "participation.department.1.group", "HR");
	check_int(m, "participation.department.1.people", 2);
	check_int(m, "participation.department.1.enrolled", 1);
	check_int(m, "participation.department.1.matched", 0);
	check_str(m, "participation.department.2.group", "Sales");
	check_int(m, "participation.department.2.active", 2);
	assert_int_equal(json_array_size(at(m, "participation.department")), 3);
	/* Locations: Ed has none, listed first. */
	check_str(m, "participation.location.0.group", "(none)");
	check_int(m, "participation.location.0.enrolled", 1);
	check_int(m, "participation.location.0.matched", 0);
	check_str(m, "participation.location.1.group", "NY");
	check_int(m, "participation.location.1.people", 3);
	check_int(m, "participation.location.1.matched", 2);
	check_str(m, "participation.location.2.group", "Paris");
	check_int(m, "participation.location.2.enrolled", 2);
	/* Levels as text: (none) 1 2 3 7 8 9. */
	assert_int_equal(json_array_size(at(m, "participation.level")), 7);
	check_str(m, "participation.level.0.group", "(none)");
	check_str(m, "participation.level.4.group", "7");
	check_int(m, "participation.level.4.enrolled", 1);
	check_int(m, "participation.level.4.matched", 0);
	/* Generations from the birth year, else the imported column, else unknown. */
	check_str(m, "participation.generation.0.group", "baby_boomer");
	check_str(m, "participation.generation.1.group", "gen_x");
	check_int(m, "participation.generation.1.people", 2); /* Di (1970), Gi (imported) */
	check_int(m, "participation.generation.1.matched", 1);
	check_str(m, "participation.generation.2.group", "gen_z");
	check_int(m, "participation.generation.2.active", 2);
	check_str(m, "participation.generation.3.group", "millennial");
	check_int(m, "participation.generation.3.enrolled", 0);
	check_str(m, "participation.generation.4.group", "unknown");
	/* Employed at the start (2027-01-01): everyone but Ed. Participants 1-4 (Cy terminated,
	 * Di on leave: retained); non-participants Fa (terminated) and Gi. */
	check_int(m, "retention.participants.n", 4);
	check_int(m, "retention.participants.retained", 3);
	check_real(m, "retention.participants.rate", 0.75);
	check_int(m, "retention.non_participants.n", 2);
	check_int(m, "retention.non_participants.retained", 1);
	check_real(m, "retention.non_participants.rate", 0.5);
	json_decref(m);
	store_close(st);
}

static void
test_sessions_and_ratings(void **state)
{
	(void)state;
	struct store *st = org_store("sessions");
	json_t *m = metrics_at(st, "p", utc(2027, 3, 3, 0));
	check_int(m, "sessions.planned", 1);
	check_int(m, "sessions.held", 4);
	check_int(m, "sessions.missed", 1);
	check_int(m, "sessions.cancelled", 1);
	check_int(m, "sessions.rescheduled", 1);
	check_real(m, "sessions.held_rate", 0.8);
	assert_int_equal(json_array_size(at(m, "sessions.per_month")), 2);
	check_str(m, "sessions.per_month.0.month", "2027-01");
	check_int(m, "sessions.per_month.0.planned", 0);
	check_int(m, "sessions.per_month.0.held", 1);
	check_int(m, "sessions.per_month.0.missed", 1);
	check_int(m, "sessions.per_month.0.cancelled", 1);
	check_str(m, "sessions.per_month.1.month", "2027-02");
	check_int(m, "sessions.per_month.1.planned", 1);
	check_int(m, "sessions.per_month.1.held", 3);
	/* Pair 1: 2 held of 3 with an outcome; pair 2: 2 of 2. */
	check_int(m, "sessions.per_pair_held_rate.pairs", 2);
	check_real(m, "sessions.per_pair_held_rate.mean", (2.0 / 3 + 1) / 2);
	check_real(m, "sessions.per_pair_held_rate.min", 2.0 / 3);
	check_real(m, "sessions.per_pair_held_rate.max", 1);
	/* Activation to first held session: 6 d 1 h and 4 d 1 h. */
	check_int(m, "first_session.pairs", 2);
	check_real(m, "first_session.median_days", 5 + 1.0 / 24);
	check_real(m, "first_session.mean_days", 5 + 1.0 / 24);
	/* Visible: s1 4 and 5, s3 3, s7 2; s8's 5 is hidden (one side, window open). */
	check_int(m, "ratings.count", 4);
	check_real(m, "ratings.mean", 3.5);
	check_int(m, "ratings.distribution.0", 0);
	check_int(m, "ratings.distribution.1", 1);
	check_int(m, "ratings.distribution.2", 1);
	check_int(m, "ratings.distribution.3", 1);
	check_int(m, "ratings.distribution.4", 1);
	check_int(m, "ratings.hidden", 1);
	check_int(m, "ratings.mentor.count", 2);
	check_real(m, "ratings.mentor.mean", 3);
	check_int(m, "ratings.mentee.count", 2);
	check_real(m, "ratings.mentee.mean", 4);
	/* Cohorts: pair 1 in 2027-01, pair 2 in 2027-02. */
	assert_int_equal(json_array_size(at(m, "cohorts")), 2);
	check_str(m, "cohorts.0.cohort", "2027-01");
	check_int(m, "cohorts.0.pairs", 1);
	check_int(m, "cohorts.0.sessions.planned", 1);
	check_int(m, "cohorts.0.sessions.held", 2);
	check_int(m, "cohorts.0.sessions.missed", 1);
	check_int(m, "cohorts.0.sessions.cancelled", 1);
	check_real(m, "cohorts.0.sessions.held_rate", 2.0 / 3);
	check_int(m, "cohorts.0.ratings.count", 3);
	check_real(m, "cohorts.0.ratings.mean", 4);
	check_str(m, "cohorts.1.cohort", "2027-02");
	check_int(m, "cohorts.1.ratings.count", 1);
	check_real(m, "cohorts.1.ratings.mean", 2);
	check_real(m, "cohorts.1.sessions.held_rate", 1);
	assert_ptr_equal(metrics_cohort(m, "2027-02"), at(m, "cohorts.1"));
	assert_null(metrics_cohort(m, "2026-12"));
	json_decref(m);

	/* Once s8's window has closed (03-07 11:00), its rating counts too. */
	m = metrics_at(st, "p", utc(2027, 3, 7, 11));
	check_int(m, "ratings.count", 5);
	check_int(m, "ratings.hidden", 0);
	check_int(m, "ratings.distribution.4", 2);
	check_real(m, "ratings.mentee.mean", 13.0 / 3);
	check_int(m, "cohorts.1.ratings.count", 2);
	json_decref(m);

	/* Program q sees only its own rows. */
	m = metrics_at(st, "q", utc(2027, 3, 3, 0));
	check_int(m, "funnel.enrolled", 2);
	check_int(m, "sessions.held", 1);
	check_int(m, "ratings.count", 2);
	check_real(m, "ratings.mean", 1);
	check_int(m, "retention.participants.n", 2); /* q has no hire-date cut: Ann and Bo */
	assert_int_equal(json_array_size(at(m, "goals")), 0);
	json_decref(m);
	store_close(st);
}

static void
test_goals_and_rewards(void **state)
{
	(void)state;
	struct store *st = org_store("goals");
	json_t *m = metrics_at(st, "p", utc(2027, 3, 3, 0));
	/* The library's order: data_literacy first. Only Bo assessed it, once. */
	assert_int_equal(json_array_size(at(m, "goals")), 2);
	check_str(m, "goals.0.topic", "data_literacy");
	check_int(m, "goals.0.assessed", 1);
	check_int(m, "goals.0.n", 0);
	check_null(m, "goals.0.start_mean");
	check_null(m, "goals.0.delta");
	/* ai_tools: Bo 2 -> 4 (by session start, not row order), Di 3 -> 3; Cy's is a mentor's. */
	check_str(m, "goals.1.topic", "ai_tools");
	check_int(m, "goals.1.assessed", 2);
	check_int(m, "goals.1.n", 2);
	check_real(m, "goals.1.start_mean", 2.5);
	check_real(m, "goals.1.end_mean", 3.5);
	check_real(m, "goals.1.delta", 1);
	/* No ledger yet: zeros. */
	check_int(m, "rewards.points", 0);
	check_int(m, "rewards.grants", 0);
	json_decref(m);

	/* The ledger of the contract (docs/plugin-api.md): r3 revoked by r4; r5 is q's. */
	struct diag d;
	if (store_exec(st,
		       "CREATE TABLE IF NOT EXISTS rewards (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		       " award_key TEXT NOT NULL UNIQUE, person_id INTEGER, program_id INTEGER,"
		       " points INTEGER NOT NULL DEFAULT 0, badge TEXT, reason TEXT NOT NULL,"
		       " plugin TEXT NOT NULL, event_id INTEGER, revokes INTEGER, at TEXT NOT NULL);"
		       "INSERT INTO rewards (id, award_key, person_id, program_id, points, badge,"
		       " reason, plugin, revokes, at) VALUES"
		       " (1, 'k1', 1, 1, 10, NULL, 'r', 'x', NULL, 'x'),"
		       " (2, 'k2', 1, 1, 0, 'streak', 'r', 'x', NULL, 'x'),"
		       " (3, 'k3', 3, 1, 5, NULL, 'r', 'x', NULL, 'x'),"
		       " (4, 'k4', 3, 1, -5, NULL, 'r', 'x', 3, 'x'),"
		       " (5, 'k5', 2, 2, 7, NULL, 'r', 'x', NULL, 'x');",
		       &d) != 0)
		fail_msg("rewards: %s", d.msg);
	m = metrics_at(st, "p", utc(2027, 3, 3, 0));
	check_int(m, "rewards.points", 10);
	check_int(m, "rewards.grants", 2);
	check_int(m, "rewards.badges", 1);
	check_int(m, "rewards.people", 1);
	json_decref(m);
	store_close(st);
}

static void
test_empty_and_unknown(void **state)
{
	(void)state;
	struct store *st = org_store("empty");
	struct diag d;
	if (store_exec(st, "INSERT INTO programs (id, name, created_at) VALUES (3, 'empty', 'x')",
		       &d) != 0)
		fail_msg("%s", d.msg);
	json_t *m = metrics_at(st, "empty", utc(2027, 3, 3, 0));
	check_int(m, "funnel.enrolled", 0);
	check_null(m, "enrollment.match_rate");
	check_null(m, "sessions.held_rate");
	check_null(m, "sessions.per_pair_held_rate.mean");
	check_null(m, "ratings.mean");
	check_null(m, "first_session.median_days");
	check_int(m, "retention.non_participants.n", 7); /* no start date: everyone */
	check_int(m, "retention.participants.n", 0);
	check_null(m, "retention.participants.rate");
	assert_int_equal(json_array_size(at(m, "cohorts")), 0);
	json_decref(m);

	diag_clear(&d);
	m = NULL;
	assert_int_equal(metrics_program(st, NULL, "nope", utc(2027, 3, 3, 0), &m, &d), -1);
	assert_null(m);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_non_null(strstr(d.msg, "nope"));
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_people_side),
	    cmocka_unit_test(test_sessions_and_ratings),
	    cmocka_unit_test(test_goals_and_rewards),
	    cmocka_unit_test(test_empty_and_unknown),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

/* Unit tests for report/health: a hand-built store with one pair per reason, each judged
 * with its exact text, status and action; the thresholds at their boundaries (one second
 * or one rating point either side); hidden ratings left out; the cadence's interval (a
 * rule-only plugin's from its rule); the overlapping programs (the ends day included, open
 * ends); nothing written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "base/clock.h"
#include "program/config.h"
#include "report/health.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/cal.h"
#include "tmpdir.h"

#define DAY 86400

/* Now: 2027-03-01 12:00 UTC. */
static time_t T;
static struct clock clk;

static void
exec(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) != 0)
		fail_msg("exec %s: %s", sql, d.msg);
}

static void
execf(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
execf(struct store *st, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	exec(st, sql);
}

/* now + off seconds, as the store writes times. */
static const char *
at(long off)
{
	static char buf[8][STORE_TIME_MAX];
	static int k;
	char *b = buf[k++ % 8];
	if (store_format_time(T + off, b) != 0)
		fail_msg("time");
	return b;
}

static struct store *
new_store(void)
{
	static int n;
	struct cal_time w = {.year = 2027, .mon = 3, .day = 1, .hour = 12};
	T = (time_t)cal_to_epoch(&w);
	char name[32];
	snprintf(name, sizeof(name), "h%d.db", n++);
	struct diag d;
	struct store *st = store_open(tmpdir_path(name), STORE_CREATE, &d);
	if (st == NULL)
		fail_msg("store_open: %s", d.msg);
	clock_virtual_init(&clk, T);
	store_set_clock(st, &clk);
	exec(st, "INSERT INTO programs (id, name, starts_on, ends_on, created_at) VALUES "
		 "(1, 'p', '2027-01-01', '2027-06-30', 'now'), (2, 'q', '2027-06-30', NULL, 'now'),"
		 "(3, 'r', '2027-07-01', '2027-12-31', 'now')");
	return st;
}

/* A session of match k at now + off; by: 'm' or 'e' cancelled it (status cancelled). */
static int64_t
add_session(struct store *st, int k, long off, const char *status, char by)
{
	static int64_t id;
	id++;
	execf(st,
	      "INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, status, "
	      "planned_by, created_at, updated_at) VALUES (%lld, %d, '%s', 60, 'UTC', '%s', "
	      "'weekly', 'now', 'now')",
	      (long long)id, k, at(off), status);
	if (by)
		execf(st, "UPDATE sessions SET cancelled_by = %d WHERE id = %lld",
		      by == 'm' ? 2 * k - 1 : 2 * k, (long long)id);
	return id;
}

/* Pair k: mentor Mk (people 2k-1), mentee Ek (people 2k), match k active since now + act;
 * assessed: the mentee recorded a skill self-assessment (on a rescheduled session at the
 * activation, which every other rule ignores), so only the stale_goals test meets it. */
static void
add_pair_as(struct store *st, int k, long act, int assessed)
{
	execf(st,
	      "INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at) "
	      "VALUES (%d, 'm%d', 'M%d', 'm%d@x', 'UTC', 'now', 'now'), "
	      "(%d, 'e%d', 'E%d', 'e%d@x', 'UTC', 'now', 'now');"
	      "INSERT INTO enrollments (program_id, person_id, role, consent, created_at) VALUES "
	      "(1, %d, 'mentor', 1, 'now'), (1, %d, 'mentee', 1, 'now');"
	      "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at, "
	      "activated_at) VALUES (%d, 1, %d, %d, 'active', 'now', '%s')",
	      2 * k - 1, k, k, k, 2 * k, k, k, k, 2 * k - 1, 2 * k, k, 2 * k - 1, 2 * k, at(act));
	if (assessed) {
		int64_t s = add_session(st, k, act, "rescheduled", 0);
		execf(st,
		      "INSERT INTO skill_assessments (session_id, person_id, program_id, topic, "
		      "level, created_at) VALUES (%lld, %d, 1, 'ai', 2, 'now')",
		      (long long)s, 2 * k);
	}
}

static void
add_pair(struct store *st, int k, long act)
{
	add_pair_as(st, k, act, 1);
}

/* A check-in of side 'm' or 'e' of match k on session s, rating 0: none. */
static void
add_checkin(struct store *st, int k, int64_t s, char side, int rating)
{
	char r[8] = "NULL";
	if (rating)
		snprintf(r, sizeof(r), "%d", rating);
	execf(st,
	      "INSERT INTO feedback (session_id, match_id, author_id, outcome, rating, created_at) "
	      "VALUES (%lld, %d, %d, 'held', %s, 'now')",
	      (long long)s, k, side == 'm' ? 2 * k - 1 : 2 * k, r);
}

/* A held session of match k at now + off, each side's rating (0: no check-in; -1: a
 * check-in without a rating). */
static void
held(struct store *st, int k, long off, int mr, int er)
{
	int64_t s = add_session(st, k, off, "held", 0);
	if (mr)
		add_checkin(st, k, s, 'm', mr > 0 ? mr : 0);
	if (er)
		add_checkin(st, k, s, 'e', er > 0 ? er : 0);
}

static char s_p[] = "p", s_q[] = "q", s_r[] = "r", s_x[] = "x";
static char d1[] = "2027-01-01", d2[] = "2027-06-30", d3[] = "2027-07-01", d4[] = "2027-12-31";

static struct config
config_of(struct config_program prog[4])
{
	memset(prog, 0, 4 * sizeof(*prog));
	prog[0] = (struct config_program){.name = s_p, .starts = d1, .ends = d2};
	prog[1] = (struct config_program){.name = s_q, .starts = d2};
	prog[2] = (struct config_program){.name = s_r, .starts = d3, .ends = d4};
	prog[3] = (struct config_program){.name = s_x}; /* declared, no row: left out */
	return (struct config){.programs = prog, .nprograms = 4};
}

/* Program p's health at T, its cadence the given one (NULL: none, so biweekly). */
static json_t *
health_cad(struct store *st, char *cadence)
{
	struct config_program prog[4];
	struct config cfg = config_of(prog);
	prog[0].cadence = cadence;
	json_t *doc = NULL;
	struct diag d;
	if (health_program(st, &cfg, "p", T, &doc, &d) != 0)
		fail_msg("health_program: %s", d.msg);
	return doc;
}

static json_t *
health(struct store *st)
{
	return health_cad(st, NULL);
}

static json_t *
pair_of(json_t *doc, int k)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "pairs"), i, p) if (
	    json_integer_value(json_object_get(p, "match_id")) == k) return p;
	fail_msg("no pair %d", k);
	return NULL;
}

/* Pair k has status and exactly the reasons "code|action|text" given (NULL-terminated). */
static void
expect(json_t *doc, int k, const char *status, ...)
{
	json_t *p = pair_of(doc, k);
	const char *got = json_string_value(json_object_get(p, "status"));
	if (strcmp(got, status) != 0)
		fail_msg("pair %d: status %s, want %s (%s)", k, got, status,
			 json_dumps(json_object_get(p, "reasons"), 0));
	json_t *reasons = json_object_get(p, "reasons");
	va_list ap;
	va_start(ap, status);
	size_t n = 0;
	for (const char *want; (want = va_arg(ap, const char *)) != NULL; n++) {
		json_t *r = json_array_get(reasons, n);
		char line[600];
		snprintf(line, sizeof(line), "%s|%s|%s",
			 r ? json_string_value(json_object_get(r, "code")) : "-",
			 r ? json_string_value(json_object_get(r, "action")) : "-",
			 r ? json_string_value(json_object_get(r, "text")) : "-");
		if (strcmp(line, want) != 0)
			fail_msg("pair %d reason %zu:\n got  %s\n want %s", k, n, line, want);
	}
	va_end(ap);
	if (json_array_size(reasons) != n)
		fail_msg("pair %d: %zu reasons, want %zu", k, json_array_size(reasons), n);
}

static void
test_rhythm(void **state)
{
	(void)state;
	struct store *st = new_store();
	long limit = 21L * DAY; /* biweekly: 14 days x 1.5 */
	add_pair(st, 1, -60L * DAY);
	held(st, 1, -10L * DAY, -1, -1);
	add_pair(st, 2, -60L * DAY);
	held(st, 2, -limit, -1, -1); /* exactly 1.5 intervals: not overdue yet */
	add_pair(st, 3, -60L * DAY);
	held(st, 3, -limit - 1, -1, -1); /* a second more */
	add_pair(st, 4, -21L * DAY);	 /* 21 days, nothing held, none planned */
	add_pair(st, 5, -21L * DAY + 1); /* a second short of 21 days */
	add_pair(st, 6, -42L * DAY);	 /* twice the wait: at risk */
	add_session(st, 6, 2L * DAY, "planned", 0);
	add_pair(st, 7, -3L * DAY); /* too early, with its first session planned */
	add_session(st, 7, 4L * DAY, "planned", 0);
	json_t *doc = health(st);
	expect(doc, 1, "on_track",
	       "on_track|none|1 session held, the last 10 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 2, "on_track",
	       "on_track|none|1 session held, the last 21 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 3, "needs_checkin",
	       "overdue|nudge|no session held for 21 days (the last on 2027-02-08; cadence "
	       "biweekly, every 14 days: overdue after 21)",
	       NULL);
	expect(doc, 4, "needs_checkin",
	       "no_first_session|nudge|no session held 21 days after activation (expected within "
	       "21 days); none planned",
	       NULL);
	expect(doc, 5, "too_early",
	       "too_early|nudge|activated 20 days ago, no session held yet; none planned", NULL);
	expect(doc, 6, "at_risk",
	       "no_first_session|checkin|no session held 42 days after activation (expected "
	       "within 21 days); next planned on 2027-03-03",
	       NULL);
	expect(doc, 7, "too_early",
	       "too_early|none|activated 3 days ago, no session held yet; the first is planned on "
	       "2027-03-05",
	       NULL);
	json_t *c = json_object_get(doc, "counts");
	assert_int_equal(json_integer_value(json_object_get(c, "on_track")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "needs_checkin")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "at_risk")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "too_early")), 2);
	json_t *cad = json_object_get(doc, "cadence");
	assert_string_equal(json_string_value(json_object_get(cad, "name")), "biweekly");
	assert_int_equal(json_integer_value(json_object_get(cad, "interval_days")), 14);
	assert_string_equal(json_string_value(json_object_get(pair_of(doc, 3), "last_held")),
			    at(-limit - 1));
	json_decref(doc);
	store_close(st);
}

static void
test_misses(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -60L * DAY); /* two cancelled by the mentee after a held one */
	held(st, 1, -20L * DAY, -1, 0);
	add_session(st, 1, -13L * DAY, "cancelled", 'e');
	add_session(st, 1, -6L * DAY, "cancelled", 'e');
	add_session(st, 1, 1L * DAY, "cancelled", 'e'); /* not started: does not count */
	add_pair(st, 2, -60L * DAY); /* three, mixed; an organizer's cancel counts as nothing */
	held(st, 2, -20L * DAY, -1, 0);
	add_session(st, 2, -15L * DAY, "missed", 0);
	add_session(st, 2, -12L * DAY, "cancelled", 0);
	add_session(st, 2, -10L * DAY, "cancelled", 'm');
	add_session(st, 2, -5L * DAY, "cancelled", 'e');
	add_pair(st, 3, -60L * DAY); /* one miss only */
	held(st, 3, -8L * DAY, -1, 0);
	add_session(st, 3, -1L * DAY, "missed", 0);
	add_pair(st, 4, -60L * DAY); /* two missed, a held one after the first: no run */
	add_session(st, 4, -9L * DAY, "missed", 0);
	held(st, 4, -5L * DAY, -1, 0);
	add_session(st, 4, -2L * DAY, "missed", 0);
	add_session(st, 4, -1L * DAY, "rescheduled", 0);
	json_t *doc = health(st);
	expect(doc, 1, "at_risk",
	       "consecutive_misses|checkin|2 consecutive missed sessions (cancelled by E1)", NULL);
	expect(doc, 2, "at_risk",
	       "consecutive_misses|rematch|3 consecutive missed sessions (1 cancelled by M2, 1 "
	       "cancelled by E2, 1 missed)",
	       NULL);
	expect(doc, 3, "on_track",
	       "on_track|none|1 session held, the last 8 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 4, "on_track",
	       "on_track|none|1 session held, the last 5 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	assert_int_equal(json_integer_value(json_object_get(pair_of(doc, 2), "missed")), 3);
	assert_int_equal(json_integer_value(json_object_get(pair_of(doc, 2), "held")), 1);
	json_decref(doc);
	store_close(st);
}

static void
test_one_sided(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -60L * DAY); /* the last three with a check-in: the mentor's only */
	held(st, 1, -20L * DAY, -1, -1);
	held(st, 1, -12L * DAY, -1, 0);
	held(st, 1, -8L * DAY, -1, 0);
	add_session(st, 1, -6L * DAY, "held", 0); /* an organizer's check-in: no side */
	held(st, 1, -4L * DAY, -1, 0);
	add_pair(st, 2, -60L * DAY); /* only two sessions with a check-in: not enough */
	held(st, 2, -8L * DAY, 0, -1);
	held(st, 2, -4L * DAY, 0, -1);
	add_pair(st, 3, -60L * DAY); /* the mentee's only, three times */
	held(st, 3, -12L * DAY, 0, -1);
	held(st, 3, -8L * DAY, 0, -1);
	held(st, 3, -4L * DAY, 0, -1);
	json_t *doc = health(st);
	expect(doc, 1, "needs_checkin",
	       "one_sided|nudge|only M1 checks in: E1 checked in to none of the last 3 sessions "
	       "with a check-in",
	       NULL);
	expect(doc, 2, "on_track",
	       "on_track|none|2 sessions held, the last 4 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 3, "needs_checkin",
	       "one_sided|nudge|only E3 checks in: M3 checked in to none of the last 3 sessions "
	       "with a check-in",
	       NULL);
	json_decref(doc);
	store_close(st);
}

static void
test_ratings(void **state)
{
	(void)state;
	struct store *st = new_store();
	long w = -10L * DAY; /* ratings of sessions this old are revealed anyway */
	add_pair(st, 1, -60L * DAY); /* mean 2.5: low */
	held(st, 1, w - 2 * DAY, 2, 3);
	held(st, 1, w, 3, 2);
	add_pair(st, 2, -60L * DAY); /* mean exactly 3: not low */
	held(st, 2, w - 2 * DAY, 3, 3);
	held(st, 2, w, 3, 3);
	add_pair(st, 3, -60L * DAY); /* 5 5, then 4 4: down exactly 1 */
	held(st, 3, w - 2 * DAY, 5, 5);
	held(st, 3, w, 4, 4);
	add_pair(st, 4, -60L * DAY); /* 5 5, then 4 5: down 0.5 */
	held(st, 4, w - 2 * DAY, 5, 5);
	held(st, 4, w, 4, 5);
	add_pair(st, 5, -60L * DAY); /* the mentor 5 and 5, the mentee 3 and 4: 1.5 apart */
	held(st, 5, w - 2 * DAY, 5, 3);
	held(st, 5, w, 5, 4);
	add_pair(st, 6, -60L * DAY); /* the mentor 5 and 5, the mentee 4 and 4: 1.0 apart */
	held(st, 6, w - 2 * DAY, 5, 4);
	held(st, 6, w, 5, 4);
	add_pair(st, 7, -60L * DAY); /* hidden: only the mentor rated, 2 days ago */
	held(st, 7, -3L * DAY, 1, -1);
	held(st, 7, -2L * DAY, 1, -1);
	json_t *doc = health(st);
	expect(doc, 1, "at_risk", "low_ratings|rematch|low ratings: a mean of 2.5 over 4 ratings "
				  "(below 3.0)",
	       NULL);
	expect(doc, 2, "on_track",
	       "on_track|none|2 sessions held, the last 10 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 3, "needs_checkin",
	       "falling_ratings|checkin|falling ratings: the last two average 4.0, the 2 before "
	       "them 5.0 (down 1.0)",
	       NULL);
	expect(doc, 4, "on_track",
	       "on_track|none|2 sessions held, the last 10 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 5, "needs_checkin",
	       "rating_gap|checkin|E5 rates the sessions 3.5 on average (2 ratings), M5 5.0 (2 "
	       "ratings): 1.5 apart",
	       NULL);
	expect(doc, 6, "on_track",
	       "on_track|none|2 sessions held, the last 10 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 7, "on_track",
	       "on_track|none|2 sessions held, the last 2 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	json_decref(doc);
	store_close(st);
}

/* Several reasons: the worst decides, every one is listed. */
static void
test_worst_wins(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -90L * DAY);
	held(st, 1, -40L * DAY, 4, 2);
	held(st, 1, -35L * DAY, 4, 1);
	add_session(st, 1, -28L * DAY, "missed", 0);
	add_session(st, 1, -24L * DAY, "cancelled", 'm');
	json_t *doc = health(st);
	expect(doc, 1, "at_risk",
	       "consecutive_misses|checkin|2 consecutive missed sessions (1 cancelled by M1, 1 "
	       "missed)",
	       "low_ratings|rematch|low ratings: a mean of 2.8 over 4 ratings (below 3.0)",
	       "rating_gap|checkin|E1 rates the sessions 1.5 on average (2 ratings), M1 4.0 (2 "
	       "ratings): 2.5 apart",
	       "overdue|nudge|no session held for 35 days (the last on 2027-01-25; cadence "
	       "biweekly, every 14 days: overdue after 21)",
	       NULL);
	/* Nothing was written. */
	int64_t n = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "t", "SELECT count(*) FROM events", &n, &d), 0);
	assert_int_equal(n, 0);
	json_decref(doc);
	store_close(st);
}

/* stale_goals: 42 days active and no self-assessment by the mentee; the mentor's does
 * not count. */
static void
test_stale_goals(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair_as(st, 1, -42L * DAY, 0);
	held(st, 1, -5L * DAY, -1, -1);
	add_pair_as(st, 2, -42L * DAY + 1, 0); /* a second short */
	held(st, 2, -5L * DAY, -1, -1);
	add_pair_as(st, 3, -50L * DAY, 0); /* only the mentor assessed */
	int64_t s = add_session(st, 3, -5L * DAY, "held", 0);
	execf(st,
	      "INSERT INTO skill_assessments (session_id, person_id, program_id, topic, level, "
	      "created_at) VALUES (%lld, 5, 1, 'ai', 3, 'now')",
	      (long long)s);
	add_pair(st, 4, -90L * DAY);
	held(st, 4, -5L * DAY, -1, -1);
	json_t *doc = health(st);
	expect(doc, 1, "at_risk",
	       "stale_goals|checkin|stale goals: E1 recorded no skill self-assessment in the 42 "
	       "days since activation (expected within 42: sessions checkin --skill)",
	       NULL);
	expect(doc, 2, "on_track",
	       "on_track|none|1 session held, the last 5 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	expect(doc, 3, "at_risk",
	       "stale_goals|checkin|stale goals: E3 recorded no skill self-assessment in the 50 "
	       "days since activation (expected within 42: sessions checkin --skill)",
	       NULL);
	expect(doc, 4, "on_track",
	       "on_track|none|1 session held, the last 5 days ago (cadence biweekly, every 14 "
	       "days)",
	       NULL);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(doc, "thresholds"), "stale_goals_days")),
			 42);
	json_decref(doc);
	store_close(st);
}

/* A plugin cadence that declares only a rule gives its interval from the rule (21 days for
 * every three weeks), as the built-ins' names do; one with a plan hook, or none at all, 0
 * (each pair's interval is measured then). */
static void
test_rule_interval(void **state)
{
	(void)state;
	assert_int_equal(health_rule_interval("FREQ=WEEKLY;INTERVAL=3"), 21);
	assert_int_equal(health_rule_interval("FREQ=WEEKLY;BYDAY=TU;BYHOUR=10"), 7);
	assert_int_equal(health_rule_interval("FREQ=DAILY;INTERVAL=10"), 10);
	assert_int_equal(health_rule_interval("FREQ=MONTHLY"), 30);
	assert_int_equal(health_rule_interval("FREQ=WEEKLY;COUNT=1"), 0);
	assert_int_equal(health_rule_interval("FREQ=FORTNIGHTLY"), 0);
	assert_int_equal(health_rule_interval(NULL), 0);
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/plugins", tmpdir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/plugins/cadences", tmpdir);
	mkdir(dir, 0755);
	FILE *f = fopen(tmpdir_path("plugins/cadences/every3.lua"), "w");
	assert_non_null(f);
	fputs("return tandem.cadence{ name = \"every3\", version = \"1.0.0\", api = 1,\n"
	      "  rule = \"FREQ=WEEKLY;INTERVAL=3\" }\n", f);
	fclose(f);
	f = fopen(tmpdir_path("plugins/cadences/hooked.lua"), "w");
	assert_non_null(f);
	fputs("return tandem.cadence{ name = \"hooked\", version = \"1.0.0\", api = 1,\n"
	      "  rule = \"FREQ=WEEKLY;INTERVAL=3\",\n"
	      "  plan = function(pair, history, ctx) return {} end }\n", f);
	fclose(f);
	char cfg[128];
	snprintf(cfg, sizeof(cfg), "%s", tmpdir_path("tandem.lua"));
	assert_int_equal(health_cadence_rule_days(cfg, "every3"), 21);
	assert_int_equal(health_cadence_rule_days(cfg, "hooked"), 0);
	assert_int_equal(health_cadence_rule_days(cfg, "nowhere"), 0);
	assert_int_equal(health_cadence_rule_days(NULL, "every3"), 0);
}

static void
test_interval(void **state)
{
	(void)state;
	struct config_program p = {0};
	const char *name, *from;
	char weekly[] = "weekly", mine[] = "mine";
	assert_int_equal(health_interval_days(&p, &name, &from), 14);
	assert_string_equal(name, "biweekly");
	assert_string_equal(from, "default");
	p.sessions_per_month = 1;
	assert_int_equal(health_interval_days(&p, &name, &from), 30);
	assert_string_equal(name, "monthly");
	p.cadence = weekly;
	assert_int_equal(health_interval_days(&p, &name, &from), 7);
	assert_string_equal(from, "program");
	p.cadence = mine;
	p.sessions_per_month = 3;
	assert_int_equal(health_interval_days(&p, &name, &from), 10);
	p.sessions_per_month = 0;
	assert_int_equal(health_interval_days(&p, &name, &from), 14);
	enum health_status s;
	struct diag d;
	assert_int_equal(health_status_parse("at_risk", &s, &d), 0);
	assert_int_equal(s, HEALTH_AT_RISK);
	assert_int_equal(health_status_parse("bad", &s, &d), -1);
	assert_string_equal(d.msg, "unknown health status 'bad' (want on_track, needs_checkin, "
				   "at_risk or too_early)");
}

/* The planner's reason kept on the pair (matches.plan_note): with nothing planned ahead it
 * is a reason (no shared slot: rematch; the cadence's error: checkin); with a session
 * planned it is not. */
static void
test_unplanned(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -30L * DAY);
	add_pair(st, 2, -3L * DAY);
	add_pair(st, 3, -3L * DAY);
	add_session(st, 3, 4L * DAY, "planned", 0);
	exec(st, "UPDATE matches SET plan_note = 'no shared slot: M1 (UTC: mon-am) and E1 (UTC: "
		 "fri-pm) have no common time inside both working days' WHERE id = 1;"
		 "UPDATE matches SET plan_note = 'x.lua:3: boom (in hook plan)' WHERE id IN (2, 3)");
	json_t *doc = health(st);
	expect(doc, 1, "at_risk",
	       "no_shared_slot|rematch|nothing can be planned: no shared slot: M1 (UTC: mon-am) "
	       "and E1 (UTC: fri-pm) have no common time inside both working days",
	       "no_first_session|nudge|no session held 30 days after activation (expected within "
	       "21 days); none planned",
	       NULL);
	expect(doc, 2, "at_risk",
	       "not_planned|checkin|nothing can be planned: the cadence failed: x.lua:3: boom (in "
	       "hook plan)",
	       NULL);
	expect(doc, 3, "too_early",
	       "too_early|none|activated 3 days ago, no session held yet; the first is planned on "
	       "2027-03-05",
	       NULL);
	assert_string_equal(json_string_value(json_object_get(pair_of(doc, 2), "plan_note")),
			    "x.lua:3: boom (in hook plan)");
	json_decref(doc);
	store_close(st);
}

/* A plugin cadence's interval is each pair's: the median gap between its planned, held and
 * missed sessions; with fewer than 2 of them, the configured figure. A built-in's is its
 * own whatever the sessions. */
static void
test_measured_interval(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -70L * DAY);
	held(st, 1, -66L * DAY, -1, -1);
	held(st, 1, -45L * DAY, -1, -1);
	add_session(st, 1, -44L * DAY, "cancelled", 0); /* not the rhythm */
	held(st, 1, -24L * DAY, -1, -1);
	add_session(st, 1, 18L * DAY, "planned", 0); /* gaps 21, 21, 42: median 21 */
	add_pair(st, 2, -20L * DAY);
	held(st, 2, -16L * DAY, -1, -1); /* one session: the configured 14 */
	char mine[] = "mine";
	json_t *doc = health_cad(st, mine);
	/* 24 days since the last: overdue at 14 days, not at the measured 21 (after 31.5). */
	expect(doc, 1, "on_track",
	       "on_track|none|3 sessions held, the last 24 days ago (cadence mine, every 21 days "
	       "(measured))",
	       NULL);
	assert_int_equal(json_integer_value(json_object_get(pair_of(doc, 1), "interval_days")),
			 21);
	assert_string_equal(json_string_value(json_object_get(pair_of(doc, 1), "interval_from")),
			    "sessions");
	expect(doc, 2, "on_track",
	       "on_track|none|1 session held, the last 16 days ago (cadence mine, every 14 days)",
	       NULL);
	assert_string_equal(json_string_value(json_object_get(pair_of(doc, 2), "interval_from")),
			    "cadence");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "cadence"),
							    "interval_days")),
			 14);
	json_decref(doc);
	/* The same sessions under the built-in biweekly: 14 days, so 24 days is overdue. */
	doc = health(st);
	expect(doc, 1, "needs_checkin",
	       "overdue|nudge|no session held for 24 days (the last on 2027-02-05; cadence "
	       "biweekly, every 14 days: overdue after 21)",
	       NULL);
	json_decref(doc);
	store_close(st);
}

static void
test_overlaps(void **state)
{
	(void)state;
	struct store *st = new_store();
	add_pair(st, 1, -10L * DAY); /* m1, e1 in p */
	add_pair(st, 2, -10L * DAY); /* m2, e2 in p */
	/* m1 also in q (starts on p's last day), e1 in r (after p), m2 in q and r. */
	exec(st, "INSERT INTO enrollments (program_id, person_id, role, created_at) VALUES "
		 "(2, 1, 'mentor', 'now'), (3, 2, 'mentee', 'now'), (2, 3, 'mentor', 'now'), "
		 "(3, 3, 'mentor', 'now'), (3, 4, 'mentee', 'now')");
	struct config_program prog[4];
	struct config cfg = config_of(prog);
	json_t *o = NULL;
	struct diag d;
	assert_int_equal(health_overlaps(st, &cfg, "p", &o, &d), 0);
	char *text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(
	    text, "[{\"person\":{\"id\":1,\"external_id\":\"m1\",\"name\":\"M1\"},\"programs\":["
		  "{\"name\":\"p\",\"starts\":\"2027-01-01\",\"ends\":\"2027-06-30\"},"
		  "{\"name\":\"q\",\"starts\":\"2027-06-30\",\"ends\":null}]},"
		  "{\"person\":{\"id\":3,\"external_id\":\"m2\",\"name\":\"M2\"},\"programs\":["
		  "{\"name\":\"p\",\"starts\":\"2027-01-01\",\"ends\":\"2027-06-30\"},"
		  "{\"name\":\"q\",\"starts\":\"2027-06-30\",\"ends\":null}]}]");
	free(text);
	json_decref(o);
	/* Every overlap: m2's q and r overlap too (r is inside q's open end). */
	assert_int_equal(health_overlaps(st, &cfg, NULL, &o, &d), 0);
	assert_int_equal(json_array_size(o), 2);
	json_t *m2 = json_object_get(json_array_get(o, 1), "programs");
	assert_int_equal(json_array_size(m2), 3);
	json_decref(o);
	/* A program with no row has no overlap. */
	assert_int_equal(health_overlaps(st, &cfg, "x", &o, &d), 0);
	assert_int_equal(json_array_size(o), 0);
	json_decref(o);
	/* The health document carries the program's. */
	o = health(st);
	assert_int_equal(json_array_size(json_object_get(o, "overlaps")), 2);
	json_decref(o);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rhythm),     cmocka_unit_test(test_misses),
	    cmocka_unit_test(test_one_sided),  cmocka_unit_test(test_ratings),
	    cmocka_unit_test(test_worst_wins), cmocka_unit_test(test_stale_goals),
	    cmocka_unit_test(test_interval),
	    cmocka_unit_test(test_rule_interval),
	    cmocka_unit_test(test_unplanned),
	    cmocka_unit_test(test_measured_interval),
	    cmocka_unit_test(test_overlaps),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

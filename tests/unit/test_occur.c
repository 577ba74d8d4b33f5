/*
 * Unit tests for core/sched/occur.c and run.c: materializing occurrences on a virtual
 * clock, misfire policies after a 30-day outage, DST (Berlin; daily jobs in the gaps
 * and overlaps of New York, London, Lord Howe Island, and Kolkata), jitter, lateness,
 * overlap, and crash points (a forked child dies at each step boundary; the store is then either
 * untouched or done with all the effects).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/crash.h"
#include "events/events.h"
#include "sched/job.h"
#include "sched/occur.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/cal.h"
#include "time/tz.h"

static int
body_ok(struct sched_run *r, struct diag *d)
{
	struct event ev = {"test.effect", NULL, 0, 0, NULL};
	snprintf(r->result, sizeof(r->result), "{\"covers\":%d}", r->covers);
	return events_append(r->st, &ev, NULL, d);
}

static int
body_fail(struct sched_run *r, struct diag *d)
{
	struct event ev = {"test.effect", NULL, 0, 0, NULL};
	if (events_append(r->st, &ev, NULL, d) != 0)
		return -1;
	return diag_set(d, DIAG_INVALID, "boom at %lld", (long long)r->due);
}

static const struct sched_job_ops ops_quarter[] = {{"quarter", "every 15 minutes", body_ok, NULL, NULL}};
static const struct sched_job_ops ops_hourly[] = {{"hourly", "FREQ=HOURLY", body_ok, NULL, NULL}};
static const struct sched_job_ops ops_fail[] = {{"failing", "every 1h", body_fail, NULL, NULL}};
static const struct sched_job_ops ops_berlin[] = {
	{"berlin", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", body_ok, "Europe/Berlin", NULL}};

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
	struct sched *s;
};

static time_t
T(const char *iso)
{
	time_t t;
	assert_int_equal(sched_parse_time(iso, &t), 0);
	return t;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_occur.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	sched_delete(f->s);
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A scheduler over f's store with the given built-ins, synced at `start`. */
static void
start_sched(struct fx *f, const struct sched_job_ops *ops, size_t n, const char *start)
{
	clock_virtual_init(&f->clock, T(start));
	store_set_clock(f->st, &f->clock);
	struct sched_opts o = {0};
	o.st = f->st;
	o.clock = &f->clock;
	o.builtins = ops;
	o.nbuiltins = n;
	o.builtins_set = 1;
	struct diag d;
	f->s = sched_new(&o, &d);
	assert_non_null(f->s);
	assert_int_equal(sched_sync(f->s, &d), 0);
}

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "test", sql, &v, &d), 0);
	return v;
}

static void
set_now(struct fx *f, time_t t)
{
	clock_virtual_set(&f->clock, t);
}

/* Runs everything due at now; returns how many occurrences were handled. */
static int
drain(struct fx *f, time_t now)
{
	struct diag d;
	int total = 0, ran;
	set_now(f, now);
	do {
		assert_int_equal(sched_run_one(f->s, now, &ran, &d), 0);
		total += ran;
	} while (ran);
	return total;
}

static void
test_materialize_idempotent(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_quarter, 1, "2027-01-11T10:07:00Z");
	time_t due;
	/* Nothing materialized yet: nothing due ever. */
	assert_int_equal(sched_next_due(f->s, &due, &d), 1);
	time_t now = T("2027-01-11T11:07:00Z");
	assert_int_equal(sched_materialize(f->s, now, &d), 0);
	/* 10:15 10:30 10:45 11:00 owed, 11:15 ahead. */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences"), 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sched_materialize(f->s, now, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences"), 5);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at = "
				     "'2027-01-11T11:15:00Z' AND status = 'pending'"),
			 1);
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2027-01-11T10:15:00Z"));
	/* Running them: four runs, each its effect and a job.ran event. */
	assert_int_equal(drain(f, now), 4);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 4);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 4);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.ran'"), 4);
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2027-01-11T11:15:00Z"));
	/* A later materialize continues after the last instant, never before it. */
	assert_int_equal(drain(f, T("2027-01-11T11:40:00Z")), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences"), 7);
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2027-01-11T11:45:00Z"));
}

/* A 30-day outage of an hourly job under each policy. */
static void
outage(struct fx *f, const char *policy)
{
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-03-01T00:30:00Z");
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE jobs SET misfire = '%s'", policy);
	assert_int_equal(store_exec(f->st, sql, &d), 0);
	assert_int_equal(drain(f, T("2027-03-01T02:00:00Z")), 2); /* 01:00 02:00 */
	/* Down for 30 days; back at 03-31 02:10. Owed: 03:00 on 03-01 .. 02:00 on 03-31. */
	assert_int_equal(drain(f, T("2027-03-31T02:10:00Z")) >= 1, 1);
	assert_int_equal(qint(f->st, "SELECT enabled FROM jobs"), 1);
	/* Never stopped: the next one is pending. */
	time_t due;
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2027-03-31T03:00:00Z"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at > "
				     "'2027-03-01T02:00:00Z' AND due_at <= '2027-03-31T02:10:00Z'"),
			 720);
}

static void
test_outage_once(void **state)
{
	struct fx *f = *state;
	outage(f, "once");
	/* Instants older than the grace (1 h) coalesce into one run; 02:00 is within it. */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 2 + 2);
	assert_int_equal(qint(f->st, "SELECT covers FROM occurrences WHERE status = 'done' AND "
				     "due_at = '2027-03-31T01:00:00Z'"),
			 719 - 1 + 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'skipped' AND "
				     "reason = 'coalesced into the run due at 2027-03-31T01:00:00Z "
				     "(misfire = once)'"),
			 718);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.skipped' AND "
				     "json_extract(payload, '$.count') = 718"),
			 1);
}

/* Two outages under once with a materialize (`jobs list`) between them and no run: the run
 * kept by the first is coalesced by the second; each skipped instant is counted once, in
 * the listing and in the job.skipped events. */
static void
test_two_outages_once_count_each_instant_once(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-03-01T00:30:00Z");
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET misfire = 'once'", &d), 0);
	assert_int_equal(drain(f, T("2027-03-01T02:00:00Z")), 2); /* 01:00 02:00 */
	/* 03:00..09:00 late: 09:00 kept (covers 7), 6 coalesced. */
	set_now(f, T("2027-03-01T10:10:00Z"));
	assert_int_equal(sched_materialize(f->s, T("2027-03-01T10:10:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT covers FROM occurrences WHERE due_at ="
				     " '2027-03-01T09:00:00Z'"),
			 7);
	/* 09:00..19:00 late: 19:00 kept, standing for 03:00..19:00; 09:00..18:00 skipped. */
	set_now(f, T("2027-03-01T20:10:00Z"));
	assert_int_equal(sched_materialize(f->s, T("2027-03-01T20:10:00Z"), &d), 0);
	assert_int_equal(drain(f, T("2027-03-01T20:10:00Z")), 2); /* 19:00 (covers 17), 20:00 */
	assert_int_equal(qint(f->st, "SELECT covers FROM occurrences WHERE due_at ="
				     " '2027-03-01T19:00:00Z' AND status = 'done'"),
			 17);
	struct sched_job_info *v;
	size_t n;
	assert_int_equal(sched_list(f->s, 0, &v, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].counts[4], 16); /* skipped: 03:00..18:00, each once (was 22) */
	assert_int_equal(v[0].counts[2], 4);  /* done: runs */
	sched_list_free(v, n);
	assert_int_equal(qint(f->st, "SELECT sum(json_extract(payload, '$.count')) FROM events"
				     " WHERE kind = 'job.skipped'"),
			 16);
}

static void
test_outage_all(void **state)
{
	struct fx *f = *state;
	outage(f, "all");
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 722);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 722);
}

static void
test_outage_skip(void **state)
{
	struct fx *f = *state;
	outage(f, "skip");
	/* 02:00 on 03-31 is within the grace and runs; the 719 before it are skipped. */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 3);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'skipped' AND "
				     "reason LIKE 'missed: not run within the grace of 1h%misfire = skip)'"),
			 719);
}

/*
 * A 30-year outage of an hourly job: the backlog keeps rows for its latest instants only
 * and counts the older ones into one summary row, so catching up writes about a thousand
 * rows, not 262,991; the instants are all accounted for (covers), once coalesced into the
 * one run, skip all skipped, and the job stays enabled with its next run pending.
 */
static void
outage_30y(struct fx *f, const char *policy)
{
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-03-01T00:30:00Z");
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE jobs SET misfire = '%s'", policy);
	assert_int_equal(store_exec(f->st, sql, &d), 0);
	assert_int_equal(drain(f, T("2027-03-01T02:00:00Z")), 2);
	assert_int_equal(drain(f, T("2057-03-01T02:10:00Z")) >= 1, 1);
	assert_int_equal(qint(f->st, "SELECT enabled FROM jobs"), 1);
	time_t due;
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2057-03-01T03:00:00Z"));
	assert_true(qint(f->st, "SELECT count(*) FROM occurrences") < 1100);
}

/* The late instants: 03:00 on 2027-03-01 .. 01:00 on 2057-03-01 (02:00 is within the grace). */
static int64_t
late_30y(void)
{
	return (int64_t)(T("2057-03-01T01:00:00Z") - T("2027-03-01T03:00:00Z")) / 3600 + 1;
}

static void
test_outage_30_years_once(void **state)
{
	struct fx *f = *state;
	outage_30y(f, "once");
	int64_t late = late_30y();
	assert_int_equal(late, 262991);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 2 + 2);
	assert_int_equal(qint(f->st, "SELECT covers FROM occurrences WHERE status = 'done' AND "
				     "due_at = '2057-03-01T01:00:00Z'"),
			 late);
	assert_int_equal(qint(f->st, "SELECT sum(covers) FROM occurrences WHERE status = 'skipped'"
				     " AND reason = 'coalesced into the run due at 2057-03-01T01:00:00Z "
				     "(misfire = once)'"),
			 late - 1);
	assert_int_equal(qint(f->st, "SELECT json_extract(payload, '$.count') FROM events"
				     " WHERE kind = 'job.skipped'"),
			 late - 1);
}

static void
test_outage_30_years_skip(void **state)
{
	struct fx *f = *state;
	outage_30y(f, "skip");
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done'"), 3);
	assert_int_equal(qint(f->st, "SELECT sum(covers) FROM occurrences WHERE status = 'skipped'"
				     " AND reason LIKE 'missed: not run within the grace of 1h%'"),
			 late_30y());
	assert_int_equal(qint(f->st, "SELECT json_extract(payload, '$.count') FROM events"
				     " WHERE kind = 'job.skipped'"),
			 late_30y());
}

/* A daily 02:30 job in Berlin: one run per local day across both DST changes of 2027. */
static void
test_dst_berlin(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_berlin, 1, "2027-03-26T12:00:00Z");
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET misfire = 'all'", &d), 0);
	assert_int_equal(sched_materialize(f->s, T("2027-04-01T12:00:00Z"), &d), 0);
	/* 27 Mar CET, 28 Mar (gap 02:00-03:00: 02:30 moves to 03:30 CEST = 01:30Z), then CEST. */
	static const char *const spring[] = {"2027-03-27T01:30:00Z", "2027-03-28T01:30:00Z",
					     "2027-03-29T00:30:00Z", "2027-03-30T00:30:00Z",
					     "2027-03-31T00:30:00Z", "2027-04-01T00:30:00Z",
					     "2027-04-02T00:30:00Z"};
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences"), 7);
	for (size_t i = 0; i < 7; i++) {
		char sql[160];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM occurrences WHERE due_at = '%s'",
			 spring[i]);
		assert_int_equal(qint(f->st, sql), 1);
	}
	/* Autumn: 31 Oct 2027, 02:30 happens twice; the first (CEST, 00:30Z) is the one. */
	assert_int_equal(sched_materialize(f->s, T("2027-11-02T12:00:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at >= "
				     "'2027-10-30T00:00:00Z' AND due_at < '2027-11-02T00:00:00Z'"),
			 3);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at IN "
				     "('2027-10-30T00:30:00Z', '2027-10-31T00:30:00Z', "
				     "'2027-11-01T01:30:00Z')"),
			 3);
	/* One per local day over the whole span. */
	assert_int_equal(qint(f->st, "SELECT count(*) - count(DISTINCT date(due_at, '+2 hours'))"
				     " FROM occurrences"),
			 0);
}

/* Daily jobs at wall times in each zone's spring gap and autumn overlap (issue 9's zones). */
static const struct sched_job_ops ops_zones[] = {
	{"ny-gap", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", body_ok, "America/New_York", NULL},
	{"ny-overlap", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", body_ok, "America/New_York", NULL},
	{"london", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", body_ok, "Europe/London", NULL},
	{"lh-gap", "FREQ=DAILY;BYHOUR=2;BYMINUTE=15", body_ok, "Australia/Lord_Howe", NULL},
	{"lh-overlap", "FREQ=DAILY;BYHOUR=1;BYMINUTE=45", body_ok, "Australia/Lord_Howe", NULL},
	{"kolkata", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", body_ok, "Asia/Kolkata", NULL},
};

/* A whole year of each: one run per local day; every run at the rule's wall time except
 * on the gap day (forward by the gap: an hour, 30 minutes on Lord Howe Island); the
 * change days' instants exactly (in an overlap the first instant, still summer time). */
static void
test_dst_zones(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_zones, 6, "2027-01-01T12:00:00Z");
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET misfire = 'all'", &d), 0);
	assert_int_equal(sched_materialize(f->s, T("2027-12-31T12:00:00Z"), &d), 0);
	static const struct {
		const char *job;
		int h, m;            /* the rule's wall time */
		const char *gap_day; /* local date whose run moved, or NULL */
		int gap_min;         /* by how much */
		const char *exact[2]; /* two change-day instants */
	} want[] = {
	    {"ny-gap", 2, 30, "2027-03-14", 60, {"2027-03-14T07:30:00Z", "2027-11-07T07:30:00Z"}},
	    {"ny-overlap", 1, 30, NULL, 0, {"2027-03-14T06:30:00Z", "2027-11-07T05:30:00Z"}},
	    {"london", 1, 30, "2027-03-28", 60, {"2027-03-28T01:30:00Z", "2027-10-31T00:30:00Z"}},
	    {"lh-gap", 2, 15, "2027-10-03", 30, {"2027-04-03T15:45:00Z", "2027-10-02T15:45:00Z"}},
	    {"lh-overlap", 1, 45, NULL, 0, {"2027-04-03T14:45:00Z", "2027-10-02T15:15:00Z"}},
	    {"kolkata", 2, 30, NULL, 0, {"2027-03-13T21:00:00Z", "2027-10-30T21:00:00Z"}},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *zone = ops_zones[i].timezone;
		char sql[256];
		for (int k = 0; k < 2; k++) {
			snprintf(sql, sizeof(sql),
				 "SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id "
				 "WHERE j.name = '%s' AND o.due_at = '%s'",
				 want[i].job, want[i].exact[k]);
			if (qint(f->st, sql) != 1)
				fail_msg("%s: no run at %s", want[i].job, want[i].exact[k]);
		}
		struct stmt q = {0};
		snprintf(sql, sizeof(sql),
			 "SELECT o.due_at FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE "
			 "j.name = '%s' ORDER BY o.due_at",
			 want[i].job);
		assert_int_equal(stmt_prepare(&q, f->st, "test", sql, &d), 0);
		int n = 0, moved = 0;
		int64_t prev_day = 0;
		while (stmt_step(&q, &d) == STMT_ROW) {
			const char *iso;
			assert_int_equal(stmt_text(&q, 0, &iso, &d), 0);
			struct tm tm;
			assert_int_equal(tz_utc_to_local(zone, T(iso), &tm, &d), 0);
			struct cal_time w = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0};
			int64_t day = cal_to_epoch(&w) / 86400;
			if (n > 0 && day != prev_day + 1)
				fail_msg("%s: run %d at %s is not on the local day after the last", want[i].job,
					 n, iso);
			prev_day = day;
			char date[32];
			snprintf(date, sizeof(date), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday);
			int wm = want[i].h * 60 + want[i].m, got = tm.tm_hour * 60 + tm.tm_min;
			if (want[i].gap_day != NULL && strcmp(date, want[i].gap_day) == 0) {
				wm += want[i].gap_min;
				moved++;
			}
			if (got != wm)
				fail_msg("%s: run at %s shows %02d:%02d on %s's clocks", want[i].job, iso,
					 tm.tm_hour, tm.tm_min, zone);
			n++;
		}
		stmt_finalize(&q);
		/* 1 Jan 12:00Z .. 31 Dec 12:00Z, and the next one ahead. */
		assert_in_range(n, 364, 366);
		assert_int_equal(moved, want[i].gap_day != NULL);
	}
}

static void
test_jitter(void **state)
{
	(void)state;
	time_t t0 = T("2027-01-01T00:00:00Z");
	int64_t seen_min = 1000, seen_max = -1, distinct = 0, prev = -1;
	for (int i = 0; i < 1000; i++) {
		int64_t j = sched_jitter("send-reminders", t0 + i * 900, 300);
		assert_true(j >= 0 && j <= 300);
		assert_true(j == sched_jitter("send-reminders", t0 + i * 900, 300));
		seen_min = j < seen_min ? j : seen_min;
		seen_max = j > seen_max ? j : seen_max;
		distinct += j != prev;
		prev = j;
	}
	assert_true(seen_min < 30 && seen_max > 270 && distinct > 900);
	assert_int_equal(sched_jitter("x", t0, 0), 0);
	/* Two jobs due at the same instant draw differently. */
	int differ = 0;
	for (int i = 0; i < 50; i++)
		differ += sched_jitter("a", t0 + i * 60, 3600) != sched_jitter("b", t0 + i * 60, 3600);
	assert_true(differ > 45);
}

static void
test_jitter_materialized(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_quarter, 1, "2027-01-11T10:00:00Z");
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET jitter_s = 120, misfire = 'all'", &d), 0);
	assert_int_equal(sched_materialize(f->s, T("2027-01-11T16:00:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE "
				     "strftime('%s', run_at) - strftime('%s', due_at) NOT BETWEEN 0 AND 120"),
			 0);
	assert_true(qint(f->st, "SELECT count(DISTINCT strftime('%s', run_at) - "
				"strftime('%s', due_at)) FROM occurrences") > 5);
	/* Not due before its jittered time. */
	int64_t first = qint(f->st, "SELECT strftime('%s', min(run_at)) FROM occurrences");
	int ran;
	assert_int_equal(sched_run_one(f->s, (time_t)first - 1, &ran, &d), 0);
	assert_int_equal(ran, 0);
	assert_int_equal(sched_run_one(f->s, (time_t)first, &ran, &d), 0);
	assert_int_equal(ran, 1);
}

static void
test_lateness_and_overlap(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-01-11T09:30:00Z");
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET misfire = 'all', max_lateness_s = 600",
				    &d),
			 0);
	/* 10:00 run at 10:20: 20 minutes late, more than 10. */
	assert_int_equal(drain(f, T("2027-01-11T10:20:00Z")), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'missed' AND "
				     "reason = 'started 20m 00s late, more than its max_lateness of "
				     "10m 00s'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.skipped' AND "
				     "json_extract(payload, '$.status') = 'missed'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 0);
	/* Overlap: another run of the job still running (a live lease) refuses this one. */
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET max_lateness_s = 0;"
					   "UPDATE occurrences SET status = 'running', "
					   "claimed_at = '2027-01-11T10:59:00Z' WHERE status = 'missed'",
				    &d),
			 0);
	assert_int_equal(drain(f, T("2027-01-11T11:00:00Z")), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'skipped' AND "
				     "reason = 'the run due at 2027-01-11T10:00:00Z was still running "
				     "(overlap = false)'"),
			 1);
	/* At 12:00 the lease of the "running" 10:00 row has run out (a dead process): it is
	 * pending again (attempts kept) and runs, and so does 12:00 (overlap = 1 anyway). */
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET overlap = 1", &d), 0);
	assert_int_equal(drain(f, T("2027-01-11T12:00:00Z")), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'running'"), 0);
	assert_int_equal(qint(f->st, "SELECT attempts FROM occurrences WHERE due_at = "
				     "'2027-01-11T10:00:00Z'"),
			 2);
}

static void
test_failure_rolls_back_effects(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_fail, 1, "2027-01-11T09:30:00Z");
	assert_int_equal(drain(f, T("2027-01-11T10:00:00Z")), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'failed' AND "
				     "reason LIKE 'boom at %'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.failed'"), 1);
	/* Failing does not stop the job: the next one is there. */
	time_t due;
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due == T("2027-01-11T11:00:00Z"));
}

static void
test_run_job_by_hand(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-01-11T09:30:00Z");
	int64_t id;
	set_now(f, T("2027-01-11T09:40:00Z"));
	assert_int_equal(sched_run_job(f->s, "hourly", T("2027-01-11T09:40:00Z"), &id, &d), 0);
	assert_true(id > 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'done' AND "
				     "due_at = '2027-01-11T09:40:00Z'"),
			 1);
	/* Twice in the same second: refused, nothing doubled, and it says why. */
	assert_int_equal(sched_run_job(f->s, "hourly", T("2027-01-11T09:40:00Z"), &id, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "already ran at 2027-01-11T09:40:00Z (done): a job's runs are "
				      "one per second"));
	assert_int_equal(sched_run_job(f->s, "nope", T("2027-01-11T09:41:00Z"), &id, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	/* The scheduled instants are untouched by the manual one. */
	assert_int_equal(drain(f, T("2027-01-11T10:00:00Z")), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 2);
}

/*
 * Crash at the N-th crash point of one sched_run_one in a forked child; then, in the
 * parent, the occurrence is pending with no effect, or done with exactly its effect.
 */
static void
test_crash_points(void **state)
{
	struct fx *f = *state;
	struct diag d;
	start_sched(f, ops_hourly, 1, "2027-01-11T09:30:00Z");
	assert_int_equal(sched_materialize(f->s, T("2027-01-11T09:30:00Z"), &d), 0);
	time_t now = T("2027-01-11T10:00:00Z");
	static const char *const points[] = {"sched.claimed", "sched.effects", "sched.before_commit",
					     "sched.committed", "1", "3"};
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct diag cd;
			struct store *st = store_open(f->path, 0, &cd);
			struct clock c;
			clock_virtual_init(&c, now);
			store_set_clock(st, &c);
			struct sched_opts o = {0};
			o.st = st;
			o.clock = &c;
			o.builtins = ops_hourly;
			o.nbuiltins = 1;
			o.builtins_set = 1;
			struct sched *s = sched_new(&o, &cd);
			crash_reset();
			setenv("TANDEM_CRASH_AT", points[i], 1);
			int ran;
			sched_run_one(s, now, &ran, &cd);
			_exit(0); /* not reached when the point is */
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 137);
		int64_t done = qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at = "
					   "'2027-01-11T10:00:00Z' AND status = 'done'");
		int64_t pending = qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at = "
					      "'2027-01-11T10:00:00Z' AND status = 'pending' AND attempts = 0");
		int64_t effects = qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'");
		int64_t ran = qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.ran'");
		int committed = strcmp(points[i], "sched.committed") == 0;
		if (committed) {
			assert_true(done == 1 && effects == 1 && ran == 1);
			/* Undo for the next case: back to the untouched state. */
			assert_int_equal(store_exec(f->st,
						    "DELETE FROM events WHERE kind IN ('test.effect', "
						    "'job.ran'); UPDATE occurrences SET status = 'pending', "
						    "attempts = 0, claimed_at = NULL, finished_at = NULL, "
						    "result = NULL WHERE due_at = '2027-01-11T10:00:00Z'",
						    &d),
					 0);
		} else {
			assert_true(pending == 1 && done == 0 && effects == 0 && ran == 0);
		}
	}
	assert_int_equal(qint(f->st, "SELECT count(*) FROM pragma_integrity_check WHERE "
				     "integrity_check <> 'ok'"),
			 0);
	/* And then it runs once. */
	assert_int_equal(drain(f, now), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'test.effect'"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_materialize_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_outages_once_count_each_instant_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outage_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_30_years_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_30_years_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_berlin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_zones, setup, teardown),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test_setup_teardown(test_jitter_materialized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lateness_and_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_rolls_back_effects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_job_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_points, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

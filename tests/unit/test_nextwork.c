/*
 * Unit tests for core/sched/nextwork: each built-in job's "next work" agrees with its body.
 * A program's life is walked on a virtual clock, from before its start through weeks of
 * planned, reminded and missed sessions to after its end; at every step, for each hourly job,
 * its body run (and rolled back) at the first hour at or after the answer does something, and
 * at the hour before the answer it does nothing; then the service's next wake is taken, the
 * jobs with work run for real, and the walk goes on. Also: the scheduler materializes no
 * occurrence for an hour without work, and one at the hour work appears.
 */
#include "session_fixture.h"

#include "program/config.h"
#include "sched/builtin.h"
#include "sched/job.h"
#include "sched/nextwork.h"
#include "sched/occur.h"

static struct config_program fx_prog;
static struct config fx_cfg;

static void
fx_config(void)
{
	memset(&fx_prog, 0, sizeof(fx_prog));
	fx_prog.name = "p";
	fx_prog.starts = "2026-11-02";
	fx_prog.ends = "2027-01-15";
	fx_prog.cadence = "weekly";
	fx_prog.minutes_per_session = 60;
	memset(&fx_cfg, 0, sizeof(fx_cfg));
	fx_cfg.programs = &fx_prog;
	fx_cfg.nprograms = 1;
	fx_cfg.timezone = "UTC";
}

static struct sched *
fx_sched(struct store *st)
{
	struct sched_opts o = {.st = st, .cfg = &fx_cfg, .clock = &fx_clock};
	struct diag d;
	struct sched *s = sched_new(&o, &d);
	if (s == NULL)
		fail_msg("sched_new: %s", d.msg);
	return s;
}

static time_t
hour_ceil(time_t t)
{
	return (t + 3599) / 3600 * 3600;
}

/* Runs job ops at t; keep = 0: rolled back. 1 when it wrote anything. */
static int
run_at(struct sched *s, struct store *st, const struct sched_job_ops *ops, time_t t, int keep)
{
	clock_virtual_set(&fx_clock, t);
	struct sched_run r;
	memset(&r, 0, sizeof(r));
	r.sched = s;
	r.st = st;
	r.cfg = &fx_cfg;
	r.job = ops->name;
	r.due = r.now = t;
	r.covers = 1;
	struct diag d;
	if (store_begin(st, &d) != 0)
		fail_msg("begin: %s", d.msg);
	int before = sqlite3_total_changes(store_db(st));
	if (ops->run(&r, &d) != 0)
		fail_msg("%s at %lld: %s", ops->name, (long long)t, d.msg);
	int wrote = sqlite3_total_changes(store_db(st)) != before;
	if (keep) {
		if (store_commit(st, &d) != 0)
			fail_msg("commit: %s", d.msg);
	} else {
		store_rollback(st);
	}
	return wrote;
}

static void
test_agrees_with_bodies(void **state)
{
	(void)state;
	fx_config();
	time_t now = fx_utc(2026, 10, 30, 22, 30);
	struct store *st = fx_store(now);
	struct sched *s = fx_sched(st);
	size_t n;
	const struct sched_job_ops *ops = sched_builtin_jobs(&n);
	int ran[4] = {0}, steps = 0;
	for (; steps < 400; steps++) {
		time_t next = 0;
		int have_next = 0;
		time_t due[4];
		int has[4];
		for (size_t k = 0; k < 4; k++) {
			struct diag d;
			time_t w = 0;
			int r = ops[k].next_work(s, now, &w, &d);
			assert_true(r >= 0);
			has[k] = r == 0;
			if (!has[k]) {
				/* nothing until something is written: not in an hour either */
				assert_false(run_at(s, st, &ops[k], now + 3600, 0));
				continue;
			}
			due[k] = hour_ceil(w > now ? w : now);
			if (!run_at(s, st, &ops[k], due[k], 0))
				fail_msg("%s: work announced at %lld, none at %lld (step %d)",
					 ops[k].name, (long long)w, (long long)due[k], steps);
			if (due[k] - 3600 >= now && due[k] - 3600 < w &&
			    run_at(s, st, &ops[k], due[k] - 3600, 0))
				fail_msg("%s: work at %lld, before the answer %lld (step %d)",
					 ops[k].name, (long long)(due[k] - 3600), (long long)w, steps);
			if (!have_next || due[k] < next)
				next = due[k];
			have_next = 1;
		}
		if (!have_next)
			break;
		now = next;
		for (size_t k = 0; k < 4; k++)
			if (has[k] && due[k] == now)
				ran[k] += run_at(s, st, &ops[k], now, 1);
	}
	/* The walk went through the program's life: every job had work, and it ended. */
	for (size_t k = 0; k < 4; k++)
		if (ran[k] == 0)
			fail_msg("%s never ran", ops[k].name);
	assert_true(steps < 400);
	assert_true(now >= fx_utc(2027, 1, 16, 0, 0));
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE status = 'planned'"), 0);
	assert_true(fx_int(st, "SELECT count(*) FROM sessions WHERE status = 'missed'") > 10);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM matches WHERE status IN "
				    "('approved', 'active')"),
			 0);
	sched_delete(s);
	store_close(st);
}

/* The scheduler: an hour without work has no occurrence; the hour work appears has one. */
static void
test_materialize_on_work(void **state)
{
	(void)state;
	fx_config();
	fx_prog.ends = NULL;
	time_t now = fx_utc(2026, 11, 10, 9, 30);
	struct store *st = fx_store(now);
	struct sched *s = fx_sched(st);
	struct diag d;
	assert_int_equal(sched_sync(s, &d), 0);
	/* Two days, wakes at every hour as a polling service would: the hours without work
	 * get no occurrence, and none is reported skipped or missed. */
	int ran = 1;
	time_t t = fx_utc(2026, 11, 10, 10, 0);
	for (int h = 0; h < 48; h++, t += 3600) {
		clock_virtual_set(&fx_clock, t + 300);
		do
			assert_int_equal(sched_run_one(s, t + 300, &ran, &d), 0);
		while (ran);
	}
	int64_t rows = fx_int(st, "SELECT count(*) FROM occurrences o JOIN jobs j ON "
				  "j.id = o.job_id WHERE j.schedule = 'FREQ=HOURLY' AND o.status = 'done'");
	if (rows < 3 || rows > 20)
		fail_msg("%lld runs of the hourly jobs in 48 hours", (long long)rows);
	time_t due;
	assert_int_equal(sched_next_due(s, &due, &d), 0);
	assert_true(due > t);
	t += 300;
	/* A session moved to start in 3 hours: its reminder is work now, run on this hour's
	 * instant (11:00), not the next one. */
	fx_exec(st, "UPDATE sessions SET starts_at = '2026-11-12T13:00:00Z' WHERE id = "
		    "(SELECT max(id) FROM sessions WHERE status = 'planned')");
	t += 60;
	clock_virtual_set(&fx_clock, t);
	assert_int_equal(sched_run_one(s, t, &ran, &d), 0);
	assert_int_equal(ran, 1);
	assert_string_equal(fx_text(st, "SELECT j.name || ' ' || o.due_at || ' ' || o.status FROM "
				       "occurrences o JOIN jobs j ON j.id = o.job_id ORDER BY "
				       "o.finished_at DESC, o.id DESC LIMIT 1"),
			    "send-reminders 2026-11-12T10:00:00Z done");
	assert_true(fx_int(st, "SELECT count(*) FROM outbox WHERE session_id = (SELECT id FROM "
			       "sessions WHERE starts_at = '2026-11-12T13:00:00Z')") == 2);
	/* Its reminders under the older keys that carried the lead (an `outbox remind --lead 48`
	 * of an earlier version): still sent, so no work for send-reminders. */
	fx_exec(st, "UPDATE outbox SET idempotency_key = idempotency_key || ':48h' WHERE session_id ="
		    " (SELECT id FROM sessions WHERE starts_at = '2026-11-12T13:00:00Z')");
	time_t at = 0, start;
	assert_int_equal(sched_parse_time("2026-11-12T13:00:00Z", &start), 0);
	int nr = nextwork_remind(s, t, &at, &d);
	assert_true(nr == 1 || (nr == 0 && at != start - 24 * 3600));
	/* No occurrence was skipped or missed for the hours without work. */
	assert_int_equal(fx_int(st, "SELECT count(*) FROM occurrences WHERE status IN "
				    "('skipped', 'missed')"),
			 0);
	sched_delete(s);
	store_close(st);
}

int
main(void)
{
	(void)fx_events; /* the fixture's, unused here */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_bodies),
		cmocka_unit_test(test_materialize_on_work),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

/*
 * Unit tests for serve/loop, serve/timescale, serve/log and serve/lock: the loop with
 * fake operations (steps run one at a time, a signal stops it after the running step,
 * SIGHUP reloads, a stuck due item does not spin, nothing due arms no timer), the
 * scaled clock, the log lines, the single-instance lock (a child process holds it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "serve/lock.h"
#include "serve/log.h"
#include "serve/loop.h"
#include "serve/timescale.h"

struct fake {
	int units;        /* units of work left for the current wake */
	int per_wake;     /* units each wake finds */
	int begins, steps, reloads, reload_fails;
	int stop_after;   /* raise SIGTERM during this step (1-based), 0 never */
	int hup_after;    /* raise SIGHUP during this step, 0 never */
	int stop_at_wake; /* raise SIGTERM in this begin, 0 never */
	time_t due;       /* what next_due says; 0 = nothing is due */
	int in_step;      /* 1 while a step runs: a signal must not cut into it */
	int cut;          /* a callback ran while a step was running */
};

static int
f_begin(void *ud, time_t now, struct diag *d)
{
	struct fake *f = ud;
	(void)now;
	(void)d;
	f->begins++;
	f->units = f->per_wake;
	if (f->stop_at_wake && f->begins == f->stop_at_wake)
		raise(SIGTERM);
	return 0;
}

static int
f_step(void *ud, time_t now, struct diag *d)
{
	struct fake *f = ud;
	(void)now;
	(void)d;
	if (f->in_step)
		f->cut = 1;
	if (f->units == 0)
		return 0;
	f->in_step = 1;
	f->units--;
	f->steps++;
	if (f->steps == f->stop_after)
		raise(SIGTERM); /* delivered now; the loop must still let this step finish */
	if (f->steps == f->hup_after)
		raise(SIGHUP);
	f->in_step = 0;
	return 1;
}

static int
f_next_due(void *ud, time_t *due, struct diag *d)
{
	struct fake *f = ud;
	(void)d;
	if (f->due == 0)
		return 1;
	*due = f->due;
	return 0;
}

static int
f_reload(void *ud, struct diag *d)
{
	struct fake *f = ud;
	f->reloads++;
	if (f->reload_fails)
		return diag_set(d, DIAG_INVALID, "tandem.lua:3: broken");
	return 0;
}

static void
ops_for(struct fake *f, struct serve_ops *ops)
{
	ops->ud = f;
	ops->begin = f_begin;
	ops->step = f_step;
	ops->next_due = f_next_due;
	ops->reload = f_reload;
}

static void
test_once(void **state)
{
	(void)state;
	struct fake f = {.per_wake = 5};
	struct serve_ops ops;
	ops_for(&f, &ops);
	struct timescale ts;
	timescale_init(&ts, 1, 0);
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(serve_loop_once(&ops, &ts, &st, &d), 0);
	assert_int_equal(f.begins, 1);
	assert_int_equal(f.steps, 5);
	assert_int_equal(st.steps, 5);
	assert_int_equal(st.wakes, 1);
}

static void
test_term_finishes_the_step(void **state)
{
	(void)state;
	/* Many units due at once: SIGTERM raised inside step 3 stops the loop after step 3. */
	struct fake f = {.per_wake = 100, .stop_after = 3, .due = time(NULL) + 3600};
	struct serve_ops ops;
	ops_for(&f, &ops);
	struct timescale ts;
	timescale_init(&ts, 1, 0);
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(serve_loop_run(&ops, &ts, &st, &d), 0);
	assert_int_equal(st.signal, SIGTERM);
	assert_int_equal(f.steps, 3);
	assert_int_equal(f.cut, 0);
}

static void
test_timer_wakes_at_due(void **state)
{
	(void)state;
	/* Scale 3600: "due in 2 virtual hours" is 2 real seconds; the second wake stops it. */
	struct timescale ts;
	timescale_init(&ts, 3600, 0);
	struct fake f = {.per_wake = 1, .stop_at_wake = 2, .due = timescale_now(&ts) + 7200};
	struct serve_ops ops;
	ops_for(&f, &ops);
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	int64_t t0 = clock_mono_ms(NULL);
	assert_int_equal(serve_loop_run(&ops, &ts, &st, &d), 0);
	int64_t took = clock_mono_ms(NULL) - t0;
	assert_int_equal(f.begins, 2);
	assert_true(took >= 1900 && took < 6000);
	assert_true(timescale_now(&ts) >= f.due);
}

static void
test_hup_reloads(void **state)
{
	(void)state;
	struct fake f = {.per_wake = 2, .hup_after = 1, .stop_at_wake = 2, .due = 0};
	struct serve_ops ops;
	ops_for(&f, &ops);
	struct timescale ts;
	timescale_init(&ts, 1, 0);
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	/* Nothing is ever due: only the SIGHUP's wake follows the first one, and stops it. */
	assert_int_equal(serve_loop_run(&ops, &ts, &st, &d), 0);
	assert_int_equal(f.reloads, 1);
	assert_int_equal(st.reloads, 1);
	assert_int_equal(f.begins, 2);

	struct fake g = {.per_wake = 1, .hup_after = 1, .stop_at_wake = 2, .reload_fails = 1};
	ops_for(&g, &ops);
	assert_int_equal(serve_loop_run(&ops, &ts, &st, &d), 0);
	assert_int_equal(g.reloads, 1);
	assert_int_equal(st.reloads, 0);
	assert_int_equal(st.errors, 1);
}

static void
test_stuck_does_not_spin(void **state)
{
	(void)state;
	/* next_due is in the past but no step runs: wakes are at least SERVE_STUCK_MS apart. */
	struct fake f = {.per_wake = 0, .stop_at_wake = 3, .due = 1000};
	struct serve_ops ops;
	ops_for(&f, &ops);
	struct timescale ts;
	timescale_init(&ts, 1, 0);
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	int64_t t0 = clock_mono_ms(NULL);
	assert_int_equal(serve_loop_run(&ops, &ts, &st, &d), 0);
	int64_t took = clock_mono_ms(NULL) - t0;
	assert_int_equal(f.begins, 3);
	assert_true(took >= 2 * SERVE_STUCK_MS - 50);
}

static void
test_timescale(void **state)
{
	(void)state;
	struct timescale real;
	timescale_init(&real, 1, 0);
	assert_ptr_equal(timescale_clock(&real), clock_real());
	assert_int_equal(timescale_delay_ms(&real, time(NULL) - 10), 0);
	uint64_t ms = timescale_delay_ms(&real, time(NULL) + 10);
	assert_true(ms > 8000 && ms <= 11000);

	struct timescale fast;
	timescale_init(&fast, 3600, 0);
	time_t n0 = timescale_now(&fast);
	assert_true(n0 >= time(NULL) - 1 && n0 <= time(NULL) + 1);
	/* One virtual hour ahead is one real second away (rounded up). */
	ms = timescale_delay_ms(&fast, n0 + 3600);
	assert_true(ms >= 900 && ms <= 1001);
	usleep(100 * 1000);
	timescale_tick(&fast);
	time_t n1 = timescale_now(&fast);
	assert_true(n1 - n0 >= 300 && n1 - n0 < 3600); /* 0.1 s real = 360 s virtual, give or take */

	/* Anchored an hour ago at 60x: the virtual now is ~60 hours after the anchor. */
	time_t anchor = time(NULL) - 3600;
	struct timescale anch;
	timescale_init(&anch, 60, anchor);
	time_t v = timescale_now(&anch);
	assert_true(v >= anchor + 59 * 3600 && v <= anchor + 61 * 3600);
}

static void
test_log_lines(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	enum serve_log_format f;
	assert_int_equal(serve_log_format_parse("json", &f), 0);
	assert_int_equal(f, SERVE_LOG_JSON);
	assert_int_equal(serve_log_format_parse("xml", &f), -1);
	assert_int_equal(serve_log_line(&b, SERVE_LOG_TEXT, 1796601600, -1, TLOG_INFO, "hello", NULL), 0);
	assert_string_equal(b.data, "2026-12-07T00:00:00Z info: hello\n");
	buf_reset(&b);
	assert_int_equal(serve_log_line(&b, SERVE_LOG_TEXT, 1796601600, 1796605200, TLOG_ERROR, "x", NULL), 0);
	assert_string_equal(b.data, "2026-12-07T00:00:00Z error: [now 2026-12-07T01:00:00Z] x\n");
	buf_reset(&b);
	assert_int_equal(serve_log_line(&b, SERVE_LOG_JSON, 1796601600, -1, TLOG_WARN,
					"two\nlines \"q\"", NULL), 0);
	assert_string_equal(b.data, "{\"ts\":\"2026-12-07T00:00:00Z\",\"level\":\"warning\","
				    "\"msg\":\"two\\nlines \\\"q\\\"\"}\n");
	buf_reset(&b);
	assert_int_equal(serve_log_line(&b, SERVE_LOG_JSON, 1796601600, 1796605200, TLOG_INFO,
					"bad \xff byte", NULL), 0);
	assert_string_equal(b.data, "{\"ts\":\"2026-12-07T00:00:00Z\",\"level\":\"info\","
				    "\"now\":\"2026-12-07T01:00:00Z\",\"msg\":\"bad ? byte\"}\n");
	buf_fini(&b);
}

static void
test_lock(void **state)
{
	(void)state;
	char dir[] = "/tmp/tandem-lock.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/.tandem-serve.lock", dir);
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct serve_lock *l;
		long holder;
		char c = serve_lock_acquire(path, &l, &holder, NULL) == 0 ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		(void)!read(go[0], &c, 1); /* hold it until the parent says */
		_exit(0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	struct serve_lock *l = NULL;
	long holder = 0;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(serve_lock_acquire(path, &l, &holder, &d), 1);
	assert_int_equal(holder, (long)child);
	assert_null(l);
	/* The holder dies (as a SIGKILL would leave it): the lock is free at once. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(serve_lock_acquire(path, &l, &holder, &d), 0);
	assert_non_null(l);
	/* A forked child (a plugin worker) does not inherit the record lock: for it, the
	 * parent holds the lock, so a worker outliving a killed service holds nothing. */
	pid_t w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		struct serve_lock *wl;
		long h = 0;
		int rc = serve_lock_acquire(path, &wl, &h, NULL);
		_exit(rc == 1 ? (h == (long)getppid() ? 0 : 2) : 10 + rc);
	}
	int status = 0;
	waitpid(w, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Our own pid is in the file (read last: closing any descriptor of the file
	 * drops the process's record lock, the trap lock.h describes). */
	FILE *fp = fopen(path, "r");
	long pid = 0;
	assert_int_equal(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	assert_int_equal(pid, (long)getpid());
	serve_lock_release(l);
	unlink(path);
	rmdir(dir);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_once),
	    cmocka_unit_test(test_term_finishes_the_step),
	    cmocka_unit_test(test_timer_wakes_at_due),
	    cmocka_unit_test(test_hup_reloads),
	    cmocka_unit_test(test_stuck_does_not_spin),
	    cmocka_unit_test(test_timescale),
	    cmocka_unit_test(test_log_lines),
	    cmocka_unit_test(test_lock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for core/sys/worker: results and errors coming back from the child,
 * large results through the socket, shared memory, the wall-clock kill, crashes,
 * the memory rlimit, the in-process mode; long-lived workers: state kept between
 * requests, restarts after a kill or a crash, the notes page, and driving a
 * worker without blocking (send / poll / pump).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <poll.h>

#include "sys/worker.h"

static struct worker_limits
limits(int isolate)
{
	struct worker_limits lim = {.memory = (size_t)64 << 20, .in_process = !isolate};
	return lim;
}

static int
write_pid_and_bytes(void *arg, struct buf *out, struct diag *d)
{
	size_t n = *(size_t *)arg;
	int pid = (int)getpid();
	if (buf_append(out, &pid, sizeof(pid), d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(i % 251);
		if (buf_append(out, &c, 1, d) != 0)
			return -1;
	}
	return 0;
}

static void
test_result_comes_back(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	size_t n = (size_t)3 << 20; /* far more than a pipe buffer */
	struct buf out;
	buf_init(&out);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 5000, write_pid_and_bytes, &n, &out, &st, &d), 0);
	assert_int_equal(st, WORKER_OK);
	assert_int_equal(out.len, sizeof(int) + n);
	int pid;
	memcpy(&pid, out.data, sizeof(pid));
	assert_int_not_equal(pid, (int)getpid()); /* it ran in a child */
	for (size_t i = 0; i < n; i += 4099)
		assert_int_equal((unsigned char)out.data[sizeof(int) + i], i % 251);
	assert_int_equal(worker_in_child(), 0);
	buf_fini(&out);
}

static int
fail_with_diag(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	return diag_set(d, DIAG_INVALID, "policies/x.lua:7: bad weight (in hook score)");
}

static void
test_error_propagates(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 5000, fail_with_diag, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_string_equal(d.msg, "policies/x.lua:7: bad weight (in hook score)");
}

static int
hang(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	(void)d;
	for (;;)
		pause();
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_killed_at_deadline(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	double t0 = now_ms();
	assert_int_equal(worker_run(&lim, 300, hang, NULL, NULL, &st, &d), -1);
	double ms = now_ms() - t0;
	assert_int_equal(st, WORKER_DEADLINE);
	assert_string_equal(d.msg, "killed after 300 ms wall-clock deadline");
	assert_true(ms >= 300 && ms < 1500);
}

static int
spin(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	(void)d;
	volatile unsigned long x = 0;
	for (;;)
		x++;
	return 0;
}

static void
test_cpu_limit(void **state)
{
	(void)state;
	/* The child's RLIMIT_CPU (deadline + 1 s) cannot fire before the parent's kill. */
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 200, spin, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_DEADLINE);
}

static int
crash(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	(void)d;
	raise(SIGSEGV);
	return 0;
}

static int
vanish(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	(void)d;
	_exit(5);
}

static void
test_crash_and_exit(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 5000, crash, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_CRASHED);
	assert_non_null(strstr(d.msg, "crashed with signal 11"));
	assert_int_equal(worker_run(&lim, 5000, vanish, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_LOST);
	assert_string_equal(d.msg, "exited with status 5 without a result");
}

struct shared_job {
	double *cells;
	size_t n;
};

static int
fill_shared(void *arg, struct buf *out, struct diag *d)
{
	(void)out;
	(void)d;
	struct shared_job *j = arg;
	for (size_t i = 0; i < j->n; i++)
		j->cells[i] = (double)i * 0.5;
	return 0;
}

static void
test_shared_memory(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	struct shared_job j = {NULL, 1000000};
	struct diag d;
	j.cells = worker_shared_new(j.n * sizeof(double), &d);
	assert_non_null(j.cells);
	assert_true(j.cells[12345] == 0.0);
	assert_int_equal(worker_run(&lim, 5000, fill_shared, &j, NULL, NULL, &d), 0);
	assert_true(j.cells[12345] == 12345 * 0.5);
	assert_true(j.cells[j.n - 1] == (double)(j.n - 1) * 0.5);
	worker_shared_delete(j.cells, j.n * sizeof(double));
}

static int seen_in_process;

static int
mark(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	seen_in_process = 1;
	return buf_append(out, "ok", 3, d);
}

static void
test_in_process_mode(void **state)
{
	(void)state;
	struct worker_limits lim = limits(0);
	struct buf out;
	buf_init(&out);
	enum worker_status st;
	struct diag d;
	seen_in_process = 0;
	assert_int_equal(worker_run(&lim, 5000, mark, NULL, &out, &st, &d), 0);
	assert_int_equal(seen_in_process, 1); /* it ran here, not in a copy */
	assert_int_equal(st, WORKER_OK);
	assert_string_equal(out.data, "ok");
	buf_fini(&out);
	assert_int_equal(worker_run(&lim, 5000, fail_with_diag, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
}

static int
big_malloc(void *arg, struct buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	size_t n = (size_t)2 << 30;
	char *p = malloc(n);
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "malloc of 2 GiB refused");
	memset(p, 1, n);
	free(p);
	return 0;
}

static void
test_memory_rlimit(void **state)
{
	(void)state;
	if (getenv("TANDEM_ASAN") != NULL)
		skip(); /* no RLIMIT_AS under AddressSanitizer */
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 5000, big_malloc, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	assert_int_equal(d.code, DIAG_NOMEM);
	assert_string_equal(d.msg, "malloc of 2 GiB refused");
}

/* ---- long-lived workers ------------------------------------------------------------ */

struct counter {
	int started;
	int served;
};

static int
counter_init(void *arg, struct buf *out, struct diag *d)
{
	struct counter *c = arg;
	c->started++;
	c->served = 0;
	int pid = (int)getpid();
	return buf_append(out, &pid, sizeof(pid), d);
}

/* Requests: "count" -> the number served so far; "hang"; "crash"; "fail"; "big". */
static int
counter_serve(void *arg, const char *req, size_t len, struct buf *out, struct diag *d)
{
	struct counter *c = arg;
	c->served++;
	if (len == 4 && memcmp(req, "hang", 4) == 0)
		for (;;)
			pause();
	if (len == 5 && memcmp(req, "crash", 5) == 0)
		raise(SIGSEGV);
	if (len == 4 && memcmp(req, "fail", 4) == 0)
		return diag_set(d, DIAG_INVALID, "failed as asked");
	if (len == 3 && memcmp(req, "big", 3) == 0) {
		for (int i = 0; i < (3 << 20); i++)
			if (buf_append(out, "x", 1, d) != 0)
				return -1;
		return 0;
	}
	char *notes = worker_child_notes();
	if (notes != NULL)
		snprintf(notes, WORKER_NOTES_SIZE, "served %d", c->served);
	return buf_append(out, &c->served, sizeof(c->served), d);
}

static int
ask_count(struct worker *w, struct diag *d)
{
	struct buf out;
	buf_init(&out);
	enum worker_status st;
	int n = -1;
	if (worker_call(w, "count", 5, 2000, &out, &st, d) == 1 && out.len == sizeof(int))
		memcpy(&n, out.data, sizeof(n));
	buf_fini(&out);
	return n;
}

static void
test_long_lived_keeps_state(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	struct counter c = {0, 0};
	struct buf out;
	buf_init(&out);
	enum worker_status st;
	struct diag d;
	struct worker *w = worker_start(&lim, 2000, counter_init, counter_serve, &c, &out, &st, &d);
	assert_non_null(w);
	assert_int_equal(out.len, sizeof(int));
	int pid;
	memcpy(&pid, out.data, sizeof(pid));
	assert_int_not_equal(pid, (int)getpid());
	assert_int_equal(c.started, 0); /* init ran in the child's copy */
	assert_true(worker_fd(w) >= 0);
	assert_int_equal(ask_count(w, &d), 1);
	assert_int_equal(ask_count(w, &d), 2);
	assert_int_equal(ask_count(w, &d), 3);
	assert_string_equal((char *)worker_notes(w), "served 3");
	/* A request's own error: the worker lives on. */
	assert_int_equal(worker_call(w, "fail", 4, 2000, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	assert_string_equal(d.msg, "failed as asked");
	assert_true(worker_alive(w));
	assert_int_equal(ask_count(w, &d), 5);
	/* Replies larger than a socket buffer. */
	buf_reset(&out);
	assert_int_equal(worker_call(w, "big", 3, 5000, &out, &st, &d), 1);
	assert_int_equal(out.len, (size_t)3 << 20);
	buf_fini(&out);
	worker_delete(w);
}

static void
test_long_lived_kill_and_restart(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	struct counter c = {0, 0};
	enum worker_status st;
	struct diag d;
	struct worker *w = worker_start(&lim, 2000, counter_init, counter_serve, &c, NULL, &st, &d);
	assert_non_null(w);
	assert_int_equal(ask_count(w, &d), 1);
	double t0 = now_ms();
	assert_int_equal(worker_call(w, "hang", 4, 300, NULL, &st, &d), -1);
	assert_true(now_ms() - t0 < 1500);
	assert_int_equal(st, WORKER_DEADLINE);
	assert_string_equal(d.msg, "killed after 300 ms wall-clock deadline");
	assert_false(worker_alive(w));
	assert_int_equal(worker_fd(w), -1);
	assert_int_equal(worker_restart(w, 2000, NULL, &st, &d), 0);
	assert_int_equal(ask_count(w, &d), 1); /* a fresh child: init ran again */
	assert_int_equal(worker_call(w, "crash", 5, 2000, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_CRASHED);
	assert_non_null(strstr(d.msg, "crashed with signal 11"));
	assert_int_equal(worker_restart(w, 2000, NULL, &st, &d), 0);
	assert_int_equal(ask_count(w, &d), 1);
	worker_delete(w);
}

static void
test_long_lived_in_process(void **state)
{
	(void)state;
	struct worker_limits lim = limits(0);
	struct counter c = {0, 0};
	enum worker_status st;
	struct diag d;
	struct worker *w = worker_start(&lim, 2000, counter_init, counter_serve, &c, NULL, &st, &d);
	assert_non_null(w);
	assert_int_equal(c.started, 1); /* here, not in a copy */
	assert_int_equal(worker_fd(w), -1);
	assert_int_equal(ask_count(w, &d), 1);
	assert_int_equal(c.served, 1);
	assert_int_equal(worker_call(w, "fail", 4, 2000, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	worker_delete(w);
}

/* Drives a worker with poll() and worker_pump, as an event loop would. */
static void
test_nonblocking_pump(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	struct counter c = {0, 0};
	enum worker_status st;
	struct diag d;
	struct worker *w = worker_start(&lim, 2000, counter_init, counter_serve, &c, NULL, &st, &d);
	assert_non_null(w);
	struct buf out;
	buf_init(&out);
	assert_int_equal(worker_send(w, "big", 3, 5000, &d), 0);
	int rc = 0, rounds = 0;
	while (rc == 0) {
		struct pollfd pfd = {.fd = worker_fd(w), .events = worker_events(w)};
		assert_true(poll(&pfd, 1, 5000) > 0);
		rc = worker_pump(w, &out, &st, &d);
		rounds++;
	}
	assert_int_equal(rc, 1);
	assert_true(rounds > 1); /* the reply came in pieces */
	assert_int_equal(out.len, (size_t)3 << 20);
	/* The caller's own timer says the deadline passed. */
	assert_int_equal(worker_send(w, "hang", 4, 100, &d), 0);
	assert_int_equal(worker_expire(w, 100, &st, &d), -1);
	assert_int_equal(st, WORKER_DEADLINE);
	assert_false(worker_alive(w));
	buf_fini(&out);
	worker_delete(w);
}

static void
test_init_failure(void **state)
{
	(void)state;
	struct worker_limits lim = limits(1);
	enum worker_status st;
	struct diag d;
	assert_null(worker_start(&lim, 2000, fail_with_diag, counter_serve, NULL, NULL, &st, &d));
	assert_int_equal(st, WORKER_FAILED);
	assert_string_equal(d.msg, "policies/x.lua:7: bad weight (in hook score)");
	assert_null(worker_start(&lim, 300, hang, counter_serve, NULL, NULL, &st, &d));
	assert_int_equal(st, WORKER_DEADLINE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_comes_back), cmocka_unit_test(test_error_propagates),
		cmocka_unit_test(test_killed_at_deadline), cmocka_unit_test(test_cpu_limit),
		cmocka_unit_test(test_crash_and_exit),    cmocka_unit_test(test_shared_memory),
		cmocka_unit_test(test_in_process_mode),   cmocka_unit_test(test_memory_rlimit),
		cmocka_unit_test(test_long_lived_keeps_state),
		cmocka_unit_test(test_long_lived_kill_and_restart),
		cmocka_unit_test(test_long_lived_in_process),
		cmocka_unit_test(test_nonblocking_pump),
		cmocka_unit_test(test_init_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

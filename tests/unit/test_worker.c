/*
 * Unit tests for core/lua/worker: results and errors coming back from the child,
 * large results through the pipe, shared memory, the wall-clock kill, crashes,
 * the memory rlimit, and the in-process mode.
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

#include "lua/worker.h"

static struct plugin_limits
limits(int isolate, int deadline_ms)
{
	struct plugin_limits lim = {.isolate = isolate, .isolate_set = 1,
				    .batch_deadline_ms = deadline_ms,
				    .memory = (size_t)64 << 20};
	return lim;
}

static int
write_pid_and_bytes(void *arg, struct worker_buf *out, struct diag *d)
{
	size_t n = *(size_t *)arg;
	int pid = (int)getpid();
	if (worker_buf_append(out, &pid, sizeof(pid), d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(i % 251);
		if (worker_buf_append(out, &c, 1, d) != 0)
			return -1;
	}
	return 0;
}

static void
test_result_comes_back(void **state)
{
	(void)state;
	struct plugin_limits lim = limits(1, 5000);
	size_t n = (size_t)3 << 20; /* far more than a pipe buffer */
	struct worker_buf out;
	worker_buf_init(&out);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 0, write_pid_and_bytes, &n, &out, &st, &d), 0);
	assert_int_equal(st, WORKER_OK);
	assert_int_equal(out.len, sizeof(int) + n);
	int pid;
	memcpy(&pid, out.data, sizeof(pid));
	assert_int_not_equal(pid, (int)getpid()); /* it ran in a child */
	for (size_t i = 0; i < n; i += 4099)
		assert_int_equal((unsigned char)out.data[sizeof(int) + i], i % 251);
	assert_int_equal(worker_in_child(), 0);
	worker_buf_fini(&out);
}

static int
fail_with_diag(void *arg, struct worker_buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	return diag_set(d, DIAG_INVALID, "policies/x.lua:7: bad weight (in hook score)");
}

static void
test_error_propagates(void **state)
{
	(void)state;
	struct plugin_limits lim = limits(1, 5000);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 0, fail_with_diag, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_string_equal(d.msg, "policies/x.lua:7: bad weight (in hook score)");
}

static int
hang(void *arg, struct worker_buf *out, struct diag *d)
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
	struct plugin_limits lim = limits(1, 5000);
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
spin(void *arg, struct worker_buf *out, struct diag *d)
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
	struct plugin_limits lim = limits(1, 5000);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 200, spin, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_DEADLINE);
}

static int
crash(void *arg, struct worker_buf *out, struct diag *d)
{
	(void)arg;
	(void)out;
	(void)d;
	raise(SIGSEGV);
	return 0;
}

static int
vanish(void *arg, struct worker_buf *out, struct diag *d)
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
	struct plugin_limits lim = limits(1, 5000);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 0, crash, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_CRASHED);
	assert_non_null(strstr(d.msg, "crashed with signal 11"));
	assert_int_equal(worker_run(&lim, 0, vanish, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_LOST);
	assert_string_equal(d.msg, "exited with status 5 without a result");
}

struct shared_job {
	double *cells;
	size_t n;
};

static int
fill_shared(void *arg, struct worker_buf *out, struct diag *d)
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
	struct plugin_limits lim = limits(1, 5000);
	struct shared_job j = {NULL, 1000000};
	struct diag d;
	j.cells = worker_shared_new(j.n * sizeof(double), &d);
	assert_non_null(j.cells);
	assert_true(j.cells[12345] == 0.0);
	assert_int_equal(worker_run(&lim, 0, fill_shared, &j, NULL, NULL, &d), 0);
	assert_true(j.cells[12345] == 12345 * 0.5);
	assert_true(j.cells[j.n - 1] == (double)(j.n - 1) * 0.5);
	worker_shared_delete(j.cells, j.n * sizeof(double));
}

static int seen_in_process;

static int
mark(void *arg, struct worker_buf *out, struct diag *d)
{
	(void)arg;
	seen_in_process = 1;
	return worker_buf_append(out, "ok", 3, d);
}

static void
test_in_process_mode(void **state)
{
	(void)state;
	struct plugin_limits lim = limits(0, 5000);
	struct worker_buf out;
	worker_buf_init(&out);
	enum worker_status st;
	struct diag d;
	seen_in_process = 0;
	assert_int_equal(worker_run(&lim, 0, mark, NULL, &out, &st, &d), 0);
	assert_int_equal(seen_in_process, 1); /* it ran here, not in a copy */
	assert_int_equal(st, WORKER_OK);
	assert_string_equal(out.data, "ok");
	worker_buf_fini(&out);
	assert_int_equal(worker_run(&lim, 0, fail_with_diag, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
}

static int
big_malloc(void *arg, struct worker_buf *out, struct diag *d)
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
	struct plugin_limits lim = limits(1, 5000);
	enum worker_status st;
	struct diag d;
	assert_int_equal(worker_run(&lim, 0, big_malloc, NULL, NULL, &st, &d), -1);
	assert_int_equal(st, WORKER_FAILED);
	assert_int_equal(d.code, DIAG_NOMEM);
	assert_string_equal(d.msg, "malloc of 2 GiB refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_comes_back), cmocka_unit_test(test_error_propagates),
		cmocka_unit_test(test_killed_at_deadline), cmocka_unit_test(test_cpu_limit),
		cmocka_unit_test(test_crash_and_exit),    cmocka_unit_test(test_shared_memory),
		cmocka_unit_test(test_in_process_mode),   cmocka_unit_test(test_memory_rlimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

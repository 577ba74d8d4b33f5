/* Unit tests for base/crash: which point TANDEM_CRASH_AT selects, and how the process dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/crash.h"

/*
 * Forks a child that reaches the points a, b, a, b, c in turn with TANDEM_CRASH_AT=spec
 * (NULL: unset) and writes the index of each point it passed to a pipe. Returns how many
 * points it passed; *status is the child's wait status.
 */
static int
walk(const char *spec, int *status)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_reset();
		if (spec != NULL)
			setenv("TANDEM_CRASH_AT", spec, 1);
		else
			unsetenv("TANDEM_CRASH_AT");
		static const char *const seq[] = {"t.a", "t.b", "t.a", "t.b", "t.c"};
		for (int i = 0; i < 5; i++) {
			crash_point(seq[i]);
			char c = (char)('0' + i);
			if (write(fds[1], &c, 1) != 1)
				_exit(3);
		}
		_exit(crash_count() == 5 ? 0 : 4);
	}
	close(fds[1]);
	char buf[8];
	int n = 0;
	ssize_t r;
	while ((r = read(fds[0], buf + n, sizeof(buf) - (size_t)n)) > 0)
		n += (int)r;
	close(fds[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return n;
}

static void
test_unset_and_unknown_never_crash(void **state)
{
	(void)state;
	int st;
	assert_int_equal(walk(NULL, &st), 5);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(walk("", &st), 5);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(walk("t.zzz", &st), 5);
	assert_int_equal(walk("t", &st), 5);    /* a prefix of a name is not the name */
	assert_int_equal(walk("t.a:9", &st), 5); /* never reached 9 times */
	assert_int_equal(walk("0", &st), 5);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_selects_by_name_count_and_ordinal(void **state)
{
	(void)state;
	int st;
	/* By name: the first time it is reached; nothing after it runs. */
	assert_int_equal(walk("t.b", &st), 1);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 137);
	/* NAME:K: the K-th time. */
	assert_int_equal(walk("t.b:2", &st), 3);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 137);
	assert_int_equal(walk("t.a:1", &st), 0);
	/* N: the N-th point reached, any name. */
	for (int n = 1; n <= 5; n++) {
		char spec[8];
		snprintf(spec, sizeof(spec), "%d", n);
		assert_int_equal(walk(spec, &st), n - 1);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 137);
	}
	assert_int_equal(walk("6", &st), 5);
}

static void
test_counts_in_process(void **state)
{
	(void)state;
	unsetenv("TANDEM_CRASH_AT");
	crash_reset();
	crash_point("x");
	crash_point("y");
	assert_int_equal(crash_count(), 2);
	crash_reset();
	assert_int_equal(crash_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_and_unknown_never_crash),
		cmocka_unit_test(test_selects_by_name_count_and_ordinal),
		cmocka_unit_test(test_counts_in_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

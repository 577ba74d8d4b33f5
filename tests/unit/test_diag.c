/* Unit tests for core/diag: error values and the log sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/diag.h"

static void
test_set_and_prefix(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(d.code, DIAG_OK);
	assert_int_equal(diag_set(&d, DIAG_INVALID, "bad email '%s'", "x@"), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_string_equal(d.msg, "bad email 'x@'");
	assert_int_equal(diag_prefix(&d, "%s:%d:%d", "people.csv", 12, 3), -1);
	assert_string_equal(d.msg, "people.csv:12:3: bad email 'x@'");
	assert_int_equal(diag_set(NULL, DIAG_IO, "ignored"), -1);
	assert_string_equal(diag_code_name(DIAG_NOTFOUND), "not_found");
}

static void
test_truncates_long_messages(void **state)
{
	(void)state;
	struct diag d;
	char big[3000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	diag_set(&d, DIAG_INVALID, "%s", big);
	assert_int_equal(strlen(d.msg), DIAG_MSG_MAX - 1);
}

/* A prefix on a full message keeps the prefix whole and cuts the old message's tail. */
static void
test_prefix_on_full_message(void **state)
{
	(void)state;
	struct diag d;
	char big[DIAG_MSG_MAX + 100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	diag_set(&d, DIAG_INVALID, "%s", big);
	assert_int_equal(diag_prefix(&d, "f.csv:%d", 7), -1);
	assert_int_equal(strlen(d.msg), DIAG_MSG_MAX - 1);
	assert_memory_equal(d.msg, "f.csv:7: aaa", 12);
	assert_int_equal(d.code, DIAG_INVALID);

	/* A prefix longer than the buffer is cut too, never overflowing it. */
	diag_set(&d, DIAG_IO, "tail");
	assert_int_equal(diag_prefix(&d, "%s", big), -1);
	assert_int_equal(strlen(d.msg), DIAG_MSG_MAX - 1);
	assert_int_equal(d.msg[0], 'a');
}

static int seen_level;
static char seen_msg[64];

static void
sink(void *ud, int level, const char *msg)
{
	*(int *)ud += 1;
	seen_level = level;
	snprintf(seen_msg, sizeof(seen_msg), "%s", msg);
}

static void
test_log_sink(void **state)
{
	(void)state;
	int calls = 0;
	tlog(TLOG_INFO, "dropped");
	tlog_set_handler(sink, &calls);
	tlog(TLOG_WARN, "n=%d", 7);
	assert_int_equal(calls, 1);
	assert_int_equal(seen_level, TLOG_WARN);
	assert_string_equal(seen_msg, "n=7");
	tlog_set_handler(NULL, NULL);
	tlog(TLOG_WARN, "dropped");
	assert_int_equal(calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_prefix),
		cmocka_unit_test(test_truncates_long_messages),
		cmocka_unit_test(test_prefix_on_full_message),
		cmocka_unit_test(test_log_sink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

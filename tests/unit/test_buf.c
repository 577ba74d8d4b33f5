/* Unit tests for base/buf: the growable byte buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void
test_empty(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_null(buf_release(&b));
	buf_fini(&b); /* twice, and on an empty buffer: harmless */
	buf_fini(&b);
	struct buf z = {0};
	buf_fini(&z);
}

static void
test_append_grows_past_capacity(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	char expect[10000];
	for (int i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);
		expect[i] = c;
		assert_int_equal(buf_putc(&b, c, &d), 0);
		assert_int_equal(b.len, (size_t)i + 1);
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_memory_equal(b.data, expect, sizeof(expect));
	size_t cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, cap); /* memory kept */
	buf_fini(&b);
}

static void
test_binary_and_strings(void **state)
{
	(void)state;
	struct buf b = {0};
	struct diag d;
	const char bin[] = {'x', '\0', 'y'};
	assert_int_equal(buf_append(&b, bin, 3, &d), 0);
	assert_int_equal(buf_puts(&b, "zz", &d), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "x\0yzz", 6);
	assert_int_equal(buf_append(&b, NULL, 0, &d), 0);
	assert_int_equal(b.len, 5);
	char *s = buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_memory_equal(s, "x\0yzz", 6);
	free(s);
}

static void
test_printf(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	assert_int_equal(buf_printf(&b, &d, "%s:%d", "people.csv", 12), 0);
	assert_string_equal(b.data, "people.csv:12");
	/* Longer than the room left: measured, grown, printed again. */
	char big[3000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, &d, " [%s] %05.1f", big, 2.25), 0);
	assert_int_equal(b.len, strlen("people.csv:12") + 3 + 3000 - 1 + 6);
	assert_memory_equal(b.data + b.len - 6, " 002.2", 6);
	assert_int_equal(strlen(b.data), b.len);
	/* Exactly filling the room, then one more. */
	buf_reset(&b);
	size_t room = b.cap - 1;
	char fill[8192];
	assert_true(room < sizeof(fill));
	memset(fill, 'f', room);
	fill[room] = '\0';
	assert_int_equal(buf_printf(&b, &d, "%s", fill), 0);
	assert_int_equal(b.len, room);
	assert_int_equal(buf_printf(&b, &d, "%c", '!'), 0);
	assert_int_equal(b.len, room + 1);
	assert_int_equal(b.data[room], '!');
	assert_int_equal(b.data[room + 1], '\0');
	buf_fini(&b);
}

static void
test_reserve(void **state)
{
	(void)state;
	struct buf b = {0};
	struct diag d;
	assert_int_equal(buf_reserve(&b, 1000, &d), 0);
	assert_true(b.cap >= 1001);
	char *before = b.data;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_putc(&b, 'r', &d), 0);
	assert_ptr_equal(b.data, before); /* no move within the reserved room */
	diag_clear(&d);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 2, &d), -1);
	assert_int_equal(d.code, DIAG_NOMEM);
	assert_int_equal(b.len, 1000); /* unchanged by the failure */
	assert_ptr_equal(b.data, before);
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append_grows_past_capacity),
		cmocka_unit_test(test_binary_and_strings),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

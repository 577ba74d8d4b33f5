/* Unit tests for base/clock: the real clock, the virtual clock, UTC formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"

static void
test_real(void **state)
{
	(void)state;
	const struct clock *c = clock_real();
	assert_non_null(c);
	assert_ptr_equal(clock_real(), c);
	time_t a = time(NULL);
	time_t n = clock_now(c);
	time_t b = time(NULL);
	/* time() reads the coarse clock, which may trail CLOCK_REALTIME by a tick: allow a second. */
	assert_true(a <= n && n <= b + 1);
	assert_true(clock_now(NULL) >= n);
	int64_t m1 = clock_mono_ms(c);
	int64_t m2 = clock_mono_ms(NULL);
	assert_true(m2 >= m1);
}

static void
test_virtual_advance(void **state)
{
	(void)state;
	struct clock c;
	clock_virtual_init(&c, 1795000000); /* 2026-11-18 */
	assert_int_equal(clock_now(&c), 1795000000);
	assert_int_equal(clock_mono_ms(&c), 0);
	/* Reading does not move it. */
	assert_int_equal(clock_now(&c), 1795000000);
	clock_virtual_advance(&c, 1500);
	assert_int_equal(clock_now(&c), 1795000001);
	assert_int_equal(clock_mono_ms(&c), 1500);
	clock_virtual_advance(&c, 500); /* the milliseconds carry into the seconds */
	assert_int_equal(clock_now(&c), 1795000002);
	assert_int_equal(clock_mono_ms(&c), 2000);
	/* Six months in one step. */
	clock_virtual_advance(&c, (int64_t)183 * 86400 * 1000);
	assert_int_equal(clock_now(&c), 1795000002 + 183 * 86400);
	assert_int_equal(clock_mono_ms(&c), 2000 + (int64_t)183 * 86400 * 1000);
	/* Backwards is refused: monotonic time never runs back. */
	clock_virtual_advance(&c, -5000);
	assert_int_equal(clock_mono_ms(&c), 2000 + (int64_t)183 * 86400 * 1000);
}

static void
test_virtual_set(void **state)
{
	(void)state;
	struct clock c;
	clock_virtual_init(&c, 1000);
	clock_virtual_advance(&c, 250);
	clock_virtual_set(&c, 500); /* the wall clock jumps back; monotonic time does not */
	assert_int_equal(clock_now(&c), 500);
	assert_int_equal(clock_mono_ms(&c), 250);
	clock_virtual_set(&c, -1); /* before 1970 */
	assert_int_equal(clock_now(&c), -1);
	clock_virtual_advance(&c, 400);
	assert_int_equal(clock_now(&c), -1); /* -600 ms is still in second -1 */
	clock_virtual_advance(&c, 600);
	assert_int_equal(clock_now(&c), 0);
}

static void
test_format_utc(void **state)
{
	(void)state;
	char buf[CLOCK_UTC_MAX];
	assert_int_equal(clock_format_utc(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(clock_format_utc(1795356000, buf), 0);
	assert_string_equal(buf, "2026-11-22T14:00:00Z");
	assert_int_equal(clock_format_utc(951782400, buf), 0); /* a leap day */
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
	struct clock c;
	clock_virtual_init(&c, 1795356000);
	assert_int_equal(clock_format_utc(clock_now(&c), buf), 0);
	assert_string_equal(buf, "2026-11-22T14:00:00Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_virtual_advance),
		cmocka_unit_test(test_virtual_set),
		cmocka_unit_test(test_format_utc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

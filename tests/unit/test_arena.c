/* Unit tests for base/arena: stable pointers, alignment, big requests, zeroed memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"

static void
test_strings_stay_put(void **state)
{
	(void)state;
	struct arena a;
	struct diag d;
	arena_init(&a, 0); /* raised to the 4 KiB minimum */
	assert_int_equal(a.block, 4096);
	assert_int_equal(a.total, 0);
	char *s[3000];
	for (int i = 0; i < 3000; i++) {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "person-%d", i);
		s[i] = arena_strndup(&a, tmp, (size_t)n, &d);
		assert_non_null(s[i]);
	}
	assert_true(a.total > 4096); /* several blocks */
	for (int i = 0; i < 3000; i++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "person-%d", i);
		assert_string_equal(s[i], tmp); /* never moved, never overwritten */
	}
	assert_string_equal(arena_strndup(&a, "abcdef", 3, &d), "abc");
	assert_string_equal(arena_strdup(&a, "", &d), "");
	arena_fini(&a);
	assert_null(a.head);
	assert_int_equal(a.total, 0);
}

static void
test_alignment_and_zeroes(void **state)
{
	(void)state;
	struct arena a;
	struct diag d;
	arena_init(&a, 4096);
	for (int i = 0; i < 500; i++) {
		char *t = arena_alloc_text(&a, (size_t)(i % 7) + 1, &d); /* knock the fill level off 8 */
		assert_non_null(t);
		int64_t *p = arena_alloc(&a, 3 * sizeof(int64_t), &d);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		assert_int_equal(p[0] | p[1] | p[2], 0);
		p[0] = p[1] = p[2] = -1;
	}
	arena_fini(&a);
}

static void
test_big_requests_and_reserve(void **state)
{
	(void)state;
	struct arena a;
	struct diag d;
	arena_init(&a, 8192);
	char *small = arena_strdup(&a, "small", &d);
	/* Larger than a block: a block of its own, from pages_alloc (over 1 MiB). */
	unsigned char *big = arena_alloc(&a, (size_t)3 << 20, &d);
	assert_non_null(big);
	assert_int_equal(big[0] | big[(3 << 20) - 1], 0);
	memset(big, 0xab, (size_t)3 << 20);
	assert_string_equal(small, "small");
	/* Reserve: the next 100 KiB come from one block, with no new block on the way. */
	assert_int_equal(arena_reserve(&a, 100 * 1024, &d), 0);
	size_t total = a.total;
	char *first = arena_alloc_text(&a, 1, &d);
	char *last = NULL;
	for (int i = 1; i < 100 * 1024; i++)
		last = arena_alloc_text(&a, 1, &d);
	assert_int_equal(a.total, total);
	assert_ptr_equal(last, first + 100 * 1024 - 1);
	arena_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_stay_put),
		cmocka_unit_test(test_alignment_and_zeroes),
		cmocka_unit_test(test_big_requests_and_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

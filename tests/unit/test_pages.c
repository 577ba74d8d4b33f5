/* Unit tests for base/pages: large zeroed blocks from the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/pages.h"

static void
test_alloc_zeroed_aligned(void **state)
{
	(void)state;
	const size_t sizes[] = {1, 4096, 100000, (size_t)2 << 20, ((size_t)5 << 20) + 123};
	long page = sysconf(_SC_PAGESIZE);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned char *p = pages_alloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % (uintptr_t)page, 0);
		for (size_t i = 0; i < n; i += 4093)
			assert_int_equal(p[i], 0);
		assert_int_equal(p[n - 1], 0);
		memset(p, 0x5a, n); /* all of it is writable */
		pages_free(p, n);
	}
	assert_null(pages_alloc(0));
	pages_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_aligned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

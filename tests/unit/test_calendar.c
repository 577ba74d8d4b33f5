/* Unit tests for core/sched/calendar's UID domain: ASCII names keep the form existing UIDs
 * have; names with non-ASCII letters get a hash of the whole name, so they stay distinct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched/calendar.h"

static void
test_ascii_names_unchanged(void **state)
{
	(void)state;
	char out[CALENDAR_DOMAIN_MAX];
	calendar_domain("Acme Corp.", out);
	assert_string_equal(out, "acme-corp");
	calendar_domain("R&D; 42", out);
	assert_string_equal(out, "r-d-42");
	calendar_domain(NULL, out);
	assert_string_equal(out, "tandem.local");
	calendar_domain("", out);
	assert_string_equal(out, "tandem.local");
	calendar_domain("...", out);
	assert_string_equal(out, "tandem.local");
}

static void
test_non_ascii_names_stay_distinct(void **state)
{
	(void)state;
	char a[CALENDAR_DOMAIN_MAX], b[CALENDAR_DOMAIN_MAX], c[CALENDAR_DOMAIN_MAX];
	calendar_domain("Ünïcode, Inc.; R&D", a);
	calendar_domain("Ònïcode, Inc.; R&D", b);
	calendar_domain("Ünïcode, Inc.; R&D", c);
	assert_int_equal(strncmp(a, "n-code-inc-r-d-", 15), 0);
	assert_int_equal(strlen(a), 15 + 8);
	assert_string_not_equal(a, b);
	assert_string_equal(a, c); /* stable */
	for (const char *p = a; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
	/* Only non-ASCII letters: a name of its own, not tandem.local. */
	calendar_domain("東京", a);
	calendar_domain("大阪", b);
	assert_int_equal(strncmp(a, "org-", 4), 0);
	assert_string_not_equal(a, b);
	/* A long name still ends with its hash, within the bound. */
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	memcpy(longname + 200, "é", 2);
	longname[299] = '\0';
	calendar_domain(longname, a);
	assert_true(strlen(a) == CALENDAR_DOMAIN_MAX - 1);
	assert_int_equal(a[CALENDAR_DOMAIN_MAX - 10], '-');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_names_unchanged),
		cmocka_unit_test(test_non_ascii_names_stay_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/base/evkind: the closed list of event kinds, against the table of
 * docs/plugin-api.md "Events" (every kind there is known, and every known kind is there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/evkind.h"

static void
test_known_and_custom(void **state)
{
	(void)state;
	assert_true(evkind_known("session.cancelled"));
	assert_true(evkind_known("report.failed"));
	assert_false(evkind_known("session.canceled"));
	assert_false(evkind_known("custom.digest"));
	assert_false(evkind_known(NULL));
	assert_true(evkind_custom("custom.digest"));
	assert_true(evkind_custom("custom.a.b_2"));
	assert_false(evkind_custom("custom."));
	assert_false(evkind_custom("custom.x."));
	assert_false(evkind_custom("custom.X"));
	assert_false(evkind_custom("session.held"));
	char big[120];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "custom.", 7);
	big[sizeof(big) - 1] = '\0';
	assert_false(evkind_custom(big));
}

static void
test_list(void **state)
{
	(void)state;
	char buf[800];
	evkind_list(buf, sizeof(buf));
	assert_non_null(strstr(buf, "people.imported, "));
	assert_non_null(strstr(buf, ", token.revoked, custom.*"));
	char small[20];
	evkind_list(small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	evkind_list(small, 0); /* nothing written, no crash */
}

/* Each "| `kind`[, `kind`...] |" row of the Events table is in the list, and the list
 * holds nothing else. */
static void
test_matches_docs(void **state)
{
	(void)state;
	const char *src = getenv("TANDEM_SRCDIR");
	if (src == NULL)
		skip();
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/plugin-api.md", src);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	int in = 0, seen[128] = {0}, n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "## ", 3) == 0)
			in = strcmp(line, "## Events\n") == 0;
		if (!in || strncmp(line, "| `", 3) != 0)
			continue;
		char *end = strstr(line + 2, " |");
		assert_non_null(end);
		*end = '\0';
		for (char *p = strchr(line, '`'); p; p = strchr(p, '`')) {
			char *q = strchr(p + 1, '`');
			assert_non_null(q);
			*q = '\0';
			if (strcmp(p + 1, "custom.*") != 0) {
				int k = 0;
				while (evkind_all[k] && strcmp(evkind_all[k], p + 1) != 0)
					k++;
				if (evkind_all[k] == NULL)
					fail_msg("docs kind '%s' is not in evkind_all", p + 1);
				seen[k] = 1;
				n++;
			}
			p = q + 1;
		}
	}
	fclose(f);
	assert_true(n > 20);
	for (int k = 0; evkind_all[k]; k++)
		if (!seen[k])
			fail_msg("'%s' is not in docs/plugin-api.md \"Events\"", evkind_all[k]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_and_custom),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_matches_docs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for privacy/scrub: each spelling tandem writes a name and an e-mail in (as is,
 * HTML, Markdown, iCalendar text, each inside a JSON string) is found and replaced, across a
 * line fold, as a whole word only; text without them is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privacy/scrub.h"

/* text scrubbed of name and email: the result, or the text itself when nothing matched. */
static char *
scrubbed(const char *name, const char *email, const char *text, long *count)
{
	struct scrub s;
	struct diag d;
	assert_int_equal(scrub_init(&s, name, email, &d), 0);
	char *out = NULL;
	size_t len = 0;
	*count = scrub_text(&s, text, strlen(text), &out, &len, &d);
	assert_true(*count >= 0);
	assert_int_equal(scrub_found(&s, text, strlen(text)), *count > 0);
	scrub_fini(&s);
	if (out == NULL)
		out = strdup(text);
	assert_int_equal(strlen(out), *count > 0 ? len : strlen(text));
	return out;
}

static void
check(const char *name, const char *email, const char *text, const char *want, long n)
{
	long count = 0;
	char *got = scrubbed(name, email, text, &count);
	assert_string_equal(got, want);
	assert_int_equal(count, n);
	free(got);
}

static void
test_spellings(void **state)
{
	(void)state;
	const char *n = "Zoë O'Brien & Co", *e = "zoe.obrien@example.com";
	check(n, e, "pair: Zoë O'Brien & Co / x", "pair: (erased) / x", 1);
	check(n, e, "<td>Zoë O&#39;Brien &amp; Co</td>", "<td>(erased)</td>", 1);
	check(n, e, "| Zoë O'Brien \\& Co |", "| (erased) |", 1);
	check(n, e, "To: <zoe.obrien@example.com>, zoe.obrien@example.com.", "To: <(erased)>, (erased).", 2);
	check("Jaber, Zainab", NULL, "SUMMARY:Mentoring: A & Jaber\\, Zainab", "SUMMARY:Mentoring: A & (erased)", 1);
	check("Ann \"Q\" Lee", NULL, "{\"content\":\"<b>Ann &quot;Q&quot; Lee</b> and Ann \\\"Q\\\" Lee\"}",
	      "{\"content\":\"<b>(erased)</b> and (erased)\"}", 2);
}

static void
test_folds(void **state)
{
	(void)state;
	/* An .ics or header line folded inside the name or address, as is and in JSON. */
	check("Zainab Jaber", "zainab.jaber@example.com",
	      "ATTENDEE;CN=Zainab Ja\r\n ber:mailto:zainab.jaber@exam\r\n ple.com\r\n",
	      "ATTENDEE;CN=(erased):mailto:(erased)\r\n", 2);
	check("Zainab Jaber", NULL, "\"SUMMARY:Zainab\\r\\n  Jaber\"", "\"SUMMARY:(erased)\"", 1);
	/* After a JSON or .ics escape such as \n the name starts a word. */
	check("Zainab Jaber", NULL, "\"a\\nZainab Jaber\\n\"", "\"a\\n(erased)\\n\"", 1);
}

static void
test_whole_words(void **state)
{
	(void)state;
	check("Al", NULL, "Also Al, and Alan; Al", "Also (erased), and Alan; (erased)", 2);
	check("Zoë", NULL, "Zoëlle", "Zoëlle", 0);
	check("Bo", "bo@x.io", "nothing here", "nothing here", 0);
	check("X", NULL, "X marks", "X marks", 0); /* shorter than 2 bytes: never matched */
	check(NULL, NULL, "text", "text", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_folds),
		cmocka_unit_test(test_whole_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

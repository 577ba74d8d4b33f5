/*
 * fuzz_rrule: recurrence rules (time/rrule.h) and availability text (time/slots.h) on
 * arbitrary input.
 *
 * The input is split at its first newline: before it, a rule; after it, an availability
 * list. Checked:
 *  - rrule_parse either refuses with DIAG_INVALID and a message about the rule, or gives a
 *    rule whose canonical text parses again to the same text;
 *  - rrule_expand of a parsed rule from a start picked by the input, over 70 days in one
 *    of four zones (New York, London, Lord Howe, Kolkata), succeeds or fails with a
 *    message, and gives sorted unique instants inside the window, at most the asked
 *    number; libFuzzer's -timeout catches a search that does not stop;
 *  - slots_parse refuses with DIAG_INVALID or gives a bit set of the 21 slots.
 */
#include "fuzz.h"

#include "time/cal.h"
#include "time/rrule.h"
#include "time/slots.h"

static const char *const zones[] = {"America/New_York", "Europe/London", "Australia/Lord_Howe",
				    "Asia/Kolkata"};

static void
check_expand(const struct rrule *r, const uint8_t *data, size_t size)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	struct cal_time start = {2024 + (int)(h % 4), 1 + (int)(h / 4 % 12), 1 + (int)(h / 48 % 28),
				 (int)(h / 1344 % 24), (int)(h / 32256 % 4) * 15, 0};
	const char *zone = zones[h / 129024 % 4];
	time_t from = (time_t)cal_to_epoch(&start) + (time_t)(h % 97) * 86400 - 10 * 86400;
	time_t until = from + 70 * 86400;
	size_t max = 1 + h % 500;
	time_t *t = NULL;
	size_t n = 0;
	struct diag d = {0};
	if (rrule_expand(r, &start, zone, from, until, max, &t, &n, &d) != 0) {
		FUZZ_CHECK_MSG(d.msg[0] != '\0' && t == NULL && n == 0, d.msg);
		return;
	}
	FUZZ_CHECK(n <= max);
	FUZZ_CHECK((n == 0) == (t == NULL));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(t[i] >= from && t[i] < until);
		FUZZ_CHECK(i == 0 || t[i - 1] < t[i]);
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	char *avail = strchr(text, '\n');
	if (avail != NULL)
		*avail++ = '\0';

	struct diag d = {0};
	struct rrule *r = rrule_parse(text, &d);
	if (r == NULL) {
		FUZZ_CHECK_MSG(d.code == DIAG_INVALID, d.msg);
		FUZZ_CHECK_MSG(strncmp(d.msg, "rule '", 6) == 0 || strncmp(d.msg, "empty rule", 10) == 0,
			       d.msg);
	} else {
		struct rrule *again = rrule_parse(rrule_text(r), &d);
		FUZZ_CHECK_MSG(again != NULL, d.msg);
		FUZZ_CHECK_MSG(strcmp(rrule_text(again), rrule_text(r)) == 0, rrule_text(r));
		FUZZ_CHECK(rrule_open(again) == rrule_open(r));
		rrule_delete(again);
		check_expand(r, data, size);
		rrule_delete(r);
	}

	if (avail != NULL) {
		unsigned mask = 0;
		if (slots_parse(avail, &mask, &d) != 0)
			FUZZ_CHECK_MSG(d.code == DIAG_INVALID, d.msg);
		else
			FUZZ_CHECK(mask < 1u << 21);
	}
	free(text);
	return 0;
}

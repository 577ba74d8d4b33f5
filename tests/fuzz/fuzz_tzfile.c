/*
 * fuzz_tzfile: TZif files and POSIX TZ rule strings (time/tzfile.h) on arbitrary input.
 *
 * An input starting with "TZif" is a zone file for tzfile_parse; any other is a rule string
 * for tzfile_from_rule (up to its first NUL). Checked:
 *  - a refusal is DIAG_INVALID (or DIAG_NOMEM) with a message naming the file or the rule;
 *    ASan sees any read outside the input;
 *  - an accepted zone answers at instants picked by the input (1800 to 2200 and the far
 *    ends): an offset within RFC 8536's range, isdst 0 or 1, an abbreviation that is a
 *    string, and an "until" after the instant; walking 40 pieces from there moves forward;
 *  - the zone's offsets list holds every offset the walk saw.
 */
#include "fuzz.h"

#include "time/tzfile.h"

static void
check_zone(const struct tzfile *z, const uint8_t *data, size_t size)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	int32_t offs[300];
	size_t noffs = tzfile_offsets(z, offs, 300);
	int64_t starts[] = {-5364662400LL + (int64_t)(h % 12623000) * 1000, INT64_MIN / 4,
			    INT64_MAX / 4, 0};
	for (int s = 0; s < 4; s++) {
		int64_t t = starts[s];
		for (int k = 0; k < 40; k++) {
			struct tzfile_info in;
			int64_t until;
			tzfile_lookup(z, t, &in, &until);
			FUZZ_CHECK(in.utoff >= -89999 && in.utoff <= 93599);
			FUZZ_CHECK(in.isdst == 0 || in.isdst == 1);
			FUZZ_CHECK(in.abbr != NULL && strlen(in.abbr) < 256);
			FUZZ_CHECK(until > t);
			size_t j = 0;
			while (j < noffs && offs[j] != in.utoff)
				j++;
			FUZZ_CHECK(j < noffs);
			if (until == INT64_MAX || until > INT64_MAX / 2)
				break;
			t = until;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = {0};
	struct tzfile *z;
	if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
		z = tzfile_parse(data, size, "fuzz", &d);
		if (z == NULL)
			FUZZ_CHECK_MSG((d.code == DIAG_INVALID || d.code == DIAG_NOMEM) &&
					       strncmp(d.msg, "zone file fuzz: ", 16) == 0,
				       d.msg);
	} else {
		char *text = malloc(size + 1);
		FUZZ_CHECK(text != NULL);
		memcpy(text, data, size);
		text[size] = '\0';
		z = tzfile_from_rule(text, &d);
		if (z == NULL)
			FUZZ_CHECK_MSG(d.code == DIAG_INVALID && strncmp(d.msg, "zone rule \"", 11) == 0,
				       d.msg);
		free(text);
	}
	if (z != NULL)
		check_zone(z, data, size);
	tzfile_free(z);
	return 0;
}

/*
 * crash: deterministic crash points (see crash.h for the contract).
 *
 * Counting per name needs a table; the names are a handful of string literals
 * (one per step boundary in the core), so a small fixed array searched by
 * strcmp is enough. A name beyond the table's room is still counted in the total
 * and still matched by a bare NAME (its first time), only NAME:K stops working
 * for it, which no test relies on.
 */
#include "base/crash.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"

enum { CRASH_NAMES = 32 };

static long crash_total;
static struct {
	const char *name;
	long count;
} crash_names[CRASH_NAMES];

/* How many times `name` has been reached, this time included. */
static long
count_name(const char *name)
{
	for (int i = 0; i < CRASH_NAMES; i++) {
		if (crash_names[i].name == NULL) {
			crash_names[i].name = name;
			crash_names[i].count = 1;
			return 1;
		}
		if (strcmp(crash_names[i].name, name) == 0)
			return ++crash_names[i].count;
	}
	return 1;
}

/* A positive decimal number filling all of s, else 0. */
static long
parse_count(const char *s)
{
	if (*s == '\0')
		return 0;
	long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static int
selected(const char *spec, const char *name, long total, long this_name)
{
	long n = parse_count(spec);
	if (n > 0)
		return n == total;
	size_t len = strlen(name);
	if (strncmp(spec, name, len) != 0)
		return 0;
	if (spec[len] == '\0')
		return this_name == 1;
	if (spec[len] == ':')
		return parse_count(spec + len + 1) == this_name;
	return 0;
}

void
crash_point(const char *name)
{
	long total = ++crash_total;
	long this_name = count_name(name);
	const char *spec = getenv("TANDEM_CRASH_AT");
	if (spec == NULL || *spec == '\0')
		return;
	if (!selected(spec, name, total, this_name))
		return;
	tlog(TLOG_WARN, "crash point %s reached (TANDEM_CRASH_AT=%s)", name, spec);
	_exit(137);
}

long
crash_count(void)
{
	return crash_total;
}

void
crash_reset(void)
{
	crash_total = 0;
	memset(crash_names, 0, sizeof(crash_names));
}

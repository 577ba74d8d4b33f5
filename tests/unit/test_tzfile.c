/*
 * Unit tests for time/tzfile: TZif parsing (real files, hostile ones), POSIX TZ rule
 * strings, the cache, and a property test of the whole conversion (time/tz over tzfile)
 * against glibc's localtime_r under setenv("TZ") (single-threaded, in this test only) for
 * over 60 zones, random instants 1901-2100 and every change +-1 s; local -> UTC against a
 * brute-force search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "time/cal.h"
#include "time/tz.h"
#include "time/tzfile.h"

static unsigned char *
slurp(const char *zone, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void
test_parse_real(void **state)
{
	(void)state;
	struct diag d;
	const struct tzfile *z = tzfile_get("Europe/Paris", &d);
	assert_non_null(z);
	assert_ptr_equal(tzfile_get("Europe/Paris", &d), z); /* cached: the same zone */
	assert_string_equal(tzfile_footer(z), "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_true(tzfile_transitions(z) > 100);
	struct tzfile_info in;
	int64_t until;
	tzfile_lookup(z, 1784023200, &in, &until); /* 2026-07-14T10:00Z */
	assert_int_equal(in.utoff, 7200);
	assert_int_equal(in.isdst, 1);
	assert_string_equal(in.abbr, "CEST");
	assert_int_equal(until, 1792890000); /* 2026-10-25T01:00Z */
	tzfile_lookup(z, -3000000000LL, &in, NULL); /* 1874: local mean time, type 0 */
	assert_int_equal(in.utoff, 561);
	assert_string_equal(in.abbr, "LMT");
	int32_t offs[16];
	size_t n = tzfile_offsets(z, offs, 16);
	assert_true(n >= 4);
	/* Unsafe or unknown names. */
	assert_null(tzfile_get("../etc/passwd", &d));
	assert_int_equal(d.code, DIAG_INVALID);
	assert_null(tzfile_get("Europe/Nowhere", &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_null(tzfile_get("right/Europe/Paris", &d));
}

static void
test_rules(void **state)
{
	(void)state;
	struct diag d;
	const char *good[] = {"CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30", "IST-5:30", "EST5EDT",
			      "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "IST-2IDT,M3.4.4/26,M10.5.0",
			      "EST5EDT4,0/0,J365/25", "AAA3BBB,J60/2,J300/2:30:15", "AAA3BBB,59,299",
			      "NST3:30NDT,M3.2.0,M11.1.0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
			      "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3", "IST-1GMT0,M10.5.0,M3.5.0/1"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct tzfile *z = tzfile_from_rule(good[i], &d);
		if (z == NULL)
			fail_msg("'%s' refused: %s", good[i], d.msg);
		tzfile_free(z);
	}
	const char *bad[] = {"", "CE-1", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
			     "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-25",
			     "CET-1CEST,J0,J365", "CET-1CEST,366,1", "CET-1CEST,1/168,2", "<+03",
			     "<+3>-3", "CET-1:60", "CET-1CEST,1,2x", "CET1234", "CET-1CEST,M3.5.0/,1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tzfile *z = tzfile_from_rule(bad[i], &d);
		if (z != NULL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(d.code, DIAG_INVALID);
	}
	/* Rules against glibc reading the same strings (names no zone file has), from 1971:
	 * glibc counts the changes of any year before 1971 from 1970-01-01 (a quirk no TZif
	 * file meets, their footers apply from their last transition, years later). */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (strcmp(good[i], "EST5EDT") == 0)
			continue; /* a file of that name exists; glibc would read it */
		struct tzfile *z = tzfile_from_rule(good[i], &d);
		setenv("TZ", good[i], 1);
		tzset();
		for (int64_t t = 31536000; t < 4200000000LL; t += 86400 * 3 + 3607) {
			time_t tt = (time_t)t;
			struct tm g;
			struct tzfile_info in;
			assert_non_null(localtime_r(&tt, &g));
			tzfile_lookup(z, t, &in, NULL);
			if (g.tm_gmtoff != in.utoff || g.tm_isdst != in.isdst ||
			    strcmp(g.tm_zone, in.abbr) != 0)
				fail_msg("%s at %lld: glibc %ld %d %s, tzfile %d %d %s", good[i],
					 (long long)t, g.tm_gmtoff, g.tm_isdst, g.tm_zone, in.utoff,
					 in.isdst, in.abbr);
		}
		tzfile_free(z);
	}
	unsetenv("TZ");
	tzset();
}

/* The fuzz seeds: hand-made files of each version (tests/fuzz/corpus/tzfile/). */
static struct tzfile *
seed(const char *name)
{
	const char *src = getenv("TANDEM_SRCDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/tzfile/%s", src ? src : ".", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s: cannot open", path);
	unsigned char buf[4096];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct diag d;
	struct tzfile *z = tzfile_parse(buf, len, name, &d);
	if (z == NULL)
		fail_msg("%s", d.msg);
	return z;
}

static void
test_versions(void **state)
{
	(void)state;
	struct tzfile_info in;
	int64_t until;
	struct tzfile *z = seed("v1-two-types"); /* 32-bit data only, no footer */
	tzfile_lookup(z, -5000000, &in, &until);
	assert_int_equal(in.utoff, 3600);
	assert_string_equal(in.abbr, "AAA");
	assert_int_equal(until, -1000000);
	tzfile_lookup(z, -1, &in, &until);
	assert_int_equal(in.utoff, 7200);
	assert_int_equal(in.isdst, 1);
	assert_string_equal(in.abbr, "BBB");
	assert_int_equal(until, 0);
	tzfile_lookup(z, 5000000000LL, &in, &until); /* after the last: its type, for ever */
	assert_string_equal(in.abbr, "BBB");
	assert_true(until == INT64_MAX);
	assert_string_equal(tzfile_footer(z), "");
	tzfile_free(z);
	z = seed("v2-footer"); /* after the last transition, the footer's rule */
	tzfile_lookup(z, 1784023200, &in, NULL);
	assert_string_equal(in.abbr, "CEST");
	tzfile_lookup(z, 1767225600, &in, NULL);
	assert_string_equal(in.abbr, "CET");
	tzfile_lookup(z, -2100000000, &in, NULL);
	assert_string_equal(in.abbr, "LMT");
	tzfile_free(z);
	z = seed("v3-negative"); /* Nuuk's rule: changes at -01:00 and -02:00 local */
	tzfile_lookup(z, 1774746000 - 1, &in, &until); /* 2026-03-29T01:00Z - 1 s */
	assert_string_equal(in.abbr, "-03");
	assert_int_equal(until, 1774746000);
	tzfile_lookup(z, 1774746000, &in, NULL);
	assert_string_equal(in.abbr, "-02");
	tzfile_free(z);
	z = seed("v4-leap"); /* leap records read past; no transitions, empty footer */
	tzfile_lookup(z, 1000000000, &in, &until);
	assert_int_equal(in.utoff, 0);
	assert_string_equal(in.abbr, "UTC");
	tzfile_free(z);
}

/* Every shorter prefix of a real file, and single-byte corruptions, are refused or parsed
 * without reading out of bounds (ASan watches); the full file parses. */
static void
test_hostile(void **state)
{
	(void)state;
	struct diag d;
	size_t len;
	unsigned char *buf = slurp("America/Sao_Paulo", &len);
	struct tzfile *z = tzfile_parse(buf, len, "Sao_Paulo", &d);
	assert_non_null(z);
	tzfile_free(z);
	for (size_t n = 0; n < len - 1; n++) {
		unsigned char *cut = malloc(n ? n : 1);
		memcpy(cut, buf, n);
		z = tzfile_parse(cut, n, "cut", &d);
		if (z != NULL)
			fail_msg("a %zu-byte prefix of %zu accepted", n, len);
		assert_int_equal(d.code, DIAG_INVALID);
		assert_non_null(strstr(d.msg, "zone file cut: "));
		free(cut);
	}
	/* Each header count (both headers) set to large and odd values. */
	size_t v1 = 0;
	{
		uint32_t c[6];
		for (int i = 0; i < 6; i++)
			c[i] = (uint32_t)buf[20 + 4 * i] << 24 | (uint32_t)buf[21 + 4 * i] << 16 |
			       (uint32_t)buf[22 + 4 * i] << 8 | buf[23 + 4 * i];
		v1 = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
	}
	const uint32_t vals[] = {0, 1, 255, 256, 257, 65535, 0x7fffffff, 0xffffffff};
	for (int h = 0; h < 2; h++)
		for (int f = 0; f < 6; f++)
			for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
				unsigned char *m = malloc(len);
				memcpy(m, buf, len);
				unsigned char *p = m + (h ? v1 : 0) + 20 + 4 * f;
				p[0] = vals[v] >> 24, p[1] = vals[v] >> 16, p[2] = vals[v] >> 8;
				p[3] = (unsigned char)vals[v];
				tzfile_free(tzfile_parse(m, len, "m", &d));
				free(m);
			}
	/* Every byte flipped in turn: refused, or a zone that answers. */
	for (size_t i = 0; i < len; i++) {
		unsigned char *m = malloc(len);
		memcpy(m, buf, len);
		m[i] ^= 0xa5;
		z = tzfile_parse(m, len, "m", &d);
		if (z != NULL) {
			struct tzfile_info in;
			tzfile_lookup(z, 0, &in, NULL);
			tzfile_lookup(z, 4000000000LL, &in, NULL);
			assert_non_null(in.abbr);
		}
		tzfile_free(z);
		free(m);
	}
	/* Named faults. */
	unsigned char *m = malloc(len);
	memcpy(m, buf, len);
	m[4] = 'x';
	assert_null(tzfile_parse(m, len, "m", &d));
	assert_non_null(strstr(d.msg, "version"));
	memcpy(m, buf, len);
	m[v1 + 36] = m[v1 + 37] = m[v1 + 38] = m[v1 + 39] = 0;
	assert_null(tzfile_parse(m, len, "m", &d));
	assert_non_null(strstr(d.msg, "typecnt"));
	memcpy(m, buf, len);
	m[len - 1] = 'x'; /* the footer's closing newline */
	assert_null(tzfile_parse(m, len, "m", &d));
	assert_non_null(strstr(d.msg, "footer"));
	free(m);
	free(buf);
}

/* ---- the property test -------------------------------------------------------------- */

static const char *const must[] = {
	"Australia/Lord_Howe", "Asia/Kolkata",	   "America/Sao_Paulo", "Africa/Casablanca",
	"Europe/Dublin",       "Pacific/Apia",	   "America/St_Johns",	"Antarctica/Troll",
	"Europe/Paris",	       "America/New_York", "Pacific/Chatham",	"Asia/Tehran",
	"America/Nuuk",	       "Asia/Jerusalem",   "Pacific/Kiritimati", "America/Santiago",
	"Europe/Moscow",       "Asia/Kathmandu",   "Australia/Eucla",	"America/Godthab",
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct counts {
	long utc_to_local, local_to_utc, gaps;
};

static void
check_instant(const char *zone, int64_t t, struct counts *c)
{
	if (t < -2177452800LL || t >= 4102444800LL) /* 1901-01-01 .. 2100-01-01 */
		return;
	time_t tt = (time_t)t;
	struct tm g, m;
	struct diag d;
	assert_non_null(localtime_r(&tt, &g));
	assert_int_equal(tz_utc_to_local(zone, tt, &m, &d), 0);
	if (g.tm_gmtoff != m.tm_gmtoff || g.tm_isdst != m.tm_isdst || strcmp(g.tm_zone, m.tm_zone) ||
	    g.tm_year != m.tm_year || g.tm_mon != m.tm_mon || g.tm_mday != m.tm_mday ||
	    g.tm_hour != m.tm_hour || g.tm_min != m.tm_min || g.tm_sec != m.tm_sec ||
	    g.tm_wday != m.tm_wday || g.tm_yday != m.tm_yday)
		fail_msg("%s at %lld: glibc %ld %d %s %d-%d-%d %d:%d:%d w%d y%d, tz %ld %d %s "
			 "%d-%d-%d %d:%d:%d w%d y%d", zone, (long long)t, g.tm_gmtoff, g.tm_isdst,
			 g.tm_zone, g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec,
			 g.tm_wday, g.tm_yday, m.tm_gmtoff, m.tm_isdst, m.tm_zone, m.tm_year,
			 m.tm_mon, m.tm_mday, m.tm_hour, m.tm_min, m.tm_sec, m.tm_wday, m.tm_yday);
	c->utc_to_local++;
}

static long
glibc_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm g;
	assert_non_null(localtime_r(&tt, &g));
	return g.tm_gmtoff;
}

/* The brute force: the earliest instant among u - o (o every offset of the zone) that
 * glibc says shows u; none (a gap): u - the offset of the last instant whose wall time is
 * at most u, found second by second. */
static int64_t
brute_local(const int32_t *offs, size_t n, int64_t u, struct counts *c)
{
	int64_t best = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		int64_t t = u - offs[i];
		if (glibc_off(t) == offs[i] && t < best)
			best = t;
	}
	if (best != INT64_MAX)
		return best;
	c->gaps++;
	long lo = glibc_off(u);
	for (int h = -26; h <= 26; h++) {
		long o = glibc_off(u + h * 3600);
		lo = o < lo ? o : lo;
	}
	/* Down in steps of 16 s to an instant showing at most u, then up second by second to
	 * the last such instant. */
	for (int64_t t = u - lo; t > u - lo - 3 * 86400; t -= 16) {
		if (t + glibc_off(t) > u)
			continue;
		while (t + 1 + glibc_off(t + 1) <= u)
			t++;
		return u - glibc_off(t);
	}
	fail_msg("no instant found for wall %lld", (long long)u);
	return 0;
}

static void
check_wall(const char *zone, const int32_t *offs, size_t n, int64_t u, struct counts *c)
{
	if (u < -2177452800LL + 2 * 86400 || u >= 4102444800LL - 2 * 86400)
		return;
	struct cal_time w;
	cal_from_epoch(u, &w);
	struct tm tm = {.tm_year = (int)w.year - 1900, .tm_mon = w.mon - 1, .tm_mday = w.day,
			.tm_hour = w.hour, .tm_min = w.min, .tm_sec = w.sec, .tm_isdst = -1};
	time_t got;
	struct diag d;
	assert_int_equal(tz_local_to_utc(zone, &tm, &got, &d), 0);
	int64_t want = brute_local(offs, n, u, c);
	if ((int64_t)got != want)
		fail_msg("%s wall %lld: tz %lld, brute force %lld", zone, (long long)u,
			 (long long)got, (long long)want);
	c->local_to_utc++;
}

static void
check_zone(const char *zone, struct counts *c)
{
	struct diag d;
	const struct tzfile *z = tzfile_get(zone, &d);
	if (z == NULL)
		fail_msg("%s: %s", zone, d.msg);
	char tz[80];
	snprintf(tz, sizeof(tz), ":%s", zone);
	setenv("TZ", tz, 1);
	tzset();
	int32_t offs[300];
	size_t n = tzfile_offsets(z, offs, 300);
	for (int i = 0; i < 200; i++) {
		int64_t t = -2177452800LL + (int64_t)(next_rand() % 6279897600ULL);
		check_instant(zone, t, c);
		check_wall(zone, offs, n, t + glibc_off(t), c);
		check_wall(zone, offs, n, t, c);
	}
	/* Every change from 1901 to 2100 (the file's transitions and the footer rule's), walked
	 * through tzfile_lookup's pieces: the instants around it, and the wall times around
	 * both sides of it (gaps and repeated hours). */
	int64_t t = -2177452800LL;
	while (t < 4102444800LL) {
		struct tzfile_info before, after;
		int64_t until;
		tzfile_lookup(z, t, &before, &until);
		if (until == INT64_MAX)
			break;
		tzfile_lookup(z, until, &after, NULL);
		for (int k = -1; k <= 1; k++)
			check_instant(zone, until + k, c);
		if (before.utoff != after.utoff) {
			int64_t lo = until + (before.utoff < after.utoff ? before.utoff : after.utoff);
			int64_t hi = until + (before.utoff < after.utoff ? after.utoff : before.utoff);
			int64_t walls[] = {lo - 1, lo, (lo + hi) / 2, hi - 1, hi};
			for (int k = 0; k < 5; k++)
				check_wall(zone, offs, n, walls[k], c);
		}
		t = until;
	}
	/* The file's own transitions outside the walk's range, and inside it too, +-1 s. */
	for (size_t i = 0; i < tzfile_transitions(z); i++)
		for (int k = -1; k <= 1; k++)
			check_instant(zone, tzfile_transition(z, i) + k, c);
}

static void
test_against_glibc(void **state)
{
	(void)state;
	const char *zones[128];
	size_t nz = 0;
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		zones[nz++] = must[i];
	/* Then every 7th zone of zone1970.tab, to at least 60 in all. */
	static char names[128][64];
	FILE *f = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
	assert_non_null(f);
	char line[512];
	int k = 0;
	while (fgets(line, sizeof(line), f) != NULL && nz < 128) {
		char cc[64], coord[64], name[64];
		if (line[0] == '#' || sscanf(line, "%63s %63s %63s", cc, coord, name) != 3)
			continue;
		if (k++ % 7 != 3)
			continue;
		snprintf(names[nz], sizeof(names[nz]), "%s", name);
		zones[nz] = names[nz];
		nz++;
	}
	fclose(f);
	assert_true(nz >= 60);
	struct counts c = {0};
	for (size_t i = 0; i < nz; i++)
		check_zone(zones[i], &c);
	unsetenv("TZ");
	tzset();
	print_message("%zu zones: %ld instants UTC -> local, %ld wall times local -> UTC (%ld in "
		      "gaps) agree\n", nz, c.utc_to_local, c.local_to_utc, c.gaps);
	assert_true(c.utc_to_local > 20000);
	assert_true(c.gaps > 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_against_glibc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for time/ical: the document parses back with libical (and with python3's
 * icalendar, the Debian package), plain TZIDs, truncated VTIMEZONEs, folding, escaping,
 * CRLF, UTC for ambiguous wall times (either instant), refusals, and kept zones (the same
 * text as without). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libical/ical.h>

#include "base/buf.h"
#include "time/cal.h"
#include "time/ical.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct cal_time w = {y, mo, d, h, mi, 0};
	return (time_t)cal_to_epoch(&w);
}

static const char *const people[] = {"ana@example.org", "mailto:bo@example.org"};
static const char *long_desc =
	"Agenda: what surprised you this week; tools, habits, and one question, \"quoted\", "
	"with a backslash \\ and a new line\nsecond line: Caf\xc3\xa9 \xe2\x80\x93 \xc3\xbcn\xc3"
	"\xaf" "code \xe2\x9c\x93 and more text so the line is folded more than once by libical "
	"when it is written out";

static struct ical_event events[5];

static void
setup_events(void)
{
	struct ical_event e[5] = {
		{.uid = "session-1@tandem", .start = utc(2027, 3, 23, 14, 0),
		 .end = utc(2027, 3, 23, 15, 0), .zone = "Europe/Paris", .summary = "Tandem: Ana + Bo",
		 .description = long_desc, .sequence = 0, .stamp = utc(2027, 3, 1, 8, 0),
		 .organizer = "tandem@example.org", .attendees = people, .nattendees = 2},
		{.uid = "session-2@tandem", .start = utc(2027, 3, 16, 13, 0), /* 09:00 EDT */
		 .end = utc(2027, 3, 16, 13, 45), .zone = "America/New_York",
		 .summary = "Tandem, 2; ok", .sequence = 1, .stamp = utc(2027, 3, 1, 8, 0)},
		{.uid = "session-3@tandem", .start = utc(2027, 4, 1, 9, 0), .end = utc(2027, 4, 1, 10, 0),
		 .zone = NULL, .summary = "In UTC", .stamp = 0},
		{.uid = "session-4@tandem", .start = utc(2027, 11, 2, 16, 0),
		 .end = utc(2027, 11, 2, 17, 0), .zone = "Europe/Paris", .summary = "Cancelled one",
		 .sequence = 2, .cancelled = 1, .stamp = utc(2027, 10, 1, 8, 0)},
		/* 01:30 EST on 1 November 2026, the second 01:30 of that night */
		{.uid = "session-5@tandem", .start = utc(2026, 11, 1, 6, 30),
		 .end = utc(2026, 11, 1, 7, 0), .zone = "America/New_York", .summary = "Ambiguous",
		 .stamp = utc(2026, 10, 1, 0, 0)},
	};
	memcpy(events, e, sizeof(e));
}

static char *
write_doc(size_t n)
{
	struct buf b = {0};
	struct diag d = {0};
	if (ical_write(&b, "PUBLISH", events, n, &d) != 0)
		fail_msg("ical_write: %s", d.msg);
	return buf_release(&b);
}

static void
test_text_shape(void **state)
{
	(void)state;
	setup_events();
	char *doc = write_doc(5);
	/* CRLF everywhere, no line over 75 octets, folding used. */
	size_t lines = 0, folded = 0;
	for (const char *p = doc; *p;) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		assert_true(e - p <= 75);
		assert_null(memchr(p, '\n', (size_t)(e - p)));
		if (*p == ' ')
			folded++;
		lines++;
		p = e + 2;
	}
	assert_true(lines > 30);
	assert_true(folded >= 2);
	assert_non_null(strstr(doc, "METHOD:PUBLISH\r\n"));
	assert_non_null(strstr(doc, "PRODID:-//tandem//tandem//EN\r\n"));
	assert_non_null(strstr(doc, "VERSION:2.0\r\n"));
	assert_null(strstr(doc, "freeassociation"));
	assert_non_null(strstr(doc, "TZID:Europe/Paris\r\n"));
	assert_non_null(strstr(doc, "TZID:America/New_York\r\n"));
	assert_non_null(strstr(doc, "DTSTART;TZID=Europe/Paris:20270323T150000\r\n"));
	assert_non_null(strstr(doc, "DTSTART;TZID=America/New_York:20270316T090000\r\n"));
	assert_non_null(strstr(doc, "DTSTART:20270401T090000Z\r\n"));
	assert_non_null(strstr(doc, "DTSTAMP:20270401T090000Z\r\n")); /* stamp 0: the start */
	assert_non_null(strstr(doc, "DTSTART:20261101T063000Z\r\n")); /* ambiguous: UTC */
	assert_non_null(strstr(doc, "STATUS:CANCELLED\r\n"));
	assert_non_null(strstr(doc, "STATUS:CONFIRMED\r\n"));
	assert_non_null(strstr(doc, "SEQUENCE:2\r\n"));
	assert_non_null(strstr(doc, "SUMMARY:Tandem\\, 2\\; ok\r\n"));
	assert_non_null(strstr(doc, "ORGANIZER:mailto:tandem@example.org\r\n"));
	assert_non_null(strstr(doc, "ATTENDEE:mailto:ana@example.org\r\n"));
	assert_non_null(strstr(doc, "ATTENDEE:mailto:bo@example.org\r\n"));
	/* One VTIMEZONE per zone, truncated: Paris is well under a kilobyte. */
	const char *a = strstr(doc, "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris");
	assert_non_null(a);
	const char *z = strstr(a, "END:VTIMEZONE");
	assert_true(z - a < 1000);
	size_t nvtz = 0;
	for (const char *p = doc; (p = strstr(p, "BEGIN:VTIMEZONE")) != NULL; p++)
		nvtz++;
	assert_int_equal(nvtz, 2);
	free(doc);
}

/* The instant of a parsed DTSTART, read with the document's own VTIMEZONEs. */
static time_t
instant(icalcomponent *cal, icalproperty *p)
{
	struct icaltimetype t = icalproperty_get_dtstart(p);
	icalparameter *tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tzp == NULL)
		return icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone());
	const char *tzid = icalparameter_get_tzid(tzp);
	/* An external iterator: the caller walks the VEVENTs with the internal one. */
	icalcompiter it = icalcomponent_begin_component(cal, ICAL_VTIMEZONE_COMPONENT);
	for (icalcomponent *v = icalcompiter_deref(&it); v != NULL; v = icalcompiter_next(&it)) {
		icalproperty *id = icalcomponent_get_first_property(v, ICAL_TZID_PROPERTY);
		if (strcmp(icalproperty_get_tzid(id), tzid) != 0)
			continue;
		icaltimezone *z = icaltimezone_new();
		icaltimezone_set_component(z, icalcomponent_new_clone(v));
		time_t r = icaltime_as_timet_with_zone(t, z);
		icaltimezone_free(z, 1);
		return r;
	}
	fail_msg("no VTIMEZONE '%s'", tzid);
	return 0;
}

static void
test_parses_back_with_libical(void **state)
{
	(void)state;
	setup_events();
	char *doc = write_doc(5);
	icalcomponent *cal = icalparser_parse_string(doc);
	assert_non_null(cal);
	assert_int_equal(icalcomponent_count_errors(cal), 0);
	assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_PUBLISH);
	size_t i = 0;
	for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev != NULL; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), i++) {
		assert_true(i < 5);
		assert_string_equal(icalcomponent_get_uid(ev), events[i].uid);
		assert_string_equal(icalcomponent_get_summary(ev), events[i].summary);
		icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
		assert_int_equal(instant(cal, p), events[i].start);
		icalproperty *s = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);
		assert_int_equal(icalproperty_get_sequence(s), events[i].sequence);
		assert_int_equal(icalcomponent_get_status(ev),
				 events[i].cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED);
		if (events[i].description)
			assert_string_equal(icalcomponent_get_description(ev), events[i].description);
	}
	assert_int_equal(i, 5);
	icalcomponent_free(cal);
	free(doc);
}

static const char *
system_python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void
test_parses_with_python_icalendar(void **state)
{
	(void)state;
	setup_events();
	char *doc = write_doc(5);
	char path[] = "/tmp/test_ical.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s -c 'import sys, datetime, icalendar\n"
		 "cal = icalendar.Calendar.from_ical(open(sys.argv[1], \"rb\").read())\n"
		 "for c in cal.walk(\"VTIMEZONE\"): print(\"TZ\", c[\"TZID\"])\n"
		 "for e in cal.walk(\"VEVENT\"):\n"
		 "  s = e.decoded(\"DTSTART\")\n"
		 "  print(e[\"UID\"], int(s.timestamp()), e[\"STATUS\"], e.decoded(\"SEQUENCE\"))\n"
		 "' %s 2>&1",
		 system_python(), path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096] = "";
	size_t len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	int rc = pclose(p);
	unlink(path);
	if (rc != 0)
		fail_msg("python3 icalendar (python3-icalendar, see scripts/deps.sh): %s", out);
	assert_non_null(strstr(out, "TZ Europe/Paris\n"));
	assert_non_null(strstr(out, "TZ America/New_York\n"));
	for (size_t i = 0; i < 5; i++) {
		char line[200];
		snprintf(line, sizeof(line), "%s %lld %s %d\n", events[i].uid,
			 (long long)events[i].start, events[i].cancelled ? "CANCELLED" : "CONFIRMED",
			 events[i].sequence);
		if (strstr(out, line) == NULL)
			fail_msg("python3 icalendar: no '%s' in:\n%s", line, out);
	}
	free(doc);
}

/* Either instant of a repeated wall time is written in UTC (python3-icalendar 4.0 reads a
 * repeated TZID wall time as the second instant, RFC 5545 and libical as the first); the
 * wall times around it, and a time moved past a spring gap, keep their TZID. */
static void
test_ambiguous_in_utc(void **state)
{
	(void)state;
	struct ical_event e[3] = {
		/* 01:30 EDT (first) to 01:45 EST (second) on 7 Nov 2027 in New York */
		{.uid = "a@t", .start = utc(2027, 11, 7, 5, 30), .end = utc(2027, 11, 7, 6, 45),
		 .zone = "America/New_York", .summary = "overlap", .stamp = 1},
		/* 01:45 +11 (first) on 4 Apr 2027 on Lord Howe Island, to 02:15 +10:30 */
		{.uid = "b@t", .start = utc(2027, 4, 3, 14, 45), .end = utc(2027, 4, 3, 15, 45),
		 .zone = "Australia/Lord_Howe", .summary = "overlap", .stamp = 1},
		/* 02:45 +11, just after the 30-minute gap of 3 Oct 2027, to 03:45 */
		{.uid = "c@t", .start = utc(2027, 10, 2, 15, 45), .end = utc(2027, 10, 2, 16, 45),
		 .zone = "Australia/Lord_Howe", .summary = "gap", .stamp = 1},
	};
	struct buf b = {0};
	struct diag d = {0};
	if (ical_write(&b, "PUBLISH", e, 3, &d) != 0)
		fail_msg("ical_write: %s", d.msg);
	assert_non_null(strstr(b.data, "DTSTART:20271107T053000Z\r\n"));
	assert_non_null(strstr(b.data, "DTEND:20271107T064500Z\r\n"));
	assert_non_null(strstr(b.data, "DTSTART:20270403T144500Z\r\n"));
	assert_non_null(strstr(b.data, "DTEND;TZID=Australia/Lord_Howe:20270404T021500\r\n"));
	assert_non_null(strstr(b.data, "DTSTART;TZID=Australia/Lord_Howe:20271003T024500\r\n"));
	assert_non_null(strstr(b.data, "DTEND;TZID=Australia/Lord_Howe:20271003T034500\r\n"));
	buf_fini(&b);
}

/* Kept zones give the text libical writes: for each zone, windows of one to three weeks
 * over three years (across summer time changes, windows starting or ending at a change,
 * and ones inside one piece), written through one struct ical_zones and without. */
static void
test_kept_zones_same_text(void **state)
{
	(void)state;
	static const char *const zones[] = {
		"America/New_York", "Europe/Paris", "Europe/London", "Asia/Kolkata",
		"Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Tokyo", "Pacific/Auckland",
		"America/Santiago", "Europe/Dublin", "Asia/Tehran", "Africa/Casablanca"};
	struct ical_zones *zs = ical_zones_new();
	assert_non_null(zs);
	uint64_t x = 88172645463325252ULL;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		time_t prev = utc(2026, 1, 1, 0, 0);
		for (int k = 0; k < 400; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			time_t start = utc(2026, 1, 1, 0, 0) + (time_t)(x % (3ULL * 365 * 86400));
			if (k % 3 != 0) /* near the last one: mostly the same piece, so kept */
				start = prev + (time_t)((x >> 20) % (4 * 86400));
			if (k % 50 == 0) /* on a change of offset: the last Sunday of March, 01:00Z */
				start = utc(2027, 3, 28, 1, 0) + 7 * 86400;
			start -= start % 900;
			prev = start;
			struct ical_event e = {.uid = "session-9@tandem", .start = start,
					       .end = start + 900 * (time_t)(1 + (x >> 40) % 8),
					       .zone = zones[z], .summary = "Mentoring"};
			struct buf a, b;
			buf_init(&a);
			buf_init(&b);
			assert_int_equal(ical_write(&a, "PUBLISH", &e, 1, NULL), 0);
			assert_int_equal(ical_write_with(&b, "PUBLISH", &e, 1, zs, NULL), 0);
			if (strcmp(a.data, b.data) != 0)
				fail_msg("%s at %lld:\n%s\n---- kept:\n%s", zones[z], (long long)start,
					 a.data, b.data);
			buf_fini(&a);
			buf_fini(&b);
		}
	}
	ical_zones_delete(zs);
	ical_zones_delete(NULL);
}

static void
test_refusals(void **state)
{
	(void)state;
	setup_events();
	struct buf b = {0};
	struct diag d = {0};
	assert_int_equal(ical_write(&b, "PUBLISHED", events, 1, &d), -1);
	assert_non_null(strstr(d.msg, "want PUBLISH, REQUEST or CANCEL"));
	struct ical_event e = events[1];
	e.end = e.start;
	assert_int_equal(ical_write(&b, "PUBLISH", &e, 1, &d), -1);
	assert_non_null(strstr(d.msg, "'session-2@tandem': end is not after start"));
	e = events[1];
	e.uid = "";
	assert_int_equal(ical_write(&b, "PUBLISH", &e, 1, &d), -1);
	assert_non_null(strstr(d.msg, "empty uid"));
	e = events[1];
	e.summary = "bad \xff byte";
	assert_int_equal(ical_write(&b, "PUBLISH", &e, 1, &d), -1);
	assert_non_null(strstr(d.msg, "not UTF-8"));
	e = events[1];
	e.zone = "Mars/Base";
	assert_int_equal(ical_write(&b, "REQUEST", &e, 1, &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone 'Mars/Base'"));
	assert_int_equal(b.len, 0); /* nothing appended */
	/* An empty calendar is still a calendar. */
	assert_int_equal(ical_write(&b, "CANCEL", NULL, 0, &d), 0);
	assert_non_null(strstr(b.data, "BEGIN:VCALENDAR\r\n"));
	assert_non_null(strstr(b.data, "METHOD:CANCEL\r\n"));
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_shape),
		cmocka_unit_test(test_parses_back_with_libical),
		cmocka_unit_test(test_parses_with_python_icalendar),
		cmocka_unit_test(test_ambiguous_in_utc),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_kept_zones_same_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

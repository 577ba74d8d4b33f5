/*
 * ical: sessions written as an iCalendar (RFC 5545) document, through libical.
 *
 * For: `tandem calendar export` (cli/cmd_calendar.c) and the .ics attached to reminder
 * e-mails (sched/notify). libical builds the components and writes the text (CRLF line
 * ends, lines folded at 75 octets, TEXT values escaped); this module decides what goes
 * in and works around what libical 3.0.16 gets wrong for calendar clients.
 *
 * Contract:
 *  - One VCALENDAR: VERSION:2.0, PRODID:-//tandem//tandem//EN, METHOD:<method>
 *    (PUBLISH, REQUEST or CANCEL; anything else is DIAG_INVALID), then one VTIMEZONE per
 *    zone the events use (in order of first use), then one VEVENT per event, in the
 *    order given.
 *  - VEVENT: UID (the caller's, stable: a re-export updates the same event), DTSTAMP
 *    (stamp, UTC; 0 = the start), DTSTART/DTEND, SUMMARY, DESCRIPTION (when not NULL),
 *    SEQUENCE, STATUS:CONFIRMED or CANCELLED, ORGANIZER and ATTENDEEs when given (a value
 *    without ':' gets "mailto:").
 *  - Times: with a zone, DTSTART;TZID=<plain IANA name>:<local wall time> and the
 *    VTIMEZONE's TZID is the same plain name (libical's own TZIDs carry a
 *    "/freeassociation.sourceforge.net/" prefix that some clients reject); an instant
 *    whose wall time is ambiguous in its zone (the repeated hour of an autumn change,
 *    either of its two instants) is written in UTC instead so no client can read it as
 *    the other one: RFC 5545 says such a wall time is the first instant, and libical
 *    reads it so, but python3-icalendar 4.0 (pytz) takes the second. Without a zone
 *    (NULL, "UTC", "Etc/UTC"): UTC times ("...Z") and no VTIMEZONE.
 *  - A VTIMEZONE is libical's built-in zone (the system tzdata) cloned and truncated to
 *    the events' window in that zone (a week either side), so a two-year export of Berlin
 *    needs about 500 bytes, not 3 KB.
 *  - Checks: uid and summary non-empty, end > start, valid UTF-8 in every text, a known
 *    zone; DIAG_INVALID naming the event (its uid) otherwise. Nothing is appended on error.
 *  - Kept zones: truncating a VTIMEZONE walks the zone's rules (a few hundred microseconds
 *    for a zone with summer time), and a run of reminders writes one per message. A struct
 *    ical_zones given to ical_write_with keeps, per zone, the last VTIMEZONE libical made
 *    for a window inside one piece of the zone (no transition from a second before the
 *    window to a second after it, by time/tzfile) that came out with one observance; a
 *    later window inside the same piece gets a copy with the observance's DTSTART moved
 *    by the distance between the windows and TZUNTIL set to the window's end, the text
 *    libical writes for it (test_ical compares the two across zones and windows). It
 *    holds at most 128 zones; it belongs to one thread, like the calls.
 *  - The document is appended to *out. All libical calls happen on the caller's thread and
 *    libical's zone data is cached per process (a tzdata upgrade needs a restart).
 */
#ifndef TANDEM_ICAL_H
#define TANDEM_ICAL_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"

struct ical_event {
	const char *uid;
	time_t start, end;
	const char *zone; /* NULL: UTC */
	const char *summary, *description;
	int sequence;
	int cancelled;
	time_t stamp;
	const char *organizer;
	const char *const *attendees;
	size_t nattendees;
};

int ical_write(struct buf *out, const char *method, const struct ical_event *ev, size_t n,
	       struct diag *d);

/* Kept zones (see the contract): new (NULL when out of memory: ical_write_with then works
 * without), delete (NULL is fine). */
struct ical_zones;
struct ical_zones *ical_zones_new(void);
void ical_zones_delete(struct ical_zones *zs);

/* ical_write through kept zones (zs may be NULL: as ical_write). */
int ical_write_with(struct buf *out, const char *method, const struct ical_event *ev, size_t n,
		    struct ical_zones *zs, struct diag *d);

#endif

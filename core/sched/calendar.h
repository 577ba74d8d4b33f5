/*
 * calendar: sessions as calendar events, the same for `tandem calendar export` and the
 * .ics a reminder carries, so a client that imported one sees the other as an update of
 * the same event.
 *
 * Called by: cli/cmd_calendar.c (calendar_export), sched/remind (calendar_session_ics).
 * Calls: time/ical (the RFC 5545 text), the sessions and people tables.
 *
 * Contract:
 *  - One event per meeting: a rescheduled session and the sessions it moved to form a
 *    chain, and the chain is one event whose UID is "session-<id of the first session of
 *    the chain>@<domain>"; its SEQUENCE is the current row's (a reschedule bumps it),
 *    its time the current row's. Rows left behind by a reschedule are not exported.
 *    So re-exporting after a reschedule updates the event instead of adding one.
 *  - STATUS:CANCELLED for cancelled sessions, CONFIRMED otherwise (planned, held,
 *    missed). Times in the session's zone (the pair's), VTIMEZONE with the plain IANA
 *    name (time/ical.h). SUMMARY "Mentoring: MENTOR & MENTEE", DESCRIPTION the program,
 *    the topic and the agenda's questions; ORGANIZER the workspace's mail address,
 *    ATTENDEEs both sides' e-mail addresses. METHOD:PUBLISH.
 *  - The domain is the workspace's id: calendar_domain() makes it from the
 *    organization's name (lower case letters, digits and '-'), "tandem.local" without
 *    one. A name with non-ASCII bytes also gets "-" and 8 hex digits of a hash (FNV-1a)
 *    of the whole name, so "Ünïcode" and "Ònïcode" stay distinct; ASCII names keep the
 *    form they always had (existing UIDs do not change). Renaming the organization
 *    changes every UID: calendars then see new events.
 *  - DTSTAMP is `now` (the export's time).
 */
#ifndef TANDEM_CALENDAR_H
#define TANDEM_CALENDAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "store/store.h"

struct ical_zones;

enum { CALENDAR_DOMAIN_MAX = 96 };

/* The UID domain from the organization's name (NULL or "" gives "tandem.local"). */
void calendar_domain(const char *organization, char out[CALENDAR_DOMAIN_MAX]);

struct calendar_opts {
	const char *domain;    /* UID domain (calendar_domain); NULL: "tandem.local" */
	const char *organizer; /* ORGANIZER mail address; NULL: none */
	time_t now;            /* DTSTAMP */
	struct ical_zones *zones; /* kept VTIMEZONEs (time/ical.h); NULL: none */
};

struct calendar_filter {
	int64_t program_id; /* 0: every program */
	int64_t person_id;  /* 0: everyone; else sessions where the person is a side */
};

/* Appends the .ics of every session f selects (ordered by start) to out; *count (may be
 * NULL) = events written. An export with no session is a valid empty calendar. */
int calendar_export(struct store *st, const struct calendar_filter *f,
		    const struct calendar_opts *o, struct buf *out, size_t *count, struct diag *d);

/* Appends the .ics of one session (as calendar_export would write its event). */
int calendar_session_ics(struct store *st, int64_t session_id, const struct calendar_opts *o,
			 struct buf *out, struct diag *d);

#endif

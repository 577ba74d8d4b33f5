/*
 * remind: the reminders of upcoming sessions, queued in the outbox (events/outbox.h)
 * for the notifiers (sched/notify.h) to deliver.
 *
 * Called by: the scheduler's built-in "send-reminders" job (sched/builtin), simulations,
 * the tests. It only queues; delivery is the notifiers' work.
 *
 * Contract:
 *  - remind_due queues, for every planned session starting in (now, now + lead], one
 *    message per side of the pair: key "reminder:SESSION:PERSON" (so each side gets it
 *    once, however often the job runs and whatever its lead: a run with --lead 48 after
 *    one with 24 queues nothing new), kind "reminder", channel o->channel,
 *    not_before = now, not_after = the session's start (a reminder of a session that has
 *    begun is useless: it expires). Only sessions of active or approved matches.
 *  - The text is the recipient's: their name, the partner's name, the date and time in
 *    the recipient's own zone (and the partner's time in theirs when it differs), the
 *    duration, the program, the topic and the agenda's questions. The subject reads
 *    "Mentoring session with PARTNER on Mon 23 Nov at 10:00".
 *  - How to check in after the session: with o->public_url, the side's own check-in link
 *    (sched/links.h: PUBLIC_URL/c/TOKEN, valid until the session's end + LINKS_TTL_DAYS,
 *    the workspace's link key made on first use); without, the `tandem sessions checkin`
 *    command for that side. remind_text gives the text without a link.
 *  - The session's .ics (sched/calendar.h: the same UID and SEQUENCE as an export) is
 *    attached as session.ics, type "text/calendar; method=PUBLISH".
 *  - Keys queued before the lead left the key ("reminder:SESSION:PERSON:24h") count as
 *    the same reminder (REMIND_KNOWN_SQL): workspaces keep their rows and send nothing twice.
 *  - One transaction for the whole run (it composes into the job's). *queued counts the
 *    messages that were new; re-running queues nothing twice.
 *
 * Updates (remind_run; sched/remind_update.c): a reminder put the meeting in its
 * recipient's calendar, so when a planned session is later cancelled or rescheduled (by
 * anyone: a participant, a replan, a match that ends, an erased partner), the store notes
 * it (table session_changes, filled by a trigger in the change's own transaction). Each run
 * takes the notes; for each, the meeting is the last session of its reschedule chain:
 *  - nothing is sent when that session is past, has started, or was held or missed;
 *  - each side still there that was told about the meeting (a reminder of a session of
 *    the chain that left or may have left: sent, sending, unknown; or an earlier update)
 *    gets one message: key "update:FIRST:PERSON:SEQUENCE" (FIRST the chain's first session,
 *    the calendar UID's; SEQUENCE the last session's), kind "update", not_after the
 *    meeting's start, the meeting's .ics attached (calendar_session_ics: STATUS:CANCELLED,
 *    or the new time, under the same UID with the higher SEQUENCE); but not when the last
 *    session is planned and its own reminder is queued or out (it carries the same .ics);
 *  - the text says "is cancelled" (the time it was, the reason) or "has moved" (the new
 *    time in the recipient's zone, and the partner's, and the time it was);
 *  - the notes are then forgotten, in the same transaction. A note whose meeting needs no
 *    update is forgotten too.
 */
#ifndef TANDEM_REMIND_H
#define TANDEM_REMIND_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "sched/calendar.h"
#include "store/store.h"

struct config;
struct sched_run;

enum { REMIND_LEAD_HOURS = 24 };

/* An SQL condition, true when the outbox holds the reminder whose key is the SQL text
 * expression K ('reminder:SESSION:PERSON'), or its older form K || ':<lead>h'. Both are
 * lookups of the unique key's index. */
#define REMIND_KNOWN_SQL(K)                                                                   \
	"EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = " K                             \
	" OR (idempotency_key > " K " || ':' AND idempotency_key < " K " || ';'))"

struct remind_opts {
	int lead_hours;        /* 0: REMIND_LEAD_HOURS */
	const char *channel;   /* notifier; NULL: "eml" */
	const char *domain;    /* calendar UID domain (calendar_domain); NULL: "tandem.local" */
	const char *organizer; /* the .ics ORGANIZER (the workspace's From); NULL: none */
	const char *public_url; /* base of check-in links (sched/links.h); NULL: no links */
	struct ical_zones *zones; /* kept VTIMEZONEs of the .ics (time/ical.h); NULL: none */
};

/* Queues the reminders due at now and the updates noted (see the contract), in one
 * transaction. o may be NULL (defaults); *queued counts the new reminders, *updates (may
 * be NULL) the new updates. */
int remind_run(struct store *st, time_t now, const struct remind_opts *o, int *queued,
	       int *updates, struct diag *d);
/* remind_run without the count of updates. */
int remind_due(struct store *st, time_t now, const struct remind_opts *o, int *queued,
	       struct diag *d);

/* The options of a workspace: tandem.lua's workspace{ notify =, mail_from =, organization =,
 * public_url = }
 * (cfg may be NULL: the defaults). o points into cfg and domain. */
void remind_opts_from_config(const struct config *cfg, struct remind_opts *o,
			     char domain[CALENDAR_DOMAIN_MAX]);

/* The body of the built-in job "send-reminders" (sched/builtin): remind_due at r->now with
 * the workspace's options (r->cfg); r->result = {"queued": N, "updates": M}. */
int remind_job(struct sched_run *r, struct diag *d);

/* The subject and body of the reminder of session_id for person_id (a side), as
 * remind_due queues them; both malloc'd. DIAG_NOTFOUND when the person is not a side. */
int remind_text(struct store *st, int64_t session_id, int64_t person_id, char **subject,
		char **body, struct diag *d);

#endif

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

/* Queues the reminders due at now (see the contract). o may be NULL (defaults). */
int remind_due(struct store *st, time_t now, const struct remind_opts *o, int *queued,
	       struct diag *d);

/* The options of a workspace: tandem.lua's workspace{ notify =, mail_from =, organization =,
 * public_url = }
 * (cfg may be NULL: the defaults). o points into cfg and domain. */
void remind_opts_from_config(const struct config *cfg, struct remind_opts *o,
			     char domain[CALENDAR_DOMAIN_MAX]);

/* The body of the built-in job "send-reminders" (sched/builtin): remind_due at r->now with
 * the workspace's options (r->cfg); r->result = {"queued": N}. */
int remind_job(struct sched_run *r, struct diag *d);

/* The subject and body of the reminder of session_id for person_id (a side), as
 * remind_due queues them; both malloc'd. DIAG_NOTFOUND when the person is not a side. */
int remind_text(struct store *st, int64_t session_id, int64_t person_id, char **subject,
		char **body, struct diag *d);

#endif

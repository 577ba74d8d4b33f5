/*
 * remind: reminders of upcoming sessions into the outbox. See remind.h for the contract.
 * The sessions due are read first (ids only), then each side's message is built and
 * queued, skipping keys already in the outbox before spending time on text and .ics.
 * All of one run's messages land together or not at all (one batch: no savepoint each).
 */
#include "sched/remind.h"
#include "sched/remind_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/crash.h"
#include "events/outbox.h"
#include "program/config.h"
#include "sched/calendar.h"
#include "sched/job.h"
#include "sched/links.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"
#include "time/tz.h"

static const char *const remind_days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					   "Thursday", "Friday", "Saturday"};
static const char *const remind_months[12] = {"January", "February", "March",     "April",
					      "May",     "June",     "July",      "August",
					      "September", "October", "November", "December"};

/* One side of the pair as the text needs it. */
struct remind_side {
	int64_t id;
	const char *name, *zone, *external_id;
};

int
remind__when(struct buf *b, const char *zone, time_t start, int minutes, int long_form,
	    struct diag *d)
{
	struct tm a, z;
	if (tz_utc_to_local(zone, start, &a, d) != 0 ||
	    tz_utc_to_local(zone, start + 60 * (time_t)minutes, &z, d) != 0)
		return -1;
	if (long_form)
		return buf_printf(b, d, "%s %d %s %d, %02d:%02d-%02d:%02d", remind_days[a.tm_wday],
				  a.tm_mday, remind_months[a.tm_mon], a.tm_year + 1900, a.tm_hour,
				  a.tm_min, z.tm_hour, z.tm_min);
	/* "Mon 23 Nov at 10:00", for the subject */
	return buf_printf(b, d, "%.3s %d %.3s at %02d:%02d", remind_days[a.tm_wday], a.tm_mday,
			  remind_months[a.tm_mon], a.tm_hour, a.tm_min);
}

static const char remind_session_sql[] =
	"SELECT CAST(strftime('%s', s.starts_at) AS INTEGER), s.duration_min, s.timezone,"
	" s.topic, s.agenda, COALESCE(p.title, p.name), mr.id, mr.name, mr.timezone,"
	" me.id, me.name, me.timezone, mr.external_id, me.external_id"
	" FROM sessions s JOIN matches m ON m.id = s.match_id JOIN programs p ON p.id = m.program_id"
	" JOIN people mr ON mr.id = m.mentor_id JOIN people me ON me.id = m.mentee_id"
	" WHERE s.id = ?1";

/* How this side checks in: its own link when the workspace has a public URL (base and key),
 * else the command an organizer or the participant runs. */
static int
remind_checkin(struct buf *body, int64_t session_id, const struct remind_side *me,
	       enum links_side side, time_t start, int minutes, const char *base,
	       const unsigned char *key, struct diag *d)
{
	if (base == NULL || key == NULL)
		return buf_printf(body, d,
				  "\nAfter the session, record how it went (ask your program's "
				  "organizer, or run):\n  tandem sessions checkin %lld --held --as "
				  "%s   (or --missed; --rating 1-5, --notes TEXT)\n",
				  (long long)session_id, me->external_id);
	time_t exp = links_expiry(start, minutes);
	struct tm e;
	if (tz_utc_to_local(me->zone, exp, &e, d) != 0 ||
	    buf_puts(body, "\nAfter the session, tell us how it went (your own link, no account "
			   "needed):\n  ",
		     d) ||
	    links_url(body, base, key, session_id, side, exp, d))
		return -1;
	return buf_printf(body, d, "\n  It works once, until %d %s %d.\n", e.tm_mday,
			  remind_months[e.tm_mon], e.tm_year + 1900);
}

static int
remind_build(struct stmt *s, int64_t session_id, int64_t person_id, const char *base,
	     const unsigned char *key, struct buf *subject, struct buf *body, struct diag *d)
{
	const char *zone, *topic, *agenda, *program;
	struct remind_side mentor = {0}, mentee = {0};
	if (stmt_text(s, 2, &zone, d) || stmt_text(s, 3, &topic, d) || stmt_text(s, 4, &agenda, d) ||
	    stmt_text(s, 5, &program, d) || stmt_text(s, 7, &mentor.name, d) ||
	    stmt_text(s, 8, &mentor.zone, d) || stmt_text(s, 10, &mentee.name, d) ||
	    stmt_text(s, 11, &mentee.zone, d) || stmt_text(s, 12, &mentor.external_id, d) ||
	    stmt_text(s, 13, &mentee.external_id, d))
		return -1;
	time_t start = (time_t)stmt_int64(s, 0);
	int minutes = (int)stmt_int64(s, 1);
	mentor.id = stmt_int64(s, 6);
	mentee.id = stmt_int64(s, 9);
	const struct remind_side *me, *other;
	if (person_id == mentor.id) {
		me = &mentor;
		other = &mentee;
	} else if (person_id == mentee.id) {
		me = &mentee;
		other = &mentor;
	} else {
		return diag_set(d, DIAG_NOTFOUND, "person %lld is not a side of session #%lld",
				(long long)person_id, (long long)session_id);
	}
	if (buf_printf(subject, d, "Mentoring session with %s on ", other->name) ||
	    remind__when(subject, me->zone, start, minutes, 0, d))
		return -1;
	if (buf_printf(body, d,
		       "Hello %s,\n\nyour mentoring session with %s is coming up.\n\n  When:    ",
		       me->name, other->name) ||
	    remind__when(body, me->zone, start, minutes, 1, d) ||
	    buf_printf(body, d, " (%s)\n", me->zone))
		return -1;
	if (strcmp(me->zone, other->zone) != 0) {
		if (buf_printf(body, d, "  For %s: ", other->name) ||
		    remind__when(body, other->zone, start, minutes, 1, d) ||
		    buf_printf(body, d, " (%s)\n", other->zone))
			return -1;
	}
	if (buf_printf(body, d, "  Length:  %d minutes\n  Program: %s\n", minutes,
		       program != NULL ? program : "") ||
	    (topic != NULL && topic[0] != '\0' && buf_printf(body, d, "  Topic:   %s\n", topic)))
		return -1;
	json_t *a = json_loads(agenda != NULL ? agenda : "[]", 0, NULL);
	int rc = 0;
	if (json_is_array(a) && json_array_size(a) > 0) {
		rc = buf_puts(body, "\nSuggested questions:\n", d);
		size_t i;
		json_t *q;
		json_array_foreach(a, i, q) {
			if (rc == 0 && json_is_string(q))
				rc = buf_printf(body, d, "  - %s\n", json_string_value(q));
		}
	}
	json_decref(a);
	(void)zone; /* the calendar entry carries the pair's zone; the text uses each side's */
	if (rc == 0)
		rc = remind_checkin(body, session_id, me, me == &mentor ? LINKS_MENTOR : LINKS_MENTEE,
				    start, minutes, base, key, d);
	if (rc == 0)
		rc = buf_puts(body, "\nThe calendar entry is attached (session.ics).\n", d);
	return rc;
}

static int
remind_text_in(struct store *st, int64_t session_id, int64_t person_id, const char *base,
	       const unsigned char *key, struct buf *subject, struct buf *body, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "reading a session for its reminder", remind_session_sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, session_id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_DONE)
		rc = diag_set(d, DIAG_NOTFOUND, "no session #%lld", (long long)session_id);
	else if (rc == STMT_ROW)
		rc = remind_build(&s, session_id, person_id, base, key, subject, body, d);
	stmt_finalize(&s);
	return rc;
}

int
remind_text(struct store *st, int64_t session_id, int64_t person_id, char **subject, char **body,
	    struct diag *d)
{
	struct buf s, b;
	buf_init(&s);
	buf_init(&b);
	if (remind_text_in(st, session_id, person_id, NULL, NULL, &s, &b, d) != 0) {
		buf_fini(&s);
		buf_fini(&b);
		return -1;
	}
	*subject = buf_release(&s);
	*body = buf_release(&b);
	return 0;
}

char *
remind__attachments(struct store *st, int64_t session_id, const struct remind_opts *o, time_t now,
		   struct diag *d)
{
	struct buf ics;
	buf_init(&ics);
	struct calendar_opts co = {.domain = o->domain, .organizer = o->organizer, .now = now,
				   .zones = o->zones};
	if (calendar_session_ics(st, session_id, &co, &ics, d) != 0) {
		buf_fini(&ics);
		return NULL;
	}
	json_t *a = json_pack("[{s:s, s:s, s:s}]", "name", "session.ics", "type",
			      "text/calendar; method=PUBLISH", "content", ics.data != NULL ? ics.data : "");
	buf_fini(&ics);
	char *text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (text == NULL)
		diag_set(d, DIAG_NOMEM, "reminder of session #%lld: out of memory", (long long)session_id);
	return text;
}

/* 1 when the outbox has the key (or its older form with the lead), 0 when not, -1 on error. */
static int
remind_known(struct store *st, const char *key, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "looking for a reminder", "SELECT " REMIND_KNOWN_SQL("?1"), d) != 0)
		return -1;
	int rc = stmt_bind_text(&s, 1, key, d) ? -1 : stmt_step(&s, d);
	int known = rc == STMT_ROW ? (int)stmt_int64(&s, 0) : 0;
	stmt_finalize(&s);
	return rc < 0 ? -1 : known != 0;
}

/* Queues both sides' reminders of one session. */
static int
remind_session(struct store *st, int64_t session_id, const int64_t side[2], time_t start,
	       time_t now, const struct remind_opts *o, const unsigned char *lkey, int *queued,
	       struct diag *d)
{
	char *attachments = NULL;
	int rc = 0;
	for (int k = 0; rc == 0 && k < 2; k++) {
		char key[96];
		snprintf(key, sizeof(key), "reminder:%lld:%lld", (long long)session_id,
			 (long long)side[k]);
		int known = remind_known(st, key, d);
		if (known != 0) {
			rc = known < 0 ? -1 : 0;
			continue;
		}
		if (attachments == NULL &&
		    (attachments = remind__attachments(st, session_id, o, now, d)) == NULL) {
			rc = -1;
			break;
		}
		struct buf subject, body;
		buf_init(&subject);
		buf_init(&body);
		rc = remind_text_in(st, session_id, side[k], o->public_url, lkey, &subject, &body, d);
		int64_t id = 0;
		if (rc == 0) {
			struct outbox_msg m = {.key = key, .kind = "reminder",
					       .channel = o->channel != NULL ? o->channel : "eml",
					       .recipient_id = side[k], .session_id = session_id,
					       .subject = subject.data, .body = body.data,
					       .attachments = attachments, .not_before = now,
					       .not_after = start};
			rc = outbox_enqueue(st, &m, &id, d);
		}
		if (rc == 0 && id != 0 && queued != NULL)
			(*queued)++;
		buf_fini(&subject);
		buf_fini(&body);
	}
	free(attachments);
	return rc;
}

/* The sessions starting within the lead, but those whose two reminders are queued already
 * (their keys as remind_session makes them): an hourly run with a 24-hour lead sees each
 * session 24 times, and looking its keys up one statement each cost more than the rest of
 * those runs. remind_session still looks up each key of the sessions left. */
static const char remind_due_sql[] =
	"SELECT s.id, m.mentor_id, m.mentee_id, CAST(strftime('%s', s.starts_at) AS INTEGER)"
	" FROM sessions s JOIN matches m ON m.id = s.match_id"
	" WHERE s.status = 'planned' AND (m.status = 'active' OR m.status = 'approved')"
	"  AND s.starts_at > ?1 AND s.starts_at <= ?2"
	"  AND NOT (" REMIND_KNOWN_SQL("('reminder:' || s.id || ':' || m.mentor_id)")
	"  AND " REMIND_KNOWN_SQL("('reminder:' || s.id || ':' || m.mentee_id)") ")"
	" ORDER BY s.starts_at, s.id";

struct remind_item {
	int64_t id, side[2];
	time_t start;
};

int
remind_due(struct store *st, time_t now, const struct remind_opts *o, int *queued, struct diag *d)
{
	return remind_run(st, now, o, queued, NULL, d);
}

int
remind_run(struct store *st, time_t now, const struct remind_opts *o, int *queued, int *updates,
	   struct diag *d)
{
	struct remind_opts def = {0};
	if (o == NULL)
		o = &def;
	int lead = o->lead_hours > 0 ? o->lead_hours : REMIND_LEAD_HOURS;
	if (queued != NULL)
		*queued = 0;
	char from[STORE_TIME_MAX], until[STORE_TIME_MAX];
	if (store_format_time(now, from) != 0 || store_format_time(now + 3600 * (time_t)lead, until) != 0)
		return diag_set(d, DIAG_INVALID, "reminders: the time %lld has no date", (long long)now);
	/* One batch (store.h "Batches"): any failure below rolls the whole level back anyway,
	 * so each message's own level (outbox_enqueue's) needs no savepoint. */
	if (store_batch_begin(st, d) != 0)
		return -1;
	struct stmt s;
	struct remind_item *items = NULL;
	size_t n = 0, cap = 0;
	int rc = stmt_prepare(&s, st, "finding sessions to remind", remind_due_sql, d);
	if (rc == 0) {
		rc = stmt_bind_text(&s, 1, from, d) || stmt_bind_text(&s, 2, until, d) ? -1 : 0;
		while (rc == 0) {
			int step = stmt_step(&s, d);
			if (step <= 0) {
				rc = step;
				break;
			}
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct remind_item *p = realloc(items, ncap * sizeof(*p));
				if (p == NULL) {
					rc = diag_set(d, DIAG_NOMEM, "reminders: out of memory");
					break;
				}
				items = p;
				cap = ncap;
			}
			items[n++] = (struct remind_item){stmt_int64(&s, 0),
							  {stmt_int64(&s, 1), stmt_int64(&s, 2)},
							  (time_t)stmt_int64(&s, 3)};
		}
		stmt_finalize(&s);
	}
	/* The link key is made with the first reminder that carries a link. */
	unsigned char key[LINKS_KEY_LEN];
	int have_key = 0;
	if (rc == 0 && n > 0 && o->public_url != NULL)
		rc = (have_key = links_key(st, 1, key, d)) < 0 ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = remind_session(st, items[i].id, items[i].side, items[i].start, now, o,
				    have_key > 0 ? key : NULL, queued, d);
	memset(key, 0, sizeof(key));
	free(items);
	if (rc == 0)
		rc = remind__updates(st, now, o, updates, d);
	if (rc != 0) {
		store_rollback(st);
		return -1;
	}
	crash_point("remind.queued");
	return store_commit(st, d);
}

void
remind_opts_from_config(const struct config *cfg, struct remind_opts *o,
			char domain[CALENDAR_DOMAIN_MAX])
{
	memset(o, 0, sizeof(*o));
	calendar_domain(cfg != NULL ? cfg->organization : NULL, domain);
	o->domain = domain;
	o->channel = cfg != NULL && cfg->notify != NULL ? cfg->notify : "eml";
	o->organizer = cfg != NULL && cfg->mail_from != NULL ? cfg->mail_from : "tandem@localhost";
	o->public_url = cfg != NULL ? cfg->public_url : NULL;
}

int
remind_job(struct sched_run *r, struct diag *d)
{
	struct remind_opts o;
	char domain[CALENDAR_DOMAIN_MAX];
	remind_opts_from_config(r->cfg, &o, domain);
	o.zones = r->sched != NULL ? sched__zones(r->sched) : NULL; /* kept across runs */
	int queued = 0, updates = 0;
	if (remind_run(r->st, r->now, &o, &queued, &updates, d) != 0)
		return -1;
	snprintf(r->result, sizeof(r->result), "{\"queued\":%d,\"updates\":%d}", queued, updates);
	return 0;
}

/*
 * calendar: sessions as calendar events. See calendar.h for the contract (one event per
 * reschedule chain, UIDs, status). One query reads the rows with their chain's first
 * session (a recursive walk of rescheduled_from: down from every first session for an
 * export, up from the session itself for one session's .ics), then time/ical writes the
 * document.
 */
#include "sched/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/stmt.h"
#include "time/ical.h"

void
calendar_domain(const char *organization, char out[CALENDAR_DOMAIN_MAX])
{
	size_t n = 0;
	int dash = 0;
	for (const char *p = organization != NULL ? organization : ""; *p != '\0'; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0 && n < CALENDAR_DOMAIN_MAX - 2)
				out[n++] = '-';
			dash = 0;
			if (n < CALENDAR_DOMAIN_MAX - 1)
				out[n++] = c;
		} else {
			dash = 1;
		}
	}
	out[n] = '\0';
	/* Non-ASCII letters are dropped above: a hash of the whole name keeps such names
	 * apart. Only for them: an ASCII name's UIDs stay what they were. */
	uint32_t h = 2166136261u;
	int wide = 0;
	for (const unsigned char *p = (const unsigned char *)(organization != NULL ? organization : "");
	     *p != '\0'; p++) {
		wide |= *p >= 0x80;
		h = (h ^ *p) * 16777619u;
	}
	if (wide) {
		if (n > CALENDAR_DOMAIN_MAX - 10)
			n = CALENDAR_DOMAIN_MAX - 10;
		while (n > 0 && out[n - 1] == '-')
			n--;
		snprintf(out + n, CALENDAR_DOMAIN_MAX - n, "%s%08x", n > 0 ? "-" : "org-", (unsigned)h);
	} else if (n == 0) {
		snprintf(out, CALENDAR_DOMAIN_MAX, "tandem.local");
	}
}

/* One event's strings, owned until the document is written. */
/* What an event says in place of an erased person's name. */
#define CALENDAR_ERASED "(erased)"

struct calendar_item {
	char *uid, *zone, *summary, *description;
	char *attendee[2];
	const char *attendees[2];
};

static void
calendar_item_fini(struct calendar_item *it)
{
	free(it->uid);
	free(it->zone);
	free(it->summary);
	free(it->description);
	free(it->attendee[0]);
	free(it->attendee[1]);
}

/* The columns and joins both queries share; chain(id, root) gives each row's first session. */
#define CALENDAR_SELECT                                                                      \
	" SELECT s.id, c.root, CAST(strftime('%s', s.starts_at) AS INTEGER), s.duration_min,"   \
	"  s.timezone, s.status, s.sequence, s.topic, s.agenda, p.name, mr.name, mr.email,"   \
	"  me.name, me.email"                                                                 \
	" FROM sessions s JOIN chain c ON c.id = s.id JOIN matches m ON m.id = s.match_id"   \
	"  JOIN programs p ON p.id = m.program_id LEFT JOIN people mr ON mr.id = m.mentor_id" \
	"  LEFT JOIN people me ON me.id = m.mentee_id"                                        \
	" WHERE s.status <> 'rescheduled' AND (?1 = 0 OR m.program_id = ?1)"                  \
	"  AND (?2 = 0 OR m.mentor_id = ?2 OR m.mentee_id = ?2) AND (?3 = 0 OR s.id = ?3)"    \
	" ORDER BY s.starts_at, s.id"

/* Every session: each chain walked down from its first session. */
static const char calendar_sql[] =
	"WITH RECURSIVE chain(id, root) AS ("
	"  SELECT id, id FROM sessions WHERE rescheduled_from IS NULL"
	"  UNION ALL SELECT s.id, c.root FROM sessions s JOIN chain c ON s.rescheduled_from = c.id)"
	CALENDAR_SELECT;

/* One session (?3): its chain walked up from it to the first one, by primary key, so a
 * reminder's .ics costs the length of its chain, not a walk of every session's. */
static const char calendar_one_sql[] =
	"WITH RECURSIVE up(id, prev) AS ("
	"  SELECT id, rescheduled_from FROM sessions WHERE id = ?3"
	"  UNION ALL SELECT s.id, s.rescheduled_from FROM sessions s JOIN up u ON s.id = u.prev),"
	" chain(id, root) AS (SELECT ?3, (SELECT id FROM up WHERE prev IS NULL))"
	CALENDAR_SELECT;

/* "Program: P\nTopic: T\n\nSuggested questions:\n- q\n..." from the row. */
static char *
calendar_description(struct stmt *s, struct diag *d)
{
	const char *program = NULL, *topic = NULL, *agenda = NULL;
	if (stmt_text(s, 9, &program, d) || stmt_text(s, 7, &topic, d) || stmt_text(s, 8, &agenda, d))
		return NULL;
	struct buf b;
	buf_init(&b);
	int rc = buf_printf(&b, d, "Program: %s", program != NULL ? program : "");
	if (rc == 0 && topic != NULL && topic[0] != '\0')
		rc = buf_printf(&b, d, "\nTopic: %s", topic);
	json_t *a = json_loads(agenda != NULL ? agenda : "[]", 0, NULL);
	if (rc == 0 && json_is_array(a) && json_array_size(a) > 0) {
		rc = buf_puts(&b, "\n\nSuggested questions:", d);
		size_t i;
		json_t *q;
		json_array_foreach(a, i, q) {
			if (rc == 0 && json_is_string(q))
				rc = buf_printf(&b, d, "\n- %s", json_string_value(q));
		}
	}
	json_decref(a);
	if (rc != 0) {
		buf_fini(&b);
		return NULL;
	}
	return buf_release(&b);
}

static int
calendar_collect(struct store *st, const struct calendar_filter *f, int64_t session_id,
		 const struct calendar_opts *o, struct buf *out, size_t *count, struct diag *d)
{
	const char *domain = o != NULL && o->domain != NULL ? o->domain : "tandem.local";
	struct stmt s;
	if (stmt_prepare(&s, st, "reading sessions for a calendar",
			 session_id != 0 ? calendar_one_sql : calendar_sql, d) != 0)
		return -1;
	struct ical_event *ev = NULL;
	struct calendar_item *it = NULL;
	size_t n = 0, cap = 0;
	int rc = stmt_bind_int64(&s, 1, f != NULL ? f->program_id : 0, d) ||
			 stmt_bind_int64(&s, 2, f != NULL ? f->person_id : 0, d) ||
			 stmt_bind_int64(&s, 3, session_id, d)
		 ? -1
		 : 0;
	while (rc == 0) {
		int step = stmt_step(&s, d);
		if (step <= 0) {
			rc = step;
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ical_event *e2 = realloc(ev, ncap * sizeof(*e2));
			if (e2 != NULL)
				ev = e2;
			struct calendar_item *i2 = e2 != NULL ? realloc(it, ncap * sizeof(*i2)) : NULL;
			if (i2 == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "calendar: out of memory");
				break;
			}
			it = i2;
			cap = ncap;
		}
		struct calendar_item *ci = &it[n];
		memset(ci, 0, sizeof(*ci));
		n++;
		const char *status = NULL, *mentor = NULL, *mentee = NULL;
		char uid[160];
		snprintf(uid, sizeof(uid), "session-%lld@%s", (long long)stmt_int64(&s, 1), domain);
		if ((ci->uid = strdup(uid)) == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "calendar: out of memory");
			break;
		}
		/* Each reader sets the diag when it fails. */
		if ((ci->zone = stmt_text_dup(&s, 4, "", d)) == NULL ||
		    (ci->description = calendar_description(&s, d)) == NULL ||
		    (ci->attendee[0] = stmt_text_dup(&s, 11, "", d)) == NULL ||
		    (ci->attendee[1] = stmt_text_dup(&s, 13, "", d)) == NULL ||
		    stmt_text(&s, 5, &status, d) || stmt_text(&s, 10, &mentor, d) ||
		    stmt_text(&s, 12, &mentee, d)) {
			rc = -1;
			break;
		}
		struct buf sb;
		buf_init(&sb);
		/* A side NULL was erased (its match ended then): the summary says so and the
		 * event names only the other attendee. */
		if (buf_printf(&sb, d, "Mentoring: %s & %s",
			       mentor != NULL ? mentor : CALENDAR_ERASED,
			       mentee != NULL ? mentee : CALENDAR_ERASED) != 0) {
			rc = -1;
			break;
		}
		ci->summary = buf_release(&sb);
		size_t na = 0;
		for (int k = 0; k < 2; k++)
			if (ci->attendee[k][0] != '\0')
				ci->attendees[na++] = ci->attendee[k];
		time_t start = (time_t)stmt_int64(&s, 2);
		ev[n - 1] = (struct ical_event){
			.uid = ci->uid,
			.start = start,
			.end = start + 60 * (time_t)stmt_int64(&s, 3),
			.zone = ci->zone,
			.summary = ci->summary,
			.description = ci->description,
			.sequence = (int)stmt_int64(&s, 6),
			.cancelled = status != NULL && strcmp(status, "cancelled") == 0,
			.stamp = o != NULL && o->now != 0 ? o->now : start,
			.organizer = o != NULL ? o->organizer : NULL,
			.attendees = ci->attendees,
			.nattendees = na,
		};
	}
	stmt_finalize(&s);
	if (rc == 0 && session_id != 0 && n == 0)
		rc = diag_set(d, DIAG_NOTFOUND, "no session #%lld in a calendar", (long long)session_id);
	/* it[] moved whenever it grew: its attendee arrays are pointed at only now. */
	for (size_t k = 0; k < n && rc == 0; k++)
		ev[k].attendees = it[k].attendees;
	if (rc == 0)
		rc = ical_write_with(out, "PUBLISH", ev, n, o != NULL ? o->zones : NULL, d);
	if (rc == 0 && count != NULL)
		*count = n;
	for (size_t i = 0; i < n; i++)
		calendar_item_fini(&it[i]);
	free(it);
	free(ev);
	return rc;
}

int
calendar_export(struct store *st, const struct calendar_filter *f, const struct calendar_opts *o,
		struct buf *out, size_t *count, struct diag *d)
{
	return calendar_collect(st, f, 0, o, out, count, d);
}

int
calendar_session_ics(struct store *st, int64_t session_id, const struct calendar_opts *o,
		     struct buf *out, struct diag *d)
{
	return calendar_collect(st, NULL, session_id, o, out, NULL, d);
}

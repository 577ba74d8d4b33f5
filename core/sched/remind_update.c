/*
 * remind_update: calendar updates after a reminded session is cancelled or moved (see
 * remind.h, "Updates"). The store notes every planned session that becomes cancelled or
 * rescheduled in session_changes (a trigger: whatever path changed it); each run of the
 * reminders takes the notes, and for each sends the sides that were told about the meeting
 * (a reminder of a session of its chain, or an earlier update, that left) the meeting's
 * current .ics, then forgets the note. Everything lands in the caller's level.
 */
#include "sched/remind.h"
#include "sched/remind_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/vec.h"
#include "events/outbox.h"
#include "store/stmt.h"

/* The meeting as it is now: the last session of the chain the noted one belongs to. */
struct upd_tip {
	int64_t id, root, prev; /* the tip, the chain's first session, the one before the tip */
	int64_t side[2];        /* mentor, mentee (0: erased) */
	char status[16];
	time_t start, prev_start;
	int minutes, sequence;
};

/* Follows rescheduled_to from id to the chain's last session, and rescheduled_from to its
 * first; the tip's row. 1 when the session is gone (nothing to do). */
static int
upd_walk(struct store *st, int64_t id, struct upd_tip *t, struct diag *d)
{
	memset(t, 0, sizeof(*t));
	struct stmt s;
	if (stmt_prepare(&s, st, "following a moved session",
			 "WITH RECURSIVE down(id, nxt, n) AS ("
			 "  SELECT id, rescheduled_to, 0 FROM sessions WHERE id = ?1"
			 "  UNION ALL SELECT s.id, s.rescheduled_to, n + 1 FROM sessions s"
			 "  JOIN down ON s.id = down.nxt WHERE n < 10000),"
			 " up(id, prev, n) AS ("
			 "  SELECT id, rescheduled_from, 0 FROM sessions WHERE id = ?1"
			 "  UNION ALL SELECT s.id, s.rescheduled_from, n + 1 FROM sessions s"
			 "  JOIN up ON s.id = up.prev WHERE n < 10000)"
			 " SELECT s.id, (SELECT id FROM up ORDER BY n DESC LIMIT 1),"
			 "  COALESCE(s.rescheduled_from, 0), COALESCE(m.mentor_id, 0),"
			 "  COALESCE(m.mentee_id, 0), s.status,"
			 "  CAST(strftime('%s', s.starts_at) AS INTEGER), s.duration_min, s.sequence,"
			 "  COALESCE((SELECT CAST(strftime('%s', starts_at) AS INTEGER) FROM sessions"
			 "   WHERE id = s.rescheduled_from), 0)"
			 " FROM sessions s JOIN matches m ON m.id = s.match_id"
			 " WHERE s.id = (SELECT id FROM down ORDER BY n DESC LIMIT 1)",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *status = NULL;
		t->id = stmt_int64(&s, 0);
		t->root = stmt_int64(&s, 1);
		t->prev = stmt_int64(&s, 2);
		t->side[0] = stmt_int64(&s, 3);
		t->side[1] = stmt_int64(&s, 4);
		rc = stmt_text(&s, 5, &status, d) ? -1 : 0;
		if (rc == 0)
			snprintf(t->status, sizeof(t->status), "%s", status != NULL ? status : "");
		t->start = (time_t)stmt_int64(&s, 6);
		t->minutes = (int)stmt_int64(&s, 7);
		t->sequence = (int)stmt_int64(&s, 8);
		t->prev_start = (time_t)stmt_int64(&s, 9);
	} else if (rc == STMT_DONE) {
		rc = 1;
	}
	stmt_finalize(&s);
	return rc;
}

/*
 * 1 when `person` was told about the meeting of chain `root` (tip t): a reminder of one of
 * its sessions that left or may have left (sent, sending, unknown: the recipient's calendar
 * may have it), or an earlier update. 0 when not, or when the tip's own reminder is queued
 * or out (it carries the current .ics itself); -1 on error. The statuses are tested with
 * a unary + so that every outbox read is a lookup of the unique key's index: without it
 * SQLite takes the outbox_due index for `status IN (...)` and walks every sent message
 * (about 9 ms a call at 7,000 messages, 18% of a simulated month).
 */
static int
upd_told(struct store *st, const struct upd_tip *t, int64_t person, struct diag *d)
{
	static const char sql[] =
		"WITH RECURSIVE up(id, prev, n) AS ("
		"  SELECT id, rescheduled_from, 0 FROM sessions WHERE id = ?1"
		"  UNION ALL SELECT s.id, s.rescheduled_from, n + 1 FROM sessions s"
		"  JOIN up ON s.id = up.prev WHERE n < 10000)"
		" SELECT CASE WHEN ?3 = 'planned' AND EXISTS (SELECT 1 FROM outbox WHERE"
		"   idempotency_key = 'reminder:' || ?1 || ':' || ?2"
		"   AND status IN ('pending', 'sending', 'sent', 'unknown')) THEN 0"
		"  WHEN EXISTS (SELECT 1 FROM up JOIN outbox o ON"
		"   (o.idempotency_key = 'reminder:' || up.id || ':' || ?2 OR"
		"    (o.idempotency_key > 'reminder:' || up.id || ':' || ?2 || ':' AND"
		"     o.idempotency_key < 'reminder:' || up.id || ':' || ?2 || ';'))"
		"   WHERE +o.status IN ('sending', 'sent', 'unknown')) THEN 1"
		"  WHEN EXISTS (SELECT 1 FROM outbox WHERE"
		"   idempotency_key > 'update:' || ?4 || ':' || ?2 || ':' AND"
		"   idempotency_key < 'update:' || ?4 || ':' || ?2 || ';'"
		"   AND +status IN ('pending', 'sending', 'sent', 'unknown')) THEN 1"
		"  ELSE 0 END";
	struct stmt s;
	if (stmt_prepare(&s, st, "looking for what a side was told", sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, t->id, d) || stmt_bind_int64(&s, 2, person, d) ||
			 stmt_bind_text(&s, 3, t->status, d) || stmt_bind_int64(&s, 4, t->root, d)
		 ? -1
		 : stmt_step(&s, d);
	int told = rc == STMT_ROW ? (int)stmt_int64(&s, 0) : 0;
	stmt_finalize(&s);
	return rc < 0 ? -1 : told;
}

/* The names and zones of both sides (an erased side: "(erased)", the other's zone). */
struct upd_names {
	char *name[2], *zone[2];
	char *reason;
};

static void
upd_names_fini(struct upd_names *n)
{
	for (int k = 0; k < 2; k++) {
		free(n->name[k]);
		free(n->zone[k]);
	}
	free(n->reason);
}

static int
upd_names(struct store *st, const struct upd_tip *t, struct upd_names *n, struct diag *d)
{
	memset(n, 0, sizeof(*n));
	struct stmt s;
	if (stmt_prepare(&s, st, "reading a moved session's people",
			 "SELECT mr.name, COALESCE(mr.timezone, me.timezone, x.timezone), me.name,"
			 " COALESCE(me.timezone, mr.timezone, x.timezone), x.status_reason"
			 " FROM sessions x JOIN matches m ON m.id = x.match_id"
			 " LEFT JOIN people mr ON mr.id = m.mentor_id"
			 " LEFT JOIN people me ON me.id = m.mentee_id WHERE x.id = ?1",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, t->id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_DONE)
		rc = diag_set(d, DIAG_NOTFOUND, "no session #%lld", (long long)t->id);
	if (rc == STMT_ROW)
		rc = (n->name[0] = stmt_text_dup(&s, 0, REMIND_ERASED, d)) == NULL ||
				     (n->zone[0] = stmt_text_dup(&s, 1, "UTC", d)) == NULL ||
				     (n->name[1] = stmt_text_dup(&s, 2, REMIND_ERASED, d)) == NULL ||
				     (n->zone[1] = stmt_text_dup(&s, 3, "UTC", d)) == NULL ||
				     (n->reason = stmt_text_dup(&s, 4, "", d)) == NULL
			     ? -1
			     : 0;
	stmt_finalize(&s);
	return rc;
}

/* The subject and body of side k's update. */
static int
upd_text(const struct upd_tip *t, const struct upd_names *n, int k, struct buf *subject,
	 struct buf *body, struct diag *d)
{
	const char *me = n->name[k], *zone = n->zone[k], *other = n->name[1 - k];
	const char *ozone = n->zone[1 - k];
	int cancelled = strcmp(t->status, "cancelled") == 0;
	if (buf_printf(subject, d, "%s: mentoring session with %s%s",
		       cancelled ? "Cancelled" : "Moved", other, cancelled ? " on " : ", now on ") ||
	    remind__when(subject, zone, t->start, t->minutes, 0, d) ||
	    buf_printf(body, d, "Hello %s,\n\nyour mentoring session with %s %s.\n\n", me, other,
		       cancelled ? "is cancelled" : "has moved"))
		return -1;
	if (cancelled) {
		if (buf_puts(body, "  Was:     ", d) ||
		    remind__when(body, zone, t->start, t->minutes, 1, d) ||
		    buf_printf(body, d, " (%s)\n", zone) ||
		    (n->reason[0] != '\0' && buf_printf(body, d, "  Why:     %s\n", n->reason)))
			return -1;
		return buf_puts(body, "\nThe attached calendar entry (session.ics) marks the meeting "
				      "cancelled in your calendar.\n", d);
	}
	if (buf_puts(body, "  Now:     ", d) || remind__when(body, zone, t->start, t->minutes, 1, d) ||
	    buf_printf(body, d, " (%s)\n", zone))
		return -1;
	if (strcmp(zone, ozone) != 0 &&
	    (buf_printf(body, d, "  For %s: ", other) ||
	     remind__when(body, ozone, t->start, t->minutes, 1, d) ||
	     buf_printf(body, d, " (%s)\n", ozone)))
		return -1;
	if (t->prev_start != 0 &&
	    (buf_puts(body, "  Was:     ", d) ||
	     remind__when(body, zone, t->prev_start, t->minutes, 1, d) ||
	     buf_printf(body, d, " (%s)\n", zone)))
		return -1;
	return buf_puts(body, "\nThe attached calendar entry (session.ics) moves the meeting in "
			      "your calendar.\n", d);
}

/* The updates of one noted session. */
static int
upd_one(struct store *st, int64_t noted, time_t now, const struct remind_opts *o, int *queued,
	struct diag *d)
{
	struct upd_tip t;
	int rc = upd_walk(st, noted, &t, d);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* A moved meeting that has happened since, or one whose time has come: nothing to fix. */
	if ((strcmp(t.status, "cancelled") != 0 && strcmp(t.status, "planned") != 0) || t.start <= now)
		return 0;
	char *attachments = NULL;
	struct upd_names n = {0};
	int have_names = 0;
	for (int k = 0; rc == 0 && k < 2; k++) {
		if (t.side[k] == 0)
			continue;
		int told = upd_told(st, &t, t.side[k], d);
		if (told <= 0) {
			rc = told;
			continue;
		}
		if (!have_names && (rc = upd_names(st, &t, &n, d)) == 0)
			have_names = 1;
		if (rc == 0 && attachments == NULL &&
		    (attachments = remind__attachments(st, t.id, o, now, d)) == NULL)
			rc = -1;
		if (rc != 0)
			break;
		struct buf subject, body;
		buf_init(&subject);
		buf_init(&body);
		char key[96];
		snprintf(key, sizeof(key), "update:%lld:%lld:%d", (long long)t.root,
			 (long long)t.side[k], t.sequence);
		rc = upd_text(&t, &n, k, &subject, &body, d);
		int64_t id = 0;
		if (rc == 0) {
			struct outbox_msg m = {.key = key, .kind = "update",
					       .channel = o->channel != NULL ? o->channel : "eml",
					       .recipient_id = t.side[k], .session_id = t.id,
					       .subject = subject.data, .body = body.data,
					       .attachments = attachments, .not_before = now,
					       .not_after = t.start};
			rc = outbox_enqueue(st, &m, &id, d);
		}
		if (rc == 0 && id != 0 && queued != NULL)
			(*queued)++;
		buf_fini(&subject);
		buf_fini(&body);
	}
	if (have_names)
		upd_names_fini(&n);
	free(attachments);
	return rc;
}

int
remind__updates(struct store *st, time_t now, const struct remind_opts *o, int *queued,
	       struct diag *d)
{
	struct remind_opts def = {0};
	if (o == NULL)
		o = &def;
	if (queued != NULL)
		*queued = 0;
	if (store_depth(st) == 0)
		return diag_set(d, DIAG_INTERNAL, "remind__updates outside a transaction");
	struct stmt s;
	if (stmt_prepare(&s, st, "reading the changed sessions",
			 "SELECT session_id FROM session_changes ORDER BY session_id", d) != 0)
		return -1;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (;;) {
		int step = stmt_step(&s, d);
		if (step <= 0) {
			rc = step;
			break;
		}
		if ((rc = vec_grow(&ids, &cap, n + 1, sizeof(*ids), d)) != 0)
			break;
		ids[n++] = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = upd_one(st, ids[i], now, o, queued, d);
	free(ids);
	if (rc == 0 && n > 0)
		rc = store_exec(st, "DELETE FROM session_changes", d);
	return rc;
}

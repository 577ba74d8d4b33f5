/*
 * session: the writes: insert (idempotent by the natural key), check-ins, cancel,
 * reschedule, mark-missed; and the time parser the CLI and the planner share. See
 * session.h for the rules; reads live in session_list.c, the agenda in session_agenda.c.
 *
 * Every function here opens a transaction level, loads the row it acts on inside it
 * (so the decision and the write see the same state, even with `tandem serve` writing
 * at the same time), writes, appends its events, and commits.
 */
#include "sched/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "events/events.h"
#include "sched/session_internal.h"
#include "store/stmt.h"
#include "time/cal.h"
#include "time/tz.h"

static const char *const status_names[] = {"planned", "held", "missed", "cancelled", "rescheduled"};

const char *
session_status_name(enum session_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names) ? status_names[s] : "?";
}

int
session_status_parse(const char *s, enum session_status *out, struct diag *d)
{
	for (unsigned i = 0; i < sizeof(status_names) / sizeof(*status_names); i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum session_status)i;
			return 0;
		}
	return diag_set(d, DIAG_INVALID,
			"unknown session status '%s' (want planned, held, missed, cancelled or "
			"rescheduled)",
			s);
}

int
session_utc_parse(const char *text, time_t *out)
{
	struct cal_time w = {0};
	int y, n = 0;
	if (text == NULL ||
	    sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &w.mon, &w.day, &w.hour, &w.min, &w.sec,
		   &n) != 6 ||
	    n == 0 || text[n] != '\0')
		return -1;
	w.year = y;
	*out = (time_t)cal_to_epoch(&w);
	return 0;
}

int
session_event(struct store *st, const char *kind, const char *actor, int64_t subject,
	      int64_t program_id, json_t *payload, struct diag *d)
{
	char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct event ev = {.kind = kind,
			   .actor = actor,
			   .subject_id = subject,
			   .program_id = program_id,
			   .payload_json = text};
	int rc = events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

int
session_parse_time(const char *text, const char *zone, time_t *out, struct diag *d)
{
	int y = 0, mo = 0, da = 0, h = 0, mi = 0, se = 0, n = 0;
	size_t len = strlen(text);
	int utc = len > 0 && (text[len - 1] == 'Z' || text[len - 1] == 'z');
	char body[40];
	if (len - (size_t)utc >= sizeof(body))
		goto bad;
	memcpy(body, text, len - (size_t)utc);
	body[len - (size_t)utc] = '\0';
	if (sscanf(body, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &da, &h, &mi, &n) != 5)
		goto bad;
	if (body[n] == ':') {
		int m = 0;
		if (sscanf(body + n, ":%2d%n", &se, &m) != 1)
			goto bad;
		n += m;
	}
	char date[16];
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, mo, da);
	if (body[n] != '\0' || strncmp(body, date, 10) != 0 || !tz_date_valid(date) || h > 23 ||
	    mi > 59 || se > 59 || h < 0 || mi < 0 || se < 0)
		goto bad;
	if (utc) {
		struct cal_time w = {
		    .year = y, .mon = mo, .day = da, .hour = h, .min = mi, .sec = se};
		*out = (time_t)cal_to_epoch(&w);
		return 0;
	}
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = da,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = se};
	return tz_local_to_utc(zone, &tm, out, d);
bad:
	return diag_set(d, DIAG_INVALID,
			"'%s' is not a time YYYY-MM-DDTHH:MM (local), or YYYY-MM-DDTHH:MMZ (UTC)",
			text);
}

/* ---- the pair and the session, read inside the writer's transaction ----------------- */

void
session_copy_col(struct stmt *s, int col, char *buf, size_t size)
{
	const char *t = NULL;
	if (stmt_text(s, col, &t, NULL) != 0 || t == NULL)
		t = "";
	snprintf(buf, size, "%s", t);
}

int
session_pair_prepare(struct stmt *s, struct store *st, struct diag *d)
{
	return stmt_prepare(s, st, "reading the session's match",
			    "SELECT m.status, m.program_id, m.mentor_id, m.mentee_id, "
			    "COALESCE(m.timezone, e.timezone, r.timezone, 'UTC'), r.external_id, "
			    "e.external_id "
			    "FROM matches m LEFT JOIN people e ON e.id = m.mentee_id "
			    "LEFT JOIN people r ON r.id = m.mentor_id WHERE m.id = ?1",
			    d);
}

int
session_pair_read(struct stmt *s, int64_t match_id, struct session_pair *p, struct diag *d)
{
	int rc = stmt_bind_int64(s, 1, match_id, d) ? -1 : stmt_step(s, d);
	if (rc == STMT_ROW) {
		session_copy_col(s, 0, p->status, sizeof(p->status));
		p->program_id = stmt_int64(s, 1);
		p->mentor = stmt_int64(s, 2);
		p->mentee = stmt_int64(s, 3);
		session_copy_col(s, 4, p->zone, sizeof(p->zone));
		session_copy_col(s, 5, p->mentor_ext, sizeof(p->mentor_ext));
		session_copy_col(s, 6, p->mentee_ext, sizeof(p->mentee_ext));
	}
	if (rc >= 0 && stmt_reset(s, d) != 0)
		rc = -1;
	if (rc == STMT_DONE)
		return diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)match_id);
	return rc == STMT_ROW ? 0 : -1;
}

static int
load_pair(struct store *st, int64_t match_id, struct session_pair *p, struct diag *d)
{
	struct stmt s = {0};
	int rc = session_pair_prepare(&s, st, d) ? -1 : session_pair_read(&s, match_id, p, d);
	stmt_finalize(&s);
	return rc;
}

int
session_pair_zone(struct store *st, int64_t match_id, char **zone, struct diag *d)
{
	struct session_pair p;
	if (load_pair(st, match_id, &p, d) != 0)
		return -1;
	*zone = strdup(p.zone);
	return *zone ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
}

struct srow {
	int64_t id, match_id;
	enum session_status status;
	char starts_at[STORE_TIME_MAX];
	time_t start;
	int duration_min, sequence;
	int64_t rescheduled_to;
	char reason[256];
	struct session_pair pair;
};

static int
load_session(struct store *st, int64_t id, struct srow *r, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	struct stmt s = {0};
	char status[16] = "";
	int rc = stmt_prepare(&s, st, "reading the session",
			      "SELECT match_id, status, starts_at, duration_min, sequence, "
			      "COALESCE(rescheduled_to, 0), COALESCE(status_reason, '') "
			      "FROM sessions WHERE id = ?1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		r->id = id;
		r->match_id = stmt_int64(&s, 0);
		session_copy_col(&s, 1, status, sizeof(status));
		session_copy_col(&s, 2, r->starts_at, sizeof(r->starts_at));
		r->duration_min = (int)stmt_int64(&s, 3);
		r->sequence = (int)stmt_int64(&s, 4);
		r->rescheduled_to = stmt_int64(&s, 5);
		session_copy_col(&s, 6, r->reason, sizeof(r->reason));
	}
	stmt_finalize(&s);
	if (rc == STMT_DONE)
		return diag_set(d, DIAG_NOTFOUND, "no session #%lld", (long long)id);
	if (rc != STMT_ROW)
		return -1;
	if (session_status_parse(status, &r->status, d) != 0 ||
	    session_utc_parse(r->starts_at, &r->start) != 0)
		return diag_set(d, DIAG_INTERNAL, "session #%lld: unreadable row (%s, %s)",
				(long long)id, status, r->starts_at);
	return load_pair(st, r->match_id, &r->pair, d);
}

/* "cancelled (why)" / "rescheduled to #N": why a session takes no more changes. */
static const char *
closed_why(const struct srow *r, char *buf, size_t size)
{
	if (r->status == SESSION_RESCHEDULED)
		snprintf(buf, size, "was rescheduled to #%lld", (long long)r->rescheduled_to);
	else if (r->reason[0])
		snprintf(buf, size, "is %s (%s)", session_status_name(r->status), r->reason);
	else
		snprintf(buf, size, "is %s", session_status_name(r->status));
	return buf;
}

/* Sets status (and status_reason, NULL clears it), bumping the sequence when asked. */
static int
set_status(struct store *st, int64_t id, enum session_status to, const char *reason, int bump,
	   struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "updating the session",
			      "UPDATE sessions SET status = ?1, status_reason = ?2, "
			      "sequence = sequence + ?3, updated_at = ?4 WHERE id = ?5",
			      d) ||
		 stmt_bind_text(&s, 1, session_status_name(to), d) ||
		 stmt_bind_text(&s, 2, reason, d) || stmt_bind_int64(&s, 3, bump, d) ||
		 stmt_bind_text(&s, 4, now, d) || stmt_bind_int64(&s, 5, id, d) || stmt_run(&s, d);
	stmt_finalize(&s);
	return rc ? -1 : 0;
}

/* session.held / session.missed / session.cancelled for row r. */
static int
status_event(struct store *st, const struct srow *r, const char *kind, const char *reason,
	     const char *actor, struct diag *d)
{
	json_t *p = json_pack("{sI sI ss}", "session", (json_int_t)r->id, "match",
			      (json_int_t)r->match_id, "starts_at", r->starts_at);
	if (p && reason)
		json_object_set_new(p, "reason", json_string(reason));
	return session_event(st, kind, actor, 0, r->pair.program_id, p, d);
}

/* ---- check-ins ---------------------------------------------------------------------- */

static const char *
outcome_name(enum session_outcome o)
{
	return o == SESSION_OUTCOME_HELD ? "held" : "missed";
}

/* A side's earlier check-in, if any: 1 found, 0 none, -1 error. */
struct prior {
	char outcome[16];
	int rating;
	char notes[2048];
	int has_notes;
	int share_story;
	char at[STORE_TIME_MAX];
};

static int
load_prior(struct store *st, int64_t session_id, int64_t author, struct prior *pr, struct diag *d)
{
	memset(pr, 0, sizeof(*pr));
	struct stmt s = {0};
	int rc =
	    stmt_prepare(&s, st, "reading the earlier check-in",
			 "SELECT outcome, COALESCE(rating, 0), comment, share_story, created_at "
			 "FROM feedback WHERE session_id = ?1 AND author_id = ?2",
			 d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, session_id, d) || stmt_bind_int64(&s, 2, author, d)
			 ? -1
			 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		session_copy_col(&s, 0, pr->outcome, sizeof(pr->outcome));
		pr->rating = (int)stmt_int64(&s, 1);
		pr->has_notes = !stmt_is_null(&s, 2);
		session_copy_col(&s, 2, pr->notes, sizeof(pr->notes));
		pr->share_story = (int)stmt_int64(&s, 3);
		session_copy_col(&s, 4, pr->at, sizeof(pr->at));
	}
	stmt_finalize(&s);
	return rc == STMT_ROW ? 1 : rc == STMT_DONE ? 0 : -1;
}

/* The other side's outcome: 1 and *held set when it checked in, 0 when not, -1 error. */
static int
other_outcome(struct store *st, int64_t session_id, int64_t other, int *held, struct diag *d)
{
	struct prior pr;
	int rc = load_prior(st, session_id, other, &pr, d);
	if (rc == 1)
		*held = strcmp(pr.outcome, "held") == 0;
	return rc;
}

static int
insert_feedback(struct store *st, const struct srow *r, const struct session_checkin *c,
		struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "recording the check-in",
			      "INSERT INTO feedback (session_id, match_id, author_id, outcome, "
			      "rating, comment, share_story, actor, created_at) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			      d) ||
		 stmt_bind_int64(&s, 1, r->id, d) || stmt_bind_int64(&s, 2, r->match_id, d) ||
		 stmt_bind_int64(&s, 3, c->person_id, d) ||
		 stmt_bind_text(&s, 4, outcome_name(c->outcome), d) ||
		 (c->rating ? stmt_bind_int64(&s, 5, c->rating, d) : stmt_bind_null(&s, 5, d)) ||
		 stmt_bind_text(&s, 6, c->notes, d) ||
		 stmt_bind_int64(&s, 7, c->share_story ? 1 : 0, d) ||
		 stmt_bind_text(&s, 8, c->actor, d) || stmt_bind_text(&s, 9, now, d) ||
		 stmt_run(&s, d);
	stmt_finalize(&s);
	if (rc || session_skills_insert(st, r->id, r->pair.program_id, c, now, d) != 0)
		return -1;
	json_t *p = json_pack("{sI sI ss sb sb}", "session", (json_int_t)r->id, "match",
			      (json_int_t)r->match_id, "outcome", outcome_name(c->outcome), "rated",
			      c->rating != 0, "share_story", c->share_story != 0);
	return session_event(st, "feedback.given", c->actor, c->person_id, r->pair.program_id, p,
			     d);
}

/* Checks the values of a check-in that need no database. */
static int
checkin_valid(const struct session_checkin *c, struct diag *d)
{
	if (c->outcome != SESSION_OUTCOME_HELD && c->outcome != SESSION_OUTCOME_MISSED)
		return diag_set(d, DIAG_INVALID, "a check-in is held or missed");
	if (c->rating < 0 || c->rating > 5)
		return diag_set(d, DIAG_INVALID, "rating %d is not 1 to 5", c->rating);
	if (c->rating && c->outcome == SESSION_OUTCOME_MISSED)
		return diag_set(d, DIAG_INVALID,
				"a rating is for a session that was held, not missed");
	if (c->person_id == 0 && (c->rating || c->notes || c->share_story))
		return diag_set(
		    d, DIAG_INVALID,
		    "a rating, notes and share-story belong to one side of the pair: say "
		    "which person checks in");
	return session_skills_valid(c, d);
}

/* An organizer records the outcome without a side. */
static int
checkin_organizer(struct store *st, const struct srow *r, const struct session_checkin *c,
		  int *changed, struct diag *d)
{
	enum session_status to = c->outcome == SESSION_OUTCOME_HELD ? SESSION_HELD : SESSION_MISSED;
	if (r->status == to)
		return 0;
	if (r->status == SESSION_HELD)
		return diag_set(
		    d, DIAG_CONFLICT,
		    "session #%lld is already held (a side checked in 'held'); it cannot "
		    "become missed",
		    (long long)r->id);
	*changed = 1;
	const char *why = to == SESSION_MISSED ? "recorded as missed by an organizer" : NULL;
	return set_status(st, r->id, to, why, 0, d) ||
		       status_event(st, r, to == SESSION_HELD ? "session.held" : "session.missed",
				    why, c->actor, d)
		   ? -1
		   : 0;
}

/* Person id's external id into ext (else "person #ID"), for a message. */
static void
person_ext(struct store *st, int64_t id, char *ext, size_t size, struct diag *d)
{
	snprintf(ext, size, "person #%lld", (long long)id);
	struct stmt q = {0};
	if (stmt_prepare(&q, st, "naming the person", "SELECT external_id FROM people WHERE id = ?1",
			 d) == 0 &&
	    stmt_bind_int64(&q, 1, id, d) == 0 && stmt_step(&q, d) == STMT_ROW)
		session_copy_col(&q, 0, ext, size);
	stmt_finalize(&q);
}

/* A side checks in. */
static int
checkin_side(struct store *st, const struct srow *r, const struct session_checkin *c, int *changed,
	     struct diag *d)
{
	const struct session_pair *p = &r->pair;
	if (c->person_id != p->mentor && c->person_id != p->mentee) {
		char ext[128];
		person_ext(st, c->person_id, ext, sizeof(ext), d);
		return diag_set(d, DIAG_INVALID,
				"%s is not a side of session #%lld (mentor %s, mentee %s)", ext,
				(long long)r->id, p->mentor_ext, p->mentee_ext);
	}
	const char *who = c->person_id == p->mentor ? p->mentor_ext : p->mentee_ext;
	if (session_skills_check(st, r->id, p, c, d) != 0)
		return -1;
	struct prior pr;
	int rc = load_prior(st, r->id, c->person_id, &pr, d);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		int same = strcmp(pr.outcome, outcome_name(c->outcome)) == 0 &&
			   pr.rating == c->rating && pr.share_story == (c->share_story != 0) &&
			   pr.has_notes == (c->notes != NULL) &&
			   (c->notes == NULL || strcmp(pr.notes, c->notes) == 0);
		if (same && (same = session_skills_same(st, r->id, c, d)) < 0)
			return -1;
		if (same)
			return 0;
		char rated[32] = "";
		if (pr.rating)
			snprintf(rated, sizeof(rated), ", rating %d", pr.rating);
		return diag_set(d, DIAG_CONFLICT,
				"%s already checked in for session #%lld at %s (%s%s); a check-in "
				"cannot be changed",
				who, (long long)r->id, pr.at, pr.outcome, rated);
	}
	*changed = 1;
	if (insert_feedback(st, r, c, d) != 0)
		return -1;
	if (c->outcome == SESSION_OUTCOME_HELD) {
		if (r->status == SESSION_HELD)
			return 0;
		return set_status(st, r->id, SESSION_HELD, NULL, 0, d) ||
			       status_event(st, r, "session.held", NULL, c->actor, d)
			   ? -1
			   : 0;
	}
	/* 'missed': the session is missed once both sides say so; a 'held' stays. */
	int other_held = 0;
	rc = other_outcome(st, r->id, c->person_id == p->mentor ? p->mentee : p->mentor,
			   &other_held, d);
	if (rc < 0)
		return -1;
	if (rc == 0 || other_held || r->status != SESSION_PLANNED)
		return 0;
	const char *why = "both sides checked in 'missed'";
	return set_status(st, r->id, SESSION_MISSED, why, 0, d) ||
		       status_event(st, r, "session.missed", why, c->actor, d)
		   ? -1
		   : 0;
}

int
session_checkin(struct store *st, const struct session_checkin *c, int *changed, struct diag *d)
{
	int ch = 0;
	if (changed)
		*changed = 0;
	if (checkin_valid(c, d) != 0)
		return -1;
	if (store_begin(st, d) != 0)
		return -1;
	struct srow r;
	char why[300];
	if (load_session(st, c->session_id, &r, d) != 0)
		goto fail;
	if (r.status == SESSION_CANCELLED || r.status == SESSION_RESCHEDULED) {
		diag_set(d, DIAG_CONFLICT, "session #%lld %s: no check-in", (long long)r.id,
			 closed_why(&r, why, sizeof(why)));
		goto fail;
	}
	if (store_time(st) < r.start) {
		diag_set(d, DIAG_CONFLICT,
			 "session #%lld starts at %s: check in once it has started",
			 (long long)r.id, r.starts_at);
		goto fail;
	}
	if ((c->person_id == 0 ? checkin_organizer(st, &r, c, &ch, d)
			       : checkin_side(st, &r, c, &ch, d)) != 0)
		goto fail;
	if (store_commit(st, d) != 0)
		return -1;
	if (changed)
		*changed = ch;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* ---- cancel, reschedule, mark missed ------------------------------------------------ */

int
session_cancel(struct store *st, int64_t id, const char *reason, const char *actor, struct diag *d)
{
	return session_cancel_by(st, id, 0, reason, actor, d);
}

/* sessions.cancelled_by = by. */
static int
set_cancelled_by(struct store *st, int64_t id, int64_t by, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "recording who cancelled the session",
			      "UPDATE sessions SET cancelled_by = ?1 WHERE id = ?2", d) ||
		 stmt_bind_int64(&s, 1, by, d) || stmt_bind_int64(&s, 2, id, d) ||
		 stmt_run(&s, d);
	stmt_finalize(&s);
	return rc ? -1 : 0;
}

int
session_cancel_by(struct store *st, int64_t id, int64_t by, const char *reason,
		  const char *actor, struct diag *d)
{
	if (store_begin(st, d) != 0)
		return -1;
	struct srow r;
	char why[300];
	if (load_session(st, id, &r, d) != 0)
		goto fail;
	if (r.status != SESSION_PLANNED) {
		diag_set(d, DIAG_CONFLICT,
			 "session #%lld %s: only a planned session can be cancelled", (long long)id,
			 closed_why(&r, why, sizeof(why)));
		goto fail;
	}
	if (by != 0 && by != r.pair.mentor && by != r.pair.mentee) {
		char ext[128];
		person_ext(st, by, ext, sizeof(ext), d);
		diag_set(d, DIAG_INVALID,
			 "session #%lld: %s is not a side of its pair (%s and %s); only the mentor "
			 "or the mentee can cancel as themselves",
			 (long long)id, ext, r.pair.mentor_ext, r.pair.mentee_ext);
		goto fail;
	}
	if (set_status(st, id, SESSION_CANCELLED, reason, 1, d) != 0 ||
	    (by != 0 && set_cancelled_by(st, id, by, d) != 0))
		goto fail;
	/* The payload of status_event, plus the side that cancelled (session_event owns p). */
	json_t *p = json_pack("{sI sI ss}", "session", (json_int_t)r.id, "match",
			      (json_int_t)r.match_id, "starts_at", r.starts_at);
	if (p && reason)
		json_object_set_new(p, "reason", json_string(reason));
	if (p && by)
		json_object_set_new(p, "by", json_string(by == r.pair.mentor ? r.pair.mentor_ext
									      : r.pair.mentee_ext));
	if (session_event(st, "session.cancelled", actor, by, r.pair.program_id, p, d) != 0)
		goto fail;
	return store_commit(st, d);
fail:
	store_rollback(st);
	return -1;
}

int
session_reschedule(struct store *st, int64_t id, time_t new_start,
		   const struct session_window *w, const char *actor, int64_t *new_id,
		   struct diag *d)
{
	char to[STORE_TIME_MAX], now[STORE_TIME_MAX];
	if (store_format_time(new_start, to) != 0 || store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INVALID, "new start out of range");
	if (store_begin(st, d) != 0)
		return -1;
	struct srow r;
	char why[300];
	struct stmt s = {0};
	if (load_session(st, id, &r, d) != 0)
		goto fail;
	if (r.status != SESSION_PLANNED) {
		diag_set(d, DIAG_CONFLICT,
			 "session #%lld %s: only a planned session can be rescheduled",
			 (long long)id, closed_why(&r, why, sizeof(why)));
		goto fail;
	}
	if (strcmp(r.pair.status, "approved") != 0 && strcmp(r.pair.status, "active") != 0) {
		diag_set(d, DIAG_CONFLICT, "match #%lld is %s: its sessions cannot move",
			 (long long)r.match_id, r.pair.status);
		goto fail;
	}
	if (new_start == r.start) {
		diag_set(d, DIAG_INVALID, "session #%lld already starts at %s", (long long)id, to);
		goto fail;
	}
	if (new_start <= store_time(st)) {
		diag_set(d, DIAG_INVALID, "cannot move session #%lld to %s: that is in the past",
			 (long long)id, to);
		goto fail;
	}
	if (w != NULL && w->lo != 0 && new_start < w->lo) {
		diag_set(d, DIAG_INVALID,
			 "cannot move session #%lld to %s: that is before its program starts (%s)",
			 (long long)id, to, w->starts_on ? w->starts_on : "its first day");
		goto fail;
	}
	if (w != NULL && w->hi != 0 && new_start + (time_t)r.duration_min * 60 > w->hi) {
		diag_set(d, DIAG_INVALID,
			 "cannot move session #%lld to %s: its %d minutes would end after its "
			 "program ends (%s is its last day)",
			 (long long)id, to, r.duration_min, w->ends_on ? w->ends_on : "the end");
		goto fail;
	}
	/* Neither person is in two sessions at once (any of their pairs). */
	int64_t busy = 0;
	char busy_at[STORE_TIME_MAX];
	int clash = session_overlap(st, r.pair.mentor, r.pair.mentee, id, r.match_id, new_start,
				    r.duration_min, &busy, busy_at, d);
	if (clash < 0)
		goto fail;
	if (clash) {
		diag_set(d, DIAG_CONFLICT,
			 "cannot move session #%lld to %s: one of its people already has session "
			 "#%lld at %s then",
			 (long long)id, to, (long long)busy, busy_at);
		goto fail;
	}
	/* The new row copies the old one; the natural key refuses an instant the pair has. */
	int rc = stmt_prepare(&s, st, "rescheduling the session",
			      "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, "
			      "status, planned_by, topic, agenda, rescheduled_from, sequence, "
			      "created_at, updated_at) "
			      "SELECT match_id, ?1, duration_min, timezone, 'planned', 'manual', "
			      "topic, agenda, id, sequence + 1, ?2, ?2 FROM sessions WHERE id = ?3 "
			      "ON CONFLICT (match_id, starts_at) DO NOTHING RETURNING id",
			      d) ||
			 stmt_bind_text(&s, 1, to, d) || stmt_bind_text(&s, 2, now, d) ||
			 stmt_bind_int64(&s, 3, id, d)
		     ? -1
		     : stmt_step(&s, d);
	int64_t nid = rc == STMT_ROW ? stmt_int64(&s, 0) : 0;
	if (rc == STMT_ROW)
		rc = stmt_step(&s, d);
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		goto fail;
	if (nid == 0) {
		int64_t other = 0;
		struct stmt q = {0};
		if (stmt_prepare(&q, st, "finding the session at the new time",
				 "SELECT id FROM sessions WHERE match_id = ?1 AND starts_at = ?2",
				 d) == 0 &&
		    stmt_bind_int64(&q, 1, r.match_id, d) == 0 &&
		    stmt_bind_text(&q, 2, to, d) == 0 && stmt_step(&q, d) == STMT_ROW)
			other = stmt_int64(&q, 0);
		stmt_finalize(&q);
		diag_set(d, DIAG_CONFLICT, "match #%lld already has session #%lld at %s",
			 (long long)r.match_id, (long long)other, to);
		goto fail;
	}
	if (stmt_prepare(&s, st, "linking the rescheduled session",
			 "UPDATE sessions SET status = 'rescheduled', rescheduled_to = ?1, "
			 "sequence = sequence + 1, updated_at = ?2 WHERE id = ?3",
			 d) ||
	    stmt_bind_int64(&s, 1, nid, d) || stmt_bind_text(&s, 2, now, d) ||
	    stmt_bind_int64(&s, 3, id, d) || stmt_run(&s, d))
		goto fail;
	stmt_finalize(&s);
	json_t *p =
	    json_pack("{sI sI sI ss ss}", "session", (json_int_t)id, "to", (json_int_t)nid, "match",
		      (json_int_t)r.match_id, "from_start", r.starts_at, "starts_at", to);
	if (session_event(st, "session.rescheduled", actor, 0, r.pair.program_id, p, d) != 0)
		goto fail;
	if (store_commit(st, d) != 0)
		return -1;
	if (new_id)
		*new_id = nid;
	return 0;
fail:
	stmt_finalize(&s);
	store_rollback(st);
	return -1;
}

int
session_mark_missed(struct store *st, time_t now, int grace_hours, int *count, struct diag *d)
{
	if (count)
		*count = 0;
	if (grace_hours < 0)
		return diag_set(d, DIAG_INVALID, "grace of %d hours is negative", grace_hours);
	/* Starts before now - grace are candidates (the text compares as the instant); the
	 * end + grace test is exact below, in C. */
	char cutoff[STORE_TIME_MAX];
	if (store_format_time(now - (time_t)grace_hours * 3600, cutoff) != 0)
		return diag_set(d, DIAG_INVALID, "time out of range");
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s = {0};
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = stmt_prepare(&s, st, "finding sessions without a check-in",
			      "SELECT id, starts_at, duration_min FROM sessions "
			      "WHERE status = 'planned' AND starts_at <= ?1 ORDER BY starts_at, id",
			      d) ||
		 stmt_bind_text(&s, 1, cutoff, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *at = NULL;
		time_t t;
		rc = stmt_text(&s, 1, &at, d);
		if (rc != 0)
			break;
		if (session_utc_parse(at, &t) != 0) {
			rc = diag_set(d, DIAG_INTERNAL, "session #%lld: unreadable start '%s'",
				      (long long)stmt_int64(&s, 0), at ? at : "");
			break;
		}
		if (t + stmt_int64(&s, 2) * 60 + (time_t)grace_hours * 3600 > now)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			int64_t *v = realloc(ids, ncap * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			ids = v;
			cap = ncap;
		}
		ids[n++] = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		goto fail;
	char why[96];
	snprintf(why, sizeof(why), "no check-in within %d hours of the end", grace_hours);
	for (size_t i = 0; i < n; i++) {
		struct srow r;
		if (load_session(st, ids[i], &r, d) != 0 ||
		    set_status(st, ids[i], SESSION_MISSED, why, 0, d) != 0 ||
		    status_event(st, &r, "session.missed", why, NULL, d) != 0)
			goto fail;
	}
	free(ids);
	crash_point("session.marked_missed");
	if (store_commit(st, d) != 0)
		return -1;
	if (count)
		*count = (int)n;
	return 0;
fail:
	free(ids);
	store_rollback(st);
	return -1;
}

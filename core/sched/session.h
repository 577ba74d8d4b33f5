/*
 * session: the meetings of a pair, as rows, and the check-ins of each side.
 *
 * A session is materialized (a row per meeting) under a natural key, (match, start
 * instant in UTC), so planning is idempotent: planning the same instants again inserts
 * nothing. Each side of the pair checks in once (held or missed, an optional rating
 * 1-5, notes, whether the story may be shared); the session's status follows.
 *
 * Called by: sched/plan (session_insert, session_agenda, session_history for the
 * cadence's `history`), the mark-missed job (session_mark_missed), cli/cmd_sessions.c
 * (list, show, checkin, cancel, reschedule), later the HTTP API and reports (list).
 * program/lifecycle cancels the planned sessions of a match that ends with its own
 * statement (program/ sits below sched/, so it cannot call this module).
 *
 * Contract:
 *  - Every write runs in its own transaction level (store_begin ... store_commit), so it
 *    composes with the caller's: a job's claim, its sessions and its completion commit
 *    together. Events (session.planned, session.held, session.missed, session.cancelled,
 *    session.rescheduled, feedback.given) are appended in the same level as the change
 *    they describe, and only when something changed.
 *  - States: planned -> held | missed | cancelled | rescheduled; missed -> held (a late
 *    'held' check-in wins over the mark-missed job). Cancelled and rescheduled rows stay
 *    (their instant is never planned again); a reschedule links the old row to the new
 *    one (rescheduled_to / rescheduled_from), and the new row is planned_by 'manual' with
 *    the sequence bumped, so calendars update instead of duplicating.
 *  - Check-ins: a side's 'held' makes the session held; both sides 'missed' make it
 *    missed; a session still planned `grace` hours after its end becomes missed through
 *    session_mark_missed. A side checks in once: a second check-in by the same side is
 *    refused (DIAG_CONFLICT, saying what was recorded) unless it is identical, which is
 *    a no-op (a retry). An organizer may record the outcome without a side (person 0):
 *    the status changes, no feedback row, no rating. No check-in before the session
 *    starts; none on a cancelled or rescheduled session; a rating needs 'held'.
 *  - Skills: the mentee's check-in of a held session may carry self-assessments (topic,
 *    level 1-5) of topics of the program's library (programs.config `topics`), stored in
 *    skill_assessments with the check-in and compared with it on a retry; a topic outside
 *    the library, a repeated topic, a mentor's or an organizer's assessment is refused
 *    (DIAG_INVALID naming the field). report/metrics turns them into goal progress.
 *  - Rating visibility: a side's rating and notes are hidden from the other side and
 *    from every other viewer (organizers, reports) until both sides have rated or the
 *    window closes, SESSION_REVEAL_DAYS after the session's end. The author always
 *    sees their own. session_list applies the rule for f->viewer_id; the rule itself is
 *    SESSION_REVEALED_SQL (program/session_reveal.h), which report/metrics and reward
 *    dispatch use too; event payloads never carry a rating.
 *  - Times are UTC time_t; the row keeps the zone the pair meets in (for display and
 *    calendars). The pair's zone is matches.timezone, else the mentee's.
 *  - Agenda: suggested questions from the program's topic library (tandem.lua `topics`
 *    entries with `questions`), for a topic chosen deterministically from the pair's
 *    shared topics, rotating with the number of the pair's earlier sessions so
 *    consecutive sessions differ.
 */
#ifndef TANDEM_SESSION_H
#define TANDEM_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/session_reveal.h" /* SESSION_REVEAL_DAYS, SESSION_REVEALED_SQL */

struct store;
struct config_program;

enum session_status {
	SESSION_PLANNED,
	SESSION_HELD,
	SESSION_MISSED,
	SESSION_CANCELLED,
	SESSION_RESCHEDULED,
};

/* "planned", "held", ... */
const char *session_status_name(enum session_status s);
/* 0 and *out, or -1 + DIAG_INVALID listing the states. */
int session_status_parse(const char *s, enum session_status *out, struct diag *d);

struct session_new {
	int64_t match_id;
	time_t start;			   /* UTC */
	int duration_min;		   /* 1..1440; 0: 60 */
	const char *zone;		   /* NULL: the pair's zone */
	const char *planned_by;		   /* cadence name; NULL: "manual" */
	const char *topic;		   /* NULL: chosen with the agenda when prog is given */
	const char *agenda_json;	   /* JSON array of strings; NULL: from prog, else "[]" */
	const struct config_program *prog; /* optional: the topic library for the agenda */
};

/*
 * INSERT ... ON CONFLICT(match_id, starts_at) DO NOTHING. *id_out (may be NULL) = the new
 * id, or 0 when the instant existed (in any state); session.planned is appended only
 * when inserted. The match must be approved or active (DIAG_CONFLICT otherwise).
 */
int session_insert(struct store *st, const struct session_new *s, int64_t *id_out, struct diag *d);

/*
 * session_insert for n sessions in one transaction level (all or none), with the
 * statements prepared once: the planner's path, many times faster per session than n
 * calls. ids (may be NULL) receives n ids, 0 for the instants that existed; *inserted
 * (may be NULL) = how many were new.
 */
int session_insert_many(struct store *st, const struct session_new *v, size_t n, int64_t *ids,
			size_t *inserted, struct diag *d);

enum session_outcome { SESSION_OUTCOME_HELD, SESSION_OUTCOME_MISSED };

/* A self-assessment of a skill (a topic of the program's library), 1 (novice) to 5. */
struct session_skill {
	const char *topic;
	int level;
};

struct session_checkin {
	int64_t session_id;
	int64_t person_id; /* people.id of the side checking in; 0: an organizer, no side */
	enum session_outcome outcome;
	int rating;	   /* 1-5, 0: none */
	const char *notes; /* NULL: none */
	int share_story;   /* 1: the side agrees that the story may be shared */
	const char *actor; /* who recorded it */
	const struct session_skill *skills; /* the mentee's self-assessments, or NULL */
	size_t nskills;
};

/* Records one check-in (see the contract). *changed (may be NULL) = 0 for an identical
 * repeat, 1 otherwise. */
int session_checkin(struct store *st, const struct session_checkin *c, int *changed,
		    struct diag *d);

/* planned -> cancelled (status_reason = reason, sequence bumped), session.cancelled. */
int session_cancel(struct store *st, int64_t id, const char *reason, const char *actor,
		   struct diag *d);

/* session_cancel on behalf of one side of the pair: by (people.id, 0: nobody's) is stored in
 * sessions.cancelled_by and named in the event's payload ("by": external id). A person who
 * is not a side of the session's pair is DIAG_INVALID, nothing changed. */
int session_cancel_by(struct store *st, int64_t id, int64_t by, const char *reason,
		      const char *actor, struct diag *d);

/* When a program's sessions may take place: [lo, hi) (0: open), and the program's dates
 * as tandem.lua gives them, for messages (NULL: none). plan_program_window fills it. */
struct session_window {
	time_t lo, hi;
	const char *starts_on, *ends_on;
};

/*
 * A planned session moves to new_start (in the future): the old row becomes
 * 'rescheduled' with rescheduled_to = the new row; the new row is planned_by 'manual',
 * rescheduled_from = the old one, sequence = the old one's + 1, same duration, zone,
 * topic and agenda. DIAG_CONFLICT when the pair already has a session at new_start;
 * DIAG_INVALID when the moved session would start before w->lo or end after w->hi (w
 * NULL: no bounds but the match's own: only an approved or active match's sessions move).
 */
int session_reschedule(struct store *st, int64_t id, time_t new_start,
		       const struct session_window *w, const char *actor, int64_t *new_id,
		       struct diag *d);

/* Planned sessions whose end + grace_hours <= now become missed (status_reason says
 * why), with a session.missed event each; *count (may be NULL) = how many. */
int session_mark_missed(struct store *st, time_t now, int grace_hours, int *count, struct diag *d);

/* One side of a session as a viewer may see it. */
struct session_side {
	int64_t person_id;
	char *external_id;
	char *name;
	int checked_in; /* a feedback row exists */
	enum session_outcome outcome;
	int rating;	   /* 0: none, or hidden */
	int rating_hidden; /* 1: there is a rating (or notes) this viewer may not see yet */
	char *notes;	   /* NULL: none, or hidden */
	int share_story;
	char *checked_in_at; /* ISO UTC, NULL when not checked in */
	char *skills_json;   /* [{topic, level}] this side assessed at this check-in, or NULL */
};

struct session_row {
	int64_t id;
	int64_t match_id;
	int64_t program_id;
	char *program; /* the program's name */
	time_t start;
	int duration_min;
	char *zone;
	enum session_status status;
	char *status_reason; /* NULL: none */
	char *planned_by;
	char *topic;				  /* NULL: none */
	char *agenda_json;			  /* JSON array */
	int64_t rescheduled_to, rescheduled_from; /* 0: none */
	int sequence;
	struct session_side mentor, mentee;
	int64_t cancelled_by; /* people.id of the side that cancelled it; 0: none recorded */
	int revealed; /* both rated, or the window closed: ratings visible to all */
};

struct session_filter {
	int64_t program_id; /* 0: every program */
	int64_t person_id;  /* 0: everyone; else sessions where the person is a side */
	int64_t match_id;   /* 0: every match */
	int64_t session_id; /* 0: every session */
	time_t from, until; /* from <= start < until; 0: open */
	int status;	    /* an enum session_status, or -1: any */
	int64_t viewer_id;  /* whose eyes (rating visibility); 0: an organizer/report */
	time_t now;	    /* for the reveal window; 0: the store's clock */
	/* A page (the HTTP API's cursor): only rows after (after_start, after_id) in the
	 * listing's order when after_id > 0; at most limit rows when limit > 0. */
	time_t after_start;
	int64_t after_id;
	int limit;
};

/* The sessions matching f, by start then id. *rows is the caller's: session_rows_free. */
int session_list(struct store *st, const struct session_filter *f, struct session_row **rows,
		 size_t *n, struct diag *d);
void session_rows_free(struct session_row *rows, size_t n);

/* One session as viewer sees it; DIAG_NOTFOUND "no session #ID". Free with
 * session_rows_free(row, 1). */
int session_get(struct store *st, int64_t id, int64_t viewer_id, struct session_row **row,
		struct diag *d);

/* Every session of a match (any state, ratings as an organizer sees them), by start: the
 * cadence's `history`. */
int session_history(struct store *st, int64_t match_id, struct session_row **rows, size_t *n,
		    struct diag *d);

/* A row as JSON: {id, match, program, start (UTC ISO), local ("YYYY-MM-DDTHH:MM" in zone),
 * zone, duration_min, status, status_reason, planned_by, topic, agenda [..],
 * rescheduled_to, rescheduled_from, sequence, cancelled_by (external id or null),
 * mentor {id, name, checked_in, outcome, rating, rating_hidden, notes, share_story,
 * checked_in_at, skills [{topic, level}]}, mentee {...}}; a side `people erase` removed
 * (NULL in the kept match) has id, external_id and name null. NULL on out of memory. */
json_t *session_row_json(const struct session_row *r);
/* A row's summary, for listings that page through many (GET /api/v1/sessions): {id, match,
 * program, start, local, zone, duration_min, status, topic, mentor {id, external_id, name,
 * checked_in}, mentee {...}}, the same values as session_row_json's; the details (reason,
 * planning, agenda, reschedule links, who cancelled, the check-ins' contents) are the one
 * session's. NULL on out of memory. */
json_t *session_row_summary_json(const struct session_row *r);

/* The pair's zone: matches.timezone, else the mentee's (malloc'd); DIAG_NOTFOUND for an
 * unknown match. */
int session_pair_zone(struct store *st, int64_t match_id, char **zone, struct diag *d);

/*
 * The topic (NULL when the pair and the program have none) and the agenda (a JSON array
 * of questions) of the match's session at start: the pair's shared topics (what the
 * mentor offers and the mentee wants, and the other way round; else what the mentee
 * wants; else the program's library), in the library's order, the k-th of them where k
 * counts the pair's earlier sessions that were not cancelled or moved; up to 3 of the
 * topic's questions, rotating too; a topic without questions gets two generic ones.
 * prog may be NULL (no library). Both outputs malloc'd.
 */
int session_agenda(struct store *st, const struct config_program *prog, int64_t match_id,
		   time_t start, char **topic, char **agenda_json, struct diag *d);

/*
 * A wall time "YYYY-MM-DDTHH:MM[:SS]" in zone (NULL: UTC), or an instant with a trailing
 * 'Z' (zone ignored), to UTC; a time in a DST gap moves forward by the gap, in an overlap
 * the first instant is taken (time/tz's rules). DIAG_INVALID naming the text.
 */
int session_parse_time(const char *text, const char *zone, time_t *out, struct diag *d);

#endif

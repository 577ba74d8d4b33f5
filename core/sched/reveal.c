/*
 * reveal: the rating windows closed, see reveal.h.
 */
#include "sched/reveal.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "events/events.h"
#include "program/session_reveal.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"

#define REVEAL_SECONDS (86400 * SESSION_REVEAL_DAYS)

/* A session whose window closes now: its pair and which sides rated. */
struct closing {
	int64_t id, match, program, mentor, mentee;
	int mentor_rated, mentee_rated;
};

/* The open windows whose close is at or before now, oldest first. */
static int
read_closing(struct store *st, time_t now, struct closing **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	char cutoff[STORE_TIME_MAX];
	if (store_format_time(now - REVEAL_SECONDS, cutoff) != 0)
		return diag_set(d, DIAG_INVALID, "closing rating windows: the clock is out of range");
	struct stmt s = {0};
	size_t cap = 0;
	int rc = stmt_prepare(
		     &s, st, "finding rating windows to close",
		     "SELECT s.id, s.match_id, m.program_id, m.mentor_id, m.mentee_id,"
		     " EXISTS (SELECT 1 FROM feedback f WHERE f.session_id = s.id AND"
		     "  f.author_id = m.mentor_id AND f.rating IS NOT NULL),"
		     " EXISTS (SELECT 1 FROM feedback f WHERE f.session_id = s.id AND"
		     "  f.author_id = m.mentee_id AND f.rating IS NOT NULL)"
		     " FROM sessions s JOIN matches m ON m.id = s.match_id"
		     " WHERE s.revealed_at IS NULL AND (s.status = 'held' OR s.status = 'missed')"
		     "  AND s.starts_at <= ?1 AND CAST(strftime('%s', s.starts_at) AS INTEGER) +"
		     "  60 * s.duration_min + ?2 <= ?3"
		     " ORDER BY s.starts_at, s.id",
		     d) ||
			 stmt_bind_text(&s, 1, cutoff, d) ||
			 stmt_bind_int64(&s, 2, REVEAL_SECONDS, d) ||
			 stmt_bind_int64(&s, 3, (int64_t)now, d)
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct closing *v = realloc(*out, nc * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory closing rating windows");
				break;
			}
			*out = v;
			cap = nc;
		}
		(*out)[(*n)++] = (struct closing){.id = stmt_int64(&s, 0),
						  .match = stmt_int64(&s, 1),
						  .program = stmt_int64(&s, 2),
						  .mentor = stmt_int64(&s, 3),
						  .mentee = stmt_int64(&s, 4),
						  .mentor_rated = (int)stmt_int64(&s, 5),
						  .mentee_rated = (int)stmt_int64(&s, 6)};
	}
	stmt_finalize(&s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* feedback.revealed about the one side that rated. */
static int
raise_revealed(struct store *st, const struct closing *c, struct diag *d)
{
	int by_mentor = c->mentor_rated;
	char payload[160];
	snprintf(payload, sizeof(payload), "{\"session\":%lld,\"match\":%lld,\"by\":\"%s\"}",
		 (long long)c->id, (long long)c->match, by_mentor ? "mentor" : "mentee");
	return events_append(st,
			     &(struct event){.kind = "feedback.revealed",
					     .actor = "tandem",
					     .subject_id = by_mentor ? c->mentor : c->mentee,
					     .program_id = c->program,
					     .payload_json = payload},
			     NULL, d);
}

int
reveal_due(struct store *st, time_t now, int *count, struct diag *d)
{
	if (count)
		*count = 0;
	char now_iso[STORE_TIME_MAX];
	if (store_format_time(now, now_iso) != 0)
		return diag_set(d, DIAG_INVALID, "closing rating windows: the clock is out of range");
	if (store_begin(st, d) != 0)
		return -1;
	struct closing *v = NULL;
	size_t n = 0;
	struct stmt up = {0};
	int raised = 0;
	int rc = read_closing(st, now, &v, &n, d);
	if (rc == 0 && n > 0)
		rc = stmt_prepare(&up, st, "closing a rating window",
				  "UPDATE sessions SET revealed_at = ?1 WHERE id = ?2", d);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (v[i].mentor_rated != v[i].mentee_rated) {
			rc = raise_revealed(st, &v[i], d);
			raised += rc == 0;
		}
		if (rc == 0)
			rc = stmt_bind_text(&up, 1, now_iso, d) || stmt_bind_int64(&up, 2, v[i].id, d) ||
				     stmt_run(&up, d)
				 ? -1
				 : 0;
	}
	stmt_finalize(&up);
	free(v);
	if (rc != 0 || store_commit(st, d) != 0) {
		store_rollback(st);
		return -1;
	}
	if (count)
		*count = raised;
	return 0;
}

int
reveal_next(struct store *st, time_t *at, struct diag *d)
{
	/* The earliest end of the open windows' sessions, read on sessions_reveal in start
	 * order (named: SQLite otherwise walks every held and missed row by sessions_due). */
	time_t end = 0;
	int r = sched__earliest_end(
	    st, "finding the next rating window to close",
	    "SELECT CAST(strftime('%s', starts_at) AS INTEGER),"
	    " CAST(strftime('%s', starts_at) AS INTEGER) + 60 * duration_min"
	    " FROM sessions INDEXED BY sessions_reveal"
	    " WHERE revealed_at IS NULL AND (status = 'held' OR status = 'missed')"
	    " ORDER BY starts_at",
	    &end, d);
	if (r == 0)
		*at = end + REVEAL_SECONDS;
	return r;
}

/*
 * sched/feedback: the check-ins (feedback rows, one per side and session) read back as a
 * list, in the order they were recorded. Writing them is session_checkin's (session.h).
 *
 * Called by: the HTTP API (GET /api/v1/feedback), tests. Read-only.
 *
 * Contract:
 *  - feedback_list_json: the rows with id > f->after_id, by id, at most f->limit (0: all),
 *    filtered by program, author (person) and session (0: any), as a JSON array of
 *    {id, session, match, program, author {id, name}, side ("mentor" | "mentee"),
 *    outcome, rating, notes, rating_hidden, share_story, actor, created_at}.
 *  - Ratings and notes follow session.h's visibility rule for an organizer (viewer 0):
 *    until both sides have rated or SESSION_REVEAL_DAYS after the session's end, rating
 *    and notes are null and rating_hidden is true when the side gave either.
 *    f->now (0: the store's clock) decides the window.
 */
#ifndef TANDEM_SCHED_FEEDBACK_H
#define TANDEM_SCHED_FEEDBACK_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

struct feedback_filter {
	int64_t after_id;   /* rows with id > after_id */
	int64_t program_id; /* 0: every program */
	int64_t person_id;  /* 0: every author */
	int64_t session_id; /* 0: every session */
	int limit;	    /* 0: no limit */
	time_t now;	    /* 0: the store's clock */
};

/* *out: a new JSON array. 0, or -1 + diag. */
int feedback_list_json(struct store *st, const struct feedback_filter *f, json_t **out,
		       struct diag *d);

#endif

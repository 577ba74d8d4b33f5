/*
 * session_internal: what session.c (writes), session_list.c (reads and the visibility
 * rule) and session_agenda.c (topics and questions) share. Not for other modules.
 */
#ifndef TANDEM_SESSION_INTERNAL_H
#define TANDEM_SESSION_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"
#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"

struct config_program;

/* "YYYY-MM-DDTHH:MM:SSZ" (as store_format_time writes) to time_t; 0 or -1 (no diag). */
int session_utc_parse(const char *text, time_t *out);

/* Appends an event of kind about program_id (payload taken over; NULL: {}), subject a
 * person id or 0. */
int session_event(struct store *st, const char *kind, const char *actor, int64_t subject,
		  int64_t program_id, json_t *payload, struct diag *d);

/* A match as the writers need it (session.c). */
struct session_pair {
	int64_t program_id, mentor, mentee; /* a side 0 and its ext "": erased (the match
					     * detached, its past sessions kept) */
	char status[16];
	char zone[128]; /* matches.timezone, else the mentee's, else the mentor's */
	char mentor_ext[128], mentee_ext[128];
};

/* Another planned or held session (not skip_id) of person a or b overlapping
 * [start, start + minutes): 1 with its id and start (ISO UTC) in *other and other_at,
 * 0 none, -1 + diag. A session of match_id starting exactly at start is left to the
 * natural key (the caller's own message). */
int session_overlap(struct store *st, int64_t a, int64_t b, int64_t skip_id, int64_t match_id,
		    time_t start, int minutes, int64_t *other, char other_at[STORE_TIME_MAX],
		    struct diag *d);

/* Column col as text into buf ("" for NULL). */
void session_copy_col(struct stmt *s, int col, char *buf, size_t size);

/* The statement session_pair_read runs (prepared once by a batch). */
int session_pair_prepare(struct stmt *s, struct store *st, struct diag *d);
/* Reads match_id's pair with s, then resets it; DIAG_NOTFOUND "no match #N". */
int session_pair_read(struct stmt *s, int64_t match_id, struct session_pair *p, struct diag *d);

/* The agenda's statements, prepared once for a batch of sessions (session_agenda.c), and
 * the candidate topics of the last pair it read (a batch comes pair by pair; its topics
 * do not change inside the batch's transaction). */
struct session_agenda_ctx {
	struct stmt wants, count;
	int64_t cand_match; /* 0: none yet */
	const struct config_program *cand_prog;
	json_t *cand;
};
int session_agenda_open(struct session_agenda_ctx *a, struct store *st, struct diag *d);
void session_agenda_close(struct session_agenda_ctx *a);
/* session_agenda() with a's statements; `before` sessions of the pair before start that
 * the caller holds and has not written yet count as the table's do. */
int session_agenda_with(struct session_agenda_ctx *a, const struct config_program *prog,
			int64_t match_id, time_t start, int64_t before, char **topic,
			char **agenda_json, struct diag *d);

/* Skill self-assessments of a check-in (session_skill.c): the checks that need no database
 * (DIAG_INVALID naming the skill), the side and the program's library, whether a retry's
 * skills equal the stored ones (1, 0, or -1 on error), and the insert (now: ISO UTC). */
int session_skills_valid(const struct session_checkin *c, struct diag *d);
int session_skills_check(struct store *st, int64_t session_id, const struct session_pair *p,
			 const struct session_checkin *c, struct diag *d);
int session_skills_same(struct store *st, int64_t session_id, const struct session_checkin *c,
			struct diag *d);
int session_skills_insert(struct store *st, int64_t session_id, int64_t program_id,
			  const struct session_checkin *c, const char *now, struct diag *d);

#endif

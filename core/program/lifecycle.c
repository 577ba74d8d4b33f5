/*
 * lifecycle: match activation and ending. See lifecycle.h for the rules.
 *
 * Why the sessions of an ending match are cancelled here with one UPDATE instead of
 * through sched/session: sched/ sits above program/ (core/layers.txt), so program/
 * cannot call it. The statement keeps session.c's rules for a cancel (planned rows only,
 * status_reason, sequence bumped, updated_at, one session.cancelled event per row).
 */
#include "program/lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "events/events.h"
#include "program/config.h"
#include "program/matches.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/tz.h"

/* Appends kind with payload (taken over) for a match in program_id. */
static int
match_event(struct store *st, const char *kind, const char *actor, int64_t program_id,
	    json_t *payload, struct diag *d)
{
	char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct event ev = {
	    .kind = kind, .actor = actor, .program_id = program_id, .payload_json = text};
	int rc = events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

/* Cancels the planned sessions of match_id that start after now_iso, one event each. */
static int
cancel_future_sessions(struct store *st, int64_t match_id, int64_t program_id, const char *reason,
		       const char *actor, const char *now_iso, int *cancelled, struct diag *d)
{
	char why[512];
	snprintf(why, sizeof(why), "match ended: %s", reason);
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "cancelling the sessions of an ending match",
			      "UPDATE sessions SET status = 'cancelled', status_reason = ?1, "
			      "sequence = sequence + 1, updated_at = ?2 "
			      "WHERE match_id = ?3 AND status = 'planned' AND starts_at > ?2 "
			      "RETURNING id, starts_at",
			      d);
	if (rc == 0)
		rc = stmt_bind_text(&s, 1, why, d) || stmt_bind_text(&s, 2, now_iso, d) ||
		     stmt_bind_int64(&s, 3, match_id, d);
	/* RETURNING rows are all computed at the first step, so appending events between
	 * steps does not disturb the update. */
	json_t *ids = json_array();
	if (ids == NULL && rc == 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *at = NULL;
		rc = stmt_text(&s, 1, &at, d);
		if (rc == 0) {
			json_t *o = json_pack("{sI sI ss* ss}", "session",
					      (json_int_t)stmt_int64(&s, 0), "match",
					      (json_int_t)match_id, "starts_at", at, "reason", why);
			json_array_append_new(ids, o);
		}
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(ids);
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(ids, i, o)
	{
		if (match_event(st, "session.cancelled", actor, program_id, json_incref(o), d) !=
		    0) {
			json_decref(ids);
			return -1;
		}
	}
	if (cancelled)
		*cancelled = (int)json_array_size(ids);
	json_decref(ids);
	return 0;
}

/* Status, program, ended_at and end_reason of a match; DIAG_NOTFOUND when none. */
static int
load_match(struct store *st, int64_t id, char *status, size_t size, int64_t *program_id,
	   char *ended, size_t ended_size, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "reading the match",
			      "SELECT status, program_id, COALESCE(ended_at, '') || ' (' || "
			      "COALESCE(end_reason, '') || ')' FROM matches WHERE id = ?1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *t = NULL, *e = NULL;
		rc = stmt_text(&s, 0, &t, d) || stmt_text(&s, 2, &e, d) ? -1 : STMT_ROW;
		if (rc == STMT_ROW) {
			snprintf(status, size, "%s", t ? t : "");
			snprintf(ended, ended_size, "%s", e ? e : "");
			*program_id = stmt_int64(&s, 1);
		}
	}
	stmt_finalize(&s);
	if (rc == STMT_DONE)
		return diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)id);
	return rc == STMT_ROW ? 0 : -1;
}

int
lifecycle_end(struct store *st, int64_t match_id, const char *reason, const char *actor,
	      int *cancelled, struct diag *d)
{
	if (cancelled)
		*cancelled = 0;
	if (reason == NULL || reason[0] == '\0')
		return diag_set(d, DIAG_INVALID, "ending match #%lld needs a reason",
				(long long)match_id);
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	if (store_begin(st, d) != 0)
		return -1;
	char status[32], ended[STORE_TIME_MAX + 300];
	int64_t program_id = 0;
	if (load_match(st, match_id, status, sizeof(status), &program_id, ended, sizeof(ended),
		       d) != 0)
		goto fail;
	if (strcmp(status, "ended") == 0) {
		diag_set(d, DIAG_CONFLICT, "match #%lld already ended at %s", (long long)match_id,
			 ended);
		goto fail;
	}
	if (strcmp(status, "approved") != 0 && strcmp(status, "active") != 0) {
		diag_set(d, DIAG_CONFLICT,
			 "match #%lld is %s: only an approved or active match can end",
			 (long long)match_id, status);
		goto fail;
	}
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "ending the match",
			 "UPDATE matches SET status = 'ended', ended_at = ?1, end_reason = ?2 "
			 "WHERE id = ?3",
			 d) ||
	    stmt_bind_text(&s, 1, now, d) || stmt_bind_text(&s, 2, reason, d) ||
	    stmt_bind_int64(&s, 3, match_id, d) || stmt_run(&s, d)) {
		stmt_finalize(&s);
		goto fail;
	}
	stmt_finalize(&s);
	int n = 0;
	if (cancel_future_sessions(st, match_id, program_id, reason, actor, now, &n, d) != 0)
		goto fail;
	json_t *p = json_pack("{sI ss ss si}", "match", (json_int_t)match_id, "from", status,
			      "reason", reason, "sessions_cancelled", n);
	if (match_event(st, "match.ended", actor, program_id, p, d) != 0)
		goto fail;
	if (store_commit(st, d) != 0)
		return -1;
	if (cancelled)
		*cancelled = n;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* The ids of a program's matches in status (a list the caller frees). */
static int
match_ids(struct store *st, int64_t program_id, const char *status, int64_t **ids, size_t *n,
	  struct diag *d)
{
	*ids = NULL;
	*n = 0;
	size_t cap = 0;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "listing the program's matches",
			      "SELECT id FROM matches WHERE program_id = ?1 AND status = ?2 "
			      "ORDER BY id",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, program_id, d) || stmt_bind_text(&s, 2, status, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			int64_t *v = realloc(*ids, ncap * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*ids = v;
			cap = ncap;
		}
		(*ids)[(*n)++] = stmt_int64(&s, 0);
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Activates the approved matches of a program that has started. */
static int
activate_program(struct store *st, int64_t program_id, const char *program, const char *now,
		 int *count, struct diag *d)
{
	int64_t *ids;
	size_t n;
	if (match_ids(st, program_id, "approved", &ids, &n, d) != 0)
		return -1;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "activating a match",
			      "UPDATE matches SET status = 'active', activated_at = ?1 "
			      "WHERE id = ?2 AND status = 'approved'",
			      d);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = stmt_bind_text(&s, 1, now, d) || stmt_bind_int64(&s, 2, ids[i], d) ||
		     stmt_run(&s, d);
		if (rc == 0) {
			json_t *p =
			    json_pack("{sI ss}", "match", (json_int_t)ids[i], "program", program);
			rc = match_event(st, "match.activated", NULL, program_id, p, d);
		}
		if (rc == 0)
			(*count)++;
	}
	stmt_finalize(&s);
	free(ids);
	return rc == 0 ? 0 : -1;
}

/* Ends the approved and active matches of a program that is over. */
static int
end_program(struct store *st, int64_t program_id, int *ended, struct diag *d)
{
	static const char *const states[] = {"approved", "active"};
	for (int k = 0; k < 2; k++) {
		int64_t *ids;
		size_t n;
		if (match_ids(st, program_id, states[k], &ids, &n, d) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (lifecycle_end(st, ids[i], LIFECYCLE_PROGRAM_ENDED, NULL, NULL, d) !=
			    0) {
				free(ids);
				return -1;
			}
			(*ended)++;
		}
		free(ids);
	}
	return 0;
}

/* Appends program.started or program.ended for a program the first time the activation job
 * sees it start or end (the event log itself says whether it was already recorded). */
static int
program_event_once(struct store *st, int64_t program_id, const char *program, const char *kind,
		   const char *date, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "looking for the program's event",
			      "SELECT 1 FROM events WHERE kind = ?1 AND program_id = ?2 LIMIT 1", d);
	if (rc == 0)
		rc = stmt_bind_text(&s, 1, kind, d) || stmt_bind_int64(&s, 2, program_id, d)
			 ? -1
			 : stmt_step(&s, d);
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	if (rc == STMT_ROW)
		return 0;
	json_t *p = json_pack("{ss ss}", "program", program,
			      strcmp(kind, "program.started") == 0 ? "starts_on" : "ends_on",
			      date ? date : "");
	return match_event(st, kind, NULL, program_id, p, d);
}

/* 1 when the database has a row for the program (*id set), 0 when not, -1 on error. */
static int
program_row(struct store *st, const char *name, int64_t *id, struct diag *d)
{
	struct diag nf;
	diag_clear(&nf);
	if (matches_program_id(st, name, id, &nf) == 0)
		return 1;
	if (nf.code == DIAG_NOTFOUND)
		return 0;
	if (d)
		*d = nf;
	return -1;
}

int
lifecycle_run_due(struct store *st, const struct config *cfg, time_t now, int *count, int *ended,
		  struct diag *d)
{
	int nact = 0, nend = 0;
	if (count)
		*count = 0;
	if (ended)
		*ended = 0;
	struct tm local;
	if (tz_utc_to_local(cfg->timezone, now, &local, d) != 0)
		return diag_prefix(d, "activating matches");
	char today[48], stamp[STORE_TIME_MAX];
	snprintf(today, sizeof(today), "%04d-%02d-%02d", local.tm_year + 1900, local.tm_mon + 1,
		 local.tm_mday);
	if (store_format_time(now, stamp) != 0)
		return diag_set(d, DIAG_INVALID, "activating matches: time out of range");
	if (store_begin(st, d) != 0)
		return -1;
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct config_program *p = &cfg->programs[i];
		int64_t pid;
		int has = program_row(st, p->name, &pid, d);
		if (has < 0)
			goto fail;
		if (has == 0)
			continue;
		if (p->ends != NULL && strcmp(p->ends, today) < 0) {
			if (end_program(st, pid, &nend, d) != 0 ||
			    program_event_once(st, pid, p->name, "program.ended", p->ends, d) != 0)
				goto fail;
		} else if (p->starts == NULL || strcmp(p->starts, today) <= 0) {
			if (program_event_once(st, pid, p->name, "program.started", p->starts, d) !=
				0 ||
			    activate_program(st, pid, p->name, stamp, &nact, d) != 0)
				goto fail;
		}
	}
	if (store_commit(st, d) != 0)
		return -1;
	if (count)
		*count = nact;
	if (ended)
		*ended = nend;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

int
lifecycle_activate_due(struct store *st, const struct config *cfg, time_t now, int *count,
		       struct diag *d)
{
	return lifecycle_run_due(st, cfg, now, count, NULL, d);
}

/* Parses a match id "12" or "#12"; 1 when pair is one, 0 when not. */
static int
parse_id(const char *pair, int64_t *id)
{
	const char *p = pair[0] == '#' ? pair + 1 : pair;
	if (*p < '0' || *p > '9')
		return 0;
	char *end;
	long long v = strtoll(p, &end, 10);
	if (*end != '\0' || v <= 0)
		return 0;
	*id = v;
	return 1;
}

int
lifecycle_find_match(struct store *st, int64_t program_id, const char *pair, int64_t *id,
		     struct diag *d)
{
	if (parse_id(pair, id)) {
		struct stmt s = {0};
		int rc = stmt_prepare(&s, st, "finding the match",
				      "SELECT 1 FROM matches WHERE id = ?1", d);
		if (rc == 0)
			rc = stmt_bind_int64(&s, 1, *id, d) ? -1 : stmt_step(&s, d);
		stmt_finalize(&s);
		if (rc == STMT_DONE)
			return diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)*id);
		return rc == STMT_ROW ? 0 : -1;
	}
	const char *colon = strchr(pair, ':');
	if (colon == NULL || colon == pair || colon[1] == '\0' || strchr(colon + 1, ':'))
		return diag_set(d, DIAG_INVALID,
				"'%s' names no match: give a match id or MENTOR:MENTEE", pair);
	char mentor_key[256];
	snprintf(mentor_key, sizeof(mentor_key), "%.*s", (int)(colon - pair), pair);
	int64_t mentor, mentee;
	if (matches_find_person(st, mentor_key, &mentor, d) != 0 ||
	    matches_find_person(st, colon + 1, &mentee, d) != 0)
		return -1;
	struct stmt s = {0};
	int rc =
	    stmt_prepare(&s, st, "finding the pair's match",
			 "SELECT id FROM matches WHERE mentor_id = ?1 AND mentee_id = ?2 "
			 "AND status IN ('approved', 'active') AND (?3 = 0 OR program_id = ?3) "
			 "ORDER BY id",
			 d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, mentor, d) || stmt_bind_int64(&s, 2, mentee, d) ||
		     stmt_bind_int64(&s, 3, program_id, d);
	int found = 0;
	char list[256] = "";
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		int64_t m = stmt_int64(&s, 0);
		if (found++ == 0)
			*id = m;
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s#%lld", len ? ", " : "", (long long)m);
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return -1;
	if (found == 0)
		return diag_set(d, DIAG_NOTFOUND, "%s and %s have no approved or active match",
				mentor_key, colon + 1);
	if (found > 1)
		return diag_set(d, DIAG_CONFLICT,
				"%s and %s have %d current matches (%s): give the match id",
				mentor_key, colon + 1, found, list);
	return 0;
}

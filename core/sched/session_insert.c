/*
 * session_insert: materializing sessions under their natural key (session.h).
 *
 * The planner inserts thousands of sessions at a time (every pair, up to the horizon,
 * every hour, most of them already there), so the batch prepares its statements once
 * (the session's insert and lookup, the pair, the agenda's queries, the events writer)
 * and keeps the last pair it read and the last zone it checked: preparing a statement
 * costs tens of microseconds against a few for a step, and was most of the time of an
 * insert when each one prepared its own. session_insert is a batch of one. The insert
 * reads its new id from sqlite3_changes/last_insert_rowid, not a RETURNING clause (which
 * makes SQLite build and drop an ephemeral table for every row: half the insert's cost).
 *
 * Each session: the match must be approved or active; the instant is looked up first
 * (a plain ON CONFLICT DO NOTHING would still consume an AUTOINCREMENT id for every
 * instant planned again, leaving gaps); when new, the agenda is chosen (if the caller
 * gave a topic library and no agenda), the row inserted and session.planned appended.
 */
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "events/events.h"
#include "sched/session.h"
#include "sched/session_internal.h"
#include "store/stmt.h"
#include "time/tz.h"

/* 0 when text is a JSON array of strings. */
static int
check_agenda(const char *text, struct diag *d)
{
	json_error_t err;
	json_t *a = json_loads(text, 0, &err);
	int ok = json_is_array(a);
	size_t i;
	json_t *q;
	json_array_foreach(a, i, q)
	{
		ok &= json_is_string(q);
	}
	json_decref(a);
	return ok ? 0
		  : diag_set(d, DIAG_INVALID, "agenda '%.80s' is not a JSON array of strings",
			     text);
}

/* What a batch keeps between its sessions. */
struct inserter {
	struct store *st;
	struct stmt pair, find, ins;
	struct events_writer events;
	struct session_agenda_ctx agenda;
	int have_agenda;
	int64_t pair_id; /* the match p describes; 0: none yet */
	struct session_pair p;
	char zone_ok[128]; /* the last zone tz_check accepted */
	char now[STORE_TIME_MAX];
};

static int
inserter_open(struct inserter *in, struct store *st, struct diag *d)
{
	memset(in, 0, sizeof(*in));
	in->st = st;
	if (store_timestamp(st, in->now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	return session_pair_prepare(&in->pair, st, d) ||
		       stmt_prepare(
			   &in->find, st, "looking for the session",
			   "SELECT id FROM sessions WHERE match_id = ?1 AND starts_at = ?2", d) ||
		       stmt_prepare(&in->ins, st, "inserting a session",
				    "INSERT INTO sessions (match_id, starts_at, duration_min, "
				    "timezone, planned_by, topic, agenda, created_at, updated_at) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
				    "ON CONFLICT (match_id, starts_at) DO NOTHING",
				    d) ||
		       events_writer_init(&in->events, st, d)
		   ? -1
		   : 0;
}

static void
inserter_close(struct inserter *in)
{
	stmt_finalize(&in->pair);
	stmt_finalize(&in->find);
	stmt_finalize(&in->ins);
	events_writer_fini(&in->events);
	if (in->have_agenda)
		session_agenda_close(&in->agenda);
}

/* The id of the match's session at start (the text form), or 0; -1 on error. */
static int64_t
find_existing(struct inserter *in, int64_t match_id, const char *start, struct diag *d)
{
	int rc =
	    stmt_bind_int64(&in->find, 1, match_id, d) || stmt_bind_text(&in->find, 2, start, d)
		? -1
		: stmt_step(&in->find, d);
	int64_t id = rc == STMT_ROW ? stmt_int64(&in->find, 0) : 0;
	if (rc < 0 || stmt_reset(&in->find, d) != 0)
		return -1;
	return id;
}

static int
insert_one(struct inserter *in, const struct session_new *sn, int64_t *id_out, struct diag *d)
{
	*id_out = 0;
	int duration = sn->duration_min ? sn->duration_min : 60;
	if (duration < 1 || duration > 1440)
		return diag_set(d, DIAG_INVALID, "session duration %d minutes is not 1 to 1440",
				sn->duration_min);
	char start[STORE_TIME_MAX];
	if (store_format_time(sn->start, start) != 0)
		return diag_set(d, DIAG_INVALID, "session start out of range");
	if (sn->agenda_json && check_agenda(sn->agenda_json, d) != 0)
		return -1;
	if (in->pair_id != sn->match_id) {
		in->pair_id = 0;
		if (session_pair_read(&in->pair, sn->match_id, &in->p, d) != 0)
			return -1;
		in->pair_id = sn->match_id;
	}
	const struct session_pair *p = &in->p;
	if (strcmp(p->status, "approved") != 0 && strcmp(p->status, "active") != 0)
		return diag_set(
		    d, DIAG_CONFLICT,
		    "match #%lld is %s: sessions are planned for approved or active matches",
		    (long long)sn->match_id, p->status);
	/* The pair's own zone was checked when the person was imported; a zone the caller
	 * names is checked here, once per zone in a row. */
	const char *zone = sn->zone ? sn->zone : p->zone;
	if (sn->zone && strcmp(zone, in->zone_ok) != 0) {
		if (tz_check(zone, d) != 0)
			return -1;
		snprintf(in->zone_ok, sizeof(in->zone_ok), "%s", zone);
	}
	int64_t existing = find_existing(in, sn->match_id, start, d);
	if (existing != 0)
		return existing < 0 ? -1 : 0;
	char *topic = NULL, *agenda = NULL;
	if (sn->agenda_json == NULL && sn->prog != NULL) {
		if (!in->have_agenda) {
			if (session_agenda_open(&in->agenda, in->st, d) != 0)
				return -1;
			in->have_agenda = 1;
		}
		if (session_agenda_with(&in->agenda, sn->prog, sn->match_id, sn->start, &topic,
					&agenda, d) != 0)
			return -1;
	}
	const char *use_topic = sn->topic ? sn->topic : topic;
	const char *use_agenda = sn->agenda_json ? sn->agenda_json : agenda ? agenda : "[]";
	const char *by = sn->planned_by ? sn->planned_by : "manual";
	struct stmt *s = &in->ins;
	int rc = stmt_bind_int64(s, 1, sn->match_id, d) || stmt_bind_text(s, 2, start, d) ||
			 stmt_bind_int64(s, 3, duration, d) || stmt_bind_text(s, 4, zone, d) ||
			 stmt_bind_text(s, 5, by, d) || stmt_bind_text(s, 6, use_topic, d) ||
			 stmt_bind_text(s, 7, use_agenda, d) || stmt_bind_text(s, 8, in->now, d)
		     ? -1
		     : stmt_step(s, d);
	sqlite3 *db = store_db(in->st);
	/* One row or none (the instant existed after all): the trigger's update is not counted. */
	int64_t id = rc == STMT_DONE && sqlite3_changes(db) == 1 ? sqlite3_last_insert_rowid(db) : 0;
	/* Reset before the next bind: the texts bound above are freed below. */
	if (rc < 0 || stmt_reset(s, d) != 0)
		rc = -1;
	free(topic);
	free(agenda);
	if (rc != STMT_DONE)
		return -1;
	if (id == 0)
		return 0;
	json_t *ev = json_pack("{sI sI ss ss si}", "session", (json_int_t)id, "match",
			       (json_int_t)sn->match_id, "starts_at", start, "planned_by", by,
			       "duration_min", duration);
	char *text = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct event e = {.kind = "session.planned", .program_id = p->program_id,
			  .payload_json = text};
	rc = events_writer_append(&in->events, &e, NULL, d);
	free(text);
	if (rc != 0)
		return -1;
	*id_out = id;
	return 0;
}

int
session_insert_many(struct store *st, const struct session_new *v, size_t n, int64_t *ids,
		    size_t *inserted, struct diag *d)
{
	if (inserted)
		*inserted = 0;
	if (store_begin(st, d) != 0)
		return -1;
	struct inserter in;
	size_t count = 0;
	if (inserter_open(&in, st, d) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		if (insert_one(&in, &v[i], &id, d) != 0)
			goto fail;
		if (ids)
			ids[i] = id;
		count += id != 0;
	}
	inserter_close(&in);
	crash_point("session.batch");
	if (store_commit(st, d) != 0)
		return -1;
	if (inserted)
		*inserted = count;
	return 0;
fail:
	inserter_close(&in);
	store_rollback(st);
	return -1;
}

int
session_insert(struct store *st, const struct session_new *s, int64_t *id_out, struct diag *d)
{
	int64_t id = 0;
	int rc = session_insert_many(st, s, 1, &id, NULL, d);
	if (id_out)
		*id_out = rc == 0 ? id : 0;
	return rc;
}

/*
 * session_insert: materializing sessions under their natural key (session.h).
 *
 * The planner inserts thousands of sessions at a time (every pair, up to the horizon,
 * most of them new on a program's first plan), so a batch works in two passes inside
 * its transaction level:
 *  1. each session is checked (duration, start, agenda, the pair's state, the zone) and
 *     looked up (the instant may exist in any state, in the table or earlier in the
 *     batch); a new one gets its agenda (if the caller gave a topic library and no
 *     agenda: the pair's earlier sessions counted in the table plus those the batch
 *     holds before it) and is kept in memory;
 *  2. the new rows are written BATCH_ROWS at a time by one multi-row INSERT, in the
 *     batch's order (so AUTOINCREMENT numbers them as one insert each would), and their
 *     session.planned events appended by one statement (events_append_rows) in id order.
 * One statement per row cost most of the insert in SQLite's per-statement work: the
 * statement journal a row with a foreign key and a trigger opens (every page it touches
 * copied), the RETURNING clause's ephemeral table, the event's own statement. The
 * statements are prepared once per batch and the last pair read and the last zone
 * checked are kept. session_insert is a batch of one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "events/events.h"
#include "sched/session.h"
#include "sched/session_internal.h"
#include "store/stmt.h"
#include "time/tz.h"

/* Rows per INSERT: 7 parameters each and one shared, under SQLite's historic limit of 999. */
enum { BATCH_ROWS = 128 };

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

/* A new session kept for pass 2. */
struct pending {
	int64_t match_id;
	time_t start;
	char start_text[STORE_TIME_MAX];
	int duration;
	const char *zone, *by, *topic, *agenda; /* the caller's, or own_* */
	char *own_topic, *own_agenda;
	size_t index; /* in the caller's array */
	size_t prev;  /* the batch's previous new session of the same match; SIZE_MAX: none */
};

/* What a batch keeps between its sessions. */
struct inserter {
	struct store *st;
	struct stmt pair, find;
	struct session_agenda_ctx agenda;
	int have_agenda;
	int64_t pair_id; /* the match p describes; 0: none yet */
	struct session_pair p;
	char zone_ok[128]; /* the last zone tz_check accepted */
	char now[STORE_TIME_MAX];
	struct pending *v;
	size_t n, cap;
	/* match id -> its last pending session (open addressing; 0 is no match id) */
	int64_t *hkey;
	size_t *hval;
	size_t hcap;
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
			   "SELECT id FROM sessions WHERE match_id = ?1 AND starts_at = ?2", d)
		   ? -1
		   : 0;
}

static void
inserter_close(struct inserter *in)
{
	stmt_finalize(&in->pair);
	stmt_finalize(&in->find);
	if (in->have_agenda)
		session_agenda_close(&in->agenda);
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].own_topic);
		free(in->v[i].own_agenda);
	}
	free(in->v);
	free(in->hkey);
	free(in->hval);
}

/* The slot of match_id in the table (its own, or the empty one where it goes). */
static size_t
slot_of(const struct inserter *in, int64_t match_id)
{
	uint64_t h = (uint64_t)match_id * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 20) & (in->hcap - 1);
	while (in->hkey[i] != 0 && in->hkey[i] != match_id)
		i = (i + 1) & (in->hcap - 1);
	return i;
}

/* The last pending session of match_id, SIZE_MAX when none. */
static size_t
last_of(const struct inserter *in, int64_t match_id)
{
	if (in->hcap == 0)
		return SIZE_MAX;
	size_t i = slot_of(in, match_id);
	return in->hkey[i] == match_id ? in->hval[i] : SIZE_MAX;
}

/* Records pending session k as match_id's last; the table stays at most half full. */
static int
set_last(struct inserter *in, int64_t match_id, size_t k, struct diag *d)
{
	if (in->hcap == 0 || (in->n + 1) * 2 > in->hcap) {
		size_t cap = in->hcap ? in->hcap * 2 : 64;
		int64_t *old_key = in->hkey;
		size_t *old_val = in->hval, old_cap = in->hcap;
		in->hkey = calloc(cap, sizeof(*in->hkey));
		in->hval = calloc(cap, sizeof(*in->hval));
		if (in->hkey == NULL || in->hval == NULL) {
			free(in->hkey);
			free(in->hval);
			in->hkey = old_key;
			in->hval = old_val;
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		}
		in->hcap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old_key[i] != 0) {
				size_t j = slot_of(in, old_key[i]);
				in->hkey[j] = old_key[i];
				in->hval[j] = old_val[i];
			}
		free(old_key);
		free(old_val);
	}
	size_t i = slot_of(in, match_id);
	in->hkey[i] = match_id;
	in->hval[i] = k;
	return 0;
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

/* Pass 1 for one session: checked, and kept when new. */
static int
check_one(struct inserter *in, const struct session_new *sn, size_t index, struct diag *d)
{
	int duration = sn->duration_min ? sn->duration_min : 60;
	if (duration < 1 || duration > 1440)
		return diag_set(d, DIAG_INVALID, "session duration %d minutes is not 1 to 1440",
				sn->duration_min);
	struct pending e = {.match_id = sn->match_id, .start = sn->start, .duration = duration,
			    .index = index, .prev = SIZE_MAX};
	if (store_format_time(sn->start, e.start_text) != 0)
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
	e.zone = sn->zone ? sn->zone : p->zone;
	if (sn->zone && strcmp(e.zone, in->zone_ok) != 0) {
		if (tz_check(e.zone, d) != 0)
			return -1;
		snprintf(in->zone_ok, sizeof(in->zone_ok), "%s", e.zone);
	}
	int64_t existing = find_existing(in, sn->match_id, e.start_text, d);
	if (existing != 0)
		return existing < 0 ? -1 : 0;
	/* Earlier in this batch: the same instant is there already; those before it count
	 * for the agenda as the table's do (they are planned). */
	int64_t before = 0;
	e.prev = last_of(in, sn->match_id);
	for (size_t k = e.prev; k != SIZE_MAX; k = in->v[k].prev) {
		if (in->v[k].start == sn->start)
			return 0;
		before += in->v[k].start < sn->start;
	}
	if (sn->agenda_json == NULL && sn->prog != NULL) {
		if (!in->have_agenda) {
			if (session_agenda_open(&in->agenda, in->st, d) != 0)
				return -1;
			in->have_agenda = 1;
		}
		if (session_agenda_with(&in->agenda, sn->prog, sn->match_id, sn->start, before,
					&e.own_topic, &e.own_agenda, d) != 0)
			return -1;
	}
	e.topic = sn->topic ? sn->topic : e.own_topic;
	e.agenda = sn->agenda_json ? sn->agenda_json : e.own_agenda ? e.own_agenda : "[]";
	e.by = sn->planned_by ? sn->planned_by : "manual";
	if (in->n == in->cap) {
		size_t nc = in->cap ? in->cap * 2 : 64;
		struct pending *v = realloc(in->v, nc * sizeof(*v));
		if (v == NULL) {
			free(e.own_topic);
			free(e.own_agenda);
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		}
		in->v = v;
		in->cap = nc;
	}
	in->v[in->n] = e;
	if (set_last(in, sn->match_id, in->n, d) != 0) {
		free(e.own_topic);
		free(e.own_agenda);
		return -1;
	}
	in->n++;
	return 0;
}

/* The INSERT of k rows: ?1 the time, then 7 parameters a row. */
static int
prepare_rows(struct stmt *s, struct store *st, size_t k, struct diag *d)
{
	static const char head[] = "INSERT INTO sessions (match_id, starts_at, duration_min, "
				   "timezone, planned_by, topic, agenda, created_at, updated_at) "
				   "VALUES ";
	size_t size = sizeof(head) + k * 64;
	char *sql = malloc(size);
	if (sql == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory inserting sessions");
	size_t len = (size_t)snprintf(sql, size, "%s", head);
	for (size_t j = 0; j < k; j++) {
		int b = (int)(2 + 7 * j);
		len += (size_t)snprintf(sql + len, size - len, "%s(?%d,?%d,?%d,?%d,?%d,?%d,?%d,?1,?1)",
					j ? "," : "", b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6);
	}
	int rc = stmt_prepare(s, st, "inserting sessions", sql, d);
	free(sql);
	return rc;
}

/* Pass 2: rows [at, at + k) of the batch by one INSERT; their ids into ids. */
static int
write_rows(struct inserter *in, struct stmt *s, size_t at, size_t k, int64_t *ids,
	   struct diag *d)
{
	int rc = stmt_bind_text(s, 1, in->now, d);
	for (size_t j = 0; rc == 0 && j < k; j++) {
		const struct pending *e = &in->v[at + j];
		int b = (int)(2 + 7 * j);
		rc = stmt_bind_int64(s, b, e->match_id, d) ||
			     stmt_bind_text(s, b + 1, e->start_text, d) ||
			     stmt_bind_int64(s, b + 2, e->duration, d) ||
			     stmt_bind_text(s, b + 3, e->zone, d) ||
			     stmt_bind_text(s, b + 4, e->by, d) ||
			     stmt_bind_text(s, b + 5, e->topic, d) ||
			     stmt_bind_text(s, b + 6, e->agenda, d)
			 ? -1
			 : 0;
	}
	if (rc == 0)
		rc = stmt_run(s, d);
	if (rc != 0)
		return -1;
	/* The rows of one INSERT are numbered in order; checked on the first one. */
	sqlite3 *db = store_db(in->st);
	int64_t last = sqlite3_last_insert_rowid(db);
	int64_t first = find_existing(in, in->v[at].match_id, in->v[at].start_text, d);
	if (first < 0)
		return -1;
	if (sqlite3_changes(db) != (int)k || first != last - (int64_t)k + 1)
		return diag_set(d, DIAG_INTERNAL,
				"inserting sessions: %d rows numbered %lld..%lld, not %zu from %lld",
				sqlite3_changes(db), (long long)first, (long long)last, k,
				(long long)first);
	for (size_t j = 0; j < k; j++)
		ids[in->v[at + j].index] = first + (int64_t)j;
	return 0;
}

/* Pass 2: every new row, then their session.planned events in id order. */
static int
write_all(struct inserter *in, int64_t *ids, struct diag *d)
{
	struct stmt full = {0}, rest = {0};
	int rc = 0;
	size_t at = 0;
	if (in->n >= BATCH_ROWS)
		rc = prepare_rows(&full, in->st, BATCH_ROWS, d);
	for (; rc == 0 && in->n - at >= BATCH_ROWS; at += BATCH_ROWS)
		rc = write_rows(in, &full, at, BATCH_ROWS, ids, d);
	stmt_finalize(&full);
	if (rc == 0 && at < in->n) {
		rc = prepare_rows(&rest, in->st, in->n - at, d) ||
			     write_rows(in, &rest, at, in->n - at, ids, d)
			 ? -1
			 : 0;
		stmt_finalize(&rest);
	}
	if (rc != 0 || in->n == 0)
		return rc;
	/* Every session from the batch's first id on is the batch's (AUTOINCREMENT). */
	int64_t n = 0;
	rc = events_append_rows(
	    in->st, "session.planned",
	    "SELECT NULL, NULL, m.program_id, json_object('session', s.id, 'match', s.match_id, "
	    "'starts_at', s.starts_at, 'planned_by', s.planned_by, 'duration_min', "
	    "s.duration_min) FROM sessions s JOIN matches m ON m.id = s.match_id "
	    "WHERE s.id >= ?1 ORDER BY s.id",
	    ids[in->v[0].index], &n, d);
	if (rc == 0 && n != (int64_t)in->n)
		rc = diag_set(d, DIAG_INTERNAL, "session.planned: %lld events for %zu sessions",
			      (long long)n, in->n);
	return rc;
}

int
session_insert_many(struct store *st, const struct session_new *v, size_t n, int64_t *ids,
		    size_t *inserted, struct diag *d)
{
	if (inserted)
		*inserted = 0;
	int64_t *own = ids == NULL && n > 0 ? calloc(n, sizeof(*own)) : NULL;
	if (ids == NULL && n > 0 && own == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory inserting sessions");
	int64_t *out = ids != NULL ? ids : own;
	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	if (store_begin(st, d) != 0) {
		free(own);
		return -1;
	}
	struct inserter in;
	int rc = inserter_open(&in, st, d);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = check_one(&in, &v[i], i, d);
	if (rc == 0)
		rc = write_all(&in, out, d);
	size_t count = in.n;
	inserter_close(&in);
	free(own);
	if (rc != 0) {
		if (ids)
			for (size_t i = 0; i < n; i++)
				ids[i] = 0;
		store_rollback(st);
		return -1;
	}
	crash_point("session.batch");
	if (store_commit(st, d) != 0)
		return -1;
	if (inserted)
		*inserted = count;
	return 0;
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

int
session_overlap(struct store *st, int64_t a, int64_t b, int64_t skip_id, int64_t match_id,
		time_t start, int minutes, int64_t *other, char other_at[STORE_TIME_MAX],
		struct diag *d)
{
	char lo[STORE_TIME_MAX], hi[STORE_TIME_MAX], at[STORE_TIME_MAX];
	/* Sessions last at most a day: only those starting in the day before can reach in. */
	if (store_format_time(start - 86400, lo) != 0 ||
	    store_format_time(start + (time_t)minutes * 60, hi) != 0 ||
	    store_format_time(start, at) != 0)
		return diag_set(d, DIAG_INVALID, "a time out of range");
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "finding the people's other sessions",
			      "SELECT s.id, s.starts_at FROM sessions s JOIN matches m ON "
			      "m.id = s.match_id WHERE s.status IN ('planned', 'held') AND "
			      "s.id <> ?3 AND s.starts_at >= ?4 AND s.starts_at < ?5 AND "
			      "(m.mentor_id IN (?1, ?2) OR m.mentee_id IN (?1, ?2)) AND "
			      "NOT (s.match_id = ?6 AND s.starts_at = ?7) AND "
			      "CAST(strftime('%s', s.starts_at) AS INTEGER) + s.duration_min * 60 > ?8 "
			      "ORDER BY s.starts_at, s.id LIMIT 1",
			      d) ||
			 stmt_bind_int64(&s, 1, a, d) || stmt_bind_int64(&s, 2, b, d) ||
			 stmt_bind_int64(&s, 3, skip_id, d) || stmt_bind_text(&s, 4, lo, d) ||
			 stmt_bind_text(&s, 5, hi, d) || stmt_bind_int64(&s, 6, match_id, d) ||
			 stmt_bind_text(&s, 7, at, d) || stmt_bind_int64(&s, 8, (int64_t)start, d)
		     ? -1
		     : stmt_step(&s, d);
	int found = rc == STMT_ROW;
	if (found) {
		*other = stmt_int64(&s, 0);
		session_copy_col(&s, 1, other_at, STORE_TIME_MAX);
	}
	stmt_finalize(&s);
	return found ? 1 : rc == STMT_DONE ? 0 : -1;
}

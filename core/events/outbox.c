/*
 * outbox: the rows every message leaves through. See outbox.h for the states and the
 * contract; this file keeps each transition in one statement guarded by the state it
 * starts from, so two senders (the service and `tandem outbox send`) cannot both move a
 * row: the second one's UPDATE matches nothing.
 */
#include "events/outbox.h"
#include "events/outbox_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "store/stmt.h"

static const char *const outbox_status_names[OUTBOX_STATUS_COUNT] = {
	"pending", "sending", "sent", "failed", "expired", "unknown",
};

const char *
outbox_status_name(enum outbox_status s)
{
	return (unsigned)s < OUTBOX_STATUS_COUNT ? outbox_status_names[s] : "?";
}

int
outbox_status_parse(const char *name, enum outbox_status *out)
{
	for (int i = 0; i < OUTBOX_STATUS_COUNT; i++) {
		if (name != NULL && strcmp(name, outbox_status_names[i]) == 0) {
			*out = (enum outbox_status)i;
			return 0;
		}
	}
	return -1;
}

void
outbox_row_fini(struct outbox_row *r)
{
	free(r->key);
	free(r->kind);
	free(r->channel);
	free(r->subject);
	free(r->body);
	free(r->attachments);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

void
outbox_rows_free(struct outbox_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_row_fini(&rows[i]);
	free(rows);
}

static int
outbox_time(time_t t, char buf[STORE_TIME_MAX], const char *what, struct diag *d)
{
	if (store_format_time(t, buf) != 0)
		return diag_set(d, DIAG_INVALID, "outbox: %s (%lld) cannot be written as a date",
				what, (long long)t);
	return 0;
}

/* Binds t as a UTC timestamp, or SQL NULL when t == 0 and nullable. */
static int
outbox_bind_time(struct stmt *s, int i, time_t t, int nullable, char buf[STORE_TIME_MAX],
		 struct diag *d)
{
	if (nullable && t == 0)
		return stmt_bind_null(s, i, d);
	if (outbox_time(t, buf, "a time", d) != 0)
		return -1;
	return stmt_bind_text(s, i, buf, d);
}

/* JSON payload of the message.* events (outbox_internal.h): ids and the key, never an
 * address. The key is the caller's text, so it is quoted by SQLite (json_object). */
int
outbox__event(struct store *st, const char *kind, int64_t id, const char *reason,
	     const char *actor, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "building a message event",
			 "SELECT json_object('id', id, 'key', idempotency_key, 'kind', kind,"
			 " 'channel', channel, 'session_id', session_id, 'attempts', attempts,"
			 " 'reason', ?2), recipient_id FROM outbox WHERE id = ?1",
			 d) != 0)
		return -1;
	int rc = -1;
	const char *payload = NULL;
	if (stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, reason, d))
		goto out;
	int step = stmt_step(&s, d);
	if (step < 0)
		goto out;
	if (step == STMT_DONE) {
		diag_set(d, DIAG_INTERNAL, "outbox: message %lld vanished", (long long)id);
		goto out;
	}
	if (stmt_text(&s, 0, &payload, d) != 0)
		goto out;
	struct event ev = {.kind = kind, .actor = actor != NULL ? actor : "outbox",
			   .subject_id = stmt_int64(&s, 1),
			   .payload_json = payload};
	rc = events_append(st, &ev, NULL, d);
out:
	stmt_finalize(&s);
	return rc;
}

static int
outbox_msg_check(const struct outbox_msg *m, struct diag *d)
{
	if (m->key == NULL || m->key[0] == '\0' || strlen(m->key) > 200)
		return diag_set(d, DIAG_INVALID, "outbox: a message needs a key of 1 to 200 bytes");
	if (m->kind == NULL || m->kind[0] == '\0')
		return diag_set(d, DIAG_INVALID, "outbox: message '%s' has no kind", m->key);
	if (m->channel == NULL || m->channel[0] == '\0')
		return diag_set(d, DIAG_INVALID, "outbox: message '%s' has no channel", m->key);
	if (m->body == NULL)
		return diag_set(d, DIAG_INVALID, "outbox: message '%s' has no body", m->key);
	if (m->not_after != 0 && m->not_after < m->not_before)
		return diag_set(d, DIAG_INVALID,
				"outbox: message '%s' expires before it may be sent", m->key);
	return 0;
}

/* The attachments must be a JSON array: checked by SQLite's parser in the statement (as
 * events.c does for payloads), so a bad one inserts nothing and is told apart by the
 * json_valid probe below. */
static const char outbox_insert_sql[] =
	"INSERT INTO outbox(idempotency_key, kind, channel, recipient_id, session_id, subject,"
	" body, attachments, status, not_before, not_after, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11)"
	" ON CONFLICT(idempotency_key) DO NOTHING";

int
outbox_enqueue(struct store *st, const struct outbox_msg *m, int64_t *id_out, struct diag *d)
{
	if (id_out != NULL)
		*id_out = 0;
	if (outbox_msg_check(m, d) != 0)
		return -1;
	const char *att = m->attachments != NULL ? m->attachments : "[]";
	int64_t ok = 0;
	struct stmt probe;
	if (stmt_prepare(&probe, st, "checking a message's attachments",
			 "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'array' ELSE 0 END", d) != 0)
		return -1;
	int rc = stmt_bind_text(&probe, 1, att, d) || stmt_step(&probe, d) != STMT_ROW ? -1 : 0;
	if (rc == 0)
		ok = stmt_int64(&probe, 0);
	stmt_finalize(&probe);
	if (rc != 0)
		return -1;
	if (!ok)
		return diag_set(d, DIAG_INVALID,
				"outbox: message '%s': attachments must be a JSON array", m->key);

	char nb[STORE_TIME_MAX], na[STORE_TIME_MAX], now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "outbox: the clock's time cannot be written");
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s;
	if (stmt_prepare(&s, st, "queueing a message", outbox_insert_sql, d) != 0) {
		store_rollback(st);
		return -1;
	}
	rc = stmt_bind_text(&s, 1, m->key, d) || stmt_bind_text(&s, 2, m->kind, d) ||
		     stmt_bind_text(&s, 3, m->channel, d) ||
		     (m->recipient_id ? stmt_bind_int64(&s, 4, m->recipient_id, d)
				      : stmt_bind_null(&s, 4, d)) ||
		     (m->session_id ? stmt_bind_int64(&s, 5, m->session_id, d)
				    : stmt_bind_null(&s, 5, d)) ||
		     stmt_bind_text(&s, 6, m->subject, d) || stmt_bind_text(&s, 7, m->body, d) ||
		     stmt_bind_text(&s, 8, att, d) ||
		     outbox_bind_time(&s, 9, m->not_before, 0, nb, d) ||
		     outbox_bind_time(&s, 10, m->not_after, 1, na, d) ||
		     stmt_bind_text(&s, 11, now, d) || stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	int64_t id = 0;
	if (rc == 0 && sqlite3_changes(store_db(st)) == 1) {
		id = sqlite3_last_insert_rowid(store_db(st));
		rc = outbox__event(st, "message.queued", id, NULL, m->actor, d);
	}
	if (rc != 0) {
		store_rollback(st);
		return diag_prefix(d, "queueing message '%s'", m->key);
	}
	if (store_commit(st, d) != 0)
		return -1;
	if (id_out != NULL)
		*id_out = id;
	return 0;
}

/* Ids of the rows a statement selects (column 0), for transitions made row by row so
 * each gets its event. */
static int
outbox_ids(struct store *st, const char *name, const char *sql, const char *now,
	   int64_t **ids, size_t *n, struct diag *d)
{
	*ids = NULL;
	*n = 0;
	size_t cap = 0;
	struct stmt s;
	if (stmt_prepare(&s, st, name, sql, d) != 0)
		return -1;
	int rc = stmt_bind_text(&s, 1, now, d);
	while (rc == 0) {
		int step = stmt_step(&s, d);
		if (step < 0) {
			rc = -1;
			break;
		}
		if (step == STMT_DONE)
			break;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *p = realloc(*ids, ncap * sizeof(*p));
			if (p == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "%s: out of memory", name);
				break;
			}
			*ids = p;
			cap = ncap;
		}
		(*ids)[(*n)++] = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	if (rc != 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* Binds ?i when the statement has it: the transitions share one binding list (?1 id,
 * ?2 a time, ?3 a reason) and each takes the part it needs. */
static int
outbox_bind_opt(struct stmt *s, int i, const char *v, struct diag *d)
{
	return stmt_param_count(s) >= i ? stmt_bind_text(s, i, v, d) : 0;
}

/* Moves every row `select_sql` names through `update_sql` (?1 = id, ?2 = now) and appends
 * `event` for each; inside the caller's level. */
static int
outbox_sweep(struct store *st, const char *now, const char *name, const char *select_sql,
	     const char *update_sql, const char *event, const char *reason, int *count,
	     struct diag *d)
{
	int64_t *ids;
	size_t n;
	if (outbox_ids(st, name, select_sql, now, &ids, &n, d) != 0)
		return -1;
	int rc = 0;
	struct stmt s = {0};
	if (n > 0)
		rc = stmt_prepare(&s, st, name, update_sql, d);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = stmt_bind_int64(&s, 1, ids[i], d) || outbox_bind_opt(&s, 2, now, d) ||
				     outbox_bind_opt(&s, 3, reason, d) || stmt_run(&s, d) ||
				     outbox__event(st, event, ids[i], reason, NULL, d)
			     ? -1
			     : 0;
	}
	stmt_finalize(&s);
	free(ids);
	if (rc == 0 && count != NULL)
		*count += (int)n;
	return rc;
}

static const char outbox_lapsed_sql[] =
	"SELECT id FROM outbox WHERE status = 'sending' AND lease_until <= ?1 ORDER BY id";
static const char outbox_unknown_sql[] =
	"UPDATE outbox SET status = 'unknown', lease_until = NULL, last_error = ?3"
	" WHERE id = ?1 AND status = 'sending'";
static const char outbox_unknown_reason[] =
	"the lease ran out while sending (the sender crashed or hung): delivery unknown";

static int
outbox_recover_in(struct store *st, const char *now, int *count, struct diag *d)
{
	return outbox_sweep(st, now, "recovering lapsed messages", outbox_lapsed_sql,
			    outbox_unknown_sql, "message.unknown", outbox_unknown_reason, count, d);
}

int
outbox_recover(struct store *st, time_t now, int *count, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	if (count != NULL)
		*count = 0;
	if (outbox_time(now, ts, "now", d) != 0 || store_begin(st, d) != 0)
		return -1;
	if (outbox_recover_in(st, ts, count, d) != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, d);
}

static const char outbox_expire_sql[] =
	"UPDATE outbox SET status = 'expired', last_error = ?3"
	" WHERE id = ?1 AND status = 'pending'";

/* The columns every reader takes, in the order outbox_read_row expects. Times come back
 * as epoch seconds through SQLite's own date parser. */
#define OUTBOX_COLUMNS                                                                    \
	"id, idempotency_key, kind, channel, recipient_id, session_id, subject, body,"   \
	" attachments, status, attempts, CAST(strftime('%s', not_before) AS INTEGER),"   \
	" CAST(strftime('%s', not_after) AS INTEGER),"                                  \
	" CAST(strftime('%s', lease_until) AS INTEGER),"                                \
	" CAST(strftime('%s', sent_at) AS INTEGER), CAST(strftime('%s', created_at) AS INTEGER)," \
	" last_error"

static int
outbox_dup(struct stmt *s, int col, char **out, struct diag *d)
{
	*out = NULL;
	if (stmt_is_null(s, col))
		return 0;
	const char *t;
	if (stmt_text(s, col, &t, d) != 0)
		return -1;
	*out = strdup(t != NULL ? t : "");
	if (*out == NULL)
		return diag_set(d, DIAG_NOMEM, "outbox: out of memory reading a row");
	return 0;
}

static int
outbox_read_row(struct stmt *s, struct outbox_row *r, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->id = stmt_int64(s, 0);
	char *status = NULL;
	if (outbox_dup(s, 1, &r->key, d) || outbox_dup(s, 2, &r->kind, d) ||
	    outbox_dup(s, 3, &r->channel, d) || outbox_dup(s, 6, &r->subject, d) ||
	    outbox_dup(s, 7, &r->body, d) || outbox_dup(s, 8, &r->attachments, d) ||
	    outbox_dup(s, 16, &r->last_error, d) || outbox_dup(s, 9, &status, d)) {
		free(status);
		outbox_row_fini(r);
		return -1;
	}
	r->recipient_id = stmt_int64(s, 4);
	r->session_id = stmt_int64(s, 5);
	enum outbox_status st = OUTBOX_PENDING;
	int known = outbox_status_parse(status, &st);
	free(status);
	if (known != 0) {
		outbox_row_fini(r);
		return diag_set(d, DIAG_INTERNAL, "outbox: row %lld has an unknown status",
				(long long)stmt_int64(s, 0));
	}
	r->status = st;
	r->attempts = (int)stmt_int64(s, 10);
	r->not_before = (time_t)stmt_int64(s, 11);
	r->not_after = (time_t)stmt_int64(s, 12);
	r->lease_until = (time_t)stmt_int64(s, 13);
	r->sent_at = (time_t)stmt_int64(s, 14);
	r->created_at = (time_t)stmt_int64(s, 15);
	return 0;
}

/* The earliest due row: pending and due, or unknown and still useful. Pending rows come
 * first among equals, so a retried unknown row never starves fresh mail. Each state is
 * read by its own query, in the order of the index outbox_due (status, not_before; then
 * the rowid): LIMIT 1 stops at the first entry instead of sorting every due row, so a
 * claim costs the same with 10 or 10,000 messages waiting. */
static const char outbox_next_sql[] =
	"SELECT id, not_before, not_after IS NOT NULL AND not_after <= ?1 FROM outbox"
	" WHERE status = 'pending' AND not_before <= ?1 AND (channel = 'webhook') = ?2"
	" ORDER BY not_before, id LIMIT 1";
static const char outbox_next_unknown_sql[] =
	"SELECT id, not_before FROM outbox"
	" WHERE status = 'unknown' AND (channel = 'webhook') = ?2"
	" ORDER BY not_before, id LIMIT 1";
static const char outbox_take_sql[] =
	"UPDATE outbox SET status = 'sending', lease_until = ?2, attempts = attempts + 1"
	" WHERE id = ?1 AND (status = 'pending' OR status = 'unknown')";

/* The head of one state's queue: *id (0: none), its not_before, and whether it is past
 * its not_after (pending only). */
static int
outbox_head(struct store *st, int pending, const char *now, int webhook, int64_t *id,
	    char nb[STORE_TIME_MAX], int *stale, struct diag *d)
{
	struct stmt s;
	*id = 0;
	*stale = 0;
	if (stmt_prepare(&s, st, "choosing the next message",
			 pending ? outbox_next_sql : outbox_next_unknown_sql, d) != 0)
		return -1;
	int rc = outbox_bind_opt(&s, 1, now, d) || stmt_bind_int64(&s, 2, webhook != 0, d) ? -1 : 0;
	if (rc == 0) {
		int step = stmt_step(&s, d);
		const char *t = NULL;
		if (step < 0) {
			rc = -1;
		} else if (step == STMT_ROW && (rc = stmt_text(&s, 1, &t, d)) == 0) {
			*id = stmt_int64(&s, 0);
			snprintf(nb, STORE_TIME_MAX, "%s", t != NULL ? t : "");
			*stale = pending && stmt_int64(&s, 2) != 0;
		}
	}
	stmt_finalize(&s);
	return rc;
}

static const char outbox_stale_reason[] = "not sent before its not_after time";

/*
 * Expiry is met in queue order: the earliest due pending row, when it is past its
 * not_after, expires (its event) and the next one is looked at, until the head is a row
 * to send. Every due row reaches the head before anything after it is sent, so no stale
 * row leaves late; a pending row not due yet (a retry whose backoff ends after its
 * not_after) expires when its time comes, which is also when the service wakes for it.
 */
static int
outbox_claim_in(struct store *st, const char *now, const char *lease, int webhook,
		int say_expired, struct outbox_row *row, struct diag *d)
{
	if (outbox_recover_in(st, now, NULL, d) != 0)
		return -1;
	struct stmt s;
	int64_t id = 0;
	int was_unknown = 0, expired = 0;
	for (;;) {
		int64_t pid, uid;
		char pnb[STORE_TIME_MAX], unb[STORE_TIME_MAX];
		int stale, ignored;
		if (outbox_head(st, 1, now, webhook, &pid, pnb, &stale, d) != 0 ||
		    outbox_head(st, 0, now, webhook, &uid, unb, &ignored, d) != 0)
			return -1;
		if (pid != 0 && (uid == 0 || strcmp(pnb, unb) <= 0)) {
			if (!stale) {
				id = pid;
				break;
			}
			if (stmt_prepare(&s, st, "expiring a stale message", outbox_expire_sql, d) != 0)
				return -1;
			int rc = stmt_bind_int64(&s, 1, pid, d) || outbox_bind_opt(&s, 2, now, d) ||
					 outbox_bind_opt(&s, 3, outbox_stale_reason, d) || stmt_run(&s, d)
				 ? -1
				 : 0;
			stmt_finalize(&s);
			if (rc != 0 || outbox__event(st, "message.expired", pid, outbox_stale_reason,
						    NULL, d) != 0)
				return -1;
			if (!say_expired)
				continue;
			id = pid; /* outbox_claim_next: this one is the call's answer */
			expired = 1;
			break;
		}
		id = uid;
		was_unknown = uid != 0;
		break;
	}
	if (id == 0)
		return 1;
	int rc;
	if (!expired) {
		if (stmt_prepare(&s, st, "claiming a message", outbox_take_sql, d) != 0)
			return -1;
		rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, lease, d) ||
				     stmt_run(&s, d)
			     ? -1
			     : 0;
		stmt_finalize(&s);
		if (rc != 0)
			return -1;
	}
	if (stmt_prepare(&s, st, "reading the claimed message",
			 "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1", d) != 0)
		return -1;
	rc = stmt_bind_int64(&s, 1, id, d) || stmt_step(&s, d) != STMT_ROW ||
		     outbox_read_row(&s, row, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	if (rc == 0)
		row->was_unknown = was_unknown;
	return rc == 0 && expired ? 2 : rc;
}

int
outbox_claim(struct store *st, time_t now, int lease_s, struct outbox_row *row,
	     struct diag *d)
{
	return outbox_claim_channel(st, now, lease_s, 0, row, d);
}

static int
outbox_claim_tx(struct store *st, time_t now, int lease_s, int webhook, int say_expired,
		struct outbox_row *row, struct diag *d)
{
	memset(row, 0, sizeof(*row));
	char ts[STORE_TIME_MAX], lease[STORE_TIME_MAX];
	if (lease_s <= 0)
		lease_s = OUTBOX_LEASE_S;
	if (outbox_time(now, ts, "now", d) != 0 ||
	    outbox_time(now + lease_s, lease, "the lease's end", d) != 0)
		return -1;
	if (store_begin(st, d) != 0)
		return -1;
	int rc = outbox_claim_in(st, ts, lease, webhook, say_expired, row, d);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, d) != 0) {
		outbox_row_fini(row);
		return -1;
	}
	return rc;
}

int
outbox_claim_channel(struct store *st, time_t now, int lease_s, int webhook,
		     struct outbox_row *row, struct diag *d)
{
	return outbox_claim_tx(st, now, lease_s, webhook, 0, row, d);
}

int
outbox_claim_next(struct store *st, time_t now, int lease_s, struct outbox_row *row,
		  struct diag *d)
{
	return outbox_claim_tx(st, now, lease_s, 0, 1, row, d);
}

/* The delay before attempt `attempts` + 1, after `attempts` failures. */
static time_t
outbox_backoff(int attempts)
{
	time_t delay = OUTBOX_RETRY_BASE_S;
	for (int i = 1; i < attempts && delay < OUTBOX_RETRY_MAX_S; i++)
		delay *= 2;
	return delay < OUTBOX_RETRY_MAX_S ? delay : OUTBOX_RETRY_MAX_S;
}

int
outbox_done(struct store *st, int64_t id, time_t now, const char *error, int permanent,
	    enum outbox_status *status_out, struct diag *d)
{
	return outbox_done_policy(st, id, now, error, permanent, OUTBOX_MAX_ATTEMPTS, -1,
				  status_out, d);
}

int
outbox_done_policy(struct store *st, int64_t id, time_t now, const char *error, int permanent,
		   int max_attempts, time_t delay, enum outbox_status *status_out,
		   struct diag *d)
{
	char ts[STORE_TIME_MAX], retry[STORE_TIME_MAX];
	if (outbox_time(now, ts, "now", d) != 0)
		return -1;
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s;
	if (stmt_prepare(&s, st, "reading a message's state",
			 "SELECT status, attempts FROM outbox WHERE id = ?1", d) != 0) {
		store_rollback(st);
		return -1;
	}
	const char *status = NULL;
	enum outbox_status cur = OUTBOX_PENDING;
	int attempts = 0, found = 0;
	int rc = stmt_bind_int64(&s, 1, id, d);
	if (rc == 0) {
		int step = stmt_step(&s, d);
		if (step < 0) {
			rc = -1;
		} else if (step == STMT_ROW) {
			found = 1;
			attempts = (int)stmt_int64(&s, 1);
			rc = stmt_text(&s, 0, &status, d);
			if (rc == 0 && outbox_status_parse(status, &cur) != 0)
				rc = diag_set(d, DIAG_INTERNAL, "outbox: row %lld has an unknown status",
					      (long long)id);
		}
	}
	stmt_finalize(&s);
	if (rc == 0 && !found)
		rc = diag_set(d, DIAG_NOTFOUND, "outbox: no message %lld", (long long)id);
	if (rc == 0 && cur != OUTBOX_SENDING && cur != OUTBOX_UNKNOWN)
		rc = diag_set(d, DIAG_CONFLICT, "outbox: message %lld is %s, not being sent",
			      (long long)id, outbox_status_name(cur));
	if (rc != 0) {
		store_rollback(st);
		return -1;
	}

	enum outbox_status next;
	const char *sql, *event;
	if (error == NULL) {
		next = OUTBOX_SENT;
		event = "message.sent";
		sql = "UPDATE outbox SET status = 'sent', sent_at = ?2, lease_until = NULL,"
		      " last_error = NULL WHERE id = ?1";
	} else if (permanent || attempts >= max_attempts) {
		next = OUTBOX_FAILED;
		event = "message.failed";
		sql = "UPDATE outbox SET status = 'failed', lease_until = NULL, last_error = ?3"
		      " WHERE id = ?1";
	} else {
		next = OUTBOX_PENDING;
		event = NULL; /* a retry is not news: the row says when and why */
		if (outbox_time(now + (delay >= 0 ? delay : outbox_backoff(attempts)), retry,
				"the retry time", d) != 0) {
			store_rollback(st);
			return -1;
		}
		sql = "UPDATE outbox SET status = 'pending', not_before = ?2, lease_until = NULL,"
		      " last_error = ?3 WHERE id = ?1";
	}
	rc = stmt_prepare(&s, st, "recording a message's outcome", sql, d);
	if (rc == 0) {
		rc = stmt_bind_int64(&s, 1, id, d) ||
				     outbox_bind_opt(&s, 2, next == OUTBOX_PENDING ? retry : ts, d) ||
				     outbox_bind_opt(&s, 3, error, d) || stmt_run(&s, d)
			     ? -1
			     : 0;
		stmt_finalize(&s);
	}
	if (rc == 0 && event != NULL)
		rc = outbox__event(st, event, id, error, NULL, d);
	if (rc != 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, d) != 0)
		return -1;
	if (status_out != NULL)
		*status_out = next;
	return 0;
}

int
outbox_drop(struct store *st, int64_t id, const char *reason, struct diag *d)
{
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s;
	if (stmt_prepare(&s, st, "dropping a message",
			 "UPDATE outbox SET status = 'expired', lease_until = NULL, last_error = ?2"
			 " WHERE id = ?1 AND (status = 'sending' OR status = 'unknown')",
			 d) != 0) {
		store_rollback(st);
		return -1;
	}
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, reason, d) ||
			 stmt_run(&s, d)
		 ? -1
		 : 0;
	stmt_finalize(&s);
	if (rc == 0 && sqlite3_changes(store_db(st)) != 1)
		rc = diag_set(d, DIAG_CONFLICT, "outbox: message %lld is not being sent",
			      (long long)id);
	if (rc == 0)
		rc = outbox__event(st, "message.expired", id, reason, NULL, d);
	if (rc != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, d);
}

/* The three kinds of wake-up, the earliest first. Unknown rows past not_after are left
 * alone for good (nobody claims them), so they must not wake anyone either. */
static const char outbox_due_sql[] =
	"SELECT CAST(strftime('%s', MIN(t)) AS INTEGER) FROM ("
	" SELECT MIN(not_before) AS t FROM outbox WHERE status = 'pending'"
	" UNION ALL SELECT MIN(not_before) FROM outbox WHERE status = 'unknown'"
	" UNION ALL SELECT MIN(lease_until) FROM outbox WHERE status = 'sending')";

int
outbox_next_due(struct store *st, time_t now, time_t *due, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	if (outbox_time(now, ts, "now", d) != 0)
		return -1;
	struct stmt s;
	if (stmt_prepare(&s, st, "finding the next message due", outbox_due_sql, d) != 0)
		return -1;
	int rc = outbox_bind_opt(&s, 1, ts, d) || stmt_step(&s, d) != STMT_ROW ? -1 : 0;
	int none = rc == 0 && stmt_is_null(&s, 0);
	if (rc == 0 && !none)
		*due = (time_t)stmt_int64(&s, 0);
	stmt_finalize(&s);
	if (rc != 0)
		return -1;
	return none ? 1 : 0;
}

int
outbox_list(struct store *st, const struct outbox_filter *f, struct outbox_row **rows,
	    size_t *n, struct diag *d)
{
	*rows = NULL;
	*n = 0;
	struct stmt s;
	if (stmt_prepare(&s, st, "listing the outbox",
			 "SELECT " OUTBOX_COLUMNS " FROM outbox"
			 " WHERE (?1 IS NULL OR status = ?1) AND (?2 = 0 OR session_id = ?2)"
			 " ORDER BY id LIMIT ?3",
			 d) != 0)
		return -1;
	int status = f != NULL ? f->status : -1;
	int64_t limit = f != NULL && f->limit > 0 ? (int64_t)f->limit : -1;
	int rc = (status >= 0 && status < OUTBOX_STATUS_COUNT
			  ? stmt_bind_text(&s, 1, outbox_status_names[status], d)
			  : stmt_bind_null(&s, 1, d)) ||
			 stmt_bind_int64(&s, 2, f != NULL ? f->session_id : 0, d) ||
			 stmt_bind_int64(&s, 3, limit, d)
		 ? -1
		 : 0;
	size_t cap = 0;
	while (rc == 0) {
		int step = stmt_step(&s, d);
		if (step <= 0) {
			rc = step;
			break;
		}
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct outbox_row *p = realloc(*rows, ncap * sizeof(*p));
			if (p == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "listing the outbox: out of memory");
				break;
			}
			*rows = p;
			cap = ncap;
		}
		if (outbox_read_row(&s, &(*rows)[*n], d) != 0) {
			rc = -1;
			break;
		}
		(*n)++;
	}
	stmt_finalize(&s);
	if (rc != 0) {
		outbox_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
outbox_counts(struct store *st, int64_t counts[OUTBOX_STATUS_COUNT], struct diag *d)
{
	memset(counts, 0, sizeof(int64_t) * OUTBOX_STATUS_COUNT);
	struct stmt s;
	if (stmt_prepare(&s, st, "counting the outbox",
			 "SELECT status, COUNT(*) FROM outbox GROUP BY status", d) != 0)
		return -1;
	int rc = 0;
	for (;;) {
		int step = stmt_step(&s, d);
		if (step <= 0) {
			rc = step;
			break;
		}
		const char *name = NULL;
		enum outbox_status which;
		if (stmt_text(&s, 0, &name, d) != 0) {
			rc = -1;
			break;
		}
		if (outbox_status_parse(name, &which) == 0)
			counts[which] = stmt_int64(&s, 1);
	}
	stmt_finalize(&s);
	return rc;
}

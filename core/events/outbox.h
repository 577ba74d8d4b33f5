/*
 * outbox: every message tandem sends leaves through a row of the `outbox` table, under
 * an idempotency key, so that planning a reminder twice queues it once and a crash
 * never silently loses or doubles it.
 *
 * Called by: reminders (sched/remind), Lua job actions and reports that queue messages,
 * the notifiers (sched/notify: claim, deliver, done), the service (serve/: recover at
 * start, next_due to arm its timer) and `tandem outbox list|send`.
 *
 * States of a row:
 *
 *     pending --claim--> sending --done(ok)----------------------> sent
 *        ^                  |  \--done(error), attempts < max ---> pending (not_before = backoff)
 *        |                  |   \-done(error), attempts = max ---> failed
 *        |                  \--lease runs out (recover, claim)---> unknown
 *        \-- not_after passed (claim) ---------------------------> expired
 *     unknown --claim--> sending   (at-least-once, even past not_after: see below)
 *
 * Contract:
 *  - outbox_enqueue inserts with ON CONFLICT(idempotency_key) DO NOTHING: the key is the
 *    message's identity ("reminder:SESSION:PERSON"); *id_out is the new id, or 0 when
 *    a row with that key existed (the existing row is left as it is, whatever its state).
 *    A new row appends the event message.queued (actor: m->actor, else "outbox").
 *  - outbox_claim, in one transaction: rows past their lease become 'unknown' (as
 *    outbox_recover), due pending rows past not_after become 'expired' (event
 *    message.expired) as they reach the head of the queue (so every one before anything
 *    due after it is sent; a claim reads the queue's head, not every waiting row), then
 *    the earliest due row -- pending with not_before <= now, or unknown (past not_after
 *    too: only the notifier can tell whether it went out) -- becomes 'sending' with lease_until = now + lease and attempts + 1, and is
 *    returned (row->was_unknown tells a retried unknown row). 1 when nothing is due.
 *  - Exactly-once delivery is impossible across a crash (the crash can fall between the
 *    write and the commit that records it). What tandem gives is at-least-once with a
 *    dedupe key: a row whose sender died stays 'sending' until its lease ends, becomes
 *    'unknown' (event message.unknown), and is claimed again; the key travels with the
 *    message (the .eml's Message-ID, the JSON line's "key") and the built-in notifiers look
 *    for it before writing a row that was unknown, so they do not write it twice; found, the
 *    row is recorded sent (even past not_after: it did go out); not found and past
 *    not_after, it expires instead of leaving late (sched/notify.h). So no row stays
 *    'unknown' once a notifier has run after its lease.
 *  - outbox_done records the outcome of a claimed ('sending') or 'unknown' row: NULL
 *    error -> 'sent' (sent_at, event message.sent); an error -> 'pending' again with
 *    not_before = now + the backoff (OUTBOX_RETRY_BASE_S doubled per attempt, at most
 *    OUTBOX_RETRY_MAX_S), or 'failed' (event message.failed) once attempts reach
 *    OUTBOX_MAX_ATTEMPTS or when the error is permanent. Other states: DIAG_CONFLICT.
 *    outbox_drop expires such a row instead (it became useless before it went out).
 *  - outbox_recover turns 'sending' rows whose lease_until <= now into 'unknown'.
 *  - outbox_next_due gives the earliest instant something is to do: a pending row's
 *    not_before, an unknown row's (now: it is due), a sending row's lease end. 1 when none.
 *  - Times are UTC seconds, stored as 'YYYY-MM-DDTHH:MM:SSZ'. Events are stamped by the
 *    store's clock; `now` is the caller's (the service's virtual clock in simulations).
 *  - Every write is a store_begin() level, so these compose into a caller's transaction.
 *    Event payloads carry ids and the key, never an address.
 */
#ifndef TANDEM_OUTBOX_H
#define TANDEM_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "store/store.h"

enum outbox_status {
	OUTBOX_PENDING,
	OUTBOX_SENDING,
	OUTBOX_SENT,
	OUTBOX_FAILED,
	OUTBOX_EXPIRED,
	OUTBOX_UNKNOWN,
	OUTBOX_STATUS_COUNT,
};

/* Retry policy of outbox_done: 60 s, 120 s, 240 s, ... capped at 6 h; the 5th failure gives up. */
enum {
	OUTBOX_RETRY_BASE_S = 60,
	OUTBOX_RETRY_MAX_S = 6 * 3600,
	OUTBOX_MAX_ATTEMPTS = 5,
	OUTBOX_LEASE_S = 300, /* the default lease of a claim */
};

/* "pending", "sending", ... */
const char *outbox_status_name(enum outbox_status s);
/* Parses a status name; -1 (no diag) when unknown. */
int outbox_status_parse(const char *name, enum outbox_status *out);

/* A message to queue. Strings are copied by SQLite; nothing is kept after the call. */
struct outbox_msg {
	const char *key;         /* idempotency key: required, 1..200 bytes */
	const char *kind;        /* "reminder", "nudge", "job": required */
	const char *channel;     /* notifier: "eml", "jsonl" or a notifier plugin's name */
	int64_t recipient_id;    /* people.id; 0: none */
	int64_t session_id;      /* sessions.id; 0: none */
	int64_t program_id;      /* for the event only; 0: none */
	const char *subject;     /* NULL: none */
	const char *body;        /* required ("" allowed) */
	const char *attachments; /* JSON array [{name, type, content}]; NULL: "[]" */
	time_t not_before;       /* send at or after */
	time_t not_after;        /* useless from then on (expires); 0: never */
	const char *actor;       /* the message.queued event's actor ("job:NAME"); NULL: "outbox" */
};

/* A row as read back. Strings are malloc'd (outbox_row_fini frees them); NULL for SQL NULL. */
struct outbox_row {
	int64_t id;
	char *key, *kind, *channel, *subject, *body, *attachments, *last_error;
	int64_t recipient_id, session_id; /* 0: none */
	enum outbox_status status;
	int was_unknown;                  /* claim: the row was 'unknown' before (a retry) */
	int attempts;
	time_t not_before, not_after;     /* not_after 0: never */
	time_t lease_until, sent_at;      /* 0: none */
	time_t created_at;
};

void outbox_row_fini(struct outbox_row *r);
/* Frees n rows and the array. */
void outbox_rows_free(struct outbox_row *rows, size_t n);

/* Queues m (see the contract). 0 or -1 + diag (DIAG_INVALID for a bad message). */
int outbox_enqueue(struct store *st, const struct outbox_msg *m, int64_t *id_out, struct diag *d);

/* Claims the next due row into *row (fini it after). 0 claimed, 1 nothing due, -1 error.
 * Rows of the channel "webhook" are not the notifiers': outbox_claim never returns them. */
int outbox_claim(struct store *st, time_t now, int lease_s, struct outbox_row *row,
		 struct diag *d);
/* outbox_claim, but a stale row it expires at the head of the queue is the answer (2, *row
 * the expired row: status 'expired', last_error the reason), one per call, instead of being
 * passed over silently: the notifiers' caller says and counts each (sched/notify.h). */
int outbox_claim_next(struct store *st, time_t now, int lease_s, struct outbox_row *row,
		      struct diag *d);
/* outbox_claim of the rows of channel "webhook" (webhook 1: serve/webhook) or of every
 * other channel (webhook 0: the same as outbox_claim). */
int outbox_claim_channel(struct store *st, time_t now, int lease_s, int webhook,
			 struct outbox_row *row, struct diag *d);

/* Records the outcome of row id (see the contract): error NULL = sent; permanent != 0
 * gives up at once. *status_out (may be NULL) is the row's new state. */
int outbox_done(struct store *st, int64_t id, time_t now, const char *error, int permanent,
		enum outbox_status *status_out, struct diag *d);

/* outbox_done with the sender's own policy: failed once attempts reach max_attempts; a
 * retry not_before = now + delay (delay < 0: the default backoff). */
int outbox_done_policy(struct store *st, int64_t id, time_t now, const char *error,
		       int permanent, int max_attempts, time_t delay,
		       enum outbox_status *status_out, struct diag *d);

/* A claimed ('sending') or 'unknown' row that became useless before it went out (its
 * session was cancelled) -> 'expired' with last_error = reason (event message.expired).
 * Other states: DIAG_CONFLICT. */
int outbox_drop(struct store *st, int64_t id, const char *reason, struct diag *d);

/* 'sending' rows whose lease ended by now -> 'unknown' (event message.unknown each).
 * *count (may be NULL) = rows changed. */
int outbox_recover(struct store *st, time_t now, int *count, struct diag *d);

/* *due = the earliest instant something is to do (it may be <= now). 0, 1 when nothing is
 * waiting at all (*due untouched), -1 on error. */
int outbox_next_due(struct store *st, time_t now, time_t *due, struct diag *d);

struct outbox_filter {
	int status;      /* an enum outbox_status, or -1: all */
	int64_t session_id; /* 0: all */
	size_t limit;    /* 0: no limit */
};

/* Rows by id (oldest first) into *rows (outbox_rows_free), *n of them. */
int outbox_list(struct store *st, const struct outbox_filter *f, struct outbox_row **rows,
		size_t *n, struct diag *d);

/*
 * outbox_retry (outbox_retry.c): the failed message of KEY, or (key NULL) every failed one,
 * put back in the queue in one transaction: 'pending', attempts 0, due now, event
 * message.retried (actor ACTOR, reason "retried by hand after N failed attempts"); the
 * notifiers then send it like a new one. One past its not_after is not sent any more: it
 * becomes 'expired' (event message.expired, "not retried: its not_after time has passed").
 * A KEY whose message is already expired stays so (an entry with retried 0). *out: one
 * entry per row looked at (outbox_retried_free). -1 + diag: no message with KEY
 * (DIAG_NOTFOUND), one in another state (DIAG_CONFLICT), a store failure (nothing changed).
 */
struct outbox_retried {
	char *key, *channel;
	enum outbox_status status; /* now: OUTBOX_PENDING (retried) or OUTBOX_EXPIRED */
	int retried;               /* 1: this call changed it (0: it was expired already) */
	int stale;                 /* past its not_after */
	int attempts;              /* its failed attempts before the call */
	time_t not_after;          /* 0: none */
};
int outbox_retry(struct store *st, const char *key, time_t now, const char *actor,
		 struct outbox_retried **out, size_t *n, struct diag *d);
void outbox_retried_free(struct outbox_retried *r, size_t n);

/* Counts per state into counts[OUTBOX_STATUS_COUNT]. */
int outbox_counts(struct store *st, int64_t counts[OUTBOX_STATUS_COUNT], struct diag *d);

#endif

/*
 * events: the event log. Every module that records that something happened (people
 * imported, enrollments imported, a match proposed, and later sessions, rewards and
 * reports) appends to the `events` table through events_append() and nothing else, so
 * the log has one shape, one clock and one place to hang hook dispatch and the outbox on.
 *
 * Called by: people, enroll, matches (program/), the scheduler and the reward modules
 * (rewards/ledger appends a dispatch batch's reward.granted events through
 * events_append_many, events_batch.c). Readers (people show/export, reports) query the
 * table directly.
 *
 * Contract:
 *  - events_append() must run inside the caller's transaction (store_begin() ...
 *    store_commit()): an event is part of the work it describes and lands or vanishes
 *    with it. Called outside one it fails with DIAG_INTERNAL and writes nothing.
 *  - `at` is the store's clock (store_timestamp()), so `tandem simulate` and the tests
 *    stamp events with their virtual time.
 *  - kind is "domain.verb" (lower-case letters, digits and '_', at least one '.'), e.g.
 *    "people.imported"; payload_json is the text of one JSON object (NULL: "{}"). Either
 *    wrong is a bug in the caller: DIAG_INTERNAL. actor NULL, subject_id 0 and
 *    program_id 0 store SQL NULL. The event does not copy beyond the call.
 *  - Payloads name people by their external id where needed and never hold an e-mail:
 *    the log is kept for years.
 *  - Rows are append-only, with one exception: erasing a person (people_erase, the
 *    right to erasure) rewrites the payload and actor of the events that concern or
 *    mention them, in the same transaction as the erasure, and appends its own
 *    people.erased event through events_append(). That scrub is an UPDATE of existing
 *    rows for a legal obligation, not a new event, so it stays with the erasure, which
 *    alone knows what identifies the person (ids, e-mail).
 */
#ifndef TANDEM_EVENTS_H
#define TANDEM_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "store/store.h"

struct event {
	const char *kind;         /* "people.imported": required */
	const char *actor;        /* who caused it (a user name, an external id); NULL: none */
	int64_t subject_id;       /* people.id the event is about; 0: none */
	int64_t program_id;       /* programs.id; 0: none */
	const char *payload_json; /* one JSON object; NULL: "{}" */
};

/* Appends ev stamped with the store's clock, inside the open transaction. *id_out (if not
 * NULL) receives the event's id. 0, or -1 + diag (nothing written). */
int events_append(struct store *st, const struct event *ev, int64_t *id_out, struct diag *d);

/*
 * The same for a writer of many events in one transaction (rewards/dispatch grants tens of
 * thousands at a time): the statement is prepared once by events_writer_init and kept until
 * events_writer_fini. events_writer_append obeys events_append's contract exactly.
 */
struct events_writer {
	struct store *st;
	void *ins; /* the prepared statement (struct stmt *), NULL until init */
};
int events_writer_init(struct events_writer *w, struct store *st, struct diag *d);
int events_writer_append(struct events_writer *w, const struct event *ev, int64_t *id_out,
			 struct diag *d);
void events_writer_fini(struct events_writer *w);

/*
 * Many events derived from rows the caller just wrote, in one statement (rewards/ledger
 * appends a reward.granted per grant of a dispatch batch this way: a statement per event
 * cost more than the event). `rows_sql` is a SELECT of exactly (actor, subject_id,
 * program_id, payload), in the order to append, that may use ?1 (bound to arg); each row
 * becomes one event of `kind` stamped with the store's clock, under events_append's
 * contract (kind checked, NULL payload "{}", 0 ids stored as NULL, inside the open
 * transaction). *n: the events appended. A row whose payload is not a JSON object is
 * DIAG_INTERNAL and the caller must roll back its level (rows before it were appended).
 */
int events_append_rows(struct store *st, const char *kind, const char *rows_sql, int64_t arg,
		       int64_t *n, struct diag *d);

/*
 * Many events in multi-row INSERTs (events/events_batch.c; EVENTS_MANY_ROWS per statement),
 * in the array's order, under events_append's contract (kind checked, the store's clock,
 * 0 ids and a NULL actor stored as NULL, NULL payload "{}", inside the open transaction)
 * with one difference: a payload is the text of a JSON object BUILT BY THE CALLER from
 * checked values (rewards/ledger's reward.granted), and only its outer braces are checked.
 * A bad kind or payload anywhere is DIAG_INTERNAL before anything is written; a store
 * failure may leave earlier rows written (the caller rolls back its level). 0 or -1.
 */
enum { EVENTS_MANY_ROWS = 128 };
int events_append_many(struct store *st, const struct event *ev, size_t n, struct diag *d);

/* 1 when kind is "domain.verb" (lower-case words of letters, digits and '_' joined by dots). */
int events_kind_ok(const char *kind);

#endif

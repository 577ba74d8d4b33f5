/* Unit tests for core/events/outbox: idempotent enqueue, claim and lease, expiry, retry
 * backoff, giving up, recovery to 'unknown' and its retry, next_due, list and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/outbox.h"
#include "store/stmt.h"
#include "store/store.h"

enum { T0 = 1795356000 }; /* 2026-11-22T14:00:00Z */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_outbox.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, T0);
	store_set_clock(f->st, &f->clock);
	if (store_exec(f->st,
		       "INSERT INTO people(id, external_id, name, email, timezone, created_at,"
		       " updated_at) VALUES (7, 'E7', 'Ada', 'ada@example.org', 'Europe/Paris',"
		       " 'x', 'x')",
		       &d) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "test query", sql, &v, &d), 0);
	return v;
}

static struct outbox_msg
msg(const char *key, time_t not_before, time_t not_after)
{
	return (struct outbox_msg){.key = key, .kind = "reminder", .channel = "eml",
				   .recipient_id = 7, .subject = "Hello", .body = "Body text",
				   .not_before = not_before, .not_after = not_after};
}

static void
test_enqueue_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int64_t id = -1, again = -1;
	struct outbox_msg m = msg("reminder:1:7:24h", T0, T0 + 3600);
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	assert_true(id > 0);
	/* Same key, other text: nothing changes, id 0. */
	m.body = "Another body";
	assert_int_equal(outbox_enqueue(f->st, &m, &again, &d), 0);
	assert_int_equal(again, 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE body = 'Body text'"), 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.queued'"
				     " AND subject_id = 7 AND json_extract(payload, '$.key') ="
				     " 'reminder:1:7:24h'"),
			 1);
	/* The event never holds the address. */
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE payload LIKE '%@%'"), 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
				     " AND not_before = '2026-11-22T14:00:00Z'"
				     " AND not_after = '2026-11-22T15:00:00Z'"),
			 1);
}

static void
test_enqueue_refuses_bad_messages(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("", T0, 0);
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	m = msg("k1", T0, 0);
	m.body = NULL;
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "no body"));
	m = msg("k1", T0, T0 - 1);
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "expires before"));
	m = msg("k1", T0, 0);
	m.attachments = "{\"not\":\"an array\"}";
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "JSON array"));
	m.attachments = "[{\"name\":\"s.ics\"";
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), -1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events"), 0);
}

static void
test_claim_order_and_lease(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg later = msg("later", T0 + 600, 0), now = msg("now", T0, 0);
	int64_t idl, idn;
	assert_int_equal(outbox_enqueue(f->st, &later, &idl, &d), 0);
	assert_int_equal(outbox_enqueue(f->st, &now, &idn, &d), 0);

	time_t due = 0;
	assert_int_equal(outbox_next_due(f->st, T0, &due, &d), 0);
	assert_int_equal(due, T0);

	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 0);
	assert_int_equal(r.id, idn);
	assert_string_equal(r.key, "now");
	assert_string_equal(r.body, "Body text");
	assert_string_equal(r.attachments, "[]");
	assert_int_equal(r.status, OUTBOX_SENDING);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.lease_until, T0 + 60);
	assert_int_equal(r.recipient_id, 7);
	assert_false(r.was_unknown);
	outbox_row_fini(&r);

	/* Nothing else due now: "later" waits; the lease end is the next wake-up. */
	assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 1);
	assert_int_equal(outbox_next_due(f->st, T0, &due, &d), 0);
	assert_int_equal(due, T0 + 60);

	enum outbox_status stt = OUTBOX_PENDING;
	assert_int_equal(outbox_done(f->st, idn, T0 + 1, NULL, 0, &stt, &d), 0);
	assert_int_equal(stt, OUTBOX_SENT);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"
				     " AND sent_at = '2026-11-22T14:00:01Z' AND lease_until IS NULL"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.sent'"), 1);
	/* Done twice is a conflict: the row is no longer being sent. */
	assert_int_equal(outbox_done(f->st, idn, T0 + 2, NULL, 0, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_int_equal(outbox_done(f->st, 9999, T0 + 2, NULL, 0, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);

	assert_int_equal(outbox_next_due(f->st, T0, &due, &d), 0);
	assert_int_equal(due, T0 + 600);
	assert_int_equal(outbox_claim(f->st, T0 + 600, 60, &r, &d), 0);
	assert_int_equal(r.id, idl);
	outbox_row_fini(&r);
	assert_int_equal(outbox_done(f->st, idl, T0 + 601, NULL, 0, NULL, &d), 0);
	assert_int_equal(outbox_next_due(f->st, T0, &due, &d), 1);
}

static void
test_expiry(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("reminder:5:7:24h", T0, T0 + 100);
	int64_t id;
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0 + 100, 60, &r, &d), 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'expired'"
				     " AND attempts = 0"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.expired'"),
			 1);
	time_t due;
	assert_int_equal(outbox_next_due(f->st, T0, &due, &d), 1);
	/* Enqueueing the same key again after expiry changes nothing. */
	int64_t again = -1;
	assert_int_equal(outbox_enqueue(f->st, &m, &again, &d), 0);
	assert_int_equal(again, 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"), 0);
}

/* Stale rows are met in queue order: the ones ahead of a fresh row expire (each with its
 * event) before the fresh one is claimed; a row not due yet is left alone. Against brute
 * force: after draining, every row past its not_after at its claim is expired, every other
 * one was claimed once, in not_before order. */
static void
test_expiry_in_queue_order(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char key[32];
	/* 40 rows: not_before T0 + 10 i; every third one useless from T0 + 10 i + 5. */
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "reminder:%d:7:24h", i);
		struct outbox_msg m = msg(key, T0 + 10 * i, i % 3 == 0 ? T0 + 10 * i + 5 : 0);
		assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
	}
	/* At T0 + 200 rows 0..20 are due; rows 0, 3, ..., 18 are past not_after. */
	time_t now = T0 + 200;
	int64_t last = 0;
	struct outbox_row r;
	int claimed = 0;
	while (outbox_claim(f->st, now, 60, &r, &d) == 0) {
		assert_true(r.id > last); /* not_before order = id order here */
		assert_int_not_equal((r.id - 1) % 3, 0);
		assert_true(r.not_before <= now);
		last = r.id;
		claimed++;
		outbox_row_fini(&r);
	}
	assert_int_equal(claimed, 21 - 7);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'expired'"), 7);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.expired'"),
			 7);
	/* Not due yet: still pending, stale or not. */
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"), 19);
}

static void
test_retry_backoff_then_give_up(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("nudge:1", T0, 0);
	int64_t id;
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	time_t now = T0;
	time_t expect_delay[] = {60, 120, 240, 480};
	for (int i = 0; i < OUTBOX_MAX_ATTEMPTS; i++) {
		struct outbox_row r;
		assert_int_equal(outbox_claim(f->st, now, 60, &r, &d), 0);
		assert_int_equal(r.attempts, i + 1);
		outbox_row_fini(&r);
		enum outbox_status stt;
		assert_int_equal(outbox_done(f->st, id, now, "disk full", 0, &stt, &d), 0);
		if (i + 1 < OUTBOX_MAX_ATTEMPTS) {
			assert_int_equal(stt, OUTBOX_PENDING);
			time_t due = 0;
			assert_int_equal(outbox_next_due(f->st, now, &due, &d), 0);
			assert_int_equal(due, now + expect_delay[i]);
			/* Not due before its backoff. */
			assert_int_equal(outbox_claim(f->st, due - 1, 60, &r, &d), 1);
			now = due;
		} else {
			assert_int_equal(stt, OUTBOX_FAILED);
		}
	}
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'failed'"
				     " AND attempts = 5 AND last_error = 'disk full'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.failed'"
				     " AND json_extract(payload, '$.reason') = 'disk full'"),
			 1);
	time_t due;
	assert_int_equal(outbox_next_due(f->st, now, &due, &d), 1);
}

static void
test_permanent_error_gives_up_at_once(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("nudge:2", T0, 0);
	int64_t id;
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 0);
	outbox_row_fini(&r);
	enum outbox_status stt;
	assert_int_equal(outbox_done(f->st, id, T0, "no such notifier", 1, &stt, &d), 0);
	assert_int_equal(stt, OUTBOX_FAILED);
}

static void
test_lease_becomes_unknown_then_retried(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("reminder:9:7:24h", T0, T0 + 7200);
	int64_t id;
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 0);
	outbox_row_fini(&r);
	/* The sender "crashes": nothing records the outcome. Before the lease ends: nothing. */
	int count = -1;
	assert_int_equal(outbox_recover(f->st, T0 + 59, &count, &d), 0);
	assert_int_equal(count, 0);
	assert_int_equal(outbox_recover(f->st, T0 + 60, &count, &d), 0);
	assert_int_equal(count, 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'unknown'"
				     " AND lease_until IS NULL AND last_error LIKE '%lease ran out%'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.unknown'"),
			 1);
	/* An unknown row is due again (at-least-once) and says it was unknown. */
	time_t due = 0;
	assert_int_equal(outbox_next_due(f->st, T0 + 60, &due, &d), 0);
	assert_true(due <= T0 + 60);
	assert_int_equal(outbox_claim(f->st, T0 + 61, 60, &r, &d), 0);
	assert_int_equal(r.id, id);
	assert_true(r.was_unknown);
	assert_int_equal(r.attempts, 2);
	outbox_row_fini(&r);
	assert_int_equal(outbox_done(f->st, id, T0 + 62, NULL, 0, NULL, &d), 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"), 1);
}

static void
test_claim_recovers_lapsed_leases(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = msg("reminder:10:7:24h", T0, T0 + 100);
	int64_t id;
	assert_int_equal(outbox_enqueue(f->st, &m, &id, &d), 0);
	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0, 30, &r, &d), 0);
	outbox_row_fini(&r);
	/* Past the lease and past not_after: recovered as unknown (not expired: it may have
	 * gone out), due at once and claimed again, saying it was unknown, so that the
	 * notifier can look for its key: sent if it went out, expired if not. */
	time_t due;
	assert_int_equal(outbox_next_due(f->st, T0 + 200, &due, &d), 0);
	assert_int_equal(outbox_claim(f->st, T0 + 200, 30, &r, &d), 0);
	assert_int_equal(r.id, id);
	assert_true(r.was_unknown);
	outbox_row_fini(&r);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.unknown'"), 1);
	assert_int_equal(outbox_drop(f->st, id, "not sent before its not_after time", &d), 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'expired'"), 1);
	assert_int_equal(outbox_next_due(f->st, T0 + 201, &due, &d), 1);
}

static void
test_list_and_counts(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg a = msg("a", T0, 0), b = msg("b", T0, 0);
	b.recipient_id = 0;
	b.subject = NULL;
	b.attachments = "[{\"name\":\"session.ics\",\"type\":\"text/calendar\",\"content\":\"x\"}]";
	int64_t ida, idb;
	assert_int_equal(outbox_enqueue(f->st, &a, &ida, &d), 0);
	assert_int_equal(outbox_enqueue(f->st, &b, &idb, &d), 0);
	struct outbox_row r;
	assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 0);
	assert_int_equal(r.id, ida);
	outbox_row_fini(&r);
	assert_int_equal(outbox_done(f->st, ida, T0, NULL, 0, NULL, &d), 0);

	struct outbox_row *rows;
	size_t n;
	assert_int_equal(outbox_list(f->st, &(struct outbox_filter){.status = -1}, &rows, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].key, "a");
	assert_int_equal(rows[0].status, OUTBOX_SENT);
	assert_int_equal(rows[0].sent_at, T0);
	assert_string_equal(rows[1].key, "b");
	assert_null(rows[1].subject);
	assert_int_equal(rows[1].recipient_id, 0);
	assert_int_equal(rows[1].not_after, 0);
	assert_non_null(strstr(rows[1].attachments, "session.ics"));
	outbox_rows_free(rows, n);
	assert_int_equal(outbox_list(f->st, &(struct outbox_filter){.status = OUTBOX_PENDING},
				     &rows, &n, &d),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].key, "b");
	outbox_rows_free(rows, n);
	assert_int_equal(outbox_list(f->st, NULL, &rows, &n, &d), 0);
	assert_int_equal(n, 2);
	outbox_rows_free(rows, n);

	int64_t counts[OUTBOX_STATUS_COUNT];
	assert_int_equal(outbox_counts(f->st, counts, &d), 0);
	assert_int_equal(counts[OUTBOX_SENT], 1);
	assert_int_equal(counts[OUTBOX_PENDING], 1);
	assert_int_equal(counts[OUTBOX_FAILED], 0);

	enum outbox_status s;
	assert_int_equal(outbox_status_parse("unknown", &s), 0);
	assert_int_equal(s, OUTBOX_UNKNOWN);
	assert_int_equal(outbox_status_parse("lost", &s), -1);
	assert_string_equal(outbox_status_name(OUTBOX_EXPIRED), "expired");
}

/* outbox_retry: a failed row back to pending (attempts 0, due now, message.retried with
 * the actor); one past its not_after expires instead; an expired KEY stays; a KEY in
 * another state or unknown is refused and changes nothing. */
static void
test_retry_failed(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int64_t a, b, c;
	struct outbox_msg m = msg("nudge:a", T0, 0);
	assert_int_equal(outbox_enqueue(f->st, &m, &a, &d), 0);
	m = msg("nudge:b", T0, T0 + 100);
	assert_int_equal(outbox_enqueue(f->st, &m, &b, &d), 0);
	m = msg("nudge:c", T0, 0);
	assert_int_equal(outbox_enqueue(f->st, &m, &c, &d), 0);
	int64_t ids[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		struct outbox_row r;
		assert_int_equal(outbox_claim(f->st, T0, 60, &r, &d), 0);
		assert_int_equal(r.id, ids[i]);
		outbox_row_fini(&r);
		assert_int_equal(outbox_done(f->st, ids[i], T0, "broken", 1, NULL, &d), 0);
	}
	struct outbox_retried *r = NULL;
	size_t n = 0;
	assert_int_equal(outbox_retry(f->st, "nudge:c", T0 + 200, "ops", &r, &n, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_int_equal(outbox_retry(f->st, "nudge:zz", T0 + 200, "ops", &r, &n, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_int_equal(outbox_retry(f->st, NULL, T0 + 200, "ops", &r, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].key, "nudge:a");
	assert_int_equal(r[0].status, OUTBOX_PENDING);
	assert_int_equal(r[0].attempts, 1);
	assert_int_equal(r[1].status, OUTBOX_EXPIRED);
	assert_true(r[1].retried && r[1].stale);
	outbox_retried_free(r, n);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'nudge:a'"
				     " AND status = 'pending' AND attempts = 0"
				     " AND not_before = '2026-11-22T14:03:20Z'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.retried'"
				     " AND actor = 'ops'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.expired'"),
			 1);
	assert_int_equal(outbox_retry(f->st, "nudge:b", T0 + 300, "ops", &r, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].status, OUTBOX_EXPIRED);
	assert_false(r[0].retried);
	outbox_retried_free(r, n);
}

static void
test_composes_into_a_caller_transaction(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	/* A caller's rollback takes the queued message and its event with it. */
	assert_int_equal(store_begin(f->st, &d), 0);
	struct outbox_msg m = msg("job:1", T0, 0);
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
	store_rollback(f->st);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enqueue_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_refuses_bad_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_and_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_in_queue_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff_then_give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_error_gives_up_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lease_becomes_unknown_then_retried, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claim_recovers_lapsed_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_composes_into_a_caller_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retry_failed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

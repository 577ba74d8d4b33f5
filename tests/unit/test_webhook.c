/* Unit tests for core/serve/webhook's store side: the feed (a hook starts at the newest
 * event, queues what it wants once under "webhook:NAME:ID", moves its cursor, skips the
 * webhook rows' own message.* events), the notifiers never claim webhook rows and the
 * webhook claim takes only them, outbox_done_policy's attempts and delay, the signature
 * against a value computed independently (Python's hmac), and the backoff's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/events.h"
#include "events/outbox.h"
#include "program/config.h"
#include "serve/webhook.h"
#include "store/stmt.h"
#include "store/store.h"

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	if (stmt_query_int64(st, "test", sql, &v, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
	return v;
}

static void
append(struct store *st, const char *kind)
{
	struct diag d;
	struct event ev = {.kind = kind, .actor = "t", .payload_json = "{\"x\":1}"};
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(events_append(st, &ev, NULL, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
}

static void
test_feed_claim_and_policy(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_webhook.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tandem.db", dir);
	struct diag d;
	struct store *st = store_open(path, STORE_CREATE, &d);
	assert_non_null(st);
	append(st, "session.held"); /* history: never delivered */
	char *held[] = {"session.held"};
	struct config_webhook hooks[2] = {
	    {.name = "a", .url = "http://127.0.0.1:1/", .secret = "0123456789abcdef",
	     .attempts = 3, .backoff_s = 10},
	    {.name = "b", .url = "http://127.0.0.1:1/", .secret = "0123456789abcdef",
	     .events = held, .nevents = 1, .attempts = 2, .backoff_s = 10},
	};
	struct config cfg = {.webhooks = hooks, .nwebhooks = 2};
	int queued = -1;
	assert_int_equal(webhook_feed(st, &cfg, &queued, &d), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM webhook_cursors WHERE last_event = 1"), 2);
	append(st, "session.held");   /* 2 */
	append(st, "feedback.given"); /* 3 */
	assert_int_equal(webhook_feed(st, &cfg, &queued, &d), 0);
	assert_int_equal(queued, 3); /* a: 2 and 3; b: 2 */
	assert_int_equal(qint(st, "SELECT count(*) FROM outbox WHERE channel = 'webhook' AND"
				  " kind = 'webhook' AND idempotency_key IN"
				  " ('webhook:a:2', 'webhook:a:3', 'webhook:b:2')"),
			 3);
	assert_int_equal(qint(st, "SELECT count(*) FROM outbox WHERE idempotency_key ="
				  " 'webhook:a:2' AND json_extract(body, '$.kind') = 'session.held'"
				  " AND json_extract(body, '$.payload.x') = 1 AND subject = 'a'"),
			 1);
	/* The rows' own message.queued events are not fed again; nothing twice. */
	assert_true(qint(st, "SELECT count(*) FROM events WHERE kind = 'message.queued'") >= 3);
	assert_int_equal(webhook_feed(st, &cfg, &queued, &d), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM outbox"), 3);

	/* Notifiers never take webhook rows; the webhook claim takes only them. */
	struct outbox_msg m = {.key = "mail:1", .kind = "nudge", .channel = "eml", .body = "hi",
			       .not_before = 0};
	assert_int_equal(outbox_enqueue(st, &m, NULL, &d), 0);
	time_t now = store_time(st) + 5;
	struct outbox_row row;
	assert_int_equal(outbox_claim(st, now, 60, &row, &d), 0);
	assert_string_equal(row.key, "mail:1");
	outbox_row_fini(&row);
	assert_int_equal(outbox_claim(st, now, 60, &row, &d), 1);
	assert_int_equal(outbox_claim_channel(st, now, 60, 1, &row, &d), 0);
	assert_string_equal(row.channel, "webhook");
	int64_t id = row.id;
	outbox_row_fini(&row);
	/* The sender's policy: a retry after its own delay, failed at its own limit. */
	enum outbox_status next;
	assert_int_equal(outbox_done_policy(st, id, now, "HTTP 500", 0, 2, 7, &next, &d), 0);
	assert_int_equal(next, OUTBOX_PENDING);
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT CAST(strftime('%%s', not_before) AS INTEGER) - %lld FROM outbox"
		 " WHERE id = %lld AND last_error = 'HTTP 500'",
		 (long long)now, (long long)id);
	assert_int_equal(qint(st, sql), 7);
	snprintf(sql, sizeof(sql), "UPDATE outbox SET status = 'sent' WHERE id != %lld",
		 (long long)id);
	assert_int_equal(store_exec(st, sql, &d), 0);
	assert_int_equal(outbox_claim_channel(st, now + 6, 60, 1, &row, &d), 1);
	assert_int_equal(outbox_claim_channel(st, now + 7, 60, 1, &row, &d), 0);
	assert_int_equal(row.id, id);
	assert_int_equal(row.attempts, 2);
	outbox_row_fini(&row);
	assert_int_equal(outbox_done_policy(st, id, now + 7, "refused", 0, 2, 7, &next, &d), 0);
	assert_int_equal(next, OUTBOX_FAILED);
	store_close(st);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_sign_and_backoff(void **state)
{
	(void)state;
	char hex[SHA256_HEX_LEN];
	/* python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec-test-0123456",
	 *   b"1700000000.{\"id\":1}", hashlib.sha256).hexdigest())' */
	webhook_sign("whsec-test-0123456", 1700000000, "{\"id\":1}", 8, hex);
	assert_string_equal(hex, "906a41980b27397b823689448d0f52a30de58fbc0b7d57d2f27c796db2a7b417");
	assert_int_equal(webhook_backoff(60, 1, 0), 60);
	assert_int_equal(webhook_backoff(60, 2, 0), 120);
	assert_int_equal(webhook_backoff(60, 3, 0.999), 240 + 59);
	assert_int_equal(webhook_backoff(60, 40, 0), WEBHOOK_BACKOFF_MAX_S);
	assert_true(webhook_backoff(60, 40, 0.99) <= WEBHOOK_BACKOFF_MAX_S * 5 / 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_claim_and_policy),
		cmocka_unit_test(test_sign_and_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

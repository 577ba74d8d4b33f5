/*
 * serve/webhook: the webhooks of tandem.lua (webhook{ name, url, secret, events,
 * attempts, backoff }): events of the event log POSTed as JSON to each hook that wants
 * them, signed, through the outbox, without blocking the service's loop.
 *
 * For: serve/serve.c (`tandem serve`), which starts it on the service's loop and pumps
 * it after every wake; the unit tests (feed, sign, backoff).
 *
 * Contract:
 *  - webhook_feed: for each hook, the events after its cursor (table webhook_cursors; a
 *    hook seen for the first time starts at the newest event) that it wants
 *    (config_webhook_wants) become outbox rows: key "webhook:NAME:EVENT_ID", kind
 *    "webhook", channel "webhook", subject NAME, body the event as JSON {id, kind, at,
 *    actor, program_id, subject_id, payload}. Events about webhook rows themselves
 *    (message.* of channel webhook) are never delivered (no feedback loop). One
 *    transaction per hook; at most WEBHOOK_FEED_MAX events per hook per call.
 *  - Delivery: a POST of the body with Content-Type: application/json,
 *    Idempotency-Key: KEY, X-Tandem-Delivery: ATTEMPT (1, 2, ...) and
 *    X-Tandem-Signature: t=UNIX,v1=HEX where HEX is webhook_sign's HMAC-SHA256 under the
 *    hook's secret of "UNIX.BODY" (UNIX: the sender's wall clock, seconds). A 2xx answer
 *    is sent; 408, 429, 5xx and transport errors (refused, timeout after
 *    WEBHOOK_TIMEOUT_MS) are retried after webhook_backoff(attempts) until the hook's
 *    attempts are spent, then failed; another 4xx fails at once. The outbox row says
 *    which: sent, pending with its next attempt (not_before) and last_error, or failed
 *    with last_error. No redirects are followed; only http and https.
 *  - At-least-once: a crash after the receiver got a POST and before the row is
 *    recorded sent leaves it 'sending'; after its lease (WEBHOOK_LEASE_S) it is
 *    'unknown' and is delivered again with the same Idempotency-Key.
 *  - When: after every wake of the service, at the next due row (retries), and when
 *    another process commits (serve/dbwatch: an inotify watch, no timer).
 *  - Non-blocking: libcurl's multi interface on the loop (a uv_poll_t per socket, a
 *    uv_timer_t for curl's timeouts, another for the next due row); at most
 *    WEBHOOK_INFLIGHT transfers at once. Everything runs on the loop's thread, on the
 *    service's store connection between two steps.
 */
#ifndef TANDEM_SERVE_WEBHOOK_H
#define TANDEM_SERVE_WEBHOOK_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"
#include "base/sha256.h"

struct store;
struct config;
struct timescale;
struct uv_loop_s;

enum {
	WEBHOOK_FEED_MAX = 1000,
	WEBHOOK_INFLIGHT = 8,
	WEBHOOK_TIMEOUT_MS = 15000,
	WEBHOOK_LEASE_S = 120,
	WEBHOOK_BACKOFF_MAX_S = 6 * 3600,
};

/* Queues the events the hooks want (see the contract); *queued (may be NULL) counts rows. */
int webhook_feed(struct store *st, const struct config *cfg, int *queued, struct diag *d);

/* HEX (64 digits and a NUL) of HMAC-SHA256(secret, "TS.BODY"). */
void webhook_sign(const char *secret, long long ts, const char *body, size_t len,
		  char hex[SHA256_HEX_LEN]);

/* The delay before the next attempt after `attempts` failures: base * 2^(attempts-1),
 * at most WEBHOOK_BACKOFF_MAX_S, plus jitter in [0, a quarter of it], jitter01 in [0,1). */
time_t webhook_backoff(int base_s, int attempts, double jitter01);

struct webhook;

struct webhook *webhook_new(struct uv_loop_s *loop, struct store *st, const struct config *cfg,
			    const struct timescale *ts, struct diag *d);
/* Queues new events, starts due deliveries, arms the timer for the next one. */
void webhook_pump(struct webhook *w);
/* Stops the transfers (their rows stay 'sending' until the lease: delivered again later)
 * and closes the handles; the struct is freed once the loop has closed them. NULL is fine. */
void webhook_stop(struct webhook *w);

#endif

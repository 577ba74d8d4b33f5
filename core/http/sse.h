/*
 * http/sse: GET /api/v1/events/stream, the event log as Server-Sent Events.
 *
 * For: http/api.c, which makes one hub per API when it has a loop (the service's), and the
 * route table (routes__get_event_stream). Everything runs on the loop's thread.
 *
 * Contract:
 *  - A stream starts after the event named by the Last-Event-ID header, else after the
 *    `since` query argument, else after the newest event (only what happens from now on).
 *    `kind` and `program` filter as GET /api/v1/events does. Each event is
 *    "id: ID\nevent: KIND\ndata: JSON\n\n" (JSON: the event as /api/v1/events lists it, on
 *    one line), ids are the events table's, in order, each once per stream. With `names=0`
 *    the "event:" line is left out (a browser's EventSource then hands every event to
 *    onmessage: the dashboard's events page uses it). A backlog is
 *    sent in batches of HTTP_SSE_BATCH as the client reads it.
 *  - A comment line ": heartbeat" every `heartbeat` seconds (1-25, default
 *    HTTP_SSE_HEARTBEAT_S) without events, so proxies keep the connection and a client that
 *    left is noticed (its write fails and the stream is closed).
 *  - New events are noticed without a thread and without polling while nobody listens: a
 *    timer of HTTP_SSE_TICK_MS runs only while a stream is open and checks
 *    http/dbgen (any commit, by the service, the API or another process); a change makes
 *    every stream read the log after its last id.
 *  - At most HTTP_SSE_MAX streams: one more is 503 with Retry-After.
 *  - http_sse_stop closes the timer (the service's stop, before the loop ends);
 *    http_sse_delete frees the hub after the server has closed its streams.
 */
#ifndef TANDEM_HTTP_SSE_H
#define TANDEM_HTTP_SSE_H

#include <uv.h>

#include "base/diag.h"
#include "http/router.h"

enum {
	HTTP_SSE_MAX = 64,
	HTTP_SSE_TICK_MS = 250,
	HTTP_SSE_HEARTBEAT_S = 15,
	HTTP_SSE_BATCH = 200,
};

struct store;
struct http_sse;

struct http_sse *http_sse_new(uv_loop_t *loop, struct store *st, struct diag *d);
void http_sse_stop(struct http_sse *h);
void http_sse_delete(struct http_sse *h);

/* Open streams, for the log and the tests. */
int http_sse_count(const struct http_sse *h);

/* Answers c with a new stream of hub h (or the error: 400 for a bad argument, 503 when
 * full or without a hub). */
void http_sse_open(struct http_sse *h, struct http_call *c);

#endif

/*
 * http/sse: the event stream (see sse.h).
 *
 * Each stream is a client: the last event id it was sent, its filters, and a buffer of
 * bytes not yet taken by the server. The server asks for bytes (client_read); an empty
 * buffer is refilled from the log when the client may be behind (`more`), else the
 * connection is parked until the tick sees a commit or a heartbeat is due.
 */
#include "http/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "events/events_list.h"
#include "http/dbgen.h"
#include "http/routes_internal.h"
#include "store/stmt.h"

struct client {
	struct client *next, **pprev;
	struct http_sse *hub;
	struct http_stream *h; /* known from the first read */
	int64_t last_id;
	char *kind, *program;
	struct buf out;
	size_t off;
	int more;	      /* the log may hold events after last_id not yet read */
	uint64_t written_ms; /* when bytes were last queued */
	unsigned heartbeat_ms;
	int unnamed; /* ?names=0: no "event:" line (a browser's onmessage gets them all) */
};

struct http_sse {
	uv_timer_t timer;
	struct store *st;
	struct dbgen gen;
	struct client *clients;
	int n;
	int timer_open; /* uv_close not yet called */
	int freed_by_close; /* http_sse_delete ran first: the close callback frees */
};

/* ---- the log into the buffer ------------------------------------------------------- */

/* Appends the events after c->last_id (a batch); 0 or -1 (the stream should end). */
static int
fill(struct client *c)
{
	struct events_filter f = {.since = c->last_id, .kind = c->kind, .program = c->program,
				  .limit = HTTP_SSE_BATCH};
	json_t *arr = NULL;
	struct diag d;
	diag_clear(&d);
	if (events_list(c->hub->st, &f, &arr, &d) != 0) {
		tlog(TLOG_WARN, "http: event stream: %s", d.msg);
		return 0; /* a busy database: try again at the next tick */
	}
	c->more = json_array_size(arr) == HTTP_SSE_BATCH;
	size_t i;
	json_t *e;
	int rc = 0;
	json_array_foreach(arr, i, e)
	{
		char *text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
		int64_t id = json_integer_value(json_object_get(e, "id"));
		if (text == NULL ||
		    (c->unnamed ? buf_printf(&c->out, NULL, "id: %lld\ndata: %s\n\n", (long long)id,
					     text)
				: buf_printf(&c->out, NULL, "id: %lld\nevent: %s\ndata: %s\n\n",
					     (long long)id,
					     json_string_value(json_object_get(e, "kind")), text)) != 0)
			rc = -1;
		free(text);
		if (rc != 0)
			break;
		c->last_id = id;
	}
	json_decref(arr);
	return rc;
}

static long
client_read(void *ud, struct http_stream *h, char *buf, size_t max)
{
	struct client *c = ud;
	c->h = h;
	if (c->off == c->out.len) {
		c->out.len = c->off = 0;
		if (c->more && fill(c) != 0)
			return -1;
	}
	size_t n = c->out.len - c->off;
	if (n == 0)
		return 0;
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->off, n);
	c->off += n;
	c->written_ms = (uint64_t)clock_mono_ms(NULL);
	return (long)n;
}

static void
client_close(void *ud)
{
	struct client *c = ud;
	if ((*c->pprev = c->next) != NULL)
		c->next->pprev = c->pprev;
	if (--c->hub->n == 0 && c->hub->timer_open)
		uv_timer_stop(&c->hub->timer);
	buf_fini(&c->out);
	free(c->kind);
	free(c->program);
	free(c);
}

static const struct http_stream_ops client_ops = {client_read, client_close};

/* ---- the tick ---------------------------------------------------------------------- */

static void
on_tick(uv_timer_t *t)
{
	struct http_sse *h = t->data;
	int changed = 0;
	struct diag d;
	diag_clear(&d);
	if (dbgen_check(&h->gen, &changed, &d) != 0)
		tlog(TLOG_WARN, "http: event stream: %s", d.msg);
	uint64_t now = (uint64_t)clock_mono_ms(NULL);
	for (struct client *c = h->clients; c != NULL; c = c->next) {
		int wake = 0;
		if (changed) {
			c->more = 1;
			wake = 1;
		}
		if (now - c->written_ms >= c->heartbeat_ms && c->off == c->out.len) {
			c->out.len = c->off = 0;
			if (buf_printf(&c->out, NULL, ": heartbeat\n\n") == 0) {
				c->written_ms = now;
				wake = 1;
			}
		}
		if (wake)
			http_stream_wake(c->h);
	}
}

/* ---- the hub ----------------------------------------------------------------------- */

struct http_sse *
http_sse_new(uv_loop_t *loop, struct store *st, struct diag *d)
{
	struct http_sse *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	h->st = st;
	if (dbgen_init(&h->gen, st, d) != 0) {
		free(h);
		return NULL;
	}
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	h->timer_open = 1;
	return h;
}

static void
on_timer_closed(uv_handle_t *t)
{
	struct http_sse *h = t->data;
	if (h->freed_by_close) {
		dbgen_fini(&h->gen);
		free(h);
	}
}

void
http_sse_stop(struct http_sse *h)
{
	if (h == NULL || !h->timer_open)
		return;
	h->timer_open = 0;
	uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}

void
http_sse_delete(struct http_sse *h)
{
	if (h == NULL)
		return;
	if (h->timer_open) {
		/* Never stopped: the close callback frees it when the loop runs it. */
		h->freed_by_close = 1;
		http_sse_stop(h);
		return;
	}
	dbgen_fini(&h->gen);
	free(h);
}

int
http_sse_count(const struct http_sse *h)
{
	return h ? h->n : 0;
}

/* A non-negative integer argument: 0 and *v, or -1 and a 400. */
static int
int_arg(struct http_call *c, const char *name, const char *s, long long lo, long long hi,
	long long *v)
{
	char *end;
	*v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *v < lo || *v > hi)
		return http_error(c->resp, 400, "%s must be an integer from %lld to %lld (got '%.40s')",
				  name, lo, hi, s);
	return 0;
}

void
http_sse_open(struct http_sse *h, struct http_call *c)
{
	if (h == NULL || !h->timer_open) {
		http_error(c->resp, 503, "the event stream needs the service's loop");
		return;
	}
	if (h->n >= HTTP_SSE_MAX) {
		http_error(c->resp, 503, "%d event streams are open, the most this server keeps",
			   HTTP_SSE_MAX);
		http_response_header(c->resp, "Retry-After", "5");
		return;
	}
	const char *last = http_header(c->req, "Last-Event-ID");
	const char *since = http_query(c->req, "since");
	const char *hb = http_query(c->req, "heartbeat");
	const char *program = http_query(c->req, "program");
	long long from = -1, beat = HTTP_SSE_HEARTBEAT_S;
	if ((last != NULL && int_arg(c, "Last-Event-ID", last, 0, INT64_MAX, &from) != 0) ||
	    (last == NULL && since != NULL && int_arg(c, "since", since, 0, INT64_MAX, &from) != 0) ||
	    (hb != NULL && int_arg(c, "heartbeat", hb, 1, 25, &beat) != 0))
		return;
	if (program != NULL && routes__program(c, program, NULL) == NULL)
		return;
	struct diag d;
	diag_clear(&d);
	int64_t newest = 0;
	if (from < 0 && stmt_query_int64(h->st, "the newest event",
					  "SELECT coalesce(max(id), 0) FROM events", &newest, &d) != 0) {
		http_error_diag(c->resp, &d);
		return;
	}
	struct client *cl = calloc(1, sizeof(*cl));
	const char *kind = http_query(c->req, "kind");
	if (cl == NULL || (kind && (cl->kind = strdup(kind)) == NULL) ||
	    (program && (cl->program = strdup(program)) == NULL) ||
	    buf_printf(&cl->out, NULL, "retry: 2000\n: tandem event stream after event %lld\n\n",
		       (long long)(from < 0 ? newest : from)) != 0) {
		if (cl != NULL) {
			free(cl->kind);
			free(cl->program);
			buf_fini(&cl->out);
		}
		free(cl);
		http_error(c->resp, 500, "out of memory");
		return;
	}
	cl->hub = h;
	const char *names = http_query(c->req, "names");
	cl->unnamed = names != NULL && strcmp(names, "0") == 0;
	cl->last_id = from < 0 ? newest : from;
	cl->more = 1;
	cl->heartbeat_ms = (unsigned)beat * 1000;
	cl->written_ms = (uint64_t)clock_mono_ms(NULL);
	if ((cl->next = h->clients) != NULL)
		cl->next->pprev = &cl->next;
	cl->pprev = &h->clients;
	h->clients = cl;
	if (h->n++ == 0)
		uv_timer_start(&h->timer, on_tick, HTTP_SSE_TICK_MS, HTTP_SSE_TICK_MS);
	c->resp->status = 200;
	c->resp->content_type = "text/event-stream";
	c->resp->stream = &client_ops;
	c->resp->stream_ud = cl;
	http_response_header(c->resp, "Cache-Control", "no-cache");
}

void
routes__get_event_stream(struct http_call *c)
{
	http_sse_open(((struct http_api *)c->ud)->sse, c);
}

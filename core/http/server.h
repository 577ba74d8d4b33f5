/*
 * http/server: an HTTP/1.1 server on a libuv loop that someone else owns (the service's),
 * through Debian's libmicrohttpd (MHD) in external-epoll mode.
 *
 * For: serve/serve.c (`tandem serve --http`), which starts it on the service's loop with
 * http/api.c's handler, and the unit tests. It knows nothing of routes, JSON or tokens:
 * it turns a complete request into one call of the handler and the handler's response
 * into bytes.
 *
 * How it runs: MHD is started with MHD_USE_EPOLL and no thread of its own; one uv_poll_t
 * watches MHD's epoll descriptor and calls MHD_run, and one uv_timer_t, re-armed from
 * MHD_get_timeout after every run, covers MHD's own deadlines (idle connections, data it
 * has buffered but not yet processed). So every handler runs on the loop's thread,
 * between two of the service's steps, and needs no lock around the store or plugins.
 *
 * Contract:
 *  - http_addr_parse: "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (host 127.0.0.1);
 *    HOST is a numeric address or "localhost"; PORT 0..65535 (0: the system picks one;
 *    http_server_port says which). *loopback = 1 for 127.0.0.0/8 and ::1. DIAG_INVALID
 *    naming the text otherwise. No name lookup ever.
 *  - http_server_start refuses a non-loopback address unless o->public_ok (a service
 *    is reachable from the network only when its operator asked for it).
 *  - The handler is called once per request, after the whole body has arrived (the
 *    two-phase MHD handler: the first call only sets up the connection's context, which
 *    keeps HTTP/1.1 keep-alive working). It fills *resp; the server owns resp->body
 *    afterwards. HEAD is passed as HEAD; MHD sends no body for it.
 *  - Limits: a body over o->max_body gets 413 without calling the handler (at once when
 *    Content-Length says so, else once the body ends); headers and URL share MHD's
 *    per-connection memory (o->conn_memory; MHD answers 414/431 beyond it); an idle
 *    connection is closed after o->timeout_s; a request whose head (headers) is not
 *    complete o->head_timeout_s after its request line arrived is cut off (its socket shut
 *    down: a slowloris client that trickles header bytes holds a connection for that long
 *    at most); at most o->max_conns connections (MHD refuses more). MHD parses strictly (MHD_OPTION_STRICT_FOR_CLIENT): a malformed
 *    header line or an HTTP/1.1 request without Host gets 400, an unknown HTTP version
 *    505; a request line it cannot split at all closes the connection unanswered.
 *  - A response with a stream (struct http_stream_ops) is sent with chunked encoding as
 *    its read callback produces it; a connection with nothing to send is suspended in MHD
 *    and resumed by http_stream_wake (from any loop callback).
 *  - http_server_stop closes the handles and stops MHD (open connections are closed);
 *    the struct is freed once the loop has run the close callbacks. NULL is fine.
 */
#ifndef TANDEM_HTTP_SERVER_H
#define TANDEM_HTTP_SERVER_H

#include <stddef.h>

#include <sys/socket.h>
#include <uv.h>

#include "base/diag.h"

enum http_kind { HTTP_HEADER, HTTP_QUERY };

/* A complete request, valid during the handler's call only. */
struct http_request {
	const char *method;	/* "GET", "POST", "HEAD", ... */
	const char *path;	/* the URL's path, percent-decoded, without the query */
	const char *uri;	/* the request target as sent: path and query, not decoded */
	const char *body;	/* NUL-terminated copy of the body ("" when none) */
	size_t body_len;
	/* A header (case-insensitive name) or a query argument; NULL when absent. */
	const char *(*lookup)(void *ctx, enum http_kind kind, const char *key);
	void *ctx;
};

static inline const char *
http_header(const struct http_request *r, const char *name)
{
	return r->lookup(r->ctx, HTTP_HEADER, name);
}

static inline const char *
http_query(const struct http_request *r, const char *key)
{
	return r->lookup(r->ctx, HTTP_QUERY, key);
}

enum { HTTP_MAX_HEADERS = 6 };

/*
 * A response of unknown length produced as it goes (Server-Sent Events). read fills buf
 * with up to max bytes: > 0 bytes written; 0 nothing to send now (the server parks the
 * connection, which uses no CPU, until http_stream_wake(h)); -1 the stream ends. h is the
 * same handle on every call and stays valid until close(ud), which the server calls once
 * when the connection is done with the stream (client gone, server stopping); after
 * close, h must not be used.
 */
struct http_stream;
struct http_stream_ops {
	long (*read)(void *ud, struct http_stream *h, char *buf, size_t max);
	void (*close)(void *ud);
};
/* Makes a parked stream's connection call read again soon (a no-op when not parked). */
void http_stream_wake(struct http_stream *h);

/* What the handler answers. body is malloc'd (or NULL); headers' values are malloc'd. */
struct http_response {
	int status;
	const char *content_type; /* static text; NULL: no Content-Type */
	char *body;
	size_t body_len;
	int nheaders;
	const char *header_names[HTTP_MAX_HEADERS]; /* static text */
	char *header_values[HTTP_MAX_HEADERS];
	/* A stream instead of a body (body unused): the server calls stream->close(stream_ud)
	 * once in every case, also when the response cannot be queued. */
	const struct http_stream_ops *stream;
	void *stream_ud;
	/* A kept reply instead of all the above (http_reply_*): the response holds one
	 * reference, which the server gives back once the reply is queued. */
	struct http_reply *reply;
};

/*
 * A reply made once and sent many times: http/cache.h keeps the answers to reads as
 * replies, so a kept answer costs no copy of its body nor a new response per request
 * (MHD sends the same bytes to every connection that asks).
 * http_reply_new copies r's status, content type, headers and body (r is unchanged); NULL
 * when out of memory or for a stream. The reply is refcounted (one reference for the
 * caller) and immutable; a connection still sending it keeps its bytes alive after the
 * last unref. Single-threaded, like the rest of the server.
 */
struct http_reply;
struct http_reply *http_reply_new(const struct http_response *r);
struct http_reply *http_reply_ref(struct http_reply *p);
void http_reply_unref(struct http_reply *p); /* NULL is fine */
/* The body (NUL-terminated) and its length, valid while a reference is held. */
const char *http_reply_body(const struct http_reply *p);
size_t http_reply_body_len(const struct http_reply *p);

/* Adds a header (name static, value copied); 0, or -1 when out of room or memory. */
int http_response_header(struct http_response *r, const char *name, const char *value);
/* Frees body and header values (and gives back the reply); the struct can be reused after. */
void http_response_fini(struct http_response *r);

typedef void (*http_handler_fn)(void *ud, const struct http_request *req,
				struct http_response *resp);

struct http_server_opts {
	const char *addr;	/* for http_addr_parse */
	int public_ok;		/* 1: a non-loopback address is allowed */
	size_t max_body;	/* bytes; 0: HTTP_MAX_BODY */
	unsigned timeout_s;	/* idle connection timeout; 0: HTTP_TIMEOUT_S */
	unsigned max_conns;	/* 0: HTTP_MAX_CONNS */
	size_t conn_memory;	/* per-connection memory (headers, URL); 0: HTTP_CONN_MEMORY */
	unsigned head_timeout_s; /* a request's head, from its request line; 0: HTTP_HEAD_TIMEOUT_S */
	http_handler_fn handler;
	void *ud;
};

enum {
	HTTP_MAX_BODY = 1 << 20,
	HTTP_TIMEOUT_S = 30,
	HTTP_MAX_CONNS = 1000,
	/* 64 KiB, not MHD's 32: MHD mallocs a pool of 32 KiB but maps a larger one, and
	 * 500 idle connections closed and opened again every 30 s grew the heap by 1-3 MiB a
	 * round at 32 KiB, none at 64 (measured, docs/performance.md). */
	HTTP_CONN_MEMORY = 64 * 1024,
	HTTP_HEAD_TIMEOUT_S = 10,
};

int http_addr_parse(const char *text, struct sockaddr_storage *ss, int *loopback,
		    struct diag *d);

struct http_server;

struct http_server *http_server_start(uv_loop_t *loop, const struct http_server_opts *o,
				      struct diag *d);
void http_server_stop(struct http_server *s);

/* The port it listens on (the one the system picked for port 0). */
int http_server_port(const struct http_server *s);

#endif

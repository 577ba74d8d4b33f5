/*
 * http/server: libmicrohttpd driven by a foreign libuv loop (see server.h).
 *
 * Why the two-phase handler: MHD calls the access handler first when the headers are in,
 * then once per chunk of body, then once more with no data. A response queued on the
 * first call is sent before the body was read, so MHD must close the connection after it
 * (measured: `Connection: close` on every reply, a fifth of the keep-alive throughput).
 * Here the first call only allocates the request's context (or refuses a body that its
 * Content-Length says is too big: closing that connection is what we want); the response
 * is queued on the last call.
 *
 * Why the timer after every run: MHD's epoll descriptor becomes readable only when one
 * of its sockets changes state. Data MHD has already read but not processed, a reply it
 * could not finish writing, and idle-connection deadlines do not wake it; MHD_get_timeout
 * says when MHD_run must run again (0: at once).
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/clock.h"

struct req_ctx;

struct http_server {
	uv_poll_t poll;
	uv_timer_t timer;
	uv_timer_t heads; /* runs while a request head is pending: its deadline */
	struct MHD_Daemon *mhd;
	struct http_server_opts o;
	int port;
	int open_handles; /* freed when every close callback has run */
	struct http_stream *streams; /* the open streams (resumed before MHD stops) */
	struct req_ctx *pending;     /* requests whose request line came, their headers not yet */
	unsigned long heads_cut;
};

/* One request's state, from the first call of the handler to MHD's completion notice. */
struct req_ctx {
	char *uri; /* the request target as sent (path and query), for cache keys */
	int started; /* the handler's first call is done */
	struct buf body;
	int too_large;
	/* While its head is pending (request line in, headers not complete): in s->pending. */
	struct MHD_Connection *conn;
	uint64_t since_ms;
	struct req_ctx *next, **pprev;
};

static void
pending_unlink(struct req_ctx *rc)
{
	if (rc->pprev == NULL)
		return;
	if ((*rc->pprev = rc->next) != NULL)
		rc->next->pprev = rc->pprev;
	rc->pprev = NULL;
	rc->next = NULL;
}

static void on_heads(uv_timer_t *t);

/* MHD's first word on a request: the raw target. What it returns is the handler's
 * *con_cls; NULL (out of memory) only makes the handler allocate the context itself.
 * From here the request's head has o.head_timeout_s to arrive (on_heads). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct req_ctx *rc = calloc(1, sizeof(*rc));
	if (rc != NULL && (rc->uri = strdup(uri)) == NULL) {
		free(rc);
		rc = NULL;
	}
	if (rc != NULL) {
		rc->conn = conn;
		rc->since_ms = (uint64_t)clock_mono_ms(NULL);
		if ((rc->next = s->pending) != NULL)
			rc->next->pprev = &rc->next;
		rc->pprev = &s->pending;
		s->pending = rc;
		if (!uv_is_active((uv_handle_t *)&s->heads))
			uv_timer_start(&s->heads, on_heads, 1000, 1000);
	}
	return rc;
}

int
http_response_header(struct http_response *r, const char *name, const char *value)
{
	if (r->nheaders >= HTTP_MAX_HEADERS)
		return -1;
	char *v = strdup(value);
	if (v == NULL)
		return -1;
	r->header_names[r->nheaders] = name;
	r->header_values[r->nheaders++] = v;
	return 0;
}

void
http_response_fini(struct http_response *r)
{
	if (r->stream != NULL)
		r->stream->close(r->stream_ud);
	http_reply_unref(r->reply);
	free(r->body);
	for (int i = 0; i < r->nheaders; i++)
		free(r->header_values[i]);
	memset(r, 0, sizeof(*r));
}

/* ---- kept replies ------------------------------------------------------------------ */

/* MHD counts the connections that queued m and frees it (and the copy of the body it
 * made) once the last is done and our own reference is given back. */
struct http_reply {
	struct MHD_Response *m;
	unsigned status;
	char *body; /* m's bytes: freed by MHD with m */
	size_t len;
	unsigned long refs;
};

/* r's content type and headers on m: 0, or -1 when MHD is out of memory. */
static int
add_headers(struct MHD_Response *m, const struct http_response *r)
{
	int rc = 0;
	if (r->content_type != NULL &&
	    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) != MHD_YES)
		rc = -1;
	for (int i = 0; i < r->nheaders; i++)
		if (MHD_add_response_header(m, r->header_names[i], r->header_values[i]) != MHD_YES)
			rc = -1;
	return rc;
}

struct http_reply *
http_reply_new(const struct http_response *r)
{
	if (r->stream != NULL || r->reply != NULL)
		return NULL;
	struct http_reply *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	if ((p->body = malloc(r->body_len + 1)) == NULL) {
		free(p);
		return NULL;
	}
	if (r->body_len > 0)
		memcpy(p->body, r->body, r->body_len);
	p->body[r->body_len] = '\0';
	p->m = MHD_create_response_from_buffer_with_free_callback(r->body_len, p->body, free);
	if (p->m == NULL || add_headers(p->m, r) != 0) {
		if (p->m != NULL)
			MHD_destroy_response(p->m);
		else
			free(p->body);
		free(p);
		return NULL;
	}
	p->status = (unsigned)r->status;
	p->len = r->body_len;
	p->refs = 1;
	return p;
}

struct http_reply *
http_reply_ref(struct http_reply *p)
{
	p->refs++;
	return p;
}

void
http_reply_unref(struct http_reply *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	MHD_destroy_response(p->m);
	free(p);
}

const char *
http_reply_body(const struct http_reply *p)
{
	return p->body;
}

size_t
http_reply_body_len(const struct http_reply *p)
{
	return p->len;
}

/* ---- addresses --------------------------------------------------------------------- */

int
http_addr_parse(const char *text, struct sockaddr_storage *ss, int *loopback, struct diag *d)
{
	char host[128] = "127.0.0.1";
	const char *port = text;
	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
			return diag_set(d, DIAG_INVALID, "HTTP address '%s': want [V6]:PORT", text);
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		port = end + 2;
	} else if (strchr(text, ':') != NULL) {
		const char *colon = strrchr(text, ':');
		if (strchr(text, ':') != colon)
			return diag_set(d, DIAG_INVALID,
					"HTTP address '%s': an IPv6 address goes in brackets: [::1]:8080",
					text);
		if (colon != text) {
			if ((size_t)(colon - text) >= sizeof(host))
				return diag_set(d, DIAG_INVALID, "HTTP address '%s': host too long", text);
			memcpy(host, text, (size_t)(colon - text));
			host[colon - text] = '\0';
		}
		port = colon + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
		return diag_set(d, DIAG_INVALID, "HTTP address '%s': port must be 0..65535", text);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
	} else {
		return diag_set(d, DIAG_INVALID,
				"HTTP address '%s': '%s' is not a numeric IPv4 or IPv6 address", text,
				host);
	}
	return 0;
}

/* ---- requests ---------------------------------------------------------------------- */

static const char *
conn_lookup(void *ctx, enum http_kind kind, const char *key)
{
	return MHD_lookup_connection_value(ctx, kind == HTTP_HEADER ? MHD_HEADER_KIND
								    : MHD_GET_ARGUMENT_KIND,
					   key);
}

/* ---- streams ----------------------------------------------------------------------- */

struct http_stream {
	struct http_server *s;
	struct MHD_Connection *conn;
	const struct http_stream_ops *ops;
	void *ud;
	int parked;
	struct http_stream *next, **pprev; /* in s->streams */
};

static void on_timer(uv_timer_t *t);

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *h = cls;
	long n = h->ops->read(h->ud, h, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n == 0) {
		/* Nothing now: MHD would call again at once; parked, it waits for a wake. */
		MHD_suspend_connection(h->conn);
		h->parked = 1;
	}
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct http_stream *h = cls;
	if ((*h->pprev = h->next) != NULL)
		h->next->pprev = h->pprev;
	h->ops->close(h->ud);
	free(h);
}

void
http_stream_wake(struct http_stream *h)
{
	if (h == NULL || !h->parked)
		return;
	h->parked = 0;
	MHD_resume_connection(h->conn);
	/* MHD sees the resumed connection on its next run: soon, from the loop. */
	uv_timer_start(&h->s->timer, on_timer, 0, 0);
}

/* The MHD response of r: its body, or its stream. NULL when out of memory (the stream,
 * if any, closed). */
static struct MHD_Response *
make_response(struct http_server *s, struct MHD_Connection *conn, struct http_response *r)
{
	if (r->stream == NULL)
		return MHD_create_response_from_buffer(
		    r->body_len, r->body ? r->body : (void *)"",
		    r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	struct http_stream *h = calloc(1, sizeof(*h));
	struct MHD_Response *m = NULL;
	if (h != NULL) {
		*h = (struct http_stream){.s = s, .conn = conn, .ops = r->stream, .ud = r->stream_ud};
		m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, h,
						      stream_free);
		if (m != NULL) {
			if ((h->next = s->streams) != NULL)
				h->next->pprev = &h->next;
			h->pprev = &s->streams;
			s->streams = h;
		}
	}
	if (m == NULL) {
		r->stream->close(r->stream_ud);
		free(h);
	}
	r->stream = NULL;
	return m;
}

static enum MHD_Result
queue(struct http_server *s, struct MHD_Connection *conn, struct http_response *r)
{
	if (r->reply != NULL) { /* kept: the same MHD response again */
		enum MHD_Result rc = MHD_queue_response(conn, r->reply->status, r->reply->m);
		http_response_fini(r);
		return rc;
	}
	struct MHD_Response *m = make_response(s, conn, r);
	if (m == NULL) {
		http_response_fini(r);
		return MHD_NO;
	}
	r->body = NULL; /* MHD frees it with the response */
	if (add_headers(m, r) != 0) {
		/* Out of memory: an answer without its Location, ETag or Link would be wrong, so
		 * none is sent (MHD closes the connection). */
		tlog(TLOG_WARN, "http: out of memory adding an answer's headers; connection closed");
		MHD_destroy_response(m);
		http_response_fini(r);
		return MHD_NO;
	}
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, m);
	MHD_destroy_response(m);
	http_response_fini(r);
	return rc;
}

static enum MHD_Result
queue_too_large(struct http_server *s, struct MHD_Connection *conn, size_t max)
{
	struct http_response r = {.status = 413, .content_type = "application/json"};
	struct buf b = {0};
	if (buf_printf(&b, NULL,
		       "{\"error\":{\"code\":\"payload_too_large\",\"message\":"
		       "\"the request body is over %zu bytes\"}}",
		       max) == 0) {
		r.body_len = b.len;
		r.body = buf_release(&b);
	}
	return queue(s, conn, &r);
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req_ctx *rc = *con_cls;
	if (rc == NULL || !rc->started) {
		/* Phase one: the headers are in. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > s->o.max_body)
			return queue_too_large(s, conn, s->o.max_body);
		if (rc == NULL && (rc = calloc(1, sizeof(*rc))) == NULL)
			return MHD_NO;
		pending_unlink(rc);
		rc->started = 1;
		*con_cls = rc;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* A chunk of the body: kept while it fits, else dropped (413 at the end). */
		if (!rc->too_large && rc->body.len + *upload_data_size <= s->o.max_body) {
			if (buf_append(&rc->body, upload_data, *upload_data_size, NULL) != 0)
				return MHD_NO;
		} else {
			rc->too_large = 1;
			buf_fini(&rc->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rc->too_large)
		return queue_too_large(s, conn, s->o.max_body);
	struct http_request req = {
	    .method = method,
	    .path = url,
	    .uri = rc->uri ? rc->uri : url,
	    .body = rc->body.data ? rc->body.data : "",
	    .body_len = rc->body.len,
	    .lookup = conn_lookup,
	    .ctx = conn,
	};
	struct http_response resp = {0};
	s->o.handler(s->o.ud, &req, &resp);
	if (resp.status == 0)
		resp.status = 500;
	return queue(s, conn, &resp);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *rc = *con_cls;
	if (rc == NULL)
		return;
	pending_unlink(rc);
	buf_fini(&rc->body);
	free(rc->uri);
	free(rc);
	*con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	tlog(TLOG_DEBUG, "http: %s", msg);
}

/* ---- the loop side ----------------------------------------------------------------- */

/* MHD_run, then the timer for MHD's next deadline. */
static void
drive(struct http_server *s)
{
	MHD_run(s->mhd);
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&s->timer);
}

/*
 * The deadline of a request's head: MHD's connection timeout counts idle time only, so a
 * client sending one header byte every few seconds (slowloris) would hold its connection
 * for ever. A request whose head is still incomplete o.head_timeout_s after its request
 * line came has its socket shut down; MHD then reads the end of the stream and closes the
 * connection as it closes any other (its completion notice frees the context).
 */
static void
on_heads(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = (uint64_t)clock_mono_ms(NULL), limit = (uint64_t)s->o.head_timeout_s * 1000;
	int cut = 0;
	for (struct req_ctx *rc = s->pending, *next; rc != NULL; rc = next) {
		next = rc->next;
		if (now - rc->since_ms < limit)
			continue;
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(rc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL)
			shutdown(ci->connect_fd, SHUT_RDWR);
		pending_unlink(rc);
		s->heads_cut++;
		cut = 1;
	}
	if (s->pending == NULL)
		uv_timer_stop(&s->heads);
	if (cut)
		uv_timer_start(&s->timer, on_timer, 0, 0); /* MHD sees the ends now */
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	drive(p->data);
}

static void
on_timer(uv_timer_t *t)
{
	drive(t->data);
}

struct http_server *
http_server_start(uv_loop_t *loop, const struct http_server_opts *o, struct diag *d)
{
	struct sockaddr_storage ss;
	int loopback = 0;
	if (http_addr_parse(o->addr, &ss, &loopback, d) != 0)
		return NULL;
	if (!loopback && !o->public_ok) {
		diag_set(d, DIAG_INVALID,
			 "HTTP address '%s' is not a loopback address: the API would be reachable "
			 "from the network; say so with --http-public (and put TLS in front)",
			 o->addr);
		return NULL;
	}
	struct http_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	s->o = *o;
	if (s->o.max_body == 0)
		s->o.max_body = HTTP_MAX_BODY;
	if (s->o.timeout_s == 0)
		s->o.timeout_s = HTTP_TIMEOUT_S;
	if (s->o.max_conns == 0)
		s->o.max_conns = HTTP_MAX_CONNS;
	if (s->o.conn_memory == 0)
		s->o.conn_memory = HTTP_CONN_MEMORY;
	if (s->o.head_timeout_s == 0)
		s->o.head_timeout_s = HTTP_HEAD_TIMEOUT_S;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)s->o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->o.conn_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    s, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		diag_set(d, DIAG_IO,
			 "cannot listen on %s (address in use, or not an address of this host)",
			 o->addr);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *ep = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = pi != NULL ? pi->port : 0;
	int rc = ep != NULL ? uv_poll_init(loop, &s->poll, ep->epoll_fd) : UV_EINVAL;
	if (rc != 0) {
		diag_set(d, DIAG_IO, "cannot watch the HTTP server's descriptor: %s",
			 uv_strerror(rc));
		MHD_stop_daemon(s->mhd);
		free(s);
		return NULL;
	}
	uv_timer_init(loop, &s->timer);
	uv_timer_init(loop, &s->heads);
	s->poll.data = s->timer.data = s->heads.data = s;
	s->open_handles = 3;
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	drive(s);
	return s;
}

static void
on_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;
	if (--s->open_handles == 0)
		free(s);
}

void
http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	/* The poll leaves the loop's epoll set now, before MHD closes the descriptor. */
	uv_close((uv_handle_t *)&s->poll, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
	uv_close((uv_handle_t *)&s->heads, on_closed);
	if (s->heads_cut > 0)
		tlog(TLOG_INFO, "http: %lu requests cut off at the %u s deadline of their head",
		     s->heads_cut, s->o.head_timeout_s);
	/* MHD aborts when stopped with a connection suspended that nobody resumed. */
	for (struct http_stream *h = s->streams; h != NULL; h = h->next)
		if (h->parked) {
			h->parked = 0;
			MHD_resume_connection(h->conn);
		}
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
}

int
http_server_port(const struct http_server *s)
{
	return s->port;
}

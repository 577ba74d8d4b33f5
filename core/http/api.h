/*
 * http/api: the JSON API of `tandem serve --http`: one handler (for http/server.h) that
 * finds the route (http/router.h, table in http/routes.c), checks the bearer token
 * (http/tokens.h), runs the route's handler and adds the ETag.
 *
 * For: serve/serve.c, which builds it on the service's store, loaded config and
 * scheduler, and the unit tests. Everything runs on the loop's thread, between two of
 * the service's steps, on the service's own store connection (no transaction is open
 * between steps).
 *
 * Paths under /c/ are the participants' check-in pages (http/checkin_page.h), and every
 * path outside /api/, /healthz and /c/ is the dashboard's (http/dash.h): both handed over
 * before anything below applies.
 *
 * Contract, for every request under /api/v1 and /healthz:
 *  - Unknown path: 404. Known path, other method: 405 with Allow.
 *  - A route with a scope needs "Authorization: Bearer TOKEN" of a live token, or, for GET
 *    and HEAD only, the dashboard's session cookie (http/dash.h) with the scope of the
 *    session's token: none,
 *    unknown or revoked: 401 with WWW-Authenticate: Bearer; a scope below the route's
 *    (read < manage < admin): 403. The token's name is the actor of every write.
 *  - A request with a body must say Content-Type: application/json (415 otherwise); a
 *    body that is not a JSON object: 400.
 *  - A 200 answer to GET/HEAD carries an ETag (http_etag of the body); a request whose
 *    If-None-Match names it gets 304 and no body. The answer is kept (http/cache.h) for
 *    the next request of the same target while the database does not change, for at
 *    most a second; the token is checked on every request all the same.
 *  - Errors are JSON (router.h); a failed domain call maps its diag (router.h).
 *  - Writes never wait for SQLite's busy timeout on the loop: while a write route runs,
 *    the store gives up at once when another process holds the write lock, and the
 *    answer is 503 with Retry-After: 1 (nothing was written). Reads wait as usual
 *    (WAL readers are not blocked by a writer).
 *  - Stream routes (HTTP_ROUTE_STREAM: the event stream) are never kept nor given an ETag.
 */
#ifndef TANDEM_HTTP_API_H
#define TANDEM_HTTP_API_H

#include <stddef.h>

#include "base/diag.h"
#include "http/dbgen.h"
#include "http/router.h"
#include "http/server.h"

struct store;
struct config;
struct sched;
struct tokens_cache;
struct uv_loop_s;

struct http_api_opts {
	struct store *st;
	const struct config *cfg; /* the service's loaded tandem.lua (a reload keeps the pointer) */
	struct sched *sched;	  /* the service's scheduler (GET /api/v1/jobs); may be NULL */
	const char *ws;		  /* the workspace folder (policies, report plugins); NULL: "." */
	struct uv_loop_s *loop;	  /* the service's loop (the event stream); NULL: no stream */
	/* Called after a request that wrote to the database (a check-in, a reschedule...), on
	 * the service's connection, where the service's database watch does not see it
	 * (serve/dbwatch: other connections only): the service wakes. NULL: nothing. */
	void (*on_write)(void *ud);
	void *on_write_ud;
};

struct http_cache;
struct http_sse;
struct dash;

struct http_api {
	struct http_api_opts o;
	struct tokens_cache *tokens;
	struct http_cache *cache; /* kept answers to reads (http/cache.h) */
	struct http_sse *sse;	  /* the event streams (http/sse.h); NULL without a loop */
	struct dash *dash;	  /* the dashboard's pages (http/dash.h) */
	struct dbgen_reader gen;  /* shared by tokens and cache: one read per request */
	int gen_ready;
	unsigned long requests, busy;
	int busy_hit; /* the current write met a locked database */
	char cookie_name[65]; /* the token name of a read opened by a session cookie */
};

struct http_api *http_api_new(const struct http_api_opts *o, struct diag *d);
/* Closes the API's loop handles (the event streams' timer): before the loop ends. */
void http_api_stop(struct http_api *a);
void http_api_delete(struct http_api *a);

/* The http_handler_fn (ud = the struct http_api). */
void http_api_handle(void *ud, const struct http_request *req, struct http_response *resp);

/* The route table (routes.c), for dispatch and for `tandem serve --routes`. */
extern const struct http_route http_routes[];
extern const size_t http_nroutes;

/* The body as a JSON object (an empty body is {}): 0 and *out (the caller's reference), or
 * -1 and a 400 in c->resp. */
int http_body_json(struct http_call *c, json_t **out);

#endif

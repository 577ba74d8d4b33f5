/*
 * http/api: dispatch, auth and ETags around the route table (see api.h).
 */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "http/cache.h"
#include "http/checkin_page.h"
#include "http/dash.h"
#include "http/sse.h"
#include "http/tokens.h"
#include "store/store.h"

struct http_api *
http_api_new(const struct http_api_opts *o, struct diag *d)
{
	struct http_api *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	a->o = *o;
	if (dbgen_reader_init(&a->gen, o->st, d) != 0) {
		free(a);
		return NULL;
	}
	a->gen_ready = 1;
	if ((a->tokens = tokens_cache_new(o->st, &a->gen, d)) == NULL ||
	    (a->cache = http_cache_new(o->st, &a->gen, d)) == NULL ||
	    (o->loop != NULL && (a->sse = http_sse_new(o->loop, o->st, d)) == NULL) ||
	    (a->dash = dash_new(a, d)) == NULL) {
		http_api_delete(a);
		return NULL;
	}
	return a;
}

void
http_api_stop(struct http_api *a)
{
	if (a != NULL) {
		http_sse_stop(a->sse);
		dash_stop(a->dash);
	}
}

void
http_api_delete(struct http_api *a)
{
	if (a == NULL)
		return;
	if (a->busy > 0)
		tlog(TLOG_INFO, "http: %lu writes answered 503 (database busy)", a->busy);
	if (a->cache != NULL) {
		unsigned long hits, misses;
		http_cache_stats(a->cache, &hits, &misses);
		tlog(TLOG_INFO, "http: %lu requests; reads: %lu answered from the cache, %lu built",
		     a->requests, hits, misses);
	}
	dash_delete(a->dash);
	http_sse_delete(a->sse);
	http_cache_delete(a->cache);
	tokens_cache_delete(a->tokens);
	if (a->gen_ready)
		dbgen_reader_fini(&a->gen);
	free(a);
}

int
http_body_json(struct http_call *c, json_t **out)
{
	*out = NULL;
	const char *p = c->req->body;
	if (p[strspn(p, " \t\r\n")] == '\0') {
		*out = json_object();
		return *out ? 0 : http_error(c->resp, 500, "out of memory");
	}
	json_error_t err;
	json_t *v = json_loadb(p, c->req->body_len, 0, &err);
	if (v == NULL)
		return http_error(c->resp, 400, "the body is not JSON: line %d, column %d: %s",
				  err.line, err.column, err.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return http_error(c->resp, 400, "the body must be a JSON object");
	}
	*out = v;
	return 0;
}

/* application/json, with parameters (charset) or not. */
static int
is_json_type(const char *ct)
{
	if (ct == NULL)
		return 0;
	ct += strspn(ct, " ");
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int
is_read(const struct http_request *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* 1 when the request may go on; else the answer is in resp. */
static int
authorize(struct http_api *a, const struct http_route *r, struct http_call *c)
{
	c->actor = "";
	c->scope = HTTP_SCOPE_NONE;
	if (r->scope == HTTP_SCOPE_NONE)
		return 1;
	struct diag d;
	diag_clear(&d);
	const char *name = NULL;
	enum http_scope scope = HTTP_SCOPE_NONE;
	const char *auth = http_header(c->req, "Authorization");
	int rc = tokens_check(a->tokens, auth, &name, &scope, &d);
	if (rc == 0 && auth == NULL && is_read(c->req)) {
		/* The dashboard's session cookie opens reads (EventSource sends no header). */
		int s = 0;
		rc = dash_cookie_session(a->dash, c->req, a->cookie_name, &s, &d);
		scope = (enum http_scope)s;
		name = a->cookie_name;
	}
	if (rc < 0) {
		http_error_diag(c->resp, &d);
		return 0;
	}
	if (rc == 0) {
		http_error(c->resp, 401,
			   "a live bearer token is needed: Authorization: Bearer TOKEN (tandem "
			   "tokens create)");
		http_response_header(c->resp, "WWW-Authenticate", "Bearer realm=\"tandem\"");
		return 0;
	}
	if (scope < r->scope) {
		http_error(c->resp, 403, "token '%s' has scope %s; %s %s needs %s", name,
			   http_scope_name(scope), r->method, r->pattern, http_scope_name(r->scope));
		return 0;
	}
	c->actor = name;
	c->scope = scope;
	return 1;
}


/* ETag on a 200 read that is not kept; 304 when the client has it. */
static void
conditional(const struct http_request *req, struct http_response *resp)
{
	if (resp->status != 200 || resp->body == NULL || !is_read(req))
		return;
	char etag[HTTP_ETAG_MAX];
	http_etag(resp->body, resp->body_len, etag);
	http_response_header(resp, "ETag", etag);
	if (http_etag_matches(http_header(req, "If-None-Match"), etag)) {
		resp->status = 304;
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		resp->content_type = NULL;
	}
}

/* A 200 read answered by the reply p (a reference, which resp takes), or by resp as built
 * when p is NULL (its ETag header already added); 304 and the ETag alone when the client
 * has etag. */
static void
answer(const struct http_request *req, struct http_response *resp, struct http_reply *p,
       const char *etag)
{
	resp->status = 200;
	if (!http_etag_matches(http_header(req, "If-None-Match"), etag)) {
		resp->reply = p;
		return;
	}
	if (p != NULL) {
		http_reply_unref(p);
		http_response_header(resp, "ETag", etag);
	}
	resp->status = 304;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->content_type = NULL;
}

/* A 500 answer goes to the log with its request (the client sees the message too). */
static void
log_failure(const struct http_request *req, const struct http_response *resp)
{
	if (resp->status < 500 || resp->status == 503)
		return;
	json_t *v = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
	tlog(TLOG_ERROR, "http: %s %s: %d %s", req->method, req->path, resp->status,
	     msg ? msg : "(no message)");
	json_decref(v);
}

/* SQLite's busy handler during a write: give up at once (and say so). */
static int
busy_give_up(void *ud, int count)
{
	((struct http_api *)ud)->busy_hit = 1;
	return 0;
}

/* A write route: the store fails fast instead of waiting (see api.h); a busy failure
 * becomes 503 + Retry-After. */
static void
run_write(struct http_api *a, const struct http_route *r, struct http_call *c)
{
	sqlite3 *db = store_db(a->o.st);
	a->busy_hit = 0;
	sqlite3_busy_handler(db, busy_give_up, a);
	r->fn(c);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	if (a->busy_hit && c->resp->status >= 500) {
		a->busy++;
		http_response_fini(c->resp);
		http_error(c->resp, 503,
			   "the database is busy (another tandem process is writing); nothing was "
			   "changed: retry");
		http_response_header(c->resp, "Retry-After", "1");
	}
	log_failure(c->req, c->resp);
}

static void handle(struct http_api *a, const struct http_request *req,
		   struct http_response *resp);

void
http_api_handle(void *ud, const struct http_request *req, struct http_response *resp)
{
	struct http_api *a = ud;
	a->requests++;
	sqlite3_int64 before = sqlite3_total_changes64(store_db(a->o.st));
	if (checkin_page_path(req->path)) { /* participants' HTML pages: no token, no cache */
		checkin_page_handle(a->o.st, a->o.cfg, req, resp);
	} else {
		/* One read of the database's version serves the token check and the cache
		 * lookup. */
		dbgen_reader_batch(&a->gen, 1);
		if (dash_path(req->path))
			dash_handle(a->dash, req, resp);
		else
			handle(a, req, resp);
		dbgen_reader_batch(&a->gen, 0);
	}
	if (a->o.on_write != NULL && sqlite3_total_changes64(store_db(a->o.st)) != before)
		a->o.on_write(a->o.on_write_ud);
}

static void
handle(struct http_api *a, const struct http_request *req, struct http_response *resp)
{
	struct http_match m;
	enum http_route_result rr = http_route_find(http_routes, http_nroutes, req->method,
						    req->path, &m);
	if (rr == HTTP_ROUTE_NONE) {
		http_error(resp, 404, "no route %s %s (see docs/openapi.yaml)", req->method,
			   req->path);
		return;
	}
	if (rr == HTTP_ROUTE_METHOD) {
		http_error(resp, 405, "%s is not a method of %s; allowed: %s", req->method,
			   req->path, m.allow);
		http_response_header(resp, "Allow", m.allow);
		return;
	}
	struct http_call c = {.req = req, .resp = resp, .nparams = m.nparams, .ud = a};
	for (int i = 0; i < m.nparams; i++)
		c.params[i] = m.params[i];
	if (!authorize(a, m.route, &c))
		return;
	if (req->body_len > 0 && !is_json_type(http_header(req, "Content-Type"))) {
		const char *ct = http_header(req, "Content-Type");
		http_error(resp, 415, "the body must be application/json (got %s)",
			   ct ? ct : "no Content-Type");
		return;
	}
	if (!is_read(req)) {
		run_write(a, m.route, &c);
		return;
	}
	if (m.route->flags & HTTP_ROUTE_STREAM) {
		m.route->fn(&c);
		log_failure(req, resp);
		return;
	}
	char etag[HTTP_ETAG_MAX];
	struct http_reply *kept = NULL;
	if (http_cache_get(a->cache, req->uri, &kept, etag)) {
		answer(req, resp, kept, etag);
		return;
	}
	m.route->fn(&c);
	log_failure(req, resp);
	/* Kept answers are JSON: other types (reports) are built each time. */
	if (resp->status == 200 && resp->body != NULL && resp->content_type != NULL &&
	    strcmp(resp->content_type, "application/json") == 0) {
		http_etag(resp->body, resp->body_len, etag);
		struct http_reply *p = NULL;
		if (http_response_header(resp, "ETag", etag) == 0 && (p = http_reply_new(resp)) != NULL) {
			http_cache_put(a->cache, req->uri, p, etag);
			http_response_fini(resp);
		}
		answer(req, resp, p, etag); /* out of memory for the reply: resp as built */
		return;
	}
	conditional(req, resp);
}

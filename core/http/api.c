/*
 * http/api: dispatch, auth and ETags around the route table (see api.h).
 */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/cache.h"
#include "http/tokens.h"

struct http_api *
http_api_new(const struct http_api_opts *o, struct diag *d)
{
	struct http_api *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	a->o = *o;
	if ((a->tokens = tokens_cache_new(o->st, d)) == NULL ||
	    (a->cache = http_cache_new(o->st, d)) == NULL) {
		http_api_delete(a);
		return NULL;
	}
	return a;
}

void
http_api_delete(struct http_api *a)
{
	if (a == NULL)
		return;
	if (a->cache != NULL) {
		unsigned long hits, misses;
		http_cache_stats(a->cache, &hits, &misses);
		tlog(TLOG_INFO, "http: %lu requests; reads: %lu answered from the cache, %lu built",
		     a->requests, hits, misses);
	}
	http_cache_delete(a->cache);
	tokens_cache_delete(a->tokens);
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
	int rc = tokens_check(a->tokens, http_header(c->req, "Authorization"), &name, &scope, &d);
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

static int
is_read(const struct http_request *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* ETag on a 200 read (etag: already known, or NULL); 304 when the client has it. */
static void
conditional(const struct http_request *req, struct http_response *resp, const char *known)
{
	if (resp->status != 200 || resp->body == NULL || !is_read(req))
		return;
	char etag[HTTP_ETAG_MAX];
	if (known != NULL)
		snprintf(etag, sizeof(etag), "%s", known);
	else
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

void
http_api_handle(void *ud, const struct http_request *req, struct http_response *resp)
{
	struct http_api *a = ud;
	a->requests++;
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
	char etag[HTTP_ETAG_MAX];
	if (is_read(req) && http_cache_get(a->cache, req->uri, &resp->body, &resp->body_len, etag)) {
		resp->status = 200;
		resp->content_type = "application/json";
		conditional(req, resp, etag);
		return;
	}
	m.route->fn(&c);
	if (is_read(req) && resp->status == 200 && resp->body != NULL) {
		http_etag(resp->body, resp->body_len, etag);
		http_cache_put(a->cache, req->uri, resp->body, resp->body_len, etag);
		conditional(req, resp, etag);
		return;
	}
	conditional(req, resp, NULL);
}

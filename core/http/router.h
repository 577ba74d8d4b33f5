/*
 * http/router: the API's conventions in one place: a table of routes (method, path
 * pattern, scope, handler) and how a path finds its route; JSON bodies and JSON errors;
 * ETag and If-None-Match; the cursor and limit of paginated lists.
 *
 * For: http/api.c (dispatch, auth, ETag on every read) and http/routes.c (the table and
 * the handlers), the unit tests. No I/O, no store.
 *
 * Contract:
 *  - Patterns are absolute paths whose segments are literal or "{name}" (one whole
 *    segment, non-empty); a trailing slash in the request is not ignored. At most
 *    HTTP_MAX_PARAMS captures, copied into the match (so they outlive the path).
 *    http_route_find returns the route whose pattern and method match; when the path
 *    matches some pattern but no route of that method, HTTP_ROUTE_METHOD and m->allow
 *    lists the methods that exist ("GET, HEAD, POST": HEAD comes with every GET);
 *    else HTTP_ROUTE_NONE. HEAD finds the GET route.
 *  - Errors are {"error":{"code":CODE,"message":TEXT}}, CODE one of http_error_code's
 *    names for the status; http_error_diag maps a diag's code to its status
 *    (DIAG_INVALID 422, DIAG_NOTFOUND 404, DIAG_CONFLICT 409, anything else 500).
 *  - http_etag: a strong ETag, the quoted 64-bit FNV-1a of the body as 16 hex digits;
 *    http_etag_matches: 1 when an If-None-Match value ("*", a list, weak or strong
 *    entries) names it (RFC 9110 13.1.2: weak comparison).
 *  - Cursors are opaque to clients: base64url (no padding) of the last key a page
 *    held; decoding refuses anything that is not canonical base64url of text
 *    without control characters (UTF-8 keys pass). http_limit: a `limit` query value 1..HTTP_LIMIT_MAX, HTTP_LIMIT_DEFAULT when
 *    absent; anything else is an error the caller answers with 400.
 */
#ifndef TANDEM_HTTP_ROUTER_H
#define TANDEM_HTTP_ROUTER_H

#include <stddef.h>

#include <jansson.h>

#include "base/diag.h"
#include "http/server.h"

enum http_scope { HTTP_SCOPE_NONE, HTTP_SCOPE_READ, HTTP_SCOPE_MANAGE, HTTP_SCOPE_ADMIN };

/* "none", "read", "manage", "admin"; http_scope_parse: 0 and *out, -1 when unknown. */
const char *http_scope_name(enum http_scope s);
int http_scope_parse(const char *s, enum http_scope *out);

enum { HTTP_MAX_PARAMS = 4, HTTP_PARAM_MAX = 256 };

/* One request being answered: what a handler gets. */
struct http_call {
	const struct http_request *req;
	struct http_response *resp;
	const char *params[HTTP_MAX_PARAMS]; /* the pattern's captures, in order */
	int nparams;
	const char *actor;	/* the token's name ("" without auth) */
	enum http_scope scope;	/* the token's scope */
	void *ud;		/* the API's context */
};

typedef void (*http_route_fn)(struct http_call *c);

struct http_route {
	const char *method;
	const char *pattern;
	enum http_scope scope; /* the least scope that may call it; NONE: no token needed */
	http_route_fn fn;
	const char *summary;
	unsigned flags; /* HTTP_ROUTE_STREAM: answers a stream (never kept, no ETag) */
};

enum { HTTP_ROUTE_STREAM = 1 };

enum http_route_result { HTTP_ROUTE_OK, HTTP_ROUTE_NONE, HTTP_ROUTE_METHOD };

struct http_match {
	const struct http_route *route;
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
	int nparams;
	char allow[64];
};

enum http_route_result http_route_find(const struct http_route *table, size_t n,
				       const char *method, const char *path,
				       struct http_match *m);

/* "bad_request", "not_found", ... for a status; "error" for one it does not name. */
const char *http_error_code(int status);

/* Sets resp to a JSON error; always returns -1 (handlers `return http_error(...)`). */
int http_error(struct http_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The JSON error for a failed domain call: the status from d->code, the message d's.
 * (http/api.c logs the 500s, once it knows they were not a busy database.) */
int http_error_diag(struct http_response *resp, const struct diag *d);

/* Sets resp to status and v as compact JSON (takes the reference); 0, or a 500 and -1. */
int http_json(struct http_response *resp, int status, json_t *v);

enum { HTTP_ETAG_MAX = 24 };
void http_etag(const char *body, size_t n, char out[HTTP_ETAG_MAX]);
int http_etag_matches(const char *if_none_match, const char *etag);

/* The base64url alphabet (RFC 4648 section 5). */
#define HTTP_B64URL_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
/* base64url of n bytes (no padding) into out, NUL-terminated, cut to whole groups when cap
 * (at least 4 * (n + 2) / 3 + 1 for all of it) is short; the length written. */
size_t http_b64url(const void *p, size_t n, char *out, size_t cap);
/* base64url of key (no padding) into out (at least 4 * (len + 2) / 3 + 1 bytes). */
void http_cursor_encode(const char *key, char *out, size_t cap);
/* The key a cursor carries into out; 0, or -1 when it is not a cursor of ours. */
int http_cursor_decode(const char *cursor, char *out, size_t cap);

enum { HTTP_LIMIT_DEFAULT = 50, HTTP_LIMIT_MAX = 500, HTTP_CURSOR_MAX = 256 };

/* The `limit` argument: 0 and *limit, or -1 with a 400 in c->resp. */
int http_limit(struct http_call *c, int *limit);

/* The `cursor` argument decoded into key (key[0] = '\0' when absent): 0, or -1 and a 400. */
int http_cursor(struct http_call *c, char *key, size_t cap);

/*
 * A list page: {"data": items, "next": URL or null} where URL is path?ARGS&cursor=C with
 * ARGS the given query arguments the request carried (names in keep, NULL-terminated)
 * and limit, C = the encoded next_key (NULL: the last page). Also a Link rel="next"
 * header. Takes items' reference. 0 or -1 (a 500 in resp).
 */
int http_page(struct http_call *c, json_t *items, const char *const *keep, int limit,
	      const char *next_key);

#endif

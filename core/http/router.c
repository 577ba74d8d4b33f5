/*
 * http/router: route matching, JSON errors, ETags, cursors (see router.h).
 */
#include "http/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"

static const char *const scope_names[] = {"none", "read", "manage", "admin"};

const char *
http_scope_name(enum http_scope s)
{
	return (unsigned)s < 4 ? scope_names[s] : "?";
}

int
http_scope_parse(const char *s, enum http_scope *out)
{
	for (int i = HTTP_SCOPE_READ; i <= HTTP_SCOPE_ADMIN; i++)
		if (strcmp(s, scope_names[i]) == 0) {
			*out = (enum http_scope)i;
			return 0;
		}
	return -1;
}

/* ---- matching ---------------------------------------------------------------------- */

/* 1 when path fits pattern; the captures go to m. */
static int
path_fits(const char *pattern, const char *path, struct http_match *m)
{
	m->nparams = 0;
	const char *p = pattern, *s = path;
	while (*p != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t n = strcspn(s, "/");
			if (close == NULL || n == 0 || n >= HTTP_PARAM_MAX || m->nparams >= HTTP_MAX_PARAMS)
				return 0;
			memcpy(m->params[m->nparams], s, n);
			m->params[m->nparams++][n] = '\0';
			p = close + 1;
			s += n;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

static int
method_is(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void
allow_add(char *allow, size_t cap, const char *method)
{
	/* Each method once: a path may have several routes of one method (none here yet). */
	size_t n = strlen(method);
	for (const char *a = allow; (a = strstr(a, method)) != NULL; a += n)
		if ((a == allow || a[-1] == ' ') && (a[n] == ',' || a[n] == '\0'))
			return;
	size_t len = strlen(allow);
	snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

enum http_route_result
http_route_find(const struct http_route *table, size_t n, const char *method, const char *path,
		struct http_match *m)
{
	memset(m, 0, sizeof(*m));
	struct http_match probe;
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!path_fits(table[i].pattern, path, &probe))
			continue;
		if (method_is(table[i].method, method)) {
			*m = probe;
			m->route = &table[i];
			return HTTP_ROUTE_OK;
		}
		seen = 1;
		allow_add(m->allow, sizeof(m->allow), table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(m->allow, sizeof(m->allow), "HEAD");
	}
	return seen ? HTTP_ROUTE_METHOD : HTTP_ROUTE_NONE;
}

/* ---- errors and JSON --------------------------------------------------------------- */

const char *
http_error_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 422: return "invalid";
	case 429: return "too_many_requests";
	case 500: return "internal";
	case 503: return "unavailable";
	default: return "error";
	}
}

static void
set_body(struct http_response *resp, int status, char *text)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = text;
	resp->body_len = text ? strlen(text) : 0;
}

int
http_json(struct http_response *resp, int status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	if (text == NULL) {
		set_body(resp, 500, strdup("{\"error\":{\"code\":\"internal\",\"message\":"
					   "\"out of memory\"}}"));
		return -1;
	}
	set_body(resp, status, text);
	return 0;
}

int
http_error(struct http_response *resp, int status, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_json(resp, status,
		  json_pack("{s{ssss}}", "error", "code", http_error_code(status), "message", msg));
	return -1;
}

int
http_error_diag(struct http_response *resp, const struct diag *d)
{
	int status = d->code == DIAG_INVALID	? 422
		     : d->code == DIAG_NOTFOUND ? 404
		     : d->code == DIAG_CONFLICT ? 409
						: 500;
	return http_error(resp, status, "%s", d->msg[0] ? d->msg : "unknown error");
}

/* ---- ETags ------------------------------------------------------------------------- */

void
http_etag(const char *body, size_t n, char out[HTTP_ETAG_MAX])
{
	snprintf(out, HTTP_ETAG_MAX, "\"%016llx\"", (unsigned long long)hash_fnv1a(body, n));
}

int
http_etag_matches(const char *inm, const char *etag)
{
	if (inm == NULL)
		return 0;
	size_t elen = strlen(etag);
	const char *p = inm;
	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		size_t n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(p, etag, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* ---- cursors and limits ------------------------------------------------------------ */

static const char b64url[] = HTTP_B64URL_ALPHABET;

size_t
http_b64url(const void *p, size_t n, char *out, size_t cap)
{
	const unsigned char *s = p;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
		if (o + chars + 1 > cap)
			break;
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64url[v & 63];
	}
	if (cap > 0)
		out[o] = '\0';
	return o;
}

void
http_cursor_encode(const char *key, char *out, size_t cap)
{
	http_b64url(key, strlen(key), out, cap);
}

static int
b64_value(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;
	return p ? (int)(p - b64url) : -1;
}

int
http_cursor_decode(const char *cursor, char *out, size_t cap)
{
	size_t n = strlen(cursor), o = 0;
	if (n == 0 || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int k = n - i >= 4 ? 4 : (int)(n - i);
		unsigned v = 0;
		for (int j = 0; j < 4; j++) {
			int x = j < k ? b64_value(cursor[i + j]) : 0;
			if (x < 0)
				return -1;
			v = v << 6 | (unsigned)x;
		}
		unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
					  (unsigned char)v};
		int nb = k - 1;
		/* Canonical only: the bits past the last byte are zero. */
		if ((k == 2 && (v & 0xffff)) || (k == 3 && (v & 0xff)))
			return -1;
		for (int j = 0; j < nb; j++) {
			if (bytes[j] < 0x20 || bytes[j] == 0x7f || o + 1 >= cap)
				return -1;
			out[o++] = (char)bytes[j];
		}
	}
	out[o] = '\0';
	return 0;
}

int
http_limit(struct http_call *c, int *limit)
{
	const char *s = http_query(c->req, "limit");
	*limit = HTTP_LIMIT_DEFAULT;
	if (s == NULL)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > HTTP_LIMIT_MAX)
		return http_error(c->resp, 400, "limit must be an integer from 1 to %d (got '%s')",
				  HTTP_LIMIT_MAX, s);
	*limit = (int)v;
	return 0;
}

int
http_cursor(struct http_call *c, char *key, size_t cap)
{
	const char *s = http_query(c->req, "cursor");
	key[0] = '\0';
	if (s == NULL)
		return 0;
	if (strlen(s) > HTTP_CURSOR_MAX || http_cursor_decode(s, key, cap) != 0)
		return http_error(c->resp, 400,
				  "cursor '%.64s' is not one this API gave (take it from 'next')", s);
	return 0;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters stay). */
static int
put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			    ch == '~';
		if (plain ? buf_putc(b, (char)ch, NULL) : buf_printf(b, NULL, "%%%02X", ch))
			return -1;
	}
	return 0;
}

int
http_page(struct http_call *c, json_t *items, const char *const *keep, int limit,
	  const char *next_key)
{
	json_t *next = json_null();
	if (next_key != NULL) {
		struct buf b = {0};
		char cur[HTTP_CURSOR_MAX + 8];
		http_cursor_encode(next_key, cur, sizeof(cur));
		int rc = buf_printf(&b, NULL, "%s?", c->req->path);
		for (int i = 0; rc == 0 && keep && keep[i]; i++) {
			const char *v = http_query(c->req, keep[i]);
			if (v != NULL)
				rc = buf_printf(&b, NULL, "%s=", keep[i]) || put_escaped(&b, v) ||
				     buf_putc(&b, '&', NULL);
		}
		if (rc == 0)
			rc = buf_printf(&b, NULL, "limit=%d&cursor=%s", limit, cur);
		if (rc != 0 || (next = json_string(b.data)) == NULL) {
			buf_fini(&b);
			json_decref(items);
			return http_error(c->resp, 500, "out of memory");
		}
		struct buf link = {0};
		if (buf_printf(&link, NULL, "<%s>; rel=\"next\"", b.data) == 0)
			http_response_header(c->resp, "Link", link.data);
		buf_fini(&link);
		buf_fini(&b);
	}
	return http_json(c->resp, 200, json_pack("{soso}", "data", items, "next", next));
}

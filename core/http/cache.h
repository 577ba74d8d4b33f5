/*
 * http/cache: answers to reads kept for the next identical request, as long as the
 * database has not changed and for at most HTTP_CACHE_TTL_MS.
 *
 * Why: dashboards and integrations poll the same pages (the next sessions of a program,
 * the jobs); building a page of 50 sessions costs milliseconds (rows, joins, one zone
 * conversion per row, JSON), sending a kept one microseconds. The answer must never be
 * stale for data: any commit, by the service or by another process (the CLI), empties the
 * cache (http/dbgen.h). The TTL bounds what depends on the clock alone (the service's
 * time in /healthz, a rating's reveal window) to one second.
 *
 * For: http/api.c, on GET and HEAD routes after the token was checked (the answers do not
 * depend on the token: every reader sees the organizer's view), keyed by the request
 * target as sent (path and query). Only 200 answers are kept, whole: status, type,
 * headers (the ETag, a page's Link) and body, as one http_reply (http/server.h), which
 * the server sends again by reference: a hit copies nothing.
 *
 * Contract: http_cache_get: 1, a new reference to the reply (the caller's to give back or
 * to hand to the server) and its ETag when a fresh answer is kept for key; 0 otherwise (or
 * on any failure: the cache is only ever a shortcut). http_cache_put keeps a reference of
 * its own; when HTTP_CACHE_MAX_ENTRIES or HTTP_CACHE_MAX_BYTES (of bodies) would be
 * passed, everything kept is dropped first. Dropping a reply a connection is still sending
 * is safe (the server keeps it until sent). Single-threaded.
 */
#ifndef TANDEM_HTTP_CACHE_H
#define TANDEM_HTTP_CACHE_H

#include <stddef.h>

#include "base/diag.h"
#include "http/router.h"
#include "http/server.h"

enum {
	HTTP_CACHE_TTL_MS = 1000,
	HTTP_CACHE_MAX_ENTRIES = 1024,
	HTTP_CACHE_MAX_BYTES = 16 << 20,
};

struct store;
struct http_cache;

struct dbgen_reader;
/* shared: the reader of the database's changes it uses (http/dbgen.h); NULL: its own. */
struct http_cache *http_cache_new(struct store *st, struct dbgen_reader *shared,
				  struct diag *d);
void http_cache_delete(struct http_cache *c);

int http_cache_get(struct http_cache *c, const char *key, struct http_reply **reply,
		   char etag[HTTP_ETAG_MAX]);
void http_cache_put(struct http_cache *c, const char *key, struct http_reply *reply,
		    const char *etag);

/* Hits and misses since it was made, for the log. */
void http_cache_stats(const struct http_cache *c, unsigned long *hits, unsigned long *misses);

#endif

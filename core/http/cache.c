/*
 * http/cache: a string map of kept replies, emptied when the database changes (see cache.h).
 */
#include "http/cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/strmap.h"
#include "http/dbgen.h"

struct kept {
	struct http_reply *reply;
	size_t len;
	char etag[HTTP_ETAG_MAX];
	uint64_t at_ms;
};

struct http_cache {
	struct strmap map; /* key -> struct kept */
	struct dbgen gen;
	size_t bytes;
	unsigned long hits, misses;
};

static void
drop_all(struct http_cache *c)
{
	for (struct strmap_entry *e = strmap_next(&c->map, NULL); e; e = strmap_next(&c->map, e)) {
		struct kept *k = e->ptr;
		if (k != NULL) {
			http_reply_unref(k->reply);
			free(k);
		}
	}
	strmap_fini(&c->map);
	strmap_init(&c->map, STRMAP_COPY_KEYS);
	c->bytes = 0;
}

struct http_cache *
http_cache_new(struct store *st, struct dbgen_reader *shared, struct diag *d)
{
	struct http_cache *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	strmap_init(&c->map, STRMAP_COPY_KEYS);
	if (shared != NULL)
		dbgen_init_shared(&c->gen, shared);
	else if (dbgen_init(&c->gen, st, d) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
http_cache_delete(struct http_cache *c)
{
	if (c == NULL)
		return;
	drop_all(c);
	strmap_fini(&c->map);
	dbgen_fini(&c->gen);
	free(c);
}

int
http_cache_get(struct http_cache *c, const char *key, struct http_reply **reply,
	       char etag[HTTP_ETAG_MAX])
{
	int changed = 1;
	if (dbgen_check(&c->gen, &changed, NULL) != 0 || changed) {
		drop_all(c);
		c->misses++;
		return 0;
	}
	struct strmap_entry *e = strmap_get(&c->map, key);
	struct kept *k = e ? e->ptr : NULL;
	if (k == NULL || (uint64_t)clock_mono_ms(NULL) - k->at_ms >= HTTP_CACHE_TTL_MS) {
		c->misses++;
		return 0;
	}
	*reply = http_reply_ref(k->reply);
	memcpy(etag, k->etag, HTTP_ETAG_MAX);
	c->hits++;
	return 1;
}

void
http_cache_put(struct http_cache *c, const char *key, struct http_reply *reply,
	       const char *etag)
{
	size_t len = http_reply_body_len(reply);
	if (len > HTTP_CACHE_MAX_BYTES / 4)
		return;
	struct strmap_entry *e = strmap_get(&c->map, key);
	if (e == NULL && (c->map.len + 1 > HTTP_CACHE_MAX_ENTRIES ||
			  c->bytes + len > HTTP_CACHE_MAX_BYTES))
		drop_all(c);
	struct kept *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return;
	k->len = len;
	snprintf(k->etag, sizeof(k->etag), "%s", etag);
	k->at_ms = (uint64_t)clock_mono_ms(NULL);
	int added = 0;
	if ((e = strmap_intern(&c->map, key, &added, NULL)) == NULL) {
		free(k);
		return;
	}
	if (!added) {
		struct kept *old = e->ptr;
		c->bytes -= old->len;
		http_reply_unref(old->reply);
		free(old);
	}
	k->reply = http_reply_ref(reply);
	e->ptr = k;
	c->bytes += len;
}

void
http_cache_stats(const struct http_cache *c, unsigned long *hits, unsigned long *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}

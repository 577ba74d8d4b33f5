/*
 * rewards/dispatch_cache: the requests one rule's batches were marshalled into, kept for
 * the run's next rules (see dispatch_internal.h). Rules listening to the same kinds from
 * the same cursor read the same batches: the first rule builds each event's table and
 * its match and marshals the request; the next ones are sent the same bytes. A request is
 * the same for every rule (ctx.rule is set by the worker) as long as the worker's match
 * cache is in the same state, which the key says: the batch's start, the kinds, the batch
 * size and the tables the worker had been sent before it. Kept up to
 * DISPATCH_REQ_CACHE_BYTES; past that, requests are built again.
 */
#include "base/vec.h"
#include "rewards/dispatch_internal.h"

#include <stdlib.h>
#include <string.h>

struct req_entry {
	int64_t chain, pos; /* the rule run that built it, and its batch's index there */
	int64_t from, sent_before, sent_after;
	int max;
	char *kinds;
	size_t n;
	int64_t *ids, *programs;
	char *req;
	size_t len;
};

int
dispatch__cache_get(struct req_cache *c, int64_t *chain, int64_t pos, int64_t from,
		    const char *kinds, int max, int64_t sent_before, struct batch *b,
		    struct buf *req, int64_t *sent_after, struct diag *d)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct req_entry *e = &c->v[i];
		if (e->pos != pos || (*chain != 0 && e->chain != *chain) || e->from != from ||
		    e->max != max || e->sent_before != sent_before || strcmp(e->kinds, kinds) != 0)
			continue;
		*chain = e->chain;
		buf_reset(req);
		if (buf_append(req, e->req, e->len, d) != 0)
			return -1;
		memcpy(b->ids, e->ids, e->n * sizeof(*b->ids));
		memcpy(b->programs, e->programs, e->n * sizeof(*b->programs));
		b->n = e->n;
		*sent_after = e->sent_after;
		c->hits++;
		return 1;
	}
	return 0;
}

void
dispatch__cache_put(struct req_cache *c, int64_t chain, int64_t pos, int64_t from,
		    const char *kinds, int max, int64_t sent_before, const struct batch *b,
		    const struct buf *req, int64_t sent_after)
{
	size_t bytes = req->len + 2 * b->n * sizeof(int64_t) + strlen(kinds) + 1;
	if (b->n == 0 || c->bytes + bytes > DISPATCH_REQ_CACHE_BYTES)
		return;
	if (vec_grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), NULL) != 0)
		return; /* not kept: the next rule builds it again */
	struct req_entry e = {.chain = chain, .pos = pos, .from = from, .sent_before = sent_before, .sent_after = sent_after,
			      .max = max, .n = b->n, .len = req->len};
	e.kinds = strdup(kinds);
	e.ids = malloc(b->n * sizeof(*e.ids));
	e.programs = malloc(b->n * sizeof(*e.programs));
	e.req = malloc(req->len ? req->len : 1);
	if (e.kinds == NULL || e.ids == NULL || e.programs == NULL || e.req == NULL) {
		free(e.kinds);
		free(e.ids);
		free(e.programs);
		free(e.req);
		return;
	}
	memcpy(e.ids, b->ids, b->n * sizeof(*e.ids));
	memcpy(e.programs, b->programs, b->n * sizeof(*e.programs));
	memcpy(e.req, req->data, req->len);
	c->v[c->n++] = e;
	c->bytes += bytes;
}

void
dispatch__cache_fini(struct req_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].kinds);
		free(c->v[i].ids);
		free(c->v[i].programs);
		free(c->v[i].req);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

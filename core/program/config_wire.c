/*
 * config_wire: a struct config as bytes, so the worker that evaluated tandem.lua can send
 * it to the host (program/config.c): config__encode in the child, config__decode in the
 * host. Lengths are 32-bit, NO_STRING marks a NULL string; a malformed encoding decodes to
 * an empty config and an error.
 */
#include "program/config_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

enum { NO_STRING = 0xffffffffu };

static int
put_bytes(struct buf *b, const void *p, size_t n, struct diag *d)
{
	return buf_append(b, p, n, d);
}

static int
put_int(struct buf *b, int v, struct diag *d)
{
	int32_t x = v;
	return put_bytes(b, &x, sizeof(x), d);
}

static int
put_str(struct buf *b, const char *s, struct diag *d)
{
	uint32_t n = s != NULL ? (uint32_t)strlen(s) : NO_STRING;
	return put_bytes(b, &n, sizeof(n), d) || (s != NULL && put_bytes(b, s, n, d)) ? -1 : 0;
}

static int
put_list(struct buf *b, char **items, int n, struct diag *d)
{
	if (put_int(b, n, d) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (put_str(b, items[i], d) != 0)
			return -1;
	return 0;
}

int
config__encode(const struct config *cfg, struct buf *b, struct diag *d)
{
	if (put_str(b, cfg->organization, d) || put_str(b, cfg->timezone, d) ||
	    put_str(b, cfg->notify, d) || put_str(b, cfg->mail_from, d) ||
	    put_str(b, cfg->public_url, d) ||
	    put_int(b, cfg->has_workspace, d) || put_int(b, cfg->nprograms, d))
		return -1;
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct config_program *p = &cfg->programs[i];
		if (put_str(b, p->name, d) || put_str(b, p->title, d) ||
		    put_str(b, p->description, d) || put_str(b, p->starts, d) ||
		    put_str(b, p->ends, d) || put_list(b, p->goals, p->ngoals, d) ||
		    put_list(b, p->topics, p->ntopics, d) || put_int(b, p->sessions_per_month, d) ||
		    put_int(b, p->minutes_per_session, d) || put_str(b, p->policy, d) ||
		    put_str(b, p->cadence, d) || put_str(b, p->manager, d) || put_int(b, p->line, d))
			return -1;
		for (int t = 0; t < p->ntopics; t++)
			if (put_list(b, p->topic_questions ? p->topic_questions[t].questions : NULL,
				     p->topic_questions ? p->topic_questions[t].n : 0, d))
				return -1;
	}
	if (put_int(b, cfg->nwebhooks, d) != 0)
		return -1;
	for (int i = 0; i < cfg->nwebhooks; i++) {
		const struct config_webhook *w = &cfg->webhooks[i];
		if (put_str(b, w->name, d) || put_str(b, w->url, d) || put_str(b, w->secret, d) ||
		    put_int(b, w->events != NULL, d) || put_list(b, w->events, w->nevents, d) ||
		    put_int(b, w->attempts, d) || put_int(b, w->backoff_s, d))
			return -1;
	}
	return 0;
}

struct reader {
	const char *p, *end;
	int bad;
};

static int
get_int(struct reader *r)
{
	int32_t x = 0;
	if ((size_t)(r->end - r->p) < sizeof(x)) {
		r->bad = 1;
		return 0;
	}
	memcpy(&x, r->p, sizeof(x));
	r->p += sizeof(x);
	return x;
}

static char *
get_str(struct reader *r)
{
	uint32_t n;
	if (r->bad || (size_t)(r->end - r->p) < sizeof(n)) {
		r->bad = 1;
		return NULL;
	}
	memcpy(&n, r->p, sizeof(n));
	r->p += sizeof(n);
	if (n == NO_STRING)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	char *s = strndup(r->p, n);
	r->p += n;
	if (s == NULL)
		r->bad = 1;
	return s;
}

static char **
get_strs(struct reader *r, int *n)
{
	*n = 0;
	int count = get_int(r);
	if (r->bad || count < 0 || count > 10000) {
		r->bad = 1;
		return NULL;
	}
	char **v = calloc((size_t)count + 1, sizeof(char *));
	if (v == NULL) {
		r->bad = 1;
		return NULL;
	}
	for (int i = 0; i < count && !r->bad; i++) {
		v[i] = get_str(r);
		*n += v[i] != NULL;
		r->bad |= v[i] == NULL;
	}
	return v;
}

/* Fills cfg from the worker's bytes; -1 (cfg emptied) on a malformed encoding. */
int
config__decode(const char *data, size_t len, struct config *cfg, struct diag *d)
{
	struct reader r = {data, data + len, 0};
	cfg->organization = get_str(&r);
	cfg->timezone = get_str(&r);
	cfg->notify = get_str(&r);
	cfg->mail_from = get_str(&r);
	cfg->public_url = get_str(&r);
	cfg->has_workspace = get_int(&r);
	int n = get_int(&r);
	if (!r.bad && n >= 0 && n <= 100000 &&
	    (cfg->programs = calloc((size_t)n + 1, sizeof(*cfg->programs))) != NULL) {
		for (int i = 0; i < n && !r.bad; i++) {
			struct config_program *p = &cfg->programs[cfg->nprograms++];
			p->name = get_str(&r);
			p->title = get_str(&r);
			p->description = get_str(&r);
			p->starts = get_str(&r);
			p->ends = get_str(&r);
			p->goals = get_strs(&r, &p->ngoals);
			p->topics = get_strs(&r, &p->ntopics);
			p->sessions_per_month = get_int(&r);
			p->minutes_per_session = get_int(&r);
			p->policy = get_str(&r);
			p->cadence = get_str(&r);
			p->manager = get_str(&r);
			p->line = get_int(&r);
			r.bad |= p->name == NULL;
			p->topic_questions = calloc((size_t)p->ntopics + 1, sizeof(*p->topic_questions));
			r.bad |= p->topic_questions == NULL;
			for (int t = 0; t < p->ntopics && !r.bad; t++)
				p->topic_questions[t].questions = get_strs(&r, &p->topic_questions[t].n);
		}
	} else {
		r.bad = 1;
	}
	n = r.bad ? 0 : get_int(&r);
	if (!r.bad && n >= 0 && n <= 1000 &&
	    (cfg->webhooks = calloc((size_t)n + 1, sizeof(*cfg->webhooks))) != NULL) {
		for (int i = 0; i < n && !r.bad; i++) {
			struct config_webhook *w = &cfg->webhooks[cfg->nwebhooks++];
			w->name = get_str(&r);
			w->url = get_str(&r);
			w->secret = get_str(&r);
			int has_events = get_int(&r);
			w->events = get_strs(&r, &w->nevents);
			if (!has_events) {
				free(w->events);
				w->events = NULL;
			}
			w->attempts = get_int(&r);
			w->backoff_s = get_int(&r);
			r.bad |= w->name == NULL || w->url == NULL || w->secret == NULL;
		}
	} else {
		r.bad = 1;
	}
	if (r.bad || r.p != r.end) {
		config_fini(cfg);
		return diag_set(d, DIAG_INTERNAL, "the config worker sent a malformed result");
	}
	return 0;
}

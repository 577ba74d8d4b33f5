/*
 * dispatch_internal: what the files of reward dispatch share: the run's state (dispatch.c)
 * and a batch as read (dispatch_read.c), the reply the rule's worker packs (dispatch_worker.c) and the host
 * applies (dispatch_apply.c), and the rule's cursor (dispatch_apply.c).
 */
#ifndef TANDEM_REWARDS_DISPATCH_INTERNAL_H
#define TANDEM_REWARDS_DISPATCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <lua.h>

#include "base/buf.h"
#include "base/diag.h"
#include "lua/plugin.h"
#include "program/config.h"
#include "rewards/dispatch.h"
#include "rewards/ledger.h"
#include "store/stmt.h"
#include "store/store.h"

/* A batch as read: event ids in order. */
struct batch {
	int64_t *ids, *programs; /* event ids and their program ids (0: none) */
	size_t n;
};

/* The requests built in a run, for its next rules (dispatch_cache.c). */
struct req_entry;
struct req_cache {
	struct req_entry *v;
	size_t n, cap, bytes;
	long hits;
};
enum { DISPATCH_REQ_CACHE_BYTES = 64 << 20 };

/*
 * 1 and the batch and its request (b, req, *sent_after: the worker's tables after it) when
 * a rule of this run built the request of batch `pos` from `from` of `kinds` with the
 * worker's cache in the same state (sent_before tables) in chain *chain (0: any, set to
 * the one found); 0 when not kept; -1 out of memory.
 */
int dispatch__cache_get(struct req_cache *c, int64_t *chain, int64_t pos, int64_t from,
			const char *kinds, int max, int64_t sent_before, struct batch *b,
			struct buf *req, int64_t *sent_after, struct diag *d);
/* Keeps request `pos` of chain (a rule run that built all its requests so far): nothing
 * when it does not fit or memory is short. */
void dispatch__cache_put(struct req_cache *c, int64_t chain, int64_t pos, int64_t from,
			 const char *kinds, int max, int64_t sent_before, const struct batch *b,
			 const struct buf *req, int64_t sent_after);
void dispatch__cache_fini(struct req_cache *c);

/* What reading a rule's batches and moving its cursor need of the rule's run. */
struct rule_ctx {
	const char *kinds;   /* the rule's kinds (JSON array text) */
	struct stmt ev;      /* its events after ?1 up to ?2, at most ?3 (dispatch__events_sql) */
	int64_t sent_tables; /* tables in the rule's worker's match cache */
	int64_t seq;         /* the run's rule runs so far: this one's chain number */
	int64_t chain, pos;  /* the chain it follows (0: none yet) and its next batch's index */
	int cache_off;       /* the rule built a request after a kept one */
};

/* apply_bulk's arrays (dispatch_apply.c), kept for the run: the host applies one batch at
 * a time, and a batch's arrays allocated anew each time cost a page fault per page. */
struct bulk_grant;
struct apply_scratch {
	struct bulk_grant *v;
	struct ledger_grant *g;
	size_t cap;
	struct buf strs;
};
void dispatch__scratch_fini(struct apply_scratch *s);

/* One dispatch run (all its rules). */
struct run {
	struct store *st;
	const struct dispatch_opts *o;
	time_t now;
	char now_iso[STORE_TIME_MAX];
	lua_State *L;  /* scratch: arguments; registry["matches"] caches match tables,
			* registry["sents"][seq] the matches each rule's worker was sent */
	struct stmt match, sessions, ratings, cursor_get;
	int64_t hi;    /* the last event id when the run started */
	struct req_cache cache; /* requests built for one rule, sent again to the next */
	int64_t rules_run;      /* rule runs so far */
	struct rule_ctx *cx;    /* the rule being stepped */
	struct apply_scratch scratch;
};

/*
 * Reads the batch after `from` (at most `max` events of the rule's kinds up to r->hi) into
 * b and marshals its request {events, mref, matches, ctxs, fresh} into req
 * (dispatch_read.c), for the rule r->cx. b->n 0: nothing more.
 */
int dispatch__read_batch(struct run *r, int64_t from, int max, struct batch *b, struct buf *req,
			 struct diag *d);

/* A rule's worker keeps the matches it was sent for the rule's run (each once); past
 * this many tables (a match, its two lists and their entries) the cache starts over. */
enum { DISPATCH_CACHE_TABLES = 200000 };


/* The SELECT of a rule's events (kinds: a JSON array of strings; NULL if malformed or
 * out of memory; free it). */
char *dispatch__events_sql(const char *kinds);

/* The rule's cursor: -1 when it has no row yet (a new rule, which starts at 0). */
int dispatch__cursor_of(struct run *r, const char *rule, int64_t *cursor, struct diag *d);
/* Writes the rule's cursor row (stopped: the event it stopped at, 0 none). */
int dispatch__cursor_set(struct run *r, const char *rule, int64_t cursor, int64_t stopped,
			 const char *error, struct diag *d);

/* The cursor to read from: a new rule's (-1) is 0. */
static inline int64_t
dispatch__from(int64_t cursor)
{
	return cursor < 0 ? 0 : cursor;
}

/*
 * Applies the worker's reply `out` for batch b in one transaction level with the cursor
 * (expect: the cursor the batch was read from; full: the batch was as long as asked).
 * *stop set when the rule must stop (rule->error says why). 0, 1 when the cursor moved
 * under us (nothing applied), -1 on a store failure.
 */
int dispatch__apply(struct run *r, struct ledger_writer *w, struct dispatch_rule *rule,
		    int64_t expect, const struct batch *b, int full, const struct buf *out,
		    int *stop, struct diag *d);

/* Per event: struct ev_head, then n entries (struct packed + badge + reason + key), or for
 * a failure (status 1) the message's bytes. */
struct ev_head {
	int32_t status; /* 0 handled, 1 failed (the batch ends here) */
	uint32_t n;     /* entries, or the message's length */
};

struct packed {
	int32_t revoke;
	uint16_t badge_len, reason_len, key_len, pad;
	int64_t person_id, points;
};

/* The worker's operation (plugin_exec): on[KIND](ev, ctx) for each event of the marshalled
 * {events, ctxs} in `in`, each result checked by lua/reward_out and packed into out; the
 * first failure packs its message and ends the batch. */
int dispatch__op(struct plugin *live, const char *hook, const char *in, size_t n,
		 struct buf *out, struct diag *d);

/*
 * A batch in the rule's worker (dispatch_lane.c). An isolated rule's request (req, the
 * marshalled batch) is sent without waiting, so the worker computes batch k+1 while the
 * host writes batch k's grants; lane_wait collects the reply under the batch deadline
 * (-1 with the worker's failure in hd, as plugin_exec words it). lane_drop waits for a
 * reply nobody wants any more (the rule stopped before that batch).
 */
struct lane {
	struct plugin *p;
	struct batch b;
	struct buf req, wire;
	int sent;           /* 1: a request is in the worker */
	int64_t until;      /* its deadline (monotonic ms, with a grace as worker_call's) */
	char error[DIAG_MSG_MAX]; /* a failure to send, told at lane_wait */
	int early_rc;       /* 1: the reply came while the request was written (in early);
			     * -1: the worker failed then (early_st, early_d); 0: neither */
	struct buf early;
	enum worker_status early_st;
	struct diag early_d;
};
int dispatch__lane_init(struct lane *l, struct plugin *p, int batch, struct diag *d);
void dispatch__lane_send(struct lane *l);
int dispatch__lane_wait(struct lane *l, struct buf *out, struct diag *hd);
void dispatch__lane_drop(struct lane *l);
void dispatch__lane_fini(struct lane *l); /* drops a batch in flight */

#endif

/*
 * dispatch_internal: what the two sides of reward dispatch share: the reply the rule's
 * worker packs (dispatch_worker.c) and the host reads (dispatch.c, apply_batch).
 */
#ifndef TANDEM_REWARDS_DISPATCH_INTERNAL_H
#define TANDEM_REWARDS_DISPATCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/diag.h"
#include "lua/plugin.h"

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

#endif

/*
 * score_internal: what the two halves of the score module share: the messages
 * between the host (score.c: batches out, numbers back) and the policy's worker
 * (score_worker.c: the hooks run there), and the watchdog's report. Not for
 * other modules: they use score.h.
 */
#ifndef TANDEM_SCORE_INTERNAL_H
#define TANDEM_SCORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/diag.h"

struct plugin;

/*
 * Lua scoring runs in the policy plugin's long-lived worker (lua/plugin's
 * plugin_exec), never in the host. The host sends batches of pairs; the worker
 * calls the hook for each and sends the results back. Per cohort, the person
 * tables cross once (marshalled data, kept in the worker's registry under the
 * cohort's id); a batch that names a cohort the worker does not hold (a fresh
 * or restarted worker) is answered "send the cohort first".
 *
 * Only the features the hook reads are computed and sent: a batch carries the
 * features of `mask` for each pair; when the hook reads another one, the worker
 * stops that call (a raising count hook, so pcall cannot swallow it) and answers
 * SCORE_NEED with the results so far; the host adds the feature to the mask and
 * sends the rest again, that call included (hooks are pure: calling one twice
 * gives the same value).
 *
 * Request (op_score):  struct score_req, then npairs x (i32 mentor, i32 mentee),
 *                      then for pair hooks npairs x popcount(mask) doubles.
 * Request (op_cohort): u64 cohort id, then the marshalled {mentors, mentees}.
 * Reply (op_score):    u64 status, u64 need (features wanted, SCORE_NEED), u64
 *                      done (calls completed), then done doubles.
 * Operation inputs start 8-byte aligned (lua/plugin pads the request), so the
 * pairs and doubles are read in place.
 */
struct score_req {
	uint64_t cohort;
	int32_t hook;	     /* enum score_hook */
	int32_t per_call_ms; /* the plugin's per-call deadline, for the watchdog */
	uint32_t npairs;
	uint32_t mask; /* the features sent with each pair (bit f; FEAT_COUNT: builtin) */
};

/* Reply statuses of op_score. */
enum { SCORE_DONE, SCORE_NO_COHORT, SCORE_NEED };

/* What the worker's watchdog writes in its notes page when a call overstays; the host
 * reads it after the kill (score.c, stuck_message). */
struct watch_report {
	int stuck; /* 1: hooked, 2: killed */
	int hook;
	int mentor, mentee;
};

/* The two operations the host runs in the policy's worker (plugin_exec). */
int score__op_cohort(struct plugin *live, const char *hook, const char *in, size_t n,
		     struct buf *out, struct diag *d);
int score__op_score(struct plugin *live, const char *hook, const char *in, size_t n,
		    struct buf *out, struct diag *d);

#endif

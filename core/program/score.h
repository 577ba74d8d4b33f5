/*
 * score: the Lua stage of the match pipeline. Runs a policy's hooks (score,
 * capacity, prefer_mentor, prefer_mentee) over a batch of pairs or mentors of a
 * cohort, in the policy's worker, and gives back one number per call.
 *
 * Takes: a loaded policy (policy.h), a finished cohort (cohort.h) and a batch:
 * every allowed cell of a dense mask, or an explicit list of pairs, or (for
 * capacity) every mentor. Gives: the hooks' values in the batch's output
 * arrays. Called by: solve.c (capacities, dense and candidate scores, kept
 * pairs) and match_run.c (the Lua score of a pair being explained, score_pairs).
 * Calls: the plugin host (lua/plugin.h: the policy's long-lived worker) and
 * feat.h (the features a hook reads).
 *
 * Contract:
 *  - The hooks run in the policy plugin's long-lived worker, never in this
 *    process: batches of pairs go out, numbers come back as data. The person
 *    tables cross once per cohort; only the features a hook reads are computed
 *    and sent.
 *  - A dense batch's outputs are compact: one double per allowed cell
 *    (mask[i] == 0), in row-major order. Outputs are plain memory; score_out_new
 *    gives memory that a fork of this process (a worker starting or restarting
 *    during the run) does not write-protect, which suits the large arrays the
 *    solver fills around a batch.
 *  - A hook's value must be a finite number (capacity: an integer in
 *    0..1000000); anything else fails the batch with "FILE:LINE: HOOK must
 *    return ..." and DIAG_PLUGIN, as does an error, an exhausted budget, the
 *    batch deadline or a killed worker ("FILE:LINE: message (in hook NAME)").
 *  - The hooks receive mentor/mentee tables built once per person per cohort
 *    and a `features` object that is the SAME for every pair: a read-only view
 *    (an empty table whose __index reads the current pair's values; a key read
 *    once is written into the table before each later call). Hooks must not
 *    keep references to it, nor modify the person tables. Each call has the
 *    plugin's per-call deadline, enforced by a watchdog inside the worker.
 */
#ifndef TANDEM_SCORE_H
#define TANDEM_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "program/cohort.h"
#include "program/policy.h"

enum score_hook {
	SCORE_SCORE,
	SCORE_CAPACITY,
	SCORE_PREFER_MENTOR,
	SCORE_PREFER_MENTEE,
	SCORE_NHOOKS
};

/* The name of a hook ("score", ...), "?" when out of range. */
const char *score_hook_name(int hook);

/*
 * One batch. Pairs are either every allowed cell of a dense nr x nc mask
 * (mask != NULL, rows = mentees, columns = mentors; npairs = the number of
 * allowed cells, counted by the caller) or an explicit list (rows[k] = mentee,
 * cols[k] = mentor, k < npairs). out[h] == NULL: hook h is not run; capacity
 * writes nmentors values, the pair hooks npairs values.
 */
struct score_batch {
	const uint8_t *mask;
	int nr, nc;
	const int *rows, *cols;
	int64_t npairs;
	double *out[SCORE_NHOOKS];
};

/* n doubles the worker can write into; NULL + diag when out of memory. */
double *score_out_new(size_t n, struct diag *d);
void score_out_delete(double *out, size_t n);

/* Runs the wanted hooks of the batch (in hook order) in one worker call. */
int score_run(struct policy *pol, const struct cohort *c, const struct score_batch *b,
	      struct diag *d);

/*
 * Lua scores of explicit pairs (one worker call), e.g. to explain a pair that
 * was not chosen. out[k] (plain memory) gets the hook's value for
 * (mentors[k], mentees[k]), 0 when the policy has no score hook.
 */
int score_pairs(struct policy *pol, const struct cohort *c, const int *mentors, const int *mentees,
		int n, double *out, struct diag *d);

#endif

/*
 * solve: the solving stage of the match pipeline. Builds the matching problem
 * of a finished cohort under a policy and solves it (match.h).
 *
 * Takes: a loaded policy (policy.h) and a finished cohort (cohort.h). Gives: a
 * struct solve_result (the pairs, the unmatched mentees, scores and timings).
 * Called by: match_run.c, tandem_match.c, the unit tests and the benchmark
 * driver. Calls: feat.h (constraints and the built-in score), score.h (the Lua
 * hooks), match.h (the solvers). The result is read by explain.c and stored by
 * matches.c.
 *
 * Steps of solve_cohort():
 *  1. capacities: the enrollment's, or the `capacity(mentor)` hook's; kept
 *     pairs (pinned or approved matches) are always allowed and consume
 *     capacity (they may exceed it: decisions already taken);
 *  2. constraints prune pairs (forbid/require, ranges, vetoes, never oneself);
 *  3. built-in score = sum of weight * feature, per pair, in C;
 *  4. if the policy has `score`, ONE worker call runs the hook over every
 *     allowed pair (dense) or over the top-K candidates per mentee by built-in
 *     score (sparse); total = built-in + Lua;
 *  5. solve: dense match_assign (maximize) when nr * nc <= SOLVE_DENSE_MAX and
 *     `candidates` is not set, else match_assign_sparse over the candidates;
 *     method "stable": preference lists from prefer_mentee / prefer_mentor (or
 *     the total score) and match_stable, mentees proposing;
 *  6. collect: kept pairs, then the solver's pairs, with their built-in and Lua
 *     parts (the kept pairs' scores computed on their own).
 * A plugin failure (error, budget, killed worker) fails the whole solve with
 * the plugin's "FILE:LINE: message (in hook NAME)" and DIAG_PLUGIN.
 */
#ifndef TANDEM_SOLVE_H
#define TANDEM_SOLVE_H

#include <stdint.h>

#include "base/diag.h"
#include "program/cohort.h"
#include "program/policy.h"

/* Above this many pairs (nr * nc) the optimal method uses candidate lists. */
#define SOLVE_DENSE_MAX ((int64_t)16 << 20)
/* Candidates per mentee when the cohort is too large and the policy sets none. */
enum { SOLVE_DEFAULT_CANDIDATES = 50 };

struct solve_pair {
	int mentor, mentee;  /* side indexes */
	double builtin, lua; /* lua = 0 when the policy has no score hook */
	double score;	     /* builtin + lua */
	int kept;	     /* 1 if it came from a kept pair */
};

struct solve_result {
	struct solve_pair *pairs; /* sorted by mentee */
	int npairs;
	int *unmatched; /* mentee indexes */
	int nunmatched;
	double total;
	int sparse;	 /* 1 if candidate lists were used */
	int candidates;	 /* K when sparse */
	int64_t allowed; /* pairs that passed the constraints */
	int64_t lua_calls;
	double secs_features, secs_lua, secs_solve;
	/* The range of total scores over the pairs the solver weighed (every allowed pair,
	 * or the candidate lists when sparse); both 0 when there were none. match compare
	 * rescales each policy's pair scores to 0..1 with it. */
	double score_min, score_max;
};

void solve_result_fini(struct solve_result *r);

/* Solves the cohort under the policy; res is zeroed first and empty on failure. */
int solve_cohort(struct policy *pol, struct cohort *c, struct solve_result *res, struct diag *d);

/*
 * Progress of a long solve, for a front end that shows it (the CLI on a terminal):
 * fn(ud, phase, done, total) at the start of each phase (done 0), every ~1% of the
 * rows of the features phase, and at its end (done == total). Phases: "constraints
 * and built-in scores (mentees)", "Lua scores (pairs)", "solving (mentees)". fn
 * only reports: it must not call back into the pipeline.
 */
struct solve_progress {
	void (*fn)(void *ud, const char *phase, long done, long total);
	void *ud;
};

/* solve_cohort with progress reports (pr NULL or pr->fn NULL: none). */
int solve_cohort_progress(struct policy *pol, struct cohort *c, struct solve_result *res,
			  const struct solve_progress *pr, struct diag *d);

#endif

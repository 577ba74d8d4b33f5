/*
 * explain: the explanation stage of the match pipeline. Says why a pair scores
 * what it scores under a policy: each feature's value, raw value, weight and
 * contribution, each constraint (holds, and the policy's rule about it), the
 * verdict, and the built-in, Lua and total scores.
 *
 * Also the documents built from a solve: a run (its pairs, optionally each
 * explained) and a policy's summary for `match compare`.
 *
 * Takes: a loaded policy, a finished cohort, and a pair (side indexes) with its
 * Lua score (from the solve result, or score_pairs for a pair that was not
 * chosen), or a solve result. Gives: JSON objects (jansson), owned by the
 * caller, NULL when out of memory; the CLI prints them, matches.c stores each
 * proposal's explanation.
 * Called by: match_run.c, matches.c, tandem_match.c. Calls: feat.h only (pure:
 * no store, no Lua). Keys keep the order written here (callers print them with
 * JSON_PRESERVE_ORDER).
 */
#ifndef TANDEM_EXPLAIN_H
#define TANDEM_EXPLAIN_H

#include <jansson.h>

#include "program/cohort.h"
#include "program/policy.h"
#include "program/solve.h"

/*
 * The explanation of one pair as a JSON object: policy, policy_version,
 * allowed, verdict, features {name: {value, raw, weight, contribution}},
 * constraints {name: {holds, rule}}, builtin, lua, score. NULL when out of
 * memory.
 */
json_t *explain_pair(const struct policy *pol, const struct cohort *c, int mentor, int mentee,
		     double lua);

/*
 * A run as JSON: program, policy, policy_version, mentors, mentees, pairs
 * [{mentor {id, name}, mentee {id, name}, score, builtin, lua, kept
 * (, explanation when explain)}], unmatched [mentee ids], total,
 * candidate_lists, allowed_pairs, lua_calls, seconds {features, lua, solve}.
 */
json_t *explain_run(const struct policy *pol, const struct cohort *c,
		    const struct solve_result *res, int explain);

/*
 * A policy's outcome for a comparison: policy, policy_version, matched,
 * unmatched, total, mean (on the policy's own scale), score_range {min, max}
 * (the solve's range of pair scores), normalized_total and normalized_mean (each
 * pair's score rescaled to 0..1 over score_range, clamped; 1 when the range is a
 * single value: a scale common to every policy), feature_means {feature: mean
 * over the pairs}, and the
 * mean score per group of mentees with its spread (max - min) by_department,
 * by_location, by_generation: {groups {name: {pairs, mean_score}}, spread}.
 */
json_t *explain_summary(const struct policy *pol, const struct cohort *c,
			const struct solve_result *res);

/* Pairs that two results of the SAME cohort share (side indexes agree); -1 when out
 * of memory. */
int explain_common_pairs(const struct solve_result *a, const struct solve_result *b, int nmentees);

#endif

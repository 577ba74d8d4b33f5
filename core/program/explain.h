/*
 * explain: the explanation stage of the match pipeline. Says why a pair scores
 * what it scores under a policy: each feature's value, raw value, weight and
 * contribution, each constraint (holds, and the policy's rule about it), the
 * verdict, and the built-in, Lua and total scores.
 *
 * Takes: a loaded policy, a finished cohort and a pair (side indexes), plus the
 * pair's Lua score (from the solve result, or score_pairs for a pair that was
 * not chosen). Gives: JSON objects (jansson), owned by the caller; the CLI
 * prints them, matches.c stores them with each proposal.
 * Called by: match_run.c, matches.c, tandem_match.c. Calls: feat.h only (pure:
 * no store, no Lua).
 */
#ifndef TANDEM_EXPLAIN_H
#define TANDEM_EXPLAIN_H

#include <jansson.h>

#include "program/cohort.h"
#include "program/policy.h"

/*
 * The explanation of one pair as a JSON object: policy, policy_version,
 * allowed, verdict, features {name: {value, raw, weight, contribution}},
 * constraints {name: {holds, rule}}, builtin, lua, score. NULL when out of
 * memory.
 */
json_t *explain_pair(const struct policy *pol, const struct cohort *c, int mentor, int mentee,
		     double lua);

#endif

/*
 * unmatched: why each person of a run is left without a partner. For every
 * unmatched mentee one reason, and for every mentor with unused capacity one:
 *   no_consent          enrolled (active person) without consent: the run never
 *                       saw them (listed from the store, not the cohort);
 *   no_allowed_partner  every partner on the other side was removed by a
 *                       constraint: which verdicts removed how many candidates;
 *   lost_to_better_use  (mentees) an allowed mentor exists: the best of them by
 *                       built-in score and the mentees who took that mentor's
 *                       capacity; (mentors) allowed mentees exist but all were
 *                       matched to other mentors.
 *   partner_erased      (either side, in place of the reason above) their last match in
 *                       the program ended because their partner was erased (`people
 *                       erase`, reason PEOPLE_ERASE_REASON) and they have no current one:
 *                       the entry has "match" (its id) and none of the details above.
 *
 * Takes: an open store (NULL: the people without consent are not listed), a
 * finished cohort, the policy and the solve result of a
 * run (match_run.c). Gives: a JSON document the caller owns:
 *   {mentees {no_consent, no_allowed_partner, lost_to_better_use, partner_erased?, total},
 *    mentors {no_consent, no_allowed_partner, lost_to_better_use, total},
 *    people [{side, id, name, reason, removed {verdict: n}, best {id, name,
 *             score}, taken_by [ids]}]}
 * where the totals are the sums of the reasons (the unmatched mentees of the run
 * plus those without consent; the mentors with unused capacity plus those
 * without consent). NULL + diag on failure. Nothing printed.
 * Called by: match_run.c (also for a refused run's message). Calls: feat.h (verdicts, built-in scores), the store.
 */
#ifndef TANDEM_UNMATCHED_H
#define TANDEM_UNMATCHED_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/cohort.h"
#include "program/policy.h"
#include "program/solve.h"

struct store;

json_t *unmatched_reasons(struct store *st, const struct policy *pol, const struct cohort *c,
			  const struct solve_result *res, struct diag *d);

/*
 * The constraints that removed every candidate of the mentees a reasons document
 * (unmatched_reasons) lists as no_allowed_partner: {verdict: candidates removed},
 * summed over those mentees, and in *nmentees how many they are. What a refused
 * run names (match_run.c). NULL when out of memory.
 */
json_t *unmatched_removed(json_t *reasons, int *nmentees);

#endif

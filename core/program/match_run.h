/*
 * match_run: the driver of the match pipeline, the top of it. One call per
 * command of `tandem match`: it resolves the policy, loads the cohort, solves,
 * stores, and assembles what is shown (runs, explanations, comparisons), so that
 * a front end (cli/cmd_match.c, later the service) only parses and prints.
 *
 * The pipeline, top to bottom; each stage is a module that the one above calls,
 * and no call goes back up:
 *   match_run -> policy   (the policy plugin's declaration)
 *             -> cohort   (load the cohort; feat.h builds its snapshot)
 *             -> solve    (prune by constraints and score built-in features in
 *                          feat.h, Lua scores through score.h, match.h solves)
 *             -> explain  (explanations, run and comparison documents)
 *             -> unmatched (a reason for each person left unmatched)
 *             -> matches  (store the proposals, read matches back).
 *
 * Takes: an open store, the workspace folder (for policies/), the program as
 * declared in tandem.lua (config.h) and its row id. Gives: structs and JSON
 * documents the caller owns. Errors: -1 or NULL with a diag, nothing printed.
 * Called by: cli/cmd_match.c and the embedding API (tandem_match.c).
 */
#ifndef TANDEM_MATCH_RUN_H
#define TANDEM_MATCH_RUN_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/cohort.h"
#include "program/config.h"
#include "program/matches.h"
#include "program/policy.h"
#include "program/solve.h"

struct store;

/* Where a run happens: every command names the same four things. */
struct match_run_ctx {
	struct store *st;
	const char *ws; /* workspace folder (policies/ is looked up there); NULL = none */
	const struct config_program *prog;
	int64_t program_id;
	/* Progress of long runs (NULL: none): the solve's phases (solve.h) plus "cohort
	 * (mentees)" and "cohort (mentors)" once loaded. */
	const struct solve_progress *progress;
	/* 1: a rematch (`match run --rematch`): the cohort is cohort_load_rematch's (new
	 * partners only for the people ended matches freed; every other pair and proposal
	 * kept) and storing supersedes only the freed people's proposals. */
	int rematch;
};

/*
 * The policy REF (a name or a path), or when REF is NULL the program's `policy`
 * in tandem.lua; a name from tandem.lua that is not found is reported at its
 * line. NULL + diag on failure.
 */
struct policy *match_run_policy(const struct match_run_ctx *x, const char *ref, struct diag *d);

enum { MATCH_RUN_ID_MAX = 64 };

/* "run-20270111T090000Z-1a2b": the store's time, compacted, and a few varying bits. */
int match_run_id(struct store *st, char id[MATCH_RUN_ID_MAX], struct diag *d);

/* One run: the policy, the cohort and the solver's result, owned together (the policy
 * only when the run resolved it: see match_run_solve_with). */
struct match_run {
	struct policy *pol;
	int pol_borrowed; /* 1: pol belongs to the caller of match_run_solve_with */
	struct cohort cohort;
	struct solve_result res;
	char run_id[MATCH_RUN_ID_MAX]; /* set by match_run_store */
	int nstored;		       /* proposals written by match_run_store */
	struct matches_store store;    /* what match_run_store found (matches.h) */
	json_t *refusal;	       /* a refused store's document, else NULL */
};

/* Resolves the policy, loads the cohort and solves it. run is initialized here;
 * release it with match_run_fini, also when this fails. */
int match_run_solve(const struct match_run_ctx *x, const char *ref, struct match_run *run,
		    struct diag *d);

/* The same with a policy the caller has loaded and keeps (an embedder's handle): the
 * run borrows it, and match_run_fini leaves it alone. */
int match_run_solve_with(const struct match_run_ctx *x, struct policy *pol, struct match_run *run,
			 struct diag *d);

/*
 * Stores the run's proposals under a new run id (matches_store_run). Without
 * replace, a run whose policy allows no pair or that proposes fewer than half of
 * the program's unreviewed proposals is refused (matches.h): -1, DIAG_CONFLICT,
 * nothing written, a message that names the constraints that removed the pairs
 * (unmatched_removed) and says to run again with --replace; run->refusal then holds
 * the same facts as JSON: {refused: true, reason ("no_allowed_pair" |
 * "fewer_than_half"), program, policy, policy_version, current_proposals, proposed,
 * allowed_pairs, mentees_without_allowed_partner, removed {verdict: n}, message}.
 */
int match_run_store(const struct match_run_ctx *x, struct match_run *run, const char *actor,
		    int replace, struct diag *d);

/* explain_run()'s document plus run_id (null when dry) and dry_run. */
json_t *match_run_json(const struct match_run *run, int explain, int dry_run);

void match_run_fini(struct match_run *run);

/* Why each person the run leaves unmatched is (unmatched.h's document: the mentees
 * and mentors without consent, without an allowed partner, or lost to a better use
 * of capacity). NULL + diag on failure. */
json_t *match_run_unmatched(const struct match_run_ctx *x, const struct match_run *run,
			    struct diag *d);

/*
 * Why a pair (people ids; mentor_key and mentee_key are how the caller named
 * them, for messages) scores what it scores under a policy, and how it stands
 * against the program's current matches. json: the pair's explanation
 * (explain_pair; lua and score null when the pair is not allowed and the
 * policy has a score hook: the hook never ran on it) plus chosen,
 * mentee_matches and mentor_matches (matches_partners_json of each). The pair's own
 * approved or active match is not history to it: previously_paired is judged
 * without that row (cohort_load_except).
 */
struct match_run_report {
	json_t *json;
	char *mentor_name, *mentee_name; /* "" when unknown */
	int mentor_capacity;
};

int match_run_explain(const struct match_run_ctx *x, const char *ref, int64_t mentor_id,
		      int64_t mentee_id, const char *mentor_key, const char *mentee_key,
		      struct match_run_report *out, struct diag *d);
void match_run_report_fini(struct match_run_report *r);

/*
 * Dry-runs N >= 2 policies (REFS[0..n)) on the program's cohort: {program,
 * policies [summary of each] (explain_summary, with its normalized scores),
 * pairs_in_common (the pairs every policy chose), pairs_in_common_by_pair
 * [{policies [A, B], pairs}] for each two of them}.
 */
enum { MATCH_RUN_COMPARE_MAX = 16 };
json_t *match_run_compare(const struct match_run_ctx *x, const char *const *refs, int n,
			  struct diag *d);

#endif

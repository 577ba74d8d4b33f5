/*
 * policy: matching policies. Loads and validates a policy plugin (a Lua file
 * returning tandem.policy{...}), builds the matching problem of a cohort from
 * the built-in features (feat.h) and the policy's optional Lua hooks, solves it
 * (match.h), and explains pairs. No SQLite here: the cohort is filled by the
 * caller (matches.c loads it from the store; tests build it by hand).
 *
 * Callers: matches.c (`tandem match run|explain|compare`), the unit tests, the
 * benchmark driver.
 *
 * Pipeline of policy_solve():
 *  1. capacities: the enrollment's, or the `capacity(mentor)` hook's;
 *  2. constraints prune pairs (forbid/require, vetoes, never oneself); kept
 *     pairs (pinned or approved matches) are always allowed and consume capacity;
 *  3. built-in score = sum of weight * feature, per pair, in C;
 *  4. if the policy has `score`, ONE worker call (forked, killed at the batch
 *     deadline) runs the hook over every allowed pair (dense) or over the top-K
 *     candidates per mentee by built-in score (sparse); results travel back in
 *     shared memory; total = built-in + Lua;
 *  5. solve: dense match_assign (maximize) when nr * nc <= POLICY_DENSE_MAX and
 *     `candidates` is not set, else match_assign_sparse over the candidates;
 *     method "stable": preference lists from prefer_mentee / prefer_mentor (or
 *     the total score) and match_stable, mentees proposing.
 * A plugin failure (error, budget, killed worker) fails the whole solve with
 * the plugin's "FILE:LINE: message (in hook NAME)" and DIAG_PLUGIN.
 *
 * The Lua hooks receive mentor/mentee tables built once per person per run and a
 * `features` object that is the SAME for every pair: a read-only view (an empty
 * table whose __index reads the current pair's values, computed on first use).
 * Hooks must not keep references to it, nor modify the person tables. Each call
 * has the plugin's per-call deadline, enforced by a watchdog in the worker.
 */
#ifndef TANDEM_POLICY_H
#define TANDEM_POLICY_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/feat.h"

struct plugin;

/* Above this many pairs (nr * nc) the optimal method uses candidate lists. */
#define POLICY_DENSE_MAX ((int64_t)16 << 20)
/* Candidates per mentee when the cohort is too large and the policy sets none. */
enum { POLICY_DEFAULT_CANDIDATES = 50 };

enum policy_method { POLICY_OPTIMAL, POLICY_STABLE };

/* A loaded policy: the plugin plus its declaration in C form. */
struct policy {
	struct plugin *plugin;
	char *name, *version, *description, *path;
	enum policy_method method;
	struct feat_rules rules;
	int candidates; /* 0 = not set */
	int has_score, has_capacity, has_prefer_mentor, has_prefer_mentee;
	/* Internal: the person tables of the last cohort scored, kept in the plugin's
	 * state (registry refs) so that workers inherit them instead of building them. */
	uint64_t tables_cohort;
	int mentors_ref, mentees_ref;
};

/*
 * Registers the "policy" validator with the plugin host. Idempotent; call
 * before loading any policy (policy_open does).
 */
int policy_register(struct diag *d);

/*
 * Loads a policy by name (workspace policies/, then the built-ins) or path.
 * ws may be NULL. Returns NULL with "FILE:LINE: ..." on failure.
 */
struct policy *policy_open(const char *ws, const char *ref, struct diag *d);
/* Same from an already loaded plugin (taken over on success). */
struct policy *policy_from_plugin(struct plugin *p, struct diag *d);
void policy_delete(struct policy *pol);

/* ---- the cohort ------------------------------------------------------------ */

/* JSON fields are the text stored in the database ("[...]", "{...}"); NULL = empty. */
struct policy_person {
	int64_t id;
	char *external_id, *name, *email, *title, *department, *team, *location, *timezone;
	char *generation;
	int level; /* 0 = unknown */
	int tz_known, tz_offset_min;
	int manager; /* index into people, -1 = none */
	char *languages, *skills, *topics_wanted, *attributes;
};

struct policy_member {
	int person; /* index into people */
	int64_t enrollment_id;
	char *role; /* "mentor", "mentee", "both" */
	int capacity;
	char *topics_offered, *topics_wanted, *availability, *attributes;
};

/* A pair kept from earlier decisions (pinned, approved or active match). */
struct policy_kept {
	int mentor, mentee; /* side indexes */
	int64_t match_id;
	int pinned;
};

struct policy_cohort {
	int64_t program_id;
	char *program;
	struct policy_person *people;
	int npeople, cappeople;
	struct policy_member *mentors, *mentees;
	int nmentors, capmentors, nmentees, capmentees;
	struct policy_kept *kept;
	int nkept, capkept;
	int (*history)[2]; /* person index pairs paired before */
	int nhistory, caphistory;
	int (*vetoes)[2]; /* (mentor person, mentee person) */
	int nvetoes, capvetoes;
	struct feat_snapshot *snap; /* built by policy_cohort_finish */
	uint64_t id;		    /* unique per finish, names the cohort in caches */
};

void policy_cohort_init(struct policy_cohort *c);
void policy_cohort_fini(struct policy_cohort *c);
/* Appends an element (zeroed) and returns it, or NULL when out of memory. The
 * strings put in it are owned (freed) by the cohort. */
struct policy_person *policy_cohort_add_person(struct policy_cohort *c);
struct policy_member *policy_cohort_add_member(struct policy_cohort *c, int mentor);
int policy_cohort_add_kept(struct policy_cohort *c, int mentor, int mentee, int64_t match_id,
			   int pinned);
int policy_cohort_add_history(struct policy_cohort *c, int person_a, int person_b);
int policy_cohort_add_veto(struct policy_cohort *c, int mentor_person, int mentee_person);
/* Parses the JSON lists and builds the feature snapshot. */
int policy_cohort_finish(struct policy_cohort *c, struct diag *d);

/* Side index of a person (by people index), or -1. */
int policy_cohort_mentor_of(const struct policy_cohort *c, int person);
int policy_cohort_mentee_of(const struct policy_cohort *c, int person);

/* ---- solving ----------------------------------------------------------------- */

struct policy_pair {
	int mentor, mentee;  /* side indexes */
	double builtin, lua; /* lua = 0 when the policy has no score hook */
	double score;	     /* builtin + lua */
	int kept;	     /* 1 if it came from a kept pair */
};

struct policy_result {
	struct policy_pair *pairs; /* sorted by mentee */
	int npairs;
	int *unmatched; /* mentee indexes */
	int nunmatched;
	double total;
	int sparse;	 /* 1 if candidate lists were used */
	int candidates;	 /* K when sparse */
	int64_t allowed; /* pairs that passed the constraints */
	int64_t lua_calls;
	double secs_features, secs_lua, secs_solve;
};

void policy_result_fini(struct policy_result *r);

int policy_solve(struct policy *pol, struct policy_cohort *c, struct policy_result *res,
		 struct diag *d);

/*
 * Lua scores of explicit pairs (one worker call), e.g. to explain a pair that
 * was not chosen. out[k] gets the hook's value (0 when the policy has none).
 */
int policy_lua_scores(struct policy *pol, struct policy_cohort *c, const int *mentors,
		      const int *mentees, int n, double *out, struct diag *d);

/*
 * The explanation of one pair as a JSON object: verdict, features (value, raw,
 * weight, contribution), builtin, lua, score, policy name and version.
 */
json_t *policy_explain(const struct policy *pol, const struct policy_cohort *c, int mentor,
		       int mentee, double lua);

#endif

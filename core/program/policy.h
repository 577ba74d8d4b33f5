/*
 * policy: matching policies, the declaration side. Loads a policy plugin (a
 * Lua file returning tandem.policy{...}) and validates its declaration into C
 * form: the method, the constraints (forbid, require), the feature weights,
 * the candidate count and which hooks it has.
 *
 * Takes: a workspace and a policy name or path, or an already loaded plugin.
 * Gives: a struct policy, which the later stages of the match pipeline read:
 * solve.c (method, rules, candidates), score.c (the hooks), explain.c (rules,
 * name and version), matches.c (name and version of a stored proposal).
 * Called by: match_run.c, tandem_match.c, cli/cmd_plugins.c (the validator),
 * the unit tests and the benchmark driver. Calls: the plugin host and feat.h
 * (feature and constraint names). No SQLite, no cohort here.
 *
 * The match pipeline, top to bottom (each stage a module, calls go down):
 *   match_run -> cohort (load the cohort, feat.h builds its snapshot)
 *             -> solve (prune by constraints and built-in features in feat.h,
 *                       Lua scores through score.h, the solvers of match.h)
 *             -> explain -> matches (store the proposals).
 * A plugin failure fails the run with "FILE:LINE: message (in hook NAME)" and
 * DIAG_PLUGIN; see score.h for what the hooks receive.
 */
#ifndef TANDEM_POLICY_H
#define TANDEM_POLICY_H

#include <stdint.h>

#include "base/diag.h"
#include "program/feat.h"

struct plugin;
struct plugin_host;

enum policy_method { POLICY_OPTIMAL, POLICY_STABLE };

/* A loaded policy: the plugin plus its declaration in C form. */
struct policy {
	struct plugin *plugin;
	char *name, *version, *description, *path;
	enum policy_method method;
	struct feat_rules rules;
	int candidates; /* 0 = not set */
	int has_score, has_capacity, has_prefer_mentor, has_prefer_mentee;
};

/*
 * Registers the "policy" kind's operations (fields, validator) in the caller's
 * plugin host (lua/plugin.h), e.g. for `tandem plugins`. policy_open uses a host
 * of its own. 0, or -1 with a diag.
 */
int policy_register(struct plugin_host *h, struct diag *d);

/*
 * Loads a policy by name (workspace policies/, then the built-ins) or path.
 * ws may be NULL. Returns NULL with "FILE:LINE: ..." on failure.
 */
struct policy *policy_open(const char *ws, const char *ref, struct diag *d);
/* Same from an already loaded plugin (taken over on success). */
struct policy *policy_from_plugin(struct plugin *p, struct diag *d);
void policy_delete(struct policy *pol);

#endif

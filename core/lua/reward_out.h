/*
 * lua/reward_out: reading what a reward rule's handler returned, and holding it to the
 * rules, so that `tandem plugins check` and event dispatch (rewards/dispatch) accept and
 * refuse exactly the same values.
 *
 * A handler `on["session.held"] = function(ev, ctx) ... end` returns nil (nothing) or a
 * list (a Lua sequence, at most REWARD_OUT_MAX entries) whose entries are either
 *   a grant       { person_id = ID, points = N, badge = "name", reason = "...",
 *                   key = "..." }
 *                 person_id: an integer > 0 (people's internal id, as events carry them);
 *                 points: an integer in [REWARD_POINTS_MIN, REWARD_POINTS_MAX], default 0;
 *                 badge: 1 to 64 of a-z, 0-9, '_', '-' (optional); at least one of a
 *                 non-zero points and a badge; reason: 1 to 500 characters (required);
 *                 key: 1 to 200 printable characters without spaces (optional: the grant's
 *                 own idempotency key; default: the event id and the entry's index), or
 *   a revocation  { revoke = "AWARD_KEY", reason = "..." }
 *                 the award key of a grant in the ledger (as `tandem rewards list` shows
 *                 it; a key this rule gave without its "PLUGIN:" prefix also works).
 * Any other field is an error (a typo must not pass silently).
 *
 * Errors name the entry and the field, the first problem only:
 *   "grant 2: field 'points' must be an integer between -100000 and 100000 (got 1.5)"
 * The caller adds the plugin's FILE:LINE and the hook.
 *
 * Who calls it: lua/plugin_decl (the reward kind's check_result), rewards/dispatch (in
 * the rule's worker, on the live result). Reads raw: no metamethod of a returned table runs.
 */
#ifndef TANDEM_LUA_REWARD_OUT_H
#define TANDEM_LUA_REWARD_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

enum {
	REWARD_OUT_MAX = 100,
	REWARD_POINTS_MIN = -100000,
	REWARD_POINTS_MAX = 100000,
	REWARD_BADGE_MAX = 64,
	REWARD_REASON_MAX = 500,
	REWARD_KEY_MAX = 200,
};

/* One entry, plain data (it crosses from the worker to the host as bytes). */
struct reward_out {
	int revoke;                        /* 1: a revocation of key */
	int64_t person_id;                 /* grant */
	int64_t points;                    /* grant */
	char badge[REWARD_BADGE_MAX + 1];  /* grant: "" none */
	char reason[REWARD_REASON_MAX + 1];
	char key[REWARD_KEY_MAX + 1];      /* grant: "" default; revocation: the award key */
};

/*
 * Reads the value at idx. On success *out (malloc'd; free() it; NULL when *n is 0)
 * holds *n entries in the list's order. -1 with a diag (DIAG_INVALID) otherwise.
 */
int reward_out_read(lua_State *L, int idx, struct reward_out **out, size_t *n, struct diag *d);

/* The reward kind's check_result (plugin.h): reward_out_read on on[...] handlers' results. */
int reward_out_check(lua_State *L, const char *hook, int idx, struct diag *d);

#endif

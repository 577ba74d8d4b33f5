/*
 * lua/job_out: reading what a job's `run` hook returned (its actions), and holding
 * it to the rules, so that `tandem plugins check` and a real run (sched/actions)
 * accept and refuse exactly the same values, by the same function.
 *
 * run(ctx) returns nil (nothing to do) or a list (a Lua sequence, at most
 * JOB_OUT_MAX) of actions, each a table with exactly one action key
 * (docs/plugin-api.md "Jobs"):
 *     {event = {kind = "custom.NAME", payload = {...}}}
 *         kind "custom." then a-z, 0-9, '_' or '.'; payload a table of strings,
 *         finite numbers, booleans and tables, at most JOB_OUT_MAX_PAYLOAD bytes as JSON;
 *     {message = {to = PERSON, subject = TEXT, body = TEXT, key = KEY}}
 *         to, body and key required; key 1 to 150 characters of A-Z a-z 0-9 . _ : -;
 *     {cancel_session = ID, reason = TEXT}, {end_match = ID, reason = TEXT}
 *         ID a positive integer, reason required.
 * What needs the database (is there such a person, session, match) is not judged
 * here: sched/actions refuses it when it applies the actions.
 *
 * Errors name the action and the field, one problem (the first):
 *   "action 2: field 'message.key' must be 1 to 150 characters of ... (got \"a b\")"
 * A value that cannot leave the plugin's worker at all (a function in a payload) is
 * refused by lua/marshal with a path such as "1.2.event.payload.f" (result 1, action
 * 2); job_out_marshal_error turns that into the same form:
 *   "action 2: field 'event.payload.f' is a function, which cannot be passed".
 *
 * Who calls it: sched/actions (a real run, on the marshalled results the worker sent
 * back), lua/plugin_decl (the job kind's check_result, for `plugins check`: the value is
 * marshalled the same way and read by the same job_out_read). The values are read in a
 * fresh data-only lua_State with raw reads: no metamethod of a returned table runs.
 */
#ifndef TANDEM_LUA_JOB_OUT_H
#define TANDEM_LUA_JOB_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

enum { JOB_OUT_MAX = 1000, JOB_OUT_MAX_PAYLOAD = 64 * 1024 };

enum job_action_type { JOB_ACT_EVENT, JOB_ACT_MESSAGE, JOB_ACT_CANCEL_SESSION, JOB_ACT_END_MATCH };

struct job_action {
	enum job_action_type type;
	char kind[128];			 /* event */
	char *payload;			 /* event: JSON text */
	int64_t id;			 /* cancel_session, end_match */
	char *reason;			 /* cancel_session, end_match */
	char *to, *subject, *body, *key; /* message */
};

/*
 * Reads the marshalled results of a run hook (lua/marshal: {n = count, r1}, r1 the
 * list) into *out (malloc'd, *count entries, job_out_free; NULL and 0 for nil). 0, or
 * -1 + diag: DIAG_INVALID "action N: field ..." (or about the list itself), DIAG_NOMEM.
 */
int job_out_read(const void *data, size_t n, struct job_action **out, size_t *count,
		 struct diag *d);
void job_out_free(struct job_action *v, size_t n);

/*
 * A diag from marshalling a run hook's results ("...: field '1.N.PATH' is a T, which
 * cannot be passed"): rewritten in place as "action N: field 'PATH' is a T, which
 * cannot be passed" (script, when not NULL, as "SCRIPT: " before it). Other diags are
 * left alone. Returns -1 (for `return job_out_marshal_error(...)`).
 */
int job_out_marshal_error(struct diag *d, const char *script);

/* The job kind's check_result (plugin.h): run's value at idx marshalled and read by
 * job_out_read, as a real run reads it. */
int job_out_check(lua_State *L, const char *hook, int idx, struct diag *d);

#endif

/*
 * lua/notify_out: reading what a notifier's `render` hook returned, and holding
 * it to the rules, so that `tandem plugins check` and a real send (sched/notify)
 * accept and refuse exactly the same values.
 *
 * `render(msg, ctx)` returns { subject = TEXT, body = TEXT }:
 *   subject  a string, one line (no CR, no LF, no NUL) of at most
 *            NOTIFY_OUT_SUBJECT bytes (required);
 *   body     a string without NUL of at most NOTIFY_OUT_BODY bytes (required).
 * Any other field is refused, naming the valid ones (a typo such as `sbuject`
 * must not pass silently).
 *
 * Errors, the first problem only, e.g.
 *   "render's subject must be one line of at most 900 bytes (it holds a line break)"
 *   "render returned an unknown field 'extra' (valid: subject, body)"
 * `plugins check` prefixes the plugin's FILE:LINE and appends "(in hook render)";
 * a send prefixes "notifier 'NAME'" and keeps the message on the outbox row.
 *
 * Who calls it: lua/plugin_decl (the notifier kind's check_result, for `plugins
 * check`, in the plugin's worker), sched/notify (in the host, on the result as
 * it came back from the worker). Reads raw: no metamethod of a returned table runs.
 */
#ifndef TANDEM_LUA_NOTIFY_OUT_H
#define TANDEM_LUA_NOTIFY_OUT_H

#include <stddef.h>

#include <lua.h>

#include "base/diag.h"

enum { NOTIFY_OUT_SUBJECT = 900, NOTIFY_OUT_BODY = 1024 * 1024 };

/* The strings of a checked result; they stay valid while the table is on the stack. */
struct notify_out {
	const char *subject, *body;
	size_t subject_len, body_len;
};

/* Reads the value at idx. 0, or -1 with a diag (DIAG_PLUGIN). */
int notify_out_read(lua_State *L, int idx, struct notify_out *out, struct diag *d);

/* The notifier kind's check_result (plugin.h): render's value read as above. */
int notify_out_check(lua_State *L, const char *hook, int idx, struct diag *d);

#endif

/*
 * lua/marshal: Lua values as plain data, across processes and between states.
 *
 * Plugins run in worker processes (sys/worker); what crosses the socket is
 * bytes. marshal_encode turns a Lua value into bytes, marshal_push turns bytes
 * back into a Lua value in another state. Only data crosses: nil, booleans,
 * integers, floats, strings and tables of those. A function becomes a marker
 * (MARSHAL_FUNCTIONS: the declaration's hooks, which stay in the worker);
 * userdata, threads and other functions are refused with an error naming
 * where the value sits ("field 'weights.x': a userdata cannot be passed").
 *
 * Reading never runs Lua code: tables are walked with lua_next and raw gets, so
 * __index, __pairs, __len and friends of a hostile table are never called, and
 * metatables do not cross (the copy is a plain table). Depth is bounded
 * (MARSHAL_MAX_DEPTH; a cycle hits it) and so is the size of the encoding.
 *
 * marshal_copy makes the same plain deep copy inside one state (functions kept
 * as they are): the declaration constructors validate that copy, so a
 * declaration's metatable can neither fake fields nor raise from C.
 *
 * Who calls it: lua/plugin (declarations, hook arguments and results),
 * lua/check, the policy scorer, program/config.
 *
 * Encoding: one tag byte per value: 'n' nil, 'f' false, 't' true, 'i' int64,
 * 'd' double, 's' u32 length + bytes, 'T' u32 count + count (key, value) pairs,
 * 'F' a function marker. Native byte order (both ends are the same binary).
 */
#ifndef TANDEM_LUA_MARSHAL_H
#define TANDEM_LUA_MARSHAL_H

#include <stddef.h>

#include <lua.h>

#include "base/diag.h"
#include "sys/worker.h"

enum { MARSHAL_MAX_DEPTH = 32 };

/* Flags of marshal_encode. */
enum {
	MARSHAL_FUNCTIONS = 1, /* encode functions as markers instead of refusing them */
	MARSHAL_SORTED = 2,    /* pairs in the order of their encoded keys: the same data
				  gives the same bytes in every state (for comparisons) */
};

/*
 * Appends the value at idx to out. Returns 0, or -1 with a diag (DIAG_INVALID
 * for a value that cannot cross, DIAG_NOMEM). Never raises, never runs Lua code;
 * `what` names the value in messages (e.g. "the result of hook score").
 */
int marshal_encode(lua_State *L, int idx, int flags, const char *what, struct buf *out,
		   struct diag *d);

/*
 * Pushes the value encoded in p[0..n) (a whole encoding, or *used bytes of it
 * when used != NULL). Function markers become `stub` (a C function; NULL pushes
 * false). Runs in a protected call: returns 0 with the value pushed, or -1 with
 * a diag (nothing pushed) for a malformed encoding or a memory error.
 */
int marshal_push(lua_State *L, const char *p, size_t n, size_t *used, lua_CFunction stub,
		 struct diag *d);

/*
 * Pushes a plain deep copy of the table at idx (raw reads, no
 * metatables; functions and keys kept as they are). Raises a Lua error past
 * MARSHAL_MAX_DEPTH. stack: +1. Call from inside a protected call.
 */
void marshal_copy(lua_State *L, int idx, const char *what);

#endif

/*
 * lua/api_match: Lua bindings of the matching primitive (core/match/match.h), as
 * tandem.match.
 *
 *   tandem.match.assign(scores, opts) -> { total = number,
 *       pairs = {{row, col}, ...}, unmatched_rows = {row, ...} }
 *     scores: array of rows, each an array of numbers; nil or false marks a
 *       forbidden pair (rows are padded with forbidden cells to the longest row).
 *     opts (optional): maximize (boolean, default false), capacity (number for
 *       every column, or an array with one per column), pinned = {{r, c}, ...},
 *       vetoed = {{r, c}, ...}.
 *   tandem.match.stable(rows, cols, opts) -> same shape as assign (total = 0
 *       unless scores were given)
 *     rows, cols: preference lists (rows[i] = {c1, c2, ...} best first) OR, when
 *       opts.scores is... see docs/plugin-api.md: if `rows` is an array of
 *       arrays of numbers and `cols` is nil, both sides rank by those scores
 *       (opts.maximize says which sense is better).
 *     opts: capacity, cols_propose (boolean).
 * All indices are 1-based in Lua. Bad arguments raise errors naming the argument
 * and field ("bad argument #2 to 'assign' (field 'capacity' must be ...)").
 *
 * Who calls it: lua/api_core (installs the table).
 */
#ifndef TANDEM_LUA_API_MATCH_H
#define TANDEM_LUA_API_MATCH_H

#include <lua.h>

/* Pushes the (writable) tandem.match table. stack: +1 */
void api_match_push(lua_State *L);

#endif

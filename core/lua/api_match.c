/*
 * lua/api_match: tandem.match.assign / tandem.match.stable over core/match/match.h.
 * See api_match.h for the Lua contract.
 *
 * Buffers handed to the solvers are Lua userdata, so they count against the
 * plugin's memory budget and are reclaimed by the collector if an argument error
 * unwinds the call; solver results are copied into userdata and released before
 * any table is built, so a memory error while building cannot leak them.
 */
#include "lua/api_match.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "match/match.h"

/* Upper bound on cells, to refuse absurd inputs before allocating. */
#define API_MATCH_MAX_CELLS ((lua_Integer)1 << 26)

static void *
new_buffer(lua_State *L, size_t n)
{
	void *p = lua_newuserdatauv(L, n ? n : 1, 0);
	memset(p, 0, n ? n : 1);
	return p;
}

/* Length of the array at idx (rows of scores, lists); raises unless a table. */
static lua_Integer
array_len(lua_State *L, int idx, int arg, const char *what)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a table (got %s)", what,
						      luaL_typename(L, idx)));
	return (lua_Integer)lua_rawlen(L, idx);
}

/*
 * Reads a score matrix (array of rows; nil/false = forbidden) into userdata
 * buffers pushed on the stack (scores, then mask). Sets *nr, *nc.
 */
static void
read_scores(lua_State *L, int idx, int arg, struct match_dense *m)
{
	lua_Integer nr = array_len(L, idx, arg, "scores"), nc = 0;
	for (lua_Integer r = 1; r <= nr; r++) {
		if (lua_rawgeti(L, idx, r) != LUA_TTABLE)
			luaL_argerror(L, arg, lua_pushfstring(L, "row %I must be a table (got %s)", r,
							      luaL_typename(L, -1)));
		lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
		if (len > nc)
			nc = len;
		lua_pop(L, 1);
	}
	if (nr * nc > API_MATCH_MAX_CELLS || nr > INT32_MAX || nc > INT32_MAX)
		luaL_argerror(L, arg, "score matrix too large");
	double *s = new_buffer(L, (size_t)(nr * nc) * sizeof(double));
	uint8_t *mask = new_buffer(L, (size_t)(nr * nc));
	int forbidden = 0;
	for (lua_Integer r = 1; r <= nr; r++) {
		lua_rawgeti(L, idx, r);
		for (lua_Integer c = 1; c <= nc; c++) {
			int t = lua_rawgeti(L, -1, c);
			size_t k = (size_t)((r - 1) * nc + (c - 1));
			if (t == LUA_TNUMBER) {
				s[k] = lua_tonumber(L, -1);
			} else if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
				mask[k] = 1;
				forbidden = 1;
			} else {
				luaL_argerror(L, arg, lua_pushfstring(L,
					"scores[%I][%I] must be a number, nil or false (got %s)", r, c,
					luaL_typename(L, -1)));
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	m->nr = (int)nr;
	m->nc = (int)nc;
	m->dtype = MATCH_F64;
	m->scores = s;
	m->forbidden = forbidden ? mask : NULL;
}

/* opts field at idx (a table or nil): pushes it, returns its type. Raw: C reads
 * tables without running their metamethods. */
static int
opt_field(lua_State *L, int idx, const char *name)
{
	if (lua_isnoneornil(L, idx)) {
		lua_pushnil(L);
		return LUA_TNIL;
	}
	idx = lua_absindex(L, idx);
	lua_pushstring(L, name);
	return lua_rawget(L, idx);
}

static int
opt_bool(lua_State *L, int idx, int arg, const char *name)
{
	int t = opt_field(L, idx, name);
	if (t != LUA_TNIL && t != LUA_TBOOLEAN)
		luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be a boolean (got %s)", name,
						      luaL_typename(L, -1)));
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static int
int_in(lua_State *L, int idx, lua_Integer lo, lua_Integer hi, lua_Integer *out)
{
	int ok = 0;
	lua_Integer v = lua_tointegerx(L, idx, &ok);
	if (!ok || v < lo || v > hi)
		return 0;
	*out = v;
	return 1;
}

/* opts.capacity: a number for every column or an array of nc. NULL if absent. */
static const int *
opt_capacity(lua_State *L, int idx, int arg, int nc)
{
	int t = opt_field(L, idx, "capacity");
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return NULL;
	}
	int *cap = new_buffer(L, (size_t)nc * sizeof(int)); /* stays on the stack */
	lua_Integer v = 0;
	if (t == LUA_TNUMBER) {
		if (!int_in(L, -2, 0, INT32_MAX, &v))
			luaL_argerror(L, arg, "field 'capacity' must be a non-negative integer");
		for (int c = 0; c < nc; c++)
			cap[c] = (int)v;
	} else if (t == LUA_TTABLE) {
		if ((lua_Integer)lua_rawlen(L, -2) != nc)
			luaL_argerror(L, arg, lua_pushfstring(L,
				"field 'capacity' must have one entry per column (%d, got %d)", nc,
				(int)lua_rawlen(L, -2)));
		for (int c = 0; c < nc; c++) {
			lua_rawgeti(L, -2, c + 1);
			if (!int_in(L, -1, 0, INT32_MAX, &v))
				luaL_argerror(L, arg, lua_pushfstring(L,
					"field 'capacity' entry %d must be a non-negative integer", c + 1));
			cap[c] = (int)v;
			lua_pop(L, 1);
		}
	} else {
		luaL_argerror(L, arg, lua_pushfstring(L, "field 'capacity' must be a number or a table "
							 "(got %s)", luaL_typename(L, -2)));
	}
	lua_remove(L, -2); /* keep the buffer, drop the field */
	return cap;
}

/* opts.pinned / opts.vetoed: {{r, c}, ...} 1-based. Leaves a buffer on the stack. */
static const struct match_pair *
opt_pairs(lua_State *L, int idx, int arg, const char *name, int nr, int nc, int *n)
{
	int t = opt_field(L, idx, name);
	*n = 0;
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return NULL;
	}
	if (t != LUA_TTABLE)
		luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be a table of {row, col} "
							 "pairs (got %s)", name, luaL_typename(L, -1)));
	lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
	if (len > INT32_MAX)
		luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' is too long", name));
	struct match_pair *v = new_buffer(L, (size_t)len * sizeof(*v));
	for (lua_Integer i = 1; i <= len; i++) {
		lua_Integer r = 0, c = 0;
		if (lua_rawgeti(L, -2, i) != LUA_TTABLE || lua_rawgeti(L, -1, 1) == LUA_TNIL ||
		    !int_in(L, -1, 1, nr, &r) || lua_rawgeti(L, -2, 2) == LUA_TNIL ||
		    !int_in(L, -1, 1, nc, &c))
			luaL_argerror(L, arg, lua_pushfstring(L,
				"field '%s' entry %I must be {row, col} with 1 <= row <= %d and "
				"1 <= col <= %d", name, i, nr, nc));
		v[i - 1].row = (int)r - 1;
		v[i - 1].col = (int)c - 1;
		lua_pop(L, 3);
	}
	lua_remove(L, -2);
	*n = (int)len;
	return v;
}

/* The parts of a result we keep after match_result_fini. */
struct kept {
	int nr;
	double total;
	int *row_to_col;
	int nunmatched;
	int *unmatched;
};

/* Reserves room for a result of nr rows BEFORE solving (pushed). */
static void
reserve_result(lua_State *L, int nr, struct kept *k)
{
	k->row_to_col = new_buffer(L, (size_t)(2 * nr + 1) * sizeof(int));
	k->unmatched = k->row_to_col + nr;
}

/* Copies res into the reserved buffers and frees res; allocates nothing. */
static void
keep_result(struct match_result *res, struct kept *k)
{
	k->nr = res->nr;
	k->total = res->total;
	k->nunmatched = res->nunmatched;
	memcpy(k->row_to_col, res->row_to_col, (size_t)res->nr * sizeof(int));
	if (res->nunmatched)
		memcpy(k->unmatched, res->unmatched_rows, (size_t)res->nunmatched * sizeof(int));
	match_result_fini(res);
}

/* Pushes {total =, pairs = {{r, c}, ...}, unmatched_rows = {...}} (1-based). */
static void
push_result(lua_State *L, const struct kept *k)
{
	lua_createtable(L, 0, 3);
	lua_pushnumber(L, k->total);
	lua_setfield(L, -2, "total");
	lua_newtable(L);
	int n = 0;
	for (int r = 0; r < k->nr; r++) {
		if (k->row_to_col[r] < 0)
			continue;
		lua_createtable(L, 2, 0);
		lua_pushinteger(L, r + 1);
		lua_rawseti(L, -2, 1);
		lua_pushinteger(L, k->row_to_col[r] + 1);
		lua_rawseti(L, -2, 2);
		lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "pairs");
	lua_createtable(L, k->nunmatched, 0);
	for (int i = 0; i < k->nunmatched; i++) {
		lua_pushinteger(L, k->unmatched[i] + 1);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "unmatched_rows");
}

/*
 * Solvers must not longjmp out with a result half-built: they are plain C and
 * never raise; we raise only after copying or freeing what they returned.
 */
static int
l_assign(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	struct match_dense m;
	read_scores(L, 1, 1, &m);
	struct match_opts o;
	memset(&o, 0, sizeof(o));
	o.maximize = opt_bool(L, 2, 2, "maximize");
	o.capacity = opt_capacity(L, 2, 2, m.nc);
	o.pinned = opt_pairs(L, 2, 2, "pinned", m.nr, m.nc, &o.npinned);
	o.vetoed = opt_pairs(L, 2, 2, "vetoed", m.nr, m.nc, &o.nvetoed);
	struct kept k;
	reserve_result(L, m.nr, &k);
	struct match_result res;
	memset(&res, 0, sizeof(res));
	struct diag d;
	diag_clear(&d);
	if (match_assign(&m, &o, &res, &d) != 0) {
		match_result_fini(&res);
		return luaL_error(L, "tandem.match.assign: %s", d.msg);
	}
	keep_result(&res, &k);
	push_result(L, &k);
	return 1;
}

/* Preference lists (array of arrays of 1-based indices into the other side). */
static void
read_prefs(lua_State *L, int idx, int arg, const char *what, int n, int other, struct match_prefs *p)
{
	int *ptr = new_buffer(L, (size_t)(n + 1) * sizeof(int));
	size_t total = 0;
	for (int i = 1; i <= n; i++) {
		if (lua_rawgeti(L, idx, i) != LUA_TTABLE)
			luaL_argerror(L, arg, lua_pushfstring(L, "%s[%d] must be a list (got %s)", what, i,
							      luaL_typename(L, -1)));
		total += lua_rawlen(L, -1);
		lua_pop(L, 1);
	}
	if (total > (size_t)API_MATCH_MAX_CELLS)
		luaL_argerror(L, arg, "preference lists too long");
	int *items = new_buffer(L, total * sizeof(int));
	size_t k = 0;
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		ptr[i - 1] = (int)k;
		lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer j = 1; j <= len; j++) {
			lua_Integer v = 0;
			lua_rawgeti(L, -1, j);
			if (!int_in(L, -1, 1, other, &v))
				luaL_argerror(L, arg, lua_pushfstring(L,
					"%s[%d][%I] must be an index between 1 and %d", what, i, j, other));
			items[k++] = (int)v - 1;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	ptr[n] = (int)k;
	p->n = n;
	p->ptr = ptr;
	p->items = items;
}

/*
 * Copies solver-made preference lists of n entities (at most `cells` items) into
 * buf, reserved before the solver ran, and frees them; allocates nothing.
 */
static void
keep_prefs(int *buf, struct match_prefs *p, int n)
{
	int len = p->ptr ? p->ptr[n] : 0;
	if (p->ptr)
		memcpy(buf, p->ptr, (size_t)(n + 1) * sizeof(int));
	if (len)
		memcpy(buf + n + 1, p->items, (size_t)len * sizeof(int));
	match_prefs_fini(p);
	p->n = n;
	p->ptr = buf;
	p->items = buf + n + 1;
}

static int
l_stable(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	struct match_stable_input in;
	memset(&in, 0, sizeof(in));
	struct match_dense m;
	int from_scores = lua_isnil(L, 2);
	int maximize = opt_bool(L, 3, 3, "maximize");
	struct diag d;
	diag_clear(&d);
	if (from_scores) {
		/* One score matrix: rows rank columns, columns rank rows, by score. */
		read_scores(L, 1, 1, &m);
		size_t cells = (size_t)m.nr * (size_t)m.nc;
		int *rbuf = new_buffer(L, ((size_t)m.nr + 1 + cells) * sizeof(int));
		int *cbuf = new_buffer(L, ((size_t)m.nc + 1 + cells) * sizeof(int));
		struct match_prefs rp = {0}, cp = {0};
		if (match_prefs_from_scores(&m, 1, maximize, &rp, &d) != 0) {
			match_prefs_fini(&rp);
			return luaL_error(L, "tandem.match.stable: %s", d.msg);
		}
		keep_prefs(rbuf, &rp, m.nr);
		if (match_prefs_from_scores(&m, 0, maximize, &cp, &d) != 0) {
			match_prefs_fini(&cp);
			return luaL_error(L, "tandem.match.stable: %s", d.msg);
		}
		keep_prefs(cbuf, &cp, m.nc);
		in.nr = m.nr;
		in.nc = m.nc;
		in.rows = rp;
		in.cols = cp;
	} else {
		lua_Integer nr = array_len(L, 1, 1, "rows"), nc = array_len(L, 2, 2, "cols");
		if (nr > INT32_MAX / 2 || nc > INT32_MAX / 2)
			return luaL_error(L, "tandem.match.stable: too many rows or columns");
		in.nr = (int)nr;
		in.nc = (int)nc;
		read_prefs(L, 1, 1, "rows", in.nr, in.nc, &in.rows);
		read_prefs(L, 2, 2, "cols", in.nc, in.nr, &in.cols);
	}
	in.capacity = opt_capacity(L, 3, 3, in.nc);
	in.cols_propose = opt_bool(L, 3, 3, "cols_propose");
	struct kept k;
	reserve_result(L, in.nr, &k);
	struct match_result res;
	memset(&res, 0, sizeof(res));
	if (match_stable(&in, &res, &d) != 0) {
		match_result_fini(&res);
		return luaL_error(L, "tandem.match.stable: %s", d.msg);
	}
	keep_result(&res, &k);
	k.total = 0;
	if (from_scores) {
		const double *s = m.scores;
		for (int r = 0; r < k.nr; r++)
			if (k.row_to_col[r] >= 0)
				k.total += s[(size_t)r * (size_t)m.nc + (size_t)k.row_to_col[r]];
	}
	push_result(L, &k);
	return 1;
}

void
api_match_push(lua_State *L)
{
	static const luaL_Reg fns[] = {{"assign", l_assign}, {"stable", l_stable}, {NULL, NULL}};
	luaL_newlib(L, fns);
}

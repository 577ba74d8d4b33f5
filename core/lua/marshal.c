/*
 * lua/marshal: Lua values to bytes and back, raw reads only. See marshal.h.
 */
#include "lua/marshal.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An encoding larger than this is refused (a hook returning gigabytes is a bug). */
#define MARSHAL_MAX_BYTES ((size_t)256 << 20)

struct enc {
	lua_State *L;
	int flags;
	struct buf *out;
	struct diag *d;
	const char *what;
	const char *bad_type; /* a value that cannot cross was found: its type */
	char path[256];       /* where it sits, built while unwinding: "weights.x" */
};

static int
put(struct enc *e, const void *p, size_t n)
{
	if (e->out->len + n > MARSHAL_MAX_BYTES)
		return diag_set(e->d, DIAG_INVALID, "%s: too large to pass (over %zu MiB)", e->what,
				MARSHAL_MAX_BYTES >> 20);
	return buf_append(e->out, p, n, e->d);
}

static int
put_tag(struct enc *e, char tag)
{
	return put(e, &tag, 1);
}

/* Notes a value that cannot cross; the message is written at the top, with the path. */
static int
refuse(struct enc *e, const char *type)
{
	e->bad_type = type;
	e->path[0] = '\0';
	return -1;
}

static int encode(struct enc *e, int idx, int depth);

/* While unwinding from a refused value: prepends key k (at stack index kidx) to the path. */
static void
path_prepend(struct enc *e, int kidx)
{
	if (e->bad_type == NULL)
		return;
	char key[64], tail[256];
	if (lua_type(e->L, kidx) == LUA_TSTRING)
		snprintf(key, sizeof(key), "%s", lua_tostring(e->L, kidx));
	else if (lua_isinteger(e->L, kidx))
		snprintf(key, sizeof(key), "%lld", (long long)lua_tointeger(e->L, kidx));
	else
		snprintf(key, sizeof(key), "?");
	snprintf(tail, sizeof(tail), "%s", e->path);
	snprintf(e->path, sizeof(e->path), "%s%s%.180s", key, tail[0] ? "." : "", tail);
}

/* One encoded (key, value) pair of a sorted table. */
struct pair {
	char *data;
	size_t len, keylen;
};

static int
cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->data, y->data, n);
	return c ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static int encode_table(struct enc *e, int idx, int depth);

/*
 * The pairs of the table at idx in the order of their encoded keys: the same
 * table gives the same bytes in every state (lua_next's order depends on the
 * state's hash seed).
 */
static int
encode_sorted(struct enc *e, int idx, int depth, uint32_t *count)
{
	lua_State *L = e->L;
	struct pair *v = NULL;
	size_t n = 0, cap = 0;
	struct buf *main_out = e->out;
	int rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, idx) != 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct pair *nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL) {
				lua_pop(L, 2);
				rc = diag_set(e->d, DIAG_NOMEM, "out of memory encoding %s", e->what);
				break;
			}
			v = nv;
		}
		struct buf one;
		buf_init(&one);
		e->out = &one;
		rc = encode(e, lua_gettop(L) - 1, depth + 1);
		size_t keylen = one.len;
		if (rc == 0)
			rc = encode(e, lua_gettop(L), depth + 1);
		if (rc != 0)
			path_prepend(e, lua_gettop(L) - 1);
		e->out = main_out;
		lua_pop(L, 1);
		if (rc != 0) {
			lua_pop(L, 1);
			buf_fini(&one);
			break;
		}
		v[n++] = (struct pair){one.data, one.len, keylen};
	}
	if (rc == 0 && n > 1) /* qsort(NULL, 0, ...) is undefined: an empty table */
		qsort(v, n, sizeof(*v), cmp_pair);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = put(e, v[i].data, v[i].len);
		free(v[i].data);
	}
	free(v);
	*count = (uint32_t)n;
	return rc;
}

static int
encode_table(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	if (depth >= MARSHAL_MAX_DEPTH)
		return diag_set(e->d, DIAG_INVALID, "%s: tables nested deeper than %d (a cycle?)",
				e->what, MARSHAL_MAX_DEPTH);
	if (!lua_checkstack(L, 4))
		return diag_set(e->d, DIAG_NOMEM, "%s: out of Lua stack", e->what);
	if (put_tag(e, 'T') != 0)
		return -1;
	size_t at = e->out->len;
	uint32_t count = 0;
	if (put(e, &count, sizeof(count)) != 0)
		return -1;
	if (e->flags & MARSHAL_SORTED) {
		if (encode_sorted(e, idx, depth, &count) != 0)
			return -1;
		memcpy(e->out->data + at, &count, sizeof(count));
		return 0;
	}
	/* The sequence 1..n first (decoded into the array part), then the rest. */
	uint32_t seq = 0;
	while (seq < UINT32_MAX && lua_rawgeti(L, idx, (lua_Integer)seq + 1) != LUA_TNIL) {
		int rc = encode(e, lua_gettop(L), depth + 1);
		lua_pop(L, 1);
		if (rc != 0) {
			lua_pushinteger(L, (lua_Integer)seq + 1);
			path_prepend(e, -1);
			lua_pop(L, 1);
			return -1;
		}
		seq++;
	}
	lua_pop(L, 1);
	memcpy(e->out->data + at, &seq, sizeof(seq));
	e->out->data[at - 1] = 'A';
	at = e->out->len;
	if (put(e, &count, sizeof(count)) != 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) { /* raw: no __pairs */
		if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
		    lua_tointeger(L, -2) <= (lua_Integer)seq) {
			lua_pop(L, 1);
			continue;
		}
		int kt = lua_type(L, -2);
		if (kt != LUA_TSTRING && kt != LUA_TNUMBER && kt != LUA_TBOOLEAN) {
			lua_pop(L, 2);
			return refuse(e, kt == LUA_TTABLE ? "table key" : "key of an odd type");
		}
		int rc = encode(e, lua_gettop(L) - 1, depth + 1);
		if (rc == 0)
			rc = encode(e, lua_gettop(L), depth + 1);
		if (rc != 0)
			path_prepend(e, lua_gettop(L) - 1);
		lua_pop(L, 1);
		if (rc != 0) {
			lua_pop(L, 1);
			return -1;
		}
		count++;
	}
	memcpy(e->out->data + at, &count, sizeof(count));
	return 0;
}

static int
encode(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return put_tag(e, 'n');
	case LUA_TBOOLEAN:
		return put_tag(e, lua_toboolean(L, idx) ? 't' : 'f');
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			int64_t v = (int64_t)lua_tointeger(L, idx);
			return put_tag(e, 'i') || put(e, &v, sizeof(v)) ? -1 : 0;
		} else {
			double v = (double)lua_tonumber(L, idx);
			return put_tag(e, 'd') || put(e, &v, sizeof(v)) ? -1 : 0;
		}
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		if (n > UINT32_MAX)
			return refuse(e, "string over 4 GiB");
		uint32_t len = (uint32_t)n;
		return put_tag(e, 's') || put(e, &len, sizeof(len)) || put(e, s, n) ? -1 : 0;
	}
	case LUA_TTABLE:
		return encode_table(e, lua_absindex(L, idx), depth);
	case LUA_TFUNCTION:
		if (e->flags & MARSHAL_FUNCTIONS)
			return put_tag(e, 'F');
		return refuse(e, "function");
	default:
		return refuse(e, luaL_typename(L, idx));
	}
}

int
marshal_encode(lua_State *L, int idx, int flags, const char *what, struct buf *out,
	       struct diag *d)
{
	struct enc e = {.L = L, .flags = flags, .out = out, .d = d, .what = what ? what : "a value"};
	e.path[0] = '\0';
	int top = lua_gettop(L);
	int rc = encode(&e, lua_absindex(L, idx), 0);
	lua_settop(L, top);
	if (rc != 0 && e.bad_type != NULL) {
		if (e.path[0])
			diag_set(d, DIAG_INVALID, "%s: field '%s' is a %s, which cannot be passed",
				 e.what, e.path, e.bad_type);
		else
			diag_set(d, DIAG_INVALID, "%s is a %s, which cannot be passed", e.what,
				 e.bad_type);
	}
	return rc;
}

/* ---- decoding ------------------------------------------------------------------ */

struct dec {
	const char *p, *end;
	lua_CFunction stub;
	const char *err;
};

static int
take(struct dec *s, void *out, size_t n)
{
	if ((size_t)(s->end - s->p) < n) {
		s->err = "truncated data";
		return -1;
	}
	memcpy(out, s->p, n);
	s->p += n;
	return 0;
}

/* Pushes one value; on a malformed encoding sets s->err and pushes nothing. */
static int
decode(lua_State *L, struct dec *s, int depth)
{
	char tag;
	if (depth > MARSHAL_MAX_DEPTH + 1) {
		s->err = "data nested too deep";
		return -1;
	}
	if (take(s, &tag, 1) != 0)
		return -1;
	luaL_checkstack(L, 3, "decoding data");
	switch (tag) {
	case 'n': lua_pushnil(L); return 0;
	case 'f': lua_pushboolean(L, 0); return 0;
	case 't': lua_pushboolean(L, 1); return 0;
	case 'F':
		if (s->stub)
			lua_pushcfunction(L, s->stub);
		else
			lua_pushboolean(L, 0);
		return 0;
	case 'i': {
		int64_t v;
		if (take(s, &v, sizeof(v)) != 0)
			return -1;
		lua_pushinteger(L, (lua_Integer)v);
		return 0;
	}
	case 'd': {
		double v;
		if (take(s, &v, sizeof(v)) != 0)
			return -1;
		lua_pushnumber(L, (lua_Number)v);
		return 0;
	}
	case 's': {
		uint32_t n;
		if (take(s, &n, sizeof(n)) != 0 || (size_t)(s->end - s->p) < n) {
			s->err = "truncated string";
			return -1;
		}
		lua_pushlstring(L, s->p, n);
		s->p += n;
		return 0;
	}
	case 'A': /* a sequence of n values, then the 'T' part */
	case 'T': {
		uint32_t n, seq = 0;
		if (tag == 'A') {
			if (take(s, &seq, sizeof(seq)) != 0)
				return -1;
			if (seq > (size_t)(s->end - s->p)) {
				s->err = "bad sequence size";
				return -1;
			}
			lua_createtable(L, (int)(seq < (1u << 20) ? seq : (1u << 20)), 0);
			for (uint32_t i = 0; i < seq; i++) {
				if (decode(L, s, depth + 1) != 0) {
					lua_pop(L, 1);
					return -1;
				}
				lua_rawseti(L, -2, (lua_Integer)i + 1);
			}
		}
		if (take(s, &n, sizeof(n)) != 0) {
			if (tag == 'A')
				lua_pop(L, 1);
			return -1;
		}
		if (n > (size_t)(s->end - s->p) / 2) {
			s->err = "bad table size";
			if (tag == 'A')
				lua_pop(L, 1);
			return -1;
		}
		if (tag == 'T')
			lua_createtable(L, 0, (int)(n < 1024 ? n : 1024));
		for (uint32_t i = 0; i < n; i++) {
			if (decode(L, s, depth + 1) != 0) {
				lua_pop(L, 1);
				return -1;
			}
			if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER &&
						 lua_tonumber(L, -1) != lua_tonumber(L, -1))) {
				s->err = "bad table key";
				lua_pop(L, 2);
				return -1;
			}
			if (decode(L, s, depth + 1) != 0) {
				lua_pop(L, 2);
				return -1;
			}
			lua_rawset(L, -3);
		}
		return 0;
	}
	default:
		s->err = "unknown tag";
		return -1;
	}
}

struct push_args {
	struct dec s;
	int ok;
};

static int
push_body(lua_State *L)
{
	struct push_args *a = lua_touserdata(L, 1);
	lua_settop(L, 0);
	a->ok = decode(L, &a->s, 0) == 0;
	return a->ok ? 1 : 0;
}

int
marshal_push(lua_State *L, const char *p, size_t n, size_t *used, lua_CFunction stub,
	     struct diag *d)
{
	struct push_args a = {.s = {.p = p, .end = p + n, .stub = stub, .err = NULL}, .ok = 0};
	if (!lua_checkstack(L, 4))
		return diag_set(d, DIAG_NOMEM, "out of Lua stack decoding data");
	lua_pushcfunction(L, push_body);
	lua_pushlightuserdata(L, &a);
	int st = lua_pcall(L, 1, 1, 0);
	if (st != LUA_OK) {
		const char *m = lua_tostring(L, -1);
		diag_set(d, st == LUA_ERRMEM ? DIAG_NOMEM : DIAG_INVALID, "decoding data: %s",
			 m ? m : "error");
		lua_pop(L, 1);
		return -1;
	}
	if (!a.ok || (used == NULL && a.s.p != a.s.end)) {
		lua_pop(L, 1);
		return diag_set(d, DIAG_INVALID, "decoding data: %s", a.s.err ? a.s.err : "trailing bytes");
	}
	if (used != NULL)
		*used = (size_t)(a.s.p - p);
	return 0;
}

/* ---- plain copies ---------------------------------------------------------------- */

static void
copy(lua_State *L, int idx, const char *what, int depth)
{
	if (lua_type(L, idx) != LUA_TTABLE) {
		lua_pushvalue(L, idx);
		return;
	}
	if (depth >= MARSHAL_MAX_DEPTH)
		luaL_error(L, "%s: tables nested deeper than %d (a cycle?)", what, MARSHAL_MAX_DEPTH);
	luaL_checkstack(L, 6, "copying a table");
	idx = lua_absindex(L, idx);
	lua_newtable(L); /* stack: copy */
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) { /* stack: copy, key, value */
		lua_pushvalue(L, -2);          /* stack: copy, key, value, key (kept as it is) */
		copy(L, -2, what, depth + 1);  /* stack: copy, key, value, key, value' */
		lua_rawset(L, -5);
		lua_pop(L, 1);
	}
}

void
marshal_copy(lua_State *L, int idx, const char *what)
{
	copy(L, idx, what, 0);
}

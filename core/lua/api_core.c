/*
 * lua/api_core: the declaration constructors. See api_core.h for the contract.
 */
#include "lua/api_core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/diag.h"

#include "lua/api_match.h"
#include "lua/api_time.h"
#include "lua/marshal.h"
#include "lua/sandbox.h"

static char decls_key; /* registry: weak-keyed table declaration -> kind */

/* Pushes the weak-keyed registry of declarations, creating it on first use. */
static void
push_decls(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &decls_key) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &decls_key);
}

/*
 * Where a declaration's error is: the line of the field it names. A message names
 * its field as "field 'NAME'" (or "unknown field 'NAME'"); the field's line is the
 * definition line of a function value (debug info; for "field 'NAME["KEY"]'", such as a
 * reward rule's on["session.held"], of the function at NAME[KEY]), else the first line, from the
 * constructor's line on, that assigns `NAME =` outside a comment (the source is read
 * again: the file of an "@path" chunk, or the text of a string chunk). A missing
 * field, a message naming none, or a source that cannot be read gives the
 * constructor's line.
 */
static void
error_field(const char *msg, char *field, size_t size)
{
	field[0] = '\0';
	if (strncmp(msg, "missing field", 13) == 0)
		return;
	const char *p = strstr(msg, "field '");
	if (p == NULL)
		return;
	p += 7;
	size_t n = strcspn(p, "'.[");
	if (n == 0 || n >= size)
		return;
	memcpy(field, p, n);
	field[n] = '\0';
}

/* 1 when `line` assigns `field =` (a whole word, not `==` or `x.field`) outside a comment. */
static int
line_assigns(const char *line, size_t len, const char *field)
{
	size_t fl = strlen(field);
	for (size_t i = 0; i + fl <= len; i++) {
		if (line[i] == '-' && i + 1 < len && line[i + 1] == '-')
			return 0;
		if (strncmp(line + i, field, fl) != 0)
			continue;
		char b = i > 0 ? line[i - 1] : ' ';
		if (isalnum((unsigned char)b) || b == '_' || b == '.')
			continue;
		size_t j = i + fl;
		if (j < len && (isalnum((unsigned char)line[j]) || line[j] == '_'))
			continue;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (j < len && line[j] == '=' && (j + 1 >= len || line[j + 1] != '='))
			return 1;
	}
	return 0;
}

/* The first line >= from of text[0..len) that assigns field, or 0. */
static int
scan_lines(const char *text, size_t len, int from, const char *field)
{
	int line = 1;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (line >= from && line_assigns(text + i, end - i, field))
			return line;
		i = end + 1;
		line++;
	}
	return 0;
}

/* The source of a chunk as text (malloc'd, *len set), or NULL. */
static char *
chunk_text(const char *source, size_t *len)
{
	if (source[0] != '@') {
		if (source[0] == '=')
			return NULL;
		*len = strlen(source);
		char *t = malloc(*len + 1);
		if (t != NULL)
			memcpy(t, source, *len + 1);
		return t;
	}
	FILE *f = fopen(source + 1, "rb");
	if (f == NULL)
		return NULL;
	char *t = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 > cap) {
			if (cap >= (size_t)16 << 20)
				break; /* a plugin source this large is not read again */
			size_t nc = cap ? cap * 2 : 8192;
			char *g = realloc(t, nc);
			if (g == NULL)
				break;
			t = g;
			cap = nc;
		}
		size_t r = fread(t + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return t;
}

/* The line of a keyed handler a message names as "field 'F["KEY"]'" (a reward rule's
 * on["session.held"]): where the function at decl[F][KEY] is defined, in source; 0 when
 * the message names no key or the value is not such a function. */
static int
keyed_line(lua_State *L, int idx, const char *msg, const char *field, const char *source)
{
	char head[80];
	snprintf(head, sizeof(head), "field '%s[\"", field);
	const char *p = strstr(msg, head);
	if (p == NULL)
		return 0;
	p += strlen(head);
	size_t n = strcspn(p, "\"");
	if (p[n] != '"')
		return 0;
	int line = 0, top = lua_gettop(L);
	lua_pushstring(L, field);
	if (lua_rawget(L, idx) == LUA_TTABLE) {
		lua_pushlstring(L, p, n);
		lua_Debug fa;
		if (lua_rawget(L, -2) == LUA_TFUNCTION && lua_getinfo(L, ">S", &fa) &&
		    fa.linedefined > 0 && strcmp(fa.source, source) == 0)
			line = fa.linedefined;
	}
	lua_settop(L, top);
	return line;
}

struct located {
	int line;
	const char *msg;
	size_t len;
};

static int
cmp_located(const void *a, const void *b)
{
	const struct located *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->msg < y->msg ? -1 : x->msg > y->msg;
}

void
api_core_locate_errors(lua_State *L, int idx, const char *msgs)
{
	lua_Debug ar;
	int call_line = 0;
	const char *short_src = NULL, *source = NULL;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
		call_line = ar.currentline;
		short_src = ar.short_src;
		source = ar.source;
	}
	if (short_src == NULL) {
		lua_pushstring(L, msgs);
		return;
	}
	char src_name[LUA_IDSIZE];
	snprintf(src_name, sizeof(src_name), "%s", short_src);
	size_t text_len = 0;
	char *text = NULL;
	int text_read = 0;
	struct located v[64];
	int n = 0;
	for (const char *p = msgs; *p != '\0' && n < 64;) {
		size_t len = strcspn(p, "\n");
		char field[64], one[DIAG_MSG_MAX];
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		error_field(one, field, sizeof(field));
		int line = 0;
		if (field[0] != '\0')
			line = keyed_line(L, idx, one, field, source);
		if (field[0] != '\0' && line == 0) {
			lua_pushstring(L, field);
			if (lua_rawget(L, idx) == LUA_TFUNCTION) {
				lua_Debug fa;
				if (lua_getinfo(L, ">S", &fa) && fa.linedefined > 0 &&
				    strcmp(fa.source, source) == 0)
					line = fa.linedefined;
			} else {
				lua_pop(L, 1);
			}
			if (line == 0) {
				if (!text_read) {
					text = chunk_text(source, &text_len);
					text_read = 1;
				}
				if (text != NULL)
					line = scan_lines(text, text_len, call_line, field);
			}
		}
		v[n++] = (struct located){line > 0 ? line : call_line, p, len};
		p += len;
		if (*p == '\n')
			p++;
	}
	free(text);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_located);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		char head[LUA_IDSIZE + 32];
		int hl = snprintf(head, sizeof(head), "%s%s:%d: ", i ? "\n" : "", src_name,
				  v[i].line);
		/* The message ends in a diag: whole lines that fit, not a cut one. */
		if (i > 0 && total + (size_t)hl + v[i].len >= DIAG_MSG_MAX)
			break;
		total += (size_t)hl + v[i].len;
		luaL_addstring(&b, head);
		luaL_addlstring(&b, v[i].msg, v[i].len);
	}
	luaL_pushresult(&b);
}

/* tandem.<kind>{...}: copies, validates and marks the declaration.
 * upvalue 1: kind, upvalue 2: the kinds (light userdata). */
static int
api_declare(lua_State *L)
{
	int kind = (int)lua_tointeger(L, lua_upvalueindex(1));
	const struct api_core_kinds *kinds = lua_touserdata(L, lua_upvalueindex(2));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	marshal_copy(L, 1, "the declaration"); /* stack: original, copy */
	lua_replace(L, 1);                     /* stack: copy */
	struct diag d;
	diag_clear(&d);
	if (kinds->validate(kinds->ud, L, 1, kind, &d) != 0) {
		api_core_locate_errors(L, 1, d.msg);
		return lua_error(L);
	}
	lua_settop(L, 1);
	push_decls(L); /* stack: decl, decls */
	lua_pushvalue(L, 1);
	lua_pushinteger(L, kind);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return 1;
}

void
api_core_add_plugin_api(lua_State *L, int idx, const struct api_core_kinds *kinds)
{
	idx = lua_absindex(L, idx);
	for (int k = 0; k < kinds->n; k++) {
		lua_pushinteger(L, k);
		lua_pushlightuserdata(L, (void *)kinds);
		lua_pushcclosure(L, api_declare, 2);
		lua_setfield(L, idx, kinds->names[k]);
	}
	api_time_push(L);
	plugin_sandbox_readonly(L, -1, "tandem.time");
	lua_setfield(L, idx, "time");
	lua_pop(L, 1);
	api_match_push(L);
	plugin_sandbox_readonly(L, -1, "tandem.match");
	lua_setfield(L, idx, "match");
	lua_pop(L, 1);
}

int
api_core_decl_kind(lua_State *L, int idx, int *kind)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	idx = lua_absindex(L, idx);
	push_decls(L);
	lua_pushvalue(L, idx);
	int found = lua_rawget(L, -2) == LUA_TNUMBER;
	if (found)
		*kind = (int)lua_tointeger(L, -1);
	lua_pop(L, 2);
	return found;
}

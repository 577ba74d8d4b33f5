/*
 * lua/report_out: the document a report's build returned, read, checked and
 * written as JSON. See report_out.h for the accepted documents.
 *
 * Every read is raw (lua_rawget, lua_rawgeti, lua_next); strings are read only
 * from values whose type is LUA_TSTRING, numbers with lua_tonumberx, so nothing
 * here runs Lua code or changes the plugin's values. The first problem found is
 * reported, naming the section (1-based) and the field path inside it.
 */
#include "lua/report_out.h"

#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const report_out_chart_types[] = {"bar", "line", "stacked", "funnel", "histogram",
					      NULL};

/* Where a value sits: the section (0 = the document) for messages. */
struct where {
	int section;
};

static int
fail(const struct where *w, struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(const struct where *w, struct diag *d, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX - 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->section > 0)
		return diag_set(d, DIAG_INVALID, "section %d: %s", w->section, msg);
	return diag_set(d, DIAG_INVALID, "%s", msg);
}

static int
nomem(struct diag *d)
{
	return diag_set(d, DIAG_NOMEM, "out of memory reading a report document");
}

/*
 * The length of the UTF-8 character starting s[0..n), or 0 when s[0] starts no
 * valid one: RFC 3629 (no overlong form, no surrogate, nothing past U+10FFFF),
 * the rules jansson holds strings to. NUL counts as bad too: the renderers read
 * C strings, and a NUL would cut the rest of the text.
 */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t len;
	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : len;
}

/*
 * A document's text as a JSON string: every byte that is not part of a valid
 * UTF-8 character (and every NUL) becomes U+FFFD, the rest is kept as it is.
 * NULL only when out of memory.
 */
static json_t *
text_json(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	while (i < len && (k = utf8_char(u + i, len - i)) > 0)
		i += k;
	if (i == len)
		return json_stringn(s, len);
	char *fixed = malloc(len * 3 + 1); /* at worst every byte becomes 3 */
	if (fixed == NULL)
		return NULL;
	memcpy(fixed, s, i);
	size_t o = i;
	while (i < len) {
		k = utf8_char(u + i, len - i);
		if (k == 0) {
			memcpy(fixed + o, "\xEF\xBF\xBD", 3);
			o += 3, i++;
		} else {
			memcpy(fixed + o, s + i, k);
			o += k, i += k;
		}
	}
	json_t *v = json_stringn(fixed, o);
	free(fixed);
	return v;
}

/*
 * The length of the list at idx: every key an integer 1..n and nothing else.
 * -1 with a diag otherwise (an empty table is a list of 0).
 */
static int
list_len(lua_State *L, int idx, const char *path, int max, const struct where *w,
	 struct diag *d)
{
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE)
		return fail(w, d, "field '%s' must be a list (got %s)", path,
			    luaL_typename(L, idx));
	lua_Integer count = 0, top = 0;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		int ok = lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2) &&
			 lua_tointeger(L, -2) >= 1;
		if (ok && lua_tointeger(L, -2) > top)
			top = lua_tointeger(L, -2);
		lua_pop(L, 1);
		if (!ok) {
			lua_pop(L, 1);
			return fail(w, d, "field '%s' must be a list (it has a key that is not 1..n)",
				    path);
		}
		count++;
	}
	if (top != count)
		return fail(w, d, "field '%s' must be a list (it has holes)", path);
	if (count > max)
		return fail(w, d, "field '%s' has %lld entries (at most %d)", path, (long long)count,
			    max);
	return (int)count;
}

/* Every key of the table at idx is one of names. */
static int
known_fields(lua_State *L, int idx, const char *const *names, const char *path,
	     const struct where *w, struct diag *d)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		int known = 0;
		for (int i = 0; k != NULL && names[i] != NULL; i++)
			known |= strcmp(k, names[i]) == 0;
		if (!known) {
			char list[256] = "";
			for (int i = 0; names[i] != NULL; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", names[i]);
			char key[80];
			snprintf(key, sizeof(key), "%.64s", k != NULL ? k : "(not a name)");
			lua_pop(L, 1);
			return fail(w, d, "unknown field '%s%s%s' (valid: %s)", path, path[0] ? "." : "",
				    key, list);
		}
	}
	return 0;
}

/* A string of the document, with its length (it may hold NUL bytes). */
struct text {
	const char *s; /* NULL: absent */
	size_t len;
};

/*
 * Reads string field `name` of the table at idx into *out (s NULL when absent
 * and optional). The string stays valid while the table is on the stack.
 */
static int
str_field(lua_State *L, int idx, const char *name, int required, const char *path,
	  struct text *out, const struct where *w, struct diag *d)
{
	out->s = NULL;
	out->len = 0;
	lua_pushstring(L, name);
	int t = lua_rawget(L, idx);
	char full[160];
	snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "", name);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return required ? fail(w, d, "missing field '%s' (a string)", full) : 0;
	}
	if (t != LUA_TSTRING) {
		lua_pop(L, 1);
		return fail(w, d, "field '%s' must be a string (got %s)", full, lua_typename(L, t));
	}
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	lua_pop(L, 1); /* the table still holds the string */
	if (len > REPORT_OUT_TEXT)
		return fail(w, d, "field '%s' is %zu bytes long (at most %d)", full, len,
			    REPORT_OUT_TEXT);
	out->s = s;
	out->len = len;
	return 0;
}

static int
set_str(json_t *o, const char *k, struct text v, struct diag *d)
{
	if (v.s == NULL)
		return 0;
	json_t *s = text_json(v.s, v.len);
	return s == NULL || json_object_set_new(o, k, s) != 0 ? nomem(d) : 0;
}

/* A cell: string, finite number or boolean. */
static json_t *
cell_value(lua_State *L, int idx)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		return text_json(s, len);
	}
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		return json_real(lua_tonumber(L, idx));
	default:
		return NULL;
	}
}

/* The table at idx: { columns, rows }. */
static int
read_table(lua_State *L, int idx, json_t *out, const struct where *w, struct diag *d)
{
	static const char *const names[] = {"columns", "rows", NULL};
	idx = lua_absindex(L, idx);
	if (known_fields(L, idx, names, "table", w, d) != 0)
		return -1;
	json_t *cols = json_array(), *rows = json_array();
	if (cols == NULL || rows == NULL || json_object_set_new(out, "columns", cols) != 0 ||
	    json_object_set_new(out, "rows", rows) != 0)
		return nomem(d);
	lua_pushliteral(L, "columns");
	lua_rawget(L, idx);
	int nc = list_len(L, -1, "table.columns", REPORT_OUT_COLUMNS, w, d);
	if (nc == 0)
		fail(w, d, "field 'table.columns' must name at least one column");
	for (int c = 1; nc > 0 && c <= nc; c++) {
		int t = lua_rawgeti(L, -1, c);
		if (t != LUA_TSTRING) {
			fail(w, d, "field 'table.columns[%d]' must be a string (got %s)", c,
			     lua_typename(L, t));
			nc = -1;
		} else if (json_array_append_new(cols, cell_value(L, -1)) != 0) {
			nc = nomem(d);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (nc <= 0)
		return -1;
	lua_pushliteral(L, "rows");
	int t = lua_rawget(L, idx);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return fail(w, d, "missing field 'table.rows' (a list of rows)");
	}
	int nr = list_len(L, -1, "table.rows", REPORT_OUT_ROWS, w, d);
	int rc = nr < 0 ? -1 : 0;
	for (int r = 1; rc == 0 && r <= nr; r++) {
		char path[64];
		snprintf(path, sizeof(path), "table.rows[%d]", r);
		lua_rawgeti(L, -1, r);
		int n = list_len(L, -1, path, REPORT_OUT_COLUMNS, w, d);
		if (n >= 0 && n != nc)
			n = fail(w, d, "field '%s' has %d cells for %d columns", path, n, nc);
		json_t *row = n >= 0 ? json_array() : NULL;
		if (n >= 0 && (row == NULL || json_array_append_new(rows, row) != 0))
			n = nomem(d);
		for (int c = 1; n >= 0 && c <= n; c++) {
			lua_rawgeti(L, -1, c);
			int bad_num = lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) &&
				      !isfinite(lua_tonumber(L, -1));
			json_t *v = bad_num ? NULL : cell_value(L, -1);
			if (bad_num) {
				n = fail(w, d, "field '%s[%d]' must be a finite number", path, c);
			} else if (v == NULL) {
				n = fail(w, d,
					 "field '%s[%d]' must be a string, number or boolean (got %s)",
					 path, c, luaL_typename(L, -1));
			} else if (json_array_append_new(row, v) != 0) {
				n = nomem(d);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (n < 0)
			rc = -1;
	}
	lua_pop(L, 1);
	return rc;
}

static int
known_type(const char *s)
{
	for (int i = 0; report_out_chart_types[i] != NULL; i++)
		if (strcmp(s, report_out_chart_types[i]) == 0)
			return 1;
	return 0;
}

/* One series at idx (a table), its values checked against n_labels. */
static int
read_series(lua_State *L, int idx, int k, int n_labels, json_t *list, const struct where *w,
	    struct diag *d)
{
	static const char *const names[] = {"name", "values", NULL};
	char path[64];
	snprintf(path, sizeof(path), "chart.series[%d]", k);
	if (lua_type(L, idx) != LUA_TTABLE)
		return fail(w, d, "field '%s' must be a table {name =, values =} (got %s)", path,
			    luaL_typename(L, idx));
	idx = lua_absindex(L, idx);
	struct text name;
	if (known_fields(L, idx, names, path, w, d) != 0 ||
	    str_field(L, idx, "name", 1, path, &name, w, d) != 0)
		return -1;
	json_t *s = json_object(), *vals = json_array();
	if (s == NULL || vals == NULL || json_array_append_new(list, s) != 0 ||
	    set_str(s, "name", name, d) != 0 || json_object_set_new(s, "values", vals) != 0)
		return nomem(d);
	char vpath[80];
	snprintf(vpath, sizeof(vpath), "%s.values", path);
	lua_pushliteral(L, "values");
	lua_rawget(L, idx);
	int n = list_len(L, -1, vpath, REPORT_OUT_LABELS, w, d);
	if (n >= 0 && n != n_labels)
		n = fail(w, d, "field '%s' has %d values for %d labels", vpath, n, n_labels);
	for (int i = 1; n >= 0 && i <= n; i++) {
		lua_rawgeti(L, -1, i);
		int isnum;
		lua_Number v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumberx(L, -1, &isnum) : 0;
		int is_int = lua_isinteger(L, -1);
		lua_Integer iv = is_int ? lua_tointeger(L, -1) : 0;
		if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(v))
			n = fail(w, d, "field '%s[%d]' must be a finite number (got %s)", vpath, i,
				 lua_type(L, -1) == LUA_TNUMBER ? "a non-finite number"
								: luaL_typename(L, -1));
		else if (json_array_append_new(vals, is_int ? json_integer((json_int_t)iv)
							    : json_real(v)) != 0)
			n = nomem(d);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return n < 0 ? -1 : 0;
}

/* The chart at idx. */
static int
read_chart(lua_State *L, int idx, json_t *out, const struct where *w, struct diag *d)
{
	static const char *const names[] = {"type", "title", "labels", "series", "x_label",
					    "y_label", NULL};
	idx = lua_absindex(L, idx);
	struct text type, title, xl, yl;
	if (known_fields(L, idx, names, "chart", w, d) != 0 ||
	    str_field(L, idx, "type", 1, "chart", &type, w, d) != 0)
		return -1;
	if (strlen(type.s) != type.len || !known_type(type.s))
		return fail(w, d,
			    "field 'chart.type' must be \"bar\", \"line\", \"stacked\", \"funnel\" or "
			    "\"histogram\" (got \"%.32s\")",
			    type.s);
	if (str_field(L, idx, "title", 1, "chart", &title, w, d) != 0 ||
	    str_field(L, idx, "x_label", 0, "chart", &xl, w, d) != 0 ||
	    str_field(L, idx, "y_label", 0, "chart", &yl, w, d) != 0)
		return -1;
	if (set_str(out, "type", type, d) != 0 || set_str(out, "title", title, d) != 0 ||
	    set_str(out, "x_label", xl, d) != 0 || set_str(out, "y_label", yl, d) != 0)
		return -1;
	json_t *labels = json_array(), *series = json_array();
	if (labels == NULL || series == NULL || json_object_set_new(out, "labels", labels) != 0 ||
	    json_object_set_new(out, "series", series) != 0)
		return nomem(d);
	lua_pushliteral(L, "labels");
	lua_rawget(L, idx);
	int nl = list_len(L, -1, "chart.labels", REPORT_OUT_LABELS, w, d);
	if (nl == 0)
		nl = fail(w, d, "field 'chart.labels' must have at least one label");
	for (int i = 1; nl > 0 && i <= nl; i++) {
		lua_rawgeti(L, -1, i);
		json_t *v = lua_type(L, -1) == LUA_TSTRING ? cell_value(L, -1) : NULL;
		if (v == NULL)
			nl = fail(w, d, "field 'chart.labels[%d]' must be a string (got %s)", i,
				  luaL_typename(L, -1));
		else if (json_array_append_new(labels, v) != 0)
			nl = nomem(d);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (nl < 0)
		return -1;
	lua_pushliteral(L, "series");
	lua_rawget(L, idx);
	int ns = list_len(L, -1, "chart.series", REPORT_OUT_SERIES, w, d);
	int single = strcmp(type.s, "funnel") == 0 || strcmp(type.s, "histogram") == 0;
	if (ns == 0)
		ns = fail(w, d, "field 'chart.series' must have at least one series");
	else if (ns > 1 && single)
		ns = fail(w, d, "field 'chart.series': a %s chart has exactly one series (got %d)",
			  type.s, ns);
	for (int k = 1; ns > 0 && k <= ns; k++) {
		lua_rawgeti(L, -1, k);
		if (read_series(L, -1, k, nl, series, w, d) != 0)
			ns = -1;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return ns < 0 ? -1 : 0;
}

/* Section k at idx. */
static int
read_section(lua_State *L, int idx, int k, json_t *list, struct diag *d)
{
	static const char *const names[] = {"heading", "text", "table", "chart", NULL};
	struct where w = {k};
	if (lua_type(L, idx) != LUA_TTABLE)
		return fail(&w, d, "must be a table {heading =, text =, table =, chart =} (got %s)",
			    luaL_typename(L, idx));
	idx = lua_absindex(L, idx);
	struct text heading, text;
	if (known_fields(L, idx, names, "", &w, d) != 0 ||
	    str_field(L, idx, "heading", 1, "", &heading, &w, d) != 0 ||
	    str_field(L, idx, "text", 0, "", &text, &w, d) != 0)
		return -1;
	json_t *s = json_object();
	if (s == NULL || json_array_append_new(list, s) != 0)
		return nomem(d);
	if (set_str(s, "heading", heading, d) != 0 || set_str(s, "text", text, d) != 0)
		return -1;
	static const char *const parts[] = {"table", "chart"};
	for (int i = 0; i < 2; i++) {
		lua_pushstring(L, parts[i]);
		int t = lua_rawget(L, idx);
		int rc = 0;
		if (t == LUA_TTABLE) {
			json_t *o = json_object();
			if (o == NULL || json_object_set_new(s, parts[i], o) != 0)
				rc = nomem(d);
			else
				rc = i == 0 ? read_table(L, -1, o, &w, d) : read_chart(L, -1, o, &w, d);
		} else if (t != LUA_TNIL) {
			rc = fail(&w, d, "field '%s' must be a table (got %s)", parts[i],
				  lua_typename(L, t));
		}
		lua_pop(L, 1);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
report_out_read(lua_State *L, int idx, json_t **out, struct diag *d)
{
	static const char *const names[] = {"title", "subtitle", "sections", NULL};
	struct where w = {0};
	*out = NULL;
	if (!lua_checkstack(L, 16))
		return nomem(d);
	if (lua_type(L, idx) != LUA_TTABLE)
		return fail(&w, d,
			    "build must return a document {title =, sections = {...}} (got %s)",
			    luaL_typename(L, idx));
	idx = lua_absindex(L, idx);
	int top = lua_gettop(L);
	struct text title, subtitle;
	if (known_fields(L, idx, names, "", &w, d) != 0 ||
	    str_field(L, idx, "title", 1, "", &title, &w, d) != 0 ||
	    str_field(L, idx, "subtitle", 0, "", &subtitle, &w, d) != 0)
		return -1;
	json_t *doc = json_object(), *sections = json_array();
	if (doc == NULL || sections == NULL || json_object_set_new(doc, "sections", sections) != 0) {
		json_decref(doc);
		return nomem(d);
	}
	int rc = set_str(doc, "title", title, d);
	if (rc == 0)
		rc = set_str(doc, "subtitle", subtitle, d);
	lua_pushliteral(L, "sections");
	int t = lua_rawget(L, idx);
	int n = t == LUA_TNIL ? fail(&w, d, "missing field 'sections' (a list of sections)")
			      : list_len(L, -1, "sections", REPORT_OUT_SECTIONS, &w, d);
	if (n < 0)
		rc = -1;
	for (int k = 1; rc == 0 && k <= n; k++) {
		lua_rawgeti(L, -1, k);
		rc = read_section(L, -1, k, sections, d);
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	if (rc != 0) {
		json_decref(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

int
report_out_check(lua_State *L, const char *hook, int idx, struct diag *d)
{
	if (strcmp(hook, "build") != 0)
		return 0;
	json_t *doc;
	if (report_out_read(L, idx, &doc, d) != 0)
		return -1;
	json_decref(doc);
	return 0;
}

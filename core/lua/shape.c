/*
 * lua/shape: member and match tables for hooks. See shape.h for the contract.
 */
#include "lua/shape.h"

#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

static void
push_json(lua_State *L, const json_t *v, int depth)
{
	if (depth > 32) {
		lua_pushnil(L);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(v));
		break;
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(v), 0);
		for (size_t i = 0; i < json_array_size(v); i++) {
			push_json(L, json_array_get(v, i), depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(v));
		const char *k;
		json_t *e;
		json_object_foreach((json_t *)v, k, e)
		{
			push_json(L, e, depth + 1);
			lua_setfield(L, -2, k);
		}
		break;
	}
	default:
		lua_pushnil(L);
	}
}

void
shape_push_json(lua_State *L, const json_t *v)
{
	push_json(L, v, 0);
}

/*
 * Pushes a JSON array of strings without escapes ("[\"a\",\"b\"]", what the
 * importers store) as a Lua array, without a JSON parser: building the person
 * tables is part of every run. Returns the number of items, or -1 (nothing
 * pushed) when the text is not of that simple form.
 */
static int
push_simple_list(lua_State *L, const char *t)
{
	const char *p = t;
	while (*p == ' ')
		p++;
	if (*p++ != '[')
		return -1;
	/* Validate first, so that nothing is pushed on failure. */
	int n = 0;
	for (const char *q = p;;) {
		while (*q == ' ')
			q++;
		if (*q == ']' && n == 0)
			break;
		if (*q++ != '"')
			return -1;
		while (*q && *q != '"' && *q != '\\')
			q++;
		if (*q++ != '"')
			return -1;
		n++;
		while (*q == ' ')
			q++;
		if (*q == ']')
			break;
		if (*q++ != ',')
			return -1;
	}
	lua_createtable(L, n, 0);
	for (int i = 1; i <= n; i++) {
		while (*p != '"')
			p++;
		const char *e = strchr(p + 1, '"');
		lua_pushlstring(L, p + 1, (size_t)(e - p - 1));
		lua_rawseti(L, -2, i);
		p = e + 1;
	}
	return n;
}

/* Sets t[key] from JSON text; a list that is empty or absent falls back to `alt`. */
static void
set_json_field(lua_State *L, const char *key, const char *text, const char *alt, int want_list)
{
	int n = text && text[0] ? push_simple_list(L, text) : -1;
	if (n == 0 && alt && alt[0]) {
		lua_pop(L, 1);
		n = push_simple_list(L, alt);
		text = alt;
		alt = NULL;
	}
	if (n >= 0) {
		lua_setfield(L, -2, key);
		return;
	}
	json_t *v = text && text[0] ? json_loads(text, 0, NULL) : NULL;
	if (alt && (v == NULL || (json_is_array(v) && json_array_size(v) == 0))) {
		json_decref(v);
		v = alt[0] ? json_loads(alt, 0, NULL) : NULL;
	}
	if (v == NULL)
		lua_createtable(L, 0, 0);
	else
		push_json(L, v, 0);
	json_decref(v);
	(void)want_list;
	lua_setfield(L, -2, key);
}

/* attributes: the person's merged with the enrollment's ("{}" is the common case). */
static void
set_attributes(lua_State *L, const char *person, const char *member)
{
	int pe = person == NULL || strcmp(person, "{}") == 0;
	int me = member == NULL || strcmp(member, "{}") == 0;
	if (pe && me) {
		lua_createtable(L, 0, 0);
		lua_setfield(L, -2, "attributes");
		return;
	}
	json_t *attrs = pe ? NULL : json_loads(person, 0, NULL);
	json_t *eattrs = me ? NULL : json_loads(member, 0, NULL);
	if (!json_is_object(attrs)) {
		json_decref(attrs);
		attrs = json_object();
	}
	if (json_is_object(eattrs))
		json_object_update(attrs, eattrs);
	push_json(L, attrs, 0);
	lua_setfield(L, -2, "attributes");
	json_decref(attrs);
	json_decref(eattrs);
}

static void
set_str(lua_State *L, const char *key, const char *v)
{
	if (v && v[0]) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, key);
	}
}

void
shape_push_member(lua_State *L, const struct shape_person *p, const struct shape_enrollment *e)
{
	lua_createtable(L, 0, 20);
	set_str(L, "id", p->id);
	set_str(L, "name", p->name);
	set_str(L, "email", p->email);
	set_str(L, "title", p->title);
	set_str(L, "department", p->department);
	set_str(L, "team", p->team);
	set_str(L, "location", p->location);
	set_str(L, "timezone", p->timezone);
	set_str(L, "generation", p->generation);
	set_str(L, "role", e->role);
	if (p->level > 0) {
		lua_pushinteger(L, p->level);
		lua_setfield(L, -2, "level");
	}
	lua_pushinteger(L, e->capacity);
	lua_setfield(L, -2, "capacity");
	set_json_field(L, "languages", p->languages, NULL, 1);
	set_json_field(L, "skills", p->skills, NULL, 1);
	set_json_field(L, "topics_offered", e->topics_offered, p->skills, 1);
	set_json_field(L, "topics_wanted", e->topics_wanted, p->topics_wanted, 1);
	set_json_field(L, "availability", e->availability, NULL, 1);
	set_attributes(L, p->attributes, e->attributes);
}

void
shape_push_match(lua_State *L, const struct shape_match *m)
{
	/* stack: mentor, mentee */
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)m->id);
	lua_setfield(L, -2, "id");
	set_str(L, "program", m->program);
	set_str(L, "status", m->status);
	lua_pushnumber(L, m->score);
	lua_setfield(L, -2, "score");
	set_str(L, "created_at", m->created_at);
	lua_rotate(L, -3, 1); /* stack: match, mentor, mentee */
	lua_setfield(L, -3, "mentee");
	lua_setfield(L, -2, "mentor");
}

void
shape_push_pair(lua_State *L, const struct shape_pair *p)
{
	shape_push_match(L, p->match); /* stack: pair */
	set_str(L, "zone", p->zone);
	set_json_field(L, "topics", p->topics, NULL, 1);
	if (p->activated_at != NULL && p->activated_at[0]) {
		set_str(L, "activated_at", p->activated_at);
		lua_pushinteger(L, (lua_Integer)p->activated);
		lua_setfield(L, -2, "activated");
	}
	set_str(L, "starts_on", p->starts_on);
	set_str(L, "ends_on", p->ends_on);
	lua_pushinteger(L, p->duration_min);
	lua_setfield(L, -2, "duration_min");
}

void
shape_push_session(lua_State *L, const struct shape_session *s)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)s->id);
	lua_setfield(L, -2, "id");
	lua_pushinteger(L, (lua_Integer)s->start);
	lua_setfield(L, -2, "start");
	set_str(L, "starts_at", s->starts_at);
	lua_pushinteger(L, s->duration_min);
	lua_setfield(L, -2, "duration_min");
	set_str(L, "status", s->status);
	set_str(L, "topic", s->topic);
}

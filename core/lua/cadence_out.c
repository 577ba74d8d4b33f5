/*
 * lua/cadence_out: what a cadence's plan returned, read and checked. See
 * cadence_out.h for the accepted values.
 *
 * Every read is raw (lua_rawgeti, lua_rawget, lua_next), so a returned table
 * with a metatable is read as the plain data it holds. The first problem found
 * is reported, naming the entry (its 1-based position in the list) and field.
 */
#include "lua/cadence_out.h"

#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/plugin.h"
#include "time/cal.h"
#include "time/tz.h"

/* 9999-12-31T23:59:59Z: the last instant a stored timestamp can spell. */
#define TIME_MAX_EPOCH 253402300799LL

static int
is_utc(const char *zone)
{
	return zone == NULL || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

static int
num(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
bad_time(const char *s, const char *why, struct diag *d)
{
	return diag_set(d, DIAG_INVALID,
			"bad time '%.64s'%s%s (want epoch seconds, \"YYYY-MM-DDTHH:MM\" in the pair's "
			"zone, or the same with Z or +HH:MM)",
			s, why[0] ? ": " : "", why);
}

int
cadence_out_time(const char *s, const char *zone, int date_ok, int64_t *out, struct diag *d)
{
	size_t len = strlen(s);
	int y, mo, da, h = 0, mi = 0, se = 0;
	if (len < 10 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) || s[7] != '-' ||
	    num(s + 8, 2, &da))
		return bad_time(s, "", d);
	const char *p = s + 10;
	int has_clock = *p == 'T' || *p == ' ';
	if (!has_clock && *p != '\0')
		return bad_time(s, "", d);
	if (!has_clock && !date_ok)
		return bad_time(s, "a session's start needs a time of day", d);
	if (has_clock) {
		p++;
		if (num(p, 2, &h) || p[2] != ':' || num(p + 3, 2, &mi))
			return bad_time(s, "", d);
		p += 5;
		if (*p == ':') {
			if (num(p + 1, 2, &se))
				return bad_time(s, "", d);
			p += 3;
		}
	}
	if (y < 1970 || mo < 1 || mo > 12 || da < 1 || da > cal_days_in_month(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return bad_time(s, "no such date or time", d);
	struct cal_time w = {y, mo, da, h, mi, se};
	int64_t wall = cal_to_epoch(&w);
	if (*p == 'Z' && p[1] == '\0') {
		*out = wall;
		return 0;
	}
	if (*p == '+' || *p == '-') {
		int oh, om;
		const char *q = p + 1;
		if (num(q, 2, &oh))
			return bad_time(s, "", d);
		q += 2;
		if (*q == ':')
			q++;
		if (num(q, 2, &om) || q[2] != '\0' || oh > 23 || om > 59)
			return bad_time(s, "", d);
		int64_t off = (int64_t)oh * 3600 + om * 60;
		*out = *p == '+' ? wall - off : wall + off;
		return 0;
	}
	if (*p != '\0')
		return bad_time(s, "", d);
	if (is_utc(zone)) {
		*out = wall;
		return 0;
	}
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = da;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t;
	if (tz_local_to_utc(zone, &tm, &t, d) != 0)
		return -1;
	*out = t;
	return 0;
}

/* A TIME value at the top of the stack. 0 absent, 1 read, -1 error (diag: the field). */
static int
read_time(lua_State *L, const char *field, const char *zone, int date_ok, int64_t *out,
	  struct diag *d)
{
	int t = lua_type(L, -1);
	if (t == LUA_TNIL)
		return 0;
	if (t == LUA_TNUMBER) {
		lua_Number x = lua_tonumber(L, -1);
		if (!lua_isinteger(L, -1) && !isfinite(x))
			return diag_set(d, DIAG_INVALID,
					"field '%s' must be a time: whole epoch seconds (got %g: not a "
					"finite number)",
					field, x);
		if (!lua_isinteger(L, -1) && x != floor(x))
			return diag_set(d, DIAG_INVALID,
					"field '%s' must be a time: whole epoch seconds (got %.17g: "
					"fractional)",
					field, x);
		/* Compared as a number first: 1e18 is an integer value no int64 cast may hold. */
		if (lua_isinteger(L, -1) ? lua_tointeger(L, -1) > 0 &&
					       lua_tointeger(L, -1) <= TIME_MAX_EPOCH
					 : x > 0 && x <= (lua_Number)TIME_MAX_EPOCH) {
			*out = lua_isinteger(L, -1) ? (int64_t)lua_tointeger(L, -1) : (int64_t)x;
			return 1;
		}
		return diag_set(d, DIAG_INVALID,
				"field '%s' must be a time: epoch seconds from 1 (1970-01-01) to %lld "
				"(9999-12-31) (got %.17g: out of range)",
				field, (long long)TIME_MAX_EPOCH, x);
	}
	if (t != LUA_TSTRING)
		return diag_set(d, DIAG_INVALID,
				"field '%s' must be a time: epoch seconds or a string (got %s)", field,
				lua_typename(L, t));
	if (cadence_out_time(lua_tostring(L, -1), zone, date_ok, out, d) != 0)
		return diag_prefix(d, "field '%s'", field);
	return 1;
}

static const char *const session_fields[] = {"start", "duration", "topic", NULL};
static const char *const segment_fields[] = {"rule", "from", "until", NULL};

/* Every key of the entry at idx is one of names; else the error names the first other. */
static int
check_keys(lua_State *L, int idx, const char *const *names, const char *valid, struct diag *d)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"has a key that is not a field name (fields: %s)", valid);
		}
		const char *k = lua_tostring(L, -1);
		int known = 0;
		for (int i = 0; names[i] && !known; i++)
			known = strcmp(names[i], k) == 0;
		if (!known) {
			diag_set(d, DIAG_INVALID, "unknown field '%.64s' (fields: %s)", k, valid);
			lua_pop(L, 1);
			return -1;
		}
	}
	return 0;
}

static int
read_session(lua_State *L, int idx, const char *zone, struct cadence_entry *e, struct diag *d)
{
	if (check_keys(L, idx, session_fields, "start, duration, topic", d) != 0)
		return -1;
	lua_pushliteral(L, "start");
	lua_rawget(L, idx);
	int rc = read_time(L, "start", zone, 0, &e->start, d);
	lua_pop(L, 1);
	if (rc < 0)
		return -1;
	lua_pushliteral(L, "duration");
	int t = lua_rawget(L, idx);
	if (t != LUA_TNIL) {
		int ok = lua_isinteger(L, -1);
		lua_Integer v = ok ? lua_tointeger(L, -1) : 0;
		if (!ok || v < 1 || v > 1440) {
			char got[64];
			if (t == LUA_TNUMBER)
				snprintf(got, sizeof(got), "%.17g", lua_tonumber(L, -1));
			else
				snprintf(got, sizeof(got), "%s", lua_typename(L, t));
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"field 'duration' must be an integer number of minutes between 1 "
					"and 1440 (got %s)",
					got);
		}
		e->duration_min = (int)v;
	}
	lua_pop(L, 1);
	lua_pushliteral(L, "topic");
	t = lua_rawget(L, idx);
	if (t != LUA_TNIL) {
		size_t len = 0;
		const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (s == NULL || len == 0 || len >= CADENCE_TOPIC_MAX) {
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"field 'topic' must be a string of 1 to %d bytes (got %s)",
					CADENCE_TOPIC_MAX - 1,
					s == NULL ? lua_typename(L, t) : len ? "a longer one" : "\"\"");
		}
		memcpy(e->topic, s, len + 1);
	}
	lua_pop(L, 1);
	return 0;
}

static int
read_segment(lua_State *L, int idx, const char *zone, struct cadence_entry *e, struct diag *d)
{
	if (check_keys(L, idx, segment_fields, "rule, from, until", d) != 0)
		return -1;
	lua_pushliteral(L, "rule");
	int t = lua_rawget(L, idx);
	size_t len = 0;
	const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
	if (s == NULL || len >= CADENCE_RULE_MAX) {
		lua_pop(L, 1);
		return diag_set(d, DIAG_INVALID, "field 'rule' must be a string of at most %d bytes (got %s)",
				CADENCE_RULE_MAX - 1, s == NULL ? lua_typename(L, t) : "a longer one");
	}
	memcpy(e->rule, s, len + 1);
	lua_pop(L, 1);
	if (plugin_cadence_rule_check(e->rule, d) != 0)
		return -1;
	lua_pushliteral(L, "from");
	lua_rawget(L, idx);
	int rc = read_time(L, "from", zone, 1, &e->from, d);
	lua_pop(L, 1);
	if (rc == 0)
		return diag_set(d, DIAG_INVALID,
				"missing field 'from' (when the rule starts: a time or a date)");
	if (rc < 0)
		return -1;
	lua_pushliteral(L, "until");
	lua_rawget(L, idx);
	rc = read_time(L, "until", zone, 1, &e->until, d);
	lua_pop(L, 1);
	return rc < 0 ? -1 : 0;
}

/* The entry at idx (a table) into e; *what names it for messages. */
static int
read_entry(lua_State *L, int idx, const char *zone, struct cadence_entry *e, const char **what,
	   struct diag *d)
{
	*what = "entry";
	lua_pushliteral(L, "start");
	int has_start = lua_rawget(L, idx) != LUA_TNIL;
	lua_pushliteral(L, "rule");
	int has_rule = lua_rawget(L, idx) != LUA_TNIL;
	lua_pop(L, 2);
	if (has_start && has_rule)
		return diag_set(d, DIAG_INVALID,
				"has both 'start' (a session) and 'rule' (a rule segment)");
	if (!has_start && !has_rule)
		return diag_set(d, DIAG_INVALID,
				"needs a field 'start' (a session) or 'rule' (a rule segment)");
	e->kind = has_rule ? CADENCE_SEGMENT : CADENCE_SESSION;
	*what = has_rule ? "rule segment" : "session";
	return has_rule ? read_segment(L, idx, zone, e, d) : read_session(L, idx, zone, e, d);
}

int
cadence_out_read(lua_State *L, int idx, const char *zone, struct cadence_entry **out,
		 size_t *n, struct diag *d)
{
	idx = lua_absindex(L, idx);
	*out = NULL;
	*n = 0;
	if (lua_type(L, idx) != LUA_TTABLE)
		return diag_set(d, DIAG_INVALID,
				"plan must return a list of sessions and rule segments (got %s)",
				luaL_typename(L, idx));
	/* The list: keys 1..count and nothing else. */
	lua_Integer count = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"plan must return a list (a sequence 1..n), not a table with "
					"other keys");
		}
		count++;
	}
	if (count > CADENCE_OUT_MAX)
		return diag_set(d, DIAG_INVALID, "plan returned %lld entries; at most %d",
				(long long)count, CADENCE_OUT_MAX);
	if (count == 0)
		return 0;
	struct cadence_entry *v = calloc((size_t)count, sizeof(*v));
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory reading a plan");
	for (lua_Integer i = 1; i <= count; i++) {
		int t = lua_rawgeti(L, idx, i);
		int rc;
		if (t == LUA_TNIL) {
			rc = diag_set(d, DIAG_INVALID,
				      "plan must return a list (a sequence 1..n): entry %lld is missing",
				      (long long)i);
		} else if (t != LUA_TTABLE) {
			rc = diag_set(d, DIAG_INVALID,
				      "plan returned a bad entry %lld: a %s, not a table", (long long)i,
				      lua_typename(L, t));
		} else {
			const char *what;
			rc = read_entry(L, lua_gettop(L), zone, &v[i - 1], &what, d);
			if (rc != 0)
				diag_prefix(d, "plan returned a bad %s %lld", what, (long long)i);
		}
		lua_pop(L, 1);
		if (rc != 0) {
			free(v);
			return -1;
		}
	}
	*out = v;
	*n = (size_t)count;
	return 0;
}

int
cadence_out_check(lua_State *L, const char *hook, int idx, struct diag *d)
{
	if (strcmp(hook, "plan") != 0)
		return 0;
	struct cadence_entry *v;
	size_t n;
	if (cadence_out_read(L, idx, NULL, &v, &n, d) != 0)
		return -1;
	free(v);
	return 0;
}

/*
 * lua/jobdecl: the `job` kind's declaration (see jobdecl.h for the contract).
 *
 * Every read is raw (lua_rawget): the constructor hands over a plain copy, and the
 * host reads its data-only copy, so no metamethod can run.
 */
#include "lua/jobdecl.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua/plugin.h"
#include "time/rrule.h"
#include "time/tz.h"

const char *const jobdecl_fields[] = {"schedule", "run",    "timezone",	"misfire", "grace",
				      "overlap",  "jitter", "max_lateness", "needs",   NULL};

static const char *const misfire_names[] = {"once", "all", "skip"};
static const char *const needs_names[] = {"sessions", "matches"};

const char *
jobdecl_misfire_name(enum jobdecl_misfire m)
{
	return (unsigned)m < 3 ? misfire_names[m] : "?";
}

int
jobdecl_rule(const char *schedule, char *buf, size_t size)
{
	static const struct {
		char unit;
		const char *word;
	} units[] = {{'m', "minutes"}, {'h', "hours"}, {'d', "days"}};
	const char *p = schedule;
	if (strncmp(p, "every ", 6) == 0 && isdigit((unsigned char)p[6])) {
		p += 6;
		const char *num = p;
		while (isdigit((unsigned char)*p))
			p++;
		for (size_t i = 0; p - num <= 9 && i < sizeof(units) / sizeof(units[0]); i++)
			if (p[0] == units[i].unit && p[1] == '\0') {
				int n = snprintf(buf, size, "every %.*s %s", (int)(p - num), num,
						 units[i].word);
				return n >= 0 && (size_t)n < size ? 0 : -1;
			}
	}
	int n = snprintf(buf, size, "%s", schedule);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

int
jobdecl_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	if (*s == '\0')
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		int64_t v = 0;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > JOBDECL_MAX_DURATION_S)
				return -1;
		}
		int64_t unit;
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		total += v * unit;
		if (total > JOBDECL_MAX_DURATION_S)
			return -1;
	}
	*out = total;
	return 0;
}

/* The value of field `name` (raw) pushed; its type returned. stack: +1 */
static int
push_field(lua_State *L, int idx, const char *name)
{
	lua_pushstring(L, name);
	return lua_rawget(L, idx);
}

/* A duration field: absent (0, *out = dflt), valid (1), or -1 + diag. */
static int
duration_field(lua_State *L, int idx, const char *name, int64_t dflt, int64_t *out,
	       struct diag *d)
{
	int t = push_field(L, idx, name);
	int rc = 1;
	*out = dflt;
	if (t == LUA_TNIL) {
		rc = 0;
	} else if (t == LUA_TSTRING) {
		const char *s = lua_tostring(L, -1);
		if (jobdecl_duration(s, out) != 0)
			rc = diag_set(d, DIAG_INVALID,
				      "field '%s' must be a duration like \"90s\", \"15m\", \"1h30m\" "
				      "or \"2d\" (at most 366 days; got \"%.64s\")",
				      name, s);
	} else if (t == LUA_TNUMBER && lua_isinteger(L, -1)) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v < 0 || v > JOBDECL_MAX_DURATION_S)
			rc = diag_set(d, DIAG_INVALID,
				      "field '%s' must be between 0 and %d seconds (got %lld)", name,
				      JOBDECL_MAX_DURATION_S, (long long)v);
		else
			*out = v;
	} else {
		rc = diag_set(d, DIAG_INVALID,
			      "field '%s' must be a duration string like \"1h\" or an integer of "
			      "seconds (got %s)",
			      name, t == LUA_TNUMBER ? "a fractional number" : lua_typename(L, t));
	}
	lua_pop(L, 1);
	return rc;
}

static int
check_schedule(lua_State *L, int idx, char *buf, size_t size, struct diag *d)
{
	int rc = plugin_decl_field(L, idx, "schedule", LUA_TSTRING, 1, d);
	if (rc <= 0)
		return -1;
	push_field(L, idx, "schedule");
	const char *text = lua_tostring(L, -1);
	char rule[512];
	if (jobdecl_rule(text, rule, sizeof(rule)) != 0) {
		lua_pop(L, 1);
		return diag_set(d, DIAG_INVALID, "field 'schedule' is too long (at most %zu bytes)",
				sizeof(rule) - 1);
	}
	struct rrule *r = rrule_parse(rule, d);
	if (r == NULL) {
		lua_pop(L, 1);
		return diag_prefix(d, "field 'schedule'");
	}
	if (rrule_count(r) != 0) {
		rrule_delete(r);
		lua_pop(L, 1);
		return diag_set(d, DIAG_INVALID,
				"field 'schedule': COUNT is not supported for jobs (end the schedule "
				"with UNTIL)");
	}
	if (buf != NULL)
		snprintf(buf, size, "%s", text);
	rrule_delete(r);
	lua_pop(L, 1);
	return 0;
}

static int
check_timezone(lua_State *L, int idx, char *buf, size_t size, struct diag *d)
{
	int rc = plugin_decl_field(L, idx, "timezone", LUA_TSTRING, 0, d);
	if (rc <= 0)
		return rc;
	push_field(L, idx, "timezone");
	const char *z = lua_tostring(L, -1);
	rc = tz_check(z, d);
	if (rc == 0 && buf != NULL)
		snprintf(buf, size, "%s", z);
	lua_pop(L, 1);
	return rc < 0 ? diag_prefix(d, "field 'timezone'") : 0;
}

static int
check_misfire(lua_State *L, int idx, enum jobdecl_misfire *out, struct diag *d)
{
	*out = JOBDECL_ONCE;
	int rc = plugin_decl_field(L, idx, "misfire", LUA_TSTRING, 0, d);
	if (rc <= 0)
		return rc;
	push_field(L, idx, "misfire");
	const char *s = lua_tostring(L, -1);
	rc = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(s, misfire_names[i]) == 0) {
			*out = (enum jobdecl_misfire)i;
			rc = 0;
		}
	if (rc != 0)
		diag_set(d, DIAG_INVALID, "field 'misfire' must be \"once\", \"all\" or \"skip\" (got \"%.64s\")",
			 s);
	lua_pop(L, 1);
	return rc;
}

static int
check_needs(lua_State *L, int idx, unsigned *out, struct diag *d)
{
	*out = 0;
	int rc = plugin_decl_field(L, idx, "needs", LUA_TTABLE, 0, d);
	if (rc <= 0)
		return rc;
	push_field(L, idx, "needs");
	int t = lua_gettop(L);
	rc = 0;
	lua_Integer len = (lua_Integer)lua_rawlen(L, t);
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, t)) {
		int isint = 0;
		lua_Integer k = lua_tointegerx(L, -2, &isint);
		if (lua_type(L, -2) != LUA_TNUMBER || !isint || k < 1 || k > len) {
			rc = diag_set(d, DIAG_INVALID,
				      "field 'needs' must be a list like {\"sessions\", \"matches\"}");
		} else if (lua_type(L, -1) != LUA_TSTRING) {
			rc = diag_set(d, DIAG_INVALID, "field 'needs[%lld]' must be a string (got %s)",
				      (long long)k, luaL_typename(L, -1));
		} else {
			const char *s = lua_tostring(L, -1);
			int found = 0;
			for (unsigned i = 0; i < 2; i++)
				if (strcmp(s, needs_names[i]) == 0) {
					*out |= 1u << i;
					found = 1;
				}
			if (!found)
				rc = diag_set(d, DIAG_INVALID,
					      "field 'needs[%lld]': unknown snapshot \"%.64s\" (valid: "
					      "\"sessions\", \"matches\")",
					      (long long)k, s);
		}
		lua_pop(L, 1);
	}
	lua_settop(L, t - 1);
	return rc;
}

/* The checks shared by the validator and jobdecl_read; every one runs. */
static int
check_all(lua_State *L, int idx, struct jobdecl *j, struct diag *d)
{
	idx = lua_absindex(L, idx);
	struct diag all, one;
	diag_clear(&all);
	int n = 0;
	memset(j, 0, sizeof(*j));
	diag_clear(&one);
	if (check_schedule(L, idx, j->schedule, sizeof(j->schedule), &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (plugin_decl_field(L, idx, "run", LUA_TFUNCTION, 1, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (check_timezone(L, idx, j->timezone, sizeof(j->timezone), &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (check_misfire(L, idx, &j->misfire, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (duration_field(L, idx, "grace", JOBDECL_DEFAULT_GRACE_S, &j->grace_s, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (duration_field(L, idx, "jitter", 0, &j->jitter_s, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (duration_field(L, idx, "max_lateness", 0, &j->max_lateness_s, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	int rc = plugin_decl_field(L, idx, "overlap", LUA_TBOOLEAN, 0, &one);
	if (rc < 0) {
		plugin_decl_add_error(&all, &n, &one);
	} else if (rc == 1) {
		push_field(L, idx, "overlap");
		j->overlap = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	diag_clear(&one);
	if (check_needs(L, idx, &j->needs, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	if (n == 0)
		return 0;
	*d = all;
	return -1;
}

int
jobdecl_validate(lua_State *L, int idx, struct diag *d)
{
	struct jobdecl j;
	return check_all(L, idx, &j, d);
}

int
jobdecl_read(lua_State *L, int idx, struct jobdecl *out, struct diag *d)
{
	return check_all(L, idx, out, d);
}

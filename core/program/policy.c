/*
 * policy: policy declarations, building and solving the matching problem of a
 * cohort, explaining pairs. See policy.h for the contract and the pipeline.
 */
#include "program/policy.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/marshal.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "sys/worker.h"
#include "match/match.h"

static double
now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the declaration --------------------------------------------------------- */

static const char *const policy_fields[] = {
    "method",	"forbid",	 "require",	  "weights",	"score",
    "capacity", "prefer_mentor", "prefer_mentee", "candidates", NULL,
};

static const char *const hook_fields[] = {"score", "capacity", "prefer_mentor", "prefer_mentee"};

static int
parse_method(lua_State *L, int idx, struct policy *out, struct diag *d)
{
	int t = lua_getfield(L, idx, "method"); /* stack: decl ... method */
	int rc = 0;
	if (t == LUA_TNIL) {
		out->method = POLICY_OPTIMAL;
	} else if (t != LUA_TSTRING) {
		rc = diag_set(d, DIAG_INVALID, "field 'method' must be a string (got %s)",
			      lua_typename(L, t));
	} else if (strcmp(lua_tostring(L, -1), "optimal") == 0) {
		out->method = POLICY_OPTIMAL;
	} else if (strcmp(lua_tostring(L, -1), "stable") == 0) {
		out->method = POLICY_STABLE;
	} else {
		rc = diag_set(d, DIAG_INVALID,
			      "field 'method' must be \"optimal\" or \"stable\" (got \"%s\")",
			      lua_tostring(L, -1));
	}
	lua_pop(L, 1);
	return rc;
}

/*
 * Reads the optional table field `field` of the declaration at idx and calls
 * entry() for each of its pairs (key at -2, value at -1) until one fails.
 * Leaves the stack as it found it.
 */
static int
parse_table_field(lua_State *L, int idx, const char *field, struct policy *out, struct diag *d,
		  int (*entry)(lua_State *L, struct policy *out, struct diag *d))
{
	int t = lua_getfield(L, idx, field); /* stack: table */
	int rc = 0;
	if (t == LUA_TNIL)
		goto done;
	if (t != LUA_TTABLE) {
		rc = diag_set(d, DIAG_INVALID, "field '%s' must be a table (got %s)", field,
			      lua_typename(L, t));
		goto done;
	}
	lua_pushnil(L);			     /* stack: table, key */
	while (rc == 0 && lua_next(L, -2)) { /* stack: table, key, value */
		rc = entry(L, out, d);
		lua_pop(L, 1); /* stack: table, key */
	}
	if (rc != 0)
		lua_pop(L, 1); /* the key left by the interrupted traversal */
done:
	lua_pop(L, 1);
	return rc;
}

/* forbid = {"reporting_chain", ...}: an array of constraint names. */
static int
forbid_entry(lua_State *L, struct policy *out, struct diag *d)
{
	if (!lua_isinteger(L, -2))
		return diag_set(d, DIAG_INVALID,
				"field 'forbid' must be a list of constraint names (valid: %s)",
				feat_pred_names());
	if (lua_type(L, -1) != LUA_TSTRING)
		return diag_set(d, DIAG_INVALID, "field 'forbid'[%lld] must be a string (got %s)",
				(long long)lua_tointeger(L, -2), luaL_typename(L, -1));
	int p = feat_pred_lookup(lua_tostring(L, -1));
	if (p < 0)
		return diag_set(d, DIAG_INVALID,
				"field 'forbid': unknown constraint '%s' (valid: %s)",
				lua_tostring(L, -1), feat_pred_names());
	out->rules.forbid |= 1u << p;
	return 0;
}

/* "string", "nil", ... or, for a number that is not finite, "nan" / "inf" / "-inf". */
static const char *
value_kind(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		double x = lua_tonumber(L, idx);
		if (isnan(x))
			return "nan";
		if (isinf(x))
			return x > 0 ? "inf" : "-inf";
	}
	return luaL_typename(L, idx);
}

/* One require entry whose value is at the top: a range table {min =, max =}. */
static int
parse_range(lua_State *L, const char *name, int f, struct policy *out, struct diag *d)
{
	if (lua_type(L, -1) != LUA_TTABLE)
		return diag_set(d, DIAG_INVALID,
				"field 'require'.%s must be a table {min = N, max = N} (got %s)",
				name, luaL_typename(L, -1));
	double lim[2] = {-INFINITY, INFINITY};
	const char *keys[2] = {"min", "max"};
	int any = 0;
	for (int i = 0; i < 2; i++) {
		int t = lua_getfield(L, -1, keys[i]);
		if (t == LUA_TNUMBER && isfinite(lua_tonumber(L, -1))) {
			lim[i] = lua_tonumber(L, -1);
			any = 1;
		} else if (t != LUA_TNIL) {
			const char *what = value_kind(L, -1);
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"field 'require'.%s.%s must be a finite number (got %s)",
					name, keys[i], what);
		}
		lua_pop(L, 1);
	}
	/* Reject stray keys such as {minimum = 3}: they would silently do nothing. */
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (k == NULL || (strcmp(k, "min") != 0 && strcmp(k, "max") != 0)) {
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"field 'require'.%s: unknown key %s%s%s (valid: min, max)",
					name, k ? "'" : "", k ? k : "(not a string)", k ? "'" : "");
		}
	}
	if (!any)
		return diag_set(d, DIAG_INVALID, "field 'require'.%s needs min or max", name);
	if (lim[0] > lim[1])
		return diag_set(d, DIAG_INVALID, "field 'require'.%s: min %g is above max %g", name,
				lim[0], lim[1]);
	out->rules.range[f].on = 1;
	out->rules.range[f].min = lim[0];
	out->rules.range[f].max = lim[1];
	return 0;
}

/* require = {same_location = true, level_gap = {min = 3}, topic_fit = {min = 0.1}}. */
static int
require_entry(lua_State *L, struct policy *out, struct diag *d)
{
	if (lua_type(L, -2) != LUA_TSTRING)
		return diag_set(d, DIAG_INVALID,
				"field 'require' must map names to rules (got a %s key)",
				luaL_typename(L, -2));
	const char *name = lua_tostring(L, -2);
	int p = feat_pred_lookup(name), f = feat_lookup(name);
	if (p >= 0) {
		if (lua_type(L, -1) != LUA_TBOOLEAN)
			return diag_set(d, DIAG_INVALID,
					"field 'require'.%s must be true or false (got %s)", name,
					luaL_typename(L, -1));
		if (lua_toboolean(L, -1))
			out->rules.require |= 1u << p;
		return 0;
	}
	if (f >= 0)
		return parse_range(L, name, f, out, d);
	return diag_set(d, DIAG_INVALID,
			"field 'require': unknown name '%s' (constraints: %s; features: %s)", name,
			feat_pred_names(), feat_names());
}

/* weights = {topic_fit = 5, ...}: feature name -> finite number. */
static int
weight_entry(lua_State *L, struct policy *out, struct diag *d)
{
	const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
	int f = name ? feat_lookup(name) : -1;
	if (f < 0)
		return diag_set(d, DIAG_INVALID,
				"field 'weights': unknown feature '%s' (valid: %s)",
				name ? name : "(not a string)", feat_names());
	if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
		return diag_set(d, DIAG_INVALID,
				"field 'weights'.%s must be a finite number (got %s)", name,
				value_kind(L, -1));
	out->rules.weight[f] = lua_tonumber(L, -1);
	return 0;
}

static int
parse_candidates(lua_State *L, int idx, struct policy *out, struct diag *d)
{
	int t = lua_getfield(L, idx, "candidates");
	int rc = 0;
	if (t != LUA_TNIL) {
		lua_Integer k = lua_tointeger(L, -1);
		if (!lua_isinteger(L, -1) || k < 1 || k > 100000)
			rc = diag_set(d, DIAG_INVALID,
				      "field 'candidates' must be an integer in 1..100000 (got %s)",
				      lua_isinteger(L, -1) ? lua_tostring(L, -1)
							   : lua_typename(L, t));
		else
			out->candidates = (int)k;
	}
	lua_pop(L, 1);
	return rc;
}

/* Reads the declaration at idx into out (zeroed by the caller). */
static int
parse_decl(lua_State *L, int idx, struct policy *out, struct diag *d)
{
	idx = lua_absindex(L, idx);
	int has[4];
	for (int i = 0; i < 4; i++) {
		has[i] = plugin_decl_field(L, idx, hook_fields[i], LUA_TFUNCTION, 0, d);
		if (has[i] < 0)
			return -1;
	}
	if (parse_method(L, idx, out, d) < 0 ||
	    parse_table_field(L, idx, "forbid", out, d, forbid_entry) < 0 ||
	    parse_table_field(L, idx, "require", out, d, require_entry) < 0 ||
	    parse_table_field(L, idx, "weights", out, d, weight_entry) < 0 ||
	    parse_candidates(L, idx, out, d) < 0)
		return -1;
	out->has_score = has[0];
	out->has_capacity = has[1];
	out->has_prefer_mentor = has[2];
	out->has_prefer_mentee = has[3];
	if (out->method != POLICY_STABLE && (has[2] || has[3]))
		return diag_set(d, DIAG_INVALID, "field '%s' only applies to method = \"stable\"",
				has[2] ? "prefer_mentor" : "prefer_mentee");
	return 0;
}

static int
validate_policy(lua_State *L, int idx, struct diag *d)
{
	struct policy scratch;
	memset(&scratch, 0, sizeof(scratch));
	return parse_decl(L, idx, &scratch, d);
}

int
policy_register(struct diag *d)
{
	static int done;
	if (done)
		return 0;
	if (plugin_kind_set_validator("policy", policy_fields, validate_policy, d) < 0)
		return -1;
	done = 1;
	return 0;
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct policy *
policy_from_plugin(struct plugin *p, struct diag *d)
{
	if (plugin_kind(p) != PLUGIN_POLICY) {
		diag_set(d, DIAG_INVALID, "%s: declares a %s, expected a policy", plugin_path(p),
			 plugin_kind_name(plugin_kind(p)));
		return NULL;
	}
	struct policy *pol = calloc(1, sizeof(*pol));
	if (pol == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	lua_State *L = plugin_state(p);
	plugin_push_decl(p); /* stack: decl */
	int rc = parse_decl(L, -1, pol, d);
	lua_pop(L, 1);
	if (rc < 0) {
		diag_prefix(d, "%s", plugin_path(p));
		free(pol);
		return NULL;
	}
	pol->name = dup_or_empty(plugin_name(p));
	pol->version = dup_or_empty(plugin_version(p));
	pol->description = dup_or_empty(plugin_description(p));
	pol->path = dup_or_empty(plugin_path(p));
	pol->plugin = p;
	return pol;
}

struct policy *
policy_open(const char *ws, const char *ref, struct diag *d)
{
	if (policy_register(d) < 0)
		return NULL;
	struct plugin *p = plugin_open(ws, PLUGIN_POLICY, ref, NULL, d);
	if (p == NULL)
		return NULL;
	struct policy *pol = policy_from_plugin(p, d);
	if (pol == NULL)
		plugin_delete(p);
	return pol;
}

void
policy_delete(struct policy *pol)
{
	if (pol == NULL)
		return;
	plugin_delete(pol->plugin);
	free(pol->name);
	free(pol->version);
	free(pol->description);
	free(pol->path);
	free(pol);
}

/* ---- the cohort ---------------------------------------------------------------- */

void
policy_cohort_init(struct policy_cohort *c)
{
	memset(c, 0, sizeof(*c));
}

static void
person_fini(struct policy_person *p)
{
	char **s[] = {&p->external_id, &p->name,      &p->email,    &p->title,
		      &p->department,  &p->team,      &p->location, &p->timezone,
		      &p->generation,  &p->languages, &p->skills,   &p->topics_wanted,
		      &p->attributes};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
}

static void
member_fini(struct policy_member *m)
{
	free(m->role);
	free(m->topics_offered);
	free(m->topics_wanted);
	free(m->availability);
	free(m->attributes);
}

void
policy_cohort_fini(struct policy_cohort *c)
{
	for (int i = 0; i < c->npeople; i++)
		person_fini(&c->people[i]);
	for (int i = 0; i < c->nmentors; i++)
		member_fini(&c->mentors[i]);
	for (int i = 0; i < c->nmentees; i++)
		member_fini(&c->mentees[i]);
	free(c->people);
	free(c->mentors);
	free(c->mentees);
	free(c->kept);
	free(c->history);
	free(c->vetoes);
	free(c->program);
	feat_snapshot_delete(c->snap);
	memset(c, 0, sizeof(*c));
}

static void *
push_slot(void **arr, int *n, int *cap, size_t elem)
{
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 64;
		void *q = realloc(*arr, (size_t)nc * elem);
		if (q == NULL)
			return NULL;
		*arr = q;
		*cap = nc;
	}
	void *slot = (char *)*arr + (size_t)(*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

struct policy_person *
policy_cohort_add_person(struct policy_cohort *c)
{
	struct policy_person *p =
	    push_slot((void **)&c->people, &c->npeople, &c->cappeople, sizeof(*p));
	if (p)
		p->manager = -1;
	return p;
}

struct policy_member *
policy_cohort_add_member(struct policy_cohort *c, int mentor)
{
	if (mentor)
		return push_slot((void **)&c->mentors, &c->nmentors, &c->capmentors,
				 sizeof(struct policy_member));
	return push_slot((void **)&c->mentees, &c->nmentees, &c->capmentees,
			 sizeof(struct policy_member));
}

int
policy_cohort_add_kept(struct policy_cohort *c, int mentor, int mentee, int64_t match_id,
		       int pinned)
{
	struct policy_kept *k = push_slot((void **)&c->kept, &c->nkept, &c->capkept, sizeof(*k));
	if (k == NULL)
		return -1;
	*k = (struct policy_kept){mentor, mentee, match_id, pinned};
	return 0;
}

int
policy_cohort_add_history(struct policy_cohort *c, int a, int b)
{
	int *h = push_slot((void **)&c->history, &c->nhistory, &c->caphistory, sizeof(int[2]));
	if (h == NULL)
		return -1;
	h[0] = a;
	h[1] = b;
	return 0;
}

int
policy_cohort_add_veto(struct policy_cohort *c, int mentor_person, int mentee_person)
{
	int *v = push_slot((void **)&c->vetoes, &c->nvetoes, &c->capvetoes, sizeof(int[2]));
	if (v == NULL)
		return -1;
	v[0] = mentor_person;
	v[1] = mentee_person;
	return 0;
}

/* A JSON array of strings, parsed; the pointers live as long as *hold. */
struct strlist {
	json_t *hold;
	const char **v;
	int n;
};

static int
strlist_parse(const char *text, const char *what, struct strlist *l, struct diag *d)
{
	memset(l, 0, sizeof(*l));
	if (text == NULL || text[0] == '\0')
		return 0;
	json_error_t err;
	l->hold = json_loads(text, 0, &err);
	if (l->hold == NULL || !json_is_array(l->hold)) {
		json_decref(l->hold);
		l->hold = NULL;
		return diag_set(d, DIAG_INVALID, "%s is not a JSON list: %s", what, text);
	}
	size_t n = json_array_size(l->hold);
	l->v = calloc(n ? n : 1, sizeof(char *));
	if (l->v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(l->hold, i);
		if (json_is_string(e))
			l->v[l->n++] = json_string_value(e);
	}
	return 0;
}

static void
strlist_fini(struct strlist *l)
{
	json_decref(l->hold);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The list of the member if non-empty, else the person's fallback (skills, topics_wanted). */
static int
member_list(const char *own, const char *fallback, const char *what, struct strlist *l,
	    struct diag *d)
{
	if (strlist_parse(own, what, l, d) < 0)
		return -1;
	if (l->n > 0 || fallback == NULL)
		return 0;
	strlist_fini(l);
	return strlist_parse(fallback, what, l, d);
}

static int
add_side(struct policy_cohort *c, int mentor, struct diag *d)
{
	int n = mentor ? c->nmentors : c->nmentees;
	for (int i = 0; i < n; i++) {
		struct policy_member *m = mentor ? &c->mentors[i] : &c->mentees[i];
		struct policy_person *p = &c->people[m->person];
		struct strlist topics, slots;
		if (member_list(mentor ? m->topics_offered : m->topics_wanted,
				mentor ? p->skills : p->topics_wanted, "topics", &topics, d) < 0)
			return -1;
		if (strlist_parse(m->availability, "availability", &slots, d) < 0) {
			strlist_fini(&topics);
			return -1;
		}
		int rc = mentor ? feat_add_mentor(c->snap, m->person, m->capacity, topics.v,
						  topics.n, slots.v, slots.n, d)
				: feat_add_mentee(c->snap, m->person, topics.v, topics.n, slots.v,
						  slots.n, d);
		strlist_fini(&topics);
		strlist_fini(&slots);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
policy_cohort_finish(struct policy_cohort *c, struct diag *d)
{
	static uint64_t next_id;
	c->id = ++next_id;
	feat_snapshot_delete(c->snap);
	c->snap = feat_snapshot_new();
	if (c->snap == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < c->npeople; i++) {
		struct policy_person *p = &c->people[i];
		struct strlist langs;
		if (strlist_parse(p->languages, "languages", &langs, d) < 0)
			return diag_prefix(d, "person %s", p->external_id);
		struct feat_person_in in = {
		    .id = p->id,
		    .level = p->level,
		    .generation = p->generation,
		    .department = p->department,
		    .team = p->team,
		    .location = p->location,
		    .tz_known = p->tz_known,
		    .tz_offset_min = p->tz_offset_min,
		    .languages = langs.v,
		    .nlanguages = langs.n,
		};
		int rc = feat_add_person(c->snap, &in, d);
		strlist_fini(&langs);
		if (rc < 0)
			return -1;
	}
	for (int i = 0; i < c->npeople; i++)
		if (c->people[i].manager >= 0 &&
		    feat_set_manager(c->snap, i, c->people[i].manager, d) < 0)
			return -1;
	if (add_side(c, 1, d) < 0 || add_side(c, 0, d) < 0)
		return -1;
	for (int i = 0; i < c->nhistory; i++)
		if (feat_add_history(c->snap, c->history[i][0], c->history[i][1], d) < 0)
			return -1;
	for (int i = 0; i < c->nvetoes; i++)
		if (feat_add_veto(c->snap, c->vetoes[i][0], c->vetoes[i][1], d) < 0)
			return -1;
	return feat_snapshot_finish(c->snap, d);
}

int
policy_cohort_mentor_of(const struct policy_cohort *c, int person)
{
	for (int i = 0; i < c->nmentors; i++)
		if (c->mentors[i].person == person)
			return i;
	return -1;
}

int
policy_cohort_mentee_of(const struct policy_cohort *c, int person)
{
	for (int i = 0; i < c->nmentees; i++)
		if (c->mentees[i].person == person)
			return i;
	return -1;
}

/* ---- Lua side: person tables, hooks over many pairs -------------------------- */

static void push_json(lua_State *L, json_t *v, int depth);

static void
push_json(lua_State *L, json_t *v, int depth)
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
		json_object_foreach(v, k, e)
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

/*
 * The table a hook sees for one side member: the person's columns plus the
 * enrollment's. attributes merge the person's and the enrollment's (the
 * enrollment wins). stack: +1
 */
static void
push_member(lua_State *L, const struct policy_cohort *c, const struct policy_member *m, int mentor)
{
	const struct policy_person *p = &c->people[m->person];
	lua_createtable(L, 0, 20);
	set_str(L, "id", p->external_id);
	set_str(L, "name", p->name);
	set_str(L, "email", p->email);
	set_str(L, "title", p->title);
	set_str(L, "department", p->department);
	set_str(L, "team", p->team);
	set_str(L, "location", p->location);
	set_str(L, "timezone", p->timezone);
	set_str(L, "generation", p->generation);
	set_str(L, "role", m->role);
	if (p->level > 0) {
		lua_pushinteger(L, p->level);
		lua_setfield(L, -2, "level");
	}
	lua_pushinteger(L, m->capacity);
	lua_setfield(L, -2, "capacity");
	set_json_field(L, "languages", p->languages, NULL, 1);
	set_json_field(L, "skills", p->skills, NULL, 1);
	set_json_field(L, "topics_offered", m->topics_offered, p->skills, 1);
	set_json_field(L, "topics_wanted", m->topics_wanted, p->topics_wanted, 1);
	set_json_field(L, "availability", m->availability, NULL, 1);
	set_attributes(L, p->attributes, m->attributes);
}

enum job_hook { JOB_SCORE, JOB_CAPACITY, JOB_PREFER_MENTOR, JOB_PREFER_MENTEE, JOB_NHOOKS };

static const char *const job_hook_names[JOB_NHOOKS] = {"score", "capacity", "prefer_mentor",
						       "prefer_mentee"};

static const char *
job_hook_names_get(int h)
{
	return h >= 0 && h < JOB_NHOOKS ? job_hook_names[h] : "?";
}

/*
 * Lua scoring runs in the policy plugin's long-lived worker (lua/plugin's
 * plugin_exec), never in the host. The host sends batches of pairs; the worker
 * calls the hook for each and sends the results back. Per cohort, the person
 * tables cross once (marshalled data, kept in the worker's registry under the
 * cohort's id); a batch that names a cohort the worker does not hold (a fresh
 * or restarted worker) is answered "send the cohort first".
 *
 * Only the features the hook reads are computed and sent: a batch carries the
 * features of `mask` for each pair; when the hook reads another one, the worker
 * stops that call (a raising count hook, so pcall cannot swallow it) and answers
 * SCORE_NEED with the results so far; the host adds the feature to the mask and
 * sends the rest again, that call included (hooks are pure: calling one twice
 * gives the same value).
 *
 * Request (op_score):  struct score_req, then npairs x (i32 mentor, i32 mentee),
 *                      then for pair hooks npairs x popcount(mask) doubles.
 * Request (op_cohort): u64 cohort id, then the marshalled {mentors, mentees}.
 * Reply (op_score):    u64 status, u64 need (features wanted, SCORE_NEED), u64
 *                      done (calls completed), then done doubles.
 * Operation inputs start 8-byte aligned (lua/plugin pads the request), so the
 * pairs and doubles are read in place.
 */
struct score_req {
	uint64_t cohort;
	int32_t hook;        /* enum job_hook */
	int32_t per_call_ms; /* the plugin's per-call deadline, for the watchdog */
	uint32_t npairs;
	uint32_t mask;       /* the features sent with each pair (bit f; FEAT_COUNT: builtin) */
};

/* Reply statuses of op_score. */
enum { SCORE_DONE, SCORE_NO_COHORT, SCORE_NEED };

/* Pairs per request: big enough that the per-message cost vanishes, small
 * enough for a few MiB per message. */
enum { SCORE_BATCH = 16384 };

/* ---- in the worker ----------------------------------------------------------------- */

/*
 * The per-call deadline. A batch runs with no count hook (at the speed of a bare
 * lua_call), so the worker runs a watchdog: SIGALRM every WATCH_TICK_MS checks
 * that the call counter moved. This timer and its handler exist only in the
 * worker process, during a batch; the host never uses a signal. A call stuck for
 * the plugin's deadline_ms gets a count hook (lua_sethook is safe in a signal
 * handler) that raises "per-call deadline" at the running Lua line, at every
 * instruction, so pcall cannot swallow it; one stuck inside a C function (a
 * pathological pattern) for another WATCH_KILL_GRACE_MS is killed, and the
 * worker's notes page tells the host which pair it was.
 */
enum { WATCH_TICK_MS = 100, WATCH_KILL_GRACE_MS = 300 };

struct watch_report {
	int stuck; /* 1: hooked, 2: killed */
	int hook;
	int mentor, mentee;
};

/* The watchdog's state: one batch at a time, in the worker process only. */
static struct {
	volatile sig_atomic_t on;
	volatile long progress;
	long seen;
	int stuck_ms, limit_ms, hook;
	lua_State *L;
	struct watch_report *report;
	volatile int cur_mentor, cur_mentee;
} watch;

static void
watch_lua_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	/* Level 0 is the Lua function running when the hook fired: its line is the culprit. */
	luaL_where(L, 0);
	lua_pushfstring(L, "one call ran longer than the per-call deadline of %d ms",
			watch.limit_ms);
	lua_concat(L, 2);
	lua_error(L);
}

static void
watch_tick(int sig)
{
	(void)sig;
	if (!watch.on)
		return;
	if (watch.progress != watch.seen) {
		watch.seen = watch.progress;
		watch.stuck_ms = 0;
		return;
	}
	watch.stuck_ms += WATCH_TICK_MS;
	struct watch_report *r = watch.report;
	if (watch.stuck_ms >= watch.limit_ms && r->stuck == 0) {
		r->stuck = 1;
		r->hook = watch.hook;
		r->mentor = watch.cur_mentor;
		r->mentee = watch.cur_mentee;
		lua_sethook(watch.L, watch_lua_hook, LUA_MASKCOUNT, 1);
	} else if (watch.stuck_ms >= watch.limit_ms + WATCH_KILL_GRACE_MS) {
		r->stuck = 2;
		raise(SIGKILL);
	}
}

static void
watch_start(lua_State *L, int hook, int limit_ms, struct sigaction *old_sa,
	    struct itimerval *old_it)
{
	memset((void *)&watch, 0, sizeof(watch));
	watch.L = L;
	watch.hook = hook;
	watch.report = worker_child_notes();
	memset(watch.report, 0, sizeof(*watch.report));
	watch.limit_ms = limit_ms > 0 ? limit_ms : PLUGIN_DEFAULT_DEADLINE_MS;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, old_sa);
	struct itimerval it = {{0, WATCH_TICK_MS * 1000}, {0, WATCH_TICK_MS * 1000}};
	setitimer(ITIMER_REAL, &it, old_it);
	watch.on = 1;
}

static void
watch_stop(const struct sigaction *old_sa, const struct itimerval *old_it)
{
	watch.on = 0;
	setitimer(ITIMER_REAL, old_it, NULL);
	sigaction(SIGALRM, old_sa, NULL);
}

/* Registry field of the cohort the worker holds: {id = ..., mentors = {}, mentees = {}}
 * (a string key, so that tests/bench can run a bare loop on the same tables). */
#define COHORT_KEY "tandem.cohort"

/* op_cohort: decodes the person tables and keeps them for the batches. */
static int
op_cohort(struct plugin *live, const char *hook, const char *in, size_t n,
	  struct buf *out, struct diag *d)
{
	(void)hook;
	(void)out;
	lua_State *L = plugin_state(live);
	uint64_t id;
	if (n < sizeof(id))
		return diag_set(d, DIAG_INTERNAL, "malformed cohort request");
	memcpy(&id, in, sizeof(id));
	if (marshal_push(L, in + sizeof(id), n - sizeof(id), NULL, NULL, d) != 0)
		return -1;
	/* stack: {mentors, mentees}; the id rides along as a string key */
	lua_pushlstring(L, (const char *)&id, sizeof(id));
	lua_setfield(L, -2, "id");
	lua_setfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	return 0;
}

/* One batch's work in the worker. */
struct batch {
	const struct score_req *rq;
	const int32_t *pairs; /* mentor, mentee */
	const double *feats;  /* stride doubles per pair, or NULL */
	int stride;
	int slot[FEAT_COUNT + 1]; /* position of feature f in a pair's doubles, or -1 */
	double *out;
	int64_t k;            /* the pair being scored */
	unsigned hot;         /* features the hook has read: kept in the table */
	unsigned need;        /* features read but not sent: the batch stops */
	const char *keyptr[FEAT_COUNT + 1]; /* interned names, alive on the stack */
};

/* Raises at every instruction once a feature was missing, until out of the call. */
static void
need_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	luaL_error(L, "a feature was not sent");
}

/* The value of feature f for the current pair; stops the call if it was not sent. */
static double
feature(lua_State *L, struct batch *b, int f)
{
	if (b->slot[f] < 0) {
		b->need |= 1u << f;
		lua_sethook(L, need_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "a feature was not sent");
	}
	return b->feats[b->k * b->stride + b->slot[f]];
}

/*
 * Raises "FILE:LINE: HOOK must return WANT (got ...)" for the value at the top,
 * LINE being where the hook function (stack index 1 in the batch bodies) is
 * defined: the call that returned is over, so that line is the useful one.
 */
static void
bad_return(lua_State *L, const char *hook, const char *want)
{
	char got[96];
	int t = lua_type(L, -1);
	if (t == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))
		snprintf(got, sizeof(got), "nan");
	else if (t == LUA_TNUMBER)
		snprintf(got, sizeof(got), "%.17g", lua_tonumber(L, -1));
	else if (t == LUA_TSTRING)
		snprintf(got, sizeof(got), "the string \"%.60s\"", lua_tostring(L, -1));
	else
		snprintf(got, sizeof(got), "%s", lua_typename(L, t));
	lua_Debug ar;
	lua_pushvalue(L, 1);
	if (lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar) && ar.linedefined > 0) {
		lua_pushfstring(L, "%s:%d: %s must return %s (got %s)", ar.short_src,
				ar.linedefined, hook, want, got);
		lua_error(L);
	}
	luaL_error(L, "%s must return %s (got %s)", hook, want, got);
}

static double
check_number(lua_State *L, const char *hook)
{
	/* Numbers only: a string such as "1.5" would be converted silently, and a
	 * hook that returns strings is a bug worth reporting. */
	if (lua_type(L, -1) == LUA_TNUMBER) {
		double x = lua_tonumber(L, -1);
		if (isfinite(x))
			return x;
	}
	bad_return(L, hook, "a finite number");
	return 0;
}

/* Stack slots used by run_pairs. */
enum { S_HOOK = 1, S_UD, S_MENTORS, S_MENTEES, S_FEATURES, S_KEYS };

/*
 * The features argument. Writing nine fields of a table before every call
 * costs more than a typical score hook, and most hooks read one or two. So the
 * table starts empty, with an __index that reads the current pair's value from
 * the request; a feature read once becomes "hot" and from the next pair on is
 * written into the table before each call (one rawset, cheaper than the
 * metamethod). Absent keys stay read-only (__newindex raises); hot ones are
 * rewritten before every call anyway, so an assignment never leaks to the next
 * pair. Keys are compared by address: Lua interns short strings, and the batch
 * holds the interned names (b->keyptr) on the stack for the whole batch.
 */
static int
features_index(lua_State *L)
{
	struct batch *b = lua_touserdata(L, lua_upvalueindex(1));
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
	for (int f = 0; k && f <= FEAT_COUNT; f++)
		if (k == b->keyptr[f]) {
			double v = feature(L, b, f);
			/* From now on a plain field: set it for this call too. */
			b->hot |= 1u << f;
			lua_pushvalue(L, 2);
			lua_pushnumber(L, v);
			lua_rawset(L, 1);
			lua_pushnumber(L, v);
			return 1;
		}
	lua_pushnil(L);
	return 1;
}

static int
features_newindex(lua_State *L)
{
	return luaL_error(L, "the features table is read-only");
}

/* A __pairs for the view, so that `for k, v in pairs(f)` lists the features. */
static int
features_next(lua_State *L)
{
	struct batch *b = lua_touserdata(L, lua_upvalueindex(1));
	int f = 0;
	if (!lua_isnil(L, 2)) {
		const char *k = lua_tostring(L, 2);
		while (f <= FEAT_COUNT && k != b->keyptr[f])
			f++;
		f++;
	}
	if (f > FEAT_COUNT)
		return 0;
	double v = feature(L, b, f);
	lua_pushstring(L, b->keyptr[f]);
	lua_pushnumber(L, v);
	return 2;
}

static int
features_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, features_next, 1);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* Pushes the features view bound to batch b. stack: +1 */
static void
push_features(lua_State *L, struct batch *b)
{
	lua_createtable(L, 0, 0);
	lua_createtable(L, 0, 4); /* its metatable */
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, features_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, features_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, features_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "locked");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
}

/* Pushes cohort[field] (the mentors or mentees array). */
static void
push_side(lua_State *L, const char *field)
{
	lua_getfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	lua_pushstring(L, field);
	lua_rawget(L, -2);
	lua_remove(L, -2);
}

/* plugin_run body for the pair hooks (score, prefer_*). */
static int
run_pairs(lua_State *L)
{
	struct batch *b = lua_touserdata(L, S_UD);
	const char *hook = job_hook_names[b->rq->hook];
	luaL_checkstack(L, S_KEYS + FEAT_COUNT + 8, "pair loop");
	push_side(L, "mentors"); /* S_MENTORS */
	push_side(L, "mentees"); /* S_MENTEES */
	b->hot = 0;
	push_features(L, b);		      /* S_FEATURES */
	for (int f = 0; f <= FEAT_COUNT; f++) /* S_KEYS...: the names, kept alive */
		b->keyptr[f] = lua_pushstring(L, f < FEAT_COUNT ? feat_name(f) : "builtin");
	int64_t n = b->rq->npairs;
	for (int64_t k = 0; k < n; k++) {
		b->k = k;
		if (b->hot) {
			const double *cur = b->feats + k * b->stride;
			for (int f = 0; f <= FEAT_COUNT; f++) {
				if (!(b->hot & (1u << f)))
					continue;
				lua_pushvalue(L, S_KEYS + f);
				lua_pushnumber(L, cur[b->slot[f]]);
				lua_rawset(L, S_FEATURES);
			}
		}
		/* stack: ..., hook, mentor, mentee, features */
		lua_pushvalue(L, S_HOOK);
		lua_rawgeti(L, S_MENTORS, b->pairs[2 * k] + 1);
		lua_rawgeti(L, S_MENTEES, b->pairs[2 * k + 1] + 1);
		lua_pushvalue(L, S_FEATURES);
		watch.cur_mentor = b->pairs[2 * k];
		watch.cur_mentee = b->pairs[2 * k + 1];
		lua_call(L, 3, 1);
		watch.progress++;
		b->out[k] = check_number(L, hook);
		lua_pop(L, 1);
	}
	return 0;
}

/* plugin_run body for capacity(mentor): a non-negative integer per mentor. */
static int
run_capacity(lua_State *L)
{
	struct batch *b = lua_touserdata(L, S_UD);
	push_side(L, "mentors"); /* stack: hook, ud, mentors */
	for (int64_t k = 0; k < b->rq->npairs; k++) {
		int c = b->pairs[2 * k];
		lua_pushvalue(L, S_HOOK);
		lua_rawgeti(L, 3, c + 1);
		watch.cur_mentor = c;
		watch.cur_mentee = -1;
		lua_call(L, 1, 1);
		watch.progress++;
		int isint = 0;
		lua_Integer v = 0;
		if (lua_type(L, -1) == LUA_TNUMBER) /* not "2": strings are a bug */
			v = lua_tointegerx(L, -1, &isint);
		if (!isint || v < 0 || v > 1000000)
			bad_return(L, "capacity", "an integer in 0..1000000");
		b->out[k] = (double)v;
		lua_pop(L, 1);
	}
	return 0;
}

/* op_score: one batch of calls of one hook. */
static int
op_score(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	 struct diag *d)
{
	lua_State *L = plugin_state(live);
	struct score_req rq;
	if (n < sizeof(rq))
		return diag_set(d, DIAG_INTERNAL, "malformed score request");
	memcpy(&rq, in, sizeof(rq));
	int pair_hook = rq.hook != JOB_CAPACITY;
	struct batch b = {.rq = &rq};
	for (int f = 0; f <= FEAT_COUNT; f++)
		b.slot[f] = pair_hook && (rq.mask & (1u << f)) ? b.stride++ : -1;
	size_t want = sizeof(rq) + (size_t)rq.npairs * 2 * sizeof(int32_t) +
		      (size_t)rq.npairs * (size_t)b.stride * sizeof(double);
	if (rq.hook < 0 || rq.hook >= JOB_NHOOKS || n != want)
		return diag_set(d, DIAG_INTERNAL, "malformed score request");
	/* Is this cohort the one held here? */
	lua_getfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	uint64_t held = 0;
	if (lua_type(L, -1) == LUA_TTABLE) {
		lua_pushliteral(L, "id");
		lua_rawget(L, -2);
		if (lua_rawlen(L, -1) == sizeof(held))
			memcpy(&held, lua_tostring(L, -1), sizeof(held));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	uint64_t head[3] = {held == rq.cohort && held != 0 ? SCORE_DONE : SCORE_NO_COHORT, 0, 0};
	if (head[0] != SCORE_DONE)
		return buf_append(out, head, sizeof(head), d);
	size_t at = out->len;
	if (buf_reserve(out, sizeof(head) + (size_t)rq.npairs * sizeof(double), d) != 0)
		return -1;
	b.pairs = (const int32_t *)(in + sizeof(rq)); /* inputs start 8-byte aligned */
	b.feats = (const double *)(in + sizeof(rq) + (size_t)rq.npairs * 2 * sizeof(int32_t));
	b.out = (double *)(out->data + at + sizeof(head)); /* the results, in place */
	lua_CFunction body = pair_hook ? run_pairs : run_capacity;
	int rc;
	if (!worker_in_child()) { /* in-process mode: no watchdog, the in-Lua budgets */
		rc = plugin_run(live, hook, body, &b, rq.npairs ? rq.npairs : 1, d);
	} else {
		struct sigaction old_sa;
		struct itimerval old_it;
		watch_start(L, rq.hook, rq.per_call_ms, &old_sa, &old_it);
		rc = plugin_run_watched(live, hook, body, &b, d);
		watch_stop(&old_sa, &old_it);
	}
	if (rc != 0 && b.need == 0)
		return -1;
	/* Done, or stopped at pair b.k for a feature that was not sent. */
	head[0] = rc == 0 ? SCORE_DONE : SCORE_NEED;
	head[1] = b.need;
	head[2] = rc == 0 ? rq.npairs : (uint64_t)b.k;
	memcpy(out->data + at, head, sizeof(head));
	out->len = at + sizeof(head) + (size_t)head[2] * sizeof(double);
	out->data[out->len] = '\0'; /* base/buf's invariant (the room was reserved) */
	return 0;
}

/* ---- in the host ------------------------------------------------------------------- */

/*
 * One hook run over many pairs. Pairs are either every allowed cell of a dense
 * nr x nc mask (mask != NULL; out index = rank of the cell among the allowed
 * ones, row-major) or an explicit list (rows/cols; out index k).
 */
struct lua_job {
	struct policy *pol;
	const struct policy_cohort *c;
	const uint8_t *mask;
	int nr, nc;
	const int *rows, *cols;
	int64_t npairs;
	double *out[JOB_NHOOKS]; /* NULL = not wanted; capacity: nc doubles */
};

/* pcall body: {mentors = {...}, mentees = {...}} of the cohort. stack: 1 job */
static int
build_tables_body(lua_State *L)
{
	struct lua_job *j = lua_touserdata(L, 1);
	lua_createtable(L, 0, 2);
	lua_createtable(L, j->c->nmentors, 0);
	for (int i = 0; i < j->c->nmentors; i++) {
		push_member(L, j->c, &j->c->mentors[i], 1);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "mentors");
	lua_createtable(L, j->c->nmentees, 0);
	for (int i = 0; i < j->c->nmentees; i++) {
		push_member(L, j->c, &j->c->mentees[i], 0);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "mentees");
	return 1;
}

/*
 * Sends the cohort's person tables to the worker. They are built in the host's
 * data-only state of the plugin (no plugin code runs there) and cross as data.
 */
static int
send_cohort(struct lua_job *j, const char *hook, int deadline_ms, struct diag *d)
{
	struct plugin *p = j->pol->plugin;
	lua_State *L = plugin_state(p);
	struct buf buf;
	buf_init(&buf);
	uint64_t id = j->c->id;
	int rc = buf_append(&buf, &id, sizeof(id), d);
	lua_pushcfunction(L, build_tables_body);
	lua_pushlightuserdata(L, j);
	if (rc == 0 && plugin_sandbox_pcall(L, 1, 1, d) < 0)
		rc = diag_prefix(d, "%s: building the person tables", j->pol->path);
	else if (rc == 0) {
		rc = marshal_encode(L, -1, 0, "the person tables", &buf, d);
		lua_pop(L, 1);
	} else {
		lua_pop(L, 2);
	}
	if (rc == 0)
		rc = plugin_exec(p, op_cohort, hook, buf.data, buf.len, deadline_ms, NULL, d);
	buf_fini(&buf);
	return rc;
}

/* Rewords the death of a worker stuck in C for one call (its notes say which). */
static void
stuck_message(struct lua_job *j, struct diag *d)
{
	struct worker *w = plugin_worker(j->pol->plugin);
	const struct watch_report *r = w ? worker_notes(w) : NULL;
	if (r == NULL || r->stuck != 2)
		return;
	const struct policy_cohort *c = j->c;
	int m = r->mentor, e = r->mentee;
	diag_set(d, DIAG_PLUGIN,
		 "%s: hook %s: one call (mentor %s, mentee %s) ran past the per-call deadline "
		 "inside a C function; its worker was killed",
		 j->pol->path, job_hook_names_get(r->hook),
		 m >= 0 && m < c->nmentors ? c->people[c->mentors[m].person].external_id : "-",
		 e >= 0 && e < c->nmentees ? c->people[c->mentees[e].person].external_id : "-");
}

/*
 * Sends one batch (req holds the header and its pairs and features) and copies
 * the results to out. Returns the number of calls completed (all, or fewer when
 * the worker needs more features: *need says which), or -1.
 */
static int64_t
score_batch(struct lua_job *j, int h, struct buf *req, double *out, int64_t until_ms,
	    unsigned *need, struct diag *d)
{
	struct plugin *p = j->pol->plugin;
	const char *hook = job_hook_names[h];
	struct score_req rq;
	memcpy(&rq, req->data, sizeof(rq));
	struct buf reply;
	buf_init(&reply);
	uint64_t head[3] = {SCORE_NO_COHORT, 0, 0};
	int rc = 0;
	for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
		int left = (int)(until_ms - (int64_t)(now_secs() * 1000));
		if (left < 1)
			left = 1;
		buf_reset(&reply);
		rc = plugin_exec(p, op_score, hook, req->data, req->len, left, &reply, d);
		if (rc == 0 && reply.len >= sizeof(head))
			memcpy(head, reply.data, sizeof(head));
		if (rc != 0 || head[0] != SCORE_NO_COHORT)
			break;
		/* A fresh or restarted worker: send the cohort, then the batch again. */
		rc = attempt == 0 ? send_cohort(j, hook, left, d)
				  : diag_set(d, DIAG_INTERNAL, "%s: the worker lost the cohort", j->pol->path);
	}
	if (rc == 0 && (head[0] == SCORE_NO_COHORT || head[2] > rq.npairs ||
			reply.len != sizeof(head) + (size_t)head[2] * sizeof(double)))
		rc = diag_set(d, DIAG_INTERNAL, "%s: a malformed reply from the worker", j->pol->path);
	if (rc == 0)
		memcpy(out, reply.data + sizeof(head), (size_t)head[2] * sizeof(double));
	else
		stuck_message(j, d);
	buf_fini(&reply);
	*need = (unsigned)head[1];
	return rc == 0 ? (int64_t)head[2] : -1;
}

/* The k-th pair of the job (mentor c, mentee r); *cell walks the mask in order. */
static void
job_pair(const struct lua_job *j, int h, int64_t k, int64_t *cell, int *c, int *r)
{
	if (h == JOB_CAPACITY) {
		*c = (int)k, *r = -1;
	} else if (j->mask) { /* the next allowed cell, row-major */
		while (j->mask[*cell])
			(*cell)++;
		*r = (int)(*cell / j->nc), *c = (int)(*cell % j->nc);
		(*cell)++;
	} else {
		*c = j->cols[k], *r = j->rows[k];
	}
}

/* Builds the request for pairs [from, from + n): header, pairs, the features of mask. */
static int
build_batch(struct lua_job *j, int h, unsigned mask, int64_t from, int64_t n, int64_t *cell,
	    struct buf *req, struct diag *d)
{
	struct score_req rq = {.cohort = j->c->id, .hook = h,
			       .per_call_ms = plugin_limits(j->pol->plugin)->deadline_ms,
			       .npairs = (uint32_t)n, .mask = h == JOB_CAPACITY ? 0 : mask};
	int stride = __builtin_popcount(rq.mask);
	buf_reset(req);
	if (buf_append(req, &rq, sizeof(rq), d) != 0 ||
	    buf_reserve(req, (size_t)n * (2 * sizeof(int32_t) + stride * sizeof(double)), d))
		return -1;
	int32_t *pairs = (int32_t *)(req->data + sizeof(rq));
	double *feats = (double *)(pairs + 2 * n);
	for (int64_t k = 0; k < n; k++) {
		int c, r;
		job_pair(j, h, from + k, cell, &c, &r);
		pairs[2 * k] = c;
		pairs[2 * k + 1] = r;
		if (stride == 0)
			continue;
		double cur[FEAT_COUNT + 1];
		feat_values(j->c->snap, c, r, cur);
		double builtin = 0;
		for (int f = 0; f < FEAT_COUNT; f++)
			builtin += j->pol->rules.weight[f] * cur[f];
		cur[FEAT_COUNT] = builtin;
		double *dst = feats + k * stride;
		for (int f = 0; f <= FEAT_COUNT; f++)
			if (rq.mask & (1u << f))
				*dst++ = cur[f];
	}
	req->len = sizeof(rq) + (size_t)n * (2 * sizeof(int32_t) + stride * sizeof(double));
	req->data[req->len] = '\0'; /* base/buf's invariant (the room was reserved) */
	return 0;
}

/*
 * Runs hook h over the job's pairs, SCORE_BATCH pairs per request, sending only
 * the features the hook has read so far (the mask grows when it reads another).
 */
static int
run_hook(struct lua_job *j, int h, int64_t until_ms, struct diag *d)
{
	struct buf req;
	buf_init(&req);
	double *out = j->out[h];
	int64_t total = h == JOB_CAPACITY ? j->c->nmentors : j->npairs;
	int64_t done = 0, cell = 0;
	unsigned mask = 0;
	int rc = 0;
	while (rc == 0 && done < total) {
		int64_t n = total - done < SCORE_BATCH ? total - done : SCORE_BATCH;
		int64_t cell0 = cell;
		rc = build_batch(j, h, mask, done, n, &cell, &req, d);
		unsigned need = 0;
		int64_t got = rc == 0 ? score_batch(j, h, &req, out + done, until_ms, &need, d) : -1;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got < n) {
			if ((need & ~mask) == 0) {
				rc = diag_set(d, DIAG_INTERNAL, "%s: the worker stopped a batch early",
					      j->pol->path);
				break;
			}
			mask |= need;
			/* Walk the mask again up to the first pair not scored. */
			cell = cell0;
			for (int64_t k = 0; j->mask && h != JOB_CAPACITY && k < got; k++) {
				while (j->mask[cell])
					cell++;
				cell++;
			}
		}
		done += got;
	}
	buf_fini(&req);
	return rc;
}

/* Runs every wanted hook of the job in the policy's worker, under its batch deadline. */
static int
run_job(struct lua_job *j, struct diag *d)
{
	int64_t until_ms = (int64_t)(now_secs() * 1000) +
			   plugin_limits(j->pol->plugin)->batch_deadline_ms;
	int rc = 0;
	for (int h = 0; rc == 0 && h < JOB_NHOOKS; h++)
		if (j->out[h] != NULL)
			rc = run_hook(j, h, until_ms, d);
	if (rc < 0 && d && d->code != DIAG_NOMEM)
		d->code = DIAG_PLUGIN;
	return rc;
}

int
policy_lua_scores(struct policy *pol, struct policy_cohort *c, const int *mentors,
		  const int *mentees, int n, double *out, struct diag *d)
{
	if (!pol->has_score || n == 0) {
		for (int k = 0; k < n; k++)
			out[k] = 0;
		return 0;
	}
	struct lua_job j = {.pol = pol, .c = c, .rows = mentees, .cols = mentors, .npairs = n};
	j.out[JOB_SCORE] = out;
	return run_job(&j, d);
}

/* ---- solving -------------------------------------------------------------------- */

void
policy_result_fini(struct policy_result *r)
{
	free(r->pairs);
	free(r->unmatched);
	memset(r, 0, sizeof(*r));
}

/* Capacities after the hook, minus what kept pairs consume; marks kept mentees. */
struct prep {
	int *cap;	 /* remaining capacity per mentor */
	int *kept_of;	 /* per mentee: index into c->kept, or -1 */
	double *lua_cap; /* shared: capacity hook output */
};

static int
prepare(struct policy *pol, struct policy_cohort *c, struct prep *pp, struct diag *d)
{
	int nc = c->nmentors, nr = c->nmentees;
	pp->cap = calloc((size_t)nc + 1, sizeof(int));
	pp->kept_of = malloc(((size_t)nr + 1) * sizeof(int));
	if (!pp->cap || !pp->kept_of)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < nc; i++)
		pp->cap[i] = c->mentors[i].capacity;
	if (pol->has_capacity && nc > 0) {
		size_t sz = (size_t)nc * sizeof(double);
		double *sh = worker_shared_new(sz, d);
		if (sh == NULL)
			return -1;
		struct lua_job j = {.pol = pol, .c = c};
		j.out[JOB_CAPACITY] = sh;
		int rc = run_job(&j, d);
		for (int i = 0; rc == 0 && i < nc; i++)
			pp->cap[i] = (int)sh[i];
		worker_shared_delete(sh, sz);
		if (rc < 0)
			return -1;
	}
	for (int r = 0; r < nr; r++)
		pp->kept_of[r] = -1;
	for (int k = 0; k < c->nkept; k++) {
		struct policy_kept *kp = &c->kept[k];
		if (pp->kept_of[kp->mentee] >= 0) {
			tlog(TLOG_WARN, "mentee %s has several kept matches; keeping match %lld",
			     c->people[c->mentees[kp->mentee].person].external_id,
			     (long long)c->kept[pp->kept_of[kp->mentee]].match_id);
			continue;
		}
		pp->kept_of[kp->mentee] = k;
		/* Kept pairs are decisions already taken: they may exceed a capacity. */
		if (pp->cap[kp->mentor] > 0)
			pp->cap[kp->mentor]--;
	}
	return 0;
}

static void
prep_fini(struct prep *pp)
{
	free(pp->cap);
	free(pp->kept_of);
}

/* Fills res from kept pairs plus the solver's row_to_col and per-pair scores. */
static int
collect(struct policy_cohort *c, const struct prep *pp, const int *row_to_col,
	const double *builtin, const double *lua, struct policy_result *res, struct diag *d)
{
	int nr = c->nmentees;
	res->pairs = malloc(((size_t)nr + 1) * sizeof(struct policy_pair));
	res->unmatched = malloc(((size_t)nr + 1) * sizeof(int));
	if (!res->pairs || !res->unmatched)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	res->total = 0;
	for (int r = 0; r < nr; r++) {
		struct policy_pair p = {.mentor = -1, .mentee = r};
		if (pp->kept_of[r] >= 0) {
			p.mentor = c->kept[pp->kept_of[r]].mentor;
			p.kept = 1;
		} else if (row_to_col && row_to_col[r] >= 0) {
			p.mentor = row_to_col[r];
		}
		if (p.mentor < 0) {
			res->unmatched[res->nunmatched++] = r;
			continue;
		}
		p.builtin = builtin[r];
		p.lua = lua ? lua[r] : 0;
		p.score = p.builtin + p.lua;
		res->total += p.score;
		res->pairs[res->npairs++] = p;
	}
	return 0;
}

/* Scores of the kept pairs (they may lie outside any candidate list). */
static int
kept_scores(struct policy *pol, struct policy_cohort *c, const struct prep *pp, double *builtin,
	    double *lua, struct diag *d)
{
	int n = 0;
	int *ms = calloc((size_t)c->nkept + 1, sizeof(int));
	int *rs = calloc((size_t)c->nkept + 1, sizeof(int));
	double *out = malloc(((size_t)c->nkept + 1) * sizeof(double));
	if (!ms || !rs || !out) {
		free(ms);
		free(rs);
		free(out);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int r = 0; r < c->nmentees; r++) {
		if (pp->kept_of[r] < 0)
			continue;
		ms[n] = c->kept[pp->kept_of[r]].mentor;
		rs[n++] = r;
	}
	int rc = policy_lua_scores(pol, c, ms, rs, n, out, d);
	for (int k = 0; rc == 0 && k < n; k++) {
		builtin[rs[k]] = feat_score(c->snap, &pol->rules, ms[k], rs[k]);
		lua[rs[k]] = out[k];
	}
	free(ms);
	free(rs);
	free(out);
	return rc;
}

/*
 * The dense problem. score[] holds the built-in score of every pair, then the
 * total once the Lua scores are added; the Lua outputs come back compact (one
 * double per allowed pair, in row-major order), which touches a quarter of the
 * pages a full matrix would in a typical cohort. score[] itself is shared
 * memory although only the parent writes it: fork() write-protects every
 * private page of the parent, and adding the Lua scores into a private matrix
 * afterwards took one page fault per 4 KiB (a third of the Lua stage at
 * 2,000 x 2,000); shared pages are not write-protected.
 */
struct dense {
	double *score, *pm, *pe; /* pm/pe: stable preferences, dense */
	uint8_t *mask;
	size_t cells;
};

static void
dense_fini(struct dense *dn)
{
	if (dn->score)
		worker_shared_delete(dn->score, (dn->cells ? dn->cells : 1) * sizeof(double));
	free(dn->pm);
	free(dn->pe);
	free(dn->mask);
}

/* Adds (into != NULL) or copies the compact outputs into their dense places. */
static void
scatter(const struct dense *dn, const double *compact, double *dst, int add)
{
	size_t k = 0;
	for (size_t i = 0; i < dn->cells; i++) {
		if (dn->mask[i])
			continue;
		if (add)
			dst[i] += compact[k++];
		else
			dst[i] = compact[k++];
	}
}

static int
dense_build(struct policy *pol, struct policy_cohort *c, const struct prep *pp, struct dense *dn,
	    struct policy_result *res, struct diag *d)
{
	int nr = c->nmentees, nc = c->nmentors;
	dn->cells = (size_t)nr * nc;
	size_t cells = dn->cells ? dn->cells : 1;
	dn->score = worker_shared_new(cells * sizeof(double), d);
	if (dn->score == NULL)
		return -1;
	dn->mask = malloc(cells);
	if (!dn->mask)
		return diag_set(d, DIAG_NOMEM, "out of memory for %d x %d scores", nr, nc);
	double t0 = now_secs();
	for (int r = 0; r < nr; r++) {
		uint8_t *row = dn->mask + (size_t)r * nc;
		feat_score_row(c->snap, &pol->rules, r, dn->score + (size_t)r * nc, row);
		if (pp->kept_of[r] >= 0)
			memset(row, FV_COUNT,
			       (size_t)nc); /* decided already: not part of the solve */
		for (int k = 0; k < nc; k++)
			res->allowed += row[k] == 0;
	}
	double t1 = now_secs();
	res->secs_features = t1 - t0;
	int stable = pol->method == POLICY_STABLE;
	int want[JOB_NHOOKS] = {pol->has_score, 0, stable && pol->has_prefer_mentor,
				stable && pol->has_prefer_mentee};
	size_t shsz = ((size_t)res->allowed + 1) * sizeof(double);
	struct lua_job j = {
	    .pol = pol, .c = c, .mask = dn->mask, .nr = nr, .nc = nc, .npairs = res->allowed};
	int rc = 0;
	for (int h = 0; rc == 0 && h < JOB_NHOOKS; h++)
		if (want[h] && res->allowed > 0 && (j.out[h] = worker_shared_new(shsz, d)) == NULL)
			rc = -1;
	if (rc == 0)
		rc = run_job(&j, d);
	if (rc == 0 && stable) {
		/* Preferences default to the total score: copied after the Lua scores are in. */
		dn->pm = malloc(cells * sizeof(double));
		dn->pe = malloc(cells * sizeof(double));
		if (!dn->pm || !dn->pe)
			rc = diag_set(d, DIAG_NOMEM, "out of memory for preferences");
	}
	if (rc == 0) {
		if (j.out[JOB_SCORE])
			scatter(dn, j.out[JOB_SCORE], dn->score, 1);
		if (stable) {
			memcpy(dn->pm, dn->score, cells * sizeof(double));
			memcpy(dn->pe, dn->score, cells * sizeof(double));
			if (j.out[JOB_PREFER_MENTOR])
				scatter(dn, j.out[JOB_PREFER_MENTOR], dn->pm, 0);
			if (j.out[JOB_PREFER_MENTEE])
				scatter(dn, j.out[JOB_PREFER_MENTEE], dn->pe, 0);
		}
		res->lua_calls = pol->has_score ? res->allowed : 0;
	}
	for (int h = 0; h < JOB_NHOOKS; h++)
		if (j.out[h])
			worker_shared_delete(j.out[h], shsz);
	res->secs_lua = now_secs() - t1;
	return rc;
}

static int
solve_dense(struct policy *pol, struct policy_cohort *c, const struct prep *pp,
	    struct policy_result *res, struct diag *d)
{
	int nr = c->nmentees, nc = c->nmentors;
	struct dense dn = {0};
	struct match_result mr = {0};
	double *pb = NULL, *pl = NULL;
	int rc = -1;
	if (dense_build(pol, c, pp, &dn, res, d) < 0)
		goto out;
	double t0 = now_secs();
	struct match_dense m = {
	    .nr = nr, .nc = nc, .dtype = MATCH_F64, .scores = dn.score, .forbidden = dn.mask};
	if (pol->method == POLICY_OPTIMAL) {
		struct match_opts o = {.maximize = 1, .capacity = pp->cap};
		if (match_assign(&m, &o, &mr, d) < 0)
			goto out;
	} else {
		struct match_prefs rows = {0}, cols = {0};
		struct match_dense me = m, mo = m;
		me.scores = dn.pe;
		mo.scores = dn.pm;
		if (match_prefs_from_scores(&me, 1, 1, &rows, d) < 0)
			goto out;
		if (match_prefs_from_scores(&mo, 0, 1, &cols, d) < 0) {
			match_prefs_fini(&rows);
			goto out;
		}
		struct match_stable_input in = {.nr = nr,
						.nc = nc,
						.rows = rows,
						.cols = cols,
						.capacity = pp->cap,
						.cols_propose = 0};
		int src = match_stable(&in, &mr, d);
		match_prefs_fini(&rows);
		match_prefs_fini(&cols);
		if (src < 0)
			goto out;
	}
	res->secs_solve = now_secs() - t0;
	pb = calloc((size_t)nr + 1, sizeof(double));
	pl = calloc((size_t)nr + 1, sizeof(double));
	if (!pb || !pl) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	for (int r = 0; r < nr; r++) {
		int col = mr.row_to_col ? mr.row_to_col[r] : -1;
		if (col >= 0) {
			/* The matrix holds the total; the built-in part is recomputed. */
			pb[r] = feat_score(c->snap, &pol->rules, col, r);
			pl[r] = pol->has_score ? dn.score[(size_t)r * nc + col] - pb[r] : 0;
		}
	}
	if (kept_scores(pol, c, pp, pb, pl, d) < 0)
		goto out;
	rc = collect(c, pp, mr.row_to_col, pb, pl, res, d);
out:
	free(pb);
	free(pl);
	match_result_fini(&mr);
	dense_fini(&dn);
	return rc;
}

/* A bounded min-heap of (score, col): keeps the K best columns of a row. */
struct cand {
	double s;
	int col;
};

static int
worse(const struct cand *a, const struct cand *b)
{
	return a->s < b->s || (a->s == b->s && a->col > b->col);
}

static void
heap_push(struct cand *h, int *n, int k, struct cand x)
{
	if (*n < k) {
		int i = (*n)++;
		h[i] = x;
		while (i > 0 && worse(&h[i], &h[(i - 1) / 2])) {
			struct cand t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (!worse(&h[0], &x))
		return;
	h[0] = x;
	int i = 0;
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && worse(&h[l], &h[m]))
			m = l;
		if (r < *n && worse(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		struct cand t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int
cmp_cand_col(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->col - y->col;
}

static int
solve_sparse(struct policy *pol, struct policy_cohort *c, const struct prep *pp,
	     struct policy_result *res, struct diag *d)
{
	int nr = c->nmentees, nc = c->nmentors;
	int k = pol->candidates ? pol->candidates : POLICY_DEFAULT_CANDIDATES;
	if (k > nc)
		k = nc;
	res->sparse = 1;
	res->candidates = k;
	size_t maxc = (size_t)nr * k + 1;
	int64_t *ptr = malloc(((size_t)nr + 1) * sizeof(int64_t));
	int32_t *cols = malloc(maxc * sizeof(int32_t));
	int *rows = malloc(maxc * sizeof(int));
	double *bscore = malloc(maxc * sizeof(double));
	double *tscore = malloc(maxc * sizeof(double));
	double *rowbuf = malloc(((size_t)nc + 1) * sizeof(double));
	uint8_t *verd = malloc((size_t)nc + 1);
	struct cand *heap = malloc(((size_t)k + 1) * sizeof(struct cand));
	double *sh = NULL, *pb = NULL, *pl = NULL;
	size_t shsz = maxc * sizeof(double);
	struct match_result mr = {0};
	int rc = -1;
	if (!ptr || !cols || !rows || !bscore || !tscore || !rowbuf || !verd || !heap) {
		diag_set(d, DIAG_NOMEM, "out of memory for candidate lists");
		goto out;
	}
	double t0 = now_secs();
	ptr[0] = 0;
	for (int r = 0; r < nr; r++) {
		int n = 0;
		if (pp->kept_of[r] < 0) {
			feat_score_row(c->snap, &pol->rules, r, rowbuf, verd);
			for (int col = 0; col < nc; col++) {
				if (verd[col] != 0)
					continue;
				res->allowed++;
				heap_push(heap, &n, k, (struct cand){rowbuf[col], col});
			}
			qsort(heap, (size_t)n, sizeof(*heap), cmp_cand_col);
		}
		int64_t base = ptr[r];
		for (int i = 0; i < n; i++) {
			cols[base + i] = heap[i].col;
			rows[base + i] = r;
			bscore[base + i] = heap[i].s;
		}
		ptr[r + 1] = base + n;
	}
	double t1 = now_secs();
	res->secs_features = t1 - t0;
	int64_t ncand = ptr[nr];
	if (pol->has_score && ncand > 0) {
		if ((sh = worker_shared_new(shsz, d)) == NULL)
			goto out;
		int *icols = malloc((size_t)ncand * sizeof(int));
		if (icols == NULL) {
			diag_set(d, DIAG_NOMEM, "out of memory");
			goto out;
		}
		for (int64_t i = 0; i < ncand; i++)
			icols[i] = cols[i];
		struct lua_job j = {
		    .pol = pol, .c = c, .rows = rows, .cols = icols, .npairs = ncand};
		j.out[JOB_SCORE] = sh;
		int jrc = run_job(&j, d);
		free(icols);
		if (jrc < 0)
			goto out;
		res->lua_calls = ncand;
	}
	double t2 = now_secs();
	res->secs_lua = t2 - t1;
	for (int64_t i = 0; i < ncand; i++)
		tscore[i] = bscore[i] + (sh ? sh[i] : 0);
	struct match_sparse m = {
	    .nr = nr, .nc = nc, .row_ptr = ptr, .cols = cols, .scores = tscore};
	struct match_opts o = {.maximize = 1, .capacity = pp->cap};
	if (match_assign_sparse(&m, &o, &mr, d) < 0)
		goto out;
	res->secs_solve = now_secs() - t2;
	pb = calloc((size_t)nr + 1, sizeof(double));
	pl = calloc((size_t)nr + 1, sizeof(double));
	if (!pb || !pl) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	for (int r = 0; r < nr; r++) {
		int col = mr.row_to_col[r];
		for (int64_t i = ptr[r]; col >= 0 && i < ptr[r + 1]; i++) {
			if (cols[i] == col) {
				pb[r] = bscore[i];
				pl[r] = sh ? sh[i] : 0;
			}
		}
	}
	if (kept_scores(pol, c, pp, pb, pl, d) < 0)
		goto out;
	rc = collect(c, pp, mr.row_to_col, pb, pl, res, d);
out:
	free(ptr);
	free(cols);
	free(rows);
	free(bscore);
	free(tscore);
	free(rowbuf);
	free(verd);
	free(heap);
	free(pb);
	free(pl);
	if (sh)
		worker_shared_delete(sh, shsz);
	match_result_fini(&mr);
	return rc;
}

int
policy_solve(struct policy *pol, struct policy_cohort *c, struct policy_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	if (c->snap == NULL)
		return diag_set(d, DIAG_INTERNAL, "policy_solve: cohort not finished");
	struct prep pp = {0};
	int rc = prepare(pol, c, &pp, d);
	if (rc == 0) {
		int64_t cells = (int64_t)c->nmentees * c->nmentors;
		int sparse = pol->method == POLICY_OPTIMAL &&
			     (pol->candidates > 0 || cells > POLICY_DENSE_MAX);
		if (pol->method == POLICY_STABLE && cells > POLICY_DENSE_MAX)
			rc = diag_set(d, DIAG_INVALID,
				      "method \"stable\" needs the full preference matrix: %d x %d "
				      "pairs is above the limit of %lld",
				      c->nmentees, c->nmentors, (long long)POLICY_DENSE_MAX);
		else
			rc = sparse ? solve_sparse(pol, c, &pp, res, d)
				    : solve_dense(pol, c, &pp, res, d);
	}
	prep_fini(&pp);
	if (rc < 0)
		policy_result_fini(res);
	return rc;
}

/* ---- explaining ------------------------------------------------------------------- */

json_t *
policy_explain(const struct policy *pol, const struct policy_cohort *c, int mentor, int mentee,
	       double lua)
{
	struct feat_values v;
	feat_eval(c->snap, mentor, mentee, &v);
	int verdict = feat_check(c->snap, &pol->rules, mentor, mentee);
	char why[128];
	feat_verdict_text(verdict, why, sizeof(why));
	json_t *feats = json_object();
	double builtin = 0;
	for (int f = 0; f < FEAT_COUNT; f++) {
		double w = pol->rules.weight[f];
		builtin += w * v.value[f];
		json_t *o = json_pack("{s:f, s:f, s:f}", "value", v.value[f], "weight", w,
				      "contribution", w * v.value[f]);
		if (v.known[f])
			json_object_set_new(o, "raw", json_real(v.raw[f]));
		else
			json_object_set_new(o, "raw", json_null());
		json_object_set_new(feats, feat_name(f), o);
	}
	json_t *cons = json_object();
	for (int p = 0; p < FPRED_COUNT; p++) {
		const char *rule = pol->rules.forbid & (1u << p)    ? "forbid"
				   : pol->rules.require & (1u << p) ? "require"
								    : "none";
		json_object_set_new(cons, feat_pred_name(p),
				    json_pack("{s:b, s:s}", "holds",
					      feat_pred_holds(c->snap, p, mentor, mentee), "rule",
					      rule));
	}
	return json_pack("{s:s, s:s, s:b, s:s, s:o, s:o, s:f, s:f, s:f}", "policy", pol->name,
			 "policy_version", pol->version, "allowed", verdict == FV_ALLOWED,
			 "verdict", why, "features", feats, "constraints", cons, "builtin", builtin,
			 "lua", lua, "score", builtin + lua);
}

/*
 * policy: reading and validating policy declarations. See policy.h for the
 * contract.
 */
#include "program/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/plugin.h"
#include "lua/registry.h"

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

/* The problems found so far in one declaration: plugin_decl_add_error's lines. */
struct problems {
	struct diag all;
	int n;
};

/*
 * Adds one problem. A message ending in a list of the valid names, " (valid:
 * ...)" or " (constraints: ...)", drops the list when an earlier line already shows the same one: a
 * declaration with several misspelt names reads better, and more of its problems
 * fit in one diag.
 */
static void
add_problem(struct problems *pr, const struct diag *one)
{
	struct diag d = *one;
	size_t len = strlen(d.msg);
	char *open = strrchr(d.msg, '(');
	if (len > 0 && d.msg[len - 1] == ')' && open != NULL && open > d.msg && open[-1] == ' ' &&
	    (strncmp(open, "(valid: ", 8) == 0 || strncmp(open, "(constraints: ", 14) == 0) &&
	    strstr(pr->all.msg, open) != NULL)
		open[-1] = '\0';
	plugin_decl_add_error(&pr->all, &pr->n, &d);
}

static int
cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct diag *)a)->msg, ((const struct diag *)b)->msg);
}

enum { ENTRY_PROBLEMS_MAX = 16 };

/*
 * Reads the optional table field `field` of the declaration at idx and calls
 * entry() for each of its pairs (key at -2, value at -1). Every entry is
 * checked: the problems of all of them are added to pr, in message order (a
 * table's traversal order differs from run to run; the order of the lines must
 * not). Leaves the stack as it found it.
 */
static void
parse_table_field(lua_State *L, int idx, const char *field, struct policy *out,
		  struct problems *pr,
		  int (*entry)(lua_State *L, struct policy *out, struct diag *d))
{
	struct diag one;
	diag_clear(&one);
	int t = lua_getfield(L, idx, field); /* stack: table */
	if (t == LUA_TNIL)
		goto done;
	if (t != LUA_TTABLE) {
		diag_set(&one, DIAG_INVALID, "field '%s' must be a table (got %s)", field,
			 lua_typename(L, t));
		add_problem(pr, &one);
		goto done;
	}
	struct diag bad[ENTRY_PROBLEMS_MAX];
	int nbad = 0;
	lua_pushnil(L);		     /* stack: table, key */
	while (lua_next(L, -2)) { /* stack: table, key, value */
		diag_clear(&one);
		if (entry(L, out, &one) != 0 && nbad < ENTRY_PROBLEMS_MAX)
			bad[nbad++] = one;
		lua_pop(L, 1); /* stack: table, key */
	}
	qsort(bad, (size_t)nbad, sizeof(bad[0]), cmp_msg);
	for (int i = 0; i < nbad; i++)
		add_problem(pr, &bad[i]);
done:
	lua_pop(L, 1);
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

/* Reads the declaration at idx into out (zeroed by the caller). Every field is
 * checked: on -1, d holds all the problems, one per line, each naming its field. */
static int
parse_decl(lua_State *L, int idx, struct policy *out, struct diag *d)
{
	idx = lua_absindex(L, idx);
	struct problems pr;
	struct diag one;
	diag_clear(&pr.all);
	pr.n = 0;
	int has[4];
	for (int i = 0; i < 4; i++) {
		diag_clear(&one);
		has[i] = plugin_decl_field(L, idx, hook_fields[i], LUA_TFUNCTION, 0, &one);
		if (has[i] < 0) {
			add_problem(&pr, &one);
			has[i] = 0;
		}
	}
	diag_clear(&one);
	int method_ok = parse_method(L, idx, out, &one) == 0;
	if (!method_ok)
		add_problem(&pr, &one);
	parse_table_field(L, idx, "forbid", out, &pr, forbid_entry);
	parse_table_field(L, idx, "require", out, &pr, require_entry);
	parse_table_field(L, idx, "weights", out, &pr, weight_entry);
	diag_clear(&one);
	if (parse_candidates(L, idx, out, &one) < 0)
		add_problem(&pr, &one);
	out->has_score = has[0];
	out->has_capacity = has[1];
	out->has_prefer_mentor = has[2];
	out->has_prefer_mentee = has[3];
	/* Only when the method itself is valid: a misspelt method is its own problem. */
	for (int i = 2; i < 4 && method_ok && out->method != POLICY_STABLE; i++) {
		if (!has[i])
			continue;
		diag_set(&one, DIAG_INVALID, "field '%s' only applies to method = \"stable\"",
			 hook_fields[i]);
		add_problem(&pr, &one);
	}
	if (pr.n == 0)
		return 0;
	*d = pr.all;
	return -1;
}

static int
validate_policy(lua_State *L, int idx, struct diag *d)
{
	struct policy scratch;
	memset(&scratch, 0, sizeof(scratch));
	return parse_decl(L, idx, &scratch, d);
}

/*
 * What a run accepts from a policy hook (program/score checks the same in its
 * batches), for `plugins check`: score and prefer_* a finite number, capacity an
 * integer in 0..1000000; other functions anything.
 */
static int
check_hook_result(lua_State *L, const char *hook, int idx, struct diag *d)
{
	int is_capacity = strcmp(hook, "capacity") == 0;
	if (!is_capacity && strcmp(hook, "score") != 0 && strcmp(hook, "prefer_mentor") != 0 &&
	    strcmp(hook, "prefer_mentee") != 0)
		return 0;
	int t = lua_type(L, idx);
	if (t == LUA_TNUMBER) {
		double x = lua_tonumber(L, idx);
		if (!is_capacity && isfinite(x))
			return 0;
		if (is_capacity && lua_isinteger(L, idx) && x >= 0 && x <= 1000000)
			return 0;
	}
	char got[96];
	if (t == LUA_TNUMBER && isnan(lua_tonumber(L, idx)))
		snprintf(got, sizeof(got), "nan");
	else if (t == LUA_TNUMBER)
		snprintf(got, sizeof(got), "%.17g", lua_tonumber(L, idx));
	else if (t == LUA_TSTRING)
		snprintf(got, sizeof(got), "the string \"%.60s\"", lua_tostring(L, idx));
	else
		snprintf(got, sizeof(got), "%s", lua_typename(L, t));
	return diag_set(d, DIAG_PLUGIN, "%s must return %s (got %s)", hook,
			is_capacity ? "an integer in 0..1000000" : "a finite number", got);
}

int
policy_register(struct plugin_host *h, struct diag *d)
{
	static const struct plugin_kind_ops ops = {policy_fields, validate_policy,
						   check_hook_result};
	return plugin_host_set_kind(h, "policy", &ops, d);
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
	/* A registry of kinds for this load only: the plugin keeps a copy of them. */
	struct plugin_host *h = plugin_host_new(d);
	if (h == NULL || policy_register(h, d) < 0) {
		plugin_host_delete(h);
		return NULL;
	}
	struct plugin *p = plugin_open(h, ws, PLUGIN_POLICY, ref, NULL, d);
	plugin_host_delete(h);
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

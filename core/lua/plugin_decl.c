/*
 * lua/plugin (declarations): the plugin kinds, their validators, and the checks
 * of a declaration's common fields. See plugin.h for the contract.
 *
 * Every read of a declaration table here is raw (lua_rawget, lua_next): the
 * constructors already hand over a plain copy, and raw reads keep that true for
 * any table a validator is given.
 */
#include "lua/plugin.h"
#include "base/evkind.h"
#include "lua/job_out.h"
#include "lua/jobdecl.h"

#include "lua/cadence_out.h"
#include "lua/report_out.h"
#include "lua/notify_out.h"
#include "lua/reward_out.h"
#include "time/rrule.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kinds and validators ---------------------------------------------------- */

int
plugin_hook_line(const struct plugin *live, const char *hook)
{
	lua_State *L = plugin_state(live);
	int top = lua_gettop(L), line = 0;
	lua_Debug ar;
	plugin_push_decl(live);
	lua_getfield(L, -1, hook);
	if (lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar))
		line = ar.linedefined;
	lua_settop(L, top);
	return line;
}

static const char *const kind_names[PLUGIN_KIND_COUNT] = {"policy", "cadence", "reward", "report",
							  "job", "notifier"};
static const char *const kind_dirs[PLUGIN_KIND_COUNT] = {
	"policies", "plugins/cadences", "plugins/rewards", "plugins/reports", "scripts",
	"plugins/notifiers"};

static const char *const common_fields[] = {"name", "version", "api", "description", "limits",
					    NULL};
static const char *const limit_fields[] = {"instructions", "memory_mib", "deadline_ms",
					   "batch_deadline_ms", NULL};

const char *
plugin_kind_name(enum plugin_kind kind)
{
	return (unsigned)kind < PLUGIN_KIND_COUNT ? kind_names[kind] : "?";
}

int
plugin_kind_parse(const char *name, enum plugin_kind *out)
{
	for (int k = 0; k < PLUGIN_KIND_COUNT; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum plugin_kind)k;
			return 0;
		}
	}
	return -1;
}

const char *
plugin_kind_dir(enum plugin_kind kind)
{
	return (unsigned)kind < PLUGIN_KIND_COUNT ? kind_dirs[kind] : "?";
}

int
plugin_decl_field(lua_State *L, int idx, const char *name, int type, int required, struct diag *d)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, name);
	int t = lua_rawget(L, idx);
	lua_pop(L, 1);
	if (t == LUA_TNIL) {
		if (required)
			return diag_set(d, DIAG_INVALID, "missing field '%s' (a %s)", name,
					lua_typename(L, type));
		return 0;
	}
	if (t != type)
		return diag_set(d, DIAG_INVALID, "field '%s' must be a %s (got %s)", name,
				lua_typename(L, type), lua_typename(L, t));
	return 1;
}

void
plugin_decl_add_error(struct diag *all, int *n, const struct diag *one)
{
	size_t len = strlen(all->msg), add = strlen(one->msg) + (*n ? 1 : 0);
	if (*n == 0)
		all->code = one->code;
	(*n)++;
	/* A line that does not fit whole is left out rather than cut: the ones
	 * shown stay readable, and the rest show once these are fixed. */
	if (len + add >= sizeof(all->msg) && len > 0)
		return;
	snprintf(all->msg + len, sizeof(all->msg) - len, "%s%s", len ? "\n" : "", one->msg);
}

static int int_field(lua_State *L, int idx, const char *label, const char *name, lua_Integer *out,
		     struct diag *d);

/*
 * A cadence's rule: what rrule_parse accepts, of a calendar frequency (DAILY,
 * WEEKLY or MONTHLY; "every 14 days" is DAILY too): a MINUTELY or HOURLY rule
 * would plan a session every few minutes.
 */
int
plugin_cadence_rule_check(const char *text, struct diag *d)
{
	struct rrule *r = rrule_parse(text, d);
	if (r == NULL)
		return diag_prefix(d, "field 'rule'");
	enum rrule_freq f = rrule_freq(r);
	rrule_delete(r);
	if (f != RRULE_DAILY && f != RRULE_WEEKLY && f != RRULE_MONTHLY)
		return diag_set(d, DIAG_INVALID,
				"field 'rule': \"%.80s\" is not a session rule (want FREQ=DAILY, "
				"WEEKLY or MONTHLY, e.g. \"FREQ=WEEKLY;INTERVAL=2\")",
				text);
	return 0;
}

/* Provisional built-in validators: the hooks each kind needs, nothing more yet. Each
 * checks every field it knows and reports all problems (one per line). */
static int
validate_fields(lua_State *L, int idx, const char *const *names, const int *types,
		const int *required, struct diag *d)
{
	struct diag all, one;
	diag_clear(&all);
	int n = 0;
	for (int i = 0; names[i] != NULL; i++) {
		diag_clear(&one);
		if (plugin_decl_field(L, idx, names[i], types[i], required[i], &one) < 0)
			plugin_decl_add_error(&all, &n, &one);
	}
	if (n > 0)
		*d = all;
	return n > 0 ? -1 : 0;
}

/*
 * A cadence: `rule` (an RRULE of the calendar kind, checked by rrule_parse so a
 * rule the planner would refuse is refused here, at the declaration),
 * `duration_min` (1..1440, the sessions table's bound), `zone` (whose zone the
 * rule's wall times are in) and `plan` (a hook); at least one of rule and plan.
 */
static int
check_cadence_rule(lua_State *L, int idx, struct diag *d)
{
	int rc = plugin_decl_field(L, idx, "rule", LUA_TSTRING, 0, d);
	if (rc <= 0)
		return rc;
	lua_pushliteral(L, "rule");
	lua_rawget(L, idx);
	const char *text = lua_tostring(L, -1);
	rc = plugin_cadence_rule_check(text, d);
	lua_pop(L, 1);
	return rc < 0 ? -1 : 1;
}

static int
validate_cadence(lua_State *L, int idx, struct diag *d)
{
	struct diag all, one;
	diag_clear(&all);
	int n = 0, has_rule, has_plan;
	diag_clear(&one);
	if ((has_rule = check_cadence_rule(L, idx, &one)) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if ((has_plan = plugin_decl_field(L, idx, "plan", LUA_TFUNCTION, 0, &one)) < 0)
		plugin_decl_add_error(&all, &n, &one);
	lua_Integer dur = 0;
	diag_clear(&one);
	int rc = int_field(L, idx, "duration_min", "duration_min", &dur, &one);
	if (rc == 1 && (dur < 1 || dur > 1440))
		rc = diag_set(&one, DIAG_INVALID,
			      "field 'duration_min' must be between 1 and 1440 minutes (got %lld)",
			      (long long)dur);
	if (rc < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	rc = plugin_decl_field(L, idx, "zone", LUA_TSTRING, 0, &one);
	if (rc == 1) {
		lua_pushliteral(L, "zone");
		lua_rawget(L, idx);
		const char *z = lua_tostring(L, -1);
		if (strcmp(z, "mentee") != 0 && strcmp(z, "mentor") != 0 && strcmp(z, "pair") != 0)
			rc = diag_set(&one, DIAG_INVALID,
				      "field 'zone' must be \"mentee\", \"mentor\" or \"pair\" (got "
				      "\"%.64s\")",
				      z);
		lua_pop(L, 1);
	}
	if (rc < 0)
		plugin_decl_add_error(&all, &n, &one);
	if (has_rule == 0 && has_plan == 0) {
		diag_set(&one, DIAG_INVALID,
			 "a cadence needs a field 'rule' (a recurrence rule such as "
			 "\"FREQ=WEEKLY;INTERVAL=2\") or a field 'plan' (a function), or both");
		plugin_decl_add_error(&all, &n, &one);
	}
	if (n > 0)
		*d = all;
	return n > 0 ? -1 : 0;
}

/* An event kind as events_append accepts it: "domain.verb", lower case, digits, '_'. */
static int
event_kind_ok(const char *k, size_t len)
{
	if (len == 0 || len > 100 || k[0] == '.' || k[len - 1] == '.' || strchr(k, '.') == NULL)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_' ||
		      (k[i] == '.' && k[i + 1] != '.')))
			return 0;
	return 1;
}

/* A reward rule: on = { ["session.held"] = function(ev, ctx) ... end, ... }, one handler per
 * event kind it listens to (docs/plugin-api.md "Reward rules"): a kind of the Events
 * table (base/evkind) or custom.NAME. */
static int
validate_reward(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "on", LUA_TTABLE, 1, d) < 0) {
		if (strstr(d->msg, "missing") != NULL)
			return diag_set(d, DIAG_INVALID,
					"missing field 'on' (a table of handlers by event kind: on = "
					"{ [\"session.held\"] = function(ev, ctx) ... end })");
		return -1;
	}
	lua_pushliteral(L, "on");
	lua_rawget(L, idx);
	int on = lua_gettop(L), n = 0, rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, on)) {
		size_t len = 0;
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
		if (k == NULL || !event_kind_ok(k, len))
			rc = diag_set(d, DIAG_INVALID,
				      "field 'on': each key must be an event kind like "
				      "\"session.held\" (got %s%.64s%s)",
				      k ? "\"" : "a ", k ? k : luaL_typename(L, -2), k ? "\"" : "");
		else if (!evkind_known(k) && !evkind_custom(k)) {
			/* A typo ("session.canceled") would load and never fire. */
			char kinds[800];
			evkind_list(kinds, sizeof(kinds));
			rc = diag_set(d, DIAG_INVALID,
				      "field 'on[\"%.64s\"]': no event has that kind (valid kinds: %s "
				      "(appended by a job))",
				      k, kinds);
		} else if (lua_type(L, -1) != LUA_TFUNCTION)
			rc = diag_set(d, DIAG_INVALID,
				      "field 'on[\"%.64s\"]' must be a function (got %s)", k,
				      luaL_typename(L, -1));
		n++;
		lua_pop(L, 1);
	}
	if (rc != 0)
		lua_pop(L, 1); /* the key lua_next left */
	lua_pop(L, 1);
	if (rc == 0 && n == 0)
		rc = diag_set(d, DIAG_INVALID,
			      "field 'on' must name at least one event kind, like "
			      "{ [\"session.held\"] = function(ev, ctx) ... end }");
	return rc;
}

/* A report: `build` (the hook), `title`, and `publish`: "monthly" asks the service's
 * monthly-reports job to publish it for every program on the first of each month. */
static int
validate_report(lua_State *L, int idx, struct diag *d)
{
	static const char *const names[] = {"title", "build", "publish", NULL};
	static const int types[] = {LUA_TSTRING, LUA_TFUNCTION, LUA_TSTRING}, req[] = {0, 1, 0};
	if (validate_fields(L, idx, names, types, req, d) < 0)
		return -1;
	lua_pushliteral(L, "publish");
	int t = lua_rawget(L, idx);
	int ok = t != LUA_TSTRING || strcmp(lua_tostring(L, -1), "monthly") == 0;
	lua_pop(L, 1);
	if (!ok)
		return diag_set(d, DIAG_INVALID,
				"field 'publish' must be \"monthly\" (or absent: published on demand only)");
	return 0;
}

/* A notifier renders a message's text (delivery stays in C, sched/notify): render(msg, ctx)
 * returns {subject =, body =}; `format` picks the built-in writer, "eml" (default) or "jsonl". */
static int
validate_notifier(lua_State *L, int idx, struct diag *d)
{
	static const char *const names[] = {"render", "format", NULL};
	static const int types[] = {LUA_TFUNCTION, LUA_TSTRING}, req[] = {1, 0};
	if (validate_fields(L, idx, names, types, req, d) < 0)
		return -1;
	lua_pushliteral(L, "format");
	int t = lua_rawget(L, idx);
	const char *format = t == LUA_TSTRING ? lua_tostring(L, -1) : "eml";
	int ok = strcmp(format, "eml") == 0 || strcmp(format, "jsonl") == 0;
	lua_pop(L, 1);
	if (!ok)
		return diag_set(d, DIAG_INVALID, "field 'format' must be \"eml\" or \"jsonl\"");
	return 0;
}

static const char *const cadence_fields[] = {"rule", "duration_min", "zone", "plan", NULL};
static const char *const reward_fields[] = {"on", NULL};
static const char *const report_fields[] = {"title", "build", "publish", NULL};
static const char *const notifier_fields[] = {"render", "format", NULL};

/* The built-in kinds; "policy" accepts any field until a host registers the policy
 * module's operations. Constant: the registry a caller changes is its own copy. */
static const struct plugin_kind_ops builtin_kinds[PLUGIN_KIND_COUNT] = {
	[PLUGIN_POLICY] = {NULL, NULL, NULL},
	[PLUGIN_CADENCE] = {cadence_fields, validate_cadence, cadence_out_check},
	[PLUGIN_REWARD] = {reward_fields, validate_reward, reward_out_check}, /* lua/reward_out.c */
	[PLUGIN_REPORT] = {report_fields, validate_report, report_out_check},
	[PLUGIN_JOB] = {jobdecl_fields, jobdecl_validate, job_out_check}, /* lua/jobdecl.c, job_out.c */
	[PLUGIN_NOTIFIER] = {notifier_fields, validate_notifier, notify_out_check},
};

struct plugin_host {
	struct plugin_kind_ops kinds[PLUGIN_KIND_COUNT];
};

struct plugin_host *
plugin_host_new(struct diag *d)
{
	struct plugin_host *h = malloc(sizeof(*h));
	if (h == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory creating a plugin host");
		return NULL;
	}
	memcpy(h->kinds, builtin_kinds, sizeof(h->kinds));
	return h;
}

void
plugin_host_delete(struct plugin_host *h)
{
	free(h);
}

int
plugin_host_set_kind(struct plugin_host *h, const char *kind, const struct plugin_kind_ops *ops,
		     struct diag *d)
{
	enum plugin_kind k;
	if (plugin_kind_parse(kind, &k) != 0)
		return diag_set(d, DIAG_INVALID, "unknown plugin kind '%s'", kind);
	h->kinds[k] = ops != NULL ? *ops : builtin_kinds[k];
	return 0;
}

const struct plugin_kind_ops *
plugin_host_kinds(const struct plugin_host *h)
{
	return h != NULL ? h->kinds : builtin_kinds;
}

int
plugin_name_valid(const char *s)
{
	size_t n = strlen(s);
	int ok = n > 0 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		     s[i] == '-';
	return ok;
}

/* ---- declaration checks ------------------------------------------------------ */

static int
in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
list_valid_fields(const struct plugin_kind_ops *kinds, enum plugin_kind kind, char *buf,
		  size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	const char *const *lists[2] = {common_fields, kinds[kind].fields};
	for (int i = 0; i < 2; i++)
		for (const char *const *f = lists[i]; f != NULL && *f; f++)
			n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
					      "%s%s", n ? ", " : "", *f);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every key must be a known field name; reports each unknown one (in name order, at
 * most 8), one per line. */
static int
check_keys(const struct plugin_kind_ops *kinds, lua_State *L, int idx, enum plugin_kind kind,
	   struct diag *d)
{
	int registered = kinds[kind].fields != NULL || kinds[kind].validate != NULL;
	char unknown[8][128];
	const char *sorted[8];
	int nu = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			const char *t = luaL_typename(L, -1);
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"the declaration has a %s key; fields are written name = value",
					t);
		}
		const char *k = lua_tostring(L, -1);
		if (registered && !in_list(common_fields, k) && !in_list(kinds[kind].fields, k) &&
		    nu < 8) {
			snprintf(unknown[nu], sizeof(unknown[nu]), "%s", k);
			sorted[nu] = unknown[nu];
			nu++;
		}
	}
	if (nu == 0)
		return 0;
	qsort(sorted, (size_t)nu, sizeof(sorted[0]), cmp_str);
	char valid[512];
	list_valid_fields(kinds, kind, valid, sizeof(valid));
	struct diag all, one;
	diag_clear(&all);
	int n = 0;
	for (int i = 0; i < nu; i++) {
		diag_set(&one, DIAG_INVALID, "unknown field '%s' in a %s declaration (valid fields: %s)",
			 sorted[i], plugin_kind_name(kind), valid);
		plugin_decl_add_error(&all, &n, &one);
	}
	*d = all;
	return -1;
}

static int
check_name(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "name", LUA_TSTRING, 1, d) < 0)
		return -1;
	lua_pushliteral(L, "name");
	lua_rawget(L, idx);
	const char *s = lua_tostring(L, -1);
	int ok = plugin_name_valid(s);
	if (!ok)
		diag_set(d, DIAG_INVALID,
			 "field 'name' must be 1 to 64 characters of a-z, 0-9, '_' or '-' (got \"%.64s\")",
			 s);
	lua_pop(L, 1);
	return ok ? 0 : -1;
}

/* "MAJOR.MINOR.PATCH" with an optional "-pre" or "+build" suffix. */
static int
semver_like(const char *s)
{
	for (int part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
		if (part < 2 && *s++ != '.')
			return 0;
	}
	if (*s == '\0')
		return 1;
	if (*s != '-' && *s != '+')
		return 0;
	if (*++s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '+')
			return 0;
	return 1;
}

static int
check_version(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "version", LUA_TSTRING, 1, d) < 0)
		return -1;
	lua_pushliteral(L, "version");
	lua_rawget(L, idx);
	const char *s = lua_tostring(L, -1);
	int ok = semver_like(s);
	if (!ok)
		diag_set(d, DIAG_INVALID, "field 'version' must look like \"1.2.0\" (got \"%.64s\")", s);
	lua_pop(L, 1);
	return ok ? 0 : -1;
}

/* An integer-valued number field; 0 absent, 1 ok, -1 error. */
static int
int_field(lua_State *L, int idx, const char *label, const char *name, lua_Integer *out,
	  struct diag *d)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, name);
	int t = lua_rawget(L, idx);
	int isnum = 0;
	lua_Integer v = lua_tointegerx(L, -1, &isnum);
	lua_pop(L, 1);
	if (t == LUA_TNIL)
		return 0;
	if (t != LUA_TNUMBER || !isnum)
		return diag_set(d, DIAG_INVALID, "field '%s' must be an integer (got %s)", label,
				t == LUA_TNUMBER ? "a fractional number" : lua_typename(L, t));
	*out = v;
	return 1;
}

static int
check_api(lua_State *L, int idx, struct diag *d)
{
	lua_Integer api = 0;
	int rc = int_field(L, idx, "api", "api", &api, d);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return diag_set(d, DIAG_INVALID, "missing field 'api' (the plugin API version, %d)",
				PLUGIN_API_VERSION);
	if (api > PLUGIN_API_VERSION)
		return diag_set(d, DIAG_INVALID,
				"field 'api' is %lld, but this host supports plugin API version %d",
				(long long)api, PLUGIN_API_VERSION);
	if (api < 1)
		return diag_set(d, DIAG_INVALID, "field 'api' must be at least 1 (got %lld)",
				(long long)api);
	return 0;
}

int
plugin_decl_limits(lua_State *L, int idx, struct plugin_limits *out, struct diag *d)
{
	idx = lua_absindex(L, idx);
	memset(out, 0, sizeof(*out));
	int rc = plugin_decl_field(L, idx, "limits", LUA_TTABLE, 0, d);
	if (rc <= 0)
		return rc;
	lua_pushliteral(L, "limits");
	lua_rawget(L, idx);
	int t = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING || !in_list(limit_fields, lua_tostring(L, -1))) {
			diag_set(d, DIAG_INVALID,
				 "unknown field 'limits.%s' (valid fields: instructions, memory_mib, "
				 "deadline_ms, batch_deadline_ms)",
				 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
			lua_pop(L, 2);
			return -1;
		}
	}
	static const struct {
		const char *name;
		long long max;
	} f[] = {
		{"instructions", PLUGIN_MAX_INSTRUCTIONS},
		{"memory_mib", (long long)(PLUGIN_MAX_MEMORY >> 20)},
		{"deadline_ms", PLUGIN_MAX_DEADLINE_MS},
		{"batch_deadline_ms", PLUGIN_MAX_DEADLINE_MS},
	};
	lua_Integer v[4] = {0, 0, 0, 0};
	for (int i = 0; i < 4; i++) {
		char label[64];
		snprintf(label, sizeof(label), "limits.%s", f[i].name);
		int r = int_field(L, t, label, f[i].name, &v[i], d);
		if (r < 0 || (r == 1 && (v[i] < 1 || v[i] > f[i].max))) {
			if (r == 1)
				diag_set(d, DIAG_INVALID, "field '%s' must be between 1 and %lld (got %lld)",
					 label, f[i].max, (long long)v[i]);
			lua_pop(L, 1);
			return -1;
		}
	}
	lua_pop(L, 1);
	out->instructions = v[0];
	out->memory = (size_t)v[1] << 20;
	out->deadline_ms = (int)v[2];
	out->batch_deadline_ms = (int)v[3];
	return 1;
}

int
plugin_decl_validate(const struct plugin_kind_ops *kinds, lua_State *L, int idx,
		     enum plugin_kind kind, struct diag *d)
{
	idx = lua_absindex(L, idx);
	struct plugin_limits lim;
	struct diag all, one;
	diag_clear(&all);
	int n = 0;
	/* Every check runs, so all of a declaration's problems are reported at once. */
	diag_clear(&one);
	if (check_keys(kinds, L, idx, kind, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (check_name(L, idx, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (check_version(L, idx, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (check_api(L, idx, &one) != 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (plugin_decl_field(L, idx, "description", LUA_TSTRING, 0, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	diag_clear(&one);
	if (plugin_decl_limits(L, idx, &lim, &one) < 0)
		plugin_decl_add_error(&all, &n, &one);
	if (kinds[kind].validate != NULL) {
		int top = lua_gettop(L);
		diag_clear(&one);
		int rc = kinds[kind].validate(L, idx, &one);
		lua_settop(L, top);
		if (rc != 0)
			plugin_decl_add_error(&all, &n, &one);
	}
	if (n == 0)
		return 0;
	*d = all;
	return -1;
}

/*
 * config_webhook: the webhook{...} declarations of tandem.lua (see config.h: struct
 * config_webhook), registered in the config's sandbox by config.c. Like workspace{} and
 * program{}, every problem of one declaration is reported at once, each at its field's
 * line; what is kept is attached to the struct config at once (the array grows before the
 * entry is filled), so an error raised half-way leaks nothing: config_fini frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "base/evkind.h"
#include "lua/api_core.h"
#include "lua/plugin.h"
#include "program/config.h"
#include "program/config_internal.h"

static const char *const webhook_fields[] = {"name", "url", "secret", "events",
					     "attempts", "backoff", NULL};

struct hook_errs {
	char what[96];
	struct diag all;
	int n;
};

static void
problem(struct hook_errs *e, const char *fmt, const char *a, const char *b)
{
	char msg[900];
	snprintf(msg, sizeof(msg), fmt, a, b);
	struct diag one;
	diag_set(&one, DIAG_INVALID, "%s: %s", e->what, msg);
	plugin_decl_add_error(&e->all, &e->n, &one);
}

/* A copy of t[field] when it is a string (NULL when absent; a problem when not a string). */
static char *
string_field(lua_State *L, struct hook_errs *e, const char *field)
{
	lua_pushstring(L, field);
	lua_rawget(L, 1);
	char *out = NULL;
	if (lua_type(L, -1) == LUA_TSTRING) {
		if ((out = strdup(lua_tostring(L, -1))) == NULL)
			luaL_error(L, "out of memory");
	} else if (!lua_isnil(L, -1)) {
		problem(e, "field '%s' must be a string (got %s)", field, luaL_typename(L, -1));
	}
	lua_pop(L, 1);
	return out;
}

/* An integer field in lo..hi, def when absent. */
static int
int_field(lua_State *L, struct hook_errs *e, const char *field, int lo, int hi, int def)
{
	lua_pushstring(L, field);
	lua_rawget(L, 1);
	int v = def;
	if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= lo && lua_tointeger(L, -1) <= hi) {
		v = (int)lua_tointeger(L, -1);
	} else if (!lua_isnil(L, -1)) {
		char range[64];
		snprintf(range, sizeof(range), "%d to %d", lo, hi);
		problem(e, "field '%s' must be an integer from %s", field, range);
	}
	lua_pop(L, 1);
	return v;
}

/* 1 when s is an event kind ("session.held") or a prefix pattern ("session.*", "*"). */
static int
event_pattern_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	if (strcmp(s, "*") == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			 (c == '*' && i == n - 1 && i > 0 && s[i - 1] == '.');
		if (!ok)
			return 0;
	}
	return 1;
}

/* 1 when the valid pattern s can match an event the core or a job appends: "*", a kind
 * of base/evkind or custom.NAME, or "DOMAIN.*" of such a kind (a typo like
 * "session.canceled" would never fire). */
static int
event_pattern_known(const char *s)
{
	size_t n = strlen(s);
	if (strcmp(s, "*") == 0 || evkind_known(s) || evkind_custom(s))
		return 1;
	if (n < 2 || s[n - 1] != '*')
		return 0;
	if (strncmp(s, "custom.", n - 1) == 0)
		return 1;
	for (int i = 0; evkind_all[i]; i++)
		if (strncmp(evkind_all[i], s, n - 1) == 0)
			return 1;
	return 0;
}

static int
l_webhook(lua_State *L)
{
	struct config *cfg = lua_touserdata(L, lua_upvalueindex(1));
	struct hook_errs e = {.what = "webhook", .n = 0};
	diag_clear(&e.all);
	if (!lua_istable(L, 1)) {
		problem(&e, "expects a table: webhook { name = %s, url = %s, secret = ... }", "...",
			"...");
		api_core_locate_errors(L, 1, e.all.msg);
		return lua_error(L);
	}
	lua_settop(L, 1);
	struct config_webhook *grown =
	    realloc(cfg->webhooks, (size_t)(cfg->nwebhooks + 1) * sizeof(*grown));
	if (grown == NULL)
		return luaL_error(L, "out of memory");
	cfg->webhooks = grown;
	int k = cfg->nwebhooks++;
	memset(&cfg->webhooks[k], 0, sizeof(cfg->webhooks[k]));
	/* stack: decl. Unknown fields first. */
	lua_pushnil(L);
	while (lua_next(L, 1) != 0) {
		lua_pop(L, 1);
		int known = 0;
		if (lua_type(L, -1) == LUA_TSTRING)
			for (const char *const *f = webhook_fields; *f; f++)
				known |= strcmp(*f, lua_tostring(L, -1)) == 0;
		if (!known)
			problem(&e, "unknown field '%s' (valid fields: %s)",
				lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?",
				"name, url, secret, events, attempts, backoff");
	}
	cfg->webhooks[k].name = string_field(L, &e, "name");
	const char *name = cfg->webhooks[k].name;
	if (name != NULL)
		snprintf(e.what, sizeof(e.what), "webhook '%.64s'", name);
	if (name == NULL)
		problem(&e, "field '%s' is required (%s)", "name", "it names the hook in its keys");
	else if (!plugin_name_valid(name))
		problem(&e, "field 'name': '%s' must be [a-z0-9_-]%s", name, ", at most 64");
	for (int i = 0; name != NULL && i < k; i++)
		if (cfg->webhooks[i].name != NULL && strcmp(cfg->webhooks[i].name, name) == 0)
			problem(&e, "name '%s' is declared twice%s", name, "");
	cfg->webhooks[k].url = string_field(L, &e, "url");
	if (cfg->webhooks[k].url == NULL)
		problem(&e, "field '%s' is required%s", "url", "");
	else if (!config_public_url_valid(cfg->webhooks[k].url))
		problem(&e, "field 'url': '%s' is not an http:// or https:// URL%s",
			cfg->webhooks[k].url, "");
	cfg->webhooks[k].secret = string_field(L, &e, "secret");
	if (cfg->webhooks[k].secret == NULL || strlen(cfg->webhooks[k].secret) < 16)
		problem(&e, "field '%s' is required: %s", "secret",
			"at least 16 characters, shared with the receiver");
	cfg->webhooks[k].attempts = int_field(L, &e, "attempts", 1, 20, CONFIG_WEBHOOK_ATTEMPTS);
	cfg->webhooks[k].backoff_s = int_field(L, &e, "backoff", 1, 86400, CONFIG_WEBHOOK_BACKOFF_S);
	lua_pushstring(L, "events");
	lua_rawget(L, 1); /* stack: decl, events */
	if (lua_istable(L, 2)) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
		if (n > CONFIG_WEBHOOK_EVENTS_MAX) {
			char got[64];
			snprintf(got, sizeof(got), "%d event kinds (got %lld)", CONFIG_WEBHOOK_EVENTS_MAX,
				 (long long)n);
			problem(&e, "field 'events': at most %s; %s", got,
				"\"session.*\" or \"*\" name many kinds at once");
			n = 0;
		}
		if ((cfg->webhooks[k].events = calloc((size_t)n + 1, sizeof(char *))) == NULL)
			return luaL_error(L, "out of memory");
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, 2, i);
			const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
			if (s == NULL || !event_pattern_valid(s)) {
				problem(&e, "field 'events': item %s is not an event kind (%s)",
					s ? s : "?", "\"session.held\", \"session.*\" or \"*\"");
			} else if (!event_pattern_known(s)) {
				char kinds[800];
				evkind_list(kinds, sizeof(kinds));
				problem(&e, "field 'events': no event has the kind '%s' (valid kinds: %s)",
					s, kinds);
			} else {
				int j = cfg->webhooks[k].nevents;
				if ((cfg->webhooks[k].events[j] = strdup(s)) == NULL)
					return luaL_error(L, "out of memory");
				cfg->webhooks[k].nevents++;
			}
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, 2)) {
		problem(&e, "field 'events' must be a list of event kinds (got %s)%s",
			luaL_typename(L, 2), "");
	}
	lua_settop(L, 1);
	if (e.n > 0) {
		api_core_locate_errors(L, 1, e.all.msg);
		return lua_error(L);
	}
	return 0;
}

void
config__webhook_register(lua_State *L, struct config *cfg)
{
	lua_pushlightuserdata(L, cfg);
	lua_pushcclosure(L, l_webhook, 1);
	lua_setglobal(L, "webhook");
}

void
config__webhooks_fini(struct config *cfg)
{
	for (int i = 0; i < cfg->nwebhooks; i++) {
		struct config_webhook *w = &cfg->webhooks[i];
		free(w->name);
		free(w->url);
		if (w->secret != NULL)
			memset(w->secret, 0, strlen(w->secret));
		free(w->secret);
		for (int j = 0; j < w->nevents; j++)
			free(w->events[j]);
		free(w->events);
	}
	free(cfg->webhooks);
	cfg->webhooks = NULL;
	cfg->nwebhooks = 0;
}

int
config_webhook_wants(const struct config_webhook *w, const char *kind)
{
	if (w->events == NULL)
		return 1;
	for (int i = 0; i < w->nevents; i++) {
		const char *p = w->events[i];
		size_t n = strlen(p);
		if (strcmp(p, "*") == 0 || strcmp(p, kind) == 0 ||
		    (n >= 2 && p[n - 1] == '*' && strncmp(p, kind, n - 1) == 0))
			return 1;
	}
	return 0;
}

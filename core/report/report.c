/*
 * report/report: a program's report, built by a report plugin in its worker.
 * See report.h for the contract.
 *
 * The host sends one JSON request to the worker: the database path, the
 * budgets, the metrics and the ctx, and, when the metrics have no health, what the
 * worker needs to compute it on first access (report_metrics.c). build_op (in the worker) opens q on the
 * database read-only, pushes (metrics, q, ctx) in a protected call, calls build,
 * reads the document with lua/report_out there, and sends it back as JSON
 * text; the host parses it again (host and worker are the same binary, but the
 * worker is untrusted: what comes back is only data).
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/plugin.h"
#include "lua/registry.h"
#include "lua/report_out.h"
#include "lua/shape.h"
#include "report/query.h"
#include "report/report_internal.h"
#include "time/cal.h"

/* ---- in the worker -------------------------------------------------------------- */

struct push_args {
	json_t *req;
	struct query *q;
};

/* Protected: pushes metrics, q, ctx. ud: struct push_args. */
static int
push_args(lua_State *L)
{
	const struct push_args *a = lua_touserdata(L, 1);
	lua_settop(L, 0);
	report__push_metrics(L, a->req); /* metrics.health on first access */
	query_push(L, a->q);
	shape_push_json(L, json_object_get(a->req, "ctx"));
	return 3;
}

/* FILE:LINE where the hook is defined, for an error in what it returned. */
static void
hook_site(struct plugin *live, const char *hook, char *where, size_t size)
{
	int line = plugin_hook_line(live, hook);
	if (line > 0)
		snprintf(where, size, "%s:%d", plugin_path(live), line);
	else
		snprintf(where, size, "%s", plugin_path(live));
}

static int
build_op(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	 struct diag *d)
{
	json_t *req = json_loadb(in, n, 0, NULL);
	if (req == NULL)
		return diag_set(d, DIAG_INTERNAL, "report: a malformed request");
	struct query_limits lim = {
		json_integer_value(json_object_get(req, "steps")),
		json_integer_value(json_object_get(req, "rows")),
		json_integer_value(json_object_get(req, "bytes")),
	};
	struct query *q = query_open(json_string_value(json_object_get(req, "db")), &lim, d);
	if (q == NULL) {
		json_decref(req);
		return diag_prefix(d, "opening the database for the report's queries");
	}
	lua_State *L = plugin_state(live);
	int top = lua_gettop(L);
	struct push_args a = {req, q};
	int rc = 0;
	lua_pushcfunction(L, push_args);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 3, 0) != LUA_OK) {
		rc = diag_set(d, DIAG_NOMEM, "building the arguments of build: %s", lua_tostring(L, -1));
		lua_settop(L, top);
	}
	if (rc == 0)
		rc = plugin_call(live, hook, 3, 1, d);
	json_t *doc = NULL;
	if (rc == 0) {
		struct diag rd;
		diag_clear(&rd);
		if (report_out_read(L, -1, &doc, &rd) != 0) {
			char where[600];
			hook_site(live, hook, where, sizeof(where));
			rc = diag_set(d, rd.code == DIAG_NOMEM ? DIAG_NOMEM : DIAG_PLUGIN,
				      "%s: %.800s (in hook %s)", where, rd.msg, hook);
		}
	}
	query_detach(L);
	report__metrics_detach(L);
	lua_settop(L, top);
	query_close(q);
	json_decref(req);
	if (rc != 0)
		return -1;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory sending a report document");
	rc = buf_puts(out, text, d);
	free(text);
	return rc;
}

/* ---- in the host ------------------------------------------------------------------ */

static void
iso_utc(time_t t, char iso[32])
{
	struct cal_time w;
	cal_from_epoch((int64_t)t, &w);
	snprintf(iso, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)w.year, w.mon, w.day,
		 w.hour, w.min, w.sec);
}

static json_t *
ctx_json(const struct config *cfg, const struct config_program *p, time_t now,
	 const struct report_opts *o)
{
	char iso[32], from[32], until[32];
	iso_utc(now, iso);
	json_t *prog = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "name", p->name, "title", p->title,
				 "description", p->description, "starts_on", p->starts, "ends_on",
				 p->ends);
	json_t *ctx = json_pack("{s:I, s:s, s:s, s:s?, s:o}", "now", (json_int_t)now, "now_iso", iso,
				"timezone", cfg->timezone != NULL ? cfg->timezone : "UTC",
				"organization", cfg->organization, "program", prog);
	if (ctx != NULL && o != NULL && o->period != NULL) {
		iso_utc(o->period_from, from);
		iso_utc(o->period_until, until);
		if (json_object_set_new(ctx, "period",
					json_pack("{s:s, s:s, s:s}", "month", o->period, "from", from,
						  "to", until)) != 0) {
			json_decref(ctx);
			ctx = NULL;
		}
	}
	return ctx;
}

/* Runs build on plugin plug (deleted here) with the metrics given. */
static int
build_in(struct plugin *plug, struct store *st, const struct config *cfg, const char *program,
	 const struct report_opts *o, const json_t *metrics, json_t **doc, struct diag *d)
{
	*doc = NULL;
	const struct config_program *p = config_find_program(cfg, program, d);
	if (p == NULL) {
		plugin_delete(plug);
		return -1;
	}
	const char *ref = o != NULL && o->plugin != NULL ? o->plugin : REPORT_DEFAULT_PLUGIN;
	time_t now = o != NULL && o->now != 0 ? o->now : store_time(st);
	const struct query_limits *lim = o != NULL ? o->lim : NULL;
	json_t *req = json_pack("{s:s, s:I, s:I, s:I, s:O, s:o}", "db", store_path(st), "steps",
				(json_int_t)(lim ? lim->steps : 0), "rows",
				(json_int_t)(lim ? lim->rows : 0), "bytes",
				(json_int_t)(lim ? lim->bytes : 0), "metrics", metrics, "program",
				json_string(program));
	json_t *ctx = ctx_json(cfg, p, now, o), *health = NULL;
	/* Without a health in the metrics, the worker computes it if build reads it. */
	if (req != NULL && json_object_get(metrics, "health") == NULL) {
		int rc = report__health_input(st, cfg, program, &health, d);
		if (rc == 0 && json_object_set_new(req, "lazy_health", health) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory preparing report '%s'", ref);
		if (rc != 0) {
			json_decref(ctx);
			json_decref(req);
			plugin_delete(plug);
			return -1;
		}
	}
	char *text = NULL;
	if (req != NULL && ctx != NULL && json_object_set_new(req, "ctx", ctx) == 0) {
		ctx = NULL;
		text = json_dumps(req, JSON_COMPACT);
	}
	json_decref(ctx);
	json_decref(req);
	if (text == NULL) {
		plugin_delete(plug);
		return diag_set(d, DIAG_NOMEM, "out of memory preparing report '%s'", ref);
	}
	struct buf out;
	buf_init(&out);
	int deadline = plugin_limits(plug)->batch_deadline_ms;
	int rc = plugin_exec(plug, build_op, "build", text, strlen(text), deadline, &out, d);
	free(text);
	plugin_delete(plug);
	if (rc == 0) {
		json_error_t e;
		*doc = json_loadb(out.data, out.len, 0, &e);
		if (*doc == NULL || !json_is_object(*doc)) {
			json_decref(*doc);
			*doc = NULL;
			rc = diag_set(d, DIAG_PLUGIN, "report '%s': its worker sent back a malformed document",
				      ref);
		}
	}
	buf_fini(&out);
	return rc;
}

static struct plugin *
open_plugin(const struct report_opts *o, struct diag *d)
{
	const char *ref = o != NULL && o->plugin != NULL ? o->plugin : REPORT_DEFAULT_PLUGIN;
	const char *ws = o != NULL && o->ws != NULL ? o->ws : ".";
	return plugin_open(NULL, ws, PLUGIN_REPORT, ref, NULL, d);
}

int
report_build_with(struct store *st, const struct config *cfg, const char *program,
		  const struct report_opts *o, const json_t *metrics, json_t **doc, struct diag *d)
{
	*doc = NULL;
	if (config_find_program(cfg, program, d) == NULL)
		return -1;
	struct plugin *plug = open_plugin(o, d);
	if (plug == NULL)
		return -1;
	return build_in(plug, st, cfg, program, o, metrics, doc, d);
}

int
report_build(struct store *st, const struct config *cfg, const char *program,
	     const struct report_opts *o, json_t **doc, struct diag *d)
{
	*doc = NULL;
	if (config_find_program(cfg, program, d) == NULL)
		return -1;
	/* The plugin's worker first, while this process is small: a worker is a fork, and
	 * forking after the metrics were built copied their page tables and then every page
	 * written while the worker lived (15% of a 5,000-pair report's CPU). */
	struct plugin *plug = open_plugin(o, d);
	if (plug == NULL)
		return -1;
	time_t now = o != NULL && o->now != 0 ? o->now : store_time(st);
	json_t *m;
	if (report_metrics(st, cfg, program, now, &m, d) != 0) {
		plugin_delete(plug);
		return -1;
	}
	int rc = build_in(plug, st, cfg, program, o, m, doc, d);
	json_decref(m);
	return rc;
}

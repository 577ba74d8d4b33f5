/*
 * report/publish: the monthly-reports job: each program's reports of the month just
 * ended, written under WS/reports/ with an event and a message (see publish.h).
 *
 * Order of work for one (program, plugin): build (in the plugin's worker), render both
 * formats into memory, write both files, then the event and the message. Rendering first
 * means a renderer failure writes nothing; the files come before the rows so that a
 * committed report.published event always names files that exist.
 */
#include "report/publish.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crash.h"
#include "events/events.h"
#include "events/outbox.h"
#include "io/outfile.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "report/render.h"
#include "report/report.h"
#include "store/stmt.h"
#include "time/tz.h"

#define ACTOR "job:monthly-reports"

/* ---- which plugins publish -------------------------------------------------------- */

struct read_args {
	const struct plugin *p;
	int monthly;
};

/* Protected: is the declaration's `publish` field "monthly"? Raw reads of data only. */
static int
read_publish(lua_State *L)
{
	struct read_args *a = lua_touserdata(L, 1);
	plugin_push_decl(a->p);
	lua_pushliteral(L, "publish");
	a->monthly = lua_rawget(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "monthly") == 0;
	return 0;
}

/* Appends (name, path) to the two arrays; 0 or -1 (out of memory, nothing added). */
static int
add_plugin(char ***names, char ***paths, size_t n, const char *name, const char *path)
{
	char **nv = realloc(*names, (n + 1) * sizeof(*nv));
	if (nv != NULL)
		*names = nv;
	char **pv = nv != NULL ? realloc(*paths, (n + 1) * sizeof(*pv)) : NULL;
	if (pv != NULL)
		*paths = pv;
	char *a = strdup(name), *b = strdup(path);
	if (pv == NULL || a == NULL || b == NULL) {
		free(a);
		free(b);
		return -1;
	}
	nv[n] = a;
	pv[n] = b;
	return 0;
}

void
report_publish_plugins_free(char **names, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(paths[i]);
	}
	free(names);
	free(paths);
}

int
report_publish_plugins(const char *ws, char ***names, char ***paths, size_t *n, struct diag *d)
{
	*names = *paths = NULL;
	*n = 0;
	struct plugin_list l = {0};
	if (plugin_discover(NULL, ws, PLUGIN_REPORT, NULL, &l, d) != 0)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < l.n; i++) {
		const struct plugin_entry *e = &l.v[i];
		if (!e->loaded || e->shadowed || e->kind != PLUGIN_REPORT)
			continue;
		struct diag ignored;
		struct plugin *p = plugin_load(NULL, e->path, NULL, &ignored);
		if (p == NULL)
			continue; /* changed since the listing: not published this time */
		struct read_args a = {p, 0};
		lua_State *L = plugin_state(p);
		lua_pushcfunction(L, read_publish);
		lua_pushlightuserdata(L, &a);
		int ok = lua_pcall(L, 1, 0, 0) == LUA_OK;
		if (!ok)
			lua_pop(L, 1);
		if (ok && a.monthly) {
			if (add_plugin(names, paths, *n, plugin_name(p), e->path) != 0)
				rc = diag_set(d, DIAG_NOMEM, "out of memory listing the report plugins");
			else
				(*n)++;
		}
		plugin_delete(p);
	}
	plugin_list_fini(&l);
	if (rc != 0) {
		report_publish_plugins_free(*names, *paths, *n);
		*names = *paths = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- the month -------------------------------------------------------------------- */

int
report_publish_month_of(const char *zone, time_t t, int k, char label[8], time_t *from,
			time_t *until, struct diag *d)
{
	struct tm now;
	if (tz_utc_to_local(zone, t, &now, d) != 0)
		return -1;
	/* months since year 0 of the local month of t, then k + 1 back */
	long m = (long)(now.tm_year + 1900) * 12 + now.tm_mon - 1 - k;
	struct tm first = {0}, next = {0};
	first.tm_year = (int)(m / 12) - 1900;
	first.tm_mon = (int)(m % 12);
	first.tm_mday = 1;
	next.tm_year = (int)((m + 1) / 12) - 1900;
	next.tm_mon = (int)((m + 1) % 12);
	next.tm_mday = 1;
	if (tz_local_to_utc(zone, &first, from, d) != 0 || tz_local_to_utc(zone, &next, until, d) != 0)
		return -1;
	char tmp[48];
	snprintf(tmp, sizeof(tmp), "%04ld-%02ld", (m / 12) % 10000, m % 12 + 1);
	memcpy(label, tmp, 7);
	label[7] = '\0';
	return 0;
}

/* ---- files -------------------------------------------------------------------------- */

/* mkdir -p of WS/reports/MONTH/PROGRAM; the path in buf. */
static int
make_dir(const char *ws, const char *month, const char *program, char *buf, size_t size,
	 struct diag *d)
{
	const char *parts[] = {"reports", month, program};
	int n = snprintf(buf, size, "%s", ws);
	for (size_t i = 0; i < 3; i++) {
		n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, "/%s", parts[i]);
		if ((size_t)n >= size)
			return diag_set(d, DIAG_INVALID, "report folder: path too long");
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return diag_set(d, DIAG_IO, "cannot create the folder '%s': %s", buf,
					strerror(errno));
	}
	return 0;
}

/* Removes NAME.html.tmp* and NAME.md.tmp* that a killed run left in dir (io/outfile's
 * temporaries are PATH.tmpXXXXXX). */
static void
remove_stale(const char *dir, const char *name)
{
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return;
	char html[300], md[300], path[4400];
	snprintf(html, sizeof(html), "%s.html.tmp", name);
	snprintf(md, sizeof(md), "%s.md.tmp", name);
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (strncmp(e->d_name, html, strlen(html)) != 0 &&
		    strncmp(e->d_name, md, strlen(md)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		(void)unlink(path);
	}
	closedir(dp);
}

/* ---- one report ----------------------------------------------------------------------- */

/* people.id of the manager's external id; 0 when nobody has it. */
static int
manager_id(struct store *st, const char *external, int64_t *id, struct diag *d)
{
	struct stmt q = {0};
	*id = 0;
	int rc = stmt_prepare(&q, st, "finding the program manager",
			      "SELECT id FROM people WHERE external_id = ?1", d) ||
		 stmt_bind_text(&q, 1, external, d);
	if (rc == 0) {
		int r = stmt_step(&q, d);
		if (r == STMT_ROW)
			*id = stmt_int64(&q, 0);
		else if (r < 0)
			rc = -1;
	}
	stmt_finalize(&q);
	return rc;
}

static int
append_event(struct store *st, const char *kind, int64_t program_id, json_t *payload,
	     struct diag *d)
{
	char *text = payload != NULL ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory writing a report event");
	struct event ev = {kind, ACTOR, 0, program_id, text};
	int rc = events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

static int
queue_message(const struct report_publish_ctx *c, const struct config_program *p,
	      const char *plugin, const char *month, const json_t *doc, const struct buf *html,
	      const char *rel, time_t now, struct report_publish_counts *out, struct diag *d)
{
	int64_t to;
	if (manager_id(c->st, p->manager, &to, d) != 0)
		return -1;
	if (to == 0) {
		out->manager_unknown++;
		return 0;
	}
	char key[300], subject[300], name[200], body[1600], *att = NULL;
	const char *title = render_str(doc, "title");
	snprintf(key, sizeof(key), "report:%s:%s:%s", p->name, plugin, month);
	snprintf(subject, sizeof(subject), "%.120s: %.120s, %s", title[0] ? title : plugin,
		 p->title != NULL ? p->title : p->name, month);
	snprintf(name, sizeof(name), "%.64s-%.64s-%s.html", p->name, plugin, month);
	snprintf(body, sizeof(body),
		 "The %s report of %s for %s is published in the workspace as\n"
		 "%s.html (attached) and %s.md.\n",
		 plugin, p->name, month, rel, rel);
	json_t *a = json_pack("[{s:s, s:s, s:s%}]", "name", name, "type", "text/html; charset=utf-8",
			      "content", html->data != NULL ? html->data : "", html->len);
	att = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (att == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory writing a report message");
	struct outbox_msg m = {0};
	m.key = key;
	m.kind = "report";
	m.channel = c->cfg->notify != NULL ? c->cfg->notify : "eml";
	m.recipient_id = to;
	m.subject = subject;
	m.body = body;
	m.attachments = att;
	m.not_before = now;
	int rc = outbox_enqueue(c->st, &m, NULL, d);
	free(att);
	if (rc == 0)
		out->messages++;
	return rc;
}

/* Renders doc as f into b, then writes it to path atomically. */
static int
write_format(enum render_format f, const json_t *doc, const char *path, struct buf *b,
	     struct diag *d)
{
	buf_reset(b);
	if (render_doc(f, doc, b, d) != 0)
		return -1;
	return outfile_write_all(path, b->data, b->len, d);
}

/* One (program, plugin): 0, 1 when the plugin failed (recorded), -1 for a store/file failure. */
static int
publish_one(const struct report_publish_ctx *c, const struct config_program *p,
	    int64_t program_id, const json_t *metrics, size_t i, const char *month, time_t from,
	    time_t until, struct report_publish_counts *out, struct diag *d)
{
	const char *name = c->names[i];
	struct report_opts o = {.ws = c->ws, .plugin = c->paths[i], .now = until, .period = month,
				.period_from = from, .period_until = until};
	json_t *doc = NULL;
	struct diag e;
	if (report_build_with(c->st, c->cfg, p->name, &o, metrics, &doc, &e) != 0) {
		out->failed++;
		if (out->first_error[0] == '\0')
			snprintf(out->first_error, sizeof(out->first_error), "%.60s: %.130s", name,
				 e.msg);
		json_t *pl = json_pack("{s:s, s:s, s:s, s:s}", "program", p->name, "plugin", name,
				       "month", month, "error", e.msg);
		return append_event(c->st, "report.failed", program_id, pl, d) != 0 ? -1 : 1;
	}
	char dir[4096], path[4400], rel[600];
	struct buf html, md;
	buf_init(&html);
	buf_init(&md);
	int rc = make_dir(c->ws, month, p->name, dir, sizeof(dir), d);
	if (rc == 0) {
		remove_stale(dir, name);
		snprintf(path, sizeof(path), "%s/%s.html", dir, name);
		rc = write_format(RENDER_HTML, doc, path, &html, d);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s.md", dir, name);
		rc = write_format(RENDER_MD, doc, path, &md, d);
	}
	if (rc == 0) {
		crash_point("report.written");
		snprintf(rel, sizeof(rel), "reports/%s/%s/%s", month, p->name, name);
		json_t *pl = json_pack("{s:s, s:s, s:s, s:[s+, s+]}", "program", p->name, "plugin",
				       name, "month", month, "files", rel, ".html", rel, ".md");
		rc = append_event(c->st, "report.published", program_id, pl, d);
	}
	if (rc == 0 && p->manager != NULL)
		rc = queue_message(c, p, name, month, doc, &html, rel, until, out, d);
	if (rc == 0)
		out->published++;
	buf_fini(&html);
	buf_fini(&md);
	json_decref(doc);
	return rc;
}

/* Does program p run during [first day, first day of next month) ("YYYY-MM")? */
static int
runs_in(const struct config_program *p, const char *month)
{
	char first[32], next[32];
	int y = atoi(month), m = atoi(month + 5);
	snprintf(first, sizeof(first), "%.7s-01", month);
	snprintf(next, sizeof(next), "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	return (p->starts == NULL || strcmp(p->starts, next) < 0) &&
	       (p->ends == NULL || strcmp(p->ends, first) >= 0);
}

int
report_publish_month(const struct report_publish_ctx *c, const char *month, time_t from,
		     time_t until, struct report_publish_counts *out, struct diag *d)
{
	out->months++;
	for (int k = 0; k < c->cfg->nprograms; k++) {
		const struct config_program *p = &c->cfg->programs[k];
		if (c->nplugins == 0 || !runs_in(p, month))
			continue;
		int64_t program_id = 0;
		struct diag pd;
		diag_clear(&pd);
		if (config_program_id(c->st, c->cfg, p->name, &program_id, &pd) != 0) {
			if (pd.code != DIAG_NOTFOUND) { /* a database error is not "not synced" */
				*d = pd;
				return diag_prefix(d, "report of %s for %s", p->name, month);
			}
			program_id = 0; /* not synced yet: the event names it in its payload */
		}
		json_t *m = NULL;
		if (report_metrics(c->st, c->cfg, p->name, until, &m, d) != 0)
			return diag_prefix(d, "report of %s for %s", p->name, month);
		int rc = 0;
		for (size_t i = 0; rc >= 0 && i < c->nplugins; i++)
			rc = publish_one(c, p, program_id, m, i, month, from, until, out, d);
		json_decref(m);
		if (rc < 0)
			return diag_prefix(d, "report of %s for %s", p->name, month);
	}
	return 0;
}

/* ---- the job ------------------------------------------------------------------------ */

static void
write_result(const struct report_publish_counts *n, const char *last, char *result, size_t size)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i}", "month", last, "months", n->months,
			      "published", n->published, "failed", n->failed, "messages",
			      n->messages);
	if (o != NULL && n->manager_unknown > 0)
		json_object_set_new(o, "manager_unknown", json_integer(n->manager_unknown));
	if (o != NULL && n->first_error[0] != '\0')
		json_object_set_new(o, "error", json_string(n->first_error));
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text != NULL && strlen(text) < size)
		snprintf(result, size, "%s", text);
	else
		snprintf(result, size, "{\"published\":%d,\"failed\":%d}", n->published, n->failed);
	free(text);
	json_decref(o);
}

int
report_publish_job(struct sched_run *r, struct diag *d)
{
	struct report_publish_counts n = {0};
	if (r->cfg == NULL || r->cfg->nprograms == 0) {
		snprintf(r->result, sizeof(r->result), "{\"published\":0}");
		return 0;
	}
	const char *ws = sched_ws(r->sched) != NULL ? sched_ws(r->sched) : ".";
	const char *zone = r->cfg->timezone != NULL ? r->cfg->timezone : "UTC";
	struct report_publish_ctx c = {.st = r->st, .cfg = r->cfg, .ws = ws};
	if (report_publish_plugins(ws, &c.names, &c.paths, &c.nplugins, d) != 0)
		return -1;
	int months = r->covers < 1 ? 1 : r->covers;
	if (months > REPORT_PUBLISH_MAX_MONTHS)
		months = REPORT_PUBLISH_MAX_MONTHS;
	char label[8] = "";
	int rc = 0;
	for (int k = months - 1; rc == 0 && k >= 0; k--) {
		time_t from, until;
		rc = report_publish_month_of(zone, r->due, k, label, &from, &until, d);
		if (rc == 0)
			rc = report_publish_month(&c, label, from, until, &n, d);
	}
	report_publish_plugins_free(c.names, c.paths, c.nplugins);
	if (rc == 0) {
		write_result(&n, label, r->result, sizeof(r->result));
		r->failures = n.failed; /* each one a report.failed: the service counts them */
	}
	return rc;
}

/*
 * sched/job: the struct sched, and keeping the jobs table in step with the
 * built-ins and the workspace's scripts (see job.h for the contract).
 *
 * Scripts are loaded before the sync's transaction opens: loading forks a worker
 * and runs the file, which takes milliseconds, and the write lock must not wait on
 * plugin code. The transaction then only writes rows.
 */
#include "sched/job.h"

#include <dirent.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sched/builtin.h"
#include "sched/cadence.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"
#include "time/ical.h"
#include "time/tz.h"

void
sched__log(const struct sched *s, int level, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->log != NULL)
		s->log(s->log_ud, level, msg);
	else
		tlog(level, "%s", msg);
}

struct sched *
sched_new(const struct sched_opts *o, struct diag *d)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (s == NULL || (o->ws != NULL && (s->ws = strdup(o->ws)) == NULL)) {
		free(s);
		diag_set(d, DIAG_NOMEM, "out of memory creating the scheduler");
		return NULL;
	}
	s->st = o->st;
	s->cfg = o->cfg;
	s->host = o->host;
	s->clock = o->clock;
	if (o->builtins_set) {
		s->builtins = o->builtins;
		s->nbuiltins = o->nbuiltins;
	} else {
		s->builtins = sched_builtin_jobs(&s->nbuiltins);
	}
	s->log = o->log;
	s->log_ud = o->log_ud;
	s->reports = o->reports;
	if (o->lim != NULL) {
		s->lim = *o->lim;
		s->have_lim = 1;
	}
	return s;
}

static void
clear_errors(struct sched *s)
{
	for (size_t i = 0; i < s->nerrors; i++)
		free(s->errors[i]);
	free(s->errors);
	s->errors = NULL;
	s->nerrors = 0;
}

static void
script_fini(struct sched_script *sc)
{
	plugin_delete(sc->p);
	free(sc->name);
	free(sc->path);
}

void
sched_delete(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nscripts; i++)
		script_fini(&s->scripts[i]);
	free(s->scripts);
	clear_errors(s);
	cadence_cache_delete(s->cadences);
	ical_zones_delete(s->zones);
	sched__grids_free(s);
	free(s->ws);
	free(s);
}

struct cadence_cache *
sched__cadences(struct sched *s, struct diag *d)
{
	if (s->cadences == NULL && (s->cadences = cadence_cache_new()) == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory creating the cadence cache");
	return s->cadences;
}

struct ical_zones *
sched__zones(struct sched *s)
{
	if (s->zones == NULL)
		s->zones = ical_zones_new();
	return s->zones;
}

int
sched_refresh_cadences(struct sched *s, struct diag *d)
{
	return cadence_cache_refresh(s->cadences, d);
}

void
sched_rematerialize(struct sched *s)
{
	s->materialized = 0;
}

void
sched_forget_scripts(struct sched *s)
{
	for (size_t i = 0; i < s->nscripts; i++)
		memset(&s->scripts[i].sig, 0, sizeof(s->scripts[i].sig));
	s->synced = 0;
}

size_t
sched_nerrors(const struct sched *s)
{
	return s->nerrors;
}

const char *
sched_error(const struct sched *s, size_t i)
{
	return i < s->nerrors ? s->errors[i] : NULL;
}

struct store *
sched_store(const struct sched *s)
{
	return s->st;
}

const struct config *
sched_config(const struct sched *s)
{
	return s->cfg;
}

const char *
sched_ws(const struct sched *s)
{
	return s->ws;
}

const struct plugin_host *
sched_host(const struct sched *s)
{
	return s->host;
}

time_t
sched_now(const struct sched *s)
{
	return s->clock != NULL ? clock_now(s->clock) : store_time(s->st);
}

struct sched_script *
sched__script(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < s->nscripts; i++)
		if (strcmp(s->scripts[i].name, name) == 0)
			return &s->scripts[i];
	return NULL;
}

struct plugin *
sched_job_plugin(const struct sched *s, const char *name)
{
	struct sched_script *sc = sched__script(s, name);
	return sc != NULL ? sc->p : NULL;
}

int (*sched_reports_body(const struct sched *s))(struct sched_run *r, struct diag *d)
{
	return s->reports;
}

const struct sched_job_ops *
sched_builtin(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < s->nbuiltins; i++)
		if (strcmp(s->builtins[i].name, name) == 0)
			return &s->builtins[i];
	return NULL;
}

const char *
sched__default_zone(const struct sched *s)
{
	return s->cfg != NULL && s->cfg->timezone != NULL ? s->cfg->timezone : "UTC";
}

/* ---- loading scripts ------------------------------------------------------------- */

static int
add_error(struct sched *s, const char *msg, struct diag *d)
{
	char **v = realloc(s->errors, (s->nerrors + 1) * sizeof(*v));
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory recording a script error");
	s->errors = v;
	if ((v[s->nerrors] = strdup(msg)) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory recording a script error");
	s->nerrors++; /* said by the caller (sched_error): the service's log, jobs list */
	return 0;
}

struct read_args {
	struct plugin *p;
	struct jobdecl *decl;
	struct diag *d;
	int rc;
};

/* Protected: reads the declaration of a loaded job plugin from its data-only state. */
static int
read_decl_pcall(lua_State *L)
{
	struct read_args *a = lua_touserdata(L, 1);
	plugin_push_decl(a->p);
	a->rc = jobdecl_read(L, -1, a->decl, a->d);
	return 0;
}

static int
read_decl(struct plugin *p, struct jobdecl *decl, struct diag *d)
{
	lua_State *L = plugin_state(p);
	struct read_args a = {p, decl, d, -1};
	int top = lua_gettop(L);
	lua_pushcfunction(L, read_decl_pcall);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		diag_set(d, DIAG_NOMEM, "%s: reading the job declaration: %s", plugin_path(p),
			 lua_tostring(L, -1));
		a.rc = -1;
	} else if (a.rc != 0) {
		diag_prefix(d, "%s", plugin_path(p));
	}
	lua_settop(L, top);
	return a.rc;
}

int
sched_job_script_check(const struct sched_job_ops *builtins, size_t nbuiltins, struct plugin *p,
		       struct jobdecl *decl, struct diag *d)
{
	const char *path = plugin_path(p);
	if (plugin_kind(p) != PLUGIN_JOB)
		return diag_set(d, DIAG_INVALID, "%s: declares a %s, expected a job (tandem.job{...})",
				path, plugin_kind_name(plugin_kind(p)));
	if (read_decl(p, decl, d) != 0)
		return -1;
	for (size_t i = 0; i < nbuiltins; i++)
		if (strcmp(builtins[i].name, plugin_name(p)) == 0)
			return diag_set(d, DIAG_CONFLICT,
					"%s: field 'name': job name '%s' is taken by a built-in job "
					"(rename the job)",
					path, plugin_name(p));
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.lua names of dir; *n = 0 when the folder does not exist. */
static int
list_scripts(const char *dir, char ***out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return 0;
	char **v = NULL;
	size_t cnt = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0)
			continue;
		char **nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL || (nv[cnt] = strdup(e->d_name)) == NULL) {
			v = nv != NULL ? nv : v;
			rc = diag_set(d, DIAG_NOMEM, "out of memory listing %s", dir);
			break;
		}
		v = nv;
		cnt++;
	}
	closedir(dp);
	if (rc == 0 && cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*out = v;
	*n = cnt;
	return rc;
}

/* Takes p as the job's plugin (replacing an earlier one of that name). */
static int
keep_script(struct sched *s, struct plugin *p, const char *path, const struct jobdecl *decl,
	    struct diag *d)
{
	struct sched_script *sc = sched__script(s, plugin_name(p));
	if (sc == NULL) {
		struct sched_script *v = realloc(s->scripts, (s->nscripts + 1) * sizeof(*v));
		if (v == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory loading job scripts");
		s->scripts = v;
		sc = &v[s->nscripts];
		memset(sc, 0, sizeof(*sc));
		if ((sc->name = strdup(plugin_name(p))) == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory loading job scripts");
		s->nscripts++;
	} else {
		plugin_delete(sc->p);
		free(sc->path);
	}
	sc->p = p;
	sc->path = strdup(path);
	sc->decl = *decl;
	sc->seen = 1;
	if (sc->path == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory loading job scripts");
	return 0;
}

/* The file's identity and times, or all zero when it cannot be statted. */
static struct stat_sig
file_sig(const char *path)
{
	struct stat sb;
	struct stat_sig g = {0};
	if (stat(path, &sb) == 0) {
		g.dev = (long long)sb.st_dev;
		g.ino = (long long)sb.st_ino;
		g.size = (long long)sb.st_size;
		g.mtime_s = (long long)sb.st_mtim.tv_sec;
		g.mtime_ns = (long long)sb.st_mtim.tv_nsec;
		g.ctime_s = (long long)sb.st_ctim.tv_sec;
		g.ctime_ns = (long long)sb.st_ctim.tv_nsec;
	}
	return g;
}

/* A script loaded from path whose file has not changed since: found again, kept as is. */
static int
unchanged(struct sched *s, const char *path, const struct stat_sig *g)
{
	if (g->ino == 0 && g->dev == 0)
		return 0;
	for (size_t i = 0; i < s->nscripts; i++) {
		struct sched_script *sc = &s->scripts[i];
		if (strcmp(sc->path, path) == 0 && memcmp(&sc->sig, g, sizeof(*g)) == 0) {
			sc->seen = 1;
			return 1;
		}
	}
	return 0;
}

/* A script that failed now: the version loaded earlier from the same file, if any, stays. */
static void
keep_previous(struct sched *s, const char *path)
{
	for (size_t i = 0; i < s->nscripts; i++)
		if (strcmp(s->scripts[i].path, path) == 0) {
			s->scripts[i].seen = 1;
			sched__log(s, TLOG_WARN, "job %s: keeping the version of %s loaded before",
				   s->scripts[i].name, path);
		}
}

static int
load_one(struct sched *s, const char *path, struct diag *d)
{
	struct diag e;
	char msg[DIAG_MSG_MAX + 64];
	struct stat_sig g = file_sig(path);
	if (unchanged(s, path, &g))
		return 0;
	s->scripts_changed = 1;
	struct plugin *p = plugin_load(s->host, path, s->have_lim ? &s->lim : NULL, &e);
	struct jobdecl decl;
	if (p == NULL)
		goto failed;
	if (sched_job_script_check(s->builtins, s->nbuiltins, p, &decl, &e) != 0)
		goto failed;
	struct sched_script *other = sched__script(s, plugin_name(p));
	if (other != NULL && other->seen && strcmp(other->path, path) != 0) {
		diag_set(&e, DIAG_CONFLICT, "%s: job name '%s' is declared by %s already", path,
			 plugin_name(p), other->path);
		goto failed;
	}
	if (keep_script(s, p, path, &decl, d) != 0)
		return -1;
	sched__script(s, plugin_name(p))->sig = g;
	return 0;
failed:
	plugin_delete(p);
	snprintf(msg, sizeof(msg), "%s", e.msg);
	keep_previous(s, path);
	return add_error(s, msg, d);
}

static int
load_scripts(struct sched *s, struct diag *d)
{
	for (size_t i = 0; i < s->nscripts; i++)
		s->scripts[i].seen = 0;
	if (s->ws == NULL)
		return 0;
	char dir[4096];
	if (strcmp(s->ws, ".") == 0)
		snprintf(dir, sizeof(dir), "%s", plugin_kind_dir(PLUGIN_JOB));
	else
		snprintf(dir, sizeof(dir), "%s/%s", s->ws, plugin_kind_dir(PLUGIN_JOB));
	char **files;
	size_t n;
	if (list_scripts(dir, &files, &n, d) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096 + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (rc == 0)
			rc = load_one(s, path, d);
		free(files[i]);
	}
	free(files);
	/* Scripts gone from the folder: unloaded here, disabled in the table by the sync. */
	size_t w = 0;
	for (size_t i = 0; i < s->nscripts; i++) {
		if (s->scripts[i].seen) {
			s->scripts[w++] = s->scripts[i];
		} else {
			script_fini(&s->scripts[i]);
			s->scripts_changed = 1;
		}
	}
	s->nscripts = w;
	return rc;
}

/* ---- the jobs table ------------------------------------------------------------- */

struct job_row {
	const char *name, *kind, *script, *schedule, *zone, *misfire;
	int64_t grace_s, jitter_s, max_lateness_s;
	int overlap;
};

/*
 * Upserts one job. A changed schedule or zone first drops the job's pending
 * occurrences that are not due yet (predictions of the old schedule); a job
 * enabled again starts owing runs from now, not from when it was disabled.
 *
 * Why a job's future rows skipped by its disabling are made pending again first:
 * disable_gone closes every pending row, the predicted next one included, which is
 * still ahead. Left skipped, that row kept the job from ever getting a next run
 * once enabled again before its instant: materializing takes a row after now as
 * "the next one exists already", and its instant cannot be inserted twice (walk2
 * #3: a script removed and restored under `serve` had NEXT RUN "-" for good).
 * Done for every job the sync writes, so a database left so by an older binary
 * heals at the next sync too.
 */
static int
upsert(struct sched *s, const struct job_row *j, const char *ts, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "reopening the predictions of a job enabled again",
			      "UPDATE occurrences SET status = 'pending', finished_at = NULL,"
			      " reason = NULL WHERE status = 'skipped' AND due_at > ?1"
			      " AND reason LIKE 'the job was disabled%'"
			      " AND job_id = (SELECT id FROM jobs WHERE name = ?2)",
			      d);
	if (rc == 0)
		rc = stmt_bind_text(&q, 1, ts, d) || stmt_bind_text(&q, 2, j->name, d) ||
		     stmt_run(&q, d);
	stmt_finalize(&q);
	if (rc != 0)
		return -1;
	rc = stmt_prepare(&q, s->st, "dropping the predictions of a changed job schedule",
			      "DELETE FROM occurrences WHERE status = 'pending' AND due_at > ?1"
			      " AND job_id = (SELECT id FROM jobs WHERE name = ?2"
			      "  AND (schedule <> ?3 OR timezone <> ?4))",
			      d);
	if (rc == 0)
		rc = stmt_bind_text(&q, 1, ts, d) || stmt_bind_text(&q, 2, j->name, d) ||
		     stmt_bind_text(&q, 3, j->schedule, d) || stmt_bind_text(&q, 4, j->zone, d) ||
		     stmt_run(&q, d);
	stmt_finalize(&q);
	if (rc != 0)
		return -1;
	rc = stmt_prepare(
		&q, s->st, "saving a job",
		"INSERT INTO jobs (name, kind, script, schedule, timezone, misfire, grace_s, overlap,"
		" jitter_s, max_lateness_s, enabled, enabled_at, created_at, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?11, ?11)"
		" ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, script = excluded.script,"
		" schedule = excluded.schedule, timezone = excluded.timezone,"
		" misfire = excluded.misfire, grace_s = excluded.grace_s, overlap = excluded.overlap,"
		" jitter_s = excluded.jitter_s, max_lateness_s = excluded.max_lateness_s,"
		" enabled_at = CASE WHEN enabled = 0 THEN excluded.enabled_at ELSE enabled_at END,"
		" enabled = 1, updated_at = excluded.updated_at"
		" WHERE kind IS NOT excluded.kind OR script IS NOT excluded.script"
		" OR schedule <> excluded.schedule OR timezone <> excluded.timezone"
		" OR misfire <> excluded.misfire OR grace_s <> excluded.grace_s"
		" OR overlap <> excluded.overlap OR jitter_s <> excluded.jitter_s"
		" OR max_lateness_s <> excluded.max_lateness_s OR enabled = 0",
		d);
	if (rc == 0)
		rc = stmt_bind_text(&q, 1, j->name, d) || stmt_bind_text(&q, 2, j->kind, d) ||
		     stmt_bind_text(&q, 3, j->script, d) || stmt_bind_text(&q, 4, j->schedule, d) ||
		     stmt_bind_text(&q, 5, j->zone, d) || stmt_bind_text(&q, 6, j->misfire, d) ||
		     stmt_bind_int64(&q, 7, j->grace_s, d) || stmt_bind_int64(&q, 8, j->overlap, d) ||
		     stmt_bind_int64(&q, 9, j->jitter_s, d) ||
		     stmt_bind_int64(&q, 10, j->max_lateness_s, d) || stmt_bind_text(&q, 11, ts, d) ||
		     stmt_run(&q, d);
	stmt_finalize(&q);
	return rc;
}

/* Lua jobs whose script is gone, and built-ins this build no longer has: disabled (their
 * history stays). A script that is still there but failed to load keeps its row as it was. */
static int
disable_gone(struct sched *s, const char *ts, struct diag *d)
{
	struct stmt q = {0}, u = {0}, c = {0};
	int rc = stmt_prepare(&q, s->st, "listing jobs",
			      "SELECT name, script, kind FROM jobs WHERE enabled = 1", d);
	/* Its pending occurrences are closed with the reason, so the history says why they
	 * never ran (and a job enabled again does not find them as a backlog). */
	if (rc == 0)
		rc = stmt_prepare(&u, s->st, "disabling a job whose script is gone",
				  "UPDATE jobs SET enabled = 0, updated_at = ?2 WHERE name = ?1", d);
	if (rc == 0)
		rc = stmt_prepare(&c, s->st, "closing the occurrences of a disabled job",
				  "UPDATE occurrences SET status = 'skipped', finished_at = ?2,"
				  " reason = ?3 WHERE status = 'pending'"
				  " AND job_id = (SELECT id FROM jobs WHERE name = ?1)",
				  d);
	while (rc == 0) {
		int r = stmt_step(&q, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		const char *name, *script, *kind;
		if (stmt_text(&q, 0, &name, d) || stmt_text(&q, 1, &script, d) ||
		    stmt_text(&q, 2, &kind, d)) {
			rc = -1;
			break;
		}
		struct stat sb;
		if (strcmp(kind, "builtin") == 0 ? sched_builtin(s, name) != NULL
		    : sched__script(s, name) != NULL || (script != NULL && stat(script, &sb) == 0))
			continue;
		char why[512];
		snprintf(why, sizeof(why), "the job was disabled (%s%s)",
			 script != NULL ? "its script is gone: " : "not in this build",
			 script != NULL ? script : "");
		rc = stmt_bind_text(&u, 1, name, d) || stmt_bind_text(&u, 2, ts, d) ||
		     stmt_run(&u, d) || stmt_bind_text(&c, 1, name, d) || stmt_bind_text(&c, 2, ts, d) ||
		     stmt_bind_text(&c, 3, why, d) || stmt_run(&c, d);
		if (rc == 0)
			sched__log(s, TLOG_INFO, "job %s: %s", name, why);
	}
	stmt_finalize(&q);
	stmt_finalize(&u);
	stmt_finalize(&c);
	return rc;
}

int
sched_sync(struct sched *s, struct diag *d)
{
	clear_errors(s);
	s->scripts_changed = 0;
	if (load_scripts(s, d) != 0)
		return -1;
	/* Nothing loaded, dropped or failed, and the table was written by an earlier sync of
	 * this struct: the rows are what they would be written as again. */
	if (s->synced && !s->scripts_changed && s->nerrors == 0)
		return 0;
	s->materialized = 0; /* the jobs may change: materialize again (occur.c) */
	s->synced = 0;
	char ts[STORE_TIME_MAX];
	if (store_format_time(sched_now(s), ts) != 0)
		return diag_set(d, DIAG_INTERNAL, "syncing jobs: the clock is out of range");
	if (store_begin(s->st, d) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->nbuiltins; i++) {
		const struct sched_job_ops *o = &s->builtins[i];
		struct job_row j = {o->name, "builtin", NULL, o->schedule,
				    o->timezone != NULL ? o->timezone : sched__default_zone(s),
				    "once", JOBDECL_DEFAULT_GRACE_S, 0, 0, 0};
		rc = upsert(s, &j, ts, d);
	}
	for (size_t i = 0; rc == 0 && i < s->nscripts; i++) {
		const struct sched_script *sc = &s->scripts[i];
		struct job_row j = {sc->name, "lua", sc->path, sc->decl.schedule,
				    sc->decl.timezone[0] ? sc->decl.timezone : sched__default_zone(s),
				    jobdecl_misfire_name(sc->decl.misfire), sc->decl.grace_s,
				    sc->decl.jitter_s, sc->decl.max_lateness_s, sc->decl.overlap};
		rc = upsert(s, &j, ts, d);
	}
	if (rc == 0)
		rc = disable_gone(s, ts, d);
	if (rc != 0) {
		store_rollback(s->st);
		return diag_prefix(d, "syncing jobs");
	}
	if (store_commit(s->st, d) != 0)
		return -1;
	s->synced = 1;
	return 0;
}

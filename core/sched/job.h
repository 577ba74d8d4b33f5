/*
 * sched/job: the scheduler's jobs: what runs on a schedule, and the struct sched
 * that owns them for one workspace.
 *
 * A job is a schedule (an RFC 5545 rule or "every N minutes|hours|days", read by
 * time/rrule.h) in a zone, a misfire policy, an overlap policy, a jitter and a
 * maximum lateness, plus what to run: a built-in body (sched/builtin.h) or a Lua
 * job plugin in WORKSPACE/scripts/ (one NAME.lua per job):
 *
 *     return tandem.job{ name = "weekly-digest", version = "1.0.0", api = 1,
 *       schedule = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0", timezone = "Europe/Paris",
 *       misfire = "once", grace = "1h", overlap = false, jitter = "5m",
 *       max_lateness = "2h", needs = {"sessions"},
 *       run = function(ctx) return { {event = {kind = "custom.digest", payload = {}}} } end }
 *
 * Jobs persist in the `jobs` table (schema v5), one row per name. sched_sync keeps
 * the table in step with the built-ins this build has and the scripts the
 * workspace has: new jobs are inserted, changed ones updated (a changed schedule
 * or zone drops the job's pending occurrences that are not yet due, since they
 * were predictions of the old schedule), and a Lua job whose script is gone is
 * disabled, never deleted, so its history stays (its pending occurrences closed
 * as skipped); when the script is back, the job is enabled again and those of its
 * closed occurrences not yet due are pending again. A script that fails to load is
 * reported (sched_errors) and leaves its row as it was; if it loaded before in
 * this struct sched, the version loaded then stays in use (a reload that breaks
 * keeps the last good one).
 *
 * Occurrences, misfire, running: sched/occur.h.
 *
 * Who calls it: `tandem serve` (one struct sched for the life of the service;
 * sched_sync at every wake, loading only what changed, and on SIGHUP everything),
 * `tandem simulate`, `tandem jobs`, tests.
 *
 * Contract:
 *  - struct sched borrows the store, the config, the plugin host and the clock:
 *    they must outlive it. It owns the Lua job plugins it loaded (each one a
 *    long-lived worker process) and frees them in sched_delete.
 *  - One struct sched belongs to one thread at a time, like its store.
 *  - Time: sched_now() is the clock given in the options, else the store's clock.
 *    Every function that decides "due" takes `now` from its caller, so a virtual
 *    clock drives the same code.
 *  - Logging goes to the callback of the options (NULL: tlog).
 */
#ifndef TANDEM_SCHED_JOB_H
#define TANDEM_SCHED_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/diag.h"
#include "lua/jobdecl.h"
#include "lua/plugin.h"
#include "program/config.h"
#include "store/store.h"

struct sched;

/*
 * What a built-in job body gets for one run. The body runs inside the run's
 * transaction (a savepoint of it): it writes with the store as usual
 * (store_begin/commit compose), appends its events, and returns 0, or -1 with a
 * diag (then everything it wrote is rolled back and the occurrence is 'failed'
 * with the diag's message as its reason).
 */
struct sched_run {
	struct sched *sched;
	struct store *st;
	const struct config *cfg; /* tandem.lua; may be NULL */
	const char *job;          /* the job's name */
	int64_t occurrence_id;
	time_t due;               /* the schedule's instant */
	time_t now;               /* when it runs */
	int covers;               /* instants this run stands for (misfire 'once': > 1) */
	char result[512];         /* the body may write a JSON object here ("{\"queued\":3}"); "" = {} */
	int failures;             /* parts that failed without failing the run, each recorded by
				   * the body (monthly-reports: a plugin's report.failed); a
				   * 'done' run with failures is logged as a warning and counted
				   * by sched_failed_parts (occur.h) */
};

/*
 * A built-in job: its name, schedule, body and zone (NULL: the workspace's zone), and
 * optionally when it next has work (sched/nextwork.h): 0 + *at (may be <= now), 1 when it
 * has none until something is written, -1 + diag. A job with next_work is materialized
 * only at its schedule's instants where it has work (sched/occur.h); NULL: at every one.
 */
struct sched_job_ops {
	const char *name;
	const char *schedule;
	int (*run)(struct sched_run *r, struct diag *d);
	const char *timezone;
	int (*next_work)(struct sched *s, time_t now, time_t *at, struct diag *d);
};

struct sched_opts {
	struct store *st;               /* required */
	const struct config *cfg;       /* NULL: no programs, zone UTC */
	const struct plugin_host *host; /* validates job scripts; NULL: the built-in kinds */
	const char *ws;                 /* workspace folder (its scripts/); NULL: no Lua jobs */
	const struct clock *clock;      /* NULL: the store's clock */
	/* The built-in jobs; builtins_set = 0 means this build's table (sched_builtin_jobs). */
	const struct sched_job_ops *builtins;
	size_t nbuiltins;
	int builtins_set;
	/* Log lines ("job X: ..."); NULL: tlog. */
	void (*log)(void *ud, int level, const char *msg);
	void *log_ud;
	/* Limits for job plugins (NULL: the declarations' own and the defaults). */
	const struct plugin_limits *lim;
	/* The body of the built-in monthly-reports job, which lives in a layer above this one
	 * (report/publish: report_publish_job); whoever creates the struct sched wires it.
	 * NULL: a run of monthly-reports fails saying it is not wired in this process. */
	int (*reports)(struct sched_run *r, struct diag *d);
};

struct sched *sched_new(const struct sched_opts *o, struct diag *d);
/* Kills the job plugins' workers and frees everything. NULL is a no-op. */
void sched_delete(struct sched *s);

/*
 * The jobs table <- the built-ins + the scripts in WS/scripts (see above), in one
 * transaction. Scripts are (re)loaded here, each in its worker. 0, or -1 + diag
 * (a store failure; a bad script is not a failure of the sync: see sched_errors).
 * A script whose file (device, inode, size, mtime, ctime) is as it was when this struct
 * loaded it is not loaded again (its worker goes on); when no script was loaded,
 * dropped or refused and an earlier sync of this struct wrote the table, the sync writes
 * nothing and the materialized occurrences stand. The service syncs at every wake, so a
 * script added, edited or removed is seen at the next one, and an idle wake forks nothing.
 */
int sched_sync(struct sched *s, struct diag *d);

/* The next sched_sync loads every script again and writes the table (the service's
 * reload on SIGHUP, where the config's zone or limits may have changed). */
void sched_forget_scripts(struct sched *s);

/* The next sched_materialize reads every job again, even at the instant of the last one
 * (which it otherwise skips): the service's wake, since another process may have written
 * work since (sched/nextwork.h). */
void sched_rematerialize(struct sched *s);

/* The service's reload: the cadences the plan-sessions job keeps loaded between runs are
 * loaded again where their files changed; one whose new version does not load keeps the
 * loaded one (cadence_cache_refresh: 1 + diag saying which and why). */
int sched_refresh_cadences(struct sched *s, struct diag *d);

/* The problems of the last sched_sync, one per script: "scripts/x.lua:4: field 'misfire' ...". */
size_t sched_nerrors(const struct sched *s);
const char *sched_error(const struct sched *s, size_t i);

struct store *sched_store(const struct sched *s);
const struct config *sched_config(const struct sched *s);
const char *sched_ws(const struct sched *s);
const struct plugin_host *sched_host(const struct sched *s);
time_t sched_now(const struct sched *s);

/* The Lua job plugin loaded for job NAME, or NULL (not a Lua job, or its script failed). */
struct plugin *sched_job_plugin(const struct sched *s, const char *name);

/* The monthly-reports body given in the options, or NULL. */
int (*sched_reports_body(const struct sched *s))(struct sched_run *r, struct diag *d);

/* The built-in job NAME of this struct sched, or NULL. */
const struct sched_job_ops *sched_builtin(const struct sched *s, const char *name);

/*
 * Whether the loaded plugin p may be a job script: a job (tandem.job{...}), its
 * declaration readable (*decl filled), its name none of builtins[0..n). The
 * service's script loading and `tandem plugins check` (with sched_builtin_jobs)
 * both judge by it. 0, or -1 with a diag naming the file and the field.
 */
int sched_job_script_check(const struct sched_job_ops *builtins, size_t nbuiltins, struct plugin *p,
			   struct jobdecl *decl, struct diag *d);

/* ---- reading jobs, for `tandem jobs` ---------------------------------------------- */

/* One occurrence as listed. Strings are owned by the listing. */
struct sched_occ_info {
	int64_t id;
	char *due_at, *run_at; /* ISO 8601 UTC */
	char *status;          /* pending running done failed skipped missed */
	char *finished_at;     /* NULL while pending */
	char *result;          /* JSON text or NULL */
	char *reason;          /* why skipped/missed/failed, or NULL */
	int covers, attempts;
};

struct sched_job_info {
	int64_t id;
	char *name, *kind, *script, *schedule, *timezone, *misfire;
	int64_t grace_s, jitter_s, max_lateness_s;
	int overlap, enabled;
	int on_work;                   /* a built-in run only where it has work (next_work) */
	char *next_run;                /* earliest pending run_at, or NULL (with on_work: when
	                                * work appears) */
	struct sched_occ_info last;    /* the latest finished run (done/failed); id 0 if none */
	int64_t counts[6];             /* by status, in the order of sched_status_names: runs; for
	                                * skipped and missed the instants, each once
	                                * (sched/occur.h) */
	struct sched_occ_info *missed; /* the latest skipped/missed ones, newest first */
	size_t nmissed;
};

/* "pending", "running", "done", "failed", "skipped", "missed". */
extern const char *const sched_status_names[6];

/* Every job (enabled or not), the next due first (then by name; no next run last), with up to `recent` skipped/missed occurrences each. */
int sched_list(struct sched *s, size_t recent, struct sched_job_info **out, size_t *n,
	       struct diag *d);
void sched_list_free(struct sched_job_info *v, size_t n);

/* The occurrences of job NAME, newest due first, at most `limit`; DIAG_NOTFOUND names the jobs. */
int sched_history(struct sched *s, const char *name, size_t limit, struct sched_occ_info **out,
		  size_t *n, struct diag *d);
void sched_occ_free(struct sched_occ_info *v, size_t n);

/* A job and an occurrence as `tandem jobs --json` and GET /api/v1/jobs show them: the fields
 * above by name, result parsed as JSON (kept as a string when it does not parse). */
json_t *sched_job_json(const struct sched_job_info *j);
json_t *sched_occ_json(const struct sched_occ_info *o);

#endif

/*
 * sched_internal: what the files of the scheduler share (job.c, occur.c, run.c,
 * actions.c, and the built-in jobs' bodies: builtin.c, remind.c, nextwork.c, reveal.c)
 * and nobody else may use:
 * the struct sched and sched__* helpers.
 */
#ifndef TANDEM_SCHED_INTERNAL_H
#define TANDEM_SCHED_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "lua/jobdecl.h"
#include "lua/plugin.h"
#include "sched/job.h"

/*
 * The instants an occurrence row O (an SQL alias) accounts for by itself when it is skipped
 * or missed: its covers, but 1 for a run that misfire 'once' kept and that later runs
 * coalesced into (its covers grew by theirs, which are counted where they were skipped:
 * counting them again made two outages show more skipped runs than instants).
 */
#define SCHED_OWN_COVERS_SQL(O)                                                               \
	"(CASE WHEN " O ".covers > 1 AND EXISTS (SELECT 1 FROM occurrences c WHERE c.job_id = " \
	O ".job_id AND c.status = 'skipped' AND c.reason = 'coalesced into the run due at ' || " \
	O ".due_at || ' (misfire = once)') THEN 1 ELSE " O ".covers END)"

/* True (1) for the built-in monthly-reports job's rows, J a jobs alias: its occurrences
 * run after every other due one (run.c, occur.h "sched_run_one"). */
#define SCHED_REPORTS_SQL(J) "(" J ".kind = 'builtin' AND " J ".name = 'monthly-reports')"

/* A Lua job loaded from the workspace's scripts. */
struct sched_script {
	char *name;          /* the declared name = the job's name */
	char *path;
	struct plugin *p;    /* loaded in its worker */
	struct jobdecl decl; /* read from the declaration */
	int seen;            /* found by the current sync */
	struct stat_sig {    /* the file as it was loaded: unchanged, it is not loaded again */
		long long dev, ino, size, mtime_s, mtime_ns, ctime_s, ctime_ns;
	} sig;
};

struct sched {
	struct store *st;
	const struct config *cfg;
	const struct plugin_host *host;
	char *ws;
	const struct clock *clock;
	const struct sched_job_ops *builtins;
	size_t nbuiltins;
	void (*log)(void *ud, int level, const char *msg);
	void *log_ud;
	struct plugin_limits lim;
	int have_lim;
	int (*reports)(struct sched_run *r, struct diag *d);
	struct sched_script *scripts;
	size_t nscripts;
	char **errors;
	size_t nerrors;
	struct cadence_cache *cadences; /* the plan-sessions job's, created at its first run */
	struct ical_zones *zones;       /* the send-reminders job's .ics zones (time/ical.h) */
	struct sched_grid *grids;       /* kept rule expansions (occur.c), NULL until the first */
	/* The `now` of the last sched_materialize that committed, valid until the next sync:
	 * materializing again at the same instant finds nothing new (occur.c). */
	time_t materialized_now;
	int materialized;
	int synced;	     /* a sync wrote the jobs table, and nothing changed since */
	int scripts_changed; /* the last load_scripts loaded, dropped or failed something */
	unsigned long runs_failed; /* occurrences this struct recorded 'failed' (run.c: finish) */
	unsigned long parts_failed; /* failures of 'done' built-in runs (sched_run.failures) */
	int hold_reports;          /* sched_hold_reports: sched_run_one leaves the reports */
};

/* The sched's cadence cache (sched/cadence.h), created on first use; NULL + diag when out
 * of memory. */
struct cadence_cache *sched__cadences(struct sched *s, struct diag *d);

/* The kept VTIMEZONEs of the reminders' .ics (time/ical.h "Kept zones"), created on first
 * use; NULL when out of memory (the calendars are then written without). */
struct ical_zones *sched__zones(struct sched *s);

/* Frees the kept rule expansions of occur.c (sched_delete). */
void sched__grids_free(struct sched *s);

/* A log line through the sched's callback (or tlog). */
void sched__log(const struct sched *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The loaded script of Lua job NAME, or NULL. */
struct sched_script *sched__script(const struct sched *s, const char *name);

/* The zone a job uses when it names none: the workspace's, else UTC. */
const char *sched__default_zone(const struct sched *s);

/*
 * One Lua run (actions.c): calls the job's `run` hook with ctx (now, due, covers,
 * the programs, the snapshots the job needs) outside any transaction; on success
 * *actions holds the returned value, marshalled (lua/marshal), for
 * sched__apply_actions. 0, or -1 + diag (the plugin's error).
 */
struct buf;
int sched__lua_call(struct sched *s, struct sched_script *sc, int64_t occ_id, time_t due,
		    time_t now, int covers, struct buf *actions, struct diag *d);

/*
 * Validates and applies what a Lua job returned (inside the run's transaction).
 * Writes a JSON summary ({"actions": N, "events": N, ...}) into result. 0, or -1 +
 * diag: an invalid action ("scripts/x.lua: action 2: field 'kind' ...", nothing
 * applied) or a store failure.
 */
int sched__apply_actions(struct sched *s, struct sched_script *sc, const struct buf *actions,
			 time_t now, char *result, size_t size, struct diag *d);

/*
 * The earliest end of the sessions sql reads (nextwork.c; for the mark-missed job's next
 * work and reveal_next): rows (start, end) in epoch seconds, in the order of starts_at
 * (the text), from an index. It stops at the first start after the earliest end found:
 * a later one cannot end sooner. The same answer as the min of the ends over the
 * sessions starting within a day (the longest a session lasts) of the first one, but
 * reads the few sessions of the first hour instead of a day's. The first row's start
 * NULL (an unreadable time): none, as that day's bound is then NULL. 0 with *at, 1 when
 * none, -1 + diag.
 */
struct store;
int sched__earliest_end(struct store *st, const char *name, const char *sql, time_t *at,
			struct diag *d);

#endif

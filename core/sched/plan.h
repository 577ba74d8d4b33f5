/*
 * sched/plan: planning a program's sessions: every active pair's cadence, turned
 * into session rows.
 *
 * plan_program(ctx, program, now, horizon_days, rep, d):
 *  - the program's cadence is its tandem.lua `cadence` (a built-in name, a
 *    workspace plugin, or a path); unset, it follows time_commitment's
 *    sessions_per_month (1 -> monthly, 2 -> biweekly, 4 -> weekly), else biweekly.
 *    Sessions last the program's minutes_per_session, else the cadence's
 *    duration_min, else 60 minutes (a session a plan returns may say otherwise).
 *  - every match of the program with status active is planned over
 *    [max(now, activation), min(now + horizon, the program's end, the match's end)):
 *    never in the past, never beyond the program's last day (its end in the
 *    workspace zone) or the match's end. horizon_days 0 means PLAN_HORIZON_DAYS.
 *  - each instant goes through session_insert (ON CONFLICT DO NOTHING on the natural
 *    key (match, start)), so planning twice inserts nothing twice; the session gets
 *    its topic and agenda from the program's topic library (session_agenda), or the
 *    topic the plan gave.
 *  - a cadence whose plan changed (after_miss after a miss, availability that moved)
 *    leaves sessions it planned earlier that are no longer in its plan: those still
 *    planned, planned_by this cadence, starting inside the window and more than
 *    PLAN_KEEP_HOURS from now, are cancelled (reason "replanned by cadence X"); the
 *    nearer ones are kept, since the pair may have arranged them already. Sessions
 *    planned_by another cadence (the program's cadence changed in tandem.lua) are
 *    replanned the same way: kept at an instant the plan has, else cancelled (reason
 *    "replanned by cadence X (the program's cadence changed)", counted in
 *    rep->changed). Only sessions planned_by 'manual' (moved by hand) are never
 *    replanned; a cancelled instant is never planned again, so changing the cadence back
 *    does not bring back what the change cancelled.
 *  - planned sessions of the program's active pairs that start at or after the
 *    program's end or their match's end (an `ends` moved earlier in tandem.lua) are
 *    cancelled, whatever planned them (reason "after the program's end (DATE)" or
 *    "after the match's end"), even when the program's end has passed.
 *  - every instant is fitted into both people's time (sched/plan_fit): inside both
 *    people's slots on its own date when the cadence took it from their shared slot,
 *    and never overlapping another session of either person (any of their pairs,
 *    planned or held; the pairs are planned by match id, so the first one keeps the
 *    slot); one that does not fit moves to the first fitting start of its day, else it
 *    is dropped and the pair reported ("no free slot on DATE: ...").
 *  - pairs the cadence cannot plan are reported, not fatal: no shared slot (naming
 *    both people and their availability), or the plan hook failed (its error). The
 *    reason is kept on the pair (matches.plan_note, schema v19; '' once a plan gives
 *    it sessions again) for `tandem health` and `tandem simulate` to show.
 *  - the sessions a cadence returns are held to the pair's calendar (sched/plan_check):
 *    one that would end after the program's or the match's end, or overlap another
 *    session of the pair (stored, planned or held, or another of the same result), is
 *    dropped and reported (rep->refused, with the hook's FILE:LINE, entry and field);
 *    the pair's other sessions are planned.
 * The plugin calls happen first, outside any transaction; then every insert and
 * cancellation commits in ONE transaction level (store_begin: nested inside the
 * caller's when there is one, e.g. the service's job), with their events.
 *
 * Planning only what changed. Each plan also runs the cadence PLAN_LOOKAHEAD_DAYS past
 * the window and records, per pair, the instant after which planning it again would add
 * a session (matches.plan_next_at: its next instant beyond the window minus the horizon;
 * "never" when the window is closed by the program's or the match's end, or the pair has
 * no shared slot), and per program a signature of what the plan assumed (cadence and its
 * file, dates, session length, horizon, zone: plan_programs). Triggers (schema v11) clear
 * a pair's plan_next_at when its match, people or enrollments change, and set its
 * plan_history flag when its sessions change. An incremental plan then reads and plans
 * only the pairs whose plan_next_at has passed or is cleared, plus, for a cadence with a
 * plan hook (which reads the history), those whose history changed; a signature that
 * differs plans every pair. For a cadence whose instants depend on the pair, its history
 * and the dates of the window (never on the hour of the run: the built-ins, and what
 * idempotent planning needs anyway), this inserts and cancels exactly what planning
 * every pair every hour does, at the same runs.
 *
 * Who calls it: cli/cmd_sessions.c (`tandem sessions plan`), the service's
 * plan-sessions job (sched/builtin), tandem simulate.
 */
#ifndef TANDEM_SCHED_PLAN_H
#define TANDEM_SCHED_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "base/sha256.h"

struct store;
struct config;

enum { PLAN_HORIZON_DAYS = 56, PLAN_KEEP_HOURS = 24, PLAN_LOOKAHEAD_DAYS = 40 };

struct cadence_cache;

struct plan_ctx {
	struct store *st;
	const struct config *cfg;
	const char *ws;      /* the workspace folder (its plugins/cadences); NULL: built-ins only */
	const char *cadence; /* overrides every program's cadence (tests); NULL: the program's */
	/* 1: plan only the pairs whose plan can have changed (the service's hourly job; see
	 * "Planning only what changed" above). 0: every active pair (`tandem sessions plan`). */
	int incremental;
	/* Keeps the cadences loaded between runs (the service's); NULL: opened for this run. */
	struct cadence_cache *cadences;
};

/* A pair that could not be planned (no session, or not all its sessions), and why; or a
 * session of a pair that was refused. */
struct plan_note {
	int64_t match_id;
	char *mentor, *mentee; /* names */
	char *reason;
};

struct plan_report {
	char program[128];
	char cadence[128];   /* the cadence used */
	char cadence_from[32]; /* "program", "sessions_per_month", "default", "override" */
	time_t from, until;  /* the window: now .. now + horizon, clipped to the program's end */
	int pairs;           /* active matches */
	int replanned;       /* of them, those planned by this run (incremental: the pairs whose
			      * plan can have changed; else all); the others' instants in the
			      * window are counted in existing, as a full plan finds them */
	int planned;         /* sessions inserted */
	int existing;        /* instants already there (any state) */
	int cancelled;       /* sessions cancelled: of an earlier plan, or after the end */
	int late;            /* of those, after the program's or the match's end */
	int changed;         /* of those, planned by another cadence (the program's cadence
			      * changed) and replanned away */
	int unplanned_left;  /* pairs not replanned whose last plan gave them no session */
	struct plan_note *notes;     /* pairs that could not be planned, and why */
	size_t nnotes;
	struct plan_note *refused;   /* sessions refused (plan_check), one note each */
	size_t nrefused;
};

/*
 * Plans program `program` (declared in ctx->cfg) at `now`. 0 with rep filled
 * (release with plan_report_fini), or -1 with a diag: unknown program, a cadence
 * that cannot be loaded, a database error (nothing is written then).
 */
int plan_program(struct plan_ctx *ctx, const char *program, time_t now, int horizon_days,
		 struct plan_report *rep, struct diag *d);
void plan_report_fini(struct plan_report *rep);

/* What plan_all did, summed over the programs: the plan-sessions job's result. A program
 * is skipped when its plan fails (a cadence that does not load, a bad date: why says so)
 * or its window is closed (its last day is over). The first PLAN_SKIPPED_KEEP skipped
 * programs are named, nskipped counts them all. */
enum { PLAN_SKIPPED_KEEP = 4 };
struct plan_summary {
	int programs;  /* programs planned */
	int pairs, replanned, planned, existing, cancelled;
	int changed;   /* of cancelled, plan_report.changed */
	int unplanned; /* pairs that could not be planned (plan_report.notes) */
	int refused;   /* sessions refused (plan_report.refused) */
	int nskipped;
	struct {
		char program[128];
		char why[200];
	} skipped[PLAN_SKIPPED_KEEP];
};

/* Plans every program of ctx->cfg (the service's job) into *sum. A program that fails is
 * logged and skipped; -1 only for a database error. */
int plan_all(struct plan_ctx *ctx, time_t now, int horizon_days, struct plan_summary *sum,
	     struct diag *d);

/* The cadence a program uses: its `cadence`, else the one sessions_per_month implies.
 * *from says which ("program", "sessions_per_month", "default"). */
struct config_program;
const char *plan_program_cadence(const struct config_program *p, const char **from);

/* The instant the program's last day `ends` (YYYY-MM-DD) ends in zone. 0 or -1 + diag. */
int plan_program_end(const char *ends, const char *zone, time_t *out, struct diag *d);

/* When program's sessions may take place: from its first day's start to its last day's
 * end in the workspace zone (session_reschedule's bounds; w's dates point into cfg).
 * A program tandem.lua no longer declares has no bounds. -1 + diag: a date's zone fails. */
struct config;
struct session_window;
int plan_program_window(const struct config *cfg, const char *program, struct session_window *w,
			struct diag *d);

/* The planned sessions of program_id's active pairs that start at or after the program's
 * end `end` (0: none) or their match's end: what a plan cancels ("after the program's
 * end", "after the match's end"), whatever planned them. *out malloc'd (NULL when *n is
 * 0); by_match: the match's end, not the program's, is passed. 0 or -1 + diag. */
struct plan_late {
	int64_t session_id;
	int by_match;
};
int plan_beyond_end(struct store *st, int64_t program_id, time_t end, struct plan_late **out,
		    size_t *n, struct diag *d);

/* What a plan of program p (id program_id) with cadence cad, opened from ref, assumes of
 * its configuration, as the signature stored in plan_programs (sig), and *same = 1 when
 * the stored one is that (a different one plans every pair; sched/nextwork reads it to
 * know a plan is due). 0 or -1 + diag. */
struct cadence;
int plan_signature(const struct plan_ctx *ctx, const struct config_program *p, const char *ref,
		   const struct cadence *cad, int horizon_days, int64_t program_id,
		   char sig[SHA256_HEX_LEN], int *same, struct diag *d);

#endif

/*
 * sched/cadence: running one cadence for one pair: the session instants a
 * cadence plugin asks for inside a window of time.
 *
 * A cadence is a plugin of kind cadence (lua/plugin.h; the built-ins weekly,
 * biweekly, monthly, taper and after_miss live in plugins/cadences/). It declares
 * a recurrence rule, a plan hook, or both (docs/plugin-api.md, "Cadences"):
 *  - rule only: one rule segment from the pair's activation (or now, if the
 *    activation is not recorded), open-ended;
 *  - plan: plan(pair, history, ctx) runs in the plugin's worker (plugin_exec: the
 *    arguments go there as marshalled data, the result is read and checked there
 *    by lua/cadence_out, so an error names FILE:LINE of the hook, the entry and
 *    the field) and returns sessions and rule segments.
 * Each rule segment is expanded by time/rrule in the cadence's zone. Where a rule
 * leaves the weekday or the hour open (rrule_open; a MONTHLY rule without BYDAY or
 * BYMONTHDAY counts as an open day, filled as "the Nth weekday" of the month),
 * they come from the pair's first shared slot (time/slots: both people's
 * availability inside their working hours, each in their own zone) on or after the
 * segment's start: the segment's first session is that slot, and the rule repeats
 * it at the same wall time in the cadence's zone. Anchoring on the segment's start
 * (not on now) keeps planning idempotent: the same inputs give the same instants.
 * A pair with no shared slot gets no session from a rule that needs one; the
 * result says so (no_slot, with the reason naming both people).
 *
 * The window is the caller's: only instants with from <= t < until are kept
 * (the planner passes from = max(now, activation), until = the horizon clipped to
 * the program's and the match's end), sorted, without duplicates.
 *
 * Who calls it: sched/plan. Not thread-safe; one cadence per thread.
 */
#ifndef TANDEM_SCHED_CADENCE_H
#define TANDEM_SCHED_CADENCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "lua/shape.h"

struct cadence;

/* Loads cadence `ref` (a declared name or a path; workspace ws first, then the
 * built-ins). NULL with a diag ("no cadence named 'x' in ...", a load error). */
struct cadence *cadence_open(const char *ws, const char *ref, struct diag *d);
void cadence_delete(struct cadence *c);

/*
 * A service keeps its cadences loaded between runs (each one's worker stays alive; a
 * worker that died is restarted by its next call): cadence_cache_get opens `ref` on
 * first use and again when its file changed (path, size or mtime), and keeps it until
 * cadence_cache_clear or cadence_cache_delete. A changed file whose new version does not
 * load leaves the loaded version in use (a broken edit never unplans anyone) until the
 * file changes again. The cadence it returns belongs to the cache.
 *
 * cadence_cache_refresh (the service's reload on SIGHUP) loads the new version of every
 * cached cadence whose file changed: 0 when each one is its file's current version, 1 +
 * diag naming the first cadence that keeps its loaded version and why (the load error,
 * with file and line), -1 out of memory. A cadence whose file went away is dropped.
 */
struct cadence_cache;
struct cadence_cache *cadence_cache_new(void);
void cadence_cache_delete(struct cadence_cache *cc);
void cadence_cache_clear(struct cadence_cache *cc);
int cadence_cache_refresh(struct cadence_cache *cc, struct diag *d);
struct cadence *cadence_cache_get(struct cadence_cache *cc, const char *ws, const char *ref,
				  struct diag *d);
/* What identifies the cadence's file: "PATH:SIZE:MTIME" into buf (empty when it cannot
 * be read: a plan then looks changed, which costs a full plan, nothing else). */
void cadence_file_id(const struct cadence *c, char *buf, size_t size);

const char *cadence_name(const struct cadence *c);
const char *cadence_path(const struct cadence *c);
/* The declared duration_min, 0 when not declared. */
int cadence_duration(const struct cadence *c);
/* The declared zone choice: "pair" (default), "mentee" or "mentor". */
const char *cadence_zone_choice(const struct cadence *c);
/* The declared rule, NULL when none. */
const char *cadence_rule(const struct cadence *c);
/* 1 when the cadence has a plan hook. */
int cadence_has_plan(const struct cadence *c);

/* What a cadence knows of a pair. Strings are the caller's. */
struct cadence_pair {
	struct shape_match match;
	struct shape_person mentor, mentee;
	struct shape_enrollment mentor_enr, mentee_enr;
	const char *zone;         /* the zone of the cadence's wall times (per its zone choice) */
	const char *topics;       /* JSON array: the pair's shared topics */
	time_t activated;         /* 0: not recorded */
	const char *activated_at; /* ISO UTC or NULL */
	const char *starts_on, *ends_on; /* the program's dates or NULL */
	int duration_min;         /* the session length when the cadence says none */
};

/* The planning call's context, given to plan as ctx. */
struct cadence_ctx {
	time_t now;
	time_t horizon;           /* the end of the window (exclusive) */
	const char *timezone;     /* the workspace's */
	const char *program, *title;
};

struct cadence_session {
	time_t start;
	int duration_min;
	char topic[128];          /* "" = none given: the agenda chooses */
	int open;                 /* 1: its weekday or hour came from the pair's shared slot */
	int entry;                /* its entry in plan's result (1-based); 0: the cadence's rule */
	int from_rule;            /* 1: an instant of a rule (a segment's or the cadence's) */
};

struct cadence_result {
	struct cadence_session *v;
	size_t n;
	int line;                 /* the line plan is defined on (0: no plan hook, or unknown) */
	int no_slot;              /* a rule needed a shared slot and the pair has none */
	char reason[512];         /* why no_slot */
};

/*
 * The sessions of pair p in [from, until): history (the pair's sessions so far, by
 * start; n_hist of them) and ctx go to plan. Returns 0 with *out filled (release
 * with cadence_result_fini) -- a pair without a shared slot is a success with
 * out->no_slot set -- or -1 with a diag (the plugin failed, returned bad values, a
 * rule it returned was refused).
 */
int cadence_run(struct cadence *c, const struct cadence_pair *p,
		const struct shape_session *history, size_t n_hist, const struct cadence_ctx *ctx,
		time_t from, time_t until, struct cadence_result *out, struct diag *d);
void cadence_result_fini(struct cadence_result *r);

#endif

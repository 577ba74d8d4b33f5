/*
 * health: program health. Every active pair of a program is on track, needs a check-in,
 * is at risk, or is too early to tell, always with the reasons that put it there; each
 * reason has a code, a sentence with the numbers ("2 consecutive missed sessions
 * (cancelled by Ana Ruiz)") and the action it suggests to the program manager: nudge
 * the pair, check in with them, or end the match and rematch. And the people enrolled in
 * two programs that run at the same time ("don't run programs on the same people at
 * once").
 *
 * Called by: cli/cmd_health.c (`tandem health`), cli/cmd_init.c (`tandem programs check`
 * lists the overlaps), the reports (metrics.health in a report plugin's input).
 * Calls: the store (read only: nothing here writes), the rating-visibility rule
 * (program/session_reveal.h's SESSION_REVEALED_SQL, the one session_list applies for an
 * organizer) to decide which ratings count, sched/plan (the program's cadence).
 *
 * The rules (docs/health.md is the reference; the thresholds are the constants below):
 *  - A pair is an active match of the program. Its activation is matches.activated_at
 *    (else decided_at, else created_at). Only sessions that have started (start <= now)
 *    count. A session is "missed" when its status is missed, or cancelled by one side of
 *    the pair (sessions.cancelled_by, `sessions cancel --as`); a session an organizer, a
 *    job, a replanning or the match's end cancelled, and a rescheduled row, count as
 *    nothing. Ratings are those an organizer sees (session_list's viewer 0, by the same
 *    SESSION_REVEALED_SQL): hidden until both sides have rated or the window closed.
 *  - The cadence's interval: the program's cadence (tandem.lua `cadence`, else what
 *    sessions_per_month implies, else biweekly: plan_program_cadence) read as days: weekly
 *    7, biweekly 14, monthly 30, taper and after_miss 14 (their steady rhythm). A plugin
 *    that declares only a rule (no plan hook) is read like them: the mean gap between its
 *    rule's instants, rounded to whole days (FREQ=WEEKLY;INTERVAL=3: 21; health_rule.c).
 *    For any other cadence (a plugin with a plan hook, or one that does not load), each
 *    pair's own: the median gap between the starts of its planned, held and missed
 *    sessions, rounded to whole days (at least 1); with fewer than 2 of them, 30 /
 *    sessions_per_month when that is set, else 14.
 *  - Reasons, each with its status and action:
 *      overdue            last held session more than 1.5 x the interval ago: needs_checkin, nudge
 *      no_first_session   nothing held HEALTH_FIRST_SESSION_DAYS after activation:
 *                         needs_checkin, nudge; after twice that: at_risk, checkin
 *      consecutive_misses the latest HEALTH_MISSES_AT_RISK or more started sessions were all
 *                         missed: at_risk, checkin (HEALTH_MISSES_REMATCH or more: rematch)
 *      one_sided          of the last HEALTH_ONE_SIDED_SESSIONS sessions with a check-in,
 *                         only one side checked in to any: needs_checkin, nudge
 *      low_ratings        HEALTH_MIN_RATINGS or more ratings, mean below 3: at_risk, rematch
 *      falling_ratings    3 or more ratings, the last two's mean at least 1 below the
 *                         earlier ones' mean: needs_checkin, checkin
 *      rating_gap         both sides rated, their means 1.5 or more apart: needs_checkin,
 *                         checkin
 *      no_shared_slot     nothing planned after now and the pair's last plan found no
 *                         shared slot (matches.plan_note, sched/plan.h): at_risk, rematch
 *      not_planned        nothing planned after now and the cadence failed for the pair at
 *                         its last plan (plan_note: the plugin's error): at_risk, checkin
 *      stale_goals        activated HEALTH_STALE_GOALS_DAYS or more ago and the mentee has
 *                         recorded no skill self-assessment (skill_assessments, `sessions
 *                         checkin --skill`) in the pair's check-ins: at_risk, checkin
 *    The pair's status is the worst of its reasons (at_risk > needs_checkin). With no
 *    reason it is too_early (activated less than HEALTH_FIRST_SESSION_DAYS ago and nothing
 *    held yet: reason too_early, action "nudge" when no session is planned, else "none")
 *    or on_track (reason on_track, action "none", saying how many sessions were held).
 *    Comparisons are exact (integer arithmetic on sums of ratings, seconds for times).
 *  - Overlaps: two programs overlap when their [starts, ends] dates (tandem.lua, the ends
 *    day included) intersect; a missing starts is open towards the past, a missing ends
 *    open-ended. A person with enrollments (any consent) in two programs that overlap is
 *    listed. Programs tandem.lua no longer declares, or that have no row yet, are left out.
 */
#ifndef TANDEM_REPORT_HEALTH_H
#define TANDEM_REPORT_HEALTH_H

#include <time.h>

#include <jansson.h>

#include "base/diag.h"

struct store;
struct config;

enum {
	HEALTH_FIRST_SESSION_DAYS = 21, /* no first session after this many days: a reason */
	HEALTH_OVERDUE_PCT = 150,	/* overdue after this percentage of the interval */
	HEALTH_MISSES_AT_RISK = 2,	/* consecutive missed sessions that make a pair at risk */
	HEALTH_MISSES_REMATCH = 3,	/* ... and from which the action is rematch */
	HEALTH_ONE_SIDED_SESSIONS = 3,	/* sessions with a check-in looked at for one_sided */
	HEALTH_MIN_RATINGS = 2,		/* ratings needed before a mean is judged low */
	HEALTH_STALE_GOALS_DAYS = 42,	/* active this long without a mentee self-assessment */
	HEALTH_DEFAULT_INTERVAL_DAYS = 14,
};
/* Ratings: a mean below HEALTH_LOW_RATING is low; a drop of HEALTH_FALLING_DROP is falling;
 * sides HEALTH_RATING_GAP apart disagree. Written as tenths for exact comparisons. */
enum { HEALTH_LOW_RATING_X10 = 30, HEALTH_FALLING_DROP_X10 = 10, HEALTH_RATING_GAP_X10 = 15 };

enum health_status {
	HEALTH_ON_TRACK,
	HEALTH_TOO_EARLY,
	HEALTH_NEEDS_CHECKIN,
	HEALTH_AT_RISK,
};

/* "on_track", "too_early", "needs_checkin", "at_risk". */
const char *health_status_name(enum health_status s);
/* 0 and *out, or -1 + DIAG_INVALID listing the four. */
int health_status_parse(const char *s, enum health_status *out, struct diag *d);

/* The program's cadence (*name; *from as plan_program_cadence says) and its interval in
 * days, by the rule above, without loading a plugin (a plugin's is the fallback). */
struct config_program;
int health_interval_days(const struct config_program *p, const char **name, const char **from);

/* The mean gap between a rule's instants in whole days (at least 1), 0 when rule is NULL,
 * not a rule, or has fewer than 2 instants (health_rule.c). */
int health_rule_interval(const char *rule);
/* The interval of cadence `cadence` of the workspace whose tandem.lua is config_path when
 * it is a plugin declaring only a rule; 0 otherwise (a plan hook, a load error). */
int health_cadence_rule_days(const char *config_path, const char *cadence);

/*
 * The health of program PROGRAM (declared in cfg; its row must exist) at now:
 * {program, generated_at, cadence {name, interval_days, from}, thresholds {...},
 *  counts {on_track, needs_checkin, at_risk, too_early},
 *  pairs: [{match_id, mentor {id, external_id, name}, mentee {...}, status, activated_at,
 *           held, missed, last_held (ISO or null), reasons: [{code, text, action}]}]
 *         by match id,
 *  overlaps: health_overlaps(PROGRAM)}.
 * *out is the caller's. -1 + diag (unknown program, store errors), *out NULL.
 */
int health_program(struct store *st, const struct config *cfg, const char *program, time_t now,
		   json_t **out, struct diag *d);

/* What health takes from tandem.lua: the program's cadence (health_interval_days). The
 * strings are borrowed from the config (or from the caller's copy of them). */
struct health_cadence {
	const char *name, *from;
	int interval_days;
	int measured; /* 1: each pair's interval is measured from its sessions (see above) */
};

/* The cadence of cfg's program PROGRAM (a plugin cadence is loaded from the workspace of
 * cfg->path to read its rule). -1 + DIAG_NOTFOUND when cfg does not declare it. */
int health_cadence_of(const struct config *cfg, const char *program, struct health_cadence *out,
		      struct diag *d);

/*
 * health_program without the config: the cadence and the overlaps (stolen, also on
 * failure) given, as health_cadence_of and health_overlaps computed them. For a report
 * plugin's worker, which computes the health on first access (report/report.c) from what
 * the host sent. Same document, same errors for the store.
 */
int health_program_with(struct store *st, const char *program, time_t now,
			const struct health_cadence *cad, json_t *overlaps, json_t **out,
			struct diag *d);

/*
 * The people enrolled in two or more of cfg's programs that overlap in time, by external
 * id: [{person {id, external_id, name}, programs: [{name, starts, ends}]}]. With program
 * set, only people enrolled in it, with it and the programs overlapping it; NULL: every
 * overlap. -1 + diag.
 */
int health_overlaps(struct store *st, const struct config *cfg, const char *program,
		    json_t **out, struct diag *d);

#endif

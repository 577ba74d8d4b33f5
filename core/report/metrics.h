/*
 * metrics: what a program achieved, as numbers, computed by SQL over the store (issue 10,
 * item 3). One call gives one program's metrics as a jansson object: the participation
 * funnel, enrollment and match rate, time to the first session, sessions by state and by
 * month, held rate per pair, ratings (under the hidden-until-both-rated rule), goal
 * progress from the mentees' skill self-assessments, participation by department,
 * location, level and generation, retention of participants versus non-participants,
 * reward totals, and the same session and rating counts per cohort.
 *
 * Called by: cli/cmd_metrics.c (`tandem metrics`), the report layer (report documents get
 * this object as the `metrics` table of a report plugin), tests/bench/bench_report.sh
 * through the CLI.
 *
 * Contract:
 *  - Reads only: runs SELECTs on st (a read-only store is fine) and writes nothing.
 *  - Every number has its exact definition in docs/metrics.md; the definitions are the SQL
 *    in metrics*.c, and tests/e2e/test_metrics.sh recomputes each from the tables.
 *  - `now` is the instant the metrics are for: it decides which ratings are visible
 *    (SESSION_REVEALED_SQL of sched/session.h, the rule session_list applies to an
 *    organizer) and is printed as generated_at. Statuses (people, matches, sessions) are
 *    read as they are in the store.
 *  - A rate or a mean whose denominator is 0 is JSON null, never 0 or NaN.
 *  - cfg may be NULL (it is unused: the program's declaration is read as tandem.lua last
 *    saved it, programs.config; goals follow its topic library's order, others by name).
 *  - An unknown program: DIAG_NOTFOUND "no program 'P' in the database (...)".
 *
 * The object (keys in this order; reports may rely on every key being present):
 *   program, generated_at,
 *   funnel{enrolled, matched, first_session, active, completed},
 *   enrollment{enrolled, matched, match_rate, unmatched},
 *   first_session{pairs, median_days, mean_days},
 *   sessions{planned, held, missed, cancelled, rescheduled, held_rate,
 *            per_month:[{month:"YYYY-MM", planned, held, missed, cancelled}],
 *            per_pair_held_rate{pairs, mean, min, max}},
 *   ratings{count, mean, distribution:[n1..n5], hidden, mentor{count, mean},
 *           mentee{count, mean}},
 *   goals:[{topic, assessed, n, start_mean, end_mean, delta}],
 *   participation{department:[{group, people, enrolled, matched, active}], location:[...],
 *                 level:[...], generation:[...]},
 *   retention{participants{n, retained, rate}, non_participants{n, retained, rate}},
 *   rewards{points, badges, grants, people},
 *   cohorts:[{cohort:"YYYY-MM", pairs, sessions{planned, held, missed, cancelled,
 *             held_rate}, ratings{count, mean}}]
 */
#ifndef TANDEM_METRICS_H
#define TANDEM_METRICS_H

#include <time.h>

#include <jansson.h>

#include "base/diag.h"

struct store;
struct config;

/* *out = a new object (the caller's to json_decref), or -1 + diag. */
int metrics_program(struct store *st, const struct config *cfg, const char *program, time_t now,
		    json_t **out, struct diag *d);

/* The cohort entry of m named cohort ("YYYY-MM"), borrowed from m; NULL when m has none. */
json_t *metrics_cohort(json_t *m, const char *cohort);

#endif

/*
 * metrics_internal: what metrics.c (people, sessions, cohorts, the assembly) and
 * metrics_quality.c (ratings, first sessions, goals, rewards) share. Not for other modules.
 */
#ifndef TANDEM_METRICS_INTERNAL_H
#define TANDEM_METRICS_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

struct metrics_ctx {
	struct store *st;
	int64_t program_id;
	time_t now;
	json_t *cohorts; /* object: "YYYY-MM" -> the cohort's entry, filled by both files */
};

/* n / den as a JSON real, null when den is 0. */
json_t *metrics_rate(double n, double den);

/* The cohort entry named key in c->cohorts, created (with zero counts) when missing; NULL on
 * out of memory. */
json_t *metrics_cohort_entry(struct metrics_ctx *c, const char *key);

/* Sets o[key] = v (stolen); -1 + DIAG_NOMEM when v is NULL or the set fails. */
int metrics_put(json_t *o, const char *key, json_t *v, struct diag *d);

/* metrics_quality.c: each returns a new value for its key of the object, NULL + diag. */
json_t *metrics_ratings(struct metrics_ctx *c, struct diag *d);
json_t *metrics_first_session(struct metrics_ctx *c, struct diag *d);
json_t *metrics_goals(struct metrics_ctx *c, struct diag *d);
json_t *metrics_rewards(struct metrics_ctx *c, struct diag *d);

#endif

/*
 * metrics_internal: what metrics.c (people, the assembly), metrics_sessions.c (sessions,
 * first sessions, cohorts) and metrics_quality.c (ratings, goals, rewards) share. Not for
 * other modules.
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

/* The cohort entry named key in c->cohorts (borrowed); NULL when there is none. */
json_t *metrics_cohort_entry(struct metrics_ctx *c, const char *key);

/* Sets o[key] = v (stolen); -1 + DIAG_NOMEM when v is NULL or the set fails. */
int metrics_put(json_t *o, const char *key, json_t *v, struct diag *d);

/* metrics_sessions.c: the values of the keys sessions, first_session, ratings, goals and
 * cohorts, from one read of the program's sessions, ratings and self-assessments; the
 * cohorts' entries are also indexed in c->cohorts; and the decided pairs, for the people
 * side (metrics.c). */
struct metrics_pair { /* a decided pair (approved, active or ended) */
	int64_t mentor, mentee;
	int going; /* active, or completed */
	int done;  /* completed (program/match_completed.h) */
	int met;   /* one of its sessions was held */
};
struct metrics_sessions {
	json_t *sessions, *first_session, *ratings, *cohorts, *goals;
	struct metrics_pair *pairs; /* the decided pairs, by match id */
	size_t npairs;
};
int metrics_sessions_read(struct metrics_ctx *c, struct metrics_sessions *out, struct diag *d);
void metrics_sessions_fini(struct metrics_sessions *out);

/* metrics_quality.c: each returns a new value for its key of the object, NULL + diag. */
json_t *metrics_rewards(struct metrics_ctx *c, struct diag *d);

#endif

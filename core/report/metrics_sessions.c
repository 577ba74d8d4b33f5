/*
 * metrics_sessions: the sessions side of a program's metrics (metrics.h): counts by state,
 * by month and per pair, days from activation to the first held session, and the cohorts'
 * session counts. One statement reads the program's sessions once, grouped by pair and
 * month (a few rows per pair); the sums over months, pairs and cohorts are made here.
 * Reading the 100,000 sessions of the benchmark once instead of once per figure is what
 * keeps `tandem metrics` inside its budget (docs/metrics.md, "Performance").
 * Called by metrics.c (metrics_sessions_read) before metrics_ratings, which adds the
 * cohorts' ratings to the entries made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics_internal.h"
#include "store/stmt.h"

/*
 * Every pair of the program with its sessions (LEFT JOIN: a pair without sessions is one
 * row with NULL month), grouped by pair and month of the start: the state counts and the
 * days from the pair's activation to its earliest held session of that month.
 */
static const char scan_sql[] =
    "SELECT m.id, substr(m.activated_at, 1, 7), substr(s.starts_at, 1, 7),"
    " sum(s.status = 'planned'), sum(s.status = 'held'), sum(s.status = 'missed'),"
    " sum(s.status = 'cancelled'), sum(s.status = 'rescheduled'),"
    " julianday(min(CASE WHEN s.status = 'held' THEN s.starts_at END))"
    "  - julianday(m.activated_at)"
    " FROM matches m LEFT JOIN sessions s ON s.match_id = m.id"
    " WHERE m.program_id = ?1 GROUP BY m.id, 3 ORDER BY m.id, 3";

enum { ST_PLANNED, ST_HELD, ST_MISSED, ST_CANCELLED, ST_RESCHEDULED, ST_N };

struct bucket { /* a month or a cohort */
	char key[8];
	int64_t pairs;
	int64_t n[ST_N];
};

struct scan {
	struct bucket *months, *cohorts;
	size_t nmonths, ncohorts, cap_months, cap_cohorts;
	int64_t tot[ST_N];
	double *days; /* per pair that met: days to its first held session */
	size_t ndays, cap_days;
	/* the pair being read (rows come by pair) */
	int64_t pair;
	int64_t held, missed;
	double first;
	int has_first;
	/* per-pair held rates */
	int64_t rated_pairs;
	double rate_sum, rate_min, rate_max;
};

static struct bucket *
bucket(struct bucket **v, size_t *n, size_t *cap, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return &(*v)[i];
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct bucket *nv = realloc(*v, ncap * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		*v = nv;
		*cap = ncap;
	}
	struct bucket *b = &(*v)[(*n)++];
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	return b;
}

static int
bucket_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bucket *)a)->key, ((const struct bucket *)b)->key);
}

static int
double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Closes the pair being read: its held rate and its days to the first session. */
static int
end_pair(struct scan *sc)
{
	if (sc->pair == 0)
		return 0;
	if (sc->held + sc->missed > 0) {
		double r = (double)sc->held / (double)(sc->held + sc->missed);
		sc->rate_min = sc->rated_pairs == 0 || r < sc->rate_min ? r : sc->rate_min;
		sc->rate_max = sc->rated_pairs == 0 || r > sc->rate_max ? r : sc->rate_max;
		sc->rate_sum += r;
		sc->rated_pairs++;
	}
	if (sc->has_first) {
		if (sc->ndays == sc->cap_days) {
			size_t ncap = sc->cap_days ? 2 * sc->cap_days : 256;
			double *nv = realloc(sc->days, ncap * sizeof(*nv));
			if (nv == NULL)
				return -1;
			sc->days = nv;
			sc->cap_days = ncap;
		}
		sc->days[sc->ndays++] = sc->first;
	}
	sc->pair = 0;
	sc->held = sc->missed = 0;
	sc->has_first = 0;
	return 0;
}

static int
scan_row(struct stmt *s, struct scan *sc, struct diag *d)
{
	int64_t pair = stmt_int64(s, 0);
	const char *cohort = NULL, *month = NULL;
	if (stmt_text(s, 1, &cohort, d) != 0 || stmt_text(s, 2, &month, d) != 0)
		return -1;
	if (pair != sc->pair) {
		if (end_pair(sc) != 0)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		sc->pair = pair;
		struct bucket *c = cohort ? bucket(&sc->cohorts, &sc->ncohorts, &sc->cap_cohorts,
						   cohort)
					  : NULL;
		if (cohort && c == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		if (c)
			c->pairs++;
	}
	if (month == NULL) /* a pair without sessions */
		return 0;
	int64_t n[ST_N];
	for (int i = 0; i < ST_N; i++)
		n[i] = stmt_int64(s, 3 + i);
	struct bucket *mo = bucket(&sc->months, &sc->nmonths, &sc->cap_months, month);
	struct bucket *c =
	    cohort ? bucket(&sc->cohorts, &sc->ncohorts, &sc->cap_cohorts, cohort) : NULL;
	if (mo == NULL || (cohort && c == NULL))
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < ST_N; i++) {
		mo->n[i] += n[i];
		sc->tot[i] += n[i];
		if (c)
			c->n[i] += n[i];
	}
	sc->held += n[ST_HELD];
	sc->missed += n[ST_MISSED];
	if (!stmt_is_null(s, 8)) { /* a held session this month, and the pair was activated */
		double days = stmt_double(s, 8);
		if (!sc->has_first || days < sc->first)
			sc->first = days;
		sc->has_first = 1;
	}
	return 0;
}

/* {planned, held, missed, cancelled} of a bucket, with held_rate when asked. */
static json_t *
bucket_json(const struct bucket *b, int with_rate)
{
	json_t *o = json_pack("{sI sI sI sI}", "planned", (json_int_t)b->n[ST_PLANNED], "held",
			      (json_int_t)b->n[ST_HELD], "missed", (json_int_t)b->n[ST_MISSED],
			      "cancelled", (json_int_t)b->n[ST_CANCELLED]);
	if (o && with_rate &&
	    json_object_set_new(o, "held_rate",
				metrics_rate((double)b->n[ST_HELD],
					     (double)(b->n[ST_HELD] + b->n[ST_MISSED]))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The three values from the scan; 0 or -1 (out of memory). */
static int
scan_json(struct metrics_ctx *c, struct scan *sc, struct metrics_sessions *out)
{
	if (sc->nmonths) /* no qsort of an empty (NULL) array: UBSan */
		qsort(sc->months, sc->nmonths, sizeof(*sc->months), bucket_cmp);
	if (sc->ncohorts)
		qsort(sc->cohorts, sc->ncohorts, sizeof(*sc->cohorts), bucket_cmp);
	if (sc->ndays)
		qsort(sc->days, sc->ndays, sizeof(*sc->days), double_cmp);
	json_t *months = json_array();
	for (size_t i = 0; months && i < sc->nmonths; i++) {
		json_t *m = bucket_json(&sc->months[i], 0);
		if (m == NULL || json_object_set_new(m, "month", json_string(sc->months[i].key)) ||
		    json_array_append_new(months, m) != 0) {
			json_decref(months);
			return -1;
		}
	}
	int none = sc->rated_pairs == 0;
	const int64_t *t = sc->tot;
	out->sessions = json_pack(
	    "{sI sI sI sI sI so so s{sI so so so}}", "planned", (json_int_t)t[ST_PLANNED], "held",
	    (json_int_t)t[ST_HELD], "missed", (json_int_t)t[ST_MISSED], "cancelled",
	    (json_int_t)t[ST_CANCELLED], "rescheduled", (json_int_t)t[ST_RESCHEDULED], "held_rate",
	    metrics_rate((double)t[ST_HELD], (double)(t[ST_HELD] + t[ST_MISSED])), "per_month",
	    months, "per_pair_held_rate", "pairs", (json_int_t)sc->rated_pairs, "mean",
	    metrics_rate(sc->rate_sum, (double)sc->rated_pairs), "min",
	    none ? json_null() : json_real(sc->rate_min), "max",
	    none ? json_null() : json_real(sc->rate_max));
	size_t n = sc->ndays;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += sc->days[i];
	/* Sorted: the median is the middle value, or the mean of the two middle ones. */
	json_t *median = n == 0	      ? json_null()
			 : n % 2 == 1 ? json_real(sc->days[n / 2])
				      : json_real((sc->days[n / 2 - 1] + sc->days[n / 2]) / 2);
	out->first_session = json_pack("{sI so so}", "pairs", (json_int_t)n, "median_days", median,
				       "mean_days", metrics_rate(sum, (double)n));
	out->cohorts = json_array();
	for (size_t i = 0; out->cohorts && i < sc->ncohorts; i++) {
		const struct bucket *b = &sc->cohorts[i];
		json_t *e = json_pack("{ss sI so s{sI so}}", "cohort", b->key, "pairs",
				      (json_int_t)b->pairs, "sessions", bucket_json(b, 1), "ratings",
				      "count", (json_int_t)0, "mean", json_null());
		if (e == NULL || json_object_set(c->cohorts, b->key, e) != 0 ||
		    json_array_append_new(out->cohorts, e) != 0)
			return -1;
	}
	return out->sessions && out->first_session && out->cohorts ? 0 : -1;
}

int
metrics_sessions_read(struct metrics_ctx *c, struct metrics_sessions *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	struct scan sc = {0};
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "reading the program's sessions", scan_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = scan_row(&s, &sc, d);
	stmt_finalize(&s);
	if (rc == STMT_DONE && end_pair(&sc) != 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	if (rc == STMT_DONE && scan_json(c, &sc, out) != 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	free(sc.months);
	free(sc.cohorts);
	free(sc.days);
	if (rc != STMT_DONE) {
		metrics_sessions_fini(out);
		return -1;
	}
	return 0;
}

void
metrics_sessions_fini(struct metrics_sessions *out)
{
	json_decref(out->sessions);
	json_decref(out->first_session);
	json_decref(out->cohorts);
	memset(out, 0, sizeof(*out));
}

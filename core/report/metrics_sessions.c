/*
 * metrics_sessions: the sessions side of a program's metrics (metrics.h): counts by state,
 * by month and per pair, days from activation to the first held session, the ratings
 * under the visibility rule, and the cohorts' session and rating counts.
 *
 * Three plain reads, the sums made here: the program's matches (a few thousand rows), its
 * sessions (one row each, no sort), and the ratings of its check-ins (feedback rows with a
 * rating, found through feedback.match_id). Each session's two ratings are put on it here
 * by its id, instead of two feedback lookups per session in SQL: on the benchmark's
 * 100,000 sessions the grouped statements took ~0.6 s of CPU, these reads ~0.25 s
 * (docs/performance.md, "Program metrics").
 *
 * The definitions are those of docs/metrics.md, kept exactly:
 *  - a pair is any match of the program (all statuses), its cohort the month of its
 *    activated_at (none when never activated); a session's month is that of its start;
 *  - a session held or missed whose start is after now (as of an earlier day) counts as
 *    planned, everywhere (totals, months, cohorts, pairs, days to the first session);
 *  - days to the first session: julianday of the pair's earliest held start minus
 *    julianday of its activation (both by SQLite, so the figures are the same doubles);
 *  - a rating is visible (SESSION_REVEALED_SQL) when both sides of its session rated, or
 *    at now >= the session's start + its duration + SESSION_REVEAL_DAYS (the start read
 *    as strftime('%s') by SQLite: a start it cannot read keeps the ratings hidden until
 *    both sides rated). A feedback row counts for the mentor's or the mentee's side when
 *    its author is that side of its session's match; session_checkin writes
 *    feedback.match_id as the session's match, which is how the rows are found.
 * Called by metrics.c (metrics_sessions_read).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "program/match_completed.h"
#include "program/session_reveal.h"
#include "report/metrics_internal.h"
#include "store/stmt.h"

/* The program's matches, by id: the pairs; whether each was decided (approved, active or
 * ended), is going (active, or completed) and is done (completed: program/match_completed.h,
 * the definition the completion certificates use too). */
static const char pairs_sql[] =
    "SELECT id, mentor_id, mentee_id, substr(activated_at, 1, 7), julianday(activated_at),"
    " status IN ('approved', 'active', 'ended'), status = 'active' OR done, done"
    " FROM (SELECT *, " MATCH_COMPLETED_SQL("m") " AS done FROM matches m WHERE program_id = ?1)"
    " ORDER BY id";

/* Its sessions: match, id, month, status, julianday of a held one's start, its start in
 * Unix seconds (NULL: a start SQLite cannot read) and its duration. */
static const char sessions_sql[] =
    "SELECT s.match_id, s.id, substr(s.starts_at, 1, 7), s.status,"
    " CASE WHEN s.status = 'held' THEN julianday(s.starts_at) END,"
    " CAST(strftime('%s', s.starts_at) AS INTEGER), s.duration_min"
    " FROM matches m JOIN sessions s ON s.match_id = m.id WHERE m.program_id = ?1";

/* The ratings of its check-ins. */
static const char ratings_sql[] =
    "SELECT f.session_id, f.author_id, f.rating FROM matches m"
    " JOIN feedback f ON f.match_id = m.id WHERE m.program_id = ?1 AND f.rating IS NOT NULL";

enum { ST_PLANNED, ST_HELD, ST_MISSED, ST_CANCELLED, ST_RESCHEDULED, ST_N };

struct bucket { /* a month or a cohort */
	char key[8];
	int64_t pairs;
	int64_t n[ST_N];
	int64_t rated, rating_sum; /* cohorts: visible ratings */
};

struct pair {
	int64_t id, mentor, mentee;
	int decided, going, done;
	int cohort;	 /* index in cohorts, -1: never activated */
	double act;	 /* julianday of the activation (valid when has_act) */
	int has_act;
	int64_t held, missed;
	double first;	 /* the earliest held start's julianday (valid when has_first) */
	int has_first;
};

struct session {
	int64_t id;
	int64_t start, reveal_at; /* valid when has_start */
	int pair;		  /* index in pairs */
	int has_start;
	int rating[2];	 /* the mentor's and the mentee's, 0: none */
};

struct scan {
	struct pair *pairs;
	size_t npairs;
	struct session *ses;
	size_t nses, cap_ses;
	struct bucket *months, *cohorts;
	size_t nmonths, ncohorts, cap_months, cap_cohorts;
	int64_t tot[ST_N];
};

/* The bucket named key (made when new); its index, or -1 out of memory. */
static int
bucket(struct bucket **v, size_t *n, size_t *cap, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return (int)i;
	if (vec_grow(v, cap, *n + 1, sizeof(**v), NULL) != 0)
		return -1;
	struct bucket *b = &(*v)[*n];
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	return (int)(*n)++;
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

static int
session_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct session *)a)->id, y = ((const struct session *)b)->id;
	return x < y ? -1 : x > y;
}

/* The index of the pair with id, -1 when it is not the program's. */
static int
find_pair(const struct scan *sc, int64_t id)
{
	size_t lo = 0, hi = sc->npairs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sc->pairs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sc->npairs && sc->pairs[lo].id == id ? (int)lo : -1;
}

static int
status_of(const char *s)
{
	static const char *const names[ST_N] = {"planned", "held", "missed", "cancelled",
						"rescheduled"};
	for (int i = 0; s && i < ST_N; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int
read_pairs(struct metrics_ctx *c, struct scan *sc, struct diag *d)
{
	struct stmt s = {0};
	size_t cap = 0;
	int rc = stmt_prepare(&s, c->st, "reading the program's pairs", pairs_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		if (vec_grow(&sc->pairs, &cap, sc->npairs + 1, sizeof(*sc->pairs), d) != 0) {
			rc = -1;
			break;
		}
		struct pair *p = &sc->pairs[sc->npairs++];
		memset(p, 0, sizeof(*p));
		p->id = stmt_int64(&s, 0);
		p->mentor = stmt_int64(&s, 1);
		p->mentee = stmt_int64(&s, 2);
		const char *cohort = NULL;
		if (stmt_text(&s, 3, &cohort, d) != 0) {
			rc = -1;
			break;
		}
		p->cohort = -1;
		if (cohort != NULL) {
			p->cohort = bucket(&sc->cohorts, &sc->ncohorts, &sc->cap_cohorts, cohort);
			if (p->cohort < 0) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			sc->cohorts[p->cohort].pairs++;
		}
		p->has_act = !stmt_is_null(&s, 4);
		p->act = p->has_act ? stmt_double(&s, 4) : 0;
		p->decided = stmt_int64(&s, 5) != 0;
		p->going = stmt_int64(&s, 6) != 0;
		p->done = stmt_int64(&s, 7) != 0;
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

/* One session: its state counted in its month, its pair and its pair's cohort. A held or
 * missed session that starts after now (a report --as-of an earlier day) was still planned
 * then: it counts as planned. */
static int
session_row(struct stmt *s, struct scan *sc, time_t now, int *last_month, struct diag *d)
{
	int pi = find_pair(sc, stmt_int64(s, 0));
	const char *month = NULL, *status = NULL;
	if (pi < 0) /* not possible: the join is on the program's matches */
		return 0;
	if (stmt_text(s, 2, &month, d) != 0 || stmt_text(s, 3, &status, d) != 0)
		return -1;
	int st = status_of(status);
	if (st < 0)
		return diag_set(d, DIAG_INTERNAL, "metrics: session #%lld has the status '%s'",
				(long long)stmt_int64(s, 1), status ? status : "");
	if ((st == ST_HELD || st == ST_MISSED) && !stmt_is_null(s, 5) &&
	    stmt_int64(s, 5) > (int64_t)now)
		st = ST_PLANNED;
	int mi = *last_month; /* consecutive rows are mostly of one month */
	if (mi < 0 || strcmp(sc->months[mi].key, month ? month : "") != 0)
		mi = bucket(&sc->months, &sc->nmonths, &sc->cap_months, month ? month : "");
	if (mi < 0)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	*last_month = mi;
	struct pair *p = &sc->pairs[pi];
	sc->months[mi].n[st]++;
	sc->tot[st]++;
	if (p->cohort >= 0)
		sc->cohorts[p->cohort].n[st]++;
	p->held += st == ST_HELD;
	p->missed += st == ST_MISSED;
	if (st == ST_HELD && !stmt_is_null(s, 4)) {
		double jd = stmt_double(s, 4);
		if (!p->has_first || jd < p->first)
			p->first = jd;
		p->has_first = 1;
	}
	if (vec_grow(&sc->ses, &sc->cap_ses, sc->nses + 1, sizeof(*sc->ses), d) != 0)
		return -1;
	struct session *x = &sc->ses[sc->nses++];
	memset(x, 0, sizeof(*x));
	x->id = stmt_int64(s, 1);
	x->pair = pi;
	/* SESSION_REVEALED_SQL's window: the start + the duration + SESSION_REVEAL_DAYS */
	x->has_start = !stmt_is_null(s, 5);
	x->start = x->has_start ? stmt_int64(s, 5) : 0;
	x->reveal_at = x->start + 60 * stmt_int64(s, 6) + 86400 * SESSION_REVEAL_DAYS;
	return 0;
}

static int
read_sessions(struct metrics_ctx *c, struct scan *sc, struct diag *d)
{
	struct stmt s = {0};
	int last_month = -1;
	int rc = stmt_prepare(&s, c->st, "reading the program's sessions", sessions_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = session_row(&s, sc, c->now, &last_month, d);
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return -1;
	if (sc->nses > 1)
		qsort(sc->ses, sc->nses, sizeof(*sc->ses), session_cmp);
	return 0;
}

/* Puts each rating on its session, for the side its author is. */
static int
read_ratings(struct metrics_ctx *c, struct scan *sc, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "reading the program's ratings", ratings_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		struct session key = {.id = stmt_int64(&s, 0)};
		struct session *x = sc->nses ? bsearch(&key, sc->ses, sc->nses, sizeof(*sc->ses),
						       session_cmp)
					     : NULL;
		if (x == NULL)
			continue;
		int64_t author = stmt_int64(&s, 1), r = stmt_int64(&s, 2);
		const struct pair *p = &sc->pairs[x->pair];
		int side = author == p->mentor ? 0 : author == p->mentee ? 1 : -1;
		if (side < 0)
			continue;
		if (r < 1 || r > 5) /* the table's CHECK allows only these */
			return stmt_finalize(&s),
			       diag_set(d, DIAG_INTERNAL, "metrics: a rating of %lld", (long long)r);
		x->rating[side] = (int)r;
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

/* ---- goals ------------------------------------------------------------------------------ */

/*
 * Per topic, the mentees' self-assessments in the program ordered by their session's start
 * (then by row): a person's first is their start, their latest their end; only people with
 * two or more assessments of the topic count in n and the means. An assessment counts when
 * its person is the mentee of its session's pair. Topics in the order of the program's
 * library (programs.config, as tandem.lua last saved it), others by name. The sessions'
 * starts are those read above (in Unix seconds: the order of the ISO text they are written
 * in), so the assessments are read alone instead of each joined to its session's row.
 */
static const char goals_sql[] =
    "SELECT k.id, k.person_id, k.topic, k.level, k.session_id FROM skill_assessments k"
    " WHERE k.program_id = ?1";

static const char topics_sql[] =
    "SELECT t.key, t.value FROM programs p, json_each(p.config, '$.topics') t WHERE p.id = ?1";

struct topic {
	char *name;
	int64_t order; /* its place in the library; INT64_MAX: not in it */
	int index;     /* in the order the topics were met, before sorting */
	int64_t assessed, n, start_sum, end_sum;
};

struct assessment {
	int topic; /* index in topics, then its rank */
	int64_t person, start, id;
	int has_start, level;
};

struct goals {
	struct topic *t;
	size_t nt, cap_t;
	struct assessment *a;
	size_t na, cap_a;
};

static int
topic_of(struct goals *g, const char *name)
{
	for (size_t i = 0; i < g->nt; i++)
		if (strcmp(g->t[i].name, name) == 0)
			return (int)i;
	if (vec_grow(&g->t, &g->cap_t, g->nt + 1, sizeof(*g->t), NULL) != 0)
		return -1;
	struct topic *x = &g->t[g->nt];
	memset(x, 0, sizeof(*x));
	x->order = INT64_MAX;
	if ((x->name = strdup(name)) == NULL)
		return -1;
	return (int)g->nt++;
}

static int
topic_cmp(const void *a, const void *b)
{
	const struct topic *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* By topic rank, person, start (a start SQLite cannot read first, as NULL), row. */
static int
assessment_cmp(const void *a, const void *b)
{
	const struct assessment *x = a, *y = b;
	if (x->topic != y->topic)
		return x->topic < y->topic ? -1 : 1;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	if (x->has_start != y->has_start)
		return x->has_start < y->has_start ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
goal_row(struct stmt *s, const struct scan *sc, struct goals *g, struct diag *d)
{
	struct session key = {.id = stmt_int64(s, 4)};
	const struct session *x =
	    sc->nses ? bsearch(&key, sc->ses, sc->nses, sizeof(*sc->ses), session_cmp) : NULL;
	int64_t person = stmt_int64(s, 1);
	if (x == NULL || sc->pairs[x->pair].mentee != person)
		return 0;
	const char *topic = NULL;
	if (stmt_text(s, 2, &topic, d) != 0)
		return -1;
	if (vec_grow(&g->a, &g->cap_a, g->na + 1, sizeof(*g->a), d) != 0)
		return -1;
	int ti = topic_of(g, topic ? topic : "");
	if (ti < 0)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	g->a[g->na++] = (struct assessment){.topic = ti, .person = person, .start = x->start,
					    .id = stmt_int64(s, 0), .has_start = x->has_start,
					    .level = (int)stmt_int64(s, 3)};
	return 0;
}

/* Each topic's place in the program's library. */
static int
topic_order(struct metrics_ctx *c, struct goals *g, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "reading the program's topics", topics_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *name = NULL;
		rc = stmt_text(&s, 1, &name, d);
		for (size_t i = 0; rc == 0 && name && i < g->nt; i++)
			if (strcmp(g->t[i].name, name) == 0 && stmt_int64(&s, 0) < g->t[i].order)
				g->t[i].order = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

static json_t *
goals_json(struct goals *g)
{
	/* Rank the topics, then sort the assessments by rank, person and start. */
	int *rank = malloc((g->nt ? g->nt : 1) * sizeof(*rank));
	if (rank == NULL)
		return NULL;
	for (size_t i = 0; i < g->nt; i++)
		g->t[i].index = (int)i;
	if (g->nt > 1)
		qsort(g->t, g->nt, sizeof(*g->t), topic_cmp);
	for (size_t i = 0; i < g->nt; i++)
		rank[g->t[i].index] = (int)i;
	for (size_t i = 0; i < g->na; i++)
		g->a[i].topic = rank[g->a[i].topic];
	free(rank);
	if (g->na > 1)
		qsort(g->a, g->na, sizeof(*g->a), assessment_cmp);
	for (size_t i = 0, j; i < g->na; i = j) { /* one person's assessments of one topic */
		for (j = i + 1; j < g->na && g->a[j].topic == g->a[i].topic &&
				g->a[j].person == g->a[i].person;
		     j++)
			;
		struct topic *t = &g->t[g->a[i].topic];
		t->assessed++;
		if (j - i >= 2) {
			t->n++;
			t->start_sum += g->a[i].level;
			t->end_sum += g->a[j - 1].level;
		}
	}
	json_t *list = json_array();
	for (size_t i = 0; list && i < g->nt; i++) {
		const struct topic *t = &g->t[i];
		double a = t->n ? (double)t->start_sum / (double)t->n : 0;
		double b = t->n ? (double)t->end_sum / (double)t->n : 0;
		json_t *o = json_pack("{ss sI sI so so so}", "topic", t->name, "assessed",
				      (json_int_t)t->assessed, "n", (json_int_t)t->n, "start_mean",
				      t->n ? json_real(a) : json_null(), "end_mean",
				      t->n ? json_real(b) : json_null(), "delta",
				      t->n ? json_real(b - a) : json_null());
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static int
read_goals(struct metrics_ctx *c, const struct scan *sc, struct metrics_sessions *out,
	   struct diag *d)
{
	struct goals g = {0};
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "goal progress by topic", goals_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = goal_row(&s, sc, &g, d);
	stmt_finalize(&s);
	if (rc == STMT_DONE)
		rc = topic_order(c, &g, d) == 0 ? STMT_DONE : -1;
	if (rc == STMT_DONE && (out->goals = goals_json(&g)) == NULL)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	for (size_t i = 0; i < g.nt; i++)
		free(g.t[i].name);
	free(g.t);
	free(g.a);
	return rc == STMT_DONE ? 0 : -1;
}

/* ---- the values -------------------------------------------------------------------------- */

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

/* The ratings object; each cohort's visible ratings are added to its bucket. */
static json_t *
ratings_json(struct metrics_ctx *c, struct scan *sc)
{
	int64_t dist[5] = {0}, side_n[2] = {0}, side_sum[2] = {0}, hidden = 0;
	for (size_t i = 0; i < sc->nses; i++) {
		const struct session *x = &sc->ses[i];
		if (!x->rating[0] && !x->rating[1])
			continue;
		if (x->has_start && x->start > (int64_t)c->now) /* after an --as-of: not yet met */
			continue;
		int shown = (x->rating[0] && x->rating[1]) ||
			    (x->has_start && (int64_t)c->now >= x->reveal_at);
		int cohort = sc->pairs[x->pair].cohort;
		for (int side = 0; side < 2; side++) {
			int r = x->rating[side];
			if (r == 0)
				continue;
			if (!shown) { /* not visible yet: counted as hidden, nowhere else */
				hidden++;
				continue;
			}
			dist[r - 1]++;
			side_n[side]++;
			side_sum[side] += r;
			if (cohort >= 0) {
				sc->cohorts[cohort].rated++;
				sc->cohorts[cohort].rating_sum += r;
			}
		}
	}
	int64_t n = side_n[0] + side_n[1], sum = side_sum[0] + side_sum[1];
	return json_pack(
	    "{sI so s[IIIII] sI s{sI so} s{sI so}}", "count", (json_int_t)n, "mean",
	    metrics_rate((double)sum, (double)n), "distribution", (json_int_t)dist[0],
	    (json_int_t)dist[1], (json_int_t)dist[2], (json_int_t)dist[3], (json_int_t)dist[4],
	    "hidden", (json_int_t)hidden, "mentor", "count", (json_int_t)side_n[0], "mean",
	    metrics_rate((double)side_sum[0], (double)side_n[0]), "mentee", "count",
	    (json_int_t)side_n[1], "mean", metrics_rate((double)side_sum[1], (double)side_n[1]));
}

/* The four values from the scan; 0 or -1 (out of memory). */
static int
scan_json(struct metrics_ctx *c, struct scan *sc, struct metrics_sessions *out)
{
	out->ratings = ratings_json(c, sc);
	/* Per pair: the held rate, and the days to the first held session. */
	int64_t rated_pairs = 0;
	double rate_sum = 0, rate_min = 0, rate_max = 0;
	double *days = malloc((sc->npairs ? sc->npairs : 1) * sizeof(*days));
	size_t ndays = 0;
	if (days == NULL)
		return -1;
	for (size_t i = 0; i < sc->npairs; i++) {
		const struct pair *p = &sc->pairs[i];
		if (p->held + p->missed > 0) {
			double r = (double)p->held / (double)(p->held + p->missed);
			rate_min = rated_pairs == 0 || r < rate_min ? r : rate_min;
			rate_max = rated_pairs == 0 || r > rate_max ? r : rate_max;
			rate_sum += r;
			rated_pairs++;
		}
		if (p->has_first && p->has_act)
			days[ndays++] = p->first - p->act;
	}
	if (sc->nmonths) /* no qsort of an empty (NULL) array: UBSan */
		qsort(sc->months, sc->nmonths, sizeof(*sc->months), bucket_cmp);
	if (sc->ncohorts) /* the pairs' cohort indexes are not used after this */
		qsort(sc->cohorts, sc->ncohorts, sizeof(*sc->cohorts), bucket_cmp);
	if (ndays)
		qsort(days, ndays, sizeof(*days), double_cmp);
	json_t *months = json_array();
	for (size_t i = 0; months && i < sc->nmonths; i++) {
		json_t *m = bucket_json(&sc->months[i], 0);
		if (m == NULL || json_object_set_new(m, "month", json_string(sc->months[i].key)) ||
		    json_array_append_new(months, m) != 0) {
			json_decref(months);
			months = NULL;
		}
	}
	int none = rated_pairs == 0;
	const int64_t *t = sc->tot;
	out->sessions = months == NULL ? NULL : json_pack(
	    "{sI sI sI sI sI so so s{sI so so so}}", "planned", (json_int_t)t[ST_PLANNED], "held",
	    (json_int_t)t[ST_HELD], "missed", (json_int_t)t[ST_MISSED], "cancelled",
	    (json_int_t)t[ST_CANCELLED], "rescheduled", (json_int_t)t[ST_RESCHEDULED], "held_rate",
	    metrics_rate((double)t[ST_HELD], (double)(t[ST_HELD] + t[ST_MISSED])), "per_month",
	    months, "per_pair_held_rate", "pairs", (json_int_t)rated_pairs, "mean",
	    metrics_rate(rate_sum, (double)rated_pairs), "min",
	    none ? json_null() : json_real(rate_min), "max",
	    none ? json_null() : json_real(rate_max));
	double sum = 0;
	for (size_t i = 0; i < ndays; i++)
		sum += days[i];
	/* Sorted: the median is the middle value, or the mean of the two middle ones. */
	size_t n = ndays;
	json_t *median = n == 0	      ? json_null()
			 : n % 2 == 1 ? json_real(days[n / 2])
				      : json_real((days[n / 2 - 1] + days[n / 2]) / 2);
	free(days);
	out->first_session = json_pack("{sI so so}", "pairs", (json_int_t)n, "median_days", median,
				       "mean_days", metrics_rate(sum, (double)n));
	out->cohorts = json_array();
	for (size_t i = 0; out->cohorts && i < sc->ncohorts; i++) {
		const struct bucket *b = &sc->cohorts[i];
		json_t *e = json_pack("{ss sI so s{sI so}}", "cohort", b->key, "pairs",
				      (json_int_t)b->pairs, "sessions", bucket_json(b, 1), "ratings",
				      "count", (json_int_t)b->rated, "mean",
				      metrics_rate((double)b->rating_sum, (double)b->rated));
		if (e == NULL || json_object_set(c->cohorts, b->key, e) != 0 ||
		    json_array_append_new(out->cohorts, e) != 0)
			return -1;
	}
	return out->sessions && out->first_session && out->cohorts && out->ratings ? 0 : -1;
}

/* The decided pairs, for the people side. */
static int
decided_pairs(const struct scan *sc, struct metrics_sessions *out)
{
	out->pairs = malloc((sc->npairs ? sc->npairs : 1) * sizeof(*out->pairs));
	if (out->pairs == NULL)
		return -1;
	for (size_t i = 0; i < sc->npairs; i++) {
		const struct pair *p = &sc->pairs[i];
		if (p->decided)
			out->pairs[out->npairs++] = (struct metrics_pair){
			    .mentor = p->mentor, .mentee = p->mentee, .going = p->going,
			    .done = p->done, .met = p->held > 0};
	}
	return 0;
}

int
metrics_sessions_read(struct metrics_ctx *c, struct metrics_sessions *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	struct scan sc = {0};
	int rc = read_pairs(c, &sc, d) || read_sessions(c, &sc, d) || read_ratings(c, &sc, d) ||
			 read_goals(c, &sc, out, d)
		     ? -1
		     : 0;
	if (rc == 0 && scan_json(c, &sc, out) != 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	if (rc == 0 && decided_pairs(&sc, out) != 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	free(sc.pairs);
	free(sc.ses);
	free(sc.months);
	free(sc.cohorts);
	if (rc != 0) {
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
	json_decref(out->ratings);
	json_decref(out->goals);
	free(out->pairs);
	memset(out, 0, sizeof(*out));
}

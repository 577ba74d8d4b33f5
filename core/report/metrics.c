/*
 * metrics: one program's metrics (metrics.h). This file reads the people side (the funnel,
 * enrollment, participation by group, retention) and assembles the object;
 * metrics_sessions.c reads the sessions side (states, months, held rate per pair, days to
 * the first session, ratings, goals, cohorts, and the decided pairs), metrics_quality.c
 * adds the rewards. docs/metrics.md defines every number in words; the SQL and the sums
 * here are the definition:
 *  - metrics_sessions.c reads the program's pairs, sessions, ratings and mentees'
 *    self-assessments once each;
 *  - the people statement reads every person of the HR import once, with the columns
 *    their groups come from, whether they are enrolled, were employed at the program's
 *    start and are retained; their stage in the program (matched, first session, active,
 *    completed) comes from the decided pairs, and the counts by department, location,
 *    level, generation, overall (the funnel) and by participation (retention) are made
 *    here in the same pass.
 */
#include "report/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "program/lifecycle.h"
#include "program/matches.h"
#include "report/metrics_internal.h"
#include "store/stmt.h"
#include "store/store.h"

json_t *
metrics_rate(double n, double den)
{
	return den > 0 ? json_real(n / den) : json_null();
}

int
metrics_put(json_t *o, const char *key, json_t *v, struct diag *d)
{
	if (v == NULL) /* the maker failed: keep its diag, if it left one */
		return d->code != DIAG_OK ? -1 : diag_set(d, DIAG_NOMEM, "metrics: out of memory");
	if (json_object_set_new(o, key, v) != 0)
		return diag_set(d, DIAG_NOMEM, "metrics: out of memory");
	return 0;
}

json_t *
metrics_cohort_entry(struct metrics_ctx *c, const char *key)
{
	return key ? json_object_get(c->cohorts, key) : NULL;
}

/* ---- people: funnel, enrollment, participation, retention --------------------------- */

/*
 * Every person of the HR import, by id, with the columns their groups are read from
 * (?2: the program's start date, NULL: none): department, location, level as text,
 * generation (from the birth year, else the imported one, else "unknown"), enrolled in
 * the program, employed at its start, retained (not terminated). Their stage in the
 * program comes from the decided pairs (metrics_sessions_read): matched when they are a
 * side of one; "met" once a session of one was held; active when such a pair is going;
 * completed when it is done. The counts by group are made here, in one pass over the
 * people instead of one SQL group per dimension (the grouped statement over 6 x 12,000
 * rows sorted cost ~0.25 s of CPU on the benchmark).
 */
static const char people_sql[] =
    "SELECT p.id, p.department, p.location, CAST(p.level AS TEXT),"
    "  CASE WHEN p.birth_year IS NULL THEN coalesce(p.generation, 'unknown')"
    "   WHEN p.birth_year <= 1945 THEN 'silent' WHEN p.birth_year <= 1964 THEN 'baby_boomer'"
    "   WHEN p.birth_year <= 1980 THEN 'gen_x' WHEN p.birth_year <= 1996 THEN 'millennial'"
    "   WHEN p.birth_year <= 2012 THEN 'gen_z' ELSE 'gen_alpha' END,"
    "  e.id IS NOT NULL,"
    "  (p.hire_date IS NULL OR ?2 IS NULL OR p.hire_date <= ?2),"
    "  p.status <> 'terminated'"
    " FROM people p LEFT JOIN enrollments e ON e.program_id = ?1 AND e.person_id = p.id"
    " ORDER BY p.id";

enum { DIM_DEPARTMENT, DIM_LOCATION, DIM_LEVEL, DIM_GENERATION, DIM_N };
static const char *const dim_names[DIM_N] = {"department", "location", "level", "generation"};

/* A person's stage, from the decided pairs they are a side of. */
struct stage {
	int64_t person;
	int met, act, comp;
};

/* One group of one dimension (key NULL: the people without a value). */
struct group {
	char *key;
	int64_t people, enrolled, matched, active;
};

struct groups {
	struct group *v;
	size_t n, cap;
};

struct tally {
	struct groups dim[DIM_N];
	int64_t people, enrolled, matched, met, act, comp; /* the funnel */
	int64_t ret_n[2], ret_kept[2];			    /* [0] non-participants, [1] participants */
	struct stage *st;
	size_t nst;
};

static int
stage_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct stage *)a)->person, y = ((const struct stage *)b)->person;
	return x < y ? -1 : x > y;
}

/* ORDER BY grp: NULL first, then by bytes (SQLite's BINARY collation). */
static int
group_cmp(const void *a, const void *b)
{
	const char *x = ((const struct group *)a)->key, *y = ((const struct group *)b)->key;
	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

/* The stages of the people of the decided pairs, by person (max over their pairs). */
static int
make_stages(const struct metrics_sessions *ses, struct tally *t)
{
	t->st = malloc((2 * ses->npairs + 1) * sizeof(*t->st));
	if (t->st == NULL)
		return -1;
	for (size_t i = 0; i < ses->npairs; i++) {
		const struct metrics_pair *p = &ses->pairs[i];
		struct stage s = {0, p->met, p->met && p->going, p->met && p->done};
		s.person = p->mentor;
		t->st[t->nst++] = s;
		s.person = p->mentee;
		t->st[t->nst++] = s;
	}
	if (t->nst > 1)
		qsort(t->st, t->nst, sizeof(*t->st), stage_cmp);
	size_t k = 0; /* merge each person's entries */
	for (size_t i = 0; i < t->nst; i++) {
		if (k > 0 && t->st[k - 1].person == t->st[i].person) {
			t->st[k - 1].met |= t->st[i].met;
			t->st[k - 1].act |= t->st[i].act;
			t->st[k - 1].comp |= t->st[i].comp;
		} else {
			t->st[k++] = t->st[i];
		}
	}
	t->nst = k;
	return 0;
}

static const struct stage *
stage_of(const struct tally *t, int64_t person)
{
	struct stage key = {.person = person};
	return t->nst ? bsearch(&key, t->st, t->nst, sizeof(*t->st), stage_cmp) : NULL;
}

static struct group *
group_of(struct groups *g, const char *key)
{
	for (size_t i = 0; i < g->n; i++)
		if (key == NULL ? g->v[i].key == NULL
				: g->v[i].key != NULL && strcmp(g->v[i].key, key) == 0)
			return &g->v[i];
	if (vec_grow(&g->v, &g->cap, g->n + 1, sizeof(*g->v), NULL) != 0)
		return NULL;
	struct group *x = &g->v[g->n];
	memset(x, 0, sizeof(*x));
	if (key != NULL && (x->key = strdup(key)) == NULL)
		return NULL;
	g->n++;
	return x;
}

static int
people_row(struct stmt *s, struct tally *t, struct diag *d)
{
	const char *key[DIM_N];
	for (int i = 0; i < DIM_N; i++)
		if (stmt_text(s, 1 + i, &key[i], d) != 0)
			return -1;
	int enrolled = stmt_int64(s, 5) != 0, employed = stmt_int64(s, 6) != 0;
	int retained = stmt_int64(s, 7) != 0;
	const struct stage *st = enrolled ? stage_of(t, stmt_int64(s, 0)) : NULL;
	int matched = st != NULL, met = st && st->met, act = st && st->act, comp = st && st->comp;
	for (int i = 0; i < DIM_N; i++) {
		struct group *g = group_of(&t->dim[i], key[i]);
		if (g == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		g->people++;
		g->enrolled += enrolled;
		g->matched += matched;
		g->active += act;
	}
	t->people++;
	t->enrolled += enrolled;
	t->matched += matched;
	t->met += met;
	t->act += act;
	t->comp += comp;
	t->ret_n[met] += employed;
	t->ret_kept[met] += employed && retained;
	return 0;
}

struct people_out {
	json_t *funnel, *enrollment, *participation, *retention;
};

/* The four values from the tally; 0 or -1 (out of memory). */
static int
people_json(struct tally *t, struct people_out *o)
{
	o->funnel = json_pack("{sI sI sI sI sI}", "enrolled", (json_int_t)t->enrolled, "matched",
			      (json_int_t)t->matched, "first_session", (json_int_t)t->met, "active",
			      (json_int_t)t->act, "completed", (json_int_t)t->comp);
	o->enrollment = json_pack("{sI sI so sI}", "enrolled", (json_int_t)t->enrolled, "matched",
				  (json_int_t)t->matched, "match_rate",
				  metrics_rate((double)t->matched, (double)t->enrolled), "unmatched",
				  (json_int_t)(t->enrolled - t->matched));
	o->participation = json_object();
	o->retention = json_object();
	if (!o->funnel || !o->enrollment || !o->participation || !o->retention)
		return -1;
	for (int i = 0; i < DIM_N; i++) {
		struct groups *g = &t->dim[i];
		if (g->n > 1)
			qsort(g->v, g->n, sizeof(*g->v), group_cmp);
		json_t *list = json_array();
		if (list == NULL || json_object_set_new(o->participation, dim_names[i], list) != 0)
			return -1;
		for (size_t k = 0; k < g->n; k++) {
			const struct group *x = &g->v[k];
			json_t *row = json_pack("{ss sI sI sI sI}", "group", x->key ? x->key : "(none)",
						"people", (json_int_t)x->people, "enrolled",
						(json_int_t)x->enrolled, "matched", (json_int_t)x->matched,
						"active", (json_int_t)x->active);
			if (row == NULL || json_array_append_new(list, row) != 0)
				return -1;
		}
	}
	/* Retention: a side with nobody has n 0 and rate null. */
	for (int met = 1; met >= 0; met--) {
		json_int_t n = t->ret_n[met], kept = t->ret_kept[met];
		if (json_object_set_new(o->retention, met ? "participants" : "non_participants",
					json_pack("{sI sI so}", "n", n, "retained", kept, "rate",
						  metrics_rate((double)kept, (double)n))) != 0)
			return -1;
	}
	return 0;
}

static int
read_people(struct metrics_ctx *c, const char *starts_on, const struct metrics_sessions *ses,
	    struct people_out *o, struct diag *d)
{
	struct tally t = {0};
	struct stmt s = {0};
	int rc = make_stages(ses, &t) != 0 ? diag_set(d, DIAG_NOMEM, "out of memory")
		 : stmt_prepare(&s, c->st, "counting the program's people", people_sql, d) ||
			 stmt_bind_int64(&s, 1, c->program_id, d) ||
			 stmt_bind_text(&s, 2, starts_on, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = people_row(&s, &t, d);
	stmt_finalize(&s);
	if (rc == STMT_DONE && people_json(&t, o) != 0)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < DIM_N; i++) {
		for (size_t k = 0; k < t.dim[i].n; k++)
			free(t.dim[i].v[k].key);
		free(t.dim[i].v);
	}
	free(t.st);
	return rc == STMT_DONE ? 0 : -1;
}

/* ---- assembly ---------------------------------------------------------------------- */

static int
program_start(struct store *st, int64_t id, char *buf, size_t size, struct diag *d)
{
	struct stmt s = {0};
	buf[0] = '\0';
	int rc = stmt_prepare(&s, st, "reading the program's start",
			      "SELECT starts_on FROM programs WHERE id = ?1", d) ||
			 stmt_bind_int64(&s, 1, id, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *t = NULL;
		rc = stmt_text(&s, 0, &t, d);
		if (rc == 0 && t)
			snprintf(buf, size, "%s", t);
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

int
metrics_program(struct store *st, const struct config *cfg, const char *program, time_t now,
		json_t **out, struct diag *d)
{
	*out = NULL;
	(void)cfg; /* the declaration is read as saved in programs.config */
	struct metrics_ctx c = {.st = st, .now = now};
	char start[32], at[STORE_TIME_MAX];
	if (matches_program_id(st, program, &c.program_id, d) != 0 ||
	    program_start(st, c.program_id, start, sizeof(start), d) != 0)
		return -1;
	if (store_format_time(now, at) != 0)
		return diag_set(d, DIAG_INVALID, "metrics: the time %lld is out of range",
				(long long)now);
	struct people_out p = {0};
	json_t *m = json_object();
	c.cohorts = json_object();
	int rc = m == NULL ? diag_set(d, DIAG_NOMEM, "out of memory") : 0;
	struct metrics_sessions ses = {0};
	if (rc == 0)
		rc = metrics_put(m, "program", json_string(program), d) ||
		     metrics_put(m, "generated_at", json_string(at), d) ||
		     metrics_sessions_read(&c, &ses, d) ||
		     read_people(&c, start[0] ? start : NULL, &ses, &p, d);
	if (rc == 0) {
		rc = metrics_put(m, "funnel", json_incref(p.funnel), d) ||
		     metrics_put(m, "enrollment", json_incref(p.enrollment), d) ||
		     metrics_put(m, "first_session", json_incref(ses.first_session), d) ||
		     metrics_put(m, "sessions", json_incref(ses.sessions), d) ||
		     metrics_put(m, "ratings", json_incref(ses.ratings), d) ||
		     metrics_put(m, "goals", json_incref(ses.goals), d) ||
		     metrics_put(m, "participation", json_incref(p.participation), d) ||
		     metrics_put(m, "retention", json_incref(p.retention), d) ||
		     metrics_put(m, "rewards", metrics_rewards(&c, d), d) ||
		     metrics_put(m, "cohorts", json_incref(ses.cohorts), d);
	}
	metrics_sessions_fini(&ses);
	json_decref(p.funnel);
	json_decref(p.enrollment);
	json_decref(p.participation);
	json_decref(p.retention);
	json_decref(c.cohorts);
	if (rc != 0) {
		json_decref(m);
		return -1;
	}
	*out = m;
	return 0;
}

json_t *
metrics_cohort(json_t *m, const char *cohort)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(m, "cohorts"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "cohort")), cohort) == 0)
			return e;
	}
	return NULL;
}

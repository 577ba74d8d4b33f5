/*
 * sched/plan_fit: a pair's planned instants fitted into both people's time. See
 * plan_fit.h for the contract.
 *
 * Busy time is kept per person (external id -> a small array of intervals): a person
 * has a few dozen sessions inside a planning window, so a linear scan is enough. A
 * person's intervals are read on first use: an incremental plan of a few pairs reads
 * their people, not the whole window's sessions (0.02 s at 1,300 pairs, ~70% of a
 * plan-sessions run).
 */
#include "sched/plan_fit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"
#include "lua/cadence_out.h"
#include "sched/cadence.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/slots.h"
#include "time/tz.h"

struct busy_slot {
	int64_t session_id, match_id; /* session_id 0: planned in this run */
	time_t start, end;
};

struct busy_list {
	struct busy_slot *v;
	size_t n, cap;
	int kept; /* read before busy_read_all: the pass leaves it alone */
};

/* People whose sessions are read one by one before the rest are read in one pass: a
 * person's read is ~30 us, the pass over every session of the window ~0.1 s at 5,000
 * pairs, so an incremental plan of a few pairs reads a few people and a full plan
 * switches to the pass early. */
enum { BUSY_LAZY_MAX = 512 };

struct plan_busy {
	struct strmap people; /* external id -> struct busy_list *: the people read so far */
	struct store *st;     /* NULL: nothing to read (plan_busy_load not called) */
	char from[STORE_TIME_MAX];
	int64_t *skip; /* sorted */
	size_t nskip, nread;
	int all; /* every person's sessions are in people */
};

struct plan_busy *
plan_busy_new(void)
{
	struct plan_busy *b = calloc(1, sizeof(*b));
	if (b != NULL)
		strmap_init(&b->people, STRMAP_COPY_KEYS);
	return b;
}

void
plan_busy_delete(struct plan_busy *b)
{
	if (b == NULL)
		return;
	for (struct strmap_entry *e = strmap_next(&b->people, NULL); e != NULL;
	     e = strmap_next(&b->people, e)) {
		struct busy_list *l = e->ptr;
		free(l->v);
		free(l);
	}
	strmap_fini(&b->people);
	free(b->skip);
	free(b);
}

/* person's list, a new empty one when the map has none. */
static struct busy_list *
busy_entry(struct plan_busy *b, const char *person, struct diag *d)
{
	struct strmap_entry *e = strmap_get(&b->people, person);
	if (e != NULL)
		return e->ptr;
	struct busy_list *l = calloc(1, sizeof(*l));
	if (l == NULL || strmap_put(&b->people, person, l, d) != 0) {
		free(l);
		diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		return NULL;
	}
	return l;
}

static int
busy_push(struct busy_list *l, const struct busy_slot *s, struct diag *d)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct busy_slot *v = realloc(l->v, nc * sizeof(*v));
		if (v == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n++] = *s;
	return 0;
}

static int
cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* The busy slot of row s (columns id, match_id, starts_at, duration_min): 1 when the row
 * is left out (an unreadable start, or a session this run may move), else 0. */
static int
busy_row(const struct plan_busy *b, struct stmt *s, struct busy_slot *x)
{
	int64_t t = 0;
	const char *at = (const char *)sqlite3_column_text(s->s, 2);
	if (at == NULL || cadence_out_time(at, NULL, 1, &t, NULL) != 0)
		return 1;
	int64_t id = stmt_int64(s, 0);
	if (b->nskip > 0 && bsearch(&id, b->skip, b->nskip, sizeof(*b->skip), cmp_id) != NULL)
		return 1;
	*x = (struct busy_slot){id, stmt_int64(s, 1), (time_t)t,
				(time_t)t + (time_t)stmt_int64(s, 3) * 60};
	return 0;
}

/* Both people of every session, in (status, starts_at, id) order, for the people not read
 * yet; then every person is. */
static int
busy_read_all(struct plan_busy *b, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, b->st, "reading when people are busy",
			      "SELECT s.id, s.match_id, s.starts_at, s.duration_min, a.external_id, "
			      "b.external_id FROM sessions s JOIN matches m ON m.id = s.match_id "
			      "JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = "
			      "m.mentee_id WHERE s.status IN ('planned', 'held') AND "
			      "s.starts_at >= ?1 ORDER BY s.status, s.starts_at, s.id",
			      d) ||
			 stmt_bind_text(&s, 1, b->from, d)
		     ? -1
		     : 0;
	/* The people read before this pass keep their lists as they are. */
	for (struct strmap_entry *e = strmap_next(&b->people, NULL); e != NULL;
	     e = strmap_next(&b->people, e))
		((struct busy_list *)e->ptr)->kept = 1;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		struct busy_slot x;
		if (busy_row(b, &s, &x))
			continue;
		for (int k = 4; rc == 0 && k <= 5; k++) {
			const char *person = (const char *)sqlite3_column_text(s.s, k);
			if (person == NULL || person[0] == '\0')
				continue;
			struct busy_list *l = busy_entry(b, person, d);
			rc = l == NULL ? -1 : l->kept ? 0 : busy_push(l, &x, d);
		}
	}
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	b->all = 1;
	return 0;
}

/* person's sessions, in the order busy_read_all gives them, into a new list. */
static struct busy_list *
busy_read_one(struct plan_busy *b, const char *person, struct diag *d)
{
	struct busy_list *l = busy_entry(b, person, d);
	if (l == NULL)
		return NULL;
	struct stmt s = {0};
	/* Both people joined, as busy_read_all does: a session whose other side is gone is
	 * in neither list. The + keeps SQLite on the pair's (match_id, starts_at) key. */
	int rc = stmt_prepare(&s, b->st, "reading when a person is busy",
			      "SELECT s.id, s.match_id, s.starts_at, s.duration_min FROM sessions s "
			      "JOIN matches m ON m.id = s.match_id JOIN people a ON a.id = "
			      "m.mentor_id JOIN people b ON b.id = m.mentee_id WHERE s.match_id IN "
			      "(SELECT x.id FROM people p JOIN matches x ON x.mentor_id = p.id "
			      "WHERE p.external_id = ?2 UNION ALL SELECT x.id FROM people p JOIN "
			      "matches x ON x.mentee_id = p.id WHERE p.external_id = ?2) AND "
			      "+s.status IN ('planned', 'held') AND s.starts_at >= ?1 "
			      "ORDER BY s.status, s.starts_at, s.id",
			      d) ||
			 stmt_bind_text(&s, 1, b->from, d) || stmt_bind_text(&s, 2, person, d)
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		struct busy_slot x;
		rc = busy_row(b, &s, &x) ? 0 : busy_push(l, &x, d);
	}
	stmt_finalize(&s);
	b->nread++;
	return rc < 0 ? NULL : l;
}

/* person's list: read on first use. *out NULL when the person has none (no sessions, or
 * no external id). 0 or -1 + diag. */
static int
busy_get(struct plan_busy *b, const char *person, struct busy_list **out, struct diag *d)
{
	*out = NULL;
	if (person == NULL || person[0] == '\0')
		return 0;
	struct strmap_entry *e = strmap_get(&b->people, person);
	if (e != NULL) {
		*out = e->ptr;
		return 0;
	}
	if (b->st == NULL || b->all)
		return 0;
	if (b->nread >= BUSY_LAZY_MAX) {
		if (busy_read_all(b, d) != 0)
			return -1;
		e = strmap_get(&b->people, person);
		*out = e != NULL ? e->ptr : NULL;
		return 0;
	}
	return (*out = busy_read_one(b, person, d)) == NULL ? -1 : 0;
}

static int
busy_add(struct plan_busy *b, const char *person, const struct busy_slot *s, struct diag *d)
{
	struct busy_list *l;
	if (person == NULL || person[0] == '\0')
		return 0;
	if (busy_get(b, person, &l, d) != 0)
		return -1;
	if (l == NULL && (l = busy_entry(b, person, d)) == NULL)
		return -1;
	return busy_push(l, s, d);
}

int
plan_busy_load(struct plan_busy *b, struct store *st, time_t from, const int64_t *skip,
	       size_t nskip, struct diag *d)
{
	if (store_format_time(from - 86400, b->from) != 0)
		return diag_set(d, DIAG_INVALID, "planning: the clock is out of range");
	if (nskip > 0) {
		if ((b->skip = malloc(nskip * sizeof(*skip))) == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		memcpy(b->skip, skip, nskip * sizeof(*skip));
		if (nskip > 1)
			qsort(b->skip, nskip, sizeof(*b->skip), cmp_id);
	}
	b->nskip = nskip;
	b->st = st;
	return 0;
}

/* The session of another match of person overlapping [t, end), or NULL; *own = 1 when the
 * person's own match (match_id) has a session starting at t. */
static int
clash(struct plan_busy *b, const char *person, int64_t match_id, time_t t, time_t end,
      int *own, const struct busy_slot **hit, struct diag *d)
{
	struct busy_list *l;
	*hit = NULL;
	if (busy_get(b, person, &l, d) != 0)
		return -1;
	for (size_t i = 0; l != NULL && i < l->n; i++) {
		const struct busy_slot *s = &l->v[i];
		if (s->match_id == match_id) {
			*own |= s->start == t && s->session_id != 0;
			continue;
		}
		if (s->start < end && s->end > t && *hit == NULL)
			*hit = s;
	}
	return 0;
}

struct fit {
	struct plan_busy *b;
	const struct cadence_pair *p;
	struct slots_person a, m;
	int64_t match_id;
	int duration;
};

/* The first start in [lo, hi) that fits both people's slots and clashes with no other
 * session of theirs: 0 with *out, 1 none, -1 error. */
static int
first_free(const struct fit *f, time_t lo, time_t hi, time_t *out, struct diag *d)
{
	time_t t = lo;
	while (t < hi) {
		int rc = slots_pick(&f->a, &f->m, t, hi, f->duration, NULL, &t, d);
		if (rc != 0)
			return rc;
		int own = 0;
		time_t end = t + (time_t)f->duration * 60;
		const struct busy_slot *c;
		if (clash(f->b, f->p->mentor.id, f->match_id, t, end, &own, &c, d) != 0 ||
		    (c == NULL && clash(f->b, f->p->mentee.id, f->match_id, t, end, &own, &c, d) != 0))
			return -1;
		if (c == NULL) {
			*out = t;
			return 0;
		}
		t = (c->end + 899) / 900 * 900; /* the next quarter hour after that session */
	}
	return 1;
}

/* The day of t in zone: [its midnight, the next one). */
static int
day_of(time_t t, const char *zone, time_t *lo, time_t *hi, char date[32], struct diag *d)
{
	struct tm tm;
	if (tz_utc_to_local(zone, t, &tm, d) != 0)
		return -1;
	snprintf(date, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if (tz_local_to_utc(zone, &tm, lo, d) != 0)
		return -1;
	tm.tm_mday++;
	return tz_local_to_utc(zone, &tm, hi, d);
}

static int
cmp_start(const void *x, const void *y)
{
	const struct cadence_session *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* One session of the pair: kept, moved or dropped (start 0). */
static int
fit_one(struct fit *f, struct cadence_session *s, time_t keep, char *why, size_t why_size,
	struct diag *d)
{
	f->duration = s->duration_min > 0 ? s->duration_min : 60;
	time_t t = s->start, end = t + (time_t)f->duration * 60;
	int own = 0;
	const struct busy_slot *c;
	if (clash(f->b, f->p->mentor.id, f->match_id, t, end, &own, &c, d) != 0)
		return -1;
	const char *who = f->p->mentor.name;
	if (c == NULL) {
		if (clash(f->b, f->p->mentee.id, f->match_id, t, end, &own, &c, d) != 0)
			return -1;
		who = f->p->mentee.name;
	}
	if (own && t <= keep)
		return 0;
	time_t fits = 0;
	int rc = s->open ? slots_pick(&f->a, &f->m, t, t + 1, f->duration, NULL, &fits, d) : 0;
	if (rc < 0)
		return -1;
	if (c == NULL && rc == 0)
		return 0;
	time_t lo, hi;
	char date[32];
	if (day_of(t, f->p->zone, &lo, &hi, date, d) != 0)
		return -1;
	rc = first_free(f, t, hi, &s->start, d);
	if (rc == 1)
		rc = first_free(f, lo, t, &s->start, d);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		s->start = 0;
		char which[64] = "";
		if (c != NULL && c->session_id != 0)
			snprintf(which, sizeof(which), "session #%lld of ", (long long)c->session_id);
		if (why[0] == '\0' && c != NULL)
			snprintf(why, why_size,
				 "no free slot on %s: %s already has a session then (%smatch #%lld), "
				 "and the rest of the pair's shared time that day is taken",
				 date, who != NULL ? who : "one of them", which,
				 (long long)c->match_id);
		else if (why[0] == '\0')
			snprintf(why, why_size,
				 "no shared slot on %s: %s (%s) and %s (%s) have no common time "
				 "that day on their own clocks",
				 date, f->p->mentor.name, f->p->mentor.timezone, f->p->mentee.name,
				 f->p->mentee.timezone);
	}
	return 0;
}

int
plan_fit(struct plan_busy *b, const struct cadence_pair *p, int64_t match_id,
	 struct cadence_result *res, time_t from, time_t until, time_t keep, char *why,
	 size_t why_size, struct diag *d)
{
	struct fit f = {.b = b, .p = p, .a = {p->mentor.timezone, 0}, .m = {p->mentee.timezone, 0},
			.match_id = match_id};
	if (slots_parse(p->mentor_enr.availability, &f.a.mask, d) != 0)
		return diag_prefix(d, "%s's availability", p->mentor.name);
	if (slots_parse(p->mentee_enr.availability, &f.m.mask, d) != 0)
		return diag_prefix(d, "%s's availability", p->mentee.name);
	for (size_t i = 0; i < res->n; i++) {
		struct cadence_session *s = &res->v[i];
		if (s->start < from || s->start >= until)
			continue;
		if (fit_one(&f, s, keep, why, why_size, d) != 0)
			return -1;
		if (s->start == 0)
			continue;
		struct busy_slot x = {0, match_id, s->start,
				      s->start + (time_t)(s->duration_min > 0 ? s->duration_min : 60) * 60};
		if (busy_add(b, p->mentor.id, &x, d) != 0 || busy_add(b, p->mentee.id, &x, d) != 0)
			return -1;
	}
	/* Sorted again, without dropped sessions and without two at one instant. */
	if (res->n > 1) /* qsort(NULL, 0, ...) is undefined: an empty result */
		qsort(res->v, res->n, sizeof(*res->v), cmp_start);
	size_t k = 0;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].start != 0 && (k == 0 || res->v[k - 1].start != res->v[i].start))
			res->v[k++] = res->v[i];
	res->n = k;
	return 0;
}

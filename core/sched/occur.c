/*
 * sched/occur: materializing occurrences and the misfire policies (see occur.h
 * for the contract; running them is in run.c).
 *
 * Why a fixed anchor: a rule's missing parts (the minute of an hourly job, the
 * week of a biweekly one) come from its dtstart, so the dtstart must not move
 * between two materializations or the instants would. Every job is anchored at
 * 2024-01-01 00:00 local time in its zone (a Monday); rrule_expand moves a far
 * anchor forward by whole periods, so the cost is the window's, not the years'.
 *
 * Why the misfire policy looks at pending rows rather than at the instants just
 * inserted: an occurrence materialized while the service ran (the "next one")
 * becomes late the same way when the service then stops, and it must be treated
 * like the ones inserted after the restart.
 */
#include "sched/occur.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "base/hash.h"
#include "events/events.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"
#include "time/cal.h"
#include "time/rrule.h"

/* Instants inserted per expansion call: a long backlog is walked in chunks of this many. */
enum { CHUNK = 4096 };

/*
 * A backlog keeps one row per missed instant for its latest BACKLOG_ROWS instants only
 * (with misfire once or skip): the older ones are counted into ONE row, due at the latest
 * of them, covers = how many, which the misfire policy then treats like any late row
 * (skipped with the reason; under once its covers go to the run). A 30-year outage of an
 * hourly job is 262,980 instants: a thousand rows and a summary, not 262,980 rows. Under
 * misfire all each instant runs, so each gets its row.
 */
enum { BACKLOG_ROWS = 1024 };

int
sched_parse_time(const char *s, time_t *out)
{
	struct cal_time w = {0};
	long long y;
	char z = 0;
	if (s == NULL || sscanf(s, "%4lld-%2d-%2dT%2d:%2d:%2d%c", &y, &w.mon, &w.day, &w.hour, &w.min,
				&w.sec, &z) != 7 || z != 'Z')
		return -1;
	w.year = y;
	if (w.mon < 1 || w.mon > 12 || w.day < 1 || w.day > cal_days_in_month(w.year, w.mon))
		return -1;
	*out = (time_t)cal_to_epoch(&w);
	return 0;
}

int64_t
sched_jitter(const char *name, time_t due, int64_t jitter_s)
{
	if (jitter_s <= 0)
		return 0;
	uint64_t h = hash_mix64(hash_str(name) ^ hash_mix64((uint64_t)due * HASH_FNV64_PRIME));
	return (int64_t)(h % (uint64_t)(jitter_s + 1));
}

/* "2d 3h", "1h 30m", "45s": a duration for reasons people read. */
static void
fmt_dur(int64_t s, char *buf, size_t size)
{
	int64_t dd = s / 86400, hh = s % 86400 / 3600, mm = s % 3600 / 60, ss = s % 60;
	if (dd > 0)
		snprintf(buf, size, hh ? "%lldd %lldh" : "%lldd", (long long)dd, (long long)hh);
	else if (hh > 0)
		snprintf(buf, size, mm ? "%lldh %lldm" : "%lldh", (long long)hh, (long long)mm);
	else if (mm > 0)
		snprintf(buf, size, ss ? "%lldm %llds" : "%lldm", (long long)mm, (long long)ss);
	else
		snprintf(buf, size, "%llds", (long long)ss);
}

/* One enabled job as materialize sees it. */
struct mjob {
	int64_t id;
	char *name, *schedule, *zone, *misfire;
	int64_t grace_s, jitter_s;
	time_t from; /* the first instant not yet materialized may be at or after this */
	int have_last;
	time_t last;
	time_t enabled; /* enabled_at: no instant before it is owed */
	const struct sched_job_ops *ops; /* a built-in with next_work, else NULL */
};

static void
mjobs_free(struct mjob *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].schedule);
		free(v[i].zone);
		free(v[i].misfire);
	}
	free(v);
}

static int
load_jobs(struct sched *s, struct mjob **out, size_t *n, struct diag *d)
{
	struct stmt q = {0};
	struct mjob *v = NULL;
	size_t cnt = 0;
	*out = NULL;
	*n = 0;
	if (stmt_prepare(&q, s->st, "listing the jobs to materialize",
			 "SELECT j.id, j.name, j.schedule, j.timezone, j.misfire, j.grace_s, j.jitter_s,"
			 " j.enabled_at, (SELECT max(due_at) FROM occurrences o WHERE o.job_id = j.id),"
			 " j.kind, j.considered_until"
			 " FROM jobs j WHERE j.enabled = 1 ORDER BY j.id",
			 d) != 0)
		return -1;
	int rc = 0;
	for (;;) {
		int r = stmt_step(&q, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		struct mjob *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory listing jobs");
			break;
		}
		v = nv;
		struct mjob *j = &v[cnt];
		memset(j, 0, sizeof(*j));
		cnt++;
		const char *name, *sch, *zone, *mis, *since, *last, *kind, *considered;
		if (stmt_text(&q, 1, &name, d) || stmt_text(&q, 2, &sch, d) ||
		    stmt_text(&q, 3, &zone, d) || stmt_text(&q, 4, &mis, d) ||
		    stmt_text(&q, 7, &since, d) || stmt_text(&q, 8, &last, d) ||
		    stmt_text(&q, 9, &kind, d) || stmt_text(&q, 10, &considered, d)) {
			rc = -1;
			break;
		}
		j->id = stmt_int64(&q, 0);
		j->grace_s = stmt_int64(&q, 5);
		j->jitter_s = stmt_int64(&q, 6);
		j->name = strdup(name);
		j->schedule = strdup(sch);
		j->zone = strdup(zone);
		j->misfire = strdup(mis);
		if (j->name == NULL || j->schedule == NULL || j->zone == NULL || j->misfire == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory listing jobs");
			break;
		}
		if (sched_parse_time(since, &j->from) != 0) {
			rc = diag_set(d, DIAG_DB, "job %s: bad enabled_at '%s'", name, since);
			break;
		}
		j->enabled = j->from;
		if (strcmp(kind, "builtin") == 0 && (j->ops = sched_builtin(s, name)) != NULL &&
		    j->ops->next_work == NULL)
			j->ops = NULL;
		if (last != NULL) {
			if (sched_parse_time(last, &j->last) != 0) {
				rc = diag_set(d, DIAG_DB, "job %s: bad due_at '%s'", name, last);
				break;
			}
			j->have_last = 1;
			if (j->last + 1 > j->from)
				j->from = j->last + 1;
		}
		/* A job run where it has work: its instants up to considered_until were looked
		 * at (those without a row had none), whatever rows predicted after it. */
		time_t c;
		if (j->ops != NULL && considered != NULL) {
			if (sched_parse_time(considered, &c) != 0) {
				rc = diag_set(d, DIAG_DB, "job %s: bad considered_until '%s'", name,
					      considered);
				break;
			}
			j->from = c + 1 > j->enabled ? c + 1 : j->enabled;
		}
	}
	stmt_finalize(&q);
	if (rc != 0) {
		mjobs_free(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* One pending row at instant t standing for `covers` instants. */
static int
insert_one(struct stmt *ins, const struct mjob *j, time_t t, int64_t covers, struct diag *d)
{
	char due[STORE_TIME_MAX], run[STORE_TIME_MAX];
	if (store_format_time(t, due) != 0 ||
	    store_format_time(t + sched_jitter(j->name, t, j->jitter_s), run) != 0)
		return diag_set(d, DIAG_INVALID, "job %s: an instant out of range", j->name);
	return stmt_bind_int64(ins, 1, j->id, d) || stmt_bind_text(ins, 2, due, d) ||
			       stmt_bind_text(ins, 3, run, d) || stmt_bind_int64(ins, 4, covers, d) ||
			       stmt_run(ins, d)
		       ? -1
		       : 0;
}

/*
 * The instants of a backlog on their way to rows: the late ones wait in a ring of the
 * latest BACKLOG_ROWS; one pushed out of it is counted into the summary (n, latest).
 */
struct backlog {
	int coalesce;       /* misfire once or skip */
	time_t cut;         /* an instant before this is late whatever its jitter */
	time_t ring[BACKLOG_ROWS];
	size_t head, count; /* the ring's oldest and how many it holds */
	int64_t n;          /* instants counted into the summary */
	time_t latest;      /* the summary's latest instant */
};

/* The summary row, then the ring's instants, oldest first. */
static int
backlog_flush(struct backlog *b, struct stmt *ins, const struct mjob *j, struct diag *d)
{
	if (b->n > 0 && insert_one(ins, j, b->latest, b->n, d) != 0)
		return -1;
	b->n = 0;
	for (; b->count > 0; b->count--, b->head = (b->head + 1) % BACKLOG_ROWS)
		if (insert_one(ins, j, b->ring[b->head], 1, d) != 0)
			return -1;
	b->head = 0;
	return 0;
}

static int
insert_instants(struct backlog *b, struct stmt *ins, const struct mjob *j, const time_t *v,
		size_t n, struct diag *d)
{
	for (size_t i = 0; i < n; i++) {
		if (b->coalesce && v[i] < b->cut) {
			if (b->count == BACKLOG_ROWS) {
				b->n++;
				b->latest = b->ring[b->head];
				b->ring[b->head] = v[i];
				b->head = (b->head + 1) % BACKLOG_ROWS;
			} else {
				b->ring[(b->head + b->count++) % BACKLOG_ROWS] = v[i];
			}
			continue;
		}
		/* Instants come in order: the late ones are all behind us. */
		if (backlog_flush(b, ins, j, d) != 0 || insert_one(ins, j, v[i], 1, d) != 0)
			return -1;
	}
	return 0;
}

static int
job_rule(const struct mjob *j, struct rrule **out, struct diag *d)
{
	char rule[512];
	if (jobdecl_rule(j->schedule, rule, sizeof(rule)) != 0)
		return diag_set(d, DIAG_INVALID, "job %s: schedule too long", j->name);
	if ((*out = rrule_parse(rule, d)) == NULL)
		return diag_prefix(d, "job %s", j->name);
	return 0;
}

static const struct cal_time anchor = {2024, 1, 1, 0, 0, 0};

/*
 * Kept expansions (struct sched's grids): a wake asks each built-in job's rule for the
 * latest instant of the last two days, the instants up to now and the first one after:
 * three libical walks of two days each (about 15% of a simulated month's CPU). A job's
 * instants in [lo, hi), for its schedule and zone, are kept, and a question inside that
 * range is answered from them: the instants of [from, until) are the same whichever
 * wider window expanded them. A question outside it, of a window shorter than
 * GRID_SPAN, expands [from - GRID_BACK, from + GRID_SPAN) once and keeps that instead
 * (an expansion that stopped at CHUNK instants: up to its last one). Kept per job, not
 * per rule: the hourly jobs ask about different times (activate-matches about the
 * program's end, send-reminders about the next reminder). A longer window (a
 * backlog, a rule with nothing in two days) is asked as it is, and so is a question
 * when that expansion fails (too many steps): nothing is kept then.
 */
enum { GRID_BACK = 3 * 86400, GRID_SPAN = 9 * 86400, GRID_KEEP = 8 };
#define TIME_KEPT_MAX ((time_t)253402300799LL - GRID_SPAN) /* 9999-12-31 less the span */
#define TIME_KEPT_MIN ((time_t)-2208988800LL + GRID_BACK)  /* 1900-01-01 plus the back */

struct sched_grid {
	int64_t job_id;
	char *schedule, *zone;
	time_t lo, hi;
	time_t *v;
	size_t n;
};

void
sched__grids_free(struct sched *s)
{
	for (size_t i = 0; s->grids != NULL && i < GRID_KEEP; i++) {
		free(s->grids[i].schedule);
		free(s->grids[i].zone);
		free(s->grids[i].v);
	}
	free(s->grids);
	s->grids = NULL;
}

/* The kept expansion of job j's rule that covers [from, until), or NULL. */
static struct sched_grid *
grid_find(struct sched *s, const struct mjob *j, time_t from, time_t until)
{
	for (size_t i = 0; s->grids != NULL && i < GRID_KEEP; i++) {
		struct sched_grid *g = &s->grids[i];
		if (g->schedule != NULL && g->job_id == j->id && strcmp(g->schedule, j->schedule) == 0 &&
		    strcmp(g->zone, j->zone) == 0 && g->lo <= from && until <= g->hi)
			return g;
	}
	return NULL;
}

/* Keeps job j's instants of [from, hi) (v, n: from rrule_expand, taken); 0, or 1 when
 * there is no memory to keep them (v freed). */
static int
grid_keep(struct sched *s, const struct mjob *j, time_t from, time_t hi, time_t *v, size_t n)
{
	if (s->grids == NULL && (s->grids = calloc(GRID_KEEP, sizeof(*s->grids))) == NULL) {
		free(v);
		return 1;
	}
	struct sched_grid *g = NULL;
	for (size_t i = 0; i < GRID_KEEP && g == NULL; i++) /* the job's own, else a free one */
		if (s->grids[i].job_id == j->id && s->grids[i].schedule != NULL)
			g = &s->grids[i];
	for (size_t i = 0; i < GRID_KEEP && g == NULL; i++)
		if (s->grids[i].schedule == NULL)
			g = &s->grids[i];
	if (g == NULL)
		g = &s->grids[(size_t)j->id % GRID_KEEP];
	char *sc = strdup(j->schedule), *zn = strdup(j->zone);
	if (sc == NULL || zn == NULL) {
		free(sc);
		free(zn);
		free(v);
		return 1;
	}
	free(g->schedule);
	free(g->zone);
	free(g->v);
	*g = (struct sched_grid){j->id, sc, zn, from, hi, v, n};
	return 0;
}

/* rrule_expand of j's rule r from the anchor in j's zone, [from, until), at most max
 * instants, answered from the kept expansion when it covers the window. */
static int
grid_expand(struct sched *s, const struct mjob *j, const struct rrule *r, time_t from,
	    time_t until, size_t max, time_t **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	if (from >= until || max == 0)
		return rrule_expand(r, &anchor, j->zone, from, until, max, out, n, d);
	struct sched_grid *g = grid_find(s, j, from, until);
	if (g == NULL) {
		if (until - from >= GRID_SPAN || from > TIME_KEPT_MAX || from < TIME_KEPT_MIN)
			return rrule_expand(r, &anchor, j->zone, from, until, max, out, n, d);
		time_t lo = from - GRID_BACK, hi = from + GRID_SPAN, *v = NULL;
		size_t k = 0;
		struct diag e;
		diag_clear(&e);
		if (rrule_expand(r, &anchor, j->zone, lo, hi, CHUNK, &v, &k, &e) != 0)
			return rrule_expand(r, &anchor, j->zone, from, until, max, out, n, d);
		if (k == CHUNK)
			hi = v[k - 1] + 1; /* complete up to its last instant */
		if (hi < until || grid_keep(s, j, lo, hi, v, k) != 0 ||
		    (g = grid_find(s, j, from, until)) == NULL) {
			if (hi < until)
				free(v);
			return rrule_expand(r, &anchor, j->zone, from, until, max, out, n, d);
		}
	}
	size_t a = 0;
	while (a < g->n && g->v[a] < from)
		a++;
	size_t b = a;
	while (b < g->n && g->v[b] < until && b - a < max)
		b++;
	if (b == a)
		return 0;
	if ((*out = malloc((b - a) * sizeof(**out))) == NULL)
		return diag_set(d, DIAG_NOMEM, "job %s: out of memory materializing", j->name);
	memcpy(*out, g->v + a, (b - a) * sizeof(**out));
	*n = b - a;
	return 0;
}

/* The instants of j in [from, now], in chunks, as rows (a late backlog coalesced). */
static int
expand_range(struct sched *s, struct stmt *ins, const struct mjob *j, const struct rrule *r,
	     time_t from, time_t now, struct diag *d)
{
	struct backlog *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return diag_set(d, DIAG_NOMEM, "job %s: out of memory materializing", j->name);
	b->coalesce = strcmp(j->misfire, "all") != 0;
	b->cut = now - j->grace_s - j->jitter_s;
	int rc = 0;
	while (rc == 0 && from <= now) {
		time_t *v = NULL;
		size_t n = 0;
		rc = grid_expand(s, j, r, from, now + 1, CHUNK, &v, &n, d);
		if (rc == 0)
			rc = insert_instants(b, ins, j, v, n, d);
		from = rc == 0 && n == CHUNK ? v[n - 1] + 1 : now + 1;
		free(v);
	}
	if (rc == 0)
		rc = backlog_flush(b, ins, j, d);
	free(b);
	return rc;
}

/* The first instant of j at or after from: 1 (*t), 0 when none within ~2 years, -1.
 * Searched in growing windows, so a daily job costs a day. */
static int
grid_first(struct sched *s, const struct mjob *j, const struct rrule *r, time_t from, time_t *t,
	   struct diag *d)
{
	static const time_t windows[] = {2 * 86400, 62 * 86400, 800 * 86400};
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		time_t *v = NULL;
		size_t n = 0;
		if (grid_expand(s, j, r, from, from + windows[w], 1, &v, &n, d) != 0)
			return -1;
		if (n > 0)
			*t = v[0];
		free(v);
		if (n > 0)
			return 1;
	}
	return 0;
}

/* The latest instant of j at or before now (within ~2 months): 1 (*t), 0 when none, -1. */
static int
grid_last(struct sched *s, const struct mjob *j, const struct rrule *r, time_t now, time_t *t,
	  struct diag *d)
{
	static const time_t windows[] = {2 * 86400, 62 * 86400};
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		int found = 0;
		for (time_t from = now - windows[w] + 1; from <= now;) {
			time_t *v = NULL;
			size_t n = 0;
			if (grid_expand(s, j, r, from, now + 1, CHUNK, &v, &n, d) != 0)
				return -1;
			if (n > 0) {
				*t = v[n - 1];
				found = 1;
			}
			from = n == CHUNK ? v[n - 1] + 1 : now + 1;
			free(v);
		}
		if (found)
			return 1;
	}
	return 0;
}

/* The instants of j in [from, now], in chunks, then the first one after now. */
static int
expand_job(struct sched *s, struct stmt *ins, const struct mjob *j, time_t now, struct diag *d)
{
	struct rrule *r;
	if (job_rule(j, &r, d) != 0)
		return -1;
	int rc = expand_range(s, ins, j, r, j->from, now, d);
	time_t t;
	int found = 0;
	if (rc == 0 && !(j->have_last && j->last > now)) /* else the next one exists already */
		rc = (found = grid_first(s, j, r, now + 1, &t, d)) < 0 ? -1 : 0;
	if (rc == 0 && found)
		rc = insert_one(ins, j, t, 1, d);
	rrule_delete(r);
	return rc != 0 ? diag_prefix(d, "job %s: materializing", j->name) : 0;
}

/*
 * A job run where it has work (occur.h): w, when it has some (have_w), decides which of
 * its instants become rows. Late ones: those in [max(from, w), now], and when that is
 * empty but w <= now, the latest instant <= now (work that appeared since it was looked
 * at runs now, on its instant, not an hour later; unless the job was enabled after that
 * instant, which is then not its to run); then the first instant >= max(w,
 * now + 1). Pending rows after now that are not that one were predictions of work
 * that moved or went: dropped. considered_until = now (its writes counted in *quiet:
 * they change no occurrence).
 */
static int
expand_on_work(struct sched *s, struct stmt *ins, const struct mjob *j, time_t now, int *quiet,
	       struct diag *d)
{
	time_t w = 0, next = 0, g = 0;
	int have_w = j->ops->next_work(s, now, &w, d);
	if (have_w < 0)
		return diag_prefix(d, "job %s: finding its next work", j->name);
	have_w = have_w == 0;
	struct rrule *r;
	if (job_rule(j, &r, d) != 0)
		return -1;
	int rc = 0, have_next = 0;
	if (have_w && w <= now) {
		time_t lo = w > j->from ? w : j->from;
		int have_g = grid_last(s, j, r, now, &g, d);
		if (have_g < 0)
			rc = -1;
		else if (have_g && lo > g && g >= j->enabled)
			lo = g;
		if (rc == 0 && lo <= now)
			rc = expand_range(s, ins, j, r, lo, now, d);
	}
	if (rc == 0 && have_w)
		rc = (have_next = grid_first(s, j, r, w > now ? w : now + 1, &next, d)) < 0 ? -1 : 0;
	if (rc == 0 && have_next)
		rc = insert_one(ins, j, next, 1, d);
	rrule_delete(r);
	char ts[STORE_TIME_MAX], nx[STORE_TIME_MAX];
	if (rc == 0 && (store_format_time(now, ts) != 0 || store_format_time(next, nx) != 0))
		rc = diag_set(d, DIAG_INTERNAL, "job %s: an instant out of range", j->name);
	struct stmt u = {0};
	if (rc == 0)
		rc = stmt_prepare(&u, s->st, "dropping predicted occurrences",
				  "DELETE FROM occurrences WHERE job_id = ?1 AND status = 'pending'"
				  " AND due_at > ?2 AND (?3 IS NULL OR due_at <> ?3)",
				  d) ||
		     stmt_bind_int64(&u, 1, j->id, d) || stmt_bind_text(&u, 2, ts, d) ||
		     (have_next ? stmt_bind_text(&u, 3, nx, d) : stmt_bind_null(&u, 3, d)) ||
		     stmt_run(&u, d);
	stmt_finalize(&u);
	int before = sqlite3_total_changes(store_db(s->st));
	if (rc == 0)
		rc = stmt_prepare(&u, s->st, "recording what was considered",
				  "UPDATE jobs SET considered_until = ?2 WHERE id = ?1"
				  " AND considered_until IS NOT ?2",
				  d) ||
		     stmt_bind_int64(&u, 1, j->id, d) || stmt_bind_text(&u, 2, ts, d) ||
		     stmt_run(&u, d);
	stmt_finalize(&u);
	*quiet += sqlite3_total_changes(store_db(s->st)) - before;
	return rc != 0 ? diag_prefix(d, "job %s: materializing", j->name) : 0;
}

static int
skipped_event(struct sched *s, const struct mjob *j, int64_t count, const char *first,
	      const char *last, const char *reason, struct diag *d)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "job", j->name, "count",
			      (json_int_t)count, "first_due", first, "last_due", last, "status",
			      "skipped", "reason", reason);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory writing a job event");
	struct event ev = {"job.skipped", "scheduler", 0, 0, text};
	int rc = events_append(s->st, &ev, NULL, d);
	free(text);
	return rc;
}

/* The misfire policy for j's pending occurrences more than grace late. */
static int
misfire(struct sched *s, const struct mjob *j, time_t now, struct diag *d)
{
	if (strcmp(j->misfire, "all") == 0)
		return 0;
	char cut[STORE_TIME_MAX], ts[STORE_TIME_MAX], grace[32];
	if (store_format_time(now - j->grace_s, cut) != 0 || store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INTERNAL, "misfire: the clock is out of range");
	fmt_dur(j->grace_s, grace, sizeof(grace));
	struct stmt q = {0}, u = {0};
	char first[STORE_TIME_MAX], last[STORE_TIME_MAX];
	int64_t count = 0, covers = 0, own = 0;
	int rc = stmt_prepare(&q, s->st, "finding late occurrences",
			      "SELECT min(o.due_at), max(o.due_at), count(*), sum(o.covers),"
			      " sum(" SCHED_OWN_COVERS_SQL("o") ") FROM occurrences o"
			      " WHERE o.job_id = ?1 AND o.status = 'pending' AND o.run_at < ?2",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&q, 1, j->id, d) || stmt_bind_text(&q, 2, cut, d) ||
		     stmt_step(&q, d) != STMT_ROW;
	if (rc == 0 && (count = stmt_int64(&q, 2)) > 0) {
		const char *a, *b;
		rc = stmt_text(&q, 0, &a, d) || stmt_text(&q, 1, &b, d);
		if (rc == 0) {
			snprintf(first, sizeof(first), "%s", a);
			snprintf(last, sizeof(last), "%s", b);
			covers = stmt_int64(&q, 3);
			own = stmt_int64(&q, 4);
		}
	}
	stmt_finalize(&q);
	if (rc != 0)
		return -1;
	if (count == 0)
		return 0;
	char reason[256];
	int once = strcmp(j->misfire, "once") == 0;
	if (once && count == 1)
		return 0; /* one late run stands for itself (and what it coalesced before) */
	if (once)
		snprintf(reason, sizeof(reason), "coalesced into the run due at %s (misfire = once)",
			 last);
	else
		snprintf(reason, sizeof(reason),
			 "missed: not run within the grace of %s after its time (found at %s; "
			 "misfire = skip)",
			 grace, ts);
	rc = stmt_prepare(&u, s->st, "skipping late occurrences",
			  "UPDATE occurrences SET status = 'skipped', reason = ?3, finished_at = ?4"
			  " WHERE job_id = ?1 AND status = 'pending' AND run_at < ?2"
			  " AND (?5 IS NULL OR due_at <> ?5)",
			  d);
	if (rc == 0)
		rc = stmt_bind_int64(&u, 1, j->id, d) || stmt_bind_text(&u, 2, cut, d) ||
		     stmt_bind_text(&u, 3, reason, d) || stmt_bind_text(&u, 4, ts, d) ||
		     (once ? stmt_bind_text(&u, 5, last, d) : stmt_bind_null(&u, 5, d)) ||
		     stmt_run(&u, d);
	stmt_finalize(&u);
	/* The instants skipped: the rows' covers (a backlog's summary row stands for many),
	 * but 1 for an earlier kept run (the runs coalesced into it were counted then), under
	 * once less the kept run's own. The kept run stands for all of them: covers summed. */
	int64_t skipped = own;
	if (rc == 0 && once) {
		int64_t kept = 1;
		rc = stmt_prepare(&u, s->st, "reading the kept late occurrence",
				  "SELECT covers FROM occurrences WHERE job_id = ?1 AND due_at = ?2", d);
		if (rc == 0)
			rc = stmt_bind_int64(&u, 1, j->id, d) || stmt_bind_text(&u, 2, last, d);
		int r = rc == 0 ? stmt_step(&u, d) : -1;
		if (r == STMT_ROW)
			kept = stmt_int64(&u, 0);
		stmt_finalize(&u);
		rc = r < 0 ? -1 : 0;
		skipped = own - kept;
		if (rc == 0)
			rc = stmt_prepare(&u, s->st, "coalescing late occurrences",
					  "UPDATE occurrences SET covers = ?3"
					  " WHERE job_id = ?1 AND due_at = ?2",
					  d);
		if (rc == 0)
			rc = stmt_bind_int64(&u, 1, j->id, d) || stmt_bind_text(&u, 2, last, d) ||
			     stmt_bind_int64(&u, 3, covers, d) || stmt_run(&u, d);
		stmt_finalize(&u);
	}
	if (rc == 0) {
		rc = skipped_event(s, j, skipped, first, last, reason, d);
		sched__log(s, TLOG_INFO, "job %s: %lld late run(s) %s", j->name, (long long)skipped,
			   once ? reason : "skipped (misfire = skip)");
	}
	return rc;
}

/* Lua runs whose process died while the plugin ran: pending again once the lease is over. */
static int
recover_leases(struct sched *s, time_t now, struct diag *d)
{
	char cut[STORE_TIME_MAX];
	if (store_format_time(now - SCHED_LEASE_S, cut) != 0)
		return diag_set(d, DIAG_INTERNAL, "recovering runs: the clock is out of range");
	struct stmt u = {0};
	int rc = stmt_prepare(&u, s->st, "recovering interrupted runs",
			      "UPDATE occurrences SET status = 'pending',"
			      " reason = 'its run was interrupted (the process died); run again'"
			      " WHERE status = 'running' AND claimed_at < ?1",
			      d);
	if (rc == 0)
		rc = stmt_bind_text(&u, 1, cut, d) || stmt_run(&u, d);
	stmt_finalize(&u);
	int n = rc == 0 ? sqlite3_changes(store_db(s->st)) : 0;
	if (n > 0)
		sched__log(s, TLOG_WARN, "recovered %d interrupted job run(s)", n);
	return rc;
}

int
sched_materialize(struct sched *s, time_t now, struct diag *d)
{
	/* Done at this instant already (a wake's steps all run at its `now`): the instants up
	 * to now and the next one exist, the late ones were dealt with, and a run does not
	 * make another one late. sched_sync forgets it (the jobs may have changed). */
	if (s->materialized && s->materialized_now == now)
		return 0;
	struct mjob *jobs;
	size_t n;
	if (store_begin(s->st, d) != 0)
		return -1;
	int changes = sqlite3_total_changes(store_db(s->st)), quiet = 0;
	struct stmt ins = {0};
	int rc = load_jobs(s, &jobs, &n, d);
	if (rc != 0) {
		store_rollback(s->st);
		return -1;
	}
	rc = stmt_prepare(&ins, s->st, "materializing occurrences",
			  "INSERT INTO occurrences (job_id, due_at, run_at, status, covers)"
			  " VALUES (?1, ?2, ?3, 'pending', ?4) ON CONFLICT (job_id, due_at) DO NOTHING",
			  d);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (jobs[i].ops != NULL)
			rc = expand_on_work(s, &ins, &jobs[i], now, &quiet, d);
		else if (!jobs[i].have_last || jobs[i].last <= now)
			rc = expand_job(s, &ins, &jobs[i], now, d);
		if (rc == 0)
			rc = misfire(s, &jobs[i], now, d);
	}
	stmt_finalize(&ins);
	mjobs_free(jobs, n);
	if (rc == 0)
		rc = recover_leases(s, now, d);
	if (rc != 0) {
		store_rollback(s->st);
		return -1;
	}
	int wrote = sqlite3_total_changes(store_db(s->st)) - quiet != changes;
	if (store_commit(s->st, d) != 0)
		return -1;
	s->materialized = 1;
	s->materialized_now = now;
	if (wrote)
		crash_point("sched.materialized"); /* a step boundary only when it wrote rows */
	return 0;
}

int
sched_next_due(struct sched *s, time_t *due, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "finding the next due occurrence",
			      "SELECT min(o.run_at) FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			      " WHERE o.status = 'pending' AND j.enabled = 1",
			      d);
	const char *t = NULL;
	if (rc == 0 && stmt_step(&q, d) != STMT_ROW)
		rc = -1;
	if (rc == 0)
		rc = stmt_text(&q, 0, &t, d);
	if (rc == 0 && t != NULL && sched_parse_time(t, due) != 0)
		rc = diag_set(d, DIAG_DB, "finding the next due occurrence: bad run_at '%s'", t);
	int none = rc == 0 && t == NULL;
	stmt_finalize(&q);
	return rc != 0 ? -1 : none;
}

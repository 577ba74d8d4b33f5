/*
 * sched/plan_check: a pair's cadence result held to the program's end, the match's end
 * and the pair's other sessions. See plan_check.h for the contract.
 *
 * One pass over the result (sorted by start): the accepted sessions so far are summed up
 * by the one that ends last (a session overlaps an earlier accepted one exactly when it
 * starts before that end), so a long result costs n steps, not n squared; the pair's
 * stored sessions are few and scanned for each.
 */
#include "sched/plan_check.h"

#include <stdio.h>
#include <string.h>

#include "sched/cadence.h"
#include "time/cal.h"

static void
fmt_instant(time_t t, char *buf, size_t size)
{
	struct cal_time w;
	cal_from_epoch((int64_t)t, &w);
	if (w.sec != 0)
		snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)w.year, w.mon,
			 w.day, w.hour, w.min, w.sec);
	else
		snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02dZ", (long long)w.year, w.mon, w.day,
			 w.hour, w.min);
}

static time_t
end_of(time_t start, int duration_min)
{
	return start + (time_t)duration_min * 60;
}

/* "PATH:LINE: plan returned a bad session 3: field 'start': " and its suffix. */
static void
where_of(const struct plan_check *c, const struct cadence_result *res,
	 const struct cadence_session *s, const char *field, char *buf, size_t size,
	 const char **suffix)
{
	char at[600];
	if (res->line > 0)
		snprintf(at, sizeof(at), "%s:%d", c->path, res->line);
	else
		snprintf(at, sizeof(at), "%s", c->path);
	char when[40];
	fmt_instant(s->start, when, sizeof(when));
	*suffix = s->entry > 0 ? " (in hook plan)" : "";
	if (s->entry > 0 && !s->from_rule)
		snprintf(buf, size, "%s: plan returned a bad session %d: field '%s': %s (%d minutes)",
			 at, s->entry, field, when, s->duration_min);
	else if (s->entry > 0)
		snprintf(buf, size,
			 "%s: plan returned a bad rule segment %d: field 'rule': its session at %s "
			 "(%d minutes)",
			 at, s->entry, when, s->duration_min);
	else
		snprintf(buf, size, "%s: rule '%.256s': its session at %s (%d minutes)", at,
			 c->rule != NULL ? c->rule : "", when, s->duration_min);
}

/* What an earlier accepted session of the result is, for a message. */
static void
other_of(const struct cadence_session *o, char *buf, size_t size)
{
	char when[40];
	fmt_instant(o->start, when, sizeof(when));
	if (o->entry > 0 && !o->from_rule)
		snprintf(buf, size, "session %d of the same result (%s, %d minutes)", o->entry, when,
			 o->duration_min);
	else if (o->entry > 0)
		snprintf(buf, size, "a session of rule segment %d (%s, %d minutes)", o->entry, when,
			 o->duration_min);
	else
		snprintf(buf, size, "another session of the rule (%s, %d minutes)", when,
			 o->duration_min);
}

static int
is_stored(const struct plan_check *c, time_t t)
{
	for (size_t i = 0; i < c->nstored; i++)
		if (c->stored[i] == t)
			return 1;
	return 0;
}

/* The stored session s overlaps, NULL when none. */
static const struct plan_held *
held_overlap(const struct plan_check *c, const struct cadence_session *s)
{
	time_t e = end_of(s->start, s->duration_min);
	for (size_t i = 0; i < c->nheld; i++) {
		const struct plan_held *b = &c->held[i];
		if (b->start < e && s->start < end_of(b->start, b->duration_min))
			return b;
	}
	return NULL;
}

/* Why s is refused into why ("" when it is not; *quiet when it is dropped without a
 * word); last is the accepted session that ends last, NULL when none. */
static void
judge(const struct plan_check *c, const struct cadence_result *res,
      const struct cadence_session *s, const struct cadence_session *last, char *why,
      size_t size, int *quiet)
{
	char head[1200], other[200], when[40];
	const char *suffix;
	*quiet = 0;
	why[0] = '\0';
	time_t e = end_of(s->start, s->duration_min);
	if (c->end != 0 && e > c->end) {
		*quiet = s->from_rule;
		where_of(c, res, s, "duration", head, sizeof(head), &suffix);
		fmt_instant(c->end, when, sizeof(when));
		snprintf(why, size, "%s would end after %s (%s)%s", head, c->end_what, when, suffix);
		return;
	}
	const struct plan_held *b = held_overlap(c, s);
	if (b != NULL) {
		fmt_instant(b->start, when, sizeof(when));
		snprintf(other, sizeof(other), "the pair's %s session #%lld (%s, %d minutes)",
			 b->status, (long long)b->id, when, b->duration_min);
	} else if (last != NULL && s->start < end_of(last->start, last->duration_min)) {
		other_of(last, other, sizeof(other));
	} else {
		return;
	}
	where_of(c, res, s, "start", head, sizeof(head), &suffix);
	snprintf(why, size, "%s overlaps %s%s", head, other, suffix);
}

int
plan_check_result(const struct plan_check *c, struct cadence_result *res, plan_refuse_fn refuse,
		  void *ud, struct diag *d)
{
	size_t k = 0;
	long last = -1; /* the accepted session of the result that ends last (index into res) */
	for (size_t i = 0; i < res->n; i++) {
		struct cadence_session s = res->v[i];
		if (s.start >= c->until || is_stored(c, s.start)) {
			res->v[k++] = s; /* beyond the window, or a session already there */
			continue;
		}
		char why[2048];
		int quiet;
		judge(c, res, &s, last >= 0 ? &res->v[last] : NULL, why, sizeof(why), &quiet);
		if (why[0] != '\0') {
			int rc = quiet ? 0 : refuse(ud, why, d);
			if (rc != 0)
				return rc;
			continue;
		}
		res->v[k] = s;
		if (last < 0 || end_of(s.start, s.duration_min) >
				    end_of(res->v[last].start, res->v[last].duration_min))
			last = (long)k;
		k++;
	}
	res->n = k;
	return 0;
}

/*
 * health: program health and overlapping programs. See health.h for the contract; every
 * rule is stated there and in docs/health.md. The pairs are read with one query, their
 * sessions with another (only the columns the rules read, the ratings through
 * SESSION_REVEALED_SQL, the rule session_list applies for an organizer: a report of 5,000
 * pairs spent 74% of its health time in session_list's full rows), sorted by pair, and each
 * pair is judged on its own sessions by judge().
 * Overlaps are in health_overlap.c; the interval of a rule-only plugin cadence in health_rule.c.
 */
#include "report/health.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program/config.h"
#include "program/matches.h"
#include "sched/plan.h"
#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"

enum { DAY = 86400 };

static const char *const status_names[] = {"on_track", "too_early", "needs_checkin", "at_risk"};

const char *
health_status_name(enum health_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names) ? status_names[s] : "?";
}

int
health_status_parse(const char *s, enum health_status *out, struct diag *d)
{
	for (size_t i = 0; s && i < sizeof(status_names) / sizeof(*status_names); i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum health_status)i;
			return 0;
		}
	return diag_set(d, DIAG_INVALID,
			"unknown health status '%s' (want on_track, needs_checkin, at_risk or "
			"too_early)",
			s ? s : "");
}

/* ---- the cadence's interval ------------------------------------------------------------ */

/* A built-in cadence's interval in days, 0 for any other cadence. */
static int
builtin_days(const char *name)
{
	static const struct {
		const char *name;
		int days;
	} builtin[] = {{"weekly", 7},	{"biweekly", 14},   {"monthly", 30},
		       {"taper", 14},	{"after_miss", 14}};
	for (size_t i = 0; name != NULL && i < sizeof(builtin) / sizeof(*builtin); i++)
		if (strcmp(name, builtin[i].name) == 0)
			return builtin[i].days;
	return 0;
}

int
health_interval_days(const struct config_program *p, const char **name, const char **from)
{
	*name = plan_program_cadence(p, from);
	if (builtin_days(*name) > 0)
		return builtin_days(*name);
	if (p->sessions_per_month > 0)
		return 30 / p->sessions_per_month > 0 ? 30 / p->sessions_per_month : 1;
	return HEALTH_DEFAULT_INTERVAL_DAYS;
}

/* ---- reading the pairs ----------------------------------------------------------------- */

struct pair {
	int64_t match_id, mentor, mentee;
	char *mentor_ext, *mentor_name, *mentee_ext, *mentee_name;
	time_t activated;
	int64_t assessed; /* the mentee's skill self-assessments in the pair's check-ins */
	char *plan_note;  /* why its last plan gave it no session (matches.plan_note), "" */
};

static void
pairs_free(struct pair *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].mentor_ext);
		free(v[i].mentor_name);
		free(v[i].mentee_ext);
		free(v[i].mentee_name);
		free(v[i].plan_note);
	}
	free(v);
}

static int
dup_text(struct stmt *s, int col, char **out, struct diag *d)
{
	const char *t = NULL;
	if (stmt_text(s, col, &t, d) != 0)
		return -1;
	if ((*out = strdup(t ? t : "")) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

/* The program's active matches, by id. */
static int
read_pairs(struct store *st, int64_t program_id, struct pair **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	struct stmt s = {0};
	size_t cap = 0;
	int rc = stmt_prepare(
		     &s, st, "reading the active pairs",
		     "SELECT m.id, m.mentor_id, r.external_id, r.name, m.mentee_id, e.external_id, "
		     "e.name, CAST(strftime('%s', COALESCE(m.activated_at, m.decided_at, "
		     "m.created_at)) AS INTEGER), (SELECT count(*) FROM skill_assessments a JOIN "
		     "sessions x ON x.id = a.session_id WHERE x.match_id = m.id AND a.person_id = "
		     "m.mentee_id), m.plan_note FROM matches m JOIN people r ON r.id = m.mentor_id "
		     "JOIN people e ON e.id = m.mentee_id "
		     "WHERE m.program_id = ?1 AND m.status = 'active' ORDER BY m.id",
		     d) ||
		 stmt_bind_int64(&s, 1, program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct pair *v = realloc(*out, ncap * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*out = v;
			cap = ncap;
		}
		struct pair *p = &(*out)[(*n)++];
		memset(p, 0, sizeof(*p));
		p->match_id = stmt_int64(&s, 0);
		p->mentor = stmt_int64(&s, 1);
		p->mentee = stmt_int64(&s, 4);
		p->activated = (time_t)stmt_int64(&s, 7);
		p->assessed = stmt_int64(&s, 8);
		rc = dup_text(&s, 2, &p->mentor_ext, d) || dup_text(&s, 3, &p->mentor_name, d) ||
			     dup_text(&s, 5, &p->mentee_ext, d) ||
			     dup_text(&s, 6, &p->mentee_name, d) || dup_text(&s, 9, &p->plan_note, d)
			 ? -1
			 : 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		pairs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/*
 * The sessions of the program's active matches as health reads them: id, match, start,
 * status, who cancelled, each side's check-in and rating as an organizer sees it (a rating
 * is hidden, 0, until SESSION_REVEALED_SQL says both sides rated or the window closed).
 * Only those fields of each session_row are set (free with session_rows_free).
 */
static const char sessions_sql[] =
	"SELECT s.id, s.match_id, CAST(strftime('%s', s.starts_at) AS INTEGER), s.status, "
	"coalesce(s.cancelled_by, 0), fr.id IS NOT NULL, fe.id IS NOT NULL, "
	"coalesce(fr.rating, 0), coalesce(fe.rating, 0), "
	SESSION_REVEALED_SQL("s", "fr", "fe", "?2") " "
	"FROM matches m JOIN sessions s ON s.match_id = m.id "
	"LEFT JOIN feedback fr ON fr.session_id = s.id AND fr.author_id = m.mentor_id "
	"LEFT JOIN feedback fe ON fe.session_id = s.id AND fe.author_id = m.mentee_id "
	"WHERE m.program_id = ?1 AND m.status = 'active'";

static int
read_sessions(struct store *st, int64_t program_id, time_t now, struct session_row **out,
	      size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	struct stmt s = {0};
	size_t cap = 0;
	int rc = stmt_prepare(&s, st, "reading the active pairs' sessions", sessions_sql, d) ||
		 stmt_bind_int64(&s, 1, program_id, d) || stmt_bind_int64(&s, 2, (int64_t)now, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct session_row *v = realloc(*out, ncap * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*out = v;
			cap = ncap;
		}
		struct session_row *r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = stmt_int64(&s, 0);
		r->match_id = stmt_int64(&s, 1);
		r->start = (time_t)stmt_int64(&s, 2);
		const char *status = NULL;
		if (stmt_text(&s, 3, &status, d) != 0 ||
		    session_status_parse(status ? status : "", &r->status, d) != 0) {
			rc = diag_prefix(d, "session #%lld", (long long)r->id);
			break;
		}
		r->cancelled_by = stmt_int64(&s, 4);
		r->mentor.checked_in = (int)stmt_int64(&s, 5);
		r->mentee.checked_in = (int)stmt_int64(&s, 6);
		r->revealed = stmt_int64(&s, 9) != 0; /* else the ratings stay hidden: 0 */
		r->mentor.rating = r->revealed ? (int)stmt_int64(&s, 7) : 0;
		r->mentee.rating = r->revealed ? (int)stmt_int64(&s, 8) : 0;
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		session_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* ---- judging one pair ------------------------------------------------------------------ */

/* What judge() needs besides the pair and its sessions. */
struct judge_ctx {
	time_t now;
	int interval_days; /* the cadence's figure */
	int measured;      /* a plugin cadence with a plan hook: each pair's interval is
			    * measured (pair_interval) */
	const char *cadence;
};

/* The verdict on one pair: its reasons and the worst status among them. */
struct verdict {
	json_t *reasons;
	enum health_status status;
	int held, missed;
	time_t last_held; /* 0: never */
	int interval_days; /* the pair's (pair_interval) */
	int measured;      /* 1: from its sessions, 0: the cadence's figure */
	int nomem;
};

static const int rank[] = {
    [HEALTH_ON_TRACK] = 0, [HEALTH_TOO_EARLY] = 0, [HEALTH_NEEDS_CHECKIN] = 1,
    [HEALTH_AT_RISK] = 2};

static void
add_reason(struct verdict *v, enum health_status status, const char *code, const char *action,
	   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
add_reason(struct verdict *v, enum health_status status, const char *code, const char *action,
	   const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (json_array_append_new(v->reasons, json_pack("{ssssss}", "code", code, "text", text,
							"action", action)) != 0)
		v->nomem = 1;
	if (json_array_size(v->reasons) == 1 || rank[status] > rank[v->status])
		v->status = status;
}

static void
fmt_date(time_t t, char buf[32])
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, 32, "?");
	else
		snprintf(buf, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

/* A session that counts as missed: missed, or cancelled by a side of the pair. */
static int
is_missed(const struct session_row *s)
{
	return s->status == SESSION_MISSED ||
	       (s->status == SESSION_CANCELLED && s->cancelled_by != 0);
}

/* consecutive_misses: the latest started sessions that were missed, back to a held one. */
static void
judge_misses(const struct pair *p, const struct session_row *const *s, size_t n, time_t now,
	     struct verdict *v)
{
	int run = 0, by_mentor = 0, by_mentee = 0;
	for (size_t i = n; i-- > 0;) {
		if (s[i]->start > now)
			continue;
		if (s[i]->status == SESSION_HELD)
			break;
		if (!is_missed(s[i]))
			continue; /* planned and not checked in yet, moved, cancelled by nobody */
		run++;
		if (s[i]->status == SESSION_CANCELLED)
			s[i]->cancelled_by == p->mentor ? by_mentor++ : by_mentee++;
	}
	if (run < HEALTH_MISSES_AT_RISK)
		return;
	int missed = run - by_mentor - by_mentee;
	char why[400] = "";
	if (by_mentor == run || by_mentee == run) {
		snprintf(why, sizeof(why), " (cancelled by %s)",
			 by_mentor ? p->mentor_name : p->mentee_name);
	} else if (by_mentor + by_mentee > 0) {
		size_t k = 0;
		const struct {
			int n;
			const char *fmt, *name;
		} part[] = {{by_mentor, "%d cancelled by %s", p->mentor_name},
			    {by_mentee, "%d cancelled by %s", p->mentee_name},
			    {missed, "%d missed", NULL}};
		for (size_t j = 0; j < 3; j++) {
			if (part[j].n == 0 || k + 2 >= sizeof(why))
				continue;
			int w = snprintf(why + k, sizeof(why) - k, "%s", k ? ", " : " (");
			k += w > 0 ? (size_t)w : 0;
			w = part[j].name ? snprintf(why + k, sizeof(why) - k, part[j].fmt, part[j].n,
						    part[j].name)
					 : snprintf(why + k, sizeof(why) - k, part[j].fmt, part[j].n);
			k += w > 0 ? (size_t)w : 0;
		}
		if (k + 1 < sizeof(why))
			snprintf(why + k, sizeof(why) - k, ")");
	}
	add_reason(v, HEALTH_AT_RISK, "consecutive_misses",
		   run >= HEALTH_MISSES_REMATCH ? "rematch" : "checkin",
		   "%d consecutive missed sessions%s", run, why);
}

/* one_sided: of the last sessions with a check-in, only one side checked in to any. */
static void
judge_one_sided(const struct pair *p, const struct session_row *const *s, size_t n,
		time_t now, struct verdict *v)
{
	int seen = 0, mentor = 0, mentee = 0;
	for (size_t i = n; i-- > 0 && seen < HEALTH_ONE_SIDED_SESSIONS;) {
		if (s[i]->start > now || (!s[i]->mentor.checked_in && !s[i]->mentee.checked_in))
			continue;
		seen++;
		mentor += s[i]->mentor.checked_in;
		mentee += s[i]->mentee.checked_in;
	}
	if (seen < HEALTH_ONE_SIDED_SESSIONS || (mentor > 0 && mentee > 0))
		return;
	add_reason(v, HEALTH_NEEDS_CHECKIN, "one_sided", "nudge",
		   "only %s checks in: %s checked in to none of the last %d sessions with a "
		   "check-in",
		   mentor ? p->mentor_name : p->mentee_name,
		   mentor ? p->mentee_name : p->mentor_name, seen);
}

/* Sums of the visible ratings of a pair, in session order. */
struct ratings {
	long n, sum;	     /* all of them */
	long last[2];	     /* the two most recent, last[1] the latest */
	long side_n[2], side_sum[2]; /* [0] the mentor's, [1] the mentee's */
};

static void
rating_add(struct ratings *r, int side, int value)
{
	r->n++;
	r->sum += value;
	r->last[0] = r->last[1];
	r->last[1] = value;
	r->side_n[side]++;
	r->side_sum[side] += value;
}

static void
judge_ratings(const struct pair *p, const struct session_row *const *s, size_t n, time_t now,
	      struct verdict *v)
{
	struct ratings r = {0};
	for (size_t i = 0; i < n; i++) {
		if (s[i]->start > now)
			continue;
		if (s[i]->mentor.rating)
			rating_add(&r, 0, s[i]->mentor.rating);
		if (s[i]->mentee.rating)
			rating_add(&r, 1, s[i]->mentee.rating);
	}
	/* mean < LOW  <=>  10 * sum < LOW_X10 * n */
	if (r.n >= HEALTH_MIN_RATINGS && 10 * r.sum < (long)HEALTH_LOW_RATING_X10 * r.n)
		add_reason(v, HEALTH_AT_RISK, "low_ratings", "rematch",
			   "low ratings: a mean of %.1f over %ld ratings (below %.1f)",
			   (double)r.sum / (double)r.n, r.n, HEALTH_LOW_RATING_X10 / 10.0);
	if (r.n >= 3) {
		/* earlier mean - last-two mean >= DROP  <=>  10 (2E - kL) >= 2k DROP_X10 */
		long k = r.n - 2, last = r.last[0] + r.last[1], earlier = r.sum - last;
		if (10 * (2 * earlier - k * last) >= 2 * k * (long)HEALTH_FALLING_DROP_X10)
			add_reason(v, HEALTH_NEEDS_CHECKIN, "falling_ratings", "checkin",
				   "falling ratings: the last two average %.1f, the %ld before "
				   "them %.1f (down %.1f)",
				   (double)last / 2.0, k, (double)earlier / (double)k,
				   (double)earlier / (double)k - (double)last / 2.0);
	}
	long na = r.side_n[0], nb = r.side_n[1], a = r.side_sum[0], b = r.side_sum[1];
	/* |a/na - b/nb| >= GAP  <=>  10 |a nb - b na| >= GAP_X10 na nb */
	long diff = a * nb - b * na;
	if (na > 0 && nb > 0 && 10 * labs(diff) >= (long)HEALTH_RATING_GAP_X10 * na * nb) {
		int low = diff < 0 ? 0 : 1; /* the side with the lower mean */
		double lm = (double)r.side_sum[low] / (double)r.side_n[low];
		double hm = (double)r.side_sum[!low] / (double)r.side_n[!low];
		add_reason(v, HEALTH_NEEDS_CHECKIN, "rating_gap", "checkin",
			   "%s rates the sessions %.1f on average (%ld rating%s), %s %.1f (%ld "
			   "rating%s): %.1f apart",
			   low ? p->mentee_name : p->mentor_name, lm, r.side_n[low],
			   plural(r.side_n[low]), low ? p->mentor_name : p->mentee_name, hm,
			   r.side_n[!low], plural(r.side_n[!low]), hm - lm);
	}
}

/* stale_goals: long enough active and the mentee never self-assessed a skill. */
static void
judge_goals(const struct pair *p, time_t now, struct verdict *v)
{
	long since_act = (long)((now - p->activated) / DAY);
	if (p->assessed > 0 || now - p->activated < (time_t)HEALTH_STALE_GOALS_DAYS * DAY)
		return;
	add_reason(v, HEALTH_AT_RISK, "stale_goals", "checkin",
		   "stale goals: %s recorded no skill self-assessment in the %ld days since activation "
		   "(expected within %d: sessions checkin --skill)",
		   p->mentee_name, since_act, HEALTH_STALE_GOALS_DAYS);
}

/* The next planned session's start after now, 0 when none. A session held or missed
 * since counts too: at now (an --as-of in the past) it was still planned ahead. */
static time_t
next_planned(const struct session_row *const *s, size_t n, time_t now)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i]->status == SESSION_PLANNED || s[i]->status == SESSION_HELD ||
		     s[i]->status == SESSION_MISSED) &&
		    s[i]->start > now)
			return s[i]->start;
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;
	return (x > y) - (x < y);
}

/* The pair's interval (docs/health.md): for a plugin cadence, the median gap between the
 * starts of its planned, held and missed sessions, in whole days (rounded, at least 1);
 * the cadence's figure for a built-in one or with fewer than 2 such sessions. */
static void
pair_interval(const struct session_row *const *s, size_t n, const struct judge_ctx *x,
	      struct verdict *v)
{
	v->interval_days = x->interval_days;
	v->measured = 0;
	if (!x->measured || n < 2)
		return;
	time_t *gap = malloc(n * sizeof(*gap));
	if (gap == NULL) {
		v->nomem = 1;
		return;
	}
	size_t k = 0;
	time_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		enum session_status st = s[i]->status;
		if (st != SESSION_PLANNED && st != SESSION_HELD && st != SESSION_MISSED)
			continue;
		if (prev != 0)
			gap[k++] = s[i]->start - prev;
		prev = s[i]->start;
	}
	if (k > 0) {
		qsort(gap, k, sizeof(*gap), by_time);
		time_t median = k % 2 ? gap[k / 2] : (gap[k / 2 - 1] + gap[k / 2]) / 2;
		long days = (long)((median + DAY / 2) / DAY);
		v->interval_days = days < 1 ? 1 : days > 3650 ? 3650 : (int)days;
		v->measured = 1;
	}
	free(gap);
}

/* no_shared_slot / not_planned: nothing planned ahead, and the planner said why (the
 * pair's plan_note): the pair cannot meet as things are. */
static void
judge_unplanned(const struct pair *p, time_t next, struct verdict *v)
{
	if (next != 0 || p->plan_note[0] == '\0')
		return;
	if (strncmp(p->plan_note, "no shared slot", 14) == 0)
		add_reason(v, HEALTH_AT_RISK, "no_shared_slot", "rematch",
			   "nothing can be planned: %.400s", p->plan_note);
	else
		add_reason(v, HEALTH_AT_RISK, "not_planned", "checkin",
			   "nothing can be planned: the cadence failed: %.400s", p->plan_note);
}

/* overdue / no_first_session, then the reason of a pair nothing is wrong with. */
static void
judge_rhythm(const struct pair *p, const struct session_row *const *s, size_t n,
	     const struct judge_ctx *x, struct verdict *v)
{
	char day[32], next[32] = "";
	time_t nx = next_planned(s, n, x->now);
	if (nx)
		fmt_date(nx, next);
	judge_unplanned(p, nx, v);
	long since_act = (long)((x->now - p->activated) / DAY);
	const char *how = v->measured ? " (measured)" : "";
	if (v->held > 0) {
		long limit = (long)v->interval_days * DAY * HEALTH_OVERDUE_PCT / 100;
		long since = (long)((x->now - v->last_held) / DAY);
		fmt_date(v->last_held, day);
		if ((long)(x->now - v->last_held) > limit)
			add_reason(v, HEALTH_NEEDS_CHECKIN, "overdue", "nudge",
				   "no session held for %ld days (the last on %s; cadence %s, "
				   "every %d days%s: overdue after %g)",
				   since, day, x->cadence, v->interval_days, how,
				   v->interval_days * HEALTH_OVERDUE_PCT / 100.0);
	} else if (x->now - p->activated >= (time_t)HEALTH_FIRST_SESSION_DAYS * DAY) {
		int late = x->now - p->activated >= (time_t)2 * HEALTH_FIRST_SESSION_DAYS * DAY;
		add_reason(v, late ? HEALTH_AT_RISK : HEALTH_NEEDS_CHECKIN, "no_first_session",
			   late ? "checkin" : "nudge",
			   "no session held %ld days after activation (expected within %d days); "
			   "%s%s",
			   since_act, HEALTH_FIRST_SESSION_DAYS,
			   nx ? "next planned on " : "none planned", next);
	}
	if (json_array_size(v->reasons) > 0)
		return;
	if (v->held == 0) {
		v->status = HEALTH_TOO_EARLY;
		if (x->now < p->activated) { /* a clock (or as-of) before the activation: no age */
			char act[32];
			fmt_date(p->activated, act);
			add_reason(v, HEALTH_TOO_EARLY, "too_early", nx ? "none" : "nudge",
				   "not yet activated (it was activated on %s), no session held "
				   "yet; %s%s",
				   act, nx ? "the first is planned on " : "none planned", next);
			return;
		}
		add_reason(v, HEALTH_TOO_EARLY, "too_early", nx ? "none" : "nudge",
			   "activated %ld day%s ago, no session held yet; %s%s", since_act,
			   plural(since_act), nx ? "the first is planned on " : "none planned",
			   next);
		return;
	}
	long since = (long)((x->now - v->last_held) / DAY);
	add_reason(v, HEALTH_ON_TRACK, "on_track", "none",
		   "%d session%s held, the last %ld day%s ago (cadence %s, every %d days%s)",
		   v->held, plural(v->held), since, plural(since), x->cadence, v->interval_days,
		   how);
}

static void
judge(const struct pair *p, const struct session_row *const *s, size_t n,
      const struct judge_ctx *x, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->status = HEALTH_ON_TRACK;
	v->reasons = json_array();
	if (v->reasons == NULL) {
		v->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i]->start > x->now)
			continue;
		if (s[i]->status == SESSION_HELD) {
			v->held++;
			v->last_held = s[i]->start;
		} else if (is_missed(s[i])) {
			v->missed++;
		}
	}
	pair_interval(s, n, x, v);
	judge_misses(p, s, n, x->now, v);
	judge_ratings(p, s, n, x->now, v);
	judge_one_sided(p, s, n, x->now, v);
	judge_goals(p, x->now, v);
	judge_rhythm(p, s, n, x, v);
}

/* ---- the document ---------------------------------------------------------------------- */

static json_t *
person_json(int64_t id, const char *ext, const char *name)
{
	return json_pack("{sIssss}", "id", (json_int_t)id, "external_id", ext, "name", name);
}

static json_t *
time_json(time_t t)
{
	char buf[STORE_TIME_MAX];
	if (t == 0 || store_format_time(t, buf) != 0)
		return json_null();
	return json_string(buf);
}

static json_t *
pair_json(const struct pair *p, const struct verdict *v)
{
	json_t *o = json_pack("{sIsososssosisisosisssosO}", "match_id", (json_int_t)p->match_id,
			      "mentor", person_json(p->mentor, p->mentor_ext, p->mentor_name),
			      "mentee", person_json(p->mentee, p->mentee_ext, p->mentee_name),
			      "status", health_status_name(v->status), "activated_at",
			      time_json(p->activated), "held", v->held, "missed", v->missed,
			      "last_held", time_json(v->last_held), "interval_days",
			      v->interval_days, "interval_from", v->measured ? "sessions" : "cadence",
			      "plan_note", p->plan_note[0] ? json_string(p->plan_note) : json_null(),
			      "reasons", v->reasons);
	return o;
}

/* Orders session rows by pair, then start, then id. */
static int
by_match_start(const void *a, const void *b)
{
	const struct session_row *x = *(const struct session_row *const *)a;
	const struct session_row *y = *(const struct session_row *const *)b;
	if (x->match_id != y->match_id)
		return x->match_id < y->match_id ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Judges every pair on its sessions into the pairs array and the counts. */
static int
judge_all(const struct pair *pairs, size_t np, struct session_row *rows, size_t nr,
	  const struct judge_ctx *x, json_t *out, int counts[4], struct diag *d)
{
	const struct session_row **s = malloc((nr ? nr : 1) * sizeof(*s));
	if (s == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (size_t i = 0; i < nr; i++)
		s[i] = &rows[i];
	if (nr > 1)
		qsort(s, nr, sizeof(*s), by_match_start);
	size_t k = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < np; i++) {
		while (k < nr && s[k]->match_id < pairs[i].match_id)
			k++;
		size_t first = k;
		while (k < nr && s[k]->match_id == pairs[i].match_id)
			k++;
		struct verdict v;
		judge(&pairs[i], s + first, k - first, x, &v);
		counts[v.status]++;
		json_t *o = v.nomem ? NULL : pair_json(&pairs[i], &v);
		if (json_array_append_new(out, o) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
		json_decref(v.reasons);
	}
	free(s);
	return rc;
}

static json_t *
thresholds_json(void)
{
	return json_pack("{sisfsisisisisfsfsfsi}", "first_session_days", HEALTH_FIRST_SESSION_DAYS,
			 "overdue_factor", HEALTH_OVERDUE_PCT / 100.0, "misses_at_risk",
			 HEALTH_MISSES_AT_RISK, "misses_rematch", HEALTH_MISSES_REMATCH,
			 "one_sided_sessions", HEALTH_ONE_SIDED_SESSIONS, "min_ratings",
			 HEALTH_MIN_RATINGS, "low_rating", HEALTH_LOW_RATING_X10 / 10.0,
			 "falling_drop", HEALTH_FALLING_DROP_X10 / 10.0, "rating_gap",
			 HEALTH_RATING_GAP_X10 / 10.0, "stale_goals_days", HEALTH_STALE_GOALS_DAYS);
}

int
health_program_with(struct store *st, const char *program, time_t now,
		    const struct health_cadence *cad, json_t *overlaps, json_t **out,
		    struct diag *d)
{
	*out = NULL;
	int64_t pid = 0;
	if (matches_program_id(st, program, &pid, d) != 0) {
		json_decref(overlaps);
		return -1;
	}
	struct judge_ctx x = {.now = now, .interval_days = cad->interval_days,
			      .measured = cad->measured, .cadence = cad->name};
	struct pair *pairs = NULL;
	size_t np = 0, nr = 0;
	struct session_row *rows = NULL;
	json_t *arr = json_array();
	int counts[4] = {0};
	int rc = arr ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
	if (rc == 0)
		rc = read_pairs(st, pid, &pairs, &np, d);
	if (rc == 0)
		rc = read_sessions(st, pid, now, &rows, &nr, d);
	if (rc == 0)
		rc = judge_all(pairs, np, rows, nr, &x, arr, counts, d);
	session_rows_free(rows, nr);
	pairs_free(pairs, np);
	if (rc == 0) {
		*out = json_pack(
		    "{sssos{sssiss}sos{sisisisi}soso}", "program", program, "generated_at",
		    time_json(now), "cadence", "name", x.cadence, "interval_days", x.interval_days,
		    "from", cad->from, "thresholds", thresholds_json(), "counts", "on_track",
		    counts[HEALTH_ON_TRACK], "needs_checkin", counts[HEALTH_NEEDS_CHECKIN],
		    "at_risk", counts[HEALTH_AT_RISK], "too_early", counts[HEALTH_TOO_EARLY],
		    "pairs", arr, "overlaps", overlaps);
		arr = overlaps = NULL;
		if (*out == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
	}
	json_decref(arr);
	json_decref(overlaps);
	return rc;
}

int
health_cadence_of(const struct config *cfg, const char *program, struct health_cadence *out,
		  struct diag *d)
{
	const struct config_program *prog = config_find_program(cfg, program, d);
	if (prog == NULL)
		return -1;
	out->interval_days = health_interval_days(prog, &out->name, &out->from);
	out->measured = builtin_days(out->name) == 0;
	int rule = out->measured ? health_cadence_rule_days(cfg->path, out->name) : 0;
	if (rule > 0) {
		out->interval_days = rule;
		out->measured = 0;
	}
	return 0;
}

int
health_program(struct store *st, const struct config *cfg, const char *program, time_t now,
	       json_t **out, struct diag *d)
{
	*out = NULL;
	struct health_cadence cad;
	int64_t pid = 0;
	json_t *overlaps = NULL;
	if (health_cadence_of(cfg, program, &cad, d) != 0 ||
	    matches_program_id(st, program, &pid, d) != 0 ||
	    health_overlaps(st, cfg, program, &overlaps, d) != 0)
		return -1;
	return health_program_with(st, program, now, &cad, overlaps, out, d);
}

/*
 * serve/simulate: `tandem simulate` (see simulate.h): copy the workspace (serve/simcopy), run the
 * service's wakes on a virtual clock, let the synthetic participants (simmodel.h) act
 * between wakes, and count what happened month by month.
 *
 * The participants see each session twice at most: when it appears (a new row: the
 * model decides whether a side will cancel or move it, two days before its start) and
 * after its end (the model's outcome: check-ins, or silence for the mark-missed job).
 * New rows are found by id (sessions.id is AUTOINCREMENT, so ids only grow); ended
 * ones by status and start. A wake (the service's steps, then the participants) is one
 * transaction, each cancel or move in its own level (a refusal, such as a reschedule onto
 * an instant the pair already has, rolls back that action alone and is skipped), the
 * wake's check-ins in one batch (store.h "Batches": one savepoint for all of them), done
 * again with a level each should one be refused.
 */
#include "serve/simulate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "program/matches.h"
#include "sched/session.h"
#include "serve/service.h"
#include "serve/simcopy.h"
#include "serve/simmodel.h"
#include "serve/simnotes.h"
#include "store/stmt.h"
#include "store/store.h"

enum {
	SIM_ACT_LEAD_S = 2 * 86400, /* a side cancels or moves a session this long before it */
	SIM_STUCK_S = 60,           /* a wake that left its due item due: the next one later */
};

static const char SIM_ACTOR[] = "simulate";
static const double SECONDS_PER_MONTH = 30.436875 * 86400;

/* ---- time ----------------------------------------------------------------------- */

time_t
simulate_add_months(time_t t, int k)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm;
	gmtime_r(&t, &tm);
	int m = tm.tm_mon + k;
	tm.tm_year += m >= 0 ? m / 12 : -((11 - m) / 12);
	tm.tm_mon = ((m % 12) + 12) % 12;
	int y = tm.tm_year + 1900;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int last = mdays[tm.tm_mon] + (tm.tm_mon == 1 && leap);
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	return timegm(&tm);
}

/* ---- the participants ----------------------------------------------------------- */

/* A cancel or move the model decided for a session, due at `at`. */
struct pending {
	time_t at;
	int64_t session_id;
	int64_t side_id; /* the person who cancels or moves it */
	time_t start;
	struct simmodel_decision dec;
};

struct sim {
	const struct simulate_opts *o;
	struct store *st;
	int64_t program_id;
	/* the score range of each program's pairs: [lo, hi] */
	struct prange { int64_t program_id; double lo, hi; } *ranges;
	size_t nranges;
	/* the programs' topic libraries (a mentee assesses a library topic only) */
	struct ptopic { int64_t program_id; char *topic; } *topics;
	size_t ntopics;
	int64_t last_seen; /* the largest session id the participants have seen */
	time_t longest;    /* the longest session they have seen, seconds (bounds participants_next) */
	struct pending *pending;
	size_t npending, cap;
	struct stmt fresh, ended, next_end;
	long checkins, cancels, moves;
};

static double
score01(const struct sim *s, int64_t program_id, int has_score, double score)
{
	if (!has_score)
		return 0.5;
	for (size_t i = 0; i < s->nranges; i++) {
		const struct prange *r = &s->ranges[i];
		if (r->program_id != program_id)
			continue;
		return r->hi > r->lo ? (score - r->lo) / (r->hi - r->lo) : 0.5;
	}
	return 0.5;
}

static int
load_ranges(struct sim *s, struct diag *d)
{
	struct stmt q = {0};
	if (stmt_prepare(&q, s->st, "reading the pairs' score range",
			 "SELECT program_id, MIN(score), MAX(score) FROM matches"
			 " WHERE status IN ('approved', 'active', 'ended') AND score IS NOT NULL"
			 " GROUP BY program_id", d) != 0)
		return -1;
	int rc;
	while ((rc = stmt_step(&q, d)) == STMT_ROW) {
		struct prange *nr = realloc(s->ranges, (s->nranges + 1) * sizeof(*nr));
		if (nr == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
		s->ranges = nr;
		s->ranges[s->nranges++] = (struct prange){stmt_int64(&q, 0), stmt_double(&q, 1),
							  stmt_double(&q, 2)};
	}
	stmt_finalize(&q);
	if (rc < 0)
		return -1;
	if (stmt_prepare(&q, s->st, "reading the programs' topics",
			 "SELECT p.id, t.value FROM programs p, json_each(p.config, '$.topics') t"
			 " WHERE t.type = 'text'", d) != 0)
		return -1;
	while ((rc = stmt_step(&q, d)) == STMT_ROW) {
		const char *t;
		struct ptopic *nt = realloc(s->topics, (s->ntopics + 1) * sizeof(*nt));
		if (nt != NULL)
			s->topics = nt;
		if (stmt_text(&q, 1, &t, d) != 0) {
			rc = -1;
			break;
		}
		char *copy = nt != NULL ? strdup(t) : NULL;
		if (copy == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
		s->topics[s->ntopics++] = (struct ptopic){stmt_int64(&q, 0), copy};
	}
	stmt_finalize(&q);
	return rc < 0 ? -1 : 0;
}

/* 1 when topic is in the library of program_id. */
static int
in_library(const struct sim *s, int64_t program_id, const char *topic)
{
	for (size_t i = 0; topic[0] != '\0' && i < s->ntopics; i++)
		if (s->topics[i].program_id == program_id && strcmp(s->topics[i].topic, topic) == 0)
			return 1;
	return 0;
}

/* The columns both session queries return, from the session and its match. */
#define SIM_SESSION_COLUMNS                                                                  \
	"s.id, s.match_id, CAST(strftime('%s', s.starts_at) AS INTEGER), s.duration_min,"  \
	" s.status = 'planned', s.rescheduled_from IS NOT NULL, m.program_id, m.score,"     \
	" CAST(strftime('%s', m.activated_at) AS INTEGER), m.activated_at IS NOT NULL,"     \
	" m.mentor_id, m.mentee_id, s.topic"

struct srow {
	int64_t id, match_id, program_id, mentor_id, mentee_id;
	time_t start;
	int duration_min, planned, moved;
	double score01, months;
	char topic[128]; /* the session's topic, "" when none (or longer than a library's) */
};

static int
read_row(const struct sim *s, struct stmt *q, struct srow *r, struct diag *d)
{
	r->id = stmt_int64(q, 0);
	r->match_id = stmt_int64(q, 1);
	r->start = (time_t)stmt_int64(q, 2);
	r->duration_min = (int)stmt_int64(q, 3);
	r->planned = (int)stmt_int64(q, 4);
	r->moved = (int)stmt_int64(q, 5);
	r->program_id = stmt_int64(q, 6);
	r->score01 = score01(s, r->program_id, !stmt_is_null(q, 7), stmt_double(q, 7));
	time_t activated = stmt_int64(q, 9) ? (time_t)stmt_int64(q, 8) : r->start;
	r->months = (double)(r->start - activated) / SECONDS_PER_MONTH;
	r->mentor_id = stmt_int64(q, 10);
	r->mentee_id = stmt_int64(q, 11);
	const char *t = NULL;
	if (!stmt_is_null(q, 12) && stmt_text(q, 12, &t, d) != 0)
		return -1;
	snprintf(r->topic, sizeof(r->topic), "%s", t != NULL && strlen(t) < sizeof(r->topic) ? t : "");
	return 0;
}

static int
sim_prepare(struct sim *s, struct diag *d)
{
	return stmt_prepare(&s->fresh, s->st, "reading the new sessions",
			    "SELECT " SIM_SESSION_COLUMNS " FROM sessions s"
			    " JOIN matches m ON m.id = s.match_id WHERE s.id > ?1 ORDER BY s.id", d) ||
	       stmt_prepare(&s->ended, s->st, "reading the sessions that have ended",
			    "SELECT " SIM_SESSION_COLUMNS " FROM sessions s"
			    " JOIN matches m ON m.id = s.match_id"
			    " WHERE s.status = 'planned' AND s.starts_at <= ?1 ORDER BY s.id", d) ||
	       stmt_prepare(&s->next_end, s->st, "finding the next end of a session",
			    "SELECT MIN(e) FROM (SELECT CAST(strftime('%s', starts_at) AS INTEGER)"
			    " + 60 * duration_min AS e FROM sessions WHERE status = 'planned'"
			    " AND starts_at >= ?1 AND starts_at <= COALESCE("
			    "(SELECT strftime('%Y-%m-%dT%H:%M:%SZ', starts_at, ?4) FROM sessions"
			    " WHERE status = 'planned' AND starts_at > ?2 ORDER BY starts_at LIMIT 1), ?2))"
			    " WHERE e > ?3", d);
}

static void
sim_fini(struct sim *s)
{
	stmt_finalize(&s->fresh);
	stmt_finalize(&s->ended);
	stmt_finalize(&s->next_end);
	free(s->ranges);
	for (size_t i = 0; i < s->ntopics; i++)
		free(s->topics[i].topic);
	free(s->topics);
	free(s->pending);
}

static int
push_pending(struct sim *s, const struct srow *r, const struct simmodel_decision *dec, time_t now,
	     struct diag *d)
{
	if (s->npending == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct pending *np = realloc(s->pending, cap * sizeof(*np));
		if (np == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		s->pending = np;
		s->cap = cap;
	}
	time_t at = r->start - SIM_ACT_LEAD_S;
	int64_t side = dec->side == 0 ? r->mentor_id : r->mentee_id;
	s->pending[s->npending++] = (struct pending){at > now ? at : now, r->id, side, r->start, *dec};
	return 0;
}

/* New sessions: the model says whether a side will cancel or move each one. */
static int
see_new(struct sim *s, time_t now, struct diag *d)
{
	int rc;
	if (stmt_bind_int64(&s->fresh, 1, s->last_seen, d) != 0)
		return -1;
	while ((rc = stmt_step(&s->fresh, d)) == STMT_ROW) {
		struct srow r;
		if (read_row(s, &s->fresh, &r, d) != 0) {
			rc = -1;
			break;
		}
		s->last_seen = r.id;
		if (60 * (time_t)r.duration_min > s->longest)
			s->longest = 60 * (time_t)r.duration_min;
		if (!r.planned || r.start <= now)
			continue;
		struct simmodel_decision dec;
		simmodel_decide(s->o->seed, r.match_id, r.id, r.score01, r.months, r.moved, &dec);
		if ((dec.act == SIMMODEL_CANCEL || dec.act == SIMMODEL_RESCHEDULE) &&
		    push_pending(s, &r, &dec, now, d) != 0) {
			rc = -1;
			break;
		}
	}
	if (stmt_reset(&s->fresh, d) != 0)
		rc = -1;
	return rc < 0 ? -1 : 0;
}

/* A refusal by the session module (the session is no longer planned, the pair has a
 * session at the new time) is the participants' problem, not the simulation's. */
static int
refused(struct diag *d)
{
	if (d->code != DIAG_CONFLICT)
		return 0;
	diag_clear(d);
	return 1;
}

/* The cancels and moves that are due. */
static int
act_pending(struct sim *s, time_t now, struct diag *d)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->npending; i++) {
		struct pending *p = &s->pending[i];
		if (p->at > now) {
			s->pending[keep++] = *p;
			continue;
		}
		if (p->start <= now)
			continue; /* it started before a wake came: the outcome decides */
		if (p->dec.act == SIMMODEL_CANCEL) {
			const char *why = p->dec.side == 0 ? "cancelled by the mentor (simulated)"
							   : "cancelled by the mentee (simulated)";
			if (session_cancel_by(s->st, p->session_id, p->side_id, why, SIM_ACTOR, d) == 0)
				s->cancels++;
			else if (!refused(d))
				return -1;
		} else {
			int64_t nid = 0;
			time_t to = p->start + (time_t)p->dec.days * 86400;
			if (session_reschedule(s->st, p->session_id, to, NULL, SIM_ACTOR, &nid,
					       d) == 0)
				s->moves++;
			else if (!refused(d))
				return -1;
		}
	}
	s->npending = keep;
	return 0;
}

/* 0 done or refused (the participants' problem), -1 error, 1 the batch is spoiled (a
 * refusal or an error inside store_batch_begin: the caller redoes the batch without one). */
static int
checkin(struct sim *s, const struct srow *r, int64_t person, enum session_outcome out, int rating,
	int share, struct diag *d)
{
	struct session_checkin c = {.session_id = r->id, .person_id = person, .outcome = out,
				    .rating = rating, .share_story = share, .actor = SIM_ACTOR};
	/* The mentee of a held session assesses the session's topic (simmodel.h). */
	struct session_skill skill;
	if (out == SESSION_OUTCOME_HELD && person == r->mentee_id &&
	    in_library(s, r->program_id, r->topic)) {
		skill = (struct session_skill){r->topic,
					       simmodel_skill(s->o->seed, r->match_id, r->id, r->topic,
							      r->score01, r->months)};
		c.skills = &skill;
		c.nskills = 1;
	}
	if (session_checkin(s->st, &c, NULL, d) == 0) {
		s->checkins++;
		return 0;
	}
	if (store_batch_spoiled(s->st)) {
		diag_clear(d);
		return 1;
	}
	return refused(d) ? 0 : -1;
}

/* The model's outcome of each ended session: both sides check in, or stay silent (the
 * mark-missed job's). Returns as checkin() does, stopping at the first nonzero. */
static int
outcomes(struct sim *s, const struct srow *rows, size_t n, struct diag *d)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct srow *r = &rows[i];
		struct simmodel_decision dec;
		/* moved = 1: a cancel or move that did not happen leaves the outcome. */
		simmodel_decide(s->o->seed, r->match_id, r->id, r->score01, r->months, 1, &dec);
		if (dec.act == SIMMODEL_HELD) {
			rc = checkin(s, r, r->mentor_id, SESSION_OUTCOME_HELD, dec.rating[0],
				     dec.share[0], d);
			if (rc == 0)
				rc = checkin(s, r, r->mentee_id, SESSION_OUTCOME_HELD,
					     dec.rating[1], dec.share[1], d);
		} else if (dec.act == SIMMODEL_MISSED) {
			rc = checkin(s, r, r->mentor_id, SESSION_OUTCOME_MISSED, 0, 0, d);
			if (rc == 0)
				rc = checkin(s, r, r->mentee_id, SESSION_OUTCOME_MISSED, 0, 0, d);
		}
	}
	return rc;
}

/* The check-ins of a wake in one batch (store.h "Batches": one savepoint, not one per
 * check-in, the same rows); should one be refused or fail, the batch is rolled back and
 * done again with a level per check-in, as the service's callers would. */
static int
outcomes_batched(struct sim *s, const struct srow *rows, size_t n, struct diag *d)
{
	if (n == 0)
		return 0;
	long before = s->checkins;
	if (store_batch_begin(s->st, d) != 0)
		return -1;
	int rc = outcomes(s, rows, n, d);
	if (rc == 0)
		return store_commit(s->st, d);
	store_rollback(s->st);
	if (rc < 0)
		return -1;
	s->checkins = before;
	return outcomes(s, rows, n, d) != 0 ? -1 : 0;
}

/* Sessions whose end has passed and that are still planned: the model's outcome. */
static int
see_ended(struct sim *s, time_t now, struct diag *d)
{
	char iso[CLOCK_UTC_MAX];
	if (clock_format_utc(now, iso) != 0)
		return diag_set(d, DIAG_INVALID, "simulated time out of range");
	if (stmt_bind_text(&s->ended, 1, iso, d) != 0)
		return -1;
	/* Read first, write after: the check-ins change the rows the query walks. */
	struct srow *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = stmt_step(&s->ended, d)) == STMT_ROW) {
		struct srow r;
		if (read_row(s, &s->ended, &r, d) != 0) {
			rc = -1;
			break;
		}
		if (r.start + 60 * (time_t)r.duration_min > now)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct srow *nr = realloc(rows, cap * sizeof(*nr));
			if (nr == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			rows = nr;
		}
		rows[n++] = r;
	}
	if (stmt_reset(&s->ended, d) != 0)
		rc = -1;
	if (rc == 0)
		rc = outcomes_batched(s, rows, n, d);
	free(rows);
	return rc < 0 ? -1 : 0;
}

static int
participants(struct sim *s, time_t now, struct diag *d)
{
	if (store_begin(s->st, d) != 0)
		return -1;
	if (see_new(s, now, d) != 0 || act_pending(s, now, d) != 0 || see_ended(s, now, d) != 0) {
		store_rollback(s->st);
		return diag_prefix(d, "simulated participants");
	}
	return store_commit(s->st, d);
}

/* The next instant the participants have something to do after now: a planned
 * session's end, a pending cancel or move. 0 when none. */
static int
participants_next(struct sim *s, time_t now, time_t *next, struct diag *d)
{
	*next = 0;
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i].at > now && (*next == 0 || s->pending[i].at < *next))
			*next = s->pending[i].at;
	/* The earliest end after now. A session that ends after now started at most L ago (L:
	 * the longest session the participants have seen, and they have seen every session:
	 * see_new reads each new row, and a moved session keeps its length), or starts after
	 * now, so no later than L after the first session that starts after now (S): only the
	 * rows from L before now to L after S are read. Sessions that have ended but are still
	 * planned (no check-in yet) are among them and do not count: their ends are past. */
	time_t lead = s->longest > 60 ? s->longest : 60;
	char ago[CLOCK_UTC_MAX], iso[CLOCK_UTC_MAX], mod[32];
	if (clock_format_utc(now - lead, ago) != 0 || clock_format_utc(now, iso) != 0)
		return diag_set(d, DIAG_INVALID, "simulated time out of range");
	snprintf(mod, sizeof(mod), "+%lld seconds", (long long)lead);
	int rc = stmt_bind_text(&s->next_end, 1, ago, d) || stmt_bind_text(&s->next_end, 2, iso, d) ||
			 stmt_bind_int64(&s->next_end, 3, (int64_t)now, d) ||
			 stmt_bind_text(&s->next_end, 4, mod, d)
		     ? -1
		     : stmt_step(&s->next_end, d);
	if (rc == STMT_ROW && !stmt_is_null(&s->next_end, 0)) {
		time_t end = (time_t)stmt_int64(&s->next_end, 0);
		if (end > now && (*next == 0 || end < *next))
			*next = end;
	}
	if (stmt_reset(&s->next_end, d) != 0)
		rc = -1;
	return rc < 0 ? -1 : 0;
}

/* ---- the months ----------------------------------------------------------------- */

/* One count per month: `sql` binds ?1 = the program, ?2/?3 = the month's bounds (ISO). */
static int
count_month(struct store *st, const char *what, const char *sql, int64_t program_id,
	    const char *from, const char *until, long *n, double *sum, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, st, what, sql, d) || stmt_bind_int64(&q, 1, program_id, d) ||
			 stmt_bind_text(&q, 2, from, d) || stmt_bind_text(&q, 3, until, d)
		     ? -1
		     : stmt_step(&q, d);
	if (rc == STMT_ROW) {
		*n = (long)stmt_int64(&q, 0);
		if (sum != NULL)
			*sum = stmt_double(&q, 1);
		rc = 0;
	} else if (rc == STMT_DONE) {
		rc = diag_set(d, DIAG_INTERNAL, "%s: no row", what);
	}
	stmt_finalize(&q);
	return rc;
}

static int
month_counts(struct store *st, int64_t program_id, struct simulate_month *m, struct diag *d)
{
	char from[CLOCK_UTC_MAX], until[CLOCK_UTC_MAX];
	if (clock_format_utc(m->from, from) != 0 || clock_format_utc(m->until, until) != 0)
		return diag_set(d, DIAG_INVALID, "simulated time out of range");
#define IN_MONTH_SESSIONS                                                                    \
	" FROM sessions s JOIN matches m ON m.id = s.match_id WHERE m.program_id = ?1"     \
	" AND s.starts_at >= ?2 AND s.starts_at < ?3"
	struct {
		const char *what, *sql;
		long *n;
		double *sum;
	} q[] = {
	    {"counting the month's sessions",
	     "SELECT COUNT(*) FILTER (WHERE s.status <> 'rescheduled'),"
	     " 0" IN_MONTH_SESSIONS, &m->planned, NULL},
	    {"counting held sessions", "SELECT COUNT(*), 0" IN_MONTH_SESSIONS
	     " AND s.status = 'held'", &m->held, NULL},
	    {"counting missed sessions", "SELECT COUNT(*), 0" IN_MONTH_SESSIONS
	     " AND s.status = 'missed'", &m->missed, NULL},
	    {"counting cancelled sessions", "SELECT COUNT(*), 0" IN_MONTH_SESSIONS
	     " AND s.status = 'cancelled'", &m->cancelled, NULL},
	    {"counting moved sessions", "SELECT COUNT(*), 0" IN_MONTH_SESSIONS
	     " AND s.status = 'rescheduled'", &m->rescheduled, NULL},
	    {"counting open sessions", "SELECT COUNT(*), 0" IN_MONTH_SESSIONS
	     " AND s.status = 'planned'", &m->open, NULL},
	    {"summing the month's ratings",
	     "SELECT COUNT(f.rating), COALESCE(SUM(f.rating), 0) FROM feedback f"
	     " JOIN sessions s ON s.id = f.session_id JOIN matches m ON m.id = s.match_id"
	     " WHERE m.program_id = ?1 AND s.starts_at >= ?2 AND s.starts_at < ?3",
	     &m->ratings, &m->rating_sum},
	    {"counting the month's messages",
	     "SELECT COUNT(*), 0 FROM outbox o JOIN sessions s ON s.id = o.session_id"
	     " JOIN matches m ON m.id = s.match_id WHERE m.program_id = ?1"
	     " AND o.status = 'sent' AND o.sent_at >= ?2 AND o.sent_at < ?3",
	     &m->messages_sent, NULL},
	    {"counting the month's active pairs",
	     "SELECT COUNT(*), 0 FROM matches WHERE program_id = ?1 AND activated_at IS NOT NULL"
	     " AND activated_at < ?3 AND (ended_at IS NULL OR ended_at >= ?2)",
	     &m->active_pairs, NULL},
	    {"counting the month's published reports",
	     "SELECT COUNT(DISTINCT json_extract(payload, '$.month')), 0 FROM events"
	     " WHERE kind = 'report.published' AND program_id = ?1 AND at >= ?2 AND at < ?3",
	     &m->reports, NULL},
	    {"counting the month's job runs",
	     "SELECT COUNT(*), 0 FROM occurrences WHERE ?1 IS NOT NULL AND status = 'done'"
	     " AND finished_at >= ?2 AND finished_at < ?3", &m->jobs_run, NULL},
	};
#undef IN_MONTH_SESSIONS
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (count_month(st, q[i].what, q[i].sql, program_id, from, until, q[i].n, q[i].sum,
				d) != 0)
			return -1;
	return 0;
}

static void
add_month(struct simulate_month *t, const struct simulate_month *m)
{
	t->planned += m->planned;
	t->held += m->held;
	t->missed += m->missed;
	t->cancelled += m->cancelled;
	t->rescheduled += m->rescheduled;
	t->open += m->open;
	t->ratings += m->ratings;
	t->rating_sum += m->rating_sum;
	t->messages_sent += m->messages_sent;
	t->jobs_run += m->jobs_run;
	t->reports += m->reports;
}

static int
count_months(struct sim *s, struct simulate_result *r, struct diag *d)
{
	r->month = calloc((size_t)r->months, sizeof(*r->month));
	if (r->month == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < r->months; i++) {
		struct simulate_month *m = &r->month[i];
		m->from = simulate_add_months(r->from, i);
		m->until = i + 1 == r->months ? r->until : simulate_add_months(r->from, i + 1);
		if (month_counts(s->st, s->program_id, m, d) != 0)
			return -1;
		add_month(&r->total, m);
	}
	r->total.from = r->from;
	r->total.until = r->until;
	struct simulate_month all = {.from = r->from, .until = r->until};
	if (month_counts(s->st, s->program_id, &all, d) != 0)
		return -1;
	r->total.active_pairs = all.active_pairs;
	return 0;
}

/* ---- the run -------------------------------------------------------------------- */

/* A wake: the service's steps, the participants; their next instants. 1: the service has none. */
static int
wake(struct sim *s, struct service *sv, time_t now, struct simulate_result *r, time_t *due,
     time_t *mine, struct diag *d)
{
	int rc = service_begin(sv, now, d) != 0 ? -1 : 1;
	while (rc == 1 && (rc = service_step(sv, now, d)) == 1)
		r->steps++;
	r->wakes++;
	if (rc < 0 || participants(s, now, d) != 0 || (rc = service_next_due(sv, due, d)) < 0 ||
	    participants_next(s, now, mine, d) != 0)
		return -1;
	return rc;
}

/* The wakes until r->until, each one transaction around the service's own (savepoints: an
 * occurrence's claim, apply and done still land together); the copy has no other writer. */
static int
drive(struct sim *s, struct service *sv, struct clock *clk, struct simulate_result *r,
      struct diag *d)
{
	time_t now = r->from;
	while (now < r->until) {
		clock_virtual_advance(clk, (int64_t)(now - clock_now(clk)) * 1000);
		time_t due = 0, mine = 0;
		if (store_begin(s->st, d) != 0)
			return -1;
		int rc = wake(s, sv, now, r, &due, &mine, d);
		if (rc < 0)
			store_rollback(s->st);
		if (rc < 0 || store_commit(s->st, d) != 0)
			return -1;
		time_t next = rc == 1 ? r->until : due;
		if (mine != 0 && mine < next)
			next = mine;
		if (next <= now)
			next = now + SIM_STUCK_S; /* held back (an overlap policy): try later */
		if (s->o->progress)
			s->o->progress(s->o->progress_ud, next < r->until ? next : r->until, r->from,
				       r->until);
		now = next;
	}
	return 0;
}

/*
 * The copy's jobs start at the simulation's first instant. A workspace whose jobs were
 * synced or run after --from (a `jobs list`, a `serve`) owes them nothing before that:
 * enabled_at, the pending rows and considered_until all say "later". On the copy, the
 * schedule is taken back to `from`: pending rows from it on dropped, enabled_at and
 * considered_until no later than it. What did run (claimed or done rows) stays: a job
 * resumes after its last real run.
 */
static int
rewind_jobs(struct store *st, time_t from, struct diag *d)
{
	char at[STORE_TIME_MAX];
	if (store_format_time(from, at) != 0)
		return diag_set(d, DIAG_INVALID, "simulate: --from is out of range");
	struct stmt s;
	static const char *const sql[] = {
	    "DELETE FROM occurrences WHERE status = 'pending' AND due_at >= ?1",
	    "UPDATE jobs SET enabled_at = ?1 WHERE enabled_at > ?1",
	    "UPDATE jobs SET considered_until = NULL WHERE considered_until >= ?1",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		if (stmt_prepare(&s, st, "taking the copy's jobs back to --from", sql[i], d) != 0)
			return -1;
		int rc = stmt_bind_text(&s, 1, at, d) ? -1 : stmt_run(&s, d);
		stmt_finalize(&s);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
run_copy(const struct simulate_opts *o, const char *dir, struct simulate_result *r,
	 struct diag *d)
{
	char db[4096];
	if (simcopy_join(db, sizeof(db), dir, "tandem.db", d) != 0)
		return -1;
	/* The copy is thrown away (or kept to look at), and this process is its only writer:
	 * no WAL, no fsync, its pages in memory (store.h "Scratch copies"). */
	struct store *st = store_open(db, STORE_SCRATCH, d);
	if (st == NULL)
		return diag_prefix(d, "opening the copy");
	struct clock clk;
	clock_virtual_init(&clk, r->from);
	store_set_clock(st, &clk);
	struct sim s = {.o = o, .st = st};
	struct service *sv = rewind_jobs(st, r->from, d) == 0 ? service_open(dir, st, &clk, d)
							       : NULL;
	if (sv != NULL) {
		service_set_no_sync(sv); /* the outbox files too: the copy's */
		if (o->keep == NULL)
			service_set_no_files(sv); /* nobody reads them: built, not written */
	}
	int rc = -1;
	if (sv != NULL && matches_program_id(st, o->program, &s.program_id, d) == 0 &&
	    load_ranges(&s, d) == 0 && sim_prepare(&s, d) == 0 && drive(&s, sv, &clk, r, d) == 0 &&
	    count_months(&s, r, d) == 0 && simnotes_unplanned(st, s.program_id, r, d) == 0 &&
	    simnotes_failures(st, s.program_id, o->program, r, d) == 0) {
		simnotes_relative(r, dir);
		rc = 0;
	}
	r->checkins = s.checkins;
	r->cancels = s.cancels;
	r->moves = s.moves;
	sim_fini(&s);
	service_close(sv);
	/* A kept copy is a workspace like any other: WAL again, for the commands run on it. */
	if (rc == 0 && o->keep != NULL && store_unscratch(st, d) != 0)
		rc = diag_prefix(d, "the kept copy");
	store_close(st);
	return rc;
}

int
simulate_run(const struct simulate_opts *o, struct simulate_result *r, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	if (o->months < 1 || o->months > SIMULATE_MAX_MONTHS)
		return diag_set(d, DIAG_INVALID, "months must be 1 to %d (got %d)",
				SIMULATE_MAX_MONTHS, o->months);
	r->months = o->months;
	r->from = o->from;
	r->until = simulate_add_months(o->from, o->months);
	char dir[4096];
	if (simcopy_dir(o->keep, dir, sizeof(dir), d) != 0)
		return -1;
	int rc = simcopy_workspace(o->workspace, o->db_path, dir, d);
	if (rc != 0)
		diag_prefix(d, "copying the workspace");
	else
		rc = run_copy(o, dir, r, d);
	if (o->keep != NULL)
		snprintf(r->copy, sizeof(r->copy), "%s", dir);
	else
		simcopy_remove(dir);
	if (rc != 0)
		simulate_result_fini(r);
	return rc;
}

void
simulate_result_fini(struct simulate_result *r)
{
	free(r->month);
	r->month = NULL;
	simnotes_fini(r);
}

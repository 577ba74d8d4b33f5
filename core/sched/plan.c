/*
 * sched/plan: a program's sessions from its cadence. See plan.h for the contract.
 *
 * Two phases. First every active pair is read (one query for the pairs with
 * their people and enrollments, one for their sessions so far), the cadence run
 * for each (the plugin calls happen here, outside any transaction), and the
 * sessions to insert and to cancel are collected. Then one transaction level
 * writes them: session_insert (idempotent by the natural key) and session_cancel,
 * each with its events.
 */
#include "sched/plan.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "base/sha256.h"
#include "lua/cadence_out.h"
#include "program/config.h"
#include "sched/cadence.h"
#include "sched/plan_check.h"
#include "sched/plan_fit.h"
#include "sched/plan_internal.h"
#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/cal.h"

static void
notes_fini(struct plan_note *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].mentor);
		free(v[i].mentee);
		free(v[i].reason);
	}
	free(v);
}

void
plan_report_fini(struct plan_report *rep)
{
	notes_fini(rep->notes, rep->nnotes);
	notes_fini(rep->refused, rep->nrefused);
	memset(rep, 0, sizeof(*rep));
}

/* A note into *list (rep->notes or rep->refused). */
static int
note_to(struct plan_note **list, size_t *len, int64_t match_id, const char *mentor,
	const char *mentee, const char *reason, struct diag *d)
{
	struct plan_note *v = realloc(*list, (*len + 1) * sizeof(*v));
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory reporting a plan");
	*list = v;
	struct plan_note *n = &v[(*len)++];
	n->match_id = match_id;
	n->mentor = strdup(mentor != NULL ? mentor : "");
	n->mentee = strdup(mentee != NULL ? mentee : "");
	n->reason = strdup(reason);
	if (n->mentor == NULL || n->mentee == NULL || n->reason == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory reporting a plan");
	return 0;
}

static int
add_note(struct plan_report *rep, int64_t match_id, const char *mentor, const char *mentee,
	 const char *reason, struct diag *d)
{
	return note_to(&rep->notes, &rep->nnotes, match_id, mentor, mentee, reason, d);
}

/* The topics one side offers that the other wants, both ways, without repeats, as JSON. */
static char *
shared_topics(const char *offered_a, const char *wanted_b, const char *offered_b,
	      const char *wanted_a)
{
	json_t *out = json_array();
	const char *pairs[2][2] = {{offered_a, wanted_b}, {offered_b, wanted_a}};
	for (int k = 0; out != NULL && k < 2; k++) {
		json_t *o = json_loads(pairs[k][0] ? pairs[k][0] : "[]", 0, NULL);
		json_t *w = json_loads(pairs[k][1] ? pairs[k][1] : "[]", 0, NULL);
		size_t i, j, x;
		json_t *a, *b, *c;
		json_array_foreach(o, i, a) {
			int wanted = 0, seen = 0;
			json_array_foreach(w, j, b) wanted |= json_equal(a, b);
			json_array_foreach(out, x, c) seen |= json_equal(a, c);
			if (wanted && !seen && json_is_string(a))
				json_array_append(out, a);
		}
		json_decref(o);
		json_decref(w);
	}
	char *s = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	return s;
}

/* A list is "[]" or absent: use the alternative. */
static const char *
or_alt(const char *list, const char *alt)
{
	return list != NULL && strcmp(list, "[]") != 0 ? list : alt;
}

/* ---- the plan -------------------------------------------------------------------- */

/* A session to insert, or (cancel_id != 0) one to cancel. */
struct todo {
	int64_t match_id, cancel_id;
	int late; /* a cancellation: 0 replanned, 1 after the program's end, 2 the match's,
		   * 3 replanned, of a previous cadence (the program's cadence changed) */
	time_t start;
	int duration_min;
	char *zone;
	char topic[128];
};

struct todo_list {
	struct todo *v;
	size_t n, cap;
};

static int
todo_add(struct todo_list *t, struct todo *e, struct diag *d)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct todo *v = realloc(t->v, nc * sizeof(*v));
		if (v == NULL) {
			free(e->zone);
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		}
		t->v = v;
		t->cap = nc;
	}
	t->v[t->n++] = *e;
	return 0;
}

static void
todo_fini(struct todo_list *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].zone);
	free(t->v);
}

/* A pair's plan_next_at after this plan (see plan.h). */
#define PLAN_NEVER "9999-12-31T23:59:59Z"
enum { NEXT_NEVER = -1, NEXT_NOW = -2, NEXT_KEEP = -3 }; /* else an instant; KEEP: as it was */

/* A pair's plan state after this plan, and its plan_note (1 + its index in rep->notes;
 * 0: none, the pair's note is cleared). */
struct pstate {
	int64_t match_id;
	time_t next;
	size_t note;
};

struct pstate_list {
	struct pstate *v;
	size_t n, cap;
};

static int
pstate_add(struct pstate_list *l, int64_t match_id, time_t next, size_t note, struct diag *d)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		struct pstate *v = realloc(l->v, nc * sizeof(*v));
		if (v == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n++] = (struct pstate){match_id, next, note};
	return 0;
}

enum {
	C_ID, C_SCORE, C_STATUS, C_CREATED, C_ACTIVATED, C_ENDED, C_MTZ,
	C_PERSON = 7, /* 14 columns per side: person (10) then enrollment (4) */
	P_EXT = 0, P_NAME, P_EMAIL, P_TITLE, P_DEPT, P_TEAM, P_LOC, P_TZ, P_GEN, P_LEVEL,
	P_LANG, P_SKILLS, P_WANTED, P_ATTR, E_ROLE, E_CAP, E_OFFERED, E_WANTED, E_AVAIL, E_ATTR,
	P_COLS = 20,
};

#define SIDE_COLS(p, e)                                                                         \
	p ".external_id, " p ".name, " p ".email, " p ".title, " p ".department, " p ".team, " p \
	".location, " p ".timezone, " p ".generation, " p ".level, " p ".languages, " p          \
	".skills, " p ".topics_wanted, " p ".attributes, " e ".role, " e ".capacity, " e       \
	".topics_offered, " e ".topics_wanted, " e ".availability, " e ".attributes"

static const char *
col(struct stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s->s, i);
}

static void
read_side(struct stmt *s, int base, struct shape_person *p, struct shape_enrollment *e)
{
	*p = (struct shape_person){
		.id = col(s, base + P_EXT), .name = col(s, base + P_NAME),
		.email = col(s, base + P_EMAIL), .title = col(s, base + P_TITLE),
		.department = col(s, base + P_DEPT), .team = col(s, base + P_TEAM),
		.location = col(s, base + P_LOC), .timezone = col(s, base + P_TZ),
		.generation = col(s, base + P_GEN), .level = (int)stmt_int64(s, base + P_LEVEL),
		.languages = col(s, base + P_LANG), .skills = col(s, base + P_SKILLS),
		.topics_wanted = col(s, base + P_WANTED), .attributes = col(s, base + P_ATTR),
	};
	*e = (struct shape_enrollment){
		.role = col(s, base + E_ROLE), .capacity = (int)stmt_int64(s, base + E_CAP),
		.topics_offered = col(s, base + E_OFFERED), .topics_wanted = col(s, base + E_WANTED),
		.availability = col(s, base + E_AVAIL), .attributes = col(s, base + E_ATTR),
	};
}

struct run {
	struct plan_ctx *ctx;
	const struct config_program *prog;
	struct cadence *cad;
	struct plan_report *rep;
	struct known_list known;
	struct todo_list todo;
	struct pstate_list states;
	struct plan_busy *busy; /* every person's sessions, and this run's */
	time_t now;
	time_t horizon_s;  /* the horizon's length */
	time_t look_until; /* the window and the lookahead, clipped to the program's end */
	time_t prog_end;   /* the program's end, 0: none */
	int64_t program_id;
	int incremental;   /* only the pairs whose plan can have changed */
	char signature[SHA256_HEX_LEN];
	int new_signature; /* the stored one differs */
};

/* The history of match_id: the slice of known sessions, as session tables. */
static int
history_of(struct run *r, int64_t match_id, struct shape_session **out, size_t *n,
	   size_t *first, struct diag *d)
{
	size_t lo = 0, hi = r->known.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->known.v[mid].match_id < match_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < r->known.n && r->known.v[end].match_id == match_id)
		end++;
	*first = lo;
	*n = end - lo;
	*out = NULL;
	if (*n == 0)
		return 0;
	*out = calloc(*n, sizeof(**out));
	if (*out == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory building a history");
	for (size_t i = 0; i < *n; i++) {
		const struct known *k = &r->known.v[lo + i];
		(*out)[i] = (struct shape_session){.id = k->id, .start = (int64_t)k->start,
						   .starts_at = k->starts_at, .status = k->status,
						   .topic = k->topic, .duration_min = k->duration_min};
	}
	return 0;
}

/* A stored session k this plan cancels: planned by this cadence or a previous one of the
 * program (not by hand), still planned, inside the window [from, until) and more than
 * PLAN_KEEP_HOURS away, and not in res. */
static int
replanned_away(const struct run *r, const struct known *k, const struct cadence_result *res,
	       time_t from, time_t until)
{
	if (k->ours == KNOWN_HAND || strcmp(k->status, "planned") != 0 || k->start < from ||
	    k->start >= until || k->start <= r->now + (time_t)PLAN_KEEP_HOURS * 3600)
		return 0;
	for (size_t j = 0; j < res->n; j++)
		if (res->v[j].start == k->start)
			return 0;
	return 1;
}

struct refuse_ud {
	struct plan_report *rep;
	const struct cadence_pair *p;
};

static int
refuse_note(void *ud, const char *why, struct diag *d)
{
	struct refuse_ud *u = ud;
	return note_to(&u->rep->refused, &u->rep->nrefused, u->p->match.id, u->p->mentor.name,
		       u->p->mentee.name, why, d);
}

/* Drops (and notes) the sessions of res the pair's calendar refuses (sched/plan_check):
 * past the program's or the match's end, or over another session of the pair. Its stored
 * sessions are known[first .. first + nh). */
static int
check_pair(struct run *r, const struct cadence_pair *p, size_t first, size_t nh, time_t from,
	   time_t until, time_t ended, struct cadence_result *res, struct diag *d)
{
	struct plan_held *held = nh ? calloc(nh, sizeof(*held)) : NULL;
	time_t *stored = nh ? calloc(nh, sizeof(*stored)) : NULL;
	if (nh && (held == NULL || stored == NULL)) {
		free(held);
		free(stored);
		return diag_set(d, DIAG_NOMEM, "out of memory planning a pair");
	}
	size_t nb = 0;
	for (size_t i = 0; i < nh; i++) {
		const struct known *k = &r->known.v[first + i];
		stored[i] = k->start;
		if ((strcmp(k->status, "planned") == 0 || strcmp(k->status, "held") == 0) &&
		    !replanned_away(r, k, res, from, until))
			held[nb++] = (struct plan_held){k->id, k->start, k->duration_min, k->status};
	}
	struct plan_check c = {.path = cadence_path(r->cad), .rule = cadence_rule(r->cad),
			       .end = r->prog_end, .end_what = "the program's end", .until = until,
			       .held = held, .nheld = nb, .stored = stored, .nstored = nh};
	if (ended != 0 && (c.end == 0 || ended < c.end)) {
		c.end = ended;
		c.end_what = "the match's end";
	}
	struct refuse_ud u = {r->rep, p};
	int rc = plan_check_result(&c, res, refuse_note, &u, d);
	free(held);
	free(stored);
	return rc;
}

/* One pair (the current row of s): its sessions and cancellations into r->todo. */
static int
plan_pair(struct run *r, struct stmt *s, time_t until_all, struct diag *d)
{
	struct cadence_pair p;
	memset(&p, 0, sizeof(p));
	int64_t match_id = stmt_int64(s, C_ID);
	p.match = (struct shape_match){.id = match_id, .program = r->prog->name,
				       .status = col(s, C_STATUS), .created_at = col(s, C_CREATED),
				       .score = stmt_double(s, C_SCORE)};
	read_side(s, C_PERSON, &p.mentor, &p.mentor_enr);
	read_side(s, C_PERSON + P_COLS, &p.mentee, &p.mentee_enr);
	const char *choice = cadence_zone_choice(r->cad);
	const char *pair_zone = col(s, C_MTZ) != NULL && col(s, C_MTZ)[0] ? col(s, C_MTZ)
									  : p.mentee.timezone;
	p.zone = strcmp(choice, "mentor") == 0	 ? p.mentor.timezone
		 : strcmp(choice, "mentee") == 0 ? p.mentee.timezone
						 : pair_zone;
	p.activated_at = col(s, C_ACTIVATED);
	p.activated = plan__iso_time(p.activated_at);
	p.starts_on = r->prog->starts;
	p.ends_on = r->prog->ends;
	p.duration_min = r->prog->minutes_per_session;
	time_t ended = plan__iso_time(col(s, C_ENDED));
	time_t from = r->now > p.activated ? r->now : p.activated;
	time_t until = ended != 0 && ended < until_all ? ended : until_all;
	time_t look = ended != 0 && ended < r->look_until ? ended : r->look_until;
	r->rep->pairs++;
	r->rep->replanned++;
	if (from >= until) /* an end closed the window: nothing ever again; else at the next run */
		return pstate_add(&r->states, match_id,
				  until < r->now + r->horizon_s ? NEXT_NEVER : NEXT_NOW, 0, d);

	char *topics = NULL;
	struct shape_session *hist = NULL;
	size_t nh = 0, first = 0;
	int rc = history_of(r, match_id, &hist, &nh, &first, d);
	if (rc == 0 && cadence_has_plan(r->cad)) {
		topics = shared_topics(or_alt(p.mentor_enr.topics_offered, p.mentor.skills),
				       or_alt(p.mentee_enr.topics_wanted, p.mentee.topics_wanted),
				       or_alt(p.mentee_enr.topics_offered, p.mentee.skills),
				       or_alt(p.mentor_enr.topics_wanted, p.mentor.topics_wanted));
		if (topics == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory planning a pair");
		p.topics = topics;
	}
	struct cadence_ctx cctx = {.now = r->now, .horizon = until_all,
				   .timezone = r->ctx->cfg->timezone, .program = r->prog->name,
				   .title = r->prog->title};
	struct cadence_result res;
	memset(&res, 0, sizeof(res));
	struct diag pd;
	diag_clear(&pd);
	/* Past the window too: its first instant there says when to plan this pair again. */
	if (rc == 0 && cadence_run(r->cad, &p, hist, nh, &cctx, from, look, &res, &pd) != 0) {
		/* The cadence failed for this pair: reported (and kept on the pair), the others
		 * go on; its plan state stays as it was. */
		rc = pd.code == DIAG_NOMEM || pd.code == DIAG_DB ? (*d = pd, -1) : 0;
		if (rc == 0)
			rc = add_note(r->rep, match_id, p.mentor.name, p.mentee.name, pd.msg, d);
		if (rc == 0)
			rc = pstate_add(&r->states, match_id, NEXT_KEEP, r->rep->nnotes, d);
		free(hist);
		free(topics);
		return rc;
	}
	free(hist);
	free(topics);
	size_t note = 0;
	if (rc == 0 && res.no_slot && res.n == 0) {
		rc = add_note(r->rep, match_id, p.mentor.name, p.mentee.name, res.reason, d);
		note = r->rep->nnotes;
	}
	if (rc == 0)
		rc = check_pair(r, &p, first, nh, from, until, ended, &res, d);
	/* Each instant inside both people's slots on its date, and clear of their other
	 * sessions: moved on its day, or dropped with a reason (kept on the pair when it
	 * leaves the pair no session in the window). */
	time_t keep = r->now + (time_t)PLAN_KEEP_HOURS * 3600;
	char why[512] = "";
	if (rc == 0)
		rc = plan_fit(r->busy, &p, match_id, &res, from, until, keep, why, sizeof(why), d);
	if (rc == 0 && why[0]) {
		rc = add_note(r->rep, match_id, p.mentor.name, p.mentee.name, why, d);
		if (note == 0 && (res.n == 0 || res.v[0].start >= until))
			note = r->rep->nnotes;
	}
	time_t beyond = 0;
	for (size_t i = 0; rc == 0 && i < res.n; i++) {
		if (res.v[i].start >= until) {
			if (beyond == 0 || res.v[i].start < beyond)
				beyond = res.v[i].start;
			continue;
		}
		struct todo t = {.match_id = match_id, .start = res.v[i].start,
				 .duration_min = res.v[i].duration_min, .zone = strdup(p.zone)};
		snprintf(t.topic, sizeof(t.topic), "%s", res.v[i].topic);
		rc = t.zone == NULL ? diag_set(d, DIAG_NOMEM, "out of memory planning sessions")
				    : todo_add(&r->todo, &t, d);
	}
	/* Sessions this cadence (or the program's previous one) planned before that its plan
	 * no longer has. */
	for (size_t i = first; rc == 0 && i < first + nh; i++) {
		const struct known *k = &r->known.v[i];
		if (replanned_away(r, k, &res, from, until)) {
			struct todo t = {.match_id = match_id, .cancel_id = k->id, .start = k->start,
					 .late = k->ours == KNOWN_PREVIOUS ? 3 : 0};
			rc = todo_add(&r->todo, &t, d);
		}
	}
	/* When planning this pair again adds a session: its next instant enters the window. */
	time_t next = beyond != 0 ? beyond - r->horizon_s
		      : res.no_slot || look < r->now + r->horizon_s +
						     (time_t)PLAN_LOOKAHEAD_DAYS * 86400
			  ? NEXT_NEVER
			  : look - r->horizon_s;
	if (rc == 0)
		rc = pstate_add(&r->states, match_id, next, note, d);
	cadence_result_fini(&res);
	return rc;
}

static int
plan_pairs(struct run *r, time_t until_all, struct diag *d)
{
	struct stmt s = {0};
#define PAIRS_SQL(filter)                                                                    \
	"SELECT m.id, m.score, m.status, m.created_at, m.activated_at, m.ended_at, "          \
	"m.timezone, " SIDE_COLS("a", "ea") ", " SIDE_COLS("b", "eb") " "                     \
	"FROM matches m JOIN people a ON a.id = m.mentor_id "                                 \
	"JOIN people b ON b.id = m.mentee_id "                                                \
	"LEFT JOIN enrollments ea ON ea.program_id = m.program_id AND "                       \
	"ea.person_id = m.mentor_id "                                                         \
	"LEFT JOIN enrollments eb ON eb.program_id = m.program_id AND "                       \
	"eb.person_id = m.mentee_id "                                                         \
	"WHERE " filter "m.program_id = ?1 AND m.status = 'active' ORDER BY m.id"
	if (stmt_prepare(&s, r->ctx->st, "reading the program's active pairs",
			 r->incremental ? PAIRS_SQL("m.id IN " PLAN_DUE_IDS " AND ") : PAIRS_SQL(""),
			 d) != 0)
		return -1;
#undef PAIRS_SQL
	int rc = stmt_bind_int64(&s, 1, r->program_id, d) ||
			 (r->incremental && plan__bind_due(&s, r->now, cadence_has_plan(r->cad), d))
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = plan_pair(r, &s, until_all, d);
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

/* Each planned pair's plan_next_at and history flag, and the program's signature (each
 * written only when it differs, so planning again without news changes no byte). */
static int
write_states(struct run *r, struct diag *d)
{
	struct stmt u = {0};
	/* ?2 NULL: the plan state stays (the cadence failed), only the note is written. */
	int rc = stmt_prepare(&u, r->ctx->st, "recording what was planned",
			      "UPDATE matches SET plan_next_at = coalesce(?2, plan_next_at), "
			      "plan_history = CASE WHEN ?2 IS NULL THEN plan_history ELSE 0 END, "
			      "plan_note = ?3 "
			      "WHERE id = ?1 AND (plan_next_at <> coalesce(?2, plan_next_at) OR "
			      "(?2 IS NOT NULL AND plan_history <> 0) OR plan_note <> ?3)",
			      d);
	for (size_t i = 0; rc == 0 && i < r->states.n; i++) {
		const struct pstate *p = &r->states.v[i];
		char ts[STORE_TIME_MAX];
		if (p->next == NEXT_NEVER)
			snprintf(ts, sizeof(ts), "%s", PLAN_NEVER);
		else if (p->next == NEXT_NOW)
			ts[0] = '\0';
		else if (store_format_time(p->next, ts) != 0)
			snprintf(ts, sizeof(ts), "%s", PLAN_NEVER);
		const char *note = p->note ? r->rep->notes[p->note - 1].reason : "";
		rc = stmt_bind_int64(&u, 1, p->match_id, d) ||
			     (p->next == NEXT_KEEP ? stmt_bind_null(&u, 2, d)
						   : stmt_bind_text(&u, 2, ts, d)) ||
			     stmt_bind_text(&u, 3, note, d) || stmt_run(&u, d)
			 ? -1
			 : 0;
	}
	stmt_finalize(&u);
	if (rc != 0 || !r->new_signature)
		return rc;
	char ts[STORE_TIME_MAX];
	if (store_format_time(r->now, ts) != 0)
		return diag_set(d, DIAG_INVALID, "planning: the clock is out of range");
	rc = stmt_prepare(&u, r->ctx->st, "recording the program's plan signature",
			  "INSERT INTO plan_programs (program_id, signature, updated_at) "
			  "VALUES (?1, ?2, ?3) ON CONFLICT (program_id) DO UPDATE SET "
			  "signature = excluded.signature, updated_at = excluded.updated_at",
			  d) ||
			     stmt_bind_int64(&u, 1, r->program_id, d) ||
			     stmt_bind_text(&u, 2, r->signature, d) || stmt_bind_text(&u, 3, ts, d) ||
			     stmt_run(&u, d)
		 ? -1
		 : 0;
	stmt_finalize(&u);
	return rc;
}

/* What this plan assumes of the program's configuration (plan.h), and whether the last
 * plan assumed the same: if not, every pair is planned. */
static int
check_signature(struct run *r, const char *ref, int horizon_days, struct diag *d)
{
	int same = 0;
	if (plan_signature(r->ctx, r->prog, ref, r->cad, horizon_days, r->program_id,
			   r->signature, &same, d) != 0)
		return -1;
	r->new_signature = !same;
	if (!same)
		r->incremental = 0;
	return 0;
}

static int
write_todo(struct run *r, struct diag *d)
{
	struct store *st = r->ctx->st;
	size_t nnew = 0;
	for (size_t i = 0; i < r->todo.n; i++)
		nnew += r->todo.v[i].cancel_id == 0;
	struct session_new *v = nnew ? calloc(nnew, sizeof(*v)) : NULL;
	if (nnew && v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
	size_t k = 0;
	for (size_t i = 0; i < r->todo.n; i++) {
		const struct todo *t = &r->todo.v[i];
		if (t->cancel_id == 0)
			v[k++] = (struct session_new){.match_id = t->match_id, .start = t->start,
						      .duration_min = t->duration_min, .zone = t->zone,
						      .planned_by = cadence_name(r->cad),
						      .topic = t->topic[0] ? t->topic : NULL,
						      .prog = r->prog};
	}
	if (store_begin(st, d) != 0) {
		free(v);
		return -1;
	}
	char reason[200];
	snprintf(reason, sizeof(reason), "replanned by cadence %s", cadence_name(r->cad));
	char late[160];
	snprintf(late, sizeof(late), "after the program's end (%s is its last day)",
		 r->prog->ends != NULL ? r->prog->ends : "?");
	char changed[240];
	snprintf(changed, sizeof(changed), "%s (the program's cadence changed)", reason);
	const char *why[4] = {reason, late, "after the match's end", changed};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->todo.n; i++) {
		int kind = r->todo.v[i].late;
		if (r->todo.v[i].cancel_id == 0)
			continue;
		rc = session_cancel(st, r->todo.v[i].cancel_id, why[kind], "planner", d);
		r->rep->cancelled += rc == 0;
		r->rep->late += rc == 0 && (kind == 1 || kind == 2);
		r->rep->changed += rc == 0 && kind == 3;
	}
	size_t inserted = 0;
	if (rc == 0 && nnew > 0)
		rc = session_insert_many(st, v, nnew, NULL, &inserted, d);
	free(v);
	if (rc == 0) /* after the inserts, whose triggers flagged the history */
		rc = write_states(r, d);
	if (rc != 0) {
		store_rollback(st);
		r->rep->cancelled = r->rep->late = r->rep->changed = 0;
		return -1;
	}
	r->rep->planned = (int)inserted;
	r->rep->existing = (int)(nnew - inserted);
	return store_commit(st, d);
}

/* Every person's sessions but those this run may move (see plan_fit.h). */
static int
load_busy(struct run *r, struct diag *d)
{
	time_t keep = r->now + (time_t)PLAN_KEEP_HOURS * 3600;
	int64_t *skip = r->known.n ? malloc(r->known.n * sizeof(*skip)) : NULL;
	if (r->known.n && skip == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
	size_t n = 0;
	for (size_t i = 0; i < r->known.n; i++) {
		const struct known *k = &r->known.v[i];
		if (k->ours != KNOWN_HAND && strcmp(k->status, "planned") == 0 && k->start > keep)
			skip[n++] = k->id;
	}
	int rc = plan_busy_load(r->busy, r->ctx->st, r->now, skip, n, d);
	free(skip);
	return rc;
}

int
plan_program(struct plan_ctx *ctx, const char *program, time_t now, int horizon_days,
	     struct plan_report *rep, struct diag *d)
{
	memset(rep, 0, sizeof(*rep));
	const struct config_program *prog = config_find_program(ctx->cfg, program, d);
	if (prog == NULL)
		return -1;
	if (horizon_days <= 0)
		horizon_days = PLAN_HORIZON_DAYS;
	struct run r = {.ctx = ctx, .prog = prog, .rep = rep, .now = now,
			.horizon_s = (time_t)horizon_days * 86400, .incremental = ctx->incremental};
	const char *from = "override";
	const char *ref = ctx->cadence != NULL ? ctx->cadence : plan_program_cadence(prog, &from);
	snprintf(rep->program, sizeof(rep->program), "%s", prog->name);
	snprintf(rep->cadence_from, sizeof(rep->cadence_from), "%s", from);
	rep->from = now;
	rep->until = now + r.horizon_s;
	r.look_until = rep->until + (time_t)PLAN_LOOKAHEAD_DAYS * 86400;
	time_t end = 0;
	if (prog->ends != NULL) {
		if (plan_program_end(prog->ends, ctx->cfg->timezone, &end, d) != 0)
			return -1;
		r.prog_end = end;
		if (end < rep->until)
			rep->until = end;
		if (end < r.look_until)
			r.look_until = end;
	}
	if (config_program_id(ctx->st, ctx->cfg, prog->name, &r.program_id, d) != 0)
		return -1;
	r.cad = ctx->cadences != NULL ? cadence_cache_get(ctx->cadences, ctx->ws, ref, d)
				      : cadence_open(ctx->ws, ref, d);
	if (r.cad == NULL)
		return diag_prefix(d, "program '%s': cadence '%s'", prog->name, ref);
	snprintf(rep->cadence, sizeof(rep->cadence), "%s", cadence_name(r.cad));
	/* Whatever is planned after the program's or the match's end goes, window or not. */
	struct plan_late *late = NULL;
	size_t nlate = 0;
	int rc = plan_beyond_end(ctx->st, r.program_id, end, &late, &nlate, d);
	for (size_t i = 0; rc == 0 && i < nlate; i++) {
		struct todo t = {.cancel_id = late[i].session_id, .late = 1 + late[i].by_match};
		rc = todo_add(&r.todo, &t, d);
	}
	free(late);
	if (rc == 0 && rep->until > rep->from) {
		rc = check_signature(&r, ref, horizon_days, d);
		if (rc == 0)
			rc = plan__load_known(ctx->st, r.program_id, cadence_name(r.cad),
					      r.incremental, now, cadence_has_plan(r.cad), &r.known, d);
		if (rc == 0 && (r.busy = plan_busy_new()) == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		if (rc == 0)
			rc = load_busy(&r, d);
		if (rc == 0)
			rc = plan_pairs(&r, rep->until, d);
	}
	/* The pairs left alone, as a full plan would count them (before the writes). */
	int up[3] = {0, 0, 0}; /* pairs, of them unplanned, sessions */
	if (rc == 0 && r.incremental && rep->until > rep->from)
		rc = plan__count_uptodate(ctx->st, r.program_id, cadence_name(r.cad), now,
					  cadence_has_plan(r.cad), rep->until, up, d);
	if (rc == 0 && (r.todo.n > 0 || r.states.n > 0 || r.new_signature))
		rc = write_todo(&r, d);
	rep->pairs += up[0];
	rep->unplanned_left = up[1];
	rep->existing += up[2];
	plan__known_fini(&r.known);
	todo_fini(&r.todo);
	plan_busy_delete(r.busy);
	free(r.states.v);
	if (ctx->cadences == NULL)
		cadence_delete(r.cad);
	if (rc != 0)
		plan_report_fini(rep);
	return rc;
}

static void
skip(struct plan_summary *sum, const char *program, const char *why)
{
	if (sum->nskipped < PLAN_SKIPPED_KEEP) {
		snprintf(sum->skipped[sum->nskipped].program, sizeof(sum->skipped[0].program), "%.127s",
			 program);
		snprintf(sum->skipped[sum->nskipped].why, sizeof(sum->skipped[0].why), "%.199s", why);
	}
	sum->nskipped++;
}

int
plan_all(struct plan_ctx *ctx, time_t now, int horizon_days, struct plan_summary *sum,
	 struct diag *d)
{
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < ctx->cfg->nprograms; i++) {
		const char *name = ctx->cfg->programs[i].name;
		struct plan_report rep;
		struct diag pd;
		diag_clear(&pd);
		if (plan_program(ctx, name, now, horizon_days, &rep, &pd) != 0) {
			if (pd.code == DIAG_DB || pd.code == DIAG_NOMEM) {
				*d = pd;
				return -1;
			}
			tlog(TLOG_WARN, "planning program '%s': %s", name, pd.msg);
			skip(sum, name, pd.msg);
			continue;
		}
		if (rep.until <= rep.from) {
			char why[64];
			snprintf(why, sizeof(why), "ended (its last day was %s)",
				 ctx->cfg->programs[i].ends ? ctx->cfg->programs[i].ends : "?");
			skip(sum, name, why);
		} else {
			sum->programs++;
		}
		sum->pairs += rep.pairs;
		sum->replanned += rep.replanned;
		sum->planned += rep.planned;
		sum->existing += rep.existing;
		sum->cancelled += rep.cancelled;
		sum->changed += rep.changed;
		sum->unplanned += (int)rep.nnotes + rep.unplanned_left;
		sum->refused += (int)rep.nrefused;
		plan_report_fini(&rep);
		crash_point("plan.program");
	}
	return 0;
}

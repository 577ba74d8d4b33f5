/*
 * session_agenda: the topic and suggested questions of a pair's session (session.h).
 *
 * Deterministic on purpose: the same pair, program and history give the same agenda,
 * so planning twice (or a simulation replayed with its seed) writes the same rows.
 * Rotation counts the pair's earlier sessions that took place or may still take place
 * (not cancelled, not moved): the k-th session of a pair gets the k-th shared topic,
 * and each pass over the topics takes the next questions of each one. A batch
 * (session_agenda_open) reads a pair's topics once for its run of sessions, and counts
 * the earlier sessions for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "program/config.h"
#include "sched/session.h"
#include "sched/session_internal.h"
#include "store/stmt.h"

enum { AGENDA_QUESTIONS = 3 };

/* What each side offers and wants (the enrollment's lists, else the person's own, as the
 * cohort reads them), as JSON arrays. */
struct wants {
	json_t *mentor_offers, *mentor_wants, *mentee_offers, *mentee_wants;
};

static void
wants_fini(struct wants *w)
{
	json_decref(w->mentor_offers);
	json_decref(w->mentor_wants);
	json_decref(w->mentee_offers);
	json_decref(w->mentee_wants);
}

/* Column col as a JSON array of strings; fallback when it is empty or not one. */
static json_t *
list_col(struct stmt *s, int col, int fallback)
{
	json_t *out = NULL;
	for (int c = col; c >= 0 && out == NULL; c = c == col ? fallback : -1) {
		const char *t = NULL;
		if (stmt_text(s, c, &t, NULL) != 0 || t == NULL)
			continue;
		json_error_t err;
		json_t *a = json_loads(t, 0, &err);
		if (json_is_array(a) && json_array_size(a) > 0)
			out = a;
		else
			json_decref(a);
	}
	return out ? out : json_array();
}

static int
load_wants(struct stmt *s, int64_t match_id, struct wants *w, struct diag *d)
{
	memset(w, 0, sizeof(*w));
	int rc = stmt_bind_int64(s, 1, match_id, d) ? -1 : stmt_step(s, d);
	if (rc == STMT_ROW) {
		w->mentor_offers = list_col(s, 0, 1);
		w->mentor_wants = list_col(s, 2, 3);
		w->mentee_offers = list_col(s, 4, 5);
		w->mentee_wants = list_col(s, 6, 7);
	}
	if (rc >= 0 && stmt_reset(s, d) != 0)
		rc = -1;
	if (rc == STMT_DONE)
		return diag_set(d, DIAG_NOTFOUND, "no match #%lld", (long long)match_id);
	if (rc != STMT_ROW) {
		wants_fini(w);
		return -1;
	}
	return 0;
}

static int
has(const json_t *a, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return 1;
	}
	return 0;
}

static void
add_unique(json_t *out, const char *name)
{
	if (!has(out, name))
		json_array_append_new(out, json_string(name));
}

/*
 * The candidate topics, in a stable order: the shared ones (one side offers, the other
 * wants), the library's order first and then by name; else what the mentee wants; else
 * the library. Names are kept as they are written.
 */
static json_t *
candidates(const struct wants *w, const struct config_program *prog)
{
	json_t *shared = json_array(), *names = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(w->mentor_offers, i, v)
	{
		if (json_is_string(v) && has(w->mentee_wants, json_string_value(v)))
			json_array_append(names, v);
	}
	json_array_foreach(w->mentee_offers, i, v)
	{
		if (json_is_string(v) && has(w->mentor_wants, json_string_value(v)))
			json_array_append(names, v);
	}
	if (json_array_size(names) == 0) {
		json_array_foreach(w->mentee_wants, i, v)
		{
			if (json_is_string(v))
				json_array_append(names, v);
		}
	}
	for (int t = 0; prog && t < prog->ntopics; t++)
		if (has(names, prog->topics[t]))
			add_unique(shared, prog->topics[t]);
	/* Names outside the library, sorted so the order does not depend on the lists'. */
	json_t *rest = json_array();
	json_array_foreach(names, i, v)
	{
		if (!has(shared, json_string_value(v)))
			add_unique(rest, json_string_value(v));
	}
	size_t n = json_array_size(rest);
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(json_string_value(json_array_get(rest, b - 1)),
						   json_string_value(json_array_get(rest, b))) > 0;
		     b--) {
			json_t *x = json_incref(json_array_get(rest, b - 1));
			json_array_set(rest, b - 1, json_array_get(rest, b));
			json_array_set_new(rest, b, x);
		}
	json_array_extend(shared, rest);
	json_decref(rest);
	json_decref(names);
	for (int t = 0; prog && json_array_size(shared) == 0 && t < prog->ntopics; t++)
		add_unique(shared, prog->topics[t]);
	return shared;
}

/* How many of the pair's sessions before start were not cancelled or moved. */
static int
earlier_sessions(struct stmt *s, int64_t match_id, time_t start, int64_t *k, struct diag *d)
{
	char at[STORE_TIME_MAX];
	if (store_format_time(start, at) != 0)
		return diag_set(d, DIAG_INVALID, "session start out of range");
	int rc = stmt_bind_int64(s, 1, match_id, d) || stmt_bind_text(s, 2, at, d)
		     ? -1
		     : stmt_step(s, d);
	if (rc == STMT_ROW)
		*k = stmt_int64(s, 0);
	if (rc >= 0 && stmt_reset(s, d) != 0)
		rc = -1;
	return rc == STMT_ROW ? 0 : -1;
}

int
session_agenda_open(struct session_agenda_ctx *ac, struct store *st, struct diag *d)
{
	memset(ac, 0, sizeof(*ac));
	if (stmt_prepare(&ac->wants, st, "reading the pair's topics",
			 "SELECT er.topics_offered, r.skills, er.topics_wanted, r.topics_wanted, "
			 "ee.topics_offered, e.skills, ee.topics_wanted, e.topics_wanted "
			 "FROM matches m JOIN people r ON r.id = m.mentor_id "
			 "JOIN people e ON e.id = m.mentee_id "
			 "LEFT JOIN enrollments er ON er.program_id = m.program_id "
			 "AND er.person_id = m.mentor_id "
			 "LEFT JOIN enrollments ee ON ee.program_id = m.program_id "
			 "AND ee.person_id = m.mentee_id WHERE m.id = ?1",
			 d) ||
	    stmt_prepare(&ac->count, st, "counting the pair's earlier sessions",
			 "SELECT count(*) FROM sessions WHERE match_id = ?1 AND starts_at < ?2 "
			 "AND status NOT IN ('cancelled', 'rescheduled')",
			 d)) {
		session_agenda_close(ac);
		return -1;
	}
	return 0;
}

void
session_agenda_close(struct session_agenda_ctx *ac)
{
	stmt_finalize(&ac->wants);
	stmt_finalize(&ac->count);
	json_decref(ac->cand);
	ac->cand = NULL;
	ac->cand_match = 0;
}

/* The library's questions for topic, or NULL. */
static const struct config_topic_questions *
questions_of(const struct config_program *prog, const char *topic)
{
	for (int t = 0; prog && prog->topic_questions && t < prog->ntopics; t++)
		if (strcmp(prog->topics[t], topic) == 0)
			return prog->topic_questions[t].n ? &prog->topic_questions[t] : NULL;
	return NULL;
}

/* first: the pair's first session (nothing to look back on: no "since you last met"). */
static json_t *
agenda_for(const struct config_program *prog, const char *topic, int64_t pass, int first)
{
	json_t *a = json_array();
	const struct config_topic_questions *q = topic ? questions_of(prog, topic) : NULL;
	char buf[512];
	if (q != NULL) {
		int take = q->n < AGENDA_QUESTIONS ? q->n : AGENDA_QUESTIONS;
		int64_t at = (pass * AGENDA_QUESTIONS) % q->n;
		for (int i = 0; i < take; i++)
			json_array_append_new(a, json_string(q->questions[(at + i) % q->n]));
	} else if (topic != NULL) {
		snprintf(buf, sizeof(buf),
			 first ? "What do you already do with %s, and where do you get stuck?"
			       : "What have you tried with %s since you last met?",
			 topic);
		json_array_append_new(a, json_string(buf));
		snprintf(buf, sizeof(buf),
			 "What would you like to be able to do with %s by next time?", topic);
		json_array_append_new(a, json_string(buf));
	} else {
		json_array_append_new(a, json_string(first ? "What do you each hope to get from these sessions?"
							   : "What have you tried since you last met?"));
		json_array_append_new(a, json_string("What should the next session be about?"));
	}
	return a;
}

int
session_agenda_with(struct session_agenda_ctx *ac, const struct config_program *prog,
		    int64_t match_id, time_t start, int64_t before, char **topic,
		    char **agenda_json, struct diag *d)
{
	*topic = NULL;
	*agenda_json = NULL;
	int64_t k = 0;
	if (ac->cand == NULL || ac->cand_match != match_id || ac->cand_prog != prog) {
		struct wants w;
		json_decref(ac->cand);
		ac->cand = NULL;
		if (load_wants(&ac->wants, match_id, &w, d) != 0)
			return -1;
		ac->cand = candidates(&w, prog);
		wants_fini(&w);
		if (ac->cand == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		ac->cand_match = match_id;
		ac->cand_prog = prog;
	}
	if (earlier_sessions(&ac->count, match_id, start, &k, d) != 0)
		return -1;
	k += before;
	json_t *cand = ac->cand;
	size_t n = json_array_size(cand);
	const char *name =
	    n ? json_string_value(json_array_get(cand, (size_t)(k % (int64_t)n))) : NULL;
	json_t *a = agenda_for(prog, name, n ? k / (int64_t)n : k, k == 0);
	*agenda_json = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (name && (*topic = strdup(name)) == NULL) {
		free(*agenda_json);
		*agenda_json = NULL;
	}
	if (*agenda_json == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

int
session_agenda(struct store *st, const struct config_program *prog, int64_t match_id, time_t start,
	       char **topic, char **agenda_json, struct diag *d)
{
	struct session_agenda_ctx a;
	*topic = NULL;
	*agenda_json = NULL;
	if (session_agenda_open(&a, st, d) != 0)
		return -1;
	int rc = session_agenda_with(&a, prog, match_id, start, 0, topic, agenda_json, d);
	session_agenda_close(&a);
	return rc;
}

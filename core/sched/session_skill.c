/*
 * session_skill: the skill self-assessments a mentee's check-in carries (session.h,
 * "Skills"): checking them (values, side, outcome, the program's topic library), comparing
 * them with what a retried check-in stored, and writing them next to the feedback row.
 * Called by session.c's check-in only, inside its transaction level.
 *
 * Why the mentee: in reverse mentoring the mentee (usually the senior) is the one learning,
 * so their own view of their level, at the start and at the end, is the program's goal
 * progress (report/metrics). The library is read from programs.config (the declaration
 * tandem.lua last saved), so the core checks topics without reading tandem.lua.
 */
#include <stdio.h>
#include <string.h>

#include "sched/session_internal.h"
#include "store/stmt.h"

int
session_skills_valid(const struct session_checkin *c, struct diag *d)
{
	if (c->nskills == 0)
		return 0;
	if (c->person_id == 0)
		return diag_set(d, DIAG_INVALID,
				"skill: a self-assessment belongs to the mentee: say which person "
				"checks in");
	if (c->outcome != SESSION_OUTCOME_HELD)
		return diag_set(d, DIAG_INVALID,
				"skill: a self-assessment is for a session that was held, not missed");
	for (size_t i = 0; i < c->nskills; i++) {
		const struct session_skill *k = &c->skills[i];
		if (k->topic == NULL || k->topic[0] == '\0')
			return diag_set(d, DIAG_INVALID, "skill %zu: the topic is empty", i + 1);
		if (k->level < 1 || k->level > 5)
			return diag_set(d, DIAG_INVALID, "skill '%s': level %d is not 1 to 5",
					k->topic, k->level);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->skills[j].topic, k->topic) == 0)
				return diag_set(d, DIAG_INVALID,
						"skill '%s': assessed twice in one check-in",
						k->topic);
	}
	return 0;
}

/* The program's topics, comma-separated, into buf (for the error message). */
static void
library_names(struct store *st, int64_t program_id, char *buf, size_t size)
{
	struct stmt s = {0};
	size_t len = 0;
	buf[0] = '\0';
	if (stmt_prepare(&s, st, "listing the program's topics",
			 "SELECT group_concat(t.value, ', ') FROM programs p, "
			 "json_each(p.config, '$.topics') t WHERE p.id = ?1",
			 NULL) == 0 &&
	    stmt_bind_int64(&s, 1, program_id, NULL) == 0 && stmt_step(&s, NULL) == STMT_ROW)
		session_copy_col(&s, 0, buf, size);
	stmt_finalize(&s);
	len = strlen(buf);
	if (len == 0)
		snprintf(buf, size, "none declared");
}

int
session_skills_check(struct store *st, int64_t session_id, const struct session_pair *p,
		     const struct session_checkin *c, struct diag *d)
{
	if (c->nskills == 0)
		return 0;
	if (c->person_id != p->mentee)
		return diag_set(d, DIAG_INVALID,
				"skill: %s is the mentor of session #%lld; a self-assessment is the "
				"mentee's (%s)",
				p->mentor_ext, (long long)session_id, p->mentee_ext);
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "checking the topic of a skill",
			      "SELECT EXISTS (SELECT 1 FROM programs p, json_each(p.config, "
			      "'$.topics') t WHERE p.id = ?1 AND t.value = ?2)",
			      d) ||
		 stmt_bind_int64(&s, 1, p->program_id, d);
	for (size_t i = 0; rc == 0 && i < c->nskills; i++) {
		rc = stmt_bind_text(&s, 2, c->skills[i].topic, d) || stmt_step(&s, d) != STMT_ROW;
		if (rc == 0 && stmt_int64(&s, 0) == 0) {
			char names[1024];
			library_names(st, p->program_id, names, sizeof(names));
			rc = diag_set(d, DIAG_INVALID,
				      "skill '%s': not a topic of the program (topics: %s)",
				      c->skills[i].topic, names);
		}
		if (rc == 0)
			rc = stmt_reset(&s, d);
	}
	stmt_finalize(&s);
	return rc ? -1 : 0;
}

int
session_skills_same(struct store *st, int64_t session_id, const struct session_checkin *c,
		    struct diag *d)
{
	struct stmt s = {0};
	int64_t stored = 0, equal = 0;
	int rc = stmt_prepare(&s, st, "comparing the skills of a check-in",
			      "SELECT count(*), sum(topic = ?3 AND level = ?4) FROM "
			      "skill_assessments WHERE session_id = ?1 AND person_id = ?2",
			      d) ||
		 stmt_bind_int64(&s, 1, session_id, d) || stmt_bind_int64(&s, 2, c->person_id, d);
	for (size_t i = 0; rc == 0 && i < c->nskills; i++) {
		rc = stmt_bind_text(&s, 3, c->skills[i].topic, d) ||
		     stmt_bind_int64(&s, 4, c->skills[i].level, d) ||
		     stmt_step(&s, d) != STMT_ROW;
		if (rc == 0) {
			stored = stmt_int64(&s, 0);
			equal += stmt_int64(&s, 1);
			rc = stmt_reset(&s, d);
		}
	}
	if (rc == 0 && c->nskills == 0) /* none given: the same only if none were stored */
		rc = stmt_bind_null(&s, 3, d) || stmt_bind_null(&s, 4, d) ||
		     stmt_step(&s, d) != STMT_ROW;
	if (rc == 0 && c->nskills == 0)
		stored = stmt_int64(&s, 0);
	stmt_finalize(&s);
	if (rc)
		return -1;
	return stored == (int64_t)c->nskills && equal == (int64_t)c->nskills;
}

int
session_skills_insert(struct store *st, int64_t session_id, int64_t program_id,
		      const struct session_checkin *c, const char *now, struct diag *d)
{
	if (c->nskills == 0)
		return 0;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "recording a skill self-assessment",
			      "INSERT INTO skill_assessments (session_id, person_id, program_id, "
			      "topic, level, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			      d) ||
		 stmt_bind_int64(&s, 1, session_id, d) || stmt_bind_int64(&s, 2, c->person_id, d) ||
		 stmt_bind_int64(&s, 3, program_id, d) || stmt_bind_text(&s, 6, now, d);
	for (size_t i = 0; rc == 0 && i < c->nskills; i++)
		rc = stmt_bind_text(&s, 4, c->skills[i].topic, d) ||
		     stmt_bind_int64(&s, 5, c->skills[i].level, d) || stmt_run(&s, d);
	stmt_finalize(&s);
	return rc ? -1 : 0;
}

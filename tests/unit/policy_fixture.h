/*
 * policy_fixture: what the unit tests of the match pipeline share (test_policy,
 * test_solve, test_score, test_explain, test_cohort, test_match_run): a scratch folder for
 * policy files, small random cohorts built by hand, a policy whose Lua score
 * has a known formula, and a small organization in a store (test_cohort,
 * test_match_run). A header of static functions: each test program
 * includes it once (static inline, so a program may leave some unused).
 */
#ifndef TANDEM_TEST_POLICY_FIXTURE_H
#define TANDEM_TEST_POLICY_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "program/cohort.h"
#include "program/policy.h"
#include "store/store.h"

static char tmpdir[256];

static inline const char *
write_policy(const char *file, const char *body)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	return path;
}

static inline int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pipeline.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static inline int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define HEAD "return tandem.policy{ name = 'x', version = '1.0.0', api = 1,\n"

/* ---- small cohorts ---------------------------------------------------------------- */

static const char *const topics[] = {"ai_tools", "data_literacy", "leadership",
				     "strategy", "wellbeing",	  "automation"};
static const char *const depts[] = {"it", "sales", "hr"};

static inline char *
json_list(unsigned bits)
{
	char buf[256] = "[";
	for (int t = 0; t < 6; t++)
		if (bits & (1u << t)) {
			if (buf[1])
				strcat(buf, ",");
			strcat(buf, "\"");
			strcat(buf, topics[t]);
			strcat(buf, "\"");
		}
	strcat(buf, "]");
	return strdup(buf);
}

/* n people; the first nm are mentors, the rest mentees (person i+nm). */
static inline void
make_cohort(struct cohort *c, int nm, int ne, unsigned seed)
{
	srand(seed);
	cohort_init(c);
	char buf[32];
	for (int i = 0; i < nm + ne; i++) {
		struct cohort_person *p = cohort_add_person(c);
		p->id = i + 1;
		snprintf(buf, sizeof(buf), "p%d", i);
		p->external_id = strdup(buf);
		p->name = strdup(buf);
		p->level = i < nm ? 1 + rand() % 4 : 4 + rand() % 6;
		p->department = strdup(depts[rand() % 3]);
		p->tz_known = 1;
		p->tz_offset_min = 60 * (rand() % 3);
		p->manager = i > 0 && rand() % 4 == 0 ? rand() % i : -1;
	}
	for (int i = 0; i < nm; i++) {
		struct cohort_member *m = cohort_add_member(c, 1);
		m->person = i;
		m->capacity = rand() % 3;
		m->role = strdup("mentor");
		m->topics_offered = json_list((unsigned)rand() & 63);
	}
	for (int i = 0; i < ne; i++) {
		struct cohort_member *m = cohort_add_member(c, 0);
		m->person = nm + i;
		m->capacity = 1;
		m->role = strdup("mentee");
		m->topics_wanted = json_list((unsigned)rand() & 63);
	}
}

/* The Lua score of the test policies, in C. */
static inline double
lua_formula(const struct cohort *c, int mentor, int mentee)
{
	return 0.1 * c->people[c->mentors[mentor].person].level -
	       0.05 * c->people[c->mentees[mentee].person].level;
}

const char score_policy[] =
    HEAD "forbid = { 'reporting_chain' }, require = { level_gap = { min = 1 } },\n"
	 "weights = { topic_fit = 3, cross_department = 1, tz_distance = -0.5 },\n"
	 "score = function(m, e, f) return 0.1 * m.level - 0.05 * e.level end }";

/* ---- a small organization in a store ----------------------------------------------- */

static inline struct store *
open_store(void)
{
	static int n;
	char path[512];
	snprintf(path, sizeof(path), "%s/cohort%d.db", tmpdir, n++);
	struct diag d;
	struct store *st = store_open(path, STORE_CREATE, &d);
	if (st == NULL)
		fail_msg("store_open: %s", d.msg);
	return st;
}

static inline void
exec(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) < 0)
		fail_msg("exec: %s", d.msg);
}

/* Six people (1 manages 2; 3 is on leave; 4 has a zone nobody knows), two programs. */
const char org_sql[] =
    "INSERT INTO programs (id, name, created_at) VALUES (1, 'p', 'now'), (2, 'q', 'now');"
    "INSERT INTO people (id, external_id, name, email, level, timezone, manager_id, status, "
    "skills, languages, topics_wanted, created_at, updated_at) VALUES "
    "(1, 'E1', 'Ann', 'a@x', 2, 'UTC', NULL, 'active', '[\"sql\"]', '[\"en\"]', '[]', 'now', "
    "'now'),"
    "(2, 'E2', 'Bo', 'b@x', 7, 'Asia/Tokyo', 1, 'active', '[]', '[\"en\"]', '[\"sql\"]', 'now', "
    "'now'),"
    "(3, 'E3', 'Cy', 'c@x', 6, 'UTC', NULL, 'leave', '[]', '[]', '[]', 'now', 'now'),"
    "(4, 'E4', 'Di', 'd@x', 3, 'Mars/Olympus', NULL, 'active', '[]', '[]', '[]', 'now', 'now'),"
    "(5, 'E5', 'Ed', 'e@x', 8, 'UTC', NULL, 'active', '[]', '[]', '[]', 'now', 'now'),"
    "(6, 'E6', 'Fa', 'f@x', 9, 'UTC', NULL, 'active', '[]', '[]', '[]', 'now', 'now');"
    "INSERT INTO enrollments (program_id, person_id, role, capacity, consent, created_at) "
    "VALUES (1, 1, 'mentor', 2, 1, 'now'), (1, 2, 'mentee', 1, 1, 'now'),"
    "(1, 3, 'mentee', 1, 1, 'now'), (1, 4, 'both', 3, 1, 'now'),"
    "(1, 5, 'mentee', 1, 0, 'now'), (1, 6, 'mentee', 1, 1, 'now');"
    "INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, created_at) VALUES "
    "(1, 1, 2, 'approved', 0, 'now'), (2, 4, 6, 'ended', 0, 'now'),"
    "(1, 1, 6, 'rejected', 0, 'now'), (1, 1, 5, 'approved', 1, 'now'),"
    "(1, 4, 6, 'proposed', 0, 'now');"
    "INSERT INTO vetoes (program_id, mentor_id, mentee_id, created_at) VALUES (1, 4, 2, 'now');";

#endif

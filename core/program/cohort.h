/*
 * cohort: the first stage of the match pipeline. The people of a program who
 * take part in a run (mentors and mentees with their enrollments), the people
 * around them that the constraints look at (management chains), the pairs kept
 * from earlier decisions, the vetoes and the pairing history; finished into the
 * feature snapshot (feat.h) that the later stages read.
 *
 * Takes: a store and a program (cohort_load), or people and members added by
 * hand (the unit tests, the benchmark driver). Gives: a finished struct cohort.
 * Called by: match_run.c (the pipeline), tandem_match.c, the tests and the
 * benchmark. Calls: feat.h (the snapshot), the store. Read by the later stages:
 * score.c (person tables for the hooks), solve.c, explain.c, matches.c.
 *
 * Rules of cohort_load:
 *  - Mentors are enrollments with role mentor or both (capacity 0 stays listed
 *    but receives nobody); mentees are role mentee or both. Only people with
 *    status 'active' and consent = 1 take part. Mentees are ordered by external
 *    id; every person of the organization is loaded (ordered by id), so that
 *    management chains are complete.
 *  - Kept pairs: matches of the program that are pinned, approved or active.
 *    They stay as they are and consume capacity; one whose person is no longer
 *    enrolled with consent is dropped with a warning.
 *  - History (previously_paired) counts matches with status approved, active or
 *    ended in ANY program (this one included). Proposals and rejected matches do
 *    not: nobody met. cohort_load_except leaves one match row out.
 *  - A person's zone gives the UTC offset at the store's current time.
 *
 * Ownership: every string put into a cohort element is owned (freed) by the
 * cohort. cohort_fini releases everything, also after a failed load.
 */
#ifndef TANDEM_COHORT_H
#define TANDEM_COHORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "program/feat.h"

struct store;

/* JSON fields are the text stored in the database ("[...]", "{...}"); NULL = empty. */
struct cohort_person {
	int64_t id;
	char *external_id, *name, *email, *title, *department, *team, *location, *timezone;
	char *generation;
	int level; /* 0 = unknown */
	int tz_known, tz_offset_min;
	int manager; /* index into people, -1 = none */
	char *languages, *skills, *topics_wanted, *attributes;
};

struct cohort_member {
	int person; /* index into people */
	int64_t enrollment_id;
	char *role; /* "mentor", "mentee", "both" */
	int capacity;
	char *topics_offered, *topics_wanted, *availability, *attributes;
};

/* A pair kept from earlier decisions (pinned, approved or active match). */
struct cohort_kept {
	int mentor, mentee; /* side indexes */
	int64_t match_id;
	int pinned;
};

struct cohort {
	int64_t program_id;
	char *program;
	struct cohort_person *people;
	int npeople;
	size_t cappeople;
	struct cohort_member *mentors, *mentees;
	int nmentors, nmentees;
	size_t capmentors, capmentees;
	struct cohort_kept *kept;
	int nkept;
	size_t capkept;
	int (*history)[2]; /* person index pairs paired before */
	int nhistory;
	size_t caphistory;
	int (*vetoes)[2]; /* (mentor person, mentee person) */
	int nvetoes;
	size_t capvetoes;
	struct feat_snapshot *snap; /* built by cohort_finish */
	uint64_t id;		    /* set by cohort_finish: a digest of the sides, names the
				     * cohort's person tables in the worker's cache */
};

void cohort_init(struct cohort *c);
void cohort_fini(struct cohort *c);

/*
 * Loads the cohort of program PROGRAM_ID (named PROGRAM) from the store and
 * finishes it. c is initialized here; release it with cohort_fini, also when
 * this fails.
 */
int cohort_load(struct store *st, int64_t program_id, const char *program, struct cohort *c,
		struct diag *d);

/* cohort_load, leaving the match row except_match out of the pairing history: explaining
 * an approved or active pair must not find the pair forbidden by its own match
 * (match_run_explain). except_match 0 = cohort_load. */
int cohort_load_except(struct store *st, int64_t program_id, const char *program,
		       int64_t except_match, struct cohort *c, struct diag *d);

/*
 * The cohort of a rematch (`match run --rematch`): new partners only for the people that
 * ended matches freed, every other pair left as it is.
 *  - Mentees: the freed ones (a match of the program ended, for another reason than the
 *    program's end, and they have no approved or active match in it since), plus the
 *    mentees of the kept pairs. Mentees never matched wait for a plain run.
 *  - Mentors: all of them, as in cohort_load; what the kept pairs use is taken from
 *    their capacity, so a mentor's remaining capacity is capacity minus kept pairs.
 *  - Kept: what cohort_load keeps, and the unreviewed proposals of mentees who are not
 *    freed (another pair's pending proposal keeps its capacity).
 *  - Vetoes: the program's vetoes and every ended pair of the program (the former
 *    partner is never proposed again, whatever the policy says of previously_paired).
 */
int cohort_load_rematch(struct store *st, int64_t program_id, const char *program,
			struct cohort *c, struct diag *d);

/* Appends an element (zeroed) and returns it, or NULL when out of memory. The
 * strings put in it are owned (freed) by the cohort. */
struct cohort_person *cohort_add_person(struct cohort *c);
struct cohort_member *cohort_add_member(struct cohort *c, int mentor);
int cohort_add_kept(struct cohort *c, int mentor, int mentee, int64_t match_id, int pinned);
int cohort_add_history(struct cohort *c, int person_a, int person_b);
int cohort_add_veto(struct cohort *c, int mentor_person, int mentee_person);
/* Parses the JSON lists and builds the feature snapshot. */
int cohort_finish(struct cohort *c, struct diag *d);

/* Side index of a person (by people index), or -1. */
int cohort_mentor_of(const struct cohort *c, int person);
int cohort_mentee_of(const struct cohort *c, int person);
/* Index of a people.id in the cohort, or -1. Binary search: the people must have
 * been added in increasing id order, as cohort_load adds them. */
int cohort_person_index(const struct cohort *c, int64_t id);

#endif

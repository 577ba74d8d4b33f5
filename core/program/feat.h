/*
 * feat: the built-in pair features and constraints that matching policies
 * combine. Pure C over a snapshot of the cohort: no SQLite, no Lua, no I/O.
 * (Named feat.h, not features.h: glibc has a <features.h> that every system
 * header includes, and core/ is on the include path.)
 * The prune and features stage of the match pipeline. Callers: cohort.c (builds
 * the snapshot of a cohort), policy.c (feature and constraint names), solve.c
 * (pruning and built-in scores), score.c (the features a hook reads), explain.c,
 * the unit tests and the benchmark driver.
 *
 * A snapshot holds every person of the organization that matters to the cohort
 * (at least the enrolled ones and their management chains), then the two sides:
 * mentors (columns) and mentees (rows), each pointing at a person. Strings
 * (departments, topics, languages, slots) are interned at build time; topic,
 * language and slot sets become bitsets, so a pair costs a few word operations.
 *
 * Lifecycle: feat_snapshot_new, feat_add_* (any order), feat_snapshot_finish
 * (computes the Euler tour of the management forest and the bitsets), then the
 * read-only evaluation functions, which are thread-safe. feat_snapshot_delete.
 *
 * Definitions (documented for policy authors in docs/plugin-api.md):
 *  - level_gap (raw) = mentee level - mentor level. Positive when the mentee is
 *    more senior, which is the usual reverse-mentoring direction. Normalized
 *    feature = raw / 8, in [-1, 1]. Unknown level on either side: raw unknown,
 *    feature 0, and any level_gap requirement fails.
 *  - generation_gap (raw) = generation index of the mentor - of the mentee, with
 *    baby_boomer = 0, gen_x = 1, millennial = 2, gen_z = 3: positive when the
 *    mentor is younger. Normalized = raw / 3, in [-1, 1]. Unknown: as above.
 *  - topic_fit = |offered(mentor) ∩ wanted(mentee)| / |wanted(mentee)|, in [0, 1];
 *    0 when the mentee wants nothing.
 *  - cross_department, cross_location: 1 when both are known and differ, else 0.
 *  - shared_language: 1 when the two share a language, else 0.
 *  - tz_distance (raw) = hours between the two current UTC offsets, measured
 *    round the clock (at most 12). Normalized = raw / 12, in [0, 1].
 *  - availability_overlap = |slots(mentor) ∩ slots(mentee)| / min of the two
 *    set sizes, in [0, 1]; 0 when either side gave no slot.
 *  - Constraints (predicates): reporting_chain (one is the other's direct or
 *    transitive manager), same_department, same_team, same_location (both known
 *    and equal), previously_paired (the two people were paired before in any
 *    program: the loader decides which matches count, see cohort.h).
 *  - A person is never matched with themself, and vetoed pairs are never allowed.
 */
#ifndef TANDEM_FEAT_H
#define TANDEM_FEAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

enum feat_id {
	FEAT_TOPIC_FIT,
	FEAT_LEVEL_GAP,
	FEAT_GENERATION_GAP,
	FEAT_CROSS_DEPARTMENT,
	FEAT_CROSS_LOCATION,
	FEAT_SHARED_LANGUAGE,
	FEAT_TZ_DISTANCE,
	FEAT_AVAILABILITY_OVERLAP,
	FEAT_COUNT
};

enum feat_pred {
	FPRED_REPORTING_CHAIN,
	FPRED_SAME_DEPARTMENT,
	FPRED_SAME_TEAM,
	FPRED_SAME_LOCATION,
	FPRED_PREVIOUSLY_PAIRED,
	FPRED_COUNT
};

/* Why a pair is not allowed: the value feat_check() and feat_score_row() report. */
enum feat_verdict {
	FV_ALLOWED = 0,
	FV_SELF,			      /* same person on both sides */
	FV_VETOED,			      /* an administrator vetoed the pair */
	FV_FORBID,			      /* + enum feat_pred: a forbidden predicate holds */
	FV_REQUIRE = FV_FORBID + FPRED_COUNT, /* + enum feat_pred: a required predicate fails */
	FV_RANGE = FV_REQUIRE + FPRED_COUNT,  /* + enum feat_id: a feature is out of range */
	FV_COUNT = FV_RANGE + FEAT_COUNT
};

const char *feat_name(int id);		/* "topic_fit", ... */
const char *feat_pred_name(int id);	/* "reporting_chain", ... */
int feat_lookup(const char *name);	/* enum feat_id or -1 */
int feat_pred_lookup(const char *name); /* enum feat_pred or -1 */
/* "topic_fit, level_gap, ..." for error messages (static strings). */
const char *feat_names(void);
const char *feat_pred_names(void);
/* A human sentence for a verdict: "forbidden: reporting_chain" ... Static buffer per call site:
 * copy it. */
void feat_verdict_text(int verdict, char *buf, size_t size);

/* The rules a policy declares, in C form. Zero-initialized = no rule, no weight. */
struct feat_rules {
	unsigned forbid; /* bit (1u << enum feat_pred): pairs where it holds are forbidden */
	unsigned
	    require; /* bit (1u << enum feat_pred): pairs where it does not hold are forbidden */
	struct {
		int on;
		double min, max; /* on raw values (level_gap in levels, tz_distance in hours) */
	} range[FEAT_COUNT];
	double weight[FEAT_COUNT]; /* weighted sum of the normalized features */
};

/* One person as the builder sees them. Strings may be NULL or "" (unknown). */
struct feat_person_in {
	int64_t id;		/* the caller's key (people.id) */
	int level;		/* 1..9, 0 = unknown */
	const char *generation; /* baby_boomer | gen_x | millennial | gen_z | NULL */
	const char *department, *team, *location;
	int tz_known;
	int tz_offset_min; /* current UTC offset in minutes, when tz_known */
	const char *const *languages;
	int nlanguages;
};

struct feat_snapshot;

struct feat_snapshot *feat_snapshot_new(void);
void feat_snapshot_delete(struct feat_snapshot *s);

/* Adds a person; returns its index (0, 1, ...) or -1 (diag). */
int feat_add_person(struct feat_snapshot *s, const struct feat_person_in *p, struct diag *d);
/* Records that MANAGER manages PERSON (indexes from feat_add_person). */
int feat_set_manager(struct feat_snapshot *s, int person, int manager, struct diag *d);
/* Adds a mentor (a column) for PERSON; returns the mentor index or -1. */
int feat_add_mentor(struct feat_snapshot *s, int person, int capacity, const char *const *offered,
		    int noffered, const char *const *slots, int nslots, struct diag *d);
/* Adds a mentee (a row) for PERSON; returns the mentee index or -1. */
int feat_add_mentee(struct feat_snapshot *s, int person, const char *const *wanted, int nwanted,
		    const char *const *slots, int nslots, struct diag *d);
/* The two people were paired before (for previously_paired). Symmetric. */
int feat_add_history(struct feat_snapshot *s, int person_a, int person_b, struct diag *d);
/* MENTOR may never be matched with MENTEE (indexes of people). */
int feat_add_veto(struct feat_snapshot *s, int mentor_person, int mentee_person, struct diag *d);
/* Freezes the snapshot: interning done, bitsets built, Euler tour computed. */
int feat_snapshot_finish(struct feat_snapshot *s, struct diag *d);

int feat_nmentors(const struct feat_snapshot *s);
int feat_nmentees(const struct feat_snapshot *s);
int feat_npeople(const struct feat_snapshot *s);
int feat_mentor_person(const struct feat_snapshot *s, int mentor);
int feat_mentee_person(const struct feat_snapshot *s, int mentee);
int feat_mentor_capacity(const struct feat_snapshot *s, int mentor);

/* Predicates on a (mentor, mentee) pair; all O(1) except previously_paired (O(log h)). */
int feat_pred_holds(const struct feat_snapshot *s, int pred, int mentor, int mentee);
/* 1 when person a manages b directly or transitively, or b manages a. O(1). */
int feat_reporting_chain(const struct feat_snapshot *s, int person_a, int person_b);

/*
 * All features of one pair: value[] normalized, raw[] as defined above, known[]
 * 0 when a raw value is undefined (unknown level, generation or zone).
 */
struct feat_values {
	double value[FEAT_COUNT];
	double raw[FEAT_COUNT];
	int known[FEAT_COUNT];
};
void feat_eval(const struct feat_snapshot *s, int mentor, int mentee, struct feat_values *out);

/* The normalized values only (what policy hooks see), faster than feat_eval. */
void feat_values(const struct feat_snapshot *s, int mentor, int mentee, double out[FEAT_COUNT]);

/* The verdict for one pair under the rules (FV_ALLOWED or the first failing reason). */
int feat_check(const struct feat_snapshot *s, const struct feat_rules *r, int mentor, int mentee);

/* The weighted sum of the normalized features for one pair. */
double feat_score(const struct feat_snapshot *s, const struct feat_rules *r, int mentor,
		  int mentee);

/*
 * The hot loop: for mentee ROW, fills scores[0..nmentors) with the weighted
 * built-in score and verdict[0..nmentors) with feat_check()'s verdict (either
 * output may be NULL). Same results as the per-pair functions, much faster.
 */
void feat_score_row(const struct feat_snapshot *s, const struct feat_rules *r, int row,
		    double *scores, uint8_t *verdict);

#endif

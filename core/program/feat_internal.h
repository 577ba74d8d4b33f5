/*
 * feat_internal: the snapshot's layout, shared by the parts of the feat module
 * (feat.c: names and accessors; feat_build.c: building and finishing;
 * feat_eval.c: evaluating pairs and the hot loop). Not for other modules: they
 * use feat.h.
 *
 * Layout: while building, strings are interned and list members are kept as
 * interned ids in one pool; feat_snapshot_finish() turns them into bitsets of
 * `words` 64-bit words per set (one word while there are at most 64 distinct
 * topics, languages or slots, which is the common case the hot loop is
 * specialized for) and lays the mentor side out as parallel arrays, so scoring a
 * row streams through memory once.
 */
#ifndef TANDEM_FEAT_INTERNAL_H
#define TANDEM_FEAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/strmap.h"
#include "program/feat.h"

/*
 * The hot loops count bits. Without -mpopcnt, __builtin_popcountll is a
 * library call; on x86-64 with GCC the hot functions are compiled twice and
 * the loader picks the POPCNT version when the CPU has it (ifunc).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__POPCNT__) &&     \
    !defined(__SANITIZE_ADDRESS__)
#define FEAT_HOT __attribute__((target_clones("popcnt", "default")))
#else
#define FEAT_HOT
#endif

/* A list of interned ids kept in the pool while building. */
struct idlist {
	int off, n;
};

struct person {
	int64_t id;
	int level, gen, dept, team, loc;
	int tz_known, tz_off;
	int manager;
	struct idlist langs;
	int as_mentor, as_mentee; /* side index or -1 */
};

struct member {
	int person, capacity;
	struct idlist topics, slots;
};

struct feat_snapshot {
	struct strmap cat, topics, langs, slots; /* interned name -> id (0, 1, ...) */
	int *pool;
	int npool;
	size_t cappool;

	struct person *people;
	int npeople;
	size_t cappeople;
	struct member *mentors, *mentees;
	int nmentors, nmentees;
	size_t capmentors, capmentees;
	uint64_t *history; /* keys (min << 32 | max) of person pairs, sorted after finish */
	int nhistory;
	size_t caphistory;
	int64_t *vetoes; /* (mentor_person << 32 | mentee_person) */
	int nvetoes;
	size_t capvetoes;

	int finished;
	int tw, lw, sw; /* words per topic, language and slot set */
	int *tin, *tout;
	uint64_t *plang; /* npeople * lw */
	/* Mentor side, parallel arrays (columns). */
	int *c_person, *c_level, *c_gen, *c_dept, *c_team, *c_loc, *c_tzk, *c_tz, *c_tin, *c_tout;
	int *c_nslots;
	uint64_t *c_offered, *c_lang, *c_slots;
	/* Mentee side. */
	uint64_t *r_wanted, *r_slots;
	int *r_nwanted, *r_nslots;
	/*
	 * Per mentee, the mentors it must not meet for a reason that is not a
	 * function of attributes: CSR, sorted by mentor; excl_kind is FV_VETOED or
	 * FV_FORBID + FPRED_PREVIOUSLY_PAIRED (a veto wins when both apply).
	 */
	int *excl_ptr, *excl_col;
	uint8_t *excl_kind;
	/* The mentor side again, one cache line per mentor, when every set fits one word. */
	struct col1 *cols1;
};

/*
 * A mentor for the one-word fast path. tz is the offset in minutes, or
 * TZ_UNKNOWN; level 0 and gen/dept/team/loc -1 mean unknown, as elsewhere.
 */
struct col1 {
	uint64_t offered, lang, slots;
	int32_t level, gen, dept, team, loc, tz, tin, tout, person, nslots;
};

enum { TZ_UNKNOWN = -100000 };

/* The key of an unordered pair of people (history): min << 32 | max. */
static inline uint64_t
pair_key(int a, int b)
{
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	return (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
}

/* qsort/bsearch order of history keys. */
static inline int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#endif

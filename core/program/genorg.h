/*
 * genorg: synthetic, deterministic organizations and sign-up surveys.
 *
 * Called by: `tandem gen-org` (core/cli/cmd_genorg.c), the unit tests, and the
 * benchmarks that need a realistic cohort (import, matching) without real data.
 *
 * Contract:
 *  - genorg_new() builds an org of 1..GENORG_MAX_PEOPLE people in memory from a
 *    seed. The same (people, seed) gives the same org on every machine: the only
 *    randomness is our own xoshiro256** stream, and nothing depends on floating
 *    point, the locale, the clock or the platform's rand().
 *  - The org is a tree: person 0 is the CEO (level 9); everyone else has a
 *    manager with a strictly higher level and a smaller index (people are listed
 *    breadth-first, so a manager always comes before their reports). Levels:
 *    9 CEO, 8 VP, 7 director, 6 senior manager, 5 manager, 1..4 individual
 *    contributors; in large orgs some level-4 people lead level 1..3 teams.
 *    Spans of control are 5..10 below the CEO once the org is big enough; the
 *    CEO has one report per department head (up to ~15 in a million-person org).
 *  - Each direct report of the CEO heads a department that their subtree
 *    inherits. Names are unique (middle initials disambiguate repeats) and so
 *    are e-mails (first.last@example.com, a number appended on repeats).
 *  - genorg_format() turns person i into the 17 text fields of the people CSV
 *    (genorg_columns), ready for csv_write_row(). No I/O happens here.
 *  - genorg_survey_new() draws the sign-up survey of a reverse-mentoring program
 *    from an org: deterministic for (org, program name, size).
 */
#ifndef TANDEM_GENORG_H
#define TANDEM_GENORG_H

#include <stdint.h>

#include "base/diag.h"

enum {
	GENORG_MAX_PEOPLE = 1000000,
	GENORG_NCOLS = 17,
	GENORG_SURVEY_NCOLS = 7,
	GENORG_NTOPICS = 26,
	GENORG_NSLOTS = 10, /* mon-am .. fri-pm */
	GENORG_ROW_BUF = 1024,
};

enum genorg_generation { GENORG_BABY_BOOMER, GENORG_GEN_X, GENORG_MILLENNIAL, GENORG_GEN_Z };

enum genorg_status { GENORG_ACTIVE, GENORG_LEAVE, GENORG_TERMINATED };

/* The three families of the shared topic vocabulary. */
enum genorg_topic_kind { GENORG_DIGITAL, GENORG_INCLUSION, GENORG_SENIOR };

enum genorg_role { GENORG_MENTOR, GENORG_MENTEE, GENORG_BOTH };

struct genorg_opts {
	long people;   /* 1..GENORG_MAX_PEOPLE */
	uint64_t seed; /* any value */
};

/* One generated person, in structured form (genorg_format gives the text). */
struct genorg_person {
	int32_t manager;      /* index of the manager; -1 for the CEO */
	int32_t team;	      /* index into the org's team table */
	int32_t reports;      /* number of direct reports */
	uint32_t name_dup;    /* 0 for the first holder of this first+last name, then 1, 2, ... */
	uint32_t skills;      /* bit t set: can teach topic t */
	uint32_t wanted;      /* bit t set: wants to learn topic t */
	uint32_t languages;   /* bit l set: speaks language l (genorg_language_code) */
	uint16_t first, last; /* indices into the built-in name tables */
	uint16_t birth_year;
	uint16_t hire_year;
	uint8_t hire_month, hire_day;
	uint8_t level;	    /* 1..9 */
	uint8_t department; /* genorg_department_name() index */
	uint8_t location;   /* genorg_location_name() index */
	uint8_t generation; /* enum genorg_generation */
	uint8_t status;	    /* enum genorg_status */
	uint8_t area;	    /* the department's area this person works in (team naming) */
};

/* One survey answer. Lists are topic bit masks like the person's. */
struct genorg_enrollment {
	int32_t person;	       /* index into the org */
	uint8_t role;	       /* enum genorg_role */
	uint8_t capacity;      /* mentors and `both`: 1..3; mentees: 0 (written as an empty cell) */
	uint8_t consent;       /* 1 yes, 0 no */
	uint16_t availability; /* bit s set: slot s (genorg_slot_name) */
	uint32_t offered;      /* subset of the person's skills */
	uint32_t wanted;       /* subset of the person's topics_wanted */
};

/* The text of one CSV record; fields point into buf or at static strings. */
struct genorg_row {
	const char *field[GENORG_NCOLS];
	char buf[GENORG_ROW_BUF];
};

struct genorg;
struct genorg_survey;

/* The people CSV header and the survey CSV header, in column order. */
extern const char *const genorg_columns[GENORG_NCOLS];
extern const char *const genorg_survey_columns[GENORG_SURVEY_NCOLS];

/* Builds an org; NULL with DIAG_INVALID (bad size) or DIAG_NOMEM. */
struct genorg *genorg_new(const struct genorg_opts *opts, struct diag *d);
void genorg_delete(struct genorg *g);

long genorg_count(const struct genorg *g);
const struct genorg_person *genorg_person(const struct genorg *g, long i);

/* Fills row with the 17 fields of person i; -1 (DIAG_INTERNAL) only if a field would not fit. */
int genorg_format(const struct genorg *g, long i, struct genorg_row *row, struct diag *d);

/*
 * The survey of program `program` (any non-empty name; it seeds the draw): size
 * people (0 = about 40% of the org; more than the org is DIAG_INVALID), listed in
 * org order. Juniors mostly sign up as mentors, seniors as mentees, a few as both;
 * mentor capacities are balanced to 1.15..1.30 times the number of mentees when
 * the sign-ups allow it.
 */
struct genorg_survey *genorg_survey_new(const struct genorg *g, const char *program, long size,
					struct diag *d);
void genorg_survey_delete(struct genorg_survey *s);

long genorg_survey_count(const struct genorg_survey *s);
const struct genorg_enrollment *genorg_survey_entry(const struct genorg_survey *s, long i);

/* Fills the first GENORG_SURVEY_NCOLS fields of row with survey answer i. */
int genorg_survey_format(const struct genorg_survey *s, long i, struct genorg_row *row,
			 struct diag *d);

/* Vocabulary, for tests and tools: names by index, NULL when out of range. */
const char *genorg_topic_name(int t);
int genorg_topic_kind(int t); /* enum genorg_topic_kind, -1 when out of range */
const char *genorg_department_name(int i);
const char *genorg_location_name(int i);
const char *genorg_location_zone(int i);
const char *genorg_language_code(int i);
const char *genorg_generation_name(int i);
const char *genorg_slot_name(int i);

/* The generation a birth year belongs to (<=1964 boomer, <=1980 X, <=1996 millennial, Z). */
int genorg_generation_of(int birth_year);

#endif

/*
 * enroll: importing a program's enrollments (the sign-up survey) from CSV,
 * all-or-nothing, upserting by (program, person).
 *
 * Called by: cli/cmd_enroll.c (`tandem import enrollments`), tests, embedders.
 *
 * Contract:
 *  - Columns, named in the header in any order, case-insensitively (`map`
 *    renames header columns: "Employee=person"): person (external id or e-mail
 *    of a person in the database; required), role (mentor | mentee | both;
 *    required), capacity (integer 0..1000; empty = 1), topics_offered,
 *    topics_wanted, availability (';'-separated lists; slots are DAY-PART with
 *    DAY mon..sun and PART am | pm | eve, e.g. "mon-am;wed-pm"), consent (yes | no
 *    | true | false | 1 | 0, any case; required), leaderboard (the same values;
 *    optional, empty = no; without the column an update keeps the stored value:
 *    consent to appear on reward leaderboards). Any other column goes into the
 *    enrollment's attributes JSON object. Cells are trimmed.
 *  - In reverse mentoring juniors enroll as mentors: nothing checks seniority.
 *  - Errors, each "FILE:LINE:COLUMN: field: message": unknown person, person
 *    terminated (on leave is accepted; matching only takes active people), the
 *    same person twice (naming the first line), bad role,
 *    capacity not an integer in range, bad consent, bad slot, bad CSV. All are
 *    collected (the first ENROLL_ERRORS_KEPT kept); with any error nothing is
 *    written.
 *  - A topic that the program does not declare (when o->topics is given and not
 *    empty) is accepted with a warning in res->warnings: programs evolve, and the
 *    survey may run ahead of the config.
 *  - Otherwise one BEGIN IMMEDIATE transaction upserts every row and appends an
 *    'enrollments.imported' event (counts only). People of the program absent
 *    from the file keep their enrollment.
 */
#ifndef TANDEM_ENROLL_H
#define TANDEM_ENROLL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

enum { ENROLL_ERRORS_KEPT = 1000 };

struct enroll_opts {
	const char *const *map; /* "COLUMN=FIELD" entries */
	int nmap;
	int dry_run;
	const char *encoding; /* NULL: UTF-8 (or UTF-16 by its byte order mark); else an iconv name */
	int delimiter;        /* ',', ';', '\t', or 0 (the default for a zeroed struct) to detect it */
	const char *actor;
	const char *const *topics; /* the program's declared topics, for warnings; may be NULL */
	int ntopics;
};

struct enroll_result {
	long total, created, updated;
	long mentors, mentees; /* rows by side (both counts on each) */
	long nerrors;
	char **errors; /* first min(nerrors, ENROLL_ERRORS_KEPT), in file order */
	int nkept;
	char **warnings;
	int nwarnings;
};

int enroll_import(struct store *st, int64_t program_id, FILE *f, const char *name,
		  const struct enroll_opts *o, struct enroll_result *res, struct diag *d);
int enroll_import_file(struct store *st, int64_t program_id, const char *path,
		       const struct enroll_opts *o, struct enroll_result *res, struct diag *d);
void enroll_result_fini(struct enroll_result *res);

/* A page of a program's enrollments by person external id, after `after` (NULL or "": from
 * the first), at most limit (<= 0: all): [{person, name, role, capacity, topics_offered,
 * topics_wanted, availability, consent, attributes, created_at}] (people_read.c). */
json_t *enroll_page_json(struct store *st, int64_t program_id, const char *after, int limit,
			 struct diag *d);

/* Parses a consent cell: 1 yes, 0 no, -1 not a consent value. */
int enroll_parse_consent(const char *s);
/* 1 when s is a valid availability slot ("mon-am"). */
int enroll_valid_slot(const char *s);

#endif

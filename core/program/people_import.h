/*
 * people_import: the internals of people_import(), shared by the modules that carry out
 * its steps. Not part of people.h: only core/program/people_*.c include it.
 *
 * An import runs as
 *   people_import.c  the driver: sizes the buffers from the file, runs the steps below,
 *                    sorts and reports the errors, logs the time of each phase;
 *   people_csv.c     reads the header and the rows, checks each value, indexes the ids
 *                    and e-mails of the file (duplicates);
 *   people_check.c   one scan of the people table: who exists and which of their values
 *                    the file changes; e-mails held by others, managers, manager cycles;
 *   people_write.c   one transaction of multi-row INSERTs and per-shape UPDATEs, the
 *                    people.imported event, then the checkpoint.
 * The memory they share comes from base/: the rows from pages (large zeroed mappings),
 * every string from one arena, the maps are strmaps.
 *
 * Contract between the steps: a problem with the file is recorded with people_err() (or
 * people_err_add()) in the result and the step goes on, so one run reports every problem;
 * a step returns -1 with the diag set only for what stops the import (out of memory, I/O,
 * the database). Strings of the import live in im->arena until pimport is finished.
 */
#ifndef TANDEM_PEOPLE_IMPORT_H
#define TANDEM_PEOPLE_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/strmap.h"
#include "io/csv.h"
#include "program/people.h"

/* ---- fields ------------------------------------------------------------------------------ */

enum pfield {
	PF_ID,
	PF_NAME,
	PF_EMAIL,
	PF_TITLE,
	PF_LEVEL,
	PF_DEPARTMENT,
	PF_TEAM,
	PF_LOCATION,
	PF_TIMEZONE,
	PF_MANAGER,
	PF_BIRTH_YEAR,
	PF_GENERATION,
	PF_HIRE_DATE,
	PF_STATUS,
	PF_SKILLS,
	PF_TOPICS,
	PF_LANGUAGES,
	PF_COUNT
};

/* The bit of the attributes in field masks (bits 0..PF_COUNT-1 are the fields). */
enum { PF_ATTRS = PF_COUNT };

/* The name of each field in files and messages ("id", "birth_year", ...). */
extern const char *const people_field_name[PF_COUNT];

/* The people column each field is stored in (external_id for id, manager_id for manager). */
extern const char *const people_field_column[PF_COUNT];

/* ---- memory and timings ------------------------------------------------------------- */

/* The maps of an import hold ints (a row, a node, 0/1, an index) in base/strmap.h's num,
 * keyed by strings in the import's arena or rows. The value of key, -1 when absent. */
static inline int
people_map_get(const struct strmap *m, const char *key)
{
	const struct strmap_entry *e = strmap_get(m, key);
	return e != NULL ? (int)e->num : -1;
}

/* Inserts key -> val unless key is present; the existing value, -1 if inserted, -2 on OOM. */
static inline int
people_map_put(struct strmap *m, const char *key, int val)
{
	int added = 0;
	struct strmap_entry *e = strmap_intern(m, key, &added, NULL);
	if (e == NULL)
		return -2;
	if (!added)
		return (int)e->num;
	e->num = val;
	return -1;
}

/* Where an import spends its time, logged at debug level (TANDEM_DEBUG=1 for the CLI):
 * wall and CPU seconds of each phase, so a slow import can be explained without a profiler. */
struct people_times {
	struct timespec wall, cpu;
	char text[320];
	size_t len;
};

/* In people_import.c. */
void people_times_start(struct people_times *t);
/* Closes the current phase under the given name and starts the next one. */
void people_times_mark(struct people_times *t, const char *phase);

/* ---- the import -------------------------------------------------------------------------- */

struct prow {
	const char *v[PF_COUNT]; /* trimmed text (lists as JSON); NULL = empty cell */
	const char *attrs;       /* JSON object of the unmapped columns, NULL when none */
	int line;
	int *fline;              /* physical line of each field; NULL when all are on `line` */
	long long db_id;         /* existing person updated by this row, 0 = new */
	long long db_mgr;        /* that person's manager_id in the database, 0 = none */
	int mgr;                 /* node of the manager, -1 = none */
	unsigned char damaged;   /* a CSV error: only its id is used (to resolve managers) */
	unsigned char email_moves; /* an existing person whose e-mail changes (beyond letter case) */
	unsigned char same;      /* an existing person who already has every value of the row */
	unsigned changed;        /* for an existing person: bit f = field f differs, PF_ATTRS too */
};

/* A person in the database that the file does not mention: a node of the manager graph. */
struct pdb {
	long long id, manager_id;
	const char *external_id;
	int mgr; /* node, -1 = none */
};

/*
 * The import context: everything one people_import() call owns (no process-wide state).
 * Nodes of the manager graph are the file's rows (0 .. nrows-1), then the database people
 * the file does not mention (nrows + k for db[k]).
 */
struct pimport {
	struct store *st;
	const char *name;
	const struct people_import_opts *o;
	struct people_import_result *res;
	struct arena arena;        /* the strings of the import: cells, keys, JSON */

	int ncols;
	int *colfield;           /* header column -> field, -1 = attribute, -2 = ignored */
	const char **colname;    /* header names as written (attribute keys) */
	int fieldcol[PF_COUNT];  /* field -> header column, -1 = absent */
	int nattr;               /* attribute columns */

	struct prow *rows;
	int nrows, caprows;
	struct strmap ids, emails; /* file: external id / lower-case e-mail -> row */
	struct strmap zones;       /* time zones already checked in this file (1 = valid) */
	struct strmap lists;       /* list cells already converted -> index into list_json */
	const char **list_json;
	int nlist, caplist;
	struct pdb *db;            /* database people not in the file: node nrows + k */
	int ndb;
	struct strmap dbext, dbemail; /* database people: external id / lower-case e-mail -> node */
	long long max_id;
	int64_t data_version;
	int this_year;
	struct people_times times;
};

/* ---- reading and errors (people_csv.c) --------------------------------------------------- */

/* Records one ready-made message (a CSV reader's "FILE:LINE:COL: ..."). */
void people_err_add(struct pimport *im, const char *msg);

/* Records "FILE:LINE:COL: field: message" (field may be NULL). */
void people_err(struct pimport *im, int line, int col, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The physical line of a row's field: records with line breaks in quoted cells span lines. */
int people_fline(const struct prow *r, int f);

/* Errors at a row's field: its column and its physical line. */
#define PEOPLE_ERR_F(im, r, f, ...)                                                         \
	people_err(im, people_fline(r, f), (im)->fieldcol[f] + 1, people_field_name[f],     \
		   __VA_ARGS__)

/* Quotes a value for a message into buf: at most 60 bytes, cut on a UTF-8 boundary. */
const char *people_quote(const char *v, char *buf, size_t size);

/* Lower-cases ASCII letters in place (e-mail keys, enumerations). */
void people_lower(char *s);

/* Sorts the kept errors by line, then column, then arrival. 0, or -1 when out of memory. */
int people_err_sort(struct pimport *im, struct diag *d);

/* Grows the row array to cap rows (zeroed beyond nrows); 0 or -1. */
int people_reserve_rows(struct pimport *im, size_t cap);

/* Reads the header and every row. 0 (problems with the file are recorded), -1 + diag. */
int people_read_all(struct pimport *im, struct csv_reader *r, struct diag *d);

/* ---- the database side (people_check.c) -------------------------------------------------- */

/* Does an update of an existing person set this field? */
int people_field_written(const struct pimport *im, int f);

/* One scan of people: who exists, their e-mails, managers and what the file changes. */
int people_load_db(struct pimport *im, struct diag *d);

/* Cross-row checks against the database; problems are recorded. */
void people_check_db_emails(struct pimport *im);
void people_resolve_managers(struct pimport *im);
int people_check_cycles(struct pimport *im, struct diag *d);

/* Settles which existing people the file leaves as they are (not written at all). */
void people_mark_unchanged(struct pimport *im);

/* ---- the write (people_write.c) ---------------------------------------------------------- */

/* Writes the checked import in one transaction (see people.h), then checkpoints. */
int people_write(struct pimport *im, struct diag *d);

#endif

/*
 * people: importing people from CSV (all-or-nothing upsert), reading them back,
 * exporting everything stored about one person, and erasing a person for good.
 *
 * Called by: cli/cmd_people.c (`tandem import people`, `tandem people ...`), tests,
 * and embedders.
 *
 * Implemented by: people_import.c (the import's driver, with people_csv.c, people_check.c
 * and people_write.c; see people_import.h), people_read.c (listing, show, export) and
 * people_erase.c (erasure and pseudonyms).
 *
 * Import contract:
 *  - The header names columns in any order, case-insensitively; `map` renames header
 *    columns to fields ("Employee ID=id"). Fields: id, name, email, timezone (required),
 *    title, level (1..9), department, team, location, manager (external id or e-mail of a
 *    person in the file or the database), birth_year, generation (derived from
 *    birth_year when absent), hire_date (YYYY-MM-DD), status (active|leave|terminated),
 *    skills, topics_wanted, languages (';'-separated lists, stored as JSON arrays).
 *    Other columns go into the attributes JSON object. Cells are trimmed; an empty cell
 *    is NULL or the default.
 *  - People are matched by external id: existing ones are updated (columns absent from
 *    the file keep their values), others inserted. An existing person whose stored values
 *    already equal the file's is left alone (not written, updated_at kept) and counted as
 *    unchanged.
 *  - Everything is validated before anything is written. Every problem becomes one
 *    "FILE:LINE:COLUMN: field: message" in the result (all are counted, the first
 *    PEOPLE_ERRORS_KEPT kept, sorted by line); with any error nothing is written, not even
 *    a transaction begun. Otherwise one transaction writes all rows and a
 *    'people.imported' event (counts only: file, total, created, updated, and unchanged
 *    when there are some), or rolls back on any failure. The WAL is then checkpointed
 *    into the database file once (PASSIVE: a concurrent reader may defer part of it).
 *    Called inside a caller's transaction (store.h, "Composing transactions"), the import
 *    is one level of it: its failure rolls back only its own level, and the checkpoint is
 *    left to whoever commits the outermost level.
 *  - If another process changes the database between validation and the write, the
 *    import fails with DIAG_CONFLICT and changes nothing (run it again).
 *
 * Erase contract: deletes the person and every row about them (cascades), sets their
 * reports' manager to NULL, scrubs the payload of events about them (subject_id stays),
 * appends a 'people.erased' event carrying only a pseudonym, with secure_delete on, then
 * checkpoints the WAL (TRUNCATE) and vacuums when the e-mail's bytes are still in the file.
 * It needs a transaction of its own (no checkpoint or VACUUM inside one): called inside a
 * caller's transaction it fails with DIAG_INTERNAL and changes nothing. The workspace's
 * files and the outbox rows of others that name the person are privacy/erase.h's work
 * (through people_erase_rows_with's hook); `tandem people erase` goes through it.
 */
#ifndef TANDEM_PEOPLE_H
#define TANDEM_PEOPLE_H

#include <stdio.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

/* The generations people.generation may hold, oldest first. */
enum { PEOPLE_NGENERATIONS = 4 };
extern const char *const people_generations[PEOPLE_NGENERATIONS];

/* The generation index (into people_generations) of a birth year: the rule the
 * importer applies when a file gives birth_year but no generation. */
int people_generation_of(int birth_year);

enum { PEOPLE_ERRORS_KEPT = 1000 };

struct people_import_opts {
	const char *const *map; /* "COLUMN=FIELD" entries */
	int nmap;
	int dry_run;            /* validate and count, write nothing */
	const char *encoding;   /* NULL: UTF-8 (or UTF-16 by its byte order mark); else an iconv name */
	int delimiter;          /* ',', ';', '\t', or 0 to detect it from the header */
	const char *actor;      /* recorded in the event; may be NULL */
	/* Called during the write with rows done so far; may be NULL. */
	void (*progress)(void *ud, long done, long total);
	void *progress_ud;
};

struct people_import_result {
	long total;   /* people in the file */
	long created; /* would be / were inserted */
	long updated; /* would be / were updated (at least one stored value changes) */
	long unchanged; /* already in the database with every value of the file: not written */
	long nerrors; /* validation errors found (all of them) */
	char **errors; /* the first min(nerrors, PEOPLE_ERRORS_KEPT), sorted by line and column */
	int nkept;
};

/*
 * Imports people from f; name is the file name used in messages. 0 on success (or a clean
 * dry run). -1 on failure: with validation errors, res->nerrors > 0 and d says how many;
 * otherwise d explains (I/O, database). Call people_import_result_fini() in both cases.
 */
int people_import(struct store *st, FILE *f, const char *name, const struct people_import_opts *o,
		  struct people_import_result *res, struct diag *d);

/* Opens path and imports it, naming it as given in messages. */
int people_import_file(struct store *st, const char *path, const struct people_import_opts *o,
		       struct people_import_result *res, struct diag *d);

void people_import_result_fini(struct people_import_result *res);

/* Every person, ordered by external id, as an array of objects with every field
 * (lists as arrays, attributes as an object, manager as the manager's external id). */
json_t *people_list_json(struct store *st, struct diag *d);

/* A page of people_list_json's rows: external ids after `after` (NULL or "": from the
 * first), at most limit (<= 0: all), in the same order. */
json_t *people_page_json(struct store *st, const char *after, int limit, struct diag *d);

/* One person by external id or e-mail: all fields plus "manager": {"id", "name"} or null.
 * NULL with DIAG_NOTFOUND when there is no such person. */
json_t *people_show_json(struct store *st, const char *key, struct diag *d);

/* Every row about one person in every table, keyed by table name. */
json_t *people_export_json(struct store *st, const char *key, struct diag *d);

/* The end_reason of the matches an erasure ends. */
#define PEOPLE_ERASE_REASON "partner erased"

struct people_erase_result {
	char external_id[256];
	char pseudonym[17];  /* 16 hex digits */
	long rows;           /* rows deleted in all tables, the person included */
	long events_scrubbed;
	long reports_detached; /* people whose manager it was */
	long matches_ended;    /* approved or active matches ended (PEOPLE_ERASE_REASON) */
	long sessions_cancelled; /* their later planned sessions, cancelled */
	int vacuumed;
	int checkpointed;    /* 0 when another connection kept the WAL from being truncated */
};

/* Erases one person (external id or e-mail). 0, or -1 with DIAG_NOTFOUND / DIAG_DB
 * (DIAG_INTERNAL inside an open transaction). */
int people_erase(struct store *st, const char *key, struct people_erase_result *res,
		 struct diag *d);

/*
 * Who is being erased, as the erasure's transaction read them, for a hook.
 */
struct people_erased {
	long long id; /* people.id */
	const char *external_id, *name, *email, *pseudonym;
};

/*
 * people_erase in two halves, for a caller with more to erase than rows (privacy/erase:
 * files, certificate tombstones). people_erase_rows_with runs the transaction with hook
 * (may be NULL) called inside it, after the person is identified and before any row
 * changes; a hook's failure rolls the whole erasure back. It leaves the data in the WAL
 * and the free pages: the caller must call people_erase_flush(email) once its own writes
 * are done. people_erase is the two with no hook.
 */
typedef int (*people_erase_hook)(struct store *st, const struct people_erased *who, void *ud,
				 struct diag *d);
int people_erase_rows_with(struct store *st, const char *key, people_erase_hook hook, void *ud,
			   struct people_erase_result *res, struct diag *d);
/* Checkpoints and truncates the WAL, vacuums when email's bytes are still in the file (so
 * freed pages holding it go), sets res->checkpointed and res->vacuumed. Outside a
 * transaction. */
int people_erase_flush(struct store *st, const char *email, struct people_erase_result *res,
		       struct diag *d);

/* Pseudonym of an erased person: first 16 hex digits of SHA-256(salt || external_id)
 * (base/sha256.h). Returns 0: it allocates nothing, so it cannot fail. */
int people_pseudonym(const unsigned char *salt, size_t saltlen, const char *external_id,
		      char out[17]);

#endif

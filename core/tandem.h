/*
 * tandem.h: the public embedding API of libtandem, the only installed header.
 *
 * An IT team links libtandem into its own system (`pkg-config --cflags --libs
 * tandem`) to open a workspace database, import people, read them back, erase a
 * person, and call the matching primitive, with the same code and the same
 * all-or-nothing guarantees as the `tandem` command line.
 *
 * Conventions: functions return 0 (or a pointer) on success and -1 (or NULL) on
 * failure, filling *err (which may be NULL) with a code and a message that names
 * its context ("people.csv:12:3: email: ..."). The library never prints and never
 * exits; it logs through the handler installed with tandem_set_log_handler().
 * Strings returned to the caller are malloc'd: release them with tandem_free().
 * One struct tandem belongs to one thread at a time.
 */
#ifndef TANDEM_H
#define TANDEM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes (same values as the core's diagnostics). */
enum tandem_code {
	TANDEM_OK = 0,
	TANDEM_EINVALID,  /* bad input: a file, an argument, a value */
	TANDEM_ENOTFOUND, /* a named thing does not exist */
	TANDEM_ECONFLICT, /* duplicate, or a state that does not allow it */
	TANDEM_EIO,       /* the operating system said no */
	TANDEM_EDB,       /* SQLite failed */
	TANDEM_ENOMEM,    /* out of memory */
	TANDEM_EPLUGIN,   /* a plugin failed or ran out of budget */
	TANDEM_EINTERNAL, /* a bug */
};

struct tandem_error {
	int code;
	char message[1024];
};

enum tandem_log_level { TANDEM_LOG_DEBUG, TANDEM_LOG_INFO, TANDEM_LOG_WARN, TANDEM_LOG_ERROR };

/* The library version, "MAJOR.MINOR.PATCH". */
const char *tandem_version(void);

/* Installs the process-wide log sink (NULL drops log lines). */
void tandem_set_log_handler(void (*fn)(void *ud, int level, const char *message), void *ud);

/* Frees a string or array returned by this API. */
void tandem_free(void *p);

/* ---- Workspace database ------------------------------------------------- */

struct tandem;

/*
 * Opens the workspace database at db_path (a workspace's tandem.db), applying
 * pending schema migrations. create = 1 creates it when missing. A database from
 * a newer tandem is refused.
 */
struct tandem *tandem_open(const char *db_path, int create, struct tandem_error *err);
void tandem_close(struct tandem *t);

/* ---- People ------------------------------------------------------------- */

struct tandem_import_summary {
	long total;   /* people in the file */
	long created; /* inserted (or would be, on a dry run) */
	long updated; /* updated (or would be) */
	long unchanged; /* already stored with every value of the file: not written */
	long errors;  /* validation errors; nothing was written when > 0 */
};

/*
 * Imports people from an RFC 4180 CSV file (see docs/cli.md for the columns),
 * all-or-nothing. Each validation error is passed to on_error (may be NULL) as
 * "FILE:LINE:COLUMN: field: message". Returns -1 when anything was invalid or
 * failed; then the database is unchanged.
 */
int tandem_import_people(struct tandem *t, const char *csv_path, int dry_run,
			 struct tandem_import_summary *summary,
			 void (*on_error)(void *ud, const char *message), void *ud,
			 struct tandem_error *err);

/* Every person as a JSON array of objects (malloc'd; tandem_free it). */
char *tandem_people_json(struct tandem *t, struct tandem_error *err);

/* Every row about one person (external id or e-mail) as a JSON object. */
char *tandem_person_export_json(struct tandem *t, const char *person, struct tandem_error *err);

/* Erases one person everywhere; the audit log keeps a pseudonymous tombstone. */
int tandem_person_erase(struct tandem *t, const char *person, struct tandem_error *err);

/* ---- Matching primitive ------------------------------------------------- */

/*
 * Optimal assignment on a caller-owned nr x nc row-major matrix of doubles
 * (never copied): maximum cardinality first, then the best total (maximize = 1:
 * highest). forbidden (optional nr*nc bytes, nonzero = never chosen); capacity
 * (optional, nc entries: mentees per mentor; NULL = 1 each). Fills row_to_col
 * (nr entries, -1 = unmatched) and *total. NaN or infinite scores are an error.
 */
int tandem_assign(const double *scores, int nr, int nc, const unsigned char *forbidden,
		  const int *capacity, int maximize, int *row_to_col, double *total,
		  struct tandem_error *err);

#ifdef __cplusplus
}
#endif

#endif

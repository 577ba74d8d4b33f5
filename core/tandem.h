/*
 * tandem.h: the public embedding API of libtandem, the only installed header.
 *
 * An IT team links libtandem into its own system (`pkg-config --cflags --libs
 * tandem`) to do what the `tandem` command line does, with the same code and the
 * same all-or-nothing guarantees: open a workspace, import people and enrollments
 * (from a file or from memory), load a matching policy (by name, from a file or
 * from a string), run a match (dry or stored) and read the proposals with their
 * per-feature explanations, list a program's matches, erase a person. The
 * matching primitive (optimal assignment on a score matrix) is there too.
 * docs/embedding.md is the guide; this header is the reference.
 *
 * Conventions:
 *  - Functions return 0 (or a pointer) on success and -1 (or NULL) on failure,
 *    filling *err (which may be NULL) with a code and a message that names its
 *    context ("people.csv:12:3: email: ...", "policies/x.lua:4: ..."). On success
 *    err->code is TANDEM_OK and err->message is empty.
 *  - A NULL handle, program or path argument is TANDEM_EINVALID, never a crash.
 *  - Ownership: strings returned as `char *` are the caller's: release them with
 *    tandem_free(). Objects returned by a *_load / *_run / tandem_open function are
 *    the caller's: release each with its *_free / tandem_close. Pointers returned
 *    as `const` (names, proposals, features) belong to the object they came from
 *    and stay valid until that object is released.
 *  - Structures returned by pointer are read-only views. New fields may be
 *    appended to them in a later minor version (never removed or reordered), so do
 *    not allocate them yourself or copy them by value; struct tandem_error and
 *    struct tandem_import_summary are the only ones the caller allocates.
 *  - Threads: a handle, and everything obtained through it, belongs to one thread
 *    at a time; use one handle per thread. Install the log handler before starting
 *    threads that use the library.
 *  - The library never prints and never exits; it logs through the handler
 *    installed with tandem_set_log_handler(). Policies are untrusted Lua: each
 *    runs in a worker process of its own, sandboxed, with instruction, memory
 *    and time budgets (docs/plugin-api.md); none of it runs in your process.
 */
#ifndef TANDEM_H
#define TANDEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this header. CMake reads these three lines as the project
 * version (library SONAME, tandem.pc, `tandem --version`), so they are the one
 * place a release bumps.
 */
#define TANDEM_VERSION_MAJOR 0
#define TANDEM_VERSION_MINOR 1
#define TANDEM_VERSION_PATCH 0

#define TANDEM_STRINGIFY_(x) #x
#define TANDEM_STRINGIFY(x) TANDEM_STRINGIFY_(x)
/* "MAJOR.MINOR.PATCH" */
#define TANDEM_VERSION_STRING                                                      \
	TANDEM_STRINGIFY(TANDEM_VERSION_MAJOR)                                     \
	"." TANDEM_STRINGIFY(TANDEM_VERSION_MINOR) "." TANDEM_STRINGIFY(TANDEM_VERSION_PATCH)

/* Marks the exported functions: libtandem is built with -fvisibility=hidden, so
 * nothing else leaves the shared library. */
#if defined(__GNUC__) || defined(__clang__)
#define TANDEM_API __attribute__((visibility("default")))
#else
#define TANDEM_API
#endif

/* ---- Errors, version, logging ----------------------------------------------- */

/* Error codes. */
enum tandem_code {
	TANDEM_OK = 0,
	TANDEM_EINVALID,  /* bad input: a file, an argument, a value */
	TANDEM_ENOTFOUND, /* a named thing does not exist (program, person, policy) */
	TANDEM_ECONFLICT, /* duplicate, or a state that does not allow it */
	TANDEM_EIO,       /* the operating system said no */
	TANDEM_EDB,       /* SQLite failed */
	TANDEM_ENOMEM,    /* out of memory */
	TANDEM_EPLUGIN,   /* a plugin failed or ran out of budget */
	TANDEM_EINTERNAL, /* a bug */
};

/* Filled by every function that takes one (the caller allocates it). */
struct tandem_error {
	int code;           /* enum tandem_code */
	char message[1024]; /* with its context: "people.csv:12:3: email: ..." */
};

/* A code's name: "ok", "invalid", "not_found", ... (static string). */
TANDEM_API const char *tandem_code_name(int code);

/* The library's version, "MAJOR.MINOR.PATCH" (static string). Compare with
 * TANDEM_VERSION_STRING to detect a header/library mismatch. */
TANDEM_API const char *tandem_version(void);

enum tandem_log_level { TANDEM_LOG_DEBUG, TANDEM_LOG_INFO, TANDEM_LOG_WARN, TANDEM_LOG_ERROR };

/* A message callback: the log handler, and the per-row errors and warnings of imports. */
typedef void (*tandem_message_fn)(void *ud, int level, const char *message);

/* Installs the process-wide log sink (NULL drops log lines). Not thread-safe:
 * call it before other threads use the library. */
TANDEM_API void tandem_set_log_handler(tandem_message_fn fn, void *ud);

/* Frees a string returned by this API (NULL is fine). */
TANDEM_API void tandem_free(void *p);

/* ---- Workspace ----------------------------------------------------------------- */

/*
 * A workspace is a folder: tandem.db (the database), tandem.lua (the programs,
 * see docs/cli.md), policies/ (the client's own policies). `tandem init DIR`
 * creates one with an example tandem.lua.
 */
struct tandem;

enum tandem_open_flags {
	TANDEM_OPEN_CREATE = 1 << 0, /* create the folder and its database when missing */
};

/*
 * Opens the workspace at dir: its database is opened and pending schema
 * migrations are applied (a database from a newer tandem is refused).
 * Without TANDEM_OPEN_CREATE a folder without tandem.db is TANDEM_ENOTFOUND.
 * TANDEM_OPEN_CREATE writes no tandem.lua: declare programs there yourself (or run
 * `tandem init`) before importing enrollments or matching.
 * Returns the handle (tandem_close it) or NULL.
 */
TANDEM_API struct tandem *tandem_open(const char *dir, int flags, struct tandem_error *err);

/* Closes the workspace (NULL is fine). Policies and runs obtained through it stay
 * valid and must still be freed. */
TANDEM_API void tandem_close(struct tandem *t);

/* Who acts, recorded in events and decisions ("libtandem" by default). Copied. */
TANDEM_API int tandem_set_actor(struct tandem *t, const char *actor, struct tandem_error *err);

/* ---- People and enrollments --------------------------------------------------- */

/* The counts of an import. */
struct tandem_import_summary {
	long total;     /* rows in the file */
	long created;   /* inserted (or would be, on a dry run) */
	long updated;   /* updated (or would be) */
	long unchanged; /* people only: already stored with every value of the file */
	long mentors;   /* enrollments only: rows on each side ("both" counts twice) */
	long mentees;
	long errors;    /* validation errors; nothing was written when > 0 */
	long warnings;  /* enrollments only: e.g. topics the program does not declare */
};

/*
 * Imports people from an RFC 4180 CSV file (columns: docs/cli.md), all-or-nothing,
 * upserting by external id. Each validation error is passed to on_message (may be
 * NULL) with TANDEM_LOG_ERROR as "FILE:LINE:COLUMN: field: message", sorted by
 * line (the first 1000). On any error nothing is written and -1 is returned; err
 * then names the first error and the count. dry_run = 1 validates and counts only.
 * summary may be NULL.
 */
TANDEM_API int tandem_import_people(struct tandem *t, const char *csv_path, int dry_run,
				    struct tandem_import_summary *summary,
				    tandem_message_fn on_message, void *ud,
				    struct tandem_error *err);

/* The same from len bytes in memory (not copied, not kept); name stands for the
 * file in messages ("hr-export:12:3: ..."). */
TANDEM_API int tandem_import_people_buffer(struct tandem *t, const char *name, const void *data,
					   size_t len, int dry_run,
					   struct tandem_import_summary *summary,
					   tandem_message_fn on_message, void *ud,
					   struct tandem_error *err);

/*
 * Imports the enrollments (sign-up survey) of a program declared in tandem.lua
 * from a CSV file, all-or-nothing, upserting by (program, person). Columns:
 * person, role (mentor|mentee|both), consent, capacity, topics_offered,
 * topics_wanted, availability (docs/cli.md). Errors as for people; warnings (a
 * topic the program does not declare) go to on_message with TANDEM_LOG_WARN. An
 * unknown program is TANDEM_ENOTFOUND, naming the declared ones.
 */
TANDEM_API int tandem_import_enrollments(struct tandem *t, const char *program,
					 const char *csv_path, int dry_run,
					 struct tandem_import_summary *summary,
					 tandem_message_fn on_message, void *ud,
					 struct tandem_error *err);

/* The same from len bytes in memory; name stands for the file in messages. */
TANDEM_API int tandem_import_enrollments_buffer(struct tandem *t, const char *program,
						const char *name, const void *data, size_t len,
						int dry_run,
						struct tandem_import_summary *summary,
						tandem_message_fn on_message, void *ud,
						struct tandem_error *err);

/* Every person as a JSON array of objects (tandem_free it). */
TANDEM_API char *tandem_people_json(struct tandem *t, struct tandem_error *err);

/* Every row about one person (external id or e-mail) as a JSON object keyed by
 * table (tandem_free it); TANDEM_ENOTFOUND when there is no such person. */
TANDEM_API char *tandem_person_export_json(struct tandem *t, const char *person,
					   struct tandem_error *err);

/* Erases one person (external id or e-mail) everywhere, for good; the audit log
 * keeps a pseudonymous tombstone. TANDEM_ENOTFOUND when there is no such person. */
TANDEM_API int tandem_person_erase(struct tandem *t, const char *person,
				   struct tandem_error *err);

/* ---- Policies ---------------------------------------------------------------------- */

/* A loaded matching policy (docs/plugin-api.md, docs/policies.md). */
struct tandem_policy;

/*
 * Loads a policy by declared name (the workspace's policies/, then the built-ins:
 * digital_upskilling, inclusion_listening, reciprocal, cross_department) or by
 * path (containing '/' or ending in ".lua"; relative to the current folder, else
 * to the workspace). Errors name "FILE:LINE". Free with tandem_policy_free().
 */
TANDEM_API struct tandem_policy *tandem_policy_load(struct tandem *t, const char *ref,
						    struct tandem_error *err);

/*
 * Loads a policy from Lua source text (a chunk that returns tandem.policy{...}),
 * e.g. one kept in your own configuration store. name stands for the file in
 * messages ("my-policy:3: field 'weights' must be a table"). The source is copied.
 */
TANDEM_API struct tandem_policy *tandem_policy_load_string(struct tandem *t, const char *name,
							   const char *source,
							   struct tandem_error *err);

/* The declared name and version ("1.0.0"); owned by the policy. */
TANDEM_API const char *tandem_policy_name(const struct tandem_policy *p);
TANDEM_API const char *tandem_policy_version(const struct tandem_policy *p);

/* Releases a policy (NULL is fine). */
TANDEM_API void tandem_policy_free(struct tandem_policy *p);

/* ---- Matching a program ----------------------------------------------------------- */

enum tandem_match_flags {
	TANDEM_MATCH_DRY_RUN = 1 << 0, /* solve and report, write nothing */
	TANDEM_MATCH_EXPLAIN = 1 << 1, /* fill each proposal's features and explanation */
};

/* One feature's part in a pair's built-in score (with TANDEM_MATCH_EXPLAIN). */
struct tandem_feature {
	const char *name;    /* "topic_fit", "level_gap", ... (docs/plugin-api.md) */
	double value;        /* normalized value */
	double raw;          /* raw value (level_gap in levels, ...); meaningful when known */
	int known;           /* 0 when the raw value is unknown (e.g. no level) */
	double weight;       /* the policy's weight */
	double contribution; /* weight * value */
};

/* One proposed pair of a run. */
struct tandem_proposal {
	const char *mentor_id, *mentor_name; /* external id and name */
	const char *mentee_id, *mentee_name;
	double score;   /* builtin + lua */
	double builtin; /* weighted sum of the features */
	double lua;     /* the policy's score hook (0 without one) */
	int kept;       /* 1: a pinned or approved pair kept from earlier decisions */
	/* With TANDEM_MATCH_EXPLAIN (else 0 / NULL): */
	int nfeatures;
	const struct tandem_feature *features;
	const char *explanation_json; /* the whole explanation: features, constraints, verdict */
};

/* The outcome of one match run. */
struct tandem_run;

/*
 * Matches the enrolled, consenting, active people of `program` (declared in the
 * workspace's tandem.lua) with policy (NULL: the program's `policy` in tandem.lua).
 * Pinned and approved matches are kept. Without TANDEM_MATCH_DRY_RUN the
 * proposals are stored in one transaction, superseding the program's unreviewed
 * proposals (they stay, with status superseded; ids are never reused), as
 * `tandem match run --replace` does. Errors: unknown program
 * (TANDEM_ENOTFOUND, naming the declared ones), a policy failure (TANDEM_EPLUGIN,
 * "FILE:LINE: message (in hook NAME)"). The policy may be reused for more runs.
 * Free the run with tandem_run_free().
 */
TANDEM_API struct tandem_run *tandem_match_run(struct tandem *t, const char *program,
					       struct tandem_policy *policy, int flags,
					       struct tandem_error *err);

/* Proposals (sorted by mentee), and the i-th of them (NULL when out of range). */
TANDEM_API int tandem_run_count(const struct tandem_run *r);
TANDEM_API const struct tandem_proposal *tandem_run_proposal(const struct tandem_run *r, int i);

/* Mentees left without a mentor, by external id (NULL when out of range). */
TANDEM_API int tandem_run_unmatched_count(const struct tandem_run *r);
TANDEM_API const char *tandem_run_unmatched(const struct tandem_run *r, int i);

/* The sum of the proposals' scores. */
TANDEM_API double tandem_run_total(const struct tandem_run *r);

/* The run id the stored proposals carry ("run-20270111T090000Z-1a2b"); NULL for a
 * dry run. Owned by the run. */
TANDEM_API const char *tandem_run_id(const struct tandem_run *r);

/* The whole run as a JSON object, the document `tandem match run --json` prints
 * (program, policy, pairs with scores, unmatched, total, run_id, dry_run, ...;
 * with TANDEM_MATCH_EXPLAIN each pair's explanation too). Owned by the run. */
TANDEM_API const char *tandem_run_json(const struct tandem_run *r);

/* Releases a run (NULL is fine). */
TANDEM_API void tandem_run_free(struct tandem_run *r);

/*
 * The matches of a program, ordered by id, as a JSON array of objects (id, mentor,
 * mentee, status, pinned, score, policy, ...; tandem_free it). status: NULL for
 * all but superseded, or proposed | approved | rejected | active | ended |
 * superseded (the unreviewed proposals a later run replaced).
 */
TANDEM_API char *tandem_matches_json(struct tandem *t, const char *program, const char *status,
				     struct tandem_error *err);

/* ---- Matching primitive ------------------------------------------------------------ */

/*
 * Optimal assignment on a caller-owned nr x nc row-major matrix of doubles
 * (never copied): maximum cardinality first, then the best total (maximize = 1:
 * highest). forbidden (optional nr*nc bytes, nonzero = never chosen); capacity
 * (optional, nc entries: mentees per mentor; NULL = 1 each). Fills row_to_col
 * (nr entries, -1 = unmatched) and *total. NaN or infinite scores are an error.
 */
TANDEM_API int tandem_assign(const double *scores, int nr, int nc,
			     const unsigned char *forbidden, const int *capacity, int maximize,
			     int *row_to_col, double *total, struct tandem_error *err);

#ifdef __cplusplus
}
#endif

#endif

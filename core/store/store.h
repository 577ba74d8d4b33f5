/*
 * store: the workspace database (SQLite). Opens tandem.db with the house pragmas,
 * checks it is a tandem database, applies the embedded schema migrations, and
 * wraps transactions and error reporting so every module handles SQLite the same
 * way.
 *
 * Called by: the CLI (cli_open_store, tandem init), people, enrollments, match,
 * sched, events, reports: every module that reads or writes the database. Modules
 * run their own statements through the checked helpers of store/stmt.h and use
 * store_error() to turn a SQLite failure into a diag.
 *
 * Contract:
 *  - store_open() sets journal_mode=WAL, foreign_keys=ON, synchronous=FULL, temp_store=MEMORY, a 32 MiB page cache and a
 *    5 s busy timeout (and a 16 KiB page size when it creates the database); refuses a SQLite file whose application_id is not tandem's
 *    and a database whose schema is newer than this build; then applies every
 *    pending migration, one BEGIN IMMEDIATE transaction per migration, each one
 *    setting PRAGMA user_version to its number. Migrations run with foreign keys
 *    off (so one may rebuild a table, SQLite's only way to change a constraint);
 *    each must pass PRAGMA foreign_key_check before it commits.
 *  - STORE_SCRATCH (a throwaway copy, "Scratch copies" below) sets journal_mode=MEMORY,
 *    synchronous=OFF and a 256 MiB cache instead; store_unscratch() makes it a workspace again.
 *  - STORE_READONLY opens a connection that cannot write (PRAGMA query_only; a read-write
 *    connection underneath, so that closing the last connection removes the -wal and -shm
 *    files as after any command), applies nothing, and refuses a database whose schema
 *    is not exactly store_schema_version().
 *  - Every write goes through store_begin() ... store_commit(), or store_rollback() on
 *    any failure. Transactions compose (see "Composing transactions" below).
 *  - Time: rows and events are stamped with store_timestamp(), which reads the store's
 *    clock (base/clock.h). It is the real clock unless the owner injects another with
 *    store_set_clock() (`tandem simulate` and the tests hand a virtual clock). store_now()
 *    is the real clock, for code without a store.
 *  - One struct store belongs to one thread at a time (SQLite connection rules).
 */
/*
 * Composing transactions
 *
 * store_begin() opens a level: the outermost is BEGIN IMMEDIATE (the write lock is taken
 * at once, so a busy database fails there, before any work), each nested one a SAVEPOINT
 * named by its depth. store_commit() closes the innermost level keeping its work
 * (RELEASE; COMMIT for the outermost, which is when anything reaches the disk);
 * store_rollback() closes the innermost level discarding its work (ROLLBACK TO + RELEASE;
 * ROLLBACK for the outermost). So every module writes the same way, whether it is called
 * alone or as a part of a larger unit of work:
 *
 *     if (store_begin(st, d) != 0)
 *             return -1;
 *     if (write_this(st, d) != 0 || events_append(st, &ev, NULL, d) != 0) {
 *             store_rollback(st);
 *             return -1;
 *     }
 *     return store_commit(st, d);
 *
 * and a caller that needs several modules' work to land together (a scheduler's claim of
 * an occurrence, the effects of its job, and its completion) wraps their calls in one
 * outer level:
 *
 *     if (store_begin(st, d) != 0)                  BEGIN IMMEDIATE
 *             return -1;
 *     if (sched_claim(st, occ, d) != 0 ||           SAVEPOINT tandem_2 ... RELEASE
 *         job_apply(st, occ, d) != 0 ||             SAVEPOINT tandem_2 ... RELEASE
 *         sched_complete(st, occ, d) != 0) {        SAVEPOINT tandem_2 ... RELEASE
 *             store_rollback(st);                   ROLLBACK: all three are undone
 *             return -1;
 *     }
 *     return store_commit(st, d);                   COMMIT: all three land together
 *
 * An inner commit only promises that its level is merged into the enclosing one: the work
 * becomes durable at the outermost commit, and an outer rollback discards it.
 *
 * Rules:
 *  - Pair every successful store_begin() with exactly one store_commit() or
 *    store_rollback(). Never call store_rollback() after a failed store_begin() (no level
 *    was opened; inside an outer transaction it would roll back the caller's level).
 *  - store_commit() closes its level whether it succeeds or not: on failure it has rolled
 *    the level back already, so return the error without calling store_rollback(). The
 *    outermost commit can fail on a deferred foreign key or the disk; inner ones rarely.
 *  - store_commit() without an open level is a bug: DIAG_INTERNAL.
 *  - If SQLite rolls the whole transaction back by itself (out of memory, disk full), the
 *    open levels stay counted; every store_begin()/store_commit() then fails until the
 *    callers have unwound to the outermost level, so nobody reports work as committed
 *    that is gone.
 *  - Statements that cannot run inside a transaction (VACUUM, PRAGMA journal_mode) need
 *    store_depth() == 0.
 *
 * Batches
 *
 * A SAVEPOINT is not free inside a large transaction: the first write to each page after it
 * copies the page (SQLite's statement journal: 16 KiB a page here, in memory) and its
 * RELEASE frees the copies, so thousands of small levels in one transaction cost several
 * times their rows. store_batch_begin() opens a level (like store_begin) under which the
 * inner levels are only counted: their store_begin()/store_commit() run no SQL. An inner
 * level that rolls back cannot undo its own work alone, so it spoils the batch: its work
 * stays, every later store_begin()/store_commit() inside the batch fails, and the batch's
 * owner must roll the batch back (store_rollback at the batch's level) and do the work again
 * with ordinary levels when it needs the good parts kept. store_batch_spoiled() says so.
 * Committing a spoiled batch fails and rolls it back. For work whose inner rollbacks are rare
 * and that can be redone (the simulation's participants, serve/simulate.c).
 *
 * Scratch copies
 *
 * STORE_SCRATCH is for a copy nobody else writes and that is thrown away after a crash
 * (`tandem simulate`'s, serve/simulate.c). It keeps the rollback journal in memory
 * (journal_mode=MEMORY: no -wal file, each page written once, to the database, at the
 * commit, where WAL writes it to the log and again at the checkpoint), skips every fsync
 * (synchronous=OFF) and keeps up to 256 MiB of pages, dirty ones in memory until the commit
 * (cache_spill=OFF: a spill mid-transaction would take the EXCLUSIVE lock that keeps other
 * readers out). Transactions, savepoints and rollbacks work as usual; a crash of the process
 * may leave the file damaged. Readers on other connections (a report's read-only query
 * helper) still work between and during write transactions: they see the last commit, as
 * with WAL, and the commit waits for them (the busy timeout). The locking mode stays NORMAL
 * for those readers. store_unscratch() switches a kept copy back to WAL.
 */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "base/diag.h"

/* One embedded migration: core/store/schema/NNN_name.sql (generated by cmake/embed_schema.cmake). */
struct store_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Terminated by an entry with sql == NULL. */
extern const struct store_migration store_migrations[];

enum store_flags {
	STORE_CREATE = 1 << 0,   /* create the file when it does not exist */
	STORE_READONLY = 1 << 1, /* PRAGMA query_only; no migrations */
	/* With STORE_READONLY: an older schema is accepted as it is (the caller only copies
	 * the file, e.g. `tandem simulate`, which migrates its copy); by default refused. */
	STORE_OLD_OK = 1 << 2,
	/* A throwaway copy that one process writes (`tandem simulate`'s): journal_mode=MEMORY
	 * instead of WAL, synchronous=OFF, a 256 MiB page cache that does not spill mid-transaction
	 * (see "Scratch copies" above). Not with STORE_READONLY. */
	STORE_SCRATCH = 1 << 3,
};

/* PRAGMA application_id of every tandem database: "TNDM". */
enum { STORE_APPLICATION_ID = 0x544E444D };

/* Size of the buffer store_now()/store_timestamp() fill: "2026-11-22T14:00:00Z". */
enum { STORE_TIME_MAX = 32 };

struct store;

/* How long a statement waits for another connection's lock (sqlite3_busy_timeout). */
enum { STORE_BUSY_MS = 5000 };

/* Opens (and with STORE_CREATE creates) the database at path and migrates it. NULL + diag on failure. */
struct store *store_open(const char *path, int flags, struct diag *d);

/* Closes the connection (finalizing only the statement cache's: callers finalize their
 * statements first). NULL is fine. */
void store_close(struct store *st);

/*
 * The statement cache, used by store/stmt (stmt_prepare, stmt_finalize): preparing SQL
 * costs tens of microseconds, as much as running a small statement, and the service runs
 * the same few hundred statements at every wake. A statement finalized through
 * stmt_finalize is reset, its bindings cleared, and kept by the store (up to a bound);
 * stmt_prepare of the same SQL text takes it back instead of preparing it again. SQLite
 * prepares a kept statement again by itself when the schema changed.
 *  - store_stmt_take: an idle kept statement whose text is sql (marked taken), or NULL.
 *  - store_stmt_give: keeps s (reset, bindings cleared) and returns 0, or returns -1 when
 *    the cache is full or out of memory: the caller finalizes it.
 */
sqlite3_stmt *store_stmt_take(struct store *st, const char *sql);
int store_stmt_give(struct store *st, sqlite3_stmt *s);

/* The connection, for modules that run their own prepared statements. */
sqlite3 *store_db(struct store *st);

/* The path the store was opened with. */
const char *store_path(const struct store *st);

/* The highest schema version this build knows (the last embedded migration). */
int store_schema_version(void);

/* The schema version (PRAGMA user_version) of the open database. */
int store_version(struct store *st);

/* Opens a transaction level: BEGIN IMMEDIATE when none is open (takes the write lock now, so a
 * busy database fails here and not mid-write), else SAVEPOINT tandem_<depth>. See above. */
int store_begin(struct store *st, struct diag *d);

/* Closes the innermost level keeping its work (COMMIT for the outermost, RELEASE inside).
 * On failure the level is rolled back and closed. DIAG_INTERNAL when no level is open. */
int store_commit(struct store *st, struct diag *d);

/* Closes the innermost level discarding its work (ROLLBACK for the outermost, ROLLBACK TO +
 * RELEASE inside); outer levels keep theirs. A no-op when no level is open. Never fails from
 * the caller's view (logs instead), so it can run on an error path without overwriting the
 * diag that explains the error. */
void store_rollback(struct store *st);

/* Opens a batch's level (see "Batches" above): inner levels open no savepoint. Inside a
 * batch, one more counted level. */
int store_batch_begin(struct store *st, struct diag *d);

/* 1 when a level inside the open batch was rolled back (the batch must be rolled back). */
int store_batch_spoiled(const struct store *st);

/* The number of open levels: 0 outside a transaction. */
int store_depth(const struct store *st);

/* A STORE_SCRATCH store made an ordinary workspace again, as store_open would leave it
 * (journal_mode=WAL, synchronous=FULL): for a copy that is kept. Needs store_depth() == 0
 * and no other connection to the file. 0, or -1 + diag. */
int store_unscratch(struct store *st, struct diag *d);

/* Runs one or more SQL statements without parameters (schema, pragmas). */
int store_exec(struct store *st, const char *sql, struct diag *d);

/* Prepares one statement; NULL + diag (naming the context) on failure. Its binds and steps
 * are the caller's to check: new code uses stmt_prepare() (store/stmt.h), which checks them. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct diag *d);

/* Fills d with "CONTEXT: SQLite message" (code DIAG_DB, or DIAG_CONFLICT for a constraint
 * violation) from the connection's last error; returns -1. */
int store_error(struct store *st, struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Injects the store's clock: c is borrowed (it must outlive its use by the store, and its
 * owner changes it); NULL restores the real clock. */
void store_set_clock(struct store *st, const struct clock *c);

/* The clock the store reads (the real one unless another was set); st may be NULL. */
const struct clock *store_clock(const struct store *st);

/* Seconds since the epoch (UTC) on the store's clock. */
time_t store_time(struct store *st);

/* ISO 8601 UTC of the store's clock into buf[STORE_TIME_MAX]; returns 0, -1 if the time is unrepresentable. */
int store_timestamp(struct store *st, char buf[STORE_TIME_MAX]);

/* ISO 8601 UTC of the real clock. */
int store_now(char buf[STORE_TIME_MAX]);

/* ISO 8601 UTC of t: "YYYY-MM-DDTHH:MM:SSZ". */
int store_format_time(time_t t, char buf[STORE_TIME_MAX]);

#endif

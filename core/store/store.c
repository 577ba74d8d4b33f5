/*
 * store: opening, checking and migrating the workspace database; transactions,
 * error formatting and the clock. See store.h for the contract.
 */
#include "store/store.h"
#include "store/stmt.h"

#include "base/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
	sqlite3 *db;
	char *path;
	int readonly;
	int old_ok;  /* STORE_OLD_OK */
	int scratch; /* STORE_SCRATCH */
	const struct clock *clock; /* NULL: the real clock */
	int depth;   /* open transaction levels: 0 none, 1 BEGIN IMMEDIATE, n > 1 SAVEPOINT tandem_n */
	int aborted; /* SQLite rolled the whole transaction back under open levels (see store_rollback) */
	int batch;   /* the depth of the open batch's level (store_batch_begin), 0 none */
	int spoiled; /* a level inside the batch was rolled back: its work was not undone */
	struct store_cached *cache; /* the statement cache (see store.h), STORE_CACHE_SLOTS */
	size_t ncached;
};

/*
 * The statement cache: an open-addressing table keyed by the SQL text's hash, linear
 * probing, never deleted from before the store closes (a slot holds one statement for the
 * life of the connection). A statement is "busy" while a struct stmt holds it; the same SQL
 * taken twice at once gets a second statement (a second slot when it is given back).
 */
enum { STORE_CACHE_SLOTS = 1024, STORE_CACHE_MAX = 768 /* at most 3/4 full */ };

struct store_cached {
	sqlite3_stmt *s; /* NULL: an empty slot */
	uint64_t hash;
	int busy;
};


/*
 * Page size of new databases. SQLite's default (4 KiB) makes a 100k-person import write some
 * 10k WAL frames, each two write() calls, then read and write each again in the checkpoint;
 * 16 KiB pages quarter those calls (commit + checkpoint 0.25-0.29 s -> 0.16 s wall measured)
 * and b-tree splits, for a larger WAL frame on small commits. It can only be chosen before
 * the first page exists, so older databases keep theirs.
 */
enum { STORE_PAGE_SIZE = 16384 };

int
store_error(struct store *st, struct diag *d, const char *fmt, ...)
{
	char ctx[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	int ext = st && st->db ? sqlite3_extended_errcode(st->db) : SQLITE_ERROR;
	const char *msg = st && st->db ? sqlite3_errmsg(st->db) : "no database";
	int code = (ext & 0xff) == SQLITE_CONSTRAINT ? DIAG_CONFLICT : DIAG_DB;
	if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
		return diag_set(d, DIAG_DB, "%s: %s (another tandem process holds the database; retry)",
				ctx, msg);
	return diag_set(d, code, "%s: %s", ctx, msg);
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

int
store_schema_version(void)
{
	int v = 0;
	for (const struct store_migration *m = store_migrations; m->sql != NULL; m++)
		if (m->version > v)
			v = m->version;
	return v;
}

int
store_exec(struct store *st, const char *sql, struct diag *d)
{
	char *err = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		int ext = sqlite3_extended_errcode(st->db);
		diag_set(d, (ext & 0xff) == SQLITE_CONSTRAINT ? DIAG_CONFLICT : DIAG_DB, "%s: %s",
			 st->path, err ? err : sqlite3_errmsg(st->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql, struct diag *d)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, d, "%s: preparing statement", st->path);
		(void)sqlite3_finalize(stmt); /* NULL or a failed statement: repeats the error */
		return NULL;
	}
	return stmt;
}

/* Runs a pragma (or any query) whose first column is an integer; -1 + diag on failure. */
static int
store_query_int(struct store *st, const char *sql, long long *out, struct diag *d)
{
	int64_t v = 0;
	if (stmt_query_int64(st, st->path, sql, &v, d) != 0)
		return -1;
	*out = v;
	return 0;
}

int
store_version(struct store *st)
{
	long long v = 0;
	if (store_query_int(st, "PRAGMA user_version", &v, NULL) != 0)
		return -1;
	return (int)v;
}

/*
 * Transactions compose: the outermost level is BEGIN IMMEDIATE (the write lock is taken
 * at once, so a busy database fails at the outer begin and never in the middle of the
 * work), each inner level a SAVEPOINT named by its depth. SQLite may roll the whole
 * transaction back by itself after some errors (out of memory, disk full, I/O); the
 * levels still open then stay counted, marked aborted, so no caller commits work that is
 * gone: every commit fails until the outermost level has been closed.
 */
int
store_begin(struct store *st, struct diag *d)
{
	if (st->batch != 0 && !st->aborted && !sqlite3_get_autocommit(st->db)) {
		/* Inside a batch: a level is only counted (see store.h "Batches"). */
		if (st->spoiled)
			return diag_set(d, DIAG_DB, "%s: a level of this batch was rolled back",
					st->path);
		st->depth++;
		return 0;
	}
	if (st->depth == 0) {
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return store_error(st, d, "%s: cannot start a write transaction", st->path);
		st->depth = 1;
		st->aborted = 0;
		return 0;
	}
	if (st->aborted || sqlite3_get_autocommit(st->db)) {
		st->aborted = 1;
		return diag_set(d, DIAG_DB, "%s: the enclosing transaction was already rolled back",
				st->path);
	}
	char sql[48];
	snprintf(sql, sizeof(sql), "SAVEPOINT tandem_%d", st->depth + 1);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_error(st, d, "%s: cannot open transaction level %d", st->path,
				   st->depth + 1);
	st->depth++;
	return 0;
}

int
store_commit(struct store *st, struct diag *d)
{
	if (st->depth == 0)
		return diag_set(d, DIAG_INTERNAL, "%s: commit without a transaction (no store_begin)",
				st->path);
	if (st->aborted || sqlite3_get_autocommit(st->db)) {
		st->aborted = 1;
		diag_set(d, DIAG_DB, "%s: commit failed: the transaction was already rolled back",
			 st->path);
		store_rollback(st);
		return -1;
	}
	if (st->batch != 0 && st->depth > st->batch) {
		st->depth--;
		if (!st->spoiled)
			return 0;
		return diag_set(d, DIAG_DB, "%s: a level of this batch was rolled back", st->path);
	}
	if (st->batch != 0 && st->spoiled) {
		diag_set(d, DIAG_INTERNAL, "%s: a spoiled batch cannot be committed", st->path);
		store_rollback(st);
		return -1;
	}
	st->batch = 0;
	char sql[48];
	if (st->depth == 1)
		snprintf(sql, sizeof(sql), "COMMIT");
	else
		snprintf(sql, sizeof(sql), "RELEASE tandem_%d", st->depth);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_error(st, d, "%s: commit failed", st->path);
		store_rollback(st);
		return -1;
	}
	st->depth--;
	return 0;
}

void
store_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	if (st->batch != 0 && st->depth > st->batch) {
		st->spoiled = 1; /* its work stays: the batch's owner rolls the batch back */
		st->depth--;
		return;
	}
	st->batch = 0;
	st->spoiled = 0;
	if (st->depth == 1) {
		/* After some errors SQLite has already rolled back; ROLLBACK would then fail. */
		if (!sqlite3_get_autocommit(st->db) &&
		    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
			tlog(TLOG_ERROR, "%s: rollback failed: %s", st->path, sqlite3_errmsg(st->db));
		st->depth = 0;
		st->aborted = 0;
		return;
	}
	if (!st->aborted && sqlite3_get_autocommit(st->db))
		st->aborted = 1;
	if (!st->aborted) {
		/* ROLLBACK TO undoes the level's work but keeps the savepoint open; RELEASE closes it. */
		char sql[96];
		snprintf(sql, sizeof(sql), "ROLLBACK TO tandem_%d; RELEASE tandem_%d", st->depth,
			 st->depth);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			tlog(TLOG_ERROR, "%s: rollback of level %d failed: %s", st->path, st->depth,
			     sqlite3_errmsg(st->db));
			st->aborted = 1; /* the outer levels cannot trust what is left */
		}
	}
	st->depth--;
}

int
store_batch_begin(struct store *st, struct diag *d)
{
	if (st->batch != 0)
		return store_begin(st, d); /* a batch in a batch: one more counted level */
	if (store_begin(st, d) != 0)
		return -1;
	st->batch = st->depth;
	st->spoiled = 0;
	return 0;
}

int
store_batch_spoiled(const struct store *st)
{
	return st->batch != 0 && st->spoiled;
}

int
store_depth(const struct store *st)
{
	return st->depth;
}

/*
 * Is this file ours? A fresh file (no tables, application_id 0) is adopted; a SQLite
 * file someone else made is refused, so we never migrate a stranger's database.
 */
static int
store_check_identity(struct store *st, int *fresh, struct diag *d)
{
	long long app = 0, tables = 0;
	/* The first read of the header: a non-SQLite file fails here with "file is not a database". */
	if (store_query_int(st, "PRAGMA application_id", &app, NULL) != 0)
		return diag_set(d, DIAG_INVALID, "%s is not a tandem database (%s)", st->path,
				sqlite3_errmsg(st->db));
	if (store_query_int(st, "SELECT count(*) FROM sqlite_master", &tables, d) != 0)
		return -1;
	*fresh = app == 0 && tables == 0;
	if (app == STORE_APPLICATION_ID || *fresh)
		return 0;
	return diag_set(d, DIAG_INVALID,
			"%s is not a tandem database (SQLite application_id 0x%08llX, expected 0x%08X)",
			st->path, (unsigned long long)app & 0xffffffffULL, STORE_APPLICATION_ID);
}

/* PRAGMA journal_mode=mode; it answers with the mode it ended up in: anything else is a
 * refusal (another connection, a transaction open). */
static int
store_journal(struct store *st, const char *mode, struct diag *d)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", mode);
	struct stmt s;
	if (stmt_prepare(&s, st, "PRAGMA journal_mode", sql, d) != 0)
		return -1;
	const char *got = NULL;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW && stmt_text(&s, 0, &got, d) != 0)
		rc = -1;
	int ok = got != NULL && strcmp(got, mode) == 0;
	stmt_finalize(&s);
	if (rc < 0)
		return diag_prefix(d, "%s", st->path);
	if (!ok)
		return diag_set(d, DIAG_DB, "%s: cannot switch to the %s journal mode", st->path,
				mode);
	return 0;
}

static int
store_set_pragmas(struct store *st, struct diag *d)
{
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK)
		return store_error(st, d, "%s: busy_timeout", st->path);
	if (store_exec(st, "PRAGMA foreign_keys=ON", d) != 0)
		return -1;
	/* Statement journals and temporary b-trees in memory: inside a long transaction every
	 * INSERT into an indexed table with foreign keys journals the pages it touches, and
	 * the default (a temporary file) cost two pwrite calls per page (reward dispatch: ~19
	 * per event). They live only as long as a statement or a sort. */
	if (store_exec(st, "PRAGMA temp_store=MEMORY", d) != 0)
		return -1;
	/* A 32 MiB page cache (SQLite's default is 2 MB: 125 of our 16 KiB pages), so a
	 * batch's writes (reward dispatch: a few thousand ledger rows and their events in one
	 * transaction) stay in memory until the commit instead of spilling to the WAL and
	 * being read back. Pages are allocated as used: a small database costs what it is. */
	if (store_exec(st, "PRAGMA cache_size=-32768", d) != 0)
		return -1;
	if (st->readonly)
		return store_exec(st, "PRAGMA query_only=ON", d);
	/* Before the WAL switch, which writes the first page: a no-op on an existing database. */
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", STORE_PAGE_SIZE);
	if (store_exec(st, sql, d) != 0)
		return -1;
	if (st->scratch) { /* store.h "Scratch copies" */
		if (store_journal(st, "memory", d) != 0)
			return -1;
		return store_exec(st, "PRAGMA synchronous=OFF; PRAGMA cache_spill=OFF;"
				  " PRAGMA cache_size=-262144", d);
	}
	if (store_journal(st, "wal", d) != 0)
		return -1;
	return store_exec(st, "PRAGMA synchronous=FULL", d);
}

int
store_unscratch(struct store *st, struct diag *d)
{
	if (st->depth != 0)
		return diag_set(d, DIAG_INTERNAL, "%s: a journal mode switch inside a transaction",
				st->path);
	if (store_journal(st, "wal", d) != 0 ||
	    store_exec(st, "PRAGMA synchronous=FULL; PRAGMA cache_spill=ON; PRAGMA cache_size=-32768",
		       d) != 0)
		return -1;
	st->scratch = 0;
	return 0;
}

static int
store_version_error(struct store *st, int have, struct diag *d)
{
	return diag_set(d, DIAG_INVALID,
			"%s is schema version %d, this tandem knows up to %d; upgrade tandem", st->path,
			have, store_schema_version());
}

/* Migrations run with foreign keys off (a table rebuild must not cascade its DROP), so before
 * committing one we make sure it left every reference valid. */
static int
store_check_references(struct store *st, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "PRAGMA foreign_key_check", "PRAGMA foreign_key_check", d) != 0)
		return -1;
	int rc = stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *table = NULL, *parent = NULL;
		if (stmt_text(&s, 0, &table, d) == 0 && stmt_text(&s, 2, &parent, d) == 0)
			diag_set(d, DIAG_INTERNAL, "%s: table %s row %lld refers to a missing %s row",
				 st->path, table ? table : "?", (long long)stmt_int64(&s, 1),
				 parent ? parent : "?");
		rc = -1;
	} else if (rc < 0) {
		diag_prefix(d, "%s", st->path);
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

/* Applies one migration in its own transaction, unless another process got there first. */
static int
store_apply(struct store *st, const struct store_migration *m, int fresh, struct diag *d)
{
	if (store_begin(st, d) != 0)
		return -1;
	long long cur = 0;
	if (store_query_int(st, "PRAGMA user_version", &cur, d) != 0)
		goto fail;
	if (cur >= m->version) {
		store_rollback(st);
		return 0;
	}
	char sql[128];
	if (fresh) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", STORE_APPLICATION_ID);
		if (store_exec(st, sql, d) != 0)
			goto fail;
	}
	if (store_exec(st, m->sql, d) != 0 || store_check_references(st, d) != 0)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", m->version);
	if (store_exec(st, sql, d) != 0)
		goto fail;
	if (store_commit(st, d) != 0) /* a failed commit has rolled its level back */
		return diag_prefix(d, "migration %s", m->name);
	tlog(TLOG_DEBUG, "%s: applied migration %s", st->path, m->name);
	return 0;
fail:
	store_rollback(st);
	return diag_prefix(d, "migration %s", m->name);
}

static int
store_migrate(struct store *st, int fresh, struct diag *d)
{
	int have = store_version(st);
	if (have < 0)
		return store_error(st, d, "%s: reading user_version", st->path);
	int want = store_schema_version();
	if (have > want)
		return store_version_error(st, have, d);
	if (st->readonly) {
		if (have < want && !st->old_ok)
			return diag_set(d, DIAG_INVALID,
					"%s is schema version %d, this tandem needs %d; open it once "
					"read-write (any tandem command that writes) to upgrade it",
					st->path, have, want);
		return 0;
	}
	if (have == want)
		return 0;
	/* SQLite's way to rebuild a table (needed to change a constraint): foreign keys off around
	 * the transaction (the pragma is a no-op inside one), a foreign_key_check before each commit. */
	if (store_exec(st, "PRAGMA foreign_keys=OFF", d) != 0)
		return -1;
	int rc = 0;
	/* Migrations are applied in version order; the array is generated sorted. */
	for (const struct store_migration *m = store_migrations; m->sql != NULL && rc == 0; m++) {
		if (m->version <= have)
			continue;
		rc = store_apply(st, m, fresh, d);
		fresh = 0;
	}
	if (store_exec(st, "PRAGMA foreign_keys=ON", rc == 0 ? d : NULL) != 0)
		return -1;
	return rc;
}

struct store *
store_open(const char *path, int flags, struct diag *d)
{
	struct store *st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		free(st);
		diag_set(d, DIAG_NOMEM, "out of memory opening %s", path);
		return NULL;
	}
	st->readonly = (flags & STORE_READONLY) != 0;
	st->old_ok = (flags & STORE_OLD_OK) != 0;
	st->scratch = !st->readonly && (flags & STORE_SCRATCH) != 0;
	/* Read-only is query_only on a read-write connection (store_set_pragmas): a connection
	 * opened SQLITE_OPEN_READONLY creates the -wal and -shm files of a database nobody has
	 * open and cannot remove them when it closes, so `tandem events` left them in the
	 * workspace. SQLite opens a write-protected file read-only by itself. */
	int oflags = SQLITE_OPEN_READWRITE;
	if (!st->readonly && (flags & STORE_CREATE))
		oflags |= SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			diag_set(d, DIAG_NOMEM, "out of memory opening %s", path);
		else
			diag_set(d, DIAG_IO, "cannot open %s: %s", path, sqlite3_errmsg(st->db));
		store_close(st);
		return NULL;
	}
	/* Extended codes tell a constraint's kind and a busy lock's cause apart (store_error). */
	if (sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK) {
		store_error(st, d, "%s: extended result codes", path);
		store_close(st);
		return NULL;
	}
	int fresh = 0;
	if (store_check_identity(st, &fresh, d) != 0 || (st->readonly && fresh)) {
		if (st->readonly && fresh)
			diag_set(d, DIAG_INVALID, "%s is an empty database, not a tandem workspace",
				 path);
		store_close(st);
		return NULL;
	}
	if (store_set_pragmas(st, d) != 0 || store_migrate(st, fresh, d) != 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

/* The cache's key of an SQL text: its length and its first and last 32 bytes, mixed. Hashing
 * every byte at every stmt_prepare cost 2-3% of a simulated month (texts of a few hundred
 * bytes, millions of prepares); texts that differ only in the middle share a key and are
 * told apart by the comparison that confirms every match anyway. */
static uint64_t
store_sql_hash(const char *sql)
{
	size_t n = strlen(sql);
	uint64_t h = n <= 64 ? hash_fnv1a(sql, n)
			     : hash_fnv1a(sql, 32) ^ hash_mix64(hash_fnv1a(sql + n - 32, 32));
	return hash_mix64(h ^ (uint64_t)n);
}

sqlite3_stmt *
store_stmt_take(struct store *st, const char *sql)
{
	if (st->cache == NULL)
		return NULL;
	uint64_t h = store_sql_hash(sql);
	for (size_t i = 0; i < STORE_CACHE_SLOTS; i++) {
		struct store_cached *c = &st->cache[(h + i) % STORE_CACHE_SLOTS];
		if (c->s == NULL)
			return NULL;
		if (!c->busy && c->hash == h && strcmp(sqlite3_sql(c->s), sql) == 0) {
			c->busy = 1;
			return c->s;
		}
	}
	return NULL;
}

int
store_stmt_give(struct store *st, sqlite3_stmt *s)
{
	if (st->cache == NULL) {
		st->cache = calloc(STORE_CACHE_SLOTS, sizeof(*st->cache));
		if (st->cache == NULL)
			return -1; /* not kept: the caller finalizes it */
	}
	const char *sql = sqlite3_sql(s);
	if (sql == NULL)
		return -1;
	uint64_t h = store_sql_hash(sql);
	struct store_cached *empty = NULL;
	for (size_t i = 0; i < STORE_CACHE_SLOTS; i++) {
		struct store_cached *c = &st->cache[(h + i) % STORE_CACHE_SLOTS];
		if (c->s == s) {
			empty = c;
			break;
		}
		if (c->s == NULL) {
			if (st->ncached >= STORE_CACHE_MAX)
				return -1;
			empty = c;
			c->s = s;
			c->hash = h;
			st->ncached++;
			break;
		}
	}
	if (empty == NULL)
		return -1;
	/* The last step's error was reported by stmt_step; reset repeats it. */
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	empty->busy = 0;
	return 0;
}

/* Finalizes the cached statements no struct stmt holds (a held one is its holder's leak,
 * reported by sqlite3_close as before). */
static void
store_cache_clear(struct store *st)
{
	if (st->cache == NULL)
		return;
	for (size_t i = 0; i < STORE_CACHE_SLOTS; i++)
		if (st->cache[i].s != NULL && !st->cache[i].busy)
			(void)sqlite3_finalize(st->cache[i].s);
	free(st->cache);
	st->cache = NULL;
	st->ncached = 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_cache_clear(st);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		tlog(TLOG_ERROR, "%s: close: %s (a statement was not finalized)", st->path,
		     sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

void
store_set_clock(struct store *st, const struct clock *c)
{
	st->clock = c;
}

const struct clock *
store_clock(const struct store *st)
{
	return st != NULL && st->clock != NULL ? st->clock : clock_real();
}

time_t
store_time(struct store *st)
{
	return clock_now(store_clock(st));
}

/* The store's buffers are the clock's: one format for every timestamp of the core. */
_Static_assert((int)STORE_TIME_MAX == (int)CLOCK_UTC_MAX, "store and clock time buffers differ");

int
store_format_time(time_t t, char buf[STORE_TIME_MAX])
{
	return clock_format_utc(t, buf);
}

int
store_timestamp(struct store *st, char buf[STORE_TIME_MAX])
{
	return store_format_time(store_time(st), buf);
}

int
store_now(char buf[STORE_TIME_MAX])
{
	return store_format_time(clock_now(clock_real()), buf);
}

/* Unit tests for core/store: open, identity, pragmas, migrations, transactions, clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static long long
query_int(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, NULL);
	assert_non_null(stmt);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	long long v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static void
test_create_sets_pragmas_and_migrates(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	/* Without STORE_CREATE a missing file is an error, not a new database. */
	assert_null(store_open(f->path, 0, &d));
	assert_int_equal(d.code, DIAG_IO);
	assert_int_equal(access(f->path, F_OK), -1);

	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	assert_true(store_schema_version() >= 1);
	assert_int_equal(store_version(st), store_schema_version());
	assert_int_equal(query_int(st, "PRAGMA application_id"), STORE_APPLICATION_ID);
	assert_int_equal(query_int(st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(st, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(query_int(st, "PRAGMA temp_store"), 2); /* MEMORY */
	assert_int_equal(query_int(st, "PRAGMA cache_size"), -32768); /* 32 MiB */
	assert_int_equal(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name='people'"), 1);
	/* v1's placeholder ledger is gone (v9 dropped it; `rewards` replaced it). */
	assert_int_equal(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name IN "
					 "('reward_ledger', 'reward_person')"),
			 0);
	sqlite3_stmt *stmt = store_prepare(st, "PRAGMA journal_mode", NULL);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	assert_string_equal(store_path(st), f->path);
	store_close(st);

	/* Reopening applies nothing and keeps the data. */
	st = store_open(f->path, 0, &d);
	assert_non_null(st);
	assert_int_equal(store_version(st), store_schema_version());
	store_close(st);
}

static void
test_refuses_foreign_files(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	FILE *fp = fopen(f->path, "w");
	fputs("this is not a database, just some text long enough to have a header\n", fp);
	fclose(fp);
	assert_null(store_open(f->path, STORE_CREATE, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "is not a tandem database"));

	/* A SQLite database someone else made (tables, no application_id) is refused too. */
	unlink(f->path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, STORE_CREATE, &d));
	assert_non_null(strstr(d.msg, "is not a tandem database"));

	/* So is one with another application_id. */
	unlink(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA application_id=1234", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, STORE_CREATE, &d));
	assert_non_null(strstr(d.msg, "0x000004D2"));
}

static void
test_refuses_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	int newer = store_schema_version() + 5;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", newer);
	assert_int_equal(store_exec(st, sql, &d), 0);
	store_close(st);

	assert_null(store_open(f->path, 0, &d));
	char want[160];
	snprintf(want, sizeof(want), "tandem.db is schema version %d, this tandem knows up to %d; upgrade tandem",
		 newer, store_schema_version());
	assert_non_null(strstr(d.msg, want));
	assert_null(store_open(f->path, STORE_READONLY, &d));
	assert_non_null(strstr(d.msg, "upgrade tandem"));
}

static void
test_readonly(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_null(store_open(f->path, STORE_READONLY | STORE_CREATE, &d)); /* never creates */
	assert_int_equal(access(f->path, F_OK), -1);

	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	store_close(st);
	st = store_open(f->path, STORE_READONLY, &d);
	assert_non_null(st);
	assert_int_equal(query_int(st, "SELECT count(*) FROM people"), 0);
	assert_int_equal(store_exec(st, "CREATE TABLE x(y)", &d), -1);
	assert_int_equal(d.code, DIAG_DB);
	store_close(st);

	/* An outdated schema is refused read-only (no migrations there). */
	st = store_open(f->path, 0, &d);
	assert_int_equal(store_exec(st, "PRAGMA user_version=0", &d), 0);
	store_close(st);
	assert_null(store_open(f->path, STORE_READONLY, &d));
	assert_non_null(strstr(d.msg, "schema version 0"));
}

static const char *
journal_mode(struct store *st)
{
	static char mode[16];
	sqlite3_stmt *stmt = store_prepare(st, "PRAGMA journal_mode", NULL);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return mode;
}

/* STORE_SCRATCH: no WAL, no fsync, a large cache; transactions as usual; readers on other
 * connections see the last commit; store_unscratch makes it a workspace again. */
static void
test_scratch(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	store_close(st);

	st = store_open(f->path, STORE_SCRATCH, &d);
	assert_non_null(st);
	assert_string_equal(journal_mode(st), "memory");
	assert_int_equal(query_int(st, "PRAGMA synchronous"), 0);
	assert_int_equal(query_int(st, "PRAGMA cache_size"), -262144);
	assert_int_equal(query_int(st, "PRAGMA cache_spill"), 0);
	assert_int_equal(store_exec(st, "CREATE TABLE t(x)", &d), 0);

	/* A level rolled back inside the transaction; a reader sees the last commit. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "INSERT INTO t VALUES (1)", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "INSERT INTO t VALUES (2)", &d), 0);
	store_rollback(st);
	struct store *reader = store_open(f->path, STORE_READONLY, &d);
	assert_non_null(reader);
	assert_int_equal(query_int(reader, "SELECT count(*) FROM t"), 0);
	assert_int_equal(store_unscratch(st, &d), -1); /* not inside a transaction */
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(query_int(reader, "SELECT count(*) FROM t"), 1);
	store_close(reader);
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), -1);

	assert_int_equal(store_unscratch(st, &d), 0);
	assert_string_equal(journal_mode(st), "wal");
	assert_int_equal(query_int(st, "PRAGMA synchronous"), 2);
	store_close(st);
	st = store_open(f->path, 0, &d);
	assert_non_null(st);
	assert_string_equal(journal_mode(st), "wal");
	assert_int_equal(query_int(st, "SELECT count(*) FROM t"), 1);
	store_close(st);
}

static void
test_transactions_and_errors(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	const char *ins = "INSERT INTO programs(name, created_at) VALUES ('p1', '2026-01-01T00:00:00Z')";

	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, ins, &d), 0);
	store_rollback(st);
	assert_int_equal(query_int(st, "SELECT count(*) FROM programs"), 0);

	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, ins, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(query_int(st, "SELECT count(*) FROM programs"), 1);

	/* A constraint failure is a conflict; store_error names the context. */
	assert_int_equal(store_exec(st, ins, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "UNIQUE"));
	assert_int_equal(store_error(st, &d, "adding program %s", "p1"), -1);
	assert_non_null(strstr(d.msg, "adding program p1: "));

	/* Foreign keys are enforced. */
	assert_int_equal(store_exec(st, "INSERT INTO enrollments(program_id, person_id, role, created_at)"
				       " VALUES (1, 999, 'mentor', 'x')", &d), -1);
	assert_non_null(strstr(d.msg, "FOREIGN KEY"));

	assert_null(store_prepare(st, "SELECT nope FROM nowhere", &d));
	assert_int_equal(d.code, DIAG_DB);
	store_rollback(st); /* harmless outside a transaction */

	/* A second connection cannot take the write lock while we hold it (busy, after the timeout). */
	assert_int_equal(store_begin(st, &d), 0);
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	sqlite3_busy_timeout(store_db(other), 10);
	assert_int_equal(store_begin(other, &d), -1);
	assert_non_null(strstr(d.msg, "retry"));
	store_close(other);
	store_rollback(st);
	store_close(st);
}

static long long
count_programs(struct store *st)
{
	return query_int(st, "SELECT count(*) FROM programs");
}

static int
add_program(struct store *st, const char *name, struct diag *d)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "INSERT INTO programs(name, created_at) VALUES ('%s', 'x')", name);
	return store_exec(st, sql, d);
}

static void
test_nested_transactions(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	assert_int_equal(store_depth(st), 0);

	/* Nested commit: the inner level lands with the outer one. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "outer", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_depth(st), 2);
	assert_int_equal(add_program(st, "inner", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_depth(st), 3);
	assert_int_equal(add_program(st, "innermost", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_depth(st), 0);
	assert_int_equal(count_programs(st), 3);

	/* An inner rollback discards only the inner level; the outer work commits. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "kept", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "dropped", &d), 0);
	store_rollback(st);
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(count_programs(st), 4);
	/* The level after a rolled-back one is a fresh savepoint of the same depth. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "again", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(count_programs(st), 5);
	assert_int_equal(query_int(st, "SELECT count(*) FROM programs WHERE name = 'dropped'"), 0);

	/* An outer rollback discards inner levels that had committed. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "o1", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "i1", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "i2", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(count_programs(st), 8);
	store_rollback(st);
	assert_int_equal(store_depth(st), 0);
	assert_int_equal(count_programs(st), 5);

	/* A failing statement inside a level: the level rolls back, the outer continues. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "dup", &d), 0);
	assert_int_equal(add_program(st, "dup", &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	store_rollback(st);
	assert_int_equal(add_program(st, "after", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(count_programs(st), 6);
	store_close(st);
}

/* A batch: inner levels run no SQL, land with the batch; an inner rollback spoils it. */
static void
test_batch(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "before", &d), 0);

	/* Inner levels commit into the batch, the batch into the transaction. */
	assert_int_equal(store_batch_begin(st, &d), 0);
	assert_int_equal(store_depth(st), 2);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "b%d", i);
		assert_int_equal(store_begin(st, &d), 0);
		assert_int_equal(store_depth(st), 3);
		assert_int_equal(store_begin(st, &d), 0); /* nested inside: still counted */
		assert_int_equal(store_depth(st), 4);
		assert_int_equal(add_program(st, name, &d), 0);
		assert_int_equal(store_commit(st, &d), 0);
		assert_int_equal(store_commit(st, &d), 0);
	}
	assert_int_equal(store_batch_spoiled(st), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(count_programs(st), 4);

	/* An inner rollback cannot undo its level: the batch is spoiled, its work still there
	 * until the batch is rolled back; levels inside it fail meanwhile. */
	assert_int_equal(store_batch_begin(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "kept-until-batch-rollback", &d), 0);
	store_rollback(st);
	assert_int_equal(store_batch_spoiled(st), 1);
	assert_int_equal(store_depth(st), 2);
	assert_int_equal(count_programs(st), 5);
	assert_int_equal(store_begin(st, &d), -1);
	assert_int_equal(d.code, DIAG_DB);
	store_rollback(st); /* the batch's level: a real rollback */
	assert_int_equal(store_batch_spoiled(st), 0);
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(count_programs(st), 4);

	/* An inner level that commits after a deeper one rolled back fails, and committing the
	 * spoiled batch fails and rolls it back. */
	assert_int_equal(store_batch_begin(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "x", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	store_rollback(st);
	assert_int_equal(store_commit(st, &d), -1);
	assert_int_equal(store_depth(st), 2);
	assert_int_equal(store_commit(st, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(count_programs(st), 4);

	/* After a batch, levels are savepoints again: an inner rollback undoes its own work. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "dropped", &d), 0);
	store_rollback(st);
	assert_int_equal(store_batch_spoiled(st), 0);
	assert_int_equal(count_programs(st), 4);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_depth(st), 0);
	assert_int_equal(count_programs(st), 4);

	/* A batch as the outermost level is the transaction itself. */
	assert_int_equal(store_batch_begin(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "outer-batch", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_depth(st), 0);
	assert_int_equal(count_programs(st), 5);
	store_close(st);
}

static void
test_transaction_depth_errors(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);

	/* Commit without begin is a bug in the caller, not a database error. */
	assert_int_equal(store_commit(st, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_non_null(strstr(d.msg, "without a transaction"));
	assert_int_equal(store_depth(st), 0);
	/* Rollback without begin does nothing (and rolls back nothing). */
	store_rollback(st);
	assert_int_equal(store_depth(st), 0);

	/* One commit too many after a nested pair. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);

	/* A failed outer commit (deferred foreign key) closes its level: the next begin is a
	 * fresh BEGIN IMMEDIATE, not a savepoint of a dead transaction. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "PRAGMA defer_foreign_keys=ON", &d), 0);
	assert_int_equal(store_exec(st, "INSERT INTO enrollments(program_id, person_id, role, created_at)"
				       " VALUES (99, 999, 'mentor', 'x')", &d), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "lost", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_commit(st, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_int_equal(store_depth(st), 0);
	assert_int_equal(count_programs(st), 0);
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_depth(st), 1);
	store_rollback(st);
	store_close(st);
}

static void
test_busy_fails_at_outer_begin(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	assert_non_null(st);
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	sqlite3_busy_timeout(store_db(other), 10);

	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(add_program(st, "mine", &d), 0);
	/* The other connection fails at its outer begin, before any work, and opens no level. */
	assert_int_equal(store_begin(other, &d), -1);
	assert_int_equal(d.code, DIAG_DB);
	assert_non_null(strstr(d.msg, "retry"));
	assert_int_equal(store_depth(other), 0);
	/* ... so its rollback on the error path cannot touch anything. */
	store_rollback(other);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(store_begin(other, &d), 0);
	assert_int_equal(add_program(other, "theirs", &d), 0);
	assert_int_equal(store_commit(other, &d), 0);
	assert_int_equal(count_programs(st), 2);
	store_close(other);
	store_close(st);
}

static void
test_clock(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store *st = store_open(f->path, STORE_CREATE, &d);
	char buf[STORE_TIME_MAX];
	time_t t = 1795356000; /* 2026-11-22T14:00:00Z */
	assert_int_equal(store_format_time(t, buf), 0);
	assert_string_equal(buf, "2026-11-22T14:00:00Z");
	/* A virtual clock injected into the store stamps its rows; its owner moves it. */
	struct clock vc;
	clock_virtual_init(&vc, t);
	assert_true(store_clock(st) == clock_real());
	store_set_clock(st, &vc);
	assert_true(store_clock(st) == &vc);
	assert_int_equal(store_time(st), t);
	assert_int_equal(store_timestamp(st, buf), 0);
	assert_string_equal(buf, "2026-11-22T14:00:00Z");
	clock_virtual_advance(&vc, 86400 * 1000);
	store_timestamp(st, buf);
	assert_string_equal(buf, "2026-11-23T14:00:00Z");
	clock_virtual_set(&vc, t - 3600);
	assert_int_equal(store_time(st), t - 3600);
	store_set_clock(st, NULL);
	assert_true(store_clock(st) == clock_real());
	assert_true(store_time(st) - time(NULL) <= 1);
	assert_int_equal(store_now(buf), 0);
	assert_int_equal(strlen(buf), 20);
	assert_int_equal(buf[19], 'Z');
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_sets_pragmas_and_migrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_foreign_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_depth_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_fails_at_outer_begin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/store/stmt: checked prepare, bind, step, run, reset and column readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/stmt.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_stmt.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL ||
	    store_exec(f->st, "CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, u TEXT UNIQUE)", &d))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
test_bind_run_and_read(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct stmt ins;
	assert_int_equal(stmt_prepare(&ins, f->st, "inserting a t", "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
				      &d), 0);
	assert_int_equal(stmt_param_count(&ins), 5);
	char text[] = "hello";
	const unsigned char bytes[] = {1, 0, 2};
	assert_int_equal(stmt_bind_int64(&ins, 1, INT64_MAX, &d) || stmt_bind_double(&ins, 2, 2.5, &d) ||
			 stmt_bind_text(&ins, 3, text, &d) || stmt_bind_blob(&ins, 4, bytes, 3, &d) ||
			 stmt_bind_text_copy(&ins, 5, "a", &d) || stmt_run(&ins, &d),
			 0);
	/* stmt_run reset the statement: bind again and run again. */
	assert_int_equal(stmt_bind_int64(&ins, 1, -1, &d) || stmt_bind_null(&ins, 2, &d) ||
			 stmt_bind_textn(&ins, 3, "abcdef", 3, &d) || stmt_bind_blob(&ins, 4, NULL, 0, &d) ||
			 stmt_bind_text(&ins, 5, "b", &d) || stmt_run(&ins, &d),
			 0);
	stmt_finalize(&ins);
	assert_null(ins.s);
	stmt_finalize(&ins); /* twice is fine */

	struct stmt q;
	assert_int_equal(stmt_prepare(&q, f->st, "reading t", "SELECT i, r, s, b, u FROM t ORDER BY u", &d), 0);
	assert_int_equal(stmt_column_count(&q), 5);
	const char *name = NULL;
	assert_int_equal(stmt_column_name(&q, 2, &name, &d), 0);
	assert_string_equal(name, "s");
	assert_int_equal(stmt_step(&q, &d), STMT_ROW);
	assert_true(stmt_int64(&q, 0) == INT64_MAX);
	assert_true(stmt_double(&q, 1) == 2.5);
	const char *s = NULL;
	assert_int_equal(stmt_text(&q, 2, &s, &d), 0);
	assert_string_equal(s, "hello");
	const void *p = NULL;
	size_t n = 0;
	assert_int_equal(stmt_blob(&q, 3, &p, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, bytes, 3);
	assert_int_equal(stmt_step(&q, &d), STMT_ROW);
	assert_true(stmt_int64(&q, 0) == -1);
	assert_true(stmt_is_null(&q, 1));
	assert_false(stmt_is_null(&q, 0));
	assert_int_equal(stmt_text(&q, 2, &s, &d), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(stmt_blob(&q, 3, &p, &n, &d), 0); /* SQL NULL: not an error */
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(stmt_text(&q, 1, &s, &d), 0);
	assert_null(s);
	assert_int_equal(stmt_step(&q, &d), STMT_DONE);
	/* Reset keeps the statement usable from the first row. */
	assert_int_equal(stmt_reset(&q, &d), 0);
	assert_int_equal(stmt_step(&q, &d), STMT_ROW);
	stmt_finalize(&q);

	int64_t v = 0;
	assert_int_equal(stmt_query_int64(f->st, "counting", "SELECT count(*) FROM t", &v, &d), 0);
	assert_int_equal(v, 2);
	assert_int_equal(stmt_query_int64(f->st, "nothing", "SELECT 1 WHERE 0", &v, &d), 0);
	assert_int_equal(v, 0);
}

static void
test_errors_name_statement_and_parameter(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct stmt s = {0};
	stmt_finalize(&s); /* a zeroed struct is fine to finalize */

	/* Prepare names the file and the statement. */
	assert_int_equal(stmt_prepare(&s, f->st, "reading nowhere", "SELECT x FROM nowhere", &d), -1);
	assert_int_equal(d.code, DIAG_DB);
	assert_non_null(strstr(d.msg, "preparing reading nowhere: no such table"));
	assert_non_null(strstr(d.msg, f->path));
	assert_null(s.s);

	/* A parameter out of range is a bug: named by number and by name. */
	assert_int_equal(stmt_prepare(&s, f->st, "inserting a t", "INSERT INTO t(i, s) VALUES (?1, :s)", &d), 0);
	assert_int_equal(stmt_bind_int64(&s, 1, 1, &d) || stmt_bind_int64(&s, 3, 3, &d) ||
			 stmt_bind_text(&s, 2, "never bound", &d),
			 1); /* || yields 1 when any failed */
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_string_equal(d.msg, "inserting a t: binding parameter 3: column index out of range");
	/* The chain stopped at the failure: parameter 2 is still unbound (NULL). */
	assert_int_equal(stmt_run(&s, &d), 0);
	assert_int_equal(stmt_bind_int64(&s, 1, 2, &d) || stmt_bind_textn(&s, 2, "x", (size_t)1 << 40, &d), 1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "binding parameter 2 (:s): "));
	stmt_finalize(&s);
	int64_t v = -1;
	assert_int_equal(stmt_query_int64(f->st, "counting", "SELECT count(*) FROM t WHERE s IS NULL", &v, &d), 0);
	assert_int_equal(v, 1);

	/* A failing step is a diag naming the statement; a constraint is a conflict. */
	assert_int_equal(stmt_prepare(&s, f->st, "adding a unique", "INSERT INTO t(u) VALUES (?1)", &d), 0);
	assert_int_equal(stmt_bind_text(&s, 1, "same", &d) || stmt_run(&s, &d), 0);
	assert_int_equal(stmt_bind_text(&s, 1, "same", &d) || stmt_run(&s, &d), 1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "adding a unique: UNIQUE constraint failed"));
	/* After a failed run the statement was reset: it runs again with new bindings. */
	assert_int_equal(stmt_bind_text(&s, 1, "other", &d) || stmt_run(&s, &d), 0);
	stmt_finalize(&s);

	/* stmt_run on a statement that returns a row is an error, not a silent success. */
	assert_int_equal(stmt_prepare(&s, f->st, "selecting one", "SELECT 1", &d), 0);
	assert_int_equal(stmt_run(&s, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_non_null(strstr(d.msg, "selecting one: returned a row"));
	stmt_finalize(&s);

	/* A busy database: the step fails with the retry hint. */
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	sqlite3_busy_timeout(store_db(other), 10);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(store_exec(f->st, "INSERT INTO t(i) VALUES (9)", &d), 0);
	assert_int_equal(stmt_prepare(&s, other, "writing from elsewhere", "INSERT INTO t(i) VALUES (10)", &d), 0);
	assert_int_equal(stmt_run(&s, &d), -1);
	assert_non_null(strstr(d.msg, "writing from elsewhere: "));
	assert_non_null(strstr(d.msg, "retry"));
	stmt_finalize(&s);
	store_rollback(f->st);
	store_close(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_run_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_statement_and_parameter, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for serve/simcopy, the copy `tandem simulate` runs on: a --keep folder made,
 * taken when empty, refused when not; a temporary folder under TMPDIR; the workspace
 * copied (tandem.lua, nested plugin files with their modes, the database's rows through
 * VACUUM INTO) and the real one unchanged; no tandem.lua refused; a path that does not fit
 * refused; the copy removed whole.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "serve/simcopy.h"

static char root[256];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
read_file(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/test_simcopy.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(root) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	simcopy_remove(root);
	struct stat sb;
	return stat(root, &sb) == 0 ? -1 : 0;
}

static void
test_keep_folder(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	char keep[512], out[512];
	snprintf(keep, sizeof(keep), "%s/keep", root);
	assert_int_equal(simcopy_dir(keep, out, sizeof(out), &d), 0); /* made */
	assert_string_equal(out, keep);
	assert_int_equal(simcopy_dir(keep, out, sizeof(out), &d), 0); /* empty: taken */
	char f[600];
	snprintf(f, sizeof(f), "%s/x", keep);
	write_file(f, "x", 0600);
	assert_int_equal(simcopy_dir(keep, out, sizeof(out), &d), -1);
	assert_non_null(strstr(d.msg, "not empty"));
	assert_int_equal(simcopy_dir(keep, out, 8, &d), -1); /* does not fit */
	assert_non_null(strstr(d.msg, "too long"));
}

static void
test_temporary_folder(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	char out[512], *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", root, 1);
	assert_int_equal(simcopy_dir(NULL, out, sizeof(out), &d), 0);
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	assert_int_equal(strncmp(out, root, strlen(root)), 0);
	assert_non_null(strstr(out, "/tandem-simulate."));
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
}

static void
test_workspace_copied(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	char ws[512], p[800], db[700], dir[512];
	snprintf(ws, sizeof(ws), "%s/ws", root);
	assert_int_equal(mkdir(ws, 0700), 0);
	snprintf(p, sizeof(p), "%s/tandem.lua", ws);
	write_file(p, "-- config\n", 0640);
	snprintf(p, sizeof(p), "%s/plugins", ws);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/plugins/rewards", ws);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/plugins/rewards/r.lua", ws);
	write_file(p, "return 1\n", 0750);
	snprintf(db, sizeof(db), "%s/tandem.db", ws);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);

	snprintf(dir, sizeof(dir), "%s/copy", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(simcopy_workspace(ws, db, dir, &d), 0);
	snprintf(p, sizeof(p), "%s/tandem.lua", dir);
	assert_string_equal(read_file(p), "-- config\n");
	snprintf(p, sizeof(p), "%s/plugins/rewards/r.lua", dir);
	assert_string_equal(read_file(p), "return 1\n");
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0750);
	snprintf(p, sizeof(p), "%s/scripts", dir); /* absent in the workspace: not made */
	assert_int_not_equal(stat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/tandem.db", dir);
	assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT sum(x) FROM t", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 6);
	sqlite3_finalize(q);
	sqlite3_close(h);
	/* The real database left as it was: no log files behind. */
	snprintf(p, sizeof(p), "%s-wal", db);
	assert_int_not_equal(stat(p, &sb), 0);

	/* Into a copy that already has a tandem.lua: refused (files are created, not replaced). */
	assert_int_equal(simcopy_workspace(ws, db, dir, &d), -1);
	/* No tandem.lua: refused, naming it. */
	snprintf(p, sizeof(p), "%s/tandem.lua", ws);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(simcopy_workspace(ws, db, root, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_non_null(strstr(d.msg, "tandem.lua"));
}

static void
test_join(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	char buf[16];
	assert_int_equal(simcopy_join(buf, sizeof(buf), "/a", "b.lua", &d), 0);
	assert_string_equal(buf, "/a/b.lua");
	assert_int_equal(simcopy_join(buf, sizeof(buf), "/a/long/folder", "name.lua", &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keep_folder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_temporary_folder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_workspace_copied, setup, teardown),
	    cmocka_unit_test(test_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

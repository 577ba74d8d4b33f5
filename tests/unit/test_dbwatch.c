/*
 * Unit tests for core/serve/dbwatch: on a libuv loop, a commit by another connection to
 * the same database calls on_change; the watching connection's own commits, and writes to
 * other files of the folder, do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "serve/dbwatch.h"
#include "store/store.h"

struct fx {
	char dir[64], path[128];
	struct store *own, *other;
	struct dbwatch *w;
	uv_timer_t t;
	int tick, changes, changes_after_own, changes_after_other;
};

static void
on_change(void *ud)
{
	((struct fx *)ud)->changes++;
}

static void
exec(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) != 0)
		fail_msg("exec %s: %s", sql, d.msg);
}

/* Every 100 ms, one thing: our own commit, another file, another connection's commit, stop. */
static void
on_tick(uv_timer_t *t)
{
	struct fx *f = t->data;
	char other[160];
	switch (f->tick++) {
	case 0:
		exec(f->own, "INSERT INTO programs (name, created_at) VALUES ('own', 'x')");
		break;
	case 1:
		snprintf(other, sizeof(other), "%s/notes.txt", f->dir);
		FILE *fp = fopen(other, "w");
		assert_non_null(fp);
		fputs("hello\n", fp);
		fclose(fp);
		f->changes_after_own = f->changes;
		break;
	case 2:
		exec(f->other, "INSERT INTO programs (name, created_at) VALUES ('other', 'x')");
		break;
	case 3:
		f->changes_after_other = f->changes;
		dbwatch_stop(f->w);
		uv_close((uv_handle_t *)t, NULL);
		break;
	}
}

static void
test_other_commits_only(void **state)
{
	(void)state;
	struct fx f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_dbwatch.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/tandem.db", f.dir);
	struct diag d;
	f.own = store_open(f.path, STORE_CREATE, &d);
	assert_non_null(f.own);
	f.other = store_open(f.path, 0, &d);
	assert_non_null(f.other);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	f.w = dbwatch_new(&loop, f.own, f.path, on_change, &f, &d);
	if (f.w == NULL)
		fail_msg("dbwatch_new: %s", d.msg);
	uv_timer_init(&loop, &f.t);
	f.t.data = &f;
	uv_timer_start(&f.t, on_tick, 100, 100);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(f.changes_after_own, 0);   /* our commit, another file: nothing */
	assert_int_equal(f.changes_after_other, 1); /* the other connection's commit: once */
	store_close(f.other);
	store_close(f.own);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f.dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_commits_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

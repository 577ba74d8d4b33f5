/* Unit tests for core/sched/reveal: a rating window closes SESSION_REVEAL_DAYS after the
 * session's end; a one-sided rating then raises feedback.revealed (once, about the side
 * that rated, without the rating), and top_mentor sees the ratings that became visible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rewards/dispatch.h"
#include "sched/reveal.h"
#include "store/stmt.h"
#include "store/store.h"

/* 2026-01-05T10:00:00Z; session i starts i days later, lasts 60 minutes. */
#define T0 1767607200

struct fixture {
	char dir[64], path[128];
	struct store *st;
	struct clock clock;
};

static void
exec_ok(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
}

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	if (stmt_query_int64(st, "test query", sql, &v, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
	return v;
}

/* Sessions 1-3: only the mentee rated (5); 4: both rated; 5: nobody rated; 6: still
 * planned; 7: missed, nobody rated. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_reveal.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, T0);
	store_set_clock(f->st, &f->clock);
	exec_ok(f->st,
		"INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at)"
		" VALUES (1, 'E1', 'Ana', 'ana@x.org', 'UTC', 't', 't'),"
		" (2, 'E2', 'Bo', 'bo@x.org', 'UTC', 't', 't');"
		"INSERT INTO programs (id, name, created_at) VALUES (1, 'pilot', 't');"
		"INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)"
		" VALUES (1, 1, 1, 2, 'active', 't');");
	for (int i = 1; i <= 7; i++) {
		char sql[512];
		const char *status = i == 6 ? "planned" : i == 7 ? "missed" : "held";
		snprintf(sql, sizeof(sql),
			 "INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone,"
			 " planned_by, status, created_at, updated_at) VALUES (%d, 1,"
			 " strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', %d, 'unixepoch'), 60, 'UTC', 'm', '%s',"
			 " 't', 't')",
			 i, T0 + 86400 * i, status);
		exec_ok(f->st, sql);
	}
	exec_ok(f->st,
		"INSERT INTO feedback (session_id, match_id, author_id, outcome, rating, created_at)"
		" VALUES (1, 1, 2, 'held', 5, 't'), (2, 1, 2, 'held', 5, 't'),"
		" (3, 1, 2, 'held', 5, 't'), (4, 1, 2, 'held', 4, 't'), (4, 1, 1, 'held', 3, 't'),"
		" (5, 1, 1, 'held', NULL, 't')");
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

static int
reveal(struct fixture *f, time_t now)
{
	struct diag d;
	int n = -1;
	if (reveal_due(f->st, now, &n, &d) != 0)
		fail_msg("reveal_due: %s", d.msg);
	return n;
}

/* The windows close one by one at end + 7 days, never before; the instant reveal_next
 * announces is the one where the next closes. */
static void
test_windows_close_at_their_time(void **state)
{
	struct fixture *f = *state;
	const time_t week = 86400 * 7;
	time_t at = 0;
	struct diag d;
	assert_int_equal(reveal_next(f->st, &at, &d), 0);
	assert_int_equal(at, T0 + 86400 + 3600 + week); /* session 1's end + 7 days */
	assert_int_equal(reveal(f, at - 1), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM sessions WHERE revealed_at IS NOT NULL"),
			 0);
	assert_int_equal(reveal(f, at), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM sessions WHERE revealed_at IS NOT NULL"),
			 1);
	assert_int_equal(reveal_next(f->st, &at, &d), 0);
	assert_int_equal(at, T0 + 2 * 86400 + 3600 + week);
	/* Everything: sessions 2 and 3 raise it; 4 (both rated), 5 (no rating) and 7 (missed,
	 * no rating) close silently; 6 (planned) stays open. */
	assert_int_equal(reveal(f, T0 + 86400 * 60), 2);
	assert_int_equal(reveal(f, T0 + 86400 * 61), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM sessions WHERE revealed_at IS NULL"), 1);
	assert_int_equal(qint(f->st, "SELECT id FROM sessions WHERE revealed_at IS NULL"), 6);
	assert_int_equal(reveal_next(f->st, &at, &d), 1);
	/* About the side that rated, never the rating. */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'feedback.revealed'"),
			 3);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'feedback.revealed' "
				     "AND subject_id = 2 AND program_id = 1 AND "
				     "json_extract(payload, '$.by') = 'mentee' AND "
				     "json_extract(payload, '$.match') = 1 AND "
				     "json_extract(payload, '$.rating') IS NULL"),
			 3);
}

/* The mentee's three 5s were hidden (the mentor never rated): top_mentor grants nothing at
 * their feedback.given; once the windows close, feedback.revealed lets it see them. */
static void
test_top_mentor_sees_revealed(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct dispatch_opts o = {.only = "top_mentor"};
	struct dispatch_result r;
	const char *given = "INSERT INTO events (at, kind, subject_id, program_id, payload) "
			    "VALUES ('t', 'feedback.given', 2, 1, json_object('session', %d, "
			    "'match', 1))";
	for (int i = 1; i <= 3; i++) {
		char sql[256];
		snprintf(sql, sizeof(sql), given, i);
		exec_ok(f->st, sql);
	}
	time_t before = T0 + 86400 * 4; /* the ratings still hidden */
	assert_int_equal(rewards_dispatch(f->st, &o, before, &r, &d), 0);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE badge = 'top-mentor'"), 0);
	time_t later = T0 + 86400 * 30;
	assert_int_equal(reveal(f, later), 3);
	assert_int_equal(rewards_dispatch(f->st, &o, later, &r, &d), 0);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE badge = 'top-mentor' AND "
				     "person_id = 1"),
			 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_windows_close_at_their_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top_mentor_sees_revealed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

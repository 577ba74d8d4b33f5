/*
 * session_fixture: what test_session.c and test_lifecycle.c share: a scratch store on a
 * virtual clock holding two pairs of one program, and small readers of the tables.
 * A header of static functions: each test program includes it once.
 *
 * People: E1 Ann (mentor, Europe/Paris), E2 Bo (mentee, America/New_York), E3 Cy
 * (mentor, UTC), E4 Di (mentee, Asia/Kolkata). Program 1 'p'. Matches: #1 E1 -> E2
 * active, #2 E3 -> E4 approved, #3 E1 -> E4 proposed. E1 offers ai_tools and
 * data_literacy and wants leadership; E2 wants data_literacy and ai_tools and offers
 * leadership: their shared topics are all three.
 */
#ifndef TANDEM_TEST_SESSION_FIXTURE_H
#define TANDEM_TEST_SESSION_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/cal.h"

static char fx_dir[64];
static struct clock fx_clock;

static const char fx_org_sql[] =
    "INSERT INTO programs (id, name, created_at) VALUES (1, 'p', 'now');"
    "INSERT INTO people (id, external_id, name, email, timezone, skills, topics_wanted, "
    "created_at, updated_at) VALUES "
    "(1, 'E1', 'Ann', 'a@x', 'Europe/Paris', '[]', '[]', 'now', 'now'),"
    "(2, 'E2', 'Bo', 'b@x', 'America/New_York', '[]', '[]', 'now', 'now'),"
    "(3, 'E3', 'Cy', 'c@x', 'UTC', '[]', '[\"wellbeing\"]', 'now', 'now'),"
    "(4, 'E4', 'Di', 'd@x', 'Asia/Kolkata', '[]', '[\"strategy\"]', 'now', 'now');"
    "INSERT INTO enrollments (program_id, person_id, role, topics_offered, topics_wanted, "
    "consent, created_at) VALUES "
    "(1, 1, 'mentor', '[\"ai_tools\",\"data_literacy\"]', '[\"leadership\"]', 1, 'now'),"
    "(1, 2, 'mentee', '[\"leadership\"]', '[\"data_literacy\",\"ai_tools\"]', 1, 'now'),"
    "(1, 3, 'mentor', '[]', '[]', 1, 'now'),"
    "(1, 4, 'mentee', '[]', '[]', 1, 'now');"
    "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at) VALUES "
    "(1, 1, 1, 2, 'active', 'now'), (2, 1, 3, 4, 'approved', 'now'),"
    "(3, 1, 1, 4, 'proposed', 'now');";

static int
fx_setup(void **state)
{
	(void)state;
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/test_session.XXXXXX");
	return mkdtemp(fx_dir) ? 0 : -1;
}

static int
fx_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The UTC instant of a wall time read as UTC. */
static time_t
fx_utc(int y, int mo, int da, int h, int mi)
{
	struct cal_time w = {.year = y, .mon = mo, .day = da, .hour = h, .min = mi};
	return (time_t)cal_to_epoch(&w);
}

static void
fx_exec(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) != 0)
		fail_msg("exec: %s", d.msg);
}

/* A fresh store with the organization, its clock at now. */
static struct store *
fx_store(time_t now)
{
	static int n;
	char path[128];
	snprintf(path, sizeof(path), "%s/s%d.db", fx_dir, n++);
	struct diag d;
	struct store *st = store_open(path, STORE_CREATE, &d);
	if (st == NULL)
		fail_msg("store_open: %s", d.msg);
	clock_virtual_init(&fx_clock, now);
	store_set_clock(st, &fx_clock);
	fx_exec(st, fx_org_sql);
	return st;
}

static int64_t
fx_int(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	if (stmt_query_int64(st, "test", sql, &v, &d) != 0)
		fail_msg("query %s: %s", sql, d.msg);
	return v;
}

/* Column 0 of the first row of sql as text ("" when none); valid until the next call. */
static const char *
fx_text(struct store *st, const char *sql)
{
	static char buf[512];
	struct stmt s = {0};
	struct diag d;
	const char *t = NULL;
	buf[0] = '\0';
	if (stmt_prepare(&s, st, "test", sql, &d) != 0)
		fail_msg("prepare %s: %s", sql, d.msg);
	if (stmt_step(&s, &d) == STMT_ROW && stmt_text(&s, 0, &t, &d) == 0 && t)
		snprintf(buf, sizeof(buf), "%s", t);
	stmt_finalize(&s);
	return buf;
}

static int64_t
fx_events(struct store *st, const char *kind)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE kind = '%s'", kind);
	return fx_int(st, sql);
}

#endif

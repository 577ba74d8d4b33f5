/* Unit tests for core/enroll: the enrollment importer (valid files, upserts,
 * every kind of bad row with its FILE:LINE:COLUMN message, all-or-nothing,
 * --map, dry runs, warnings for undeclared topics). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "program/enroll.h"
#include "store/store.h"

static char dbpath[256];

static struct store *
open_db(void)
{
	struct diag d;
	struct store *st = store_open(dbpath, STORE_CREATE, &d);
	if (st == NULL)
		fail_msg("store_open: %s", d.msg);
	return st;
}

static int
setup(void **state)
{
	snprintf(dbpath, sizeof(dbpath), "/tmp/test_enroll.%d.db", (int)getpid());
	unlink(dbpath);
	struct store *st = open_db();
	struct diag d;
	const char *sql =
	    "INSERT INTO programs (id, name, created_at) VALUES (1, 'p1', 'x');"
	    "INSERT INTO people (id, external_id, name, email, timezone, level, created_at, "
	    "updated_at, status) VALUES "
	    "(1, 'E1', 'Ann', 'ann@x.org', 'UTC', 2, 'x', 'x', 'active'),"
	    "(2, 'E2', 'Bob', 'bob@x.org', 'UTC', 7, 'x', 'x', 'active'),"
	    "(3, 'E3', 'Cy', 'cy@x.org', 'UTC', 5, 'x', 'x', 'active'),"
	    "(4, 'E4', 'Di', 'di@x.org', 'UTC', 5, 'x', 'x', 'terminated');";
	if (store_exec(st, sql, &d) < 0)
		fail_msg("%s", d.msg);
	store_close(st);
	*state = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(dbpath);
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", dbpath);
	unlink(wal);
	return 0;
}

static const char *const topics[] = {"ai_tools", "leadership", "strategy"};

/* Imports text; returns the rc and leaves res filled (caller finis). */
static int
import(struct store *st, const char *text, int dry, const char *const *map, int nmap,
       struct enroll_result *res, struct diag *d)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	struct enroll_opts o = {.map = map,
				.nmap = nmap,
				.dry_run = dry,
				.actor = "test",
				.topics = topics,
				.ntopics = 3};
	int rc = enroll_import(st, 1, f, "survey.csv", &o, res, d);
	fclose(f);
	return rc;
}

static long
count(struct store *st, const char *sql)
{
	struct diag d;
	sqlite3_stmt *s = store_prepare(st, sql, &d);
	assert_non_null(s);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	long n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
test_valid_import_and_upsert(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct enroll_result res;
	struct diag d;
	const char *csv =
	    "person,role,capacity,topics_offered,topics_wanted,availability,consent,team_size\n"
	    "E1,mentor,2,ai_tools;  ai_tools ;social_media,,mon-am;WED-PM,yes,4\n"
	    "bob@x.org,mentee,,,ai_tools;strategy,mon-am,YES,\n"
	    "E3,both,,leadership,ai_tools,,0,\n";
	if (import(st, csv, 0, NULL, 0, &res, &d) < 0)
		fail_msg("%s / %s", d.msg, res.nkept ? res.errors[0] : "");
	assert_int_equal(res.total, 3);
	assert_int_equal(res.created, 3);
	assert_int_equal(res.mentors, 2);
	assert_int_equal(res.mentees, 2);
	assert_int_equal(res.nwarnings, 1); /* social_media is not declared by the program */
	assert_non_null(
	    strstr(res.warnings[0], "survey.csv:2:4: topics_offered: topic 'social_media'"));
	enroll_result_fini(&res);
	assert_int_equal(count(st, "SELECT count(*) FROM enrollments"), 3);
	assert_int_equal(count(st, "SELECT capacity FROM enrollments WHERE person_id = 1"), 2);
	assert_int_equal(count(st, "SELECT capacity FROM enrollments WHERE person_id = 3"), 1);
	assert_int_equal(count(st, "SELECT consent FROM enrollments WHERE person_id = 3"), 0);
	assert_int_equal(count(st, "SELECT topics_offered = '[\"ai_tools\",\"social_media\"]' "
				   "FROM enrollments WHERE person_id = 1"),
			 1);
	assert_int_equal(count(st, "SELECT availability = '[\"mon-am\",\"wed-pm\"]' FROM "
				   "enrollments WHERE person_id = 1"),
			 1);
	assert_int_equal(count(st, "SELECT attributes = '{\"team_size\":\"4\"}' FROM enrollments "
				   "WHERE person_id = 1"),
			 1);
	assert_int_equal(
	    count(st, "SELECT count(*) FROM events WHERE kind = 'enrollments.imported'"), 1);

	/* Upsert: the same person again updates; others keep their rows. */
	if (import(st, "person,role,capacity,consent\nE1,mentor,3,no\n", 0, NULL, 0, &res, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.created, 0);
	enroll_result_fini(&res);
	assert_int_equal(count(st, "SELECT capacity FROM enrollments WHERE person_id = 1"), 3);
	assert_int_equal(count(st, "SELECT consent FROM enrollments WHERE person_id = 1"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM enrollments"), 3);
	store_close(st);
}

static void
expect_errors(const char *csv, const char *const *want, int nwant, const char *const *map, int nmap)
{
	struct store *st = open_db();
	long before = count(st, "SELECT count(*) FROM enrollments") * 1000 +
		      count(st, "SELECT count(*) FROM events");
	struct enroll_result res;
	struct diag d;
	assert_int_equal(import(st, csv, 0, map, nmap, &res, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "nothing imported"));
	for (int k = 0; k < nwant; k++) {
		int found = 0;
		for (int i = 0; i < res.nkept; i++)
			found |= strstr(res.errors[i], want[k]) != NULL;
		if (!found)
			fail_msg("no error contains '%s' (first: %s)", want[k],
				 res.nkept ? res.errors[0] : "none");
	}
	enroll_result_fini(&res);
	assert_int_equal(count(st, "SELECT count(*) FROM enrollments") * 1000 +
			     count(st, "SELECT count(*) FROM events"),
			 before);
	store_close(st);
}

static void
test_bad_rows(void **state)
{
	(void)state;
	const char *csv = "person,role,capacity,availability,consent\n"
			  "E9,mentor,1,,yes\n"	     /* unknown person */
			  "E1,teacher,1,,yes\n"	     /* bad role */
			  "E2,mentor,-1,,yes\n"	     /* negative capacity */
			  "E3,mentee,,someday,yes\n" /* bad slot */
			  "E2,mentee,,,maybe\n"	     /* bad consent (and E2 again) */
			  "E4,mentee,,,yes\n"	     /* terminated */
			  "E3,mentor,1,,\n";	     /* duplicate + empty consent */
	const char *want[] = {
	    "survey.csv:2:1: person: unknown person 'E9'",
	    "survey.csv:3:2: role: 'teacher' is not mentor, mentee or both",
	    "survey.csv:4:3: capacity: '-1' is not an integer in 0..1000",
	    "survey.csv:5:4: availability: bad slot 'someday'",
	    "survey.csv:6:5: consent: 'maybe' is not yes/no",
	    "survey.csv:6:1: person: 'E2' is enrolled twice (first on line 4)",
	    "survey.csv:7:1: person: 'E4' has left the organization",
	    "survey.csv:8:1: person: 'E3' is enrolled twice (first on line 5)",
	    "survey.csv:8:5: consent: empty",
	};
	expect_errors(csv, want, 9, NULL, 0);
}

/* A file name longer than the message buffer: the error is cut, not overflowed. */
static void
test_long_name(void **state)
{
	(void)state;
	static char name[3000];
	memset(name, 'd', sizeof(name) - 1);
	const char *csv = "person,role\nE1,teacher\n";
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	assert_non_null(f);
	struct enroll_opts o = {.actor = "test", .topics = topics, .ntopics = 3};
	struct enroll_result res;
	struct diag d;
	struct store *st = open_db();
	assert_int_equal(enroll_import(st, 1, f, name, &o, &res, &d), -1);
	fclose(f);
	assert_int_equal(res.nerrors, 1);
	assert_int_equal(res.nkept, 1);
	assert_int_equal(strncmp(res.errors[0], "ddd", 3), 0);
	assert_true(strlen(res.errors[0]) < 1024);
	enroll_result_fini(&res);
	store_close(st);
}

static void
test_header_errors_and_map(void **state)
{
	(void)state;
	const char *want1[] = {"survey.csv:1:1: missing required column 'consent'"};
	expect_errors("person,role\nE1,mentor\n", want1, 1, NULL, 0);
	const char *want2[] = {"--map 'Agreed=agreement': 'agreement' is not an enrollment field"};
	const char *map2[] = {"Agreed=agreement"};
	expect_errors("person,role,Agreed\nE1,mentor,yes\n", want2, 1, map2, 1);
	const char *want3[] = {"survey.csv:1:1: empty file"};
	expect_errors("", want3, 1, NULL, 0);
	const char *want4[] = {"survey.csv:3:2: unterminated"};
	expect_errors("person,role,consent\nE1,mentor,yes\nE2,\"mentee,yes\n", want4, 1, NULL, 0);

	/* A mapped header works, and a dry run writes nothing. */
	struct store *st = open_db();
	struct enroll_result res;
	struct diag d;
	const char *map[] = {"Employee=person", "Agreed=consent"};
	long before = count(st, "SELECT count(*) FROM enrollments");
	if (import(st, "Employee,Role,Agreed\nann@x.org,mentor,true\n", 1, map, 2, &res, &d) < 0)
		fail_msg("%s / %s", d.msg, res.nkept ? res.errors[0] : "");
	assert_int_equal(res.total, 1);
	enroll_result_fini(&res);
	assert_int_equal(count(st, "SELECT count(*) FROM enrollments"), before);
	store_close(st);
}

static void
test_helpers(void **state)
{
	(void)state;
	assert_int_equal(enroll_parse_consent("Yes"), 1);
	assert_int_equal(enroll_parse_consent("0"), 0);
	assert_int_equal(enroll_parse_consent("FALSE"), 0);
	assert_int_equal(enroll_parse_consent("sure"), -1);
	assert_true(enroll_valid_slot("mon-am"));
	assert_true(enroll_valid_slot("sun-eve"));
	assert_false(enroll_valid_slot("monday-am"));
	assert_false(enroll_valid_slot("mon-noon"));
	assert_false(enroll_valid_slot("mon"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_valid_import_and_upsert),
	    cmocka_unit_test(test_bad_rows),
	    cmocka_unit_test(test_long_name),
	    cmocka_unit_test(test_header_errors_and_map),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests for core/people: import validation, upsert, managers and cycles, export, erase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/sha256.h"
#include "program/people.h"
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
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_people.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
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

/* Imports CSV text; returns the result code, res filled (caller finis it). */
static int
import(struct store *st, const char *csv, const struct people_import_opts *o,
       struct people_import_result *res, struct diag *d)
{
	FILE *f = fmemopen((void *)csv, strlen(csv), "rb");
	assert_non_null(f);
	int rc = people_import(st, f, "people.csv", o, res, d);
	fclose(f);
	return rc;
}

static int
import_ok(struct store *st, const char *csv, long *created, long *updated)
{
	struct people_import_result res;
	struct diag d;
	int rc = import(st, csv, NULL, &res, &d);
	if (rc != 0) {
		for (int i = 0; i < res.nkept; i++)
			print_message("%s\n", res.errors[i]);
		fail_msg("import failed: %s", d.msg);
	}
	*created = res.created;
	*updated = res.updated;
	people_import_result_fini(&res);
	return rc;
}

/* Imports text that must fail; returns all error lines joined, for strstr checks. */
static char *
import_errors(struct store *st, const char *csv, const struct people_import_opts *o)
{
	static char all[16384];
	struct people_import_result res;
	struct diag d;
	assert_int_equal(import(st, csv, o, &res, &d), -1);
	assert_true(res.nerrors > 0);
	assert_int_equal(d.code, DIAG_INVALID);
	all[0] = '\0';
	for (int i = 0; i < res.nkept; i++)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", res.errors[i]);
	people_import_result_fini(&res);
	return all;
}

static long long
qint(struct store *st, const char *sql)
{
	sqlite3_stmt *s = store_prepare(st, sql, NULL);
	assert_non_null(s);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	long long v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char *
qtext(struct store *st, const char *sql)
{
	static char buf[1024];
	sqlite3_stmt *s = store_prepare(st, sql, NULL);
	assert_non_null(s);
	int rc = sqlite3_step(s);
	snprintf(buf, sizeof(buf), "%s",
		 rc == SQLITE_ROW && sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
							       : "(null)");
	sqlite3_finalize(s);
	return buf;
}

/* The database's logical content, to prove a failed import changed nothing. */
static char *
digest(struct store *st)
{
	static char buf[2][64];
	static int k;
	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%lld/%lld/%lld",
		 qint(st, "SELECT count(*) FROM people"), qint(st, "SELECT count(*) FROM events"),
		 qint(st, "SELECT total(length(name) + length(email) + coalesce(manager_id, 0)"
			  " + length(updated_at)) FROM people"));
	return buf[k];
}

static const char base_csv[] =
	"\xEF\xBB\xBFID,Name,Email,Title,Level,Department,Team,Location,Timezone,Manager,Birth_Year,"
	"Generation,Hire_Date,Status,Skills,Topics_Wanted,Languages,Shirt\r\n"
	"E1,Alice Boss,alice@example.com,CEO,9,Exec,,Paris,Europe/Paris,,1960,,2001-02-03,,"
	"strategy; finance,ai,en;fr,L\r\n"
	"E2,\"Smith, Bob\",bob@example.com,\"Lead \"\"Core\"\"\",6,Eng,Core,Berlin,Europe/Berlin,"
	"alice@example.com,1985,,2010-05-06,leave,python;;sql ,,en,\r\n"
	"E3,Carol,carol@example.com,,2,Eng,Core,NYC,America/New_York,E2,1999,,,,,\"tiktok;\n"
	"culture\",en,S\r\n";

static void
test_import_valid_file(void **state)
{
	struct fixture *f = *state;
	long created, updated;
	import_ok(f->st, base_csv, &created, &updated);
	assert_int_equal(created, 3);
	assert_int_equal(updated, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), 3);
	assert_string_equal(qtext(f->st, "SELECT name FROM people WHERE external_id='E2'"), "Smith, Bob");
	assert_string_equal(qtext(f->st, "SELECT title FROM people WHERE external_id='E2'"),
			    "Lead \"Core\"");
	assert_string_equal(qtext(f->st, "SELECT skills FROM people WHERE external_id='E2'"),
			    "[\"python\",\"sql\"]");
	assert_string_equal(qtext(f->st, "SELECT topics_wanted FROM people WHERE external_id='E3'"),
			    "[\"tiktok\",\"culture\"]");
	assert_string_equal(qtext(f->st, "SELECT topics_wanted FROM people WHERE external_id='E2'"),
			    "[]");
	assert_string_equal(qtext(f->st, "SELECT attributes FROM people WHERE external_id='E1'"),
			    "{\"Shirt\":\"L\"}");
	assert_string_equal(qtext(f->st, "SELECT attributes FROM people WHERE external_id='E2'"), "{}");
	/* Derived generation, default and given status, managers by e-mail and by id. */
	assert_string_equal(qtext(f->st, "SELECT group_concat(generation, ',') FROM"
					 " (SELECT generation FROM people ORDER BY external_id)"),
			    "baby_boomer,millennial,gen_z");
	assert_string_equal(qtext(f->st, "SELECT group_concat(status, ',') FROM"
					 " (SELECT status FROM people ORDER BY external_id)"),
			    "active,leave,active");
	assert_string_equal(qtext(f->st, "SELECT m.external_id FROM people p JOIN people m"
					 " ON m.id = p.manager_id WHERE p.external_id='E3'"),
			    "E2");
	assert_string_equal(qtext(f->st, "SELECT m.external_id FROM people p JOIN people m"
					 " ON m.id = p.manager_id WHERE p.external_id='E2'"),
			    "E1");
	assert_string_equal(qtext(f->st, "SELECT payload FROM events WHERE kind='people.imported'"),
			    "{\"file\":\"people.csv\",\"total\":3,\"created\":3,\"updated\":0}");
}

static void
test_upsert_and_db_managers(void **state)
{
	struct fixture *f = *state;
	long created, updated;
	import_ok(f->st, base_csv, &created, &updated);
	long long carol = qint(f->st, "SELECT id FROM people WHERE external_id='E3'");
	/* A file without most columns: present ones change, absent ones are kept. Managers may be
	 * people only in the database (by id or e-mail). */
	import_ok(f->st,
		  "id,name,email,timezone,manager\n"
		  "E3,Carol Jones,carol@example.com,Europe/Paris,bob@example.com\n"
		  "E4,Dan,dan@example.com,UTC,E1\n",
		  &created, &updated);
	assert_int_equal(created, 1);
	assert_int_equal(updated, 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), 4);
	assert_int_equal(qint(f->st, "SELECT id FROM people WHERE external_id='E3'"), carol);
	assert_string_equal(qtext(f->st, "SELECT name || '|' || timezone || '|' || level || '|' ||"
					 " topics_wanted || '|' || attributes FROM people WHERE external_id='E3'"),
			    "Carol Jones|Europe/Paris|2|[\"tiktok\",\"culture\"]|{\"Shirt\":\"S\"}");
	assert_string_equal(qtext(f->st, "SELECT m.external_id FROM people p JOIN people m"
					 " ON m.id = p.manager_id WHERE p.external_id='E4'"),
			    "E1");
	/* E-mails can move between people of the same file; attributes merge. */
	import_ok(f->st, "id,name,email,timezone,shirt,hobby\nE4,Dan,dan2@example.com,UTC,XL,\n", &created,
		  &updated);
	assert_string_equal(qtext(f->st, "SELECT email || attributes FROM people WHERE external_id='E4'"),
			    "dan2@example.com{\"shirt\":\"XL\"}");
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind='people.imported'"), 3);

	/* Two people trade e-mails in one file: valid end state, written without a UNIQUE clash. */
	import_ok(f->st,
		  "id,name,email,timezone\n"
		  "E1,Alice Boss,bob@example.com,UTC\n"
		  "E2,\"Smith, Bob\",ALICE@example.com,UTC\n",
		  &created, &updated);
	assert_int_equal(updated, 2);
	assert_string_equal(qtext(f->st, "SELECT group_concat(email, ',') FROM"
					 " (SELECT email FROM people WHERE external_id IN ('E1','E2') ORDER BY external_id)"),
			    "bob@example.com,ALICE@example.com");
}

static void
test_validation_errors_change_nothing(void **state)
{
	struct fixture *f = *state;
	long created, updated;
	import_ok(f->st, base_csv, &created, &updated);
	char before[64];
	snprintf(before, sizeof(before), "%s", digest(f->st));
	const char *bad =
		"id,name,email,timezone,level,manager,hire_date,status,generation,birth_year\n"
		"E10,Dan,dan@x.org,Europe/Paris,10,,,,,\n"                          /* 2 */
		"E11,,bob@,Mars/Base,x,E99,2020-02-30,gone,boomer,1800\n"           /* 3 */
		"E12,Eve,eve@x.org,UTC,3,E13,,,,\n"                                 /* 4 */
		"E13,Fay,fay@x.org,UTC,3,E12,,,,\n"                                 /* 5 */
		"E14,Gus,ALICE@example.com,UTC,3,E14,,,,\n"                         /* 6 */
		"E12,Hal,EVE@x.org,UTC,,,,,,\n"                                     /* 7 */
		"E15,\"Ian \"x\",ian@x.org,UTC,,,,,,\n"                             /* 8 */
		"E16,Jo,jo@x.org,UTC\n"                                             /* 9 */
		"E17,K\xffl,k@x.org,UTC,,,,,,\n"                                    /* 10 */
		"E20,Li,li@x.org,UTC,,,,,,\n"                                       /* 11 */
		"E1,Alice Boss,alice@example.com,Europe/Paris,,bob@example.com,,,,\n" /* 12 */
		"E21,Mo,mo@x.org,Europe/Paris,,E20,,,,\n"                           /* 13 */
		"E19,Zed,Carol@example.com,UTC,,,,,,\n";                            /* 14 */
	char *e = import_errors(f->st, bad, NULL);
	const char *want[] = {
		"people.csv:2:5: level: '10' is not a whole number from 1 to 9",
		"people.csv:3:2: name: missing (required)",
		"people.csv:3:3: email: 'bob@' is not a valid e-mail address",
		"people.csv:3:4: timezone: 'Mars/Base' is not an IANA time zone",
		"people.csv:3:5: level: 'x' is not a whole number",
		"people.csv:3:6: manager: 'E99' is neither the id nor the e-mail",
		"people.csv:3:7: hire_date: '2020-02-30' is not a valid date",
		"people.csv:3:8: status: 'gone' is not one of active, leave, terminated",
		"people.csv:3:9: generation: 'boomer' is not one of",
		"people.csv:3:10: birth_year: '1800' is not a year from 1900",
		"people.csv:4:6: manager: manager cycle: E12 -> E13 -> E12",
		"people.csv:12:3: email: 'alice@example.com' is already the e-mail of id 'E14' (line 6)",
		"people.csv:14:3: email: 'Carol@example.com' is already the e-mail of id 'E3' in the database",
		"people.csv:6:6: manager: 'E14' is the person themself (a manager cycle)",
		"people.csv:7:1: id: duplicate id 'E12' (also on line 4)",
		"people.csv:7:3: email: 'EVE@x.org' is already the e-mail of id 'E12' (line 4)",
		"people.csv:8:2: unexpected character after the closing quote",
		"people.csv:9:5: the record has 4 fields, the header has 10",
		"people.csv:10:2: invalid UTF-8",
		"people.csv:12:6: manager: manager cycle: E1 -> E2 -> E1",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(e, want[i]) == NULL)
			fail_msg("missing error '%s' in:\n%s", want[i], e);
	/* Sorted by line. */
	assert_true(strstr(e, "people.csv:2:5") < strstr(e, "people.csv:3:2"));
	assert_true(strstr(e, "people.csv:4:6") < strstr(e, "people.csv:6:6"));
	assert_string_equal(digest(f->st), before);
}

static void
test_header_problems(void **state)
{
	struct fixture *f = *state;
	char *e = import_errors(f->st, "", NULL);
	assert_non_null(strstr(e, "people.csv:1:1: empty file"));
	e = import_errors(f->st, "id,name,email,timezone\n", NULL);
	assert_non_null(strstr(e, "people.csv:2:1: no people"));
	e = import_errors(f->st, "id,name,mail,timezone\nE1,A,a@b.co,UTC\n", NULL);
	assert_non_null(strstr(e, "people.csv:1:1: missing required column 'email'"));
	e = import_errors(f->st, "id,name,email,EMAIL,timezone\nE1,A,a@b.co,a@b.co,UTC\n", NULL);
	assert_non_null(strstr(e, "people.csv:1:4: column 'EMAIL': field 'email' already comes from column 3"));
	e = import_errors(f->st, "id,name,email,timezone\nE1,A,\"a@b.co,UTC\n", NULL);
	assert_non_null(strstr(e, "people.csv:2:3: unterminated quoted field"));

	/* --map renames columns; bad targets and unknown columns are reported on line 1. */
	const char *map_ok[] = {"Employee ID=id", "Mail=email"};
	struct people_import_opts o = {.map = map_ok, .nmap = 2};
	struct people_import_result res;
	struct diag d;
	assert_int_equal(import(f->st, "employee id,name,Mail,timezone\nE1,A,a@b.co,UTC\n", &o, &res, &d), 0);
	assert_int_equal(res.created, 1);
	people_import_result_fini(&res);
	const char *map_bad[] = {"Mail=e-mail", "Nope=id"};
	o.map = map_bad;
	e = import_errors(f->st, "id,name,Mail,timezone\nE1,A,a@b.co,UTC\n", &o);
	assert_non_null(strstr(e, "people.csv:1:3: --map 'Mail=e-mail': 'e-mail' is not a person field"));
	assert_non_null(strstr(e, "people.csv:1:1: --map 'Nope=id': no column 'Nope' in the header"));
}

static void
test_dry_run_and_limits(void **state)
{
	struct fixture *f = *state;
	struct people_import_opts o = {.dry_run = 1};
	struct people_import_result res;
	struct diag d;
	assert_int_equal(import(f->st, base_csv, &o, &res, &d), 0);
	assert_int_equal(res.total, 3);
	assert_int_equal(res.created, 3);
	people_import_result_fini(&res);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events"), 0);

	/* A NUL byte and an over-long field are CSV errors with line and column. */
	static char big[70000 + 64];
	int n = snprintf(big, sizeof(big), "id,name,email,timezone\nE1,");
	memset(big + n, 'x', 70000);
	snprintf(big + n + 70000, sizeof(big) - (size_t)n - 70000, ",a@b.co,UTC\n");
	char *e = import_errors(f->st, big, NULL);
	assert_non_null(strstr(e, "people.csv:2:2: field longer than 65536 bytes"));
	const char nul[] = "id,name,email,timezone\nE1,A\0B,a@b.co,UTC\n";
	FILE *fp = fmemopen((void *)nul, sizeof(nul) - 1, "rb");
	assert_int_equal(people_import(f->st, fp, "people.csv", NULL, &res, &d), -1);
	fclose(fp);
	assert_string_equal(res.errors[0], "people.csv:2:2: NUL byte in field");
	people_import_result_fini(&res);

	/* Every error is counted; the kept list is capped. */
	size_t cap = 2u << 20, len = 0;
	char *many = malloc(cap);
	len += (size_t)snprintf(many, cap, "id,name,email,timezone\n");
	for (int i = 0; i < 1500; i++)
		len += (size_t)snprintf(many + len, cap - len, "E%d,N,bad-email-%d,UTC\n", i, i);
	fp = fmemopen(many, len, "rb");
	assert_int_equal(people_import(f->st, fp, "people.csv", NULL, &res, &d), -1);
	fclose(fp);
	assert_int_equal(res.nerrors, 1500);
	assert_int_equal(res.nkept, PEOPLE_ERRORS_KEPT);
	assert_string_equal(d.msg, "people.csv: 1500 errors; nothing was imported");
	people_import_result_fini(&res);
	free(many);
}

static void
test_long_cycle_detection(void **state)
{
	struct fixture *f = *state;
	/* A 20000-person chain is fine; closing it into a loop is one cycle error. */
	size_t cap = 4u << 20, len = 0;
	char *csv = malloc(cap);
	len += (size_t)snprintf(csv, cap, "id,name,email,timezone,manager\n");
	for (int i = 0; i < 20000; i++)
		len += (size_t)snprintf(csv + len, cap - len, "P%d,N %d,p%d@x.org,UTC,%s%d\n", i, i, i,
					i ? "P" : "", i ? i - 1 : 0);
	/* First row's manager "0" does not exist: fix it to be empty for the valid chain. */
	char *first = strstr(csv, "UTC,0\n");
	memmove(first + 4, first + 5, len - (size_t)(first + 5 - csv) + 1);
	len--;
	long created, updated;
	import_ok(f->st, csv, &created, &updated);
	assert_int_equal(created, 20000);
	/* Now P0 reports to P19999: a cycle through all of them. */
	char *e = import_errors(f->st, "id,name,email,timezone,manager\nP0,N 0,p0@x.org,UTC,P19999\n", NULL);
	assert_non_null(strstr(e, "people.csv:2:5: manager: manager cycle: P0 -> P19999 -> P19998"));
	assert_non_null(strstr(e, "(20000 people)"));
	free(csv);
}

static void
test_sha256_and_pseudonym(void **state)
{
	(void)state;
	unsigned char h[32];
	char hex[65];
	const char *in[] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	const char *want[] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	};
	for (int k = 0; k < 3; k++) {
		sha256(in[k], strlen(in[k]), h); /* the digest pseudonyms are made of: base/sha256.h */
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		assert_string_equal(hex, want[k]);
	}
	char p1[17], p2[17];
	assert_int_equal(people_pseudonym((const unsigned char *)"ab", 2, "c", p1), 0);
	assert_string_equal(p1, "ba7816bf8f01cfea");
	assert_int_equal(people_pseudonym((const unsigned char *)"xy", 2, "c", p2), 0);
	assert_string_not_equal(p1, p2);
}

/* Rows about E2 in every table, plus rows about others that must survive. */
static void
seed_activity(struct store *st)
{
	struct diag d;
	const char *sql =
		"INSERT INTO programs(id, name, created_at) VALUES (1, 'rm', 't');"
		"INSERT INTO enrollments(program_id, person_id, role, created_at) SELECT 1, id, 'mentor', 't'"
		"  FROM people;"
		"INSERT INTO matches(id, program_id, mentor_id, mentee_id, status, created_at) VALUES"
		"  (1, 1, (SELECT id FROM people WHERE external_id='E2'),"
		"         (SELECT id FROM people WHERE external_id='E1'), 'active', 't'),"
		"  (2, 1, (SELECT id FROM people WHERE external_id='E3'),"
		"         (SELECT id FROM people WHERE external_id='E1'), 'active', 't');"
		"INSERT INTO sessions(id, match_id, starts_at, timezone, planned_by, created_at, updated_at)"
		"  VALUES (1,1,'s','UTC','weekly','t','t'), (2,2,'s','UTC','weekly','t','t');"
		"INSERT INTO feedback(session_id, match_id, author_id, outcome, rating, created_at) VALUES"
		"  (1, 1, (SELECT id FROM people WHERE external_id='E1'), 'held', 5, 't'),"
		"  (2, 2, (SELECT id FROM people WHERE external_id='E2'), 'held', 4, 't'),"
		"  (2, 2, (SELECT id FROM people WHERE external_id='E1'), 'held', 3, 't');"
		"INSERT INTO rewards(award_key, person_id, plugin, points, reason, at) VALUES"
		"  ('r:1:1', (SELECT id FROM people WHERE external_id='E2'), 'r', 10, 'x', 't');"
		"INSERT INTO events(at, kind, subject_id, payload) VALUES"
		"  ('t', 'match.proposed', (SELECT id FROM people WHERE external_id='E2'),"
		"   '{\"email\":\"bob@example.com\"}'),"
		"  ('t', 'note', NULL, '{\"who\":\"E2\"}'),"
		"  ('t', 'note', NULL, '{\"who\":\"E1\"}');"
		"INSERT INTO outbox(idempotency_key, kind, not_before, created_at, channel, recipient_id, body)"
		"  VALUES ('k1', 'nudge', 't', 't', 'eml', (SELECT id FROM people WHERE external_id='E2'),"
		"          'Hi bob@example.com'),"
		"  ('k2', 'nudge', 't', 't', 'eml', (SELECT id FROM people WHERE external_id='E1'), 'Hi Alice');";
	assert_int_equal(store_exec(st, sql, &d), 0);
}

static void
test_show_list_export(void **state)
{
	struct fixture *f = *state;
	long created, updated;
	import_ok(f->st, base_csv, &created, &updated);
	seed_activity(f->st);
	struct diag d;
	json_t *list = people_list_json(f->st, &d);
	assert_int_equal(json_array_size(list), 3);
	json_t *bob = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(bob, "id")), "E2");
	assert_string_equal(json_string_value(json_object_get(bob, "manager")), "E1");
	assert_int_equal(json_array_size(json_object_get(bob, "skills")), 2);
	json_decref(list);

	json_t *p = people_show_json(f->st, "BOB@example.com", &d); /* by e-mail, any case */
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "manager"), "name")),
			    "Alice Boss");
	json_decref(p);
	assert_null(people_show_json(f->st, "E9", &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);

	json_t *x = people_export_json(f->st, "E2", &d);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "person"), "email")),
			    "bob@example.com");
	assert_int_equal(json_array_size(json_object_get(x, "enrollments")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "matches")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "sessions")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "feedback")), 2); /* on their match + authored */
	assert_int_equal(json_array_size(json_object_get(x, "rewards")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "events")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "outbox")), 1);
	json_t *ev = json_array_get(json_object_get(x, "events"), 0);
	assert_true(json_is_object(json_object_get(ev, "payload")));
	json_decref(x);
}

static int
file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return 0;
	static char buf[8 << 20];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(buf + i, needle, m) == 0)
			return 1;
	return 0;
}

static void
test_erase(void **state)
{
	struct fixture *f = *state;
	long created, updated;
	import_ok(f->st, base_csv, &created, &updated);
	/* Update Bob once so an older copy of his row sits in free page space. */
	import_ok(f->st, "id,name,email,timezone,title\nE2,\"Smith, Bob\",bob@example.com,Europe/Berlin,X\n",
		  &created, &updated);
	seed_activity(f->st);
	long long bob = qint(f->st, "SELECT id FROM people WHERE external_id='E2'");
	struct people_erase_result res;
	struct diag d;
	assert_int_equal(people_erase(f->st, "bob@example.com", &res, &d), 0);
	assert_string_equal(res.external_id, "E2");
	assert_int_equal(strlen(res.pseudonym), 16);
	/* person + enrollment + feedback they wrote on match 2 + reward + outbox; their active
	 * match 1 ends ("partner erased", its later session cancelled) and stays detached with
	 * its session and E1's feedback (walk2 #4) */
	assert_int_equal(res.rows, 5);
	assert_int_equal(res.matches_ended, 1);
	assert_int_equal(res.sessions_cancelled, 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM matches WHERE id = 1 AND status = 'ended'"
				     " AND end_reason = 'partner erased' AND mentor_id IS NULL"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM sessions WHERE id = 1"
				     " AND status = 'cancelled' AND sequence = 1"),
			 1);
	assert_int_equal(res.reports_detached, 1);
	assert_int_equal(res.events_scrubbed, 2);
	assert_true(res.checkpointed);

	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people WHERE manager_id IS NULL"), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM matches"), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM feedback"), 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards"), 0);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE subject_id = %lld", bob);
	assert_int_equal(qint(f->st, sql), 2); /* the scrubbed one and the tombstone */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE instr(payload, 'bob@') > 0"), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE payload = '{\"who\":\"E1\"}'"), 1);
	snprintf(sql, sizeof(sql), "SELECT payload FROM events WHERE kind = 'people.erased'");
	char want[64];
	snprintf(want, sizeof(want), "{\"pseudonym\":\"%s\"}", res.pseudonym);
	assert_string_equal(qtext(f->st, sql), want);

	/* No trace of the e-mail in the database file or its WAL. */
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_false(file_contains(f->path, "bob@example.com"));
	assert_false(file_contains(wal, "bob@example.com"));
	assert_true(file_contains(f->path, "alice@example.com"));

	assert_int_equal(people_erase(f->st, "E2", &res, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	/* The lookup runs inside the write transaction: a miss must not leave it open. */
	assert_true(sqlite3_get_autocommit(store_db(f->st)));
}

/* An external id longer than people_erase_result.external_id holds is still scrubbed in full. */
static void
test_erase_long_id(void **state)
{
	struct fixture *f = *state;
	char id[301];
	memset(id, 'L', 300);
	id[300] = '\0';
	char csv[512], sql[1024];
	snprintf(csv, sizeof(csv), "id,name,email,timezone\n%s,Lena,lena@example.com,UTC\n", id);
	long created, updated;
	import_ok(f->st, csv, &created, &updated);
	struct diag d;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO events(at, kind, actor, payload) VALUES ('t', 'note', '%s', '{\"who\":\"%s\"}')",
		 id, id);
	assert_int_equal(store_exec(f->st, sql, &d), 0);
	struct people_erase_result res;
	assert_int_equal(people_erase(f->st, "lena@example.com", &res, &d), 0);
	assert_int_equal(res.events_scrubbed, 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE actor = '%s' OR instr(payload, '%s') > 0",
		 id, id);
	assert_int_equal(qint(f->st, sql), 0);
}

/* Imports csv and checks the three counts. */
static void
import_counts(struct store *st, const char *csv, long created, long updated, long unchanged)
{
	struct people_import_result res;
	struct diag d;
	assert_int_equal(import(st, csv, NULL, &res, &d), 0);
	assert_int_equal(res.created, created);
	assert_int_equal(res.updated, updated);
	assert_int_equal(res.unchanged, unchanged);
	assert_int_equal(res.total, created + updated + unchanged);
	people_import_result_fini(&res);
}

/* Re-importing what the database already holds writes no person; any real difference
 * (a value, a manager, an attribute, an e-mail's letter case) is still written. */
static void
test_reimport_skips_unchanged(void **state)
{
	struct fixture *f = *state;
	struct clock clk;
	clock_virtual_init(&clk, 1767225600); /* 2026-01-01 */
	store_set_clock(f->st, &clk);
	long long cache = qint(f->st, "PRAGMA cache_size");
	import_counts(f->st, base_csv, 3, 0, 0);
	/* The import's large page cache does not outlive it. */
	assert_int_equal(qint(f->st, "PRAGMA cache_size"), cache);
	/* Its checkpoint ran: the database file alone (the WAL ignored) holds the people. */
	char uri[200];
	snprintf(uri, sizeof(uri), "file:%s?immutable=1", f->path);
	sqlite3 *raw = NULL;
	assert_int_equal(sqlite3_open_v2(uri, &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
			 SQLITE_OK);
	sqlite3_stmt *cnt = NULL;
	assert_int_equal(sqlite3_prepare_v2(raw, "SELECT count(*) FROM people", -1, &cnt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(cnt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(cnt, 0), 3);
	sqlite3_finalize(cnt);
	sqlite3_close(raw);
	clock_virtual_advance(&clk, 86400 * 1000);
	import_counts(f->st, base_csv, 0, 0, 3);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people WHERE updated_at = created_at"), 3);
	assert_string_equal(qtext(f->st, "SELECT payload FROM events WHERE kind='people.imported'"
					 " ORDER BY id DESC LIMIT 1"),
			    "{\"file\":\"people.csv\",\"total\":3,\"created\":0,\"updated\":0,"
			    "\"unchanged\":3}");
	/* A file with fewer columns compares only those it has. */
	import_counts(f->st,
		      "id,name,email,timezone,manager\n"
		      "E1,Alice Boss,alice@example.com,Europe/Paris,\n"
		      "E2,\"Smith, Bob\",bob@example.com,Europe/Berlin,E1\n"
		      "E3,Carol,carol@example.com,America/New_York,bob@example.com\n",
		      0, 0, 3);
	/* One manager moves (E3 now under E1), one e-mail changes case, one attribute changes. */
	import_counts(f->st,
		      "id,name,email,timezone,manager,shirt\n"
		      "E1,Alice Boss,alice@example.com,Europe/Paris,,XL\n"
		      "E2,\"Smith, Bob\",Bob@example.com,Europe/Berlin,E1,\n"
		      "E3,Carol,carol@example.com,America/New_York,E1,\n",
		      0, 3, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people WHERE updated_at = created_at"), 0);
	assert_string_equal(qtext(f->st, "SELECT email FROM people WHERE external_id='E2'"),
			    "Bob@example.com");
	assert_string_equal(qtext(f->st, "SELECT m.external_id FROM people p JOIN people m"
					 " ON m.id = p.manager_id WHERE p.external_id='E3'"),
			    "E1");
	/* Same attribute values again (the other keys kept): unchanged; a level: updated; a
	 * new person as manager: updated, and the new person created. */
	import_counts(f->st,
		      "id,name,email,timezone,manager,shirt,level\n"
		      "E1,Alice Boss,alice@example.com,Europe/Paris,,XL,9\n"
		      "E2,\"Smith, Bob\",Bob@example.com,Europe/Berlin,E1,,5\n"
		      "E3,Carol,carol@example.com,America/New_York,E4,,2\n"
		      "E4,Dan,dan@example.com,UTC,E1,,\n",
		      1, 2, 1);
	assert_string_equal(qtext(f->st, "SELECT attributes FROM people WHERE external_id='E1'"),
			    "{\"Shirt\":\"L\",\"shirt\":\"XL\"}");
	assert_int_equal(qint(f->st, "SELECT level FROM people WHERE external_id='E2'"), 5);
	/* A dry run reports the same split and writes nothing. */
	struct people_import_opts o = {.dry_run = 1};
	struct people_import_result res;
	struct diag d;
	assert_int_equal(import(f->st, "id,name,email,timezone,level\nE2,\"Smith, Bob\",Bob@example.com,"
				       "Europe/Berlin,5\nE3,Carol,carol@example.com,UTC,2\n",
				&o, &res, &d),
			 0);
	assert_int_equal(res.unchanged, 1);
	assert_int_equal(res.updated, 1);
	people_import_result_fini(&res);
	store_set_clock(f->st, NULL);
}

/* Enough people for the multi-row INSERTs (and a one-row tail), each managed by someone
 * further down the file, then a file mixing updates, unchanged people and new ones. */
static void
test_many_rows(void **state)
{
	struct fixture *f = *state;
	enum { N = 137 };
	static char csv[N * 128 + 64];
	size_t o = (size_t)snprintf(csv, sizeof(csv), "id,name,email,timezone,manager,level\n");
	for (int i = 0; i < N; i++) {
		char mgr[16] = "";
		if (i + 1 < N)
			snprintf(mgr, sizeof(mgr), "P%03d", i + 1);
		o += (size_t)snprintf(csv + o, sizeof(csv) - o,
				      "P%03d,Person %d,p%d@example.com,UTC,%s,%d\n", i, i, i, mgr,
				      i % 9 + 1);
	}
	import_counts(f->st, csv, N, 0, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), N);
	/* Ids follow the file; every manager link points at the next person. */
	assert_int_equal(qint(f->st,
			      "SELECT count(*) FROM people p JOIN people m ON m.id = p.manager_id"
			      " WHERE m.external_id = printf('P%03d', p.id)"),
			 N - 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people WHERE"
				     " external_id = printf('P%03d', id - 1) AND"
				     " name = 'Person ' || (id - 1) AND level = (id - 1) % 9 + 1"),
			 N);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	/* Every third person gets a new level, the others are as before, and 60 newcomers (ids
	 * after the existing ones) are interleaved, some managed by a newcomer below them. */
	o = (size_t)snprintf(csv, sizeof(csv), "id,name,email,timezone,manager,level\n");
	for (int i = 0; i < N; i++) {
		char mgr[16] = "";
		if (i + 1 < N)
			snprintf(mgr, sizeof(mgr), "P%03d", i + 1);
		o += (size_t)snprintf(csv + o, sizeof(csv) - o,
				      "P%03d,Person %d,p%d@example.com,UTC,%s,%d\n", i, i, i, mgr,
				      i % 3 == 0 ? 9 - i % 9 : i % 9 + 1);
		if (i < 60)
			o += (size_t)snprintf(csv + o, sizeof(csv) - o,
					      "N%03d,New %d,n%d@example.com,UTC,%s%03d,\n", i, i, i,
					      i + 1 < 60 ? "N" : "P", i + 1 < 60 ? i + 1 : 0);
	}
	long changed = 0;
	for (int i = 0; i < N; i++)
		changed += i % 3 == 0 && 9 - i % 9 != i % 9 + 1;
	import_counts(f->st, csv, 60, changed, N - changed);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people"), N + 60);
	assert_int_equal(qint(f->st, "SELECT min(id) FROM people WHERE external_id LIKE 'N%'"),
			 N + 1);
	assert_int_equal(qint(f->st,
			      "SELECT count(*) FROM people p JOIN people m ON m.id = p.manager_id"
			      " WHERE p.external_id LIKE 'N%' AND m.external_id ="
			      " CASE WHEN p.external_id = 'N059' THEN 'P000'"
			      " ELSE printf('N%03d', substr(p.external_id, 2) + 1) END"),
			 60);
	assert_int_equal(qint(f->st, "SELECT level FROM people WHERE external_id = 'P003'"), 6);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

/* Updates that change different sets of columns (more sets than the write keeps statements for)
 * each change exactly their columns; an e-mail's case change and a manager move are updates too. */
static void
test_update_shapes(void **state)
{
	struct fixture *f = *state;
	enum { N = 24 };
	static char csv[N * 160 + 128];
	struct clock clk;
	clock_virtual_init(&clk, 1767225600);
	store_set_clock(f->st, &clk);
	for (int pass = 0; pass < 2; pass++, clock_virtual_advance(&clk, 86400 * 1000)) {
		size_t o = (size_t)snprintf(
		    csv, sizeof(csv),
		    "id,name,email,timezone,title,level,department,team,location\n");
		for (int i = 0; i < N; i++) {
			int m = pass
				    ? i + 1
				    : 0; /* bits: title, level, department, team, location change */
			o += (size_t)snprintf(
			    csv + o, sizeof(csv) - o,
			    "U%02d,Name %d,u%d@example.com,UTC,%s%d,%d,%s%d,%s%d,%s%d\n", i, i, i,
			    m & 1 ? "New title " : "Title ", i, m & 2 ? 9 : 1,
			    m & 4 ? "NewDept" : "Dept", i, m & 8 ? "NewTeam" : "Team", i,
			    m & 16 ? "NewLoc" : "Loc", i);
		}
		import_counts(f->st, csv, pass ? 0 : N, pass ? N : 0, 0);
	}
	for (int i = 0; i < N; i++) {
		int m = i + 1;
		char sql[256], want[256];
		snprintf(
		    sql, sizeof(sql),
		    "SELECT title || '|' || level || '|' || department || '|' || team || '|' ||"
		    " location FROM people WHERE external_id = 'U%02d'",
		    i);
		snprintf(want, sizeof(want), "%s%d|%d|%s%d|%s%d|%s%d",
			 m & 1 ? "New title " : "Title ", i, m & 2 ? 9 : 1,
			 m & 4 ? "NewDept" : "Dept", i, m & 8 ? "NewTeam" : "Team", i,
			 m & 16 ? "NewLoc" : "Loc", i);
		assert_string_equal(qtext(f->st, sql), want);
	}
	assert_int_equal(qint(f->st, "SELECT count(*) FROM people WHERE updated_at > created_at"),
			 N);
	store_set_clock(f->st, NULL);
}

/* A v1 database with people, managers and an enrollment upgrades in place: same rows, same ids,
 * the references of other tables intact, the rules still enforced, no list-IN CHECK left, the
 * manager key deferred to COMMIT. */
static void
test_migration_from_v1(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; PRAGMA user_version=1",
		 STORE_APPLICATION_ID);
	assert_int_equal(store_migrations[0].version, 1);
	assert_int_equal(sqlite3_exec(db, store_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "PRAGMA foreign_keys=ON;"
			     "INSERT INTO people(id, external_id, name, email, timezone, manager_id,"
			     " generation, status, skills, created_at, updated_at) VALUES"
			     " (7, 'E1', 'Alice', 'Alice@example.com', 'UTC', NULL, 'gen_x', 'active',"
			     "  '[\"a\"]', 't', 't'),"
			     " (9, 'E2', 'Bob', 'bob@example.com', 'UTC', 7, NULL, 'leave', '[]', 't', 't');"
			     "INSERT INTO programs(id, name, created_at) VALUES (1, 'p', 't');"
			     "INSERT INTO enrollments(program_id, person_id, role, created_at)"
			     " VALUES (1, 9, 'mentee', 't');",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	struct diag d;
	struct store *st = store_open(path, 0, &d);
	assert_non_null(st);
	assert_int_equal(store_version(st), store_schema_version());
	assert_int_equal(qint(st, "PRAGMA foreign_keys"), 1);
	assert_string_equal(qtext(st, "PRAGMA integrity_check"), "ok");
	assert_int_equal(qint(st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_null(strstr(qtext(st, "SELECT sql FROM sqlite_schema WHERE name = 'people'"), " IN ("));
	assert_non_null(strstr(qtext(st, "SELECT sql FROM sqlite_schema WHERE name = 'people'"),
			       "REFERENCES people(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED"));
	assert_string_equal(qtext(st, "SELECT group_concat(id || ':' || coalesce(manager_id, '-') || ':'"
				      " || coalesce(generation, '-') || ':' || status || ':' || skills, ' ')"
				      " FROM people"),
			    "7:-:gen_x:active:[\"a\"] 9:7:-:leave:[]");
	assert_int_equal(qint(st, "SELECT count(*) FROM enrollments WHERE person_id = 9"), 1);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				  " tbl_name = 'people'"), 4);
	/* E-mails stay unique regardless of letter case, and are found that way. */
	assert_int_equal(qint(st, "SELECT id FROM people WHERE email = 'alice@EXAMPLE.com'"), 7);
	assert_int_equal(store_exec(st, "INSERT INTO people(external_id, name, email, timezone,"
				       " created_at, updated_at) VALUES ('E3', 'C', 'ALICE@example.com',"
				       " 'UTC', 't', 't')", &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	/* The CHECKs still hold. */
	assert_int_equal(store_exec(st, "UPDATE people SET generation = 'gen_y' WHERE id = 7", &d), -1);
	assert_int_equal(store_exec(st, "UPDATE people SET status = 'gone' WHERE id = 7", &d), -1);
	assert_int_equal(store_exec(st, "UPDATE people SET status = 'terminated', generation ="
				       " 'gen_z' WHERE id = 7", &d), 0);
	/* A missing manager is refused: at the end of a lone statement, at COMMIT in a transaction
	 * (which a later fix within it can satisfy). */
	assert_int_equal(store_exec(st, "UPDATE people SET manager_id = 99 WHERE id = 9", &d), -1);
	assert_non_null(strstr(d.msg, "FOREIGN KEY"));
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "UPDATE people SET manager_id = 99 WHERE id = 9", &d), 0);
	assert_int_equal(store_commit(st, &d), -1);
	assert_non_null(strstr(d.msg, "FOREIGN KEY"));
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "UPDATE people SET manager_id = 99 WHERE id = 9;"
				       " UPDATE people SET manager_id = 7 WHERE id = 9", &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(qint(st, "SELECT manager_id FROM people WHERE id = 9"), 7);
	/* The references to people still act: a manager's erasure detaches, a person's cascades. */
	assert_int_equal(store_exec(st, "DELETE FROM people WHERE id = 7", &d), 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM people WHERE id = 9 AND manager_id IS NULL"), 1);
	assert_int_equal(store_exec(st, "DELETE FROM people WHERE id = 9", &d), 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM enrollments"), 0);
	store_close(st);
}

/* Inside a caller's transaction the import is one level of it (store.h, "Composing
 * transactions"): the caller's rollback discards it, the caller's commit lands it with the
 * caller's own work, and a failed write undoes the import's level alone. */
static void
test_import_composes(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct diag d;
	long created, updated;
	const char *prog = "INSERT INTO programs(name, created_at) VALUES ('p1', 'x')";

	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, prog, &d), 0);
	import_ok(st, base_csv, &created, &updated);
	assert_int_equal(created, 3);
	assert_int_equal(store_depth(st), 1);
	store_rollback(st);
	assert_int_equal(qint(st, "SELECT count(*) FROM people"), 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM events"), 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM programs"), 0);

	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, prog, &d), 0);
	import_ok(st, base_csv, &created, &updated);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM people"), 3);
	assert_int_equal(qint(st, "SELECT count(*) FROM events WHERE kind = 'people.imported'"), 1);
	assert_int_equal(qint(st, "SELECT count(*) FROM programs"), 1);

	/* A write that fails (here a trigger refuses one row) rolls back the import's level only. */
	assert_int_equal(store_exec(st, "CREATE TEMP TRIGGER refuse BEFORE INSERT ON people"
				       " WHEN NEW.external_id = 'E9' BEGIN SELECT RAISE(ABORT, 'refused');"
				       " END", &d), 0);
	char before[64];
	snprintf(before, sizeof(before), "%s", digest(st));
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(store_exec(st, "INSERT INTO programs(name, created_at) VALUES ('p2', 'x')", &d), 0);
	struct people_import_result res;
	assert_int_equal(import(st, "id,name,email,timezone,title\n"
				    "E1,Alice Boss,alice@example.com,Europe/Paris,Chair\n"
				    "E9,Nina,nina@example.com,UTC,\n",
				    NULL, &res, &d), -1);
	people_import_result_fini(&res);
	assert_non_null(strstr(d.msg, "refused"));
	assert_int_equal(store_depth(st), 1);
	assert_int_equal(store_commit(st, &d), 0);
	assert_string_equal(digest(st), before);
	assert_string_equal(qtext(st, "SELECT title FROM people WHERE external_id = 'E1'"), "CEO");
	assert_int_equal(qint(st, "SELECT count(*) FROM programs"), 2);
	/* Alone, the same import fails the same way and changes nothing. */
	assert_int_equal(import(st, "id,name,email,timezone\nE9,Nina,nina@example.com,UTC\n", NULL,
				&res, &d), -1);
	people_import_result_fini(&res);
	assert_int_equal(store_depth(st), 0);
	assert_string_equal(digest(st), before);

	/* The erasure needs a transaction of its own. */
	struct people_erase_result er;
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(people_erase(st, "E3", &er, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_int_equal(store_depth(st), 1);
	store_rollback(st);
	assert_int_equal(qint(st, "SELECT count(*) FROM people WHERE external_id = 'E3'"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_valid_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upsert_and_db_managers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_cycle_detection, setup, teardown),
		cmocka_unit_test(test_sha256_and_pseudonym),
		cmocka_unit_test_setup_teardown(test_show_list_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_long_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reimport_skips_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_composes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

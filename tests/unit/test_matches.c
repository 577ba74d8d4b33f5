/* Unit tests for program/matches' review: superseded and unknown ids refuse to be
 * decided and name the later run, ids are never handed out twice, bulk decisions are
 * all-or-nothing, veto is checked like pin, and the documents the CLI prints. */
#include "policy_fixture.h"
#include "program/matches.h"
#include "store/stmt.h"

static const char *
status_of(struct store *st, int64_t id)
{
	static char buf[32];
	struct stmt s = {0};
	struct diag d;
	diag_clear(&d);
	const char *t = NULL;
	buf[0] = '\0';
	if (stmt_prepare(&s, st, "t", "SELECT status FROM matches WHERE id = ?1", &d) == 0 &&
	    stmt_bind_int64(&s, 1, id, &d) == 0 && stmt_step(&s, &d) == STMT_ROW &&
	    stmt_text(&s, 0, &t, &d) == 0 && t)
		snprintf(buf, sizeof(buf), "%s", t);
	stmt_finalize(&s);
	return buf;
}

static void
test_superseded_and_unknown(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, run_id, "
		 "superseded_by, created_at) VALUES (10, 1, 4, 3, 'superseded', 'run-A', 'run-B', "
		 "'now')");
	struct diag d;
	diag_clear(&d);
	int64_t ids[2] = {5, 10};
	assert_int_equal(matches_decide(st, ids, 2, MATCHES_APPROVE, "t", &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "match #10 was superseded by run run-B"));
	assert_string_equal(status_of(st, 5), "proposed"); /* all or nothing */
	assert_int_equal(matches_check_current(st, 10, &d), -1);
	assert_non_null(strstr(d.msg, "superseded by run run-B"));
	assert_int_equal(matches_check_current(st, 5, &d), 0);
	assert_int_equal(matches_check_current(st, 99, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	int64_t unknown = 99;
	assert_int_equal(matches_decide(st, &unknown, 1, MATCHES_REJECT, "t", &d), -1);
	assert_string_equal(d.msg, "no match #99");
	/* The default list hides superseded rows. */
	json_t *all = matches_list_json(st, 1, NULL, &d);
	size_t i;
	json_t *m;
	json_array_foreach(all, i, m)
	{
		assert_int_not_equal(json_integer_value(json_object_get(m, "id")), 10);
	}
	json_decref(all);
	/* An id is never handed out again, even after the highest row is deleted. */
	exec(st, "DELETE FROM matches WHERE id = 10");
	exec(st, "INSERT INTO matches (program_id, mentor_id, mentee_id, status, created_at) "
		 "VALUES (1, 4, 3, 'proposed', 'now')");
	assert_int_equal(sqlite3_last_insert_rowid(store_db(st)), 11);
	store_close(st);
}

static void
test_bulk(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	/* run-A: E4 -> E6 (match 5), E4 -> E3, and E1 -> E2 whose approval conflicts (E2
	 * has approved match #1); run-S was superseded by run-T. */
	exec(st, "UPDATE matches SET run_id = 'run-A' WHERE id = 5;"
		 "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, run_id, "
		 "created_at) VALUES (20, 1, 4, 3, 'proposed', 'run-A', 'now'),"
		 "(21, 1, 1, 2, 'proposed', 'run-A', 'now'),"
		 "(22, 1, 4, 3, 'superseded', 'run-S', 'now');"
		 "UPDATE matches SET superseded_by = 'run-T' WHERE id = 22");
	struct diag d;
	diag_clear(&d);
	int n = -1;
	assert_int_equal(matches_decide_bulk(st, 1, "run-A", MATCHES_APPROVE, "t", &n, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "match #21: the mentee already has approved match #1"));
	assert_int_equal(n, 0);
	assert_string_equal(status_of(st, 5), "proposed");
	assert_string_equal(status_of(st, 20), "proposed");
	/* Without the conflicting one the run's proposals are approved together. */
	exec(st, "DELETE FROM matches WHERE id = 21");
	assert_int_equal(matches_decide_bulk(st, 0, "run-A", MATCHES_APPROVE, "t", &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(status_of(st, 5), "approved");
	assert_string_equal(status_of(st, 20), "approved");
	/* A superseded run names its successor; an unknown run is not found. */
	assert_int_equal(matches_decide_bulk(st, 1, "run-S", MATCHES_REJECT, "t", &n, &d), -1);
	assert_non_null(strstr(d.msg, "run run-S was superseded by run run-T"));
	assert_int_equal(matches_decide_bulk(st, 1, "run-X", MATCHES_REJECT, "t", &n, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	/* The whole program: nothing proposed left, nothing decided. */
	assert_int_equal(matches_decide_bulk(st, 1, NULL, MATCHES_REJECT, "t", &n, &d), 0);
	assert_int_equal(n, 0);
	store_close(st);
}

static void
test_veto_checked_like_pin(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	struct diag d;
	diag_clear(&d);
	int n = -1;
	assert_int_equal(matches_veto(st, 1, 1, 1, NULL, "t", &n, &d), -1);
	assert_string_equal(d.msg, "a person cannot mentor themself");
	assert_int_equal(matches_veto(st, 1, 2, 1, NULL, "t", &n, &d), -1);
	assert_string_equal(d.msg, "E2 is enrolled as a mentee, not as a mentor");
	assert_int_equal(matches_veto(st, 1, 1, 5, NULL, "t", &n, &d), -1);
	assert_string_equal(d.msg, "E5 has not consented to this program");
	assert_int_equal(matches_veto(st, 1, 1, 99, NULL, "t", &n, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_int_equal(matches_veto(st, 1, 4, 6, "why", "t", &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(status_of(st, 5), "rejected");
	store_close(st);
}

static void
test_documents(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "UPDATE people SET department = 'it' WHERE id = 1");
	struct diag d;
	diag_clear(&d);
	int64_t ids[2] = {5, 1};
	json_t *arr = matches_ids_json(st, ids, 2, &d);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 2);
	json_t *m = json_array_get(arr, 1);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "mentor"), "name")),
			    "Ann");
	assert_string_equal(json_string_value(json_object_get(m, "mentor_department")), "it");
	assert_true(json_is_null(json_object_get(m, "mentee_department")));
	json_decref(arr);
	ids[1] = 77;
	assert_null(matches_ids_json(st, ids, 2, &d));
	assert_string_equal(d.msg, "no match #77");
	json_t *p = matches_person_json(st, 2, &d);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "Bo");
	json_decref(p);
	assert_null(matches_person_json(st, 99, &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);
	store_close(st);
}

/* matches_page_json against the whole listing: for every status and page size, the pages
 * after each id concatenate to exactly matches_list_json's rows, in order. */
static void
test_page(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, run_id, "
		 "created_at) VALUES (30, 1, 4, 3, 'superseded', 'run-S', 'now'),"
		 "(31, 1, 1, 3, 'rejected', 'run-S', 'now'), (32, 1, 4, 2, 'proposed', 'r', 'now')");
	static const char *const statuses[] = {NULL, "proposed", "approved", "rejected",
					       "superseded", "active"};
	struct diag d;
	for (int k = 0; k < 6; k++) {
		json_t *all = matches_list_json(st, 1, statuses[k], &d);
		assert_non_null(all);
		for (int limit = 1; limit <= 4; limit++) {
			json_t *got = json_array();
			int64_t after = 0;
			for (int guard = 0; guard < 50; guard++) {
				json_t *page = matches_page_json(st, 1, statuses[k], after, limit, &d);
				assert_non_null(page);
				assert_true(json_array_size(page) <= (size_t)limit);
				size_t i;
				json_t *m;
				json_array_foreach(page, i, m)
				{
					json_array_append(got, m);
					after = json_integer_value(json_object_get(m, "id"));
				}
				size_t n = json_array_size(page);
				json_decref(page);
				if (n < (size_t)limit)
					break;
			}
			assert_true(json_equal(got, all));
			json_decref(got);
		}
		json_t *none = matches_page_json(st, 1, statuses[k], 1000, 0, &d);
		assert_int_equal(json_array_size(none), 0);
		json_decref(none);
		json_decref(all);
	}
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_superseded_and_unknown),
	    cmocka_unit_test(test_bulk),
	    cmocka_unit_test(test_page),
	    cmocka_unit_test(test_veto_checked_like_pin),
	    cmocka_unit_test(test_documents),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

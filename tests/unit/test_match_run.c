/* Unit tests for program/match_run: the pipeline's driver over a small organization
 * in a store (policy resolution, a dry run's document, storing, a pair's
 * explanation with its standing, comparing two policies, a borrowed policy). */
#include "policy_fixture.h"
#include "program/match_run.h"
#include "program/matches.h"

static struct config_program prog = {.name = (char *)"p", .line = 7};

static struct match_run_ctx
ctx(struct store *st)
{
	return (struct match_run_ctx){.st = st, .ws = NULL, .prog = &prog, .program_id = 1};
}

static void
test_policy_resolution(void **state)
{
	(void)state;
	struct store *st = open_store();
	struct match_run_ctx x = ctx(st);
	struct diag d;
	diag_clear(&d);
	prog.policy = NULL;
	assert_null(match_run_policy(&x, NULL, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "program 'p' names no policy"));
	prog.policy = (char *)"no_such_policy";
	assert_null(match_run_policy(&x, NULL, &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_non_null(strstr(d.msg, "tandem.lua:7: program 'p': field 'policy'"));
	/* A name given by the caller is its own: no tandem.lua line. */
	prog.policy = NULL;
	assert_null(match_run_policy(&x, "no_such_policy", &d));
	assert_null(strstr(d.msg, "tandem.lua"));
	struct policy *pol = match_run_policy(&x, write_policy("s.lua", score_policy), &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	policy_delete(pol);
	prog.policy = NULL;
	store_close(st);
}

static void
test_run_store_and_explain(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	struct match_run_ctx x = ctx(st);
	const char *path = write_policy("s.lua", score_policy);
	struct match_run run;
	struct diag d;
	if (match_run_solve(&x, path, &run, &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(run.run_id, "dry-run");
	assert_true(run.res.npairs >= 2); /* the kept E1-E2 and at least one more */
	json_t *doc = match_run_json(&run, 1, 1);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "program")), "p");
	assert_true(json_is_null(json_object_get(doc, "run_id")));
	assert_true(json_is_true(json_object_get(doc, "dry_run")));
	assert_int_equal(json_array_size(json_object_get(doc, "pairs")), run.res.npairs);
	json_decref(doc);

	if (match_run_store(&x, &run, "tester", 1, &d) < 0)
		fail_msg("%s", d.msg);
	assert_memory_equal(run.run_id, "run-", 4);
	int kept = 0;
	for (int i = 0; i < run.res.npairs; i++)
		kept += run.res.pairs[i].kept;
	assert_int_equal(run.nstored, run.res.npairs - kept);
	doc = match_run_json(&run, 0, 0);
	assert_string_equal(json_string_value(json_object_get(doc, "run_id")), run.run_id);
	json_decref(doc);
	json_t *proposed = matches_list_json(st, 1, "proposed", &d);
	assert_non_null(proposed);
	assert_int_equal(json_array_size(proposed), run.nstored);
	json_decref(proposed);
	match_run_fini(&run);

	/* E1 mentors E2 (kept): chosen; its standing lists the match. */
	struct match_run_report r;
	if (match_run_explain(&x, path, 1, 2, "E1", "E2", &r, &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(r.mentor_name, "Ann");
	assert_string_equal(r.mentee_name, "Bo");
	assert_int_equal(r.mentor_capacity, 2);
	assert_true(json_is_true(json_object_get(r.json, "chosen")));
	assert_true(json_array_size(json_object_get(r.json, "mentee_matches")) >= 1);
	assert_non_null(json_object_get(r.json, "mentor_matches"));
	assert_non_null(json_object_get(r.json, "features"));
	match_run_report_fini(&r);
	/* E4 may not mentor E2 (vetoed): allowed is false, and the Lua score never ran. */
	if (match_run_explain(&x, path, 4, 2, "E4", "E2", &r, &d) < 0)
		fail_msg("%s", d.msg);
	assert_false(json_is_true(json_object_get(r.json, "allowed")));
	assert_true(json_is_null(json_object_get(r.json, "lua")));
	assert_true(json_is_null(json_object_get(r.json, "score")));
	match_run_report_fini(&r);
	/* E2 is no mentor. */
	diag_clear(&d);
	assert_int_equal(match_run_explain(&x, path, 2, 6, "E2", "E6", &r, &d), -1);
	assert_string_equal(d.msg, "E2 is not an enrolled mentor with consent in p");
	assert_null(r.json);
	store_close(st);
}

static void
test_compare_and_borrowed_policy(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	struct match_run_ctx x = ctx(st);
	const char *path = write_policy("s.lua", score_policy);
	struct diag d;
	const char *same[] = {path, path, path};
	json_t *doc = match_run_compare(&x, same, 2, &d);
	if (doc == NULL)
		fail_msg("%s", d.msg);
	json_t *pols = json_object_get(doc, "policies");
	assert_int_equal(json_array_size(pols), 2);
	json_int_t matched =
	    json_integer_value(json_object_get(json_array_get(pols, 0), "matched"));
	assert_true(matched > 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "pairs_in_common")), matched);
	json_t *s0 = json_array_get(pols, 0);
	double nmean = json_real_value(json_object_get(s0, "normalized_mean"));
	assert_true(nmean >= 0 && nmean <= 1);
	json_decref(doc);
	/* Three policies: all pairs shared, one count per two of them. */
	doc = match_run_compare(&x, same, 3, &d);
	if (doc == NULL)
		fail_msg("%s", d.msg);
	assert_int_equal(json_array_size(json_object_get(doc, "policies")), 3);
	assert_int_equal(json_integer_value(json_object_get(doc, "pairs_in_common")), matched);
	json_t *bp = json_object_get(doc, "pairs_in_common_by_pair");
	assert_int_equal(json_array_size(bp), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(bp, 2), "pairs")),
			 matched);
	json_decref(doc);
	diag_clear(&d);
	assert_null(match_run_compare(&x, same, 1, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	diag_clear(&d);
	const char *bad[] = {path, "no_such_policy"};
	assert_null(match_run_compare(&x, bad, 2, &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);

	struct policy *pol = policy_open(NULL, path, &d);
	assert_non_null(pol);
	for (int i = 0; i < 2; i++) {
		struct match_run run;
		if (match_run_solve_with(&x, pol, &run, &d) < 0)
			fail_msg("%s", d.msg);
		assert_int_equal(run.res.npairs, matched);
		match_run_fini(&run);
	}
	assert_string_equal(pol->name, "x"); /* still ours */
	policy_delete(pol);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_resolution),
	    cmocka_unit_test(test_run_store_and_explain),
	    cmocka_unit_test(test_compare_and_borrowed_policy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

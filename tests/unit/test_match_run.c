/* Unit tests for program/match_run: the pipeline's driver over a small organization
 * in a store (policy resolution, a dry run's document, storing, a pair's
 * explanation with its standing, comparing two policies, a borrowed policy, the
 * --replace rule, a person erased while the run computed, explaining an approved
 * pair without its own match as history). */
#include "policy_fixture.h"
#include "program/match_run.h"
#include "program/matches.h"
#include "store/stmt.h"

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


/* One integer from a query. */
static int64_t
count(struct store *st, const char *sql)
{
	int64_t n = -1;
	struct diag d;
	if (stmt_query_int64(st, "count", sql, &n, &d) < 0)
		fail_msg("%s", d.msg);
	return n;
}

static const char nobody_policy[] =
    HEAD "require = { level_gap = { min = 20 } }, weights = { topic_fit = 1 } }";

/* Solves under path and stores with replace; the result of match_run_store. */
static int
solve_store(struct match_run_ctx *x, const char *path, int replace, struct match_run *run,
	    struct diag *d)
{
	if (match_run_solve(x, path, run, d) < 0)
		fail_msg("%s", d->msg);
	diag_clear(d);
	return match_run_store(x, run, "tester", replace, d);
}

static void
test_replace_rule(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	struct match_run_ctx x = ctx(st);
	/* write_policy gives its own buffer: keep a copy of each path. */
	char nobody[512], path[512];
	snprintf(nobody, sizeof(nobody), "%s", write_policy("n.lua", nobody_policy));
	snprintf(path, sizeof(path), "%s", write_policy("s.lua", score_policy));
	struct match_run run;
	struct diag d;
	const char *rows = "SELECT count(*) FROM matches";
	const char *events = "SELECT count(*) FROM events";
	int64_t nrows = count(st, rows), nevents = count(st, events);

	/* A policy that allows no pair: refused, the one proposal (4 -> 6) stays. */
	assert_int_equal(solve_store(&x, nobody, 0, &run, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "policy x 1.0.0 allows no pair"));
	assert_non_null(strstr(d.msg, "level_gap outside the required range"));
	assert_non_null(strstr(d.msg, "run again with --replace to replace them"));
	assert_int_equal(run.store.refused, MATCHES_NO_PAIR);
	assert_int_equal(run.store.ncurrent, 1);
	assert_int_equal(run.nstored, 0);
	json_t *r = run.refusal;
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "refused")));
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "no_allowed_pair");
	assert_int_equal(json_integer_value(json_object_get(r, "current_proposals")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "allowed_pairs")), 0);
	assert_true(json_integer_value(json_object_get(r, "mentees_without_allowed_partner")) > 0);
	assert_true(json_integer_value(json_object_get(
			json_object_get(r, "removed"), "level_gap outside the required range")) > 0);
	assert_string_equal(json_string_value(json_object_get(r, "message")), d.msg);
	match_run_fini(&run);
	assert_int_equal(count(st, rows), nrows);
	assert_int_equal(count(st, events), nevents);
	assert_int_equal(count(st, "SELECT count(*) FROM matches WHERE status = 'proposed'"), 1);

	/* With replace it proceeds: the proposal is superseded by an empty run. */
	if (solve_store(&x, nobody, 1, &run, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(run.nstored, 0);
	assert_int_equal(run.store.ncurrent, 1);
	assert_null(run.refusal);
	match_run_fini(&run);
	assert_int_equal(count(st, "SELECT count(*) FROM matches WHERE status = 'superseded'"), 1);

	/* No unreviewed proposals left: a no-pair run is still refused (nothing to store
	 * but an empty run), and says so. */
	assert_int_equal(solve_store(&x, nobody, 0, &run, &d), -1);
	assert_non_null(strstr(d.msg, "run again with --replace to store it anyway"));
	match_run_fini(&run);

	/* A first run is never refused for being fewer. */
	if (solve_store(&x, path, 0, &run, &d) < 0)
		fail_msg("%s", d.msg);
	int first = run.nstored;
	assert_true(first >= 1);
	match_run_fini(&run);

	/* Fewer than half of the unreviewed proposals: refused, nothing written. */
	exec(st, "INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, run_id, "
		 "created_at) VALUES (1, 1, 4, 'proposed', 0, 'old', 'now'), "
		 "(1, 4, 2, 'proposed', 0, 'old', 'now'), (1, 1, 3, 'proposed', 0, 'old', 'now'),"
		 "(1, 4, 3, 'proposed', 0, 'old', 'now'), (1, 1, 6, 'proposed', 0, 'old', 'now')");
	nrows = count(st, rows);
	nevents = count(st, events);
	int current = first + 5;
	assert_int_equal(solve_store(&x, path, 0, &run, &d), -1);
	assert_int_equal(run.store.refused, MATCHES_FEWER);
	assert_int_equal(run.store.ncurrent, current);
	assert_true(2 * run.store.nproposed < current);
	char want[128];
	snprintf(want, sizeof(want), "fewer than half of the %d unreviewed proposals of p", current);
	assert_non_null(strstr(d.msg, want));
	assert_non_null(strstr(d.msg, "run again with --replace to replace them"));
	assert_string_equal(json_string_value(json_object_get(run.refusal, "reason")),
			    "fewer_than_half");
	match_run_fini(&run);
	assert_int_equal(count(st, rows), nrows);
	assert_int_equal(count(st, events), nevents);
	if (solve_store(&x, path, 1, &run, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(run.store.ncurrent, current);
	match_run_fini(&run);
	store_close(st);
}

/* A member of the cohort erased, unenrolled or withdrawn between computing and storing:
 * the store names them and writes nothing. */
static void
test_cohort_changed_meanwhile(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *why;
	} cases[] = {
	    {"DELETE FROM people WHERE id = 6", "person E6 was erased or unenrolled"},
	    {"DELETE FROM enrollments WHERE person_id = 6", "person E6 was erased or unenrolled"},
	    {"UPDATE enrollments SET consent = 0 WHERE person_id = 1", "person E1 withdrew consent"},
	    {"UPDATE people SET status = 'leave' WHERE id = 4", "person E4 is no longer active"},
	};
	const char *path = write_policy("s.lua", score_policy);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store *st = open_store();
		exec(st, org_sql);
		struct match_run_ctx x = ctx(st);
		struct match_run run;
		struct diag d;
		if (match_run_solve(&x, path, &run, &d) < 0)
			fail_msg("%s", d.msg);
		exec(st, cases[i].sql);
		int64_t nrows = count(st, "SELECT count(*) FROM matches");
		int64_t nevents = count(st, "SELECT count(*) FROM events");
		diag_clear(&d);
		assert_int_equal(match_run_store(&x, &run, "tester", 1, &d), -1);
		assert_int_equal(d.code, DIAG_CONFLICT);
		char want[256];
		snprintf(want, sizeof(want),
			 "%s while the run computed; nothing was stored; run `tandem match run "
			 "--program p` again",
			 cases[i].why);
		assert_string_equal(d.msg, want);
		assert_int_equal(run.nstored, 0);
		assert_null(run.refusal);
		assert_int_equal(count(st, "SELECT count(*) FROM matches"), nrows);
		assert_int_equal(count(st, "SELECT count(*) FROM events"), nevents);
		match_run_fini(&run);
		store_close(st);
	}
}

/* previously_paired, explaining a pair: its own approved match is not history; an ended
 * match of the pair elsewhere still is. */
static void
test_explain_approved_pair(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "INSERT INTO matches (program_id, mentor_id, mentee_id, status, pinned, "
		 "created_at) VALUES (1, 1, 4, 'approved', 0, 'now'), "
		 "(1, 4, 6, 'approved', 0, 'now')");
	struct match_run_ctx x = ctx(st);
	const char *path =
	    write_policy("pp.lua", HEAD "forbid = { 'previously_paired' }, "
					"weights = { topic_fit = 1 } }");
	struct match_run_report r;
	struct diag d;
	if (match_run_explain(&x, path, 1, 4, "E1", "E4", &r, &d) < 0)
		fail_msg("%s", d.msg);
	json_t *pp = json_object_get(json_object_get(r.json, "constraints"), "previously_paired");
	assert_non_null(pp);
	assert_false(json_is_true(json_object_get(pp, "holds")));
	assert_true(json_is_true(json_object_get(r.json, "allowed")));
	assert_true(json_is_true(json_object_get(r.json, "chosen")));
	match_run_report_fini(&r);
	/* E4 and E6 were paired before in program q (ended): that still counts. */
	if (match_run_explain(&x, path, 4, 6, "E4", "E6", &r, &d) < 0)
		fail_msg("%s", d.msg);
	pp = json_object_get(json_object_get(r.json, "constraints"), "previously_paired");
	assert_true(json_is_true(json_object_get(pp, "holds")));
	assert_false(json_is_true(json_object_get(r.json, "allowed")));
	match_run_report_fini(&r);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_resolution),
	    cmocka_unit_test(test_run_store_and_explain),
	    cmocka_unit_test(test_compare_and_borrowed_policy),
	    cmocka_unit_test(test_replace_rule),
	    cmocka_unit_test(test_cohort_changed_meanwhile),
	    cmocka_unit_test(test_explain_approved_pair),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests for program/explain: a pair's explanation against the features, a
 * run's document, a policy's summary and the pairs two results share. */
#include "policy_fixture.h"
#include "program/explain.h"
#include "program/solve.h"

static double
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		fail_msg("'%s' is not a number", key);
	return json_number_value(v);
}

/* Every feature's value, weight and contribution, the constraints with their rules,
 * the verdict and the three scores. */
static void
test_explain_pair(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	struct cohort c;
	make_cohort(&c, 4, 6, 17);
	assert_int_equal(cohort_finish(&c, &d), 0);
	for (int m = 0; m < c.nmentors; m++)
		for (int e = 0; e < c.nmentees; e++) {
			json_t *ex = explain_pair(pol, &c, m, e, 0.25);
			assert_non_null(ex);
			assert_string_equal(json_string_value(json_object_get(ex, "policy")), "x");
			assert_string_equal(
			    json_string_value(json_object_get(ex, "policy_version")), "1.0.0");
			struct feat_values v;
			feat_eval(c.snap, m, e, &v);
			json_t *feats = json_object_get(ex, "features");
			assert_int_equal(json_object_size(feats), FEAT_COUNT);
			for (int f = 0; f < FEAT_COUNT; f++) {
				json_t *o = json_object_get(feats, feat_name(f));
				assert_non_null(o);
				assert_float_equal(num(o, "value"), v.value[f], 1e-12);
				assert_float_equal(num(o, "weight"), pol->rules.weight[f], 0);
				assert_float_equal(num(o, "contribution"),
						   pol->rules.weight[f] * v.value[f], 1e-12);
				assert_int_equal(json_is_null(json_object_get(o, "raw")),
						 !v.known[f]);
			}
			json_t *rc = json_object_get(json_object_get(ex, "constraints"),
						     feat_pred_name(FPRED_REPORTING_CHAIN));
			assert_string_equal(json_string_value(json_object_get(rc, "rule")),
					    "forbid");
			int verdict = feat_check(c.snap, &pol->rules, m, e);
			assert_int_equal(json_is_true(json_object_get(ex, "allowed")),
					 verdict == FV_ALLOWED);
			char why[128];
			feat_verdict_text(verdict, why, sizeof(why));
			assert_string_equal(json_string_value(json_object_get(ex, "verdict")), why);
			double builtin = feat_score(c.snap, &pol->rules, m, e);
			assert_float_equal(num(ex, "builtin"), builtin, 1e-9);
			assert_float_equal(num(ex, "lua"), 0.25, 0);
			assert_float_equal(num(ex, "score"), builtin + 0.25, 1e-9);
			json_decref(ex);
		}
	cohort_fini(&c);
	policy_delete(pol);
}

/* The run document lists the result's pairs and unmatched mentees in order, with
 * explanations only when asked; the summary and the pairs in common add up. */
static void
test_run_summary_common(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	struct cohort c;
	make_cohort(&c, 5, 7, 23);
	for (int m = 0; m < c.nmentors; m++)
		c.mentors[m].capacity = 2;
	c.program = strdup("prog");
	assert_int_equal(cohort_finish(&c, &d), 0);
	struct solve_result res;
	if (solve_cohort(pol, &c, &res, &d) < 0)
		fail_msg("%s", d.msg);
	for (int explain = 0; explain < 2; explain++) {
		json_t *doc = explain_run(pol, &c, &res, explain);
		assert_non_null(doc);
		assert_string_equal(json_string_value(json_object_get(doc, "program")), "prog");
		assert_int_equal(json_integer_value(json_object_get(doc, "mentees")), c.nmentees);
		json_t *pairs = json_object_get(doc, "pairs");
		assert_int_equal(json_array_size(pairs), res.npairs);
		assert_int_equal(json_array_size(json_object_get(doc, "unmatched")),
				 res.nunmatched);
		for (int i = 0; i < res.npairs; i++) {
			json_t *p = json_array_get(pairs, i);
			int ep = c.mentees[res.pairs[i].mentee].person;
			assert_string_equal(
			    json_string_value(json_object_get(json_object_get(p, "mentee"), "id")),
			    c.people[ep].external_id);
			assert_float_equal(num(p, "score"), res.pairs[i].score, 0);
			assert_int_equal(json_object_get(p, "explanation") != NULL, explain);
		}
		assert_float_equal(num(doc, "total"), res.total, 0);
		json_decref(doc);
	}
	json_t *sum = explain_summary(pol, &c, &res);
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(sum, "matched")), res.npairs);
	assert_float_equal(num(sum, "mean"), res.npairs ? res.total / res.npairs : 0, 1e-9);
	json_t *groups = json_object_get(json_object_get(sum, "by_department"), "groups");
	json_int_t counted = 0;
	const char *k;
	json_t *v;
	json_object_foreach(groups, k, v) counted +=
	    json_integer_value(json_object_get(v, "pairs"));
	assert_int_equal(counted, res.npairs);
	json_decref(sum);
	assert_int_equal(explain_common_pairs(&res, &res, c.nmentees), res.npairs);
	struct solve_result none = {0};
	assert_int_equal(explain_common_pairs(&res, &none, c.nmentees), 0);
	solve_result_fini(&res);
	cohort_fini(&c);
	policy_delete(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_explain_pair),
	    cmocka_unit_test(test_run_summary_common),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

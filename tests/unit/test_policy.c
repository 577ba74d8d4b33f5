/* Unit tests for program/policy: declaration validation errors, a valid
 * declaration in C form, the built-in policies load. */
#include "policy_fixture.h"

/* Loads a policy body expecting failure; returns the message. */
static const char *
load_error(const char *body)
{
	static struct diag d;
	diag_clear(&d);
	const char *path = write_policy("bad.lua", body);
	struct policy *p = policy_open(NULL, path, &d);
	if (p != NULL) {
		policy_delete(p);
		fail_msg("policy loaded although it should not: %s", body);
	}
	return d.msg;
}

static void
test_validation_errors(void **state)
{
	(void)state;
	const char *m;
	m = load_error(HEAD "weights = { topic_fitt = 1 } }");
	assert_non_null(strstr(m, "bad.lua:"));
	assert_non_null(strstr(m, "unknown feature 'topic_fitt'"));
	assert_non_null(strstr(m, "cross_location")); /* lists the valid ones */
	m = load_error(HEAD "forbid = { 'same_floor' } }");
	assert_non_null(strstr(m, "unknown constraint 'same_floor'"));
	assert_non_null(strstr(m, "reporting_chain"));
	m = load_error(HEAD "weights = 'heavy' }");
	assert_non_null(strstr(m, "field 'weights' must be a table (got string)"));
	m = load_error(HEAD "weights = { topic_fit = 'a lot' } }");
	assert_non_null(strstr(m, "'weights'.topic_fit must be a finite number (got string)"));
	m = load_error(HEAD "weights = { topic_fit = 1/0 } }");
	assert_non_null(strstr(m, "'weights'.topic_fit must be a finite number (got inf)"));
	m = load_error(HEAD "require = { level_gap = { min = 0/0 } } }");
	assert_non_null(strstr(m, "'require'.level_gap.min must be a finite number (got nan)"));
	m = load_error(HEAD "require = { level_gap = { minimum = 3 } } }");
	assert_non_null(strstr(m, "unknown key 'minimum'"));
	m = load_error(HEAD "require = { level_gap = { min = 3, max = 1 } } }");
	assert_non_null(strstr(m, "min 3 is above max 1"));
	m = load_error(HEAD "require = { same_location = 'yes' } }");
	assert_non_null(strstr(m, "must be true or false"));
	m = load_error(HEAD "require = { seniority = { min = 1 } } }");
	assert_non_null(strstr(m, "unknown name 'seniority'"));
	m = load_error(HEAD "method = 'greedy' }");
	assert_non_null(strstr(m, "\"optimal\" or \"stable\""));
	m = load_error(HEAD "candidates = 0 }");
	assert_non_null(strstr(m, "candidates"));
	m = load_error(HEAD "score = 3 }");
	assert_non_null(strstr(m, "score"));
	m = load_error(HEAD "prefer_mentor = function() return 1 end }");
	assert_non_null(strstr(m, "only applies to method = \"stable\""));
	m = load_error(HEAD "colour = 'blue' }");
	assert_non_null(strstr(m, "colour"));
}

static void
test_valid_declaration(void **state)
{
	(void)state;
	struct diag d;
	const char *path = write_policy(
	    "ok.lua", HEAD "method = 'stable', candidates = 7,\n"
			   "forbid = { 'reporting_chain', 'same_team' },\n"
			   "require = { level_gap = { min = 2 }, same_location = true },\n"
			   "weights = { topic_fit = 5, tz_distance = -1 },\n"
			   "prefer_mentee = function(a, b, f) return f.topic_fit end }");
	struct policy *p = policy_open(NULL, path, &d);
	assert_non_null(p);
	assert_string_equal(p->name, "x");
	assert_int_equal(p->method, POLICY_STABLE);
	assert_int_equal(p->candidates, 7);
	assert_int_equal(p->rules.forbid, 1u << FPRED_REPORTING_CHAIN | 1u << FPRED_SAME_TEAM);
	assert_int_equal(p->rules.require, 1u << FPRED_SAME_LOCATION);
	assert_true(p->rules.range[FEAT_LEVEL_GAP].on);
	assert_float_equal(p->rules.range[FEAT_LEVEL_GAP].min, 2, 0);
	assert_float_equal(p->rules.weight[FEAT_TOPIC_FIT], 5, 0);
	assert_float_equal(p->rules.weight[FEAT_TZ_DISTANCE], -1, 0);
	assert_true(p->has_prefer_mentee);
	assert_false(p->has_score);
	policy_delete(p);
}

static void
test_builtin_policies_load(void **state)
{
	(void)state;
	const char *names[] = {"digital_upskilling", "inclusion_listening", "reciprocal",
			       "cross_department"};
	for (int i = 0; i < 4; i++) {
		struct diag d;
		diag_clear(&d);
		struct policy *p = policy_open(NULL, names[i], &d);
		if (p == NULL)
			fail_msg("%s: %s", names[i], d.msg);
		assert_string_equal(p->name, names[i]);
		policy_delete(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_valid_declaration),
	    cmocka_unit_test(test_builtin_policies_load),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

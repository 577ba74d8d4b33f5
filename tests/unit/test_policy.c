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

/* The lines of m that start with "bad.lua:N: ", as "N N N " (the line numbers in order). */
static void
line_numbers(const char *m, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = m; (p = strstr(p, "bad.lua:")) != NULL; p++)
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%d ", atoi(p + 8));
}

/* Every problem of the policy-specific fields at once, one per line, in line order,
 * each at its field's line; the common fields' problems among them. */
static void
test_all_problems_at_once(void **state)
{
	(void)state;
	const char *m = load_error("return tandem.policy{\n"               /* 1 */
				   "  name = 'x', version = '1.0', api = 1,\n" /* 2 */
				   "  candidates = 0,\n"                      /* 3 */
				   "  weights = {\n"                          /* 4 */
				   "    topic_fitt = 1,\n"                    /* 5 */
				   "    level_gap = 'big',\n"                 /* 6 */
				   "  },\n"                                   /* 7 */
				   "  method = 'greedy',\n"                   /* 8 */
				   "  forbid = { 'same_floor', 'same_desk' },\n" /* 9 */
				   "  score = 3,\n"                           /* 10 */
				   "}\n");
	char lines[128];
	line_numbers(m, lines, sizeof(lines));
	assert_string_equal(lines, "2 3 4 4 8 9 9 10 ");
	assert_non_null(strstr(m, "bad.lua:2: field 'version' must look like"));
	assert_non_null(strstr(m, "bad.lua:3: field 'candidates' must be an integer"));
	assert_non_null(strstr(m, "bad.lua:4: field 'weights'.level_gap must be a finite number"));
	assert_non_null(strstr(m, "bad.lua:4: field 'weights': unknown feature 'topic_fitt'"));
	assert_non_null(strstr(m, "bad.lua:8: field 'method' must be \"optimal\" or \"stable\""));
	assert_non_null(strstr(m, "bad.lua:9: field 'forbid': unknown constraint 'same_desk' (valid: "));
	/* The valid names are listed once per declaration. */
	assert_non_null(strstr(m, "bad.lua:9: field 'forbid': unknown constraint 'same_floor'\n"));
	assert_non_null(strstr(m, "bad.lua:10: field 'score' must be a function (got number)"));
	/* Both stable-only hooks are named, not only the first. */
	m = load_error(HEAD "prefer_mentor = function() return 1 end,\n"
			    "prefer_mentee = function() return 1 end }");
	assert_non_null(strstr(m, "field 'prefer_mentor' only applies"));
	assert_non_null(strstr(m, "field 'prefer_mentee' only applies"));
	/* More problems than a message holds: whole lines only, in line order. */
	char body[4096];
	size_t len = (size_t)snprintf(body, sizeof(body), "%s", HEAD);
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "w%02d = 1,\n", i);
	snprintf(body + len, sizeof(body) - len, "}");
	m = load_error(body);
	assert_true(strlen(m) < DIAG_MSG_MAX - 1);
	const char *last = strrchr(m, '\n');
	assert_non_null(last);
	assert_non_null(strstr(last, "in a policy declaration (valid fields: "));
	assert_int_equal(m[strlen(m) - 1], ')');
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
	    cmocka_unit_test(test_all_problems_at_once),
	    cmocka_unit_test(test_valid_declaration),
	    cmocka_unit_test(test_builtin_policies_load),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

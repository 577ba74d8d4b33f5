/* Unit tests for program/score: plugin failures fail the solve with file:line and
 * the hook, the features view a hook reads, scores of explicit pairs. */
#include "policy_fixture.h"
#include "program/score.h"
#include "program/solve.h"

static void
test_plugin_failure_fails_the_solve(void **state)
{
	(void)state;
	struct diag d;
	const char *bodies[] = {
	    HEAD "score = function(m, e, f)\n  error('boom')\nend }",
	    HEAD "score = function(m, e, f) return 'high' end }",
	    HEAD "score = function(m, e, f) while true do end end }",
	    HEAD "capacity = function(m) return -1 end }",
	    /* Numeric strings are not numbers: Lua would convert them silently. */
	    HEAD "score = function(m, e, f) return '1.5' end }",
	    HEAD "capacity = function(m) return '2' end }",
	    HEAD "score = function(m, e, f) return 0/0 end }",
	};
	/* Bad return values name the line where the hook is defined (2). */
	const char *expect[] = {
	    "boom",
	    "fail.lua:2: score must return a finite number (got the string \"high\") (in hook "
	    "score)",
	    "per-call deadline",
	    "fail.lua:2: capacity must return an integer in 0..1000000 (got -1) (in hook capacity)",
	    "fail.lua:2: score must return a finite number (got the string \"1.5\")",
	    "fail.lua:2: capacity must return an integer in 0..1000000 (got the string \"2\")",
	    "fail.lua:2: score must return a finite number (got nan)",
	};
	for (int i = 0; i < 7; i++) {
		diag_clear(&d);
		struct policy *pol = policy_open(NULL, write_policy("fail.lua", bodies[i]), &d);
		if (pol == NULL)
			fail_msg("%s", d.msg);
		struct cohort c;
		make_cohort(&c, 3, 3, 1);
		for (int m = 0; m < 3; m++)
			c.mentors[m].capacity = 1;
		assert_int_equal(cohort_finish(&c, &d), 0);
		struct solve_result res;
		assert_int_equal(solve_cohort(pol, &c, &res, &d), -1);
		assert_int_equal(d.code, DIAG_PLUGIN);
		if (strstr(d.msg, expect[i]) == NULL)
			fail_msg("case %d: '%s' lacks '%s'", i, d.msg, expect[i]);
		if (i == 0 && strstr(d.msg, "fail.lua:3: boom (in hook score)") == NULL)
			fail_msg("no file:line in '%s'", d.msg);
		assert_null(res.pairs);
		cohort_fini(&c);
		policy_delete(pol);
	}
}

/* The features view: right values for every pair (also after a hook assigns to
 * a field it read), pairs() lists them, new fields cannot be added. */
static void
test_features_view(void **state)
{
	(void)state;
	struct diag d;
	const char *bodies[] = {
	    HEAD "weights = { topic_fit = 2, cross_department = 1 },\n"
		 "score = function(m, e, f) local v = f.topic_fit; f.topic_fit = 99\n"
		 "  return 10 * v + f.builtin end }",
	    HEAD "score = function(m, e, f) local n = 0\n"
		 "  for k, v in pairs(f) do n = n + 1 end\n"
		 "  return n end }",
	    HEAD "score = function(m, e, f) f.extra = 1; return 0 end }",
	};
	for (int i = 0; i < 3; i++) {
		struct policy *pol = policy_open(NULL, write_policy("view.lua", bodies[i]), &d);
		if (pol == NULL)
			fail_msg("%s", d.msg);
		struct cohort c;
		make_cohort(&c, 6, 8, 21);
		for (int m = 0; m < c.nmentors; m++)
			c.mentors[m].capacity = 2;
		assert_int_equal(cohort_finish(&c, &d), 0);
		struct solve_result res;
		int rc = solve_cohort(pol, &c, &res, &d);
		if (i == 2) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(d.msg, "read-only"));
		} else {
			if (rc < 0)
				fail_msg("%s", d.msg);
			assert_true(res.npairs > 2);
			for (int k = 0; k < res.npairs; k++) {
				const struct solve_pair *p = &res.pairs[k];
				struct feat_values v;
				feat_eval(c.snap, p->mentor, p->mentee, &v);
				double want = i == 0 ? 10 * v.value[FEAT_TOPIC_FIT] + p->builtin
						     : FEAT_COUNT + 1;
				assert_float_equal(p->lua, want, 1e-9);
			}
			solve_result_fini(&res);
		}
		cohort_fini(&c);
		policy_delete(pol);
	}
}

/* score_pairs gives the hook's value for explicit pairs (the formula of score_policy),
 * zeros for a policy without a score hook, and nothing to do for no pair. */
static void
test_score_pairs(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	struct cohort c;
	make_cohort(&c, 4, 5, 11);
	assert_int_equal(cohort_finish(&c, &d), 0);
	int mentors[] = {0, 3, 1, 0}, mentees[] = {4, 0, 2, 0};
	double out[4] = {-1, -1, -1, -1};
	if (score_pairs(pol, &c, mentors, mentees, 4, out, &d) < 0)
		fail_msg("%s", d.msg);
	for (int k = 0; k < 4; k++)
		assert_float_equal(out[k], lua_formula(&c, mentors[k], mentees[k]), 1e-12);
	assert_int_equal(score_pairs(pol, &c, mentors, mentees, 0, out, &d), 0);
	policy_delete(pol);

	pol =
	    policy_open(NULL, write_policy("plain.lua", HEAD "weights = { topic_fit = 1 } }"), &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	out[0] = out[1] = -1;
	assert_int_equal(score_pairs(pol, &c, mentors, mentees, 2, out, &d), 0);
	assert_float_equal(out[0], 0, 0);
	assert_float_equal(out[1], 0, 0);
	policy_delete(pol);
	cohort_fini(&c);
}

/* score_run over a dense mask gives one value per allowed cell, row-major; the
 * capacity hook one per mentor. */
static void
test_score_run_dense_and_capacity(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(
	    NULL,
	    write_policy("both.lua", HEAD "score = function(m, e, f) return 0.1 * m.level - 0.05 * "
					  "e.level end,\n"
					  "capacity = function(m) return m.level % 3 end }"),
	    &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	struct cohort c;
	make_cohort(&c, 3, 4, 5);
	assert_int_equal(cohort_finish(&c, &d), 0);
	uint8_t mask[4 * 3] = {0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0};
	int allowed = 0;
	for (int i = 0; i < 12; i++)
		allowed += mask[i] == 0;
	struct score_batch b = {.mask = mask, .nr = 4, .nc = 3, .npairs = allowed};
	b.out[SCORE_SCORE] = score_out_new((size_t)allowed, &d);
	b.out[SCORE_CAPACITY] = score_out_new(3, &d);
	assert_non_null(b.out[SCORE_SCORE]);
	assert_non_null(b.out[SCORE_CAPACITY]);
	if (score_run(pol, &c, &b, &d) < 0)
		fail_msg("%s", d.msg);
	int k = 0;
	for (int r = 0; r < 4; r++)
		for (int col = 0; col < 3; col++)
			if (mask[r * 3 + col] == 0)
				assert_float_equal(b.out[SCORE_SCORE][k++], lua_formula(&c, col, r),
						   1e-12);
	for (int m = 0; m < 3; m++)
		assert_float_equal(b.out[SCORE_CAPACITY][m],
				   (c.people[c.mentors[m].person].level % 3), 0);
	assert_string_equal(score_hook_name(SCORE_PREFER_MENTEE), "prefer_mentee");
	assert_string_equal(score_hook_name(SCORE_NHOOKS), "?");
	score_out_delete(b.out[SCORE_SCORE], (size_t)allowed);
	score_out_delete(b.out[SCORE_CAPACITY], 3);
	cohort_fini(&c);
	policy_delete(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plugin_failure_fails_the_solve),
	    cmocka_unit_test(test_features_view),
	    cmocka_unit_test(test_score_pairs),
	    cmocka_unit_test(test_score_run_dense_and_capacity),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

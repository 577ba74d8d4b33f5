/* Unit tests for program/unmatched: on random cohorts, every unmatched mentee and every
 * mentor with unused capacity gets exactly one reason, the reasons add up, and each
 * reason is true (no allowed partner: the verdicts cover all mentors; lost to a better
 * use: the best mentor is allowed and the ones who took it are its mentees). */
#include "policy_fixture.h"
#include "program/solve.h"
#include "program/unmatched.h"

static int
json_int(json_t *o, const char *k)
{
	return (int)json_integer_value(json_object_get(o, k));
}

static void
check_reasons(const struct policy *pol, const struct cohort *c, const struct solve_result *res,
	      json_t *doc)
{
	json_t *me = json_object_get(doc, "mentees"), *mo = json_object_get(doc, "mentors");
	assert_int_equal(json_int(me, "no_consent"), 0); /* no store: nobody listed */
	assert_int_equal(json_int(me, "total"), res->nunmatched);
	assert_int_equal(json_int(me, "no_allowed_partner") + json_int(me, "lost_to_better_use"),
			 res->nunmatched);
	int *used = calloc((size_t)c->nmentors + 1, sizeof(int));
	for (int i = 0; i < res->npairs; i++)
		used[res->pairs[i].mentor]++;
	int unused = 0;
	for (int m = 0; m < c->nmentors; m++)
		unused += used[m] < c->mentors[m].capacity;
	assert_int_equal(json_int(mo, "total"), unused);
	assert_int_equal(json_int(mo, "no_allowed_partner") + json_int(mo, "lost_to_better_use"),
			 unused);
	size_t i;
	json_t *p;
	int nmentee = 0;
	json_array_foreach(json_object_get(doc, "people"), i, p)
	{
		const char *side = json_string_value(json_object_get(p, "side"));
		const char *reason = json_string_value(json_object_get(p, "reason"));
		if (strcmp(reason, "no_allowed_partner") == 0) {
			json_t *removed = json_object_get(p, "removed");
			const char *k;
			json_t *v;
			long sum = 0;
			json_object_foreach(removed, k, v) sum += (long)json_integer_value(v);
			if (strcmp(side, "mentee") == 0)
				assert_int_equal(sum, c->nmentors);
			else
				assert_int_equal(sum, c->nmentees);
		}
		if (strcmp(side, "mentee") != 0)
			continue;
		nmentee++;
		if (strcmp(reason, "lost_to_better_use") == 0) {
			const char *best =
			    json_string_value(json_object_get(json_object_get(p, "best"), "id"));
			int bm = -1;
			for (int m = 0; m < c->nmentors; m++)
				if (strcmp(c->people[c->mentors[m].person].external_id, best) == 0)
					bm = m;
			assert_true(bm >= 0);
			assert_int_equal((int)json_array_size(json_object_get(p, "taken_by")), used[bm]);
		}
	}
	assert_int_equal(nmentee, res->nunmatched);
	free(used);
}

static void
test_reasons_add_up(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	assert_non_null(pol);
	int some_lost = 0, some_none = 0;
	for (int trial = 0; trial < 20; trial++) {
		struct cohort c;
		make_cohort(&c, 3 + trial % 4, 4 + trial % 5, 100u + (unsigned)trial);
		/* Mentee 0 is vetoed with every mentor: no allowed partner. */
		for (int m = 0; m < c.nmentors; m++)
			assert_int_equal(
			    cohort_add_veto(&c, c.mentors[m].person, c.mentees[0].person), 0);
		assert_int_equal(cohort_finish(&c, &d), 0);
		struct solve_result res;
		if (solve_cohort(pol, &c, &res, &d) < 0)
			fail_msg("solve: %s", d.msg);
		json_t *doc = unmatched_reasons(NULL, pol, &c, &res, &d);
		assert_non_null(doc);
		check_reasons(pol, &c, &res, doc);
		/* What a refused run names: every candidate of each mentee without an
		 * allowed partner was removed by some constraint, the vetoes among them. */
		int nm = -1;
		json_t *removed = unmatched_removed(doc, &nm);
		assert_non_null(removed);
		assert_int_equal(nm, json_int(json_object_get(doc, "mentees"), "no_allowed_partner"));
		json_int_t sum = 0;
		const char *k;
		json_t *v;
		json_object_foreach(removed, k, v)
		    sum += json_integer_value(v);
		assert_int_equal(sum, (json_int_t)nm * c.nmentors);
		assert_true(json_integer_value(json_object_get(removed, "vetoed by an administrator")) >=
			    c.nmentors);
		json_decref(removed);
		some_lost += json_int(json_object_get(doc, "mentees"), "lost_to_better_use");
		some_none += json_int(json_object_get(doc, "mentees"), "no_allowed_partner");
		json_decref(doc);
		solve_result_fini(&res);
		cohort_fini(&c);
	}
	/* The random cohorts exercise both reasons. */
	assert_true(some_lost > 0);
	assert_true(some_none > 0);
	policy_delete(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reasons_add_up),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

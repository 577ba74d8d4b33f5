/* Unit tests for program/solve: the pipeline on small cohorts against brute force
 * (optimal), a blocking-pair check (stable), candidate lists, kept pairs and vetoes,
 * progress reports. */
#include "policy_fixture.h"
#include "program/solve.h"

/* Brute force: best (cardinality, total) over all assignments. */
static void
brute(const struct policy *pol, const struct cohort *c, int r, int *cap, int card, double total,
      int *best_card, double *best_total)
{
	if (r == c->nmentees) {
		if (card > *best_card || (card == *best_card && total > *best_total + 1e-9)) {
			*best_card = card;
			*best_total = total;
		}
		return;
	}
	brute(pol, c, r + 1, cap, card, total, best_card, best_total);
	for (int m = 0; m < c->nmentors; m++) {
		if (cap[m] == 0 || feat_check(c->snap, &pol->rules, m, r) != FV_ALLOWED)
			continue;
		cap[m]--;
		double s = feat_score(c->snap, &pol->rules, m, r) + lua_formula(c, m, r);
		brute(pol, c, r + 1, cap, card + 1, total + s, best_card, best_total);
		cap[m]++;
	}
}

static void
check_valid(const struct policy *pol, const struct cohort *c, const struct solve_result *res)
{
	int *used = calloc((size_t)c->nmentors, sizeof(int));
	double total = 0;
	for (int i = 0; i < res->npairs; i++) {
		const struct solve_pair *p = &res->pairs[i];
		used[p->mentor]++;
		if (!p->kept)
			assert_int_equal(feat_check(c->snap, &pol->rules, p->mentor, p->mentee),
					 FV_ALLOWED);
		assert_float_equal(p->builtin,
				   feat_score(c->snap, &pol->rules, p->mentor, p->mentee), 1e-9);
		total += p->score;
	}
	for (int m = 0; m < c->nmentors; m++)
		assert_true(used[m] <= (c->mentors[m].capacity > 0 ? c->mentors[m].capacity : 0) ||
			    c->nkept > 0);
	assert_float_equal(total, res->total, 1e-6);
	assert_int_equal(res->npairs + res->nunmatched, c->nmentees);
	free(used);
}

static void
test_optimal_matches_brute_force(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	assert_non_null(pol);
	for (int trial = 0; trial < 12; trial++) {
		struct cohort c;
		make_cohort(&c, 3 + trial % 3, 4 + trial % 3, 100 + trial);
		assert_int_equal(cohort_finish(&c, &d), 0);
		struct solve_result res;
		if (solve_cohort(pol, &c, &res, &d) < 0)
			fail_msg("solve: %s", d.msg);
		check_valid(pol, &c, &res);
		for (int i = 0; i < res.npairs; i++)
			assert_float_equal(
			    res.pairs[i].lua,
			    lua_formula(&c, res.pairs[i].mentor, res.pairs[i].mentee), 1e-12);
		int cap[8], best_card = -1;
		double best_total = -1e300;
		for (int m = 0; m < c.nmentors; m++)
			cap[m] = c.mentors[m].capacity;
		brute(pol, &c, 0, cap, 0, 0, &best_card, &best_total);
		assert_int_equal(res.npairs, best_card);
		assert_float_equal(res.total, best_total, 1e-6);
		solve_result_fini(&res);
		cohort_fini(&c);
	}
	policy_delete(pol);
}

static void
test_candidates_and_kept_and_vetoes(void **state)
{
	(void)state;
	struct diag d;
	char body[1024];
	snprintf(body, sizeof(body), "%s", score_policy);
	char *close = strrchr(body, '}');
	snprintf(close, sizeof(body) - (size_t)(close - body), ", candidates = 2 }");
	struct policy *pol = policy_open(NULL, write_policy("cand.lua", body), &d);
	assert_non_null(pol);
	assert_int_equal(pol->candidates, 2);
	struct cohort c;
	make_cohort(&c, 6, 8, 7);
	for (int m = 0; m < c.nmentors; m++)
		c.mentors[m].capacity = 2;
	/* Keep mentor 0 with mentee 0 even if the rules forbid it; veto mentor 1 - mentee 1. */
	assert_int_equal(cohort_add_kept(&c, 0, 0, 42, 1), 0);
	assert_int_equal(cohort_add_veto(&c, c.mentors[1].person, c.mentees[1].person), 0);
	assert_int_equal(cohort_finish(&c, &d), 0);
	struct solve_result res;
	if (solve_cohort(pol, &c, &res, &d) < 0)
		fail_msg("solve: %s", d.msg);
	assert_true(res.sparse);
	assert_int_equal(res.candidates, 2);
	assert_true(res.lua_calls <= 2 * c.nmentees);
	check_valid(pol, &c, &res);
	int found = 0;
	for (int i = 0; i < res.npairs; i++) {
		if (res.pairs[i].mentee == 0) {
			assert_int_equal(res.pairs[i].mentor, 0);
			assert_true(res.pairs[i].kept);
			found = 1;
		}
		assert_false(res.pairs[i].mentor == 1 && res.pairs[i].mentee == 1);
	}
	assert_true(found);
	solve_result_fini(&res);
	cohort_fini(&c);
	policy_delete(pol);
}

static void
test_stable_has_no_blocking_pair(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(
	    NULL,
	    write_policy(
		"stable.lua",
		HEAD "method = 'stable', forbid = { 'reporting_chain' },\n"
		     "weights = { topic_fit = 2 },\n"
		     "prefer_mentee = function(m, e, f) return f.topic_fit + 0.01 * m.level end,\n"
		     "prefer_mentor = function(m, e, f) return e.level end }"),
	    &d);
	if (pol == NULL)
		fail_msg("%s", d.msg);
	for (int trial = 0; trial < 5; trial++) {
		struct cohort c;
		make_cohort(&c, 5, 9, 300 + trial);
		assert_int_equal(cohort_finish(&c, &d), 0);
		struct solve_result res;
		if (solve_cohort(pol, &c, &res, &d) < 0)
			fail_msg("solve: %s", d.msg);
		check_valid(pol, &c, &res);
		int partner[16], load[16] = {0};
		for (int r = 0; r < c.nmentees; r++)
			partner[r] = -1;
		for (int i = 0; i < res.npairs; i++) {
			partner[res.pairs[i].mentee] = res.pairs[i].mentor;
			load[res.pairs[i].mentor]++;
		}
		/* Blocking pair: both allowed, the mentee prefers m, and m has room or
		 * prefers the mentee to its worst assignee. Ties never block. */
		for (int r = 0; r < c.nmentees; r++) {
			for (int m = 0; m < c.nmentors; m++) {
				if (partner[r] == m ||
				    feat_check(c.snap, &pol->rules, m, r) != FV_ALLOWED)
					continue;
				struct feat_values v;
				feat_eval(c.snap, m, r, &v);
				double pe = v.value[FEAT_TOPIC_FIT] +
					    0.01 * c.people[c.mentors[m].person].level;
				if (partner[r] >= 0) {
					feat_eval(c.snap, partner[r], r, &v);
					double cur =
					    v.value[FEAT_TOPIC_FIT] +
					    0.01 * c.people[c.mentors[partner[r]].person].level;
					if (pe <= cur)
						continue;
				}
				if (c.mentors[m].capacity == 0)
					continue;
				int room = load[m] < c.mentors[m].capacity;
				int worst = 100;
				for (int k = 0; k < c.nmentees; k++)
					if (partner[k] == m &&
					    c.people[c.mentees[k].person].level < worst)
						worst = c.people[c.mentees[k].person].level;
				int prefers = c.people[c.mentees[r].person].level > worst;
				assert_false(room || prefers);
			}
		}
		solve_result_fini(&res);
		cohort_fini(&c);
	}
	policy_delete(pol);
}

/* What a progress callback saw: the last report of each phase and the order. */
struct seen {
	long feat_done, feat_total, solve_done, solve_total;
	int nreports, order_ok;
};

static void
record(void *ud, const char *phase, long done, long total)
{
	struct seen *s = ud;
	s->nreports++;
	if (strncmp(phase, "constraints", 11) == 0) {
		s->order_ok = s->solve_total == 0;
		s->feat_done = done;
		s->feat_total = total;
	} else if (strncmp(phase, "solving", 7) == 0) {
		s->solve_done = done;
		s->solve_total = total;
	}
	assert_true(done <= total);
}

static void
test_progress_reports_phases(void **state)
{
	(void)state;
	struct diag d;
	struct policy *pol = policy_open(NULL, write_policy("score.lua", score_policy), &d);
	assert_non_null(pol);
	struct cohort c;
	make_cohort(&c, 5, 7, 3);
	assert_int_equal(cohort_finish(&c, &d), 0);
	struct seen s = {0};
	struct solve_progress pr = {.fn = record, .ud = &s};
	struct solve_result res, plain;
	if (solve_cohort_progress(pol, &c, &res, &pr, &d) < 0 ||
	    solve_cohort(pol, &c, &plain, &d) < 0)
		fail_msg("solve: %s", d.msg);
	assert_int_equal(s.feat_done, c.nmentees);
	assert_int_equal(s.feat_total, c.nmentees);
	assert_int_equal(s.solve_done, c.nmentees);
	assert_true(s.order_ok);
	assert_true(s.nreports >= 3);
	/* Reporting changes nothing in the result. */
	assert_int_equal(res.npairs, plain.npairs);
	assert_float_equal(res.total, plain.total, 1e-12);
	solve_result_fini(&res);
	solve_result_fini(&plain);
	cohort_fini(&c);
	policy_delete(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_optimal_matches_brute_force),
	    cmocka_unit_test(test_candidates_and_kept_and_vetoes),
	    cmocka_unit_test(test_stable_has_no_blocking_pair),
	    cmocka_unit_test(test_progress_reports_phases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

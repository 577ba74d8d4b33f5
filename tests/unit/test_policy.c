/* Unit tests for core/policy: declaration validation errors, and the pipeline on
 * small cohorts against brute force (optimal), a blocking-pair check (stable),
 * candidate lists, kept pairs, vetoes and plugin failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "program/cohort.h"
#include "program/policy.h"
#include "program/score.h"
#include "program/solve.h"

static char tmpdir[256];

static const char *
write_policy(const char *file, const char *body)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	return path;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_policy.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

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

#define HEAD "return tandem.policy{ name = 'x', version = '1.0.0', api = 1,\n"

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

/* ---- small cohorts ---------------------------------------------------------------- */

static const char *const topics[] = {"ai_tools", "data_literacy", "leadership",
				     "strategy", "wellbeing",	  "automation"};
static const char *const depts[] = {"it", "sales", "hr"};

static char *
json_list(unsigned bits)
{
	char buf[256] = "[";
	for (int t = 0; t < 6; t++)
		if (bits & (1u << t)) {
			if (buf[1])
				strcat(buf, ",");
			strcat(buf, "\"");
			strcat(buf, topics[t]);
			strcat(buf, "\"");
		}
	strcat(buf, "]");
	return strdup(buf);
}

/* n people; the first nm are mentors, the rest mentees (person i+nm). */
static void
make_cohort(struct cohort *c, int nm, int ne, unsigned seed)
{
	srand(seed);
	cohort_init(c);
	char buf[32];
	for (int i = 0; i < nm + ne; i++) {
		struct cohort_person *p = cohort_add_person(c);
		p->id = i + 1;
		snprintf(buf, sizeof(buf), "p%d", i);
		p->external_id = strdup(buf);
		p->name = strdup(buf);
		p->level = i < nm ? 1 + rand() % 4 : 4 + rand() % 6;
		p->department = strdup(depts[rand() % 3]);
		p->tz_known = 1;
		p->tz_offset_min = 60 * (rand() % 3);
		p->manager = i > 0 && rand() % 4 == 0 ? rand() % i : -1;
	}
	for (int i = 0; i < nm; i++) {
		struct cohort_member *m = cohort_add_member(c, 1);
		m->person = i;
		m->capacity = rand() % 3;
		m->role = strdup("mentor");
		m->topics_offered = json_list((unsigned)rand() & 63);
	}
	for (int i = 0; i < ne; i++) {
		struct cohort_member *m = cohort_add_member(c, 0);
		m->person = nm + i;
		m->capacity = 1;
		m->role = strdup("mentee");
		m->topics_wanted = json_list((unsigned)rand() & 63);
	}
}

/* The Lua score of the test policies, in C. */
static double
lua_formula(const struct cohort *c, int mentor, int mentee)
{
	return 0.1 * c->people[c->mentors[mentor].person].level -
	       0.05 * c->people[c->mentees[mentee].person].level;
}

static const char score_policy[] =
    HEAD "forbid = { 'reporting_chain' }, require = { level_gap = { min = 1 } },\n"
	 "weights = { topic_fit = 3, cross_department = 1, tz_distance = -0.5 },\n"
	 "score = function(m, e, f) return 0.1 * m.level - 0.05 * e.level end }";

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_valid_declaration),
	    cmocka_unit_test(test_builtin_policies_load),
	    cmocka_unit_test(test_optimal_matches_brute_force),
	    cmocka_unit_test(test_candidates_and_kept_and_vetoes),
	    cmocka_unit_test(test_stable_has_no_blocking_pair),
	    cmocka_unit_test(test_plugin_failure_fails_the_solve),
	    cmocka_unit_test(test_features_view),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests for core/features: each feature and constraint, the reporting chain
 * against a naive walk on deep random forests, and the hot loop against the
 * per-pair functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program/feat.h"

static int
person(struct feat_snapshot *s, int64_t id, int level, const char *gen, const char *dept,
       const char *team, const char *loc, int tz_min, const char *lang)
{
	const char *langs[1] = {lang};
	struct feat_person_in p = {.id = id,
				   .level = level,
				   .generation = gen,
				   .department = dept,
				   .team = team,
				   .location = loc,
				   .tz_known = tz_min != 9999,
				   .tz_offset_min = tz_min == 9999 ? 0 : tz_min,
				   .languages = langs,
				   .nlanguages = lang ? 1 : 0};
	struct diag d;
	int i = feat_add_person(s, &p, &d);
	assert_true(i >= 0);
	return i;
}

/* A small cohort: 0 = junior mentor, 1 = senior mentee, 2 = their manager's chain. */
static struct feat_snapshot *
small(void)
{
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	int boss = person(s, 100, 9, "baby_boomer", "exec", "board", "paris", 60, "fr");
	int senior = person(s, 101, 7, "gen_x", "sales", "emea", "paris", 60, "fr");
	int junior = person(s, 102, 2, "gen_z", "it", "dev", "nyc", -300, "en");
	int mid = person(s, 103, 4, "millennial", "sales", "emea", "tokyo", 540, "fr");
	int unknown = person(s, 104, 0, NULL, NULL, NULL, NULL, 9999, NULL);
	assert_int_equal(feat_set_manager(s, senior, boss, &d), 0);
	assert_int_equal(feat_set_manager(s, mid, senior, &d), 0);
	const char *off_j[] = {"ai_tools", "genai_prompting", "social_media"};
	const char *off_m[] = {"leadership"};
	const char *want_s[] = {"ai_tools", "genai_prompting", "cybersecurity", "automation"};
	const char *slots_a[] = {"mon-am", "wed-pm"};
	const char *slots_b[] = {"wed-pm", "fri-am", "tue-am"};
	assert_int_equal(feat_add_mentor(s, junior, 2, off_j, 3, slots_a, 2, &d), 0);
	assert_int_equal(feat_add_mentor(s, mid, 1, off_m, 1, NULL, 0, &d), 1);
	assert_int_equal(feat_add_mentor(s, unknown, 1, NULL, 0, NULL, 0, &d), 2);
	assert_int_equal(feat_add_mentee(s, senior, want_s, 4, slots_b, 3, &d), 0);
	assert_int_equal(feat_add_mentee(s, boss, NULL, 0, NULL, 0, &d), 1);
	assert_int_equal(feat_add_mentee(s, mid, want_s, 1, NULL, 0, &d), 2);
	assert_int_equal(feat_snapshot_finish(s, &d), 0);
	return s;
}

static void
test_features_values(void **state)
{
	(void)state;
	struct feat_snapshot *s = small();
	struct feat_values v;
	feat_eval(s, 0, 0, &v); /* junior mentors senior */
	assert_float_equal(v.value[FEAT_TOPIC_FIT], 0.5, 1e-12);
	assert_float_equal(v.raw[FEAT_LEVEL_GAP], 5, 1e-12);
	assert_float_equal(v.value[FEAT_LEVEL_GAP], 5 / 8.0, 1e-12);
	assert_float_equal(v.raw[FEAT_GENERATION_GAP], 2, 1e-12);
	assert_float_equal(v.value[FEAT_GENERATION_GAP], 2 / 3.0, 1e-12);
	assert_float_equal(v.value[FEAT_CROSS_DEPARTMENT], 1, 0);
	assert_float_equal(v.value[FEAT_CROSS_LOCATION], 1, 0);
	assert_float_equal(v.value[FEAT_SHARED_LANGUAGE], 0, 0);
	assert_float_equal(v.raw[FEAT_TZ_DISTANCE], 6, 1e-12);
	assert_float_equal(v.value[FEAT_TZ_DISTANCE], 0.5, 1e-12);
	assert_float_equal(v.value[FEAT_AVAILABILITY_OVERLAP], 0.5, 1e-12);

	feat_eval(s, 1, 0, &v); /* mid mentors senior: same dept, tokyo vs paris */
	assert_float_equal(v.value[FEAT_TOPIC_FIT], 0, 0);
	assert_float_equal(v.raw[FEAT_LEVEL_GAP], 3, 0);
	assert_float_equal(v.value[FEAT_CROSS_DEPARTMENT], 0, 0);
	assert_float_equal(v.value[FEAT_SHARED_LANGUAGE], 1, 0);
	assert_float_equal(v.raw[FEAT_TZ_DISTANCE], 8, 1e-12);
	assert_float_equal(v.value[FEAT_AVAILABILITY_OVERLAP], 0, 0);

	feat_eval(s, 0, 1, &v); /* the boss wants nothing */
	assert_float_equal(v.value[FEAT_TOPIC_FIT], 0, 0);

	feat_eval(s, 2, 0, &v); /* unknown level, generation, zone */
	assert_false(v.known[FEAT_LEVEL_GAP]);
	assert_false(v.known[FEAT_GENERATION_GAP]);
	assert_false(v.known[FEAT_TZ_DISTANCE]);
	assert_float_equal(v.value[FEAT_LEVEL_GAP], 0, 0);
	assert_float_equal(v.value[FEAT_CROSS_DEPARTMENT], 0, 0);
	feat_snapshot_delete(s);
}

static void
test_tz_wraps_round_the_clock(void **state)
{
	(void)state;
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	int a = person(s, 1, 3, NULL, NULL, NULL, NULL, -600, NULL); /* Honolulu */
	int b = person(s, 2, 5, NULL, NULL, NULL, NULL, 780, NULL);  /* Auckland summer */
	assert_int_equal(feat_add_mentor(s, a, 1, NULL, 0, NULL, 0, &d), 0);
	assert_int_equal(feat_add_mentee(s, b, NULL, 0, NULL, 0, &d), 0);
	assert_int_equal(feat_snapshot_finish(s, &d), 0);
	struct feat_values v;
	feat_eval(s, 0, 0, &v);
	assert_float_equal(v.raw[FEAT_TZ_DISTANCE], 1, 1e-12); /* 23 h one way, 1 h the other */
	feat_snapshot_delete(s);
}

static void
test_predicates_and_verdicts(void **state)
{
	(void)state;
	struct feat_snapshot *s = small();
	assert_true(feat_pred_holds(s, FPRED_REPORTING_CHAIN, 1, 0)); /* senior manages mid */
	assert_true(feat_pred_holds(s, FPRED_REPORTING_CHAIN, 1, 1)); /* boss, transitively */
	assert_false(feat_pred_holds(s, FPRED_REPORTING_CHAIN, 0, 0));
	assert_true(feat_pred_holds(s, FPRED_SAME_DEPARTMENT, 1, 0));
	assert_true(feat_pred_holds(s, FPRED_SAME_TEAM, 1, 0));
	assert_false(feat_pred_holds(s, FPRED_SAME_LOCATION, 1, 0));
	assert_false(feat_pred_holds(s, FPRED_SAME_DEPARTMENT, 2, 0)); /* unknown is never same */

	struct feat_rules r = {0};
	assert_int_equal(feat_check(s, &r, 1, 2), FV_SELF);
	assert_int_equal(feat_check(s, &r, 1, 0), FV_ALLOWED);
	r.forbid = 1u << FPRED_REPORTING_CHAIN | 1u << FPRED_SAME_DEPARTMENT;
	assert_int_equal(feat_check(s, &r, 1, 0), FV_FORBID + FPRED_REPORTING_CHAIN);
	assert_int_equal(feat_check(s, &r, 0, 0), FV_ALLOWED);
	r.forbid = 0;
	r.require = 1u << FPRED_SAME_LOCATION;
	assert_int_equal(feat_check(s, &r, 0, 0), FV_REQUIRE + FPRED_SAME_LOCATION);
	r.require = 0;
	r.range[FEAT_LEVEL_GAP].on = 1;
	r.range[FEAT_LEVEL_GAP].min = 4;
	r.range[FEAT_LEVEL_GAP].max = 1e9;
	assert_int_equal(feat_check(s, &r, 0, 0), FV_ALLOWED);		      /* gap 5 */
	assert_int_equal(feat_check(s, &r, 1, 0), FV_RANGE + FEAT_LEVEL_GAP); /* gap 3 */
	assert_int_equal(feat_check(s, &r, 2, 0), FV_RANGE + FEAT_LEVEL_GAP); /* unknown */
	char buf[128];
	feat_verdict_text(FV_FORBID + FPRED_SAME_TEAM, buf, sizeof(buf));
	assert_string_equal(buf, "forbidden: same_team");
	feat_snapshot_delete(s);
}

static void
test_history_and_vetoes(void **state)
{
	(void)state;
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	int p[4];
	for (int i = 0; i < 4; i++)
		p[i] = person(s, i + 1, 3, NULL, NULL, NULL, NULL, 0, NULL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(feat_add_mentor(s, p[i], 1, NULL, 0, NULL, 0, &d), i);
	for (int i = 2; i < 4; i++)
		assert_int_equal(feat_add_mentee(s, p[i], NULL, 0, NULL, 0, &d), i - 2);
	assert_int_equal(feat_add_history(s, p[3], p[0], &d), 0); /* order does not matter */
	assert_int_equal(feat_add_veto(s, p[1], p[2], &d), 0);
	assert_int_equal(feat_add_history(s, p[1], p[2], &d), 0); /* vetoed and paired: veto wins */
	assert_int_equal(feat_snapshot_finish(s, &d), 0);
	assert_true(feat_pred_holds(s, FPRED_PREVIOUSLY_PAIRED, 0, 1));
	assert_false(feat_pred_holds(s, FPRED_PREVIOUSLY_PAIRED, 0, 0));
	struct feat_rules r = {.forbid = 1u << FPRED_PREVIOUSLY_PAIRED};
	assert_int_equal(feat_check(s, &r, 0, 1), FV_FORBID + FPRED_PREVIOUSLY_PAIRED);
	assert_int_equal(feat_check(s, &r, 1, 0), FV_VETOED);
	assert_int_equal(feat_check(s, &r, 0, 0), FV_ALLOWED);
	struct feat_rules none = {0};
	assert_int_equal(feat_check(s, &none, 0, 1), FV_ALLOWED); /* only forbidden if asked */
	assert_int_equal(feat_check(s, &none, 1, 0), FV_VETOED);  /* vetoes always apply */
	uint8_t v[2];
	feat_score_row(s, &r, 1, NULL, v);
	assert_int_equal(v[0], FV_FORBID + FPRED_PREVIOUSLY_PAIRED);
	assert_int_equal(v[1], FV_ALLOWED);
	feat_snapshot_delete(s);
}

static void
test_builder_errors(void **state)
{
	(void)state;
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	struct feat_person_in bad = {.id = 7, .level = 12};
	assert_int_equal(feat_add_person(s, &bad, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	struct feat_person_in gen = {.id = 8, .level = 2, .generation = "gen_alpha"};
	assert_int_equal(feat_add_person(s, &gen, &d), -1);
	assert_non_null(strstr(d.msg, "gen_alpha"));
	int a = person(s, 1, 1, NULL, NULL, NULL, NULL, 0, NULL);
	assert_int_equal(feat_add_mentor(s, a, 1, NULL, 0, NULL, 0, &d), 0);
	assert_int_equal(feat_add_mentor(s, a, 1, NULL, 0, NULL, 0, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_int_equal(feat_set_manager(s, a, a, &d), -1);
	assert_int_equal(feat_set_manager(s, a, 5, &d), -1);
	assert_int_equal(feat_lookup("topic_fit"), FEAT_TOPIC_FIT);
	assert_int_equal(feat_lookup("nope"), -1);
	assert_int_equal(feat_pred_lookup("same_team"), FPRED_SAME_TEAM);
	feat_snapshot_delete(s);
}

/* Naive: walk up from b looking for a, and the other way (no cycles here). */
static int
naive_chain(const int *mgr, int a, int b)
{
	for (int x = mgr[b]; x >= 0; x = mgr[x])
		if (x == a)
			return 1;
	for (int x = mgr[a]; x >= 0; x = mgr[x])
		if (x == b)
			return 1;
	return a == b;
}

static void
test_reporting_chain_vs_naive(void **state)
{
	(void)state;
	srand(12345);
	for (int trial = 0; trial < 6; trial++) {
		int n = 3000;
		int *mgr = malloc(sizeof(int) * n);
		struct feat_snapshot *s = feat_snapshot_new();
		struct diag d;
		for (int i = 0; i < n; i++)
			person(s, i, 1 + i % 9, NULL, NULL, NULL, NULL, 0, NULL);
		/* Alternate deep chains (manager = i-1) and bushy trees; a few roots. */
		for (int i = 0; i < n; i++) {
			if (i == 0 || rand() % 200 == 0)
				mgr[i] = -1;
			else if (trial % 2 == 0)
				mgr[i] = rand() % 10 ? i - 1 : rand() % i;
			else
				mgr[i] = rand() % i;
			if (mgr[i] >= 0)
				assert_int_equal(feat_set_manager(s, i, mgr[i], &d), 0);
		}
		assert_int_equal(feat_snapshot_finish(s, &d), 0);
		for (int k = 0; k < 20000; k++) {
			int a = rand() % n, b = rand() % n;
			if (k % 4 == 0 && mgr[b] >= 0) /* bias towards related pairs */
				a = mgr[mgr[b] >= 0 ? mgr[b] : b] >= 0 ? mgr[mgr[b]] : mgr[b];
			assert_int_equal(feat_reporting_chain(s, a, b), naive_chain(mgr, a, b));
		}
		feat_snapshot_delete(s);
		free(mgr);
	}
}

static void
test_manager_cycle_is_survived(void **state)
{
	(void)state;
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	int a = person(s, 1, 1, NULL, NULL, NULL, NULL, 0, NULL);
	int b = person(s, 2, 1, NULL, NULL, NULL, NULL, 0, NULL);
	int c = person(s, 3, 1, NULL, NULL, NULL, NULL, 0, NULL);
	feat_set_manager(s, a, b, &d);
	feat_set_manager(s, b, a, &d);
	assert_int_equal(feat_snapshot_finish(s, &d), 0);
	assert_true(feat_reporting_chain(s, a, b));
	assert_false(feat_reporting_chain(s, a, c));
	feat_snapshot_delete(s);
}

/* Random cohort with more than 64 topics in one trial to exercise the wide path. */
static struct feat_snapshot *
random_cohort(int n, int ntopics, unsigned seed)
{
	static const char *depts[] = {"it", "sales", "hr", "ops"};
	static const char *locs[] = {"paris", "nyc", "tokyo"};
	static const char *gens[] = {"baby_boomer", "gen_x", "millennial", "gen_z", NULL};
	static const char *langs[] = {"en", "fr", "de", "ja"};
	static const char *slots[] = {"mon-am", "mon-pm", "tue-am", "wed-pm", "thu-am", "fri-pm"};
	char names[200][16];
	const char *topic[200];
	for (int i = 0; i < ntopics; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		topic[i] = names[i];
	}
	srand(seed);
	struct feat_snapshot *s = feat_snapshot_new();
	struct diag d;
	for (int i = 0; i < n; i++) {
		const char *l[2] = {langs[rand() % 4], langs[rand() % 4]};
		struct feat_person_in p = {.id = i,
					   .level = rand() % 10,
					   .generation = gens[rand() % 5],
					   .department = depts[rand() % 4],
					   .team = depts[rand() % 2],
					   .location = rand() % 5 ? locs[rand() % 3] : NULL,
					   .tz_known = rand() % 6 != 0,
					   .tz_offset_min = (rand() % 27 - 12) * 60,
					   .languages = l,
					   .nlanguages = 1 + rand() % 2};
		assert_int_equal(feat_add_person(s, &p, &d), i);
		if (i > 0 && rand() % 3)
			feat_set_manager(s, i, rand() % i, &d);
	}
	for (int i = 0; i < n; i++) {
		const char *t[6], *sl[3];
		for (int k = 0; k < 6; k++)
			t[k] = topic[rand() % ntopics];
		for (int k = 0; k < 3; k++)
			sl[k] = slots[rand() % 6];
		if (i % 2 == 0 || i % 7 == 0)
			feat_add_mentor(s, i, 1 + rand() % 3, t, rand() % 6, sl, rand() % 3, &d);
		if (i % 2 == 1 || i % 7 == 0)
			feat_add_mentee(s, i, t, rand() % 6, sl, rand() % 3, &d);
		if (rand() % 10 == 0)
			feat_add_history(s, i, rand() % n, &d);
		if (rand() % 10 == 0)
			feat_add_veto(s, rand() % n, i, &d);
	}
	assert_int_equal(feat_snapshot_finish(s, &d), 0);
	return s;
}

static void
test_row_matches_per_pair(void **state)
{
	(void)state;
	int widths[] = {20, 150};
	for (int t = 0; t < 2; t++) {
		struct feat_snapshot *s = random_cohort(300, widths[t], 77 + t);
		struct feat_rules r = {0};
		for (int f = 0; f < FEAT_COUNT; f++)
			r.weight[f] = (f + 1) * (f % 2 ? -0.5 : 1.0);
		r.forbid = 1u << FPRED_REPORTING_CHAIN | 1u << FPRED_PREVIOUSLY_PAIRED;
		r.require = t ? 1u << FPRED_SAME_TEAM : 0;
		r.range[FEAT_GENERATION_GAP].on = 1;
		r.range[FEAT_GENERATION_GAP].min = -1;
		r.range[FEAT_GENERATION_GAP].max = 3;
		r.range[FEAT_TOPIC_FIT].on = 1;
		r.range[FEAT_TOPIC_FIT].min = 0.1;
		r.range[FEAT_TOPIC_FIT].max = 1;
		int nc = feat_nmentors(s), nr = feat_nmentees(s);
		double *sc = malloc(sizeof(double) * nc);
		uint8_t *v = malloc(nc);
		int allowed = 0, forbidden = 0;
		for (int i = 0; i < nr; i++) {
			feat_score_row(s, &r, i, sc, v);
			for (int c = 0; c < nc; c++) {
				assert_float_equal(sc[c], feat_score(s, &r, c, i), 1e-9);
				assert_int_equal(v[c], feat_check(s, &r, c, i));
				if (v[c] == FV_ALLOWED)
					allowed++;
				else
					forbidden++;
			}
		}
		assert_true(allowed > 0 && forbidden > 0);
		free(sc);
		free(v);
		feat_snapshot_delete(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_features_values),
	    cmocka_unit_test(test_tz_wraps_round_the_clock),
	    cmocka_unit_test(test_predicates_and_verdicts),
	    cmocka_unit_test(test_history_and_vetoes),
	    cmocka_unit_test(test_builder_errors),
	    cmocka_unit_test(test_reporting_chain_vs_naive),
	    cmocka_unit_test(test_manager_cycle_is_survived),
	    cmocka_unit_test(test_row_matches_per_pair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

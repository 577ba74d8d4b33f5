/*
 * Unit tests for serve/simmodel, the synthetic participants of `tandem simulate`:
 * deterministic per seed, different seeds differ, p_held monotone in the score and the
 * months, ratings monotone in the score, the documented constants, the mix of outcomes
 * over many sessions, and simulate_add_months (serve/simulate.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "serve/simmodel.h"
#include "serve/simulate.h"

static void
test_uniform_range_and_determinism(void **state)
{
	(void)state;
	double sum = 0;
	for (int64_t id = 1; id <= 20000; id++) {
		double u = simmodel_uniform(7, SIMMODEL_U_OUTCOME, id, 0);
		assert_true(u >= 0 && u < 1);
		assert_true(u == simmodel_uniform(7, SIMMODEL_U_OUTCOME, id, 0));
		sum += u;
	}
	/* The mean of 20,000 uniform draws is 0.5 within a few standard errors (0.002). */
	assert_true(sum / 20000 > 0.49 && sum / 20000 < 0.51);
	/* Tags, ids, k and seeds are separate streams. */
	assert_true(simmodel_uniform(7, SIMMODEL_U_OUTCOME, 5, 0) !=
		    simmodel_uniform(7, SIMMODEL_U_SILENT, 5, 0));
	assert_true(simmodel_uniform(7, SIMMODEL_U_OUTCOME, 5, 0) !=
		    simmodel_uniform(7, SIMMODEL_U_OUTCOME, 5, 1));
	assert_true(simmodel_uniform(7, SIMMODEL_U_OUTCOME, 5, 0) !=
		    simmodel_uniform(8, SIMMODEL_U_OUTCOME, 5, 0));
}

static void
test_p_held_formula_and_monotone(void **state)
{
	(void)state;
	for (int64_t m = 1; m <= 200; m++) {
		double noise = SIMMODEL_NOISE * (simmodel_uniform(3, SIMMODEL_U_PAIR, m, 0) - 0.5);
		/* The documented formula, inside the clamp. */
		double want = SIMMODEL_P_BASE + SIMMODEL_P_SCORE * 0.5 - SIMMODEL_FATIGUE * 2 + noise;
		assert_float_equal(simmodel_p_held(3, m, 0.5, 2), want, 1e-12);
		double prev = -1;
		for (int i = 0; i <= 20; i++) {
			double p = simmodel_p_held(3, m, i / 20.0, 1);
			assert_true(p >= SIMMODEL_P_MIN && p <= SIMMODEL_P_MAX);
			assert_true(p >= prev); /* non-decreasing in the score */
			prev = p;
		}
		prev = 2;
		for (int months = 0; months <= 40; months++) {
			double p = simmodel_p_held(3, m, 0.7, months);
			assert_true(p <= prev); /* fatigue: non-increasing in the months */
			prev = p;
		}
		/* Scores outside [0, 1] are clamped. */
		assert_float_equal(simmodel_p_held(3, m, 7, 0), simmodel_p_held(3, m, 1, 0), 0);
	}
}

static void
test_rating_monotone_in_score(void **state)
{
	(void)state;
	double low = 0, high = 0;
	for (int64_t id = 1; id <= 2000; id++) {
		for (unsigned k = 0; k < 2; k++) {
			int prev = 0;
			for (int i = 0; i <= 10; i++) {
				int r = simmodel_rating(11, id, k, i / 10.0);
				assert_true(r >= 1 && r <= 5);
				assert_true(r >= prev); /* the same draws, a better score: never lower */
				prev = r;
			}
		}
		low += simmodel_rating(11, id, 0, 0);
		high += simmodel_rating(11, id, 0, 1);
	}
	/* Centred near 2.5 and 4.5 (clamped at 5 pulls the top one down a little). */
	assert_true(low / 2000 > 2.3 && low / 2000 < 2.7);
	assert_true(high / 2000 > 4.0 && high / 2000 < 4.6);
}

/* The share of held sessions among n sessions of pairs with this score. */
static double
held_share(uint64_t seed, double score, int n)
{
	int held = 0, decided = 0;
	for (int64_t id = 1; id <= n; id++) {
		struct simmodel_decision dec;
		simmodel_decide(seed, id % 97 + 1, id, score, 0, 0, &dec);
		if (dec.act == SIMMODEL_CANCEL || dec.act == SIMMODEL_RESCHEDULE)
			continue;
		decided++;
		held += dec.act == SIMMODEL_HELD;
	}
	return (double)held / decided;
}

static void
test_decide_mix(void **state)
{
	(void)state;
	int count[5] = {0};
	for (int64_t id = 1; id <= 20000; id++) {
		struct simmodel_decision dec, again;
		simmodel_decide(5, id % 50 + 1, id, 0.5, 1, 0, &dec);
		simmodel_decide(5, id % 50 + 1, id, 0.5, 1, 0, &again);
		assert_memory_equal(&dec, &again, sizeof(dec));
		count[dec.act]++;
		if (dec.act == SIMMODEL_RESCHEDULE)
			assert_true(dec.days >= 1 && dec.days <= 3);
		if (dec.act == SIMMODEL_HELD) {
			assert_true(dec.rating[0] >= 1 && dec.rating[0] <= 5);
			assert_true(dec.rating[1] >= 1 && dec.rating[1] <= 5);
			assert_true(!dec.share[0] || dec.rating[0] == 5);
		}
		/* A moved session is neither cancelled nor moved again; its outcome is the one
		 * the unmoved decision would have had after its end. */
		struct simmodel_decision moved;
		simmodel_decide(5, id % 50 + 1, id, 0.5, 1, 1, &moved);
		assert_true(moved.act != SIMMODEL_CANCEL && moved.act != SIMMODEL_RESCHEDULE);
		if (dec.act != SIMMODEL_CANCEL && dec.act != SIMMODEL_RESCHEDULE)
			assert_memory_equal(&dec, &moved, sizeof(dec));
	}
	/* 3% cancelled, 4% moved, within sampling error of 20,000 draws. */
	assert_true(count[SIMMODEL_CANCEL] > 450 && count[SIMMODEL_CANCEL] < 750);
	assert_true(count[SIMMODEL_RESCHEDULE] > 650 && count[SIMMODEL_RESCHEDULE] < 950);
	/* p_held around 0.55 + 0.2 - 0.02 = 0.73 of the rest; the others split evenly. */
	double rest = 20000 - count[SIMMODEL_CANCEL] - count[SIMMODEL_RESCHEDULE];
	assert_true(count[SIMMODEL_HELD] / rest > 0.69 && count[SIMMODEL_HELD] / rest < 0.77);
	double silent = count[SIMMODEL_SILENT], missed = count[SIMMODEL_MISSED];
	assert_true(silent / (silent + missed) > 0.45 && silent / (silent + missed) < 0.55);
}

static void
test_better_pairs_meet_more(void **state)
{
	(void)state;
	double prev = 0;
	for (int i = 0; i <= 4; i++) {
		double h = held_share(9, i / 4.0, 8000);
		assert_true(h > prev);
		prev = h;
	}
	assert_true(held_share(9, 0, 8000) < 0.62 && held_share(9, 1, 8000) > 0.9);
}

static void
test_seeds_differ(void **state)
{
	(void)state;
	int differ = 0;
	for (int64_t id = 1; id <= 200; id++) {
		struct simmodel_decision a, b;
		simmodel_decide(1, 4, id, 0.5, 0, 0, &a);
		simmodel_decide(2, 4, id, 0.5, 0, 0, &b);
		differ += memcmp(&a, &b, sizeof(a)) != 0;
	}
	assert_true(differ > 50);
}

/* Skill levels: 1..5, the start (m = 0) is 1..3 and the same for every session of a pair
 * and topic, non-decreasing in the score and the months, deterministic, faster for better
 * pairs. */
static void
test_skill_progress(void **state)
{
	(void)state;
	double low = 0, high = 0;
	for (int64_t id = 1; id <= 2000; id++) {
		int64_t match = id % 89 + 1;
		int l0 = simmodel_skill(5, match, id, "ai_tools", 0.3, 0);
		assert_true(l0 >= 1 && l0 <= 3);
		assert_int_equal(l0, simmodel_skill(5, match, id + 7, "ai_tools", 0.9, 0));
		assert_int_equal(simmodel_skill(5, match, id, "ai_tools", 0.3, 2.5),
				 simmodel_skill(5, match, id, "ai_tools", 0.3, 2.5));
		for (int i = 0; i <= 10; i++) {
			int prev = 0;
			for (int m = 0; m <= 12; m++) {
				int v = simmodel_skill(5, match, id, "ai_tools", i / 10.0, m / 2.0);
				assert_true(v >= 1 && v <= 5);
				assert_true(v >= prev);
				prev = v;
				if (i > 0)
					assert_true(v >= simmodel_skill(5, match, id, "ai_tools",
									(i - 1) / 10.0, m / 2.0));
			}
		}
		low += simmodel_skill(5, match, id, "ai_tools", 0, 3) - l0;
		high += simmodel_skill(5, match, id, "ai_tools", 1, 3) - l0;
	}
	/* Three months: about 0.3 levels gained at s = 0, about 1.8 (capped at 5) at s = 1. */
	assert_true(low / 2000 > 0.2 && low / 2000 < 0.45);
	assert_true(high / 2000 > 1.3 && high / 2000 < 1.9);
	/* Another topic, another start for some pairs. */
	int differ = 0;
	for (int64_t match = 1; match <= 100; match++)
		differ += simmodel_skill(5, match, 1, "ai_tools", 0.5, 0) !=
			  simmodel_skill(5, match, 1, "social_media", 0.5, 0);
	assert_true(differ > 30);
}

static void
test_add_months(void **state)
{
	(void)state;
	/* 2027-01-31T10:00Z + 1 month: February's last day, the time kept. */
	assert_true(simulate_add_months(1801389600, 1) == 1803808800); /* 2027-02-28T10:00Z */
	/* 2026-12-06T00:00Z + 6 months = 2027-06-06T00:00Z; + 0 is itself. */
	assert_true(simulate_add_months(1796515200, 6) == 1812240000);
	assert_true(simulate_add_months(1796515200, 0) == 1796515200);
	/* 2028 is a leap year: 2028-01-30 + 1 month = 2028-02-29. */
	assert_true(simulate_add_months(1832803200, 1) == 1835395200);
	/* Across years: 2026-11-15 + 14 months = 2028-01-15. */
	assert_true(simulate_add_months(1794700800, 14) == 1831507200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_range_and_determinism),
		cmocka_unit_test(test_p_held_formula_and_monotone),
		cmocka_unit_test(test_rating_monotone_in_score),
		cmocka_unit_test(test_decide_mix),
		cmocka_unit_test(test_better_pairs_meet_more),
		cmocka_unit_test(test_seeds_differ),
		cmocka_unit_test(test_skill_progress),
		cmocka_unit_test(test_add_months),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

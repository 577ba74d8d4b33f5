/*
 * serve/simmodel: the synthetic participants of `tandem simulate` (see simmodel.h).
 */
#include "serve/simmodel.h"

#include <math.h>
#include <stddef.h>

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

double
simmodel_uniform(uint64_t seed, enum simmodel_tag tag, int64_t id, unsigned k)
{
	/* Each input goes through the mixer before the next joins, so (tag, id, k) triples
	 * that sum alike still land far apart. */
	uint64_t h = splitmix64(seed);
	h = splitmix64(h ^ (uint64_t)tag);
	h = splitmix64(h ^ (uint64_t)id);
	h = splitmix64(h ^ (uint64_t)k);
	return (double)(h >> 11) * 0x1.0p-53;
}

static double
clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

double
simmodel_p_held(uint64_t seed, int64_t match_id, double score01, double months)
{
	double s = clamp(score01, 0, 1);
	double m = months > 0 ? months : 0;
	double noise = SIMMODEL_NOISE * (simmodel_uniform(seed, SIMMODEL_U_PAIR, match_id, 0) - 0.5);
	return clamp(SIMMODEL_P_BASE + SIMMODEL_P_SCORE * s - SIMMODEL_FATIGUE * m + noise,
		     SIMMODEL_P_MIN, SIMMODEL_P_MAX);
}

int
simmodel_rating(uint64_t seed, int64_t session_id, unsigned k, double score01)
{
	double s = clamp(score01, 0, 1);
	double sum = 0;
	for (unsigned i = 0; i < 3; i++)
		sum += simmodel_uniform(seed, SIMMODEL_U_RATING, session_id, k * 3 + i);
	double z = 2 * (sum - 1.5);
	double r = floor(SIMMODEL_RATING_BASE + SIMMODEL_RATING_SCORE * s +
			 SIMMODEL_RATING_SPREAD * z + 0.5);
	return (int)clamp(r, 1, 5);
}

void
simmodel_decide(uint64_t seed, int64_t match_id, int64_t session_id, double score01,
		double months, int moved, struct simmodel_decision *out)
{
	*out = (struct simmodel_decision){.act = SIMMODEL_SILENT};
	out->side = simmodel_uniform(seed, SIMMODEL_U_ACT, session_id, 1) < 0.5 ? 0 : 1;
	double a = simmodel_uniform(seed, SIMMODEL_U_ACT, session_id, 0);
	if (!moved && a < SIMMODEL_P_CANCEL) {
		out->act = SIMMODEL_CANCEL;
		return;
	}
	if (!moved && a < SIMMODEL_P_CANCEL + SIMMODEL_P_MOVE) {
		out->act = SIMMODEL_RESCHEDULE;
		out->days = 1 + (int)(3 * simmodel_uniform(seed, SIMMODEL_U_DAYS, session_id, 0));
		return;
	}
	double p = simmodel_p_held(seed, match_id, score01, months);
	if (simmodel_uniform(seed, SIMMODEL_U_OUTCOME, session_id, 0) < p) {
		out->act = SIMMODEL_HELD;
		for (unsigned k = 0; k < 2; k++) {
			out->rating[k] = simmodel_rating(seed, session_id, k, score01);
			out->share[k] = out->rating[k] == 5 &&
					simmodel_uniform(seed, SIMMODEL_U_SHARE, session_id, k) < 0.5;
		}
		return;
	}
	out->act = simmodel_uniform(seed, SIMMODEL_U_SILENT, session_id, 0) < SIMMODEL_P_SILENT
			   ? SIMMODEL_SILENT
			   : SIMMODEL_MISSED;
}

int
simmodel_skill(uint64_t seed, int64_t match_id, int64_t session_id, const char *topic,
	       double score01, double months)
{
	uint32_t h = 2166136261u; /* FNV-1a: the same topic, the same stream everywhere */
	for (const unsigned char *c = (const unsigned char *)(topic != NULL ? topic : ""); *c; c++)
		h = (h ^ *c) * 16777619u;
	double s = clamp(score01, 0, 1);
	double m = months > 0 ? months : 0;
	double start = 1 + floor(SIMMODEL_SKILL_START_SPAN *
				 simmodel_uniform(seed, SIMMODEL_U_SKILL_START, match_id, h));
	double gain = (SIMMODEL_SKILL_GAIN + SIMMODEL_SKILL_GAIN_SCORE * s) * m;
	double level =
	    start + floor(gain + simmodel_uniform(seed, SIMMODEL_U_SKILL_STEP, session_id, 0));
	return (int)clamp(level, 1, 5);
}

const char *
simmodel_act_name(enum simmodel_act a)
{
	switch (a) {
	case SIMMODEL_HELD: return "held";
	case SIMMODEL_MISSED: return "missed";
	case SIMMODEL_SILENT: return "silent";
	case SIMMODEL_CANCEL: return "cancel";
	case SIMMODEL_RESCHEDULE: return "reschedule";
	}
	return "?";
}

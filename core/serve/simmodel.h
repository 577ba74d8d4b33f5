/*
 * serve/simmodel: the synthetic participants of `tandem simulate`: what a pair does
 * with each of its sessions, as pure functions of (seed, pair, session).
 *
 * For: serve/simulate.c, which applies the decisions through the session module (the
 * same functions the CLI calls), and the unit test (test_simmodel), which checks the
 * properties below. docs/service.md "Simulation" states the model with these numbers;
 * keep the two in step.
 *
 * The model (s = the pair's normalized match score in [0, 1], m = months since the
 * pair's activation at the session's start, u(tag) = a uniform draw in [0, 1) from
 * (seed, tag, id)):
 *  - per-pair noise   n = 0.10 * (u(PAIR, match) - 0.5)            in [-0.05, 0.05)
 *  - p_held           clamp(0.55 + 0.40 s - 0.02 m + n, 0.05, 0.97)
 *  - per session, a = u(ACT, session): a < 0.03 a side cancels it (2 days before its
 *    start); 0.03 <= a < 0.07 a side moves it 1-3 days later (1 + floor(3 u(DAYS)));
 *    a session that is itself a moved one is neither cancelled nor moved again.
 *  - otherwise, after its end, o = u(OUTCOME, session): o < p_held: held, both sides
 *    check in 'held' with a rating each; else, if u(SILENT, session) < 0.5, nobody
 *    checks in (the mark-missed job finds it), else both sides check in 'missed'.
 *  - a side's rating: round(2.5 + 2.0 s + 0.9 z) clamped to 1..5, where
 *    z = 2 (u1 + u2 + u3 - 1.5) (three draws: mean 0, variance 1); a side that rates
 *    5 agrees to share the story when u(SHARE) < 0.5.
 *  - a held session's mentee assesses their own level in the session's topic (when it is
 *    one of the program's library, as `sessions checkin --skill` requires), at the first
 *    held session and every later one: start L0 = 1 + floor(3 u(SKILL_START, match, h))
 *    (h a hash of the topic: per pair and topic, 1..3), then
 *    clamp(L0 + floor((0.10 + 0.50 s) m + u(SKILL_STEP, session)), 1, 5): better-matched
 *    pairs progress faster (0.6 levels a month at s = 1, 0.1 at s = 0).
 * Contract: deterministic (same seed and ids, same answers on every platform: only
 * integer hashing and IEEE double arithmetic); p_held is non-decreasing in s and
 * non-increasing in m; the expected rating is non-decreasing in s; a skill level is
 * non-decreasing in s and in m (the same draws).
 */
#ifndef TANDEM_SERVE_SIMMODEL_H
#define TANDEM_SERVE_SIMMODEL_H

#include <stdint.h>

/* The draws' tags: each independent stream of the model has its own. */
enum simmodel_tag {
	SIMMODEL_U_PAIR = 1,
	SIMMODEL_U_ACT,
	SIMMODEL_U_DAYS,
	SIMMODEL_U_OUTCOME,
	SIMMODEL_U_SILENT,
	SIMMODEL_U_RATING,
	SIMMODEL_U_SHARE,
	SIMMODEL_U_SKILL_START,
	SIMMODEL_U_SKILL_STEP,
};

/* The constants of the model (named in docs/service.md). */
#define SIMMODEL_P_BASE 0.55
#define SIMMODEL_P_SCORE 0.40
#define SIMMODEL_FATIGUE 0.02
#define SIMMODEL_NOISE 0.10
#define SIMMODEL_P_MIN 0.05
#define SIMMODEL_P_MAX 0.97
#define SIMMODEL_P_CANCEL 0.03
#define SIMMODEL_P_MOVE 0.04
#define SIMMODEL_P_SILENT 0.5
#define SIMMODEL_RATING_BASE 2.5
#define SIMMODEL_RATING_SCORE 2.0
#define SIMMODEL_RATING_SPREAD 0.9
#define SIMMODEL_SKILL_START_SPAN 3 /* start levels 1..3 */
#define SIMMODEL_SKILL_GAIN 0.10       /* levels a month at s = 0 */
#define SIMMODEL_SKILL_GAIN_SCORE 0.50 /* more levels a month at s = 1 */

/* A uniform draw in [0, 1) from (seed, tag, id, k): splitmix64 of the mixed inputs. */
double simmodel_uniform(uint64_t seed, enum simmodel_tag tag, int64_t id, unsigned k);

/* The probability that the pair holds a session (see above). */
double simmodel_p_held(uint64_t seed, int64_t match_id, double score01, double months);

enum simmodel_act {
	SIMMODEL_HELD,       /* both sides check in 'held', with ratings */
	SIMMODEL_MISSED,     /* both sides check in 'missed' */
	SIMMODEL_SILENT,     /* no check-in: the mark-missed job's work */
	SIMMODEL_CANCEL,     /* a side cancels it before it starts */
	SIMMODEL_RESCHEDULE, /* a side moves it `days` days later before it starts */
};

struct simmodel_decision {
	enum simmodel_act act;
	int side;      /* who cancels or moves: 0 the mentor, 1 the mentee */
	int days;      /* RESCHEDULE: 1..3 */
	int rating[2]; /* HELD: each side's 1..5 (0 mentor, 1 mentee) */
	int share[2];  /* HELD: each side agrees to share the story */
};

/*
 * What happens to session `session_id` of pair `match_id`. moved = 1 for a session
 * that is itself the result of a reschedule (never cancelled or moved again).
 */
void simmodel_decide(uint64_t seed, int64_t match_id, int64_t session_id, double score01,
		     double months, int moved, struct simmodel_decision *out);

/* The rating a side gives (k: 0 mentor, 1 mentee), 1..5. */
int simmodel_rating(uint64_t seed, int64_t session_id, unsigned k, double score01);

/* The level 1..5 the mentee of pair match_id gives themselves in `topic` at session
 * session_id, m months after the pair's activation (see above). */
int simmodel_skill(uint64_t seed, int64_t match_id, int64_t session_id, const char *topic,
		   double score01, double months);

const char *simmodel_act_name(enum simmodel_act a);

#endif

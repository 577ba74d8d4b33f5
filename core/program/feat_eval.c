/*
 * feat_eval: evaluating pairs of a finished snapshot: the predicates, the
 * features of one pair, the verdict under a policy's rules, and the hot loop
 * that scores a whole row (with a one-word fast path). See feat.h for the
 * contract and the definitions, feat_internal.h for the layout. Read-only:
 * thread-safe.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "program/feat_internal.h"

/* ---- per-pair evaluation --------------------------------------------------- */

int
feat_reporting_chain(const struct feat_snapshot *s, int a, int b)
{
	return (s->tin[a] <= s->tin[b] && s->tin[b] <= s->tout[a]) ||
	       (s->tin[b] <= s->tin[a] && s->tin[a] <= s->tout[b]);
}

static int
same_cat(int a, int b)
{
	return a >= 0 && a == b;
}

static int
previously_paired(const struct feat_snapshot *s, int a, int b)
{
	uint64_t key = pair_key(a, b);
	return s->nhistory > 0 &&
	       bsearch(&key, s->history, (size_t)s->nhistory, sizeof(uint64_t), cmp_u64) != NULL;
}

int
feat_pred_holds(const struct feat_snapshot *s, int pred, int mentor, int mentee)
{
	const struct person *a = &s->people[s->mentors[mentor].person];
	const struct person *b = &s->people[s->mentees[mentee].person];
	int pa = s->mentors[mentor].person, pb = s->mentees[mentee].person;
	switch (pred) {
	case FPRED_REPORTING_CHAIN:
		return feat_reporting_chain(s, pa, pb);
	case FPRED_SAME_DEPARTMENT:
		return same_cat(a->dept, b->dept);
	case FPRED_SAME_TEAM:
		return same_cat(a->team, b->team);
	case FPRED_SAME_LOCATION:
		return same_cat(a->loc, b->loc);
	case FPRED_PREVIOUSLY_PAIRED:
		return previously_paired(s, pa, pb);
	}
	return 0;
}

static int
and_count(const uint64_t *x, const uint64_t *y, int words)
{
	int c = 0;
	for (int w = 0; w < words; w++)
		c += __builtin_popcountll(x[w] & y[w]);
	return c;
}

static double
tz_hours(int a_min, int b_min)
{
	int diff = abs(a_min - b_min) % (24 * 60);
	if (diff > 12 * 60)
		diff = 24 * 60 - diff;
	return diff / 60.0;
}

void
feat_eval(const struct feat_snapshot *s, int c, int r, struct feat_values *out)
{
	int pa = s->c_person[c], pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < FEAT_COUNT; i++)
		out->known[i] = 1;

	int nw = s->r_nwanted[r];
	int fit =
	    and_count(s->c_offered + (size_t)c * s->tw, s->r_wanted + (size_t)r * s->tw, s->tw);
	out->raw[FEAT_TOPIC_FIT] = out->value[FEAT_TOPIC_FIT] = nw ? (double)fit / nw : 0.0;

	if (s->c_level[c] > 0 && b->level > 0) {
		out->raw[FEAT_LEVEL_GAP] = b->level - s->c_level[c];
		out->value[FEAT_LEVEL_GAP] = out->raw[FEAT_LEVEL_GAP] / 8.0;
	} else {
		out->known[FEAT_LEVEL_GAP] = 0;
	}
	if (s->c_gen[c] >= 0 && b->gen >= 0) {
		out->raw[FEAT_GENERATION_GAP] = s->c_gen[c] - b->gen;
		out->value[FEAT_GENERATION_GAP] = out->raw[FEAT_GENERATION_GAP] / 3.0;
	} else {
		out->known[FEAT_GENERATION_GAP] = 0;
	}
	out->value[FEAT_CROSS_DEPARTMENT] =
	    s->c_dept[c] >= 0 && b->dept >= 0 && s->c_dept[c] != b->dept;
	out->value[FEAT_CROSS_LOCATION] = s->c_loc[c] >= 0 && b->loc >= 0 && s->c_loc[c] != b->loc;
	out->value[FEAT_SHARED_LANGUAGE] =
	    and_count(s->c_lang + (size_t)c * s->lw, s->plang + (size_t)pb * s->lw, s->lw) > 0;
	out->raw[FEAT_CROSS_DEPARTMENT] = out->value[FEAT_CROSS_DEPARTMENT];
	out->raw[FEAT_CROSS_LOCATION] = out->value[FEAT_CROSS_LOCATION];
	out->raw[FEAT_SHARED_LANGUAGE] = out->value[FEAT_SHARED_LANGUAGE];
	if (s->c_tzk[c] && b->tz_known) {
		out->raw[FEAT_TZ_DISTANCE] = tz_hours(s->c_tz[c], b->tz_off);
		out->value[FEAT_TZ_DISTANCE] = out->raw[FEAT_TZ_DISTANCE] / 12.0;
	} else {
		out->known[FEAT_TZ_DISTANCE] = 0;
	}
	int ns = s->c_nslots[c] < s->r_nslots[r] ? s->c_nslots[c] : s->r_nslots[r];
	if (ns > 0) {
		int both = and_count(s->c_slots + (size_t)c * s->sw, s->r_slots + (size_t)r * s->sw,
				     s->sw);
		out->value[FEAT_AVAILABILITY_OVERLAP] = (double)both / ns;
	}
	out->raw[FEAT_AVAILABILITY_OVERLAP] = out->value[FEAT_AVAILABILITY_OVERLAP];
	(void)pa;
}

/* The exclusion verdict for (c, r) from the row's sorted list, 0 when none. */
static int
excluded(const struct feat_snapshot *s, int c, int r)
{
	int lo = s->excl_ptr[r], hi = s->excl_ptr[r + 1];
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (s->excl_col[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->excl_ptr[r + 1] && s->excl_col[lo] == c ? s->excl_kind[lo] : 0;
}

int
feat_check(const struct feat_snapshot *s, const struct feat_rules *ru, int c, int r)
{
	if (s->c_person[c] == s->mentees[r].person)
		return FV_SELF;
	int x = excluded(s, c, r);
	if (x == FV_VETOED)
		return FV_VETOED;
	for (int p = 0; p < FPRED_COUNT; p++)
		if ((ru->forbid & (1u << p)) && feat_pred_holds(s, p, c, r))
			return FV_FORBID + p;
	for (int p = 0; p < FPRED_COUNT; p++)
		if ((ru->require & (1u << p)) && !feat_pred_holds(s, p, c, r))
			return FV_REQUIRE + p;
	struct feat_values v;
	int need = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		need |= ru->range[f].on;
	if (!need)
		return FV_ALLOWED;
	feat_eval(s, c, r, &v);
	for (int f = 0; f < FEAT_COUNT; f++)
		if (ru->range[f].on &&
		    (!v.known[f] || v.raw[f] < ru->range[f].min || v.raw[f] > ru->range[f].max))
			return FV_RANGE + f;
	return FV_ALLOWED;
}

double
feat_score(const struct feat_snapshot *s, const struct feat_rules *ru, int c, int r)
{
	struct feat_values v;
	feat_eval(s, c, r, &v);
	double t = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		t += ru->weight[f] * v.value[f];
	return t;
}

/* ---- the hot loop ---------------------------------------------------------- */

/*
 * One row, with the set widths as parameters so that the common one-word case
 * is compiled with constants (loops vanish). Computes exactly what feat_check()
 * and feat_score() compute, in the same order of verdicts.
 */
static inline __attribute__((always_inline)) void
row_impl(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	 uint8_t *verdict, const int tw, const int lw, const int sw)
{
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	const uint64_t *want = s->r_wanted + (size_t)r * tw;
	const uint64_t *blang = s->plang + (size_t)pb * lw;
	const uint64_t *bslots = s->r_slots + (size_t)r * sw;
	const double inv_want = s->r_nwanted[r] ? 1.0 / s->r_nwanted[r] : 0.0;
	const int bnslots = s->r_nslots[r];
	const int btin = s->tin[pb], btout = s->tout[pb];
	const unsigned rules = ru->forbid | ru->require;
	int need_range = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		need_range |= ru->range[f].on;
	const double *w = ru->weight;
	int ex = s->excl_ptr[r];
	const int exend = s->excl_ptr[r + 1];

	for (int c = 0; c < s->nmentors; c++) {
		/* Topic fit, computed for every pair: it is the backbone of every policy. */
		int fit = 0;
		for (int k = 0; k < tw; k++)
			fit += __builtin_popcountll(s->c_offered[(size_t)c * tw + k] & want[k]);
		double v_fit = fit * inv_want;
		int lk = s->c_level[c] > 0 && b->level > 0;
		double lraw = lk ? b->level - s->c_level[c] : 0;
		int gk = s->c_gen[c] >= 0 && b->gen >= 0;
		double graw = gk ? s->c_gen[c] - b->gen : 0;
		double xdept = s->c_dept[c] >= 0 && b->dept >= 0 && s->c_dept[c] != b->dept;
		double xloc = s->c_loc[c] >= 0 && b->loc >= 0 && s->c_loc[c] != b->loc;
		int lang = 0;
		for (int k = 0; k < lw; k++)
			lang |= (s->c_lang[(size_t)c * lw + k] & blang[k]) != 0;
		int tk = s->c_tzk[c] && b->tz_known;
		double tzh = 0;
		if (tk && (w[FEAT_TZ_DISTANCE] != 0 || ru->range[FEAT_TZ_DISTANCE].on))
			tzh = tz_hours(s->c_tz[c], b->tz_off);
		double avail = 0;
		if (w[FEAT_AVAILABILITY_OVERLAP] != 0 || ru->range[FEAT_AVAILABILITY_OVERLAP].on) {
			int ns = s->c_nslots[c] < bnslots ? s->c_nslots[c] : bnslots;
			if (ns > 0) {
				int both = 0;
				for (int k = 0; k < sw; k++)
					both += __builtin_popcountll(
					    s->c_slots[(size_t)c * sw + k] & bslots[k]);
				avail = (double)both / ns;
			}
		}
		if (scores) {
			scores[c] = w[FEAT_TOPIC_FIT] * v_fit + w[FEAT_LEVEL_GAP] * (lraw / 8.0) +
				    w[FEAT_GENERATION_GAP] * (graw / 3.0) +
				    w[FEAT_CROSS_DEPARTMENT] * xdept +
				    w[FEAT_CROSS_LOCATION] * xloc + w[FEAT_SHARED_LANGUAGE] * lang +
				    w[FEAT_TZ_DISTANCE] * (tzh / 12.0) +
				    w[FEAT_AVAILABILITY_OVERLAP] * avail;
		}
		if (!verdict)
			continue;

		int v = FV_ALLOWED;
		int xk = 0;
		while (ex < exend && s->excl_col[ex] < c)
			ex++;
		if (ex < exend && s->excl_col[ex] == c)
			xk = s->excl_kind[ex];
		if (s->c_person[c] == pb) {
			v = FV_SELF;
		} else if (xk == FV_VETOED) {
			v = FV_VETOED;
		} else if (rules) {
			int atin = s->c_tin[c], atout = s->c_tout[c];
			unsigned holds = 0;
			if ((atin <= btin && btin <= atout) || (btin <= atin && atin <= btout))
				holds |= 1u << FPRED_REPORTING_CHAIN;
			if (same_cat(s->c_dept[c], b->dept))
				holds |= 1u << FPRED_SAME_DEPARTMENT;
			if (same_cat(s->c_team[c], b->team))
				holds |= 1u << FPRED_SAME_TEAM;
			if (same_cat(s->c_loc[c], b->loc))
				holds |= 1u << FPRED_SAME_LOCATION;
			if (xk)
				holds |= 1u << FPRED_PREVIOUSLY_PAIRED;
			unsigned bad = ru->forbid & holds;
			unsigned miss = ru->require & ~holds;
			if (bad)
				v = FV_FORBID + __builtin_ctz(bad);
			else if (miss)
				v = FV_REQUIRE + __builtin_ctz(miss);
		}
		if (v == FV_ALLOWED && need_range) {
			double raw[FEAT_COUNT] = {v_fit, lraw, graw, xdept, xloc, lang, tzh, avail};
			int known[FEAT_COUNT] = {1, lk, gk, 1, 1, 1, tk, 1};
			for (int f = 0; f < FEAT_COUNT; f++) {
				if (ru->range[f].on && (!known[f] || raw[f] < ru->range[f].min ||
							raw[f] > ru->range[f].max)) {
					v = FV_RANGE + f;
					break;
				}
			}
		}
		verdict[c] = (uint8_t)v;
	}
}

/* Hours between two offsets in minutes, round the clock, as minutes (0..720). */
static inline int
tz_minutes(int a, int b)
{
	int diff = a > b ? a - b : b - a;
	if (diff >= 24 * 60)
		diff %= 24 * 60;
	return diff > 12 * 60 ? 24 * 60 - diff : diff;
}

/*
 * 1/k for the availability denominator (k <= 64 in the one-word case), 0 for
 * k = 0: a constant table, computed by the compiler.
 */
#define RECIP8(k)                                                                                  \
	1.0 / (k), 1.0 / ((k) + 1), 1.0 / ((k) + 2), 1.0 / ((k) + 3), 1.0 / ((k) + 4),             \
	    1.0 / ((k) + 5), 1.0 / ((k) + 6), 1.0 / ((k) + 7)
static const double recip64[65] = {0,	       RECIP8(1),  RECIP8(9),  RECIP8(17), RECIP8(25),
				   RECIP8(33), RECIP8(41), RECIP8(49), RECIP8(57)};
#undef RECIP8

/*
 * The one-word fast path: the same values and verdicts as row_impl, computed
 * without branches on the hot path except the verdict ones, over one packed
 * record per mentor.
 */
FEAT_HOT static void
row_fast(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	 uint8_t *verdict)
{
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	const uint64_t want = s->r_wanted[r], blang = s->plang[pb], bslots = s->r_slots[r];
	const double inv_want = s->r_nwanted[r] ? 1.0 / s->r_nwanted[r] : 0.0;
	const int bnslots = s->r_nslots[r], blevel = b->level, bgen = b->gen, bdept = b->dept,
		  bteam = b->team, bloc = b->loc, btz = b->tz_known ? b->tz_off : TZ_UNKNOWN;
	const int btin = s->tin[pb], btout = s->tout[pb];
	const double w0 = ru->weight[0], w1 = ru->weight[1] / 8.0, w2 = ru->weight[2] / 3.0,
		     w3 = ru->weight[3], w4 = ru->weight[4], w5 = ru->weight[5],
		     w6 = ru->weight[6] / (12.0 * 60.0), w7 = ru->weight[7];
	const unsigned forbid = ru->forbid, require = ru->require;
	int ranges[FEAT_COUNT], nranges = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		if (ru->range[f].on)
			ranges[nranges++] = f;
	int ex = s->excl_ptr[r];
	const int exend = s->excl_ptr[r + 1];
	const struct col1 *cols = s->cols1;

	for (int c = 0; c < s->nmentors; c++) {
		const struct col1 *k = &cols[c];
		double fit = __builtin_popcountll(k->offered & want) * inv_want;
		int lk = (k->level > 0) & (blevel > 0);
		int lraw = lk ? blevel - k->level : 0;
		int gk = (k->gen >= 0) & (bgen >= 0);
		int graw = gk ? k->gen - bgen : 0;
		int xdept = (k->dept >= 0) & (bdept >= 0) & (k->dept != bdept);
		int xloc = (k->loc >= 0) & (bloc >= 0) & (k->loc != bloc);
		int lang = (k->lang & blang) != 0;
		int tk = (k->tz != TZ_UNKNOWN) & (btz != TZ_UNKNOWN);
		int tzm = tk ? tz_minutes(k->tz, btz) : 0;
		int ns = k->nslots < bnslots ? k->nslots : bnslots;
		double avail = __builtin_popcountll(k->slots & bslots) * recip64[ns];
		if (scores)
			scores[c] = w0 * fit + w1 * lraw + w2 * graw + w3 * xdept + w4 * xloc +
				    w5 * lang + w6 * tzm + w7 * avail;
		if (!verdict)
			continue;

		int xk = 0;
		while (ex < exend && s->excl_col[ex] < c)
			ex++;
		if (ex < exend && s->excl_col[ex] == c)
			xk = s->excl_kind[ex];
		int v = FV_ALLOWED;
		if (k->person == pb) {
			v = FV_SELF;
		} else if (xk == FV_VETOED) {
			v = FV_VETOED;
		} else if (forbid | require) {
			unsigned holds =
			    (unsigned)((k->tin <= btin && btin <= k->tout) ||
				       (btin <= k->tin && k->tin <= btout))
				<< FPRED_REPORTING_CHAIN |
			    (unsigned)((k->dept >= 0) & (k->dept == bdept))
				<< FPRED_SAME_DEPARTMENT |
			    (unsigned)((k->team >= 0) & (k->team == bteam)) << FPRED_SAME_TEAM |
			    (unsigned)((k->loc >= 0) & (k->loc == bloc)) << FPRED_SAME_LOCATION |
			    (unsigned)(xk != 0) << FPRED_PREVIOUSLY_PAIRED;
			unsigned bad = forbid & holds, miss = require & ~holds;
			if (bad)
				v = FV_FORBID + __builtin_ctz(bad);
			else if (miss)
				v = FV_REQUIRE + __builtin_ctz(miss);
		}
		for (int i = 0; v == FV_ALLOWED && i < nranges; i++) {
			int f = ranges[i], known = 1;
			double raw;
			switch (f) {
			case FEAT_TOPIC_FIT:
				raw = fit;
				break;
			case FEAT_LEVEL_GAP:
				raw = lraw;
				known = lk;
				break;
			case FEAT_GENERATION_GAP:
				raw = graw;
				known = gk;
				break;
			case FEAT_CROSS_DEPARTMENT:
				raw = xdept;
				break;
			case FEAT_CROSS_LOCATION:
				raw = xloc;
				break;
			case FEAT_SHARED_LANGUAGE:
				raw = lang;
				break;
			case FEAT_TZ_DISTANCE:
				raw = tzm / 60.0;
				known = tk;
				break;
			default:
				raw = avail;
				break;
			}
			if (!known || raw < ru->range[f].min || raw > ru->range[f].max)
				v = FV_RANGE + f;
		}
		verdict[c] = (uint8_t)v;
	}
}

void
feat_score_row(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	       uint8_t *verdict)
{
	if (s->cols1) {
		row_fast(s, ru, r, scores, verdict);
	} else {
		row_impl(s, ru, r, scores, verdict, s->tw, s->lw, s->sw);
	}
}

FEAT_HOT void
feat_values(const struct feat_snapshot *s, int c, int r, double out[FEAT_COUNT])
{
	if (s->cols1 == NULL) {
		struct feat_values v;
		feat_eval(s, c, r, &v);
		memcpy(out, v.value, sizeof(v.value));
		return;
	}
	const struct col1 *k = &s->cols1[c];
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	out[FEAT_TOPIC_FIT] =
	    s->r_nwanted[r]
		? (double)__builtin_popcountll(k->offered & s->r_wanted[r]) / s->r_nwanted[r]
		: 0.0;
	out[FEAT_LEVEL_GAP] = k->level > 0 && b->level > 0 ? (b->level - k->level) / 8.0 : 0.0;
	out[FEAT_GENERATION_GAP] = k->gen >= 0 && b->gen >= 0 ? (k->gen - b->gen) / 3.0 : 0.0;
	out[FEAT_CROSS_DEPARTMENT] = k->dept >= 0 && b->dept >= 0 && k->dept != b->dept;
	out[FEAT_CROSS_LOCATION] = k->loc >= 0 && b->loc >= 0 && k->loc != b->loc;
	out[FEAT_SHARED_LANGUAGE] = (k->lang & s->plang[pb]) != 0;
	out[FEAT_TZ_DISTANCE] =
	    k->tz != TZ_UNKNOWN && b->tz_known ? tz_minutes(k->tz, b->tz_off) / (12.0 * 60.0) : 0.0;
	int ns = k->nslots < s->r_nslots[r] ? k->nslots : s->r_nslots[r];
	out[FEAT_AVAILABILITY_OVERLAP] =
	    __builtin_popcountll(k->slots & s->r_slots[r]) * recip64[ns];
}

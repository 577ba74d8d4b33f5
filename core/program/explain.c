/*
 * explain: explanations of pairs as JSON. See explain.h for the contract.
 */
#include "program/explain.h"

#include <math.h>
#include <stdlib.h>

json_t *
explain_pair(const struct policy *pol, const struct cohort *c, int mentor, int mentee, double lua)
{
	struct feat_values v;
	feat_eval(c->snap, mentor, mentee, &v);
	int verdict = feat_check(c->snap, &pol->rules, mentor, mentee);
	char why[128];
	feat_verdict_text(verdict, why, sizeof(why));
	json_t *feats = json_object();
	double builtin = 0;
	for (int f = 0; f < FEAT_COUNT; f++) {
		double w = pol->rules.weight[f];
		builtin += w * v.value[f];
		json_t *o = json_pack("{s:f, s:f, s:f}", "value", v.value[f], "weight", w,
				      "contribution", w * v.value[f]);
		if (v.known[f])
			json_object_set_new(o, "raw", json_real(v.raw[f]));
		else
			json_object_set_new(o, "raw", json_null());
		json_object_set_new(feats, feat_name(f), o);
	}
	json_t *cons = json_object();
	for (int p = 0; p < FPRED_COUNT; p++) {
		const char *rule = pol->rules.forbid & (1u << p)    ? "forbid"
				   : pol->rules.require & (1u << p) ? "require"
								    : "none";
		json_object_set_new(cons, feat_pred_name(p),
				    json_pack("{s:b, s:s}", "holds",
					      feat_pred_holds(c->snap, p, mentor, mentee), "rule",
					      rule));
	}
	return json_pack("{s:s, s:s, s:b, s:s, s:o, s:o, s:f, s:f, s:f}", "policy", pol->name,
			 "policy_version", pol->version, "allowed", verdict == FV_ALLOWED,
			 "verdict", why, "features", feats, "constraints", cons, "builtin", builtin,
			 "lua", lua, "score", builtin + lua);
}

static const char *
person_text(const struct cohort *c, int person, int name)
{
	const struct cohort_person *p = &c->people[person];
	const char *s = name ? p->name : p->external_id;
	return s ? s : "";
}

/* One pair of a run: who, the scores, kept, and (explain) its explanation. */
static json_t *
run_pair(const struct policy *pol, const struct cohort *c, const struct solve_pair *p, int explain)
{
	int mp = c->mentors[p->mentor].person, ep = c->mentees[p->mentee].person;
	json_t *o = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:f, s:f, s:f, s:b}", "mentor", "id",
			      person_text(c, mp, 0), "name", person_text(c, mp, 1), "mentee", "id",
			      person_text(c, ep, 0), "name", person_text(c, ep, 1), "score",
			      p->score, "builtin", p->builtin, "lua", p->lua, "kept", p->kept);
	if (o && explain &&
	    json_object_set_new(o, "explanation",
				explain_pair(pol, c, p->mentor, p->mentee, p->lua)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
explain_run(const struct policy *pol, const struct cohort *c, const struct solve_result *res,
	    int explain)
{
	json_t *pairs = json_array(), *unmatched = json_array();
	int oom = pairs == NULL || unmatched == NULL;
	for (int i = 0; !oom && i < res->npairs; i++)
		oom = json_array_append_new(pairs, run_pair(pol, c, &res->pairs[i], explain)) != 0;
	for (int i = 0; !oom && i < res->nunmatched; i++)
		oom =
		    json_array_append_new(
			unmatched,
			json_string(person_text(c, c->mentees[res->unmatched[i]].person, 0))) != 0;
	if (oom) {
		json_decref(pairs);
		json_decref(unmatched);
		return NULL;
	}
	return json_pack(
	    "{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:f, s:b, s:I, s:I, s:{s:f, s:f, s:f}}", "program",
	    c->program, "policy", pol->name, "policy_version", pol->version, "mentors", c->nmentors,
	    "mentees", c->nmentees, "pairs", pairs, "unmatched", unmatched, "total", res->total,
	    "candidate_lists", res->sparse, "allowed_pairs", (json_int_t)res->allowed, "lua_calls",
	    (json_int_t)res->lua_calls, "seconds", "features", res->secs_features, "lua",
	    res->secs_lua, "solve", res->secs_solve);
}

/* The group of a mentee's person for a spread: department, location or generation. */
static const char *
group_of(const struct cohort_person *p, int which)
{
	const char *g = which == 0 ? p->department : which == 1 ? p->location : p->generation;
	return g == NULL || g[0] == '\0' ? "(unknown)" : g;
}

/* Adds one pair's score to its group's {pairs, sum}. */
static int
group_add(json_t *groups, const char *g, double score)
{
	json_t *o = json_object_get(groups, g);
	if (o == NULL) {
		o = json_pack("{s:i, s:f}", "pairs", 0, "sum", 0.0);
		if (o == NULL || json_object_set_new(groups, g, o) != 0)
			return -1;
	}
	return json_object_set_new(
		   o, "pairs", json_integer(json_integer_value(json_object_get(o, "pairs")) + 1)) ||
	       json_object_set_new(o, "sum",
				   json_real(json_real_value(json_object_get(o, "sum")) + score));
}

/* Mean score per group (by a person attribute of the mentee) and the spread max - min. */
static json_t *
spread_json(const struct cohort *c, const struct solve_result *res, int which)
{
	json_t *groups = json_object();
	for (int i = 0; groups && i < res->npairs; i++) {
		const struct cohort_person *p = &c->people[c->mentees[res->pairs[i].mentee].person];
		if (group_add(groups, group_of(p, which), res->pairs[i].score) != 0) {
			json_decref(groups);
			return NULL;
		}
	}
	if (groups == NULL)
		return NULL;
	double lo = INFINITY, hi = -INFINITY;
	const char *k;
	json_t *v;
	json_object_foreach(groups, k, v)
	{
		double mean = json_real_value(json_object_get(v, "sum")) /
			      (double)json_integer_value(json_object_get(v, "pairs"));
		json_object_del(v, "sum");
		json_object_set_new(v, "mean_score", json_real(mean));
		lo = mean < lo ? mean : lo;
		hi = mean > hi ? mean : hi;
	}
	return json_pack("{s:o, s:f}", "groups", groups, "spread",
			 json_object_size(groups) ? hi - lo : 0.0);
}

json_t *
explain_summary(const struct policy *pol, const struct cohort *c, const struct solve_result *res)
{
	double sums[FEAT_COUNT] = {0};
	for (int i = 0; i < res->npairs; i++) {
		struct feat_values v;
		feat_eval(c->snap, res->pairs[i].mentor, res->pairs[i].mentee, &v);
		for (int f = 0; f < FEAT_COUNT; f++)
			sums[f] += v.value[f];
	}
	json_t *means = json_object();
	for (int f = 0; means && f < FEAT_COUNT; f++)
		if (json_object_set_new(means, feat_name(f),
					json_real(res->npairs ? sums[f] / res->npairs : 0.0)) !=
		    0) {
			json_decref(means);
			means = NULL;
		}
	/* The common scale: each pair's score rescaled to 0..1 over the range of scores
	 * the policy's solve weighed (clamped: a kept pair may fall outside it). */
	double lo = res->score_min, span = res->score_max - res->score_min, ntotal = 0;
	for (int i = 0; i < res->npairs; i++) {
		double v = span > 0 ? (res->pairs[i].score - lo) / span : 1.0;
		ntotal += v < 0 ? 0 : v > 1 ? 1 : v;
	}
	return json_pack("{s:s, s:s, s:i, s:i, s:f, s:f, s:{s:f, s:f}, s:f, s:f, s:o, s:o, s:o, "
			 "s:o}",
			 "policy", pol->name, "policy_version", pol->version, "matched",
			 res->npairs, "unmatched", res->nunmatched, "total", res->total, "mean",
			 res->npairs ? res->total / res->npairs : 0.0, "score_range", "min",
			 res->score_min, "max", res->score_max, "normalized_total", ntotal,
			 "normalized_mean", res->npairs ? ntotal / res->npairs : 0.0,
			 "feature_means", means, "by_department", spread_json(c, res, 0),
			 "by_location", spread_json(c, res, 1), "by_generation",
			 spread_json(c, res, 2));
}

int
explain_common_pairs(const struct solve_result *a, const struct solve_result *b, int nmentees)
{
	int *mentor_of = malloc(((size_t)nmentees + 1) * sizeof(int));
	if (mentor_of == NULL)
		return -1;
	for (int r = 0; r < nmentees; r++)
		mentor_of[r] = -1;
	for (int k = 0; k < b->npairs; k++)
		mentor_of[b->pairs[k].mentee] = b->pairs[k].mentor;
	int common = 0;
	for (int i = 0; i < a->npairs; i++)
		common += mentor_of[a->pairs[i].mentee] == a->pairs[i].mentor;
	free(mentor_of);
	return common;
}

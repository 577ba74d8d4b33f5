/*
 * explain: explanations of pairs as JSON. See explain.h for the contract.
 */
#include "program/explain.h"

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

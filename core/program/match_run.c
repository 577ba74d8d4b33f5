/*
 * match_run: the match pipeline's driver. See match_run.h for the contract and
 * the stages it calls.
 */
#include "program/match_run.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "program/explain.h"
#include "program/matches.h"
#include "program/score.h"
#include "program/unmatched.h"
#include "store/store.h"

struct policy *
match_run_policy(const struct match_run_ctx *x, const char *ref, struct diag *d)
{
	const struct config_program *prog = x->prog;
	if (ref == NULL)
		ref = prog ? prog->policy : NULL;
	if (ref == NULL) {
		diag_set(d, DIAG_INVALID,
			 "program '%s' names no policy: pass --policy NAME or set policy = \"...\" "
			 "in tandem.lua",
			 prog ? prog->name : "?");
		return NULL;
	}
	struct policy *pol = policy_open(x->ws, ref, d);
	if (pol == NULL && prog && ref == prog->policy && d && d->code == DIAG_NOTFOUND)
		/* The name came from the config, not the caller: say where. */
		diag_prefix(d, "tandem.lua:%d: program '%s': field 'policy'", prog->line,
			    prog->name);
	return pol;
}

int
match_run_id(struct store *st, char id[MATCH_RUN_ID_MAX], struct diag *d)
{
	char ts[STORE_TIME_MAX], compact[STORE_TIME_MAX];
	if (store_timestamp(st, ts) != 0)
		return diag_set(d, DIAG_INTERNAL, "cannot format the current time for the run id");
	size_t k = 0;
	for (const char *p = ts; *p && k + 1 < sizeof(compact); p++)
		if (*p != '-' && *p != ':')
			compact[k++] = *p;
	compact[k] = '\0';
	/* Two runs in the same second differ by these bits (not a secret, not unique). */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(id, MATCH_RUN_ID_MAX, "run-%s-%04x", compact,
		 (unsigned)((now.tv_nsec / 1000) ^ (unsigned)getpid()) & 0xffff);
	return 0;
}

/* Loads the cohort and solves it under run->pol. */
static int
load_and_solve(const struct match_run_ctx *x, struct match_run *run, struct diag *d)
{
	if ((x->rematch ? cohort_load_rematch(x->st, x->program_id, x->prog->name, &run->cohort, d)
			: cohort_load(x->st, x->program_id, x->prog->name, &run->cohort, d)) < 0)
		return -1;
	const struct solve_progress *pr = x->progress;
	if (pr && pr->fn) {
		pr->fn(pr->ud, "cohort (mentees)", run->cohort.nmentees, run->cohort.nmentees);
		pr->fn(pr->ud, "cohort (mentors)", run->cohort.nmentors, run->cohort.nmentors);
	}
	return solve_cohort_progress(run->pol, &run->cohort, &run->res, pr, d);
}

static void
run_init(struct match_run *run)
{
	memset(run, 0, sizeof(*run));
	cohort_init(&run->cohort);
	snprintf(run->run_id, sizeof(run->run_id), "dry-run");
}

int
match_run_solve(const struct match_run_ctx *x, const char *ref, struct match_run *run,
		struct diag *d)
{
	run_init(run);
	if ((run->pol = match_run_policy(x, ref, d)) == NULL)
		return -1;
	return load_and_solve(x, run, d);
}

int
match_run_solve_with(const struct match_run_ctx *x, struct policy *pol, struct match_run *run,
		     struct diag *d)
{
	run_init(run);
	run->pol = pol;
	run->pol_borrowed = 1;
	return load_and_solve(x, run, d);
}

/* "topic_fit outside the required range: 5880 pairs, ..." of {verdict: n}, the
 * largest first, into buf. */
static void
removed_text(json_t *removed, char *buf, size_t size)
{
	size_t used = 0, n = json_object_size(removed);
	buf[0] = '\0';
	json_t *done = json_object();
	for (size_t k = 0; done && k < n && used + 1 < size; k++) {
		const char *best = NULL, *key;
		json_int_t bn = -1;
		json_t *v;
		json_object_foreach(removed, key, v)
		{
			if (!json_object_get(done, key) && json_integer_value(v) > bn) {
				best = key;
				bn = json_integer_value(v);
			}
		}
		if (best == NULL || json_object_set_new(done, best, json_true()))
			break;
		int w = snprintf(buf + used, size - used, "%s%s: %lld pair%s", k ? ", " : "", best,
				 (long long)bn, bn == 1 ? "" : "s");
		used += w > 0 ? (size_t)w : 0;
	}
	json_decref(done);
}

/*
 * A refused store (d holds matches_store_run's message): names the constraints
 * that removed the pairs, says how to go ahead, and keeps the facts as JSON.
 */
static int
refuse(const struct match_run_ctx *x, struct match_run *run, struct diag *d)
{
	struct diag dd;
	diag_clear(&dd);
	json_t *why = unmatched_reasons(NULL, run->pol, &run->cohort, &run->res, &dd);
	int nm = 0;
	json_t *removed = why ? unmatched_removed(why, &nm) : NULL;
	json_decref(why);
	if (removed == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	const char *base = d ? d->msg : "match run refused";
	/* Room for the whole text; the diag keeps what fits in DIAG_MSG_MAX. */
	char what[512], msg[2 * DIAG_MSG_MAX];
	removed_text(removed, what, sizeof(what));
	const char *go = run->store.ncurrent > 0 ? "run again with --replace to replace them"
						 : "run again with --replace to store it anyway";
	if (nm > 0)
		snprintf(msg, sizeof(msg),
			 "%s; the constraints removed every candidate of %d mentee%s (%s); %s",
			 base, nm, nm == 1 ? "" : "s", what, go);
	else
		snprintf(msg, sizeof(msg),
			 "%s; no constraint removed every candidate of a mentee (the others "
			 "were lost to a better use of capacity); %s",
			 base, go);
	run->refusal = json_pack(
	    "{s:b, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:i, s:O, s:s}", "refused", 1, "reason",
	    run->store.refused == MATCHES_NO_PAIR ? "no_allowed_pair" : "fewer_than_half",
	    "program", x->prog ? x->prog->name : "", "policy", run->pol->name, "policy_version",
	    run->pol->version, "current_proposals", run->store.ncurrent, "proposed",
	    run->store.nproposed, "allowed_pairs", (json_int_t)run->res.allowed,
	    "mentees_without_allowed_partner", nm, "removed", removed, "message", msg);
	json_decref(removed);
	return diag_set(d, DIAG_CONFLICT, "%s", msg);
}

int
match_run_store(const struct match_run_ctx *x, struct match_run *run, const char *actor,
		int replace, struct diag *d)
{
	if (match_run_id(x->st, run->run_id, d) < 0)
		return -1;
	memset(&run->store, 0, sizeof(run->store));
	run->store.replace = replace;
	run->store.rematch = x->rematch;
	int rc = matches_store_run(x->st, &run->cohort, run->pol, &run->res, run->run_id, actor,
				   &run->store, d);
	run->nstored = run->store.nstored;
	if (rc < 0 && run->store.refused != MATCHES_STORED)
		refuse(x, run, d);
	return rc;
}

json_t *
match_run_json(const struct match_run *run, int explain, int dry_run)
{
	json_t *o = explain_run(run->pol, &run->cohort, &run->res, explain);
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "run_id", dry_run ? json_null() : json_string(run->run_id)) ||
	    json_object_set_new(o, "dry_run", json_boolean(dry_run))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
match_run_unmatched(const struct match_run_ctx *x, const struct match_run *run, struct diag *d)
{
	return unmatched_reasons(x->st, run->pol, &run->cohort, &run->res, d);
}

void
match_run_fini(struct match_run *run)
{
	solve_result_fini(&run->res);
	cohort_fini(&run->cohort);
	json_decref(run->refusal);
	run->refusal = NULL;
	if (!run->pol_borrowed)
		policy_delete(run->pol);
	run->pol = NULL;
}

/* ---- explaining one pair ----------------------------------------------------------- */

/* The side index of a people.id, or -1 when not enrolled (with consent) on that side. */
static int
side_index(const struct cohort *c, int64_t id, int mentor)
{
	int person = cohort_person_index(c, id);
	if (person < 0)
		return -1;
	return mentor ? cohort_mentor_of(c, person) : cohort_mentee_of(c, person);
}

/* 1 when the mentee's current matches include this mentor (by external id). */
static int
is_chosen(json_t *partners, const char *mentor_ext)
{
	size_t i;
	json_t *v;
	json_array_foreach(partners, i, v)
	{
		const char *mid =
		    json_string_value(json_object_get(json_object_get(v, "mentor"), "id"));
		if (mid && mentor_ext && strcmp(mid, mentor_ext) == 0)
			return 1;
	}
	return 0;
}

/* The explanation of (cm, ce) with its Lua score, run only on an allowed pair. */
static json_t *
pair_explanation(struct policy *pol, const struct cohort *c, int cm, int ce, struct diag *d)
{
	int verdict = feat_check(c->snap, &pol->rules, cm, ce);
	double lua = 0;
	if (verdict == FV_ALLOWED && score_pairs(pol, c, &cm, &ce, 1, &lua, d) < 0)
		return NULL;
	json_t *ex = explain_pair(pol, c, cm, ce, lua);
	if (ex && verdict != FV_ALLOWED && pol->has_score) {
		/* The policy's score hook only runs on allowed pairs: showing 0 as its
		 * value would make up a score the pair never had. */
		json_object_set_new(ex, "lua", json_null());
		json_object_set_new(ex, "score", json_null());
	}
	if (ex == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return ex;
}

/* Adds chosen, mentee_matches and mentor_matches to the explanation ex. */
static int
add_standing(const struct match_run_ctx *x, json_t *ex, const char *mentor_ext, int64_t mentor_id,
	     int64_t mentee_id, struct diag *d)
{
	json_t *partners = matches_partners_json(x->st, x->program_id, mentee_id, 0, d);
	json_t *mpart =
	    partners ? matches_partners_json(x->st, x->program_id, mentor_id, 1, d) : NULL;
	if (partners == NULL || mpart == NULL) {
		json_decref(partners);
		return -1;
	}
	if (json_object_set_new(ex, "chosen", json_boolean(is_chosen(partners, mentor_ext))) ||
	    json_object_set_new(ex, "mentee_matches", partners) ||
	    json_object_set_new(ex, "mentor_matches", mpart))
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

int
match_run_explain(const struct match_run_ctx *x, const char *ref, int64_t mentor_id,
		  int64_t mentee_id, const char *mentor_key, const char *mentee_key,
		  struct match_run_report *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	struct cohort co;
	cohort_init(&co);
	struct policy *pol = match_run_policy(x, ref, d);
	int rc = -1;
	/* An approved or active pair is in the pairing history through its own match:
	 * leave that row out, or previously_paired would forbid the pair it describes. */
	int64_t own = 0;
	if (pol == NULL ||
	    matches_current_id(x->st, x->program_id, mentor_id, mentee_id, &own, d) < 0 ||
	    cohort_load_except(x->st, x->program_id, x->prog->name, own, &co, d) < 0)
		goto out;
	int cm = side_index(&co, mentor_id, 1), ce = side_index(&co, mentee_id, 0);
	if (cm < 0 || ce < 0) {
		diag_set(d, DIAG_INVALID, "%s is not an enrolled %s with consent in %s",
			 cm < 0 ? mentor_key : mentee_key, cm < 0 ? "mentor" : "mentee",
			 x->prog->name);
		goto out;
	}
	const struct cohort_person *mp = &co.people[co.mentors[cm].person];
	const struct cohort_person *ep = &co.people[co.mentees[ce].person];
	out->mentor_capacity = co.mentors[cm].capacity;
	out->mentor_name = strdup(mp->name ? mp->name : "");
	out->mentee_name = strdup(ep->name ? ep->name : "");
	if (out->mentor_name == NULL || out->mentee_name == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	if ((out->json = pair_explanation(pol, &co, cm, ce, d)) == NULL ||
	    add_standing(x, out->json, mp->external_id, mentor_id, mentee_id, d) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		match_run_report_fini(out);
	cohort_fini(&co);
	policy_delete(pol);
	return rc;
}

void
match_run_report_fini(struct match_run_report *r)
{
	json_decref(r->json);
	free(r->mentor_name);
	free(r->mentee_name);
	memset(r, 0, sizeof(*r));
}

/* ---- comparing policies ------------------------------------------------------------ */

/* Pairs chosen by every run (same cohort loaded each time: side indexes agree). */
static int
common_to_all(const struct match_run *run, int n)
{
	int nm = run[0].cohort.nmentees;
	int *mentor_of = malloc(((size_t)nm + 1) * (size_t)n * sizeof(int));
	if (mentor_of == NULL)
		return -1;
	for (size_t k = 0; k < ((size_t)nm + 1) * (size_t)n; k++)
		mentor_of[k] = -1;
	for (int j = 0; j < n; j++)
		for (int k = 0; k < run[j].res.npairs; k++)
			mentor_of[(size_t)j * (size_t)nm + (size_t)run[j].res.pairs[k].mentee] =
			    run[j].res.pairs[k].mentor;
	int common = 0;
	for (int r = 0; r < nm; r++) {
		int all = mentor_of[r] >= 0;
		for (int j = 1; all && j < n; j++)
			all = mentor_of[(size_t)j * (size_t)nm + (size_t)r] == mentor_of[r];
		common += all;
	}
	free(mentor_of);
	return common;
}

/* {policies [A, B], pairs} for each two of the runs. */
static json_t *
common_by_pair(const struct match_run *run, int n)
{
	json_t *arr = json_array();
	for (int a = 0; arr && a < n; a++)
		for (int b = a + 1; b < n; b++) {
			int k = explain_common_pairs(&run[a].res, &run[b].res,
						     run[b].cohort.nmentees);
			json_t *o = k < 0 ? NULL
					  : json_pack("{s:[s, s], s:i}", "policies",
						      run[a].pol->name, run[b].pol->name, "pairs", k);
			if (json_array_append_new(arr, o) != 0) {
				json_decref(arr);
				return NULL;
			}
		}
	return arr;
}

json_t *
match_run_compare(const struct match_run_ctx *x, const char *const *refs, int n, struct diag *d)
{
	if (n < 2 || n > MATCH_RUN_COMPARE_MAX) {
		diag_set(d, DIAG_INVALID, "compare needs 2 to %d policies, not %d",
			 MATCH_RUN_COMPARE_MAX, n);
		return NULL;
	}
	struct match_run run[MATCH_RUN_COMPARE_MAX];
	int ok = 0;
	json_t *out = NULL, *sums = NULL;
	for (; ok < n; ok++)
		if (match_run_solve(x, refs[ok], &run[ok], d) < 0) {
			match_run_fini(&run[ok]);
			goto done;
		}
	int common = common_to_all(run, n);
	sums = json_array();
	for (int j = 0; sums && j < n; j++)
		if (json_array_append_new(sums, explain_summary(run[j].pol, &run[j].cohort,
								&run[j].res)) != 0) {
			json_decref(sums);
			sums = NULL;
		}
	if (common < 0 || sums == NULL) {
		json_decref(sums);
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto done;
	}
	out = json_pack("{s:s, s:o, s:i, s:o}", "program", x->prog->name, "policies", sums,
			"pairs_in_common", common, "pairs_in_common_by_pair", common_by_pair(run, n));
	if (out == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
done:
	for (int j = 0; j < ok; j++)
		match_run_fini(&run[j]);
	return out;
}

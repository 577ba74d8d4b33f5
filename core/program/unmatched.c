/*
 * unmatched: a reason for everyone a run leaves without a partner. See
 * unmatched.h for the contract.
 */
#include "program/unmatched.h"

#include <stdlib.h>
#include <string.h>

#include "program/feat.h"
#include "program/people.h"
#include "store/stmt.h"
#include "store/store.h"

static const char *
ptext(const struct cohort *c, int person, int name)
{
	const char *s = name ? c->people[person].name : c->people[person].external_id;
	return s ? s : "";
}

/* {verdict text: candidates it removed} from a histogram of verdicts. */
static json_t *
removed_json(const int64_t hist[FV_COUNT])
{
	json_t *o = json_object();
	for (int v = 1; o && v < FV_COUNT; v++) {
		if (hist[v] == 0)
			continue;
		char why[128];
		feat_verdict_text(v, why, sizeof(why));
		if (json_object_set_new(o, why, json_integer((json_int_t)hist[v])) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Adds one entry to people and bumps its side's counter. */
static int
add_entry(json_t *people, json_t *counts, json_t *e, const char *reason)
{
	if (e == NULL)
		return -1;
	json_t *n = json_object_get(counts, reason);
	if (json_object_set_new(e, "reason", json_string(reason)) ||
	    json_object_set_new(counts, reason, json_integer(json_integer_value(n) + 1)) ||
	    json_object_set_new(counts, "total",
				json_integer(json_integer_value(json_object_get(counts, "total")) +
					     1)))
		return -1;
	return json_array_append_new(people, e);
}

/* The enrolled active people of the program without consent, per side. */
static int
no_consent(struct store *st, int64_t program_id, json_t *people, json_t *ce, json_t *cm,
	   struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "listing enrollments without consent",
			 "SELECT p.external_id, p.name, e.role FROM enrollments e "
			 "JOIN people p ON p.id = e.person_id "
			 "WHERE e.program_id = ?1 AND e.consent IS NOT 1 AND p.status = 'active' "
			 "ORDER BY p.external_id",
			 d) < 0 ||
	    stmt_bind_int64(&s, 1, program_id, d) < 0) {
		stmt_finalize(&s);
		return -1;
	}
	int rc;
	while ((rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *ext = NULL, *name = NULL, *role = NULL;
		if (stmt_text(&s, 0, &ext, d) < 0 || stmt_text(&s, 1, &name, d) < 0 ||
		    stmt_text(&s, 2, &role, d) < 0) {
			rc = -1;
			break;
		}
		role = role ? role : "";
		int mentee = strcmp(role, "mentee") == 0 || strcmp(role, "both") == 0;
		int mentor = strcmp(role, "mentor") == 0 || strcmp(role, "both") == 0;
		for (int side = 0; side < 2 && rc == STMT_ROW; side++) {
			if (!(side == 0 ? mentee : mentor))
				continue;
			json_t *e = json_pack("{s:s, s:s, s:s}", "side", side ? "mentor" : "mentee",
					      "id", ext ? ext : "", "name", name ? name : "");
			if (add_entry(people, side ? cm : ce, e, "no_consent") < 0) {
				diag_set(d, DIAG_NOMEM, "out of memory");
				rc = -1;
			}
		}
		if (rc < 0)
			break;
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

/* One unmatched mentee: no allowed mentor (with the verdicts' counts), or the best
 * allowed mentor by built-in score and who took them. */
static json_t *
mentee_entry(const struct policy *pol, const struct cohort *c, const struct solve_result *res,
	     int ce, double *scores, uint8_t *verdict, const char **reason)
{
	int person = c->mentees[ce].person;
	json_t *e =
	    json_pack("{s:s, s:s, s:s}", "side", "mentee", "id", ptext(c, person, 0), "name",
		      ptext(c, person, 1));
	if (e == NULL)
		return NULL;
	feat_score_row(c->snap, &pol->rules, ce, scores, verdict);
	int64_t hist[FV_COUNT] = {0};
	int best = -1;
	for (int m = 0; m < c->nmentors; m++) {
		hist[verdict[m] < FV_COUNT ? verdict[m] : 0]++;
		if (verdict[m] == FV_ALLOWED && (best < 0 || scores[m] > scores[best]))
			best = m;
	}
	if (best < 0) {
		*reason = "no_allowed_partner";
		if (json_object_set_new(e, "removed", removed_json(hist)) != 0) {
			json_decref(e);
			return NULL;
		}
		return e;
	}
	*reason = "lost_to_better_use";
	int bp = c->mentors[best].person;
	json_t *taken = json_array();
	for (int i = 0; taken && i < res->npairs; i++)
		if (res->pairs[i].mentor == best &&
		    json_array_append_new(
			taken, json_string(ptext(c, c->mentees[res->pairs[i].mentee].person, 0))))
			break;
	if (taken == NULL ||
	    json_object_set_new(e, "best",
				json_pack("{s:s, s:s, s:f, s:i}", "id", ptext(c, bp, 0), "name",
					  ptext(c, bp, 1), "score", scores[best], "capacity",
					  c->mentors[best].capacity)) ||
	    json_object_set_new(e, "taken_by", taken)) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* One mentor with unused capacity: no allowed mentee (with the verdicts' counts),
 * or every allowed mentee went to another mentor. */
static json_t *
mentor_entry(const struct policy *pol, const struct cohort *c, int cm, int used,
	     const char **reason)
{
	int person = c->mentors[cm].person;
	json_t *e = json_pack("{s:s, s:s, s:s, s:i, s:i}", "side", "mentor", "id",
			      ptext(c, person, 0), "name", ptext(c, person, 1), "capacity",
			      c->mentors[cm].capacity, "used", used);
	if (e == NULL)
		return NULL;
	int64_t hist[FV_COUNT] = {0};
	int allowed = 0;
	for (int r = 0; r < c->nmentees; r++) {
		int v = feat_check(c->snap, &pol->rules, cm, r);
		hist[v < FV_COUNT ? v : 0]++;
		if (v == FV_ALLOWED) {
			allowed = 1;
			break;
		}
	}
	*reason = allowed ? "lost_to_better_use" : "no_allowed_partner";
	if (!allowed && json_object_set_new(e, "removed", removed_json(hist)) != 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* 1 (*match set) when the person's last match in the program ended because their partner
 * was erased and they have no current one there, 0 when not, -1 + diag on failure. */
static int
partner_erased(struct store *st, int64_t program_id, int64_t person, int64_t *match,
	       struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "looking for an erased partner",
			 "SELECT id, end_reason = ?3 FROM matches WHERE program_id = ?1"
			 " AND (mentor_id = ?2 OR mentee_id = ?2)"
			 " AND status IN ('approved', 'active', 'ended')"
			 " ORDER BY status <> 'ended' DESC, ended_at DESC, id DESC LIMIT 1",
			 d) < 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, program_id, d) || stmt_bind_int64(&s, 2, person, d) ||
			 stmt_bind_text(&s, 3, PEOPLE_ERASE_REASON, d)
		     ? -1
		     : stmt_step(&s, d);
	int found = rc == STMT_ROW && stmt_int64(&s, 1) == 1;
	if (found)
		*match = stmt_int64(&s, 0);
	stmt_finalize(&s);
	return rc < 0 ? -1 : found;
}

/* Adds e under reason, or under partner_erased (with the ended match) when the person's
 * partner was erased. */
static int
add_checked(struct store *st, const struct cohort *c, int person, json_t *people,
	    json_t *counts, json_t *e, const char *reason, struct diag *d)
{
	int64_t match = 0;
	int erased = st && e ? partner_erased(st, c->program_id, c->people[person].id, &match, d)
			     : 0;
	if (erased < 0) {
		json_decref(e);
		return -2;
	}
	if (erased) {
		json_object_del(e, "best");
		json_object_del(e, "taken_by");
		json_object_del(e, "removed");
		if (json_object_set_new(e, "match", json_integer((json_int_t)match)) != 0) {
			json_decref(e);
			return -1;
		}
		reason = "partner_erased";
	}
	return add_entry(people, counts, e, reason);
}

json_t *
unmatched_reasons(struct store *st, const struct policy *pol, const struct cohort *c,
		  const struct solve_result *res, struct diag *d)
{
	json_t *people = json_array();
	json_t *ce = json_pack("{s:i, s:i, s:i, s:i}", "no_consent", 0, "no_allowed_partner", 0,
			       "lost_to_better_use", 0, "total", 0);
	json_t *cm = json_deep_copy(ce);
	double *scores = malloc(((size_t)c->nmentors + 1) * sizeof(double));
	uint8_t *verdict = malloc((size_t)c->nmentors + 1);
	int *used = calloc((size_t)c->nmentors + 1, sizeof(int));
	json_t *out = NULL;
	if (people == NULL || ce == NULL || cm == NULL || scores == NULL || verdict == NULL ||
	    used == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto done;
	}
	if (st && no_consent(st, c->program_id, people, ce, cm, d) < 0)
		goto done;
	for (int i = 0; i < res->nunmatched; i++) {
		const char *reason = NULL;
		json_t *e = mentee_entry(pol, c, res, res->unmatched[i], scores, verdict, &reason);
		int rc = add_checked(st, c, c->mentees[res->unmatched[i]].person, people, ce, e,
				     reason, d);
		if (rc < 0) {
			if (rc == -1)
				diag_set(d, DIAG_NOMEM, "out of memory");
			goto done;
		}
	}
	for (int i = 0; i < res->npairs; i++)
		used[res->pairs[i].mentor]++;
	for (int m = 0; m < c->nmentors; m++) {
		if (used[m] >= c->mentors[m].capacity)
			continue;
		const char *reason = NULL;
		json_t *e = mentor_entry(pol, c, m, used[m], &reason);
		int rc = add_checked(st, c, c->mentors[m].person, people, cm, e, reason, d);
		if (rc < 0) {
			if (rc == -1)
				diag_set(d, DIAG_NOMEM, "out of memory");
			goto done;
		}
	}
	out = json_pack("{s:O, s:O, s:O}", "mentees", ce, "mentors", cm, "people", people);
	if (out == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
done:
	json_decref(people);
	json_decref(ce);
	json_decref(cm);
	free(scores);
	free(verdict);
	free(used);
	return out;
}

json_t *
unmatched_removed(json_t *reasons, int *nmentees)
{
	*nmentees = 0;
	json_t *sum = json_object();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(reasons, "people"), i, p)
	{
		if (sum == NULL)
			break;
		const char *side = json_string_value(json_object_get(p, "side"));
		const char *why = json_string_value(json_object_get(p, "reason"));
		if (!side || !why || strcmp(side, "mentee") || strcmp(why, "no_allowed_partner"))
			continue;
		(*nmentees)++;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(p, "removed"), k, v)
		{
			json_int_t n = json_integer_value(json_object_get(sum, k));
			if (json_object_set_new(sum, k, json_integer(n + json_integer_value(v)))) {
				json_decref(sum);
				sum = NULL;
				break;
			}
		}
	}
	return sum;
}

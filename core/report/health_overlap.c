/*
 * health_overlap: the people enrolled in two programs that run at the same time
 * (health_overlaps in health.h): the programs' dates come from tandem.lua as loaded, the
 * enrollments from one query over the people enrolled more than once.
 */
#include <stdlib.h>
#include <string.h>

#include "program/config.h"
#include "program/matches.h"
#include "report/health.h"
#include "store/stmt.h"

/* A declared program that has a row, and its dates (NULL: open). */
struct span {
	const struct config_program *prog;
	int64_t id;
};

/* [starts, ends] intersect; a missing starts is open towards the past, a missing ends
 * open-ended. Dates are YYYY-MM-DD: text order is date order. */
static int
spans_overlap(const struct config_program *a, const struct config_program *b)
{
	return (a->starts == NULL || b->ends == NULL || strcmp(a->starts, b->ends) <= 0) &&
	       (b->starts == NULL || a->ends == NULL || strcmp(b->starts, a->ends) <= 0);
}

/* The declared programs that have a row. */
static int
load_spans(struct store *st, const struct config *cfg, struct span **out, int *n,
	   struct diag *d)
{
	*n = 0;
	*out = calloc((size_t)cfg->nprograms + 1, sizeof(**out));
	if (*out == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < cfg->nprograms; i++) {
		struct diag dd;
		int64_t id = 0;
		if (matches_program_id(st, cfg->programs[i].name, &id, &dd) != 0) {
			if (dd.code == DIAG_NOTFOUND)
				continue; /* never synced: nobody is enrolled in it */
			*d = dd;
			return -1;
		}
		(*out)[(*n)++] = (struct span){&cfg->programs[i], id};
	}
	return 0;
}

static int
span_of(const struct span *v, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (v[i].id == id)
			return i;
	return -1;
}

static json_t *
date_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * One person's entry, or NULL (and *none = 1) when their programs (mine[0..k), span
 * indexes) do not overlap as asked: with only >= 0, only and the programs overlapping it.
 */
static json_t *
person_entry(const struct span *v, const int *mine, int k, int only, int64_t id,
	     const char *ext, const char *name, int *none)
{
	*none = 1;
	json_t *progs = json_array();
	for (int i = 0; progs && i < k; i++) {
		int flagged = 0;
		for (int j = 0; j < k && !flagged; j++) {
			if (j == i || !spans_overlap(v[mine[i]].prog, v[mine[j]].prog))
				continue;
			flagged = only < 0 || mine[i] == only || mine[j] == only;
		}
		const struct config_program *p = v[mine[i]].prog;
		if (flagged &&
		    json_array_append_new(progs, json_pack("{sssoso}", "name", p->name, "starts",
							   date_json(p->starts), "ends",
							   date_json(p->ends))) != 0) {
			json_decref(progs);
			return NULL;
		}
	}
	if (progs == NULL || json_array_size(progs) < 2) {
		json_decref(progs);
		return NULL;
	}
	*none = 0;
	return json_pack("{s{sIssss}so}", "person", "id", (json_int_t)id, "external_id", ext,
			 "name", name, "programs", progs);
}

static const char overlap_sql[] =
    "SELECT e.person_id, p.external_id, p.name, e.program_id FROM enrollments e "
    "JOIN people p ON p.id = e.person_id WHERE e.person_id IN "
    "(SELECT person_id FROM enrollments GROUP BY person_id HAVING count(*) > 1) "
    "ORDER BY p.external_id, e.person_id, e.program_id";

int
health_overlaps(struct store *st, const struct config *cfg, const char *program, json_t **out,
		struct diag *d)
{
	*out = NULL;
	struct span *v = NULL;
	int nv = 0, only = -1;
	if (load_spans(st, cfg, &v, &nv, d) != 0) {
		free(v);
		return -1;
	}
	if (program != NULL) {
		for (int i = 0; i < nv; i++)
			if (strcmp(v[i].prog->name, program) == 0)
				only = i;
		if (only < 0) {
			free(v);
			return (*out = json_array()) ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
		}
	}
	json_t *arr = json_array();
	int *mine = malloc(((size_t)nv + 1) * sizeof(int));
	struct stmt s = {0};
	int rc = arr && mine ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
	if (rc == 0)
		rc = stmt_prepare(&s, st, "reading people enrolled more than once", overlap_sql, d);
	int64_t cur = 0;
	char *ext = NULL, *name = NULL;
	int k = 0, step = rc == 0 ? stmt_step(&s, d) : -1;
	/* One pass: rows come grouped by person; a person's group ends at the next id. */
	for (;;) {
		int64_t pid = step == STMT_ROW ? stmt_int64(&s, 0) : 0;
		if ((step != STMT_ROW || pid != cur) && cur != 0) {
			int none;
			json_t *e = person_entry(v, mine, k, only, cur, ext, name, &none);
			if (!none && json_array_append_new(arr, e) != 0)
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
			free(ext);
			free(name);
			ext = name = NULL;
			k = 0;
		}
		if (step != STMT_ROW || rc != 0)
			break;
		if (pid != cur) {
			const char *t1 = NULL, *t2 = NULL;
			cur = pid;
			if (stmt_text(&s, 1, &t1, d) || stmt_text(&s, 2, &t2, d) ||
			    (ext = strdup(t1 ? t1 : "")) == NULL ||
			    (name = strdup(t2 ? t2 : "")) == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
		}
		int at = span_of(v, nv, stmt_int64(&s, 3));
		if (at >= 0 && k < nv)
			mine[k++] = at;
		step = stmt_step(&s, d);
	}
	if (rc == 0 && step != STMT_DONE)
		rc = -1;
	free(ext);
	free(name);
	stmt_finalize(&s);
	free(mine);
	free(v);
	if (rc != 0) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

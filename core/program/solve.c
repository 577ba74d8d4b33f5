/*
 * solve: building and solving the matching problem of a cohort. See solve.h
 * for the contract and the steps.
 */
#include "program/solve.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match/match.h"
#include "program/score.h"

static double
now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
solve_result_fini(struct solve_result *r)
{
	free(r->pairs);
	free(r->unmatched);
	memset(r, 0, sizeof(*r));
}

/* Capacities after the hook, minus what kept pairs consume; marks kept mentees. */
struct prep {
	int *cap;     /* remaining capacity per mentor */
	int *kept_of; /* per mentee: index into c->kept, or -1 */
	const struct solve_progress *pr; /* NULL: no reports */
};

/* One progress report, when the caller asked for them. */
static void
report(const struct prep *pp, const char *phase, long done, long total)
{
	if (pp->pr && pp->pr->fn)
		pp->pr->fn(pp->pr->ud, phase, done, total);
}

static const char PH_FEATURES[] = "constraints and built-in scores (mentees)";
static const char PH_LUA[] = "Lua scores (pairs)";
static const char PH_SOLVE[] = "solving (mentees)";

/* Reports row r of nr in the features phase about every 1% (and the first and last). */
static void
report_row(const struct prep *pp, int r, int nr)
{
	int step = nr / 100 > 0 ? nr / 100 : 1;
	if (r == 0 || (r + 1) % step == 0 || r + 1 == nr)
		report(pp, PH_FEATURES, r + 1, nr);
}

/* Step 1a: each mentor's capacity, from the enrollment or the capacity hook. */
static int
capacities(struct policy *pol, struct cohort *c, struct prep *pp, struct diag *d)
{
	int nc = c->nmentors;
	for (int i = 0; i < nc; i++)
		pp->cap[i] = c->mentors[i].capacity;
	if (!pol->has_capacity || nc == 0)
		return 0;
	struct score_batch b = {0};
	b.out[SCORE_CAPACITY] = score_out_new((size_t)nc, d);
	if (b.out[SCORE_CAPACITY] == NULL)
		return -1;
	int rc = score_run(pol, c, &b, d);
	for (int i = 0; rc == 0 && i < nc; i++)
		pp->cap[i] = (int)b.out[SCORE_CAPACITY][i];
	score_out_delete(b.out[SCORE_CAPACITY], (size_t)nc);
	return rc;
}

/* Step 1b: kept pairs take their mentee out of the solve and consume capacity. */
static void
keep_pairs(struct cohort *c, struct prep *pp)
{
	for (int r = 0; r < c->nmentees; r++)
		pp->kept_of[r] = -1;
	for (int k = 0; k < c->nkept; k++) {
		struct cohort_kept *kp = &c->kept[k];
		if (pp->kept_of[kp->mentee] >= 0) {
			tlog(TLOG_WARN, "mentee %s has several kept matches; keeping match %lld",
			     c->people[c->mentees[kp->mentee].person].external_id,
			     (long long)c->kept[pp->kept_of[kp->mentee]].match_id);
			continue;
		}
		pp->kept_of[kp->mentee] = k;
		/* Kept pairs are decisions already taken: they may exceed a capacity. */
		if (pp->cap[kp->mentor] > 0)
			pp->cap[kp->mentor]--;
	}
}

static int
prepare(struct policy *pol, struct cohort *c, struct prep *pp, struct diag *d)
{
	pp->cap = calloc((size_t)c->nmentors + 1, sizeof(int));
	pp->kept_of = malloc(((size_t)c->nmentees + 1) * sizeof(int));
	if (!pp->cap || !pp->kept_of)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	if (capacities(pol, c, pp, d) < 0)
		return -1;
	keep_pairs(c, pp);
	return 0;
}

static void
prep_fini(struct prep *pp)
{
	free(pp->cap);
	free(pp->kept_of);
}

/* Fills res from kept pairs plus the solver's row_to_col and per-pair scores. */
static int
collect(struct cohort *c, const struct prep *pp, const int *row_to_col, const double *builtin,
	const double *lua, struct solve_result *res, struct diag *d)
{
	int nr = c->nmentees;
	res->pairs = malloc(((size_t)nr + 1) * sizeof(struct solve_pair));
	res->unmatched = malloc(((size_t)nr + 1) * sizeof(int));
	if (!res->pairs || !res->unmatched)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	res->total = 0;
	for (int r = 0; r < nr; r++) {
		struct solve_pair p = {.mentor = -1, .mentee = r};
		if (pp->kept_of[r] >= 0) {
			p.mentor = c->kept[pp->kept_of[r]].mentor;
			p.kept = 1;
		} else if (row_to_col && row_to_col[r] >= 0) {
			p.mentor = row_to_col[r];
		}
		if (p.mentor < 0) {
			res->unmatched[res->nunmatched++] = r;
			continue;
		}
		p.builtin = builtin[r];
		p.lua = lua ? lua[r] : 0;
		p.score = p.builtin + p.lua;
		res->total += p.score;
		res->pairs[res->npairs++] = p;
	}
	return 0;
}

/* Scores of the kept pairs (they may lie outside any candidate list). */
static int
kept_scores(struct policy *pol, struct cohort *c, const struct prep *pp, double *builtin,
	    double *lua, struct diag *d)
{
	int n = 0;
	int *ms = calloc((size_t)c->nkept + 1, sizeof(int));
	int *rs = calloc((size_t)c->nkept + 1, sizeof(int));
	double *out = malloc(((size_t)c->nkept + 1) * sizeof(double));
	if (!ms || !rs || !out) {
		free(ms);
		free(rs);
		free(out);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int r = 0; r < c->nmentees; r++) {
		if (pp->kept_of[r] < 0)
			continue;
		ms[n] = c->kept[pp->kept_of[r]].mentor;
		rs[n++] = r;
	}
	int rc = score_pairs(pol, c, ms, rs, n, out, d);
	for (int k = 0; rc == 0 && k < n; k++) {
		builtin[rs[k]] = feat_score(c->snap, &pol->rules, ms[k], rs[k]);
		lua[rs[k]] = out[k];
	}
	free(ms);
	free(rs);
	free(out);
	return rc;
}

/*
 * The dense problem. score[] holds the built-in score of every pair, then the
 * total once the Lua scores are added; the Lua outputs come back compact (one
 * double per allowed pair, in row-major order), which touches a quarter of the
 * pages a full matrix would in a typical cohort. score[] itself comes from
 * score_out_new although only this process writes it: fork() write-protects
 * every private page of the parent, and adding the Lua scores into a private
 * matrix afterwards took one page fault per 4 KiB (a third of the Lua stage at
 * 2,000 x 2,000); shared pages are not write-protected.
 */
struct dense {
	double *score, *pm, *pe; /* pm/pe: stable preferences, dense */
	uint8_t *mask;
	size_t cells;
};

static void
dense_fini(struct dense *dn)
{
	score_out_delete(dn->score, dn->cells);
	free(dn->pm);
	free(dn->pe);
	free(dn->mask);
}

/* Adds (add != 0) or copies the compact outputs into their dense places. */
static void
scatter(const struct dense *dn, const double *compact, double *dst, int add)
{
	size_t k = 0;
	for (size_t i = 0; i < dn->cells; i++) {
		if (dn->mask[i])
			continue;
		if (add)
			dst[i] += compact[k++];
		else
			dst[i] = compact[k++];
	}
}

/* The min and max of the n scores whose mask is 0 (mask NULL: all of them). */
static void
score_range(const double *score, const uint8_t *mask, size_t n, struct solve_result *res)
{
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (mask && mask[i] != 0)
			continue;
		if (!any || score[i] < res->score_min)
			res->score_min = score[i];
		if (!any || score[i] > res->score_max)
			res->score_max = score[i];
		any = 1;
	}
}

/* Steps 2 and 3, dense: the verdict and built-in score of every pair. */
static int
dense_features(struct policy *pol, struct cohort *c, const struct prep *pp, struct dense *dn,
	       struct solve_result *res, struct diag *d)
{
	int nr = c->nmentees, nc = c->nmentors;
	dn->cells = (size_t)nr * nc;
	size_t cells = dn->cells ? dn->cells : 1;
	dn->score = score_out_new(dn->cells, d);
	if (dn->score == NULL)
		return -1;
	dn->mask = malloc(cells);
	if (!dn->mask)
		return diag_set(d, DIAG_NOMEM, "out of memory for %d x %d scores", nr, nc);
	double t0 = now_secs();
	for (int r = 0; r < nr; r++) {
		uint8_t *row = dn->mask + (size_t)r * nc;
		feat_score_row(c->snap, &pol->rules, r, dn->score + (size_t)r * nc, row);
		if (pp->kept_of[r] >= 0)
			memset(row, FV_COUNT,
			       (size_t)nc); /* decided already: not part of the solve */
		for (int k = 0; k < nc; k++)
			res->allowed += row[k] == 0;
		report_row(pp, r, nr);
	}
	res->secs_features = now_secs() - t0;
	return 0;
}

/* Places the hooks' compact outputs: Lua scores onto the totals, then the preferences. */
static int
dense_place(const struct policy *pol, struct dense *dn, const struct score_batch *b, struct diag *d)
{
	size_t cells = dn->cells ? dn->cells : 1;
	if (b->out[SCORE_SCORE])
		scatter(dn, b->out[SCORE_SCORE], dn->score, 1);
	if (pol->method != POLICY_STABLE)
		return 0;
	/* Preferences default to the total score: copied after the Lua scores are in. */
	dn->pm = malloc(cells * sizeof(double));
	dn->pe = malloc(cells * sizeof(double));
	if (!dn->pm || !dn->pe)
		return diag_set(d, DIAG_NOMEM, "out of memory for preferences");
	memcpy(dn->pm, dn->score, cells * sizeof(double));
	memcpy(dn->pe, dn->score, cells * sizeof(double));
	if (b->out[SCORE_PREFER_MENTOR])
		scatter(dn, b->out[SCORE_PREFER_MENTOR], dn->pm, 0);
	if (b->out[SCORE_PREFER_MENTEE])
		scatter(dn, b->out[SCORE_PREFER_MENTEE], dn->pe, 0);
	return 0;
}

/* Step 4, dense: the pair hooks over every allowed pair, in one batch. */
static int
dense_lua(struct policy *pol, struct cohort *c, struct dense *dn, struct solve_result *res,
	  struct diag *d)
{
	double t0 = now_secs();
	int stable = pol->method == POLICY_STABLE;
	int want[SCORE_NHOOKS] = {pol->has_score, 0, stable && pol->has_prefer_mentor,
				  stable && pol->has_prefer_mentee};
	size_t n = (size_t)res->allowed + 1;
	struct score_batch b = {
	    .mask = dn->mask, .nr = c->nmentees, .nc = c->nmentors, .npairs = res->allowed};
	int rc = 0;
	for (int h = 0; rc == 0 && h < SCORE_NHOOKS; h++)
		if (want[h] && res->allowed > 0 && (b.out[h] = score_out_new(n, d)) == NULL)
			rc = -1;
	if (rc == 0)
		rc = score_run(pol, c, &b, d);
	if (rc == 0)
		rc = dense_place(pol, dn, &b, d);
	if (rc == 0)
		res->lua_calls = pol->has_score ? res->allowed : 0;
	for (int h = 0; h < SCORE_NHOOKS; h++)
		score_out_delete(b.out[h], n);
	res->secs_lua = now_secs() - t0;
	return rc;
}

/* Step 5, stable: preference lists from the dense preferences, mentees proposing. */
static int
dense_stable(const struct match_dense *m, const struct dense *dn, const struct prep *pp,
	     struct match_result *mr, struct diag *d)
{
	struct match_prefs rows = {0}, cols = {0};
	struct match_dense me = *m, mo = *m;
	me.scores = dn->pe;
	mo.scores = dn->pm;
	if (match_prefs_from_scores(&me, 1, 1, &rows, d) < 0)
		return -1;
	if (match_prefs_from_scores(&mo, 0, 1, &cols, d) < 0) {
		match_prefs_fini(&rows);
		return -1;
	}
	struct match_stable_input in = {.nr = m->nr,
					.nc = m->nc,
					.rows = rows,
					.cols = cols,
					.capacity = pp->cap,
					.cols_propose = 0};
	int rc = match_stable(&in, mr, d);
	match_prefs_fini(&rows);
	match_prefs_fini(&cols);
	return rc;
}

/* Step 5, dense: match_assign (optimal) or match_stable. */
static int
dense_assign(struct policy *pol, struct cohort *c, const struct prep *pp, const struct dense *dn,
	     struct match_result *mr, struct solve_result *res, struct diag *d)
{
	double t0 = now_secs();
	struct match_dense m = {.nr = c->nmentees,
				.nc = c->nmentors,
				.dtype = MATCH_F64,
				.scores = dn->score,
				.forbidden = dn->mask};
	int rc;
	if (pol->method == POLICY_OPTIMAL) {
		struct match_opts o = {.maximize = 1, .capacity = pp->cap};
		rc = match_assign(&m, &o, mr, d);
	} else {
		rc = dense_stable(&m, dn, pp, mr, d);
	}
	res->secs_solve = now_secs() - t0;
	return rc;
}

/* The built-in and Lua parts of each chosen pair: the matrix holds the total. */
static void
dense_pick(struct policy *pol, struct cohort *c, const struct dense *dn,
	   const struct match_result *mr, double *pb, double *pl)
{
	int nc = c->nmentors;
	for (int r = 0; r < c->nmentees; r++) {
		int col = mr->row_to_col ? mr->row_to_col[r] : -1;
		if (col >= 0) {
			pb[r] = feat_score(c->snap, &pol->rules, col, r);
			pl[r] = pol->has_score ? dn->score[(size_t)r * nc + col] - pb[r] : 0;
		}
	}
}

static int
solve_dense(struct policy *pol, struct cohort *c, const struct prep *pp, struct solve_result *res,
	    struct diag *d)
{
	int nr = c->nmentees;
	struct dense dn = {0};
	struct match_result mr = {0};
	double *pb = NULL, *pl = NULL;
	int rc = -1;
	if (dense_features(pol, c, pp, &dn, res, d) < 0)
		goto out;
	long nlua = pol->has_score ? (long)res->allowed : 0;
	if (nlua > 0)
		report(pp, PH_LUA, 0, nlua);
	if (dense_lua(pol, c, &dn, res, d) < 0)
		goto out;
	if (nlua > 0)
		report(pp, PH_LUA, nlua, nlua);
	if (nr > 0)
		report(pp, PH_SOLVE, 0, nr);
	score_range(dn.score, dn.mask, dn.cells, res);
	if (dense_assign(pol, c, pp, &dn, &mr, res, d) < 0)
		goto out;
	if (nr > 0)
		report(pp, PH_SOLVE, nr, nr);
	pb = calloc((size_t)nr + 1, sizeof(double));
	pl = calloc((size_t)nr + 1, sizeof(double));
	if (!pb || !pl) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	dense_pick(pol, c, &dn, &mr, pb, pl);
	if (kept_scores(pol, c, pp, pb, pl, d) < 0)
		goto out;
	rc = collect(c, pp, mr.row_to_col, pb, pl, res, d);
out:
	free(pb);
	free(pl);
	match_result_fini(&mr);
	dense_fini(&dn);
	return rc;
}

/* A bounded min-heap of (score, col): keeps the K best columns of a row. */
struct cand {
	double s;
	int col;
};

static int
worse(const struct cand *a, const struct cand *b)
{
	return a->s < b->s || (a->s == b->s && a->col > b->col);
}

static void
heap_push(struct cand *h, int *n, int k, struct cand x)
{
	if (*n < k) {
		int i = (*n)++;
		h[i] = x;
		while (i > 0 && worse(&h[i], &h[(i - 1) / 2])) {
			struct cand t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (!worse(&h[0], &x))
		return;
	h[0] = x;
	int i = 0;
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && worse(&h[l], &h[m]))
			m = l;
		if (r < *n && worse(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		struct cand t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int
cmp_cand_col(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->col - y->col;
}

/*
 * The sparse problem: the K best mentors of each mentee by built-in score, in
 * CSR form (row r's candidates are ptr[r]..ptr[r+1], by column). lua[] holds
 * the score hook's value per candidate (NULL when the policy has none).
 */
struct sparse {
	int k;
	int64_t *ptr;
	int32_t *cols;
	int *rows;	      /* the row of each candidate (the hook's batch) */
	double *bscore, *lua; /* built-in score, Lua score per candidate */
	size_t maxc;	      /* room: nr * k + 1 */
};

static void
sparse_fini(struct sparse *sp)
{
	free(sp->ptr);
	free(sp->cols);
	free(sp->rows);
	free(sp->bscore);
	score_out_delete(sp->lua, sp->maxc);
}

/* Appends row r's candidates: its allowed pairs' best K by built-in score, by column. */
static void
sparse_row(struct policy *pol, struct cohort *c, int r, struct sparse *sp, double *rowbuf,
	   uint8_t *verd, struct cand *heap, struct solve_result *res)
{
	int n = 0;
	feat_score_row(c->snap, &pol->rules, r, rowbuf, verd);
	for (int col = 0; col < c->nmentors; col++) {
		if (verd[col] != 0)
			continue;
		res->allowed++;
		heap_push(heap, &n, sp->k, (struct cand){rowbuf[col], col});
	}
	qsort(heap, (size_t)n, sizeof(*heap), cmp_cand_col);
	int64_t base = sp->ptr[r];
	for (int i = 0; i < n; i++) {
		sp->cols[base + i] = heap[i].col;
		sp->rows[base + i] = r;
		sp->bscore[base + i] = heap[i].s;
	}
	sp->ptr[r + 1] = base + n;
}

/* Steps 2 and 3, sparse: the candidate lists (kept mentees get none). */
static int
sparse_candidates(struct policy *pol, struct cohort *c, const struct prep *pp, struct sparse *sp,
		  struct solve_result *res, struct diag *d)
{
	int nr = c->nmentees, nc = c->nmentors;
	sp->maxc = (size_t)nr * sp->k + 1;
	sp->ptr = malloc(((size_t)nr + 1) * sizeof(int64_t));
	sp->cols = malloc(sp->maxc * sizeof(int32_t));
	sp->rows = malloc(sp->maxc * sizeof(int));
	sp->bscore = malloc(sp->maxc * sizeof(double));
	double *rowbuf = malloc(((size_t)nc + 1) * sizeof(double));
	uint8_t *verd = malloc((size_t)nc + 1);
	struct cand *heap = malloc(((size_t)sp->k + 1) * sizeof(struct cand));
	int rc = 0;
	if (!sp->ptr || !sp->cols || !sp->rows || !sp->bscore || !rowbuf || !verd || !heap) {
		rc = diag_set(d, DIAG_NOMEM, "out of memory for candidate lists");
	} else {
		double t0 = now_secs();
		sp->ptr[0] = 0;
		for (int r = 0; r < nr; r++) {
			if (pp->kept_of[r] < 0)
				sparse_row(pol, c, r, sp, rowbuf, verd, heap, res);
			else
				sp->ptr[r + 1] = sp->ptr[r];
			report_row(pp, r, nr);
		}
		res->secs_features = now_secs() - t0;
	}
	free(rowbuf);
	free(verd);
	free(heap);
	return rc;
}

/* Step 4, sparse: the score hook over every candidate, in one batch. */
static int
sparse_lua(struct policy *pol, struct cohort *c, struct sparse *sp, struct solve_result *res,
	   struct diag *d)
{
	double t0 = now_secs();
	int64_t ncand = sp->ptr[c->nmentees];
	int rc = 0;
	if (pol->has_score && ncand > 0) {
		int *icols = malloc((size_t)ncand * sizeof(int));
		if ((sp->lua = score_out_new(sp->maxc, d)) == NULL)
			rc = -1;
		else if (icols == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
		for (int64_t i = 0; rc == 0 && i < ncand; i++)
			icols[i] = sp->cols[i];
		struct score_batch b = {.rows = sp->rows, .cols = icols, .npairs = ncand};
		b.out[SCORE_SCORE] = sp->lua;
		if (rc == 0)
			rc = score_run(pol, c, &b, d);
		free(icols);
		if (rc == 0)
			res->lua_calls = ncand;
	}
	res->secs_lua = now_secs() - t0;
	return rc;
}

/* Step 5, sparse: match_assign_sparse over the candidates' total scores. */
static int
sparse_assign(const struct cohort *c, const struct prep *pp, const struct sparse *sp,
	      struct match_result *mr, struct solve_result *res, struct diag *d)
{
	double t0 = now_secs();
	int64_t ncand = sp->ptr[c->nmentees];
	double *tscore = malloc(sp->maxc * sizeof(double));
	if (tscore == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory for candidate lists");
	for (int64_t i = 0; i < ncand; i++)
		tscore[i] = sp->bscore[i] + (sp->lua ? sp->lua[i] : 0);
	score_range(tscore, NULL, (size_t)ncand, res);
	struct match_sparse m = {.nr = c->nmentees,
				 .nc = c->nmentors,
				 .row_ptr = sp->ptr,
				 .cols = sp->cols,
				 .scores = tscore};
	struct match_opts o = {.maximize = 1, .capacity = pp->cap};
	int rc = match_assign_sparse(&m, &o, mr, d);
	free(tscore);
	res->secs_solve = now_secs() - t0;
	return rc;
}

/* The built-in and Lua parts of each chosen pair, found in its mentee's list. */
static void
sparse_pick(const struct cohort *c, const struct sparse *sp, const struct match_result *mr,
	    double *pb, double *pl)
{
	for (int r = 0; r < c->nmentees; r++) {
		int col = mr->row_to_col[r];
		for (int64_t i = sp->ptr[r]; col >= 0 && i < sp->ptr[r + 1]; i++) {
			if (sp->cols[i] == col) {
				pb[r] = sp->bscore[i];
				pl[r] = sp->lua ? sp->lua[i] : 0;
			}
		}
	}
}

static int
solve_sparse(struct policy *pol, struct cohort *c, const struct prep *pp, struct solve_result *res,
	     struct diag *d)
{
	int nr = c->nmentees;
	struct sparse sp = {.k = pol->candidates ? pol->candidates : SOLVE_DEFAULT_CANDIDATES};
	if (sp.k > c->nmentors)
		sp.k = c->nmentors;
	res->sparse = 1;
	res->candidates = sp.k;
	struct match_result mr = {0};
	double *pb = NULL, *pl = NULL;
	int rc = -1;
	if (sparse_candidates(pol, c, pp, &sp, res, d) < 0)
		goto out;
	long nlua = pol->has_score ? (long)sp.ptr[nr] : 0;
	if (nlua > 0)
		report(pp, PH_LUA, 0, nlua);
	if (sparse_lua(pol, c, &sp, res, d) < 0)
		goto out;
	if (nlua > 0)
		report(pp, PH_LUA, nlua, nlua);
	if (nr > 0)
		report(pp, PH_SOLVE, 0, nr);
	if (sparse_assign(c, pp, &sp, &mr, res, d) < 0)
		goto out;
	if (nr > 0)
		report(pp, PH_SOLVE, nr, nr);
	pb = calloc((size_t)nr + 1, sizeof(double));
	pl = calloc((size_t)nr + 1, sizeof(double));
	if (!pb || !pl) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	sparse_pick(c, &sp, &mr, pb, pl);
	if (kept_scores(pol, c, pp, pb, pl, d) < 0)
		goto out;
	rc = collect(c, pp, mr.row_to_col, pb, pl, res, d);
out:
	free(pb);
	free(pl);
	sparse_fini(&sp);
	match_result_fini(&mr);
	return rc;
}

int
solve_cohort(struct policy *pol, struct cohort *c, struct solve_result *res, struct diag *d)
{
	return solve_cohort_progress(pol, c, res, NULL, d);
}

int
solve_cohort_progress(struct policy *pol, struct cohort *c, struct solve_result *res,
		      const struct solve_progress *pr, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	if (c->snap == NULL)
		return diag_set(d, DIAG_INTERNAL, "solve_cohort: cohort not finished");
	struct prep pp = {.pr = pr};
	int rc = prepare(pol, c, &pp, d);
	if (rc == 0) {
		int64_t cells = (int64_t)c->nmentees * c->nmentors;
		int sparse = pol->method == POLICY_OPTIMAL &&
			     (pol->candidates > 0 || cells > SOLVE_DENSE_MAX);
		if (pol->method == POLICY_STABLE && cells > SOLVE_DENSE_MAX)
			rc = diag_set(d, DIAG_INVALID,
				      "method \"stable\" needs the full preference matrix: %d x %d "
				      "pairs is above the limit of %lld",
				      c->nmentees, c->nmentors, (long long)SOLVE_DENSE_MAX);
		else
			rc = sparse ? solve_sparse(pol, c, &pp, res, d)
				    : solve_dense(pol, c, &pp, res, d);
	}
	prep_fini(&pp);
	if (rc < 0)
		solve_result_fini(res);
	return rc;
}

/*
 * sparse: optimal assignment over sparse candidate lists (CSR),
 * match_assign_sparse. See match.h for the shared semantics; callers are the
 * policies (through the plugin host), `tandem solve --sparse` and the benchmark
 * driver. Its certificate is in sparse_certify.c, its engine in
 * sparse_engine.c (shared through sparse_internal.h).
 *
 * Method. Rows propose to columns through the engine (shortest augmenting
 * paths with prices, after an augmenting row reduction; see sparse_engine.c).
 * A row that cannot be matched freezes the columns its search reached: frozen
 * columns and the rows that touch them form the "deficient" part Z
 * (Dulmage-Mendelsohn): in every maximum matching the columns of Z are full
 * with rows of Z, and some rows of Z stay unmatched. Which rows of Z stay
 * unmatched is an optimisation of its own: all Z columns must be filled, rows
 * are optional. We solve it with the same engine transposed (one proposer per
 * free slot of each Z column, rows as unit items), on a transposed copy of the
 * Z candidates only (12 bytes per Z candidate; only built when some row cannot
 * be matched).
 *
 * Costs are c = score (minimize) or -score (maximize), read in place.
 * Memory: O(nr + nc) beyond the caller's arrays in the perfect case.
 */
#include "match/sparse_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- The problem, checked ---------------------------------------------------- */

int
match__sparse_find_arc(const struct match_sparse *m, int r, int c, int64_t *out)
{
	for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++)
		if (m->cols[e] == c) {
			*out = e;
			return 0;
		}
	return -1;
}

/*
 * Structure, duplicates, vetoes (into a bitset), allowed scores finite and
 * within MATCH_SCORE_MAX (match.h says why).
 */
static int
check_sparse(const struct match_sparse *m, const struct match_opts *o, uint8_t **vetoed,
	     struct diag *d)
{
	*vetoed = NULL;
	if (m == NULL || m->nr < 0 || m->nc < 0 || m->row_ptr == NULL)
		return diag_set(d, DIAG_INVALID, "sparse matrix: missing or negative shape");
	if (m->row_ptr[0] < 0)
		return diag_set(d, DIAG_INVALID, "sparse matrix: row_ptr[0] is negative");
	for (int r = 0; r < m->nr; r++)
		if (m->row_ptr[r + 1] < m->row_ptr[r])
			return diag_set(d, DIAG_INVALID,
					"sparse matrix: row_ptr decreases at row %d", r);
	int64_t ne = m->row_ptr[m->nr];
	if (ne > 0 && (m->cols == NULL || m->scores == NULL))
		return diag_set(d, DIAG_INVALID, "sparse matrix: missing cols or scores");
	int *seen = malloc(((size_t)m->nc + 1) * sizeof(int));
	if (seen == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int c = 0; c < m->nc; c++)
		seen[c] = -1;
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (c < 0 || c >= m->nc) {
				free(seen);
				return diag_set(
				    d, DIAG_INVALID,
				    "sparse matrix: row %d lists column %d, outside 0..%d", r, c,
				    m->nc - 1);
			}
			if (seen[c] == r) {
				free(seen);
				return diag_set(d, DIAG_INVALID,
						"sparse matrix: row %d lists column %d twice", r,
						c);
			}
			seen[c] = r;
		}
	free(seen);
	if (o != NULL && o->nvetoed > 0) {
		*vetoed = calloc((size_t)(ne / 8 + 1), 1);
		if (*vetoed == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		for (int k = 0; k < o->nvetoed; k++) {
			struct match_pair v = o->vetoed[k];
			int64_t e;
			if (v.row < 0 || v.row >= m->nr || v.col < 0 || v.col >= m->nc)
				return diag_set(
				    d, DIAG_INVALID,
				    "vetoed pair (%d, %d) is outside the %d x %d matrix", v.row,
				    v.col, m->nr, m->nc);
			if (match__sparse_find_arc(m, v.row, v.col, &e) == 0)
				(*vetoed)[e >> 3] |= (uint8_t)(1u << (e & 7));
		}
	}
	/* NaN fails the comparison too. */
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			double x = m->scores[e];
			if (fabs(x) <= MATCH_SCORE_MAX || arc_vetoed(*vetoed, e))
				continue;
			if (isfinite(x))
				return diag_set(d, DIAG_INVALID,
						"score of row %d, column %d is %g, beyond the largest "
						"magnitude allowed (%g)",
						r, m->cols[e], x, MATCH_SCORE_MAX);
			return diag_set(d, DIAG_INVALID,
					"score of row %d, column %d is not finite (%g)", r, m->cols[e],
					x);
		}
	return 0;
}

/* Pinned pairs: checks them, fills pin_arc and the capacity left per column. */
static int
apply_pins(const struct match_sparse *m, const struct match_opts *o, const uint8_t *vetoed,
	   int64_t *pin_arc, int *cap, struct diag *d)
{
	for (int r = 0; r < m->nr; r++)
		pin_arc[r] = -1;
	for (int c = 0; c < m->nc; c++) {
		cap[c] = (o && o->capacity) ? o->capacity[c] : 1;
		if (cap[c] < 0)
			return diag_set(d, DIAG_INVALID, "capacity of column %d is negative (%d)",
					c, cap[c]);
	}
	for (int k = 0; o != NULL && k < o->npinned; k++) {
		struct match_pair p = o->pinned[k];
		int64_t e;
		if (p.row < 0 || p.row >= m->nr || p.col < 0 || p.col >= m->nc)
			return diag_set(d, DIAG_INVALID,
					"pinned pair (%d, %d) is outside the %d x %d matrix", p.row,
					p.col, m->nr, m->nc);
		if (match__sparse_find_arc(m, p.row, p.col, &e) != 0 ||
		    arc_vetoed(vetoed, e))
			return diag_set(
			    d, DIAG_INVALID,
			    "pinned pair (%d, %d) is forbidden (not a candidate or vetoed)", p.row,
			    p.col);
		if (pin_arc[p.row] >= 0)
			return diag_set(d, DIAG_INVALID, "row %d is pinned twice", p.row);
		if (cap[p.col] == 0)
			return diag_set(d, DIAG_INVALID,
					"column %d is over-filled by pinned pairs (capacity %d)",
					p.col, (o && o->capacity) ? o->capacity[p.col] : 1);
		pin_arc[p.row] = e;
		cap[p.col]--;
	}
	return 0;
}

int
match__sparse_prob_init(struct sparse_prob *p, const struct match_sparse *m,
			const struct match_opts *o, struct diag *d)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->sign = (o && o->maximize) ? -1.0 : 1.0;
	if (check_sparse(m, o, &p->vetoed, d) != 0)
		return -1;
	p->pin_arc = malloc(((size_t)m->nr + 1) * sizeof(int64_t));
	p->cap = malloc(((size_t)m->nc + 1) * sizeof(int));
	if (!p->pin_arc || !p->cap)
		return diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
	return apply_pins(m, o, p->vetoed, p->pin_arc, p->cap, d);
}

void
match__sparse_prob_fini(struct sparse_prob *p)
{
	free(p->vetoed);
	free(p->pin_arc);
	free(p->cap);
	memset(p, 0, sizeof(*p));
}

/* ---- The deficient part, solved transposed --------------------------------- */

/*
 * Z: the rows that failed and the rows holding frozen columns, with the frozen
 * columns. The transposed candidates of Z: column slots propose to Z rows.
 */
struct deficient {
	int nzr, nzc, nslots;
	int *zc;                 /* column -> local Z column, or -1 */
	int *rows;               /* local Z row -> row */
	int *first_slot;         /* local Z column -> its first slot (proposer) */
	int64_t *tptr;           /* local Z column k's candidates: tptr[k] .. tptr[k + 1] */
	int32_t *tadj;           /* ... their local Z rows */
	double *tw;              /* ... their scores */
	int64_t *sbeg, *send;    /* per slot: its column's candidates */
	int *order;              /* the slots, in order */
	struct spe s2;
};

static void
deficient_fini(struct deficient *z)
{
	match__spe_free(&z->s2);
	free(z->zc), free(z->rows), free(z->first_slot);
	free(z->tptr), free(z->tadj), free(z->tw);
	free(z->sbeg), free(z->send), free(z->order);
}

/* Step 1: Z's columns (the frozen ones) and rows (failed, or holding a frozen column). */
static int
deficient_find(struct deficient *z, const struct sparse_prob *p, const struct spe *s1)
{
	const struct match_sparse *m = p->m;
	z->zc = malloc(((size_t)m->nc + 1) * sizeof(int));
	z->rows = malloc(((size_t)m->nr + 1) * sizeof(int));
	if (!z->zc || !z->rows)
		return -1;
	for (int c = 0; c < m->nc; c++)
		z->zc[c] = s1->it[c].frozen ? z->nzc++ : -1;
	z->first_slot = calloc((size_t)z->nzc + 1, sizeof(int));
	if (!z->first_slot)
		return -1;
	for (int r = 0; r < m->nr; r++)
		if (p->pin_arc[r] < 0 && (s1->pm[r] < 0 || s1->it[s1->pm[r]].frozen))
			z->rows[z->nzr++] = r;
	return 0;
}

/*
 * One pass over the usable arcs of Z's rows. Counting (tadj NULL) adds up each
 * Z column's candidates in tptr[k + 2] and checks that no arc leaves Z
 * (-2 with a diag if one does); filling places each arc at tptr[k + 1]++.
 */
static int
transpose_pass(struct deficient *z, const struct sparse_prob *p, struct diag *d)
{
	const struct match_sparse *m = p->m;
	for (int k = 0; k < z->nzr; k++) {
		int r = z->rows[k];
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (p->cap[c] == 0 || arc_vetoed(p->vetoed, e))
				continue;
			if (z->tadj != NULL) {
				int64_t at = z->tptr[z->zc[c] + 1]++;
				z->tadj[at] = k;
				z->tw[at] = m->scores[e];
			} else if (z->zc[c] >= 0) {
				z->tptr[z->zc[c] + 2]++;
			} else {
				diag_set(d, DIAG_INTERNAL,
					 "sparse solver: row %d of the deficient part reaches "
					 "column %d outside it",
					 r, c);
				return -2;
			}
		}
	}
	return 0;
}

/* Step 2: Z's candidates by column (count, then fill); -1 out of memory, -2 (diag) broken Z. */
static int
deficient_transpose(struct deficient *z, const struct sparse_prob *p, struct diag *d)
{
	z->tptr = calloc((size_t)z->nzc + 2, sizeof(int64_t));
	if (!z->tptr)
		return -1;
	if (transpose_pass(z, p, d) != 0)
		return -2;
	for (int k = 0; k < z->nzc; k++)
		z->tptr[k + 2] += z->tptr[k + 1];
	int64_t nze = z->tptr[z->nzc + 1];
	z->tadj = malloc(((size_t)nze + 1) * sizeof(int32_t));
	z->tw = malloc(((size_t)nze + 1) * sizeof(double));
	if (!z->tadj || !z->tw)
		return -1;
	transpose_pass(z, p, d);
	/* Now tptr[k] .. tptr[k+1] are column k's candidates. */
	return 0;
}

/* Step 3: one proposer per slot of each Z column, then the engine on them. */
static int
deficient_solve(struct deficient *z, const struct sparse_prob *p)
{
	const struct match_sparse *m = p->m;
	for (int c = 0; c < m->nc; c++)
		if (z->zc[c] >= 0)
			z->nslots += p->cap[c];
	z->sbeg = malloc(((size_t)z->nslots + 1) * sizeof(int64_t));
	z->send = malloc(((size_t)z->nslots + 1) * sizeof(int64_t));
	z->order = malloc(((size_t)z->nslots + 1) * sizeof(int));
	if (!z->sbeg || !z->send || !z->order)
		return -1;
	int ns = 0;
	for (int c = 0; c < m->nc; c++)
		for (int k = 0; z->zc[c] >= 0 && k < p->cap[c]; k++) {
			z->sbeg[ns] = z->tptr[z->zc[c]];
			z->send[ns] = z->tptr[z->zc[c] + 1];
			z->first_slot[z->zc[c]] = ns - k;
			z->order[ns] = ns;
			ns++;
		}
	struct spe *s2 = &z->s2;
	s2->np = z->nslots;
	s2->nq = z->nzr;
	s2->beg = z->sbeg;
	s2->end = z->send;
	s2->adj = z->tadj;
	s2->w = z->tw;
	s2->sign = p->sign;
	if (match__spe_alloc(s2) != 0 || match__spe_solve(s2, z->order, z->nslots) != 0)
		return -1;
	return 0;
}

/* Step 4: the assignment of Z's rows (each row's arc looked up again) and Z's duals. */
static int
deficient_write(const struct deficient *z, const struct sparse_prob *p, int *row_to_col,
		int64_t *row_arc, double *u, double *v, struct diag *d)
{
	const struct match_sparse *m = p->m;
	const struct spe *s2 = &z->s2;
	/* Slot -> column: walk the columns again in the same order. */
	int ns = 0;
	for (int c = 0; c < m->nc; c++) {
		if (z->zc[c] < 0)
			continue;
		for (int k = 0; k < p->cap[c]; k++, ns++)
			if (s2->pm[ns] < 0)
				return diag_set(
				    d, DIAG_INTERNAL,
				    "sparse solver: column %d of the deficient part is not full", c);
		v[c] = p->cap[c] > 0 ? spe_u(s2, z->first_slot[z->zc[c]]) : 0;
	}
	for (int k = 0; k < z->nzr; k++) {
		int r = z->rows[k];
		row_to_col[r] = -1;
		u[r] = s2->price[k];
	}
	ns = 0;
	for (int c = 0; c < m->nc; c++) {
		if (z->zc[c] < 0)
			continue;
		for (int k = 0; k < p->cap[c]; k++, ns++) {
			int r = z->rows[s2->pm[ns]];
			row_to_col[r] = c;
			/* Recover the row's arc: the transposed copy lost it; look it up. */
			if (match__sparse_find_arc(m, r, c, &row_arc[r]) != 0)
				return diag_set(d, DIAG_INTERNAL, "sparse solver: lost arc (%d, %d)",
						r, c);
		}
	}
	return 0;
}

/*
 * Solves Z after the main run s1 and writes the assignment of Z's rows and the
 * duals of Z's rows and columns.
 */
static int
solve_deficient(const struct sparse_prob *p, const struct spe *s1, int *row_to_col,
		int64_t *row_arc, double *u, double *v, struct diag *d)
{
	struct deficient z;
	memset(&z, 0, sizeof(z));
	int rc = deficient_find(&z, p, s1);
	if (rc == 0)
		rc = deficient_transpose(&z, p, d);
	if (rc == 0)
		rc = deficient_solve(&z, p);
	if (rc == -1)
		diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
	if (rc == 0)
		rc = deficient_write(&z, p, row_to_col, row_arc, u, v, d);
	deficient_fini(&z);
	return rc < 0 ? -1 : 0;
}

/* ---- match_assign_sparse ------------------------------------------------------ */

/* One run of match_assign_sparse: the checked problem, the engine, its outputs. */
struct run {
	struct sparse_prob p;
	int64_t *row_arc; /* per row: the arc of its pair, -1 */
	int *row_to_col;
	int *order;       /* the rows not pinned, in order */
	int norder;
	struct spe s;
};

static void
run_fini(struct run *R)
{
	match__spe_free(&R->s);
	match__sparse_prob_fini(&R->p);
	free(R->row_arc), free(R->row_to_col), free(R->order);
}

/* The problem checked, the arrays allocated, the engine's inputs set. */
static int
run_init(struct run *R, const struct match_sparse *m, const struct match_opts *o,
	 struct diag *d)
{
	memset(R, 0, sizeof(*R));
	if (match__sparse_prob_init(&R->p, m, o, d) != 0)
		return -1;
	int nr = m->nr;
	R->row_arc = malloc(((size_t)nr + 1) * sizeof(int64_t));
	R->row_to_col = malloc(((size_t)nr + 1) * sizeof(int));
	R->order = malloc(((size_t)nr + 1) * sizeof(int));
	if (!R->row_arc || !R->row_to_col || !R->order)
		return diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
	for (int r = 0; r < nr; r++)
		if (R->p.pin_arc[r] < 0)
			R->order[R->norder++] = r;
	struct spe *s = &R->s;
	s->np = nr;
	s->nq = m->nc;
	s->beg = m->row_ptr;
	s->end = m->row_ptr + 1;
	s->adj = m->cols;
	s->w = m->scores;
	s->sign = R->p.sign;
	s->vetoed = R->p.vetoed;
	s->qcap = R->p.cap;
	return 0;
}

/*
 * After a run with column reduction: true if every usable column reachable
 * from some unpinned row is full or frozen. Columns nobody lists get the
 * largest used price, which keeps the common level of free columns.
 */
static int
all_filled(const struct match_sparse *m, struct spe *s, const int64_t *pin_arc)
{
	uint8_t *listed = calloc((size_t)s->nq + 1, 1);
	if (listed == NULL)
		return 0;
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; pin_arc[r] < 0 && e < m->row_ptr[r + 1]; e++)
			if (spe_arc_ok(s, e))
				listed[m->cols[e]] = 1;
	int ok = 1;
	double vmax = 0;
	for (int q = 0; q < s->nq; q++) {
		struct item *x = &s->it[q];
		if (x->cap == 0 || x->frozen)
			continue;
		if (x->cnt < x->cap && listed[q])
			ok = 0;
		if (x->cnt > 0 && s->price[q] > vmax)
			vmax = s->price[q];
	}
	for (int q = 0; q < s->nq; q++)
		if (!listed[q] && s->it[q].cap > 0)
			s->price[q] = vmax;
	free(listed);
	return ok;
}

/* Forgets a run's state but keeps its inputs, without column reduction. */
static void
restart_without_colred(struct spe *s)
{
	match__spe_free(s);
	struct spe fresh = *s;
	memset(s, 0, sizeof(*s));
	s->np = fresh.np, s->nq = fresh.nq, s->beg = fresh.beg, s->end = fresh.end;
	s->adj = fresh.adj, s->w = fresh.w, s->sign = fresh.sign, s->vetoed = fresh.vetoed;
	s->qcap = fresh.qcap;
}

/*
 * Step 1: the engine on every row not pinned. Jonker-Volgenant column
 * reduction pays off a lot but is only correct if every column that has
 * candidates ends up full; when rows outnumber the slots that is likely, so we
 * try it and start again without it if a column with candidates is left with a
 * free slot.
 */
static int
run_engine(struct run *R, struct diag *d)
{
	long slots = 0;
	for (int c = 0; c < R->p.m->nc; c++)
		slots += R->p.cap[c];
	R->s.colred = R->norder >= slots;
	for (;;) {
		if (match__spe_alloc(&R->s) != 0 || match__spe_solve(&R->s, R->order, R->norder) != 0)
			return diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
		if (!R->s.colred || all_filled(R->p.m, &R->s, R->p.pin_arc))
			return 0;
		restart_without_colred(&R->s);
	}
}

/* Step 2: pairs and duals from the engine, then the deficient part when some row failed. */
static int
run_collect(struct run *R, struct match_result *res, struct diag *d)
{
	const struct spe *s = &R->s;
	int nr = R->p.m->nr, nc = R->p.m->nc;
	res->u = malloc(((size_t)nr + 1) * sizeof(double));
	res->v = malloc(((size_t)nc + 1) * sizeof(double));
	if (!res->u || !res->v)
		return diag_set(d, DIAG_NOMEM, "out of memory in the sparse solver");
	int deficient = 0;
	for (int r = 0; r < nr; r++) {
		R->row_to_col[r] = s->pm[r];
		R->row_arc[r] = s->pm[r] >= 0 ? s->pe[r] : -1;
		if (R->p.pin_arc[r] < 0 && s->pm[r] < 0)
			deficient = 1;
	}
	for (int c = 0; c < nc; c++)
		res->v[c] = s->price[c];
	for (int r = 0; r < nr; r++)
		res->u[r] = s->pm[r] >= 0 ? spe_u(s, r) : 0;
	if (deficient)
		return solve_deficient(&R->p, s, R->row_to_col, R->row_arc, res->u, res->v, d);
	return 0;
}

/* Step 3: columns without capacity take no part: the largest feasible price (0 if unbounded). */
static void
price_closed_columns(const struct run *R, struct match_result *res)
{
	const struct match_sparse *m = R->p.m;
	const int *cap = R->p.cap;
	for (int c = 0; c < m->nc; c++)
		if (cap[c] == 0)
			res->v[c] = INFINITY;
	for (int r = 0; r < m->nr; r++)
		for (int64_t e = m->row_ptr[r]; e < m->row_ptr[r + 1]; e++) {
			int c = m->cols[e];
			if (cap[c] == 0 && R->p.pin_arc[r] < 0 && spe_arc_ok(&R->s, e)) {
				double x = R->p.sign * m->scores[e] - res->u[r];
				if (x < res->v[c])
					res->v[c] = x;
			}
		}
	for (int c = 0; c < m->nc; c++)
		if (isinf(res->v[c]))
			res->v[c] = 0;
}

/* Step 4: pinned rows, matched by decree, their arc made tight. */
static void
apply_pinned(struct run *R, struct match_result *res)
{
	const struct match_sparse *m = R->p.m;
	for (int r = 0; r < m->nr; r++)
		if (R->p.pin_arc[r] >= 0) {
			int64_t e = R->p.pin_arc[r];
			int c = m->cols[e];
			R->row_to_col[r] = c;
			R->row_arc[r] = e;
			res->u[r] = R->p.sign * m->scores[e] - res->v[c];
		}
}

/* Step 5: the pairs, the unmatched rows and the total in res. */
static int
fill_result(const struct match_sparse *m, const int *row_to_col, const int64_t *row_arc,
	    struct match_result *res, struct diag *d)
{
	res->nr = m->nr;
	res->nc = m->nc;
	res->row_to_col = malloc(((size_t)m->nr + 1) * sizeof(int));
	res->unmatched_rows = malloc(((size_t)m->nr + 1) * sizeof(int));
	if (!res->row_to_col || !res->unmatched_rows)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	double total = 0;
	for (int r = 0; r < m->nr; r++) {
		res->row_to_col[r] = row_to_col[r];
		if (row_to_col[r] >= 0) {
			res->npairs++;
			total += m->scores[row_arc[r]];
		} else {
			res->unmatched_rows[res->nunmatched++] = r;
		}
	}
	res->total = total;
	return 0;
}

int
match_assign_sparse(const struct match_sparse *m, const struct match_opts *o,
		    struct match_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	struct run R;
	int rc = -1;
	if (run_init(&R, m, o, d) != 0 || run_engine(&R, d) != 0 || run_collect(&R, res, d) != 0)
		goto out;
	price_closed_columns(&R, res);
	apply_pinned(&R, res);
	rc = fill_result(m, R.row_to_col, R.row_arc, res, d);
out:
	run_fini(&R);
	if (rc != 0)
		match_result_fini(res);
	return rc;
}

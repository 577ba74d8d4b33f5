/*
 * matrix: score matrices from files for the matching primitive. See matrix.h
 * for the contract. The CSV reader is io/csv.c; each cell is one number or
 * empty (forbidden), rows must all have the first row's length.
 */
#include "io/matrix.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/vec.h"
#include "io/csv.h"

void
matrix_fini(struct matrix *m)
{
	npy_close(&m->npy);
	free(m->forbidden);
	free(m->owned);
	memset(m, 0, sizeof(*m));
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* One cell: a finite number, or empty (forbidden, *forb = 1). -1 with a diag otherwise. */
static int
parse_cell(const char *path, int line, int col, const char *text, double *x, int *forb,
	   struct diag *d)
{
	const char *s = text;
	while (*s == ' ' || *s == '\t')
		s++;
	*x = 0;
	*forb = *s == '\0';
	if (*forb)
		return 0;
	char *end;
	*x = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == s || *end != '\0' || !isfinite(*x))
		return diag_set(d, DIAG_INVALID, "%s:%d:%d: not a finite number: '%s'", path, line,
				col, text);
	return 0;
}

/* The cells read so far, row after row, and whether any was empty. */
struct cells {
	struct vec vals;  /* double */
	struct vec forb;  /* uint8_t, 1 = forbidden */
	int anyforb;
};

/* Appends one record's cells; every record must have nc of them. */
static int
read_row(const char *path, const struct csv_record *rec, int nc, struct cells *c,
	 struct diag *d)
{
	if (rec->nfields != nc)
		return diag_set(d, DIAG_INVALID, "%s:%d:%d: row has %d value%s, the first row has %d",
				path, rec->line, rec->nfields < nc ? rec->nfields + 1 : nc + 1,
				rec->nfields, rec->nfields == 1 ? "" : "s", nc);
	for (int k = 0; k < rec->nfields; k++) {
		double x;
		int forb;
		if (parse_cell(path, rec->line, k + 1, rec->fields[k].s, &x, &forb, d) != 0)
			return -1;
		uint8_t f = (uint8_t)forb;
		c->anyforb |= forb;
		if (vec_push(&c->vals, &x, d) != 0 || vec_push(&c->forb, &f, d) != 0)
			return -1;
	}
	return 0;
}

static int
read_csv(const char *path, struct matrix *m, struct diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return diag_set(d, DIAG_IO, "%s: cannot open: %s", path, strerror(errno));
	struct csv_reader *r = csv_reader_new_file(fp, path, d);
	if (r == NULL) {
		fclose(fp);
		return -1;
	}
	struct cells c = {.anyforb = 0};
	vec_init(&c.vals, sizeof(double));
	vec_init(&c.forb, sizeof(uint8_t));
	int nr = 0, nc = -1, rc;
	struct csv_record rec;
	while ((rc = csv_read(r, &rec, d)) == 1) {
		if (nc < 0)
			nc = rec.nfields;
		if ((rc = read_row(path, &rec, nc, &c, d)) != 0)
			break;
		nr++;
	}
	csv_reader_delete(r);
	fclose(fp);
	if (rc >= 0 && nr == 0)
		rc = diag_set(d, DIAG_INVALID, "%s: no rows: the file holds no matrix", path);
	if (rc < 0) {
		vec_fini(&c.vals);
		vec_fini(&c.forb);
		return -1;
	}
	m->nr = nr;
	m->nc = nc < 0 ? 0 : nc;
	m->dtype = MATCH_F64;
	m->owned = vec_release(&c.vals);
	m->data = m->owned;
	m->forbidden = c.anyforb ? vec_release(&c.forb) : NULL;
	vec_fini(&c.forb);
	return 0;
}

int
matrix_read(const char *path, struct matrix *m, struct diag *d)
{
	memset(m, 0, sizeof(*m));
	if (ends_with(path, ".npy")) {
		if (npy_open(path, &m->npy, d) != 0)
			return -1;
		m->nr = m->npy.nr;
		m->nc = m->npy.nc;
		m->dtype = m->npy.dtype;
		m->data = m->npy.data;
		return 0;
	}
	if (ends_with(path, ".csv") || ends_with(path, ".txt"))
		return read_csv(path, m, d);
	return diag_set(d, DIAG_INVALID, "%s: unknown file type (expected .npy or .csv)", path);
}

/* One integer per column: whitespace, commas or newlines between them. */
int
matrix_read_capacities(const char *path, int nc, int **out, struct diag *d)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return diag_set(d, DIAG_IO, "%s: cannot open: %s", path, strerror(errno));
	int *cap = malloc(((size_t)nc + 1) * sizeof(int));
	if (cap == NULL) {
		fclose(f);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int n = 0, line = 1, c, longtok = 0;
	char tok[64];
	size_t tl = 0;
	int rc = 0;
	do {
		c = fgetc(f);
		if (c != EOF && c != ',' && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			if (tl + 1 < sizeof(tok))
				tok[tl++] = (char)c;
			else
				longtok = 1;
			continue;
		}
		if (tl > 0) {
			tok[tl] = '\0';
			char *end;
			long v = strtol(tok, &end, 10);
			if (*end != '\0' || v < 0 || v > 1000000000 || longtok) {
				rc = diag_set(d, DIAG_INVALID,
					      "%s:%d: bad capacity '%s' (a whole number >= 0)",
					      path, line, tok);
				break;
			}
			if (n >= nc) {
				rc = diag_set(d, DIAG_INVALID,
					      "%s: more capacities than the %d columns", path, nc);
				break;
			}
			cap[n++] = (int)v;
			tl = 0;
		}
		if (c == '\n')
			line++;
	} while (c != EOF);
	fclose(f);
	if (rc == 0 && n != nc)
		rc = diag_set(d, DIAG_INVALID, "%s: %d capacities for %d columns", path, n, nc);
	if (rc != 0) {
		free(cap);
		return -1;
	}
	*out = cap;
	return 0;
}

/* Dense matrix to candidate lists: every allowed entry is a candidate. */
int
matrix_to_sparse(const struct matrix *m, struct match_sparse *s, struct diag *d)
{
	size_t total = (size_t)m->nr * (size_t)m->nc;
	int64_t *rp = malloc(((size_t)m->nr + 1) * sizeof(int64_t));
	int32_t *cols = malloc((total + 1) * sizeof(int32_t));
	double *sc = malloc((total + 1) * sizeof(double));
	if (!rp || !cols || !sc) {
		free(rp), free(cols), free(sc);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int64_t e = 0;
	for (int r = 0; r < m->nr; r++) {
		rp[r] = e;
		for (int c = 0; c < m->nc; c++) {
			size_t k = (size_t)r * m->nc + c;
			if (m->forbidden && m->forbidden[k])
				continue;
			cols[e] = c;
			sc[e++] = match_score_at(m->dtype, m->data, k);
		}
	}
	rp[m->nr] = e;
	*s = (struct match_sparse){m->nr, m->nc, rp, cols, sc};
	return 0;
}

struct match_dense
matrix_dense(const struct matrix *m)
{
	return (struct match_dense){m->nr, m->nc, m->dtype, m->data, m->forbidden};
}

void
matrix_sparse_fini(struct match_sparse *s)
{
	free((void *)s->row_ptr);
	free((void *)s->cols);
	free((void *)s->scores);
	memset(s, 0, sizeof(*s));
}

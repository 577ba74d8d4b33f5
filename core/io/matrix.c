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

/* Appends one value, growing the buffer. */
static int
push(double **v, uint8_t **f, size_t *n, size_t *cap, double x, int forb)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		double *nv = realloc(*v, nc * sizeof(double));
		if (nv == NULL)
			return -1;
		*v = nv;
		uint8_t *nf = realloc(*f, nc);
		if (nf == NULL)
			return -1;
		*f = nf;
		*cap = nc;
	}
	(*v)[*n] = x;
	(*f)[(*n)++] = (uint8_t)forb;
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
	double *v = NULL;
	uint8_t *f = NULL;
	size_t n = 0, cap = 0;
	int nr = 0, nc = -1, rc = 0, anyforb = 0;
	struct csv_record rec;
	while ((rc = csv_read(r, &rec, d)) == 1) {
		if (nc < 0)
			nc = rec.nfields;
		if (rec.nfields != nc) {
			rc = diag_set(d, DIAG_INVALID,
				      "%s:%d:%d: row has %d value%s, the first row has %d", path,
				      rec.line, rec.nfields < nc ? rec.nfields + 1 : nc + 1,
				      rec.nfields, rec.nfields == 1 ? "" : "s", nc);
			break;
		}
		for (int k = 0; k < rec.nfields && rc >= 0; k++) {
			const char *s = rec.fields[k].s;
			while (*s == ' ' || *s == '\t')
				s++;
			double x = 0;
			int forb = *s == '\0';
			if (!forb) {
				char *end;
				x = strtod(s, &end);
				while (*end == ' ' || *end == '\t')
					end++;
				if (end == s || *end != '\0' || !isfinite(x))
					rc = diag_set(d, DIAG_INVALID,
						      "%s:%d:%d: not a finite number: '%s'", path,
						      rec.line, k + 1, rec.fields[k].s);
			}
			anyforb |= forb;
			if (rc >= 0 && push(&v, &f, &n, &cap, x, forb) != 0)
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
		}
		if (rc < 0)
			break;
		nr++;
	}
	csv_reader_delete(r);
	fclose(fp);
	if (rc >= 0 && nr == 0)
		rc = diag_set(d, DIAG_INVALID, "%s: no rows: the file holds no matrix", path);
	if (rc < 0) {
		free(v);
		free(f);
		return -1;
	}
	m->nr = nr;
	m->nc = nc < 0 ? 0 : nc;
	m->dtype = MATCH_F64;
	m->owned = v;
	m->data = v;
	if (anyforb)
		m->forbidden = f;
	else
		free(f);
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

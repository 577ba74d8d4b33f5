/*
 * matrix: a score matrix read from a file, for the matching primitive: a .npy
 * (mapped, never copied) or a CSV of numbers without header where an empty
 * cell forbids the pair; a capacities file (one whole number per column); the
 * candidate lists (CSR) of a dense matrix.
 *
 * Callers: `tandem solve` (core/cli/cmd_solve.c), the unit tests.
 *
 * Contract: every function returns 0 or -1 with a diag that names the file
 * and, for text, the line and column ("m.csv:3:2: not a finite number: 'x'").
 * A struct matrix is released with matrix_fini, also after a failed read.
 */
#ifndef TANDEM_MATRIX_H
#define TANDEM_MATRIX_H

#include <stdint.h>

#include "base/diag.h"
#include "io/npy.h"
#include "match/match.h"

struct matrix {
	int nr, nc;
	enum match_dtype dtype;
	const void *data;   /* nr * nc scores, row-major */
	uint8_t *forbidden; /* CSV only; NULL when no cell is empty */
	double *owned;      /* CSV values */
	struct npy_array npy;
};

/* Reads path by its extension: .npy, or .csv / .txt (float64 scores). */
int matrix_read(const char *path, struct matrix *m, struct diag *d);
void matrix_fini(struct matrix *m);

/* The matrix as the dense solvers take it (pointing into m). */
struct match_dense matrix_dense(const struct matrix *m);

/* nc capacities, whole numbers from 0 to 1e9 separated by spaces, commas or lines; *out is malloc'd. */
int matrix_read_capacities(const char *path, int nc, int **out, struct diag *d);

/* Every allowed entry of m as a candidate; free the lists with matrix_sparse_fini. */
int matrix_to_sparse(const struct matrix *m, struct match_sparse *s, struct diag *d);
void matrix_sparse_fini(struct match_sparse *s);

#endif

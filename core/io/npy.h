/*
 * npy: reading and writing NumPy .npy files holding one 2-D matrix, so that
 * `tandem solve`, the benchmarks and embedders can hand large score matrices to
 * the matching solvers without parsing text.
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0, C order only, little-endian
 * (or byte-order-free) dtypes '<f8', '<f4', '<i2', '<i4' ('=' and '|' are taken as
 * native, i.e. little-endian on the machines we support). The data is mapped
 * read-only with mmap, never copied (except when the file's data offset is not
 * aligned for the element type, which numpy never writes). Every malformed input
 * gives a DIAG_INVALID naming the file and the problem; nothing crashes.
 *
 * Callers: io/matrix.c (for `tandem solve`), tests/bench/bench_match.c, the unit tests.
 */
#ifndef TANDEM_NPY_H
#define TANDEM_NPY_H

#include <stddef.h>

#include "base/diag.h"
#include "match/match.h"

struct npy_array {
	int nr, nc;		/* shape (nr, nc) */
	enum match_dtype dtype; /* element type */
	const void *data;	/* nr * nc elements, row-major; NULL when empty */
	size_t nbytes;		/* nr * nc * element size */
	/* private */
	void *map_;
	size_t map_len_;
	void *copy_;
};

/* The .npy descr string of dtype ("<f8", ...). */
const char *npy_dtype_descr(enum match_dtype dtype);

/*
 * Opens path and maps its matrix. On success fills *arr (release with
 * npy_close) and returns 0; on failure returns -1, leaves *arr empty and
 * sets d to "PATH: problem".
 */
int npy_open(const char *path, struct npy_array *arr, struct diag *d);

/* Unmaps and clears arr; safe on a zeroed or already closed array. */
void npy_close(struct npy_array *arr);

/*
 * Parses an in-memory .npy image (used by npy_open and by the fuzz test).
 * On success arr's shape, dtype, data (pointing into buf) and nbytes are set;
 * nothing is mapped or allocated. name is used in messages.
 */
int npy_parse(const char *name, const unsigned char *buf, size_t len, struct npy_array *arr,
	      struct diag *d);

/* Writes a C-order nr x nc matrix of dtype as a version 1.0 .npy file. */
int npy_write(const char *path, int nr, int nc, enum match_dtype dtype, const void *data,
	      struct diag *d);

#endif

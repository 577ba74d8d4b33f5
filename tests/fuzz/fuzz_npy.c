/*
 * fuzz_npy: the .npy reader (io/npy.h) on arbitrary bytes.
 *
 *  - npy_parse on the input: success or a DIAG_INVALID naming the file. On success the
 *    shape is non-negative, nbytes is nr * nc * the element size, the data lies inside the
 *    input (its bytes are copied out, so ASan sees any overrun) and is NULL exactly when
 *    empty. (It may be misaligned for its type: npy_parse leaves that to its caller.)
 *  - npy_open on the same bytes written to a file (mmap, plus the copy made when the data is
 *    not aligned): the same verdict and message, the same matrix, aligned for its type and
 *    read element by element.
 *  - a matrix read is written back with npy_write and opened again: the same matrix.
 */
#include "fuzz.h"

#include "io/npy.h"

/* Reads every element, so that ASan checks the whole data range. */
static double
touch(const struct npy_array *a)
{
	double sum = 0;
	size_t n = (size_t)a->nr * (size_t)a->nc;
	for (size_t k = 0; k < n; k++)
		sum += match_score_at(a->dtype, a->data, k);
	return sum;
}

static void
check_same(const struct npy_array *a, const struct npy_array *b)
{
	FUZZ_CHECK(a->nr == b->nr && a->nc == b->nc && a->dtype == b->dtype);
	FUZZ_CHECK(a->nbytes == b->nbytes);
	FUZZ_CHECK((a->data == NULL) == (b->data == NULL));
	FUZZ_CHECK(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("in.npy", data, size);
	struct npy_array a;
	struct diag d;
	diag_clear(&d);
	int rc = npy_parse(path, data, size, &a, &d);
	volatile double sink;
	if (rc == 0) {
		FUZZ_CHECK(a.nr >= 0 && a.nc >= 0);
		FUZZ_CHECK(a.nbytes == (size_t)a.nr * (size_t)a.nc * match_dtype_size(a.dtype));
		FUZZ_CHECK((a.data == NULL) == (a.nbytes == 0));
		if (a.data != NULL)
			FUZZ_CHECK((const uint8_t *)a.data >= data + 10 &&
				   (const uint8_t *)a.data + a.nbytes <= data + size);
		void *copy = malloc(a.nbytes + 1);
		FUZZ_CHECK(copy != NULL);
		if (a.nbytes)
			memcpy(copy, a.data, a.nbytes);
		free(copy);
	} else {
		FUZZ_CHECK(rc == -1 && d.code == DIAG_INVALID);
		FUZZ_CHECK(strncmp(d.msg, path, strlen(path)) == 0);
	}

	/* Through a file: the same verdict. */
	struct npy_array b;
	struct diag e;
	diag_clear(&e);
	int rcf = npy_open(path, &b, &e);
	FUZZ_CHECK(rcf == rc);
	if (rc == 0) {
		check_same(&a, &b);
		FUZZ_CHECK((uintptr_t)b.data % match_dtype_size(b.dtype) == 0);
		sink = touch(&b);
	} else if (size > 0) {
		FUZZ_CHECK(strcmp(d.msg, e.msg) == 0);
	}

	/* Written back and read again: the same matrix. */
	if (rc == 0) {
		const char *out = fuzz_path("out.npy");
		char outpath[512];
		snprintf(outpath, sizeof(outpath), "%s", out);
		FUZZ_CHECK(npy_write(outpath, b.nr, b.nc, b.dtype, b.data, &e) == 0);
		struct npy_array c;
		FUZZ_CHECK(npy_open(outpath, &c, &e) == 0);
		check_same(&b, &c);
		npy_close(&c);
	}
	npy_close(&b);
	(void)sink;
	return 0;
}

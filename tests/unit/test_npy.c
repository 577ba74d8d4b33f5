/*
 * Unit tests for core/npy: round trips of every dtype through npy_write and
 * npy_open (the file is mapped, not copied), versions 2.0/3.0 headers, every
 * kind of malformed input (each must fail with a message naming the file and
 * the problem), and a fuzz loop of byte flips and truncations through
 * npy_parse that must never crash (run it under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/npy.h"

#include "tmpdir.h"

/* A .npy image: magic, version, little-endian header length, header text, data. */
static size_t
make_npy(unsigned char *out, int major, const char *header, const void *data, size_t ndata)
{
	size_t hl = strlen(header), at = 0;
	memcpy(out, "\x93NUMPY", 6);
	out[6] = (unsigned char)major;
	out[7] = 0;
	if (major == 1) {
		out[8] = (unsigned char)(hl & 0xff);
		out[9] = (unsigned char)(hl >> 8);
		at = 10;
	} else {
		for (int k = 0; k < 4; k++)
			out[8 + k] = (unsigned char)(hl >> (8 * k));
		at = 12;
	}
	memcpy(out + at, header, hl);
	at += hl;
	if (ndata)
		memcpy(out + at, data, ndata);
	return at + ndata;
}

static void
write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
test_round_trip(void **state)
{
	(void)state;
	double f64[6] = {1.5, -2, 0, 1e300, -1e-300, 7};
	float f32[6] = {1.5f, -2, 0, 3e38f, 0.25f, 7};
	int16_t i16[6] = {-32768, 32767, 0, 1, -1, 5};
	int32_t i32[6] = {-2147483647 - 1, 2147483647, 0, 1, -1, 5};
	const void *data[4] = {f64, f32, i16, i32};
	enum match_dtype types[4] = {MATCH_F64, MATCH_F32, MATCH_I16, MATCH_I32};
	for (int t = 0; t < 4; t++) {
		struct diag d = {0};
		struct npy_array a;
		assert_int_equal(npy_write(tmpdir_path("rt.npy"), 2, 3, types[t], data[t], &d), 0);
		assert_int_equal(npy_open(tmpdir_path("rt.npy"), &a, &d), 0);
		assert_int_equal(a.nr, 2);
		assert_int_equal(a.nc, 3);
		assert_int_equal(a.dtype, types[t]);
		assert_int_equal(a.nbytes, 6 * match_dtype_size(types[t]));
		assert_memory_equal(a.data, data[t], a.nbytes);
		/* numpy's layout: the data starts on a 64-byte boundary, so it is mapped in place.
		 */
		assert_null(a.copy_);
		npy_close(&a);
		npy_close(&a); /* idempotent */
	}
	/* Empty matrices are valid. */
	struct diag d = {0};
	struct npy_array a;
	assert_int_equal(npy_write(tmpdir_path("empty.npy"), 0, 5, MATCH_F64, NULL, &d), 0);
	assert_int_equal(npy_open(tmpdir_path("empty.npy"), &a, &d), 0);
	assert_int_equal(a.nr, 0);
	assert_int_equal(a.nc, 5);
	assert_null(a.data);
	npy_close(&a);
	assert_int_equal(npy_write(tmpdir_path("neg.npy"), -1, 5, MATCH_F64, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "negative shape"));
	/* An unknown dtype is refused before anything is written. */
	double one = 1;
	assert_int_equal(npy_write(tmpdir_path("bad.npy"), 1, 1, (enum match_dtype)99, &one, &d), -1);
	assert_non_null(strstr(d.msg, "unknown dtype"));
	assert_int_equal(access(tmpdir_path("bad.npy"), F_OK), -1);
}

/* Versions 2.0 and 3.0, '=' and '|' byte orders, extra spaces, Python 2 longs. */
static void
test_header_variants(void **state)
{
	(void)state;
	unsigned char buf[512];
	int32_t v[2] = {4, -9};
	const char *headers[] = {
	    "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }\n",
	    "{\"descr\": \"=i4\", \"fortran_order\": False, \"shape\": (1, 2)}   \n",
	    "{'shape': (1L, 2L), 'fortran_order': False, 'descr': '|i4'}\n",
	    "{ 'descr' : '<i4' , 'fortran_order' : False , 'shape' : ( 1 , 2 , ) , }\n",
	};
	for (int major = 1; major <= 3; major++)
		for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
			size_t n = make_npy(buf, major, headers[h], v, sizeof(v));
			struct npy_array a;
			struct diag d = {0};
			if (npy_parse("mem.npy", buf, n, &a, &d) != 0)
				fail_msg("version %d header %zu: %s", major, h, d.msg);
			assert_int_equal(a.nr, 1);
			assert_int_equal(a.nc, 2);
			assert_int_equal(a.dtype, MATCH_I32);
			assert_memory_equal(a.data, v, sizeof(v));
		}
	/* An unaligned data offset (not what numpy writes) is copied, not misread. */
	size_t n = make_npy(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2)}", v,
			    sizeof(v));
	write_file(tmpdir_path("odd.npy"), buf, n);
	struct npy_array a;
	struct diag d = {0};
	assert_int_equal(npy_open(tmpdir_path("odd.npy"), &a, &d), 0);
	assert_memory_equal(a.data, v, sizeof(v));
	npy_close(&a);
}

struct bad_case {
	const char *what;
	int major;
	const char *header;
	size_t ndata;
	const char *expect;
};

/* Each malformed header must fail with the file name and this message. */
static void
test_malformed(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"not a dict", 1, "['descr', '<f8']\n", 8, "expected a dict"},
	    {"missing descr", 1, "{'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "missing key 'descr'"},
	    {"missing fortran_order", 1, "{'descr': '<f8', 'shape': (1, 1)}\n", 8,
	     "missing key 'fortran_order'"},
	    {"missing shape", 1, "{'descr': '<f8', 'fortran_order': False}\n", 8,
	     "missing key 'shape'"},
	    {"repeated key", 1,
	     "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "unexpected or repeated key 'descr'"},
	    {"unknown key", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), 'x': 1}\n", 8,
	     "unexpected or repeated key 'x'"},
	    {"bad shape", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, -1)}\n", 8,
	     "shape must be a tuple of non-negative integers"},
	    {"shape not a tuple", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': 4}\n", 32,
	     "'(' to open the shape"},
	    {"shape unterminated", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1\n",
	     8, "expected ',' or ')' in the shape"},
	    {"shape dimension too large", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 99999999999999999999)}\n", 8,
	     "shape dimension too large"},
	    {"shape past int", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4294967296)}\n", 8,
	     "is too large"},
	    {"size overflow", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647)}\n", 8,
	     "overflows the address space"},
	    {"1-D", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\n", 24,
	     "expected a 2-D matrix, got 1 dimension"},
	    {"3-D", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1)}\n", 8,
	     "expected a 2-D matrix, got 3 dimensions"},
	    {"0-D", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': ()}\n", 8,
	     "got 0 dimensions"},
	    {"too many dimensions", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}\n", 8,
	     "too many dimensions"},
	    {"Fortran order", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1)}\n", 8,
	     "Fortran-order arrays are not supported"},
	    {"fortran_order not a bool", 1,
	     "{'descr': '<f8', 'fortran_order': 0, 'shape': (1, 1)}\n", 8,
	     "fortran_order must be True or False"},
	    {"unsupported dtype", 1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1)}\n",
	     16, "unsupported dtype '<c16'"},
	    {"unsupported byte order", 1,
	     "{'descr': 'xf8', 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "unsupported dtype 'xf8'"},
	    {"object dtype", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "unsupported dtype '|O'"},
	    {"big-endian", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "big-endian data ('>f8') is not supported"},
	    {"descr not a string", 1, "{'descr': 8, 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "expected a quoted string"},
	    {"unterminated string", 1, "{'descr': '<f8", 8, "unterminated string"},
	    {"escaped string", 1, "{'descr': '<f\\8', 'fortran_order': False, 'shape': (1, 1)}\n",
	     8, "string too long or escaped"},
	    {"missing colon", 1, "{'descr' '<f8', 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "':' after a key"},
	    {"missing comma", 1, "{'descr': '<f8' 'fortran_order': False, 'shape': (1, 1)}\n", 8,
	     "',' or '}' after a value"},
	    {"text after the dict", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)} junk\n", 8,
	     "unexpected text after the dict"},
	    {"data shorter than shape", 1,
	     "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2)}\n", 31,
	     "data is truncated: shape (2, 2) needs 32 bytes, file has 31"},
	    {"empty header", 2, "", 8, "expected a dict"},
	};
	unsigned char buf[1024], zeros[64] = {0};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct bad_case *c = &cases[k];
		size_t n = make_npy(buf, c->major, c->header, zeros, c->ndata);
		struct npy_array a;
		struct diag d = {0};
		if (npy_parse("bad.npy", buf, n, &a, &d) != -1)
			fail_msg("%s: accepted", c->what);
		if (strncmp(d.msg, "bad.npy: ", 9) != 0 || strstr(d.msg, c->expect) == NULL)
			fail_msg("%s: message '%s' lacks the file or '%s'", c->what, d.msg,
				 c->expect);
		assert_int_equal(d.code, DIAG_INVALID);
		assert_null(a.data);
	}
}

/* Damage around the header: magic, version, lengths, truncation, through the file API too. */
static void
test_truncated_and_magic(void **state)
{
	(void)state;
	unsigned char buf[256];
	double v = 1;
	const char *hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)}\n";
	size_t n = make_npy(buf, 1, hdr, &v, sizeof(v));
	struct npy_array a;
	struct diag d = {0};
	/* Every truncation of a valid file fails cleanly. */
	for (size_t len = 0; len < n; len++) {
		assert_int_equal(npy_parse("t.npy", buf, len, &a, &d), -1);
		assert_non_null(strstr(d.msg, "t.npy: "));
	}
	assert_int_equal(npy_parse("t.npy", buf, n, &a, &d), 0);
	buf[1] = 'X';
	assert_int_equal(npy_parse("t.npy", buf, n, &a, &d), -1);
	assert_non_null(strstr(d.msg, "t.npy: not a .npy file (bad magic)"));
	buf[1] = 'N';
	buf[6] = 4;
	assert_int_equal(npy_parse("t.npy", buf, n, &a, &d), -1);
	assert_non_null(strstr(d.msg, "unsupported .npy version 4.0"));
	buf[6] = 1;
	buf[7] = 1;
	assert_int_equal(npy_parse("t.npy", buf, n, &a, &d), -1);
	assert_non_null(strstr(d.msg, "unsupported .npy version 1.1"));
	buf[7] = 0;
	/* Header length past the end of the file. */
	buf[8] = 0xff;
	buf[9] = 0x7f;
	assert_int_equal(npy_parse("t.npy", buf, n, &a, &d), -1);
	assert_non_null(strstr(d.msg, "header length 32767 runs past the end of the file"));
	size_t n2 = make_npy(buf, 2, hdr, &v, sizeof(v));
	buf[11] = 0xff;
	assert_int_equal(npy_parse("t.npy", buf, n2, &a, &d), -1);
	assert_non_null(strstr(d.msg, "runs past the end of the file"));
	assert_int_equal(npy_parse("t.npy", buf, 11, &a, &d), -1);
	assert_non_null(strstr(d.msg, "truncated .npy header"));
	/* Through npy_open: missing, empty, a directory, a truncated file. */
	assert_int_equal(npy_open(tmpdir_path("missing.npy"), &a, &d), -1);
	assert_int_equal(d.code, DIAG_IO);
	assert_non_null(strstr(d.msg, "missing.npy: No such file"));
	write_file(tmpdir_path("empty.npy"), "", 0);
	assert_int_equal(npy_open(tmpdir_path("empty.npy"), &a, &d), -1);
	assert_non_null(strstr(d.msg, "empty.npy: not a .npy file (empty)"));
	assert_int_equal(npy_open(tmpdir, &a, &d), -1);
	assert_non_null(strstr(d.msg, "not a regular file"));
	n = make_npy(buf, 1, hdr, &v, sizeof(v));
	write_file(tmpdir_path("short.npy"), buf, n - 3);
	assert_int_equal(npy_open(tmpdir_path("short.npy"), &a, &d), -1);
	assert_non_null(strstr(d.msg, "short.npy: data is truncated"));
	assert_null(a.map_);
	/* Writing where it cannot. */
	assert_int_equal(npy_write("/nonexistent-dir/x.npy", 1, 1, MATCH_F64, &v, &d), -1);
	assert_int_equal(d.code, DIAG_IO);
}

static uint64_t fuzz_state = 0x2545F4914F6CDD1DULL;
static uint32_t
fuzz_rnd(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (uint32_t)(fuzz_state >> 16);
}

/*
 * Random byte flips, insertions of header characters and truncations of valid
 * images. The parser must return 0 or -1, never read outside the buffer (each
 * image is copied into an exact-size heap block so ASan sees any overrun), and
 * on success describe data that fits in the buffer.
 */
static void
test_fuzz(void **state)
{
	(void)state;
	static const char *seeds[] = {
	    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
	    "{'descr': '<i2', 'fortran_order': False, 'shape': (3, 2)}",
	    "{\"shape\": (1, 4), \"descr\": \"|f4\", \"fortran_order\": False}",
	};
	static const char alphabet[] = "{}()[],:'\"0123456789 \nTrueFalsedescrshape<>|=f8i4";
	unsigned char base[512], work[512];
	unsigned char data[64];
	for (size_t k = 0; k < sizeof(data); k++)
		data[k] = (unsigned char)k;
	int accepted = 0;
	for (int it = 0; it < 20000; it++) {
		int major = 1 + (int)(fuzz_rnd() % 3);
		size_t n = make_npy(base, major, seeds[it % 3], data, 48);
		memcpy(work, base, n);
		int flips = 1 + (int)(fuzz_rnd() % 4);
		for (int f = 0; f < flips; f++) {
			size_t at = fuzz_rnd() % n;
			switch (fuzz_rnd() % 3) {
			case 0:
				work[at] ^= (unsigned char)(1u << (fuzz_rnd() % 8));
				break;
			case 1:
				work[at] = (unsigned char)fuzz_rnd();
				break;
			default:
				work[at] =
				    (unsigned char)alphabet[fuzz_rnd() % (sizeof(alphabet) - 1)];
			}
		}
		if (fuzz_rnd() % 4 == 0)
			n = fuzz_rnd() % (n + 1);
		unsigned char *exact = malloc(n ? n : 1);
		memcpy(exact, work, n);
		struct npy_array a;
		struct diag d = {0};
		int rc = npy_parse("fuzz.npy", exact, n, &a, &d);
		assert_true(rc == 0 || rc == -1);
		if (rc == 0) {
			accepted++;
			assert_true(a.nr >= 0 && a.nc >= 0);
			assert_int_equal(a.nbytes,
					 (size_t)a.nr * (size_t)a.nc * match_dtype_size(a.dtype));
			if (a.nbytes > 0) {
				const unsigned char *p = a.data;
				assert_true(p >= exact && p + a.nbytes <= exact + n);
				volatile unsigned char sink =
				    p[a.nbytes - 1]; /* in bounds under ASan */
				(void)sink;
			}
		} else {
			assert_non_null(strstr(d.msg, "fuzz.npy: "));
		}
		free(exact);
	}
	/* Some mutations (e.g. in the data or the padding) stay valid. */
	assert_true(accepted > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip), cmocka_unit_test(test_header_variants),
	    cmocka_unit_test(test_malformed),  cmocka_unit_test(test_truncated_and_magic),
	    cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

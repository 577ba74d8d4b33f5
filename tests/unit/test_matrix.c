/*
 * Unit tests for core/io/matrix.c: score matrices from CSV and .npy files,
 * capacities files, and the candidate lists of a dense matrix.
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

#include "io/matrix.h"

#include "tmpdir.h"

/* Writes text to tmpdir/name and returns the path (valid until the next call). */
static const char *
file_with(const char *name, const char *text)
{
	const char *path = tmpdir_path(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
csv_with_forbidden_cells(void **state)
{
	(void)state;
	struct matrix m;
	struct diag d = {0};
	assert_int_equal(matrix_read(file_with("m.csv", "1, 2.5,3\n4,,6\n"), &m, &d), 0);
	assert_int_equal(m.nr, 2);
	assert_int_equal(m.nc, 3);
	assert_int_equal(m.dtype, MATCH_F64);
	const double *v = m.data;
	assert_true(v[1] == 2.5 && v[5] == 6);
	assert_non_null(m.forbidden);
	assert_int_equal(m.forbidden[4], 1);
	assert_int_equal(m.forbidden[3], 0);
	struct match_dense md = matrix_dense(&m);
	assert_int_equal(md.nr, 2);
	assert_ptr_equal(md.forbidden, m.forbidden);
	matrix_fini(&m);

	assert_int_equal(matrix_read(file_with("full.csv", "1,2\n3,4\n"), &m, &d), 0);
	assert_null(m.forbidden);
	matrix_fini(&m);
}

static void
csv_errors_name_file_line_and_column(void **state)
{
	(void)state;
	struct matrix m;
	struct diag d = {0};
	assert_int_equal(matrix_read(file_with("bad.csv", "1,2\n3,x\n"), &m, &d), -1);
	assert_non_null(strstr(d.msg, "bad.csv:2:2: not a finite number: 'x'"));
	matrix_fini(&m);
	assert_int_equal(matrix_read(file_with("ragged.csv", "1,2\n3\n"), &m, &d), -1);
	assert_non_null(strstr(d.msg, "ragged.csv:2:2: row has 1 value, the first row has 2"));
	matrix_fini(&m);
	assert_int_equal(matrix_read(file_with("empty.csv", ""), &m, &d), -1);
	assert_non_null(strstr(d.msg, "no rows"));
	matrix_fini(&m);
	assert_int_equal(matrix_read(file_with("m.dat", "1\n"), &m, &d), -1);
	assert_non_null(strstr(d.msg, "unknown file type"));
	matrix_fini(&m);
}

static void
npy_is_mapped(void **state)
{
	(void)state;
	const char *path = tmpdir_path("m.npy");
	int32_t data[6] = {1, 2, 3, 4, 5, 6};
	struct diag d = {0};
	assert_int_equal(npy_write(path, 2, 3, MATCH_I32, data, &d), 0);
	struct matrix m;
	assert_int_equal(matrix_read(path, &m, &d), 0);
	assert_int_equal(m.nr, 2);
	assert_int_equal(m.nc, 3);
	assert_int_equal(m.dtype, MATCH_I32);
	assert_int_equal(match_score_at(m.dtype, m.data, 5), 6);
	assert_null(m.forbidden);
	matrix_fini(&m);
}

static void
capacities(void **state)
{
	(void)state;
	struct diag d = {0};
	int *cap = NULL;
	assert_int_equal(matrix_read_capacities(file_with("c.txt", "1, 2\n0 3\n"), 4, &cap, &d), 0);
	assert_int_equal(cap[0], 1);
	assert_int_equal(cap[3], 3);
	free(cap);
	assert_int_equal(matrix_read_capacities(file_with("c2.txt", "1 2\n"), 3, &cap, &d), -1);
	assert_non_null(strstr(d.msg, "2 capacities for 3 columns"));
	assert_int_equal(matrix_read_capacities(file_with("c3.txt", "1\n-2\n"), 2, &cap, &d), -1);
	assert_non_null(strstr(d.msg, "c3.txt:2: bad capacity '-2'"));
	assert_int_equal(matrix_read_capacities(file_with("c4.txt", "1 2 3"), 2, &cap, &d), -1);
	assert_non_null(strstr(d.msg, "more capacities than the 2 columns"));
}

static void
sparse_lists_skip_forbidden_cells(void **state)
{
	(void)state;
	struct matrix m;
	struct diag d = {0};
	assert_int_equal(matrix_read(file_with("s.csv", "1,,3\n,5,\n"), &m, &d), 0);
	struct match_sparse s;
	assert_int_equal(matrix_to_sparse(&m, &s, &d), 0);
	assert_int_equal(s.nr, 2);
	assert_int_equal(s.nc, 3);
	assert_int_equal(s.row_ptr[1], 2);
	assert_int_equal(s.row_ptr[2], 3);
	assert_int_equal(s.cols[1], 2);
	assert_true(s.scores[2] == 5);
	matrix_sparse_fini(&s);
	assert_null(s.row_ptr);
	matrix_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(csv_with_forbidden_cells),
	    cmocka_unit_test(csv_errors_name_file_line_and_column),
	    cmocka_unit_test(npy_is_mapped),
	    cmocka_unit_test(capacities),
	    cmocka_unit_test(sparse_lists_skip_forbidden_cells),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

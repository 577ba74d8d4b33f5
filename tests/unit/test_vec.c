/* Unit tests for base/vec: the growable array, plain and in struct vec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/vec.h"

struct row {
	int id;
	double score;
	char name[12];
};

static void
test_grow_plain_array(void **state)
{
	(void)state;
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	struct diag d;
	for (int i = 0; i < 5000; i++) {
		if (n == cap)
			assert_int_equal(vec_grow(&rows, &cap, n + 1, sizeof(*rows), &d), 0);
		assert_true(cap > n);
		rows[n].id = i;
		rows[n].score = i * 0.5;
		snprintf(rows[n].name, sizeof(rows[n].name), "p%05d", i);
		n++;
	}
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(rows[i].id, i);
		assert_true(rows[i].score == i * 0.5);
	}
	assert_string_equal(rows[4999].name, "p04999");
	/* Asking for less than there is changes nothing. */
	size_t before = cap;
	struct row *p = rows;
	assert_int_equal(vec_grow(&rows, &cap, 10, sizeof(*rows), &d), 0);
	assert_int_equal(cap, before);
	assert_ptr_equal(rows, p);
	free(rows);
}

static void
test_failed_growth_keeps_the_array(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	struct diag d;
	assert_int_equal(vec_grow(&a, &cap, 3, sizeof(int), &d), 0);
	a[0] = 7, a[1] = 8, a[2] = 9;
	int *old = a;
	size_t oldcap = cap;
	diag_clear(&d);
	/* Overflowing elements x size: refused before realloc is even called. */
	assert_int_equal(vec_grow(&a, &cap, SIZE_MAX / 2, sizeof(int), &d), -1);
	assert_int_equal(d.code, DIAG_NOMEM);
	assert_ptr_equal(a, old);
	assert_int_equal(cap, oldcap);
	assert_int_equal(a[2], 9);
	free(a);
}

static void
test_struct_vec(void **state)
{
	(void)state;
	struct vec v;
	struct diag d;
	vec_init(&v, sizeof(struct row));
	assert_int_equal(v.len, 0);
	for (int i = 0; i < 1000; i++) {
		struct row r = {.id = i * 3, .score = -i};
		assert_int_equal(vec_push(&v, &r, &d), 0);
	}
	assert_int_equal(v.len, 1000);
	assert_true(v.cap >= 1000);
	for (int i = 0; i < 1000; i++) {
		struct row *r = vec_at(&v, (size_t)i);
		assert_int_equal(r->id, i * 3);
		assert_true(r->score == -i);
	}
	struct row *z = vec_push_zero(&v, &d);
	assert_non_null(z);
	assert_int_equal(z->id, 0);
	assert_int_equal(z->name[0], '\0');
	assert_int_equal(v.len, 1001);

	size_t len = v.len;
	struct row *all = vec_release(&v);
	assert_null(v.data);
	assert_int_equal(v.len, 0);
	assert_int_equal(v.elem, sizeof(struct row));
	assert_int_equal(all[len - 2].id, 999 * 3);
	free(all);
	vec_fini(&v);
}

static void
test_reserve(void **state)
{
	(void)state;
	struct vec v;
	struct diag d;
	vec_init(&v, sizeof(int64_t));
	assert_int_equal(vec_reserve(&v, 300, &d), 0);
	assert_true(v.cap >= 300);
	void *p = v.data;
	for (int64_t i = 0; i < 300; i++)
		assert_int_equal(vec_push(&v, &i, &d), 0);
	assert_ptr_equal(v.data, p);
	assert_int_equal(*(int64_t *)vec_at(&v, 299), 299);
	vec_fini(&v);
	assert_null(v.data);
	assert_int_equal(v.cap, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_plain_array),
		cmocka_unit_test(test_failed_growth_keeps_the_array),
		cmocka_unit_test(test_struct_vec),
		cmocka_unit_test(test_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for base/strmap: round trips, growth, collisions, deletion, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "base/strmap.h"

static void
test_round_trip_and_growth(void **state)
{
	(void)state;
	struct strmap m;
	struct diag d;
	strmap_init(&m, STRMAP_COPY_KEYS);
	assert_null(strmap_get(&m, "nothing yet"));
	assert_int_equal(strmap_del(&m, "nothing yet"), 0);
	assert_null(strmap_next(&m, NULL));
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "p%05d", i); /* copied: the buffer is reused */
		assert_int_equal(strmap_put_num(&m, key, i * 7, &d), 0);
		assert_true(m.len * 2 <= m.cap); /* at most half full after growing */
	}
	assert_int_equal(m.len, 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "p%05d", i);
		struct strmap_entry *e = strmap_get(&m, key);
		assert_non_null(e);
		assert_int_equal(e->num, i * 7);
		assert_string_equal(e->key, key);
		assert_ptr_not_equal(e->key, key);
	}
	assert_null(strmap_get(&m, "p20000"));
	assert_null(strmap_get(&m, ""));
	/* Replacing keeps one entry. */
	assert_int_equal(strmap_put_num(&m, "p00042", -1, &d), 0);
	assert_int_equal(m.len, 20000);
	assert_int_equal(strmap_get(&m, "p00042")->num, -1);
	strmap_fini(&m);
	assert_int_equal(m.len, 0);
	assert_null(strmap_get(&m, "p00042"));
}

static void
test_borrowed_keys_and_pointers(void **state)
{
	(void)state;
	struct strmap m;
	struct diag d;
	strmap_init(&m, 0);
	static int a = 1, b = 2;
	const char *ka = "alpha", *kb = "beta";
	assert_int_equal(strmap_put(&m, ka, &a, &d), 0);
	assert_int_equal(strmap_put(&m, kb, &b, &d), 0);
	assert_ptr_equal(strmap_get(&m, "alpha")->ptr, &a);
	assert_ptr_equal(strmap_get(&m, "beta")->ptr, &b);
	assert_ptr_equal(strmap_get(&m, "alpha")->key, ka); /* borrowed, not copied */
	int added = -1;
	struct strmap_entry *e = strmap_intern(&m, "gamma", &added, &d);
	assert_non_null(e);
	assert_int_equal(added, 1);
	assert_null(e->ptr);
	e->num = 99;
	e = strmap_intern(&m, "gamma", &added, &d);
	assert_int_equal(added, 0);
	assert_int_equal(e->num, 99);
	strmap_fini(&m);
}

/* Keys whose home slots in a 16-slot table are all the same: a run of collisions. */
static int
colliding_keys(char keys[][16], int want)
{
	int n = 0;
	for (int i = 0; n < want && i < 100000; i++) {
		snprintf(keys[n], 16, "k%d", i);
		if ((hash_mix64(hash_str(keys[n])) & 15) == 3)
			n++;
	}
	return n;
}

static void
test_collisions_and_deletion(void **state)
{
	(void)state;
	char keys[6][16];
	assert_int_equal(colliding_keys(keys, 6), 6);
	struct strmap m;
	struct diag d;
	strmap_init(&m, 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(strmap_put_num(&m, keys[i], i, &d), 0);
	assert_int_equal(m.cap, 16); /* 6 of 16: no growth, one run from slot 3 */
	for (int i = 0; i < 6; i++) {
		struct strmap_entry *e = strmap_get(&m, keys[i]);
		assert_non_null(e);
		assert_int_equal(e->num, i);
		assert_int_equal(e - m.slots, 3 + i);
	}
	/* Delete from the middle of the run: the later ones must stay reachable. */
	assert_int_equal(strmap_del(&m, keys[2]), 1);
	assert_int_equal(strmap_del(&m, keys[2]), 0);
	assert_null(strmap_get(&m, keys[2]));
	for (int i = 0; i < 6; i++)
		if (i != 2)
			assert_int_equal(strmap_get(&m, keys[i])->num, i);
	/* The head of the run, then the rest; the table ends empty with no leftover marks. */
	assert_int_equal(strmap_del(&m, keys[0]), 1);
	for (int i = 1; i < 6; i++)
		if (i != 2)
			assert_int_equal(strmap_get(&m, keys[i])->num, i);
	for (int i = 1; i < 6; i++)
		if (i != 2)
			assert_int_equal(strmap_del(&m, keys[i]), 1);
	assert_int_equal(m.len, 0);
	for (size_t j = 0; j < m.cap; j++)
		assert_null(m.slots[j].key);
	strmap_fini(&m);
}

static void
test_deletion_wraps_around(void **state)
{
	(void)state;
	/* Keys homed at slot 14 and 15 of 16 spill over into slots 0, 1, ...; deleting
	 * before the wrap must pull the wrapped ones back. */
	char k14[3][16], k15[3][16];
	int n14 = 0, n15 = 0;
	for (int i = 0; (n14 < 3 || n15 < 3) && i < 100000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "w%d", i);
		size_t home = hash_mix64(hash_str(key)) & 15;
		if (home == 14 && n14 < 3)
			snprintf(k14[n14++], 16, "%s", key);
		else if (home == 15 && n15 < 3)
			snprintf(k15[n15++], 16, "%s", key);
	}
	assert_int_equal(n14, 3);
	assert_int_equal(n15, 3);
	struct strmap m;
	struct diag d;
	strmap_init(&m, STRMAP_COPY_KEYS);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(strmap_put_num(&m, k14[i], 140 + i, &d), 0);
		assert_int_equal(strmap_put_num(&m, k15[i], 150 + i, &d), 0);
	}
	assert_int_equal(m.cap, 16);
	assert_int_equal(strmap_del(&m, k14[0]), 1);
	assert_int_equal(strmap_del(&m, k15[1]), 1);
	for (int i = 1; i < 3; i++)
		assert_int_equal(strmap_get(&m, k14[i])->num, 140 + i);
	assert_int_equal(strmap_get(&m, k15[0])->num, 150);
	assert_int_equal(strmap_get(&m, k15[2])->num, 152);
	assert_int_equal(m.len, 4);
	strmap_fini(&m);
}

static void
test_iteration_and_churn(void **state)
{
	(void)state;
	struct strmap m;
	struct diag d;
	strmap_init(&m, STRMAP_COPY_KEYS);
	char key[32];
	/* Add and delete many times over: no tombstones, so the table stays small. */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 100; i++) {
			snprintf(key, sizeof(key), "r%d-%d", round, i);
			assert_int_equal(strmap_put_num(&m, key, i, &d), 0);
		}
		for (int i = 0; i < 100; i++) {
			if (i % 10 == 0 && round == 49)
				continue;
			snprintf(key, sizeof(key), "r%d-%d", round, i);
			assert_int_equal(strmap_del(&m, key), 1);
		}
	}
	assert_int_equal(m.len, 10);
	assert_true(m.cap <= 256);
	int seen[100] = {0}, count = 0;
	for (struct strmap_entry *e = strmap_next(&m, NULL); e != NULL; e = strmap_next(&m, e)) {
		assert_int_equal(strncmp(e->key, "r49-", 4), 0);
		assert_int_equal(e->num % 10, 0);
		seen[e->num]++;
		count++;
	}
	assert_int_equal(count, 10);
	for (int i = 0; i < 100; i += 10)
		assert_int_equal(seen[i], 1);
	strmap_fini(&m);
}

static void
test_reserve_large(void **state)
{
	(void)state;
	struct strmap m;
	struct diag d;
	strmap_init(&m, 0);
	/* 100k keys: the table is over 1 MiB, so it comes from pages_alloc. */
	assert_int_equal(strmap_reserve(&m, 100000, &d), 0);
	size_t cap = m.cap;
	assert_true(cap >= 200000);
	char *keys = malloc(100000 * 8);
	assert_non_null(keys);
	for (int i = 0; i < 100000; i++) {
		snprintf(keys + 8 * i, 8, "%07d", i);
		int added = 0;
		struct strmap_entry *e = strmap_intern(&m, keys + 8 * i, &added, &d);
		assert_non_null(e);
		assert_int_equal(added, 1);
		e->num = i;
	}
	assert_int_equal(m.cap, cap); /* reserved: no growth */
	for (int i = 0; i < 100000; i += 997)
		assert_int_equal(strmap_get(&m, keys + 8 * i)->num, i);
	strmap_fini(&m);
	free(keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_growth),
		cmocka_unit_test(test_borrowed_keys_and_pointers),
		cmocka_unit_test(test_collisions_and_deletion),
		cmocka_unit_test(test_deletion_wraps_around),
		cmocka_unit_test(test_iteration_and_churn),
		cmocka_unit_test(test_reserve_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

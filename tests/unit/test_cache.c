/* Unit tests for core/http/cache (and http/dbgen under it): a kept answer comes back with its
 * ETag; any commit (this connection's or another's) drops it; it expires after the TTL; a
 * key kept twice keeps the newer answer; the entry and size limits drop everything rather
 * than grow; oversized answers are not kept. dbgen's shared reader: within a batch one read
 * serves every dbgen that shares it, outside one each check reads; another process's
 * commit is seen by the next batch. The WAL-index header shortcut: checks with no commit
 * between them run no PRAGMA, and over a random run of commits by this connection and
 * another, a check says "changed" exactly when something was committed since the last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/cache.h"
#include "http/dbgen.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct http_cache *c;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_cache.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	if ((f->st = store_open(f->path, STORE_CREATE, &d)) == NULL ||
	    (f->c = http_cache_new(f->st, NULL, &d)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	http_cache_delete(f->c);
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* 1 when key is kept with this body. */
static int
kept(struct http_cache *c, const char *key, const char *want)
{
	char *body = NULL, etag[HTTP_ETAG_MAX];
	size_t len = 0;
	if (!http_cache_get(c, key, &body, &len, etag))
		return 0;
	int same = len == strlen(want) && strcmp(body, want) == 0 && strcmp(etag, "\"e\"") == 0;
	free(body);
	return same;
}

static void
test_keep_and_invalidate(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_false(kept(f->c, "/a", "A")); /* nothing kept yet (and the generation is read) */
	http_cache_put(f->c, "/a", "A", 1, "\"e\"");
	http_cache_put(f->c, "/b?x=1", "B", 1, "\"e\"");
	assert_true(kept(f->c, "/a", "A"));
	assert_true(kept(f->c, "/b?x=1", "B"));
	assert_false(kept(f->c, "/b?x=2", "B"));
	http_cache_put(f->c, "/a", "A2", 2, "\"e\"");
	assert_true(kept(f->c, "/a", "A2"));
	/* This connection writes: everything goes. */
	assert_int_equal(store_exec(f->st, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", &d), 0);
	assert_false(kept(f->c, "/a", "A2"));
	assert_false(kept(f->c, "/b?x=1", "B"));
	/* Another connection commits: everything goes too. */
	http_cache_put(f->c, "/a", "A3", 2, "\"e\"");
	assert_true(kept(f->c, "/a", "A3"));
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	assert_int_equal(store_exec(other, "INSERT INTO t VALUES (2)", &d), 0);
	store_close(other);
	assert_false(kept(f->c, "/a", "A3"));
	unsigned long hits, misses;
	http_cache_stats(f->c, &hits, &misses);
	assert_int_equal(hits, 4);
	assert_int_equal(misses, 5);
}

static void
test_ttl(void **state)
{
	struct fixture *f = *state;
	assert_false(kept(f->c, "/a", "A"));
	http_cache_put(f->c, "/a", "A", 1, "\"e\"");
	assert_true(kept(f->c, "/a", "A"));
	usleep((HTTP_CACHE_TTL_MS + 50) * 1000);
	assert_false(kept(f->c, "/a", "A"));
}

static void
test_limits(void **state)
{
	struct fixture *f = *state;
	assert_false(kept(f->c, "/0", "x"));
	char key[32];
	for (int i = 0; i < HTTP_CACHE_MAX_ENTRIES; i++) {
		snprintf(key, sizeof(key), "/%d", i);
		http_cache_put(f->c, key, "x", 1, "\"e\"");
	}
	assert_true(kept(f->c, "/0", "x"));
	assert_true(kept(f->c, "/1023", "x"));
	http_cache_put(f->c, "/one-more", "x", 1, "\"e\"");
	assert_false(kept(f->c, "/0", "x")); /* the full cache was emptied */
	assert_true(kept(f->c, "/one-more", "x"));
	/* An answer over a quarter of the byte budget is not kept. */
	size_t big = HTTP_CACHE_MAX_BYTES / 4 + 1;
	char *b = malloc(big + 1);
	memset(b, 'y', big);
	b[big] = '\0';
	http_cache_put(f->c, "/big", b, big, "\"e\"");
	assert_false(kept(f->c, "/big", b));
	free(b);
	assert_true(kept(f->c, "/one-more", "x"));
}

static void
test_shared_reader(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct dbgen_reader r;
	struct dbgen a, b;
	int ca, cb;
	assert_int_equal(store_exec(f->st, "CREATE TABLE s(x)", &d), 0);
	assert_int_equal(dbgen_reader_init(&r, f->st, &d), 0);
	dbgen_init_shared(&a, &r);
	dbgen_init_shared(&b, &r);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_int_equal(dbgen_check(&b, &cb, &d), 0);
	assert_true(ca && cb); /* the first look is a change */
	assert_int_equal(store_exec(f->st, "INSERT INTO s VALUES (0)", &d), 0);
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	/* In a batch: a's check reads, another process commits, b's check reuses a's read. */
	dbgen_reader_batch(&r, 1);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_true(ca);
	assert_int_equal(store_exec(other, "INSERT INTO s VALUES (1)", &d), 0);
	assert_int_equal(dbgen_check(&b, &cb, &d), 0);
	assert_true(cb); /* b had not seen this connection's INSERT */
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_false(ca); /* the batch's values: the commit is not seen yet */
	dbgen_reader_batch(&r, 0);
	/* The next batch sees it, for both. */
	dbgen_reader_batch(&r, 1);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_int_equal(dbgen_check(&b, &cb, &d), 0);
	assert_true(ca && cb);
	dbgen_reader_batch(&r, 0);
	/* Outside a batch every check reads. */
	assert_int_equal(store_exec(other, "INSERT INTO s VALUES (2)", &d), 0);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_true(ca);
	assert_int_equal(store_exec(other, "INSERT INTO s VALUES (3)", &d), 0);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_true(ca);
	assert_int_equal(dbgen_check(&a, &ca, &d), 0);
	assert_false(ca);
	store_close(other);
	dbgen_fini(&a);
	dbgen_fini(&b);
	dbgen_reader_fini(&r);
}

static void
test_header_skip(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct dbgen g;
	int c;
	assert_int_equal(store_exec(f->st, "CREATE TABLE s(x)", &d), 0);
	assert_int_equal(dbgen_init(&g, f->st, &d), 0);
	assert_non_null(g.own.shm); /* a WAL store has its header mapped */
	assert_int_equal(dbgen_check(&g, &c, &d), 0);
	assert_true(c);
	uint64_t reads = g.own.reads;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(dbgen_check(&g, &c, &d), 0);
		assert_false(c);
	}
	assert_int_equal(g.own.reads, reads); /* nothing committed: nothing read */
	struct store *other = store_open(f->path, 0, &d);
	assert_non_null(other);
	srand(7);
	for (int i = 0; i < 400; i++) {
		int who = rand() % 3; /* 0: nobody, 1: this connection, 2: the other */
		if (who == 1)
			assert_int_equal(store_exec(f->st, "INSERT INTO s VALUES (1)", &d), 0);
		else if (who == 2)
			assert_int_equal(store_exec(other, "INSERT INTO s VALUES (2)", &d), 0);
		if (i % 50 == 49) /* a checkpoint that resets the WAL now and then */
			assert_int_equal(store_exec(other, "PRAGMA wal_checkpoint(TRUNCATE)", &d), 0);
		assert_int_equal(dbgen_check(&g, &c, &d), 0);
		if (who != 0)
			assert_true(c);
		else if (i % 50 != 49)
			assert_false(c);
	}
	store_close(other);
	dbgen_fini(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keep_and_invalidate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_skip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

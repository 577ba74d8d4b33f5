/* Unit tests for core/http/cache (and http/dbgen under it): a kept answer comes back with its
 * ETag; any commit (this connection's or another's) drops it; a reply taken from it stays
 * whole after it is dropped or replaced; it expires after the TTL; a
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

/* Keeps body under key as http/api.c does: the reply of a 200 JSON answer. */
static void
put(struct http_cache *c, const char *key, const char *body, size_t len)
{
	struct http_response r = {
	    .status = 200, .content_type = "application/json", .body = (char *)body, .body_len = len};
	struct http_reply *p = http_reply_new(&r);
	assert_non_null(p);
	http_cache_put(c, key, p, "\"e\"");
	http_reply_unref(p);
}

/* 1 when key is kept with this body. */
static int
kept(struct http_cache *c, const char *key, const char *want)
{
	struct http_reply *p = NULL;
	char etag[HTTP_ETAG_MAX];
	if (!http_cache_get(c, key, &p, etag))
		return 0;
	int same = http_reply_body_len(p) == strlen(want) &&
		   strcmp(http_reply_body(p), want) == 0 && strcmp(etag, "\"e\"") == 0;
	http_reply_unref(p);
	return same;
}

static void
test_keep_and_invalidate(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_false(kept(f->c, "/a", "A")); /* nothing kept yet (and the generation is read) */
	put(f->c, "/a", "A", 1);
	put(f->c, "/b?x=1", "B", 1);
	assert_true(kept(f->c, "/a", "A"));
	assert_true(kept(f->c, "/b?x=1", "B"));
	assert_false(kept(f->c, "/b?x=2", "B"));
	put(f->c, "/a", "A2", 2);
	assert_true(kept(f->c, "/a", "A2"));
	/* This connection writes: everything goes. */
	assert_int_equal(store_exec(f->st, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", &d), 0);
	assert_false(kept(f->c, "/a", "A2"));
	assert_false(kept(f->c, "/b?x=1", "B"));
	/* Another connection commits: everything goes too. */
	put(f->c, "/a", "A3", 2);
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
	put(f->c, "/a", "A", 1);
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
		put(f->c, key, "x", 1);
	}
	assert_true(kept(f->c, "/0", "x"));
	assert_true(kept(f->c, "/1023", "x"));
	put(f->c, "/one-more", "x", 1);
	assert_false(kept(f->c, "/0", "x")); /* the full cache was emptied */
	assert_true(kept(f->c, "/one-more", "x"));
	/* An answer over a quarter of the byte budget is not kept. */
	size_t big = HTTP_CACHE_MAX_BYTES / 4 + 1;
	char *b = malloc(big + 1);
	memset(b, 'y', big);
	b[big] = '\0';
	put(f->c, "/big", b, big);
	assert_false(kept(f->c, "/big", b));
	free(b);
	assert_true(kept(f->c, "/one-more", "x"));
}

/* A reply taken from the cache stays whole after the cache drops or replaces it (the
 * server may still be sending it): ASan would see a use after free. */
static void
test_reply_outlives(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct http_reply *p = NULL, *q = NULL;
	char etag[HTTP_ETAG_MAX];
	assert_false(kept(f->c, "/a", "A"));
	put(f->c, "/a", "first", 5);
	assert_true(http_cache_get(f->c, "/a", &p, etag));
	put(f->c, "/a", "second", 6); /* replaced while p is held */
	assert_true(http_cache_get(f->c, "/a", &q, etag));
	assert_int_equal(store_exec(f->st, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", &d), 0);
	assert_false(kept(f->c, "/a", "second")); /* dropped while q is held */
	assert_string_equal(http_reply_body(p), "first");
	assert_int_equal(http_reply_body_len(p), 5);
	assert_string_equal(http_reply_body(q), "second");
	http_reply_unref(p);
	http_reply_unref(q);
	/* A stream is never a reply. */
	struct http_stream_ops ops = {0};
	struct http_response s = {.status = 200, .stream = &ops};
	assert_null(http_reply_new(&s));
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
	    cmocka_unit_test_setup_teardown(test_reply_outlives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_skip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

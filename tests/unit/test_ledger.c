/*
 * Unit tests for core/rewards/ledger's batched grants (ledger_writer_grants, in
 * rewards/ledger_batch.c, with events/events_batch): the same grants given one at a time
 * (ledger_writer_grant) to one store and in batches to another write exactly the same
 * ledger and event rows, ids, payloads and timestamps included, with keys repeated in a
 * batch and across batches, batches longer than a multi-row statement, and strings that
 * JSON must escape.
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

#include "base/buf.h"
#include "events/events.h"
#include "rewards/ledger.h"
#include "store/stmt.h"
#include "store/store.h"

struct side {
	char path[128];
	struct store *st;
};

struct fixture {
	char dir[64];
	struct side one, batch; /* written one at a time, and in batches */
	struct clock clock;
};

static const char people_sql[] =
	"INSERT INTO programs (id, name, created_at) VALUES (1, 'p', 't'), (2, 'q', 't');"
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
	"INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at) "
	"SELECT i, 'E' || i, 'P' || i, 'p' || i || '@x.example', 'UTC', 't', 't' FROM n;";

static int
side_open(struct fixture *f, struct side *s, const char *name)
{
	struct diag d;
	snprintf(s->path, sizeof(s->path), "%s/%s.db", f->dir, name);
	s->st = store_open(s->path, STORE_CREATE, &d);
	if (s->st == NULL)
		return -1;
	store_set_clock(s->st, &f->clock);
	if (store_exec(s->st, people_sql, &d) != 0 || store_begin(s->st, &d) != 0)
		return -1;
	/* events the grants name (rewards.event_id is a foreign key) */
	for (int i = 0; i < 10; i++)
		if (events_append(s->st, &(struct event){.kind = "session.held"}, NULL, &d) != 0)
			return -1;
	return store_commit(s->st, &d);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ledger.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	clock_virtual_init(&f->clock, 1795356000);
	if (side_open(f, &f->one, "one") != 0 || side_open(f, &f->batch, "batch") != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->one.st);
	store_close(f->batch.st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Every column of every row of `sql`, as text (NULL as "~"). */
static char *
dump(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	struct buf o;
	buf_init(&o);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(s); c++) {
			const unsigned char *t = sqlite3_column_text(s, c);
			assert_int_equal(buf_printf(&o, NULL, "%s|", t ? (const char *)t : "~"), 0);
		}
		assert_int_equal(buf_putc(&o, '\n', NULL), 0);
	}
	sqlite3_finalize(s);
	assert_int_equal(buf_putc(&o, '\0', NULL), 0);
	return o.data;
}

static void
assert_same(struct fixture *f)
{
	static const char *const sql[] = {"SELECT * FROM rewards ORDER BY id",
					  "SELECT * FROM events ORDER BY id",
					  "SELECT * FROM sqlite_sequence ORDER BY name"};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		char *a = dump(f->one.st, sql[i]), *b = dump(f->batch.st, sql[i]);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
}

/* Grant k of a run of n: keys repeat (k % 7 == 3 repeats the key of k - 1, k % 11 == 5 a
 * key of the first batch), each key with its own person (a key is one person's), programs,
 * events, points and badges vary. */
static void
make_grant(struct ledger_grant *g, char *key, size_t size, int k, int base)
{
	int n = k % 11 == 5 ? k % 5 : base + (k % 7 == 3 ? k - 1 : k);
	snprintf(key, size, "r:%d", n);
	*g = (struct ledger_grant){.key = key,
				   .person_id = 1 + n % 20,
				   .program_id = k % 3,
				   .points = k % 4 == 0 ? 0 : 5 * k,
				   .badge = k % 4 == 0 ? "streak-4" : NULL,
				   .reason = k % 2 ? "session held" : "a \"quoted\" reason",
				   .plugin = "rule",
				   .event_id = k % 10};
}

/* A key the ledger holds for another person is refused, one at a time (DIAG_INVALID naming
 * the field) and in a batch (w.conflict: the grant's index; the caller rolls back). */
static void
test_key_of_another_person_refused(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct ledger_writer w;
	struct ledger_grant g[3] = {
	    {.key = "k:1", .person_id = 1, .points = 5, .reason = "r", .plugin = "rule"},
	    {.key = "k:2", .person_id = 2, .points = 5, .reason = "r", .plugin = "rule"},
	    {.key = "k:1", .person_id = 3, .points = 5, .reason = "r", .plugin = "rule"}};
	long granted = -1, missing = 0;
	assert_int_equal(store_begin(f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_init(&w, f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_grants(&w, g, 3, &granted, &missing, &d), 0);
	assert_int_equal(missing, -1);
	assert_int_equal(w.conflict, 2);
	assert_int_equal(w.conflict_person, 1);
	assert_int_equal(granted, 0);
	ledger_writer_fini(&w);
	store_rollback(f->batch.st);
	/* the same grant again (a redelivery) is no conflict */
	assert_int_equal(store_begin(f->one.st, &d), 0);
	assert_int_equal(ledger_writer_init(&w, f->one.st, &d), 0);
	int inserted = -1;
	assert_int_equal(ledger_writer_grant(&w, &g[0], &inserted, &d), 0);
	assert_int_equal(inserted, 1);
	assert_int_equal(ledger_writer_grant(&w, &g[0], &inserted, &d), 0);
	assert_int_equal(inserted, 0);
	assert_int_equal(ledger_writer_grant(&w, &g[2], &inserted, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "field 'key'"));
	ledger_writer_fini(&w);
	store_rollback(f->one.st);
}

/* Gives g[0..n) one at a time to f->one and as one batch to f->batch, each in a
 * transaction; checks the counts agree. */
static void
give(struct fixture *f, const struct ledger_grant *g, size_t n)
{
	struct diag d;
	struct ledger_writer w;
	long one = 0;
	assert_int_equal(store_begin(f->one.st, &d), 0);
	assert_int_equal(ledger_writer_init(&w, f->one.st, &d), 0);
	for (size_t i = 0; i < n; i++) {
		int inserted = 0;
		assert_int_equal(ledger_writer_grant(&w, &g[i], &inserted, &d), 0);
		one += inserted;
	}
	ledger_writer_fini(&w);
	assert_int_equal(store_commit(f->one.st, &d), 0);
	long granted = -1, missing = 0;
	assert_int_equal(store_begin(f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_init(&w, f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_grants(&w, g, n, &granted, &missing, &d), 0);
	ledger_writer_fini(&w);
	assert_int_equal(store_commit(f->batch.st, &d), 0);
	assert_int_equal(missing, -1);
	assert_int_equal(granted, one);
}

static void
test_batches_write_what_one_at_a_time_writes(void **state)
{
	struct fixture *f = *state;
	enum { N = 3 * EVENTS_MANY_ROWS + 17 };
	static struct ledger_grant g[N];
	static char keys[N][32];
	/* a first batch of 40, then a long one repeating some of its keys */
	for (int k = 0; k < 40; k++)
		make_grant(&g[k], keys[k], sizeof(keys[k]), k, 0);
	give(f, g, 40);
	clock_virtual_init(&f->clock, 1795356000 + 3600);
	for (int k = 0; k < N; k++)
		make_grant(&g[k], keys[k], sizeof(keys[k]), k, 30);
	give(f, g, N);
	/* keys and strings JSON escapes: quotes, backslashes, control characters, UTF-8 */
	struct ledger_grant odd[] = {
		{.key = "odd:\"q\"\\b", .person_id = 3, .points = 1, .reason = "r", .plugin = "ru\"le"},
		{.key = "odd:\t\n\r\b\f\x01\x1f", .person_id = 4, .points = 2, .reason = "r",
		 .plugin = "rule", .badge = "b-1", .event_id = 2, .program_id = 2},
		{.key = "odd:caf\xc3\xa9", .person_id = 5, .points = -3, .reason = "r", .plugin = "rule"},
		{.key = "odd:\"q\"\\b", .person_id = 3, .points = 9, .reason = "r", .plugin = "rule"},
	};
	give(f, odd, sizeof(odd) / sizeof(odd[0]));
	give(f, odd, sizeof(odd) / sizeof(odd[0])); /* all repeated: nothing new */
	assert_same(f);
	struct diag d;
	int64_t rows = 0;
	assert_int_equal(stmt_query_int64(f->batch.st, "q", "SELECT count(*) FROM rewards", &rows, &d),
			 0);
	assert_true(rows > 40 && rows < N + 40);
}

static void
test_missing_person_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct ledger_grant g[8];
	char keys[8][32];
	for (int k = 0; k < 8; k++)
		make_grant(&g[k], keys[k], sizeof(keys[k]), k, 100);
	g[5].person_id = 999;
	g[6].person_id = 998;
	struct ledger_writer w;
	long granted = -1, missing = -1;
	assert_int_equal(store_begin(f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_init(&w, f->batch.st, &d), 0);
	assert_int_equal(ledger_writer_grants(&w, g, 8, &granted, &missing, &d), 0);
	assert_int_equal(missing, 5);
	assert_int_equal(granted, 0);
	/* a grant without a reason: refused before anything is written */
	g[5].person_id = 1;
	g[6].person_id = 2;
	g[7].reason = "";
	assert_int_equal(ledger_writer_grants(&w, g, 8, &granted, &missing, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	ledger_writer_fini(&w);
	assert_int_equal(store_commit(f->batch.st, &d), 0);
	int64_t rows = -1, events = -1;
	assert_int_equal(stmt_query_int64(f->batch.st, "q", "SELECT count(*) FROM rewards", &rows, &d),
			 0);
	assert_int_equal(stmt_query_int64(f->batch.st, "q", "SELECT count(*) FROM events", &events, &d),
			 0);
	assert_int_equal(rows, 0);
	assert_int_equal(events, 10);
}

/* events_append_many: the kinds and payloads are checked before anything is written. */
static void
test_append_many_checks_first(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct event ev[3] = {{.kind = "x.y", .payload_json = "{\"a\":1}"},
			      {.kind = "x.y", .actor = "me", .subject_id = 4},
			      {.kind = "x.y", .payload_json = "[1]"}};
	assert_int_equal(events_append_many(f->batch.st, ev, 3, &d), -1); /* outside a transaction */
	assert_int_equal(store_begin(f->batch.st, &d), 0);
	assert_int_equal(events_append_many(f->batch.st, ev, 3, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	ev[2].payload_json = NULL;
	ev[0].kind = "Bad";
	assert_int_equal(events_append_many(f->batch.st, ev, 3, &d), -1);
	ev[0].kind = "x.y";
	assert_int_equal(events_append_many(f->batch.st, ev, 3, &d), 0);
	assert_int_equal(store_commit(f->batch.st, &d), 0);
	char *rows = dump(f->batch.st, "SELECT kind, actor, subject_id, program_id, payload FROM "
				       "events WHERE id > 10 ORDER BY id");
	assert_string_equal(rows, "x.y|~|~|~|{\"a\":1}|\nx.y|me|4|~|{}|\nx.y|~|~|~|{}|\n");
	free(rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key_of_another_person_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batches_write_what_one_at_a_time_writes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_person_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_many_checks_first, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

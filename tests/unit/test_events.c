/* Unit tests for core/events: the one writer of the event log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/events.h"
#include "store/stmt.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock; /* virtual, starts at 2026-11-22T14:00:00Z */
};


static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_events.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, 1795356000);
	store_set_clock(f->st, &f->clock);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "test query", sql, &v, &d), 0);
	return v;
}

static void
test_append_writes_one_row(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int64_t id = 0, id2 = 0;
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st,
				       &(struct event){.kind = "people.imported", .actor = "hr-admin",
						       .subject_id = 7, .program_id = 3,
						       .payload_json = "{\"file\":\"people.csv\",\"total\":2}"},
				       &id, &d),
			 0);
	assert_true(id > 0);
	/* Defaults: no actor, subject or program is SQL NULL; no payload is "{}". */
	assert_int_equal(events_append(f->st, &(struct event){.kind = "match.proposed"}, &id2, &d), 0);
	assert_true(id2 > id);
	assert_int_equal(events_append(f->st, &(struct event){.kind = "a.b.c_2"}, NULL, &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);

	struct stmt s;
	assert_int_equal(stmt_prepare(&s, f->st, "reading events",
				      "SELECT id, at, kind, actor, subject_id, program_id, payload"
				      " FROM events ORDER BY id",
				      &d),
			 0);
	const char *t = NULL;
	assert_int_equal(stmt_step(&s, &d), STMT_ROW);
	assert_true(stmt_int64(&s, 0) == id);
	assert_int_equal(stmt_text(&s, 1, &t, &d), 0);
	assert_string_equal(t, "2026-11-22T14:00:00Z"); /* the store's clock */
	assert_int_equal(stmt_text(&s, 2, &t, &d), 0);
	assert_string_equal(t, "people.imported");
	assert_int_equal(stmt_text(&s, 3, &t, &d), 0);
	assert_string_equal(t, "hr-admin");
	assert_int_equal(stmt_int64(&s, 4), 7);
	assert_int_equal(stmt_int64(&s, 5), 3);
	assert_int_equal(stmt_text(&s, 6, &t, &d), 0);
	assert_string_equal(t, "{\"file\":\"people.csv\",\"total\":2}");
	assert_int_equal(stmt_step(&s, &d), STMT_ROW);
	assert_true(stmt_is_null(&s, 3) && stmt_is_null(&s, 4) && stmt_is_null(&s, 5));
	assert_int_equal(stmt_text(&s, 6, &t, &d), 0);
	assert_string_equal(t, "{}");
	assert_int_equal(stmt_step(&s, &d), STMT_ROW);
	assert_int_equal(stmt_step(&s, &d), STMT_DONE);
	stmt_finalize(&s);
}

static void
test_append_needs_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_int_equal(events_append(f->st, &(struct event){.kind = "people.imported"}, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_non_null(strstr(d.msg, "outside a transaction"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events"), 0);
}

static void
test_append_rejects_bad_kind_and_payload(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_int_equal(store_begin(f->st, &d), 0);
	const char *bad_kinds[] = {NULL, "", "imported", "People.imported", "people.", ".x",
				   "people..imported", "people imported", "people.im-ported"};
	for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
		assert_int_equal(events_append(f->st, &(struct event){.kind = bad_kinds[i]}, NULL, &d), -1);
		assert_int_equal(d.code, DIAG_INTERNAL);
		assert_non_null(strstr(d.msg, "domain.verb"));
	}
	const char *bad_payloads[] = {"", "[1,2]", "\"text\"", "{\"a\":", "42", "null"};
	for (size_t i = 0; i < sizeof(bad_payloads) / sizeof(bad_payloads[0]); i++) {
		assert_int_equal(events_append(f->st,
					       &(struct event){.kind = "x.y", .payload_json = bad_payloads[i]},
					       NULL, &d),
				 -1);
		assert_int_equal(d.code, DIAG_INTERNAL);
		assert_non_null(strstr(d.msg, "recording event x.y: the payload is not a JSON object"));
	}
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events"), 0);
	store_rollback(f->st);
}

static void
test_events_follow_the_transaction(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	/* An event appended in an inner level that rolls back is gone; the outer one stays. */
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st, &(struct event){.kind = "outer.kept"}, NULL, &d), 0);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st, &(struct event){.kind = "inner.dropped"}, NULL, &d), 0);
	store_rollback(f->st);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events"), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'outer.kept'"), 1);

	/* An outer rollback takes the inner level's committed event with it. */
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st, &(struct event){.kind = "inner.committed"}, NULL, &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	store_rollback(f->st);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events"), 1);

	/* The clock moves: each event takes the time of its append. */
	clock_virtual_advance(&f->clock, 3600 * 1000);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st, &(struct event){.kind = "later.on"}, NULL, &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE at = '2026-11-22T15:00:00Z'"), 1);
}

/* events_append_rows: one event per row of the caller's SELECT, in its order, with
 * events_append's defaults and checks. */
static void
test_append_rows(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int64_t n = -1;
	const char *rows = "WITH v(o, actor, subj, prog, payload) AS (VALUES "
			   "(3, 'a', 7, 2, '{\"k\":3}'), (1, 'b', 0, 0, NULL), (2, NULL, 5, 1, '{}')) "
			   "SELECT actor, subj, prog, payload FROM v WHERE o >= ?1 ORDER BY o";
	/* outside a transaction: nothing */
	assert_int_equal(events_append_rows(f->st, "x.y", rows, 1, &n, &d), -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append_rows(f->st, "Bad kind", rows, 1, &n, &d), -1);
	assert_non_null(strstr(d.msg, "domain.verb"));
	assert_int_equal(events_append_rows(f->st, "x.y", rows, 2, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(events_append_rows(f->st, "x.z", rows, 1, &n, &d), 0);
	assert_int_equal(n, 3);
	/* a payload that is not an object */
	assert_int_equal(events_append_rows(f->st, "x.w", "SELECT 'a', 1, 1, '[1]' UNION ALL "
							  "SELECT 'b', 1, 1, '{}'", 0, &n, &d),
			 -1);
	assert_int_equal(d.code, DIAG_INTERNAL);
	assert_non_null(strstr(d.msg, "1 of 2 payloads are not JSON objects"));
	assert_int_equal(store_commit(f->st, &d), 0);
	/* ?1 bound, the rows' order kept, 0 ids as NULL, NULL payload "{}", the store's clock */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'x.y'"), 2);
	assert_int_equal(qint(f->st, "SELECT group_concat(coalesce(actor, '-'), '') = 'b-a' FROM "
				     "(SELECT actor FROM events WHERE kind = 'x.z' ORDER BY id)"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'x.z' AND actor = 'b' "
				     "AND subject_id IS NULL AND program_id IS NULL AND payload = '{}'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'x.z' AND actor = 'a' "
				     "AND subject_id = 7 AND program_id = 2 AND payload = '{\"k\":3}' "
				     "AND at = '2026-11-22T14:00:00Z'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'x.w'"), 1); /* the caller rolls back */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_writes_one_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_needs_a_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_rejects_bad_kind_and_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_follow_the_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_rows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

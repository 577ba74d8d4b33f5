/*
 * fuzz_people: the people importer (program/people.h) on arbitrary CSV bytes, against a
 * database holding a few people (managers, a terminated and an on-leave person, a program
 * and an enrollment: fuzz_baseline_sql in fuzz_store.h), reset before every input.
 *
 * Each input is imported as a dry run, then for real, and the import contract is checked:
 *  - a dry run writes nothing (not a row, not even one rolled back);
 *  - validation does not depend on the dry run: both runs give the same verdict, counts and
 *    messages (a real run that fails where the dry run passed means validation missed
 *    something the database refused);
 *  - with validation errors nothing is written, not even a transaction begun; after any
 *    other failure the database is as it was;
 *  - every message names the file, at most PEOPLE_ERRORS_KEPT are kept, sorted by line then
 *    column; total = created + updated + unchanged;
 *  - a successful import adds `created` people and one event, and importing the same bytes
 *    again changes nothing: every person is counted as unchanged.
 * An input naming a column "Employee ID" or "Mail" is read through a map to id or email
 * (a map of a column the header lacks is an error of its own). Inputs are read from memory
 * (fmemopen: no size known) or from a file (sized buffers) by the input's size, so both
 * ways of sizing the import's buffers are reached.
 */
#include "fuzz.h"

#include "fuzz_store.h"
#include "program/people.h"

static struct store *st;
static uint64_t base_digest;
static long base_people, base_events;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	st = fuzz_store_open(fuzz_baseline_sql);
	base_digest = fuzz_store_digest(st);
	base_people = fuzz_store_count(st, "people");
	base_events = fuzz_store_count(st, "events");
	return 0;
}

/* Messages are "people.csv:LINE:COLUMN: ..."; reads LINE and COLUMN. */
static void
position(const char *msg, long *line, long *col)
{
	FUZZ_CHECK(strncmp(msg, "people.csv:", 11) == 0);
	char *end;
	*line = strtol(msg + 11, &end, 10);
	FUZZ_CHECK(*end == ':');
	*col = strtol(end + 1, &end, 10);
	FUZZ_CHECK(*end == ':');
}

static void
check_result(int rc, const struct people_import_result *res)
{
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(res->nerrors >= 0 && res->nkept >= 0);
	FUZZ_CHECK(res->nkept == (res->nerrors < PEOPLE_ERRORS_KEPT ? res->nerrors
								    : PEOPLE_ERRORS_KEPT));
	if (res->nerrors > 0)
		FUZZ_CHECK(rc == -1);
	long pl = 0, pc = 0;
	for (int i = 0; i < res->nkept; i++) {
		long l, c;
		position(res->errors[i], &l, &c);
		FUZZ_CHECK(l > pl || (l == pl && c >= pc));
		pl = l, pc = c;
	}
	if (rc == 0)
		FUZZ_CHECK(res->total == res->created + res->updated + res->unchanged);
}

static void
check_same(const struct people_import_result *a, const struct people_import_result *b)
{
	FUZZ_CHECK(a->total == b->total && a->created == b->created);
	FUZZ_CHECK(a->updated == b->updated && a->unchanged == b->unchanged);
	FUZZ_CHECK(a->nerrors == b->nerrors && a->nkept == b->nkept);
	for (int i = 0; i < a->nkept; i++)
		FUZZ_CHECK(strcmp(a->errors[i], b->errors[i]) == 0);
}

static int
run(const uint8_t *data, size_t size, int dry, struct people_import_result *res,
    struct diag *d)
{
	const char *map[2];
	int nmap = 0;
	if (memmem(data, size, "Employee ID", 11) != NULL)
		map[nmap++] = "Employee ID=id";
	if (memmem(data, size, "Mail", 4) != NULL)
		map[nmap++] = "Mail=email";
	struct people_import_opts o = {.map = map, .nmap = nmap, .dry_run = dry, .actor = "fuzz"};
	FILE *f;
	if ((size >> 1) % 2)
		f = fopen(fuzz_write("people.csv", data, size), "rb");
	else if (size > 0)
		f = fmemopen((void *)data, size, "rb");
	else
		f = fopen("/dev/null", "rb");
	FUZZ_CHECK(f != NULL);
	diag_clear(d);
	int rc = people_import(st, f, "people.csv", &o, res, d);
	fclose(f);
	check_result(rc, res);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_store_reset(st);
	sqlite3 *db = store_db(st);
	struct diag d;

	int64_t changes = sqlite3_total_changes64(db);
	struct people_import_result dry;
	int rc_dry = run(data, size, 1, &dry, &d);
	FUZZ_CHECK(sqlite3_total_changes64(db) == changes);

	struct people_import_result real;
	int rc = run(data, size, 0, &real, &d);
	FUZZ_CHECK_MSG(rc == rc_dry, d.msg);
	check_same(&dry, &real);
	FUZZ_CHECK(store_depth(st) == 0);
	if (rc != 0) {
		if (real.nerrors > 0)
			FUZZ_CHECK(sqlite3_total_changes64(db) == changes);
		else
			FUZZ_CHECK(fuzz_store_digest(st) == base_digest);
	} else {
		FUZZ_CHECK(fuzz_store_count(st, "people") == base_people + real.created);
		FUZZ_CHECK(fuzz_store_count(st, "events") == base_events + 1);
		/* The same bytes again: nothing to do. */
		struct people_import_result again;
		int rc_again = run(data, size, 0, &again, &d);
		FUZZ_CHECK_MSG(rc_again == 0, again.nkept ? again.errors[0] : d.msg);
		FUZZ_CHECK(again.total == real.total && again.created == 0 && again.updated == 0);
		FUZZ_CHECK(again.unchanged == again.total);
		people_import_result_fini(&again);
	}
	people_import_result_fini(&dry);
	people_import_result_fini(&real);
	return 0;
}

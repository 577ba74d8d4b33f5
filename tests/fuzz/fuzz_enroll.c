/*
 * fuzz_enroll: the enrollment importer (program/enroll.h) on arbitrary CSV bytes, into
 * program 1 of the baseline database of fuzz_store.h (people E1..E6, one terminated, one on
 * leave, E3 already enrolled), reset before every input. The program declares the topics
 * ai_tools, leadership and strategy, so other topics give warnings.
 *
 * Each input is imported as a dry run, then for real, and the contract is checked:
 *  - a dry run writes nothing (not a row, not even one rolled back);
 *  - both runs give the same verdict, counts, errors and warnings (a real run that fails
 *    where the dry run passed means validation missed something the database refused);
 *  - with errors nothing is written, not even a transaction begun; after any other failure
 *    the database is as it was;
 *  - every error and warning names the file; at most ENROLL_ERRORS_KEPT errors are kept, in
 *    file order; total = created + updated; each row counts on at least one side;
 *  - a successful import adds `created` enrollments and one event, and importing the same
 *    bytes again creates nothing.
 * An input naming a column "Employee" is read through the map "Employee=person".
 */
#include "fuzz.h"

#include "fuzz_store.h"
#include "program/enroll.h"

static struct store *st;
static uint64_t base_digest;
static long base_enrollments, base_events;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	st = fuzz_store_open(fuzz_baseline_sql);
	base_digest = fuzz_store_digest(st);
	base_enrollments = fuzz_store_count(st, "enrollments");
	base_events = fuzz_store_count(st, "events");
	return 0;
}

static long
line_of(const char *msg)
{
	FUZZ_CHECK(strncmp(msg, "survey.csv:", 11) == 0);
	char *end;
	long line = strtol(msg + 11, &end, 10);
	FUZZ_CHECK(*end == ':');
	return line;
}

static void
check_result(int rc, const struct enroll_result *res)
{
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(res->nkept == (res->nerrors < ENROLL_ERRORS_KEPT ? res->nerrors
								    : ENROLL_ERRORS_KEPT));
	if (res->nerrors > 0)
		FUZZ_CHECK(rc == -1);
	long prev = 0;
	for (int i = 0; i < res->nkept; i++) {
		long l = line_of(res->errors[i]);
		FUZZ_CHECK(l >= prev);
		prev = l;
	}
	for (int i = 0; i < res->nwarnings; i++)
		FUZZ_CHECK(res->warnings[i] != NULL && line_of(res->warnings[i]) > 0);
	if (rc == 0) {
		FUZZ_CHECK(res->total == res->created + res->updated);
		FUZZ_CHECK(res->mentors + res->mentees >= res->total);
	}
}

static void
check_same(const struct enroll_result *a, const struct enroll_result *b)
{
	FUZZ_CHECK(a->total == b->total && a->created == b->created && a->updated == b->updated);
	FUZZ_CHECK(a->mentors == b->mentors && a->mentees == b->mentees);
	FUZZ_CHECK(a->nerrors == b->nerrors && a->nkept == b->nkept);
	for (int i = 0; i < a->nkept; i++)
		FUZZ_CHECK(strcmp(a->errors[i], b->errors[i]) == 0);
	FUZZ_CHECK(a->nwarnings == b->nwarnings);
	for (int i = 0; i < a->nwarnings; i++)
		FUZZ_CHECK(strcmp(a->warnings[i], b->warnings[i]) == 0);
}

static int
run(const uint8_t *data, size_t size, int dry, struct enroll_result *res, struct diag *d)
{
	static const char *const topics[] = {"ai_tools", "leadership", "strategy"};
	static const char *const map[] = {"Employee=person"};
	struct enroll_opts o = {.map = map,
				.nmap = memmem(data, size, "Employee", 8) != NULL,
				.dry_run = dry,
				.actor = "fuzz",
				.topics = topics,
				.ntopics = 3};
	FILE *f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
	FUZZ_CHECK(f != NULL);
	diag_clear(d);
	int rc = enroll_import(st, 1, f, "survey.csv", &o, res, d);
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
	struct enroll_result dry;
	int rc_dry = run(data, size, 1, &dry, &d);
	FUZZ_CHECK(sqlite3_total_changes64(db) == changes);

	struct enroll_result real;
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
		FUZZ_CHECK(fuzz_store_count(st, "enrollments") == base_enrollments + real.created);
		FUZZ_CHECK(fuzz_store_count(st, "events") == base_events + 1);
		struct enroll_result again;
		int rc_again = run(data, size, 0, &again, &d);
		FUZZ_CHECK_MSG(rc_again == 0, again.nkept ? again.errors[0] : d.msg);
		FUZZ_CHECK(again.total == real.total && again.created == 0);
		enroll_result_fini(&again);
	}
	enroll_result_fini(&dry);
	enroll_result_fini(&real);
	return 0;
}

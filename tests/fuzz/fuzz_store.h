/*
 * fuzz_store: a workspace database for the importer harnesses (fuzz_people, fuzz_enroll),
 * reset to the same baseline before every input. Include after fuzz.h.
 *
 *  - fuzz_baseline_sql: the rows both harnesses start from.
 *  - fuzz_store_open(sql): opens a fresh database in the scratch folder (the real store_open,
 *    migrations included), with a fixed clock (2026-03-01) and synchronous=OFF (the files
 *    are scratch: fsync would only slow the fuzzer down), runs `sql` to lay down the
 *    baseline, and keeps a copy of it in memory.
 *  - fuzz_store_reset(st): puts the baseline back (sqlite3 backup from the copy) when
 *    anything was written since the last reset, so every input sees the same database.
 *  - fuzz_store_digest(st): a hash of every row of every table: "nothing changed" is
 *    digest equality.
 *  - fuzz_store_count(st, table): rows in a table.
 */
#ifndef TANDEM_FUZZ_STORE_H
#define TANDEM_FUZZ_STORE_H

#include <sqlite3.h>

#include "base/clock.h"
#include "store/store.h"

static sqlite3 *fuzz_baseline;

/* The baseline both importer harnesses start from: people E1..E6 (E1 manages E2, who manages
 * E3 and E4; E3 manages E5; E4 is terminated, E5 on leave), program 1 'p1' (E3 enrolled as a
 * mentor). */
static const char fuzz_baseline_sql[] =
    "INSERT INTO programs (id, name, created_at) VALUES (1, 'p1', '2026-01-01T00:00:00Z');"
    "INSERT INTO people (id, external_id, name, email, timezone, level, manager_id, birth_year,"
    " generation, status, skills, created_at, updated_at) VALUES"
    " (1, 'E1', 'Ann Boss', 'ann@x.org', 'Europe/Paris', 9, NULL, 1962, 'baby_boomer',"
    "  'active', '[\"strategy\"]', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
    " (2, 'E2', 'Bob', 'bob@x.org', 'UTC', 6, 1, 1985, 'millennial', 'active', '[]',"
    "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
    " (3, 'E3', 'Cy', 'cy@x.org', 'America/New_York', 2, 2, 2000, 'gen_z', 'active', '[]',"
    "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
    " (4, 'E4', 'Di', 'di@x.org', 'UTC', 5, 2, NULL, NULL, 'terminated', '[]',"
    "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
    " (5, 'E5', 'Ed', 'ed@x.org', 'Asia/Tokyo', 3, 3, 1999, 'gen_z', 'leave', '[]',"
    "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
    " (6, 'E6', 'Fay', 'fay@x.org', 'Europe/Berlin', 4, 1, 1970, 'gen_x', 'active', '[]',"
    "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
    "INSERT INTO enrollments (program_id, person_id, role, created_at) VALUES"
    " (1, 3, 'mentor', '2026-01-01T00:00:00Z');";

/* A virtual clock stopped at 2026-03-01T00:00:00Z: every input sees the same "now". */
static struct clock fuzz_clock;

static uint64_t
fuzz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static __attribute__((unused)) uint64_t
fuzz_store_digest(struct store *st)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *tables;
	FUZZ_CHECK(sqlite3_prepare_v2(db,
				      "SELECT name FROM sqlite_master WHERE type = 'table' "
				      "AND name NOT LIKE 'sqlite_%' ORDER BY name",
				      -1, &tables, NULL) == SQLITE_OK);
	uint64_t h = 0xcbf29ce484222325ULL;
	int rc;
	while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		h = fuzz_fnv(h, name, strlen(name) + 1);
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY rowid", name);
		sqlite3_stmt *rows;
		FUZZ_CHECK(sqlite3_prepare_v2(db, sql, -1, &rows, NULL) == SQLITE_OK);
		int r;
		while ((r = sqlite3_step(rows)) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(rows); c++) {
				int type = sqlite3_column_type(rows, c);
				h = fuzz_fnv(h, &type, sizeof(type));
				const void *v = sqlite3_column_blob(rows, c);
				int n = sqlite3_column_bytes(rows, c);
				if (v != NULL)
					h = fuzz_fnv(h, v, (size_t)n);
				h = fuzz_fnv(h, &n, sizeof(n));
			}
		}
		FUZZ_CHECK(r == SQLITE_DONE);
		sqlite3_finalize(rows);
	}
	FUZZ_CHECK(rc == SQLITE_DONE);
	sqlite3_finalize(tables);
	return h;
}

static __attribute__((unused)) long
fuzz_store_count(struct store *st, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	sqlite3_stmt *s;
	FUZZ_CHECK(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_step(s) == SQLITE_ROW);
	long n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Copies database src into dst (whole pages), through SQLite's online backup. */
static void
fuzz_copy_db(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	FUZZ_CHECK(b != NULL);
	FUZZ_CHECK(sqlite3_backup_step(b, -1) == SQLITE_DONE);
	FUZZ_CHECK(sqlite3_backup_finish(b) == SQLITE_OK);
}

static __attribute__((unused)) struct store *
fuzz_store_open(const char *baseline_sql)
{
	struct diag d;
	struct store *st = store_open(fuzz_path("tandem.db"), STORE_CREATE, &d);
	if (st == NULL) {
		fprintf(stderr, "fuzz: store_open: %s\n", d.msg);
		abort();
	}
	clock_virtual_init(&fuzz_clock, (time_t)1772323200);
	store_set_clock(st, &fuzz_clock);
	if (store_exec(st, "PRAGMA synchronous = OFF", &d) != 0 ||
	    (baseline_sql != NULL && store_exec(st, baseline_sql, &d) != 0)) {
		fprintf(stderr, "fuzz: baseline: %s\n", d.msg);
		abort();
	}
	FUZZ_CHECK(sqlite3_open(":memory:", &fuzz_baseline) == SQLITE_OK);
	fuzz_copy_db(fuzz_baseline, store_db(st));
	return st;
}

static __attribute__((unused)) void
fuzz_store_reset(struct store *st)
{
	static uint64_t last = 0;
	static int known = 0;
	/* total_changes counts every row written (rolled back or not) on this connection. */
	uint64_t now = (uint64_t)sqlite3_total_changes64(store_db(st));
	if (known && now == last)
		return;
	FUZZ_CHECK(store_depth(st) == 0);
	fuzz_copy_db(store_db(st), fuzz_baseline);
	last = (uint64_t)sqlite3_total_changes64(store_db(st));
	known = 1;
}

#endif

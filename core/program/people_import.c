/*
 * people_import: the driver of a people import (people_import() in people.h). It owns the
 * import context (struct pimport), sizes its buffers from the file, then runs the steps of
 * people_import.h in order: read and check the file (people_csv.c), check it against the
 * database (people_check.c), and, when no problem was found and it is not a dry run, write
 * it (people_write.c). Errors are sorted by line before they are returned; the time of each
 * phase is logged at debug level.
 */
#include "program/people_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/pages.h"
#include "store/store.h"

/* ---- phase timings ------------------------------------------------------------------- */

/* CPU time is the process's, which base/clock does not keep: this is a profile, not a time
 * of the domain, so it reads the system directly. */
static void
people_times_now(struct timespec *wall, struct timespec *cpu)
{
	clock_gettime(CLOCK_MONOTONIC, wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, cpu);
}

void
people_times_start(struct people_times *t)
{
	people_times_now(&t->wall, &t->cpu);
	t->len = 0;
	t->text[0] = '\0';
}

static double
people_times_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void
people_times_mark(struct people_times *t, const char *phase)
{
	struct timespec wall, cpu;
	people_times_now(&wall, &cpu);
	if (t->len < sizeof(t->text)) {
		int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s%s %.3f/%.3f",
				 t->len ? ", " : "", phase, people_times_diff(&t->wall, &wall),
				 people_times_diff(&t->cpu, &cpu));
		t->len += n > 0 ? (size_t)n : 0;
	}
	t->wall = wall;
	t->cpu = cpu;
}

/* ---- the import ------------------------------------------------------------------------ */

static void
pimport_fini(struct pimport *im)
{
	free(im->colfield);
	free(im->colname);
	pages_free(im->rows, (size_t)im->caprows * sizeof(*im->rows));
	free(im->db);
	strmap_fini(&im->ids);
	strmap_fini(&im->emails);
	strmap_fini(&im->dbext);
	strmap_fini(&im->dbemail);
	strmap_fini(&im->zones);
	strmap_fini(&im->lists);
	free(im->list_json);
	arena_fini(&im->arena);
}

int
people_import(struct store *st, FILE *f, const char *name, const struct people_import_opts *o,
	      struct people_import_result *res, struct diag *d)
{
	static const struct people_import_opts defaults;
	struct diag local;
	if (d == NULL)
		d = &local;
	memset(res, 0, sizeof(*res));
	diag_clear(d);
	struct pimport im = {.st = st, .name = name, .o = o ? o : &defaults, .res = res};
	people_times_start(&im.times);
	/* Blocks of 4 MiB: a big import's text needs few, a small one's is one. */
	arena_init(&im.arena, 4u << 20);
	strmap_init(&im.ids, 0);
	strmap_init(&im.emails, 0);
	strmap_init(&im.zones, 0);
	strmap_init(&im.lists, 0);
	strmap_init(&im.dbext, 0);
	strmap_init(&im.dbemail, 0);
	time_t now = store_time(st);
	struct tm tm;
	gmtime_r(&now, &tm);
	im.this_year = tm.tm_year + 1900;

	struct csv_reader *r = csv_reader_new_file(f, name, d);
	if (r == NULL)
		return -1;
	if (csv_reader_set_input(r, im.o->encoding, im.o->delimiter, d) != 0) {
		csv_reader_delete(r);
		pimport_fini(&im);
		return -1;
	}
	/* A people row is typically 100-300 bytes: size the maps and rows from the file once
	 * (a low guess only means some growing later). */
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
		size_t guess = (size_t)sb.st_size / 160 + 16;
		if (guess > 4000000)
			guess = 4000000;
		/* Hints: a map or array that cannot be sized now grows as it fills. */
		(void)strmap_reserve(&im.ids, guess, NULL);
		(void)strmap_reserve(&im.emails, guess, NULL);
		/* A good first guess saves copying (and page-faulting) the row array as it doubles. */
		(void)people_reserve_rows(&im, guess);
		/* The cells, plus lower-case e-mail keys, fit in one arena block. */
		size_t text = (size_t)sb.st_size + (size_t)sb.st_size / 4;
		(void)arena_reserve(&im.arena, text < (256u << 20) ? text : (256u << 20), NULL);
	}
	int rc = people_read_all(&im, r, d);
	csv_reader_delete(r);
	people_times_mark(&im.times, "read");
	/* Cross-row checks run even after row errors, so one run reports every problem. */
	if (rc == 0 && im.ncols > 0 && im.fieldcol[PF_ID] >= 0) {
		if (people_load_db(&im, d) != 0)
			rc = -1;
		else {
			people_check_db_emails(&im);
			people_resolve_managers(&im);
			rc = people_check_cycles(&im, d);
		}
		people_times_mark(&im.times, "check");
	}
	if (rc == 0 && res->nerrors > 0 && people_err_sort(&im, d) != 0)
		rc = -1;
	if (rc == 0 && res->nerrors > 0) {
		diag_set(d, DIAG_INVALID, "%s: %ld error%s; nothing was imported", name, res->nerrors,
			 res->nerrors == 1 ? "" : "s");
		rc = -1;
	}
	if (rc == 0) {
		people_mark_unchanged(&im);
		res->total = im.nrows;
		for (int i = 0; i < im.nrows; i++) {
			res->created += im.rows[i].db_id == 0;
			res->unchanged += im.rows[i].same;
		}
		res->updated = res->total - res->created - res->unchanged;
		if (!im.o->dry_run)
			rc = people_write(&im, d);
	}
	pimport_fini(&im);
	people_times_mark(&im.times, "free");
	tlog(TLOG_DEBUG, "%s: %d rows; phases (wall/cpu s): %s", name, im.nrows, im.times.text);
	return rc;
}

int
people_import_file(struct store *st, const char *path, const struct people_import_opts *o,
		   struct people_import_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return diag_set(d, DIAG_IO, "cannot open %s: %s", path, strerror(errno));
	int rc = people_import(st, f, path, o, res, d);
	fclose(f);
	return rc;
}

void
people_import_result_fini(struct people_import_result *res)
{
	for (int i = 0; i < res->nkept; i++)
		free(res->errors[i]);
	free(res->errors);
	memset(res, 0, sizeof(*res));
}


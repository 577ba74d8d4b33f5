/*
 * tandem: the public embedding API (tandem.h), a thin facade over the core
 * modules that converts their diagnostics into struct tandem_error and adds no
 * behaviour of its own. This file: errors, version, the workspace handle, people
 * and enrollments, the matching primitive. tandem_match.c: policies and match
 * runs. Called by embedders only (the CLI and the tests use the modules below).
 *
 * Every entry point checks its handle and required arguments for NULL first, so
 * that a caller's mistake is an error code rather than a crash.
 */
#include "tandem_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "match/match.h"
#include "program/config.h"
#include "program/enroll.h"
#include "program/matches.h"
#include "program/people.h"
#include "privacy/erase.h"
#include "store/store.h"

_Static_assert((int)TANDEM_EINTERNAL == (int)DIAG_INTERNAL, "tandem_code mirrors diag_code");
_Static_assert((int)TANDEM_LOG_ERROR == (int)TLOG_ERROR, "tandem_log_level mirrors tlog_level");

/* ---- errors shared by the facade ---------------------------------------------- */

void *
tandem__fail(struct tandem_error *err, const struct diag *d)
{
	if (err != NULL) {
		err->code = d->code ? d->code : TANDEM_EINTERNAL;
		snprintf(err->message, sizeof(err->message), "%s",
			 d->msg[0] ? d->msg : "unknown error");
	}
	return NULL;
}

int
tandem__fail_int(struct tandem_error *err, const struct diag *d)
{
	tandem__fail(err, d);
	return -1;
}

void
tandem__ok(struct tandem_error *err)
{
	if (err != NULL) {
		err->code = TANDEM_OK;
		err->message[0] = '\0';
	}
}

int
tandem__null_arg(struct tandem_error *err, const char *fn, const char *arg)
{
	struct diag d;
	diag_set(&d, DIAG_INVALID, "%s: %s is NULL", fn, arg);
	return tandem__fail_int(err, &d);
}

char *
tandem__ws_path(const struct tandem *t, const char *rel, struct diag *d)
{
	size_t n = strlen(t->dir) + 1 + strlen(rel) + 1;
	char *p = malloc(n);
	if (p == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	snprintf(p, n, "%s/%s", t->dir, rel);
	return p;
}

/* ---- version, logging, memory ---------------------------------------------------- */

const char *
tandem_code_name(int code)
{
	return diag_code_name(code);
}

const char *
tandem_version(void)
{
	return TANDEM_VERSION_STRING;
}

void
tandem_set_log_handler(tandem_message_fn fn, void *ud)
{
	tlog_set_handler(fn, ud);
}

void
tandem_free(void *p)
{
	free(p);
}

/* ---- the workspace --------------------------------------------------------------- */

/* Creates dir (one level) when missing; an existing non-folder is an error. */
static int
make_dir(const char *dir, struct diag *d)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return diag_set(d, DIAG_IO, "cannot create folder %s: %s", dir, strerror(errno));
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return diag_set(d, DIAG_INVALID, "%s exists and is not a folder", dir);
	return 0;
}

struct tandem *
tandem_open(const char *dir, int flags, struct tandem_error *err)
{
	if (dir == NULL) {
		tandem__null_arg(err, "tandem_open", "dir");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	struct tandem *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->dir = strdup(dir)) == NULL ||
	    (t->actor = strdup("libtandem")) == NULL) {
		diag_set(&d, DIAG_NOMEM, "out of memory");
		goto fail;
	}
	if ((flags & TANDEM_OPEN_CREATE) && make_dir(dir, &d) != 0)
		goto fail;
	char *db = tandem__ws_path(t, "tandem.db", &d);
	if (db == NULL)
		goto fail;
	if (!(flags & TANDEM_OPEN_CREATE) && access(db, F_OK) != 0) {
		diag_set(&d, DIAG_NOTFOUND, "no workspace at %s (tandem.db missing)", dir);
		free(db);
		goto fail;
	}
	t->st = store_open(db, (flags & TANDEM_OPEN_CREATE) ? STORE_CREATE : 0, &d);
	free(db);
	if (t->st == NULL)
		goto fail;
	tandem__ok(err);
	return t;
fail:
	tandem_close(t);
	return tandem__fail(err, &d);
}

void
tandem_close(struct tandem *t)
{
	if (t == NULL)
		return;
	store_close(t->st);
	free(t->dir);
	free(t->actor);
	free(t);
}

int
tandem_set_actor(struct tandem *t, const char *actor, struct tandem_error *err)
{
	if (t == NULL)
		return tandem__null_arg(err, "tandem_set_actor", "handle");
	if (actor == NULL)
		return tandem__null_arg(err, "tandem_set_actor", "actor");
	char *s = strdup(actor);
	if (s == NULL) {
		struct diag d;
		diag_set(&d, DIAG_NOMEM, "out of memory");
		return tandem__fail_int(err, &d);
	}
	free(t->actor);
	t->actor = s;
	tandem__ok(err);
	return 0;
}

/* ---- imports ----------------------------------------------------------------------- */

/*
 * The failure of an import: with validation errors the message is the first one
 * (so that it names FILE:LINE:COLUMN) and the count; otherwise the core's.
 */
static int
import_failed(struct tandem_error *err, const struct diag *d, char *const *errors, int nkept,
	      long nerrors)
{
	if (nerrors > 0 && nkept > 0) {
		struct diag v;
		diag_set(&v, d->code, "%s (%ld error%s; nothing was imported)", errors[0], nerrors,
			 nerrors == 1 ? "" : "s");
		return tandem__fail_int(err, &v);
	}
	return tandem__fail_int(err, d);
}

/* Opens a memory buffer as a FILE for the importers (read-only; never written). */
static FILE *
open_buffer(const void *data, size_t len, struct diag *d)
{
	FILE *f = fmemopen((void *)data, len, "r");
	if (f == NULL)
		diag_set(d, DIAG_IO, "cannot read the buffer: %s", strerror(errno));
	return f;
}

/* One of path / (data, len) is the source; name names it in messages. */
static int
people_import_any(struct tandem *t, const char *path, const char *name, const void *data,
		  size_t len, int dry_run, struct tandem_import_summary *summary,
		  tandem_message_fn on_message, void *ud, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct people_import_opts o = {.dry_run = dry_run, .actor = t->actor};
	struct people_import_result res;
	int rc;
	if (path != NULL) {
		rc = people_import_file(t->st, path, &o, &res, &d);
	} else {
		FILE *f = open_buffer(data, len, &d);
		if (f == NULL)
			return tandem__fail_int(err, &d);
		rc = people_import(t->st, f, name, &o, &res, &d);
		fclose(f);
	}
	if (on_message != NULL)
		for (int i = 0; i < res.nkept; i++)
			on_message(ud, TANDEM_LOG_ERROR, res.errors[i]);
	if (summary != NULL) {
		memset(summary, 0, sizeof(*summary));
		summary->total = res.total;
		summary->created = res.created;
		summary->updated = res.updated;
		summary->unchanged = res.unchanged;
		summary->errors = res.nerrors;
	}
	if (rc != 0)
		rc = import_failed(err, &d, res.errors, res.nkept, res.nerrors);
	else
		tandem__ok(err);
	people_import_result_fini(&res);
	return rc;
}

int
tandem_import_people(struct tandem *t, const char *csv_path, int dry_run,
		     struct tandem_import_summary *summary, tandem_message_fn on_message,
		     void *ud, struct tandem_error *err)
{
	if (t == NULL)
		return tandem__null_arg(err, "tandem_import_people", "handle");
	if (csv_path == NULL)
		return tandem__null_arg(err, "tandem_import_people", "csv_path");
	return people_import_any(t, csv_path, csv_path, NULL, 0, dry_run, summary, on_message, ud,
				 err);
}

int
tandem_import_people_buffer(struct tandem *t, const char *name, const void *data, size_t len,
			    int dry_run, struct tandem_import_summary *summary,
			    tandem_message_fn on_message, void *ud, struct tandem_error *err)
{
	if (t == NULL)
		return tandem__null_arg(err, "tandem_import_people_buffer", "handle");
	if (data == NULL && len > 0)
		return tandem__null_arg(err, "tandem_import_people_buffer", "data");
	return people_import_any(t, NULL, name ? name : "buffer", data ? data : "", len, dry_run,
				 summary, on_message, ud, err);
}

int
tandem__open_program(struct tandem *t, const char *program, struct config *cfg,
		     const struct config_program **prog, int64_t *id, struct diag *d)
{
	memset(cfg, 0, sizeof(*cfg));
	char *path = tandem__ws_path(t, "tandem.lua", d);
	if (path == NULL)
		return -1;
	int rc = matches_open_program(t->st, path, program, cfg, prog, id, d);
	free(path);
	return rc;
}

static int
enroll_import_any(struct tandem *t, const char *program, const char *path, const char *name,
		  const void *data, size_t len, int dry_run, struct tandem_import_summary *summary,
		  tandem_message_fn on_message, void *ud, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct config cfg;
	const struct config_program *prog;
	int64_t program_id;
	if (tandem__open_program(t, program, &cfg, &prog, &program_id, &d) != 0) {
		config_fini(&cfg);
		return tandem__fail_int(err, &d);
	}
	struct enroll_opts o = {.dry_run = dry_run,
				.actor = t->actor,
				.topics = (const char *const *)prog->topics,
				.ntopics = prog->ntopics};
	struct enroll_result res;
	int rc;
	if (path != NULL) {
		rc = enroll_import_file(t->st, program_id, path, &o, &res, &d);
	} else {
		FILE *f = open_buffer(data, len, &d);
		if (f == NULL) {
			config_fini(&cfg);
			return tandem__fail_int(err, &d);
		}
		rc = enroll_import(t->st, program_id, f, name, &o, &res, &d);
		fclose(f);
	}
	config_fini(&cfg);
	if (on_message != NULL) {
		for (int i = 0; i < res.nwarnings; i++)
			on_message(ud, TANDEM_LOG_WARN, res.warnings[i]);
		for (int i = 0; i < res.nkept; i++)
			on_message(ud, TANDEM_LOG_ERROR, res.errors[i]);
	}
	if (summary != NULL) {
		memset(summary, 0, sizeof(*summary));
		summary->total = res.total;
		summary->created = res.created;
		summary->updated = res.updated;
		summary->mentors = res.mentors;
		summary->mentees = res.mentees;
		summary->errors = res.nerrors;
		summary->warnings = res.nwarnings;
	}
	if (rc != 0)
		rc = import_failed(err, &d, res.errors, res.nkept, res.nerrors);
	else
		tandem__ok(err);
	enroll_result_fini(&res);
	return rc;
}

int
tandem_import_enrollments(struct tandem *t, const char *program, const char *csv_path,
			  int dry_run, struct tandem_import_summary *summary,
			  tandem_message_fn on_message, void *ud, struct tandem_error *err)
{
	if (t == NULL)
		return tandem__null_arg(err, "tandem_import_enrollments", "handle");
	if (program == NULL)
		return tandem__null_arg(err, "tandem_import_enrollments", "program");
	if (csv_path == NULL)
		return tandem__null_arg(err, "tandem_import_enrollments", "csv_path");
	return enroll_import_any(t, program, csv_path, csv_path, NULL, 0, dry_run, summary,
				 on_message, ud, err);
}

int
tandem_import_enrollments_buffer(struct tandem *t, const char *program, const char *name,
				 const void *data, size_t len, int dry_run,
				 struct tandem_import_summary *summary,
				 tandem_message_fn on_message, void *ud, struct tandem_error *err)
{
	if (t == NULL)
		return tandem__null_arg(err, "tandem_import_enrollments_buffer", "handle");
	if (program == NULL)
		return tandem__null_arg(err, "tandem_import_enrollments_buffer", "program");
	if (data == NULL && len > 0)
		return tandem__null_arg(err, "tandem_import_enrollments_buffer", "data");
	return enroll_import_any(t, program, NULL, name ? name : "buffer", data ? data : "", len,
				 dry_run, summary, on_message, ud, err);
}

/* ---- reading people back, erasing ----------------------------------------------- */

/* Serializes a JSON value the core built (or its failure) for the caller. */
char *
tandem__json_result(json_t *v, struct tandem_error *err, const struct diag *d)
{
	if (v == NULL)
		return tandem__fail(err, d);
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (s == NULL) {
		struct diag oom;
		diag_set(&oom, DIAG_NOMEM, "out of memory");
		return tandem__fail(err, &oom);
	}
	tandem__ok(err);
	return s;
}

char *
tandem_people_json(struct tandem *t, struct tandem_error *err)
{
	if (t == NULL) {
		tandem__null_arg(err, "tandem_people_json", "handle");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	return tandem__json_result(people_list_json(t->st, &d), err, &d);
}

char *
tandem_person_export_json(struct tandem *t, const char *person, struct tandem_error *err)
{
	if (t == NULL || person == NULL) {
		tandem__null_arg(err, "tandem_person_export_json", t ? "person" : "handle");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	return tandem__json_result(people_export_json(t->st, person, &d), err, &d);
}

int
tandem_person_erase(struct tandem *t, const char *person, struct tandem_error *err)
{
	if (t == NULL || person == NULL)
		return tandem__null_arg(err, "tandem_person_erase", t ? "person" : "handle");
	struct diag d;
	diag_clear(&d);
	struct privacy_erase_result res;
	int rc = privacy_erase(t->st, t->dir, person, &res, &d);
	if (rc == 0 && res.failed > 0)
		rc = diag_set(&d, DIAG_IO,
			      "erased, but %ld file%s could not be removed or rewritten; they are "
			      "tried again at the next erasure",
			      res.failed, res.failed == 1 ? "" : "s");
	privacy_erase_result_fini(&res);
	if (rc != 0)
		return tandem__fail_int(err, &d);
	tandem__ok(err);
	return 0;
}

/* ---- the matching primitive -------------------------------------------------------- */

int
tandem_assign(const double *scores, int nr, int nc, const unsigned char *forbidden,
	      const int *capacity, int maximize, int *row_to_col, double *total,
	      struct tandem_error *err)
{
	if (scores == NULL || row_to_col == NULL || total == NULL)
		return tandem__null_arg(err, "tandem_assign",
					scores == NULL ? "scores" : row_to_col ? "total" : "row_to_col");
	struct diag d;
	diag_clear(&d);
	struct match_dense m = {.nr = nr, .nc = nc, .dtype = MATCH_F64, .scores = scores,
				.forbidden = forbidden};
	struct match_opts o = {.maximize = maximize, .capacity = capacity};
	struct match_result res;
	if (match_assign(&m, &o, &res, &d) != 0)
		return tandem__fail_int(err, &d);
	memcpy(row_to_col, res.row_to_col, (size_t)nr * sizeof(int));
	*total = res.total;
	match_result_fini(&res);
	tandem__ok(err);
	return 0;
}

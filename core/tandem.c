/*
 * tandem: the public embedding API (tandem.h), a thin facade over the core
 * modules (store, people, match) that converts their diagnostics into
 * struct tandem_error. It adds no behaviour of its own.
 */
#include "tandem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/diag.h"
#include "match/match.h"
#include "program/people.h"
#include "store/store.h"

_Static_assert((int)TANDEM_EINTERNAL == (int)DIAG_INTERNAL, "tandem_code mirrors diag_code");
_Static_assert((int)TANDEM_LOG_ERROR == (int)TLOG_ERROR, "tandem_log_level mirrors tlog_level");

struct tandem {
	struct store *st;
};

static void *
fail(struct tandem_error *err, const struct diag *d)
{
	if (err != NULL) {
		err->code = d->code ? d->code : TANDEM_EINTERNAL;
		snprintf(err->message, sizeof(err->message), "%s", d->msg);
	}
	return NULL;
}

static int
fail_int(struct tandem_error *err, const struct diag *d)
{
	fail(err, d);
	return -1;
}

static void
ok(struct tandem_error *err)
{
	if (err != NULL) {
		err->code = TANDEM_OK;
		err->message[0] = '\0';
	}
}

const char *
tandem_version(void)
{
	return TANDEM_VERSION;
}

void
tandem_set_log_handler(void (*fn)(void *ud, int level, const char *message), void *ud)
{
	tlog_set_handler(fn, ud);
}

void
tandem_free(void *p)
{
	free(p);
}

struct tandem *
tandem_open(const char *db_path, int create, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct tandem *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		diag_set(&d, DIAG_NOMEM, "out of memory");
		return fail(err, &d);
	}
	t->st = store_open(db_path, create ? STORE_CREATE : 0, &d);
	if (t->st == NULL) {
		free(t);
		return fail(err, &d);
	}
	ok(err);
	return t;
}

void
tandem_close(struct tandem *t)
{
	if (t == NULL)
		return;
	store_close(t->st);
	free(t);
}

int
tandem_import_people(struct tandem *t, const char *csv_path, int dry_run,
		     struct tandem_import_summary *summary,
		     void (*on_error)(void *ud, const char *message), void *ud,
		     struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct people_import_opts o = {.dry_run = dry_run, .actor = "libtandem"};
	struct people_import_result res;
	int rc = people_import_file(t->st, csv_path, &o, &res, &d);
	if (on_error != NULL)
		for (int i = 0; i < res.nkept; i++)
			on_error(ud, res.errors[i]);
	if (summary != NULL) {
		summary->total = res.total;
		summary->created = res.created;
		summary->updated = res.updated;
		summary->unchanged = res.unchanged;
		summary->errors = res.nerrors;
	}
	people_import_result_fini(&res);
	if (rc != 0)
		return fail_int(err, &d);
	ok(err);
	return 0;
}

/* Serializes a JSON value the core built (or its failure) for the caller. */
static char *
json_result(json_t *v, struct tandem_error *err, const struct diag *d)
{
	if (v == NULL)
		return fail(err, d);
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (s == NULL) {
		struct diag oom = {.code = DIAG_NOMEM, .msg = "out of memory"};
		return fail(err, &oom);
	}
	ok(err);
	return s;
}

char *
tandem_people_json(struct tandem *t, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	return json_result(people_list_json(t->st, &d), err, &d);
}

char *
tandem_person_export_json(struct tandem *t, const char *person, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	return json_result(people_export_json(t->st, person, &d), err, &d);
}

int
tandem_person_erase(struct tandem *t, const char *person, struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct people_erase_result res;
	if (people_erase(t->st, person, &res, &d) != 0)
		return fail_int(err, &d);
	ok(err);
	return 0;
}

int
tandem_assign(const double *scores, int nr, int nc, const unsigned char *forbidden,
	      const int *capacity, int maximize, int *row_to_col, double *total,
	      struct tandem_error *err)
{
	struct diag d;
	diag_clear(&d);
	struct match_dense m = {.nr = nr, .nc = nc, .dtype = MATCH_F64, .scores = scores,
				.forbidden = forbidden};
	struct match_opts o = {.maximize = maximize, .capacity = capacity};
	struct match_result res;
	if (match_assign(&m, &o, &res, &d) != 0)
		return fail_int(err, &d);
	memcpy(row_to_col, res.row_to_col, (size_t)nr * sizeof(int));
	*total = res.total;
	match_result_fini(&res);
	ok(err);
	return 0;
}

/*
 * stmt: checked prepared statements. A thin layer over sqlite3_stmt that checks every
 * return code (prepare, each bind, step, reset, column conversions) and turns a failure
 * into a diag naming the statement and, for a bind, the parameter.
 *
 * Called by: every module that runs its own SQL (people, enroll, config, matches,
 * events, store itself). Use it instead of calling sqlite3_bind_* / sqlite3_step
 * directly, so no return code goes unchecked.
 *
 * Contract:
 *  - A statement is named when prepared; the name is a static string that reads as the
 *    context of an error ("recording the import event", "inserting enrollments"). Every
 *    diag starts with it: "recording the import event: binding parameter 3 (?3): string
 *    or blob too big".
 *  - Every function that can fail returns 0 (or STMT_ROW/STMT_DONE for a step) on
 *    success and -1 with the diag filled, so a whole bind list is checked in one
 *    expression, evaluated left to right and stopping at the first failure:
 *        if (stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, name, d) ||
 *            stmt_bind_null(&s, 3, d) || stmt_run(&s, d))
 *                goto fail;
 *  - stmt_bind_text/stmt_bind_blob do not copy: the bytes must stay valid until the
 *    parameter is bound again, the statement is reset with new bindings, or finalized.
 *    stmt_bind_text_copy copies. A NULL text or blob pointer binds SQL NULL.
 *  - stmt_step returns STMT_ROW (a row is ready for the column readers), STMT_DONE, or
 *    -1. stmt_run is for statements that return no row: one step that must be
 *    STMT_DONE, then a reset so the statement can be bound and run again.
 *  - Column readers that cannot fail return the value directly; stmt_text and
 *    stmt_blob can run out of memory converting a value, so they are checked (SQL NULL
 *    is not an error: *out is NULL).
 *  - stmt_finalize is safe on a zeroed or already finalized struct stmt, so a function
 *    can declare `struct stmt s = {0};` and finalize on every path.
 *  - Statements prepared here are kept by the store when finalized (the statement cache,
 *    store.h) and the next stmt_prepare of the same SQL text takes one back, reset and
 *    unbound: preparing once per connection, not once per call. A statement set up by
 *    hand (sqlite3_prepare_v3 into .s, keep = 0) is finalized for real.
 */
#ifndef TANDEM_STMT_H
#define TANDEM_STMT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/diag.h"
#include "store/store.h"

struct stmt {
	sqlite3_stmt *s;  /* NULL until prepared, and after stmt_finalize */
	struct store *st; /* for the connection's error message */
	const char *name; /* context of every diag; not copied */
	int keep;         /* prepared by stmt_prepare: stmt_finalize gives it to the store's cache */
};

enum { STMT_DONE = 0, STMT_ROW = 1 };

/* Prepares sql on the store's connection. 0, or -1 + "PATH: preparing NAME: SQLite message". */
int stmt_prepare(struct stmt *s, struct store *st, const char *name, const char *sql,
		 struct diag *d);

/* Finalizes (a no-op on a zeroed or finalized struct). Errors of the last step were
 * reported by stmt_step already, so finalize reports nothing. */
void stmt_finalize(struct stmt *s);

/*
 * Binders: parameter i counts from 1. 0, or -1 + "NAME: binding parameter I (NAME): why".
 * Inline, because an import binds millions of values: the check costs a compare, the
 * message is built out of line by stmt_bind_failed().
 */
int stmt_bind_failed(struct stmt *s, int i, int rc, struct diag *d);

static inline int
stmt_bind_int64(struct stmt *s, int i, int64_t v, struct diag *d)
{
	int rc = sqlite3_bind_int64(s->s, i, v);
	return rc == SQLITE_OK ? 0 : stmt_bind_failed(s, i, rc, d);
}

static inline int
stmt_bind_double(struct stmt *s, int i, double v, struct diag *d)
{
	int rc = sqlite3_bind_double(s->s, i, v);
	return rc == SQLITE_OK ? 0 : stmt_bind_failed(s, i, rc, d);
}

static inline int
stmt_bind_null(struct stmt *s, int i, struct diag *d)
{
	int rc = sqlite3_bind_null(s->s, i);
	return rc == SQLITE_OK ? 0 : stmt_bind_failed(s, i, rc, d);
}

/* Not copied. */
static inline int
stmt_bind_text(struct stmt *s, int i, const char *v, struct diag *d)
{
	int rc = sqlite3_bind_text(s->s, i, v, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : stmt_bind_failed(s, i, rc, d);
}

/* The first n bytes of v, not copied. */
int stmt_bind_textn(struct stmt *s, int i, const char *v, size_t n, struct diag *d);
int stmt_bind_text_copy(struct stmt *s, int i, const char *v, struct diag *d);
/* Not copied. */
int stmt_bind_blob(struct stmt *s, int i, const void *p, size_t n, struct diag *d);

/* The number of parameters the statement takes (the largest ?N). */
int stmt_param_count(const struct stmt *s);

/* STMT_ROW, STMT_DONE, or -1 + "NAME: SQLite message" (DIAG_CONFLICT for a constraint). */
int stmt_step(struct stmt *s, struct diag *d);

/* One step that must finish (STMT_DONE), then a reset; 0 or -1. A row is an error. */
int stmt_run(struct stmt *s, struct diag *d);

/* Resets for another run, keeping the bindings. On an error path pass d = NULL: reset
 * repeats the error of the failed step, already in the diag. */
int stmt_reset(struct stmt *s, struct diag *d);

/* Column readers of the current row; col counts from 0. Inline, like the binders: a scan
 * reads millions of cells. */
static inline int64_t
stmt_int64(const struct stmt *s, int col)
{
	return sqlite3_column_int64(s->s, col);
}

double stmt_double(const struct stmt *s, int col);

/* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL. */
static inline int
stmt_type(const struct stmt *s, int col)
{
	return sqlite3_column_type(s->s, col);
}

static inline int
stmt_is_null(const struct stmt *s, int col)
{
	return sqlite3_column_type(s->s, col) == SQLITE_NULL;
}

int stmt_column_count(const struct stmt *s);

/* After a NULL from SQLite's column reader: 0 (the value is SQL NULL) or -1 + DIAG_NOMEM. */
int stmt_column_failed(struct stmt *s, int col, struct diag *d);

/* *out: the column as text (NULL for SQL NULL), valid until the next step, reset or
 * finalize. -1 + DIAG_NOMEM when SQLite could not convert the value. */
static inline int
stmt_text(struct stmt *s, int col, const char **out, struct diag *d)
{
	/* The NULL case is sorted out of line: SQL NULL, or out of memory. */
	*out = (const char *)sqlite3_column_text(s->s, col);
	return *out != NULL ? 0 : stmt_column_failed(s, col, d);
}

/* The column as a malloc'd string (fallback for SQL NULL); NULL + DIAG_NOMEM. */
char *stmt_text_dup(struct stmt *s, int col, const char *fallback, struct diag *d);

/* *p, *n: the column as bytes (NULL, 0 for SQL NULL or an empty blob). -1 on out of memory. */
int stmt_blob(struct stmt *s, int col, const void **p, size_t *n, struct diag *d);

/* The column's name (for exports); -1 + DIAG_NOMEM if SQLite could not allocate it. */
int stmt_column_name(struct stmt *s, int col, const char **out, struct diag *d);

/* Prepares sql, steps once and reads column 0 of the first row as an integer (*out = 0
 * when there is no row), then finalizes: for PRAGMAs and counts. 0 or -1. */
int stmt_query_int64(struct store *st, const char *name, const char *sql, int64_t *out,
		     struct diag *d);

#endif

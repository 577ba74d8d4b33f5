/*
 * stmt: checked prepared statements. See stmt.h for the contract.
 */
#include "store/stmt.h"

#include <limits.h>
#include <string.h>

/* A bind failed with rc: the statement, the parameter (by number and, when it has one,
 * by name) and SQLite's word for the code. */
int
stmt_bind_failed(struct stmt *s, int i, int rc, struct diag *d)
{
	const char *pname = s->s != NULL ? sqlite3_bind_parameter_name(s->s, i) : NULL;
	int code = DIAG_INTERNAL; /* out of range, misuse: the SQL and the code disagree */
	if (rc == SQLITE_NOMEM)
		code = DIAG_NOMEM;
	else if (rc == SQLITE_TOOBIG)
		code = DIAG_INVALID;
	return diag_set(d, code, "%s: binding parameter %d%s%s%s: %s", s->name, i,
			pname != NULL ? " (" : "", pname != NULL ? pname : "", pname != NULL ? ")" : "",
			sqlite3_errstr(rc));
}

static int
stmt_bound(struct stmt *s, int i, int rc, struct diag *d)
{
	return rc == SQLITE_OK ? 0 : stmt_bind_failed(s, i, rc, d);
}

int
stmt_prepare(struct stmt *s, struct store *st, const char *name, const char *sql,
	     struct diag *d)
{
	s->s = NULL;
	s->st = st;
	s->name = name;
	s->keep = 0;
	sqlite3_stmt *raw = store_stmt_take(st, sql);
	if (raw != NULL) {
		s->s = raw;
		s->keep = 1;
		return 0;
	}
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &raw, NULL) != SQLITE_OK) {
		store_error(st, d, "%s: preparing %s", store_path(st), name);
		sqlite3_finalize(raw);
		return -1;
	}
	s->s = raw;
	/* Kept only when its text is the whole of sql (a statement after the first one, or a
	 * trailing blank, would make the next lookup miss it). */
	s->keep = raw != NULL && sqlite3_sql(raw) != NULL && strcmp(sqlite3_sql(raw), sql) == 0;
	return 0;
}

void
stmt_finalize(struct stmt *s)
{
	if (s == NULL || s->s == NULL)
		return;
	/* Kept by the store's statement cache when it can (see store.h); the return values
	 * repeat the last step's error, which stmt_step reported. */
	if (!s->keep || s->st == NULL || store_stmt_give(s->st, s->s) != 0)
		(void)sqlite3_finalize(s->s);
	s->s = NULL;
}

int
stmt_bind_textn(struct stmt *s, int i, const char *v, size_t n, struct diag *d)
{
	if (n > INT_MAX)
		return stmt_bind_failed(s, i, SQLITE_TOOBIG, d);
	return stmt_bound(s, i, sqlite3_bind_text(s->s, i, v, (int)n, SQLITE_STATIC), d);
}

int
stmt_bind_text_copy(struct stmt *s, int i, const char *v, struct diag *d)
{
	return stmt_bound(s, i, sqlite3_bind_text(s->s, i, v, -1, SQLITE_TRANSIENT), d);
}

int
stmt_bind_blob(struct stmt *s, int i, const void *p, size_t n, struct diag *d)
{
	if (n > INT_MAX)
		return stmt_bind_failed(s, i, SQLITE_TOOBIG, d);
	return stmt_bound(s, i, sqlite3_bind_blob(s->s, i, p, (int)n, SQLITE_STATIC), d);
}

int
stmt_param_count(const struct stmt *s)
{
	return sqlite3_bind_parameter_count(s->s);
}

int
stmt_step(struct stmt *s, struct diag *d)
{
	int rc = sqlite3_step(s->s);
	if (rc == SQLITE_ROW)
		return STMT_ROW;
	if (rc == SQLITE_DONE)
		return STMT_DONE;
	return store_error(s->st, d, "%s", s->name);
}

int
stmt_run(struct stmt *s, struct diag *d)
{
	int rc = stmt_step(s, d);
	if (rc == STMT_ROW) {
		diag_set(d, DIAG_INTERNAL, "%s: returned a row where none was expected", s->name);
		rc = -1;
	}
	if (rc < 0) {
		(void)sqlite3_reset(s->s); /* repeats the step's error, reported above */
		return -1;
	}
	return stmt_reset(s, d);
}

int
stmt_reset(struct stmt *s, struct diag *d)
{
	if (sqlite3_reset(s->s) != SQLITE_OK)
		return store_error(s->st, d, "%s", s->name);
	return 0;
}

double
stmt_double(const struct stmt *s, int col)
{
	return sqlite3_column_double(s->s, col);
}

int
stmt_column_count(const struct stmt *s)
{
	return sqlite3_column_count(s->s);
}

/* SQLite returns NULL both for SQL NULL and when a conversion ran out of memory; the
 * connection's error code, set by that very call, tells them apart. */
int
stmt_column_failed(struct stmt *s, int col, struct diag *d)
{
	if (sqlite3_errcode(store_db(s->st)) == SQLITE_NOMEM)
		return diag_set(d, DIAG_NOMEM, "%s: out of memory reading column %d", s->name, col);
	return 0;
}

int
stmt_blob(struct stmt *s, int col, const void **p, size_t *n, struct diag *d)
{
	*p = sqlite3_column_blob(s->s, col);
	/* Read the size after the pointer: the conversion happens in the first call. */
	int bytes = sqlite3_column_bytes(s->s, col);
	*n = bytes > 0 ? (size_t)bytes : 0;
	if (*p == NULL && stmt_column_failed(s, col, d) != 0) {
		*n = 0;
		return -1;
	}
	return 0;
}

int
stmt_column_name(struct stmt *s, int col, const char **out, struct diag *d)
{
	*out = sqlite3_column_name(s->s, col);
	if (*out == NULL)
		return diag_set(d, DIAG_NOMEM, "%s: out of memory reading the name of column %d",
				s->name, col);
	return 0;
}

int
stmt_query_int64(struct store *st, const char *name, const char *sql, int64_t *out,
		 struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, name, sql, d) != 0)
		return -1;
	int rc = stmt_step(&s, d);
	*out = rc == STMT_ROW ? stmt_int64(&s, 0) : 0;
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

char *
stmt_text_dup(struct stmt *s, int col, const char *fallback, struct diag *d)
{
	const char *v = NULL;
	if (stmt_text(s, col, &v, d) != 0)
		return NULL;
	char *c = strdup(v != NULL ? v : fallback);
	if (c == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory reading %s", s->name ? s->name : "a row");
	return c;
}

/*
 * report/query: `q`, the read-only SQL helper a report's build receives, in the
 * plugin's worker.
 *
 *   q.rows(sql, ...) -> { {col = value, ...}, ... }   every row
 *   q.one(sql, ...)  -> {col = value, ...} or nil     the first row
 *
 * The extra arguments bind the statement's ? parameters in order (integer,
 * number, string, boolean as 1/0, nil as NULL). A value is an integer, a
 * number, a string (text and blobs) or absent (NULL). One statement per call.
 *
 * Read-only, by construction and by rule: the worker opens its own connection
 * to the workspace database that cannot write (store/store.h's STORE_READONLY:
 * PRAGMA query_only), then installs an authorizer that allows SELECT, reading
 * columns, calling functions and recursive CTEs, and denies everything else:
 * writes, ATTACH/DETACH, PRAGMA (reads too), temporary tables, triggers and
 * views, transactions. Budgets, for one build (the totals of all its queries):
 *   steps   SQLite VM steps, counted by a progress handler that stops the
 *           query when they run out (a recursive CTE that never ends);
 *   rows    rows returned;
 *   bytes   text and blob bytes returned.
 * A refusal or an exhausted budget raises a Lua error in the hook ("q.rows:
 * not allowed to read-only reports: INSERT ..." / "q.rows: the query ran out of
 * its budget of N steps"): the report fails with the plugin's FILE:LINE, and the
 * database is unchanged. The plugin's own memory cap and deadline still apply.
 *
 * Who calls it: report/report (the build operation in the worker); tests.
 */
#ifndef TANDEM_REPORT_QUERY_H
#define TANDEM_REPORT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

struct query_limits {
	int64_t steps;   /* 0: QUERY_DEFAULT_STEPS */
	int64_t rows;    /* 0: QUERY_DEFAULT_ROWS */
	int64_t bytes;   /* 0: QUERY_DEFAULT_BYTES */
};

#define QUERY_DEFAULT_STEPS ((int64_t)50000000) /* 5e7 VM steps, about half a second */
#define QUERY_DEFAULT_ROWS ((int64_t)200000)
#define QUERY_DEFAULT_BYTES ((int64_t)64 << 20)

struct query;

/* Opens the database at path read-only with the authorizer and budgets. NULL + diag. */
struct query *query_open(const char *path, const struct query_limits *lim, struct diag *d);
void query_close(struct query *q);

/* An empty database of the current schema, in memory, behind the same authorizer: for
 * query_check (`plugins check` of a report, which has no workspace). NULL + diag. */
struct query *query_open_schema(struct diag *d);
/* Prepares sql as q.rows (all) or q.one would, with nargs values after it, and runs
 * nothing: 0, or -1 with the error the real call would raise ("q.rows: no such table:
 * sesions", a write refused, the parameter count). */
int query_check(struct query *q, int all, const char *sql, int nargs, struct diag *d);

/* Pushes the q table ({rows =, one =}, closures over q). Raises on a memory error. stack: +1 */
void query_push(lua_State *L, struct query *q);
/* After the build, before query_close: every q pushed in L refuses from now on. */
void query_detach(lua_State *L);

/* What was used so far (for tests and the worker's log). */
void query_used(const struct query *q, int64_t *steps, int64_t *rows, int64_t *bytes);

#endif

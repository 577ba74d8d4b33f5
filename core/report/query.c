/*
 * report/query: the read-only query helper of report plugins. See query.h.
 *
 * Two locks on the door: the connection is opened read-only (STORE_READONLY,
 * PRAGMA query_only: SQLite refuses any write itself), and the authorizer denies every action but reading, at
 * prepare time, so a denied statement never runs at all. The budgets are
 * counted across the whole build: the progress handler (every QUERY_TICK VM
 * steps) interrupts a query once the steps are spent; rows and bytes are
 * counted as the rows are turned into Lua tables.
 */
#include "report/query.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

enum { QUERY_TICK = 1000 };

struct query {
	struct store *st;
	struct query_limits lim;
	int64_t steps, rows, bytes;
	int over_steps;
	char denied[160]; /* the last action the authorizer denied */
};

static const char *
action_name(int action)
{
	switch (action) {
	case SQLITE_INSERT: return "INSERT";
	case SQLITE_UPDATE: return "UPDATE";
	case SQLITE_DELETE: return "DELETE";
	case SQLITE_ATTACH: return "ATTACH";
	case SQLITE_DETACH: return "DETACH";
	case SQLITE_PRAGMA: return "PRAGMA";
	case SQLITE_TRANSACTION: return "a transaction";
	case SQLITE_SAVEPOINT: return "a savepoint";
	case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_TABLE: return "CREATE TABLE";
	case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_CREATE_VIEW: return "CREATE VIEW";
	case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_CREATE_TRIGGER: return "CREATE TRIGGER";
	case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_INDEX: return "CREATE INDEX";
	case SQLITE_CREATE_VTABLE: return "CREATE VIRTUAL TABLE";
	case SQLITE_ALTER_TABLE: return "ALTER TABLE";
	case SQLITE_ANALYZE: return "ANALYZE";
	case SQLITE_REINDEX: return "REINDEX";
	default:
		if (action >= SQLITE_DROP_INDEX && action <= SQLITE_DROP_VIEW)
			return "DROP";
		return "a statement that is not a read";
	}
}

static int
authorize(void *ud, int action, const char *a, const char *b, const char *db, const char *trigger)
{
	struct query *q = ud;
	(void)b;
	(void)db;
	(void)trigger;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	default:
		if (q->denied[0] == '\0') /* the first denied action names the statement best */
			snprintf(q->denied, sizeof(q->denied), "%s%s%.64s", action_name(action),
				 a ? " " : "", a ? a : "");
		return SQLITE_DENY;
	}
}

static int
progress(void *ud)
{
	struct query *q = ud;
	q->steps += QUERY_TICK;
	if (q->steps > q->lim.steps) {
		q->over_steps = 1;
		return 1;
	}
	return 0;
}

struct query *
query_open(const char *path, const struct query_limits *lim, struct diag *d)
{
	struct query *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory opening the report query helper");
		return NULL;
	}
	if (lim != NULL)
		q->lim = *lim;
	if (q->lim.steps <= 0)
		q->lim.steps = QUERY_DEFAULT_STEPS;
	if (q->lim.rows <= 0)
		q->lim.rows = QUERY_DEFAULT_ROWS;
	if (q->lim.bytes <= 0)
		q->lim.bytes = QUERY_DEFAULT_BYTES;
	/* NULL: an empty database of the current schema, in memory (query_open_schema). */
	q->st = path ? store_open(path, STORE_READONLY, d)
		     : store_open(":memory:", STORE_CREATE | STORE_SCRATCH, d);
	if (q->st == NULL) {
		free(q);
		return NULL;
	}
	sqlite3 *db = store_db(q->st);
	/* From here on the connection only reads, whatever a plugin sends. */
	if (sqlite3_set_authorizer(db, authorize, q) != SQLITE_OK) {
		store_error(q->st, d, "installing the report query authorizer");
		query_close(q);
		return NULL;
	}
	sqlite3_progress_handler(db, QUERY_TICK, progress, q);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)(q->lim.bytes < 1000000000 ? q->lim.bytes : 1000000000));
	return q;
}

struct query *
query_open_schema(struct diag *d)
{
	return query_open(NULL, NULL, d);
}

void
query_close(struct query *q)
{
	if (q == NULL)
		return;
	store_close(q->st);
	free(q);
}

void
query_used(const struct query *q, int64_t *steps, int64_t *rows, int64_t *bytes)
{
	*steps = q->steps;
	*rows = q->rows;
	*bytes = q->bytes;
}

/* The parameter count against the values given (bind_args' first test). */
static int
check_nargs(const struct stmt *s, const char *fn, int n, struct diag *d)
{
	if (n != stmt_param_count(s))
		return diag_set(d, DIAG_INVALID, "%s: the query has %d parameter%s, %d value%s given", fn,
				stmt_param_count(s), stmt_param_count(s) == 1 ? "" : "s", n,
				n == 1 ? "" : "s");
	return 0;
}

/* Binds the arguments from index 2 on. 0, or -1 with a message in d. */
static int
bind_args(lua_State *L, struct stmt *s, const char *fn, struct diag *d)
{
	int n = lua_gettop(L) - 1;
	if (check_nargs(s, fn, n, d) != 0)
		return -1;
	for (int i = 1; i <= n; i++) {
		int idx = i + 1, rc;
		switch (lua_type(L, idx)) {
		case LUA_TNIL:
			rc = stmt_bind_null(s, i, d);
			break;
		case LUA_TBOOLEAN:
			rc = stmt_bind_int64(s, i, lua_toboolean(L, idx), d);
			break;
		case LUA_TNUMBER:
			rc = lua_isinteger(L, idx) ? stmt_bind_int64(s, i, lua_tointeger(L, idx), d)
						   : stmt_bind_double(s, i, lua_tonumber(L, idx), d);
			break;
		case LUA_TSTRING: {
			size_t len;
			const char *str = lua_tolstring(L, idx, &len);
			rc = stmt_bind_textn(s, i, str, len, d);
			break;
		}
		default:
			return diag_set(d, DIAG_INVALID,
					"%s: parameter %d must be a number, string, boolean or nil (got %s)", fn,
					i, luaL_typename(L, idx));
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Pushes the current row as a table. 0, or -1 (budget or memory) with d set. */
static int
push_row(lua_State *L, struct query *q, struct stmt *s, int ncol, const char *fn, struct diag *d)
{
	if (++q->rows > q->lim.rows)
		return diag_set(d, DIAG_PLUGIN, "%s: the report's queries returned more than %lld rows "
				"(its budget)", fn, (long long)q->lim.rows);
	lua_createtable(L, 0, ncol);
	for (int c = 0; c < ncol; c++) {
		const char *name;
		if (stmt_column_name(s, c, &name, d) != 0)
			return -1;
		switch (stmt_type(s, c)) {
		case SQLITE_NULL:
			continue;
		case SQLITE_INTEGER:
			lua_pushinteger(L, (lua_Integer)stmt_int64(s, c));
			break;
		case SQLITE_FLOAT:
			lua_pushnumber(L, stmt_double(s, c));
			break;
		default: {
			const void *p;
			size_t n;
			if (stmt_blob(s, c, &p, &n, d) != 0)
				return -1;
			q->bytes += (int64_t)n;
			if (q->bytes > q->lim.bytes)
				return diag_set(d, DIAG_PLUGIN,
						"%s: the report's queries returned more than %lld bytes "
						"(its budget)",
						fn, (long long)q->lim.bytes);
			lua_pushlstring(L, p != NULL ? p : "", n);
		}
		}
		lua_setfield(L, -2, name);
	}
	return 0;
}

/* Prepares sql as q.rows/q.one (fn) would run it: one statement that only reads. 0 with
 * s prepared, or -1 with d set and nothing to finalize. */
static int
prepare(struct query *q, const char *fn, const char *sql, size_t len, struct stmt *s,
	struct diag *d)
{
	const char *tail = NULL;
	*s = (struct stmt){0};
	q->denied[0] = '\0';
	int rc = sqlite3_prepare_v3(store_db(q->st), sql, (int)len, 0, &s->s, &tail);
	if (rc != SQLITE_OK) {
		if (q->denied[0])
			diag_set(d, DIAG_PLUGIN, "%s: not allowed in a report (the query helper only "
				 "reads): %s", fn, q->denied);
		else
			diag_set(d, DIAG_INVALID, "%s: %s", fn, sqlite3_errmsg(store_db(q->st)));
		sqlite3_finalize(s->s);
		s->s = NULL;
		return -1;
	}
	s->st = q->st;
	s->name = fn;
	if (s->s == NULL)
		return diag_set(d, DIAG_INVALID, "%s: no SQL statement in '%.60s'", fn, sql);
	while (tail != NULL && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' ||
				*tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		stmt_finalize(s);
		return diag_set(d, DIAG_INVALID, "%s: one statement per call (more follows at '%.40s')",
				fn, tail);
	}
	if (!sqlite3_stmt_readonly(s->s)) {
		stmt_finalize(s);
		return diag_set(d, DIAG_PLUGIN, "%s: not allowed in a report (the query helper only reads)",
				fn);
	}
	return 0;
}

int
query_check(struct query *q, int all, const char *sql, int nargs, struct diag *d)
{
	const char *fn = all ? "q.rows" : "q.one";
	struct stmt s;
	if (prepare(q, fn, sql, strlen(sql), &s, d) != 0)
		return -1;
	int rc = check_nargs(&s, fn, nargs, d);
	stmt_finalize(&s);
	return rc;
}

/*
 * Runs the query; pushes every row (all = 1: a list) or the first (or nil).
 * Errors go to d; the caller raises them once the statement is finalized.
 */
static int
run(lua_State *L, struct query *q, int all, struct diag *d)
{
	const char *fn = all ? "q.rows" : "q.one";
	size_t len;
	const char *sql = luaL_checklstring(L, 1, &len);
	struct stmt s;
	if (prepare(q, fn, sql, len, &s, d) != 0)
		return -1;
	int rc = bind_args(L, &s, fn, d);
	int ncol = stmt_column_count(&s);
	if (all)
		lua_newtable(L);
	lua_Integer n = 0;
	while (rc == 0) {
		int st = stmt_step(&s, d);
		if (st < 0) {
			if (q->over_steps)
				diag_set(d, DIAG_PLUGIN, "%s: the report's queries ran out of their budget of "
					 "%lld steps", fn, (long long)q->lim.steps);
			rc = -1;
			break;
		}
		if (st == STMT_DONE)
			break;
		if (push_row(L, q, &s, ncol, fn, d) != 0) {
			rc = -1;
			break;
		}
		n++;
		if (!all)
			break;
		lua_rawseti(L, -2, n);
	}
	stmt_finalize(&s);
	if (rc == 0 && !all && n == 0)
		lua_pushnil(L);
	return rc;
}

static int
q_call(lua_State *L, int all)
{
	struct query **box = lua_touserdata(L, lua_upvalueindex(1));
	if (*box == NULL)
		return luaL_error(L, "%s: this q belongs to an earlier build (use the q build receives)",
				  all ? "q.rows" : "q.one");
	struct diag d;
	diag_clear(&d);
	int base = lua_gettop(L);
	if (run(L, *box, all, &d) != 0) {
		lua_settop(L, base);
		return luaL_error(L, "%s", d.msg);
	}
	return 1;
}

static int
q_rows(lua_State *L)
{
	return q_call(L, 1);
}

static int
q_one(lua_State *L)
{
	return q_call(L, 0);
}

static const char box_key[] = "tandem.report.query";

void
query_push(lua_State *L, struct query *q)
{
	/* The closures share a box the host empties at query_detach: a q kept past its
	 * build (in a global) then refuses instead of reaching freed memory. */
	struct query **box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = q;
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, box_key);
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, q_rows, 1);
	lua_setfield(L, -2, "rows");
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, q_one, 1);
	lua_setfield(L, -2, "one");
	lua_remove(L, -2); /* stack: q */
}

void
query_detach(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, box_key) == LUA_TUSERDATA)
		*(struct query **)lua_touserdata(L, -1) = NULL;
	lua_pop(L, 1);
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, box_key);
}

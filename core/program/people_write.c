/*
 * people_write: the write of a checked people import (see people_import.h and people.h):
 * one transaction (or one level of the caller's) that parks the e-mails that move, inserts
 * new people PEOPLE_BATCH rows per statement, updates changed people with a statement per
 * shape of change, appends the people.imported event, then checkpoints the WAL once.
 * Every bind and step is checked (store/stmt.h); texts are bound without copies, since the
 * rows live in the import's arena until the import ends.
 *
 * Called by people_import.c once validation found no problem.
 */
#include "program/people_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "events/events.h"
#include "store/stmt.h"
#include "store/store.h"

/*
 * New people are inserted PEOPLE_BATCH rows per statement: each execution of a statement
 * opens a cursor on the table and each index, and frees them and its registers' memory when
 * it ends, ~30% of the cost of a one-row INSERT. The rest (fewer rows) go one at a time.
 *
 * OR ROLLBACK (here and in the UPDATE): a failed row ends the whole transaction, as the import
 * would anyway. Together with the deferred manager key (schema v3) it tells SQLite that no
 * statement ever has to be undone alone, so it keeps no statement journal (a copy of every
 * page a statement touches, which for a 50-row INSERT spilled to a temporary file). Only when
 * the import is its own transaction: inside a caller's, a failed row must undo the import's
 * level alone (ROLLBACK TO), not the caller's work, so the statements keep SQLite's default.
 */
enum { PEOPLE_INSERT_COLS = 21, PEOPLE_BATCH = 50 };

static char *
people_insert_sql(int nrows, int or_rollback)
{
	static const char head[] =
		" INTO people(id, external_id, name, email, title, level, department,"
		" team, location, timezone, manager_id, birth_year, generation, hire_date, status,"
		" skills, topics_wanted, languages, attributes, created_at, updated_at) VALUES ";
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	size_t cap = sizeof("INSERT OR ROLLBACK") + sizeof(head) + (size_t)nrows * sizeof(row);
	char *sql = malloc(cap);
	if (sql == NULL)
		return NULL;
	size_t o = (size_t)snprintf(sql, cap, "INSERT%s%s", or_rollback ? " OR ROLLBACK" : "", head);
	for (int i = 0; i < nrows; i++)
		o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? "," : "", row);
	return sql;
}

/*
 * People of the file may trade e-mails (a swap, or a chain A takes B's, B takes C's...).
 * The end state is unique, but the UNIQUE index checks every row as it is written, so
 * the e-mails that change are first parked on values no real address can take (a leading
 * dot is invalid), then the rows are written with their final ones.
 */
static int
people_park_emails(struct pimport *im, struct diag *d)
{
	struct stmt s = {0};
	int rc = 0;
	for (int i = 0; i < im->nrows && rc == 0; i++) {
		if (!im->rows[i].email_moves)
			continue;
		if (s.s == NULL && stmt_prepare(&s, im->st, "moving e-mails",
						"UPDATE people SET email = '.moving.' || id WHERE id = ?",
						d) != 0)
			return -1;
		rc = stmt_bind_int64(&s, 1, im->rows[i].db_id, d) || stmt_run(&s, d) ? -1 : 0;
	}
	stmt_finalize(&s);
	return rc == 0 ? 0 : diag_prefix(d, "%s", im->name);
}

/*
 * UPDATE of the fields in `fields` (bits, PF_ATTRS for the attributes) that the file has.
 * param_of[f] gets each field's parameter (0 = not set), param_of[PF_ATTRS] the attributes',
 * param_of[PF_ID] the person's id (the last one). Setting only what changed spares SQLite the
 * index maintenance of the columns that did not (an UPDATE that names an indexed column
 * deletes and re-inserts its index entry even when the value is the same).
 */
static char *
people_update_sql(const struct pimport *im, unsigned fields, int or_rollback, int *param_of)
{
	size_t cap = 1024;
	char *sql = malloc(cap);
	if (sql == NULL)
		return NULL;
	size_t o = (size_t)snprintf(sql, cap, "UPDATE%s people SET updated_at = ?1",
				    or_rollback ? " OR ROLLBACK" : "");
	int p = 2;
	for (int f = 0; f <= PF_ATTRS; f++)
		param_of[f] = 0;
	for (int f = 0; f < PF_COUNT; f++) {
		if (f == PF_ID || !(fields >> f & 1) || !people_field_written(im, f))
			continue;
		param_of[f] = p;
		o += (size_t)snprintf(sql + o, cap - o, ", %s = ?%d", people_field_column[f], p++);
	}
	if (im->nattr > 0 && (fields >> PF_ATTRS & 1)) {
		param_of[PF_ATTRS] = p;
		o += (size_t)snprintf(sql + o, cap - o,
				      ", attributes = CASE WHEN ?%d IS NULL THEN attributes"
				      " ELSE json_patch(attributes, ?%d) END",
				      p, p);
		p++;
	}
	param_of[PF_ID] = p;
	snprintf(sql + o, cap - o, " WHERE id = ?%d", param_of[PF_ID]);
	return sql;
}

static long long
people_node_dbid(const struct pimport *im, const long long *newid, int node)
{
	if (node < 0)
		return 0;
	if (node < im->nrows)
		return im->rows[node].db_id ? im->rows[node].db_id : newid[node];
	return im->db[node - im->nrows].id;
}

/* A whole number cell (checked when read) or SQL NULL for an empty one. */
static int
people_bind_int_or_null(struct stmt *s, int i, const char *v, struct diag *d)
{
	return v != NULL ? stmt_bind_int64(s, i, atoi(v), d) : stmt_bind_null(s, i, d);
}

static int
people_bind_id_or_null(struct stmt *s, int i, long long id, struct diag *d)
{
	return id != 0 ? stmt_bind_int64(s, i, id, d) : stmt_bind_null(s, i, d);
}

/* The text an insert or update writes for a field left empty: a default, or SQL NULL. */
static const char *
people_or_default(const struct prow *r, int f)
{
	const char *v = r->v[f];
	if (v != NULL)
		return v;
	if (f == PF_STATUS)
		return "active";
	if (f == PF_SKILLS || f == PF_TOPICS || f == PF_LANGUAGES)
		return "[]";
	return NULL;
}

/* Binds one row of an insert whose parameters for this row start after parameter `base`.
 * Texts are bound without a copy: the rows live in the arena until the import ends. */
static int
people_bind_insert(struct stmt *s, int base, const struct prow *r, long long id, long long mgr,
		   const char *now, struct diag *d)
{
	const char *const *v = r->v;
	return stmt_bind_int64(s, base + 1, id, d) || stmt_bind_text(s, base + 2, v[PF_ID], d) ||
			       stmt_bind_text(s, base + 3, v[PF_NAME], d) ||
			       stmt_bind_text(s, base + 4, v[PF_EMAIL], d) ||
			       stmt_bind_text(s, base + 5, v[PF_TITLE], d) ||
			       people_bind_int_or_null(s, base + 6, v[PF_LEVEL], d) ||
			       stmt_bind_text(s, base + 7, v[PF_DEPARTMENT], d) ||
			       stmt_bind_text(s, base + 8, v[PF_TEAM], d) ||
			       stmt_bind_text(s, base + 9, v[PF_LOCATION], d) ||
			       stmt_bind_text(s, base + 10, v[PF_TIMEZONE], d) ||
			       people_bind_id_or_null(s, base + 11, mgr, d) ||
			       people_bind_int_or_null(s, base + 12, v[PF_BIRTH_YEAR], d) ||
			       stmt_bind_text(s, base + 13, v[PF_GENERATION], d) ||
			       stmt_bind_text(s, base + 14, v[PF_HIRE_DATE], d) ||
			       stmt_bind_text(s, base + 15, people_or_default(r, PF_STATUS), d) ||
			       stmt_bind_text(s, base + 16, people_or_default(r, PF_SKILLS), d) ||
			       stmt_bind_text(s, base + 17, people_or_default(r, PF_TOPICS), d) ||
			       stmt_bind_text(s, base + 18, people_or_default(r, PF_LANGUAGES), d) ||
			       stmt_bind_text(s, base + 19, r->attrs ? r->attrs : "{}", d) ||
			       stmt_bind_text(s, base + 20, now, d) || stmt_bind_text(s, base + 21, now, d)
		       ? -1
		       : 0;
}

static int
people_bind_update(struct stmt *s, const int *param_of, const struct prow *r, long long mgr,
		   const char *now, struct diag *d)
{
	if (stmt_bind_text(s, 1, now, d) != 0)
		return -1;
	for (int f = 0; f < PF_COUNT; f++) {
		int p = param_of[f], rc;
		if (p == 0 || f == PF_ID)
			continue;
		if (f == PF_MANAGER)
			rc = people_bind_id_or_null(s, p, mgr, d);
		else if (f == PF_LEVEL || f == PF_BIRTH_YEAR)
			rc = people_bind_int_or_null(s, p, r->v[f], d);
		else
			rc = stmt_bind_text(s, p, people_or_default(r, f), d);
		if (rc != 0)
			return -1;
	}
	if (param_of[PF_ATTRS] != 0 && stmt_bind_text(s, param_of[PF_ATTRS], r->attrs, d) != 0)
		return -1;
	return stmt_bind_int64(s, param_of[PF_ID], r->db_id, d);
}

static int
people_write_event(struct pimport *im, struct diag *d)
{
	const char *base = strrchr(im->name, '/');
	json_t *payload = json_pack("{s:s, s:I, s:I, s:I}", "file", base ? base + 1 : im->name,
				    "total", (json_int_t)im->res->total, "created",
				    (json_int_t)im->res->created, "updated", (json_int_t)im->res->updated);
	if (payload != NULL && im->res->unchanged > 0)
		json_object_set_new(payload, "unchanged", json_integer(im->res->unchanged));
	char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc = events_append(im->st,
			       &(struct event){.kind = "people.imported", .actor = im->o->actor,
					       .payload_json = text},
			       NULL, d);
	free(text);
	return rc;
}

/* One UPDATE statement, for the rows whose changed fields are exactly `fields`. */
struct pupdate {
	unsigned fields;
	struct stmt stmt;
	int param_of[PF_COUNT + 1];
};

/* A file usually changes people in a few ways (a new title, a new manager and team...): a
 * statement per way, up to this many, then every further update sets every field it has. */
enum { PEOPLE_UPDATE_SHAPES = 16 };

/* The write's prepared statements: one-row insert, PEOPLE_BATCH-row insert, updates. */
struct pstmts {
	int or_rollback; /* the import is its own transaction (see people_insert_sql) */
	struct stmt ins, batch;
	struct pupdate upd[PEOPLE_UPDATE_SHAPES];
	int nupd;
	struct pupdate all; /* every field the file has, prepared on first need */
};

static void
people_pstmts_finalize(struct pstmts *w)
{
	stmt_finalize(&w->ins);
	stmt_finalize(&w->batch);
	for (int k = 0; k < w->nupd; k++)
		stmt_finalize(&w->upd[k].stmt);
	stmt_finalize(&w->all.stmt);
	w->nupd = 0;
}

static int
people_prepare_update(struct pimport *im, const struct pstmts *w, struct pupdate *u,
		      unsigned fields, struct diag *d)
{
	char *sql = people_update_sql(im, fields, w->or_rollback, u->param_of);
	if (sql == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	u->fields = fields;
	int rc = stmt_prepare(&u->stmt, im->st, "updating people", sql, d);
	free(sql);
	return rc;
}

/* The statement for a row whose changed fields are `fields`; NULL + diag on failure. */
static struct pupdate *
people_update_for(struct pimport *im, struct pstmts *w, unsigned fields, struct diag *d)
{
	for (int k = 0; k < w->nupd; k++)
		if (w->upd[k].fields == fields)
			return &w->upd[k];
	struct pupdate *u = w->nupd < PEOPLE_UPDATE_SHAPES ? &w->upd[w->nupd] : &w->all;
	if (u->stmt.s != NULL)
		return u; /* the catch-all, prepared already */
	if (people_prepare_update(im, w, u, u == &w->all ? ~0u : fields, d) != 0)
		return NULL;
	if (u != &w->all)
		w->nupd++;
	return u;
}

static int
people_write_rows(struct pimport *im, struct pstmts *w, const long long *newid, const char *now,
		  struct diag *d)
{
	char q[128];
	long left = im->res->created; /* new people not yet written */
	int batched = 0, batch_line = 0;
	for (int i = 0; i < im->nrows; i++) {
		const struct prow *r = &im->rows[i];
		/* Rows handed to SQLite so far (the last batch's may still wait for its step). */
		if (im->o->progress && i > 0 && i % 5000 == 0)
			im->o->progress(im->o->progress_ud, i, im->nrows);
		if (r->same)
			continue;
		long long mgr = people_node_dbid(im, newid, r->mgr);
		/* A batch starts only when a whole one is left, so every started batch fills. */
		if (r->db_id == 0 && w->batch.s != NULL && (batched > 0 || left >= PEOPLE_BATCH)) {
			if (batched == 0)
				batch_line = r->line;
			if (people_bind_insert(&w->batch, batched * PEOPLE_INSERT_COLS, r, newid[i], mgr,
					       now, d) != 0)
				return diag_prefix(d, "%s:%d", im->name, r->line);
			left--;
			if (++batched < PEOPLE_BATCH)
				continue;
			batched = 0;
			if (stmt_run(&w->batch, d) != 0)
				return diag_prefix(d, "%s: lines %d to %d", im->name, batch_line,
						   r->line);
			continue;
		}
		struct stmt *s = &w->ins;
		int rc;
		if (r->db_id) {
			struct pupdate *u = people_update_for(im, w, r->changed, d);
			if (u == NULL)
				return -1;
			s = &u->stmt;
			rc = people_bind_update(s, u->param_of, r, mgr, now, d);
		} else {
			rc = people_bind_insert(s, 0, r, newid[i], mgr, now, d);
			left--;
		}
		if (rc != 0 || stmt_run(s, d) != 0)
			return diag_prefix(d, "%s:%d: id '%s'", im->name, r->line,
					   people_quote(r->v[PF_ID], q, sizeof(q)));
	}
	if (im->o->progress)
		im->o->progress(im->o->progress_ud, im->nrows, im->nrows);
	return 0;
}

/*
 * Copies the import from the WAL into the database file (and syncs it), the work SQLite's
 * auto-checkpoint would have done inside COMMIT. The import is already durable in the WAL,
 * so a checkpoint that cannot finish (a reader holds an old snapshot) is no failure: the
 * next checkpoint completes it.
 */
static void
people_checkpoint(struct pimport *im)
{
	int logged = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(store_db(im->st), NULL, SQLITE_CHECKPOINT_PASSIVE, &logged,
					   &copied);
	if (rc != SQLITE_OK || copied < logged)
		tlog(TLOG_INFO, "%s: checkpoint copied %d of %d pages (%s); the rest goes at the next",
		     store_path(im->st), copied, logged, sqlite3_errstr(rc));
	people_times_mark(&im->times, "checkpoint");
}

/* Sets the WAL's auto-checkpoint threshold (0 = never); a failure only costs time, so it is
 * logged, not returned. */
static void
people_autocheckpoint(struct store *st, int pages)
{
	int rc = sqlite3_wal_autocheckpoint(store_db(st), pages);
	if (rc != SQLITE_OK)
		tlog(TLOG_WARN, "%s: wal_autocheckpoint(%d): %s", store_path(st), pages,
		     sqlite3_errstr(rc));
}

/* Someone else wrote between our read and our lock: our ids and checks may be stale. */
static int
people_check_unchanged(struct pimport *im, struct diag *d)
{
	int64_t version = -1;
	if (stmt_query_int64(im->st, "reading data_version", "PRAGMA data_version", &version, d) != 0)
		return diag_prefix(d, "%s", im->name);
	if (version != im->data_version)
		return diag_set(d, DIAG_CONFLICT,
				"%s: the database changed while the file was being checked; "
				"nothing was imported, run the import again",
				im->name);
	return 0;
}

int
people_write(struct pimport *im, struct diag *d)
{
	struct store *st = im->st;
	/* Alone, the import is its own transaction and may end it on a failed row (see
	 * people_insert_sql); inside a caller's, it is one level of it and must not. */
	int alone = store_depth(st) == 0;
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the clock's time cannot be written as a date");
	char *isql = people_insert_sql(1, alone);
	char *bsql = im->res->created >= PEOPLE_BATCH ? people_insert_sql(PEOPLE_BATCH, alone) : NULL;
	long long *newid = malloc(((size_t)im->nrows + 1) * sizeof(*newid));
	struct pstmts w;
	memset(&w, 0, sizeof(w));
	w.or_rollback = alone;
	int64_t cache_size = 0;
	int rc = -1;
	if (isql == NULL || (bsql == NULL && im->res->created >= PEOPLE_BATCH) ||
	    newid == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	/* The connection's page cache size, to put back afterwards (0 = not read). */
	if (stmt_query_int64(st, "reading cache_size", "PRAGMA cache_size", &cache_size, d) != 0)
		goto out;
	/* New people get the next free ids, so every manager link is known before the write. */
	long long next = im->max_id;
	for (int i = 0; i < im->nrows; i++)
		newid[i] = im->rows[i].db_id ? 0 : ++next;

	/* The commit must not start the checkpoint on its own: people_checkpoint() runs it
	 * right after, once, so its cost shows as a phase of its own. */
	people_autocheckpoint(st, 0);
	if (store_begin(st, d) != 0)
		goto out;
	/* Managers may point at rows written later in the same transaction (checked at COMMIT).
	 * A large page cache keeps a big import's pages in memory instead of spilling them to
	 * the WAL mid-transaction (and writing some twice); it is put back after the write.
	 * The statements are prepared after the pragma, which their code depends on. */
	if (people_check_unchanged(im, d) != 0 ||
	    store_exec(st, "PRAGMA defer_foreign_keys=ON; PRAGMA cache_size=-131072", d) != 0 ||
	    stmt_prepare(&w.ins, st, "inserting a person", isql, d) != 0 ||
	    (bsql != NULL && stmt_prepare(&w.batch, st, "inserting people", bsql, d) != 0) ||
	    people_park_emails(im, d) != 0 || people_write_rows(im, &w, newid, now, d) != 0 ||
	    people_write_event(im, d) != 0) {
		people_pstmts_finalize(&w);
		store_rollback(st);
		goto out;
	}
	people_pstmts_finalize(&w);
	people_times_mark(&im->times, "rows");
	if (store_commit(st, d) != 0)
		goto out;
	people_times_mark(&im->times, "commit");
	/* Inside a caller's transaction nothing reached the WAL yet: its commit will. */
	if (store_depth(st) == 0)
		people_checkpoint(im);
	rc = 0;
out:
	/* Back to SQLite's default of a checkpoint whenever the WAL passes 1000 pages. */
	people_autocheckpoint(st, 1000);
	if (cache_size != 0) {
		char sql[64];
		struct diag cd;
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=%lld", (long long)cache_size);
		if (store_exec(st, sql, &cd) != 0)
			tlog(TLOG_WARN, "%s: restoring the page cache size: %s", store_path(st), cd.msg);
	}
	people_pstmts_finalize(&w);
	free(isql);
	free(bsql);
	free(newid);
	return rc;
}

/*
 * people_check: the database side of a people import's validation (see people_import.h).
 * One scan of the people table finds who exists, reads their e-mails and managers, and
 * compares each person the file names with the values it brings, so the write touches
 * only what changes. Then the cross-row checks that need the database: e-mails held by
 * someone else, managers (by external id or e-mail, in the file or the database) and
 * manager cycles. No per-row query anywhere.
 *
 * Called by people_import.c between reading the file and writing it.
 */
#include "program/people_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "store/stmt.h"
#include "store/store.h"

/* Fields the file has, and the generation when it is derived from a birth_year column. */
int
people_field_written(const struct pimport *im, int f)
{
	return im->fieldcol[f] >= 0 || (f == PF_GENERATION && im->fieldcol[PF_BIRTH_YEAR] >= 0);
}

/*
 * The people columns people_load_db() reads, in order: identity first, then one column per
 * field that an update may set (PEOPLE_DB_FIELD[k] is the field in column PEOPLE_DB_FIRST + k).
 */
enum { PEOPLE_DB_FIRST = 4, PEOPLE_DB_ATTRS = PEOPLE_DB_FIRST + 15 };
static const char people_db_sql[] =
	"SELECT id, external_id, email, manager_id, name, title, level, department, team, location,"
	" timezone, birth_year, generation, hire_date, status, skills, topics_wanted, languages,"
	" email, attributes FROM people ORDER BY id";
static const int people_db_field[] = {
	PF_NAME,       PF_TITLE,      PF_LEVEL,      PF_DEPARTMENT, PF_TEAM,
	PF_LOCATION,   PF_TIMEZONE,   PF_BIRTH_YEAR, PF_GENERATION, PF_HIRE_DATE,
	PF_STATUS,     PF_SKILLS,     PF_TOPICS,     PF_LANGUAGES,  PF_EMAIL,
};

/* The text an update writes for a text field (defaults for status and lists), NULL for SQL NULL. */
static const char *
people_written_text(const struct prow *r, int f)
{
	const char *v = r->v[f];
	if (v == NULL && f == PF_STATUS)
		return "active";
	if (v == NULL && (f == PF_SKILLS || f == PF_TOPICS || f == PF_LANGUAGES))
		return "[]";
	return v;
}

/* Does column col of the current row of s hold what an update would write for field f?
 * 1 yes, 0 no, -1 + diag when SQLite ran out of memory reading it. */
static int
people_column_same(struct stmt *s, int col, const struct prow *r, int f, struct diag *d)
{
	int type = stmt_type(s, col);
	if (f == PF_LEVEL || f == PF_BIRTH_YEAR) {
		if (r->v[f] == NULL)
			return type == SQLITE_NULL;
		return type == SQLITE_INTEGER && stmt_int64(s, col) == atoi(r->v[f]);
	}
	const char *want = people_written_text(r, f);
	if (want == NULL)
		return type == SQLITE_NULL;
	if (type != SQLITE_TEXT)
		return 0;
	const char *have;
	if (stmt_text(s, col, &have, d) != 0)
		return -1;
	return strcmp(have, want) == 0;
}

/* json_patch(stored, attrs) leaves stored as it is: every attribute of the row is already there
 * with the same value (the row's attributes are strings, so the patch only sets keys). */
static int
people_attrs_same(const char *stored, const char *attrs)
{
	json_t *have = json_loads(stored, 0, NULL), *want = json_loads(attrs, 0, NULL);
	int same = json_is_object(have) && json_is_object(want);
	const char *key;
	json_t *v;
	json_object_foreach(want, key, v) {
		if (!same)
			break;
		same = json_equal(json_object_get(have, key), v);
	}
	json_decref(have);
	json_decref(want);
	return same;
}

/* Which values would an update of this existing person change? Every field but the manager
 * (settled once managers are resolved), as bits (1u << f, 1u << PF_ATTRS) into *changed.
 * Reads the current row of people_db_sql. 0, or -1 + diag (out of memory). */
static int
people_row_changes(const struct pimport *im, const struct prow *r, struct stmt *s,
		   unsigned *changed, struct diag *d)
{
	*changed = 0;
	for (size_t k = 0; k < sizeof(people_db_field) / sizeof(people_db_field[0]); k++) {
		int f = people_db_field[k];
		if (!people_field_written(im, f))
			continue;
		int same = people_column_same(s, PEOPLE_DB_FIRST + (int)k, r, f, d);
		if (same < 0)
			return -1;
		if (!same)
			*changed |= 1u << f;
	}
	if (im->nattr > 0 && r->attrs != NULL) {
		const char *stored;
		if (stmt_text(s, PEOPLE_DB_ATTRS, &stored, d) != 0)
			return -1;
		if (stored == NULL || !people_attrs_same(stored, r->attrs))
			*changed |= 1u << PF_ATTRS;
	}
	return 0;
}

/* A database person's node, found by id in an array sorted by id; -1 when absent. */
struct pbyid {
	long long id;
	int node;
};

static int
people_byid_node(const struct pbyid *a, size_t n, long long id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo].id == id ? a[lo].node : -1;
}

/* One scan of people: who exists, their e-mails and managers. No per-row queries. */
int
people_load_db(struct pimport *im, struct diag *d)
{
	struct store *st = im->st;
	int64_t count = 0;
	if (stmt_query_int64(st, "reading data_version", "PRAGMA data_version", &im->data_version, d) ||
	    stmt_query_int64(st, "counting people", "SELECT count(*) FROM people", &count, d))
		return -1;
	size_t n = count > 0 ? (size_t)count : 0;
	/* A size hint only: a map that cannot be sized now grows as it fills. */
	(void)strmap_reserve(&im->dbext, n, NULL);
	(void)strmap_reserve(&im->dbemail, n, NULL);
	/* Every person's id and node, in id order (the scan's), to link db-only managers. */
	struct pbyid *byid = malloc((n + 1) * sizeof(*byid));
	if (byid == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	size_t nbyid = 0;
	struct stmt s;
	if (stmt_prepare(&s, st, "reading people", people_db_sql, d) != 0) {
		free(byid);
		return -1;
	}
	int rc, cap = 0;
	while ((rc = stmt_step(&s, d)) == STMT_ROW) {
		long long id = stmt_int64(&s, 0);
		const char *ext, *email;
		if (stmt_text(&s, 1, &ext, d) != 0 || stmt_text(&s, 2, &email, d) != 0)
			goto fail;
		if (ext == NULL || email == NULL) { /* the schema says NOT NULL */
			diag_set(d, DIAG_INTERNAL, "people row %lld has no external id or e-mail", id);
			goto fail;
		}
		if (id > im->max_id)
			im->max_id = id;
		/* A person of the file is keyed by the file's copy of their id; others need one. */
		int row = people_map_get(&im->ids, ext);
		ext = row >= 0 ? im->rows[row].v[PF_ID]
			       : arena_strndup(&im->arena, ext, strlen(ext), NULL);
		char *lemail = arena_strndup(&im->arena, email, strlen(email), NULL);
		if (ext == NULL || lemail == NULL)
			goto nomem;
		people_lower(lemail);
		if (nbyid == n) { /* someone added people since the count (caught before the write) */
			struct pbyid *p = realloc(byid, (2 * n + 16) * sizeof(*p));
			if (p == NULL)
				goto nomem;
			byid = p;
			n = 2 * n + 16;
		}
		int node;
		long long mgr_id = stmt_is_null(&s, 3) ? 0 : stmt_int64(&s, 3);
		if (row >= 0) {
			struct prow *r = &im->rows[row];
			r->db_id = id;
			r->db_mgr = mgr_id;
			r->email_moves = r->v[PF_EMAIL] != NULL && strcasecmp(r->v[PF_EMAIL], email) != 0;
			if (people_row_changes(im, r, &s, &r->changed, d) != 0)
				goto fail;
			node = row;
		} else {
			if (im->ndb == cap) {
				cap = cap ? cap * 2 : 1024;
				struct pdb *p = realloc(im->db, (size_t)cap * sizeof(*p));
				if (p == NULL)
					goto nomem;
				im->db = p;
			}
			struct pdb *p = &im->db[im->ndb++];
			p->id = id;
			p->external_id = ext;
			p->manager_id = mgr_id;
			p->mgr = -1;
			node = im->nrows + im->ndb - 1;
		}
		byid[nbyid].id = id;
		byid[nbyid++].node = node;
		if (people_map_put(&im->dbext, ext, node) == -2 ||
		    people_map_put(&im->dbemail, lemail, node) == -2)
			goto nomem;
	}
	if (rc < 0)
		goto fail;
	stmt_finalize(&s);
	for (int k = 0; k < im->ndb; k++)
		if (im->db[k].manager_id != 0)
			im->db[k].mgr = people_byid_node(byid, nbyid, im->db[k].manager_id);
	free(byid);
	return 0;
nomem:
	diag_set(d, DIAG_NOMEM, "out of memory");
fail:
	stmt_finalize(&s);
	free(byid);
	return -1;
}

/* An e-mail in the file that belongs to a database person the file does not update. */
void
people_check_db_emails(struct pimport *im)
{
	char q[128];
	/* Only people the file does not mention can hold a clashing e-mail. */
	for (int i = 0; im->ndb > 0 && i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		if (r->damaged || r->v[PF_EMAIL] == NULL)
			continue;
		char key[512];
		snprintf(key, sizeof(key), "%s", r->v[PF_EMAIL]);
		people_lower(key);
		int node = people_map_get(&im->dbemail, key);
		if (node < im->nrows)
			continue; /* unknown, or a person of the file (who may be changing e-mail) */
		PEOPLE_ERR_F(im, r, PF_EMAIL, "'%s' is already the e-mail of id '%s' in the database",
		       people_quote(r->v[PF_EMAIL], q, sizeof(q)), im->db[node - im->nrows].external_id);
	}
}

/* Manager = external id or e-mail, of the file first, then of the database. */
void
people_resolve_managers(struct pimport *im)
{
	char q[128];
	for (int i = 0; i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		const char *m = r->v[PF_MANAGER];
		if (r->damaged || m == NULL)
			continue;
		int node = people_map_get(&im->ids, m);
		if (node < 0) {
			char key[512];
			snprintf(key, sizeof(key), "%s", m);
			people_lower(key);
			node = people_map_get(&im->emails, key);
			if (node < 0)
				node = people_map_get(&im->dbext, m);
			if (node < 0)
				node = people_map_get(&im->dbemail, key);
		}
		if (node < 0)
			PEOPLE_ERR_F(im, r, PF_MANAGER,
			       "'%s' is neither the id nor the e-mail of a person in the file or the "
			       "database",
			       people_quote(m, q, sizeof(q)));
		r->mgr = node;
	}
}

static const char *
people_node_id(const struct pimport *im, int node)
{
	if (node < im->nrows)
		return im->rows[node].v[PF_ID] ? im->rows[node].v[PF_ID] : "?";
	return im->db[node - im->nrows].external_id;
}

/* Reports one cycle (nodes path[from..n)) at the manager cell of its earliest file row. */
static void
people_report_cycle(struct pimport *im, const int *path, int from, int n)
{
	int first = -1;
	for (int k = from; k < n; k++)
		if (path[k] < im->nrows &&
		    (first < 0 || im->rows[path[k]].line < im->rows[path[first]].line))
			first = k;
	if (first < 0)
		return; /* a cycle only among database people predates this import */
	struct prow *r = &im->rows[path[first]];
	char q[128];
	if (n - from == 1) {
		PEOPLE_ERR_F(im, r, PF_MANAGER, "'%s' is the person themself (a manager cycle)",
		       people_quote(r->v[PF_MANAGER], q, sizeof(q)));
		return;
	}
	char chain[600];
	size_t o = 0;
	int len = n - from;
	for (int k = 0; k <= len && o < sizeof(chain) - 64; k++) {
		if (k == 8 && len > 9) {
			o += (size_t)snprintf(chain + o, sizeof(chain) - o, " -> ... (%d people)", len);
			k = len; /* close the loop on the first one */
		}
		int node = path[from + (first - from + k) % len];
		o += (size_t)snprintf(chain + o, sizeof(chain) - o, "%s%s", k ? " -> " : "",
				      people_node_id(im, node));
	}
	PEOPLE_ERR_F(im, r, PF_MANAGER, "manager cycle: %s", chain);
}

/* The manager graph has out-degree <= 1: one walk per node finds every cycle in O(n). */
int
people_check_cycles(struct pimport *im, struct diag *d)
{
	int n = im->nrows + im->ndb;
	unsigned char *state = calloc((size_t)n + 1, 1); /* 0 new, 1 on the current walk, 2 done */
	int *path = malloc(((size_t)n + 1) * sizeof(int));
	int *pos = malloc(((size_t)n + 1) * sizeof(int));
	if (state == NULL || path == NULL || pos == NULL) {
		free(state);
		free(path);
		free(pos);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int start = 0; start < n; start++) {
		int len = 0, v = start;
		while (v >= 0 && state[v] == 0) {
			state[v] = 1;
			pos[v] = len;
			path[len++] = v;
			v = v < im->nrows ? im->rows[v].mgr : im->db[v - im->nrows].mgr;
		}
		if (v >= 0 && state[v] == 1)
			people_report_cycle(im, path, pos[v], len);
		for (int k = 0; k < len; k++)
			state[path[k]] = 2;
	}
	free(state);
	free(path);
	free(pos);
	return 0;
}

/* Now that managers are resolved: those rows are not written at all (a re-import of an
 * unchanged file writes no person). */
void
people_mark_unchanged(struct pimport *im)
{
	int mgr_written = people_field_written(im, PF_MANAGER);
	for (int i = 0; i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		if (r->db_id == 0)
			continue;
		long long want = 0;
		if (r->mgr >= im->nrows)
			want = im->db[r->mgr - im->nrows].id;
		else if (r->mgr >= 0 && (want = im->rows[r->mgr].db_id) == 0)
			want = -1; /* a new person: not yet anyone's manager */
		if (mgr_written && want != r->db_mgr)
			r->changed |= 1u << PF_MANAGER;
		r->same = r->changed == 0;
	}
}


/*
 * rewards/ledger: grants, revocations, listings and leaderboards. See ledger.h.
 */
#include "rewards/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "store/stmt.h"

/* Appends kind about person with payload (taken over), through w (NULL: one-off). */
static int
ledger_event(struct store *st, struct events_writer *w, const char *kind, int64_t person,
	     int64_t program_id, const char *actor, json_t *payload, struct diag *d)
{
	char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory recording a reward");
	struct event ev = {.kind = kind,
			   .actor = actor,
			   .subject_id = person,
			   .program_id = program_id,
			   .payload_json = text};
	int rc = w ? events_writer_append(w, &ev, NULL, d) : events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

static const char insert_sql[] =
	"INSERT OR IGNORE INTO rewards (award_key, person_id, program_id, points, badge, reason, "
	"plugin, event_id, revokes, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

int
ledger_writer_init(struct ledger_writer *w, struct store *st, struct diag *d)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	w->conflict = -1;
	struct stmt *p = calloc(1, sizeof(*p)), *i = calloc(1, sizeof(*i)),
		    *o = calloc(1, sizeof(*o));
	if (p == NULL || i == NULL || o == NULL) {
		free(p);
		free(i);
		free(o);
		return diag_set(d, DIAG_NOMEM, "out of memory preparing the ledger");
	}
	w->person = p;
	w->insert = i;
	w->owner = o;
	if (stmt_prepare(p, st, "finding the person", "SELECT 1 FROM people WHERE id = ?1", d) ||
	    stmt_prepare(i, st, "recording a reward", insert_sql, d) ||
	    stmt_prepare(o, st, "finding an award key's person",
			 "SELECT person_id FROM rewards WHERE award_key = ?1", d) ||
	    events_writer_init(&w->ev, st, d)) {
		ledger_writer_fini(w);
		return -1;
	}
	return 0;
}

void
ledger_writer_fini(struct ledger_writer *w)
{
	if (w->person) {
		stmt_finalize(w->person);
		free(w->person);
	}
	if (w->insert) {
		stmt_finalize(w->insert);
		free(w->insert);
	}
	if (w->owner) {
		stmt_finalize(w->owner);
		free(w->owner);
	}
	w->person = w->insert = w->owner = NULL;
	events_writer_fini(&w->ev);
	free(w->ids);
	free(w->at);
	free(w->evs);
	w->ids = NULL;
	w->at = NULL;
	w->evs = NULL;
	w->cap = 0;
	buf_fini(&w->text);
}

static int
person_exists(struct ledger_writer *w, int64_t id, struct diag *d)
{
	struct stmt *s = w->person;
	int rc = stmt_bind_int64(s, 1, id, d) ? -1 : stmt_step(s, d);
	if (rc >= 0 && stmt_reset(s, d) != 0)
		rc = -1;
	if (rc < 0)
		return -1;
	if (rc != STMT_ROW)
		return diag_set(d, DIAG_NOTFOUND, "no person with id %lld", (long long)id);
	return 0;
}

/* Inserts one row; *id 0 when the key was there. Inside a transaction level. */
static int
insert_row(struct ledger_writer *w, const struct ledger_grant *g, int64_t revokes, int64_t *id,
	   struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(w->st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt *s = w->insert;
	int rc = stmt_bind_text(s, 1, g->key, d) || stmt_bind_int64(s, 2, g->person_id, d) ||
			 (g->program_id ? stmt_bind_int64(s, 3, g->program_id, d)
					: stmt_bind_null(s, 3, d)) ||
			 stmt_bind_int64(s, 4, g->points, d) || stmt_bind_text(s, 5, g->badge, d) ||
			 stmt_bind_text(s, 6, g->reason, d) || stmt_bind_text(s, 7, g->plugin, d) ||
			 (g->event_id ? stmt_bind_int64(s, 8, g->event_id, d)
				      : stmt_bind_null(s, 8, d)) ||
			 (revokes ? stmt_bind_int64(s, 9, revokes, d) : stmt_bind_null(s, 9, d)) ||
			 stmt_bind_text(s, 10, now, d) || stmt_run(s, d)
		     ? -1
		     : 0;
	if (rc != 0)
		return -1;
	sqlite3 *db = store_db(w->st);
	*id = sqlite3_changes(db) == 1 ? sqlite3_last_insert_rowid(db) : 0;
	return 0;
}

int
ledger_writer_owner(struct ledger_writer *w, const char *key, int64_t *person, struct diag *d)
{
	struct stmt *s = w->owner;
	int rc = stmt_bind_text(s, 1, key, d) ? -1 : stmt_step(s, d);
	if (rc == STMT_ROW)
		*person = stmt_int64(s, 0);
	if (rc < 0 || stmt_reset(s, d) != 0)
		return -1;
	return rc == STMT_ROW ? 0 : 1;
}

int
ledger_writer_grant(struct ledger_writer *w, const struct ledger_grant *g, int *inserted,
		    struct diag *d)
{
	*inserted = 0;
	if (store_depth(w->st) == 0)
		return diag_set(d, DIAG_INTERNAL, "ledger_writer_grant outside a transaction");
	if (g->key == NULL || g->key[0] == '\0' || g->reason == NULL || g->reason[0] == '\0' ||
	    g->plugin == NULL)
		return diag_set(d, DIAG_INVALID, "a grant needs a key, a reason and a plugin");
	int64_t id = 0;
	if (person_exists(w, g->person_id, d) != 0 || insert_row(w, g, 0, &id, d) != 0)
		return -1;
	if (id == 0) { /* the key is there: the same grant again, or a key taken */
		int64_t owner = 0;
		int k = ledger_writer_owner(w, g->key, &owner, d);
		if (k < 0)
			return -1;
		if (k == 0 && owner != g->person_id)
			return diag_set(d, DIAG_INVALID,
					"field 'key': award key '%s' was granted to another person "
					"(#%lld): each person's grant needs its own key",
					g->key, (long long)owner);
	}
	if (id != 0) {
		json_t *p = json_pack("{sI ss ss sI ss? so?}", "reward", (json_int_t)id, "award_key",
				      g->key, "plugin", g->plugin, "points", (json_int_t)g->points,
				      "badge", g->badge, "event",
				      g->event_id ? json_integer((json_int_t)g->event_id) : NULL);
		if (ledger_event(w->st, &w->ev, "reward.granted", g->person_id, g->program_id,
				 g->plugin, p, d) != 0)
			return -1;
	}
	*inserted = id != 0;
	return 0;
}

int
ledger_grant(struct store *st, const struct ledger_grant *g, int *inserted, struct diag *d)
{
	*inserted = 0;
	if (store_begin(st, d) != 0)
		return -1;
	struct ledger_writer w;
	if (ledger_writer_init(&w, st, d) != 0) {
		store_rollback(st);
		return -1;
	}
	int rc = ledger_writer_grant(&w, g, inserted, d);
	ledger_writer_fini(&w);
	if (rc != 0) {
		store_rollback(st);
		*inserted = 0;
		return -1;
	}
	return store_commit(st, d);
}

struct grant_row {
	int64_t id, person, program, points, revokes;
	char key[256], badge[80], plugin[80];
	int has_badge;
};

/* 1 found, 0 not, -1 error. */
static int
find_grant(struct store *st, const char *key, struct grant_row *g, struct diag *d)
{
	struct stmt s;
	int rc = stmt_prepare(&s, st, "finding the grant",
			      "SELECT id, person_id, coalesce(program_id, 0), points, badge, plugin, "
			      "coalesce(revokes, 0), award_key FROM rewards WHERE award_key = ?1",
			      d) ||
			 stmt_bind_text(&s, 1, key, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *t = NULL;
		g->id = stmt_int64(&s, 0);
		g->person = stmt_int64(&s, 1);
		g->program = stmt_int64(&s, 2);
		g->points = stmt_int64(&s, 3);
		g->has_badge = !stmt_is_null(&s, 4);
		g->badge[0] = g->plugin[0] = g->key[0] = '\0';
		if (g->has_badge && stmt_text(&s, 4, &t, d) == 0 && t)
			snprintf(g->badge, sizeof(g->badge), "%s", t);
		if (stmt_text(&s, 5, &t, d) == 0 && t)
			snprintf(g->plugin, sizeof(g->plugin), "%s", t);
		g->revokes = stmt_int64(&s, 6);
		if (stmt_text(&s, 7, &t, d) == 0 && t)
			snprintf(g->key, sizeof(g->key), "%s", t);
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : rc == STMT_ROW;
}

int
ledger_revoke(struct store *st, const char *key, const char *reason, const char *by_plugin,
	      int64_t event_id, int *done, struct diag *d)
{
	*done = 0;
	if (reason == NULL || reason[0] == '\0')
		return diag_set(d, DIAG_INVALID, "revoking '%s': a reason is required", key);
	if (store_begin(st, d) != 0)
		return -1;
	struct grant_row g;
	int found = find_grant(st, key, &g, d);
	if (found == 0 && by_plugin != NULL) {
		/* A rule names its own key without the "PLUGIN:" prefix. */
		char full[512];
		snprintf(full, sizeof(full), "%s:%s", by_plugin, key);
		found = find_grant(st, full, &g, d);
	}
	if (found < 0)
		goto fail;
	if (found == 0) {
		diag_set(d, DIAG_NOTFOUND, "no grant with award key '%s' in the ledger", key);
		goto fail;
	}
	if (g.revokes != 0) {
		diag_set(d, DIAG_INVALID, "'%s' is a revocation, not a grant: it cannot be revoked",
			 key);
		goto fail;
	}
	char rkey[300];
	snprintf(rkey, sizeof(rkey), "revoke:%s", g.key);
	const char *plugin = by_plugin ? by_plugin : "cli";
	struct ledger_grant r = {.key = rkey,
				 .person_id = g.person,
				 .program_id = g.program,
				 .points = -g.points,
				 .badge = g.has_badge ? g.badge : NULL,
				 .reason = reason,
				 .plugin = plugin,
				 .event_id = event_id};
	int64_t id = 0;
	struct ledger_writer w;
	if (ledger_writer_init(&w, st, d) != 0)
		goto fail;
	int rc = insert_row(&w, &r, g.id, &id, d);
	ledger_writer_fini(&w);
	if (rc != 0)
		goto fail;
	if (id != 0) {
		json_t *p = json_pack("{sI sI ss ss sI ss? ss}", "reward", (json_int_t)id, "revokes",
				      (json_int_t)g.id, "award_key", g.key, "plugin", plugin,
				      "points", (json_int_t)-g.points, "badge", r.badge, "reason",
				      reason);
		if (ledger_event(st, NULL, "reward.revoked", g.person, g.program, plugin, p, d) != 0)
			goto fail;
	}
	if (store_commit(st, d) != 0)
		return -1;
	*done = id != 0;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* ---- reading ------------------------------------------------------------------------ */

static int
program_id_of(struct store *st, const char *name, int64_t *id, struct diag *d)
{
	*id = 0;
	if (name == NULL)
		return 0;
	struct stmt s;
	int rc = stmt_prepare(&s, st, "finding the program", "SELECT id FROM programs WHERE name = ?1",
			      d) ||
			 stmt_bind_text(&s, 1, name, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW)
		*id = stmt_int64(&s, 0);
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	if (rc != STMT_ROW)
		return diag_set(d, DIAG_NOTFOUND, "no program '%s' in the database", name);
	return 0;
}

static int
person_id_of(struct store *st, const char *ext, int64_t *id, char *name, size_t size,
	     struct diag *d)
{
	*id = 0;
	struct stmt s;
	int rc = stmt_prepare(&s, st, "finding the person",
			      "SELECT id, name FROM people WHERE external_id = ?1 OR email = ?1", d) ||
			 stmt_bind_text(&s, 1, ext, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *t = NULL;
		*id = stmt_int64(&s, 0);
		if (name && stmt_text(&s, 1, &t, d) == 0 && t)
			snprintf(name, size, "%s", t);
	}
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	if (rc != STMT_ROW)
		return diag_set(d, DIAG_NOTFOUND, "no person '%s'", ext);
	return 0;
}

static json_t *
col_json(struct stmt *s, int col, int integer)
{
	if (stmt_is_null(s, col))
		return json_null();
	if (integer)
		return json_integer((json_int_t)stmt_int64(s, col));
	const char *t = NULL;
	return stmt_text(s, col, &t, NULL) == 0 && t ? json_string(t) : json_null();
}

int
ledger_list(struct store *st, const char *program, const char *person, json_t **out,
	    struct diag *d)
{
	*out = NULL;
	int64_t pid = 0, who = 0;
	if (program_id_of(st, program, &pid, d) != 0 ||
	    (person && person_id_of(st, person, &who, NULL, 0, d) != 0))
		return -1;
	static const char *const names[] = {"id",	  "award_key", "person_id", "person",
					    "name",	  "program",   "points",    "badge",
					    "reason",	  "plugin",    "event_id",  "revokes",
					    "at"};
	static const int ints[] = {1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0};
	struct stmt s;
	int rc = stmt_prepare(&s, st, "listing the ledger",
			      "SELECT r.id, r.award_key, r.person_id, p.external_id, p.name, g.name, "
			      "r.points, r.badge, r.reason, r.plugin, r.event_id, r.revokes, r.at "
			      "FROM rewards r JOIN people p ON p.id = r.person_id "
			      "LEFT JOIN programs g ON g.id = r.program_id "
			      "WHERE (?1 = 0 OR r.program_id = ?1) AND (?2 = 0 OR r.person_id = ?2) "
			      "ORDER BY r.id",
			      d) ||
			 stmt_bind_int64(&s, 1, pid, d) || stmt_bind_int64(&s, 2, who, d)
		     ? -1
		     : 0;
	json_t *arr = json_array();
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < 13; i++)
			json_object_set_new(o, names[i], col_json(&s, i, ints[i]));
		json_array_append_new(arr, o);
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int
ledger_badges(struct store *st, int64_t person_id, int64_t program_id, json_t **out,
	      struct diag *d)
{
	*out = NULL;
	struct stmt s;
	int rc = stmt_prepare(&s, st, "listing badges",
			      "SELECT g.badge FROM rewards g WHERE g.person_id = ?1 "
			      "AND g.badge IS NOT NULL AND g.revokes IS NULL "
			      "AND (?2 = 0 OR g.program_id = ?2) "
			      "AND NOT EXISTS (SELECT 1 FROM rewards r WHERE r.revokes = g.id) "
			      "ORDER BY g.id",
			      d) ||
			 stmt_bind_int64(&s, 1, person_id, d) || stmt_bind_int64(&s, 2, program_id, d)
		     ? -1
		     : 0;
	json_t *arr = json_array();
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		json_array_append_new(arr, col_json(&s, 0, 0));
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

/* Points of one person (program 0: all). */
static int
person_points(struct store *st, int64_t person, int64_t pid, int64_t *points, struct diag *d)
{
	struct stmt s;
	int rc = stmt_prepare(&s, st, "adding up points",
			      "SELECT coalesce(sum(points), 0) FROM rewards WHERE person_id = ?1 "
			      "AND (?2 = 0 OR program_id = ?2)",
			      d) ||
			 stmt_bind_int64(&s, 1, person, d) || stmt_bind_int64(&s, 2, pid, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW)
		*points = stmt_int64(&s, 0);
	stmt_finalize(&s);
	return rc == STMT_ROW ? 0 : -1;
}

/* Who is listed: everyone opted in for the program, or (no program) in every enrollment,
 * with or without points (0 points: tied last). */
static const char board_sql[] =
	"SELECT p.id, p.external_id, p.name, coalesce((SELECT sum(r.points) FROM rewards r "
	"  WHERE r.person_id = p.id AND (?1 = 0 OR r.program_id = ?1)), 0) AS pts FROM people p "
	"WHERE (?1 = 0 AND p.id IN (SELECT person_id FROM enrollments "
	"  GROUP BY person_id HAVING min(leaderboard) = 1)) "
	"OR (?1 <> 0 AND EXISTS (SELECT 1 FROM enrollments e "
	"  WHERE e.person_id = p.id AND e.program_id = ?1 AND e.leaderboard = 1)) "
	"ORDER BY pts DESC, p.name, p.external_id";

int
ledger_leaderboard(struct store *st, const char *program, const char *as, json_t **out,
		   struct diag *d)
{
	*out = NULL;
	int64_t pid = 0, me = 0;
	char my_name[256] = "";
	if (program_id_of(st, program, &pid, d) != 0 ||
	    (as && person_id_of(st, as, &me, my_name, sizeof(my_name), d) != 0))
		return -1;
	struct stmt s;
	int rc = stmt_prepare(&s, st, "building the leaderboard", board_sql, d) ||
			 stmt_bind_int64(&s, 1, pid, d)
		     ? -1
		     : 0;
	json_t *entries = json_array();
	int64_t prev = 0;
	int rank = 0, n = 0, on_board = 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		int64_t id = stmt_int64(&s, 0), pts = stmt_int64(&s, 3);
		n++;
		if (n == 1 || pts != prev)
			rank = n;
		prev = pts;
		json_t *badges = NULL;
		if (ledger_badges(st, id, pid, &badges, d) != 0) {
			rc = -1;
			break;
		}
		json_t *o = json_pack("{si so so sI so}", "rank", rank, "person", col_json(&s, 1, 0),
				      "name", col_json(&s, 2, 0), "points", (json_int_t)pts, "badges",
				      badges);
		json_array_append_new(entries, o);
		on_board |= id == me;
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(entries);
		return -1;
	}
	json_t *board = json_pack("{so so}", "program", program ? json_string(program) : json_null(),
				  "entries", entries);
	if (me != 0) {
		int64_t pts = 0;
		json_t *badges = NULL;
		if (person_points(st, me, pid, &pts, d) != 0 || ledger_badges(st, me, pid, &badges, d) != 0) {
			json_decref(board);
			return -1;
		}
		int better = 0;
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e)
		{
			if (json_integer_value(json_object_get(e, "points")) > pts)
				better++;
		}
		json_object_set_new(board, "you",
				    json_pack("{ss ss sI so si sb}", "person", as, "name", my_name,
					      "points", (json_int_t)pts, "badges", badges, "rank",
					      better + 1, "on_board", on_board));
	}
	*out = board;
	return 0;
}

/*
 * people_erase: erasing one person for good (people_erase() in people.h, the right to
 * erasure): in one transaction, end their approved and active matches as `match end` does
 * (program/lifecycle, reason "partner erased"; those rows stay with the person's side NULL,
 * so the partner's calendar keeps the cancelled sessions), delete their other matches, the
 * person and every row about them (cascades), detach their reports, scrub the events that concern or mention them and append a
 * people.erased event carrying only a pseudonym; then push the WAL into the database and
 * vacuum when the e-mail's bytes are still in the file. Also the pseudonym itself.
 *
 * Called by cli/cmd_people.c and the public API. It needs a transaction of its own (the
 * checkpoint and VACUUM cannot run inside one), so it refuses to run inside a caller's.
 */
#include "program/people.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/sha256.h"
#include "events/events.h"
#include "program/lifecycle.h"
#include "program/people_read.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- pseudonyms -------------------------------------------------------------------------- */

int
people_pseudonym(const unsigned char *salt, size_t saltlen, const char *external_id, char out[17])
{
	struct sha256 c;
	unsigned char digest[SHA256_LEN];
	sha256_init(&c);
	sha256_update(&c, salt, saltlen);
	sha256_update(&c, external_id, strlen(external_id));
	sha256_final(&c, digest);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* ---- erasure ----------------------------------------------------------------------------- */

/* Runs one statement taking ?1 = people.id; *changes (if not NULL) gets the rows it changed. */
static int
people_exec_bound(struct store *st, const char *what, const char *sql, long long id,
		  long *changes, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, what, sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_run(&s, d) ? -1 : 0;
	stmt_finalize(&s);
	if (rc == 0 && changes != NULL)
		*changes = sqlite3_changes(store_db(st));
	return rc;
}

/* Counts the rows the cascade will remove, for the report. */
static long
people_count_rows(struct store *st, long long id, struct diag *d)
{
	long total = 1;
	for (size_t i = 0; i < people_ntables; i++) {
		if (strcmp(people_tables[i].table, "events") == 0)
			continue; /* events are scrubbed, not deleted */
		char sql[4096], what[64];
		if ((size_t)snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s)",
				     people_tables[i].sql) >= sizeof(sql))
			return diag_set(d, DIAG_INTERNAL, "counting %s: query too long",
					people_tables[i].table);
		snprintf(what, sizeof(what), "counting %s", people_tables[i].table);
		struct stmt s;
		if (stmt_prepare(&s, st, what, sql, d) != 0)
			return -1;
		int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
		if (rc == STMT_ROW)
			total += (long)stmt_int64(&s, 0);
		else if (rc == STMT_DONE)
			rc = diag_set(d, DIAG_INTERNAL, "%s: a count returned no row", what);
		stmt_finalize(&s);
		if (rc < 0)
			return -1;
	}
	return total;
}

/* memmem without _GNU_SOURCE. */
static int
people_mem_contains(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return 1;
	for (const char *p = hay, *end = hay + n; (size_t)(end - p) >= m;) {
		p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
		if (p == NULL)
			return 0;
		if (memcmp(p, needle, m) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* 1 when needle's bytes occur anywhere in the file at path, 0 when not, -1 when the file
 * could not be read through (the caller must then assume they may be there). */
static int
people_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t n = strlen(needle), cap = 1 << 20;
	char *buf = malloc(cap + n);
	int found = buf == NULL ? -1 : 0;
	size_t keep = 0;
	while (buf != NULL && !found) {
		size_t got = fread(buf + keep, 1, cap, f);
		if (got == 0) {
			if (ferror(f))
				found = -1;
			break;
		}
		found = people_mem_contains(buf, keep + got, needle, n);
		/* Carry the last n-1 bytes so a match across two reads is seen. */
		size_t total = keep + got;
		keep = n - 1 < total ? n - 1 : total;
		memmove(buf, buf + total - keep, keep);
	}
	free(buf);
	fclose(f);
	return found;
}

/* Ends the person's approved and active matches as `match end` does (lifecycle_end, reason
 * PEOPLE_ERASE_REASON): match.ended, the later planned sessions cancelled with their events.
 * *kept gets their ids as a JSON array text (the caller frees it): those rows survive the
 * erasure detached (the person's side becomes NULL), so the partner's calendar still
 * carries the cancellations. */
static int
people_end_matches(struct store *st, long long id, struct people_erase_result *res, char **kept,
		   struct diag *d)
{
	*kept = NULL;
	struct stmt s;
	if (stmt_prepare(&s, st, "listing the person's current matches",
			 "SELECT id FROM matches WHERE (mentor_id = ?1 OR mentee_id = ?1)"
			 " AND status IN ('approved', 'active') ORDER BY id",
			 d) != 0)
		return -1;
	json_t *ids = json_array();
	int rc = ids == NULL ? diag_set(d, DIAG_NOMEM, "out of memory") : stmt_bind_int64(&s, 1, id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = json_array_append_new(ids, json_integer(stmt_int64(&s, 0))) == 0
			 ? 0
			 : diag_set(d, DIAG_NOMEM, "out of memory");
	stmt_finalize(&s);
	size_t i;
	json_t *v;
	if (rc == STMT_DONE) {
		rc = 0;
		json_array_foreach(ids, i, v)
		{
			int n = 0;
			if (lifecycle_end(st, json_integer_value(v), PEOPLE_ERASE_REASON, NULL, &n,
					  d) != 0) {
				rc = -1;
				break;
			}
			res->matches_ended++;
			res->sessions_cancelled += n;
		}
	}
	if (rc == 0 && (*kept = json_dumps(ids, JSON_COMPACT)) == NULL)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	json_decref(ids);
	return rc == 0 ? 0 : -1;
}

/* Deletes the person's other matches (proposed, rejected, superseded, ended before) and
 * clears the explanation of the kept ones (it describes the erased person). */
static int
people_drop_matches(struct store *st, long long id, const char *kept, struct diag *d)
{
	static const char *const sql[] = {
	    "DELETE FROM matches WHERE (mentor_id = ?1 OR mentee_id = ?1)"
	    " AND id NOT IN (SELECT value FROM json_each(?2))",
	    "UPDATE matches SET explanation = '{}' WHERE id IN (SELECT value FROM json_each(?2))",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		struct stmt s;
		if (stmt_prepare(&s, st, "dropping the person's matches", sql[i], d) != 0)
			return -1;
		int rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, kept, d) ||
				 stmt_run(&s, d)
			 ? -1
			 : 0;
		stmt_finalize(&s);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The rows counted before that the erasure keeps: the detached matches, their sessions and
 * the partner's feedback on them. */
static long
people_kept_rows(struct store *st, const char *kept, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "counting the kept rows",
			 "WITH k(id) AS (SELECT value FROM json_each(?1))"
			 " SELECT (SELECT count(*) FROM matches WHERE id IN (SELECT id FROM k))"
			 " + (SELECT count(*) FROM sessions WHERE match_id IN (SELECT id FROM k))"
			 " + (SELECT count(*) FROM feedback WHERE match_id IN (SELECT id FROM k))",
			 d) != 0)
		return -1;
	int rc = stmt_bind_text(&s, 1, kept, d) ? -1 : stmt_step(&s, d);
	long n = rc == STMT_ROW ? (long)stmt_int64(&s, 0) : -1;
	if (rc == STMT_DONE)
		diag_set(d, DIAG_INTERNAL, "counting the kept rows: no row");
	stmt_finalize(&s);
	return n;
}

static int
people_erase_rows(struct store *st, long long id, const char *email, const char *pseudonym,
		  const char *kept, struct people_erase_result *res, struct diag *d)
{
	/* Events about them keep their subject_id (a bare number) but lose their content; events
	 * that merely mention the e-mail or the quoted external id are scrubbed as well. The id
	 * comes from the row itself: res->external_id may be cut short for display. This UPDATE
	 * is the one write to events outside events_append() (see events.h for why). */
	struct stmt s;
	if (stmt_prepare(&s, st, "scrubbing events",
			 "UPDATE events SET payload = '{\"erased\":true}',"
			 " actor = CASE WHEN actor IN (?2, (SELECT external_id FROM people"
			 " WHERE id = ?1)) THEN NULL ELSE actor END"
			 " WHERE subject_id = ?1 OR instr(payload, ?2) > 0"
			 " OR instr(payload, '\"' || (SELECT external_id FROM people"
			 " WHERE id = ?1) || '\"') > 0",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, email, d) || stmt_run(&s, d)
			 ? -1
			 : 0;
	stmt_finalize(&s);
	if (rc != 0)
		return -1;
	res->events_scrubbed = sqlite3_changes(store_db(st));

	if (people_exec_bound(st, "detaching reports",
			      "UPDATE people SET manager_id = NULL WHERE manager_id = ?1", id,
			      &res->reports_detached, d) != 0)
		return -1;
	/* The cascades remove enrollments, vetoes, feedback they wrote, rewards and their outbox
	 * messages; the matches ended just now stay with their side set NULL, the others go
	 * (and their sessions and feedback with them). */
	long gone = 0;
	if (people_drop_matches(st, id, kept, d) != 0 ||
	    people_exec_bound(st, "erasing", "DELETE FROM people WHERE id = ?1", id, &gone, d) != 0)
		return -1;
	if (gone != 1)
		return diag_set(d, DIAG_NOTFOUND, "the person disappeared during the erase");
	long left = people_kept_rows(st, kept, d);
	if (left < 0)
		return -1;
	res->rows -= left;

	char payload[64];
	snprintf(payload, sizeof(payload), "{\"pseudonym\":\"%s\"}", pseudonym);
	return events_append(st,
			     &(struct event){.kind = "people.erased", .subject_id = id,
					     .payload_json = payload},
			     NULL, d);
}

/* Copies the WAL into the database and empties it. 0 done, 1 another connection kept it
 * (busy: the data leaves at the next checkpoint), -1 + diag on any other failure. */
static int
people_truncate_wal(struct store *st, struct diag *d)
{
	int rc = sqlite3_wal_checkpoint_v2(store_db(st), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc == SQLITE_BUSY)
		return 1;
	if (rc != SQLITE_OK)
		return store_error(st, d, "%s: checkpoint after erase", store_path(st));
	return 0;
}

/* Pushes the WAL into the database and empties it; vacuums if the e-mail survives in the file. */
int
people_erase_flush(struct store *st, const char *email, struct people_erase_result *res,
		   struct diag *d)
{
	int busy = people_truncate_wal(st, d);
	if (busy < 0)
		return -1;
	/* Unsure (the file could not be read) counts as found: vacuum rather than leave it. */
	if (people_file_contains(store_path(st), email) != 0) {
		if (store_exec(st, "VACUUM", d) != 0)
			return diag_prefix(d, "vacuum after erase");
		res->vacuumed = 1;
		int again = people_truncate_wal(st, d);
		if (again < 0)
			return -1;
		busy |= again;
	}
	res->checkpointed = !busy;
	if (busy)
		tlog(TLOG_WARN, "%s: another connection kept the WAL from being emptied; "
				"the erased data leaves tandem.db-wal at the next checkpoint",
		     store_path(st));
	return 0;
}

/* Reads who is being erased, inside the write transaction so an import cannot change the
 * e-mail or id between the lookup and the scrub; the person's people.id, or 0 + diag. */
static long long
people_erase_identify(struct store *st, const char *key, struct people_erase_result *res,
		      char *email, size_t emailsize, char *name, size_t namesize, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return 0;
	char what[300];
	snprintf(what, sizeof(what), "reading '%.255s'", key);
	struct stmt s;
	if (stmt_prepare(&s, st, what, "SELECT external_id, email, name FROM people WHERE id = ?",
			 d) != 0)
		return 0;
	const char *ext = NULL, *mail = NULL, *nm = NULL;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_DONE)
		rc = diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
	if (rc == STMT_ROW && (stmt_text(&s, 0, &ext, d) != 0 || stmt_text(&s, 1, &mail, d) != 0 ||
			       stmt_text(&s, 2, &nm, d) != 0))
		rc = -1;
	/* An empty e-mail must never reach the scrub: instr(payload, '') matches every event. */
	if (rc == STMT_ROW && (ext == NULL || mail == NULL || mail[0] == '\0'))
		rc = diag_set(d, DIAG_INTERNAL, "%s: the person has no external id or e-mail", what);
	if (rc == STMT_ROW) {
		snprintf(res->external_id, sizeof(res->external_id), "%s", ext);
		snprintf(email, emailsize, "%s", mail);
		snprintf(name, namesize, "%s", nm != NULL ? nm : "");
	}
	stmt_finalize(&s);
	return rc == STMT_ROW ? id : 0;
}

/* The hook of plain people_erase: keeps the e-mail for the flush. */
static int
people_erase_keep_email(struct store *st, const struct people_erased *who, void *ud,
			struct diag *d)
{
	(void)st;
	(void)d;
	snprintf(ud, 512, "%s", who->email);
	return 0;
}

int
people_erase_rows_with(struct store *st, const char *key, people_erase_hook hook, void *ud,
		       struct people_erase_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	unsigned char salt[32];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return diag_set(d, DIAG_IO, "cannot get random bytes for the pseudonym: %s",
				strerror(errno));

	/* The erasure must leave the file (checkpoint, VACUUM), which no open transaction allows. */
	if (store_depth(st) != 0)
		return diag_set(d, DIAG_INTERNAL,
				"people_erase runs in a transaction of its own, not inside another");
	/* secure_delete zeroes freed content instead of leaving it in free pages. */
	if (store_exec(st, "PRAGMA secure_delete=ON", d) != 0 || store_begin(st, d) != 0)
		return -1;
	char email[512] = "", name[512] = "";
	long long id = people_erase_identify(st, key, res, email, sizeof(email), name, sizeof(name), d);
	if (id == 0) {
		store_rollback(st);
		return -1;
	}
	if (people_pseudonym(salt, sizeof(salt), res->external_id, res->pseudonym) != 0) {
		store_rollback(st);
		return diag_set(d, DIAG_INTERNAL, "cannot make the pseudonym");
	}
	struct people_erased who = {id, res->external_id, name, email, res->pseudonym};
	if (hook != NULL && hook(st, &who, ud, d) != 0) {
		store_rollback(st);
		return -1;
	}
	/* Counted before the matches end: the rows about them as `people export` shows them. */
	res->rows = people_count_rows(st, id, d);
	char *kept = NULL;
	if (res->rows < 0 || people_end_matches(st, id, res, &kept, d) != 0 ||
	    people_erase_rows(st, id, email, res->pseudonym, kept, res, d) != 0) {
		free(kept);
		store_rollback(st);
		return -1;
	}
	free(kept);
	return store_commit(st, d) != 0 ? -1 : 0;
}

int
people_erase(struct store *st, const char *key, struct people_erase_result *res, struct diag *d)
{
	char email[512] = "";
	/* The e-mail, for the flush's check: read before the rows go. */
	if (people_erase_rows_with(st, key, people_erase_keep_email, email, res, d) != 0)
		return -1;
	return people_erase_flush(st, email, res, d);
}

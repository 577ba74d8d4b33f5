/*
 * privacy/erase: the erasure's database half (a hook inside people_erase_rows_with's
 * transaction), the erasure_files queue, and the order of the whole (see erase.h).
 */
#include "privacy/erase.h"

#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "privacy/erase_internal.h"
#include "privacy/scrub.h"
#include "rewards/certificate.h"
#include "store/stmt.h"

struct erase_ctx {
	struct privacy_erase_result *res;
};

/* Appends to keys the outbox keys of the messages addressed to person id. */
static int
erase_own_keys(struct store *st, long long id, json_t *keys, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "reading the person's messages",
			 "SELECT idempotency_key FROM outbox WHERE recipient_id = ?1 ORDER BY id",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *k = NULL;
		rc = stmt_text(&s, 0, &k, d) != 0 ? -1
		     : json_array_append_new(keys, json_string(k ? k : "")) != 0
			 ? diag_set(d, DIAG_NOMEM, "out of memory")
			 : 0;
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

/* A column's text scrubbed: *out a new json string when something was replaced, else
 * NULL. 0, or -1 + diag. */
static int
erase_scrub_col(const struct scrub *sc, struct stmt *s, int col, long *n, json_t **out,
		struct diag *d)
{
	*out = NULL;
	const char *t = NULL;
	if (stmt_is_null(s, col))
		return 0;
	if (stmt_text(s, col, &t, d) != 0)
		return -1;
	char *txt = NULL;
	size_t len = 0;
	long c = t == NULL ? 0 : scrub_text(sc, t, strlen(t), &txt, &len, d);
	if (c <= 0)
		return (int)c;
	*n += c;
	*out = json_stringn_nocheck(txt, len);
	free(txt);
	return *out != NULL ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
}

/* Scrubs the other people's messages that name them (subject, body, attachments) and
 * appends their keys to keys. Read first, written after: no update under a running scan. */
static int
erase_others(struct store *st, const struct people_erased *who, json_t *keys,
	     struct privacy_erase_result *res, struct diag *d)
{
	struct scrub sc;
	if (scrub_init(&sc, who->name, who->email, d) != 0)
		return -1;
	json_t *todo = json_array();
	struct stmt s;
	int rc = todo == NULL ? diag_set(d, DIAG_NOMEM, "out of memory")
		 : stmt_prepare(&s, st, "reading the messages that name the person",
				"SELECT id, idempotency_key, subject, body, attachments FROM outbox"
				" WHERE recipient_id IS NULL OR recipient_id <> ?1 ORDER BY id",
				d);
	if (rc == 0) {
		rc = stmt_bind_int64(&s, 1, who->id, d) ? -1 : 0;
		while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
			long n = 0;
			json_t *sub = NULL, *body = NULL, *att = NULL;
			const char *k = NULL;
			rc = erase_scrub_col(&sc, &s, 2, &n, &sub, d) ||
					 erase_scrub_col(&sc, &s, 3, &n, &body, d) ||
					 erase_scrub_col(&sc, &s, 4, &n, &att, d) ||
					 stmt_text(&s, 1, &k, d) != 0
				 ? -1
				 : 0;
			if (rc == 0 && n > 0 &&
			    (json_array_append_new(todo, json_pack("{sI so* so* so*}", "id",
					(json_int_t)stmt_int64(&s, 0), "subject", sub, "body", body,
					"attachments", att)) != 0 ||
			     json_array_append_new(keys, json_string(k ? k : "")) != 0))
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
			else if (n == 0 || rc != 0)
				json_decref(sub), json_decref(body), json_decref(att);
		}
		stmt_finalize(&s);
		rc = rc == STMT_DONE ? 0 : -1;
	}
	scrub_fini(&sc);
	size_t i;
	json_t *v;
	if (rc == 0 && stmt_prepare(&s, st, "scrubbing a message that names the person",
				    "UPDATE outbox SET subject = coalesce(?2, subject),"
				    " body = coalesce(?3, body), attachments = coalesce(?4, attachments)"
				    " WHERE id = ?1",
				    d) != 0)
		rc = -1;
	else if (rc == 0) {
		json_array_foreach(todo, i, v)
		{
			json_t *sub = json_object_get(v, "subject"), *body = json_object_get(v, "body"),
			       *att = json_object_get(v, "attachments");
			if (stmt_bind_int64(&s, 1, json_integer_value(json_object_get(v, "id")), d) ||
			    stmt_bind_text(&s, 2, sub ? json_string_value(sub) : NULL, d) ||
			    stmt_bind_text(&s, 3, body ? json_string_value(body) : NULL, d) ||
			    stmt_bind_text(&s, 4, att ? json_string_value(att) : NULL, d) ||
			    stmt_run(&s, d)) {
				rc = -1;
				break;
			}
			res->messages_scrubbed++;
		}
		stmt_finalize(&s);
	}
	json_decref(todo);
	return rc;
}

/* Inside the erasure's transaction, before the rows go (people_erase_hook). */
static int
erase_hook(struct store *st, const struct people_erased *who, void *ud, struct diag *d)
{
	struct erase_ctx *c = ud;
	json_t *keys = json_array(), *codes = json_array();
	json_t *work = json_pack("{ss ss ss so so}", "name", who->name, "email", who->email,
				 "external_id", who->external_id, "keys", keys, "codes", codes);
	if (work == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	char now[STORE_TIME_MAX], *text = NULL;
	struct stmt s;
	int rc = certificate_tombstone(st, who->id, codes, &c->res->certificates, d) != 0 ||
			 erase_own_keys(st, who->id, keys, d) != 0 ||
			 erase_others(st, who, keys, c->res, d) != 0
		     ? -1
		 : store_timestamp(st, now) != 0 ? diag_set(d, DIAG_INTERNAL, "the clock is out of range")
		 : (text = json_dumps(work, JSON_COMPACT)) == NULL ? diag_set(d, DIAG_NOMEM, "out of memory")
								   : 0;
	if (rc == 0) {
		rc = stmt_prepare(&s, st, "recording the erasure's file work",
				  "INSERT INTO erasure_files (pseudonym, work, created_at) VALUES (?1, ?2, ?3)",
				  d) ||
			     stmt_bind_text(&s, 1, who->pseudonym, d) || stmt_bind_text(&s, 2, text, d) ||
			     stmt_bind_text(&s, 3, now, d) || stmt_run(&s, d)
			 ? -1
			 : 0;
		stmt_finalize(&s);
	}
	free(text);
	json_decref(work);
	return rc;
}

/* Runs the file work of every erasure_files row, oldest first; a row whose work all
 * succeeded is deleted, then the WAL is flushed for its e-mail. */
int
privacy_erase_finish(struct store *st, const char *ws, struct privacy_erase_result *res,
		     struct diag *d)
{
	if (res->files == NULL && (res->files = json_array()) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct stmt s;
	if (stmt_prepare(&s, st, "reading the erasures' file work",
			 "SELECT id, work FROM erasure_files ORDER BY id", d) != 0)
		return -1;
	json_t *rows = json_array();
	int rc = rows == NULL ? diag_set(d, DIAG_NOMEM, "out of memory") : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *w = NULL;
		json_error_t jerr;
		json_t *work = stmt_text(&s, 1, &w, d) == 0 && w ? json_loads(w, 0, &jerr) : NULL;
		rc = work == NULL ? diag_set(d, DIAG_INVALID, "erasure_files row %lld: its work is "
						"not JSON", (long long)stmt_int64(&s, 0))
		     : json_array_append_new(rows, json_pack("{sI so}", "id",
					(json_int_t)stmt_int64(&s, 0), "work", work));
	}
	stmt_finalize(&s);
	rc = rc == STMT_DONE ? 0 : -1;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		if (rc != 0)
			break;
		json_t *work = json_object_get(row, "work");
		long failed = res->failed;
		res->pending++;
		if (privacy_erase_files(ws, store_path(st), work, res, d) != 0) {
			rc = -1;
			break;
		}
		crash_point("erase.files");
		if (res->failed > failed)
			continue; /* kept for the next run */
		if (store_begin(st, d) != 0 ||
		    stmt_prepare(&s, st, "closing an erasure's file work",
				 "DELETE FROM erasure_files WHERE id = ?1", d) != 0) {
			store_rollback(st);
			rc = -1;
			break;
		}
		rc = stmt_bind_int64(&s, 1, json_integer_value(json_object_get(row, "id")), d) ||
			     stmt_run(&s, d)
			 ? -1
			 : 0;
		stmt_finalize(&s);
		if (rc != 0 || store_commit(st, d) != 0) {
			store_rollback(st);
			rc = -1;
			break;
		}
		const char *email = json_string_value(json_object_get(work, "email"));
		if (people_erase_flush(st, email ? email : "", &res->people, d) != 0)
			rc = -1;
	}
	json_decref(rows);
	return rc;
}

int
privacy_erase(struct store *st, const char *ws, const char *key,
	      struct privacy_erase_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	struct erase_ctx c = {.res = res};
	if (people_erase_rows_with(st, key, erase_hook, &c, &res->people, d) != 0) {
		/* No such person (or a failure): earlier erasures' leftover files still go. */
		struct diag ignored;
		diag_clear(&ignored);
		if (store_depth(st) == 0)
			(void)privacy_erase_finish(st, ws, res, &ignored);
		return -1;
	}
	crash_point("erase.committed");
	/* This erasure's file work, and any an earlier one left (res->pending counts both). */
	return privacy_erase_finish(st, ws, res, d);
}

void
privacy_erase_result_fini(struct privacy_erase_result *res)
{
	json_decref(res->files);
	res->files = NULL;
}

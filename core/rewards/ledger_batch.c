/*
 * rewards/ledger_batch: a dispatch batch's grants written in multi-row statements
 * (ledger_writer_grants, see ledger.h). Each distinct person is checked once; the rows go
 * through one prepared INSERT OR IGNORE (see insert_one); their reward.granted events are
 * built here, in C, exactly as ledger_writer_grant's jansson payload reads, and appended
 * EVENTS_MANY_ROWS at a time (events_append_many). A statement per row, or SQLite's json functions reading a JSON
 * array of the grants and building each payload, cost more than the rows themselves.
 */
#include "rewards/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/stmt.h"

/* Appends s as a JSON string as jansson's json_dumps writes it (JSON_COMPACT, no
 * JSON_ENSURE_ASCII): '"' and '\' escaped, control characters as \b \f \n \r \t or
 * \u00XX (upper-case hex), every other byte as it is. */
static int
json_string_out(struct buf *o, const char *s, struct diag *d)
{
	if (buf_putc(o, '"', d) != 0)
		return -1;
	const char *run = s;
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p != '\0' && *p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		if (buf_append(o, run, (size_t)((const char *)p - run), d) != 0)
			return -1;
		if (*p == '\0')
			break;
		int rc;
		switch (*p) {
		case '"': rc = buf_puts(o, "\\\"", d); break;
		case '\\': rc = buf_puts(o, "\\\\", d); break;
		case '\b': rc = buf_puts(o, "\\b", d); break;
		case '\f': rc = buf_puts(o, "\\f", d); break;
		case '\n': rc = buf_puts(o, "\\n", d); break;
		case '\r': rc = buf_puts(o, "\\r", d); break;
		case '\t': rc = buf_puts(o, "\\t", d); break;
		default: rc = buf_printf(o, d, "\\u%04X", *p); break;
		}
		if (rc != 0)
			return -1;
		run = (const char *)p + 1;
	}
	return buf_putc(o, '"', d);
}

/* The reward.granted payload of new row `id` (ledger_writer_grant's, key for key). */
static int
granted_payload(struct buf *o, int64_t id, const struct ledger_grant *g, struct diag *d)
{
	if (buf_printf(o, d, "{\"reward\":%lld,\"award_key\":", (long long)id) != 0 ||
	    json_string_out(o, g->key, d) != 0 || buf_puts(o, ",\"plugin\":", d) != 0 ||
	    json_string_out(o, g->plugin, d) != 0 ||
	    buf_printf(o, d, ",\"points\":%lld,\"badge\":", (long long)g->points) != 0 ||
	    (g->badge ? json_string_out(o, g->badge, d) : buf_puts(o, "null", d)) != 0)
		return -1;
	if (g->event_id)
		return buf_printf(o, d, ",\"event\":%lld}", (long long)g->event_id);
	return buf_puts(o, ",\"event\":null}", d);
}

/* ---- the people, each checked once ---------------------------------------------------- */

/* An open-addressing set of person ids (0 is "empty": ids are > 0 in the ledger). */
struct idset {
	int64_t *v;
	size_t mask;
};

/* 1 when id was in the set, 0 when it is added now. */
static int
idset_add(struct idset *s, int64_t id)
{
	size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 17) & s->mask;
	while (s->v[h] != 0) {
		if (s->v[h] == id)
			return 1;
		h = (h + 1) & s->mask;
	}
	s->v[h] = id;
	return 0;
}

/* *missing: the index of the first grant whose person does not exist, or -1. */
static int
check_people(struct ledger_writer *w, const struct ledger_grant *g, size_t n, long *missing,
	     struct diag *d)
{
	*missing = -1;
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	struct idset set = {calloc(cap, sizeof(int64_t)), cap - 1};
	if (set.v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory checking the grants' people");
	struct stmt *s = w->person;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (g[i].person_id > 0 && idset_add(&set, g[i].person_id))
			continue;
		rc = stmt_bind_int64(s, 1, g[i].person_id, d) ? -1 : stmt_step(s, d);
		if (rc >= 0 && stmt_reset(s, d) != 0)
			rc = -1;
		if (rc < 0)
			break;
		if (rc != STMT_ROW) {
			*missing = (long)i;
			break;
		}
		rc = 0;
	}
	free(set.v);
	return rc < 0 ? -1 : 0;
}

/* ---- the rows --------------------------------------------------------------------------- */

static int
bind_row(struct stmt *s, int p, const struct ledger_grant *g, struct diag *d)
{
	return stmt_bind_text(s, p, g->key, d) || stmt_bind_int64(s, p + 1, g->person_id, d) ||
			       (g->program_id ? stmt_bind_int64(s, p + 2, g->program_id, d)
					      : stmt_bind_null(s, p + 2, d)) ||
			       stmt_bind_int64(s, p + 3, g->points, d) ||
			       stmt_bind_text(s, p + 4, g->badge, d) ||
			       stmt_bind_text(s, p + 5, g->reason, d) ||
			       stmt_bind_text(s, p + 6, g->plugin, d) ||
			       (g->event_id ? stmt_bind_int64(s, p + 7, g->event_id, d)
					    : stmt_bind_null(s, p + 7, d))
		   ? -1
		   : 0;
}

/*
 * One row through the writer's prepared single-row insert, which tells whether it is new
 * and its id (changes, last_insert_rowid). Not multi-row: the ledger's foreign keys make a
 * multi-row INSERT run under a statement journal (a page copied per page first touched,
 * in 1 KiB chunks), which cost what the fewer statements saved (measured: 64, 128 or 512
 * rows per INSERT ... RETURNING, the same CPU as a row per statement).
 */
static int
insert_one(struct ledger_writer *w, const char *now, const struct ledger_grant *g, int64_t *id,
	   struct diag *d)
{
	struct stmt *s = w->insert;
	if (bind_row(s, 1, g, d) || stmt_bind_null(s, 9, d) || stmt_bind_text(s, 10, now, d) ||
	    stmt_run(s, d))
		return -1;
	sqlite3 *db = store_db(w->st);
	*id = sqlite3_changes(db) == 1 ? sqlite3_last_insert_rowid(db) : 0;
	return 0;
}

int
ledger_writer_grants(struct ledger_writer *w, const struct ledger_grant *g, size_t n,
		     long *granted, long *missing, struct diag *d)
{
	*granted = 0;
	*missing = -1;
	w->conflict = -1;
	if (store_depth(w->st) == 0)
		return diag_set(d, DIAG_INTERNAL, "ledger_writer_grants outside a transaction");
	for (size_t i = 0; i < n; i++)
		if (g[i].key == NULL || g[i].key[0] == '\0' || g[i].reason == NULL ||
		    g[i].reason[0] == '\0' || g[i].plugin == NULL)
			return diag_set(d, DIAG_INVALID, "a grant needs a key, a reason and a plugin");
	char now[STORE_TIME_MAX];
	if (store_timestamp(w->st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	if (n == 0)
		return 0;
	if (check_people(w, g, n, missing, d) != 0)
		return -1;
	if (*missing >= 0)
		return 0;
	if (n > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		while (cap < n)
			cap *= 2;
		int64_t *ids = realloc(w->ids, cap * sizeof(*ids));
		if (ids != NULL)
			w->ids = ids;
		size_t *at = realloc(w->at, cap * sizeof(*at));
		if (at != NULL)
			w->at = at;
		struct event *evs = realloc(w->evs, cap * sizeof(*evs));
		if (evs != NULL)
			w->evs = evs;
		if (ids == NULL || at == NULL || evs == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory recording rewards");
		w->cap = cap;
	}
	int64_t *ids = w->ids;
	size_t *at = w->at; /* a new row's payload: its offset in text */
	struct event *ev = w->evs;
	struct buf *text = &w->text;
	buf_reset(text);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = insert_one(w, now, &g[i], &ids[i], d);
	/* A key already there (redelivery, or two equal keys): another person's is refused. */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int64_t owner = 0;
		if (ids[i] != 0)
			continue;
		int k = ledger_writer_owner(w, g[i].key, &owner, d);
		if (k < 0) {
			rc = -1;
		} else if (k == 0 && owner != g[i].person_id) {
			w->conflict = (long)i;
			w->conflict_person = owner;
			return 0;
		}
	}
	/* The events, in the rows' order (the grants' order): payloads first, then pointers
	 * into the text (it moves while it grows). */
	size_t m = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (ids[i] == 0)
			continue;
		at[m] = text->len;
		rc = granted_payload(text, ids[i], &g[i], d) || buf_putc(text, '\0', d) ? -1 : 0;
		ev[m++] = (struct event){.kind = "reward.granted",
					 .actor = g[i].plugin,
					 .subject_id = g[i].person_id,
					 .program_id = g[i].program_id};
	}
	for (size_t i = 0; rc == 0 && i < m; i++)
		ev[i].payload_json = text->data + at[i];
	if (rc == 0)
		rc = events_append_many(w->st, ev, m, d);
	if (rc == 0)
		*granted = (long)m;
	return rc;
}

/*
 * http/tokens: bearer tokens stored as hashes (see tokens.h).
 */
#include "http/tokens.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>

#include "base/sha256.h"
#include "events/events.h"
#include "http/dbgen.h"
#include "store/stmt.h"
#include "store/store.h"

enum { TOUCH_EVERY_S = 60 };

static int
check_name(const char *name, struct diag *d)
{
	size_t n = strlen(name);
	if (n == 0 || n > TOKENS_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						  "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return diag_set(d, DIAG_INVALID,
				"token name '%s': want 1-%d letters, digits, '.', '_' or '-'", name,
				TOKENS_NAME_MAX);
	return 0;
}

static int
append_event(struct store *st, const char *kind, const char *name, const char *scope,
	     const char *actor, struct diag *d)
{
	json_t *p = json_pack("{ssss}", "name", name, "scope", scope);
	char *text = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct event ev = {.kind = kind, .actor = actor, .payload_json = text};
	int rc = events_append(st, &ev, NULL, d);
	free(text);
	return rc;
}

int
tokens_create(struct store *st, const char *name, enum http_scope scope, const char *actor,
	      char token[TOKENS_TEXT_MAX], struct diag *d)
{
	if (check_name(name, d) != 0)
		return -1;
	if (scope < HTTP_SCOPE_READ || scope > HTTP_SCOPE_ADMIN)
		return diag_set(d, DIAG_INVALID, "token scope: want read, manage or admin");
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return diag_set(d, DIAG_IO, "cannot get random bytes for the token: %s",
				strerror(errno));
	size_t o = (size_t)snprintf(token, TOKENS_TEXT_MAX, "tdm_");
	o += http_b64url(raw, sizeof(raw), token + o, TOKENS_TEXT_MAX - o);
	char hex[SHA256_HEX_LEN], now[STORE_TIME_MAX];
	sha256_hex(token, o, hex);
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "creating a token: the clock is out of range");

	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "creating a token",
			      "INSERT INTO api_tokens(name, scope, hash, created_at, created_by) "
			      "VALUES (?1, ?2, ?3, ?4, ?5)",
			      d) ||
		 stmt_bind_text(&s, 1, name, d) || stmt_bind_text(&s, 2, http_scope_name(scope), d) ||
		 stmt_bind_text(&s, 3, hex, d) || stmt_bind_text(&s, 4, now, d) ||
		 stmt_bind_text(&s, 5, actor, d) || stmt_run(&s, d);
	stmt_finalize(&s);
	if (rc != 0 && d != NULL && d->code == DIAG_CONFLICT)
		diag_set(d, DIAG_CONFLICT,
			 "a token named '%s' exists already (names stay taken after a revocation)",
			 name);
	if (rc != 0 ||
	    append_event(st, "token.created", name, http_scope_name(scope), actor, d) != 0) {
		store_rollback(st);
		memset(token, 0, TOKENS_TEXT_MAX);
		return -1;
	}
	return store_commit(st, d);
}

int
tokens_revoke(struct store *st, const char *name, const char *actor, struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "revoking a token: the clock is out of range");
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s = {0};
	const char *scope = NULL, *revoked = NULL;
	char scope_copy[16] = "";
	int rc = stmt_prepare(&s, st, "finding the token to revoke",
			      "SELECT scope, revoked_at FROM api_tokens WHERE name = ?1", d) ||
		 stmt_bind_text(&s, 1, name, d);
	if (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = stmt_text(&s, 0, &scope, d) || stmt_text(&s, 1, &revoked, d);
		if (rc == 0) {
			snprintf(scope_copy, sizeof(scope_copy), "%s", scope ? scope : "");
			if (revoked != NULL)
				rc = diag_set(d, DIAG_CONFLICT, "token '%s' was revoked at %s", name,
					      revoked);
		}
	} else if (rc == STMT_DONE) {
		rc = diag_set(d, DIAG_NOTFOUND, "no token named '%s'", name);
	}
	stmt_finalize(&s);
	if (rc == 0)
		rc = stmt_prepare(&s, st, "revoking a token",
				  "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1", d) ||
		     stmt_bind_text(&s, 1, name, d) || stmt_bind_text(&s, 2, now, d) ||
		     stmt_run(&s, d);
	stmt_finalize(&s);
	if (rc != 0 || append_event(st, "token.revoked", name, scope_copy, actor, d) != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, d);
}

json_t *
tokens_list_json(struct store *st, struct diag *d)
{
	struct stmt s = {0};
	json_t *arr = json_array();
	if (arr == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	int rc = stmt_prepare(&s, st, "listing tokens",
			      "SELECT name, scope, created_at, created_by, revoked_at, last_used_at "
			      "FROM api_tokens ORDER BY name",
			      d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *c[6];
		for (int i = 0; i < 6 && rc == STMT_ROW; i++)
			if (stmt_text(&s, i, &c[i], d) != 0)
				rc = -1;
		if (rc != STMT_ROW)
			break;
		json_t *o = json_pack("{ssssssss?ss?ss?}", "name", c[0], "scope", c[1],
				      "created_at", c[2], "created_by", c[3], "revoked_at", c[4],
				      "last_used_at", c[5]);
		rc = o == NULL || json_array_append_new(arr, o) != 0
			 ? diag_set(d, DIAG_NOMEM, "out of memory")
			 : 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int
tokens_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* ---- checking ---------------------------------------------------------------------- */

struct live_token {
	char name[TOKENS_NAME_MAX + 1];
	enum http_scope scope;
	unsigned char hash[SHA256_LEN];
	time_t touched; /* last_used_at written at (store clock) */
};

struct tokens_cache {
	struct store *st;
	struct dbgen gen; /* re-read the tokens when the database changed */
	struct live_token *v;
	size_t n;
};

struct tokens_cache *
tokens_cache_new(struct store *st, struct dbgen_reader *shared, struct diag *d)
{
	struct tokens_cache *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	c->st = st;
	if (shared != NULL)
		dbgen_init_shared(&c->gen, shared);
	else if (dbgen_init(&c->gen, st, d) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
tokens_cache_delete(struct tokens_cache *c)
{
	if (c == NULL)
		return;
	dbgen_fini(&c->gen);
	free(c->v);
	free(c);
}

static int
hex_decode(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* Re-reads the live tokens when the database changed since the last read. */
static int
refresh(struct tokens_cache *c, struct diag *d)
{
	int changed, rc;
	if (dbgen_check(&c->gen, &changed, d) != 0)
		return -1;
	if (!changed)
		return 0;
	struct stmt s = {0};
	struct live_token *v = NULL;
	size_t n = 0, cap = 0;
	rc = stmt_prepare(&s, c->st, "reading the live tokens",
			  "SELECT name, scope, hash FROM api_tokens WHERE revoked_at IS NULL", d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		const char *name, *scope, *hash;
		if (stmt_text(&s, 0, &name, d) || stmt_text(&s, 1, &scope, d) ||
		    stmt_text(&s, 2, &hash, d)) {
			rc = -1;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct live_token *nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		struct live_token *t = &v[n];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
		if (scope == NULL || http_scope_parse(scope, &t->scope) != 0 || hash == NULL ||
		    strlen(hash) != 2 * SHA256_LEN || hex_decode(hash, t->hash, SHA256_LEN) != 0) {
			rc = 0; /* a row the schema's CHECKs should have refused: never matches */
			continue;
		}
		for (size_t i = 0; i < c->n; i++)
			if (strcmp(c->v[i].name, t->name) == 0)
				t->touched = c->v[i].touched;
		n++;
		rc = 0;
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		free(v);
		c->gen.seen = 0; /* read them again next time */
		return -1;
	}
	free(c->v);
	c->v = v;
	c->n = n;
	return 0;
}

/* last_used_at, at most once a minute; a failure is logged, the request goes on. The
 * write never waits for another process's lock (it would hold the loop, and every client,
 * for the busy timeout): a busy database skips it until the next minute. */
static void
touch(struct tokens_cache *c, struct live_token *t)
{
	time_t now = store_time(c->st);
	if (t->touched != 0 && now - t->touched < TOUCH_EVERY_S)
		return;
	t->touched = now;
	if (store_depth(c->st) != 0)
		return;
	char ts[STORE_TIME_MAX];
	struct diag d;
	diag_clear(&d);
	struct stmt s = {0};
	sqlite3_busy_timeout(store_db(c->st), 0);
	int rc = store_timestamp(c->st, ts) != 0 || store_begin(c->st, &d) != 0;
	sqlite3_busy_timeout(store_db(c->st), STORE_BUSY_MS);
	if (rc)
		goto fail;
	if (stmt_prepare(&s, c->st, "recording a token's use",
			 "UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1", &d) ||
	    stmt_bind_text(&s, 1, t->name, &d) || stmt_bind_text(&s, 2, ts, &d) ||
	    stmt_run(&s, &d)) {
		stmt_finalize(&s);
		store_rollback(c->st);
		goto fail;
	}
	stmt_finalize(&s);
	/* The tokens are read again at the next check (our write moved the generation): not
	 * skipped, since a revocation committed meanwhile by another process must be seen. */
	if (store_commit(c->st, &d) != 0)
		goto fail;
	return;
fail:
	tlog(TLOG_WARN, "token '%s': cannot record its use: %s", t->name, d.msg);
}

int
tokens_check(struct tokens_cache *c, const char *authorization, const char **name,
	     enum http_scope *scope, struct diag *d)
{
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 0;
	const char *tok = authorization + 7;
	tok += strspn(tok, " ");
	size_t n = strcspn(tok, " \t");
	if (n == 0 || n >= TOKENS_TEXT_MAX)
		return 0;
	if (refresh(c, d) != 0)
		return -1;
	unsigned char h[SHA256_LEN];
	sha256(tok, n, h);
	struct live_token *found = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (tokens_equal(h, c->v[i].hash, SHA256_LEN))
			found = &c->v[i];
	if (found == NULL)
		return 0;
	*name = found->name;
	*scope = found->scope;
	touch(c, found);
	return 1;
}

/*
 * http/dash_session: the dashboard's sessions, stored as hashes (see dash_session.h).
 *
 * The lookup is by the SHA-256 of the cookie (an index on the hash): unlike an API token's
 * check, which compares every live hash in constant time, a timing difference here could at
 * most tell a prefix of a hash of 256 random bits, which opens nothing.
 */
#include "http/dash_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "http/router.h"
#include "store/stmt.h"
#include "store/store.h"


/* 1 when s is DASH_COOKIE_LEN base64url characters. */
static int
cookie_shape(const char *s)
{
	return s != NULL && strlen(s) == DASH_COOKIE_LEN && strspn(s, HTTP_B64URL_ALPHABET) == DASH_COOKIE_LEN;
}

/* The times of "now - seconds" as store text. */
static int
time_ago(struct store *st, long seconds, char out[STORE_TIME_MAX])
{
	return store_format_time(store_time(st) - seconds, out);
}

int
dash_session_open(struct store *st, const char *token_name, char cookie[DASH_COOKIE_LEN + 1],
		  struct diag *d)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return diag_set(d, DIAG_IO, "cannot get random bytes for a session: %s",
				strerror(errno));
	size_t o = http_b64url(raw, sizeof(raw), cookie, DASH_COOKIE_LEN + 1);
	memset(raw, 0, sizeof(raw));
	char hex[SHA256_HEX_LEN], now[STORE_TIME_MAX], idle[STORE_TIME_MAX], old[STORE_TIME_MAX];
	sha256_hex(cookie, o, hex);
	if (store_timestamp(st, now) != 0 || time_ago(st, DASH_SESSION_IDLE_S, idle) != 0 ||
	    time_ago(st, DASH_SESSION_MAX_S, old) != 0)
		return diag_set(d, DIAG_INTERNAL, "opening a session: the clock is out of range");
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "removing expired dashboard sessions",
			      "DELETE FROM dash_sessions WHERE last_seen_at <= ?1 OR created_at <= ?2",
			      d) ||
		 stmt_bind_text(&s, 1, idle, d) || stmt_bind_text(&s, 2, old, d) || stmt_run(&s, d);
	stmt_finalize(&s);
	if (rc == 0) {
		rc = stmt_prepare(&s, st, "opening a dashboard session",
				  "INSERT INTO dash_sessions(hash, token_id, created_at, last_seen_at) "
				  "SELECT ?1, id, ?3, ?3 FROM api_tokens "
				  "WHERE name = ?2 AND revoked_at IS NULL",
				  d) ||
		     stmt_bind_text(&s, 1, hex, d) || stmt_bind_text(&s, 2, token_name, d) ||
		     stmt_bind_text(&s, 3, now, d) || stmt_run(&s, d);
		if (rc == 0 && sqlite3_changes(store_db(st)) != 1)
			rc = diag_set(d, DIAG_NOTFOUND, "no live token named '%s'", token_name);
		stmt_finalize(&s);
	}
	if (rc != 0) {
		store_rollback(st);
		memset(cookie, 0, DASH_COOKIE_LEN + 1);
		return -1;
	}
	return store_commit(st, d);
}

/* last_seen_at = now, in its own short transaction; a failure is only logged. */
static void
touch(struct store *st, int64_t id, const char *now)
{
	struct diag d;
	diag_clear(&d);
	if (store_begin(st, &d) != 0) {
		tlog(TLOG_DEBUG, "dashboard: session not touched: %s", d.msg);
		return;
	}
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "touching a dashboard session",
			      "UPDATE dash_sessions SET last_seen_at = ?2 WHERE id = ?1", &d) ||
		 stmt_bind_int64(&s, 1, id, &d) || stmt_bind_text(&s, 2, now, &d) ||
		 stmt_run(&s, &d);
	stmt_finalize(&s);
	if (rc != 0 || store_commit(st, &d) != 0) {
		store_rollback(st);
		tlog(TLOG_DEBUG, "dashboard: session not touched: %s", d.msg);
	}
}

int
dash_session_check(struct store *st, const char *cookie, struct dash_who *who, struct diag *d)
{
	memset(who, 0, sizeof(*who));
	if (!cookie_shape(cookie))
		return 0;
	char hex[SHA256_HEX_LEN], now[STORE_TIME_MAX], idle[STORE_TIME_MAX], old[STORE_TIME_MAX],
		touch_at[STORE_TIME_MAX];
	sha256_hex(cookie, DASH_COOKIE_LEN, hex);
	if (store_timestamp(st, now) != 0 || time_ago(st, DASH_SESSION_IDLE_S, idle) != 0 ||
	    time_ago(st, DASH_SESSION_MAX_S, old) != 0 || time_ago(st, DASH_TOUCH_S, touch_at) != 0)
		return diag_set(d, DIAG_INTERNAL, "checking a session: the clock is out of range");
	struct stmt s = {0};
	const char *name = NULL, *scope = NULL, *seen = NULL;
	int64_t id = 0;
	int found = 0;
	int rc = stmt_prepare(&s, st, "checking a dashboard session",
			      "SELECT s.id, t.name, t.scope, s.last_seen_at FROM dash_sessions s "
			      "JOIN api_tokens t ON t.id = s.token_id "
			      "WHERE s.hash = ?1 AND t.revoked_at IS NULL "
			      "AND s.last_seen_at > ?2 AND s.created_at > ?3",
			      d) ||
		 stmt_bind_text(&s, 1, hex, d) || stmt_bind_text(&s, 2, idle, d) ||
		 stmt_bind_text(&s, 3, old, d);
	if (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		id = stmt_int64(&s, 0);
		if (stmt_text(&s, 1, &name, d) != 0 || stmt_text(&s, 2, &scope, d) != 0 ||
		    stmt_text(&s, 3, &seen, d) != 0 || name == NULL || scope == NULL) {
			rc = -1;
		} else {
			snprintf(who->name, sizeof(who->name), "%s", name);
			if (http_scope_parse(scope, &who->scope) != 0)
				who->scope = HTTP_SCOPE_READ;
			found = seen != NULL && strcmp(seen, touch_at) <= 0 ? 2 : 1;
			rc = STMT_DONE;
		}
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return -1;
	if (!found)
		return 0;
	if (found == 2)
		touch(st, id, now);
	dash_csrf(cookie, who->csrf);
	return 1;
}

int
dash_session_close(struct store *st, const char *cookie, struct diag *d)
{
	if (!cookie_shape(cookie))
		return 0;
	char hex[SHA256_HEX_LEN];
	sha256_hex(cookie, DASH_COOKIE_LEN, hex);
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "closing a dashboard session",
			      "DELETE FROM dash_sessions WHERE hash = ?1", d) ||
		 stmt_bind_text(&s, 1, hex, d) || stmt_run(&s, d);
	stmt_finalize(&s);
	if (rc != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, d);
}

int
dash_cookie_value(const char *header, char *out, size_t cap)
{
	static const char name[] = "tandem_session=";
	const char *p = header;
	while (p != NULL && *p) {
		p += strspn(p, " ;");
		size_t n = strcspn(p, ";");
		if (strncmp(p, name, sizeof(name) - 1) == 0) {
			size_t v = n - (sizeof(name) - 1);
			while (v > 0 && p[sizeof(name) - 1 + v - 1] == ' ')
				v--;
			if (v + 1 > cap)
				return 0;
			memcpy(out, p + sizeof(name) - 1, v);
			out[v] = '\0';
			return 1;
		}
		p += n;
	}
	return 0;
}

void
dash_csrf(const char *cookie, char out[SHA256_HEX_LEN])
{
	struct sha256 c;
	unsigned char h[SHA256_LEN];
	static const char label[] = "tandem-csrf-v1\n";
	sha256_init(&c);
	sha256_update(&c, label, sizeof(label) - 1);
	sha256_update(&c, cookie, strlen(cookie));
	sha256_final(&c, h);
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}

int
dash_csrf_ok(const struct dash_who *who, const char *presented)
{
	if (presented == NULL || strlen(presented) != SHA256_HEX_LEN - 1 || who->csrf[0] == '\0')
		return 0;
	return tokens_equal((const unsigned char *)who->csrf, (const unsigned char *)presented,
			    SHA256_HEX_LEN - 1);
}

/*
 * http/dash_session: the dashboard's sign-in sessions: a live API token exchanged for a
 * session cookie, the cookie checked on every page, sign-out, and the CSRF value bound to
 * the session (docs/dashboard.md).
 *
 * For: http/dash.c (sign-in, sign-out, every page and action) and http/api.c (the API
 * accepts the cookie for its reads). Unit test: tests/unit/test_dash_session.c.
 *
 * Contract:
 *  - dash_session_open: a new session for the live token named token_name: *cookie gets
 *    "tandem_session"'s value, 43 base64url characters of 32 random bytes; the table
 *    dash_sessions keeps only its SHA-256 (hex), the token's row id and the times. Old
 *    sessions past their expiry are deleted in the same transaction.
 *  - dash_session_check: the session a cookie value names: 1 and *who (token name, scope,
 *    csrf) when it exists, its token is live (not revoked), it was seen less than
 *    DASH_SESSION_IDLE_S ago and opened less than DASH_SESSION_MAX_S ago (the store's
 *    clock); 0 otherwise (also for a value of the wrong shape); -1 and a diag when the
 *    store failed. last_seen_at is written when it is a minute old or more (a busy
 *    database only delays it).
 *  - dash_session_close deletes the session a cookie names (0 also when there is none).
 *  - dash_cookie_value: the value of the cookie "tandem_session" in a Cookie header, copied
 *    into out (cap bytes); 1, or 0 when absent or too long.
 *  - dash_csrf: the CSRF value of a session: hex SHA-256 of "tandem-csrf-v1\n" and the
 *    cookie's value: stable for the session, never stored, unknown to another site.
 *    dash_csrf_ok compares a presented value with it in constant time.
 */
#ifndef TANDEM_HTTP_DASH_SESSION_H
#define TANDEM_HTTP_DASH_SESSION_H

#include "base/diag.h"
#include "base/sha256.h"
#include "http/router.h"
#include "http/tokens.h"

struct store;

enum {
	DASH_COOKIE_LEN = 43,
	DASH_SESSION_IDLE_S = 12 * 3600,
	DASH_SESSION_MAX_S = 7 * 24 * 3600,
	DASH_TOUCH_S = 60,
};

struct dash_who {
	char name[TOKENS_NAME_MAX + 1];
	enum http_scope scope;
	char csrf[SHA256_HEX_LEN];
};

int dash_session_open(struct store *st, const char *token_name, char cookie[DASH_COOKIE_LEN + 1],
		      struct diag *d);
int dash_session_check(struct store *st, const char *cookie, struct dash_who *who,
		       struct diag *d);
int dash_session_close(struct store *st, const char *cookie, struct diag *d);

int dash_cookie_value(const char *header, char *out, size_t cap);
void dash_csrf(const char *cookie, char out[SHA256_HEX_LEN]);
int dash_csrf_ok(const struct dash_who *who, const char *presented);

#endif

/*
 * http/tokens: the HTTP API's bearer tokens: create, list, revoke (for `tandem tokens`),
 * and check a presented token (for http/api.c, on every /api/v1 request).
 *
 * Contract:
 *  - A token is "tdm_" and 43 base64url characters (32 bytes from getrandom). Only its
 *    SHA-256 is stored (api_tokens.hash); tokens_create hands the text back once.
 *  - Names: 1-64 of [A-Za-z0-9._-], unique for ever (revoked ones included: the name is
 *    the actor of every write made with the token). DIAG_INVALID for a bad name or scope,
 *    DIAG_CONFLICT for a name in use, DIAG_NOTFOUND to revoke an unknown name, DIAG_CONFLICT
 *    to revoke a revoked one. Create and revoke append token.created / token.revoked
 *    events (name and scope, never the token) in the same transaction.
 *  - Checking (struct tokens_cache): the live tokens' hashes are read once and again only
 *    when the database changed (PRAGMA data_version, or this connection's own writes), so
 *    a token revoked by the CLI in another process stops working at the next request. The
 *    presented token's SHA-256 is compared with every live hash in constant time (no
 *    early exit on the first differing byte, no index lookup keyed by the secret).
 *    last_used_at is written at most once a minute per token, in its own transaction; a
 *    busy database only delays it.
 */
#ifndef TANDEM_HTTP_TOKENS_H
#define TANDEM_HTTP_TOKENS_H

#include <jansson.h>

#include "base/diag.h"
#include "http/router.h"

struct store;

enum { TOKENS_TEXT_MAX = 64, TOKENS_NAME_MAX = 64 };

int tokens_create(struct store *st, const char *name, enum http_scope scope, const char *actor,
		  char token[TOKENS_TEXT_MAX], struct diag *d);
int tokens_revoke(struct store *st, const char *name, const char *actor, struct diag *d);
/* [{name, scope, created_at, created_by, revoked_at, last_used_at}] by name. */
json_t *tokens_list_json(struct store *st, struct diag *d);

/* 1 when a and b (n bytes each) are equal; the time depends on n only. */
int tokens_equal(const unsigned char *a, const unsigned char *b, size_t n);

struct tokens_cache;

struct dbgen_reader;
/* shared: the reader of the database's changes it uses (http/dbgen.h); NULL: its own. */
struct tokens_cache *tokens_cache_new(struct store *st, struct dbgen_reader *shared,
				      struct diag *d);
void tokens_cache_delete(struct tokens_cache *c);

/*
 * The token in an Authorization header value ("Bearer TOKEN"): 1 and *name (valid until
 * the next call), *scope when it is live; 0 when it is missing, malformed, unknown or
 * revoked; -1 and a diag when the store failed.
 */
int tokens_check(struct tokens_cache *c, const char *authorization, const char **name,
		 enum http_scope *scope, struct diag *d);

#endif

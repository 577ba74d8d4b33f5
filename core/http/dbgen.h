/*
 * http/dbgen: has the database changed since I last looked? For the HTTP side's caches
 * (http/tokens.c's live tokens, http/cache.c's responses), which must see a commit made by
 * any process (the CLI beside the service) as well as the service's own writes.
 *
 * Contract: dbgen_init prepares PRAGMA data_version on the store (it changes when another
 * connection commits) and pairs it with this connection's sqlite3_total_changes64 (which
 * counts its own writes). dbgen_check: 0 and *changed = 1 the first time and whenever either
 * moved since the last dbgen_check, else 0; -1 and a diag when SQLite failed. About a
 * microsecond: no file I/O beyond WAL's shared memory.
 */
#ifndef TANDEM_HTTP_DBGEN_H
#define TANDEM_HTTP_DBGEN_H

#include <stdint.h>

#include "base/diag.h"
#include "store/stmt.h"

struct dbgen {
	struct stmt version;
	int64_t data_version, changes;
	int seen;
};

int dbgen_init(struct dbgen *g, struct store *st, struct diag *d);
void dbgen_fini(struct dbgen *g);
int dbgen_check(struct dbgen *g, int *changed, struct diag *d);

#endif

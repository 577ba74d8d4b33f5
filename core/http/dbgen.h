/*
 * http/dbgen: has the database changed since I last looked? For the HTTP side's caches
 * (http/tokens.c's live tokens, http/cache.c's responses, http/sse.c's streams), which must
 * see a commit made by any process (the CLI beside the service) as well as the service's
 * own writes.
 *
 * Contract: a reader (struct dbgen_reader) prepares PRAGMA data_version on the store (it
 * changes when another connection commits) and pairs it with this connection's
 * sqlite3_total_changes64 (which counts its own writes). A dbgen uses its own reader
 * (dbgen_init) or one it shares with others (dbgen_init_shared). dbgen_check: 0 and
 * *changed = 1 the first time and whenever either value moved since this dbgen's last
 * check, else 0; -1 and a diag when SQLite failed.
 *
 * Why a shared reader: the PRAGMA begins and ends a read transaction, file locks and all:
 * measured ~65 us on this VM, most of what a request answered from http/cache costs. Within
 * a batch (dbgen_reader_batch(r, 1) ... (r, 0): one request, for http/api.c) the first check
 * reads and the others reuse its values, so the token check and the cache lookup of one
 * request pay for one read. Outside a batch every check reads.
 *
 * Skipping the PRAGMA when nothing was committed: the reader looks at the WAL-index
 * header (the first 48 bytes of the database's "-shm" file, SQLite's documented WAL
 * format, walformat.html 2.1) in the connection's own mapping of it (the VFS's xShmMap,
 * region 0) and keeps a copy of it as it was before its last PRAGMA.
 * Every commit in WAL mode, by any connection, rewrites that header before the commit
 * returns (its change counter, frame count and checksums move), so a check that finds the
 * header byte-for-byte as it was, and this connection's total_changes as it was, returns
 * the last values without reading: a few nanoseconds instead of the read transaction. A
 * header caught mid-update differs from the copy and takes the slow path, which is always
 * right; so does everything after a WAL reset or a recovery. The copy is taken before the
 * PRAGMA, so a commit landing between the two is seen by the next check. Where the header
 * cannot be mapped (no -shm file, too short, an odd VFS) every check reads, as before.
 * The mapping is SQLite's own, alive as long as the connection (so the reader must be
 * finished before the store is closed, as its statement already requires). It never opens
 * the -shm file itself: closing a descriptor of a file drops all of the process's POSIX
 * locks on it, SQLite's too, and another process would then reset the file under it.
 *
 * Not done, and why: skipping the PRAGMA while an inotify watch on the -wal file saw no
 * write. A commit writes its frames to the -wal file (the event) and only then, after
 * the WAL's fsync, publishes them in the -shm index (mmap: no event); a check that drains
 * the event and reads between the two sees no change and would then skip the read with no
 * event left to wake it: a stale answer. (The header comparison above has no such gap: it
 * looks at the published index itself, at every check.)
 */
#ifndef TANDEM_HTTP_DBGEN_H
#define TANDEM_HTTP_DBGEN_H

#include <stdint.h>

#include "base/diag.h"
#include "store/stmt.h"

enum { DBGEN_HDR = 48 }; /* bytes of the WAL-index header compared */

struct dbgen_reader {
	struct stmt version;
	int batch, fresh;
	int64_t data_version, changes;
	const unsigned char *shm; /* SQLite's mapping of the -shm file's header; NULL: none */
	unsigned char hdr[DBGEN_HDR]; /* the header before the last PRAGMA */
	int hdr_ok;		     /* hdr and the values belong together */
	uint64_t reads;		     /* PRAGMAs run (for the tests) */
};

int dbgen_reader_init(struct dbgen_reader *r, struct store *st, struct diag *d);
void dbgen_reader_fini(struct dbgen_reader *r);
void dbgen_reader_batch(struct dbgen_reader *r, int on);

struct dbgen {
	struct dbgen_reader own;
	struct dbgen_reader *r; /* &own, or a shared reader */
	int64_t data_version, changes;
	int seen;
};

/* With its own reader (the struct must not move afterwards). */
int dbgen_init(struct dbgen *g, struct store *st, struct diag *d);
/* With r (which outlives g). */
void dbgen_init_shared(struct dbgen *g, struct dbgen_reader *r);
void dbgen_fini(struct dbgen *g);
int dbgen_check(struct dbgen *g, int *changed, struct diag *d);

#endif

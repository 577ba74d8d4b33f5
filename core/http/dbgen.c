/*
 * http/dbgen: PRAGMA data_version plus this connection's changes, skipped while the
 * WAL-index header is unchanged (see dbgen.h).
 */
#include "http/dbgen.h"

#include <string.h>

/* The WAL-index header in SQLite's own mapping of the -shm file, through the VFS's
 * xShmMap (region 0 is already mapped once the connection has read in WAL mode, so this
 * maps nothing new). Never open the -shm file here: closing any descriptor of a file
 * drops every POSIX lock this process holds on it, SQLite's included, and another
 * process would then reset (truncate) the file under both mappings. Leaves r->shm NULL
 * when there is no such mapping (then every check reads). */
static void
map_header(struct dbgen_reader *r, struct store *st)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(store_db(st), "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
	    f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
	    f->pMethods->xShmMap == NULL)
		return;
	volatile void *p = NULL;
	if (f->pMethods->xShmMap(f, 0, 32768, 0, &p) == SQLITE_OK && p != NULL)
		r->shm = (const unsigned char *)p;
}

int
dbgen_reader_init(struct dbgen_reader *r, struct store *st, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	if (stmt_prepare(&r->version, st, "reading the data version", "PRAGMA data_version", d) != 0)
		return -1;
	/* The -shm file exists once the connection has read in WAL mode: read once first. */
	if (stmt_step(&r->version, d) < 0 || stmt_reset(&r->version, d) != 0) {
		stmt_finalize(&r->version);
		return -1;
	}
	map_header(r, st);
	return 0;
}

void
dbgen_reader_fini(struct dbgen_reader *r)
{
	stmt_finalize(&r->version);
	r->shm = NULL; /* SQLite's own mapping: it unmaps it when the connection closes */
}

/* The header now. Another process rewrites it at any time: the copy may be torn, which
 * only makes it differ (and the check read). */
static void
copy_header(const struct dbgen_reader *r, unsigned char out[DBGEN_HDR])
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	const volatile unsigned char *h = r->shm;
	for (size_t i = 0; i < DBGEN_HDR; i++)
		out[i] = h[i];
}

void
dbgen_reader_batch(struct dbgen_reader *r, int on)
{
	r->batch = on;
	r->fresh = 0;
}

/* The two values now (or the batch's, once read in it). */
static int
read_now(struct dbgen_reader *r, struct diag *d)
{
	if (r->batch && r->fresh)
		return 0;
	int64_t changes = sqlite3_total_changes64(store_db(r->version.st));
	unsigned char hdr[DBGEN_HDR];
	if (r->shm != NULL) {
		copy_header(r, hdr);
		if (r->hdr_ok && changes == r->changes && memcmp(hdr, r->hdr, DBGEN_HDR) == 0) {
			r->fresh = r->batch;
			return 0;
		}
	}
	r->hdr_ok = 0;
	r->reads++;
	int rc = stmt_step(&r->version, d);
	r->data_version = rc == STMT_ROW ? stmt_int64(&r->version, 0) : 0;
	if (rc < 0 || stmt_reset(&r->version, d) != 0)
		return -1;
	r->changes = changes;
	if (r->shm != NULL) {
		memcpy(r->hdr, hdr, DBGEN_HDR);
		r->hdr_ok = 1;
	}
	r->fresh = r->batch;
	return 0;
}

int
dbgen_init(struct dbgen *g, struct store *st, struct diag *d)
{
	memset(g, 0, sizeof(*g));
	g->r = &g->own;
	return dbgen_reader_init(&g->own, st, d);
}

void
dbgen_init_shared(struct dbgen *g, struct dbgen_reader *r)
{
	memset(g, 0, sizeof(*g));
	g->r = r;
}

void
dbgen_fini(struct dbgen *g)
{
	if (g->r == &g->own)
		dbgen_reader_fini(&g->own);
}

int
dbgen_check(struct dbgen *g, int *changed, struct diag *d)
{
	if (read_now(g->r, d) != 0)
		return -1;
	*changed = !g->seen || g->r->data_version != g->data_version ||
		   g->r->changes != g->changes;
	g->seen = 1;
	g->data_version = g->r->data_version;
	g->changes = g->r->changes;
	return 0;
}

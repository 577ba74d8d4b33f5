/*
 * http/dbgen: PRAGMA data_version plus this connection's changes, skipped while the
 * WAL-index header is unchanged (see dbgen.h).
 */
#include "http/dbgen.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Maps the first page of the database's -shm file, read only; leaves r->shm NULL when it
 * cannot (then every check reads). */
static void
map_header(struct dbgen_reader *r, struct store *st)
{
	const char *db = sqlite3_db_filename(store_db(st), "main");
	char path[4096];
	if (db == NULL || *db == '\0' || (size_t)snprintf(path, sizeof(path), "%s-shm", db) >= sizeof(path))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat sb;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = page > 0 ? (size_t)page : 4096;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size >= len) {
		void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			r->shm = m;
			r->shm_len = len;
		}
	}
	close(fd);
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
	if (r->shm != NULL)
		munmap((void *)r->shm, r->shm_len);
	r->shm = NULL;
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

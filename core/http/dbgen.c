/*
 * http/dbgen: PRAGMA data_version plus this connection's changes (see dbgen.h).
 */
#include "http/dbgen.h"

#include <string.h>

int
dbgen_reader_init(struct dbgen_reader *r, struct store *st, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	return stmt_prepare(&r->version, st, "reading the data version", "PRAGMA data_version", d);
}

void
dbgen_reader_fini(struct dbgen_reader *r)
{
	stmt_finalize(&r->version);
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
	int rc = stmt_step(&r->version, d);
	r->data_version = rc == STMT_ROW ? stmt_int64(&r->version, 0) : 0;
	if (rc < 0 || stmt_reset(&r->version, d) != 0)
		return -1;
	r->changes = changes;
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

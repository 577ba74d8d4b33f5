/*
 * http/dbgen: PRAGMA data_version plus this connection's changes (see dbgen.h).
 */
#include "http/dbgen.h"

#include <string.h>

int
dbgen_init(struct dbgen *g, struct store *st, struct diag *d)
{
	memset(g, 0, sizeof(*g));
	return stmt_prepare(&g->version, st, "reading the data version", "PRAGMA data_version", d);
}

void
dbgen_fini(struct dbgen *g)
{
	stmt_finalize(&g->version);
}

static int
read_now(struct dbgen *g, int64_t *dv, int64_t *changes, struct diag *d)
{
	int rc = stmt_step(&g->version, d);
	*dv = rc == STMT_ROW ? stmt_int64(&g->version, 0) : 0;
	if (rc < 0 || stmt_reset(&g->version, d) != 0)
		return -1;
	*changes = sqlite3_total_changes64(store_db(g->version.st));
	return 0;
}

int
dbgen_check(struct dbgen *g, int *changed, struct diag *d)
{
	int64_t dv, ch;
	if (read_now(g, &dv, &ch, d) != 0)
		return -1;
	*changed = !g->seen || dv != g->data_version || ch != g->changes;
	g->seen = 1;
	g->data_version = dv;
	g->changes = ch;
	return 0;
}

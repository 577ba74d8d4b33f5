/*
 * serve/simnotes: the pairs a simulated plan left out (see simnotes.h).
 */
#include "serve/simnotes.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "serve/simulate.h"
#include "store/stmt.h"
#include "store/store.h"

int
simnotes_unplanned(struct store *st, int64_t program_id, struct simulate_result *r,
		   struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, st, "reading the pairs that could not be planned",
			      "SELECT m.id, a.external_id || ' ' || a.name, b.external_id || ' ' || "
			      "b.name, m.plan_note FROM matches m JOIN people a ON a.id = m.mentor_id "
			      "JOIN people b ON b.id = m.mentee_id WHERE m.program_id = ?1 AND "
			      "m.plan_note <> '' ORDER BY m.id",
			      d) ||
			 stmt_bind_int64(&q, 1, program_id, d)
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&q, d)) == STMT_ROW) {
		struct simulate_unplanned *v =
		    realloc(r->unplanned, (r->nunplanned + 1) * sizeof(*v));
		if (v == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
		r->unplanned = v;
		struct simulate_unplanned *u = &v[r->nunplanned++];
		u->match_id = stmt_int64(&q, 0);
		const char *t[3];
		rc = 0;
		for (int i = 0; i < 3; i++)
			t[i] = (const char *)sqlite3_column_text(q.s, i + 1);
		u->mentor = strdup(t[0] ? t[0] : "");
		u->mentee = strdup(t[1] ? t[1] : "");
		u->reason = strdup(t[2] ? t[2] : "");
		if (u->mentor == NULL || u->mentee == NULL || u->reason == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
	}
	stmt_finalize(&q);
	return rc == STMT_DONE ? 0 : -1;
}

void
simnotes_fini(struct simulate_result *r)
{
	for (size_t i = 0; i < r->nunplanned; i++) {
		free(r->unplanned[i].mentor);
		free(r->unplanned[i].mentee);
		free(r->unplanned[i].reason);
	}
	free(r->unplanned);
	r->unplanned = NULL;
	r->nunplanned = 0;
}

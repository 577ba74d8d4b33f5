/*
 * matches_internal: what the three files of the matches module share. matches.c
 * stores a run's proposals and resolves people and programs; matches_read.c gives
 * matches back as JSON (listings, one match, a person's partners); matches_decide.c
 * reviews them (approve, reject, bulk decisions, pin, veto). Not for other
 * modules: they use matches.h.
 */
#ifndef TANDEM_MATCHES_INTERNAL_H
#define TANDEM_MATCHES_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"

struct stmt;
struct store;

/*
 * Prepares sql under NAME and binds ?1..?n to the n integers of v (a statement
 * may take fewer: the extra values are not bound). 0 or -1; s is finalized on
 * failure.
 */
int matches__prepare_ids(struct stmt *s, struct store *st, const char *name, const char *sql,
			 const int64_t *v, int n, struct diag *d);

/* Appends an event (payload: a JSON object, taken over) through the events module;
 * subject 0 = none. */
int matches__add_event(struct store *st, const char *kind, const char *actor, int64_t subject,
		       int64_t program_id, json_t *payload, struct diag *d);

#endif

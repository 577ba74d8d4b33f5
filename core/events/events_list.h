/*
 * events/events_list: reading the event log back, for `tandem events` and anyone who
 * wants the log as data (reports, tests). Read-only: it never writes.
 *
 * Contract:
 *  - events_list returns the events with id > since, in id order, at most limit of them
 *    (0: no limit), as a JSON array of {id, at, kind, actor, subject_id, program_id,
 *    program, payload}; actor, subject_id, program_id and program are null when the
 *    event has none; payload is the stored JSON object (parsed).
 *  - kind filters by name: "session.held" matches that kind only; "session" or
 *    "session." matches every kind of that domain ("session.held", "session.missed").
 *  - program (a program's name) keeps the events of that program; an unknown name is
 *    DIAG_NOTFOUND ("no program 'x' in the database").
 */
#ifndef TANDEM_EVENTS_LIST_H
#define TANDEM_EVENTS_LIST_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "store/store.h"

struct events_filter {
	int64_t since;       /* events with id > since */
	const char *kind;    /* NULL: every kind; "domain" or "domain." a prefix */
	const char *program; /* NULL: every program */
	long limit;          /* 0: all */
};

/* *out: a new JSON array. 0, or -1 + diag. */
int events_list(struct store *st, const struct events_filter *f, json_t **out, struct diag *d);

#endif

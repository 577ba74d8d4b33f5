/*
 * session_internal: what session.c (writes), session_list.c (reads and the visibility
 * rule) and session_agenda.c (topics and questions) share. Not for other modules.
 */
#ifndef TANDEM_SESSION_INTERNAL_H
#define TANDEM_SESSION_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"
#include "store/store.h"

/* "YYYY-MM-DDTHH:MM:SSZ" (as store_format_time writes) to time_t; 0 or -1 (no diag). */
int session_utc_parse(const char *text, time_t *out);

/* Appends an event of kind about program_id (payload taken over; NULL: {}), subject a
 * person id or 0. */
int session_event(struct store *st, const char *kind, const char *actor, int64_t subject,
		  int64_t program_id, json_t *payload, struct diag *d);

#endif

/*
 * remind_internal: what remind.c (the reminders) and remind_update.c (the updates after a
 * reminded session changes) share, and nobody else uses.
 */
#ifndef TANDEM_REMIND_INTERNAL_H
#define TANDEM_REMIND_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "sched/remind.h"
#include "store/store.h"

/* The name of a side a message names after their erasure. */
#define REMIND_ERASED "(erased)"

/* Appends "Monday 23 November 2026, 10:00-11:00" (long_form) or "Mon 23 Nov at 10:00" in
 * zone. */
int remind__when(struct buf *b, const char *zone, time_t start, int minutes, int long_form,
		 struct diag *d);

/* The attachments array with the session's .ics (calendar_session_ics), as JSON text
 * (malloc'd); NULL with d set. */
char *remind__attachments(struct store *st, int64_t session_id, const struct remind_opts *o,
			  time_t now, struct diag *d);

/* The calendar updates of the noted sessions (remind.h "Updates"), in the caller's level;
 * *queued (may be NULL) = the updates new in the outbox. */
int remind__updates(struct store *st, time_t now, const struct remind_opts *o, int *queued,
		    struct diag *d);

#endif

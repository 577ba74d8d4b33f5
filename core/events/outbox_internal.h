/*
 * events/outbox_internal: what the outbox's files share (outbox.c, outbox_retry.c) and
 * nobody else may use.
 */
#ifndef TANDEM_OUTBOX_INTERNAL_H
#define TANDEM_OUTBOX_INTERNAL_H

#include <stdint.h>

#include "base/diag.h"
#include "store/store.h"

/* Appends the event KIND about outbox row ID: payload {id, key, kind, channel, session_id,
 * attempts, reason}, subject the recipient, actor ACTOR (NULL: "outbox"). 0 or -1 + diag. */
int outbox__event(struct store *st, const char *kind, int64_t id, const char *reason,
		  const char *actor, struct diag *d);

#endif

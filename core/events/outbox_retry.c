/*
 * events/outbox_retry: failed messages put back in the queue by hand (see outbox.h,
 * outbox_retry). A message fails after OUTBOX_MAX_ATTEMPTS failures or a permanent error
 * and is never claimed again: once the cause is fixed (a notifier plugin, an address), the
 * operator retries it (`tandem outbox retry`). Its not_after still holds: a failed row
 * past it is useless now and expires instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/outbox.h"
#include "events/outbox_internal.h"
#include "store/stmt.h"

static const char retry_stale_reason[] = "not retried: its not_after time has passed";

void
outbox_retried_free(struct outbox_retried *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++) {
		free(r[i].key);
		free(r[i].channel);
	}
	free(r);
}

/* The rows to look at: the one of KEY, or every failed one (in id order). */
static int
retry_read(struct store *st, const char *key, const char *now, struct outbox_retried **out,
	   int64_t **ids, size_t *n, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "reading the failed messages",
			 "SELECT id, idempotency_key, channel, status, attempts,"
			 " CAST(strftime('%s', not_after) AS INTEGER),"
			 " not_after IS NOT NULL AND not_after <= ?2 FROM outbox"
			 " WHERE (?1 IS NULL AND status = 'failed') OR idempotency_key = ?1"
			 " ORDER BY id",
			 d) != 0)
		return -1;
	int rc = stmt_bind_text(&s, 1, key, d) || stmt_bind_text(&s, 2, now, d) ? -1 : 0;
	size_t cap = 0;
	while (rc == 0) {
		int step = stmt_step(&s, d);
		if (step != STMT_ROW) {
			rc = step < 0 ? -1 : 0;
			break;
		}
		if (*n == cap) {
			size_t c2 = cap ? cap * 2 : 8;
			struct outbox_retried *r2 = realloc(*out, c2 * sizeof(**out));
			if (r2 != NULL)
				*out = r2;
			int64_t *i2 = r2 != NULL ? realloc(*ids, c2 * sizeof(**ids)) : NULL;
			if (i2 == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*ids = i2;
			cap = c2;
		}
		struct outbox_retried *r = &(*out)[*n];
		memset(r, 0, sizeof(*r));
		const char *k = NULL, *ch = NULL, *status = NULL;
		(*ids)[*n] = stmt_int64(&s, 0);
		(*n)++;
		if (stmt_text(&s, 1, &k, d) || stmt_text(&s, 2, &ch, d) || stmt_text(&s, 3, &status, d)) {
			rc = -1;
			break;
		}
		r->key = strdup(k != NULL ? k : "");
		r->channel = strdup(ch != NULL ? ch : "");
		if (r->key == NULL || r->channel == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
		if (status == NULL || outbox_status_parse(status, &r->status) != 0) {
			rc = diag_set(d, DIAG_DB, "message '%s': bad status '%s'", r->key,
				      status != NULL ? status : "");
			break;
		}
		r->attempts = (int)stmt_int64(&s, 4);
		r->not_after = (time_t)stmt_int64(&s, 5);
		r->stale = stmt_int64(&s, 6) != 0;
	}
	stmt_finalize(&s);
	return rc;
}

/* Row id, failed: back to 'pending' (attempts 0, due now) or, past its not_after, to
 * 'expired'; its event. */
static int
retry_one(struct store *st, int64_t id, struct outbox_retried *r, const char *now,
	  const char *actor, struct diag *d)
{
	char reason[96];
	const char *sql, *kind;
	if (r->stale) {
		sql = "UPDATE outbox SET status = 'expired', last_error = ?2"
		      " WHERE id = ?1 AND status = 'failed'";
		kind = "message.expired";
		snprintf(reason, sizeof(reason), "%s", retry_stale_reason);
	} else {
		sql = "UPDATE outbox SET status = 'pending', attempts = 0, not_before = ?2,"
		      " lease_until = NULL WHERE id = ?1 AND status = 'failed'";
		kind = "message.retried";
		snprintf(reason, sizeof(reason), "retried by hand after %d failed attempt%s",
			 r->attempts, r->attempts == 1 ? "" : "s");
	}
	struct stmt s;
	if (stmt_prepare(&s, st, "retrying a message", sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, r->stale ? reason : now, d) ||
			 stmt_run(&s, d)
		 ? -1
		 : 0;
	stmt_finalize(&s);
	if (rc != 0 || outbox__event(st, kind, id, reason, actor, d) != 0)
		return -1;
	r->status = r->stale ? OUTBOX_EXPIRED : OUTBOX_PENDING;
	r->retried = 1;
	return 0;
}

int
outbox_retry(struct store *st, const char *key, time_t now, const char *actor,
	     struct outbox_retried **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	char ts[STORE_TIME_MAX];
	if (store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INVALID, "outbox retry: the clock is out of range");
	int64_t *ids = NULL;
	if (store_begin(st, d) != 0)
		return -1;
	int rc = retry_read(st, key, ts, out, &ids, n, d);
	if (rc == 0 && key != NULL && *n == 0)
		rc = diag_set(d, DIAG_NOTFOUND, "no message has the key '%s' (tandem outbox list)",
			      key);
	if (rc == 0 && key != NULL && (*out)[0].status != OUTBOX_FAILED &&
	    (*out)[0].status != OUTBOX_EXPIRED)
		rc = diag_set(d, DIAG_CONFLICT,
			      "message '%s' is %s: only a failed message can be retried", key,
			      outbox_status_name((*out)[0].status));
	for (size_t i = 0; rc == 0 && i < *n; i++)
		if ((*out)[i].status == OUTBOX_FAILED)
			rc = retry_one(st, ids[i], &(*out)[i], ts, actor, d);
	free(ids);
	if (rc == 0 && store_commit(st, d) == 0)
		return 0;
	if (rc != 0)
		store_rollback(st);
	outbox_retried_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

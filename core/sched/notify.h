/*
 * notify: the notifiers, which take due messages out of the outbox (events/outbox.h)
 * and deliver them. Delivery is always done here, in C; a notifier plugin may only
 * write a message's text.
 *
 * Channels (outbox.channel):
 *  - "eml": one RFC 5322 file per message, WORKSPACE/outbox/<name>.<hash>.eml, where
 *    <name> is the key with every byte outside [A-Za-z0-9._-] made '_' and <hash> the
 *    first 8 hex digits of the key's SHA-256 (so two keys never share a file). Headers:
 *    Message-ID <ID@tandem> (ID = the key with every byte outside RFC 5322's atext, and
 *    '=', written =XX: the receiver's dedupe id), X-Tandem-Key (the key as is), Date
 *    (`now`), From (the workspace's mail_from, else tandem@localhost), To (the person's
 *    name and e-mail), Subject (RFC 2047 when not ASCII), MIME-Version; the body is
 *    multipart/mixed: text/plain, then each attachment of the row (a session reminder
 *    carries its .ics as text/calendar; method=PUBLISH). CRLF line ends. Written to a
 *    temporary file in the same folder, fsync'd, renamed, and the folder fsync'd: a
 *    crash leaves the whole file or none.
 *  - "jsonl": one JSON object per message appended to WORKSPACE/outbox/messages.jsonl
 *    ({"key", "kind", "to", "name", "subject", "body", "session", "at"}) in one write(),
 *    then fsync, under an exclusive lock on the file (io/outfile.h outfile_lock), so a
 *    line is never appended to a copy that `people erase` is replacing. A line left torn
 *    by a power loss is ended before the next one.
 *  - any other name: a notifier plugin (WORKSPACE/plugins/notifiers/, then the
 *    built-ins) declared as tandem.notifier{ render = function(msg, ctx) return
 *    {subject =, body =} end, format = "eml"|"jsonl" }; its text is then delivered by
 *    the built-in writer its `format` names (default "eml"). msg is {key, kind,
 *    channel, subject, body, recipient = {id (the external id), name, timezone},
 *    session = {id, starts_at, duration_min, timezone, status} (when the row has one)};
 *    ctx is {now, now_iso, timezone}. A render error is retried like a write error; an
 *    unknown notifier fails the message at once.
 *
 * notify_deliver_one: claim (outbox_claim_next: a row it finds past its not_after expires,
 * is logged at info level as `message 'KEY' (CHANNEL): not sent before its not_after time
 * (expired)` and is the call's outcome, OUTBOX_EXPIRED) -> crash_point("notify.claimed") -> render ->
 * write -> crash_point("notify.written") -> outbox_done -> crash_point("notify.done").
 * A crash after the write and before the done leaves the row 'sending'; its lease runs
 * out, it becomes 'unknown' and is claimed again, and because the row was unknown the
 * key is looked for first (the .eml file exists; a line of messages.jsonl has the key):
 * found, the row is recorded sent without writing it again, even when its session was
 * cancelled or its not_after passed since (it did go out); not found, it is delivered as
 * any row, unless its not_after has passed: then it expires. So the built-in channels
 * write each key once even across crashes, and no row stays 'unknown'.
 * Messages whose recipient is gone or has no address fail at once (permanent); a
 * reminder whose session is no longer planned (cancelled, rescheduled) expires.
 *
 * Called by: `tandem outbox send`, the service's timer (serve/), simulations.
 * One struct notify per store, on the store's thread (plugins are loaded lazily and
 * kept until notify_delete).
 */
#ifndef TANDEM_NOTIFY_H
#define TANDEM_NOTIFY_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"
#include "lua/plugin.h"
#include "store/store.h"

struct notify_opts {
	const char *workspace;          /* the folder holding outbox/ and plugins/notifiers/ */
	const char *from;               /* From: address; NULL: "tandem@localhost" */
	const char *timezone;           /* ctx.timezone for plugins; NULL: "UTC" */
	const struct plugin_host *host; /* kinds for notifier plugins; NULL: the built-ins */
	int lease_s;                    /* claim lease; 0: OUTBOX_LEASE_S */
};

struct notify_stats {
	int sent;     /* delivered (or found already delivered) */
	int retried;  /* failed, to be tried again later */
	int failed;   /* failed for good */
	int expired;  /* dropped as useless (session no longer planned) */
};

struct notify;

/* Copies the options. NULL + diag on failure. */
struct notify *notify_new(struct store *st, const struct notify_opts *o, struct diag *d);
void notify_delete(struct notify *n);

/* Replaces the From: address and the plugins' ctx.timezone (NULL: the defaults of
 * notify_opts), for the messages delivered from now on: the service's reload of tandem.lua.
 * 0, or -1 + diag (out of memory: the previous ones stay). */
int notify_set_sender(struct notify *n, const char *from, const char *timezone, struct diag *d);

/* 1: the built-in writers skip their fsyncs and write each .eml in place (no temporary file
 * and rename: a crash of the process may leave one partial): for `tandem simulate`, whose
 * copy is thrown away like its database (synchronous = OFF). 0, the default: every file is
 * whole or absent after a crash and reaches the disk before its row is sent. */
void notify_set_no_sync(struct notify *n, int no_sync);

/* 1: the built-in writers build each message's text (a plugin's render runs as always, and
 * an .eml's headers and parts are assembled: the same errors, the same rows) but write no
 * file: for `tandem simulate` without --keep, whose copy nobody reads. The rows are recorded
 * sent as if written. A row left unknown is then never found written (no crash leaves one
 * in a simulation). 0, the default: the files are written. */
void notify_set_no_files(struct notify *n, int no_files);

/*
 * Removes the temporary files (".tmp-*") a writer killed between its mkstemp and its rename
 * left in WORKSPACE/outbox, those last modified more than min_age_s seconds ago by the
 * file system's clock (a younger one may be a live writer's: `tandem outbox send` runs
 * beside the service). The service calls it at start. *removed (may be NULL) counts them.
 * 0, or -1 + diag when the folder cannot be read (a missing folder is not an error).
 */
int notify_clean_temps(const char *workspace, int min_age_s, int *removed, struct diag *d);

/* The file name (no folder) of the .eml the message with this key is written to, as
 * described above ("<name>.<hash>.eml"); `people erase` finds the copies it removes by it.
 * size: at least NOTIFY_EML_NAME_MAX. */
enum { NOTIFY_EML_NAME_MAX = 128 };
void notify_eml_name(const char *key, char *out, size_t size);

/* 1 when name is a built-in channel ("eml", "jsonl"). */
int notify_builtin(const char *name);

/*
 * Delivers one due message (see the contract). 1 when nothing was due; 0 when a row was
 * handled, with *outcome (may be NULL) its new state: OUTBOX_SENT, OUTBOX_PENDING (a
 * retry), OUTBOX_FAILED or OUTBOX_EXPIRED; -1 when the store failed (the row, if any,
 * stays claimed until its lease runs out).
 */
int notify_deliver_one(struct notify *n, time_t now, int *outcome, struct diag *d);

/* notify_deliver_one until nothing is due at `now`, at most max rows (0: no limit);
 * adds to *s. */
int notify_deliver_due(struct notify *n, time_t now, size_t max, struct notify_stats *s,
		       struct diag *d);

#endif

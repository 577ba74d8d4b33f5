/*
 * serve/log: the service's log lines, as text or as JSON lines (`--log-format`).
 *
 * For: the log sink the CLI installs for `tandem serve` (tlog_set_handler, base/diag.h):
 * the core never prints, so this module only builds the line and the sink writes
 * it to stderr. Kept here so the format is tested and the same for every embedder
 * of the service.
 *
 * Contract:
 *  - serve_log_line appends one line ending in '\n' to b:
 *      text: "2026-12-06T13:00:00Z info: planned 12 sessions"
 *            (with a virtual clock: "... [now 2027-01-04T10:00:00Z] ..." after the level)
 *      json: {"ts":"2026-12-06T13:00:00Z","level":"info","msg":"planned 12 sessions"}
 *            plus "now":"..." with a virtual clock; one object per line, newlines in
 *            the message escaped, so `jq` or a log shipper reads each line alone.
 *    ts is the real UTC time of the line; now (when given, >= 0) the service's clock.
 *    Returns 0, or -1 with a diag (out of memory).
 *  - serve_log_format_parse("text"|"json") -> 0 and *out; -1 for anything else.
 */
#ifndef TANDEM_SERVE_LOG_H
#define TANDEM_SERVE_LOG_H

#include <time.h>

#include "base/buf.h"
#include "base/diag.h"

enum serve_log_format { SERVE_LOG_TEXT, SERVE_LOG_JSON };

int serve_log_format_parse(const char *s, enum serve_log_format *out);

/* level: TLOG_DEBUG..TLOG_ERROR; now < 0: no virtual clock to show. */
int serve_log_line(struct buf *b, enum serve_log_format f, time_t ts, time_t now, int level,
		   const char *msg, struct diag *d);

#endif

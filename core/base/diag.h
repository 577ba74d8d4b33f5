/*
 * diag: how the core reports errors and logs, without ever printing or exiting.
 *
 * Every fallible core function takes a `struct diag *` (may be NULL) as its last
 * argument and returns 0/-1 or a pointer/NULL. On failure it fills the diag with a
 * code and a message that carries its context ("people.csv:12:3: bad email").
 * Callers that add context wrap the message with diag_prefix().
 *
 * Logging goes through one process-wide callback that the embedder (the CLI, the
 * daemon, or a program linking libtandem through tandem_set_log_handler) installs
 * with tlog_set_handler(). With no handler installed, log lines are dropped.
 *
 * Why the sink is process-wide when caches and registries are not: it is
 * configuration, not state. The core never writes it, only the embedder does, once,
 * at start-up (like the process's stderr, which it stands in for); every layer logs
 * (tz, workers, imports), and threading a context through each of them to reach a
 * callback that is the same for the whole process would buy nothing. The rule that
 * makes it safe: install (or change) the handler before starting threads that call
 * the core, as tandem.h says; tlog() reads it without a lock. The handler itself may
 * be called from several threads at once.
 */
#ifndef TANDEM_DIAG_H
#define TANDEM_DIAG_H

#include <stddef.h>

enum diag_code {
	DIAG_OK = 0,
	DIAG_INVALID,   /* bad input: a file, an argument, a value out of range */
	DIAG_NOTFOUND,  /* a named thing does not exist */
	DIAG_CONFLICT,  /* duplicate, already exists, state does not allow it */
	DIAG_IO,        /* the operating system said no */
	DIAG_DB,        /* SQLite failed */
	DIAG_NOMEM,     /* an allocation failed */
	DIAG_PLUGIN,    /* a plugin raised an error or ran out of budget */
	DIAG_INTERNAL,  /* a bug: an invariant did not hold */
};

enum { DIAG_MSG_MAX = 1024 };

struct diag {
	int code;
	char msg[DIAG_MSG_MAX];
};

/* Sets code and a printf-style message; returns -1 so callers can `return diag_set(...)`. */
int diag_set(struct diag *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " built from the format to the current message; returns -1. */
int diag_prefix(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void diag_clear(struct diag *d);

/* The name of a code, for --json error objects ("invalid", "not_found", ...). */
const char *diag_code_name(int code);

enum tlog_level { TLOG_DEBUG, TLOG_INFO, TLOG_WARN, TLOG_ERROR };

typedef void (*tlog_fn)(void *ud, int level, const char *msg);

/* Installs the log sink for the whole process; NULL drops log lines. */
void tlog_set_handler(tlog_fn fn, void *ud);

void tlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

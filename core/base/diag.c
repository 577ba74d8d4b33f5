/*
 * diag: error values and the log sink. See diag.h for the contract.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
diag_set(struct diag *d, int code, const char *fmt, ...)
{
	if (d == NULL)
		return -1;
	d->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
diag_prefix(struct diag *d, const char *fmt, ...)
{
	if (d == NULL)
		return -1;
	char prefix[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	size_t plen = strlen(prefix);
	prefix[plen++] = ':';
	prefix[plen++] = ' ';
	/* Shift the old message right, truncating its tail, then copy the prefix in. */
	size_t mlen = strnlen(d->msg, sizeof(d->msg) - 1);
	if (plen >= sizeof(d->msg))
		plen = sizeof(d->msg) - 1;
	if (plen + mlen >= sizeof(d->msg))
		mlen = sizeof(d->msg) - 1 - plen;
	memmove(d->msg + plen, d->msg, mlen);
	memcpy(d->msg, prefix, plen);
	d->msg[plen + mlen] = '\0';
	return -1;
}

void
diag_clear(struct diag *d)
{
	if (d == NULL)
		return;
	d->code = DIAG_OK;
	d->msg[0] = '\0';
}

const char *
diag_code_name(int code)
{
	switch (code) {
	case DIAG_OK: return "ok";
	case DIAG_INVALID: return "invalid";
	case DIAG_NOTFOUND: return "not_found";
	case DIAG_CONFLICT: return "conflict";
	case DIAG_IO: return "io";
	case DIAG_DB: return "database";
	case DIAG_NOMEM: return "out_of_memory";
	case DIAG_PLUGIN: return "plugin";
	default: return "internal";
	}
}

static tlog_fn log_fn;
static void *log_ud;

void
tlog_set_handler(tlog_fn fn, void *ud)
{
	log_fn = fn;
	log_ud = ud;
}

void
tlog(int level, const char *fmt, ...)
{
	if (log_fn == NULL)
		return;
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(log_ud, level, buf);
}

/*
 * buf: a growable byte buffer, the one string builder of the core.
 *
 * For: building text and byte messages whose size is not known up front (worker
 * requests and replies, JSON and CSV fields, error context). Called by any layer.
 *
 * Contract:
 *  - A zeroed struct buf (or buf_init) is an empty buffer with no memory. data is
 *    NULL until the first byte is added; after that data[len] is always '\0', so
 *    data is a C string whenever the content has no NUL of its own.
 *  - Appending functions return 0, or -1 with DIAG_NOMEM when memory runs out; the
 *    buffer is then unchanged (never half-appended, never freed behind the caller).
 *  - buf_release hands data to the caller (free() it; NULL for an empty buffer)
 *    and leaves the buffer empty; buf_fini frees it. Not thread-safe: one owner.
 */
#ifndef TANDEM_BUF_H
#define TANDEM_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/diag.h"

struct buf {
	char *data;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);

/* Makes room for n more bytes (plus the terminating NUL) without another allocation. */
int buf_reserve(struct buf *b, size_t n, struct diag *d);

int buf_append(struct buf *b, const void *p, size_t n, struct diag *d);
int buf_puts(struct buf *b, const char *s, struct diag *d);
int buf_putc(struct buf *b, char c, struct diag *d);
int buf_printf(struct buf *b, struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int buf_vprintf(struct buf *b, struct diag *d, const char *fmt, va_list ap);

/* Empties the buffer, keeping its memory for reuse. */
void buf_reset(struct buf *b);

/* The content (malloc'd, NUL-terminated, NULL when nothing was ever added); b is empty after. */
char *buf_release(struct buf *b);

#endif

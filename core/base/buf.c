/*
 * buf: the growable byte buffer. See buf.h for the contract.
 */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_fini(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

int
buf_reserve(struct buf *b, size_t n, struct diag *d)
{
	/* cap counts the NUL too: room for n more bytes means len + n + 1 <= cap. */
	if (n >= SIZE_MAX - b->len - 1)
		return diag_set(d, DIAG_NOMEM, "buffer of %zu + %zu bytes is too large", b->len, n);
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory (buffer of %zu bytes)", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n, struct diag *d)
{
	if (buf_reserve(b, n, d) != 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s, struct diag *d)
{
	return buf_append(b, s, strlen(s), d);
}

int
buf_putc(struct buf *b, char c, struct diag *d)
{
	return buf_append(b, &c, 1, d);
}

int
buf_vprintf(struct buf *b, struct diag *d, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	/* Try in the room there is; only when it is too small measure, grow and print again. */
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	if (n < 0) {
		va_end(again);
		if (b->data != NULL)
			b->data[b->len] = '\0';
		return diag_set(d, DIAG_INVALID, "cannot format '%s'", fmt);
	}
	if ((size_t)n >= room) {
		if (buf_reserve(b, (size_t)n, d) != 0) {
			va_end(again);
			if (b->data != NULL)
				b->data[b->len] = '\0';
			return -1;
		}
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(b, d, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_release(struct buf *b)
{
	char *p = b->data;
	buf_init(b);
	return p;
}

/*
 * privacy/scrub: the spellings of a name and an e-mail, and the fold-tolerant search that
 * finds and replaces them (see scrub.h).
 */
#include "privacy/scrub.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* ---- spellings --------------------------------------------------------------------- */

enum esc { ESC_NONE, ESC_HTML, ESC_MD, ESC_MD_START, ESC_ICS, ESC_N };

/* src escaped as the renderers escape text (report/render_html, render_md, sched/calendar's
 * TEXT values); json: then escaped again as a JSON string's content (quotes, backslashes). */
static char *
spell(const char *src, enum esc e, int json)
{
	struct buf b;
	buf_init(&b);
	int rc = 0;
	for (const char *p = src; *p && rc == 0; p++) {
		char c = *p, tmp[8] = {0};
		const char *o = tmp;
		tmp[0] = c;
		if (e == ESC_HTML)
			o = c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;"
			    : c == '\'' ? "&#39;" : tmp;
		else if ((e == ESC_MD || e == ESC_MD_START) &&
			 (strchr("\\`*_[]<>|~&!", c) != NULL ||
			  (e == ESC_MD_START && p == src && strchr("#+-=", c) != NULL)))
			tmp[0] = '\\', tmp[1] = c;
		else if (e == ESC_ICS && (c == ',' || c == ';' || c == '\\'))
			tmp[0] = '\\', tmp[1] = c;
		for (const char *q = o; *q && rc == 0; q++) {
			if (json && (*q == '"' || *q == '\\'))
				rc = buf_putc(&b, '\\', NULL);
			if (rc == 0)
				rc = buf_putc(&b, *q, NULL);
		}
	}
	if (rc == 0 && b.len > 0)
		return buf_release(&b);
	buf_fini(&b);
	return NULL;
}

static int
spelling_cmp(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x > y ? -1 : x < y;
}

int
scrub_init(struct scrub *s, const char *name, const char *email, struct diag *d)
{
	memset(s, 0, sizeof(*s));
	const char *base[2] = {name, email};
	for (int i = 0; i < 2; i++) {
		if (base[i] == NULL || strlen(base[i]) < 2)
			continue;
		for (int e = 0; e < ESC_N; e++) {
			for (int json = 0; json < 2; json++) {
				char *v = spell(base[i], (enum esc)e, json);
				if (v == NULL) {
					scrub_fini(s);
					return diag_set(d, DIAG_NOMEM, "out of memory");
				}
				int dup = 0;
				for (size_t k = 0; k < s->n && !dup; k++)
					dup = strcmp(s->v[k], v) == 0;
				if (dup || s->n == SCRUB_MAX)
					free(v);
				else
					s->v[s->n++] = v;
			}
		}
	}
	qsort(s->v, s->n, sizeof(s->v[0]), spelling_cmp);
	return 0;
}

void
scrub_fini(struct scrub *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	memset(s, 0, sizeof(*s));
}

/* ---- search ------------------------------------------------------------------------ */

static int
wordy(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* The length of a line fold at t[i..n) (CRLF or LF then a space or tab; or those written
 * as JSON escapes: \r\n then a space or \t), 0 when there is none. */
static size_t
fold_at(const char *t, size_t i, size_t n)
{
	static const char *const folds[] = {"\r\n ", "\r\n\t", "\n ", "\n\t", "\\r\\n ",
					    "\\r\\n\\t", "\\n ", "\\n\\t"};
	for (size_t k = 0; k < sizeof(folds) / sizeof(folds[0]); k++) {
		size_t m = strlen(folds[k]);
		if (m <= n - i && memcmp(t + i, folds[k], m) == 0)
			return m;
	}
	return 0;
}

/* The length of text matched by spelling v at t[i..n), folds included, or 0. */
static size_t
match_at(const char *t, size_t i, size_t n, const char *v)
{
	size_t h = i;
	for (const char *p = v; *p; p++) {
		if (p != v && h < n && t[h] != *p) {
			size_t f = fold_at(t, h, n);
			if (f > 0)
				h += f;
		}
		if (h >= n || t[h] != *p)
			return 0;
		h++;
	}
	/* A whole word: no letter or digit glued to a spelling that starts or ends with one. */
	if (wordy((unsigned char)v[0]) && i > 0 && wordy((unsigned char)t[i - 1]) &&
	    !(i > 1 && t[i - 2] == '\\')) /* after an escape such as \n: a boundary */
		return 0;
	if (wordy((unsigned char)v[strlen(v) - 1]) && h < n && wordy((unsigned char)t[h]))
		return 0;
	return h - i;
}

/* The first match at or after i: its start in *at and its length, or 0. */
static size_t
next_match(const struct scrub *s, const char *t, size_t i, size_t n, size_t *at)
{
	for (; i < n; i++) {
		for (size_t k = 0; k < s->n; k++) {
			if (t[i] != s->v[k][0])
				continue;
			size_t m = match_at(t, i, n, s->v[k]);
			if (m > 0) {
				*at = i;
				return m;
			}
		}
	}
	return 0;
}

int
scrub_found(const struct scrub *s, const char *text, size_t len)
{
	size_t at;
	return s->n > 0 && next_match(s, text, 0, len, &at) > 0;
}

long
scrub_text(const struct scrub *s, const char *text, size_t len, char **out, size_t *outlen,
	   struct diag *d)
{
	*out = NULL;
	*outlen = 0;
	long count = 0;
	size_t i = 0, at = 0, m;
	struct buf b;
	buf_init(&b);
	while (s->n > 0 && (m = next_match(s, text, i, len, &at)) > 0) {
		if (buf_append(&b, text + i, at - i, d) != 0 || buf_puts(&b, SCRUB_MARK, d) != 0) {
			buf_fini(&b);
			return -1;
		}
		i = at + m;
		count++;
	}
	if (count == 0) {
		buf_fini(&b);
		return 0;
	}
	if (buf_append(&b, text + i, len - i, d) != 0) {
		buf_fini(&b);
		return -1;
	}
	*outlen = b.len;
	*out = buf_release(&b);
	return count;
}

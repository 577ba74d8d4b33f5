/*
 * textenc: UTF-16 and iconv conversions to UTF-8. See textenc.h for the contract.
 *
 * UTF-16 is decoded by hand rather than through iconv so that an unpaired surrogate is
 * reported at its exact line and column (iconv only says "somewhere here").
 */
#include "io/textenc.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
textenc_is_utf8(const char *name)
{
	return strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0;
}

int
textenc_check(const char *name, struct diag *d)
{
	if (name == NULL || name[0] == '\0')
		return diag_set(d, DIAG_INVALID,
				"--encoding needs a name (for example windows-1252, "
				"latin1, iso-8859-15, utf-16)");
	if (textenc_is_utf8(name))
		return 0;
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return diag_set(
		    d, DIAG_INVALID,
		    "unknown encoding '%s' (examples: windows-1252, latin1, iso-8859-15, "
		    "utf-16, utf-16le, mac; 'iconv -l' lists them all)",
		    name);
	iconv_close(cd);
	return 0;
}

/* The line and column (characters, from 1) just after the UTF-8 text o[0..n). */
static void
textenc_where(const char *o, size_t n, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)o[i];
		if (b == '\n' || (b == '\r' && (i + 1 >= n || o[i + 1] != '\n'))) {
			l++;
			c = 1;
		} else if ((b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static size_t
textenc_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int
textenc_utf16(const char *s, size_t n, int big_endian, const char *name, char **out, size_t *outlen,
	      struct diag *d)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t units = n / 2;
	/* A unit becomes at most 3 bytes; a pair (two units) 4. */
	char *o = malloc(units * 3 + 1);
	if (o == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory decoding %s", name);
	size_t k = 0;
	int line, col;
	for (size_t i = 0; i < units; i++) {
		unsigned w = big_endian ? (unsigned)u[2 * i] << 8 | u[2 * i + 1]
					: (unsigned)u[2 * i + 1] << 8 | u[2 * i];
		uint32_t cp = w;
		if (w >= 0xD800 && w <= 0xDBFF) {
			unsigned w2 = 0;
			if (i + 1 < units)
				w2 = big_endian ? (unsigned)u[2 * i + 2] << 8 | u[2 * i + 3]
						: (unsigned)u[2 * i + 3] << 8 | u[2 * i + 2];
			if (w2 < 0xDC00 || w2 > 0xDFFF) {
				textenc_where(o, k, &line, &col);
				free(o);
				return diag_set(d, DIAG_INVALID,
						"%s:%d:%d: invalid UTF-16: unpaired high surrogate "
						"0x%04X",
						name, line, col, w);
			}
			cp = 0x10000 + (((uint32_t)w - 0xD800) << 10) + (w2 - 0xDC00);
			i++;
		} else if (w >= 0xDC00 && w <= 0xDFFF) {
			textenc_where(o, k, &line, &col);
			free(o);
			return diag_set(d, DIAG_INVALID,
					"%s:%d:%d: invalid UTF-16: unpaired low surrogate 0x%04X",
					name, line, col, w);
		}
		k += textenc_put(o + k, cp);
	}
	if (n % 2 != 0) {
		textenc_where(o, k, &line, &col);
		free(o);
		return diag_set(
		    d, DIAG_INVALID,
		    "%s:%d:%d: invalid UTF-16: the file ends in the middle of a character "
		    "(an odd number of bytes)",
		    name, line, col);
	}
	o[k] = '\0';
	*out = o;
	*outlen = k;
	return 0;
}

int
textenc_iconv(const char *s, size_t n, const char *enc, const char *name, char **out,
	      size_t *outlen, struct diag *d)
{
	iconv_t cd = iconv_open("UTF-8", enc);
	if (cd == (iconv_t)-1)
		return textenc_check(enc, d);
	size_t cap = n + n / 2 + 16, k = 0;
	char *o = malloc(cap);
	if (o == NULL) {
		iconv_close(cd);
		return diag_set(d, DIAG_NOMEM, "out of memory decoding %s", name);
	}
	char *in = (char *)s;
	size_t inleft = n;
	int line, col;
	while (inleft > 0) {
		char *op = o + k;
		size_t oleft = cap - k - 1;
		size_t rc = iconv(cd, &in, &inleft, &op, &oleft);
		k = (size_t)(op - o);
		if (rc != (size_t)-1)
			break;
		if (errno == E2BIG) {
			size_t ncap = cap * 2;
			char *no = realloc(o, ncap);
			if (no == NULL) {
				free(o);
				iconv_close(cd);
				return diag_set(d, DIAG_NOMEM, "out of memory decoding %s", name);
			}
			o = no;
			cap = ncap;
			continue;
		}
		textenc_where(o, k, &line, &col);
		int bad = (unsigned char)*in;
		int incomplete = errno == EINVAL;
		free(o);
		iconv_close(cd);
		if (incomplete)
			return diag_set(d, DIAG_INVALID,
					"%s:%d:%d: the file ends in the middle of a %s character",
					name, line, col, enc);
		return diag_set(d, DIAG_INVALID, "%s:%d:%d: byte 0x%02X is not valid %s", name,
				line, col, bad, enc);
	}
	iconv_close(cd);
	o[k] = '\0';
	*out = o;
	*outlen = k;
	return 0;
}

int
textenc_maybe_cp1252(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		if (b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D)
			return 0;
	}
	return 1;
}

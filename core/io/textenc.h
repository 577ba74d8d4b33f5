/*
 * textenc: turns the text encodings HR exports come in into UTF-8 for the CSV reader.
 *
 * Called by: io/csv (when an input starts with a UTF-16 byte order mark, or the caller named an
 * encoding), the import commands (to check an --encoding name before reading anything).
 *
 * Contract:
 *  - Conversions read a whole buffer and return a new malloc'ed UTF-8 buffer (NUL after its
 *    length) that the caller frees. Line breaks map one to one, so the CSV reader's line numbers
 *    stay those of the original file.
 *  - UTF-16 is decoded here (LE or BE, the BOM already removed): surrogate pairs become one code
 *    point; an unpaired surrogate or an odd trailing byte is an error "NAME:LINE:COLUMN: ...",
 *    COLUMN counting characters from 1 on that line.
 *  - Any other encoding goes through glibc's iconv; a byte sequence it rejects is an error with
 *    the same line and column.
 *  - textenc_is_utf8 tells whether a name means UTF-8 (no conversion needed).
 */
#ifndef TANDEM_TEXTENC_H
#define TANDEM_TEXTENC_H

#include <stddef.h>

#include "base/diag.h"

/* 0 when iconv knows how to convert name to UTF-8; -1 (DIAG_INVALID, examples listed) when not. */
int textenc_check(const char *name, struct diag *d);

/* True for "UTF-8", "utf8" and the like. */
int textenc_is_utf8(const char *name);

/* Decodes UTF-16 (big_endian or little) in s[0..n) into out and outlen; 0 or -1 (d filled). */
int textenc_utf16(const char *s, size_t n, int big_endian, const char *name, char **out,
		  size_t *outlen, struct diag *d);

/* Converts s[0..n) from encoding enc to UTF-8 through iconv; 0 or -1 (d filled). */
int textenc_iconv(const char *s, size_t n, const char *enc, const char *name, char **out,
		  size_t *outlen, struct diag *d);

/* True when every byte of s[0..n) is a character of Windows-1252 (a hint for invalid UTF-8). */
int textenc_maybe_cp1252(const char *s, size_t n);

#endif

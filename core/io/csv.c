/*
 * csv: RFC 4180 reading and writing. See csv.h for the contract.
 *
 * The reader scans its input block by block. Inside a field it skips over ordinary
 * bytes with a lookup table and copies whole runs at once, which keeps a 100k-row
 * file well under 0.1 s. A record's fields are packed, NUL-terminated, into one
 * growing text buffer; their offsets become pointers once the record is complete
 * (the buffer may move while it grows). The separator picks one of three constant
 * byte tables; input that is not UTF-8 is transcoded once, up front (io/textenc), so
 * the scanning loops never see anything but UTF-8.
 */
#include "io/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/vec.h"
#include "io/textenc.h"

enum { CSV_BLOCK = 64 * 1024, CSV_ERR_MAX = 300 };

/* How a field ended. */
enum csv_end { CSV_END_FIELD, CSV_END_RECORD, CSV_END_FATAL };

struct csv_reader {
	FILE *f;          /* NULL when reading from memory */
	char *name;
	const char *buf;  /* current block (own block, or the caller's buffer) */
	size_t pos, len;
	char *block;
	int eof;          /* the input has no bytes after buf[len) */
	int done;         /* a fatal error happened: only 0 from now on */
	int started;      /* the BOM check (and transcoding, delimiter detection) ran */
	char *owned;      /* the whole input transcoded to UTF-8, when it was not UTF-8 */
	char *encoding;   /* --encoding: convert from this through iconv (NULL: UTF-8 or a BOM) */
	int want_delim;   /* ',', ';', '\t', or 0 to detect it from the header line */
	int delim;        /* the separator in use */
	int delim_how;    /* 0 default, 1 detected, 2 forced */
	int hdr_count[3]; /* ',', ';' and tabs outside quotes on the header line */
	const unsigned char *special;
	int hints;        /* csv_reader_set_input() was called: errors may name its options */
	int line;         /* current physical line */
	size_t max_field;
	int max_fields;

	/* The record being read. */
	struct buf text;  /* the record's fields, each followed by its NUL */
	size_t room;      /* bytes text can take without growing (reserved ahead) */
	struct csv_field *fields;
	size_t *offs;
	int nf;
	size_t fcap, ocap;
	size_t flen;      /* length of the current field */
	int discard;      /* the current field is over a limit: drop its bytes */
	int added;        /* the current field has an entry in fields[] */

	/* The first error of the current record. */
	int err, err_line, err_col;
	char err_msg[CSV_ERR_MAX];
};

/* Bytes that end a run inside an unquoted (1) or quoted (2) field. A constant table: no
 * lazy initialization, so no (benign but undefined) race between threads opening readers. */
static const unsigned char csv_special_comma[256] = {
	[','] = 1, ['\n'] = 3, ['\r'] = 3, ['"'] = 3, [0] = 3,
};
static const unsigned char csv_special_semi[256] = {
	[';'] = 1, ['\n'] = 3, ['\r'] = 3, ['"'] = 3, [0] = 3,
};
static const unsigned char csv_special_tab[256] = {
	['\t'] = 1, ['\n'] = 3, ['\r'] = 3, ['"'] = 3, [0] = 3,
};

static struct csv_reader *
csv_reader_alloc(const char *name, struct diag *d)
{
	struct csv_reader *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->name = strdup(name ? name : "-")) == NULL) {
		free(r);
		diag_set(d, DIAG_NOMEM, "out of memory reading %s", name ? name : "CSV");
		return NULL;
	}
	r->line = 1;
	r->want_delim = ',';
	r->delim = ',';
	r->special = csv_special_comma;
	r->max_field = CSV_MAX_FIELD_DEFAULT;
	r->max_fields = CSV_MAX_FIELDS_DEFAULT;
	return r;
}

struct csv_reader *
csv_reader_new_file(FILE *f, const char *name, struct diag *d)
{
	struct csv_reader *r = csv_reader_alloc(name, d);
	if (r == NULL)
		return NULL;
	r->f = f;
	r->block = malloc(CSV_BLOCK);
	if (r->block == NULL) {
		csv_reader_delete(r);
		diag_set(d, DIAG_NOMEM, "out of memory reading %s", name);
		return NULL;
	}
	r->buf = r->block;
	return r;
}

struct csv_reader *
csv_reader_new_mem(const char *buf, size_t len, const char *name, struct diag *d)
{
	struct csv_reader *r = csv_reader_alloc(name, d);
	if (r == NULL)
		return NULL;
	r->buf = buf;
	r->len = len;
	r->eof = 1;
	return r;
}

void
csv_reader_delete(struct csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->block);
	free(r->owned);
	free(r->encoding);
	buf_fini(&r->text);
	free(r->fields);
	free(r->offs);
	free(r);
}

void
csv_reader_set_limits(struct csv_reader *r, size_t max_field, int max_fields)
{
	if (max_field > 0)
		r->max_field = max_field;
	if (max_fields > 0)
		r->max_fields = max_fields;
}

const char *
csv_reader_name(const struct csv_reader *r)
{
	return r->name;
}

/* Makes at least one byte available; 0 at the end of input (or on a read error). */
static int
csv_fill(struct csv_reader *r)
{
	if (r->pos < r->len)
		return 1;
	if (r->eof)
		return 0;
	r->len = fread(r->block, 1, CSV_BLOCK, r->f);
	r->pos = 0;
	if (r->len == 0) {
		r->eof = 1;
		return 0;
	}
	return 1;
}

static inline int
csv_peek(struct csv_reader *r)
{
	if (r->pos < r->len || csv_fill(r))
		return (unsigned char)r->buf[r->pos];
	return -1;
}

/* Records the first error of the record, at the current line and field. */
static void
csv_error(struct csv_reader *r, int line, const char *msg)
{
	if (r->err)
		return;
	r->err = 1;
	r->err_line = line;
	r->err_col = r->nf;
	snprintf(r->err_msg, sizeof(r->err_msg), "%s", msg);
}

/* Makes room for n more bytes of the record's text, reserving 4 KiB ahead. */
static int
csv_room(struct csv_reader *r, size_t n)
{
	size_t want = n > 4096 ? n : 4096;
	if (buf_reserve(&r->text, want, NULL) != 0)
		return -1;
	r->room = want;
	return 0;
}

/*
 * Appends n bytes to the record's text. The room reserved ahead makes the
 * common append (a run of a field) a memcpy, without a call into base/buf.
 */
static inline int
csv_put(struct csv_reader *r, const char *s, size_t n)
{
	if (n > r->room && csv_room(r, n) != 0)
		return -1;
	struct buf *t = &r->text;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
	r->room -= n;
	return 0;
}

/* Ends a field's text with its NUL. buf keeps a NUL at data[len] only once a byte was added:
 * the room of an empty first field may be fresh memory, so the NUL is written, not assumed. */
static inline int
csv_put_nul(struct csv_reader *r)
{
	if (r->room == 0 && csv_room(r, 1) != 0)
		return -1;
	struct buf *t = &r->text;
	t->data[t->len++] = '\0';
	t->data[t->len] = '\0';
	r->room--;
	return 0;
}

static void
csv_append(struct csv_reader *r, const char *s, size_t n)
{
	if (r->discard || n == 0)
		return;
	if (r->flen + n > r->max_field) {
		char msg[96];
		snprintf(msg, sizeof(msg), "field longer than %zu bytes", r->max_field);
		csv_error(r, r->line, msg);
		r->discard = 1;
		return;
	}
	if (csv_put(r, s, n) != 0) {
		csv_error(r, r->line, "out of memory");
		r->discard = 1;
		return;
	}
	r->flen += n;
}

static void
csv_field_begin(struct csv_reader *r, int quoted)
{
	r->flen = 0;
	r->discard = 0;
	r->added = 0;
	if (r->nf >= r->max_fields) {
		char msg[96];
		snprintf(msg, sizeof(msg), "more than %d fields in a record", r->max_fields);
		r->nf++;
		csv_error(r, r->line, msg);
		r->nf--;
		r->discard = 1;
		return;
	}
	size_t need = (size_t)r->nf + 1;
	if ((need > r->fcap || need > r->ocap) &&
	    (vec_grow(&r->fields, &r->fcap, need, sizeof(*r->fields), NULL) != 0 ||
	     vec_grow(&r->offs, &r->ocap, need, sizeof(*r->offs), NULL) != 0)) {
		csv_error(r, r->line, "out of memory");
		r->discard = 1;
		return;
	}
	r->offs[r->nf] = r->text.len;
	r->fields[r->nf].line = r->line;
	r->fields[r->nf].quoted = quoted;
	r->nf++;
	r->added = 1;
}

/* Terminates the current field's text; fields over the field-count limit were never added. */
static void
csv_field_end(struct csv_reader *r)
{
	if (!r->added)
		return;
	if (csv_put_nul(r) != 0) {
		csv_error(r, r->line, "out of memory");
		r->nf--;
	}
}

/* Consumes the line end starting at the current byte (already known to be CR or LF). */
static void
csv_eat_eol(struct csv_reader *r)
{
	int c = (unsigned char)r->buf[r->pos++];
	if (c == '\r' && csv_peek(r) == '\n')
		r->pos++;
	r->line++;
}

/* The rest of an unquoted field (or of a quoted one after junk following its closing quote). */
static enum csv_end
csv_unquoted(struct csv_reader *r)
{
	for (;;) {
		if (!csv_fill(r))
			return CSV_END_RECORD;
		const char *p = r->buf + r->pos, *e = r->buf + r->len, *q = p;
		const unsigned char *sp = r->special;
		while (q < e && !(sp[(unsigned char)*q] & 1))
			q++;
		csv_append(r, p, (size_t)(q - p));
		r->pos = (size_t)(q - r->buf);
		if (q == e)
			continue;
		if (*q == r->delim) {
			r->pos++;
			return CSV_END_FIELD;
		}
		switch (*q) {
		case '\n':
		case '\r':
			csv_eat_eol(r);
			return CSV_END_RECORD;
		case '"':
			csv_error(r, r->line, "quote (\") in an unquoted field; quote the whole field "
					      "and double the quotes inside it");
			csv_append(r, "\"", 1);
			r->pos++;
			break;
		default: /* NUL */
			csv_error(r, r->line, "NUL byte in field");
			r->pos++;
			break;
		}
	}
}

/* A quoted field, its opening quote already consumed. */
static enum csv_end
csv_quoted(struct csv_reader *r)
{
	int open_line = r->line;
	for (;;) {
		if (!csv_fill(r)) {
			char msg[96];
			snprintf(msg, sizeof(msg), "unterminated quoted field (opened on line %d)",
				 open_line);
			r->err = 0; /* this one explains everything: it wins */
			csv_error(r, open_line, msg);
			r->done = 1;
			return CSV_END_FATAL;
		}
		const char *p = r->buf + r->pos, *e = r->buf + r->len, *q = p;
		while (q < e && !(csv_special_comma[(unsigned char)*q] & 2))
			q++;
		csv_append(r, p, (size_t)(q - p));
		r->pos = (size_t)(q - r->buf);
		if (q == e)
			continue;
		char c = *q;
		r->pos++;
		if (c == '"') {
			if (csv_peek(r) != '"')
				break;
			r->pos++;
			csv_append(r, "\"", 1);
		} else if (c == '\n') {
			csv_append(r, "\n", 1);
			r->line++;
		} else if (c == '\r') {
			csv_append(r, "\r", 1);
			if (csv_peek(r) != '\n')
				r->line++;
		} else {
			csv_error(r, r->line, "NUL byte in field");
		}
	}
	int c = csv_peek(r);
	if (c < 0)
		return CSV_END_RECORD;
	if (c == r->delim) {
		r->pos++;
		return CSV_END_FIELD;
	}
	if (c == '\n' || c == '\r') {
		csv_eat_eol(r);
		return CSV_END_RECORD;
	}
	csv_error(r, r->line, "unexpected character after the closing quote of a quoted field");
	return csv_unquoted(r);
}

int
csv_reader_set_input(struct csv_reader *r, const char *encoding, int delimiter, struct diag *d)
{
	if (delimiter != 0 && delimiter != ',' && delimiter != ';' && delimiter != '\t')
		return diag_set(d, DIAG_INVALID, "delimiter must be ',', ';' or tab");
	r->want_delim = delimiter;
	r->hints = 1;
	free(r->encoding);
	r->encoding = NULL;
	if (encoding != NULL && !textenc_is_utf8(encoding)) {
		if (textenc_check(encoding, d) != 0)
			return -1;
		if ((r->encoding = strdup(encoding)) == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	return 0;
}

/* Replaces the rest of the input with its UTF-8 transcoding (the whole file is read). */
static int
csv_transcode(struct csv_reader *r, int utf16, int big_endian, struct diag *d)
{
	struct buf all;
	buf_init(&all);
	if (buf_append(&all, r->buf + r->pos, r->len - r->pos, d) != 0)
		return -1;
	while (!r->eof && r->f != NULL) {
		size_t got = fread(r->block, 1, CSV_BLOCK, r->f);
		if (got == 0) {
			r->eof = 1;
			if (ferror(r->f)) {
				buf_fini(&all);
				return diag_set(d, DIAG_IO, "%s: read error", r->name);
			}
			break;
		}
		if (buf_append(&all, r->block, got, d) != 0) {
			buf_fini(&all);
			return -1;
		}
	}
	char *out;
	size_t outlen;
	int rc = utf16 ? textenc_utf16(all.data, all.len, big_endian, r->name, &out, &outlen, d)
		       : textenc_iconv(all.data, all.len, r->encoding, r->name, &out, &outlen, d);
	buf_fini(&all);
	if (rc != 0)
		return -1;
	r->owned = out;
	r->buf = out;
	r->pos = 0;
	r->len = outlen;
	r->eof = 1;
	return 0;
}

/* Counts the candidate separators outside quotes on the header line and picks the most frequent
 * (a tie or none keeps ','). Only the bytes at hand are looked at: a header fits in a block. */
static void
csv_detect_delimiter(struct csv_reader *r)
{
	int inq = 0;
	for (size_t i = r->pos; i < r->len; i++) {
		char c = r->buf[i];
		if (c == '"')
			inq = !inq;
		else if (!inq && (c == '\n' || c == '\r'))
			break;
		else if (!inq && c == ',')
			r->hdr_count[0]++;
		else if (!inq && c == ';')
			r->hdr_count[1]++;
		else if (!inq && c == '\t')
			r->hdr_count[2]++;
	}
	if (r->want_delim != 0) {
		r->delim = r->want_delim;
		r->delim_how = 2;
	} else {
		static const char cand[3] = {',', ';', '\t'};
		int best = 0;
		for (int k = 1; k < 3; k++)
			if (r->hdr_count[k] > r->hdr_count[best])
				best = k;
		r->delim = cand[best];
		r->delim_how = r->hdr_count[best] > 0;
	}
	r->special = r->delim == ';'    ? csv_special_semi
		     : r->delim == '\t' ? csv_special_tab
					: csv_special_comma;
}

/* At the very start: skips a UTF-8 byte order mark, transcodes UTF-16 (by its mark) or the named
 * encoding, and picks the separator. */
static int
csv_start(struct csv_reader *r, struct diag *d)
{
	r->started = 1;
	if (!csv_fill(r)) {
		csv_detect_delimiter(r);
		return 0;
	}
	const char *p = r->buf + r->pos;
	size_t n = r->len - r->pos;
	int rc = 0;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		r->pos += 3;
		if (r->encoding != NULL)
			rc = csv_transcode(r, 0, 0, d);
	} else if (n >= 2 && (memcmp(p, "\xFF\xFE", 2) == 0 || memcmp(p, "\xFE\xFF", 2) == 0)) {
		int be = p[0] == '\xFE';
		r->pos += 2;
		rc = csv_transcode(r, 1, be, d);
	} else if (r->encoding != NULL) {
		rc = csv_transcode(r, 0, 0, d);
	} else if (r->hints && n >= 4 && (p[0] != 0) == (p[2] != 0) && (p[1] != 0) == (p[3] != 0) &&
		   (p[0] == 0) != (p[1] == 0)) {
		/* No mark, but the header starts with two ASCII characters in UTF-16 (every other
		 * byte NUL, which a UTF-8 header never has): an export saved without its mark. */
		rc = csv_transcode(r, 1, p[0] == 0, d);
	}
	if (rc != 0) {
		r->done = 1;
		return -1;
	}
	csv_detect_delimiter(r);
	return 0;
}

int
csv_reader_delimiter(const struct csv_reader *r)
{
	return r->delim;
}

int
csv_reader_header_note(const struct csv_reader *r, char *out, size_t n)
{
	static const char cand[3] = {',', ';', '\t'};
	static const char *const shown[3] = {"','", "';'", "tab"};
	int cur = r->delim == ',' ? 0 : r->delim == ';' ? 1 : 2;
	for (int k = 0; k < 3; k++) {
		if (cand[k] == r->delim || r->hdr_count[k] == 0)
			continue;
		snprintf(out, n,
			 "the header was split on %s (%s) but also contains %d %s; if that "
			 "separates the columns, pass --delimiter %s",
			 shown[cur], r->delim_how == 2 ? "--delimiter" : r->delim_how == 1 ? "detected"
											   : "the default",
			 r->hdr_count[k], shown[k], shown[k]);
		return 1;
	}
	if (out != NULL && n > 0)
		out[0] = '\0';
	return 0;
}

int
csv_utf8_valid(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned cp, min;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			goto invalid;
		}
		if (i + n >= len)
			goto invalid;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto invalid;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto invalid;
		i += n + 1;
	}
	return 1;
invalid:
	if (bad != NULL)
		*bad = i;
	return 0;
}

/* Turns offsets into pointers and checks the encoding of every field. */
static void
csv_finish_record(struct csv_reader *r)
{
	for (int i = 0; i < r->nf; i++) {
		struct csv_field *f = &r->fields[i];
		f->s = r->text.data + r->offs[i];
		f->len = strlen(f->s);
	}
	if (r->err)
		return;
	for (int i = 0; i < r->nf; i++) {
		size_t bad;
		if (!csv_utf8_valid(r->fields[i].s, r->fields[i].len, &bad)) {
			char msg[96];
			snprintf(msg, sizeof(msg), "invalid UTF-8 (byte %zu of the field)", bad + 1);
			const char *hint = "";
			if (r->hints && r->owned == NULL &&
			    textenc_maybe_cp1252(r->fields[i].s, r->fields[i].len))
				hint = "; if the file is Windows-1252 or Latin-1, pass --encoding "
				       "windows-1252";
			r->err = 1;
			r->err_line = r->fields[i].line;
			r->err_col = i + 1;
			snprintf(r->err_msg, sizeof(r->err_msg), "%s%s", msg, hint);
			return;
		}
	}
}

int
csv_read(struct csv_reader *r, struct csv_record *rec, struct diag *d)
{
	rec->line = r->line;
	rec->nfields = 0;
	rec->fields = NULL;
	rec->text = NULL;
	rec->textlen = 0;
	if (!r->started && csv_start(r, d) != 0)
		return -1;
	if (r->done)
		return 0;
	/* Blank physical lines are skipped. */
	int c;
	while ((c = csv_peek(r)) == '\n' || c == '\r')
		csv_eat_eol(r);
	if (c < 0) {
		if (r->f != NULL && ferror(r->f)) {
			r->done = 1;
			return diag_set(d, DIAG_IO, "%s:%d: read error", r->name, r->line);
		}
		return 0;
	}
	buf_reset(&r->text);
	r->room = 0;
	r->nf = 0;
	r->err = 0;
	rec->line = r->line;
	enum csv_end end;
	do {
		int quoted = csv_peek(r) == '"';
		if (quoted)
			r->pos++;
		csv_field_begin(r, quoted);
		end = quoted ? csv_quoted(r) : csv_unquoted(r);
		csv_field_end(r);
	} while (end == CSV_END_FIELD);
	if (r->nf > r->max_fields)
		r->nf = r->max_fields;
	csv_finish_record(r);
	rec->nfields = r->nf;
	rec->fields = r->fields;
	rec->text = r->text.data;
	rec->textlen = r->text.len;
	if (r->err)
		return diag_set(d, DIAG_INVALID, "%s:%d:%d: %s", r->name, r->err_line,
				r->err_col > 0 ? r->err_col : 1, r->err_msg);
	return 1;
}

/* Quotes are needed for separators, quotes, line breaks, and edge spaces (which readers trim). */
static int
csv_needs_quotes(const char *s)
{
	if (s[0] == '\0')
		return 0;
	if (s[0] == ' ' || s[0] == '\t')
		return 1;
	size_t n = strlen(s);
	if (s[n - 1] == ' ' || s[n - 1] == '\t')
		return 1;
	return strpbrk(s, ",\"\r\n") != NULL;
}

int
csv_write_field(FILE *f, const char *s, int first)
{
	if (!first)
		putc(',', f);
	if (s == NULL || s[0] == '\0') {
		/* A record that is one empty field must not become a blank line (readers skip those). */
		if (first)
			fputs("\"\"", f);
		return ferror(f) ? -1 : 0;
	}
	if (!csv_needs_quotes(s)) {
		fputs(s, f);
	} else {
		putc('"', f);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				putc('"', f);
			putc(*p, f);
		}
		putc('"', f);
	}
	return ferror(f) ? -1 : 0;
}

int
csv_write_end(FILE *f)
{
	putc('\n', f);
	return ferror(f) ? -1 : 0;
}

int
csv_write_row(FILE *f, const char *const *fields, int n)
{
	for (int i = 0; i < n; i++)
		csv_write_field(f, fields[i], i == 0);
	return csv_write_end(f);
}

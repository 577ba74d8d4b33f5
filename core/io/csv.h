/*
 * csv: a streaming RFC 4180 reader and a writer.
 *
 * Called by: people (tandem import people), the enrollment importer, gen-org (writer),
 * and anything else that reads or writes CSV.
 *
 * Reader contract:
 *  - Input is a FILE* (read in large blocks) or a memory buffer. A UTF-8 byte order
 *    mark at the very start is skipped. A UTF-16 LE or BE mark, or an encoding named
 *    with csv_reader_set_input(), makes the reader transcode the whole input to UTF-8
 *    first (io/textenc; line numbers unchanged); so does a mark-less input whose first two
 *    characters are ASCII in UTF-16 (after csv_reader_set_input() only, for importers).
 *    Plain UTF-8 input is read as is, at
 *    full speed. Records end with LF, CRLF or a lone CR; the last record may lack a
 *    line ending. A physical line that is completely empty (no characters at all) is
 *    skipped, so trailing blank lines are harmless.
 *  - Fields are separated by commas, or by ';' or tabs when csv_reader_set_input()
 *    asks for them or for detection (the most frequent of the three outside quotes on
 *    the first line). A field that starts with a double quote is quoted: it may hold
 *    separators, CR, LF, and "" for one quote. Anything else after its closing quote is
 *    an error.
 *  - Each record reports the 1-based physical line where it starts; each field its
 *    1-based column (its index + 1) and the physical line where it starts.
 *  - Errors carry "NAME:LINE:COLUMN: message", where COLUMN is the field index:
 *    unterminated quoted field (fatal: the rest of the input is one unfinished field),
 *    a quote inside an unquoted field, a character after a closing quote, a NUL byte,
 *    invalid UTF-8 (after csv_reader_set_input(), with a hint to pass --encoding when
 *    the bytes could be Windows-1252), a transcoding error (fatal, at the first record),
 *    a field longer than the maximum (64 KiB by default), more fields than the maximum
 *    (4096 by default). Except for the unterminated quote, the reader
 *    resynchronizes at the end of the damaged record, so a caller can keep reading to
 *    collect every error of a file (one per record).
 *  - Field text is NUL-terminated and valid until the next csv_read() call.
 *
 * Writer contract: fields are quoted only when they must be (a comma, a quote, CR, LF,
 * or a leading/trailing space or tab); records end with LF. An empty first field is
 * written as "" so that no record is ever a blank line.
 */
#ifndef TANDEM_CSV_H
#define TANDEM_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "base/diag.h"

enum { CSV_MAX_FIELD_DEFAULT = 64 * 1024, CSV_MAX_FIELDS_DEFAULT = 4096 };

struct csv_field {
	const char *s; /* NUL-terminated */
	size_t len;
	int line;      /* physical line where the field starts */
	int quoted;    /* the field was written in quotes */
};

struct csv_record {
	int line;   /* physical line where the record starts */
	int nfields;
	const struct csv_field *fields; /* fields[i] is column i + 1 */
	/* Every field's text, packed in column order in this one block, each followed by its NUL
	 * (fields[i].s == text + offset); valid when csv_read() returned 1. A caller that keeps a
	 * record copies text[0..textlen) once and rebases the field pointers. */
	const char *text;
	size_t textlen;
};

struct csv_reader;

/* name is used in error messages ("people.csv"); the FILE stays owned by the caller. */
struct csv_reader *csv_reader_new_file(FILE *f, const char *name, struct diag *d);

/* Reads from buf[0..len) (not copied: it must outlive the reader). */
struct csv_reader *csv_reader_new_mem(const char *buf, size_t len, const char *name,
				      struct diag *d);

void csv_reader_delete(struct csv_reader *r);

/* Limits: a longer field or more fields in a record is an error. 0 keeps the current value. */
void csv_reader_set_limits(struct csv_reader *r, size_t max_field, int max_fields);

/*
 * Reads the next record: 1 and rec filled, 0 at the end of input, -1 on an error
 * (diag filled; rec still describes the damaged record's line; reading may continue
 * unless the error was an unterminated quote or an I/O error, after which 0 follows).
 */
int csv_read(struct csv_reader *r, struct csv_record *rec, struct diag *d);

/*
 * Before the first csv_read(): encoding NULL (or UTF-8) reads UTF-8, honouring byte order marks;
 * another name converts the input through iconv. delimiter is ',', ';', '\t', or 0 to detect it
 * from the header line. 0, or -1 (DIAG_INVALID) for an unknown encoding or delimiter.
 */
int csv_reader_set_input(struct csv_reader *r, const char *encoding, int delimiter, struct diag *d);

/* The separator in use (known after the first csv_read()). */
int csv_reader_delimiter(const struct csv_reader *r);

/* After the header was read: when the header line also holds another candidate separator, writes
 * a sentence saying which one was used, how it was chosen, and the --delimiter to try; returns 1.
 * Otherwise 0 (out empty). For importers to add to "missing required column" errors. */
int csv_reader_header_note(const struct csv_reader *r, char *out, size_t n);

/* The name given at creation. */
const char *csv_reader_name(const struct csv_reader *r);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
 * When not, *bad (if not NULL) gets the offset of the first bad byte. */
int csv_utf8_valid(const char *s, size_t len, size_t *bad);

/* Writes one record of n fields (NULL = empty field); 0, or -1 when the stream failed. */
int csv_write_row(FILE *f, const char *const *fields, int n);

/* Field by field: csv_write_field(f, s, first) writes a separator unless first; csv_write_end
 * ends the record. 0, or -1 when the stream failed. */
int csv_write_field(FILE *f, const char *s, int first);
int csv_write_end(FILE *f);

#endif

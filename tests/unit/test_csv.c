/* Unit tests for core/csv: RFC 4180 reading (lines, columns, errors), writing, round trips, speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "io/csv.h"

/* Reads the whole of s; returns the records as "f1|f2|...\n" lines with "@LINE " prefixes. */
static char *
dump(const char *s, size_t len, int *nerr, char *errs, size_t errsz)
{
	struct diag d;
	struct csv_reader *r = csv_reader_new_mem(s, len, "t.csv", &d);
	assert_non_null(r);
	static char out[8192];
	size_t o = 0;
	struct csv_record rec;
	int rc;
	*nerr = 0;
	if (errs)
		errs[0] = '\0';
	while ((rc = csv_read(r, &rec, &d)) != 0) {
		if (rc < 0) {
			(*nerr)++;
			if (errs)
				snprintf(errs + strlen(errs), errsz - strlen(errs), "%s\n", d.msg);
			continue;
		}
		o += snprintf(out + o, sizeof(out) - o, "@%d ", rec.line);
		for (int i = 0; i < rec.nfields; i++)
			o += snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "", rec.fields[i].s);
		o += snprintf(out + o, sizeof(out) - o, "\n");
	}
	csv_reader_delete(r);
	out[o] = '\0';
	return out;
}

#define DUMP(lit) dump(lit, sizeof(lit) - 1, &nerr, errs, sizeof(errs))

static void
test_basic_records(void **state)
{
	(void)state;
	int nerr;
	char errs[2048];
	assert_string_equal(DUMP("a,b,c\n1,2,3\n"), "@1 a|b|c\n@2 1|2|3\n");
	assert_int_equal(nerr, 0);
	/* No final newline, empty fields, trailing comma. */
	assert_string_equal(DUMP("a,,c\n,x,\nlast"), "@1 a||c\n@2 |x|\n@3 last\n");
	/* CRLF and lone CR line ends; blank lines skipped but counted. */
	assert_string_equal(DUMP("a,b\r\n\r\nc,d\re\n\n"), "@1 a|b\n@3 c|d\n@4 e\n");
	/* BOM skipped only at the start. */
	assert_string_equal(DUMP("\xEF\xBB\xBFid,name\n1,x\n"), "@1 id|name\n@2 1|x\n");
	assert_string_equal(DUMP(""), "");
	assert_string_equal(DUMP("\xEF\xBB\xBF"), "");
	assert_int_equal(nerr, 0);
}

static void
test_quoted_fields(void **state)
{
	(void)state;
	int nerr;
	char errs[2048];
	assert_string_equal(DUMP("\"a,b\",\"say \"\"hi\"\"\",\"\"\n"), "@1 a,b|say \"hi\"|\n");
	/* Embedded newlines: the next record's line is the physical line. */
	assert_string_equal(DUMP("\"l1\nl2\r\nl3\",x\nnext,\"\"\"\"\n"),
			    "@1 l1\nl2\r\nl3|x\n@4 next|\"\n");
	assert_int_equal(nerr, 0);

	/* Field lines and quoted flags. */
	const char in[] = "1,\"two\nlines\",3\n";
	struct diag d;
	struct csv_reader *r = csv_reader_new_mem(in, sizeof(in) - 1, "t.csv", &d);
	struct csv_record rec;
	assert_int_equal(csv_read(r, &rec, &d), 1);
	assert_int_equal(rec.nfields, 3);
	assert_int_equal(rec.fields[0].line, 1);
	assert_int_equal(rec.fields[2].line, 2);
	assert_true(rec.fields[1].quoted);
	assert_false(rec.fields[0].quoted);
	assert_int_equal(rec.fields[1].len, 9);
	assert_int_equal(csv_read(r, &rec, &d), 0);
	assert_int_equal(csv_read(r, &rec, &d), 0);
	csv_reader_delete(r);

	/* An empty first field of a new reader is empty, whatever its fresh text block held
	 * before (found by tests/fuzz/fuzz_csv: the field's NUL was assumed, not written). */
	for (int i = 0; i < 4; i++) {
		const char *pre = i % 2 ? "xyz,abc\n" : "\"\"\n";
		r = csv_reader_new_mem(pre, strlen(pre), "t.csv", &d);
		assert_int_equal(csv_read(r, &rec, &d), 1);
		csv_reader_delete(r);
		const char *in2 = i < 2 ? "\"\"\n" : ",x\n";
		r = csv_reader_new_mem(in2, strlen(in2), "t.csv", &d);
		assert_int_equal(csv_read(r, &rec, &d), 1);
		assert_int_equal(rec.fields[0].len, 0);
		assert_string_equal(rec.fields[0].s, "");
		csv_reader_delete(r);
	}
}

static void
test_errors_name_line_and_column(void **state)
{
	(void)state;
	int nerr;
	char errs[2048];
	/* A stray quote: the error, then the reader goes on with the next record. */
	assert_string_equal(DUMP("a,b\nx,y\"z,w\nok,1\n"), "@1 a|b\n@3 ok|1\n");
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(errs, "t.csv:2:2: quote (\") in an unquoted field"));

	DUMP("a,\"b\"x,c\nd\n");
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(errs, "t.csv:1:2: unexpected character after the closing quote"));

	/* Unterminated quote: reported at the line where it opened; fatal. */
	assert_string_equal(DUMP("a,b\nc,\"open\nmore\nstuff\n"), "@1 a|b\n");
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(errs, "t.csv:2:2: unterminated quoted field (opened on line 2)"));

	/* NUL byte, unquoted and quoted (on the line where it sits). */
	DUMP("a,b\nc\0d,e\n\"x\ny\0\",z\n");
	assert_int_equal(nerr, 2);
	assert_non_null(strstr(errs, "t.csv:2:1: NUL byte in field"));
	assert_non_null(strstr(errs, "t.csv:4:1: NUL byte in field"));

	/* Invalid UTF-8: bad lead byte, overlong, surrogate, truncated, above U+10FFFF. */
	DUMP("ok,caf\xC3\xA9\nx,\xFF\nx,y,\xC0\x80\n\xED\xA0\x80\nz,\xE2\x82\n\xF4\x90\x80\x80\n");
	assert_int_equal(nerr, 5);
	assert_non_null(strstr(errs, "t.csv:2:2: invalid UTF-8 (byte 1 of the field)"));
	assert_non_null(strstr(errs, "t.csv:3:3: invalid UTF-8"));
	assert_non_null(strstr(errs, "t.csv:4:1: invalid UTF-8"));
	assert_non_null(strstr(errs, "t.csv:5:2: invalid UTF-8"));
	assert_non_null(strstr(errs, "t.csv:6:1: invalid UTF-8"));
	assert_true(csv_utf8_valid("\xF0\x9F\x98\x80 \xE2\x82\xAC", 8, NULL));
}

static void
test_limits(void **state)
{
	(void)state;
	const char in[] = "short,0123456789abc\na,b,c,d,e\nx,\"0123456789\nabc\"\nfine,1\n";
	struct diag d;
	struct csv_reader *r = csv_reader_new_mem(in, sizeof(in) - 1, "lim.csv", &d);
	csv_reader_set_limits(r, 10, 4);
	struct csv_record rec;
	assert_int_equal(csv_read(r, &rec, &d), -1);
	assert_string_equal(d.msg, "lim.csv:1:2: field longer than 10 bytes");
	assert_int_equal(csv_read(r, &rec, &d), -1);
	assert_string_equal(d.msg, "lim.csv:2:5: more than 4 fields in a record");
	assert_int_equal(rec.nfields, 4);
	assert_int_equal(csv_read(r, &rec, &d), -1);
	assert_string_equal(d.msg, "lim.csv:3:2: field longer than 10 bytes");
	assert_int_equal(csv_read(r, &rec, &d), 1);
	assert_int_equal(rec.line, 5);
	assert_string_equal(rec.fields[0].s, "fine");
	assert_int_equal(csv_read(r, &rec, &d), 0);
	csv_reader_delete(r);

	/* The default field limit is 64 KiB. */
	size_t n = CSV_MAX_FIELD_DEFAULT + 1;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	r = csv_reader_new_mem(big, n, "big.csv", &d);
	assert_int_equal(csv_read(r, &rec, &d), -1);
	assert_string_equal(d.msg, "big.csv:1:1: field longer than 65536 bytes");
	csv_reader_delete(r);
	r = csv_reader_new_mem(big, n - 1, "big.csv", &d);
	assert_int_equal(csv_read(r, &rec, &d), 1);
	assert_int_equal(rec.fields[0].len, n - 1);
	csv_reader_delete(r);
	free(big);
}

static char *
write_to_string(void (*fn)(FILE *f))
{
	static char buf[1024];
	FILE *f = tmpfile();
	fn(f);
	rewind(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
write_sample(FILE *f)
{
	const char *row[] = {"plain", "a,b", "say \"hi\"", " lead", "trail ", "two\nlines", "", NULL,
			     "cr\r", "caf\xC3\xA9"};
	assert_int_equal(csv_write_row(f, row, 10), 0);
	const char *empty[] = {""};
	assert_int_equal(csv_write_row(f, empty, 1), 0);
	assert_int_equal(csv_write_field(f, "x", 1), 0);
	assert_int_equal(csv_write_field(f, "y z", 0), 0);
	assert_int_equal(csv_write_end(f), 0);
}

static void
test_writer_quotes_only_when_needed(void **state)
{
	(void)state;
	assert_string_equal(write_to_string(write_sample),
			    "plain,\"a,b\",\"say \"\"hi\"\"\",\" lead\",\"trail \",\"two\nlines\",,,"
			    "\"cr\r\",caf\xC3\xA9\n\"\"\nx,y z\n");
}

/* A random field drawn from an alphabet rich in the characters that need care. */
static void
random_field(char *out, size_t max, unsigned *seed)
{
	static const char *const pieces[] = {"a", "Z", "9", ",", "\"", "\n", "\r\n", "\r", " ", "\t",
					     "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\"\"", ";"};
	size_t n = (size_t)(rand_r(seed) % 12), o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);
		if (o + l + 1 >= max)
			break;
		memcpy(out + o, p, l + 1);
		o += l;
	}
}

static void
test_property_round_trip(void **state)
{
	(void)state;
	enum { ROWS = 2000, MAXF = 9, FLEN = 64 };
	static char fields[ROWS][MAXF][FLEN];
	static int nf[ROWS];
	unsigned seed = 12345;
	FILE *f = tmpfile();
	for (int r = 0; r < ROWS; r++) {
		nf[r] = 1 + rand_r(&seed) % MAXF;
		const char *row[MAXF];
		for (int i = 0; i < nf[r]; i++) {
			random_field(fields[r][i], FLEN, &seed);
			row[i] = fields[r][i];
		}
		assert_int_equal(csv_write_row(f, row, nf[r]), 0);
	}
	/* Both input paths: the FILE reader (with block boundaries) and the memory reader. */
	long size = ftell(f);
	rewind(f);
	char *mem = malloc((size_t)size);
	assert_int_equal(fread(mem, 1, (size_t)size, f), (size_t)size);
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		struct diag d;
		struct csv_reader *rd = pass == 0 ? csv_reader_new_file(f, "rt.csv", &d)
						  : csv_reader_new_mem(mem, (size_t)size, "rt.csv", &d);
		struct csv_record rec;
		for (int r = 0; r < ROWS; r++) {
			int rc = csv_read(rd, &rec, &d);
			if (rc != 1)
				fail_msg("row %d: rc %d: %s", r, rc, d.msg);
			assert_int_equal(rec.nfields, nf[r]);
			for (int i = 0; i < nf[r]; i++)
				assert_string_equal(rec.fields[i].s, fields[r][i]);
		}
		assert_int_equal(csv_read(rd, &rec, &d), 0);
		csv_reader_delete(rd);
	}
	free(mem);
	fclose(f);
}

/* Records that straddle the 64 KiB blocks of the FILE reader read the same as from memory. */
static void
test_file_blocks(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%d,\"q\"\"%d\",\"multi\r\nline %d\"\r\n", i, i, i);
	rewind(f);
	struct diag d;
	struct csv_reader *r = csv_reader_new_file(f, "blk.csv", &d);
	struct csv_record rec;
	char want[64];
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(csv_read(r, &rec, &d), 1);
		assert_int_equal(rec.line, 2 * i + 1);
		snprintf(want, sizeof(want), "q\"%d", i);
		assert_string_equal(rec.fields[1].s, want);
		snprintf(want, sizeof(want), "multi\r\nline %d", i);
		assert_string_equal(rec.fields[2].s, want);
	}
	assert_int_equal(csv_read(r, &rec, &d), 0);
	csv_reader_delete(r);
	fclose(f);
}

static void
test_speed_100k_rows(void **state)
{
	(void)state;
	/* 100k rows of 17 fields shaped like a people export. */
	size_t cap = 32u << 20, len = 0;
	char *buf = malloc(cap);
	for (int i = 0; i < 100000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"E%06d,Person Number %d,person%d@example.com,Senior Engineer,%d,"
					"Engineering,Team %d,Paris,Europe/Paris,E%06d,%d,,2015-03-0%d,active,"
					"\"python;sql\",\"cloud;ai\",\"en;fr\"\n",
					i, i, i, 1 + i % 9, i % 50, i / 10, 1960 + i % 40, 1 + i % 9);
	struct diag d;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct csv_reader *r = csv_reader_new_mem(buf, len, "speed.csv", &d);
	struct csv_record rec;
	long rows = 0, fields = 0;
	while (csv_read(r, &rec, &d) == 1) {
		rows++;
		fields += rec.nfields;
	}
	csv_reader_delete(r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("csv: read 100000 rows x 17 fields (%.1f MB) in %.4f s\n", (double)len / 1e6, s);
	assert_int_equal(rows, 100000);
	assert_int_equal(fields, 1700000);
	/* The target is well under 0.1 s; sanitizers slow everything several times. */
	if (getenv("TANDEM_ASAN") == NULL)
		assert_true(s < 0.25);
	free(buf);
}

/* Reads s with the given input options; records as in dump(), errors appended to errs. */
static char *
dump_opts(const char *s, size_t len, const char *enc, int delim, char *errs, size_t errsz)
{
	struct diag d;
	struct csv_reader *r = csv_reader_new_mem(s, len, "t.csv", &d);
	assert_non_null(r);
	assert_int_equal(csv_reader_set_input(r, enc, delim, &d), 0);
	static char out[4096];
	size_t o = 0;
	struct csv_record rec;
	int rc;
	errs[0] = '\0';
	out[0] = '\0';
	while ((rc = csv_read(r, &rec, &d)) != 0) {
		if (rc < 0) {
			snprintf(errs + strlen(errs), errsz - strlen(errs), "%s\n", d.msg);
			continue;
		}
		o += snprintf(out + o, sizeof(out) - o, "@%d ", rec.line);
		for (int i = 0; i < rec.nfields; i++)
			o += snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "", rec.fields[i].s);
		o += snprintf(out + o, sizeof(out) - o, "\n");
	}
	csv_reader_delete(r);
	return out;
}

static void
test_delimiters_detected_and_forced(void **state)
{
	(void)state;
	char errs[1024];
	const char semi[] = "a;b;\"c;d\"\n1;\"x,y\";3\n";
	assert_string_equal(dump_opts(semi, sizeof(semi) - 1, NULL, 0, errs, sizeof(errs)),
			    "@1 a|b|c;d\n@2 1|x,y|3\n");
	const char tab[] = "a\tb,c\tc\n1\t2\t3\n";
	assert_string_equal(dump_opts(tab, sizeof(tab) - 1, NULL, 0, errs, sizeof(errs)),
			    "@1 a|b,c|c\n@2 1|2|3\n");
	/* Separators inside quotes do not count; a tie keeps ','. */
	const char tie[] = "\"a;b;c\",d;e\n";
	assert_string_equal(dump_opts(tie, sizeof(tie) - 1, NULL, 0, errs, sizeof(errs)),
			    "@1 a;b;c|d;e\n");
	/* Forced: ',' on a ';' file gives one column, and the note says what to try. */
	struct diag d;
	const char plain[] = "a;b;c\n";
	struct csv_reader *r = csv_reader_new_mem(plain, sizeof(plain) - 1, "t.csv", &d);
	assert_int_equal(csv_reader_set_input(r, NULL, ',', &d), 0);
	struct csv_record rec;
	assert_int_equal(csv_read(r, &rec, &d), 1);
	assert_int_equal(rec.nfields, 1);
	char note[256];
	assert_int_equal(csv_reader_header_note(r, note, sizeof(note)), 1);
	assert_non_null(strstr(note, "split on ',' (--delimiter)"));
	assert_non_null(strstr(note, "pass --delimiter ';'"));
	csv_reader_delete(r);
	r = csv_reader_new_mem(semi, sizeof(semi) - 1, "t.csv", &d);
	assert_int_equal(csv_reader_set_input(r, NULL, '|', &d), -1);
	assert_int_equal(csv_reader_set_input(r, "no-such-charset", 0, &d), -1);
	assert_non_null(strstr(d.msg, "windows-1252"));
	assert_int_equal(csv_read(r, &rec, &d), 1);
	assert_int_equal(csv_reader_delimiter(r), ';');
	assert_int_equal(csv_reader_header_note(r, note, sizeof(note)), 0);
	csv_reader_delete(r);
}

static void
test_utf16_and_iconv(void **state)
{
	(void)state;
	char errs[1024];
	/* "a,\u00e9\n\U0001F600,b\n" as UTF-16 LE and BE with marks. */
	const char le[] = "\xFF\xFE" "a\0,\0\xE9\0\n\0" "\x3D\xD8\x00\xDE" ",\0b\0\n\0";
	const char be[] = "\xFE\xFF" "\0a\0,\0\xE9\0\n" "\xD8\x3D\xDE\x00" "\0,\0b\0\n";
	const char *want = "@1 a|\xC3\xA9\n@2 \xF0\x9F\x98\x80|b\n";
	assert_string_equal(dump_opts(le, sizeof(le) - 1, NULL, 0, errs, sizeof(errs)), want);
	assert_string_equal(errs, "");
	assert_string_equal(dump_opts(be, sizeof(be) - 1, NULL, 0, errs, sizeof(errs)), want);
	/* Without a mark: recognized by the NULs of an ASCII start, for readers set up as importers. */
	assert_string_equal(dump_opts(le + 2, sizeof(le) - 3, NULL, 0, errs, sizeof(errs)), want);
	assert_string_equal(dump_opts(be + 2, sizeof(be) - 3, NULL, 0, errs, sizeof(errs)), want);
	/* An unpaired low surrogate on line 2, third character: fatal, nothing read. */
	const char bad[] = "\xFF\xFE" "a\0\n\0" "x\0y\0\x00\xDC";
	assert_string_equal(dump_opts(bad, sizeof(bad) - 1, NULL, 0, errs, sizeof(errs)), "");
	assert_string_equal(errs, "t.csv:2:3: invalid UTF-16: unpaired low surrogate 0xDC00\n");
	const char odd[] = "\xFF\xFE" "a\0b";
	dump_opts(odd, sizeof(odd) - 1, NULL, 0, errs, sizeof(errs));
	assert_non_null(strstr(errs, "t.csv:1:2: invalid UTF-16: the file ends in the middle"));
	/* Windows-1252: a hint without --encoding, the text with it. */
	const char w[] = "n\nZo\xEB;\x80\n";
	dump_opts(w, sizeof(w) - 1, NULL, 0, errs, sizeof(errs));
	assert_string_equal(errs, "t.csv:2:1: invalid UTF-8 (byte 3 of the field); if the file is "
				  "Windows-1252 or Latin-1, pass --encoding windows-1252\n");
	assert_string_equal(dump_opts(w, sizeof(w) - 1, "windows-1252", ',', errs, sizeof(errs)),
			    "@1 n\n@2 Zo\xC3\xAB;\xE2\x82\xAC\n");
	/* 0x81 is not Windows-1252: no hint; through iconv it is an error at its place. */
	const char x[] = "n\n\x81\n";
	dump_opts(x, sizeof(x) - 1, NULL, 0, errs, sizeof(errs));
	assert_null(strstr(errs, "--encoding"));
	dump_opts(x, sizeof(x) - 1, "windows-1252", 0, errs, sizeof(errs));
	assert_string_equal(errs, "t.csv:2:1: byte 0x81 is not valid windows-1252\n");
	/* A UTF-8 mark with UTF-8 named: read as is. */
	const char u[] = "\xEF\xBB\xBF" "a,b\n";
	assert_string_equal(dump_opts(u, sizeof(u) - 1, "UTF-8", 0, errs, sizeof(errs)), "@1 a|b\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_records),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_errors_name_line_and_column),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_writer_quotes_only_when_needed),
		cmocka_unit_test(test_property_round_trip),
		cmocka_unit_test(test_file_blocks),
		cmocka_unit_test(test_speed_100k_rows),
		cmocka_unit_test(test_delimiters_detected_and_forced),
		cmocka_unit_test(test_utf16_and_iconv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

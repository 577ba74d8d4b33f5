/*
 * fuzz_csv: the CSV reader and writer (io/csv.h) on arbitrary bytes.
 *
 * Each input is read three ways, and what the reader returns is checked against its
 * contract rather than only for crashes:
 *  - from memory and from a FILE (fmemopen) with the default limits: both readers must
 *    return the same records, fields and messages, in the same order;
 *  - every record read is well formed: 1 <= nfields <= the limit, each field NUL-terminated
 *    inside the record's text block, as long as strlen says, valid UTF-8, starting on or
 *    after the record's line; an error names the file;
 *  - every record read is written back with csv_write_row and read again: the same fields
 *    come back (the writer's quoting contract);
 *  - from memory again with small limits derived from the input's length, so fields and
 *    records over the limits (and the resynchronization after them) are reached by short
 *    inputs; no field read may exceed them.
 * Every call of csv_read consumes input or ends it, so the number of calls is bounded by
 * the input's length: a reader that loops is caught as well.
 */
#include "fuzz.h"

#include "io/csv.h"

/* What one csv_read call gave, kept to compare two readers. */
struct csv_step {
	int rc;
	int line, nfields;
	char *flat; /* fields as len:line:quoted:text, or the diag message */
	size_t flatlen;
};

static char *
flatten(int rc, const struct csv_record *rec, const struct diag *d, size_t *len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&out, &n);
	FUZZ_CHECK(m != NULL);
	if (rc < 0) {
		fputs(d->msg, m);
	} else if (rc > 0) {
		for (int i = 0; i < rec->nfields; i++) {
			const struct csv_field *f = &rec->fields[i];
			fprintf(m, "%zu:%d:%d:", f->len, f->line, f->quoted);
			fwrite(f->s, 1, f->len, m);
		}
	}
	FUZZ_CHECK(fclose(m) == 0);
	*len = n;
	return out;
}

/* The record's own invariants (csv.h); max_field and max_fields are the reader's limits. */
static void
check_record(const struct csv_record *rec, size_t max_field, int max_fields)
{
	FUZZ_CHECK(rec->nfields >= 1 && rec->nfields <= max_fields);
	FUZZ_CHECK(rec->fields != NULL && rec->text != NULL);
	for (int i = 0; i < rec->nfields; i++) {
		const struct csv_field *f = &rec->fields[i];
		FUZZ_CHECK(f->s >= rec->text && f->s + f->len < rec->text + rec->textlen);
		FUZZ_CHECK(f->s[f->len] == '\0' && strlen(f->s) == f->len);
		FUZZ_CHECK(f->len <= max_field);
		FUZZ_CHECK(csv_utf8_valid(f->s, f->len, NULL));
		FUZZ_CHECK(f->line >= rec->line);
	}
}

/* Writes the record and reads it back: the same fields must come back. */
static void
check_round_trip(const struct csv_record *rec)
{
	/* A first field starting with a byte order mark would be taken for one when this record
	 * is the start of a file: the reader drops it, by contract. */
	if (rec->fields[0].len >= 3 && memcmp(rec->fields[0].s, "\xEF\xBB\xBF", 3) == 0)
		return;
	const char **v = malloc(sizeof(*v) * (size_t)rec->nfields);
	FUZZ_CHECK(v != NULL);
	for (int i = 0; i < rec->nfields; i++)
		v[i] = rec->fields[i].s;
	char *out = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&out, &n);
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(csv_write_row(m, v, rec->nfields) == 0);
	FUZZ_CHECK(fclose(m) == 0);
	free(v);

	struct diag d;
	struct csv_reader *r = csv_reader_new_mem(out, n, "rt.csv", &d);
	FUZZ_CHECK(r != NULL);
	struct csv_record back;
	FUZZ_CHECK(csv_read(r, &back, &d) == 1);
	FUZZ_CHECK(back.nfields == rec->nfields);
	for (int i = 0; i < rec->nfields; i++) {
		FUZZ_CHECK(back.fields[i].len == rec->fields[i].len);
		FUZZ_CHECK(memcmp(back.fields[i].s, rec->fields[i].s, rec->fields[i].len) == 0);
	}
	FUZZ_CHECK(csv_read(r, &back, &d) == 0);
	csv_reader_delete(r);
	free(out);
}

/* Reads everything from r; returns the steps (caller frees). */
static struct csv_step *
read_all(struct csv_reader *r, size_t size, size_t max_field, int max_fields, int *nsteps,
	 int round_trip)
{
	struct csv_step *steps = NULL;
	int n = 0, cap = 0;
	for (;;) {
		/* Each record or error consumes at least one byte: more calls than bytes is a loop. */
		FUZZ_CHECK((size_t)n <= size + 1);
		struct csv_record rec;
		struct diag d;
		diag_clear(&d);
		int rc = csv_read(r, &rec, &d);
		FUZZ_CHECK(rc >= -1 && rc <= 1);
		if (rc == 1) {
			check_record(&rec, max_field, max_fields);
			if (round_trip)
				check_round_trip(&rec);
		} else if (rc < 0) {
			FUZZ_CHECK(strncmp(d.msg, "fuzz.csv:", 9) == 0);
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			steps = realloc(steps, sizeof(*steps) * (size_t)cap);
			FUZZ_CHECK(steps != NULL);
		}
		steps[n].rc = rc;
		steps[n].line = rec.line;
		steps[n].nfields = rc == 1 ? rec.nfields : 0;
		steps[n].flat = flatten(rc, &rec, &d, &steps[n].flatlen);
		n++;
		if (rc == 0)
			break;
	}
	*nsteps = n;
	return steps;
}

static void
free_steps(struct csv_step *s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i].flat);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	const char *buf = (const char *)data;

	/* Default limits, from memory. */
	struct csv_reader *rm = csv_reader_new_mem(buf, size, "fuzz.csv", &d);
	FUZZ_CHECK(rm != NULL);
	int nm;
	struct csv_step *sm =
	    read_all(rm, size, CSV_MAX_FIELD_DEFAULT, CSV_MAX_FIELDS_DEFAULT, &nm, 1);
	csv_reader_delete(rm);

	/* The same bytes through a FILE: the same steps. */
	FILE *f = size ? fmemopen((void *)buf, size, "rb") : fopen("/dev/null", "rb");
	FUZZ_CHECK(f != NULL);
	struct csv_reader *rf = csv_reader_new_file(f, "fuzz.csv", &d);
	FUZZ_CHECK(rf != NULL);
	int nf;
	struct csv_step *sf =
	    read_all(rf, size, CSV_MAX_FIELD_DEFAULT, CSV_MAX_FIELDS_DEFAULT, &nf, 0);
	csv_reader_delete(rf);
	fclose(f);
	FUZZ_CHECK(nm == nf);
	for (int i = 0; i < nm; i++) {
		FUZZ_CHECK(sm[i].rc == sf[i].rc && sm[i].line == sf[i].line);
		FUZZ_CHECK(sm[i].nfields == sf[i].nfields);
		FUZZ_CHECK(sm[i].flatlen == sf[i].flatlen);
		FUZZ_CHECK(memcmp(sm[i].flat, sf[i].flat, sm[i].flatlen) == 0);
	}
	free_steps(sm, nm);
	free_steps(sf, nf);

	/* Small limits, so that short inputs reach them. */
	size_t max_field = 1 + size % 13;
	int max_fields = 1 + (int)(size % 5);
	struct csv_reader *rl = csv_reader_new_mem(buf, size, "fuzz.csv", &d);
	FUZZ_CHECK(rl != NULL);
	csv_reader_set_limits(rl, max_field, max_fields);
	int nl;
	struct csv_step *sl = read_all(rl, size, max_field, max_fields, &nl, 0);
	csv_reader_delete(rl);
	free_steps(sl, nl);
	return 0;
}

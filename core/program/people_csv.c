/*
 * people_csv: the reading half of a people import (see people_import.h): the header (with
 * --map renames), each row's cells trimmed and checked (e-mail, zone, level, birth year,
 * generation, hire date, status, lists converted to JSON arrays, unmapped columns into the
 * attributes object), ids and e-mails indexed to catch duplicates within the file, and the
 * error messages "FILE:LINE:COL: field: message" that every step of the import records.
 *
 * Called by people_import.c (people_read_all), and by the other steps for their errors.
 */
#include "program/people_import.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/pages.h"
#include "time/tz.h"

/* ---- fields ------------------------------------------------------------------------------ */

const char *const people_field_name[PF_COUNT] = {
	"id",       "name",       "email",      "title",     "level",  "department",
	"team",     "location",   "timezone",   "manager",   "birth_year", "generation",
	"hire_date", "status",    "skills",     "topics_wanted", "languages",
};

const char *const people_field_column[PF_COUNT] = {
	"external_id", "name",       "email",      "title",     "level",  "department",
	"team",        "location",   "timezone",   "manager_id", "birth_year", "generation",
	"hire_date",   "status",     "skills",     "topics_wanted", "languages",
};

const char *const people_generations[PEOPLE_NGENERATIONS] = {"baby_boomer", "gen_x",
								    "millennial", "gen_z"};
static const char *const people_statuses[] = {"active", "leave", "terminated"};

static int
pfield_lookup(const char *name)
{
	for (int f = 0; f < PF_COUNT; f++)
		if (strcasecmp(people_field_name[f], name) == 0)
			return f;
	return -1;
}

/* ---- errors ------------------------------------------------------------------------------ */

const char *
people_quote(const char *v, char *buf, size_t size)
{
	size_t n = strlen(v), max = 60;
	if (n <= max) {
		snprintf(buf, size, "%s", v);
		return buf;
	}
	while (max > 0 && ((unsigned char)v[max] & 0xC0) == 0x80)
		max--;
	snprintf(buf, size, "%.*s...", (int)max, v);
	return buf;
}

void
people_err_add(struct pimport *im, const char *msg)
{
	struct people_import_result *res = im->res;
	res->nerrors++;
	if (res->nkept >= PEOPLE_ERRORS_KEPT)
		return;
	if (res->errors == NULL) {
		res->errors = calloc(PEOPLE_ERRORS_KEPT, sizeof(char *));
		if (res->errors == NULL)
			return;
	}
	char *copy = strdup(msg);
	if (copy != NULL)
		res->errors[res->nkept++] = copy;
}

void
people_err(struct pimport *im, int line, int col, const char *field, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s:%d:%d: ", im->name, line, col > 0 ? col : 1);
	if (field != NULL)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s: ", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	people_err_add(im, msg);
}

/* Most records sit on one line; only those with line breaks in quoted fields store
 * per-field lines. */
int
people_fline(const struct prow *r, int f)
{
	return r->fline != NULL ? r->fline[f] : r->line;
}

/* A kept message and where it points, for sorting. */
struct people_err_pos {
	long line, col;
	int seq; /* arrival order, for ties */
	char *msg;
};

static int
people_err_cmp(const void *pa, const void *pb)
{
	const struct people_err_pos *a = pa, *b = pb;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

/* Messages are "FILE:LINE:COL: ..." with the same FILE, so the position is parsed once per
 * message into a key array, sorted, and the messages put back in order: qsort needs no
 * context beyond the elements (the file name's length used to live in a process global). */
int
people_err_sort(struct pimport *im, struct diag *d)
{
	int n = im->res->nkept;
	if (n < 2)
		return 0;
	struct people_err_pos *pos = malloc((size_t)n * sizeof(*pos));
	if (pos == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory sorting the errors");
	size_t skip = strlen(im->name) + 1;
	for (int i = 0; i < n; i++) {
		char *m = im->res->errors[i], *end;
		pos[i].msg = m;
		pos[i].seq = i;
		pos[i].line = pos[i].col = 0;
		if (strlen(m) > skip) {
			pos[i].line = strtol(m + skip, &end, 10);
			if (*end == ':')
				pos[i].col = strtol(end + 1, NULL, 10);
		}
	}
	qsort(pos, (size_t)n, sizeof(*pos), people_err_cmp);
	for (int i = 0; i < n; i++)
		im->res->errors[i] = pos[i].msg;
	free(pos);
	return 0;
}

/* ---- value checks ------------------------------------------------------------------------ */

static int
people_email_valid(const char *s)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (n > 254 || at == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	size_t local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.')
		return 0;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80 || isalnum(c))
			continue;
		if (strchr(".!#$%&'*+/=?^_`{|}~-", c) == NULL || (c == '.' && p[1] == '.'))
			return 0;
	}
	/* The domain: two or more dot-separated labels of letters, digits and inner hyphens. */
	const char *label = at + 1;
	int labels = 0;
	for (;;) {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);
		if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
			return 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)label[i];
			if (!(c >= 0x80 || isalnum(c) || c == '-'))
				return 0;
		}
		labels++;
		if (dot == NULL)
			break;
		label = dot + 1;
	}
	return labels >= 2;
}

/* Parses a whole decimal number in [min, max]; 0 on success. */
static int
people_parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max || !isdigit((unsigned char)s[0]))
		return -1;
	*out = (int)v;
	return 0;
}

static int
people_one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return (int)i;
	return -1;
}

int
people_generation_of(int year)
{
	if (year <= 1964)
		return 0;
	if (year <= 1980)
		return 1;
	if (year <= 1996)
		return 2;
	return 3;
}

/* "a; b;;c " -> ["a","b","c"] as JSON text in the arena. */
static const char *
people_list_convert(struct pimport *im, const char *s)
{
	json_t *arr = json_array();
	const char *p = s;
	while (arr != NULL && *p) {
		const char *semi = strchr(p, ';');
		const char *end = semi ? semi : p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a)
			json_array_append_new(arr, json_stringn(a, (size_t)(b - a)));
		p = semi ? semi + 1 : end;
	}
	char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (text == NULL)
		return NULL;
	const char *out = arena_strndup(&im->arena, text, strlen(text), NULL);
	free(text);
	return out;
}

/* Lists repeat a lot across people (same skills, same languages): convert each once. */
static const char *
people_list_to_json(struct pimport *im, const char *s)
{
	int k = people_map_get(&im->lists, s);
	if (k >= 0)
		return im->list_json[k];
	const char *json = people_list_convert(im, s);
	if (json == NULL)
		return NULL;
	if (im->nlist == im->caplist) {
		int cap = im->caplist ? im->caplist * 2 : 256;
		const char **p = realloc(im->list_json, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return json; /* just not cached */
		im->list_json = p;
		im->caplist = cap;
	}
	if (people_map_put(&im->lists, s, im->nlist) == -1)
		im->list_json[im->nlist++] = json;
	return json;
}

/* tz_valid is cached already, but behind a mutex; an import asks 100k times about a few zones. */
static int
people_zone_valid(struct pimport *im, const char *zone)
{
	int v = people_map_get(&im->zones, zone);
	if (v >= 0)
		return v;
	v = tz_valid(zone);
	people_map_put(&im->zones, zone, v);
	return v;
}

void
people_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- header ------------------------------------------------------------------------------ */

static int
people_apply_maps(struct pimport *im)
{
	int ok = 1;
	for (int i = 0; i < im->o->nmap; i++) {
		const char *m = im->o->map[i];
		const char *eq = strrchr(m, '=');
		if (eq == NULL || eq == m || eq[1] == '\0') {
			people_err(im, 1, 1, NULL, "--map '%s': expected COLUMN=FIELD", m);
			ok = 0;
			continue;
		}
		int col = -1;
		for (int c = 0; c < im->ncols; c++)
			if (strlen(im->colname[c]) == (size_t)(eq - m) &&
			    strncasecmp(im->colname[c], m, (size_t)(eq - m)) == 0)
				col = c;
		if (col < 0) {
			people_err(im, 1, 1, NULL, "--map '%s': no column '%.*s' in the header", m,
			     (int)(eq - m), m);
			ok = 0;
			continue;
		}
		int f = pfield_lookup(eq + 1);
		if (f < 0) {
			people_err(im, 1, col + 1, NULL,
			     "--map '%s': '%s' is not a person field (id, name, email, title, level, "
			     "department, team, location, timezone, manager, birth_year, generation, "
			     "hire_date, status, skills, topics_wanted, languages)",
			     m, eq + 1);
			ok = 0;
			continue;
		}
		im->colfield[col] = f;
	}
	return ok;
}

static int
people_read_header(struct pimport *im, struct csv_reader *r, struct diag *d)
{
	struct csv_record rec;
	struct diag cd;
	int rc = csv_read(r, &rec, &cd);
	if (rc == 0) {
		people_err(im, 1, 1, NULL, "empty file: expected a header line such as "
				     "id,name,email,timezone,...");
		return -1;
	}
	if (rc < 0) {
		people_err_add(im, cd.msg);
		return -1;
	}
	im->ncols = rec.nfields;
	im->colfield = malloc((size_t)rec.nfields * sizeof(int));
	im->colname = malloc((size_t)rec.nfields * sizeof(char *));
	if (im->colfield == NULL || im->colname == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int c = 0; c < rec.nfields; c++) {
		const char *s = rec.fields[c].s, *e = s + rec.fields[c].len;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		im->colname[c] = arena_strndup(&im->arena, s, (size_t)(e - s), NULL);
		if (im->colname[c] == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		/* A header cell left empty (a trailing comma) names nothing: its column is ignored. */
		im->colfield[c] = e == s ? -2 : pfield_lookup(im->colname[c]);
	}
	int ok = people_apply_maps(im);
	for (int f = 0; f < PF_COUNT; f++)
		im->fieldcol[f] = -1;
	for (int c = 0; c < im->ncols; c++) {
		int f = im->colfield[c];
		if (f == -1)
			im->nattr++;
		if (f < 0)
			continue;
		if (im->fieldcol[f] >= 0) {
			people_err(im, 1, c + 1, NULL, "column '%s': field '%s' already comes from column %d",
			     im->colname[c], people_field_name[f], im->fieldcol[f] + 1);
			ok = 0;
			continue;
		}
		im->fieldcol[f] = c;
	}
	static const int required[] = {PF_ID, PF_NAME, PF_EMAIL, PF_TIMEZONE};
	/* A wrong separator shows as missing columns: the first such error says which was used. */
	char note[256];
	int noted = !csv_reader_header_note(r, note, sizeof(note));
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (im->fieldcol[required[i]] < 0) {
			people_err(im, 1, 1, NULL, "missing required column '%s' (use --map COLUMN=%s "
					     "if the file names it differently)%s%s",
			     people_field_name[required[i]], people_field_name[required[i]],
			     noted ? "" : "; ", noted ? "" : note);
			noted = 1;
			ok = 0;
		}
	return ok ? 0 : -1;
}

/* ---- rows -------------------------------------------------------------------------------- */

int
people_reserve_rows(struct pimport *im, size_t cap)
{
	if (cap > INT_MAX)
		return -1;
	struct prow *p = pages_alloc(cap * sizeof(*p));
	if (p == NULL)
		return -1;
	if (im->rows != NULL)
		memcpy(p, im->rows, (size_t)im->nrows * sizeof(*p));
	pages_free(im->rows, (size_t)im->caprows * sizeof(*p));
	im->rows = p;
	im->caprows = (int)cap;
	return 0;
}

static struct prow *
people_new_row(struct pimport *im, int line)
{
	if (im->nrows == im->caprows &&
	    people_reserve_rows(im, im->caprows ? (size_t)im->caprows * 2 : 1024) != 0)
		return NULL;
	/* Rows past nrows are still zero (pages_alloc), so no memset of 180 bytes per row. */
	struct prow *r = &im->rows[im->nrows++];
	r->line = line;
	r->mgr = -1;
	return r;
}

/* Checks one field of a row and stores its normalized value; 0 or -1 (error recorded). */
static int
people_check_field(struct pimport *im, struct prow *r, int f, char *v)
{
	char q[128];
	int n;
	switch (f) {
	case PF_EMAIL:
		if (!people_email_valid(v)) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not a valid e-mail address", people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_TIMEZONE:
		if (!people_zone_valid(im, v)) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not an IANA time zone (such as Europe/Paris or UTC)",
			       people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_LEVEL:
		if (people_parse_int(v, 1, 9, &n) != 0) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not a whole number from 1 to 9", people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_BIRTH_YEAR:
		if (people_parse_int(v, 1900, im->this_year, &n) != 0) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not a year from 1900 to %d", people_quote(v, q, sizeof(q)),
			       im->this_year);
			return -1;
		}
		break;
	case PF_GENERATION:
		people_lower(v);
		if (people_one_of(v, people_generations, PEOPLE_NGENERATIONS) < 0) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not one of baby_boomer, gen_x, millennial, gen_z",
			       people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_HIRE_DATE:
		if (!tz_date_valid(v)) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not a valid date written YYYY-MM-DD",
				     people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_STATUS:
		people_lower(v);
		if (people_one_of(v, people_statuses, 3) < 0) {
			PEOPLE_ERR_F(im, r, f, "'%s' is not one of active, leave, terminated",
			       people_quote(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_SKILLS:
	case PF_TOPICS:
	case PF_LANGUAGES:
		if ((r->v[f] = people_list_to_json(im, v)) == NULL)
			return -1;
		return 0;
	default:
		break;
	}
	r->v[f] = v;
	return 0;
}

/* Registers the row's id and e-mail, reporting duplicates within the file. */
static int
people_index_row(struct pimport *im, struct prow *r, int idx, struct diag *d)
{
	char q[128];
	if (r->v[PF_ID] != NULL) {
		int prev = people_map_put(&im->ids, r->v[PF_ID], idx);
		if (prev == -2)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		if (prev >= 0)
			PEOPLE_ERR_F(im, r, PF_ID, "duplicate id '%s' (also on line %d)",
			       people_quote(r->v[PF_ID], q, sizeof(q)), people_fline(&im->rows[prev], PF_ID));
	}
	if (r->v[PF_EMAIL] != NULL && !r->damaged) {
		char *key = arena_strndup(&im->arena, r->v[PF_EMAIL], strlen(r->v[PF_EMAIL]), NULL);
		if (key == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		people_lower(key);
		int prev = people_map_put(&im->emails, key, idx);
		if (prev == -2)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		if (prev >= 0)
			PEOPLE_ERR_F(im, r, PF_EMAIL, "'%s' is already the e-mail of id '%s' (line %d)",
			       people_quote(r->v[PF_EMAIL], q, sizeof(q)),
			       im->rows[prev].v[PF_ID] ? im->rows[prev].v[PF_ID] : "?",
			       im->rows[prev].line);
	}
	return 0;
}

/* Builds the attributes object from the unmapped columns' non-empty cells. */
static int
people_row_attrs(struct pimport *im, struct prow *r, const struct csv_record *rec)
{
	json_t *obj = NULL;
	for (int c = 0; c < im->ncols && c < rec->nfields; c++) {
		if (im->colfield[c] != -1)
			continue;
		const char *s = rec->fields[c].s, *e = s + rec->fields[c].len;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e)
			continue;
		if (obj == NULL && (obj = json_object()) == NULL)
			return -1;
		json_object_set_new(obj, im->colname[c], json_stringn(s, (size_t)(e - s)));
	}
	if (obj == NULL)
		return 0;
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (text == NULL)
		return -1;
	r->attrs = arena_strndup(&im->arena, text, strlen(text), NULL);
	free(text);
	return r->attrs ? 0 : -1;
}

static int
people_read_row(struct pimport *im, const struct csv_record *rec, struct diag *d)
{
	struct prow *r = people_new_row(im, rec->line);
	if (r == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int idx = im->nrows - 1;
	if (rec->nfields != im->ncols)
		people_err(im, rec->line, rec->nfields < im->ncols ? rec->nfields + 1 : im->ncols + 1, NULL,
		     "the record has %d fields, the header has %d", rec->nfields, im->ncols);
	if (rec->nfields > 0 && rec->fields[rec->nfields - 1].line != rec->line) {
		r->fline = arena_alloc(&im->arena, PF_COUNT * sizeof(int), NULL);
		if (r->fline == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		for (int f = 0; f < PF_COUNT; f++) {
			int c = im->fieldcol[f];
			r->fline[f] = c >= 0 && c < rec->nfields ? rec->fields[c].line : rec->line;
		}
	}
	/* The row keeps its cells: one copy of the record's packed text, trimmed in place. */
	char *text = arena_alloc_text(&im->arena, rec->textlen, NULL);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	memcpy(text, rec->text, rec->textlen);
	for (int f = 0; f < PF_COUNT; f++) {
		int c = im->fieldcol[f];
		if (c < 0 || c >= rec->nfields)
			continue;
		char *v = text + (rec->fields[c].s - rec->text), *e = v + rec->fields[c].len;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (v == e)
			continue;
		*e = '\0';
		people_check_field(im, r, f, v);
	}
	static const int required[] = {PF_ID, PF_NAME, PF_EMAIL, PF_TIMEZONE};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		int f = required[i];
		/* A present but invalid value was reported already; only report real absence. */
		int c = im->fieldcol[f];
		if (r->v[f] == NULL && (c >= rec->nfields || rec->fields[c].len == 0 ||
					strspn(rec->fields[c].s, " \t") == rec->fields[c].len))
			PEOPLE_ERR_F(im, r, f, "missing (required)");
	}
	if (r->v[PF_GENERATION] == NULL && r->v[PF_BIRTH_YEAR] != NULL)
		r->v[PF_GENERATION] = people_generations[people_generation_of(atoi(r->v[PF_BIRTH_YEAR]))];
	if (im->nattr > 0 && people_row_attrs(im, r, rec) != 0)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return people_index_row(im, r, idx, d);
}

/* A record the CSV reader rejected: keep its id (if readable) so managers still resolve. */
static int
people_damaged_row(struct pimport *im, const struct csv_record *rec, struct diag *d)
{
	struct prow *r = people_new_row(im, rec->line);
	if (r == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	r->damaged = 1;
	int c = im->fieldcol[PF_ID];
	if (c >= 0 && c < rec->nfields && rec->fields != NULL && rec->fields[c].len > 0) {
		r->v[PF_ID] = arena_strndup(&im->arena, rec->fields[c].s, rec->fields[c].len, NULL);
		if (r->v[PF_ID] == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	return people_index_row(im, r, im->nrows - 1, d);
}

/* ---- the whole file ---------------------------------------------------------------------- */

int
people_read_all(struct pimport *im, struct csv_reader *r, struct diag *d)
{
	if (people_read_header(im, r, d) != 0)
		return d->code != DIAG_OK ? -1 : 0;
	struct csv_record rec;
	struct diag cd;
	int rc;
	while ((rc = csv_read(r, &rec, &cd)) != 0) {
		if (rc < 0) {
			people_err_add(im, cd.msg);
			if (cd.code == DIAG_IO)
				return diag_set(d, DIAG_IO, "%s", cd.msg);
			if (people_damaged_row(im, &rec, d) != 0)
				return -1;
			continue;
		}
		if (people_read_row(im, &rec, d) != 0)
			return -1;
	}
	if (im->nrows == 0 && im->res->nerrors == 0)
		people_err(im, 2, 1, NULL, "no people: the file has a header but no rows");
	return 0;
}


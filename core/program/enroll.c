/*
 * enroll: all-or-nothing import of enrollments. See enroll.h for the contract.
 *
 * Two passes: validate every record into memory (resolving people, collecting
 * every error), then, only if there was none and it is not a dry run, write
 * everything in one transaction.
 */
#include "program/enroll.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "io/csv.h"
#include "events/events.h"
#include "store/stmt.h"
#include "store/store.h"

enum efield {
	EF_PERSON,
	EF_ROLE,
	EF_CAPACITY,
	EF_OFFERED,
	EF_WANTED,
	EF_AVAIL,
	EF_CONSENT,
	EF_LEADERBOARD, /* optional: leaderboard consent, default no */
	EF_COUNT
};

static const char *const field_names[EF_COUNT] = {
    "person", "role", "capacity", "topics_offered", "topics_wanted", "availability", "consent",
    "leaderboard",
};

struct row {
	int64_t person;
	int line;
	char role[8];
	int capacity, consent, leaderboard;
	char *offered, *wanted, *avail, *attrs; /* JSON text */
	int exists;				/* already enrolled: an update */
};

struct imp {
	struct store *st;
	int64_t program_id;
	const char *name;
	const struct enroll_opts *o;
	struct enroll_result *res;
	struct csv_reader *rd; /* for the separator note on a header without required columns */
	int col_of[EF_COUNT]; /* column index per field, -1 = absent */
	int nheader;
	char **header; /* column names as written */
	int *is_field; /* per column: field index or -1 (attribute) */
	struct row *rows;
	int nrows, caprows;
	struct stmt find, exists;
	/* person id -> line of its first row, open addressing (0 = empty slot) */
	int64_t *seen_id;
	int *seen_line;
	size_t nseen, capseen;
	char **unknown; /* undeclared topics seen, one warning each */
	int *unknown_rows;
	int nunknown;
};

/* The line where PERSON was first seen, or 0 after recording LINE for it. */
static int
seen_before(struct imp *im, int64_t person, int line)
{
	if ((im->nseen + 1) * 2 > im->capseen) {
		size_t nc = im->capseen ? im->capseen * 2 : 1024;
		int64_t *ids = calloc(nc, sizeof(int64_t));
		int *lines = calloc(nc, sizeof(int));
		if (!ids || !lines) {
			free(ids);
			free(lines);
			return 0;
		}
		for (size_t i = 0; i < im->capseen; i++) {
			if (im->seen_id[i] == 0)
				continue;
			size_t h = (size_t)im->seen_id[i] * 0x9E3779B97F4A7C15ull & (nc - 1);
			while (ids[h])
				h = (h + 1) & (nc - 1);
			ids[h] = im->seen_id[i];
			lines[h] = im->seen_line[i];
		}
		free(im->seen_id);
		free(im->seen_line);
		im->seen_id = ids;
		im->seen_line = lines;
		im->capseen = nc;
	}
	size_t h = (size_t)person * 0x9E3779B97F4A7C15ull & (im->capseen - 1);
	while (im->seen_id[h]) {
		if (im->seen_id[h] == person)
			return im->seen_line[h];
		h = (h + 1) & (im->capseen - 1);
	}
	im->seen_id[h] = person;
	im->seen_line[h] = line;
	im->nseen++;
	return 0;
}

static int
push_msg(char ***arr, int *n, const char *msg)
{
	char **q = realloc(*arr, (size_t)(*n + 1) * sizeof(char *));
	if (q == NULL)
		return -1;
	*arr = q;
	q[*n] = strdup(msg);
	if (q[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void rec_error(struct imp *im, int line, int col, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
rec_error(struct imp *im, int line, int col, const char *field, const char *fmt, ...)
{
	im->res->nerrors++;
	if (im->res->nkept >= ENROLL_ERRORS_KEPT)
		return;
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s:%d:%d: %s%s", im->name, line, col > 0 ? col : 1,
			 field ? field : "", field ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(msg)) /* a very long file name: keep the prefix */
		n = (int)sizeof(msg) - 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	push_msg(&im->res->errors, &im->res->nkept, msg);
}

/* Trimmed copy of a cell. */
static char *
trim_dup(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strndup(s, n);
}

int
enroll_parse_consent(const char *s)
{
	static const char *const yes[] = {"yes", "true", "1", "y"};
	static const char *const no[] = {"no", "false", "0", "n"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
enroll_valid_slot(const char *s)
{
	static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	static const char *const parts[] = {"am", "pm", "eve"};
	const char *dash = strchr(s, '-');
	if (dash == NULL || dash - s != 3)
		return 0;
	int okd = 0, okp = 0;
	for (size_t i = 0; i < 7; i++)
		okd |= strncasecmp(s, days[i], 3) == 0;
	for (size_t i = 0; i < 3; i++)
		okp |= strcasecmp(dash + 1, parts[i]) == 0;
	return okd && okp;
}

static int
topic_declared(const struct enroll_opts *o, const char *t)
{
	for (int i = 0; i < o->ntopics; i++)
		if (strcmp(o->topics[i], t) == 0)
			return 1;
	return 0;
}

/*
 * One warning per distinct undeclared topic, naming where it first appears;
 * the row count is appended when the import ends (finish_warnings).
 */
static void
note_unknown_topic(struct imp *im, const char *topic, int line, int col, enum efield f)
{
	for (int i = 0; i < im->nunknown; i++)
		if (strcmp(im->unknown[i], topic) == 0) {
			im->unknown_rows[i]++;
			return;
		}
	if (im->nunknown >= ENROLL_ERRORS_KEPT)
		return;
	char **u = realloc(im->unknown, (size_t)(im->nunknown + 1) * sizeof(char *));
	int *r = realloc(im->unknown_rows, (size_t)(im->nunknown + 1) * sizeof(int));
	if (u)
		im->unknown = u;
	if (r)
		im->unknown_rows = r;
	if (!u || !r)
		return;
	char msg[512];
	snprintf(msg, sizeof(msg), "%s:%d:%d: %s: topic '%s' is not declared by the program",
		 im->name, line, col, field_names[f], topic);
	if (push_msg(&im->res->warnings, &im->res->nwarnings, msg) < 0)
		return;
	im->unknown[im->nunknown] = strdup(topic);
	im->unknown_rows[im->nunknown++] = 1;
}

static void
finish_warnings(struct imp *im)
{
	for (int i = 0; i < im->nunknown && i < im->res->nwarnings; i++) {
		char msg[640];
		snprintf(msg, sizeof(msg), "%s (%d cell%s; accepted)", im->res->warnings[i],
			 im->unknown_rows[i], im->unknown_rows[i] == 1 ? "" : "s");
		free(im->res->warnings[i]);
		im->res->warnings[i] = strdup(msg);
		free(im->unknown[i]);
	}
	free(im->unknown);
	free(im->unknown_rows);
	im->unknown = NULL;
	im->unknown_rows = NULL;
	im->nunknown = 0;
}

/*
 * A ';'-separated list cell as a JSON array text. Items are trimmed and
 * deduplicated; slots are validated and lower-cased; topics not declared by the
 * program produce a warning.
 */
static char *
parse_list(struct imp *im, const char *cell, int line, int col, enum efield f)
{
	json_t *arr = json_array();
	char *copy = strdup(cell);
	char *save = NULL;
	int bad = 0;
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *item = trim_dup(tok);
		if (item[0] == '\0') {
			free(item);
			continue;
		}
		if (f == EF_AVAIL) {
			for (char *p = item; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!enroll_valid_slot(item)) {
				rec_error(im, line, col, field_names[f],
					  "bad slot '%s' (expected DAY-PART: mon..sun, am|pm|eve, "
					  "e.g. mon-am)",
					  item);
				bad = 1;
			}
		} else if (im->o->ntopics > 0 && !topic_declared(im->o, item)) {
			note_unknown_topic(im, item, line, col, f);
		}
		int dup = 0;
		for (size_t i = 0; i < json_array_size(arr); i++)
			dup |= strcmp(json_string_value(json_array_get(arr, i)), item) == 0;
		if (!dup)
			json_array_append_new(arr, json_string(item));
		free(item);
	}
	free(copy);
	char *text = bad ? NULL : json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text ? text : strdup("[]");
}

/* ---- header ----------------------------------------------------------------------------- */

static int
field_index(const char *name)
{
	for (int f = 0; f < EF_COUNT; f++)
		if (strcasecmp(name, field_names[f]) == 0)
			return f;
	return -1;
}

static int
read_header(struct imp *im, const struct csv_record *rec)
{
	im->nheader = rec->nfields;
	im->header = calloc((size_t)rec->nfields + 1, sizeof(char *));
	im->is_field = calloc((size_t)rec->nfields + 1, sizeof(int));
	if (!im->header || !im->is_field)
		return -1;
	for (int f = 0; f < EF_COUNT; f++)
		im->col_of[f] = -1;
	for (int i = 0; i < rec->nfields; i++) {
		im->header[i] = trim_dup(rec->fields[i].s);
		im->is_field[i] = field_index(im->header[i]);
	}
	/* --map COLUMN=FIELD renames a header column. */
	for (int k = 0; k < im->o->nmap; k++) {
		const char *m = im->o->map[k];
		const char *eq = strchr(m, '=');
		if (eq == NULL || eq == m || eq[1] == '\0') {
			rec_error(im, rec->line, 1, NULL, "--map '%s': expected COLUMN=FIELD", m);
			continue;
		}
		int f = field_index(eq + 1);
		if (f < 0) {
			rec_error(
			    im, rec->line, 1, NULL,
			    "--map '%s': '%s' is not an enrollment field (person, role, capacity, "
			    "topics_offered, topics_wanted, availability, consent, leaderboard)",
			    m, eq + 1);
			continue;
		}
		int found = 0;
		for (int i = 0; i < im->nheader; i++) {
			if (strlen(im->header[i]) == (size_t)(eq - m) &&
			    strncasecmp(im->header[i], m, (size_t)(eq - m)) == 0) {
				im->is_field[i] = f;
				found = 1;
			}
		}
		if (!found)
			rec_error(im, rec->line, 1, NULL,
				  "--map '%s': no column '%.*s' in the header", m, (int)(eq - m),
				  m);
	}
	for (int i = 0; i < im->nheader; i++) {
		int f = im->is_field[i];
		if (f < 0)
			continue;
		if (im->col_of[f] >= 0)
			rec_error(im, rec->line, i + 1, field_names[f],
				  "column given twice (columns %d and %d)", im->col_of[f] + 1,
				  i + 1);
		else
			im->col_of[f] = i;
	}
	static const enum efield required[] = {EF_PERSON, EF_ROLE, EF_CONSENT};
	/* A wrong separator shows as missing columns: the first such error says which was used. */
	char note[256];
	int noted = !csv_reader_header_note(im->rd, note, sizeof(note));
	for (size_t k = 0; k < 3; k++)
		if (im->col_of[required[k]] < 0) {
			rec_error(im, rec->line, 1, NULL,
				  "missing required column '%s' (use --map COLUMN=%s to rename one)%s%s",
				  field_names[required[k]], field_names[required[k]],
				  noted ? "" : "; ", noted ? "" : note);
			noted = 1;
		}
	return 0;
}

/* ---- records ---------------------------------------------------------------------------- */

static const char *
cell(const struct imp *im, const struct csv_record *rec, enum efield f)
{
	int c = im->col_of[f];
	return c >= 0 && c < rec->nfields ? rec->fields[c].s : "";
}

/* Resolves a person; 1 found (active), 0 reported. */
static int
resolve_person(struct imp *im, const char *key, int line, int col, int64_t *id)
{
	struct stmt *s = &im->find;
	struct diag sd;
	int rc = stmt_bind_text(s, 1, key, &sd) ? -1 : stmt_step(s, &sd);
	const char *status = NULL;
	if (rc == STMT_ROW) {
		*id = stmt_int64(s, 0);
		if (stmt_text(s, 1, &status, &sd) != 0)
			rc = -1;
	}
	int found = 0;
	if (rc == STMT_ROW) {
		/* On leave is fine (they may be matched when back); terminated is not. */
		if (status != NULL && strcmp(status, "terminated") == 0)
			rec_error(im, line, col, "person",
				  "'%s' has left the organization (status %s)", key, status);
		else
			found = 1;
	} else if (rc == STMT_DONE) {
		rec_error(im, line, col, "person",
			  "unknown person '%s' (not an id or e-mail in the "
			  "database; import people first)",
			  key);
	}
	/* After a failed step, reset repeats its error: sd already holds it. */
	if (stmt_reset(s, rc < 0 ? NULL : &sd) != 0)
		rc = -1;
	if (rc < 0) {
		rec_error(im, line, col, "person", "database error: %s", sd.msg);
		found = 0;
	}
	return found;
}

/* Is the person enrolled in the program already? 1 yes, 0 no, -1 database error (reported). */
static int
already_enrolled(struct imp *im, int64_t person, int line)
{
	struct stmt *s = &im->exists;
	struct diag sd;
	int rc = stmt_bind_int64(s, 1, im->program_id, &sd) || stmt_bind_int64(s, 2, person, &sd)
			 ? -1
			 : stmt_step(s, &sd);
	if (stmt_reset(s, rc < 0 ? NULL : &sd) != 0)
		rc = -1;
	if (rc < 0)
		rec_error(im, line, 1, NULL, "database error: %s", sd.msg);
	return rc;
}

static void
row_fini(struct row *r)
{
	free(r->offered);
	free(r->wanted);
	free(r->avail);
	free(r->attrs);
}

static void
read_record(struct imp *im, const struct csv_record *rec)
{
	im->res->total++;
	int errs = (int)im->res->nerrors;
	if (rec->nfields != im->nheader) {
		/* Point at the first missing or extra field, as people imports do. The
		 * other cells are misaligned, so checking them would only add noise
		 * ("consent: empty" for a record that merely lost a comma). */
		rec_error(im, rec->line,
			  (rec->nfields < im->nheader ? rec->nfields : im->nheader) + 1, NULL,
			  "the record has %d field%s, the header has %d", rec->nfields,
			  rec->nfields == 1 ? "" : "s", im->nheader);
		return;
	}
	struct row r = {.line = rec->line, .capacity = 1};
	int col;

	char *person = trim_dup(cell(im, rec, EF_PERSON));
	col = im->col_of[EF_PERSON] + 1;
	if (person[0] == '\0')
		rec_error(im, rec->line, col, "person", "empty (expected an id or e-mail)");
	else if (resolve_person(im, person, rec->line, col, &r.person)) {
		int first = seen_before(im, r.person, rec->line);
		if (first)
			rec_error(im, rec->line, col, "person",
				  "'%s' is enrolled twice (first on line %d)", person, first);
	}

	char *role = trim_dup(cell(im, rec, EF_ROLE));
	col = im->col_of[EF_ROLE] + 1;
	for (char *p = role; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(role, "mentor") && strcmp(role, "mentee") && strcmp(role, "both"))
		rec_error(im, rec->line, col, "role", "'%s' is not mentor, mentee or both", role);
	else
		snprintf(r.role, sizeof(r.role), "%s", role);

	char *cap = trim_dup(cell(im, rec, EF_CAPACITY));
	if (cap[0]) {
		char *end;
		errno = 0;
		long v = strtol(cap, &end, 10);
		if (errno || *end || v < 0 || v > 1000)
			rec_error(im, rec->line, im->col_of[EF_CAPACITY] + 1, "capacity",
				  "'%s' is not an integer in 0..1000", cap);
		else
			r.capacity = (int)v;
	}

	char *consent = trim_dup(cell(im, rec, EF_CONSENT));
	col = im->col_of[EF_CONSENT] + 1;
	r.consent = enroll_parse_consent(consent);
	if (consent[0] == '\0')
		rec_error(im, rec->line, col, "consent", "empty (expected yes or no)");
	else if (r.consent < 0)
		rec_error(im, rec->line, col, "consent", "'%s' is not yes/no/true/false/1/0",
			  consent);

	/* Leaderboard consent: optional, empty or absent is no. */
	char *board = trim_dup(cell(im, rec, EF_LEADERBOARD));
	if (board[0] != '\0') {
		r.leaderboard = enroll_parse_consent(board);
		if (r.leaderboard < 0)
			rec_error(im, rec->line, im->col_of[EF_LEADERBOARD] + 1, "leaderboard",
				  "'%s' is not yes/no/true/false/1/0", board);
	}
	free(board);

	r.offered = parse_list(im, cell(im, rec, EF_OFFERED), rec->line, im->col_of[EF_OFFERED] + 1,
			       EF_OFFERED);
	r.wanted = parse_list(im, cell(im, rec, EF_WANTED), rec->line, im->col_of[EF_WANTED] + 1,
			      EF_WANTED);
	r.avail =
	    parse_list(im, cell(im, rec, EF_AVAIL), rec->line, im->col_of[EF_AVAIL] + 1, EF_AVAIL);
	json_t *attrs = json_object();
	for (int i = 0; i < im->nheader && i < rec->nfields; i++) {
		if (im->is_field[i] >= 0 || im->header[i][0] == '\0')
			continue;
		char *v = trim_dup(rec->fields[i].s);
		if (v[0])
			json_object_set_new(attrs, im->header[i], json_string(v));
		free(v);
	}
	r.attrs = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(attrs);
	free(person);
	free(role);
	free(cap);
	free(consent);

	if (im->res->nerrors > errs) {
		row_fini(&r);
		return;
	}
	if ((r.exists = already_enrolled(im, r.person, rec->line)) < 0) {
		row_fini(&r);
		return;
	}
	if (im->nrows == im->caprows) {
		int nc = im->caprows ? im->caprows * 2 : 256;
		struct row *q = realloc(im->rows, (size_t)nc * sizeof(*q));
		if (q == NULL) {
			rec_error(im, rec->line, 1, NULL, "out of memory");
			row_fini(&r);
			return;
		}
		im->rows = q;
		im->caprows = nc;
	}
	im->rows[im->nrows++] = r;
	im->res->created += !r.exists;
	im->res->updated += r.exists;
	im->res->mentors += strcmp(r.role, "mentee") != 0;
	im->res->mentees += strcmp(r.role, "mentor") != 0;
}

/* ---- writing ------------------------------------------------------------------------- */

static int
write_rows(struct imp *im, struct diag *d)
{
	if (store_begin(im->st, d) < 0)
		return -1;
	char now[STORE_TIME_MAX];
	struct stmt s = {0};
	if (store_timestamp(im->st, now) != 0) {
		diag_set(d, DIAG_INTERNAL, "the clock's time cannot be written as a date");
		goto fail;
	}
	if (stmt_prepare(
		&s, im->st, "writing the enrollment",
		"INSERT INTO enrollments (program_id, person_id, role, capacity, topics_offered, "
		"topics_wanted, availability, consent, attributes, created_at, leaderboard) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"ON CONFLICT (program_id, person_id) DO UPDATE SET role = excluded.role, "
		"capacity = excluded.capacity, topics_offered = excluded.topics_offered, "
		"topics_wanted = excluded.topics_wanted, availability = excluded.availability, "
		"consent = excluded.consent, attributes = excluded.attributes, "
		/* Without the column, a re-import keeps the leaderboard consent it had. */
		"leaderboard = CASE WHEN ?12 THEN excluded.leaderboard ELSE leaderboard END",
		d) != 0)
		goto fail;
	for (int i = 0; i < im->nrows; i++) {
		const struct row *r = &im->rows[i];
		if (stmt_bind_int64(&s, 1, im->program_id, d) || stmt_bind_int64(&s, 2, r->person, d) ||
		    stmt_bind_text(&s, 3, r->role, d) || stmt_bind_int64(&s, 4, r->capacity, d) ||
		    stmt_bind_text(&s, 5, r->offered, d) || stmt_bind_text(&s, 6, r->wanted, d) ||
		    stmt_bind_text(&s, 7, r->avail, d) || stmt_bind_int64(&s, 8, r->consent, d) ||
		    stmt_bind_text(&s, 9, r->attrs, d) || stmt_bind_text(&s, 10, now, d) ||
		    stmt_bind_int64(&s, 11, r->leaderboard, d) ||
		    stmt_bind_int64(&s, 12, im->col_of[EF_LEADERBOARD] >= 0, d) ||
		    stmt_run(&s, d)) {
			diag_prefix(d, "%s:%d", im->name, r->line);
			goto fail;
		}
	}
	stmt_finalize(&s);
	json_t *payload = json_pack(
	    "{s:s, s:I, s:I, s:I}", "file", im->name, "total", (json_int_t)im->res->total,
	    "created", (json_int_t)im->res->created, "updated", (json_int_t)im->res->updated);
	char *text = payload != NULL ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	int rc = -1;
	if (text == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	else
		rc = events_append(im->st,
				   &(struct event){.kind = "enrollments.imported", .actor = im->o->actor,
						   .program_id = im->program_id, .payload_json = text},
				   NULL, d);
	free(text);
	if (rc < 0)
		goto fail;
	return store_commit(im->st, d);
fail:
	stmt_finalize(&s);
	store_rollback(im->st);
	return -1;
}

int
enroll_import(struct store *st, int64_t program_id, FILE *f, const char *name,
	      const struct enroll_opts *o, struct enroll_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	struct imp im = {.st = st, .program_id = program_id, .name = name, .o = o, .res = res};
	int rc = -1;
	struct csv_reader *rd = csv_reader_new_file(f, name, d);
	if (rd == NULL)
		return -1;
	im.rd = rd;
	if (csv_reader_set_input(rd, o ? o->encoding : NULL, o ? o->delimiter : 0, d) != 0) {
		csv_reader_delete(rd);
		return -1;
	}
	if (stmt_prepare(&im.find, st, "looking up the person",
			 "SELECT id, status FROM people WHERE external_id = ?1 OR email = ?1 "
			 "ORDER BY external_id = ?1 DESC LIMIT 1",
			 d) != 0 ||
	    stmt_prepare(&im.exists, st, "looking up the enrollment",
			 "SELECT 1 FROM enrollments WHERE program_id = ?1 AND person_id = ?2", d) != 0)
		goto out;
	struct csv_record rec;
	struct diag cd;
	int got, header = 0;
	while ((got = csv_read(rd, &rec, &cd)) != 0) {
		if (got < 0) {
			im.res->nerrors++;
			if (im.res->nkept < ENROLL_ERRORS_KEPT)
				push_msg(&im.res->errors, &im.res->nkept, cd.msg);
			if (!header)
				break;
			continue;
		}
		if (!header) {
			header = 1;
			if (read_header(&im, &rec) < 0) {
				diag_set(d, DIAG_NOMEM, "out of memory");
				finish_warnings(&im);
				goto out;
			}
			if (res->nerrors > 0)
				break; /* without a usable header every row would fail the same way
					*/
			continue;
		}
		read_record(&im, &rec);
	}
	finish_warnings(&im);
	if (!header && res->nerrors == 0) {
		rec_error(&im, 1, 1, NULL,
			  "empty file (expected a header: person,role,capacity,...)");
	} else if (im.nrows == 0 && res->nerrors == 0) {
		/* Like people: a survey export that lost its rows is a mistake, not a
		 * successful import of nobody. */
		rec_error(&im, 2, 1, NULL, "no enrollments: the file has a header but no rows");
	}
	if (res->nerrors > 0) {
		diag_set(d, DIAG_INVALID, "%s: %ld error%s; nothing imported", name, res->nerrors,
			 res->nerrors == 1 ? "" : "s");
		goto out;
	}
	rc = o->dry_run ? 0 : write_rows(&im, d);
out:
	finish_warnings(&im);
	stmt_finalize(&im.find);
	stmt_finalize(&im.exists);
	csv_reader_delete(rd);
	for (int i = 0; i < im.nrows; i++)
		row_fini(&im.rows[i]);
	free(im.rows);
	for (int i = 0; i < im.nheader; i++)
		free(im.header[i]);
	free(im.header);
	free(im.is_field);
	free(im.seen_id);
	free(im.seen_line);
	return rc;
}

int
enroll_import_file(struct store *st, int64_t program_id, const char *path,
		   const struct enroll_opts *o, struct enroll_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return diag_set(d, DIAG_IO, "%s: %s", path, strerror(errno));
	int rc = enroll_import(st, program_id, f, path, o, res, d);
	fclose(f);
	return rc;
}

void
enroll_result_fini(struct enroll_result *res)
{
	for (int i = 0; i < res->nkept; i++)
		free(res->errors[i]);
	free(res->errors);
	for (int i = 0; i < res->nwarnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	memset(res, 0, sizeof(*res));
}

/*
 * people: CSV import (validate everything, then one transaction), listing, export and
 * erasure. See people.h for the contract.
 *
 * The import is built for 100k-row files: the whole file is read into an arena, every
 * cross-row question (duplicate ids and e-mails, managers, cycles) is answered with
 * in-memory hash maps and one scan of the people table (which also finds the people the
 * file leaves unchanged), and the write reuses a few prepared statements inside a single
 * transaction: multi-row INSERTs for new people, UPDATEs of only the changed columns for
 * the others. No per-row SELECT anywhere. docs/performance.md has the measurements behind
 * each choice; TANDEM_DEBUG=1 logs the time of each phase.
 */
#include "program/people.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "io/csv.h"
#include "events/events.h"
#include "store/store.h"
#include "time/tz.h"

/* ------------------------------------------------------------------ fields */

enum pfield {
	PF_ID,
	PF_NAME,
	PF_EMAIL,
	PF_TITLE,
	PF_LEVEL,
	PF_DEPARTMENT,
	PF_TEAM,
	PF_LOCATION,
	PF_TIMEZONE,
	PF_MANAGER,
	PF_BIRTH_YEAR,
	PF_GENERATION,
	PF_HIRE_DATE,
	PF_STATUS,
	PF_SKILLS,
	PF_TOPICS,
	PF_LANGUAGES,
	PF_COUNT
};

static const char *const pfield_name[PF_COUNT] = {
	"id",       "name",       "email",      "title",     "level",  "department",
	"team",     "location",   "timezone",   "manager",   "birth_year", "generation",
	"hire_date", "status",    "skills",     "topics_wanted", "languages",
};

/* The people column each field is stored in (external_id for id, manager_id for manager). */
static const char *const pfield_column[PF_COUNT] = {
	"external_id", "name",       "email",      "title",     "level",  "department",
	"team",        "location",   "timezone",   "manager_id", "birth_year", "generation",
	"hire_date",   "status",     "skills",     "topics_wanted", "languages",
};

/* The bit of the attributes in field masks (bits 0..PF_COUNT-1 are the fields). */
enum { PF_ATTRS = PF_COUNT };

const char *const people_generations[PEOPLE_NGENERATIONS] = {"baby_boomer", "gen_x",
								    "millennial", "gen_z"};
static const char *const people_statuses[] = {"active", "leave", "terminated"};

static int
pfield_lookup(const char *name)
{
	for (int f = 0; f < PF_COUNT; f++)
		if (strcasecmp(pfield_name[f], name) == 0)
			return f;
	return -1;
}

/* ------------------------------------------------------------------ big buffers */

/*
 * The large buffers of an import (the arena, the row array, the hash tables: ~60 MB for 100k
 * rows, written once and probed at random) come straight from mmap, zeroed, with transparent
 * huge pages asked for. On 4 KiB pages their first-touch page faults and TLB misses were a
 * third of the time spent reading and checking the file.
 */
static void *
big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (n >= (2u << 20))
		madvise(p, n, MADV_HUGEPAGE); /* advice only: it may be refused */
#endif
	return p;
}

static void
big_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

/* ------------------------------------------------------------------ arena */

/* Strings of one import live in large blocks that never move, freed all at once. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

struct arena {
	struct arena_block *head;
	size_t next_cap; /* size of the next block: a guess from the file size, then 4 MiB */
};

enum { ARENA_BLOCK_MIN = 4u << 20 };

static char *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = a->next_cap > ARENA_BLOCK_MIN ? a->next_cap : ARENA_BLOCK_MIN;
		if (cap < n)
			cap = n;
		a->next_cap = 0;
		b = big_alloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

/* For non-text data: rounds the block's fill level up to 8 bytes first. */
static void *
arena_alloc_aligned(struct arena *a, size_t n)
{
	if (a->head != NULL) {
		size_t used = (a->head->used + 7) & ~(size_t)7;
		a->head->used = used < a->head->cap ? used : a->head->cap;
	}
	return arena_alloc(a, n);
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
arena_free(struct arena *a)
{
	while (a->head != NULL) {
		struct arena_block *b = a->head;
		a->head = b->next;
		big_free(b, sizeof(*b) + b->cap);
	}
}

/* ------------------------------------------------------------------ string map */

/* Open addressing from a string (not copied) to an int. Each slot keeps the key's hash, so a
 * probe touches one cache line and the key's text only on a likely match, and growing never
 * re-reads the keys: with 100k-row imports the table is far bigger than the CPU caches. */
struct smap_slot {
	const char *key; /* NULL = empty */
	uint32_t hash;   /* the low half of the key's hash */
	int val;
};

struct smap {
	struct smap_slot *slots;
	size_t cap, n;
};

static uint64_t
smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	/* FNV's low bits cluster on ids that differ only in their last digits: mix them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* Zeroed slots: big tables from big_alloc(), small ones from calloc (see smap_slots_free). */
static struct smap_slot *
smap_slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct smap_slot);
	return bytes >= (1u << 20) ? big_alloc(bytes) : calloc(cap, sizeof(struct smap_slot));
}

static void
smap_slots_free(struct smap_slot *slots, size_t cap)
{
	size_t bytes = cap * sizeof(struct smap_slot);
	if (bytes >= (1u << 20))
		big_free(slots, bytes);
	else
		free(slots);
}

static int
smap_grow(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct smap_slot *slots = smap_slots_alloc(cap);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		size_t j = smap_hash(m->slots[i].key) & (cap - 1);
		while (slots[j].key != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	smap_slots_free(m->slots, m->cap);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Sizes an empty map for about n keys up front: growing a big table step by step costs a
 * rehash per step and, worse, page faults on every fresh table. */
static int
smap_reserve(struct smap *m, size_t n)
{
	if (m->cap != 0)
		return 0;
	size_t cap = 1024;
	while (cap < 2 * n + 2)
		cap *= 2;
	m->slots = smap_slots_alloc(cap);
	if (m->slots == NULL)
		return -1;
	m->cap = cap;
	return 0;
}

static int
smap_get(const struct smap *m, const char *key)
{
	if (m->cap == 0)
		return -1;
	uint64_t h = smap_hash(key);
	uint32_t h32 = (uint32_t)h;
	for (size_t j = h & (m->cap - 1); m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (m->slots[j].hash == h32 && strcmp(m->slots[j].key, key) == 0)
			return m->slots[j].val;
	return -1;
}

/* Inserts key -> val unless key is present; returns the existing value, -1 if inserted, -2 on OOM. */
static int
smap_put(struct smap *m, const char *key, int val)
{
	if ((m->n + 1) * 2 > m->cap && smap_grow(m) != 0)
		return -2;
	uint64_t h = smap_hash(key);
	size_t j = h & (m->cap - 1);
	for (; m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (m->slots[j].hash == (uint32_t)h && strcmp(m->slots[j].key, key) == 0)
			return m->slots[j].val;
	m->slots[j].hash = (uint32_t)h;
	m->slots[j].key = key;
	m->slots[j].val = val;
	m->n++;
	return -1;
}

static void
smap_fini(struct smap *m)
{
	smap_slots_free(m->slots, m->cap);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ phase timings */

/* Where an import spends its time, logged at debug level (TANDEM_DEBUG=1 for the CLI):
 * wall and CPU seconds of each phase, so a slow import can be explained without a profiler. */
struct ptimes {
	struct timespec wall, cpu;
	char text[320];
	size_t len;
};

static void
ptimes_now(struct timespec *wall, struct timespec *cpu)
{
	clock_gettime(CLOCK_MONOTONIC, wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, cpu);
}

static double
ptimes_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Closes the current phase under the given name and starts the next one. */
static void
ptimes_mark(struct ptimes *t, const char *phase)
{
	struct timespec wall, cpu;
	ptimes_now(&wall, &cpu);
	if (t->len < sizeof(t->text)) {
		int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s%s %.3f/%.3f",
				 t->len ? ", " : "", phase, ptimes_diff(&t->wall, &wall),
				 ptimes_diff(&t->cpu, &cpu));
		t->len += n > 0 ? (size_t)n : 0;
	}
	t->wall = wall;
	t->cpu = cpu;
}

/* ------------------------------------------------------------------ import state */

struct prow {
	const char *v[PF_COUNT]; /* trimmed text (lists as JSON); NULL = empty cell */
	const char *attrs;       /* JSON object of the unmapped columns, NULL when none */
	int line;
	int *fline;              /* physical line of each field; NULL when all are on `line` */
	long long db_id;         /* existing person updated by this row, 0 = new */
	long long db_mgr;        /* that person's manager_id in the database, 0 = none */
	int mgr;                 /* node of the manager, -1 = none */
	unsigned char damaged;   /* a CSV error: only its id is used (to resolve managers) */
	unsigned char email_moves; /* an existing person whose e-mail changes (beyond letter case) */
	unsigned char same;      /* an existing person who already has every value of the row */
	unsigned changed;        /* for an existing person: bit f = field f differs, PF_ATTRS too */
};

/* A person in the database that the file does not mention: a node of the manager graph. */
struct pdb {
	long long id, manager_id;
	const char *external_id;
	int mgr; /* node, -1 = none */
};

struct pimport {
	struct store *st;
	const char *name;
	const struct people_import_opts *o;
	struct people_import_result *res;
	struct arena arena;

	int ncols;
	int *colfield;           /* header column -> field, -1 = attribute, -2 = ignored */
	const char **colname;    /* header names as written (attribute keys) */
	int fieldcol[PF_COUNT];  /* field -> header column, -1 = absent */
	int nattr;               /* attribute columns */

	struct prow *rows;
	int nrows, caprows;
	struct smap ids, emails;   /* file: external id / lower-case e-mail -> row */
	struct smap zones;         /* time zones already checked in this file (1 = valid) */
	struct smap lists;         /* list cells already converted -> index into list_json */
	const char **list_json;
	int nlist, caplist;
	struct pdb *db;            /* database people not in the file: node nrows + k */
	int ndb;
	struct smap dbext, dbemail; /* database people: external id / lower-case e-mail -> -1-k or row */
	long long max_id;
	long long data_version;
	int this_year;
	struct ptimes times;
};

/* ------------------------------------------------------------------ errors */

/* Quotes a value for a message: at most 60 bytes, cut on a UTF-8 boundary. */
static const char *
pvalue(const char *v, char *buf, size_t size)
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

static void
perr_add(struct pimport *im, const char *msg)
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

/* "FILE:LINE:COL: field: message" */
static void
perr(struct pimport *im, int line, int col, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
perr(struct pimport *im, int line, int col, const char *field, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s:%d:%d: ", im->name, line, col > 0 ? col : 1);
	if (field != NULL)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s: ", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	perr_add(im, msg);
}

/* Errors at a row's field: its column and its physical line. */
#define PERR_F(im, r, f, ...) \
	perr(im, people_fline(r, f), (im)->fieldcol[f] + 1, pfield_name[f], __VA_ARGS__)

/* Most records sit on one line; only those with line breaks in quoted fields store per-field lines. */
static int
people_fline(const struct prow *r, int f)
{
	return r->fline != NULL ? r->fline[f] : r->line;
}

/* Sorts "FILE:LINE:COL: ..." messages by line then column (the prefix is the same file). */
static long
perr_key(const char *m, size_t skip, long *col)
{
	char *end;
	long line = strtol(m + skip, &end, 10);
	*col = *end == ':' ? strtol(end + 1, NULL, 10) : 0;
	return line;
}

static size_t perr_skip;

static int
perr_cmp(const void *a, const void *b)
{
	long ca, cb;
	long la = perr_key(*(char *const *)a, perr_skip, &ca);
	long lb = perr_key(*(char *const *)b, perr_skip, &cb);
	if (la != lb)
		return la < lb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return a < b ? -1 : (a > b); /* stable enough: keep arrival order for ties */
}

static void
perr_sort(struct pimport *im)
{
	/* qsort has no context argument in C11; the prefix length is the same for all errors. */
	perr_skip = strlen(im->name) + 1;
	if (im->res->nkept > 1)
		qsort(im->res->errors, (size_t)im->res->nkept, sizeof(char *), perr_cmp);
}

/* ------------------------------------------------------------------ value checks */

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
	const char *out = arena_strndup(&im->arena, text, strlen(text));
	free(text);
	return out;
}

/* Lists repeat a lot across people (same skills, same languages): convert each once. */
static const char *
people_list_to_json(struct pimport *im, const char *s)
{
	int k = smap_get(&im->lists, s);
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
	if (smap_put(&im->lists, s, im->nlist) == -1)
		im->list_json[im->nlist++] = json;
	return json;
}

/* tz_valid is cached already, but behind a mutex; an import asks 100k times about a few zones. */
static int
people_zone_valid(struct pimport *im, const char *zone)
{
	int v = smap_get(&im->zones, zone);
	if (v >= 0)
		return v;
	v = tz_valid(zone);
	smap_put(&im->zones, zone, v);
	return v;
}

static void
lower_in_place(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ------------------------------------------------------------------ header */

static int
people_apply_maps(struct pimport *im)
{
	int ok = 1;
	for (int i = 0; i < im->o->nmap; i++) {
		const char *m = im->o->map[i];
		const char *eq = strrchr(m, '=');
		if (eq == NULL || eq == m || eq[1] == '\0') {
			perr(im, 1, 1, NULL, "--map '%s': expected COLUMN=FIELD", m);
			ok = 0;
			continue;
		}
		int col = -1;
		for (int c = 0; c < im->ncols; c++)
			if (strlen(im->colname[c]) == (size_t)(eq - m) &&
			    strncasecmp(im->colname[c], m, (size_t)(eq - m)) == 0)
				col = c;
		if (col < 0) {
			perr(im, 1, 1, NULL, "--map '%s': no column '%.*s' in the header", m,
			     (int)(eq - m), m);
			ok = 0;
			continue;
		}
		int f = pfield_lookup(eq + 1);
		if (f < 0) {
			perr(im, 1, col + 1, NULL,
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
		perr(im, 1, 1, NULL, "empty file: expected a header line such as "
				     "id,name,email,timezone,...");
		return -1;
	}
	if (rc < 0) {
		perr_add(im, cd.msg);
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
		im->colname[c] = arena_strndup(&im->arena, s, (size_t)(e - s));
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
			perr(im, 1, c + 1, NULL, "column '%s': field '%s' already comes from column %d",
			     im->colname[c], pfield_name[f], im->fieldcol[f] + 1);
			ok = 0;
			continue;
		}
		im->fieldcol[f] = c;
	}
	static const int required[] = {PF_ID, PF_NAME, PF_EMAIL, PF_TIMEZONE};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (im->fieldcol[required[i]] < 0) {
			perr(im, 1, 1, NULL, "missing required column '%s' (use --map COLUMN=%s "
					     "if the file names it differently)",
			     pfield_name[required[i]], pfield_name[required[i]]);
			ok = 0;
		}
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ rows */

/* Grows the row array to cap rows (zeroed beyond nrows). */
static int
people_reserve_rows(struct pimport *im, size_t cap)
{
	if (cap > INT_MAX)
		return -1;
	struct prow *p = big_alloc(cap * sizeof(*p));
	if (p == NULL)
		return -1;
	if (im->rows != NULL)
		memcpy(p, im->rows, (size_t)im->nrows * sizeof(*p));
	big_free(im->rows, (size_t)im->caprows * sizeof(*p));
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
	/* Rows past nrows are still zero (big_alloc), so no memset of 180 bytes per row. */
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
			PERR_F(im, r, f, "'%s' is not a valid e-mail address", pvalue(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_TIMEZONE:
		if (!people_zone_valid(im, v)) {
			PERR_F(im, r, f, "'%s' is not an IANA time zone (such as Europe/Paris or UTC)",
			       pvalue(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_LEVEL:
		if (people_parse_int(v, 1, 9, &n) != 0) {
			PERR_F(im, r, f, "'%s' is not a whole number from 1 to 9", pvalue(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_BIRTH_YEAR:
		if (people_parse_int(v, 1900, im->this_year, &n) != 0) {
			PERR_F(im, r, f, "'%s' is not a year from 1900 to %d", pvalue(v, q, sizeof(q)),
			       im->this_year);
			return -1;
		}
		break;
	case PF_GENERATION:
		lower_in_place(v);
		if (people_one_of(v, people_generations, PEOPLE_NGENERATIONS) < 0) {
			PERR_F(im, r, f, "'%s' is not one of baby_boomer, gen_x, millennial, gen_z",
			       pvalue(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_HIRE_DATE:
		if (!tz_date_valid(v)) {
			PERR_F(im, r, f, "'%s' is not a valid date written YYYY-MM-DD", pvalue(v, q, sizeof(q)));
			return -1;
		}
		break;
	case PF_STATUS:
		lower_in_place(v);
		if (people_one_of(v, people_statuses, 3) < 0) {
			PERR_F(im, r, f, "'%s' is not one of active, leave, terminated",
			       pvalue(v, q, sizeof(q)));
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
		int prev = smap_put(&im->ids, r->v[PF_ID], idx);
		if (prev == -2)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		if (prev >= 0)
			PERR_F(im, r, PF_ID, "duplicate id '%s' (also on line %d)",
			       pvalue(r->v[PF_ID], q, sizeof(q)), people_fline(&im->rows[prev], PF_ID));
	}
	if (r->v[PF_EMAIL] != NULL && !r->damaged) {
		char *key = arena_strndup(&im->arena, r->v[PF_EMAIL], strlen(r->v[PF_EMAIL]));
		if (key == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		lower_in_place(key);
		int prev = smap_put(&im->emails, key, idx);
		if (prev == -2)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		if (prev >= 0)
			PERR_F(im, r, PF_EMAIL, "'%s' is already the e-mail of id '%s' (line %d)",
			       pvalue(r->v[PF_EMAIL], q, sizeof(q)),
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
	r->attrs = arena_strndup(&im->arena, text, strlen(text));
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
		perr(im, rec->line, rec->nfields < im->ncols ? rec->nfields + 1 : im->ncols + 1, NULL,
		     "the record has %d fields, the header has %d", rec->nfields, im->ncols);
	if (rec->nfields > 0 && rec->fields[rec->nfields - 1].line != rec->line) {
		r->fline = arena_alloc_aligned(&im->arena, PF_COUNT * sizeof(int));
		if (r->fline == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		for (int f = 0; f < PF_COUNT; f++) {
			int c = im->fieldcol[f];
			r->fline[f] = c >= 0 && c < rec->nfields ? rec->fields[c].line : rec->line;
		}
	}
	/* The row keeps its cells: one copy of the record's packed text, trimmed in place. */
	char *text = arena_alloc(&im->arena, rec->textlen);
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
			PERR_F(im, r, f, "missing (required)");
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
		r->v[PF_ID] = arena_strndup(&im->arena, rec->fields[c].s, rec->fields[c].len);
		if (r->v[PF_ID] == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	return people_index_row(im, r, im->nrows - 1, d);
}

/* ------------------------------------------------------------------ database side */

/* Does an update of an existing person set this field? Fields the file has, and the
 * generation when it is derived from a birth_year column. */
static int
people_field_written(const struct pimport *im, int f)
{
	return im->fieldcol[f] >= 0 || (f == PF_GENERATION && im->fieldcol[PF_BIRTH_YEAR] >= 0);
}

/*
 * The people columns people_load_db() reads, in order: identity first, then one column per
 * field that an update may set (PEOPLE_DB_FIELD[k] is the field in column PEOPLE_DB_FIRST + k).
 */
enum { PEOPLE_DB_FIRST = 4, PEOPLE_DB_ATTRS = PEOPLE_DB_FIRST + 15 };
static const char people_db_sql[] =
	"SELECT id, external_id, email, manager_id, name, title, level, department, team, location,"
	" timezone, birth_year, generation, hire_date, status, skills, topics_wanted, languages,"
	" email, attributes FROM people ORDER BY id";
static const int people_db_field[] = {
	PF_NAME,       PF_TITLE,      PF_LEVEL,      PF_DEPARTMENT, PF_TEAM,
	PF_LOCATION,   PF_TIMEZONE,   PF_BIRTH_YEAR, PF_GENERATION, PF_HIRE_DATE,
	PF_STATUS,     PF_SKILLS,     PF_TOPICS,     PF_LANGUAGES,  PF_EMAIL,
};

/* The text an update writes for a text field (defaults for status and lists), NULL for SQL NULL. */
static const char *
people_written_text(const struct prow *r, int f)
{
	const char *v = r->v[f];
	if (v == NULL && f == PF_STATUS)
		return "active";
	if (v == NULL && (f == PF_SKILLS || f == PF_TOPICS || f == PF_LANGUAGES))
		return "[]";
	return v;
}

/* True when column col of the current row of s equals what an update would write for field f. */
static int
people_column_same(sqlite3_stmt *s, int col, const struct prow *r, int f)
{
	int type = sqlite3_column_type(s, col);
	if (f == PF_LEVEL || f == PF_BIRTH_YEAR) {
		if (r->v[f] == NULL)
			return type == SQLITE_NULL;
		return type == SQLITE_INTEGER && sqlite3_column_int64(s, col) == atoi(r->v[f]);
	}
	const char *want = people_written_text(r, f);
	if (want == NULL)
		return type == SQLITE_NULL;
	return type == SQLITE_TEXT && strcmp((const char *)sqlite3_column_text(s, col), want) == 0;
}

/* json_patch(stored, attrs) leaves stored as it is: every attribute of the row is already there
 * with the same value (the row's attributes are strings, so the patch only sets keys). */
static int
people_attrs_same(const char *stored, const char *attrs)
{
	json_t *have = json_loads(stored, 0, NULL), *want = json_loads(attrs, 0, NULL);
	int same = json_is_object(have) && json_is_object(want);
	const char *key;
	json_t *v;
	json_object_foreach(want, key, v) {
		if (!same)
			break;
		same = json_equal(json_object_get(have, key), v);
	}
	json_decref(have);
	json_decref(want);
	return same;
}

/* Which values would an update of this existing person change? Every field but the manager
 * (settled once managers are resolved), as bits (1u << f, 1u << PF_ATTRS). Reads the current
 * row of people_db_sql. */
static unsigned
people_row_changes(const struct pimport *im, const struct prow *r, sqlite3_stmt *s)
{
	unsigned changed = 0;
	for (size_t k = 0; k < sizeof(people_db_field) / sizeof(people_db_field[0]); k++) {
		int f = people_db_field[k];
		if (people_field_written(im, f) &&
		    !people_column_same(s, PEOPLE_DB_FIRST + (int)k, r, f))
			changed |= 1u << f;
	}
	if (im->nattr > 0 && r->attrs != NULL) {
		const char *stored = (const char *)sqlite3_column_text(s, PEOPLE_DB_ATTRS);
		if (stored == NULL || !people_attrs_same(stored, r->attrs))
			changed |= 1u << PF_ATTRS;
	}
	return changed;
}

/* A database person's node, found by id in an array sorted by id; -1 when absent. */
struct pbyid {
	long long id;
	int node;
};

static int
people_byid_node(const struct pbyid *a, size_t n, long long id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo].id == id ? a[lo].node : -1;
}

/* One scan of people: who exists, their e-mails and managers. No per-row queries. */
static int
people_load_db(struct pimport *im, struct diag *d)
{
	struct store *st = im->st;
	sqlite3_stmt *s = store_prepare(st, "PRAGMA data_version", d);
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_error(st, d, "reading data_version");
	}
	im->data_version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);

	s = store_prepare(st, "SELECT count(*) FROM people", d);
	if (s == NULL)
		return -1;
	size_t n = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_int64(s, 0);
		smap_reserve(&im->dbext, n);
		smap_reserve(&im->dbemail, n);
	}
	sqlite3_finalize(s);
	/* Every person's id and node, in id order (the scan's), to link db-only managers. */
	struct pbyid *byid = malloc((n + 1) * sizeof(*byid));
	size_t nbyid = 0;
	s = byid != NULL ? store_prepare(st, people_db_sql, d) : NULL;
	if (s == NULL) {
		free(byid);
		return byid == NULL ? diag_set(d, DIAG_NOMEM, "out of memory") : -1;
	}
	int rc, cap = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(s, 0);
		const char *ext = (const char *)sqlite3_column_text(s, 1);
		const char *email = (const char *)sqlite3_column_text(s, 2);
		if (id > im->max_id)
			im->max_id = id;
		/* A person of the file is keyed by the file's copy of their id; others need one. */
		int row = smap_get(&im->ids, ext);
		ext = row >= 0 ? im->rows[row].v[PF_ID] : arena_strndup(&im->arena, ext, strlen(ext));
		char *lemail = arena_strndup(&im->arena, email, strlen(email));
		if (ext == NULL || lemail == NULL)
			goto nomem;
		lower_in_place(lemail);
		if (nbyid == n) { /* someone added people since the count (caught before the write) */
			struct pbyid *p = realloc(byid, (2 * n + 16) * sizeof(*p));
			if (p == NULL)
				goto nomem;
			byid = p;
			n = 2 * n + 16;
		}
		int node;
		long long mgr_id = sqlite3_column_type(s, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 3);
		if (row >= 0) {
			struct prow *r = &im->rows[row];
			r->db_id = id;
			r->db_mgr = mgr_id;
			r->email_moves = r->v[PF_EMAIL] != NULL && strcasecmp(r->v[PF_EMAIL], email) != 0;
			r->changed = people_row_changes(im, r, s);
			node = row;
		} else {
			if (im->ndb == cap) {
				cap = cap ? cap * 2 : 1024;
				struct pdb *p = realloc(im->db, (size_t)cap * sizeof(*p));
				if (p == NULL)
					goto nomem;
				im->db = p;
			}
			struct pdb *p = &im->db[im->ndb++];
			p->id = id;
			p->external_id = ext;
			p->manager_id = mgr_id;
			p->mgr = -1;
			node = im->nrows + im->ndb - 1;
		}
		byid[nbyid].id = id;
		byid[nbyid++].node = node;
		if (smap_put(&im->dbext, ext, node) == -2 || smap_put(&im->dbemail, lemail, node) == -2)
			goto nomem;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(byid);
		return store_error(st, d, "reading people");
	}
	for (int k = 0; k < im->ndb; k++)
		if (im->db[k].manager_id != 0)
			im->db[k].mgr = people_byid_node(byid, nbyid, im->db[k].manager_id);
	free(byid);
	return 0;
nomem:
	sqlite3_finalize(s);
	free(byid);
	return diag_set(d, DIAG_NOMEM, "out of memory");
}

/* An e-mail in the file that belongs to a database person the file does not update. */
static void
people_check_db_emails(struct pimport *im)
{
	char q[128];
	/* Only people the file does not mention can hold a clashing e-mail. */
	for (int i = 0; im->ndb > 0 && i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		if (r->damaged || r->v[PF_EMAIL] == NULL)
			continue;
		char key[512];
		snprintf(key, sizeof(key), "%s", r->v[PF_EMAIL]);
		lower_in_place(key);
		int node = smap_get(&im->dbemail, key);
		if (node < im->nrows)
			continue; /* unknown, or a person of the file (who may be changing e-mail) */
		PERR_F(im, r, PF_EMAIL, "'%s' is already the e-mail of id '%s' in the database",
		       pvalue(r->v[PF_EMAIL], q, sizeof(q)), im->db[node - im->nrows].external_id);
	}
}

/* Manager = external id or e-mail, of the file first, then of the database. */
static void
people_resolve_managers(struct pimport *im)
{
	char q[128];
	for (int i = 0; i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		const char *m = r->v[PF_MANAGER];
		if (r->damaged || m == NULL)
			continue;
		int node = smap_get(&im->ids, m);
		if (node < 0) {
			char key[512];
			snprintf(key, sizeof(key), "%s", m);
			lower_in_place(key);
			node = smap_get(&im->emails, key);
			if (node < 0)
				node = smap_get(&im->dbext, m);
			if (node < 0)
				node = smap_get(&im->dbemail, key);
		}
		if (node < 0)
			PERR_F(im, r, PF_MANAGER,
			       "'%s' is neither the id nor the e-mail of a person in the file or the "
			       "database",
			       pvalue(m, q, sizeof(q)));
		r->mgr = node;
	}
}

static const char *
people_node_id(const struct pimport *im, int node)
{
	if (node < im->nrows)
		return im->rows[node].v[PF_ID] ? im->rows[node].v[PF_ID] : "?";
	return im->db[node - im->nrows].external_id;
}

/* Reports one cycle (nodes path[from..n)) at the manager cell of its earliest file row. */
static void
people_report_cycle(struct pimport *im, const int *path, int from, int n)
{
	int first = -1;
	for (int k = from; k < n; k++)
		if (path[k] < im->nrows &&
		    (first < 0 || im->rows[path[k]].line < im->rows[path[first]].line))
			first = k;
	if (first < 0)
		return; /* a cycle only among database people predates this import */
	struct prow *r = &im->rows[path[first]];
	char q[128];
	if (n - from == 1) {
		PERR_F(im, r, PF_MANAGER, "'%s' is the person themself (a manager cycle)",
		       pvalue(r->v[PF_MANAGER], q, sizeof(q)));
		return;
	}
	char chain[600];
	size_t o = 0;
	int len = n - from;
	for (int k = 0; k <= len && o < sizeof(chain) - 64; k++) {
		if (k == 8 && len > 9) {
			o += (size_t)snprintf(chain + o, sizeof(chain) - o, " -> ... (%d people)", len);
			k = len; /* close the loop on the first one */
		}
		int node = path[from + (first - from + k) % len];
		o += (size_t)snprintf(chain + o, sizeof(chain) - o, "%s%s", k ? " -> " : "",
				      people_node_id(im, node));
	}
	PERR_F(im, r, PF_MANAGER, "manager cycle: %s", chain);
}

/* The manager graph has out-degree <= 1: one walk per node finds every cycle in O(n). */
static int
people_check_cycles(struct pimport *im, struct diag *d)
{
	int n = im->nrows + im->ndb;
	unsigned char *state = calloc((size_t)n + 1, 1); /* 0 new, 1 on the current walk, 2 done */
	int *path = malloc(((size_t)n + 1) * sizeof(int));
	int *pos = malloc(((size_t)n + 1) * sizeof(int));
	if (state == NULL || path == NULL || pos == NULL) {
		free(state);
		free(path);
		free(pos);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int start = 0; start < n; start++) {
		int len = 0, v = start;
		while (v >= 0 && state[v] == 0) {
			state[v] = 1;
			pos[v] = len;
			path[len++] = v;
			v = v < im->nrows ? im->rows[v].mgr : im->db[v - im->nrows].mgr;
		}
		if (v >= 0 && state[v] == 1)
			people_report_cycle(im, path, pos[v], len);
		for (int k = 0; k < len; k++)
			state[path[k]] = 2;
	}
	free(state);
	free(path);
	free(pos);
	return 0;
}

/* ------------------------------------------------------------------ write */

/*
 * New people are inserted PEOPLE_BATCH rows per statement: each execution of a statement
 * opens a cursor on the table and each index, and frees them and its registers' memory when
 * it ends, ~30% of the cost of a one-row INSERT. The rest (fewer rows) go one at a time.
 *
 * OR ROLLBACK (here and in the UPDATE): a failed row ends the whole transaction, as the import
 * would anyway. Together with the deferred manager key (schema v3) it tells SQLite that no
 * statement ever has to be undone alone, so it keeps no statement journal (a copy of every
 * page a statement touches, which for a 50-row INSERT spilled to a temporary file).
 */
enum { PEOPLE_INSERT_COLS = 21, PEOPLE_BATCH = 50 };

static char *
people_insert_sql(int nrows)
{
	static const char head[] =
		"INSERT OR ROLLBACK INTO people(id, external_id, name, email, title, level, department,"
		" team, location, timezone, manager_id, birth_year, generation, hire_date, status,"
		" skills, topics_wanted, languages, attributes, created_at, updated_at) VALUES ";
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	size_t cap = sizeof(head) + (size_t)nrows * sizeof(row);
	char *sql = malloc(cap);
	if (sql == NULL)
		return NULL;
	size_t o = (size_t)snprintf(sql, cap, "%s", head);
	for (int i = 0; i < nrows; i++)
		o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? "," : "", row);
	return sql;
}

/*
 * People of the file may trade e-mails (a swap, or a chain A takes B's, B takes C's...).
 * The end state is unique, but the UNIQUE index checks every row as it is written, so
 * the e-mails that change are first parked on values no real address can take (a leading
 * dot is invalid), then the rows are written with their final ones.
 */
static int
people_park_emails(struct pimport *im, struct diag *d)
{
	sqlite3_stmt *s = NULL;
	for (int i = 0; i < im->nrows; i++) {
		if (!im->rows[i].email_moves)
			continue;
		if (s == NULL && (s = store_prepare(im->st,
						    "UPDATE people SET email = '.moving.' || id WHERE id = ?",
						    d)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, im->rows[i].db_id);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_error(im->st, d, "%s: moving e-mails", im->name);
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * UPDATE of the fields in `fields` (bits, PF_ATTRS for the attributes) that the file has.
 * param_of[f] gets each field's parameter (0 = not set), param_of[PF_ATTRS] the attributes',
 * param_of[PF_ID] the person's id (the last one). Setting only what changed spares SQLite the
 * index maintenance of the columns that did not (an UPDATE that names an indexed column
 * deletes and re-inserts its index entry even when the value is the same).
 */
static char *
people_update_sql(const struct pimport *im, unsigned fields, int *param_of)
{
	size_t cap = 1024;
	char *sql = malloc(cap);
	if (sql == NULL)
		return NULL;
	size_t o = (size_t)snprintf(sql, cap, "UPDATE OR ROLLBACK people SET updated_at = ?1");
	int p = 2;
	for (int f = 0; f <= PF_ATTRS; f++)
		param_of[f] = 0;
	for (int f = 0; f < PF_COUNT; f++) {
		if (f == PF_ID || !(fields >> f & 1) || !people_field_written(im, f))
			continue;
		param_of[f] = p;
		o += (size_t)snprintf(sql + o, cap - o, ", %s = ?%d", pfield_column[f], p++);
	}
	if (im->nattr > 0 && (fields >> PF_ATTRS & 1)) {
		param_of[PF_ATTRS] = p;
		o += (size_t)snprintf(sql + o, cap - o,
				      ", attributes = CASE WHEN ?%d IS NULL THEN attributes"
				      " ELSE json_patch(attributes, ?%d) END",
				      p, p);
		p++;
	}
	param_of[PF_ID] = p;
	snprintf(sql + o, cap - o, " WHERE id = ?%d", param_of[PF_ID]);
	return sql;
}

static long long
people_node_dbid(const struct pimport *im, const long long *newid, int node)
{
	if (node < 0)
		return 0;
	if (node < im->nrows)
		return im->rows[node].db_id ? im->rows[node].db_id : newid[node];
	return im->db[node - im->nrows].id;
}

static void
bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds one row of an insert whose parameters for this row start after parameter `base`. */
static void
people_bind_insert(sqlite3_stmt *s, int base, const struct prow *r, long long id, long long mgr,
		   const char *now)
{
	sqlite3_bind_int64(s, base + 1, id);
	static const int text_fields[] = {PF_ID, PF_NAME, PF_EMAIL, PF_TITLE};
	for (int k = 0; k < 4; k++)
		bind_text_or_null(s, base + 2 + k, r->v[text_fields[k]]);
	if (r->v[PF_LEVEL])
		sqlite3_bind_int(s, base + 6, atoi(r->v[PF_LEVEL]));
	else
		sqlite3_bind_null(s, base + 6);
	bind_text_or_null(s, base + 7, r->v[PF_DEPARTMENT]);
	bind_text_or_null(s, base + 8, r->v[PF_TEAM]);
	bind_text_or_null(s, base + 9, r->v[PF_LOCATION]);
	bind_text_or_null(s, base + 10, r->v[PF_TIMEZONE]);
	if (mgr)
		sqlite3_bind_int64(s, base + 11, mgr);
	else
		sqlite3_bind_null(s, base + 11);
	if (r->v[PF_BIRTH_YEAR])
		sqlite3_bind_int(s, base + 12, atoi(r->v[PF_BIRTH_YEAR]));
	else
		sqlite3_bind_null(s, base + 12);
	bind_text_or_null(s, base + 13, r->v[PF_GENERATION]);
	bind_text_or_null(s, base + 14, r->v[PF_HIRE_DATE]);
	bind_text_or_null(s, base + 15, r->v[PF_STATUS] ? r->v[PF_STATUS] : "active");
	bind_text_or_null(s, base + 16, r->v[PF_SKILLS] ? r->v[PF_SKILLS] : "[]");
	bind_text_or_null(s, base + 17, r->v[PF_TOPICS] ? r->v[PF_TOPICS] : "[]");
	bind_text_or_null(s, base + 18, r->v[PF_LANGUAGES] ? r->v[PF_LANGUAGES] : "[]");
	bind_text_or_null(s, base + 19, r->attrs ? r->attrs : "{}");
	bind_text_or_null(s, base + 20, now);
	bind_text_or_null(s, base + 21, now);
}

static void
people_bind_update(sqlite3_stmt *s, const int *param_of, const struct prow *r, long long mgr,
		   const char *now)
{
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	for (int f = 0; f < PF_COUNT; f++) {
		int p = param_of[f];
		if (p == 0 || f == PF_ID)
			continue;
		const char *v = r->v[f];
		if (f == PF_MANAGER) {
			if (mgr)
				sqlite3_bind_int64(s, p, mgr);
			else
				sqlite3_bind_null(s, p);
		} else if ((f == PF_LEVEL || f == PF_BIRTH_YEAR) && v != NULL) {
			sqlite3_bind_int(s, p, atoi(v));
		} else if (f == PF_STATUS) {
			bind_text_or_null(s, p, v ? v : "active");
		} else if (f == PF_SKILLS || f == PF_TOPICS || f == PF_LANGUAGES) {
			bind_text_or_null(s, p, v ? v : "[]");
		} else {
			bind_text_or_null(s, p, v);
		}
	}
	if (param_of[PF_ATTRS] != 0)
		bind_text_or_null(s, param_of[PF_ATTRS], r->attrs);
	sqlite3_bind_int64(s, param_of[PF_ID], r->db_id);
}

static int
people_write_event(struct pimport *im, struct diag *d)
{
	const char *base = strrchr(im->name, '/');
	json_t *payload = json_pack("{s:s, s:I, s:I, s:I}", "file", base ? base + 1 : im->name,
				    "total", (json_int_t)im->res->total, "created",
				    (json_int_t)im->res->created, "updated", (json_int_t)im->res->updated);
	if (payload != NULL && im->res->unchanged > 0)
		json_object_set_new(payload, "unchanged", json_integer(im->res->unchanged));
	char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(payload);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc = events_append(im->st,
			       &(struct event){.kind = "people.imported", .actor = im->o->actor,
					       .payload_json = text},
			       NULL, d);
	free(text);
	return rc;
}

/* Settles which existing people the file leaves as they are, now that managers are resolved:
 * those rows are not written at all (a re-import of an unchanged file writes no person). */
static void
people_mark_unchanged(struct pimport *im)
{
	int mgr_written = people_field_written(im, PF_MANAGER);
	for (int i = 0; i < im->nrows; i++) {
		struct prow *r = &im->rows[i];
		if (r->db_id == 0)
			continue;
		long long want = 0;
		if (r->mgr >= im->nrows)
			want = im->db[r->mgr - im->nrows].id;
		else if (r->mgr >= 0 && (want = im->rows[r->mgr].db_id) == 0)
			want = -1; /* a new person: not yet anyone's manager */
		if (mgr_written && want != r->db_mgr)
			r->changed |= 1u << PF_MANAGER;
		r->same = r->changed == 0;
	}
}

/* One UPDATE statement, for the rows whose changed fields are exactly `fields`. */
struct pupdate {
	unsigned fields;
	sqlite3_stmt *stmt;
	int param_of[PF_COUNT + 1];
};

/* A file usually changes people in a few ways (a new title, a new manager and team...): a
 * statement per way, up to this many, then every further update sets every field it has. */
enum { PEOPLE_UPDATE_SHAPES = 16 };

/* The write's prepared statements: one-row insert, PEOPLE_BATCH-row insert, updates. */
struct pstmts {
	sqlite3_stmt *ins, *batch;
	struct pupdate upd[PEOPLE_UPDATE_SHAPES];
	int nupd;
	struct pupdate all; /* every field the file has, prepared on first need */
};

static void
people_pstmts_finalize(struct pstmts *w)
{
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->batch);
	for (int k = 0; k < w->nupd; k++)
		sqlite3_finalize(w->upd[k].stmt);
	sqlite3_finalize(w->all.stmt);
	w->ins = w->batch = w->all.stmt = NULL;
	w->nupd = 0;
}

static int
people_prepare_update(struct pimport *im, struct pupdate *u, unsigned fields, struct diag *d)
{
	char *sql = people_update_sql(im, fields, u->param_of);
	if (sql == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	u->fields = fields;
	u->stmt = store_prepare(im->st, sql, d);
	free(sql);
	return u->stmt != NULL ? 0 : -1;
}

/* The statement for a row whose changed fields are `fields`; NULL + diag on failure. */
static struct pupdate *
people_update_for(struct pimport *im, struct pstmts *w, unsigned fields, struct diag *d)
{
	for (int k = 0; k < w->nupd; k++)
		if (w->upd[k].fields == fields)
			return &w->upd[k];
	struct pupdate *u = w->nupd < PEOPLE_UPDATE_SHAPES ? &w->upd[w->nupd] : &w->all;
	if (u->stmt != NULL)
		return u; /* the catch-all, prepared already */
	if (people_prepare_update(im, u, u == &w->all ? ~0u : fields, d) != 0)
		return NULL;
	if (u != &w->all)
		w->nupd++;
	return u;
}

static int
people_write_rows(struct pimport *im, struct pstmts *w, const long long *newid, const char *now,
		  struct diag *d)
{
	char q[128];
	long left = im->res->created; /* new people not yet written */
	int batched = 0, batch_line = 0;
	for (int i = 0; i < im->nrows; i++) {
		const struct prow *r = &im->rows[i];
		/* Rows handed to SQLite so far (the last batch's may still wait for its step). */
		if (im->o->progress && i > 0 && i % 5000 == 0)
			im->o->progress(im->o->progress_ud, i, im->nrows);
		if (r->same)
			continue;
		long long mgr = people_node_dbid(im, newid, r->mgr);
		/* A batch starts only when a whole one is left, so every started batch fills. */
		if (r->db_id == 0 && w->batch != NULL && (batched > 0 || left >= PEOPLE_BATCH)) {
			if (batched == 0)
				batch_line = r->line;
			people_bind_insert(w->batch, batched * PEOPLE_INSERT_COLS, r, newid[i], mgr, now);
			left--;
			if (++batched < PEOPLE_BATCH)
				continue;
			batched = 0;
			if (sqlite3_step(w->batch) != SQLITE_DONE)
				return store_error(im->st, d, "%s: writing the people of lines %d to %d",
						   im->name, batch_line, r->line);
			sqlite3_reset(w->batch);
			continue;
		}
		sqlite3_stmt *s = w->ins;
		if (r->db_id) {
			struct pupdate *u = people_update_for(im, w, r->changed, d);
			if (u == NULL)
				return -1;
			s = u->stmt;
			people_bind_update(s, u->param_of, r, mgr, now);
		} else {
			people_bind_insert(s, 0, r, newid[i], mgr, now);
			left--;
		}
		if (sqlite3_step(s) != SQLITE_DONE)
			return store_error(im->st, d, "%s:%d: writing id '%s'", im->name, r->line,
					   pvalue(r->v[PF_ID], q, sizeof(q)));
		sqlite3_reset(s);
	}
	if (im->o->progress)
		im->o->progress(im->o->progress_ud, im->nrows, im->nrows);
	return 0;
}

/*
 * Copies the import from the WAL into the database file (and syncs it), the work SQLite's
 * auto-checkpoint would have done inside COMMIT. The import is already durable in the WAL,
 * so a checkpoint that cannot finish (a reader holds an old snapshot) is no failure: the
 * next checkpoint completes it.
 */
static void
people_checkpoint(struct pimport *im)
{
	int logged = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(store_db(im->st), NULL, SQLITE_CHECKPOINT_PASSIVE, &logged,
					   &copied);
	if (rc != SQLITE_OK || copied < logged)
		tlog(TLOG_INFO, "%s: checkpoint copied %d of %d pages (%s); the rest goes at the next",
		     store_path(im->st), copied, logged, sqlite3_errstr(rc));
	ptimes_mark(&im->times, "checkpoint");
}

static int
people_write(struct pimport *im, struct diag *d)
{
	struct store *st = im->st;
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the clock's time cannot be written as a date");
	char *isql = people_insert_sql(1);
	char *bsql = im->res->created >= PEOPLE_BATCH ? people_insert_sql(PEOPLE_BATCH) : NULL;
	long long *newid = malloc(((size_t)im->nrows + 1) * sizeof(*newid));
	struct pstmts w;
	memset(&w, 0, sizeof(w));
	long long cache_size = 0;
	int rc = -1;
	if (isql == NULL || (bsql == NULL && im->res->created >= PEOPLE_BATCH) ||
	    newid == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	/* The connection's page cache size, to put back afterwards (0 = not read). */
	sqlite3_stmt *cs = store_prepare(st, "PRAGMA cache_size", d);
	if (cs != NULL && sqlite3_step(cs) == SQLITE_ROW)
		cache_size = sqlite3_column_int64(cs, 0);
	sqlite3_finalize(cs);
	/* New people get the next free ids, so every manager link is known before the write. */
	long long next = im->max_id;
	for (int i = 0; i < im->nrows; i++)
		newid[i] = im->rows[i].db_id ? 0 : ++next;

	/* The commit must not start the checkpoint on its own: people_checkpoint() runs it
	 * right after, once, so its cost shows as a phase of its own. */
	sqlite3_wal_autocheckpoint(store_db(st), 0);
	if (store_begin(st, d) != 0)
		goto out;
	/* Someone else wrote between our read and our lock: our ids and checks may be stale. */
	sqlite3_stmt *dv = store_prepare(st, "PRAGMA data_version", d);
	if (dv == NULL)
		goto rollback;
	long long version = -1;
	if (sqlite3_step(dv) == SQLITE_ROW)
		version = sqlite3_column_int64(dv, 0);
	else
		store_error(st, d, "%s: reading data_version", im->name);
	sqlite3_finalize(dv);
	if (version == -1)
		goto rollback;
	if (version != im->data_version) {
		diag_set(d, DIAG_CONFLICT, "%s: the database changed while the file was being checked; "
					   "nothing was imported, run the import again", im->name);
		goto rollback;
	}
	/* Managers may point at rows written later in the same transaction (checked at COMMIT).
	 * A large page cache keeps a big import's pages in memory instead of spilling them to
	 * the WAL mid-transaction (and writing some twice); it is put back after the write.
	 * The statements are prepared after the pragma, which their code depends on. */
	if (store_exec(st, "PRAGMA defer_foreign_keys=ON; PRAGMA cache_size=-131072", d) != 0 ||
	    (w.ins = store_prepare(st, isql, d)) == NULL ||
	    (bsql != NULL && (w.batch = store_prepare(st, bsql, d)) == NULL) ||
	    people_park_emails(im, d) != 0 || people_write_rows(im, &w, newid, now, d) != 0 ||
	    people_write_event(im, d) != 0)
		goto rollback;
	people_pstmts_finalize(&w);
	ptimes_mark(&im->times, "rows");
	if (store_commit(st, d) != 0)
		goto out;
	ptimes_mark(&im->times, "commit");
	people_checkpoint(im);
	rc = 0;
	goto out;
rollback:
	store_rollback(st);
out:
	/* Back to SQLite's default of a checkpoint whenever the WAL passes 1000 pages. */
	sqlite3_wal_autocheckpoint(store_db(st), 1000);
	if (cache_size != 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=%lld", cache_size);
		store_exec(st, sql, NULL);
	}
	people_pstmts_finalize(&w);
	free(isql);
	free(bsql);
	free(newid);
	return rc;
}

/* ------------------------------------------------------------------ import */

static void
pimport_fini(struct pimport *im)
{
	free(im->colfield);
	free(im->colname);
	big_free(im->rows, (size_t)im->caprows * sizeof(*im->rows));
	free(im->db);
	smap_fini(&im->ids);
	smap_fini(&im->emails);
	smap_fini(&im->dbext);
	smap_fini(&im->dbemail);
	smap_fini(&im->zones);
	smap_fini(&im->lists);
	free(im->list_json);
	arena_free(&im->arena);
}

static int
people_read_all(struct pimport *im, struct csv_reader *r, struct diag *d)
{
	if (people_read_header(im, r, d) != 0)
		return d->code != DIAG_OK ? -1 : 0;
	struct csv_record rec;
	struct diag cd;
	int rc;
	while ((rc = csv_read(r, &rec, &cd)) != 0) {
		if (rc < 0) {
			perr_add(im, cd.msg);
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
		perr(im, 2, 1, NULL, "no people: the file has a header but no rows");
	return 0;
}

int
people_import(struct store *st, FILE *f, const char *name, const struct people_import_opts *o,
	      struct people_import_result *res, struct diag *d)
{
	static const struct people_import_opts defaults;
	struct diag local;
	if (d == NULL)
		d = &local;
	memset(res, 0, sizeof(*res));
	diag_clear(d);
	struct pimport im = {.st = st, .name = name, .o = o ? o : &defaults, .res = res};
	ptimes_now(&im.times.wall, &im.times.cpu);
	time_t now = store_time(st);
	struct tm tm;
	gmtime_r(&now, &tm);
	im.this_year = tm.tm_year + 1900;

	struct csv_reader *r = csv_reader_new_file(f, name, d);
	if (r == NULL)
		return -1;
	/* A people row is typically 100-300 bytes: size the maps and rows from the file once
	 * (a low guess only means some growing later). */
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
		size_t guess = (size_t)sb.st_size / 160 + 16;
		if (guess > 4000000)
			guess = 4000000;
		smap_reserve(&im.ids, guess);
		smap_reserve(&im.emails, guess);
		/* A good first guess saves copying (and page-faulting) the row array as it doubles. */
		people_reserve_rows(&im, guess);
		/* The cells, plus lower-case e-mail keys, fit in one arena block. */
		size_t text = (size_t)sb.st_size + (size_t)sb.st_size / 4;
		im.arena.next_cap = text < (256u << 20) ? text : (256u << 20);
	}
	int rc = people_read_all(&im, r, d);
	csv_reader_delete(r);
	ptimes_mark(&im.times, "read");
	/* Cross-row checks run even after row errors, so one run reports every problem. */
	if (rc == 0 && im.ncols > 0 && im.fieldcol[PF_ID] >= 0) {
		if (people_load_db(&im, d) != 0)
			rc = -1;
		else {
			people_check_db_emails(&im);
			people_resolve_managers(&im);
			rc = people_check_cycles(&im, d);
		}
		ptimes_mark(&im.times, "check");
	}
	if (rc == 0 && res->nerrors > 0) {
		perr_sort(&im);
		diag_set(d, DIAG_INVALID, "%s: %ld error%s; nothing was imported", name, res->nerrors,
			 res->nerrors == 1 ? "" : "s");
		rc = -1;
	}
	if (rc == 0) {
		people_mark_unchanged(&im);
		res->total = im.nrows;
		for (int i = 0; i < im.nrows; i++) {
			res->created += im.rows[i].db_id == 0;
			res->unchanged += im.rows[i].same;
		}
		res->updated = res->total - res->created - res->unchanged;
		if (!im.o->dry_run)
			rc = people_write(&im, d);
	}
	pimport_fini(&im);
	ptimes_mark(&im.times, "free");
	tlog(TLOG_DEBUG, "%s: %d rows; phases (wall/cpu s): %s", name, im.nrows, im.times.text);
	return rc;
}

int
people_import_file(struct store *st, const char *path, const struct people_import_opts *o,
		   struct people_import_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return diag_set(d, DIAG_IO, "cannot open %s: %s", path, strerror(errno));
	int rc = people_import(st, f, path, o, res, d);
	fclose(f);
	return rc;
}

void
people_import_result_fini(struct people_import_result *res)
{
	for (int i = 0; i < res->nkept; i++)
		free(res->errors[i]);
	free(res->errors);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------------ reading back */

/* Columns that hold JSON text: returned as JSON values, not strings. */
static int
people_json_column(const char *name)
{
	static const char *const cols[] = {"skills",       "topics_wanted", "languages", "attributes",
					   "topics_offered", "availability", "explanation", "payload",
					   "config"};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(name, cols[i]) == 0)
			return 1;
	return 0;
}

/* The current row of s as an object: one key per column, typed as SQLite stored it. */
static json_t *
people_row_json(sqlite3_stmt *s)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(s);
	for (int i = 0; o != NULL && i < n; i++) {
		const char *col = sqlite3_column_name(s, i);
		json_t *v;
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(s, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(s, i));
			break;
		case SQLITE_NULL:
			v = json_null();
			break;
		default: {
			const char *t = (const char *)sqlite3_column_text(s, i);
			v = people_json_column(col) ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
			if (v == NULL)
				v = json_string(t);
		}
		}
		json_object_set_new(o, col, v);
	}
	return o;
}

/* Runs a query with up to one integer parameter and collects its rows. */
static json_t *
people_rows_json(struct store *st, const char *sql, long long param, struct diag *d)
{
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return NULL;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, param);
	json_t *arr = json_array();
	int rc = SQLITE_DONE, nomem = arr == NULL;
	/* A row that cannot be built is out of memory, not a row to leave out of the answer. */
	while (!nomem && (rc = sqlite3_step(s)) == SQLITE_ROW)
		nomem = json_array_append_new(arr, people_row_json(s)) != 0;
	if (nomem || rc != SQLITE_DONE) {
		if (nomem)
			diag_set(d, DIAG_NOMEM, "out of memory reading rows");
		else
			store_error(st, d, "reading rows");
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(s);
	return arr;
}

#define PEOPLE_PUBLIC_COLUMNS                                                                      \
	"p.external_id AS id, p.name, p.email, p.title, p.level, p.department, p.team,"           \
	" p.location, p.timezone, m.external_id AS manager, p.birth_year, p.generation,"          \
	" p.hire_date, p.status, p.skills, p.topics_wanted, p.languages, p.attributes,"           \
	" p.created_at, p.updated_at, p.id AS person_id"

json_t *
people_list_json(struct store *st, struct diag *d)
{
	return people_rows_json(st,
				"SELECT " PEOPLE_PUBLIC_COLUMNS
				" FROM people p LEFT JOIN people m ON m.id = p.manager_id"
				" ORDER BY p.external_id",
				0, d);
}

/* Finds a person by external id, else by e-mail; their people.id, or 0 + DIAG_NOTFOUND. */
static long long
people_find(struct store *st, const char *key, struct diag *d)
{
	sqlite3_stmt *s = store_prepare(st,
					"SELECT id FROM people WHERE external_id = ?1"
					" UNION ALL SELECT id FROM people WHERE email = ?1 LIMIT 1",
					d);
	if (s == NULL)
		return 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	long long id = 0;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
	else
		store_error(st, d, "looking up '%s'", key);
	sqlite3_finalize(s);
	return id;
}

json_t *
people_show_json(struct store *st, const char *key, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return NULL;
	json_t *rows = people_rows_json(st,
					"SELECT " PEOPLE_PUBLIC_COLUMNS ", m.name AS manager_name"
					" FROM people p LEFT JOIN people m ON m.id = p.manager_id"
					" WHERE p.id = ?",
					id, d);
	if (rows == NULL || json_array_size(rows) != 1) {
		json_decref(rows);
		if (rows != NULL)
			diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
		return NULL;
	}
	json_t *p = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	json_t *mid = json_object_get(p, "manager");
	json_t *mgr = json_is_string(mid) ? json_pack("{s:O, s:O}", "id", mid, "name",
						      json_object_get(p, "manager_name"))
					  : json_null();
	json_object_set_new(p, "manager", mgr);
	json_object_del(p, "manager_name");
	return p;
}

/* Every table with rows about a person, and how to find them (?1 = people.id). */
static const struct {
	const char *table;
	const char *sql;
} people_tables[] = {
	{"enrollments", "SELECT * FROM enrollments WHERE person_id = ?1 ORDER BY id"},
	{"matches", "SELECT * FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1 ORDER BY id"},
	{"vetoes", "SELECT * FROM vetoes WHERE mentor_id = ?1 OR mentee_id = ?1 ORDER BY id"},
	{"sessions", "SELECT * FROM sessions WHERE match_id IN"
		     " (SELECT id FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1) ORDER BY id"},
	{"feedback", "SELECT * FROM feedback WHERE author_id = ?1 OR match_id IN"
		     " (SELECT id FROM matches WHERE mentor_id = ?1 OR mentee_id = ?1) ORDER BY id"},
	{"reward_ledger", "SELECT * FROM reward_ledger WHERE person_id = ?1 ORDER BY id"},
	{"events", "SELECT * FROM events WHERE subject_id = ?1 ORDER BY id"},
	{"outbox", "SELECT * FROM outbox WHERE recipient_id = ?1 ORDER BY id"},
};

json_t *
people_export_json(struct store *st, const char *key, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return NULL;
	json_t *out = json_object();
	json_t *person = people_rows_json(st, "SELECT * FROM people WHERE id = ?", id, d);
	if (out == NULL || person == NULL)
		goto fail;
	json_object_set(out, "person", json_array_get(person, 0));
	json_decref(person);
	for (size_t i = 0; i < sizeof(people_tables) / sizeof(people_tables[0]); i++) {
		json_t *rows = people_rows_json(st, people_tables[i].sql, id, d);
		if (rows == NULL)
			goto fail;
		json_object_set_new(out, people_tables[i].table, rows);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* ------------------------------------------------------------------ SHA-256 */

/* FIPS 180-4. Small and only used for pseudonyms, so written for clarity over speed. */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t
rotr(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha256_k[i] + w[i];
		uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void
people_sha256(const void *data, size_t len, unsigned char out[32])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t n = len;
	for (; n >= 64; n -= 64, p += 64)
		sha256_block(h, p);
	/* The tail, a 1 bit, zeros, and the message length in bits (big-endian). */
	unsigned char last[128] = {0};
	memcpy(last, p, n);
	last[n] = 0x80;
	size_t total = n + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		last[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, last);
	if (total == 128)
		sha256_block(h, last + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

int
people_pseudonym(const unsigned char *salt, size_t saltlen, const char *external_id, char out[17])
{
	size_t n = strlen(external_id);
	unsigned char *buf = malloc(saltlen + n + 1);
	unsigned char digest[32];
	if (buf == NULL) {
		out[0] = '\0';
		return -1;
	}
	memcpy(buf, salt, saltlen);
	memcpy(buf + saltlen, external_id, n);
	people_sha256(buf, saltlen + n, digest);
	free(buf);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* ------------------------------------------------------------------ erase */

static int
people_exec_bound(struct store *st, const char *sql, long long id, const char *text, long *changes,
		  struct diag *d)
{
	sqlite3_stmt *s = store_prepare(st, sql, d);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, id);
	if (sqlite3_bind_parameter_count(s) >= 2)
		bind_text_or_null(s, 2, text);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(st, d, "erasing");
	if (changes != NULL)
		*changes = sqlite3_changes(store_db(st));
	return 0;
}

/* Counts the rows the cascade will remove, for the report. */
static long
people_count_rows(struct store *st, long long id, struct diag *d)
{
	long total = 1;
	for (size_t i = 0; i < sizeof(people_tables) / sizeof(people_tables[0]); i++) {
		if (strcmp(people_tables[i].table, "events") == 0)
			continue; /* events are scrubbed, not deleted */
		char sql[512];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s)", people_tables[i].sql);
		sqlite3_stmt *s = store_prepare(st, sql, d);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_finalize(s);
			return store_error(st, d, "counting %s", people_tables[i].table);
		}
		total += (long)sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return total;
}

/* memmem without _GNU_SOURCE. */
static int
people_mem_contains(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return 1;
	for (const char *p = hay, *end = hay + n; (size_t)(end - p) >= m;) {
		p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
		if (p == NULL)
			return 0;
		if (memcmp(p, needle, m) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* 1 when needle's bytes occur anywhere in the file at path, 0 when not, -1 when the file
 * could not be read through (the caller must then assume they may be there). */
static int
people_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t n = strlen(needle), cap = 1 << 20;
	char *buf = malloc(cap + n);
	int found = buf == NULL ? -1 : 0;
	size_t keep = 0;
	while (buf != NULL && !found) {
		size_t got = fread(buf + keep, 1, cap, f);
		if (got == 0) {
			if (ferror(f))
				found = -1;
			break;
		}
		found = people_mem_contains(buf, keep + got, needle, n);
		/* Carry the last n-1 bytes so a match across two reads is seen. */
		size_t total = keep + got;
		keep = n - 1 < total ? n - 1 : total;
		memmove(buf, buf + total - keep, keep);
	}
	free(buf);
	fclose(f);
	return found;
}

static int
people_erase_rows(struct store *st, long long id, const char *email, const char *pseudonym,
		  struct people_erase_result *res, struct diag *d)
{
	/* Events about them keep their subject_id (a bare number) but lose their content; events
	 * that merely mention the e-mail or the quoted external id are scrubbed as well. The id
	 * comes from the row itself: res->external_id may be cut short for display. */
	sqlite3_stmt *s = store_prepare(st,
					"UPDATE events SET payload = '{\"erased\":true}',"
					" actor = CASE WHEN actor IN (?2, (SELECT external_id FROM people"
					" WHERE id = ?1)) THEN NULL ELSE actor END"
					" WHERE subject_id = ?1 OR instr(payload, ?2) > 0"
					" OR instr(payload, '\"' || (SELECT external_id FROM people"
					" WHERE id = ?1) || '\"') > 0",
					d);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, email, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_error(st, d, "scrubbing events");
	res->events_scrubbed = sqlite3_changes(store_db(st));

	if (people_exec_bound(st, "UPDATE people SET manager_id = NULL WHERE manager_id = ?1", id,
			      NULL, &res->reports_detached, d) != 0)
		return -1;
	/* The cascades remove enrollments, matches (and their sessions and feedback), vetoes,
	 * feedback they wrote, rewards and their outbox messages. */
	long gone = 0;
	if (people_exec_bound(st, "DELETE FROM people WHERE id = ?1", id, NULL, &gone, d) != 0)
		return -1;
	if (gone != 1)
		return diag_set(d, DIAG_NOTFOUND, "the person disappeared during the erase");

	char payload[64];
	snprintf(payload, sizeof(payload), "{\"pseudonym\":\"%s\"}", pseudonym);
	return events_append(st,
			     &(struct event){.kind = "people.erased", .subject_id = id,
					     .payload_json = payload},
			     NULL, d);
}

/* Pushes the WAL into the database and empties it; vacuums if the e-mail survives in the file. */
static int
people_erase_flush(struct store *st, const char *email, struct people_erase_result *res,
		   struct diag *d)
{
	int busy = 0;
	sqlite3 *db = store_db(st);
	if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_BUSY)
		busy = 1;
	/* Unsure (the file could not be read) counts as found: vacuum rather than leave it. */
	if (people_file_contains(store_path(st), email) != 0) {
		if (store_exec(st, "VACUUM", d) != 0)
			return diag_prefix(d, "vacuum after erase");
		res->vacuumed = 1;
		if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
		    SQLITE_BUSY)
			busy = 1;
	}
	res->checkpointed = !busy;
	if (busy)
		tlog(TLOG_WARN, "%s: another connection kept the WAL from being emptied; "
				"the erased data leaves tandem.db-wal at the next checkpoint",
		     store_path(st));
	return 0;
}

/* Reads who is being erased, inside the write transaction so an import cannot change the
 * e-mail or id between the lookup and the scrub; the person's people.id, or 0 + diag. */
static long long
people_erase_identify(struct store *st, const char *key, struct people_erase_result *res,
		      char *email, size_t emailsize, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return 0;
	sqlite3_stmt *s = store_prepare(st, "SELECT external_id, email FROM people WHERE id = ?", d);
	if (s == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	/* An empty e-mail must never reach the scrub: instr(payload, '') matches every event. */
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_error(st, d, "reading '%s'", key);
		id = 0;
	} else {
		snprintf(res->external_id, sizeof(res->external_id), "%s", sqlite3_column_text(s, 0));
		snprintf(email, emailsize, "%s", sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	return id;
}

int
people_erase(struct store *st, const char *key, struct people_erase_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	unsigned char salt[32];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return diag_set(d, DIAG_IO, "cannot get random bytes for the pseudonym: %s",
				strerror(errno));

	/* secure_delete zeroes freed content instead of leaving it in free pages. */
	if (store_exec(st, "PRAGMA secure_delete=ON", d) != 0 || store_begin(st, d) != 0)
		return -1;
	char email[512] = "";
	long long id = people_erase_identify(st, key, res, email, sizeof(email), d);
	if (id == 0) {
		store_rollback(st);
		return -1;
	}
	if (people_pseudonym(salt, sizeof(salt), res->external_id, res->pseudonym) != 0) {
		store_rollback(st);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	long rows = people_count_rows(st, id, d);
	if (rows < 0 || people_erase_rows(st, id, email, res->pseudonym, res, d) != 0) {
		store_rollback(st);
		return -1;
	}
	res->rows = rows;
	if (store_commit(st, d) != 0)
		return -1;
	return people_erase_flush(st, email, res, d);
}

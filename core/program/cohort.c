/*
 * cohort: the cohort of a run, built by hand or loaded from the store, and
 * finished into the feature snapshot. See cohort.h for the contract and the
 * loading rules.
 */
#include "program/cohort.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/hash.h"
#include "base/strmap.h"
#include "base/vec.h"
#include "program/lifecycle.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/tz.h"

void
cohort_init(struct cohort *c)
{
	memset(c, 0, sizeof(*c));
}

static void
person_fini(struct cohort_person *p)
{
	char **s[] = {&p->external_id, &p->name,      &p->email,    &p->title,
		      &p->department,  &p->team,      &p->location, &p->timezone,
		      &p->generation,  &p->languages, &p->skills,   &p->topics_wanted,
		      &p->attributes};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
}

static void
member_fini(struct cohort_member *m)
{
	free(m->role);
	free(m->topics_offered);
	free(m->topics_wanted);
	free(m->availability);
	free(m->attributes);
}

void
cohort_fini(struct cohort *c)
{
	for (int i = 0; i < c->npeople; i++)
		person_fini(&c->people[i]);
	for (int i = 0; i < c->nmentors; i++)
		member_fini(&c->mentors[i]);
	for (int i = 0; i < c->nmentees; i++)
		member_fini(&c->mentees[i]);
	free(c->people);
	free(c->mentors);
	free(c->mentees);
	free(c->kept);
	free(c->history);
	free(c->vetoes);
	free(c->program);
	feat_snapshot_delete(c->snap);
	memset(c, 0, sizeof(*c));
}

/* Appends a zeroed element to the array *arr of *n elements (room for *cap). */
static void *
push_slot(void *arr, int *n, size_t *cap, size_t elem)
{
	if (vec_grow(arr, cap, (size_t)*n + 1, elem, NULL) < 0)
		return NULL;
	void *slot = *(char **)arr + (size_t)(*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

struct cohort_person *
cohort_add_person(struct cohort *c)
{
	struct cohort_person *p = push_slot(&c->people, &c->npeople, &c->cappeople, sizeof(*p));
	if (p)
		p->manager = -1;
	return p;
}

struct cohort_member *
cohort_add_member(struct cohort *c, int mentor)
{
	if (mentor)
		return push_slot(&c->mentors, &c->nmentors, &c->capmentors,
				 sizeof(struct cohort_member));
	return push_slot(&c->mentees, &c->nmentees, &c->capmentees, sizeof(struct cohort_member));
}

int
cohort_add_kept(struct cohort *c, int mentor, int mentee, int64_t match_id, int pinned)
{
	struct cohort_kept *k = push_slot(&c->kept, &c->nkept, &c->capkept, sizeof(*k));
	if (k == NULL)
		return -1;
	*k = (struct cohort_kept){mentor, mentee, match_id, pinned};
	return 0;
}

int
cohort_add_history(struct cohort *c, int a, int b)
{
	int *h = push_slot(&c->history, &c->nhistory, &c->caphistory, sizeof(int[2]));
	if (h == NULL)
		return -1;
	h[0] = a;
	h[1] = b;
	return 0;
}

int
cohort_add_veto(struct cohort *c, int mentor_person, int mentee_person)
{
	int *v = push_slot(&c->vetoes, &c->nvetoes, &c->capvetoes, sizeof(int[2]));
	if (v == NULL)
		return -1;
	v[0] = mentor_person;
	v[1] = mentee_person;
	return 0;
}

/* A JSON array of strings, parsed; the pointers live as long as *hold. */
struct strlist {
	json_t *hold;
	const char **v;
	int n;
};

static int
strlist_parse(const char *text, const char *what, struct strlist *l, struct diag *d)
{
	memset(l, 0, sizeof(*l));
	if (text == NULL || text[0] == '\0')
		return 0;
	json_error_t err;
	l->hold = json_loads(text, 0, &err);
	if (l->hold == NULL || !json_is_array(l->hold)) {
		json_decref(l->hold);
		l->hold = NULL;
		return diag_set(d, DIAG_INVALID, "%s is not a JSON list: %s", what, text);
	}
	size_t n = json_array_size(l->hold);
	l->v = calloc(n ? n : 1, sizeof(char *));
	if (l->v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(l->hold, i);
		if (json_is_string(e))
			l->v[l->n++] = json_string_value(e);
	}
	return 0;
}

static void
strlist_fini(struct strlist *l)
{
	json_decref(l->hold);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The list of the member if non-empty, else the person's fallback (skills, topics_wanted). */
static int
member_list(const char *own, const char *fallback, const char *what, struct strlist *l,
	    struct diag *d)
{
	if (strlist_parse(own, what, l, d) < 0)
		return -1;
	if (l->n > 0 || fallback == NULL)
		return 0;
	strlist_fini(l);
	return strlist_parse(fallback, what, l, d);
}

static int
add_side(struct cohort *c, int mentor, struct diag *d)
{
	int n = mentor ? c->nmentors : c->nmentees;
	for (int i = 0; i < n; i++) {
		struct cohort_member *m = mentor ? &c->mentors[i] : &c->mentees[i];
		struct cohort_person *p = &c->people[m->person];
		struct strlist topics, slots;
		if (member_list(mentor ? m->topics_offered : m->topics_wanted,
				mentor ? p->skills : p->topics_wanted, "topics", &topics, d) < 0)
			return -1;
		if (strlist_parse(m->availability, "availability", &slots, d) < 0) {
			strlist_fini(&topics);
			return -1;
		}
		int rc = mentor ? feat_add_mentor(c->snap, m->person, m->capacity, topics.v,
						  topics.n, slots.v, slots.n, d)
				: feat_add_mentee(c->snap, m->person, topics.v, topics.n, slots.v,
						  slots.n, d);
		strlist_fini(&topics);
		strlist_fini(&slots);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static uint64_t
mix_int(uint64_t h, int64_t v)
{
	return hash_mix64(h ^ (uint64_t)v);
}

/* NULL and "" differ: a NULL field is left out of the person tables, "" is too, but
 * nothing is lost by telling them apart. */
static uint64_t
mix_str(uint64_t h, const char *s)
{
	return hash_mix64(h ^ (s ? hash_str(s) : 0x9e3779b97f4a7c15ull));
}

static uint64_t
mix_member(uint64_t h, const struct cohort *c, const struct cohort_member *m)
{
	const struct cohort_person *p = &c->people[m->person];
	const char *s[] = {m->role,	     m->topics_offered, m->topics_wanted, m->availability,
			   m->attributes,    p->external_id,	p->name,	  p->email,
			   p->title,	     p->department,	p->team,	  p->location,
			   p->timezone,	     p->generation,	p->languages,	  p->skills,
			   p->topics_wanted, p->attributes};
	h = mix_int(mix_int(mix_int(h, m->capacity), p->level), p->id);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		h = mix_str(h, s[i]);
	return h;
}

/*
 * The cohort's id: a digest of what the hooks' person tables are built from
 * (both sides, in order, with their people). Cohorts with equal sides share an
 * id, and may share the tables a worker holds under it; any change gives
 * another id. Computed, not counted: no process-wide counter. Never 0.
 */
static uint64_t
cohort_digest(const struct cohort *c)
{
	uint64_t h = mix_int(mix_int(hash_str("cohort"), c->nmentors), c->nmentees);
	for (int i = 0; i < c->nmentors; i++)
		h = mix_member(h, c, &c->mentors[i]);
	for (int i = 0; i < c->nmentees; i++)
		h = mix_member(h, c, &c->mentees[i]);
	return h ? h : 1;
}

int
cohort_finish(struct cohort *c, struct diag *d)
{
	c->id = cohort_digest(c);
	feat_snapshot_delete(c->snap);
	c->snap = feat_snapshot_new();
	if (c->snap == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; i < c->npeople; i++) {
		struct cohort_person *p = &c->people[i];
		struct strlist langs;
		if (strlist_parse(p->languages, "languages", &langs, d) < 0)
			return diag_prefix(d, "person %s", p->external_id);
		struct feat_person_in in = {
		    .id = p->id,
		    .level = p->level,
		    .generation = p->generation,
		    .department = p->department,
		    .team = p->team,
		    .location = p->location,
		    .tz_known = p->tz_known,
		    .tz_offset_min = p->tz_offset_min,
		    .languages = langs.v,
		    .nlanguages = langs.n,
		};
		int rc = feat_add_person(c->snap, &in, d);
		strlist_fini(&langs);
		if (rc < 0)
			return -1;
	}
	for (int i = 0; i < c->npeople; i++)
		if (c->people[i].manager >= 0 &&
		    feat_set_manager(c->snap, i, c->people[i].manager, d) < 0)
			return -1;
	if (add_side(c, 1, d) < 0 || add_side(c, 0, d) < 0)
		return -1;
	for (int i = 0; i < c->nhistory; i++)
		if (feat_add_history(c->snap, c->history[i][0], c->history[i][1], d) < 0)
			return -1;
	for (int i = 0; i < c->nvetoes; i++)
		if (feat_add_veto(c->snap, c->vetoes[i][0], c->vetoes[i][1], d) < 0)
			return -1;
	return feat_snapshot_finish(c->snap, d);
}

int
cohort_mentor_of(const struct cohort *c, int person)
{
	for (int i = 0; i < c->nmentors; i++)
		if (c->mentors[i].person == person)
			return i;
	return -1;
}

int
cohort_mentee_of(const struct cohort *c, int person)
{
	for (int i = 0; i < c->nmentees; i++)
		if (c->mentees[i].person == person)
			return i;
	return -1;
}

int
cohort_person_index(const struct cohort *c, int64_t id)
{
	int lo = 0, hi = c->npeople - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (c->people[mid].id == id)
			return mid;
		if (c->people[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* ---- loading from the store ------------------------------------------------------------ */

/* A copy of a text column (NULL for SQL NULL); -1 when out of memory. */
static int
col_dup(struct stmt *s, int col, char **out, struct diag *d)
{
	const char *t;
	*out = NULL;
	if (stmt_text(s, col, &t, d) < 0)
		return -1;
	if (t && (*out = strdup(t)) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

/*
 * Current UTC offsets of the zones seen so far (a cohort has few distinct
 * zones): zone -> minutes * 2 + 1 when the zone is known, 0 when it is not.
 */
static int
zone_offset(struct strmap *zones, const char *zone, time_t when, int *known, int *off,
	    struct diag *d)
{
	int added;
	struct strmap_entry *e = strmap_intern(zones, zone, &added, d);
	if (e == NULL)
		return -1;
	if (added) {
		struct tm tm;
		if (tz_valid(zone) && tz_utc_to_local(zone, when, &tm, NULL) == 0)
			e->num = (int64_t)(tm.tm_gmtoff / 60) * 2 + 1;
	}
	*known = (int)(e->num & 1);
	*off = *known ? (int)((e->num - 1) / 2) : 0;
	return 0;
}

/* Reads one row of the people query into a new person; *mgr = its manager_id (0 = none). */
static int
read_person(struct stmt *s, struct cohort *c, struct strmap *zones, time_t now, int64_t *mgr,
	    struct diag *d)
{
	struct cohort_person *p = cohort_add_person(c);
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	p->id = stmt_int64(s, 0);
	p->level = (int)stmt_int64(s, 5);
	*mgr = stmt_is_null(s, 15) ? 0 : stmt_int64(s, 15);
	if (col_dup(s, 1, &p->external_id, d) || col_dup(s, 2, &p->name, d) ||
	    col_dup(s, 3, &p->email, d) || col_dup(s, 4, &p->title, d) ||
	    col_dup(s, 6, &p->department, d) || col_dup(s, 7, &p->team, d) ||
	    col_dup(s, 8, &p->location, d) || col_dup(s, 9, &p->timezone, d) ||
	    col_dup(s, 10, &p->generation, d) || col_dup(s, 11, &p->languages, d) ||
	    col_dup(s, 12, &p->skills, d) || col_dup(s, 13, &p->topics_wanted, d) ||
	    col_dup(s, 14, &p->attributes, d))
		return -1;
	if (p->timezone)
		return zone_offset(zones, p->timezone, now, &p->tz_known, &p->tz_offset_min, d);
	return 0;
}

/* Every person of the organization, ordered by id, with their managers' indexes. */
static int
load_people(struct store *st, struct cohort *c, struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "loading people",
			 "SELECT id, external_id, name, email, title, level, department, team, "
			 "location, timezone, generation, languages, skills, topics_wanted, "
			 "attributes, manager_id FROM people ORDER BY id",
			 d) < 0)
		return -1;
	struct vec mgr;
	vec_init(&mgr, sizeof(int64_t));
	struct strmap zones;
	strmap_init(&zones, STRMAP_COPY_KEYS);
	time_t now = store_time(st);
	int rc;
	while ((rc = stmt_step(&s, d)) == STMT_ROW) {
		int64_t *m = vec_push_zero(&mgr, d);
		if (m == NULL || read_person(&s, c, &zones, now, m, d) < 0) {
			rc = -1;
			break;
		}
	}
	stmt_finalize(&s);
	strmap_fini(&zones);
	if (rc == STMT_DONE) {
		const int64_t *ids = mgr.data;
		for (int i = 0; i < c->npeople; i++)
			c->people[i].manager = ids[i] ? cohort_person_index(c, ids[i]) : -1;
	}
	vec_fini(&mgr);
	return rc == STMT_DONE ? 0 : -1;
}

/* Reads one enrollment row into a member of each side its role puts it on. */
static int
read_member(struct stmt *s, struct cohort *c, struct diag *d)
{
	const char *role;
	if (stmt_text(s, 2, &role, d) < 0)
		return -1;
	int as[2] = {strcmp(role, "mentee") != 0, strcmp(role, "mentor") != 0};
	for (int side = 0; side < 2; side++) {
		if (!as[side])
			continue;
		struct cohort_member *m = cohort_add_member(c, side == 0);
		if (m == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		m->enrollment_id = stmt_int64(s, 0);
		m->person = cohort_person_index(c, stmt_int64(s, 1));
		m->capacity = side == 0 ? (int)stmt_int64(s, 3) : 1;
		if (col_dup(s, 2, &m->role, d) || col_dup(s, 4, &m->topics_offered, d) ||
		    col_dup(s, 5, &m->topics_wanted, d) || col_dup(s, 6, &m->availability, d) ||
		    col_dup(s, 7, &m->attributes, d))
			return -1;
	}
	return 0;
}

/* The enrollments with consent of active people, ordered by external id. */
static int
load_enrollments(struct store *st, struct cohort *c, struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "loading enrollments",
			 "SELECT e.id, e.person_id, e.role, e.capacity, e.topics_offered, "
			 "e.topics_wanted, e.availability, e.attributes FROM enrollments e "
			 "JOIN people p ON p.id = e.person_id "
			 "WHERE e.program_id = ?1 AND e.consent = 1 AND p.status = 'active' "
			 "ORDER BY p.external_id",
			 d) < 0 ||
	    stmt_bind_int64(&s, 1, c->program_id, d) < 0) {
		stmt_finalize(&s);
		return -1;
	}
	int rc;
	while ((rc = stmt_step(&s, d)) == STMT_ROW)
		if (read_member(&s, c, d) < 0) {
			rc = -1;
			break;
		}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

/* Runs a query of (people.id, people.id, match id, flag) rows, with ?1 = arg, and hands
 * each pair to fn. */
static int
load_pairs(struct store *st, const char *what, const char *sql, int64_t arg, struct cohort *c,
	   int (*fn)(struct cohort *, int, int, int64_t, int), struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, what, sql, d) < 0 ||
	    (stmt_param_count(&s) > 0 && stmt_bind_int64(&s, 1, arg, d) < 0)) {
		stmt_finalize(&s);
		return -1;
	}
	int rc;
	while ((rc = stmt_step(&s, d)) == STMT_ROW) {
		int a = cohort_person_index(c, stmt_int64(&s, 0));
		int b = cohort_person_index(c, stmt_int64(&s, 1));
		if (a >= 0 && b >= 0 &&
		    fn(c, a, b, stmt_int64(&s, 2), (int)stmt_int64(&s, 3)) < 0) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

static int
add_history(struct cohort *c, int a, int b, int64_t id, int flag)
{
	(void)id;
	(void)flag;
	return cohort_add_history(c, a, b);
}

static int
add_veto(struct cohort *c, int a, int b, int64_t id, int flag)
{
	(void)id;
	(void)flag;
	return cohort_add_veto(c, a, b);
}

static int
add_kept(struct cohort *c, int a, int b, int64_t id, int pinned)
{
	int mentor = cohort_mentor_of(c, a), mentee = cohort_mentee_of(c, b);
	if (mentor < 0 || mentee < 0) {
		tlog(TLOG_WARN, "match %lld: %s is no longer enrolled with consent; not kept",
		     (long long)id, c->people[mentor < 0 ? a : b].external_id);
		return 0;
	}
	return cohort_add_kept(c, mentor, mentee, id, pinned);
}

/* The first steps of every load: c initialized, the people and the program's members. */
static int
load_members(struct store *st, int64_t program_id, const char *program, struct cohort *c,
	     struct diag *d)
{
	cohort_init(c);
	c->program_id = program_id;
	c->program = strdup(program ? program : "");
	if (c->program == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return load_people(st, c, d) < 0 || load_enrollments(st, c, d) < 0 ? -1 : 0;
}

/* The last steps of every load: the pairing history (without match except_match), the
 * program's vetoes, then the snapshot. */
static int
load_history_finish(struct store *st, int64_t except_match, struct cohort *c, struct diag *d)
{
	if (load_pairs(st, "loading the pairing history",
		       "SELECT mentor_id, mentee_id, id, 0 FROM matches "
		       "WHERE status IN ('approved', 'active', 'ended') AND id <> ?1",
		       except_match, c, add_history, d) < 0 ||
	    load_pairs(st, "loading vetoes",
		       "SELECT mentor_id, mentee_id, id, 0 FROM vetoes WHERE program_id = ?1",
		       c->program_id, c, add_veto, d) < 0)
		return -1;
	return cohort_finish(c, d);
}

int
cohort_load(struct store *st, int64_t program_id, const char *program, struct cohort *c,
	    struct diag *d)
{
	return cohort_load_except(st, program_id, program, 0, c, d);
}

/* ---- a rematch's cohort ------------------------------------------------------------------ */

/*
 * The mentees a rematch keeps (people ids, ascending): the freed ones (a match of the
 * program ended, not by the program's end, and no approved or active match of theirs in
 * it since) and the mentees of the pairs it keeps (kept_sql).
 */
static const char rematch_freed_sql[] =
    "SELECT m.mentee_id FROM matches m WHERE m.program_id = ?1 AND m.status = 'ended' "
    "AND COALESCE(m.end_reason, '') <> '" LIFECYCLE_PROGRAM_ENDED "' AND NOT EXISTS "
    "(SELECT 1 FROM matches n WHERE n.program_id = ?1 AND n.mentee_id = m.mentee_id "
    "AND n.status IN ('approved', 'active'))";

/* What a rematch keeps: what every run keeps, and the unreviewed proposals of everyone
 * who is not freed (other pairs' proposals keep their capacity). */
static const char rematch_kept_sql[] =
    "SELECT mentor_id, mentee_id, id, pinned FROM matches WHERE program_id = ?1 "
    "AND status NOT IN ('rejected', 'ended', 'superseded') "
    "AND (pinned = 1 OR status IN ('approved', 'active') OR mentee_id NOT IN (%s)) "
    "ORDER BY id";

/* 1 when people id `id` is in the ascending ids[0..n). */
static int
has_id(const int64_t *ids, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return 1;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The people ids column 0 of sql (?1 = program_id) gives, sorted and unique, appended to v. */
static int
read_ids(struct store *st, const char *what, const char *sql, int64_t program_id, struct vec *v,
	 struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, what, sql, d) < 0 || stmt_bind_int64(&s, 1, program_id, d) < 0) {
		stmt_finalize(&s);
		return -1;
	}
	int rc;
	while ((rc = stmt_step(&s, d)) == STMT_ROW) {
		int64_t *slot = vec_push_zero(v, d);
		if (slot == NULL) {
			rc = -1;
			break;
		}
		*slot = stmt_int64(&s, 0);
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return -1;
	int64_t *ids = v->data;
	if (v->len > 1)
		qsort(ids, v->len, sizeof(*ids), cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < v->len; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	v->len = k;
	return 0;
}

/* Drops the mentees whose people id is not in keep[0..n) (their strings freed). */
static void
keep_mentees(struct cohort *c, const int64_t *keep, size_t n)
{
	int k = 0;
	for (int i = 0; i < c->nmentees; i++) {
		if (has_id(keep, n, c->people[c->mentees[i].person].id))
			c->mentees[k++] = c->mentees[i];
		else
			member_fini(&c->mentees[i]);
	}
	c->nmentees = k;
}

int
cohort_load_rematch(struct store *st, int64_t program_id, const char *program,
		    struct cohort *c, struct diag *d)
{
	if (load_members(st, program_id, program, c, d) < 0)
		return -1;
	struct vec freed, keep;
	vec_init(&freed, sizeof(int64_t));
	vec_init(&keep, sizeof(int64_t));
	char kept_sql[sizeof(rematch_kept_sql) + sizeof(rematch_freed_sql)];
	char kept_mentees[sizeof(kept_sql) + 64];
	/* The inner query names the freed mentees; its ?1 is the same program. */
	snprintf(kept_sql, sizeof(kept_sql), rematch_kept_sql, rematch_freed_sql);
	snprintf(kept_mentees, sizeof(kept_mentees), "SELECT mentee_id FROM (%s)", kept_sql);
	int rc = read_ids(st, "finding the people ended matches freed", rematch_freed_sql,
			  program_id, &freed, d);
	if (rc == 0)
		rc = read_ids(st, "finding the pairs a rematch keeps", kept_mentees, program_id,
			      &keep, d);
	for (size_t i = 0; rc == 0 && i < freed.len; i++) {
		int64_t *slot = vec_push_zero(&keep, d);
		if (slot == NULL)
			rc = -1;
		else
			*slot = ((int64_t *)freed.data)[i];
	}
	if (rc == 0 && keep.len > 1) {
		int64_t *ids = keep.data;
		qsort(ids, keep.len, sizeof(*ids), cmp_id);
	}
	if (rc == 0)
		keep_mentees(c, keep.data, keep.len);
	vec_fini(&freed);
	vec_fini(&keep);
	if (rc < 0 ||
	    load_pairs(st, "loading kept matches", kept_sql, program_id, c, add_kept, d) < 0 ||
	    /* A former partner is never proposed again, whatever the policy says of
	     * previously_paired. */
	    load_pairs(st, "loading the former partners",
		       "SELECT mentor_id, mentee_id, id, 0 FROM matches "
		       "WHERE program_id = ?1 AND status = 'ended'",
		       program_id, c, add_veto, d) < 0)
		return -1;
	return load_history_finish(st, 0, c, d);
}

int
cohort_load_except(struct store *st, int64_t program_id, const char *program,
		   int64_t except_match, struct cohort *c, struct diag *d)
{
	if (load_members(st, program_id, program, c, d) < 0)
		return -1;
	if (load_pairs(st, "loading kept matches",
		       "SELECT mentor_id, mentee_id, id, pinned FROM matches WHERE program_id = ?1 "
		       "AND status NOT IN ('rejected', 'ended') "
		       "AND (pinned = 1 OR status IN ('approved', 'active')) ORDER BY id",
		       program_id, c, add_kept, d) < 0)
		return -1;
	return load_history_finish(st, except_match, c, d);
}

/*
 * feat: built-in pair features and constraints. See feat.h for the
 * contract and the definitions of each feature.
 *
 * Layout: while building, strings are interned and list members are kept as
 * interned ids in one pool; feat_snapshot_finish() turns them into bitsets of
 * `words` 64-bit words per set (one word while there are at most 64 distinct
 * topics, languages or slots, which is the common case the hot loop is
 * specialized for) and lays the mentor side out as parallel arrays, so scoring a
 * row streams through memory once.
 */
#include "program/feat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const feat_names_tab[FEAT_COUNT] = {
    "topic_fit",      "level_gap",	 "generation_gap", "cross_department",
    "cross_location", "shared_language", "tz_distance",	   "availability_overlap",
};
static const char *const pred_names_tab[FPRED_COUNT] = {
    "reporting_chain", "same_department", "same_team", "same_location", "previously_paired",
};
static const char *const generations[] = {"baby_boomer", "gen_x", "millennial", "gen_z"};

const char *
feat_name(int id)
{
	return id >= 0 && id < FEAT_COUNT ? feat_names_tab[id] : "?";
}

const char *
feat_pred_name(int id)
{
	return id >= 0 && id < FPRED_COUNT ? pred_names_tab[id] : "?";
}

int
feat_lookup(const char *name)
{
	for (int i = 0; i < FEAT_COUNT; i++)
		if (strcmp(name, feat_names_tab[i]) == 0)
			return i;
	return -1;
}

int
feat_pred_lookup(const char *name)
{
	for (int i = 0; i < FPRED_COUNT; i++)
		if (strcmp(name, pred_names_tab[i]) == 0)
			return i;
	return -1;
}

const char *
feat_names(void)
{
	return "topic_fit, level_gap, generation_gap, cross_department, cross_location, "
	       "shared_language, tz_distance, availability_overlap";
}

const char *
feat_pred_names(void)
{
	return "reporting_chain, same_department, same_team, same_location, previously_paired";
}

void
feat_verdict_text(int v, char *buf, size_t size)
{
	if (v == FV_ALLOWED)
		snprintf(buf, size, "allowed");
	else if (v == FV_SELF)
		snprintf(buf, size, "same person on both sides");
	else if (v == FV_VETOED)
		snprintf(buf, size, "vetoed by an administrator");
	else if (v >= FV_FORBID && v < FV_REQUIRE)
		snprintf(buf, size, "forbidden: %s", feat_pred_name(v - FV_FORBID));
	else if (v >= FV_REQUIRE && v < FV_RANGE)
		snprintf(buf, size, "required %s does not hold", feat_pred_name(v - FV_REQUIRE));
	else if (v >= FV_RANGE && v < FV_COUNT)
		snprintf(buf, size, "%s outside the required range", feat_name(v - FV_RANGE));
	else
		snprintf(buf, size, "unknown verdict %d", v);
}

static void init_recip(void);

/*
 * The hot loops count bits. Without -mpopcnt, __builtin_popcountll is a
 * library call; on x86-64 with GCC the hot functions are compiled twice and
 * the loader picks the POPCNT version when the CPU has it (ifunc).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__POPCNT__) &&     \
    !defined(__SANITIZE_ADDRESS__)
#define FEAT_HOT __attribute__((target_clones("popcnt", "default")))
#else
#define FEAT_HOT
#endif

/* ---- interning ------------------------------------------------------------- */

struct intern {
	char **keys; /* by id */
	int n, cap;
	int *slots; /* open addressing, id + 1, 0 = empty */
	int nslots;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int
intern_grow(struct intern *t)
{
	int ns = t->nslots ? t->nslots * 2 : 64;
	int *slots = calloc((size_t)ns, sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (int i = 0; i < t->n; i++) {
		size_t h = hash_str(t->keys[i]) & (size_t)(ns - 1);
		while (slots[h])
			h = (h + 1) & (size_t)(ns - 1);
		slots[h] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = ns;
	return 0;
}

/* The id of S, adding it when new; -1 on allocation failure. */
static int
intern_id(struct intern *t, const char *s)
{
	if ((t->n + 1) * 2 > t->nslots && intern_grow(t) < 0)
		return -1;
	size_t mask = (size_t)(t->nslots - 1);
	size_t h = hash_str(s) & mask;
	while (t->slots[h]) {
		int id = t->slots[h] - 1;
		if (strcmp(t->keys[id], s) == 0)
			return id;
		h = (h + 1) & mask;
	}
	if (t->n == t->cap) {
		int nc = t->cap ? t->cap * 2 : 32;
		char **k = realloc(t->keys, (size_t)nc * sizeof(*k));
		if (k == NULL)
			return -1;
		t->keys = k;
		t->cap = nc;
	}
	char *copy = strdup(s);
	if (copy == NULL)
		return -1;
	t->keys[t->n] = copy;
	t->slots[h] = t->n + 1;
	return t->n++;
}

static void
intern_fini(struct intern *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- growable arrays ------------------------------------------------------- */

static int
grow(void **p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return 0;
	int nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, (size_t)nc * elem);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

/* A list of interned ids kept in the pool while building. */
struct idlist {
	int off, n;
};

struct person {
	int64_t id;
	int level, gen, dept, team, loc;
	int tz_known, tz_off;
	int manager;
	struct idlist langs;
	int as_mentor, as_mentee; /* side index or -1 */
};

struct member {
	int person, capacity;
	struct idlist topics, slots;
};

struct feat_snapshot {
	struct intern cat, topics, langs, slots;
	int *pool;
	int npool, cappool;

	struct person *people;
	int npeople, cappeople;
	struct member *mentors, *mentees;
	int nmentors, capmentors, nmentees, capmentees;
	uint64_t *history; /* keys (min << 32 | max) of person pairs, sorted after finish */
	int nhistory, caphistory;
	int64_t *vetoes; /* (mentor_person << 32 | mentee_person) */
	int nvetoes, capvetoes;

	int finished;
	int tw, lw, sw; /* words per topic, language and slot set */
	int *tin, *tout;
	uint64_t *plang; /* npeople * lw */
	/* Mentor side, parallel arrays (columns). */
	int *c_person, *c_level, *c_gen, *c_dept, *c_team, *c_loc, *c_tzk, *c_tz, *c_tin, *c_tout;
	int *c_nslots;
	uint64_t *c_offered, *c_lang, *c_slots;
	/* Mentee side. */
	uint64_t *r_wanted, *r_slots;
	int *r_nwanted, *r_nslots;
	/*
	 * Per mentee, the mentors it must not meet for a reason that is not a
	 * function of attributes: CSR, sorted by mentor; excl_kind is FV_VETOED or
	 * FV_FORBID + FPRED_PREVIOUSLY_PAIRED (a veto wins when both apply).
	 */
	int *excl_ptr, *excl_col;
	uint8_t *excl_kind;
	/* The mentor side again, one cache line per mentor, when every set fits one word. */
	struct col1 *cols1;
};

/*
 * A mentor for the one-word fast path. tz is the offset in minutes, or
 * TZ_UNKNOWN; level 0 and gen/dept/team/loc -1 mean unknown, as elsewhere.
 */
struct col1 {
	uint64_t offered, lang, slots;
	int32_t level, gen, dept, team, loc, tz, tin, tout, person, nslots;
};

enum { TZ_UNKNOWN = -100000 };

struct feat_snapshot *
feat_snapshot_new(void)
{
	return calloc(1, sizeof(struct feat_snapshot));
}

void
feat_snapshot_delete(struct feat_snapshot *s)
{
	if (s == NULL)
		return;
	intern_fini(&s->cat);
	intern_fini(&s->topics);
	intern_fini(&s->langs);
	intern_fini(&s->slots);
	free(s->pool);
	free(s->people);
	free(s->mentors);
	free(s->mentees);
	free(s->history);
	free(s->vetoes);
	free(s->tin);
	free(s->tout);
	free(s->plang);
	int **ints[] = {&s->c_person, &s->c_level,   &s->c_gen,	   &s->c_dept,	 &s->c_team,
			&s->c_loc,    &s->c_tzk,     &s->c_tz,	   &s->c_tin,	 &s->c_tout,
			&s->c_nslots, &s->r_nwanted, &s->r_nslots, &s->excl_ptr, &s->excl_col};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		free(*ints[i]);
	free(s->c_offered);
	free(s->c_lang);
	free(s->c_slots);
	free(s->r_wanted);
	free(s->r_slots);
	free(s->excl_kind);
	free(s->cols1);
	free(s);
}

static int
nomem(struct diag *d)
{
	return diag_set(d, DIAG_NOMEM, "features: out of memory");
}

static int
building(struct feat_snapshot *s, struct diag *d)
{
	if (s->finished)
		return diag_set(d, DIAG_INTERNAL, "features: snapshot already finished");
	return 0;
}

static int
cat_id(struct feat_snapshot *s, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return -1;
	return intern_id(&s->cat, v);
}

/* Interns the strings into the pool; duplicates are kept (bitsets absorb them). */
static int
add_list(struct feat_snapshot *s, struct intern *t, const char *const *v, int n, struct idlist *out)
{
	out->off = s->npool;
	out->n = 0;
	if (grow((void **)&s->pool, &s->cappool, s->npool + n, sizeof(int)) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (v[i] == NULL || v[i][0] == '\0')
			continue;
		int id = intern_id(t, v[i]);
		if (id < 0)
			return -1;
		s->pool[s->npool++] = id;
		out->n++;
	}
	return 0;
}

int
feat_add_person(struct feat_snapshot *s, const struct feat_person_in *p, struct diag *d)
{
	if (building(s, d) < 0)
		return -1;
	if (p->level < 0 || p->level > 9)
		return diag_set(d, DIAG_INVALID, "features: person %lld: level %d out of 1..9",
				(long long)p->id, p->level);
	int gen = -1;
	if (p->generation && p->generation[0]) {
		for (int i = 0; i < 4; i++)
			if (strcmp(p->generation, generations[i]) == 0)
				gen = i;
		if (gen < 0)
			return diag_set(d, DIAG_INVALID,
					"features: person %lld: unknown generation '%s'",
					(long long)p->id, p->generation);
	}
	if (grow((void **)&s->people, &s->cappeople, s->npeople + 1, sizeof(struct person)) < 0)
		return nomem(d);
	struct person *q = &s->people[s->npeople];
	memset(q, 0, sizeof(*q));
	q->id = p->id;
	q->level = p->level;
	q->gen = gen;
	q->dept = cat_id(s, p->department);
	q->team = cat_id(s, p->team);
	q->loc = cat_id(s, p->location);
	q->tz_known = p->tz_known;
	q->tz_off = p->tz_offset_min;
	q->manager = -1;
	q->as_mentor = q->as_mentee = -1;
	if (add_list(s, &s->langs, p->languages, p->nlanguages, &q->langs) < 0)
		return nomem(d);
	return s->npeople++;
}

static int
check_person(const struct feat_snapshot *s, int i, struct diag *d)
{
	if (i < 0 || i >= s->npeople)
		return diag_set(d, DIAG_INVALID, "features: no person #%d", i);
	return 0;
}

int
feat_set_manager(struct feat_snapshot *s, int person, int manager, struct diag *d)
{
	if (building(s, d) < 0 || check_person(s, person, d) < 0 || check_person(s, manager, d) < 0)
		return -1;
	if (person == manager)
		return diag_set(d, DIAG_INVALID, "features: person %lld manages themself",
				(long long)s->people[person].id);
	s->people[person].manager = manager;
	return 0;
}

static int
add_member(struct feat_snapshot *s, int person, int capacity, struct intern *t,
	   const char *const *topics, int ntopics, const char *const *slots, int nslots, int mentor,
	   struct diag *d)
{
	if (building(s, d) < 0 || check_person(s, person, d) < 0)
		return -1;
	int *side = mentor ? &s->people[person].as_mentor : &s->people[person].as_mentee;
	if (*side >= 0)
		return diag_set(d, DIAG_CONFLICT, "features: person %lld is already a %s",
				(long long)s->people[person].id, mentor ? "mentor" : "mentee");
	if (capacity < 0)
		return diag_set(d, DIAG_INVALID, "features: negative capacity");
	struct member **arr = mentor ? &s->mentors : &s->mentees;
	int *n = mentor ? &s->nmentors : &s->nmentees;
	int *cap = mentor ? &s->capmentors : &s->capmentees;
	if (grow((void **)arr, cap, *n + 1, sizeof(struct member)) < 0)
		return nomem(d);
	struct member *m = &(*arr)[*n];
	m->person = person;
	m->capacity = capacity;
	if (add_list(s, t, topics, ntopics, &m->topics) < 0 ||
	    add_list(s, &s->slots, slots, nslots, &m->slots) < 0)
		return nomem(d);
	*side = *n;
	return (*n)++;
}

int
feat_add_mentor(struct feat_snapshot *s, int person, int capacity, const char *const *offered,
		int noffered, const char *const *slots, int nslots, struct diag *d)
{
	return add_member(s, person, capacity, &s->topics, offered, noffered, slots, nslots, 1, d);
}

int
feat_add_mentee(struct feat_snapshot *s, int person, const char *const *wanted, int nwanted,
		const char *const *slots, int nslots, struct diag *d)
{
	return add_member(s, person, 1, &s->topics, wanted, nwanted, slots, nslots, 0, d);
}

static uint64_t
pair_key(int a, int b)
{
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	return (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
}

int
feat_add_history(struct feat_snapshot *s, int a, int b, struct diag *d)
{
	if (building(s, d) < 0 || check_person(s, a, d) < 0 || check_person(s, b, d) < 0)
		return -1;
	if (grow((void **)&s->history, &s->caphistory, s->nhistory + 1, sizeof(uint64_t)) < 0)
		return nomem(d);
	s->history[s->nhistory++] = pair_key(a, b);
	return 0;
}

int
feat_add_veto(struct feat_snapshot *s, int mentor_person, int mentee_person, struct diag *d)
{
	if (building(s, d) < 0 || check_person(s, mentor_person, d) < 0 ||
	    check_person(s, mentee_person, d) < 0)
		return -1;
	if (grow((void **)&s->vetoes, &s->capvetoes, s->nvetoes + 1, sizeof(int64_t)) < 0)
		return nomem(d);
	s->vetoes[s->nvetoes++] = (int64_t)mentor_person << 32 | (uint32_t)mentee_person;
	return 0;
}

/* ---- finishing ------------------------------------------------------------- */

static int
words_for(int n)
{
	return n <= 64 ? 1 : (n + 63) / 64;
}

static void
fill_bits(const struct feat_snapshot *s, struct idlist l, uint64_t *out, int words, int *count)
{
	memset(out, 0, (size_t)words * sizeof(uint64_t));
	for (int i = 0; i < l.n; i++) {
		int id = s->pool[l.off + i];
		out[id >> 6] |= 1ull << (id & 63);
	}
	if (count) {
		int c = 0;
		for (int w = 0; w < words; w++)
			c += __builtin_popcountll(out[w]);
		*count = c;
	}
}

/*
 * Euler tour of the management forest, iteratively (trees may be deep).
 * tin[v] is v's preorder number and tout[v] the largest preorder number in its
 * subtree, so u is an ancestor-or-self of v iff tin[u] <= tin[v] <= tout[u].
 * A manager cycle (bad HR data) has no root: its first unvisited member is
 * treated as a root, which keeps the test well-defined.
 */
static int
euler_tour(struct feat_snapshot *s)
{
	int n = s->npeople;
	int *head = malloc((size_t)(n + 1) * sizeof(int));
	int *next = malloc((size_t)(n + 1) * sizeof(int));
	int *stack = malloc((size_t)(n + 1) * sizeof(int));
	int *iter = malloc((size_t)(n + 1) * sizeof(int));
	s->tin = malloc((size_t)(n + 1) * sizeof(int));
	s->tout = malloc((size_t)(n + 1) * sizeof(int));
	if (!head || !next || !stack || !iter || !s->tin || !s->tout) {
		free(head);
		free(next);
		free(stack);
		free(iter);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		head[i] = -1;
		s->tin[i] = -1;
	}
	/* Children lists in reverse insertion order; order does not matter. */
	for (int i = n - 1; i >= 0; i--) {
		int m = s->people[i].manager;
		if (m >= 0) {
			next[i] = head[m];
			head[m] = i;
		}
	}
	int clock = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int root = 0; root < n; root++) {
			if (s->tin[root] >= 0)
				continue;
			if (pass == 0 && s->people[root].manager >= 0)
				continue;
			int sp = 0;
			stack[sp] = root;
			iter[sp++] = head[root];
			s->tin[root] = clock++;
			while (sp > 0) {
				int c = iter[sp - 1];
				while (c >= 0 && s->tin[c] >= 0) /* visited: only in cycles */
					c = next[c];
				if (c < 0) {
					s->tout[stack[sp - 1]] = clock - 1;
					sp--;
					continue;
				}
				iter[sp - 1] = next[c];
				s->tin[c] = clock++;
				stack[sp] = c;
				iter[sp++] = head[c];
			}
		}
	}
	free(head);
	free(next);
	free(stack);
	free(iter);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct excl {
	int row, col, kind;
};

static int
cmp_excl(const void *a, const void *b)
{
	const struct excl *x = a, *y = b;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind; /* FV_VETOED sorts first */
}

/* Per-mentee exclusion lists from vetoes and history. */
static int
build_exclusions(struct feat_snapshot *s)
{
	size_t cap = (size_t)s->nvetoes + 2 * (size_t)s->nhistory;
	struct excl *e = malloc((cap ? cap : 1) * sizeof(*e));
	s->excl_ptr = calloc((size_t)s->nmentees + 1, sizeof(int));
	if (e == NULL || s->excl_ptr == NULL) {
		free(e);
		return -1;
	}
	size_t n = 0;
	for (int i = 0; i < s->nvetoes; i++) {
		int mp = (int)(s->vetoes[i] >> 32), ep = (int)(uint32_t)s->vetoes[i];
		int c = s->people[mp].as_mentor, r = s->people[ep].as_mentee;
		if (c >= 0 && r >= 0)
			e[n++] = (struct excl){r, c, FV_VETOED};
	}
	for (int i = 0; i < s->nhistory; i++) {
		int a = (int)(s->history[i] >> 32), b = (int)(uint32_t)s->history[i];
		for (int k = 0; k < 2; k++) {
			int c = s->people[a].as_mentor, r = s->people[b].as_mentee;
			if (c >= 0 && r >= 0)
				e[n++] = (struct excl){r, c, FV_FORBID + FPRED_PREVIOUSLY_PAIRED};
			int t = a;
			a = b;
			b = t;
		}
	}
	qsort(e, n, sizeof(*e), cmp_excl);
	s->excl_col = malloc((n ? n : 1) * sizeof(int));
	s->excl_kind = malloc(n ? n : 1);
	if (s->excl_col == NULL || s->excl_kind == NULL) {
		free(e);
		return -1;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && i > 0 && e[i].row == e[i - 1].row && e[i].col == e[i - 1].col)
			continue; /* the stronger reason came first */
		s->excl_col[m] = e[i].col;
		s->excl_kind[m] = (uint8_t)e[i].kind;
		s->excl_ptr[e[i].row + 1]++;
		m++;
	}
	for (int r = 0; r < s->nmentees; r++)
		s->excl_ptr[r + 1] += s->excl_ptr[r];
	free(e);
	return 0;
}

static int
build_columns(struct feat_snapshot *s)
{
	int n = s->nmentors ? s->nmentors : 1;
	int **ints[] = {&s->c_person, &s->c_level, &s->c_gen, &s->c_dept, &s->c_team,  &s->c_loc,
			&s->c_tzk,    &s->c_tz,	   &s->c_tin, &s->c_tout, &s->c_nslots};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if ((*ints[i] = malloc((size_t)n * sizeof(int))) == NULL)
			return -1;
	s->c_offered = malloc((size_t)n * s->tw * sizeof(uint64_t));
	s->c_lang = malloc((size_t)n * s->lw * sizeof(uint64_t));
	s->c_slots = malloc((size_t)n * s->sw * sizeof(uint64_t));
	if (!s->c_offered || !s->c_lang || !s->c_slots)
		return -1;
	for (int c = 0; c < s->nmentors; c++) {
		const struct member *m = &s->mentors[c];
		const struct person *p = &s->people[m->person];
		s->c_person[c] = m->person;
		s->c_level[c] = p->level;
		s->c_gen[c] = p->gen;
		s->c_dept[c] = p->dept;
		s->c_team[c] = p->team;
		s->c_loc[c] = p->loc;
		s->c_tzk[c] = p->tz_known;
		s->c_tz[c] = p->tz_off;
		s->c_tin[c] = s->tin[m->person];
		s->c_tout[c] = s->tout[m->person];
		fill_bits(s, m->topics, s->c_offered + (size_t)c * s->tw, s->tw, NULL);
		memcpy(s->c_lang + (size_t)c * s->lw, s->plang + (size_t)m->person * s->lw,
		       (size_t)s->lw * sizeof(uint64_t));
		fill_bits(s, m->slots, s->c_slots + (size_t)c * s->sw, s->sw, &s->c_nslots[c]);
	}
	return 0;
}

static int
build_rows(struct feat_snapshot *s)
{
	int n = s->nmentees ? s->nmentees : 1;
	s->r_wanted = malloc((size_t)n * s->tw * sizeof(uint64_t));
	s->r_slots = malloc((size_t)n * s->sw * sizeof(uint64_t));
	s->r_nwanted = malloc((size_t)n * sizeof(int));
	s->r_nslots = malloc((size_t)n * sizeof(int));
	if (!s->r_wanted || !s->r_slots || !s->r_nwanted || !s->r_nslots)
		return -1;
	for (int r = 0; r < s->nmentees; r++) {
		const struct member *m = &s->mentees[r];
		fill_bits(s, m->topics, s->r_wanted + (size_t)r * s->tw, s->tw, &s->r_nwanted[r]);
		fill_bits(s, m->slots, s->r_slots + (size_t)r * s->sw, s->sw, &s->r_nslots[r]);
	}
	return 0;
}

int
feat_snapshot_finish(struct feat_snapshot *s, struct diag *d)
{
	if (building(s, d) < 0)
		return -1;
	s->tw = words_for(s->topics.n);
	s->lw = words_for(s->langs.n);
	s->sw = words_for(s->slots.n);
	s->plang = malloc((size_t)(s->npeople ? s->npeople : 1) * s->lw * sizeof(uint64_t));
	if (s->plang == NULL)
		return nomem(d);
	for (int i = 0; i < s->npeople; i++)
		fill_bits(s, s->people[i].langs, s->plang + (size_t)i * s->lw, s->lw, NULL);
	if (euler_tour(s) < 0)
		return nomem(d);
	if (s->nhistory > 0)
		qsort(s->history, (size_t)s->nhistory, sizeof(uint64_t), cmp_u64);
	if (build_columns(s) < 0 || build_rows(s) < 0 || build_exclusions(s) < 0)
		return nomem(d);
	init_recip();
	if (s->tw == 1 && s->lw == 1 && s->sw == 1) {
		s->cols1 = calloc((size_t)s->nmentors + 1, sizeof(struct col1));
		if (s->cols1 == NULL)
			return nomem(d);
		for (int c = 0; c < s->nmentors; c++) {
			struct col1 *k = &s->cols1[c];
			k->offered = s->c_offered[c];
			k->lang = s->c_lang[c];
			k->slots = s->c_slots[c];
			k->level = s->c_level[c];
			k->gen = s->c_gen[c];
			k->dept = s->c_dept[c];
			k->team = s->c_team[c];
			k->loc = s->c_loc[c];
			k->tz = s->c_tzk[c] ? s->c_tz[c] : TZ_UNKNOWN;
			k->tin = s->c_tin[c];
			k->tout = s->c_tout[c];
			k->person = s->c_person[c];
			k->nslots = s->c_nslots[c];
		}
	}
	s->finished = 1;
	return 0;
}

/* ---- accessors ------------------------------------------------------------- */

int
feat_nmentors(const struct feat_snapshot *s)
{
	return s->nmentors;
}

int
feat_nmentees(const struct feat_snapshot *s)
{
	return s->nmentees;
}

int
feat_npeople(const struct feat_snapshot *s)
{
	return s->npeople;
}

int
feat_mentor_person(const struct feat_snapshot *s, int mentor)
{
	return s->mentors[mentor].person;
}

int
feat_mentee_person(const struct feat_snapshot *s, int mentee)
{
	return s->mentees[mentee].person;
}

int
feat_mentor_capacity(const struct feat_snapshot *s, int mentor)
{
	return s->mentors[mentor].capacity;
}

/* ---- per-pair evaluation --------------------------------------------------- */

int
feat_reporting_chain(const struct feat_snapshot *s, int a, int b)
{
	return (s->tin[a] <= s->tin[b] && s->tin[b] <= s->tout[a]) ||
	       (s->tin[b] <= s->tin[a] && s->tin[a] <= s->tout[b]);
}

static int
same_cat(int a, int b)
{
	return a >= 0 && a == b;
}

static int
previously_paired(const struct feat_snapshot *s, int a, int b)
{
	uint64_t key = pair_key(a, b);
	return s->nhistory > 0 &&
	       bsearch(&key, s->history, (size_t)s->nhistory, sizeof(uint64_t), cmp_u64) != NULL;
}

int
feat_pred_holds(const struct feat_snapshot *s, int pred, int mentor, int mentee)
{
	const struct person *a = &s->people[s->mentors[mentor].person];
	const struct person *b = &s->people[s->mentees[mentee].person];
	int pa = s->mentors[mentor].person, pb = s->mentees[mentee].person;
	switch (pred) {
	case FPRED_REPORTING_CHAIN:
		return feat_reporting_chain(s, pa, pb);
	case FPRED_SAME_DEPARTMENT:
		return same_cat(a->dept, b->dept);
	case FPRED_SAME_TEAM:
		return same_cat(a->team, b->team);
	case FPRED_SAME_LOCATION:
		return same_cat(a->loc, b->loc);
	case FPRED_PREVIOUSLY_PAIRED:
		return previously_paired(s, pa, pb);
	}
	return 0;
}

static int
and_count(const uint64_t *x, const uint64_t *y, int words)
{
	int c = 0;
	for (int w = 0; w < words; w++)
		c += __builtin_popcountll(x[w] & y[w]);
	return c;
}

static double
tz_hours(int a_min, int b_min)
{
	int diff = abs(a_min - b_min) % (24 * 60);
	if (diff > 12 * 60)
		diff = 24 * 60 - diff;
	return diff / 60.0;
}

void
feat_eval(const struct feat_snapshot *s, int c, int r, struct feat_values *out)
{
	int pa = s->c_person[c], pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < FEAT_COUNT; i++)
		out->known[i] = 1;

	int nw = s->r_nwanted[r];
	int fit =
	    and_count(s->c_offered + (size_t)c * s->tw, s->r_wanted + (size_t)r * s->tw, s->tw);
	out->raw[FEAT_TOPIC_FIT] = out->value[FEAT_TOPIC_FIT] = nw ? (double)fit / nw : 0.0;

	if (s->c_level[c] > 0 && b->level > 0) {
		out->raw[FEAT_LEVEL_GAP] = b->level - s->c_level[c];
		out->value[FEAT_LEVEL_GAP] = out->raw[FEAT_LEVEL_GAP] / 8.0;
	} else {
		out->known[FEAT_LEVEL_GAP] = 0;
	}
	if (s->c_gen[c] >= 0 && b->gen >= 0) {
		out->raw[FEAT_GENERATION_GAP] = s->c_gen[c] - b->gen;
		out->value[FEAT_GENERATION_GAP] = out->raw[FEAT_GENERATION_GAP] / 3.0;
	} else {
		out->known[FEAT_GENERATION_GAP] = 0;
	}
	out->value[FEAT_CROSS_DEPARTMENT] =
	    s->c_dept[c] >= 0 && b->dept >= 0 && s->c_dept[c] != b->dept;
	out->value[FEAT_CROSS_LOCATION] = s->c_loc[c] >= 0 && b->loc >= 0 && s->c_loc[c] != b->loc;
	out->value[FEAT_SHARED_LANGUAGE] =
	    and_count(s->c_lang + (size_t)c * s->lw, s->plang + (size_t)pb * s->lw, s->lw) > 0;
	out->raw[FEAT_CROSS_DEPARTMENT] = out->value[FEAT_CROSS_DEPARTMENT];
	out->raw[FEAT_CROSS_LOCATION] = out->value[FEAT_CROSS_LOCATION];
	out->raw[FEAT_SHARED_LANGUAGE] = out->value[FEAT_SHARED_LANGUAGE];
	if (s->c_tzk[c] && b->tz_known) {
		out->raw[FEAT_TZ_DISTANCE] = tz_hours(s->c_tz[c], b->tz_off);
		out->value[FEAT_TZ_DISTANCE] = out->raw[FEAT_TZ_DISTANCE] / 12.0;
	} else {
		out->known[FEAT_TZ_DISTANCE] = 0;
	}
	int ns = s->c_nslots[c] < s->r_nslots[r] ? s->c_nslots[c] : s->r_nslots[r];
	if (ns > 0) {
		int both = and_count(s->c_slots + (size_t)c * s->sw, s->r_slots + (size_t)r * s->sw,
				     s->sw);
		out->value[FEAT_AVAILABILITY_OVERLAP] = (double)both / ns;
	}
	out->raw[FEAT_AVAILABILITY_OVERLAP] = out->value[FEAT_AVAILABILITY_OVERLAP];
	(void)pa;
}

/* The exclusion verdict for (c, r) from the row's sorted list, 0 when none. */
static int
excluded(const struct feat_snapshot *s, int c, int r)
{
	int lo = s->excl_ptr[r], hi = s->excl_ptr[r + 1];
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (s->excl_col[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->excl_ptr[r + 1] && s->excl_col[lo] == c ? s->excl_kind[lo] : 0;
}

int
feat_check(const struct feat_snapshot *s, const struct feat_rules *ru, int c, int r)
{
	if (s->c_person[c] == s->mentees[r].person)
		return FV_SELF;
	int x = excluded(s, c, r);
	if (x == FV_VETOED)
		return FV_VETOED;
	for (int p = 0; p < FPRED_COUNT; p++)
		if ((ru->forbid & (1u << p)) && feat_pred_holds(s, p, c, r))
			return FV_FORBID + p;
	for (int p = 0; p < FPRED_COUNT; p++)
		if ((ru->require & (1u << p)) && !feat_pred_holds(s, p, c, r))
			return FV_REQUIRE + p;
	struct feat_values v;
	int need = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		need |= ru->range[f].on;
	if (!need)
		return FV_ALLOWED;
	feat_eval(s, c, r, &v);
	for (int f = 0; f < FEAT_COUNT; f++)
		if (ru->range[f].on &&
		    (!v.known[f] || v.raw[f] < ru->range[f].min || v.raw[f] > ru->range[f].max))
			return FV_RANGE + f;
	return FV_ALLOWED;
}

double
feat_score(const struct feat_snapshot *s, const struct feat_rules *ru, int c, int r)
{
	struct feat_values v;
	feat_eval(s, c, r, &v);
	double t = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		t += ru->weight[f] * v.value[f];
	return t;
}

/* ---- the hot loop ---------------------------------------------------------- */

/*
 * One row, with the set widths as parameters so that the common one-word case
 * is compiled with constants (loops vanish). Computes exactly what feat_check()
 * and feat_score() compute, in the same order of verdicts.
 */
static inline __attribute__((always_inline)) void
row_impl(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	 uint8_t *verdict, const int tw, const int lw, const int sw)
{
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	const uint64_t *want = s->r_wanted + (size_t)r * tw;
	const uint64_t *blang = s->plang + (size_t)pb * lw;
	const uint64_t *bslots = s->r_slots + (size_t)r * sw;
	const double inv_want = s->r_nwanted[r] ? 1.0 / s->r_nwanted[r] : 0.0;
	const int bnslots = s->r_nslots[r];
	const int btin = s->tin[pb], btout = s->tout[pb];
	const unsigned rules = ru->forbid | ru->require;
	int need_range = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		need_range |= ru->range[f].on;
	const double *w = ru->weight;
	int ex = s->excl_ptr[r];
	const int exend = s->excl_ptr[r + 1];

	for (int c = 0; c < s->nmentors; c++) {
		/* Topic fit, computed for every pair: it is the backbone of every policy. */
		int fit = 0;
		for (int k = 0; k < tw; k++)
			fit += __builtin_popcountll(s->c_offered[(size_t)c * tw + k] & want[k]);
		double v_fit = fit * inv_want;
		int lk = s->c_level[c] > 0 && b->level > 0;
		double lraw = lk ? b->level - s->c_level[c] : 0;
		int gk = s->c_gen[c] >= 0 && b->gen >= 0;
		double graw = gk ? s->c_gen[c] - b->gen : 0;
		double xdept = s->c_dept[c] >= 0 && b->dept >= 0 && s->c_dept[c] != b->dept;
		double xloc = s->c_loc[c] >= 0 && b->loc >= 0 && s->c_loc[c] != b->loc;
		int lang = 0;
		for (int k = 0; k < lw; k++)
			lang |= (s->c_lang[(size_t)c * lw + k] & blang[k]) != 0;
		int tk = s->c_tzk[c] && b->tz_known;
		double tzh = 0;
		if (tk && (w[FEAT_TZ_DISTANCE] != 0 || ru->range[FEAT_TZ_DISTANCE].on))
			tzh = tz_hours(s->c_tz[c], b->tz_off);
		double avail = 0;
		if (w[FEAT_AVAILABILITY_OVERLAP] != 0 || ru->range[FEAT_AVAILABILITY_OVERLAP].on) {
			int ns = s->c_nslots[c] < bnslots ? s->c_nslots[c] : bnslots;
			if (ns > 0) {
				int both = 0;
				for (int k = 0; k < sw; k++)
					both += __builtin_popcountll(
					    s->c_slots[(size_t)c * sw + k] & bslots[k]);
				avail = (double)both / ns;
			}
		}
		if (scores) {
			scores[c] = w[FEAT_TOPIC_FIT] * v_fit + w[FEAT_LEVEL_GAP] * (lraw / 8.0) +
				    w[FEAT_GENERATION_GAP] * (graw / 3.0) +
				    w[FEAT_CROSS_DEPARTMENT] * xdept +
				    w[FEAT_CROSS_LOCATION] * xloc + w[FEAT_SHARED_LANGUAGE] * lang +
				    w[FEAT_TZ_DISTANCE] * (tzh / 12.0) +
				    w[FEAT_AVAILABILITY_OVERLAP] * avail;
		}
		if (!verdict)
			continue;

		int v = FV_ALLOWED;
		int xk = 0;
		while (ex < exend && s->excl_col[ex] < c)
			ex++;
		if (ex < exend && s->excl_col[ex] == c)
			xk = s->excl_kind[ex];
		if (s->c_person[c] == pb) {
			v = FV_SELF;
		} else if (xk == FV_VETOED) {
			v = FV_VETOED;
		} else if (rules) {
			int atin = s->c_tin[c], atout = s->c_tout[c];
			unsigned holds = 0;
			if ((atin <= btin && btin <= atout) || (btin <= atin && atin <= btout))
				holds |= 1u << FPRED_REPORTING_CHAIN;
			if (same_cat(s->c_dept[c], b->dept))
				holds |= 1u << FPRED_SAME_DEPARTMENT;
			if (same_cat(s->c_team[c], b->team))
				holds |= 1u << FPRED_SAME_TEAM;
			if (same_cat(s->c_loc[c], b->loc))
				holds |= 1u << FPRED_SAME_LOCATION;
			if (xk)
				holds |= 1u << FPRED_PREVIOUSLY_PAIRED;
			unsigned bad = ru->forbid & holds;
			unsigned miss = ru->require & ~holds;
			if (bad)
				v = FV_FORBID + __builtin_ctz(bad);
			else if (miss)
				v = FV_REQUIRE + __builtin_ctz(miss);
		}
		if (v == FV_ALLOWED && need_range) {
			double raw[FEAT_COUNT] = {v_fit, lraw, graw, xdept, xloc, lang, tzh, avail};
			int known[FEAT_COUNT] = {1, lk, gk, 1, 1, 1, tk, 1};
			for (int f = 0; f < FEAT_COUNT; f++) {
				if (ru->range[f].on && (!known[f] || raw[f] < ru->range[f].min ||
							raw[f] > ru->range[f].max)) {
					v = FV_RANGE + f;
					break;
				}
			}
		}
		verdict[c] = (uint8_t)v;
	}
}

/* Hours between two offsets in minutes, round the clock, as minutes (0..720). */
static inline int
tz_minutes(int a, int b)
{
	int diff = a > b ? a - b : b - a;
	if (diff >= 24 * 60)
		diff %= 24 * 60;
	return diff > 12 * 60 ? 24 * 60 - diff : diff;
}

/* 1/k for the availability denominator (k <= 64 in the one-word case), 0 for k = 0. */
static double recip64[65];

static void
init_recip(void)
{
	if (recip64[1] != 0)
		return;
	for (int k = 1; k <= 64; k++)
		recip64[k] = 1.0 / k;
}

/*
 * The one-word fast path: the same values and verdicts as row_impl, computed
 * without branches on the hot path except the verdict ones, over one packed
 * record per mentor.
 */
FEAT_HOT static void
row_fast(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	 uint8_t *verdict)
{
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	const uint64_t want = s->r_wanted[r], blang = s->plang[pb], bslots = s->r_slots[r];
	const double inv_want = s->r_nwanted[r] ? 1.0 / s->r_nwanted[r] : 0.0;
	const int bnslots = s->r_nslots[r], blevel = b->level, bgen = b->gen, bdept = b->dept,
		  bteam = b->team, bloc = b->loc, btz = b->tz_known ? b->tz_off : TZ_UNKNOWN;
	const int btin = s->tin[pb], btout = s->tout[pb];
	const double w0 = ru->weight[0], w1 = ru->weight[1] / 8.0, w2 = ru->weight[2] / 3.0,
		     w3 = ru->weight[3], w4 = ru->weight[4], w5 = ru->weight[5],
		     w6 = ru->weight[6] / (12.0 * 60.0), w7 = ru->weight[7];
	const unsigned forbid = ru->forbid, require = ru->require;
	int ranges[FEAT_COUNT], nranges = 0;
	for (int f = 0; f < FEAT_COUNT; f++)
		if (ru->range[f].on)
			ranges[nranges++] = f;
	int ex = s->excl_ptr[r];
	const int exend = s->excl_ptr[r + 1];
	const struct col1 *cols = s->cols1;

	for (int c = 0; c < s->nmentors; c++) {
		const struct col1 *k = &cols[c];
		double fit = __builtin_popcountll(k->offered & want) * inv_want;
		int lk = (k->level > 0) & (blevel > 0);
		int lraw = lk ? blevel - k->level : 0;
		int gk = (k->gen >= 0) & (bgen >= 0);
		int graw = gk ? k->gen - bgen : 0;
		int xdept = (k->dept >= 0) & (bdept >= 0) & (k->dept != bdept);
		int xloc = (k->loc >= 0) & (bloc >= 0) & (k->loc != bloc);
		int lang = (k->lang & blang) != 0;
		int tk = (k->tz != TZ_UNKNOWN) & (btz != TZ_UNKNOWN);
		int tzm = tk ? tz_minutes(k->tz, btz) : 0;
		int ns = k->nslots < bnslots ? k->nslots : bnslots;
		double avail = __builtin_popcountll(k->slots & bslots) * recip64[ns];
		if (scores)
			scores[c] = w0 * fit + w1 * lraw + w2 * graw + w3 * xdept + w4 * xloc +
				    w5 * lang + w6 * tzm + w7 * avail;
		if (!verdict)
			continue;

		int xk = 0;
		while (ex < exend && s->excl_col[ex] < c)
			ex++;
		if (ex < exend && s->excl_col[ex] == c)
			xk = s->excl_kind[ex];
		int v = FV_ALLOWED;
		if (k->person == pb) {
			v = FV_SELF;
		} else if (xk == FV_VETOED) {
			v = FV_VETOED;
		} else if (forbid | require) {
			unsigned holds =
			    (unsigned)((k->tin <= btin && btin <= k->tout) ||
				       (btin <= k->tin && k->tin <= btout))
				<< FPRED_REPORTING_CHAIN |
			    (unsigned)((k->dept >= 0) & (k->dept == bdept))
				<< FPRED_SAME_DEPARTMENT |
			    (unsigned)((k->team >= 0) & (k->team == bteam)) << FPRED_SAME_TEAM |
			    (unsigned)((k->loc >= 0) & (k->loc == bloc)) << FPRED_SAME_LOCATION |
			    (unsigned)(xk != 0) << FPRED_PREVIOUSLY_PAIRED;
			unsigned bad = forbid & holds, miss = require & ~holds;
			if (bad)
				v = FV_FORBID + __builtin_ctz(bad);
			else if (miss)
				v = FV_REQUIRE + __builtin_ctz(miss);
		}
		for (int i = 0; v == FV_ALLOWED && i < nranges; i++) {
			int f = ranges[i], known = 1;
			double raw;
			switch (f) {
			case FEAT_TOPIC_FIT:
				raw = fit;
				break;
			case FEAT_LEVEL_GAP:
				raw = lraw;
				known = lk;
				break;
			case FEAT_GENERATION_GAP:
				raw = graw;
				known = gk;
				break;
			case FEAT_CROSS_DEPARTMENT:
				raw = xdept;
				break;
			case FEAT_CROSS_LOCATION:
				raw = xloc;
				break;
			case FEAT_SHARED_LANGUAGE:
				raw = lang;
				break;
			case FEAT_TZ_DISTANCE:
				raw = tzm / 60.0;
				known = tk;
				break;
			default:
				raw = avail;
				break;
			}
			if (!known || raw < ru->range[f].min || raw > ru->range[f].max)
				v = FV_RANGE + f;
		}
		verdict[c] = (uint8_t)v;
	}
}

void
feat_score_row(const struct feat_snapshot *s, const struct feat_rules *ru, int r, double *scores,
	       uint8_t *verdict)
{
	if (s->cols1) {
		row_fast(s, ru, r, scores, verdict);
	} else {
		row_impl(s, ru, r, scores, verdict, s->tw, s->lw, s->sw);
	}
}

FEAT_HOT void
feat_values(const struct feat_snapshot *s, int c, int r, double out[FEAT_COUNT])
{
	if (s->cols1 == NULL) {
		struct feat_values v;
		feat_eval(s, c, r, &v);
		memcpy(out, v.value, sizeof(v.value));
		return;
	}
	const struct col1 *k = &s->cols1[c];
	const int pb = s->mentees[r].person;
	const struct person *b = &s->people[pb];
	out[FEAT_TOPIC_FIT] =
	    s->r_nwanted[r]
		? (double)__builtin_popcountll(k->offered & s->r_wanted[r]) / s->r_nwanted[r]
		: 0.0;
	out[FEAT_LEVEL_GAP] = k->level > 0 && b->level > 0 ? (b->level - k->level) / 8.0 : 0.0;
	out[FEAT_GENERATION_GAP] = k->gen >= 0 && b->gen >= 0 ? (k->gen - b->gen) / 3.0 : 0.0;
	out[FEAT_CROSS_DEPARTMENT] = k->dept >= 0 && b->dept >= 0 && k->dept != b->dept;
	out[FEAT_CROSS_LOCATION] = k->loc >= 0 && b->loc >= 0 && k->loc != b->loc;
	out[FEAT_SHARED_LANGUAGE] = (k->lang & s->plang[pb]) != 0;
	out[FEAT_TZ_DISTANCE] =
	    k->tz != TZ_UNKNOWN && b->tz_known ? tz_minutes(k->tz, b->tz_off) / (12.0 * 60.0) : 0.0;
	int ns = k->nslots < s->r_nslots[r] ? k->nslots : s->r_nslots[r];
	out[FEAT_AVAILABILITY_OVERLAP] =
	    __builtin_popcountll(k->slots & s->r_slots[r]) * recip64[ns];
}

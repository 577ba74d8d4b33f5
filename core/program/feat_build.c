/*
 * feat_build: building a feature snapshot (people, sides, history, vetoes) and
 * finishing it into bitsets, the management forest's Euler tour, the mentor
 * columns and the exclusion lists. See feat.h for the contract, feat_internal.h
 * for the layout.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"
#include "base/vec.h"
#include "program/feat_internal.h"

static const char *const generations[] = {"baby_boomer", "gen_x", "millennial", "gen_z"};

/* ---- interning ------------------------------------------------------------- */

/* The id of S in t (0, 1, ... in order of first sight), adding it when new; -1 when out of
 * memory. */
static int
intern_id(struct strmap *t, const char *s)
{
	int added;
	struct strmap_entry *e = strmap_intern(t, s, &added, NULL);
	if (e == NULL)
		return -1;
	if (added)
		e->num = (int64_t)t->len - 1;
	return (int)e->num;
}

/* Room for need elements in the array *p (capacity *cap); -1 when out of memory. */
static int
grow(void *p, size_t *cap, int need, size_t elem)
{
	return vec_grow(p, cap, (size_t)need, elem, NULL);
}

struct feat_snapshot *
feat_snapshot_new(void)
{
	struct feat_snapshot *s = calloc(1, sizeof(struct feat_snapshot));
	if (s == NULL)
		return NULL;
	strmap_init(&s->cat, STRMAP_COPY_KEYS);
	strmap_init(&s->topics, STRMAP_COPY_KEYS);
	strmap_init(&s->langs, STRMAP_COPY_KEYS);
	strmap_init(&s->slots, STRMAP_COPY_KEYS);
	return s;
}

void
feat_snapshot_delete(struct feat_snapshot *s)
{
	if (s == NULL)
		return;
	strmap_fini(&s->cat);
	strmap_fini(&s->topics);
	strmap_fini(&s->langs);
	strmap_fini(&s->slots);
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
add_list(struct feat_snapshot *s, struct strmap *t, const char *const *v, int n, struct idlist *out)
{
	out->off = s->npool;
	out->n = 0;
	if (grow(&s->pool, &s->cappool, s->npool + n, sizeof(int)) < 0)
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
	if (grow(&s->people, &s->cappeople, s->npeople + 1, sizeof(struct person)) < 0)
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
add_member(struct feat_snapshot *s, int person, int capacity, struct strmap *t,
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
	size_t *cap = mentor ? &s->capmentors : &s->capmentees;
	if (grow(arr, cap, *n + 1, sizeof(struct member)) < 0)
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

int
feat_add_history(struct feat_snapshot *s, int a, int b, struct diag *d)
{
	if (building(s, d) < 0 || check_person(s, a, d) < 0 || check_person(s, b, d) < 0)
		return -1;
	if (grow(&s->history, &s->caphistory, s->nhistory + 1, sizeof(uint64_t)) < 0)
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
	if (grow(&s->vetoes, &s->capvetoes, s->nvetoes + 1, sizeof(int64_t)) < 0)
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
	s->tw = words_for((int)s->topics.len);
	s->lw = words_for((int)s->langs.len);
	s->sw = words_for((int)s->slots.len);
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

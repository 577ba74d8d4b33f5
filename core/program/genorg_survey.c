/*
 * genorg_survey: the sign-up survey of a reverse-mentoring program drawn from a
 * generated org (genorg_survey_new and its accessors). Callers: `tandem
 * gen-org --survey` (through genorg.h), the tests. Contract: genorg.h:
 * deterministic for (org, program name, size).
 */
#include "program/genorg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

/* The reverse-mentoring topics of a set when it has some, else the whole set. */
static uint32_t
prefer_reverse(uint32_t set)
{
	return (set & REVERSE_TOPICS) ? set & REVERSE_TOPICS : set;
}

enum { NKEYS = 256 };

/*
 * Orders people by a small integer key (stable: ties keep org order) with a
 * counting sort; keys must be < NKEYS. Returns the order in `out`.
 */
static void
order_by_key(const uint8_t *key, long n, int32_t *out)
{
	long count[NKEYS + 1] = {0};
	for (long i = 0; i < n; i++)
		count[key[i] + 1]++;
	for (int k = 0; k < NKEYS; k++)
		count[k + 1] += count[k];
	for (long i = 0; i < n; i++)
		out[count[key[i]]++] = (int32_t)i;
}

/* A non-empty random subset of set (each member kept with probability 3/4). */
static uint32_t
some_of(struct rng *r, uint32_t set)
{
	if (set == 0)
		return 0;
	uint32_t keep = 0;
	int n = 0, members[GENORG_NTOPICS];
	for (int t = 0; t < GENORG_NTOPICS; t++)
		if (set & (1u << t)) {
			members[n++] = t;
			if (rng_pct(r, 75))
				keep |= 1u << t;
		}
	return keep ? keep : 1u << members[rng_below(r, (uint32_t)n)];
}

static uint16_t
draw_slots(struct rng *r, int level)
{
	int k = level <= 4 ? 3 + (int)rng_below(r, 4) : 2 + (int)rng_below(r, 3);
	int slot[GENORG_NSLOTS];
	uint16_t set = 0;
	for (int i = 0; i < GENORG_NSLOTS; i++)
		slot[i] = i;
	for (int i = 0; i < k; i++) { /* partial Fisher-Yates */
		int j = i + (int)rng_below(r, (uint32_t)(GENORG_NSLOTS - i));
		int tmp = slot[i];
		slot[i] = slot[j];
		slot[j] = tmp;
		set |= (uint16_t)(1u << slot[i]);
	}
	return set;
}

/*
 * Picks who signs up and as what. Balance decides the split: with capacities
 * averaging ~1.2 and supply aimed at ~1.25x demand, about 49% of the sign-ups are
 * mentees. They are the most senior people (level plus a little noise, so
 * adjacent levels mix): everyone from level 5 up in a typical org, then the
 * older juniors (levels 4, then 3), who learn from the youngest. Mentors are
 * drawn from the rest with a preference for the youngest levels. Active people
 * come before anyone on leave.
 */
static int
survey_pick(const struct genorg *g, struct rng *r, long size, uint8_t *role_of)
{
	long n = g->n;
	uint8_t *key = calloc((size_t)n, 1);
	int32_t *order = malloc((size_t)n * sizeof(*order));
	if (key == NULL || order == NULL) {
		free(key);
		free(order);
		return -1;
	}
	long mentees = (size * 486 + 500) / 1000;
	if (size >= 2 && mentees < 1)
		mentees = 1;
	if (size >= 2 && mentees >= size)
		mentees = size - 1;

	for (long i = 0; i < n; i++) {
		const struct genorg_person *p = &g->people[i];
		int inactive = p->status != GENORG_ACTIVE;
		/* Juniors who want only senior knowledge come last: the mentors are young. */
		int no_reverse_wish = p->level <= 4 && !(p->wanted & REVERSE_TOPICS);
		key[i] = (uint8_t)(inactive * 128 + no_reverse_wish * 8 + (9 - p->level) * 8 +
				   (int)rng_below(r, 20));
	}
	order_by_key(key, n, order);
	memset(role_of, 0xff, (size_t)n);
	for (long k = 0; k < mentees; k++)
		role_of[order[k]] = GENORG_MENTEE;

	for (long i = 0; i < n; i++) {
		const struct genorg_person *p = &g->people[i];
		int inactive = p->status != GENORG_ACTIVE;
		key[i] = (uint8_t)(inactive * 128 + p->level * 6 + (int)rng_below(r, 30));
	}
	order_by_key(key, n, order);
	long mentors = size - mentees;
	for (long k = 0; k < n && mentors > 0; k++)
		if (role_of[order[k]] == 0xff) {
			role_of[order[k]] = GENORG_MENTOR;
			mentors--;
		}
	free(key);
	free(order);
	return 0;
}

/* Moves capacities one step at a time until supply is 1.15..1.30x demand (or nothing moves). */
static void
survey_balance(struct genorg_survey *s, struct rng *r)
{
	long demand = 0, supply = 0, givers = 0;
	for (long i = 0; i < s->n; i++) {
		const struct genorg_enrollment *e = &s->entries[i];
		demand += e->role != GENORG_MENTOR;
		supply += e->capacity;
		givers += e->role != GENORG_MENTEE;
	}
	if (givers == 0 || demand == 0)
		return;
	long start = (long)rng_below(r, (uint32_t)s->n);
	/* Raise 1s before 2s, lower 3s before 2s, so capacities stay mostly 1..2. */
	for (int pass = 0; pass < 2; pass++)
		for (long k = 0; k < s->n; k++) {
			struct genorg_enrollment *e = &s->entries[(start + k) % s->n];
			if (e->role == GENORG_MENTEE)
				continue;
			if (supply * 100 < demand * 115 && e->capacity == 1 + pass) {
				e->capacity++;
				supply++;
			} else if (supply * 100 > demand * 130 && e->capacity == 3 - pass) {
				e->capacity--;
				supply--;
			}
		}
}

struct genorg_survey *
genorg_survey_new(const struct genorg *g, const char *program, long size, struct diag *d)
{
	if (program == NULL || program[0] == '\0') {
		diag_set(d, DIAG_INVALID, "gen-org: the survey needs a program name");
		return NULL;
	}
	if (size < 0 || size > g->n) {
		diag_set(d, DIAG_INVALID,
			 "gen-org: survey size %ld is not between 1 and the %ld people", size,
			 g->n);
		return NULL;
	}
	if (size == 0)
		size = (2 * g->n + 2) / 5 > 0 ? (2 * g->n + 2) / 5 : 1;

	struct genorg_survey *s = calloc(1, sizeof(*s));
	uint8_t *role_of = malloc((size_t)g->n);
	struct rng r;
	rng_seed(&r, g->seed ^ hash_str(program)); /* the program name as seed material */
	if (s == NULL || role_of == NULL ||
	    (s->entries = calloc((size_t)size, sizeof(*s->entries))) == NULL ||
	    survey_pick(g, &r, size, role_of) != 0) {
		free(role_of);
		genorg_survey_delete(s);
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory for a survey of %ld", size);
		return NULL;
	}
	static const uint16_t cap_w[3] = {85, 12, 3};
	for (long i = 0; i < g->n; i++) {
		if (role_of[i] == 0xff)
			continue;
		const struct genorg_person *p = &g->people[i];
		struct genorg_enrollment *e = &s->entries[s->n++];
		e->person = (int32_t)i;
		e->role = role_of[i];
		if (rng_pct(&r, 6))
			e->role = GENORG_BOTH;
		e->capacity = e->role == GENORG_MENTEE ? 0 : (uint8_t)(1 + rng_pick(&r, cap_w, 3));
		e->offered = e->role == GENORG_MENTEE ? 0 : some_of(&r, prefer_reverse(p->skills));
		e->wanted = e->role == GENORG_MENTOR ? 0 : some_of(&r, prefer_reverse(p->wanted));
		e->availability = draw_slots(&r, p->level);
		e->consent = !rng_pct(&r, 4);
	}
	free(role_of);
	survey_balance(s, &r);
	return s;
}

void
genorg_survey_delete(struct genorg_survey *s)
{
	if (s == NULL)
		return;
	free(s->entries);
	free(s);
}

long
genorg_survey_count(const struct genorg_survey *s)
{
	return s->n;
}

const struct genorg_enrollment *
genorg_survey_entry(const struct genorg_survey *s, long i)
{
	return i >= 0 && i < s->n ? &s->entries[i] : NULL;
}


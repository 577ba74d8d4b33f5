/*
 * genorg: growing a synthetic organization (genorg_new and its accessors).
 * See genorg.h for the contract; callers are `tandem gen-org`, the tests and
 * the benchmarks. The other parts: genorg_vocab.c (the vocabulary),
 * genorg_text.c (CSV fields), genorg_survey.c (sign-up surveys), sharing
 * genorg_internal.h.
 *
 * The org is grown breadth-first from the CEO. Each person is created with the
 * number of descendants their subtree must hold; when their turn in the queue
 * comes, that number is split among their direct reports. Nobody below the CEO
 * gets more than 10 reports, and each level caps how many descendants it may
 * hold (gen_cap) so that a span of 10 all the way down always suffices. This is
 * why the people array itself serves as the BFS queue and every manager has a
 * smaller index than their reports.
 *
 * Attributes that depend on the hierarchy (department, area, team, location)
 * are inherited with some noise; personal ones (name, age, skills, languages)
 * are drawn when the person is created. All draws come from one PRNG stream in
 * creation order, so the output depends only on (people, seed).
 */
#include "program/genorg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "program/people.h"

_Static_assert(GENORG_GEN_Z == PEOPLE_NGENERATIONS - 1, "genorg's generations are people's, in order");

/* The fixed "today" of every generated org, so output never depends on the clock. */
enum { AS_OF_YEAR = 2026 };

/* ---------------------------------------------------------------- the org */

/* Per-build scratch state: what only growing the tree needs. */
struct builder {
	struct genorg *g;
	struct rng rng;
	/* An allocation failed (as opposed to a broken invariant). */
	int oom;
	/* Descendants still to place under each person. */
	uint32_t *desc;
	/* Index of the next person to create. */
	long next;
	size_t teams_cap;
	/* People so far per first * NNAMES + last name. */
	uint32_t *name_count;
	/* Teams so far per name: [dept][area][sub], sub NSUBS for area-only names. */
	uint32_t seq[NDEPT_ALL][MAX_AREAS][NSUBS + 1];
	/* "<Dept> Leadership" teams so far. */
	uint32_t dept_seq[NDEPT_ALL];
	/* Next area a VP's new manager takes, per department. */
	uint32_t area_next[NDEPT_ALL];
	uint16_t loc_w[NLOC];
	/* Cumulative topic weights: [skills|wanted][junior|mid|senior][department][topic]. */
	uint32_t topic_cum[2][3][NDEPT_ALL][GENORG_NTOPICS];
};

enum { SPAN_MAX = 10 };

/* Most descendants a person at level L may hold so that spans of 10 always suffice. */
static uint32_t
gen_cap(int level)
{
	uint32_t cap = SPAN_MAX; /* level 4 leads level 1..3 people directly */
	for (int l = 5; l <= level; l++)
		cap = SPAN_MAX * (1 + cap);
	return cap;
}

static int
band_of(int level)
{
	return level <= 4 ? 0 : level == 5 ? 1 : 2;
}

/* Kind mix per band: [skills|wanted][band][kind], in percent. Wanted mirrors skills. */
static const uint16_t kind_mix[2][3][3] = {
    {{60, 32, 8}, {30, 30, 40}, {8, 17, 75}},
    {{10, 15, 75}, {35, 25, 40}, {60, 32, 8}},
};

static void
topic_tables_init(struct builder *b)
{
	for (int w = 0; w < 2; w++)
		for (int band = 0; band < 3; band++)
			for (int dep = 0; dep < NDEPT_ALL; dep++) {
				uint32_t sum = 0;
				for (int t = 0; t < GENORG_NTOPICS; t++) {
					uint32_t x =
					    kind_mix[w][band][genorg__topics[t].kind] * genorg__topics[t].weight;
					if (genorg__departments[dep].affinity & (1u << t))
						x *= 3;
					sum += x;
					b->topic_cum[w][band][dep][t] = sum;
				}
			}
}

/*
 * Draws a topic not in `exclude`. Rejection on the precomputed table is fast;
 * when the exclusions make it unlikely, fall back to an exact draw over what is left.
 */
static int
draw_topic(struct builder *b, int which, int band, int dep, uint32_t exclude)
{
	const uint32_t *cum = b->topic_cum[which][band][dep];
	for (int tries = 0; tries < 16; tries++) {
		uint32_t x = rng_below(&b->rng, cum[GENORG_NTOPICS - 1]);
		int t = 0;
		while (cum[t] <= x)
			t++;
		if (!(exclude & (1u << t)))
			return t;
	}
	uint16_t w[GENORG_NTOPICS];
	uint32_t prev = 0, any = 0;
	for (int t = 0; t < GENORG_NTOPICS; t++) {
		uint32_t x = cum[t] - prev;
		prev = cum[t];
		w[t] = (exclude & (1u << t)) ? 0 : (uint16_t)x; /* at most 75 * 20 * 3 */
		any |= w[t];
	}
	return any ? rng_pick(&b->rng, w, GENORG_NTOPICS) : -1;
}

static uint32_t
draw_topics(struct builder *b, int which, int band, int dep, int count, uint32_t exclude)
{
	uint32_t set = 0;
	for (int k = 0; k < count; k++) {
		int t = draw_topic(b, which, band, dep, exclude | set);
		if (t < 0)
			break;
		set |= 1u << t;
	}
	return set;
}

/* Mean age by level (index = level), before noise. */
static const uint8_t mean_age[10] = {0, 25, 29, 34, 39, 42, 46, 50, 54, 57};

static int
days_in_month(int y, int m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

/* Age, birth year, generation and hire date; people join at 21 or later. */
static void
draw_dates(struct builder *b, struct genorg_person *p)
{
	struct rng *r = &b->rng;
	/* Sum of three uniforms: a bell curve with sd ~5.5 years, in integers only. */
	int age = mean_age[p->level] - 15 + (int)rng_below(r, 11) + (int)rng_below(r, 11) +
		  (int)rng_below(r, 11);
	if (rng_pct(r, 8)) /* career changers and long careers */
		age += 5 + (int)rng_below(r, 12);
	if (age < 21)
		age = 21;
	if (age > 68)
		age = 68;
	p->birth_year = (uint16_t)(AS_OF_YEAR - 1 - age);
	p->generation = (uint8_t)genorg_generation_of(p->birth_year);

	int max_tenure = age - 21;
	if (max_tenure > 35)
		max_tenure = 35;
	int t = (int)rng_below(r, (uint32_t)max_tenure + 1);
	if (p->level <=
	    4) { /* juniors: the smaller of two draws, short tenures are the most common */
		int t2 = (int)rng_below(r, (uint32_t)max_tenure + 1);
		t = t < t2 ? t : t2;
	}
	p->hire_year = (uint16_t)(AS_OF_YEAR - 1 - t);
	p->hire_month = (uint8_t)(1 + rng_below(r, 12));
	p->hire_day =
	    (uint8_t)(1 + rng_below(r, (uint32_t)days_in_month(p->hire_year, p->hire_month)));
}

static void draw_languages(struct builder *b, struct genorg_person *p, int origin);

/* A name from the location's mix of origins; repeats are counted for disambiguation. */
static void
draw_name(struct builder *b, struct genorg_person *p)
{
	struct rng *r = &b->rng;
	int origin = rng_pick(r, genorg__locations[p->location].origin, NORIGINS);
	/* Some combine names of two origins (families, marriages): mostly local ones. */
	int last_origin = origin;
	uint32_t mix = rng_below(r, 100);
	if (mix < 12)
		last_origin = rng_pick(r, genorg__locations[p->location].origin, NORIGINS);
	else if (mix < 18)
		last_origin = (int)rng_below(r, NORIGINS);
	p->first = (uint16_t)(origin * NPER + (int)rng_below(r, NPER));
	p->last = (uint16_t)(last_origin * NPER + (int)rng_below(r, NPER));
	p->name_dup = b->name_count[(size_t)p->first * NNAMES + p->last]++;
	draw_languages(b, p, origin);
}

/* English for nearly all, the place's language(s), the family's, sometimes another. */
static void
draw_languages(struct builder *b, struct genorg_person *p, int origin)
{
	struct rng *r = &b->rng;
	uint32_t langs = 0;
	const struct location *loc = &genorg__locations[p->location];
	int anglo_place = loc->lang[0] < 0;
	if (anglo_place || origin == 0 || rng_pct(r, 96))
		langs |= 1u << L_EN;
	if (loc->lang[0] >= 0 && rng_pct(r, 85))
		langs |= 1u << loc->lang[0];
	if (loc->lang[1] >= 0 && rng_pct(r, 40))
		langs |= 1u << loc->lang[1];
	if (genorg__origin_lang[origin] >= 0 && rng_pct(r, 75))
		langs |= 1u << genorg__origin_lang[origin];
	if (rng_pct(r, 15))
		langs |= 1u << genorg__extra_langs[rng_below(r, sizeof(genorg__extra_langs))];
	p->languages = langs ? langs : 1u << L_EN;
}

/* Status, skills and wishes; people with reports are never terminated. */
static void
draw_profile(struct builder *b, struct genorg_person *p, int manages)
{
	static const uint16_t nskills_w[4] = {30, 35, 25, 10};
	static const uint16_t nwanted_w[3] = {40, 40, 20};
	struct rng *r = &b->rng;
	int band = band_of(p->level);
	if (manages)
		p->status = rng_pct(r, 2) ? GENORG_LEAVE : GENORG_ACTIVE;
	else {
		uint32_t x = rng_below(r, 100);
		p->status = x < 93 ? GENORG_ACTIVE : x < 98 ? GENORG_LEAVE : GENORG_TERMINATED;
	}
	p->skills = draw_topics(b, 0, band, p->department, 1 + rng_pick(r, nskills_w, 4), 0);
	p->wanted =
	    draw_topics(b, 1, band, p->department, 1 + rng_pick(r, nwanted_w, 3), p->skills);
}

static long
team_add(struct builder *b, int kind, int dept, int area, int sub)
{
	struct genorg *g = b->g;
	if (vec_grow(&g->teams, &b->teams_cap, (size_t)g->nteams + 1, sizeof(*g->teams), NULL) != 0) {
		b->oom = 1;
		return -1;
	}
	struct team *t = &g->teams[g->nteams];
	t->kind = (uint8_t)kind;
	t->dept = (uint8_t)dept;
	t->area = (uint8_t)(area < 0 ? 0 : area);
	t->sub = (uint8_t)(sub < 0 ? NSUBS : sub);
	if (kind == TEAM_DEPT)
		t->seq = ++b->dept_seq[dept];
	else if (kind == TEAM_AREA || kind == TEAM_SQUAD)
		t->seq = ++b->seq[dept][t->area][t->sub];
	else
		t->seq = 1;
	return g->nteams++;
}

static int
area_count(int dept)
{
	int n = 0;
	while (n < MAX_AREAS && genorg__departments[dept].areas[n] != NULL)
		n++;
	return n;
}

/*
 * Creates person `manager`'s next report with `share` descendants of their own.
 * Location follows the manager most of the time (teams sit together); the rest
 * is drawn from the company's footprint.
 */
static long
person_add(struct builder *b, long manager, int level, int dept, uint32_t share)
{
	struct genorg *g = b->g;
	if (b->next >= g->n) /* the shares did not add up: a bug, never an overflow */
		return -1;
	long i = b->next++;
	struct genorg_person *p = &g->people[i];
	memset(p, 0, sizeof(*p));
	p->manager = (int32_t)manager;
	p->level = (uint8_t)level;
	p->department = (uint8_t)dept;
	b->desc[i] = share;
	if (manager < 0) {
		p->location = LOC_HQ;
	} else {
		const struct genorg_person *m = &g->people[manager];
		int stay = m->manager < 0 ? 60 : share > 0 ? 70 : 80;
		p->location = rng_pct(&b->rng, (uint32_t)stay)
				  ? m->location
				  : (uint8_t)rng_pick(&b->rng, b->loc_w, NLOC);
		g->people[manager].reports++;
	}
	draw_name(b, p);
	draw_dates(b, p);
	draw_profile(b, p, share > 0);
	if (manager < 0)
		p->status = GENORG_ACTIVE;
	return i;
}

/* Team and area of a new report of m: managers open teams, everyone else joins m's. */
static int
assign_team(struct builder *b, long i)
{
	struct genorg *g = b->g;
	struct genorg_person *p = &g->people[i];
	const struct genorg_person *m = &g->people[p->manager];
	int dept = p->department;
	if (m->manager < 0) /* m is the CEO: i heads a department */
		p->area = 0;
	else if (g->people[m->manager].manager < 0 && m->level >= 6 && b->desc[i] > 0)
		/* a VP's managers take the department's areas in turn */
		p->area = (uint8_t)(b->area_next[dept]++ % (uint32_t)area_count(dept));
	else
		p->area = m->area;

	long t;
	if (m->manager < 0)
		t = team_add(b, TEAM_DEPT, dept, 0, -1);
	else if (b->desc[i] > 0 && p->level == 7)
		t = team_add(b, TEAM_AREA, dept, p->area, -1);
	else if (b->desc[i] > 0 && (p->level == 5 || p->level == 6))
		t = team_add(b, TEAM_SQUAD, dept, p->area, (int)rng_below(&b->rng, NSUBS));
	else
		t = m->team;
	if (t < 0)
		return -1;
	p->team = (int32_t)t;
	return 0;
}

/* IC level of a leaf: under a level-4 lead 1..3, otherwise 1..4. */
static int
leaf_level(struct builder *b, int manager_level)
{
	static const uint16_t under_lead[3] = {30, 40, 30};
	static const uint16_t normal[4] = {20, 32, 30, 18};
	if (manager_level == 4)
		return 1 + rng_pick(&b->rng, under_lead, 3);
	return 1 + rng_pick(&b->rng, normal, 4);
}

/* Level of a manager holding `share` descendants, below a parent at level `max`. */
static int
manager_level(int max, uint32_t share)
{
	int want = share <= 10 ? 5 : share <= 60 ? 6 : share <= 400 ? 7 : 8;
	if (max == 4)
		return 4;
	return want < max ? want : max;
}

static int
add_report(struct builder *b, long m, int level, int dept, uint32_t share)
{
	long i = person_add(b, m, level, dept, share);
	return i < 0 ? -1 : assign_team(b, i);
}

/*
 * Splits `total` descendants among n reports with random weights, no share above
 * cap (the caller guarantees n * cap >= total).
 */
static void
partition(struct builder *b, uint32_t total, int n, uint32_t cap, uint32_t *share)
{
	uint32_t w[SPAN_MAX * 2], wsum = 0, given = 0;
	for (int j = 0; j < n; j++) {
		w[j] = 4 + rng_below(&b->rng, 5);
		wsum += w[j];
	}
	for (int j = 0; j < n; j++) {
		share[j] = (uint32_t)((uint64_t)total * w[j] / wsum);
		given += share[j];
	}
	for (int j = 0; given < total; j = (j + 1) % n, given++)
		share[j]++;
	uint32_t excess = 0;
	for (int j = 0; j < n; j++)
		if (share[j] > cap) {
			excess += share[j] - cap;
			share[j] = cap;
		}
	for (int j = 0; excess > 0 && j < n; j++) {
		uint32_t room = cap - share[j];
		uint32_t give = room < excess ? room : excess;
		share[j] += give;
		excess -= give;
	}
}

/*
 * Places the D descendants of a person below the CEO. Up to 10 fit as direct
 * reports. Beyond that the person gets n reports (5..10, more when the caps
 * demand it): k of them lead sub-teams that share the rest, sized around seven
 * (a typical team), and the others are individual contributors.
 */
static int
grow_manager(struct builder *b, long m, uint32_t D)
{
	const struct genorg_person *p = &b->g->people[m];
	int level = p->level, dept = p->department;
	if (D <= SPAN_MAX) {
		for (uint32_t j = 0; j < D; j++)
			if (add_report(b, m, leaf_level(b, level), dept, 0) != 0)
				return -1;
		return 0;
	}
	int child = level - 1;
	uint32_t cap = gen_cap(child);
	uint32_t n = 5 + rng_below(&b->rng, 6);
	uint32_t needed = (D + cap) / (cap + 1);
	n = n < needed ? needed : n;
	if (n > SPAN_MAX) /* cannot happen: shares never exceed gen_cap of their level */
		return -1;
	uint32_t rest = D - n;
	uint32_t k = (rest + 6) / 7, kmin = (rest + cap - 1) / cap;
	k = k < kmin ? kmin : k > n ? n : k;
	uint32_t share[SPAN_MAX];
	partition(b, rest, (int)k, cap, share);
	for (uint32_t j = 0; j < n; j++) {
		int lvl = j < k ? manager_level(child, share[j]) : leaf_level(b, level);
		if (add_report(b, m, lvl, dept, j < k ? share[j] : 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * Places the CEO's D descendants: one subtree per department, sized by weight.
 * A department too big for one VP gets several (a million people needs ~15).
 */
static int
grow_ceo(struct builder *b, uint32_t D)
{
	if (D <= SPAN_MAX) { /* a tiny company: each report is a department of one */
		for (uint32_t j = 0; j < D; j++)
			if (add_report(b, 0, leaf_level(b, 9), (int)(j % NDEPT), 0) != 0)
				return -1;
		return 0;
	}
	uint32_t k = D / 8;
	k = k < 2 ? 2 : k > NDEPT ? NDEPT : k;
	uint32_t wsum = 0, given = 0, size[NDEPT];
	for (uint32_t d = 0; d < k; d++)
		wsum += genorg__departments[d].weight;
	for (uint32_t d = 0; d < k; d++) {
		size[d] = (uint32_t)((uint64_t)D * genorg__departments[d].weight / wsum);
		given += size[d];
	}
	for (uint32_t d = 0; given < D; d = (d + 1) % k, given++)
		size[d]++;
	uint32_t cap = gen_cap(8);
	for (uint32_t d = 0; d < k; d++) {
		if (size[d] == 0)
			continue;
		uint32_t heads = (size[d] + cap) / (cap + 1);
		uint32_t rest = size[d] - heads;
		for (uint32_t h = 0; h < heads; h++) {
			uint32_t s = rest / heads + (h < rest % heads);
			int lvl = s == 0 ? leaf_level(b, 9) : s <= 3 ? 5 : 8;
			if (add_report(b, 0, lvl, (int)d, s) != 0)
				return -1;
		}
	}
	return 0;
}

static int
grow(struct builder *b)
{
	struct genorg *g = b->g;
	person_add(b, -1, 9, DEPT_EXEC, (uint32_t)(g->n - 1));
	long t = team_add(b, TEAM_CEO, DEPT_EXEC, 0, -1);
	if (t < 0)
		return -1;
	g->people[0].team = (int32_t)t;
	/* The array is the BFS queue: reports are appended behind everyone already queued. */
	for (long i = 0; i < g->n; i++) {
		uint32_t D = b->desc[i];
		if (D == 0)
			continue;
		if (i >= b->next)
			return -1;
		int rc = i == 0 ? grow_ceo(b, D) : grow_manager(b, i, D);
		if (rc != 0)
			return -1;
	}
	return b->next == g->n ? 0 : -1;
}

static int
builder_init(struct builder *b, struct genorg *g)
{
	memset(b, 0, sizeof(*b));
	b->g = g;
	rng_seed(&b->rng, g->seed);
	b->desc = malloc((size_t)g->n * sizeof(*b->desc));
	b->name_count = calloc((size_t)NNAMES * NNAMES, sizeof(*b->name_count));
	if (b->desc == NULL || b->name_count == NULL)
		return -1;
	for (int l = 0; l < NLOC; l++)
		b->loc_w[l] = genorg__locations[l].weight;
	for (int dep = 0; dep < NDEPT_ALL; dep++)
		b->area_next[dep] = rng_below(&b->rng, (uint32_t)area_count(dep));
	topic_tables_init(b);
	return 0;
}

static void
builder_fini(struct builder *b)
{
	free(b->desc);
	free(b->name_count);
}

struct genorg *
genorg_new(const struct genorg_opts *opts, struct diag *d)
{
	if (opts->people < 1 || opts->people > GENORG_MAX_PEOPLE) {
		diag_set(d, DIAG_INVALID,
			 "gen-org: the number of people must be from 1 to %d, got %ld",
			 GENORG_MAX_PEOPLE, opts->people);
		return NULL;
	}
	struct genorg *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory");
		return NULL;
	}
	g->n = opts->people;
	g->seed = opts->seed;
	if (genorg__names_init(&g->names, d) != 0) {
		genorg_delete(g);
		return NULL;
	}
	g->people = malloc((size_t)g->n * sizeof(*g->people));
	struct builder b;
	if (g->people == NULL || builder_init(&b, g) != 0) {
		if (g->people != NULL)
			builder_fini(&b);
		genorg_delete(g);
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory for %ld people", opts->people);
		return NULL;
	}
	int rc = grow(&b);
	int oom = b.oom;
	builder_fini(&b);
	if (rc != 0) {
		genorg_delete(g);
		if (oom)
			diag_set(d, DIAG_NOMEM, "gen-org: out of memory for %ld people",
				 opts->people);
		else
			diag_set(d, DIAG_INTERNAL, "gen-org: the tree of %ld people did not add up",
				 opts->people);
		return NULL;
	}
	return g;
}

void
genorg_delete(struct genorg *g)
{
	if (g == NULL)
		return;
	free(g->people);
	free(g->teams);
	free(g);
}

long
genorg_count(const struct genorg *g)
{
	return g->n;
}

const struct genorg_person *
genorg_person(const struct genorg *g, long i)
{
	return i >= 0 && i < g->n ? &g->people[i] : NULL;
}

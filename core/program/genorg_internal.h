/*
 * genorg_internal: what the parts of gen-org share, and nothing else. Private
 * to core/program/genorg*.c; the contract is genorg.h.
 *
 * The parts: genorg_vocab.c (the fixed vocabulary: topics, departments,
 * locations, languages, name tables), genorg.c (growing the org: the builder),
 * genorg_text.c (a person or a survey answer as CSV fields), genorg_survey.c
 * (drawing a program's sign-up survey).
 *
 * Contract: the PRNG below is the only source of randomness, so the output
 * depends only on (people, seed) and, for a survey, the program name; its
 * functions are static inline because every draw goes through them. Tables
 * named genorg__* are defined in genorg_vocab.c and never change (the topic
 * names are shared with the matching policies).
 */
#ifndef TANDEM_GENORG_INTERNAL_H
#define TANDEM_GENORG_INTERNAL_H

#include <stdint.h>

#include "program/genorg.h"

/* ---- PRNG ------------------------------------------------------------------ */

/* xoshiro256** seeded through splitmix64: fast, well tested, same on every platform. */
struct rng {
	uint64_t s[4];
};

static inline uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire's multiply-and-reject). */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	uint64_t m = (rng_next(r) >> 32) * (uint64_t)n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t floor = (uint32_t)(-n) % n;
		while (low < floor) {
			m = (rng_next(r) >> 32) * (uint64_t)n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* True with probability pct/100. */
static inline int
rng_pct(struct rng *r, uint32_t pct)
{
	return rng_below(r, 100) < pct;
}

/* Index drawn with the given integer weights (at least one positive). */
static inline int
rng_pick(struct rng *r, const uint16_t *w, int n)
{
	uint32_t total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	uint32_t x = rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* ---- Vocabulary (genorg_vocab.c) ---------------------------------------------- */

struct topic {
	const char *name;
	uint8_t kind;
	uint8_t weight; /* popularity within its kind */
};

extern const struct topic genorg__topics[GENORG_NTOPICS];

struct department {
	const char *name;  /* the department column */
	const char *mgmt;  /* in manager titles: "Engineering Manager", "VP of Engineering" */
	const char *ic;	   /* individual contributor role: "Software Engineer" */
	uint16_t weight;   /* share of headcount */
	uint32_t affinity; /* topics three times as likely in this department */
	const char *areas[10];
};

enum { NDEPT = 10, DEPT_EXEC = 10, NDEPT_ALL = 11, MAX_AREAS = 10 };

/* Ordered by weight: small orgs keep only the first few departments. */
extern const struct department genorg__departments[NDEPT_ALL];

/* Second word of team names: "Payments Core", "Payments Insights 2". */
enum { NSUBS = 8 };
extern const char *const genorg__team_subs[NSUBS];

/* clang-format off */
enum { L_EN, L_FR, L_DE, L_ES, L_PT, L_IT, L_HI, L_ZH, L_JA, L_KO, L_AR, L_PL, L_VI, L_YO,
       L_KN, L_MS, L_TA, L_NL, NLANGS };
/* clang-format on */

extern const char *const genorg__lang_codes[NLANGS];

/* Languages people pick up besides their own: the extra-language draw. */
enum { NEXTRA_LANGS = 8 };
extern const uint8_t genorg__extra_langs[NEXTRA_LANGS];

enum { NORIGINS = 14 };

struct location {
	const char *name;
	const char *zone;
	uint16_t weight;	   /* share of headcount */
	int8_t lang[2];		   /* local languages besides English, -1 = none */
	uint16_t origin[NORIGINS]; /* where people's names come from, by origin */
};

enum { NLOC = 10, LOC_HQ = 0 };

extern const struct location genorg__locations[NLOC];

/* The language that goes with each name origin (anglo: English only). */
extern const int8_t genorg__origin_lang[NORIGINS];

/* Name tables: NPER names per origin. */
enum { NPER = 24, NNAMES = NORIGINS * NPER };

/* Display and e-mail forms of every name, split once from the tables above. */
struct name_forms {
	char display[40];
	char ascii[24];
};

struct names {
	struct name_forms first[NNAMES], last[NNAMES];
};


/* Splits the name tables and checks the uniqueness the name scheme relies on. */
int genorg__names_init(struct names *n, struct diag *d);

extern const char *const genorg__status_names[3];
extern const char *const genorg__role_names[3];
extern const char *const genorg__slot_names[GENORG_NSLOTS];

/* Digital and inclusion topics: what reverse mentoring is about. */
static const uint32_t REVERSE_TOPICS = (1u << 17) - 1;

/* ---- The org (genorg.c) ------------------------------------------------------- */

enum team_kind { TEAM_CEO, TEAM_DEPT, TEAM_AREA, TEAM_SQUAD };

/* A team name: "Office of the CEO", "Sales Leadership", "Payments", "Payments Core 2". */
struct team {
	uint8_t kind; /* enum team_kind */
	uint8_t dept, area, sub;
	uint32_t seq; /* 1 for the first team of that name, then 2, 3, ... */
};

struct genorg {
	long n;
	uint64_t seed;
	struct genorg_person *people;
	struct team *teams;
	long nteams;
	struct names names;
};

/* A drawn survey (genorg_survey.c). */
struct genorg_survey {
	long n;
	struct genorg_enrollment *entries;
};

#endif

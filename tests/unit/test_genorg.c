/*
 * Unit tests for core/program/genorg*.c: determinism, the shape of the tree, uniqueness,
 * the realism the matching work relies on (ages, skills, languages), the survey,
 * and the tiny orgs (1, 2, 7 people).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program/genorg.h"
#include "time/tz.h"

static struct genorg *
make(long n, uint64_t seed)
{
	struct diag d;
	diag_clear(&d);
	struct genorg_opts o = {.people = n, .seed = seed};
	struct genorg *g = genorg_new(&o, &d);
	if (g == NULL)
		fail_msg("genorg_new(%ld): %s", n, d.msg);
	assert_int_equal(genorg_count(g), n);
	return g;
}

/* Person i as one CSV-like line (fields joined by '|'), in a static buffer. */
static const char *
line_of(const struct genorg *g, long i)
{
	static char out[2048];
	struct genorg_row row;
	struct diag d;
	assert_int_equal(genorg_format(g, i, &row, &d), 0);
	size_t o = 0;
	for (int c = 0; c < GENORG_NCOLS; c++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", c ? "|" : "", row.field[c]);
	return out;
}

static int
popcount(uint32_t x)
{
	int n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static void
test_determinism(void **state)
{
	(void)state;
	struct genorg *a = make(3000, 7), *b = make(3000, 7), *c = make(3000, 8);
	long differ = 0;
	for (long i = 0; i < 3000; i++) {
		char la[2048];
		strcpy(la, line_of(a, i));
		assert_string_equal(la, line_of(b, i));
		if (strcmp(la, line_of(c, i)) != 0)
			differ++;
	}
	assert_true(differ > 2900); /* another seed: another org, not a shifted copy */
	genorg_delete(a);
	genorg_delete(b);
	genorg_delete(c);
}

/* The CEO's row, and every manager column names the manager's id. */
static void
test_rows(void **state)
{
	(void)state;
	struct genorg *g = make(30, 1);
	char first[2048];
	strcpy(first, line_of(g, 0));
	assert_non_null(strstr(first, "E000001|"));
	assert_non_null(strstr(first, "|Chief Executive Officer|9|Executive|Office of the CEO|"));
	assert_non_null(strstr(first, "|America/New_York||")); /* the CEO has no manager */
	/* Every other row names an earlier person as manager. */
	for (long i = 1; i < 30; i++) {
		char want[16];
		snprintf(want, sizeof(want), "|E%06d|", genorg_person(g, i)->manager + 1);
		assert_non_null(strstr(line_of(g, i), want));
	}
	genorg_delete(g);
}

/*
 * A digest of every field of a 1000-person org and its survey: the output must
 * not change across platforms, compilers and refactorings without this test
 * (and the e2e sha256) being updated on purpose.
 */
static void
test_pinned_output(void **state)
{
	(void)state;
	struct genorg *g = make(1000, 1);
	struct genorg_survey *s = genorg_survey_new(g, "pilot", 0, NULL);
	assert_non_null(s);
	uint64_t h = 0xcbf29ce484222325ULL;
	struct genorg_row row;
	for (long i = 0; i < 1000 + genorg_survey_count(s); i++) {
		int ncols = i < 1000 ? GENORG_NCOLS : GENORG_SURVEY_NCOLS;
		if (i < 1000)
			assert_int_equal(genorg_format(g, i, &row, NULL), 0);
		else
			assert_int_equal(genorg_survey_format(s, i - 1000, &row, NULL), 0);
		for (int c = 0; c < ncols; c++)
			for (const char *p = row.field[c];; p++) {
				h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
				if (*p == '\0')
					break;
			}
	}
	if (h != 0x27a007f6ecbbb48eULL)
		fail_msg("the output changed: digest %016llx", (unsigned long long)h);
	genorg_survey_delete(s);
	genorg_delete(g);
}

static void
check_tree(const struct genorg *g)
{
	long n = genorg_count(g);
	const struct genorg_person *ceo = genorg_person(g, 0);
	assert_int_equal(ceo->manager, -1);
	assert_int_equal(ceo->level, 9);
	long *reports = calloc((size_t)n, sizeof(*reports));
	assert_non_null(reports);
	for (long i = 1; i < n; i++) {
		const struct genorg_person *p = genorg_person(g, i);
		assert_true(p->manager >= 0 && p->manager < n);
		const struct genorg_person *m = genorg_person(g, p->manager);
		assert_true(m->level > p->level);
		assert_true(p->level >= 1 && p->level <= 8);
		reports[p->manager]++;
		/* The department is inherited below the department heads. */
		if (m->manager >= 0)
			assert_int_equal(p->department, m->department);
		/* No cycle: the chain reaches the CEO within 9 steps (levels strictly rise). */
		long j = i;
		int steps = 0;
		while (j != 0 && steps < 10) {
			j = genorg_person(g, j)->manager;
			steps++;
		}
		assert_int_equal(j, 0);
	}
	for (long i = 0; i < n; i++) {
		assert_int_equal(reports[i], genorg_person(g, i)->reports);
		if (i > 0)
			assert_true(reports[i] <= 10); /* spans below the CEO */
		if (reports[i] > 0)
			assert_true(genorg_person(g, i)->level >= 4);
	}
	free(reports);
}

static void
test_tree_shape(void **state)
{
	(void)state;
	static const long sizes[] = {1, 2, 7, 11, 30, 100, 1000, 12345, 100000};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct genorg *g = make(sizes[k], 42);
		check_tree(g);
		genorg_delete(g);
	}
}

/* Levels 9..5 all exist in a mid-size org, and a big one needs level-4 team leads. */
static void
test_levels(void **state)
{
	(void)state;
	struct genorg *g = make(100000, 3);
	long per_level[10] = {0}, leads = 0, managers = 0, span_sum = 0;
	for (long i = 0; i < 100000; i++) {
		const struct genorg_person *p = genorg_person(g, i);
		per_level[p->level]++;
		if (p->level == 4 && p->reports > 0)
			leads++;
		if (i > 0 && p->reports > 0) {
			managers++;
			span_sum += p->reports;
		}
	}
	for (int l = 1; l <= 9; l++)
		assert_true(per_level[l] > 0);
	assert_int_equal(per_level[9], 1);
	assert_true(per_level[8] >= 8 && per_level[8] <= 15);
	assert_true(leads > 0);
	/* ICs are the bulk; the average span below the CEO is realistic. */
	assert_true(per_level[1] + per_level[2] + per_level[3] + per_level[4] > 80000);
	assert_true(span_sum >= 5 * managers && span_sum <= 10 * managers);
	genorg_delete(g);
}

static void
test_departments_locations_zones(void **state)
{
	(void)state;
	struct genorg *g = make(1000, 5);
	int dept_seen[16] = {0}, loc_seen[16] = {0}, ndept = 0, nloc = 0;
	for (long i = 0; i < 1000; i++) {
		const struct genorg_person *p = genorg_person(g, i);
		assert_true(p->department < 16 && p->location < 16);
		ndept += !dept_seen[p->department]++;
		nloc += !loc_seen[p->location]++;
	}
	assert_true(ndept >= 8);
	assert_true(nloc >= 6);
	for (int l = 0; genorg_location_name(l) != NULL; l++) {
		const char *zone = genorg_location_zone(l);
		assert_true(tz_valid(zone));
		char path[256];
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		char magic[4];
		assert_int_equal(fread(magic, 1, 4, f), 4);
		assert_memory_equal(magic, "TZif", 4);
		fclose(f);
	}
	genorg_delete(g);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the n strings and fails on the first repeat. */
static void
assert_all_distinct(char **s, long n, const char *what)
{
	qsort(s, (size_t)n, sizeof(*s), cmp_str);
	for (long i = 1; i < n; i++)
		if (strcmp(s[i - 1], s[i]) == 0)
			fail_msg("%s repeats: '%s'", what, s[i]);
}

static void
test_unique_ids_names_emails(void **state)
{
	(void)state;
	enum { N = 200000 };
	struct genorg *g = make(N, 11);
	char **ids = malloc(N * sizeof(char *)), **names = malloc(N * sizeof(char *)),
	     **emails = malloc(N * sizeof(char *));
	assert_true(ids && names && emails);
	struct genorg_row row;
	struct diag d;
	long dups = 0;
	for (long i = 0; i < N; i++) {
		assert_int_equal(genorg_format(g, i, &row, &d), 0);
		ids[i] = strdup(row.field[0]);
		names[i] = strdup(row.field[1]);
		emails[i] = strdup(row.field[2]);
		dups += genorg_person(g, i)->name_dup > 0;
		/* E-mails: lowercase ASCII on the reserved example.com domain. */
		const char *at = strchr(row.field[2], '@');
		assert_non_null(at);
		assert_string_equal(at, "@example.com");
		for (const char *c = row.field[2]; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				    *c == '.' || *c == '-' || *c == '@');
	}
	assert_true(dups > 0); /* the test exercises the disambiguation */
	assert_all_distinct(ids, N, "id");
	assert_all_distinct(names, N, "name");
	assert_all_distinct(emails, N, "email");
	for (long i = 0; i < N; i++) {
		free(ids[i]);
		free(names[i]);
		free(emails[i]);
	}
	free(ids);
	free(names);
	free(emails);
	genorg_delete(g);
}

static void
test_ages_and_dates(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct genorg *g = make(N, 13);
	long sum_jr = 0, n_jr = 0, sum_sr = 0, n_sr = 0, young_jr = 0, old_sr = 0;
	struct genorg_row row;
	struct diag d;
	for (long i = 0; i < N; i++) {
		const struct genorg_person *p = genorg_person(g, i);
		assert_int_equal(p->generation, genorg_generation_of(p->birth_year));
		assert_true(p->hire_year - p->birth_year >= 21);
		assert_true(p->hire_year <= 2025 && p->hire_month >= 1 && p->hire_month <= 12);
		assert_true(p->hire_day >= 1 && p->hire_day <= 31);
		if (p->level <= 3) {
			sum_jr += p->birth_year;
			n_jr++;
			young_jr += p->generation >= GENORG_MILLENNIAL;
		} else if (p->level >= 7) {
			sum_sr += p->birth_year;
			n_sr++;
			old_sr += p->generation <= GENORG_GEN_X;
		}
		assert_int_equal(genorg_format(g, i, &row, &d), 0);
		assert_string_equal(row.field[11], genorg_generation_name(p->generation));
		assert_int_equal(strlen(row.field[12]), 10);
		if (p->reports > 0)
			assert_int_not_equal(p->status, GENORG_TERMINATED);
	}
	assert_true(n_jr > 0 && n_sr > 0);
	/* Mean birth year of levels 1-3 is 10+ years after that of levels 7-9. */
	assert_true(sum_jr * n_sr - sum_sr * n_jr > 10 * n_jr * n_sr);
	assert_true(young_jr * 100 > n_jr * 85);
	assert_true(old_sr * 100 > n_sr * 70);
	genorg_delete(g);
}

static void
test_skills_and_languages(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct genorg *g = make(N, 17);
	long dig_jr = 0, all_jr = 0, dig_sr = 0, all_sr = 0, sen_jr = 0, sen_sr = 0;
	long want_dig_sr = 0, want_all_sr = 0, english = 0, paris = 0, paris_fr = 0, active = 0;
	for (long i = 0; i < N; i++) {
		const struct genorg_person *p = genorg_person(g, i);
		int ns = popcount(p->skills), nw = popcount(p->wanted);
		assert_true(ns >= 1 && ns <= 4);
		assert_true(nw >= 1 && nw <= 3);
		assert_int_equal(p->skills & p->wanted, 0);
		assert_int_equal(p->skills >> GENORG_NTOPICS, 0);
		for (int t = 0; t < GENORG_NTOPICS; t++) {
			int kind = genorg_topic_kind(t);
			if (p->skills & (1u << t)) {
				if (p->level <= 4) {
					all_jr++;
					dig_jr += kind == GENORG_DIGITAL;
					sen_jr += kind == GENORG_SENIOR;
				} else if (p->level >= 6) {
					all_sr++;
					dig_sr += kind == GENORG_DIGITAL;
					sen_sr += kind == GENORG_SENIOR;
				}
			}
			if ((p->wanted & (1u << t)) && p->level >= 6) {
				want_all_sr++;
				want_dig_sr += kind != GENORG_SENIOR;
			}
		}
		english += p->languages & 1u; /* language 0 is en */
		if (strcmp(genorg_location_name(p->location), "Paris") == 0) {
			paris++;
			for (int l = 0; genorg_language_code(l); l++)
				if (strcmp(genorg_language_code(l), "fr") == 0)
					paris_fr += (p->languages >> l) & 1u;
		}
		active += p->status == GENORG_ACTIVE;
	}
	/* Digital skills: share among juniors more than 3x the share among seniors. */
	assert_true(dig_jr * all_sr > 3 * dig_sr * all_jr);
	/* Senior knowledge: the mirror image. */
	assert_true(sen_sr * all_jr > 3 * sen_jr * all_sr);
	/* But not exclusively: some seniors know digital topics. */
	assert_true(dig_sr > 0);
	/* Seniors mostly want digital or inclusion topics. */
	assert_true(want_dig_sr * 100 > want_all_sr * 75);
	assert_true(english * 100 > N * 90);
	assert_true(paris > 0 && paris_fr * 100 > paris * 70);
	assert_true(active * 100 > N * 85);
	assert_string_equal(genorg_language_code(0), "en");
	genorg_delete(g);
}

static void
test_vocabulary(void **state)
{
	(void)state;
	static const char *const expected[GENORG_NTOPICS] = {
	    "ai_tools",		  "genai_prompting",	 "data_literacy",
	    "social_media",	  "collaboration_tools", "cybersecurity",
	    "mobile_first",	  "automation",		 "digital_marketing",
	    "inclusive_language", "neurodiversity",	 "lgbtq_inclusion",
	    "accessibility",	  "gen_z_culture",	 "remote_work_culture",
	    "wellbeing",	  "sustainability",	 "leadership",
	    "strategy",		  "company_history",	 "stakeholder_management",
	    "negotiation",	  "career_planning",	 "executive_presence",
	    "finance_basics",	  "public_speaking",
	};
	for (int t = 0; t < GENORG_NTOPICS; t++) {
		assert_string_equal(genorg_topic_name(t), expected[t]);
		assert_int_equal(genorg_topic_kind(t), t < 9	? GENORG_DIGITAL
						       : t < 17 ? GENORG_INCLUSION
								: GENORG_SENIOR);
	}
	assert_null(genorg_topic_name(GENORG_NTOPICS));
	assert_int_equal(genorg_topic_kind(-1), -1);
	assert_string_equal(genorg_columns[0], "id");
	assert_string_equal(genorg_columns[GENORG_NCOLS - 1], "languages");
	assert_string_equal(genorg_survey_columns[GENORG_SURVEY_NCOLS - 1], "consent");
	assert_int_equal(genorg_generation_of(1964), GENORG_BABY_BOOMER);
	assert_int_equal(genorg_generation_of(1965), GENORG_GEN_X);
	assert_int_equal(genorg_generation_of(1996), GENORG_MILLENNIAL);
	assert_int_equal(genorg_generation_of(1997), GENORG_GEN_Z);
}

/*
 * Checks one survey. `typical`: a sign-up of ~40% of a sizable org, where the
 * reverse-mentoring shape must show (with the whole org signed up, balance alone
 * forces many juniors to be mentees).
 */
static void
check_survey(const struct genorg *g, const struct genorg_survey *s, long want, int typical)
{
	long n = genorg_survey_count(s);
	assert_int_equal(n, want);
	long demand = 0, supply = 0, both = 0, consent = 0;
	long jr = 0, jr_mentor = 0, sr = 0, sr_mentee = 0, youngest = 0, youngest_give = 0;
	long prev = -1, wish = 0, reverse_wish = 0, offer = 0, reverse_offer = 0;
	for (long i = 0; i < n; i++) {
		const struct genorg_enrollment *e = genorg_survey_entry(s, i);
		assert_true(e->person > prev); /* org order, no one twice */
		prev = e->person;
		const struct genorg_person *p = genorg_person(g, e->person);
		assert_non_null(p);
		assert_int_equal(e->offered & ~p->skills, 0);
		assert_int_equal(e->wanted & ~p->wanted, 0);
		assert_int_not_equal(e->availability, 0);
		if (e->role == GENORG_MENTEE) {
			assert_int_equal(e->capacity, 0);
			assert_int_equal(e->offered, 0);
			assert_int_not_equal(e->wanted, 0);
		} else {
			assert_true(e->capacity >= 1 && e->capacity <= 3);
			assert_int_not_equal(e->offered, 0);
			supply += e->capacity;
		}
		if (e->role == GENORG_MENTOR)
			assert_int_equal(e->wanted, 0);
		else
			demand++;
		both += e->role == GENORG_BOTH;
		consent += e->consent;
		for (int t = 0; t < GENORG_NTOPICS; t++) {
			int rev = genorg_topic_kind(t) != GENORG_SENIOR;
			if (p->level >= 5 && (e->wanted & (1u << t))) {
				wish++;
				reverse_wish += rev;
			}
			if (e->role == GENORG_MENTOR && (e->offered & (1u << t))) {
				offer++;
				reverse_offer += rev;
			}
		}
		if (p->level <= 2) {
			youngest++;
			youngest_give += e->role != GENORG_MENTEE;
		}
		if (p->level <= 4) {
			jr++;
			jr_mentor += e->role == GENORG_MENTOR;
		} else if (p->level >= 6) {
			sr++;
			sr_mentee += e->role == GENORG_MENTEE;
		}
		struct genorg_row row;
		struct diag d;
		assert_int_equal(genorg_survey_format(s, i, &row, &d), 0);
		assert_string_equal(row.field[1], e->role == GENORG_MENTOR   ? "mentor"
						  : e->role == GENORG_MENTEE ? "mentee"
									     : "both");
		if (e->role == GENORG_MENTEE)
			assert_string_equal(row.field[2], "");
		assert_string_equal(row.field[6], e->consent ? "yes" : "no");
	}
	if (n >= 100) {
		/* Capacity about 1.0-1.3x the mentees. */
		assert_true(supply * 100 >= demand * 100 && supply * 100 <= demand * 130);
		assert_true(both > 0 && both * 100 < n * 15);
		assert_true(consent * 100 > n * 90 && consent < n);
	}
	if (typical) {
		/* Reverse mentoring: juniors mostly mentor, the youngest nearly always, seniors
		 * learn. */
		assert_true(jr_mentor * 100 > jr * 50);
		assert_true(youngest_give * 100 >= youngest * 95);
		assert_true(sr_mentee * 100 > sr * 80);
		/* Seniors ask for, and mentors offer, mostly digital and inclusion topics. */
		assert_true(reverse_wish * 100 > wish * 80);
		assert_true(reverse_offer * 100 > offer * 90);
	}
}

static void
test_survey(void **state)
{
	(void)state;
	struct diag d;
	struct genorg *g = make(5000, 19);
	struct genorg_survey *s = genorg_survey_new(g, "pilot", 0, &d);
	assert_non_null(s);
	check_survey(g, s, 2000, 1);
	/* Same program: same survey; another program: another draw. */
	struct genorg_survey *again = genorg_survey_new(g, "pilot", 0, &d);
	struct genorg_survey *other = genorg_survey_new(g, "second-wave", 0, &d);
	assert_non_null(again);
	assert_non_null(other);
	assert_memory_equal(genorg_survey_entry(s, 0), genorg_survey_entry(again, 0),
			    sizeof(struct genorg_enrollment));
	for (long i = 0; i < 2000; i++)
		assert_memory_equal(genorg_survey_entry(s, i), genorg_survey_entry(again, i),
				    sizeof(struct genorg_enrollment));
	long same = 0;
	for (long i = 0; i < 2000; i++)
		same += memcmp(genorg_survey_entry(s, i), genorg_survey_entry(other, i),
			       sizeof(struct genorg_enrollment)) == 0;
	assert_true(same < 100);
	genorg_survey_delete(again);
	genorg_survey_delete(other);
	genorg_survey_delete(s);

	s = genorg_survey_new(g, "pilot", 300, &d);
	assert_non_null(s);
	check_survey(g, s, 300, 1);
	genorg_survey_delete(s);
	s = genorg_survey_new(g, "pilot", 5000, &d);
	assert_non_null(s);
	check_survey(g, s, 5000, 0);
	genorg_survey_delete(s);

	assert_null(genorg_survey_new(g, "pilot", 5001, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	assert_null(genorg_survey_new(g, "", 10, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	genorg_delete(g);
}

static void
test_tiny_orgs(void **state)
{
	(void)state;
	struct diag d;
	struct genorg *g = make(1, 1);
	assert_int_equal(genorg_person(g, 0)->manager, -1);
	assert_int_equal(genorg_person(g, 0)->reports, 0);
	assert_null(genorg_person(g, 1));
	struct genorg_row row;
	assert_int_equal(genorg_format(g, 0, &row, &d), 0);
	assert_string_equal(row.field[0], "E000001");
	assert_string_equal(row.field[9], "");
	struct genorg_survey *s = genorg_survey_new(g, "solo", 0, &d);
	assert_non_null(s);
	check_survey(g, s, 1, 0);
	genorg_survey_delete(s);
	genorg_delete(g);

	g = make(2, 1);
	check_tree(g);
	assert_int_equal(genorg_person(g, 1)->manager, 0);
	assert_int_equal(genorg_format(g, 1, &row, &d), 0);
	assert_string_equal(row.field[9], "E000001");
	s = genorg_survey_new(g, "duo", 0, &d);
	assert_non_null(s);
	check_survey(g, s, 1, 0);
	genorg_survey_delete(s);
	s = genorg_survey_new(g, "duo", 2, &d);
	assert_non_null(s);
	check_survey(g, s, 2, 0);
	genorg_survey_delete(s);
	genorg_delete(g);

	g = make(7, 1);
	check_tree(g);
	assert_int_equal(genorg_person(g, 0)->reports, 6);
	for (long i = 1; i < 7; i++) /* each report of the CEO starts a department */
		for (long j = 1; j < i; j++)
			assert_int_not_equal(genorg_person(g, i)->department,
					     genorg_person(g, j)->department);
	genorg_delete(g);
}

static void
test_bad_sizes(void **state)
{
	(void)state;
	struct diag d;
	struct genorg_opts o = {.people = 0, .seed = 1};
	assert_null(genorg_new(&o, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	o.people = GENORG_MAX_PEOPLE + 1;
	assert_null(genorg_new(&o, &d));
	assert_int_equal(d.code, DIAG_INVALID);
	assert_non_null(strstr(d.msg, "1 to 1000000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_pinned_output),
	    cmocka_unit_test(test_tree_shape),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_departments_locations_zones),
	    cmocka_unit_test(test_unique_ids_names_emails),
	    cmocka_unit_test(test_ages_and_dates),
	    cmocka_unit_test(test_skills_and_languages),
	    cmocka_unit_test(test_vocabulary),
	    cmocka_unit_test(test_survey),
	    cmocka_unit_test(test_tiny_orgs),
	    cmocka_unit_test(test_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

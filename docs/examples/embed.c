/*
 * embed.c: linking libtandem into your own program (docs/embedding.md).
 *
 *   cc embed.c $(pkg-config --cflags --libs tandem) -o embed
 *   ./embed WORKSPACE people.csv [PROGRAM enrollments.csv]
 *
 * Opens (creating if needed) the workspace, imports people from a file
 * (all-or-nothing) and solves a small assignment with mentor capacities. Given a
 * program declared in WORKSPACE/tandem.lua and its sign-up survey, it also imports
 * the survey from memory (as if your HR system handed it over), loads a matching
 * policy from a string, shows a dry run with each pair's explanation, stores the
 * proposals and lists the program's matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tandem.h>

/* A policy kept in your own configuration, not in a file of the workspace. */
static const char policy_source[] =
    "return tandem.policy{\n"
    "  name = 'embedded', version = '1.0.0', api = 1,\n"
    "  description = 'Loaded from a string by docs/examples/embed.c',\n"
    "  forbid = {'reporting_chain'},\n"
    "  weights = {topic_fit = 3, shared_language = 1},\n"
    "  score = function(mentor, mentee, f)\n"
    "    -- a small bonus when the mentor wants to learn what the mentee offers back\n"
    "    for _, want in ipairs(mentor.topics_wanted) do\n"
    "      for _, offer in ipairs(mentee.topics_offered) do\n"
    "        if want == offer then return 0.5 end\n"
    "      end\n"
    "    end\n"
    "    return 0\n"
    "  end,\n"
    "}\n";

static void
on_message(void *ud, int level, const char *message)
{
	(void)ud;
	fprintf(stderr, "%s%s\n", level == TANDEM_LOG_WARN ? "warning: " : "", message);
}

/* Reads a whole file into memory (what an HR system would hand over). */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int bad = 0;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 4096;
			char *nb = realloc(buf, ncap);
			if (nb == NULL) {
				bad = 1;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bad |= ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int
assign_demo(void)
{
	/* 3 mentees x 2 mentors, the second mentor takes two mentees. */
	const double scores[] = {9, 1,
				 8, 7,
				 2, 6};
	const int capacity[] = {1, 2};
	int row_to_col[3];
	double total;
	struct tandem_error err;
	if (tandem_assign(scores, 3, 2, NULL, capacity, 1, row_to_col, &total, &err) != 0) {
		fprintf(stderr, "assign: %s\n", err.message);
		return -1;
	}
	printf("assignment total %.0f:", total);
	for (int i = 0; i < 3; i++)
		printf(" %d->%d", i, row_to_col[i]);
	printf("\n");
	return 0;
}

static void
print_run(const struct tandem_run *run)
{
	for (int i = 0; i < tandem_run_count(run); i++) {
		const struct tandem_proposal *p = tandem_run_proposal(run, i);
		printf("proposal %s -> %s: score %.4f (built-in %.4f + lua %.4f)%s\n", p->mentor_id,
		       p->mentee_id, p->score, p->builtin, p->lua, p->kept ? " kept" : "");
		for (int k = 0; k < p->nfeatures; k++) {
			const struct tandem_feature *f = &p->features[k];
			if (f->weight != 0)
				printf("  %-22s value %.3f x weight %g = %+.3f\n", f->name,
				       f->value, f->weight, f->contribution);
		}
	}
	for (int i = 0; i < tandem_run_unmatched_count(run); i++)
		printf("unmatched %s\n", tandem_run_unmatched(run, i));
}

/* Enrollments from memory, a policy from a string, a dry run, a stored run, a listing. */
static int
match_demo(struct tandem *t, const char *program, const char *survey_path)
{
	struct tandem_error err;
	size_t len;
	char *survey = slurp(survey_path, &len);
	if (survey == NULL) {
		fprintf(stderr, "cannot read %s\n", survey_path);
		return -1;
	}
	struct tandem_import_summary sum;
	int rc = tandem_import_enrollments_buffer(t, program, "survey", survey, len, 0, &sum,
						  on_message, NULL, &err);
	free(survey);
	if (rc != 0) {
		fprintf(stderr, "enrollments: %s\n", err.message);
		return -1;
	}
	printf("imported %ld enrollments in %s (%ld mentors, %ld mentees)\n", sum.total, program,
	       sum.mentors, sum.mentees);

	struct tandem_policy *pol = tandem_policy_load_string(t, "embedded-policy", policy_source,
							      &err);
	if (pol == NULL) {
		fprintf(stderr, "policy: %s\n", err.message);
		return -1;
	}
	printf("policy %s %s loaded from a string\n", tandem_policy_name(pol),
	       tandem_policy_version(pol));

	struct tandem_run *run =
	    tandem_match_run(t, program, pol, TANDEM_MATCH_DRY_RUN | TANDEM_MATCH_EXPLAIN, &err);
	if (run == NULL) {
		fprintf(stderr, "dry run: %s\n", err.message);
		tandem_policy_free(pol);
		return -1;
	}
	printf("dry run: %d pairs, total %.4f\n", tandem_run_count(run), tandem_run_total(run));
	print_run(run);
	tandem_run_free(run);

	run = tandem_match_run(t, program, pol, 0, &err);
	tandem_policy_free(pol);
	if (run == NULL) {
		fprintf(stderr, "run: %s\n", err.message);
		return -1;
	}
	printf("stored %d proposals (%s)\n", tandem_run_count(run),
	       tandem_run_id(run) ? "with a run id" : "no run id");
	tandem_run_free(run);

	char *json = tandem_matches_json(t, program, "proposed", &err);
	if (json == NULL) {
		fprintf(stderr, "list: %s\n", err.message);
		return -1;
	}
	printf("proposed matches: %s\n", json);
	tandem_free(json);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: %s WORKSPACE PEOPLE.csv [PROGRAM ENROLLMENTS.csv]\n",
			argv[0]);
		return 2;
	}
	if (strcmp(tandem_version(), TANDEM_VERSION_STRING) != 0)
		fprintf(stderr, "warning: built with tandem.h %s, running libtandem %s\n",
			TANDEM_VERSION_STRING, tandem_version());
	struct tandem_error err;
	struct tandem *t = tandem_open(argv[1], TANDEM_OPEN_CREATE, &err);
	if (t == NULL) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}
	struct tandem_import_summary sum;
	if (tandem_import_people(t, argv[2], 0, &sum, on_message, NULL, &err) != 0) {
		fprintf(stderr, "import: %s (%s)\n", err.message, tandem_code_name(err.code));
		tandem_close(t);
		return 1;
	}
	printf("tandem %s: imported %ld people (%ld new, %ld updated, %ld unchanged)\n",
	       tandem_version(), sum.total, sum.created, sum.updated, sum.unchanged);
	int rc = assign_demo();
	if (rc == 0 && argc == 5)
		rc = match_demo(t, argv[3], argv[4]);
	tandem_close(t);
	return rc == 0 ? 0 : 1;
}

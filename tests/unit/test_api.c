/*
 * Unit tests for the public API (core/tandem.h), linked against the static
 * library: every entry point, its error paths (code + message naming the file and
 * line), NULL handles and arguments, and what the facade promises about ownership
 * (string-loaded policies leave no file behind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tandem.h"

static const char config_lua[] =
    "workspace { organization = 'Test', timezone = 'Europe/Paris' }\n"
    "program { name = 'p1', topics = {'ai_tools', 'leadership'},\n"
    "          policy = 'digital_upskilling' }\n"
    "program { name = 'bare' }\n";

/* X1 manages J1, X2 manages J2: with reporting_chain forbidden the only matching
 * is J2 -> X1, J1 -> X2. */
static const char org_csv[] =
    "id,name,email,timezone,manager,level,department,languages\n"
    "X1,Exec One,x1@example.com,Europe/Paris,,9,Finance,en\n"
    "X2,Exec Two,x2@example.com,Europe/Paris,,9,Sales,en\n"
    "J1,Junior One,j1@example.com,Europe/Paris,X1,2,Finance,en\n"
    "J2,Junior Two,j2@example.com,Europe/Paris,X2,2,Sales,en\n";

static const char survey_csv[] =
    "person,role,capacity,topics_offered,topics_wanted,availability,consent\n"
    "J1,mentor,1,ai_tools,leadership,mon-am,yes\n"
    "J2,mentor,1,ai_tools,,mon-am,yes\n"
    "X1,mentee,,,ai_tools,mon-am,yes\n"
    "X2,mentee,,leadership,ai_tools,mon-am,yes\n";

static const char policy_lua[] =
    "return tandem.policy{\n"
    "  name = 'from-string', version = '2.1.0', api = 1,\n"
    "  forbid = {'reporting_chain'},\n"
    "  weights = {topic_fit = 3, shared_language = 1},\n"
    "  score = function(mentor, mentee, f)\n"
    "    if mentor.id == 'J1' then return 0.5 end\n"
    "    return 0\n"
    "  end,\n"
    "}\n";

struct fixture {
	char dir[64];
	char fixtures[1024];
	struct tandem *t;
};

/* Messages passed to the import callbacks. */
struct messages {
	int errors, warnings;
	char first[1024];
};

static void
collect(void *ud, int level, const char *message)
{
	struct messages *m = ud;
	if (m->errors + m->warnings == 0)
		snprintf(m->first, sizeof(m->first), "%s", message);
	if (level == TANDEM_LOG_WARN)
		m->warnings++;
	else
		m->errors++;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_api.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	const char *src = getenv("TANDEM_SRCDIR");
	snprintf(f->fixtures, sizeof(f->fixtures), "%s/tests/plugins", src ? src : TANDEM_SRCDIR);
	write_file(f->dir, "tandem.lua", config_lua);
	struct tandem_error err;
	f->t = tandem_open(f->dir, TANDEM_OPEN_CREATE, &err);
	if (f->t == NULL) {
		print_error("open: %s\n", err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	tandem_close(f->t);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Imports the people and the survey of p1 (from memory). */
static void
load_cohort(struct tandem *t)
{
	struct tandem_error err;
	struct tandem_import_summary s;
	assert_int_equal(tandem_import_people_buffer(t, "org", org_csv, strlen(org_csv), 0, &s,
						     NULL, NULL, &err),
			 0);
	assert_int_equal(s.created, 4);
	assert_int_equal(tandem_import_enrollments_buffer(t, "p1", "survey", survey_csv,
							  strlen(survey_csv), 0, &s, NULL, NULL,
							  &err),
			 0);
	assert_int_equal(s.total, 4);
}

static int
count_private_files(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, ".tandem-policy", 14) == 0;
	closedir(d);
	return n;
}

/* ---- version, errors ------------------------------------------------------------ */

static void
test_version(void **state)
{
	(void)state;
	assert_string_equal(tandem_version(), TANDEM_VERSION_STRING);
	/* TANDEM_VERSION is CMake's project version, read from the header's macros. */
	assert_string_equal(TANDEM_VERSION_STRING, TANDEM_VERSION);
	char want[32];
	snprintf(want, sizeof(want), "%d.%d.%d", TANDEM_VERSION_MAJOR, TANDEM_VERSION_MINOR,
		 TANDEM_VERSION_PATCH);
	assert_string_equal(tandem_version(), want);
	assert_string_equal(tandem_code_name(TANDEM_OK), "ok");
	assert_string_equal(tandem_code_name(TANDEM_ENOTFOUND), "not_found");
	tandem_free(NULL);
}

/* Every entry point refuses a NULL handle with TANDEM_EINVALID instead of crashing. */
static void
test_null_handle(void **state)
{
	(void)state;
	struct tandem_error err;
	struct tandem_import_summary s;
	assert_null(tandem_open(NULL, 0, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "tandem_open: dir is NULL"));
	assert_int_equal(tandem_set_actor(NULL, "x", &err), -1);
	assert_int_equal(tandem_import_people(NULL, "x.csv", 0, &s, NULL, NULL, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_int_equal(tandem_import_people_buffer(NULL, "x", "", 0, 0, &s, NULL, NULL, &err), -1);
	assert_int_equal(tandem_import_enrollments(NULL, "p1", "x.csv", 0, &s, NULL, NULL, &err),
			 -1);
	assert_int_equal(
	    tandem_import_enrollments_buffer(NULL, "p1", "x", "", 0, 0, &s, NULL, NULL, &err), -1);
	assert_null(tandem_people_json(NULL, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_null(tandem_person_export_json(NULL, "X1", &err));
	assert_int_equal(tandem_person_erase(NULL, "X1", &err), -1);
	assert_null(tandem_policy_load(NULL, "reciprocal", &err));
	assert_null(tandem_policy_load_string(NULL, "x", "return 1", &err));
	assert_null(tandem_match_run(NULL, "p1", NULL, 0, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_null(tandem_matches_json(NULL, "p1", NULL, &err));
	/* err may be NULL too. */
	assert_null(tandem_people_json(NULL, NULL));
	/* Releasing NULL is fine; accessors of a NULL object give empty answers. */
	tandem_close(NULL);
	tandem_policy_free(NULL);
	tandem_run_free(NULL);
	assert_null(tandem_policy_name(NULL));
	assert_int_equal(tandem_run_count(NULL), 0);
	assert_null(tandem_run_proposal(NULL, 0));
	assert_null(tandem_run_id(NULL));
	assert_null(tandem_run_json(NULL));
}

/* ---- the workspace ---------------------------------------------------------------- */

static void
test_open(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	char path[256];
	/* Without CREATE, a folder without tandem.db is not a workspace. */
	snprintf(path, sizeof(path), "%s/empty", f->dir);
	assert_int_equal(mkdir(path, 0777), 0);
	assert_null(tandem_open(path, 0, &err));
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_non_null(strstr(err.message, "no workspace at"));
	assert_non_null(strstr(err.message, "empty"));
	/* With CREATE: the folder (one level) and the database. */
	snprintf(path, sizeof(path), "%s/new", f->dir);
	struct tandem *t = tandem_open(path, TANDEM_OPEN_CREATE, &err);
	assert_non_null(t);
	assert_int_equal(err.code, TANDEM_OK);
	assert_string_equal(err.message, "");
	tandem_close(t);
	t = tandem_open(path, 0, &err);
	assert_non_null(t);
	tandem_close(t);
	/* A file where the folder should be. */
	snprintf(path, sizeof(path), "%s/tandem.lua", f->dir);
	assert_null(tandem_open(path, TANDEM_OPEN_CREATE, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "is not a folder"));
	/* The actor is copied. */
	char actor[] = "hr-sync";
	assert_int_equal(tandem_set_actor(f->t, actor, &err), 0);
	actor[0] = 'X';
	assert_int_equal(tandem_set_actor(f->t, NULL, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
}

/* ---- people ------------------------------------------------------------------------ */

static void
test_import_people_file(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	struct tandem_import_summary s;
	char path[256];
	write_file(f->dir, "org.csv", org_csv);
	snprintf(path, sizeof(path), "%s/org.csv", f->dir);
	/* Dry run: counts, writes nothing. */
	assert_int_equal(tandem_import_people(f->t, path, 1, &s, NULL, NULL, &err), 0);
	assert_int_equal(s.total, 4);
	assert_int_equal(s.created, 4);
	char *json = tandem_people_json(f->t, &err);
	assert_non_null(json);
	assert_string_equal(json, "[]");
	tandem_free(json);
	assert_int_equal(tandem_import_people(f->t, path, 0, &s, NULL, NULL, &err), 0);
	assert_int_equal(err.code, TANDEM_OK);
	assert_int_equal(s.created, 4);
	assert_int_equal(tandem_import_people(f->t, path, 0, &s, NULL, NULL, &err), 0);
	assert_int_equal(s.unchanged, 4);
	assert_int_equal(s.mentors, 0);
	json = tandem_people_json(f->t, &err);
	assert_non_null(strstr(json, "\"Junior Two\""));

	/* A bad file: the code, a message naming FILE:LINE:COLUMN and the count, every
	 * error to the callback, nothing written. */
	write_file(f->dir, "bad.csv",
		   "id,name,email,timezone\nE3,Cy,not-an-email,UTC\nE4,Di,di@example.com,Mars/Base\n");
	snprintf(path, sizeof(path), "%s/bad.csv", f->dir);
	struct messages m = {0};
	assert_int_equal(tandem_import_people(f->t, path, 0, &s, collect, &m, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "bad.csv:2:3: email"));
	assert_non_null(strstr(err.message, "(2 errors; nothing was imported)"));
	assert_int_equal(s.errors, 2);
	assert_int_equal(m.errors, 2);
	assert_non_null(strstr(m.first, "bad.csv:2:3: email"));
	char *after = tandem_people_json(f->t, &err);
	assert_string_equal(after, json);
	tandem_free(after);
	tandem_free(json);

	/* A missing file. */
	snprintf(path, sizeof(path), "%s/nope.csv", f->dir);
	assert_int_equal(tandem_import_people(f->t, path, 0, &s, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.message, "nope.csv"));
	assert_int_equal(tandem_import_people(f->t, NULL, 0, &s, NULL, NULL, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
}

static void
test_import_people_buffer(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	struct tandem_import_summary s;
	/* summary and callback may be NULL. */
	assert_int_equal(
	    tandem_import_people_buffer(f->t, "hr", org_csv, strlen(org_csv), 0, NULL, NULL, NULL,
					&err),
	    0);
	const char bad[] = "id,name,email,timezone\nE3,Cy,nobody,UTC\n";
	struct messages m = {0};
	assert_int_equal(
	    tandem_import_people_buffer(f->t, "hr-export", bad, strlen(bad), 0, &s, collect, &m,
					&err),
	    -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "hr-export:2:3: email"));
	assert_non_null(strstr(err.message, "(1 error; nothing was imported)"));
	assert_int_equal(m.errors, 1);
	/* An empty buffer is an empty file; NULL data with a length is refused. */
	assert_int_equal(tandem_import_people_buffer(f->t, "hr", NULL, 0, 0, &s, NULL, NULL, &err),
			 -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "hr:1:1: empty file"));
	assert_int_equal(tandem_import_people_buffer(f->t, "hr", NULL, 3, 0, &s, NULL, NULL, &err),
			 -1);
	assert_non_null(strstr(err.message, "data is NULL"));
	/* The buffer need not end with a NUL byte: only len bytes are read. */
	char cut[sizeof(org_csv)];
	memcpy(cut, org_csv, sizeof(org_csv));
	size_t len = strlen(cut);
	cut[len] = 'Z';
	assert_int_equal(tandem_import_people_buffer(f->t, "hr", cut, len, 1, &s, NULL, NULL, &err),
			 0);
	assert_int_equal(s.unchanged, 4);
}

static void
test_export_erase(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	load_cohort(f->t);
	char *json = tandem_person_export_json(f->t, "x2@example.com", &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"X2\""));
	tandem_free(json);
	assert_int_equal(tandem_person_erase(f->t, "X2", &err), 0);
	assert_null(tandem_person_export_json(f->t, "X2", &err));
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_int_equal(tandem_person_erase(f->t, "X2", &err), -1);
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_non_null(strstr(err.message, "X2"));
	assert_int_equal(tandem_person_erase(f->t, NULL, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	json = tandem_people_json(f->t, &err);
	assert_null(strstr(json, "Exec Two"));
	tandem_free(json);
}

/* ---- enrollments ----------------------------------------------------------------- */

static void
test_import_enrollments(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	struct tandem_import_summary s;
	assert_int_equal(tandem_import_people_buffer(f->t, "org", org_csv, strlen(org_csv), 0, NULL,
						     NULL, NULL, &err),
			 0);
	char path[256];
	write_file(f->dir, "survey.csv", survey_csv);
	snprintf(path, sizeof(path), "%s/survey.csv", f->dir);
	assert_int_equal(tandem_import_enrollments(f->t, "p1", path, 0, &s, NULL, NULL, &err), 0);
	assert_int_equal(s.total, 4);
	assert_int_equal(s.created, 4);
	assert_int_equal(s.mentors, 2);
	assert_int_equal(s.mentees, 2);
	assert_int_equal(s.warnings, 0);

	/* A topic p1 does not declare: accepted, with a warning to the callback. */
	const char extra[] = "person,role,topics_offered,consent\nJ2,mentor,knitting,yes\n";
	struct messages m = {0};
	assert_int_equal(tandem_import_enrollments_buffer(f->t, "p1", "more", extra, strlen(extra),
							  0, &s, collect, &m, &err),
			 0);
	assert_int_equal(s.updated, 1);
	assert_int_equal(s.warnings, 1);
	assert_int_equal(m.warnings, 1);
	assert_non_null(strstr(m.first, "knitting"));

	/* Bad rows: FILE:LINE:COLUMN in the message, nothing written. */
	const char bad[] = "person,role,consent\nNOBODY,mentor,yes\nJ1,guru,yes\n";
	memset(&m, 0, sizeof(m));
	assert_int_equal(tandem_import_enrollments_buffer(f->t, "p1", "survey2", bad, strlen(bad),
							  0, &s, collect, &m, &err),
			 -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "survey2:2:1: person: unknown person 'NOBODY'"));
	assert_non_null(strstr(err.message, "(2 errors; nothing was imported)"));
	assert_int_equal(m.errors, 2);

	/* An unknown program names the declared ones. */
	assert_int_equal(tandem_import_enrollments(f->t, "nope", path, 0, &s, NULL, NULL, &err),
			 -1);
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_non_null(strstr(err.message, "no program named 'nope' (declared: p1, bare)"));
	assert_int_equal(tandem_import_enrollments(f->t, NULL, path, 0, &s, NULL, NULL, &err), -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
}

/* ---- policies ----------------------------------------------------------------------- */

static void
test_policy_load(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	/* A built-in by name. */
	struct tandem_policy *p = tandem_policy_load(f->t, "reciprocal", &err);
	assert_non_null(p);
	assert_string_equal(tandem_policy_name(p), "reciprocal");
	assert_string_equal(tandem_policy_version(p), "1.0.0");
	tandem_policy_free(p);
	/* A path. */
	char path[1100];
	snprintf(path, sizeof(path), "%s/good_policy.lua", f->fixtures);
	p = tandem_policy_load(f->t, path, &err);
	assert_non_null(p);
	assert_string_equal(tandem_policy_name(p), "good-policy");
	tandem_policy_free(p);
	/* A bad file: the message names FILE:LINE. */
	snprintf(path, sizeof(path), "%s/bad_syntax.lua", f->fixtures);
	assert_null(tandem_policy_load(f->t, path, &err));
	assert_int_not_equal(err.code, TANDEM_OK);
	assert_non_null(strstr(err.message, "bad_syntax.lua:2:"));
	/* Not a policy. */
	snprintf(path, sizeof(path), "%s/good_cadence.lua", f->fixtures);
	assert_null(tandem_policy_load(f->t, path, &err));
	assert_non_null(strstr(err.message, "declares a cadence, expected a policy"));
	/* Unknown name. */
	assert_null(tandem_policy_load(f->t, "no_such_policy", &err));
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_non_null(strstr(err.message, "no policy named 'no_such_policy'"));
	assert_null(tandem_policy_load(f->t, NULL, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
}

static void
test_policy_load_string(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	struct tandem_policy *p = tandem_policy_load_string(f->t, "mine", policy_lua, &err);
	assert_non_null(p);
	assert_int_equal(err.code, TANDEM_OK);
	assert_string_equal(tandem_policy_name(p), "from-string");
	assert_string_equal(tandem_policy_version(p), "2.1.0");
	/* The private file lives as long as the policy, and goes with it. */
	assert_int_equal(count_private_files(f->dir), 1);
	tandem_policy_free(p);
	assert_int_equal(count_private_files(f->dir), 0);

	/* Errors name the caller's name and line, never the private file. */
	const char bad[] = "-- line 1\nreturn tandem.policy{ name = 'x', version = '1.0.0', api = 1,\n"
			   "  weights = 'heavy' }\n";
	assert_null(tandem_policy_load_string(f->t, "mine", bad, &err));
	assert_int_not_equal(err.code, TANDEM_OK);
	/* The line of the offending field (weights), not of the constructor. */
	assert_non_null(strstr(err.message, "mine:3:"));
	assert_non_null(strstr(err.message, "weights"));
	assert_null(strstr(err.message, ".tandem-policy"));
	assert_null(tandem_policy_load_string(f->t, "syntax", "return tandem.policy{ name = ", &err));
	assert_non_null(strstr(err.message, "syntax:1:"));
	assert_null(strstr(err.message, ".tandem-policy"));
	assert_int_equal(count_private_files(f->dir), 0);
	assert_null(tandem_policy_load_string(f->t, "mine", NULL, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_null(tandem_policy_load_string(f->t, NULL, policy_lua, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
}

/* ---- match runs ---------------------------------------------------------------------- */

static const struct tandem_proposal *
find_pair(const struct tandem_run *r, const char *mentor, const char *mentee)
{
	for (int i = 0; i < tandem_run_count(r); i++) {
		const struct tandem_proposal *p = tandem_run_proposal(r, i);
		if (strcmp(p->mentor_id, mentor) == 0 && strcmp(p->mentee_id, mentee) == 0)
			return p;
	}
	return NULL;
}

static void
test_match_dry_explained(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	load_cohort(f->t);
	struct tandem_policy *pol = tandem_policy_load_string(f->t, "mine", policy_lua, &err);
	assert_non_null(pol);
	struct tandem_run *r =
	    tandem_match_run(f->t, "p1", pol, TANDEM_MATCH_DRY_RUN | TANDEM_MATCH_EXPLAIN, &err);
	assert_non_null(r);
	assert_int_equal(err.code, TANDEM_OK);
	assert_int_equal(tandem_run_count(r), 2);
	assert_null(tandem_run_proposal(r, 2));
	assert_null(tandem_run_proposal(r, -1));
	assert_null(tandem_run_id(r));
	assert_int_equal(tandem_run_unmatched_count(r), 0);
	assert_null(tandem_run_unmatched(r, 0));
	assert_true(fabs(tandem_run_total(r) - 8.5) < 1e-9);
	const struct tandem_proposal *p = find_pair(r, "J1", "X2");
	assert_non_null(p);
	assert_string_equal(p->mentor_name, "Junior One");
	assert_string_equal(p->mentee_name, "Exec Two");
	assert_true(fabs(p->builtin - 4) < 1e-9);
	assert_true(fabs(p->lua - 0.5) < 1e-9);
	assert_true(fabs(p->score - 4.5) < 1e-9);
	assert_int_equal(p->kept, 0);
	assert_non_null(find_pair(r, "J2", "X1"));
	/* The explanation, as data and as JSON. */
	assert_true(p->nfeatures >= 8);
	int seen = 0;
	for (int k = 0; k < p->nfeatures; k++) {
		const struct tandem_feature *ft = &p->features[k];
		if (strcmp(ft->name, "topic_fit") == 0) {
			seen++;
			assert_true(fabs(ft->value - 1) < 1e-9);
			assert_true(fabs(ft->weight - 3) < 1e-9);
			assert_true(fabs(ft->contribution - 3) < 1e-9);
		} else if (strcmp(ft->name, "level_gap") == 0) {
			seen++;
			assert_int_equal(ft->known, 1);
			assert_true(fabs(ft->raw - 7) < 1e-9);
			assert_true(fabs(ft->weight) < 1e-9);
		}
	}
	assert_int_equal(seen, 2);
	assert_non_null(p->explanation_json);
	assert_non_null(strstr(p->explanation_json, "\"policy\":\"from-string\""));
	assert_non_null(strstr(p->explanation_json, "\"constraints\""));
	/* The run document, as `tandem match run --json --explain` prints it. */
	const char *doc = tandem_run_json(r);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"program\":\"p1\""));
	assert_non_null(strstr(doc, "\"policy\":\"from-string\""));
	assert_non_null(strstr(doc, "\"explanation\""));
	assert_non_null(strstr(doc, "\"run_id\":null"));
	assert_non_null(strstr(doc, "\"dry_run\":true"));
	tandem_run_free(r);
	/* Nothing stored by a dry run. */
	char *json = tandem_matches_json(f->t, "p1", NULL, &err);
	assert_non_null(json);
	assert_string_equal(json, "[]");
	tandem_free(json);
	/* Without EXPLAIN there is no explanation. */
	r = tandem_match_run(f->t, "p1", pol, TANDEM_MATCH_DRY_RUN, &err);
	assert_non_null(r);
	assert_int_equal(tandem_run_proposal(r, 0)->nfeatures, 0);
	assert_null(tandem_run_proposal(r, 0)->features);
	assert_null(tandem_run_proposal(r, 0)->explanation_json);
	tandem_run_free(r);
	tandem_policy_free(pol);
}

static void
test_match_stored_and_listed(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	load_cohort(f->t);
	struct tandem_policy *pol = tandem_policy_load_string(f->t, "mine", policy_lua, &err);
	assert_non_null(pol);
	struct tandem_run *r = tandem_match_run(f->t, "p1", pol, 0, &err);
	assert_non_null(r);
	assert_non_null(tandem_run_id(r));
	assert_int_equal(strncmp(tandem_run_id(r), "run-", 4), 0);
	char run_id[64];
	snprintf(run_id, sizeof(run_id), "\"run_id\":\"%s\"", tandem_run_id(r));
	assert_non_null(strstr(tandem_run_json(r), run_id));
	assert_non_null(strstr(tandem_run_json(r), "\"dry_run\":false"));
	assert_null(strstr(tandem_run_json(r), "\"explanation\""));
	tandem_run_free(r);
	/* The run does not keep the policy: it may be freed first, or reused. */
	r = tandem_match_run(f->t, "p1", pol, TANDEM_MATCH_DRY_RUN, &err);
	assert_non_null(r);
	tandem_policy_free(pol);
	assert_int_equal(tandem_run_count(r), 2);
	tandem_run_free(r);

	char *json = tandem_matches_json(f->t, "p1", "proposed", &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"policy\":\"from-string\""));
	assert_non_null(strstr(json, run_id));
	assert_non_null(strstr(json, "\"mentor\":{\"id\":\"J1\""));
	tandem_free(json);
	json = tandem_matches_json(f->t, "p1", "approved", &err);
	assert_string_equal(json, "[]");
	tandem_free(json);
	json = tandem_matches_json(f->t, "p1", "superseded", &err);
	assert_string_equal(json, "[]");
	tandem_free(json);
	/* A stored re-run supersedes the first run's proposals: listed with "superseded"
	 * only, never among all. */
	pol = tandem_policy_load_string(f->t, "mine", policy_lua, &err);
	assert_non_null(pol);
	r = tandem_match_run(f->t, "p1", pol, 0, &err);
	assert_non_null(r);
	tandem_run_free(r);
	tandem_policy_free(pol);
	json = tandem_matches_json(f->t, "p1", "superseded", &err);
	assert_non_null(json);
	assert_non_null(strstr(json, run_id));
	assert_non_null(strstr(json, "\"status\":\"superseded\""));
	tandem_free(json);
	json = tandem_matches_json(f->t, "p1", NULL, &err);
	assert_non_null(json);
	assert_null(strstr(json, "superseded\""));
	tandem_free(json);
	assert_null(tandem_matches_json(f->t, "p1", "maybe", &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "'maybe'"));
	assert_non_null(strstr(err.message, "superseded"));
	assert_null(tandem_matches_json(f->t, "nope", NULL, &err));
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
}

static void
test_match_program_policy(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	load_cohort(f->t);
	/* NULL policy: the program's own (digital_upskilling, a built-in). */
	struct tandem_run *r = tandem_match_run(f->t, "p1", NULL, TANDEM_MATCH_DRY_RUN, &err);
	assert_non_null(r);
	assert_true(tandem_run_count(r) > 0);
	tandem_run_free(r);
	/* A program without a policy needs one given. */
	assert_null(tandem_match_run(f->t, "bare", NULL, TANDEM_MATCH_DRY_RUN, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_non_null(strstr(err.message, "program 'bare' names no policy"));
	/* A program nobody enrolled in: an empty run, not an error. */
	struct tandem_policy *pol = tandem_policy_load(f->t, "reciprocal", &err);
	assert_non_null(pol);
	r = tandem_match_run(f->t, "bare", pol, TANDEM_MATCH_DRY_RUN, &err);
	if (r == NULL)
		fail_msg("%s", err.message);
	assert_int_equal(tandem_run_count(r), 0);
	assert_int_equal(tandem_run_unmatched_count(r), 0);
	tandem_run_free(r);
	tandem_policy_free(pol);
}

static void
test_match_errors(void **state)
{
	struct fixture *f = *state;
	struct tandem_error err;
	load_cohort(f->t);
	struct tandem_policy *pol = tandem_policy_load_string(f->t, "mine", policy_lua, &err);
	assert_non_null(pol);
	/* Unknown program: not found, naming the declared ones. */
	assert_null(tandem_match_run(f->t, "nope", pol, TANDEM_MATCH_DRY_RUN, &err));
	assert_int_equal(err.code, TANDEM_ENOTFOUND);
	assert_non_null(strstr(err.message, "no program named 'nope' (declared: p1, bare)"));
	assert_null(tandem_match_run(f->t, NULL, pol, 0, &err));
	assert_int_equal(err.code, TANDEM_EINVALID);
	tandem_policy_free(pol);

	/* A hook that fails: TANDEM_EPLUGIN, the caller's name, the line and the hook. */
	const char failing[] = "return tandem.policy{ name = 'bad-hook', version = '1.0.0', api = 1,\n"
			       "  score = function(mentor, mentee, f)\n"
			       "    error('no score for ' .. mentor.name)\n"
			       "  end,\n"
			       "}\n";
	pol = tandem_policy_load_string(f->t, "failing", failing, &err);
	assert_non_null(pol);
	assert_null(tandem_match_run(f->t, "p1", pol, 0, &err));
	assert_int_equal(err.code, TANDEM_EPLUGIN);
	assert_non_null(strstr(err.message, "failing:3:"));
	assert_non_null(strstr(err.message, "score"));
	assert_null(strstr(err.message, ".tandem-policy"));
	tandem_policy_free(pol);
	/* Nothing was stored. */
	char *json = tandem_matches_json(f->t, "p1", NULL, &err);
	assert_string_equal(json, "[]");
	tandem_free(json);
	assert_int_equal(count_private_files(f->dir), 0);
}

/* ---- threads --------------------------------------------------------------------------- */

enum { THREADS = 3, ROUNDS = 3 };

struct worker_arg {
	char dir[128];
	int failures;
	char why[1200];
};

/* One thread, one handle: the whole embedding flow, ROUNDS times. */
static void *
thread_flow(void *p)
{
	struct worker_arg *a = p;
	for (int round = 0; round < ROUNDS && a->failures == 0; round++) {
		struct tandem_error err = {0};
		struct tandem *t = tandem_open(a->dir, TANDEM_OPEN_CREATE, &err);
		struct tandem_policy *pol = NULL;
		struct tandem_run *r = NULL;
		int ok = t != NULL &&
			 tandem_import_people_buffer(t, "org", org_csv, strlen(org_csv), 0, NULL,
						     NULL, NULL, &err) == 0 &&
			 tandem_import_enrollments_buffer(t, "p1", "survey", survey_csv,
							  strlen(survey_csv), 0, NULL, NULL, NULL,
							  &err) == 0 &&
			 (pol = tandem_policy_load_string(t, "mine", policy_lua, &err)) != NULL &&
			 (r = tandem_match_run(t, "p1", pol, TANDEM_MATCH_EXPLAIN, &err)) != NULL;
		if (!ok) {
			a->failures++;
			snprintf(a->why, sizeof(a->why), "round %d: %s", round, err.message);
		} else if (tandem_run_count(r) != 2 || fabs(tandem_run_total(r) - 8.5) > 1e-9) {
			a->failures++;
			snprintf(a->why, sizeof(a->why), "round %d: %d pairs, total %g", round,
				 tandem_run_count(r), tandem_run_total(r));
		}
		tandem_run_free(r);
		tandem_policy_free(pol);
		tandem_close(t);
	}
	return NULL;
}

/* Handles in different threads do not disturb one another (docs/embedding.md). */
static void
test_threads(void **state)
{
	struct fixture *f = *state;
	struct worker_arg args[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		snprintf(args[i].dir, sizeof(args[i].dir), "%s/ws%d", f->dir, i);
		assert_int_equal(mkdir(args[i].dir, 0777), 0);
		write_file(args[i].dir, "tandem.lua", config_lua);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_flow, &args[i]), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < THREADS; i++)
		if (args[i].failures)
			fail_msg("thread %d: %s", i, args[i].why);
}

/* ---- the matching primitive ----------------------------------------------------------- */

static void
test_assign(void **state)
{
	(void)state;
	struct tandem_error err;
	const double scores[] = {9, 1, 8, 7, 2, 6};
	const int capacity[] = {1, 2};
	int row_to_col[3];
	double total;
	assert_int_equal(
	    tandem_assign(scores, 3, 2, NULL, capacity, 1, row_to_col, &total, &err), 0);
	assert_true(fabs(total - 22) < 1e-9);
	assert_int_equal(row_to_col[0], 0);
	assert_int_equal(row_to_col[1], 1);
	assert_int_equal(row_to_col[2], 1);
	const double nan_scores[] = {NAN, 1};
	assert_int_equal(tandem_assign(nan_scores, 1, 2, NULL, NULL, 1, row_to_col, &total, &err),
			 -1);
	assert_int_equal(err.code, TANDEM_EINVALID);
	assert_int_equal(tandem_assign(NULL, 1, 2, NULL, NULL, 1, row_to_col, &total, &err), -1);
	assert_non_null(strstr(err.message, "scores is NULL"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_null_handle),
	    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_people_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_people_buffer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_erase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_enrollments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_load_string, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_dry_explained, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_stored_and_listed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_program_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test(test_assign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

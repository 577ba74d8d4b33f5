/* Unit tests for core/config: reading and validating tandem.lua. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "program/config.h"

static char tmpdir[] = "/tmp/tandem-config-XXXXXX";
static char path[256];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads `text` and expects failure with a message containing `want`. */
static void
expect_error(const char *text, const char *want)
{
	struct config cfg;
	struct diag d;
	write_file(text);
	if (config_load(path, &cfg, &d) == 0)
		fail_msg("accepted: %s", text);
	if (strstr(d.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", d.msg, want);
	assert_int_equal(cfg.nprograms, 0);
	assert_null(cfg.programs);
}

static void
test_template_loads(void **state)
{
	(void)state;
	struct config cfg;
	struct diag d;
	write_file(config_template);
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	assert_string_equal(cfg.organization, "Example Corp");
	assert_string_equal(cfg.timezone, "Europe/Paris");
	assert_int_equal(cfg.nprograms, 1);
	const struct config_program *p = config_find_program(&cfg, "digital-2027", &d);
	assert_non_null(p);
	assert_string_equal(p->starts, "2027-01-11");
	assert_int_equal(p->sessions_per_month, 2);
	assert_int_equal(p->minutes_per_session, 45);
	assert_true(p->ngoals == 2 && p->ntopics == 26);
	assert_string_equal(p->policy, "digital_upskilling");
	assert_null(config_find_program(&cfg, "nope", &d));
	assert_non_null(strstr(d.msg, "declared: digital-2027"));
	char *json = config_program_json(p);
	assert_non_null(strstr(json, "\"topics\":[\"ai_tools\""));
	free(json);
	config_fini(&cfg);
}

/* In process (config_load_mode with in_process = 1, as embedders and the fuzz harness ask):
 * the same config and the same errors as through the worker. */
static void
test_in_process(void **state)
{
	(void)state;
	struct config a, b;
	struct diag d;
	write_file(config_template);
	if (config_load(path, &a, &d) != 0 || config_load_mode(path, 1, &b, &d) != 0)
		fail_msg("%s", d.msg);
	assert_string_equal(a.organization, b.organization);
	assert_string_equal(a.timezone, b.timezone);
	assert_string_equal(b.path, path);
	assert_int_equal(a.nprograms, b.nprograms);
	char *ja = config_program_json(&a.programs[0]), *jb = config_program_json(&b.programs[0]);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	config_fini(&a);
	config_fini(&b);
	write_file("program { name = 'x',\n starts = '2027-02-30' }\n");
	struct diag e;
	assert_int_equal(config_load(path, &a, &d), -1);
	assert_int_equal(config_load_mode(path, 1, &b, &e), -1);
	assert_string_equal(d.msg, e.msg);
	assert_int_equal(b.nprograms, 0);
}

static void
test_defaults_and_computed_values(void **state)
{
	(void)state;
	struct config cfg;
	struct diag d;
	write_file("local topics = {}\n"
		   "for i = 1, 3 do topics[i] = 'topic_' .. i end\n"
		   "program { name = 'a', topics = topics }\n"
		   "program { name = 'b', manager = 'E000007' }\n");
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	/* manager: read in the worker, carried back through the wire encoding. */
	assert_null(cfg.programs[0].manager);
	assert_string_equal(cfg.programs[1].manager, "E000007");
	assert_string_equal(cfg.timezone, "UTC");
	assert_null(cfg.organization);
	assert_int_equal(cfg.nprograms, 2);
	assert_int_equal(cfg.programs[0].ntopics, 3);
	assert_string_equal(cfg.programs[0].topics[2], "topic_3");
	assert_int_equal(cfg.programs[1].line, 4);
	assert_null(cfg.public_url);
	config_fini(&cfg);
	/* public_url crosses the worker's wire. */
	write_file("workspace { public_url = 'https://m.example:8443/tandem' }\n");
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	assert_string_equal(cfg.public_url, "https://m.example:8443/tandem");
	config_fini(&cfg);
	assert_true(config_public_url_valid("http://127.0.0.1:8080"));
	assert_false(config_public_url_valid("http://"));
	assert_false(config_public_url_valid("https://a b"));
	assert_false(config_public_url_valid("https://a#frag"));
}

static void
test_errors_name_file_line_and_field(void **state)
{
	(void)state;
	char want[512];
	snprintf(want, sizeof(want), "%s:2: program 'x': unknown field 'stats' (valid fields: name,", path);
	expect_error("-- comment\nprogram { name = 'x', stats = '2027-01-01' }\n", want);
	expect_error("program { name = 'x',\n starts = '2027-02-30' }\n",
		     "program 'x': field 'starts': '2027-02-30' is not a date YYYY-MM-DD");
	expect_error("program { name = 'x', starts = '2027-03-01', ends = '2027-02-01' }",
		     "field 'ends' (2027-02-01) is before 'starts' (2027-03-01)");
	expect_error("program { name = 'x' }\nprogram { name = 'x' }\n",
		     ":2: program 'x': declared twice (first on line 1)");
	expect_error("program { name = 'Bad Name' }", "must be 1-64 characters");
	expect_error("program { title = 'no name' }", "field 'name' is required");
	expect_error("program { name = 'x', goals = 'one' }", "field 'goals' must be a list of strings");
	expect_error("program { name = 'x', topics = { 'a', 2 } }", "field 'topics' item 2 must be a string");
	/* A topic twice, as a name and as a table with questions: the file, the line, the field. */
	snprintf(want, sizeof(want),
		 "%s:3: program 'x': field 'topics' item 2: 'ai_tools' is listed twice", path);
	expect_error("program { name = 'x',\n starts = '2027-01-01',\n topics = { 'ai_tools',\n"
		     "  { name = 'ai_tools', questions = { 'Why?' } } } }\n",
		     want);
	expect_error("program { name = 'x', topics = { 'a', 'b', 'a' } }",
		     "field 'topics' item 3: 'a' is listed twice");
	expect_error("program { name = 'x', time_commitment = { sessions_per_month = 0 } }",
		     "field 'sessions_per_month' must be a whole number from 1 to 31");
	expect_error("workspace { timezone = 'Mars/Olympus' }", "'Mars/Olympus' is not an IANA time zone");
	expect_error("workspace { }\nworkspace { }", "workspace: declared twice");
	expect_error("workspace { public_url = 'ftp://x' }", "field 'public_url': 'ftp://x' is not");
	expect_error("workspace { public_url = 'https://x/?a=1' }", "field 'public_url'");
	expect_error("workspace { public_url = 'https://x/\"><b>' }", "field 'public_url'");
	expect_error("workspace { public_url = 'https:///x' }", "field 'public_url'");
	expect_error("program { name = 'x' ", ":1: '}' expected");
}

/* All of a declaration's problems at once, one per line in line order, each at
 * the line of its field (the declaration's line for one without a field). */
static void
test_all_problems_at_their_lines(void **state)
{
	(void)state;
	struct config cfg;
	struct diag d;
	write_file("workspace { organization = 'x' }\n"                        /* 1 */
		   "program {\n"                                               /* 2 */
		   "  name = 'p',\n"                                           /* 3 */
		   "  titel = 'P',\n"                                          /* 4 */
		   "  starts = '2027-02-30',\n"                                /* 5 */
		   "  topics = { 'a', 2 },\n"                                  /* 6 */
		   "  time_commitment = { sessions_per_month = '2',\n"         /* 7 */
		   "                      minutes_per_session = 999 },\n"      /* 8 */
		   "  policy = 7,\n"                                           /* 9 */
		   "}\n");
	assert_int_equal(config_load(path, &cfg, &d), -1);
	assert_int_equal(cfg.nprograms, 0);
	const char *want[] = {
	    ":4: program 'p': unknown field 'titel' (valid fields: name,",
	    ":5: program 'p': field 'starts': '2027-02-30' is not a date YYYY-MM-DD",
	    ":6: program 'p': field 'topics' item 2 must be a string (got number)",
	    ":7: program 'p': field 'sessions_per_month' must be a whole number from 1 to 31 (got string)",
	    ":8: program 'p': field 'minutes_per_session' must be a whole number from 1 to 480",
	    ":9: program 'p': field 'policy' must be a string (got number)",
	};
	const char *at = d.msg;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *hit = strstr(at, want[i]);
		if (hit == NULL)
			fail_msg("message '%s' lacks '%s' (in this order)", d.msg, want[i]);
		at = hit + 1;
	}
	int lines = 1;
	for (const char *p = d.msg; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 6);
	/* A field error in the second program is at its line too; a missing name is
	 * at the declaration's line, with the other problems of that declaration. */
	char want1[1024];
	write_file("program { name = 'a' }\nprogram {\n  starts = 'soon',\n}\n");
	assert_int_equal(config_load(path, &cfg, &d), -1);
	snprintf(want1, sizeof(want1),
		 "%s:2: program: field 'name' is required and must be a string\n"
		 "%s:3: program: field 'starts': 'soon' is not a date YYYY-MM-DD",
		 path, path);
	assert_string_equal(d.msg, want1);
	/* workspace{} likewise. */
	write_file("workspace {\n  organization = 1,\n  timezone = 'Mars/Olympus',\n}\n");
	assert_int_equal(config_load(path, &cfg, &d), -1);
	snprintf(want1, sizeof(want1),
		 "%s:2: workspace: field 'organization' must be a string (got number)\n"
		 "%s:3: workspace: field 'timezone': 'Mars/Olympus' is not an IANA time zone",
		 path, path);
	assert_string_equal(d.msg, want1);
}

static void
test_sandbox_applies(void **state)
{
	(void)state;
	expect_error("io.open('/etc/passwd')", "io");
	expect_error("os.execute('true')", "execute");
	expect_error("while true do end", "instruction budget");
	/* A config that fails after a valid program frees it (checked by ASan). */
	expect_error("program { name = 'ok', goals = {'g'} }\nerror('boom')", ":2: boom");
}

/* A hang inside a C function (no Lua instruction runs, so no count hook fires)
 * is killed at the config's deadline instead of blocking every command. */
static void
test_hang_in_c_is_killed(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error("program { name = 'x' }\n"
		     "string.find(string.rep('a', 60000), '.-.-.-.-.-b')\n",
		     "tandem.lua: evaluation killed after");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s > 4)
		fail_msg("took %.1f s", s);
}

/*
 * Declarations read with raw access: a program table whose __index or
 * __newindex declares more programs (which used to move the programs array
 * under a pointer C held: a heap use-after-free under ASan), lists with __len
 * and __index, a __pairs that lies. No metamethod runs while C reads the
 * tables, so the result is exactly what the tables hold.
 */
static void
test_metatables_never_run(void **state)
{
	(void)state;
	struct config cfg;
	struct diag d;
	write_file("local n = 0\n"
		   "local function more(t, k)\n"
		   "  for i = 1, 64 do n = n + 1; program { name = 'extra' .. n } end\n"
		   "  return nil\n"
		   "end\n"
		   "program(setmetatable({ name = 'a', title = 'A' },\n"
		   "  { __index = more, __newindex = more, __pairs = more }))\n"
		   "program { name = 'b',\n"
		   "  goals = setmetatable({ 'g1' }, { __len = function() more(); return 1000 end,\n"
		   "                                    __index = function() more(); return 'x' end }),\n"
		   "  time_commitment = setmetatable({}, { __index = function() error('no') end }) }\n"
		   "workspace(setmetatable({ organization = 'O' }, { __index = function() error('no') end }))\n");
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	assert_int_equal(cfg.nprograms, 2);
	assert_string_equal(cfg.programs[0].name, "a");
	assert_string_equal(cfg.programs[0].title, "A");
	assert_string_equal(cfg.programs[1].name, "b");
	assert_int_equal(cfg.programs[1].ngoals, 1);
	assert_string_equal(cfg.programs[1].goals[0], "g1");
	assert_int_equal(cfg.programs[1].sessions_per_month, 0);
	assert_string_equal(cfg.organization, "O");
	assert_string_equal(cfg.timezone, "UTC");
	config_fini(&cfg);
	/* The same metamethods, called by the script itself, are its own business:
	 * the programs they declare are declared, in order, with their lines. */
	write_file("local t = setmetatable({}, { __index = function(_, k)\n"
		   "  program { name = k }; return 1 end })\n"
		   "local _ = t.p1, t.p2\n"
		   "program { name = 'p3' }\n");
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	assert_int_equal(cfg.nprograms, 3);
	assert_string_equal(cfg.programs[2].name, "p3");
	assert_int_equal(cfg.programs[0].line, 2);
	assert_int_equal(cfg.programs[2].line, 4);
	config_fini(&cfg);
	/* An error raised while the script reads its own table names the line. */
	expect_error("local t = setmetatable({}, { __index = function() error('bad field') end })\n"
		     "program { name = t.name }\n",
		     "tandem.lua:1: bad field");
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/tandem.lua", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_loads),
		cmocka_unit_test(test_in_process),
		cmocka_unit_test(test_defaults_and_computed_values),
		cmocka_unit_test(test_errors_name_file_line_and_field),
		cmocka_unit_test(test_all_problems_at_their_lines),
		cmocka_unit_test(test_sandbox_applies),
		cmocka_unit_test(test_hang_in_c_is_killed),
		cmocka_unit_test(test_metatables_never_run),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

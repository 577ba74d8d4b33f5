/*
 * Unit tests for core/sched/job.c, actions.c, joblist.c and lua/jobdecl.c: the job
 * kind's declaration, sched_sync with Lua job scripts (loaded, updated, broken,
 * removed), a Lua run's ctx and actions, and the listings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lua/jobdecl.h"
#include "lua/plugin.h"
#include "sched/job.h"
#include "sched/occur.h"
#include "store/stmt.h"
#include "store/store.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
	struct sched *s;
};

static time_t
T(const char *iso)
{
	time_t t;
	assert_int_equal(sched_parse_time(iso, &t), 0);
	return t;
}

static void
write_script(struct fx *f, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/scripts", f->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/scripts/%s", f->dir, name);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
remove_script(struct fx *f, const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/scripts/%s", f->dir, name);
	assert_int_equal(unlink(p), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_job.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, T("2027-01-11T06:30:00Z"));
	store_set_clock(f->st, &f->clock);
	struct sched_opts o = {0};
	o.st = f->st;
	o.clock = &f->clock;
	o.ws = f->dir;
	o.builtins_set = 1; /* no built-ins: only the scripts */
	f->s = sched_new(&o, &d);
	*state = f;
	return f->s != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	sched_delete(f->s);
	store_close(f->st);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
qint(struct store *st, const char *sql)
{
	int64_t v = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "test", sql, &v, &d), 0);
	return v;
}

/* Column 0 of the first row as text into a static buffer ("" for none). */
static const char *
qtext(struct store *st, const char *sql)
{
	static char buf[2048];
	struct stmt q = {0};
	struct diag d;
	buf[0] = '\0';
	if (stmt_prepare(&q, st, "test", sql, &d) != 0)
		fail_msg("%s", d.msg);
	if (stmt_step(&q, &d) == STMT_ROW) {
		const char *t;
		assert_int_equal(stmt_text(&q, 0, &t, &d), 0);
		snprintf(buf, sizeof(buf), "%s", t != NULL ? t : "");
	}
	stmt_finalize(&q);
	return buf;
}

static const char digest_lua[] =
	"return tandem.job{ name = 'digest', version = '1.0.0', api = 1,\n"
	"  schedule = 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0', timezone = 'Europe/Paris',\n"
	"  misfire = 'skip', grace = '30m', jitter = '5m', max_lateness = '2h',\n"
	"  needs = {'sessions', 'matches'},\n"
	"  run = function(ctx)\n"
	"    return { {event = {kind = 'custom.digest', payload = {now = ctx.now, due = ctx.due,\n"
	"      covers = ctx.covers, programs = #ctx.programs, sessions = #ctx.sessions,\n"
	"      matches = #ctx.matches, zone = ctx.timezone, tags = {'a', 'b'}}}} }\n"
	"  end }\n";

static void
test_duration_and_rule(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(jobdecl_duration("90s", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(jobdecl_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(jobdecl_duration("2d", &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(jobdecl_duration("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(jobdecl_duration("", &v), -1);
	assert_int_equal(jobdecl_duration("1", &v), -1);
	assert_int_equal(jobdecl_duration("1y", &v), -1);
	assert_int_equal(jobdecl_duration("h", &v), -1);
	assert_int_equal(jobdecl_duration("367d", &v), -1);
	char buf[64];
	assert_int_equal(jobdecl_rule("every 7d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "every 7 days");
	assert_int_equal(jobdecl_rule("every 15m", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "every 15 minutes");
	assert_int_equal(jobdecl_rule("every 2h", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "every 2 hours");
	assert_int_equal(jobdecl_rule("FREQ=DAILY", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "FREQ=DAILY");
	assert_int_equal(jobdecl_rule("every 7dd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "every 7dd"); /* left for rrule_parse to refuse */
}

/* The validator: every problem at once, each naming its field. */
static void
test_declaration_errors(void **state)
{
	struct fx *f = *state;
	write_script(f, "bad.lua",
		     "return tandem.job{ name = 'bad', version = '1.0.0', api = 1,\n"
		     "  schedule = 'FREQ=WEEKLY;BYSETPOS=1',\n"
		     "  timezone = 'Mars/Olympus',\n"
		     "  misfire = 'twice',\n"
		     "  grace = '1 hour',\n"
		     "  jitter = -5,\n"
		     "  overlap = 'no',\n"
		     "  needs = {'people'},\n"
		     "  run = function() end }\n");
	char p[256];
	snprintf(p, sizeof(p), "%s/scripts/bad.lua", f->dir);
	struct diag d;
	assert_null(plugin_load(NULL, p, NULL, &d));
	static const char *const want[] = {
		"bad.lua:2: field 'schedule': rule 'FREQ=WEEKLY;BYSETPOS=1': part 'BYSETPOS'",
		"bad.lua:3: field 'timezone': unknown time zone 'Mars/Olympus'",
		"bad.lua:4: field 'misfire' must be \"once\", \"all\" or \"skip\" (got \"twice\")",
		"bad.lua:5: field 'grace' must be a duration like",
		"bad.lua:6: field 'jitter' must be between 0 and",
		"bad.lua:7: field 'overlap' must be a boolean (got string)",
		"bad.lua:8: field 'needs[1]': unknown snapshot \"people\"",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(d.msg, want[i]) == NULL)
			fail_msg("missing '%s' in:\n%s", want[i], d.msg);
	write_script(f, "count.lua",
		     "return tandem.job{ name = 'count', version = '1.0.0', api = 1,\n"
		     "  schedule = 'FREQ=DAILY;COUNT=3', run = function() end }\n");
	snprintf(p, sizeof(p), "%s/scripts/count.lua", f->dir);
	assert_null(plugin_load(NULL, p, NULL, &d));
	assert_non_null(strstr(d.msg, "field 'schedule': COUNT is not supported for jobs"));
}

static void
test_sync_and_run_lua(void **state)
{
	struct fx *f = *state;
	struct diag d;
	write_script(f, "digest.lua", digest_lua);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 0);
	assert_non_null(sched_job_plugin(f->s, "digest"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE name = 'digest' AND kind = 'lua'"
				     " AND timezone = 'Europe/Paris' AND misfire = 'skip' AND grace_s = 1800"
				     " AND jitter_s = 300 AND max_lateness_s = 7200 AND overlap = 0"
				     " AND enabled = 1 AND script LIKE '%/scripts/digest.lua'"),
			 1);
	/* 08:00 Paris = 07:00Z, plus its jitter. */
	assert_int_equal(sched_materialize(f->s, T("2027-01-11T06:30:00Z"), &d), 0);
	time_t due;
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due >= T("2027-01-11T07:00:00Z") && due <= T("2027-01-11T07:05:00Z"));
	/* Run on schedule. */
	clock_virtual_set(&f->clock, due);
	int ran;
	assert_int_equal(sched_run_one(f->s, due, &ran, &d), 0);
	assert_int_equal(ran, 1);
	assert_string_equal(qtext(f->st, "SELECT status FROM occurrences WHERE due_at = "
					 "'2027-01-11T07:00:00Z'"),
			    "done");
	assert_string_equal(qtext(f->st, "SELECT result FROM occurrences WHERE due_at = "
					 "'2027-01-11T07:00:00Z'"),
			    "{\"actions\":1,\"events\":1,\"messages\":0,\"sessions_cancelled\":0,"
			    "\"matches_ended\":0}");
	assert_string_equal(qtext(f->st, "SELECT json_extract(payload, '$.due') || ' ' ||"
					 " json_extract(payload, '$.zone') || ' ' ||"
					 " json_extract(payload, '$.covers') || ' ' ||"
					 " json_extract(payload, '$.sessions') || ' ' ||"
					 " json_extract(payload, '$.tags[1]') || ' ' || actor"
					 " FROM events WHERE kind = 'custom.digest'"),
			    "2027-01-11T07:00:00Z Europe/Paris 1 0 b job:digest");
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.ran' AND "
				     "json_extract(payload, '$.job') = 'digest'"),
			 1);
	/* The listing. */
	struct sched_job_info *v;
	size_t n;
	assert_int_equal(sched_list(f->s, 5, &v, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "digest");
	assert_string_equal(v[0].last.status, "done");
	assert_non_null(v[0].next_run);
	assert_true(strncmp(v[0].next_run, "2027-01-12T07:0", 15) == 0);
	assert_int_equal(v[0].counts[2], 1);
	sched_list_free(v, n);
}

/* A sync that finds every script as it loaded it loads nothing and writes nothing (the
 * service syncs at every wake); an edited file is loaded again; after
 * sched_forget_scripts everything is. */
static void
test_sync_unchanged_loads_nothing(void **state)
{
	struct fx *f = *state;
	struct diag d;
	write_script(f, "digest.lua", digest_lua);
	assert_int_equal(sched_sync(f->s, &d), 0);
	struct plugin *p1 = sched_job_plugin(f->s, "digest");
	assert_non_null(p1);
	sqlite3 *db = store_db(f->st);
	int64_t writes = sqlite3_total_changes64(db);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sched_sync(f->s, &d), 0);
		assert_ptr_equal(sched_job_plugin(f->s, "digest"), p1); /* the same worker */
	}
	assert_int_equal(sqlite3_total_changes64(db), writes); /* no row written */
	/* Edited: loaded again, the table follows. */
	char edited[sizeof(digest_lua) + 16];
	snprintf(edited, sizeof(edited), "%s", digest_lua);
	char *h = strstr(edited, "BYHOUR=8");
	assert_non_null(h);
	h[7] = '9';
	write_script(f, "digest.lua", edited);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE name = 'digest' AND "
				     "schedule LIKE '%BYHOUR=9%'"),
			 1);
	/* A row changed behind the struct's back stays so until the scripts are forgotten:
	 * then the next sync writes the table again. */
	assert_int_equal(store_exec(f->st, "UPDATE jobs SET grace_s = 1 WHERE name = 'digest'", &d),
			 0);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(qint(f->st, "SELECT grace_s FROM jobs WHERE name = 'digest'"), 1);
	sched_forget_scripts(f->s);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(qint(f->st, "SELECT grace_s FROM jobs WHERE name = 'digest'"), 1800);
	assert_non_null(sched_job_plugin(f->s, "digest"));
}

static void
test_bad_actions_apply_nothing(void **state)
{
	struct fx *f = *state;
	struct diag d;
	write_script(f, "mixed.lua",
		     "return tandem.job{ name = 'mixed', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h',\n"
		     "  run = function(ctx) return {\n"
		     "    {event = {kind = 'custom.ok'}},\n"
		     "    {event = {kind = 'session.held', payload = {}}} } end }\n");
	write_script(f, "single.lua",
		     "return tandem.job{ name = 'single', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h',\n"
		     "  run = function(ctx) return {event = {kind = 'custom.x'}} end }\n");
	write_script(f, "unknown.lua",
		     "return tandem.job{ name = 'unknown', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h',\n"
		     "  run = function(ctx) return { {event = {kind = 'custom.a', payload = {f = 1}}},\n"
		     "    {launch = 'rockets'} } end }\n");
	write_script(f, "boom.lua",
		     "return tandem.job{ name = 'boom', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h',\n"
		     "  run = function(ctx)\n"
		     "    error('no database today')\n"
		     "  end }\n");
	write_script(f, "nan.lua",
		     "return tandem.job{ name = 'nan', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h',\n"
		     "  run = function(ctx) return { {event = {kind = 'custom.y',\n"
		     "    payload = {t = {1, 2, {x = math.huge}}}}} } end }\n");
	write_script(f, "quiet.lua",
		     "return tandem.job{ name = 'quiet', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h', run = function(ctx) return nil end }\n");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 0);
	int64_t id;
	static const char *const names[] = {"mixed", "single", "unknown", "boom", "quiet", "nan"};
	for (int i = 0; i < 6; i++)
		assert_int_equal(sched_run_job(f->s, names[i], T("2027-01-11T07:00:00Z"), &id, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind LIKE 'custom.%'"), 0);
	const char *r = qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id = o.job_id"
				     " WHERE j.name = 'mixed' AND o.status = 'failed'");
	assert_non_null(strstr(r, "/scripts/mixed.lua: action 2: field 'event.kind' must be "
				  "\"custom.\" and a name of a-z, 0-9, '_' or '.' (got \"session.held\")"));
	r = qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			 " WHERE j.name = 'single' AND o.status = 'failed'");
	assert_non_null(strstr(r, "/scripts/single.lua: run must return nil or a list of actions"));
	assert_non_null(strstr(r, "wrap the action in { }"));
	r = qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			 " WHERE j.name = 'unknown' AND o.status = 'failed'");
	assert_non_null(strstr(r, "/scripts/unknown.lua: action 2: unknown action 'launch' (valid: "));
	r = qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			 " WHERE j.name = 'boom' AND o.status = 'failed'");
	assert_non_null(strstr(r, "boom.lua:4: no database today"));
	r = qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			 " WHERE j.name = 'nan' AND o.status = 'failed'");
	assert_non_null(strstr(r, "field 'event.payload.t[3].x' must be a finite number (got inf)"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'job.failed'"), 5);
	assert_string_equal(qtext(f->st, "SELECT o.result FROM occurrences o JOIN jobs j ON "
					 "j.id = o.job_id WHERE j.name = 'quiet'"),
			    "{\"actions\":0,\"events\":0,\"messages\":0,\"sessions_cancelled\":0,"
			    "\"matches_ended\":0}");
}

static void
test_sync_broken_removed_changed(void **state)
{
	struct fx *f = *state;
	struct diag d;
	write_script(f, "digest.lua", digest_lua);
	write_script(f, "broken.lua",
		     "return tandem.job{ name = 'broken', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1h', misfire = 'twice', run = function() end }\n");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 1);
	assert_non_null(strstr(sched_error(f->s, 0), "broken.lua:2: field 'misfire'"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(sched_materialize(f->s, T("2027-01-11T06:30:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'pending'"), 1);
	/* The good script breaks: the version loaded before stays, and so does the row. */
	write_script(f, "digest.lua", "return tandem.job{ name = 'digest' ");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 2);
	assert_non_null(sched_job_plugin(f->s, "digest"));
	assert_int_equal(qint(f->st, "SELECT enabled FROM jobs WHERE name = 'digest'"), 1);
	/* Fixed with another schedule: the prediction of the old one is dropped. */
	char text[sizeof(digest_lua) + 16];
	snprintf(text, sizeof(text), "%s", digest_lua);
	char *h = strstr(text, "BYHOUR=8");
	assert_non_null(h);
	h[7] = '9';
	write_script(f, "digest.lua", text);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences"), 0);
	assert_int_equal(sched_materialize(f->s, T("2027-01-11T06:30:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE due_at = "
				     "'2027-01-11T08:00:00Z'"),
			 1);
	/* Removed: disabled, never deleted; its occurrences stay. */
	remove_script(f, "digest.lua");
	remove_script(f, "broken.lua");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_null(sched_job_plugin(f->s, "digest"));
	assert_int_equal(qint(f->st, "SELECT enabled FROM jobs WHERE name = 'digest'"), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'skipped' AND "
				     "reason LIKE 'the job was disabled (its script is gone: %digest.lua)'"),
			 1);
	time_t due;
	assert_int_equal(sched_next_due(f->s, &due, &d), 1);
	/* Back again, later: owes runs from then on, not for the time it was gone. */
	clock_virtual_set(&f->clock, T("2027-02-01T12:00:00Z"));
	write_script(f, "digest.lua", text);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_string_equal(qtext(f->st, "SELECT enabled_at FROM jobs WHERE name = 'digest'"),
			    "2027-02-01T12:00:00Z");
	assert_int_equal(sched_materialize(f->s, T("2027-02-01T12:00:00Z"), &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM occurrences WHERE status = 'skipped'"), 1);
	assert_int_equal(sched_next_due(f->s, &due, &d), 0);
	assert_true(due >= T("2027-02-02T08:00:00Z") && due <= T("2027-02-02T08:05:00Z"));
	/* The history, newest first. */
	struct sched_occ_info *v;
	size_t n;
	assert_int_equal(sched_history(f->s, "digest", 10, &v, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].due_at, "2027-02-02T08:00:00Z");
	sched_occ_free(v, n);
	assert_int_equal(sched_history(f->s, "nope", 10, &v, &n, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
}


/* message, cancel_session and end_match, applied through their modules; a refusal fails the
 * run and applies nothing of the others. */
static void
test_domain_actions(void **state)
{
	struct fx *f = *state;
	struct diag d;
	assert_int_equal(
		store_exec(f->st,
			   "INSERT INTO programs (id, name, created_at) VALUES (1, 'p', 'x');"
			   "INSERT INTO people (id, external_id, name, email, timezone, created_at,"
			   " updated_at) VALUES (1, 'E1', 'Ann', 'a@x', 'UTC', 'x', 'x'),"
			   " (2, 'E2', 'Bo', 'b@x', 'UTC', 'x', 'x');"
			   "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)"
			   " VALUES (1, 1, 1, 2, 'active', 'x'), (2, 1, 2, 1, 'active', 'x');"
			   "INSERT INTO sessions (id, match_id, starts_at, timezone, planned_by,"
			   " created_at, updated_at) VALUES (5, 1, '2027-01-20T10:00:00Z', 'UTC',"
			   " 'weekly', 'x', 'x')",
			   &d),
		0);
	write_script(f, "nudge.lua",
		     "return tandem.job{ name = 'nudge', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1d', needs = {'matches', 'sessions'},\n"
		     "  run = function(ctx)\n"
		     "    local m = ctx.matches[1]\n"
		     "    return {\n"
		     "      {message = {to = m.mentee.id, subject = 'Hi ' .. m.mentee.name,\n"
		     "                  body = 'Meet ' .. m.mentor.name, key = 'nudge:' .. m.id}},\n"
		     "      {cancel_session = ctx.sessions[1].id, reason = 'holiday'},\n"
		     "      {end_match = 2, reason = 'left the company'} }\n"
		     "  end }\n");
	write_script(f, "stranger.lua",
		     "return tandem.job{ name = 'stranger', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1d', run = function(ctx) return {\n"
		     "    {event = {kind = 'custom.before'}},\n"
		     "    {message = {to = 'E99', body = 'x', key = 'k'}} } end }\n");
	write_script(f, "badkey.lua",
		     "return tandem.job{ name = 'badkey', version = '1.0.0', api = 1,\n"
		     "  schedule = 'every 1d', run = function(ctx) return {\n"
		     "    {end_match = 1.5, reason = 'x'},\n"
		     "    {message = {to = 'E1', body = 'x', key = 'a b'}} } end }\n");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 0);
	int64_t id;
	assert_int_equal(sched_run_job(f->s, "nudge", T("2027-01-11T07:00:00Z"), &id, &d), 0);
	assert_string_equal(qtext(f->st, "SELECT status || ' ' || result FROM occurrences WHERE id = "
					 "(SELECT max(o.id) FROM occurrences o JOIN jobs j ON j.id = "
					 "o.job_id WHERE j.name = 'nudge')"),
			    "done {\"actions\":3,\"events\":0,\"messages\":1,\"sessions_cancelled\":1,"
			    "\"matches_ended\":1}");
	assert_string_equal(qtext(f->st, "SELECT idempotency_key || ' ' || kind || ' ' || "
					 "recipient_id || ' ' || subject || ' ' || body FROM outbox"),
			    "job:nudge:nudge:1 job 2 Hi Bo Meet Ann");
	assert_string_equal(qtext(f->st, "SELECT status || ' ' || status_reason FROM sessions"),
			    "cancelled holiday");
	assert_string_equal(qtext(f->st, "SELECT status || ' ' || end_reason FROM matches WHERE id = 2"),
			    "ended left the company");
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE actor = 'job:nudge' AND "
				     "kind IN ('session.cancelled', 'match.ended')"),
			 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'message.queued'"), 1);
	/* Again, a day later: the same message key queues nothing twice; ending an ended match
	 * is refused, so the run fails and the message would not be queued anyway. */
	assert_int_equal(sched_run_job(f->s, "nudge", T("2027-01-12T07:00:00Z"), &id, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM outbox"), 1);
	assert_non_null(strstr(qtext(f->st, "SELECT reason FROM occurrences WHERE status = 'failed'"),
			       "/scripts/nudge.lua: action 2: "));
	/* A recipient that does not exist: failed, and the event before it is not kept. */
	assert_int_equal(sched_run_job(f->s, "stranger", T("2027-01-11T07:00:00Z"), &id, &d), 0);
	assert_non_null(strstr(qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON "
					    "j.id = o.job_id WHERE j.name = 'stranger'"),
			       "/scripts/stranger.lua: action 2: field 'message.to': no person with "
			       "external id 'E99'"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'custom.before'"), 0);
	/* Validation names the action and its field. */
	assert_int_equal(sched_run_job(f->s, "badkey", T("2027-01-11T07:00:00Z"), &id, &d), 0);
	assert_non_null(strstr(qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON "
					    "j.id = o.job_id WHERE j.name = 'badkey'"),
			       "/scripts/badkey.lua: action 1: field 'end_match' must be a match id, "
			       "a positive integer (got another number)"));
}

/* This build's built-in jobs: synced, and mark-missed marks a session nobody checked in. */
static void
test_builtins(void **state)
{
	struct fx *f = *state;
	struct diag d;
	struct sched_opts o = {0};
	o.st = f->st;
	o.clock = &f->clock;
	struct sched *s = sched_new(&o, &d);
	assert_non_null(s);
	assert_int_equal(sched_sync(s, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE kind = 'builtin' AND enabled = 1"
				     " AND name IN ('activate-matches', 'mark-missed')"),
			 2);
	assert_int_equal(
		store_exec(f->st,
			   "INSERT INTO programs (id, name, created_at) VALUES (1, 'p', 'x');"
			   "INSERT INTO people (id, external_id, name, email, timezone, created_at,"
			   " updated_at) VALUES (1, 'E1', 'Ann', 'a@x', 'UTC', 'x', 'x'),"
			   " (2, 'E2', 'Bo', 'b@x', 'UTC', 'x', 'x');"
			   "INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)"
			   " VALUES (1, 1, 1, 2, 'active', 'x');"
			   "INSERT INTO sessions (id, match_id, starts_at, timezone, planned_by,"
			   " created_at, updated_at) VALUES (5, 1, '2027-01-09T10:00:00Z', 'UTC',"
			   " 'weekly', 'x', 'x')",
			   &d),
		0);
	int64_t id;
	assert_int_equal(sched_run_job(s, "mark-missed", T("2027-01-11T07:00:00Z"), &id, &d), 0);
	assert_string_equal(qtext(f->st, "SELECT status FROM sessions WHERE id = 5"), "missed");
	assert_string_equal(qtext(f->st, "SELECT o.result FROM occurrences o JOIN jobs j ON j.id = "
					 "o.job_id WHERE j.name = 'mark-missed' AND o.status = 'done'"),
			    "{\"missed\":1,\"revealed\":0}");
	/* monthly-reports is listed; its body lives in report/publish and is given by the
	 * creator of the struct sched: without it, a run fails and says so. */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE name = 'monthly-reports' AND"
				     " schedule = 'FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0'"),
			 1);
	assert_int_equal(sched_run_job(s, "monthly-reports", T("2027-02-01T00:00:00Z"), &id, &d), 0);
	assert_non_null(strstr(qtext(f->st, "SELECT o.reason FROM occurrences o JOIN jobs j ON j.id ="
					    " o.job_id WHERE j.name = 'monthly-reports' AND"
					    " o.status = 'failed'"),
			       "the monthly reports are not wired in this process"));
	/* A built-in the build no longer has is disabled at the next sync. */
	sched_delete(s);
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE enabled = 1"), 0);
}

static void
test_name_clash(void **state)
{
	struct fx *f = *state;
	struct diag d;
	write_script(f, "a.lua", digest_lua);
	write_script(f, "b.lua", digest_lua);
	write_script(f, "c.lua", "return tandem.report{ name = 'r', version = '1.0.0', api = 1,\n"
				 "  build = function() end }\n");
	assert_int_equal(sched_sync(f->s, &d), 0);
	assert_int_equal(sched_nerrors(f->s), 2);
	assert_non_null(strstr(sched_error(f->s, 0), "b.lua: job name 'digest' is declared by"));
	assert_non_null(strstr(sched_error(f->s, 1), "c.lua: declares a report, expected a job"));
	assert_int_equal(qint(f->st, "SELECT count(*) FROM jobs WHERE script LIKE '%/a.lua'"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_and_rule),
		cmocka_unit_test_setup_teardown(test_declaration_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_and_run_lua, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_unchanged_loads_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_actions_apply_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_broken_removed_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_clash, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/rewards/dispatch: delivery in order and once per key, cursors, a bad
 * grant stopping the rule at its event, revocations, and a crash at each step boundary
 * (a forked child dies at the crash point) never doubling a grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/crash.h"
#include "events/events.h"
#include "rewards/dispatch.h"
#include "rewards/ledger.h"
#include "store/stmt.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A rule granting 10 points to both sides of a held session (event keys), and one that
 * names its own key per session and person. */
static const char points_rule[] =
	"return tandem.reward{ name = 't_points', version = '1.0.0', api = 1,\n"
	"  on = { ['session.held'] = function(ev, ctx)\n"
	"    return { { person_id = ev.match.mentor_id, points = 10, reason = 'held' },\n"
	"             { person_id = ev.match.mentee_id, points = 10, reason = 'held',\n"
	"               key = 'mentee:' .. ev.payload.session } }\n"
	"  end } }\n";

static void
exec_ok(struct store *st, const char *sql)
{
	struct diag d;
	if (store_exec(st, sql, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_dispatch.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins", f->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/plugins/rewards", f->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_points.lua", f->dir);
	write_file(p, points_rule);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, 1795356000);
	store_set_clock(f->st, &f->clock);
	/* Two people, a program, an active match, 30 held sessions, each with its event. */
	exec_ok(f->st,
		"INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at)"
		" VALUES (1, 'E1', 'Ana', 'ana@x.org', 'UTC', 't', 't'),"
		" (2, 'E2', 'Bo', 'bo@x.org', 'UTC', 't', 't');"
		"INSERT INTO programs (id, name, created_at) VALUES (1, 'pilot', 't');"
		"INSERT INTO enrollments (program_id, person_id, role, consent, leaderboard, created_at)"
		" VALUES (1, 1, 'mentor', 1, 1, 't'), (1, 2, 'mentee', 1, 0, 't');"
		"INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)"
		" VALUES (1, 1, 1, 2, 'active', 't');");
	assert_int_equal(store_begin(f->st, &d), 0);
	for (int i = 1; i <= 30; i++) {
		char sql[512], payload[128];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO sessions (id, match_id, starts_at, timezone, planned_by, status, created_at,"
			 " updated_at) VALUES (%d, 1, '2026-01-%02dT10:00:00Z', 'UTC', 'm', 'held', 't', 't')",
			 i, i);
		exec_ok(f->st, sql);
		snprintf(payload, sizeof(payload), "{\"session\":%d,\"match\":1}", i);
		assert_int_equal(events_append(f->st,
					       &(struct event){.kind = "session.held",
							       .program_id = 1,
							       .payload_json = payload},
					       NULL, &d),
				 0);
	}
	assert_int_equal(store_commit(f->st, &d), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
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
	if (stmt_query_int64(st, "test query", sql, &v, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
	return v;
}

static int
dispatch(struct fixture *f, const char *only, int batch, struct dispatch_result *r)
{
	struct dispatch_opts o = {.ws = f->dir, .only = only, .batch = batch};
	struct diag d;
	diag_clear(&d);
	int rc = rewards_dispatch(f->st, &o, 1795356000, r, &d);
	if (rc != 0)
		fail_msg("dispatch: %s", d.msg);
	return rc;
}

/*
 * ev.match is the run's copy of the match, sent to the rule's worker once and shared by
 * every event about it: read-only (a change would leak into the next event), readable
 * with indexing, #, ipairs and pairs, also after many batches.
 */
static void
test_match_read_only(void **state)
{
	struct fixture *f = *state;
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_reader.lua", f->dir);
	/* points = the number of sessions before this one, counted three ways that must agree */
	write_file(p, "return tandem.reward{ name = 't_reader', version = '1.0.0', api = 1,\n"
		      "  on = { ['session.held'] = function(ev, ctx)\n"
		      "    local m, n, k = ev.match, 0, 0\n"
		      "    for _, s in ipairs(m.sessions) do if s.id < ev.payload.session then n = n + 1 end end\n"
		      "    for key in pairs(m) do k = k + 1 end\n"
		      "    assert(#m.sessions == 30 and m.sessions[30].id == 30 and k >= 5)\n"
		      "    assert(getmetatable(m) == 'locked')\n"
		      "    if n == 0 then return nil end\n"
		      "    return { { person_id = m.mentor_id, points = n, reason = 'seen' } }\n"
		      "  end } }\n");
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_reader", 4, &r), 0);
	assert_string_equal(r.rules[0].error, "");
	assert_int_equal(r.delivered, 30);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE plugin = 't_reader'"),
			 29 * 30 / 2);
	/* A rule that writes into the match (rawset too, or into its sessions) stops at that
	 * event; the events before it are applied. */
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_writer.lua", f->dir);
	static const char writer[] =
		"return tandem.reward{ name = 't_writer', version = '1.0.0', api = 1,\n"
		"  on = { ['session.held'] = function(ev, ctx)\n"
		"    if ev.payload.session == %d then %s end\n"
		"    return { { person_id = ev.match.mentor_id, points = 1, reason = 'r' } }\n"
		"  end } }\n";
	char text[1024];
	snprintf(text, sizeof(text), writer, 3, "rawset(ev.match, 'status', 'x')");
	write_file(p, text);
	assert_int_equal(dispatch(f, "t_writer", 4, &r), 0);
	assert_int_equal(r.rules[0].stopped, 1);
	assert_int_equal(r.delivered, 2);
	assert_non_null(strstr(r.rules[0].error, "event 3"));
	assert_non_null(strstr(r.rules[0].error, "attempt to modify read-only table 'ev.match'"));
	dispatch_result_fini(&r);
	snprintf(text, sizeof(text), writer, 6, "ev.match.sessions[1].status = 'missed'");
	write_file(p, text);
	assert_int_equal(dispatch(f, "t_writer", 4, &r), 0);
	assert_int_equal(r.rules[0].stopped, 1);
	assert_int_equal(r.delivered, 3);
	assert_non_null(strstr(r.rules[0].error, "event 6"));
	assert_non_null(strstr(r.rules[0].error, "attempt to modify read-only table 'ev.match'"));
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_writer'"), 5);
}

static void
test_grants_once(void **state)
{
	struct fixture *f = *state;
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_points", 7, &r), 0);
	assert_int_equal(r.nrules, 1);
	assert_string_equal(r.rules[0].error, "");
	assert_int_equal(r.delivered, 30);
	assert_int_equal(r.granted, 60);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards"), 60);
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE person_id = 1"), 300);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'reward.granted'"), 60);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE award_key = 't_points:mentee:7'"), 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE award_key = 't_points:1:1'"), 1);
	assert_int_equal(qint(f->st, "SELECT program_id FROM rewards WHERE id = 1"), 1);
	/* Again: nothing new. With the cursor lost: every event again, still nothing new. */
	assert_int_equal(dispatch(f, "t_points", 7, &r), 0);
	assert_int_equal(r.delivered, 0);
	dispatch_result_fini(&r);
	exec_ok(f->st, "DELETE FROM hook_cursors");
	assert_int_equal(dispatch(f, "t_points", 1000, &r), 0);
	assert_int_equal(r.delivered, 30);
	assert_int_equal(r.granted, 0);
	assert_int_equal(r.rules[0].repeated, 60);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards"), 60);
	/* Nothing was granted by the last run: its cursor is the last event of the log. */
	assert_int_equal(qint(f->st, "SELECT event_id FROM hook_cursors WHERE plugin = 't_points'"),
			 qint(f->st, "SELECT max(id) FROM events"));
}

static void
test_bad_grant_stops_at_event(void **state)
{
	struct fixture *f = *state;
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_bad.lua", f->dir);
	/* Session 5's grant names a person that does not exist; session 9's is not a number. */
	write_file(p, "return tandem.reward{ name = 't_bad', version = '1.0.0', api = 1,\n"
		      "  on = { ['session.held'] = function(ev, ctx)\n"
		      "    local s = ev.payload.session\n"
		      "    if s == 9 then return { { person_id = 1, points = 'x', reason = 'r' } } end\n"
		      "    return { { person_id = s == 5 and 99 or 1, points = 1, reason = 'r' } }\n"
		      "  end } }\n");
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_bad", 3, &r), 0);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.rules[0].stopped, 1);
	assert_int_equal(r.delivered, 4);
	assert_non_null(strstr(r.rules[0].error, "t_bad.lua: event 5"));
	assert_non_null(strstr(r.rules[0].error, "grant 1: field 'person_id': no such person"));
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_bad'"), 4);
	assert_int_equal(qint(f->st, "SELECT event_id FROM hook_cursors WHERE plugin = 't_bad'"), 4);
	assert_int_equal(qint(f->st, "SELECT stopped_at FROM hook_cursors WHERE plugin = 't_bad'"), 5);
	/* Retried at the same event: still stopped, nothing doubled. */
	assert_int_equal(dispatch(f, "t_bad", 3, &r), 0);
	assert_int_equal(r.delivered, 0);
	dispatch_result_fini(&r);
	/* The person appears: the rule goes on, to the handler's own error at session 9. */
	exec_ok(f->st, "INSERT INTO people (id, external_id, name, email, timezone, created_at,"
		       " updated_at) VALUES (99, 'E99', 'Cy', 'cy@x.org', 'UTC', 't', 't')");
	assert_int_equal(dispatch(f, "t_bad", 3, &r), 0);
	assert_int_equal(r.delivered, 4);
	assert_non_null(strstr(r.rules[0].error, "event 9"));
	assert_non_null(strstr(r.rules[0].error,
			       "grant 1: field 'points' must be an integer between -100000 and 100000 "
			       "(got string) (in hook on[\"session.held\"])"));
	assert_non_null(strstr(r.rules[0].error, "t_bad.lua:2:"));
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_bad'"), 8);
}

static void
test_revocation(void **state)
{
	struct fixture *f = *state;
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_points", 0, &r), 0);
	dispatch_result_fini(&r);
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_revoke.lua", f->dir);
	/* Revokes the mentee's grant of session 2 (another rule's key, in full). */
	write_file(p, "return tandem.reward{ name = 't_revoke', version = '1.0.0', api = 1,\n"
		      "  on = { ['reward.granted'] = function(ev, ctx)\n"
		      "    if ev.payload.award_key == 't_points:mentee:2' then\n"
		      "      return { { revoke = ev.payload.award_key, reason = 'session disputed' } }\n"
		      "    end\n"
		      "  end } }\n");
	assert_int_equal(dispatch(f, "t_revoke", 0, &r), 0);
	assert_string_equal(r.rules[0].error, "");
	assert_int_equal(r.revoked, 1);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE person_id = 2"), 290);
	assert_int_equal(qint(f->st, "SELECT points FROM rewards WHERE award_key = "
				     "'revoke:t_points:mentee:2'"),
			 -10);
	assert_int_equal(qint(f->st, "SELECT revokes = (SELECT id FROM rewards WHERE award_key ="
				     " 't_points:mentee:2') FROM rewards WHERE revokes IS NOT NULL"),
			 1);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'reward.revoked'"), 1);
	/* By hand: a second revocation changes nothing; a revocation cannot be revoked. */
	struct diag d;
	int done = 1;
	assert_int_equal(ledger_revoke(f->st, "t_points:mentee:2", "again", NULL, 0, &done, &d), 0);
	assert_int_equal(done, 0);
	assert_int_equal(ledger_revoke(f->st, "revoke:t_points:mentee:2", "x", NULL, 0, &done, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_int_equal(ledger_revoke(f->st, "nope", "x", NULL, 0, &done, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
}

static void
test_leaderboard_consent(void **state)
{
	struct fixture *f = *state;
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_points", 0, &r), 0);
	dispatch_result_fini(&r);
	struct diag d;
	json_t *b;
	assert_int_equal(ledger_leaderboard(f->st, "pilot", "E2", &b, &d), 0);
	json_t *e = json_object_get(b, "entries");
	assert_int_equal(json_array_size(e), 1); /* only Ana opted in */
	assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "person")), "E1");
	char *text = json_dumps(json_object_get(b, "entries"), 0);
	assert_null(strstr(text, "E2"));
	assert_null(strstr(text, "Bo"));
	free(text);
	json_t *you = json_object_get(b, "you");
	assert_int_equal(json_integer_value(json_object_get(you, "points")), 300);
	assert_false(json_is_true(json_object_get(you, "on_board")));
	assert_int_equal(json_integer_value(json_object_get(you, "rank")), 1);
	json_decref(b);
	/* Without a program: the same (Ana opted in in her one enrollment). */
	assert_int_equal(ledger_leaderboard(f->st, NULL, NULL, &b, &d), 0);
	assert_int_equal(json_array_size(json_object_get(b, "entries")), 1);
	assert_null(json_object_get(b, "you"));
	json_decref(b);
}

/* A child dispatches with TANDEM_CRASH_AT=spec and dies there; returns its wait status. */
static int
crash_child(struct fixture *f, const char *spec)
{
	store_close(f->st);
	f->st = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		crash_reset();
		setenv("TANDEM_CRASH_AT", spec, 1);
		struct diag d;
		struct store *st = store_open(f->path, 0, &d);
		if (st == NULL)
			_exit(3);
		struct dispatch_opts o = {.ws = f->dir, .only = "t_points", .batch = 4};
		struct dispatch_result r;
		int rc = rewards_dispatch(st, &o, 1795356000, &r, &d);
		_exit(rc == 0 ? 0 : 4);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	struct diag d;
	f->st = store_open(f->path, 0, &d);
	assert_non_null(f->st);
	store_set_clock(f->st, &f->clock);
	return status;
}

static void
test_crash_never_doubles(void **state)
{
	struct fixture *f = *state;
	static const char *const points[] = {"rewards.hooks_ran", "rewards.applied",
					     "rewards.before_commit", "rewards.committed",
					     "rewards.hooks_ran:3", "rewards.committed:5"};
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		int status = crash_child(f, points[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 137);
		/* Whatever was committed is whole: each grant with its event, no key twice. */
		assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards"),
				 qint(f->st, "SELECT count(*) FROM events WHERE kind = 'reward.granted'"));
		assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards") % 2, 0);
	}
	/* Then a full dispatch: exactly two grants per held session. */
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_points", 4, &r), 0);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards"), 60);
	assert_int_equal(qint(f->st, "SELECT count(DISTINCT award_key) FROM rewards"), 60);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM events WHERE kind = 'reward.granted'"), 60);
}

/*
 * Rules listening to the same kinds from the same cursor are sent the requests the first
 * one built (rewards/dispatch_cache.c); each still sees its own ctx.rule, and a rule whose
 * cursor is elsewhere builds its own. Three rules, batches of 4: t_a and t_c from the
 * start, t_b from the 10th event; each grants, per event, the sessions seen before it.
 */
static void
test_rules_share_requests(void **state)
{
	struct fixture *f = *state;
	static const char rule[] =
		"return tandem.reward{ name = '%s', version = '1.0.0', api = 1,\n"
		"  on = { ['session.held'] = function(ev, ctx)\n"
		"    local n = 0\n"
		"    for _, s in ipairs(ev.match.sessions) do\n"
		"      if s.id < ev.payload.session then n = n + 1 end\n"
		"    end\n"
		"    if n == 0 then return nil end\n"
		"    return { { person_id = ev.match.mentor_id, points = n, reason = ctx.rule } }\n"
		"  end } }\n";
	const char *names[] = {"t_a", "t_b", "t_c"};
	for (int i = 0; i < 3; i++) {
		char p[256], text[1024];
		snprintf(p, sizeof(p), "%s/plugins/rewards/%s.lua", f->dir, names[i]);
		snprintf(text, sizeof(text), rule, names[i]);
		write_file(p, text);
	}
	exec_ok(f->st, "INSERT INTO hook_cursors (plugin, event_id, kinds, updated_at) SELECT 't_b', "
		       "min(id) + 9, '[\"session.held\"]', 't' FROM events");
	struct dispatch_result r;
	assert_int_equal(dispatch(f, NULL, 4, &r), 0);
	for (int i = 0; i < r.nrules; i++)
		assert_string_equal(r.rules[i].error, "");
	dispatch_result_fini(&r);
	/* sessions 2..30 (t_a, t_c) and 11..30 (t_b), each of its own rule */
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE plugin = 't_a' "
				     "AND reason = 't_a'"), 29 * 30 / 2);
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE plugin = 't_c' "
				     "AND reason = 't_c'"), 29 * 30 / 2);
	assert_int_equal(qint(f->st, "SELECT sum(points) FROM rewards WHERE plugin = 't_b' "
				     "AND reason = 't_b'"), 29 * 30 / 2 - 9 * 10 / 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin IN ('t_a', 't_b', 't_c') "
				     "AND reason <> plugin"), 0);
	/* the built-ins too, from the same requests */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 'session_points'"), 60);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 'streaks'"), 6);
}

/*
 * A rule listening to several kinds gets their events merged in id order, across batches
 * (each kind is read by its own index range; events of other kinds between them change
 * nothing).
 */
static void
test_kinds_in_id_order(void **state)
{
	struct fixture *f = *state;
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_seq.lua", f->dir);
	write_file(p,
		   "local last = 0\n"
		   "local function h(ev, ctx)\n"
		   "  if ev.id <= last then error('out of order: ' .. ev.id .. ' after ' .. last) end\n"
		   "  last = ev.id\n"
		   "  return { { person_id = 1, points = 1, reason = ev.kind } }\n"
		   "end\n"
		   "return tandem.reward{ name = 't_seq', version = '1.0.0', api = 1,\n"
		   "  on = { ['custom.a'] = h, ['custom.b'] = h, ['session.held'] = h } }\n");
	struct diag d;
	assert_int_equal(store_begin(f->st, &d), 0);
	const char *kinds[] = {"custom.a", "custom.other", "custom.b", "custom.other"};
	for (int i = 0; i < 40; i++)
		assert_int_equal(events_append(f->st,
					       &(struct event){.kind = kinds[i % 4],
							       .program_id = 1,
							       .payload_json = "{}"},
					       NULL, &d),
				 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_seq", 3, &r), 0);
	assert_int_equal(r.nrules, 1);
	assert_string_equal(r.rules[0].error, "");
	assert_int_equal(r.rules[0].delivered, 30 + 20);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_seq'"), 50);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_seq' AND "
				     "reason = 'custom.b'"), 10);
	/* in id order: each grant's event after the previous one's */
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards a JOIN rewards b ON b.id = "
				     "a.id + 1 WHERE a.plugin = 't_seq' AND b.plugin = 't_seq' AND "
				     "b.event_id <= a.event_id"), 0);
	assert_int_equal(qint(f->st, "SELECT event_id FROM hook_cursors WHERE plugin = 't_seq'"),
			 qint(f->st, "SELECT max(id) FROM events WHERE kind <> 'reward.granted'"));
}

/* A rule whose file no longer loads is reported with its error and the cursor it has in
 * the store (not 0); nothing is delivered to it and its cursor does not move. */
static void
test_broken_rule_keeps_cursor(void **state)
{
	struct fixture *f = *state;
	struct dispatch_result r;
	assert_int_equal(dispatch(f, "t_points", 0, &r), 0);
	dispatch_result_fini(&r);
	int64_t before = qint(f->st, "SELECT event_id FROM hook_cursors WHERE plugin = 't_points'");
	assert_true(before > 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_points.lua", f->dir);
	write_file(p, "return tandem.reward{ name = 't_points',\n");
	struct diag d;
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(events_append(f->st,
				       &(struct event){.kind = "session.held",
						       .program_id = 1,
						       .payload_json = "{\"session\":1,\"match\":1}"},
				       NULL, &d),
			 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	struct dispatch_opts o = {.ws = f->dir, .only = "t_points"};
	diag_clear(&d);
	assert_int_equal(rewards_dispatch(f->st, &o, 1795356000, &r, &d), 0);
	assert_int_equal(r.nrules, 1);
	assert_non_null(strstr(r.rules[0].error, "t_points.lua:"));
	assert_int_equal(r.rules[0].cursor, before);
	assert_int_equal(r.rules[0].delivered, 0);
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT event_id FROM hook_cursors WHERE plugin = 't_points'"),
			 before);
}

/* Two grants under one key for two people (a rule's bug): the rule stops at that event,
 * named with the grant and the field; the events before it are applied, in a batch and
 * one event per batch alike. */
static void
test_key_for_two_people_stops(void **state)
{
	struct fixture *f = *state;
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_dup.lua", f->dir);
	write_file(p,
		   "return tandem.reward{ name = 't_dup', version = '1.0.0', api = 1,\n"
		   "  on = { ['session.held'] = function(ev, ctx)\n"
		   "    local s = ev.payload.session\n"
		   "    local k = s == 5 and 'bonus' or ('bonus:' .. s)\n"
		   "    return { { person_id = ev.match.mentor_id, points = 1, reason = 'r', key = k },\n"
		   "             { person_id = ev.match.mentee_id, points = 1, reason = 'r',\n"
		   "               key = s == 5 and k or (k .. ':b') } }\n"
		   "  end } }\n");
	for (int batch = 0; batch <= 1; batch++) {
		struct dispatch_result r;
		assert_int_equal(dispatch(f, "t_dup", batch, &r), 0);
		assert_int_equal(r.nrules, 1);
		assert_non_null(strstr(r.rules[0].error, "grant 2: field 'key': award key 't_dup:bonus'"));
		assert_int_equal(r.rules[0].delivered, batch == 0 ? 4 : 0);
		dispatch_result_fini(&r);
		assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_dup'"), 8);
		assert_int_equal(qint(f->st, "SELECT count(*) FROM hook_cursors WHERE plugin = 't_dup' "
					     "AND stopped_at IS NOT NULL"), 1);
	}
}

/*
 * A dispatcher (the service's) keeps its rules' workers between runs: an edited file is
 * not read again until dispatcher_reload; a worker killed at its deadline is started
 * again at the next run, which delivers the batch it stopped at.
 */
static void
test_dispatcher_keeps_rules(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char p[256];
	snprintf(p, sizeof(p), "%s/plugins/rewards/t_kept.lua", f->dir);
	/* hangs inside C (a pathological pattern) on session 20 while it is 'missed' */
	static const char kept[] =
		"return tandem.reward{ name = 't_kept', version = '1.0.0', api = 1,\n"
		"  limits = { batch_deadline_ms = 400 },\n"
		"  on = { ['session.held'] = function(ev, ctx)\n"
		"    local st = ev.match.sessions[ev.payload.session].status\n"
		"    if st == 'missed' then string.find(string.rep('a', 60000), '.-.-.-.-.-b') end\n"
		"    return { { person_id = ev.match.mentor_id, points = %d, reason = 'r' } }\n"
		"  end } }\n";
	char text[1024];
	snprintf(text, sizeof(text), kept, 1);
	write_file(p, text);
	exec_ok(f->st, "UPDATE sessions SET status = 'missed' WHERE id = 20");
	struct dispatcher *x = dispatcher_new(f->dir, "t_kept", &d);
	assert_non_null(x);
	struct dispatch_opts o = {.batch = 4};
	struct dispatch_result r;
	assert_int_equal(dispatcher_run(x, f->st, &o, 1795356000, &r, &d), 0);
	assert_int_equal(r.rules[0].stopped, 1);
	assert_int_equal(r.delivered, 16); /* batches of 4: session 20 is in the fifth */
	assert_non_null(strstr(r.rules[0].error, "events 17 to 20"));
	assert_non_null(strstr(r.rules[0].error, "deadline"));
	dispatch_result_fini(&r);
	/* The next run starts the killed worker again and delivers from event 17. */
	exec_ok(f->st, "UPDATE sessions SET status = 'held' WHERE id = 20");
	o.force = 1;
	assert_int_equal(dispatcher_run(x, f->st, &o, 1795356000, &r, &d), 0);
	assert_string_equal(r.rules[0].error, "");
	assert_int_equal(r.delivered, 14); /* 17 to 30 */
	dispatch_result_fini(&r);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_kept' AND points = 1"), 30);
	/* The file now gives 2 points: the kept worker still gives 1 until a reload. */
	snprintf(text, sizeof(text), kept, 2);
	write_file(p, text);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(store_begin(f->st, &d), 0);
		assert_int_equal(events_append(f->st,
					       &(struct event){.kind = "session.held", .program_id = 1,
							       .payload_json = "{\"session\":30,\"match\":1}"},
					       NULL, &d),
				 0);
		assert_int_equal(store_commit(f->st, &d), 0);
		if (round == 1)
			dispatcher_reload(x);
		assert_int_equal(dispatcher_run(x, f->st, &o, 1795356000, &r, &d), 0);
		assert_int_equal(r.delivered, 1);
		dispatch_result_fini(&r);
		assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_kept' AND "
					     "points = 1"),
				 31);
		assert_int_equal(qint(f->st, "SELECT count(*) FROM rewards WHERE plugin = 't_kept' AND "
					     "points = 2"),
				 round);
	}
	dispatcher_delete(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_match_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grants_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_grant_stops_at_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leaderboard_consent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_never_doubles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_share_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispatcher_keeps_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kinds_in_id_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_rule_keeps_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_for_two_people_stops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

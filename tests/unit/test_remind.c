/* Unit tests for core/sched/remind: which sessions are reminded, one message per side under
 * its key, not_after = the start, the text in each recipient's zone, the .ics attached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/outbox.h"
#include "program/config.h"
#include "sched/job.h"
#include "sched/links.h"
#include "sched/remind.h"
#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"

enum { T0 = 1795356000 }; /* Sun 2026-11-22T14:00:00Z */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
};

/* Session 1 starts in 19 h (Mon 09:00Z = 10:00 Paris = 04:00 New York), 2 in 8 days,
 * 3 in 2 h but cancelled, 4 in 3 h for a proposed match, 5 started an hour ago. */
static const char seed_sql[] =
	"INSERT INTO people(id, external_id, name, email, timezone, created_at, updated_at) VALUES"
	" (7, 'E7', 'Zoé Martin', 'zoe@example.org', 'Europe/Paris', 'x', 'x'),"
	" (8, 'E8', 'Bob Lee', 'bob@example.org', 'America/New_York', 'x', 'x'),"
	" (9, 'E9', 'Cy Park', 'cy@example.org', 'Europe/Paris', 'x', 'x');"
	"INSERT INTO programs(id, name, title, created_at) VALUES (1, 'pilot', 'Pilot 2026', 'x');"
	"INSERT INTO matches(id, program_id, mentor_id, mentee_id, status, created_at) VALUES"
	" (1, 1, 7, 8, 'active', 'x'), (2, 1, 9, 8, 'proposed', 'x');"
	"INSERT INTO sessions(id, match_id, starts_at, duration_min, timezone, planned_by, topic,"
	" agenda, status, created_at, updated_at) VALUES"
	" (1, 1, '2026-11-23T09:00:00Z', 45, 'Europe/Paris', 'weekly', 'AI at work',"
	"  '[\"What surprised you?\",\"Which tool next?\"]', 'planned', 'x', 'x'),"
	" (2, 1, '2026-11-30T09:00:00Z', 45, 'Europe/Paris', 'weekly', NULL, '[]', 'planned', 'x', 'x'),"
	" (3, 1, '2026-11-22T16:00:00Z', 45, 'Europe/Paris', 'weekly', NULL, '[]', 'cancelled', 'x', 'x'),"
	" (4, 2, '2026-11-22T17:00:00Z', 45, 'Europe/Paris', 'weekly', NULL, '[]', 'planned', 'x', 'x'),"
	" (5, 1, '2026-11-22T13:00:00Z', 45, 'Europe/Paris', 'weekly', NULL, '[]', 'planned', 'x', 'x');";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_remind.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tandem.db", f->dir);
	struct diag d;
	f->st = store_open(f->path, STORE_CREATE, &d);
	if (f->st == NULL)
		return -1;
	clock_virtual_init(&f->clock, T0);
	store_set_clock(f->st, &f->clock);
	if (store_exec(f->st, seed_sql, &d) != 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
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
	assert_int_equal(stmt_query_int64(st, "test query", sql, &v, &d), 0);
	return v;
}

static void
test_due_sessions_get_one_message_per_side(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct remind_opts o = {.channel = "jsonl", .domain = "acme", .organizer = "hr@acme.example"};
	int queued = -1;
	assert_int_equal(remind_due(f->st, T0, &o, &queued, &d), 0);
	assert_int_equal(queued, 2);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE session_id = 1"
				     " AND kind = 'reminder' AND channel = 'jsonl'"
				     " AND not_before = '2026-11-22T14:00:00Z'"
				     " AND not_after = '2026-11-23T09:00:00Z'"
				     " AND idempotency_key IN ('reminder:1:7', 'reminder:1:8')"),
			 2);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 2);
	/* Running again (every 15 minutes) queues nothing twice. */
	assert_int_equal(remind_due(f->st, T0 + 900, &o, &queued, &d), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 2);
	/* A week later, session 2 is due. */
	assert_int_equal(remind_due(f->st, T0 + 7 * 86400, &o, &queued, &d), 0);
	assert_int_equal(queued, 2);
	/* Another lead is the same reminder: one per session and side, whatever the lead. */
	o.lead_hours = 1;
	assert_int_equal(remind_due(f->st, T0 + 7 * 86400 + 18 * 3600 + 60, &o, &queued, &d), 0);
	assert_int_equal(queued, 0);
	o.lead_hours = 48;
	assert_int_equal(remind_due(f->st, T0 + 7 * 86400, &o, &queued, &d), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox"), 4);
}

/* Workspaces made before the key lost its lead hold "reminder:S:P:24h" (or any lead):
 * those count as sent, for the run and for the service's next-work time. */
static void
test_old_keys_with_a_lead_count(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_int_equal(store_exec(f->st,
				    "INSERT INTO outbox(idempotency_key, kind, channel, recipient_id,"
				    " session_id, body, not_before, created_at) VALUES"
				    " ('reminder:1:7:24h', 'reminder', 'eml', 7, 1, 'x', 'x', 'x'),"
				    " ('reminder:2:8:48h', 'reminder', 'eml', 8, 2, 'x', 'x', 'x'),"
				    " ('reminder:2:70', 'other', 'eml', 7, 2, 'x', 'x', 'x')",
				    &d),
			 0);
	struct remind_opts o = {.channel = "jsonl", .lead_hours = 24 * 9};
	int queued = -1;
	assert_int_equal(remind_due(f->st, T0, &o, &queued, &d), 0);
	assert_int_equal(queued, 2); /* 1:8 and 2:7; 1:7 and 2:8 are the old keys */
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key IN"
				     " ('reminder:1:8', 'reminder:2:7')"),
			 2);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key IN"
				     " ('reminder:1:7', 'reminder:2:8')"),
			 0);
	assert_int_equal(remind_due(f->st, T0 + 60, &o, &queued, &d), 0);
	assert_int_equal(queued, 0);
}

static void
test_text_in_each_zone_and_ics(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct remind_opts o = {.domain = "acme", .organizer = "hr@acme.example"};
	assert_int_equal(remind_due(f->st, T0, &o, NULL, &d), 0);
	struct stmt s;
	assert_int_equal(stmt_prepare(&s, f->st, "t",
				      "SELECT subject, body, attachments, channel FROM outbox"
				      " WHERE idempotency_key = 'reminder:1:7'",
				      &d),
			 0);
	assert_int_equal(stmt_step(&s, &d), STMT_ROW);
	const char *subject, *body, *att, *channel;
	assert_int_equal(stmt_text(&s, 0, &subject, &d), 0);
	assert_int_equal(stmt_text(&s, 1, &body, &d), 0);
	assert_int_equal(stmt_text(&s, 2, &att, &d), 0);
	assert_int_equal(stmt_text(&s, 3, &channel, &d), 0);
	assert_string_equal(channel, "eml");
	assert_string_equal(subject, "Mentoring session with Bob Lee on Mon 23 Nov at 10:00");
	assert_non_null(strstr(body, "Hello Zoé Martin,"));
	assert_non_null(strstr(body, "When:    Monday 23 November 2026, 10:00-10:45 (Europe/Paris)"));
	assert_non_null(strstr(body, "For Bob Lee: Monday 23 November 2026, 04:00-04:45 (America/New_York)"));
	assert_non_null(strstr(body, "Program: Pilot 2026"));
	assert_non_null(strstr(body, "Topic:   AI at work"));
	assert_non_null(strstr(body, "  - What surprised you?\n  - Which tool next?\n"));
	/* No public URL: how to check in from the command line, no link, no key made. */
	assert_non_null(strstr(body, "tandem sessions checkin 1 --held --as E7"));
	assert_null(strstr(body, "/c/"));
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM secrets"), 0);
	assert_non_null(strstr(att, "\"name\":\"session.ics\""));
	assert_non_null(strstr(att, "\"type\":\"text/calendar; method=PUBLISH\""));
	assert_non_null(strstr(att, "UID:session-1@acme"));
	assert_non_null(strstr(att, "TZID=Europe/Paris"));
	assert_non_null(strstr(att, "METHOD:PUBLISH"));
	stmt_finalize(&s);

	char *sub = NULL, *bd = NULL;
	assert_int_equal(remind_text(f->st, 1, 8, &sub, &bd, &d), 0);
	assert_string_equal(sub, "Mentoring session with Zoé Martin on Mon 23 Nov at 04:00");
	assert_non_null(strstr(bd, "When:    Monday 23 November 2026, 04:00-04:45 (America/New_York)"));
	free(sub);
	free(bd);
	assert_int_equal(remind_text(f->st, 1, 9, &sub, &bd, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	assert_int_equal(remind_text(f->st, 99, 7, &sub, &bd, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
}

static void
test_job_body_reads_the_workspace(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct config cfg = {0};
	cfg.organization = "Acme Corp.";
	cfg.notify = "jsonl";
	cfg.mail_from = "mentoring@acme.example";
	struct remind_opts o;
	char domain[CALENDAR_DOMAIN_MAX];
	remind_opts_from_config(&cfg, &o, domain);
	assert_string_equal(o.domain, "acme-corp");
	assert_string_equal(o.channel, "jsonl");
	assert_string_equal(o.organizer, "mentoring@acme.example");
	remind_opts_from_config(NULL, &o, domain);
	assert_string_equal(o.domain, "tandem.local");
	assert_string_equal(o.channel, "eml");

	struct sched_run r = {.st = f->st, .cfg = &cfg, .job = "send-reminders", .now = T0, .due = T0};
	assert_int_equal(remind_job(&r, &d), 0);
	assert_string_equal(r.result, "{\"queued\":2,\"updates\":0}");
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE channel = 'jsonl'"
				     " AND attachments LIKE '%UID:session-1@acme-corp%'"
				     " AND attachments LIKE '%ORGANIZER:mailto:mentoring@acme.example%'"),
			 2);
}

/* With a public URL each side's reminder carries its own link: the token decodes under the
 * workspace's key to that session and side, valid until the end + LINKS_TTL_DAYS. */
static void
test_links_in_reminders(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct config cfg = {0};
	cfg.public_url = "https://mentoring.acme.example/";
	struct remind_opts o;
	char domain[CALENDAR_DOMAIN_MAX];
	remind_opts_from_config(&cfg, &o, domain);
	assert_string_equal(o.public_url, "https://mentoring.acme.example/");
	assert_int_equal(remind_due(f->st, T0, &o, NULL, &d), 0);
	unsigned char key[LINKS_KEY_LEN];
	assert_int_equal(links_key(f->st, 0, key, &d), 1);
	const char *prefix = "https://mentoring.acme.example/c/";
	for (int side = 0; side < 2; side++) {
		struct stmt s;
		const char *body;
		assert_int_equal(stmt_prepare(&s, f->st, "t",
					      side == 0 ? "SELECT body FROM outbox WHERE"
							  " idempotency_key = 'reminder:1:7'"
							: "SELECT body FROM outbox WHERE"
							  " idempotency_key = 'reminder:1:8'",
					      &d),
				 0);
		assert_int_equal(stmt_step(&s, &d), STMT_ROW);
		assert_int_equal(stmt_text(&s, 0, &body, &d), 0);
		const char *at = strstr(body, prefix);
		assert_non_null(at);
		assert_null(strstr(body, "tandem sessions checkin"));
		char tok[LINKS_TOKEN_MAX];
		snprintf(tok, sizeof(tok), "%.*s", LINKS_TOKEN_LEN, at + strlen(prefix));
		assert_int_equal(at[strlen(prefix) + LINKS_TOKEN_LEN], '\n');
		struct links_token t;
		assert_int_equal(links_decode(key, tok, T0, &t), LINKS_OK);
		assert_int_equal(t.session_id, 1);
		assert_int_equal(t.side, side == 0 ? LINKS_MENTOR : LINKS_MENTEE);
		/* 2026-11-23T09:45Z + 14 days */
		assert_int_equal(t.expires, 1795427100 + LINKS_TTL_DAYS * 86400);
		assert_non_null(strstr(body, side == 0 ? "It works once, until 7 December 2026."
						       : "It works once, until 7 December 2026."));
		stmt_finalize(&s);
	}
}

/* The outbox row of key k: its kind, not_after, subject, body and attachments in *out
 * (malloc'd, "|"-joined); NULL when there is none. */
static char *
row_of(struct store *st, const char *k)
{
	struct stmt s;
	struct diag d;
	assert_int_equal(stmt_prepare(&s, st, "test row",
				      "SELECT kind || '|' || COALESCE(not_after, '') || '|' ||"
				      " subject || '|' || body || '|' || attachments FROM outbox"
				      " WHERE idempotency_key = ?1", &d), 0);
	assert_int_equal(stmt_bind_text(&s, 1, k, &d), 0);
	char *out = NULL;
	if (stmt_step(&s, &d) == STMT_ROW) {
		const char *t = NULL;
		assert_int_equal(stmt_text(&s, 0, &t, &d), 0);
		out = strdup(t);
	}
	stmt_finalize(&s);
	return out;
}

/* Session 1's reminders queued at T0 and sent (as outbox send marks them). */
static void
remind_and_send(struct fixture *f, const struct remind_opts *o)
{
	struct diag d;
	int queued = -1;
	assert_int_equal(remind_due(f->st, T0, o, &queued, &d), 0);
	assert_int_equal(queued, 2);
	assert_int_equal(store_exec(f->st, "UPDATE outbox SET status = 'sent', sent_at = 'x'"
				    " WHERE session_id = 1", &d), 0);
}

/* A reminded session cancelled later: each side gets its calendar's update once, with the
 * .ics marking the meeting cancelled under the same UID and a higher SEQUENCE. */
static void
test_cancel_after_reminder_sends_update(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct remind_opts o = {.channel = "eml", .domain = "acme", .organizer = "hr@acme.example"};
	remind_and_send(f, &o);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(session_cancel(f->st, 1, "Bob is travelling", "test", &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM session_changes"), 1);
	int queued = -1, updates = -1;
	assert_int_equal(remind_run(f->st, T0 + 600, &o, &queued, &updates, &d), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(updates, 2);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM session_changes"), 0);
	char *zoe = row_of(f->st, "update:1:7:1"), *bob = row_of(f->st, "update:1:8:1");
	assert_non_null(zoe);
	assert_non_null(bob);
	assert_non_null(strstr(zoe, "update|2026-11-23T09:00:00Z|Cancelled: mentoring session with "
				    "Bob Lee on Mon 23 Nov at 10:00|Hello Zoé Martin,"));
	assert_non_null(strstr(zoe, "Was:     Monday 23 November 2026, 10:00-10:45 (Europe/Paris)"));
	assert_non_null(strstr(zoe, "Why:     Bob is travelling"));
	assert_non_null(strstr(bob, "on Mon 23 Nov at 04:00|"));
	assert_non_null(strstr(bob, "UID:session-1@acme"));
	assert_non_null(strstr(bob, "STATUS:CANCELLED"));
	assert_non_null(strstr(bob, "SEQUENCE:1"));
	free(zoe);
	free(bob);
	/* Again: nothing new, whatever runs. */
	assert_int_equal(remind_run(f->st, T0 + 1200, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM outbox WHERE kind = 'update'"), 2);
}

/* Nobody was told (the reminders never left), or the meeting has begun: no update, and the
 * note is forgotten all the same. */
static void
test_no_update_when_nobody_was_told(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct remind_opts o = {.channel = "eml"};
	int queued = -1, updates = -1;
	assert_int_equal(remind_due(f->st, T0, &o, &queued, &d), 0); /* pending, not sent */
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(session_cancel(f->st, 1, NULL, "test", &d), 0);
	assert_int_equal(session_cancel(f->st, 2, NULL, "test", &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(remind_run(f->st, T0 + 60, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM session_changes"), 0);
	/* Session 5 started an hour ago: its reminder left, its cancellation is too late. */
	assert_int_equal(store_exec(f->st, "INSERT INTO outbox(idempotency_key, kind, channel,"
				    " recipient_id, session_id, body, status, not_before, created_at)"
				    " VALUES ('reminder:5:7', 'reminder', 'eml', 7, 5, 'x', 'sent', 'x', 'x')",
				    &d), 0);
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(session_cancel(f->st, 5, NULL, "test", &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(remind_run(f->st, T0 + 120, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 0);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM outbox WHERE kind = 'update'"), 0);
}

/* A reminded session moved: the update carries the new time under the first UID; once the
 * new session's own reminder is queued, it carries the .ics itself. An erased side gets
 * nothing and is named "(erased)". */
static void
test_moves_and_an_erased_side(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct remind_opts o = {.channel = "eml", .domain = "acme"};
	remind_and_send(f, &o);
	int64_t moved = 0;
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(session_reschedule(f->st, 1, T0 + 3 * 86400, NULL, "test", &moved, &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	int queued = -1, updates = -1;
	assert_int_equal(remind_run(f->st, T0 + 60, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 2);
	char *zoe = row_of(f->st, "update:1:7:1");
	assert_non_null(zoe);
	/* now Wed 25 Nov 14:00Z = 15:00 Paris = 09:00 New York */
	assert_non_null(strstr(zoe, "Moved: mentoring session with Bob Lee, now on Wed 25 Nov at 15:00|"));
	assert_non_null(strstr(zoe, "Now:     Wednesday 25 November 2026, 15:00-15:45 (Europe/Paris)"));
	assert_non_null(strstr(zoe, "For Bob Lee: Wednesday 25 November 2026, 09:00-09:45 (America/New_York)"));
	assert_non_null(strstr(zoe, "Was:     Monday 23 November 2026, 10:00-10:45 (Europe/Paris)"));
	assert_non_null(strstr(zoe, "UID:session-1@acme"));
	assert_non_null(strstr(zoe, "STATUS:CONFIRMED"));
	free(zoe);
	/* The moved session's own reminder queued for Bob, and the meeting noted again
	 * without a change: nothing new (Bob's reminder carries the .ics, Zoé has hers). */
	char sql[400];
	snprintf(sql, sizeof(sql), "INSERT INTO outbox(idempotency_key, kind, channel, recipient_id,"
		 " session_id, body, not_before, created_at) VALUES ('reminder:%lld:8', 'reminder',"
		 " 'eml', 8, %lld, 'x', 'x', 'x'); INSERT INTO session_changes VALUES (%lld)",
		 (long long)moved, (long long)moved, (long long)moved);
	assert_int_equal(store_exec(f->st, sql, &d), 0);
	assert_int_equal(remind_run(f->st, T0 + 120, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 0);
	/* The mentor is erased (the match ends, detached), and the meeting is cancelled: only
	 * the mentee hears of it, and the partner is named "(erased)". */
	assert_int_equal(store_begin(f->st, &d), 0);
	assert_int_equal(session_cancel(f->st, moved, "partner erased", "test", &d), 0);
	assert_int_equal(store_commit(f->st, &d), 0);
	assert_int_equal(store_exec(f->st, "UPDATE matches SET status = 'ended', mentor_id = NULL"
				    " WHERE id = 1", &d), 0);
	assert_int_equal(remind_run(f->st, T0 + 180, &o, &queued, &updates, &d), 0);
	assert_int_equal(updates, 1);
	char *bob = row_of(f->st, "update:1:8:2");
	assert_non_null(bob);
	assert_non_null(strstr(bob, "|Cancelled: mentoring session with (erased) on Wed 25 Nov at 09:00|"));
	assert_non_null(strstr(bob, "STATUS:CANCELLED"));
	free(bob);
	assert_int_equal(qint(f->st, "SELECT count(*) FROM outbox WHERE kind = 'update'"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_due_sessions_get_one_message_per_side, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_old_keys_with_a_lead_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_in_each_zone_and_ics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_body_reads_the_workspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_in_reminders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_after_reminder_sends_update, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_update_when_nobody_was_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moves_and_an_erased_side, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/sched/notify: the eml and jsonl writers, notifier plugins, the
 * outcomes of a delivery, and a crash between the write and its record (no key twice). */
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
#include "events/outbox.h"
#include "sched/notify.h"
#include "store/stmt.h"
#include "store/store.h"

enum { T0 = 1795356000 }; /* 2026-11-22T14:00:00Z, a Sunday */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct clock clock;
	struct notify *n;
};

static const char seed_sql[] =
	"INSERT INTO people(id, external_id, name, email, timezone, created_at, updated_at) VALUES"
	" (7, 'E7', 'Zoë \"Z\" Martín', 'zoe@example.org', 'Europe/Paris', 'x', 'x'),"
	" (8, 'E8', 'Bob Lee', 'bob@example.org', 'America/New_York', 'x', 'x'),"
	" (9, 'E9', 'No Mail', 'nomail', 'UTC', 'x', 'x');"
	"INSERT INTO programs(id, name, created_at) VALUES (1, 'pilot', 'x');"
	"INSERT INTO matches(id, program_id, mentor_id, mentee_id, status, created_at)"
	" VALUES (1, 1, 7, 8, 'active', 'x');"
	"INSERT INTO sessions(id, match_id, starts_at, timezone, planned_by, created_at, updated_at)"
	" VALUES (1, 1, '2026-11-23T09:00:00Z', 'Europe/Paris', 'weekly', 'x', 'x'),"
	"        (2, 1, '2026-11-30T09:00:00Z', 'Europe/Paris', 'weekly', 'x', 'x');";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_notify.XXXXXX");
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
	f->n = notify_new(f->st, &(struct notify_opts){.workspace = f->dir, .from = "hr@example.org",
						     .lease_s = 60},
			  &d);
	if (f->n == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	notify_delete(f->n);
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

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* The files in DIR/outbox matching a shell pattern, counted. */
static int
count_files(const struct fixture *f, const char *pattern)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls %s/outbox/%s 2>/dev/null | wc -l", f->dir, pattern);
	FILE *p = popen(cmd, "r");
	int n = -1;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static const char ics[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//EN\r\n"
			  "METHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:session-1@ws\r\n"
			  "DTSTAMP:20261122T140000Z\r\nDTSTART:20261123T090000Z\r\n"
			  "SUMMARY:Mentoring\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static void
enqueue(struct fixture *f, const char *key, const char *channel, int64_t to, int64_t session,
	const char *attachments)
{
	struct diag d;
	struct outbox_msg m = {.key = key, .kind = session ? "reminder" : "nudge",
			       .channel = channel, .recipient_id = to, .session_id = session,
			       .subject = "Réunion demain: «tandem» session",
			       .body = "Hello,\nyour session is tomorrow.\n", .attachments = attachments,
			       .not_before = T0};
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
}

static void
test_eml_file(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char att[1024];
	/* The attachment as JSON: CRLF escaped. */
	char esc[512];
	size_t k = 0;
	for (const char *p = ics; *p; p++) {
		if (*p == '\r') {
			esc[k++] = '\\';
			esc[k++] = 'r';
		} else if (*p == '\n') {
			esc[k++] = '\\';
			esc[k++] = 'n';
		} else {
			esc[k++] = *p;
		}
	}
	esc[k] = '\0';
	snprintf(att, sizeof(att),
		 "[{\"name\":\"session.ics\",\"type\":\"text/calendar; method=PUBLISH\","
		 "\"content\":\"%s\"}]",
		 esc);
	enqueue(f, "reminder:1:7:24h", "eml", 7, 1, att);
	int outcome = -1;
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 1);

	char path[256];
	snprintf(path, sizeof(path), "%s/outbox", f->dir);
	assert_int_equal(count_files(f, "reminder_1_7_24h.*.eml"), 1);
	assert_int_equal(count_files(f, ".tmp-*"), 0);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cat %s/outbox/reminder_1_7_24h.*.eml > %s/one.eml", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/one.eml", f->dir);
	const char *eml = slurp(path);
	assert_non_null(eml);
	assert_non_null(strstr(eml, "Message-ID: <reminder=3A1=3A7=3A24h@tandem>\r\n"));
	assert_non_null(strstr(eml, "X-Tandem-Key: reminder:1:7:24h\r\n"));
	assert_non_null(strstr(eml, "Date: Sun, 22 Nov 2026 14:00:00 +0000\r\n"));
	assert_non_null(strstr(eml, "From: hr@example.org\r\n"));
	assert_non_null(strstr(eml, "To: =?UTF-8?B?"));
	assert_non_null(strstr(eml, "<zoe@example.org>\r\n"));
	assert_non_null(strstr(eml, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(eml, "Content-Type: multipart/mixed; boundary=\"tandem-"));
	assert_non_null(strstr(eml, "Content-Type: text/plain; charset=utf-8\r\n"
				    "Content-Transfer-Encoding: 8bit\r\n\r\n"
				    "Hello,\r\nyour session is tomorrow.\r\n"));
	assert_non_null(strstr(eml, "Content-Type: text/calendar; method=PUBLISH; charset=utf-8;"
				    " name=\"session.ics\"\r\n"));
	assert_non_null(strstr(eml, "Content-Disposition: attachment; filename=\"session.ics\"\r\n"));
	assert_non_null(strstr(eml, "UID:session-1@ws\r\n"));
	/* No bare LF anywhere. */
	for (const char *p = eml; *p; p++)
		if (*p == '\n')
			assert_true(p > eml && p[-1] == '\r');

	/* A MIME parser agrees, when python3 is here to ask. */
	if (system("python3 -c '' 2>/dev/null") == 0) {
		char py[256];
		snprintf(py, sizeof(py), "%s/check.py", f->dir);
		FILE *fp = fopen(py, "w");
		assert_non_null(fp);
		fputs("import email, email.policy, sys\n"
		      "m = email.message_from_binary_file(open(sys.argv[1], 'rb'),"
		      " policy=email.policy.default)\n"
		      "assert m['Message-ID'] == '<reminder=3A1=3A7=3A24h@tandem>', m['Message-ID']\n"
		      "assert str(m['Subject']) == 'Réunion demain: «tandem» session', str(m['Subject'])\n"
		      "assert m['To'].addresses[0].display_name == 'Zoë \"Z\" Martín', m['To']\n"
		      "assert m['To'].addresses[0].addr_spec == 'zoe@example.org'\n"
		      "parts = [p for p in m.walk() if not p.is_multipart()]\n"
		      "assert [p.get_content_type() for p in parts] == ['text/plain', 'text/calendar']\n"
		      "assert parts[1].get_param('method') == 'PUBLISH'\n"
		      "assert parts[1].get_filename() == 'session.ics'\n"
		      "assert 'UID:session-1@ws' in parts[1].get_content()\n"
		      "assert parts[0].get_content().replace('\\r\\n', '\\n') == 'Hello,\\nyour session is tomorrow.\\n', repr(parts[0].get_content())\n",
		      fp);
		fclose(fp);
		snprintf(cmd, sizeof(cmd), "python3 %s %s", py, path);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"), 1);
}

static void
test_jsonl_lines(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	enqueue(f, "nudge:a", "jsonl", 8, 0, NULL);
	enqueue(f, "reminder:1:8:24h", "jsonl", 8, 1, NULL);
	struct notify_stats s = {0};
	assert_int_equal(notify_deliver_due(f->n, T0, 0, &s, &d), 0);
	assert_int_equal(s.sent, 2);
	char path[256];
	snprintf(path, sizeof(path), "%s/outbox/messages.jsonl", f->dir);
	const char *text = slurp(path);
	assert_non_null(text);
	const char *nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_non_null(strchr(nl + 1, '\n'));
	assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
	assert_non_null(strstr(text, "\"key\":\"nudge:a\""));
	assert_non_null(strstr(text, "\"to\":\"bob@example.org\""));
	assert_non_null(strstr(text, "\"session\":null"));
	assert_non_null(strstr(text, "\"session\":1"));
	assert_non_null(strstr(text, "\"body\":\"Hello,\\nyour session is tomorrow.\\n\""));
	assert_non_null(strstr(text, "\"at\":\"2026-11-22T14:00:00Z\""));
	/* A torn last line (power loss) is ended before the next one. */
	FILE *fp = fopen(path, "a");
	fputs("{\"key\":\"torn", fp);
	fclose(fp);
	enqueue(f, "nudge:b", "jsonl", 8, 0, NULL);
	assert_int_equal(notify_deliver_due(f->n, T0, 0, &s, &d), 0);
	text = slurp(path);
	assert_non_null(strstr(text, "{\"key\":\"torn\n{\"key\":\"nudge:b\""));
}

/* A reload's sender (notify_set_sender): the messages delivered after it come from the new
 * address, the ones before keep the old one; NULL gives the default. */
static void
test_set_sender(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int outcome = -1;
	enqueue(f, "nudge:before", "eml", 7, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(notify_set_sender(f->n, "mentoring@example.org", "Europe/Paris", &d), 0);
	enqueue(f, "nudge:after", "eml", 7, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(notify_set_sender(f->n, NULL, NULL, &d), 0);
	enqueue(f, "nudge:default", "eml", 7, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	static const struct {
		const char *file, *from;
	} want[] = {{"nudge_before", "From: hr@example.org\r\n"},
		    {"nudge_after", "From: mentoring@example.org\r\n"},
		    {"nudge_default", "From: tandem@localhost\r\n"}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char cmd[512], path[256];
		snprintf(path, sizeof(path), "%s/one.eml", f->dir);
		snprintf(cmd, sizeof(cmd), "cat %s/outbox/%s.*.eml > %s", f->dir, want[i].file, path);
		assert_int_equal(system(cmd), 0);
		const char *eml = slurp(path);
		assert_non_null(eml);
		assert_non_null(strstr(eml, want[i].from));
	}
}

/* notify_set_no_sync (tandem simulate's copy): the same files, written in place (no temporary
 * file left) without the fsyncs. */
static void
test_no_sync_writes_the_same(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int outcome = -1;
	notify_set_no_sync(f->n, 1);
	enqueue(f, "nudge:nosync", "eml", 7, 0, NULL);
	enqueue(f, "nudge:nosync-line", "jsonl", 8, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	assert_int_equal(count_files(f, "nudge_nosync.*.eml"), 1);
	assert_int_equal(count_files(f, ".tmp-*"), 0);
	char cmd[512], path[256];
	snprintf(path, sizeof(path), "%s/one.eml", f->dir);
	snprintf(cmd, sizeof(cmd), "cat %s/outbox/nudge_nosync.*.eml > %s", f->dir, path);
	assert_int_equal(system(cmd), 0);
	const char *eml = slurp(path);
	assert_non_null(eml);
	assert_non_null(strstr(eml, "From: hr@example.org\r\n"));
	assert_non_null(strstr(eml, "Hello,\r\nyour session is tomorrow.\r\n"));
	snprintf(path, sizeof(path), "%s/outbox/messages.jsonl", f->dir);
	const char *text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"key\":\"nudge:nosync-line\""));
}

static void
test_outcomes(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int outcome;
	/* No address: failed at once. */
	enqueue(f, "nudge:nomail", "eml", 9, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_FAILED);
	/* No recipient at all: failed too. */
	enqueue(f, "nudge:nobody", "eml", 0, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_FAILED);
	/* Unknown notifier: failed, and the reason says which. */
	enqueue(f, "nudge:pigeon", "pigeon", 8, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_FAILED);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key ="
				     " 'nudge:pigeon' AND last_error LIKE 'no notifier named ''pigeon''%'"),
			 1);
	/* A reminder of a cancelled session expires instead of going out. */
	struct diag d2;
	assert_int_equal(store_exec(f->st, "UPDATE sessions SET status = 'cancelled' WHERE id = 2", &d2), 0);
	enqueue(f, "reminder:2:8:24h", "eml", 8, 2, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_EXPIRED);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'expired'"
				     " AND last_error LIKE 'the session is cancelled%'"),
			 1);
	/* An unwritable outbox folder: a retry, with the file error. */
	char path[256];
	snprintf(path, sizeof(path), "%s/outbox", f->dir);
	rmdir(path);
	FILE *fp = fopen(path, "w"); /* a file where the folder should be */
	fclose(fp);
	enqueue(f, "nudge:io", "eml", 8, 0, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_PENDING);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'nudge:io'"
				     " AND status = 'pending' AND attempts = 1"
				     " AND not_before = '2026-11-22T14:01:00Z'"),
			 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"), 0);
}

static void
test_notifier_plugin(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char path[256];
	snprintf(path, sizeof(path), "%s/plugins", f->dir);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/plugins/notifiers", f->dir);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/plugins/notifiers/shout.lua", f->dir);
	FILE *fp = fopen(path, "w");
	fputs("return tandem.notifier{ name = 'shout', version = '1.0.0', api = 1, format = 'jsonl',\n"
	      "  render = function(msg, ctx)\n"
	      "    local s = msg.session and (' session ' .. msg.session.id .. ' at ' ..\n"
	      "      msg.session.starts_at .. ' ' .. msg.session.timezone .. ' ' ..\n"
	      "      msg.session.duration_min .. ' min ' .. msg.session.status) or ''\n"
	      "    return { subject = string.upper(msg.kind) .. ' for ' .. msg.recipient.name,\n"
	      "             body = msg.body .. '-- to ' .. msg.recipient.id .. ' (' ..\n"
	      "               msg.recipient.timezone .. ')' .. s .. ', sent at ' .. ctx.now_iso }\n"
	      "  end }\n",
	      fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/plugins/notifiers/broken.lua", f->dir);
	fp = fopen(path, "w");
	fputs("return tandem.notifier{ name = 'broken', version = '1.0.0', api = 1,\n"
	      "  render = function(msg, ctx) return { subject = 'two\\nlines', body = '' } end }\n",
	      fp);
	fclose(fp);
	/* An unknown field is refused by a send as by `plugins check` (lua/notify_out). */
	snprintf(path, sizeof(path), "%s/plugins/notifiers/extra.lua", f->dir);
	fp = fopen(path, "w");
	fputs("return tandem.notifier{ name = 'extra', version = '1.0.0', api = 1,\n"
	      "  render = function(msg, ctx) return { subject = 's', body = 'b', sbuject = 'x' } end }\n",
	      fp);
	fclose(fp);
	enqueue(f, "nudge:shout", "shout", 8, 0, NULL);
	enqueue(f, "nudge:broken", "broken", 8, 0, NULL);
	enqueue(f, "nudge:extra", "extra", 8, 0, NULL);
	int outcome;
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	snprintf(path, sizeof(path), "%s/outbox/messages.jsonl", f->dir);
	const char *text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"subject\":\"NUDGE for Bob Lee\""));
	/* The recipient by external id, as everywhere in the plugin API. */
	assert_non_null(strstr(text, "-- to E8 (America/New_York), sent at 2026-11-22T14:00:00Z"));
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_PENDING);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key ="
				     " 'nudge:broken' AND last_error LIKE '%subject must be one line%'"),
			 1);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_PENDING);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE idempotency_key ="
				     " 'nudge:extra' AND last_error LIKE '%unknown field ''sbuject''%'"),
			 1);
	/* A reminder: render sees its session (start, zone, length, state). */
	enqueue(f, "reminder:1:7:24h", "shout", 7, 1, NULL);
	assert_int_equal(notify_deliver_one(f->n, T0, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	text = slurp(path);
	assert_non_null(strstr(text, "\"subject\":\"REMINDER for "));
	assert_non_null(strstr(text, "-- to E7 (Europe/Paris) session 1 at 2026-11-23T09:00:00Z "
				     "Europe/Paris 60 min planned, sent at"));
}

/* Runs one delivery in a child that dies at crash point `at`; returns its exit status. */
static int
deliver_in_child(struct fixture *f, const char *at)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct diag d;
		struct store *st = store_open(f->path, 0, &d);
		struct clock c;
		clock_virtual_init(&c, T0);
		store_set_clock(st, &c);
		struct notify *n = notify_new(st, &(struct notify_opts){.workspace = f->dir,
									.lease_s = 60},
					      &d);
		crash_reset();
		setenv("TANDEM_CRASH_AT", at, 1);
		int outcome;
		notify_deliver_one(n, T0, &outcome, &d);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The crash walk of one row: it dies at each point before the done in turn; each crash
 * leaves it 'sending' and the lease's end makes it unknown. Then a delivery finds its key
 * written (the last crash fell after the write) and records it sent without reaching a
 * crash point before the done: the child exits 0. */
static void
crash_walk(struct fixture *f)
{
	struct diag d;
	const char *points[] = {"notify.claimed", "notify.rendered", "notify.written"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(deliver_in_child(f, points[i]), 137);
		assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sending'"), 1);
		assert_int_equal(outbox_recover(f->st, T0 + 60, NULL, &d), 0);
	}
	assert_int_equal(deliver_in_child(f, "notify.rendered"), 0);
}

static void
test_crash_between_write_and_done(void **state)
{
	struct fixture *f = *state;
	enqueue(f, "reminder:1:7:24h", "eml", 7, 1, NULL);
	crash_walk(f);
	enqueue(f, "reminder:1:8:24h", "jsonl", 8, 1, NULL);
	crash_walk(f);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"), 2);
	/* Each key was written once: one .eml, one JSON line. */
	assert_int_equal(count_files(f, "reminder_1_7_24h.*.eml"), 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/outbox/messages.jsonl", f->dir);
	const char *text = slurp(path);
	assert_non_null(text);
	const char *first = strstr(text, "reminder:1:8:24h");
	assert_non_null(first);
	assert_null(strstr(first + 1, "reminder:1:8:24h"));
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM events WHERE kind = 'message.unknown'"), 6);
}

/* Claims and dies after the write (or before it); the lease then runs out at `at`. */
static void
leave_unknown(struct fixture *f, const char *point, time_t at)
{
	struct diag d;
	assert_int_equal(deliver_in_child(f, point), 137);
	assert_int_equal(outbox_recover(f->st, at, NULL, &d), 0);
}

/*
 * An unknown row whose time is over, or whose session no longer needs it: written before
 * the crash, it went out and is recorded sent (not left unknown forever, not expired);
 * not written, it expires instead of leaving late.
 */
static void
test_unknown_resolved_late(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct outbox_msg m = {.key = "reminder:1:7:24h", .kind = "reminder", .channel = "jsonl",
			       .recipient_id = 7, .session_id = 1, .body = "x", .not_before = T0,
			       .not_after = T0 + 100};
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
	leave_unknown(f, "notify.written", T0 + 60);
	m.key = "reminder:1:8:24h";
	m.recipient_id = 8;
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
	leave_unknown(f, "notify.rendered", T0 + 60);
	struct notify_stats s = {0};
	assert_int_equal(notify_deliver_due(f->n, T0 + 200, 0, &s, &d), 0);
	assert_int_equal(s.sent, 1);
	assert_int_equal(s.expired, 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND"
				     " idempotency_key = 'reminder:1:7:24h'"), 1);
	assert_int_equal(qint(f->st, "SELECT COUNT(*) FROM outbox WHERE status = 'expired' AND"
				     " idempotency_key = 'reminder:1:8:24h'"), 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/outbox/messages.jsonl", f->dir);
	const char *text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "reminder:1:7:24h"));
	assert_null(strstr(text, "reminder:1:8:24h"));

	/* Written, then the session was cancelled: it did go out, so it is sent. */
	m.key = "reminder:2:7:24h";
	m.recipient_id = 7;
	m.session_id = 2;
	m.channel = "eml";
	m.not_before = T0 + 300;
	m.not_after = 0;
	assert_int_equal(outbox_enqueue(f->st, &m, NULL, &d), 0);
	assert_int_equal(store_exec(f->st, "UPDATE sessions SET status = 'planned' WHERE id = 2", &d), 0);
	struct clock c;
	clock_virtual_init(&c, T0 + 300);
	store_set_clock(f->st, &c);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st = store_open(f->path, 0, &d);
		store_set_clock(st, &c);
		struct notify *n = notify_new(st, &(struct notify_opts){.workspace = f->dir}, &d);
		crash_reset();
		setenv("TANDEM_CRASH_AT", "notify.written", 1);
		int outcome;
		notify_deliver_one(n, T0 + 300, &outcome, &d);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	assert_int_equal(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 137);
	assert_int_equal(store_exec(f->st, "UPDATE sessions SET status = 'cancelled' WHERE id = 2", &d), 0);
	assert_int_equal(outbox_recover(f->st, T0 + 300 + OUTBOX_LEASE_S, NULL, &d), 0);
	int outcome = -1;
	assert_int_equal(notify_deliver_one(f->n, T0 + 300 + OUTBOX_LEASE_S, &outcome, &d), 0);
	assert_int_equal(outcome, OUTBOX_SENT);
	assert_int_equal(count_files(f, "reminder_2_7_24h.*.eml"), 1);
	store_set_clock(f->st, &f->clock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eml_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonl_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_sync_writes_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_plugin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_write_and_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_resolved_late, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for sched/session: the idempotent insert, check-ins and their refusals, the
 * rating-visibility rule (including the window's close), the listing's summary, cancel,
 * reschedule links, mark-missed, listing filters, agendas from the topic library, time
 * parsing, and events written in the caller's transaction. */
#include "session_fixture.h"

#include "program/config.h"
#include "sched/session.h"

/* 2027-01-12 10:00 UTC: a Tuesday. */
#define T0 fx_utc(2027, 1, 12, 10, 0)
#define HOUR 3600
#define DAY 86400

static int64_t
insert(struct store *st, int64_t match, time_t start)
{
	struct session_new sn = {
	    .match_id = match, .start = start, .duration_min = 45, .planned_by = "weekly"};
	int64_t id = -1;
	struct diag d;
	if (session_insert(st, &sn, &id, &d) != 0)
		fail_msg("session_insert: %s", d.msg);
	return id;
}

static int
checkin(struct store *st, int64_t id, int64_t person, enum session_outcome o, int rating,
	const char *notes, struct diag *d)
{
	struct session_checkin c = {.session_id = id,
				    .person_id = person,
				    .outcome = o,
				    .rating = rating,
				    .notes = notes,
				    .actor = "t"};
	return session_checkin(st, &c, NULL, d);
}

static const char *
status(struct store *st, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT status FROM sessions WHERE id = %lld", (long long)id);
	return fx_text(st, sql);
}

static void
test_insert_idempotent(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - 7 * DAY);
	int64_t id = insert(st, 1, T0);
	assert_true(id > 0);
	assert_int_equal(insert(st, 1, T0), 0); /* the natural key: nothing twice */
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(fx_events(st, "session.planned"), 1);
	/* The pair's zone is the mentee's unless the match says otherwise. */
	assert_string_equal(fx_text(st, "SELECT timezone FROM sessions"), "America/New_York");
	assert_string_equal(fx_text(st, "SELECT starts_at FROM sessions"), "2027-01-12T10:00:00Z");
	fx_exec(st, "UPDATE matches SET timezone = 'Europe/London' WHERE id = 1");
	insert(st, 1, T0 + 7 * DAY);
	assert_string_equal(fx_text(st, "SELECT timezone FROM sessions WHERE starts_at = "
					"'2027-01-19T10:00:00Z'"),
			    "Europe/London");
	/* Only approved and active matches get sessions. */
	struct session_new sn = {.match_id = 3, .start = T0};
	struct diag d;
	assert_int_equal(session_insert(st, &sn, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_string_equal(
	    d.msg, "match #3 is proposed: sessions are planned for approved or active matches");
	sn.match_id = 99;
	assert_int_equal(session_insert(st, &sn, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_NOTFOUND);
	sn.match_id = 2;
	sn.duration_min = 2000;
	assert_int_equal(session_insert(st, &sn, NULL, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	sn.duration_min = 30;
	sn.agenda_json = "{\"no\":1}";
	assert_int_equal(session_insert(st, &sn, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "not a JSON array of strings"));
	/* Inside the caller's transaction: its rollback takes the row and the event. */
	assert_int_equal(store_begin(st, &d), 0);
	assert_true(insert(st, 2, T0) > 0);
	store_rollback(st);
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE match_id = 2"), 0);
	assert_int_equal(fx_events(st, "session.planned"), 2);
	store_close(st);
}

static void
test_insert_many(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	static char *lib[] = {"ai_tools", "data_literacy", "leadership"};
	struct config_program prog = {.name = "p", .topics = lib, .ntopics = 3};
	insert(st, 1, T0 + 7 * DAY);
	struct session_new v[4] = {
	    {.match_id = 1, .start = T0, .prog = &prog, .planned_by = "weekly"},
	    {.match_id = 1, .start = T0 + 7 * DAY, .prog = &prog},
	    {.match_id = 2, .start = T0, .zone = "Europe/London", .prog = &prog},
	    {.match_id = 1, .start = T0 + 14 * DAY, .prog = &prog},
	};
	int64_t ids[4];
	size_t n = 0;
	struct diag d;
	assert_int_equal(session_insert_many(st, v, 4, ids, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_true(ids[0] > 0 && ids[2] > 0 && ids[3] > 0);
	assert_int_equal(ids[1], 0); /* it existed */
	assert_int_equal(fx_events(st, "session.planned"), 4);
	/* Pair 1's sessions rotate in start order, counting the one that existed. */
	assert_string_equal(fx_text(st,
				    "SELECT group_concat(topic, ',') FROM (SELECT topic FROM "
				    "sessions WHERE match_id = 1 AND topic IS NOT NULL ORDER BY "
				    "starts_at)"),
			    "ai_tools,leadership");
	assert_string_equal(fx_text(st, "SELECT timezone FROM sessions WHERE match_id = 2"),
			    "Europe/London");
	/* All or none: a bad zone in the batch keeps every other row out. */
	struct session_new w[2] = {{.match_id = 2, .start = T0 + 7 * DAY},
				   {.match_id = 2, .start = T0 + 14 * DAY, .zone = "Nowhere/Land"}};
	assert_int_equal(session_insert_many(st, w, 2, NULL, &n, &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone 'Nowhere/Land'"));
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE match_id = 2"), 1);
	assert_int_equal(fx_events(st, "session.planned"), 4);
	/* No id is burnt by instants planned again. */
	int64_t top = fx_int(st, "SELECT max(id) FROM sessions");
	assert_int_equal(session_insert_many(st, v, 4, ids, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(insert(st, 2, T0 + 21 * DAY), top + 1);
	store_close(st);
}

static void
test_checkin_rules(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t id = insert(st, 1, T0);
	struct diag d;
	assert_int_equal(checkin(st, id, 1, SESSION_OUTCOME_HELD, 4, NULL, &d), -1);
	assert_string_equal(d.msg, "session #1 starts at 2027-01-12T10:00:00Z: check in once it "
				   "has started");
	clock_virtual_set(&fx_clock, T0 + HOUR);
	/* Values refused before anything is read. */
	assert_int_equal(checkin(st, id, 1, SESSION_OUTCOME_MISSED, 3, NULL, &d), -1);
	assert_string_equal(d.msg, "a rating is for a session that was held, not missed");
	assert_int_equal(checkin(st, id, 1, SESSION_OUTCOME_HELD, 6, NULL, &d), -1);
	assert_string_equal(d.msg, "rating 6 is not 1 to 5");
	assert_int_equal(checkin(st, id, 0, SESSION_OUTCOME_HELD, 4, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "belong to one side of the pair"));
	assert_int_equal(checkin(st, id, 3, SESSION_OUTCOME_HELD, 0, NULL, &d), -1);
	assert_string_equal(d.msg, "E3 is not a side of session #1 (mentor E1, mentee E2)");
	assert_int_equal(checkin(st, 42, 1, SESSION_OUTCOME_HELD, 0, NULL, &d), -1);
	assert_string_equal(d.msg, "no session #42");
	/* The first 'held' makes the session held; events say so without the rating. */
	assert_int_equal(checkin(st, id, 1, SESSION_OUTCOME_HELD, 4, "good", &d), 0);
	assert_string_equal(status(st, id), "held");
	assert_int_equal(fx_events(st, "session.held"), 1);
	assert_int_equal(fx_events(st, "feedback.given"), 1);
	assert_null(strstr(fx_text(st, "SELECT payload FROM events WHERE kind = 'feedback.given'"),
			   "\"rating\""));
	/* An identical repeat is a no-op; a different one is refused, saying what was kept. */
	struct session_checkin c = {.session_id = id,
				    .person_id = 1,
				    .outcome = SESSION_OUTCOME_HELD,
				    .rating = 4,
				    .notes = "good"};
	int changed = -1;
	assert_int_equal(session_checkin(st, &c, &changed, &d), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(fx_events(st, "feedback.given"), 1);
	assert_int_equal(checkin(st, id, 1, SESSION_OUTCOME_HELD, 5, "good", &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	assert_non_null(strstr(d.msg, "E1 already checked in for session #1 at "));
	assert_non_null(strstr(d.msg, "(held, rating 4); a check-in cannot be changed"));
	/* The other side's 'missed' does not undo 'held'. */
	assert_int_equal(checkin(st, id, 2, SESSION_OUTCOME_MISSED, 0, NULL, &d), 0);
	assert_string_equal(status(st, id), "held");
	assert_int_equal(fx_int(st, "SELECT count(*) FROM feedback"), 2);
	/* An organizer cannot turn a held session into a missed one. */
	assert_int_equal(checkin(st, id, 0, SESSION_OUTCOME_MISSED, 0, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "is already held"));
	store_close(st);
}

static void
test_missed_by_both_and_late_held(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 1, T0 + 7 * DAY);
	clock_virtual_set(&fx_clock, T0 + 8 * DAY);
	struct diag d;
	assert_int_equal(checkin(st, a, 1, SESSION_OUTCOME_MISSED, 0, NULL, &d), 0);
	assert_string_equal(status(st, a), "planned"); /* one side is not enough */
	assert_int_equal(checkin(st, a, 2, SESSION_OUTCOME_MISSED, 0, NULL, &d), 0);
	assert_string_equal(status(st, a), "missed");
	assert_string_equal(fx_text(st, "SELECT status_reason FROM sessions WHERE id = 1"),
			    "both sides checked in 'missed'");
	assert_int_equal(fx_events(st, "session.missed"), 1);
	/* An organizer records b as missed; a side's late 'held' wins. */
	assert_int_equal(checkin(st, b, 0, SESSION_OUTCOME_MISSED, 0, NULL, &d), 0);
	assert_string_equal(status(st, b), "missed");
	assert_int_equal(checkin(st, b, 2, SESSION_OUTCOME_HELD, 3, NULL, &d), 0);
	assert_string_equal(status(st, b), "held");
	assert_int_equal(fx_int(st, "SELECT count(*) FROM sessions WHERE status_reason IS NOT NULL "
				    "AND id = 2"),
			 0);
	store_close(st);
}

/* The rating (and notes) of side (0 mentor, 1 mentee) of session id as viewer sees it;
 * -1 when hidden. */
static int
seen_rating(struct store *st, int64_t id, int64_t viewer, int side)
{
	struct session_row *r = NULL;
	struct diag d;
	if (session_get(st, id, viewer, &r, &d) != 0)
		fail_msg("session_get: %s", d.msg);
	const struct session_side *s = side ? &r->mentee : &r->mentor;
	int v = s->rating_hidden ? -1 : s->rating;
	if (s->rating_hidden)
		assert_null(s->notes);
	session_rows_free(r, 1);
	return v;
}

static void
test_rating_visibility(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 1, T0 + 7 * DAY);
	clock_virtual_set(&fx_clock, T0 + 2 * HOUR);
	struct diag d;
	assert_int_equal(checkin(st, a, 1, SESSION_OUTCOME_HELD, 4, "secret", &d), 0);
	/* Only the author sees it: not the other side, not an organizer. */
	assert_int_equal(seen_rating(st, a, 1, 0), 4);
	assert_int_equal(seen_rating(st, a, 2, 0), -1);
	assert_int_equal(seen_rating(st, a, 0, 0), -1);
	assert_int_equal(seen_rating(st, a, 3, 0), -1);
	/* Both rated: everyone sees both. */
	assert_int_equal(checkin(st, a, 2, SESSION_OUTCOME_HELD, 2, NULL, &d), 0);
	assert_int_equal(seen_rating(st, a, 2, 0), 4);
	assert_int_equal(seen_rating(st, a, 0, 1), 2);
	clock_virtual_set(&fx_clock, T0 + 7 * DAY + 2 * HOUR);
	/* One side rated b; the window closes 7 days after b's end (start + 45 min). */
	assert_int_equal(checkin(st, b, 2, SESSION_OUTCOME_HELD, 5, NULL, &d), 0);
	assert_int_equal(seen_rating(st, b, 1, 1), -1);
	time_t close = T0 + 7 * DAY + 45 * 60 + SESSION_REVEAL_DAYS * DAY;
	clock_virtual_set(&fx_clock, close - 1);
	assert_int_equal(seen_rating(st, b, 0, 1), -1);
	clock_virtual_set(&fx_clock, close);
	assert_int_equal(seen_rating(st, b, 0, 1), 5);
	assert_int_equal(seen_rating(st, b, 1, 1), 5);
	/* The JSON form carries the same. */
	clock_virtual_set(&fx_clock, close - 1);
	struct session_row *r;
	assert_int_equal(session_get(st, b, 1, &r, &d), 0);
	json_t *j = session_row_json(r);
	json_t *mentee = json_object_get(j, "mentee");
	assert_true(json_is_null(json_object_get(mentee, "rating")));
	assert_true(json_is_true(json_object_get(mentee, "rating_hidden")));
	assert_string_equal(json_string_value(json_object_get(j, "local")), "2027-01-19T05:00");
	json_decref(j);
	session_rows_free(r, 1);
	store_close(st);
}

/* The listing's summary: exactly its fields, each with the full JSON's value, for a session
 * checked in by one side (ratings and notes stay out) and a cancelled one. */
static void
test_summary(void **state)
{
	(void)state;
	static const char *const keys[] = {"id",     "match",	 "program",	"start",
					   "local",  "zone",	 "duration_min", "status",
					   "topic",  "mentor",	 "mentee",	NULL};
	static const char *const side_keys[] = {"id", "external_id", "name", "checked_in", NULL};
	struct store *st = fx_store(T0 - DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 1, T0 + 7 * DAY);
	clock_virtual_set(&fx_clock, T0 + 2 * HOUR);
	struct diag d;
	assert_int_equal(checkin(st, a, 1, SESSION_OUTCOME_HELD, 4, "secret", &d), 0);
	assert_int_equal(session_cancel(st, b, "holiday", "t", &d), 0);
	for (int64_t id = a; id <= b; id++) {
		struct session_row *r;
		assert_int_equal(session_get(st, id, 0, &r, &d), 0);
		json_t *full = session_row_json(r), *sum = session_row_summary_json(r);
		assert_non_null(full);
		assert_non_null(sum);
		size_t n = 0;
		for (; keys[n]; n++) {
			json_t *v = json_object_get(sum, keys[n]);
			assert_non_null(v);
			if (strcmp(keys[n], "mentor") != 0 && strcmp(keys[n], "mentee") != 0) {
				assert_true(json_equal(v, json_object_get(full, keys[n])));
				continue;
			}
			json_t *side = json_object_get(full, keys[n]);
			size_t k = 0;
			for (; side_keys[k]; k++)
				assert_true(json_equal(json_object_get(v, side_keys[k]),
						       json_object_get(side, side_keys[k])));
			assert_int_equal(json_object_size(v), k);
		}
		assert_int_equal(json_object_size(sum), n);
		assert_true(json_object_size(full) > n); /* the details are the full one's */
		json_decref(full);
		json_decref(sum);
		session_rows_free(r, 1);
	}
	store_close(st);
}

/* A side cancels: recorded in cancelled_by, in the listing's JSON and in the event; a
 * person who is not a side is refused and nothing changes. */
static void
test_cancel_by_side(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - 2 * DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 1, T0 + 7 * DAY);
	struct diag d;
	assert_int_equal(session_cancel_by(st, a, 3, "ill", "t", &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_string_equal(d.msg, "session #1: E3 is not a side of its pair (E1 and E2); "
				   "only the mentor or the mentee can cancel as themselves");
	assert_string_equal(status(st, a), "planned");
	assert_int_equal(fx_events(st, "session.cancelled"), 0);
	assert_int_equal(session_cancel_by(st, a, 2, "ill", "t", &d), 0);
	assert_int_equal(fx_int(st, "SELECT cancelled_by FROM sessions WHERE id = 1"), 2);
	assert_string_equal(fx_text(st, "SELECT json_extract(payload, '$.by') || ',' || "
					"subject_id FROM events WHERE kind = 'session.cancelled'"),
			    "E2,2");
	assert_int_equal(session_cancel(st, b, NULL, "t", &d), 0);
	assert_int_equal(fx_int(st, "SELECT cancelled_by IS NULL FROM sessions WHERE id = 2"), 1);
	struct session_row *r = NULL;
	assert_int_equal(session_get(st, a, 0, &r, &d), 0);
	assert_int_equal(r->cancelled_by, 2);
	json_t *j = session_row_json(r);
	assert_string_equal(json_string_value(json_object_get(j, "cancelled_by")), "E2");
	json_decref(j);
	session_rows_free(r, 1);
	store_close(st);
}

static void
test_cancel_and_reschedule(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - 2 * DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 1, T0 + 7 * DAY);
	struct diag d;
	assert_int_equal(session_cancel(st, a, "holiday", "t", &d), 0);
	assert_string_equal(status(st, a), "cancelled");
	assert_int_equal(fx_int(st, "SELECT sequence FROM sessions WHERE id = 1"), 1);
	assert_int_equal(session_cancel(st, a, NULL, "t", &d), -1);
	assert_string_equal(d.msg, "session #1 is cancelled (holiday): only a planned session can "
				   "be cancelled");
	clock_virtual_set(&fx_clock, T0 + HOUR);
	assert_int_equal(checkin(st, a, 1, SESSION_OUTCOME_HELD, 0, NULL, &d), -1);
	assert_string_equal(d.msg, "session #1 is cancelled (holiday): no check-in");
	assert_int_equal(insert(st, 1, T0), 0); /* a cancelled instant is never planned again */
	/* Reschedule b one day later: the old row stays, linked. */
	int64_t nid = 0;
	assert_int_equal(session_reschedule(st, b, T0 + 8 * DAY, NULL, "t", &nid, &d), 0);
	assert_true(nid > b);
	assert_string_equal(status(st, b), "rescheduled");
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT rescheduled_to || ',' || sequence FROM sessions WHERE id = %lld",
		 (long long)b);
	char want[64];
	snprintf(want, sizeof(want), "%lld,1", (long long)nid);
	assert_string_equal(fx_text(st, sql), want);
	snprintf(sql, sizeof(sql),
		 "SELECT rescheduled_from || ',' || sequence || ',' || planned_by || ',' || "
		 "status || ',' || duration_min FROM sessions WHERE id = %lld",
		 (long long)nid);
	snprintf(want, sizeof(want), "%lld,1,manual,planned,45", (long long)b);
	assert_string_equal(fx_text(st, sql), want);
	assert_int_equal(fx_events(st, "session.rescheduled"), 1);
	assert_int_equal(checkin(st, b, 1, SESSION_OUTCOME_HELD, 0, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "was rescheduled to #"));
	/* Refusals: the past, the same instant, an instant the pair already has. */
	assert_int_equal(session_reschedule(st, nid, T0, NULL, "t", NULL, &d), -1);
	assert_non_null(strstr(d.msg, "that is in the past"));
	assert_int_equal(session_reschedule(st, nid, T0 + 8 * DAY, NULL, "t", NULL, &d), -1);
	assert_non_null(strstr(d.msg, "already starts at 2027-01-20T10:00:00Z"));
	int64_t c = insert(st, 1, T0 + 14 * DAY);
	/* The program's window: not before its first day, not ending after its last. */
	struct session_window w = {.lo = T0 + 20 * DAY, .hi = T0 + 30 * DAY,
				   .starts_on = "2027-02-01", .ends_on = "2027-02-10"};
	assert_int_equal(session_reschedule(st, nid, T0 + 19 * DAY, &w, "t", NULL, &d), -1);
	assert_non_null(strstr(d.msg, "that is before its program starts (2027-02-01)"));
	assert_int_equal(session_reschedule(st, nid, T0 + 30 * DAY - 44 * 60, &w, "t", NULL, &d),
			 -1);
	assert_non_null(strstr(d.msg, "its 45 minutes would end after its program ends "
				      "(2027-02-10 is its last day)"));
	assert_string_equal(status(st, nid), "planned");
	assert_int_equal(session_reschedule(st, nid, T0 + 14 * DAY, NULL, "t", NULL, &d), -1);
	assert_int_equal(d.code, DIAG_CONFLICT);
	char msg[128];
	snprintf(msg, sizeof(msg), "match #1 already has session #%lld at 2027-01-26T10:00:00Z",
		 (long long)c);
	assert_string_equal(d.msg, msg);
	assert_string_equal(status(st, nid), "planned");
	store_close(st);
}

static void
test_mark_missed(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 2, T0 + 20 * HOUR);
	insert(st, 1, T0 + 7 * DAY);
	struct diag d;
	int n = -1;
	/* a ends at 10:45; with 24 hours of grace it is missed from 10:45 the next day. */
	time_t due = T0 + 45 * 60 + 24 * HOUR;
	assert_int_equal(session_mark_missed(st, due - 1, 24, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(session_mark_missed(st, due, 24, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(status(st, a), "missed");
	assert_string_equal(status(st, b), "planned");
	assert_string_equal(fx_text(st, "SELECT status_reason FROM sessions WHERE id = 1"),
			    "no check-in within 24 hours of the end");
	assert_int_equal(fx_events(st, "session.missed"), 1);
	assert_int_equal(session_mark_missed(st, due, 24, &n, &d), 0);
	assert_int_equal(n, 0); /* nothing twice */
	store_close(st);
}

static void
test_list_filters(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	insert(st, 1, T0);
	insert(st, 2, T0 + DAY);
	insert(st, 1, T0 + 7 * DAY);
	struct diag d;
	session_cancel(st, 3, NULL, "t", &d);
	struct session_row *rows;
	size_t n;
	struct session_filter f = {.status = -1};
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_true(rows[0].start < rows[1].start && rows[1].start < rows[2].start);
	assert_string_equal(rows[1].mentee.external_id, "E4");
	assert_string_equal(rows[0].program, "p");
	session_rows_free(rows, n);
	f.person_id = 4;
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 1);
	session_rows_free(rows, n);
	f.person_id = 0;
	f.from = T0 + HOUR;
	f.until = T0 + 7 * DAY;
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].match_id, 2);
	session_rows_free(rows, n);
	f = (struct session_filter){.status = SESSION_CANCELLED, .program_id = 1};
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].id, 3);
	session_rows_free(rows, n);
	assert_int_equal(session_history(st, 1, &rows, &n, &d), 0);
	assert_int_equal(n, 2);
	session_rows_free(rows, n);
	assert_int_equal(session_get(st, 9, 0, &rows, &d), -1);
	assert_string_equal(d.msg, "no session #9");
	enum session_status s;
	assert_int_equal(session_status_parse("held", &s, &d), 0);
	assert_int_equal(s, SESSION_HELD);
	assert_int_equal(session_status_parse("done", &s, &d), -1);
	store_close(st);
}

/* Pages (the HTTP API's cursor): after (start, id), at most limit, in the listing's order;
 * walking page by page gives every row once, ties on the start broken by id. */
static void
test_list_pages(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	/* Six sessions, two at each of three instants (ids 1..6). */
	for (int k = 0; k < 3; k++) {
		insert(st, 1, T0 + k * DAY);
		insert(st, 2, T0 + k * DAY);
	}
	struct diag d;
	struct session_row *rows;
	size_t n, seen = 0;
	int64_t ids[8];
	struct session_filter f = {.status = -1, .limit = 4};
	for (int page = 0; page < 4; page++) {
		assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
		assert_true(n <= 4);
		for (size_t i = 0; i < n && seen < 8; i++)
			ids[seen++] = rows[i].id;
		if (n > 0) {
			f.after_start = rows[n - 1].start;
			f.after_id = rows[n - 1].id;
		}
		session_rows_free(rows, n);
		if (n < 4)
			break;
	}
	assert_int_equal(seen, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(ids[i], (int64_t)i + 1); /* start order, then id */
	/* A cursor between two sessions of one instant: the second one and what follows. */
	f = (struct session_filter){.status = -1, .after_start = T0 + DAY, .after_id = 3};
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].id, 4);
	session_rows_free(rows, n);
	/* `from` and the cursor together: the later of the two bounds applies. */
	f = (struct session_filter){.status = -1, .from = T0 + 2 * DAY, .after_start = T0,
				    .after_id = 1, .limit = 10};
	assert_int_equal(session_list(st, &f, &rows, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, 5);
	session_rows_free(rows, n);
	store_close(st);
}

static char *topics[] = {"ai_tools", "data_literacy", "leadership", "strategy"};
static char *q_ai[] = {"Q1", "Q2", "Q3", "Q4"};

static void
test_agenda(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	struct config_topic_questions qs[4] = {{q_ai, 4}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
	struct config_program prog = {
	    .name = "p", .topics = topics, .ntopics = 4, .topic_questions = qs};
	/* Pair 1 shares ai_tools, data_literacy, leadership (library order): consecutive
	 * sessions rotate through them. */
	const char *want[] = {"ai_tools", "data_literacy", "leadership", "ai_tools"};
	struct diag d;
	for (int k = 0; k < 4; k++) {
		struct session_new sn = {.match_id = 1, .start = T0 + k * 7 * DAY, .prog = &prog};
		int64_t id;
		assert_int_equal(session_insert(st, &sn, &id, &d), 0);
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT topic FROM sessions WHERE id = %lld",
			 (long long)id);
		assert_string_equal(fx_text(st, sql), want[k]);
	}
	/* The library's questions, 3 at a time, the next ones on the next pass. */
	assert_string_equal(fx_text(st, "SELECT agenda FROM sessions WHERE id = 1"),
			    "[\"Q1\",\"Q2\",\"Q3\"]");
	assert_string_equal(fx_text(st, "SELECT agenda FROM sessions WHERE id = 4"),
			    "[\"Q4\",\"Q1\",\"Q2\"]");
	assert_non_null(strstr(fx_text(st, "SELECT agenda FROM sessions WHERE id = 2"),
			       "What have you tried with data_literacy since you last met?"));
	/* A pair's first session has nothing to look back on. */
	{
		struct config_program bare = {.name = "p", .topics = topics, .ntopics = 4};
		char *t0, *a0;
		assert_int_equal(session_agenda(st, &bare, 1, T0, &t0, &a0, &d), 0);
		assert_string_equal(t0, "ai_tools");
		assert_null(strstr(a0, "since you last met"));
		assert_non_null(strstr(a0, "What do you already do with ai_tools"));
		free(t0);
		free(a0);
	}
	/* Deterministic: asking again gives the same; a cancelled session does not count. */
	char *topic, *agenda;
	assert_int_equal(session_agenda(st, &prog, 1, T0 + 7 * DAY, &topic, &agenda, &d), 0);
	assert_string_equal(topic, "data_literacy");
	free(topic);
	free(agenda);
	assert_int_equal(session_cancel(st, 1, NULL, "t", &d), 0);
	assert_int_equal(session_agenda(st, &prog, 1, T0 + 7 * DAY, &topic, &agenda, &d), 0);
	assert_string_equal(topic, "ai_tools");
	free(topic);
	free(agenda);
	/* Pair 2 shares nothing: what the mentee wants (her own list, strategy). */
	assert_int_equal(session_agenda(st, &prog, 2, T0, &topic, &agenda, &d), 0);
	assert_string_equal(topic, "strategy");
	free(topic);
	free(agenda);
	/* No library and nothing wanted: no topic, generic questions. */
	fx_exec(st, "UPDATE people SET topics_wanted = '[]' WHERE id = 4");
	assert_int_equal(session_agenda(st, NULL, 2, T0, &topic, &agenda, &d), 0);
	assert_null(topic);
	assert_non_null(strstr(agenda, "What should the next session be about?"));
	free(agenda);
	store_close(st);
}

static void
test_config_topic_questions(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/tandem.lua", fx_dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("program { name = 'p', topics = { 'plain',\n"
	      "  { name = 'ai_tools', questions = { 'What did you automate?', 'Which tool?' } },\n"
	      "  { name = 'bare' } } }\n",
	      f);
	fclose(f);
	struct config cfg;
	struct diag d;
	if (config_load(path, &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	const struct config_program *p = &cfg.programs[0];
	assert_int_equal(p->ntopics, 3);
	assert_string_equal(p->topics[1], "ai_tools");
	assert_int_equal(p->topic_questions[0].n, 0);
	assert_int_equal(p->topic_questions[1].n, 2);
	assert_string_equal(p->topic_questions[1].questions[1], "Which tool?");
	assert_int_equal(p->topic_questions[2].n, 0);
	config_fini(&cfg);
	f = fopen(path, "w");
	fputs("program { name = 'p',\n  topics = { { name = 'x', questions = { 1 } } } }\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, &d), -1);
	assert_non_null(
	    strstr(d.msg, "program 'p': field 'topics' item 1: field 'questions' item 1 must be a "
			  "string"));
	f = fopen(path, "w");
	fputs("program { name = 'p', topics = { { title = 'x' } } }\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, &d), -1);
	assert_non_null(strstr(d.msg, "unknown field 'title' (valid fields: name, questions)"));
	f = fopen(path, "w");
	fputs("program { name = 'p', topics = { 3 } }\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, &d), -1);
	assert_non_null(
	    strstr(d.msg, "field 'topics' item 1 must be a string (got number), or a table"));
}

static void
test_parse_time(void **state)
{
	(void)state;
	time_t t;
	struct diag d;
	assert_int_equal(session_parse_time("2027-01-12T10:00", "Europe/Paris", &t, &d), 0);
	assert_int_equal(t, fx_utc(2027, 1, 12, 9, 0));
	assert_int_equal(session_parse_time("2027-01-12T10:00Z", "Europe/Paris", &t, &d), 0);
	assert_int_equal(t, fx_utc(2027, 1, 12, 10, 0));
	assert_int_equal(session_parse_time("2027-07-01 09:30:15", "America/New_York", &t, &d), 0);
	assert_int_equal(t, fx_utc(2027, 7, 1, 13, 30) + 15);
	/* A wall time in the spring gap moves forward by the gap (02:30 -> 03:30 CEST). */
	assert_int_equal(session_parse_time("2027-03-28T02:30", "Europe/Paris", &t, &d), 0);
	assert_int_equal(t, fx_utc(2027, 3, 28, 1, 30));
	/* In the autumn overlap the first instant (CEST) is taken. */
	assert_int_equal(session_parse_time("2027-10-31T02:30", "Europe/Paris", &t, &d), 0);
	assert_int_equal(t, fx_utc(2027, 10, 31, 0, 30));
	const char *bad[] = {"2027-02-30T10:00",	  "2027-01-12",
			     "2027-01-12T25:00",	  "tomorrow",
			     "2027-01-12T10:00:00+01:00", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(session_parse_time(bad[i], "UTC", &t, &d), -1);
		assert_int_equal(d.code, DIAG_INVALID);
	}
	assert_int_equal(session_parse_time("2027-01-12T10:00", "Mars/Base", &t, &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone 'Mars/Base'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_idempotent),
	    cmocka_unit_test(test_insert_many),
	    cmocka_unit_test(test_checkin_rules),
	    cmocka_unit_test(test_missed_by_both_and_late_held),
	    cmocka_unit_test(test_rating_visibility),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_cancel_and_reschedule),
	    cmocka_unit_test(test_cancel_by_side),
	    cmocka_unit_test(test_mark_missed),
	    cmocka_unit_test(test_list_filters),
	    cmocka_unit_test(test_list_pages),
	    cmocka_unit_test(test_agenda),
	    cmocka_unit_test(test_config_topic_questions),
	    cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

/* Unit tests for sched/feedback: the feedback rows listed by id with their filters and
 * pages, and ratings/notes hidden by the same rule session_list applies (compared, row by
 * row, with what session_list shows an organizer at several instants). */
#include "session_fixture.h"

#include "sched/feedback.h"
#include "sched/session.h"

#define T0 fx_utc(2027, 1, 12, 10, 0)
#define HOUR 3600
#define DAY 86400

static int64_t
insert(struct store *st, int64_t match, time_t start)
{
	struct session_new sn = {.match_id = match, .start = start, .duration_min = 45};
	int64_t id = -1;
	struct diag d;
	if (session_insert(st, &sn, &id, &d) != 0)
		fail_msg("session_insert: %s", d.msg);
	return id;
}

static void
checkin(struct store *st, int64_t id, int64_t person, int rating, const char *notes)
{
	struct session_checkin c = {.session_id = id, .person_id = person,
				    .outcome = SESSION_OUTCOME_HELD, .rating = rating,
				    .notes = notes, .share_story = person == 2, .actor = "t"};
	struct diag d;
	if (session_checkin(st, &c, NULL, &d) != 0)
		fail_msg("session_checkin: %s", d.msg);
}

static json_t *
list(struct store *st, struct feedback_filter f)
{
	json_t *arr = NULL;
	struct diag d;
	if (feedback_list_json(st, &f, &arr, &d) != 0)
		fail_msg("feedback_list_json: %s", d.msg);
	return arr;
}

/* Each listed row's rating and notes equal what session_list shows an organizer. */
static void
same_as_sessions(struct store *st)
{
	json_t *arr = list(st, (struct feedback_filter){0});
	size_t i;
	json_t *f;
	json_array_foreach(arr, i, f)
	{
		struct session_row *r;
		struct diag d;
		assert_int_equal(
		    session_get(st, json_integer_value(json_object_get(f, "session")), 0, &r, &d), 0);
		const char *side = json_string_value(json_object_get(f, "side"));
		struct session_side *s = strcmp(side, "mentor") == 0 ? &r->mentor : &r->mentee;
		json_t *rating = json_object_get(f, "rating");
		assert_int_equal(json_is_null(rating) ? 0 : (int)json_integer_value(rating), s->rating);
		json_t *notes = json_object_get(f, "notes");
		if (s->notes == NULL)
			assert_true(json_is_null(notes));
		else
			assert_string_equal(json_string_value(notes), s->notes);
		assert_int_equal(json_is_true(json_object_get(f, "rating_hidden")), s->rating_hidden);
		assert_string_equal(json_string_value(json_object_get(json_object_get(f, "author"), "id")),
				    s->external_id);
		session_rows_free(r, 1);
	}
	json_decref(arr);
}

static void
test_list_and_visibility(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t a = insert(st, 1, T0), b = insert(st, 2, T0 + HOUR);
	clock_virtual_set(&fx_clock, T0 + 3 * HOUR);
	checkin(st, a, 1, 4, "secret");
	json_t *arr = list(st, (struct feedback_filter){0});
	assert_int_equal(json_array_size(arr), 1);
	json_t *f = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(f, "side")), "mentor");
	assert_string_equal(json_string_value(json_object_get(f, "program")), "p");
	assert_string_equal(json_string_value(json_object_get(f, "actor")), "t");
	assert_true(json_is_null(json_object_get(f, "rating")));
	assert_true(json_is_null(json_object_get(f, "notes")));
	assert_true(json_is_true(json_object_get(f, "rating_hidden")));
	json_decref(arr);
	same_as_sessions(st);
	/* Both sides of a rated: revealed; b's single rating stays hidden. */
	checkin(st, a, 2, 2, NULL);
	checkin(st, b, 4, 5, "hm");
	checkin(st, b, 3, 0, NULL); /* held without a rating: nothing to hide */
	same_as_sessions(st);
	arr = list(st, (struct feedback_filter){0});
	assert_int_equal(json_array_size(arr), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "rating")), 4);
	assert_true(json_is_true(json_object_get(json_array_get(arr, 1), "share_story")));
	assert_true(json_is_true(json_object_get(json_array_get(arr, 2), "rating_hidden")));
	assert_false(json_is_true(json_object_get(json_array_get(arr, 3), "rating_hidden")));
	json_decref(arr);
	/* The window closes 7 days after b's end: then everything is visible. */
	clock_virtual_set(&fx_clock, T0 + HOUR + 45 * 60 + SESSION_REVEAL_DAYS * DAY);
	same_as_sessions(st);
	arr = list(st, (struct feedback_filter){.session_id = b});
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "rating")), 5);
	json_decref(arr);
	/* An explicit now decides the window instead of the store's clock. */
	arr = list(st, (struct feedback_filter){.session_id = b, .now = T0 + 4 * HOUR});
	assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "rating")));
	json_decref(arr);
	store_close(st);
}

static void
test_filters_and_pages(void **state)
{
	(void)state;
	struct store *st = fx_store(T0 - DAY);
	int64_t s[4];
	for (int i = 0; i < 4; i++)
		s[i] = insert(st, 1 + i % 2, T0 + i * DAY);
	clock_virtual_set(&fx_clock, T0 + 5 * DAY);
	for (int i = 0; i < 4; i++) {
		checkin(st, s[i], i % 2 ? 3 : 1, 0, NULL);
		checkin(st, s[i], i % 2 ? 4 : 2, 0, NULL);
	}
	json_t *arr = list(st, (struct feedback_filter){.person_id = 2});
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	arr = list(st, (struct feedback_filter){.session_id = s[3]});
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	arr = list(st, (struct feedback_filter){.program_id = 2});
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Pages of 3 by id cover the 8 rows once, in order. */
	int64_t after = 0, seen = 0, last = 0;
	for (int page = 0; page < 10; page++) {
		arr = list(st, (struct feedback_filter){.after_id = after, .limit = 3});
		size_t n = json_array_size(arr);
		for (size_t i = 0; i < n; i++) {
			int64_t id = json_integer_value(json_object_get(json_array_get(arr, i), "id"));
			assert_true(id > last);
			last = id;
			seen++;
		}
		after = last;
		json_decref(arr);
		if (n < 3)
			break;
	}
	assert_int_equal(seen, 8);
	assert_int_equal(seen, fx_int(st, "SELECT count(*) FROM feedback"));
	assert_int_equal(seen, fx_events(st, "feedback.given"));
	assert_string_equal(fx_text(st, "SELECT group_concat(DISTINCT actor) FROM feedback"), "t");
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_list_and_visibility, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_filters_and_pages, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

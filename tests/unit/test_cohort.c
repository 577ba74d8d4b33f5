/* Unit tests for program/cohort: loading a program's cohort from the store (who
 * takes part, kept pairs, history, vetoes, zones, managers) and building one by
 * hand. */
#include "policy_fixture.h"

static void
test_load(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	struct cohort c;
	struct diag d;
	if (cohort_load(st, 1, "p", &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(c.program, "p");
	assert_int_equal(c.program_id, 1);
	/* Everyone is loaded (management chains), ordered by id. */
	assert_int_equal(c.npeople, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(c.people[i].id, i + 1);
	assert_int_equal(c.people[1].manager, 0);
	assert_int_equal(c.people[0].manager, -1);
	assert_int_equal(cohort_person_index(&c, 4), 3);
	assert_int_equal(cohort_person_index(&c, 99), -1);
	/* Zones: offsets at the store's time; an unknown zone is not known. */
	assert_true(c.people[0].tz_known);
	assert_int_equal(c.people[0].tz_offset_min, 0);
	assert_true(c.people[1].tz_known);
	assert_int_equal(c.people[1].tz_offset_min, 540);
	assert_false(c.people[3].tz_known);
	/* Mentors 1 and 4 (both); mentees 2, 4 and 6: not 3 (on leave), not 5 (no consent). */
	assert_int_equal(c.nmentors, 2);
	assert_int_equal(c.mentors[0].person, 0);
	assert_int_equal(c.mentors[0].capacity, 2);
	assert_int_equal(c.mentors[1].person, 3);
	assert_int_equal(c.nmentees, 3);
	assert_int_equal(c.mentees[0].person, 1);
	assert_int_equal(c.mentees[1].person, 3);
	assert_int_equal(c.mentees[1].capacity, 1);
	assert_int_equal(c.mentees[2].person, 5);
	assert_string_equal(c.mentees[1].role, "both");
	assert_int_equal(cohort_mentor_of(&c, 3), 1);
	assert_int_equal(cohort_mentee_of(&c, 0), -1);
	/* Kept: the approved 1-2; 1-5 is pinned but 5 has not consented. */
	assert_int_equal(c.nkept, 1);
	assert_int_equal(c.kept[0].mentor, 0);
	assert_int_equal(c.kept[0].mentee, 0);
	assert_int_equal(c.kept[0].match_id, 1);
	/* History: matches that met, in any program (the ended 4-6 of q, the approved 1-2 and
	 * 1-5); not the proposal nor the rejection. */
	assert_int_equal(c.nhistory, 3);
	assert_true(feat_pred_holds(c.snap, FPRED_PREVIOUSLY_PAIRED, 1, 2));
	assert_false(feat_pred_holds(c.snap, FPRED_PREVIOUSLY_PAIRED, 0, 2));
	assert_true(feat_pred_holds(c.snap, FPRED_REPORTING_CHAIN, 0, 0));
	/* The veto 4-2 of this program. */
	assert_int_equal(c.nvetoes, 1);
	assert_int_equal(feat_check(c.snap, &(struct feat_rules){0}, 1, 0), FV_VETOED);
	cohort_fini(&c);

	/* Another program: nobody enrolled, the people are there all the same. */
	if (cohort_load(st, 2, "q", &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(c.npeople, 6);
	assert_int_equal(c.nmentors + c.nmentees + c.nkept, 0);
	cohort_fini(&c);
	store_close(st);
}

/* A rematch's cohort: the freed mentee and the kept pairs' mentees (an approved match, another
 * mentee's pending proposal), every mentor; the former partner vetoed; a match the program's end
 * ended frees nobody. */
static void
test_load_rematch(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "INSERT INTO matches (program_id, mentor_id, mentee_id, status, end_reason, "
		 "created_at) VALUES (1, 1, 6, 'ended', 'no chemistry', 'now'), "
		 "(1, 1, 4, 'proposed', NULL, 'now')");
	struct cohort c;
	struct diag d;
	if (cohort_load_rematch(st, 1, "p", &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(c.nmentors, 2);
	assert_int_equal(c.nmentees, 3); /* 2 (approved), 4 (its proposal), 6 (freed) */
	assert_int_equal(c.mentees[0].person, 1);
	assert_int_equal(c.mentees[1].person, 3);
	assert_int_equal(c.mentees[2].person, 5);
	/* Kept: the approved 1-2 and the proposal 1-4; not 6's own proposal 4-6. */
	assert_int_equal(c.nkept, 2);
	assert_int_equal(c.kept[0].mentee, 0);
	assert_int_equal(c.kept[1].mentee, 1);
	/* The program's veto and the former partner 1-6. */
	assert_int_equal(c.nvetoes, 2);
	assert_int_equal(feat_check(c.snap, &(struct feat_rules){0}, 0, 2), FV_VETOED);
	assert_int_equal(feat_check(c.snap, &(struct feat_rules){0}, 1, 2), FV_ALLOWED);
	cohort_fini(&c);
	/* Rematched (an approved match since): freed no more; nor when the program ended it. */
	exec(st, "UPDATE matches SET status = 'approved' WHERE mentor_id = 4 AND mentee_id = 6");
	if (cohort_load_rematch(st, 1, "p", &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(c.nmentees, 3); /* 6 stays, as a kept pair's mentee */
	assert_int_equal(c.nkept, 3);
	cohort_fini(&c);
	exec(st, "UPDATE matches SET status = 'rejected' WHERE mentor_id = 4 AND mentee_id = 6;"
		 "UPDATE matches SET end_reason = 'program ended' WHERE status = 'ended'");
	if (cohort_load_rematch(st, 1, "p", &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(c.nmentees, 2); /* 2 and 4: nobody freed */
	cohort_fini(&c);
	store_close(st);
}

/* A list column that is not JSON fails the load and names the person. */
static void
test_load_bad_list(void **state)
{
	(void)state;
	struct store *st = open_store();
	exec(st, org_sql);
	exec(st, "UPDATE people SET languages = 'en, fr' WHERE id = 6");
	struct cohort c;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(cohort_load(st, 1, "p", &c, &d), -1);
	assert_non_null(strstr(d.msg, "person E6"));
	assert_non_null(strstr(d.msg, "languages is not a JSON list"));
	cohort_fini(&c);
	store_close(st);
}

/* By hand: elements start zeroed (people with no manager), finish builds the snapshot
 * and names it by its content. */
static void
test_by_hand(void **state)
{
	(void)state;
	struct cohort c;
	struct diag d;
	make_cohort(&c, 3, 4, 9);
	assert_int_equal(c.npeople, 7);
	assert_null(c.snap);
	assert_int_equal(cohort_finish(&c, &d), 0);
	assert_non_null(c.snap);
	assert_int_equal(feat_nmentors(c.snap), 3);
	assert_int_equal(feat_nmentees(c.snap), 4);
	/* The id is a digest of the sides: the same again, another after a change. */
	uint64_t id = c.id;
	assert_true(id != 0);
	assert_int_equal(cohort_finish(&c, &d), 0);
	assert_true(c.id == id);
	struct cohort other;
	make_cohort(&other, 3, 4, 9);
	assert_int_equal(cohort_finish(&other, &d), 0);
	assert_true(other.id == id);
	other.mentors[1].capacity++;
	assert_int_equal(cohort_finish(&other, &d), 0);
	assert_true(other.id != id);
	cohort_fini(&other);
	struct cohort_person *p = cohort_add_person(&c);
	assert_non_null(p);
	assert_int_equal(p->manager, -1);
	assert_null(p->external_id);
	assert_int_equal(cohort_add_kept(&c, 0, 1, 7, 1), 0);
	assert_int_equal(c.kept[c.nkept - 1].match_id, 7);
	cohort_fini(&c);
	assert_int_equal(c.npeople, 0);
	assert_null(c.snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_rematch),
	    cmocka_unit_test(test_load_bad_list),
	    cmocka_unit_test(test_by_hand),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

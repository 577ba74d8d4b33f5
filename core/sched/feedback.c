/*
 * sched/feedback: the feedback rows as a list (see feedback.h). One statement: the row,
 * its session, match, program and author, and the pair's two rows LEFT JOINed for the
 * visibility rule (SESSION_REVEALED_SQL, the rule session_list applies).
 */
#include "sched/feedback.h"

#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"

static const char list_sql[] =
    "SELECT f.id, f.session_id, f.match_id, pr.name, p.external_id, p.name, "
    "CASE WHEN f.author_id = m.mentor_id THEN 'mentor' ELSE 'mentee' END, f.outcome, "
    "f.rating, f.comment, f.share_story, f.actor, f.created_at, "
    SESSION_REVEALED_SQL("s", "fr", "fe", "?6") " "
    "FROM feedback f JOIN sessions s ON s.id = f.session_id "
    "JOIN matches m ON m.id = f.match_id JOIN programs pr ON pr.id = m.program_id "
    "JOIN people p ON p.id = f.author_id "
    "LEFT JOIN feedback fr ON fr.session_id = s.id AND fr.author_id = m.mentor_id "
    "LEFT JOIN feedback fe ON fe.session_id = s.id AND fe.author_id = m.mentee_id "
    "WHERE f.id > ?1 AND (?2 = 0 OR m.program_id = ?2) AND (?3 = 0 OR f.author_id = ?3) "
    "AND (?4 = 0 OR f.session_id = ?4) ORDER BY f.id LIMIT ?5";

/* Column i as a JSON string, or null. */
static json_t *
text_or_null(struct stmt *s, int i)
{
	const char *t = NULL;
	if (stmt_text(s, i, &t, NULL) < 0)
		return NULL;
	return t ? json_string(t) : json_null();
}

static json_t *
row_json(struct stmt *s)
{
	int revealed = stmt_int64(s, 13) != 0;
	int given = !stmt_is_null(s, 8) || !stmt_is_null(s, 9);
	json_t *rating = revealed && !stmt_is_null(s, 8) ? json_integer(stmt_int64(s, 8)) : json_null();
	json_t *notes = revealed ? text_or_null(s, 9) : json_null();
	return json_pack("{s:I, s:I, s:I, s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:b, s:b, s:o, "
			 "s:o}",
			 "id", (json_int_t)stmt_int64(s, 0), "session", (json_int_t)stmt_int64(s, 1),
			 "match", (json_int_t)stmt_int64(s, 2), "program", text_or_null(s, 3),
			 "author", "id", text_or_null(s, 4), "name", text_or_null(s, 5), "side",
			 text_or_null(s, 6), "outcome", text_or_null(s, 7), "rating", rating,
			 "notes", notes, "rating_hidden", !revealed && given, "share_story",
			 (int)stmt_int64(s, 10), "actor", text_or_null(s, 11), "created_at",
			 text_or_null(s, 12));
}

int
feedback_list_json(struct store *st, const struct feedback_filter *f, json_t **out,
		   struct diag *d)
{
	*out = NULL;
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "listing feedback", list_sql, d) != 0)
		return -1;
	time_t now = f->now ? f->now : store_time(st);
	if (stmt_bind_int64(&s, 1, f->after_id, d) || stmt_bind_int64(&s, 2, f->program_id, d) ||
	    stmt_bind_int64(&s, 3, f->person_id, d) || stmt_bind_int64(&s, 4, f->session_id, d) ||
	    stmt_bind_int64(&s, 5, f->limit > 0 ? f->limit : -1, d) ||
	    stmt_bind_int64(&s, 6, (int64_t)now, d)) {
		stmt_finalize(&s);
		return -1;
	}
	json_t *arr = json_array();
	int rc = arr ? STMT_ROW : -2;
	while (rc == STMT_ROW && (rc = stmt_step(&s, d)) == STMT_ROW)
		if (json_array_append_new(arr, row_json(&s)) != 0)
			rc = -2;
	stmt_finalize(&s);
	if (rc == -2)
		diag_set(d, DIAG_NOMEM, "listing feedback: out of memory");
	if (rc != STMT_DONE) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

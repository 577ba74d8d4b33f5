/*
 * session_list: reading sessions: the filtered listing, one session, a match's history,
 * a row as JSON, and the rating-visibility rule (session.h, SESSION_REVEALED_SQL), applied
 * here once so every reader (the CLI, plans, reports, the HTTP API) sees ratings the same
 * way, and the skills each side assessed at the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/session.h"
#include "sched/session_internal.h"
#include "store/stmt.h"
#include "time/tz.h"

/* The skills a side assessed at the session, as a JSON array (NULL: none). */
#define SKILLS_SQL(PERSON)                                                                         \
	"(SELECT json_group_array(json_object('topic', k.topic, 'level', k.level)) "               \
	"FROM skill_assessments k WHERE k.session_id = s.id AND k.person_id = " PERSON              \
	" HAVING count(*) > 0)"

static const char list_sql[] =
    "SELECT s.id, s.match_id, m.program_id, pg.name, s.starts_at, s.duration_min, "
    "s.timezone, s.status, s.status_reason, s.planned_by, s.topic, s.agenda, "
    "COALESCE(s.rescheduled_to, 0), COALESCE(s.rescheduled_from, 0), s.sequence, "
    /* 15 */ "m.mentor_id, r.external_id, r.name, m.mentee_id, e.external_id, e.name, "
    /* 21 */ "fr.id, fr.outcome, fr.rating, fr.comment, fr.share_story, fr.created_at, "
    /* 27 */ "fe.id, fe.outcome, fe.rating, fe.comment, fe.share_story, fe.created_at, "
    /* 33 */ "COALESCE(s.cancelled_by, 0), "
    /* 34 */ SESSION_REVEALED_SQL("s", "fr", "fe", "?11") ", "
    /* 35 */ SKILLS_SQL("m.mentor_id") ", " SKILLS_SQL("m.mentee_id") " "
    "FROM sessions s JOIN matches m ON m.id = s.match_id "
    "JOIN programs pg ON pg.id = m.program_id "
    /* LEFT: a side erased by `people erase` is NULL in the kept match; its sessions
     * are still listed (the partner's calendar and metrics count them). */
    "LEFT JOIN people r ON r.id = m.mentor_id LEFT JOIN people e ON e.id = m.mentee_id "
    "LEFT JOIN feedback fr ON fr.session_id = s.id AND fr.author_id = m.mentor_id "
    "LEFT JOIN feedback fe ON fe.session_id = s.id AND fe.author_id = m.mentee_id "
    "WHERE (?1 = 0 OR m.program_id = ?1) "
    "AND (?2 = 0 OR m.mentor_id = ?2 OR m.mentee_id = ?2) "
    "AND (?3 = 0 OR s.match_id = ?3) AND (?4 = 0 OR s.id = ?4) "
    /* One lower bound SQLite can seek the sessions_start index to, for `from` and the
     * page's cursor alike (a page deep in the listing must not scan the ones before). */
    "AND s.starts_at >= max(coalesce(?5, ''), coalesce(?8, '')) "
    "AND (?6 IS NULL OR s.starts_at < ?6) "
    "AND (?7 IS NULL OR s.status = ?7) "
    "AND (?8 IS NULL OR s.starts_at > ?8 OR s.id > ?9) "
    "ORDER BY s.starts_at, s.id LIMIT ?10";

/* A copy of column col (NULL for SQL NULL); -1 on out of memory. */
static int
dup_col(struct stmt *s, int col, char **out, struct diag *d)
{
	const char *t = NULL;
	*out = NULL;
	if (stmt_text(s, col, &t, d) != 0)
		return -1;
	if (t != NULL && (*out = strdup(t)) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

static int
read_side(struct stmt *s, int person_col, int fb_col, int skills_col, struct session_side *side,
	  struct diag *d)
{
	if (dup_col(s, skills_col, &side->skills_json, d) != 0)
		return -1;
	side->person_id = stmt_int64(s, person_col);
	if (dup_col(s, person_col + 1, &side->external_id, d) ||
	    dup_col(s, person_col + 2, &side->name, d))
		return -1;
	side->checked_in = !stmt_is_null(s, fb_col);
	if (!side->checked_in)
		return 0;
	const char *o = NULL;
	if (stmt_text(s, fb_col + 1, &o, d) != 0)
		return -1;
	side->outcome =
	    o && strcmp(o, "missed") == 0 ? SESSION_OUTCOME_MISSED : SESSION_OUTCOME_HELD;
	side->rating = stmt_is_null(s, fb_col + 2) ? 0 : (int)stmt_int64(s, fb_col + 2);
	side->share_story = (int)stmt_int64(s, fb_col + 4);
	return dup_col(s, fb_col + 3, &side->notes, d) ||
		       dup_col(s, fb_col + 5, &side->checked_in_at, d)
		   ? -1
		   : 0;
}

static void
side_fini(struct session_side *side)
{
	free(side->external_id);
	free(side->name);
	free(side->notes);
	free(side->checked_in_at);
	free(side->skills_json);
}

static void
row_fini(struct session_row *r)
{
	free(r->program);
	free(r->zone);
	free(r->status_reason);
	free(r->planned_by);
	free(r->topic);
	free(r->agenda_json);
	side_fini(&r->mentor);
	side_fini(&r->mentee);
}

void
session_rows_free(struct session_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		row_fini(&rows[i]);
	free(rows);
}

/* Hides what side wrote from viewer unless the ratings are revealed or it is theirs. */
static void
apply_visibility(struct session_side *side, int revealed, int64_t viewer)
{
	if (revealed || (viewer != 0 && viewer == side->person_id))
		return;
	if (side->rating == 0 && side->notes == NULL)
		return;
	side->rating_hidden = 1;
	side->rating = 0;
	free(side->notes);
	side->notes = NULL;
}

static int
read_row(struct stmt *s, struct session_row *r, int64_t viewer, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->id = stmt_int64(s, 0);
	r->match_id = stmt_int64(s, 1);
	r->program_id = stmt_int64(s, 2);
	r->duration_min = (int)stmt_int64(s, 5);
	r->rescheduled_to = stmt_int64(s, 12);
	r->rescheduled_from = stmt_int64(s, 13);
	r->sequence = (int)stmt_int64(s, 14);
	r->cancelled_by = stmt_int64(s, 33);
	const char *at = NULL, *status = NULL;
	if (dup_col(s, 3, &r->program, d) || stmt_text(s, 4, &at, d) ||
	    dup_col(s, 6, &r->zone, d) || stmt_text(s, 7, &status, d) ||
	    dup_col(s, 8, &r->status_reason, d) || dup_col(s, 9, &r->planned_by, d) ||
	    dup_col(s, 10, &r->topic, d) || dup_col(s, 11, &r->agenda_json, d) ||
	    read_side(s, 15, 21, 35, &r->mentor, d) || read_side(s, 18, 27, 36, &r->mentee, d))
		return -1;
	enum session_status st;
	if (session_utc_parse(at, &r->start) != 0 || status == NULL ||
	    session_status_parse(status, &st, NULL) != 0)
		return diag_set(d, DIAG_INTERNAL, "session #%lld: unreadable row (%s, %s)",
				(long long)r->id, at ? at : "", status ? status : "");
	r->status = st;
	r->revealed = stmt_int64(s, 34) != 0; /* SESSION_REVEALED_SQL */
	apply_visibility(&r->mentor, r->revealed, viewer);
	apply_visibility(&r->mentee, r->revealed, viewer);
	return 0;
}

int
session_list(struct store *st, const struct session_filter *f, struct session_row **rows, size_t *n,
	     struct diag *d)
{
	*rows = NULL;
	*n = 0;
	char from[STORE_TIME_MAX], until[STORE_TIME_MAX], after[STORE_TIME_MAX];
	if ((f->from && store_format_time(f->from, from) != 0) ||
	    (f->until && store_format_time(f->until, until) != 0) ||
	    (f->after_id > 0 && store_format_time(f->after_start, after) != 0))
		return diag_set(d, DIAG_INVALID, "listing sessions: time out of range");
	time_t now = f->now ? f->now : store_time(st);
	struct stmt s = {0};
	size_t cap = 0;
	int rc =
	    stmt_prepare(&s, st, "listing sessions", list_sql, d) ||
	    stmt_bind_int64(&s, 1, f->program_id, d) || stmt_bind_int64(&s, 2, f->person_id, d) ||
	    stmt_bind_int64(&s, 3, f->match_id, d) || stmt_bind_int64(&s, 4, f->session_id, d) ||
	    stmt_bind_text(&s, 5, f->from ? from : NULL, d) ||
	    stmt_bind_text(&s, 6, f->until ? until : NULL, d) ||
	    stmt_bind_text(&s, 7, f->status >= 0 ? session_status_name(f->status) : NULL, d) ||
	    stmt_bind_text(&s, 8, f->after_id > 0 ? after : NULL, d) ||
	    stmt_bind_int64(&s, 9, f->after_id, d) ||
	    stmt_bind_int64(&s, 10, f->limit > 0 ? f->limit : -1, d) ||
	    stmt_bind_int64(&s, 11, (int64_t)now, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct session_row *v = realloc(*rows, ncap * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
				break;
			}
			*rows = v;
			cap = ncap;
		}
		rc = read_row(&s, &(*rows)[*n], f->viewer_id, d);
		(*n)++; /* counted even on failure: its fields are freed below */
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		session_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
session_get(struct store *st, int64_t id, int64_t viewer_id, struct session_row **row,
	    struct diag *d)
{
	struct session_filter f = {.session_id = id, .status = -1, .viewer_id = viewer_id};
	size_t n;
	if (session_list(st, &f, row, &n, d) != 0)
		return -1;
	if (n == 0) {
		session_rows_free(*row, n);
		*row = NULL;
		return diag_set(d, DIAG_NOTFOUND, "no session #%lld", (long long)id);
	}
	return 0;
}

int
session_history(struct store *st, int64_t match_id, struct session_row **rows, size_t *n,
		struct diag *d)
{
	struct session_filter f = {.match_id = match_id, .status = -1};
	return session_list(st, &f, rows, n, d);
}

/* A side as a summary: who, and whether they checked in. An erased side (person 0):
 * id, external_id and name null. */
static json_t *
side_summary_json(const struct session_side *s)
{
	return json_pack("{so ss? ss? sb}", "id",
			 s->person_id ? json_integer(s->person_id) : json_null(), "external_id",
			 s->external_id, "name", s->name, "checked_in", s->checked_in);
}

/* A side with its check-in (outcome, rating as the row's viewer may see it, notes, ...). */
static json_t *
side_json(const struct session_side *s)
{
	json_t *o = side_summary_json(s);
	if (o == NULL || !s->checked_in)
		return o;
	json_object_set_new(o, "outcome",
			    json_string(s->outcome == SESSION_OUTCOME_HELD ? "held" : "missed"));
	json_object_set_new(o, "rating", s->rating ? json_integer(s->rating) : json_null());
	json_object_set_new(o, "rating_hidden", json_boolean(s->rating_hidden));
	json_object_set_new(o, "notes", s->notes ? json_string(s->notes) : json_null());
	json_object_set_new(o, "share_story", json_boolean(s->share_story));
	json_object_set_new(o, "checked_in_at",
			    s->checked_in_at ? json_string(s->checked_in_at) : json_null());
	json_error_t err;
	json_t *skills = s->skills_json ? json_loads(s->skills_json, 0, &err) : NULL;
	json_object_set_new(o, "skills", skills ? skills : json_array());
	return o;
}

/* The start in UTC (ISO 8601) and in the row's zone ("YYYY-MM-DDTHH:MM"); "" when not
 * known. */
static void
row_times(const struct session_row *r, char start[STORE_TIME_MAX], char local[64])
{
	local[0] = '\0';
	if (store_format_time(r->start, start) != 0)
		start[0] = '\0';
	struct tm tm;
	if (tz_utc_to_local(r->zone, r->start, &tm, NULL) == 0)
		snprintf(local, 64, "%04d-%02d-%02dT%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min);
}

json_t *
session_row_summary_json(const struct session_row *r)
{
	char start[STORE_TIME_MAX], local[64];
	row_times(r, start, local);
	return json_pack("{sI sI ss? ss ss ss? si ss ss? so so}", "id", (json_int_t)r->id,
			 "match", (json_int_t)r->match_id, "program", r->program, "start", start,
			 "local", local, "zone", r->zone, "duration_min", r->duration_min, "status",
			 session_status_name(r->status), "topic", r->topic, "mentor",
			 side_summary_json(&r->mentor), "mentee", side_summary_json(&r->mentee));
}

json_t *
session_row_json(const struct session_row *r)
{
	char start[STORE_TIME_MAX], local[64];
	row_times(r, start, local);
	json_error_t err;
	json_t *agenda = r->agenda_json ? json_loads(r->agenda_json, 0, &err) : NULL;
	json_t *o = json_pack(
	    "{sI sI ss? ss ss ss? si ss ss? ss? ss? so si sb}", "id", (json_int_t)r->id, "match",
	    (json_int_t)r->match_id, "program", r->program, "start", start, "local", local, "zone",
	    r->zone, "duration_min", r->duration_min, "status", session_status_name(r->status),
	    "status_reason", r->status_reason, "planned_by", r->planned_by, "topic", r->topic,
	    "agenda", agenda ? agenda : json_array(), "sequence", r->sequence, "ratings_revealed",
	    r->revealed);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "rescheduled_to",
			    r->rescheduled_to ? json_integer(r->rescheduled_to) : json_null());
	json_object_set_new(o, "rescheduled_from",
			    r->rescheduled_from ? json_integer(r->rescheduled_from) : json_null());
	const char *by = r->cancelled_by == 0			   ? NULL
			 : r->cancelled_by == r->mentor.person_id ? r->mentor.external_id
								   : r->mentee.external_id;
	json_object_set_new(o, "cancelled_by", by ? json_string(by) : json_null());
	json_object_set_new(o, "mentor", side_json(&r->mentor));
	json_object_set_new(o, "mentee", side_json(&r->mentee));
	return o;
}

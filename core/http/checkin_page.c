/*
 * http/checkin_page: GET and POST /c/TOKEN (see checkin_page.h). The token is checked
 * first (sched/links.h), then the session is read as an organizer sees it, then the page
 * is written: one struct buf of escaped HTML per answer.
 */
#include "http/checkin_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "http/html.h"
#include "program/config.h"
#include "sched/links.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"

static const char *const page_days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					 "Thursday", "Friday", "Saturday"};
static const char *const page_months[12] = {"January", "February", "March",     "April",
					    "May",     "June",     "July",      "August",
					    "September", "October", "November", "December"};

int
checkin_page_path(const char *path)
{
	return strncmp(path, "/c/", 3) == 0;
}

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	"<meta name=\"robots\" content=\"noindex\"><title>";
static const char page_style[] =
	"</title><style>body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;"
	"padding:0 1em;line-height:1.5;color:#222}h1{font-size:1.4em}fieldset{border:1px solid "
	"#ccc;margin:1em 0}label{display:block;margin:.4em 0}textarea{width:100%;min-height:6em}"
	"button{font-size:1em;padding:.4em 1.2em}.note{color:#555}</style></head><body><main>\n";

/* The answer: status, the page built in b (taken), the safety headers. */
static void
page_send(struct http_response *resp, int status, struct buf *b)
{
	http_response_fini(resp);
	if (buf_puts(b, "</main></body></html>\n", NULL) != 0) {
		buf_fini(b);
		resp->status = 500;
		return;
	}
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body_len = b->len;
	resp->body = buf_release(b);
	http_response_header(resp, "Cache-Control", "no-store");
	/* same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with
	 * the page's own form post, which origin_ok must refuse (a sandboxed frame sends it too). */
	http_response_header(resp, "Referrer-Policy", "same-origin");
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_response_header(resp, "Content-Security-Policy",
			     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
			     "frame-ancestors 'none'; base-uri 'none'");
}

static int
page_start(struct buf *b, const char *title)
{
	buf_init(b);
	return buf_puts(b, page_head, NULL) || html_put(b, title) || buf_puts(b, page_style, NULL) ||
	       buf_puts(b, "<h1>", NULL) || html_put(b, title) || buf_puts(b, "</h1>\n", NULL);
}

/* A page of one title and one paragraph (both escaped). */
static void
page_message(struct http_response *resp, int status, const char *title, const char *text)
{
	struct buf b;
	if (page_start(&b, title) || buf_puts(&b, "<p>", NULL) || html_put(&b, text) ||
	    buf_puts(&b, "</p>\n", NULL)) {
		buf_fini(&b);
		resp->status = 500;
		return;
	}
	page_send(resp, status, &b);
}

/* "Monday 23 November 2026, 10:00-11:00 (Europe/Paris)" */
static int
put_when(struct buf *b, const char *zone, time_t start, int minutes)
{
	struct tm a, z;
	struct diag d;
	if (tz_utc_to_local(zone, start, &a, &d) != 0 ||
	    tz_utc_to_local(zone, start + 60 * (time_t)minutes, &z, &d) != 0)
		return -1;
	char text[160];
	snprintf(text, sizeof(text), "%s %d %s %d, %02d:%02d-%02d:%02d (%s)", page_days[a.tm_wday],
		 a.tm_mday, page_months[a.tm_mon], a.tm_year + 1900, a.tm_hour, a.tm_min, z.tm_hour,
		 z.tm_min, zone);
	return html_put(b, text);
}

/* "6 December 2026" of an ISO UTC time, in zone (the ISO date itself when unreadable). */
static void
day_of(const char *iso, const char *zone, char out[64])
{
	struct tm tm = {0}, local;
	struct diag d;
	snprintf(out, 64, "%.10s", iso != NULL ? iso : "?");
	if (iso == NULL || sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (tz_utc_to_local(zone, timegm(&tm), &local, &d) == 0)
		snprintf(out, 64, "%d %s %d", local.tm_mday, page_months[local.tm_mon],
			 local.tm_year + 1900);
}

/* The session's heading lines: program, who, when, topic. */
static int
put_session(struct buf *b, const struct session_row *r, const struct session_side *me,
	    const struct session_side *other, enum links_side side)
{
	return buf_puts(b, "<p>", NULL) || html_put(b, r->program) ||
	       buf_puts(b, ": your session as ", NULL) || buf_puts(b, links_side_name(side), NULL) ||
	       buf_puts(b, ", ", NULL) || html_put(b, me->name) || buf_puts(b, ", with ", NULL) ||
	       html_put(b, other->name) || buf_puts(b, ".</p>\n<p><strong>When:</strong> ", NULL) ||
	       put_when(b, r->zone, r->start, r->duration_min) || buf_puts(b, "</p>\n", NULL) ||
	       (r->topic != NULL && (buf_puts(b, "<p><strong>Topic:</strong> ", NULL) ||
				     html_put(b, r->topic) || buf_puts(b, "</p>\n", NULL)));
}

static const char page_form[] =
	"<form method=\"post\">\n"
	"<fieldset><legend>Did the session take place?</legend>\n"
	"<label><input type=\"radio\" name=\"outcome\" value=\"held\" required> Yes, we met</label>\n"
	"<label><input type=\"radio\" name=\"outcome\" value=\"missed\"> No, it did not "
	"happen</label>\n</fieldset>\n"
	"<label>How useful was it? <select name=\"rating\"><option value=\"\">no rating</option>"
	"<option value=\"1\">1 (not useful)</option><option value=\"2\">2</option>"
	"<option value=\"3\">3</option><option value=\"4\">4</option>"
	"<option value=\"5\">5 (very useful)</option></select></label>\n"
	"<label>Notes (only you see them until your partner has rated too)<br>"
	"<textarea name=\"notes\" maxlength=\"2000\"></textarea></label>\n"
	"<label><input type=\"checkbox\" name=\"share_story\" value=\"yes\"> The program may share "
	"our story (first name and role only)</label>\n"
	"<p><button type=\"submit\">Record</button></p>\n</form>\n"
	"<p class=\"note\">This link is yours: it records your side once.</p>\n";

/* ---- the token and the session -------------------------------------------------------- */

struct visit {
	struct links_token tok;
	struct session_row *row;
	const struct session_side *me, *other;
};

/* Checks the token and reads the session; 0, or -1 with the answer in resp. */
static int
visit_open(struct store *st, const char *token, struct visit *v, struct http_response *resp)
{
	memset(v, 0, sizeof(*v));
	unsigned char key[LINKS_KEY_LEN];
	struct diag d;
	diag_clear(&d);
	int have = links_key(st, 0, key, &d);
	if (have < 0) {
		tlog(TLOG_ERROR, "http: check-in page: %s", d.msg);
		page_message(resp, 500, "Something went wrong",
			     "The server could not read its keys. Please try again later.");
		return -1;
	}
	if (!have) /* no link was ever made: only the shape of the text can still be judged */
		memset(key, 0, sizeof(key));
	enum links_verdict verdict = links_decode(key, token, store_time(st), &v->tok);
	if (!have && verdict != LINKS_MALFORMED)
		verdict = LINKS_FORGED;
	memset(key, 0, sizeof(key));
	if (verdict == LINKS_MALFORMED) {
		page_message(resp, 400, "This link is incomplete",
			     "The address is not a whole check-in link. Copy the entire link from "
			     "your reminder into the address bar.");
		return -1;
	}
	if (verdict == LINKS_FORGED) {
		page_message(resp, 403, "This link is not valid",
			     "This check-in link was altered or was not issued by this program. "
			     "Use the link from your reminder as it is.");
		return -1;
	}
	if (verdict == LINKS_EXPIRED) {
		char text[256], day[64], iso[STORE_TIME_MAX];
		store_format_time(v->tok.expires, iso);
		day_of(iso, "UTC", day);
		snprintf(text, sizeof(text),
			 "This check-in link expired on %s (UTC). Your program's organizer can "
			 "still record the session.",
			 day);
		page_message(resp, 410, "This link has expired", text);
		return -1;
	}
	if (session_get(st, v->tok.session_id, 0, &v->row, &d) != 0) {
		if (d.code == DIAG_NOTFOUND) {
			page_message(resp, 404, "Session not found",
				     "The session this link was made for no longer exists.");
		} else {
			tlog(TLOG_ERROR, "http: check-in page: %s", d.msg);
			page_message(resp, 500, "Something went wrong", "Please try again later.");
		}
		return -1;
	}
	int mentee = v->tok.side == LINKS_MENTEE;
	v->me = mentee ? &v->row->mentee : &v->row->mentor;
	v->other = mentee ? &v->row->mentor : &v->row->mentee;
	return 0;
}

static void
visit_close(struct visit *v)
{
	if (v->row != NULL)
		session_rows_free(v->row, 1);
	v->row = NULL;
}

/* The page for a side that has checked in, or a session that is over: 1 when sent. */
static int
page_closed(const struct visit *v, int status, struct http_response *resp)
{
	const char *why = NULL;
	char text[256], day[64];
	if (v->me->checked_in) {
		day_of(v->me->checked_in_at, v->row->zone, day);
		snprintf(text, sizeof(text), "Already recorded on %s: %s. Thank you!", day,
			 v->me->outcome == SESSION_OUTCOME_HELD ? "the session was held"
								: "the session did not happen");
		why = text;
	} else if (v->row->status == SESSION_CANCELLED) {
		why = "This session was cancelled: there is nothing to record.";
	} else if (v->row->status == SESSION_RESCHEDULED) {
		why = "This session was moved to another time: use the link of the new session's "
		      "reminder.";
	}
	if (why == NULL)
		return 0;
	struct buf b;
	if (page_start(&b, "Session check-in") ||
	    put_session(&b, v->row, v->me, v->other, v->tok.side) || buf_puts(&b, "<p>", NULL) ||
	    html_put(&b, why) || buf_puts(&b, "</p>\n", NULL)) {
		buf_fini(&b);
		resp->status = 500;
		return 1;
	}
	page_send(resp, status, &b);
	return 1;
}

static void
page_get(struct store *st, const char *token, struct http_response *resp)
{
	struct visit v;
	if (visit_open(st, token, &v, resp) != 0)
		return;
	if (!page_closed(&v, 200, resp)) {
		struct buf b;
		if (page_start(&b, "Session check-in") ||
		    put_session(&b, v.row, v.me, v.other, v.tok.side) ||
		    buf_puts(&b, page_form, NULL)) {
			buf_fini(&b);
			resp->status = 500;
		} else {
			page_send(resp, 200, &b);
		}
	}
	visit_close(&v);
}

/* ---- the form ------------------------------------------------------------------------- */

struct form {
	char outcome[16], rating[8];
	char notes[CHECKIN_NOTES_MAX + 1];
	int share, seen_outcome, seen_rating, seen_notes;
};

/* Parses an urlencoded body; 0, or -1 and the reason in why. */
static int
form_parse(const char *body, size_t len, struct form *f, const char **why)
{
	memset(f, 0, sizeof(*f));
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));
		const char *name_end = eq != NULL ? eq : pair_end;
		const char *val = eq != NULL ? eq + 1 : pair_end;
		size_t nlen = (size_t)(name_end - p), vlen = (size_t)(pair_end - val);
		char *dst = NULL;
		size_t cap = 0;
		int *seen = NULL;
		if (nlen == 7 && memcmp(p, "outcome", 7) == 0) {
			dst = f->outcome, cap = sizeof(f->outcome), seen = &f->seen_outcome;
		} else if (nlen == 6 && memcmp(p, "rating", 6) == 0) {
			dst = f->rating, cap = sizeof(f->rating), seen = &f->seen_rating;
		} else if (nlen == 5 && memcmp(p, "notes", 5) == 0) {
			dst = f->notes, cap = sizeof(f->notes), seen = &f->seen_notes;
		} else if (nlen == 11 && memcmp(p, "share_story", 11) == 0) {
			f->share = 1;
		}
		if (dst != NULL) {
			if (*seen) {
				*why = "a field of the form was sent twice";
				return -1;
			}
			*seen = 1;
			if (html_form_value(val, vlen, dst, cap) != 0) {
				*why = dst == f->notes ? "the notes are too long (at most 2000 bytes) or "
							 "badly encoded"
						       : "a field of the form is badly encoded";
				return -1;
			}
		}
		p = pair_end + (amp != NULL);
	}
	return 0;
}

static void
page_post(struct store *st, const struct config *cfg, const char *token,
	  const struct http_request *req, struct http_response *resp)
{
	if (!html_origin_ok(req, cfg != NULL ? cfg->public_url : NULL)) {
		page_message(resp, 403, "Not accepted",
			     "This form was sent from another site. Open the link from your "
			     "reminder and send the form from there.");
		return;
	}
	if (req->body_len > CHECKIN_FORM_MAX) {
		page_message(resp, 413, "Too long", "The form is too long (notes: at most 2000 "
						    "characters).");
		return;
	}
	if (!html_is_form_type(http_header(req, "Content-Type"))) {
		page_message(resp, 415, "Not a form",
			     "Send the form of the check-in page (application/"
			     "x-www-form-urlencoded).");
		return;
	}
	struct form f;
	const char *why = NULL;
	if (form_parse(req->body, req->body_len, &f, &why) != 0) {
		page_message(resp, 400, "The form could not be read", why);
		return;
	}
	struct visit v;
	if (visit_open(st, token, &v, resp) != 0)
		return;
	if (page_closed(&v, 409, resp)) {
		visit_close(&v);
		return;
	}
	struct session_checkin ci = {.session_id = v.row->id, .person_id = v.me->person_id,
				     .notes = f.notes[0] != '\0' ? f.notes : NULL,
				     .share_story = f.share,
				     .actor = v.tok.side == LINKS_MENTEE ? "link:mentee" : "link:mentor"};
	int bad = 0;
	if (strcmp(f.outcome, "held") == 0)
		ci.outcome = SESSION_OUTCOME_HELD;
	else if (strcmp(f.outcome, "missed") == 0)
		ci.outcome = SESSION_OUTCOME_MISSED;
	else
		bad = 1;
	if (f.rating[0] != '\0') {
		if (f.rating[1] != '\0' || f.rating[0] < '1' || f.rating[0] > '5')
			bad = 1;
		else
			ci.rating = f.rating[0] - '0';
	}
	if (bad) {
		visit_close(&v);
		page_message(resp, 422, "Please check the form",
			     "Say whether the session took place; a rating is a number from 1 to 5.");
		return;
	}
	struct diag d;
	diag_clear(&d);
	int changed = 0;
	if (session_checkin(st, &ci, &changed, &d) != 0) {
		visit_close(&v);
		if (d.code == DIAG_INVALID || d.code == DIAG_CONFLICT) {
			page_message(resp, d.code == DIAG_INVALID ? 422 : 409, "Not recorded", d.msg);
		} else {
			tlog(TLOG_ERROR, "http: check-in page: %s", d.msg);
			page_message(resp, 500, "Something went wrong",
				     "Nothing was recorded. Please try again later.");
		}
		return;
	}
	struct buf b;
	if (page_start(&b, "Thank you") || put_session(&b, v.row, v.me, v.other, v.tok.side) ||
	    buf_puts(&b,
		     ci.outcome == SESSION_OUTCOME_HELD
			 ? "<p>Recorded: the session was held.</p>\n"
			 : "<p>Recorded: the session did not happen.</p>\n",
		     NULL)) {
		buf_fini(&b);
		resp->status = 500;
	} else {
		page_send(resp, 200, &b);
	}
	visit_close(&v);
}

void
checkin_page_handle(struct store *st, const struct config *cfg, const struct http_request *req,
		    struct http_response *resp)
{
	const char *token = req->path + 3;
	if (token[0] == '\0' || strchr(token, '/') != NULL) {
		page_message(resp, 404, "Not found", "There is no page here.");
		return;
	}
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
		page_get(st, token, resp);
	} else if (strcmp(req->method, "POST") == 0) {
		page_post(st, cfg, token, req, resp);
	} else {
		page_message(resp, 405, "Not allowed", "This page answers GET and POST only.");
		http_response_header(resp, "Allow", "GET, HEAD, POST");
	}
}

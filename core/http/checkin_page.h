/*
 * http/checkin_page: the participants' check-in page, GET and POST /c/TOKEN, served by
 * `tandem serve --http` beside the JSON API: small server-rendered HTML, no JavaScript,
 * no account. The token (sched/links.h) is the capability: it names one side of one
 * session, is signed with the workspace's link key and expires.
 *
 * For: http/api.c, which hands it every request whose path starts with "/c/" before
 * the API's routes, tokens, content-type rule and cache (none of which apply here).
 *
 * Contract:
 *  - GET (and HEAD) /c/TOKEN: 200 and a page naming the program, both sides, when (in
 *    the pair's zone, the zone named), the topic, and a form: held/missed, rating 1-5
 *    (optional), notes, consent to share the story. When this side has checked in
 *    already (by any means): 200 and "already recorded on DATE", no form. A cancelled or
 *    moved session: 200, the reason, no form.
 *  - POST /c/TOKEN, application/x-www-form-urlencoded, at most CHECKIN_FORM_MAX bytes
 *    (413 beyond, 415 for another type; 400 for a body that is not a well-formed form):
 *    fields outcome (held|missed), rating (empty or 1..5), notes (at most
 *    CHECKIN_NOTES_MAX bytes), share_story (present: yes). It records the check-in with
 *    session_checkin (the CLI's function) for this side's person, actor "link:mentor" or
 *    "link:mentee". 200 "recorded"; this side already checked in: 409 "already recorded
 *    on DATE", nothing changed; a refusal of the session's rules (before the start, a
 *    rating with missed, ...): 422 or 409 with the message, nothing changed.
 *  - Cross-site posting: the token is the capability (a form on another site cannot
 *    know it); in addition a POST whose Origin header is present must come from the
 *    public URL's origin (tandem.lua public_url / --public-url) or from the Host it was
 *    sent to (http:// or https://), else 403; "Origin: null" is refused;
 *    Sec-Fetch-Site: cross-site is refused.
 *  - Bad tokens change nothing and get a page saying what is wrong: not a token (bad
 *    length, not base64url, unknown version): 400; a token this workspace did not make
 *    or that was altered (or no link key yet): 403; expired: 410 with the date; the
 *    session no longer exists: 404. Another method: 405 with Allow.
 *  - Every text from the database or the request is HTML-escaped. Pages are sent with
 *    Cache-Control: no-store, Referrer-Policy: same-origin (the token never leaks in a
 *    Referer to another site; no-referrer would make browsers send "Origin: null" with the
 *    page's own form post, refused above), a Content-Security-Policy that allows no script and no framing, and
 *    X-Content-Type-Options: nosniff. The token and the key are never logged.
 */
#ifndef TANDEM_HTTP_CHECKIN_PAGE_H
#define TANDEM_HTTP_CHECKIN_PAGE_H

#include "http/server.h"

struct store;
struct config;

enum { CHECKIN_FORM_MAX = 8192, CHECKIN_NOTES_MAX = 2000 };

/* 1 when the path is the check-in page's ("/c/..."). */
int checkin_page_path(const char *path);

/* Answers req (see the contract) on st; cfg (may be NULL) gives the public URL. */
void checkin_page_handle(struct store *st, const struct config *cfg,
			 const struct http_request *req, struct http_response *resp);

#endif

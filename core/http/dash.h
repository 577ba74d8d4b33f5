/*
 * http/dash: the program manager's dashboard served by `tandem serve --http` under `/`
 * beside the API: server-rendered HTML pages, sign-in with an API token exchanged for a
 * session cookie (http/dash_session.h), CSRF-protected forms for the actions, and the
 * static CSS and JavaScript files (docs/dashboard.md is the reference).
 *
 * For: http/api.c, which hands it every request whose path is not the API's (/api/,
 * /healthz) nor the check-in pages' (/c/), and asks it whether a request's cookie opens a
 * session (the API's reads accept it).
 *
 * Contract:
 *  - dash_new reads the static files once: from $TANDEM_DATADIR/dashboard, the installed
 *    share/tandem/dashboard, or the source tree's core/http/web/ (the first folder holding
 *    dashboard.css). Without them the pages still work, unstyled (a warning is logged).
 *  - dash_handle answers one request (see docs/dashboard.md): pages need a live session
 *    (else 303 to /signin?next=PATH); POSTs need the session's csrf field, a same-origin
 *    request (http/html.h's rule) and a manage or admin session (403 otherwise, nothing
 *    changed); actions run the domain functions the CLI runs, with the session's token
 *    name as actor.
 *  - A program's figures on the overview and program pages (metrics and health counts:
 *    over a second of CPU on a 10,000-participant program) are not computed per request:
 *    on the service's loop they are computed DASH_WARM_MS after the server starts, and
 *    again when a page found them older than a change of the database: DASH_REFRESH_MS
 *    later, but not before DASH_FIGURES_STALE_S after their last computation (each holds
 *    the loop for about a second on a 10,000-participant program). The page is answered
 *    with the kept figures, which say when they were computed; a page asking for a
 *    program with no figures yet computes them. Without a loop (unit tests), kept figures
 *    older than a change are recomputed after DASH_FIGURES_STALE_S.
 *  - Everything runs on the loop's thread, like the API's handlers.
 */
#ifndef TANDEM_HTTP_DASH_H
#define TANDEM_HTTP_DASH_H

#include "base/diag.h"
#include "http/server.h"

struct http_api;
struct dash;

enum {
	DASH_FIGURES_STALE_S = 60,
	DASH_WARM_MS = 100,
	DASH_REFRESH_MS = 200,
	DASH_STATIC_MAX = 256 * 1024,
};

struct dash *dash_new(struct http_api *api, struct diag *d);
/* Closes the dashboard's timer (before the loop ends); dash_delete does it too. */
void dash_stop(struct dash *d);
void dash_delete(struct dash *d);

/* 1 when the path is the dashboard's (anything but /api/..., /healthz and /c/...). */
int dash_path(const char *path);
void dash_handle(struct dash *d, const struct http_request *req, struct http_response *resp);

/* For the API's reads: 1 and the session's token name (copied, TOKENS_NAME_MAX + 1) and
 * scope when the request's cookie opens a live session; 0 otherwise; -1 store error. */
int dash_cookie_session(struct dash *d, const struct http_request *req, char *name,
			int *scope, struct diag *diag);

#endif

/*
 * http/dash_internal: what the dashboard's files share. dash.c holds the dispatch (its own
 * route table through http/router.h), sign-in and sign-out, the static files, the page
 * frame and the CSRF check; dash_overview.c the overview and program pages; dash_review.c
 * the match review, its actions and the policy comparison; dash_pages.c the calendar,
 * health, rewards, reports and events pages. Only these files include this header.
 *
 * A handler gets a struct http_call whose ud is the struct dash_req of the request: the API
 * (store, config, workspace), the signed-in session (who), and helpers below to write a
 * page in the shared frame. Every text is escaped with html_put (http/html.h).
 */
#ifndef TANDEM_HTTP_DASH_INTERNAL_H
#define TANDEM_HTTP_DASH_INTERNAL_H

#include <jansson.h>

#include "base/buf.h"
#include "http/api.h"
#include "http/dash.h"
#include "http/dash_session.h"
#include "http/html.h"

struct config_program;

struct dash_req {
	struct http_api *api;
	struct dash *dash;
	struct dash_who who;
};

static inline struct dash_req *
dash__req(struct http_call *c)
{
	return c->ud;
}
struct store *dash__store(struct http_call *c);
const struct config *dash__config(struct http_call *c);
const char *dash__ws(struct http_call *c);
/* 1 when the session may act (manage or admin): pages show their forms only then. */
int dash__can_act(struct http_call *c);

/* The page frame: head, skip link, header nav, <main id="main">, <h1>title</h1>. */
int dash__page_start(struct http_call *c, struct buf *b, const char *title);
/* Closes the frame and answers status with the page (takes b). */
void dash__page_send(struct http_call *c, struct buf *b, int status);
/* The end of a page built into b: sent with 200 when rc is 0, else b is dropped and a 500
 * page says it could not be built. */
void dash__page_finish(struct http_call *c, struct buf *b, int rc);
/* A page of a title and a message in <p id="error"> (escaped). */
void dash__error(struct http_call *c, int status, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error page for a failed domain call: 404/409/422/500 from d->code. */
void dash__error_diag(struct http_call *c, const struct diag *d);
/* 303 to location (a local path, not escaped: the caller builds it). */
void dash__redirect(struct http_call *c, const char *location);

/* <input type="hidden" name="csrf" value="..."> */
int dash__csrf_field(struct http_call *c, struct buf *b);
/* A one-button POST form to action with the csrf field and class cls (confirm: a text the
 * script asks before sending, or NULL). */
int dash__button(struct http_call *c, struct buf *b, const char *action, const char *label,
		 const char *cls, const char *confirm);
/* <time datetime="ISO">ISO as "YYYY-MM-DD HH:MM UTC"</time>; NULL: an em dash. */
int dash__time(struct buf *b, const char *iso);
/* A form field of the POST body (see html_form_get): 1, 0 absent, -1 malformed. */
int dash__field(struct http_call *c, const char *name, char *out, size_t cap);

/* The program named by path parameter 0 (404 page otherwise); id: its row id. */
const struct config_program *dash__program(struct http_call *c, int64_t *id);
/* The program's sub navigation (nav.subnav) with the current page marked. */
int dash__subnav(struct http_call *c, struct buf *b, const char *program, const char *current);

/* dash_overview.c */
void dash__get_overview(struct http_call *c);
void dash__get_program(struct http_call *c);
/* The figures of a program, computed now: a new {metrics, health (counts), computed_at},
 * or NULL and d. */
json_t *dash__figures_compute(struct http_api *api, const char *program, struct diag *d);

/* dash_review.c */
void dash__get_review(struct http_call *c);
void dash__post_match(struct http_call *c);
void dash__post_run_approve(struct http_call *c);
void dash__get_compare(struct http_call *c);

/* dash_pages.c */
void dash__get_sessions(struct http_call *c);
void dash__get_health(struct http_call *c);
void dash__post_pair(struct http_call *c);
void dash__get_rewards(struct http_call *c);
void dash__get_reports(struct http_call *c);
void dash__get_report_file(struct http_call *c);
void dash__get_events(struct http_call *c);

/* dash.c: the figures as kept (see dash.h): a new reference, or NULL and d. */
json_t *dash__figures(struct http_call *c, const char *program, struct diag *d);

#endif

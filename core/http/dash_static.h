/*
 * http/dash_static: the dashboard's two static files (dashboard.css, dashboard.js), read
 * once when the dashboard starts and answered from memory under /static/NAME.
 *
 * For: http/dash.c (which owns the array and serves /static/) and the unit tests.
 *
 * Contract:
 *  - dash_static_load looks, in order, in $TANDEM_DATADIR/dashboard, the installed
 *    share/tandem/dashboard and the source tree's core/http/web/ (a run from the build
 *    tree), and takes both files from the first folder holding dashboard.css. A file over
 *    DASH_STATIC_MAX or unreadable is left out with a warning in the log; none found: a
 *    warning, and the pages are served unstyled. Each file's version is the first 16 hex
 *    digits of its SHA-256 (the pages link "?v=VERSION"), its ETag the same, quoted.
 *  - dash_static_get answers one request for NAME: 200 with the body, its type, the ETag,
 *    "Cache-Control: public, max-age=31536000, immutable" and nosniff; 304 (no body) when
 *    If-None-Match names the ETag; 404 for any other name; 500 when out of memory.
 *  - dash_static_free frees the bodies (safe on a zeroed or freed array).
 */
#ifndef TANDEM_HTTP_DASH_STATIC_H
#define TANDEM_HTTP_DASH_STATIC_H

#include <stddef.h>

#include "http/router.h"
#include "http/server.h"

enum { DASH_STATIC_FILES = 2 };

struct dash_file {
	const char *name, *type;
	char *body;
	size_t len;
	char etag[HTTP_ETAG_MAX];
	char version[17]; /* the first 16 hex digits of the SHA-256 */
};

void dash_static_load(struct dash_file files[DASH_STATIC_FILES]);
void dash_static_get(const struct dash_file files[DASH_STATIC_FILES], const char *name,
		     const struct http_request *req, struct http_response *resp);
void dash_static_free(struct dash_file files[DASH_STATIC_FILES]);

#endif

/*
 * http/html: what the server's HTML pages share: escaping text into HTML, reading an
 * application/x-www-form-urlencoded body, and judging whether a form post came from this
 * server's own pages (the Origin / Referer / Sec-Fetch-Site rule).
 *
 * For: http/checkin_page.c (the participants' page) and the dashboard (http/dash*.c). No
 * I/O, no store.
 *
 * Contract:
 *  - html_put appends s with &, <, >, " and ' escaped (NULL appends nothing).
 *  - html_form_get finds field name in a form body (len bytes): 1 and its value decoded
 *    into out (cap bytes with the NUL; '+' is a space, %XX a byte); 0 when absent; -1
 *    when the field is badly encoded (a truncated or non-hex escape, %00), too long for
 *    out, or sent twice. A pair without '=' is a field with an empty value.
 *  - html_form_value decodes n bytes of one value the same way (0 or -1).
 *  - html_is_form_type: 1 for application/x-www-form-urlencoded (parameters allowed).
 *  - html_origin_ok: 1 when a POST may be taken: Sec-Fetch-Site is not cross-site, and the
 *    Origin header (or, without it, the Referer's origin), when present, is this server's:
 *    http:// or https:// and the Host it was sent to, or the origin of public_url (may be
 *    NULL). "Origin: null" is refused. With neither header: 1 (curl, older browsers).
 */
#ifndef TANDEM_HTTP_HTML_H
#define TANDEM_HTTP_HTML_H

#include <stddef.h>

#include "base/buf.h"
#include "http/server.h"

int html_put(struct buf *b, const char *s);

int html_form_value(const char *s, size_t n, char *out, size_t cap);
int html_form_get(const char *body, size_t len, const char *name, char *out, size_t cap);
int html_is_form_type(const char *content_type);

int html_origin_ok(const struct http_request *req, const char *public_url);

#endif

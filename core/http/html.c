/*
 * http/html: escaping, form bodies and the same-origin rule of the server's HTML pages
 * (see html.h).
 */
#include "http/html.h"

#include <string.h>
#include <strings.h>

int
html_put(struct buf *b, const char *s)
{
	int rc = 0;
	for (; rc == 0 && s != NULL && *s; s++) {
		switch (*s) {
		case '&': rc = buf_puts(b, "&amp;", NULL); break;
		case '<': rc = buf_puts(b, "&lt;", NULL); break;
		case '>': rc = buf_puts(b, "&gt;", NULL); break;
		case '"': rc = buf_puts(b, "&quot;", NULL); break;
		case '\'': rc = buf_puts(b, "&#39;", NULL); break;
		default: rc = buf_putc(b, *s, NULL);
		}
	}
	return rc;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int
html_form_value(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
html_form_get(const char *body, size_t len, const char *name, char *out, size_t cap)
{
	size_t want = strlen(name);
	int found = 0;
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));
		const char *name_end = eq != NULL ? eq : pair_end;
		const char *val = eq != NULL ? eq + 1 : pair_end;
		if ((size_t)(name_end - p) == want && memcmp(p, name, want) == 0) {
			if (found || html_form_value(val, (size_t)(pair_end - val), out, cap) != 0)
				return -1;
			found = 1;
		}
		p = pair_end + (amp != NULL);
	}
	return found;
}

int
html_is_form_type(const char *ct)
{
	static const char want[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(want) - 1;
	if (ct == NULL)
		return 0;
	ct += strspn(ct, " ");
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The origin part (scheme://host[:port]) of a URL: its length (0: not a URL). */
static size_t
origin_len(const char *url)
{
	const char *s = strstr(url, "://");
	if (s == NULL)
		return 0;
	return (size_t)(s + 3 - url) + strcspn(s + 3, "/?#");
}

/* 1 when the first n bytes of origin are this server's origin. */
static int
same_origin(const char *origin, size_t n, const struct http_request *req, const char *public_url)
{
	if (public_url != NULL) {
		size_t k = origin_len(public_url);
		if (k > 0 && k == n && strncasecmp(origin, public_url, n) == 0)
			return 1;
	}
	const char *host = http_header(req, "Host");
	if (host == NULL || host[0] == '\0')
		return 0;
	for (int i = 0; i < 2; i++) {
		const char *scheme = i ? "https://" : "http://";
		size_t sl = strlen(scheme);
		if (n == sl + strlen(host) && strncasecmp(origin, scheme, sl) == 0 &&
		    strncasecmp(origin + sl, host, n - sl) == 0)
			return 1;
	}
	return 0;
}

int
html_origin_ok(const struct http_request *req, const char *public_url)
{
	const char *site = http_header(req, "Sec-Fetch-Site");
	if (site != NULL && strcasecmp(site, "cross-site") == 0)
		return 0;
	const char *origin = http_header(req, "Origin");
	if (origin != NULL)
		return same_origin(origin, strlen(origin), req, public_url);
	const char *referer = http_header(req, "Referer");
	if (referer == NULL)
		return 1;
	size_t n = origin_len(referer);
	return n > 0 && same_origin(referer, n, req, public_url);
}

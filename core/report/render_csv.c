/*
 * report/render_csv: the tables of a report document as CSV blocks. See
 * render.h for the layout. Fields are quoted when they hold a comma, a quote,
 * a newline or leading/trailing spaces (RFC 4180), quotes doubled.
 *
 * A spreadsheet opening the file runs a field that starts with = + - @ (and,
 * in some, a TAB or CR before one) as a formula: a plugin's text must stay
 * text, so such a string gets a leading apostrophe inside a quoted field
 * ("'=1+1"), the OWASP advice every spreadsheet shows as the text itself. A
 * number stays a number: JSON numbers are never touched, nor are strings that
 * are a plain decimal number ("-3", "+2.5", "-1e3"), which no spreadsheet runs,
 * nor a lone "-" (the reports' mark for an undefined figure, docs/metrics.md).
 */
#include "report/render.h"

#include <ctype.h>
#include <string.h>

/* A plain decimal number: sign, digits, optional fraction and exponent, nothing else. */
static int
plain_number(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	int digits = 0;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* Would a spreadsheet read s as a formula? */
static int
formula_like(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL && strcmp(s, "-") != 0 &&
	       !plain_number(s);
}

static int
csv_field(struct buf *out, const char *s, int first, struct diag *d)
{
	if (!first && buf_putc(out, ',', d) != 0)
		return -1;
	size_t n = strlen(s);
	int guard = formula_like(s);
	int quote = guard || strpbrk(s, ",\"\r\n") != NULL ||
		    (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
	if (!quote)
		return buf_append(out, s, n, d);
	if (buf_putc(out, '"', d) != 0 || (guard && buf_putc(out, '\'', d) != 0))
		return -1;
	for (const char *p = s; *p; p++)
		if ((*p == '"' && buf_putc(out, '"', d) != 0) || buf_putc(out, *p, d) != 0)
			return -1;
	return buf_putc(out, '"', d);
}

static int
csv_record(struct buf *out, const json_t *cells, struct diag *d)
{
	char num[64];
	size_t i;
	json_t *c;
	json_array_foreach(cells, i, c) {
		if (csv_field(out, render_value_csv(c, num, sizeof(num)), i == 0, d) != 0)
			return -1;
	}
	return buf_puts(out, "\r\n", d);
}

int
render_csv(const json_t *doc, struct buf *out, struct diag *d)
{
	int blocks = 0;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		const json_t *t = json_object_get(s, "table");
		if (!json_is_object(t))
			continue;
		if (blocks++ > 0 && buf_puts(out, "\r\n", d) != 0)
			return -1;
		if (csv_field(out, render_str(s, "heading"), 1, d) != 0 || buf_puts(out, "\r\n", d) != 0 ||
		    csv_record(out, json_object_get(t, "columns"), d) != 0)
			return -1;
		size_t k;
		json_t *r;
		json_array_foreach(json_object_get(t, "rows"), k, r) {
			if (csv_record(out, r, d) != 0)
				return -1;
		}
	}
	return 0;
}

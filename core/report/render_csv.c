/*
 * report/render_csv: the tables of a report document as CSV blocks. See
 * render.h for the layout. Fields are quoted when they hold a comma, a quote,
 * a newline or leading/trailing spaces (RFC 4180), quotes doubled.
 */
#include "report/render.h"

#include <string.h>

static int
csv_field(struct buf *out, const char *s, int first, struct diag *d)
{
	if (!first && buf_putc(out, ',', d) != 0)
		return -1;
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") != NULL || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
	if (!quote)
		return buf_append(out, s, n, d);
	if (buf_putc(out, '"', d) != 0)
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

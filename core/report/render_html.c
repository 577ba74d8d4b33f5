/*
 * report/render_html: a report document as one self-contained HTML page. See
 * render.h.
 *
 * The page carries its CSS inline and its charts as inline SVG (report/svg),
 * each followed by its data as a table inside <details>, so the numbers stay
 * readable without the picture (and by screen readers, with the SVG's
 * <title>/<desc>). No script and no external URL: the page can be mailed or
 * archived as it is. Every string of the document is escaped.
 */
#include "report/render.h"

#include <string.h>

#include "report/svg.h"

static const char css[] =
	":root{--ink:#1d2329;--muted:#5f6b73;--rule:#d8dde2;--band:#f4f6f8;--accent:#1b6ca8}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:var(--ink);background:#fff}\n"
	"main{max-width:900px;margin:0 auto;padding:32px 24px 48px}\n"
	"header{border-bottom:3px solid var(--accent);margin-bottom:24px}\n"
	"h1{font-size:28px;margin:0 0 4px}\n"
	".subtitle{color:var(--muted);margin:0 0 12px}\n"
	"h2{font-size:20px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--rule)}\n"
	"table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:14px}\n"
	"th,td{padding:6px 10px;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}\n"
	"th{background:var(--band);font-weight:600}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.empty{color:var(--muted);font-style:italic}\n"
	"figure{margin:12px 0 20px}\n"
	"svg.chart{width:100%;height:auto;display:block}\n"
	"svg .grid{stroke:var(--rule);stroke-width:1}\n"
	"svg .zero{stroke:var(--ink);stroke-width:1.2}\n"
	"svg text{font:12px system-ui,sans-serif;fill:var(--ink)}\n"
	"svg text.title{font-size:15px;font-weight:600}\n"
	"svg text.tick{fill:var(--muted)}\n"
	"svg text.axis{font-size:12px;fill:var(--muted)}\n"
	"details{font-size:13px;color:var(--muted)}\n"
	"footer{margin-top:40px;color:var(--muted);font-size:12px}\n"
	"@media print{main{padding:0}details{display:none}}\n";

/* Paragraphs at blank lines, <br> at single newlines. */
static int
paragraphs(struct buf *out, const char *text, struct diag *d)
{
	const char *p = text;
	while (*p) {
		while (*p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		const char *end = strstr(p, "\n\n");
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (buf_puts(out, "<p>", d) != 0)
			return -1;
		const char *line = p;
		while (line < p + n) {
			const char *nl = memchr(line, '\n', (size_t)(p + n - line));
			size_t len = nl != NULL ? (size_t)(nl - line) : (size_t)(p + n - line);
			char tmp[4096];
			/* Escape the line in pieces (a line may be long). */
			for (size_t off = 0; off < len;) {
				size_t k = len - off < sizeof(tmp) - 1 ? len - off : sizeof(tmp) - 1;
				memcpy(tmp, line + off, k);
				tmp[k] = '\0';
				if (render_html_escape(out, tmp, d) != 0)
					return -1;
				off += k;
			}
			if (nl == NULL)
				break;
			line = nl + 1;
			if (line < p + n && buf_puts(out, "<br>", d) != 0)
				return -1;
		}
		if (buf_puts(out, "</p>\n", d) != 0)
			return -1;
		p += n;
	}
	return 0;
}

static int
cell(struct buf *out, const json_t *v, struct diag *d)
{
	char num[64];
	if (buf_puts(out, json_is_number(v) ? "<td class=\"num\">" : "<td>", d) != 0 ||
	    render_html_escape(out, render_value(v, num, sizeof(num)), d) != 0)
		return -1;
	return buf_puts(out, "</td>", d);
}

static int
head_row(struct buf *out, const json_t *names, const char *first, struct diag *d)
{
	if (buf_puts(out, "<thead><tr>", d) != 0)
		return -1;
	if (first != NULL && (buf_puts(out, "<th scope=\"col\">", d) != 0 ||
			      render_html_escape(out, first, d) != 0 || buf_puts(out, "</th>", d) != 0))
		return -1;
	size_t i;
	json_t *c;
	json_array_foreach(names, i, c) {
		const char *s = json_is_string(c) ? json_string_value(c)
						  : render_str(c, "name"); /* a series */
		if (buf_puts(out, "<th scope=\"col\">", d) != 0 || render_html_escape(out, s, d) != 0 ||
		    buf_puts(out, "</th>", d) != 0)
			return -1;
	}
	return buf_puts(out, "</tr></thead>\n", d);
}

static int
table(struct buf *out, const json_t *t, struct diag *d)
{
	const json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
	if (buf_puts(out, "<table>\n", d) != 0 || head_row(out, cols, NULL, d) != 0 ||
	    buf_puts(out, "<tbody>\n", d) != 0)
		return -1;
	size_t i, k;
	json_t *r, *c;
	json_array_foreach(rows, i, r) {
		if (buf_puts(out, "<tr>", d) != 0)
			return -1;
		json_array_foreach(r, k, c) {
			if (cell(out, c, d) != 0)
				return -1;
		}
		if (buf_puts(out, "</tr>\n", d) != 0)
			return -1;
	}
	if (json_array_size(rows) == 0 &&
	    buf_printf(out, d, "<tr><td class=\"empty\" colspan=\"%zu\">No rows.</td></tr>\n",
		       json_array_size(cols) ? json_array_size(cols) : 1) != 0)
		return -1;
	return buf_puts(out, "</tbody>\n</table>\n", d);
}

/* The chart, then its data table in <details>. */
static int
chart(struct buf *out, const json_t *c, int id, struct diag *d)
{
	const json_t *labels = json_object_get(c, "labels"), *series = json_object_get(c, "series");
	const char *xl = render_str(c, "x_label");
	if (buf_puts(out, "<figure>\n", d) != 0 || svg_chart(c, id, out, d) != 0 ||
	    buf_puts(out, "<details><summary>Data: ", d) != 0 ||
	    render_html_escape(out, render_str(c, "title"), d) != 0 ||
	    buf_puts(out, "</summary>\n<table>\n", d) != 0 ||
	    head_row(out, series, xl[0] ? xl : "label", d) != 0 || buf_puts(out, "<tbody>\n", d) != 0)
		return -1;
	size_t i, k;
	json_t *l, *s;
	json_array_foreach(labels, i, l) {
		if (buf_puts(out, "<tr><td>", d) != 0 || render_html_escape(out, json_string_value(l) ? json_string_value(l) : "", d) != 0 ||
		    buf_puts(out, "</td>", d) != 0)
			return -1;
		json_array_foreach(series, k, s) {
			if (cell(out, json_array_get(json_object_get(s, "values"), i), d) != 0)
				return -1;
		}
		if (buf_puts(out, "</tr>\n", d) != 0)
			return -1;
	}
	return buf_puts(out, "</tbody>\n</table>\n</details>\n</figure>\n", d);
}

int
render_html(const json_t *doc, struct buf *out, struct diag *d)
{
	const char *title = render_str(doc, "title"), *sub = render_str(doc, "subtitle");
	if (buf_puts(out,
		     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<title>",
		     d) != 0 ||
	    render_html_escape(out, title, d) != 0 || buf_puts(out, "</title>\n<style>\n", d) != 0 ||
	    buf_puts(out, css, d) != 0 ||
	    buf_puts(out, "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", d) != 0 ||
	    render_html_escape(out, title, d) != 0 || buf_puts(out, "</h1>\n", d) != 0)
		return -1;
	if (sub[0] && (buf_puts(out, "<p class=\"subtitle\">", d) != 0 ||
		       render_html_escape(out, sub, d) != 0 || buf_puts(out, "</p>\n", d) != 0))
		return -1;
	if (buf_puts(out, "</header>\n", d) != 0)
		return -1;
	size_t i;
	json_t *s;
	int charts = 0;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		if (buf_puts(out, "<section>\n<h2>", d) != 0 ||
		    render_html_escape(out, render_str(s, "heading"), d) != 0 ||
		    buf_puts(out, "</h2>\n", d) != 0)
			return -1;
		if (paragraphs(out, render_str(s, "text"), d) != 0)
			return -1;
		const json_t *t = json_object_get(s, "table"), *c = json_object_get(s, "chart");
		if (json_is_object(t) && table(out, t, d) != 0)
			return -1;
		if (json_is_object(c) && chart(out, c, ++charts, d) != 0)
			return -1;
		if (buf_puts(out, "</section>\n", d) != 0)
			return -1;
	}
	return buf_puts(out, "<footer>Made by tandem from the program's own records.</footer>\n"
			     "</main>\n</body>\n</html>\n",
			d);
}

/*
 * report/render_md: a report document as Markdown. See render.h.
 *
 * Text is escaped so that none of it is read as markup: the characters of
 * inline markup (emphasis, code, links, HTML, tables, entities) get a
 * backslash anywhere, those of block markup (#, +, -, =) at a line's start; in
 * table cells a newline becomes a space as well (a cell is one line).
 */
#include "report/render.h"

#include <string.h>

/* Appends s escaped; in_cell folds newlines into spaces. */
static int
md_escape(struct buf *out, const char *s, int in_cell, struct diag *d)
{
	int line_start = 1;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (in_cell && (c == '\n' || c == '\r'))
			c = ' ';
		/* Inline markup anywhere; block markup (headings, lists, quotes) at a line's start. */
		int esc = strchr("\\`*_[]<>|~&!", c) != NULL || (line_start && strchr("#+-=", c) != NULL);
		if (esc && buf_putc(out, '\\', d) != 0)
			return -1;
		if (buf_putc(out, c, d) != 0)
			return -1;
		line_start = c == '\n' || (line_start && c == ' ');
	}
	return 0;
}

static int
md_text(struct buf *out, const char *text, struct diag *d)
{
	/* Paragraphs stay paragraphs: a blank line in the text is one in the output. */
	if (md_escape(out, text, 0, d) != 0)
		return -1;
	return buf_puts(out, "\n\n", d);
}

static int
md_row(struct buf *out, const json_t *cells, struct diag *d)
{
	char num[64];
	size_t i;
	json_t *c;
	if (buf_puts(out, "|", d) != 0)
		return -1;
	json_array_foreach(cells, i, c) {
		if (buf_putc(out, ' ', d) != 0 || md_escape(out, render_value(c, num, sizeof(num)), 1, d) != 0 ||
		    buf_puts(out, " |", d) != 0)
			return -1;
	}
	return buf_putc(out, '\n', d);
}

static int
md_rule(struct buf *out, size_t n, struct diag *d)
{
	if (buf_puts(out, "|", d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (buf_puts(out, " --- |", d) != 0)
			return -1;
	return buf_putc(out, '\n', d);
}

static int
md_table(struct buf *out, const json_t *t, struct diag *d)
{
	const json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
	if (json_array_size(cols) == 0)
		return 0;
	if (md_row(out, cols, d) != 0 || md_rule(out, json_array_size(cols), d) != 0)
		return -1;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		if (md_row(out, r, d) != 0)
			return -1;
	}
	if (json_array_size(rows) == 0 && buf_puts(out, "\n*(no rows)*\n", d) != 0)
		return -1;
	return buf_putc(out, '\n', d);
}

/* A chart's data as a table: one row per label, one column per series. */
static int
md_chart(struct buf *out, const json_t *c, struct diag *d)
{
	const json_t *labels = json_object_get(c, "labels"), *series = json_object_get(c, "series");
	if (buf_puts(out, "**Chart: ", d) != 0 || md_escape(out, render_str(c, "title"), 1, d) != 0 ||
	    buf_puts(out, "**\n\n| ", d) != 0 ||
	    md_escape(out, render_str(c, "x_label")[0] ? render_str(c, "x_label") : "label", 1, d) != 0 ||
	    buf_puts(out, " |", d) != 0)
		return -1;
	size_t k, i;
	json_t *s, *l;
	json_array_foreach(series, k, s) {
		if (buf_putc(out, ' ', d) != 0 || md_escape(out, render_str(s, "name"), 1, d) != 0 ||
		    buf_puts(out, " |", d) != 0)
			return -1;
	}
	if (buf_putc(out, '\n', d) != 0 || md_rule(out, json_array_size(series) + 1, d) != 0)
		return -1;
	char num[64];
	json_array_foreach(labels, i, l) {
		if (buf_puts(out, "| ", d) != 0 ||
		    md_escape(out, render_value(l, num, sizeof(num)), 1, d) != 0 || buf_puts(out, " |", d) != 0)
			return -1;
		json_array_foreach(series, k, s) {
			const json_t *v = json_array_get(json_object_get(s, "values"), i);
			if (buf_printf(out, d, " %s |", render_value(v, num, sizeof(num))) != 0)
				return -1;
		}
		if (buf_putc(out, '\n', d) != 0)
			return -1;
	}
	return buf_putc(out, '\n', d);
}

int
render_md(const json_t *doc, struct buf *out, struct diag *d)
{
	if (buf_puts(out, "# ", d) != 0 || md_escape(out, render_str(doc, "title"), 1, d) != 0 ||
	    buf_puts(out, "\n\n", d) != 0)
		return -1;
	if (render_str(doc, "subtitle")[0] &&
	    (buf_putc(out, '*', d) != 0 || md_escape(out, render_str(doc, "subtitle"), 1, d) != 0 ||
	     buf_puts(out, "*\n\n", d) != 0))
		return -1;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		if (buf_puts(out, "## ", d) != 0 || md_escape(out, render_str(s, "heading"), 1, d) != 0 ||
		    buf_puts(out, "\n\n", d) != 0)
			return -1;
		if (render_str(s, "text")[0] && md_text(out, render_str(s, "text"), d) != 0)
			return -1;
		const json_t *t = json_object_get(s, "table"), *c = json_object_get(s, "chart");
		if (json_is_object(t) && md_table(out, t, d) != 0)
			return -1;
		if (json_is_object(c) && md_chart(out, c, d) != 0)
			return -1;
	}
	return 0;
}

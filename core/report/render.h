/*
 * report/render: a report document (lua/report_out.h's JSON form) written out
 * as Markdown, CSV, JSON or a self-contained HTML page.
 *
 * Every renderer appends to a buffer and touches nothing else; each escapes all
 * the document's text for its format (a plugin's strings are data, never
 * markup). They read the validated form, and stay safe on any JSON object:
 * a missing or mistyped field renders as empty.
 *
 *   md    headings, paragraphs, GitHub tables (| and newlines in cells escaped);
 *         a chart becomes a table of its data under "Chart: TITLE".
 *   csv   every table of the document, in order, as RFC 4180 blocks: a record
 *         holding the section's heading alone, the header record, the rows, then
 *         one empty line before the next table. A document with no table gives
 *         an empty output. Numbers rounded as render_value does. A string a
 *         spreadsheet would run as a formula (= + - @ TAB CR first) is written
 *         quoted with a leading apostrophe ("'=1+1"); numbers, strings that are
 *         plain numbers ("-3") and a lone "-" as they are.
 *   json  the document as is (sorted keys, indented), plus "format": "tandem-report/1".
 *   html  one page: inline CSS, charts as inline SVG (report/svg.h) each with
 *         its data in a <details> table; no script, no external URL.
 *
 * Who calls it: report/report (tandem report, the scheduled report job), tests.
 */
#ifndef TANDEM_REPORT_RENDER_H
#define TANDEM_REPORT_RENDER_H

#include <jansson.h>

#include "base/buf.h"
#include "base/diag.h"

enum render_format { RENDER_MD, RENDER_CSV, RENDER_JSON, RENDER_HTML };

/* "md", "csv", "json", "html" (also "markdown", "htm"): 0, or -1 (no diag). */
int render_format_parse(const char *name, enum render_format *out);
const char *render_format_name(enum render_format f);
/* The format a file name's extension asks for: 0; -1 when the name has no extension, -2
 * when its extension is not a format's (".pdf"). */
int render_format_from_path(const char *path, enum render_format *out);

int render_doc(enum render_format f, const json_t *doc, struct buf *out, struct diag *d);

int render_md(const json_t *doc, struct buf *out, struct diag *d);
int render_csv(const json_t *doc, struct buf *out, struct diag *d);
int render_json(const json_t *doc, struct buf *out, struct diag *d);
int render_html(const json_t *doc, struct buf *out, struct diag *d);

/* Helpers shared by the renderers (render.c). */

/* A cell or value for people: integers as they are, other numbers with at
 * most two decimals (trailing zeros dropped), booleans "yes"/"no", strings as
 * they are (borrowed into buf when short, else returned directly). */
const char *render_value(const json_t *v, char *buf, size_t size);
/* A CSV field: as render_value (numbers rounded alike in every format), but booleans
 * "true"/"false" for the programs that read CSV. */
const char *render_value_csv(const json_t *v, char *buf, size_t size);
/* Appends s with & < > " ' escaped for HTML/XML text and attributes. */
int render_html_escape(struct buf *out, const char *s, struct diag *d);
/* The string field k of o, "" when absent or not a string. */
const char *render_str(const json_t *o, const char *k);

#endif

/*
 * lua/report_out: reading the document a report's `build` hook returned, holding
 * it to the rules, and turning it into JSON, so that `tandem plugins check` and
 * real reports (report/report) accept and refuse exactly the same documents.
 *
 * `build(metrics, q, ctx)` returns
 *
 *   { title = "...", subtitle = "..."?,
 *     sections = { { heading = "...", text = "..."?, table = T?, chart = C? }, ... } }
 *
 *   T = { columns = { "Name", "Sessions" }, rows = { { "Ana", 4 }, ... } }
 *       every row has exactly #columns cells; a cell is a string, a number or a
 *       boolean; a table may have no rows.
 *   C = { type = "bar"|"line"|"stacked"|"funnel"|"histogram", title = "...",
 *         labels = { "2026-01", ... }, series = { { name = "held", values = {3, 4} } },
 *         x_label = "..."?, y_label = "..."? }
 *       at least one label, every series has one finite number per label; a
 *       funnel or histogram has exactly one series.
 *
 * Text is plain text (never markup): paragraphs are separated by a blank line.
 * Every string (title, headings, text, columns, cells, chart fields) is UTF-8
 * in the JSON: a byte that is not part of a valid UTF-8 character, and a NUL
 * byte, is replaced by U+FFFD and the rest of the string kept, so a name cut
 * mid-character by string.sub still prints (never refused for its encoding).
 * Lists are Lua sequences (keys 1..n, nothing else). Bounds: REPORT_OUT_*
 * below. Unknown fields are refused, naming the valid ones.
 *
 * The JSON produced has the same fields (absent optional ones left out), with
 * cells as JSON strings, numbers or booleans: the form every renderer
 * (report/render_*) reads.
 *
 * Errors name the section (1-based) and the field, one problem (the first) per
 * call, e.g.
 *   "section 2: field 'table.rows[3][2]' must be a string, number or boolean (got table)"
 *   "section 1: field 'chart.series[1].values' has 2 values for 3 labels"
 * the caller prefixes the plugin (FILE:LINE of build) and "(in hook build)".
 *
 * Who calls it: lua/plugin_decl (the report kind's check_result, for `plugins
 * check`), report/report (in the plugin's worker, on the live result). Reads
 * raw: no metamethod of a returned table runs, and no number is converted to a
 * string in place.
 */
#ifndef TANDEM_LUA_REPORT_OUT_H
#define TANDEM_LUA_REPORT_OUT_H

#include <jansson.h>
#include <lua.h>

#include "base/diag.h"

enum {
	REPORT_OUT_SECTIONS = 200,     /* sections per document */
	REPORT_OUT_COLUMNS = 64,       /* columns per table */
	REPORT_OUT_ROWS = 100000,      /* rows per table */
	REPORT_OUT_LABELS = 1000,      /* labels (points) per chart */
	REPORT_OUT_SERIES = 24,        /* series per chart */
	REPORT_OUT_TEXT = 1 << 20,     /* bytes of one string */
};

/* The chart types, in the order the renderers switch on. */
extern const char *const report_out_chart_types[]; /* NULL-terminated */

/*
 * Reads the document at idx. On success *out is a new JSON object (the caller
 * owns one reference). -1 with a diag (DIAG_INVALID, or DIAG_NOMEM) otherwise.
 */
int report_out_read(lua_State *L, int idx, json_t **out, struct diag *d);

/* The report kind's check_result (plugin.h): build's value read as above. */
int report_out_check(lua_State *L, const char *hook, int idx, struct diag *d);

#endif

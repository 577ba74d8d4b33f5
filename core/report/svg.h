/*
 * report/svg: one chart of a report document (lua/report_out.h's JSON form) as
 * an inline SVG element, for the HTML page (report/render_html).
 *
 * Types: bar (grouped vertical bars), stacked (vertical bars, positives stacked
 * up and negatives down from zero), line (a polyline per series with a marker
 * per point), histogram (adjacent bars of one series), funnel (centred
 * horizontal bars of one series, widest first as given, each with its value and
 * its share of the first). Every chart has a y axis with round ticks that
 * include zero (negative values go below it), the labels under the x axis (cut
 * with an ellipsis past what fits; the whole label stays in a <title>), the axis
 * labels when given, and a legend when there are several series.
 *
 * Accessibility: the <svg> has role="img" and aria-labelledby its <title> (the
 * chart's title) and <desc> (every label with its values, in words). All text
 * is escaped; no script, no external reference, not even the SVG namespace URL
 * (inline SVG in an HTML page needs none). Deterministic: the same chart
 * gives the same bytes.
 *
 * Who calls it: report/render_html; unit test test_render.
 */
#ifndef TANDEM_REPORT_SVG_H
#define TANDEM_REPORT_SVG_H

#include <jansson.h>

#include "base/buf.h"
#include "base/diag.h"

enum { SVG_WIDTH = 720, SVG_HEIGHT = 340 };

/* Appends the chart as <svg>...</svg>; id makes its element ids unique in the page. */
int svg_chart(const json_t *chart, int id, struct buf *out, struct diag *d);

#endif

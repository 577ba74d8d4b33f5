/*
 * report/svg: a chart as inline SVG. See svg.h for what each type draws.
 *
 * Geometry: a fixed SVG_WIDTH x SVG_HEIGHT viewBox (the page scales it to the
 * width available); the plot area leaves room for the title above, the tick
 * labels on the left and the x labels, axis label and legend below. The y range
 * always holds zero and is widened to round ticks (1, 2 or 5 times a power of
 * ten), so bars grow from a visible baseline.
 */
#include "report/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/render.h"

/* Eight colours that stay apart for the common colour-vision deficiencies. */
static const char *const palette[] = {"#1b6ca8", "#e07b39", "#3a9a5b", "#c23b4e",
				      "#7b5ea7", "#8c6d31", "#d17fb5", "#5f6b73"};

struct plot {
	double x0, y0, w, h; /* plot area */
	double lo, hi, step; /* y range and tick step */
	size_t n;            /* labels */
	size_t ns;           /* series */
	const json_t *labels, *series;
};

static double
value_at(const json_t *series, size_t k, size_t i)
{
	const json_t *v = json_array_get(json_object_get(json_array_get(series, k), "values"), i);
	double x = json_number_value(v);
	return isfinite(x) ? x : 0;
}

static const char *
label_at(const struct plot *p, size_t i)
{
	const char *s = json_string_value(json_array_get(p->labels, i));
	return s != NULL ? s : "";
}

static const char *
series_name(const struct plot *p, size_t k)
{
	return render_str(json_array_get(p->series, k), "name");
}

/* A number for a tick or a tooltip: at most six significant digits. */
static void
fmt_num(double v, char *buf, size_t size)
{
	if (fabs(v) < 1e-9)
		v = 0;
	json_t *j = v == floor(v) && fabs(v) < 1e15 ? json_integer((json_int_t)v) : json_real(v);
	char tmp[64];
	snprintf(buf, size, "%s", j != NULL ? render_value(j, tmp, sizeof(tmp)) : "?");
	json_decref(j);
}

static double
nice_step(double span)
{
	if (!(span > 0))
		return 1;
	double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return nf * mag;
}

/* The y range [lo, hi] widened to round ticks, zero inside. */
static void
set_range(struct plot *p, double lo, double hi)
{
	if (lo > 0)
		lo = 0;
	if (hi < 0)
		hi = 0;
	if (hi - lo < 1e-12)
		hi = lo + 1;
	p->step = nice_step(hi - lo);
	p->lo = floor(lo / p->step + 1e-9) * p->step;
	p->hi = ceil(hi / p->step - 1e-9) * p->step;
	if (p->hi - p->lo < p->step)
		p->hi = p->lo + p->step;
}

static double
py(const struct plot *p, double v)
{
	return p->y0 + p->h - (v - p->lo) / (p->hi - p->lo) * p->h;
}

/* Appends s cut to at most max characters (UTF-8 code points), "…" when cut. */
static int
put_cut(struct buf *out, const char *s, int max, struct diag *d)
{
	size_t cut = 0; /* where the max-th code point starts: what is kept when cut */
	int n = 0;
	const char *p = s;
	for (; *p; p++)
		if (((unsigned char)*p & 0xC0) != 0x80) {
			if (n == max - 1)
				cut = (size_t)(p - s);
			if (++n > max)
				break;
		}
	if (*p == '\0')
		return render_html_escape(out, s, d);
	char tmp[1024];
	if (cut > sizeof(tmp) - 4)
		cut = sizeof(tmp) - 4;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--; /* never split a code point */
	memcpy(tmp, s, cut);
	memcpy(tmp + cut, "\xE2\x80\xA6", 4);
	return render_html_escape(out, tmp, d);
}

static int
text_at(struct buf *out, double x, double y, const char *anchor, const char *cls, const char *s,
	int max, struct diag *d)
{
	if (buf_printf(out, d, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y,
		       anchor, cls) != 0 ||
	    put_cut(out, s, max, d) != 0)
		return -1;
	if (max < 1000 && strlen(s) > (size_t)max) {
		if (buf_puts(out, "<title>", d) != 0 || render_html_escape(out, s, d) != 0 ||
		    buf_puts(out, "</title>", d) != 0)
			return -1;
	}
	return buf_puts(out, "</text>\n", d);
}

/* The y axis: grid lines and tick labels; the baseline at zero darker. */
static int
y_axis(struct buf *out, const struct plot *p, const char *y_label, struct diag *d)
{
	char num[64];
	for (double v = p->lo; v <= p->hi + p->step / 2; v += p->step) {
		double y = py(p, v);
		fmt_num(v, num, sizeof(num));
		if (buf_printf(out, d,
			       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n",
			       p->x0, y, p->x0 + p->w, y, fabs(v) < p->step / 1e6 ? "zero" : "grid") != 0 ||
		    text_at(out, p->x0 - 6, y + 4, "end", "tick", num, 12, d) != 0)
			return -1;
	}
	if (y_label[0]) {
		if (buf_printf(out, d,
			       "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" "
			       "class=\"axis\">",
			       p->y0 + p->h / 2) != 0 ||
		    put_cut(out, y_label, 40, d) != 0 || buf_puts(out, "</text>\n", d) != 0)
			return -1;
	}
	return 0;
}

/* Labels under the plot, thinned out when they would crowd. */
static int
x_labels(struct buf *out, const struct plot *p, const char *x_label, struct diag *d)
{
	double band = p->w / (double)p->n;
	size_t every = band >= 36 ? 1 : (size_t)ceil(36 / band);
	int max = (int)(band * (double)every / 7.0);
	if (max < 3)
		max = 3;
	for (size_t i = 0; i < p->n; i += every)
		if (text_at(out, p->x0 + band * ((double)i + 0.5), p->y0 + p->h + 16, "middle", "tick",
			    label_at(p, i), max, d) != 0)
			return -1;
	if (x_label[0] && text_at(out, p->x0 + p->w / 2, p->y0 + p->h + 34, "middle", "axis", x_label,
				  80, d) != 0)
		return -1;
	return 0;
}

static int
legend(struct buf *out, const struct plot *p, struct diag *d)
{
	if (p->ns < 2)
		return 0;
	double x = p->x0, y = SVG_HEIGHT - 10;
	for (size_t k = 0; k < p->ns; k++) {
		if (buf_printf(out, d,
			       "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", x,
			       y - 9, palette[k % 8]) != 0 ||
		    text_at(out, x + 14, y, "start", "tick", series_name(p, k), 16, d) != 0)
			return -1;
		x += 14 + 8 * (double)(strlen(series_name(p, k)) < 16 ? strlen(series_name(p, k)) : 16) + 16;
	}
	return 0;
}

/* A rectangle with its tooltip. */
static int
bar(struct buf *out, double x, double y0, double w, double y1, size_t k, const struct plot *p,
    size_t i, double v, struct diag *d)
{
	char num[64];
	fmt_num(v, num, sizeof(num));
	double top = y0 < y1 ? y0 : y1, h = fabs(y1 - y0);
	if (buf_printf(out, d,
		       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
		       x, top, w > 0.5 ? w : 0.5, h, palette[k % 8]) != 0 ||
	    render_html_escape(out, label_at(p, i), d) != 0 ||
	    (p->ns > 1 && (buf_puts(out, " \xE2\x80\x94 ", d) != 0 ||
			   render_html_escape(out, series_name(p, k), d) != 0)) ||
	    buf_printf(out, d, ": %s</title></rect>\n", num) != 0)
		return -1;
	return 0;
}

static int
draw_bars(struct buf *out, struct plot *p, int stacked, int histogram, struct diag *d)
{
	double lo = 0, hi = 0;
	for (size_t i = 0; i < p->n; i++) {
		double pos = 0, neg = 0;
		for (size_t k = 0; k < p->ns; k++) {
			double v = value_at(p->series, k, i);
			if (stacked) {
				if (v >= 0)
					pos += v;
				else
					neg += v;
			} else {
				pos = v > pos ? v : pos;
				neg = v < neg ? v : neg;
			}
		}
		hi = pos > hi ? pos : hi;
		lo = neg < lo ? neg : lo;
	}
	set_range(p, lo, hi);
	double band = p->w / (double)p->n;
	double inner = histogram ? band - 1 : band * 0.8;
	double bw = stacked || histogram ? inner : inner / (double)p->ns;
	for (size_t i = 0; i < p->n; i++) {
		double x = p->x0 + band * (double)i + (band - inner) / 2, pos = 0, neg = 0;
		for (size_t k = 0; k < p->ns; k++) {
			double v = value_at(p->series, k, i), from = 0;
			if (stacked) {
				from = v >= 0 ? pos : neg;
				if (v >= 0)
					pos += v;
				else
					neg += v;
			}
			double bx = stacked || histogram ? x : x + bw * (double)k;
			if (bar(out, bx, py(p, from), bw, py(p, from + v), k, p, i, v, d) != 0)
				return -1;
		}
	}
	return 0;
}

static int
draw_lines(struct buf *out, struct plot *p, struct diag *d)
{
	double lo = 0, hi = 0;
	for (size_t k = 0; k < p->ns; k++)
		for (size_t i = 0; i < p->n; i++) {
			double v = value_at(p->series, k, i);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	set_range(p, lo, hi);
	double band = p->w / (double)p->n;
	char num[64];
	for (size_t k = 0; k < p->ns; k++) {
		if (p->n > 1) {
			if (buf_printf(out, d, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
				       palette[k % 8]) != 0)
				return -1;
			for (size_t i = 0; i < p->n; i++)
				if (buf_printf(out, d, "%s%.1f,%.1f", i ? " " : "",
					       p->x0 + band * ((double)i + 0.5),
					       py(p, value_at(p->series, k, i))) != 0)
					return -1;
			if (buf_puts(out, "\"/>\n", d) != 0)
				return -1;
		}
		for (size_t i = 0; i < p->n; i++) {
			double v = value_at(p->series, k, i);
			fmt_num(v, num, sizeof(num));
			if (buf_printf(out, d, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>",
				       p->x0 + band * ((double)i + 0.5), py(p, v), palette[k % 8]) != 0 ||
			    render_html_escape(out, label_at(p, i), d) != 0 ||
			    (p->ns > 1 && (buf_puts(out, " \xE2\x80\x94 ", d) != 0 ||
					   render_html_escape(out, series_name(p, k), d) != 0)) ||
			    buf_printf(out, d, ": %s</title></circle>\n", num) != 0)
				return -1;
		}
	}
	return 0;
}

/* Horizontal centred bars, the label on the left, value and share of the first on the right. */
static int
draw_funnel(struct buf *out, struct plot *p, struct diag *d)
{
	double max = 0, first = value_at(p->series, 0, 0);
	for (size_t i = 0; i < p->n; i++)
		max = value_at(p->series, 0, i) > max ? value_at(p->series, 0, i) : max;
	double row = p->h / (double)p->n, full = p->w - 110;
	double cx = p->x0 + full / 2;
	char num[64], text[128];
	for (size_t i = 0; i < p->n; i++) {
		double v = value_at(p->series, 0, i), w = max > 0 && v > 0 ? v / max * full : 0;
		double y = p->y0 + row * (double)i, bh = row * 0.75;
		if (bar(out, cx - w / 2, y, w, y + bh, i, p, i, v, d) != 0 ||
		    text_at(out, p->x0 - 8, y + bh / 2 + 4, "end", "tick", label_at(p, i), 18, d) != 0)
			return -1;
		fmt_num(v, num, sizeof(num));
		if (first > 0 && i > 0)
			snprintf(text, sizeof(text), "%s (%.0f%%)", num, v / first * 100);
		else
			snprintf(text, sizeof(text), "%s", num);
		if (text_at(out, cx + w / 2 + 6, y + bh / 2 + 4, "start", "value", text, 40, d) != 0)
			return -1;
	}
	return 0;
}

int
svg_chart(const json_t *chart, int id, struct buf *out, struct diag *d)
{
	struct plot p = {0};
	p.labels = json_object_get(chart, "labels");
	p.series = json_object_get(chart, "series");
	p.n = json_array_size(p.labels);
	p.ns = json_array_size(p.series);
	const char *type = render_str(chart, "type"), *title = render_str(chart, "title");
	int funnel = strcmp(type, "funnel") == 0;
	p.x0 = funnel ? 150 : 64;
	p.y0 = 40;
	p.w = SVG_WIDTH - p.x0 - 20;
	p.h = SVG_HEIGHT - p.y0 - (p.ns > 1 ? 76 : 60);
	if (buf_printf(out, d,
		       "<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		       "aria-labelledby=\"c%d-t c%d-d\" class=\"chart\">\n<title id=\"c%d-t\">",
		       SVG_WIDTH, SVG_HEIGHT, id, id, id) != 0 ||
	    render_html_escape(out, title, d) != 0 ||
	    buf_printf(out, d, "</title>\n<desc id=\"c%d-d\">", id) != 0)
		return -1;
	/* The data in words, for screen readers. */
	if (buf_puts(out, "A ", d) != 0 || render_html_escape(out, type, d) != 0 ||
	    buf_printf(out, d, " chart of %zu point%s.", p.n, p.n == 1 ? "" : "s") != 0)
		return -1;
	char num[64];
	for (size_t i = 0; i < p.n; i++) {
		if (buf_putc(out, ' ', d) != 0 || render_html_escape(out, label_at(&p, i), d) != 0 ||
		    buf_putc(out, ':', d) != 0)
			return -1;
		for (size_t k = 0; k < p.ns; k++) {
			fmt_num(value_at(p.series, k, i), num, sizeof(num));
			if (buf_puts(out, k ? ", " : " ", d) != 0 ||
			    (p.ns > 1 && (render_html_escape(out, series_name(&p, k), d) != 0 ||
					  buf_putc(out, ' ', d) != 0)) ||
			    buf_puts(out, num, d) != 0)
				return -1;
		}
		if (buf_putc(out, ';', d) != 0)
			return -1;
	}
	if (buf_puts(out, "</desc>\n", d) != 0 ||
	    text_at(out, SVG_WIDTH / 2.0, 22, "middle", "title", title, 80, d) != 0)
		return -1;
	if (p.n == 0 || p.ns == 0)
		return buf_puts(out, "</svg>\n", d);
	int rc;
	if (funnel) {
		rc = draw_funnel(out, &p, d);
	} else {
		/* The marks are drawn first (they set the range), written after the grid so
		 * the grid stays behind them. */
		struct buf marks;
		buf_init(&marks);
		int line = strcmp(type, "line") == 0;
		rc = line ? draw_lines(&marks, &p, d)
			  : draw_bars(&marks, &p, strcmp(type, "stacked") == 0,
				      strcmp(type, "histogram") == 0, d);
		if (rc == 0)
			rc = y_axis(out, &p, render_str(chart, "y_label"), d);
		if (rc == 0)
			rc = x_labels(out, &p, render_str(chart, "x_label"), d);
		if (rc == 0 && marks.len > 0)
			rc = buf_append(out, marks.data, marks.len, d);
		buf_fini(&marks);
	}
	if (rc == 0)
		rc = legend(out, &p, d);
	return rc == 0 ? buf_puts(out, "</svg>\n", d) : -1;
}

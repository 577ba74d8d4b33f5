/*
 * Unit tests for report/render (Markdown, CSV, JSON, HTML) and report/svg:
 * escaping of every string, empty tables, one-point charts, negative and zero
 * values, huge labels, formats by name and by file extension.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/render.h"
#include "report/svg.h"

static json_t *
doc_of(const char *text)
{
	json_error_t e;
	json_t *doc = json_loads(text, 0, &e);
	if (doc == NULL)
		fail_msg("fixture: %s at %d", e.text, e.line);
	return doc;
}

/* Renders doc (JSON text) in format f; returns the malloc'd output. */
static char *
render(enum render_format f, const char *text)
{
	json_t *doc = doc_of(text);
	struct buf out;
	struct diag d;
	buf_init(&out);
	assert_int_equal(render_doc(f, doc, &out, &d), 0);
	json_decref(doc);
	buf_putc(&out, '\0', &d);
	return buf_release(&out);
}

static void
has(const char *s, const char *what)
{
	if (strstr(s, what) == NULL)
		fail_msg("missing %s in:\n%s", what, s);
}

static void
lacks(const char *s, const char *what)
{
	if (strstr(s, what) != NULL)
		fail_msg("unexpected %s in:\n%s", what, s);
}

static const char hostile[] =
	"{\"title\":\"<script>alert('x')</script> & co\",\"subtitle\":\"a \\\"b\\\"\","
	"\"sections\":[{\"heading\":\"# not a heading | pipe\",\"text\":\"*bold* <b>x</b>\\n\\nsecond & last\","
	"\"table\":{\"columns\":[\"na|me\",\"n\"],\"rows\":[[\"a,b \\\"q\\\"\\nline\",3],[\"<i>\",2.5]]}}]}";

static void
test_escaping(void **state)
{
	(void)state;
	char *html = render(RENDER_HTML, hostile);
	lacks(html, "<script>");
	lacks(html, "<b>x</b>");
	lacks(html, "<i>");
	has(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co");
	has(html, "<p class=\"subtitle\">a &quot;b&quot;</p>");
	has(html, "<p>*bold* &lt;b&gt;x&lt;/b&gt;</p>\n<p>second &amp; last</p>");
	has(html, "<td class=\"num\">3</td>");
	has(html, "<td class=\"num\">2.5</td>");
	free(html);

	char *md = render(RENDER_MD, hostile);
	has(md, "# \\<script\\>alert('x')\\</script\\> \\& co\n");
	has(md, "## \\# not a heading \\| pipe\n");
	has(md, "\\*bold\\* \\<b\\>x\\</b\\>\n\nsecond \\& last");
	has(md, "| na\\|me | n |\n| --- | --- |\n| a,b \"q\" line | 3 |\n| \\<i\\> | 2.5 |\n");
	free(md);

	char *csv = render(RENDER_CSV, hostile);
	assert_string_equal(csv, "# not a heading | pipe\r\nna|me,n\r\n\"a,b \"\"q\"\"\nline\",3\r\n<i>,2.5\r\n");
	free(csv);

	char *js = render(RENDER_JSON, hostile);
	has(js, "\"format\": \"tandem-report/1\"");
	has(js, "\"title\": \"<script>alert('x')</script> & co\"");
	json_t *back = json_loads(js, 0, NULL);
	assert_non_null(back);
	json_decref(back);
	free(js);
}

/*
 * CSV cells a spreadsheet would run as formulas get a leading apostrophe inside
 * a quoted field; numbers, and strings that are plain numbers, stay as they are
 * (walk2 #14: "=1+1" and "@SUM(1)" were written raw).
 */
static void
test_csv_formulas(void **state)
{
	(void)state;
	char *csv = render(RENDER_CSV,
			   "{\"title\":\"t\",\"sections\":[{\"heading\":\"=HYPERLINK(1)\","
			   "\"table\":{\"columns\":[\"+a\",\"b\"],\"rows\":["
			   "[\"=1+1\",\"@SUM(1)\"],[\"-2+3\",\"+1 555\"],[\"\\t=1\",\"\\r=1\"],"
			   "[-3,\"-3\"],[\"+2.5\",\"-1e3\"],[-0.5,\"a=1\"],[\"-\",\"=\\\"x\\\"\"],[\"\",\"1-2\"]]}}]}");
	assert_string_equal(csv, "\"'=HYPERLINK(1)\"\r\n"
				 "\"'+a\",b\r\n"
				 "\"'=1+1\",\"'@SUM(1)\"\r\n"
				 "\"'-2+3\",\"'+1 555\"\r\n"
				 "\"'\t=1\",\"'\r=1\"\r\n"
				 "-3,-3\r\n"
				 "+2.5,-1e3\r\n"
				 "-0.5,a=1\r\n"
				 "-,\"'=\"\"x\"\"\"\r\n"
				 ",1-2\r\n");
	free(csv);
}

static void
test_empty_tables(void **state)
{
	(void)state;
	const char *doc = "{\"title\":\"T\",\"sections\":[{\"heading\":\"E\",\"table\":{\"columns\":[\"a\",\"b\"],\"rows\":[]}},"
			  "{\"heading\":\"F\",\"table\":{\"columns\":[\"c\"],\"rows\":[[1]]}}]}";
	char *html = render(RENDER_HTML, doc);
	has(html, "<td class=\"empty\" colspan=\"2\">No rows.</td>");
	free(html);
	char *md = render(RENDER_MD, doc);
	has(md, "| a | b |\n| --- | --- |\n\n*(no rows)*\n");
	free(md);
	/* Two tables: two blocks, an empty line between them. */
	char *csv = render(RENDER_CSV, doc);
	assert_string_equal(csv, "E\r\na,b\r\n\r\nF\r\nc\r\n1\r\n");
	free(csv);
	/* No table at all: an empty CSV; no sections: a page with the title. */
	char *none = render(RENDER_CSV, "{\"title\":\"T\",\"sections\":[{\"heading\":\"x\",\"text\":\"y\"}]}");
	assert_string_equal(none, "");
	free(none);
	char *bare = render(RENDER_HTML, "{\"title\":\"T\",\"sections\":[]}");
	has(bare, "<h1>T</h1>");
	has(bare, "</html>\n");
	free(bare);
}

static char *
chart_svg(const char *chart)
{
	json_t *c = doc_of(chart);
	struct buf out;
	struct diag d;
	buf_init(&out);
	assert_int_equal(svg_chart(c, 7, &out, &d), 0);
	json_decref(c);
	buf_putc(&out, '\0', &d);
	return buf_release(&out);
}

static int
count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static void
test_charts(void **state)
{
	(void)state;
	/* One point, every type: a title, a desc with the value, no NaN anywhere. */
	const char *types[] = {"bar", "line", "stacked", "funnel", "histogram"};
	for (int i = 0; i < 5; i++) {
		char chart[256];
		snprintf(chart, sizeof(chart),
			 "{\"type\":\"%s\",\"title\":\"One <point>\",\"labels\":[\"only\"],"
			 "\"series\":[{\"name\":\"s\",\"values\":[5]}]}",
			 types[i]);
		char *svg = chart_svg(chart);
		has(svg, "<svg viewBox=\"0 0 720 340\" role=\"img\" aria-labelledby=\"c7-t c7-d\"");
		has(svg, "<title id=\"c7-t\">One &lt;point&gt;</title>");
		has(svg, "only: 5;</desc>");
		lacks(svg, "nan");
		lacks(svg, "inf");
		lacks(svg, "http");
		free(svg);
	}
	/* Zeros only: a scale from 0 to 1 still, bars of no height. */
	char *zero = chart_svg("{\"type\":\"bar\",\"title\":\"z\",\"labels\":[\"a\",\"b\"],"
			       "\"series\":[{\"name\":\"s\",\"values\":[0,0]}]}");
	lacks(zero, "nan");
	has(zero, "height=\"0.0\"");
	has(zero, ">1</text>");
	free(zero);
	/* Negative values: ticks below zero, the zero line drawn. */
	char *neg = chart_svg("{\"type\":\"bar\",\"title\":\"n\",\"labels\":[\"a\",\"b\"],"
			      "\"series\":[{\"name\":\"s\",\"values\":[-3,4]}]}");
	has(neg, ">-4</text>");
	has(neg, "class=\"zero\"");
	has(neg, "a: -3</title>");
	free(neg);
	/* Stacked with two series: a legend with both names, one rect per value. */
	char *st = chart_svg("{\"type\":\"stacked\",\"title\":\"s\",\"labels\":[\"a\",\"b\",\"c\"],"
			     "\"series\":[{\"name\":\"held\",\"values\":[1,2,3]},{\"name\":\"missed\",\"values\":[1,0,-1]}]}");
	assert_int_equal(count(st, "<rect"), 6 + 2);
	has(st, ">held</text>");
	has(st, ">missed</text>");
	has(st, "c \xE2\x80\x94 missed: -1</title>");
	free(st);
	/* A funnel shows each step's share of the first. */
	char *fu = chart_svg("{\"type\":\"funnel\",\"title\":\"f\",\"labels\":[\"enrolled\",\"matched\"],"
			     "\"series\":[{\"name\":\"people\",\"values\":[40,30]}]}");
	has(fu, ">30 (75%)</text>");
	free(fu);
	/* A huge label is cut with an ellipsis on the axis and kept whole in its title. */
	char big[3000] = "{\"type\":\"bar\",\"title\":\"h\",\"labels\":[\"";
	for (int i = 0; i < 500; i++)
		strcat(big, "\xC3\xA9");
	strcat(big, "\"],\"series\":[{\"name\":\"s\",\"values\":[1]}]}");
	char *h = chart_svg(big);
	has(h, "\xC3\xA9\xE2\x80\xA6<title>");
	lacks(h, "\xC3\xE2"); /* no code point split */
	free(h);
	/* Many labels are thinned out on the axis but all in the desc. */
	char many[20000] = "{\"type\":\"line\",\"title\":\"m\",\"labels\":[";
	for (int i = 0; i < 200; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"L%d\"", i ? "," : "", i);
	strcat(many, "],\"series\":[{\"name\":\"s\",\"values\":[");
	for (int i = 0; i < 200; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", i % 7);
	strcat(many, "]}]}");
	char *m = chart_svg(many);
	has(m, " L199: 3;");
	assert_true(count(m, "class=\"tick\">L") < 40);
	assert_int_equal(count(m, "<circle"), 200);
	free(m);
}

static void
test_html_page(void **state)
{
	(void)state;
	char *html = render(RENDER_HTML,
			    "{\"title\":\"P\",\"sections\":[{\"heading\":\"S\",\"chart\":{\"type\":\"bar\","
			    "\"title\":\"Sessions\",\"x_label\":\"month\",\"labels\":[\"2026-01\"],"
			    "\"series\":[{\"name\":\"held\",\"values\":[3]}]}}]}");
	has(html, "<!DOCTYPE html>");
	has(html, "<style>");
	has(html, "<figure>\n<svg");
	has(html, "<summary>Data: Sessions</summary>");
	has(html, "<th scope=\"col\">month</th><th scope=\"col\">held</th>");
	lacks(html, "http");
	lacks(html, "<script");
	lacks(html, "src=");
	free(html);
}

static void
test_formats(void **state)
{
	(void)state;
	enum render_format f;
	assert_int_equal(render_format_parse("html", &f), 0);
	assert_int_equal(f, RENDER_HTML);
	assert_int_equal(render_format_parse("markdown", &f), 0);
	assert_int_equal(f, RENDER_MD);
	assert_int_equal(render_format_parse("pdf", &f), -1);
	assert_int_equal(render_format_from_path("out/r.HTML", &f), 0);
	assert_int_equal(f, RENDER_HTML);
	assert_int_equal(render_format_from_path("r.csv", &f), 0);
	assert_int_equal(f, RENDER_CSV);
	assert_int_equal(render_format_from_path("dir.v2/report", &f), -1);
	assert_int_equal(render_format_from_path("r.pdf", &f), -2);
	assert_int_equal(render_format_from_path("r.", &f), -1);
	assert_int_equal(render_format_from_path("report", &f), -1);
	assert_string_equal(render_format_name(RENDER_JSON), "json");
	char num[64];
	json_t *v = json_real(0.89285);
	assert_string_equal(render_value(v, num, sizeof(num)), "0.89");
	assert_string_equal(render_value_csv(v, num, sizeof(num)), "0.89"); /* as the others */
	json_decref(v);
	v = json_real(4.0);
	assert_string_equal(render_value(v, num, sizeof(num)), "4");
	json_decref(v);
	v = json_real(-0.001);
	assert_string_equal(render_value(v, num, sizeof(num)), "0");
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),   cmocka_unit_test(test_empty_tables),
		cmocka_unit_test(test_charts),     cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_formats),    cmocka_unit_test(test_csv_formulas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

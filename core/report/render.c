/*
 * report/render: the format table and the helpers the renderers share. See
 * render.h.
 */
#include "report/render.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const names[] = {"md", "csv", "json", "html"};

int
render_format_parse(const char *name, enum render_format *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum render_format)i;
			return 0;
		}
	if (strcmp(name, "markdown") == 0) {
		*out = RENDER_MD;
		return 0;
	}
	if (strcmp(name, "htm") == 0) {
		*out = RENDER_HTML;
		return 0;
	}
	return -1;
}

const char *
render_format_name(enum render_format f)
{
	return (unsigned)f < 4 ? names[f] : "?";
}

int
render_format_from_path(const char *path, enum render_format *out)
{
	const char *dot = path != NULL ? strrchr(path, '.') : NULL;
	if (dot == NULL || strchr(dot, '/') != NULL)
		return -1;
	char ext[16];
	size_t n = strlen(dot + 1);
	if (n == 0)
		return -1;
	if (n >= sizeof(ext))
		return -2;
	for (size_t i = 0; i <= n; i++)
		ext[i] = (char)((dot[1 + i] >= 'A' && dot[1 + i] <= 'Z') ? dot[1 + i] + 32 : dot[1 + i]);
	return render_format_parse(ext, out) == 0 ? 0 : -2;
}

int
render_doc(enum render_format f, const json_t *doc, struct buf *out, struct diag *d)
{
	if (!json_is_object(doc))
		return diag_set(d, DIAG_INVALID, "a report document must be a JSON object");
	switch (f) {
	case RENDER_MD:
		return render_md(doc, out, d);
	case RENDER_CSV:
		return render_csv(doc, out, d);
	case RENDER_JSON:
		return render_json(doc, out, d);
	case RENDER_HTML:
		return render_html(doc, out, d);
	}
	return diag_set(d, DIAG_INTERNAL, "unknown report format %d", (int)f);
}

const char *
render_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "";
}

/* "%.2f" without trailing zeros ("-0" as "0"). */
static void
short_real(double v, char *buf, size_t size)
{
	if (fabs(v) >= 1e15) {
		snprintf(buf, size, "%.6g", v);
		return;
	}
	snprintf(buf, size, "%.2f", v);
	char *dot = strchr(buf, '.');
	if (dot != NULL) {
		char *e = buf + strlen(buf) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, size, "0");
}

const char *
render_value(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		short_real(json_real_value(v), buf, size);
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	default:
		return "";
	}
}

const char *
render_value_csv(const json_t *v, char *buf, size_t size)
{
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return render_value(v, buf, size);
}

int
render_html_escape(struct buf *out, const char *s, struct diag *d)
{
	const char *run = s;
	for (const char *p = s;; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\0': rep = ""; break;
		case '\n': case '\t': case '\r': continue;
		default:
			if ((unsigned char)*p >= 0x20 && *p != 0x7f)
				continue;
			rep = " "; /* a control character has no place in HTML or XML text */
		}
		if (p > run && buf_append(out, run, (size_t)(p - run), d) != 0)
			return -1;
		if (*p == '\0')
			return 0;
		if (buf_puts(out, rep, d) != 0)
			return -1;
		run = p + 1;
	}
}

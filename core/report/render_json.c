/*
 * report/render_json: a report document as JSON. See render.h.
 */
#include "report/render.h"

#include <stdlib.h>

int
render_json(const json_t *doc, struct buf *out, struct diag *d)
{
	json_t *copy = json_deep_copy(doc);
	if (copy == NULL || json_object_set_new(copy, "format", json_string("tandem-report/1")) != 0) {
		json_decref(copy);
		return diag_set(d, DIAG_NOMEM, "out of memory writing a report as JSON");
	}
	char *text = json_dumps(copy, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	json_decref(copy);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory writing a report as JSON");
	int rc = buf_puts(out, text, d);
	free(text);
	return rc == 0 ? buf_putc(out, '\n', d) : -1;
}

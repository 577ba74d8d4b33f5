/*
 * serve/log: text or JSON log lines for the service (see log.h).
 */
#include "serve/log.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/clock.h"

static const char *
level_name(int level)
{
	static const char *names[] = {"debug", "info", "warning", "error"};
	return names[level & 3];
}

int
serve_log_format_parse(const char *s, enum serve_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = SERVE_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = SERVE_LOG_JSON;
	else
		return -1;
	return 0;
}

int
serve_log_line(struct buf *b, enum serve_log_format f, time_t ts, time_t now, int level,
	       const char *msg, struct diag *d)
{
	char tsbuf[CLOCK_UTC_MAX], nowbuf[CLOCK_UTC_MAX];
	clock_format_utc(ts, tsbuf);
	if (now >= 0)
		clock_format_utc(now, nowbuf);
	if (f == SERVE_LOG_TEXT) {
		if (now >= 0)
			return buf_printf(b, d, "%s %s: [now %s] %s\n", tsbuf, level_name(level), nowbuf,
					  msg);
		return buf_printf(b, d, "%s %s: %s\n", tsbuf, level_name(level), msg);
	}
	json_t *o = json_object();
	if (o == NULL || json_object_set_new(o, "ts", json_string(tsbuf)) != 0 ||
	    json_object_set_new(o, "level", json_string(level_name(level))) != 0 ||
	    (now >= 0 && json_object_set_new(o, "now", json_string(nowbuf)) != 0)) {
		json_decref(o);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	json_t *m = json_string(msg);
	if (m == NULL) {
		/* Not valid UTF-8 (a path from the disk): the line is kept, non-ASCII bytes as '?'. */
		char *copy = strdup(msg);
		for (char *p = copy; p && *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		m = copy ? json_string(copy) : NULL;
		free(copy);
	}
	/* json_object_set_new takes m, also when it fails */
	if (m == NULL || json_object_set_new(o, "msg", m) != 0) {
		json_decref(o);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc = buf_printf(b, d, "%s\n", text);
	free(text);
	return rc;
}

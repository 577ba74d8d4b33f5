/*
 * http/dash_static: the dashboard's CSS and JavaScript, read once at start (see
 * dash_static.h).
 */
#include "http/dash_static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/sha256.h"
#include "http/dash.h"

static const char *const static_dirs_sub[] = {"dashboard", "dashboard", "core/http/web"};

static char *
read_small(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *p = malloc(DASH_STATIC_MAX + 1);
	size_t n = p ? fread(p, 1, DASH_STATIC_MAX + 1, f) : 0;
	int bad = ferror(f) || n > DASH_STATIC_MAX;
	fclose(f);
	if (p == NULL || bad) {
		free(p);
		return NULL;
	}
	p[n] = '\0';
	*len = n;
	return p;
}

void
dash_static_load(struct dash_file files[DASH_STATIC_FILES])
{
	const char *bases[3] = {getenv("TANDEM_DATADIR"), NULL, NULL};
#ifdef TANDEM_DATADIR
	bases[1] = TANDEM_DATADIR;
#endif
#ifdef TANDEM_SRCDIR
	bases[2] = TANDEM_SRCDIR;
#endif
	files[0] = (struct dash_file){.name = "dashboard.css", .type = "text/css; charset=utf-8"};
	files[1] = (struct dash_file){.name = "dashboard.js",
					 .type = "text/javascript; charset=utf-8"};
	for (int i = 0; i < 3; i++) {
		if (bases[i] == NULL || bases[i][0] == '\0')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s/dashboard.css", bases[i], static_dirs_sub[i]);
		struct stat sb;
		if (stat(path, &sb) != 0)
			continue;
		for (int k = 0; k < DASH_STATIC_FILES; k++) {
			struct dash_file *f = &files[k];
			snprintf(path, sizeof(path), "%s/%s/%s", bases[i], static_dirs_sub[i], f->name);
			if ((f->body = read_small(path, &f->len)) == NULL) {
				tlog(TLOG_WARN, "dashboard: cannot read %s", path);
				continue;
			}
			char hex[SHA256_HEX_LEN];
			sha256_hex(f->body, f->len, hex);
			snprintf(f->version, sizeof(f->version), "%.16s", hex);
			snprintf(f->etag, sizeof(f->etag), "\"%.16s\"", hex);
		}
		return;
	}
	tlog(TLOG_WARN, "dashboard: no dashboard.css found (TANDEM_DATADIR/dashboard, %s, "
			"the source tree's core/http/web/): pages are served unstyled",
	     bases[1] ? bases[1] : "share/tandem");
}

void
dash_static_get(const struct dash_file files[DASH_STATIC_FILES], const char *name,
		const struct http_request *req, struct http_response *resp)
{
	for (int k = 0; k < DASH_STATIC_FILES; k++) {
		const struct dash_file *f = &files[k];
		if (f->body == NULL || strcmp(name, f->name) != 0)
			continue;
		http_response_header(resp, "ETag", f->etag);
		http_response_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
		http_response_header(resp, "X-Content-Type-Options", "nosniff");
		if (http_etag_matches(http_header(req, "If-None-Match"), f->etag)) {
			resp->status = 304;
			return;
		}
		resp->status = 200;
		resp->content_type = f->type;
		if ((resp->body = malloc(f->len + 1)) == NULL) {
			resp->status = 500;
			return;
		}
		memcpy(resp->body, f->body, f->len);
		resp->body_len = f->len;
		return;
	}
	resp->status = 404;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = strdup("no such file\n");
	resp->body_len = resp->body ? strlen(resp->body) : 0;
}

void
dash_static_free(struct dash_file files[DASH_STATIC_FILES])
{
	for (int k = 0; k < DASH_STATIC_FILES; k++) {
		free(files[k].body);
		files[k].body = NULL;
	}
}

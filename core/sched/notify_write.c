/*
 * notify (writers): the two built-in ways a message leaves, a .eml file and a line of
 * messages.jsonl. See notify.h for the formats and why each write is atomic; notify.c
 * claims, renders and records the outcome around these.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/sha256.h"
#include "io/outfile.h"
#include "sched/notify_internal.h"

/* ---- files --------------------------------------------------------------------------- */

static int
notify_outbox_dir(const char *workspace, char *buf, size_t size, struct diag *d)
{
	if ((size_t)snprintf(buf, size, "%s/outbox", workspace) >= size)
		return diag_set(d, DIAG_INVALID, "notify: the workspace path is too long");
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return diag_set(d, DIAG_IO, "cannot create '%s': %s", buf, strerror(errno));
	return 0;
}

static int
notify_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The folder's entry for a renamed file reaches the disk only when the folder is synced. */
static int
notify_sync_dir(const char *dir, struct diag *d)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return diag_set(d, DIAG_IO, "cannot open '%s': %s", dir, strerror(errno));
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	if (rc != 0)
		return diag_set(d, DIAG_IO, "cannot sync '%s': %s", dir, strerror(err));
	return 0;
}

int
notify_clean_temps(const char *workspace, int min_age_s, int *removed, struct diag *d)
{
	char dir[4096], path[4096 + 256];
	if (removed != NULL)
		*removed = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/outbox", workspace) >= sizeof(dir))
		return diag_set(d, DIAG_INVALID, "notify: the workspace path is too long");
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return errno == ENOENT ? 0 : diag_set(d, DIAG_IO, "cannot read '%s': %s", dir,
						      strerror(errno));
	time_t cut = time(NULL) - min_age_s;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(dp)) != NULL) {
		struct stat sb;
		if (strncmp(e->d_name, ".tmp-", 5) != 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_mtime > cut)
			continue;
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = diag_set(d, DIAG_IO, "cannot remove '%s': %s", path, strerror(errno));
			break;
		}
		if (removed != NULL)
			(*removed)++;
	}
	closedir(dp);
	return rc;
}

/* The .eml's file name: a readable form of the key, and a hash that keeps keys apart. */
void
notify_eml_name(const char *key, char *out, size_t size)
{
	char hex[SHA256_HEX_LEN];
	sha256_hex(key, strlen(key), hex);
	char safe[101];
	size_t i = 0;
	for (const char *p = key; *p != '\0' && i < sizeof(safe) - 1; p++) {
		unsigned char c = (unsigned char)*p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		safe[i++] = ok ? (char)c : '_';
	}
	safe[i] = '\0';
	if (safe[0] == '.') /* never a hidden file */
		safe[0] = '_';
	snprintf(out, size, "%s.%.8s.eml", safe, hex);
}

/* A throwaway copy's file (no_sync): written in place, one create, no temporary file and no
 * rename (on ext4 a temporary file and its rename cost 5-10 x the create alone in a folder
 * of tens of thousands of files). A crash mid-write may leave it partial: the copy is thrown
 * away, and a redelivery rewrites it whole (O_TRUNC). */
static int
notify_write_in_place(const char *path, const char *text, size_t len, struct diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return diag_set(d, DIAG_IO, "cannot create '%s': %s", path, strerror(errno));
	if (fchmod(fd, 0644) != 0 || notify_write_all(fd, text, len) != 0) {
		int err = errno;
		close(fd);
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(err));
	}
	if (close(fd) != 0)
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

/* Writes text to dir/name atomically: temp file, fsync, rename, fsync of the folder. When
 * no_sync (a throwaway copy: notify_set_no_sync), in place with no fsync. */
static int
notify_write_atomic(const char *dir, const char *name, const char *text, size_t len,
		    int no_sync, struct diag *d)
{
	char tmp[4096], path[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return diag_set(d, DIAG_INVALID, "notify: the outbox path is too long");
	if (no_sync)
		return notify_write_in_place(path, text, len, d);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return diag_set(d, DIAG_IO, "cannot create a file in '%s': %s", dir, strerror(errno));
	if (fchmod(fd, 0644) != 0 || notify_write_all(fd, text, len) != 0 ||
	    fsync(fd) != 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(err));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(err));
	}
	return notify_sync_dir(dir, d);
}

/* ---- eml ------------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
notify_base64(struct buf *b, const unsigned char *p, size_t n, size_t line, struct diag *d)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
			     i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
		if (buf_append(b, q, 4, d) != 0)
			return -1;
		col += 4;
		if (line > 0 && col >= line && i + 3 < n) {
			if (buf_puts(b, "\r\n", d) != 0)
				return -1;
			col = 0;
		}
	}
	return 0;
}

static int
notify_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n')
			return 0;
	return 1;
}

/* A header value: as is when printable ASCII, else RFC 2047 encoded words of UTF-8 in
 * base64, each at most 45 bytes of text (60 of base64), cut between characters. */
static int
notify_header_text(struct buf *b, const char *s, struct diag *d)
{
	if (notify_ascii(s))
		return buf_puts(b, s, d);
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t take = len - i < 45 ? len - i : 45;
		while (take > 0 && i + take < len && ((unsigned char)s[i + take] & 0xC0) == 0x80)
			take--; /* do not split a UTF-8 sequence */
		if (take == 0)
			take = len - i < 45 ? len - i : 45;
		if ((i > 0 && buf_puts(b, "\r\n ", d) != 0) || buf_puts(b, "=?UTF-8?B?", d) != 0 ||
		    notify_base64(b, (const unsigned char *)s + i, take, 0, d) != 0 ||
		    buf_puts(b, "?=", d) != 0)
			return -1;
		i += take;
	}
	return 0;
}

/* A display name: quoted when ASCII (quotes and backslashes escaped), else encoded. */
static int
notify_display_name(struct buf *b, const char *name, struct diag *d)
{
	if (!notify_ascii(name))
		return notify_header_text(b, name, d);
	if (buf_putc(b, '"', d) != 0)
		return -1;
	for (const char *p = name; *p != '\0'; p++)
		if (((*p == '"' || *p == '\\') && buf_putc(b, '\\', d) != 0) || buf_putc(b, *p, d) != 0)
			return -1;
	return buf_putc(b, '"', d);
}

/* The Message-ID's left part: the key, with each byte outside atext (and '=') as =XX. */
static int
notify_msgid(struct buf *b, const char *key, struct diag *d)
{
	static const char atext[] = "!#$%&'*+-/?^_`{|}~.";
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || (*p != '\0' && strchr(atext, *p) != NULL);
		/* A dot may not start, end or double in a dot-atom. */
		if (*p == '.' && (p == (const unsigned char *)key || p[1] == '\0' || p[1] == '.'))
			ok = 0;
		if (ok ? buf_putc(b, (char)*p, d) : buf_printf(b, d, "=%02X", *p))
			return -1;
	}
	return 0;
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static int
notify_date(struct buf *b, time_t t, struct diag *d)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return diag_set(d, DIAG_INVALID, "notify: the time %lld has no date", (long long)t);
	return buf_printf(b, d, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
			  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			  tm.tm_sec);
}

/* 1 when text can go as 8bit: no NUL, no bare CR, lines of at most 998 bytes. */
static int
notify_8bit_ok(const char *s, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')))
			return 0;
		col = s[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return 0;
	}
	return 1;
}

/* Appends a MIME part's body: 8bit with CRLF line ends, or base64 when it must. */
static int
notify_part_body(struct buf *b, const char *s, size_t n, struct diag *d)
{
	if (!notify_8bit_ok(s, n)) {
		return buf_puts(b, "Content-Transfer-Encoding: base64\r\n\r\n", d) ||
				       notify_base64(b, (const unsigned char *)s, n, 76, d) ||
				       buf_puts(b, "\r\n", d)
			       ? -1
			       : 0;
	}
	if (buf_puts(b, "Content-Transfer-Encoding: 8bit\r\n\r\n", d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r') && buf_putc(b, '\r', d) != 0)
			return -1;
		if (buf_putc(b, s[i], d) != 0)
			return -1;
	}
	/* The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1), so the
	 * content's own last line end needs one more. */
	return buf_puts(b, "\r\n", d);
}

/* A MIME parameter value: quoted, with quotes and backslashes escaped and controls
 * dropped (names come from the row's attachments). */
static int
notify_param(struct buf *b, const char *v, struct diag *d)
{
	if (buf_putc(b, '"', d) != 0)
		return -1;
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20)
			continue;
		if (((*p == '"' || *p == '\\') && buf_putc(b, '\\', d) != 0) || buf_putc(b, *p, d) != 0)
			return -1;
	}
	return buf_putc(b, '"', d);
}

/* A content type from an attachment: token characters, '/', ';', '=', ' ' and '-' only,
 * so a row cannot inject a header. */
static int
notify_type_ok(const char *t)
{
	if (t == NULL || t[0] == '\0' || strlen(t) > 200)
		return 0;
	for (const char *p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("/;= -+._", c) != NULL))
			return 0;
	}
	return 1;
}

static int
notify_eml_build(const char *from, const struct notify_mail *m, struct buf *b, struct diag *d)
{
	const struct outbox_row *r = m->row;
	char hex[SHA256_HEX_LEN];
	sha256_hex(r->key, strlen(r->key), hex);
	char boundary[64];
	snprintf(boundary, sizeof(boundary), "tandem-%.24s", hex);
	json_error_t jerr;
	json_t *att = json_loads(r->attachments != NULL ? r->attachments : "[]", 0, &jerr);
	if (!json_is_array(att)) {
		json_decref(att);
		return diag_set(d, DIAG_INVALID, "message '%s': its attachments are not a JSON array",
				r->key);
	}
	int rc = -1;
	if (buf_puts(b, "Message-ID: <", d) || notify_msgid(b, r->key, d) ||
	    buf_puts(b, "@tandem>\r\nX-Tandem-Key: ", d) ||
	    (notify_ascii(r->key) ? buf_puts(b, r->key, d) : notify_header_text(b, r->key, d)) ||
	    buf_puts(b, "\r\nDate: ", d) || notify_date(b, m->now, d) ||
	    buf_printf(b, d, "\r\nFrom: %s\r\nTo: ", from) ||
	    notify_display_name(b, m->to_name, d) || buf_printf(b, d, " <%s>\r\nSubject: ", m->to_email) ||
	    notify_header_text(b, m->subject, d) ||
	    buf_printf(b, d,
		       "\r\nMIME-Version: 1.0\r\n"
		       "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
		       "This is a MIME message.\r\n"
		       "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n",
		       boundary, boundary) ||
	    notify_part_body(b, m->body, strlen(m->body), d))
		goto out;
	size_t i;
	json_t *a;
	json_array_foreach(att, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *content = json_string_value(json_object_get(a, "content"));
		if (name == NULL || content == NULL || !notify_type_ok(type)) {
			diag_set(d, DIAG_INVALID,
				 "message '%s': attachment %zu needs a name, a type and a content", r->key,
				 i + 1);
			goto out;
		}
		if (buf_printf(b, d, "--%s\r\nContent-Type: %s; charset=utf-8; name=", boundary, type) ||
		    notify_param(b, name, d) ||
		    buf_puts(b, "\r\nContent-Disposition: attachment; filename=", d) ||
		    notify_param(b, name, d) || buf_puts(b, "\r\n", d) ||
		    notify_part_body(b, content, json_string_length(json_object_get(a, "content")), d))
			goto out;
	}
	rc = buf_printf(b, d, "--%s--\r\n", boundary);
out:
	json_decref(att);
	return rc;
}

int
notify_write_eml(const char *workspace, const char *from, const struct notify_mail *m,
		 struct diag *d)
{
	char dir[4096], name[160], path[4400];
	struct buf b;
	if (m->no_files) { /* built as it would be written (the same errors), not written */
		buf_init(&b);
		int rc = notify_eml_build(from, m, &b, d);
		buf_fini(&b);
		return rc;
	}
	if (notify_outbox_dir(workspace, dir, sizeof(dir), d) != 0)
		return -1;
	notify_eml_name(m->row->key, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat sb;
	if (m->row->was_unknown && stat(path, &sb) == 0)
		return 0; /* written before the crash that left the row unknown */
	buf_init(&b);
	int rc = notify_eml_build(from, m, &b, d);
	if (rc == 0)
		rc = notify_write_atomic(dir, name, b.data, b.len, m->no_sync, d);
	buf_fini(&b);
	return rc;
}

/* ---- jsonl ---------------------------------------------------------------------------- */

/* 1 when a line of the file at fd has "key": key. Only for rows that were unknown. */
static int
notify_jsonl_has(int fd, const char *key, struct diag *d)
{
	int dup_fd = dup(fd);
	FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "r") : NULL;
	if (f == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return diag_set(d, DIAG_IO, "cannot read messages.jsonl: %s", strerror(errno));
	}
	rewind(f);
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, f) >= 0) {
		json_t *o = json_loads(line, 0, NULL);
		const char *k = json_string_value(json_object_get(o, "key"));
		found = k != NULL && strcmp(k, key) == 0;
		json_decref(o);
	}
	free(line);
	fclose(f);
	return found;
}

int
notify_written(const char *workspace, const char *key, int jsonl, struct diag *d)
{
	char dir[4096], path[4400];
	if (notify_outbox_dir(workspace, dir, sizeof(dir), d) != 0)
		return -1;
	if (!jsonl) {
		char name[160];
		struct stat sb;
		notify_eml_name(key, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (stat(path, &sb) == 0)
			return 1;
		if (errno == ENOENT)
			return 0;
		return diag_set(d, DIAG_IO, "cannot look for '%s': %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/messages.jsonl", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return diag_set(d, DIAG_IO, "cannot open '%s': %s", path, strerror(errno));
	}
	int has = notify_jsonl_has(fd, key, d);
	close(fd);
	return has;
}

int
notify_write_jsonl(const char *workspace, const struct notify_mail *m, struct diag *d)
{
	char dir[4096], path[4200];
	if (!m->no_files && notify_outbox_dir(workspace, dir, sizeof(dir), d) != 0)
		return -1;
	char at[STORE_TIME_MAX];
	store_format_time(m->now, at);
	const struct outbox_row *r = m->row;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "key", r->key, "kind", r->kind,
			      "to", m->to_email, "name", m->to_name, "subject", m->subject, "body",
			      m->body, "at", at);
	if (o != NULL)
		json_object_set_new(o, "session", r->session_id ? json_integer(r->session_id)
								 : json_null());
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "message '%s': cannot build its JSON line", r->key);
	if (m->no_files) { /* built, not written */
		free(text);
		return 0;
	}

	snprintf(path, sizeof(path), "%s/messages.jsonl", dir);
	int rc = -1;
	/* Locked: `people erase` may be writing the file again without some lines. */
	int fd = outfile_lock(path, O_RDWR | O_APPEND | O_CREAT, d);
	if (fd < 0)
		goto out;
	if (r->was_unknown) {
		int has = notify_jsonl_has(fd, r->key, d);
		if (has != 0) {
			rc = has > 0 ? 0 : -1;
			goto out;
		}
	}
	/* A line torn by a power loss is ended first, so it spoils only itself. */
	struct stat sb;
	char last = '\n';
	if (fstat(fd, &sb) != 0 || (sb.st_size > 0 && pread(fd, &last, 1, sb.st_size - 1) != 1)) {
		diag_set(d, DIAG_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	size_t len = strlen(text);
	char *line = malloc(len + 3);
	if (line == NULL) {
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
		goto out;
	}
	size_t k = 0;
	if (last != '\n')
		line[k++] = '\n';
	memcpy(line + k, text, len);
	k += len;
	line[k++] = '\n';
	/* One write() of the whole line: a process killed now leaves the line or nothing. */
	int wrc = notify_write_all(fd, line, k);
	free(line);
	if (wrc != 0 || (!m->no_sync && fsync(fd) != 0)) {
		diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

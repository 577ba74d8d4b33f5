/*
 * privacy/erase (files): the workspace half of an erasure (see erase.h): outbox copies
 * removed, published reports scrubbed, certificate pages removed, other files read and
 * listed. Every step can run again with the same result, so a crash or a failure is
 * finished by the next run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/outfile.h"
#include "privacy/erase_internal.h"
#include "privacy/scrub.h"
#include "sched/notify.h"

/* Files larger than this are not read: listed as left (a workspace file) or failed. */
enum { FILES_READ_MAX = 512 << 20, FILES_DEPTH_MAX = 12 };

struct files {
	const char *ws, *db;
	struct scrub sc;
	json_t *keys;   /* {key: true}: the messages whose copies go */
	json_t *codes;  /* certificate codes */
	char cert_tail[300]; /* "-ID.html": the name `rewards certificate` gives their page */
	struct privacy_erase_result *res;
};

/* Records what happened to one file. */
static int
files_note(struct files *f, const char *rel, const char *action, const char *error,
	   struct diag *d)
{
	json_t *e = json_pack("{ss ss}", "path", rel, "action", action);
	if (e != NULL && error != NULL)
		json_object_set_new(e, "error", json_string(error));
	if (e == NULL || json_array_append_new(f->res->files, e) != 0)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	long *n = strcmp(action, "removed") == 0    ? &f->res->removed
		  : strcmp(action, "scrubbed") == 0 ? &f->res->scrubbed
		  : strcmp(action, "failed") == 0   ? &f->res->failed
						    : &f->res->left;
	(*n)++;
	return 0;
}

/* Reads a whole file: 0 with *data (malloc'd, NUL-terminated) and *len, 1 when it is too
 * large, -1 with errno set. */
static int
files_read(const char *path, char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return -1;
	struct stat sb;
	if (fstat(fileno(fp), &sb) != 0) {
		fclose(fp);
		return -1;
	}
	if (sb.st_size > FILES_READ_MAX) {
		fclose(fp);
		return 1;
	}
	size_t n = (size_t)sb.st_size;
	char *buf = malloc(n + 1);
	if (buf == NULL) {
		fclose(fp);
		errno = ENOMEM;
		return -1;
	}
	size_t got = fread(buf, 1, n, fp);
	int err = ferror(fp) ? EIO : 0;
	fclose(fp);
	if (err != 0) {
		free(buf);
		errno = err;
		return -1;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

/* Removes rel (a missing file is no work): noted removed or failed. */
static int
files_remove(struct files *f, const char *rel, const char *path, struct diag *d)
{
	if (unlink(path) == 0)
		return files_note(f, rel, "removed", NULL, d);
	if (errno == ENOENT)
		return 0;
	return files_note(f, rel, "failed", strerror(errno), d);
}

/* ---- walking a folder ---------------------------------------------------------------- */

typedef int (*files_visit)(struct files *f, const char *rel, const char *path, struct diag *d);

/* Calls visit for every regular file under ws/rel (symbolic links and names starting with
 * '.' are skipped: temporaries, locks, version control), depth first, by name. A folder
 * that cannot be read is noted failed. */
static int
files_walk(struct files *f, const char *rel, int depth, files_visit visit, struct diag *d)
{
	char dir[4096];
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", f->ws, rel) >= sizeof(dir))
		return files_note(f, rel, "failed", "path too long", d);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : files_note(f, rel, "failed", strerror(errno), d);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char r[4096], path[8192];
		struct stat sb;
		if (rc != 0 || name[0] == '.' ||
		    (size_t)snprintf(r, sizeof(r), "%s%s%s", rel, rel[0] ? "/" : "", name) >= sizeof(r) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", f->ws, r) >= sizeof(path) ||
		    lstat(path, &sb) != 0) {
			free(names[i]);
			continue;
		}
		if (S_ISDIR(sb.st_mode) && depth < FILES_DEPTH_MAX)
			rc = files_walk(f, r, depth + 1, visit, d);
		else if (S_ISREG(sb.st_mode))
			rc = visit(f, r, path, d);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* *found: the file at path names them. A file that cannot be read (a file gone meanwhile
 * is nothing) is noted with `unread` ("failed" or "left") and *found stays 0. */
static int
files_scan(struct files *f, const char *rel, const char *path, const char *unread, int *found,
	   struct diag *d)
{
	*found = 0;
	char *data = NULL;
	size_t len = 0;
	int r = files_read(path, &data, &len);
	if (r != 0)
		return r < 0 && errno == ENOENT ? 0
		       : files_note(f, rel, unread, r > 0 ? "too large to read" : strerror(errno), d);
	*found = scrub_found(&f->sc, data, len);
	free(data);
	return 0;
}

/* ---- outbox/ --------------------------------------------------------------------------- */

/* messages.jsonl without the lines of the messages whose copies go, or that name them. */
static int
files_jsonl(struct files *f, struct diag *d)
{
	const char *rel = "outbox/messages.jsonl";
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", f->ws, rel);
	/* Held from the read to the replace: a service appending a line meanwhile waits, then
	 * appends to the new file (outfile_lock). */
	struct diag ld;
	diag_clear(&ld);
	int lock = outfile_lock(path, O_RDONLY, &ld);
	if (lock < 0)
		return errno == ENOENT ? 0 : files_note(f, rel, "failed", strerror(errno), d);
	char *data = NULL;
	size_t len = 0;
	int r = files_read(path, &data, &len);
	if (r != 0) {
		int e = errno;
		close(lock);
		return r < 0 && e == ENOENT ? 0
		       : files_note(f, rel, "failed", r > 0 ? "too large to read" : strerror(e), d);
	}
	char *out = malloc(len + 1);
	size_t o = 0, dropped = 0;
	for (size_t i = 0; out != NULL && i < len;) {
		char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;
		json_error_t jerr;
		json_t *line = json_loadb(data + i, end - i, JSON_DISABLE_EOF_CHECK, &jerr);
		const char *key = line ? json_string_value(json_object_get(line, "key")) : NULL;
		int drop = (key != NULL && json_object_get(f->keys, key) != NULL) ||
			   scrub_found(&f->sc, data + i, end - i);
		json_decref(line);
		if (drop)
			dropped++;
		else
			memcpy(out + o, data + i, end - i), o += end - i;
		i = end;
	}
	free(data);
	if (out == NULL) {
		close(lock);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int rc = 0;
	if (dropped > 0) {
		struct diag wd;
		diag_clear(&wd);
		rc = outfile_write_all(path, out, o, &wd) == 0
			 ? files_note(f, rel, "scrubbed", NULL, d)
			 : files_note(f, rel, "failed", wd.msg, d);
	}
	close(lock);
	free(out);
	return rc;
}

/* Any other copy in outbox/ that still names them (a message whose row is gone). */
static int
files_outbox_visit(struct files *f, const char *rel, const char *path, struct diag *d)
{
	if (strcmp(rel, "outbox/messages.jsonl") == 0)
		return 0;
	int found = 0;
	if (files_scan(f, rel, path, "failed", &found, d) != 0)
		return -1;
	return found ? files_remove(f, rel, path, d) : 0;
}

static int
files_outbox(struct files *f, struct diag *d)
{
	const char *key;
	json_t *v;
	json_object_foreach(f->keys, key, v)
	{
		char name[NOTIFY_EML_NAME_MAX], rel[NOTIFY_EML_NAME_MAX + 16], path[8192];
		notify_eml_name(key, name, sizeof(name));
		snprintf(rel, sizeof(rel), "outbox/%s", name);
		snprintf(path, sizeof(path), "%s/%s", f->ws, rel);
		if (files_remove(f, rel, path, d) != 0)
			return -1;
	}
	return files_jsonl(f, d) || files_walk(f, "outbox", 1, files_outbox_visit, d) ? -1 : 0;
}

/* ---- reports/, certificates/, the rest ------------------------------------------------- */

static int
files_report_visit(struct files *f, const char *rel, const char *path, struct diag *d)
{
	char *data = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int r = files_read(path, &data, &len);
	if (r != 0)
		return r < 0 && errno == ENOENT ? 0
		       : files_note(f, rel, "failed", r > 0 ? "too large to read" : strerror(errno), d);
	long n = scrub_text(&f->sc, data, len, &out, &outlen, d);
	free(data);
	if (n <= 0)
		return (int)n;
	struct diag wd;
	diag_clear(&wd);
	int rc = outfile_write_all(path, out, outlen, &wd) == 0 ? files_note(f, rel, "scrubbed", NULL, d)
								 : files_note(f, rel, "failed", wd.msg, d);
	free(out);
	return rc;
}

static int
files_cert_visit(struct files *f, const char *rel, const char *path, struct diag *d)
{
	size_t rl = strlen(rel), tl = strlen(f->cert_tail);
	int theirs = f->cert_tail[0] != '\0' && rl > tl && strcmp(rel + rl - tl, f->cert_tail) == 0;
	if (!theirs) {
		char *data = NULL;
		size_t len = 0;
		int r = files_read(path, &data, &len);
		if (r != 0)
			return r < 0 && errno == ENOENT ? 0
			       : files_note(f, rel, "failed",
					    r > 0 ? "too large to read" : strerror(errno), d);
		size_t i;
		json_t *c;
		json_array_foreach(f->codes, i, c)
		{
			if (!theirs && json_string_value(c) && strstr(data, json_string_value(c)))
				theirs = 1;
		}
		free(data);
	}
	return theirs ? files_remove(f, rel, path, d) : 0;
}

/* A file tandem did not write: read, never changed; listed when it names them. */
static int
files_other_visit(struct files *f, const char *rel, const char *path, struct diag *d)
{
	static const char *const skip[] = {"outbox/", "reports/", "certificates/"};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strncmp(rel, skip[i], strlen(skip[i])) == 0)
			return 0;
	/* The database and its -wal, -shm and -journal (a copy such as tandem.db.bak is read). */
	static const char *const dbfiles[] = {"tandem.db", "tandem.db-wal", "tandem.db-shm",
					      "tandem.db-journal"};
	for (size_t i = 0; i < sizeof(dbfiles) / sizeof(dbfiles[0]); i++)
		if (strcmp(rel, dbfiles[i]) == 0)
			return 0;
	char real[4096], dbreal[4096];
	if (realpath(path, real) != NULL && realpath(f->db, dbreal) != NULL) {
		size_t n = strlen(dbreal);
		if (strncmp(real, dbreal, n) == 0 &&
		    (real[n] == '\0' || strcmp(real + n, "-wal") == 0 ||
		     strcmp(real + n, "-shm") == 0 || strcmp(real + n, "-journal") == 0))
			return 0;
	}
	int found = 0;
	if (files_scan(f, rel, path, "left", &found, d) != 0)
		return -1;
	found = found || scrub_found(&f->sc, rel, strlen(rel));
	return found ? files_note(f, rel, "left", NULL, d) : 0;
}

int
privacy_erase_files(const char *ws, const char *db, json_t *work,
		    struct privacy_erase_result *res, struct diag *d)
{
	struct files f = {.ws = ws, .db = db, .res = res};
	const char *name = json_string_value(json_object_get(work, "name"));
	const char *email = json_string_value(json_object_get(work, "email"));
	const char *ext = json_string_value(json_object_get(work, "external_id"));
	json_t *keys = json_object_get(work, "keys");
	f.codes = json_object_get(work, "codes");
	if (email == NULL || !json_is_array(keys) || !json_is_array(f.codes))
		return diag_set(d, DIAG_INVALID, "an erasure's file work lacks its e-mail, keys or codes");
	if (ext != NULL && ext[0] != '\0') {
		snprintf(f.cert_tail, sizeof(f.cert_tail), "-%s.html", ext);
		for (char *p = f.cert_tail; *p; p++) /* as `rewards certificate` names the page */
			if (*p == '/' || *p == '\\')
				*p = '_';
	}
	if ((f.keys = json_object()) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k)
	{
		if (json_string_value(k) && json_object_set(f.keys, json_string_value(k), json_true()) != 0) {
			json_decref(f.keys);
			return diag_set(d, DIAG_NOMEM, "out of memory");
		}
	}
	if (scrub_init(&f.sc, name, email, d) != 0) {
		json_decref(f.keys);
		return -1;
	}
	int rc = files_outbox(&f, d) || files_walk(&f, "reports", 1, files_report_visit, d) ||
			 files_walk(&f, "certificates", 1, files_cert_visit, d) ||
			 files_walk(&f, "", 0, files_other_visit, d)
		     ? -1
		     : 0;
	scrub_fini(&f.sc);
	json_decref(f.keys);
	return rc;
}

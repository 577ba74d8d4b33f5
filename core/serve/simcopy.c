/*
 * serve/simcopy: the throwaway copy `tandem simulate` runs on (see simcopy.h): its folder,
 * tandem.lua with the plugins, scripts and policies folders, and a consistent snapshot of
 * the database (VACUUM INTO), then its removal.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */

#include "serve/simcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

static int
copy_file(const char *from, const char *to, mode_t mode, struct diag *d)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return diag_set(d, DIAG_IO, "%s: %s", from, strerror(errno));
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
	if (out < 0) {
		diag_set(d, DIAG_IO, "%s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = diag_set(d, DIAG_IO, "%s: %s", from, strerror(errno));
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = diag_set(d, DIAG_IO, "%s: %s", to, strerror(errno));
				goto done;
			}
			off += w;
		}
	}
done:
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = diag_set(d, DIAG_IO, "%s: %s", to, strerror(errno));
	return rc;
}

/* dir/name into buf; -1 with a diag when it does not fit. */
int
simcopy_join(char *buf, size_t size, const char *dir, const char *name, struct diag *d)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return diag_set(d, DIAG_INVALID, "%s/%s: path too long", dir, name);
	return 0;
}

/* Copies the folder `from` into `to` (created): regular files and folders, symbolic
 * links followed; anything else (sockets, fifos) is left out. */
static int
copy_tree(const char *from, const char *to, int depth, struct diag *d)
{
	if (depth > 16)
		return diag_set(d, DIAG_INVALID, "%s: folders nested too deep to copy", from);
	if (mkdir(to, 0700) != 0 && errno != EEXIST)
		return diag_set(d, DIAG_IO, "%s: %s", to, strerror(errno));
	DIR *dir = opendir(from);
	if (dir == NULL)
		return diag_set(d, DIAG_IO, "%s: %s", from, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char src[4096], dst[4096];
		if (simcopy_join(src, sizeof(src), from, e->d_name, d) ||
		    simcopy_join(dst, sizeof(dst), to, e->d_name, d)) {
			rc = -1;
			break;
		}
		struct stat sb;
		if (stat(src, &sb) != 0)
			continue; /* a dangling link: nothing to copy */
		if (S_ISDIR(sb.st_mode))
			rc = copy_tree(src, dst, depth + 1, d);
		else if (S_ISREG(sb.st_mode))
			rc = copy_file(src, dst, sb.st_mode, d);
	}
	closedir(dir);
	return rc;
}

static int
remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

void
simcopy_remove(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The folder of the copy: keep (created; refused when it has anything in it), or a
 * new temporary folder. */
int
simcopy_dir(const char *keep, char *out, size_t size, struct diag *d)
{
	if (keep != NULL) {
		if ((size_t)snprintf(out, size, "%s", keep) >= size)
			return diag_set(d, DIAG_INVALID, "--keep %s: path too long", keep);
		if (mkdir(out, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return diag_set(d, DIAG_IO, "--keep %s: %s", keep, strerror(errno));
		DIR *dir = opendir(out);
		if (dir == NULL)
			return diag_set(d, DIAG_IO, "--keep %s: %s", keep, strerror(errno));
		struct dirent *e;
		int empty = 1;
		while ((e = readdir(dir)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				empty = 0;
		closedir(dir);
		if (!empty)
			return diag_set(d, DIAG_INVALID,
					"--keep %s: the folder exists and is not empty (the copy "
					"needs a new or empty folder)", keep);
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(out, size, "%s/tandem-simulate.XXXXXX", tmp) >= size)
		return diag_set(d, DIAG_INVALID, "TMPDIR %s: path too long", tmp);
	if (mkdtemp(out) == NULL)
		return diag_set(d, DIAG_IO, "%s: %s", out, strerror(errno));
	return 0;
}

/* tandem.lua and the folders its plugins and jobs live in; then the database. */
int
simcopy_workspace(const char *workspace, const char *db_path, const char *dir, struct diag *d)
{
	char src[4096], dst[4096];
	if (simcopy_join(src, sizeof(src), workspace, "tandem.lua", d) ||
	    simcopy_join(dst, sizeof(dst), dir, "tandem.lua", d))
		return -1;
	struct stat sb;
	if (stat(src, &sb) != 0)
		return diag_set(d, DIAG_NOTFOUND, "%s: %s", src, strerror(errno));
	if (copy_file(src, dst, sb.st_mode, d) != 0)
		return -1;
	static const char *const folders[] = {"plugins", "scripts", "policies"};
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		if (simcopy_join(src, sizeof(src), workspace, folders[i], d) ||
		    simcopy_join(dst, sizeof(dst), dir, folders[i], d))
			return -1;
		if (stat(src, &sb) == 0 && S_ISDIR(sb.st_mode) && copy_tree(src, dst, 0, d) != 0)
			return -1;
	}

	/* VACUUM INTO writes a consistent snapshot into the copy, even while a service writes.
	 * The connection is opened read-write but only reads: a read-only one would leave
	 * the -wal and -shm files it creates behind in the real workspace, while this one,
	 * when it is the last connection, removes them as it closes (an empty log: nothing
	 * is written to the database file). Not store_open: that would migrate the real
	 * database; the copy is migrated instead, when run_copy opens it. */
	if (simcopy_join(dst, sizeof(dst), dir, "tandem.db", d) != 0)
		return -1;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(q, 1, dst, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		diag_set(d, DIAG_DB, "copying the database %s: %s", db_path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

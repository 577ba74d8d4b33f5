/*
 * outfile: output files that appear only when complete. See outfile.h for the
 * contract.
 */
#include "io/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
outfile_name(const struct outfile *o)
{
	return o->path ? o->path : "standard output";
}

int
outfile_open(struct outfile *o, const char *path, struct diag *d)
{
	o->path = path;
	o->tmp[0] = '\0';
	if (path == NULL) {
		o->f = stdout;
		return 0;
	}
	/* A device or pipe (/dev/stdout, a FIFO) is written in place, never replaced. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "w");
		if (o->f == NULL)
			return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(errno));
		return 0;
	}
	if ((size_t)snprintf(o->tmp, sizeof(o->tmp), "%s.tmpXXXXXX", path) >= sizeof(o->tmp))
		return diag_set(d, DIAG_IO, "cannot write '%s': path too long", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		o->tmp[0] = '\0';
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(errno));
	}
	o->f = fdopen(fd, "w");
	if (o->f == NULL) {
		int e = errno;
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", path, strerror(e));
	}
	/*
	 * mkstemp creates 0600; a CSV export should get the usual umask-based mode. A
	 * failure (a filesystem without modes) is ignored: a 0600 file is still right.
	 */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	return 0;
}

void
outfile_discard(struct outfile *o)
{
	if (o->tmp[0] != '\0')
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

/* Flushes and closes; on failure (or when !ok) the temporary file is removed. */
int
outfile_close(struct outfile *o, int ok, struct diag *d)
{
	if (o->f == NULL)
		return ok ? 0 : -1;
	int failed = fflush(o->f) != 0 || ferror(o->f);
	int e = errno;
	if (o->f != stdout && fclose(o->f) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	o->f = NULL;
	if (failed && ok) {
		diag_set(d, DIAG_IO, "cannot write '%s': %s", outfile_name(o), strerror(e));
		ok = 0;
	}
	if (!ok)
		outfile_discard(o);
	return ok ? 0 : -1;
}

/* Renames the finished temporary file onto its target. */
int
outfile_commit(struct outfile *o, struct diag *d)
{
	if (o->tmp[0] == '\0')
		return 0;
	if (rename(o->tmp, o->path) != 0) {
		int e = errno;
		unlink(o->tmp);
		return diag_set(d, DIAG_IO, "cannot write '%s': %s", o->path, strerror(e));
	}
	o->tmp[0] = '\0';
	return 0;
}

int
outfile_write_all(const char *path, const void *data, size_t len, struct diag *d)
{
	struct outfile of;
	if (outfile_open(&of, path, d) != 0)
		return -1;
	int ok = fwrite(data, 1, len, of.f) == len;
	if (outfile_close(&of, ok, d) != 0 || outfile_commit(&of, d) != 0)
		return -1;
	return 0;
}

int
outfile_lock(const char *path, int flags, struct diag *d)
{
	for (;;) {
		int fd = open(path, flags | O_CLOEXEC, 0644);
		if (fd < 0) {
			int e = errno;
			diag_set(d, DIAG_IO, "cannot open '%s': %s", path, strerror(e));
			errno = e;
			return -1;
		}
		int rc;
		while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		struct stat held, now;
		if (rc != 0 || fstat(fd, &held) != 0) {
			int e = errno;
			close(fd);
			diag_set(d, DIAG_IO, "cannot lock '%s': %s", path, strerror(e));
			errno = e;
			return -1;
		}
		/* Still the file at the path: ours. Replaced (or removed) while we waited:
		 * again, on what is there now. */
		if (stat(path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino)
			return fd;
		close(fd);
	}
}

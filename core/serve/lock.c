/*
 * serve/lock: the workspace's single-instance lock (see lock.h for why a record lock).
 */
#include "serve/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct serve_lock {
	int fd;
	struct serve_lock *next; /* released with this one (serve_lock_chain) */
};

/* The pid written in the file by the holder, or 0. */
static long
read_pid(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *end;
	long pid = strtol(text, &end, 10);
	return pid > 0 ? pid : 0;
}

static int
write_pid(int fd, struct diag *d)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len)
		return diag_set(d, DIAG_IO, "cannot write the pid into the lock file: %s",
				strerror(errno));
	return 0;
}

int
serve_lock_acquire(const char *path, struct serve_lock **out, long *holder, struct diag *d)
{
	*out = NULL;
	*holder = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return diag_set(d, DIAG_IO, "cannot open the lock file %s: %s", path, strerror(errno));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		int err = errno;
		if (err != EACCES && err != EAGAIN) {
			close(fd);
			return diag_set(d, DIAG_IO, "cannot lock %s: %s", path, strerror(err));
		}
		/* Held: ask the kernel who holds it; the file's text is the fallback. */
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK && q.l_pid > 0)
			*holder = (long)q.l_pid;
		else
			*holder = read_pid(fd);
		close(fd);
		return 1;
	}
	if (write_pid(fd, d) != 0) {
		close(fd);
		return diag_prefix(d, "%s", path);
	}
	struct serve_lock *l = malloc(sizeof(*l));
	if (l == NULL) {
		close(fd);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	l->fd = fd;
	l->next = NULL;
	*out = l;
	return 0;
}

void
serve_lock_release(struct serve_lock *l)
{
	while (l != NULL) {
		struct serve_lock *next = l->next;
		close(l->fd);
		free(l);
		l = next;
	}
}

void
serve_lock_chain(struct serve_lock *l, struct serve_lock *next)
{
	while (l->next != NULL)
		l = l->next;
	l->next = next;
}

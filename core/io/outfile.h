/*
 * outfile: an output file that appears only when everything was written. A
 * regular file is written under a temporary name next to its target
 * (PATH.tmpXXXXXX, with the usual umask-based mode) and renamed onto it by
 * outfile_commit, so a failure never leaves a half file behind; a device or a
 * pipe (/dev/stdout, a FIFO) is written in place; no path means standard output.
 *
 * Callers: `tandem gen-org` (core/cli/cmd_genorg.c), and any export that must
 * not leave a truncated file (calendar, report, rewards certificate: outfile_write_all).
 *
 * Contract: open, write to o->f, then outfile_close (flushes; removes the
 * temporary file on failure or when !ok) and outfile_commit (renames). Errors
 * are "cannot write 'PATH': reason" (PATH "standard output" for stdout).
 *
 * A file that is both appended to and replaced whole (outbox/messages.jsonl: the
 * notifier appends a line per message, `people erase` writes it again without the
 * erased person's lines) is held with outfile_lock by both sides: an exclusive
 * flock() on the file that is at the path at the moment the lock is granted, so
 * an appender waiting while the file is replaced appends to the new file, never
 * to the old one the rename took away (where the line would be lost).
 */
#ifndef TANDEM_OUTFILE_H
#define TANDEM_OUTFILE_H

#include <stdio.h>

#include "base/diag.h"

struct outfile {
	const char *path; /* NULL: standard output */
	char tmp[4096];   /* the temporary name; "" when none */
	FILE *f;
};

/* Opens path (NULL: standard output) for writing. */
int outfile_open(struct outfile *o, const char *path, struct diag *d);

/* The target's name in messages: its path, or "standard output". */
const char *outfile_name(const struct outfile *o);

/*
 * Flushes and closes; on a write failure (when ok) it sets d; on failure or
 * when !ok the temporary file is removed. 0 only when ok and all was written.
 */
int outfile_close(struct outfile *o, int ok, struct diag *d);

/* Removes the temporary file, if any (after a failure elsewhere). */
void outfile_discard(struct outfile *o);

/* Renames the finished temporary file onto its target (nothing to do for stdout or a device). */
int outfile_commit(struct outfile *o, struct diag *d);

/* The whole sequence for a document already in memory: open, write len bytes, close, commit.
 * 0, or -1 + d with nothing left behind. */
int outfile_write_all(const char *path, const void *data, size_t len, struct diag *d);

/*
 * Opens path with flags (O_CLOEXEC added; O_CREAT creates it 0644) and waits for an
 * exclusive flock() on it; if the path names another file by then (replaced by a
 * holder of the lock), opens it again. The lock lasts until the descriptor is closed.
 * The descriptor, or -1 with errno set (ENOENT without O_CREAT: no such file) and d
 * set, "cannot open 'PATH': reason". A flock belongs to the open file description: a
 * child forked while it is held shares it until the child closes its copy.
 */
int outfile_lock(const char *path, int flags, struct diag *d);

#endif

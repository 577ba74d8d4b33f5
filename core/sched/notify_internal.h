/*
 * notify (internal): what notify.c hands the built-in writers of notify_write.c.
 * Not for other modules: they go through notify.h.
 */
#ifndef TANDEM_NOTIFY_INTERNAL_H
#define TANDEM_NOTIFY_INTERNAL_H

#include <time.h>

#include "base/diag.h"
#include "events/outbox.h"

/* One message as the writers see it. */
struct notify_mail {
	const struct outbox_row *row;
	const char *subject, *body; /* the row's, or a plugin's */
	const char *to_name, *to_email;
	time_t now;
	int no_sync;  /* the file need not reach the disk (notify_set_no_sync) */
	int no_files; /* the text is built, not written (notify_set_no_files) */
};

/* WORKSPACE/outbox/<name>.<hash>.eml, atomically; a row that was unknown and whose file
 * exists is left as written; with no_files only built. 0, or -1 + diag (DIAG_IO: worth a
 * retry). */
int notify_write_eml(const char *workspace, const char *from, const struct notify_mail *m,
		     struct diag *d);

/* One line appended to WORKSPACE/outbox/messages.jsonl and fsync'd; a row that was
 * unknown and whose key is in the file already is not appended again; with no_files the
 * line is only built. 0, or -1 + diag. */
int notify_write_jsonl(const char *workspace, const struct notify_mail *m, struct diag *d);

/* Whether the message with this key was written already: its .eml file exists (jsonl 0)
 * or a line of messages.jsonl has the key (jsonl 1). 1 yes, 0 no, -1 + diag. */
int notify_written(const char *workspace, const char *key, int jsonl, struct diag *d);

#endif

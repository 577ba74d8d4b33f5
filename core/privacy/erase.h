/*
 * privacy/erase: `people erase` over the whole workspace, not only its rows. The person's
 * rows go as program/people.h describes (people_erase_rows_with); in the same transaction
 * this module also
 *   - keeps a tombstone of each of their certificates (rewards/certificate.h:
 *     certificate_tombstone), so `rewards verify` says the holder was erased;
 *   - scrubs the outbox rows of other people whose subject, body or attachments name them
 *     (a partner's reminders, the manager's monthly report mails): each spelling of the
 *     name and e-mail (privacy/scrub.h) becomes "(erased)";
 *   - records the file work in erasure_files (schema v20): the name and e-mail, the keys of
 *     the messages addressed to them or naming them, the certificates' codes.
 * After the commit the file work runs, in the workspace folder ws:
 *   - outbox/: the .eml copy of each of those messages is removed (theirs are personal
 *     data; the others' copies were delivered, and their rows stay, scrubbed), as is their
 *     line in messages.jsonl (rewritten whole, under a temporary name), and any other .eml
 *     or line that still names them;
 *   - reports/ (the published monthly reports): every file that names them is rewritten
 *     with "(erased)" in place of the name and e-mail (temporary file, rename);
 *   - certificates/: each page of theirs (holding one of their codes, or named
 *     PROGRAM-ID.html after their id) is removed;
 *   - every other file of the workspace (the HR export, files written with --out) is read,
 *     not changed: those that name them are listed as left, for the user to deal with.
 * Only when every removal and rewrite succeeded is the erasure_files row deleted (a second
 * transaction), then the WAL is checkpointed and the file vacuumed if the e-mail's bytes
 * are still there (people_erase_flush). Each step can run again: a crash or a failure
 * leaves the row, and the next privacy_erase or privacy_erase_finish does the file work
 * again first (a removed file is not there any more, a scrubbed one names no one).
 *
 * Called by cli/cmd_people.c (`tandem people erase`) and the public API.
 */
#ifndef TANDEM_PRIVACY_ERASE_H
#define TANDEM_PRIVACY_ERASE_H

#include <jansson.h>

#include "base/diag.h"
#include "program/people.h"
#include "store/store.h"

struct privacy_erase_result {
	struct people_erase_result people; /* the rows (zeroed when only earlier work ran) */
	long messages_scrubbed; /* other people's outbox rows whose text named them */
	int certificates;       /* certificate tombstones kept */
	int pending;            /* erasures whose file work was done (or tried) by this call */
	long removed, scrubbed, failed, left; /* files, by what happened to them */
	/* One entry per file: {"path" (relative to the workspace), "action": "removed",
	 * "scrubbed", "failed" or "left", "error" (failed only)}, in that order of work. */
	json_t *files;
};

/* Finishes any earlier erasure's file work, then erases the person (external id or
 * e-mail) with their files. 0 (res->failed > 0 when some files could not be removed or
 * rewritten: they are listed, and a later run tries them again), or -1 + diag:
 * DIAG_NOTFOUND for no such person (earlier work was still done), DIAG_DB, DIAG_IO. */
int privacy_erase(struct store *st, const char *ws, const char *key,
		  struct privacy_erase_result *res, struct diag *d);

/* Only the earlier erasures' leftover file work. 0 or -1 + diag, as above. */
int privacy_erase_finish(struct store *st, const char *ws, struct privacy_erase_result *res,
			 struct diag *d);

void privacy_erase_result_fini(struct privacy_erase_result *res);

#endif

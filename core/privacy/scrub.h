/*
 * privacy/scrub: a person's name and e-mail found and replaced in text, in every spelling
 * tandem writes them: as is, escaped for HTML, Markdown and iCalendar text, and each of
 * those escaped again inside a JSON string (the outbox's attachments, messages.jsonl).
 * A match may be cut by a line fold (CRLF or LF then a space or tab, as .ics and mail
 * headers fold long lines; also their JSON-escaped form). A name matches as a whole word:
 * the bytes around it are not letters or digits (ASCII, or any byte of a UTF-8 sequence),
 * so "Al" does not match inside "Also". The comparison is byte for byte: case and Unicode
 * normalization are not folded.
 *
 * Called by privacy/erase (the database's outbox rows, the workspace's files). No I/O.
 */
#ifndef TANDEM_PRIVACY_SCRUB_H
#define TANDEM_PRIVACY_SCRUB_H

#include <stddef.h>

#include "base/diag.h"

/* What a match is replaced with. */
#define SCRUB_MARK "(erased)"

enum { SCRUB_MAX = 32 };

struct scrub {
	char *v[SCRUB_MAX]; /* the spellings, longest first */
	size_t n;
};

/* The spellings of name and email (either may be NULL or shorter than 2 bytes: left out).
 * 0, or -1 + diag (out of memory). */
int scrub_init(struct scrub *s, const char *name, const char *email, struct diag *d);
void scrub_fini(struct scrub *s);

/* 1 when text[0..len) holds a spelling, else 0. */
int scrub_found(const struct scrub *s, const char *text, size_t len);

/*
 * Replaces every spelling in text[0..len) with SCRUB_MARK: *out is a new malloc'd,
 * NUL-terminated text of *outlen bytes when something was replaced (the count is
 * returned), NULL when nothing was (0). -1 + diag when out of memory.
 */
long scrub_text(const struct scrub *s, const char *text, size_t len, char **out, size_t *outlen,
		struct diag *d);

#endif

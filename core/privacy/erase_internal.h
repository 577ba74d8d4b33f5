/*
 * privacy/erase (internal): what erase.c hands the file work of erase_files.c.
 */
#ifndef TANDEM_PRIVACY_ERASE_INTERNAL_H
#define TANDEM_PRIVACY_ERASE_INTERNAL_H

#include <jansson.h>

#include "base/diag.h"
#include "privacy/erase.h"

/*
 * The file work of one erasure, `work` as erasure_files holds it: {name, email,
 * external_id, keys: [outbox keys whose copies go], codes: [certificate codes]}. ws: the
 * workspace; db: the database's path (never read as a workspace file). Adds to res (files,
 * counts). 0 (res->failed counts what could not be done), or -1 + diag (bad work, out of
 * memory).
 */
int privacy_erase_files(const char *ws, const char *db, json_t *work,
			struct privacy_erase_result *res, struct diag *d);

#endif

/*
 * serve/simcopy: the copy of a workspace that `tandem simulate` runs on.
 *
 * Contract:
 *  - simcopy_dir: keep != NULL: that folder, created, or taken when it exists and is
 *    empty (DIAG_INVALID when it has anything in it); keep == NULL: a new folder
 *    $TMPDIR/tandem-simulate.XXXXXX (TMPDIR unset or empty: /tmp). The path into out.
 *  - simcopy_workspace: into dir, tandem.lua (DIAG_NOTFOUND without one), the folders
 *    plugins, scripts and policies when they exist (regular files and folders, modes
 *    kept), and db_path's database as tandem.db by VACUUM INTO: a consistent snapshot
 *    even while a service writes; the real database is only read and not migrated.
 *  - simcopy_join: dir/name into buf; DIAG_INVALID when it does not fit.
 *  - simcopy_remove: the folder and everything in it, best effort.
 *  Each returns 0, or -1 with a diag naming the path.
 */
#ifndef TANDEM_SERVE_SIMCOPY_H
#define TANDEM_SERVE_SIMCOPY_H

#include <stddef.h>

#include "base/diag.h"

int simcopy_dir(const char *keep, char *out, size_t size, struct diag *d);
int simcopy_workspace(const char *workspace, const char *db_path, const char *dir,
		      struct diag *d);
int simcopy_join(char *buf, size_t size, const char *dir, const char *name, struct diag *d);
void simcopy_remove(const char *path);

#endif

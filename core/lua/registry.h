/*
 * lua/registry: finding plugins on disk, by path or by declared name.
 *
 * Search order for a kind (first match wins, so the workspace shadows built-ins):
 *  1. the workspace: WS/policies, WS/plugins/<kind>s (cadences, rewards,
 *     reports), WS/scripts for jobs;
 *  2. installed built-ins: $TANDEM_DATADIR (environment, if set), then the
 *     TANDEM_DATADIR compile definition (e.g. /usr/local/share/tandem), each with
 *     the same sub-folders;
 *  3. the source tree (TANDEM_SRCDIR compile definition), so the CLI works from a
 *     build tree without installing.
 * Folders that resolve to the same real path are searched once. Only *.lua files
 * directly in those folders are plugins.
 *
 * A plugin's name is its declared `name`. Resolving a name looks for the file
 * NAME.lua in the search folders first and loads only that file (in its worker)
 * to check that it declares NAME; only when no such file declares it does it read
 * every declaration of the kind, each file in its own worker (killed at its
 * deadline, its failure recorded, none stalling the others past that).
 * A reference containing '/' or ending in ".lua" is a path (relative to the
 * current directory, or to the workspace if not found there).
 *
 * Every function takes the host whose kinds validate the declarations (NULL:
 * the built-in kinds; see plugin.h).
 *
 * Who calls it: `tandem plugins list` and `tandem plugins check`, the policy
 * engine (`tandem match run --policy NAME`), the scheduler (job scripts).
 */
#ifndef TANDEM_LUA_REGISTRY_H
#define TANDEM_LUA_REGISTRY_H

#include "base/diag.h"
#include "lua/plugin.h"

enum plugin_source { PLUGIN_SRC_PATH, PLUGIN_SRC_WORKSPACE, PLUGIN_SRC_BUILTIN };

/* "path", "workspace", "builtin". */
const char *plugin_source_name(enum plugin_source s);

/* One plugin file found by discovery. Strings are owned by the list. */
struct plugin_entry {
	char *path;
	enum plugin_source source;
	int loaded;        /* 1 if the file loaded; then the fields below are set */
	enum plugin_kind kind;
	char *name;        /* declared name; if not loaded, the file name without .lua */
	char *version;     /* NULL if not loaded */
	char *description; /* NULL if none */
	int api;
	char *error;       /* the load error, NULL if loaded */
	int shadowed;      /* 1 if an earlier entry (workspace) has the same kind and name */
};

struct plugin_list {
	struct plugin_entry *v;
	int n, cap;
};

/*
 * Lists every plugin of `kind` (or of every kind if kind < 0) under workspace
 * folder `ws` (may be NULL: built-ins only), in search order, sorted by name
 * within a folder. Files that fail to load are listed with their error; that is
 * not a failure of the listing. The list must be released with
 * plugin_list_fini(). Returns 0, or -1 with a diag (out of memory).
 */
int plugin_discover(const struct plugin_host *h, const char *ws, int kind,
		    const struct plugin_limits *lim,
		    struct plugin_list *out, struct diag *d);
void plugin_list_fini(struct plugin_list *l);

/*
 * Resolves `ref` (a path, or a declared name of `kind`) to a file path in buf.
 * Returns 0, or -1 with DIAG_NOTFOUND ("no policy named 'x' in WS/policies or the
 * built-ins") or the load error of a path.
 */
int plugin_resolve(const struct plugin_host *h, const char *ws, enum plugin_kind kind,
		   const char *ref,
		   const struct plugin_limits *lim, char *buf, size_t size, struct diag *d);

/*
 * plugin_resolve + plugin_load, then checks that the plugin is of `kind`
 * ("policies/x.lua: declares a cadence, expected a policy").
 */
struct plugin *plugin_open(const struct plugin_host *h, const char *ws, enum plugin_kind kind,
			   const char *ref,
			   const struct plugin_limits *lim, struct diag *d);

/*
 * The search folders for a kind, in order; returns how many were written into
 * dirs (at most max; each malloc'd, caller frees each) with their source.
 */
int plugin_search_dirs(const char *ws, enum plugin_kind kind, char **dirs,
		       enum plugin_source *sources, int max);

#endif

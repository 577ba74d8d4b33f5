/*
 * lua/registry: plugin discovery and name resolution. See registry.h.
 */
#include "lua/registry.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_DIRS = 8 };

const char *
plugin_source_name(enum plugin_source s)
{
	switch (s) {
	case PLUGIN_SRC_WORKSPACE: return "workspace";
	case PLUGIN_SRC_BUILTIN: return "builtin";
	default: return "path";
	}
}

static int
is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Appends dir if it exists and its real path is not already listed. A workspace folder
 * that is also a built-in folder (tandem run from its source tree) is labelled built-in. */
static int
add_dir(char **dirs, enum plugin_source *src, int n, int max, const char *base, const char *sub,
	enum plugin_source s)
{
	if (n >= max || base == NULL || base[0] == '\0')
		return n;
	char path[PATH_MAX];
	if (strcmp(base, ".") == 0)
		snprintf(path, sizeof(path), "%s", sub);
	else
		snprintf(path, sizeof(path), "%s/%s", base, sub);
	if (!is_dir(path))
		return n;
	char real[PATH_MAX], other[PATH_MAX];
	if (realpath(path, real) == NULL)
		return n;
	for (int i = 0; i < n; i++)
		if (realpath(dirs[i], other) != NULL && strcmp(other, real) == 0) {
			if (s == PLUGIN_SRC_BUILTIN)
				src[i] = s;
			return n;
		}
	dirs[n] = strdup(path);
	if (dirs[n] == NULL)
		return n;
	src[n] = s;
	return n + 1;
}

int
plugin_search_dirs(const char *ws, enum plugin_kind kind, char **dirs, enum plugin_source *sources,
		   int max)
{
	const char *sub = plugin_kind_dir(kind);
	int n = 0;
	n = add_dir(dirs, sources, n, max, ws, sub, PLUGIN_SRC_WORKSPACE);
	n = add_dir(dirs, sources, n, max, getenv("TANDEM_DATADIR"), sub, PLUGIN_SRC_BUILTIN);
#ifdef TANDEM_DATADIR
	n = add_dir(dirs, sources, n, max, TANDEM_DATADIR, sub, PLUGIN_SRC_BUILTIN);
#endif
#ifdef TANDEM_SRCDIR
	n = add_dir(dirs, sources, n, max, TANDEM_SRCDIR, sub, PLUGIN_SRC_BUILTIN);
#endif
	return n;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.lua file names of a folder, sorted; returns the count (or -1). */
static int
lua_files(const char *dir, char ***out)
{
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return -1;
	char **v = NULL;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.' || !ends_with(e->d_name, ".lua"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, (size_t)cap * sizeof(char *));
			if (nv == NULL)
				break;
			v = nv;
		}
		if ((v[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(dp);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(char *), cmp_str);
	*out = v;
	return n;
}

static void
free_each(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
}

static void
free_strs(char **v, int n)
{
	free_each(v, n);
	free(v);
}

static struct plugin_entry *
list_push(struct plugin_list *l, struct diag *d)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		struct plugin_entry *nv = realloc(l->v, (size_t)cap * sizeof(*nv));
		if (nv == NULL) {
			diag_set(d, DIAG_NOMEM, "out of memory listing plugins");
			return NULL;
		}
		l->v = nv;
		l->cap = cap;
	}
	struct plugin_entry *e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static char *
dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

/* Loads one file and fills an entry; a load error is recorded, not returned.
 * Returns -1 only when a copy could not be allocated. */
static int
describe_file(const struct plugin_host *h, struct plugin_entry *e, const char *path,
	      enum plugin_kind dir_kind,
	      enum plugin_source src, const struct plugin_limits *lim)
{
	struct diag d;
	diag_clear(&d);
	e->path = strdup(path);
	e->source = src;
	e->kind = dir_kind;
	struct plugin *p = plugin_load(h, path, lim, &d);
	if (p == NULL) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		e->name = strndup(base, strlen(base) - 4);
		e->error = strdup(d.msg);
		return e->path && e->name && e->error ? 0 : -1;
	}
	e->loaded = 1;
	e->kind = plugin_kind(p);
	e->name = strdup(plugin_name(p));
	e->version = strdup(plugin_version(p));
	e->description = dup_or_null(plugin_description(p));
	e->api = plugin_api(p);
	int ok = e->path && e->name && e->version &&
		 (e->description != NULL || plugin_description(p)[0] == '\0');
	if (e->kind != dir_kind) {
		char msg[DIAG_MSG_MAX];
		snprintf(msg, sizeof(msg), "%.600s: declares a %s, but %s/ holds %s plugins", path,
			 plugin_kind_name(e->kind), plugin_kind_dir(dir_kind), plugin_kind_name(dir_kind));
		if ((e->error = strdup(msg)) == NULL)
			ok = 0;
	}
	plugin_delete(p);
	return ok ? 0 : -1;
}

static void
mark_shadowed(struct plugin_list *l)
{
	for (int i = 0; i < l->n; i++)
		for (int j = 0; j < i; j++)
			if (l->v[j].kind == l->v[i].kind && strcmp(l->v[j].name, l->v[i].name) == 0 &&
			    !l->v[j].shadowed) {
				l->v[i].shadowed = 1;
				break;
			}
}

int
plugin_discover(const struct plugin_host *h, const char *ws, int kind,
		const struct plugin_limits *lim, struct plugin_list *out,
		struct diag *d)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < PLUGIN_KIND_COUNT; k++) {
		if (kind >= 0 && k != kind)
			continue;
		char *dirs[MAX_DIRS];
		enum plugin_source src[MAX_DIRS];
		int nd = plugin_search_dirs(ws, (enum plugin_kind)k, dirs, src, MAX_DIRS);
		for (int i = 0; i < nd; i++) {
			char **files;
			int nf = lua_files(dirs[i], &files);
			for (int f = 0; f < nf; f++) {
				char path[PATH_MAX];
				snprintf(path, sizeof(path), "%s/%s", dirs[i], files[f]);
				struct plugin_entry *e = list_push(out, d);
				if (e != NULL &&
				    describe_file(h, e, path, (enum plugin_kind)k, src[i], lim) != 0) {
					diag_set(d, DIAG_NOMEM, "out of memory listing plugins");
					e = NULL;
				}
				if (e == NULL) {
					free_strs(files, nf);
					free_each(dirs, nd);
					plugin_list_fini(out);
					return -1;
				}
			}
			if (nf >= 0)
				free_strs(files, nf);
		}
		free_each(dirs, nd);
	}
	mark_shadowed(out);
	return 0;
}

void
plugin_list_fini(struct plugin_list *l)
{
	for (int i = 0; i < l->n; i++) {
		struct plugin_entry *e = &l->v[i];
		free(e->path);
		free(e->name);
		free(e->version);
		free(e->description);
		free(e->error);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
is_path_ref(const char *ref)
{
	return strchr(ref, '/') != NULL || ends_with(ref, ".lua");
}

/*
 * NAME.lua in the search folders, in order, loaded (in its worker) to check that
 * it declares NAME as a `kind`. Returns the plugin, or NULL when there is no such
 * file or it declares something else (then the declared names decide); *failed says
 * why the file did not load when it exists and does not.
 */
static struct plugin *
by_file_name(const struct plugin_host *h, const char *ws, enum plugin_kind kind, const char *ref,
	     const struct plugin_limits *lim, char *buf, size_t size, struct diag *failed)
{
	char *dirs[MAX_DIRS];
	enum plugin_source src[MAX_DIRS];
	int nd = plugin_search_dirs(ws, kind, dirs, src, MAX_DIRS);
	int hit = 0;
	struct stat st;
	for (int i = 0; i < nd; i++) {
		if (!hit) {
			snprintf(buf, size, "%s/%s.lua", dirs[i], ref);
			hit = stat(buf, &st) == 0 && S_ISREG(st.st_mode);
		}
		free(dirs[i]);
	}
	if (!hit)
		return NULL;
	struct plugin *p = plugin_load(h, buf, lim, failed);
	if (p != NULL && (plugin_kind(p) != kind || strcmp(plugin_name(p), ref) != 0)) {
		plugin_delete(p);
		p = NULL;
	}
	return p;
}

/* Resolves ref; *loaded (may be NULL) receives the plugin if it had to be loaded. */
static int
resolve(const struct plugin_host *h, const char *ws, enum plugin_kind kind, const char *ref,
	const struct plugin_limits *lim,
	char *buf, size_t size, struct plugin **loaded, struct diag *d)
{
	struct stat st;
	if (is_path_ref(ref)) {
		if (stat(ref, &st) == 0 || ws == NULL || ref[0] == '/') {
			snprintf(buf, size, "%s", ref);
		} else {
			snprintf(buf, size, "%s/%s", ws, ref);
			if (stat(buf, &st) != 0)
				snprintf(buf, size, "%s", ref);
		}
		if (stat(buf, &st) != 0)
			return diag_set(d, DIAG_NOTFOUND, "%s: no such file", buf);
		return 0;
	}
	/* First by file name: the usual case, and it loads that one file only, so a
	 * broken or hostile file lying next to it cannot stall the run. Only when
	 * no file of that name declares it are the declared names read, each file
	 * in its own worker. */
	struct diag failed; /* why REF.lua did not load, when it exists and did not */
	diag_clear(&failed);
	struct plugin *p = plugin_name_valid(ref)
				   ? by_file_name(h, ws, kind, ref, lim, buf, size, &failed)
				   : NULL;
	if (p != NULL) {
		if (loaded != NULL)
			*loaded = p;
		else
			plugin_delete(p);
		return 0;
	}
	struct plugin_list l;
	if (plugin_discover(h, ws, (int)kind, lim, &l, d) != 0)
		return -1;
	int found = -1;
	for (int i = 0; i < l.n && found < 0; i++)
		if (l.v[i].loaded && l.v[i].error == NULL && strcmp(l.v[i].name, ref) == 0)
			found = i;
	if (found >= 0)
		snprintf(buf, size, "%s", l.v[found].path);
	plugin_list_fini(&l);
	if (found < 0 && failed.msg[0] != '\0') /* the file of that name exists but is broken */
		return diag_set(d, failed.code, "%s", failed.msg);
	if (found < 0)
		return diag_set(d, DIAG_NOTFOUND, "no %s named '%s' in %s%s%s or the built-ins",
				plugin_kind_name(kind), ref, ws ? ws : "", ws ? "/" : "",
				plugin_kind_dir(kind));
	return 0;
}

int
plugin_resolve(const struct plugin_host *h, const char *ws, enum plugin_kind kind, const char *ref,
	       const struct plugin_limits *lim, char *buf, size_t size, struct diag *d)
{
	return resolve(h, ws, kind, ref, lim, buf, size, NULL, d);
}

struct plugin *
plugin_open(const struct plugin_host *h, const char *ws, enum plugin_kind kind, const char *ref,
	    const struct plugin_limits *lim,
	    struct diag *d)
{
	char path[PATH_MAX];
	struct plugin *p = NULL;
	if (resolve(h, ws, kind, ref, lim, path, sizeof(path), &p, d) != 0)
		return NULL;
	if (p == NULL && (p = plugin_load(h, path, lim, d)) == NULL)
		return NULL;
	if (plugin_kind(p) != kind) {
		diag_set(d, DIAG_INVALID, "%s: declares a %s, expected a %s", path,
			 plugin_kind_name(plugin_kind(p)), plugin_kind_name(kind));
		plugin_delete(p);
		return NULL;
	}
	return p;
}

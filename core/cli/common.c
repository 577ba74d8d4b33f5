/*
 * cli/common: helpers every command shares: error and usage messages, JSON
 * output, aligned tables, progress lines and workspace paths.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vec.h"
#include "program/matches.h"
#include "sched/session.h"
#include "store/store.h"
#include "time/tz.h"

const char *
cli_db_path(const struct cli *c)
{
	static char buf[4096];
	if (c->db_path != NULL)
		return c->db_path;
	return cli_ws_path(c, "tandem.db", buf, sizeof(buf));
}

const char *
cli_ws_path(const struct cli *c, const char *rel, char *buf, size_t size)
{
	if (rel[0] == '/' || c->dir == NULL || strcmp(c->dir, ".") == 0)
		snprintf(buf, size, "%s", rel);
	else
		snprintf(buf, size, "%s/%s", c->dir, rel);
	return buf;
}

const char *
cli_actor(void)
{
	const char *u = getenv("USER");
	return u && u[0] ? u : "cli";
}

int
cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tandem: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return CLI_FAIL;
}

int
cli_diag(const struct diag *d)
{
	return cli_error("%s", d->msg[0] ? d->msg : "unknown error");
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tandem %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nRun 'tandem %s --help' for usage.\n", cmd);
	va_end(ap);
	return CLI_USAGE;
}

int
cli_bad_option(const char *cmd, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	if (opt == ':')
		return cli_usage(cmd, "%s needs a value", arg);
	return cli_usage(cmd, "unknown option '%s'", arg);
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
cli_json_out(json_t *v)
{
	if (v == NULL)
		return cli_error("out of memory building JSON output");
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(v);
	if (rc != 0 || fputc('\n', stdout) == EOF)
		return cli_error("cannot write JSON output");
	return CLI_OK;
}

int
cli_parse_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		cli_usage(cmd, "%s expects a whole number from %ld to %ld, got '%s'", opt, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

struct cli_table {
	int ncols;
	int nrows;
	char **cells; /* nrows * ncols */
	size_t cap;   /* cells allocated */
};

/*
 * Out of memory while building a listing: a table with rows silently missing would
 * be wrong output with exit 0, and the void table API cannot report it, so stop here.
 */
static void
table_oom(void)
{
	cli_error("out of memory while building a table");
	exit(CLI_FAIL);
}

struct cli_table *
cli_table_new(int ncols)
{
	struct cli_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		table_oom();
	t->ncols = ncols;
	return t;
}

void
cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t == NULL)
		return;
	size_t need = ((size_t)t->nrows + 1) * (size_t)t->ncols;
	if (vec_grow(&t->cells, &t->cap, need, sizeof(*t->cells), NULL) != 0)
		table_oom();
	for (int i = 0; i < t->ncols; i++) {
		char *cell = strdup(cells[i] ? cells[i] : "");
		if (cell == NULL)
			table_oom();
		t->cells[t->nrows * t->ncols + i] = cell;
	}
	t->nrows++;
}

/* Display width of a UTF-8 string: counts code points, not bytes. */
static int
utf8_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void
cli_table_print(struct cli_table *t, FILE *out)
{
	if (t == NULL)
		return;
	int *width = calloc((size_t)t->ncols, sizeof(int));
	if (width == NULL)
		table_oom();
	for (int r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			int w = s ? utf8_width(s) : 0;
			if (w > width[i])
				width[i] = w;
		}
	for (int r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			s = s ? s : "";
			if (i == t->ncols - 1)
				fprintf(out, "%s", s);
			else
				fprintf(out, "%s%*s  ", s, width[i] - utf8_width(s), "");
		}
		fputc('\n', out);
	}
	free(width);
}

void
cli_table_delete(struct cli_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void
cli_progress(const struct cli *c, const char *what, long done, long total)
{
	if (!c->stderr_tty)
		return;
	if (total > 0)
		fprintf(stderr, "\r%s: %ld/%ld (%ld%%)", what, done, total, done * 100 / total);
	else
		fprintf(stderr, "\r%s: %ld", what, done);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

static int
cli_open_store_flags(struct cli *c, struct store **out, int flags)
{
	const char *path = cli_db_path(c);
	*out = NULL;
	if (access(path, F_OK) != 0) {
		if (c->db_path != NULL)
			return cli_error("no database at %s (no such file): --db names an existing "
					 "tandem.db, which 'tandem init' creates in a workspace folder",
					 path);
		return cli_error("no workspace at %s (tandem.db missing); run 'tandem init %s'",
				 c->dir_name ? c->dir_name : ".", c->dir_name ? c->dir_name : ".");
	}
	struct diag d;
	diag_clear(&d);
	*out = store_open(path, flags, &d);
	if (*out == NULL)
		return cli_diag(&d);
	return CLI_OK;
}

int
cli_open_store(struct cli *c, struct store **out)
{
	return cli_open_store_flags(c, out, 0);
}

int
cli_open_store_readonly(struct cli *c, struct store **out)
{
	return cli_open_store_flags(c, out, STORE_READONLY);
}

int
cli_open_store_copyable(struct cli *c, struct store **out)
{
	return cli_open_store_flags(c, out, STORE_READONLY | STORE_OLD_OK);
}

void
cli_ws_close(struct cli_ws *w)
{
	if (w->have_cfg)
		config_fini(&w->cfg);
	store_close(w->st);
	w->st = NULL;
	w->have_cfg = 0;
}

int
cli_need_config(const struct cli *c, const char *path)
{
	if (access(path, F_OK) == 0)
		return CLI_OK;
	const char *dir = c->dir_name ? c->dir_name : ".";
	/* --db moves only the database: the config is still read from the workspace folder. */
	if (c->db_path != NULL)
		return cli_error("no workspace config at %s/%s: --db %s names only the database; the "
				 "config (tandem.lua) is read from the workspace folder, so run in that "
				 "folder or pass -C DIR",
				 dir, path, c->db_path);
	return cli_error("no workspace config at %s/%s; run 'tandem init %s'", dir, path, dir);
}

int
cli_ws_open(struct cli *c, const char *program, struct cli_ws *w)
{
	memset(w, 0, sizeof(*w));
	if (cli_open_store(c, &w->st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	char path[4096];
	cli_ws_path(c, "tandem.lua", path, sizeof(path));
	if (cli_need_config(c, path) != CLI_OK) {
		cli_ws_close(w);
		return CLI_FAIL;
	}
	w->have_cfg = 1;
	if (matches_open_program(w->st, path, program, &w->cfg, &w->prog, &w->program_id, &d) < 0) {
		cli_ws_close(w);
		return cli_diag(&d);
	}
	return CLI_OK;
}

int
cli_program_known(struct cli *c, struct store *st, const char *program)
{
	struct diag d;
	diag_clear(&d);
	int64_t id;
	if (program == NULL || matches_program_id(st, program, &id, &d) == 0)
		return CLI_OK;
	if (d.code != DIAG_NOTFOUND)
		return cli_diag(&d);
	/* Not in the database: name the declared programs, as the commands that read
	 * tandem.lua do (only on this error path: reading tandem.lua runs its worker). */
	char path[4096];
	struct config cfg = {0};
	struct diag cd;
	diag_clear(&cd);
	cli_ws_path(c, "tandem.lua", path, sizeof(path));
	if (access(path, R_OK) == 0 && config_load(path, &cfg, &cd) == 0 &&
	    config_find_program(&cfg, program, &cd) == NULL)
		d = cd;
	config_fini(&cfg);
	return cli_diag(&d);
}

int
cli_parse_instant(const char *s, int end_of_day, time_t *out)
{
	char buf[64];
	struct diag d;
	diag_clear(&d);
	size_t n = strlen(s);
	int day = n == 10;
	if (day) {
		if (!tz_date_valid(s))
			return -1;
		snprintf(buf, sizeof(buf), "%sT00:00Z", s);
		s = buf;
	} else if (n == 0 || s[n - 1] != 'Z') {
		return -1;
	}
	if (session_parse_time(s, NULL, out, &d) != 0)
		return -1;
	if (day && end_of_day)
		*out += 86400 - 1;
	return 0;
}

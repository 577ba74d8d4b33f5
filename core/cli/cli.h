/*
 * cli: the `tandem` command line. main.c parses the global options and dispatches
 * to one function per command; each command group lives in its own cmd_*.c file.
 * This is the only part of tandem that talks to the terminal: commands print
 * results on stdout (tables, or JSON with --json) and errors on stderr.
 *
 * Exit codes: 0 success, 1 failure (bad input, plugin error, ...), 2 usage error.
 */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/config.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli {
	const char *dir;      /* workspace folder; "." once main has entered the -C folder */
	const char *dir_name; /* the workspace folder as the user named it, for messages */
	const char *db_path; /* --db; NULL = DIR/tandem.db */
	int stderr_tty;      /* progress output only when stderr is a terminal */
};

/* A command receives argv starting at its own name (argv[0] = "list" for "people list"). */
typedef int (*cli_cmd_fn)(struct cli *c, int argc, char **argv);

/* Path of the workspace database (--db or DIR/tandem.db). Static buffer. */
const char *cli_db_path(const struct cli *c);

/* Joins the workspace folder and a relative path ("policies/x.lua"); absolute paths pass through. */
const char *cli_ws_path(const struct cli *c, const char *rel, char *buf, size_t size);

/* Who acts, for events and decided_by columns: $USER, or "cli" when unset. */
const char *cli_actor(void);

/* "tandem: <message>" on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Checks that the workspace config at `path` (from cli_ws_path) exists; when it
 * does not, prints why (naming the folder, and with --db that --db names only the
 * database) and returns CLI_FAIL; CLI_OK otherwise.
 */
int cli_need_config(const struct cli *c, const char *path);

/* Prints a diag as "tandem: <message>"; returns CLI_FAIL. */
int cli_diag(const struct diag *d);

/* "tandem CMD: <message>" plus a hint to run --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long's answer for a bad option (with an optstring that starts with ':'): ':'
 * gives "tandem CMD: --out needs a value", anything else "tandem CMD: unknown option
 * '--bogus'", each naming the option once; returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int opt, char **argv);

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/* Prints a JSON value on stdout (indented, sorted keys off, newline) and frees it. Returns CLI_OK or CLI_FAIL. */
int cli_json_out(json_t *v);

/* Parses a non-negative int/long argument; returns -1 (after cli_usage) when invalid. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);

/* An instant given on the command line: a date YYYY-MM-DD (midnight UTC, or with
 * end_of_day its last second) or YYYY-MM-DDTHH:MM[:SS]Z. 0, or -1 when it is neither
 * (the caller says what it wanted). For --from and --as-of. */
int cli_parse_instant(const char *s, int end_of_day, time_t *out);

/*
 * A text table: add a header row then data rows (cells copied), print aligned.
 * Used by every listing without --json. Out of memory, they print an error and
 * exit 1 rather than print an incomplete listing.
 */
struct cli_table;
struct cli_table *cli_table_new(int ncols);
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(struct cli_table *t, FILE *out);
void cli_table_delete(struct cli_table *t);

/* A progress line on stderr, only when it is a terminal; done=total ends the line. */
void cli_progress(const struct cli *c, const char *what, long done, long total);

struct store;

/*
 * Opens the workspace database (cli_db_path) read-write, applying pending migrations.
 * When it does not exist, prints "tandem: no workspace at DIR (tandem.db missing); run
 * 'tandem init DIR'" and returns CLI_FAIL; any other failure is printed too. CLI_OK and
 * *out set on success; the caller closes it with store_close().
 */
int cli_open_store(struct cli *c, struct store **out);

/* An open workspace for a command about one program: the store, tandem.lua, the program. */
struct cli_ws {
	struct store *st;
	struct config cfg;
	const struct config_program *prog;
	int64_t program_id;
	int have_cfg;
};

/*
 * Opens the store (cli_open_store), reads tandem.lua and finds the program, saving the
 * programs it declares (matches_open_program). CLI_OK, or the failure printed and CLI_FAIL;
 * on success close with cli_ws_close().
 */
int cli_ws_open(struct cli *c, const char *program, struct cli_ws *w);
void cli_ws_close(struct cli_ws *w);

/*
 * A --program P of a command that reads what the database holds (listings, metrics,
 * events, calendars, rewards): CLI_OK when the database has the program, even one that
 * tandem.lua no longer declares (its history stays readable). Else the failure is
 * printed and CLI_FAIL: the message is tandem.lua's "no program named 'P' (declared:
 * ...)", as the commands that read tandem.lua say it, or, when tandem.lua declares P or
 * cannot be read, "no program 'P' in the database". NULL program: CLI_OK.
 */
int cli_program_known(struct cli *c, struct store *st, const char *program);

/* The same, read-only (reports, listings that must not migrate). */
int cli_open_store_readonly(struct cli *c, struct store **out);
/* Read-only, accepting an older schema as it is (a command that only copies the file). */
int cli_open_store_copyable(struct cli *c, struct store **out);

#endif

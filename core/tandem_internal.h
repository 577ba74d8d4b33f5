/*
 * tandem_internal: what the files of the public facade (core/tandem*.c) share:
 * the handle's layout and the conversion of core diagnostics into struct
 * tandem_error. Not installed; nothing outside core/tandem*.c includes it.
 */
#ifndef TANDEM_INTERNAL_H
#define TANDEM_INTERNAL_H

#include "tandem.h"

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"

struct store;
struct config;
struct config_program;

struct tandem {
	struct store *st;
	char *dir;     /* the workspace folder as the caller named it */
	char *actor;   /* recorded in events and decisions */
};

/* Copies d into err (when err is not NULL); returns NULL / -1 for `return fail(...)`. */
void *tandem__fail(struct tandem_error *err, const struct diag *d);
int tandem__fail_int(struct tandem_error *err, const struct diag *d);
/* Sets err to TANDEM_OK with an empty message. */
void tandem__ok(struct tandem_error *err);
/* Fails with TANDEM_EINVALID naming the NULL argument of function fn. */
int tandem__null_arg(struct tandem_error *err, const char *fn, const char *arg);

/* Serializes v (taken over; NULL means the core failed with d) for the caller. */
char *tandem__json_result(json_t *v, struct tandem_error *err, const struct diag *d);

/* DIR/rel into a malloc'd string, or NULL (out of memory, with d set). */
char *tandem__ws_path(const struct tandem *t, const char *rel, struct diag *d);

/*
 * Loads the workspace's tandem.lua, finds program NAME (DIAG_NOTFOUND naming the
 * declared ones), syncs the programs table and gives the program's row id. cfg
 * must be released with config_fini() whatever the result.
 */
int tandem__open_program(struct tandem *t, const char *program, struct config *cfg,
			 const struct config_program **prog, int64_t *id, struct diag *d);

#endif

/*
 * report_internal: what report.c (the build, host and worker sides) and report_metrics.c
 * (the metrics table a build receives, its health computed on first access) share. Not
 * for other modules.
 */
#ifndef TANDEM_REPORT_INTERNAL_H
#define TANDEM_REPORT_INTERNAL_H

#include <jansson.h>
#include <lua.h>

#include "base/diag.h"
#include "program/config.h"
#include "store/store.h"

/* In the host: what the worker needs to compute metrics.health on first access, without
 * the config: {cadence {name, interval_days, from}, overlaps}. *out is new. 0 or -1. */
int report__health_input(struct store *st, const struct config *cfg, const char *program,
			 json_t **out, struct diag *d);

/* In the worker: pushes req.metrics as the table build receives. When req has
 * "lazy_health" (and the metrics no "health"), the table computes its "health" on first
 * access (reading or pairs) from req's db, program, ctx.now and lazy_health, until
 * report__metrics_detach. req must outlive that. Raises on memory errors (call it in a
 * protected call). */
void report__push_metrics(lua_State *L, json_t *req);

/* In the worker, after build returned: a metrics table kept past its build (in a global)
 * then raises instead of reading a freed request. */
void report__metrics_detach(lua_State *L);

#endif

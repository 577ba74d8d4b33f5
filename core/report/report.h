/*
 * report/report: building a program's report: the metrics (with the program's
 * health as metrics.health, computed on first access), a report plugin's build(metrics, q, ctx)
 * run in the plugin's worker, and the document it returns checked there
 * (lua/report_out) and handed back as JSON for the renderers (report/render).
 *
 * The plugin is a name or a path (lua/registry: the workspace's
 * plugins/reports/ first, then the built-ins: program-overview, monthly-pulse,
 * mentor-recognition); NULL means REPORT_DEFAULT_PLUGIN. In the worker, q opens
 * the workspace database read-only (report/query). ctx is {now, now_iso,
 * timezone, organization, program = {name, title, description, starts_on,
 * ends_on}}, plus period = {month, from, to} for a scheduled report (report/publish).
 * The hook runs under the plugin's per-call instruction budget and
 * memory cap, and its batch deadline (10 s unless the plugin's limits say).
 *
 * Errors: an unknown program or plugin (DIAG_NOTFOUND), the plugin's own
 * errors as "FILE:LINE: message (in hook build)", a bad document as
 * "FILE:LINE: section 2: field 'chart.type' ... (in hook build)" (the line where
 * build is defined), a worker killed at its deadline. Nothing is written.
 *
 * Who calls it: cli/cmd_report (tandem report), report/publish (the
 * monthly-reports job), tests.
 */
#ifndef TANDEM_REPORT_REPORT_H
#define TANDEM_REPORT_REPORT_H

#include <time.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/config.h"
#include "report/query.h"
#include "store/store.h"

#define REPORT_DEFAULT_PLUGIN "program-overview"

struct report_opts {
	const char *ws;                  /* the workspace folder (plugin search); NULL: "." */
	const char *plugin;              /* name or path; NULL: REPORT_DEFAULT_PLUGIN */
	time_t now;                      /* 0: the store's clock */
	const struct query_limits *lim;  /* NULL: the defaults */
	/* The period a scheduled report covers (report/publish: the month just ended), given
	 * to build as ctx.period = {month = "YYYY-MM", from = ISO, to = ISO}; NULL: none. */
	const char *period;
	time_t period_from, period_until;
};

/*
 * The metrics build receives: metrics_program's object. Its "health" (health_program's
 * document) is not in it: report_build_with computes it in the plugin's worker when
 * build first reads metrics.health (report_metrics.c says why). *out is a new object.
 * 0 or -1.
 */
int report_metrics(struct store *st, const struct config *cfg, const char *program, time_t now,
		   json_t **out, struct diag *d);

/*
 * Builds `program`'s report with o->plugin. On success *doc is the checked
 * document (a new JSON object, lua/report_out.h's form). 0 or -1.
 */
int report_build(struct store *st, const struct config *cfg, const char *program,
		 const struct report_opts *o, json_t **doc, struct diag *d);

/*
 * The same with the metrics given (a test's fixture, a caller that built them
 * already): metrics is borrowed. With a "health" in it, build gets that one;
 * without, metrics.health is computed on first access as for report_build.
 */
int report_build_with(struct store *st, const struct config *cfg, const char *program,
		      const struct report_opts *o, const json_t *metrics, json_t **doc,
		      struct diag *d);

#endif

/*
 * lua/check: exercise a loaded plugin once, on synthetic data, for
 * `tandem plugins check FILE`.
 *
 * Every hook of the declaration (each function field) is called once with
 * arguments built for its kind and name:
 *   policy  capacity(mentor); score, prefer_mentor, prefer_mentee and any other
 *           function: (mentor, mentee, features);
 *   cadence plan(pair, history, ctx)  reward on["KIND"](ev, ctx)
 *   report  build(metrics, q, ctx) job   run(ctx)
 *   any other hook of those kinds: (ctx).
 * The mentor and mentee are person tables built by lua/shape, exactly as a real
 * run builds them (id is the external id; docs/plugin-api.md, "What hooks
 * receive"); the features table holds every feature name given to
 * plugin_check_run with a value in [0, 1]; match/pair/history/event/ctx/q
 * are documented there too (a cadence's ctx also has horizon and horizon_iso).
 * A report's metrics are plugin_check_metrics below; its q answers every query
 * with no rows (q.rows -> {}, q.one -> nil): there is no database in a check. Each
 * query is recorded (its line, SQL and number of values) in the hook's `queries`, for
 * the caller to prepare against the schema (`plugins check` does, with report/query's
 * query_check: a misspelled table fails the check as it would fail the report).
 *
 * Each call is an operation in the plugin's worker (plugin_exec) under the
 * plugin's per-call limits, so a hook that hangs in C is killed at its deadline.
 *
 * Who calls it: cli/cmd_plugins.c, and the unit tests.
 */
#ifndef TANDEM_LUA_CHECK_H
#define TANDEM_LUA_CHECK_H

#include "base/diag.h"
#include "lua/plugin.h"

/* A query a report's hook made in the check (q.rows or q.one). */
struct plugin_check_query {
	int line;  /* the line of the call in the plugin's file (0: unknown) */
	int nargs; /* the values given after the SQL */
	int all;   /* 1 q.rows, 0 q.one */
	char *sql;
};
enum { PLUGIN_CHECK_QUERIES_MAX = 64 }; /* recorded per hook; more are not */

/* What one hook did. */
struct plugin_check_hook {
	char hook[64];
	int ok;
	double ms;        /* wall-clock time of the call (including the fork, if isolated) */
	char value[512];  /* a short rendering of what it returned ("0.75", "{...}") */
	char error[DIAG_MSG_MAX];
	struct plugin_check_query *queries; /* in call order */
	int nqueries;
};

struct plugin_check_report {
	struct plugin_check_hook *hooks;
	int n;
	int failed; /* number of hooks that failed */
};

/*
 * Runs every hook once; the synthetic features table holds `feature_names`
 * (NULL-terminated; NULL = topic_fit, level_gap, generation_gap,
 * cross_department, cross_location, shared_language, tz_distance: the policy
 * engine passes its own). Returns 0 if the checks could be run (individual hook
 * failures are in the report; report->failed counts them), -1 with a diag if not
 * (out of memory). Release the report with plugin_check_fini().
 */
int plugin_check_run(struct plugin *p, const char *const *feature_names,
		     struct plugin_check_report *report, struct diag *d);
void plugin_check_fini(struct plugin_check_report *report);

/* The synthetic metrics (JSON text, report/metrics.h's shape with health inside) a
 * report's build receives in a check; the report unit tests use it as a fixture. */
extern const char plugin_check_metrics[];

#endif

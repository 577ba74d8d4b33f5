/*
 * report/publish: the monthly reports, the body of the service's built-in job
 * monthly-reports (sched/builtin.h), which runs at 00:00 on the first of each month in
 * the workspace's zone (the programs' zone).
 *
 * What one publication does, for a month M (the month before the local month of the
 * occurrence's due instant; a run that stands for several instants after an outage,
 * covers = N under misfire 'once', publishes the N months that ended, oldest first, at
 * most REPORT_PUBLISH_MAX_MONTHS), for every program of tandem.lua that runs during M
 * (starts before M ends, ends not before M starts; undated ends run on), and for every
 * report plugin whose declaration says publish = "monthly" (the workspace's
 * plugins/reports/ first, then the built-ins; a workspace plugin shadows a built-in of
 * its name):
 *   - the program's metrics are computed once, as at the end of M (the due instant), and
 *     the plugin's build(metrics, q, ctx) runs in its worker with ctx.period = {month =
 *     "YYYY-MM", from, to} (report/report.h);
 *   - the document is written as WS/reports/YYYY-MM/PROGRAM/NAME.html and NAME.md,
 *     each through io/outfile (a temporary file renamed into place: never half a file;
 *     temporaries a killed run left behind are removed first); crash point
 *     "report.written" after both;
 *   - one report.published event {program, plugin, month, files} (actor
 *     "job:monthly-reports"), and, when the program names a manager (tandem.lua, field
 *     `manager`: a person's external id), one outbox message to them (kind "report", key
 *     "report:PROGRAM:PLUGIN:YYYY-MM", the HTML page attached).
 * A plugin that fails (its own error, a bad document, its deadline) does not stop the
 * others: a report.failed event {program, plugin, month, error} records it and the
 * job's result counts it. A manager who is not in the people table gets no message
 * (counted in the result as manager_unknown).
 *
 * Exactly once: the events and messages are written in the occurrence's transaction
 * (sched/occur.h), so they exist once per occurrence whatever the crashes. Files are
 * written before that transaction commits: a crash in between leaves the files and an
 * occurrence still pending, whose run writes the same files again (renamed over them).
 *
 * Who calls it: tandem serve and tandem simulate (serve/service wires the body into
 * sched_opts.reports), `tandem jobs` (jobs run monthly-reports), tests.
 */
#ifndef TANDEM_REPORT_PUBLISH_H
#define TANDEM_REPORT_PUBLISH_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"
#include "sched/job.h"

enum { REPORT_PUBLISH_MAX_MONTHS = 12 };

/* What a publication did, summed over its months. */
struct report_publish_counts {
	int months, published, failed, messages, manager_unknown;
	char first_error[200]; /* the first failure's message, "" when none */
};

/*
 * The names and paths of the report plugins that declare publish = "monthly" under
 * workspace ws (NULL: the built-ins only), in search order, shadowed ones left out.
 * *names and *paths are malloc'd arrays of malloc'd strings (report_publish_plugins_free).
 * 0, or -1 + diag (out of memory). A plugin that fails to load is not listed.
 */
int report_publish_plugins(const char *ws, char ***names, char ***paths, size_t *n,
			   struct diag *d);
void report_publish_plugins_free(char **names, char **paths, size_t n);

/*
 * The local month before the one containing instant t in zone: "YYYY-MM" in label, and
 * its first and last instant + 1 s ([*from, *until)). k more months back when k > 0.
 * 0, or -1 + diag (an unknown zone, out of range).
 */
int report_publish_month_of(const char *zone, time_t t, int k, char label[8], time_t *from,
			    time_t *until, struct diag *d);

/*
 * Publishes month `label` [from, until) for every running program and every plugin of
 * the list (see above), inside the caller's open transaction. ws: the workspace folder
 * (the reports/ tree is made there). 0, or -1 + diag for a store or file failure (a
 * plugin's own failure is counted, not returned).
 */
struct report_publish_ctx {
	struct store *st;
	const struct config *cfg;
	const char *ws;
	char **names, **paths;
	size_t nplugins;
};
int report_publish_month(const struct report_publish_ctx *c, const char *label, time_t from,
			 time_t until, struct report_publish_counts *out, struct diag *d);

/* The monthly-reports job's body (sched_opts.reports). */
int report_publish_job(struct sched_run *r, struct diag *d);

#endif

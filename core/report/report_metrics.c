/*
 * report/report_metrics: the metrics a report's build receives (report.h): the program's
 * metrics exactly as `tandem metrics` computes them (report/metrics.c, metrics_program:
 * one set of figures, computed one way, each defined in docs/metrics.md), with the
 * program's health (report/health.c, health_program) under "health".
 */
#include "report/report.h"

#include "report/health.h"
#include "report/metrics.h"

int
report_metrics(struct store *st, const struct config *cfg, const char *program, time_t now,
	       json_t **out, struct diag *d)
{
	*out = NULL;
	json_t *m = NULL, *h = NULL;
	if (metrics_program(st, cfg, program, now, &m, d) != 0)
		return -1;
	if (health_program(st, cfg, program, now, &h, d) != 0) {
		json_decref(m);
		return -1;
	}
	if (json_object_set_new(m, "health", h) != 0) {
		json_decref(m);
		return diag_set(d, DIAG_NOMEM, "out of memory building the metrics of '%s'", program);
	}
	*out = m;
	return 0;
}

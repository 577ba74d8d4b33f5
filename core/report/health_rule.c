/*
 * health_rule: the interval of a plugin cadence that declares only a recurrence rule (see
 * health.h, "The cadence's interval"): the rule says how far apart its sessions are, as
 * the built-ins' names do, so health reads it instead of guessing from sessions_per_month.
 */
#include "report/health.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cadence.h"
#include "time/cal.h"
#include "time/rrule.h"

enum { RULE_SPAN_DAYS = 2 * 366, RULE_MAX_INSTANTS = 1000 };

int
health_rule_interval(const char *rule)
{
	struct diag d;
	struct rrule *r = rule != NULL ? rrule_parse(rule, &d) : NULL;
	if (r == NULL)
		return 0;
	/* From a Monday 10:00, the mean gap between its instants over two years: 21 days for
	 * FREQ=WEEKLY;INTERVAL=3, about 30 for a monthly rule, 4 for two days a week. */
	const struct cal_time start = {.year = 2029, .mon = 1, .day = 1, .hour = 10};
	time_t from = (time_t)cal_days_from_civil(2029, 1, 1) * 86400;
	time_t *t = NULL;
	size_t n = 0;
	int days = 0;
	if (rrule_expand(r, &start, NULL, from, from + (time_t)RULE_SPAN_DAYS * 86400,
			 RULE_MAX_INSTANTS, &t, &n, &d) == 0 &&
	    n >= 2) {
		double gap = (double)(t[n - 1] - t[0]) / (double)(n - 1) / 86400.0;
		days = gap < 1.5 ? 1 : gap > 3650 ? 3650 : (int)(gap + 0.5);
	}
	free(t);
	rrule_delete(r);
	return days;
}

int
health_cadence_rule_days(const char *config_path, const char *cadence)
{
	if (config_path == NULL || cadence == NULL)
		return 0;
	char *copy = strdup(config_path);
	if (copy == NULL)
		return 0;
	struct diag d;
	/* Loads the plugin (its worker) to read its declaration; one that does not load
	 * leaves health as it was (the planner reports it). */
	struct cadence *c = cadence_open(dirname(copy), cadence, &d);
	int days = c != NULL && !cadence_has_plan(c) ? health_rule_interval(cadence_rule(c)) : 0;
	cadence_delete(c);
	free(copy);
	return days;
}

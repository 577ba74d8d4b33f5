/*
 * tzfile_internal: what tzfile.c and tzfile_rule.c share (the POSIX TZ rule of a footer).
 * Not for other modules: they use tzfile.h.
 */
#ifndef TANDEM_TZFILE_INTERNAL_H
#define TANDEM_TZFILE_INTERNAL_H

#include <stdint.h>

#include "time/tzfile.h"

enum { TZFILE_ABBR_MAX = 16 };

/* A change date: kind 'J' (d = 1-365, no leap day), 'D' (d = 0-365) or 'M' (m.w.d). */
struct tzfile_rule_date {
	char kind;
	int m, w, d;
	int32_t secs; /* local time of day of the change, -167 h .. 167 h */
};

struct tzfile_rule {
	int present; /* 0: no rule (no footer, or an empty one) */
	int has_dst;
	int32_t std_off, dst_off; /* seconds east of UTC */
	struct tzfile_rule_date start, end;
	char std_name[TZFILE_ABBR_MAX], dst_name[TZFILE_ABBR_MAX];
};

/* 0, or -1 with *why naming the part that is wrong. */
int tzfile_rule_parse(const char *s, struct tzfile_rule *r, const char **why);
/* The rule's answer at t (names point into r) and the next instant it may change. */
void tzfile_rule_eval(const struct tzfile_rule *r, int64_t t, struct tzfile_info *out,
		      int64_t *until);

#endif

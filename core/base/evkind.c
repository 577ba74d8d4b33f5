/*
 * evkind: the closed list of event kinds (see evkind.h). Keep it in step with the
 * table of docs/plugin-api.md "Events" (tests/unit/test_evkind.c reads that table).
 */
#include "base/evkind.h"

#include <stdio.h>
#include <string.h>

const char *const evkind_all[] = {"people.imported",	  "people.erased",
				  "enrollments.imported", "match.proposed",
				  "match.approved",	  "match.rejected",
				  "match.pinned",	  "match.vetoed",
				  "match.activated",	  "match.ended",
				  "session.planned",	  "session.held",
				  "session.missed",	  "session.cancelled",
				  "session.rescheduled",  "feedback.given",
				  "feedback.revealed",	  "reward.granted",
				  "reward.revoked",	  "program.started",
				  "program.ended",	  "job.ran",
				  "job.failed",		  "job.skipped",
				  "message.queued",	  "message.sent",
				  "message.failed",	  "message.expired",
				  "message.unknown",	  "message.retried",
				  "report.published",	  "report.failed",
				  "token.created",	  "token.revoked",
				  NULL};

int
evkind_known(const char *kind)
{
	for (int i = 0; kind && evkind_all[i]; i++)
		if (strcmp(kind, evkind_all[i]) == 0)
			return 1;
	return 0;
}

int
evkind_custom(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n <= 7 || n > 100 || strncmp(kind, "custom.", 7) != 0 || kind[n - 1] == '.')
		return 0;
	for (size_t i = 7; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') ||
		      kind[i] == '_' || kind[i] == '.'))
			return 0;
	return 1;
}

void
evkind_list(char *buf, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; evkind_all[i] && n < size; i++) {
		int w = snprintf(buf + n, size - n, "%s, ", evkind_all[i]);
		if (w < 0)
			return;
		n += (size_t)w;
	}
	if (n < size)
		snprintf(buf + n, size - n, "custom.*");
}

/*
 * program/match_completed: what "completed" means for a pair, in one place for every reader.
 *
 * A pair (a match) completed when it is ended, its end reason is "program ended" (what
 * the lifecycle writes when the program's `ends` date passes, LIFECYCLE_PROGRAM_ENDED) or
 * starts with "completed" (`tandem match end --reason "completed early, goals met"`; the
 * comparison is byte for byte, so "Completed" is another reason), and at least one of its
 * sessions was held. The readers: report/metrics (the funnel's `completed` and `active`)
 * and rewards/dispatch (ev.match.completed, which the built-in rule `completion` grants
 * its certificate on), so the certificates and the funnel count the same pairs. Header
 * only: an SQL expression. docs/metrics.md ("funnel") and docs/plugin-api.md (Reward
 * rules, ev.match) state it in words.
 */
#ifndef TANDEM_PROGRAM_MATCH_COMPLETED_H
#define TANDEM_PROGRAM_MATCH_COMPLETED_H

#include "program/lifecycle.h"

/* The reason prefix of a pair ended early that completed (the rest is free text). */
#define MATCH_COMPLETED_PREFIX "completed"

/*
 * True when match M (an SQL alias of a matches row, pasted as text) completed, as above.
 * The EXISTS reads the index sessions_match (match_id, starts_at).
 */
#define MATCH_COMPLETED_SQL(M)                                                                     \
	"(" M ".status = 'ended' AND (" M ".end_reason = '" LIFECYCLE_PROGRAM_ENDED "' OR substr(" M \
	".end_reason, 1, length('" MATCH_COMPLETED_PREFIX "')) = '" MATCH_COMPLETED_PREFIX "') AND"  \
	" EXISTS (SELECT 1 FROM sessions"                                                            \
	" AS held_ WHERE held_.match_id = " M ".id AND held_.status = 'held'))"

#endif

/*
 * reveal: closing the rating windows (program/session_reveal.h: a side's rating is hidden
 * until both sides have rated or SESSION_REVEAL_DAYS after the session's end).
 *
 * Called by: the scheduler's built-in "mark-missed" job (sched/builtin), whose next work
 * (sched/nextwork) includes the next window to close; the tests.
 *
 * Contract:
 *  - reveal_due closes the window of every held or missed session whose end +
 *    SESSION_REVEAL_DAYS is at or before now and whose window is still open
 *    (sessions.revealed_at NULL): revealed_at = now. A session that has exactly one
 *    side's rating then raises feedback.revealed {session, match, by: "mentor"|"mentee"}
 *    about that side (never the rating itself), so reward rules that read the visible
 *    ratings (top_mentor) see it become visible. Both rated: feedback.given of the second
 *    rating was the reveal; none: nothing to reveal. One transaction level for the run
 *    (it composes into the job's); *count = the events raised; running again raises
 *    nothing twice.
 *  - reveal_next: the instant the next open window closes (0), or 1 when none is open.
 */
#ifndef TANDEM_REVEAL_H
#define TANDEM_REVEAL_H

#include <time.h>

#include "base/diag.h"
#include "store/store.h"

int reveal_due(struct store *st, time_t now, int *count, struct diag *d);
int reveal_next(struct store *st, time_t *at, struct diag *d);

#endif

/*
 * lifecycle: what happens to a match after it is approved. approved -> active when
 * its program has started (at once if it has), active or approved -> ended by
 * `tandem match end`, or by the program's end.
 *
 * Called by: the activate-matches job (sched/builtin) and `tandem match activate`
 * (lifecycle_activate_due), `tandem match end` (lifecycle_find_match, lifecycle_end),
 * `tandem serve` at start-up.
 *
 * Contract:
 *  - A program has started when it declares no `starts`, or its `starts` date is today
 *    or earlier in the workspace zone (cfg->timezone); it is over when its `ends` date
 *    is before today there (the `ends` day itself still belongs to the program).
 *    Dates are read from the config handed in (tandem.lua as loaded), not from the
 *    programs table's copy.
 *  - lifecycle_activate_due first ends the approved and active matches of programs that
 *    are over (end_reason "program ended"), then activates the approved matches of the
 *    programs that have started: status 'active', activated_at, event match.activated
 *    (one per match). Repeating it changes nothing. Programs the database has no row for
 *    have no matches and are skipped. The first time it sees a program started (or over)
 *    it appends program.started {program, starts_on} (or program.ended {program,
 *    ends_on}) once: the event log says whether it was recorded already.
 *  - lifecycle_end: approved or active -> ended (ended_at, end_reason), the match's
 *    planned sessions that start after now are cancelled (status_reason "match ended:
 *    REASON", sequence bumped, an event session.cancelled each), event match.ended; all
 *    in one transaction level. Ending an ended match again is DIAG_CONFLICT naming when
 *    and why it ended; proposed, rejected and superseded matches cannot end.
 *  - Every write is a store_begin ... store_commit level (composes with a job's), events
 *    through events_append in the same level; now is the store's clock.
 */
#ifndef TANDEM_LIFECYCLE_H
#define TANDEM_LIFECYCLE_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"

struct store;
struct config;

/* The reason given to the matches of a program that is over. */
#define LIFECYCLE_PROGRAM_ENDED "program ended"

/* As described above; *count (may be NULL) = matches activated, *ended (may be NULL) =
 * matches ended because their program is over. */
int lifecycle_run_due(struct store *st, const struct config *cfg, time_t now, int *count,
		      int *ended, struct diag *d);

/* lifecycle_run_due without the ended count: the name the scheduler's job calls. */
int lifecycle_activate_due(struct store *st, const struct config *cfg, time_t now, int *count,
			   struct diag *d);

/* Ends match_id for reason (required, non-empty); *cancelled (may be NULL) = the planned
 * sessions it cancelled. */
int lifecycle_end(struct store *st, int64_t match_id, const char *reason, const char *actor,
		  int *cancelled, struct diag *d);

/*
 * The match a PAIR names: a match id ("12" or "#12"), or "MENTOR:MENTEE" (external ids or
 * e-mails) naming the pair's approved or active match (program_id 0: in any program;
 * several is DIAG_CONFLICT listing them). DIAG_NOTFOUND when none.
 */
int lifecycle_find_match(struct store *st, int64_t program_id, const char *pair, int64_t *id,
			 struct diag *d);

#endif

/*
 * matches: the store side of matching. Loads a program's cohort (enrollments
 * with consent, the people and their management chains, kept pairs, vetoes and
 * pairing history) into a policy_cohort, writes the proposals of a run in one
 * transaction, and reviews matches: list, approve, reject, pin, veto.
 *
 * Callers: cli/cmd_match.c, the unit tests, embedders.
 *
 * Rules:
 *  - Mentors are enrollments with role mentor or both (and capacity > 0 counts;
 *    capacity 0 stays listed but receives nobody); mentees are role mentee or
 *    both. Only people with status 'active' and consent = 1 take part.
 *  - Kept pairs: matches of the program that are pinned, approved or active.
 *    They stay as they are and consume capacity.
 *  - previously_paired counts matches with status approved, active or ended in
 *    ANY program (this one included). Proposals and rejected matches do not:
 *    nobody met.
 *  - A run replaces the program's earlier proposals that nobody reviewed (status
 *    'proposed', not pinned), and appends a 'match.proposed' event.
 *  - Approve: proposed -> approved. Reject: proposed or approved -> rejected
 *    (active or ended matches cannot be rejected). Both record decided_at/by and
 *    an event; a list of ids is all-or-nothing.
 *  - Pin: the pair becomes an approved, pinned match (an existing match of the
 *    pair is updated; other unreviewed proposals of the mentee are dropped; an
 *    approved match of the mentee with someone else is a conflict).
 *  - Veto: recorded in vetoes; a match of the pair that is proposed or approved
 *    becomes rejected.
 */
#ifndef TANDEM_MATCHES_H
#define TANDEM_MATCHES_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/policy.h"

struct store;

/* people.id of a person given by external id or e-mail; DIAG_NOTFOUND when unknown. */
int matches_find_person(struct store *st, const char *key, int64_t *id, struct diag *d);

/* The program row's id by name; DIAG_NOTFOUND when the program has no row. */
int matches_program_id(struct store *st, const char *name, int64_t *id, struct diag *d);

struct config;
struct config_program;

/*
 * Loads the workspace config at config_path, checks that program NAME is
 * declared, upserts the declared programs (config_sync_programs) and gives the
 * program's row id. cfg must be released with config_fini() (also on failure).
 */
int matches_open_program(struct store *st, const char *config_path, const char *name,
			 struct config *cfg, const struct config_program **prog, int64_t *id,
			 struct diag *d);

/* Loads and finishes (policy_cohort_finish) the cohort of a program. */
int matches_load_cohort(struct store *st, int64_t program_id, const char *program,
			struct policy_cohort *c, struct diag *d);

/*
 * Stores the proposals of res (pairs that are not kept) in ONE transaction,
 * replacing unreviewed proposals, with explanation JSON, policy name/version and
 * run_id; appends a 'match.proposed' event. *nstored = proposals written.
 */
int matches_store_run(struct store *st, const struct policy_cohort *c, const struct policy *pol,
		      const struct policy_result *res, const char *run_id, const char *actor,
		      int *nstored, struct diag *d);

/* Matches of a program (status may be NULL = all), ordered by id, as a JSON array. */
json_t *matches_list_json(struct store *st, int64_t program_id, const char *status, struct diag *d);

/* One match by id with its explanation parsed; NULL + DIAG_NOTFOUND if none. */
json_t *matches_get_json(struct store *st, int64_t id, struct diag *d);

enum matches_decision { MATCHES_APPROVE, MATCHES_REJECT };

/* Decides every id or none. */
int matches_decide(struct store *st, const int64_t *ids, int n, enum matches_decision what,
		   const char *actor, struct diag *d);

/* Pins a pair (people ids) in a program; *id = the match. */
int matches_pin(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		const char *actor, int64_t *id, struct diag *d);

/* Vetoes a pair (people ids) in a program. */
int matches_veto(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		 const char *reason, const char *actor, struct diag *d);

/* The current partners in a program (status proposed/approved/active) of a mentee
 * or a mentor (people id), as (mentor, mentee, score) triples in a JSON array. */
json_t *matches_partners_json(struct store *st, int64_t program_id, int64_t person, int as_mentor,
			      struct diag *d);

#endif

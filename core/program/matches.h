/*
 * matches: the store stage of the match pipeline, and the review of matches.
 * Writes the proposals of a run in one transaction, and reviews matches: list,
 * approve, reject, pin, veto. (Loading a cohort is cohort.h's.)
 *
 * Takes: a store, a finished cohort, a policy and a solve result (storing), or
 * match and people ids (reviewing). Gives: rows written, JSON read back.
 * Callers: match_run.c, cli/cmd_match*.c, tandem_match.c, the unit tests.
 * Calls: explain.h (each proposal's explanation), config.h, the store.
 * Files: matches.c (storing a run, people and programs by name), matches_read.c
 * (the JSON reads), matches_decide.c (the review); matches_internal.h is theirs.
 *
 * Rules:
 *  - A run supersedes the program's earlier proposals that nobody reviewed (status
 *    'proposed', not pinned): they stay as rows with status 'superseded' and
 *    superseded_by = the new run id, and appends a 'match.proposed' event. Ids are
 *    never reused (AUTOINCREMENT), so an id always names the pair it was shown with;
 *    deciding a superseded id fails (DIAG_CONFLICT) naming the run that replaced it.
 *  - Approve: proposed -> approved. Reject: proposed or approved -> rejected
 *    (active or ended matches cannot be rejected). Both record decided_at/by and
 *    an event; a list of ids is all-or-nothing.
 *  - Pin: the pair becomes an approved, pinned match (an existing match of the
 *    pair is updated; other unreviewed proposals of the mentee are dropped; an
 *    approved match of the mentee with someone else is a conflict).
 *  - Veto: checked like a pin, recorded in vetoes; a match of the pair that is
 *    proposed or approved becomes rejected.
 *  - Bulk decisions (a run's or a program's proposals) are one transaction.
 */
#ifndef TANDEM_MATCHES_H
#define TANDEM_MATCHES_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"
#include "program/cohort.h"
#include "program/policy.h"
#include "program/solve.h"

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

/*
 * Stores the proposals of res (pairs that are not kept) in ONE transaction,
 * replacing unreviewed proposals, with explanation JSON, policy name/version and
 * run_id; appends a 'match.proposed' event. *nstored = proposals written.
 */
int matches_store_run(struct store *st, const struct cohort *c, const struct policy *pol,
		      const struct solve_result *res, const char *run_id, const char *actor,
		      int *nstored, struct diag *d);

/* Matches of a program (status may be NULL = all but superseded), ordered by id, as a
 * JSON array. */
json_t *matches_list_json(struct store *st, int64_t program_id, const char *status, struct diag *d);

/* One match by id with its explanation parsed (and superseded_by); NULL +
 * DIAG_NOTFOUND if none. */
json_t *matches_get_json(struct store *st, int64_t id, struct diag *d);

/* 0 when match id exists and is not superseded; else -1 with DIAG_NOTFOUND or
 * DIAG_CONFLICT (the message names the run that replaced it). */
int matches_check_current(struct store *st, int64_t id, struct diag *d);

enum matches_decision { MATCHES_APPROVE, MATCHES_REJECT };

/* Decides every id or none. */
int matches_decide(struct store *st, const int64_t *ids, int n, enum matches_decision what,
		   const char *actor, struct diag *d);

/*
 * Decides, in one transaction, every proposed match of run run_id (program_id 0 = any
 * program) or, with run_id NULL, of program program_id; *n = how many. A run whose
 * proposals were all superseded fails (DIAG_CONFLICT, naming the later run); a run with
 * no proposals at all is DIAG_NOTFOUND. A program with none decides nothing (*n = 0).
 */
int matches_decide_bulk(struct store *st, int64_t program_id, const char *run_id,
			enum matches_decision what, const char *actor, int *n, struct diag *d);

/* The given matches in the form of matches_list_json(), in the given order; an unknown
 * id is DIAG_NOTFOUND. */
json_t *matches_ids_json(struct store *st, const int64_t *ids, int n, struct diag *d);

/* {id, name, department} of a person (people id); DIAG_NOTFOUND when unknown. */
json_t *matches_person_json(struct store *st, int64_t person, struct diag *d);

/* Pins a pair (people ids) in a program; *id = the match. */
int matches_pin(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		const char *actor, int64_t *id, struct diag *d);

/* Vetoes a pair (people ids) in a program, checked as a pin is (two people, each
 * enrolled with consent on their side); *nrejected = matches of the pair it rejected. */
int matches_veto(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		 const char *reason, const char *actor, int *nrejected, struct diag *d);

/* The current partners in a program (status proposed/approved/active) of a mentee
 * or a mentor (people id), as (mentor, mentee, score) triples in a JSON array. */
json_t *matches_partners_json(struct store *st, int64_t program_id, int64_t person, int as_mentor,
			      struct diag *d);

#endif

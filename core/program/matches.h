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
 *    A run that would replace them with none, or with fewer than half as many, is
 *    refused unless asked to replace (struct matches_store). A rematch that proposes
 *    nothing and has nothing to supersede writes nothing (out->empty).
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
 * What storing a run may replace, and what it found (the --replace rule). A run is
 * refused unless replace is set when
 *  - its policy allows no pair: mentors and mentees left to match (not kept) exist
 *    but the constraints removed every pair (res->allowed == 0): MATCHES_NO_PAIR, or
 *  - it proposes fewer than half as many pairs as the program has unreviewed
 *    proposals (status 'proposed', not pinned): MATCHES_FEWER. A first run (no
 *    unreviewed proposals) is never refused for that.
 * Refused: nothing is written, no event, -1 with DIAG_CONFLICT; the counts below say
 * why (the caller names the constraints: match_run.c).
 */
enum matches_refusal { MATCHES_STORED = 0, MATCHES_NO_PAIR, MATCHES_FEWER };

struct matches_store {
	int replace; /* in: 1 = store whatever the run proposes */
	int rematch; /* in: 1 = the cohort is a rematch's (cohort_load_rematch): only the
		      * unreviewed proposals of its mentees that are not kept are superseded
		      * and counted, and the event says "rematch": true */
	/* out: */
	int nstored;  /* proposals written */
	int ncurrent; /* the program's unreviewed proposals the run found (and superseded) */
	int nproposed; /* the run's pairs that are not kept */
	int empty;     /* a rematch that proposes nothing and supersedes nothing: nothing was
			* written (no run, no event) */
	enum matches_refusal refused;
};

/*
 * Stores the proposals of res (pairs that are not kept) in ONE transaction,
 * superseding unreviewed proposals, with explanation JSON, policy name/version and
 * run_id; appends a 'match.proposed' event. Inside the transaction it first checks
 * that every member of the cohort is still an active person enrolled with consent:
 * one erased, unenrolled or withdrawn while the run computed fails the store
 * (DIAG_CONFLICT naming them, nothing written); then the --replace rule above.
 */
int matches_store_run(struct store *st, const struct cohort *c, const struct policy *pol,
		      const struct solve_result *res, const char *run_id, const char *actor,
		      struct matches_store *out, struct diag *d);

/* Matches of a program (status may be NULL = all but superseded), ordered by id, as a
 * JSON array. */
json_t *matches_list_json(struct store *st, int64_t program_id, const char *status, struct diag *d);

/* A page of the same listing: the matches with id > after_id, at most limit (0: all), by
 * id; the paging is done in SQL (the HTTP API's cursor). */
json_t *matches_page_json(struct store *st, int64_t program_id, const char *status,
			  int64_t after_id, int limit, struct diag *d);

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

/* The id of the pair's approved or active match in a program (people ids), 0 when it
 * has none; -1 on error. */
int matches_current_id(struct store *st, int64_t program_id, int64_t mentor, int64_t mentee,
		       int64_t *id, struct diag *d);

#endif

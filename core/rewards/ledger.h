/*
 * rewards/ledger: the reward ledger (table `rewards`, schema v9): grants, revocations,
 * listings and leaderboards (ledger.c), and a dispatch batch's grants written together
 * (ledger_writer_grants, ledger_batch.c).
 *
 * Called by: rewards/dispatch (grants and revocations a reward rule returned),
 * `tandem rewards list|leaderboard|revoke` (cli/cmd_rewards), rewards/certificate,
 * reports (read the table directly).
 *
 * Contract:
 *  - Append-only. ledger_grant inserts one row under its award key with INSERT OR IGNORE:
 *    a key already in the ledger changes nothing (*inserted = 0), so redelivering an
 *    event never grants twice. A new row appends reward.granted {reward, award_key,
 *    plugin, points, badge, event} about the person (subject_id), in the same transaction
 *    level (ledger functions open one: they compose with dispatch's).
 *  - ledger_revoke appends the compensating row: the negative of the grant's points, the
 *    same badge, revokes = the grant's id, key "revoke:" + the grant's key (so a grant is
 *    revoked at most once: a second revocation is *done = 0 and changes nothing), and the
 *    event reward.revoked {reward, revokes, award_key, plugin, points, badge}. A key with
 *    no grant is DIAG_NOTFOUND; a revocation's own key cannot be revoked (DIAG_INVALID).
 *  - The person must exist (DIAG_NOTFOUND naming the id); reason is required; plugin is
 *    the rule's name ("cli" for a revocation by hand).
 *  - Listings: ledger_list (rows oldest first, filtered by program name and/or person's
 *    external id) and ledger_leaderboard (people by total points, then badges, then
 *    name). A leaderboard lists every person who opted in (enrollments.leaderboard = 1 in
 *    that program; without a program, in every program they are enrolled in), those
 *    with no points yet at 0, tied last; nobody
 *    else appears in it in any form, not even as a count. `as` (an external id) adds
 *    "you": that person's own points, badges and the rank they would have among those
 *    listed, whether they opted in or not.
 */
#ifndef TANDEM_REWARDS_LEDGER_H
#define TANDEM_REWARDS_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/diag.h"
#include "events/events.h"
#include "store/store.h"

struct ledger_grant {
	const char *key;     /* award_key, required */
	int64_t person_id;   /* people.id, required */
	int64_t program_id;  /* 0: none */
	int64_t points;
	const char *badge;   /* NULL: none */
	const char *reason;  /* required */
	const char *plugin;  /* required */
	int64_t event_id;    /* 0: none */
};

/* 0 (*inserted 1 new, 0 the key was there), or -1 + diag. */
int ledger_grant(struct store *st, const struct ledger_grant *g, int *inserted, struct diag *d);

/*
 * The same for many grants in the caller's transaction (dispatch): statements prepared
 * once; ledger_writer_grant opens no level of its own (on failure the caller rolls back
 * its level), and needs one open (DIAG_INTERNAL otherwise).
 */
struct ledger_writer {
	struct store *st;
	void *person, *insert, *owner; /* prepared statements */
	struct events_writer ev;
	/* ledger_writer_grants: the first grant whose key the ledger holds for another person
	 * (-1: none), and that person */
	long conflict;
	int64_t conflict_person;
	/* ledger_writer_grants' scratch, kept from one call to the next (a batch's arrays
	 * allocated anew each time cost a page fault per page touched) */
	int64_t *ids;
	size_t *at;
	struct event *evs;
	size_t cap;
	struct buf text;
};
int ledger_writer_init(struct ledger_writer *w, struct store *st, struct diag *d);
int ledger_writer_grant(struct ledger_writer *w, const struct ledger_grant *g, int *inserted,
			struct diag *d);
/* The person the ledger holds award key `key` for: 0 with *person, 1 when it holds none. */
int ledger_writer_owner(struct ledger_writer *w, const char *key, int64_t *person,
			struct diag *d);
void ledger_writer_fini(struct ledger_writer *w);

/*
 * Many grants at once in the caller's level (rewards/ledger_batch.c: a statement per
 * grant, and one per reward.granted event, cost two thirds of a dispatch): g[0..n), in
 * that order, each exactly as ledger_writer_grant would write it: INSERT OR IGNORE under
 * its key (the first of two equal keys wins, a key already in the ledger changes nothing),
 * and a new row's reward.granted event with the same payload, the events in the rows'
 * order after them (EVENTS_MANY_ROWS per statement). *granted: the new rows.
 * The people are checked first: when one does not exist, *missing is the index of its
 * first grant, nothing is written, and 0 is returned (the caller applies the grants before
 * it, or stops); otherwise *missing is -1. A grant without key, reason or plugin is
 * DIAG_INVALID before anything is written. A key the ledger (or an earlier grant of g)
 * holds for ANOTHER person is refused: w->conflict is the grant's index (and
 * w->conflict_person the key's person), 0 is returned with *granted 0, and the rows
 * before it were written: the caller must roll back its level. ledger_writer_grant
 * refuses it with DIAG_INVALID ("field 'key': ...").
 */
int ledger_writer_grants(struct ledger_writer *w, const struct ledger_grant *g, size_t n,
			 long *granted, long *missing, struct diag *d);

/*
 * Revokes the grant with award key `key`. by_plugin: the rule that asks (NULL: "cli");
 * a rule may name its own key without its "PLUGIN:" prefix. event_id: the event that
 * caused it (0: none). 0 (*done 1 revoked now, 0 revoked before), or -1 + diag.
 */
int ledger_revoke(struct store *st, const char *key, const char *reason, const char *by_plugin,
		  int64_t event_id, int *done, struct diag *d);

/* The rows as a JSON array (program and person may be NULL). */
int ledger_list(struct store *st, const char *program, const char *person, json_t **out,
		struct diag *d);

/* {program, entries: [{rank, person, name, points, badges: [...]}], you: {...}|absent}. */
int ledger_leaderboard(struct store *st, const char *program, const char *as, json_t **out,
		       struct diag *d);

/* The current badges (granted, not revoked) of a person, as a JSON array of names. */
int ledger_badges(struct store *st, int64_t person_id, int64_t program_id, json_t **out,
		  struct diag *d);

#endif

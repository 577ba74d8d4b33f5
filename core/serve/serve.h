/*
 * serve: `tandem serve`, the background service of one workspace.
 *
 * For: the CLI (cmd_serve.c) and embedders that run the service themselves. It
 * keeps the programs' rhythm: the due job occurrences run (plan sessions, send
 * reminders, mark missed sessions, activate matches, the workspace's Lua jobs), and
 * the outbox's due messages are delivered, each as soon as it is due and no sooner.
 *
 * Contract:
 *  - serve_run takes the workspace's lock (serve/lock.h) first, and the lock of the
 *    folder that holds the database when that is another folder (`--db` elsewhere: two
 *    workspaces must not serve one database): when another service holds either, returns
 *    1 with *holder = its pid (d->msg names the database when its folder's lock is the one
 *    held; empty for the workspace's) and touches nothing. Then it opens the
 *    database (store_open: WAL, a busy timeout, every write BEGIN IMMEDIATE, so CLI
 *    commands run beside the service and each sees the other's committed work), reads
 *    tandem.lua, hands the store the service's clock (o->ts: real or scaled), and runs
 *    the loop (serve/loop.h) until SIGTERM/SIGINT, or one wake with o->once.
 *  - A wake (serve/service.h): leases of messages whose sender died become 'unknown',
 *    the jobs are synced from the built-ins and WORKSPACE/scripts, their occurrences
 *    materialized; then one due occurrence at a time runs (claim, effects, completion
 *    in one transaction), then one due message at a time is delivered; then the timer
 *    is armed for the earliest of the next occurrence and the next message.
 *  - The service re-reads the next due time after every wake, from the database: a
 *    CLI change made while it sleeps (a session planned by hand, a job run) is seen
 *    at its next wake at the latest (docs/service.md).
 *  - SIGHUP reloads tandem.lua and the plugins; a broken file keeps what was loaded.
 *  - With o->http, the HTTP API (http/api.h) listens on that address on the same loop,
 *    on the service's store, config and scheduler; it is up before the first wake and
 *    closed on SIGTERM/SIGINT. It is refused a non-loopback address unless
 *    o->http_public. --once serves no HTTP.
 *  - o->public_url (a checked URL) replaces tandem.lua's workspace{ public_url = }: the base
 *    of the check-in links in reminders (sched/links.h) and the origin the check-in page
 *    accepts forms from (http/checkin_page.h).
 *  - Returns 0 after a clean stop, 1 when locked, -1 with a diag when it cannot start
 *    (no database, a broken tandem.lua at start, no event loop) or --once failed.
 *    Everything it says goes through tlog.
 */
#ifndef TANDEM_SERVE_H
#define TANDEM_SERVE_H

#include "base/diag.h"
#include "serve/loop.h"
#include "serve/timescale.h"

struct serve_opts {
	const char *workspace;  /* the folder: lock file, tandem.lua, scripts/, outbox/ */
	const char *db_path;    /* the database (normally WORKSPACE/tandem.db) */
	struct timescale *ts;   /* the service's clock, initialized by the caller */
	int once;               /* one wake, then return */
	const char *http;       /* ADDR:PORT of the HTTP API (http/server.h), NULL: none */
	int http_public;        /* 1: a non-loopback http address is allowed */
	const char *public_url; /* base of check-in links; NULL: tandem.lua's public_url */
};

/* The lock file's name in the workspace. */
#define SERVE_LOCK_FILE ".tandem-serve.lock"

int serve_run(const struct serve_opts *o, struct serve_stats *st, long *holder, struct diag *d);

#endif

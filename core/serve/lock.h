/*
 * serve/lock: one `tandem serve` per workspace, and per database (serve/serve.c takes
 * the lock of the database's folder too when `--db` puts it in another folder).
 *
 * For: serve_run (serve/serve.h), before it touches the database. Two services on
 * one workspace would both run every due job occurrence; the claims in one
 * transaction keep that from doubling anything, but it would halve nothing either
 * and confuse the logs, so the second one refuses to start.
 *
 * Contract:
 *  - serve_lock_acquire(path) opens (creating, mode 0644) the lock file and takes
 *    an exclusive fcntl() record lock on it without waiting, then writes the
 *    caller's pid into it ("1234\n"). Returns 0 and *out on success; 1 when another
 *    process holds the lock, with *holder set to that process's pid (from F_GETLK,
 *    else from the file's text; 0 when neither says); -1 with a diag when the file
 *    cannot be opened or locked for another reason.
 *  - The lock lives as long as the process holds it: serve_lock_release() closes
 *    the file (the pid text stays; it is only read when the lock is held), and the
 *    kernel drops it when the process dies, SIGKILL included, so a crashed service
 *    never leaves a stale lock behind.
 *  - Why fcntl() and not flock(): a flock() belongs to the open file description,
 *    which the plugin workers (forked children, sys/worker.h) inherit, so a worker
 *    outliving a killed service for a moment would still hold the lock and the
 *    restarted service would refuse to start. A record lock belongs to the process
 *    and is not inherited by fork(). Its one trap, that closing ANY descriptor of
 *    the file drops the lock, is kept away by opening the file only here, once.
 */
#ifndef TANDEM_SERVE_LOCK_H
#define TANDEM_SERVE_LOCK_H

#include "base/diag.h"

struct serve_lock;

int serve_lock_acquire(const char *path, struct serve_lock **out, long *holder, struct diag *d);
/* Releases l and every lock chained to it. */
void serve_lock_release(struct serve_lock *l);
/* Chains next to l: released together (a service holding two lock files). */
void serve_lock_chain(struct serve_lock *l, struct serve_lock *next);

#endif

/*
 * serve/dbwatch: tells the service that another process committed to its database,
 * without a timer: the service sleeps until something is due or someone writes.
 *
 * How: an inotify watch (libuv's uv_fs_event) on the database's folder, filtered to the
 * database's -wal file (in WAL mode every commit writes it), then PRAGMA data_version
 * on the service's own connection, which changes only when ANOTHER connection committed:
 * the service's own writes touch the -wal file too, but leave data_version as it was, so
 * they do not wake it again (no loop). A -wal write that is not a commit (a checkpoint, a
 * reader) leaves data_version alone too.
 *
 * For: serve/serve.c (`tandem serve`): on a change, the service wakes (its jobs' next
 * work is read again: sched/nextwork.h) and the webhooks are pumped.
 *
 * Contract:
 *  - dbwatch_new(loop, st, db_path, on_change, ud): watches; on_change(ud) runs on the
 *    loop's thread, between two steps, once per batch of the folder's events that
 *    found data_version moved. NULL + diag when the watch cannot be set up.
 *  - dbwatch_stop(w): closes the handle (the loop then frees it); NULL is a no-op.
 *  - dbwatch_checks(w): how many times data_version was read (one per batch of events on
 *    the -wal file; other files of the folder cost none).
 */
#ifndef TANDEM_SERVE_DBWATCH_H
#define TANDEM_SERVE_DBWATCH_H

#include "base/diag.h"

struct store;
struct dbwatch;
struct uv_loop_s;

struct dbwatch *dbwatch_new(struct uv_loop_s *loop, struct store *st, const char *db_path,
			    void (*on_change)(void *ud), void *ud, struct diag *d);
void dbwatch_stop(struct dbwatch *w);
unsigned long dbwatch_checks(const struct dbwatch *w);

#endif

/*
 * sched/builtin: the table of built-in jobs, the work the service does on its own
 * schedule for every program of the workspace.
 *
 * Each entry names the job, its schedule (in the workspace's zone) and its body,
 * which runs inside the occurrence's transaction (sched/job.h, struct sched_run).
 * The bodies belong to the modules that own the work (planning, reminders, the
 * match lifecycle); this table only wires them to a schedule. A job is listed
 * here only once its body exists in this build: sched_sync enables what the table
 * has and disables a built-in row the build no longer has.
 *
 * Who calls it: sched_new (the default table of a struct sched), docs and
 * `tandem jobs list`.
 */
#ifndef TANDEM_SCHED_BUILTIN_H
#define TANDEM_SCHED_BUILTIN_H

#include <stddef.h>

#include "sched/job.h"

/* Hours after a session's end before mark-missed marks it missed, when nobody checked in. */
enum { SCHED_MISSED_GRACE_H = 24 };

/* This build's built-in jobs (*n of them). */
const struct sched_job_ops *sched_builtin_jobs(size_t *n);

#endif

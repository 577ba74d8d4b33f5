/*
 * lua/worker: run a piece of work in a forked child with resource limits and a
 * wall-clock deadline, and get its result bytes (or its error) back.
 *
 * Why: the Lua count hook cannot interrupt a C function (a catastrophic pattern
 * in string.find, a huge gsub). So hooks run in a child process that inherits
 * everything the parent set up before fork (the loaded plugin state, a snapshot
 * of people, a MAP_SHARED output region) and is killed with SIGKILL at the
 * deadline. The parent survives and reports what happened.
 *
 * Who calls it: lua/plugin.c (plugin_isolate, trial loads, `plugins check`), and
 * the policy engine, which computes a whole score matrix in ONE worker call
 * (never one fork per pair).
 *
 * The child:
 *  - gets RLIMIT_CPU (deadline rounded up + 1 s) and RLIMIT_AS (its current
 *    address space + lim->memory + 256 MiB of slack), except that RLIMIT_AS is not
 *    set under AddressSanitizer (__SANITIZE_ADDRESS__ or env TANDEM_ASAN), which
 *    reserves terabytes of virtual memory;
 *  - runs fn(arg, out, d); what fn appends to `out`, and its diag on failure,
 *    travel back through a pipe the parent drains while it waits (poll with the
 *    remaining time), so results larger than a pipe buffer are fine;
 *  - leaves with _exit(): no atexit handlers, no flushing of stdio buffers it
 *    inherited from the parent. It must not touch the parent's SQLite handle or
 *    libuv loop: fn should only compute.
 *
 * Not for use from several threads at once (fork in a threaded program is only
 * safe if fn touches nothing another thread may have locked).
 */
#ifndef TANDEM_LUA_WORKER_H
#define TANDEM_LUA_WORKER_H

#include <stddef.h>

#include "base/diag.h"
#include "lua/sandbox.h"

/* A growable byte buffer: the child appends, the parent receives a copy. */
struct worker_buf {
	char *data;
	size_t len, cap;
};

void worker_buf_init(struct worker_buf *b);
void worker_buf_fini(struct worker_buf *b);
/* Appends n bytes; returns 0, or -1 with a diag (DIAG_NOMEM). */
int worker_buf_append(struct worker_buf *b, const void *p, size_t n, struct diag *d);

/* Runs in the child. Returns 0 on success, -1 with the diag filled. */
typedef int (*worker_fn)(void *arg, struct worker_buf *out, struct diag *d);

/* How a worker ended, for callers that need more than the message. */
enum worker_status {
	WORKER_OK,       /* fn returned 0 */
	WORKER_FAILED,   /* fn returned -1: its diag came back */
	WORKER_DEADLINE, /* killed by the parent at the wall-clock deadline */
	WORKER_CPU,      /* killed by RLIMIT_CPU */
	WORKER_MEMORY,   /* ran out of memory (RLIMIT_AS or the allocator) */
	WORKER_CRASHED,  /* died of another signal */
	WORKER_LOST,     /* exited without a complete result */
	WORKER_SYSTEM,   /* pipe/fork/poll failed in the parent */
};

/*
 * Forks, runs fn(arg, out, d) in the child under `lim` (NULL = defaults), and
 * waits at most deadline_ms (0 = lim->batch_deadline_ms) before killing it.
 * On success `out` (initialized by the caller; may be NULL if fn writes nothing)
 * holds the child's bytes and 0 is returned. On failure returns -1 with a diag:
 * the child's own diag (code and message) when fn failed, else DIAG_PLUGIN with
 * "killed after N ms wall-clock deadline", "exceeded its CPU time limit",
 * "exceeded its memory limit", "crashed with signal N (NAME)". Callers prefix it
 * ("plugin policies/x.lua: hook score "). *status (may be NULL) says which.
 *
 * If lim->isolate is 0 (in-process mode for embedders), fn runs in this process
 * without fork, rlimits or kill; the in-Lua budgets still apply.
 */
int worker_run(const struct plugin_limits *lim, int deadline_ms, worker_fn fn, void *arg,
	       struct worker_buf *out, enum worker_status *status, struct diag *d);

/*
 * Memory shared with children: create before worker_run, let fn write into it,
 * read it after. For big fixed-size results (a score matrix of nr*nc doubles)
 * this avoids copying through the pipe. Zero-filled. NULL + diag on failure.
 */
void *worker_shared_new(size_t size, struct diag *d);
void worker_shared_delete(void *p, size_t size);

/* 1 if this process is a worker child (fn is running under worker_run). */
int worker_in_child(void);

#endif

/*
 * sys/worker: run work in forked child processes with resource limits, and
 * talk to them through a file descriptor an event loop can poll.
 *
 * Why: untrusted code (Lua plugins, the workspace's tandem.lua) can hang inside
 * a C function (a catastrophic pattern in string.find), where no instruction
 * count runs, or exhaust memory. So it runs in a child process that the host
 * kills with SIGKILL at a wall-clock deadline. The host survives, reaps the
 * child and reports what happened. This module knows nothing about Lua: its
 * callers (lua/plugin, program/config) hand it C functions and bytes.
 *
 * Two shapes:
 *  - worker_run: one piece of work in a fresh child (fork, run fn, send its
 *    bytes back, exit). For one-off evaluations.
 *  - struct worker: a long-lived child. worker_start forks it and runs `init`
 *    there once (e.g. load a plugin; what init writes comes back as the start
 *    result); then each request (bytes) is handed to `serve` in the child and
 *    its reply (bytes) comes back. State built by init lives on in the child.
 *    After a kill or a crash, worker_restart forks a new child and runs init
 *    again.
 *
 * Talking to a long-lived worker. The host end of a socketpair is non-blocking
 * and exposed by worker_fd(), so a libuv loop can uv_poll it:
 *     worker_send(w, req, len)              queue one request (one at a time)
 *     worker_events(w)                      POLLIN, plus POLLOUT while the request
 *                                           is not fully written
 *     worker_pump(w, reply)                 on readiness: moves bytes; 1 = reply
 *                                           complete, 0 = not yet, -1 = failed
 *     worker_expire(w, deadline_ms)         the caller's timer fired: SIGKILL,
 *                                           "killed after N ms ..."
 * worker_call() does the same blocking, with poll() and the time left as its
 * timeout: no signal, no SIGALRM, no interval timer is ever used in the host.
 *
 * Wire format (both directions, native byte order: both ends are the same binary):
 *     request: u32 length, i32 deadline_ms, then length bytes
 *     reply:   i32 rc, i32 diag code, u32 message length, u32 0, u64 payload
 *              length, then the message, then the payload
 *
 * The child:
 *  - resets the signal handlers it inherited (a crash must kill it; a daemon's
 *    SIGTERM handler would write into the parent's event loop);
 *  - lowers its scheduling priority by 5 nice levels (at most 19), so a
 *    runaway child does not starve the host's event loop of CPU;
 *  - gets RLIMIT_AS (its current address space + lim->memory + 256 MiB of
 *    slack), except under AddressSanitizer (__SANITIZE_ADDRESS__ or env
 *    TANDEM_ASAN), which reserves terabytes of virtual memory; and, before each
 *    piece of work, an RLIMIT_CPU soft limit of the CPU time it has used plus the
 *    work's deadline rounded up plus 1 s (so a long-lived worker's allowance does
 *    not run out over months);
 *  - leaves with _exit(): no atexit handlers, no flushing of inherited stdio. It
 *    must not touch the parent's SQLite handle or event loop: only compute.
 *
 * Deaths are reported as DIAG_PLUGIN with these messages (callers add context,
 * e.g. "plugin policies/x.lua: hook score "): "killed after N ms wall-clock
 * deadline", "exceeded its CPU time limit", "was killed (SIGKILL): it probably
 * exceeded its memory limit", "crashed with signal N (NAME)", "exited ...".
 *
 * In-process mode (lim->in_process, for embedders who ask for it): fn, init and
 * serve run in the calling process; there is no fork, no rlimit and no kill.
 *
 * Not for use from several threads at once (fork in a threaded program is only
 * safe if the child touches nothing another thread may have locked).
 */
#ifndef TANDEM_SYS_WORKER_H
#define TANDEM_SYS_WORKER_H

#include <stddef.h>

#include "base/buf.h"
#include "base/diag.h"

/* What a child may use. */
struct worker_limits {
	size_t memory;  /* bytes of address space granted beyond the child's size at start */
	int in_process; /* 1: no child at all (see above) */
};

/* How a piece of work ended, for callers that need more than the message. */
enum worker_status {
	WORKER_OK,       /* the work returned 0 */
	WORKER_FAILED,   /* the work returned -1: its diag came back; the worker lives on */
	WORKER_DEADLINE, /* killed by the host at the wall-clock deadline */
	WORKER_CPU,      /* killed by RLIMIT_CPU */
	WORKER_MEMORY,   /* ran out of memory (RLIMIT_AS, or killed by SIGKILL from elsewhere) */
	WORKER_CRASHED,  /* died of another signal */
	WORKER_LOST,     /* exited without a complete reply */
	WORKER_SYSTEM,   /* socket/fork/poll failed in the host */
};

/* Work run in a child. Returns 0 on success, -1 with the diag filled. */
typedef int (*worker_fn)(void *arg, struct buf *out, struct diag *d);

/*
 * Forks, runs fn(arg, out, d) in the child and waits at most deadline_ms
 * (plus a 200 ms grace, so the work's own deadline can report first) before
 * killing it. On success `out` (initialized by the caller; may be NULL) holds
 * the child's bytes and 0 is returned; on failure -1 with the child's own diag
 * (status WORKER_FAILED) or a death message above. *st may be NULL.
 */
int worker_run(const struct worker_limits *lim, int deadline_ms, worker_fn fn, void *arg,
	       struct buf *out, enum worker_status *st, struct diag *d);

/* 1 if this process is a worker child. */
int worker_in_child(void);

/*
 * Memory shared with children created after this call (MAP_SHARED, zero
 * filled): large fixed-size results without a copy through the socket.
 */
void *worker_shared_new(size_t size, struct diag *d);
void worker_shared_delete(void *p, size_t size);

/* ---- long-lived workers -------------------------------------------------------- */

/* Serves one request in the child: reads req[0..len), appends its reply. */
typedef int (*worker_serve_fn)(void *arg, const char *req, size_t len, struct buf *reply,
			       struct diag *d);

struct worker;

/*
 * Forks a long-lived worker and runs init(arg, out, d) in it under deadline_ms
 * (init may be NULL). On success returns the worker with init's bytes in `out`
 * (may be NULL). On failure (init's own error or a death) returns NULL with the
 * diag and *st. `arg` must stay valid for the worker's life (restarts use it).
 */
struct worker *worker_start(const struct worker_limits *lim, int deadline_ms, worker_fn init,
			    worker_serve_fn serve, void *arg, struct buf *out,
			    enum worker_status *st, struct diag *d);

/* Kills (SIGKILL) and reaps the child (waiting for it), frees w. NULL is a no-op. */
void worker_delete(struct worker *w);

/* 1 while a child is running (or in in-process mode), 0 after a death. */
int worker_alive(const struct worker *w);

/* Forks a new child after a death and runs init again (as worker_start). */
int worker_restart(struct worker *w, int deadline_ms, struct buf *out,
		   enum worker_status *st, struct diag *d);

/* The host end of the socket, for poll/uv_poll; -1 when none (dead, in-process). */
int worker_fd(const struct worker *w);

/* The events to poll for now: POLLIN, plus POLLOUT while a request is being written. */
short worker_events(const struct worker *w);

/*
 * Queues one request; the child's RLIMIT_CPU allowance for it follows from
 * deadline_ms. Only one request may be outstanding. In in-process mode the
 * request is served at once and the reply waits for worker_pump. 0 or -1.
 */
int worker_send(struct worker *w, const void *req, size_t len, int deadline_ms, struct diag *d);

/*
 * Moves bytes without blocking. Returns 1 when the reply is complete (`reply`,
 * initialized by the caller, holds the payload; *st is WORKER_OK), 0 when more
 * is needed, -1 when the request failed (*st WORKER_FAILED: the worker lives on)
 * or the worker died (the child is reaped and the death described).
 */
int worker_pump(struct worker *w, struct buf *reply, enum worker_status *st,
		struct diag *d);

/*
 * The caller's deadline for the outstanding request passed: kills the child
 * (without waiting for the kernel to tear it down: it is reaped at the next
 * pump, restart or delete); returns -1 with "killed after DEADLINE_MS ms
 * wall-clock deadline".
 */
int worker_expire(struct worker *w, int deadline_ms, enum worker_status *st, struct diag *d);

/*
 * Blocking round trip: send, then poll with the time left (deadline_ms + the
 * grace) and pump; kills the child at the deadline. Returns as worker_pump.
 */
int worker_call(struct worker *w, const void *req, size_t len, int deadline_ms,
		struct buf *reply, enum worker_status *st, struct diag *d);

/*
 * A page of memory shared with the child (WORKER_NOTES_SIZE bytes, zeroed at
 * every start), where work running in the child may leave notes the host reads
 * after a kill (e.g. which pair a hook was scoring). NULL in in-process mode is
 * never returned: there it is ordinary memory.
 */
enum { WORKER_NOTES_SIZE = 4096 };
void *worker_notes(struct worker *w);

/* The notes page of the current long-lived worker, in its child; NULL elsewhere. */
void *worker_child_notes(void);

#endif

/*
 * sys/worker: forked children with rlimits, a socketpair and a small framed
 * protocol. See worker.h for the contract.
 *
 * One code path for both shapes: worker_run is a long-lived worker whose child
 * serves nothing (it exits after sending init's reply), started, read and
 * deleted at once.
 */
#include "sys/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Time the host grants beyond a deadline, so the child's own in-Lua deadline
 * (same value) can report file:line before the SIGKILL. */
enum { WORKER_GRACE_MS = 200 };

struct req_header {
	uint32_t len;
	int32_t deadline_ms;
};

struct reply_header {
	int32_t rc;
	int32_t code;
	uint32_t msglen;
	uint32_t pad;
	uint64_t len;
};

struct worker {
	struct worker_limits lim;
	worker_fn init;
	worker_serve_fn serve;
	void *arg;
	pid_t pid;
	pid_t killed; /* a child killed and not reaped yet, or 0 */
	int fd;    /* host end, non-blocking; -1 when no child */
	int alive;
	void *notes;
	/* the outstanding request */
	int busy;
	struct buf out; /* bytes still to write (from out_off) */
	size_t out_off;
	struct buf in;  /* reply bytes read so far */
	/* in-process mode: the result waiting for worker_pump */
	int ip_rc;
	struct diag ip_diag;
	struct buf ip_reply;
};

static int in_child;
/* Thread-local: host threads that spawn workers at once each clear their own; the
 * child, a copy of the one thread that forked, reads that thread's value. */
static _Thread_local void *child_notes;

int
worker_in_child(void)
{
	return in_child;
}

void *
worker_child_notes(void)
{
	return child_notes;
}

/* ---- shared memory -------------------------------------------------- */

void *
worker_shared_new(size_t size, struct diag *d)
{
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED) {
		diag_set(d, DIAG_NOMEM, "cannot map %zu bytes of shared memory: %s", size,
			 strerror(errno));
		return NULL;
	}
	return p;
}

void
worker_shared_delete(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, size ? size : 1);
}

/* ---- the child ------------------------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
	return getenv("TANDEM_ASAN") != NULL;
}

/* Current address-space size of this process, from /proc/self/statm. */
static size_t
current_vm_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* The CPU allowance of the next piece of work: what was used so far + its deadline. */
static void
child_cpu_limit(int deadline_ms)
{
	struct rusage ru;
	struct rlimit rl;
	if (getrusage(RUSAGE_SELF, &ru) != 0 || getrlimit(RLIMIT_CPU, &rl) != 0)
		return;
	rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1);
	rlim_t want = used + (rlim_t)(deadline_ms + 999) / 1000 + 1;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	setrlimit(RLIMIT_CPU, &rl);
}

static void
child_setup(const struct worker_limits *lim)
{
	in_child = 1;
	/*
	 * The parent's handlers are not ours to run: a crash must kill the child
	 * (the parent reports the signal), and a daemon's SIGTERM/SIGINT handlers
	 * would write into the parent's event loop.
	 */
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE, SIGINT,
				   SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	/* A runaway child must not starve the host's event loop of CPU: on a busy
	 * machine the scheduler then favours the host (5 nice levels weigh about a
	 * third), while a plugin still gets enough CPU to meet its own deadlines. */
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		setpriority(PRIO_PROCESS, 0, prio + 5 < 19 ? prio + 5 : 19);
	if (!under_asan()) {
		struct rlimit rl;
		size_t as = current_vm_bytes() + lim->memory + ((size_t)256 << 20);
		rl.rlim_cur = rl.rlim_max = (rlim_t)as;
		setrlimit(RLIMIT_AS, &rl);
	}
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes; 0 on success, -1 on EOF or error. */
static int
read_all(int fd, void *p, size_t n)
{
	char *s = p;
	while (n > 0) {
		ssize_t r = read(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
child_reply(int fd, int rc, const struct diag *d, const struct buf *out)
{
	struct reply_header h = {.rc = rc,
				 .code = rc == 0 ? 0 : d->code,
				 .msglen = rc == 0 ? 0 : (uint32_t)strlen(d->msg),
				 .len = rc == 0 ? out->len : 0};
	return write_all(fd, &h, sizeof(h)) || write_all(fd, d->msg, h.msglen) ||
			       (h.len && write_all(fd, out->data, out->len))
		   ? -1
		   : 0;
}

static void __attribute__((noreturn))
child_main(int fd, struct worker *w, int deadline_ms)
{
	child_setup(&w->lim);
	struct buf out, req;
	struct diag d;
	buf_init(&out);
	buf_init(&req);
	diag_clear(&d);
	child_cpu_limit(deadline_ms);
	int rc = w->init != NULL ? w->init(w->arg, &out, &d) : 0;
	if (child_reply(fd, rc, &d, &out) != 0 || rc != 0 || w->serve == NULL)
		_exit(0);
	for (;;) {
		struct req_header h;
		if (read_all(fd, &h, sizeof(h)) != 0)
			_exit(0); /* the host closed its end */
		buf_reset(&req);
		if (buf_reserve(&req, h.len, &d) != 0)
			_exit(4);
		if (h.len > 0 && read_all(fd, req.data, h.len) != 0)
			_exit(0);
		req.len = h.len;
		req.data[req.len] = '\0';
		buf_reset(&out);
		diag_clear(&d);
		child_cpu_limit(h.deadline_ms);
		rc = w->serve(w->arg, req.data, req.len, &out, &d);
		if (child_reply(fd, rc, &d, &out) != 0)
			_exit(0);
	}
}

/* ---- the host: deaths ------------------------------------------------------------ */

static int
reap(pid_t pid)
{
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return ws;
}

static int
describe_death(int ws, enum worker_status *st, struct diag *d)
{
	if (WIFSIGNALED(ws)) {
		int sig = WTERMSIG(ws);
		if (sig == SIGXCPU) {
			*st = WORKER_CPU;
			return diag_set(d, DIAG_PLUGIN, "exceeded its CPU time limit");
		}
		if (sig == SIGKILL) {
			/* Not ours (we report our own kill): the OOM killer or an operator. */
			*st = WORKER_MEMORY;
			return diag_set(d, DIAG_PLUGIN,
					"was killed (SIGKILL): it probably exceeded its memory limit");
		}
		*st = WORKER_CRASHED;
		return diag_set(d, DIAG_PLUGIN, "crashed with signal %d (%s)", sig, strsignal(sig));
	}
	*st = WORKER_LOST;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return diag_set(d, DIAG_PLUGIN, "exited without a result");
	return diag_set(d, DIAG_PLUGIN, "exited with status %d without a result",
			WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

/* Reaps a child killed earlier, without waiting unless `wait` (see bury). */
static void
reap_killed(struct worker *w, int wait)
{
	if (w->killed <= 0)
		return;
	int ws;
	pid_t r;
	while ((r = waitpid(w->killed, &ws, wait ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (r != 0)
		w->killed = 0;
}

/*
 * Closes the socket and, with kill_it, kills the child: then it is reaped later
 * (the kernel may take tens of milliseconds to tear down a large address space,
 * which an event loop must not wait for); returns 0. Without kill_it the child
 * has exited (its end of the socket closed) and is reaped now: returns its wait
 * status.
 */
static int
bury(struct worker *w, int kill_it)
{
	int ws = 0;
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->pid > 0) {
		if (kill_it) {
			kill(w->pid, SIGKILL);
			reap_killed(w, 1); /* at most one child waits to be reaped */
			w->killed = w->pid;
			reap_killed(w, 0);
		} else {
			ws = reap(w->pid);
		}
		w->pid = 0;
	}
	w->alive = 0;
	w->busy = 0;
	buf_reset(&w->out);
	w->out_off = 0;
	buf_reset(&w->in);
	return ws;
}

/* ---- the host: one child -------------------------------------------------------- */

static int
spawn(struct worker *w, int deadline_ms, enum worker_status *st, struct diag *d)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		*st = WORKER_SYSTEM;
		return diag_set(d, DIAG_IO, "cannot create the worker socket: %s", strerror(errno));
	}
	memset(w->notes, 0, WORKER_NOTES_SIZE);
	child_notes = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		*st = WORKER_SYSTEM;
		return diag_set(d, DIAG_IO, "cannot fork a worker: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		child_notes = w->notes;
		child_main(sv[1], w, deadline_ms);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) != 0) {
		close(sv[0]);
		kill(pid, SIGKILL);
		reap(pid);
		*st = WORKER_SYSTEM;
		return diag_set(d, DIAG_IO, "cannot configure the worker socket: %s", strerror(errno));
	}
	w->pid = pid;
	w->fd = sv[0];
	w->alive = 1;
	w->busy = 1; /* init's reply is outstanding */
	buf_reset(&w->in);
	buf_reset(&w->out);
	w->out_off = 0;
	return 0;
}

/* Waits for the outstanding reply until the deadline (ms on CLOCK_MONOTONIC). */
static int
wait_reply(struct worker *w, int64_t until, int deadline_ms, struct buf *reply,
	   enum worker_status *st, struct diag *d)
{
	for (;;) {
		int rc = worker_pump(w, reply, st, d);
		if (rc != 0)
			return rc;
		int64_t left = until - now_ms();
		if (left <= 0)
			return worker_expire(w, deadline_ms, st, d);
		struct pollfd pfd = {.fd = w->fd, .events = worker_events(w)};
		int pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (pr < 0 && errno != EINTR) {
			bury(w, 1);
			*st = WORKER_SYSTEM;
			return diag_set(d, DIAG_IO, "poll on a worker socket: %s", strerror(errno));
		}
	}
}

static int
start_child(struct worker *w, int deadline_ms, struct buf *out, enum worker_status *st,
	    struct diag *d)
{
	if (w->lim.in_process) {
		struct buf tmp;
		buf_init(&tmp);
		memset(w->notes, 0, WORKER_NOTES_SIZE);
		int rc = w->init != NULL ? w->init(w->arg, out ? out : &tmp, d) : 0;
		buf_fini(&tmp);
		*st = rc == 0 ? WORKER_OK : WORKER_FAILED;
		w->alive = rc == 0;
		return rc;
	}
	if (spawn(w, deadline_ms, st, d) != 0)
		return -1;
	struct buf tmp;
	buf_init(&tmp);
	int rc = wait_reply(w, now_ms() + deadline_ms + WORKER_GRACE_MS, deadline_ms,
			    out ? out : &tmp, st, d);
	buf_fini(&tmp);
	if (rc < 0 && w->alive)
		bury(w, 1); /* init failed: the child is exiting anyway */
	return rc < 0 ? -1 : 0;
}

struct worker *
worker_start(const struct worker_limits *lim, int deadline_ms, worker_fn init,
	     worker_serve_fn serve, void *arg, struct buf *out, enum worker_status *st,
	     struct diag *d)
{
	enum worker_status dummy;
	if (st == NULL)
		st = &dummy;
	struct worker *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		*st = WORKER_SYSTEM;
		diag_set(d, DIAG_NOMEM, "out of memory starting a worker");
		return NULL;
	}
	if (lim != NULL)
		w->lim = *lim;
	/* A worker started from inside a worker runs in that process: it is already isolated. */
	if (in_child)
		w->lim.in_process = 1;
	w->init = init;
	w->serve = serve;
	w->arg = arg;
	w->fd = -1;
	buf_init(&w->out);
	buf_init(&w->in);
	buf_init(&w->ip_reply);
	w->notes = w->lim.in_process ? calloc(1, WORKER_NOTES_SIZE)
				     : worker_shared_new(WORKER_NOTES_SIZE, d);
	if (w->notes == NULL) {
		*st = WORKER_SYSTEM;
		if (w->lim.in_process)
			diag_set(d, DIAG_NOMEM, "out of memory starting a worker");
		free(w);
		return NULL;
	}
	if (start_child(w, deadline_ms, out, st, d) != 0) {
		worker_delete(w);
		return NULL;
	}
	return w;
}

int
worker_restart(struct worker *w, int deadline_ms, struct buf *out, enum worker_status *st,
	       struct diag *d)
{
	enum worker_status dummy;
	if (st == NULL)
		st = &dummy;
	if (w->alive && !w->lim.in_process)
		bury(w, 1);
	return start_child(w, deadline_ms, out, st, d);
}

void
worker_delete(struct worker *w)
{
	if (w == NULL)
		return;
	if (!w->lim.in_process) {
		bury(w, 1);
		reap_killed(w, 1);
	}
	if (w->lim.in_process)
		free(w->notes);
	else
		worker_shared_delete(w->notes, WORKER_NOTES_SIZE);
	buf_fini(&w->out);
	buf_fini(&w->in);
	buf_fini(&w->ip_reply);
	free(w);
}

int
worker_alive(const struct worker *w)
{
	return w != NULL && w->alive;
}

int
worker_fd(const struct worker *w)
{
	return w != NULL && !w->lim.in_process && w->alive ? w->fd : -1;
}

short
worker_events(const struct worker *w)
{
	short ev = POLLIN;
	if (w->busy && w->out_off < w->out.len)
		ev |= POLLOUT;
	return ev;
}

void *
worker_notes(struct worker *w)
{
	return w->notes;
}

int
worker_send(struct worker *w, const void *req, size_t len, int deadline_ms, struct diag *d)
{
	if (!w->alive)
		return diag_set(d, DIAG_PLUGIN, "the worker is not running");
	if (w->busy)
		return diag_set(d, DIAG_INTERNAL, "a worker request is already outstanding");
	if (len > UINT32_MAX)
		return diag_set(d, DIAG_INVALID, "a worker request of %zu bytes is too large", len);
	if (w->lim.in_process) {
		buf_reset(&w->ip_reply);
		diag_clear(&w->ip_diag);
		w->ip_rc = w->serve(w->arg, req, len, &w->ip_reply, &w->ip_diag);
		w->busy = 1;
		return 0;
	}
	struct req_header h = {.len = (uint32_t)len, .deadline_ms = deadline_ms};
	buf_reset(&w->out);
	w->out_off = 0;
	buf_reset(&w->in);
	if (buf_append(&w->out, &h, sizeof(h), d) != 0 ||
	    buf_append(&w->out, req, len, d) != 0)
		return -1;
	w->busy = 1;
	return 0;
}

/* The reply is complete in w->in: hands it over. 1, or -1 with the request's diag. */
static int
take_reply(struct worker *w, const struct reply_header *h, struct buf *reply,
	   enum worker_status *st, struct diag *d)
{
	const char *msg = w->in.data + sizeof(*h);
	w->busy = 0;
	if (h->rc != 0) {
		*st = WORKER_FAILED;
		diag_set(d, h->code ? h->code : DIAG_PLUGIN, "%.*s", (int)h->msglen, msg);
		buf_reset(&w->in);
		return -1;
	}
	*st = WORKER_OK;
	int rc = 1;
	if (reply != NULL && h->len > 0 &&
	    buf_append(reply, msg + h->msglen, (size_t)h->len, d) != 0) {
		*st = WORKER_SYSTEM;
		rc = -1;
	}
	buf_reset(&w->in);
	return rc;
}

/* The child is gone (EOF or an error on the socket): reap it and say how it died. */
static int
lost(struct worker *w, enum worker_status *st, struct diag *d)
{
	int ws = bury(w, 0);
	return describe_death(ws, st, d);
}

int
worker_pump(struct worker *w, struct buf *reply, enum worker_status *st, struct diag *d)
{
	enum worker_status dummy;
	if (st == NULL)
		st = &dummy;
	if (w->lim.in_process) {
		if (!w->busy)
			return 0;
		w->busy = 0;
		if (w->ip_rc != 0) {
			*st = WORKER_FAILED;
			if (d != NULL)
				*d = w->ip_diag;
			return -1;
		}
		*st = WORKER_OK;
		if (reply != NULL && w->ip_reply.len > 0 &&
		    buf_append(reply, w->ip_reply.data, w->ip_reply.len, d) != 0)
			return -1;
		return 1;
	}
	if (!w->alive) {
		*st = WORKER_SYSTEM;
		return diag_set(d, DIAG_PLUGIN, "the worker is not running");
	}
	reap_killed(w, 0);
	while (w->out_off < w->out.len) {
		ssize_t n = send(w->fd, w->out.data + w->out_off, w->out.len - w->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return lost(w, st, d); /* EPIPE: the child died */
		w->out_off += (size_t)n;
	}
	char chunk[65536];
	for (;;) {
		struct reply_header h;
		if (w->in.len >= sizeof(h)) {
			memcpy(&h, w->in.data, sizeof(h));
			if (w->in.len >= sizeof(h) + h.msglen + h.len)
				return take_reply(w, &h, reply, st, d);
		}
		ssize_t r = read(w->fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return lost(w, st, d);
		if (buf_append(&w->in, chunk, (size_t)r, d) != 0) {
			bury(w, 1);
			*st = WORKER_SYSTEM;
			return -1;
		}
	}
}

int
worker_expire(struct worker *w, int deadline_ms, enum worker_status *st, struct diag *d)
{
	enum worker_status dummy;
	if (st == NULL)
		st = &dummy;
	if (!w->lim.in_process)
		bury(w, 1);
	*st = WORKER_DEADLINE;
	return diag_set(d, DIAG_PLUGIN, "killed after %d ms wall-clock deadline", deadline_ms);
}

int
worker_call(struct worker *w, const void *req, size_t len, int deadline_ms,
	    struct buf *reply, enum worker_status *st, struct diag *d)
{
	enum worker_status dummy;
	if (st == NULL)
		st = &dummy;
	if (worker_send(w, req, len, deadline_ms, d) != 0) {
		*st = WORKER_SYSTEM;
		return -1;
	}
	return wait_reply(w, now_ms() + deadline_ms + WORKER_GRACE_MS, deadline_ms, reply, st, d);
}

/* ---- one-shot work ---------------------------------------------------------------- */

int
worker_run(const struct worker_limits *lim, int deadline_ms, worker_fn fn, void *arg,
	   struct buf *out, enum worker_status *st, struct diag *d)
{
	struct worker *w = worker_start(lim, deadline_ms, fn, NULL, arg, out, st, d);
	if (w == NULL)
		return -1;
	worker_delete(w);
	return 0;
}

/*
 * lua/worker: forked isolation with rlimits and a wall-clock kill. See worker.h.
 *
 * Protocol on the pipe, written once by the child when fn returns:
 *   struct frame (fixed header), then msglen bytes of diag message, then len
 *   bytes of payload. The parent reads until EOF while polling with the time
 *   left, so a child that writes a large result never blocks on a full pipe.
 */
#include "lua/worker.h"

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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Time the parent grants beyond the deadline, so the child's own in-Lua deadline
 * (same value) can report file:line before the SIGKILL. */
enum { WORKER_GRACE_MS = 200 };

struct frame {
	int32_t rc;
	int32_t code;
	uint32_t msglen;
	uint32_t pad;
	uint64_t len;
};

static int in_child;

int
worker_in_child(void)
{
	return in_child;
}

void
worker_buf_init(struct worker_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
worker_buf_fini(struct worker_buf *b)
{
	free(b->data);
	worker_buf_init(b);
}

int
worker_buf_append(struct worker_buf *b, const void *p, size_t n, struct diag *d)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *nd = realloc(b->data, cap);
		if (nd == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory (%zu bytes of worker output)",
					b->len + n);
		b->data = nd;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

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

static void
child_limits(const struct plugin_limits *lim, int deadline_ms)
{
	struct rlimit rl;
	rl.rlim_cur = (rlim_t)(deadline_ms + 999) / 1000 + 1;
	rl.rlim_max = rl.rlim_cur + 1;
	setrlimit(RLIMIT_CPU, &rl);
	if (!under_asan()) {
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
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void __attribute__((noreturn))
child_main(int fd, const struct plugin_limits *lim, int deadline_ms, worker_fn fn, void *arg)
{
	in_child = 1;
	/*
	 * The parent's handlers are not ours to run: a crash must kill the child
	 * (the parent reports the signal), and a daemon's SIGTERM/SIGINT handlers
	 * would write into the parent's event loop.
	 */
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE,
				   SIGINT,  SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	child_limits(lim, deadline_ms);
	struct worker_buf out;
	struct diag d;
	worker_buf_init(&out);
	diag_clear(&d);
	int rc = fn(arg, &out, &d);
	struct frame fr = {.rc = rc, .code = d.code, .msglen = (uint32_t)strlen(d.msg),
			   .len = rc == 0 ? out.len : 0};
	int bad = write_all(fd, &fr, sizeof(fr)) || write_all(fd, d.msg, fr.msglen) ||
		  (fr.len && write_all(fd, out.data, out.len));
	_exit(bad ? 3 : 0);
}

/* Reads until EOF or the deadline; returns 1 on EOF, 0 on timeout, -1 on error. */
static int
drain(int fd, int64_t deadline, struct worker_buf *in, struct diag *d)
{
	char chunk[65536];
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return diag_set(d, DIAG_IO, "poll on the worker pipe: %s", strerror(errno));
		if (pr == 0)
			continue;
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return diag_set(d, DIAG_IO, "read from the worker pipe: %s", strerror(errno));
		if (r == 0)
			return 1;
		if (worker_buf_append(in, chunk, (size_t)r, d) != 0)
			return -1;
	}
}

static int
reap(pid_t pid)
{
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return ws;
}

/* Turns the child's frame into the result; returns 0 or -1 with the child's diag. */
static int
unpack(const struct worker_buf *in, struct worker_buf *out, enum worker_status *st,
       struct diag *d)
{
	struct frame fr;
	if (in->len < sizeof(fr)) {
		*st = WORKER_LOST;
		return diag_set(d, DIAG_PLUGIN, "exited without a result");
	}
	memcpy(&fr, in->data, sizeof(fr));
	if (in->len != sizeof(fr) + fr.msglen + fr.len) {
		*st = WORKER_LOST;
		return diag_set(d, DIAG_PLUGIN, "exited with an incomplete result");
	}
	if (fr.rc != 0) {
		/* fn's own error, a memory budget included: the message already says which. */
		*st = WORKER_FAILED;
		return diag_set(d, fr.code ? fr.code : DIAG_PLUGIN, "%.*s", (int)fr.msglen,
				in->data + sizeof(fr));
	}
	*st = WORKER_OK;
	if (out != NULL && fr.len > 0)
		return worker_buf_append(out, in->data + sizeof(fr) + fr.msglen, fr.len, d);
	return 0;
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
	return diag_set(d, DIAG_PLUGIN, "exited with status %d without a result",
			WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

int
worker_run(const struct plugin_limits *lim, int deadline_ms, worker_fn fn, void *arg,
	   struct worker_buf *out, enum worker_status *status, struct diag *d)
{
	enum worker_status dummy;
	if (status == NULL)
		status = &dummy;
	struct plugin_limits r;
	plugin_limits_resolve(lim, &r);
	if (deadline_ms <= 0)
		deadline_ms = r.batch_deadline_ms;
	if (!r.isolate || in_child) {
		struct worker_buf tmp;
		worker_buf_init(&tmp);
		int rc = fn(arg, out ? out : &tmp, d);
		worker_buf_fini(&tmp);
		*status = rc == 0 ? WORKER_OK : WORKER_FAILED;
		return rc;
	}
	int fds[2];
	if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
		*status = WORKER_SYSTEM;
		return diag_set(d, DIAG_IO, "cannot create the worker pipe: %s", strerror(errno));
	}
	int64_t deadline = now_ms() + deadline_ms + WORKER_GRACE_MS;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		*status = WORKER_SYSTEM;
		return diag_set(d, DIAG_IO, "cannot fork a worker: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], &r, deadline_ms, fn, arg);
	}
	close(fds[1]);
	struct worker_buf in;
	worker_buf_init(&in);
	int got = drain(fds[0], deadline, &in, d);
	close(fds[0]);
	if (got <= 0)
		kill(pid, SIGKILL);
	int ws = reap(pid);
	int rc;
	if (got < 0) {
		*status = WORKER_SYSTEM;
		rc = -1;
	} else if (got == 0) {
		*status = WORKER_DEADLINE;
		rc = diag_set(d, DIAG_PLUGIN, "killed after %d ms wall-clock deadline", deadline_ms);
	} else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		rc = unpack(&in, out, status, d);
	} else {
		rc = describe_death(ws, status, d);
	}
	worker_buf_fini(&in);
	return rc;
}

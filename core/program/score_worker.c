/*
 * score_worker: the half of the score module that runs in the policy's worker
 * process: it keeps the cohort's person tables it is sent, runs a hook over a
 * batch of pairs with the lazy `features` view, and watches each call against
 * the per-call deadline (a SIGALRM watchdog that exists only in the worker).
 * See score.h for the contract, score_internal.h for the messages.
 */
#include "program/score.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/marshal.h"
#include "lua/plugin.h"
#include "program/score_internal.h"
#include "sys/worker.h"

/* ---- in the worker ----------------------------------------------------------------- */

/*
 * The per-call deadline. A batch runs with no count hook (at the speed of a bare
 * lua_call), so the worker runs a watchdog: SIGALRM every WATCH_TICK_MS checks
 * that the call counter moved. This timer and its handler exist only in the
 * worker process, during a batch; the host never uses a signal. A call stuck for
 * the plugin's deadline_ms gets a count hook (lua_sethook is safe in a signal
 * handler) that raises "per-call deadline" at the running Lua line, at every
 * instruction, so pcall cannot swallow it; one stuck inside a C function (a
 * pathological pattern) for another WATCH_KILL_GRACE_MS is killed, and the
 * worker's notes page tells the host which pair it was.
 */
enum { WATCH_TICK_MS = 100, WATCH_KILL_GRACE_MS = 300 };

/* The watchdog's state: one batch at a time, in the worker process only. */
static struct {
	volatile sig_atomic_t on;
	volatile long progress; /* calls started: the batch's pair index + 1 */
	long seen;
	int stuck_ms, limit_ms, hook;
	lua_State *L;
	struct watch_report *report;
	const int32_t *pairs; /* the batch's (mentor, mentee) pairs */
} watch;

static void
watch_lua_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	/* Level 0 is the Lua function running when the hook fired: its line is the culprit. */
	luaL_where(L, 0);
	lua_pushfstring(L, "one call ran longer than the per-call deadline of %d ms",
			watch.limit_ms);
	lua_concat(L, 2);
	lua_error(L);
}

static void
watch_tick(int sig)
{
	(void)sig;
	if (!watch.on)
		return;
	if (watch.progress != watch.seen) {
		watch.seen = watch.progress;
		watch.stuck_ms = 0;
		return;
	}
	watch.stuck_ms += WATCH_TICK_MS;
	struct watch_report *r = watch.report;
	if (watch.stuck_ms >= watch.limit_ms && r->stuck == 0) {
		long k = watch.progress - 1;
		r->stuck = 1;
		r->hook = watch.hook;
		r->mentor = k >= 0 ? watch.pairs[2 * k] : -1;
		r->mentee = k >= 0 ? watch.pairs[2 * k + 1] : -1;
		lua_sethook(watch.L, watch_lua_hook, LUA_MASKCOUNT, 1);
	} else if (watch.stuck_ms >= watch.limit_ms + WATCH_KILL_GRACE_MS) {
		r->stuck = 2;
		raise(SIGKILL);
	}
}

static void
watch_start(lua_State *L, int hook, int limit_ms, struct sigaction *old_sa,
	    struct itimerval *old_it)
{
	memset((void *)&watch, 0, sizeof(watch));
	watch.L = L;
	watch.hook = hook;
	watch.report = worker_child_notes();
	memset(watch.report, 0, sizeof(*watch.report));
	watch.limit_ms = limit_ms > 0 ? limit_ms : PLUGIN_DEFAULT_DEADLINE_MS;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, old_sa);
	struct itimerval it = {{0, WATCH_TICK_MS * 1000}, {0, WATCH_TICK_MS * 1000}};
	setitimer(ITIMER_REAL, &it, old_it);
	watch.on = 1;
}

static void
watch_stop(const struct sigaction *old_sa, const struct itimerval *old_it)
{
	watch.on = 0;
	setitimer(ITIMER_REAL, old_it, NULL);
	sigaction(SIGALRM, old_sa, NULL);
}

/* Registry field of the cohort the worker holds: {id = ..., mentors = {}, mentees = {}}
 * (a string key, so that tests/bench can run a bare loop on the same tables). */
#define COHORT_KEY "tandem.cohort"

/* op_cohort: decodes the person tables and keeps them for the batches. */
int
score__op_cohort(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	  struct diag *d)
{
	(void)hook;
	(void)out;
	lua_State *L = plugin_state(live);
	uint64_t id;
	if (n < sizeof(id))
		return diag_set(d, DIAG_INTERNAL, "malformed cohort request");
	memcpy(&id, in, sizeof(id));
	if (marshal_push(L, in + sizeof(id), n - sizeof(id), NULL, NULL, d) != 0)
		return -1;
	/* stack: {mentors, mentees}; the id rides along as a string key */
	lua_pushlstring(L, (const char *)&id, sizeof(id));
	lua_setfield(L, -2, "id");
	lua_setfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	return 0;
}

/* One batch's work in the worker. */
struct batch {
	const struct score_req *rq;
	const int32_t *pairs; /* mentor, mentee */
	const double *feats;  /* stride doubles per pair, or NULL */
	int stride;
	int slot[FEAT_COUNT + 1]; /* position of feature f in a pair's doubles, or -1 */
	double *out;
	int64_t k;			    /* the pair being scored */
	unsigned hot;			    /* features the hook has read: kept in the table */
	unsigned need;			    /* features read but not sent: the batch stops */
	const char *keyptr[FEAT_COUNT + 1]; /* interned names, alive on the stack */
};

/* Raises at every instruction once a feature was missing, until out of the call. */
static void
need_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	luaL_error(L, "a feature was not sent");
}

/* The value of feature f for the current pair; stops the call if it was not sent. */
static double
feature(lua_State *L, struct batch *b, int f)
{
	if (b->slot[f] < 0) {
		b->need |= 1u << f;
		lua_sethook(L, need_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "a feature was not sent");
	}
	return b->feats[b->k * b->stride + b->slot[f]];
}

/*
 * Raises "FILE:LINE: HOOK must return WANT (got ...)" for the value at the top,
 * LINE being where the hook function (stack index 1 in the batch bodies) is
 * defined: the call that returned is over, so that line is the useful one.
 */
static void
bad_return(lua_State *L, const char *hook, const char *want)
{
	char got[96];
	int t = lua_type(L, -1);
	if (t == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))
		snprintf(got, sizeof(got), "nan");
	else if (t == LUA_TNUMBER)
		snprintf(got, sizeof(got), "%.17g", lua_tonumber(L, -1));
	else if (t == LUA_TSTRING)
		snprintf(got, sizeof(got), "the string \"%.60s\"", lua_tostring(L, -1));
	else
		snprintf(got, sizeof(got), "%s", lua_typename(L, t));
	lua_Debug ar;
	lua_pushvalue(L, 1);
	if (lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar) && ar.linedefined > 0) {
		lua_pushfstring(L, "%s:%d: %s must return %s (got %s)", ar.short_src,
				ar.linedefined, hook, want, got);
		lua_error(L);
	}
	luaL_error(L, "%s must return %s (got %s)", hook, want, got);
}

static double
check_number(lua_State *L, const char *hook)
{
	/* Numbers only: a string such as "1.5" would be converted silently, and a
	 * hook that returns strings is a bug worth reporting. */
	if (lua_type(L, -1) == LUA_TNUMBER) {
		double x = lua_tonumber(L, -1);
		if (isfinite(x))
			return x;
	}
	bad_return(L, hook, "a finite number");
	return 0;
}

/* Stack slots used by run_pairs. */
enum { S_HOOK = 1, S_UD, S_MENTORS, S_MENTEES, S_FEATURES, S_KEYS };

/*
 * The features argument. Writing nine fields of a table before every call
 * costs more than a typical score hook, and most hooks read one or two. So the
 * table starts empty, with an __index that reads the current pair's value from
 * the request; a feature read once becomes "hot" and from the next pair on is
 * written into the table before each call (one rawset, cheaper than the
 * metamethod). Absent keys stay read-only (__newindex raises); hot ones are
 * rewritten before every call anyway, so an assignment never leaks to the next
 * pair. Keys are compared by address: Lua interns short strings, and the batch
 * holds the interned names (b->keyptr) on the stack for the whole batch.
 */
static int
features_index(lua_State *L)
{
	struct batch *b = lua_touserdata(L, lua_upvalueindex(1));
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
	for (int f = 0; k && f <= FEAT_COUNT; f++)
		if (k == b->keyptr[f]) {
			double v = feature(L, b, f);
			/* From now on a plain field: set it for this call too. */
			b->hot |= 1u << f;
			lua_pushvalue(L, 2);
			lua_pushnumber(L, v);
			lua_rawset(L, 1);
			lua_pushnumber(L, v);
			return 1;
		}
	lua_pushnil(L);
	return 1;
}

static int
features_newindex(lua_State *L)
{
	return luaL_error(L, "the features table is read-only");
}

/* A __pairs for the view, so that `for k, v in pairs(f)` lists the features. */
static int
features_next(lua_State *L)
{
	struct batch *b = lua_touserdata(L, lua_upvalueindex(1));
	int f = 0;
	if (!lua_isnil(L, 2)) {
		const char *k = lua_tostring(L, 2);
		while (f <= FEAT_COUNT && k != b->keyptr[f])
			f++;
		f++;
	}
	if (f > FEAT_COUNT)
		return 0;
	double v = feature(L, b, f);
	lua_pushstring(L, b->keyptr[f]);
	lua_pushnumber(L, v);
	return 2;
}

static int
features_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, features_next, 1);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* Pushes the features view bound to batch b. stack: +1 */
static void
push_features(lua_State *L, struct batch *b)
{
	lua_createtable(L, 0, 0);
	lua_createtable(L, 0, 4); /* its metatable */
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, features_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, features_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, features_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "locked");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
}

/* Pushes cohort[field] (the mentors or mentees array). */
static void
push_side(lua_State *L, const char *field)
{
	lua_getfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	lua_pushstring(L, field);
	lua_rawget(L, -2);
	lua_remove(L, -2);
}

/* plugin_run body for the pair hooks (score, prefer_*). */
static int
run_pairs(lua_State *L)
{
	struct batch *b = lua_touserdata(L, S_UD);
	const char *hook = score_hook_name(b->rq->hook);
	luaL_checkstack(L, S_KEYS + FEAT_COUNT + 8, "pair loop");
	push_side(L, "mentors"); /* S_MENTORS */
	push_side(L, "mentees"); /* S_MENTEES */
	b->hot = 0;
	push_features(L, b);		      /* S_FEATURES */
	for (int f = 0; f <= FEAT_COUNT; f++) /* S_KEYS...: the names, kept alive */
		b->keyptr[f] = lua_pushstring(L, f < FEAT_COUNT ? feat_name(f) : "builtin");
	int64_t n = b->rq->npairs;
	for (int64_t k = 0; k < n; k++) {
		b->k = k;
		if (b->hot) {
			const double *cur = b->feats + k * b->stride;
			for (int f = 0; f <= FEAT_COUNT; f++) {
				if (!(b->hot & (1u << f)))
					continue;
				lua_pushvalue(L, S_KEYS + f);
				lua_pushnumber(L, cur[b->slot[f]]);
				lua_rawset(L, S_FEATURES);
			}
		}
		/* stack: ..., hook, mentor, mentee, features */
		lua_pushvalue(L, S_HOOK);
		lua_rawgeti(L, S_MENTORS, b->pairs[2 * k] + 1);
		lua_rawgeti(L, S_MENTEES, b->pairs[2 * k + 1] + 1);
		lua_pushvalue(L, S_FEATURES);
		watch.progress = k + 1; /* one store per call: the watchdog's clue */
		lua_call(L, 3, 1);
		b->out[k] = check_number(L, hook);
		lua_pop(L, 1);
	}
	return 0;
}

/* plugin_run body for capacity(mentor): a non-negative integer per mentor. */
static int
run_capacity(lua_State *L)
{
	struct batch *b = lua_touserdata(L, S_UD);
	push_side(L, "mentors"); /* stack: hook, ud, mentors */
	for (int64_t k = 0; k < b->rq->npairs; k++) {
		int c = b->pairs[2 * k];
		lua_pushvalue(L, S_HOOK);
		lua_rawgeti(L, 3, c + 1);
		watch.progress = k + 1;
		lua_call(L, 1, 1);
		int isint = 0;
		lua_Integer v = 0;
		if (lua_type(L, -1) == LUA_TNUMBER) /* not "2": strings are a bug */
			v = lua_tointegerx(L, -1, &isint);
		if (!isint || v < 0 || v > 1000000)
			bad_return(L, "capacity", "an integer in 0..1000000");
		b->out[k] = (double)v;
		lua_pop(L, 1);
	}
	return 0;
}

/* op_score: one batch of calls of one hook. */
int
score__op_score(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	 struct diag *d)
{
	lua_State *L = plugin_state(live);
	struct score_req rq;
	if (n < sizeof(rq))
		return diag_set(d, DIAG_INTERNAL, "malformed score request");
	memcpy(&rq, in, sizeof(rq));
	int pair_hook = rq.hook != SCORE_CAPACITY;
	struct batch b = {.rq = &rq};
	for (int f = 0; f <= FEAT_COUNT; f++)
		b.slot[f] = pair_hook && (rq.mask & (1u << f)) ? b.stride++ : -1;
	size_t want = sizeof(rq) + (size_t)rq.npairs * 2 * sizeof(int32_t) +
		      (size_t)rq.npairs * (size_t)b.stride * sizeof(double);
	if (rq.hook < 0 || rq.hook >= SCORE_NHOOKS || n != want)
		return diag_set(d, DIAG_INTERNAL, "malformed score request");
	/* Is this cohort the one held here? */
	lua_getfield(L, LUA_REGISTRYINDEX, COHORT_KEY);
	uint64_t held = 0;
	if (lua_type(L, -1) == LUA_TTABLE) {
		lua_pushliteral(L, "id");
		lua_rawget(L, -2);
		if (lua_rawlen(L, -1) == sizeof(held))
			memcpy(&held, lua_tostring(L, -1), sizeof(held));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	uint64_t head[3] = {held == rq.cohort && held != 0 ? SCORE_DONE : SCORE_NO_COHORT, 0, 0};
	if (head[0] != SCORE_DONE)
		return buf_append(out, head, sizeof(head), d);
	size_t at = out->len;
	if (buf_reserve(out, sizeof(head) + (size_t)rq.npairs * sizeof(double), d) != 0)
		return -1;
	b.pairs = (const int32_t *)(in + sizeof(rq)); /* inputs start 8-byte aligned */
	b.feats = (const double *)(in + sizeof(rq) + (size_t)rq.npairs * 2 * sizeof(int32_t));
	b.out = (double *)(out->data + at + sizeof(head)); /* the results, in place */
	lua_CFunction body = pair_hook ? run_pairs : run_capacity;
	int rc;
	if (!worker_in_child()) { /* in-process mode: no watchdog, the in-Lua budgets */
		rc = plugin_run(live, hook, body, &b, rq.npairs ? rq.npairs : 1, d);
	} else {
		struct sigaction old_sa;
		struct itimerval old_it;
		watch_start(L, rq.hook, rq.per_call_ms, &old_sa, &old_it);
		watch.pairs = b.pairs;
		rc = plugin_run_watched(live, hook, body, &b, d);
		watch_stop(&old_sa, &old_it);
	}
	if (rc != 0 && b.need == 0)
		return -1;
	/* Done, or stopped at pair b.k for a feature that was not sent. */
	head[0] = rc == 0 ? SCORE_DONE : SCORE_NEED;
	head[1] = b.need;
	head[2] = rc == 0 ? rq.npairs : (uint64_t)b.k;
	memcpy(out->data + at, head, sizeof(head));
	out->len = at + sizeof(head) + (size_t)head[2] * sizeof(double);
	out->data[out->len] = '\0'; /* base/buf's invariant (the room was reserved) */
	return 0;
}


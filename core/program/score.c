/*
 * score: the policy hooks over batches of pairs, the host's half: builds the
 * cohort's person tables and sends them once, then sends batches of pairs with
 * the features the hook reads, and collects the numbers. The hooks run in the
 * policy's long-lived worker (score_worker.c). See score.h for the contract,
 * score_internal.h for the messages.
 */
#include "program/score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/marshal.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "lua/shape.h"
#include "program/score_internal.h"
#include "sys/worker.h"

static double
now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Lua side: person tables, hooks over many pairs -------------------------- */

/* The table a hook sees for one side member (lua/shape: the one shape). stack: +1 */
static void
push_member(lua_State *L, const struct cohort *c, const struct cohort_member *m, int mentor)
{
	(void)mentor;
	const struct cohort_person *p = &c->people[m->person];
	struct shape_person sp = {
	    .id = p->external_id, .name = p->name, .email = p->email, .title = p->title,
	    .department = p->department, .team = p->team, .location = p->location,
	    .timezone = p->timezone, .generation = p->generation, .level = p->level,
	    .languages = p->languages, .skills = p->skills, .topics_wanted = p->topics_wanted,
	    .attributes = p->attributes};
	struct shape_enrollment se = {.role = m->role, .capacity = m->capacity,
				      .topics_offered = m->topics_offered,
				      .topics_wanted = m->topics_wanted,
				      .availability = m->availability, .attributes = m->attributes};
	shape_push_member(L, &sp, &se);
}

static const char *const job_hook_names[SCORE_NHOOKS] = {"score", "capacity", "prefer_mentor",
							 "prefer_mentee"};

static const char *
job_hook_names_get(int h)
{
	return h >= 0 && h < SCORE_NHOOKS ? job_hook_names[h] : "?";
}

/* Pairs per request: big enough that the per-message cost vanishes, small
 * enough for a few MiB per message. */
enum { SCORE_BATCH = 16384 };

/* ---- in the host ------------------------------------------------------------------- */

/*
 * One hook run over many pairs. Pairs are either every allowed cell of a dense
 * nr x nc mask (mask != NULL; out index = rank of the cell among the allowed
 * ones, row-major) or an explicit list (rows/cols; out index k).
 */
struct lua_job {
	struct policy *pol;
	const struct cohort *c;
	const uint8_t *mask;
	int nr, nc;
	const int *rows, *cols;
	int64_t npairs;
	double *out[SCORE_NHOOKS]; /* NULL = not wanted; capacity: nc doubles */
};

/* pcall body: {mentors = {...}, mentees = {...}} of the cohort. stack: 1 job */
static int
build_tables_body(lua_State *L)
{
	struct lua_job *j = lua_touserdata(L, 1);
	lua_createtable(L, 0, 2);
	lua_createtable(L, j->c->nmentors, 0);
	for (int i = 0; i < j->c->nmentors; i++) {
		push_member(L, j->c, &j->c->mentors[i], 1);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "mentors");
	lua_createtable(L, j->c->nmentees, 0);
	for (int i = 0; i < j->c->nmentees; i++) {
		push_member(L, j->c, &j->c->mentees[i], 0);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "mentees");
	return 1;
}

/*
 * Sends the cohort's person tables to the worker. They are built in the host's
 * data-only state of the plugin (no plugin code runs there) and cross as data.
 */
static int
send_cohort(struct lua_job *j, const char *hook, int deadline_ms, struct diag *d)
{
	struct plugin *p = j->pol->plugin;
	lua_State *L = plugin_state(p);
	struct buf buf;
	buf_init(&buf);
	uint64_t id = j->c->id;
	int rc = buf_append(&buf, &id, sizeof(id), d);
	lua_pushcfunction(L, build_tables_body);
	lua_pushlightuserdata(L, j);
	if (rc == 0 && plugin_sandbox_pcall(L, 1, 1, d) < 0)
		rc = diag_prefix(d, "%s: building the person tables", j->pol->path);
	else if (rc == 0) {
		rc = marshal_encode(L, -1, 0, "the person tables", &buf, d);
		lua_pop(L, 1);
	} else {
		lua_pop(L, 2);
	}
	if (rc == 0)
		rc = plugin_exec(p, score__op_cohort, hook, buf.data, buf.len, deadline_ms, NULL, d);
	buf_fini(&buf);
	return rc;
}

/* Rewords the death of a worker stuck in C for one call (its notes say which). */
static void
stuck_message(struct lua_job *j, struct diag *d)
{
	struct worker *w = plugin_worker(j->pol->plugin);
	const struct watch_report *r = w ? worker_notes(w) : NULL;
	if (r == NULL || r->stuck != 2)
		return;
	const struct cohort *c = j->c;
	int m = r->mentor, e = r->mentee;
	diag_set(d, DIAG_PLUGIN,
		 "%s: hook %s: one call (mentor %s, mentee %s) ran past the per-call deadline "
		 "inside a C function; its worker was killed",
		 j->pol->path, job_hook_names_get(r->hook),
		 m >= 0 && m < c->nmentors ? c->people[c->mentors[m].person].external_id : "-",
		 e >= 0 && e < c->nmentees ? c->people[c->mentees[e].person].external_id : "-");
}

/*
 * Sends one batch (req holds the header and its pairs and features) and copies
 * the results to out. Returns the number of calls completed (all, or fewer when
 * the worker needs more features: *need says which), or -1.
 */
static int64_t
send_batch(struct lua_job *j, int h, struct buf *req, double *out, int64_t until_ms, unsigned *need,
	   struct diag *d)
{
	struct plugin *p = j->pol->plugin;
	const char *hook = job_hook_names[h];
	struct score_req rq;
	memcpy(&rq, req->data, sizeof(rq));
	struct buf reply;
	buf_init(&reply);
	uint64_t head[3] = {SCORE_NO_COHORT, 0, 0};
	int rc = 0;
	for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
		int left = (int)(until_ms - (int64_t)(now_secs() * 1000));
		if (left < 1)
			left = 1;
		buf_reset(&reply);
		rc = plugin_exec(p, score__op_score, hook, req->data, req->len, left, &reply, d);
		if (rc == 0 && reply.len >= sizeof(head))
			memcpy(head, reply.data, sizeof(head));
		if (rc != 0 || head[0] != SCORE_NO_COHORT)
			break;
		/* A fresh or restarted worker: send the cohort, then the batch again. */
		rc = attempt == 0 ? send_cohort(j, hook, left, d)
				  : diag_set(d, DIAG_INTERNAL, "%s: the worker lost the cohort",
					     j->pol->path);
	}
	if (rc == 0 && (head[0] == SCORE_NO_COHORT || head[2] > rq.npairs ||
			reply.len != sizeof(head) + (size_t)head[2] * sizeof(double)))
		rc = diag_set(d, DIAG_INTERNAL, "%s: a malformed reply from the worker",
			      j->pol->path);
	if (rc == 0)
		memcpy(out, reply.data + sizeof(head), (size_t)head[2] * sizeof(double));
	else
		stuck_message(j, d);
	buf_fini(&reply);
	*need = (unsigned)head[1];
	return rc == 0 ? (int64_t)head[2] : -1;
}

/* The k-th pair of the job (mentor c, mentee r); *cell walks the mask in order. */
static void
job_pair(const struct lua_job *j, int h, int64_t k, int64_t *cell, int *c, int *r)
{
	if (h == SCORE_CAPACITY) {
		*c = (int)k, *r = -1;
	} else if (j->mask) { /* the next allowed cell, row-major */
		while (j->mask[*cell])
			(*cell)++;
		*r = (int)(*cell / j->nc), *c = (int)(*cell % j->nc);
		(*cell)++;
	} else {
		*c = j->cols[k], *r = j->rows[k];
	}
}

/* Builds the request for pairs [from, from + n): header, pairs, the features of mask. */
static int
build_batch(struct lua_job *j, int h, unsigned mask, int64_t from, int64_t n, int64_t *cell,
	    struct buf *req, struct diag *d)
{
	struct score_req rq = {.cohort = j->c->id,
			       .hook = h,
			       .per_call_ms = plugin_limits(j->pol->plugin)->deadline_ms,
			       .npairs = (uint32_t)n,
			       .mask = h == SCORE_CAPACITY ? 0 : mask};
	int stride = __builtin_popcount(rq.mask);
	buf_reset(req);
	if (buf_append(req, &rq, sizeof(rq), d) != 0 ||
	    buf_reserve(req, (size_t)n * (2 * sizeof(int32_t) + stride * sizeof(double)), d))
		return -1;
	int32_t *pairs = (int32_t *)(req->data + sizeof(rq));
	double *feats = (double *)(pairs + 2 * n);
	for (int64_t k = 0; k < n; k++) {
		int c, r;
		job_pair(j, h, from + k, cell, &c, &r);
		pairs[2 * k] = c;
		pairs[2 * k + 1] = r;
		if (stride == 0)
			continue;
		double cur[FEAT_COUNT + 1];
		feat_values(j->c->snap, c, r, cur);
		double builtin = 0;
		for (int f = 0; f < FEAT_COUNT; f++)
			builtin += j->pol->rules.weight[f] * cur[f];
		cur[FEAT_COUNT] = builtin;
		double *dst = feats + k * stride;
		for (int f = 0; f <= FEAT_COUNT; f++)
			if (rq.mask & (1u << f))
				*dst++ = cur[f];
	}
	req->len = sizeof(rq) + (size_t)n * (2 * sizeof(int32_t) + stride * sizeof(double));
	req->data[req->len] = '\0'; /* base/buf's invariant (the room was reserved) */
	return 0;
}

/*
 * Runs hook h over the job's pairs, SCORE_BATCH pairs per request, sending only
 * the features the hook has read so far (the mask grows when it reads another).
 */
static int
run_hook(struct lua_job *j, int h, int64_t until_ms, struct diag *d)
{
	struct buf req;
	buf_init(&req);
	double *out = j->out[h];
	int64_t total = h == SCORE_CAPACITY ? j->c->nmentors : j->npairs;
	int64_t done = 0, cell = 0;
	unsigned mask = 0;
	int rc = 0;
	while (rc == 0 && done < total) {
		int64_t n = total - done < SCORE_BATCH ? total - done : SCORE_BATCH;
		int64_t cell0 = cell;
		rc = build_batch(j, h, mask, done, n, &cell, &req, d);
		unsigned need = 0;
		int64_t got = rc == 0 ? send_batch(j, h, &req, out + done, until_ms, &need, d) : -1;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got < n) {
			if ((need & ~mask) == 0) {
				rc = diag_set(d, DIAG_INTERNAL,
					      "%s: the worker stopped a batch early", j->pol->path);
				break;
			}
			mask |= need;
			/* Walk the mask again up to the first pair not scored. */
			cell = cell0;
			for (int64_t k = 0; j->mask && h != SCORE_CAPACITY && k < got; k++) {
				while (j->mask[cell])
					cell++;
				cell++;
			}
		}
		done += got;
	}
	buf_fini(&req);
	return rc;
}

/* Runs every wanted hook of the job in the policy's worker, under its batch deadline. */
static int
run_job(struct lua_job *j, struct diag *d)
{
	int64_t until_ms =
	    (int64_t)(now_secs() * 1000) + plugin_limits(j->pol->plugin)->batch_deadline_ms;
	int rc = 0;
	for (int h = 0; rc == 0 && h < SCORE_NHOOKS; h++)
		if (j->out[h] != NULL)
			rc = run_hook(j, h, until_ms, d);
	if (rc < 0 && d && d->code != DIAG_NOMEM)
		d->code = DIAG_PLUGIN;
	return rc;
}

const char *
score_hook_name(int h)
{
	return job_hook_names_get(h);
}

double *
score_out_new(size_t n, struct diag *d)
{
	return worker_shared_new((n ? n : 1) * sizeof(double), d);
}

void
score_out_delete(double *out, size_t n)
{
	if (out)
		worker_shared_delete(out, (n ? n : 1) * sizeof(double));
}

int
score_run(struct policy *pol, const struct cohort *c, const struct score_batch *b, struct diag *d)
{
	struct lua_job j = {.pol = pol,
			    .c = c,
			    .mask = b->mask,
			    .nr = b->nr,
			    .nc = b->nc,
			    .rows = b->rows,
			    .cols = b->cols,
			    .npairs = b->npairs};
	for (int h = 0; h < SCORE_NHOOKS; h++)
		j.out[h] = b->out[h];
	return run_job(&j, d);
}

int
score_pairs(struct policy *pol, const struct cohort *c, const int *mentors, const int *mentees,
	    int n, double *out, struct diag *d)
{
	if (!pol->has_score || n == 0) {
		for (int k = 0; k < n; k++)
			out[k] = 0;
		return 0;
	}
	struct lua_job j = {.pol = pol, .c = c, .rows = mentees, .cols = mentors, .npairs = n};
	j.out[SCORE_SCORE] = out;
	return run_job(&j, d);
}

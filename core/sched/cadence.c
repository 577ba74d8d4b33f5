/*
 * sched/cadence: one cadence run for one pair. See cadence.h for the contract.
 *
 * The plan hook runs in the plugin's worker through plugin_exec with plan_op
 * below: the host marshals {pair, history, ctx} (built by lua/shape in a small
 * scratch state of its own, so the tables are exactly those `plugins check`
 * hands), the worker calls the hook and reads its result with lua/cadence_out
 * (in the pair's zone), and only the checked entries come back, as an array of
 * plain structs (host and worker are the same binary).
 *
 * A cadence keeps the rules it parsed (by text) and the expansions it made (by rule,
 * first wall time, zone and window): the pairs of a program mostly share them (one
 * activation, a few zones and slots), so planning 5,000 pairs expands a few dozen rules,
 * not 5,000. An expansion depends on nothing else (the zones' rules are read once per
 * process), and the kept ones are dropped when there are CADENCE_KEEP of them (the
 * service plans with a new window every hour).
 */
#include "sched/cadence.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/cadence_out.h"
#include "lua/marshal.h"
#include "lua/plugin.h"
#include "base/strmap.h"
#include "lua/registry.h"
#include "time/cal.h"
#include "time/rrule.h"
#include "time/slots.h"
#include "time/tz.h"

struct cadence {
	struct plugin *p;
	char *rule;        /* declared rule or NULL */
	char zone[8];      /* "pair", "mentee", "mentor" */
	int duration;      /* declared duration_min, 0 if none */
	int has_plan;
	lua_State *scratch; /* builds the hook's arguments; created at the first plan call */
	struct strmap rules;      /* rule text -> struct rrule * */
	struct strmap expansions; /* rule, wall time, zone, window -> struct expanded * */
};

enum { CADENCE_KEEP = 4096 };

/* A kept expansion: its instants, sorted. */
struct expanded {
	size_t n;
	time_t v[];
};

/* ---- loading ------------------------------------------------------------------ */

struct cadence *
cadence_open(const char *ws, const char *ref, struct diag *d)
{
	struct cadence *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory loading cadence '%s'", ref);
		return NULL;
	}
	c->p = plugin_open(NULL, ws, PLUGIN_CADENCE, ref, NULL, d);
	if (c->p == NULL) {
		free(c);
		return NULL;
	}
	strmap_init(&c->rules, STRMAP_COPY_KEYS);
	strmap_init(&c->expansions, STRMAP_COPY_KEYS);
	/* The declaration, as data, in the host's state; the validator checked its fields. */
	lua_State *L = plugin_state(c->p);
	int top = lua_gettop(L);
	plugin_push_decl(c->p);
	snprintf(c->zone, sizeof(c->zone), "pair");
	if (lua_getfield(L, -1, "zone") == LUA_TSTRING)
		snprintf(c->zone, sizeof(c->zone), "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "duration_min") == LUA_TNUMBER)
		c->duration = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "rule") == LUA_TSTRING)
		c->rule = strdup(lua_tostring(L, -1));
	lua_settop(L, top);
	c->has_plan = plugin_has_hook(c->p, "plan");
	return c;
}

/* Drops the kept rules (rules too) or expansions. */
static void
forget(struct strmap *m, int rules)
{
	for (struct strmap_entry *e = strmap_next(m, NULL); e != NULL; e = strmap_next(m, e)) {
		if (rules)
			rrule_delete(e->ptr);
		else
			free(e->ptr);
	}
	strmap_fini(m);
	strmap_init(m, STRMAP_COPY_KEYS);
}

void
cadence_delete(struct cadence *c)
{
	if (c == NULL)
		return;
	forget(&c->rules, 1);
	forget(&c->expansions, 0);
	plugin_delete(c->p);
	if (c->scratch != NULL)
		lua_close(c->scratch);
	free(c->rule);
	free(c);
}

/* ---- the service's cache ------------------------------------------------------- */

struct cached_cadence {
	char *ws, *ref;
	char id[4200]; /* cadence_file_id when opened, or of the version that failed to load */
	struct cadence *c;
	char why[DIAG_MSG_MAX]; /* "": c is its file's current version; else why the file's
				 * current version did not load (c is the previous one) */
};

struct cadence_cache {
	struct cached_cadence *v;
	size_t n;
};

struct cadence_cache *
cadence_cache_new(void)
{
	return calloc(1, sizeof(struct cadence_cache));
}

static void
cached_fini(struct cached_cadence *e)
{
	cadence_delete(e->c);
	free(e->ws);
	free(e->ref);
}

void
cadence_cache_clear(struct cadence_cache *cc)
{
	if (cc == NULL)
		return;
	for (size_t i = 0; i < cc->n; i++)
		cached_fini(&cc->v[i]);
	free(cc->v);
	cc->v = NULL;
	cc->n = 0;
}

void
cadence_cache_delete(struct cadence_cache *cc)
{
	cadence_cache_clear(cc);
	free(cc);
}

void
cadence_file_id(const struct cadence *c, char *buf, size_t size)
{
	struct stat sb;
	const char *path = cadence_path(c);
	if (path == NULL || stat(path, &sb) != 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "%s:%lld:%lld.%09ld", path, (long long)sb.st_size,
		 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
}

static int
same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Entry e's file changed: its new version replaces it, or, when that does not load, the
 * loaded version stays (the file's id is kept so it is not tried again until it changes)
 * and why says why. 0: replaced, 1: kept, -1: out of memory. */
static int
cached_reopen(struct cached_cadence *e, const char *id)
{
	struct diag d;
	diag_clear(&d);
	struct cadence *c = cadence_open(e->ws, e->ref, &d);
	if (c == NULL) {
		if (d.code == DIAG_NOMEM)
			return -1;
		snprintf(e->id, sizeof(e->id), "%s", id);
		snprintf(e->why, sizeof(e->why), "%s", d.msg[0] ? d.msg : "it did not load");
		return 1;
	}
	cadence_delete(e->c);
	e->c = c;
	cadence_file_id(c, e->id, sizeof(e->id));
	e->why[0] = '\0';
	return 0;
}

/* The id of the file the entry's cadence came from, as it is now ("" when it went away). */
static void
current_id(const struct cached_cadence *e, char *buf, size_t size)
{
	cadence_file_id(e->c, buf, size);
}

struct cadence *
cadence_cache_get(struct cadence_cache *cc, const char *ws, const char *ref, struct diag *d)
{
	char id[sizeof(((struct cached_cadence *)0)->id)];
	for (size_t i = 0; i < cc->n; i++) {
		struct cached_cadence *e = &cc->v[i];
		if (!same(e->ws, ws) || strcmp(e->ref, ref) != 0)
			continue;
		current_id(e, id, sizeof(id));
		if (id[0] && strcmp(id, e->id) == 0)
			return e->c;
		if (id[0]) {
			/* Edited: the new version, or the loaded one when the new does not load. */
			if (cached_reopen(e, id) < 0) {
				diag_set(d, DIAG_NOMEM, "out of memory loading cadence '%s'", ref);
				return NULL;
			}
			return e->c;
		}
		/* Its file went away: opened again below (another file may declare it). */
		cached_fini(e);
		cc->v[i] = cc->v[--cc->n];
		break;
	}
	struct cached_cadence *v = realloc(cc->v, (cc->n + 1) * sizeof(*v));
	if (v == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory loading cadence '%s'", ref);
		return NULL;
	}
	cc->v = v;
	struct cached_cadence e = {.ws = ws != NULL ? strdup(ws) : NULL, .ref = strdup(ref)};
	if ((ws != NULL && e.ws == NULL) || e.ref == NULL) {
		free(e.ws);
		free(e.ref);
		diag_set(d, DIAG_NOMEM, "out of memory loading cadence '%s'", ref);
		return NULL;
	}
	if ((e.c = cadence_open(ws, ref, d)) == NULL) {
		free(e.ws);
		free(e.ref);
		return NULL;
	}
	cadence_file_id(e.c, e.id, sizeof(e.id));
	cc->v[cc->n++] = e;
	return e.c;
}

int
cadence_cache_refresh(struct cadence_cache *cc, struct diag *d)
{
	int kept = 0;
	char id[sizeof(((struct cached_cadence *)0)->id)];
	for (size_t i = 0; cc != NULL && i < cc->n; i++) {
		struct cached_cadence *e = &cc->v[i];
		current_id(e, id, sizeof(id));
		if (id[0] == '\0') {
			/* Gone: forgotten; the next plan that names it resolves it again. */
			cached_fini(e);
			cc->v[i--] = cc->v[--cc->n];
			continue;
		}
		int rc = strcmp(id, e->id) == 0 ? (e->why[0] != '\0') : cached_reopen(e, id);
		if (rc < 0)
			return diag_set(d, DIAG_NOMEM, "out of memory reloading cadences");
		if (rc == 1 && kept++ == 0)
			diag_set(d, DIAG_PLUGIN, "cadence '%s' keeps its loaded version: %s", e->ref,
				 e->why);
	}
	if (kept > 1)
		diag_prefix(d, "%d cadences keep their loaded version; the first", kept);
	return kept > 0 ? 1 : 0;
}

const char *
cadence_name(const struct cadence *c)
{
	return plugin_name(c->p);
}

const char *
cadence_path(const struct cadence *c)
{
	return plugin_path(c->p);
}

int
cadence_duration(const struct cadence *c)
{
	return c->duration;
}

const char *
cadence_zone_choice(const struct cadence *c)
{
	return c->zone;
}

const char *
cadence_rule(const struct cadence *c)
{
	return c->rule;
}

int
cadence_has_plan(const struct cadence *c)
{
	return c->has_plan;
}

void
cadence_result_fini(struct cadence_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- the plan hook ------------------------------------------------------------- */

struct build_args {
	const struct cadence_pair *p;
	const struct shape_session *hist;
	size_t n_hist;
	const struct cadence_ctx *ctx;
};

static void
set_str(lua_State *L, const char *k, const char *v)
{
	if (v != NULL && v[0]) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, k);
	}
}

static void
set_time(lua_State *L, const char *k, time_t t)
{
	char iso[32];
	struct cal_time w;
	cal_from_epoch((int64_t)t, &w);
	snprintf(iso, sizeof(iso), "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)w.year, w.mon,
		 w.day, w.hour, w.min, w.sec);
	lua_pushinteger(L, (lua_Integer)t);
	lua_setfield(L, -2, k);
	char k_iso[32];
	snprintf(k_iso, sizeof(k_iso), "%s_iso", k);
	lua_pushstring(L, iso);
	lua_setfield(L, -2, k_iso);
}

/* Protected: pushes {pair, history, ctx}. ud: struct build_args. */
static int
build_args(lua_State *L)
{
	const struct build_args *a = lua_touserdata(L, 1);
	const struct cadence_pair *p = a->p;
	struct shape_pair sp = {
		.match = &p->match, .zone = p->zone, .topics = p->topics,
		.activated_at = p->activated ? p->activated_at : NULL,
		.activated = (int64_t)p->activated, .starts_on = p->starts_on, .ends_on = p->ends_on,
		.duration_min = p->duration_min,
	};
	lua_createtable(L, 3, 0);
	shape_push_member(L, &p->mentor, &p->mentor_enr);
	shape_push_member(L, &p->mentee, &p->mentee_enr);
	shape_push_pair(L, &sp);
	lua_rawseti(L, -2, 1);
	lua_createtable(L, (int)a->n_hist, 0);
	for (size_t i = 0; i < a->n_hist; i++) {
		shape_push_session(L, &a->hist[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_rawseti(L, -2, 2);
	lua_createtable(L, 0, 8);
	set_time(L, "now", a->ctx->now);
	set_time(L, "horizon", a->ctx->horizon);
	set_str(L, "timezone", a->ctx->timezone);
	lua_createtable(L, 0, 4);
	set_str(L, "name", a->ctx->program);
	set_str(L, "title", a->ctx->title);
	set_str(L, "starts_on", p->starts_on);
	set_str(L, "ends_on", p->ends_on);
	lua_setfield(L, -2, "program");
	lua_rawseti(L, -2, 3);
	return 1;
}

/*
 * In the worker: in = zone length (size_t), zone, then the marshalled {pair,
 * history, ctx}. Calls plan and appends the checked entries to out.
 */
static int
plan_op(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	struct diag *d)
{
	size_t zlen;
	if (n < sizeof(zlen))
		return diag_set(d, DIAG_INTERNAL, "plan: short request");
	memcpy(&zlen, in, sizeof(zlen));
	if (zlen >= 128 || n < sizeof(zlen) + zlen)
		return diag_set(d, DIAG_INTERNAL, "plan: bad request");
	char zone[128];
	memcpy(zone, in + sizeof(zlen), zlen);
	zone[zlen] = '\0';
	const char *args = in + sizeof(zlen) + zlen;
	lua_State *L = plugin_state(live);
	int top = lua_gettop(L);
	if (marshal_push(L, args, n - sizeof(zlen) - zlen, NULL, NULL, d) != 0)
		return -1;
	for (int i = 1; i <= 3; i++)
		lua_rawgeti(L, top + 1, i);
	lua_remove(L, top + 1); /* stack: pair, history, ctx */
	if (plugin_call(live, hook, 3, 1, d) != 0) {
		lua_settop(L, top);
		return -1;
	}
	struct cadence_entry *v = NULL;
	size_t nv = 0;
	struct diag rd;
	diag_clear(&rd);
	int rc = cadence_out_read(L, -1, zone[0] ? zone : NULL, &v, &nv, &rd);
	lua_settop(L, top);
	if (rc != 0) {
		/* Where the hook is defined: the call is over, so that is the useful line. */
		int line = plugin_hook_line(live, hook);
		char where[600];
		if (line > 0)
			snprintf(where, sizeof(where), "%s:%d", plugin_path(live), line);
		else
			snprintf(where, sizeof(where), "%s", plugin_path(live));
		return diag_set(d, DIAG_PLUGIN, "%s: %.800s (in hook %s)", where, rd.msg, hook);
	}
	int line = plugin_hook_line(live, hook);
	for (size_t i = 0; i < nv; i++)
		v[i].line = line;
	rc = nv ? buf_append(out, v, nv * sizeof(*v), d) : 0;
	free(v);
	return rc;
}

/* Runs plan for p; *entries malloc'd. */
static int
call_plan(struct cadence *c, const struct cadence_pair *p, const struct shape_session *hist,
	  size_t n_hist, const struct cadence_ctx *ctx, struct cadence_entry **entries,
	  size_t *n, struct diag *d)
{
	*entries = NULL;
	*n = 0;
	if (c->scratch == NULL && (c->scratch = luaL_newstate()) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory building a cadence's arguments");
	lua_State *L = c->scratch;
	lua_settop(L, 0);
	struct build_args a = {p, hist, n_hist, ctx};
	lua_pushcfunction(L, build_args);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		diag_set(d, DIAG_NOMEM, "building the arguments of plan: %s", lua_tostring(L, -1));
		lua_settop(L, 0);
		return -1;
	}
	struct buf req, out;
	buf_init(&req);
	buf_init(&out);
	size_t zlen = p->zone != NULL ? strlen(p->zone) : 0;
	int rc = buf_append(&req, &zlen, sizeof(zlen), d);
	if (rc == 0 && zlen)
		rc = buf_append(&req, p->zone, zlen, d);
	if (rc == 0)
		rc = marshal_encode(L, -1, 0, "the arguments of plan", &req, d);
	lua_settop(L, 0);
	if (rc == 0)
		rc = plugin_exec(c->p, plan_op, "plan", req.data, req.len,
				 plugin_limits(c->p)->deadline_ms, &out, d);
	buf_fini(&req);
	if (rc == 0 && out.len % sizeof(struct cadence_entry) != 0)
		rc = diag_set(d, DIAG_INTERNAL, "plan: a reply of %zu bytes", out.len);
	if (rc == 0 && out.len > 0) {
		*n = out.len / sizeof(struct cadence_entry);
		*entries = (struct cadence_entry *)buf_release(&out);
	}
	buf_fini(&out);
	return rc;
}

/* ---- rules and slots ------------------------------------------------------------ */

static int
add_session(struct cadence_result *r, size_t *cap, time_t t, int duration, const char *topic,
	    int entry, int from_rule, struct diag *d)
{
	if (r->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct cadence_session *v = realloc(r->v, nc * sizeof(*v));
		if (v == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		r->v = v;
		*cap = nc;
	}
	struct cadence_session *s = &r->v[r->n++];
	s->start = t;
	s->open = 0;
	s->duration_min = duration;
	s->entry = entry;
	s->from_rule = from_rule;
	snprintf(s->topic, sizeof(s->topic), "%s", topic != NULL ? topic : "");
	return 0;
}

/* The wall time at t in zone. */
static int
wall_at(time_t t, const char *zone, struct cal_time *w, struct diag *d)
{
	struct tm tm;
	if (tz_utc_to_local(zone, t, &tm, d) != 0)
		return -1;
	*w = (struct cal_time){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			       tm.tm_min, tm.tm_sec};
	return 0;
}

static const char *const day_codes[8] = {"", "MO", "TU", "WE", "TH", "FR", "SA", "SU"};

/* The weekdays (bit 1 = Monday ... 7 = Sunday) a rule's BYDAY names, 0 if none. */
static unsigned
byday_mask(const char *text)
{
	const char *p = strstr(text, "BYDAY=");
	if (p == NULL)
		return 0;
	unsigned m = 0;
	for (p += 6; *p && *p != ';'; p++)
		for (int k = 1; k <= 7; k++)
			if (strncmp(p, day_codes[k], 2) == 0)
				m |= 1u << k;
	return m;
}

static void
availability_text(const char *json, char *buf, size_t size)
{
	size_t n = 0;
	for (const char *s = json != NULL ? json : ""; *s && n + 1 < size; s++)
		if (*s != '[' && *s != ']' && *s != '"')
			buf[n++] = *s == ',' ? ' ' : *s;
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, size, "any weekday am/pm");
}

static void
no_slot_reason(const struct cadence_pair *p, char *buf, size_t size)
{
	char a[160], b[160];
	availability_text(p->mentor_enr.availability, a, sizeof(a));
	availability_text(p->mentee_enr.availability, b, sizeof(b));
	snprintf(buf, size,
		 "no shared slot: %s (%s: %s) and %s (%s: %s) have no common time inside both "
		 "working days",
		 p->mentor.name, p->mentor.timezone, a, p->mentee.name, p->mentee.timezone, b);
}

/*
 * The first start on or after t where a session of `duration` fits both people's
 * availability, whose weekday in zone is in mask (bit w = weekday w; 0: any). 0
 * found, 1 none within three weeks (availability repeats weekly; the third week
 * covers a DST change between the two zones), -1 error.
 */
static int
first_slot(const struct cadence_pair *p, const char *zone, time_t t, unsigned mask, int duration,
	   time_t *found, struct diag *d)
{
	struct slots_person a = {p->mentor.timezone, 0}, b = {p->mentee.timezone, 0};
	if (slots_parse(p->mentor_enr.availability, &a.mask, d) != 0)
		return diag_prefix(d, "%s's availability", p->mentor.name);
	if (slots_parse(p->mentee_enr.availability, &b.mask, d) != 0)
		return diag_prefix(d, "%s's availability", p->mentee.name);
	struct slots_want want = {zone, mask, -1, -1};
	return slots_pick(&a, &b, t, t + (time_t)21 * 86400, duration, &want, found, d);
}

/* The parsed rule of text, kept by c (NULL with a diag when refused). */
static const struct rrule *
rule_of(struct cadence *c, const char *text, struct diag *d)
{
	struct strmap_entry *e = strmap_get(&c->rules, text);
	if (e != NULL)
		return e->ptr;
	struct rrule *r = rrule_parse(text, d);
	if (r == NULL)
		return NULL;
	if (c->rules.len >= CADENCE_KEEP)
		forget(&c->rules, 1);
	if (strmap_put(&c->rules, text, r, d) != 0) {
		rrule_delete(r);
		return NULL;
	}
	return r;
}

/* rrule_expand of (rule, start, zone, lo, hi), kept by c: *v is c's. */
static int
expand_kept(struct cadence *c, const struct rrule *rule, const struct cal_time *start,
	    const char *zone, time_t lo, time_t hi, const time_t **v, size_t *n, struct diag *d)
{
	char key[CADENCE_RULE_MAX + 256];
	snprintf(key, sizeof(key), "%s|%s|%lld-%d-%d %d:%d:%d|%lld|%lld", rrule_text(rule), zone,
		 (long long)start->year, start->mon, start->day, start->hour, start->min, start->sec,
		 (long long)lo, (long long)hi);
	struct strmap_entry *e = strmap_get(&c->expansions, key);
	if (e == NULL) {
		time_t *out = NULL;
		size_t k = 0;
		if (rrule_expand(rule, start, zone, lo, hi, 10000, &out, &k, d) != 0)
			return -1;
		struct expanded *x = malloc(sizeof(*x) + k * sizeof(time_t));
		if (x == NULL) {
			free(out);
			return diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
		}
		x->n = k;
		if (k)
			memcpy(x->v, out, k * sizeof(time_t));
		free(out);
		if (c->expansions.len >= CADENCE_KEEP)
			forget(&c->expansions, 0);
		if (strmap_put(&c->expansions, key, x, d) != 0) {
			free(x);
			return -1;
		}
		e = strmap_get(&c->expansions, key);
	}
	const struct expanded *x = e->ptr;
	*v = x->v;
	*n = x->n;
	return 0;
}

/*
 * One rule segment, [seg_from, seg_until) (seg_until 0: open), expanded into r's
 * sessions inside [from, until). Returns 0, 1 when it needed a shared slot and the
 * pair has none, -1 error.
 */
static int
expand_segment(struct cadence *c, const struct cadence_pair *p, const char *text,
	       time_t seg_from, time_t seg_until, time_t from, time_t until, int duration,
	       int entry, struct cadence_result *r, size_t *cap, struct diag *d)
{
	time_t lo = seg_from > from ? seg_from : from;
	time_t hi = seg_until != 0 && seg_until < until ? seg_until : until;
	if (lo >= hi)
		return 0;
	const struct rrule *rule = rule_of(c, text, d);
	if (rule == NULL)
		return -1;
	const char *canon = rrule_text(rule);
	unsigned open = rrule_open(rule);
	int monthly_open = rrule_freq(rule) == RRULE_MONTHLY && strstr(canon, "BYDAY=") == NULL &&
			   strstr(canon, "BYMONTHDAY=") == NULL;
	struct cal_time start;
	int rc = 0;
	if (open != 0 || monthly_open) {
		/* A weekday given by the rule restricts the slot; a rule's own hour wins over the
		 * slot's (libical takes BYHOUR over dtstart's). */
		unsigned mask = (open & RRULE_OPEN_DAY) || monthly_open ? 0 : byday_mask(canon);
		time_t t0;
		rc = first_slot(p, p->zone, seg_from, mask, duration, &t0, d);
		if (rc == 0)
			rc = wall_at(t0, p->zone, &start, d);
		if (rc == 0 && monthly_open) {
			/* "The Nth weekday of the month" of the slot; a fifth one becomes the last. */
			int nth = (start.day - 1) / 7 + 1;
			int wd = cal_weekday(cal_days_from_civil(start.year, start.mon, start.day));
			char filled[CADENCE_RULE_MAX + 32];
			snprintf(filled, sizeof(filled), "%s;BYDAY=%d%s", canon, nth == 5 ? -1 : nth,
				 day_codes[wd]);
			if ((rule = rule_of(c, filled, d)) == NULL)
				return -1;
		}
	} else {
		rc = wall_at(seg_from, p->zone, &start, d);
		/* The rule fixes the hour: its sessions start on the minute (a rule without
		 * BYMINUTE means minute 0, not the activation's minute). RFC 5545 would take
		 * the missing parts from dtstart, which is only the instant the pair started. */
		if (strstr(canon, "BYMINUTE=") == NULL)
			start.min = 0;
	}
	start.sec = 0;
	const time_t *v = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = expand_kept(c, rule, &start, p->zone, lo, hi, &v, &n, d);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((rc = add_session(r, cap, v[i], duration, NULL, entry, 1, d)) == 0)
			r->v[r->n - 1].open = open != 0 || monthly_open;
	if (rc < 0)
		diag_prefix(d, "rule '%s'", text);
	return rc;
}

static int
cmp_session(const void *a, const void *b)
{
	const struct cadence_session *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->entry > y->entry) - (x->entry < y->entry); /* the first entry stays */
}

int
cadence_run(struct cadence *c, const struct cadence_pair *p, const struct shape_session *history,
	    size_t n_hist, const struct cadence_ctx *ctx, time_t from, time_t until,
	    struct cadence_result *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	int duration = p->duration_min > 0 ? p->duration_min : c->duration > 0 ? c->duration : 60;
	struct cadence_entry *v = NULL, one;
	size_t n = 0, cap = 0;
	if (c->has_plan) {
		if (call_plan(c, p, history, n_hist, ctx, &v, &n, d) != 0)
			return -1;
	} else {
		/* The rule alone: one segment from the activation (or now), open-ended. */
		memset(&one, 0, sizeof(one));
		one.kind = CADENCE_SEGMENT;
		snprintf(one.rule, sizeof(one.rule), "%s", c->rule != NULL ? c->rule : "");
		one.from = p->activated ? p->activated : ctx->now;
		v = &one;
		n = 1;
	}
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		const struct cadence_entry *e = &v[i];
		if (c->has_plan && e->line > 0)
			out->line = e->line;
		if (e->kind == CADENCE_SESSION) {
			if (e->start >= from && e->start < until)
				rc = add_session(out, &cap, (time_t)e->start,
						 e->duration_min ? e->duration_min : duration, e->topic,
						 c->has_plan ? (int)i + 1 : 0, 0, d);
			continue;
		}
		rc = expand_segment(c, p, e->rule, (time_t)e->from, (time_t)e->until, from, until,
				    duration, c->has_plan ? (int)i + 1 : 0, out, &cap, d);
		if (rc == 1) {
			out->no_slot = 1;
			no_slot_reason(p, out->reason, sizeof(out->reason));
			rc = 0;
		}
	}
	if (v != &one)
		free(v);
	if (rc < 0) {
		if (c->has_plan && d->code != DIAG_PLUGIN)
			diag_prefix(d, "%s", plugin_path(c->p));
		cadence_result_fini(out);
		return -1;
	}
	/* Sorted, one session per instant (two entries may name the same one). */
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_session);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++)
		if (k == 0 || out->v[k - 1].start != out->v[i].start)
			out->v[k++] = out->v[i];
	out->n = k;
	return 0;
}

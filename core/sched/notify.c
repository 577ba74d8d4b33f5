/*
 * notify: delivering the outbox's due messages. See notify.h for the channels, the file
 * formats and the crash contract. This file: the delivery loop, the recipient and
 * session lookups, the notifier plugins; the two writers follow (eml, jsonl).
 */
#include "sched/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "base/buf.h"
#include "base/crash.h"
#include "events/outbox.h"
#include "lua/marshal.h"
#include "lua/notify_out.h"
#include "lua/registry.h"
#include "sched/notify_internal.h"
#include "store/stmt.h"

struct notify_plugin {
	char *name;
	struct plugin *p; /* NULL: the name resolved to nothing (remembered, not retried) */
	int jsonl;        /* format = "jsonl" */
};

struct notify {
	struct store *st;
	char *workspace, *from, *timezone;
	const struct plugin_host *host;
	int lease_s;
	struct notify_plugin *plugins;
	size_t nplugins;
	int no_sync, no_files;
};


static char *
notify_strdup(const char *s, struct diag *d)
{
	char *c = strdup(s);
	if (c == NULL)
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
	return c;
}

struct notify *
notify_new(struct store *st, const struct notify_opts *o, struct diag *d)
{
	struct notify *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
		return NULL;
	}
	n->st = st;
	n->host = o->host;
	n->lease_s = o->lease_s > 0 ? o->lease_s : OUTBOX_LEASE_S;
	n->workspace = notify_strdup(o->workspace != NULL ? o->workspace : ".", d);
	n->from = notify_strdup(o->from != NULL && o->from[0] != '\0' ? o->from : "tandem@localhost", d);
	n->timezone = notify_strdup(o->timezone != NULL ? o->timezone : "UTC", d);
	if (n->workspace == NULL || n->from == NULL || n->timezone == NULL) {
		notify_delete(n);
		return NULL;
	}
	return n;
}

void
notify_set_no_sync(struct notify *n, int no_sync)
{
	n->no_sync = no_sync;
}

void
notify_set_no_files(struct notify *n, int no_files)
{
	n->no_files = no_files;
}

int
notify_set_sender(struct notify *n, const char *from, const char *timezone, struct diag *d)
{
	char *f = notify_strdup(from != NULL && from[0] != '\0' ? from : "tandem@localhost", d);
	char *z = f != NULL ? notify_strdup(timezone != NULL ? timezone : "UTC", d) : NULL;
	if (z == NULL) {
		free(f);
		return -1;
	}
	free(n->from);
	free(n->timezone);
	n->from = f;
	n->timezone = z;
	return 0;
}

void
notify_delete(struct notify *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nplugins; i++) {
		free(n->plugins[i].name);
		plugin_delete(n->plugins[i].p);
	}
	free(n->plugins);
	free(n->workspace);
	free(n->from);
	free(n->timezone);
	free(n);
}

int
notify_builtin(const char *name)
{
	return name != NULL && (strcmp(name, "eml") == 0 || strcmp(name, "jsonl") == 0);
}

/* ---- lookups --------------------------------------------------------------------------- */

struct notify_person {
	char *external_id, *name, *email, *timezone;
};

static void
notify_person_fini(struct notify_person *p)
{
	free(p->external_id);
	free(p->name);
	free(p->email);
	free(p->timezone);
	memset(p, 0, sizeof(*p));
}

/* 0 found, 1 no such person, -1 error. */
static int
notify_person_get(struct store *st, int64_t id, struct notify_person *p, struct diag *d)
{
	memset(p, 0, sizeof(*p));
	struct stmt s;
	if (stmt_prepare(&s, st, "reading a message's recipient",
			 "SELECT name, email, timezone, external_id FROM people WHERE id = ?1", d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *a = NULL, *b = NULL, *c = NULL, *e = NULL;
		rc = stmt_text(&s, 0, &a, d) || stmt_text(&s, 1, &b, d) || stmt_text(&s, 2, &c, d) ||
			     stmt_text(&s, 3, &e, d)
			     ? -1
			     : 0;
		if (rc == 0) {
			p->name = strdup(a != NULL ? a : "");
			p->email = strdup(b != NULL ? b : "");
			p->timezone = strdup(c != NULL ? c : "UTC");
			p->external_id = strdup(e != NULL ? e : "");
			if (p->name == NULL || p->email == NULL || p->timezone == NULL ||
			    p->external_id == NULL) {
				notify_person_fini(p);
				rc = diag_set(d, DIAG_NOMEM, "notify: out of memory");
			}
		}
	} else if (rc == STMT_DONE) {
		rc = 1;
	}
	stmt_finalize(&s);
	return rc;
}

/* What a notifier plugin is told of a message's session. */
struct notify_session {
	int64_t id; /* 0: none, or gone */
	char starts_at[STORE_TIME_MAX];
	int64_t duration_min;
	char timezone[64];
	char status[32]; /* "" when the session is gone */
};

/* Session id's row into *out (out->status "" when the session is gone). */
static int
notify_session_get(struct store *st, int64_t id, struct notify_session *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	struct stmt s;
	if (stmt_prepare(&s, st, "reading a message's session",
			 "SELECT status, starts_at, duration_min, timezone FROM sessions WHERE id = ?1",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *st_ = NULL, *at = NULL, *tz = NULL;
		rc = stmt_text(&s, 0, &st_, d) || stmt_text(&s, 1, &at, d) || stmt_text(&s, 3, &tz, d)
			     ? -1
			     : 0;
		if (rc == 0) {
			out->id = id;
			snprintf(out->status, sizeof(out->status), "%s", st_ != NULL ? st_ : "");
			snprintf(out->starts_at, sizeof(out->starts_at), "%s", at != NULL ? at : "");
			snprintf(out->timezone, sizeof(out->timezone), "%s", tz != NULL ? tz : "UTC");
			out->duration_min = stmt_int64(&s, 2);
		}
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

/* ---- notifier plugins ------------------------------------------------------------------ */

static struct notify_plugin *
notify_plugin_get(struct notify *n, const char *name, struct diag *d)
{
	for (size_t i = 0; i < n->nplugins; i++)
		if (strcmp(n->plugins[i].name, name) == 0)
			return &n->plugins[i];
	struct notify_plugin *v = realloc(n->plugins, (n->nplugins + 1) * sizeof(*v));
	if (v == NULL) {
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
		return NULL;
	}
	n->plugins = v;
	struct notify_plugin *np = &v[n->nplugins];
	memset(np, 0, sizeof(*np));
	if ((np->name = strdup(name)) == NULL) {
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
		return NULL;
	}
	n->nplugins++;
	char path[4096];
	struct diag why;
	if (plugin_name_valid(name) &&
	    plugin_resolve(n->host, n->workspace, PLUGIN_NOTIFIER, name, NULL, path, sizeof(path),
			   &why) == 0) {
		np->p = plugin_load(n->host, path, NULL, &why);
		if (np->p != NULL && plugin_kind(np->p) != PLUGIN_NOTIFIER) {
			plugin_delete(np->p);
			np->p = NULL;
		}
	}
	if (np->p != NULL) {
		/* stack: declaration */
		lua_State *L = plugin_state(np->p);
		plugin_push_decl(np->p);
		lua_getfield(L, -1, "format");
		np->jsonl = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "jsonl") == 0;
		lua_pop(L, 2);
	}
	return np;
}

static void
notify_set_str(lua_State *L, const char *k, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void
notify_set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

struct notify_args {
	const struct notify *n;
	const struct outbox_row *row;
	const struct notify_person *to;
	const struct notify_session *session;
	time_t now;
	struct buf *out;
	struct diag *d;
	int rc;
};

/* Protected: builds {msg, ctx} in a scratch state and encodes it. */
static int
notify_args_build(lua_State *L)
{
	struct notify_args *a = lua_touserdata(L, 1);
	const struct outbox_row *r = a->row;
	lua_createtable(L, 2, 0);
	/* stack: ud, args */
	lua_createtable(L, 0, 8);
	notify_set_str(L, "key", r->key);
	notify_set_str(L, "kind", r->kind);
	notify_set_str(L, "channel", r->channel);
	notify_set_str(L, "subject", r->subject != NULL ? r->subject : "");
	notify_set_str(L, "body", r->body);
	lua_createtable(L, 0, 3);
	notify_set_str(L, "id", a->to->external_id);
	notify_set_str(L, "name", a->to->name);
	notify_set_str(L, "timezone", a->to->timezone);
	lua_setfield(L, -2, "recipient");
	if (a->session->id != 0) {
		/* stack: ud, args, msg, session */
		lua_createtable(L, 0, 5);
		notify_set_int(L, "id", a->session->id);
		notify_set_str(L, "starts_at", a->session->starts_at);
		notify_set_int(L, "duration_min", a->session->duration_min);
		notify_set_str(L, "timezone", a->session->timezone);
		notify_set_str(L, "status", a->session->status);
		lua_setfield(L, -2, "session");
	}
	/* stack: ud, args, msg */
	lua_rawseti(L, -2, 1);
	char iso[STORE_TIME_MAX];
	store_format_time(a->now, iso);
	lua_createtable(L, 0, 3);
	notify_set_int(L, "now", (lua_Integer)a->now);
	notify_set_str(L, "now_iso", iso);
	notify_set_str(L, "timezone", a->n->timezone);
	lua_rawseti(L, -2, 2);
	/* stack: ud, args */
	a->rc = marshal_encode(L, -1, 0, "the notifier's arguments", a->out, a->d);
	return 0;
}

/* Runs the plugin's render; the subject and body come back malloc'd. 0, or -1 + diag. */
static int
notify_render(struct notify *n, struct notify_plugin *np, const struct outbox_row *row,
	      const struct notify_person *to, time_t now, char **subject, char **body,
	      struct diag *d)
{
	*subject = *body = NULL;
	struct notify_session ses = {0};
	if (row->session_id != 0 && notify_session_get(n->st, row->session_id, &ses, d) != 0)
		return -1;
	lua_State *L = luaL_newstate();
	if (L == NULL)
		return diag_set(d, DIAG_NOMEM, "notify: out of memory");
	struct buf args, res;
	buf_init(&args);
	buf_init(&res);
	struct notify_args a = {n, row, to, &ses, now, &args, d, -1};
	int rc = -1;
	lua_pushcfunction(L, notify_args_build);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		diag_set(d, DIAG_NOMEM, "notify: cannot build the notifier's arguments");
		goto out;
	}
	if (a.rc != 0 || plugin_call_data(np->p, "render", args.data, args.len, 0, &res, d) != 0 ||
	    marshal_push(L, res.data, res.len, NULL, NULL, d) != 0)
		goto out;
	/* stack: {n = count, r1} */
	lua_rawgeti(L, -1, 1);
	struct notify_out v; /* the rules plugins check applies too (lua/notify_out) */
	if (notify_out_read(L, -1, &v, d) != 0)
		goto out;
	const char *s = v.subject, *bd = v.body;
	*subject = strdup(s);
	*body = strdup(bd);
	if (*subject == NULL || *body == NULL) {
		free(*subject);
		free(*body);
		*subject = *body = NULL;
		diag_set(d, DIAG_NOMEM, "notify: out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		diag_prefix(d, "notifier '%s'", np->name);
	buf_fini(&args);
	buf_fini(&res);
	lua_close(L);
	return rc;
}

/* ---- delivery --------------------------------------------------------------------------- */

/* What became of a claimed row before its outcome is recorded. */
enum notify_verdict { NOTIFY_SENT, NOTIFY_RETRY, NOTIFY_GIVE_UP, NOTIFY_DROP };

/* Renders and writes one claimed row; the verdict and, when not sent, why in `why`. */
static enum notify_verdict
notify_send(struct notify *n, const struct outbox_row *row, time_t now, struct diag *why)
{
	/* A row its last sender left unknown: look for the key first. Written: it left, so it
	 * is sent, whatever happened since (its session cancelled, its not_after passed). Not
	 * written and too late: it expires rather than leaving late. */
	if (row->was_unknown) {
		int jsonl = strcmp(row->channel, "jsonl") == 0;
		if (!notify_builtin(row->channel)) {
			struct notify_plugin *np = notify_plugin_get(n, row->channel, why);
			if (np == NULL)
				return NOTIFY_RETRY;
			jsonl = np->jsonl;
		}
		int written = notify_written(n->workspace, row->key, jsonl, why);
		if (written < 0)
			return NOTIFY_RETRY;
		if (written > 0)
			return NOTIFY_SENT;
		if (row->not_after != 0 && row->not_after <= now) {
			diag_set(why, DIAG_CONFLICT, "not sent before its not_after time");
			return NOTIFY_DROP;
		}
	}
	if (row->session_id != 0 && strcmp(row->kind, "reminder") == 0) {
		struct notify_session ses;
		if (notify_session_get(n->st, row->session_id, &ses, why) != 0)
			return NOTIFY_RETRY;
		if (strcmp(ses.status, "planned") != 0) {
			diag_set(why, DIAG_CONFLICT, "the session is %s: the reminder is useless",
				 ses.status[0] ? ses.status : "gone");
			return NOTIFY_DROP;
		}
	}
	if (row->recipient_id == 0) {
		diag_set(why, DIAG_INVALID, "the message has no recipient");
		return NOTIFY_GIVE_UP;
	}
	struct notify_person to;
	int found = notify_person_get(n->st, row->recipient_id, &to, why);
	if (found < 0)
		return NOTIFY_RETRY;
	if (found > 0) {
		diag_set(why, DIAG_NOTFOUND, "the recipient (person %lld) is gone",
			 (long long)row->recipient_id);
		return NOTIFY_GIVE_UP;
	}
	enum notify_verdict v = NOTIFY_SENT;
	char *subject = NULL, *body = NULL;
	struct notify_mail m = {row, row->subject != NULL ? row->subject : "", row->body, to.name,
				to.email, now, n->no_sync, n->no_files};
	int jsonl = strcmp(row->channel, "jsonl") == 0;
	if (strchr(to.email, '@') == NULL || strpbrk(to.email, "\r\n<>") != NULL) {
		diag_set(why, DIAG_INVALID, "the recipient has no usable e-mail address");
		v = NOTIFY_GIVE_UP;
		goto out;
	}
	if (!notify_builtin(row->channel)) {
		struct notify_plugin *np = notify_plugin_get(n, row->channel, why);
		if (np == NULL) {
			v = NOTIFY_RETRY;
			goto out;
		}
		if (np->p == NULL) {
			diag_set(why, DIAG_NOTFOUND,
				 "no notifier named '%s' (built-in: eml, jsonl; plugins: %s/plugins/notifiers)",
				 row->channel, n->workspace);
			v = NOTIFY_GIVE_UP;
			goto out;
		}
		if (notify_render(n, np, row, &to, now, &subject, &body, why) != 0) {
			v = NOTIFY_RETRY;
			goto out;
		}
		m.subject = subject;
		m.body = body;
		jsonl = np->jsonl;
	}
	crash_point("notify.rendered");
	if ((jsonl ? notify_write_jsonl(n->workspace, &m, why)
	       : notify_write_eml(n->workspace, n->from, &m, why)) != 0)
		v = NOTIFY_RETRY;
out:
	free(subject);
	free(body);
	notify_person_fini(&to);
	return v;
}

int
notify_deliver_one(struct notify *n, time_t now, int *outcome, struct diag *d)
{
	struct outbox_row row;
	int rc = outbox_claim_next(n->st, now, n->lease_s, &row, d);
	if (rc == 2) {
		/* Its not_after passed before it was sent (its session has begun): a normal
		 * end, said and counted like a cancelled session's (below). */
		tlog(TLOG_INFO, "message '%s' (%s): %s (expired)", row.key, row.channel,
		     row.last_error != NULL ? row.last_error : "expired");
		outbox_row_fini(&row);
		if (outcome != NULL)
			*outcome = (int)OUTBOX_EXPIRED;
		return 0;
	}
	if (rc != 0)
		return rc;
	crash_point("notify.claimed");
	struct diag why;
	diag_clear(&why);
	enum notify_verdict v = notify_send(n, &row, now, &why);
	crash_point("notify.written");
	enum outbox_status st = OUTBOX_SENT;
	switch (v) {
	case NOTIFY_SENT:
		rc = outbox_done(n->st, row.id, now, NULL, 0, &st, d);
		break;
	case NOTIFY_DROP:
		st = OUTBOX_EXPIRED;
		rc = outbox_drop(n->st, row.id, why.msg, d);
		break;
	case NOTIFY_RETRY:
	case NOTIFY_GIVE_UP:
		rc = outbox_done(n->st, row.id, now, why.msg, v == NOTIFY_GIVE_UP, &st, d);
		break;
	}
	/* An expired message is a normal end (its session was cancelled or has begun): news,
	 * not an error. */
	if (rc == 0 && v != NOTIFY_SENT)
		tlog(st == OUTBOX_EXPIRED   ? TLOG_INFO
		     : st == OUTBOX_PENDING ? TLOG_WARN
					    : TLOG_ERROR,
		     "message '%s' (%s): %s%s", row.key, row.channel, why.msg,
		     st == OUTBOX_PENDING   ? " (will retry)"
		     : st == OUTBOX_EXPIRED ? " (expired)"
					    : "");
	crash_point("notify.done");
	outbox_row_fini(&row);
	if (rc != 0)
		return -1;
	if (outcome != NULL)
		*outcome = (int)st;
	return 0;
}

int
notify_deliver_due(struct notify *n, time_t now, size_t max, struct notify_stats *s,
		   struct diag *d)
{
	for (size_t i = 0; max == 0 || i < max; i++) {
		int outcome = 0;
		int rc = notify_deliver_one(n, now, &outcome, d);
		if (rc < 0)
			return -1;
		if (rc == 1)
			break;
		if (s == NULL)
			continue;
		switch (outcome) {
		case OUTBOX_SENT:
			s->sent++;
			break;
		case OUTBOX_PENDING:
			s->retried++;
			break;
		case OUTBOX_EXPIRED:
			s->expired++;
			break;
		default:
			s->failed++;
			break;
		}
	}
	return 0;
}

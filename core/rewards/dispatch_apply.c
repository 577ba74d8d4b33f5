/*
 * rewards/dispatch_apply: the host writing what a rule's worker returned for a batch
 * (see dispatch.h): the grants and revocations of the batch's events and the rule's
 * cursor, in ONE transaction level.
 *
 * No savepoint per event: a SAVEPOINT per event made SQLite copy every page the event
 * touched into a statement journal (a temporary file; ~19 writes per event). Instead the
 * batch is applied optimistically; when an entry is refused (a person who does not exist,
 * a revocation of an unknown key) at the batch's event i, the level is rolled back and
 * events 0..i-1 applied again (the same writes on the same state: they succeed again),
 * so the rule stops AT event i with the events before it applied, as before.
 *
 * A batch of grants only (no revocation: the usual case) is written by one
 * ledger_writer_grants call (each person checked once, the rows and their events in
 * multi-row statements of 64). A grant naming a missing person is
 * found before anything is written, so the rule stops at its event without a rollback.
 * A batch with a revocation takes the row-by-row path (a revocation may name a grant of
 * the same batch).
 */
#include "rewards/dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "lua/reward_out.h"

int
dispatch__cursor_of(struct run *r, const char *rule, int64_t *cursor, struct diag *d)
{
	*cursor = -1; /* no row yet: a new rule, which starts at 0 */
	int rc = stmt_bind_text(&r->cursor_get, 1, rule, d) ? -1 : stmt_step(&r->cursor_get, d);
	if (rc == STMT_ROW)
		*cursor = stmt_int64(&r->cursor_get, 0);
	if (rc < 0 || stmt_reset(&r->cursor_get, d) != 0)
		return -1;
	return 0;
}

int
dispatch__cursor_set(struct run *r, const char *rule, int64_t cursor, int64_t stopped,
		     const char *error, struct diag *d)
{
	const char *kinds = r->cx ? r->cx->kinds : NULL;
	struct stmt s;
	int rc = stmt_prepare(&s, r->st, "moving a rule's cursor",
			      "INSERT INTO hook_cursors (plugin, event_id, stopped_at, error, "
			      "updated_at, kinds) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT "
			      "(plugin) DO UPDATE SET event_id = excluded.event_id, stopped_at = "
			      "excluded.stopped_at, error = excluded.error, updated_at = "
			      "excluded.updated_at, kinds = excluded.kinds",
			      d) ||
			 stmt_bind_text(&s, 1, rule, d) || stmt_bind_int64(&s, 2, cursor, d) ||
			 (stopped ? stmt_bind_int64(&s, 3, stopped, d) : stmt_bind_null(&s, 3, d)) ||
			 stmt_bind_text(&s, 4, error, d) || stmt_bind_text(&s, 5, r->now_iso, d) ||
			 stmt_bind_text(&s, 6, kinds ? kinds : "[]", d) || stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	return rc;
}

/* What one pass over a reply applied. */
struct applied {
	long delivered, granted, revoked, repeated;
	int64_t stopped; /* the event the rule stops at (0: none) */
	size_t refused;  /* with apply_entries' 1: the batch index of the refused event */
};

/* Reads the next entry of a reply into e and its strings; 0, or -1 for a malformed one. */
static int
read_entry(const char **pp, const char *end, struct packed *e, char *badge, char *reason,
	   char *key)
{
	const char *p = *pp;
	if ((size_t)(end - p) < sizeof(*e))
		return -1;
	memcpy(e, p, sizeof(*e));
	p += sizeof(*e);
	if (e->badge_len > REWARD_BADGE_MAX || e->reason_len > REWARD_REASON_MAX ||
	    e->key_len > REWARD_KEY_MAX ||
	    (size_t)(end - p) < (size_t)e->badge_len + e->reason_len + e->key_len)
		return -1;
	memcpy(badge, p, e->badge_len);
	badge[e->badge_len] = '\0';
	p += e->badge_len;
	memcpy(reason, p, e->reason_len);
	reason[e->reason_len] = '\0';
	p += e->reason_len;
	memcpy(key, p, e->key_len);
	key[e->key_len] = '\0';
	*pp = p + e->key_len;
	return 0;
}

/*
 * The head of event ev's answer in a worker's reply: 1 and *h (*p moved past it); 0 when
 * the batch ends there: the reply ended early (the worker answered for fewer events: a
 * bug, stop safely) or the handler failed on ev (its message in rule->error, *stopped =
 * ev); -1 when the reply is malformed.
 */
static int
next_event(const char **p, const char *end, int64_t ev, struct dispatch_rule *rule,
	   struct ev_head *h, int64_t *stopped)
{
	if (*p == end)
		return 0;
	if ((size_t)(end - *p) < sizeof(*h))
		return -1;
	memcpy(h, *p, sizeof(*h));
	*p += sizeof(*h);
	if (h->status == 0)
		return 1;
	if ((size_t)(end - *p) < h->n)
		return -1;
	snprintf(rule->error, sizeof(rule->error), "event %lld: %.*s", (long long)ev,
		 (int)(h->n < 3000 ? h->n : 3000), *p);
	*stopped = ev;
	return 0;
}

/*
 * Writes the entries of the batch's first `limit` events (inside the caller's level).
 * Returns 0 (a->stopped set when the worker reported a failure at an event), 1 when an
 * entry was refused (rule->error says why; a->refused is the event's index; the caller
 * must roll back), -1 on a store failure or a malformed reply.
 */
static int
apply_entries(struct run *r, struct ledger_writer *w, struct dispatch_rule *rule,
	      const struct batch *b, const struct buf *out, size_t limit, struct applied *a,
	      struct diag *d)
{
	memset(a, 0, sizeof(*a));
	const char *p = out->data, *end = out->data + out->len;
	for (size_t i = 0; i < limit; i++) {
		struct ev_head h;
		int64_t ev = b->ids[i];
		int k = next_event(&p, end, ev, rule, &h, &a->stopped);
		if (k < 0)
			goto bad_reply;
		if (k == 0)
			break;
		for (uint32_t j = 0; j < h.n; j++) {
			struct packed e;
			char badge[REWARD_BADGE_MAX + 1], reason[REWARD_REASON_MAX + 1],
			    key[REWARD_KEY_MAX + 1], award[REWARD_KEY_MAX + 120];
			if (read_entry(&p, end, &e, badge, reason, key) != 0)
				goto bad_reply;
			struct diag ed;
			diag_clear(&ed);
			int rc, done = 0;
			if (e.revoke) {
				rc = ledger_revoke(r->st, key, reason, rule->name, ev, &done, &ed);
				a->revoked += done;
			} else {
				if (key[0] != '\0')
					snprintf(award, sizeof(award), "%s:%s", rule->name, key);
				else
					snprintf(award, sizeof(award), "%s:%lld:%u", rule->name,
						 (long long)ev, j + 1);
				/* The grant's program: the event's. */
				struct ledger_grant gr = {.key = award,
							  .person_id = e.person_id,
							  .program_id = b->programs[i],
							  .points = e.points,
							  .badge = badge[0] ? badge : NULL,
							  .reason = reason,
							  .plugin = rule->name,
							  .event_id = ev};
				rc = ledger_writer_grant(w, &gr, &done, &ed);
				a->granted += done;
				a->repeated += !done;
			}
			if (rc != 0) {
				if (ed.code != DIAG_NOTFOUND && ed.code != DIAG_INVALID) {
					*d = ed;
					return -1;
				}
				snprintf(rule->error, sizeof(rule->error),
					 "%.400s: event %lld (%s): %s %u: %.500s", rule->path, (long long)ev,
					 "handler result", e.revoke ? "revocation" : "grant", j + 1,
					 ed.code == DIAG_NOTFOUND && !e.revoke
					     ? "field 'person_id': no such person"
					     : ed.msg);
				a->refused = i;
				return 1;
			}
		}
		a->delivered++;
	}
	return 0;
bad_reply:
	return diag_set(d, DIAG_INTERNAL, "%s: a malformed reply from the rule's worker", rule->path);
}

/* A grant of apply_bulk's: its strings as offsets into one buffer (it moves as it grows). */
struct bulk_grant {
	struct ledger_grant g;
	size_t key, badge, reason; /* offsets; badge (size_t)-1: none */
	uint32_t ev, j;            /* its event's index in the batch, its index in the event */
};

/* Room for twice as many grants in the run's scratch. */
static int
grow(struct apply_scratch *sc, struct diag *d)
{
	size_t nc = sc->cap ? 2 * sc->cap : 1024;
	struct bulk_grant *v = realloc(sc->v, nc * sizeof(*v));
	if (v != NULL)
		sc->v = v;
	struct ledger_grant *g = realloc(sc->g, nc * sizeof(*g));
	if (g != NULL)
		sc->g = g;
	if (v == NULL || g == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory applying a batch");
	sc->cap = nc;
	return 0;
}

void
dispatch__scratch_fini(struct apply_scratch *sc)
{
	free(sc->v);
	free(sc->g);
	buf_fini(&sc->strs);
	memset(sc, 0, sizeof(*sc));
}

/* Appends s and its NUL to o; *off: where it starts. */
static int
put_str(struct buf *o, const char *s, size_t *off, struct diag *d)
{
	*off = o->len;
	return buf_append(o, s, strlen(s) + 1, d);
}

/*
 * The batch's first `limit` events in one ledger_writer_grants call. Returns 0 (a->stopped
 * set when the worker reported a failure at an event), 1 when a grant names a missing
 * person (rule->error says why, a->refused is its event's index; nothing was written),
 * 2 when the reply has a revocation (nothing written: use apply_entries), 3 when a grant's
 * key is another person's (rule->error says so, a->refused is its event's index; rows were
 * written: roll back), -1 on a store failure or a malformed reply.
 */
static int
apply_bulk(struct run *r, struct ledger_writer *w, struct dispatch_rule *rule,
	   const struct batch *b, const struct buf *out, size_t limit, struct applied *a,
	   struct diag *d)
{
	memset(a, 0, sizeof(*a));
	struct apply_scratch *sc = &r->scratch;
	struct buf *strs = &sc->strs;
	buf_reset(strs);
	size_t ng = 0;
	int rc = 0;
	const char *p = out->data, *end = out->data + out->len;
	for (size_t i = 0; rc == 0 && i < limit; i++) {
		struct ev_head h;
		int64_t ev = b->ids[i];
		int k = next_event(&p, end, ev, rule, &h, &a->stopped);
		if (k < 0)
			goto bad_reply;
		if (k == 0)
			break;
		for (uint32_t j = 0; rc == 0 && j < h.n; j++) {
			struct packed e;
			char badge[REWARD_BADGE_MAX + 1], reason[REWARD_REASON_MAX + 1],
			    key[REWARD_KEY_MAX + 1], award[REWARD_KEY_MAX + 120];
			if (read_entry(&p, end, &e, badge, reason, key) != 0)
				goto bad_reply;
			if (e.revoke) {
				rc = 2;
				break;
			}
			if (ng == sc->cap && grow(sc, d) != 0) {
				rc = -1;
				break;
			}
			if (key[0] != '\0')
				snprintf(award, sizeof(award), "%s:%s", rule->name, key);
			else
				snprintf(award, sizeof(award), "%s:%lld:%u", rule->name, (long long)ev,
					 j + 1);
			/* The grant's program: the event's. */
			struct bulk_grant *bg = &sc->v[ng++];
			bg->g = (struct ledger_grant){.person_id = e.person_id,
						      .program_id = b->programs[i],
						      .points = e.points,
						      .plugin = rule->name,
						      .event_id = ev};
			bg->ev = (uint32_t)i;
			bg->j = j + 1;
			bg->badge = (size_t)-1;
			rc = put_str(strs, award, &bg->key, d) || put_str(strs, reason, &bg->reason, d) ||
				     (badge[0] && put_str(strs, badge, &bg->badge, d))
				 ? -1
				 : 0;
		}
		if (rc == 0)
			a->delivered++;
	}
	long granted = 0, missing = -1;
	struct bulk_grant *v = sc->v;
	struct ledger_grant *g = sc->g;
	for (size_t i = 0; rc == 0 && i < ng; i++) {
		g[i] = v[i].g;
		g[i].key = strs->data + v[i].key;
		g[i].reason = strs->data + v[i].reason;
		g[i].badge = v[i].badge == (size_t)-1 ? NULL : strs->data + v[i].badge;
	}
	if (rc == 0 && ng > 0)
		rc = ledger_writer_grants(w, g, ng, &granted, &missing, d);
	if (rc == 0 && w->conflict >= 0) {
		/* Written up to it: the caller rolls back and applies the events before it. */
		const struct bulk_grant *c = &v[w->conflict];
		a->refused = c->ev;
		snprintf(rule->error, sizeof(rule->error),
			 "%.400s: event %lld (%s): grant %u: field 'key': award key '%.300s' was "
			 "granted to another person (#%lld): each person's grant needs its own key",
			 rule->path, (long long)b->ids[a->refused], "handler result", c->j,
			 strs->data + c->key, (long long)w->conflict_person);
		rc = 3;
	} else if (rc == 0 && missing >= 0) {
		a->refused = v[missing].ev;
		snprintf(rule->error, sizeof(rule->error), "%.400s: event %lld (%s): grant %u: %s",
			 rule->path, (long long)b->ids[a->refused], "handler result", v[missing].j,
			 "field 'person_id': no such person");
		rc = 1;
	} else if (rc == 0) {
		a->granted = granted;
		a->repeated = (long)ng - granted;
	}
	return rc;
bad_reply:
	return diag_set(d, DIAG_INTERNAL, "%s: a malformed reply from the rule's worker", rule->path);
}

int
dispatch__apply(struct run *r, struct ledger_writer *w, struct dispatch_rule *rule, int64_t expect,
		const struct batch *b, int full, const struct buf *out, int *stop, struct diag *d)
{
	*stop = 0;
	if (store_begin(r->st, d) != 0)
		return -1;
	int64_t now_cursor;
	if (dispatch__cursor_of(r, rule->name, &now_cursor, d) != 0)
		goto fail;
	if (now_cursor != expect) {
		store_rollback(r->st);
		return 1;
	}
	struct applied a;
	int rc = apply_bulk(r, w, rule, b, out, b->n, &a, d);
	if (rc == 1) {
		/* Nothing was written: apply the events before the refused one. */
		size_t refused = a.refused;
		rc = apply_bulk(r, w, rule, b, out, refused, &a, d);
		if (rc == 1)
			rc = diag_set(d, DIAG_INTERNAL, "%s: event %lld refused on the second pass",
				      rule->path, (long long)b->ids[a.refused]);
		a.stopped = b->ids[refused];
	} else if (rc == 2) {
		rc = apply_entries(r, w, rule, b, out, b->n, &a, d);
	} else if (rc == 3) {
		rc = 1; /* refused after writing: as apply_entries' refusal, below */
	}
	if (rc == 1) {
		/* Undo the batch, then apply the events before the refused one again. */
		size_t refused = a.refused;
		store_rollback(r->st);
		if (store_begin(r->st, d) != 0)
			return -1;
		rc = apply_entries(r, w, rule, b, out, refused, &a, d);
		if (rc == 1) /* the same writes on the same state cannot be refused now */
			rc = diag_set(d, DIAG_INTERNAL, "%s: event %lld refused on the second pass",
				      rule->path, (long long)b->ids[a.refused]);
		a.stopped = b->ids[refused];
	}
	if (rc != 0)
		goto fail;
	crash_point("rewards.applied");
	int64_t cursor = a.delivered > 0 ? b->ids[a.delivered - 1] : dispatch__from(expect);
	if (a.stopped == 0 && a.delivered == (long)b->n)
		cursor = full ? b->ids[b->n - 1] : r->hi;
	if (dispatch__cursor_set(r, rule->name, cursor, a.stopped, a.stopped ? rule->error : NULL,
				 d) != 0)
		goto fail;
	crash_point("rewards.before_commit");
	if (store_commit(r->st, d) != 0)
		return -1;
	crash_point("rewards.committed");
	rule->cursor = cursor;
	rule->delivered += a.delivered;
	rule->granted += a.granted;
	rule->revoked += a.revoked;
	rule->repeated += a.repeated;
	*stop = a.stopped != 0 || a.delivered < (long)b->n;
	rule->stopped = a.stopped != 0;
	return 0;
fail:
	store_rollback(r->st);
	return -1;
}

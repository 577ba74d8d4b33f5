/*
 * serve/webhook: events to webhooks through the outbox, libcurl multi on libuv (see
 * webhook.h). The feed is plain store work; the engine claims due rows of channel
 * "webhook", starts one curl transfer each, and records the outcome from curl's
 * completion message. curl tells which sockets to watch (on_socket) and when to call it
 * back (on_curl_timer); libuv tells curl when a socket is ready (on_poll).
 */
#include "serve/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <curl/curl.h>
#include <uv.h>

#include "base/hmac.h"
#include "events/outbox.h"
#include "program/config.h"
#include "serve/timescale.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- the feed ------------------------------------------------------------------------ */

static const char feed_sql[] =
	"SELECT id, kind, json_object('id', id, 'kind', kind, 'at', at, 'actor', actor,"
	" 'program_id', program_id, 'subject_id', subject_id, 'payload', json(payload))"
	" FROM events WHERE id > ?1"
	" AND NOT (kind LIKE 'message.%' AND json_extract(payload, '$.channel') = 'webhook')"
	" ORDER BY id LIMIT ?2";

static int
feed_hook(struct store *st, const struct config_webhook *w, int *queued, struct diag *d)
{
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "webhook: the clock's time cannot be written");
	struct stmt s;
	int64_t last = 0, seen = 0;
	int rc = stmt_prepare(&s, st, "starting a webhook's cursor",
			      "INSERT OR IGNORE INTO webhook_cursors (name, last_event, updated_at)"
			      " VALUES (?1, (SELECT COALESCE(max(id), 0) FROM events), ?2)",
			      d) ||
			 stmt_bind_text(&s, 1, w->name, d) || stmt_bind_text(&s, 2, now, d) ||
			 stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	if (rc == 0)
		rc = stmt_prepare(&s, st, "reading a webhook's cursor",
				  "SELECT last_event FROM webhook_cursors WHERE name = ?1", d) ||
				     stmt_bind_text(&s, 1, w->name, d) || stmt_step(&s, d) != STMT_ROW
			     ? -1
			     : 0;
	if (rc == 0)
		last = seen = stmt_int64(&s, 0);
	stmt_finalize(&s);
	if (rc != 0)
		return -1;
	if (stmt_prepare(&s, st, "reading events for a webhook", feed_sql, d) != 0)
		return -1;
	rc = stmt_bind_int64(&s, 1, last, d) || stmt_bind_int64(&s, 2, WEBHOOK_FEED_MAX, d) ? -1 : 0;
	while (rc == 0) {
		int step = stmt_step(&s, d);
		if (step <= 0) {
			rc = step;
			break;
		}
		const char *kind, *body;
		seen = stmt_int64(&s, 0);
		if (stmt_text(&s, 1, &kind, d) || stmt_text(&s, 2, &body, d)) {
			rc = -1;
			break;
		}
		if (kind == NULL || body == NULL || !config_webhook_wants(w, kind))
			continue;
		char key[128];
		snprintf(key, sizeof(key), "webhook:%s:%lld", w->name, (long long)seen);
		struct outbox_msg m = {.key = key, .kind = "webhook", .channel = "webhook",
				       .subject = w->name, .body = body, .not_before = store_time(st)};
		int64_t id = 0;
		rc = outbox_enqueue(st, &m, &id, d);
		if (rc == 0 && id != 0 && queued != NULL)
			(*queued)++;
	}
	stmt_finalize(&s);
	if (rc != 0 || seen == last)
		return rc;
	if (stmt_prepare(&s, st, "moving a webhook's cursor",
			 "UPDATE webhook_cursors SET last_event = ?2, updated_at = ?3 WHERE name = ?1",
			 d) != 0)
		return -1;
	rc = stmt_bind_text(&s, 1, w->name, d) || stmt_bind_int64(&s, 2, seen, d) ||
			 stmt_bind_text(&s, 3, now, d) || stmt_run(&s, d)
		 ? -1
		 : 0;
	stmt_finalize(&s);
	return rc;
}

int
webhook_feed(struct store *st, const struct config *cfg, int *queued, struct diag *d)
{
	if (queued != NULL)
		*queued = 0;
	for (int i = 0; cfg != NULL && i < cfg->nwebhooks; i++) {
		if (store_begin(st, d) != 0)
			return -1;
		if (feed_hook(st, &cfg->webhooks[i], queued, d) != 0) {
			store_rollback(st);
			return diag_prefix(d, "webhook '%s'", cfg->webhooks[i].name);
		}
		if (store_commit(st, d) != 0)
			return -1;
	}
	return 0;
}

void
webhook_sign(const char *secret, long long ts, const char *body, size_t len,
	     char hex[SHA256_HEX_LEN])
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%lld.", ts);
	char *msg = malloc((size_t)n + len);
	unsigned char mac[SHA256_LEN];
	if (msg == NULL) {
		hex[0] = '\0';
		return;
	}
	memcpy(msg, head, (size_t)n);
	memcpy(msg + n, body, len);
	hmac_sha256(secret, strlen(secret), msg, (size_t)n + len, mac);
	free(msg);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

time_t
webhook_backoff(int base_s, int attempts, double jitter01)
{
	time_t delay = base_s > 0 ? base_s : 1;
	for (int i = 1; i < attempts && delay < WEBHOOK_BACKOFF_MAX_S; i++)
		delay *= 2;
	if (delay > WEBHOOK_BACKOFF_MAX_S)
		delay = WEBHOOK_BACKOFF_MAX_S;
	return delay + (time_t)(jitter01 * (double)delay / 4.0);
}

/* ---- the engine ---------------------------------------------------------------------- */

struct webhook {
	uv_loop_t *loop;
	struct store *st;
	const struct config *cfg;
	const struct timescale *ts;
	CURLM *multi;
	uv_timer_t curl_timer, due_timer;
	int handles; /* open uv handles: freed when it reaches 0 after webhook_stop */
	int closing;
	int inflight;
	struct xfer *xfers; /* the transfers under way, for webhook_stop */
};

struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct webhook *w;
};

struct xfer {
	struct webhook *w;
	CURL *easy;
	struct xfer *next, **pprev;
	int64_t row;
	int attempts, max_attempts, backoff_s;
	char name[72];
	char *body;
	struct curl_slist *headers;
	char err[CURL_ERROR_SIZE];
};

static void
on_handle_closed(uv_handle_t *h)
{
	struct webhook *w;
	if (h->type == UV_POLL) {
		struct sock_ctx *c = h->data;
		w = c->w;
		free(c);
	} else {
		w = h->data;
	}
	if (--w->handles == 0 && w->closing) {
		curl_multi_cleanup(w->multi);
		free(w);
	}
}

static void pump_later(struct webhook *w);

/* Unlinks and frees a transfer (its easy handle is the caller's). */
static void
xfer_free(struct xfer *x)
{
	if (x->pprev != NULL) {
		*x->pprev = x->next;
		if (x->next != NULL)
			x->next->pprev = x->pprev;
	}
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x);
}

/* Records the outcome of a finished transfer (res, HTTP status). */
static void
xfer_done(struct xfer *x, CURLcode res, long status)
{
	struct webhook *w = x->w;
	char error[CURL_ERROR_SIZE + 64] = "";
	int permanent = 0;
	if (res != CURLE_OK)
		snprintf(error, sizeof(error), "%s", x->err[0] ? x->err : curl_easy_strerror(res));
	else if (status < 200 || status > 299) {
		snprintf(error, sizeof(error), "HTTP %ld", status);
		permanent = status >= 400 && status < 500 && status != 408 && status != 429;
	}
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = 0;
	time_t delay = webhook_backoff(x->backoff_s, x->attempts, (double)r / 4294967296.0);
	enum outbox_status next = OUTBOX_SENT;
	struct diag d;
	diag_clear(&d);
	if (outbox_done_policy(w->st, x->row, timescale_now(w->ts), error[0] ? error : NULL,
			       permanent, x->max_attempts, delay, &next, &d) != 0)
		tlog(TLOG_ERROR, "webhook '%s': %s", x->name, d.msg);
	else if (next == OUTBOX_PENDING)
		tlog(TLOG_WARN, "webhook '%s': message %lld: %s (attempt %d of %d; next in %lld s)",
		     x->name, (long long)x->row, error, x->attempts, x->max_attempts,
		     (long long)delay);
	else if (next == OUTBOX_FAILED)
		tlog(TLOG_WARN, "webhook '%s': message %lld failed: %s (attempt %d of %d)", x->name,
		     (long long)x->row, error, x->attempts, x->max_attempts);
	else
		tlog(TLOG_DEBUG, "webhook '%s': message %lld sent", x->name, (long long)x->row);
	xfer_free(x);
	w->inflight--;
	pump_later(w);
}

static void
check_done(struct webhook *w)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode res = m->data.result;
		struct xfer *x = NULL;
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(w->multi, e);
		curl_easy_cleanup(e);
		if (x != NULL)
			xfer_done(x, res, status);
	}
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *c = p->data;
	int flags = status < 0 ? CURL_CSELECT_ERR
			       : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
					 ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
	int running;
	struct webhook *w = c->w;
	curl_multi_socket_action(w->multi, c->fd, flags, &running);
	check_done(w);
}

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct webhook *w = userp;
	struct sock_ctx *c = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (c != NULL) {
			uv_poll_stop(&c->poll);
			uv_close((uv_handle_t *)&c->poll, on_handle_closed);
			curl_multi_assign(w->multi, fd, NULL);
		}
		return 0;
	}
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return -1;
		c->fd = fd;
		c->w = w;
		if (uv_poll_init_socket(w->loop, &c->poll, fd) != 0) {
			free(c);
			return -1;
		}
		c->poll.data = c;
		w->handles++;
		curl_multi_assign(w->multi, fd, c);
	}
	int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
	uv_poll_start(&c->poll, ev, on_poll);
	return 0;
}

static void
on_curl_timeout(uv_timer_t *t)
{
	struct webhook *w = t->data;
	int running;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(w);
}

static int
on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct webhook *w = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&w->curl_timer);
	else
		uv_timer_start(&w->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

/* The hook a row belongs to (its subject), or NULL when tandem.lua no longer has it. */
static const struct config_webhook *
hook_of(const struct webhook *w, const char *name)
{
	for (int i = 0; name != NULL && i < w->cfg->nwebhooks; i++)
		if (strcmp(w->cfg->webhooks[i].name, name) == 0)
			return &w->cfg->webhooks[i];
	return NULL;
}

/* Starts the POST of a claimed row; 0, or -1 (the row is recorded failed or left to retry). */
static int
xfer_start(struct webhook *w, struct outbox_row *row, const struct config_webhook *h)
{
	struct xfer *x = calloc(1, sizeof(*x));
	CURL *e = curl_easy_init();
	char hex[SHA256_HEX_LEN], line[256];
	if (x == NULL || e == NULL || (x->body = strdup(row->body ? row->body : "{}")) == NULL) {
		if (x != NULL)
			free(x->body);
		free(x);
		if (e != NULL)
			curl_easy_cleanup(e);
		return -1;
	}
	x->w = w;
	x->row = row->id;
	x->attempts = row->attempts;
	x->max_attempts = h->attempts;
	x->backoff_s = h->backoff_s;
	snprintf(x->name, sizeof(x->name), "%s", h->name);
	long long now = (long long)time(NULL);
	size_t len = strlen(x->body);
	webhook_sign(h->secret, now, x->body, len, hex);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(line, sizeof(line), "X-Tandem-Signature: t=%lld,v1=%s", now, hex);
	hd = hd ? curl_slist_append(hd, line) : NULL;
	snprintf(line, sizeof(line), "Idempotency-Key: %s", row->key);
	hd = hd ? curl_slist_append(hd, line) : NULL;
	snprintf(line, sizeof(line), "X-Tandem-Delivery: %d", row->attempts);
	hd = hd ? curl_slist_append(hd, line) : NULL;
	hd = hd ? curl_slist_append(hd, "Expect:") : NULL;
	hd = hd ? curl_slist_append(hd, "User-Agent: tandem/" TANDEM_VERSION) : NULL;
	x->headers = hd;
	if (hd == NULL) {
		curl_easy_cleanup(e);
		free(x->body);
		free(x);
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(hd);
		free(x->body);
		free(x);
		return -1;
	}
	x->easy = e;
	x->next = w->xfers;
	if (w->xfers != NULL)
		w->xfers->pprev = &x->next;
	x->pprev = &w->xfers;
	w->xfers = x;
	w->inflight++;
	return 0;
}

/* The next instant a webhook row is due (pending: not_before; sending: its lease's end). */
static int
next_due(struct store *st, time_t *due, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "finding the next webhook delivery",
			 "SELECT min(CAST(strftime('%s', t) AS INTEGER)) FROM ("
			 " SELECT not_before AS t FROM outbox WHERE channel = 'webhook'"
			 "  AND status = 'pending'"
			 " UNION ALL SELECT lease_until FROM outbox WHERE channel = 'webhook'"
			 "  AND status = 'sending' AND lease_until IS NOT NULL"
			 " UNION ALL SELECT datetime('now', '-1 day') FROM outbox"
			 "  WHERE channel = 'webhook' AND status = 'unknown')",
			 d) != 0)
		return -1;
	int rc = stmt_step(&s, d);
	int found = 0;
	if (rc == STMT_ROW && !stmt_is_null(&s, 0)) {
		*due = (time_t)stmt_int64(&s, 0);
		found = 1;
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : found;
}

static void
on_due(uv_timer_t *t)
{
	webhook_pump(t->data);
}

static int curl_start(struct webhook *w, struct diag *d);

void
webhook_pump(struct webhook *w)
{
	if (w == NULL || w->closing)
		return;
	struct diag d;
	diag_clear(&d);
	if (w->cfg->nwebhooks > 0 && webhook_feed(w->st, w->cfg, NULL, &d) != 0)
		tlog(TLOG_ERROR, "%s", d.msg);
	while (w->inflight < WEBHOOK_INFLIGHT) {
		struct outbox_row row;
		time_t now = timescale_now(w->ts);
		int rc = outbox_claim_channel(w->st, now, WEBHOOK_LEASE_S, 1, &row, &d);
		if (rc != 0) {
			if (rc < 0)
				tlog(TLOG_ERROR, "webhook: %s", d.msg);
			break;
		}
		const struct config_webhook *h = hook_of(w, row.subject);
		if (h == NULL) {
			if (outbox_done_policy(w->st, row.id, now,
					       "the webhook is no longer in tandem.lua", 1, 1, 0, NULL,
					       &d) != 0)
				tlog(TLOG_ERROR, "webhook: %s", d.msg);
		} else if (curl_start(w, &d) != 0 || xfer_start(w, &row, h) != 0) {
			if (outbox_done_policy(w->st, row.id, now, "out of memory", 0, h->attempts,
					       webhook_backoff(h->backoff_s, row.attempts, 0), NULL,
					       &d) != 0)
				tlog(TLOG_ERROR, "webhook: %s", d.msg);
		}
		outbox_row_fini(&row);
	}
	int running;
	if (w->multi != NULL)
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	time_t due;
	int rc = w->inflight < WEBHOOK_INFLIGHT ? next_due(w->st, &due, &d) : 0;
	if (rc < 0)
		tlog(TLOG_ERROR, "webhook: %s", d.msg);
	if (rc > 0)
		uv_timer_start(&w->due_timer, on_due, timescale_delay_ms(w->ts, due), 0);
	else
		uv_timer_stop(&w->due_timer);
}

/* After a transfer ends: pump from the loop, not from inside curl's callback. */
static void
pump_later(struct webhook *w)
{
	if (!w->closing)
		uv_timer_start(&w->due_timer, on_due, 0, 0);
}

/*
 * libcurl starts with the first delivery, not with the service: curl_global_init brings up
 * the TLS library, whose pages were most of an idle service's memory (docs/performance.md
 * "The idle service"), and a workspace without webhooks never needs it.
 */
static int
curl_start(struct webhook *w, struct diag *d)
{
	static int curl_ready;
	if (w->multi != NULL)
		return 0;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return diag_set(d, DIAG_INTERNAL, "webhook: libcurl did not initialize");
		curl_ready = 1;
	}
	if ((w->multi = curl_multi_init()) == NULL)
		return diag_set(d, DIAG_NOMEM, "webhook: out of memory");
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	return 0;
}

struct webhook *
webhook_new(uv_loop_t *loop, struct store *st, const struct config *cfg,
	    const struct timescale *ts, struct diag *d)
{
	struct webhook *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		diag_set(d, DIAG_NOMEM, "webhook: out of memory");
		return NULL;
	}
	w->loop = loop;
	w->st = st;
	w->cfg = cfg;
	w->ts = ts;
	uv_timer_init(loop, &w->curl_timer);
	uv_timer_init(loop, &w->due_timer);
	w->curl_timer.data = w->due_timer.data = w;
	w->handles = 2;
	return w;
}

void
webhook_stop(struct webhook *w)
{
	if (w == NULL)
		return;
	w->closing = 1;
	/* Every transfer ends now: curl says CURL_POLL_REMOVE for its sockets (their polls
	 * close); the rows stay 'sending' and are delivered again after their lease. */
	while (w->xfers != NULL) {
		struct xfer *x = w->xfers;
		curl_multi_remove_handle(w->multi, x->easy);
		curl_easy_cleanup(x->easy);
		xfer_free(x);
	}
	uv_close((uv_handle_t *)&w->curl_timer, on_handle_closed);
	uv_close((uv_handle_t *)&w->due_timer, on_handle_closed);
}

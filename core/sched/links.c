/*
 * links: the check-in link token codec and the workspace's link key (see links.h).
 */
#include "sched/links.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/hmac.h"
#include "store/stmt.h"
#include "store/store.h"

static const char links_domain[] = "tandem-link-v1\n";
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum { BODY_LEN = 26 };

const char *
links_side_name(enum links_side s)
{
	return s == LINKS_MENTEE ? "mentee" : "mentor";
}

time_t
links_expiry(time_t start, int minutes)
{
	return start + 60 * (time_t)minutes + 86400 * (time_t)LINKS_TTL_DAYS;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The MAC of the first BODY_LEN bytes, with the domain string in front. */
static void
links_mac(const unsigned char key[LINKS_KEY_LEN], const unsigned char *body,
	  unsigned char out[SHA256_LEN])
{
	unsigned char msg[sizeof(links_domain) - 1 + BODY_LEN];
	memcpy(msg, links_domain, sizeof(links_domain) - 1);
	memcpy(msg + sizeof(links_domain) - 1, body, BODY_LEN);
	hmac_sha256(key, LINKS_KEY_LEN, msg, sizeof(msg), out);
}

void
links_encode(const unsigned char key[LINKS_KEY_LEN], const struct links_token *t,
	     char out[LINKS_TOKEN_MAX])
{
	unsigned char raw[LINKS_RAW_LEN + 2] = {0}; /* 2 bytes of padding for the last group */
	raw[0] = 1;
	put_be64(raw + 1, (uint64_t)t->session_id);
	raw[9] = (unsigned char)t->side;
	put_be64(raw + 10, (uint64_t)(int64_t)t->expires);
	put_be64(raw + 18, t->nonce);
	links_mac(key, raw, raw + BODY_LEN);
	size_t o = 0;
	for (size_t i = 0; i < LINKS_RAW_LEN; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
		size_t left = LINKS_RAW_LEN - i; /* 58 = 19 * 3 + 1: the last group has 1 byte */
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		if (left > 1)
			out[o++] = b64[v >> 6 & 63];
		if (left > 2)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

static int
b64_val(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;
	return p != NULL ? (int)(p - b64) : -1;
}

/* Exactly LINKS_RAW_LEN bytes of canonical base64url; 0 or -1. */
static int
links_unbase64(const char *text, unsigned char raw[LINKS_RAW_LEN])
{
	if (strlen(text) != LINKS_TOKEN_LEN)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < LINKS_TOKEN_LEN; i += 4) {
		size_t k = LINKS_TOKEN_LEN - i >= 4 ? 4 : LINKS_TOKEN_LEN - i;
		unsigned v = 0;
		for (size_t j = 0; j < 4; j++) {
			int x = j < k ? b64_val(text[i + j]) : 0;
			if (x < 0)
				return -1;
			v = v << 6 | (unsigned)x;
		}
		/* The last group (2 characters, 1 byte): its 4 spare bits must be zero. */
		if (k == 2 && (v & 0xffff) != 0)
			return -1;
		for (size_t j = 0; j + 1 < k; j++)
			raw[o++] = (unsigned char)(v >> (16 - 8 * j));
	}
	return o == LINKS_RAW_LEN ? 0 : -1;
}

enum links_verdict
links_decode(const unsigned char key[LINKS_KEY_LEN], const char *text, time_t now,
	     struct links_token *t)
{
	unsigned char raw[LINKS_RAW_LEN], mac[SHA256_LEN];
	if (links_unbase64(text, raw) != 0 || raw[0] != 1)
		return LINKS_MALFORMED;
	links_mac(key, raw, mac);
	if (!hmac_equal(mac, raw + BODY_LEN, SHA256_LEN))
		return LINKS_FORGED;
	int64_t session = (int64_t)get_be64(raw + 1);
	if (session <= 0 || raw[9] > 1)
		return LINKS_MALFORMED;
	t->session_id = session;
	t->side = raw[9] ? LINKS_MENTEE : LINKS_MENTOR;
	t->expires = (time_t)(int64_t)get_be64(raw + 10);
	t->nonce = get_be64(raw + 18);
	return now < t->expires ? LINKS_OK : LINKS_EXPIRED;
}

/* 32 bytes from 64 hex digits; 0 or -1. */
static int
unhex(const char *hex, unsigned char key[LINKS_KEY_LEN])
{
	if (strlen(hex) != 2 * LINKS_KEY_LEN)
		return -1;
	for (int i = 0; i < LINKS_KEY_LEN; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		key[i] = (unsigned char)v;
	}
	return 0;
}

/* 1 and key when the secret exists, 0 when not, -1. */
static int
links_key_read(struct store *st, unsigned char key[LINKS_KEY_LEN], struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, "reading the link key",
			 "SELECT value FROM secrets WHERE name = 'link_key'", d) != 0)
		return -1;
	int rc = stmt_step(&s, d);
	const char *t = NULL;
	if (rc == STMT_ROW) {
		if (stmt_text(&s, 0, &t, d) != 0)
			rc = -1;
		else if (t == NULL || unhex(t, key) != 0)
			rc = diag_set(d, DIAG_DB, "secrets: link_key is not 64 hex digits");
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : rc == STMT_ROW;
}

int
links_key(struct store *st, int create, unsigned char key[LINKS_KEY_LEN], struct diag *d)
{
	int rc = links_key_read(st, key, d);
	if (rc != 0 || !create)
		return rc;
	unsigned char raw[LINKS_KEY_LEN];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return diag_set(d, DIAG_IO, "no random bytes for the link key");
	char hex[2 * LINKS_KEY_LEN + 1], now[STORE_TIME_MAX];
	for (int i = 0; i < LINKS_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	struct stmt s;
	/* OR IGNORE: another process may have made one since; the stored key wins. */
	rc = stmt_prepare(&s, st, "storing the link key",
			  "INSERT OR IGNORE INTO secrets (name, value, created_at) "
			  "VALUES ('link_key', ?1, ?2)",
			  d) ||
		     stmt_bind_text(&s, 1, hex, d) || stmt_bind_text(&s, 2, now, d) ||
		     stmt_run(&s, d)
		 ? -1
		 : 0;
	stmt_finalize(&s);
	memset(hex, 0, sizeof(hex));
	if (rc != 0)
		return -1;
	rc = links_key_read(st, key, d);
	return rc == 0 ? diag_set(d, DIAG_INTERNAL, "the link key was stored but cannot be read")
		       : rc;
}

int
links_url(struct buf *b, const char *base, const unsigned char key[LINKS_KEY_LEN],
	  int64_t session_id, enum links_side side, time_t expires, struct diag *d)
{
	struct links_token t = {.session_id = session_id, .side = side, .expires = expires};
	if (getrandom(&t.nonce, sizeof(t.nonce), 0) != (ssize_t)sizeof(t.nonce))
		return diag_set(d, DIAG_IO, "no random bytes for a link's nonce");
	char tok[LINKS_TOKEN_MAX];
	links_encode(key, &t, tok);
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return buf_printf(b, d, "%.*s/c/%s", (int)n, base, tok);
}

/*
 * links: participants' check-in links. A link lets one side of one session record its
 * check-in from a reminder without an account: the token in it is the capability.
 *
 * Called by: sched/remind (a link per side in each reminder, when the workspace has a
 * public URL), http/checkin_page (GET/POST /c/TOKEN decodes and checks it), the tests.
 *
 * Token, version 1: base64url without padding (RFC 4648 section 5) of 58 bytes:
 *     0       version (1)
 *     1..8    session id, big-endian
 *     9       side (0 mentor, 1 mentee)
 *     10..17  expiry, seconds since the epoch (UTC), big-endian, signed
 *     18..25  nonce (random: two links of one side differ, nothing is stored for it)
 *     26..57  HMAC-SHA256 under the workspace's link key of "tandem-link-v1\n" and bytes 0..25
 * 78 characters. The key is the workspace secret `link_key` (table secrets: 32 random
 * bytes as hex, made on first use, never logged, never in an event or an export).
 *
 * Contract:
 *  - links_decode checks, in this order: the text is canonical base64url of exactly 58
 *    bytes with version 1 (else LINKS_MALFORMED), the MAC (compared in constant time;
 *    else LINKS_FORGED: any changed byte of the token lands here or in MALFORMED), the
 *    side is 0 or 1 and the session positive (else MALFORMED), then the expiry: valid
 *    while now < expires, LINKS_EXPIRED from the second `expires` on. An expiry is only
 *    reported for a token the key made. t is filled only for LINKS_OK and LINKS_EXPIRED.
 *  - A link is single-use per side by the session's own rule (sched/session.h: a side
 *    checks in once), not by its nonce: every link of that side is spent by the first
 *    check-in of that side, whichever way it was recorded.
 *  - links_expiry: the session's end + LINKS_TTL_DAYS days.
 *  - links_key reads the key (1), or makes and stores it when create (1), or says it is
 *    absent (0); -1 + diag on a store failure. It writes in the caller's transaction.
 *  - links_url appends BASE/c/TOKEN to b (BASE's trailing '/' dropped) with a fresh nonce.
 */
#ifndef TANDEM_LINKS_H
#define TANDEM_LINKS_H

#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"

struct store;

enum links_side { LINKS_MENTOR = 0, LINKS_MENTEE = 1 };

enum {
	LINKS_KEY_LEN = 32,
	LINKS_RAW_LEN = 58,
	LINKS_TOKEN_LEN = 78,	/* characters of a token */
	LINKS_TOKEN_MAX = 80,	/* a buffer for one, with its NUL */
	LINKS_TTL_DAYS = 14,
};

struct links_token {
	int64_t session_id;
	enum links_side side;
	time_t expires;
	uint64_t nonce;
};

enum links_verdict { LINKS_OK, LINKS_MALFORMED, LINKS_FORGED, LINKS_EXPIRED };

/* "mentor", "mentee". */
const char *links_side_name(enum links_side s);

/* The token of t under key into out (LINKS_TOKEN_LEN characters and a NUL). */
void links_encode(const unsigned char key[LINKS_KEY_LEN], const struct links_token *t,
		  char out[LINKS_TOKEN_MAX]);

/* Checks text (see the contract); *t filled for LINKS_OK and LINKS_EXPIRED. */
enum links_verdict links_decode(const unsigned char key[LINKS_KEY_LEN], const char *text,
				time_t now, struct links_token *t);

/* The last instant a link to a session starting at start for minutes is valid, + 1. */
time_t links_expiry(time_t start, int minutes);

int links_key(struct store *st, int create, unsigned char key[LINKS_KEY_LEN], struct diag *d);

/* Appends BASE/c/TOKEN for (session, side, expires) with a random nonce. 0 or -1 + diag. */
int links_url(struct buf *b, const char *base, const unsigned char key[LINKS_KEY_LEN],
	      int64_t session_id, enum links_side side, time_t expires, struct diag *d);

#endif

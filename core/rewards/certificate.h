/*
 * rewards/certificate: completion certificates and their verification codes.
 *
 * A certificate is a grant of the badge CERTIFICATE_BADGE ("certificate") in the ledger,
 * not revoked (the built-in rule `completion` grants it to both sides of a match that
 * ends completed, or when the program ends). certificate_html renders it as ONE
 * self-contained HTML page (inline CSS, no script, no external URL) carrying a
 * verification code:
 *     TC-<rewards.id>-<first 20 hex digits of HMAC-SHA256(key, MESSAGE)>
 * MESSAGE = "tandem-certificate-v1\n" id "\n" person's external id "\n" program name "\n"
 * the grant's date (YYYY-MM-DD). The key is the workspace secret `certificate_key`
 * (table secrets: 32 random bytes, made on first use), so only this workspace can make a
 * code that verifies, and changing any digit of a code, or the row it names, fails.
 *
 * Called by: `tandem rewards certificate` and `tandem rewards verify` (cli/cmd_rewards).
 *
 * Contract:
 *  - certificate_html: person is an external id or e-mail; program (optional) picks
 *    among several certificates (default: the latest). DIAG_NOTFOUND when the person has
 *    no certificate. Opens a transaction level (the key may be created).
 *  - certificate_verify: 0 with *out = {valid: true, code, reward, person, name, program,
 *    title, date, reason}, or -1: DIAG_INVALID "not a valid certificate code" for a
 *    malformed or tampered code (or one from another workspace), DIAG_INVALID "not a
 *    certificate code as issued" for another spelling of one (leading zeros in the
 *    number, uppercase hex: the code is compared exactly as certificate_html wrote it),
 *    DIAG_CONFLICT when the certificate was revoked (naming when and why) or its holder
 *    was erased (erased_certificates holds the code's hash: program and date only). Read-only.
 */
#ifndef TANDEM_REWARDS_CERTIFICATE_H
#define TANDEM_REWARDS_CERTIFICATE_H

#include <jansson.h>

#include "base/buf.h"
#include "base/diag.h"
#include "store/store.h"

#define CERTIFICATE_BADGE "certificate"
enum { CERTIFICATE_CODE_MAX = 64 };

/* Appends the page to out; code receives its verification code. */
int certificate_html(struct store *st, const char *person, const char *program, struct buf *out,
		     char code[CERTIFICATE_CODE_MAX], struct diag *d);

int certificate_verify(struct store *st, const char *code, json_t **out, struct diag *d);

/*
 * For `people erase` (privacy/erase), inside its transaction: every certificate of
 * person_id (a grant of the badge, revoked or not) leaves a tombstone in
 * erased_certificates (SHA-256 of its code, program name, date: nothing personal), so that
 * certificate_verify of the code says the holder was erased (DIAG_CONFLICT) instead of
 * "not issued by this workspace". codes (may be NULL) gets the codes themselves, to find
 * the pages written from them. Without a certificate key no code was ever shown: nothing
 * is kept. *count = the tombstones. 0, or -1 + diag.
 */
int certificate_tombstone(struct store *st, int64_t person_id, json_t *codes, int *count,
			  struct diag *d);

#endif

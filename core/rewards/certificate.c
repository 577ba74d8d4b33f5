/*
 * rewards/certificate: certificates as HTML, codes made and checked (see certificate.h).
 */
#include "rewards/certificate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/hmac.h"
#include "store/stmt.h"

enum { MAC_HEX = 20 };

/* The key as hex text: read it, or (create) make and store it. 1 found, 0 absent, -1. */
static int
certificate_key(struct store *st, int create, char hex[SHA256_HEX_LEN], struct diag *d)
{
	struct stmt s;
	int rc = stmt_prepare(&s, st, "reading the certificate key",
			      "SELECT value FROM secrets WHERE name = 'certificate_key'", d)
		     ? -1
		     : stmt_step(&s, d);
	const char *t = NULL;
	if (rc == STMT_ROW && stmt_text(&s, 0, &t, d) == 0 && t)
		snprintf(hex, SHA256_HEX_LEN, "%s", t);
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	if (rc == STMT_ROW)
		return 1;
	if (!create)
		return 0;
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return diag_set(d, DIAG_IO, "no random bytes for the certificate key");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	rc = stmt_prepare(&s, st, "storing the certificate key",
			  "INSERT INTO secrets (name, value, created_at) VALUES "
			  "('certificate_key', ?1, ?2)",
			  d) ||
		     stmt_bind_text(&s, 1, hex, d) || stmt_bind_text(&s, 2, now, d) ||
		     stmt_run(&s, d)
		 ? -1
		 : 1;
	stmt_finalize(&s);
	return rc;
}

/* The MAC's first MAC_HEX hex digits for the certificate's fields. */
static void
certificate_mac(const char *key, int64_t id, const char *person, const char *program,
		const char *date, char out[MAC_HEX + 1])
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "tandem-certificate-v1\n%" PRId64 "\n%s\n%s\n%s", id,
			 person, program, date);
	unsigned char mac[SHA256_LEN];
	hmac_sha256(key, strlen(key), msg, (size_t)(n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1),
		    mac);
	for (int i = 0; i < MAC_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

struct cert {
	int64_t id, revoked_by;
	char person[256], name[256], program[128], title[256], date[16], reason[512];
	char revoked_at[STORE_TIME_MAX], revoke_reason[512];
	int64_t points;
};

static void
copy_col(struct stmt *s, int col, char *dst, size_t size)
{
	const char *t = NULL;
	dst[0] = '\0';
	if (!stmt_is_null(s, col) && stmt_text(s, col, &t, NULL) == 0 && t)
		snprintf(dst, size, "%s", t);
}

static const char cert_cols[] =
	"SELECT r.id, p.external_id, p.name, coalesce(g.name, ''), coalesce(g.title, g.name, ''), "
	"substr(r.at, 1, 10), r.reason, coalesce(v.id, 0), coalesce(v.at, ''), "
	"coalesce(v.reason, ''), (SELECT coalesce(sum(points), 0) FROM rewards x "
	" WHERE x.person_id = r.person_id AND (r.program_id IS NULL OR x.program_id = r.program_id)) "
	"FROM rewards r JOIN people p ON p.id = r.person_id "
	"LEFT JOIN programs g ON g.id = r.program_id "
	"LEFT JOIN rewards v ON v.revokes = r.id ";

static void
read_cert(struct stmt *s, struct cert *c)
{
	c->id = stmt_int64(s, 0);
	copy_col(s, 1, c->person, sizeof(c->person));
	copy_col(s, 2, c->name, sizeof(c->name));
	copy_col(s, 3, c->program, sizeof(c->program));
	copy_col(s, 4, c->title, sizeof(c->title));
	copy_col(s, 5, c->date, sizeof(c->date));
	copy_col(s, 6, c->reason, sizeof(c->reason));
	c->revoked_by = stmt_int64(s, 7);
	copy_col(s, 8, c->revoked_at, sizeof(c->revoked_at));
	copy_col(s, 9, c->revoke_reason, sizeof(c->revoke_reason));
	c->points = stmt_int64(s, 10);
}

static int
html_text(struct buf *b, const char *s, struct diag *d)
{
	for (; *s; s++) {
		const char *e = *s == '<'    ? "&lt;"
				: *s == '>'  ? "&gt;"
				: *s == '&'  ? "&amp;"
				: *s == '"'  ? "&quot;"
				: *s == '\'' ? "&#39;"
					     : NULL;
		if (e ? buf_puts(b, e, d) : buf_putc(b, *s, d))
			return -1;
	}
	return 0;
}

int
certificate_html(struct store *st, const char *person, const char *program, struct buf *out,
		 char code[CERTIFICATE_CODE_MAX], struct diag *d)
{
	char sql[2048];
	snprintf(sql, sizeof(sql),
		 "%s WHERE (p.external_id = ?1 OR p.email = ?1) AND r.badge = '" CERTIFICATE_BADGE
		 "' AND r.revokes IS NULL AND v.id IS NULL AND (?2 IS NULL OR g.name = ?2) "
		 "ORDER BY r.id DESC LIMIT 1",
		 cert_cols);
	if (store_begin(st, d) != 0)
		return -1;
	struct stmt s;
	struct cert c;
	int rc = stmt_prepare(&s, st, "finding the certificate", sql, d) ||
			 stmt_bind_text(&s, 1, person, d) || stmt_bind_text(&s, 2, program, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW)
		read_cert(&s, &c);
	stmt_finalize(&s);
	if (rc != STMT_ROW) {
		if (rc >= 0)
			diag_set(d, DIAG_NOTFOUND,
				 "'%s' has no certificate%s%s (a grant of the badge '" CERTIFICATE_BADGE
				 "', not revoked: run `tandem rewards dispatch` after a match "
				 "ends completed)",
				 person, program ? " in program " : "", program ? program : "");
		store_rollback(st);
		return -1;
	}
	char key[SHA256_HEX_LEN], mac[MAC_HEX + 1];
	if (certificate_key(st, 1, key, d) < 0 || store_commit(st, d) != 0) {
		store_rollback(st);
		return -1;
	}
	certificate_mac(key, c.id, c.person, c.program, c.date, mac);
	snprintf(code, CERTIFICATE_CODE_MAX, "TC-%" PRId64 "-%s", c.id, mac);
	const char *title = c.title[0] ? c.title : "a reverse-mentoring program";
	char pts[32];
	snprintf(pts, sizeof(pts), "%" PRId64, c.points);
	rc = buf_puts(out,
		      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<title>Certificate of completion</title>\n<style>\n"
		      "body{font-family:Georgia,serif;background:#f4f1ea;margin:0;padding:2em}\n"
		      ".c{max-width:46em;margin:auto;background:#fff;border:6px double #8a6d3b;"
		      "padding:3em;text-align:center}\n"
		      "h1{font-size:2.2em;margin:.2em 0;color:#5a4520}\n"
		      ".name{font-size:2em;margin:.6em 0;border-bottom:1px solid #ccc;display:inline-block;"
		      "padding:0 1em}\n"
		      ".code{font-family:monospace;font-size:1.1em;background:#f4f1ea;padding:.3em .6em}\n"
		      "small{color:#666}\n</style>\n</head>\n<body>\n<div class=\"c\">\n"
		      "<p>Certificate of completion</p>\n<h1>",
		      d) ||
	     html_text(out, title, d) ||
	     buf_puts(out, "</h1>\n<p>This certifies that</p>\n<div class=\"name\">", d) ||
	     html_text(out, c.name, d) ||
	     buf_puts(out, "</div>\n<p>completed the program: ", d) || html_text(out, c.reason, d) ||
	     buf_puts(out, "</p>\n<p>on <time datetime=\"", d) || html_text(out, c.date, d) ||
	     buf_puts(out, "\">", d) || html_text(out, c.date, d) ||
	     buf_puts(out, "</time>, with ", d) || buf_puts(out, pts, d) ||
	     buf_puts(out, " recognition points.</p>\n<p>Verification code: <span class=\"code\">",
		      d) ||
	     buf_puts(out, code, d) ||
	     buf_puts(out, "</span></p>\n<p><small>Check it with <code>tandem rewards verify ", d) ||
	     buf_puts(out, code, d) ||
	     buf_puts(out, "</code> in the program's workspace.</small></p>\n</div>\n</body>\n</html>\n",
		      d);
	return rc ? -1 : 0;
}

/* Reads a code in the one form certificate_html writes: "TC-", the reward's id in decimal
 * without leading zeros, "-", MAC_HEX lowercase hex digits, nothing after. 0 with *id and
 * mac filled, 1 for a code that is only spelled differently (leading zeros, uppercase hex:
 * sscanf would read TC-0110-... as TC-110-...), -1 for anything else. */
static int
certificate_parse(const char *code, int64_t *id, char mac[MAC_HEX + 1])
{
	if (strncmp(code, "TC-", 3) != 0)
		return -1;
	const char *p = code + 3, *digits = p;
	int64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	size_t ndig = (size_t)(p - digits);
	if (ndig == 0 || v <= 0 || *p != '-')
		return -1;
	const char *hex = ++p;
	int other = digits[0] == '0';
	for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'); p++)
		other |= *p >= 'A' && *p <= 'F';
	if (*p != '\0' || p - hex != MAC_HEX)
		return -1;
	if (other)
		return 1;
	*id = v;
	memcpy(mac, hex, MAC_HEX);
	mac[MAC_HEX] = '\0';
	return 0;
}

/* -1 + DIAG_CONFLICT when code (as issued) is the tombstone of an erased holder's certificate
 * (or -1 + a failure's diag), 0 when it is not. */
static int
certificate_erased(struct store *st, const char *code, struct diag *d)
{
	char hash[SHA256_HEX_LEN];
	sha256_hex(code, strlen(code), hash);
	struct stmt s;
	int rc = stmt_prepare(&s, st, "looking for an erased holder's certificate",
			      "SELECT program, issued_on, substr(erased_at, 1, 10) FROM "
			      "erased_certificates WHERE code_sha256 = ?1",
			      d) || stmt_bind_text(&s, 1, hash, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		char program[128], date[16], erased[16];
		copy_col(&s, 0, program, sizeof(program));
		copy_col(&s, 1, date, sizeof(date));
		copy_col(&s, 2, erased, sizeof(erased));
		diag_set(d, DIAG_CONFLICT,
			 "certificate %s was issued by this workspace (program %s, %s), but its "
			 "holder was erased on %s (`tandem people erase`): it no longer names anyone",
			 code, program[0] ? program : "-", date, erased);
	}
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

int
certificate_tombstone(struct store *st, int64_t person_id, json_t *codes, int *count,
		      struct diag *d)
{
	*count = 0;
	char key[SHA256_HEX_LEN], now[STORE_TIME_MAX];
	int has_key = certificate_key(st, 0, key, d);
	if (has_key <= 0)
		return has_key; /* no key: no code was ever shown, nothing to keep */
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "the store's clock is out of range");
	char sql[2048];
	snprintf(sql, sizeof(sql), "%s WHERE r.person_id = ?1 AND r.badge = '" CERTIFICATE_BADGE
		 "' AND r.revokes IS NULL ORDER BY r.id", cert_cols);
	struct stmt s, ins;
	if (stmt_prepare(&s, st, "reading the certificates to erase", sql, d) != 0)
		return -1;
	if (stmt_prepare(&ins, st, "keeping an erased holder's certificate",
			 "INSERT OR IGNORE INTO erased_certificates (code_sha256, program, issued_on,"
			 " erased_at) VALUES (?1, ?2, ?3, ?4)",
			 d) != 0) {
		stmt_finalize(&s);
		return -1;
	}
	int rc = stmt_bind_int64(&s, 1, person_id, d) ? -1 : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		struct cert c;
		read_cert(&s, &c);
		char mac[MAC_HEX + 1], code[CERTIFICATE_CODE_MAX], hash[SHA256_HEX_LEN];
		certificate_mac(key, c.id, c.person, c.program, c.date, mac);
		snprintf(code, sizeof(code), "TC-%" PRId64 "-%s", c.id, mac);
		sha256_hex(code, strlen(code), hash);
		rc = stmt_bind_text(&ins, 1, hash, d) || stmt_bind_text(&ins, 2, c.program, d) ||
				 stmt_bind_text(&ins, 3, c.date, d) || stmt_bind_text(&ins, 4, now, d) ||
				 stmt_run(&ins, d)
			 ? -1
			 : 0;
		if (rc == 0 && codes != NULL && json_array_append_new(codes, json_string(code)) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
		if (rc == 0)
			(*count)++;
	}
	stmt_finalize(&ins);
	stmt_finalize(&s);
	return rc == STMT_DONE ? 0 : -1;
}

int
certificate_verify(struct store *st, const char *code, json_t **out, struct diag *d)
{
	*out = NULL;
	int64_t id = 0;
	char mac[MAC_HEX + 1];
	int form = certificate_parse(code, &id, mac);
	if (form == 1)
		return diag_set(d, DIAG_INVALID,
				"'%s' is not a certificate code as issued: codes are compared exactly, "
				"TC-NUMBER-HEX with no leading zero and %d lowercase hex digits; copy "
				"the code from the certificate as it is printed",
				code, MAC_HEX);
	if (form != 0)
		return diag_set(d, DIAG_INVALID,
				"'%s' is not a valid certificate code (expected TC-NUMBER-%d hex "
				"digits)",
				code, MAC_HEX);
	char sql[2048];
	snprintf(sql, sizeof(sql), "%s WHERE r.id = ?1 AND r.badge = '" CERTIFICATE_BADGE "' AND "
		 "r.revokes IS NULL", cert_cols);
	struct stmt s;
	struct cert c;
	int rc = stmt_prepare(&s, st, "finding the certificate", sql, d) ||
			 stmt_bind_int64(&s, 1, id, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW)
		read_cert(&s, &c);
	stmt_finalize(&s);
	if (rc < 0)
		return -1;
	char key[SHA256_HEX_LEN], want[MAC_HEX + 1];
	int has_key = rc == STMT_ROW ? certificate_key(st, 0, key, d) : 0;
	if (has_key < 0)
		return -1;
	if (has_key == 1)
		certificate_mac(key, c.id, c.person, c.program, c.date, want);
	if ((has_key != 1 || !hmac_equal(want, mac, MAC_HEX)) && certificate_erased(st, code, d) != 0)
		return -1; /* the holder was erased (DIAG_CONFLICT), or a failure */
	if (has_key != 1 || !hmac_equal(want, mac, MAC_HEX))
		return diag_set(d, DIAG_INVALID,
				"'%s' is not a valid certificate code: it was not issued by this "
				"workspace, or it was altered",
				code);
	if (c.revoked_by != 0)
		return diag_set(d, DIAG_CONFLICT,
				"certificate %s of %s (%s) was revoked at %s: %s", code, c.name,
				c.person, c.revoked_at, c.revoke_reason);
	*out = json_pack("{sb ss sI ss ss ss ss ss ss}", "valid", 1, "code", code, "reward",
			 (json_int_t)c.id, "person", c.person, "name", c.name, "program", c.program,
			 "title", c.title, "date", c.date, "reason", c.reason);
	return *out ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
}

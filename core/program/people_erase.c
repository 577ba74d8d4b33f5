/*
 * people_erase: erasing one person for good (people_erase() in people.h, the right to
 * erasure): in one transaction, delete the person and every row about them (cascades),
 * detach their reports, scrub the events that concern or mention them and append a
 * people.erased event carrying only a pseudonym; then push the WAL into the database and
 * vacuum when the e-mail's bytes are still in the file. Also the pseudonym itself.
 *
 * Called by cli/cmd_people.c and the public API. It needs a transaction of its own (the
 * checkpoint and VACUUM cannot run inside one), so it refuses to run inside a caller's.
 */
#include "program/people.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "events/events.h"
#include "program/people_read.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- pseudonyms -------------------------------------------------------------------------- */

/* FIPS 180-4. Small and only used for pseudonyms, so written for clarity over speed. */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t
rotr(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha256_k[i] + w[i];
		uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void
people_sha256(const void *data, size_t len, unsigned char out[32])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t n = len;
	for (; n >= 64; n -= 64, p += 64)
		sha256_block(h, p);
	/* The tail, a 1 bit, zeros, and the message length in bits (big-endian). */
	unsigned char last[128] = {0};
	memcpy(last, p, n);
	last[n] = 0x80;
	size_t total = n + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		last[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, last);
	if (total == 128)
		sha256_block(h, last + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

int
people_pseudonym(const unsigned char *salt, size_t saltlen, const char *external_id, char out[17])
{
	size_t n = strlen(external_id);
	unsigned char *buf = malloc(saltlen + n + 1);
	unsigned char digest[32];
	if (buf == NULL) {
		out[0] = '\0';
		return -1;
	}
	memcpy(buf, salt, saltlen);
	memcpy(buf + saltlen, external_id, n);
	people_sha256(buf, saltlen + n, digest);
	free(buf);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* ---- erasure ----------------------------------------------------------------------------- */

/* Runs one statement taking ?1 = people.id; *changes (if not NULL) gets the rows it changed. */
static int
people_exec_bound(struct store *st, const char *what, const char *sql, long long id,
		  long *changes, struct diag *d)
{
	struct stmt s;
	if (stmt_prepare(&s, st, what, sql, d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_run(&s, d) ? -1 : 0;
	stmt_finalize(&s);
	if (rc == 0 && changes != NULL)
		*changes = sqlite3_changes(store_db(st));
	return rc;
}

/* Counts the rows the cascade will remove, for the report. */
static long
people_count_rows(struct store *st, long long id, struct diag *d)
{
	long total = 1;
	for (size_t i = 0; i < people_ntables; i++) {
		if (strcmp(people_tables[i].table, "events") == 0)
			continue; /* events are scrubbed, not deleted */
		char sql[512], what[64];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s)", people_tables[i].sql);
		snprintf(what, sizeof(what), "counting %s", people_tables[i].table);
		struct stmt s;
		if (stmt_prepare(&s, st, what, sql, d) != 0)
			return -1;
		int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
		if (rc == STMT_ROW)
			total += (long)stmt_int64(&s, 0);
		else if (rc == STMT_DONE)
			rc = diag_set(d, DIAG_INTERNAL, "%s: a count returned no row", what);
		stmt_finalize(&s);
		if (rc < 0)
			return -1;
	}
	return total;
}

/* memmem without _GNU_SOURCE. */
static int
people_mem_contains(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return 1;
	for (const char *p = hay, *end = hay + n; (size_t)(end - p) >= m;) {
		p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
		if (p == NULL)
			return 0;
		if (memcmp(p, needle, m) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* 1 when needle's bytes occur anywhere in the file at path, 0 when not, -1 when the file
 * could not be read through (the caller must then assume they may be there). */
static int
people_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t n = strlen(needle), cap = 1 << 20;
	char *buf = malloc(cap + n);
	int found = buf == NULL ? -1 : 0;
	size_t keep = 0;
	while (buf != NULL && !found) {
		size_t got = fread(buf + keep, 1, cap, f);
		if (got == 0) {
			if (ferror(f))
				found = -1;
			break;
		}
		found = people_mem_contains(buf, keep + got, needle, n);
		/* Carry the last n-1 bytes so a match across two reads is seen. */
		size_t total = keep + got;
		keep = n - 1 < total ? n - 1 : total;
		memmove(buf, buf + total - keep, keep);
	}
	free(buf);
	fclose(f);
	return found;
}

static int
people_erase_rows(struct store *st, long long id, const char *email, const char *pseudonym,
		  struct people_erase_result *res, struct diag *d)
{
	/* Events about them keep their subject_id (a bare number) but lose their content; events
	 * that merely mention the e-mail or the quoted external id are scrubbed as well. The id
	 * comes from the row itself: res->external_id may be cut short for display. This UPDATE
	 * is the one write to events outside events_append() (see events.h for why). */
	struct stmt s;
	if (stmt_prepare(&s, st, "scrubbing events",
			 "UPDATE events SET payload = '{\"erased\":true}',"
			 " actor = CASE WHEN actor IN (?2, (SELECT external_id FROM people"
			 " WHERE id = ?1)) THEN NULL ELSE actor END"
			 " WHERE subject_id = ?1 OR instr(payload, ?2) > 0"
			 " OR instr(payload, '\"' || (SELECT external_id FROM people"
			 " WHERE id = ?1) || '\"') > 0",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, id, d) || stmt_bind_text(&s, 2, email, d) || stmt_run(&s, d)
			 ? -1
			 : 0;
	stmt_finalize(&s);
	if (rc != 0)
		return -1;
	res->events_scrubbed = sqlite3_changes(store_db(st));

	if (people_exec_bound(st, "detaching reports",
			      "UPDATE people SET manager_id = NULL WHERE manager_id = ?1", id,
			      &res->reports_detached, d) != 0)
		return -1;
	/* The cascades remove enrollments, matches (and their sessions and feedback), vetoes,
	 * feedback they wrote, rewards and their outbox messages. */
	long gone = 0;
	if (people_exec_bound(st, "erasing", "DELETE FROM people WHERE id = ?1", id, &gone, d) != 0)
		return -1;
	if (gone != 1)
		return diag_set(d, DIAG_NOTFOUND, "the person disappeared during the erase");

	char payload[64];
	snprintf(payload, sizeof(payload), "{\"pseudonym\":\"%s\"}", pseudonym);
	return events_append(st,
			     &(struct event){.kind = "people.erased", .subject_id = id,
					     .payload_json = payload},
			     NULL, d);
}

/* Copies the WAL into the database and empties it. 0 done, 1 another connection kept it
 * (busy: the data leaves at the next checkpoint), -1 + diag on any other failure. */
static int
people_truncate_wal(struct store *st, struct diag *d)
{
	int rc = sqlite3_wal_checkpoint_v2(store_db(st), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc == SQLITE_BUSY)
		return 1;
	if (rc != SQLITE_OK)
		return store_error(st, d, "%s: checkpoint after erase", store_path(st));
	return 0;
}

/* Pushes the WAL into the database and empties it; vacuums if the e-mail survives in the file. */
static int
people_erase_flush(struct store *st, const char *email, struct people_erase_result *res,
		   struct diag *d)
{
	int busy = people_truncate_wal(st, d);
	if (busy < 0)
		return -1;
	/* Unsure (the file could not be read) counts as found: vacuum rather than leave it. */
	if (people_file_contains(store_path(st), email) != 0) {
		if (store_exec(st, "VACUUM", d) != 0)
			return diag_prefix(d, "vacuum after erase");
		res->vacuumed = 1;
		int again = people_truncate_wal(st, d);
		if (again < 0)
			return -1;
		busy |= again;
	}
	res->checkpointed = !busy;
	if (busy)
		tlog(TLOG_WARN, "%s: another connection kept the WAL from being emptied; "
				"the erased data leaves tandem.db-wal at the next checkpoint",
		     store_path(st));
	return 0;
}

/* Reads who is being erased, inside the write transaction so an import cannot change the
 * e-mail or id between the lookup and the scrub; the person's people.id, or 0 + diag. */
static long long
people_erase_identify(struct store *st, const char *key, struct people_erase_result *res,
		      char *email, size_t emailsize, struct diag *d)
{
	long long id = people_find(st, key, d);
	if (id == 0)
		return 0;
	char what[300];
	snprintf(what, sizeof(what), "reading '%.255s'", key);
	struct stmt s;
	if (stmt_prepare(&s, st, what, "SELECT external_id, email FROM people WHERE id = ?", d) != 0)
		return 0;
	const char *ext = NULL, *mail = NULL;
	int rc = stmt_bind_int64(&s, 1, id, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_DONE)
		rc = diag_set(d, DIAG_NOTFOUND, "no person with id or e-mail '%s'", key);
	if (rc == STMT_ROW && (stmt_text(&s, 0, &ext, d) != 0 || stmt_text(&s, 1, &mail, d) != 0))
		rc = -1;
	/* An empty e-mail must never reach the scrub: instr(payload, '') matches every event. */
	if (rc == STMT_ROW && (ext == NULL || mail == NULL || mail[0] == '\0'))
		rc = diag_set(d, DIAG_INTERNAL, "%s: the person has no external id or e-mail", what);
	if (rc == STMT_ROW) {
		snprintf(res->external_id, sizeof(res->external_id), "%s", ext);
		snprintf(email, emailsize, "%s", mail);
	}
	stmt_finalize(&s);
	return rc == STMT_ROW ? id : 0;
}

int
people_erase(struct store *st, const char *key, struct people_erase_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	unsigned char salt[32];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return diag_set(d, DIAG_IO, "cannot get random bytes for the pseudonym: %s",
				strerror(errno));

	/* The erasure must leave the file (checkpoint, VACUUM), which no open transaction allows. */
	if (store_depth(st) != 0)
		return diag_set(d, DIAG_INTERNAL,
				"people_erase runs in a transaction of its own, not inside another");
	/* secure_delete zeroes freed content instead of leaving it in free pages. */
	if (store_exec(st, "PRAGMA secure_delete=ON", d) != 0 || store_begin(st, d) != 0)
		return -1;
	char email[512] = "";
	long long id = people_erase_identify(st, key, res, email, sizeof(email), d);
	if (id == 0) {
		store_rollback(st);
		return -1;
	}
	if (people_pseudonym(salt, sizeof(salt), res->external_id, res->pseudonym) != 0) {
		store_rollback(st);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	long rows = people_count_rows(st, id, d);
	if (rows < 0 || people_erase_rows(st, id, email, res->pseudonym, res, d) != 0) {
		store_rollback(st);
		return -1;
	}
	res->rows = rows;
	if (store_commit(st, d) != 0)
		return -1;
	return people_erase_flush(st, email, res, d);
}

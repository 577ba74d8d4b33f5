/*
 * tzfile: TZif files (RFC 8536) read into immutable zones, the lookup of an instant in a
 * zone, and the process-wide cache of zones by path. See tzfile.h for the contract; the
 * footer's POSIX rule is tzfile_rule.c.
 *
 * A TZif file is a 44-byte header (magic "TZif", a version byte, six big-endian counts)
 * and a data block of 32-bit times; version 2 on repeats header and block with 64-bit
 * times and ends with a footer "\n<rule>\n". Only the last block is kept. Every count is
 * checked against the bytes left before anything is read, and every index and offset
 * against its range, so a file that lies is refused, never followed.
 */
#include "time/tzfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "time/tzfile_internal.h"

enum {
	TZ_NAME_MAX = 64,
	TZ_FILE_MAX = 1 << 20,	 /* real zone files are under 4 KiB (fat ones under 200 KiB) */
	TZ_FOOTER_MAX = 256,
	UTOFF_MIN = -89999,	 /* RFC 8536 3.2: offsets within (-25 h, +26 h) */
	UTOFF_MAX = 93599,
	CACHE_BUCKETS = 256,
};

struct ttype {
	int32_t utoff;
	int isdst;
	const char *abbr; /* into chars */
};

struct tzfile {
	size_t ntrans, ntypes;
	int64_t *trans;	 /* ascending */
	uint8_t *idx;	 /* type of each transition */
	struct ttype *types;
	char *chars;
	char footer[TZ_FOOTER_MAX];
	struct tzfile_rule rule;
};

struct hdr {
	int ver;
	uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int
bad(struct diag *d, const char *name, const char *fmt, const char *what, unsigned long long a,
    unsigned long long b)
{
	char msg[160];
	snprintf(msg, sizeof(msg), fmt, a, b);
	return diag_set(d, DIAG_INVALID, "zone file %s: %s: %s", name, what, msg);
}

static int
read_header(const unsigned char *p, size_t left, struct hdr *h, const char *name, struct diag *d)
{
	if (left < 44)
		return bad(d, name, "%llu bytes left, want 44%.0llu", "header", left, 0);
	if (memcmp(p, "TZif", 4) != 0)
		return diag_set(d, DIAG_INVALID, "zone file %s: header: no TZif magic", name);
	h->ver = p[4];
	if (h->ver != 0 && (h->ver < '2' || h->ver > '9'))
		return bad(d, name, "byte 0x%02llx%.0llu", "header: version", p[4], 0);
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	if (h->type == 0 || h->type > 256)
		return bad(d, name, "%llu (want 1-256)%.0llu", "typecnt", h->type, 0);
	if (h->chars == 0)
		return bad(d, name, "%llu (want 1 or more)%.0llu", "charcnt", 0, 0);
	if (h->isut != 0 && h->isut != h->type)
		return bad(d, name, "%llu (want 0 or typecnt %llu)", "isutcnt", h->isut, h->type);
	if (h->isstd != 0 && h->isstd != h->type)
		return bad(d, name, "%llu (want 0 or typecnt %llu)", "isstdcnt", h->isstd, h->type);
	return 0;
}

static uint64_t
block_size(const struct hdr *h, int tsize)
{
	return (uint64_t)h->time * (uint64_t)(tsize + 1) + (uint64_t)h->type * 6 + h->chars +
	       (uint64_t)h->leap * (uint64_t)(tsize + 4) + h->isstd + h->isut;
}

/* Reads a data block whose size was checked; fills z's transitions, types and chars. */
static int
read_block(const unsigned char *p, const struct hdr *h, int tsize, struct tzfile *z,
	   const char *name, struct diag *d)
{
	z->ntrans = h->time;
	z->ntypes = h->type;
	z->trans = malloc(sizeof(*z->trans) * (h->time ? h->time : 1));
	z->idx = malloc(h->time ? h->time : 1);
	z->types = malloc(sizeof(*z->types) * h->type);
	z->chars = malloc(h->chars);
	if (z->trans == NULL || z->idx == NULL || z->types == NULL || z->chars == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory (zone file %s)", name);
	for (uint32_t i = 0; i < h->time; i++, p += tsize) {
		z->trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return bad(d, name, "%llu is not after the one before%.0llu", "transition time",
				   i, 0);
	}
	for (uint32_t i = 0; i < h->time; i++, p++) {
		if (*p >= h->type)
			return bad(d, name, "%llu is %llu, past typecnt", "transition type", i, *p);
		z->idx[i] = *p;
	}
	const unsigned char *tp = p;
	p += (size_t)h->type * 6;
	memcpy(z->chars, p, h->chars);
	if (z->chars[h->chars - 1] != '\0')
		return bad(d, name, "%llu bytes, the last not NUL%.0llu", "abbreviations", h->chars, 0);
	p += h->chars;
	for (uint32_t i = 0; i < h->type; i++, tp += 6) {
		int32_t off = (int32_t)be32(tp);
		if (off < UTOFF_MIN || off > UTOFF_MAX)
			return diag_set(d, DIAG_INVALID, "zone file %s: local time type %u: utoff %d "
					"outside -89999..93599", name, i, off);
		if (tp[4] > 1)
			return bad(d, name, "%llu has isdst %llu", "local time type", i, tp[4]);
		if (tp[5] >= h->chars)
			return bad(d, name, "%llu has desigidx %llu, past charcnt", "local time type", i,
				   tp[5]);
		z->types[i] = (struct ttype){off, tp[4], z->chars + tp[5]};
	}
	for (uint32_t i = 0; i < h->leap; i++, p += tsize + 4) {
		int64_t at = tsize == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && at <= (tsize == 8 ? be64(p - 12) : (int32_t)be32(p - 8)))
			return bad(d, name, "%llu is not after the one before%.0llu", "leap second", i, 0);
	}
	for (uint32_t i = 0; i < h->isstd + h->isut; i++)
		if (p[i] > 1)
			return bad(d, name, "%llu is %llu (want 0 or 1)", "standard/UT indicator", i, p[i]);
	return 0;
}

static void
free_arrays(struct tzfile *z)
{
	free(z->trans);
	free(z->idx);
	free(z->types);
	free(z->chars);
	z->trans = NULL, z->idx = NULL, z->types = NULL, z->chars = NULL;
}

void
tzfile_free(struct tzfile *z)
{
	if (z == NULL)
		return;
	free_arrays(z);
	free(z);
}

static int
read_footer(const unsigned char *p, size_t left, struct tzfile *z, const char *name,
	    struct diag *d)
{
	if (left < 2 || p[0] != '\n')
		return diag_set(d, DIAG_INVALID, "zone file %s: footer: missing (no newline after "
				"the data)", name);
	const unsigned char *nl = memchr(p + 1, '\n', left - 1);
	size_t n = nl ? (size_t)(nl - p - 1) : 0;
	if (nl == NULL || n >= TZ_FOOTER_MAX || memchr(p + 1, '\0', n) != NULL)
		return diag_set(d, DIAG_INVALID, "zone file %s: footer: not a line of text under "
				"%d bytes", name, TZ_FOOTER_MAX);
	memcpy(z->footer, p + 1, n);
	z->footer[n] = '\0';
	const char *why = NULL;
	if (n > 0 && tzfile_rule_parse(z->footer, &z->rule, &why) != 0)
		return diag_set(d, DIAG_INVALID, "zone file %s: footer: bad %s in \"%s\"", name, why,
				z->footer);
	return 0;
}

struct tzfile *
tzfile_parse(const unsigned char *buf, size_t len, const char *name, struct diag *d)
{
	struct tzfile *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory (zone file %s)", name);
		return NULL;
	}
	struct hdr h;
	size_t at = 0;
	if (read_header(buf, len, &h, name, d) != 0)
		goto fail;
	at = 44;
	uint64_t need = block_size(&h, 4);
	if (need > len - at) {
		bad(d, name, "needs %llu bytes, %llu left", "version 1 data block", need, len - at);
		goto fail;
	}
	if (h.ver == 0) {
		if (read_block(buf + at, &h, 4, z, name, d) != 0)
			goto fail;
		return z;
	}
	at += need;
	if (read_header(buf + at, len - at, &h, name, d) != 0)
		goto fail;
	at += 44;
	need = block_size(&h, 8);
	if (need > len - at) {
		bad(d, name, "needs %llu bytes, %llu left", "64-bit data block", need, len - at);
		goto fail;
	}
	if (read_block(buf + at, &h, 8, z, name, d) != 0 ||
	    read_footer(buf + at + need, len - at - need, z, name, d) != 0)
		goto fail;
	return z;
fail:
	tzfile_free(z);
	return NULL;
}

struct tzfile *
tzfile_from_rule(const char *rule, struct diag *d)
{
	struct tzfile *z = calloc(1, sizeof(*z));
	struct ttype *t = malloc(sizeof(*t));
	if (z == NULL || t == NULL) {
		free(z);
		free(t);
		diag_set(d, DIAG_NOMEM, "out of memory (zone rule)");
		return NULL;
	}
	z->types = t;
	z->ntypes = 1;
	const char *why = NULL;
	size_t n = strlen(rule);
	if (n >= TZ_FOOTER_MAX || tzfile_rule_parse(rule, &z->rule, &why) != 0) {
		diag_set(d, DIAG_INVALID, "zone rule \"%.*s\": bad %s", n < 80 ? (int)n : 80, rule,
			 why ? why : "length");
		tzfile_free(z);
		return NULL;
	}
	memcpy(z->footer, rule, n + 1);
	*t = (struct ttype){z->rule.std_off, 0, z->rule.std_name};
	return z;
}

void
tzfile_lookup(const struct tzfile *z, int64_t t, struct tzfile_info *out, int64_t *until)
{
	int64_t next = INT64_MAX;
	const struct ttype *ty;
	size_t n = z->ntrans;
	if (n == 0 || t >= z->trans[n - 1]) {
		if (z->rule.present) {
			int64_t u;
			tzfile_rule_eval(&z->rule, t, out, &u);
			if (until != NULL)
				*until = u;
			return;
		}
		ty = &z->types[n == 0 ? 0 : z->idx[n - 1]];
	} else if (t < z->trans[0]) {
		ty = &z->types[0];
		next = z->trans[0];
	} else {
		size_t lo = 0, hi = n - 1; /* trans[lo] <= t < trans[hi] */
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (z->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &z->types[z->idx[lo]];
		next = z->trans[hi];
	}
	*out = (struct tzfile_info){ty->utoff, ty->isdst, ty->abbr};
	if (until != NULL)
		*until = next;
}

size_t
tzfile_offsets(const struct tzfile *z, int32_t *out, size_t max)
{
	int32_t all[258];
	size_t n = 0;
	for (size_t i = 0; i < z->ntypes; i++)
		all[n++] = z->types[i].utoff;
	if (z->rule.present) {
		all[n++] = z->rule.std_off;
		if (z->rule.has_dst)
			all[n++] = z->rule.dst_off;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < k && out[j] != all[i])
			j++;
		if (j == k && k < max)
			out[k++] = all[i];
	}
	return k;
}

size_t
tzfile_transitions(const struct tzfile *z)
{
	return z->ntrans;
}

int64_t
tzfile_transition(const struct tzfile *z, size_t i)
{
	return z->trans[i];
}

const char *
tzfile_footer(const struct tzfile *z)
{
	return z->footer;
}

/* ---- names and the cache ------------------------------------------------------------ */

int
tzfile_name_safe(const char *z)
{
	size_t n = strlen(z);
	if (n == 0 || n >= TZ_NAME_MAX || z[0] < 'A' || z[0] > 'Z')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = z[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '/' || c == '_' || c == '+' || c == '-';
		if (!ok)
			return 0; /* no '.', so no ".." and no hidden files */
		if (c == '/' && (z[i + 1] == '/' || z[i + 1] == '\0'))
			return 0;
	}
	return 1;
}

struct entry {
	struct entry *next;
	struct tzfile *zone;
	char path[];
};

static struct entry *cache[CACHE_BUCKETS];
static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CACHE_BUCKETS;
}

static struct tzfile *
cache_find(unsigned b, const char *path)
{
	for (struct entry *e = cache[b]; e != NULL; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e->zone;
	return NULL;
}

/* Reads and parses path; NULL + diag. */
static struct tzfile *
load(const char *path, const char *name, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_set(d, errno == ENOENT || errno == ENOTDIR ? DIAG_NOTFOUND : DIAG_IO,
			 "zone file %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	unsigned char *buf = NULL;
	struct tzfile *z = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		diag_set(d, DIAG_INVALID, "zone file %s: not a regular file under 1 MiB", path);
		goto out;
	}
	size_t len = (size_t)st.st_size, got = 0;
	if ((buf = malloc(len ? len : 1)) == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory (zone file %s)", path);
		goto out;
	}
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			diag_set(d, DIAG_IO, "zone file %s: %s", path, r < 0 ? strerror(errno) :
				 "shorter than its size");
			goto out;
		}
		got += (size_t)r;
	}
	z = tzfile_parse(buf, len, name, d);
out:
	free(buf);
	close(fd);
	return z;
}

const struct tzfile *
tzfile_get(const char *name, struct diag *d)
{
	if (name == NULL || !tzfile_name_safe(name)) {
		diag_set(d, DIAG_INVALID, "unsafe time zone name '%s'", name ? name : "(null)");
		return NULL;
	}
	/* Nothing in the core sets the environment, so reading TZDIR here races nothing. */
	const char *dir = getenv("TZDIR");
	char path[512];
	/* A cut path could name another, real zone ("Europe/Par" of "Europe/Paris"): refuse. */
	int n = snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo",
			 name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		diag_set(d, DIAG_INVALID, "time zone path too long for '%s'", name);
		return NULL;
	}
	unsigned b = hash(path);
	pthread_rwlock_rdlock(&cache_lock);
	struct tzfile *z = cache_find(b, path);
	pthread_rwlock_unlock(&cache_lock);
	if (z != NULL)
		return z;

	struct tzfile *fresh = load(path, name, d);
	if (fresh == NULL)
		return NULL;
	struct entry *e = malloc(sizeof(*e) + (size_t)n + 1);
	if (e == NULL) {
		tzfile_free(fresh);
		diag_set(d, DIAG_NOMEM, "out of memory (zone cache)");
		return NULL;
	}
	memcpy(e->path, path, (size_t)n + 1);
	pthread_rwlock_wrlock(&cache_lock);
	if ((z = cache_find(b, path)) == NULL) { /* not loaded by another thread meanwhile */
		e->zone = z = fresh;
		e->next = cache[b];
		cache[b] = e;
		fresh = NULL, e = NULL;
	}
	pthread_rwlock_unlock(&cache_lock);
	tzfile_free(fresh);
	free(e);
	return z;
}

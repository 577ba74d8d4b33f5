/*
 * tzfile: tandem's own reader of compiled IANA time zones (TZif files, RFC 8536) and of
 * the POSIX TZ rule strings in their footers, with a process-wide cache of loaded zones.
 *
 * For: time/tz, which converts between UTC and a zone's wall time through it instead of
 * setting TZ and calling the C library (no environment, no global lock per conversion).
 *
 * Contract:
 *  - tzfile_parse reads a whole TZif image (versions 1 to 4; the 64-bit data block when
 *    the file has one) and checks every count, index and offset against the image's size
 *    before using it: a hostile or truncated file is refused with DIAG_INVALID naming the
 *    file and the field, never read past. Leap-second records are checked and skipped
 *    (the "right/" zones cannot be named: see tzfile_name_safe).
 *  - tzfile_from_rule makes a zone of a POSIX TZ string alone ("CET-1CEST,M3.5.0,
 *    M10.5.0/3"; std offset [dst [offset] [,start[/time],end[/time]]], Jn, n and Mm.w.d
 *    dates, RFC 8536's hours -167..167 in rule times, <+0330> quoted names).
 *  - tzfile_lookup answers for any instant as glibc's localtime_r does for the same file:
 *    before the first transition, type 0; from the last one on, the footer's rule when
 *    there is one (Debian's "slim" files stop their transitions at 2037 or earlier), else
 *    the last type. It also gives the instant up to which the answer holds, so callers
 *    can walk the pieces of a time range (local -> UTC does).
 *  - tzfile_get(name) loads TZDIR/name (TZDIR from the environment, else
 *    /usr/share/zoneinfo) once and keeps it for the life of the process: zones are
 *    immutable after loading, so the returned pointer (and every abbreviation it hands
 *    out) stays valid and may be used from any thread without a lock. The cache is keyed
 *    by the full path, so a changed TZDIR is noticed; a refused or missing file is not
 *    cached (a zone installed later is found). Unsafe names are refused before any I/O.
 *  - tzfile_name_safe(name): a relative IANA name starting with an uppercase letter,
 *    letters, digits and "/_+-" only, no empty component, under 64 bytes.
 */
#ifndef TANDEM_TZFILE_H
#define TANDEM_TZFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

struct tzfile;

/* What a zone says at an instant. abbr lives as long as the zone. */
struct tzfile_info {
	int32_t utoff; /* seconds east of UTC */
	int isdst;
	const char *abbr;
};

/* A parsed zone of a TZif image of len bytes; name is used in messages. NULL + diag. */
struct tzfile *tzfile_parse(const unsigned char *buf, size_t len, const char *name,
			    struct diag *d);
/* A zone made of a POSIX TZ rule string only. NULL + diag (DIAG_INVALID). */
struct tzfile *tzfile_from_rule(const char *rule, struct diag *d);
void tzfile_free(struct tzfile *z);

/* The zone's answer at t; *until (may be NULL) gets the first instant after t at which
 * the answer may change (INT64_MAX when never). */
void tzfile_lookup(const struct tzfile *z, int64_t t, struct tzfile_info *out, int64_t *until);

/* Every distinct UTC offset the zone uses (types and footer), at most max; the count. */
size_t tzfile_offsets(const struct tzfile *z, int32_t *out, size_t max);
/* The transitions of the file itself (not the footer's): count, and the i-th instant. */
size_t tzfile_transitions(const struct tzfile *z);
int64_t tzfile_transition(const struct tzfile *z, size_t i);
/* The footer's rule string ("" when none). */
const char *tzfile_footer(const struct tzfile *z);

int tzfile_name_safe(const char *name);
/* The cached zone of that name under TZDIR, loaded on first use. NULL + diag
 * (DIAG_INVALID for an unsafe name or a bad file, DIAG_NOTFOUND when there is no file). */
const struct tzfile *tzfile_get(const char *name, struct diag *d);

#endif

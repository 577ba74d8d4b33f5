/*
 * ical: the iCalendar writer. See ical.h.
 *
 * Memory rules of libical 3.0 followed here (service notes): *_new* gives us a
 * component or property to own; *_add_* hands it to the parent, which frees it with
 * itself; icaltimezone_get_component() returns the zone's own component, so it is cloned
 * before it is changed or added; text comes out through the _r functions (our buffer,
 * not libical's per-thread ring); zone names are ours, never icaltimezone_get_location()'s
 * (invalidated when libical loads the zone lazily).
 */
#include "time/ical.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "time/tz.h"
#include "time/tzfile.h"

enum { MAX_ZONES = 64, ZONE_MARGIN = 7 * 86400, ICAL_ZONES_MAX = 128 };

/* A truncated VTIMEZONE kept for windows inside one piece of its zone (ical.h, "Kept
 * zones"): made by libical for [lo, hi], with one observance. */
struct ical_zone_kept {
	char name[64];
	int64_t until; /* the piece's end (tzfile_lookup), which names the piece */
	time_t lo;     /* the window libical truncated to: its DTSTART is lo's wall time */
	icalcomponent *vtz;
};

struct ical_zones {
	struct ical_zone_kept v[ICAL_ZONES_MAX];
	size_t n, next; /* next: the slot a new zone replaces once all are used */
};

static int
is_utc(const char *zone)
{
	return zone == NULL || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

static int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
			: (*p & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
			return 0;
		uint32_t c = n == 0 ? *p : (uint32_t)(*p & (0x3f >> n));
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

static int
check_event(const struct ical_event *e, size_t i, struct diag *d)
{
	const char *uid = e->uid ? e->uid : "";
	if (uid[0] == '\0')
		return diag_set(d, DIAG_INVALID, "calendar event %zu: empty uid", i + 1);
	if (e->summary == NULL || e->summary[0] == '\0')
		return diag_set(d, DIAG_INVALID, "calendar event '%.100s': empty summary", uid);
	if (e->end <= e->start)
		return diag_set(d, DIAG_INVALID, "calendar event '%.100s': end is not after start", uid);
	const char *texts[] = {uid, e->summary, e->description, e->organizer};
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
		if (texts[k] && !utf8_valid(texts[k]))
			return diag_set(d, DIAG_INVALID, "calendar event '%.100s': text is not UTF-8",
					uid);
	for (size_t k = 0; k < e->nattendees; k++)
		if (e->attendees[k] == NULL || !utf8_valid(e->attendees[k]))
			return diag_set(d, DIAG_INVALID, "calendar event '%.100s': attendee %zu is "
					"missing or not UTF-8", uid, k + 1);
	if (!is_utc(e->zone) && tz_check(e->zone, d) != 0)
		return diag_prefix(d, "calendar event '%.100s'", uid);
	return 0;
}

static struct icaltimetype
utc_time(time_t t)
{
	return icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
}

/* 1 when the wall time *tm shown at t in the entered zone is shown at another instant
 * too (the repeated hour of an autumn change, either of the two instants). The other
 * instant has the offset in force two days before or after t (zones do not change twice
 * within two days), and shows the same wall time there. */
static int
wall_twice(const struct tz_switch *sw, time_t t, const struct tm *tm)
{
	time_t wall = t + tm->tm_gmtoff;
	for (int side = -1; side <= 1; side += 2) {
		struct tm o, back;
		struct diag ignore;
		if (tz_to_local(sw, t + side * 2 * 86400, &o, &ignore) != 0 ||
		    o.tm_gmtoff == tm->tm_gmtoff)
			continue;
		time_t other = wall - o.tm_gmtoff;
		if (tz_to_local(sw, other, &back, &ignore) == 0 && back.tm_gmtoff == o.tm_gmtoff &&
		    back.tm_hour == tm->tm_hour && back.tm_min == tm->tm_min &&
		    back.tm_sec == tm->tm_sec && back.tm_mday == tm->tm_mday)
			return 1;
	}
	return 0;
}

/* A DTSTART/DTEND property: wall time + TZID=zone, or UTC (no zone, or an ambiguous
 * wall time). NULL on failure. */
static icalproperty *
time_prop(int start, time_t t, const char *zone, struct diag *d)
{
	struct icaltimetype v;
	const char *tzid = NULL;
	if (is_utc(zone)) {
		v = utc_time(t);
	} else {
		struct tz_switch sw;
		struct tm tm;
		if (tz_enter(&sw, zone, d) != 0)
			return NULL;
		int rc = tz_to_local(&sw, t, &tm, d);
		int twice = rc == 0 && wall_twice(&sw, t, &tm);
		tz_leave(&sw);
		if (rc != 0)
			return NULL;
		if (twice) { /* either of two equal wall times: say it in UTC */
			v = utc_time(t);
		} else {
			v = icaltime_null_time();
			v.year = tm.tm_year + 1900;
			v.month = tm.tm_mon + 1;
			v.day = tm.tm_mday;
			v.hour = tm.tm_hour;
			v.minute = tm.tm_min;
			v.second = tm.tm_sec;
			v.is_date = 0;
			v.zone = NULL; /* floating + our TZID parameter: a plain IANA name */
			tzid = zone;
		}
	}
	icalproperty *p = start ? icalproperty_new_dtstart(v) : icalproperty_new_dtend(v);
	if (p == NULL) {
		diag_set(d, DIAG_NOMEM, "libical: cannot make DTSTART/DTEND");
		return NULL;
	}
	if (tzid != NULL) {
		icalparameter *par = icalparameter_new_tzid(tzid);
		if (par == NULL) {
			icalproperty_free(p);
			diag_set(d, DIAG_NOMEM, "libical: cannot make TZID");
			return NULL;
		}
		icalproperty_add_parameter(p, par);
	}
	return p;
}

/* Adds p to c; a NULL p (libical out of memory) fails. */
static int
add(icalcomponent *c, icalproperty *p, struct diag *d)
{
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "libical: out of memory");
	icalcomponent_add_property(c, p);
	return 0;
}

static icalproperty *
cal_address(int organizer, const char *who)
{
	size_t len = strlen(who) + 8;
	char *v = malloc(len);
	if (v == NULL)
		return NULL;
	snprintf(v, len, "%s%s", strchr(who, ':') ? "" : "mailto:", who);
	icalproperty *p = organizer ? icalproperty_new_organizer(v) : icalproperty_new_attendee(v);
	free(v);
	return p;
}

static int
add_event(icalcomponent *cal, const struct ical_event *e, struct diag *d)
{
	icalcomponent *ev = icalcomponent_new_vevent();
	if (ev == NULL)
		return diag_set(d, DIAG_NOMEM, "libical: out of memory");
	int rc = add(ev, icalproperty_new_uid(e->uid), d);
	if (!rc)
		rc = add(ev, icalproperty_new_dtstamp(utc_time(e->stamp ? e->stamp : e->start)), d);
	icalproperty *p;
	if (!rc) {
		p = time_prop(1, e->start, e->zone, d);
		rc = p ? add(ev, p, d) : -1;
	}
	if (!rc) {
		p = time_prop(0, e->end, e->zone, d);
		rc = p ? add(ev, p, d) : -1;
	}
	if (!rc)
		rc = add(ev, icalproperty_new_summary(e->summary), d);
	if (!rc && e->description != NULL)
		rc = add(ev, icalproperty_new_description(e->description), d);
	if (!rc)
		rc = add(ev, icalproperty_new_sequence(e->sequence), d);
	if (!rc)
		rc = add(ev, icalproperty_new_status(e->cancelled ? ICAL_STATUS_CANCELLED
								 : ICAL_STATUS_CONFIRMED), d);
	if (!rc && e->organizer != NULL)
		rc = add(ev, cal_address(1, e->organizer), d);
	for (size_t k = 0; !rc && k < e->nattendees; k++)
		rc = add(ev, cal_address(0, e->attendees[k]), d);
	if (rc) {
		icalcomponent_free(ev);
		return -1;
	}
	icalcomponent_add_component(cal, ev);
	return 0;
}

struct ical_zones *
ical_zones_new(void)
{
	return calloc(1, sizeof(struct ical_zones));
}

void
ical_zones_delete(struct ical_zones *zs)
{
	if (zs == NULL)
		return;
	for (size_t i = 0; i < zs->n; i++)
		icalcomponent_free(zs->v[i].vtz);
	free(zs);
}

/* The observance (STANDARD or DAYLIGHT) of a VTIMEZONE that has exactly one, else NULL. */
static icalcomponent *
only_observance(icalcomponent *vtz)
{
	icalcomponent *one = NULL;
	for (icalcomponent *c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		if (one != NULL)
			return NULL;
		one = c;
	}
	return one;
}

/* The piece of the zone [lo, hi] lies in: *until its end; 0 when the window is not inside
 * one piece with a margin of a second either side (a transition at or next to an end of
 * the window is left to libical). */
static int
zone_piece(const char *zone, time_t lo, time_t hi, int64_t *until)
{
	const struct tzfile *z = tzfile_get(zone, NULL);
	if (z == NULL)
		return 0;
	struct tzfile_info info;
	int64_t before = 0;
	tzfile_lookup(z, (int64_t)lo - 1, &info, &before);
	tzfile_lookup(z, (int64_t)lo, &info, until);
	return before > (int64_t)lo && (int64_t)hi + 1 < *until;
}

/* A kept zone's VTIMEZONE moved to [lo, hi]: the observance's DTSTART by lo's distance from
 * the kept window's (both in the same piece: the same offset), TZUNTIL hi. NULL when libical
 * has no memory or the kept one does not have that shape. */
static icalcomponent *
zone_moved(const struct ical_zone_kept *k, time_t lo, time_t hi)
{
	icalcomponent *vtz = icalcomponent_new_clone(k->vtz);
	icalcomponent *obs = vtz != NULL ? only_observance(vtz) : NULL;
	icalproperty *start = obs ? icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY)
				  : NULL;
	icalproperty *until = vtz ? icalcomponent_get_first_property(vtz, ICAL_TZUNTIL_PROPERTY)
				  : NULL;
	if (start == NULL || until == NULL) {
		if (vtz != NULL)
			icalcomponent_free(vtz);
		return NULL;
	}
	struct icaltimetype t = icalproperty_get_dtstart(start);
	icaltime_adjust(&t, 0, 0, 0, (int)(lo - k->lo));
	icalproperty_set_dtstart(start, t);
	icalproperty_set_tzuntil(until, utc_time(hi));
	return vtz;
}

/* Keeps a copy of vtz (truncated to [lo, hi], one observance) for the piece ending at until. */
static void
zone_keep(struct ical_zones *zs, const char *zone, int64_t until, time_t lo, icalcomponent *vtz)
{
	if (strlen(zone) >= sizeof(zs->v[0].name) || only_observance(vtz) == NULL ||
	    icalcomponent_get_first_property(vtz, ICAL_TZUNTIL_PROPERTY) == NULL)
		return;
	icalcomponent *copy = icalcomponent_new_clone(vtz);
	if (copy == NULL)
		return;
	struct ical_zone_kept *k = NULL;
	for (size_t i = 0; i < zs->n && k == NULL; i++)
		if (strcmp(zs->v[i].name, zone) == 0)
			k = &zs->v[i];
	if (k == NULL && zs->n < ICAL_ZONES_MAX)
		k = &zs->v[zs->n++];
	if (k == NULL) {
		k = &zs->v[zs->next];
		zs->next = (zs->next + 1) % ICAL_ZONES_MAX;
	}
	if (k->vtz != NULL)
		icalcomponent_free(k->vtz);
	snprintf(k->name, sizeof(k->name), "%s", zone);
	k->until = until;
	k->lo = lo;
	k->vtz = copy;
}

/* The zone's VTIMEZONE, cloned, truncated to [lo, hi] and named by its plain IANA name;
 * through zs when it has the zone's piece (and kept there for the next window). */
static int
add_zone(icalcomponent *cal, const char *zone, time_t lo, time_t hi, struct ical_zones *zs,
	 struct diag *d)
{
	int64_t piece = 0;
	int same = zs != NULL && zone_piece(zone, lo, hi, &piece);
	icalcomponent *vtz = NULL;
	for (size_t i = 0; same && vtz == NULL && i < zs->n; i++)
		if (zs->v[i].until == piece && strcmp(zs->v[i].name, zone) == 0)
			vtz = zone_moved(&zs->v[i], lo, hi);
	if (vtz == NULL) {
		icaltimezone *z = icaltimezone_get_builtin_timezone(zone);
		icalcomponent *own = z ? icaltimezone_get_component(z) : NULL;
		if (own == NULL)
			return diag_set(d, DIAG_INVALID, "time zone '%s' is unknown to libical", zone);
		vtz = icalcomponent_new_clone(own);
		if (vtz == NULL)
			return diag_set(d, DIAG_NOMEM, "libical: out of memory (VTIMEZONE)");
		icaltimezone_truncate_vtimezone(vtz, utc_time(lo), utc_time(hi), 0);
		if (same)
			zone_keep(zs, zone, piece, lo, vtz);
	}
	icalproperty *tzid = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	if (tzid == NULL) {
		icalcomponent_free(vtz);
		return diag_set(d, DIAG_INTERNAL, "libical's VTIMEZONE of '%s' has no TZID", zone);
	}
	icalproperty_set_tzid(tzid, zone);
	icalcomponent_add_component(cal, vtz);
	return 0;
}

static int
add_zones(icalcomponent *cal, const struct ical_event *ev, size_t n, struct ical_zones *zs,
	  struct diag *d)
{
	const char *zones[MAX_ZONES];
	time_t lo[MAX_ZONES], hi[MAX_ZONES];
	size_t nz = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_utc(ev[i].zone))
			continue;
		size_t k = 0;
		while (k < nz && strcmp(zones[k], ev[i].zone) != 0)
			k++;
		if (k == nz) {
			if (nz == MAX_ZONES)
				return diag_set(d, DIAG_INVALID, "a calendar with more than %d time "
						"zones", MAX_ZONES);
			zones[nz] = ev[i].zone;
			lo[nz] = ev[i].start;
			hi[nz] = ev[i].end;
			nz++;
		}
		if (ev[i].start < lo[k])
			lo[k] = ev[i].start;
		if (ev[i].end > hi[k])
			hi[k] = ev[i].end;
	}
	for (size_t k = 0; k < nz; k++)
		if (add_zone(cal, zones[k], lo[k] - ZONE_MARGIN, hi[k] + ZONE_MARGIN, zs, d) != 0)
			return -1;
	return 0;
}

int
ical_write(struct buf *out, const char *method, const struct ical_event *ev, size_t n,
	   struct diag *d)
{
	return ical_write_with(out, method, ev, n, NULL, d);
}

int
ical_write_with(struct buf *out, const char *method, const struct ical_event *ev, size_t n,
		struct ical_zones *zs, struct diag *d)
{
	icalproperty_method m;
	if (method != NULL && strcmp(method, "PUBLISH") == 0)
		m = ICAL_METHOD_PUBLISH;
	else if (method != NULL && strcmp(method, "REQUEST") == 0)
		m = ICAL_METHOD_REQUEST;
	else if (method != NULL && strcmp(method, "CANCEL") == 0)
		m = ICAL_METHOD_CANCEL;
	else
		return diag_set(d, DIAG_INVALID, "calendar method '%s' (want PUBLISH, REQUEST or "
				"CANCEL)", method ? method : "(none)");
	for (size_t i = 0; i < n; i++)
		if (check_event(&ev[i], i, d) != 0)
			return -1;
	icalcomponent *cal = icalcomponent_new_vcalendar();
	if (cal == NULL)
		return diag_set(d, DIAG_NOMEM, "libical: out of memory");
	int rc = add(cal, icalproperty_new_version("2.0"), d);
	if (!rc)
		rc = add(cal, icalproperty_new_prodid("-//tandem//tandem//EN"), d);
	if (!rc)
		rc = add(cal, icalproperty_new_method(m), d);
	if (!rc)
		rc = add_zones(cal, ev, n, zs, d);
	for (size_t i = 0; !rc && i < n; i++)
		rc = add_event(cal, &ev[i], d);
	char *text = NULL;
	if (!rc && (text = icalcomponent_as_ical_string_r(cal)) == NULL)
		rc = diag_set(d, DIAG_NOMEM, "libical: cannot write the calendar");
	if (!rc)
		rc = buf_puts(out, text, d);
	if (text != NULL)
		icalmemory_free_buffer(text);
	icalcomponent_free(cal);
	icalerror_clear_errno();
	return rc;
}

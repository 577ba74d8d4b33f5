/*
 * tz: IANA zone names and conversions between UTC and a zone's wall time. See tz.h for
 * the contract.
 *
 * Zones come from time/tzfile (tandem's own TZif reader and its process-wide cache), so
 * nothing here touches the environment: no setenv("TZ"), no tzset, no localtime_r, and
 * no lock is held while converting. struct tm is filled as localtime_r fills it, tm_zone
 * pointing at the cached zone's abbreviation. Local wall times are mapped back to
 * instants by resolve_local(), which walks the zone's pieces (spans of one answer)
 * around the wall time.
 */
#include "time/tz.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/cal.h"
#include "time/tzfile.h"

/* Instants beyond +-2^55 s (a billion years) are refused: their year would not fit tm_year. */
#define TZ_T_LIMIT ((int64_t)1 << 55)

int
tz_valid(const char *zone)
{
	return zone != NULL && tzfile_get(zone, NULL) != NULL;
}

int
tz_date_valid(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= cal_days_in_month(y, m);
}

/* ---- conversions ------------------------------------------------------------------ */

static int
tz_is_utc(const char *zone)
{
	return zone == NULL || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

static int
tz_unknown(const char *zone, struct diag *d)
{
	return diag_set(d, DIAG_INVALID, "unknown time zone '%s' (want an IANA name like "
			"\"Europe/Paris\")", zone);
}

int
tz_check(const char *zone, struct diag *d)
{
	if (tz_is_utc(zone) || tz_valid(zone))
		return 0;
	return tz_unknown(zone, d);
}

int
tz_enter(struct tz_switch *sw, const char *zone, struct diag *d)
{
	sw->zone = NULL;
	sw->tzf = NULL;
	if (tz_is_utc(zone))
		return 0;
	const struct tzfile *z = tzfile_get(zone, NULL);
	if (z == NULL)
		return tz_unknown(zone, d);
	sw->zone = zone;
	sw->tzf = z;
	return 0;
}

void
tz_leave(struct tz_switch *sw)
{
	sw->zone = NULL;
	sw->tzf = NULL;
}

/*
 * The instant showing wall time u (wall seconds since the epoch) in zone z. Offsets are
 * within +-26 h, so every instant that can show u lies in [u - 26 h, u + 26 h]; the walk
 * goes through the zone's pieces there in order. The first piece holding its candidate
 * u - offset is the earliest instant (the repeated hour: the earlier one). None (a gap):
 * the offset before the gap, which moves the wall time forward by the gap's length.
 */
static int64_t
resolve_local(const struct tzfile *z, int64_t u)
{
	const int64_t span = 26 * 3600;
	int64_t t = u - span, gap = INT64_MIN;
	int32_t prev = 0;
	int first = 1;
	for (;;) {
		struct tzfile_info in;
		int64_t until;
		tzfile_lookup(z, t, &in, &until);
		int64_t c = u - in.utoff;
		if (c >= t && c < until)
			return c;
		/* t starts a piece: a gap [t + prev, t + utoff) in wall time when the offset grew. */
		if (!first && gap == INT64_MIN && in.utoff > prev && u >= t + prev &&
		    u < t + in.utoff)
			gap = u - prev;
		first = 0;
		prev = in.utoff;
		if (until == INT64_MAX || until > u + span)
			break;
		t = until;
	}
	if (gap != INT64_MIN)
		return gap;
	struct tzfile_info in;
	tzfile_lookup(z, u, &in, NULL);
	return u - in.utoff;
}

int
tz_to_local(const struct tz_switch *sw, time_t t, struct tm *out, struct diag *d)
{
	if ((int64_t)t > TZ_T_LIMIT || (int64_t)t < -TZ_T_LIMIT)
		return diag_set(d, DIAG_INVALID, "time %lld is out of range in %s", (long long)t,
				sw->zone ? sw->zone : "UTC");
	struct tzfile_info in = {0, 0, "UTC"};
	if (sw->tzf != NULL)
		tzfile_lookup(sw->tzf, t, &in, NULL);
	int64_t s = (int64_t)t + in.utoff;
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	struct cal_time w;
	cal_from_epoch(s, &w);
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(w.year - 1900);
	out->tm_mon = w.mon - 1;
	out->tm_mday = w.day;
	out->tm_hour = w.hour;
	out->tm_min = w.min;
	out->tm_sec = w.sec;
	out->tm_wday = cal_weekday(days) % 7;
	out->tm_yday = (int)(days - cal_days_from_civil(w.year, 1, 1));
	out->tm_isdst = in.isdst;
	out->tm_gmtoff = in.utoff;
	out->tm_zone = in.abbr;
	return 0;
}

time_t
tz_to_utc(const struct tz_switch *sw, const struct tm *local)
{
	/* Months carry into years first: the day count wants a month of 1-12. */
	int64_t months = (int64_t)local->tm_year * 12 + local->tm_mon;
	int64_t years = months >= 0 ? months / 12 : -((-months + 11) / 12);
	struct cal_time w = {
		.year = years + 1900,
		.mon = (int)(months - years * 12) + 1,
		.day = local->tm_mday,
		.hour = local->tm_hour,
		.min = local->tm_min,
		.sec = local->tm_sec,
	};
	int64_t u = cal_to_epoch(&w);
	return (time_t)(sw->tzf == NULL ? u : resolve_local(sw->tzf, u));
}

int
tz_utc_to_local(const char *zone, time_t t, struct tm *out, struct diag *d)
{
	struct tz_switch sw;
	if (tz_enter(&sw, zone, d) != 0)
		return -1;
	int rc = tz_to_local(&sw, t, out, d);
	tz_leave(&sw);
	return rc;
}

int
tz_local_to_utc(const char *zone, const struct tm *local, time_t *out, struct diag *d)
{
	struct tz_switch sw;
	if (tz_enter(&sw, zone, d) != 0)
		return -1;
	*out = tz_to_utc(&sw, local);
	tz_leave(&sw);
	return 0;
}

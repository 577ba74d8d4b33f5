/*
 * tz: IANA zone names and the one zone switch. See tz.h for the contract.
 *
 * glibc converts between UTC and a zone's wall time only for the zone named by the
 * TZ environment variable, so converting in an arbitrary zone means setting TZ,
 * calling tzset and localtime_r, and putting TZ back. The environment is shared by
 * the whole process: the switch is made here and nowhere else, under tz_lock.
 * Local wall times are mapped back to instants by resolve_local(), which reads only
 * offsets (localtime_r) and does not rely on mktime's handling of gaps and overlaps.
 */
#include "time/tz.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "time/cal.h"

enum { TZ_NAME_MAX = 64 };

/* Only names that cannot escape the zoneinfo folder are looked up. */
static int
tz_name_safe(const char *z)
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

static int
tz_file_is_tzif(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	/* A cut path could name another, real zone ("Europe/Par" of "Europe/Paris"): refuse. */
	int n = snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo",
			 zone);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char magic[4];
	/* A directory opens fine on Linux but fails to read: not a zone. */
	int ok = read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Caller holds tz_lock: getenv("TZDIR") must not race another thread's setenv("TZ"). */
static int
tz_valid_locked(const char *zone)
{
	return zone != NULL && tz_name_safe(zone) && tz_file_is_tzif(zone);
}

int
tz_valid(const char *zone)
{
	pthread_mutex_lock(&tz_lock);
	int ok = tz_valid_locked(zone);
	pthread_mutex_unlock(&tz_lock);
	return ok;
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

/* ---- the zone switch ------------------------------------------------------------ */

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
	sw->saved = NULL;
	if (tz_is_utc(zone))
		return 0;
	char tz[TZ_NAME_MAX + 2];
	/* ':' asks for the zone file itself, never a POSIX rule string parsed from the name. */
	snprintf(tz, sizeof(tz), ":%s", zone);
	pthread_mutex_lock(&tz_lock);
	if (!tz_valid_locked(zone)) {
		pthread_mutex_unlock(&tz_lock);
		return tz_unknown(zone, d);
	}
	const char *old = getenv("TZ");
	if (old != NULL && (sw->saved = strdup(old)) == NULL) {
		pthread_mutex_unlock(&tz_lock);
		return diag_set(d, DIAG_NOMEM, "out of memory (saving TZ)");
	}
	if (setenv("TZ", tz, 1) != 0) {
		free(sw->saved);
		sw->saved = NULL;
		pthread_mutex_unlock(&tz_lock);
		return diag_set(d, DIAG_NOMEM, "cannot set TZ to '%s'", zone);
	}
	tzset();
	sw->zone = zone;
	return 0;
}

void
tz_leave(struct tz_switch *sw)
{
	if (sw->zone == NULL)
		return;
	if (sw->saved != NULL)
		setenv("TZ", sw->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sw->saved);
	sw->saved = NULL;
	sw->zone = NULL;
	pthread_mutex_unlock(&tz_lock);
}

/* UTC offset (seconds east) at instant t in the entered zone; 0 if t is out of range. */
static long
offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The instant showing wall time w in the entered zone. Transitions are at least
 * days apart, so the offsets a day before and a day after cover both sides of
 * any transition near w. Both valid (the repeated hour): take the earlier. None
 * valid (a gap): use the offset before the gap, which moves the wall time
 * forward by the gap's length.
 */
static int64_t
resolve_local(const struct cal_time *w)
{
	int64_t u = cal_to_epoch(w);
	long before = offset_at(u - 86400), after = offset_at(u + 86400);
	int64_t t1 = u - before, t2 = u - after;
	int ok1 = offset_at(t1) == before, ok2 = offset_at(t2) == after;
	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok1)
		return t1;
	if (ok2)
		return t2;
	return t1;
}

int
tz_to_local(const struct tz_switch *sw, time_t t, struct tm *out, struct diag *d)
{
	if (sw->zone == NULL ? gmtime_r(&t, out) == NULL : localtime_r(&t, out) == NULL)
		return diag_set(d, DIAG_INVALID, "time %lld is out of range in %s", (long long)t,
				sw->zone ? sw->zone : "UTC");
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
	return (time_t)(sw->zone == NULL ? cal_to_epoch(&w) : resolve_local(&w));
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

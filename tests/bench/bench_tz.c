/*
 * bench_tz: conversions per second of time/tz (through time/tzfile's cached zones) against
 * the mechanism it replaced, rebuilt here as the reference and measured in the same run:
 * check the zone file (open + 4-byte read), setenv("TZ", ":zone") + tzset + localtime_r,
 * then put TZ back + tzset, all under a mutex. Three cases, each the median of 5 runs:
 *   utc->local   tz_utc_to_local, one call per conversion (the old: one switch each);
 *   local->utc   tz_local_to_utc (the old: one switch and four localtime_r each);
 *   session      tz_enter once, tz_to_local per conversion (the old: one switch, then
 *                localtime_r per conversion).
 * Zones cycle through 8 real ones; instants walk 2026 in steps of 7 h 13 min.
 * Usage: bench_tz [N]   (default 200000 conversions per run)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "time/tz.h"

static const char *const zones[] = {"Europe/Paris",	"America/New_York", "Asia/Kolkata",
				    "Australia/Sydney", "America/Sao_Paulo", "Asia/Tokyo",
				    "Europe/London",	"Africa/Casablanca"};
enum { NZ = 8, RUNS = 5 };

static pthread_mutex_t old_lock = PTHREAD_MUTEX_INITIALIZER;

static void
old_enter(const char *zone)
{
	char path[256], tz[80], magic[4];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	pthread_mutex_lock(&old_lock);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, magic, 4) != 4)
		abort();
	close(fd);
	snprintf(tz, sizeof(tz), ":%s", zone);
	setenv("TZ", tz, 1);
	tzset();
}

static void
old_leave(void)
{
	unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&old_lock);
}

static long
old_off(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile long sink;

/* One run of case c (0-2), old (1) or new (0); seconds. */
static double
run(int c, int old, long n)
{
	struct diag d;
	struct tm tm;
	long acc = 0;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		const char *z = zones[c == 2 ? i / 1000 % NZ : i % NZ];
		time_t t = 1767225600 + (time_t)(i % 1200) * (7 * 3600 + 13 * 60);
		if (c == 0 && old) {
			old_enter(z);
			localtime_r(&t, &tm);
			old_leave();
		} else if (c == 0) {
			tz_utc_to_local(z, t, &tm, &d);
		} else if (c == 1 && old) {
			old_enter(z);
			long b = old_off(t - 86400), a = old_off(t + 86400);
			acc += old_off(t - b) + old_off(t - a);
			old_leave();
			tm.tm_gmtoff = b;
		} else if (c == 1) {
			gmtime_r(&t, &tm);
			time_t u;
			tz_local_to_utc(z, &tm, &u, &d);
			acc += u;
		} else {
			/* A session of 1000 conversions per zone. */
			static struct tz_switch sw;
			if (i % 1000 == 0) {
				if (old) {
					if (i > 0)
						old_leave();
					old_enter(z);
				} else {
					tz_enter(&sw, z, &d);
				}
			}
			if (old)
				localtime_r(&t, &tm);
			else
				tz_to_local(&sw, t, &tm, &d);
			if (i == n - 1 && old)
				old_leave();
		}
		acc += tm.tm_gmtoff;
	}
	sink = acc;
	return now() - t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	const char *names[] = {"utc->local", "local->utc", "session"};
	for (int c = 0; c < 3; c++) {
		double o[RUNS], m[RUNS];
		for (int r = 0; r < RUNS; r++) {
			o[r] = run(c, 1, n / (c == 2 ? 1 : 10)); /* the old path is slow: fewer */
			m[r] = run(c, 0, n);
		}
		qsort(o, RUNS, sizeof(double), cmp);
		qsort(m, RUNS, sizeof(double), cmp);
		double ro = (double)(n / (c == 2 ? 1 : 10)) / o[RUNS / 2], rm = (double)n / m[RUNS / 2];
		printf("bench_tz %-10s tzfile %10.0f conv/s, setenv(\"TZ\") %10.0f conv/s, ratio %.1f\n",
		       names[c], rm, ro, rm / ro);
	}
	return 0;
}

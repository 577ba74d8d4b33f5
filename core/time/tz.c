/*
 * tz: IANA zone names. See tz.h for the contract.
 *
 * An import asks about the same few dozen zones a hundred thousand times, so answers
 * are kept in a fixed open-addressing table: no allocation, and a full table simply
 * stops caching (every question still gets a right answer, only slower).
 */
#include "time/tz.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TZ_NAME_MAX = 64, TZ_SLOTS = 1024 };

struct tz_slot {
	char name[TZ_NAME_MAX]; /* "" = empty slot */
	int valid;
};

/* The process-wide cache: the one piece of shared state, always touched under tz_lock. */
static struct tz_slot tz_cache[TZ_SLOTS];
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t
tz_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

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
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	char magic[4];
	/* A directory opens fine on Linux but fails to read: not a zone. */
	int ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

int
tz_valid(const char *zone)
{
	if (zone == NULL || !tz_name_safe(zone))
		return 0;
	uint32_t h = tz_hash(zone);
	pthread_mutex_lock(&tz_lock);
	struct tz_slot *free_slot = NULL;
	for (uint32_t i = 0; i < TZ_SLOTS; i++) {
		struct tz_slot *s = &tz_cache[(h + i) % TZ_SLOTS];
		if (s->name[0] == '\0') {
			free_slot = s;
			break;
		}
		if (strcmp(s->name, zone) == 0) {
			int v = s->valid;
			pthread_mutex_unlock(&tz_lock);
			return v;
		}
	}
	pthread_mutex_unlock(&tz_lock);

	int valid = tz_file_is_tzif(zone);

	pthread_mutex_lock(&tz_lock);
	/* Another thread may have filled the slot meanwhile; both answers are equal, keep either. */
	if (free_slot != NULL && free_slot->name[0] == '\0') {
		snprintf(free_slot->name, sizeof(free_slot->name), "%s", zone);
		free_slot->valid = valid;
	}
	pthread_mutex_unlock(&tz_lock);
	return valid;
}

void
tz_cache_clear(void)
{
	pthread_mutex_lock(&tz_lock);
	memset(tz_cache, 0, sizeof(tz_cache));
	pthread_mutex_unlock(&tz_lock);
}

static int
tz_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tz_date_valid(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && tz_leap(y));
}

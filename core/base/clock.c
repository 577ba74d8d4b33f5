/*
 * clock: real and virtual time. See clock.h for the contract.
 */
#include "base/clock.h"

static const struct clock clock_system = {.kind = CLOCK_KIND_REAL};

const struct clock *
clock_real(void)
{
	return &clock_system;
}

void
clock_virtual_init(struct clock *c, time_t start)
{
	c->kind = CLOCK_KIND_VIRTUAL;
	c->wall_ms = (int64_t)start * 1000;
	c->mono_ms = 0;
}

void
clock_virtual_set(struct clock *c, time_t now)
{
	c->wall_ms = (int64_t)now * 1000;
}

void
clock_virtual_advance(struct clock *c, int64_t ms)
{
	if (ms < 0)
		return; /* monotonic: time never runs backwards */
	c->wall_ms += ms;
	c->mono_ms += ms;
}

time_t
clock_now(const struct clock *c)
{
	if (c != NULL && c->kind == CLOCK_KIND_VIRTUAL) {
		int64_t s = c->wall_ms / 1000;
		return (time_t)(c->wall_ms % 1000 < 0 ? s - 1 : s); /* floor, before 1970 too */
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int64_t
clock_mono_ms(const struct clock *c)
{
	if (c != NULL && c->kind == CLOCK_KIND_VIRTUAL)
		return c->mono_ms;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
clock_format_utc(time_t t, char buf[CLOCK_UTC_MAX])
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, CLOCK_UTC_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

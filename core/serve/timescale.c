/*
 * serve/timescale: a real clock, or a virtual one N times faster (see timescale.h).
 *
 * The virtual wall time is computed from the real MONOTONIC elapsed time since
 * init, not from the real wall clock read at each tick: a system clock stepped by
 * NTP while the service runs would otherwise move the virtual clock backwards.
 * The origin only places the timeline; the elapsed part since init is monotonic.
 */
#include "serve/timescale.h"

#include <math.h>

static int64_t
real_wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
timescale_init(struct timescale *ts, double scale, time_t origin)
{
	ts->scale = scale > 1 ? scale : 1;
	ts->real0_ms = real_wall_ms();
	ts->mono0_ms = clock_mono_ms(NULL);
	ts->origin_ms = origin > 0 ? (int64_t)origin * 1000 : ts->real0_ms;
	clock_virtual_init(&ts->virt, (time_t)(ts->real0_ms / 1000));
	timescale_tick(ts);
}

void
timescale_tick(struct timescale *ts)
{
	if (ts->scale <= 1)
		return;
	int64_t elapsed = clock_mono_ms(NULL) - ts->mono0_ms;
	/* Real time since the origin at init, plus what passed since, both scaled. */
	double since_origin = (double)(ts->real0_ms - ts->origin_ms) + (double)elapsed;
	ts->virt.wall_ms = ts->origin_ms + (int64_t)(since_origin * ts->scale);
	ts->virt.mono_ms = (int64_t)((double)elapsed * ts->scale);
}

const struct clock *
timescale_clock(const struct timescale *ts)
{
	return ts->scale > 1 ? &ts->virt : clock_real();
}

time_t
timescale_now(const struct timescale *ts)
{
	return clock_now(timescale_clock(ts));
}

int64_t
timescale_now_ms(const struct timescale *ts)
{
	return ts->scale > 1 ? ts->virt.wall_ms : real_wall_ms();
}

uint64_t
timescale_delay_ms(const struct timescale *ts, time_t due)
{
	double ahead = (double)due * 1000.0 - (double)timescale_now_ms(ts);
	if (ahead <= 0)
		return 0;
	return (uint64_t)ceil(ahead / ts->scale);
}

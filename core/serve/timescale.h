/*
 * serve/timescale: the service's clock, real or running N times faster than real
 * time (`tandem serve --time-scale N`).
 *
 * For: serve_run and the tests. A consultant watches weeks of scheduling in
 * minutes, and the kill test drives days of jobs and reminders through a service
 * killed and restarted hundreds of times, on the same code as production: the
 * store, the scheduler and the outbox read this clock (store_set_clock), and the
 * loop turns "due at virtual T" into a real timer delay.
 *
 * Contract:
 *  - scale 1 (or less than 1: refused by the CLI) is the real clock: timescale_clock()
 *    returns clock_real(), so a changed system clock is followed at the next wake.
 *  - scale N > 1 is a virtual base/clock whose wall time is
 *        origin + (real now - origin) x N            (all in milliseconds)
 *    where origin is a real wall time: the real now at timescale_init, or the one the
 *    caller gives (`--time-from`), so a service restarted with the same origin and
 *    scale continues the same virtual timeline instead of starting again from the
 *    real now. The virtual clock moves only when timescale_tick() is called (the loop
 *    calls it before each step and each delay computation): readers in between see
 *    one consistent now. Its monotonic time is the real monotonic time x N.
 *  - timescale_delay_ms(due) is the real milliseconds until the clock reads `due`
 *    (0 when it is already past), rounded up so a timer never fires early.
 *  - One owner (the loop thread).
 */
#ifndef TANDEM_SERVE_TIMESCALE_H
#define TANDEM_SERVE_TIMESCALE_H

#include <stdint.h>
#include <time.h>

#include "base/clock.h"

struct timescale {
	double scale;
	int64_t origin_ms;    /* real wall time the virtual timeline is anchored at */
	int64_t real0_ms;     /* real wall time read at init */
	int64_t mono0_ms;     /* real monotonic time read at init */
	struct clock virt;    /* the virtual clock (scale > 1) */
};

/* origin: real UTC seconds to anchor at, or 0 for the real now. */
void timescale_init(struct timescale *ts, double scale, time_t origin);

/* Moves a virtual clock to the real time now; nothing for a real one. */
void timescale_tick(struct timescale *ts);

/* The clock to hand to the store and the scheduler. */
const struct clock *timescale_clock(const struct timescale *ts);

/* Now on the service's clock, in seconds and in milliseconds. */
time_t timescale_now(const struct timescale *ts);
int64_t timescale_now_ms(const struct timescale *ts);

/* Real milliseconds until the clock reaches `due` (UTC seconds); 0 when due has passed. */
uint64_t timescale_delay_ms(const struct timescale *ts, time_t due);

#endif

/*
 * clock: the one source of time of the core, real or virtual, injected per context.
 *
 * For: stamping rows and events (store), deadlines and intervals (workers, the
 * scheduler), and `tandem simulate` and the tests, which run months in seconds on
 * the same code by handing a virtual clock where the real one would go.
 *
 * Contract:
 *  - clock_now(c) is UTC seconds since the epoch; clock_mono_ms(c) is monotonic
 *    milliseconds from an arbitrary origin, for intervals only (never stored).
 *  - c == NULL and clock_real() both read the system: CLOCK_REALTIME and
 *    CLOCK_MONOTONIC. clock_real() is a shared, immutable value, safe from any thread.
 *  - A virtual clock reads what it was set to. clock_virtual_init(c, start) sets the
 *    wall time to start and the monotonic time to 0; clock_virtual_advance(c, ms)
 *    moves both forward together (wall time in whole seconds: the milliseconds carry);
 *    clock_virtual_set(c, t) jumps the wall time only (as a changed system clock
 *    would), never the monotonic time. Its owner changes it; readers on other
 *    threads need the owner's lock.
 *  - clock_format_utc writes ISO 8601 UTC ("2026-11-22T14:00:00Z") into
 *    buf[CLOCK_UTC_MAX]: 0, or -1 (and "") when the time cannot be written.
 */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <stdint.h>
#include <time.h>

enum clock_kind { CLOCK_KIND_REAL, CLOCK_KIND_VIRTUAL };

enum { CLOCK_UTC_MAX = 32 };

struct clock {
	enum clock_kind kind;
	int64_t wall_ms; /* virtual: UTC milliseconds since the epoch */
	int64_t mono_ms; /* virtual: monotonic milliseconds */
};

const struct clock *clock_real(void);

void clock_virtual_init(struct clock *c, time_t start);
void clock_virtual_set(struct clock *c, time_t now);
void clock_virtual_advance(struct clock *c, int64_t ms);

time_t clock_now(const struct clock *c);
int64_t clock_mono_ms(const struct clock *c);

int clock_format_utc(time_t t, char buf[CLOCK_UTC_MAX]);

#endif

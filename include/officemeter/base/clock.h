/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.h - the two clocks every part reads.
 *
 * The wall clock (CLOCK_REALTIME, ms since the Unix epoch, UTC) stamps
 * readings and records; the monotonic clock (CLOCK_MONOTONIC) measures
 * waits, timeouts and schedules, so a step of the wall clock (NTP at boot,
 * an administrator) never stretches or squeezes a wait. The agent puts a
 * simulated wall clock in front of this one (agent/clock.h).
 */
#ifndef OFFICEMETER_BASE_CLOCK_H
#define OFFICEMETER_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall clock: ms since 1970-01-01T00:00:00Z. */
int64_t om_wall_ms(void);
/* Monotonic clock, ms and µs from an arbitrary origin (the same origin for
 * every process of a host). */
int64_t om_mono_ms(void);
int64_t om_mono_us(void);
/* `ms` from now on clock `id`, as an absolute timespec (for timed waits). */
struct timespec om_deadline_after(clockid_t id, int64_t ms);

#endif

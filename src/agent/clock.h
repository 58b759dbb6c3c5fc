/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.h - the agent's two clocks, and whether the wall clock can be trusted.
 *
 * Readings are stamped with the wall clock (ms UTC); schedules, timeouts
 * and pacing use the monotonic clock, so a clock step never stretches or
 * squeezes a wait. A gateway without a battery-backed clock boots in 1970
 * (or at its image's build date) until NTP answers: a wall clock earlier
 * than this program's build date is certainly wrong, and readings stamped
 * with it would land decades away from where they belong.
 */
#ifndef OM_AGENT_CLOCK_H
#define OM_AGENT_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads the simulator's clock file (officemeter sim --clock-file) and makes
 * the wall clock simulated from now on. Call before any thread starts.
 * Returns 0, or -1 with the reason in err. */
int om_clock_use_sim(const char *path, char *err, size_t errlen);
bool om_clock_simulated(void);

int64_t om_clock_wall_ms(void);
/* The CLOCK_REALTIME instant (µs precision) at which om_clock_wall_ms
 * reaches wall_ms, for pthread_cond_timedwait. */
struct timespec om_clock_system_deadline(int64_t wall_ms);
/* Waits on `cond` (a CLOCK_REALTIME condition variable, its mutex `lock`
 * not held) until the wall clock reaches tick_ms or *stop is set under the
 * lock. With an absolute CLOCK_REALTIME deadline the kernel moves the
 * wake-up with the clock if it is set (NTP at boot), and the thread wakes
 * once per tick instead of polling the clock; a deadline that passes with
 * the wall clock still short of the tick (rounding, or a simulated clock
 * whose real deadline is computed anew) is waited for again. Returns false
 * when asked to stop. */
bool om_clock_wait_tick(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *stop,
                        int64_t tick_ms);

/* The build date in ms UTC (OM_BUILD_EPOCH, seconds, set by CMake);
 * INT64_MIN under the simulated clock. */
int64_t om_clock_build_ms(void);
/* True when wall_ms is not before build_ms. */
bool om_clock_plausible(int64_t wall_ms, int64_t build_ms);

/* Sleep until the monotonic clock reaches until_us (returns at once when it
 * has). Used for the RTU inter-frame silence, so it must be precise. */
void om_clock_sleep_until_us(int64_t until_us);

#endif

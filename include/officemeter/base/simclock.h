/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simclock.h - simulated time: start + monotonic elapsed x speed.
 *
 * The wall clock only picks the default start; elapsed time comes from the
 * monotonic clock so that a clock step on the host never makes simulated
 * counters jump. Speed 0 freezes time (tests compare values exactly).
 *
 * CLOCK_MONOTONIC is one clock for every process of a host, so another
 * process (an agent in a demo) that knows start, speed and the origin can
 * compute the very same simulated time: om_sim_clock_write publishes them,
 * and the agent's --sim-clock reads them into an om_sim_clock of its own.
 */
#ifndef OFFICEMETER_BASE_SIMCLOCK_H
#define OFFICEMETER_BASE_SIMCLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t start_ms;
    double speed;
    int64_t origin_mono_us;
} om_sim_clock;

/* Starts simulated time at start_ms: it stands there for delay_s real
 * seconds (0: none), then advances at speed. */
void om_sim_clock_start(om_sim_clock *c, int64_t start_ms, double speed, double delay_s);
int64_t om_sim_clock_now(const om_sim_clock *c);

/* Writes {"start_ms":…,"speed":…,"origin_mono_us":…} to path atomically
 * (path.tmp, then rename). Returns 0, or -1 with the reason in err. */
int om_sim_clock_write(const om_sim_clock *c, const char *path, char *err, size_t errlen);


#endif

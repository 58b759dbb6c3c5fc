/*
 * sim_clock.h - simulated time: start + monotonic elapsed x speed.
 *
 * The wall clock only picks the default start; elapsed time comes from the
 * monotonic clock so that a clock step on the host never makes simulated
 * counters jump. Speed 0 freezes time (tests compare values exactly).
 */
#ifndef OM_SIM_CLOCK_H
#define OM_SIM_CLOCK_H

#include <stdint.h>

typedef struct {
    int64_t start_ms;
    double speed;
    int64_t origin_mono_ms;
} om_sim_clock;

/* Starts simulated time at start_ms now. */
void om_sim_clock_start(om_sim_clock *c, int64_t start_ms, double speed);
int64_t om_sim_clock_now(const om_sim_clock *c);

/* Wall clock, ms since the epoch UTC. */
int64_t om_sim_wall_ms(void);
/* Monotonic clock, ms. */
int64_t om_sim_mono_ms(void);

#endif

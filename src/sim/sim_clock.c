/*
 * sim_clock.c - the simulator's two clocks.
 */
#include "sim_clock.h"

#include <math.h>
#include <time.h>

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t om_sim_wall_ms(void)
{
    return read_ms(CLOCK_REALTIME);
}

int64_t om_sim_mono_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}

void om_sim_clock_start(om_sim_clock *c, int64_t start_ms, double speed)
{
    c->start_ms = start_ms;
    c->speed = speed;
    c->origin_mono_ms = om_sim_mono_ms();
}

int64_t om_sim_clock_now(const om_sim_clock *c)
{
    if (c->speed == 0.0)
        return c->start_ms;
    double elapsed = (double)(om_sim_mono_ms() - c->origin_mono_ms);
    return c->start_ms + (int64_t)floor(elapsed * c->speed);
}

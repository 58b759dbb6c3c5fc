/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.c - wall and monotonic time in integers (clock.h).
 */
#include "officemeter/base/clock.h"

static int64_t read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t om_wall_ms(void)
{
    return read_us(CLOCK_REALTIME) / 1000;
}

int64_t om_mono_ms(void)
{
    return read_us(CLOCK_MONOTONIC) / 1000;
}

int64_t om_mono_us(void)
{
    return read_us(CLOCK_MONOTONIC);
}

struct timespec om_deadline_after(clockid_t id, int64_t ms)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

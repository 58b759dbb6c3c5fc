/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simclock.c - simulated time, and the clock file that shares it.
 */
#include "officemeter/base/simclock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/clock.h"

void om_sim_clock_start(om_sim_clock *c, int64_t start_ms, double speed, double delay_s)
{
    c->start_ms = start_ms;
    c->speed = speed;
    c->origin_mono_us = om_mono_us() + (int64_t)llround(delay_s * 1e6);
}

int64_t om_sim_clock_now(const om_sim_clock *c)
{
    if (c->speed == 0.0)
        return c->start_ms;
    /* Microseconds: at a demo's 500 000x one real millisecond is over
     * eight simulated minutes. */
    int64_t elapsed_us = om_mono_us() - c->origin_mono_us;
    if (elapsed_us <= 0)
        return c->start_ms; /* still held by --delay */
    double elapsed_ms = (double)elapsed_us / 1000.0;
    return c->start_ms + (int64_t)floor(elapsed_ms * c->speed);
}

int om_sim_clock_write(const om_sim_clock *c, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "clock file name too long: %s", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write clock file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "{\"start_ms\": %lld, \"speed\": %.17g, \"origin_mono_us\": %lld}\n",
            (long long)c->start_ms, c->speed, (long long)c->origin_mono_us);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write clock file %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.c - wall and monotonic clocks, the build-date plausibility check,
 * and the simulated clock of demos and drills.
 *
 * --sim-clock FILE makes the wall clock the simulator's (officemeter sim
 * --clock-file): start + monotonic time since its origin x speed.
 * CLOCK_MONOTONIC is shared by every process of the host, so the agent
 * stamps a poll with the simulated instant at which the simulator served
 * it, and polls at simulated interval boundaries. Only the wall clock is
 * simulated: timeouts, pacing and health stay in real time.
 */
#include "clock.h"

#include "officemeter/base/clock.h"
#include "officemeter/base/simclock.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

/* Set once, before any thread starts. */
static bool sim_on;
static om_sim_clock sim;

#ifndef OM_BUILD_EPOCH
#define OM_BUILD_EPOCH 0
#endif

int om_clock_use_sim(const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "--sim-clock: %s: %s", path, jerr.text);
        return -1;
    }
    json_t *start = json_object_get(root, "start_ms");
    json_t *speed = json_object_get(root, "speed");
    json_t *origin = json_object_get(root, "origin_mono_us");
    int rc = -1;
    if (!json_is_integer(start) || !json_is_number(speed) || !json_is_integer(origin)) {
        snprintf(err, errlen,
                 "--sim-clock: %s: expected start_ms, speed and origin_mono_us (written by "
                 "officemeter sim --clock-file)", path);
    } else if (!(json_number_value(speed) > 0.0) || !isfinite(json_number_value(speed))) {
        snprintf(err, errlen, "--sim-clock: %s: speed must be above 0 (a frozen clock never "
                 "reaches the next poll)", path);
    } else {
        sim.start_ms = json_integer_value(start);
        sim.speed = json_number_value(speed);
        sim.origin_mono_us = json_integer_value(origin);
        sim_on = true;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

bool om_clock_simulated(void)
{
    return sim_on;
}

int64_t om_clock_wall_ms(void)
{
    if (sim_on)
        return om_sim_clock_now(&sim);
    return om_wall_ms();
}

static int64_t clock_to_system_ms(int64_t wall_ms)
{
    if (sim_on) {
        struct timespec ts = om_clock_system_deadline(wall_ms);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    return wall_ms;
}

struct timespec om_clock_system_deadline(int64_t wall_ms)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    int64_t at_us;
    if (sim_on) /* origin on the real clock + the time the simulated clock needs */
        at_us = now_us - (om_mono_us() - sim.origin_mono_us) +
                (int64_t)ceil((double)(wall_ms - sim.start_ms) * 1000.0 / sim.speed);
    else
        at_us = clock_to_system_ms(wall_ms) * 1000;
    struct timespec ts = {.tv_sec = at_us / 1000000, .tv_nsec = (at_us % 1000000) * 1000};
    return ts;
}

int64_t om_clock_build_ms(void)
{
    /* A simulated clock replays the past on purpose. */
    if (sim_on)
        return INT64_MIN;
    return (int64_t)OM_BUILD_EPOCH * 1000;
}

bool om_clock_plausible(int64_t wall_ms, int64_t build_ms)
{
    return wall_ms >= build_ms;
}

void om_clock_sleep_until_us(int64_t until_us)
{
    if (until_us <= om_mono_us())
        return;
    struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = (until_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

bool om_clock_wait_tick(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *stop,
                        int64_t tick_ms)
{
    pthread_mutex_lock(lock);
    while (!*stop && om_clock_wall_ms() < tick_ms) {
        struct timespec ts = om_clock_system_deadline(tick_ms);
        pthread_cond_timedwait(cond, lock, &ts);
    }
    bool go = !*stop;
    pthread_mutex_unlock(lock);
    return go;
}

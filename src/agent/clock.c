/*
 * clock.c - wall and monotonic clocks, the build-date plausibility check.
 *
 * OM_AGENT_TEST_CLOCK_OFFSET_S (environment, seconds, may be negative)
 * shifts the wall clock as the agent sees it. It exists so that the
 * integration tests can show what a gateway with a wrong clock does without
 * setting the machine's clock; nothing else reads it.
 */
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_once_t offset_once = PTHREAD_ONCE_INIT;
static int64_t offset_ms;

static void read_offset(void)
{
    const char *text = getenv("OM_AGENT_TEST_CLOCK_OFFSET_S");
    if (!text)
        return;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end != text && *end == '\0')
        offset_ms = (int64_t)v * 1000;
}

#ifndef OM_BUILD_EPOCH
#define OM_BUILD_EPOCH 0
#endif

int64_t om_clock_wall_ms(void)
{
    pthread_once(&offset_once, read_offset);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}

int64_t om_clock_to_system_ms(int64_t wall_ms)
{
    pthread_once(&offset_once, read_offset);
    return wall_ms - offset_ms;
}

int64_t om_clock_mono_ms(void)
{
    return om_clock_mono_us() / 1000;
}

int64_t om_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t om_clock_build_ms(void)
{
    return (int64_t)OM_BUILD_EPOCH * 1000;
}

bool om_clock_plausible(int64_t wall_ms, int64_t build_ms)
{
    return wall_ms >= build_ms;
}

void om_clock_sleep_until_us(int64_t until_us)
{
    if (until_us <= om_clock_mono_us())
        return;
    struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = (until_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

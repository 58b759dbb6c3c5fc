/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_simclock.c - the agent's simulated wall clock (--sim-clock):
 * it follows the simulator's clock file, stands at the start before the
 * origin (officemeter sim --delay), turns the build-date check off, and
 * converts a simulated instant into the real deadline to wait for.
 *
 * The clock is process-wide and set once, so the refusals come first and
 * the one accepted file last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "officemeter/base/clock.h"

#define START_MS 1704067200000LL /* 2024-01-01T00:00:00Z */

static char path[64];

static void write_clock(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_refuses_bad_files(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(om_clock_use_sim("/nonexistent/clock.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/clock.json"));
    write_clock("{\"start_ms\": 1, \"speed\": 10}");
    assert_int_equal(om_clock_use_sim(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "origin_mono_us"));
    write_clock("{\"start_ms\": 1, \"speed\": 0, \"origin_mono_us\": 5}");
    assert_int_equal(om_clock_use_sim(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "speed"));
    assert_false(om_clock_simulated());
    assert_true(om_clock_build_ms() > START_MS); /* the real check is still on */
}

static void test_follows_the_simulator(void **state)
{
    (void)state;
    char err[512], text[256];
    /* Speed 1000: one real ms is one simulated second. The origin lies
     * 300 ms ahead, as with officemeter sim --delay 0.3. */
    int64_t origin = om_mono_us() + 300000;
    snprintf(text, sizeof text, "{\"start_ms\": %lld, \"speed\": 1000, \"origin_mono_us\": %lld}",
             START_MS, (long long)origin);
    write_clock(text);
    assert_int_equal(om_clock_use_sim(path, err, sizeof err), 0);
    assert_true(om_clock_simulated());
    assert_true(om_clock_build_ms() == INT64_MIN);
    assert_true(om_clock_plausible(START_MS, om_clock_build_ms()));

    /* Before the origin: time stands at the start. */
    assert_true(om_clock_wall_ms() == START_MS);

    /* The real deadline of simulated start + 60 s is origin + 60 ms. */
    struct timespec d = om_clock_system_deadline(START_MS + 60000);
    int64_t d_us = (int64_t)d.tv_sec * 1000000 + d.tv_nsec / 1000;
    int64_t expect_us = real_us() + (origin - om_mono_us()) + 60000;
    assert_true(llabs(d_us - expect_us) < 2000);

    /* After the origin: start + elapsed x speed. */
    om_clock_sleep_until_us(origin + 200000);
    int64_t t = om_clock_wall_ms();
    int64_t want = START_MS + (om_mono_us() - origin) / 1000 * 1000;
    assert_true(t >= START_MS + 200000);
    assert_true(llabs(t - want) < 20000); /* 20 simulated s = 20 real ms of slack */
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/om-simclock-%ld.json", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_bad_files),
        cmocka_unit_test(test_follows_the_simulator),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}

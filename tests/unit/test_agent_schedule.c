/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_schedule.c - wall-clock aligned ticks, what each tick reads,
 * missed ticks, the first tick after a reload, dead-meter backoff, and the clock plausibility check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "officemeter/base/clock.h"
#include "schedule.h"

static const om_schedule minute = {.counters_ms = 60000, .instant_ms = 10000};

static void test_next_tick_aligned(void **state)
{
    (void)state;
    /* 2024-03-04T10:00:07.5Z -> the next 10 s boundary, :10 */
    int64_t t = 1709546407500;
    assert_int_equal(om_schedule_next(&minute, t), 1709546410000);
    /* exactly on a tick: the next one, never the same */
    assert_int_equal(om_schedule_next(&minute, 1709546410000), 1709546420000);
    /* a 60 s interval alone polls at :00 */
    om_schedule c = {.counters_ms = 60000, .instant_ms = 60000};
    assert_int_equal(om_schedule_next(&c, 1709546407500), 1709546460000);
    assert_int_equal(om_schedule_next(&c, 1709546460000) % 60000, 0);
    /* intervals that do not divide each other: the earlier boundary wins */
    om_schedule odd = {.counters_ms = 15000, .instant_ms = 10000};
    assert_int_equal(om_schedule_next(&odd, 0), 10000);
    assert_int_equal(om_schedule_next(&odd, 10000), 15000);
    assert_int_equal(om_schedule_next(&odd, 15000), 20000);
    /* before the epoch (a clock that is badly wrong) still aligned */
    assert_int_equal(om_schedule_next(&minute, -5), 0);
    assert_int_equal(om_schedule_next(&minute, -10000), 0);
}

static void test_due_sets(void **state)
{
    (void)state;
    assert_true(om_schedule_counters_due(&minute, 1709546460000));
    assert_true(om_schedule_instant_due(&minute, 1709546460000));
    assert_false(om_schedule_counters_due(&minute, 1709546470000));
    assert_true(om_schedule_instant_due(&minute, 1709546470000));
    om_schedule odd = {.counters_ms = 15000, .instant_ms = 10000};
    assert_true(om_schedule_counters_due(&odd, 15000));
    assert_false(om_schedule_instant_due(&odd, 15000));
}

static void test_missed(void **state)
{
    (void)state;
    assert_int_equal(om_schedule_missed(&minute, 0, 9999), 0);
    assert_int_equal(om_schedule_missed(&minute, 0, 10000), 1);
    assert_int_equal(om_schedule_missed(&minute, 0, 35000), 3);
}

/* A reload restarts the workers: the one tick it stepped over is run at
 * once, late, rather than left as a hole; more than one is not caught up. */
static void test_first_after_reload(void **state)
{
    (void)state;
    om_schedule three = {.counters_ms = 3000, .instant_ms = 3000};
    /* no reload: the next tick */
    assert_int_equal(om_schedule_first(&three, 0, 10100), 12000);
    /* last tick 6000, restarted at 9050: tick 9000 was missed, run it now */
    assert_int_equal(om_schedule_first(&three, 6000, 9050), 9000);
    /* last tick 9000 ran: nothing missed, the next one */
    assert_int_equal(om_schedule_first(&three, 9000, 9050), 12000);
    /* restarted before the next tick: the next tick, on time */
    assert_int_equal(om_schedule_first(&three, 6000, 8000), 9000);
    /* two ticks missed (a long stall): no burst of late cycles */
    assert_int_equal(om_schedule_first(&three, 3000, 9050), 12000);
    /* a new, longer interval: the first tick of the new grid after the last one */
    om_schedule six = {.counters_ms = 6000, .instant_ms = 6000};
    assert_int_equal(om_schedule_first(&six, 5000, 6020), 6000);
}

static void test_backoff(void **state)
{
    (void)state;
    /* base × 2^(failures-1), capped */
    assert_int_equal(om_backoff_ms(10000, 300000, 1), 10000);
    assert_int_equal(om_backoff_ms(10000, 300000, 2), 20000);
    assert_int_equal(om_backoff_ms(10000, 300000, 3), 40000);
    assert_int_equal(om_backoff_ms(10000, 300000, 6), 300000);
    assert_int_equal(om_backoff_ms(10000, 300000, 1000), 300000);
    /* a cap below the base still caps */
    assert_int_equal(om_backoff_ms(10000, 4000, 1), 4000);
}

static void test_clock(void **state)
{
    (void)state;
    int64_t build = om_clock_build_ms();
    assert_true(build > 1700000000000); /* OM_BUILD_EPOCH is set by the build */
    assert_true(om_clock_plausible(om_clock_wall_ms(), build));
    assert_false(om_clock_plausible(5000, build));          /* a gateway that booted in 1970 */
    assert_false(om_clock_plausible(build - 1, build));
    assert_true(om_clock_plausible(build, build));
    int64_t a = om_mono_us();
    om_clock_sleep_until_us(a + 3000);
    int64_t b = om_mono_us();
    assert_true(b - a >= 3000);
    assert_true(b - a < 50000);
    om_clock_sleep_until_us(a); /* in the past: returns at once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_tick_aligned),
        cmocka_unit_test(test_due_sets),
        cmocka_unit_test(test_missed),
        cmocka_unit_test(test_first_after_reload),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

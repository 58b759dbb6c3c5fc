/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sim_profile.c - the simulator's load profiles and counters.
 *
 * Dates used (Europe/London): 2024-03-04 is a Monday, 2024-03-02 a
 * Saturday; in July the zone is UTC+1, in January UTC+0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "sim_profile.h"
#include "testutil.h"

#define ZONE "Europe/London"

static void init(om_sim_profile *p, uint64_t seed, const char *id, om_utility u, om_role r,
                 const char *start)
{
    assert_int_equal(om_sim_profile_init(p, seed, id, u, r, ZONE, om_test_iso(start)), 0);
}

static void test_same_seed_same_values(void **state)
{
    (void)state;
    om_sim_profile a, b;
    init(&a, 7, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    init(&b, 7, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    int64_t t = om_test_iso("2024-03-06T13:37:12Z");
    assert_true(a.initial == b.initial);
    assert_true(om_sim_profile_rate(&a, t) == om_sim_profile_rate(&b, t));
    assert_true(om_sim_profile_voltage(&a, 2, t) == om_sim_profile_voltage(&b, 2, t));
    assert_true(om_sim_profile_consumed(&a, t) == om_sim_profile_consumed(&b, t));
}

static void test_seed_and_meter_change_values(void **state)
{
    (void)state;
    om_sim_profile a, b, c;
    init(&a, 1, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    init(&b, 2, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    init(&c, 1, "main2", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    int64_t t = om_test_iso("2024-03-04T10:00:00Z");
    assert_true(a.initial != b.initial);
    assert_true(a.initial != c.initial);
    assert_true(om_sim_profile_rate(&a, t) != om_sim_profile_rate(&b, t));
    assert_true(om_sim_profile_rate(&a, t) != om_sim_profile_rate(&c, t));
}

/* Average power over a local hour, minute by minute. */
static double mean_power(om_sim_profile *p, const char *hour_start)
{
    int64_t t0 = om_test_iso(hour_start);
    double sum = 0;
    for (int m = 0; m < 60; m++)
        sum += om_sim_profile_rate(p, t0 + m * 60000LL);
    return sum / 60;
}

static void test_weekday_weekend_night(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 1, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-01T00:00:00Z");
    double weekday = mean_power(&p, "2024-03-04T11:00:00Z");
    double night = mean_power(&p, "2024-03-04T02:00:00Z");
    double weekend = mean_power(&p, "2024-03-02T11:00:00Z");
    assert_true(weekday > 40.0 && weekday < 80.0);
    assert_true(night > 0.20 * weekday && night < 0.40 * weekday);
    assert_true(weekend > 0.20 * weekday && weekend < 0.40 * weekday);
    assert_true(om_sim_profile_working(&p, om_test_iso("2024-03-04T11:00:00Z")));
    assert_false(om_sim_profile_working(&p, om_test_iso("2024-03-02T11:00:00Z")));
    assert_false(om_sim_profile_working(&p, om_test_iso("2024-03-04T19:00:00Z")));
    assert_true(om_sim_profile_working(&p, om_test_iso("2024-03-04T08:00:00Z")));
}

static void test_working_hours_follow_local_time(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 1, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-01-01T00:00:00Z");
    /* 07:30 UTC is 08:30 in London summer time, 07:30 in winter. */
    assert_true(om_sim_profile_working(&p, om_test_iso("2024-07-01T07:30:00Z")));
    assert_false(om_sim_profile_working(&p, om_test_iso("2024-01-08T07:30:00Z")));
    /* 18:30 UTC is 19:30 in summer: closed; 18:30 in winter: open. */
    assert_false(om_sim_profile_working(&p, om_test_iso("2024-07-01T18:30:00Z")));
    assert_true(om_sim_profile_working(&p, om_test_iso("2024-01-08T18:30:00Z")));
}

static void test_main_peak_larger_than_sub(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        om_sim_profile m, s;
        init(&m, seed, "a", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
        init(&s, seed, "a", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, "2024-03-04T00:00:00Z");
        assert_true(mean_power(&m, "2024-03-04T11:00:00Z") >
                    2 * mean_power(&s, "2024-03-04T11:00:00Z"));
        assert_true(m.initial > 0 && s.initial > 0);
    }
}

static void test_voltages_near_230(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 3, "v", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    int64_t t0 = om_test_iso("2024-03-04T00:00:00Z");
    for (int m = 0; m < 2000; m += 7) {
        for (int ph = 1; ph <= 3; ph++) {
            double v = om_sim_profile_voltage(&p, ph, t0 + m * 60000LL);
            assert_true(v > 225.0 && v < 235.0);
        }
    }
    assert_true(om_sim_profile_voltage(&p, 1, t0) != om_sim_profile_voltage(&p, 2, t0));
}

static void test_water_zero_at_night_and_weekend(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 1, "water", OM_UTILITY_WATER, OM_ROLE_MAIN, "2024-03-01T00:00:00Z");
    assert_true(mean_power(&p, "2024-03-04T11:00:00Z") > 0.3);
    assert_true(mean_power(&p, "2024-03-04T02:00:00Z") == 0.0);
    assert_true(mean_power(&p, "2024-03-02T11:00:00Z") == 0.0);
    /* The counter stands still over a night. */
    double before = om_sim_profile_consumed(&p, om_test_iso("2024-03-04T00:00:00Z"));
    double after = om_sim_profile_consumed(&p, om_test_iso("2024-03-04T06:00:00Z"));
    assert_true(before > 0.0);
    assert_true(after == before);
}

static void test_leak_flows_at_night(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 1, "water", OM_UTILITY_WATER, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    om_sim_profile_set_leak(&p, 0.25);
    om_test_assert_near(om_sim_profile_rate(&p, om_test_iso("2024-03-04T02:00:00Z")), 0.25);
    /* Six night hours at 0.25 m³/h. */
    om_test_assert_near(om_sim_profile_consumed(&p, om_test_iso("2024-03-04T06:00:00Z")), 1.5);
}

static void test_leak_and_step_windows(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 1, "water", OM_UTILITY_WATER, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    om_sim_profile_set_leak_window(&p, 0.25, om_test_iso("2024-03-04T02:00:00Z"),
                                   om_test_iso("2024-03-04T04:00:00Z"));
    assert_true(om_sim_profile_rate(&p, om_test_iso("2024-03-04T01:59:00Z")) == 0.0);
    om_test_assert_near(om_sim_profile_rate(&p, om_test_iso("2024-03-04T02:00:00Z")), 0.25);
    assert_true(om_sim_profile_rate(&p, om_test_iso("2024-03-04T04:00:00Z")) == 0.0);
    /* Two leaking hours in the night: half a cubic metre. */
    om_test_assert_near(om_sim_profile_consumed(&p, om_test_iso("2024-03-04T06:00:00Z")), 0.5);

    om_sim_profile e, f;
    init(&e, 2, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    init(&f, 2, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    om_sim_profile_set_step(&f, 8.0, om_test_iso("2024-03-04T01:00:00Z"), INT64_MIN);
    /* The same load, 8 kW more from 01:00 on, day and night. */
    assert_true(om_sim_profile_rate(&f, om_test_iso("2024-03-04T00:30:00Z")) ==
                om_sim_profile_rate(&e, om_test_iso("2024-03-04T00:30:00Z")));
    om_test_assert_near(om_sim_profile_rate(&f, om_test_iso("2024-03-04T02:30:00Z")) -
                            om_sim_profile_rate(&e, om_test_iso("2024-03-04T02:30:00Z")), 8.0);
    om_test_assert_near(om_sim_profile_rate(&f, om_test_iso("2024-03-04T12:00:00Z")) -
                            om_sim_profile_rate(&e, om_test_iso("2024-03-04T12:00:00Z")), 8.0);
    int64_t end = om_test_iso("2024-03-04T06:00:00Z");
    om_test_assert_near(om_sim_profile_consumed(&f, end) - om_sim_profile_consumed(&e, end), 40.0);
}

static void test_counter_monotonic_and_integrates_rate(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 5, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T07:00:30Z");
    int64_t t0 = om_test_iso("2024-03-04T07:00:30Z");
    double prev = 0.0, expect = 0.0;
    /* Rates are per hour and constant per minute: the first half minute,
     * then whole minutes. */
    expect += om_sim_profile_rate(&p, t0) * 30000.0 / 3600000.0;
    for (int m = 1; m <= 600; m++) {
        int64_t t = t0 + 30000 + (int64_t)(m - 1) * 60000;
        expect += om_sim_profile_rate(&p, t) / 60.0;
        double now = om_sim_profile_consumed(&p, t + 60000);
        assert_true(now > prev);
        prev = now;
    }
    om_test_assert_near(prev, expect);
    /* Ten hours around the start of work: between base and peak load. */
    assert_true(prev > 10 * 0.25 * p.peak * 0.95 && prev < 10 * p.peak * 1.05);
}

static void test_counter_does_not_depend_on_read_pattern(void **state)
{
    (void)state;
    om_sim_profile a, b;
    init(&a, 9, "m", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    init(&b, 9, "m", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    int64_t t = om_test_iso("2024-03-05T17:45:12.345Z");
    /* a is read often at odd times, b once; then a backwards read. */
    for (int64_t s = om_test_iso("2024-03-04T00:00:00Z"); s < t; s += 7777)
        om_sim_profile_consumed(&a, s);
    assert_true(om_sim_profile_consumed(&a, t) == om_sim_profile_consumed(&b, t));
    int64_t earlier = om_test_iso("2024-03-04T12:00:00Z");
    double e = om_sim_profile_consumed(&a, earlier);
    om_sim_profile c;
    init(&c, 9, "m", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-03-04T00:00:00Z");
    assert_true(e == om_sim_profile_consumed(&c, earlier));
    assert_true(om_sim_profile_consumed(&a, om_test_iso("2024-03-03T00:00:00Z")) == 0.0);
}

/* The oracle of a period (--oracle-year) integrates afresh from the
 * period's start: it equals the difference of the running counter at the
 * period's ends, wherever the simulator started, and leaves the running
 * counter's cursor alone. */
static void test_between_matches_running_counter(void **state)
{
    (void)state;
    om_sim_profile p;
    init(&p, 7, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, "2024-02-27T13:17:11Z");
    int64_t a = om_test_iso("2024-03-01T00:00:00Z"), b = om_test_iso("2024-03-08T17:30:30.250Z");
    double ca = om_sim_profile_consumed(&p, a);
    double cb = om_sim_profile_consumed(&p, b);
    double between = om_sim_profile_between(&p, a, b);
    assert_true(between > 1000.0); /* a week of an office: MWh, not zero */
    om_test_assert_near(between, cb - ca);
    assert_int_equal(p.cursor_ms, b - (b % 60000)); /* cursor untouched by between() */
    /* Reversed or empty periods consume nothing. */
    assert_true(om_sim_profile_between(&p, b, a) == 0.0);
    assert_true(om_sim_profile_between(&p, a, a) == 0.0);
}

static void test_pulse_conversion_exact(void **state)
{
    (void)state;
    /* 10 L per pulse: m³ per pulse 0.01. */
    assert_int_equal(om_sim_counter_raw(1.2349, 0.01), 123);
    assert_int_equal(om_sim_counter_raw(1.23, 0.01), 123);
    assert_int_equal(om_sim_counter_raw(0.03, 0.01), 3);
    assert_int_equal(om_sim_counter_raw(0.0, 0.01), 0);
    /* 2.5 L per pulse. */
    assert_int_equal(om_sim_counter_raw(0.0075, 0.0025), 3);
    assert_int_equal(om_sim_counter_raw(0.0074, 0.0025), 2);
    /* The remainder is kept: 1000 draws of 5 L at 10 L per pulse. */
    double m3 = 0.0;
    for (int i = 0; i < 1000; i++) {
        m3 += 0.005;
        assert_int_equal(om_sim_counter_raw(m3, 0.01), (i + 1) / 2);
    }
    /* Wh counters (scale 0.001 kWh). */
    assert_int_equal(om_sim_counter_raw(123456.789, 0.001), 123456789);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_values),
        cmocka_unit_test(test_seed_and_meter_change_values),
        cmocka_unit_test(test_weekday_weekend_night),
        cmocka_unit_test(test_working_hours_follow_local_time),
        cmocka_unit_test(test_main_peak_larger_than_sub),
        cmocka_unit_test(test_voltages_near_230),
        cmocka_unit_test(test_water_zero_at_night_and_weekend),
        cmocka_unit_test(test_leak_flows_at_night),
        cmocka_unit_test(test_leak_and_step_windows),
        cmocka_unit_test(test_counter_monotonic_and_integrates_rate),
        cmocka_unit_test(test_counter_does_not_depend_on_read_pattern),
        cmocka_unit_test(test_pulse_conversion_exact),
        cmocka_unit_test(test_between_matches_running_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

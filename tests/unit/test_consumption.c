/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_consumption.c - the clean counter curve: boundary interpolation,
 * gaps, rollover, reset, glitch, replacement, active periods, and the
 * properties every period obeys (additivity, duplicates change nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/report/consumption.h"
#include "testutil.h"

#define MIN 60000LL
#define HOUR 3600000LL

static om_counter_opts opts_rate(double max_rate_per_h)
{
    om_counter_opts o;
    om_counter_opts_default(&o);
    o.max_rate_per_h = max_rate_per_h;
    return o;
}

static double consumed(const om_counter *c, int64_t a, int64_t b)
{
    om_consumption r;
    assert_int_equal(om_counter_consumption(c, a, b, &r), 0);
    return r.value;
}

static size_t count_events(const om_counter *c, om_counter_event_kind kind)
{
    size_t n, k = 0;
    const om_counter_event *ev = om_counter_events(c, &n);
    for (size_t i = 0; i < n; i++)
        k += ev[i].kind == kind;
    return k;
}

/* ---- boundaries --------------------------------------------------------- */

static void test_boundary_interpolation(void **state)
{
    /* Readings every 10 minutes; the period starts 3 minutes after the
     * first and ends 4 minutes after the third. */
    om_sample s[] = {{0, 100.0}, {10 * MIN, 110.0}, {20 * MIN, 130.0}, {30 * MIN, 131.0}};
    om_counter *c = om_counter_new(s, 4, NULL);
    assert_non_null(c);
    om_consumption r;
    assert_int_equal(om_counter_consumption(c, 3 * MIN, 24 * MIN, &r), 0);
    /* value at 3 min: 100 + 10*0.3 = 103; at 24 min: 130 + 1*0.4 = 130.4 */
    om_test_assert_near(r.value, 130.4 - 103.0);
    assert_true(r.start_known && r.end_known);
    assert_int_equal(r.expected_ms, 21 * MIN);
    assert_int_equal(r.actual_ms, 21 * MIN);
    om_test_assert_exact(r.estimated, 0);
    om_counter_free(c);
}

static void test_reading_exactly_at_boundary(void **state)
{
    om_sample s[] = {{0, 5.0}, {10 * MIN, 7.0}, {20 * MIN, 20.0}};
    om_counter *c = om_counter_new(s, 3, NULL);
    double v;
    assert_int_equal(om_counter_value_at(c, 10 * MIN, &v), 0);
    om_test_assert_exact(v, 2.0); /* the curve starts at 0 at the first reading */
    om_test_assert_exact(consumed(c, 10 * MIN, 20 * MIN), 13.0);
    om_test_assert_exact(consumed(c, 0, 10 * MIN), 2.0);
    om_counter_free(c);
}

static void test_partial_data(void **state)
{
    om_sample s[] = {{10 * MIN, 1.0}, {20 * MIN, 2.0}};
    om_counter *c = om_counter_new(s, 2, NULL);
    om_consumption r;
    assert_int_equal(om_counter_consumption(c, 0, 40 * MIN, &r), 0);
    om_test_assert_exact(r.value, 1.0);
    assert_false(r.start_known);
    assert_false(r.end_known);
    assert_int_equal(r.expected_ms, 40 * MIN);
    assert_int_equal(r.known_ms, 10 * MIN);
    assert_int_equal(r.actual_ms, 10 * MIN);
    /* Entirely outside the data. */
    assert_int_equal(om_counter_consumption(c, 30 * MIN, 40 * MIN, &r), 0);
    om_test_assert_exact(r.value, 0);
    assert_int_equal(r.known_ms, 0);
    assert_int_equal(om_counter_consumption(c, 10, 5, &r), -1);
    om_counter_free(c);

    c = om_counter_new(NULL, 0, NULL);
    assert_non_null(c);
    assert_int_equal(om_counter_consumption(c, 0, HOUR, &r), 0);
    assert_int_equal(r.expected_ms, HOUR);
    assert_int_equal(r.known_ms, 0);
    double v;
    assert_int_equal(om_counter_value_at(c, 0, &v), -1);
    om_counter_free(c);
}

static void test_bad_input(void **state)
{
    om_sample unordered[] = {{10, 1.0}, {5, 2.0}};
    errno = 0;
    assert_null(om_counter_new(unordered, 2, NULL));
    assert_int_equal(errno, EINVAL);
    om_sample nan[] = {{10, NAN}};
    assert_null(om_counter_new(nan, 1, NULL));
    om_counter_opts o;
    om_counter_opts_default(&o);
    o.interval_ms = 0;
    om_sample ok[] = {{10, 1.0}};
    assert_null(om_counter_new(ok, 1, &o));
}

/* ---- gaps ----------------------------------------------------------------- */

static void test_gap_estimated_share(void **state)
{
    /* 1-minute readings at 1 kWh/min, then nothing for 60 minutes (a gap,
     * limit 10 intervals), then 1-minute readings again. */
    om_sample s[200];
    size_t n = 0;
    double v = 0;
    for (int64_t m = 0; m <= 30; m++, v += 1)
        s[n++] = (om_sample){m * MIN, v};
    v = 30 + 90; /* 90 kWh across the 60-minute gap */
    for (int64_t m = 90; m <= 120; m++, v += 1)
        s[n++] = (om_sample){m * MIN, v};
    om_counter *c = om_counter_new(s, n, NULL);
    assert_int_equal(count_events(c, OM_CEV_GAP), 1);
    om_consumption r;
    assert_int_equal(om_counter_consumption(c, 0, 120 * MIN, &r), 0);
    om_test_assert_near(r.value, 150);
    om_test_assert_near(r.estimated, 90);
    assert_int_equal(r.actual_ms, 60 * MIN);
    assert_int_equal(r.known_ms, 120 * MIN);
    assert_false(r.start_in_gap);
    /* A period starting inside the gap: its start is interpolated across it. */
    assert_int_equal(om_counter_consumption(c, 60 * MIN, 100 * MIN, &r), 0);
    assert_true(r.start_in_gap);
    assert_false(r.end_in_gap);
    om_test_assert_near(r.value, 45 + 10); /* 30 min of gap at 1.5/min, then 10 */
    om_test_assert_near(r.estimated, 45);
    assert_int_equal(r.actual_ms, 10 * MIN);

    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    assert_int_equal(ne, 1);
    assert_int_equal(ev[0].kind, OM_CEV_GAP);
    assert_int_equal(ev[0].t, 30 * MIN);
    assert_int_equal(ev[0].t_end, 90 * MIN);
    om_test_assert_near(ev[0].counted, 90);
    assert_true(om_counter_event_in(&ev[0], 80 * MIN, 200 * MIN));
    assert_false(om_counter_event_in(&ev[0], 90 * MIN, 200 * MIN));
    om_counter_free(c);
}

static void test_consecutive_gaps_are_one_event(void **state)
{
    /* Hourly readings under a 1-minute policy: every interval is a gap, and
     * the stretch is one event whose count is the sum. */
    om_sample s[] = {{0, 0}, {HOUR, 10}, {2 * HOUR, 30}, {3 * HOUR, 60}, {3 * HOUR + MIN, 61}};
    om_counter *c = om_counter_new(s, 5, NULL);
    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    assert_int_equal(ne, 1);
    assert_int_equal(ev[0].t, 0);
    assert_int_equal(ev[0].t_end, 3 * HOUR);
    om_test_assert_exact(ev[0].counted, 60);
    om_consumption r;
    om_counter_consumption(c, HOUR / 2, 3 * HOUR + MIN, &r);
    om_test_assert_near(r.estimated, 55);
    assert_int_equal(r.actual_ms, MIN);
    om_counter_free(c);
}

static void test_replacement_without_values(void **state)
{
    /* The site file gives no value for this quantity (NAN): nothing is
     * counted after the old meter's last reading, and the new meter counts
     * from its first reading. */
    om_counter_break br = {90000, NAN, NAN};
    om_counter_opts o = opts_rate(60);
    o.breaks = &br;
    o.nbreaks = 1;
    om_sample s[] = {{0, 1000.0}, {MIN, 1000.6}, {2 * MIN, 7.0}, {3 * MIN, 8.0}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_non_null(c);
    om_test_assert_near(consumed(c, 0, 3 * MIN), 0.6 + 1.0);
    assert_int_equal(count_events(c, OM_CEV_JUMP) + count_events(c, OM_CEV_BACKSTEP), 0);
    om_counter_free(c);
}

static void test_gap_threshold_is_strict(void **state)
{
    /* Exactly 10 intervals is not a gap; 10 intervals + 1 ms is. */
    om_sample s[] = {{0, 0}, {10 * MIN, 1}, {20 * MIN + 1, 2}};
    om_counter *c = om_counter_new(s, 3, NULL);
    assert_int_equal(count_events(c, OM_CEV_GAP), 1);
    om_consumption r;
    om_counter_consumption(c, 0, 10 * MIN, &r);
    om_test_assert_exact(r.estimated, 0);
    om_counter_free(c);
}

/* ---- rollover, reset, glitch ------------------------------------------- */

static void test_rollover(void **state)
{
    /* A 32-bit pulse counter of 10 L pulses: width 42949672.96 m³. */
    om_counter_opts o = opts_rate(30); /* at most 30 m³/h */
    o.width = 4294967296.0 * 0.01;
    double w = o.width;
    om_sample s[] = {{0, w - 0.2}, {MIN, w - 0.1}, {2 * MIN, 0.05}, {3 * MIN, 0.15}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_int_equal(count_events(c, OM_CEV_WRAP), 1);
    /* Near 4.3e7 a double resolves about 7e-9 m³, more than OM_TEST_REL_TOL
     * of 0.35: compare to 1e-7 m³ absolutely. */
    assert_true(fabs(consumed(c, 0, 3 * MIN) - 0.35) < 1e-7);
    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    assert_int_equal(ev[0].t, 2 * MIN);
    assert_true(fabs(ev[0].counted - 0.15) < 1e-7);
    om_counter_free(c);
}

static void test_wrap_needs_plausible_consumption(void **state)
{
    /* A drop from the counter's lower half is no wrap (it would imply a
     * whole counter width of consumption), and a wrap implying more than
     * the rate allows is none either. */
    om_counter_opts o = opts_rate(60);
    o.width = 1000;
    om_sample low[] = {{0, 400}, {MIN, 401}, {2 * MIN, 0.5}, {3 * MIN, 1.5}, {4 * MIN, 2.5}};
    om_counter *c = om_counter_new(low, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_WRAP), 0);
    assert_int_equal(count_events(c, OM_CEV_RESET), 1);
    om_counter_free(c);

    om_sample steep[] = {{0, 900}, {MIN, 901}, {2 * MIN, 100}, {3 * MIN, 101}, {4 * MIN, 102}};
    c = om_counter_new(steep, 5, &o); /* 199 kWh in a minute at 60 kW: no */
    assert_int_equal(count_events(c, OM_CEV_WRAP), 0);
    assert_int_equal(count_events(c, OM_CEV_BACKSTEP), 1);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 1 + 0 + 1 + 1);
    om_counter_free(c);

    /* Without a rate bound the upper/lower-half rule alone decides. */
    om_counter_opts any = opts_rate(0);
    any.width = 1000;
    om_sample wrap[] = {{0, 990}, {MIN, 995}, {2 * MIN, 3}, {3 * MIN, 8}};
    c = om_counter_new(wrap, 4, &any);
    assert_int_equal(count_events(c, OM_CEV_WRAP), 1);
    om_test_assert_near(consumed(c, 0, 3 * MIN), 18);
    om_counter_free(c);
}

static void test_reset(void **state)
{
    /* The counter is cleared to 0 between 2 and 3 minutes and counts on. */
    om_counter_opts o = opts_rate(60); /* 1 kWh/min at most */
    om_sample s[] = {{0, 500}, {MIN, 500.5}, {2 * MIN, 501}, {3 * MIN, 0.2},
                     {4 * MIN, 0.7}, {5 * MIN, 1.2}};
    om_counter *c = om_counter_new(s, 6, &o);
    assert_int_equal(count_events(c, OM_CEV_RESET), 1);
    assert_int_equal(count_events(c, OM_CEV_GLITCH), 0);
    /* 1.0 before, 0.2 counted from zero, 1.0 after */
    om_test_assert_near(consumed(c, 0, 5 * MIN), 2.2);
    om_counter_free(c);
}

static void test_reset_level_without_rate(void **state)
{
    om_counter_opts o = opts_rate(0);
    o.reset_level = 0.5;
    om_sample s[] = {{0, 500}, {MIN, 501}, {2 * MIN, 0.3}, {3 * MIN, 1.3}, {4 * MIN, 2.3}};
    om_counter *c = om_counter_new(s, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_RESET), 1);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 1 + 0.3 + 2);
    om_counter_free(c);
}

static void test_backstep(void **state)
{
    /* Set back to 200 (not near zero) and counting on from there. */
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 501}, {2 * MIN, 200}, {3 * MIN, 200.5}, {4 * MIN, 201}};
    om_counter *c = om_counter_new(s, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_BACKSTEP), 1);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 1 + 0 + 1);
    om_counter_free(c);
}

static void test_glitch_momentary_zero(void **state)
{
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 500.5}, {2 * MIN, 0}, {3 * MIN, 501.5}, {4 * MIN, 502}};
    om_counter *c = om_counter_new(s, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_GLITCH), 1);
    assert_int_equal(count_events(c, OM_CEV_RESET), 0);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 2);
    /* The glitch's minute is interpolated between its neighbours. */
    om_test_assert_near(consumed(c, MIN, 2 * MIN), 0.5);
    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    assert_int_equal(ev[0].kind, OM_CEV_GLITCH);
    assert_int_equal(ev[0].t, 2 * MIN);
    om_test_assert_exact(ev[0].after, 0);
    om_counter_free(c);
}

static void test_glitch_two_readings_and_dip(void **state)
{
    /* Two zeros in a row, then back: both ignored. A dip (backwards step
     * to a non-zero value) contradicted by the next reading: ignored. */
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500},      {MIN, 500.5},   {2 * MIN, 0},   {3 * MIN, 0},
                     {4 * MIN, 502}, {5 * MIN, 450}, {6 * MIN, 503}, {7 * MIN, 503.5}};
    om_counter *c = om_counter_new(s, 8, &o);
    assert_int_equal(count_events(c, OM_CEV_GLITCH), 3);
    om_test_assert_near(consumed(c, 0, 7 * MIN), 3.5);
    om_counter_free(c);
}

static void test_glitch_spike_up(void **state)
{
    /* A corrupt reading far above the counter, then back in line: without
     * the rate bound it would add 9 500 kWh and the next step would look
     * like a reset. */
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 501}, {2 * MIN, 10001}, {3 * MIN, 502}, {4 * MIN, 503}};
    om_counter *c = om_counter_new(s, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_GLITCH), 1);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 3);
    om_counter_free(c);
}

static void test_jump_not_counted(void **state)
{
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 501}, {2 * MIN, 90000}, {3 * MIN, 90001}, {4 * MIN, 90002}};
    om_counter *c = om_counter_new(s, 5, &o);
    assert_int_equal(count_events(c, OM_CEV_JUMP), 1);
    om_test_assert_near(consumed(c, 0, 4 * MIN), 3);
    om_counter_free(c);
}

static void test_jump_after_long_gap_is_plausible(void **state)
{
    /* 100 kWh in 2 hours at <= 60 kW is fine: counted, and estimated. */
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 501}, {MIN + 2 * HOUR, 601}, {2 * MIN + 2 * HOUR, 602}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_int_equal(count_events(c, OM_CEV_JUMP), 0);
    om_consumption r;
    om_counter_consumption(c, 0, 2 * MIN + 2 * HOUR, &r);
    om_test_assert_near(r.value, 102);
    om_test_assert_near(r.estimated, 100);
    om_counter_free(c);
}

static void test_unconfirmed_drop_at_end(void **state)
{
    om_counter_opts o = opts_rate(60);
    om_sample s[] = {{0, 500}, {MIN, 501}, {2 * MIN, 0}, {2 * MIN, 0}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_int_equal(count_events(c, OM_CEV_UNCONFIRMED), 1);
    int64_t first, last;
    assert_int_equal(om_counter_span(c, &first, &last), 0);
    assert_int_equal(last, MIN);
    om_counter_free(c);
}

static void test_conflict_keeps_first(void **state)
{
    om_sample s[] = {{0, 1}, {MIN, 2}, {MIN, 7}, {2 * MIN, 3}};
    om_counter *c = om_counter_new(s, 4, NULL);
    assert_int_equal(count_events(c, OM_CEV_CONFLICT), 1);
    om_test_assert_exact(consumed(c, 0, 2 * MIN), 2);
    om_counter_free(c);
}

/* Found by fuzz_consumption (duplicates change nothing): a conflicting
 * reading received twice made two conflicts in the audit trail. A reading
 * identical to the one before it is the same reading, whatever its fate. */
static void test_duplicate_conflict_is_one_conflict(void **state)
{
    om_sample s[] = {{0, 1}, {MIN, 2}, {MIN, 7}, {MIN, 7}, {2 * MIN, 3}};
    om_counter *c = om_counter_new(s, 5, NULL);
    assert_int_equal(count_events(c, OM_CEV_CONFLICT), 1);
    om_test_assert_exact(consumed(c, 0, 2 * MIN), 2);
    om_counter_free(c);
}

/* ---- replacements and service life --------------------------------------- */

static void test_replacement(void **state)
{
    /* Old meter read 1000.0 at 0 and 1000.6 at 1 min; replaced at 1.5 min
     * with old_final 1000.9 and new_initial 0.0; new meter 0.4 at 2 min. */
    om_counter_break br = {90000, 1000.9, 0.0};
    om_counter_opts o = opts_rate(60);
    o.breaks = &br;
    o.nbreaks = 1;
    om_sample s[] = {{0, 1000.0}, {MIN, 1000.6}, {2 * MIN, 0.4}, {3 * MIN, 1.4}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_int_equal(count_events(c, OM_CEV_REPLACEMENT), 1);
    assert_int_equal(count_events(c, OM_CEV_RESET) + count_events(c, OM_CEV_BACKSTEP), 0);
    /* 0.6 + 0.3 (to old_final) + 0.4 (from new_initial) + 1.0 */
    om_test_assert_near(consumed(c, 0, 3 * MIN), 2.3);
    /* Split at the replacement: each side adds up. */
    om_test_assert_near(consumed(c, 0, 90000), 0.9);
    om_test_assert_near(consumed(c, 90000, 3 * MIN), 1.4);
    om_counter_free(c);
}

static void test_replacement_reading_at_instant_and_nonzero_initial(void **state)
{
    /* New hardware starting at 12.0; a reading exactly at `at` belongs to it. */
    om_counter_break br = {2 * MIN, 50.0, 12.0};
    om_counter_opts o = opts_rate(60);
    o.breaks = &br;
    o.nbreaks = 1;
    om_sample s[] = {{0, 49.0}, {MIN, 49.5}, {2 * MIN, 12.0}, {3 * MIN, 12.75}};
    om_counter *c = om_counter_new(s, 4, &o);
    om_test_assert_near(consumed(c, 0, 3 * MIN), 0.5 + 0.5 + 0.75);
    om_counter_free(c);
}

static void test_replacement_outside_readings(void **state)
{
    /* A replacement before any reading gives the new hardware's starting
     * point; one after the last reading its end point. */
    om_counter_break before = {0, 0, 3.0};
    om_counter_opts o = opts_rate(0);
    o.breaks = &before;
    o.nbreaks = 1;
    om_sample s[] = {{10 * MIN, 5.0}, {11 * MIN, 6.0}};
    om_counter *c = om_counter_new(s, 2, &o);
    om_consumption r;
    om_counter_consumption(c, 0, 11 * MIN, &r);
    assert_true(r.start_known);
    om_test_assert_near(r.value, 3.0);
    om_counter_free(c);

    om_counter_break after = {20 * MIN, 9.0, 0.0};
    o.breaks = &after;
    c = om_counter_new(s, 2, &o);
    om_counter_consumption(c, 10 * MIN, 20 * MIN, &r);
    assert_true(r.end_known);
    om_test_assert_near(r.value, 4.0);
    om_counter_free(c);
}

static void test_glitch_lookahead_stops_at_replacement(void **state)
{
    /* The new meter's readings after `at` must not "contradict" a drop of
     * the old one: a reading of 0.0 just before the replacement is an
     * unconfirmed drop of the old hardware, not a glitch judged by the
     * new one. */
    om_counter_break br = {3 * MIN, 600.0, 0.0};
    om_counter_opts o = opts_rate(60);
    o.breaks = &br;
    o.nbreaks = 1;
    om_sample s[] = {{0, 599}, {MIN, 599.5}, {2 * MIN, 0}, {4 * MIN, 601}};
    om_counter *c = om_counter_new(s, 4, &o);
    assert_int_equal(count_events(c, OM_CEV_UNCONFIRMED), 1);
    /* 599 -> 599.5 -> (600 at the replacement) ; new 0 -> 601 is a jump */
    assert_int_equal(count_events(c, OM_CEV_JUMP), 1);
    om_counter_free(c);
}

static void test_active_period(void **state)
{
    om_sample s[] = {{0, 0}, {HOUR, 10}, {2 * HOUR, 20}, {3 * HOUR, 30}};
    om_counter_opts o = opts_rate(0);
    o.gap_intervals = 0;
    o.active_from = HOUR / 2;
    o.active_until = 2 * HOUR;
    om_counter *c = om_counter_new(s, 4, &o);
    om_consumption r;
    om_counter_consumption(c, 0, 3 * HOUR, &r);
    om_test_assert_near(r.value, 15);
    assert_int_equal(r.expected_ms, 3 * HOUR / 2);
    assert_int_equal(r.actual_ms, 3 * HOUR / 2);
    om_counter_consumption(c, 2 * HOUR, 3 * HOUR, &r);
    assert_int_equal(r.expected_ms, 0);
    om_test_assert_exact(r.value, 0);
    om_counter_free(c);
}

/* ---- properties ------------------------------------------------------------- */

/* A deterministic series with every kind of event in it. */
static size_t make_series(om_sample *s, size_t cap, uint32_t seed, double width)
{
    size_t n = 0;
    double v = width > 0 ? width - 40 : 1000;
    int64_t t = 0;
    uint32_t x = seed;
    while (n < cap) {
        x = x * 1103515245u + 12345u;
        unsigned r = (x >> 16) % 1000;
        t += MIN;
        if (r < 5)
            t += 45 * MIN; /* gap */
        v += 0.2 + (double)((x >> 8) % 100) / 200.0;
        if (width > 0 && v >= width)
            v -= width;
        double out = v;
        if (r >= 5 && r < 10)
            out = 0; /* glitch */
        if (r == 10)
            v = 0.1; /* reset */
        s[n++] = (om_sample){t, out};
    }
    return n;
}

static void check_additive(const om_counter *c, int64_t a, int64_t end, int64_t step)
{
    for (int64_t b = a; b <= end; b += step) {
        om_consumption ab, bc, ac;
        om_counter_consumption(c, a, b, &ab);
        om_counter_consumption(c, b, end, &bc);
        om_counter_consumption(c, a, end, &ac);
        om_test_assert_near(ab.value + bc.value, ac.value);
        om_test_assert_near(ab.estimated + bc.estimated, ac.estimated);
        assert_true(ab.actual_ms + bc.actual_ms == ac.actual_ms);
        assert_true(ab.known_ms + bc.known_ms == ac.known_ms);
        assert_true(ab.value >= 0 && bc.value >= 0);
    }
}

static void test_property_additive(void **state)
{
    static om_sample s[3000];
    om_counter_opts o = opts_rate(120);
    o.width = 100000;
    om_counter_break br[] = {{700 * MIN, 1e5 - 1, 0}, {1900 * MIN, 500, 7}};
    o.breaks = br;
    o.nbreaks = 2;
    for (uint32_t seed = 1; seed <= 5; seed++) {
        size_t n = make_series(s, 3000, seed, o.width);
        om_counter *c = om_counter_new(s, n, &o);
        assert_non_null(c);
        size_t ne;
        om_counter_events(c, &ne);
        assert_true(ne > 5);
        check_additive(c, -5 * MIN, s[n - 1].t + 5 * MIN, 7 * MIN + 13);
        check_additive(c, 333 * MIN + 17, 2100 * MIN, 61 * MIN + 1);
        om_counter_free(c);
    }
}

static void test_property_duplicates_change_nothing(void **state)
{
    static om_sample s[2000], d[4000];
    om_counter_opts o = opts_rate(120);
    o.width = 100000;
    size_t n = make_series(s, 2000, 7, o.width);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        d[m++] = s[i];
        if (i % 3 == 0)
            d[m++] = s[i];
        if (i % 7 == 0)
            d[m++] = s[i];
    }
    om_counter *c1 = om_counter_new(s, n, &o);
    om_counter *c2 = om_counter_new(d, m, &o);
    size_t n1, n2;
    const om_counter_event *e1 = om_counter_events(c1, &n1);
    const om_counter_event *e2 = om_counter_events(c2, &n2);
    assert_int_equal(n1, n2);
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(e1[i].kind, e2[i].kind);
        assert_true(e1[i].t == e2[i].t);
    }
    for (int64_t a = 0; a < s[n - 1].t; a += 97 * MIN + 11) {
        om_consumption r1, r2;
        om_counter_consumption(c1, a, a + 300 * MIN, &r1);
        om_counter_consumption(c2, a, a + 300 * MIN, &r2);
        assert_true(r1.value == r2.value);
        assert_true(r1.estimated == r2.estimated);
        assert_true(r1.actual_ms == r2.actual_ms);
    }
    om_counter_free(c1);
    om_counter_free(c2);
}

static void test_property_events_ordered(void **state)
{
    static om_sample s[3000];
    om_counter_opts o = opts_rate(120);
    o.width = 100000;
    size_t n = make_series(s, 3000, 3, o.width);
    om_counter *c = om_counter_new(s, n, &o);
    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    for (size_t i = 1; i < ne; i++)
        assert_true(ev[i - 1].t <= ev[i].t);
    assert_true(count_events(c, OM_CEV_GAP) > 0);
    assert_true(count_events(c, OM_CEV_GLITCH) > 0);
    assert_true(count_events(c, OM_CEV_WRAP) == 1);
    assert_true(count_events(c, OM_CEV_RESET) > 0);
    om_counter_free(c);
}

static void test_samples_count_and_names(void **state)
{
    om_sample s[] = {{0, 1}, {10, 2}, {20, 3}, {30, 4}};
    assert_int_equal(om_samples_count(s, 4, 10, 30), 2);
    assert_int_equal(om_samples_count(s, 4, 31, 40), 0);
    for (int k = 0; k < OM_CEV__COUNT; k++) {
        om_counter_event_kind back;
        assert_int_equal(om_counter_event_from_name(om_counter_event_name(k), &back), 0);
        assert_int_equal(back, k);
    }
    om_counter_event_kind x;
    assert_int_equal(om_counter_event_from_name("nope", &x), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary_interpolation),
        cmocka_unit_test(test_reading_exactly_at_boundary),
        cmocka_unit_test(test_partial_data),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_gap_estimated_share),
        cmocka_unit_test(test_gap_threshold_is_strict),
        cmocka_unit_test(test_consecutive_gaps_are_one_event),
        cmocka_unit_test(test_replacement_without_values),
        cmocka_unit_test(test_rollover),
        cmocka_unit_test(test_wrap_needs_plausible_consumption),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_reset_level_without_rate),
        cmocka_unit_test(test_backstep),
        cmocka_unit_test(test_glitch_momentary_zero),
        cmocka_unit_test(test_glitch_two_readings_and_dip),
        cmocka_unit_test(test_glitch_spike_up),
        cmocka_unit_test(test_jump_not_counted),
        cmocka_unit_test(test_jump_after_long_gap_is_plausible),
        cmocka_unit_test(test_unconfirmed_drop_at_end),
        cmocka_unit_test(test_conflict_keeps_first),
        cmocka_unit_test(test_duplicate_conflict_is_one_conflict),
        cmocka_unit_test(test_replacement),
        cmocka_unit_test(test_replacement_reading_at_instant_and_nonzero_initial),
        cmocka_unit_test(test_replacement_outside_readings),
        cmocka_unit_test(test_glitch_lookahead_stops_at_replacement),
        cmocka_unit_test(test_active_period),
        cmocka_unit_test(test_property_additive),
        cmocka_unit_test(test_property_duplicates_change_nothing),
        cmocka_unit_test(test_property_events_ordered),
        cmocka_unit_test(test_samples_count_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

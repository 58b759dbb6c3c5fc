/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_retention.c - which readings retention keeps (report/retention.h),
 * and that the consumption engine gives the same figures, to the bit, from
 * what is kept as from everything: boundaries' neighbours, every event's
 * readings, no new gap, the extremes of each quarter hour.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/report/retention.h"
#include "testutil.h"

#define MIN 60000LL
#define DAY (1440 * MIN)

/* A counter read every minute for `days` days from t0, the load higher by
 * day; one reading far off at `glitch` (0: none). */
static om_sample *minute_counter(int64_t t0, int days, size_t glitch, size_t *n)
{
    *n = (size_t)days * 1440;
    om_sample *s = calloc(*n, sizeof *s);
    long centi = 123456789; /* kWh x 100: a register with two decimals */
    for (size_t i = 0; i < *n; i++) {
        int hour = (int)((i / 60) % 24);
        centi += (hour >= 7 && hour < 19 ? 73 : 11) + (long)(i % 3);
        /* Decimal values, not binary fractions: steps between them round,
         * as a real meter's do. */
        double v = (double)centi / 100.0;
        s[i] = (om_sample){t0 + (int64_t)i * MIN, i == glitch && glitch ? v * 50 : v};
    }
    return s;
}

static om_sample *kept_only(const om_sample *s, size_t n, const bool *keep, size_t *k)
{
    om_sample *out = calloc(n, sizeof *out);
    *k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            out[(*k)++] = s[i];
    return out;
}

static void same_consumption(const om_counter *a, const om_counter *b, int64_t from, int64_t to)
{
    om_consumption x, y;
    assert_int_equal(om_counter_consumption(a, from, to, &x), 0);
    assert_int_equal(om_counter_consumption(b, from, to, &y), 0);
    /* Bit for bit: the curve's places do not depend on the dropped readings. */
    assert_memory_equal(&x.value, &y.value, sizeof x.value);
    assert_memory_equal(&x.estimated, &y.estimated, sizeof x.estimated);
    assert_int_equal(x.actual_ms, y.actual_ms);
    assert_int_equal(x.known_ms, y.known_ms);
}

static void test_counter_keeps_what_the_figures_need(void **state)
{
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    size_t n;
    om_sample *s = minute_counter(t0 - DAY, 12, 5 * 1440 + 77, &n);
    om_counter_opts copts;
    om_counter_opts_default(&copts);
    copts.max_rate_per_h = 500;
    int64_t anchors[] = {t0 + 3 * DAY, t0 + 3 * DAY + 5 * 60 * MIN, t0 + 7 * DAY + 17};
    om_retain_opts o = {.from = t0, .to = t0 + 10 * DAY, .max_spacing_ms = 10 * MIN,
                        .anchors = anchors, .nanchors = 3, .neighbours = 4,
                        .around_events = 4};
    bool *keep = calloc(n, sizeof *keep);
    assert_int_equal(om_retain_counter(s, n, &copts, &o, keep), 0);
    size_t k;
    om_sample *t = kept_only(s, n, keep, &k);
    size_t inside = 0, kept_inside = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].t >= o.from && s[i].t < o.to) {
            inside++;
            kept_inside += keep[i];
        }
    assert_true(kept_inside < inside / 8); /* most of the minutes go */
    /* Outside the period nothing is dropped. */
    for (size_t i = 0; i < n; i++)
        if (s[i].t < o.from || s[i].t >= o.to)
            assert_true(keep[i]);
    /* No kept readings further apart than the spacing (no new gap). */
    for (size_t i = 1; i < k; i++)
        assert_true(t[i].t - t[i - 1].t <= 10 * MIN);
    /* Anchors: four readings on each side. */
    size_t at = 1440 * 4; /* t0 + 3 days */
    for (size_t i = at - 4; i < at + 4; i++)
        assert_true(keep[i]);
    /* The glitch and four readings on each side of it. */
    size_t g = 5 * 1440 + 77;
    for (size_t i = g - 4; i <= g + 4; i++)
        assert_true(keep[i]);
    om_counter *full = om_counter_new(s, n, &copts), *thin = om_counter_new(t, k, &copts);
    size_t ne_full, ne_thin;
    const om_counter_event *ef = om_counter_events(full, &ne_full);
    const om_counter_event *et = om_counter_events(thin, &ne_thin);
    assert_int_equal(ne_full, ne_thin);
    assert_int_equal(ef[0].kind, OM_CEV_GLITCH);
    assert_int_equal(et[0].t, ef[0].t);
    /* Periods ending at kept readings and at anchors: the same figures. */
    same_consumption(full, thin, t0, t0 + 10 * DAY);
    same_consumption(full, thin, t0 + 3 * DAY, t0 + 3 * DAY + 5 * 60 * MIN);
    same_consumption(full, thin, t0 + 2 * DAY, t0 + 7 * DAY + 17);
    om_counter_free(full);
    om_counter_free(thin);
    free(t);
    free(keep);
    free(s);
}

/* A water counter that restarts near zero half way: after the reset the
 * readings are small numbers and the curve's places large ones, where
 * adding up the steps one by one would round differently with fewer
 * readings. The places are the run's base plus the distance from it, so
 * what retention keeps gives the same figures to the bit. */
static void test_counter_after_a_reset(void **state)
{
    int64_t t0 = om_test_iso("2024-05-01T00:00:00Z");
    size_t n = 4 * 1440;
    om_sample *s = calloc(n, sizeof *s);
    long litres = 678000;
    for (size_t i = 0; i < n; i++) {
        if (i == n / 2)
            litres = 10; /* a new register reads 0.010 m³ */
        int hour = (int)((i / 60) % 24);
        litres += hour >= 7 && hour < 19 ? 2 + (long)(i % 3) : (i % 2 ? 1 : 0);
        s[i] = (om_sample){t0 + (int64_t)i * MIN, (double)litres / 1000.0};
    }
    om_counter_opts copts;
    om_counter_opts_default(&copts);
    copts.max_rate_per_h = 10;
    int64_t anchors[] = {t0 + DAY, t0 + 3 * DAY}; /* the period's ends below */
    om_retain_opts o = {.from = t0, .to = t0 + 4 * DAY, .max_spacing_ms = 10 * MIN,
                        .anchors = anchors, .nanchors = 2, .neighbours = 4, .around_events = 4};
    bool *keep = calloc(n, sizeof *keep);
    assert_int_equal(om_retain_counter(s, n, &copts, &o, keep), 0);
    size_t k;
    om_sample *t = kept_only(s, n, keep, &k);
    om_counter *full = om_counter_new(s, n, &copts), *thin = om_counter_new(t, k, &copts);
    size_t ne;
    assert_int_equal(om_counter_events(full, &ne)[0].kind, OM_CEV_RESET);
    for (size_t i = 0; i < k; i++) {
        double a, b;
        assert_int_equal(om_counter_value_at(full, t[i].t, &a), 0);
        assert_int_equal(om_counter_value_at(thin, t[i].t, &b), 0);
        assert_memory_equal(&a, &b, sizeof a);
    }
    same_consumption(full, thin, t0 + DAY, t0 + 3 * DAY);
    om_counter_free(full);
    om_counter_free(thin);
    free(t);
    free(keep);
    free(s);
}

/* A gap stays the gap it was: both its ends are kept. */
static void test_counter_gap_ends(void **state)
{
    int64_t t0 = om_test_iso("2024-03-01T00:00:00Z");
    size_t n;
    om_sample *s = minute_counter(t0, 2, 0, &n);
    /* Two hours missing. */
    size_t from = 600, to = 720;
    memmove(&s[from], &s[to], (n - to) * sizeof *s);
    n -= to - from;
    om_counter_opts copts;
    om_counter_opts_default(&copts);
    om_retain_opts o = {.from = t0, .to = t0 + 2 * DAY, .max_spacing_ms = 10 * MIN,
                        .neighbours = 4, .around_events = 4};
    bool *keep = calloc(n, sizeof *keep);
    assert_int_equal(om_retain_counter(s, n, &copts, &o, keep), 0);
    assert_true(keep[from - 1]);
    assert_true(keep[from]);
    size_t k;
    om_sample *t = kept_only(s, n, keep, &k);
    om_counter *full = om_counter_new(s, n, &copts), *thin = om_counter_new(t, k, &copts);
    size_t a, b;
    const om_counter_event *ea = om_counter_events(full, &a);
    const om_counter_event *eb = om_counter_events(thin, &b);
    assert_int_equal(a, 1);
    assert_int_equal(b, 1);
    assert_int_equal(ea[0].kind, OM_CEV_GAP);
    assert_int_equal(eb[0].t, ea[0].t);
    assert_int_equal(eb[0].t_end, ea[0].t_end);
    same_consumption(full, thin, t0, t0 + 2 * DAY);
    om_counter_free(full);
    om_counter_free(thin);
    free(t);
    free(keep);
    free(s);
}

/* Instantaneous values: the lowest and highest of each quarter hour. */
static void test_rates_keep_extremes(void **state)
{
    int64_t t0 = om_test_iso("2024-03-01T00:00:00Z");
    om_sample s[60];
    for (int i = 0; i < 60; i++)
        s[i] = (om_sample){t0 + i * MIN, 10.0 + (double)((i * 7) % 13)};
    bool keep[60];
    om_retain_rates(s, 60, t0 + 15 * MIN, t0 + 45 * MIN, OM_RETAIN_BUCKET_MS, keep);
    for (int q = 0; q < 4; q++) {
        double lo = INFINITY, hi = -INFINITY, klo = INFINITY, khi = -INFINITY;
        int kept = 0;
        for (int i = q * 15; i < q * 15 + 15; i++) {
            lo = fmin(lo, s[i].v);
            hi = fmax(hi, s[i].v);
            if (keep[i]) {
                kept++;
                klo = fmin(klo, s[i].v);
                khi = fmax(khi, s[i].v);
            }
        }
        if (q == 0 || q == 3) {
            assert_int_equal(kept, 15); /* outside the period */
        } else {
            assert_true(kept <= 2);
            assert_true(klo == lo && khi == hi);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_keeps_what_the_figures_need),
        cmocka_unit_test(test_counter_after_a_reset),
        cmocka_unit_test(test_counter_gap_ends),
        cmocka_unit_test(test_rates_keep_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

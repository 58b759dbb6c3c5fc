/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_consumption.c - the consumption engine (consumption.h) on reading
 * series the input describes: normal steps, spikes, dips, resets, wraps,
 * jumps, conflicts, gaps, replacements, with the options a policy can set.
 * Readings stay in the domain the aggregator admits (times between 2000
 * and 9999, counter values from 0 to 1e15).
 *
 * Invariants (docs/methodology.md):
 *   - no negative consumption, over any period;
 *   - additivity: [a, c) = [a, b) + [b, c) for a <= b <= c, within the
 *     rounding of the differences of one curve;
 *   - duplicates change nothing: the same series with some readings sent
 *     twice gives the same figures and the same events;
 *   - the estimated part is within the value, known_ms within expected_ms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/report/consumption.h"

#define MAX_SAMPLES 128
#define T0 INT64_C(1704067200000) /* 2024-01-01 */

static double next_value(fuzz_input *in, double prev, double width)
{
    uint8_t mode = fuzz_u8(in) % 8;
    switch (mode) {
    case 0:
    case 1:
    case 2: return prev + fuzz_u16(in) / 16.0;                 /* normal */
    case 3: return prev + (double)fuzz_u32(in) * 1000.0;         /* a jump or a spike */
    case 4: return prev - fuzz_u16(in) / 4.0;                    /* a dip or a backstep */
    case 5: return fuzz_u8(in) / 8.0;                            /* a reset, near zero */
    case 6: return width > 0 ? fmod(prev + fuzz_u16(in), width) : prev; /* a wrap */
    default: return (double)fuzz_u64(in) / 18446.744073709552;   /* anything up to 1e15 */
    }
}

static double clamp_value(double v)
{
    if (!(v >= 0))
        return 0;
    return v > 1e15 ? 1e15 : v;
}

static size_t read_series(fuzz_input *in, om_sample *s, const om_counter_opts *o)
{
    size_t n = fuzz_u8(in) % MAX_SAMPLES;
    int64_t t = T0;
    double v = fuzz_u16(in);
    for (size_t i = 0; i < n; i++) {
        uint8_t gap = fuzz_u8(in);
        t += gap < 8 ? 0 : gap < 240 ? (int64_t)(gap % 16) * 15000 + 30000
                                     : (int64_t)fuzz_u16(in) * 60000;
        v = clamp_value(next_value(in, v, o->width));
        s[i] = (om_sample){t, v};
    }
    return n;
}

static void read_opts(fuzz_input *in, om_counter_opts *o, om_counter_break *breaks)
{
    om_counter_opts_default(o);
    static const double widths[] = {0, 0, 100000, 65536, 1e9};
    static const double rates[] = {0, 0, 10, 1000, 50000};
    o->width = widths[fuzz_u8(in) % 5];
    o->max_rate_per_h = rates[fuzz_u8(in) % 5];
    o->interval_ms = (int64_t)(fuzz_u8(in) % 4 + 1) * 30000;
    o->gap_intervals = fuzz_u8(in) % 12;
    o->reset_level = fuzz_u8(in) % 2 ? 5 : 0;
    o->lookahead = fuzz_u8(in) % 5;
    if (fuzz_u8(in) % 4 == 0) {
        o->active_from = T0 + (int64_t)fuzz_u16(in) * 60000;
        o->active_until = o->active_from + (int64_t)fuzz_u16(in) * 60000 + 1;
    }
    o->nbreaks = fuzz_u8(in) % 3;
    int64_t at = T0;
    for (size_t i = 0; i < o->nbreaks; i++) {
        at += (int64_t)(fuzz_u16(in) + 1) * 15000;
        uint8_t k = fuzz_u8(in);
        /* One call per statement: the order the input is read in must not
         * depend on the compiler (a finding replays in every build). */
        double old_final = fuzz_u32(in) / 8.0;
        double new_initial = fuzz_u16(in) / 8.0;
        breaks[i] = (om_counter_break){at, k & 1 ? NAN : old_final, k & 2 ? NAN : new_initial};
    }
    o->breaks = breaks;
}

static void check_period(const om_counter *c, int64_t a, int64_t b, om_consumption *out)
{
    FUZZ_CHECK(om_counter_consumption(c, a, b, out) == 0, "consumption refused a <= b");
    FUZZ_CHECK(out->value >= 0, "negative consumption %.17g over [%lld, %lld)", out->value,
               (long long)a, (long long)b);
    FUZZ_CHECK(out->estimated >= 0 && out->estimated <= out->value * (1 + 1e-12) + 1e-9,
               "estimated %.17g of %.17g", out->estimated, out->value);
    FUZZ_CHECK(out->known_ms >= 0 && out->known_ms <= out->expected_ms &&
                   out->actual_ms >= 0 && out->actual_ms <= out->known_ms,
               "times out of order");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    om_counter_opts o;
    om_counter_break breaks[3];
    read_opts(&in, &o, breaks);
    om_sample s[MAX_SAMPLES], dup[2 * MAX_SAMPLES];
    size_t n = read_series(&in, s, &o);
    int64_t span = n ? s[n - 1].t - T0 + 600000 : 600000;
    int64_t p[3];
    for (int i = 0; i < 3; i++)
        p[i] = T0 - 300000 + (int64_t)(fuzz_u32(&in) % (uint64_t)(span + 600000));
    if (p[0] > p[1]) { int64_t x = p[0]; p[0] = p[1]; p[1] = x; }
    if (p[1] > p[2]) { int64_t x = p[1]; p[1] = p[2]; p[2] = x; }
    if (p[0] > p[1]) { int64_t x = p[0]; p[0] = p[1]; p[1] = x; }

    om_counter *c = om_counter_new(s, n, &o);
    FUZZ_CHECK(c != NULL, "a valid series was refused");
    om_consumption ab, bc, ac;
    check_period(c, p[0], p[1], &ab);
    check_period(c, p[1], p[2], &bc);
    check_period(c, p[0], p[2], &ac);
    double tol = 1e-12 * (ab.value + bc.value + ac.value) + 1e-9;
    double top;
    int64_t first, last;
    if (om_counter_span(c, &first, &last) == 0 && om_counter_value_at(c, last, &top) == 0)
        tol += 4e-16 * fabs(top) * 4;
    FUZZ_CHECK(fabs(ab.value + bc.value - ac.value) <= tol,
               "not additive: %.17g + %.17g != %.17g", ab.value, bc.value, ac.value);

    /* The same readings, some sent twice. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        dup[m++] = s[i];
        if (fuzz_u8(&in) % 3 == 0)
            dup[m++] = s[i];
    }
    om_counter *d = om_counter_new(dup, m, &o);
    FUZZ_CHECK(d != NULL, "a valid series with duplicates was refused");
    om_consumption again;
    check_period(d, p[0], p[2], &again);
    FUZZ_CHECK(again.value == ac.value && again.estimated == ac.estimated &&
                   again.actual_ms == ac.actual_ms,
               "duplicates changed the figures: %.17g != %.17g", again.value, ac.value);
    size_t ne, nd;
    const om_counter_event *ev = om_counter_events(c, &ne);
    const om_counter_event *evd = om_counter_events(d, &nd);
    FUZZ_CHECK(ne == nd, "duplicates changed the events: %zu != %zu", ne, nd);
    for (size_t i = 0; i < ne; i++)
        FUZZ_CHECK(ev[i].kind == evd[i].kind && ev[i].t == evd[i].t,
                   "duplicates changed event %zu", i);
    om_counter_free(d);
    om_counter_free(c);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_decompose.c - why a figure moved: the LMDI effects add up to the
 * change on random portfolios (zeros, sites opening and closing, headcount,
 * factors), and so do their printed roundings; a pure area change is all
 * floor-area effect, a restated factor contributes exactly nothing; and
 * the worked example of docs/methodology.md ("Why it moved") is read from
 * the page and must come out as written there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/report/decompose.h"
#include "testutil.h"

#define DOC OM_SOURCE_DIR "/docs/methodology.md"

static double sum_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* A generator good enough for properties, and the same on every machine. */
static uint64_t rng = 88172645463325252ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_site(om_decomp_site *s, bool emissions)
{
    memset(s, 0, sizeof *s);
    double u = uniform();
    s->in0 = u > 0.1;
    s->in1 = u < 0.9;
    s->area0 = uniform() < 0.05 ? 0 : 100 + 5000 * uniform();
    s->area1 = uniform() < 0.3 ? s->area0 : 100 + 5000 * uniform();
    if (uniform() < 0.5) {
        s->heads0 = 1 + floor(200 * uniform());
        s->heads1 = uniform() < 0.2 ? 0 : 1 + floor(200 * uniform());
    }
    s->activity0 = uniform() < 0.05 ? 0 : 1000 * uniform();
    s->activity1 = uniform() < 0.05 ? 0 : 1000 * uniform();
    s->factor0 = s->factor1 = 1;
    if (emissions) {
        s->factor0 = uniform() < 0.05 ? 0 : uniform();
        s->factor1 = uniform() < 0.5 ? s->factor0 : uniform();
    }
    s->value0 = s->activity0 * s->factor0;
    s->value1 = s->activity1 * s->factor1;
}

static void test_effects_add_up(void **state)
{
    (void)state;
    for (int round = 0; round < 20000; round++) {
        bool emissions = round % 2;
        size_t n = 1 + (size_t)(8 * uniform());
        om_decomp_site sites[8];
        double t0 = 0, t1 = 0, biggest = 0;
        for (size_t i = 0; i < n; i++) {
            random_site(&sites[i], emissions);
            if (sites[i].in0)
                t0 += sites[i].value0;
            if (sites[i].in1)
                t1 += sites[i].value1;
        }
        om_decomp_result r;
        om_decompose(sites, n, emissions, t0, t1, &r);
        for (int e = 0; e < OM_EFFECT__COUNT; e++) {
            assert_true(isfinite(r.effects[e]));
            biggest = fmax(biggest, fabs(r.effects[e]));
        }
        if (!emissions)
            om_test_assert_exact(r.effects[OM_EFFECT_FACTOR], 0);
        /* Full precision: within a few units in the last place of the
         * largest term (the residual is carried by the intensity). */
        double diff = fabs(sum_of(r.effects, OM_EFFECT__COUNT) - (t1 - t0));
        if (diff > 8 * 2.2e-16 * fmax(biggest, fmax(t0, t1))) {
            print_error("round %d: effects add up to %.17g, change %.17g\n", round,
                        sum_of(r.effects, OM_EFFECT__COUNT), t1 - t0);
            fail();
        }
        /* Printed: the rounded effects add up to the rounded change, to the
         * last digit, at every rounding the formats use. */
        for (int dec = 0; dec <= 4; dec++) {
            long long units[OM_EFFECT__COUNT], total = 0;
            om_round_to_total(r.effects, OM_EFFECT__COUNT, t1 - t0, dec, units);
            for (int e = 0; e < OM_EFFECT__COUNT; e++)
                total += units[e];
            assert_true(total == llround((t1 - t0) * pow(10, dec)));
            /* and no part moves by more than one unit from its own rounding */
            for (int e = 0; e < OM_EFFECT__COUNT; e++)
                assert_true(fabs((double)units[e] - r.effects[e] * pow(10, dec)) < 1.0 + 1e-6);
        }
    }
}

static void test_pure_area_change(void **state)
{
    (void)state;
    /* Twice the area, the same energy per m²: all of the change is area. */
    om_decomp_site s = {.in0 = true, .in1 = true, .area0 = 1000, .area1 = 2000,
                        .activity0 = 150, .activity1 = 300, .factor0 = 1, .factor1 = 1,
                        .value0 = 150, .value1 = 300};
    om_decomp_result r;
    om_decompose(&s, 1, false, 150, 300, &r);
    om_test_assert_near_what(r.effects[OM_EFFECT_AREA], 150, "area effect");
    om_test_assert_near_what(r.effects[OM_EFFECT_AREA] / 150, 1, "100 % area");
    assert_true(fabs(r.effects[OM_EFFECT_INTENSITY]) < 1e-9);
    om_test_assert_exact(r.effects[OM_EFFECT_SITES], 0);
    assert_false(r.has_headcount);
    /* Not a power of two: 1234.5 m² to 1604.85, 0.37 MWh per m². */
    s.area0 = 1234.5;
    s.area1 = 1604.85;
    s.value0 = s.activity0 = 0.37 * s.area0;
    s.value1 = s.activity1 = 0.37 * s.area1;
    om_decompose(&s, 1, false, s.value0, s.value1, &r);
    om_test_assert_near_what(r.effects[OM_EFFECT_AREA], s.value1 - s.value0, "area effect");
    assert_true(fabs(r.effects[OM_EFFECT_INTENSITY]) < 1e-9 * (s.value1 - s.value0));
}

static void test_restated_factor_is_zero(void **state)
{
    (void)state;
    /* Emissions with the same factor both years: the factor contributes
     * exactly nothing; the headcount explains part of the area effect. */
    om_decomp_site s = {.in0 = true, .in1 = true, .area0 = 800, .area1 = 600, .heads0 = 40,
                        .heads1 = 36, .activity0 = 95.2, .activity1 = 80.1,
                        .factor0 = 0.4168, .factor1 = 0.4168};
    s.value0 = s.activity0 * s.factor0;
    s.value1 = s.activity1 * s.factor1;
    om_decomp_result r;
    om_decompose(&s, 1, true, s.value0, s.value1, &r);
    om_test_assert_exact(r.effects[OM_EFFECT_FACTOR], 0);
    assert_true(r.has_headcount);
    double w = (s.value1 - s.value0) / log(s.value1 / s.value0);
    om_test_assert_near_what(r.area_headcount, w * log(36.0 / 40), "headcount part");
    om_test_assert_near_what(r.effects[OM_EFFECT_AREA], w * log(600.0 / 800), "area effect");
    /* A new factor: its effect is the log-mean times its log ratio. */
    s.factor1 = 0.40;
    s.value1 = s.activity1 * s.factor1;
    om_decompose(&s, 1, true, s.value0, s.value1, &r);
    w = (s.value1 - s.value0) / log(s.value1 / s.value0);
    om_test_assert_near_what(r.effects[OM_EFFECT_FACTOR], w * log(0.40 / 0.4168), "factor");
}

static void test_sites_and_zeros(void **state)
{
    (void)state;
    om_decomp_site s[3] = {
        /* closed: -V0 */
        {.in0 = true, .area0 = 500, .activity0 = 40, .factor0 = 1, .value0 = 40},
        /* opened: +V1 */
        {.in1 = true, .area1 = 700, .activity1 = 55, .factor1 = 1, .value1 = 55},
        /* no water used last year: the whole change is intensity */
        {.in0 = true, .in1 = true, .area0 = 300, .area1 = 400, .activity0 = 0,
         .activity1 = 12, .factor0 = 1, .factor1 = 1, .value0 = 0, .value1 = 12},
    };
    om_decomp_result r;
    om_decompose(s, 3, false, 40, 67, &r);
    om_test_assert_exact(r.effects[OM_EFFECT_SITES], 15);
    om_test_assert_exact(r.effects[OM_EFFECT_INTENSITY], 12);
    om_test_assert_exact(r.effects[OM_EFFECT_AREA], 0);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.removed, 1);
    assert_int_equal(r.continuing, 1);
}

/* ---- the worked example of docs/methodology.md ------------------------- */

static char *read_doc(void)
{
    FILE *f = fopen(DOC, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *block(const char *doc, const char *marker)
{
    char tag[128];
    snprintf(tag, sizeof tag, "<!-- decomposition example: %s -->", marker);
    const char *p = strstr(doc, tag);
    if (!p)
        fail_msg("%s: no \"%s\"", DOC, tag);
    p = strchr(strstr(p, "```"), '\n') + 1;
    const char *end = strstr(p, "```");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

static double number(const char *blk, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s = ", key);
    const char *p = strstr(blk, pat);
    if (!p)
        fail_msg("%s: no \"%s\" in the results", DOC, pat);
    return strtod(p + strlen(pat), NULL);
}

/* "" in the CSV: the site was not there that year. */
static bool field(char **p, double *v)
{
    char *end = strpbrk(*p, ",\n");
    bool has = end != *p;
    *v = has ? strtod(*p, NULL) : 0;
    *p = end && *end ? end + 1 : end;
    return has;
}

static void test_worked_example(void **state)
{
    (void)state;
    char *doc = read_doc();
    char *sites_csv = block(doc, "sites"), *results = block(doc, "results");
    om_decomp_site sites[8];
    size_t n = 0;
    double t0 = 0, t1 = 0;
    char *line = strchr(sites_csv, '\n') + 1; /* past the header */
    while (line && *line && n < 8) {
        om_decomp_site *s = &sites[n++];
        memset(s, 0, sizeof *s);
        char *p = strchr(line, ',') + 1;
        double e0, e1;
        field(&p, &s->area0);
        field(&p, &s->area1);
        s->in0 = field(&p, &e0);
        s->in1 = field(&p, &e1);
        s->activity0 = s->value0 = e0;
        s->activity1 = s->value1 = e1;
        s->factor0 = s->factor1 = 1;
        t0 += e0;
        t1 += e1;
        line = p;
    }
    assert_int_equal(n, 3);
    om_decomp_result r;
    om_decompose(sites, n, false, t0, t1, &r);
    om_test_assert_near_what(t1 - t0, number(results, "change"), "change");
    om_test_assert_near_what(r.effects[OM_EFFECT_SITES], number(results, "sites"), "sites");
    om_test_assert_near_what(r.effects[OM_EFFECT_AREA], number(results, "floor_area"),
                             "floor area");
    om_test_assert_near_what(r.effects[OM_EFFECT_INTENSITY], number(results, "intensity"),
                             "intensity");
    om_test_assert_near_what(r.effects[OM_EFFECT_FACTOR], number(results, "factor"), "factor");
    double points[OM_EFFECT__COUNT];
    for (int e = 0; e < OM_EFFECT__COUNT; e++)
        points[e] = r.effects[e] / t0 * 100;
    long long units[OM_EFFECT__COUNT];
    om_round_to_total(points, OM_EFFECT__COUNT, (t1 - t0) / t0 * 100, 1, units);
    om_test_assert_exact((double)units[OM_EFFECT_SITES] / 10, number(results, "points_sites"));
    om_test_assert_exact((double)units[OM_EFFECT_AREA] / 10, number(results, "points_floor_area"));
    om_test_assert_exact((double)units[OM_EFFECT_INTENSITY] / 10,
                         number(results, "points_intensity"));
    free(sites_csv);
    free(results);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effects_add_up),
        cmocka_unit_test(test_pure_area_change),
        cmocka_unit_test(test_restated_factor_is_zero),
        cmocka_unit_test(test_sites_and_zeros),
        cmocka_unit_test(test_worked_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

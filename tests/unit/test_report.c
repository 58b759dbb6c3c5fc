/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report.c - the fixture portfolio (tests/data/report/sites) from
 * readings to the annual report: every KPI against figures computed by
 * hand (to 1e-9 relative), the Markdown, CSV and JSON writers against
 * golden files, and the rollup's monthly figures.
 *
 * Readings are generated here, deterministically, every 30 minutes from
 * 2021-12-31T00:00Z to 2025-01-01T12:00Z, at constant rates that change only
 * at local year (or, for alpha-light, month) boundaries, so that every
 * figure is a rate times a number of hours (2022 has 2023's rates: it is the
 * baseline of the energy target). On top of that:
 *   alpha   moved on 2024-07-01 (old main until then, new main after),
 *           water counter (32-bit pulses x 10 L) rolls over on 2024-01-01,
 *           sub-meters exceed the main meter in August 2024
 *   bravo   (London) a week with no readings, 2024-03-10 to 03-17 UTC,
 *           and a momentary zero reading on 2024-06-05T12:00Z
 *   charlie (Singapore) main meter replaced on 2024-05-15T10:10+08:00
 *           between two readings, no water meter, 30 MWh of certificates;
 *           its water is billed by the landlord (sites/bills/charlie.csv) on
 *           an account it shares with delta, split by floor area
 *   delta   (Singapore) on charlie's water account until its own water
 *           meter starts on 2024-07-15: billed, then metered
 *   bravo's electricity invoices for 2024-Q1 (sites/bills/bravo.csv) are
 *           never counted: its meter covers their time
 *
 * Run with --write-db FILE to store the same readings in an aggregator
 * database instead (tests/integration/test_report_cli.sh uses it).
 * OM_UPDATE_GOLDEN=1 rewrites the golden files.
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

#include "officemeter/base/calendar.h"
#include "officemeter/config/bills.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/factors.h"
#include "officemeter/base/isotime.h"
#include "officemeter/report/kpi.h"
#include "officemeter/report/rollup.h"
#include "officemeter/config/site.h"
#include "officemeter/store/store.h"
#include "testutil.h"

#define FIXTURE OM_TEST_DATA "/report"
#define STEP_MS (30 * 60 * 1000LL)
#define HOUR_MS 3600000.0

/* ---- the portfolio and its readings ------------------------------------- */

typedef struct {
    const char *from; /* the rate applies from this instant (until the next) */
    double per_hour;  /* kW or m³/h */
} rate_seg;

typedef struct {
    const char *meter;
    const char *first, *last; /* readings, both included */
    double start;             /* counter at `first` (a replaced meter: from the site file) */
    rate_seg segs[4];
} series_def;

static const series_def series[] = {
    {"alpha-main", "2021-12-31T00:00:00Z", "2024-07-01T00:00:00+08:00", 35000,
     {{"2021-12-31T00:00:00Z", 22}, {"2024-01-01T00:00:00+08:00", 20}}},
    {"alpha-main2", "2024-07-01T00:00:00+08:00", "2025-01-01T12:00:00Z", 100,
     {{"2024-07-01T00:00:00+08:00", 15}}},
    {"alpha-hvac", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 5000,
     {{"2021-12-31T00:00:00Z", 8}}},
    {"alpha-light", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 700,
     {{"2021-12-31T00:00:00Z", 5}, {"2024-08-01T00:00:00+08:00", 12},
      {"2024-09-01T00:00:00+08:00", 5}}},
    /* start: the 32-bit counter's width less 2 m³/h x 17536 h (to local
     * 2024-01-01) less 60.25 m³, so it wraps 30h15 into 2024, between the
     * readings of 2024-01-01T22:00Z and 22:30Z */
    {"alpha-water", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", -35132.25,
     {{"2021-12-31T00:00:00Z", 2}}},
    {"bravo-main", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 55000,
     {{"2021-12-31T00:00:00Z", 13}, {"2024-01-01T00:00:00Z", 12}}},
    {"bravo-servers", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 2000,
     {{"2021-12-31T00:00:00Z", 4}}},
    {"bravo-water", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 300,
     {{"2021-12-31T00:00:00Z", 0.6}, {"2024-01-01T00:00:00Z", 0.5}}},
    {"charlie-main", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 0,
     {{"2021-12-31T00:00:00Z", 9}, {"2024-01-01T00:00:00+08:00", 8}}},
    {"charlie-it", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 900,
     {{"2021-12-31T00:00:00Z", 3}}},
    {"delta-main", "2021-12-31T00:00:00Z", "2025-01-01T12:00:00Z", 1000,
     {{"2021-12-31T00:00:00Z", 4}, {"2024-01-01T00:00:00+08:00", 5}}},
    {"delta-water", "2024-07-15T00:00:00+08:00", "2025-01-01T12:00:00Z", 50,
     {{"2024-07-15T00:00:00+08:00", 0.3}}},
};
#define NSERIES (sizeof series / sizeof series[0])

static double rate_at(const series_def *d, int64_t t)
{
    double rate = 0;
    for (size_t i = 0; i < 4 && d->segs[i].from; i++)
        if (om_test_iso(d->segs[i].from) <= t)
            rate = d->segs[i].per_hour;
    return rate;
}

/* Consumption of the series between a and b (a <= b). */
static double integral(const series_def *d, int64_t a, int64_t b)
{
    double sum = 0;
    for (size_t i = 0; i < 4 && d->segs[i].from; i++) {
        int64_t from = om_test_iso(d->segs[i].from);
        int64_t until = i + 1 < 4 && d->segs[i + 1].from ? om_test_iso(d->segs[i + 1].from) : INT64_MAX;
        int64_t lo = a > from ? a : from, hi = b < until ? b : until;
        if (hi > lo)
            sum += d->segs[i].per_hour * (double)(hi - lo) / HOUR_MS;
    }
    return sum;
}

#define NSITES 4

typedef struct {
    om_catalogue cat;
    om_site sites[NSITES];
    om_factor_set factors;
    om_policy policy;
    om_bill_set bills;
    /* readings per series: counter and instantaneous */
    om_sample *counter[NSERIES];
    size_t ncounter[NSERIES];
    om_sample *rate[NSERIES];
    size_t nrate[NSERIES];
} fixture;

static const om_site *site_of(const fixture *fx, const char *meter, const om_meter **m)
{
    for (size_t s = 0; s < NSITES; s++)
        if ((*m = om_site_find_meter(&fx->sites[s], meter)) != NULL)
            return &fx->sites[s];
    return NULL;
}

static double counter_width(const om_meter *m, om_quantity q)
{
    const om_quantity_def *def = om_model_find_quantity(m->model, q);
    return def && def->rollover > 0
               ? def->rollover * om_quantity_spec(def, m->litres_per_pulse).scale
               : 0;
}

static void generate(fixture *fx, size_t k)
{
    const series_def *d = &series[k];
    const om_meter *m;
    const om_site *site = site_of(fx, d->meter, &m);
    assert_non_null(site);
    om_quantity q = m->utility == OM_UTILITY_WATER ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH;
    double width = counter_width(m, q);
    const om_replacement *rep = NULL;
    for (size_t i = 0; i < site->nreplacements; i++)
        if (strcmp(site->replacements[i].meter_id, d->meter) == 0)
            rep = &site->replacements[i];
    int64_t first = om_test_iso(d->first), last = om_test_iso(d->last);
    size_t cap = (size_t)((last - first) / STEP_MS) + 1;
    fx->counter[k] = calloc(cap, sizeof(om_sample));
    fx->rate[k] = calloc(cap, sizeof(om_sample));
    int64_t gap_a = om_test_iso("2024-03-10T00:00:00Z"), gap_b = om_test_iso("2024-03-17T00:00:00Z");
    int64_t glitch = om_test_iso("2024-06-05T12:00:00Z");
    bool is_bravo = strcmp(d->meter, "bravo-main") == 0;
    for (int64_t t = first; t <= last; t += STEP_MS) {
        if (is_bravo && t > gap_a && t < gap_b)
            continue; /* the week without readings */
        double v;
        if (rep && t < rep->at)
            v = rep->old_final[0].value - integral(d, t, rep->at);
        else if (rep)
            v = rep->new_initial[0].value + integral(d, rep->at, t);
        else
            v = (d->start < 0 ? width + d->start : d->start) + integral(d, first, t);
        if (width > 0 && v >= width)
            v -= width; /* the counter rolls over */
        if (is_bravo && t == glitch)
            v = 0; /* a momentary zero */
        fx->counter[k][fx->ncounter[k]++] = (om_sample){t, v};
        fx->rate[k][fx->nrate[k]++] = (om_sample){t, rate_at(d, t)};
    }
}

static void fixture_load(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &fx->cat, &diag);
    const char *names[] = {"alpha", "bravo", "charlie", "delta"};
    for (size_t s = 0; s < NSITES; s++) {
        char path[512];
        snprintf(path, sizeof path, "%s/sites/%s.yaml", FIXTURE, names[s]);
        rc |= om_site_load(path, &fx->cat, &fx->sites[s], &diag);
    }
    rc |= om_factors_load(FIXTURE "/sites/emission-factors.yaml", &fx->factors, &diag);
    rc |= om_policy_load(FIXTURE "/sites/reporting.yaml", &fx->factors, &fx->policy, &diag);
    rc |= om_bills_load_dir(FIXTURE "/sites/bills", &fx->bills, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(om_diag_count(&diag), 0);
    assert_int_equal(rc, 0);
    om_diag_free(&diag);
    for (size_t k = 0; k < NSERIES; k++)
        generate(fx, k);
}

static void fixture_free(fixture *fx)
{
    for (size_t k = 0; k < NSERIES; k++) {
        free(fx->counter[k]);
        free(fx->rate[k]);
    }
    for (size_t s = 0; s < NSITES; s++)
        om_site_free(&fx->sites[s]);
    om_bills_free(&fx->bills);
    om_policy_free(&fx->policy);
    om_factors_free(&fx->factors);
    om_catalogue_free(&fx->cat);
}

static size_t series_index(const char *meter)
{
    for (size_t k = 0; k < NSERIES; k++)
        if (strcmp(series[k].meter, meter) == 0)
            return k;
    fail_msg("no series for %s", meter);
    return 0;
}

/* ---- an in-memory reading source: the same slicing as the database's --- */

static int mem_counter(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                       int64_t a, int64_t b, unsigned context, om_sample **out, size_t *n)
{
    fixture *fx = user;
    size_t k = series_index(meter->id);
    const om_sample *s = fx->counter[k];
    size_t ns = fx->ncounter[k], lo = 0, hi;
    while (lo < ns && s[lo].t < a)
        lo++;
    for (hi = lo; hi < ns && s[hi].t < b; hi++)
        ;
    size_t from = lo >= context ? lo - context : 0;
    size_t to = hi + context <= ns ? hi + context : ns;
    *n = to - from;
    *out = malloc((*n ? *n : 1) * sizeof **out);
    memcpy(*out, s + from, *n * sizeof **out);
    return 0;
}

static int mem_rates(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                     int64_t a, int64_t b, double *min, double *max)
{
    fixture *fx = user;
    size_t k = series_index(meter->id);
    *min = *max = NAN;
    for (size_t i = 0; i < fx->nrate[k]; i++) {
        double v = fx->rate[k][i].v;
        if (fx->rate[k][i].t < a || fx->rate[k][i].t >= b)
            continue;
        if (isnan(*min) || v < *min)
            *min = v;
        if (isnan(*max) || v > *max)
            *max = v;
    }
    return 0;
}

typedef struct {
    om_meter_month *rows;
    size_t nrows;
    om_month_event *events; /* report year only */
    size_t nevents;
} rollups;

/* The rollups of the report year, the previous one and the energy
 * target's baseline (2022); the events of the report year. */
static void rollup_years(fixture *fx, int year, rollups *out)
{
    memset(out, 0, sizeof *out);
    om_rollup_source src = {mem_counter, mem_rates, fx, NULL};
    int64_t now = om_test_iso("2025-02-01T00:00:00Z");
    for (size_t s = 0; s < NSITES; s++)
        for (int y = 2022; y <= year; y++)
            for (unsigned m = 1; m <= 12; m++) {
                om_meter_month *rows;
                om_month_event *ev;
                size_t nr, ne;
                assert_int_equal(om_rollup_site_month(&fx->sites[s], &fx->policy, y, m, now, &src,
                                                      &rows, &nr, &ev, &ne),
                                 0);
                out->rows = realloc(out->rows, (out->nrows + nr) * sizeof *rows);
                memcpy(out->rows + out->nrows, rows, nr * sizeof *rows);
                out->nrows += nr;
                if (y == year && ne) {
                    out->events = realloc(out->events, (out->nevents + ne) * sizeof *ev);
                    memcpy(out->events + out->nevents, ev, ne * sizeof *ev);
                    out->nevents += ne;
                }
                free(rows);
                free(ev);
            }
}

static void report_of(fixture *fx, const rollups *ru, int year, om_report *r)
{
    om_kpi_input in = {fx->sites, NSITES, &fx->factors, &fx->policy, year,
                       ru->rows, ru->nrows, ru->events, ru->nevents, &fx->bills, NULL, 0};
    assert_int_equal(om_report_compute(&in, r), 0);
}

/* ---- hand-computed expectations ------------------------------------------ */

static void expect(const om_report *r, const char *key, double cur, double prev)
{
    const om_kpi *k = om_report_kpi(r, key);
    assert_non_null(k);
    if (!k->current.has_value || !k->previous.has_value) {
        print_error("%s: no value\n", key);
        fail();
    }
    om_test_assert_near_what(k->current.value, cur, key);
    om_test_assert_near_what(k->previous.value, prev, key);
}

static int setup(void **state)
{
    fixture *fx = malloc(sizeof *fx);
    fixture_load(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    free(*state);
    return 0;
}

static void test_kpis_by_hand(void **state)
{
    fixture *fx = *state;
    rollups ru;
    rollup_years(fx, 2024, &ru);
    om_report r;
    report_of(fx, &ru, 2024, &r);

    /* Hours in each site's local year: 2024 has 366 days = 8784 h, 2023 365
     * days = 8760 h (London's DST changes cancel out within a year). */
    const double h24 = 8784, h23 = 8760;

    /* Electricity, MWh. 2024: alpha 20 kW x 182 days x 24 h (to the move on
     * 1 July) + 15 kW x 184 days x 24 h = 87 360 + 66 240 kWh = 153.6 MWh;
     * bravo 12 kW x 8784 h = 105.408 MWh (the week-long gap is interpolated
     * and the zero reading ignored, so nothing is lost); charlie 8 kW x 8784 h
     * = 70.272 MWh (the replacement splits the counter, nothing lost); delta
     * 5 kW x 8784 h = 43.92 MWh. 2023: 22, 13, 9 and 4 kW x 8760 h. Bravo's
     * invoices are not counted: its meter covers their time. */
    double a24 = (20 * 182 * 24 + 15 * 184 * 24) / 1000.0, b24 = 12 * h24 / 1000,
           c24 = 8 * h24 / 1000, d24 = 5 * h24 / 1000;
    double a23 = 22 * h23 / 1000, b23 = 13 * h23 / 1000, c23 = 9 * h23 / 1000,
           d23 = 4 * h23 / 1000;
    om_test_assert_near_what(a24, 153.6, "alpha 2024");
    expect(&r, "energy_total_mwh", a24 + b24 + c24 + d24, a23 + b23 + c23 + d23); /* 373.2, 420.48 */
    expect(&r, "energy_electricity_mwh", 373.2, 420.48);

    /* Floor area, time-weighted: alpha 2000 m² for 182 days, 1500 m² for
     * 184 days of 366: 640 000 / 366 = 1748.6338... m²; bravo 1200, charlie
     * 900, delta 600. 2023: 2000 + 1200 + 900 + 600 = 4700 m². */
    double alpha_area = (182 * 2000.0 + 184 * 1500.0) / 366;
    double area24 = alpha_area + 1200 + 900 + 600, area23 = 4700;
    expect(&r, "energy_intensity_mwh_per_m2", 373.2 / area24, 420.48 / area23);

    /* Per employee: only alpha (150; 2023: 160) and bravo (80; 75) declare a
     * headcount, so charlie's and delta's electricity is left out. */
    expect(&r, "energy_intensity_mwh_per_employee", (a24 + b24) / 230, (a23 + b23) / 235);

    /* Scope 2 location-based, tCO2e: alpha x 0.5737 (CN-SH, the policy pins
     * fx-cnsh-2023 for 2024), bravo x 0.20705 (UK 2024), charlie and delta x
     * 0.4168 (SG 2024). 2023 is restated with the same 2024 factors. */
    double loc24 = a24 * 0.5737 + b24 * 0.20705 + (c24 + d24) * 0.4168;
    double loc23 = a23 * 0.5737 + b23 * 0.20705 + (c23 + d23) * 0.4168;
    expect(&r, "ghg_scope2_location_t", loc24, loc23); /* 157.540272, 181.607502 */
    expect(&r, "ghg_total_t", loc24, loc23);
    expect(&r, "ghg_intensity_t_per_m2", loc24 / area24, loc23 / area23);
    expect(&r, "ghg_intensity_t_per_employee", (a24 * 0.5737 + b24 * 0.20705) / 230,
           (a23 * 0.5737 + b23 * 0.20705) / 235);

    /* Market-based: charlie's 30 MWh of certificates cover part of 2024; the
     * remaining 40.272 MWh take the SG residual mix 0.45, as does all of
     * delta's. Alpha and bravo have no residual mix: grid average. Restated
     * 2023: charlie had no instruments. */
    double mkt24 = a24 * 0.5737 + b24 * 0.20705 + (c24 - 30 + d24) * 0.45;
    double mkt23 = a23 * 0.5737 + b23 * 0.20705 + (c23 + d23) * 0.45;
    expect(&r, "ghg_scope2_market_t", mkt24, mkt23);

    /* Scope 3, UK only: electricity x (0.01830 + 0.04590 + 0.00397) kg/kWh;
     * water x (0.15311 + 0.18574) kg/m³ = 0.00033885 t/m³. */
    expect(&r, "ghg_scope3_cat3_t", b24 * 0.06817, b23 * 0.06817);
    double w_b24 = 0.5 * h24, w_b23 = 0.6 * h23;
    expect(&r, "ghg_scope3_water_t", w_b24 * 0.00033885, w_b23 * 0.00033885);

    /* Water, tonnes. Metered: alpha 2 m³/h x 8784 h = 17 568 (across the
     * rollover), bravo 0.5 x 8784 = 4392, delta 0.3 m³/h x 24 h x 170 days
     * from 2024-07-15 = 1224. Billed on the landlord's account, 16 m³ a day
     * in 2024, 60 % to charlie (900 of 1500 m²) and 40 % to delta until its
     * meter starts: charlie 0.6 x 16 x 366 = 3513.6, delta 0.4 x 16 x 196
     * days = 1254.4. 2023: alpha 17 520, bravo 0.6 x 8760 = 5256, and the
     * account's 15 m³ a day to 2023-12-15 then 16: 349 x 15 + 16 x 16 = 5491,
     * charlie 3294.6, delta 2196.4. */
    double w_c24 = 0.6 * 16 * 366, w_d24 = 0.4 * 16 * 196 + 0.3 * 24 * 170;
    double w_c23 = 0.6 * 5491, w_d23 = 0.4 * 5491;
    double w24 = 2 * h24 + w_b24 + w_c24 + w_d24, w23 = 2 * h23 + w_b23 + w_c23 + w_d23;
    om_test_assert_near_what(w24, 27952, "water 2024");
    om_test_assert_near_what(w23, 28267, "water 2023");
    expect(&r, "water_t", w24, w23);
    /* A site with bills counts in coverage and in the intensity's area. */
    expect(&r, "water_intensity_t_per_m2", w24 / area24, w23 / area23);
    expect(&r, "water_intensity_t_per_employee", (2 * h24 + w_b24) / 230, (2 * h23 + w_b23) / 235);

    /* Scope 1 is not metered: no value. */
    const om_kpi *s1 = om_report_kpi(&r, "ghg_scope1_t");
    assert_false(s1->current.has_value);
    assert_false(s1->previous.has_value);

    /* Coverage. Electricity: 4 sites, all the floor area; time with actual
     * data: 4 x 8784 h less bravo's 168-hour gap. Estimated: the gap's
     * 12 kW x 168 h = 2016 kWh of 373 200 kWh. */
    const om_kpi *e = om_report_kpi(&r, "energy_total_mwh");
    assert_int_equal(e->current.ncovered, 4);
    om_test_assert_near_what(e->current.area_share, 1, "electricity area share");
    om_test_assert_near_what(e->current.time_share, (4 * h24 - 168) / (4 * h24),
                             "electricity time share");
    om_test_assert_near_what(e->current.estimated_share, 2016 / 373200.0,
                             "electricity estimated share");
    om_test_assert_near_what(e->current.billed_share, 0, "electricity billed share");
    assert_true(e->previous_restated);
    double pct;
    assert_true(om_kpi_change_pct(e, &pct));
    om_test_assert_near_what(pct, (373.2 - 420.48) / 420.48 * 100, "change %");
    /* Water: every site, by meter or bill; with data all the time. By
     * source: the estimated landlord statement (2024-09-16..12-15, 1456 m³)
     * gives charlie 0.6 x 1456 = 873.6 m³ (delta is metered by then); the
     * other bills 3513.6 + 1254.4 - 873.6; the meters the rest. */
    const om_kpi *w = om_report_kpi(&r, "water_t");
    assert_int_equal(w->current.ncovered, 4);
    om_test_assert_near_what(w->current.area_share, 1, "water area share");
    om_test_assert_near_what(w->current.time_share, 1, "water time share");
    om_test_assert_near_what(w->current.estimated_share, 873.6 / 27952, "water estimated");
    om_test_assert_near_what(w->current.billed_share, (3513.6 + 1254.4 - 873.6) / 27952,
                             "water billed");
    om_test_assert_near_what(w->current.metered_share, (17568 + 4392 + 1224) / 27952.0,
                             "water metered");
    om_test_assert_near_what(w->current.denominator, 0, "no denominator for a total");
    const om_kpi *wi = om_report_kpi(&r, "water_intensity_t_per_m2");
    om_test_assert_near_what(wi->current.denominator, area24, "water intensity area");

    /* Per site. */
    om_test_assert_near_what(r.sites[0].area_m2, alpha_area, "alpha area");
    om_test_assert_near_what(r.sites[0].area_year_end, 1500, "alpha year-end area");
    om_test_assert_near_what(r.sites[1].elec.estimated, 2016, "bravo estimated kWh");
    om_test_assert_near_what(r.sites[2].ghg.instruments_mwh, 30, "charlie instruments");
    assert_false(r.sites[2].water.metered);
    assert_true(r.sites[2].water.covered);
    om_test_assert_near_what(r.sites[2].water.billed, w_c24, "charlie billed water");
    om_test_assert_near_what(r.sites[3].water.billed, 0.4 * 16 * 196, "delta billed water");
    om_test_assert_near_what(r.sites[3].water.value, w_d24, "delta water");
    om_test_assert_near_what(r.sites[1].elec.billed, 0, "bravo's invoices not counted");
    /* Delta's July: billed 1-14 July (0.4 x 16 x 14 = 89.6 m³), metered from
     * the 15th (0.3 x 24 x 17 = 122.4 m³). Charlie's January: 0.6 x 16 x 31. */
    const om_report_month *dj = &r.months[3 * 12 + 6];
    om_test_assert_near_what(dj->water.billed, 89.6, "delta July billed");
    om_test_assert_near_what(dj->water.value, 89.6 + 122.4, "delta July water");
    om_test_assert_near_what(r.months[2 * 12].water.value, 297.6, "charlie January water");
    /* Sub-meters: alpha's light board at 12 kW plus HVAC at 8 kW in August
     * 2024 exceed the new main meter's 15 kW; no other month is flagged. */
    for (size_t i = 0; i < r.nmonths; i++)
        assert_int_equal(r.months[i].sub_exceeds_main, r.months[i].site == 0 && r.months[i].month == 8);
    om_test_assert_near_what(r.months[7].elec.sub_value, (12 + 8) * 31 * 24, "alpha August subs kWh");
    om_test_assert_near_what(r.months[7].elec.value, 15 * 31 * 24, "alpha August main kWh");

    /* Targets. GHG: baseline 2023 restated (the previous year's column), the
     * path 42 % by 2030 through 10 % in 2025 asks 5 % by 2024. Energy: the
     * 2022 baseline has 2023's rates (420.48 MWh); 30 % by 2030 is 7.5 % by
     * 2024. Water intensity: 8 % by 2027 is 2 % by 2024, and water per m²
     * rose: behind. */
    assert_int_equal(r.ntargets, 3);
    const om_report_target *tg = &r.targets[0], *te = &r.targets[1], *tw = &r.targets[2];
    om_test_assert_near_what(tg->baseline, loc23, "ghg baseline");
    assert_true(tg->baseline_restated);
    om_test_assert_near_what(tg->path_reduction_pct, 5, "ghg path %");
    om_test_assert_near_what(tg->path, loc23 * 0.95, "ghg path");
    om_test_assert_near_what(tg->target_value, loc23 * 0.58, "ghg target");
    assert_int_equal(tg->status, OM_TARGET_ON_TRACK);
    om_test_assert_near_what(te->baseline, 420.48, "energy baseline 2022");
    assert_int_equal(te->baseline_ncovered, 4);
    om_test_assert_near_what(te->path, 420.48 * 0.925, "energy path");
    om_test_assert_near_what(te->change_pct, (373.2 - 420.48) / 420.48 * 100, "energy change");
    assert_int_equal(te->status, OM_TARGET_ON_TRACK);
    om_test_assert_near_what(tw->baseline, w23 / area23, "water intensity baseline");
    om_test_assert_near_what(tw->path, w23 / area23 * 0.98, "water intensity path");
    assert_int_equal(tw->status, OM_TARGET_BEHIND);

    /* Why it moved: the effects add up to the change; GHG is restated, so
     * its factor effect is zero; every site is in both years. */
    for (int i = 0; i < OM_REPORT_DECOMPOSED; i++) {
        const om_decomposition *d = &r.decomposition[i];
        assert_true(d->has);
        double sum = 0;
        for (int k = 0; k < OM_EFFECT__COUNT; k++)
            sum += d->effects[k];
        om_test_assert_near_what(sum, d->change, "effects add up");
        assert_int_equal(d->sites_continuing, 4);
        om_test_assert_exact(d->effects[OM_EFFECT_SITES], 0);
    }
    om_test_assert_exact(r.decomposition[1].effects[OM_EFFECT_FACTOR], 0);
    assert_true(r.decomposition[1].applies[OM_EFFECT_FACTOR]);
    assert_false(r.decomposition[0].applies[OM_EFFECT_FACTOR]);
    /* The headcount part of energy's floor-area effect, by hand:
     * L(V1, V0) ln(H1 / H0) for the two sites that declare a headcount in
     * both years. */
    double la = (a24 - a23) / (log(a24) - log(a23)), lb = (b24 - b23) / (log(b24) - log(b23));
    assert_true(r.decomposition[0].has_headcount);
    om_test_assert_near_what(r.decomposition[0].area_headcount,
                             la * log(150.0 / 160) + lb * log(80.0 / 75), "headcount effect");

    /* Flags: each fixture event is reported once, with its site; every bill
     * counted is named under its site. */
    const char *want[][2] = {
        {"alpha", "alpha-water water_m3 2024-01-01T22:30:00.000Z rollover"},
        {"bravo", "bravo-main energy_import_kwh 2024-03-10T00:00:00.000Z gap until "
                  "2024-03-17T00:00:00.000Z (7 d 0 h 0 min): 2016.000 kWh"},
        {"bravo", "bravo-main energy_import_kwh 2024-06-05T12:00:00.000Z glitch: reading 0.000"},
        {"charlie", "charlie-main energy_import_kwh 2024-05-15T02:10:00.000Z replacement"},
        {"charlie", "No main water meter in service in 2024: water from bills."},
        {"charlie", "water bill LL-W77-2024Q4 (estimated, account SG-LL-W-77, "
                    "2024-09-16..2024-12-15"},
        {"delta", "water bill LL-W77-2024Q3 (landlord, account SG-LL-W-77"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t s = (size_t)(want[i][0][0] - 'a');
        size_t hits = 0;
        for (size_t f = 0; f < r.sites[s].nflags; f++)
            hits += strncmp(r.sites[s].flags[f], want[i][1], strlen(want[i][1])) == 0;
        if (hits != 1) {
            print_error("flag \"%s\" found %zu times\n", want[i][1], hits);
            fail();
        }
    }
    om_report_free(&r);
    free(ru.rows);
    free(ru.events);
}

static void test_rollup_months(void **state)
{
    fixture *fx = *state;
    om_rollup_source src = {mem_counter, mem_rates, fx, NULL};
    om_meter_month *rows;
    om_month_event *ev;
    size_t nr, ne;
    /* March 2024 in London: the gap month. 31 days less the hour lost to DST
     * = 743 h at 12 kW = 8916 kWh; 168 h of it estimated. */
    assert_int_equal(om_rollup_site_month(&fx->sites[1], &fx->policy, 2024, 3,
                                          om_test_iso("2025-02-01T00:00:00Z"), &src, &rows, &nr, &ev, &ne),
                     0);
    const om_meter_month *m = NULL;
    for (size_t i = 0; i < nr; i++)
        if (strcmp(rows[i].meter, "bravo-main") == 0)
            m = &rows[i];
    assert_non_null(m);
    om_test_assert_near_what(m->consumption, 12 * 743.0, "bravo March kWh");
    om_test_assert_near_what(m->estimated, 12 * 168.0, "bravo March estimated");
    assert_int_equal(m->expected_ms, 743 * 3600000LL);
    assert_int_equal(m->actual_ms, (743 - 168) * 3600000LL);
    /* Readings in the month: every 30 minutes for 743 h, less the 335
     * dropped inside the gap. */
    assert_int_equal(m->nreadings, 743 * 2 - 335);
    om_test_assert_near_what(m->rate_min, 12, "min power");
    om_test_assert_near_what(m->rate_max, 12, "max power");
    /* Night base load from the counter: 12 kW on every complete night (the
     * nights inside the gap are not complete). */
    om_test_assert_near_what(m->night_avg, 12, "night base load");
    assert_int_equal(m->nights, 31 - 7);
    assert_false(m->provisional);
    free(rows);
    free(ev);

    /* A month not over at `now` is provisional. */
    assert_int_equal(om_rollup_site_month(&fx->sites[1], &fx->policy, 2024, 12,
                                          om_test_iso("2024-12-20T00:00:00Z"), &src, &rows, &nr, &ev, &ne),
                     0);
    assert_true(rows[0].provisional);
    free(rows);
    free(ev);

    /* Alpha in June 2024: the old main meter only; July: the new one only. */
    assert_int_equal(om_rollup_site_month(&fx->sites[0], &fx->policy, 2024, 7,
                                          om_test_iso("2025-02-01T00:00:00Z"), &src, &rows, &nr, &ev, &ne),
                     0);
    bool old_seen = false;
    for (size_t i = 0; i < nr; i++)
        old_seen |= strcmp(rows[i].meter, "alpha-main") == 0;
    assert_false(old_seen);
    free(rows);
    free(ev);
}

/* A source with one meter's own readings, for the cases below. */
typedef struct {
    const om_sample *s;
    size_t n;
} one_series;

static int one_counter(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                       int64_t a, int64_t b, unsigned context, om_sample **out, size_t *n)
{
    const one_series *os = user;
    size_t lo = 0, hi;
    while (lo < os->n && os->s[lo].t < a)
        lo++;
    for (hi = lo; hi < os->n && os->s[hi].t < b; hi++)
        ;
    size_t from = lo >= context ? lo - context : 0, to = hi + context < os->n ? hi + context : os->n;
    *n = to - from;
    *out = malloc((*n ? *n : 1) * sizeof **out);
    memcpy(*out, os->s + from, *n * sizeof **out);
    return 0;
}

static void test_gap_across_months(void **state)
{
    fixture *fx = *state;
    /* bravo-main at 12 kW, silent from 2024-03-30T00:00Z to 2024-04-03T00:00Z:
     * March (London) ends at 2024-03-31T23:00Z, so March holds 47 h of the gap
     * and April 49 h; each month records its own part. */
    static om_sample s[4000];
    size_t n = 0;
    int64_t gap_a = om_test_iso("2024-03-30T00:00:00Z"), gap_b = om_test_iso("2024-04-03T00:00:00Z");
    for (int64_t t = om_test_iso("2024-03-20T00:00:00Z"); t <= om_test_iso("2024-04-10T00:00:00Z"); t += STEP_MS)
        if (t <= gap_a || t >= gap_b)
            s[n++] = (om_sample){t, 1000 + 12 * (double)(t - gap_a) / HOUR_MS};
    one_series os = {s, n};
    om_rollup_source src = {one_counter, NULL, &os, NULL};
    const om_site *bravo = &fx->sites[1];
    double parts = 0;
    for (unsigned m = 3; m <= 4; m++) {
        om_meter_month *rows;
        om_month_event *ev;
        size_t nr, ne;
        assert_int_equal(om_rollup_site_month(bravo, &fx->policy, 2024, m,
                                              om_test_iso("2025-01-01T00:00:00Z"), &src, &rows, &nr, &ev,
                                              &ne),
                         0);
        size_t gaps = 0;
        for (size_t i = 0; i < ne; i++) {
            if (ev[i].ev.kind != OM_CEV_GAP || strcmp(ev[i].meter, "bravo-main") != 0)
                continue;
            gaps++;
            parts += ev[i].ev.counted;
            om_test_assert_near_what(ev[i].ev.counted, 12.0 * (m == 3 ? 47 : 49), "gap part");
            assert_true(ev[i].ev.t == (m == 3 ? gap_a : om_test_iso("2024-03-31T23:00:00Z")));
        }
        assert_int_equal(gaps, 1);
        free(rows);
        free(ev);
    }
    om_test_assert_near_what(parts, 12.0 * 96, "the parts add up to the gap");
}

static void test_order_independent(void **state)
{
    fixture *fx = *state;
    rollups ru;
    rollup_years(fx, 2024, &ru);
    om_report a, b;
    report_of(fx, &ru, 2024, &a);
    /* Reverse the rows and events: the report must not change by a bit. */
    for (size_t i = 0; i < ru.nrows / 2; i++) {
        om_meter_month t = ru.rows[i];
        ru.rows[i] = ru.rows[ru.nrows - 1 - i];
        ru.rows[ru.nrows - 1 - i] = t;
    }
    for (size_t i = 0; i < ru.nevents / 2; i++) {
        om_month_event t = ru.events[i];
        ru.events[i] = ru.events[ru.nevents - 1 - i];
        ru.events[ru.nevents - 1 - i] = t;
    }
    report_of(fx, &ru, 2024, &b);
    char *ja = NULL, *jb = NULL;
    size_t la, lb;
    FILE *fa = open_memstream(&ja, &la), *fb = open_memstream(&jb, &lb);
    om_report_write_json(&a, fa);
    om_report_write_json(&b, fb);
    fclose(fa);
    fclose(fb);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    om_report_free(&a);
    om_report_free(&b);
    free(ru.rows);
    free(ru.events);
}

/* ---- golden files ------------------------------------------------------------ */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void check_golden(const om_report *r, const char *name,
                         int (*writer)(const om_report *, FILE *))
{
    char path[512];
    snprintf(path, sizeof path, "%s/golden/%s", FIXTURE, name);
    char *text = NULL;
    size_t len;
    FILE *mem = open_memstream(&text, &len);
    assert_int_equal(writer(r, mem), 0);
    fclose(mem);
    if (getenv("OM_UPDATE_GOLDEN")) {
        FILE *out = fopen(path, "wb");
        assert_non_null(out);
        fwrite(text, 1, len, out);
        fclose(out);
    }
    char *golden = read_all(path);
    if (!golden) {
        print_error("%s: missing (run with OM_UPDATE_GOLDEN=1 to create it)\n", path);
        fail();
    }
    if (strcmp(golden, text) != 0) {
        size_t i = 0;
        while (golden[i] && golden[i] == text[i])
            i++;
        size_t from = i > 80 ? i - 80 : 0;
        print_error("%s differs at byte %zu:\n--- golden\n%.160s\n--- got\n%.160s\n", path, i,
                    golden + from, text + from);
        free(golden);
        free(text);
        fail();
    }
    free(golden);
    free(text);
}

static void test_golden_files(void **state)
{
    fixture *fx = *state;
    rollups ru;
    rollup_years(fx, 2024, &ru);
    om_report r;
    report_of(fx, &ru, 2024, &r);
    check_golden(&r, "report-2024.json", om_report_write_json);
    check_golden(&r, "report-2024.md", om_report_write_md);
    check_golden(&r, "report-2024.csv", om_report_write_csv);
    om_report_free(&r);
    free(ru.rows);
    free(ru.events);
}

/* ---- --write-db: the same readings in an aggregator database --------------- */

static int write_db(const char *path)
{
    fixture fx;
    fixture_load(&fx);
    char err[512];
    om_store *st = om_store_open(path, OM_STORE_CREATE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = om_store_begin(st);
    int64_t seq = 0;
    for (size_t k = 0; k < NSERIES && rc == 0; k++) {
        const om_meter *m;
        const om_site *site = site_of(&fx, series[k].meter, &m);
        om_store_origin o = {site->site, site->gateways[0].id, "00000000000000aa", 0};
        for (size_t i = 0; i < fx.ncounter[k] && rc == 0; i++) {
            om_poll p = {0};
            p.seq = ++seq;
            p.meter = (char *)m->id;
            p.t_ms = fx.counter[k][i].t;
            bool water = m->utility == OM_UTILITY_WATER;
            p.values[0] = (om_poll_value){water ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH,
                                          fx.counter[k][i].v};
            p.values[1] = (om_poll_value){water ? OM_Q_FLOW_M3H : OM_Q_POWER_KW, fx.rate[k][i].v};
            p.nvalues = 2;
            o.received_ms = p.t_ms;
            rc = om_store_put_poll(st, &o, &p, NULL);
        }
    }
    if (rc == 0)
        rc = om_store_commit(st);
    if (rc < 0)
        fprintf(stderr, "%s\n", om_store_errmsg(st));
    om_store_close(st);
    fixture_free(&fx);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-db") == 0)
        return write_db(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpis_by_hand),
        cmocka_unit_test(test_rollup_months),
        cmocka_unit_test(test_gap_across_months),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_golden_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kpi.c - the KPI rules one at a time on small hand-made portfolios:
 * net export, sub-meters, the intensity denominators (time-weighted, year
 * end, whole portfolio with its warning), restatement on and off, a region
 * without a factor, instruments above consumption, headcount, coverage.
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

#include "officemeter/base/isotime.h"
#include "officemeter/report/kpi.h"
#include "testutil.h"

#define HOUR 3600000LL

/* ---- a small portfolio ---------------------------------------------------- */

typedef struct {
    om_site sites[2];
    om_area_period area[2][2];
    om_headcount heads[2][2];
    om_instrument instr[1];
    om_factor factors[6];
    om_factor_set set;
    om_policy policy;
    om_meter_month rows[64];
    size_t nrows;
} world;

static om_factor factor(const char *id, const char *region, om_factor_kind kind, double value,
                        om_factor_unit unit, int year, bool verified)
{
    om_factor f = {0};
    f.id = (char *)id;
    f.region = (char *)region;
    f.kind = kind;
    f.value = value;
    f.unit = unit;
    f.activity_year = year;
    f.source = (char *)"test source";
    f.published = om_days_from_civil(year + 1, 6, 30);
    f.verified = verified;
    return f;
}

/* Site "a" (region R1, 1000 m², moves to 500 m² on 2024-10-01, 10 people)
 * and site "b" (region R2, 3000 m², no headcount). */
static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    const char *ids[2] = {"a", "b"}, *regions[2] = {"R1", "R2"};
    for (int s = 0; s < 2; s++) {
        om_site *site = &w->sites[s];
        site->site = (char *)ids[s];
        site->name = (char *)ids[s];
        site->timezone = (char *)"UTC";
        site->grid_region = (char *)regions[s];
        site->floor_area = w->area[s];
    }
    w->area[0][0] = (om_area_period){om_days_from_civil(2020, 1, 1), 1000};
    w->area[0][1] = (om_area_period){om_days_from_civil(2024, 10, 1), 500};
    w->sites[0].nfloor_area = 2;
    w->area[1][0] = (om_area_period){om_days_from_civil(2020, 1, 1), 3000};
    w->sites[1].nfloor_area = 1;
    w->heads[0][0] = (om_headcount){2023, 8};
    w->heads[0][1] = (om_headcount){2024, 10};
    w->sites[0].headcount = w->heads[0];
    w->sites[0].nheadcount = 2;
    w->factors[0] = factor("r1-2023", "R1", OM_FACTOR_GRID_ELECTRICITY, 0.5, OM_UNIT_TCO2_PER_MWH,
                           2023, true);
    w->factors[1] = factor("r1-2024", "R1", OM_FACTOR_GRID_ELECTRICITY, 0.4,
                           OM_UNIT_KGCO2E_PER_KWH, 2024, false);
    w->factors[2] = factor("r2-2023", "R2", OM_FACTOR_GRID_ELECTRICITY, 0.2, OM_UNIT_TCO2_PER_MWH,
                           2023, true);
    w->factors[3] = factor("r2-ws", "R2", OM_FACTOR_WATER_SUPPLY, 150, OM_UNIT_KGCO2E_PER_M3, 2020,
                           true);
    w->set.factors = w->factors;
    w->set.nfactors = 4;
    w->policy.organisation = (char *)"Test";
    w->policy.restate_previous_year = true;
    w->policy.intensity_area = OM_AREA_TIME_WEIGHTED;
    w->policy.intensity_scope = OM_SCOPE_COVERED_SITES;
    w->policy.gap_intervals = 10;
    w->policy.poll_interval_s = 60;
}

/* One meter-month; the month's length is nominal (30 days) for coverage. */
static om_meter_month *add(world *w, const char *site, const char *meter, om_utility u, om_role r,
                           om_quantity q, int year, unsigned month, double value)
{
    om_meter_month *m = &w->rows[w->nrows++];
    memset(m, 0, sizeof *m);
    snprintf(m->site, sizeof m->site, "%s", site);
    snprintf(m->meter, sizeof m->meter, "%s", meter);
    m->utility = u;
    m->role = r;
    m->quantity = q;
    m->year = year;
    m->month = month;
    m->consumption = value;
    m->expected_ms = m->actual_ms = m->known_ms = 720 * HOUR;
    m->rate_min = m->rate_max = m->night_avg = m->night_min = NAN;
    return m;
}

static void elec(world *w, const char *site, int year, unsigned month, double kwh)
{
    add(w, site, "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, OM_Q_ENERGY_IMPORT_KWH, year, month,
        kwh);
}

static void compute(world *w, om_report *r)
{
    om_kpi_input in = {w->sites, 2, &w->set, &w->policy, 2024, w->rows, w->nrows,
                       NULL, 0, NULL, NULL, 0};
    assert_int_equal(om_report_compute(&in, r), 0);
}

static const om_kpi *kpi(const om_report *r, const char *key)
{
    const om_kpi *k = om_report_kpi(r, key);
    assert_non_null(k);
    return k;
}

static bool has_note(const om_report *r, const char *needle)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (strstr(r->notes[i], needle))
            return true;
    return false;
}

static bool has_flag(const om_report_site *s, const char *needle)
{
    for (size_t i = 0; i < s->nflags; i++)
        if (strstr(s->flags[i], needle))
            return true;
    return false;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_totals_main_only_and_net_export(void **state)
{
    world w;
    world_init(&w);
    w.sites[0].net_export = true;
    elec(&w, "a", 2024, 1, 1000);
    add(&w, "a", "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN, OM_Q_ENERGY_EXPORT_KWH, 2024, 1,
        200);
    add(&w, "a", "hvac", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, OM_Q_ENERGY_IMPORT_KWH, 2024, 1, 300);
    add(&w, "a", "pv", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, OM_Q_ENERGY_EXPORT_KWH, 2024, 1, 50);
    elec(&w, "b", 2024, 1, 4000);
    om_report r;
    compute(&w, &r);
    /* a: 1000 - 200 net; the sub-meter is a breakdown, never added. */
    om_test_assert_near(r.sites[0].elec.value, 800);
    om_test_assert_near(r.sites[0].elec.import_kwh, 1000);
    om_test_assert_near(r.sites[0].elec.export_kwh, 200);
    om_test_assert_near(r.sites[0].elec.sub_value, 300);
    om_test_assert_near(kpi(&r, "energy_total_mwh")->current.value, 4.8);
    assert_false(r.months[0].sub_exceeds_main);
    om_report_free(&r);
}

static void test_sub_meters_exceed_main(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "a", 2024, 3, 1000);
    add(&w, "a", "s1", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, OM_Q_ENERGY_IMPORT_KWH, 2024, 3, 700);
    add(&w, "a", "s2", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, OM_Q_ENERGY_IMPORT_KWH, 2024, 3, 300.5);
    elec(&w, "a", 2024, 4, 1000);
    add(&w, "a", "s1", OM_UTILITY_ELECTRICITY, OM_ROLE_SUB, OM_Q_ENERGY_IMPORT_KWH, 2024, 4, 1000);
    om_report r;
    compute(&w, &r);
    assert_true(r.months[2].sub_exceeds_main);  /* 1000.5 > 1000 */
    assert_false(r.months[3].sub_exceeds_main); /* equal is fine */
    assert_true(has_flag(&r.sites[0], "2024-03: sub-meters add up to more"));
    assert_false(has_flag(&r.sites[0], "2024-04"));
    assert_true(has_note(&r, "a 2024-03"));
    om_report_free(&r);
}

static void test_intensity_time_weighted_covered(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "a", 2024, 1, 10000);
    elec(&w, "b", 2024, 1, 20000);
    add(&w, "a", "w", OM_UTILITY_WATER, OM_ROLE_MAIN, OM_Q_WATER_M3, 2024, 1, 600);
    om_report r;
    compute(&w, &r);
    /* a: 1000 m² for 274 days (to 1 October), 500 m² for 92, of 366. */
    double area_a = (274 * 1000.0 + 92 * 500.0) / 366;
    om_test_assert_near(r.sites[0].area_m2, area_a);
    om_test_assert_near(kpi(&r, "energy_intensity_mwh_per_m2")->current.value, 30.0 / (area_a + 3000));
    /* Water covers a only: its own area, no warning. */
    const om_kpi *wi = kpi(&r, "water_intensity_t_per_m2");
    om_test_assert_near(wi->current.value, 600 / area_a);
    om_test_assert_near(wi->current.area_share, area_a / (area_a + 3000));
    assert_false(has_note(&r, "Warning"));
    assert_true(has_note(&r, "time-weighted floor area"));
    assert_true(has_note(&r, "Water (A2.2) covers 1 of 2 sites (a;"));
    assert_true(has_note(&r, "b (not metered, no bills)"));
    om_report_free(&r);
}

static void test_intensity_year_end_whole_portfolio(void **state)
{
    world w;
    world_init(&w);
    w.policy.intensity_area = OM_AREA_YEAR_END;
    w.policy.intensity_scope = OM_SCOPE_WHOLE_PORTFOLIO;
    elec(&w, "a", 2024, 1, 10000);
    elec(&w, "b", 2024, 1, 20000);
    add(&w, "a", "w", OM_UTILITY_WATER, OM_ROLE_MAIN, OM_Q_WATER_M3, 2024, 1, 600);
    om_report r;
    compute(&w, &r);
    om_test_assert_near(r.sites[0].area_m2, 500);
    const om_kpi *wi = kpi(&r, "water_intensity_t_per_m2");
    om_test_assert_near(wi->current.denominator, 3500);
    om_test_assert_near(wi->current.value, 600.0 / 3500);
    assert_true(has_note(&r, "Warning: water_intensity_t_per_m2 divides by the whole portfolio"));
    /* Energy covers the whole portfolio: no warning for it. */
    assert_false(has_note(&r, "Warning: energy_intensity"));
    assert_true(has_note(&r, "floor area at year end"));
    om_report_free(&r);
}

static void test_restatement(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "a", 2024, 1, 1000);
    elec(&w, "a", 2023, 1, 2000);
    om_report r;
    compute(&w, &r);
    /* Restated: 2023's 2 MWh at 2024's 0.4 (kg/kWh = t/MWh). */
    const om_kpi *g = kpi(&r, "ghg_scope2_location_t");
    om_test_assert_near(g->current.value, 0.4);
    om_test_assert_near(g->previous.value, 0.8);
    assert_true(g->previous_restated);
    om_report_free(&r);

    w.policy.restate_previous_year = false;
    compute(&w, &r);
    g = kpi(&r, "ghg_scope2_location_t");
    om_test_assert_near(g->previous.value, 1.0); /* 2 MWh at 2023's 0.5 */
    assert_false(g->previous_restated);
    assert_true(has_note(&r, "uses the factors selected for its own year"));
    /* Both factors are listed, each applied to its year. */
    assert_int_equal(r.nfactors, 2);
    assert_true(r.factors[0].previous && !r.factors[0].current);
    assert_true(r.factors[1].current && !r.factors[1].previous);
    assert_true(has_note(&r, "Unverified factor used: r1-2024"));
    om_report_free(&r);
}

static void test_latest_factor_not_after_year(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "b", 2024, 1, 1000);
    om_report r;
    compute(&w, &r);
    /* R2 has only a 2023 factor: it applies to 2024. */
    om_test_assert_near(kpi(&r, "ghg_scope2_location_t")->current.value, 0.2);
    om_report_free(&r);
}

static void test_region_without_factor(void **state)
{
    world w;
    world_init(&w);
    w.sites[1].grid_region = (char *)"NOWHERE";
    elec(&w, "a", 2024, 1, 1000);
    elec(&w, "b", 2024, 1, 3000);
    om_report r;
    compute(&w, &r);
    const om_kpi *g = kpi(&r, "ghg_total_t");
    assert_int_equal(g->current.ncovered, 1);
    om_test_assert_near(g->current.value, 0.4);
    /* Energy still covers both. */
    assert_int_equal(kpi(&r, "energy_total_mwh")->current.ncovered, 2);
    assert_true(has_note(&r, "b (no grid_electricity factor for NOWHERE in 2024)"));
    om_report_free(&r);
}

static void test_market_based(void **state)
{
    world w;
    world_init(&w);
    w.instr[0] = (om_instrument){2024, 5, (char *)"certificate"};
    w.sites[0].instruments = w.instr;
    w.sites[0].ninstruments = 1;
    w.factors[4] = factor("r1-rm", "R1", OM_FACTOR_RESIDUAL_MIX, 0.6, OM_UNIT_TCO2E_PER_MWH, 2024,
                          true);
    w.set.nfactors = 5;
    elec(&w, "a", 2024, 1, 3000); /* 3 MWh, 5 MWh of certificates */
    elec(&w, "b", 2024, 1, 2000);
    om_report r;
    compute(&w, &r);
    /* a: fully covered, 0 t, the 2 MWh excess is not carried to b; b: no
     * residual mix in R2, grid average 0.2. */
    om_test_assert_near(r.sites[0].ghg.market_t, 0);
    om_test_assert_near(kpi(&r, "ghg_scope2_market_t")->current.value, 2 * 0.2);
    om_test_assert_near(kpi(&r, "ghg_scope2_location_t")->current.value, 3 * 0.4 + 2 * 0.2);
    assert_true(has_flag(&r.sites[0], "Instruments (5.000 MWh) exceed the consumption"));
    om_report_free(&r);

    w.instr[0].mwh = 1;
    compute(&w, &r);
    om_test_assert_near(r.sites[0].ghg.market_t, 2 * 0.6); /* residual mix for the rest */
    om_report_free(&r);
}

static void test_scope3_separate(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "b", 2024, 1, 1000);
    add(&w, "b", "w", OM_UTILITY_WATER, OM_ROLE_MAIN, OM_Q_WATER_M3, 2024, 1, 100);
    om_report r;
    compute(&w, &r);
    /* 100 m³ x 150 kg/m³ = 15 t, apart from the total. */
    om_test_assert_near(kpi(&r, "ghg_scope3_water_t")->current.value, 15);
    om_test_assert_near(kpi(&r, "ghg_total_t")->current.value, 0.2);
    assert_false(kpi(&r, "ghg_scope3_cat3_t")->current.has_value);
    assert_true(has_note(&r, "reported separately"));
    om_report_free(&r);
}

static void test_per_employee_and_no_data(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "a", 2024, 1, 5000);
    om_meter_month *m = add(&w, "b", "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN,
                            OM_Q_ENERGY_IMPORT_KWH, 2024, 1, 0);
    m->actual_ms = m->known_ms = 0; /* in service, never heard from */
    om_report r;
    compute(&w, &r);
    const om_kpi *e = kpi(&r, "energy_total_mwh");
    assert_int_equal(e->current.ncovered, 1);
    assert_true(r.sites[1].elec.metered);
    assert_false(r.sites[1].elec.covered);
    assert_true(has_flag(&r.sites[1], "No electricity data in 2024"));
    assert_true(has_note(&r, "b (no data)"));
    om_test_assert_near(kpi(&r, "energy_intensity_mwh_per_employee")->current.value, 0.5);
    /* No previous year data at all: no previous values, no change. */
    assert_false(e->previous.has_value);
    double pct;
    assert_false(om_kpi_change_pct(e, &pct));
    assert_false(kpi(&r, "ghg_scope1_t")->current.has_value);
    om_report_free(&r);

    /* A headcount of 0 is no headcount. */
    w.heads[0][1].count = 0;
    compute(&w, &r);
    assert_false(kpi(&r, "energy_intensity_mwh_per_employee")->current.has_value);
    assert_true(has_note(&r, "No site declares a headcount for 2024"));
    om_report_free(&r);
}

static void test_coverage_time_and_estimates(void **state)
{
    world w;
    world_init(&w);
    om_meter_month *m = add(&w, "a", "main", OM_UTILITY_ELECTRICITY, OM_ROLE_MAIN,
                            OM_Q_ENERGY_IMPORT_KWH, 2024, 1, 1000);
    m->actual_ms = 540 * HOUR; /* 3/4 of the time */
    m->estimated = 250;
    elec(&w, "b", 2024, 1, 3000);
    om_report r;
    compute(&w, &r);
    const om_kpi *e = kpi(&r, "energy_total_mwh");
    om_test_assert_near(e->current.time_share, (540.0 + 720) / 1440);
    om_test_assert_near(e->current.estimated_share, 250.0 / 4000);
    assert_true(has_flag(&r.sites[0], "main energy_import_kwh 2024-01: actual data for 75.00%"));
    om_report_free(&r);
}

static void test_event_listing_is_capped(void **state)
{
    world w;
    world_init(&w);
    elec(&w, "a", 2024, 1, 1000);
    om_month_event ev[15];
    for (int i = 0; i < 15; i++) {
        memset(&ev[i], 0, sizeof ev[i]);
        snprintf(ev[i].site, sizeof ev[i].site, "a");
        snprintf(ev[i].meter, sizeof ev[i].meter, "main");
        ev[i].quantity = OM_Q_ENERGY_IMPORT_KWH;
        ev[i].year = 2024;
        ev[i].month = 1;
        ev[i].ev = (om_counter_event){OM_CEV_GLITCH, 1704067200000LL + i * 60000LL, 0, 5, 0, 0};
        ev[i].ev.t_end = ev[i].ev.t;
    }
    /* The same event stored for two months counts once. */
    om_month_event twice[16];
    memcpy(twice, ev, sizeof ev);
    twice[15] = ev[3];
    twice[15].month = 2;
    om_kpi_input in = {w.sites, 2, &w.set, &w.policy, 2024, w.rows, w.nrows,
                       twice, 16, NULL, NULL, 0};
    om_report r;
    assert_int_equal(om_report_compute(&in, &r), 0);
    size_t listed = 0;
    for (size_t i = 0; i < r.sites[0].nflags; i++)
        listed += strstr(r.sites[0].flags[i], " glitch: ") != NULL;
    assert_int_equal(listed, OM_REPORT_EVENTS_LISTED);
    assert_true(has_flag(&r.sites[0], "main energy_import_kwh: 15 glitch events in all, 10 listed"));
    assert_int_equal(r.ngroups, 1);
    assert_int_equal(r.groups[0].count, 15);
    om_report_free(&r);
}

static void test_event_description(void **state)
{
    om_month_event e = {0};
    snprintf(e.meter, sizeof e.meter, "m1");
    e.quantity = OM_Q_WATER_M3;
    e.ev = (om_counter_event){OM_CEV_GAP, 0, 90 * 60000LL + 86400000LL, NAN, NAN, 12.5};
    char buf[256];
    om_month_event_describe(&e, buf, sizeof buf);
    assert_string_equal(buf, "m1 water_m3 1970-01-01T00:00:00.000Z gap until "
                             "1970-01-02T01:30:00.000Z (1 d 1 h 30 min): 12.500 m³ "
                             "interpolated across it (estimated)");
    e.ev = (om_counter_event){OM_CEV_RESET, 0, 0, 500, 0.25, 0.25};
    om_month_event_describe(&e, buf, sizeof buf);
    assert_non_null(strstr(buf, "reset: the counter dropped from 500.000 to 0.250"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_main_only_and_net_export),
        cmocka_unit_test(test_sub_meters_exceed_main),
        cmocka_unit_test(test_intensity_time_weighted_covered),
        cmocka_unit_test(test_intensity_year_end_whole_portfolio),
        cmocka_unit_test(test_restatement),
        cmocka_unit_test(test_latest_factor_not_after_year),
        cmocka_unit_test(test_region_without_factor),
        cmocka_unit_test(test_market_based),
        cmocka_unit_test(test_scope3_separate),
        cmocka_unit_test(test_per_employee_and_no_data),
        cmocka_unit_test(test_coverage_time_and_estimates),
        cmocka_unit_test(test_event_listing_is_capped),
        cmocka_unit_test(test_event_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

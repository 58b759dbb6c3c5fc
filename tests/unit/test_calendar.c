/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_calendar.c - a site's months and years in its own zone (with and
 * without daylight saving), time-weighted floor area, service life.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "officemeter/base/calendar.h"
#include "officemeter/config/site.h"
#include "officemeter/base/isotime.h"
#include "testutil.h"

#define HOUR 3600000LL
#define DAY (24 * HOUR)

static void test_london_dst_months(void **state)
{
    int64_t a, b;
    /* March 2024: starts in GMT, ends in BST (clocks forward 31 March). */
    assert_int_equal(om_month_bounds("Europe/London", 2024, 3, &a, &b), 0);
    assert_int_equal(a, om_test_iso("2024-03-01T00:00:00Z"));
    assert_int_equal(b, om_test_iso("2024-03-31T23:00:00Z"));
    assert_int_equal(b - a, 31 * DAY - HOUR);
    /* October 2024: starts in BST, ends in GMT (clocks back 27 October). */
    assert_int_equal(om_month_bounds("Europe/London", 2024, 10, &a, &b), 0);
    assert_int_equal(a, om_test_iso("2024-09-30T23:00:00Z"));
    assert_int_equal(b, om_test_iso("2024-11-01T00:00:00Z"));
    assert_int_equal(b - a, 31 * DAY + HOUR);
    /* The change days themselves. */
    assert_int_equal(om_day_bounds("Europe/London", om_days_from_civil(2024, 3, 31), &a, &b), 0);
    assert_int_equal(b - a, 23 * HOUR);
    assert_int_equal(om_day_bounds("Europe/London", om_days_from_civil(2024, 10, 27), &a, &b), 0);
    assert_int_equal(b - a, 25 * HOUR);
    /* A summer month is an ordinary one, one hour earlier than UTC. */
    assert_int_equal(om_month_bounds("Europe/London", 2024, 7, &a, &b), 0);
    assert_int_equal(a, om_test_iso("2024-06-30T23:00:00Z"));
    assert_int_equal(b - a, 31 * DAY);
}

static void test_shanghai_months(void **state)
{
    int64_t a, b;
    assert_int_equal(om_month_bounds("Asia/Shanghai", 2024, 1, &a, &b), 0);
    assert_int_equal(a, om_test_iso("2023-12-31T16:00:00Z"));
    assert_int_equal(b, om_test_iso("2024-01-31T16:00:00Z"));
    assert_int_equal(om_month_bounds("Asia/Shanghai", 2024, 2, &a, &b), 0);
    assert_int_equal(b - a, 29 * DAY);
    assert_int_equal(om_year_bounds("Asia/Shanghai", 2024, &a, &b), 0);
    assert_int_equal(a, om_test_iso("2023-12-31T16:00:00Z"));
    assert_int_equal(b - a, 366 * DAY);
    /* China kept daylight saving from 1986 to 1991: in 1988 it ran from
     * 17 April to 11 September, so April is an hour short. */
    assert_int_equal(om_month_bounds("Asia/Shanghai", 1988, 4, &a, &b), 0);
    assert_int_equal(b - a, 30 * DAY - HOUR);
    assert_int_equal(om_month_bounds("Asia/Shanghai", 1988, 9, &a, &b), 0);
    assert_int_equal(b - a, 30 * DAY + HOUR);
}

static void test_months_tile_the_year(void **state)
{
    const char *zones[] = {"Europe/London", "Asia/Shanghai", "America/New_York",
                           "Australia/Sydney", "Asia/Kolkata"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        for (int year = 2023; year <= 2025; year++) {
            int64_t ya, yb, prev_end = 0;
            assert_int_equal(om_year_bounds(zones[z], year, &ya, &yb), 0);
            for (unsigned m = 1; m <= 12; m++) {
                int64_t a, b;
                assert_int_equal(om_month_bounds(zones[z], year, m, &a, &b), 0);
                if (m == 1)
                    assert_int_equal(a, ya);
                else
                    assert_int_equal(a, prev_end);
                int y;
                unsigned mo;
                assert_int_equal(om_month_of(zones[z], a, &y, &mo), 0);
                assert_int_equal(y, year);
                assert_int_equal(mo, m);
                assert_int_equal(om_month_of(zones[z], b - 1, &y, &mo), 0);
                assert_int_equal(mo, m);
                prev_end = b;
            }
            assert_int_equal(prev_end, yb);
        }
    }
}

static void test_bad_arguments(void **state)
{
    int64_t a, b;
    assert_int_equal(om_month_bounds("Mars/Olympus_Mons", 2024, 1, &a, &b), -1);
    assert_int_equal(om_month_bounds("Europe/London", 2024, 13, &a, &b), -1);
    assert_int_equal(om_month_bounds("Europe/London", 2024, 0, &a, &b), -1);
}

static void test_last_complete_month(void **state)
{
    int y;
    unsigned m;
    /* 00:30 on 1 March in Shanghai is still 29 February in London. */
    int64_t now = om_test_iso("2024-03-01T00:30:00+08:00");
    assert_int_equal(om_last_complete_month("Asia/Shanghai", now, &y, &m), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(om_last_complete_month("Europe/London", now, &y, &m), 0);
    assert_int_equal(m, 1);
    assert_int_equal(om_last_complete_month("Europe/London", om_test_iso("2024-01-15T12:00:00Z"), &y, &m),
                     0);
    assert_int_equal(y, 2023);
    assert_int_equal(m, 12);
}

static void test_parse_month(void **state)
{
    int y;
    unsigned m;
    assert_int_equal(om_parse_month("2024-03", &y, &m), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 3);
    assert_int_equal(om_parse_month("2024-13", &y, &m), -1);
    assert_int_equal(om_parse_month("2024-3", &y, &m), -1);
    assert_int_equal(om_parse_month("2024-03-01", &y, &m), -1);
    assert_int_equal(om_parse_month("", &y, &m), -1);
    assert_int_equal(om_days_in_month(2024, 2), 29);
    assert_int_equal(om_days_in_month(2023, 2), 28);
    assert_int_equal(om_days_in_month(2024, 12), 31);
    assert_int_equal(om_days_in_year(2024), 366);
    assert_int_equal(om_days_in_year(2100), 365);
}

static void test_area(void **state)
{
    /* Shanghai: 2450 m² until the move on 2024-07-01, then 1980 m². */
    om_area_period sh[] = {{om_days_from_civil(2022, 1, 1), 2450},
                           {om_days_from_civil(2024, 7, 1), 1980}};
    /* 2024 has 366 days: 182 at 2450 m², 184 at 1980 m². */
    om_test_assert_near(om_area_time_weighted(sh, 2, 2024), (182.0 * 2450 + 184.0 * 1980) / 366);
    assert_true(om_area_time_weighted(sh, 2, 2023) == 2450);
    assert_true(om_area_time_weighted(sh, 2, 2021) == 0);
    assert_true(om_area_year_end(sh, 2, 2024) == 1980);
    assert_true(om_area_year_end(sh, 2, 2023) == 2450);
    assert_true(om_area_on(sh, 2, om_days_from_civil(2024, 6, 30)) == 2450);
    assert_true(om_area_on(sh, 2, om_days_from_civil(2024, 7, 1)) == 1980);
    /* An office opened on 1 June 2022: 214 days of 365. */
    om_area_period sg[] = {{om_days_from_civil(2022, 6, 1), 860}};
    om_test_assert_near(om_area_time_weighted(sg, 1, 2022), 860.0 * 214 / 365);
}

static void test_active_clip_and_headcount(void **state)
{
    om_meter m = {0};
    m.active_from = OM_TIME_NONE;
    m.active_until = 1000;
    int64_t a = 0, b = 5000;
    assert_int_equal(om_meter_active_clip(&m, &a, &b), 1000);
    assert_int_equal(b, 1000);
    m.active_from = 2000;
    m.active_until = OM_TIME_NONE;
    a = 0;
    b = 1500;
    assert_int_equal(om_meter_active_clip(&m, &a, &b), 0);

    om_headcount hc[] = {{2023, 310}, {2024, 280}};
    om_site site = {0};
    site.headcount = hc;
    site.nheadcount = 2;
    unsigned n;
    assert_true(om_site_headcount(&site, 2024, &n));
    assert_int_equal(n, 280);
    assert_false(om_site_headcount(&site, 2022, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_london_dst_months),
        cmocka_unit_test(test_shanghai_months),
        cmocka_unit_test(test_months_tile_the_year),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_last_complete_month),
        cmocka_unit_test(test_parse_month),
        cmocka_unit_test(test_area),
        cmocka_unit_test(test_active_clip_and_headcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

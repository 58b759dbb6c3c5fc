/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alert_config.c - the alert policy file: every defect of the broken
 * fixture gives exactly one message naming file, line, column and key; a
 * valid file resolves every rule's settings from the most specific place
 * (meter or gateway, site, defaults, built-in); the calendar of a site.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/config/alertcfg.h"
#include "officemeter/config/site.h"
#include "testutil.h"

#define DATA OM_TEST_DATA "/"

static const char *const expected_errors[] = {
    "broken-alerts.yaml:4:60: defaults.water_night_flow.nightz: unknown key (expected one of enabled, severity, night_from, night_to, step_minutes, flow_m3h, clear_flow_m3h, nights, clear_nights, settle_minutes)",
    "broken-alerts.yaml:4:54: defaults.water_night_flow.clear_flow_m3h: above the firing threshold (got 0.02, flow_m3h is 0.01): there would be no hysteresis",
    "broken-alerts.yaml:5:32: defaults.base_load_rise.night_from: invalid time of day (got \"25:00\", expected HH:MM from 00:00 to 24:00)",
    "broken-alerts.yaml:5:50: defaults.base_load_rise.percent: out of range (got \"-3\", expected a number from 0 to 10000)",
    "broken-alerts.yaml:6:27: defaults.meter_stale.severity: unknown value (got \"urgent\", expected one of info, warning or critical)",
    "broken-alerts.yaml:9:25: sites[0].working_days[1]: unknown day (got \"tues\", expected one of mon, tue, wed, thu, fri, sat, sun)",
    "broken-alerts.yaml:10:16: sites[0].holidays[0]: invalid date (got \"2025-13-01\", expected a date YYYY-MM-DD)",
    "broken-alerts.yaml:21:13: delivery.webhooks[0].url: not an HTTP URL (got \"ftp://example.org/hook\", expected http://… or https://…)",
    "broken-alerts.yaml:22:30: delivery.retry.max_s: below min_s (got 10, min_s is 100)",
    "broken-alerts.yaml:13:65: sites[0].meters[0].rules.gateway_offline: a gateway rule (set it under gateways:, or in the site's rules:)",
    "broken-alerts.yaml:13:35: sites[0].meters[0].rules.water_night_flow: does not apply to main, an electricity meter",
    "broken-alerts.yaml:14:16: sites[0].meters[1].meter: unknown meter (got \"nosuch\", expected a meter of " OM_TEST_DATA "/sites/sim-office.yaml)",
    "broken-alerts.yaml:17:30: sites[0].gateways[0].rules.meter_stale: a meter rule (set it under meters:, or in the site's rules:)",
    "broken-alerts.yaml:18:11: sites[1].site: unknown site (got \"paris\", expected one of sim-office)",
};

static void load_site(om_site *site)
{
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_site_load(DATA "sites/sim-office.yaml", NULL, site, &diag), 0);
    om_diag_free(&diag);
}

static void test_broken(void **state)
{
    (void)state;
    om_site site;
    load_site(&site);
    om_diag diag;
    om_diag_init(&diag);
    om_alert_policy p;
    assert_int_equal(om_alert_policy_load(DATA "alerts/broken-alerts.yaml", &site, 1, &p, &diag), -1);
    size_t n = sizeof expected_errors / sizeof expected_errors[0];
    if (diag.count != n)
        om_diag_print(&diag, stderr);
    assert_int_equal(diag.count, n);
    for (size_t i = 0; i < n; i++) {
        const char *msg = diag.messages[i];
        const char *tail = strstr(msg, "alerts/");
        assert_non_null(tail);
        assert_string_equal(tail + strlen("alerts/"), expected_errors[i]);
    }
    om_diag_free(&diag);
    om_alert_policy_free(&p);
    om_site_free(&site);
}

static void test_resolution(void **state)
{
    (void)state;
    om_site site;
    load_site(&site);
    om_diag diag;
    om_diag_init(&diag);
    om_alert_policy p;
    int rc = om_alert_policy_load(DATA "alerts/alerts.yaml", &site, 1, &p, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    om_diag_free(&diag);
    om_alert_settings s;
    /* Meter over site over defaults over built-in, parameter by parameter. */
    assert_true(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "kitchen-water"),
                                    OM_ALERT_WATER_NIGHT_FLOW, &s));
    om_test_assert_near(s.p[OM_AP_FLOW_M3H], 0.05);
    om_test_assert_exact(s.p[OM_AP_NIGHTS], 4);          /* defaults */
    om_test_assert_exact(s.p[OM_AP_CLEAR_NIGHTS], 2);    /* built-in */
    om_test_assert_exact(s.p[OM_AP_NIGHT_FROM], 22 * 60);
    om_test_assert_exact(s.p[OM_AP_NIGHT_TO], 6 * 60);
    assert_true(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "water"),
                                    OM_ALERT_WATER_NIGHT_FLOW, &s));
    om_test_assert_near(s.p[OM_AP_FLOW_M3H], 0.03);      /* the site's */
    om_test_assert_exact(s.p[OM_AP_NIGHT_FROM], 60);
    assert_int_equal(s.severity, OM_SEV_CRITICAL);       /* built-in for this rule */
    /* base_load_rise is for main meters, unless a sub meter asks for it. */
    assert_true(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "hvac"),
                                    OM_ALERT_BASE_LOAD_RISE, &s));
    assert_false(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "lifts"),
                                     OM_ALERT_BASE_LOAD_RISE, &s));
    assert_true(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "hvac"),
                                    OM_ALERT_COUNTER_ANOMALY, &s));
    assert_int_equal(s.events, OM_ALERT_EV_RESET | OM_ALERT_EV_WRAP);
    /* Turned off for one meter, on (and critical, from defaults) for another. */
    assert_false(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "lifts"),
                                     OM_ALERT_METER_STALE, &s));
    assert_true(om_alert_meter_rule(&p, &site, om_site_find_meter(&site, "main"),
                                    OM_ALERT_METER_STALE, &s));
    assert_int_equal(s.severity, OM_SEV_CRITICAL);
    om_alert_settings_for(&p, &site, OM_ALERT_GATEWAY_OFFLINE, "gw1", &s);
    om_test_assert_exact(s.p[OM_AP_OFFLINE_S], 30);
    om_test_assert_exact(s.p[OM_AP_NO_HEALTH_S], 600);
    /* Delivery. */
    assert_false(p.delivery.mqtt);
    assert_int_equal(p.delivery.nwebhooks, 1);
    assert_int_equal(p.delivery.webhooks[0].min_severity, OM_SEV_WARNING);
    assert_int_equal(p.delivery.webhooks[0].timeout_s, 3);
    assert_string_equal(p.delivery.alertmanager.url, "http://127.0.0.1:9093");
    assert_int_equal(p.delivery.alertmanager.ends_after_s, 300);
    assert_int_equal(p.delivery.retry_min_s, 5);
    /* The calendar: Monday to Thursday, and a holiday. */
    om_alert_calendar cal;
    om_alert_calendar_for(&p, "sim-office", &cal);
    om_date d;
    om_parse_date("2024-12-23", &d); /* a Monday */
    assert_true(om_alert_calendar_working(&cal, d));
    om_parse_date("2024-12-27", &d); /* a Friday */
    assert_false(om_alert_calendar_working(&cal, d));
    om_parse_date("2024-12-25", &d); /* a Wednesday, a holiday */
    assert_false(om_alert_calendar_working(&cal, d));
    om_alert_calendar_for(&p, "elsewhere", &cal); /* default: Monday to Friday */
    om_parse_date("2024-12-27", &d);
    assert_true(om_alert_calendar_working(&cal, d));
    om_parse_date("2024-12-28", &d);
    assert_false(om_alert_calendar_working(&cal, d));
    om_alert_policy_free(&p);
    om_site_free(&site);
}

static void test_builtin(void **state)
{
    (void)state;
    om_alert_policy p;
    om_alert_policy_builtin(&p);
    om_alert_settings s;
    om_alert_settings_for(&p, NULL, OM_ALERT_WATER_NIGHT_FLOW, NULL, &s);
    assert_true(s.enabled);
    om_test_assert_exact(s.p[OM_AP_NIGHT_FROM], 60);
    om_test_assert_exact(s.p[OM_AP_NIGHT_TO], 300);
    om_test_assert_exact(s.p[OM_AP_NIGHTS], 3);
    assert_true(p.delivery.mqtt);
    /* Every rule has a name that reads back, and takes its own keys only. */
    for (int r = 0; r < OM_ALERT__COUNT; r++) {
        om_alert_rule back;
        assert_int_equal(om_alert_rule_from_name(om_alert_rule_name((om_alert_rule)r), &back), 0);
        assert_int_equal(back, r);
    }
    assert_true(om_alert_rule_takes(OM_ALERT_BASE_LOAD_RISE, OM_AP_BASELINE_NIGHTS));
    assert_false(om_alert_rule_takes(OM_ALERT_METER_STALE, OM_AP_FLOW_M3H));
    om_alert_policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_resolution),
        cmocka_unit_test(test_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

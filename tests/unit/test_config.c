/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_config.c - the declared-config loaders: every defect in the broken
 * fixtures (tests/data/broken/) gives exactly one precise message naming
 * file, line, column and key (bill files: the column's name); valid files
 * load into the right values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/config/agentcfg.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/check.h"
#include "officemeter/config/factors.h"
#include "officemeter/base/isotime.h"
#include "officemeter/config/site.h"
#include "testutil.h"

static const char *const expected_meters[] = {
    "tests/data/broken/meters/broken-model.yaml:7:19: interfaces[1]: unknown interface (got \"serial\", expected rtu or tcp)",
    "tests/data/broken/meters/broken-model.yaml:8:28: max_registers_per_request: out of range (got \"200\", expected an integer from 1 to 125)",
    "tests/data/broken/meters/broken-model.yaml:9:30: serial.parity: unknown parity (got \"X\", expected N, E or O)",
    "tests/data/broken/meters/broken-model.yaml:14:12: quantities.energy_import_kwh.count: does not match the type (got 4, expected 2 for f32)",
    "tests/data/broken/meters/broken-model.yaml:12:5: quantities.energy_import_kwh.rollover: missing required key for a counter (expected the raw value at which it wraps, or 0 with a note)",
    "tests/data/broken/meters/broken-model.yaml:18:85: quantities.power_kw.scale: wrong type (got \"0.001\", expected a number from -1000000000000 to 1000000000000)",
    "tests/data/broken/meters/broken-model.yaml:19:59: quantities.voltage_l1_v.type: unknown value (got \"float\", expected one of u16, s16, u32, s32, u64, s64, f32, f64 or composite)",
    "tests/data/broken/meters/broken-model.yaml:19:89: quantities.voltage_l1_v.rolover: unknown key (expected one of function, address, count, type, order, scale, scale_from, channel_stride, parts, rollover, not_available, optional, note)",
    "tests/data/broken/meters/broken-model.yaml:20:3: quantities: unknown quantity (got \"gas_m3\", expected one of energy_import_kwh, energy_export_kwh, water_m3, power_kw, voltage_l1_v, voltage_l2_v, voltage_l3_v, flow_m3h)",
    "tests/data/broken/meters/broken-model.yaml:2:8: model: must equal the file name (got \"not-the-file-name\", expected \"broken-model\")",
    "tests/data/broken/meters/broken-model.yaml:18:36: quantities.power_kw.address: overlaps energy_import_kwh (registers 73..74 and 72..75)",
};
static const char *const expected_sites[] = {
    "tests/data/broken/sites/badsite.yaml:6:1: name: duplicate key (first given at line 3)",
    "tests/data/broken/sites/badsite.yaml:10:12: floor_area_m2[2].from: invalid date (got \"2024-02-30\", expected a date YYYY-MM-DD)",
    "tests/data/broken/sites/badsite.yaml:11:29: headcount.2024: out of range (got \"-5\", expected an integer from 0 to 10000000)",
    "tests/data/broken/sites/badsite.yaml:21:61: meters[3].untis_id: unknown key (expected one of id, model, gateway, bus, unit_id, channel, litres_per_pulse, utility, role, active)",
    "tests/data/broken/sites/badsite.yaml:21:5: meters[3].unit_id: missing required key",
    "tests/data/broken/sites/badsite.yaml:22:97: meters[4].role: unknown value (got \"boss\", expected one of main or sub)",
    "tests/data/broken/sites/badsite.yaml:25:21: replacements[0].at: invalid timestamp (got \"2024-03-15T10:00:00\", expected YYYY-MM-DDTHH:MM:SS with Z or ±HH:MM)",
    "tests/data/broken/sites/badsite.yaml:4:11: timezone: unknown time zone (got \"Mars/Olympus_Mons\", expected an IANA zone such as Asia/Shanghai)",
    "tests/data/broken/sites/badsite.yaml:9:12: floor_area_m2[1].from: periods overlap or are out of order (got 2022-06-01, expected a date after 2023-01-01)",
    "tests/data/broken/sites/badsite.yaml:16:14: gateways[0].buses[1].id: duplicate bus id (got \"rs485\", already used by buses[0])",
    "tests/data/broken/sites/badsite.yaml:19:10: meters[1].id: duplicate meter id (got \"m1\", already used by meters[0])",
    "tests/data/broken/sites/badsite.yaml:19:21: meters[1].model: unknown model (got \"eastron-sdm631\", expected a file in the catalogue)",
    "tests/data/broken/sites/badsite.yaml:20:46: meters[2].gateway: unknown gateway (got \"gw2\", expected one of gw1)",
    "tests/data/broken/sites/badsite.yaml:21:56: meters[3].bus: unknown bus of gateway gw1 (got \"lan\", expected one of rs485, rs485)",
    "tests/data/broken/sites/badsite.yaml:22:72: meters[4].unit_id: unit id 1 is already used on bus rs485 by meter m1",
    "tests/data/broken/sites/badsite.yaml:22:84: meters[4].utility: model eastron-sdm630 has no water_m3 register (got utility water)",
    "tests/data/broken/sites/badsite.yaml:23:52: meters[5].bus: model moxa-e1212 has no RS-485 interface (got RTU bus \"rs485\", expected a TCP bus)",
    "tests/data/broken/sites/badsite.yaml:25:13: replacements[0].meter: unknown meter (got \"m9\", expected a meter id of this site)",
};
static const char *const expected_factors[] = {
    "tests/data/broken/factors/emission-factors.yaml:8:60: factors[2].verification: unknown value (got \"maybe\", expected one of unverified or verified)",
    "tests/data/broken/factors/emission-factors.yaml:7:68: factors[2].unit: does not suit kind water_supply (got kgCO2e/kWh, expected kgCO2e/m3 or tCO2e/m3)",
    "tests/data/broken/factors/emission-factors.yaml:9:57: factors[3].value: not a finite number (got \"NaN\", expected a number from 0 to 1000)",
    "tests/data/broken/factors/emission-factors.yaml:9:95: factors[3].activity_year: out of range (got \"1850\", expected an integer from 1990 to 2100)",
    "tests/data/broken/factors/emission-factors.yaml:5:10: factors[1].id: duplicate factor id (got \"f1\", already used by factors[0])",
    "tests/data/broken/factors/reporting.yaml:3:24: restate_previous_year: wrong type (got \"yes\", expected true or false)",
    "tests/data/broken/factors/reporting.yaml:4:17: intensity_area: unknown value (got \"per_desk\", expected one of time_weighted or year_end)",
    "tests/data/broken/factors/reporting.yaml:6:62: factor_selection[0].factor: unknown factor (got \"f9\", expected an id from tests/data/broken/factors/emission-factors.yaml)",
    "tests/data/broken/factors/reporting.yaml:7:55: factor_selection[1].factor: factor f1 is a grid_electricity factor (got a choice for td_losses)",
    "tests/data/broken/factors/reporting.yaml:8:5: factor_selection[2]: a second choice for region CN, kind grid_electricity, year 2024 (factor_selection[0] chose already)",
};
static const char *const expected_policy[] = {
    "tests/data/broken/policy/reporting.yaml:4:8: bills.use: unknown value (got \"sometimes\", expected one of fill or reconcile_only)",
    "tests/data/broken/policy/reporting.yaml:9:7: bills.accounts[0]: both sites and shares given (expected exactly one of sites, split by floor area, or shares)",
    "tests/data/broken/policy/reporting.yaml:10:45: bills.accounts[1].shares: shares add up to 0.9 (expected 1)",
    "tests/data/broken/policy/reporting.yaml:11:44: bills.accounts[2].sites: 1 site (expected two or more: an account of one site needs no entry)",
    "tests/data/broken/policy/reporting.yaml:12:28: bills.reconcile_threshold_pct: out of range (got \"150\", expected a number from 0 to 100)",
    "tests/data/broken/policy/reporting.yaml:7:7: bills.rules: a second rule for alpha water (the first is rules[0])",
    "tests/data/broken/policy/reporting.yaml:14:63: targets[0].target_year: not after the baseline year (got 2020, expected after 2024)",
    "tests/data/broken/policy/reporting.yaml:15:102: targets[1].type: water_intensity_t_per_m2 is an intensity KPI (got absolute)",
    "tests/data/broken/policy/reporting.yaml:16:11: targets[2].kpi: unknown value (got \"energy_per_desk\", expected one of energy_total_mwh, energy_electricity_mwh, energy_intensity_mwh_per_m2, energy_intensity_mwh_per_employee, ghg_scope1_t, ghg_scope2_location_t, ghg_scope2_market_t, ghg_total_t, ghg_intensity_t_per_m2, ghg_intensity_t_per_employee, ghg_scope3_cat3_t, ghg_scope3_water_t, water_t, water_intensity_t_per_m2 or water_intensity_t_per_employee)",
    "tests/data/broken/policy/reporting.yaml:18:52: targets[3].milestones[1]: year 2025 out of order (expected after 2026 and before the target year 2030)",
};
/* The sites a policy names, and bill files: every bad row one message. */
static const char *const expected_portfolio[] = {
    "tests/data/broken/portfolio/reporting.yaml:5:14: bills.rules[0].site: unknown site (got \"omega\", expected a site of the portfolio)",
    "tests/data/broken/portfolio/reporting.yaml:7:7: bills.accounts[0].sites[1]: unknown site (got \"omega\", expected a site of the portfolio)",
    "tests/data/broken/portfolio/bills/gamma.csv:4:1: utility: unknown value (got \"gas\", expected electricity or water)",
    "tests/data/broken/portfolio/bills/gamma.csv:5:7: account: empty (expected the account number as on the bill)",
    "tests/data/broken/portfolio/bills/gamma.csv:6:11: period_start: invalid date (got \"2024-04-31\", expected YYYY-MM-DD)",
    "tests/data/broken/portfolio/bills/gamma.csv:7:22: period_end: before period_start (got 2024-05-01, expected 2024-05-31 or later; both days are included)",
    "tests/data/broken/portfolio/bills/gamma.csv:8:33: quantity: invalid quantity (got \"-300\", expected a number from 0 to 1e12, such as 1234.5, without sign or thousands separator)",
    "tests/data/broken/portfolio/bills/gamma.csv:9:33: quantity: invalid quantity (got \"1,234\", expected a number from 0 to 1e12, such as 1234.5, without sign or thousands separator)",
    "tests/data/broken/portfolio/bills/gamma.csv:10:37: unit: unit does not suit water (got \"kWh\", expected m3)",
    "tests/data/broken/portfolio/bills/gamma.csv:11:47: source: unknown value (got \"guess\", expected invoice, landlord or estimated)",
    "tests/data/broken/portfolio/bills/gamma.csv:12:55: document: empty (expected the invoice number or file name as on the bill)",
    "tests/data/broken/portfolio/bills/gamma.csv:13:47: source: quote not closed on this line (expected \"...\")",
    "tests/data/broken/portfolio/bills/gamma.csv:14:66: 9 fields (expected 8: utility,account,period_start,period_end,quantity,unit,source,document)",
    "tests/data/broken/portfolio/bills/gamma.csv:15:43: 5 fields (expected 8: utility,account,period_start,period_end,quantity,unit,source,document)",
    "tests/data/broken/portfolio/bills/gamma.csv:16:49: source: quote inside an unquoted field (expected the whole field in quotes, with \"\" for a quote)",
    "tests/data/broken/portfolio/bills/gamma.csv:19:22: period_end: period of 735 days (expected at most 731)",
    "tests/data/broken/portfolio/bills/gamma.csv:20:59: document: control byte 0x01 in the field (expected text)",
    "tests/data/broken/portfolio/bills/omega.csv: bills of an unknown site (got \"omega\", expected SITE.csv of a site file checked with it)",
    "tests/data/broken/portfolio/bills/gamma.csv:17:1: period_start: water account W-1: 2024-01-15..2024-02-14 overlaps line 3 (W1-2024-01, 2024-01-01..2024-01-31): the same days billed twice (officemeter reconcile shows what it would double)",
    "tests/data/broken/portfolio/bills/gamma.csv:18:1: document: document W1-2024-01 is already on line 3: the same bill twice (officemeter reconcile shows what it would double)",
};
static const char *const expected_syntax[] = {
    "tests/data/broken/syntax/syntax.yaml:3:9: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence (started at 2:7)",
};

static const char *const expected_agent[] = {
    "tests/data/broken/agent/agent.yaml:5:8: broker.uri: plain MQTT to 192.0.2.7, which is not on this machine (expected mqtts://, or insecure: true to accept readings and credentials in clear text)",
    "tests/data/broken/agent/agent.yaml:6:8: broker.tls: cert_file and key_file go together (got only cert_file)",
    "tests/data/broken/agent/agent.yaml:7:25: intervals.counters_s: out of range (got \"0\", expected an integer from 1 to 86400)",
    "tests/data/broken/agent/agent.yaml:8:12: log_level: unknown value (got \"chatty\", expected one of error, warning, info or debug)",
    "tests/data/broken/agent/agent.yaml:9:30: delivery.reconnect_min_ms: longer than the cap (got 100000 ms, expected at most reconnect_max_s: 1, i.e. 1000 ms)",
    "tests/data/broken/agent/agent.yaml:3:10: gateway: unknown gateway (got \"gw9\", expected a gateway of tests/data/broken/agent/../../config/goodsite.yaml)",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int to_source_dir(void **state)
{
    (void)state;
    return chdir(OM_SOURCE_DIR);
}

/* Every expected message appears, and nothing else does. */
static void assert_messages(const om_diag *diag, const char *const *expected, size_t n)
{
    int ok = diag->count == n;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t k = 0; k < diag->count; k++)
            found |= strcmp(diag->messages[k], expected[i]) == 0;
        if (!found)
            print_message("missing expected message: %s\n", expected[i]);
        ok &= found;
    }
    if (!ok) {
        for (size_t i = 0; i < diag->count; i++)
            print_message("got: %s\n", diag->messages[i]);
        fail_msg("messages differ from the expected ones");
    }
}

static void check_one(const char *path, const char *const *expected, size_t n)
{
    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    char *paths[] = {(char *)path};
    assert_int_equal(om_check_paths(paths, 1, "firmware-config/meters", &diag, &stats), -1);
    assert_messages(&diag, expected, n);
    om_diag_free(&diag);
}

static void test_broken_model(void **state)
{
    (void)state;
    check_one("tests/data/broken/meters", expected_meters, N(expected_meters));
}

static void test_broken_site(void **state)
{
    (void)state;
    check_one("tests/data/broken/sites", expected_sites, N(expected_sites));
}

static void test_broken_factors_and_policy(void **state)
{
    (void)state;
    check_one("tests/data/broken/factors", expected_factors, N(expected_factors));
}

static void test_broken_bills_and_targets(void **state)
{
    (void)state;
    check_one("tests/data/broken/policy", expected_policy, N(expected_policy));
    check_one("tests/data/broken/portfolio", expected_portfolio, N(expected_portfolio));
}

static void test_syntax_error(void **state)
{
    (void)state;
    check_one("tests/data/broken/syntax", expected_syntax, N(expected_syntax));
}

static void test_broken_agent(void **state)
{
    (void)state;
    check_one("tests/data/broken/agent", expected_agent, N(expected_agent));
}

static void test_agent_values(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    om_agent_config cfg;
    assert_int_equal(om_agent_config_load("tests/data/config/agent.yaml", &cfg, &diag), 0);
    assert_string_equal(cfg.site_file, "tests/data/config/goodsite.yaml");
    assert_string_equal(cfg.outbox, "tests/data/config/outbox.db");
    assert_string_equal(cfg.broker.credentials_file, "tests/data/config/credentials");
    assert_string_equal(cfg.broker.client_id, "gw1"); /* defaults to the gateway id */
    assert_false(cfg.broker.use_tls);
    assert_true(cfg.broker.loopback);
    assert_true(cfg.broker.tls.verify);
    assert_int_equal(cfg.intervals.counters_s, 60);
    assert_int_equal(cfg.outbox_quota_mb, 512);
    assert_string_equal(cfg.log_level, "info");
    om_agent_config_free(&cfg);
    om_diag_free(&diag);
}

static void test_broker_uri(void **state)
{
    (void)state;
    bool tls;
    char host[64];
    unsigned port;
    assert_int_equal(om_broker_uri_parse("mqtts://mqtt.example.com", &tls, host, sizeof host, &port), 0);
    assert_true(tls);
    assert_string_equal(host, "mqtt.example.com");
    assert_int_equal(port, 8883);
    assert_int_equal(om_broker_uri_parse("mqtt://127.0.0.1:1884", &tls, host, sizeof host, &port), 0);
    assert_false(tls);
    assert_int_equal(port, 1884);
    assert_true(om_host_is_loopback(host));
    assert_int_equal(om_broker_uri_parse("tcp://[::1]:1883", &tls, host, sizeof host, &port), 0);
    assert_true(om_host_is_loopback(host));
    assert_int_equal(om_broker_uri_parse("http://x", &tls, host, sizeof host, &port), -1);
    assert_int_equal(om_broker_uri_parse("mqtt://x:0", &tls, host, sizeof host, &port), -1);
    assert_int_equal(om_broker_uri_parse("mqtt://x:99999", &tls, host, sizeof host, &port), -1);
    assert_int_equal(om_broker_uri_parse("mqtt://:1883", &tls, host, sizeof host, &port), -1);
    assert_false(om_host_is_loopback("192.0.2.1"));
}

static void test_missing_file(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    om_site site;
    assert_int_equal(om_site_load("tests/data/no-such-site.yaml", NULL, &site, &diag), -1);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.messages[0],
                        "tests/data/no-such-site.yaml: cannot open: No such file or directory");
    om_site_free(&site);
    om_diag_free(&diag);
}

static void test_shipped_files_pass(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    char *paths[] = {"sites", "firmware-config"};
    int rc = om_check_paths(paths, 2, "firmware-config/meters", &diag, &stats);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    assert_true(stats.models >= 14);
    assert_true(stats.sites >= 3);
    assert_int_equal(stats.factor_files, 1);
    assert_int_equal(stats.policy_files, 1);
    om_diag_free(&diag);
}

static void test_good_site_values(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    om_catalogue cat;
    assert_int_equal(om_catalogue_load("firmware-config/meters", &cat, &diag), 0);
    om_site s;
    int rc = om_site_load("tests/data/config/goodsite.yaml", &cat, &s, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    assert_string_equal(s.site, "goodsite");
    assert_string_equal(s.timezone, "Europe/London");
    assert_int_equal(s.nfloor_area, 2);
    assert_int_equal(s.floor_area[0].from, om_days_from_civil(2023, 1, 1));
    assert_true(s.floor_area[0].m2 == 1200.5);
    assert_int_equal(s.nheadcount, 2);
    assert_int_equal(s.headcount[1].year, 2024);
    assert_int_equal(s.headcount[1].count, 75);

    const om_bus *rtu = om_gateway_find_bus(om_site_find_gateway(&s, "gw1"), "rs485-1");
    assert_non_null(rtu);
    assert_int_equal(rtu->kind, OM_BUS_RTU);
    assert_int_equal(rtu->rtu.baud, 19200);
    assert_int_equal(rtu->rtu.parity, 'E');
    assert_int_equal(rtu->rtu.data_bits, 8);
    assert_int_equal(rtu->rtu.stop_bits, 1);
    const om_bus *lan = om_gateway_find_bus(om_site_find_gateway(&s, "gw1"), "lan");
    assert_int_equal(lan->kind, OM_BUS_TCP);
    assert_int_equal(lan->tcp.port, 502);

    /* Local dates resolve in the site's zone: 2024-07-01 00:00 BST = 23:00Z. */
    const om_meter *main1 = om_site_find_meter(&s, "main");
    const om_meter *main2 = om_site_find_meter(&s, "main2");
    assert_true(main1->active_from == OM_TIME_NONE);
    assert_true(main1->active_until == om_test_iso("2024-06-30T23:00:00Z"));
    assert_true(main2->active_from == om_test_iso("2024-06-30T23:00:00Z"));
    assert_true(main2->active_until == OM_TIME_NONE);
    assert_ptr_equal(main1->model, om_catalogue_find(&cat, "eastron-sdm630"));

    const om_meter *water = om_site_find_meter(&s, "water");
    assert_int_equal(water->channel, 3);
    assert_true(water->litres_per_pulse == 10.0);
    assert_int_equal(water->utility, OM_UTILITY_WATER);
    const om_quantity_def *w = om_model_find_quantity(water->model, OM_Q_WATER_M3);
    assert_non_null(w);
    om_regspec spec = om_quantity_spec(w, water->litres_per_pulse);
    assert_true(spec.scale == w->spec.scale * 10.0 / 1000.0);

    assert_int_equal(s.nreplacements, 1);
    assert_true(s.replacements[0].at == om_test_iso("2024-03-15T02:00:00Z"));
    assert_int_equal(s.replacements[0].nold_final, 1);
    assert_int_equal(s.replacements[0].old_final[0].quantity, OM_Q_ENERGY_IMPORT_KWH);
    assert_true(s.replacements[0].old_final[0].value == 123456.7);
    assert_int_equal(s.ninstruments, 1);
    assert_true(s.instruments[0].mwh == 50.0);

    om_site_free(&s);
    om_catalogue_free(&cat);
    om_diag_free(&diag);
}

/* Writes `len` bytes of text to a file of the test folder; returns its path. */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "/tmp/om-test-config-%d-%s", (int)getpid(), name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return p;
}

/* The one message of loading `path` as a site file (or NULL when it loads),
 * which must contain `want` and start with "path:". */
static void assert_site_error(const char *path, const char *want)
{
    om_diag diag;
    om_diag_init(&diag);
    om_site s;
    om_site_load(path, NULL, &s, &diag);
    int found = 0;
    for (size_t i = 0; i < diag.count; i++)
        found |= strncmp(diag.messages[i], path, strlen(path)) == 0 &&
                 strstr(diag.messages[i], want) != NULL;
    if (!found) {
        for (size_t i = 0; i < diag.count; i++)
            print_message("got: %s\n", diag.messages[i]);
        fail_msg("no message with \"%s\"", want);
    }
    om_site_free(&s);
    om_diag_free(&diag);
    unlink(path);
}

/* Regression (hostile inputs, defect 10): a NUL inside a YAML string is an
 * error naming the key, not a silent truncation of ids, paths and names. */
static void test_nul_in_strings(void **state)
{
    (void)state;
    static const char site[] = "site: \"sg-it\\0evil\"\nname: x\n";
    assert_site_error(write_file("nul.yaml", site, sizeof site - 1),
                      ":1:7: site: contains a NUL character");
    static const char key[] = "site: sg\n\"name\\0x\": x\n";
    assert_site_error(write_file("nulkey.yaml", key, sizeof key - 1),
                      ":2:1: name: a key contains a NUL character");
    /* A NUL byte in the file itself is refused by the YAML reader. */
    static const char raw[] = "site: sg\nname: a\0b\n";
    assert_site_error(write_file("nulraw.yaml", raw, sizeof raw - 1), "control characters");
    static const char deep[] = "site: sg\ngateways:\n  - id: gw1\n    buses:\n"
                               "      - {id: \"bus\\0\", tcp: {host: h}}\n";
    assert_site_error(write_file("nuldeep.yaml", deep, sizeof deep - 1),
                      ":5:14: gateways[0].buses[0].id: contains a NUL character");
}

/* Regression (hostile inputs, defect 10): config files have caps, checked
 * before the document is built: nesting depth, size, node count, and
 * aliases of mappings or lists (which would multiply the work). */
static void test_yaml_caps(void **state)
{
    (void)state;
    size_t n = 3000;
    char *deep = malloc(2 * n + 16);
    assert_non_null(deep);
    size_t len = (size_t)sprintf(deep, "site: ");
    memset(deep + len, '[', n);
    memset(deep + len + n, ']', n);
    len += 2 * n;
    deep[len++] = '\n';
    assert_site_error(write_file("deep.yaml", deep, len), "nested deeper than 32 levels");
    free(deep);

    size_t big = (4u << 20) + 10;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '#', big);
    memcpy(huge, "site: sg\n", 9);
    huge[big - 1] = '\n';
    assert_site_error(write_file("huge.yaml", huge, big), "larger than the cap of 4194304 bytes");
    free(huge);

    static const char laughs[] = "site: sg\nx: &a [1, 2, 3]\ngateways: [*a, *a]\n";
    assert_site_error(write_file("alias.yaml", laughs, sizeof laughs - 1),
                      ":3:12: gateways[0]: alias *a of a mapping or list");
    static const char scalar[] = "site: &s sg\nname: *s\ntimezone: Europe/London\n";
    om_diag diag;
    om_diag_init(&diag);
    om_site s;
    const char *p = write_file("scalaralias.yaml", scalar, sizeof scalar - 1);
    om_site_load(p, NULL, &s, &diag);
    for (size_t i = 0; i < diag.count; i++)
        assert_null(strstr(diag.messages[i], ": alias *"));
    assert_string_equal(s.name, "sg"); /* an alias of a text value is fine */
    om_site_free(&s);
    om_diag_free(&diag);
    unlink(p);
}

/* Regression (hostile inputs, defect 10): an agent or aggregator config
 * with a YAML syntax error gives that error, and only that: not also "no
 * meter models", as if it had been a site file. */
static void test_syntax_error_alone(void **state)
{
    (void)state;
    static const char agent[] = "site_file: x.yaml\ngateway: [gw1\n";
    const char *p = write_file("agent.yaml", agent, sizeof agent - 1);
    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    char *paths[] = {(char *)p};
    assert_int_equal(om_check_paths(paths, 1, NULL, &diag, &stats), -1);
    if (diag.count != 1 || !strstr(diag.messages[0], "YAML syntax error")) {
        for (size_t i = 0; i < diag.count; i++)
            print_message("got: %s\n", diag.messages[i]);
        fail_msg("expected the syntax error alone");
    }
    assert_int_equal(stats.sites, 0);
    om_diag_free(&diag);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_model),
        cmocka_unit_test(test_broken_site),
        cmocka_unit_test(test_broken_factors_and_policy),
        cmocka_unit_test(test_broken_bills_and_targets),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_broken_agent),
        cmocka_unit_test(test_agent_values),
        cmocka_unit_test(test_broker_uri),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_files_pass),
        cmocka_unit_test(test_good_site_values),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_yaml_caps),
        cmocka_unit_test(test_syntax_error_alone),
    };
    return cmocka_run_group_tests(tests, to_source_dir, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aggregator_config.c - aggregator.yaml: the shipped example loads
 * with its defaults and resolved paths; a broken file yields one precise
 * file:line:col message per defect; `officemeter check` classifies and
 * checks it; the sites folder loads every site file and nothing else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/config/check.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int to_source(void **state)
{
    return chdir(OM_SOURCE_DIR);
}

static void test_example_loads(void **state)
{
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    int rc = om_agg_config_load("firmware-config/aggregator/aggregator.yaml", &cfg, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.sites_dir, "firmware-config/aggregator/../../sites");
    assert_string_equal(cfg.catalogue, "firmware-config/aggregator/../meters");
    assert_string_equal(cfg.database, "/var/lib/officemeter/officemeter.db");
    assert_string_equal(cfg.broker.client_id, "officemeter-aggregator");
    assert_true(cfg.broker.use_tls);
    assert_int_equal(cfg.commit_interval_ms, 200);
    assert_int_equal(cfg.max_payload_bytes, 1048576);
    assert_int_equal(cfg.stale_after_s, 900);
    om_agg_sites sites;
    assert_int_equal(om_agg_sites_load(&cfg, &sites, &diag), 0);
    assert_int_equal(sites.nsites, 4); /* not emission-factors.yaml nor reporting.yaml */
    om_agg_sites_free(&sites);
    om_agg_config_free(&cfg);
    om_diag_free(&diag);
}

static const char *const expected[] = {
    "tests/data/aggregator/broken.yaml:3:1: databse: unknown key",
    "tests/data/aggregator/broken.yaml:4:15: broker.uri: plain MQTT to mqtt.example.com",
    "tests/data/aggregator/broken.yaml:5:21: commit_interval_ms: out of range (got \"0\"",
    "tests/data/aggregator/broken.yaml:6:12: log_level: unknown value (got \"loud\"",
    "tests/data/aggregator/broken.yaml:7:19: reconnect_min_ms: longer than the cap (got 100000 ms, "
    "expected at most reconnect_max_s: 1, i.e. 1000 ms)",
};

static void test_broken_file(void **state)
{
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    assert_int_equal(om_agg_config_load("tests/data/aggregator/broken.yaml", &cfg, &diag), -1);
    om_diag_print(&diag, stderr);
    assert_int_equal(om_diag_count(&diag), ARRAY_LEN(expected));
    for (size_t i = 0; i < ARRAY_LEN(expected); i++) {
        int found = 0;
        for (size_t k = 0; k < diag.count; k++)
            found |= strncmp(diag.messages[k], expected[i], strlen(expected[i])) == 0;
        if (!found)
            fail_msg("missing: %s", expected[i]);
    }
    om_agg_config_free(&cfg);
    om_diag_free(&diag);
}

/* `officemeter check` knows an aggregator config by its keys and checks the
 * folders it names. */
static void test_check_classifies(void **state)
{
    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    char *ok[] = {"firmware-config/aggregator"};
    assert_int_equal(om_check_paths(ok, 1, "firmware-config/meters", &diag, &stats), 0);
    assert_int_equal(stats.aggregator_files, 1);
    assert_int_equal(stats.sites, 0);
    assert_int_equal(stats.skipped, 0);
    char *bad[] = {"tests/data/aggregator/broken.yaml"};
    assert_int_equal(om_check_paths(bad, 1, "firmware-config/meters", &diag, &stats), -1);
    assert_int_equal(stats.aggregator_files, 1);
    om_diag_free(&diag);
}

static void test_missing_sites_dir_is_reported(void **state)
{
    FILE *f = fopen("/tmp/om-test-aggcfg.yaml", "w");
    assert_non_null(f);
    fputs("sites_dir: /nonexistent/sites\nbroker: {uri: mqtt://127.0.0.1}\n", f);
    fclose(f);
    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    char *paths[] = {"/tmp/om-test-aggcfg.yaml"};
    assert_int_equal(om_check_paths(paths, 1, NULL, &diag, &stats), -1);
    assert_int_equal(om_diag_count(&diag), 1);
    assert_string_equal(diag.messages[0], "/tmp/om-test-aggcfg.yaml:1:12: sites_dir: not a "
                                          "folder (got \"/nonexistent/sites\")");
    om_diag_free(&diag);
    unlink("/tmp/om-test-aggcfg.yaml");
}

/* Regression (hostile inputs, defect 10): the aggregator takes the same
 * files of sites_dir as site files as `officemeter check` does, so a site
 * file that lost its `site:` key is an error for both, never skipped by
 * one of them. */
static void test_site_without_site_key(void **state)
{
    char dir[] = "/tmp/om-test-sites.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char site[128], cfgpath[128];
    snprintf(site, sizeof site, "%s/nosite.yaml", dir);
    FILE *f = fopen(site, "w");
    assert_non_null(f);
    fputs("name: Lost Key\ntimezone: Europe/London\ngateways: [{id: gw1}]\nmeters: []\n", f);
    fclose(f);
    snprintf(cfgpath, sizeof cfgpath, "%s/agg.yaml", dir);
    f = fopen(cfgpath, "w");
    assert_non_null(f);
    fprintf(f, "sites_dir: %s\ncatalogue: %s/firmware-config/meters\n"
               "broker: {uri: mqtt://127.0.0.1}\n", dir, OM_SOURCE_DIR);
    fclose(f);
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    assert_int_equal(om_agg_config_load(cfgpath, &cfg, &diag), 0);
    om_agg_sites sites;
    assert_int_equal(om_agg_sites_load(&cfg, &sites, &diag), -1);
    int found = 0;
    for (size_t i = 0; i < diag.count; i++)
        found |= strstr(diag.messages[i], "nosite.yaml") && strstr(diag.messages[i], "site: missing");
    if (!found)
        fail_msg("the site file without `site:` was not reported");
    om_agg_sites_free(&sites);
    om_agg_config_free(&cfg);
    om_diag_free(&diag);
    /* And `officemeter check` on the folder says the same. */
    om_diag_init(&diag);
    om_check_stats stats;
    char *paths[] = {dir};
    assert_int_equal(om_check_paths(paths, 1, "firmware-config/meters", &diag, &stats), -1);
    found = 0;
    for (size_t i = 0; i < diag.count; i++)
        found |= strstr(diag.messages[i], "nosite.yaml") && strstr(diag.messages[i], "site: missing");
    assert_true(found);
    om_diag_free(&diag);
    unlink(site);
    unlink(cfgpath);
    rmdir(dir);
}

/* Loads TEXT as an aggregator config: 0 or -1, the messages in diag. */
static int load_text(const char *text, om_agg_config *cfg, om_diag *diag)
{
    FILE *f = fopen("/tmp/om-test-aggcfg2.yaml", "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    int rc = om_agg_config_load("/tmp/om-test-aggcfg2.yaml", cfg, diag);
    unlink("/tmp/om-test-aggcfg2.yaml");
    return rc;
}

static void expect_error(const char *text, const char *want)
{
    om_agg_config cfg;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(load_text(text, &cfg, &diag), -1);
    bool found = false;
    for (size_t i = 0; i < diag.count; i++)
        found |= strstr(diag.messages[i], want) != NULL;
    if (!found)
        fail_msg("expected \"%s\" among %zu messages (first: %s)", want, diag.count,
                 diag.count ? diag.messages[0] : "none");
    om_diag_free(&diag);
    om_agg_config_free(&cfg);
}

/* A list of brokers, a shared subscription group, a PostgreSQL database. */
static void test_brokers_group_and_postgresql(void **state)
{
    om_agg_config cfg;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(load_text("sites_dir: s\n"
                               "database: postgresql://aggregator@db.example.com/officemeter"
                               "?passfile=/etc/officemeter/pgpass\n"
                               "broker: {uris: [mqtts://a.example.com, mqtts://b.example.com:8884],"
                               " shared_group: aggregators}\n", &cfg, &diag), 0);
    assert_int_equal(cfg.broker.nuris, 2);
    assert_string_equal(cfg.broker.uri, "mqtts://a.example.com"); /* the first names them */
    assert_string_equal(cfg.broker.shared_group, "aggregators");
    assert_true(cfg.broker.use_tls);
    assert_false(cfg.broker.loopback);
    /* A URI is not a path relative to the config file. */
    assert_string_equal(cfg.database, "postgresql://aggregator@db.example.com/officemeter"
                                      "?passfile=/etc/officemeter/pgpass");
    assert_true(om_database_is_postgresql(cfg.database));
    om_diag_free(&diag);
    om_agg_config_free(&cfg);

    expect_error("sites_dir: s\nbroker: {uri: mqtt://127.0.0.1, uris: [mqtt://127.0.0.1]}\n",
                 "broker.uris: give uri (one broker) or uris (a list of brokers), not both");
    expect_error("sites_dir: s\nbroker: {client_id: x}\n", "broker.uri: missing");
    expect_error("sites_dir: s\nbroker: {uris: []}\n", "broker.uris");
    expect_error("sites_dir: s\nbroker: {uris: [mqtts://a, mqtt://127.0.0.1]}\n",
                 "broker.uris[1]: every broker of the list with TLS (mqtts://) or none");
    expect_error("sites_dir: s\nbroker: {uris: [mqtt://127.0.0.1, mqtt://10.0.0.7]}\n",
                 "broker.uris[1]: plain MQTT to 10.0.0.7");
    expect_error("sites_dir: s\nbroker: {uri: mqtt://127.0.0.1, shared_group: a/b}\n",
                 "broker.shared_group: invalid group name (got \"a/b\"");
    /* A password in the database URI never reaches a file anyone can read. */
    expect_error("sites_dir: s\nbroker: {uri: mqtt://127.0.0.1}\n"
                 "database: postgresql://agg:hunter2@db/officemeter\n",
                 "database: the URI holds a password (user:password@)");
    expect_error("sites_dir: s\nbroker: {uri: mqtt://127.0.0.1}\n"
                 "database: postgres:///officemeter?host=/run&password=hunter2\n",
                 "database: the URI holds a password (password=)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_broken_file),
        cmocka_unit_test(test_check_classifies),
        cmocka_unit_test(test_missing_sites_dir_is_reported),
        cmocka_unit_test(test_site_without_site_key),
        cmocka_unit_test(test_brokers_group_and_postgresql),
    };
    return cmocka_run_group_tests(tests, to_source, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_setup.c - agent.yaml, site, catalogue and credentials loaded
 * together: defaults of the delivery and interval keys, the gateway's
 * meters per bus, and each problem reported against the right file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "setup.h"

static char dir[] = "/tmp/om-agent-setup.XXXXXX";

static void write_config(const char *name, const char *extra)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "site_file: %s/sites/sim-office.yaml\n"
            "gateway: gw1\n"
            "catalogue: %s/firmware-config/meters\n"
            "outbox: outbox.db\n"
            "broker: {uri: \"mqtt://127.0.0.1:1883\"%s}\n",
            OM_TEST_DATA, OM_SOURCE_DIR, extra);
    fclose(f);
}

static int load(const char *name, om_agent_setup *s, om_diag *diag, bool credentials)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    om_agent_setup_options o = {.credentials = credentials};
    return om_agent_setup_load(path, &o, s, diag);
}

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_defaults(void **state)
{
    (void)state;
    write_config("agent.yaml", "");
    om_agent_setup s;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(load("agent.yaml", &s, &diag, true), 0);
    assert_int_equal(s.cfg.intervals.counters_s, 60);
    assert_int_equal(s.cfg.intervals.instant_s, 10);
    assert_int_equal(s.cfg.intervals.health_s, 60);
    assert_int_equal(s.cfg.intervals.backoff_max_s, 300);
    assert_int_equal(s.cfg.delivery.resend_after_s, 30);
    assert_int_equal(s.cfg.delivery.max_polls_per_message, 500);
    assert_int_equal(s.cfg.delivery.max_message_kb, 256);
    assert_int_equal(s.cfg.delivery.max_messages_per_s, 20);
    assert_int_equal(s.cfg.delivery.max_inflight, 8);
    assert_int_equal(s.cfg.delivery.connect_timeout_s, 30);
    assert_int_equal(s.cfg.delivery.reconnect_min_ms, 500);
    assert_int_equal(s.cfg.delivery.reconnect_max_s, 60);
    assert_string_equal(s.gateway->id, "gw1");
    assert_int_equal(s.nmeters, 5);
    assert_null(s.username);
    size_t n = 0;
    const om_meter **lan = om_agent_setup_bus_meters(&s, om_gateway_find_bus(s.gateway, "lan"), &n);
    assert_int_equal(n, 2);
    assert_string_equal(lan[0]->id, "water");
    assert_string_equal(lan[1]->id, "kitchen-water");
    free(lan);
    om_agent_setup_free(&s);
    om_diag_free(&diag);
}

static void test_credentials(void **state)
{
    (void)state;
    write_config("cred.yaml", ", credentials_file: credentials");
    om_agent_setup s;
    om_diag diag;
    om_diag_init(&diag);
    /* missing: one error naming the key and the file */
    assert_int_equal(load("cred.yaml", &s, &diag, true), -1);
    assert_int_equal(om_diag_count(&diag), 1);
    assert_non_null(strstr(diag.messages[0], "broker.credentials_file: cannot read credentials file"));
    om_agent_setup_free(&s);
    /* --plan does not need them */
    om_diag_free(&diag);
    om_diag_init(&diag);
    assert_int_equal(load("cred.yaml", &s, &diag, false), 0);
    om_agent_setup_free(&s);

    char path[128];
    snprintf(path, sizeof path, "%s/credentials", dir);
    FILE *f = fopen(path, "w");
    fputs("gw1:pa55\n", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(load("cred.yaml", &s, &diag, true), 0);
    assert_string_equal(s.username, "gw1");
    assert_string_equal(s.password, "pa55");
    om_agent_setup_free(&s);
    om_diag_free(&diag);
}

static void test_unknown_gateway(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/gw.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "site_file: %s/sites/sim-office.yaml\ngateway: gw9\ncatalogue: %s/firmware-config/meters\n"
               "broker: {uri: \"mqtt://127.0.0.1\"}\n", OM_TEST_DATA, OM_SOURCE_DIR);
    fclose(f);
    om_agent_setup s;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(load("gw.yaml", &s, &diag, true), -1);
    assert_int_equal(om_diag_count(&diag), 1);
    assert_non_null(strstr(diag.messages[0], "gw.yaml:2:10: gateway: unknown gateway (got \"gw9\""));
    om_agent_setup_free(&s);
    om_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_unknown_gateway),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

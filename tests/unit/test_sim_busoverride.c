/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sim_busoverride.c - parsing and applying --bus overrides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "officemeter/config/busoverride.h"

static void test_parse_tcp(void **state)
{
    (void)state;
    om_bus_override ov;
    char err[256];
    assert_int_equal(om_bus_override_parse("lan=tcp:127.0.0.1:15020", &ov, err, sizeof err), 0);
    assert_null(ov.gateway_id);
    assert_string_equal(ov.bus_id, "lan");
    assert_int_equal(ov.kind, OM_BUS_TCP);
    assert_string_equal(ov.host, "127.0.0.1");
    assert_int_equal(ov.port, 15020);
    assert_null(ov.device);
    om_bus_override_free(&ov);

    assert_int_equal(om_bus_override_parse("sh-gw1/lan=tcp:localhost:502", &ov, err, sizeof err), 0);
    assert_string_equal(ov.gateway_id, "sh-gw1");
    assert_string_equal(ov.bus_id, "lan");
    assert_string_equal(ov.host, "localhost");
    assert_int_equal(ov.port, 502);
    om_bus_override_free(&ov);

    assert_int_equal(om_bus_override_parse("lan=tcp:[::1]:1502", &ov, err, sizeof err), 0);
    assert_string_equal(ov.host, "::1");
    assert_int_equal(ov.port, 1502);
    om_bus_override_free(&ov);
}

static void test_parse_rtu(void **state)
{
    (void)state;
    om_bus_override ov;
    char err[256];
    assert_int_equal(om_bus_override_parse("rs485-1=rtu:/dev/pts/7", &ov, err, sizeof err), 0);
    assert_string_equal(ov.bus_id, "rs485-1");
    assert_int_equal(ov.kind, OM_BUS_RTU);
    assert_string_equal(ov.device, "/dev/pts/7");
    assert_null(ov.host);
    om_bus_override_free(&ov);
    om_bus_override_free(&ov); /* freeing twice is harmless */
    om_bus_override_free(NULL);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"lan", "expected [GATEWAY/]BUS="},
        {"=tcp:127.0.0.1:1", "expected [GATEWAY/]BUS="},
        {"lan=udp:127.0.0.1:1", "unknown target"},
        {"lan=tcp:127.0.0.1", "needs HOST:PORT"},
        {"lan=tcp:127.0.0.1:0", "bad port"},
        {"lan=tcp:127.0.0.1:65536", "bad port"},
        {"lan=tcp:127.0.0.1:12x", "bad port"},
        {"lan=tcp::502", "needs HOST:PORT"},
        {"lan=rtu:", "needs a device"},
        {"/lan=rtu:/dev/x", "empty gateway or bus"},
        {"gw/=rtu:/dev/x", "empty gateway or bus"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        om_bus_override ov;
        char err[256] = "";
        assert_int_equal(om_bus_override_parse(bad[i].text, &ov, err, sizeof err), -1);
        if (strstr(err, bad[i].says) == NULL)
            fail_msg("'%s': got '%s', expected it to say '%s'", bad[i].text, err, bad[i].says);
        assert_null(ov.bus_id);
    }
}

/* A site with two gateways that both have a bus called "lan". */
static void make_site(om_site *site, om_gateway gws[2], om_bus buses[3])
{
    memset(site, 0, sizeof *site);
    memset(buses, 0, 3 * sizeof *buses);
    buses[0] = (om_bus){.id = strdup("rs485-1"), .kind = OM_BUS_RTU,
                        .rtu = {strdup("/dev/ttyUSB0"), 19200, 'E', 8, 1}};
    buses[1] = (om_bus){.id = strdup("lan"), .kind = OM_BUS_TCP, .tcp = {strdup("10.0.0.1"), 502}};
    buses[2] = (om_bus){.id = strdup("lan"), .kind = OM_BUS_TCP, .tcp = {strdup("10.0.0.2"), 502}};
    gws[0] = (om_gateway){.id = strdup("gw1"), .buses = &buses[0], .nbuses = 2};
    gws[1] = (om_gateway){.id = strdup("gw2"), .buses = &buses[2], .nbuses = 1};
    site->site = strdup("test");
    site->gateways = gws;
    site->ngateways = 2;
}

static void free_site(om_site *site, om_gateway gws[2], om_bus buses[3])
{
    for (int i = 0; i < 3; i++) {
        free(buses[i].id);
        free(buses[i].rtu.device);
        free(buses[i].tcp.host);
    }
    free(gws[0].id);
    free(gws[1].id);
    free(site->site);
}

static void test_apply(void **state)
{
    (void)state;
    om_site site;
    om_gateway gws[2];
    om_bus buses[3];
    om_bus_override ov[2];
    char err[256];
    make_site(&site, gws, buses);
    assert_int_equal(om_bus_override_parse("rs485-1=rtu:/dev/pts/3", &ov[0], err, sizeof err), 0);
    assert_int_equal(om_bus_override_parse("gw2/lan=tcp:127.0.0.1:1502", &ov[1], err, sizeof err), 0);
    assert_int_equal(om_bus_override_apply(&site, ov, 2, err, sizeof err), 0);

    /* The serial settings stay, the device changes. */
    assert_string_equal(buses[0].rtu.device, "/dev/pts/3");
    assert_int_equal(buses[0].rtu.baud, 19200);
    assert_int_equal(buses[0].rtu.parity, 'E');
    /* Only gw2's lan moved. */
    assert_string_equal(buses[1].tcp.host, "10.0.0.1");
    assert_string_equal(buses[2].tcp.host, "127.0.0.1");
    assert_int_equal(buses[2].tcp.port, 1502);
    om_bus_override_free(&ov[0]);
    om_bus_override_free(&ov[1]);

    /* Without a gateway, every bus of that name moves; a kind can change. */
    assert_int_equal(om_bus_override_parse("lan=rtu:/dev/pts/9", &ov[0], err, sizeof err), 0);
    assert_int_equal(om_bus_override_apply(&site, ov, 1, err, sizeof err), 0);
    assert_int_equal(buses[1].kind, OM_BUS_RTU);
    assert_int_equal(buses[2].kind, OM_BUS_RTU);
    assert_string_equal(buses[2].rtu.device, "/dev/pts/9");
    assert_int_equal(buses[2].rtu.baud, 9600);
    om_bus_override_free(&ov[0]);
    free_site(&site, gws, buses);
}

static void test_apply_unknown_bus_changes_nothing(void **state)
{
    (void)state;
    om_site site;
    om_gateway gws[2];
    om_bus buses[3];
    om_bus_override ov[2];
    char err[256] = "";
    make_site(&site, gws, buses);
    assert_int_equal(om_bus_override_parse("rs485-1=rtu:/dev/pts/3", &ov[0], err, sizeof err), 0);
    assert_int_equal(om_bus_override_parse("gw2/rs485-1=rtu:/dev/pts/4", &ov[1], err, sizeof err), 0);
    assert_int_equal(om_bus_override_apply(&site, ov, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "gw2/rs485-1"));
    assert_non_null(strstr(err, "matches no bus"));
    assert_string_equal(buses[0].rtu.device, "/dev/ttyUSB0");
    om_bus_override_free(&ov[0]);
    om_bus_override_free(&ov[1]);
    free_site(&site, gws, buses);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_tcp),
        cmocka_unit_test(test_parse_rtu),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_apply_unknown_bus_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

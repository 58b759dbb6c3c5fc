/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ingest_fast.c - the fast reader of well-formed readings messages
 * (om_ingest_readings_fast) against the full judge: what the agent's own
 * encoder writes takes the fast path, and is judged exactly as the full
 * judge judges it (doubles bit for bit, values in order); every message
 * the fast reader cannot judge with certainty (a fault, an escape, a
 * duplicate key, a poll to quarantine, "skipped", a number at the edge of
 * its type) is declined and left to the full judge, which explains it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judged_same.h" /* tests/fuzz/, shared with the fuzz target ingest */
#include "officemeter/config/site.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/proto/payload.h"

#define NOW INT64_C(1718000000000)
#define EPOCH "5f0c9a1e2b7d4c88"

static om_site sites[2];

static int setup(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    if (om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", NULL, &sites[0], &diag) < 0 ||
        om_site_load(OM_SOURCE_DIR "/sites/london.yaml", NULL, &sites[1], &diag) < 0) {
        om_diag_print(&diag, stderr);
        return -1;
    }
    om_diag_free(&diag);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    om_site_free(&sites[0]);
    om_site_free(&sites[1]);
    return 0;
}

static const om_ingest_rules rules = {NOW, 300000, 1 << 20, sites, 2};
static const om_topic topic = {.kind = OM_TOPIC_READINGS, .site = "sim-office", .gateway = "gw1"};

/* Returns what the fast reader did (1 judged, 0 declined); when it judged,
 * its judgement must be the full judge's. */
static int judge_both(const char *text)
{
    om_readings_msg fast, full;
    int rc = om_ingest_readings_fast(&rules, &topic, text, strlen(text), &fast);
    assert_int_equal(om_ingest_readings_full(&rules, &topic, text, strlen(text), &full), 0);
    if (rc == 1) {
        const char *diff = judged_difference(&fast, &full);
        if (diff)
            fail_msg("%s: the fast reader differs from the full judge in %s", text, diff);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(fast.npolls, 0);
        assert_null(fast.polls);
    }
    om_readings_msg_free(&fast);
    om_readings_msg_free(&full);
    return rc;
}

/* The agent's encoder output, of every quantity and awkward doubles. */
static void test_agent_output_takes_fast_path(void **state)
{
    (void)state;
    om_batch b;
    om_batch_init(&b);
    memcpy(b.epoch, EPOCH, sizeof b.epoch);
    const double values[] = {0.1, 123456789.12345679, 42.0, 1e-7, 5e-324, 999999999999999.9};
    const char *meters[] = {"main", "hvac", "water"};
    for (int i = 0; i < 6; i++) {
        om_poll p = {.seq = 20 + i, .meter = (char *)meters[i % 3], .t_ms = NOW - 60000 + i};
        if (i % 3 == 2) {
            p.values[p.nvalues++] = (om_poll_value){OM_Q_WATER_M3, values[i]};
            p.values[p.nvalues++] = (om_poll_value){OM_Q_FLOW_M3H, -values[i]};
        } else {
            for (int q = 0; q < OM_Q__COUNT; q++)
                if (q != OM_Q_WATER_M3 && q != OM_Q_FLOW_M3H)
                    p.values[p.nvalues++] = (om_poll_value){(om_quantity)q, values[(i + q) % 6]};
        }
        assert_int_equal(om_batch_add_poll(&b, &p), 0);
    }
    char buf[8193], err[256];
    size_t len, n;
    assert_int_equal(om_payload_encode_readings("sim-office", "gw1", &b, buf, 8192, &len, &n, err,
                                                sizeof err), 0);
    buf[len] = '\0';
    assert_int_equal(judge_both(buf), 1);
    om_batch_free(&b);
}

/* Valid, in forms the agent does not write: still the fast path. */
static void test_valid_variants(void **state)
{
    (void)state;
    const char *ok[] = {
        "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\","
        "\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,"
        "\"values\":{\"energy_import_kwh\":12,\"power_kw\":-0.0}}]}",
        /* whitespace everywhere JSON allows it, keys in another order */
        " \n{ \"polls\" : [ { \"values\" : { \"power_kw\" : 1.5e2 } , \"t\" : 1717999999000 ,"
        " \"meter\" : \"hvac\" , \"seq\" : 7 } ] , \"epoch\" : \"" EPOCH "\" , \"gateway\" :"
        " \"gw1\" , \"site\" : \"sim-office\" , \"v\" : 1 }\r\n\t",
        /* integers as values, exponents in upper case */
        "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\","
        "\"polls\":[{\"seq\":9007199254740992,\"meter\":\"lifts\",\"t\":1718000300000,"
        "\"values\":{\"energy_import_kwh\":123456789012345,\"voltage_l1_v\":2.3E+2}}]}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (judge_both(ok[i]) != 1)
            fail_msg("declined a valid message: %s", ok[i]);
}

#define HEAD "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\","
#define POLL(body) HEAD "\"polls\":[{" body "}]}"

/* Everything the fast reader must leave to the full judge. */
static void test_declines(void **state)
{
    (void)state;
    const char *declined[] = {
        "",
        "[]",
        "{}",
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}") " x",
        POLL("\"seq\":1,\"meter\":\"ma\\u0069n\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1,"
             "\"power_kw\":2}"),
        POLL("\"seq\":1,\"seq\":2,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1},\"x\":1"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000"),
        POLL("\"seq\":1.0,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":0,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":9007199254740993,\"meter\":\"main\",\"t\":1717999999000,"
             "\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1234567890123456789,\"meter\":\"main\",\"t\":1717999999000,"
             "\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":01,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1718000300001,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":946684799999,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1e400}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":NaN}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1e16}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"energy_import_kwh\":-1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":\"1\"}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"bogus\":1}"),
        POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{}"),
        POLL("\"seq\":1,\"meter\":\"Main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        /* a meter to quarantine, and another site's meter */
        POLL("\"seq\":1,\"meter\":\"new-meter\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        POLL("\"seq\":1,\"meter\":\"ldn-main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}"),
        HEAD "\"polls\":[]}",
        HEAD "\"polls\":[{\"seq\":5,\"meter\":\"main\",\"t\":1717999999000,"
             "\"values\":{\"power_kw\":1}}],\"skipped\":[[1,4]]}",
        "{\"v\":2,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\","
        "\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}}]}",
        "{\"v\":1,\"site\":\"sim-branch\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\","
        "\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}}]}",
        "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"5F0C9A1E2B7D4C88\","
        "\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,\"values\":{\"power_kw\":1}}]}",
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        if (judge_both(declined[i]) != 0)
            fail_msg("case %zu: judged what it should decline: %s", i, declined[i]);
}

/* The cap on the payload's size holds on the fast path too. */
static void test_size_cap(void **state)
{
    (void)state;
    const char *text = POLL("\"seq\":1,\"meter\":\"main\",\"t\":1717999999000,"
                            "\"values\":{\"power_kw\":1}");
    om_ingest_rules small = rules;
    small.max_bytes = strlen(text) - 1;
    om_readings_msg m;
    assert_int_equal(om_ingest_readings_fast(&small, &topic, text, strlen(text), &m), 0);
    om_readings_msg_free(&m);
    assert_int_equal(om_ingest_readings(&small, &topic, text, strlen(text), &m), 0);
    assert_string_equal(m.verdict.code, "too_large");
    om_readings_msg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_output_takes_fast_path),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_declines),
        cmocka_unit_test(test_size_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

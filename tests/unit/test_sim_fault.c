/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sim_fault.c - parsing --fault METER=MODE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "officemeter/config/site.h"
#include "sim_fault.h"
#include "testutil.h"

static void parse_ok(const char *text, const char *meter, om_sim_faults *f)
{
    char id[64], err[256] = "";
    if (om_sim_fault_parse(text, id, sizeof id, f, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", text, err);
    assert_string_equal(id, meter);
}

static void test_modes(void **state)
{
    (void)state;
    om_sim_faults f;
    om_sim_faults_init(&f);
    assert_int_equal(f.reset_at, OM_TIME_NONE);
    parse_ok("main=timeout", "main", &f);
    assert_true(f.timeout);
    parse_ok("main=exception:4", "main", &f);
    assert_int_equal(f.exception, 4);
    parse_ok("main=slow:250", "main", &f);
    assert_int_equal(f.slow_ms, 250);
    parse_ok("main=reset@2024-03-01T02:00:00Z", "main", &f);
    assert_int_equal(f.reset_at, 1709258400000LL);
    parse_ok("main=glitch@2024-03-01T03:00:00+01:00", "main", &f);
    assert_int_equal(f.glitch_at, 1709258400000LL);
    parse_ok("main=rollover", "main", &f);
    assert_true(f.rollover);
    parse_ok("w-1=leak:0.35", "w-1", &f);
    assert_true(f.leak_m3h == 0.35);
    parse_ok("main=na", "main", &f);
    assert_true(f.na);

    char text[256];
    om_sim_faults_describe(&f, text, sizeof text);
    assert_string_equal(text, "timeout, exception:4, slow:250, reset@2024-03-01T02:00:00.000Z, "
                              "rollover, glitch@2024-03-01T02:00:00.000Z, leak:0.35, na");
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"main", "expected METER=MODE"},
        {"=timeout", "expected METER=MODE"},
        {"main=", "expected METER=MODE"},
        {"main=sleep", "unknown fault mode 'sleep'"},
        {"main=exception:0", "bad exception code"},
        {"main=exception:12", "bad exception code"},
        {"main=exception:x", "bad exception code"},
        {"main=slow:-5", "bad delay"},
        {"main=slow:", "bad delay"},
        {"main=reset@yesterday", "bad time 'yesterday'"},
        {"main=glitch@2024-13-01T00:00:00Z", "bad time"},
        {"main=leak:0", "bad leak flow"},
        {"main=leak:abc", "bad leak flow"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        om_sim_faults f;
        char id[64], err[256] = "";
        om_sim_faults_init(&f);
        assert_int_equal(om_sim_fault_parse(bad[i].text, id, sizeof id, &f, err, sizeof err), -1);
        if (strstr(err, bad[i].says) == NULL)
            fail_msg("'%s': got '%s', expected it to say '%s'", bad[i].text, err, bad[i].says);
    }
}

/* The faults that drill alerts: from a time, and until another. */
static void test_timed_modes(void **state)
{
    (void)state;
    om_sim_faults f;
    om_sim_faults_init(&f);
    parse_ok("w=leak:0.2@2024-01-05T12:00:00Z/2024-01-10T12:00:00Z", "w", &f);
    assert_true(f.leak_m3h == 0.2);
    assert_int_equal(f.leak_from, om_test_iso("2024-01-05T12:00:00Z"));
    assert_int_equal(f.leak_until, om_test_iso("2024-01-10T12:00:00Z"));
    parse_ok("main=baseload:6@2024-01-20T00:00:00Z", "main", &f);
    assert_true(f.step_kw == 6.0);
    assert_int_equal(f.step_from, om_test_iso("2024-01-20T00:00:00Z"));
    assert_int_equal(f.step_until, OM_TIME_NONE);
    parse_ok("lifts=timeout@2024-01-08T03:00:00Z/2024-01-08T06:00:00Z", "lifts", &f);
    assert_false(f.timeout);
    assert_true(om_sim_fault_window(f.timeout_from, f.timeout_until, om_test_iso("2024-01-08T03:00:00Z")));
    assert_false(om_sim_fault_window(f.timeout_from, f.timeout_until, om_test_iso("2024-01-08T06:00:00Z")));
    parse_ok("gw1=offline@2024-01-08T09:00:00Z", "gw1", &f);
    assert_true(f.offline);
    char text[512];
    om_sim_faults_describe(&f, text, sizeof text);
    assert_string_equal(text, "leak:0.2@2024-01-05T12:00:00.000Z/2024-01-10T12:00:00.000Z, "
                              "baseload:6@2024-01-20T00:00:00.000Z, "
                              "timeout@2024-01-08T03:00:00.000Z/2024-01-08T06:00:00.000Z, "
                              "offline@2024-01-08T09:00:00.000Z");
    /* The existing modes keep their meaning: a leak without a time runs always. */
    om_sim_faults_init(&f);
    parse_ok("w=leak:0.35", "w", &f);
    assert_int_equal(f.leak_from, OM_TIME_NONE);
    assert_int_equal(f.leak_until, OM_TIME_NONE);

    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"w=leak:0.2@soon", "bad time 'soon'"},
        {"w=leak:0.2@2024-01-10T00:00:00Z/2024-01-05T00:00:00Z", "the end is not after the start"},
        {"m=baseload:0", "bad base load step"},
        {"m=baseload:x@2024-01-01T00:00:00Z", "bad base load step 'x'"},
        {"m=timeout@", "bad time"},
        {"g=offline@2024-01-01", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char id[64], err[512] = "";
        om_sim_faults_init(&f);
        int rc = om_sim_fault_parse(bad[i].text, id, sizeof id, &f, err, sizeof err);
        if (!bad[i].says[0]) {
            assert_int_equal(rc, 0); /* a bare date is midnight UTC: accepted */
            continue;
        }
        assert_int_equal(rc, -1);
        if (strstr(err, bad[i].says) == NULL)
            fail_msg("'%s': got '%s', expected it to say '%s'", bad[i].text, err, bad[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_timed_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

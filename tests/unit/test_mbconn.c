/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mbconn.c - what a failed Modbus read means: the classification the
 * agent's bus workers and the probe share, and the line a failure is
 * reported with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "officemeter/modbus/mbconn.h"

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        int code;
        om_mb_failure kind;
        unsigned exception;
    } cases[] = {
        {MODBUS_ENOBASE + MODBUS_EXCEPTION_ILLEGAL_FUNCTION, OM_MB_EXCEPTION, 1},
        {MODBUS_ENOBASE + MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, OM_MB_EXCEPTION, 2},
        {MODBUS_ENOBASE + MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY, OM_MB_EXCEPTION, 6},
        {MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_PATH, OM_MB_EXCEPTION, 10},
        {MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET, OM_MB_EXCEPTION, 11},
        {ETIMEDOUT, OM_MB_TIMEOUT, 0},
        {EMBBADCRC, OM_MB_BAD_CRC, 0},
        {EMBBADSLAVE, OM_MB_GARBLED, 0},
        {EMBBADDATA, OM_MB_GARBLED, 0},
        {EMBMDATA, OM_MB_GARBLED, 0},
        {ECONNRESET, OM_MB_CONNECTION, 0},
        {EPIPE, OM_MB_CONNECTION, 0},
        {ECONNREFUSED, OM_MB_CONNECTION, 0},
        {EIO, OM_MB_CONNECTION, 0},
        {EINVAL, OM_MB_OTHER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned exc = 0;
        om_mb_failure kind = om_mb_classify(cases[i].code, &exc);
        if (kind != cases[i].kind || exc != cases[i].exception)
            fail_msg("code %d: kind %d exception %u, want %d and %u", cases[i].code, kind, exc,
                     cases[i].kind, cases[i].exception);
    }
    assert_true(om_mb_exception_is_absent(10));
    assert_true(om_mb_exception_is_absent(11));
    assert_false(om_mb_exception_is_absent(2));
    assert_false(om_mb_exception_is_absent(6));
}

static void test_describe_failure(void **state)
{
    (void)state;
    om_bus bus = {.id = "lan", .kind = OM_BUS_TCP, .tcp = {.host = "10.0.0.20", .port = 502}};
    char err[512];
    om_mbconn_describe_failure(NULL, &bus, 3, 4, 0x0048,
                               MODBUS_ENOBASE + MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, err,
                               sizeof err);
    assert_string_equal(err, "unit 3 on 10.0.0.20:502 (bus lan) answered exception 2 (illegal "
                             "data address) to function 4, address 0x0048");
    om_mbconn_describe_failure(NULL, &bus, 3, 4, 0x0048, EMBBADCRC, err, sizeof err);
    assert_non_null(strstr(err, "bad CRC in the answer from unit 3"));
    om_mbconn_describe_failure(NULL, &bus, 3, 4, 0x0048, EMBBADSLAVE, err, sizeof err);
    assert_non_null(strstr(err, "answer from the wrong unit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_describe_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

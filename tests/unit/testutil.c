/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.c - shared helpers of the unit tests (testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "officemeter/base/crc16.h"
#include "officemeter/base/isotime.h"
#include "testutil.h"

int64_t om_test_iso(const char *text)
{
    int64_t ms = 0;
    if (om_parse_iso8601(text, &ms) < 0)
        fail_msg("not an ISO 8601 time: \"%s\"", text);
    return ms;
}

void om_test_near_(double got, double want, const char *what, const char *file, int line)
{
    double scale = fabs(want) > 1 ? fabs(want) : 1;
    if (!(fabs(got - want) <= OM_TEST_REL_TOL * scale)) {
        print_error("ERROR: %s%sgot %.17g, want %.17g\n", what ? what : "", what ? ": " : "", got,
                    want);
        _fail(file, line);
    }
}

void om_test_exact_(double got, double want, const char *file, int line)
{
    if (got != want) {
        print_error("ERROR: got %.17g, want exactly %.17g\n", got, want);
        _fail(file, line);
    }
}

void om_test_put_crc(uint8_t *buf, size_t len)
{
    uint16_t crc = om_crc16_modbus(buf, len);
    buf[len] = (uint8_t)(crc & 0xFF);
    buf[len + 1] = (uint8_t)(crc >> 8);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.h - what the unit tests would otherwise each write again.
 *
 * Compiled into every unit test (tests/CMakeLists.txt). Include it after
 * <cmocka.h>.
 *
 * Tolerance. Figures computed in floating point (consumption, rollups,
 * KPIs, areas) are compared with om_test_assert_near: equal within
 * OM_TEST_REL_TOL relative to the expected value, or absolutely when that
 * is below 1. 1e-9 is far below any rounding a report shows (MWh to 3
 * decimals) and far above the error of the computation itself (a few ulp
 * per step, 1e-16 relative), so a test fails on a wrong formula, never on
 * the order of additions. Exact integers and exact doubles use cmocka's
 * equality asserts instead.
 */
#ifndef OFFICEMETER_TESTUTIL_H
#define OFFICEMETER_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#define OM_TEST_REL_TOL 1e-9

/* "2024-03-31T01:00:00Z" (or any om_parse_iso8601 text) in ms UTC; fails
 * the test on malformed text. */
int64_t om_test_iso(const char *text);

/* Fails the test (naming `what`, which may be NULL) unless got is within
 * OM_TEST_REL_TOL of want. */
void om_test_near_(double got, double want, const char *what, const char *file, int line);
#define om_test_assert_near(got, want) om_test_near_((got), (want), NULL, __FILE__, __LINE__)
#define om_test_assert_near_what(got, want, what) \
    om_test_near_((got), (want), (what), __FILE__, __LINE__)

/* Fails the test unless got == want exactly (for values a formula must
 * reproduce to the bit, such as a sum of whole numbers). */
void om_test_exact_(double got, double want, const char *file, int line);
#define om_test_assert_exact(got, want) om_test_exact_((got), (want), __FILE__, __LINE__)

/* Appends the CRC of buf[0..len) (the simulator's CRC-16/MODBUS, low byte
 * first) at buf[len] and buf[len + 1]: a complete RTU frame. */
void om_test_put_crc(uint8_t *buf, size_t len);

/* PostgreSQL for the tests that run against both store backends: a cluster
 * of the test's own (tests/postgresql/pg_cluster.sh), started once per
 * test program. om_test_pg_start returns 0 with the URI of its database
 * "officemeter" in uri, 1 when PostgreSQL is not installed (the caller
 * says so and skips), and fails the test when it is installed but does not
 * start. om_test_pg_stop stops it and removes its folder (also at exit). */
int om_test_pg_start(char *uri, size_t len);
void om_test_pg_stop(void);
/* An empty database NAME in the cluster (dropped first when it exists);
 * its URI in uri. */
void om_test_pg_fresh(const char *name, char *uri, size_t len);
/* Runs SQL on the database at uri; fails the test on an error. */
void om_test_pg_exec(const char *uri, const char *sql);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_hours.c - the store's hourly aggregates (store/hours.h): equal
 * to a recomputation from the readings after out-of-order polls, resends,
 * conflicts and a rolled-back group; filled from the readings when a
 * database without them is opened by a writer; downsampled buckets from
 * the aggregates and from the readings agree; reading counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/store/hours.h"
#include "officemeter/store/store.h"
#include "testutil.h"

#define EPOCH "5f0c9a1e2b7d4c88"
#define T0 1718000000000LL /* 2024-06-10T06:13:20Z */

static char dir[64], path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/om-test-hours.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/agg.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static om_store *open_store(unsigned flags)
{
    char err[512];
    om_store *st = om_store_open(path, flags, err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    return st;
}

static const om_store_origin origin = {"sim-office", "gw1", EPOCH, T0};

static void put(om_store *st, const char *meter, int64_t seq, int64_t t, double kwh, double kw)
{
    om_poll p;
    memset(&p, 0, sizeof p);
    p.seq = seq;
    p.meter = (char *)meter;
    p.t_ms = t;
    p.nvalues = 2;
    p.values[0] = (om_poll_value){.quantity = OM_Q_ENERGY_IMPORT_KWH, .value = kwh};
    p.values[1] = (om_poll_value){.quantity = OM_Q_POWER_KW, .value = kw};
    assert_int_equal(om_store_put_poll(st, &origin, &p, NULL), 0);
}

/* Every aggregate row against the same figures recomputed from the
 * readings by SQL: equal, row for row (sums within rounding). */
static void assert_hours_match_readings(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    const char *diff =
        "WITH r AS (SELECT meter, quantity, t / 3600000 AS hour, t, value FROM readings),"
        " g AS (SELECT meter, quantity, hour, count(*) AS n, sum(value) AS sum, min(value) AS min,"
        "  max(value) AS max, min(t) AS first_t, max(t) AS last_t FROM r GROUP BY 1, 2, 3)"
        " SELECT count(*) FROM g LEFT JOIN meter_hours h USING (meter, quantity, hour)"
        " WHERE h.n IS NOT g.n OR h.min IS NOT g.min OR h.max IS NOT g.max"
        "  OR h.first_t IS NOT g.first_t OR h.last_t IS NOT g.last_t OR abs(h.sum - g.sum) > 1e-6"
        "  OR h.first_v IS NOT (SELECT value FROM readings x WHERE x.meter = g.meter AND"
        "   x.quantity = g.quantity AND x.t = g.first_t)"
        "  OR h.last_v IS NOT (SELECT value FROM readings x WHERE x.meter = g.meter AND"
        "   x.quantity = g.quantity AND x.t = g.last_t)";
    const char *extra = "SELECT (SELECT count(*) FROM meter_hours) - (SELECT count(*) FROM "
                        "(SELECT DISTINCT meter, quantity, t / 3600000 FROM readings))";
    const char *counts = "SELECT count(*) FROM (SELECT meter, quantity, count(*) AS n FROM "
                         "readings GROUP BY 1, 2) g LEFT JOIN meter_counts c "
                         "USING (meter, quantity) WHERE c.n IS NOT g.n";
    const char *checks[] = {diff, extra, counts};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, checks[i], -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        if (sqlite3_column_int64(s, 0) != 0)
            fail_msg("check %zu: %lld rows differ from the readings", i,
                     (long long)sqlite3_column_int64(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

static void test_resends_conflicts_rollback(void **state)
{
    om_store *st = open_store(OM_STORE_CREATE);
    /* Three hours of polls every 10 minutes, written out of order in two
     * groups, with every poll of the first group sent again in the second. */
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 17; i >= 0; i -= 2)
        put(st, "main", i + 1, T0 + i * 600000LL, 1000 + i * 2.5, 10 + i);
    assert_int_equal(om_store_commit(st), 0);
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 0; i < 18; i++)
        put(st, "main", i + 1, T0 + i * 600000LL, 1000 + i * 2.5, 10 + i);
    /* A conflict (same key, another value) is kept out of the aggregates. */
    put(st, "main", 99, T0, 5555, 5555);
    assert_int_equal(om_store_commit(st), 0);
    /* A group rolled back leaves nothing behind, not even its hours. */
    assert_int_equal(om_store_begin(st), 0);
    put(st, "main", 100, T0 + 50 * 3600000LL, 9999, 99);
    put(st, "hvac", 101, T0, 1, 1);
    om_store_rollback(st);
    assert_int_equal(om_store_begin(st), 0);
    put(st, "hvac", 102, T0 + 3600000LL, 7, 0.5);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    assert_hours_match_readings();

    st = open_store(OM_STORE_READONLY);
    om_store_reading_count *rows;
    size_t n;
    assert_int_equal(om_store_reading_counts(st, &rows, &n), 0);
    assert_int_equal(n, 4); /* hvac and main, two quantities each */
    assert_string_equal(rows[2].meter, "main");
    assert_int_equal(rows[2].readings, 18);
    free(rows);
    om_store_close(st);
}

typedef struct {
    om_bucket b[64];
    size_t n;
} buckets;

static int keep_bucket(const om_bucket *b, void *user)
{
    buckets *k = user;
    if (k->n < 64)
        k->b[k->n++] = *b;
    return 0;
}

static int count_hour(const om_hour *h, void *user)
{
    (*(size_t *)user)++;
    assert_true(h->hour % OM_HOUR_MS == 0);
    assert_true(h->first_t >= h->hour && h->last_t < h->hour + OM_HOUR_MS);
    return 0;
}

static void test_buckets_agree(void **state)
{
    om_store *st = open_store(OM_STORE_CREATE);
    int64_t start = (T0 / OM_HOUR_MS) * OM_HOUR_MS;
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 0; i < 6 * 12; i++) /* 12 hours every 10 minutes */
        put(st, "main", i + 1, start + i * 600000LL, i * 1.5, (i % 7) * 0.5);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    st = open_store(OM_STORE_READONLY);
    size_t hours = 0;
    assert_int_equal(om_store_hours(st, "sim-office", "main", OM_Q_POWER_KW, start,
                                    start + 12 * OM_HOUR_MS, count_hour, &hours), 0);
    assert_int_equal(hours, 12);
    /* Four-hour buckets from the aggregates, then from the readings (a
     * start 1 ms before the hour is not a whole hour: the readings are
     * grouped by SQL, and each bucket holds the same readings). */
    buckets a = {0}, r = {0};
    assert_int_equal(om_store_buckets(st, "sim-office", "main", OM_Q_POWER_KW, start,
                                      start + 12 * OM_HOUR_MS, 4 * OM_HOUR_MS, keep_bucket, &a),
                     0);
    assert_int_equal(om_store_buckets(st, "sim-office", "main", OM_Q_POWER_KW, start - 1,
                                      start + 12 * OM_HOUR_MS, 4 * OM_HOUR_MS, keep_bucket, &r),
                     0);
    assert_int_equal(a.n, 3);
    assert_int_equal(r.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(a.b[i].t, start + (int64_t)i * 4 * OM_HOUR_MS);
        assert_int_equal(a.b[i].n, 24);
        assert_int_equal(r.b[i].n, 24);
        assert_int_equal(r.b[i].t, start - 1 + (int64_t)i * 4 * OM_HOUR_MS);
        om_test_assert_near(a.b[i].mean, r.b[i].mean);
        om_test_assert_exact(a.b[i].max, r.b[i].max);
        assert_int_equal(a.b[i].last_t, r.b[i].last_t);
    }
    om_store_close(st);
}

static void test_backfill_on_open(void **state)
{
    om_store *st = open_store(OM_STORE_CREATE);
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 0; i < 40; i++)
        put(st, i % 2 ? "main" : "hvac", i + 1, T0 + i * 900000LL, i, i * 0.25);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    /* As if written before the aggregates existed. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE meter_hours; DROP TABLE meter_counts; "
                                      "DROP TABLE hours_meta", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = open_store(OM_STORE_READONLY);
    assert_false(om_store_has_hours(st));
    om_store_close(st);
    st = open_store(0); /* a writer fills them */
    assert_true(om_store_has_hours(st));
    om_store_close(st);
    assert_hours_match_readings();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resends_conflicts_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buckets_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfill_on_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

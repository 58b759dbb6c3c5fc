/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rollupdb.c - the rollup tables: a database written by version 1
 * (no readings digest) is migrated forward in place, its months kept and
 * recognised as needing a new computation; a month stored now keeps the
 * digest of its readings and reads it back; approvals are added, never
 * replaced, and the latest is the one returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/store/approval.h"
#include "officemeter/store/rollupdb.h"
#include "testutil.h"

/* The rollup tables as version 1 created them. */
static const char v1_schema[] =
    "CREATE TABLE rollup_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE rollup_months(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    "  provisional INTEGER NOT NULL, computed_at INTEGER NOT NULL, fingerprint TEXT NOT NULL,"
    "  PRIMARY KEY(site, year, month)) WITHOUT ROWID;"
    "CREATE TABLE rollup_meters(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, meter TEXT NOT NULL, quantity TEXT NOT NULL,"
    "  utility TEXT NOT NULL, role TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    "  consumption REAL NOT NULL, estimated REAL NOT NULL, expected_ms INTEGER NOT NULL,"
    "  known_ms INTEGER NOT NULL, actual_ms INTEGER NOT NULL, readings INTEGER NOT NULL,"
    "  rate_min REAL, rate_max REAL, night_avg REAL, night_min REAL, nights INTEGER NOT NULL,"
    "  events INTEGER NOT NULL, start_known INTEGER NOT NULL, end_known INTEGER NOT NULL,"
    "  provisional INTEGER NOT NULL, computed_at INTEGER NOT NULL,"
    "  PRIMARY KEY(site, year, month, meter, quantity)) WITHOUT ROWID;"
    "CREATE TABLE rollup_events(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, meter TEXT NOT NULL, quantity TEXT NOT NULL, kind TEXT NOT NULL,"
    "  t INTEGER NOT NULL, t_end INTEGER NOT NULL, before REAL, after REAL,"
    "  counted REAL NOT NULL);"
    "INSERT INTO rollup_meta VALUES ('schema', 1);"
    "INSERT INTO rollup_months VALUES ('s1', 2024, 3, 0, 1, 0, 5, 'abc');"
    "INSERT INTO rollup_meters VALUES ('s1', 2024, 3, 'm1', 'energy_import_kwh', 'electricity',"
    "  'main', 0, 1, 123.5, 0, 10, 10, 10, 4, NULL, NULL, NULL, NULL, 0, 0, 1, 1, 0, 5);";

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/om-rollupdb-%ld.db", (long)getpid());
    unlink(path);
    char err[256];
    om_store *st = om_store_open(path, OM_STORE_CREATE, err, sizeof err);
    assert_non_null(st);
    om_store_close(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[96];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

static void test_migrates_version_1(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[512];
    om_store *st = om_store_open(path, 0, err, sizeof err);
    assert_non_null(st);
    om_rollupdb *rdb = om_rollupdb_open(st, err, sizeof err);
    if (!rdb)
        fail_msg("%s", err);
    om_meter_month *rows = NULL;
    size_t n = 0;
    assert_int_equal(om_rollupdb_load_year(rdb, "s1", 2024, &rows, &n, NULL, NULL), 0);
    assert_int_equal(n, 1);
    om_test_assert_exact(rows[0].consumption, 123.5);
    assert_string_equal(rows[0].readings_sha256, ""); /* not known: recomputed when checked */
    free(rows);
    /* A month stored now keeps its digest. */
    om_meter_month m = {0};
    snprintf(m.site, sizeof m.site, "s1");
    snprintf(m.meter, sizeof m.meter, "m1");
    m.year = 2024;
    m.month = 4;
    m.consumption = 7;
    m.rate_min = m.rate_max = m.night_avg = m.night_min = NAN;
    memset(m.readings_sha256, 'a', 64);
    m.readings_sha256[64] = '\0';
    om_site site = {.site = (char *)"s1", .timezone = (char *)"UTC"};
    assert_int_equal(om_rollupdb_save(rdb, &site, 2024, 4, false, 9, 42, &m, 1, NULL, 0), 0);
    rows = NULL;
    n = 0;
    assert_int_equal(om_rollupdb_load_year(rdb, "s1", 2024, &rows, &n, NULL, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[1].readings_sha256, m.readings_sha256);
    free(rows);
    om_rollupdb_close(rdb);
    om_store_close(st);
    /* The version is 2 now, and a second open finds nothing to do. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT value FROM rollup_meta WHERE key = 'schema'", -1, &s, NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), OM_ROLLUPDB_SCHEMA);
    sqlite3_finalize(s);
    sqlite3_close(db);
    st = om_store_open(path, 0, err, sizeof err);
    rdb = om_rollupdb_open(st, err, sizeof err);
    assert_non_null(rdb);
    om_rollupdb_close(rdb);
    om_store_close(st);
}

static void test_approvals(void **state)
{
    (void)state;
    char err[512];
    om_store *st = om_store_open(path, 0, err, sizeof err);
    assert_non_null(st);
    om_approval a;
    assert_int_equal(om_approval_latest(st, 2024, &a, err, sizeof err), 0); /* none yet */
    om_approval first = {2024, 1000, (char *)"A", "", (char *)"{}", (char *)"{}", (char *)""};
    memset(first.sha256, '1', 64);
    assert_int_equal(om_approval_add(st, &first, err, sizeof err), 0);
    om_approval second = {2024, 2000, (char *)"B", "", (char *)"{\"x\":1}", (char *)"{}",
                          (char *)"corrected readings"};
    memset(second.sha256, '2', 64);
    assert_int_equal(om_approval_add(st, &second, err, sizeof err), 0);
    assert_int_equal(om_approval_latest(st, 2024, &a, err, sizeof err), 1);
    assert_string_equal(a.approved_by, "B");
    assert_string_equal(a.reason, "corrected readings");
    assert_string_equal(a.report_json, "{\"x\":1}");
    assert_int_equal(a.approved_at, 2000);
    assert_int_equal(strspn(a.sha256, "2"), 64);
    om_approval_free(&a);
    assert_int_equal(om_approval_latest(st, 2023, &a, err, sizeof err), 0);
    om_store_close(st);
    /* Read-only: approvals are read, never written. */
    st = om_store_open(path, OM_STORE_READONLY, err, sizeof err);
    assert_int_equal(om_approval_latest(st, 2024, &a, err, sizeof err), 1);
    om_approval_free(&a);
    assert_int_equal(om_approval_add(st, &first, err, sizeof err), -1);
    om_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrates_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approvals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

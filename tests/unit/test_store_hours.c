/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_hours.c - the store's hourly aggregates (store/hours.h): equal
 * to a recomputation from the readings after out-of-order polls, resends,
 * conflicts and a rolled-back group, and after keys repeated within a new
 * group and a resend the writer could not foresee; filled from the readings when a
 * database without them is opened by a writer; downsampled buckets from
 * the aggregates and from the readings agree; reading counts.
 *
 * One suite, two backends, as test_store: `test_store_hours` runs it on a
 * SQLite file, `test_store_hours postgresql` on a PostgreSQL cluster of its
 * own (ctest: postgresql.test_store_hours). The aggregates are checked
 * against the readings through the public interface only, so the same
 * check holds for both.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
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

static bool pg;                 /* the backend under test is PostgreSQL */
static char dir[64], path[128]; /* SQLite: the file */
static char target[600];        /* what om_store_open is given: path or URI */

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/om-test-hours.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/agg.db", dir);
    snprintf(target, sizeof target, "%s", path);
    if (pg)
        om_test_pg_fresh("hours", target, sizeof target);
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
    om_store *st = om_store_open(target, flags, err, sizeof err);
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

/* One series as stored: its readings, and its hours as the store keeps
 * them. */
#define MAX_POINTS 512

typedef struct {
    int64_t t[MAX_POINTS];
    double v[MAX_POINTS];
    size_t n;
} points;

static int keep_reading(int64_t t, double v, void *user)
{
    points *p = user;
    assert_true(p->n < MAX_POINTS);
    p->t[p->n] = t;
    p->v[p->n++] = v;
    return 0;
}

typedef struct {
    om_hour h[MAX_POINTS];
    size_t n;
} hour_list;

static int keep_hour(const om_hour *h, void *user)
{
    hour_list *k = user;
    assert_true(k->n < MAX_POINTS);
    k->h[k->n++] = *h;
    return 0;
}

/* The hours recomputed from the readings (in time order) against the
 * aggregates: equal, hour for hour (sums within rounding: the writer adds
 * a group's readings in the order they came). Returns the readings. */
static uint64_t assert_series_matches(om_store *st, const char *meter, om_quantity q)
{
    points p = {0};
    hour_list h = {0};
    int64_t from = 0, to = T0 + 1000 * OM_HOUR_MS;
    assert_int_equal(om_store_readings(st, "sim-office", meter, q, from, to, keep_reading, &p), 0);
    assert_int_equal(om_store_hours(st, "sim-office", meter, q, from, to, keep_hour, &h), 0);
    size_t k = 0;
    for (size_t i = 0; i < p.n;) {
        int64_t hour = p.t[i] / OM_HOUR_MS;
        om_hour want = {hour * OM_HOUR_MS, 0, 0, p.v[i], p.v[i], p.t[i], p.v[i], 0, 0};
        for (; i < p.n && p.t[i] / OM_HOUR_MS == hour; i++) {
            want.n++;
            want.sum += p.v[i];
            want.min = p.v[i] < want.min ? p.v[i] : want.min;
            want.max = p.v[i] > want.max ? p.v[i] : want.max;
            want.last_t = p.t[i];
            want.last_v = p.v[i];
        }
        if (k >= h.n)
            fail_msg("%s: hour %lld has readings and no aggregate", meter, (long long)hour);
        const om_hour *got = &h.h[k++];
        assert_int_equal(got->hour, want.hour);
        assert_int_equal(got->n, want.n);
        om_test_assert_near(got->sum, want.sum);
        om_test_assert_exact(got->min, want.min);
        om_test_assert_exact(got->max, want.max);
        assert_int_equal(got->first_t, want.first_t);
        om_test_assert_exact(got->first_v, want.first_v);
        assert_int_equal(got->last_t, want.last_t);
        om_test_assert_exact(got->last_v, want.last_v);
    }
    if (k != h.n)
        fail_msg("%s: %zu aggregate hours without readings", meter, h.n - k);
    return p.n;
}

/* Every series of the tests' two meters, and the kept counts. */
static void assert_hours_match_readings(void)
{
    om_store *st = open_store(OM_STORE_READONLY);
    assert_true(om_store_has_hours(st));
    const char *meters[] = {"hvac", "main"};
    const om_quantity qs[] = {OM_Q_ENERGY_IMPORT_KWH, OM_Q_POWER_KW};
    om_store_reading_count *rows;
    size_t n;
    assert_int_equal(om_store_reading_counts(st, &rows, &n), 0);
    uint64_t total = 0;
    for (size_t m = 0; m < 2; m++)
        for (size_t q = 0; q < 2; q++) {
            uint64_t stored = assert_series_matches(st, meters[m], qs[q]);
            total += stored;
            uint64_t counted = 0;
            for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].meter, meters[m]) == 0 && rows[i].quantity == qs[q])
                    counted = rows[i].readings;
            assert_int_equal(counted, stored);
        }
    free(rows);
    om_store_quick_totals quick;
    assert_int_equal(om_store_totals_quick(st, &quick), 0);
    assert_int_equal(quick.readings, total);
    om_store_close(st);
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

/* Two writers commit at once the polls of one meter, interleaved within
 * the same hours, each group also carrying a poll the other sends too:
 * every hour adds up once, whoever committed first. */
typedef struct {
    int parity;
    int failures;
} writer_job;

static void *writer_main(void *arg)
{
    writer_job *job = arg;
    char err[512];
    om_store *st = om_store_open(target, 0, err, sizeof err);
    if (!st) {
        fprintf(stderr, "writer %d: %s\n", job->parity, err);
        job->failures++;
        return NULL;
    }
    for (int64_t seq = 1; seq <= 240; seq += 8) {
        if (om_store_begin(st) < 0) {
            job->failures++;
            break;
        }
        for (int64_t k = seq + job->parity; k < seq + 8; k += 2) {
            om_poll p;
            memset(&p, 0, sizeof p);
            p.seq = k;
            p.meter = (char *)"main";
            p.t_ms = T0 + k * 60000;
            p.nvalues = 1;
            p.values[0] = (om_poll_value){.quantity = OM_Q_ENERGY_IMPORT_KWH, .value = k * 0.5};
            if (om_store_put_poll(st, &origin, &p, NULL) < 0)
                job->failures++;
        }
        /* No cmocka assertion off the test's thread: failures are counted. */
        om_poll shared;
        memset(&shared, 0, sizeof shared);
        shared.seq = 1000 + seq;
        shared.meter = (char *)"hvac";
        shared.t_ms = T0 + seq * 60000;
        shared.nvalues = 2;
        shared.values[0] = (om_poll_value){.quantity = OM_Q_ENERGY_IMPORT_KWH, .value = seq * 0.25};
        shared.values[1] = (om_poll_value){.quantity = OM_Q_POWER_KW, .value = 1.0};
        if (om_store_put_poll(st, &origin, &shared, NULL) < 0) /* sent by both */
            job->failures++;
        if (om_store_commit(st) < 0) {
            fprintf(stderr, "writer %d: %s\n", job->parity, om_store_errmsg(st));
            job->failures++;
            om_store_rollback(st);
        }
    }
    om_store_close(st);
    return NULL;
}

static void test_two_writers_one_hour(void **state)
{
    om_store_close(open_store(OM_STORE_CREATE));
    writer_job a = {.parity = 0}, b = {.parity = 1};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, writer_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, writer_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(b.failures, 0);
    assert_hours_match_readings();
    om_store *st = open_store(OM_STORE_READONLY);
    om_store_reading_count *rows;
    size_t n;
    assert_int_equal(om_store_reading_counts(st, &rows, &n), 0);
    assert_int_equal(n, 3); /* hvac: two quantities; main: one */
    assert_string_equal(rows[2].meter, "main");
    assert_int_equal(rows[2].readings, 240);
    assert_int_equal(rows[0].readings, 30);
    free(rows);
    om_store_close(st);
}

/* A database whose readings were stored before the aggregates existed. */
static void drop_hours(void)
{
    if (pg) {
        om_test_pg_exec(target, "DROP TABLE meter_hours; DROP TABLE meter_counts; "
                                "UPDATE officemeter_meta SET value = 1 WHERE key = 'schema'");
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE meter_hours; DROP TABLE meter_counts; "
                                      "DROP TABLE hours_meta", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static om_store_counts group_counts(om_store *st)
{
    om_store_counts c = {0};
    om_store_group_counts(st, &c);
    return c;
}

/* A group of new readings that repeats keys within itself (the first offer
 * is stored, a repeat of its value is a duplicate, another value a
 * conflict), then, from a store opened afresh (which cannot know it is a
 * resend), the same polls again among new ones: the counts, and hours equal
 * to the readings. On PostgreSQL the first group is written by the direct
 * COPY and the second falls back to the careful insert when the COPY meets
 * a stored reading (store_pg_readings.c); nothing of the failed COPY may
 * stay, in the readings or in the hours. */
static void test_repeats_and_unforeseen_resend(void **state)
{
    om_store *st = open_store(OM_STORE_CREATE);
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 11; i >= 0; i--)
        put(st, i % 3 ? "main" : "hvac", i + 1, T0 + i * 900000LL, 500 + i, i * 0.5);
    put(st, "main", 20, T0 + 1 * 900000LL, 501, 0.5);  /* the same values: duplicates */
    put(st, "main", 21, T0 + 2 * 900000LL, 777, 1.0);  /* energy another value: a conflict */
    put(st, "main", 22, T0 + 2 * 900000LL, 777, 1.0);  /* the same conflict again */
    assert_int_equal(om_store_commit(st), 0);
    om_store_counts c = group_counts(st);
    assert_int_equal(c.stored, 24);
    assert_int_equal(c.conflicts, 2);
    assert_int_equal(c.duplicates, 4);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.conflicts, 1); /* one key and value, offered twice */
    om_store_close(st);
    assert_hours_match_readings();

    st = open_store(0);
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 12; i < 20; i++) /* new, before and after the resend in key order */
        put(st, i % 2 ? "main" : "hvac", i + 1, T0 + i * 900000LL - 7 * OM_HOUR_MS, i, 1);
    for (int i = 0; i < 12; i++)
        put(st, i % 3 ? "main" : "hvac", i + 1, T0 + i * 900000LL, 500 + i, i * 0.5);
    assert_int_equal(om_store_commit(st), 0);
    c = group_counts(st);
    assert_int_equal(c.stored, 16);
    assert_int_equal(c.duplicates, 24);
    assert_int_equal(c.conflicts, 0);
    om_store_close(st);
    assert_hours_match_readings();
}

static void test_backfill_on_open(void **state)
{
    om_store *st = open_store(OM_STORE_CREATE);
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 0; i < 40; i++)
        put(st, i % 2 ? "main" : "hvac", i + 1, T0 + i * 900000LL, i, i * 0.25);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    drop_hours();
    char err[512];
    st = om_store_open(target, OM_STORE_READONLY, err, sizeof err);
    if (pg) {
        /* A reader does not migrate: the schema is older than the program. */
        assert_null(st);
        assert_non_null(strstr(err, "older than this program"));
    } else {
        assert_non_null(st);
        assert_false(om_store_has_hours(st));
        om_store_close(st);
    }
    st = open_store(0); /* a writer fills them */
    assert_true(om_store_has_hours(st));
    om_store_close(st);
    assert_hours_match_readings();
}

int main(int argc, char **argv)
{
    pg = argc > 1 && strcmp(argv[1], "postgresql") == 0;
    if (pg) {
        char uri[600];
        if (om_test_pg_start(uri, sizeof uri) == 1) {
            printf("PostgreSQL is not installed: skipped (scripts/setup installs it)\n");
            return 77; /* ctest: skipped */
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resends_conflicts_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buckets_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers_one_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfill_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeats_and_unforeseen_resend, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

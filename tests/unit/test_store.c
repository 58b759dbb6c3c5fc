/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store.c - the aggregator's database (store.h), one suite for both
 * backends: `test_store` runs it on a SQLite file, `test_store postgresql`
 * on a PostgreSQL cluster of its own (ctest: unit.test_store and
 * postgresql.test_store). Schema versions, idempotent readings, conflicts
 * kept and recorded, the cumulative acknowledgement across gaps, resends,
 * skipped ranges and restarts, rejects capped with counts kept,
 * quarantine, and readers that see one snapshot while the writer goes on;
 * for PostgreSQL also its schema versions, monthly partitions, and two
 * writers committing parts of one gateway's stream at once.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "officemeter/store/store.h"
#include "officemeter/store/writer_state.h"
#include "testutil.h"

#define EPOCH "5f0c9a1e2b7d4c88"
#define EPOCH2 "00000000000000aa"

static bool pg;               /* the backend under test is PostgreSQL */
static char dir[64], path[128]; /* SQLite: the file */
static char target[600];      /* what om_store_open is given: path or URI */

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/om-test-store.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/agg.db", dir);
    snprintf(target, sizeof target, "%s", path);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An empty database of the backend under test. */
static void fresh(void)
{
    if (pg) {
        om_test_pg_fresh("store", target, sizeof target);
        return;
    }
    unlink(path);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
}

static om_store *open_new(void)
{
    char err[512];
    fresh();
    om_store *st = om_store_open(target, OM_STORE_CREATE, err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    return st;
}

static om_store *reopen(om_store *st, unsigned flags)
{
    om_store_close(st);
    char err[512];
    om_store *again = om_store_open(target, flags, err, sizeof err);
    if (!again)
        fail_msg("%s", err);
    return again;
}

static om_poll poll_of(int64_t seq, const char *meter, int64_t t, double kwh, double kw)
{
    om_poll p;
    memset(&p, 0, sizeof p);
    p.seq = seq;
    p.meter = (char *)meter;
    p.t_ms = t;
    p.nvalues = 2;
    p.values[0] = (om_poll_value){.quantity = OM_Q_ENERGY_IMPORT_KWH, .value = kwh};
    p.values[1] = (om_poll_value){.quantity = OM_Q_POWER_KW, .value = kw};
    return p;
}

static const om_store_origin origin = {"sim-office", "gw1", EPOCH, 1718000000000};

static int64_t upto(om_store *st, const char *epoch)
{
    int64_t u = -1;
    assert_int_equal(om_store_seq_upto(st, "sim-office", "gw1", epoch, &u), 0);
    return u;
}

static int sum_kwh(int64_t t, double v, void *user)
{
    (void)t;
    *(double *)user += v;
    return 0;
}

static void test_idempotent_readings_and_conflicts(void **state)
{
    om_store *st = open_new();
    om_store_counts c = {0};
    assert_int_equal(om_store_begin(st), 0);
    om_poll p = poll_of(1, "main", 1718000000000, 100.5, 3.0);
    assert_int_equal(om_store_put_poll(st, &origin, &p, &c), 0);
    assert_int_equal(om_store_put_poll(st, &origin, &p, &c), 0); /* same group: duplicate */
    assert_int_equal(om_store_commit(st), 0);
    /* What a backend cannot tell at once it tells after the commit. */
    om_store_group_counts(st, &c);
    assert_int_equal(c.stored, 2);
    assert_int_equal(c.duplicates, 2);
    st = reopen(st, 0);
    /* A resend after a restart: still one row per key. */
    memset(&c, 0, sizeof c);
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_put_poll(st, &origin, &p, &c), 0);
    /* Another value for a stored key: recorded, never overwritten. */
    om_poll other = poll_of(1, "main", 1718000000000, 999.0, 3.0);
    assert_int_equal(om_store_put_poll(st, &origin, &other, &c), 0);
    assert_int_equal(om_store_put_poll(st, &origin, &other, &c), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_group_counts(st, &c);
    assert_int_equal(c.stored, 0);
    assert_int_equal(c.duplicates, 4);
    assert_int_equal(c.conflicts, 2);
    double sum = 0;
    assert_int_equal(om_store_readings(st, "sim-office", "main", OM_Q_ENERGY_IMPORT_KWH, 0,
                                       INT64_MAX, sum_kwh, &sum), 0);
    assert_true(sum == 100.5);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 2);
    assert_int_equal(tot.conflicts, 1); /* one row, seen twice */
    assert_int_equal(tot.meters, 1);
    om_store_meter_row *m;
    size_t n;
    assert_int_equal(om_store_meters(st, &m, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].meter, "main");
    assert_int_equal(m[0].last_t, 1718000000000);
    free(m);
    om_store_close(st);
}

static void test_cumulative_ack(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(upto(st, EPOCH), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 2, 2), 0);
    assert_int_equal(upto(st, EPOCH), 0); /* seq 1 missing holds it back */
    assert_int_equal(om_store_seq_done(st, &origin, 5, 5), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 1, 1), 0);
    assert_int_equal(upto(st, EPOCH), 2);
    assert_int_equal(om_store_seq_done(st, &origin, 4, 4), 0);
    assert_int_equal(upto(st, EPOCH), 2);
    assert_int_equal(om_store_commit(st), 0);
    /* The ranges above upto survive a restart. */
    st = reopen(st, 0);
    assert_int_equal(upto(st, EPOCH), 2);
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 3, 3), 0);
    assert_int_equal(upto(st, EPOCH), 5);
    assert_int_equal(om_store_seq_done(st, &origin, 2, 2), 0); /* a resend */
    assert_int_equal(upto(st, EPOCH), 5);
    /* The gateway's outbox thinned 6..99: the ack passes them. */
    assert_int_equal(om_store_seq_done(st, &origin, 100, 100), 0);
    assert_int_equal(upto(st, EPOCH), 5);
    assert_int_equal(om_store_seq_skipped(st, &origin, 6, 99), 0);
    assert_int_equal(upto(st, EPOCH), 100);
    /* A new epoch (wiped outbox) starts from nothing. */
    om_store_origin o2 = origin;
    o2.epoch = EPOCH2;
    assert_int_equal(om_store_seq_done(st, &o2, 1, 1), 0);
    assert_int_equal(upto(st, EPOCH2), 1);
    assert_int_equal(om_store_commit(st), 0);
    st = reopen(st, 0);
    assert_int_equal(upto(st, EPOCH), 100);
    assert_int_equal(upto(st, EPOCH2), 1);
    om_store_close(st);
}

/* Out-of-order seqs: many ranges that merge in every order. */
static void test_ack_ranges_merge(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    static const int64_t order[] = {10, 3, 7, 8, 2, 9, 5, 6, 4, 12, 11, 1};
    static const int64_t expect[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(om_store_seq_done(st, &origin, order[i], order[i]), 0);
        assert_int_equal(upto(st, EPOCH), expect[i]);
    }
    assert_int_equal(om_store_seq_done(st, &origin, 20, 30), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 15, 25), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 13, 14), 0);
    assert_int_equal(upto(st, EPOCH), 30);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
}

/* A failed group leaves nothing behind, cached seq state included. */
static void test_rollback(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 1, 1), 0);
    om_poll p = poll_of(1, "main", 1718000000000, 1.0, 1.0);
    assert_int_equal(om_store_put_poll(st, &origin, &p, NULL), 0);
    assert_int_equal(upto(st, EPOCH), 1);
    om_store_rollback(st);
    assert_int_equal(upto(st, EPOCH), 0);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 0);
    /* And the next group works, with new row ids. */
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_put_poll(st, &origin, &p, NULL), 0);
    assert_int_equal(om_store_commit(st), 0);
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 2);
    om_store_close(st);
}

static void test_rejects_capped_counts_kept(void **state)
{
    om_store *st = open_new();
    om_store_set_rejects_keep(st, 3);
    assert_int_equal(om_store_begin(st), 0);
    char big[OM_STORE_RAW_CAP + 100];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 5; i++) {
        om_store_reject r = {.received_ms = 1718000000000 + i, .topic = "officemeter/v1/s/g/readings",
                             .site = "s", .gateway = "g", .code = i < 4 ? "bad_json" : "too_large",
                             .reason = "why", .raw = big, .rawlen = sizeof big};
        assert_int_equal(om_store_reject_add(st, &r), 0);
    }
    assert_int_equal(om_store_commit(st), 0);
    om_store_reject_row *rows;
    size_t n;
    assert_int_equal(om_store_rejects(st, 0, 0, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].code, "too_large"); /* newest first */
    assert_int_equal(rows[0].rawlen, OM_STORE_RAW_CAP);
    assert_int_equal(rows[0].raw_bytes, sizeof big);
    om_store_rejects_free(rows, n);
    om_store_reject_count *counts;
    assert_int_equal(om_store_reject_counts(st, &counts, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(counts[0].code, "bad_json");
    assert_int_equal(counts[0].count, 4);
    free(counts);
    om_store_close(st);
}

static void test_quarantine_once(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(om_store_quarantine(st, &origin, 7, "new", 1718000000000, "unknown_meter",
                                             "not declared", "{\"seq\":7}"), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_quarantine_row *q;
    size_t n;
    assert_int_equal(om_store_quarantined(st, &q, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(q[0].seq, 7);
    assert_string_equal(q[0].poll_json, "{\"seq\":7}");
    int64_t id = q[0].id;
    om_store_quarantined_free(q, n);
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_quarantine_remove(st, id), 0);
    assert_int_equal(om_store_commit(st), 0);
    assert_int_equal(om_store_quarantined(st, &q, &n), 0);
    assert_int_equal(n, 0);
    om_store_quarantined_free(q, n);
    om_store_close(st);
}

static void test_gateways(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_gateway_state(st, "s", "g", "online", 1000), 0);
    assert_int_equal(om_store_gateway_seen(st, "s", "g", 5000), 0);
    assert_int_equal(om_store_gateway_health(st, "s", "g", 6000, 42, 3, "{}"), 0);
    assert_int_equal(om_store_gateway_state(st, "s", "g", "offline", 7000), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_gateway_row *g;
    size_t n;
    assert_int_equal(om_store_gateways(st, &g, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].state, "offline");
    assert_int_equal(g[0].last_seen, 5000);
    assert_int_equal(g[0].outbox_depth, 42);
    assert_int_equal(g[0].errors, 3);
    free(g);
    om_store_close(st);
}

static void set_user_version(int v)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int user_version_and_tables(const char *table, int *has_table)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                                        -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    *has_table = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void test_schema_versions(void **state)
{
    if (pg)
        skip();
    om_store *st = open_new();
    om_store_close(st);
    /* A version 1 database (before lost_seqs) is brought forward on open. */
    sqlite3 *old;
    assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
    assert_int_equal(sqlite3_exec(old, "DROP TABLE lost_seqs; PRAGMA user_version = 1", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(old);
    int has;
    assert_int_equal(user_version_and_tables("lost_seqs", &has), 1);
    assert_int_equal(has, 0);
    char err0[512];
    st = om_store_open(path, 0, err0, sizeof err0);
    assert_non_null(st);
    om_store_close(st);
    assert_int_equal(user_version_and_tables("lost_seqs", &has), 2);
    assert_int_equal(has, 1);

    set_user_version(OM_STORE_SCHEMA_VERSION + 2);
    char err[512];
    assert_null(om_store_open(path, 0, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "database schema version %d is newer than this program (%d)",
             OM_STORE_SCHEMA_VERSION + 2, OM_STORE_SCHEMA_VERSION);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, path));
    assert_null(om_store_open(path, OM_STORE_READONLY, err, sizeof err));
    /* A database of someone else. */
    unlink(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE x(a)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(om_store_open(path, 0, err, sizeof err));
    assert_non_null(strstr(err, "not an officemeter database"));
    /* Readers do not create, and say so. */
    unlink(path);
    assert_null(om_store_open(path, OM_STORE_READONLY, err, sizeof err));
    assert_non_null(strstr(err, "no such database"));
}

/* Regression (hostile inputs, defect 2): the sequence state only ever holds
 * seqs of the contract (1 .. 2^53); anything else is refused with a reason,
 * whether it comes as a poll's seq, a skipped range or from the file. */
static void test_seq_range(void **state)
{
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_seq_done(st, &origin, INT64_MAX, INT64_MAX), -1);
    assert_non_null(strstr(om_store_errmsg(st), "out of range"));
    assert_int_equal(om_store_seq_done(st, &origin, INT64_MAX, INT64_MAX), -1);
    assert_int_equal(om_store_seq_skipped(st, &origin, 1, INT64_MAX - 1), -1);
    assert_int_equal(om_store_seq_done(st, &origin, 0, 3), -1);
    assert_int_equal(om_store_seq_done(st, &origin, 5, 4), -1);
    /* The top of the range works like any seq. */
    assert_int_equal(om_store_seq_skipped(st, &origin, 1, OM_SEQ_MAX - 1), 0);
    assert_int_equal(om_store_seq_done(st, &origin, OM_SEQ_MAX, OM_SEQ_MAX), 0);
    assert_true(upto(st, EPOCH) == OM_SEQ_MAX);
    assert_int_equal(om_store_seq_done(st, &origin, OM_SEQ_MAX, OM_SEQ_MAX), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);

    /* A state that no program of ours wrote is refused, not used. */
    static const char *const forged[] = {
        "UPDATE epochs SET upto = 9223372036854775807",
        "UPDATE epochs SET upto = -1",
        "UPDATE epochs SET upto = 5; INSERT INTO epoch_ranges VALUES "
        "((SELECT id FROM gateways), '" EPOCH "', 10, 9223372036854775807)",
        "UPDATE epochs SET upto = 5; INSERT INTO epoch_ranges VALUES "
        "((SELECT id FROM gateways), '" EPOCH "', 3, 8)",
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        if (pg) {
            om_test_pg_exec(target, "DELETE FROM epoch_ranges");
            om_test_pg_exec(target, forged[i]);
        } else {
            sqlite3 *db;
            assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
            assert_int_equal(sqlite3_exec(db, "DELETE FROM epoch_ranges", NULL, NULL, NULL),
                             SQLITE_OK);
            assert_int_equal(sqlite3_exec(db, forged[i], NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(db);
        }
        char err[512];
        st = om_store_open(target, 0, err, sizeof err);
        assert_non_null(st);
        int64_t u = 0;
        assert_int_equal(om_store_seq_upto(st, "sim-office", "gw1", EPOCH, &u), -1);
        if (!strstr(om_store_errmsg(st), "sequence state"))
            fail_msg("case %zu: %s", i, om_store_errmsg(st));
        om_store_close(st);
    }
}

static void read_file(const char *file, unsigned char **data, size_t *len)
{
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(*len + 1);
    assert_non_null(*data);
    assert_int_equal(fread(*data, 1, *len, f), *len);
    fclose(f);
}

/* Regression (hostile inputs, defect 11): another application's SQLite file
 * is refused before anything in it changes: not switched to WAL, not
 * migrated, byte for byte the same. */
static void test_foreign_file_untouched(void **state)
{
    if (pg)
        skip(); /* files; PostgreSQL's own case is in test_pg_schema_versions */
    static const char *const foreign[] = {
        "CREATE TABLE x(a); INSERT INTO x VALUES (1)",
        "CREATE TABLE x(a); PRAGMA user_version = 1",
        "CREATE TABLE readings(a); PRAGMA user_version = 2",
    };
    static const unsigned flags[] = {0, OM_STORE_CREATE, OM_STORE_READONLY};
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
            unlink(path);
            unlink(wal);
            sqlite3 *db;
            assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
            assert_int_equal(sqlite3_exec(db, foreign[i], NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(db);
            unsigned char *before, *after;
            size_t nbefore, nafter;
            read_file(path, &before, &nbefore);
            char err[512];
            assert_null(om_store_open(path, flags[f], err, sizeof err));
            if (!strstr(err, "not an officemeter database"))
                fail_msg("case %zu/%zu: %s", i, f, err);
            read_file(path, &after, &nafter);
            if (nbefore != nafter || memcmp(before, after, nbefore) != 0)
                fail_msg("case %zu/%zu: the file was changed (journal mode byte %d -> %d)", i,
                         f, before[18], after[18]);
            assert_int_equal(access(wal, F_OK), -1);
            free(before);
            free(after);
        }
    }
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median time of `n` commits, each marking one more seq of `o` (every
 * other seq, so each makes a range of its own). */
static double median_commit_ms(om_store *st, const om_store_origin *o, int64_t first, int n)
{
    double t[32];
    for (int i = 0; i < n; i++) {
        assert_int_equal(om_store_begin(st), 0);
        assert_int_equal(om_store_seq_done(st, o, first + 2 * i, first + 2 * i), 0);
        double t0 = mono_ms();
        assert_int_equal(om_store_commit(st), 0);
        t[i] = mono_ms() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

/* Runs SQL on the database under test through a connection of its own. */
static void db_exec(const char *sql)
{
    if (pg) {
        om_test_pg_exec(target, sql);
        return;
    }
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* From now on every row inserted, updated or deleted in epoch_ranges is
 * counted in range_writes (triggers of the test's, on either backend). */
static void count_range_writes(void)
{
    if (pg)
        /* Per statement, counting its transition table: a commit that
         * rewrote 60 000 rows fails in a second rather than a minute. */
        db_exec("CREATE TABLE range_writes(n bigint NOT NULL); INSERT INTO range_writes "
                "VALUES (0); CREATE FUNCTION range_written() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN UPDATE range_writes SET n = n + (SELECT count(*) FROM rows); "
                "RETURN NULL; END $$; "
                "CREATE TRIGGER range_inserted AFTER INSERT ON epoch_ranges REFERENCING NEW "
                "TABLE AS rows FOR EACH STATEMENT EXECUTE FUNCTION range_written(); "
                "CREATE TRIGGER range_updated AFTER UPDATE ON epoch_ranges REFERENCING NEW "
                "TABLE AS rows FOR EACH STATEMENT EXECUTE FUNCTION range_written(); "
                "CREATE TRIGGER range_deleted AFTER DELETE ON epoch_ranges REFERENCING OLD "
                "TABLE AS rows FOR EACH STATEMENT EXECUTE FUNCTION range_written()");
    else
        db_exec("CREATE TABLE range_writes(n INTEGER NOT NULL); INSERT INTO range_writes "
                "VALUES (0); CREATE TRIGGER range_inserted AFTER INSERT ON epoch_ranges BEGIN "
                "UPDATE range_writes SET n = n + 1; END; CREATE TRIGGER range_updated AFTER "
                "UPDATE ON epoch_ranges BEGIN UPDATE range_writes SET n = n + 1; END; "
                "CREATE TRIGGER range_deleted AFTER DELETE ON epoch_ranges BEGIN UPDATE "
                "range_writes SET n = n + 1; END");
}

/* Fails unless `n` range rows were written since count_range_writes, then
 * stops counting. */
static void expect_range_writes(int64_t n)
{
    char sql[800];
    if (pg) {
        snprintf(sql, sizeof sql,
                 "DO $$ DECLARE w bigint := (SELECT n FROM range_writes); BEGIN IF w <> %lld "
                 "THEN RAISE EXCEPTION 'commits wrote %% range rows, expected %lld', w; END IF; "
                 "END $$; DROP TRIGGER range_inserted ON epoch_ranges; DROP TRIGGER "
                 "range_updated ON epoch_ranges; DROP TRIGGER range_deleted ON epoch_ranges; "
                 "DROP TABLE range_writes",
                 (long long)n, (long long)n);
        db_exec(sql);
        return;
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT n FROM range_writes", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t written = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (written != n)
        fail_msg("commits wrote %lld range rows, expected %lld", (long long)written,
                 (long long)n);
    db_exec("DROP TRIGGER range_inserted; DROP TRIGGER range_updated; DROP TRIGGER "
            "range_deleted; DROP TABLE range_writes");
}

/* Regression (hostile inputs, defect 12): with many sparse seq ranges in
 * one epoch a commit writes what changed, not every range again; and an
 * epoch holds at most OM_STORE_SEQ_RANGES_MAX ranges. */
static void test_sparse_ranges_bounded(void **state)
{
    om_store *st = open_new();
    const int64_t nranges = 60000;
    assert_int_equal(om_store_begin(st), 0);
    for (int64_t i = 1; i <= nranges; i++)
        assert_int_equal(om_store_seq_done(st, &origin, 2 * i, 2 * i), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_origin other = origin;
    other.epoch = EPOCH2;
    /* Each of the 15 commits adds one range of its own: 15 rows written
     * in all, whatever the 60 000 already there (a commit that rewrote its
     * epoch's ranges would write 15 x 60 000). */
    count_range_writes();
    double sparse = median_commit_ms(st, &origin, 2 * nranges + 2, 15);
    expect_range_writes(15);
    double plain = median_commit_ms(st, &other, 2, 15);
    /* The time bound is SQLite's: PostgreSQL still reads the epoch's
     * ranges under the lock at each commit (store_pg_write.c). */
    if (!pg && sparse > 3 * plain + 20)
        fail_msg("a commit costs %.1f ms with %lld ranges in the epoch, %.1f ms without",
                 sparse, (long long)nranges, plain);
    /* Seq 1 arrives: the state is what was committed, through a restart. */
    st = reopen(st, 0);
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_store_seq_done(st, &origin, 1, 1), 0);
    assert_int_equal(upto(st, EPOCH), 2);
    assert_int_equal(om_store_seq_done(st, &origin, 3, 3), 0);
    assert_int_equal(upto(st, EPOCH), 4);
    assert_int_equal(om_store_commit(st), 0);
    st = reopen(st, 0);
    assert_int_equal(upto(st, EPOCH), 4);

    /* Beyond the cap the highest ranges are forgotten (their polls are
     * stored; the gateway resends them once the acknowledgement reaches
     * them, and they are counted then). */
    om_store_origin third = origin;
    third.epoch = "00000000000000bb";
    assert_int_equal(om_store_begin(st), 0);
    for (int64_t i = 1; i <= OM_STORE_SEQ_RANGES_MAX + 100; i++)
        assert_int_equal(om_store_seq_done(st, &third, 2 * i, 2 * i), 0);
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    if (pg) {
        char check[400];
        snprintf(check, sizeof check,
                 "DO $$ BEGIN IF (SELECT count(*) FROM epoch_ranges WHERE epoch = "
                 "'00000000000000bb') <> %d OR (SELECT max(last) FROM epoch_ranges WHERE "
                 "epoch = '00000000000000bb') <> %d THEN RAISE EXCEPTION 'ranges not capped'; "
                 "END IF; END $$",
                 OM_STORE_SEQ_RANGES_MAX, 2 * OM_STORE_SEQ_RANGES_MAX);
        om_test_pg_exec(target, check);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), max(last) FROM epoch_ranges "
                                        "WHERE epoch = '00000000000000bb'", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), OM_STORE_SEQ_RANGES_MAX);
    assert_int_equal(sqlite3_column_int64(q, 1), 2 * OM_STORE_SEQ_RANGES_MAX);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* The writer's state file: written in place at one size, read back; a
 * file of something else is refused, a missing one is "none". */
static void test_writer_state(void **state)
{
    if (pg)
        skip(); /* a file beside a SQLite database (agg_hold.c keeps none for PostgreSQL) */
    char err[256];
    om_writer_state got;
    unlink(path);
    char file[160];
    snprintf(file, sizeof file, "%s-state", path);
    unlink(file);
    assert_int_equal(om_writer_state_read(path, &got, err, sizeof err), 0);
    om_writer_state_file *f = om_writer_state_open(path, err, sizeof err);
    assert_non_null(f);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_size, OM_WRITER_STATE_BYTES);
    om_writer_state ws = {.pid = 4242, .phase = OM_WRITER_NOT_STORING, .since_ms = 1718000000000,
                          .updated_ms = 1718000005000, .held = 12, .not_held = 3};
    snprintf(ws.reason, sizeof ws.reason, "agg.db: commit: database or disk is full\nsecond");
    assert_int_equal(om_writer_state_write(f, &ws), 0);
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_size, OM_WRITER_STATE_BYTES); /* written in place */
    assert_int_equal(om_writer_state_read(path, &got, err, sizeof err), 1);
    assert_int_equal(got.pid, 4242);
    assert_int_equal(got.phase, OM_WRITER_NOT_STORING);
    assert_int_equal(got.since_ms, 1718000000000);
    assert_int_equal(got.held, 12);
    assert_int_equal(got.not_held, 3);
    assert_string_equal(got.reason, "agg.db: commit: database or disk is full second");
    ws.phase = OM_WRITER_STORING;
    ws.reason[0] = '\0';
    assert_int_equal(om_writer_state_write(f, &ws), 0);
    assert_int_equal(om_writer_state_read(path, &got, err, sizeof err), 1);
    assert_int_equal(got.phase, OM_WRITER_STORING);
    assert_string_equal(got.reason, "");
    om_writer_state_close(f);
    FILE *other = fopen(file, "w");
    fputs("pid 1\nstate storing\n", other);
    fclose(other);
    assert_int_equal(om_writer_state_read(path, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a state file"));
    unlink(file);
}

/* A reader's snapshot stays the same while the writer commits; the writer
 * is never blocked by it (WAL). */
static void test_reader_snapshot(void **state)
{
    om_store *w = open_new();
    om_poll p = poll_of(1, "main", 1718000000000, 1.0, 1.0);
    assert_int_equal(om_store_begin(w), 0);
    assert_int_equal(om_store_put_poll(w, &origin, &p, NULL), 0);
    assert_int_equal(om_store_commit(w), 0);
    char err[512];
    om_store *r = om_store_open(target, OM_STORE_READONLY, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_int_equal(om_store_read_begin(r), 0);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(r, &tot), 0);
    assert_int_equal(tot.readings, 2);
    p = poll_of(2, "main", 1718000060000, 2.0, 1.0);
    assert_int_equal(om_store_begin(w), 0);
    assert_int_equal(om_store_put_poll(w, &origin, &p, NULL), 0);
    assert_int_equal(om_store_commit(w), 0);
    assert_int_equal(om_store_totals_get(r, &tot), 0);
    assert_int_equal(tot.readings, 2);
    om_store_read_end(r);
    assert_int_equal(om_store_totals_get(r, &tot), 0);
    assert_int_equal(tot.readings, 4);
    assert_int_equal(om_store_begin(r), -1); /* read-only */
    om_store_close(r);
    om_store_close(w);
}

/* ---- PostgreSQL only ---------------------------------------------------------- */

static void test_pg_schema_versions(void **state)
{
    if (!pg)
        skip();
    char err[512];
    /* An empty database: readers and the CLI do not create. */
    fresh();
    assert_null(om_store_open(target, 0, err, sizeof err));
    assert_non_null(strstr(err, "no officemeter tables"));
    assert_null(om_store_open(target, OM_STORE_READONLY, err, sizeof err));
    /* Created, then written by a newer program. */
    om_store *st = open_new();
    om_store_close(st);
    om_test_pg_exec(target, "UPDATE officemeter_meta SET value = 99 WHERE key = 'schema'");
    assert_null(om_store_open(target, 0, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "database schema version 99 is newer than this program (%d)",
             OM_STORE_PG_SCHEMA_VERSION);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "postgresql://"));
    /* Someone else's database. */
    fresh();
    om_test_pg_exec(target, "CREATE TABLE x(a int)");
    assert_null(om_store_open(target, OM_STORE_CREATE, err, sizeof err));
    assert_non_null(strstr(err, "not an officemeter database"));
    /* A password in the URI is refused before anything is sent. */
    assert_null(om_store_open("postgresql://me:secret@localhost/x", OM_STORE_CREATE, err,
                              sizeof err));
    assert_non_null(strstr(err, "password file"));
    assert_null(strstr(err, "secret") ? err : NULL);
    assert_null(om_store_open("postgresql:///x?host=/tmp&password=secret", OM_STORE_CREATE, err,
                              sizeof err));
    assert_non_null(strstr(err, "password file"));
}

/* Readings of three months go to three partitions of readings. */
static void test_pg_partitions(void **state)
{
    if (!pg)
        skip();
    om_store *st = open_new();
    assert_int_equal(om_store_begin(st), 0);
    int64_t t[] = {1704067200000 /* 2024-01-01 */, 1706745599999 /* 2024-01-31 end */,
                   1706745600000 /* 2024-02-01 */, 1719792000000 /* 2024-07-01 */};
    for (size_t i = 0; i < 4; i++) {
        om_poll p = poll_of((int64_t)i + 1, "main", t[i], 1.0 + (double)i, 2.0);
        assert_int_equal(om_store_put_poll(st, &origin, &p, NULL), 0);
    }
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
    om_test_pg_exec(target, "DO $$ BEGIN IF (SELECT count(*) FROM pg_inherits WHERE inhparent = "
                            "'readings'::regclass) <> 3 OR (SELECT count(*) FROM readings_202401) "
                            "<> 4 OR (SELECT count(*) FROM readings_202407) <> 2 THEN RAISE "
                            "EXCEPTION 'wrong partitions'; END IF; END $$");
}

/* Two writers (two aggregators of a shared group) commit interleaved parts
 * of one gateway's stream, at the same time: every commit's upto is what
 * the database holds then, and nothing is lost between them. */
typedef struct {
    int parity;
    int64_t polls;
    int64_t max_upto;
    int failures;
} writer_job;

static void *writer_main(void *arg)
{
    writer_job *job = arg;
    char err[512];
    om_store *st = om_store_open(target, 0, err, sizeof err);
    if (!st) {
        job->failures++;
        return NULL;
    }
    for (int64_t seq = 1 + job->parity; seq <= job->polls; seq += 10) {
        if (om_store_begin(st) < 0) {
            job->failures++;
            break;
        }
        /* Five seqs of one parity per group, and one reading shared with
         * the other writer (the same key: a resend that went both ways). */
        for (int64_t k = seq; k < seq + 10 && k <= job->polls; k += 2) {
            om_poll p = poll_of(k, "main", 1718000000000 + k * 1000, (double)k, 1.0);
            if (om_store_put_poll(st, &origin, &p, NULL) < 0 ||
                om_store_seq_done(st, &origin, k, k) < 0)
                job->failures++;
        }
        om_poll shared = poll_of(seq, "hvac", 1718000000000 + (seq / 10) * 1000, 5.0, 1.0);
        if (om_store_put_poll(st, &origin, &shared, NULL) < 0 || om_store_commit(st) < 0) {
            fprintf(stderr, "writer %d: %s\n", job->parity, om_store_errmsg(st));
            job->failures++;
            om_store_rollback(st);
            continue;
        }
        int64_t u = 0;
        if (om_store_seq_upto(st, "sim-office", "gw1", EPOCH, &u) < 0)
            job->failures++;
        if (u > job->max_upto)
            job->max_upto = u;
    }
    om_store_close(st);
    return NULL;
}

static void test_pg_two_writers(void **state)
{
    if (!pg)
        skip();
    om_store_close(open_new());
    writer_job a = {.parity = 0, .polls = 2000}, b = {.parity = 1, .polls = 2000};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, writer_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, writer_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(b.failures, 0);
    /* Whichever committed last saw both parts. */
    assert_int_equal(a.max_upto > b.max_upto ? a.max_upto : b.max_upto, 2000);
    char err[512];
    om_store *st = om_store_open(target, 0, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(upto(st, EPOCH), 2000);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 2000 * 2 + 200 * 2);
    assert_int_equal(tot.conflicts, 0);
    om_store_close(st);
}

int main(int argc, char **argv)
{
    pg = argc > 1 && strcmp(argv[1], "postgresql") == 0;
    if (pg) {
        char uri[600];
        int rc = om_test_pg_start(uri, sizeof uri);
        if (rc == 1) {
            printf("PostgreSQL is not installed: skipped (scripts/setup installs it)\n");
            return 77; /* ctest: skipped */
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_readings_and_conflicts),
        cmocka_unit_test(test_cumulative_ack),
        cmocka_unit_test(test_ack_ranges_merge),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_rejects_capped_counts_kept),
        cmocka_unit_test(test_quarantine_once),
        cmocka_unit_test(test_gateways),
        cmocka_unit_test(test_schema_versions),
        cmocka_unit_test(test_reader_snapshot),
        cmocka_unit_test(test_seq_range),
        cmocka_unit_test(test_foreign_file_untouched),
        cmocka_unit_test(test_sparse_ranges_bounded),
        cmocka_unit_test(test_writer_state),
        cmocka_unit_test(test_pg_schema_versions),
        cmocka_unit_test(test_pg_partitions),
        cmocka_unit_test(test_pg_two_writers),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    om_test_pg_stop();
    return rc;
}

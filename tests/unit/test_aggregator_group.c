/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aggregator_group.c - group commit without a broker: messages judged,
 * written in one transaction, acknowledged only after the commit; the same
 * message twice is stored once and acknowledged again; a bad poll is
 * recorded and does not hold the acknowledgement back; a group that cannot
 * be written is not acknowledged at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agg_group.h"
#include "officemeter/config/site.h"

#define NOW INT64_C(1718000000000)
#define EPOCH "5f0c9a1e2b7d4c88"
#define TOPIC "officemeter/v1/sim-office/gw1/readings"

static om_site site;
static char dir[64], path[128];

typedef struct {
    int calls;
    char epoch[32];
    int64_t upto;
} acks;

static void on_ack(void *ctx, const char *s, const char *gw, const char *epoch, int64_t upto)
{
    acks *a = ctx;
    assert_string_equal(s, "sim-office");
    assert_string_equal(gw, "gw1");
    a->calls++;
    snprintf(a->epoch, sizeof a->epoch, "%s", epoch);
    a->upto = upto;
}

static int setup(void **state)
{
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", NULL, &site, &diag);
    om_diag_free(&diag);
    snprintf(dir, sizeof dir, "/tmp/om-test-group.XXXXXX");
    if (rc < 0 || !mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/agg.db", dir);
    return 0;
}

static int teardown(void **state)
{
    om_site_free(&site);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static om_ingest_rules rules(void)
{
    om_ingest_rules r = {NOW, 300000, 65536, &site, 1};
    return r;
}

static const char *readings(int64_t from_seq, int n, const char *extra_poll)
{
    static char buf[16384];
    size_t len = (size_t)snprintf(buf, sizeof buf,
                                  "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\","
                                  "\"epoch\":\"" EPOCH "\",\"polls\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "%s{\"seq\":%lld,\"meter\":\"main\",\"t\":%lld,\"values\":"
                                "{\"energy_import_kwh\":%d.5,\"power_kw\":1.0}}",
                                i ? "," : "", (long long)(from_seq + i),
                                (long long)(NOW - 600000 + (from_seq + i) * 1000), 100 + (int)(from_seq + i));
    if (extra_poll)
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",%s", extra_poll);
    snprintf(buf + len, sizeof buf - len, "]}");
    return buf;
}

static om_store *fresh_store(void)
{
    unlink(path);
    char err[512];
    om_store *st = om_store_open(path, OM_STORE_CREATE, err, sizeof err);
    assert_non_null(st);
    return st;
}

static void add(agg_group *g, const char *topic, const char *text)
{
    om_ingest_rules r = rules();
    assert_int_equal(agg_group_add(g, &r, topic, text, strlen(text), NOW), 0);
}

static void test_commit_then_ack(void **state)
{
    om_store *st = fresh_store();
    agg_group *g = agg_group_new();
    acks a = {0};
    agg_counts c = {0};
    add(g, TOPIC, readings(1, 3, NULL));
    add(g, TOPIC, readings(4, 2, NULL));
    assert_int_equal(agg_group_messages(g), 2);
    assert_int_equal(agg_group_readings(g), 10);
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.calls, 1); /* one ack per (gateway, epoch) per group */
    assert_string_equal(a.epoch, EPOCH);
    assert_int_equal(a.upto, 5);
    assert_int_equal(c.readings, 10);
    assert_int_equal(c.polls, 5);
    assert_int_equal(c.groups, 1);
    assert_int_equal(agg_group_messages(g), 0);

    /* The same message again (a resend): stored once, acknowledged again. */
    a.calls = 0;
    add(g, TOPIC, readings(1, 3, NULL));
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.upto, 5);
    assert_int_equal(c.readings, 10);
    assert_int_equal(c.duplicates, 6);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 10);
    agg_group_free(g);
    om_store_close(st);
}

static void test_bad_poll_does_not_hold_ack(void **state)
{
    om_store *st = fresh_store();
    agg_group *g = agg_group_new();
    acks a = {0};
    agg_counts c = {0};
    add(g, TOPIC, readings(1, 2, "{\"seq\":3,\"meter\":\"main\",\"t\":\"soon\",\"values\":{\"power_kw\":1.0}}"));
    add(g, TOPIC, readings(4, 1, "{\"seq\":5,\"meter\":\"newcomer\",\"t\":1717999999000,\"values\":{\"power_kw\":1.0}}"));
    add(g, TOPIC, "{not json");
    add(g, "officemeter/v1/sim-office/gw1/status", "{\"v\":1,\"state\":\"online\"}");
    add(g, "officemeter/v1/sim-office/gw1/health", "{\"v\":1,\"outbox\":{\"depth\":7}}");
    add(g, "officemeter/v1/Bad/gw1/readings", "{}");
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.upto, 5);
    assert_int_equal(c.polls, 3);
    assert_int_equal(c.polls_rejected, 1);
    assert_int_equal(c.quarantined, 1);
    assert_int_equal(c.messages_rejected, 2);
    om_store_reject_row *rows;
    size_t n;
    assert_int_equal(om_store_rejects(st, 0, 0, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].code, "bad_topic");
    assert_string_equal(rows[1].code, "bad_json");
    assert_string_equal(rows[1].raw, "{not json");
    assert_string_equal(rows[2].code, "bad_type");
    assert_int_equal(rows[2].seq, 3);
    assert_string_equal(rows[2].meter, "main");
    om_store_rejects_free(rows, n);
    om_store_gateway_row *gw;
    assert_int_equal(om_store_gateways(st, &gw, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(gw[0].state, "online");
    assert_int_equal(gw[0].outbox_depth, 7);
    assert_int_equal(gw[0].last_seen, NOW);
    free(gw);
    agg_group_free(g);
    om_store_close(st);
}

static void add_at(agg_group *g, const char *text, int64_t received)
{
    om_ingest_rules r = rules();
    assert_int_equal(agg_group_add(g, &r, TOPIC, text, strlen(text), received), 0);
}

static int64_t commit_upto(agg_group *g, om_store *st)
{
    acks a = {0};
    agg_counts c = {0};
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.calls, 1);
    return a.upto;
}

/* After a restore from a backup the database lacks seqs the gateway has
 * already deleted: the gap would hold the acknowledgement back forever. A
 * gap that newer polls keep passing for gap_close_ms is given up as lost
 * and recorded; a resend that fills part of it starts the wait again; with
 * no setting it is never given up. */
static void test_stale_gap_given_up(void **state)
{
    om_store *st = fresh_store();
    agg_group *g = agg_group_new();
    add_at(g, readings(1, 2, NULL), NOW);
    assert_int_equal(commit_upto(g, st), 2);
    add_at(g, readings(6, 1, NULL), NOW + 1000); /* 3..5 missing: the wait starts */
    assert_int_equal(commit_upto(g, st), 2);
    add_at(g, readings(7, 1, NULL), NOW + 3600000);
    assert_int_equal(commit_upto(g, st), 2); /* not enabled: never given up */

    agg_group_set_gap_close(g, 60000);
    add_at(g, readings(8, 1, NULL), NOW + 3601000); /* the wait starts now */
    assert_int_equal(commit_upto(g, st), 2);
    add_at(g, readings(3, 1, NULL), NOW + 3630000); /* a resend fills 3: the wait restarts */
    assert_int_equal(commit_upto(g, st), 3);
    add_at(g, readings(9, 1, NULL), NOW + 3680000); /* 50 s: not yet */
    assert_int_equal(commit_upto(g, st), 3);
    add_at(g, readings(10, 1, NULL), NOW + 3695000); /* 65 s: 4..5 given up */
    assert_int_equal(commit_upto(g, st), 10);
    agg_group_free(g);
    om_store_close(st);

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT first, last, waited_s, recorded FROM lost_seqs",
                                        -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), 4);
    assert_int_equal(sqlite3_column_int64(q, 1), 5);
    assert_int_equal(sqlite3_column_int64(q, 2), 65);
    assert_true(sqlite3_column_int64(q, 3) == NOW + 3695000);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A store that refuses to write: nothing is acknowledged, the group is
 * emptied, and the loss is counted (the gateway will send it again). */
static void test_failed_commit_sends_no_ack(void **state)
{
    om_store *st = fresh_store();
    om_store_close(st);
    char err[512];
    st = om_store_open(path, OM_STORE_READONLY, err, sizeof err);
    assert_non_null(st);
    agg_group *g = agg_group_new();
    acks a = {0};
    agg_counts c = {0};
    add(g, TOPIC, readings(1, 2, NULL));
    add(g, TOPIC, readings(3, 2, NULL));
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), -1);
    assert_int_equal(a.calls, 0);
    assert_int_equal(c.dropped, 2);
    assert_int_equal(c.readings, 0);
    assert_int_equal(agg_group_messages(g), 0);
    agg_group_free(g);
    om_store_close(st);
}

/* Regression (hostile inputs, defect 7): when the disk is full (here: the
 * process may not grow any file, RLIMIT_FSIZE) a commit fails as a whole,
 * nothing is acknowledged, nothing is dropped or retried message by
 * message, and the group is kept; once space returns the same group
 * commits and is acknowledged, every reading once. */
static void test_disk_full_keeps_the_group(void **state)
{
    om_store *st = fresh_store();
    agg_group *g = agg_group_new();
    acks a = {0};
    agg_counts c = {0};
    add(g, TOPIC, readings(1, 3, NULL));
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.upto, 3);

    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    struct rlimit before, full;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &before), 0);
    full = before;
    full.rlim_cur = (rlim_t)sb.st_size;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);

    a.calls = 0;
    add(g, TOPIC, readings(4, 2, NULL));
    add(g, TOPIC, readings(6, 2, NULL));
    int rc = agg_group_commit(g, st, on_ack, &a, &c);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &before), 0);
    assert_int_equal(rc, AGG_COMMIT_UNAVAILABLE);
    assert_true(om_store_unavailable(st));
    assert_int_equal(a.calls, 0);
    assert_int_equal(c.dropped, 0);
    assert_int_equal(agg_group_messages(g), 2);
    assert_int_equal(agg_group_readings(g), 8);

    /* Space is back: the held group commits, once. */
    assert_int_equal(agg_group_commit(g, st, on_ack, &a, &c), 0);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.upto, 7);
    assert_int_equal(agg_group_messages(g), 0);
    om_store_totals tot;
    assert_int_equal(om_store_totals_get(st, &tot), 0);
    assert_int_equal(tot.readings, 14);
    agg_group_free(g);
    om_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_then_ack),
        cmocka_unit_test(test_bad_poll_does_not_hold_ack),
        cmocka_unit_test(test_failed_commit_sends_no_ack),
        cmocka_unit_test(test_stale_gap_given_up),
        cmocka_unit_test(test_disk_full_keeps_the_group),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alert_store.c - alerts in a real SQLite database: changes numbered
 * and logged with the body to deliver (one idempotency key per change),
 * acknowledgements and silences with who and when, delivery targets that
 * start after the newest change, the tables' own version; and whole
 * evaluation cycles (officemeter alerts evaluate) on stored readings: an
 * office without water gets no water alert, a base-load step fires once
 * and is recorded with its evidence, a meter that never reported goes
 * stale, a silenced alert is recorded but not for delivery.
 *
 * One suite, two backends, as test_store: `test_alert_store` on a SQLite
 * file, `test_alert_store postgresql` on a PostgreSQL cluster of its own
 * (ctest: postgresql.test_alert_store).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "alerts_cli.h"
#include "officemeter/alerts/record.h"
#include "officemeter/store/alertdb.h"
#include "officemeter/store/store.h"
#include "testutil.h"

#define HOUR 3600000LL
#define DAY 86400000LL
#define STEP (15 * 60000LL)

static bool pg;          /* the backend under test is PostgreSQL */
static char dir[64];
static char path[128];   /* SQLite: the file */
static char target[600]; /* what om_store_open is given: path or URI */

/* An empty database of the backend under test. */
static void fresh(void)
{
    if (pg)
        om_test_pg_fresh("alerts", target, sizeof target);
    else
        unlink(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/om-alertdb.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/agg.db", dir);
    snprintf(target, sizeof target, "%s", path);
    fresh();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static om_store *open_store(void)
{
    char err[512];
    om_store *st = om_store_open(target, OM_STORE_CREATE, err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    return st;
}

static om_alertdb *open_db(om_store *st)
{
    char err[512];
    om_alertdb *db = om_alertdb_open(st, NULL, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    return db;
}

static int64_t fire(om_alertdb *db, om_store *st, const char *subject, int64_t t, bool notify)
{
    om_alert_record a = {0};
    snprintf(a.site, sizeof a.site, "office");
    a.rule = OM_ALERT_WATER_NIGHT_FLOW;
    snprintf(a.subject, sizeof a.subject, "%s", subject);
    a.severity = OM_SEV_CRITICAL;
    a.fired_at = t;
    a.detected_at = t + 1000;
    snprintf(a.summary, sizeof a.summary, "%s: water ran all night", subject);
    a.evidence = "{\"nights\":[0.2,0.2,0.2]}";
    int64_t id;
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_alertdb_insert(db, &a, &id), 0);
    assert_int_equal(om_alertdb_change(db, id, OM_CHANGE_FIRED, t, t + 1000, NULL, NULL, notify,
                                       t, NULL), 0);
    assert_int_equal(om_store_commit(st), 0);
    return id;
}

static void test_changes_and_keys(void **state)
{
    (void)state;
    om_store *st = open_store();
    om_alertdb *db = open_db(st);
    const char *inst = om_alertdb_instance(db);
    assert_int_equal(strlen(inst), 16);
    int64_t t = om_test_iso("2024-01-13T05:00:00Z");
    /* A target that appears now is not sent the past: it starts after the
     * newest change, here none. */
    om_alertdb_target mqtt;
    assert_int_equal(om_alertdb_target_get(db, "mqtt", t, &mqtt), 0);
    assert_int_equal(mqtt.upto, 0);
    int64_t id = fire(db, st, "water", t, true);
    /* Only one open alert per rule and subject. */
    om_alert_record dup = {0};
    snprintf(dup.site, sizeof dup.site, "office");
    dup.rule = OM_ALERT_WATER_NIGHT_FLOW;
    snprintf(dup.subject, sizeof dup.subject, "water");
    snprintf(dup.summary, sizeof dup.summary, "again");
    int64_t other;
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_alertdb_insert(db, &dup, &other), -1);
    om_store_rollback(st);
    /* Acknowledged with who, when and why; then resolved. */
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_alertdb_set_ack(db, id, "alice", t + 5000, "plumber called"), 0);
    assert_int_equal(om_alertdb_change(db, id, OM_CHANGE_ACKNOWLEDGED, t + 5000, t + 5000, "alice",
                                       "plumber called", true, t, NULL), 0);
    assert_int_equal(om_alertdb_resolve(db, id, t + 3 * DAY, t + 3 * DAY + 1000, "dry again",
                                        "{\"nights\":[0,0]}"), 0);
    unsigned seq;
    assert_int_equal(om_alertdb_change(db, id, OM_CHANGE_RESOLVED, t + 3 * DAY, t + 3 * DAY + 1000,
                                       NULL, NULL, true, t, &seq), 0);
    assert_int_equal(om_store_commit(st), 0);
    assert_int_equal(seq, 3);
    om_alertdb_change_row *h;
    size_t n;
    assert_int_equal(om_alertdb_history(db, id, &h, &n), 0);
    assert_int_equal(n, 3);
    const om_alert_change_name want[] = {OM_CHANGE_FIRED, OM_CHANGE_ACKNOWLEDGED,
                                          OM_CHANGE_RESOLVED};
    for (size_t i = 0; i < n; i++) {
        char key[80];
        snprintf(key, sizeof key, "\"key\":\"%s-%lld-%zu\"", inst, (long long)id, i + 1);
        assert_int_equal(h[i].change, want[i]);
        assert_int_equal(h[i].seq, i + 1);
        assert_non_null(strstr(h[i].body, key));
        assert_non_null(strstr(h[i].body, "\"schema\":\"" OM_ALERT_EVENT_SCHEMA "\""));
    }
    assert_string_equal(h[1].who, "alice");
    assert_string_equal(h[1].note, "plumber called");
    assert_non_null(strstr(h[1].body, "\"by\":\"alice\""));
    /* Each change carries the evidence of its moment. */
    assert_non_null(strstr(h[0].evidence, "0.2"));
    assert_non_null(strstr(h[2].evidence, "[0,0]"));
    assert_non_null(strstr(h[2].body, "\"state\":\"resolved\""));
    om_alertdb_changes_free(h, n);
    /* The queue: changes after a target's mark, in order. */
    assert_int_equal(om_alertdb_changes_after(db, mqtt.upto, 0, &h, &n), 0);
    assert_int_equal(n, 3);
    assert_true(h[0].id < h[1].id && h[1].id < h[2].id);
    om_alertdb_changes_free(h, n);
    /* A target seen for the first time now starts after them. */
    om_alertdb_target late;
    assert_int_equal(om_alertdb_target_get(db, "webhook http://x", t, &late), 0);
    int64_t last;
    assert_int_equal(om_alertdb_last_change(db, &last), 0);
    assert_int_equal(late.upto, last);
    om_alert_record a;
    assert_int_equal(om_alertdb_get(db, id, t, &a), 1);
    assert_false(a.open);
    assert_int_equal(a.changes, 3);
    assert_string_equal(a.acked_by, "alice");
    om_alert_record_free(&a);
    assert_int_equal(om_alertdb_get(db, id + 100, t, &a), 0);
    om_alertdb_close(db);
    om_store_close(st);
}

static void test_silences(void **state)
{
    (void)state;
    om_store *st = open_store();
    om_alertdb *db = open_db(st);
    int64_t t = om_test_iso("2024-02-01T00:00:00Z");
    int64_t id = fire(db, st, "kitchen", t, true);
    om_alertdb_silence s = {0};
    snprintf(s.site, sizeof s.site, "office");
    snprintf(s.subject, sizeof s.subject, "kitchen");
    s.until = t + DAY;
    snprintf(s.who, sizeof s.who, "bob");
    snprintf(s.note, sizeof s.note, "works in the kitchen");
    s.created = t + 10;
    int64_t sid;
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_alertdb_silence_add(db, &s, t, &sid), 0);
    assert_int_equal(om_store_commit(st), 0);
    int64_t until;
    assert_int_equal(om_alertdb_silenced_until(db, "office", "kitchen",
                                               OM_ALERT_WATER_NIGHT_FLOW, t + 1, &until), 0);
    assert_int_equal(until, t + DAY);
    assert_int_equal(om_alertdb_silenced_until(db, "office", "water",
                                               OM_ALERT_WATER_NIGHT_FLOW, t + 1, &until), 0);
    assert_int_equal(until, 0);
    om_alert_record a;
    assert_int_equal(om_alertdb_get(db, id, t + 1, &a), 1);
    assert_int_equal(a.silenced_until, t + DAY);
    om_alert_record_free(&a);
    /* The silence runs out: the alert, still open, says so. */
    assert_int_equal(om_store_begin(st), 0);
    assert_int_equal(om_alertdb_silences_end(db, t + DAY - 1, t), 0);
    assert_int_equal(om_alertdb_silences_end(db, t + DAY, t + DAY), 0);
    assert_int_equal(om_alertdb_silences_end(db, t + DAY + 1, t + DAY), 0); /* once only */
    assert_int_equal(om_store_commit(st), 0);
    om_alertdb_change_row *h;
    size_t n;
    assert_int_equal(om_alertdb_history(db, id, &h, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(h[1].change, OM_CHANGE_SILENCED);
    assert_string_equal(h[1].who, "bob");
    assert_int_equal(h[1].recorded, t + 10);
    assert_int_equal(h[2].change, OM_CHANGE_UNSILENCED);
    om_alertdb_changes_free(h, n);
    om_alertdb_silence *rows;
    assert_int_equal(om_alertdb_silences(db, true, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_true(rows[0].ended);
    free(rows);
    om_alertdb_close(db);
    om_store_close(st);
}

static void test_schema_version(void **state)
{
    (void)state;
    om_store *st = open_store();
    om_alertdb *db = open_db(st);
    om_alertdb_close(db);
    om_store_close(st);
    const char *newer = "UPDATE alert_meta SET value = '2' WHERE key = 'schema'";
    if (pg) {
        om_test_pg_exec(target, newer);
    } else {
        sqlite3 *raw;
        assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_exec(raw, newer, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
    }
    st = open_store();
    char err[512];
    assert_null(om_alertdb_open(st, NULL, err, sizeof err));
    assert_non_null(strstr(err, "alert tables are version 2, this program needs 1; upgrade"));
    om_store_close(st);
    /* A reader of a database without the tables is told so. */
    fresh();
    st = open_store();
    om_store_close(st);
    char e2[512];
    st = om_store_open(target, OM_STORE_READONLY, e2, sizeof e2);
    assert_non_null(st);
    bool missing;
    assert_null(om_alertdb_open(st, &missing, err, sizeof err));
    assert_true(missing);
    om_store_close(st);
}

/* ---- whole cycles on stored readings ---------------------------------------------------- */

static om_meter cycle_meters[] = {
    {.id = "main", .gateway_id = "gw1", .utility = OM_UTILITY_ELECTRICITY, .role = OM_ROLE_MAIN,
     .active_from = OM_TIME_NONE, .active_until = OM_TIME_NONE},
    {.id = "it", .gateway_id = "gw1", .utility = OM_UTILITY_ELECTRICITY, .role = OM_ROLE_SUB,
     .active_from = OM_TIME_NONE, .active_until = OM_TIME_NONE},
};
static om_gateway cycle_gateways[] = {{.id = "gw1"}};
/* Like Singapore's office: no water meter. */
static om_site cycle_site = {.site = "dry", .timezone = "Asia/Singapore", .meters = cycle_meters,
                             .nmeters = 2, .gateways = cycle_gateways, .ngateways = 1};

static void put_main(om_store *st, int64_t from, int64_t to, double *v, int64_t *seq)
{
    om_store_origin o = {"dry", "gw1", "0123456789abcdef", from};
    assert_int_equal(om_store_begin(st), 0);
    for (int64_t t = from; t < to; t += STEP) {
        om_poll p = {.seq = ++*seq, .meter = "main", .t_ms = t, .nvalues = 1};
        p.values[0] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH, *v};
        assert_int_equal(om_store_put_poll(st, &o, &p, NULL), 0);
        /* 20 kW, and 30 kW from 2024-02-10 (local) on. */
        *v += (t >= om_test_iso("2024-02-10T00:00:00+08:00") ? 30.0 : 20.0) * 0.25;
    }
    assert_int_equal(om_store_commit(st), 0);
}

static void test_cycles(void **state)
{
    (void)state;
    alerts_env env;
    memset(&env, 0, sizeof env);
    env.cmd = "test";
    env.st = open_store();
    env.db = open_db(env.st);
    env.sites.sites = &cycle_site;
    env.sites.nsites = 1;
    env.policy = (om_policy){.gap_intervals = 4, .poll_interval_s = 900, .max_power_kw = 5000,
                             .max_flow_m3h = 100};
    om_alert_policy_builtin(&env.rules);
    double v = 1000;
    int64_t seq = 0, t = om_test_iso("2024-01-01T00:00:00+08:00");
    alerts_cycle_stats stats;
    /* Day by day for 50 days: the evaluator runs after each day arrives. */
    for (int d = 0; d < 50; d++) {
        put_main(env.st, t + d * DAY, t + (d + 1) * DAY, &v, &seq);
        assert_int_equal(alerts_evaluate(&env, t + (d + 1) * DAY, &stats), 0);
        if (d == 0) {
            /* A silence over everything of the site for the first day:
             * what fires then is recorded, not delivered. */
            om_alertdb_silence s = {.until = t + 3 * DAY};
            snprintf(s.site, sizeof s.site, "dry");
            snprintf(s.who, sizeof s.who, "test");
            s.created = t;
            assert_int_equal(om_store_begin(env.st), 0);
            assert_int_equal(om_alertdb_silence_add(env.db, &s, t + DAY, NULL), 0);
            assert_int_equal(om_store_commit(env.st), 0);
        }
    }
    om_alert_record *rows;
    size_t n;
    om_alertdb_filter f = {.site = "dry"};
    assert_int_equal(om_alertdb_list(env.db, &f, t + 50 * DAY, &rows, &n), 0);
    bool base = false, stale_it = false;
    for (size_t i = 0; i < n; i++) {
        /* No water meter, no water alert; the gateway never sent a word:
         * offline after its first ten minutes. */
        assert_true(rows[i].rule != OM_ALERT_WATER_NIGHT_FLOW &&
                    rows[i].rule != OM_ALERT_WATER_CONTINUOUS_FLOW);
        if (rows[i].rule == OM_ALERT_BASE_LOAD_RISE) {
            base = true;
            assert_string_equal(rows[i].subject, "main");
            assert_int_equal(rows[i].fired_at, om_test_iso("2024-02-12T05:00:00+08:00"));
            assert_non_null(strstr(rows[i].evidence, "\"baseline_kw\":20"));
        }
        /* "it" never reported, but its gateway is down: left to the gateway's alert. */
        stale_it |= rows[i].rule == OM_ALERT_METER_STALE && strcmp(rows[i].subject, "it") == 0;
    }
    assert_true(base);
    assert_false(stale_it);
    om_alert_records_free(rows, n);
    /* What fired while silenced is in the log but not for delivery. */
    om_alertdb_change_row *h;
    assert_int_equal(om_alertdb_changes_after(env.db, 0, 0, &h, &n), 0);
    assert_true(n >= 2);
    assert_int_equal(h[0].change, OM_CHANGE_FIRED);
    assert_false(h[0].notify);
    bool later_notified = false;
    for (size_t i = 1; i < n; i++)
        later_notified |= h[i].notify;
    assert_true(later_notified);
    om_alertdb_changes_free(h, n);
    om_alert_policy_free(&env.rules);
    om_alertdb_close(env.db);
    om_store_close(env.st);
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
        cmocka_unit_test_setup_teardown(test_changes_and_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycles, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

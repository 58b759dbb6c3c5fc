/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_outbox.c - the agent's durable outbox.
 *
 * Each test gets a fresh folder under /tmp (mkdtemp) holding outbox.db and
 * its -wal and -shm, removed afterwards. The tests drive the outbox through
 * its public interface only: sequence numbers and the epoch across reopen
 * and deletion, batches in seq order under poll and byte limits, resends
 * after the timeout and not before, acknowledgements, the quota policy with
 * exact counts computed by a small model of the policy written here, the
 * skipped ranges that let the acknowledgement pass thinned seqs, the schema
 * version check, and durability across a process that dies right after an
 * append.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "officemeter/outbox/outbox.h"
#include "officemeter/proto/payload.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* 2024-06-10 06:05:00 UTC: five minutes into a 15-minute bucket. */
#define T0 ((int64_t)1717999500000)
#define MIN_MS ((int64_t)60000)

typedef struct {
    char dir[64];
    char path[128];
    om_outbox *ob;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/om-outbox-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/outbox.db", f->dir);
    *state = f;
    return 0;
}

static void remove_files(const fixture *f)
{
    char side[160];
    unlink(f->path);
    snprintf(side, sizeof side, "%s-wal", f->path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", f->path);
    unlink(side);
}

static int teardown(void **state)
{
    fixture *f = *state;
    om_outbox_close(f->ob);
    remove_files(f);
    rmdir(f->dir);
    free(f);
    return 0;
}

static om_outbox *open_ob(fixture *f)
{
    char err[512] = "";
    om_outbox_close(f->ob);
    f->ob = om_outbox_open(f->path, err, sizeof err);
    if (f->ob == NULL)
        fail_msg("open %s: %s", f->path, err);
    return f->ob;
}

static void close_ob(fixture *f)
{
    om_outbox_close(f->ob);
    f->ob = NULL;
}

static int64_t add(om_outbox *ob, const char *meter, int64_t t, double energy, double power)
{
    om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, energy}, {OM_Q_POWER_KW, power}};
    int64_t seq = -1;
    if (om_outbox_append(ob, meter, t, v, ARRAY_LEN(v), &seq) < 0)
        fail_msg("append: %s", om_outbox_errmsg(ob));
    return seq;
}

static void next_batch(om_outbox *ob, int64_t now, size_t max_polls, size_t max_bytes, om_batch *b)
{
    if (om_outbox_next_batch(ob, now, max_polls, max_bytes, b) < 0)
        fail_msg("next_batch: %s", om_outbox_errmsg(ob));
}

static om_outbox_depth_info depth(om_outbox *ob)
{
    om_outbox_depth_info d;
    if (om_outbox_depth(ob, &d) < 0)
        fail_msg("depth: %s", om_outbox_errmsg(ob));
    return d;
}

static om_outbox_stats_info stats(om_outbox *ob)
{
    om_outbox_stats_info s;
    if (om_outbox_stats(ob, &s) < 0)
        fail_msg("stats: %s", om_outbox_errmsg(ob));
    return s;
}

static bool has_value(const om_poll *p, om_quantity q, double *out)
{
    for (size_t i = 0; i < p->nvalues; i++) {
        if (p->values[i].quantity == q) {
            if (out)
                *out = p->values[i].value;
            return true;
        }
    }
    return false;
}

static void assert_seqs(const om_batch *b, int64_t first, int64_t last)
{
    assert_int_equal(b->npolls, (size_t)(last - first + 1));
    for (size_t i = 0; i < b->npolls; i++)
        assert_int_equal(b->polls[i].seq, first + (int64_t)i);
}

/* ---- sequence numbers and epoch ---------------------------------------- */

static void test_seq_survives_reopen(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    assert_int_equal(add(ob, "m1", T0, 1.0, 2.0), 1);
    assert_int_equal(add(ob, "m2", T0, 1.0, 2.0), 2);
    assert_int_equal(add(ob, "m1", T0 + MIN_MS, 1.5, 2.0), 3);
    ob = open_ob(f);
    assert_int_equal(add(ob, "m1", T0 + 2 * MIN_MS, 2.0, 2.0), 4);

    om_poll_value v[] = {{OM_Q_WATER_M3, 10.5}};
    om_outbox_entry cycle[] = {{"w1", T0, v, 1}, {"w2", T0, v, 1}, {"w3", T0, v, 1}};
    int64_t first = 0;
    assert_int_equal(om_outbox_append_many(ob, cycle, ARRAY_LEN(cycle), &first), 0);
    assert_int_equal(first, 5);
    /* acknowledging everything does not reset the numbering */
    size_t deleted = 0;
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 7, &deleted), 0);
    assert_int_equal(deleted, 7);
    ob = open_ob(f);
    om_outbox_depth_info d = depth(ob);
    assert_int_equal(d.polls, 0);
    assert_int_equal(d.next_seq, 8);
    assert_int_equal(d.acked_upto, 7);
    assert_int_equal(add(ob, "m1", T0 + 3 * MIN_MS, 3.0, 2.0), 8);
    assert_int_equal(stats(ob).appended, 8);
}

static bool is_hex16(const char *s)
{
    if (strlen(s) != 16)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static void test_epoch_persists_and_renews(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    char first[OM_EPOCH_LEN + 1];
    snprintf(first, sizeof first, "%s", om_outbox_epoch(ob));
    assert_true(is_hex16(first));
    add(ob, "m1", T0, 1.0, 2.0);
    add(ob, "m1", T0 + MIN_MS, 1.0, 2.0);
    ob = open_ob(f);
    assert_string_equal(om_outbox_epoch(ob), first);

    /* The outbox is wiped: a new epoch starting at seq 1. */
    close_ob(f);
    remove_files(f);
    ob = open_ob(f);
    assert_true(is_hex16(om_outbox_epoch(ob)));
    assert_string_not_equal(om_outbox_epoch(ob), first);
    assert_int_equal(depth(ob).polls, 0);
    assert_int_equal(add(ob, "m1", T0 + 2 * MIN_MS, 1.0, 2.0), 1);
    /* acks of the old epoch no longer apply */
    size_t deleted = 9;
    assert_int_equal(om_outbox_ack(ob, first, 1, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(depth(ob).polls, 1);
}

/* ---- durability --------------------------------------------------------- */

/* A child appends and dies without closing; the poll must be there. */
static void test_append_survives_process_death(void **state)
{
    fixture *f = *state;
    open_ob(f);
    const char *epoch_before = NULL;
    char epoch[OM_EPOCH_LEN + 1];
    snprintf(epoch, sizeof epoch, "%s", om_outbox_epoch(f->ob));
    epoch_before = epoch;
    close_ob(f);

    for (int how = 0; how < 2; how++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[512];
            om_outbox *ob = om_outbox_open(f->path, err, sizeof err);
            om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, 123456789.123456789},
                                 {OM_Q_POWER_KW, 0.1}};
            if (ob == NULL || om_outbox_append(ob, "m1", T0 + how, v, 2, NULL) < 0)
                _exit(3);
            if (how == 0)
                _exit(0);
            kill(getpid(), SIGKILL);
            _exit(4);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (how == 0)
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        else
            assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }

    om_outbox *ob = open_ob(f);
    assert_string_equal(om_outbox_epoch(ob), epoch_before);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &b);
    assert_seqs(&b, 1, 2);
    double e = 0, p = 0;
    assert_true(has_value(&b.polls[1], OM_Q_ENERGY_IMPORT_KWH, &e));
    assert_true(has_value(&b.polls[1], OM_Q_POWER_KW, &p));
    assert_true(e == 123456789.123456789);
    assert_true(p == 0.1);
    assert_int_equal(b.polls[1].t_ms, T0 + 1);
    assert_int_equal(add(ob, "m1", T0 + 5, 1.0, 1.0), 3);
    om_batch_free(&b);
}

/* Deleting outbox.db but not outbox.db-wal (left by a process that died)
 * must not resurrect or corrupt anything: a new epoch at seq 1. */
static void test_orphan_wal_is_not_replayed(void **state)
{
    fixture *f = *state;
    char first[OM_EPOCH_LEN + 1];
    open_ob(f);
    snprintf(first, sizeof first, "%s", om_outbox_epoch(f->ob));
    close_ob(f);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        om_outbox *ob = om_outbox_open(f->path, err, sizeof err);
        om_poll_value v[] = {{OM_Q_WATER_M3, 1.0}};
        if (ob == NULL || om_outbox_append(ob, "w", T0, v, 1, NULL) < 0)
            _exit(3);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(access(wal, F_OK), 0); /* the child left its WAL */
    unlink(f->path);

    om_outbox *ob = open_ob(f);
    assert_string_not_equal(om_outbox_epoch(ob), first);
    assert_int_equal(depth(ob).polls, 0);
    assert_int_equal(add(ob, "m1", T0, 1.0, 1.0), 1);
}

/* ---- schema -------------------------------------------------------------- */

static void make_sqlite_file(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_schema_newer_is_refused(void **state)
{
    fixture *f = *state;
    make_sqlite_file(f->path, "PRAGMA user_version = 7");
    char err[512] = "", expected[512];
    assert_null(om_outbox_open(f->path, err, sizeof err));
    snprintf(expected, sizeof expected, "%s schema version 7 is newer than this program (%d)",
             f->path, OM_OUTBOX_SCHEMA_VERSION);
    assert_string_equal(err, expected);

    /* the newer program's file is left as it was */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT user_version FROM pragma_user_version),"
                                        " (SELECT count(*) FROM sqlite_schema),"
                                        " (SELECT journal_mode FROM pragma_journal_mode)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 7);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* What other tools see: a WAL-mode SQLite file of this schema version. */
static void test_file_is_wal_and_versioned(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    add(ob, "m1", T0, 1.0, 2.0);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT user_version FROM pragma_user_version),"
                                        " (SELECT journal_mode FROM pragma_journal_mode),"
                                        " (SELECT value FROM meta WHERE key = 'epoch'),"
                                        " (SELECT count(*) FROM polls)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), OM_OUTBOX_SCHEMA_VERSION);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "wal");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), om_outbox_epoch(ob));
    assert_int_equal(sqlite3_column_int(st, 3), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_foreign_files_are_refused(void **state)
{
    fixture *f = *state;
    char err[512] = "";
    make_sqlite_file(f->path, "CREATE TABLE readings(x)");
    assert_null(om_outbox_open(f->path, err, sizeof err));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "not an outbox"));
    remove_files(f);

    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("this is not a database, just some text that is long enough to have a header......."
          "................................................................................",
          fp);
    fclose(fp);
    assert_null(om_outbox_open(f->path, err, sizeof err));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "not a database"));
}

/* ---- appending ---------------------------------------------------------- */

static void test_invalid_polls_append_nothing(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    om_poll_value good[] = {{OM_Q_ENERGY_IMPORT_KWH, 1.0}};
    om_poll_value nan_v[] = {{OM_Q_POWER_KW, NAN}};
    om_poll_value twice[] = {{OM_Q_POWER_KW, 1.0}, {OM_Q_POWER_KW, 2.0}};
    om_poll_value unknown[] = {{(om_quantity)99, 1.0}};
    const struct {
        const char *meter;
        int64_t t;
        const om_poll_value *v;
        size_t n;
        const char *why;
    } bad[] = {
        {"m1", T0, nan_v, 1, "power_kw is not a finite number"},
        {"m1", T0, twice, 2, "power_kw given twice"},
        {"m1", T0, unknown, 1, "unknown quantity 99"},
        {"m1", T0, good, 0, "0 values"},
        {"", T0, good, 1, "without a meter id"},
        {"m1", 0, good, 1, "not after 1970"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        om_outbox_entry cycle[] = {{"ok", T0, good, 1},
                                   {bad[i].meter, bad[i].t, bad[i].v, bad[i].n}};
        assert_int_equal(om_outbox_append_many(ob, cycle, 2, NULL), -1);
        if (strstr(om_outbox_errmsg(ob), bad[i].why) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, om_outbox_errmsg(ob), bad[i].why);
    }
    om_outbox_depth_info d = depth(ob);
    assert_int_equal(d.polls, 0);
    assert_int_equal(d.next_seq, 1);
}

/* ---- handing out ---------------------------------------------------------- */

static void test_batches_in_seq_order(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    for (int i = 0; i < 10; i++)
        add(ob, i % 2 ? "m2" : "m1", T0 + i * MIN_MS, 100.0 + i, (double)i);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 5000, 4, 0, &b);
    assert_string_equal(b.epoch, om_outbox_epoch(ob));
    assert_seqs(&b, 1, 4);
    next_batch(ob, 5000, 4, 0, &b);
    assert_seqs(&b, 5, 8);
    next_batch(ob, 5000, 4, 0, &b);
    assert_seqs(&b, 9, 10);
    for (size_t i = 0; i < b.npolls; i++) {
        double e, p;
        int k = (int)b.polls[i].seq - 1;
        assert_string_equal(b.polls[i].meter, k % 2 ? "m2" : "m1");
        assert_int_equal(b.polls[i].t_ms, T0 + k * MIN_MS);
        assert_int_equal(b.polls[i].attempts, 1);
        assert_int_equal(b.polls[i].nvalues, 2);
        assert_true(has_value(&b.polls[i], OM_Q_ENERGY_IMPORT_KWH, &e) && e == 100.0 + k);
        assert_true(has_value(&b.polls[i], OM_Q_POWER_KW, &p) && p == (double)k);
    }
    next_batch(ob, 5000, 4, 0, &b);
    assert_int_equal(b.npolls, 0);
    om_batch_free(&b);
}

/* max_bytes counts exactly what the encoder writes: a budget of the size
 * of five polls gives five, one byte less gives four, and the message built
 * from om_payload_budget(cap) is within cap and holds every poll. */
static void test_batch_byte_limit(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    for (int i = 0; i < 20; i++)
        add(ob, "sh-main", T0 + i * MIN_MS, 123456.78 + i, 12.3);
    om_batch all, b;
    om_batch_init(&all);
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &all);
    assert_int_equal(all.npolls, 20);
    om_payload_size size;
    om_payload_size_init(&size, 0);
    for (int i = 0; i < 5; i++)
        om_payload_size_add(&size, &all.polls[i], NULL, 0);
    size_t five = size.bytes;

    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 2000, 0, five, &b);
    assert_seqs(&b, 1, 5);
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 2000, 0, five - 1, &b);
    assert_seqs(&b, 1, 4);
    /* a budget smaller than one poll still hands out one */
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 2000, 0, 10, &b);
    assert_seqs(&b, 1, 1);

    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    size_t cap = 1000;
    size_t budget = om_payload_budget(cap, "shanghai", "sh-gw1", om_outbox_epoch(ob));
    next_batch(ob, 3000, 0, budget, &b);
    assert_true(b.npolls > 1 && b.npolls < 20);
    char buf[1001], err[256];
    size_t len, n;
    assert_int_equal(
        om_payload_encode_readings("shanghai", "sh-gw1", &b, buf, cap, &len, &n, err, sizeof err),
        0);
    assert_int_equal(n, b.npolls);
    assert_true(len <= cap);
    /* and the next poll would not have fitted */
    om_payload_size_init(&size, om_payload_envelope_size("shanghai", "sh-gw1", b.epoch));
    for (size_t i = 0; i < b.npolls; i++)
        om_payload_size_add(&size, &b.polls[i], NULL, 0);
    assert_int_equal(size.bytes, len);
    assert_true(om_payload_size_peek(&size, &all.polls[b.npolls], NULL, 0) > cap);

    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "epoch")), om_outbox_epoch(ob));
    json_t *p0 = json_array_get(json_object_get(root, "polls"), 0);
    assert_true(json_real_value(json_object_get(json_object_get(p0, "values"),
                                                "energy_import_kwh")) == 123456.78);
    json_decref(root);
    om_batch_free(&all);
    om_batch_free(&b);
}

static void test_resend_after_timeout_only(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    om_outbox_set_resend_ms(ob, 1000);
    for (int i = 0; i < 3; i++)
        add(ob, "m1", T0 + i * MIN_MS, 1.0 + i, 0.5);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 10000, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    next_batch(ob, 10999, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    add(ob, "m1", T0 + 3 * MIN_MS, 4.0, 0.5);
    next_batch(ob, 10999, 0, 0, &b); /* only the new poll is due */
    assert_seqs(&b, 4, 4);
    next_batch(ob, 11000, 0, 0, &b); /* 1..3 are due again, 4 is not */
    assert_seqs(&b, 1, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(b.polls[i].attempts, 2);
    next_batch(ob, 11998, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    next_batch(ob, 11999, 0, 0, &b);
    assert_seqs(&b, 4, 4);
    assert_int_equal(b.polls[0].attempts, 2);
    /* a clock that went back does not freeze the resends */
    next_batch(ob, 500, 0, 0, &b);
    assert_seqs(&b, 1, 4);
    assert_int_equal(stats(ob).resent, 8);
    om_batch_free(&b);
}

static void test_ack(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    for (int i = 0; i < 5; i++)
        add(ob, "m1", T0 + i * MIN_MS, 1.0 + i, 0.5);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &b);
    size_t deleted = 99;
    assert_int_equal(om_outbox_ack(ob, "0123456789abcdef", 5, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(depth(ob).polls, 5);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 3, &deleted), 0);
    assert_int_equal(deleted, 3);
    assert_int_equal(depth(ob).polls, 2);
    /* an old ack arriving late changes nothing */
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 2, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(depth(ob).acked_upto, 3);
    /* an ack beyond what was issued is refused and deletes nothing */
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 6, &deleted), -1);
    assert_non_null(strstr(om_outbox_errmsg(ob), "last seq issued is 5"));
    assert_int_equal(depth(ob).polls, 2);
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 2000, 0, 0, &b);
    assert_seqs(&b, 4, 5);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 5, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(depth(ob).polls, 0);
    assert_int_equal(stats(ob).acked, 5);
    om_batch_free(&b);
}

static void test_depth(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    om_outbox_depth_info d = depth(ob);
    assert_int_equal(d.polls, 0);
    assert_int_equal(d.oldest_t_ms, 0);
    assert_int_equal(d.next_seq, 1);
    assert_true(d.used_bytes > 0);
    add(ob, "m1", T0 + 5 * MIN_MS, 1.0, 1.0);
    add(ob, "m2", T0 + 2 * MIN_MS, 1.0, 1.0); /* a meter with a slower clock */
    add(ob, "m1", T0 + 6 * MIN_MS, 1.0, 1.0);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 1, 0, &b);
    d = depth(ob);
    assert_int_equal(d.polls, 3);
    assert_int_equal(d.unsent, 2);
    assert_int_equal(d.oldest_t_ms, T0 + 2 * MIN_MS);
    assert_int_equal(d.next_seq, 4);
    assert_int_equal(d.acked_upto, 0);
    om_batch_free(&b);
}

static void test_mark_unsent_and_reopen(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    for (int i = 0; i < 3; i++)
        add(ob, "m1", T0 + i * MIN_MS, 1.0 + i, 0.5);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 2, 0, &b);
    assert_seqs(&b, 1, 2);
    size_t count = 0;
    assert_int_equal(om_outbox_mark_unsent(ob, &count), 0);
    assert_int_equal(count, 2);
    next_batch(ob, 1001, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    assert_int_equal(b.polls[0].attempts, 2);
    assert_int_equal(b.polls[2].attempts, 1);
    next_batch(ob, 1002, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    /* a new process has nothing in flight, whatever its clock says */
    ob = open_ob(f);
    assert_int_equal(depth(ob).unsent, 3);
    next_batch(ob, 5, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    assert_int_equal(b.polls[0].attempts, 3);
    om_batch_free(&b);
}

/* An acknowledgement's deletions are written by the next write transaction
 * (normally the next cycle's append), but no read sees the polls after the
 * call, and closing the outbox writes them. */
static void test_ack_written_later(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    for (int i = 0; i < 4; i++)
        add(ob, "m1", T0 + i * MIN_MS, 1.0 + i, 0.5);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &b);
    size_t deleted = 0;
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 2, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 3, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 3, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 1001, 0, 0, &b);
    assert_seqs(&b, 4, 4);
    /* still pending when the handle is closed: written then */
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 4, &deleted), 0);
    assert_int_equal(deleted, 1);
    ob = open_ob(f);
    om_outbox_depth_info d = depth(ob);
    assert_int_equal(d.polls, 0);
    assert_int_equal(d.acked_upto, 4);
    assert_int_equal(stats(ob).acked, 4);
    /* and an append carries a pending acknowledgement into its commit: a
     * second connection (another process, or the file after a crash) sees
     * both at once */
    add(ob, "m1", T0 + 5 * MIN_MS, 6.0, 0.5);
    add(ob, "m1", T0 + 6 * MIN_MS, 7.0, 0.5);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 5, &deleted), 0);
    assert_int_equal(deleted, 1);
    sqlite3 *db;
    sqlite3_stmt *st;
    const char *sql = "SELECT count(*), min(seq) FROM polls";
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 2); /* not written yet */
    sqlite3_reset(st);
    add(ob, "m1", T0 + 7 * MIN_MS, 8.0, 0.5);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 2);
    assert_int_equal(sqlite3_column_int64(st, 1), 6);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(depth(ob).acked_upto, 5);
    om_batch_free(&b);
}

/* After a hand-out that took everything due, the outbox answers "nothing
 * due" from memory until the earliest resend; whatever makes a poll due
 * sooner (an append, a reconnect, a shorter resend timeout, a thinning
 * that reports a range) must end that at once. */
static void test_due_hint(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    om_outbox_set_resend_ms(ob, 1000);
    /* nothing handed out yet: the caller has to look */
    assert_int_equal(om_outbox_next_due_ms(ob, 900), 900);
    add(ob, "m1", T0, 1.0, 0.5);
    add(ob, "m2", T0, 2.0, 0.5);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &b);
    assert_seqs(&b, 1, 2);
    /* the delivery loop may sleep until the first resend */
    assert_int_equal(om_outbox_next_due_ms(ob, 1200), 2000);
    next_batch(ob, 1500, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    add(ob, "m1", T0 + MIN_MS, 3.0, 0.5);
    assert_int_equal(om_outbox_next_due_ms(ob, 1500), 1500); /* appended: look */
    next_batch(ob, 1500, 0, 0, &b);
    assert_seqs(&b, 3, 3);
    assert_int_equal(om_outbox_next_due_ms(ob, 1500), 2000); /* seqs 1-2 first */
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    assert_int_equal(om_outbox_next_due_ms(ob, 1550), 1550);
    next_batch(ob, 1600, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    om_outbox_set_resend_ms(ob, 50);
    next_batch(ob, 1650, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    /* a batch cut short leaves due polls behind: no hint */
    next_batch(ob, 1700, 1, 0, &b);
    assert_seqs(&b, 1, 1);
    next_batch(ob, 1701, 0, 0, &b);
    assert_seqs(&b, 2, 3);
    /* a clock that went back makes everything due */
    next_batch(ob, 1702, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    next_batch(ob, 100, 0, 0, &b);
    assert_seqs(&b, 1, 3);
    /* thinning reports a range with the poll above it, due at once */
    om_outbox_set_resend_ms(ob, 100000);
    add(ob, "m1", T0 + 2 * MIN_MS, 4.0, 0.5);
    add(ob, "m1", T0 + 3 * MIN_MS, 5.0, 0.5);
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 2000, 0, 0, &b);
    assert_seqs(&b, 1, 5);
    next_batch(ob, 2001, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    om_outbox_stats_info done;
    assert_int_equal(om_outbox_enforce_quota(ob, &(om_outbox_quota){0, 4}, &done), 0);
    assert_int_equal(done.counter_polls_thinned, 1);
    next_batch(ob, 2002, 0, 0, &b);
    assert_int_equal(b.npolls, 1);
    assert_int_equal(b.nskipped, 1);
    assert_int_equal(om_outbox_next_due_ms(ob, 2002), 102000);
    /* everything acknowledged: the hint stays (an ack only makes polls due
     * later); one look at that time finds nothing held, and after that
     * nothing will ever fall due */
    size_t deleted = 0;
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), 5, &deleted), 0);
    assert_int_equal(om_outbox_next_due_ms(ob, 2003), 102000);
    next_batch(ob, 102000, 0, 0, &b);
    assert_int_equal(b.npolls, 0);
    assert_int_equal(om_outbox_next_due_ms(ob, 102001), INT64_MAX);
    om_batch_free(&b);
}

/* ---- quota ------------------------------------------------------------------ */

/* A poll as the tests generate it, and the model of the policy. */
typedef struct {
    const char *meter;
    int64_t t;
    double energy;   /* NAN: no counter value */
    size_t ninstant; /* power (and voltage when 2) */
} gen;

static size_t generate_mixed(gen *g)
{
    /* Two meters; each minute a counter poll {energy, power} and two
     * instantaneous polls {power, voltage} at +20 s and +40 s. */
    size_t n = 0;
    for (int k = 0; k < 60; k++)
        for (int off = 0; off < 3; off++)
            for (int m = 0; m < 2; m++) {
                g[n].meter = m ? "m2" : "m1";
                g[n].t = T0 + k * MIN_MS + off * 20000;
                g[n].energy = off == 0 ? 1000.0 * (m + 1) + k * 0.1 : NAN;
                g[n].ninstant = off == 0 ? 1 : 2;
                n++;
            }
    return n;
}

/* Two meters with a counter poll {energy, power} every minute, and "m0",
 * taken out of service after three minutes: its newest poll is among the
 * oldest of the outbox and must survive all the same. */
static size_t generate_counters(gen *g, int minutes)
{
    size_t n = 0;
    for (int k = 0; k < minutes; k++) {
        for (int m = 0; m < 2; m++) {
            g[n].meter = m ? "m2" : "m1";
            g[n].t = T0 + k * MIN_MS + m * 7000;
            g[n].energy = 5000.0 * (m + 1) + k * 0.123456789;
            g[n].ninstant = 1;
            n++;
        }
        if (k < 3) {
            g[n] = (gen){"m0", T0 + k * MIN_MS + 3000, 42.0 + k, 1};
            n++;
        }
    }
    return n;
}

static void append_gen(om_outbox *ob, const gen *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        om_poll_value v[3];
        size_t nv = 0;
        if (!isnan(g[i].energy))
            v[nv++] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH, g[i].energy};
        v[nv++] = (om_poll_value){OM_Q_POWER_KW, 1.0 + (double)i};
        if (g[i].ninstant == 2)
            v[nv++] = (om_poll_value){OM_Q_VOLTAGE_L1_V, 230.0};
        int64_t seq;
        if (om_outbox_append(ob, g[i].meter, g[i].t, v, nv, &seq) < 0)
            fail_msg("append: %s", om_outbox_errmsg(ob));
        assert_int_equal(seq, (int64_t)i + 1);
    }
}

/* g[i] is the newest of its meter (greatest t, then seq). */
static bool newest(const gen *g, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++)
        if (j != i && strcmp(g[j].meter, g[i].meter) == 0 &&
            (g[j].t > g[i].t || (g[j].t == g[i].t && j > i)))
            return false;
    return true;
}

static bool first_in_bucket(const gen *g, size_t n, size_t i)
{
    int64_t bucket = g[i].t / OM_OUTBOX_THIN_BUCKET_MS;
    for (size_t j = 0; j < n; j++)
        if (j != i && strcmp(g[j].meter, g[i].meter) == 0 &&
            g[j].t / OM_OUTBOX_THIN_BUCKET_MS == bucket &&
            (g[j].t < g[i].t || (g[j].t == g[i].t && j < i)))
            return false;
    return true;
}

/* Fetches everything held, in seq order. */
static void fetch_all(om_outbox *ob, om_batch *b)
{
    assert_int_equal(om_outbox_mark_unsent(ob, NULL), 0);
    next_batch(ob, 1, 0, 0, b);
}

static const om_poll *find(const om_batch *b, int64_t seq)
{
    for (size_t i = 0; i < b->npolls; i++)
        if (b->polls[i].seq == seq)
            return &b->polls[i];
    return NULL;
}

/* Polls and skipped ranges together account for every seq 1..n once. */
static void assert_accounted(const om_batch *b, size_t n)
{
    char *seen = calloc(n + 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < b->npolls; i++)
        seen[b->polls[i].seq]++;
    for (size_t i = 0; i < b->nskipped; i++)
        for (int64_t s = b->skipped[i].from; s <= b->skipped[i].to; s++)
            seen[s]++;
    for (size_t s = 1; s <= n; s++)
        if (seen[s] != 1)
            fail_msg("seq %zu accounted for %d times", s, seen[s]);
    /* ranges that touch are merged: a held poll lies between any two */
    for (size_t i = 1; i < b->nskipped; i++)
        if (b->skipped[i - 1].to + 1 == b->skipped[i].from)
            fail_msg("ranges ..%" PRId64 " and %" PRId64 ".. were not merged", b->skipped[i - 1].to,
                     b->skipped[i].from);
    free(seen);
}

/* Step 1 alone: with a poll quota 50 under the count, the oldest 50
 * instantaneous-only polls go, and every poll before the last of them loses
 * its instantaneous values; counters are untouched. */
static void test_quota_drops_instant_values_first(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    gen g[360];
    size_t n = generate_mixed(g);
    append_gen(ob, g, n);

    /* the model: walk candidates in seq order until 50 polls are gone */
    size_t values = 0, removed = 0, last = 0;
    for (size_t i = 0; i < n && removed < 50; i++) {
        if (newest(g, n, i))
            continue;
        values += g[i].ninstant;
        if (isnan(g[i].energy))
            removed++;
        last = i;
    }
    assert_int_equal(removed, 50);

    om_outbox_quota q = {0, n - 50};
    om_outbox_stats_info done;
    assert_int_equal(om_outbox_enforce_quota(ob, &q, &done), 0);
    assert_int_equal(done.instant_polls_dropped, 50);
    assert_int_equal(done.instant_values_dropped, values);
    assert_int_equal(done.counter_polls_thinned, 0);
    assert_int_equal(depth(ob).polls, n - 50);

    om_batch b;
    om_batch_init(&b);
    fetch_all(ob, &b);
    assert_int_equal(b.npolls, n - 50);
    assert_accounted(&b, n);
    for (size_t i = 0; i < n; i++) {
        const om_poll *p = find(&b, (int64_t)i + 1);
        double e;
        if (!isnan(g[i].energy)) { /* every counter reading is still there, exact */
            assert_non_null(p);
            assert_true(has_value(p, OM_Q_ENERGY_IMPORT_KWH, &e) && e == g[i].energy);
        }
        if (i <= last)
            assert_true(p == NULL || !has_value(p, OM_Q_POWER_KW, NULL));
        else
            assert_true(p != NULL && has_value(p, OM_Q_POWER_KW, NULL));
    }
    /* the counters are in the file */
    ob = open_ob(f);
    om_outbox_stats_info s = stats(ob);
    assert_int_equal(s.instant_polls_dropped, 50);
    assert_int_equal(s.instant_values_dropped, values);
    assert_int_equal(s.counter_polls_thinned, 0);
    om_batch_free(&b);
}

/* Down to the floor: one counter poll per meter per 15 minutes (the first
 * of each bucket) plus the newest poll of each meter, which keeps its
 * instantaneous value too. */
static void test_quota_floor(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    gen g[400];
    size_t n = generate_counters(g, 180);
    append_gen(ob, g, n);

    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (first_in_bucket(g, n, i) || newest(g, n, i))
            kept++;
    /* 3 hours from :05 touch 13 buckets per meter and the newest is not a
     * bucket's first; m0 keeps its first and its newest poll */
    assert_int_equal(kept, 2 * (13 + 1) + 2);

    om_outbox_quota q = {0, 1};
    om_outbox_stats_info done;
    assert_int_equal(om_outbox_enforce_quota(ob, &q, &done), 1);
    assert_int_equal(done.instant_values_dropped, n - 3);
    assert_int_equal(done.instant_polls_dropped, 0);
    assert_int_equal(done.counter_polls_thinned, n - kept);

    om_batch b;
    om_batch_init(&b);
    fetch_all(ob, &b);
    assert_int_equal(b.npolls, kept);
    assert_accounted(&b, n);
    for (size_t i = 0; i < n; i++) {
        const om_poll *p = find(&b, (int64_t)i + 1);
        bool keep = first_in_bucket(g, n, i) || newest(g, n, i);
        assert_true((p != NULL) == keep);
        if (p == NULL)
            continue;
        double e;
        assert_true(has_value(p, OM_Q_ENERGY_IMPORT_KWH, &e) && e == g[i].energy);
        assert_true(has_value(p, OM_Q_POWER_KW, NULL) == newest(g, n, i));
    }
    /* again: nothing more to thin, nothing counted twice */
    assert_int_equal(om_outbox_enforce_quota(ob, &q, &done), 1);
    assert_int_equal(done.counter_polls_thinned + done.instant_values_dropped, 0);
    om_outbox_stats_info s = stats(ob);
    assert_int_equal(s.counter_polls_thinned, n - kept);
    assert_int_equal(s.instant_values_dropped, n - 3);
    om_batch_free(&b);
}

/* Step 2 stops exactly at the quota, having thinned the oldest candidates,
 * also when the quota is reached in two calls (whose ranges then merge). */
static void test_quota_thins_oldest_first(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    gen g[400];
    size_t n = generate_counters(g, 180);
    append_gen(ob, g, n);
    om_outbox_quota q = {0, 300};
    om_outbox_stats_info done;
    assert_int_equal(om_outbox_enforce_quota(ob, &q, &done), 0);
    assert_int_equal(depth(ob).polls, 300);
    assert_int_equal(done.counter_polls_thinned, n - 300);
    assert_int_equal(done.instant_values_dropped, n - 3);
    q.max_polls = 200;
    assert_int_equal(om_outbox_enforce_quota(ob, &q, &done), 0);
    assert_int_equal(depth(ob).polls, 200);
    assert_int_equal(done.counter_polls_thinned, 100);
    assert_int_equal(done.instant_values_dropped, 0);
    assert_int_equal(stats(ob).counter_polls_thinned, n - 200);

    om_batch b;
    om_batch_init(&b);
    fetch_all(ob, &b);
    assert_accounted(&b, n);
    size_t thinned = 0;
    for (size_t i = 0; i < n; i++) {
        bool candidate = !first_in_bucket(g, n, i) && !newest(g, n, i);
        bool expect_gone = candidate && thinned < n - 200;
        if (expect_gone)
            thinned++;
        assert_true((find(&b, (int64_t)i + 1) == NULL) == expect_gone);
    }
    om_batch_free(&b);
}

/* Skipped ranges travel with the poll above them, reach the payload, and
 * are forgotten (or trimmed) by the acknowledgement. */
static void test_quota_skipped_ranges_and_ack(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    gen g[400];
    size_t n = generate_counters(g, 180);
    append_gen(ob, g, n);
    om_batch b;
    om_batch_init(&b);
    next_batch(ob, 1000, 0, 0, &b); /* in flight before the thinning */
    om_outbox_quota q = {0, 1};
    assert_int_equal(om_outbox_enforce_quota(ob, &q, NULL), 1);

    /* the polls just above new ranges are due again at once, with them */
    next_batch(ob, 1001, 0, 0, &b);
    assert_true(b.npolls > 0 && b.nskipped > 0);
    for (size_t i = 0; i < b.nskipped; i++)
        assert_true(b.skipped[i].to < b.polls[b.npolls - 1].seq);

    fetch_all(ob, &b);
    assert_accounted(&b, n);
    char *buf = malloc(65537), err[256];
    size_t len, np;
    assert_non_null(buf);
    assert_int_equal(
        om_payload_encode_readings("s", "g", &b, buf, 65536, &len, &np, err, sizeof err), 0);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    assert_non_null(root);
    json_t *sk = json_object_get(root, "skipped");
    assert_int_equal(json_array_size(sk), b.nskipped);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(sk, 0), 0)),
                     b.skipped[0].from);
    json_decref(root);
    free(buf);

    /* an ack inside a range trims it */
    int64_t from = b.skipped[0].from, to = b.skipped[0].to;
    assert_true(to > from);
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), from, NULL), 0);
    fetch_all(ob, &b);
    assert_int_equal(b.skipped[0].from, from + 1);
    assert_int_equal(b.skipped[0].to, to);
    /* an ack of everything forgets every range */
    assert_int_equal(om_outbox_ack(ob, om_outbox_epoch(ob), (int64_t)n, NULL), 0);
    assert_int_equal(depth(ob).polls, 0);
    add(ob, "m1", T0 + 500 * MIN_MS, 1.0, 1.0);
    next_batch(ob, 2000, 0, 0, &b);
    assert_seqs(&b, (int64_t)n + 1, (int64_t)n + 1);
    assert_int_equal(b.nskipped, 0);
    om_batch_free(&b);
}

/* A byte quota: the outbox ends within it, instantaneous values were taken
 * from a prefix of the polls, and counters only if nothing instantaneous
 * was left. */
static void test_quota_bytes(void **state)
{
    fixture *f = *state;
    om_outbox *ob = open_ob(f);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        const char *meters[] = {"m1", "m2", "m3", "m4"};
        om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, 10.0 + i},
                             {OM_Q_POWER_KW, 1.5},
                             {OM_Q_VOLTAGE_L1_V, 230.1},
                             {OM_Q_VOLTAGE_L2_V, 230.2},
                             {OM_Q_VOLTAGE_L3_V, 230.3}};
        /* three polls in four carry only instantaneous values */
        size_t off = i % 4 == 0 ? 0 : 1;
        om_outbox_entry e = {meters[i % 4], T0 + (i / 4) * 10000, v + off, ARRAY_LEN(v) - off};
        assert_int_equal(om_outbox_append_many(ob, &e, 1, NULL), 0);
    }
    uint64_t before = depth(ob).used_bytes;
    om_outbox_quota q = {before * 6 / 10, 0};
    om_outbox_stats_info done;
    int rc = om_outbox_enforce_quota(ob, &q, &done);
    assert_int_equal(rc, 0);
    om_outbox_depth_info d = depth(ob);
    assert_true(d.used_bytes <= q.max_bytes);
    assert_true(done.instant_values_dropped > 0);
    assert_true(done.instant_polls_dropped > 0);

    om_batch b;
    om_batch_init(&b);
    fetch_all(ob, &b);
    assert_accounted(&b, N);
    assert_int_equal(b.npolls, N - done.instant_polls_dropped - done.counter_polls_thinned);
    bool seen_instant = false;
    for (size_t i = 0; i + 4 < b.npolls; i++) { /* the last four are the newest */
        bool inst = has_value(&b.polls[i], OM_Q_POWER_KW, NULL);
        if (seen_instant && !inst)
            fail_msg("seq %" PRId64 " lost its instantaneous values after a poll that kept them",
                     b.polls[i].seq);
        seen_instant = seen_instant || inst;
    }
    if (done.counter_polls_thinned == 0)
        assert_int_equal(b.npolls, N - done.instant_polls_dropped);
    om_batch_free(&b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_seq_survives_reopen),
        T(test_epoch_persists_and_renews),
        T(test_append_survives_process_death),
        T(test_orphan_wal_is_not_replayed),
        T(test_schema_newer_is_refused),
        T(test_file_is_wal_and_versioned),
        T(test_foreign_files_are_refused),
        T(test_invalid_polls_append_nothing),
        T(test_batches_in_seq_order),
        T(test_batch_byte_limit),
        T(test_resend_after_timeout_only),
        T(test_ack),
        T(test_depth),
        T(test_mark_unsent_and_reopen),
        T(test_due_hint),
        T(test_ack_written_later),
        T(test_quota_drops_instant_values_first),
        T(test_quota_floor),
        T(test_quota_thins_oldest_first),
        T(test_quota_skipped_ranges_and_ack),
        T(test_quota_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox.c - the agent's durable outbox: open, append, hand out, acknowledge.
 *
 * The file is an SQLite database in WAL mode. WAL lets a reader (officemeter
 * status, a backup) look at the outbox while the agent writes. Appends and
 * thinnings commit with synchronous=FULL, which fsyncs the WAL: with NORMAL
 * a WAL commit survives a crash of the process but not a power cut, and the
 * agent publishes a poll right after appending it, so a power cut could lose
 * a poll that was never acknowledged, or worse, reuse its seq for a different
 * poll after the restart, one the aggregator would then drop as a duplicate.
 * Hand-outs commit with NORMAL (ob_begin_light): losing one only makes a
 * batch due again, as a new process does anyway, and the next FULL commit
 * syncs its frames with its own. An acknowledgement is checked at once but
 * its deletions are written by the next write transaction (pending_ack),
 * normally the next cycle's append: one fsync per poll cycle in all.
 *
 * Invariants (numbered as in SQLite's pager.c, referred to below):
 *  (1) meta.next_seq only grows; a poll gets it and it is incremented in the
 *      same transaction as the insert, so a seq is never issued twice.
 *  (2) A poll leaves `polls` only through om_outbox_ack (seq <= upto <
 *      next_seq, same epoch; written by the next write transaction, and left
 *      out of every read until then), or through ob_delete_unacked, which
 *      records its seq in `thinned` in the same transaction.
 *  (3) Every held seq and every thinned range is above meta.acked_upto, and
 *      every thinned range lies below some held poll (the newest poll of each
 *      meter is never thinned), so a range always travels with a poll.
 *  (4) Polls are handed out in seq order; a batch never skips a due poll to
 *      fit a later one.
 *
 * The life of a poll (a row of `polls`):
 *
 *                   om_outbox_append, om_outbox_append_many
 *                                     |
 *                                     v
 *                              +-------------+
 *          +-----------------> |     DUE     | <------- om_outbox_open
 *          |                   | sent_ms NULL|          (a new process: nothing
 *          |                   +-------------+           is in flight any more)
 *          |                          |
 *   om_outbox_mark_unsent             | om_outbox_next_batch
 *   (reconnect); ob_delete_unacked    | (sent_ms = now, attempts + 1)
 *   (a range now travels with it)     v
 *          |                   +-------------+
 *          +------------------ |  IN FLIGHT  | ---+ om_outbox_next_batch, once
 *                              | sent_ms set | <--+ now - sent_ms >= resend_ms
 *                              +-------------+      (a resend: same seq)
 *
 *   from either state:
 *     om_outbox_ack(epoch, upto >= seq)  ---> deleted (the aggregator committed it)
 *     om_outbox_enforce_quota, step 1    ---> instantaneous values dropped;
 *                                             deleted and skipped if none is left
 *     om_outbox_enforce_quota, step 2    ---> deleted and skipped (not the first
 *                                             of its meter in its 15 minutes)
 *
 * A skipped range (a row of `thinned`) is made by ob_delete_unacked, handed
 * out by om_outbox_next_batch with the poll just above it, and forgotten by
 * om_outbox_ack once upto >= its last seq.
 *
 * Schema (PRAGMA user_version = OM_OUTBOX_SCHEMA_VERSION):
 *   meta(key, value)          epoch, next_seq, acked_upto, created_ms, counters
 *   polls(seq, meter, t, sent_ms, attempts, <one REAL column per quantity>)
 *   thinned(first, last)      seq ranges deleted without an acknowledgement
 * Quantity columns are named by the payload key. A quantity added to
 * quantity.c gets its column on the next open (ALTER TABLE ADD COLUMN), so
 * that needs no new schema version.
 */
#include "outbox_private.h"
#include "officemeter/sql/sql.h"
#include "officemeter/base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
/* The WAL is truncated back to this after a checkpoint, so the quota is
 * not exceeded by a WAL left large by a catch-up. */
#define WAL_SIZE_LIMIT (4 * 1024 * 1024)

static _Thread_local char last_error[768];

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
    "CREATE TABLE polls(seq INTEGER PRIMARY KEY, meter TEXT NOT NULL, t INTEGER NOT NULL,"
    "                   sent_ms INTEGER, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX polls_meter_t ON polls(meter, t);"
    "CREATE TABLE thinned(first INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
    "CREATE INDEX thinned_last ON thinned(last);";

/* Counters kept in meta, all starting at 0 with a new epoch. */
static const char *const counter_keys[] = {
    "acked_upto",
    "appended",
    "acked",
    "resent",
    "instant_values_dropped",
    "instant_polls_dropped",
    "counter_polls_thinned",
};

/* ---- shared with outbox_sql.c and outbox_quota.c (outbox_private.h) ----- */

int ob_fail(om_outbox *ob, bool with_db, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (with_db && ob->db != NULL)
        snprintf(last_error, sizeof last_error, "%s: %s: %s", ob->path, body,
                 sqlite3_errmsg(ob->db));
    else
        snprintf(last_error, sizeof last_error, "%s: %s", ob->path, body);
    return -1;
}

sqlite3_stmt *ob_stmt(om_outbox *ob, ob_stmt_id id)
{
    sqlite3_stmt *st = ob->stmt[id];
    if (st == NULL) {
        if (sqlite3_prepare_v3(ob->db, ob->sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            ob_fail(ob, true, "preparing statement %d", (int)id);
            return NULL;
        }
        ob->stmt[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int ob_exec(om_outbox *ob, sqlite3_stmt *st)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return ob_fail(ob, true, "writing");
    return 0;
}

int ob_query_int(om_outbox *ob, sqlite3_stmt *st, int64_t def, int64_t *out)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    *out = def;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ob_fail(ob, true, "reading");
    return 0;
}

/* PRAGMA synchronous applies to the commits that follow it, so the level
 * is chosen per transaction, before its BEGIN. */
static int set_sync(om_outbox *ob, bool normal)
{
    if (ob->sync_normal == normal)
        return 0;
    if (ob_exec(ob, ob_stmt(ob, normal ? OB_SYNC_NORMAL : OB_SYNC_FULL)) < 0)
        return -1;
    ob->sync_normal = normal;
    return 0;
}

static int write_ack(om_outbox *ob, int64_t upto, size_t *deleted);
static int flush_ack(om_outbox *ob);

/* Every write transaction first writes the deletions of an acknowledgement
 * accepted since the last one (invariant 2: still only polls the
 * aggregator has committed). */
static int begin(om_outbox *ob, bool light)
{
    if (set_sync(ob, light) < 0 || ob_exec(ob, ob_stmt(ob, OB_BEGIN)) < 0)
        return -1;
    if (ob->pending_ack > 0) {
        size_t n;
        if (write_ack(ob, ob->pending_ack, &n) < 0) {
            ob_rollback(ob);
            return -1;
        }
        ob->pending_in_txn = true;
    }
    return 0;
}

int ob_begin(om_outbox *ob)
{
    return begin(ob, false);
}

int ob_begin_light(om_outbox *ob)
{
    return begin(ob, true);
}

int ob_commit(om_outbox *ob)
{
    sqlite3_stmt *st = ob_stmt(ob, OB_COMMIT);
    if (st == NULL)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE) {
        ob_fail(ob, true, "committing");
        sqlite3_reset(st);
        ob_rollback(ob);
        return -1;
    }
    sqlite3_reset(st);
    if (ob->pending_in_txn)
        ob->pending_ack = 0;
    ob->pending_in_txn = false;
    return 0;
}

void ob_rollback(om_outbox *ob)
{
    ob->pending_in_txn = false; /* still pending: the next transaction tries again */
    if (sqlite3_get_autocommit(ob->db))
        return; /* SQLite already rolled back (e.g. SQLITE_FULL) */
    sqlite3_stmt *st = ob_stmt(ob, OB_ROLLBACK);
    if (st != NULL) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
}

int ob_meta_get(om_outbox *ob, const char *key, int64_t *out)
{
    sqlite3_stmt *st = ob_stmt(ob, OB_META_GET);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return ob_query_int(ob, st, 0, out);
}

int ob_meta_set(om_outbox *ob, const char *key, int64_t value)
{
    sqlite3_stmt *st = ob_stmt(ob, OB_META_SET);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return ob_exec(ob, st);
}

int ob_meta_add(om_outbox *ob, const char *key, int64_t delta)
{
    if (delta == 0)
        return 0;
    sqlite3_stmt *st = ob_stmt(ob, OB_META_ADD);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, delta);
    return ob_exec(ob, st);
}

int ob_used_bytes(om_outbox *ob, int64_t *out)
{
    int64_t pages, free_pages;
    if (ob_query_int(ob, ob_stmt(ob, OB_PAGE_COUNT), 0, &pages) < 0 ||
        ob_query_int(ob, ob_stmt(ob, OB_FREELIST_COUNT), 0, &free_pages) < 0)
        return -1;
    *out = (pages - free_pages) * ob->page_size;
    return 0;
}

void ob_quiet_clear(om_outbox *ob)
{
    ob->quiet_from_ms = 0;
    ob->quiet_until_ms = 0;
}

int ob_count_polls(om_outbox *ob, int64_t *out)
{
    sqlite3_stmt *st = ob_stmt(ob, OB_DEPTH);
    return ob_query_int(ob, st, 0, out);
}

/* Records first..last as skipped, merged with a range ending just below or
 * starting just above it, and makes the poll above it due. */
static int record_range(om_outbox *ob, int64_t first, int64_t last)
{
    int64_t below, above;
    sqlite3_stmt *st = ob_stmt(ob, OB_RANGE_ENDING_AT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, first - 1);
    if (ob_query_int(ob, st, -1, &below) < 0)
        return -1;
    if ((st = ob_stmt(ob, OB_RANGE_STARTING_AT)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, last + 1);
    if (ob_query_int(ob, st, -1, &above) < 0)
        return -1;
    if (below >= 0) {
        if ((st = ob_stmt(ob, OB_RANGE_DELETE)) == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, below);
        if (ob_exec(ob, st) < 0)
            return -1;
        first = below;
    }
    if (above >= 0) {
        if ((st = ob_stmt(ob, OB_RANGE_DELETE)) == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, last + 1);
        if (ob_exec(ob, st) < 0)
            return -1;
        last = above;
    }
    if ((st = ob_stmt(ob, OB_RANGE_INSERT)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    if (ob_exec(ob, st) < 0)
        return -1;
    if ((st = ob_stmt(ob, OB_UNSEND_NEXT_HELD)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, last);
    ob_quiet_clear(ob);
    return ob_exec(ob, st);
}

int ob_delete_unacked(om_outbox *ob, const int64_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = ob_stmt(ob, OB_DELETE_SEQ);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, seqs[i]);
        if (ob_exec(ob, st) < 0)
            return -1;
    }
    /* Consecutive seqs become one range; record_range merges it with the
     * ranges of earlier thinnings (invariant 2). */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && seqs[j + 1] == seqs[j] + 1)
            j++;
        if (record_range(ob, seqs[i], seqs[j]) < 0)
            return -1;
        i = j + 1;
    }
    return 0;
}

/* ---- opening ------------------------------------------------------------ */

static int random_epoch(char out[OM_EPOCH_LEN + 1])
{
    uint64_t bits = 0;
    ssize_t got = getrandom(&bits, sizeof bits, 0);
    if (got != (ssize_t)sizeof bits) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        got = read(fd, &bits, sizeof bits);
        close(fd);
        if (got != (ssize_t)sizeof bits)
            return -1;
    }
    snprintf(out, OM_EPOCH_LEN + 1, "%016" PRIx64, bits);
    return 0;
}

static bool epoch_valid(const char *s)
{
    if (s == NULL || strlen(s) != OM_EPOCH_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static int pragma_int(om_outbox *ob, const char *sql, int64_t *out)
{
    return om_sql_int(ob->db, sql, out) == 0 ? 0 : ob_fail(ob, true, "%s", sql);
}

static int exec_sql(om_outbox *ob, const char *sql)
{
    char what[96], msg[512];
    snprintf(what, sizeof what, "%.80s", sql);
    if (om_sql_exec(ob->db, sql, what, msg, sizeof msg) < 0)
        return ob_fail(ob, false, "%s", msg);
    return 0;
}

/* journal_mode answers with the mode it is in; a file system without
 * shared memory (some network mounts) refuses WAL, which must not pass
 * silently. */
static int use_wal(om_outbox *ob)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ob->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return ob_fail(ob, true, "setting WAL mode");
    int rc = sqlite3_step(st);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool wal = mode != NULL && strcmp(mode, "wal") == 0;
    char got[16];
    snprintf(got, sizeof got, "%s", mode ? mode : "?");
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return ob_fail(ob, true, "setting WAL mode");
    if (!wal)
        return ob_fail(ob, false, "the file system does not allow WAL mode (journal mode %s)", got);
    return 0;
}

/* Adds a REAL column for every quantity the file does not have yet. */
static int ensure_quantity_columns(om_outbox *ob)
{
    sqlite3_stmt *st;
    bool have[OM_Q__COUNT] = {false};
    if (sqlite3_prepare_v2(ob->db, "SELECT name FROM pragma_table_info('polls')", -1, &st, NULL) !=
        SQLITE_OK)
        return ob_fail(ob, true, "reading the polls table");
    while (sqlite3_step(st) == SQLITE_ROW) {
        om_quantity q;
        if (om_quantity_from_name((const char *)sqlite3_column_text(st, 0), &q) == 0)
            have[q] = true;
    }
    sqlite3_finalize(st);
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (have[q])
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "ALTER TABLE polls ADD COLUMN \"%s\" REAL",
                 om_quantity_get((om_quantity)q)->name);
        if (exec_sql(ob, sql) < 0)
            return -1;
    }
    return 0;
}

static int create_schema(om_outbox *ob)
{
    int64_t tables;
    if (pragma_int(ob, "SELECT count(*) FROM sqlite_schema", &tables) < 0)
        return -1;
    if (tables > 0)
        return ob_fail(ob, false, "not an outbox (it has tables but no outbox schema version)");
    char epoch[OM_EPOCH_LEN + 1];
    if (random_epoch(epoch) < 0)
        return ob_fail(ob, false, "no random bits for the epoch: %s", strerror(errno));
    if (exec_sql(ob, schema_sql) < 0 || ensure_quantity_columns(ob) < 0)
        return -1;
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO meta(key, value) VALUES ('epoch', '%s'), ('next_seq', 1), "
             "('created_ms', %" PRId64 ")",
             epoch, om_wall_ms());
    if (exec_sql(ob, sql) < 0)
        return -1;
    for (size_t i = 0; i < sizeof counter_keys / sizeof counter_keys[0]; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES ('%s', 0)", counter_keys[i]);
        if (exec_sql(ob, sql) < 0)
            return -1;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", OM_OUTBOX_SCHEMA_VERSION);
    return exec_sql(ob, sql);
}

static int load_epoch(om_outbox *ob)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ob->db, "SELECT value FROM meta WHERE key = 'epoch'", -1, &st, NULL) !=
        SQLITE_OK)
        return ob_fail(ob, true, "reading the epoch");
    const char *text = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        text = (const char *)sqlite3_column_text(st, 0);
    bool ok = epoch_valid(text);
    if (ok)
        memcpy(ob->epoch, text, OM_EPOCH_LEN + 1);
    sqlite3_finalize(st);
    if (!ok)
        return ob_fail(ob, false, "the epoch stored in the outbox is missing or malformed");
    return 0;
}

static int check_version(om_outbox *ob, int64_t *version)
{
    if (pragma_int(ob, "PRAGMA user_version", version) < 0)
        return ob_fail(ob, true, "cannot read the schema version");
    if (*version > OM_OUTBOX_SCHEMA_VERSION) {
        snprintf(last_error, sizeof last_error,
                 "%s schema version %" PRId64 " is newer than this program (%d)", ob->path,
                 *version, OM_OUTBOX_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

/* Creates the schema or checks and upgrades it, inside one write
 * transaction, so that two processes opening a new file cannot both create
 * an epoch. Forward migrations from older versions go here. */
static int prepare_file(om_outbox *ob)
{
    int64_t version;
    if (exec_sql(ob, "BEGIN IMMEDIATE") < 0)
        return -1;
    if (check_version(ob, &version) < 0)
        goto fail;
    if (version == 0 && create_schema(ob) < 0)
        goto fail;
    if (ensure_quantity_columns(ob) < 0 || load_epoch(ob) < 0)
        goto fail;
    /* A new process has nothing in flight: everything held is due. */
    if (exec_sql(ob, "UPDATE polls SET sent_ms = NULL WHERE sent_ms IS NOT NULL") < 0)
        goto fail;
    if (exec_sql(ob, "COMMIT") < 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int configure(om_outbox *ob)
{
    int64_t version;
    sqlite3_extended_result_codes(ob->db, 1);
    sqlite3_busy_timeout(ob->db, BUSY_TIMEOUT_MS);
    /* The version is read before anything writes to the file: a newer
     * program's outbox is left exactly as it was. */
    if (check_version(ob, &version) < 0)
        return -1;
    if (use_wal(ob) < 0 || exec_sql(ob, "PRAGMA synchronous=FULL") < 0)
        return -1;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%d", WAL_SIZE_LIMIT);
    if (exec_sql(ob, sql) < 0 || pragma_int(ob, "PRAGMA page_size", &ob->page_size) < 0)
        return -1;
    return prepare_file(ob);
}

om_outbox *om_outbox_open(const char *path, char *err, size_t errlen)
{
    om_outbox *ob = calloc(1, sizeof *ob);
    if (ob == NULL || (ob->path = strdup(path)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(ob);
        return NULL;
    }
    pthread_mutex_init(&ob->lock, NULL);
    ob->resend_ms = OM_OUTBOX_RESEND_MS_DEFAULT;
    if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        ob_fail(ob, true, "cannot open");
        goto fail;
    }
    if (configure(ob) < 0)
        goto fail;
    if (ob_build_sql(ob) < 0) {
        ob_fail(ob, false, "out of memory");
        goto fail;
    }
    return ob;
fail:
    snprintf(err, errlen, "%s", last_error);
    om_outbox_close(ob);
    return NULL;
}

void om_outbox_limit_cache(int64_t bytes)
{
    sqlite3_soft_heap_limit64(bytes);
}

void om_outbox_close(om_outbox *ob)
{
    if (ob == NULL)
        return;
    if (ob->db != NULL)
        flush_ack(ob); /* best effort: if lost, the polls are sent again and acked again */
    for (int i = 0; i < OB__COUNT; i++) {
        sqlite3_finalize(ob->stmt[i]);
        free(ob->sql[i]);
    }
    sqlite3_close(ob->db);
    pthread_mutex_destroy(&ob->lock);
    free(ob->path);
    free(ob);
}

const char *om_outbox_errmsg(const om_outbox *ob)
{
    (void)ob;
    return last_error;
}

const char *om_outbox_epoch(const om_outbox *ob)
{
    return ob->epoch;
}

void om_outbox_set_resend_ms(om_outbox *ob, int64_t ms)
{
    pthread_mutex_lock(&ob->lock);
    ob->resend_ms = ms > 0 ? ms : 0;
    ob_quiet_clear(ob);
    pthread_mutex_unlock(&ob->lock);
}

/* ---- appending ---------------------------------------------------------- */

static int check_entry(om_outbox *ob, const om_outbox_entry *e)
{
    bool seen[OM_Q__COUNT] = {false};
    const char *meter = e->meter && *e->meter ? e->meter : NULL;
    if (meter == NULL)
        return ob_fail(ob, false, "poll without a meter id");
    if (e->t_ms <= 0)
        return ob_fail(ob, false, "poll of meter %s: time %" PRId64 " ms is not after 1970", meter,
                       e->t_ms);
    if (e->nvalues == 0 || e->nvalues > OM_Q__COUNT || e->values == NULL)
        return ob_fail(ob, false, "poll of meter %s: %zu values (expected 1 to %d)", meter,
                       e->nvalues, OM_Q__COUNT);
    for (size_t i = 0; i < e->nvalues; i++) {
        const om_quantity_info *q = om_quantity_get(e->values[i].quantity);
        if (q == NULL)
            return ob_fail(ob, false, "poll of meter %s: unknown quantity %d", meter,
                           (int)e->values[i].quantity);
        if (seen[q->id])
            return ob_fail(ob, false, "poll of meter %s: %s given twice", meter, q->name);
        /* JSON has no NaN or infinity, and one unsendable poll would hold
         * back every poll after it. */
        if (!isfinite(e->values[i].value))
            return ob_fail(ob, false, "poll of meter %s: %s is not a finite number", meter,
                           q->name);
        seen[q->id] = true;
    }
    return 0;
}

static int insert_poll(om_outbox *ob, const om_outbox_entry *e, int64_t seq)
{
    sqlite3_stmt *st = ob_stmt(ob, OB_INSERT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, e->meter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, e->t_ms);
    /* Unbound parameters are NULL: absent quantities stay NULL. */
    for (size_t i = 0; i < e->nvalues; i++)
        sqlite3_bind_double(st, 4 + (int)e->values[i].quantity, e->values[i].value);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sqlite3_reset(st);
        return ob_fail(ob, true, "appending poll %" PRId64 " of meter %s", seq, e->meter);
    }
    sqlite3_reset(st);
    return 0;
}

int om_outbox_append_many(om_outbox *ob, const om_outbox_entry *entries, size_t n,
                          int64_t *first_seq)
{
    int64_t seq;
    for (size_t i = 0; i < n; i++)
        if (check_entry(ob, &entries[i]) < 0)
            return -1;
    pthread_mutex_lock(&ob->lock);
    ob_quiet_clear(ob);
    if (ob_begin(ob) < 0)
        goto fail_unlocked_txn;
    if (ob_meta_get(ob, "next_seq", &seq) < 0)
        goto fail;
    if (first_seq != NULL)
        *first_seq = seq;
    for (size_t i = 0; i < n; i++)
        if (insert_poll(ob, &entries[i], seq + (int64_t)i) < 0)
            goto fail;
    /* Invariant 1: the counter moves in the transaction that uses it. */
    if (ob_meta_set(ob, "next_seq", seq + (int64_t)n) < 0 ||
        ob_meta_add(ob, "appended", (int64_t)n) < 0 || ob_commit(ob) < 0)
        goto fail;
    pthread_mutex_unlock(&ob->lock);
    return 0;
fail:
    ob_rollback(ob);
fail_unlocked_txn:
    pthread_mutex_unlock(&ob->lock);
    return -1;
}

int om_outbox_append(om_outbox *ob, const char *meter, int64_t t_ms, const om_poll_value *values,
                     size_t nvalues, int64_t *seq)
{
    om_outbox_entry e = {meter, t_ms, values, nvalues};
    return om_outbox_append_many(ob, &e, 1, seq);
}

/* ---- handing out -------------------------------------------------------- */

static void row_to_poll(sqlite3_stmt *st, om_poll *p)
{
    memset(p, 0, sizeof *p);
    p->seq = sqlite3_column_int64(st, 0);
    p->meter = (char *)sqlite3_column_text(st, 1);
    p->t_ms = sqlite3_column_int64(st, 2);
    p->attempts = (unsigned)sqlite3_column_int64(st, 3) + 1;
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (sqlite3_column_type(st, 4 + q) == SQLITE_NULL)
            continue;
        p->values[p->nvalues].quantity = (om_quantity)q;
        p->values[p->nvalues].value = sqlite3_column_double(st, 4 + q);
        p->nvalues++;
    }
}

/* The skipped ranges between the poll held just below `seq` and `seq`
 * (invariant 3: they travel with the poll above them). */
static int ranges_below(om_outbox *ob, int64_t seq, om_seq_range *out, size_t cap, size_t *n)
{
    int64_t prev;
    sqlite3_stmt *st = ob_stmt(ob, OB_PREV_HELD);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, seq);
    if (ob_query_int(ob, st, 0, &prev) < 0 || (st = ob_stmt(ob, OB_RANGES_BETWEEN)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, prev);
    sqlite3_bind_int64(st, 2, seq);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            sqlite3_reset(st);
            return ob_fail(ob, false, "more than %zu skipped ranges below seq %" PRId64, cap, seq);
        }
        out[*n].from = sqlite3_column_int64(st, 0);
        out[*n].to = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return ob_fail(ob, true, "reading skipped ranges");
    return 0;
}

/* Between two held polls there is at most one range, since ranges that
 * touch are merged; a few more slots cost nothing. */
#define MAX_RANGES_PER_POLL 8

static int collect_due(om_outbox *ob, int64_t now_ms, size_t max_polls, size_t max_bytes,
                       om_batch *out, bool *all_due)
{
    *all_due = false;
    sqlite3_stmt *due = ob_stmt(ob, OB_DUE);
    if (due == NULL)
        return -1;
    sqlite3_bind_int64(due, 1, now_ms - ob->resend_ms);
    sqlite3_bind_int64(due, 2, now_ms);
    /* Skipped ranges exist only after a thinning; without any, the two
     * lookups per poll below are skipped. */
    int64_t any_thinned;
    if (ob_query_int(ob, ob_stmt(ob, OB_ANY_THINNED), 1, &any_thinned) < 0)
        return -1;
    om_payload_size size;
    om_payload_size_init(&size, 0);
    int rc = SQLITE_ROW;
    while ((max_polls == 0 || out->npolls < max_polls) && (rc = sqlite3_step(due)) == SQLITE_ROW) {
        om_poll p;
        om_seq_range r[MAX_RANGES_PER_POLL];
        size_t nr = 0;
        row_to_poll(due, &p);
        if (any_thinned && ranges_below(ob, p.seq, r, MAX_RANGES_PER_POLL, &nr) < 0)
            goto fail;
        /* Invariant 4: stop at the first poll that does not fit. The first
         * poll goes in regardless, so an oversized poll is reported by the
         * encoder instead of stalling the outbox in silence. */
        if (max_bytes > 0 && out->npolls > 0 && om_payload_size_peek(&size, &p, r, nr) > max_bytes)
            break;
        om_payload_size_add(&size, &p, r, nr);
        if (om_batch_add_poll(out, &p) < 0)
            goto oom;
        for (size_t i = 0; i < nr; i++)
            if (om_batch_add_skipped(out, r[i].from, r[i].to) < 0)
                goto oom;
    }
    *all_due = rc == SQLITE_DONE;
    sqlite3_reset(due);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ob_fail(ob, true, "reading due polls");
        return -1;
    }
    return 0;
oom:
    ob_fail(ob, false, "out of memory");
fail:
    sqlite3_reset(due);
    return -1;
}

static int mark_handed_out(om_outbox *ob, int64_t now_ms, const om_batch *b)
{
    if (b->npolls == 0)
        return 0;
    int64_t resent = 0;
    for (size_t i = 0; i < b->npolls; i++)
        if (b->polls[i].attempts > 1)
            resent++;
    sqlite3_stmt *st = ob_stmt(ob, OB_MARK_SENT_RANGE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, b->polls[0].seq);
    sqlite3_bind_int64(st, 3, b->polls[b->npolls - 1].seq);
    sqlite3_bind_int64(st, 4, now_ms - ob->resend_ms);
    if (ob_exec(ob, st) < 0)
        return -1;
    /* The same due test in the same transaction: exactly the batch. */
    if ((size_t)sqlite3_changes(ob->db) != b->npolls)
        return ob_fail(ob, false, "handed out %zu polls but marked %d", b->npolls,
                       sqlite3_changes(ob->db));
    return ob_meta_add(ob, "resent", resent);
}

/* After a hand-out that took every due poll, every held poll was handed out
 * at or before now_ms: the next one is due resend_ms after the earliest. */
static int note_quiet(om_outbox *ob, int64_t now_ms)
{
    int64_t earliest;
    if (ob_query_int(ob, ob_stmt(ob, OB_MIN_SENT), -1, &earliest) < 0)
        return -1;
    ob->quiet_from_ms = now_ms;
    ob->quiet_until_ms = earliest < 0 ? INT64_MAX : earliest + ob->resend_ms;
    return 0;
}

static bool is_quiet(const om_outbox *ob, int64_t now_ms)
{
    /* before quiet_from_ms: a clock that went back, due by definition */
    return ob->quiet_until_ms > 0 && now_ms >= ob->quiet_from_ms && now_ms < ob->quiet_until_ms;
}

int64_t om_outbox_next_due_ms(om_outbox *ob, int64_t now_ms)
{
    pthread_mutex_lock(&ob->lock);
    int64_t due = is_quiet(ob, now_ms) ? ob->quiet_until_ms : now_ms;
    pthread_mutex_unlock(&ob->lock);
    return due;
}

int om_outbox_next_batch(om_outbox *ob, int64_t now_ms, size_t max_polls, size_t max_bytes,
                         om_batch *out)
{
    om_batch_clear(out);
    memcpy(out->epoch, ob->epoch, sizeof out->epoch);
    pthread_mutex_lock(&ob->lock);
    if (is_quiet(ob, now_ms)) {
        pthread_mutex_unlock(&ob->lock);
        return 0;
    }
    ob_quiet_clear(ob);
    bool all_due;
    if (ob_begin_light(ob) < 0)
        goto fail_no_txn;
    if (collect_due(ob, now_ms, max_polls, max_bytes, out, &all_due) < 0 ||
        mark_handed_out(ob, now_ms, out) < 0 || (all_due && note_quiet(ob, now_ms) < 0) ||
        ob_commit(ob) < 0)
        goto fail;
    pthread_mutex_unlock(&ob->lock);
    return 0;
fail:
    ob_quiet_clear(ob);
    ob_rollback(ob);
fail_no_txn:
    pthread_mutex_unlock(&ob->lock);
    om_batch_clear(out);
    return -1;
}

/* ---- acknowledgement, depth, counters ---------------------------------- */

/* The deletions of an acknowledgement up to `upto`, inside a transaction. */
static int write_ack(om_outbox *ob, int64_t upto, size_t *deleted)
{
    int64_t acked;
    if (ob_meta_get(ob, "acked_upto", &acked) < 0)
        return -1;
    sqlite3_stmt *st = ob_stmt(ob, OB_ACK_DELETE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, upto);
    if (ob_exec(ob, st) < 0)
        return -1;
    *deleted = (size_t)sqlite3_changes(ob->db);
    if ((st = ob_stmt(ob, OB_RANGES_PRUNE)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, upto);
    if (ob_exec(ob, st) < 0 || (st = ob_stmt(ob, OB_RANGES_TRIM)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, upto);
    if (ob_exec(ob, st) < 0)
        return -1;
    if (upto > acked && ob_meta_set(ob, "acked_upto", upto) < 0)
        return -1;
    return ob_meta_add(ob, "acked", (int64_t)*deleted);
}

/* next_seq, acked_upto and the polls held in (acked, upto], read together. */
static int read_ack_facts(om_outbox *ob, int64_t upto, int64_t *next_seq, int64_t *acked,
                          int64_t *held)
{
    if (ob_exec(ob, ob_stmt(ob, OB_BEGIN_READ)) < 0)
        return -1;
    int rc = -1;
    if (ob_meta_get(ob, "next_seq", next_seq) < 0 || ob_meta_get(ob, "acked_upto", acked) < 0)
        goto done;
    if (ob->pending_ack > *acked)
        *acked = ob->pending_ack;
    *held = 0;
    if (upto > *acked && upto < *next_seq) {
        sqlite3_stmt *st = ob_stmt(ob, OB_COUNT_BETWEEN);
        if (st == NULL)
            goto done;
        sqlite3_bind_int64(st, 1, *acked);
        sqlite3_bind_int64(st, 2, upto);
        if (ob_query_int(ob, st, 0, held) < 0)
            goto done;
    }
    rc = 0;
done:
    sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int om_outbox_ack(om_outbox *ob, const char *epoch, int64_t upto, size_t *deleted)
{
    int64_t next_seq, acked, held;
    if (deleted != NULL)
        *deleted = 0;
    /* An ack for an earlier epoch (the outbox was replaced) is about polls
     * this file never held. */
    if (epoch == NULL || strcmp(epoch, ob->epoch) != 0 || upto <= 0)
        return 0;
    pthread_mutex_lock(&ob->lock);
    if (read_ack_facts(ob, upto, &next_seq, &acked, &held) < 0) {
        pthread_mutex_unlock(&ob->lock);
        return -1;
    }
    if (upto >= next_seq) {
        pthread_mutex_unlock(&ob->lock);
        return ob_fail(ob, false,
                       "acknowledgement up to seq %" PRId64 " of epoch %s, but the last seq "
                       "issued is %" PRId64 "; ignored",
                       upto, ob->epoch, next_seq - 1);
    }
    /* The deletions go with the next write transaction (usually the next
     * poll cycle's append, one commit for both); every read leaves the
     * polls out from now on. A late, older ack changes nothing. */
    if (upto > acked)
        ob->pending_ack = upto;
    pthread_mutex_unlock(&ob->lock);
    if (deleted != NULL)
        *deleted = (size_t)held;
    return 0;
}

/* Writes a pending acknowledgement now, in a transaction of its own, for
 * readers that must see it (depth, counters) and before closing. */
static int flush_ack(om_outbox *ob)
{
    if (ob->pending_ack == 0)
        return 0;
    if (ob_begin_light(ob) < 0)
        return -1;
    return ob_commit(ob);
}

int om_outbox_mark_unsent(om_outbox *ob, size_t *count)
{
    pthread_mutex_lock(&ob->lock);
    ob_quiet_clear(ob);
    int rc = ob_exec(ob, ob_stmt(ob, OB_UNSEND_ALL));
    if (rc == 0 && count != NULL)
        *count = (size_t)sqlite3_changes(ob->db);
    pthread_mutex_unlock(&ob->lock);
    return rc;
}

int om_outbox_depth(om_outbox *ob, om_outbox_depth_info *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&ob->lock);
    int rc = -1;
    int64_t used;
    if (flush_ack(ob) < 0)
        goto done;
    sqlite3_stmt *st = ob_stmt(ob, OB_DEPTH);
    if (st == NULL)
        goto done;
    /* One read transaction, so the figures agree with each other. */
    if (exec_sql(ob, "BEGIN") < 0)
        goto done;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->polls = (uint64_t)sqlite3_column_int64(st, 0);
        out->unsent = (uint64_t)sqlite3_column_int64(st, 1);
        out->oldest_t_ms = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (ob_meta_get(ob, "next_seq", &out->next_seq) == 0 &&
        ob_meta_get(ob, "acked_upto", &out->acked_upto) == 0 && ob_used_bytes(ob, &used) == 0) {
        out->used_bytes = (uint64_t)used;
        rc = 0;
    }
    sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
done:
    pthread_mutex_unlock(&ob->lock);
    return rc;
}

int om_outbox_stats(om_outbox *ob, om_outbox_stats_info *out)
{
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        {"appended", offsetof(om_outbox_stats_info, appended)},
        {"acked", offsetof(om_outbox_stats_info, acked)},
        {"resent", offsetof(om_outbox_stats_info, resent)},
        {"instant_values_dropped", offsetof(om_outbox_stats_info, instant_values_dropped)},
        {"instant_polls_dropped", offsetof(om_outbox_stats_info, instant_polls_dropped)},
        {"counter_polls_thinned", offsetof(om_outbox_stats_info, counter_polls_thinned)},
    };
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&ob->lock);
    int rc = flush_ack(ob);
    for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++) {
        int64_t v = 0;
        rc = ob_meta_get(ob, fields[i].key, &v);
        *(uint64_t *)((char *)out + fields[i].offset) = (uint64_t)v;
    }
    pthread_mutex_unlock(&ob->lock);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - the SQLite backend (store_ops.h): opening, schema versions,
 * group commit. Its writer is store_write.c, its readers store_read.c, its
 * rollup tables store_rollup.c; the table of its functions is at the end.
 *
 * Durability. The database is in WAL mode with synchronous=FULL: every
 * COMMIT appends the group to the write-ahead log and fsyncs it before
 * returning, so a group that om_store_commit reported committed survives a
 * power cut, not only a crash of the process (with NORMAL, the last commits
 * before a power cut may roll back, and their acknowledgements would have
 * told gateways to delete polls we no longer have). The cost is one fsync
 * per group, and a group is many messages (commit_interval_ms), so it is a
 * few fsyncs per second whatever the message rate. SQLite fsyncs the
 * folder when it creates the WAL, and checkpoints fsync the database before
 * the WAL is reused.
 *
 * Checkpoints: SQLite's automatic checkpoint after a commit that leaves the
 * WAL above 4096 pages (16 MiB), plus om_store_checkpoint when the daemon is
 * idle; the WAL file is truncated back to 64 MiB at most. Readers (the CLI)
 * never block the writer; a long read only delays the checkpoint.
 *
 * Opening reads first: whether the file is ours (om_sql_check_owner) and
 * its version, so that another application's database, or a newer one, is
 * refused exactly as it was found; only then is it switched to WAL and
 * migrated.
 *
 * Schema versions: PRAGMA user_version is the number of migrations applied.
 * migrations[i] takes a database from version i to i + 1, in one
 * transaction. A database newer than OM_STORE_SCHEMA_VERSION is refused
 * with both numbers; the schema itself is documented in docs/aggregator.md.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "store_private.h"
#include "officemeter/sql/sql.h"

#define BUSY_TIMEOUT_MS 5000

static const char *const migrations[OM_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE quantities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL, unit TEXT NOT NULL);"
    "CREATE TABLE meters(id INTEGER PRIMARY KEY, site TEXT NOT NULL, meter TEXT NOT NULL,"
    "  first_t INTEGER, last_t INTEGER, last_received INTEGER, UNIQUE(site, meter));"
    "CREATE TABLE readings(meter INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    "  t INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY(meter, quantity, t)) WITHOUT ROWID;"
    "CREATE TABLE conflicts(meter INTEGER NOT NULL, quantity INTEGER NOT NULL, t INTEGER NOT NULL,"
    "  stored REAL NOT NULL, offered REAL NOT NULL, gateway TEXT NOT NULL, epoch TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, first_received INTEGER NOT NULL, last_received INTEGER NOT NULL,"
    "  times INTEGER NOT NULL DEFAULT 1, PRIMARY KEY(meter, quantity, t, offered)) WITHOUT ROWID;"
    "CREATE TABLE gateways(id INTEGER PRIMARY KEY, site TEXT NOT NULL, gateway TEXT NOT NULL,"
    "  state TEXT, state_t INTEGER, last_seen INTEGER, health_t INTEGER, outbox_depth INTEGER,"
    "  errors INTEGER, health TEXT, UNIQUE(site, gateway));"
    "CREATE TABLE epochs(gateway INTEGER NOT NULL, epoch TEXT NOT NULL, upto INTEGER NOT NULL,"
    "  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  PRIMARY KEY(gateway, epoch)) WITHOUT ROWID;"
    "CREATE TABLE epoch_ranges(gateway INTEGER NOT NULL, epoch TEXT NOT NULL,"
    "  first INTEGER NOT NULL, last INTEGER NOT NULL,"
    "  PRIMARY KEY(gateway, epoch, first)) WITHOUT ROWID;"
    "CREATE TABLE rejects(id INTEGER PRIMARY KEY, received INTEGER NOT NULL, topic TEXT NOT NULL,"
    "  site TEXT, gateway TEXT, code TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER,"
    "  meter TEXT, payload BLOB, payload_bytes INTEGER NOT NULL);"
    "CREATE TABLE reject_counts(site TEXT NOT NULL, gateway TEXT NOT NULL, code TEXT NOT NULL,"
    "  count INTEGER NOT NULL, last_received INTEGER NOT NULL,"
    "  PRIMARY KEY(site, gateway, code)) WITHOUT ROWID;"
    "CREATE TABLE quarantine(id INTEGER PRIMARY KEY, received INTEGER NOT NULL,"
    "  site TEXT NOT NULL, gateway TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  meter TEXT, t INTEGER, code TEXT NOT NULL, reason TEXT NOT NULL, poll TEXT NOT NULL,"
    "  UNIQUE(site, gateway, epoch, seq));"
    "CREATE TABLE thinned(gateway INTEGER NOT NULL, epoch TEXT NOT NULL, first INTEGER NOT NULL,"
    "  last INTEGER NOT NULL, received INTEGER NOT NULL,"
    "  PRIMARY KEY(gateway, epoch, first, last)) WITHOUT ROWID;",
    /* 1 -> 2: seqs given up as lost (a gap that newer polls kept passing). */
    "CREATE TABLE lost_seqs(gateway INTEGER NOT NULL, epoch TEXT NOT NULL, first INTEGER NOT NULL,"
    "  last INTEGER NOT NULL, waited_s INTEGER NOT NULL, recorded INTEGER NOT NULL,"
    "  PRIMARY KEY(gateway, epoch, first)) WITHOUT ROWID;",
};

static const char *const sql[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_METER_GET] = "SELECT id, coalesce(first_t, 0), coalesce(last_t, 0), "
                    "coalesce(last_received, 0) FROM meters WHERE site = ?1 AND meter = ?2",
    [S_METER_INSERT] = "INSERT INTO meters(site, meter) VALUES (?1, ?2)",
    [S_METER_UPDATE] = "UPDATE meters SET first_t = ?2, last_t = ?3, last_received = ?4 "
                       "WHERE id = ?1",
    [S_READING_INSERT] = "INSERT INTO readings(meter, quantity, t, value) VALUES (?1, ?2, ?3, ?4) "
                         "ON CONFLICT DO NOTHING",
    [S_READING_GET] = "SELECT value FROM readings WHERE meter = ?1 AND quantity = ?2 AND t = ?3",
    [S_CONFLICT_ADD] = "INSERT INTO conflicts(meter, quantity, t, stored, offered, gateway, epoch, "
                       "seq, first_received, last_received) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
                       "ON CONFLICT(meter, quantity, t, offered) DO UPDATE SET "
                       "times = times + 1, last_received = excluded.last_received",
    [S_GW_GET] = "SELECT id, coalesce(last_seen, 0) FROM gateways WHERE site = ?1 AND gateway = ?2",
    [S_GW_INSERT] = "INSERT INTO gateways(site, gateway) VALUES (?1, ?2)",
    [S_GW_SEEN] = "UPDATE gateways SET last_seen = max(coalesce(last_seen, 0), ?2) WHERE id = ?1",
    [S_GW_STATE] = "UPDATE gateways SET state = ?2, state_t = ?3 WHERE id = ?1",
    [S_GW_HEALTH] = "UPDATE gateways SET health_t = ?2, outbox_depth = ?3, errors = ?4, "
                    "health = ?5 WHERE id = ?1",
    [S_EPOCH_GET] = "SELECT upto, first_seen, last_seen FROM epochs "
                    "WHERE gateway = ?1 AND epoch = ?2",
    [S_EPOCH_RANGES] = "SELECT first, last FROM epoch_ranges WHERE gateway = ?1 AND epoch = ?2 "
                       "ORDER BY first",
    [S_EPOCH_PUT] = "INSERT INTO epochs(gateway, epoch, upto, first_seen, last_seen) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(gateway, epoch) DO UPDATE SET "
                    "upto = excluded.upto, last_seen = excluded.last_seen",
    [S_EPOCH_RANGE_PUT] = "INSERT INTO epoch_ranges(gateway, epoch, first, last) "
                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(gateway, epoch, first) "
                          "DO UPDATE SET last = excluded.last",
    [S_EPOCH_RANGE_DEL] = "DELETE FROM epoch_ranges WHERE gateway = ?1 AND epoch = ?2 "
                          "AND first = ?3",
    [S_QUAR_ADD] = "INSERT INTO quarantine(received, site, gateway, epoch, seq, meter, t, code, "
                   "reason, poll) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                   "ON CONFLICT(site, gateway, epoch, seq) DO NOTHING",
    [S_QUAR_DEL] = "DELETE FROM quarantine WHERE id = ?1",
    [S_QUAR_UPDATE] = "UPDATE quarantine SET code = ?2, reason = ?3 WHERE id = ?1",
    [S_REJECT_ADD] = "INSERT INTO rejects(received, topic, site, gateway, code, reason, seq, "
                     "meter, payload, payload_bytes) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_REJECT_COUNT] = "INSERT INTO reject_counts(site, gateway, code, count, last_received) "
                       "VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT(site, gateway, code) DO UPDATE "
                       "SET count = count + 1, last_received = excluded.last_received",
    [S_LOST_ADD] = "INSERT OR REPLACE INTO lost_seqs(gateway, epoch, first, last, waited_s, recorded) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_THINNED_ADD] = "INSERT INTO thinned(gateway, epoch, first, last, received) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [S_REJECT_PRUNE] = "DELETE FROM rejects WHERE id <= (SELECT max(id) FROM rejects) - ?1",
};

/* ---- errors --------------------------------------------------------------- */

/* Result codes that say the database cannot be written now, whatever is
 * written: the disk, the file system or a lock, not the data. */
static bool unavailable_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return true;
    default:
        return false;
    }
}

int store_fail(om_store *st, const char *what)
{
    snprintf(st->err, sizeof st->err, "%s: %s: %s", st->path, what,
             st->db ? sqlite3_errmsg(st->db) : "cannot open");
    st->unavailable = !st->db || unavailable_code(sqlite3_extended_errcode(st->db));
    return -1;
}

int store_failf(om_store *st, const char *fmt, ...)
{
    st->unavailable = false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(st->err, sizeof st->err, "%s: %s", st->path, msg);
    return -1;
}

void store_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
}

sqlite3_stmt *store_stmt(om_store *st, int which)
{
    sqlite3_stmt *s = st->stmt[which];
    sqlite3_reset(s);
    return s;
}

/* ---- opening --------------------------------------------------------------- */

static int exec(om_store *st, const char *text, const char *what)
{
    char msg[512];
    if (om_sql_exec(st->db, text, what, msg, sizeof msg) == 0)
        return 0;
    return store_failf(st, "%s", msg);
}

static int query_int(om_store *st, const char *text, int64_t *out)
{
    return om_sql_int(st->db, text, out) == 0 ? 0 : store_fail(st, text);
}

/* Tables of every schema version (those of migration 0 -> 1). */
static const char *const owned_tables[] = {
    "quantities", "meters", "readings", "conflicts", "gateways", "epochs", "epoch_ranges",
    "rejects", "reject_counts", "quarantine", "thinned", NULL};

/* Reads, without changing anything, whether the file is a database of ours
 * and which version: a foreign file must be refused before configure()
 * switches it to WAL (which rewrites its header). */
static int check_owner(om_store *st, int64_t *version)
{
    char msg[512];
    if (om_sql_check_owner(st->db, owned_tables, version, msg, sizeof msg) < 0)
        return store_failf(st, "%s", msg);
    if (*version > OM_STORE_SCHEMA_VERSION)
        return store_failf(st,
                           "database schema version %lld is newer than this program (%d); "
                           "upgrade officemeter",
                           (long long)*version, OM_STORE_SCHEMA_VERSION);
    return 0;
}

/* Brings the schema from `version` to OM_STORE_SCHEMA_VERSION, or explains
 * why not. */
static int migrate(om_store *st, int64_t version)
{
    if (version == OM_STORE_SCHEMA_VERSION)
        return 0;
    if (st->readonly)
        return store_failf(st,
                           "database schema version %lld is older than this program (%d); "
                           "start officemeter-aggregator once to bring it forward",
                           (long long)version, OM_STORE_SCHEMA_VERSION);
    if (exec(st, "BEGIN IMMEDIATE", "migration") < 0)
        return -1;
    /* Another process may have migrated between our read and the lock. */
    if (query_int(st, "PRAGMA user_version", &version) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (int64_t v = version; v < OM_STORE_SCHEMA_VERSION; v++) {
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %lld", (long long)(v + 1));
        if (exec(st, migrations[v], "migration") < 0 || exec(st, set, "migration") < 0) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return exec(st, "COMMIT", "migration");
}

/* Quantity ids live in the database, so that enum order in quantity.c can
 * change without renumbering stored readings. */
static int load_quantities(om_store *st)
{
    if (!st->readonly) {
        sqlite3_stmt *ins;
        if (sqlite3_prepare_v2(st->db,
                               "INSERT OR IGNORE INTO quantities(name, kind, unit) "
                               "VALUES (?1, ?2, ?3)", -1, &ins, NULL) != SQLITE_OK)
            return store_fail(st, "quantities");
        for (int q = 0; q < OM_Q__COUNT; q++) {
            const om_quantity_info *qi = om_quantity_get((om_quantity)q);
            sqlite3_bind_text(ins, 1, qi->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, qi->kind == OM_KIND_COUNTER ? "counter" : "instant", -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, qi->unit, -1, SQLITE_STATIC);
            int rc = sqlite3_step(ins);
            sqlite3_reset(ins);
            if (rc != SQLITE_DONE) {
                sqlite3_finalize(ins);
                return store_fail(st, "quantities");
            }
        }
        sqlite3_finalize(ins);
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT id, name FROM quantities", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "quantities");
    while (sqlite3_step(s) == SQLITE_ROW) {
        om_quantity q;
        if (om_quantity_from_name((const char *)sqlite3_column_text(s, 1), &q) == 0)
            st->qid[q] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return 0;
}

static int configure(om_store *st)
{
    if (st->readonly)
        return 0;
    int64_t ignored;
    if (query_int(st, "PRAGMA journal_mode = WAL", &ignored) < 0)
        return -1;
    return exec(st,
                "PRAGMA synchronous = FULL;"
                "PRAGMA wal_autocheckpoint = 4096;"
                "PRAGMA journal_size_limit = 67108864;"
                "PRAGMA cache_size = -65536;"
                "PRAGMA temp_store = MEMORY;",
                "settings");
}

static int prepare_writer(om_store *st)
{
    size_t failed;
    if (om_sql_prepare_all(st->db, sql, S__COUNT, st->stmt, &failed) < 0)
        return store_fail(st, sql[failed]);
    return 0;
}

int store_sqlite_open(om_store *st, unsigned flags)
{
    const char *path = st->path;
    struct stat sb;
    int oflags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if ((flags & OM_STORE_CREATE) && !st->readonly)
        oflags |= SQLITE_OPEN_CREATE;
    if (!(oflags & SQLITE_OPEN_CREATE) && stat(path, &sb) < 0)
        return store_failf(st, "no such database (has officemeter-aggregator run with it?)");
    if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return store_fail(st, "cannot open");
    int64_t version = 0;
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    if (check_owner(st, &version) < 0 || configure(st) < 0 || migrate(st, version) < 0 ||
        load_quantities(st) < 0 || (!st->readonly && prepare_writer(st) < 0) ||
        store_hours_open(st) < 0)
        return -1;
    return 0;
}

static void sqlite_close(om_store *st)
{
    if (st->in_group)
        sqlite_rollback(st);
    store_drop_caches(st);
    store_hours_free(st);
    free(st->dirty);
    free(st->dirty_kind);
    om_sql_finalize_all(st->stmt, S__COUNT);
    sqlite3_close(st->db);
    st->db = NULL;
}

/* ---- groups --------------------------------------------------------------- */

static int step_done(om_store *st, int which, const char *what)
{
    sqlite3_stmt *s = store_stmt(st, which);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, what);
}

static int sqlite_begin(om_store *st)
{
    if (st->readonly)
        return store_failf(st, "opened read-only");
    if (st->in_group)
        return 0;
    if (step_done(st, S_BEGIN, "begin") < 0)
        return -1;
    st->in_group = true;
    st->rejects_added = false;
    return 0;
}

static int sqlite_commit(om_store *st)
{
    if (!st->in_group)
        return 0;
    if (store_flush_dirty(st) < 0 || store_hours_flush(st) < 0)
        return -1;
    if (st->rejects_added) {
        sqlite3_stmt *s = store_stmt(st, S_REJECT_PRUNE);
        sqlite3_bind_int64(s, 1, (sqlite3_int64)st->rejects_keep);
        int rc = sqlite3_step(s);
        store_done(s);
        if (rc != SQLITE_DONE)
            return store_fail(st, "pruning rejects");
    }
    if (step_done(st, S_COMMIT, "commit") < 0)
        return -1;
    st->in_group = false;
    return 0;
}

void sqlite_rollback(om_store *st)
{
    if (st->in_group && !sqlite3_get_autocommit(st->db))
        step_done(st, S_ROLLBACK, "rollback");
    st->in_group = false;
    store_drop_caches(st);
}

static int sqlite_checkpoint(om_store *st)
{
    if (st->in_group)
        return 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail(st, "checkpoint");
}

static int64_t sqlite_disk_free(const om_store *st)
{
    /* The folder, not the file: the write-ahead log is created beside it. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", st->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct statvfs vfs;
    if (statvfs(dir, &vfs) < 0)
        return -1;
    return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}

static int sqlite_checkpoint_truncate(om_store *st)
{
    if (st->in_group || st->readonly)
        return 0;
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK)
        return store_fail(st, "checkpoint");
    return 0;
}

/* ---- reads ---------------------------------------------------------------- */

static int sqlite_read_begin(om_store *st)
{
    if (st->in_group || st->in_read)
        return 0;
    /* BEGIN is deferred: the snapshot is taken by the first SELECT, and
     * kept until om_store_read_end, so every query sees the same state. */
    if (exec(st, "BEGIN", "read transaction") < 0)
        return -1;
    st->in_read = true;
    return 0;
}

void sqlite_read_end(om_store *st)
{
    if (st->in_read)
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    st->in_read = false;
}

/* ---- the backend's table (store_ops.h) --------------------------------------- */

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .checkpoint = sqlite_checkpoint,
    .checkpoint_truncate = sqlite_checkpoint_truncate,
    .disk_free = sqlite_disk_free,
    .put_poll = sqlite_put_poll,
    .seq_done = sqlite_seq_done,
    .seq_skipped = sqlite_seq_skipped,
    .seq_close_gap = sqlite_seq_close_gap,
    .seq_upto = sqlite_seq_upto,
    .quarantine = sqlite_quarantine,
    .reject_add = sqlite_reject_add,
    .gateway_seen = sqlite_gateway_seen,
    .gateway_state = sqlite_gateway_state,
    .gateway_health = sqlite_gateway_health,
    .quarantine_remove = sqlite_quarantine_remove,
    .quarantine_update = sqlite_quarantine_update,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .gateways = sqlite_gateways,
    .meters = sqlite_meters,
    .rejects = sqlite_rejects,
    .reject_counts = sqlite_reject_counts,
    .quarantined = sqlite_quarantined,
    .totals_get = sqlite_totals_get,
    .gateway_health_json = sqlite_gateway_health_json,
    .readings = sqlite_readings,
    .rollup_open = sqlite_rollup_open,
    .rollup_close = sqlite_rollup_close,
    .rollup_source = sqlite_rollup_source,
    .rollup_state = sqlite_rollup_state,
    .rollup_save = sqlite_rollup_save,
    .rollup_load_year = sqlite_rollup_load_year,
    .rollup_thin = sqlite_rollup_thin,
    .rollup_thinned = sqlite_rollup_thinned,
    .hours = sqlite_hours,
    .buckets = sqlite_buckets,
    .reading_counts = sqlite_reading_counts,
    .totals_quick = sqlite_totals_quick,
    .has_hours = sqlite_has_hours,
    .hours_rebuild = store_hours_rebuild,
    .approval_latest = sqlite_approval_latest,
    .approval_add = sqlite_approval_add,
    .approval_create = sqlite_approval_create,
    .raw_select = sqlite_raw_select,
    .raw_insert = sqlite_raw_insert,
    .raw_progress = sqlite_raw_progress,
    .raw_finish = sqlite_raw_finish,
    .raw_has = sqlite_raw_has,
};

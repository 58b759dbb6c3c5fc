/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_retain.c - retention's bookkeeping in a SQLite database (rollupdb.h,
 * "retention"): readings dropped, counted per 15-minute bucket, and the
 * periods thinned per site.
 *
 * The tables belong with the rollups (they feed a rollup's `readings`) and
 * are created with them, by a writer, when missing (CREATE TABLE IF NOT
 * EXISTS: older databases gain them on first use). A reader of a database
 * that never had them counts nothing dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/report/retention.h"
#include "officemeter/sql/sql.h"
#include "store_private.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS retained_counts(meter INTEGER NOT NULL,"
    "  quantity INTEGER NOT NULL, bucket INTEGER NOT NULL, dropped INTEGER NOT NULL,"
    "  PRIMARY KEY(meter, quantity, bucket)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS retained_months(site TEXT NOT NULL, start INTEGER NOT NULL,"
    "  end INTEGER NOT NULL, kept INTEGER NOT NULL, dropped INTEGER NOT NULL,"
    "  at INTEGER NOT NULL, PRIMARY KEY(site, start)) WITHOUT ROWID;";

typedef struct {
    sqlite3_stmt *count; /* NULL: the tables are not there (a reader's old database) */
} retain_sqlite;

int sqlite_retain_open(om_rollupdb *db)
{
    om_store *st = db->st;
    retain_sqlite *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", st->path);
        return -1;
    }
    db->retain = r;
    char msg[512];
    if (!st->readonly && om_sql_exec(st->db, schema_sql, "retention tables", msg, sizeof msg) < 0) {
        snprintf(db->err, sizeof db->err, "%s: %s", st->path, msg);
        return -1;
    }
    if (sqlite3_prepare_v2(st->db,
                           "SELECT coalesce(sum(c.dropped), 0) FROM retained_counts c "
                           "JOIN meters m ON m.id = c.meter WHERE m.site = ?1 AND m.meter = ?2 "
                           "AND c.quantity = ?3 AND c.bucket >= ?4 AND c.bucket < ?5",
                           -1, &r->count, NULL) != SQLITE_OK)
        r->count = NULL; /* no such table: nothing was ever dropped */
    return 0;
}

void sqlite_retain_close(om_rollupdb *db)
{
    retain_sqlite *r = db->retain;
    if (r)
        sqlite3_finalize(r->count);
    free(r);
    db->retain = NULL;
}

int sqlite_rollup_dropped(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                          int64_t a, int64_t b, uint64_t *n)
{
    om_rollupdb *db = user;
    retain_sqlite *r = db->retain;
    *n = 0;
    if (!r->count)
        return 0;
    sqlite3_reset(r->count);
    sqlite3_bind_text(r->count, 1, site->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(r->count, 2, meter->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->count, 3, db->st->qid[q]);
    sqlite3_bind_int64(r->count, 4, a);
    sqlite3_bind_int64(r->count, 5, b);
    int rc = sqlite3_step(r->count);
    if (rc == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(r->count, 0);
    sqlite3_reset(r->count);
    if (rc != SQLITE_ROW) {
        snprintf(db->err, sizeof db->err, "%s: readings dropped by retention: %s", db->st->path,
                 sqlite3_errmsg(db->st->db));
        return -1;
    }
    return 0;
}

static int step(om_rollupdb *db, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    snprintf(db->err, sizeof db->err, "%s: %s: %s", db->st->path, what,
             sqlite3_errmsg(db->st->db));
    return -1;
}

/* One series: its readings dropped, a counter's counted per bucket. */
static int thin_series(om_rollupdb *db, int64_t meter, const om_retain_series *s,
                       sqlite3_stmt *del, sqlite3_stmt *add, uint64_t *dropped)
{
    int64_t qid = db->st->qid[s->quantity];
    int64_t bucket = 0, in_bucket = 0;
    for (size_t i = 0; i <= s->ndrop; i++) {
        int64_t b = i < s->ndrop ? s->drop[i] - s->drop[i] % OM_RETAIN_BUCKET_MS : -1;
        if (s->counter && in_bucket && b != bucket) {
            sqlite3_bind_int64(add, 1, meter);
            sqlite3_bind_int64(add, 2, qid);
            sqlite3_bind_int64(add, 3, bucket);
            sqlite3_bind_int64(add, 4, in_bucket);
            if (step(db, add, "counting dropped readings") < 0)
                return -1;
            in_bucket = 0;
        }
        if (i == s->ndrop)
            break;
        bucket = b;
        in_bucket++;
        sqlite3_bind_int64(del, 1, meter);
        sqlite3_bind_int64(del, 2, qid);
        sqlite3_bind_int64(del, 3, s->drop[i]);
        if (step(db, del, "dropping readings") < 0)
            return -1;
        *dropped += (uint64_t)sqlite3_changes(db->st->db);
    }
    return 0;
}

/* The stored digests of the meter-months whose readings the thinning
 * changes (om_retain_digest). */
static int set_digests(om_rollupdb *db, const char *site, const om_retain_digest *d, size_t n,
                       sqlite3_stmt *s)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, d[i].year);
        sqlite3_bind_int(s, 3, (int)d[i].month);
        sqlite3_bind_text(s, 4, d[i].meter, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, om_quantity_get(d[i].quantity)->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, d[i].sha256, -1, SQLITE_STATIC);
        if (step(db, s, "refreshing a readings digest") < 0)
            return -1;
    }
    return 0;
}

static int thin_all(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                    const om_retain_series *series, size_t nseries, uint64_t kept, int64_t at,
                    sqlite3_stmt *const *s)
{
    uint64_t dropped = 0;
    for (size_t i = 0; i < nseries; i++) {
        sqlite3_reset(s[0]);
        sqlite3_bind_text(s[0], 1, site, -1, SQLITE_STATIC);
        sqlite3_bind_text(s[0], 2, series[i].meter, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s[0]);
        int64_t meter = rc == SQLITE_ROW ? sqlite3_column_int64(s[0], 0) : 0;
        sqlite3_reset(s[0]);
        if (meter && thin_series(db, meter, &series[i], s[1], s[2], &dropped) < 0)
            return -1;
    }
    sqlite3_bind_text(s[3], 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s[3], 2, from);
    sqlite3_bind_int64(s[3], 3, to);
    sqlite3_bind_int64(s[3], 4, (sqlite3_int64)kept);
    sqlite3_bind_int64(s[3], 5, (sqlite3_int64)dropped);
    sqlite3_bind_int64(s[3], 6, at);
    return step(db, s[3], "recording the thinned period");
}

int sqlite_rollup_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                       const om_retain_series *series, size_t nseries,
                       const om_retain_digest *digests, size_t ndigests, uint64_t kept,
                       int64_t at)
{
    static const char *const text[] = {
        "SELECT id FROM meters WHERE site = ?1 AND meter = ?2",
        "DELETE FROM readings WHERE meter = ?1 AND quantity = ?2 AND t = ?3",
        "INSERT INTO retained_counts(meter, quantity, bucket, dropped) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(meter, quantity, bucket) DO UPDATE SET dropped = dropped + excluded.dropped",
        "INSERT OR REPLACE INTO retained_months(site, start, end, kept, dropped, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        "UPDATE rollup_meters SET readings_sha256 = ?6 WHERE site = ?1 AND year = ?2 "
        "AND month = ?3 AND meter = ?4 AND quantity = ?5",
    };
    sqlite3_stmt *s[5] = {0};
    size_t failed;
    om_store *st = db->st;
    om_store_read_end(st);
    if (om_sql_prepare_all(st->db, text, 5, s, &failed) < 0) {
        snprintf(db->err, sizeof db->err, "%s: %s", st->path, sqlite3_errmsg(st->db));
        om_sql_finalize_all(s, 5);
        return -1;
    }
    int rc = -1;
    if (om_store_begin(st) < 0) {
        snprintf(db->err, sizeof db->err, "%s", om_store_errmsg(st));
    } else if (thin_all(db, site, from, to, series, nseries, kept, at, s) < 0 ||
               set_digests(db, site, digests, ndigests, s[4]) < 0) {
        om_store_rollback(st);
    } else if (om_store_commit(st) < 0) {
        snprintf(db->err, sizeof db->err, "%s", om_store_errmsg(st));
        om_store_rollback(st);
    } else {
        rc = 0;
    }
    om_sql_finalize_all(s, 5);
    return rc;
}

int sqlite_rollup_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done)
{
    *done = false;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->st->db, "SELECT count(*) FROM retained_months WHERE site = ?1 "
                                       "AND start = ?2", -1, &s, NULL) != SQLITE_OK)
        return 0; /* no table: nothing was thinned */
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from);
    int rc = sqlite3_step(s);
    *done = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    snprintf(db->err, sizeof db->err, "%s: %s", db->st->path, sqlite3_errmsg(db->st->db));
    return -1;
}

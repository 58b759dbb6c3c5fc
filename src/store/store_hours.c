/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_hours.c - the hourly aggregates of hours.h: kept by the writer,
 * read by the web view.
 *
 * Writing. Every reading that om_store_put_poll stores as new is added to
 * an in-memory table keyed by (meter, quantity, hour); at commit, inside
 * the group's transaction and before COMMIT, each touched hour is merged
 * into meter_hours with one upsert (n and sum added, min and max kept,
 * first and last moved when the new ones are earlier or later), and each
 * touched (meter, quantity) adds its new readings to meter_counts. So the
 * cost is one upsert per meter, quantity and hour touched by a group, not
 * one per reading; a rollback forgets the table with the rest of the
 * caches. Duplicates and conflicts are not new readings and add nothing:
 * that, and the single transaction, is why a resend or a SIGKILL leaves
 * the aggregates equal to a recomputation from the readings.
 *
 * This file is the SQLite backend's side; the public functions of hours.h
 * dispatch through the table of functions (store_api.c), and the
 * PostgreSQL backend's side is store_pg_hours.c.
 *
 * Our tables carry their own version (hours_meta 'schema'), like the
 * rollup tables, so the store's migrations and ours never wait on each
 * other. A writer that finds them missing creates them and fills them from
 * the readings already stored, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/sql/sql.h"
#include "officemeter/store/hours.h"
#include "store_private.h"

#define HOURS_SCHEMA 1

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS hours_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meter_hours(meter INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    "  hour INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL,"
    "  max REAL NOT NULL, first_t INTEGER NOT NULL, first_v REAL NOT NULL,"
    "  last_t INTEGER NOT NULL, last_v REAL NOT NULL,"
    "  PRIMARY KEY(meter, quantity, hour)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meter_counts(meter INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    "  n INTEGER NOT NULL, PRIMARY KEY(meter, quantity)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO hours_meta(key, value) VALUES ('schema', 1);";

/* hour is the hour's number since the epoch (t / OM_HOUR_MS) in the table. */
static const char upsert_hour_sql[] =
    "INSERT INTO meter_hours(meter, quantity, hour, n, sum, min, max, first_t, first_v, last_t,"
    " last_v) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(meter, quantity, hour) DO UPDATE SET n = n + excluded.n,"
    " sum = sum + excluded.sum, min = min(min, excluded.min), max = max(max, excluded.max),"
    " first_v = CASE WHEN excluded.first_t < first_t THEN excluded.first_v ELSE first_v END,"
    " first_t = min(first_t, excluded.first_t),"
    " last_v = CASE WHEN excluded.last_t > last_t THEN excluded.last_v ELSE last_v END,"
    " last_t = max(last_t, excluded.last_t)";

static const char upsert_count_sql[] =
    "INSERT INTO meter_counts(meter, quantity, n) VALUES (?1, ?2, ?3)"
    " ON CONFLICT(meter, quantity) DO UPDATE SET n = n + excluded.n";

typedef struct {
    int64_t meter, qid, hour; /* hour: t / OM_HOUR_MS */
    uint32_t n;
    double sum, min, max;
    int64_t first_t, last_t;
    double first_v, last_v;
} pending_hour;

/* Open addressing over entries[] by index + 1 (0: empty slot). */
struct store_hours {
    pending_hour *entries;
    size_t n, cap;
    uint32_t *slots;
    size_t nslots; /* a power of two, at least twice n */
    sqlite3_stmt *upsert_hour, *upsert_count;
};

static uint64_t mix(int64_t meter, int64_t qid, int64_t hour)
{
    uint64_t h = (uint64_t)meter * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)qid + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= (uint64_t)hour * 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
    return h ^ (h >> 29);
}

static uint32_t *slot_of(struct store_hours *sh, int64_t meter, int64_t qid, int64_t hour)
{
    size_t mask = sh->nslots - 1;
    for (size_t i = mix(meter, qid, hour) & mask;; i = (i + 1) & mask) {
        uint32_t *s = &sh->slots[i];
        if (*s == 0)
            return s;
        const pending_hour *e = &sh->entries[*s - 1];
        if (e->meter == meter && e->qid == qid && e->hour == hour)
            return s;
    }
}

static int rehash(struct store_hours *sh)
{
    size_t nslots = sh->nslots ? sh->nslots * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    free(sh->slots);
    sh->slots = slots;
    sh->nslots = nslots;
    for (size_t i = 0; i < sh->n; i++) {
        const pending_hour *e = &sh->entries[i];
        *slot_of(sh, e->meter, e->qid, e->hour) = (uint32_t)(i + 1);
    }
    return 0;
}

static int hours_add(struct store_hours *sh, int64_t meter, int64_t qid, int64_t t, double v)
{
    if ((sh->n + 1) * 2 > sh->nslots && rehash(sh) < 0)
        return -1;
    int64_t hour = t / OM_HOUR_MS;
    uint32_t *s = slot_of(sh, meter, qid, hour);
    if (*s) {
        pending_hour *e = &sh->entries[*s - 1];
        e->n++;
        e->sum += v;
        if (v < e->min)
            e->min = v;
        if (v > e->max)
            e->max = v;
        if (t < e->first_t) {
            e->first_t = t;
            e->first_v = v;
        }
        if (t > e->last_t) {
            e->last_t = t;
            e->last_v = v;
        }
        return 0;
    }
    pending_hour *grown = om_grow(sh->entries, &sh->cap, sh->n, sizeof *grown);
    if (!grown)
        return -1;
    sh->entries = grown;
    sh->entries[sh->n] = (pending_hour){meter, qid, hour, 1, v, v, v, t, t, v, v};
    *s = (uint32_t)(++sh->n);
    return 0;
}

static void hours_forget(struct store_hours *sh)
{
    if (!sh || sh->n == 0)
        return;
    sh->n = 0;
    memset(sh->slots, 0, sh->nslots * sizeof *sh->slots);
}

/* ---- the writer's side (store_private.h) ---------------------------------- */

int store_hours_add(om_store *st, int64_t meter, int64_t qid, int64_t t, double v)
{
    if (!st->hours)
        return 0;
    return hours_add(st->hours, meter, qid, t, v) == 0 ? 0 : store_failf(st, "out of memory");
}

void store_hours_drop(om_store *st)
{
    hours_forget(st->hours);
}

static int cmp_pending(const void *a, const void *b)
{
    const pending_hour *x = a, *y = b;
    if (x->meter != y->meter)
        return x->meter < y->meter ? -1 : 1;
    if (x->qid != y->qid)
        return x->qid < y->qid ? -1 : 1;
    return x->hour < y->hour ? -1 : x->hour > y->hour;
}

static int put_hour(om_store *st, const pending_hour *e)
{
    sqlite3_stmt *s = st->hours->upsert_hour;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, e->meter);
    sqlite3_bind_int64(s, 2, e->qid);
    sqlite3_bind_int64(s, 3, e->hour);
    sqlite3_bind_int64(s, 4, e->n);
    sqlite3_bind_double(s, 5, e->sum);
    sqlite3_bind_double(s, 6, e->min);
    sqlite3_bind_double(s, 7, e->max);
    sqlite3_bind_int64(s, 8, e->first_t);
    sqlite3_bind_double(s, 9, e->first_v);
    sqlite3_bind_int64(s, 10, e->last_t);
    sqlite3_bind_double(s, 11, e->last_v);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "hourly aggregates");
}

static int put_count(om_store *st, int64_t meter, int64_t qid, int64_t n)
{
    sqlite3_stmt *s = st->hours->upsert_count;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, meter);
    sqlite3_bind_int64(s, 2, qid);
    sqlite3_bind_int64(s, 3, n);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "reading counts");
}

int store_hours_flush(om_store *st)
{
    struct store_hours *sh = st->hours;
    if (!sh || sh->n == 0)
        return 0;
    /* In key order: neighbouring b-tree pages, and one count per run. */
    qsort(sh->entries, sh->n, sizeof *sh->entries, cmp_pending);
    int64_t run = 0;
    for (size_t i = 0; i < sh->n; i++) {
        const pending_hour *e = &sh->entries[i];
        if (put_hour(st, e) < 0)
            return -1;
        run += e->n;
        bool last = i + 1 == sh->n || sh->entries[i + 1].meter != e->meter ||
                    sh->entries[i + 1].qid != e->qid;
        if (last) {
            if (put_count(st, e->meter, e->qid, run) < 0)
                return -1;
            run = 0;
        }
    }
    hours_forget(sh);
    return 0;
}

/* Fills new tables from the readings already stored (a database written
 * before the aggregates existed), in PRIMARY KEY order, flushing every
 * 100 000 hours to bound memory. Inside the caller's transaction. */
static int backfill(om_store *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT meter, quantity, t, value FROM readings", -1, &s,
                           NULL) != SQLITE_OK)
        return store_fail(st, "filling the hourly aggregates");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (store_hours_add(st, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                            sqlite3_column_int64(s, 2), sqlite3_column_double(s, 3)) < 0 ||
            (st->hours->n >= 100000 && store_hours_flush(st) < 0)) {
            sqlite3_finalize(s);
            return -1;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "filling the hourly aggregates");
    return store_hours_flush(st);
}

static bool table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static int check_version(om_store *st)
{
    int64_t version = 0;
    if (om_sql_int(st->db, "SELECT value FROM hours_meta WHERE key = 'schema'", &version) < 0)
        return store_fail(st, "hourly aggregates");
    if (version > HOURS_SCHEMA)
        return store_failf(st, "hourly aggregate tables are version %lld, newer than this "
                               "program (%d); upgrade officemeter", (long long)version,
                           HOURS_SCHEMA);
    return 0;
}

int store_hours_open(om_store *st)
{
    if (st->readonly)
        return table_exists(st->db, "hours_meta") ? check_version(st) : 0;
    st->hours = calloc(1, sizeof *st->hours);
    if (!st->hours)
        return store_failf(st, "out of memory");
    if (!table_exists(st->db, "hours_meta")) {
        char msg[512];
        if (om_sql_exec(st->db, "BEGIN IMMEDIATE", "hourly aggregates", msg, sizeof msg) < 0)
            return store_failf(st, "%s", msg);
        if (om_sql_exec(st->db, schema_sql, "creating the hourly aggregates", msg, sizeof msg) < 0) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return store_failf(st, "%s", msg);
        }
        if (sqlite3_prepare_v2(st->db, upsert_hour_sql, -1, &st->hours->upsert_hour, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(st->db, upsert_count_sql, -1, &st->hours->upsert_count, NULL) !=
                SQLITE_OK ||
            backfill(st) < 0) {
            if (!st->err[0])
                store_fail(st, "hourly aggregates");
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (om_sql_exec(st->db, "COMMIT", "hourly aggregates", msg, sizeof msg) < 0)
            return store_failf(st, "%s", msg);
        return 0;
    }
    if (check_version(st) < 0)
        return -1;
    if (sqlite3_prepare_v2(st->db, upsert_hour_sql, -1, &st->hours->upsert_hour, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(st->db, upsert_count_sql, -1, &st->hours->upsert_count, NULL) !=
            SQLITE_OK)
        return store_fail(st, "hourly aggregates");
    return 0;
}

int store_hours_rebuild(om_store *st)
{
    if (st->readonly || !st->hours)
        return 0;
    char msg[512];
    if (om_sql_exec(st->db, "BEGIN IMMEDIATE; DELETE FROM meter_hours; DELETE FROM meter_counts",
                    "rebuilding the hourly aggregates", msg, sizeof msg) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return store_failf(st, "%s", msg);
    }
    if (backfill(st) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        hours_forget(st->hours);
        return -1;
    }
    if (om_sql_exec(st->db, "COMMIT", "rebuilding the hourly aggregates", msg, sizeof msg) < 0)
        return store_failf(st, "%s", msg);
    return 0;
}

void store_hours_free(om_store *st)
{
    struct store_hours *sh = st->hours;
    if (!sh)
        return;
    sqlite3_finalize(sh->upsert_hour);
    sqlite3_finalize(sh->upsert_count);
    free(sh->entries);
    free(sh->slots);
    free(sh);
    st->hours = NULL;
}

/* ---- reading ------------------------------------------------------------------ */

bool sqlite_has_hours(om_store *st)
{
    return st->db && table_exists(st->db, "meter_hours");
}

static sqlite3_stmt *prepare(om_store *st, const char *text)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK) {
        store_fail(st, sqlite_has_hours(st) ? "query"
                                              : "no hourly aggregates in this database (start "
                                                "officemeter-aggregator of this version once)");
        return NULL;
    }
    return s;
}

/* Binds (site, meter, quantity) as ?1 ?2 ?3; false for an unknown quantity. */
static bool bind_series(om_store *st, sqlite3_stmt *s, const char *site, const char *meter,
                        om_quantity quantity)
{
    if ((int)quantity < 0 || quantity >= OM_Q__COUNT) {
        store_failf(st, "unknown quantity %d", (int)quantity);
        return false;
    }
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, meter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, st->qid[quantity]);
    return true;
}

/* Hour numbers covering [from_ms, to_ms): the hours that start inside. */
static int64_t first_hour(int64_t from_ms)
{
    return from_ms <= 0 ? 0 : (from_ms + OM_HOUR_MS - 1) / OM_HOUR_MS;
}

int sqlite_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
                   int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user)
{
    sqlite3_stmt *s = prepare(st, "SELECT h.hour, h.n, h.sum, h.min, h.max, h.first_t, "
                                  "h.first_v, h.last_t, h.last_v FROM meter_hours h "
                                  "JOIN meters m ON m.id = h.meter WHERE m.site = ?1 AND "
                                  "m.meter = ?2 AND h.quantity = ?3 AND h.hour >= ?4 AND "
                                  "h.hour < ?5 ORDER BY h.hour");
    if (!s)
        return -1;
    if (!bind_series(st, s, site, meter, quantity)) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_int64(s, 4, first_hour(from_ms));
    sqlite3_bind_int64(s, 5, first_hour(to_ms));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_hour h = {
            .hour = sqlite3_column_int64(s, 0) * OM_HOUR_MS,
            .n = (uint32_t)sqlite3_column_int64(s, 1),
            .sum = sqlite3_column_double(s, 2),
            .min = sqlite3_column_double(s, 3),
            .max = sqlite3_column_double(s, 4),
            .first_t = sqlite3_column_int64(s, 5),
            .first_v = sqlite3_column_double(s, 6),
            .last_t = sqlite3_column_int64(s, 7),
            .last_v = sqlite3_column_double(s, 8),
        };
        if (fn(&h, user) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "hourly aggregates");
}

int sqlite_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
                     int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn,
                     void *user)
{
    if (bucket_ms <= 0 || to_ms <= from_ms)
        return store_failf(st, "empty range or bucket");
    bool hourly = bucket_ms % OM_HOUR_MS == 0 && from_ms % OM_HOUR_MS == 0;
    /* ?4 from, ?5 to, ?6 bucket width. */
    sqlite3_stmt *s =
        hourly ? prepare(st, "SELECT (h.hour * 3600000 - ?4) / ?6 AS b, sum(h.n), min(h.min), "
                             "max(h.max), sum(h.sum), min(h.first_t), max(h.last_t) "
                             "FROM meter_hours h JOIN meters m ON m.id = h.meter "
                             "WHERE m.site = ?1 AND m.meter = ?2 AND h.quantity = ?3 AND "
                             "h.hour >= ?4 / 3600000 AND h.hour < (?5 + 3599999) / 3600000 "
                             "GROUP BY b ORDER BY b")
               : prepare(st, "SELECT (r.t - ?4) / ?6 AS b, count(*), min(r.value), "
                             "max(r.value), sum(r.value), min(r.t), max(r.t) "
                             "FROM readings r JOIN meters m ON m.id = r.meter "
                             "WHERE m.site = ?1 AND m.meter = ?2 AND r.quantity = ?3 AND "
                             "r.t >= ?4 AND r.t < ?5 GROUP BY b ORDER BY b");
    if (!s)
        return -1;
    if (!bind_series(st, s, site, meter, quantity)) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_int64(s, 4, from_ms);
    sqlite3_bind_int64(s, 5, to_ms);
    sqlite3_bind_int64(s, 6, bucket_ms);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_bucket b = {
            .t = from_ms + sqlite3_column_int64(s, 0) * bucket_ms,
            .n = (uint32_t)sqlite3_column_int64(s, 1),
            .min = sqlite3_column_double(s, 2),
            .max = sqlite3_column_double(s, 3),
            .first_t = sqlite3_column_int64(s, 5),
            .last_t = sqlite3_column_int64(s, 6),
        };
        b.mean = b.n ? sqlite3_column_double(s, 4) / b.n : 0;
        if (fn(&b, user) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "downsampled readings");
}

int sqlite_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s = prepare(st, "SELECT m.site, m.meter, q.name, c.n FROM meter_counts c "
                                  "JOIN meters m ON m.id = c.meter JOIN quantities q "
                                  "ON q.id = c.quantity ORDER BY m.site, m.meter, q.name");
    if (!s)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_quantity q;
        if (om_quantity_from_name((const char *)sqlite3_column_text(s, 2), &q) < 0)
            continue;
        om_store_reading_count *grown = om_grow(*rows, &cap, *n, sizeof *grown);
        if (!grown) {
            sqlite3_finalize(s);
            free(*rows);
            *rows = NULL;
            *n = 0;
            return store_failf(st, "out of memory");
        }
        *rows = grown;
        om_store_reading_count *r = &(*rows)[(*n)++];
        snprintf(r->site, sizeof r->site, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(r->meter, sizeof r->meter, "%s", (const char *)sqlite3_column_text(s, 1));
        r->quantity = q;
        r->readings = (uint64_t)sqlite3_column_int64(s, 3);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*rows);
        *rows = NULL;
        *n = 0;
        return store_fail(st, "reading counts");
    }
    return 0;
}

static int count_of(om_store *st, const char *text, uint64_t *out)
{
    int64_t v = 0;
    if (om_sql_int(st->db, text, &v) < 0)
        return store_fail(st, text);
    *out = (uint64_t)v;
    return 0;
}

int sqlite_totals_quick(om_store *st, om_store_quick_totals *out)
{
    memset(out, 0, sizeof *out);
    if ((sqlite_has_hours(st) &&
         count_of(st, "SELECT coalesce(sum(n), 0) FROM meter_counts", &out->readings) < 0) ||
        count_of(st, "SELECT count(*) FROM conflicts", &out->conflicts) < 0 ||
        count_of(st, "SELECT coalesce(sum(count), 0) FROM reject_counts", &out->rejects) < 0 ||
        count_of(st, "SELECT count(*) FROM quarantine", &out->quarantined) < 0)
        return -1;
    return 0;
}

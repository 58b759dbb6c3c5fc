/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_rollup.c - monthly rollups in the aggregator's SQLite database (the
 * SQLite side of rollupdb.h; the PostgreSQL side is store_pg_rollup.c).
 *
 * Reads go straight to the store's readings table through its primary key
 * (meter, quantity, t): the month's readings in order, plus the nearest
 * OM_ROLLUP_CONTEXT on each side however far away they are, so a boundary
 * inside a long gap still interpolates between real readings. That is the
 * only SQL here that knows the store's tables (readings, meters); the
 * store's own API has no "nearest readings" query, and a month costs three
 * index range scans this way.
 *
 * Our tables are versioned by rollup_meta('schema'); CREATE TABLE IF NOT
 * EXISTS makes the first use create them, and a later version will migrate
 * from the number found there.
 */
#include "officemeter/store/rollupdb.h"
#include "officemeter/sql/sql.h"
#include "officemeter/base/array.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/calendar.h"
#include "store_private.h"

/* Bumped whenever the method changes what a stored month would contain, so
 * that stored months are recomputed. */
#define ROLLUP_METHOD_VERSION 2

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS rollup_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_months(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    "  provisional INTEGER NOT NULL, computed_at INTEGER NOT NULL, fingerprint TEXT NOT NULL,"
    "  PRIMARY KEY(site, year, month)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_meters(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, meter TEXT NOT NULL, quantity TEXT NOT NULL,"
    "  utility TEXT NOT NULL, role TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    "  consumption REAL NOT NULL, estimated REAL NOT NULL, expected_ms INTEGER NOT NULL,"
    "  known_ms INTEGER NOT NULL, actual_ms INTEGER NOT NULL, readings INTEGER NOT NULL,"
    "  rate_min REAL, rate_max REAL, night_avg REAL, night_min REAL, nights INTEGER NOT NULL,"
    "  events INTEGER NOT NULL, start_known INTEGER NOT NULL, end_known INTEGER NOT NULL,"
    "  provisional INTEGER NOT NULL, computed_at INTEGER NOT NULL, readings_sha256 TEXT,"
    "  PRIMARY KEY(site, year, month, meter, quantity)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_events(site TEXT NOT NULL, year INTEGER NOT NULL,"
    "  month INTEGER NOT NULL, meter TEXT NOT NULL, quantity TEXT NOT NULL, kind TEXT NOT NULL,"
    "  t INTEGER NOT NULL, t_end INTEGER NOT NULL, before REAL, after REAL,"
    "  counted REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rollup_events_month ON rollup_events(site, year, month);"
    "INSERT OR IGNORE INTO rollup_meta(key, value) VALUES ('schema', 2);";

/* Forward migrations, from the version found to the next. */
static const char *const migrations[] = {
    /* 1 -> 2: the digest of the readings each meter's month was computed
     * from, so that a month whose readings changed since is found. Months
     * stored by version 1 have none and are recomputed (the method version
     * in their fingerprint changed too). */
    "BEGIN IMMEDIATE;"
    "ALTER TABLE rollup_meters ADD COLUMN readings_sha256 TEXT;"
    "UPDATE rollup_meta SET value = 2 WHERE key = 'schema';"
    "COMMIT;",
};

enum {
    Q_METER_ID,
    Q_BEFORE,
    Q_INSIDE,
    Q_AFTER,
    Q_RATES,
    Q_STATE,
    Q_DEL_MONTH,
    Q_DEL_METERS,
    Q_DEL_EVENTS,
    Q_PUT_MONTH,
    Q_PUT_METER,
    Q_PUT_EVENT,
    Q_LOAD_METERS,
    Q_LOAD_EVENTS,
    Q__COUNT
};

static const char *const queries[Q__COUNT] = {
    [Q_METER_ID] = "SELECT id FROM meters WHERE site = ?1 AND meter = ?2",
    [Q_BEFORE] = "SELECT t, value FROM readings WHERE meter = ?1 AND quantity = ?2 AND t < ?3 "
                 "ORDER BY t DESC LIMIT ?4",
    [Q_INSIDE] = "SELECT t, value FROM readings WHERE meter = ?1 AND quantity = ?2 AND t >= ?3 "
                 "AND t < ?4 ORDER BY t",
    [Q_AFTER] = "SELECT t, value FROM readings WHERE meter = ?1 AND quantity = ?2 AND t >= ?3 "
                "ORDER BY t LIMIT ?4",
    [Q_RATES] = "SELECT min(value), max(value) FROM readings WHERE meter = ?1 AND quantity = ?2 "
                "AND t >= ?3 AND t < ?4",
    [Q_STATE] = "SELECT provisional, fingerprint, computed_at FROM rollup_months "
                "WHERE site = ?1 AND year = ?2 AND month = ?3",
    [Q_DEL_MONTH] = "DELETE FROM rollup_months WHERE site = ?1 AND year = ?2 AND month = ?3",
    [Q_DEL_METERS] = "DELETE FROM rollup_meters WHERE site = ?1 AND year = ?2 AND month = ?3",
    [Q_DEL_EVENTS] = "DELETE FROM rollup_events WHERE site = ?1 AND year = ?2 AND month = ?3",
    [Q_PUT_MONTH] = "INSERT INTO rollup_months(site, year, month, start, end, provisional, "
                    "computed_at, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_PUT_METER] = "INSERT INTO rollup_meters(site, year, month, meter, quantity, utility, role, "
                    "start, end, consumption, estimated, expected_ms, known_ms, actual_ms, "
                    "readings, rate_min, rate_max, night_avg, night_min, nights, events, "
                    "start_known, end_known, provisional, computed_at, readings_sha256) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                    "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    [Q_PUT_EVENT] = "INSERT INTO rollup_events(site, year, month, meter, quantity, kind, t, "
                    "t_end, before, after, counted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                    "?10, ?11)",
    [Q_LOAD_METERS] = "SELECT meter, quantity, utility, role, month, start, end, consumption, "
                      "estimated, expected_ms, known_ms, actual_ms, readings, rate_min, "
                      "rate_max, night_avg, night_min, nights, events, start_known, end_known, "
                      "provisional, computed_at, readings_sha256 FROM rollup_meters WHERE "
                      "site = ?1 AND year = ?2 ORDER BY month, meter, quantity",
    [Q_LOAD_EVENTS] = "SELECT meter, quantity, month, kind, t, t_end, before, after, counted "
                      "FROM rollup_events WHERE site = ?1 AND year = ?2 "
                      "ORDER BY month, meter, quantity, t, kind, t_end",
};

/* db->be: the prepared queries. */
typedef struct {
    /* Read-only on a database without rollup tables: nothing is stored,
     * months are computed by the caller (the web view) in memory. */
    bool no_tables;
    sqlite3_stmt *q[Q__COUNT];
} rollup_sqlite;

static int fail(om_rollupdb *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(om_rollupdb *db, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(db->err, sizeof db->err, "%s: %s: %s", om_store_path(db->st), what,
             sqlite3_errmsg(db->st->db));
    return -1;
}

/* True when the rollup tables are there (a read-only store cannot create
 * them, and then simply holds no rollups). */
static bool has_tables(sqlite3 *sdb)
{
    int64_t found = 0;
    return om_sql_int(sdb, "SELECT count(*) FROM sqlite_master WHERE name = 'rollup_meta'",
                      &found) == 0 && found > 0;
}

static int check_version(om_rollupdb *db)
{
    int64_t version;
    if (om_sql_int(db->st->db, "SELECT value FROM rollup_meta WHERE key = 'schema'", &version) < 0)
        return fail(db, "rollup tables");
    while (version >= 1 && version < OM_ROLLUPDB_SCHEMA && !db->st->readonly) {
        char *msg = NULL;
        if (sqlite3_exec(db->st->db, migrations[version - 1], NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(db->err, sizeof db->err, "%s: migrating the rollup tables from version "
                     "%lld: %s", om_store_path(db->st), (long long)version, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(db->st->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        version++;
    }
    if (version != OM_ROLLUPDB_SCHEMA) {
        /* Read-only, an older version is not migrated: a command that writes
         * (rollup, report) does that the first time it opens the file. */
        bool older = version >= 1 && version < OM_ROLLUPDB_SCHEMA;
        snprintf(db->err, sizeof db->err,
                 "%s: rollup tables are version %lld, this program needs %d; %s",
                 om_store_path(db->st), (long long)version, OM_ROLLUPDB_SCHEMA,
                 version > OM_ROLLUPDB_SCHEMA ? "upgrade officemeter"
                 : older ? "run `officemeter rollup` or `officemeter report` of this version on "
                           "it once, which upgrades them"
                         : "delete the rollup_* tables to recompute them");
        return -1;
    }
    return 0;
}

int sqlite_rollup_open(om_rollupdb *db)
{
    om_store *st = db->st;
    rollup_sqlite *rs = calloc(1, sizeof *rs);
    if (!rs) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(st));
        return -1;
    }
    db->be = rs;
    if (!has_tables(st->db)) {
        char *msg = NULL;
        if (st->readonly) {
            /* Only the reading source is usable: Q_METER_ID..Q_RATES. */
            rs->no_tables = true;
            size_t failed;
            if (om_sql_prepare_all(st->db, queries, Q_STATE, rs->q, &failed) < 0)
                return fail(db, "preparing %s", queries[failed]);
            return sqlite_retain_open(db);
        }
        if (sqlite3_exec(st->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(db->err, sizeof db->err, "%s: creating the rollup tables: %s",
                     om_store_path(st), msg ? msg : "?");
            sqlite3_free(msg);
            return -1;
        }
    }
    if (check_version(db) < 0)
        return -1;
    size_t failed;
    if (om_sql_prepare_all(st->db, queries, Q__COUNT, rs->q, &failed) < 0)
        return fail(db, "preparing %s", queries[failed]);
    return sqlite_retain_open(db);
}

void sqlite_rollup_close(om_rollupdb *db)
{
    rollup_sqlite *rs = db->be;
    if (rs)
        om_sql_finalize_all(rs->q, Q__COUNT);
    free(rs);
    db->be = NULL;
    sqlite_retain_close(db);
}

static sqlite3_stmt *q(om_rollupdb *db, int which)
{
    sqlite3_stmt *s = ((rollup_sqlite *)db->be)->q[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* ---- reading the readings -------------------------------------------------- */

/* The store's row id of a meter; 0 when it has no readings at all. */
static int meter_id(om_rollupdb *db, const char *site, const char *meter, int64_t *id)
{
    sqlite3_stmt *s = q(db, Q_METER_ID);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, meter, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "meter %s/%s", site, meter);
}

typedef struct {
    om_sample *v;
    size_t n, cap;
} sample_buf;

static int push(sample_buf *b, int64_t t, double v)
{
    om_sample *grown = om_grow(b->v, &b->cap, b->n, sizeof *grown);
    if (!grown)
        return -1;
    b->v = grown;
    b->v[b->n++] = (om_sample){t, v};
    return 0;
}

static int collect(om_rollupdb *db, sqlite3_stmt *s, sample_buf *b, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (push(b, sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1)) < 0) {
            sqlite3_reset(s);
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
            return -1;
        }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(db, "%s", what);
}

static void bind_range(sqlite3_stmt *s, int64_t meter, int64_t qid, int64_t a, int64_t b)
{
    sqlite3_bind_int64(s, 1, meter);
    sqlite3_bind_int64(s, 2, qid);
    sqlite3_bind_int64(s, 3, a);
    sqlite3_bind_int64(s, 4, b);
}

/* The database ids of a meter and a quantity: 1 when both exist, 0 when
 * the meter never reported it (nothing to read), -1 on an error. */
static int reading_key(om_rollupdb *db, const om_site *site, const om_meter *meter,
                       om_quantity quantity, int64_t *id, int64_t *qid)
{
    *qid = db->st->qid[quantity];
    if (meter_id(db, site->site, meter->id, id) < 0)
        return -1;
    return *id != 0 && *qid != 0;
}

static int db_counter(void *user, const om_site *site, const om_meter *meter, om_quantity quantity,
                      int64_t a, int64_t b, unsigned context, om_sample **samples, size_t *n)
{
    om_rollupdb *db = user;
    *samples = NULL;
    *n = 0;
    int64_t id, qid;
    int have = reading_key(db, site, meter, quantity, &id, &qid);
    if (have <= 0)
        return have;
    sample_buf buf = {0};
    sqlite3_stmt *s = q(db, Q_BEFORE);
    bind_range(s, id, qid, a, context);
    if (collect(db, s, &buf, "readings before the month") < 0)
        goto fail;
    /* Fetched newest first: put them in time order. */
    for (size_t i = 0; i < buf.n / 2; i++) {
        om_sample t = buf.v[i];
        buf.v[i] = buf.v[buf.n - 1 - i];
        buf.v[buf.n - 1 - i] = t;
    }
    s = q(db, Q_INSIDE);
    bind_range(s, id, qid, a, b);
    if (collect(db, s, &buf, "readings of the month") < 0)
        goto fail;
    s = q(db, Q_AFTER);
    bind_range(s, id, qid, b, context);
    if (collect(db, s, &buf, "readings after the month") < 0)
        goto fail;
    *samples = buf.v;
    *n = buf.n;
    return 0;
fail:
    free(buf.v);
    return -1;
}

static int db_rates(void *user, const om_site *site, const om_meter *meter, om_quantity quantity,
                    int64_t a, int64_t b, double *min, double *max)
{
    om_rollupdb *db = user;
    *min = *max = NAN;
    int64_t id, qid;
    int have = reading_key(db, site, meter, quantity, &id, &qid);
    if (have <= 0)
        return have;
    sqlite3_stmt *s = q(db, Q_RATES);
    bind_range(s, id, qid, a, b);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *min = sqlite3_column_double(s, 0);
        *max = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : fail(db, "power and flow of %s", meter->id);
}

void sqlite_rollup_source(om_rollupdb *db, om_rollup_source *src)
{
    src->counter = db_counter;
    src->rates = db_rates;
    src->thinned = sqlite_rollup_dropped;
    src->user = db;
}

/* ---- fingerprint ------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t om_rollup_fingerprint(const om_site *site, const om_policy *policy)
{
    uint64_t h = 14695981039346656037ull;
    int version = ROLLUP_METHOD_VERSION;
    h = fnv(h, &version, sizeof version);
    /* The site file as written: meters, service lives, replacements, zone. */
    FILE *f = site->path ? fopen(site->path, "rb") : NULL;
    if (f) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            h = fnv(h, buf, n);
        fclose(f);
    }
    h = fnv(h, &policy->poll_interval_s, sizeof policy->poll_interval_s);
    h = fnv(h, &policy->gap_intervals, sizeof policy->gap_intervals);
    h = fnv(h, &policy->max_power_kw, sizeof policy->max_power_kw);
    h = fnv(h, &policy->max_flow_m3h, sizeof policy->max_flow_m3h);
    /* Counter widths come from the catalogue. */
    for (size_t i = 0; i < site->nmeters; i++) {
        om_counter_opts o;
        om_counter_break *breaks;
        om_quantity qs[2];
        size_t nq = om_rollup_quantities(site, &site->meters[i], qs);
        for (size_t k = 0; k < nq; k++)
            if (om_rollup_counter_opts(site, &site->meters[i], qs[k], policy, &o, &breaks) == 0) {
                h = fnv(h, &o.width, sizeof o.width);
                free(breaks);
            }
    }
    return h;
}

/* ---- rollup tables ----------------------------------------------------------- */

int sqlite_rollup_state(om_rollupdb *db, const char *site, int year, unsigned month,
                        om_rollup_state *out)
{
    memset(out, 0, sizeof *out);
    if (((rollup_sqlite *)db->be)->no_tables)
        return 0;
    sqlite3_stmt *s = q(db, Q_STATE);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, year);
    sqlite3_bind_int(s, 3, (int)month);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->stored = true;
        out->provisional = sqlite3_column_int(s, 0) != 0;
        const char *fp = (const char *)sqlite3_column_text(s, 1);
        out->fingerprint = fp ? strtoull(fp, NULL, 16) : 0;
        out->computed_at = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "rollup state of %s", site);
}

static int step_once(om_rollupdb *db, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(db, "%s", what);
}

static void bind_month(sqlite3_stmt *s, const char *site, int year, unsigned month)
{
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, year);
    sqlite3_bind_int(s, 3, (int)month);
}

static void bind_opt(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

static int put_meter(om_rollupdb *db, const om_meter_month *m)
{
    sqlite3_stmt *s = q(db, Q_PUT_METER);
    bind_month(s, m->site, m->year, m->month);
    sqlite3_bind_text(s, 4, m->meter, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, om_quantity_get(m->quantity)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, m->utility == OM_UTILITY_WATER ? "water" : "electricity", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(s, 7, m->role == OM_ROLE_MAIN ? "main" : "sub", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, m->start);
    sqlite3_bind_int64(s, 9, m->end);
    sqlite3_bind_double(s, 10, m->consumption);
    sqlite3_bind_double(s, 11, m->estimated);
    sqlite3_bind_int64(s, 12, m->expected_ms);
    sqlite3_bind_int64(s, 13, m->known_ms);
    sqlite3_bind_int64(s, 14, m->actual_ms);
    sqlite3_bind_int64(s, 15, m->nreadings);
    bind_opt(s, 16, m->rate_min);
    bind_opt(s, 17, m->rate_max);
    bind_opt(s, 18, m->night_avg);
    bind_opt(s, 19, m->night_min);
    sqlite3_bind_int64(s, 20, m->nights);
    sqlite3_bind_int64(s, 21, m->nevents);
    sqlite3_bind_int(s, 22, m->start_known);
    sqlite3_bind_int(s, 23, m->end_known);
    sqlite3_bind_int(s, 24, m->provisional);
    sqlite3_bind_int64(s, 25, m->computed_at);
    sqlite3_bind_text(s, 26, m->readings_sha256, -1, SQLITE_STATIC);
    return step_once(db, s, "storing a meter's month");
}

static int put_event(om_rollupdb *db, const om_month_event *e)
{
    sqlite3_stmt *s = q(db, Q_PUT_EVENT);
    bind_month(s, e->site, e->year, e->month);
    sqlite3_bind_text(s, 4, e->meter, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, om_quantity_get(e->quantity)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, om_counter_event_name(e->ev.kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, e->ev.t);
    sqlite3_bind_int64(s, 8, e->ev.t_end);
    bind_opt(s, 9, e->ev.before);
    bind_opt(s, 10, e->ev.after);
    sqlite3_bind_double(s, 11, e->ev.counted);
    return step_once(db, s, "storing an event");
}

static int replace_month(om_rollupdb *db, const om_site *site, int year, unsigned month,
                         bool provisional, int64_t computed_at, uint64_t fingerprint,
                         const om_meter_month *rows, size_t nrows, const om_month_event *events,
                         size_t nevents)
{
    const int dels[] = {Q_DEL_MONTH, Q_DEL_METERS, Q_DEL_EVENTS};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *s = q(db, dels[i]);
        bind_month(s, site->site, year, month);
        if (step_once(db, s, "replacing a month") < 0)
            return -1;
    }
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0) {
        snprintf(db->err, sizeof db->err, "%s: unknown time zone %s", site->site, site->timezone);
        return -1;
    }
    char fp[24];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)fingerprint);
    sqlite3_stmt *s = q(db, Q_PUT_MONTH);
    bind_month(s, site->site, year, month);
    sqlite3_bind_int64(s, 4, start);
    sqlite3_bind_int64(s, 5, end);
    sqlite3_bind_int(s, 6, provisional);
    sqlite3_bind_int64(s, 7, computed_at);
    sqlite3_bind_text(s, 8, fp, -1, SQLITE_TRANSIENT);
    if (step_once(db, s, "storing a month") < 0)
        return -1;
    for (size_t i = 0; i < nrows; i++)
        if (put_meter(db, &rows[i]) < 0)
            return -1;
    for (size_t i = 0; i < nevents; i++)
        if (put_event(db, &events[i]) < 0)
            return -1;
    return 0;
}

int sqlite_rollup_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                       bool provisional, int64_t computed_at, uint64_t fingerprint,
                       const om_meter_month *rows, size_t nrows, const om_month_event *events,
                       size_t nevents)
{
    if (((rollup_sqlite *)db->be)->no_tables) {
        snprintf(db->err, sizeof db->err, "%s: opened read-only", om_store_path(db->st));
        return -1;
    }
    om_store_read_end(db->st);
    if (om_store_begin(db->st) < 0) {
        snprintf(db->err, sizeof db->err, "%s", om_store_errmsg(db->st));
        return -1;
    }
    if (replace_month(db, site, year, month, provisional, computed_at, fingerprint, rows, nrows,
                      events, nevents) < 0) {
        om_store_rollback(db->st);
        return -1;
    }
    if (om_store_commit(db->st) < 0) {
        snprintf(db->err, sizeof db->err, "%s", om_store_errmsg(db->st));
        om_store_rollback(db->st);
        return -1;
    }
    return 0;
}

/* ---- loading ---------------------------------------------------------------------- */

static void text_copy(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

static double opt_double(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

static om_quantity quantity_of(const unsigned char *name)
{
    om_quantity q = OM_Q_ENERGY_IMPORT_KWH;
    if (name)
        om_quantity_from_name((const char *)name, &q);
    return q;
}

static void read_meter_row(sqlite3_stmt *s, const char *site, int year, om_meter_month *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->site, sizeof m->site, "%s", site);
    text_copy(m->meter, sizeof m->meter, sqlite3_column_text(s, 0));
    m->quantity = quantity_of(sqlite3_column_text(s, 1));
    const char *utility = (const char *)sqlite3_column_text(s, 2);
    m->utility = utility && strcmp(utility, "water") == 0 ? OM_UTILITY_WATER
                                                           : OM_UTILITY_ELECTRICITY;
    const char *role = (const char *)sqlite3_column_text(s, 3);
    m->role = role && strcmp(role, "sub") == 0 ? OM_ROLE_SUB : OM_ROLE_MAIN;
    m->year = year;
    m->month = (unsigned)sqlite3_column_int(s, 4);
    m->start = sqlite3_column_int64(s, 5);
    m->end = sqlite3_column_int64(s, 6);
    m->consumption = sqlite3_column_double(s, 7);
    m->estimated = sqlite3_column_double(s, 8);
    m->expected_ms = sqlite3_column_int64(s, 9);
    m->known_ms = sqlite3_column_int64(s, 10);
    m->actual_ms = sqlite3_column_int64(s, 11);
    m->nreadings = (uint32_t)sqlite3_column_int64(s, 12);
    m->rate_min = opt_double(s, 13);
    m->rate_max = opt_double(s, 14);
    m->night_avg = opt_double(s, 15);
    m->night_min = opt_double(s, 16);
    m->nights = (uint32_t)sqlite3_column_int64(s, 17);
    m->nevents = (uint32_t)sqlite3_column_int64(s, 18);
    m->start_known = sqlite3_column_int(s, 19) != 0;
    m->end_known = sqlite3_column_int(s, 20) != 0;
    m->provisional = sqlite3_column_int(s, 21) != 0;
    m->computed_at = sqlite3_column_int64(s, 22);
    text_copy(m->readings_sha256, sizeof m->readings_sha256, sqlite3_column_text(s, 23));
}

static void read_event_row(sqlite3_stmt *s, const char *site, int year, om_month_event *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->site, sizeof e->site, "%s", site);
    text_copy(e->meter, sizeof e->meter, sqlite3_column_text(s, 0));
    e->quantity = quantity_of(sqlite3_column_text(s, 1));
    e->year = year;
    e->month = (unsigned)sqlite3_column_int(s, 2);
    const char *kind = (const char *)sqlite3_column_text(s, 3);
    om_counter_event_kind k = OM_CEV_GLITCH;
    if (kind)
        om_counter_event_from_name(kind, &k);
    e->ev.kind = k;
    e->ev.t = sqlite3_column_int64(s, 4);
    e->ev.t_end = sqlite3_column_int64(s, 5);
    e->ev.before = opt_double(s, 6);
    e->ev.after = opt_double(s, 7);
    e->ev.counted = sqlite3_column_double(s, 8);
}

/* Moves a local array to the end of the caller's. */
static int splice(void **dst, size_t *ndst, void *src, size_t nsrc, size_t size)
{
    if (nsrc == 0)
        return 0;
    void *grown = realloc(*dst, (*ndst + nsrc) * size);
    if (!grown)
        return -1;
    memcpy((char *)grown + *ndst * size, src, nsrc * size);
    *dst = grown;
    *ndst += nsrc;
    return 0;
}

int sqlite_rollup_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                            size_t *nrows, om_month_event **events, size_t *nevents)
{
    om_meter_month *r = NULL;
    om_month_event *e = NULL;
    size_t nr = 0, cr = 0, ne = 0, ce = 0;
    int rc;
    if (((rollup_sqlite *)db->be)->no_tables)
        return 0;
    sqlite3_stmt *s = q(db, Q_LOAD_METERS);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, year);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_meter_month *grown = om_grow(r, &cr, nr, sizeof *r);
        if (!grown)
            goto nomem;
        r = grown;
        read_meter_row(s, site, year, &r[nr++]);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        goto fail;
    s = q(db, Q_LOAD_EVENTS);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, year);
    while (events && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_month_event *grown = om_grow(e, &ce, ne, sizeof *e);
        if (!grown)
            goto nomem;
        e = grown;
        read_event_row(s, site, year, &e[ne++]);
    }
    sqlite3_reset(s);
    if (events && rc != SQLITE_DONE)
        goto fail;
    if (splice((void **)rows, nrows, r, nr, sizeof *r) < 0 ||
        (events && splice((void **)events, nevents, e, ne, sizeof *e) < 0))
        goto nomem;
    free(r);
    free(e);
    return 0;
nomem:
    sqlite3_reset(s);
    snprintf(db->err, sizeof db->err, "%s: out of memory loading the rollups of %s",
             om_store_path(db->st), site);
    free(r);
    free(e);
    return -1;
fail:
    fail(db, "loading the rollups of %s", site);
    free(r);
    free(e);
    return -1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_rollup.c - monthly rollups in a PostgreSQL database: the same
 * tables as the SQLite side (store_rollup.c), the same rules (a site's month
 * replaced whole in one transaction; rollup_meta 'schema').
 *
 * What the database does: the power and flow extremes of a month are
 * min()/max() in the server; a month's counter readings and the nearest
 * OM_ROLLUP_CONTEXT on each side come back in one ordered range scan
 * (bounds found by two LIMIT subqueries on the primary key), in binary, so
 * only the readings the consumption engine needs cross the wire; the
 * partition of each month is all the scan touches. The engine itself (rollovers, glitches,
 * resets, replacements, interpolation) stays in C: it is the methodology,
 * and the same code for both backends is what makes their reports equal.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "store_pg.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS rollup_meta(key text COLLATE \"C\" PRIMARY KEY,"
    "  value bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_months(site text COLLATE \"C\" NOT NULL,"
    "  year integer NOT NULL, month integer NOT NULL, start bigint NOT NULL,"
    "  \"end\" bigint NOT NULL, provisional integer NOT NULL, computed_at bigint NOT NULL,"
    "  fingerprint text NOT NULL, PRIMARY KEY(site, year, month));"
    "CREATE TABLE IF NOT EXISTS rollup_meters(site text COLLATE \"C\" NOT NULL,"
    "  year integer NOT NULL, month integer NOT NULL, meter text COLLATE \"C\" NOT NULL,"
    "  quantity text COLLATE \"C\" NOT NULL, utility text NOT NULL, role text NOT NULL,"
    "  start bigint NOT NULL, \"end\" bigint NOT NULL, consumption double precision NOT NULL,"
    "  estimated double precision NOT NULL, expected_ms bigint NOT NULL,"
    "  known_ms bigint NOT NULL, actual_ms bigint NOT NULL, readings bigint NOT NULL,"
    "  rate_min double precision, rate_max double precision, night_avg double precision,"
    "  night_min double precision, nights bigint NOT NULL, events bigint NOT NULL,"
    "  start_known integer NOT NULL, end_known integer NOT NULL, provisional integer NOT NULL,"
    "  computed_at bigint NOT NULL, readings_sha256 text,"
    "  PRIMARY KEY(site, year, month, meter, quantity));"
    "CREATE TABLE IF NOT EXISTS rollup_events(site text COLLATE \"C\" NOT NULL,"
    "  year integer NOT NULL, month integer NOT NULL, meter text COLLATE \"C\" NOT NULL,"
    "  quantity text COLLATE \"C\" NOT NULL, kind text COLLATE \"C\" NOT NULL,"
    "  t bigint NOT NULL, t_end bigint NOT NULL, before double precision,"
    "  after double precision, counted double precision NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rollup_events_month ON rollup_events(site, year, month);"
    "INSERT INTO rollup_meta(key, value) VALUES ('schema', 2) ON CONFLICT DO NOTHING;";

/* Forward migrations, from the version found to the next (as
 * store_rollup.c's). */
static const char *const migrations[] = {
    /* 1 -> 2: the digest of the readings each meter's month was computed
     * from (rollup.h); months stored by version 1 have none and are
     * recomputed (the method version in their fingerprint changed too). */
    "ALTER TABLE rollup_meters ADD COLUMN IF NOT EXISTS readings_sha256 text;"
    "UPDATE rollup_meta SET value = 2 WHERE key = 'schema';",
};

/* Rows per multi-row INSERT (a statement takes at most 65535 parameters). */
#define ROWS_PER_INSERT 1000

/* The store's message (it names the URI and what failed) as the rollups'. */
static int fail(om_rollupdb *db, const char *what)
{
    snprintf(db->err, sizeof db->err, "%s", db->st->err[0] ? db->st->err : what);
    return -1;
}

static bool has_tables(om_store *st)
{
    PGresult *r = pg_query(st, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                               "current_schema() AND tablename = 'rollup_meta'", 0, NULL, 0,
                           "rollup tables");
    bool yes = r && pg_int(r, 0, 0, 0) > 0;
    PQclear(r);
    return yes;
}

/* db->be: a reader of a database on which no rollup has run yet (no
 * tables), as with SQLite: the readings are its source, no month is stored. */
typedef struct {
    bool no_tables;
} rollup_pg;

static bool no_tables(const om_rollupdb *db)
{
    return db->be && ((const rollup_pg *)db->be)->no_tables;
}

int pg_rollup_open(om_rollupdb *db)
{
    om_store *st = db->st;
    if (!has_tables(st)) {
        if (st->readonly) {
            rollup_pg *rp = calloc(1, sizeof *rp);
            if (!rp) {
                snprintf(db->err, sizeof db->err, "%s: out of memory", st->path);
                return -1;
            }
            rp->no_tables = true;
            db->be = rp;
            return pg_retain_open(db);
        }
        /* Two reports starting at once: the lock makes the second wait. */
        if (pg_exec(st, "BEGIN; SELECT pg_advisory_xact_lock(7309463424829844332)", "rollup "
                        "tables") < 0 || pg_exec(st, schema_sql, "creating the rollup tables") < 0 ||
            pg_exec(st, "COMMIT", "creating the rollup tables") < 0) {
            PQclear(PQexec(st->pg->conn, "ROLLBACK"));
            return fail(db, "creating the rollup tables");
        }
    }
    PGresult *r = pg_query(st, "SELECT value FROM rollup_meta WHERE key = 'schema'", 0, NULL, 0,
                           "rollup tables");
    if (!r)
        return fail(db, "rollup tables");
    int64_t version = PQntuples(r) ? pg_int(r, 0, 0, 0) : 0;
    PQclear(r);
    while (version >= 1 && version < OM_ROLLUPDB_SCHEMA && !st->readonly) {
        if (pg_exec(st, "BEGIN; SELECT pg_advisory_xact_lock(7309463424829844332)",
                    "rollup tables") < 0 ||
            pg_exec(st, migrations[version - 1], "migrating the rollup tables") < 0 ||
            pg_exec(st, "COMMIT", "migrating the rollup tables") < 0) {
            PQclear(PQexec(st->pg->conn, "ROLLBACK"));
            return fail(db, "migrating the rollup tables");
        }
        version++;
    }
    if (version != OM_ROLLUPDB_SCHEMA) {
        snprintf(db->err, sizeof db->err,
                 "%s: rollup tables are version %lld, this program needs %d; %s", st->path,
                 (long long)version, OM_ROLLUPDB_SCHEMA,
                 version > OM_ROLLUPDB_SCHEMA ? "upgrade officemeter"
                                              : "delete the rollup_* tables to recompute them");
        return -1;
    }
    return pg_retain_open(db);
}

void pg_rollup_close(om_rollupdb *db)
{
    pg_retain_close(db);
    free(db->be);
    db->be = NULL;
}

/* ---- reading the readings --------------------------------------------------------- */

static int reading_key(om_rollupdb *db, const om_site *site, const om_meter *meter,
                       om_quantity quantity, char id[24], char qid[24])
{
    int64_t m;
    if (pg_lookup_id(db->st, true, site->site, meter->id, &m) < 0)
        return fail(db, "meter");
    snprintf(id, 24, "%lld", (long long)m);
    snprintf(qid, 24, "%lld", (long long)db->st->qid[quantity]);
    return m != 0 && db->st->qid[quantity] != 0;
}

static int db_counter(void *user, const om_site *site, const om_meter *meter, om_quantity quantity,
                      int64_t a, int64_t b, unsigned context, om_sample **samples, size_t *n)
{
    om_rollupdb *db = user;
    *samples = NULL;
    *n = 0;
    char id[24], qid[24], av[24], bv[24], cv[24];
    int have = reading_key(db, site, meter, quantity, id, qid);
    if (have <= 0)
        return have;
    snprintf(av, sizeof av, "%lld", (long long)a);
    snprintf(bv, sizeof bv, "%lld", (long long)b);
    snprintf(cv, sizeof cv, "%u", context);
    const char *v[] = {id, qid, av, bv, cv};
    /* The month, widened to the `context` nearest readings on each side. */
    PGresult *r = pg_query_prepared(
        db->st, PG_STMT_MONTH_READINGS,
        "SELECT t, value FROM readings WHERE meter = $1 AND quantity = $2 "
        "AND t >= coalesce((SELECT min(t) FROM (SELECT t FROM readings WHERE meter = $1 "
        "  AND quantity = $2 AND t < $3 ORDER BY t DESC LIMIT $5) x), $3) "
        "AND t <= coalesce((SELECT max(t) FROM (SELECT t FROM readings WHERE meter = $1 "
        "  AND quantity = $2 AND t >= $4 ORDER BY t LIMIT $5) y), $4 - 1) "
        "ORDER BY t",
        5, v, 1, "readings of the month");
    if (!r)
        return fail(db, "readings of the month");
    size_t count = (size_t)PQntuples(r);
    om_sample *s = malloc((count ? count : 1) * sizeof *s);
    if (!s) {
        PQclear(r);
        snprintf(db->err, sizeof db->err, "%s: out of memory", db->st->path);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        s[i] = (om_sample){pg_bin_int8(r, (int)i, 0), pg_bin_float8(r, (int)i, 1)};
    PQclear(r);
    *samples = s;
    *n = count;
    return 0;
}

static int db_rates(void *user, const om_site *site, const om_meter *meter, om_quantity quantity,
                    int64_t a, int64_t b, double *min, double *max)
{
    om_rollupdb *db = user;
    *min = *max = NAN;
    char id[24], qid[24], av[24], bv[24];
    int have = reading_key(db, site, meter, quantity, id, qid);
    if (have <= 0)
        return have;
    snprintf(av, sizeof av, "%lld", (long long)a);
    snprintf(bv, sizeof bv, "%lld", (long long)b);
    const char *v[] = {id, qid, av, bv};
    PGresult *r = pg_query_prepared(db->st, PG_STMT_RATES,
                                    "SELECT min(value), max(value) FROM readings WHERE "
                                    "meter = $1 AND quantity = $2 AND t >= $3 AND t < $4",
                                    4, v, 0, "power and flow");
    if (!r)
        return fail(db, "power and flow");
    *min = pg_double(r, 0, 0, NAN);
    *max = pg_double(r, 0, 1, NAN);
    PQclear(r);
    return 0;
}

void pg_rollup_source(om_rollupdb *db, om_rollup_source *src)
{
    src->counter = db_counter;
    src->rates = db_rates;
    src->thinned = pg_rollup_dropped;
    src->user = db;
}

/* ---- the rollup tables --------------------------------------------------------------- */

int pg_rollup_state(om_rollupdb *db, const char *site, int year, unsigned month,
                    om_rollup_state *out)
{
    memset(out, 0, sizeof *out);
    if (no_tables(db))
        return 0;
    char y[16], m[16];
    snprintf(y, sizeof y, "%d", year);
    snprintf(m, sizeof m, "%u", month);
    const char *v[] = {site, y, m};
    PGresult *r = pg_query(db->st, "SELECT provisional, fingerprint, computed_at FROM "
                                   "rollup_months WHERE site = $1 AND year = $2 AND month = $3",
                           3, v, 0, "rollup state");
    if (!r)
        return fail(db, "rollup state");
    if (PQntuples(r) > 0) {
        out->stored = true;
        out->provisional = pg_int(r, 0, 0, 0) != 0;
        out->fingerprint = strtoull(PQgetvalue(r, 0, 1), NULL, 16);
        out->computed_at = pg_int(r, 0, 2, 0);
    }
    PQclear(r);
    return 0;
}

/* Parameters of a multi-row INSERT, as text. */
typedef struct {
    char **v;
    size_t n, cap;
    bool oom;
} params;

static void param(params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void param(params *p, const char *fmt, ...)
{
    char **grown = om_grow(p->v, &p->cap, p->n, sizeof *grown);
    if (!grown) {
        p->oom = true;
        return;
    }
    p->v = grown;
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!(p->v[p->n++] = strdup(buf)))
        p->oom = true;
}

static void param_text(params *p, const char *text)
{
    char **grown = om_grow(p->v, &p->cap, p->n, sizeof *grown);
    if (!grown) {
        p->oom = true;
        return;
    }
    p->v = grown;
    if (!(p->v[p->n++] = strdup(text)))
        p->oom = true;
}

static void param_opt(params *p, double v)
{
    if (isnan(v)) {
        char **grown = om_grow(p->v, &p->cap, p->n, sizeof *grown);
        if (!grown) {
            p->oom = true;
            return;
        }
        p->v = grown;
        p->v[p->n++] = NULL;
    } else {
        param(p, "%.17g", v);
    }
}

static void params_clear(params *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    p->n = 0;
}

/* INSERT INTO `head` VALUES ($1..$cols), ... for p's rows. */
static int insert_rows(om_rollupdb *db, const char *head, int cols, params *p, const char *what)
{
    if (p->oom) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", db->st->path);
        return -1;
    }
    if (p->n == 0)
        return 0;
    pg_buf sql = {0};
    pg_buf_str(&sql, head);
    pg_buf_str(&sql, " VALUES ");
    for (size_t i = 0; i < p->n; i++) {
        if (i % (size_t)cols == 0)
            pg_buf_str(&sql, i ? "),(" : "(");
        else
            pg_buf_str(&sql, ",");
        pg_buf_printf(&sql, "$%zu", i + 1);
    }
    pg_buf_str(&sql, ")");
    PGresult *r = sql.oom ? NULL
                          : pg_query(db->st, sql.s, (int)p->n, (const char *const *)p->v, 0, what);
    pg_buf_free(&sql);
    if (!r)
        return fail(db, what);
    PQclear(r);
    return 0;
}

static void month_params(params *p, const char *site, int year, unsigned month)
{
    param_text(p, site);
    param(p, "%d", year);
    param(p, "%u", month);
}

static int put_meters(om_rollupdb *db, const om_meter_month *rows, size_t nrows)
{
    params p = {0};
    int rc = 0;
    for (size_t i = 0; i < nrows && rc == 0; i++) {
        const om_meter_month *m = &rows[i];
        month_params(&p, m->site, m->year, m->month);
        param_text(&p, m->meter);
        param_text(&p, om_quantity_get(m->quantity)->name);
        param_text(&p, m->utility == OM_UTILITY_WATER ? "water" : "electricity");
        param_text(&p, m->role == OM_ROLE_MAIN ? "main" : "sub");
        param(&p, "%lld", (long long)m->start);
        param(&p, "%lld", (long long)m->end);
        param(&p, "%.17g", m->consumption);
        param(&p, "%.17g", m->estimated);
        param(&p, "%lld", (long long)m->expected_ms);
        param(&p, "%lld", (long long)m->known_ms);
        param(&p, "%lld", (long long)m->actual_ms);
        param(&p, "%u", m->nreadings);
        param_opt(&p, m->rate_min);
        param_opt(&p, m->rate_max);
        param_opt(&p, m->night_avg);
        param_opt(&p, m->night_min);
        param(&p, "%u", m->nights);
        param(&p, "%u", m->nevents);
        param(&p, "%d", m->start_known);
        param(&p, "%d", m->end_known);
        param(&p, "%d", m->provisional);
        param(&p, "%lld", (long long)m->computed_at);
        param_text(&p, m->readings_sha256);
        if ((i + 1) % ROWS_PER_INSERT == 0 || i + 1 == nrows) {
            rc = insert_rows(db, "INSERT INTO rollup_meters(site, year, month, meter, quantity, "
                                 "utility, role, start, \"end\", consumption, estimated, "
                                 "expected_ms, known_ms, actual_ms, readings, rate_min, "
                                 "rate_max, night_avg, night_min, nights, events, start_known, "
                                 "end_known, provisional, computed_at, readings_sha256)",
                             26, &p, "storing a meter's month");
            params_clear(&p);
        }
    }
    params_clear(&p);
    free(p.v);
    return rc;
}

static int put_events(om_rollupdb *db, const om_month_event *events, size_t nevents)
{
    params p = {0};
    int rc = 0;
    for (size_t i = 0; i < nevents && rc == 0; i++) {
        const om_month_event *e = &events[i];
        month_params(&p, e->site, e->year, e->month);
        param_text(&p, e->meter);
        param_text(&p, om_quantity_get(e->quantity)->name);
        param_text(&p, om_counter_event_name(e->ev.kind));
        param(&p, "%lld", (long long)e->ev.t);
        param(&p, "%lld", (long long)e->ev.t_end);
        param_opt(&p, e->ev.before);
        param_opt(&p, e->ev.after);
        param(&p, "%.17g", e->ev.counted);
        if ((i + 1) % ROWS_PER_INSERT == 0 || i + 1 == nevents) {
            rc = insert_rows(db, "INSERT INTO rollup_events(site, year, month, meter, quantity, "
                                 "kind, t, t_end, before, after, counted)",
                             11, &p, "storing an event");
            params_clear(&p);
        }
    }
    params_clear(&p);
    free(p.v);
    return rc;
}

static int replace_month(om_rollupdb *db, const om_site *site, int year, unsigned month,
                         bool provisional, int64_t computed_at, uint64_t fingerprint,
                         const om_meter_month *rows, size_t nrows, const om_month_event *events,
                         size_t nevents)
{
    char y[16], m[16];
    snprintf(y, sizeof y, "%d", year);
    snprintf(m, sizeof m, "%u", month);
    const char *v[] = {site->site, y, m};
    static const char *const dels[] = {
        "DELETE FROM rollup_months WHERE site = $1 AND year = $2 AND month = $3",
        "DELETE FROM rollup_meters WHERE site = $1 AND year = $2 AND month = $3",
        "DELETE FROM rollup_events WHERE site = $1 AND year = $2 AND month = $3",
    };
    for (size_t i = 0; i < 3; i++) {
        PGresult *r = pg_query(db->st, dels[i], 3, v, 0, "replacing a month");
        if (!r)
            return fail(db, "replacing a month");
        PQclear(r);
    }
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0) {
        snprintf(db->err, sizeof db->err, "%s: unknown time zone %s", site->site, site->timezone);
        return -1;
    }
    params p = {0};
    month_params(&p, site->site, year, month);
    param(&p, "%lld", (long long)start);
    param(&p, "%lld", (long long)end);
    param(&p, "%d", provisional);
    param(&p, "%lld", (long long)computed_at);
    param(&p, "%016llx", (unsigned long long)fingerprint);
    int rc = insert_rows(db, "INSERT INTO rollup_months(site, year, month, start, \"end\", "
                             "provisional, computed_at, fingerprint)", 8, &p, "storing a month");
    params_clear(&p);
    free(p.v);
    if (rc == 0)
        rc = put_meters(db, rows, nrows);
    if (rc == 0)
        rc = put_events(db, events, nevents);
    return rc;
}

int pg_rollup_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                   bool provisional, int64_t computed_at, uint64_t fingerprint,
                   const om_meter_month *rows, size_t nrows, const om_month_event *events,
                   size_t nevents)
{
    om_store *st = db->st;
    om_store_read_end(st);
    if (st->readonly) {
        snprintf(db->err, sizeof db->err, "%s: opened read-only", st->path);
        return -1;
    }
    if (pg_exec(st, "BEGIN", "begin") < 0)
        return fail(db, "begin");
    if (replace_month(db, site, year, month, provisional, computed_at, fingerprint, rows, nrows,
                      events, nevents) < 0) {
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
        return -1;
    }
    if (pg_exec(st, "COMMIT", "commit") < 0)
        return fail(db, "commit");
    return 0;
}

/* ---- loading ------------------------------------------------------------------------- */

static om_quantity quantity_of(const char *name)
{
    om_quantity q = OM_Q_ENERGY_IMPORT_KWH;
    om_quantity_from_name(name, &q);
    return q;
}

static void read_meter_row(const PGresult *r, int i, const char *site, int year,
                           om_meter_month *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->site, sizeof m->site, "%s", site);
    pg_copy_text(m->meter, sizeof m->meter, r, i, 0);
    m->quantity = quantity_of(PQgetvalue(r, i, 1));
    m->utility = strcmp(PQgetvalue(r, i, 2), "water") == 0 ? OM_UTILITY_WATER
                                                             : OM_UTILITY_ELECTRICITY;
    m->role = strcmp(PQgetvalue(r, i, 3), "sub") == 0 ? OM_ROLE_SUB : OM_ROLE_MAIN;
    m->year = year;
    m->month = (unsigned)pg_int(r, i, 4, 0);
    m->start = pg_int(r, i, 5, 0);
    m->end = pg_int(r, i, 6, 0);
    m->consumption = pg_double(r, i, 7, 0);
    m->estimated = pg_double(r, i, 8, 0);
    m->expected_ms = pg_int(r, i, 9, 0);
    m->known_ms = pg_int(r, i, 10, 0);
    m->actual_ms = pg_int(r, i, 11, 0);
    m->nreadings = (uint32_t)pg_int(r, i, 12, 0);
    m->rate_min = pg_double(r, i, 13, NAN);
    m->rate_max = pg_double(r, i, 14, NAN);
    m->night_avg = pg_double(r, i, 15, NAN);
    m->night_min = pg_double(r, i, 16, NAN);
    m->nights = (uint32_t)pg_int(r, i, 17, 0);
    m->nevents = (uint32_t)pg_int(r, i, 18, 0);
    m->start_known = pg_int(r, i, 19, 0) != 0;
    m->end_known = pg_int(r, i, 20, 0) != 0;
    m->provisional = pg_int(r, i, 21, 0) != 0;
    m->computed_at = pg_int(r, i, 22, 0);
    pg_copy_text(m->readings_sha256, sizeof m->readings_sha256, r, i, 23);
}

static void read_event_row(const PGresult *r, int i, const char *site, int year,
                           om_month_event *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->site, sizeof e->site, "%s", site);
    pg_copy_text(e->meter, sizeof e->meter, r, i, 0);
    e->quantity = quantity_of(PQgetvalue(r, i, 1));
    e->year = year;
    e->month = (unsigned)pg_int(r, i, 2, 0);
    om_counter_event_kind k = OM_CEV_GLITCH;
    om_counter_event_from_name(PQgetvalue(r, i, 3), &k);
    e->ev.kind = k;
    e->ev.t = pg_int(r, i, 4, 0);
    e->ev.t_end = pg_int(r, i, 5, 0);
    e->ev.before = pg_double(r, i, 6, NAN);
    e->ev.after = pg_double(r, i, 7, NAN);
    e->ev.counted = pg_double(r, i, 8, 0);
}

/* Appends n elements to the caller's array. */
static int append(void **dst, size_t *ndst, size_t n, size_t size, char **at)
{
    if (n == 0) {
        *at = NULL;
        return 0;
    }
    void *grown = realloc(*dst, (*ndst + n) * size);
    if (!grown)
        return -1;
    *dst = grown;
    *at = (char *)grown + *ndst * size;
    *ndst += n;
    return 0;
}

int pg_rollup_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                        size_t *nrows, om_month_event **events, size_t *nevents)
{
    if (no_tables(db))
        return 0;
    char y[16];
    snprintf(y, sizeof y, "%d", year);
    const char *v[] = {site, y};
    PGresult *r = pg_query(db->st,
                           "SELECT meter, quantity, utility, role, month, start, \"end\", "
                           "consumption, estimated, expected_ms, known_ms, actual_ms, readings, "
                           "rate_min, rate_max, night_avg, night_min, nights, events, "
                           "start_known, end_known, provisional, computed_at, readings_sha256 "
                           "FROM rollup_meters "
                           "WHERE site = $1 AND year = $2 ORDER BY month, meter, quantity",
                           2, v, 0, "loading the rollups");
    if (!r)
        return fail(db, "loading the rollups");
    char *at;
    int n = PQntuples(r);
    if (append((void **)rows, nrows, (size_t)n, sizeof **rows, &at) < 0) {
        PQclear(r);
        snprintf(db->err, sizeof db->err, "%s: out of memory loading the rollups of %s",
                 db->st->path, site);
        return -1;
    }
    for (int i = 0; i < n; i++)
        read_meter_row(r, i, site, year, (om_meter_month *)at + i);
    PQclear(r);
    if (!events)
        return 0;
    r = pg_query(db->st,
                 "SELECT meter, quantity, month, kind, t, t_end, before, after, counted "
                 "FROM rollup_events WHERE site = $1 AND year = $2 "
                 "ORDER BY month, meter, quantity, t, kind, t_end",
                 2, v, 0, "loading the rollups");
    if (!r)
        return fail(db, "loading the rollups");
    n = PQntuples(r);
    if (append((void **)events, nevents, (size_t)n, sizeof **events, &at) < 0) {
        PQclear(r);
        snprintf(db->err, sizeof db->err, "%s: out of memory loading the rollups of %s",
                 db->st->path, site);
        return -1;
    }
    for (int i = 0; i < n; i++)
        read_event_row(r, i, site, year, (om_month_event *)at + i);
    PQclear(r);
    return 0;
}

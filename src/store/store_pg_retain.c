/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_retain.c - retention's bookkeeping in a PostgreSQL database: the
 * same tables and rules as store_retain.c. Dropping a site's period is one
 * DELETE per series bounded to the period, which the planner prunes to the
 * period's partition of readings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/report/retention.h"
#include "store_pg.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS retained_counts(meter integer NOT NULL,"
    "  quantity smallint NOT NULL, bucket bigint NOT NULL, dropped bigint NOT NULL,"
    "  PRIMARY KEY(meter, quantity, bucket));"
    "CREATE TABLE IF NOT EXISTS retained_months(site text COLLATE \"C\" NOT NULL,"
    "  start bigint NOT NULL, \"end\" bigint NOT NULL, kept bigint NOT NULL,"
    "  dropped bigint NOT NULL, at bigint NOT NULL, PRIMARY KEY(site, start))";

typedef struct {
    bool present; /* the tables exist (a reader's old database may lack them) */
} retain_pg;

static int fail(om_rollupdb *db)
{
    snprintf(db->err, sizeof db->err, "%s", db->st->err);
    return -1;
}

int pg_retain_open(om_rollupdb *db)
{
    om_store *st = db->st;
    retain_pg *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", st->path);
        return -1;
    }
    db->retain = r;
    if (!st->readonly) {
        if (pg_exec(st, "BEGIN; SELECT pg_advisory_xact_lock(7309463424829844332)",
                    "retention tables") < 0 ||
            pg_exec(st, schema_sql, "retention tables") < 0 ||
            pg_exec(st, "COMMIT", "retention tables") < 0) {
            PQclear(PQexec(st->pg->conn, "ROLLBACK"));
            return fail(db);
        }
    }
    bool have;
    if (pg_raw_has(st, "retained_counts", &have) < 0)
        return fail(db);
    r->present = have;
    return 0;
}

void pg_retain_close(om_rollupdb *db)
{
    free(db->retain);
    db->retain = NULL;
}

int pg_rollup_dropped(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                      int64_t a, int64_t b, uint64_t *n)
{
    om_rollupdb *db = user;
    *n = 0;
    if (!((retain_pg *)db->retain)->present)
        return 0;
    int64_t id;
    if (pg_lookup_id(db->st, true, site->site, meter->id, &id) < 0)
        return fail(db);
    if (id == 0)
        return 0;
    char v[4][24];
    snprintf(v[0], sizeof v[0], "%lld", (long long)id);
    snprintf(v[1], sizeof v[1], "%lld", (long long)db->st->qid[q]);
    snprintf(v[2], sizeof v[2], "%lld", (long long)a);
    snprintf(v[3], sizeof v[3], "%lld", (long long)b);
    const char *p[] = {v[0], v[1], v[2], v[3]};
    PGresult *r = pg_query_prepared(db->st, PG_STMT_DROPPED,
                                    "SELECT coalesce(sum(dropped), 0) FROM retained_counts "
                                    "WHERE meter = $1 AND quantity = $2 AND bucket >= $3 "
                                    "AND bucket < $4",
                                    4, p, 0, "readings dropped by retention");
    if (!r)
        return fail(db);
    *n = (uint64_t)pg_int(r, 0, 0, 0);
    PQclear(r);
    return 0;
}

/* One series: its drops in one DELETE, a counter's counted per bucket. */
static int thin_one(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                    const om_retain_series *s, uint64_t *dropped)
{
    om_store *st = db->st;
    int64_t id;
    if (pg_lookup_id(st, true, site, s->meter, &id) < 0)
        return -1;
    if (id == 0 || s->ndrop == 0)
        return 0;
    pg_buf times = {0}, buckets = {0}, counts = {0};
    pg_buf_array_open(&times);
    pg_buf_array_open(&buckets);
    pg_buf_array_open(&counts);
    int64_t bucket = 0, in_bucket = 0;
    for (size_t i = 0; i <= s->ndrop; i++) {
        int64_t b = i < s->ndrop ? s->drop[i] - s->drop[i] % OM_RETAIN_BUCKET_MS : -1;
        if (in_bucket && b != bucket) {
            pg_buf_array_int(&buckets, bucket);
            pg_buf_array_int(&counts, in_bucket);
            in_bucket = 0;
        }
        if (i == s->ndrop)
            break;
        bucket = b;
        in_bucket++;
        pg_buf_array_int(&times, s->drop[i]);
    }
    pg_buf_array_close(&times);
    pg_buf_array_close(&buckets);
    pg_buf_array_close(&counts);
    char v[4][24];
    snprintf(v[0], sizeof v[0], "%lld", (long long)id);
    snprintf(v[1], sizeof v[1], "%lld", (long long)st->qid[s->quantity]);
    snprintf(v[2], sizeof v[2], "%lld", (long long)from);
    snprintf(v[3], sizeof v[3], "%lld", (long long)to);
    int rc = times.oom || buckets.oom || counts.oom ? store_failf(st, "out of memory") : 0;
    PGresult *r = NULL;
    if (rc == 0) {
        const char *p[] = {v[0], v[1], v[2], v[3], times.s};
        /* The period's bounds let the planner touch its partition only. */
        r = pg_query(st, "DELETE FROM readings WHERE meter = $1 AND quantity = $2 AND t >= $3 "
                         "AND t < $4 AND t = ANY($5::bigint[])", 5, p, 0, "dropping readings");
        rc = r ? 0 : -1;
        if (r)
            *dropped += (uint64_t)strtoull(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    if (rc == 0 && s->counter) {
        const char *p[] = {v[0], v[1], buckets.s, counts.s};
        r = pg_query(st, "INSERT INTO retained_counts(meter, quantity, bucket, dropped) "
                         "SELECT $1, $2, b, n FROM unnest($3::bigint[], $4::bigint[]) u(b, n) "
                         "ON CONFLICT (meter, quantity, bucket) DO UPDATE SET "
                         "dropped = retained_counts.dropped + excluded.dropped",
                     4, p, 0, "counting dropped readings");
        rc = r ? 0 : -1;
        PQclear(r);
    }
    pg_buf_free(&times);
    pg_buf_free(&buckets);
    pg_buf_free(&counts);
    return rc;
}

/* The stored digests of the meter-months whose readings the thinning
 * changes (om_retain_digest). */
static int set_digests(om_rollupdb *db, const char *site, const om_retain_digest *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char year[16], month[16];
        snprintf(year, sizeof year, "%d", d[i].year);
        snprintf(month, sizeof month, "%u", d[i].month);
        const char *p[] = {site, year, month, d[i].meter, om_quantity_get(d[i].quantity)->name,
                           d[i].sha256};
        PGresult *r = pg_query(db->st, "UPDATE rollup_meters SET readings_sha256 = $6 WHERE "
                                       "site = $1 AND year = $2 AND month = $3 AND meter = $4 "
                                       "AND quantity = $5", 6, p, 0,
                               "refreshing a readings digest");
        if (!r)
            return -1;
        PQclear(r);
    }
    return 0;
}

int pg_rollup_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                   const om_retain_series *series, size_t nseries,
                   const om_retain_digest *digests, size_t ndigests, uint64_t kept, int64_t at)
{
    om_store *st = db->st;
    om_store_read_end(st);
    if (pg_exec(st, "BEGIN", "begin") < 0)
        return fail(db);
    uint64_t dropped = 0;
    int rc = 0;
    for (size_t i = 0; i < nseries && rc == 0; i++)
        rc = thin_one(db, site, from, to, &series[i], &dropped);
    if (rc == 0) {
        char v[5][24];
        snprintf(v[0], sizeof v[0], "%lld", (long long)from);
        snprintf(v[1], sizeof v[1], "%lld", (long long)to);
        snprintf(v[2], sizeof v[2], "%llu", (unsigned long long)kept);
        snprintf(v[3], sizeof v[3], "%llu", (unsigned long long)dropped);
        snprintf(v[4], sizeof v[4], "%lld", (long long)at);
        const char *p[] = {site, v[0], v[1], v[2], v[3], v[4]};
        PGresult *r = pg_query(st, "INSERT INTO retained_months(site, start, \"end\", kept, "
                                   "dropped, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
                                   "(site, start) DO UPDATE SET \"end\" = excluded.\"end\", "
                                   "kept = excluded.kept, dropped = excluded.dropped, "
                                   "at = excluded.at", 6, p, 0, "recording the thinned period");
        rc = r ? 0 : -1;
        PQclear(r);
    }
    if (rc == 0)
        rc = set_digests(db, site, digests, ndigests);
    if (rc < 0) {
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
        return fail(db);
    }
    return pg_exec(st, "COMMIT", "commit") < 0 ? fail(db) : 0;
}

int pg_rollup_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done)
{
    *done = false;
    if (!((retain_pg *)db->retain)->present)
        return 0;
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)from);
    const char *p[] = {site, v};
    PGresult *r = pg_query(db->st, "SELECT count(*) FROM retained_months WHERE site = $1 "
                                   "AND start = $2", 2, p, 0, "thinned periods");
    if (!r)
        return fail(db);
    *done = pg_int(r, 0, 0, 0) > 0;
    PQclear(r);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_hours.c - the hourly aggregates of hours.h on PostgreSQL: the
 * readers (the database groups and counts, one row per hour or bucket
 * comes back) and the rebuild from the readings.
 *
 * The tables (meter_hours, meter_counts) are created by the schema's
 * migration 1 -> 2 (store_pg.c), which fills them from the readings a
 * database already holds (PG_HOURS_FILL_SQL), and kept by the commit
 * (store_pg_write.c): the rows its INSERT ... ON CONFLICT DO NOTHING
 * actually inserted are grouped by hour in the same statement and merged
 * into meter_hours with INSERT ... ON CONFLICT DO UPDATE, so a resend adds
 * nothing and two aggregators committing parts of one hour add up, each
 * waiting for the other's row lock.
 *
 * Sums are added in time order (sum(... ORDER BY t)): the SQLite writer
 * adds a group's readings in the order they arrive, so for readings that
 * arrive in time order both backends hold the same bits, and the web
 * view's JSON comes out byte for byte the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/store/hours.h"
#include "store_pg.h"

/* $1 site, $2 meter, $3 quantity id: the series' rows. */
#define SERIES_JOIN "JOIN meters m ON m.id = h.meter WHERE m.site = $1 AND m.meter = $2 AND " \
                    "h.quantity = $3::smallint"

/* Hour numbers covering [from_ms, to_ms): the hours that start inside
 * (as store_hours.c counts them). */
static int64_t first_hour(int64_t from_ms)
{
    return from_ms <= 0 ? 0 : (from_ms + OM_HOUR_MS - 1) / OM_HOUR_MS;
}

static bool quantity_known(om_store *st, om_quantity quantity)
{
    if ((int)quantity < 0 || quantity >= OM_Q__COUNT) {
        store_failf(st, "unknown quantity %d", (int)quantity);
        return false;
    }
    return true;
}

int pg_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
             int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user)
{
    if (!quantity_known(st, quantity))
        return -1;
    char q[24], a[24], b[24];
    snprintf(q, sizeof q, "%lld", (long long)st->qid[quantity]);
    snprintf(a, sizeof a, "%lld", (long long)first_hour(from_ms));
    snprintf(b, sizeof b, "%lld", (long long)first_hour(to_ms));
    const char *v[] = {site, meter, q, a, b};
    PGresult *r = pg_query(st,
                           "SELECT h.hour, h.n, h.sum, h.min, h.max, h.first_t, h.first_v, "
                           "h.last_t, h.last_v FROM meter_hours h " SERIES_JOIN
                           " AND h.hour >= $4::bigint AND h.hour < $5::bigint ORDER BY h.hour",
                           5, v, 0, "hourly aggregates");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        om_hour h = {
            .hour = pg_int(r, i, 0, 0) * OM_HOUR_MS,
            .n = (uint32_t)pg_int(r, i, 1, 0),
            .sum = pg_double(r, i, 2, 0),
            .min = pg_double(r, i, 3, 0),
            .max = pg_double(r, i, 4, 0),
            .first_t = pg_int(r, i, 5, 0),
            .first_v = pg_double(r, i, 6, 0),
            .last_t = pg_int(r, i, 7, 0),
            .last_v = pg_double(r, i, 8, 0),
        };
        if (fn(&h, user) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

/* Grouped by the database, from the hours when the buckets are whole hours
 * and from the readings otherwise, as store_hours.c does: the same rows,
 * the same order of additions (by time). */
int pg_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
               int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn, void *user)
{
    if (!quantity_known(st, quantity))
        return -1;
    bool hourly = bucket_ms % OM_HOUR_MS == 0 && from_ms % OM_HOUR_MS == 0;
    char q[24], a[24], b[24], w[24];
    snprintf(q, sizeof q, "%lld", (long long)st->qid[quantity]);
    snprintf(a, sizeof a, "%lld", (long long)from_ms);
    snprintf(b, sizeof b, "%lld", (long long)to_ms);
    snprintf(w, sizeof w, "%lld", (long long)bucket_ms);
    const char *v[] = {site, meter, q, a, b, w};
    /* $4 from, $5 to, $6 bucket width. */
    const char *sql =
        hourly ? "SELECT (h.hour * 3600000 - $4::bigint) / $6::bigint AS b, sum(h.n)::bigint, "
                 "min(h.min), max(h.max), sum(h.sum ORDER BY h.hour), min(h.first_t), "
                 "max(h.last_t) FROM meter_hours h " SERIES_JOIN
                 " AND h.hour >= $4::bigint / 3600000 AND "
                 "h.hour < ($5::bigint + 3599999) / 3600000 GROUP BY b ORDER BY b"
               : "SELECT (h.t - $4::bigint) / $6::bigint AS b, count(*), min(h.value), "
                 "max(h.value), sum(h.value ORDER BY h.t), min(h.t), max(h.t) "
                 "FROM readings h " SERIES_JOIN
                 " AND h.t >= $4::bigint AND h.t < $5::bigint GROUP BY b ORDER BY b";
    PGresult *r = pg_query(st, sql, 6, v, 0, "downsampled readings");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        om_bucket k = {
            .t = from_ms + pg_int(r, i, 0, 0) * bucket_ms,
            .n = (uint32_t)pg_int(r, i, 1, 0),
            .min = pg_double(r, i, 2, 0),
            .max = pg_double(r, i, 3, 0),
            .first_t = pg_int(r, i, 5, 0),
            .last_t = pg_int(r, i, 6, 0),
        };
        k.mean = k.n ? pg_double(r, i, 4, 0) / k.n : 0;
        if (fn(&k, user) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

int pg_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    PGresult *r = pg_query(st, "SELECT m.site, m.meter, q.name, c.n FROM meter_counts c "
                               "JOIN meters m ON m.id = c.meter JOIN quantities q "
                               "ON q.id = c.quantity ORDER BY m.site, m.meter, q.name",
                           0, NULL, 0, "reading counts");
    if (!r)
        return -1;
    size_t nr = (size_t)PQntuples(r);
    *rows = calloc(nr ? nr : 1, sizeof **rows);
    if (!*rows) {
        PQclear(r);
        return store_failf(st, "out of memory");
    }
    for (size_t i = 0; i < nr; i++) {
        om_quantity q;
        if (om_quantity_from_name(PQgetvalue(r, (int)i, 2), &q) < 0)
            continue; /* a quantity of a newer program */
        om_store_reading_count *row = &(*rows)[(*n)++];
        pg_copy_text(row->site, sizeof row->site, r, (int)i, 0);
        pg_copy_text(row->meter, sizeof row->meter, r, (int)i, 1);
        row->quantity = q;
        row->readings = (uint64_t)pg_int(r, (int)i, 3, 0);
    }
    PQclear(r);
    return 0;
}

int pg_totals_quick(om_store *st, om_store_quick_totals *out)
{
    memset(out, 0, sizeof *out);
    PGresult *r = pg_query(st, "SELECT (SELECT coalesce(sum(n), 0) FROM meter_counts)::bigint, "
                               "(SELECT count(*) FROM conflicts), "
                               "(SELECT coalesce(sum(count), 0) FROM reject_counts)::bigint, "
                               "(SELECT count(*) FROM quarantine)",
                           0, NULL, 0, "totals");
    if (!r)
        return -1;
    out->readings = (uint64_t)pg_int(r, 0, 0, 0);
    out->conflicts = (uint64_t)pg_int(r, 0, 1, 0);
    out->rejects = (uint64_t)pg_int(r, 0, 2, 0);
    out->quarantined = (uint64_t)pg_int(r, 0, 3, 0);
    PQclear(r);
    return 0;
}

/* The schema's version 2 has them, and an older schema is not opened. */
bool pg_has_hours(om_store *st)
{
    (void)st;
    return true;
}

int pg_hours_rebuild(om_store *st)
{
    if (pg_exec(st, "BEGIN", "rebuilding the hourly aggregates") < 0)
        return -1;
    if (pg_exec(st, "LOCK TABLE meter_hours, meter_counts IN EXCLUSIVE MODE; "
                    "DELETE FROM meter_hours; DELETE FROM meter_counts; " PG_HOURS_FILL_SQL,
                "rebuilding the hourly aggregates") < 0) {
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
        return -1;
    }
    return pg_exec(st, "COMMIT", "rebuilding the hourly aggregates");
}

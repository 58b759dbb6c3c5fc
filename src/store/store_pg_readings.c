/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_readings.c - the readings of a held group written inside the
 * commit's transaction (store_pg_write.c): the rows, the hourly aggregates
 * and counts of the rows that were new, the conflicts, and the meters'
 * times for the bookkeeping.
 *
 * Two ways, one result. Almost every group holds only new readings (a
 * resend is the exception: an acknowledgement lost, an aggregator killed),
 * and for those the readings go straight into the readings table with COPY,
 * in key order, the first offer of each key only; the group's aggregates
 * are computed here from the same rows. That is what a bare COPY costs,
 * plus a few hundred aggregate rows. When a reading turns out to be stored
 * already, the COPY fails with a unique violation (SQLSTATE 23505; a row
 * of another aggregator's open transaction is waited for first), nothing
 * of it stays (a savepoint), and the group takes the careful way: COPY
 * into the session's temporary table, then one INSERT ... SELECT ... ON
 * CONFLICT DO NOTHING whose RETURNING feeds the aggregates in the same
 * statement. ON CONFLICT checks and confirms every row speculatively, which
 * made it the largest part of a commit (docs/aggregator.md, PostgreSQL
 * ingest); a group whose seqs the store already knows as dealt with (a
 * resend, as the last commit left them) takes the careful way at once.
 *
 * Either way the first offer of a key in the group is the one stored, the
 * rows are written in (meter, quantity, t) order so that concurrent
 * commits wait for each other rather than deadlock, the aggregates take
 * only rows that were new, and a reading that was not new is a duplicate
 * or, with another value than the stored one, a conflict: the two ways
 * differ in cost, never in what they store or count (test_store).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "store_pg.h"

/* COPY data is sent in chunks of about this many bytes. */
#define COPY_CHUNK 65536

/* A group reading by its key: the meter's id, the quantity, the time and
 * the order it was offered in (ord: its index in the group). */
typedef struct {
    int64_t meter, t;
    int32_t quantity;
    uint32_t ord;
} keyed;

/* The readings table's key order: meter id, quantity, time. */
static int cmp_key(int64_t meter_a, int64_t quantity_a, int64_t t_a, int64_t meter_b,
                   int64_t quantity_b, int64_t t_b)
{
    if (meter_a != meter_b)
        return meter_a < meter_b ? -1 : 1;
    if (quantity_a != quantity_b)
        return quantity_a < quantity_b ? -1 : 1;
    return t_a < t_b ? -1 : t_a > t_b;
}

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = cmp_key(x->meter, x->quantity, x->t, y->meter, y->quantity, y->t);
    return c ? c : x->ord < y->ord ? -1 : x->ord > y->ord;
}

static bool same_key(const keyed *x, const keyed *y)
{
    return x->meter == y->meter && x->quantity == y->quantity && x->t == y->t;
}

/* The group's readings in key order (ids known: after resolve). */
static keyed *readings_in_key_order(om_store *st)
{
    const pg_group *g = &st->pg->g;
    keyed *k = malloc((g->nreadings ? g->nreadings : 1) * sizeof *k);
    if (!k) {
        store_failf(st, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < g->nreadings; i++) {
        const pg_reading *x = &g->readings[i];
        k[i] = (keyed){g->meters[x->meter].id, x->t, x->quantity, (uint32_t)i};
    }
    qsort(k, g->nreadings, sizeof *k, cmp_keyed);
    return k;
}

/* ---- COPY ------------------------------------------------------------------------------ */

/* COPY's binary format (the PostgreSQL manual, COPY, "Binary Format"):
 * no text to print here nor to parse on the server, which was a third of
 * the work of both sides. Fields big-endian, each after its length. */
static void put_be(pg_buf *b, uint64_t v, size_t bytes)
{
    unsigned char out[8];
    for (size_t i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    pg_buf_add(b, (const char *)out, bytes);
}

static void put_field(pg_buf *b, uint64_t v, size_t bytes)
{
    put_be(b, bytes, 4);
    put_be(b, v, bytes);
}

static void copy_header(pg_buf *b)
{
    pg_buf_add(b, "PGCOPY\n\377\r\n\0", 11);
    put_be(b, 0, 4); /* flags */
    put_be(b, 0, 4); /* header extension length */
}

/* A row of (ord,) meter integer, quantity smallint, t bigint, value
 * double precision. */
static void copy_row(pg_buf *b, const keyed *k, double value, bool with_ord)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_be(b, with_ord ? 5 : 4, 2);
    if (with_ord)
        put_field(b, k->ord, 4);
    put_field(b, (uint64_t)k->meter, 4);
    put_field(b, (uint64_t)(uint16_t)k->quantity, 2);
    put_field(b, (uint64_t)k->t, 8);
    put_field(b, bits, 8);
}

/* COPY `sql` with the readings k[0..n) (each key's first only when
 * firsts_only; with their ord when with_ord). 0, -1, 1 (replay), or 2 when
 * the server found a reading already stored (unique violation, reported
 * nowhere: the caller takes the careful way). */
static int copy_keyed(om_store *st, const char *sql, const keyed *k, size_t n, bool firsts_only,
                      bool with_ord)
{
    struct store_pg *pg = st->pg;
    int rc;
    PGresult *r = pg_tx_run(st, sql, 0, NULL, &rc, "copying readings");
    PQclear(r);
    if (rc)
        return rc;
    pg_buf *b = &pg->sql;
    pg_buf_reset(b);
    copy_header(b);
    for (size_t i = 0; i < n; i++) {
        if (!firsts_only || i == 0 || !same_key(&k[i - 1], &k[i]))
            copy_row(b, &k[i], pg->g.readings[k[i].ord].value, with_ord);
        if (i + 1 == n)
            put_be(b, 0xffff, 2); /* the trailer: a field count of -1 */
        if (b->len >= COPY_CHUNK || i + 1 == n) {
            if (b->oom) {
                PQputCopyEnd(pg->conn, "out of memory");
                PQclear(PQgetResult(pg->conn));
                return store_failf(st, "out of memory");
            }
            if (PQputCopyData(pg->conn, b->s, (int)b->len) != 1)
                return pg_fail(st, "copying readings");
            pg_buf_reset(b);
        }
    }
    if (PQputCopyEnd(pg->conn, NULL) != 1)
        return pg_fail(st, "copying readings");
    rc = 0;
    while ((r = PQgetResult(pg->conn)) != NULL) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int one;
        if (PQresultStatus(r) == PGRES_FATAL_ERROR && state && strcmp(state, "23505") == 0) {
            PQclear(r);
            one = 2;
        } else if ((one = pg_tx_outcome(st, r, "copying readings")) == 0) {
            PQclear(r);
        }
        if (one && !rc)
            rc = one;
    }
    return rc;
}

/* ---- conflicts --------------------------------------------------------------------------- */

/* A reading that was not new and offered another value than the stored one. */
typedef struct {
    uint32_t ord;
    double stored;
} offer;

typedef struct {
    int64_t meter, quantity, t;
    double stored, offered;
    uint32_t first; /* the group reading that offered it first */
    int64_t times, first_received, last_received;
} conflict;

static int cmp_conflict(const void *a, const void *b)
{
    const conflict *x = a, *y = b;
    int c = cmp_key(x->meter, x->quantity, x->t, y->meter, y->quantity, y->t);
    if (c)
        return c;
    if (x->offered != y->offered)
        return x->offered < y->offered ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int record_conflict(om_store *st, const conflict *cf)
{
    struct store_pg *pg = st->pg;
    const pg_reading *x = &pg->g.readings[cf->first];
    const pg_epoch_news *e = &pg->g.epochs[x->epoch];
    char v[11][32];
    snprintf(v[0], sizeof v[0], "%" PRId64, cf->meter);
    snprintf(v[1], sizeof v[1], "%" PRId64, cf->quantity);
    snprintf(v[2], sizeof v[2], "%" PRId64, cf->t);
    snprintf(v[3], sizeof v[3], "%.17g", cf->stored);
    snprintf(v[4], sizeof v[4], "%.17g", cf->offered);
    snprintf(v[5], sizeof v[5], "%" PRId64, x->seq);
    snprintf(v[6], sizeof v[6], "%" PRId64, cf->first_received);
    snprintf(v[7], sizeof v[7], "%" PRId64, cf->last_received);
    snprintf(v[8], sizeof v[8], "%" PRId64, cf->times);
    const char *p[] = {v[0], v[1], v[2], v[3], v[4], pg->g.gateways[e->gateway].name,
                       e->epoch, v[5], v[6], v[7], v[8]};
    return pg_tx_done(st,
                      "INSERT INTO conflicts(meter, quantity, t, stored, offered, gateway, epoch, "
                      "seq, first_received, last_received, times) VALUES ($1, $2, $3, $4, $5, "
                      "$6, $7, $8, $9, $10, $11) ON CONFLICT (meter, quantity, t, offered) DO "
                      "UPDATE SET times = conflicts.times + excluded.times, last_received = "
                      "greatest(conflicts.last_received, excluded.last_received)",
                      11, p, "recording a conflict");
}

/* Records the offers in conflicts: one row per key and offered value,
 * counted. */
static int record_conflicts(om_store *st, const offer *offers, size_t n, om_store_counts *c)
{
    struct store_pg *pg = st->pg;
    conflict *cs = calloc(n ? n : 1, sizeof *cs);
    if (!cs)
        return store_failf(st, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const pg_reading *x = &pg->g.readings[offers[i].ord];
        cs[i] = (conflict){.meter = pg->g.meters[x->meter].id,
                           .quantity = x->quantity,
                           .t = x->t,
                           .stored = offers[i].stored,
                           .offered = x->value,
                           .first = offers[i].ord,
                           .times = 1,
                           .first_received = x->received,
                           .last_received = x->received};
    }
    c->conflicts = n;
    qsort(cs, n, sizeof *cs, cmp_conflict);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        /* Readings of the same key and offered value are one row. */
        size_t j = i + 1;
        while (j < n && cs[j].meter == cs[i].meter && cs[j].quantity == cs[i].quantity &&
               cs[j].t == cs[i].t && cs[j].offered == cs[i].offered) {
            cs[i].times++;
            if (cs[j].last_received > cs[i].last_received)
                cs[i].last_received = cs[j].last_received;
            j++;
        }
        rc = record_conflict(st, &cs[i]);
        i = j;
    }
    free(cs);
    return rc;
}

/* The careful way's conflicts: the group readings whose key holds another
 * value in the table now. */
static int conflicts_from_table(om_store *st, om_store_counts *c)
{
    int rc;
    PGresult *r = pg_tx_run(st, "SELECT i.ord, r.value FROM om_incoming i JOIN readings r "
                                "ON r.meter = i.meter AND r.quantity = i.quantity AND r.t = i.t "
                                "WHERE r.value <> i.value ORDER BY i.ord", 0, NULL, &rc,
                            "finding conflicts");
    if (!r)
        return rc;
    size_t n = (size_t)PQntuples(r);
    offer *offers = calloc(n ? n : 1, sizeof *offers);
    if (!offers) {
        PQclear(r);
        return store_failf(st, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        offers[i] = (offer){(uint32_t)pg_int(r, (int)i, 0, 0), pg_double(r, (int)i, 1, 0)};
    PQclear(r);
    rc = record_conflicts(st, offers, n, c);
    free(offers);
    return rc;
}

/* The direct way's conflicts: every key was new, so the stored value is
 * the key's first offer, and a later offer of another value conflicts. */
static int conflicts_in_group(om_store *st, const keyed *k, size_t n, om_store_counts *c)
{
    const pg_reading *rs = st->pg->g.readings;
    offer *offers = NULL;
    size_t noffers = 0, cap = 0;
    int rc = 0;
    for (size_t i = 1, first = 0; i < n; i++) {
        if (!same_key(&k[first], &k[i])) {
            first = i;
            continue;
        }
        double stored = rs[k[first].ord].value;
        if (rs[k[i].ord].value == stored)
            continue;
        offer *grown = om_grow(offers, &cap, noffers, sizeof *grown);
        if (!grown) {
            free(offers);
            return store_failf(st, "out of memory");
        }
        offers = grown;
        offers[noffers++] = (offer){k[i].ord, stored};
    }
    if (noffers)
        rc = record_conflicts(st, offers, noffers, c);
    free(offers);
    return rc;
}

/* ---- the meters' times -------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    uint32_t idx;
} id_index;

static int cmp_id_index(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The group meter of a meter id (ids are few: a sorted array). */
static long meter_of_id(const id_index *ids, size_t n, int64_t id)
{
    id_index key = {id, 0};
    const id_index *found = bsearch(&key, ids, n, sizeof *ids, cmp_id_index);
    return found ? (long)found->idx : -1;
}

/* Adds a meter's new readings' first and last times (in meter id order,
 * as the bookkeeping writes them). */
static int add_times(om_store *st, const id_index *ids, int64_t meter, int64_t lo, int64_t hi)
{
    pg_group *g = &st->pg->g;
    struct pg_meter_times *grown = om_grow(g->times, &g->times_cap, g->ntimes, sizeof *grown);
    if (!grown)
        return store_failf(st, "out of memory");
    g->times = grown;
    long m = meter_of_id(ids, g->nmeters, meter);
    g->times[g->ntimes++] =
        (struct pg_meter_times){meter, lo, hi, m >= 0 ? g->meters[m].received : 0};
    return 0;
}

static id_index *meter_ids(om_store *st)
{
    const pg_group *g = &st->pg->g;
    id_index *ids = calloc(g->nmeters ? g->nmeters : 1, sizeof *ids);
    if (!ids) {
        store_failf(st, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < g->nmeters; i++)
        ids[i] = (id_index){g->meters[i].id, (uint32_t)i};
    qsort(ids, g->nmeters, sizeof *ids, cmp_id_index);
    return ids;
}

/* ---- the careful way ---------------------------------------------------------------------- */

static int create_incoming(om_store *st)
{
    struct store_pg *pg = st->pg;
    if (pg->incoming_ready)
        return 0;
    /* A session's own table, emptied by every COMMIT or ROLLBACK. */
    int rc = pg_tx_done(st, "CREATE TEMPORARY TABLE IF NOT EXISTS om_incoming(ord integer, "
                            "meter integer, quantity smallint, t bigint, "
                            "value double precision) ON COMMIT DELETE ROWS", 0, NULL,
                        "preparing the readings");
    if (rc == 0)
        pg->incoming_ready = true;
    return rc;
}

/* Every group reading into om_incoming, then the new ones into readings;
 * the rows inserted, and only they (not a resend's, not another
 * aggregator's), go into the hourly aggregates in the same statement
 * (hours.h): a group's hours merged into the stored ones, n and sum added,
 * min and max kept, the first and last reading moved when the group's are
 * earlier or later. */
static int write_carefully(om_store *st, const keyed *k, om_store_counts *c)
{
    struct store_pg *pg = st->pg;
    int rc = create_incoming(st);
    if (rc == 0)
        rc = copy_keyed(st, "COPY om_incoming FROM STDIN (FORMAT binary)", k, pg->g.nreadings,
                        false, true);
    if (rc == 2) /* om_incoming has no key */
        rc = store_failf(st, "copying readings: unexpected unique violation");
    if (rc)
        return rc;
    PGresult *r = pg_tx_run(st,
                            "WITH ins AS (INSERT INTO readings(meter, quantity, t, value) "
                            "SELECT meter, quantity, t, value FROM om_incoming "
                            "ORDER BY meter, quantity, t, ord ON CONFLICT DO NOTHING "
                            "RETURNING meter, quantity, t, value), "
                            "hours AS (INSERT INTO " PG_HOURS_COLUMNS " " PG_HOURS_OF("ins")
                            " " PG_HOURS_MERGE "), "
                            "counts AS (INSERT INTO meter_counts(meter, quantity, n) "
                            PG_COUNTS_OF("ins") " " PG_COUNTS_MERGE ") "
                            "SELECT meter, min(t), max(t), count(*) FROM ins GROUP BY meter "
                            "ORDER BY meter",
                            0, NULL, &rc, "storing readings");
    if (!r)
        return rc;
    id_index *ids = meter_ids(st);
    if (!ids) {
        PQclear(r);
        return -1;
    }
    uint64_t stored = 0;
    pg->g.ntimes = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        stored += (uint64_t)pg_int(r, i, 3, 0);
        rc = add_times(st, ids, pg_int(r, i, 0, 0), pg_int(r, i, 1, 0), pg_int(r, i, 2, 0));
    }
    PQclear(r);
    free(ids);
    if (rc)
        return rc;
    c->stored = stored;
    if (stored < pg->g.nreadings && (rc = conflicts_from_table(st, c)) != 0)
        return rc;
    c->duplicates = pg->g.nreadings - stored - c->conflicts;
    return 0;
}

/* ---- the direct way ----------------------------------------------------------------------- */

/* One hour of one series in the group (hours.h), as meter_hours holds it. */
typedef struct {
    int64_t meter, hour, n;
    int32_t quantity;
    double sum, min, max, first_v, last_v;
    int64_t first_t, last_t;
} group_hour;

/* The arrays of meter_hours' columns, and meter_counts', for unnest. */
typedef struct {
    pg_buf col[11];
    pg_buf count_col[3];
} hour_arrays;

static void hour_arrays_free(hour_arrays *a)
{
    for (size_t i = 0; i < 11; i++)
        pg_buf_free(&a->col[i]);
    for (size_t i = 0; i < 3; i++)
        pg_buf_free(&a->count_col[i]);
}

static void add_hour(hour_arrays *a, const group_hour *h)
{
    pg_buf_array_int(&a->col[0], h->meter);
    pg_buf_array_int(&a->col[1], h->quantity);
    pg_buf_array_int(&a->col[2], h->hour);
    pg_buf_array_int(&a->col[3], h->n);
    pg_buf_array_double(&a->col[4], h->sum);
    pg_buf_array_double(&a->col[5], h->min);
    pg_buf_array_double(&a->col[6], h->max);
    pg_buf_array_int(&a->col[7], h->first_t);
    pg_buf_array_double(&a->col[8], h->first_v);
    pg_buf_array_int(&a->col[9], h->last_t);
    pg_buf_array_double(&a->col[10], h->last_v);
}

static void add_count(hour_arrays *a, int64_t meter, int32_t quantity, int64_t n)
{
    pg_buf_array_int(&a->count_col[0], meter);
    pg_buf_array_int(&a->count_col[1], quantity);
    pg_buf_array_int(&a->count_col[2], n);
}

/* The hours and counts of the keys' first offers (all of them new), in key
 * order; sums add in time order, as PG_HOURS_OF does, so that either way
 * gives the same bits. The meters' times on the way. */
static int fill_hours(om_store *st, const keyed *k, size_t n, hour_arrays *a)
{
    const pg_reading *rs = st->pg->g.readings;
    for (size_t i = 0; i < 11; i++)
        pg_buf_array_open(&a->col[i]);
    for (size_t i = 0; i < 3; i++)
        pg_buf_array_open(&a->count_col[i]);
    id_index *ids = meter_ids(st);
    if (!ids)
        return -1;
    st->pg->g.ntimes = 0;
    group_hour h = {0};
    int64_t series_n = 0, meter_lo = 0, meter_hi = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i > 0 && same_key(&k[i - 1], &k[i]))
            continue; /* a later offer: not stored */
        double v = rs[k[i].ord].value;
        int64_t hour = k[i].t / OM_HOUR_MS;
        bool new_meter = h.n == 0 || k[i].meter != h.meter;
        bool new_series = new_meter || k[i].quantity != h.quantity;
        if (h.n && (new_series || hour != h.hour))
            add_hour(a, &h);
        if (h.n && new_series) {
            add_count(a, h.meter, h.quantity, series_n);
            series_n = 0;
        }
        if (h.n && new_meter)
            rc = add_times(st, ids, h.meter, meter_lo, meter_hi);
        if (new_meter)
            meter_lo = meter_hi = k[i].t;
        if (k[i].t < meter_lo)
            meter_lo = k[i].t;
        if (k[i].t > meter_hi)
            meter_hi = k[i].t;
        series_n++;
        if (new_series || hour != h.hour) {
            h = (group_hour){k[i].meter, hour, 1, k[i].quantity, v, v, v, v, v, k[i].t, k[i].t};
            continue;
        }
        h.n++;
        h.sum += v;
        h.min = v < h.min ? v : h.min;
        h.max = v > h.max ? v : h.max;
        h.last_t = k[i].t; /* times rise within a series */
        h.last_v = v;
    }
    if (h.n && rc == 0) {
        add_hour(a, &h);
        add_count(a, h.meter, h.quantity, series_n);
        rc = add_times(st, ids, h.meter, meter_lo, meter_hi);
    }
    free(ids);
    for (size_t i = 0; i < 11; i++)
        pg_buf_array_close(&a->col[i]);
    for (size_t i = 0; i < 3; i++)
        pg_buf_array_close(&a->count_col[i]);
    for (size_t i = 0; i < 11 && rc == 0; i++)
        if (a->col[i].oom)
            rc = store_failf(st, "out of memory");
    for (size_t i = 0; i < 3 && rc == 0; i++)
        if (a->count_col[i].oom)
            rc = store_failf(st, "out of memory");
    return rc;
}

static int write_hours(om_store *st, const keyed *k, size_t n)
{
    hour_arrays a = {0};
    int rc = fill_hours(st, k, n, &a);
    const char *v[11];
    for (size_t i = 0; i < 11; i++)
        v[i] = a.col[i].s;
    if (rc == 0)
        rc = pg_tx_done(st,
                        "INSERT INTO " PG_HOURS_COLUMNS " SELECT * FROM unnest($1::int[], "
                        "$2::smallint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], "
                        "$7::float8[], $8::bigint[], $9::float8[], $10::bigint[], $11::float8[]) "
                        PG_HOURS_MERGE,
                        11, v, "storing hourly aggregates");
    const char *cv[] = {a.count_col[0].s, a.count_col[1].s, a.count_col[2].s};
    if (rc == 0)
        rc = pg_tx_done(st,
                        "INSERT INTO meter_counts(meter, quantity, n) SELECT * FROM "
                        "unnest($1::int[], $2::smallint[], $3::bigint[]) " PG_COUNTS_MERGE,
                        3, cv, "storing reading counts");
    hour_arrays_free(&a);
    return rc;
}

/* The keys' first offers COPYed into readings under a savepoint. 0 done,
 * 2 when one was stored already (nothing of the COPY stays), else the
 * attempt's failure. */
static int write_directly(om_store *st, const keyed *k, om_store_counts *c)
{
    struct store_pg *pg = st->pg;
    int rc = pg_tx_done(st, "SAVEPOINT om_direct", 0, NULL, "storing readings");
    if (rc == 0)
        rc = copy_keyed(st, "COPY readings(meter, quantity, t, value) FROM STDIN (FORMAT binary)",
                        k, pg->g.nreadings, true, false);
    if (rc == 2) {
        int back = pg_tx_done(st, "ROLLBACK TO SAVEPOINT om_direct", 0, NULL, "storing readings");
        return back ? back : 2;
    }
    if (rc)
        return rc;
    size_t stored = 0;
    for (size_t i = 0; i < pg->g.nreadings; i++)
        stored += i == 0 || !same_key(&k[i - 1], &k[i]);
    if ((rc = write_hours(st, k, pg->g.nreadings)) != 0)
        return rc;
    c->stored = stored;
    if (stored < pg->g.nreadings && (rc = conflicts_in_group(st, k, pg->g.nreadings, c)) != 0)
        return rc;
    c->duplicates = pg->g.nreadings - stored - c->conflicts;
    return 0;
}

/* Whether the group holds a seq the store knows as dealt with (as our last
 * commit of its epoch left it): a resend, whose readings are stored. */
static bool looks_resent(om_store *st)
{
    struct store_pg *pg = st->pg;
    for (size_t i = 0; i < pg->g.nepochs; i++) {
        const pg_epoch_news *e = &pg->g.epochs[i];
        const pg_named *gw = &pg->g.gateways[e->gateway];
        char key[192];
        snprintf(key, sizeof key, "%s\x1f%s\x1f%s", gw->site, gw->name, e->epoch);
        const pg_epoch_state *s = om_map_get(&pg->epoch_states, key);
        if (!s || !s->known || e->done.n == 0)
            continue;
        if (e->done.r[0].from <= s->upto)
            return true;
        /* Both sets are sorted and disjoint within themselves. */
        for (size_t a = 0, b = 0; a < e->done.n && b < s->above.n;) {
            const om_seq_range *x = &e->done.r[a], *y = &s->above.r[b];
            if (x->to < y->from)
                a++;
            else if (y->to < x->from)
                b++;
            else
                return true;
        }
    }
    return false;
}

int pg_write_readings(om_store *st, om_store_counts *c)
{
    struct store_pg *pg = st->pg;
    pg->g.ntimes = 0;
    if (pg->g.nreadings == 0)
        return 0;
    keyed *k = readings_in_key_order(st);
    if (!k)
        return -1;
    int rc = 2;
    if (!looks_resent(st)) {
        rc = write_directly(st, k, c);
        if (rc == 2)
            pg->careful_after_direct++;
    }
    if (rc == 2) {
        *c = (om_store_counts){0};
        rc = write_carefully(st, k, c);
    }
    free(k);
    return rc;
}

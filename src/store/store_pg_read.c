/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_read.c - the PostgreSQL backend's queries for the CLI: gateways,
 * meters, rejects, quarantine, totals and readings, copied out into the
 * same plain arrays as the SQLite backend's (store_read.c), in the same
 * order ("C" collation: byte order, like SQLite).
 *
 * A read transaction is REPEATABLE READ READ ONLY: every query between
 * om_store_read_begin and om_store_read_end sees one snapshot while the
 * aggregators go on committing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "store_pg.h"

int pg_read_begin(om_store *st)
{
    if (st->in_group || st->in_read)
        return 0;
    if (pg_exec(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "read transaction") < 0)
        return -1;
    st->in_read = true;
    st->pg->in_tx = true;
    return 0;
}

void pg_read_end(om_store *st)
{
    if (st->in_read)
        PQclear(PQexec(st->pg->conn, "COMMIT"));
    st->in_read = false;
    st->pg->in_tx = false;
}

typedef void (*fill_fn)(const PGresult *r, int row, void *out);

/* Runs a query and copies each row out with fill into a malloc'd array. */
static int collect(om_store *st, const char *sql, int n, const char *const *values, size_t elem,
                   fill_fn fill, void **rows, size_t *count)
{
    *rows = NULL;
    *count = 0;
    PGresult *r = pg_query(st, sql, n, values, 0, "query");
    if (!r)
        return -1;
    size_t nr = (size_t)PQntuples(r);
    char *out = calloc(nr ? nr : 1, elem);
    if (!out) {
        PQclear(r);
        return store_failf(st, "out of memory");
    }
    for (size_t i = 0; i < nr; i++)
        fill(r, (int)i, out + i * elem);
    PQclear(r);
    *rows = out;
    *count = nr;
    return 0;
}

static void fill_gateway(const PGresult *r, int i, void *p)
{
    om_store_gateway_row *g = p;
    pg_copy_text(g->site, sizeof g->site, r, i, 0);
    pg_copy_text(g->gateway, sizeof g->gateway, r, i, 1);
    pg_copy_text(g->state, sizeof g->state, r, i, 2);
    g->state_t = pg_int(r, i, 3, 0);
    g->last_seen = pg_int(r, i, 4, 0);
    g->health_t = pg_int(r, i, 5, 0);
    g->outbox_depth = pg_int(r, i, 6, -1);
    g->errors = pg_int(r, i, 7, -1);
}

int pg_gateways(om_store *st, om_store_gateway_row **rows, size_t *n)
{
    return collect(st, "SELECT site, gateway, state, state_t, last_seen, health_t, outbox_depth, "
                       "errors FROM gateways ORDER BY site, gateway",
                   0, NULL, sizeof **rows, fill_gateway, (void **)rows, n);
}

static void fill_meter(const PGresult *r, int i, void *p)
{
    om_store_meter_row *m = p;
    pg_copy_text(m->site, sizeof m->site, r, i, 0);
    pg_copy_text(m->meter, sizeof m->meter, r, i, 1);
    m->first_t = pg_int(r, i, 2, 0);
    m->last_t = pg_int(r, i, 3, 0);
    m->last_received = pg_int(r, i, 4, 0);
}

int pg_meters(om_store *st, om_store_meter_row **rows, size_t *n)
{
    return collect(st, "SELECT site, meter, first_t, last_t, last_received FROM meters "
                       "ORDER BY site, meter",
                   0, NULL, sizeof **rows, fill_meter, (void **)rows, n);
}

static void fill_reject(const PGresult *r, int i, void *p)
{
    om_store_reject_row *j = p;
    j->id = pg_int(r, i, 0, 0);
    j->received_ms = pg_int(r, i, 1, 0);
    pg_copy_text(j->topic, sizeof j->topic, r, i, 2);
    pg_copy_text(j->site, sizeof j->site, r, i, 3);
    pg_copy_text(j->gateway, sizeof j->gateway, r, i, 4);
    pg_copy_text(j->code, sizeof j->code, r, i, 5);
    pg_copy_text(j->reason, sizeof j->reason, r, i, 6);
    j->seq = pg_int(r, i, 7, 0);
    pg_copy_text(j->meter, sizeof j->meter, r, i, 8);
    size_t len = 0;
    unsigned char *raw = PQgetisnull(r, i, 9)
                             ? NULL
                             : PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 9), &len);
    j->raw = malloc(len + 1);
    if (j->raw) {
        if (len)
            memcpy(j->raw, raw, len);
        j->raw[len] = '\0';
        j->rawlen = len;
    }
    PQfreemem(raw);
    j->raw_bytes = (size_t)pg_int(r, i, 10, 0);
}

int pg_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
               size_t *n)
{
    char since[24], lim[24];
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *v[] = {since, limit ? lim : NULL};
    return collect(st, "SELECT id, received, topic, site, gateway, code, reason, seq, meter, "
                       "payload, payload_bytes FROM rejects WHERE received >= $1 "
                       "ORDER BY id DESC LIMIT $2::bigint",
                   2, v, sizeof **rows, fill_reject, (void **)rows, n);
}

static void fill_count(const PGresult *r, int i, void *p)
{
    om_store_reject_count *c = p;
    pg_copy_text(c->site, sizeof c->site, r, i, 0);
    pg_copy_text(c->gateway, sizeof c->gateway, r, i, 1);
    pg_copy_text(c->code, sizeof c->code, r, i, 2);
    c->count = (uint64_t)pg_int(r, i, 3, 0);
    c->last_received = pg_int(r, i, 4, 0);
}

int pg_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n)
{
    return collect(st, "SELECT site, gateway, code, count, last_received FROM reject_counts "
                       "ORDER BY site, gateway, code",
                   0, NULL, sizeof **rows, fill_count, (void **)rows, n);
}

static void fill_quarantine(const PGresult *r, int i, void *p)
{
    om_store_quarantine_row *q = p;
    q->id = pg_int(r, i, 0, 0);
    q->received_ms = pg_int(r, i, 1, 0);
    pg_copy_text(q->site, sizeof q->site, r, i, 2);
    pg_copy_text(q->gateway, sizeof q->gateway, r, i, 3);
    pg_copy_text(q->epoch, sizeof q->epoch, r, i, 4);
    q->seq = pg_int(r, i, 5, 0);
    pg_copy_text(q->meter, sizeof q->meter, r, i, 6);
    q->t_ms = pg_int(r, i, 7, 0);
    pg_copy_text(q->code, sizeof q->code, r, i, 8);
    pg_copy_text(q->reason, sizeof q->reason, r, i, 9);
    q->poll_json = strdup(PQgetisnull(r, i, 10) ? "{}" : PQgetvalue(r, i, 10));
}

int pg_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n)
{
    return collect(st, "SELECT id, received, site, gateway, epoch, seq, meter, t, code, reason, "
                       "poll FROM quarantine ORDER BY id",
                   0, NULL, sizeof **rows, fill_quarantine, (void **)rows, n);
}

static int count_of(om_store *st, const char *sql, uint64_t *out)
{
    PGresult *r = pg_query(st, sql, 0, NULL, 0, "totals");
    if (!r)
        return -1;
    *out = PQntuples(r) ? (uint64_t)pg_int(r, 0, 0, 0) : 0;
    PQclear(r);
    return 0;
}

int pg_totals_get(om_store *st, om_store_totals *out)
{
    memset(out, 0, sizeof *out);
    if (count_of(st, "SELECT count(*) FROM readings", &out->readings) < 0 ||
        count_of(st, "SELECT count(*) FROM meters", &out->meters) < 0 ||
        count_of(st, "SELECT count(*) FROM conflicts", &out->conflicts) < 0 ||
        count_of(st, "SELECT coalesce(sum(count), 0) FROM reject_counts", &out->rejects) < 0 ||
        count_of(st, "SELECT count(*) FROM quarantine", &out->quarantined) < 0)
        return -1;
    return 0;
}

int pg_gateway_health_json(om_store *st, const char *site, const char *gateway, char **json)
{
    *json = NULL;
    const char *v[] = {site, gateway};
    PGresult *r = pg_query(st, "SELECT health FROM gateways WHERE site = $1 AND gateway = $2", 2,
                           v, 0, "gateway health");
    if (!r)
        return -1;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        *json = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int pg_lookup_id(om_store *st, bool meter, const char *site, const char *name, int64_t *id)
{
    char key[160];
    snprintf(key, sizeof key, "%s\x1f%s", site, name);
    om_map *cache = meter ? &st->pg->meter_ids : &st->pg->gateway_ids;
    int64_t *known = om_map_get(cache, key);
    if (known) {
        *id = *known;
        return 0;
    }
    const char *v[] = {site, name};
    PGresult *r = pg_query(st, meter ? "SELECT id FROM meters WHERE site = $1 AND meter = $2"
                                     : "SELECT id FROM gateways WHERE site = $1 AND gateway = $2",
                           2, v, 0, meter ? "meter" : "gateway");
    if (!r)
        return -1;
    *id = PQntuples(r) ? pg_int(r, 0, 0, 0) : 0;
    PQclear(r);
    if (*id) {
        int64_t *copy = malloc(sizeof *copy);
        if (copy && om_map_put(cache, key, copy) == 0)
            *copy = *id;
        else
            free(copy);
    }
    return 0;
}

/* Rows arrive one by one (single-row mode): a range of millions of
 * readings never sits in memory whole. */
int pg_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user)
{
    if ((int)quantity < 0 || quantity >= OM_Q__COUNT)
        return store_failf(st, "unknown quantity %d", (int)quantity);
    int64_t id;
    if (pg_lookup_id(st, true, site, meter, &id) < 0)
        return -1;
    if (id == 0 || st->qid[quantity] == 0)
        return 0;
    char a[24], b[24], c[24], d[24];
    snprintf(a, sizeof a, "%lld", (long long)id);
    snprintf(b, sizeof b, "%lld", (long long)st->qid[quantity]);
    snprintf(c, sizeof c, "%lld", (long long)from_ms);
    snprintf(d, sizeof d, "%lld", (long long)to_ms);
    const char *v[] = {a, b, c, d};
    PGconn *conn = st->pg->conn;
    if (!PQsendQueryParams(conn, "SELECT t, value FROM readings WHERE meter = $1 AND "
                                 "quantity = $2 AND t >= $3 AND t < $4 ORDER BY t",
                           4, NULL, v, NULL, NULL, 1) ||
        !PQsetSingleRowMode(conn))
        return pg_fail(st, "readings");
    int rc = 0;
    bool stop = false;
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && !stop && rc == 0)
            stop = fn(pg_bin_int8(r, 0, 0), pg_bin_float8(r, 0, 1), user) != 0;
        else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && rc == 0) {
            pg_failr(st, "readings", r);
            rc = -1;
            continue;
        }
        PQclear(r);
    }
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_api.c - store.h and rollupdb.h: open the backend the database names,
 * then one call through its table of functions (store_ops.h) per public
 * function. What does not depend on the backend is here too: the handle's
 * life, its error text, the group's counts, freeing rows.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "officemeter/config/aggcfg.h"
#include "store_private.h"

/* ---- the handle -------------------------------------------------------------- */

om_store *om_store_open(const char *path, unsigned flags, char *err, size_t errlen)
{
    om_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(st);
        return NULL;
    }
    st->readonly = (flags & OM_STORE_READONLY) != 0;
    st->rejects_keep = 10000;
    int rc;
    if (om_database_is_postgresql(path)) {
        st->ops = &store_pg_ops;
        rc = store_pg_open(st, path, flags);
    } else {
        st->ops = &store_sqlite_ops;
        rc = store_sqlite_open(st, flags);
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", st->err);
        om_store_close(st);
        return NULL;
    }
    return st;
}

void om_store_close(om_store *st)
{
    if (!st)
        return;
    st->ops->close(st);
    free(st->path);
    free(st);
}

const char *om_store_errmsg(const om_store *st)
{
    return st ? st->err : "out of memory";
}

const char *om_store_path(const om_store *st)
{
    return st->path;
}

const char *om_store_backend(const om_store *st)
{
    return st->ops->name;
}

void om_store_set_rejects_keep(om_store *st, uint64_t keep)
{
    st->rejects_keep = keep;
}

/* ---- groups ------------------------------------------------------------------- */

int om_store_begin(om_store *st)
{
    bool was_open = st->in_group;
    int rc = st->ops->begin(st);
    if (rc == 0 && !was_open)
        memset(&st->group_counts, 0, sizeof st->group_counts);
    return rc;
}

int om_store_commit(om_store *st)
{
    if (!st->in_group)
        return 0;
    int rc = st->ops->commit(st);
    if (rc == 0) {
        st->last_counts = st->group_counts;
        memset(&st->group_counts, 0, sizeof st->group_counts);
    }
    return rc;
}

void om_store_rollback(om_store *st)
{
    st->ops->rollback(st);
    memset(&st->group_counts, 0, sizeof st->group_counts);
}

int om_store_checkpoint(om_store *st)
{
    return st->ops->checkpoint(st);
}

int om_store_checkpoint_truncate(om_store *st)
{
    return st->ops->checkpoint_truncate(st);
}

int64_t om_store_disk_free(const om_store *st)
{
    return st->ops->disk_free(st);
}

bool om_store_unavailable(const om_store *st)
{
    return st && st->unavailable;
}

void om_store_group_counts(const om_store *st, om_store_counts *out)
{
    *out = st->last_counts;
}

static void add_counts(om_store_counts *to, const om_store_counts *c)
{
    to->stored += c->stored;
    to->duplicates += c->duplicates;
    to->conflicts += c->conflicts;
}

int om_store_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                      om_store_counts *counts)
{
    om_store_counts now = {0};
    int rc = st->ops->put_poll(st, o, poll, &now);
    if (rc == 0) {
        add_counts(&st->group_counts, &now);
        if (counts)
            add_counts(counts, &now);
    }
    return rc;
}

/* The contract's seqs are 1 .. OM_SEQ_MAX (store_seq.c): upto + 1 and
 * to + 1 never overflow, on either backend. */
static int seq_bounds(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (from >= 1 && to <= OM_SEQ_MAX && from <= to)
        return 0;
    st->unavailable = false;
    snprintf(st->err, sizeof st->err,
             "%s: gateway %s/%s epoch %s: seqs %" PRId64 "..%" PRId64 " out of range (expected "
             "1 <= from <= to <= %" PRId64 ")",
             st->path, o->site, o->gateway, o->epoch, from, to, (int64_t)OM_SEQ_MAX);
    return -1;
}

int om_store_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (seq_bounds(st, o, from, to) < 0)
        return -1;
    return st->ops->seq_done(st, o, from, to);
}

int om_store_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (seq_bounds(st, o, from, to) < 0)
        return -1;
    return st->ops->seq_skipped(st, o, from, to);
}

int om_store_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms,
                           int64_t *from, int64_t *to)
{
    return st->ops->seq_close_gap(st, o, after_ms, from, to);
}

int om_store_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                      int64_t *upto)
{
    return st->ops->seq_upto(st, site, gateway, epoch, upto);
}

int om_store_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                        int64_t t_ms, const char *code, const char *reason, const char *poll_json)
{
    return st->ops->quarantine(st, o, seq, meter, t_ms, code, reason, poll_json);
}

int om_store_reject_add(om_store *st, const om_store_reject *r)
{
    return st->ops->reject_add(st, r);
}

int om_store_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms)
{
    return st->ops->gateway_seen(st, site, gateway, t_ms);
}

int om_store_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                           int64_t t_ms)
{
    return st->ops->gateway_state(st, site, gateway, state, t_ms);
}

int om_store_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                            int64_t outbox_depth, int64_t errors, const char *raw)
{
    return st->ops->gateway_health(st, site, gateway, t_ms, outbox_depth, errors, raw);
}

int om_store_quarantine_remove(om_store *st, int64_t id)
{
    return st->ops->quarantine_remove(st, id);
}

int om_store_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason)
{
    return st->ops->quarantine_update(st, id, code, reason);
}

/* ---- reading ------------------------------------------------------------------ */

int om_store_read_begin(om_store *st)
{
    return st->ops->read_begin(st);
}

void om_store_read_end(om_store *st)
{
    st->ops->read_end(st);
}

int om_store_gateways(om_store *st, om_store_gateway_row **rows, size_t *n)
{
    return st->ops->gateways(st, rows, n);
}

int om_store_meters(om_store *st, om_store_meter_row **rows, size_t *n)
{
    return st->ops->meters(st, rows, n);
}

int om_store_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
                     size_t *n)
{
    return st->ops->rejects(st, since_ms, limit, rows, n);
}

void om_store_rejects_free(om_store_reject_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].raw);
    free(rows);
}

int om_store_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n)
{
    return st->ops->reject_counts(st, rows, n);
}

int om_store_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n)
{
    return st->ops->quarantined(st, rows, n);
}

void om_store_quarantined_free(om_store_quarantine_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].poll_json);
    free(rows);
}

int om_store_totals_get(om_store *st, om_store_totals *out)
{
    return st->ops->totals_get(st, out);
}

int om_store_gateway_health_json(om_store *st, const char *site, const char *gateway,
                                 char **json)
{
    return st->ops->gateway_health_json(st, site, gateway, json);
}

int om_store_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                      int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user)
{
    return st->ops->readings(st, site, meter, quantity, from_ms, to_ms, fn, user);
}

/* ---- rollups (rollupdb.h) ------------------------------------------------------ */

om_rollupdb *om_rollupdb_open(om_store *st, char *err, size_t errlen)
{
    om_rollupdb *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", om_store_path(st));
        return NULL;
    }
    db->st = st;
    if (st->ops->rollup_open(db) < 0) {
        snprintf(err, errlen, "%s", db->err);
        om_rollupdb_close(db);
        return NULL;
    }
    return db;
}

void om_rollupdb_close(om_rollupdb *db)
{
    if (!db)
        return;
    db->st->ops->rollup_close(db);
    free(db);
}

const char *om_rollupdb_errmsg(const om_rollupdb *db)
{
    return db->err;
}

void om_rollupdb_source(om_rollupdb *db, om_rollup_source *src)
{
    db->st->ops->rollup_source(db, src);
}

int om_rollupdb_state(om_rollupdb *db, const char *site, int year, unsigned month,
                      om_rollup_state *out)
{
    return db->st->ops->rollup_state(db, site, year, month, out);
}

int om_rollupdb_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                     bool provisional, int64_t computed_at, uint64_t fingerprint,
                     const om_meter_month *rows, size_t nrows, const om_month_event *events,
                     size_t nevents)
{
    return db->st->ops->rollup_save(db, site, year, month, provisional, computed_at, fingerprint,
                                    rows, nrows, events, nevents);
}

int om_rollupdb_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                          size_t *nrows, om_month_event **events, size_t *nevents)
{
    return db->st->ops->rollup_load_year(db, site, year, rows, nrows, events, nevents);
}

int om_rollupdb_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                     const om_retain_series *series, size_t nseries,
                     const om_retain_digest *digests, size_t ndigests, uint64_t kept, int64_t at)
{
    return db->st->ops->rollup_thin(db, site, from, to, series, nseries, digests, ndigests, kept,
                                    at);
}

int om_rollupdb_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done)
{
    return db->st->ops->rollup_thinned(db, site, from, done);
}

/* ---- approvals (approval.h) ------------------------------------------------------ */

int om_approval_latest(om_store *st, int year, om_approval *out, char *err, size_t errlen)
{
    return st->ops->approval_latest(st, year, out, err, errlen);
}

int om_approval_add(om_store *st, const om_approval *a, char *err, size_t errlen)
{
    return st->ops->approval_add(st, a, err, errlen);
}

/* ---- hourly aggregates (hours.h) ----------------------------------------------- */

int om_store_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
                   int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user)
{
    return st->ops->hours(st, site, meter, quantity, from_ms, to_ms, fn, user);
}

int om_store_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
                     int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn,
                     void *user)
{
    if (bucket_ms <= 0 || to_ms <= from_ms)
        return store_failf(st, "empty range or bucket");
    return st->ops->buckets(st, site, meter, quantity, from_ms, to_ms, bucket_ms, fn, user);
}

int om_store_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n)
{
    return st->ops->reading_counts(st, rows, n);
}

int om_store_totals_quick(om_store *st, om_store_quick_totals *out)
{
    return st->ops->totals_quick(st, out);
}

bool om_store_has_hours(om_store *st)
{
    return st->ops->has_hours(st);
}

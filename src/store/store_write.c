/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_write.c - the writer's hot path: readings, sequence state, rejects,
 * quarantine and gateway rows, through the caches of store_private.h.
 *
 * Sequence state of one (gateway, epoch), kept in memory and written at
 * commit:
 *
 *     upto = 1030        ranges above it: [1032..1040] [1050..1050]
 *     seq 1031 arrives -> upto = 1040, ranges [1050..1050]
 *
 * om_store_seq_done merges a range in; whenever the lowest range touches
 * upto + 1, upto jumps to its end. That is the cumulative acknowledgement:
 * a gap holds it back until a resend (or a "skipped" range) fills it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "officemeter/base/array.h"

/* ---- caches ----------------------------------------------------------------- */

int store_mark_dirty(om_store *st, void *row, int kind)
{
    size_t rows_cap = st->dirty_cap; /* one capacity for both, updated once both have grown */
    void **rows = om_grow(st->dirty, &rows_cap, st->ndirty, sizeof *rows);
    if (!rows)
        return store_failf(st, "out of memory");
    st->dirty = rows;
    unsigned char *kinds = om_grow(st->dirty_kind, &st->dirty_cap, st->ndirty, 1);
    if (!kinds)
        return store_failf(st, "out of memory");
    st->dirty_kind = kinds;
    st->dirty[st->ndirty] = row;
    st->dirty_kind[st->ndirty++] = (unsigned char)kind;
    return 0;
}

static void free_epoch(void *p)
{
    store_epoch *e = p;
    free(e->ranges);
    free(e);
}

void store_drop_caches(om_store *st)
{
    om_map_clear(&st->meters, free);
    om_map_clear(&st->gateways, free);
    om_map_clear(&st->epochs, free_epoch);
    st->ndirty = 0;
}

static void key2(char *buf, size_t len, const char *a, const char *b)
{
    snprintf(buf, len, "%s\x1f%s", a, b);
}

/* Looks a (site, name) row up in the database, inserting it when new. */
static int64_t row_id(om_store *st, int get, int insert, const char *site, const char *name,
                      sqlite3_stmt **found)
{
    sqlite3_stmt *s = store_stmt(st, get);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = s; /* the caller reads the other columns, then resets */
        return sqlite3_column_int64(s, 0);
    }
    store_done(s);
    *found = NULL;
    if (rc != SQLITE_DONE)
        return store_fail(st, "lookup");
    s = store_stmt(st, insert);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "insert");
    return sqlite3_last_insert_rowid(st->db);
}

static store_meter *meter_get(om_store *st, const char *site, const char *meter)
{
    char key[160];
    key2(key, sizeof key, site, meter);
    store_meter *m = om_map_get(&st->meters, key);
    if (m)
        return m;
    m = calloc(1, sizeof *m);
    if (!m) {
        store_failf(st, "out of memory");
        return NULL;
    }
    sqlite3_stmt *found;
    m->id = row_id(st, S_METER_GET, S_METER_INSERT, site, meter, &found);
    if (found) {
        m->first_t = sqlite3_column_int64(found, 1);
        m->last_t = sqlite3_column_int64(found, 2);
        m->last_received = sqlite3_column_int64(found, 3);
        store_done(found);
    }
    if (m->id < 0 || om_map_put(&st->meters, key, m) < 0) {
        if (m->id >= 0)
            store_failf(st, "out of memory");
        free(m);
        return NULL;
    }
    return m;
}

store_gateway *store_gateway_get(om_store *st, const char *site, const char *gateway)
{
    char key[160];
    key2(key, sizeof key, site, gateway);
    store_gateway *g = om_map_get(&st->gateways, key);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g) {
        store_failf(st, "out of memory");
        return NULL;
    }
    sqlite3_stmt *found;
    g->id = row_id(st, S_GW_GET, S_GW_INSERT, site, gateway, &found);
    if (found) {
        g->last_seen = sqlite3_column_int64(found, 1);
        store_done(found);
    }
    if (g->id < 0 || om_map_put(&st->gateways, key, g) < 0) {
        if (g->id >= 0)
            store_failf(st, "out of memory");
        free(g);
        return NULL;
    }
    return g;
}

static int range_push(om_store *st, store_epoch *e, int64_t first, int64_t last)
{
    om_seq_range *r = om_grow(e->ranges, &e->cap, e->nranges, sizeof *r);
    if (!r)
        return store_failf(st, "out of memory");
    e->ranges = r;
    e->ranges[e->nranges++] = (om_seq_range){first, last};
    return 0;
}

static int epoch_load(om_store *st, store_epoch *e)
{
    sqlite3_stmt *s = store_stmt(st, S_EPOCH_GET);
    sqlite3_bind_int64(s, 1, e->gateway_id);
    sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        e->upto = sqlite3_column_int64(s, 0);
        e->first_seen = sqlite3_column_int64(s, 1);
        e->last_seen = sqlite3_column_int64(s, 2);
    }
    store_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(st, "epoch lookup");
    s = store_stmt(st, S_EPOCH_RANGES);
    sqlite3_bind_int64(s, 1, e->gateway_id);
    sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (range_push(st, e, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)) < 0)
            break;
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "epoch ranges");
}

static store_epoch *epoch_get(om_store *st, const char *site, const char *gateway,
                              const char *epoch)
{
    store_gateway *g = store_gateway_get(st, site, gateway);
    if (!g)
        return NULL;
    char key[96], id[24];
    snprintf(id, sizeof id, "%lld", (long long)g->id);
    key2(key, sizeof key, id, epoch);
    store_epoch *e = om_map_get(&st->epochs, key);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e) {
        store_failf(st, "out of memory");
        return NULL;
    }
    e->gateway_id = g->id;
    snprintf(e->epoch, sizeof e->epoch, "%s", epoch);
    if (epoch_load(st, e) < 0 || om_map_put(&st->epochs, key, e) < 0) {
        free_epoch(e);
        return NULL;
    }
    return e;
}

/* ---- readings --------------------------------------------------------------- */

static int put_value(om_store *st, const om_store_origin *o, const om_poll *poll, int64_t meter,
                     const om_poll_value *v, om_store_counts *c)
{
    int64_t q = st->qid[v->quantity];
    sqlite3_stmt *s = store_stmt(st, S_READING_INSERT);
    sqlite3_bind_int64(s, 1, meter);
    sqlite3_bind_int64(s, 2, q);
    sqlite3_bind_int64(s, 3, poll->t_ms);
    sqlite3_bind_double(s, 4, v->value);
    int rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "storing a reading");
    if (sqlite3_changes(st->db) == 1) {
        c->stored++;
        return 1;
    }
    /* The key is stored already: same value, or a conflict to record. */
    s = store_stmt(st, S_READING_GET);
    sqlite3_bind_int64(s, 1, meter);
    sqlite3_bind_int64(s, 2, q);
    sqlite3_bind_int64(s, 3, poll->t_ms);
    rc = sqlite3_step(s);
    double stored = rc == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    store_done(s);
    if (rc != SQLITE_ROW)
        return store_fail(st, "reading a stored reading");
    if (stored == v->value) {
        c->duplicates++;
        return 0;
    }
    s = store_stmt(st, S_CONFLICT_ADD);
    sqlite3_bind_int64(s, 1, meter);
    sqlite3_bind_int64(s, 2, q);
    sqlite3_bind_int64(s, 3, poll->t_ms);
    sqlite3_bind_double(s, 4, stored);
    sqlite3_bind_double(s, 5, v->value);
    sqlite3_bind_text(s, 6, o->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, o->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, poll->seq);
    sqlite3_bind_int64(s, 9, o->received_ms);
    rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "recording a conflict");
    c->conflicts++;
    return 0;
}

int sqlite_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                    om_store_counts *counts)
{
    om_store_counts scratch = {0};
    om_store_counts *c = counts ? counts : &scratch;
    if (!st->in_group)
        return store_failf(st, "put outside a group");
    store_meter *m = meter_get(st, o->site, poll->meter);
    if (!m)
        return -1;
    int added = 0;
    for (size_t i = 0; i < poll->nvalues; i++) {
        if (st->qid[poll->values[i].quantity] == 0)
            return store_failf(st, "quantity %d has no id", (int)poll->values[i].quantity);
        int rc = put_value(st, o, poll, m->id, &poll->values[i], c);
        if (rc < 0)
            return -1;
        added += rc;
    }
    if (added && (m->first_t == 0 || poll->t_ms < m->first_t || poll->t_ms > m->last_t ||
                  o->received_ms > m->last_received)) {
        if (m->first_t == 0 || poll->t_ms < m->first_t)
            m->first_t = poll->t_ms;
        if (poll->t_ms > m->last_t)
            m->last_t = poll->t_ms;
        m->last_received = o->received_ms;
        if (!m->dirty && store_mark_dirty(st, m, DIRTY_METER) < 0)
            return -1;
        m->dirty = true;
    }
    return 0;
}

/* ---- sequence state ----------------------------------------------------------- */

/* Merges [from, to] into the sorted, disjoint, non-adjacent ranges. */
static int merge_range(om_store *st, store_epoch *e, int64_t from, int64_t to)
{
    size_t i = e->nranges;
    /* Usually the new range extends the last one (seqs arrive in order). */
    while (i > 0 && e->ranges[i - 1].from > from)
        i--;
    /* ranges[0..i) start at or before from. */
    if (i > 0 && e->ranges[i - 1].to + 1 >= from) {
        i--;
        if (to > e->ranges[i].to)
            e->ranges[i].to = to;
    } else {
        if (range_push(st, e, 0, 0) < 0)
            return -1;
        memmove(&e->ranges[i + 1], &e->ranges[i], (e->nranges - 1 - i) * sizeof *e->ranges);
        e->ranges[i] = (om_seq_range){from, to};
    }
    /* Swallow the ranges that the grown one now reaches. */
    size_t j = i + 1;
    while (j < e->nranges && e->ranges[j].from <= e->ranges[i].to + 1) {
        if (e->ranges[j].to > e->ranges[i].to)
            e->ranges[i].to = e->ranges[j].to;
        j++;
    }
    memmove(&e->ranges[i + 1], &e->ranges[j], (e->nranges - j) * sizeof *e->ranges);
    e->nranges -= j - i - 1;
    return 0;
}

int sqlite_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (!st->in_group)
        return store_failf(st, "seq update outside a group");
    store_epoch *e = epoch_get(st, o->site, o->gateway, o->epoch);
    if (!e)
        return -1;
    if (e->first_seen == 0)
        e->first_seen = o->received_ms;
    e->last_seen = o->received_ms;
    if (!e->dirty && store_mark_dirty(st, e, DIRTY_EPOCH) < 0)
        return -1;
    e->dirty = true;
    if (from <= e->upto)
        from = e->upto + 1;
    if (from > to)
        return 0;
    if (merge_range(st, e, from, to) < 0)
        return -1;
    if (e->nranges > 0 && e->ranges[0].from == e->upto + 1) {
        e->upto = e->ranges[0].to;
        memmove(&e->ranges[0], &e->ranges[1], (e->nranges - 1) * sizeof *e->ranges);
        e->nranges--;
    }
    return 0;
}

int sqlite_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (om_store_seq_done(st, o, from, to) < 0)
        return -1;
    store_gateway *g = store_gateway_get(st, o->site, o->gateway);
    if (!g)
        return -1;
    sqlite3_stmt *s = store_stmt(st, S_THINNED_ADD);
    sqlite3_bind_int64(s, 1, g->id);
    sqlite3_bind_text(s, 2, o->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
    sqlite3_bind_int64(s, 5, o->received_ms);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "recording a thinned range");
}

int sqlite_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms,
                         int64_t *from, int64_t *to)
{
    store_epoch *e = epoch_get(st, o->site, o->gateway, o->epoch);
    if (!e)
        return -1;
    if (after_ms <= 0 || e->nranges == 0) {
        e->gap_since_ms = 0;
        return 0;
    }
    /* The clock starts when this gap (from upto + 1) is first seen; any
     * progress of upto (a resend filling it) starts it again. */
    if (e->gap_since_ms == 0 || e->gap_at_upto != e->upto) {
        e->gap_since_ms = o->received_ms;
        e->gap_at_upto = e->upto;
        return 0;
    }
    int64_t waited = o->received_ms - e->gap_since_ms;
    if (waited < after_ms)
        return 0;
    *from = e->upto + 1;
    *to = e->ranges[0].from - 1;
    store_gateway *g = store_gateway_get(st, o->site, o->gateway);
    if (!g || om_store_seq_done(st, o, *from, *to) < 0)
        return -1;
    sqlite3_stmt *s = store_stmt(st, S_LOST_ADD);
    sqlite3_bind_int64(s, 1, g->id);
    sqlite3_bind_text(s, 2, o->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, *from);
    sqlite3_bind_int64(s, 4, *to);
    sqlite3_bind_int64(s, 5, waited / 1000);
    sqlite3_bind_int64(s, 6, o->received_ms);
    int rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "recording lost seqs");
    e->gap_since_ms = 0;
    return 1;
}

int sqlite_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                    int64_t *upto)
{
    if (st->readonly)
        return store_failf(st, "opened read-only");
    store_epoch *e = epoch_get(st, site, gateway, epoch);
    if (!e)
        return -1;
    *upto = e->upto;
    return 0;
}

/* ---- rejects, quarantine, gateways ----------------------------------------------- */

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int sqlite_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                      int64_t t_ms, const char *code, const char *reason, const char *poll_json)
{
    if (!st->in_group)
        return store_failf(st, "quarantine outside a group");
    sqlite3_stmt *s = store_stmt(st, S_QUAR_ADD);
    sqlite3_bind_int64(s, 1, o->received_ms);
    sqlite3_bind_text(s, 2, o->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, o->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, o->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, seq);
    bind_text_or_null(s, 6, meter);
    sqlite3_bind_int64(s, 7, t_ms);
    sqlite3_bind_text(s, 8, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, poll_json ? poll_json : "{}", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "quarantine");
}

int sqlite_reject_add(om_store *st, const om_store_reject *r)
{
    if (!st->in_group)
        return store_failf(st, "reject outside a group");
    sqlite3_stmt *s = store_stmt(st, S_REJECT_ADD);
    sqlite3_bind_int64(s, 1, r->received_ms);
    sqlite3_bind_text(s, 2, r->topic ? r->topic : "", -1, SQLITE_STATIC);
    bind_text_or_null(s, 3, r->site);
    bind_text_or_null(s, 4, r->gateway);
    sqlite3_bind_text(s, 5, r->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->reason, -1, SQLITE_STATIC);
    if (r->seq > 0)
        sqlite3_bind_int64(s, 7, r->seq);
    else
        sqlite3_bind_null(s, 7);
    bind_text_or_null(s, 8, r->meter);
    size_t n = r->rawlen < OM_STORE_RAW_CAP ? r->rawlen : OM_STORE_RAW_CAP;
    if (r->raw)
        sqlite3_bind_blob(s, 9, r->raw, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 9);
    sqlite3_bind_int64(s, 10, (sqlite3_int64)r->rawlen);
    int rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "recording a reject");
    s = store_stmt(st, S_REJECT_COUNT);
    sqlite3_bind_text(s, 1, r->site ? r->site : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->gateway ? r->gateway : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, r->received_ms);
    rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "counting a reject");
    st->rejects_added = true;
    return 0;
}

int sqlite_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    store_gateway *g = store_gateway_get(st, site, gateway);
    if (!g)
        return -1;
    if (t_ms > g->last_seen) {
        g->last_seen = t_ms;
        if (!g->dirty && store_mark_dirty(st, g, DIRTY_GATEWAY) < 0)
            return -1;
        g->dirty = true;
    }
    return 0;
}

int sqlite_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                         int64_t t_ms)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    store_gateway *g = store_gateway_get(st, site, gateway);
    if (!g)
        return -1;
    sqlite3_stmt *s = store_stmt(st, S_GW_STATE);
    sqlite3_bind_int64(s, 1, g->id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, t_ms);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "gateway state");
}

int sqlite_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                          int64_t outbox_depth, int64_t errors, const char *raw)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    store_gateway *g = store_gateway_get(st, site, gateway);
    if (!g)
        return -1;
    sqlite3_stmt *s = store_stmt(st, S_GW_HEALTH);
    sqlite3_bind_int64(s, 1, g->id);
    sqlite3_bind_int64(s, 2, t_ms);
    if (outbox_depth >= 0)
        sqlite3_bind_int64(s, 3, outbox_depth);
    else
        sqlite3_bind_null(s, 3);
    if (errors >= 0)
        sqlite3_bind_int64(s, 4, errors);
    else
        sqlite3_bind_null(s, 4);
    bind_text_or_null(s, 5, raw);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "gateway health");
}

int sqlite_quarantine_remove(om_store *st, int64_t id)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    sqlite3_stmt *s = store_stmt(st, S_QUAR_DEL);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "quarantine");
}

int sqlite_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    sqlite3_stmt *s = store_stmt(st, S_QUAR_UPDATE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "quarantine");
}

/* ---- commit: write what the caches changed ------------------------------------------ */

static int flush_meter(om_store *st, store_meter *m)
{
    sqlite3_stmt *s = store_stmt(st, S_METER_UPDATE);
    sqlite3_bind_int64(s, 1, m->id);
    sqlite3_bind_int64(s, 2, m->first_t);
    sqlite3_bind_int64(s, 3, m->last_t);
    sqlite3_bind_int64(s, 4, m->last_received);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "meter update");
}

static int flush_gateway(om_store *st, store_gateway *g)
{
    sqlite3_stmt *s = store_stmt(st, S_GW_SEEN);
    sqlite3_bind_int64(s, 1, g->id);
    sqlite3_bind_int64(s, 2, g->last_seen);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "gateway update");
}

static int flush_epoch(om_store *st, store_epoch *e)
{
    sqlite3_stmt *s = store_stmt(st, S_EPOCH_PUT);
    sqlite3_bind_int64(s, 1, e->gateway_id);
    sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, e->upto);
    sqlite3_bind_int64(s, 4, e->first_seen);
    sqlite3_bind_int64(s, 5, e->last_seen);
    int rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "epoch update");
    s = store_stmt(st, S_EPOCH_RANGES_DEL);
    sqlite3_bind_int64(s, 1, e->gateway_id);
    sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    store_done(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, "epoch ranges");
    for (size_t i = 0; i < e->nranges; i++) {
        s = store_stmt(st, S_EPOCH_RANGE_ADD);
        sqlite3_bind_int64(s, 1, e->gateway_id);
        sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, e->ranges[i].from);
        sqlite3_bind_int64(s, 4, e->ranges[i].to);
        rc = sqlite3_step(s);
        store_done(s);
        if (rc != SQLITE_DONE)
            return store_fail(st, "epoch ranges");
    }
    return 0;
}

int store_flush_dirty(om_store *st)
{
    for (size_t i = 0; i < st->ndirty; i++) {
        int rc = 0;
        switch (st->dirty_kind[i]) {
        case DIRTY_METER: rc = flush_meter(st, st->dirty[i]); break;
        case DIRTY_GATEWAY: rc = flush_gateway(st, st->dirty[i]); break;
        case DIRTY_EPOCH: rc = flush_epoch(st, st->dirty[i]); break;
        }
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < st->ndirty; i++) {
        switch (st->dirty_kind[i]) {
        case DIRTY_METER: ((store_meter *)st->dirty[i])->dirty = false; break;
        case DIRTY_GATEWAY: ((store_gateway *)st->dirty[i])->dirty = false; break;
        case DIRTY_EPOCH: ((store_epoch *)st->dirty[i])->dirty = false; break;
        }
    }
    st->ndirty = 0;
    return 0;
}

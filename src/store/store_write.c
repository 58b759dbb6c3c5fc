/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_write.c - the writer's hot path: readings, rejects, quarantine and
 * gateway rows, through the caches of store_private.h (the sequence state
 * is store_seq.c).
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

void store_drop_caches(om_store *st)
{
    om_map_clear(&st->meters, free);
    om_map_clear(&st->gateways, free);
    om_map_clear(&st->epochs, store_epoch_free);
    st->ndirty = 0;
    store_hours_drop(st);
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
        /* Only a new reading counts in the hourly aggregates (hours.h). */
        return store_hours_add(st, meter, q, poll->t_ms, v->value) < 0 ? -1 : 1;
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

int store_flush_dirty(om_store *st)
{
    for (size_t i = 0; i < st->ndirty; i++) {
        int rc = 0;
        switch (st->dirty_kind[i]) {
        case DIRTY_METER: rc = flush_meter(st, st->dirty[i]); break;
        case DIRTY_GATEWAY: rc = flush_gateway(st, st->dirty[i]); break;
        case DIRTY_EPOCH: rc = store_flush_epoch(st, st->dirty[i]); break;
        }
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < st->ndirty; i++) {
        switch (st->dirty_kind[i]) {
        case DIRTY_METER: ((store_meter *)st->dirty[i])->dirty = false; break;
        case DIRTY_GATEWAY: ((store_gateway *)st->dirty[i])->dirty = false; break;
        case DIRTY_EPOCH: store_epoch_flushed(st->dirty[i]); break;
        }
    }
    st->ndirty = 0;
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_write.c - the PostgreSQL backend's writer: a group is held in
 * memory between om_store_begin and om_store_commit and written at commit
 * in one transaction (the order and why: store_pg.h).
 *
 * Readings go in with COPY in key order (store_pg_readings.c): a group of
 * any size costs a fixed number of round trips. A reading that was not new
 * is recorded as a conflict when its value differs from the stored one, as
 * the SQLite backend does (the first value stays).
 *
 * The acknowledgement. Each (gateway, epoch) the group touched is locked
 * (SELECT ... FOR UPDATE, in key order) in the same transaction as the
 * readings, its committed ranges read, the group's seqs merged in, and the
 * range rows that changed written back (only those: write_ranges).
 * Whoever committed the other seqs of that epoch (this aggregator earlier,
 * or another one), the upto computed here covers them,
 * and two commits for the same epoch are serialised by that row lock, not
 * by timing. om_store_seq_upto after the commit answers from that result.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "store_pg.h"

/* Replays of a group's transaction after a deadlock or serialisation
 * failure before the commit gives up (and the group is tried message by
 * message, agg_group.h). */
#define MAX_ATTEMPTS 5

/* ---- the group's names ------------------------------------------------------------- */

static void key2(char *buf, size_t len, const char *a, const char *b)
{
    snprintf(buf, len, "%s\x1f%s", a, b);
}

static void key3(char *buf, size_t len, const char *a, const char *b, const char *c)
{
    snprintf(buf, len, "%s\x1f%s\x1f%s", a, b, c);
}

/* The index of (site, name) in a list of the group, added when new. */
static long intern(om_store *st, om_map *index, pg_named **list, size_t *n, size_t *cap,
                   const char *site, const char *name)
{
    char key[160];
    key2(key, sizeof key, site, name);
    uintptr_t found = (uintptr_t)om_map_get(index, key);
    if (found)
        return (long)found - 1;
    pg_named *grown = om_grow(*list, cap, *n, sizeof *grown);
    if (!grown)
        return store_failf(st, "out of memory");
    *list = grown;
    pg_named *e = &grown[*n];
    memset(e, 0, sizeof *e);
    e->site = strdup(site);
    e->name = strdup(name);
    if (!e->site || !e->name || om_map_put(index, key, (void *)(uintptr_t)(*n + 1)) < 0) {
        free(e->site);
        free(e->name);
        return store_failf(st, "out of memory");
    }
    return (long)(*n)++;
}

static long group_gateway(om_store *st, const char *site, const char *gateway)
{
    pg_group *g = &st->pg->g;
    size_t before = g->ngateways;
    long i = intern(st, &g->gateway_index, &g->gateways, &g->ngateways, &g->gateways_cap, site,
                    gateway);
    if (i >= 0 && g->ngateways > before) {
        pg_gateway_news *grown = om_grow(g->news, &g->news_cap, before, sizeof *grown);
        if (!grown) {
            g->ngateways = before; /* the name stays interned, harmlessly */
            return store_failf(st, "out of memory");
        }
        g->news = grown;
        memset(&g->news[before], 0, sizeof *g->news);
    }
    return i;
}

static long group_meter(om_store *st, const char *site, const char *meter)
{
    pg_group *g = &st->pg->g;
    return intern(st, &g->meter_index, &g->meters, &g->nmeters, &g->meters_cap, site, meter);
}

static long group_epoch(om_store *st, const char *site, const char *gateway, const char *epoch)
{
    pg_group *g = &st->pg->g;
    long gw = group_gateway(st, site, gateway);
    if (gw < 0)
        return -1;
    char key[64];
    snprintf(key, sizeof key, "%ld\x1f%s", gw, epoch);
    uintptr_t found = (uintptr_t)om_map_get(&g->epoch_index, key);
    if (found)
        return (long)found - 1;
    pg_epoch_news *grown = om_grow(g->epochs, &g->epochs_cap, g->nepochs, sizeof *grown);
    if (!grown)
        return store_failf(st, "out of memory");
    g->epochs = grown;
    pg_epoch_news *e = &grown[g->nepochs];
    memset(e, 0, sizeof *e);
    e->gateway = (uint32_t)gw;
    snprintf(e->epoch, sizeof e->epoch, "%s", epoch);
    if (om_map_put(&g->epoch_index, key, (void *)(uintptr_t)(g->nepochs + 1)) < 0)
        return store_failf(st, "out of memory");
    return (long)g->nepochs++;
}

static void row_free(pg_row *r)
{
    for (int i = 0; i < r->nparams; i++)
        free(r->values[i]);
}

void pg_group_clear(pg_group *g)
{
    for (size_t i = 0; i < g->ngateways; i++) {
        free(g->gateways[i].site);
        free(g->gateways[i].name);
        free(g->news[i].state);
        free(g->news[i].health_json);
    }
    for (size_t i = 0; i < g->nmeters; i++) {
        free(g->meters[i].site);
        free(g->meters[i].name);
    }
    for (size_t i = 0; i < g->nepochs; i++)
        seqset_free(&g->epochs[i].done);
    for (size_t i = 0; i < g->nrows; i++)
        row_free(&g->rows[i]);
    om_map_clear(&g->gateway_index, NULL);
    om_map_clear(&g->meter_index, NULL);
    om_map_clear(&g->epoch_index, NULL);
    g->ngateways = g->nmeters = g->nreadings = g->nepochs = g->nrows = g->ntimes = 0;
    g->rejects_added = false;
}

/* ---- rare rows ------------------------------------------------------------------------ */

static pg_row *row_new(om_store *st, pg_row_kind kind)
{
    pg_group *g = &st->pg->g;
    pg_row *grown = om_grow(g->rows, &g->rows_cap, g->nrows, sizeof *grown);
    if (!grown) {
        store_failf(st, "out of memory");
        return NULL;
    }
    g->rows = grown;
    pg_row *r = &grown[g->nrows++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    return r;
}

/* Appends a text parameter (NULL: SQL NULL); -1 when memory ran out. */
static int row_text(om_store *st, pg_row *r, const char *text)
{
    int i = r->nparams++;
    if (text && !(r->values[i] = strdup(text)))
        return store_failf(st, "out of memory");
    return 0;
}

static int row_int(om_store *st, pg_row *r, int64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRId64, v);
    return row_text(st, r, tmp);
}

static int row_bytes(om_store *st, pg_row *r, const void *data, size_t len)
{
    int i = r->nparams++;
    r->values[i] = malloc(len ? len : 1);
    if (!r->values[i])
        return store_failf(st, "out of memory");
    memcpy(r->values[i], data, len);
    r->lengths[i] = (int)len;
    r->formats[i] = 1;
    return 0;
}

/* ---- the API: holding ------------------------------------------------------------------- */

int pg_begin(om_store *st)
{
    if (st->readonly)
        return store_failf(st, "opened read-only");
    if (st->in_group)
        return 0;
    pg_group_clear(&st->pg->g);
    st->in_group = true;
    return 0;
}

void pg_rollback(om_store *st)
{
    if (st->pg->in_tx)
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
    st->pg->in_tx = false;
    st->pg->side_tx = false;
    pg_group_clear(&st->pg->g);
    st->in_group = false;
}

int pg_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                om_store_counts *counts)
{
    (void)counts; /* known at commit: om_store_group_counts */
    if (!st->in_group)
        return store_failf(st, "put outside a group");
    pg_group *g = &st->pg->g;
    long m = group_meter(st, o->site, poll->meter);
    long e = group_epoch(st, o->site, o->gateway, o->epoch);
    if (m < 0 || e < 0)
        return -1;
    if (o->received_ms > g->meters[m].received)
        g->meters[m].received = o->received_ms;
    for (size_t i = 0; i < poll->nvalues; i++) {
        int64_t q = st->qid[poll->values[i].quantity];
        if (q == 0)
            return store_failf(st, "quantity %d has no id", (int)poll->values[i].quantity);
        pg_reading *grown = om_grow(g->readings, &g->readings_cap, g->nreadings, sizeof *grown);
        if (!grown)
            return store_failf(st, "out of memory");
        g->readings = grown;
        g->readings[g->nreadings++] = (pg_reading){
            .meter = (uint32_t)m,
            .quantity = (int16_t)q,
            .t = poll->t_ms,
            .value = poll->values[i].value,
            .epoch = (uint32_t)e,
            .seq = poll->seq,
            .received = o->received_ms,
        };
    }
    return 0;
}

int pg_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (!st->in_group)
        return store_failf(st, "seq update outside a group");
    long i = group_epoch(st, o->site, o->gateway, o->epoch);
    if (i < 0)
        return -1;
    pg_epoch_news *e = &st->pg->g.epochs[i];
    if (e->first_seen == 0 || o->received_ms < e->first_seen)
        e->first_seen = o->received_ms;
    if (o->received_ms > e->last_seen)
        e->last_seen = o->received_ms;
    if (from > to)
        return 0;
    return seqset_add(&e->done, from, to) < 0 ? store_failf(st, "out of memory") : 0;
}

int pg_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (pg_seq_done(st, o, from, to) < 0)
        return -1;
    long gw = group_gateway(st, o->site, o->gateway);
    pg_row *r = gw < 0 ? NULL : row_new(st, PG_ROW_THINNED);
    if (!r)
        return -1;
    r->gateway = (uint32_t)gw;
    /* $1 (the gateway's id) is filled in at commit. */
    return row_text(st, r, NULL) | row_text(st, r, o->epoch) | row_int(st, r, from) |
                   row_int(st, r, to) | row_int(st, r, o->received_ms)
               ? -1
               : 0;
}

/* ---- the acknowledgement state ---------------------------------------------------------- */

void pg_state_free(void *p)
{
    pg_epoch_state *s = p;
    seqset_free(&s->above);
    free(s);
}

/* The invariants of store_seq.c, checked on a state as it is read (its
 * range rows in order of `first`), so that a state officemeter did not
 * write is refused rather than used: 0 <= upto <= OM_SEQ_MAX; each range
 * first <= last <= OM_SEQ_MAX, above upto + 1, after the previous one and
 * not touching it. */
typedef struct {
    bool started;
    int64_t floor; /* the next range must start above this */
} state_check;

/* NULL when the row keeps the invariants, else what it breaks. */
static const char *state_row(state_check *c, int64_t upto, bool has_range, int64_t first,
                             int64_t last)
{
    if (!c->started) {
        if (upto < 0 || upto > OM_SEQ_MAX)
            return "upto out of range";
        c->started = true;
        c->floor = upto + 1;
    }
    if (!has_range)
        return NULL;
    if (first > last || last > OM_SEQ_MAX)
        return "a range out of range";
    if (first <= c->floor)
        return "ranges overlapping or out of order";
    c->floor = last + 1;
    return NULL;
}

/* Reads (upto, ranges) of a (gateway, epoch) into s; nothing stored is
 * (0, none). */
static int fetch_state(om_store *st, const char *site, const char *gateway, const char *epoch,
                       pg_epoch_state *s)
{
    s->upto = 0;
    seqset_clear(&s->above);
    const char *v[] = {site, gateway, epoch};
    PGresult *r = pg_query(st,
                           "SELECT e.upto, r.first, r.last FROM epochs e JOIN gateways g "
                           "ON g.id = e.gateway LEFT JOIN epoch_ranges r ON r.gateway = e.gateway "
                           "AND r.epoch = e.epoch WHERE g.site = $1 AND g.gateway = $2 "
                           "AND e.epoch = $3 ORDER BY r.first",
                           3, v, 0, "reading an acknowledgement state");
    if (!r)
        return -1;
    state_check c = {0};
    for (int i = 0; i < PQntuples(r); i++) {
        s->upto = pg_int(r, i, 0, 0);
        int64_t first = pg_int(r, i, 1, 0), last = pg_int(r, i, 2, 0);
        const char *bad = state_row(&c, s->upto, !PQgetisnull(r, i, 1), first, last);
        if (bad) {
            PQclear(r);
            return store_failf(st, "sequence state of gateway %s/%s epoch %s is invalid (%s): "
                               "this database was changed by something other than officemeter",
                               site, gateway, epoch, bad);
        }
        if (!PQgetisnull(r, i, 1) && seqset_add(&s->above, first, last) < 0) {
            PQclear(r);
            return store_failf(st, "out of memory");
        }
    }
    PQclear(r);
    s->known = true;
    return 0;
}

/* The cached state of a (gateway, epoch), read from the database when it
 * is not known, or always when `fresh` is asked. */
static pg_epoch_state *epoch_state(om_store *st, const char *site, const char *gateway,
                                   const char *epoch, bool fresh)
{
    char key[192];
    key3(key, sizeof key, site, gateway, epoch);
    pg_epoch_state *s = om_map_get(&st->pg->epoch_states, key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || om_map_put(&st->pg->epoch_states, key, s) < 0) {
            free(s);
            store_failf(st, "out of memory");
            return NULL;
        }
    }
    if ((!s->known || fresh) && fetch_state(st, site, gateway, epoch, s) < 0)
        return NULL;
    return s;
}

/* The state with the open group's seqs of that epoch merged in. */
static int view(om_store *st, const pg_epoch_state *s, const char *site, const char *gateway,
                const char *epoch, int64_t *upto, seqset *above)
{
    *upto = s->upto;
    seqset_clear(above);
    if (seqset_add_all(above, &s->above) < 0)
        return store_failf(st, "out of memory");
    if (st->in_group) {
        pg_group *g = &st->pg->g;
        char key[160];
        key2(key, sizeof key, site, gateway);
        uintptr_t gw = (uintptr_t)om_map_get(&g->gateway_index, key);
        snprintf(key, sizeof key, "%ld\x1f%s", (long)gw - 1, epoch);
        uintptr_t e = gw ? (uintptr_t)om_map_get(&g->epoch_index, key) : 0;
        if (e && seqset_add_all(above, &g->epochs[e - 1].done) < 0)
            return store_failf(st, "out of memory");
    }
    seqset_advance(above, upto);
    return 0;
}

int pg_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                int64_t *upto)
{
    if (st->readonly)
        return store_failf(st, "opened read-only");
    /* In a group, the stored state is read afresh under the group's seqs;
     * after a commit, the state that commit wrote is the answer. */
    pg_epoch_state *s = epoch_state(st, site, gateway, epoch, st->in_group);
    if (!s)
        return -1;
    seqset above = {0};
    int rc = view(st, s, site, gateway, epoch, upto, &above);
    seqset_free(&above);
    return rc;
}

int pg_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms, int64_t *from,
                     int64_t *to)
{
    pg_epoch_state *s = epoch_state(st, o->site, o->gateway, o->epoch, false);
    if (!s)
        return -1;
    int64_t upto;
    seqset above = {0};
    if (view(st, s, o->site, o->gateway, o->epoch, &upto, &above) < 0) {
        seqset_free(&above);
        return -1;
    }
    int rc = 0;
    if (after_ms <= 0 || above.n == 0) {
        s->gap_since_ms = 0;
    } else if (s->gap_since_ms == 0 || s->gap_at_upto != upto) {
        /* The clock starts when this gap is first seen, and again whenever
         * upto moves (a resend filling part of it). */
        s->gap_since_ms = o->received_ms;
        s->gap_at_upto = upto;
    } else if (o->received_ms - s->gap_since_ms >= after_ms) {
        int64_t waited = o->received_ms - s->gap_since_ms;
        *from = upto + 1;
        *to = above.r[0].from - 1;
        long gw = group_gateway(st, o->site, o->gateway);
        pg_row *r = gw < 0 || pg_seq_done(st, o, *from, *to) < 0 ? NULL
                                                                 : row_new(st, PG_ROW_LOST);
        if (!r) {
            rc = -1;
        } else {
            r->gateway = (uint32_t)gw;
            rc = row_text(st, r, NULL) | row_text(st, r, o->epoch) | row_int(st, r, *from) |
                         row_int(st, r, *to) | row_int(st, r, waited / 1000) |
                         row_int(st, r, o->received_ms)
                     ? -1
                     : 1;
            s->gap_since_ms = 0;
        }
    }
    seqset_free(&above);
    return rc;
}

/* ---- the API: rejects, quarantine, gateways --------------------------------------------- */

int pg_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                  int64_t t_ms, const char *code, const char *reason, const char *poll_json)
{
    if (!st->in_group)
        return store_failf(st, "quarantine outside a group");
    pg_row *r = row_new(st, PG_ROW_QUARANTINE);
    if (!r)
        return -1;
    return row_int(st, r, o->received_ms) | row_text(st, r, o->site) |
                   row_text(st, r, o->gateway) | row_text(st, r, o->epoch) | row_int(st, r, seq) |
                   row_text(st, r, meter) | row_int(st, r, t_ms) | row_text(st, r, code) |
                   row_text(st, r, reason) | row_text(st, r, poll_json ? poll_json : "{}")
               ? -1
               : 0;
}

int pg_reject_add(om_store *st, const om_store_reject *rj)
{
    if (!st->in_group)
        return store_failf(st, "reject outside a group");
    pg_row *r = row_new(st, PG_ROW_REJECT);
    if (!r)
        return -1;
    size_t n = rj->rawlen < OM_STORE_RAW_CAP ? rj->rawlen : OM_STORE_RAW_CAP;
    int rc = row_int(st, r, rj->received_ms) | row_text(st, r, rj->topic ? rj->topic : "") |
             row_text(st, r, rj->site) | row_text(st, r, rj->gateway) |
             row_text(st, r, rj->code) | row_text(st, r, rj->reason);
    rc |= rj->seq > 0 ? row_int(st, r, rj->seq) : row_text(st, r, NULL);
    rc |= row_text(st, r, rj->meter);
    rc |= rj->raw ? row_bytes(st, r, rj->raw, n) : row_text(st, r, NULL);
    rc |= row_int(st, r, (int64_t)rj->rawlen);
    st->pg->g.rejects_added = true;
    return rc ? -1 : 0;
}

static pg_gateway_news *news_of(om_store *st, const char *site, const char *gateway)
{
    if (!st->in_group) {
        store_failf(st, "update outside a group");
        return NULL;
    }
    long i = group_gateway(st, site, gateway);
    return i < 0 ? NULL : &st->pg->g.news[i];
}

int pg_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms)
{
    pg_gateway_news *n = news_of(st, site, gateway);
    if (!n)
        return -1;
    if (t_ms > n->seen)
        n->seen = t_ms;
    return 0;
}

int pg_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                     int64_t t_ms)
{
    pg_gateway_news *n = news_of(st, site, gateway);
    if (!n)
        return -1;
    char *copy = strdup(state);
    if (!copy)
        return store_failf(st, "out of memory");
    free(n->state);
    n->state = copy;
    n->state_t = t_ms;
    return 0;
}

int pg_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                      int64_t outbox_depth, int64_t errors, const char *raw)
{
    pg_gateway_news *n = news_of(st, site, gateway);
    if (!n)
        return -1;
    char *copy = raw ? strdup(raw) : NULL;
    if (raw && !copy)
        return store_failf(st, "out of memory");
    free(n->health_json);
    n->health = true;
    n->health_json = copy;
    n->health_t = t_ms;
    n->depth = outbox_depth;
    n->errors = errors;
    return 0;
}

int pg_quarantine_remove(om_store *st, int64_t id)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    pg_row *r = row_new(st, PG_ROW_QUARANTINE_REMOVE);
    return r && row_int(st, r, id) == 0 ? 0 : -1;
}

int pg_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason)
{
    if (!st->in_group)
        return store_failf(st, "update outside a group");
    pg_row *r = row_new(st, PG_ROW_QUARANTINE_UPDATE);
    if (!r)
        return -1;
    return row_int(st, r, id) | row_text(st, r, code) | row_text(st, r, reason) ? -1 : 0;
}

/* ---- commit: one attempt ----------------------------------------------------------------- */

int pg_tx_outcome(om_store *st, PGresult *r, const char *what)
{
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_COPY_IN)
        return 0;
    bool again = pg_retryable(r);
    pg_failr(st, what, r);
    return again ? 1 : -1;
}

PGresult *pg_tx_run(om_store *st, const char *sql, int n, const char *const *values, int *rc,
                    const char *what)
{
    PGresult *r = PQexecParams(st->pg->conn, sql, n, NULL, values, NULL, NULL, 0);
    *rc = pg_tx_outcome(st, r, what);
    if (*rc != 0)
        return NULL;
    return r;
}

int pg_tx_done(om_store *st, const char *sql, int n, const char *const *values,
               const char *what)
{
    int rc;
    PGresult *r = pg_tx_run(st, sql, n, values, &rc, what);
    PQclear(r);
    return rc;
}

static int cmp_named(const void *a, const void *b)
{
    const pg_named *x = *(pg_named *const *)a, *y = *(pg_named *const *)b;
    int c = strcmp(x->site, y->site);
    return c ? c : strcmp(x->name, y->name);
}

/* Ids of the group's gateways or meters: the committed cache first, then
 * the rows (inserted when new, in key order). */
static int resolve(om_store *st, bool meters)
{
    struct store_pg *pg = st->pg;
    pg_named *list = meters ? pg->g.meters : pg->g.gateways;
    size_t n = meters ? pg->g.nmeters : pg->g.ngateways;
    om_map *cache = meters ? &pg->meter_ids : &pg->gateway_ids;
    pg_named **missing = calloc(n ? n : 1, sizeof *missing);
    if (!missing)
        return store_failf(st, "out of memory");
    size_t nmissing = 0;
    for (size_t i = 0; i < n; i++) {
        char key[160];
        key2(key, sizeof key, list[i].site, list[i].name);
        int64_t *id = om_map_get(cache, key);
        list[i].id = id ? *id : 0;
        if (!id)
            missing[nmissing++] = &list[i];
    }
    int rc = 0;
    if (nmissing) {
        qsort(missing, nmissing, sizeof *missing, cmp_named);
        pg_buf *sites = &pg->a1, *names = &pg->a2;
        pg_buf_reset(sites);
        pg_buf_reset(names);
        pg_buf_array_open(sites);
        pg_buf_array_open(names);
        for (size_t i = 0; i < nmissing; i++) {
            pg_buf_array_text(sites, missing[i]->site);
            pg_buf_array_text(names, missing[i]->name);
        }
        pg_buf_array_close(sites);
        pg_buf_array_close(names);
        if (sites->oom || names->oom) {
            free(missing);
            return store_failf(st, "out of memory");
        }
        const char *v[] = {sites->s, names->s};
        const char *ins = meters ? "INSERT INTO meters(site, meter) SELECT * FROM "
                                   "unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING"
                                 : "INSERT INTO gateways(site, gateway) SELECT * FROM "
                                   "unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING";
        const char *sel = meters ? "SELECT m.id, m.site, m.meter FROM meters m JOIN "
                                   "unnest($1::text[], $2::text[]) u(s, n) "
                                   "ON m.site = u.s AND m.meter = u.n"
                                 : "SELECT g.id, g.site, g.gateway FROM gateways g JOIN "
                                   "unnest($1::text[], $2::text[]) u(s, n) "
                                   "ON g.site = u.s AND g.gateway = u.n";
        rc = pg_tx_done(st, ins, 2, v, meters ? "adding meters" : "adding gateways");
        PGresult *r = rc ? NULL : pg_tx_run(st, sel, 2, v, &rc, "reading ids");
        for (int i = 0; r && i < PQntuples(r); i++) {
            char key[160];
            key2(key, sizeof key, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
            uintptr_t idx = (uintptr_t)om_map_get(meters ? &pg->g.meter_index
                                                         : &pg->g.gateway_index, key);
            if (idx)
                list[idx - 1].id = pg_int(r, i, 0, 0);
        }
        PQclear(r);
    }
    free(missing);
    return rc;
}


/* The meters' first and last times and last arrival (the bookkeeping). */
static int write_meter_times(om_store *st)
{
    struct store_pg *pg = st->pg;
    if (pg->g.ntimes == 0)
        return 0;
    pg_buf *mid = &pg->a1, *lo = &pg->a2, *hi = &pg->a3, *rcv = &pg->a4;
    pg_buf_reset(mid);
    pg_buf_reset(lo);
    pg_buf_reset(hi);
    pg_buf_reset(rcv);
    pg_buf_array_open(mid);
    pg_buf_array_open(lo);
    pg_buf_array_open(hi);
    pg_buf_array_open(rcv);
    for (size_t i = 0; i < pg->g.ntimes; i++) {
        pg_buf_array_int(mid, pg->g.times[i].id);
        pg_buf_array_int(lo, pg->g.times[i].lo);
        pg_buf_array_int(hi, pg->g.times[i].hi);
        pg_buf_array_int(rcv, pg->g.times[i].received);
    }
    pg_buf_array_close(mid);
    pg_buf_array_close(lo);
    pg_buf_array_close(hi);
    pg_buf_array_close(rcv);
    if (mid->oom || lo->oom || hi->oom || rcv->oom)
        return store_failf(st, "out of memory");
    const char *v[] = {mid->s, lo->s, hi->s, rcv->s};
    /* Rows locked in id order first: two aggregators updating the same
     * meters wait for each other instead of deadlocking. */
    int rc = pg_tx_done(st, "SELECT 1 FROM meters WHERE id = ANY($1::int[]) ORDER BY id "
                          "FOR UPDATE", 1, v, "locking meters");
    if (rc)
        return rc;
    return pg_tx_done(st,
                    "UPDATE meters m SET first_t = least(coalesce(m.first_t, u.lo), u.lo), "
                    "last_t = greatest(coalesce(m.last_t, u.hi), u.hi), "
                    "last_received = greatest(coalesce(m.last_received, 0), u.rcv) "
                    "FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[]) "
                    "u(id, lo, hi, rcv) WHERE m.id = u.id",
                    4, v, "updating meters");
}

/* ---- commit: the rare rows ------------------------------------------------------------------ */

static const char *row_sql(pg_row_kind kind)
{
    switch (kind) {
    case PG_ROW_QUARANTINE:
        return "INSERT INTO quarantine(received, site, gateway, epoch, seq, meter, t, code, "
               "reason, poll) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
               "ON CONFLICT (site, gateway, epoch, seq) DO NOTHING";
    case PG_ROW_QUARANTINE_REMOVE:
        return "DELETE FROM quarantine WHERE id = $1";
    case PG_ROW_QUARANTINE_UPDATE:
        return "UPDATE quarantine SET code = $2, reason = $3 WHERE id = $1";
    case PG_ROW_REJECT:
        return "INSERT INTO rejects(received, topic, site, gateway, code, reason, seq, meter, "
               "payload, payload_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    case PG_ROW_THINNED:
        return "INSERT INTO thinned(gateway, epoch, first, last, received) "
               "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    case PG_ROW_LOST:
        return "INSERT INTO lost_seqs(gateway, epoch, first, last, waited_s, recorded) "
               "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (gateway, epoch, first) DO UPDATE "
               "SET last = excluded.last, waited_s = excluded.waited_s, "
               "recorded = excluded.recorded";
    }
    return NULL;
}

typedef struct {
    const char *site, *gateway, *code;
    int64_t n, last;
} reject_count;

static int cmp_reject_count(const void *a, const void *b)
{
    const reject_count *x = a, *y = b;
    int c = strcmp(x->site, y->site);
    if (!c)
        c = strcmp(x->gateway, y->gateway);
    return c ? c : strcmp(x->code, y->code);
}

/* Every reject counted per (site, gateway, code), in key order. */
static int count_rejects(om_store *st)
{
    pg_group *g = &st->pg->g;
    reject_count *rc_list = calloc(g->nrows ? g->nrows : 1, sizeof *rc_list);
    if (!rc_list)
        return store_failf(st, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < g->nrows; i++) {
        const pg_row *r = &g->rows[i];
        if (r->kind != PG_ROW_REJECT)
            continue;
        rc_list[n++] = (reject_count){r->values[2] ? r->values[2] : "",
                                      r->values[3] ? r->values[3] : "", r->values[4], 1,
                                      strtoll(r->values[0], NULL, 10)};
    }
    qsort(rc_list, n, sizeof *rc_list, cmp_reject_count);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && cmp_reject_count(&rc_list[i], &rc_list[j]) == 0) {
            rc_list[i].n++;
            if (rc_list[j].last > rc_list[i].last)
                rc_list[i].last = rc_list[j].last;
            j++;
        }
        char count[24], last[24];
        snprintf(count, sizeof count, "%" PRId64, rc_list[i].n);
        snprintf(last, sizeof last, "%" PRId64, rc_list[i].last);
        const char *v[] = {rc_list[i].site, rc_list[i].gateway, rc_list[i].code, count, last};
        rc = pg_tx_done(st,
                      "INSERT INTO reject_counts(site, gateway, code, count, last_received) "
                      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (site, gateway, code) DO UPDATE "
                      "SET count = reject_counts.count + excluded.count, last_received = "
                      "greatest(reject_counts.last_received, excluded.last_received)",
                      5, v, "counting rejects");
        i = j;
    }
    free(rc_list);
    return rc;
}

static int write_rows(om_store *st)
{
    struct store_pg *pg = st->pg;
    int rc = 0;
    for (size_t i = 0; i < pg->g.nrows && rc == 0; i++) {
        pg_row *r = &pg->g.rows[i];
        char gw[24];
        if (r->kind == PG_ROW_THINNED || r->kind == PG_ROW_LOST)
            snprintf(gw, sizeof gw, "%" PRId64, pg->g.gateways[r->gateway].id);
        const char *values[PG_ROW_MAX_PARAMS];
        for (int k = 0; k < r->nparams; k++)
            values[k] = r->values[k];
        if (r->kind == PG_ROW_THINNED || r->kind == PG_ROW_LOST)
            values[0] = gw;
        PGresult *res = PQexecParams(pg->conn, row_sql(r->kind), r->nparams, NULL, values,
                                     r->lengths, r->formats, 0);
        rc = pg_tx_outcome(st, res, "writing a row");
        if (rc == 0)
            PQclear(res);
    }
    if (rc == 0 && pg->g.rejects_added) {
        char keep[24];
        snprintf(keep, sizeof keep, "%" PRIu64, st->rejects_keep);
        const char *v[] = {keep};
        rc = count_rejects(st);
        if (rc == 0)
            rc = pg_tx_done(st, "DELETE FROM rejects WHERE id <= "
                              "(SELECT max(id) FROM rejects) - $1::bigint", 1, v,
                          "pruning rejects");
    }
    return rc;
}

/* ---- commit: gateways ------------------------------------------------------------------------ */

static int cmp_by_id(const void *a, const void *b)
{
    const pg_named *x = *(pg_named *const *)a, *y = *(pg_named *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void array_int_or_null(pg_buf *b, int64_t v, bool present)
{
    if (present)
        pg_buf_array_int(b, v);
    else
        pg_buf_array_null(b);
}

static void array_text_or_null(pg_buf *b, const char *text)
{
    if (text)
        pg_buf_array_text(b, text);
    else
        pg_buf_array_null(b);
}

/* Last seen, state and health, newest first wins (by the time each came:
 * with several aggregators, an older message committed later changes
 * nothing). Rows locked in id order. */
static int write_gateways(om_store *st)
{
    struct store_pg *pg = st->pg;
    pg_group *g = &pg->g;
    if (g->ngateways == 0)
        return 0;
    pg_named **order = calloc(g->ngateways, sizeof *order);
    if (!order)
        return store_failf(st, "out of memory");
    for (size_t i = 0; i < g->ngateways; i++)
        order[i] = &g->gateways[i];
    qsort(order, g->ngateways, sizeof *order, cmp_by_id);
    pg_buf *ids = &pg->a1, *a = &pg->a2, *b = &pg->a3, *c = &pg->a4, *d = &pg->sql;
    /* a: seen; then states (b: state, c: when); then health (a..d, ids again) */
    pg_buf_reset(ids);
    pg_buf_array_open(ids);
    for (size_t i = 0; i < g->ngateways; i++)
        pg_buf_array_int(ids, order[i]->id);
    pg_buf_array_close(ids);
    const char *lock[] = {ids->s};
    int rc = pg_tx_done(st, "SELECT 1 FROM gateways WHERE id = ANY($1::int[]) ORDER BY id "
                          "FOR UPDATE", 1, lock, "locking gateways");
    /* Last seen. */
    pg_buf_reset(ids);
    pg_buf_reset(a);
    pg_buf_array_open(ids);
    pg_buf_array_open(a);
    size_t nseen = 0, nstate = 0, nhealth = 0;
    for (size_t i = 0; i < g->ngateways; i++) {
        const pg_gateway_news *n = &g->news[order[i] - g->gateways];
        nstate += n->state != NULL;
        nhealth += n->health;
        if (n->seen <= 0)
            continue;
        pg_buf_array_int(ids, order[i]->id);
        pg_buf_array_int(a, n->seen);
        nseen++;
    }
    pg_buf_array_close(ids);
    pg_buf_array_close(a);
    if (rc == 0 && nseen) {
        const char *v[] = {ids->s, a->s};
        rc = pg_tx_done(st, "UPDATE gateways g SET last_seen = greatest(coalesce(g.last_seen, 0), "
                          "u.seen) FROM unnest($1::int[], $2::bigint[]) u(id, seen) "
                          "WHERE g.id = u.id", 2, v, "updating gateways");
    }
    if (rc == 0 && nstate) {
        pg_buf_reset(ids);
        pg_buf_reset(b);
        pg_buf_reset(c);
        pg_buf_array_open(ids);
        pg_buf_array_open(b);
        pg_buf_array_open(c);
        for (size_t i = 0; i < g->ngateways; i++) {
            const pg_gateway_news *n = &g->news[order[i] - g->gateways];
            if (!n->state)
                continue;
            pg_buf_array_int(ids, order[i]->id);
            pg_buf_array_text(b, n->state);
            pg_buf_array_int(c, n->state_t);
        }
        pg_buf_array_close(ids);
        pg_buf_array_close(b);
        pg_buf_array_close(c);
        const char *v[] = {ids->s, b->s, c->s};
        rc = pg_tx_done(st, "UPDATE gateways g SET state = u.state, state_t = u.t "
                          "FROM unnest($1::int[], $2::text[], $3::bigint[]) u(id, state, t) "
                          "WHERE g.id = u.id AND coalesce(g.state_t, 0) <= u.t", 3, v,
                      "gateway state");
    }
    if (rc == 0 && nhealth) {
        pg_buf_reset(ids);
        pg_buf_reset(a);
        pg_buf_reset(b);
        pg_buf_reset(c);
        pg_buf_reset(d);
        pg_buf_array_open(ids);
        pg_buf_array_open(a);
        pg_buf_array_open(b);
        pg_buf_array_open(c);
        pg_buf_array_open(d);
        for (size_t i = 0; i < g->ngateways; i++) {
            const pg_gateway_news *n = &g->news[order[i] - g->gateways];
            if (!n->health)
                continue;
            pg_buf_array_int(ids, order[i]->id);
            pg_buf_array_int(a, n->health_t);
            array_int_or_null(b, n->depth, n->depth >= 0);
            array_int_or_null(c, n->errors, n->errors >= 0);
            array_text_or_null(d, n->health_json);
        }
        pg_buf_array_close(ids);
        pg_buf_array_close(a);
        pg_buf_array_close(b);
        pg_buf_array_close(c);
        pg_buf_array_close(d);
        const char *v[] = {ids->s, a->s, b->s, c->s, d->s};
        rc = pg_tx_done(st, "UPDATE gateways g SET health_t = u.t, outbox_depth = u.depth, "
                          "errors = u.errors, health = u.health FROM unnest($1::int[], "
                          "$2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) "
                          "u(id, t, depth, errors, health) WHERE g.id = u.id "
                          "AND coalesce(g.health_t, 0) <= u.t", 5, v, "gateway health");
    }
    if (ids->oom || a->oom || b->oom || c->oom || d->oom)
        rc = store_failf(st, "out of memory");
    free(order);
    return rc;
}

/* ---- commit: the acknowledgement state -------------------------------------------------------- */

/* The state each touched epoch had once merged (installed in the cache
 * after COMMIT). */
typedef struct {
    const pg_epoch_news *e;
    int64_t gateway_id;
    int64_t upto;
    seqset before; /* the stored ranges, as read under the lock */
    seqset above;  /* the ranges once the group's seqs are merged in */
    state_check check; /* of the stored state as it is read */
} merged;

static int cmp_merged(const void *a, const void *b)
{
    const merged *x = a, *y = b;
    if (x->gateway_id != y->gateway_id)
        return x->gateway_id < y->gateway_id ? -1 : 1;
    return strcmp(x->e->epoch, y->e->epoch);
}

static void merged_free(merged *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        seqset_free(&m[i].before);
        seqset_free(&m[i].above);
    }
    free(m);
}

static int epoch_arrays(om_store *st, const merged *m, size_t n, bool with_times)
{
    pg_buf *gws = &st->pg->a1, *eps = &st->pg->a2, *first = &st->pg->a3, *last = &st->pg->a4;
    pg_buf_reset(gws);
    pg_buf_reset(eps);
    pg_buf_reset(first);
    pg_buf_reset(last);
    pg_buf_array_open(gws);
    pg_buf_array_open(eps);
    pg_buf_array_open(first);
    pg_buf_array_open(last);
    for (size_t i = 0; i < n; i++) {
        pg_buf_array_int(gws, m[i].gateway_id);
        pg_buf_array_text(eps, m[i].e->epoch);
        if (with_times) {
            pg_buf_array_int(first, m[i].e->first_seen);
            pg_buf_array_int(last, m[i].e->last_seen);
        }
    }
    pg_buf_array_close(gws);
    pg_buf_array_close(eps);
    pg_buf_array_close(first);
    pg_buf_array_close(last);
    return gws->oom || eps->oom || first->oom || last->oom ? store_failf(st, "out of memory") : 0;
}

/* The four scratch arrays as statement parameters (after filling them:
 * filling may move them). */
static void arrays4(const struct store_pg *pg, const char **v)
{
    v[0] = pg->a1.s;
    v[1] = pg->a2.s;
    v[2] = pg->a3.s;
    v[3] = pg->a4.s;
}

static merged *find_merged(merged *m, size_t n, int64_t gateway_id, const char *epoch)
{
    merged key = {.gateway_id = gateway_id};
    pg_epoch_news e;
    snprintf(e.epoch, sizeof e.epoch, "%s", epoch);
    key.e = &e;
    return bsearch(&key, m, n, sizeof *m, cmp_merged);
}

/* Fills the four scratch arrays with the range rows to delete (a stored
 * range no range starts at any more) or, with `writes`, to write (a range
 * that is new or ends elsewhere now). Returns how many. */
static size_t range_rows(struct store_pg *pg, const merged *m, size_t n, bool writes)
{
    pg_buf *gws = &pg->a1, *eps = &pg->a2, *firsts = &pg->a3, *lasts = &pg->a4;
    pg_buf *all[] = {gws, eps, firsts, lasts};
    for (int k = 0; k < 4; k++) {
        pg_buf_reset(all[k]);
        pg_buf_array_open(all[k]);
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        const seqset *from = writes ? &m[i].above : &m[i].before;
        const seqset *other = writes ? &m[i].before : &m[i].above;
        for (size_t k = 0; k < from->n; k++) {
            const om_seq_range *same = seq_range_at(other->r, other->n, from->r[k].from);
            if (writes ? same && same->to == from->r[k].to : same != NULL)
                continue; /* unchanged, or (deleting) written over below */
            pg_buf_array_int(gws, m[i].gateway_id);
            pg_buf_array_text(eps, m[i].e->epoch);
            pg_buf_array_int(firsts, from->r[k].from);
            pg_buf_array_int(lasts, from->r[k].to);
            rows++;
        }
    }
    for (int k = 0; k < 4; k++)
        pg_buf_array_close(all[k]);
    return rows;
}

/* Writes only the range rows that changed, as the SQLite backend does
 * (store_seq.c): an epoch with 60 000 sparse ranges costs a commit the rows
 * its seqs changed, not 60 000 deletions and insertions. What was read
 * under the row lock is what is stored, so the difference is exact. */
static int write_ranges(om_store *st, const merged *m, size_t n)
{
    struct store_pg *pg = st->pg;
    const char *v4[4];
    int rc = 0;
    size_t rows = range_rows(pg, m, n, false);
    if (pg->a1.oom || pg->a2.oom || pg->a3.oom || pg->a4.oom)
        return store_failf(st, "out of memory");
    arrays4(pg, v4);
    if (rows && (rc = pg_tx_done(st, "DELETE FROM epoch_ranges r USING unnest($1::int[], "
                                   "$2::text[], $3::bigint[]) u(g, e, f) WHERE r.gateway = u.g "
                                   "AND r.epoch = u.e AND r.first = u.f", 3, v4,
                               "epoch ranges")) != 0)
        return rc;
    rows = range_rows(pg, m, n, true);
    if (pg->a1.oom || pg->a2.oom || pg->a3.oom || pg->a4.oom)
        return store_failf(st, "out of memory");
    arrays4(pg, v4);
    if (rows)
        rc = pg_tx_done(st, "INSERT INTO epoch_ranges(gateway, epoch, first, last) "
                          "SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], "
                          "$4::bigint[]) ORDER BY 1, 2, 3 ON CONFLICT (gateway, epoch, first) "
                          "DO UPDATE SET last = excluded.last", 4, v4, "epoch ranges");
    return rc;
}

static int write_epochs(om_store *st, merged **out, size_t *nout)
{
    struct store_pg *pg = st->pg;
    pg_group *g = &pg->g;
    *out = NULL;
    *nout = 0;
    if (g->nepochs == 0)
        return 0;
    merged *m = calloc(g->nepochs, sizeof *m);
    if (!m)
        return store_failf(st, "out of memory");
    for (size_t i = 0; i < g->nepochs; i++) {
        m[i].e = &g->epochs[i];
        m[i].gateway_id = g->gateways[g->epochs[i].gateway].id;
    }
    size_t n = g->nepochs;
    qsort(m, n, sizeof *m, cmp_merged);
    *out = m;
    *nout = n;
    int rc = epoch_arrays(st, m, n, true);
    if (rc)
        return rc;
    const char *v4[4];
    arrays4(pg, v4);
    if ((rc = pg_tx_done(st, "INSERT INTO epochs(gateway, epoch, upto, first_seen, last_seen) "
                           "SELECT g, e, 0, f, l FROM unnest($1::int[], $2::text[], "
                           "$3::bigint[], $4::bigint[]) u(g, e, f, l) ORDER BY g, e "
                           "ON CONFLICT DO NOTHING", 4, v4, "adding epochs")) != 0)
        return rc;
    /* Locked in (gateway, epoch) order first, then read with their ranges
     * in a statement of its own: a statement sees what was committed when
     * it began, and only once the locks are ours has every earlier commit
     * to these epochs ended. (Read in the locking statement itself, the
     * ranges would be those of before the commit it waited for, and that
     * commit's seqs would be written over.) */
    if ((rc = pg_tx_done(st, "SELECT 1 FROM epochs WHERE (gateway, epoch) IN (SELECT * FROM "
                           "unnest($1::int[], $2::text[])) ORDER BY gateway, epoch FOR UPDATE",
                       2, v4, "locking epochs")) != 0)
        return rc;
    PGresult *r = pg_tx_run(st,
                      "SELECT e.gateway, e.epoch, e.upto, r.first, r.last FROM epochs e "
                      "LEFT JOIN epoch_ranges r ON r.gateway = e.gateway AND r.epoch = e.epoch "
                      "WHERE (e.gateway, e.epoch) IN (SELECT * FROM unnest($1::int[], "
                      "$2::text[])) ORDER BY e.gateway, e.epoch, r.first",
                      2, v4, &rc, "reading epochs");
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        merged *x = find_merged(m, n, pg_int(r, i, 0, 0), PQgetvalue(r, i, 1));
        if (!x)
            continue;
        x->upto = pg_int(r, i, 2, 0);
        const char *bad = state_row(&x->check, x->upto, !PQgetisnull(r, i, 3),
                                    pg_int(r, i, 3, 0), pg_int(r, i, 4, 0));
        if (bad) {
            PQclear(r);
            return store_failf(st, "sequence state of gateway row %lld epoch %s is invalid "
                               "(%s): this database was changed by something other than "
                               "officemeter", (long long)x->gateway_id, x->e->epoch, bad);
        }
        if (!PQgetisnull(r, i, 3)) {
            if (seqset_add(&x->before, pg_int(r, i, 3, 0), pg_int(r, i, 4, 0)) < 0) {
                PQclear(r);
                return store_failf(st, "out of memory");
            }
        }
    }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
        if (seqset_add_all(&m[i].above, &m[i].before) < 0 ||
            seqset_add_all(&m[i].above, &m[i].e->done) < 0)
            return store_failf(st, "out of memory");
        seqset_advance(&m[i].above, &m[i].upto);
        /* Bounded as with SQLite (store_seq.c): the highest ranges beyond
         * the cap are forgotten; the acknowledgement stops below them, so
         * the gateway sends those polls again and they are counted then. */
        if (m[i].above.n > OM_STORE_SEQ_RANGES_MAX)
            m[i].above.n = OM_STORE_SEQ_RANGES_MAX;
    }
    /* upto and last_seen of every touched epoch. */
    pg_buf *ups = &pg->a3, *lasts = &pg->a4;
    if ((rc = epoch_arrays(st, m, n, false)) != 0)
        return rc;
    pg_buf_reset(ups);
    pg_buf_reset(lasts);
    pg_buf_array_open(ups);
    pg_buf_array_open(lasts);
    for (size_t i = 0; i < n; i++) {
        pg_buf_array_int(ups, m[i].upto);
        pg_buf_array_int(lasts, m[i].e->last_seen);
    }
    pg_buf_array_close(ups);
    pg_buf_array_close(lasts);
    if (ups->oom || lasts->oom)
        return store_failf(st, "out of memory");
    arrays4(pg, v4);
    if ((rc = pg_tx_done(st, "UPDATE epochs e SET upto = u.upto, last_seen = "
                           "greatest(e.last_seen, u.last) FROM unnest($1::int[], $2::text[], "
                           "$3::bigint[], $4::bigint[]) u(g, ep, upto, last) "
                           "WHERE e.gateway = u.g AND e.epoch = u.ep", 4, v4,
                       "updating epochs")) != 0)
        return rc;
    return write_ranges(st, m, n);
}

/* ---- commit ------------------------------------------------------------------------------ */

/* The partitions of the group's months (readings of one month mostly:
 * the check is one comparison per reading). */
static int partitions_for_group(om_store *st)
{
    pg_group *g = &st->pg->g;
    int64_t checked_from = 1, checked_to = 0; /* a month known to exist: [from, to) */
    for (size_t i = 0; i < g->nreadings; i++) {
        int64_t t = g->readings[i].t;
        if (t >= checked_from && t < checked_to)
            continue;
        if (pg_partition_for(st, t) < 0)
            return -1;
        pg_month_range(t, &checked_from, &checked_to);
    }
    return 0;
}

static int attempt(om_store *st, om_store_counts *c, merged **m, size_t *nm)
{
    int rc = pg_tx_done(st, "BEGIN", 0, NULL, "begin");
    if (rc)
        return rc;
    st->pg->in_tx = true;
    if ((rc = resolve(st, false)) == 0 && (rc = resolve(st, true)) == 0 &&
        (rc = pg_write_readings(st, c)) == 0 && (rc = write_rows(st)) == 0 &&
        (rc = write_epochs(st, m, nm)) == 0)
        rc = pg_tx_done(st, "COMMIT", 0, NULL, "commit");
    if (rc) {
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
        /* om_incoming, when this transaction made it, went with it. */
        st->pg->incoming_ready = false;
    }
    st->pg->in_tx = false;
    return rc;
}

/* The group's bookkeeping after its commit (store_pg.h: why apart, and why
 * it need not wait for the disk). 0, -1, or 1 to replay. */
static int bookkeeping_once(om_store *st)
{
    int rc = pg_tx_done(st, "BEGIN", 0, NULL, "begin");
    if (rc)
        return rc;
    st->pg->in_tx = true;
    if ((rc = pg_tx_done(st, "SET LOCAL synchronous_commit = off", 0, NULL, "bookkeeping")) == 0 &&
        (rc = write_meter_times(st)) == 0 && (rc = write_gateways(st)) == 0)
        rc = pg_tx_done(st, "COMMIT", 0, NULL, "commit");
    if (rc)
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
    st->pg->in_tx = false;
    return rc;
}

/* A failure here is not the group's: its readings and seqs are committed,
 * and these values are set again by the next group that has them. */
static void bookkeeping(om_store *st)
{
    if (st->pg->g.ntimes == 0 && st->pg->g.ngateways == 0)
        return;
    int rc = 1;
    for (int n = 0; rc == 1 && n < MAX_ATTEMPTS; n++)
        rc = bookkeeping_once(st);
    if (rc)
        st->pg->bookkeeping_failures++;
}

static int remember_id(om_store *st, om_map *cache, const pg_named *e)
{
    char key[160];
    key2(key, sizeof key, e->site, e->name);
    if (e->id == 0 || om_map_get(cache, key))
        return 0;
    int64_t *id = malloc(sizeof *id);
    if (!id || om_map_put(cache, key, id) < 0) {
        free(id);
        return store_failf(st, "out of memory");
    }
    *id = e->id;
    return 0;
}

/* After COMMIT: ids and acknowledgement states become what the store knows. */
static void remember(om_store *st, merged *m, size_t n)
{
    struct store_pg *pg = st->pg;
    for (size_t i = 0; i < pg->g.nmeters; i++)
        remember_id(st, &pg->meter_ids, &pg->g.meters[i]);
    for (size_t i = 0; i < pg->g.ngateways; i++)
        remember_id(st, &pg->gateway_ids, &pg->g.gateways[i]);
    for (size_t i = 0; i < n; i++) {
        const pg_named *gw = &pg->g.gateways[m[i].e->gateway];
        char key[192];
        key3(key, sizeof key, gw->site, gw->name, m[i].e->epoch);
        pg_epoch_state *s = om_map_get(&pg->epoch_states, key);
        if (!s) {
            s = calloc(1, sizeof *s);
            if (!s || om_map_put(&pg->epoch_states, key, s) < 0) {
                free(s);
                continue; /* read again when asked */
            }
        }
        s->upto = m[i].upto;
        seqset_free(&s->above);
        s->above = m[i].above; /* moved */
        memset(&m[i].above, 0, sizeof m[i].above);
        s->known = true;
    }
}

static int reconnect_if_lost(om_store *st)
{
    struct store_pg *pg = st->pg;
    if (PQstatus(pg->conn) == CONNECTION_OK)
        return 0;
    PQreset(pg->conn);
    pg->incoming_ready = false; /* the temporary table went with the session */
    pg->prepared = 0;           /* and the prepared statements */
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return pg_fail(st, "connection lost");
    return pg_exec(st, "SET extra_float_digits = 3; SET synchronous_commit = on; "
                       "SET client_min_messages = warning", "session settings");
}

/* The alert tables' transaction of this group (store_pg_alerts.c), before
 * the group's own. A transaction that failed and was not rolled back to a
 * savepoint answers COMMIT with ROLLBACK: that is a failure too. */
static int commit_side(om_store *st)
{
    struct store_pg *pg = st->pg;
    if (!pg->side_tx)
        return 0;
    pg->side_tx = false;
    pg->in_tx = false;
    PGresult *r = PQexec(pg->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_failr(st, "commit", r);
    bool rolled_back = strcmp(PQcmdStatus(r), "ROLLBACK") == 0;
    PQclear(r);
    return rolled_back ? store_failf(st, "commit: the transaction had failed and was rolled back")
                       : 0;
}

int pg_commit(om_store *st)
{
    if (!st->in_group)
        return 0;
    struct store_pg *pg = st->pg;
    if (commit_side(st) < 0)
        return -1;
    if (reconnect_if_lost(st) < 0 || partitions_for_group(st) < 0)
        return -1;
    int rc = 1;
    for (int n = 0; rc == 1 && n < MAX_ATTEMPTS; n++) {
        om_store_counts c = {0};
        merged *m = NULL;
        size_t nm = 0;
        rc = attempt(st, &c, &m, &nm);
        if (rc == 0) {
            st->group_counts.stored += c.stored;
            st->group_counts.duplicates += c.duplicates;
            st->group_counts.conflicts += c.conflicts;
            remember(st, m, nm);
            bookkeeping(st);
        } else if (rc == 1) {
            pg->retries++;
        }
        merged_free(m, nm);
    }
    if (rc != 0)
        return -1;
    pg_group_clear(&pg->g);
    st->in_group = false;
    return 0;
}

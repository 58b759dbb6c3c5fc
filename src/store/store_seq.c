/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_seq.c - the sequence state of each (gateway, epoch): the cumulative
 * acknowledgement and the ranges dealt with above it.
 *
 * Kept in memory (the epochs cache of store_private.h) and written at
 * commit:
 *
 *     upto = 1030        ranges above it: [1032..1040] [1050..1050]
 *     seq 1031 arrives -> upto = 1040, ranges [1050..1050]
 *
 * om_store_seq_done merges a range in; whenever the lowest range touches
 * upto + 1, upto jumps to its end. That is the cumulative acknowledgement:
 * a gap holds it back until a resend (or a "skipped" range) fills it.
 *
 * Invariants, checked when the state is read from the file and kept by
 * every change (a state that breaks them was not written by officemeter
 * and is refused rather than used):
 *   0 <= upto <= OM_SEQ_MAX, and every seq handled is 1 .. OM_SEQ_MAX
 *     (the contract's range: upto + 1 and to + 1 never overflow);
 *   ranges sorted, disjoint, not adjacent, all above upto + 1;
 *   at most OM_STORE_SEQ_RANGES_MAX ranges: beyond it the highest range is
 *     forgotten. Forgetting is safe: the acknowledgement stops below it, so
 *     the gateway sends those polls again, and they are counted then.
 *
 * Cost. A commit writes the epochs row and only the range rows that
 * changed (their `first` is noted in `touched`), so 100 000 sparse ranges
 * in one epoch cost nothing per commit beyond what the group itself did.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "store_seqset.h"
#include "officemeter/base/array.h"

void store_epoch_free(void *p)
{
    store_epoch *e = p;
    free(e->ranges);
    free(e->touched);
    free(e);
}

static void key2(char *buf, size_t len, const char *a, const char *b)
{
    snprintf(buf, len, "%s\x1f%s", a, b);
}

/* The range row starting at `first` must be written again (or deleted). */
static int touch(om_store *st, store_epoch *e, int64_t first)
{
    int64_t *t = om_grow(e->touched, &e->touched_cap, e->ntouched, sizeof *t);
    if (!t)
        return store_failf(st, "out of memory");
    e->touched = t;
    e->touched[e->ntouched++] = first;
    return 0;
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

/* ---- loading ------------------------------------------------------------ */

static int invalid_state(om_store *st, const store_epoch *e, const char *what)
{
    return store_failf(st, "sequence state of gateway row %" PRId64 " epoch %s is invalid (%s): "
                       "this database was changed by something other than officemeter",
                       e->gateway_id, e->epoch, what);
}

/* The invariants of the file comment, on a state just read. */
static int check_loaded(om_store *st, const store_epoch *e)
{
    if (e->upto < 0 || e->upto > OM_SEQ_MAX)
        return invalid_state(st, e, "upto out of range");
    int64_t floor = e->upto + 1; /* a range must start above this */
    for (size_t i = 0; i < e->nranges; i++) {
        const om_seq_range *r = &e->ranges[i];
        if (r->from > r->to || r->to > OM_SEQ_MAX)
            return invalid_state(st, e, "a range out of range");
        if (r->from <= floor)
            return invalid_state(st, e, "ranges overlapping or out of order");
        floor = r->to + 1;
    }
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
    if (rc != SQLITE_DONE)
        return rc == SQLITE_ROW ? -1 : store_fail(st, "epoch ranges");
    return check_loaded(st, e);
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
    if (epoch_load(st, e) < 0) {
        store_epoch_free(e);
        return NULL;
    }
    if (om_map_put(&st->epochs, key, e) < 0) {
        store_failf(st, "out of memory");
        store_epoch_free(e);
        return NULL;
    }
    return e;
}

/* ---- changing ------------------------------------------------------------- */

/* Merges [from, to] (above upto + 1) into the sorted, disjoint, non-adjacent
 * ranges, noting every range row that changes. */
static int merge_range(om_store *st, store_epoch *e, int64_t from, int64_t to)
{
    size_t i = e->nranges;
    /* Usually the new range extends the last one (seqs arrive in order). */
    while (i > 0 && e->ranges[i - 1].from > from)
        i--;
    /* ranges[0..i) start at or before from; to + 1 cannot overflow (<= OM_SEQ_MAX). */
    if (i > 0 && e->ranges[i - 1].to + 1 >= from) {
        i--;
        if (to <= e->ranges[i].to)
            return 0; /* already dealt with: nothing changes */
        e->ranges[i].to = to;
    } else {
        if (range_push(st, e, 0, 0) < 0)
            return -1;
        memmove(&e->ranges[i + 1], &e->ranges[i], (e->nranges - 1 - i) * sizeof *e->ranges);
        e->ranges[i] = (om_seq_range){from, to};
    }
    if (touch(st, e, e->ranges[i].from) < 0)
        return -1;
    /* Swallow the ranges that the grown one now reaches. */
    size_t j = i + 1;
    while (j < e->nranges && e->ranges[j].from <= e->ranges[i].to + 1) {
        if (e->ranges[j].to > e->ranges[i].to)
            e->ranges[i].to = e->ranges[j].to;
        if (touch(st, e, e->ranges[j].from) < 0)
            return -1;
        j++;
    }
    memmove(&e->ranges[i + 1], &e->ranges[j], (e->nranges - j) * sizeof *e->ranges);
    e->nranges -= j - i - 1;
    /* Bounded: forget the highest ranges (see the file comment). */
    while (e->nranges > OM_STORE_SEQ_RANGES_MAX)
        if (touch(st, e, e->ranges[--e->nranges].from) < 0)
            return -1;
    return 0;
}

int sqlite_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (!st->in_group)
        return store_failf(st, "seq update outside a group");
    if (from < 1 || to > OM_SEQ_MAX || from > to)
        return store_failf(st, "gateway %s/%s epoch %s: seqs %" PRId64 "..%" PRId64
                           " out of range (expected 1 <= from <= to <= %" PRId64 ")",
                           o->site, o->gateway, o->epoch, from, to, OM_SEQ_MAX);
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
        if (touch(st, e, e->ranges[0].from) < 0)
            return -1;
        e->upto = e->ranges[0].to;
        memmove(&e->ranges[0], &e->ranges[1], (e->nranges - 1) * sizeof *e->ranges);
        e->nranges--;
    }
    return 0;
}

int sqlite_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to)
{
    if (sqlite_seq_done(st, o, from, to) < 0)
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
    if (!g || sqlite_seq_done(st, o, *from, *to) < 0)
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

/* ---- commit ------------------------------------------------------------------ */

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes the range row starting at `first` as it is now: updated, or
 * deleted when no range starts there any more. */
static int flush_range(om_store *st, const store_epoch *e, int64_t first)
{
    const om_seq_range *r = seq_range_at(e->ranges, e->nranges, first);
    sqlite3_stmt *s = store_stmt(st, r ? S_EPOCH_RANGE_PUT : S_EPOCH_RANGE_DEL);
    sqlite3_bind_int64(s, 1, e->gateway_id);
    sqlite3_bind_text(s, 2, e->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, first);
    if (r)
        sqlite3_bind_int64(s, 4, r->to);
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "epoch ranges");
}

int store_flush_epoch(om_store *st, store_epoch *e)
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
    qsort(e->touched, e->ntouched, sizeof *e->touched, cmp_int64);
    for (size_t i = 0; i < e->ntouched; i++) {
        if (i > 0 && e->touched[i] == e->touched[i - 1])
            continue;
        if (flush_range(st, e, e->touched[i]) < 0)
            return -1;
    }
    /* Cleared only once the commit is certain (store_flush_dirty's second
     * pass); a rollback drops the whole cache instead. */
    return 0;
}

void store_epoch_flushed(store_epoch *e)
{
    e->ntouched = 0;
    e->dirty = false;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox_quota.c - thinning the outbox when a long outage fills its quota.
 *
 * The policy (docs/architecture.md, "Invariants") keeps consumption exact: counters
 * are cumulative, so the consumption between any two kept counter readings
 * is still their difference, and one reading per meter per 15 minutes is
 * enough for hourly profiles and monthly boundaries. Instantaneous values
 * (power, voltages, flow) are samples whose loss only coarsens a chart, so
 * they go first.
 *
 * Both steps walk the polls oldest first and work in chunks: a chunk is
 * chosen, thinned, and the outbox measured again, all inside one write
 * transaction, so a crash leaves either the whole thinning or none of it and
 * the counters always agree with what was removed. With a poll quota the
 * chunk is exact (the shortest prefix that removes enough polls); with a
 * byte quota it is estimated from the average poll size, since freed bytes
 * are only known after SQLite has rebalanced its pages.
 *
 * Deleted seqs go through ob_delete_unacked, which records them as skipped
 * ranges so the aggregator's cumulative acknowledgement can pass them.
 */
#include "outbox_private.h"
#include "officemeter/base/array.h"

#include <stdlib.h>
#include <string.h>

/* A byte-quota chunk is at least this many polls, so that a large outbox
 * does not take thousands of rounds. */
#define MIN_BYTE_CHUNK 256

typedef struct {
    int64_t excess_polls; /* > 0: over the poll quota by this much */
    int64_t excess_bytes; /* > 0: over the byte quota by this much */
    int64_t polls;
    int64_t used;
} level;

static int measure(om_outbox *ob, const om_outbox_quota *q, level *lv)
{
    if (ob_count_polls(ob, &lv->polls) < 0 || ob_used_bytes(ob, &lv->used) < 0)
        return -1;
    lv->excess_polls = q->max_polls > 0 ? lv->polls - (int64_t)q->max_polls : 0;
    lv->excess_bytes = q->max_bytes > 0 ? lv->used - (int64_t)q->max_bytes : 0;
    return 0;
}

static bool over(const level *lv)
{
    return lv->excess_polls > 0 || lv->excess_bytes > 0;
}

/* Polls to take for the byte excess: a quarter more than the average poll
 * size suggests, since a thinned poll frees less than a whole one. */
static int64_t byte_chunk(const level *lv)
{
    if (lv->excess_bytes <= 0)
        return 0;
    int64_t avg = lv->polls > 0 ? lv->used / lv->polls : 1;
    int64_t n = lv->excess_bytes * 5 / 4 / (avg > 0 ? avg : 1) + 1;
    return n < MIN_BYTE_CHUNK ? MIN_BYTE_CHUNK : n;
}

static int query_bound(om_outbox *ob, ob_stmt_id id, int64_t cursor, int64_t arg, int64_t *out)
{
    sqlite3_stmt *st = ob_stmt(ob, id);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int64(st, 2, arg);
    return ob_query_int(ob, st, 0, out);
}

/* The last seq of the next chunk above `cursor`, or 0 when the step has no
 * candidate left. `nth` finds the candidate that brings the poll count
 * within quota (the excess-th one that removes a whole poll); `chunk_end`
 * the end of the first `limit` candidates (-1: all of them). */
static int next_bound(om_outbox *ob, ob_stmt_id nth, ob_stmt_id chunk_end, int64_t cursor,
                      const level *lv, int64_t *last)
{
    int64_t by_polls = 0, by_bytes = 0;
    if (lv->excess_polls > 0) {
        if (query_bound(ob, nth, cursor, lv->excess_polls - 1, &by_polls) < 0)
            return -1;
        /* Fewer removable polls than the excess: the whole step. */
        if (by_polls == 0 && query_bound(ob, chunk_end, cursor, -1, &by_polls) < 0)
            return -1;
    }
    if (lv->excess_bytes > 0 && query_bound(ob, chunk_end, cursor, byte_chunk(lv), &by_bytes) < 0)
        return -1;
    *last = by_polls > by_bytes ? by_polls : by_bytes;
    return 0;
}

typedef struct {
    int64_t *seq;
    size_t n, cap;
} seq_list;

/* The seqs that statement `id` returns for cursor < seq <= last. */
static int list_seqs(om_outbox *ob, ob_stmt_id id, int64_t cursor, int64_t last, seq_list *out)
{
    sqlite3_stmt *st = ob_stmt(ob, id);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int64(st, 2, last);
    out->n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *grown = om_grow(out->seq, &out->cap, out->n, sizeof *grown);
        if (grown == NULL) {
            sqlite3_reset(st);
            return ob_fail(ob, false, "out of memory");
        }
        out->seq = grown;
        out->seq[out->n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return ob_fail(ob, true, "choosing polls to thin");
    return 0;
}

/* Step 1 on cursor < seq <= last: instantaneous values out of every poll
 * but the newest of its meter; polls left empty are deleted. */
static int drop_instants(om_outbox *ob, int64_t cursor, int64_t last, seq_list *tmp,
                         om_outbox_stats_info *done)
{
    int64_t values;
    sqlite3_stmt *st = ob_stmt(ob, OB_Q1_COUNT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int64(st, 2, last);
    if (ob_query_int(ob, st, 0, &values) < 0 || (st = ob_stmt(ob, OB_Q1_DROP)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int64(st, 2, last);
    if (ob_exec(ob, st) < 0 || list_seqs(ob, OB_Q1_EMPTIED, cursor, last, tmp) < 0 ||
        ob_delete_unacked(ob, tmp->seq, tmp->n) < 0)
        return -1;
    done->instant_values_dropped += (uint64_t)values;
    done->instant_polls_dropped += tmp->n;
    return 0;
}

/* Step 2 on cursor < seq <= last: polls that are neither the first of their
 * meter in their 15 minutes nor the newest of their meter are deleted. */
static int thin_counters(om_outbox *ob, int64_t cursor, int64_t last, seq_list *tmp,
                         om_outbox_stats_info *done)
{
    if (list_seqs(ob, OB_Q2_LIST, cursor, last, tmp) < 0 ||
        ob_delete_unacked(ob, tmp->seq, tmp->n) < 0)
        return -1;
    done->counter_polls_thinned += tmp->n;
    return 0;
}

typedef int (*step_fn)(om_outbox *, int64_t, int64_t, seq_list *, om_outbox_stats_info *);

static int run_step(om_outbox *ob, const om_outbox_quota *q, level *lv, ob_stmt_id nth,
                    ob_stmt_id chunk_end, step_fn step, seq_list *tmp, om_outbox_stats_info *done)
{
    int64_t cursor = 0, last;
    while (over(lv)) {
        if (next_bound(ob, nth, chunk_end, cursor, lv, &last) < 0)
            return -1;
        if (last == 0)
            break;
        if (step(ob, cursor, last, tmp, done) < 0 || measure(ob, q, lv) < 0)
            return -1;
        cursor = last;
    }
    return 0;
}

static int record_counters(om_outbox *ob, const om_outbox_stats_info *done)
{
    if (ob_meta_add(ob, "instant_values_dropped", (int64_t)done->instant_values_dropped) < 0 ||
        ob_meta_add(ob, "instant_polls_dropped", (int64_t)done->instant_polls_dropped) < 0 ||
        ob_meta_add(ob, "counter_polls_thinned", (int64_t)done->counter_polls_thinned) < 0)
        return -1;
    return 0;
}

int om_outbox_enforce_quota(om_outbox *ob, const om_outbox_quota *quota,
                            om_outbox_stats_info *done_out)
{
    om_outbox_stats_info done;
    seq_list tmp = {0};
    level lv;
    int rc = -1;
    memset(&done, 0, sizeof done);
    if (done_out != NULL)
        memset(done_out, 0, sizeof *done_out);
    if (quota == NULL || (quota->max_bytes == 0 && quota->max_polls == 0))
        return 0;
    pthread_mutex_lock(&ob->lock);
    if (ob_begin(ob) < 0)
        goto unlock;
    if (measure(ob, quota, &lv) < 0 ||
        run_step(ob, quota, &lv, OB_Q1_NTH_INSTANT_ONLY, OB_Q1_CHUNK_END, drop_instants, &tmp,
                 &done) < 0 ||
        run_step(ob, quota, &lv, OB_Q2_NTH, OB_Q2_CHUNK_END, thin_counters, &tmp, &done) < 0 ||
        record_counters(ob, &done) < 0 || ob_commit(ob) < 0) {
        ob_rollback(ob);
        goto unlock;
    }
    rc = over(&lv) ? 1 : 0;
    if (done_out != NULL)
        *done_out = done;
unlock:
    pthread_mutex_unlock(&ob->lock);
    free(tmp.seq);
    return rc;
}

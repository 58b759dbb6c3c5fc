/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox.h - the agent's durable outbox: every poll, from the meter to the
 * aggregator's acknowledgement.
 *
 * A poll is appended (and committed to disk) before it is published, handed
 * out in batches for publishing, and deleted only when the aggregator's
 * cumulative acknowledgement for this outbox's epoch covers its seq
 * (docs/architecture.md, "The acknowledgement"). Unacknowledged polls are
 * handed out again after a resend timeout, or at once after
 * om_outbox_mark_unsent (a reconnect), always in seq order.
 *
 * The outbox is one SQLite file in WAL mode. Its epoch (64 random bits) is
 * created with the file, so a deleted or replaced outbox starts a new epoch
 * at seq 1. Under a disk quota the outbox thins itself: instantaneous values
 * first, then counter polls down to one per meter per 15 minutes, and counts
 * every thinning; the seqs it deletes are reported as "skipped" in the next
 * readings so the acknowledgement is not held back (docs/outbox.md).
 *
 * Functions return 0 (or a documented non-negative value) or -1; after -1,
 * om_outbox_errmsg() gives the reason, with the file name. One handle may be
 * used from several threads: calls are serialised inside.
 */
#ifndef OFFICEMETER_OUTBOX_H
#define OFFICEMETER_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"
#include "officemeter/base/quantity.h"

/* PRAGMA user_version of the file this program writes. */
#define OM_OUTBOX_SCHEMA_VERSION 1
#define OM_OUTBOX_RESEND_MS_DEFAULT 30000
/* Counter polls are thinned to the first one per meter in each bucket. */
#define OM_OUTBOX_THIN_BUCKET_MS (15 * 60 * 1000)

typedef struct om_outbox om_outbox;

/* One poll to append: the meter, its time (ms UTC, > 0) and 1..OM_Q__COUNT
 * finite values, each quantity at most once. */
typedef struct {
    const char *meter;
    int64_t t_ms;
    const om_poll_value *values;
    size_t nvalues;
} om_outbox_entry;

typedef struct {
    uint64_t polls;      /* unacknowledged polls held */
    uint64_t unsent;     /* of which not handed out since open or om_outbox_mark_unsent */
    int64_t oldest_t_ms; /* earliest t among them; 0 when polls == 0 */
    int64_t next_seq;    /* the seq the next poll will get */
    int64_t acked_upto;  /* highest acknowledgement applied in this epoch */
    uint64_t used_bytes; /* database pages in use × page size: what a byte quota measures */
} om_outbox_depth_info;

/* Persistent counters of this epoch (they live in the file). */
typedef struct {
    uint64_t appended;               /* polls appended */
    uint64_t acked;                  /* polls deleted by acknowledgements */
    uint64_t resent;                 /* hand-outs of a poll that had been handed out before */
    uint64_t instant_values_dropped; /* quota: instantaneous values removed from polls */
    uint64_t instant_polls_dropped;  /* quota: polls deleted because no value was left */
    uint64_t counter_polls_thinned;  /* quota: counter polls deleted (not first in 15 min) */
} om_outbox_stats_info;

/* Limits for om_outbox_enforce_quota; 0 means no limit. */
typedef struct {
    uint64_t max_bytes; /* compared with used_bytes */
    uint64_t max_polls;
} om_outbox_quota;

/* Opens or creates the outbox at `path` (and path-wal, path-shm beside it).
 * A missing file is created with a new random epoch (a path-wal left
 * without its database belongs to a deleted outbox; SQLite discards a WAL
 * whose database is empty, and the tests hold it to that).
 * Polls handed out by an earlier process count as not sent. Returns NULL
 * with a one-line reason in err, e.g.
 *   "/var/lib/officemeter/outbox.db schema version 2 is newer than this program (1)". */
om_outbox *om_outbox_open(const char *path, char *err, size_t errlen);
/* Commits nothing new (every call already committed); NULL is a no-op. */
void om_outbox_close(om_outbox *ob);
/* Caps the memory SQLite keeps for pages of every outbox of the process
 * (a soft limit: its cache is recycled instead of growing). Call before the
 * first open. A gateway's working set is the last few ticks' polls; the
 * kernel's page cache holds the rest. */
void om_outbox_limit_cache(int64_t bytes);

/* The reason for the last failed call made by this thread. */
const char *om_outbox_errmsg(const om_outbox *ob);
/* 16 lower-case hex digits, fixed for the life of the file. */
const char *om_outbox_epoch(const om_outbox *ob);
/* How long a handed-out poll waits for its acknowledgement before it is
 * handed out again (default OM_OUTBOX_RESEND_MS_DEFAULT). */
void om_outbox_set_resend_ms(om_outbox *ob, int64_t ms);

/* Appends one poll in its own transaction and returns after the commit has
 * reached the disk; *seq (optional) gets its number. */
int om_outbox_append(om_outbox *ob, const char *meter, int64_t t_ms, const om_poll_value *values,
                     size_t nvalues, int64_t *seq);
/* Appends a poll cycle in one transaction: polls get consecutive seqs from
 * *first_seq (optional). All or nothing: an invalid entry appends none. */
int om_outbox_append_many(om_outbox *ob, const om_outbox_entry *entries, size_t n,
                          int64_t *first_seq);

/* Fills `out` (cleared first) with the oldest polls that are due: never
 * handed out, or handed out at least the resend timeout before now_ms (or
 * "after" now_ms: a clock that went back). In seq order, at most max_polls
 * (0: no limit), and while the polls and their skipped ranges fit in
 * max_bytes (0: no limit; pass om_payload_budget(cap, site, gateway, epoch)
 * for messages of at most cap bytes), yet always at least one poll when one
 * is due. The polls are marked handed out at now_ms and their attempts
 * counted. now_ms is best a monotonic clock; out->npolls == 0: nothing due. */
int om_outbox_next_batch(om_outbox *ob, int64_t now_ms, size_t max_polls, size_t max_bytes,
                         om_batch *out);

/* When nothing can be due before some time: after a hand-out that took
 * every due poll, and with no append, mark_unsent or failure since, the
 * time (now_ms's clock) at which the earliest held poll is due again, or
 * INT64_MAX when nothing is held. Otherwise now_ms: something may be due,
 * om_outbox_next_batch has to look. */
int64_t om_outbox_next_due_ms(om_outbox *ob, int64_t now_ms);

/* Applies the aggregator's acknowledgement {"epoch":E,"upto":N}: deletes
 * every poll with seq <= upto. An ack for another epoch is ignored (0, with
 * *deleted = 0); one beyond the last seq issued is refused (-1): the
 * aggregator cannot have committed polls that do not exist yet. */
int om_outbox_ack(om_outbox *ob, const char *epoch, int64_t upto, size_t *deleted);

/* Every held poll becomes due at once (after a reconnect), in seq order.
 * *count (optional) gets how many were marked handed out. */
int om_outbox_mark_unsent(om_outbox *ob, size_t *count);

int om_outbox_depth(om_outbox *ob, om_outbox_depth_info *out);
int om_outbox_stats(om_outbox *ob, om_outbox_stats_info *out);

/* Brings the outbox under `quota` by thinning, oldest polls first, never
 * touching the newest poll of each meter (greatest t, then seq):
 *   1. drop instantaneous values (power, voltages, flow); a poll left with
 *      no value is deleted;
 *   2. delete counter polls that are not the first of their meter in their
 *      15-minute bucket (t rounded down to OM_OUTBOX_THIN_BUCKET_MS).
 * Each step stops as soon as the outbox is within quota, and step 2 starts
 * only when step 1 has nothing left. `done` (optional) gets what this call
 * removed; the totals are in om_outbox_stats. Returns 0 when within quota,
 * 1 when still over it with nothing left to thin (the floor), -1 on error. */
int om_outbox_enforce_quota(om_outbox *ob, const om_outbox_quota *quota,
                            om_outbox_stats_info *done);

#endif

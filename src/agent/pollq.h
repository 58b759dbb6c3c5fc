/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pollq.h - polls on their way from the bus workers to the outbox.
 *
 * Workers must never wait for the disk or the network, so they only append
 * here; the delivery loop takes everything at once and writes it to the
 * outbox in one transaction. The loop is told when a bus's cycle is over
 * (om_pollq_cycle_end), not at every poll: one wake-up and one fsync per
 * cycle, where a 12-meter RS-485 line used to cost one per poll. A cycle
 * so long that its first polls have waited hold_ms is told early, so polls
 * are never kept in memory for long.
 */
#ifndef OM_AGENT_POLLQ_H
#define OM_AGENT_POLLQ_H

#include <pthread.h>
#include <stddef.h>

#include "busworker.h"

typedef struct {
    pthread_mutex_t lock;
    om_poll_result *items;
    size_t n, cap;
    uint64_t dropped; /* out of memory */
    int64_t first_ms;    /* monotonic: when the oldest queued poll came */
    int64_t hold_ms;     /* OM_POLLQ_HOLD_MS unless set */
    void (*notify)(void *ctx); /* polls are waiting; called outside the lock */
    void *notify_ctx;
} om_pollq;

#define OM_POLLQ_HOLD_MS 1000

void om_pollq_init(om_pollq *q);
void om_pollq_destroy(om_pollq *q);
/* Queues a poll; notifies only when the oldest queued poll has waited
 * hold_ms (a long cycle). */
void om_pollq_push(om_pollq *q, const om_poll_result *r);
/* om_poll_sink_fn for a worker: ctx is the om_pollq. */
void om_pollq_sink(void *ctx, const om_poll_result *r);
/* A bus's cycle is over (a worker's cycle_end; ctx is the om_pollq):
 * notifies when polls are waiting. */
void om_pollq_cycle_end(void *ctx);
/* Moves every queued poll to *out (malloc'd, caller frees) and empties the
 * queue. Returns the number moved. */
size_t om_pollq_take(om_pollq *q, om_poll_result **out);

#endif

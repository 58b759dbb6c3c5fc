/*
 * pollq.h - polls on their way from the bus workers to the outbox.
 *
 * Workers must never wait for the disk or the network, so they only append
 * here; the delivery loop takes everything at once and writes it to the
 * outbox in one transaction (one fsync for all buses' polls of a tick).
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
    void (*notify)(void *ctx); /* called after each push, outside the lock */
    void *notify_ctx;
} om_pollq;

void om_pollq_init(om_pollq *q);
void om_pollq_destroy(om_pollq *q);
void om_pollq_push(om_pollq *q, const om_poll_result *r);
/* om_poll_sink_fn for a worker: ctx is the om_pollq. */
void om_pollq_sink(void *ctx, const om_poll_result *r);
/* Moves every queued poll to *out (malloc'd, caller frees) and empties the
 * queue. Returns the number moved. */
size_t om_pollq_take(om_pollq *q, om_poll_result **out);

#endif

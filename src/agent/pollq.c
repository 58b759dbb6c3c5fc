/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pollq.c - a mutex-protected growable array of poll results.
 */
#include "pollq.h"
#include "officemeter/base/array.h"
#include "officemeter/base/clock.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

void om_pollq_init(om_pollq *q)
{
    memset(q, 0, sizeof *q);
    q->hold_ms = OM_POLLQ_HOLD_MS;
    pthread_mutex_init(&q->lock, NULL);
}

void om_pollq_destroy(om_pollq *q)
{
    free(q->items);
    pthread_mutex_destroy(&q->lock);
    q->items = NULL;
    q->n = q->cap = 0;
}

void om_pollq_push(om_pollq *q, const om_poll_result *r)
{
    pthread_mutex_lock(&q->lock);
    om_poll_result *grown = om_grow(q->items, &q->cap, q->n, sizeof *grown);
    if (!grown) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        return;
    }
    q->items = grown;
    int64_t now = om_mono_ms();
    if (q->n == 0)
        q->first_ms = now;
    q->items[q->n++] = *r;
    bool waited = now - q->first_ms >= q->hold_ms;
    pthread_mutex_unlock(&q->lock);
    if (waited && q->notify)
        q->notify(q->notify_ctx);
}

void om_pollq_cycle_end(void *ctx)
{
    om_pollq *q = ctx;
    pthread_mutex_lock(&q->lock);
    bool waiting = q->n > 0;
    pthread_mutex_unlock(&q->lock);
    if (waiting && q->notify)
        q->notify(q->notify_ctx);
}

size_t om_pollq_take(om_pollq *q, om_poll_result **out)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->n;
    *out = q->items;
    q->items = NULL;
    q->n = q->cap = 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void om_pollq_sink(void *ctx, const om_poll_result *r)
{
    om_pollq_push(ctx, r);
}

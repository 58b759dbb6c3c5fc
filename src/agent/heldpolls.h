/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heldpolls.h - polls kept in memory while the outbox cannot store them.
 *
 * When the disk under the outbox is full, a poll cannot be made durable,
 * and memory cannot hold every poll of an outage of unknown length. What
 * is kept is what the annual figures need most: for each meter its newest
 * poll, and, when that one carries no counter (an instantaneous-only
 * tick), also its newest poll with a counter. Counters are cumulative, so
 * the newest counter reading keeps consumption exact across the gap; the
 * polls replaced are counted as lost. At most two polls per meter, however
 * long the disk stays full. Once the outbox stores again, the polls held
 * go in first, oldest first, and get their seqs like any other poll.
 *
 * Held polls are in memory only: a crash or a power cut while the disk is
 * full loses them too (the log says when storing failed).
 */
#ifndef OM_AGENT_HELDPOLLS_H
#define OM_AGENT_HELDPOLLS_H

#include <stddef.h>
#include <stdint.h>

#include "busworker.h"
#include "officemeter/base/id.h"

/* A copy: held polls outlive the site their meters came from (a reload). */
typedef struct {
    char meter[OM_ID_MAX];
    int64_t t_ms;
    size_t nvalues;
    om_poll_value values[OM_Q__COUNT];
} om_held_poll;

typedef struct {
    om_held_poll *items;
    size_t n, cap;
} om_held_polls;

void om_held_polls_init(om_held_polls *h);
void om_held_polls_free(om_held_polls *h);

/* Keeps `r` (a meter's poll newer than any held for it), letting go of
 * the polls of its meter that it makes useless. Returns the number of polls
 * let go of (r itself when out of memory): the polls lost. */
size_t om_held_polls_add(om_held_polls *h, const om_poll_result *r);

/* The polls held, oldest first (by time), and the count; the array stays
 * h's until om_held_polls_clear. */
size_t om_held_polls_sorted(om_held_polls *h, const om_held_poll **out);
void om_held_polls_clear(om_held_polls *h);

#endif

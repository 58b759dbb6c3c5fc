/* SPDX-License-Identifier: Apache-2.0 */
/*
 * judged_same.h - whether two judgements of one readings message are the
 * same, field for field: how the fast reader of well-formed messages
 * (om_ingest_readings_fast) is held to the full judge, by the fuzz target
 * `ingest` and by test_ingest_fast. Header-only: both include it.
 */
#ifndef OFFICEMETER_JUDGED_SAME_H
#define OFFICEMETER_JUDGED_SAME_H

#include <string.h>

#include "officemeter/proto/ingest.h"

static int judged_str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int judged_verdict_same(const om_verdict *a, const om_verdict *b)
{
    return a->fate == b->fate && judged_str_same(a->code, b->code) &&
           strcmp(a->reason, b->reason) == 0;
}

/* NULL when a and b are the same judgement, else what differs first. */
static const char *judged_difference(const om_readings_msg *a, const om_readings_msg *b)
{
    if (!judged_verdict_same(&a->verdict, &b->verdict))
        return "the message's verdict";
    if (strcmp(a->epoch, b->epoch) != 0)
        return "the epoch";
    if (a->npolls != b->npolls || a->nstore != b->nstore || a->nreadings != b->nreadings)
        return "the number of polls, stored polls or readings";
    if (a->nskipped != b->nskipped ||
        (a->nskipped && memcmp(a->skipped, b->skipped, a->nskipped * sizeof *a->skipped) != 0))
        return "the skipped ranges";
    for (size_t i = 0; i < a->npolls; i++) {
        const om_ingest_poll *p = &a->polls[i], *q = &b->polls[i];
        if (p->has_seq != q->has_seq || p->poll.seq != q->poll.seq ||
            p->poll.t_ms != q->poll.t_ms || !judged_str_same(p->poll.meter, q->poll.meter))
            return "a poll's seq, time or meter";
        if (!judged_verdict_same(&p->verdict, &q->verdict) || !judged_str_same(p->json, q->json))
            return "a poll's verdict or recorded text";
        if (p->poll.nvalues != q->poll.nvalues)
            return "a poll's number of values";
        for (size_t k = 0; k < p->poll.nvalues; k++)
            if (p->poll.values[k].quantity != q->poll.values[k].quantity ||
                memcmp(&p->poll.values[k].value, &q->poll.values[k].value, sizeof(double)) != 0)
                return "a poll's values (quantity, order or bits)";
    }
    return NULL;
}

#endif

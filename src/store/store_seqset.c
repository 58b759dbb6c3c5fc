/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_seqset.c - ranges of seqs dealt with, and the cumulative
 * acknowledgement over them (store_seqset.h).
 */
#include "store_seqset.h"

#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"

int seqset_add(seqset *s, int64_t from, int64_t to)
{
    /* Usually the new range extends the last one (seqs arrive in order). */
    size_t i = s->n;
    while (i > 0 && s->r[i - 1].from > from)
        i--;
    /* r[0..i) start at or before from. */
    if (i > 0 && s->r[i - 1].to + 1 >= from) {
        i--;
        if (to > s->r[i].to)
            s->r[i].to = to;
    } else {
        om_seq_range *grown = om_grow(s->r, &s->cap, s->n, sizeof *grown);
        if (!grown)
            return -1;
        s->r = grown;
        memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof *s->r);
        s->r[i] = (om_seq_range){from, to};
        s->n++;
    }
    /* Swallow the ranges that the grown one now reaches. */
    size_t j = i + 1;
    while (j < s->n && s->r[j].from <= s->r[i].to + 1) {
        if (s->r[j].to > s->r[i].to)
            s->r[i].to = s->r[j].to;
        j++;
    }
    memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof *s->r);
    s->n -= j - i - 1;
    return 0;
}

int seqset_add_all(seqset *s, const seqset *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (seqset_add(s, src->r[i].from, src->r[i].to) < 0)
            return -1;
    return 0;
}

void seqset_advance(seqset *s, int64_t *upto)
{
    size_t drop = 0;
    while (drop < s->n && s->r[drop].to <= *upto)
        drop++;
    if (drop < s->n && s->r[drop].from <= *upto + 1) {
        *upto = s->r[drop].to;
        drop++;
    }
    if (drop == 0)
        return; /* also: an empty set may have no array (memmove of NULL) */
    memmove(&s->r[0], &s->r[drop], (s->n - drop) * sizeof *s->r);
    s->n -= drop;
}

void seqset_clear(seqset *s)
{
    s->n = 0;
}

void seqset_free(seqset *s)
{
    free(s->r);
    memset(s, 0, sizeof *s);
}

const om_seq_range *seq_range_at(const om_seq_range *r, size_t n, int64_t first)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].from < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && r[lo].from == first ? &r[lo] : NULL;
}

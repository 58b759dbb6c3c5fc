/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.c - the readings a period must keep for its rollups to stay
 * the same (retention.h: the rules and why they suffice).
 */
#include "officemeter/report/retention.h"

#include <stddef.h>

/* The first reading at or after t (n when none). */
static size_t first_at_or_after(const om_sample *s, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Keeps the readings from before-th before position i to the after-th
 * from it (i itself, when i < n, is the first after). */
static void keep_span(bool *keep, size_t n, size_t i, size_t before, size_t after)
{
    size_t lo = i >= before ? i - before : 0;
    size_t hi = i + after < n ? i + after : n;
    for (size_t k = lo; k < hi; k++)
        keep[k] = true;
}

/* An event at a reading: that reading and `each` on each side. At a time
 * without a reading (a replacement): `each` on each side of that time. */
static void keep_event(const om_sample *s, size_t n, int64_t t, unsigned each, bool *keep)
{
    size_t i = first_at_or_after(s, n, t);
    bool at_reading = i < n && s[i].t == t;
    keep_span(keep, n, i, each, at_reading ? each + 1u : each);
}

int om_retain_counter(const om_sample *s, size_t n, const om_counter_opts *copts,
                      const om_retain_opts *o, bool *keep)
{
    size_t a = first_at_or_after(s, n, o->from), b = first_at_or_after(s, n, o->to);
    for (size_t i = 0; i < n; i++)
        keep[i] = i < a || i >= b;
    if (a == b)
        return 0;
    keep[a] = keep[b - 1] = true;
    om_counter *c = om_counter_new(s, n, copts);
    if (!c)
        return -1;
    size_t nev;
    const om_counter_event *ev = om_counter_events(c, &nev);
    for (size_t e = 0; e < nev; e++) {
        keep_event(s, n, ev[e].t, o->around_events, keep);
        if (ev[e].t_end != ev[e].t)
            keep_event(s, n, ev[e].t_end, o->around_events, keep);
    }
    om_counter_free(c);
    for (size_t k = 0; k < o->nanchors; k++) {
        int64_t x = o->anchors[k];
        if (x < o->from || x > o->to)
            continue;
        keep_span(keep, n, first_at_or_after(s, n, x), o->neighbours, o->neighbours);
    }
    /* Spacing: a reading stays when dropping it would leave the last kept
     * one further than max_spacing_ms from the next. Walking in time
     * order, the last kept reading before the period is its neighbour
     * outside (always kept). */
    int64_t last = a > 0 ? s[a - 1].t : s[a].t;
    for (size_t i = a; i < b; i++) {
        if (!keep[i] && i + 1 < n && s[i + 1].t - last > o->max_spacing_ms)
            keep[i] = true;
        if (keep[i])
            last = s[i].t;
    }
    return 0;
}

void om_retain_rates(const om_sample *s, size_t n, int64_t from, int64_t to, int64_t bucket_ms,
                     bool *keep)
{
    size_t i = 0;
    while (i < n) {
        if (s[i].t < from || s[i].t >= to) {
            keep[i++] = true;
            continue;
        }
        int64_t bucket = s[i].t - (((s[i].t % bucket_ms) + bucket_ms) % bucket_ms);
        size_t lo = i, hi = i;
        size_t j = i;
        for (; j < n && s[j].t < bucket + bucket_ms && s[j].t < to; j++) {
            keep[j] = false;
            if (s[j].v < s[lo].v)
                lo = j;
            if (s[j].v > s[hi].v)
                hi = j;
        }
        keep[lo] = keep[hi] = true;
        i = j;
    }
}

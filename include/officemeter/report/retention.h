/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.h - which raw readings of a period must stay so that the
 * monthly rollups computed from them do not change when the rest are
 * dropped (docs/methodology.md, "Retention"). Pure: the caller fetches the
 * readings, then drops those not kept, and counts them (a rollup's
 * `readings` adds what was dropped, rollup.h's `thinned`).
 *
 * A counter keeps, inside the period:
 *   - its first and last reading;
 *   - `neighbours` readings on each side of every anchor: the site's month
 *     boundaries (with OM_ROLLUP_CONTEXT, the readings a month's rollup
 *     fetches beyond its ends) and night boundaries (00:00 and 05:00 local,
 *     where the night base load is read off the curve);
 *   - `around_events` readings on each side of every reading the
 *     consumption engine made an event of (glitch, wrap, reset, backstep,
 *     jump, replacement, both ends of a gap): what decided it stays;
 *   - enough readings that none of the kept ones are further apart than
 *     max_spacing_ms where the raw ones were not (set it at most the
 *     policy's gap threshold: no new gap appears; a real gap keeps both
 *     ends).
 * The rest lies on straight stretches of a steady counter: between two
 * kept readings the curve's consumption is their difference whatever lay
 * between, so every month's and night's consumption is unchanged.
 *
 * An instantaneous quantity (power, flow, voltages) keeps the lowest and
 * the highest reading of every bucket_ms bucket (15 minutes): the minimum
 * and maximum of any period made of whole buckets (a month, a service
 * life: local midnights fall on quarter hours in every time zone) are
 * unchanged.
 */
#ifndef OFFICEMETER_RETENTION_H
#define OFFICEMETER_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/report/consumption.h"

/* The bucket of instantaneous readings and of dropped counts. */
#define OM_RETAIN_BUCKET_MS 900000

typedef struct {
    int64_t from, to;          /* the period thinned: [from, to) */
    int64_t max_spacing_ms;    /* > 0 */
    const int64_t *anchors;    /* in any order; those outside the period are ignored */
    size_t nanchors;
    unsigned neighbours;       /* readings kept on each side of an anchor */
    unsigned around_events;    /* readings kept on each side of an event's reading */
} om_retain_opts;

/* A counter's readings in time order: the period's and some on each side
 * (kept whatever keep says: outside the period nothing is touched).
 * keep[i] is set for every reading to keep. Returns 0, or -1 (memory, or
 * readings out of order: errno). */
int om_retain_counter(const om_sample *s, size_t n, const om_counter_opts *copts,
                      const om_retain_opts *o, bool *keep);

/* An instantaneous quantity's readings in time order: keep[i] for the
 * lowest and the highest of each bucket_ms bucket inside [from, to) (the
 * earliest of equals), and for every reading outside it. */
void om_retain_rates(const om_sample *s, size_t n, int64_t from, int64_t to, int64_t bucket_ms,
                     bool *keep);

#endif

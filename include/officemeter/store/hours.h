/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hours.h - hourly aggregates of every meter's readings, kept by the store's
 * writer, so that dashboards (officemeter-web) never scan raw readings.
 *
 * For each (site, meter, quantity) and UTC hour with at least one reading,
 * the store keeps how many readings there are, their sum, minimum and
 * maximum, and the first and the last reading (time and value). From these:
 *   - a local day, week or night of any whole-hour time zone is a set of
 *     whole hours, so daily and nightly figures add up exactly;
 *   - a counter's consumption over any period is the counter curve through
 *     the first and last readings of each hour, interpolated at the period's
 *     boundaries as docs/methodology.md describes;
 *   - an instantaneous quantity's mean over a period is sum / n.
 * The aggregates are written in the same transaction as the readings they
 * come from, and only for readings that were new (a resend or a conflict
 * changes nothing), so they stay equal to a recomputation from the
 * readings whatever is resent and wherever the writer is killed
 * (docs/web.md, "Hourly aggregates").
 *
 * Like store.h, this interface speaks only of sites, meters, quantities and
 * times: another backend implements the same functions.
 */
#ifndef OFFICEMETER_STORE_HOURS_H
#define OFFICEMETER_STORE_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/quantity.h"
#include "officemeter/store/store.h"

#define OM_HOUR_MS 3600000LL

/* One meter's quantity over one UTC hour [hour, hour + OM_HOUR_MS). */
typedef struct {
    int64_t hour;     /* ms UTC, a multiple of OM_HOUR_MS */
    uint32_t n;       /* readings in the hour (at least 1) */
    double sum;       /* of their values */
    double min, max;
    int64_t first_t;  /* the earliest reading of the hour, ms UTC */
    double first_v;
    int64_t last_t;   /* the latest */
    double last_v;
} om_hour;

/* Called for each hour in time order; return non-zero to stop. */
typedef int (*om_hour_fn)(const om_hour *h, void *user);

/* The hours of one meter's quantity that start in [from_ms, to_ms), in time
 * order. Hours without readings are not reported. Returns 0 or -1
 * (om_store_errmsg). */
int om_store_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
                   int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user);

/* One bucket of a downsampled series. */
typedef struct {
    int64_t t;       /* the bucket's start, ms UTC */
    uint32_t n;      /* readings in it (buckets without any are not reported) */
    double min, max, mean;
    int64_t first_t, last_t; /* of its readings */
} om_bucket;

typedef int (*om_bucket_fn)(const om_bucket *b, void *user);

/* A meter's quantity over [from_ms, to_ms) in buckets of bucket_ms starting
 * at from_ms, computed by the database: from the hourly aggregates when
 * bucket_ms and from_ms are whole hours, from the readings otherwise (so a
 * caller asks for at most a few thousand readings per bucket query; see
 * docs/web.md for the rule the web view uses). In time order. Returns 0 or
 * -1. */
int om_store_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
                     int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn,
                     void *user);

/* Readings stored per meter and quantity (kept with the aggregates, so this
 * costs one row per meter, not a count of the readings). */
typedef struct {
    char site[64];
    char meter[64];
    om_quantity quantity;
    uint64_t readings;
} om_store_reading_count;

/* Fills a malloc'd array (free it) ordered by site, meter, quantity. */
int om_store_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n);

/* Totals without counting the readings table (which a status page cannot
 * afford on a large database): readings from the kept counts. */
typedef struct {
    uint64_t readings;
    uint64_t conflicts;
    uint64_t rejects;     /* all ever counted */
    uint64_t quarantined; /* polls held now */
} om_store_quick_totals;

int om_store_totals_quick(om_store *st, om_store_quick_totals *out);

/* True when the database has the aggregate tables (a database never opened
 * by a writer of this version has not: start the aggregator once). */
bool om_store_has_hours(om_store *st);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollup.h - one meter's month: the unit the annual report is built from.
 *
 * A rollup turns a meter's counter readings around one local month of its
 * site into consumption with its data quality (estimated share, coverage,
 * readings, events), plus the facilities figures: minimum and maximum
 * power or flow, and the night base load (00:00-05:00 local), which for
 * water is the night flow that betrays a leak. Rows are stored (rollupdb.h)
 * so that a year costs sites x months, not readings.
 *
 * This header is pure: the caller fetches readings; see rollupdb.h for the
 * database side. Methodology: docs/methodology.md.
 */
#ifndef OFFICEMETER_ROLLUP_H
#define OFFICEMETER_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/id.h"
#include "officemeter/report/consumption.h"
#include "officemeter/report/digest.h"
#include "officemeter/config/factors.h"
#include "officemeter/base/quantity.h"
#include "officemeter/config/site.h"

/* Readings fetched on each side of a month beyond its boundaries, so that
 * the boundary values interpolate between real neighbours however long a
 * gap is, and a glitch near a boundary is judged as it would be inside. */
#define OM_ROLLUP_CONTEXT 4

typedef struct {
    char site[OM_ID_MAX];
    char meter[OM_ID_MAX];
    om_quantity quantity; /* a counter: energy_import_kwh, energy_export_kwh, water_m3 */
    om_utility utility;
    om_role role;
    int year;
    unsigned month;
    int64_t start, end;   /* the local month in ms UTC */
    double consumption;   /* kWh or m³ */
    double estimated;     /* part of it interpolated across gaps */
    int64_t expected_ms;  /* time in service within the month */
    int64_t known_ms;     /* ... covered by the counter curve */
    int64_t actual_ms;    /* ... with actual data (not in a gap) */
    uint32_t nreadings;   /* counter readings in the month */
    double rate_min;      /* instantaneous power (kW) or flow (m³/h); NAN when none */
    double rate_max;
    double night_avg;     /* mean rate 00:00-05:00 local over complete nights; NAN when none */
    double night_min;     /* the lowest complete night's mean rate */
    uint32_t nights;      /* complete nights */
    uint32_t nevents;     /* events of the month (below) */
    bool start_known, end_known;
    bool provisional;     /* the month was not over when it was computed */
    int64_t computed_at;
    char readings_sha256[OM_SHA256_HEX]; /* of the readings it was computed from (digest.h):
                                          * the month's and OM_ROLLUP_CONTEXT on each side */
} om_meter_month;

/* The digest of the readings a meter's month is computed from, as
 * om_rollup_site_month would fetch them now: stored months whose readings
 * changed since (late data, a corrected reading) are found by comparing. */
typedef struct {
    char meter[OM_ID_MAX];
    om_quantity quantity;
    char sha256[OM_SHA256_HEX];
} om_readings_digest;

/* A counter event (consumption.h) that falls in a meter's month. */
typedef struct {
    char site[OM_ID_MAX];
    char meter[OM_ID_MAX];
    om_quantity quantity;
    int year;
    unsigned month;
    om_counter_event ev;
} om_month_event;

/* The nights of a month: [00:00, 05:00) local of each day, ms UTC. */
typedef struct {
    int64_t (*windows)[2];
    size_t n;
} om_nights;

/* The counter quantities a meter is rolled up for: import (and export when
 * the site nets it) for electricity, water_m3 for water. Returns the count
 * (at most 2). */
size_t om_rollup_quantities(const om_site *site, const om_meter *meter, om_quantity out[2]);

/* Counter options for a meter: width from the catalogue model (rollover x
 * scale), plausibility and gap threshold from the policy, service life and
 * replacements from the site file. *breaks is malloc'd (free it). */
int om_rollup_counter_opts(const om_site *site, const om_meter *meter, om_quantity q,
                           const om_policy *policy, om_counter_opts *opts,
                           om_counter_break **breaks);

typedef struct {
    const om_site *site;
    const om_meter *meter;
    om_quantity quantity;
    const om_policy *policy;
    int year;
    unsigned month;
    const om_nights *nights; /* of that month */
    int64_t now;             /* a month not over at `now` is provisional */
} om_rollup_job;

/* Where readings come from: the database (rollupdb.h) or, in tests, memory. */
typedef struct {
    /* Counter readings of (meter, q) with a <= t < b, plus up to `context`
     * readings on each side, in time order; *samples is malloc'd. */
    int (*counter)(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                   int64_t a, int64_t b, unsigned context, om_sample **samples, size_t *n);
    /* Minimum and maximum of an instantaneous quantity in [a, b); NAN when
     * there is none. NULL: not reported. */
    int (*rates)(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                 int64_t a, int64_t b, double *min, double *max);
    void *user;
    /* Counter readings in [a, b) that retention dropped (retention.h):
     * counted in a month's `readings` though no longer returned. NULL:
     * none were. (Last, so that {counter, rates, user} still reads.) */
    int (*thinned)(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                   int64_t a, int64_t b, uint64_t *n);
} om_rollup_source;

/* Rolls up every meter of a site in service during a month (one row per
 * meter and counter quantity). *rows and *events are malloc'd arrays the
 * caller frees. Returns 0 or -1 (errno; a source failure keeps its own). */
int om_rollup_site_month(const om_site *site, const om_policy *policy, int year, unsigned month,
                         int64_t now, const om_rollup_source *src, om_meter_month **rows,
                         size_t *nrows, om_month_event **events, size_t *nevents);

/* The readings digests of every meter and counter a site's month rolls up
 * (the same meters and readings as om_rollup_site_month). *out is
 * malloc'd. Returns 0 or -1. */
int om_rollup_site_digests(const om_site *site, int year, unsigned month,
                           const om_rollup_source *src, om_readings_digest **out, size_t *n);

#endif

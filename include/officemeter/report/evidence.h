/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evidence.h - the data files of an evidence pack (pure): the monthly
 * rollups and their events as CSV at full precision, read back exactly so
 * that the report rebuilt from a pack is the report it holds; and for every
 * meter-month the readings its consumption was computed from at the
 * boundaries, with the interpolation. docs/methodology.md, "Evidence pack".
 */
#ifndef OFFICEMETER_EVIDENCE_H
#define OFFICEMETER_EVIDENCE_H

#include <stddef.h>
#include <stdio.h>

#include "officemeter/base/diag.h"
#include "officemeter/config/factors.h"
#include "officemeter/report/rollup.h"

/* rollups.csv: one row per meter-month, every field of om_meter_month,
 * numbers as the shortest text that reads back as the same double. */
int om_rollups_write_csv(const om_meter_month *rows, size_t n, FILE *out);
/* events.csv: one row per event of a meter-month. */
int om_events_write_csv(const om_month_event *events, size_t n, FILE *out);

/* Reads them back from a buffer (any bytes: a pack may have been tampered
 * with); errors name file, line and column. Appends to the caller's
 * malloc'd arrays. Return 0, or -1 with the errors in diag. */
int om_rollups_read_csv(const char *file, const char *buf, size_t len, om_meter_month **rows,
                        size_t *n, om_diag *diag);
int om_events_read_csv(const char *file, const char *buf, size_t len, om_month_event **events,
                       size_t *n, om_diag *diag);

/* A boundary of a meter's month: the curve points on either side, the raw
 * readings there (NAN for a point that is not a reading: a replacement),
 * and the value interpolated at the boundary. */
typedef struct {
    int64_t t;
    om_curve_point before, after;
    double before_reading, after_reading;
    double value;
} om_boundary;

/* How a meter's month was computed from its readings. */
typedef struct {
    bool known;           /* the curve covers some of the month in service */
    om_boundary from, to; /* clipped to the service life and to the curve */
    double consumption;   /* to.value - from.value */
    char sha256[OM_SHA256_HEX];
} om_month_trace;

/* Traces one meter and counter over a site's local month. Returns 0 or -1
 * (the source's failure, memory). */
int om_trace_meter_month(const om_site *site, const om_meter *m, om_quantity q,
                         const om_policy *policy, int year, unsigned month,
                         const om_rollup_source *src, om_month_trace *out);

/* boundaries.csv rows for every meter and counter of a site's month: the
 * curve points on either side of each boundary (time, raw reading, value on
 * the clean curve), the value interpolated at the boundary, and the
 * consumption (end - start). `header` writes the column names first.
 * Returns 0 or -1 (the source's failure, memory). */
int om_boundaries_write_csv(const om_site *site, const om_policy *policy, int year,
                            unsigned month, const om_rollup_source *src, bool header, FILE *out);

#endif

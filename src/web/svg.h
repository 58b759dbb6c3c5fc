/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svg.h - charts drawn on the server as SVG: no script, no library, they
 * print, and the page shows its numbers in a table beside each chart.
 * Presentation attributes and classes only (the CSP forbids inline style).
 */
#ifndef OFFICEMETER_WEB_SVG_H
#define OFFICEMETER_WEB_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "web.h"

/* Grouped bars: a[i] (this period) beside b[i] (the one before); NAN: no bar. */
void svg_bars(wbuf *b, const char *id, const char *const *labels, const double *a,
              const double *prev, size_t n, const char *unit, const char *name_a,
              const char *name_b);

/* A marked instant on a time chart. */
typedef struct {
    int64_t t;
    const char *label; /* "rollover", "gap" ... */
} svg_mark;

/* A line over time: points (t[i], y[i]); NAN breaks the line (a gap). lo
 * and hi (optional, NULL) draw a band under it. t in ms UTC; the axis is
 * labelled in the zone. */
void svg_line(wbuf *b, const char *id, const int64_t *t, const double *y, const double *lo,
              const double *hi, size_t n, int64_t from, int64_t to, const char *unit,
              const char *zone, const svg_mark *marks, size_t nmarks);

/* A 7 x 24 grid: v[day * 24 + hour], day 0 = Monday; NAN: no data. */
void svg_heatmap(wbuf *b, const char *id, const double *v, const char *unit);

#endif

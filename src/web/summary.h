/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary.h - one site's running figures for the portfolio page and the
 * top of the site page: this month and the year to date against the same
 * periods a year earlier, from the hourly aggregates (summary.c).
 */
#ifndef OFFICEMETER_WEB_SUMMARY_H
#define OFFICEMETER_WEB_SUMMARY_H

#include "web.h"

typedef struct {
    double now_v, before_v; /* this period, the same period a year earlier; NAN: no data */
} web_pair;

typedef struct {
    int64_t now;
    int64_t month_start, year_start;
    web_pair elec_month_mwh, elec_ytd_mwh;
    web_pair water_month_t, water_ytd_t;
    web_pair ghg_ytd_t;        /* scope 2 location-based, grid factor of the year */
    double area_m2;
    double kwh_per_m2_ytd;
    double coverage_month;     /* share of hours with readings, main electricity meter */
    bool has_water;
} web_summary;

/* Computes a site's summary at web_now(). Returns 0, or -1 with err. */
int web_summary_site(web_ctx *w, const om_site *site, web_summary *out, char *err,
                     size_t errlen);

/* The site's summary as the pages use it: the one computed within cache_s
 * seconds if there is one, else computed now (and kept). With cache_s 0
 * always computed. */
int web_summary_get(web_ctx *w, const om_site *site, web_summary *out, char *err, size_t errlen);

/* Computes every site's summary once, now (cache_s 0: nothing): what a
 * fresh daemon does before it says it is ready, so that its first
 * portfolio and site pages find them. */
void web_summary_warm_all(web_ctx *w);

/* Keeps every site's summary fresh from a thread of its own (the
 * portfolio page of a large portfolio then costs no computation):
 * computes each summary when it is older than cache_s, until stop is set.
 * Returns 0, or -1 when the thread could not start. */
int web_summary_warmer_start(web_ctx *w, volatile int *stop, pthread_t *thread);

/* (a - b) / b in percent; NAN when not defined. */
double web_change_pct(const web_pair *p);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * figures.h - the dashboards' running figures, from the hourly aggregates
 * (store/hours.h), never from raw readings.
 *
 * A meter's counter curve is built through the first and the last reading
 * of each hour with the report's own counter method (consumption.h:
 * rollovers, resets, replacements and glitches handled the same way, the
 * width and breaks from the site file and catalogue), so consumption over
 * any period is the curve at its end minus the curve at its start. The
 * report's monthly figures come from the rollups (portfolio.h); these are
 * for periods a rollup does not have: days, nights, hours of the week,
 * "this month so far". docs/web.md, "Figures", says how they relate.
 */
#ifndef OFFICEMETER_WEB_FIGURES_H
#define OFFICEMETER_WEB_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/report/consumption.h"
#include "web.h"

/* One meter's counter over a span, and which hours had readings. */
typedef struct {
    const om_meter *meter;
    om_quantity quantity;
    double sign;       /* +1; -1 for export netted off import */
    om_counter *curve; /* NULL when there is nothing */
    int64_t *hours;    /* hour starts with readings, in order */
    size_t nhours;
} web_curve;

/* The main meters of one utility at a site (or one meter). */
typedef struct {
    web_curve *curves;
    size_t n;
} web_series;

/* Loads the curves of the site's main meters of `utility` (electricity:
 * import, minus export where the site nets it) over [from, to), with
 * three days of context on each side. Returns 0, or -1 with err. */
int web_series_main(web_conn *c, const om_portfolio *pf, const om_site *site, om_utility utility,
                    int64_t from, int64_t to, web_series *out, char *err, size_t errlen);
/* One meter's counter (its first counter quantity) over [from, to). */
int web_series_meter(web_conn *c, const om_portfolio *pf, const om_site *site,
                     const om_meter *meter, int64_t from, int64_t to, web_series *out, char *err,
                     size_t errlen);
void web_series_free(web_series *s);

/* Consumption over [a, b) (kWh or m³); NAN when no meter has data there. */
double web_series_between(const web_series *s, int64_t a, int64_t b);
/* Share of the hours of [a, b) in which the first meter had readings. */
double web_series_coverage(const web_series *s, int64_t a, int64_t b);

/* Local calendar helpers for a site. */
int32_t web_local_day(const om_site *site, int64_t t);
int64_t web_day_start(const om_site *site, int32_t day);
/* The local weekday (0 = Monday) and hour (0..23) of t. */
void web_local_time(const om_site *site, int64_t t, int *weekday, int *hour);
/* Start of the local month / year that contains t. */
int64_t web_month_start(const om_site *site, int64_t t);
int64_t web_year_start(const om_site *site, int64_t t);
/* The same local time one year earlier (29 February: the 28th). */
int64_t web_year_before(const om_site *site, int64_t t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * figures.c - counter curves from the hourly aggregates, and local calendar
 * helpers (figures.h).
 */
#include "figures.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"
#include "officemeter/report/rollup.h"
#include "officemeter/store/hours.h"

#define CONTEXT_MS (3 * 86400000LL)

typedef struct {
    om_sample *v;
    size_t n, cap;
    int64_t *hours;
    size_t nh, caph;
    bool failed;
} points;

static int take_hour(const om_hour *h, void *user)
{
    points *p = user;
    om_sample *grown = om_grow(p->v, &p->cap, p->n + 1, sizeof *grown);
    int64_t *hg = om_grow(p->hours, &p->caph, p->nh, sizeof *hg);
    if (!grown || !hg) {
        if (grown)
            p->v = grown;
        if (hg)
            p->hours = hg;
        p->failed = true;
        return 1;
    }
    p->v = grown;
    p->hours = hg;
    p->hours[p->nh++] = h->hour;
    p->v[p->n++] = (om_sample){h->first_t, h->first_v};
    if (h->last_t != h->first_t)
        p->v[p->n++] = (om_sample){h->last_t, h->last_v};
    return 0;
}

static int load_curve(web_conn *c, const om_portfolio *pf, const om_site *site,
                      const om_meter *meter, om_quantity q, double sign, int64_t from, int64_t to,
                      web_curve *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->meter = meter;
    out->quantity = q;
    out->sign = sign;
    points p = {0};
    if (om_store_hours(c->st, site->site, meter->id, q, from - CONTEXT_MS, to + CONTEXT_MS,
                       take_hour, &p) < 0 || p.failed) {
        snprintf(err, errlen, "%s", p.failed ? "out of memory" : om_store_errmsg(c->st));
        free(p.v);
        free(p.hours);
        return -1;
    }
    out->hours = p.hours;
    out->nhours = p.nh;
    if (p.n == 0) {
        free(p.v);
        return 0;
    }
    om_counter_opts opts;
    om_counter_break *breaks = NULL;
    if (om_rollup_counter_opts(site, meter, q, &pf->policy, &opts, &breaks) < 0)
        om_counter_opts_default(&opts);
    /* Hourly points are an hour apart by construction: that is not a gap
     * (coverage is counted from the hours themselves). */
    opts.gap_intervals = 0;
    out->curve = om_counter_new(p.v, p.n, &opts);
    free(breaks);
    free(p.v);
    if (!out->curve) {
        snprintf(err, errlen, "%s/%s: cannot build the counter curve", site->site, meter->id);
        return -1;
    }
    return 0;
}

static int push_curve(web_series *s, web_curve *c)
{
    web_curve *grown = realloc(s->curves, (s->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->curves = grown;
    s->curves[s->n++] = *c;
    return 0;
}

static int add_meter(web_conn *c, const om_portfolio *pf, const om_site *site, const om_meter *m,
                     int64_t from, int64_t to, bool net, web_series *out, char *err, size_t errlen)
{
    om_quantity qs[2];
    size_t nq = om_rollup_quantities(site, m, qs);
    for (size_t k = 0; k < nq && (net || k == 0); k++) {
        web_curve curve;
        double sign = qs[k] == OM_Q_ENERGY_EXPORT_KWH ? -1 : 1;
        if (load_curve(c, pf, site, m, qs[k], sign, from, to, &curve, err, errlen) < 0)
            return -1;
        if (push_curve(out, &curve) < 0) {
            om_counter_free(curve.curve);
            free(curve.hours);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int web_series_main(web_conn *c, const om_portfolio *pf, const om_site *site, om_utility utility,
                    int64_t from, int64_t to, web_series *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < site->nmeters; i++) {
        const om_meter *m = &site->meters[i];
        if (m->utility != utility || m->role != OM_ROLE_MAIN)
            continue;
        if (add_meter(c, pf, site, m, from, to, true, out, err, errlen) < 0) {
            web_series_free(out);
            return -1;
        }
    }
    return 0;
}

int web_series_meter(web_conn *c, const om_portfolio *pf, const om_site *site,
                     const om_meter *meter, int64_t from, int64_t to, web_series *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (add_meter(c, pf, site, meter, from, to, false, out, err, errlen) < 0) {
        web_series_free(out);
        return -1;
    }
    return 0;
}

void web_series_free(web_series *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        om_counter_free(s->curves[i].curve);
        free(s->curves[i].hours);
    }
    if (s)
        free(s->curves);
    if (s)
        memset(s, 0, sizeof *s);
}

double web_series_between(const web_series *s, int64_t a, int64_t b)
{
    double total = 0;
    bool any = false;
    for (size_t i = 0; i < s->n; i++) {
        om_consumption r;
        if (!s->curves[i].curve || om_counter_consumption(s->curves[i].curve, a, b, &r) < 0 ||
            r.known_ms <= 0)
            continue;
        total += s->curves[i].sign * r.value;
        any = true;
    }
    return any ? total : NAN;
}

double web_series_coverage(const web_series *s, int64_t a, int64_t b)
{
    if (s->n == 0 || b <= a)
        return NAN;
    const web_curve *c = &s->curves[0];
    size_t have = 0;
    for (size_t i = 0; i < c->nhours; i++)
        have += c->hours[i] >= a && c->hours[i] < b;
    double hours = (double)(b - a) / (double)OM_HOUR_MS;
    double share = hours > 0 ? (double)have / ceil(hours) : NAN;
    return share > 1 ? 1 : share;
}

/* ---- local calendar ------------------------------------------------------------ */

/* Local midnights per zone, computed once for a window of days around the
 * first day asked for (om_tz_day_starts: one zone switch for the lot).
 * Every conversion through base/tz.c switches the process's TZ under one
 * lock, and a site page needs hundreds of them, so pages look days up here
 * instead; a day outside the window asks tz.c as before. */
#define ZONE_DAYS 2400 /* about 6.5 years: 5 back, 1.5 ahead */

typedef struct {
    char zone[64];
    int32_t first;
    int64_t start[ZONE_DAYS + 1];
} zone_days;

static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;
static zone_days *zones[32];
static size_t nzones;

static const zone_days *zone_table(const char *zone)
{
    pthread_mutex_lock(&zones_lock);
    for (size_t i = 0; i < nzones; i++)
        if (strcmp(zones[i]->zone, zone) == 0) {
            pthread_mutex_unlock(&zones_lock);
            return zones[i];
        }
    zone_days *z = NULL;
    if (nzones < sizeof zones / sizeof zones[0] && strlen(zone) < sizeof z->zone &&
        (z = calloc(1, sizeof *z)) != NULL) {
        snprintf(z->zone, sizeof z->zone, "%s", zone);
        time_t now = time(NULL);
        z->first = (int32_t)(now / 86400) - 1826;
        if (om_tz_day_starts(zone, z->first, ZONE_DAYS + 1, z->start) == 0) {
            zones[nzones++] = z;
        } else {
            free(z);
            z = NULL;
        }
    }
    pthread_mutex_unlock(&zones_lock);
    return z;
}

static bool in_table(const zone_days *z, int32_t day)
{
    return z && day >= z->first && day < z->first + ZONE_DAYS;
}

int64_t web_day_start(const om_site *site, int32_t day)
{
    const zone_days *z = zone_table(site->timezone);
    if (in_table(z, day))
        return z->start[day - z->first];
    int64_t start, end;
    if (om_day_bounds(site->timezone, day, &start, &end) < 0)
        return (int64_t)day * 86400000;
    return start;
}

int32_t web_local_day(const om_site *site, int64_t t)
{
    const zone_days *z = zone_table(site->timezone);
    if (z && t >= z->start[0] && t < z->start[ZONE_DAYS]) {
        size_t lo = 0, hi = ZONE_DAYS; /* the last day starting at or before t */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (z->start[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        return z->first + (int32_t)lo;
    }
    struct tm tm;
    if (om_tz_utc_to_local(site->timezone, t, &tm) < 0)
        return (int32_t)(t / 86400000);
    return om_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

void web_local_time(const om_site *site, int64_t t, int *weekday, int *hour)
{
    int32_t day = web_local_day(site, t);
    *weekday = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
    *hour = (int)((t - web_day_start(site, day)) / 3600000);
    if (*hour > 23)
        *hour = 23; /* the long day of a change back from summer time */
}

int64_t web_month_start(const om_site *site, int64_t t)
{
    int y;
    unsigned m, d;
    om_civil_from_days(web_local_day(site, t), &y, &m, &d);
    return web_day_start(site, om_days_from_civil(y, m, 1));
}

int64_t web_year_start(const om_site *site, int64_t t)
{
    int y;
    unsigned m, d;
    om_civil_from_days(web_local_day(site, t), &y, &m, &d);
    return web_day_start(site, om_days_from_civil(y, 1, 1));
}

int64_t web_year_before(const om_site *site, int64_t t)
{
    int32_t day = web_local_day(site, t);
    int64_t into = t - web_day_start(site, day);
    int y;
    unsigned m, d;
    om_civil_from_days(day, &y, &m, &d);
    if (m == 2 && d == 29)
        d = 28;
    return web_day_start(site, om_days_from_civil(y - 1, m, d)) + into;
}

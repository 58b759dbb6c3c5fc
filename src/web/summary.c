/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary.c - a site's month and year to date against the same periods a
 * year earlier ("same period" ends at the same local time of day one year
 * before now), from the main meters' hourly curves (figures.h). Emissions
 * use the grid factor the policy selects for the year, as the report does.
 */
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "figures.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/clock.h"
#include "officemeter/daemon/log.h"

double web_change_pct(const web_pair *p)
{
    if (isnan(p->now_v) || isnan(p->before_v) || p->before_v == 0)
        return NAN;
    return (p->now_v - p->before_v) / p->before_v * 100;
}

static web_pair pair(const web_series *s, int64_t a, int64_t b, double scale)
{
    return (web_pair){web_series_between(s, a, b) * scale, NAN};
}

static double grid_t_per_mwh(const om_portfolio *pf, const om_site *site, int64_t t)
{
    int year;
    unsigned month;
    if (!site->grid_region || om_month_of(site->timezone, t, &year, &month) < 0)
        return NAN;
    const om_factor *f = om_factors_select(&pf->factors, &pf->policy, site->grid_region,
                                           OM_FACTOR_GRID_ELECTRICITY, year);
    return f ? om_factor_tonnes_per_unit(f) : NAN;
}

/* The whole months before `month` of `year` from the stored rollups, per
 * utility (kWh, m³): the report's own monthly figures (main meters; export
 * netted where the site says so). Returns 1 when every one of those months
 * is stored and final, 0 when one is not (the caller then uses the hourly
 * curve), -1 on an error. */
static int months_before(web_conn *c, const om_site *site, int year, unsigned month,
                         double total[2], char *err, size_t errlen)
{
    total[0] = total[1] = 0;
    for (unsigned m = 1; m < month; m++) {
        om_rollup_state st;
        if (om_rollupdb_state(c->db, site->site, year, m, &st) < 0) {
            snprintf(err, errlen, "%s", om_rollupdb_errmsg(c->db));
            return -1;
        }
        if (!st.stored || st.provisional)
            return 0;
    }
    if (month <= 1)
        return 1;
    om_meter_month *rows = NULL;
    size_t n = 0;
    if (om_rollupdb_load_year(c->db, site->site, year, &rows, &n, NULL, NULL) < 0) {
        snprintf(err, errlen, "%s", om_rollupdb_errmsg(c->db));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const om_meter_month *r = &rows[i];
        if (r->month >= month || r->role != OM_ROLE_MAIN)
            continue;
        if (r->quantity == OM_Q_ENERGY_EXPORT_KWH && !site->net_export)
            continue;
        double sign = r->quantity == OM_Q_ENERGY_EXPORT_KWH ? -1 : 1;
        total[r->utility == OM_UTILITY_WATER] += sign * r->consumption;
    }
    free(rows);
    return 1;
}

static double add_nan(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : a + b;
}

/* A year to date: the stored whole months plus the month so far; the
 * hourly curve over the whole span when a month is not stored. */
static int year_to_date(web_conn *c, const om_portfolio *pf, const om_site *site, int64_t ystart,
                        int64_t mstart, int64_t end, const web_series partial[2],
                        double out[2], char *err, size_t errlen)
{
    int year;
    unsigned month;
    om_month_of(site->timezone, mstart, &year, &month);
    double months[2];
    int stored = months_before(c, site, year, month, months, err, errlen);
    if (stored < 0)
        return -1;
    for (int u = 0; u < 2; u++) {
        double part = web_series_between(&partial[u], mstart, end);
        if (stored) {
            out[u] = add_nan(partial[u].n ? months[u] : NAN, part);
            continue;
        }
        web_series s;
        if (web_series_main(c, pf, site, (om_utility)u, ystart, end, &s, err, errlen) < 0)
            return -1;
        out[u] = web_series_between(&s, ystart, end);
        web_series_free(&s);
    }
    return 0;
}

int web_summary_site(web_ctx *w, const om_site *site, web_summary *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t now = web_now(w);
    out->now = now;
    out->month_start = web_month_start(site, now);
    out->year_start = web_year_start(site, now);
    int64_t now0 = web_year_before(site, now);
    int64_t month0 = web_year_before(site, out->month_start);
    int64_t year0 = web_year_before(site, out->year_start);
    /* The month so far and the same part of that month a year earlier,
     * from the hourly aggregates; whole months from the rollups. */
    web_series cur[2] = {{0}}, prev[2] = {{0}};
    double ytd[2] = {NAN, NAN}, ytd0[2] = {NAN, NAN};
    web_conn *c = web_conn_get(w);
    om_store_read_begin(c->st);
    int rc = 0;
    for (int u = 0; u < 2 && rc == 0; u++)
        if (web_series_main(c, &w->pf, site, (om_utility)u, out->month_start, now, &cur[u], err,
                            errlen) < 0 ||
            web_series_main(c, &w->pf, site, (om_utility)u, month0, now0, &prev[u], err,
                            errlen) < 0)
            rc = -1;
    if (rc == 0)
        rc = year_to_date(c, &w->pf, site, out->year_start, out->month_start, now, cur, ytd, err,
                          errlen);
    if (rc == 0)
        rc = year_to_date(c, &w->pf, site, year0, month0, now0, prev, ytd0, err, errlen);
    web_conn_put(w, c);
    if (rc == 0) {
        out->elec_month_mwh = pair(&cur[0], out->month_start, now, 1e-3);
        out->elec_month_mwh.before_v = web_series_between(&prev[0], month0, now0) * 1e-3;
        out->water_month_t = pair(&cur[1], out->month_start, now, 1);
        out->water_month_t.before_v = web_series_between(&prev[1], month0, now0);
        out->elec_ytd_mwh = (web_pair){ytd[0] * 1e-3, ytd0[0] * 1e-3};
        out->water_ytd_t = (web_pair){ytd[1], ytd0[1]};
        out->has_water = cur[1].n > 0;
        out->ghg_ytd_t = (web_pair){out->elec_ytd_mwh.now_v * grid_t_per_mwh(&w->pf, site, now),
                                    out->elec_ytd_mwh.before_v *
                                        grid_t_per_mwh(&w->pf, site, now0)};
        out->area_m2 = om_area_on(site->floor_area, site->nfloor_area, web_local_day(site, now));
        out->kwh_per_m2_ytd = out->area_m2 > 0 ? ytd[0] / out->area_m2 : NAN;
        out->coverage_month = web_series_coverage(&cur[0], out->month_start, now);
    }
    for (int u = 0; u < 2; u++) {
        web_series_free(&cur[u]);
        web_series_free(&prev[u]);
    }
    return rc;
}

/* ---- the cache and its warmer ------------------------------------------------------ */

typedef struct {
    web_summary s;
    int64_t at; /* monotonic ms; 0: none */
} cached_summary;

static cached_summary *slots(web_ctx *w)
{
    if (!w->summaries)
        w->summaries = calloc(w->pf.sites.nsites + 1, sizeof(cached_summary));
    return w->summaries;
}

static size_t site_index(const web_ctx *w, const om_site *site)
{
    return (size_t)(site - w->pf.sites.sites);
}

static void keep(web_ctx *w, const om_site *site, const web_summary *s)
{
    pthread_mutex_lock(&w->lock);
    cached_summary *c = slots(w);
    if (c) {
        c[site_index(w, site)].s = *s;
        c[site_index(w, site)].at = om_mono_ms();
    }
    pthread_mutex_unlock(&w->lock);
}

int web_summary_get(web_ctx *w, const om_site *site, web_summary *out, char *err, size_t errlen)
{
    int64_t max_age = (int64_t)w->cfg->cache_s * 1000;
    bool found = false;
    if (max_age > 0) {
        pthread_mutex_lock(&w->lock);
        cached_summary *c = slots(w);
        /* Twice cache_s: the warmer renews at cache_s, so a page never waits
         * for a computation while it runs. */
        if (c && c[site_index(w, site)].at &&
            om_mono_ms() - c[site_index(w, site)].at <= 2 * max_age) {
            *out = c[site_index(w, site)].s;
            found = true;
        }
        pthread_mutex_unlock(&w->lock);
    }
    if (found)
        return 0;
    if (web_summary_site(w, site, out, err, errlen) < 0)
        return -1;
    if (max_age > 0)
        keep(w, site, out);
    return 0;
}

typedef struct {
    web_ctx *w;
    volatile int *stop;
} warmer;

/* Computes the summaries older than cache_s (or never computed), until
 * stop is set. */
static void renew_due(web_ctx *w, volatile int *stop)
{
    int64_t max_age = (int64_t)w->cfg->cache_s * 1000;
    for (size_t i = 0; i < w->pf.sites.nsites && !*stop; i++) {
        pthread_mutex_lock(&w->lock);
        cached_summary *c = slots(w);
        bool due = c && (!c[i].at || om_mono_ms() - c[i].at >= max_age);
        pthread_mutex_unlock(&w->lock);
        if (!due)
            continue;
        web_summary s;
        char err[512];
        if (web_summary_site(w, &w->pf.sites.sites[i], &s, err, sizeof err) == 0)
            keep(w, &w->pf.sites.sites[i], &s);
        else
            om_log_limited("summary", OM_LOG_REPEAT_MS, OM_LOG_WARNING, "%s", err);
    }
}

void web_summary_warm_all(web_ctx *w)
{
    volatile int never = 0;
    if (w->cfg->cache_s > 0)
        renew_due(w, &never);
}

static void *warm(void *arg)
{
    warmer *wm = arg;
    web_ctx *w = wm->w;
    while (!*wm->stop) {
        renew_due(w, wm->stop);
        for (int i = 0; i < 10 && !*wm->stop; i++)
            usleep(100000);
    }
    free(wm);
    return NULL;
}

int web_summary_warmer_start(web_ctx *w, volatile int *stop, pthread_t *thread)
{
    if (w->cfg->cache_s == 0)
        return -1;
    warmer *wm = malloc(sizeof *wm);
    if (!wm)
        return -1;
    wm->w = w;
    wm->stop = stop;
    if (pthread_create(thread, NULL, warm, wm) != 0) {
        free(wm);
        return -1;
    }
    return 0;
}

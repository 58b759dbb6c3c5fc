/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portfolio.c - loading the portfolio's files, and the annual report built
 * from stored and (re)computed months (portfolio.h).
 */
#include "officemeter/portfolio/portfolio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/path.h"

int om_portfolio_load(const om_portfolio_paths *paths, om_portfolio *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    om_agg_config where = {0};
    where.sites_dir = (char *)paths->sites_dir;
    where.catalogue = (char *)(paths->catalogue ? paths->catalogue : OM_AGG_DEFAULT_CATALOGUE);
    char *factors = paths->factors ? strdup(paths->factors)
                                   : om_path_join(paths->sites_dir, "emission-factors.yaml");
    char *policy = paths->policy ? strdup(paths->policy)
                                 : om_path_join(paths->sites_dir, "reporting.yaml");
    int rc = om_agg_sites_load(&where, &out->sites, diag);
    if (factors && policy) {
        rc |= om_factors_load(factors, &out->factors, diag);
        rc |= om_policy_load(policy, &out->factors, &out->policy, diag);
    } else {
        om_diag_add(diag, paths->sites_dir, 0, 0, "sites_dir", "out of memory");
        rc = -1;
    }
    free(factors);
    free(policy);
    if (rc == 0) {
        size_t before = om_diag_count(diag);
        char *folder = paths->bills ? strdup(paths->bills) : om_policy_bills_folder(&out->policy);
        struct stat st;
        if (!folder)
            rc = -1;
        else if (paths->bills && (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode)))
            om_diag_add(diag, folder, 0, 0, "bills", "not a folder");
        else if (om_bills_load_dir(folder, &out->bills, diag) < 0)
            rc = -1;
        free(folder);
        om_bills_check_sites(&out->bills, out->sites.sites, out->sites.nsites, diag);
        if (!paths->bills_may_overlap)
            om_bills_check_overlaps(&out->bills, diag);
        om_policy_check_sites(&out->policy, out->sites.sites, out->sites.nsites, diag);
        if (om_diag_count(diag) != before)
            rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

void om_portfolio_free(om_portfolio *pf)
{
    if (!pf)
        return;
    om_agg_sites_free(&pf->sites);
    om_bills_free(&pf->bills);
    om_policy_free(&pf->policy);
    om_factors_free(&pf->factors);
    memset(pf, 0, sizeof *pf);
}

const om_site *om_portfolio_site(const om_portfolio *pf, const char *id)
{
    for (size_t i = 0; i < pf->sites.nsites; i++)
        if (pf->sites.sites[i].site && strcmp(pf->sites.sites[i].site, id) == 0)
            return &pf->sites.sites[i];
    return NULL;
}

void om_year_rows_free(om_year_rows *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->events);
    memset(r, 0, sizeof *r);
}

/* Appends src[0..n) to *dst (a malloc'd array of *ndst). */
static int append(void **dst, size_t *ndst, const void *src, size_t n, size_t size)
{
    if (n == 0)
        return 0;
    void *grown = realloc(*dst, (*ndst + n) * size);
    if (!grown)
        return -1;
    memcpy((char *)grown + *ndst * size, src, n * size);
    *dst = grown;
    *ndst += n;
    return 0;
}

int om_portfolio_month(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                       int year, unsigned month, int64_t now, bool save, om_year_rows *out,
                       char *err, size_t errlen)
{
    om_rollup_source src;
    om_rollupdb_source(db, &src);
    om_meter_month *rows = NULL;
    om_month_event *events = NULL;
    size_t nrows = 0, nevents = 0;
    /* One snapshot for the whole month, while the aggregator writes. */
    om_store_read_begin(st);
    int rc = om_rollup_site_month(site, &pf->policy, year, month, now, &src, &rows, &nrows,
                                  &events, &nevents);
    om_store_read_end(st);
    if (rc < 0) {
        snprintf(err, errlen, "%s %04d-%02u: %s", site->site, year, month,
                 om_rollupdb_errmsg(db)[0] ? om_rollupdb_errmsg(db) : "cannot compute the month");
        return -1;
    }
    if (save) {
        int64_t start, end;
        om_month_bounds(site->timezone, year, month, &start, &end);
        rc = om_rollupdb_save(db, site, year, month, now < end, now,
                              om_rollup_fingerprint(site, &pf->policy), rows, nrows, events,
                              nevents);
        if (rc < 0)
            snprintf(err, errlen, "%s", om_rollupdb_errmsg(db));
    } else if (append((void **)&out->rows, &out->nrows, rows, nrows, sizeof *rows) < 0 ||
               append((void **)&out->events, &out->nevents, events, nevents, sizeof *events) < 0) {
        snprintf(err, errlen, "%s %04d-%02u: out of memory", site->site, year, month);
        rc = -1;
    }
    free(rows);
    free(events);
    return rc;
}

int om_portfolio_month_current(om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                               int year, unsigned month, int64_t now, char *err, size_t errlen)
{
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0) {
        snprintf(err, errlen, "%s: unknown time zone %s", site->site, site->timezone);
        return -1;
    }
    if (start >= now)
        return 1; /* not started: nothing to say about it yet */
    om_rollup_state state;
    if (om_rollupdb_state(db, site->site, year, month, &state) < 0) {
        snprintf(err, errlen, "%s", om_rollupdb_errmsg(db));
        return -1;
    }
    return state.stored && !state.provisional &&
           state.fingerprint == om_rollup_fingerprint(site, &pf->policy);
}

/* Keeps the rows (and events) from from_row (from_event) on whose month is
 * not in `computed` (a bit per month of `year`). */
static void drop_computed(om_year_rows *r, size_t from_row, size_t from_event, int year,
                          const bool computed[13])
{
    size_t k = from_row;
    for (size_t i = from_row; i < r->nrows; i++) {
        const om_meter_month *m = &r->rows[i];
        if (m->year != year || m->month > 12 || !computed[m->month])
            r->rows[k++] = r->rows[i];
    }
    r->nrows = k;
    k = from_event;
    for (size_t i = from_event; i < r->nevents; i++) {
        const om_month_event *e = &r->events[i];
        if (e->year != year || e->month > 12 || !computed[e->month])
            r->events[k++] = r->events[i];
    }
    r->nevents = k;
}

/* True (*changed) when the readings behind a stored month are not those
 * it was computed from: a digest differs, or a meter-month appeared or
 * went. stored: the site's stored rows of the year. */
static int readings_changed(om_store *st, om_rollupdb *db, const om_site *site, int year,
                            unsigned month, const om_meter_month *stored, size_t nstored,
                            bool *changed, char *err, size_t errlen)
{
    om_rollup_source src;
    om_rollupdb_source(db, &src);
    om_readings_digest *now;
    size_t nnow;
    om_store_read_begin(st);
    int rc = om_rollup_site_digests(site, year, month, &src, &now, &nnow);
    om_store_read_end(st);
    if (rc < 0) {
        snprintf(err, errlen, "%s %04d-%02u: %s", site->site, year, month,
                 om_rollupdb_errmsg(db));
        return -1;
    }
    size_t mine = 0;
    *changed = false;
    for (size_t i = 0; i < nstored; i++) {
        const om_meter_month *m = &stored[i];
        if (m->month != month)
            continue;
        mine++;
        bool same = false;
        for (size_t k = 0; k < nnow && !same; k++)
            same = now[k].quantity == m->quantity && strcmp(now[k].meter, m->meter) == 0 &&
                   strcmp(now[k].sha256, m->readings_sha256) == 0;
        *changed |= !same;
    }
    *changed |= mine != nnow;
    free(now);
    return 0;
}

static void note_changed(om_year_rows *out, const om_site *site, int year, unsigned month)
{
    size_t len = strlen(out->changed);
    snprintf(out->changed + len, sizeof out->changed - len, "%s%s %04d-%02u", len ? ", " : "",
             site->site, year, month);
}

/* Which months of a site's year must be computed (computed[m]): not
 * current, or (verify) current but computed from other readings. A writer
 * stores them here. */
static int plan_year(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                     int y, const om_rows_opts *o, om_year_rows *out, bool computed[13],
                     char *err, size_t errlen)
{
    om_meter_month *stored = NULL;
    size_t nstored = 0;
    if (o->verify && !o->recompute &&
        om_rollupdb_load_year(db, site->site, y, &stored, &nstored, NULL, NULL) < 0) {
        snprintf(err, errlen, "%s", om_rollupdb_errmsg(db));
        return -1;
    }
    int rc = 0;
    for (unsigned m = 1; m <= 12 && rc == 0; m++) {
        int cur = o->recompute ? 0
                               : om_portfolio_month_current(db, pf, site, y, m, o->now, err, errlen);
        if (cur < 0) {
            rc = -1;
            break;
        }
        bool moved = false;
        if (cur == 1 && nstored > 0 &&
            readings_changed(st, db, site, y, m, stored, nstored, &moved, err, errlen) < 0) {
            rc = -1;
            break;
        }
        if (moved)
            note_changed(out, site, y, m);
        computed[m] = cur == 0 || moved;
        if (computed[m] && o->save &&
            om_portfolio_month(st, db, pf, site, y, m, o->now, true, out, err, errlen) < 0)
            rc = -1;
        out->computed += computed[m];
    }
    free(stored);
    return rc;
}

/* One site's rows of one year (and its events when `events`). */
static int one_year(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                    int y, bool events, const om_rows_opts *o, om_year_rows *out, char *err,
                    size_t errlen)
{
    bool computed[13] = {false};
    if (plan_year(st, db, pf, site, y, o, out, computed, err, errlen) < 0)
        return -1;
    size_t first_row = out->nrows, first_event = out->nevents;
    if (om_rollupdb_load_year(db, site->site, y, &out->rows, &out->nrows,
                              events ? &out->events : NULL, events ? &out->nevents : NULL) < 0) {
        snprintf(err, errlen, "%s", om_rollupdb_errmsg(db));
        return -1;
    }
    if (o->save)
        return 0;
    /* In memory: the stored rows of computed months give way to fresh ones. */
    drop_computed(out, first_row, first_event, y, computed);
    for (unsigned m = 1; m <= 12; m++) {
        if (!computed[m])
            continue;
        size_t events_before = out->nevents;
        if (om_portfolio_month(st, db, pf, site, y, m, o->now, false, out, err, errlen) < 0)
            return -1;
        if (!events)
            out->nevents = events_before;
    }
    return 0;
}

static int one_site(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                    int year, const om_rows_opts *o, om_year_rows *out, char *err, size_t errlen)
{
    int years[64];
    size_t nyears = om_report_years(&pf->policy, year, years, 64);
    for (size_t i = 0; i < nyears; i++)
        if (one_year(st, db, pf, site, years[i], years[i] == year, o, out, err, errlen) < 0)
            return -1;
    return 0;
}

int om_portfolio_year(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                      int year, const om_rows_opts *o, om_year_rows *out, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < pf->sites.nsites; i++) {
        const om_site *s = &pf->sites.sites[i];
        if (site && strcmp(s->site, site->site) != 0)
            continue;
        if (one_site(st, db, pf, s, year, o, out, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int om_portfolio_report(const om_portfolio *pf, const om_site *only_site, int year,
                        const om_year_rows *rows, om_report *out)
{
    om_kpi_input in = {only_site ? only_site : pf->sites.sites,
                       only_site ? 1 : pf->sites.nsites,
                       &pf->factors,
                       &pf->policy,
                       year,
                       rows->rows,
                       rows->nrows,
                       rows->events,
                       rows->nevents,
                       &pf->bills,
                       pf->sites.sites,
                       pf->sites.nsites};
    return om_report_compute(&in, out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portfolio.h - the portfolio (site files, catalogue, emission factors,
 * reporting policy) and the annual report built from the database: what
 * `officemeter report` and officemeter-web share, so that the report a
 * browser downloads is byte for byte the one the command writes.
 *
 * A report needs every site's monthly rollups of the year and the year
 * before. A month is used as stored unless it is missing, provisional
 * (computed before it was over) or computed from other inputs (its
 * fingerprint differs); such a month is computed again from the readings.
 * A writer (the command) stores what it computed; a read-only reader (the
 * web view) keeps it in memory only, and gets the same figures.
 */
#ifndef OFFICEMETER_PORTFOLIO_H
#define OFFICEMETER_PORTFOLIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/diag.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/config/bills.h"
#include "officemeter/config/factors.h"
#include "officemeter/report/kpi.h"
#include "officemeter/report/rollup.h"
#include "officemeter/store/rollupdb.h"
#include "officemeter/store/store.h"

/* Where the portfolio's files are. factors and policy NULL: the files
 * emission-factors.yaml and reporting.yaml of sites_dir; bills NULL: the
 * policy's bills folder. */
typedef struct {
    const char *sites_dir;
    const char *catalogue;
    const char *factors;
    const char *policy;
    const char *bills;
    bool bills_may_overlap; /* days billed twice are kept, not refused (reconcile) */
} om_portfolio_paths;

typedef struct {
    om_agg_sites sites;
    om_factor_set factors;
    om_policy policy;
    om_bill_set bills; /* the policy's bills folder (bills.h) */
} om_portfolio;

/* Loads every file: sites, factors, policy, and the bills of the bills
 * folder, checked as `officemeter report` checks them (a known site each,
 * no day billed twice unless bills_may_overlap). Returns 0, or -1 with
 * every error in diag (out must be freed either way). */
int om_portfolio_load(const om_portfolio_paths *paths, om_portfolio *out, om_diag *diag);
void om_portfolio_free(om_portfolio *pf);
const om_site *om_portfolio_site(const om_portfolio *pf, const char *id);

/* Rows and events of months, as the report takes them. */
typedef struct {
    om_meter_month *rows;
    size_t nrows;
    om_month_event *events;
    size_t nevents;
    size_t computed; /* site-months computed (not used as stored) */
    char changed[1024]; /* with verify: "SITE YYYY-MM, ..." whose readings changed */
} om_year_rows;

/* How om_portfolio_year gets its months. */
typedef struct {
    int64_t now;    /* the clock for "started", "complete" and "provisional" */
    bool recompute; /* every month computed again, stored or not */
    bool save;      /* store what was computed (a writer); otherwise in memory */
    bool verify;    /* also compute again a stored month whose readings are not
                     * those it was computed from (late or corrected data; the
                     * digests differ): what an approved year needs */
} om_rows_opts;

void om_year_rows_free(om_year_rows *r);

/* Computes a site's month from the readings. save: store it (replacing
 * what was stored); otherwise append its rows and events to out. Returns
 * 0, or -1 with the reason in err. */
int om_portfolio_month(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                       int year, unsigned month, int64_t now, bool save, om_year_rows *out,
                       char *err, size_t errlen);

/* True when a site's stored month can be used as it is (see above); months
 * that have not started at `now` need nothing. Returns 1 (use it or leave
 * it), 0 (compute it), -1 (error in err). */
int om_portfolio_month_current(om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                               int year, unsigned month, int64_t now, char *err, size_t errlen);

/* Appends the rows of the years a report of `year` reads (om_report_years:
 * the year, the one before, the targets' baselines) and the events of
 * `year` of one site (or every site: site NULL) to out, computing what
 * must be computed (om_rows_opts). */
int om_portfolio_year(om_store *st, om_rollupdb *db, const om_portfolio *pf, const om_site *site,
                      int year, const om_rows_opts *o, om_year_rows *out, char *err,
                      size_t errlen);

/* The report of `year` over the portfolio, or over one site (only_site
 * non-NULL), from rows of om_portfolio_year. Returns 0, or -1 (memory). */
int om_portfolio_report(const om_portfolio *pf, const om_site *only_site, int year,
                        const om_year_rows *rows, om_report *out);

#endif

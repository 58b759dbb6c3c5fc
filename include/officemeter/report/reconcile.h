/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h - the meters against the bills of the same periods (pure:
 * readings come in through om_rollup_source).
 *
 * The auditor's first test. For every bill whose period touches the year,
 * the main meters of its utility at the sites of its account are read over
 * exactly the bill's days (local midnight to local midnight, each site in
 * its zone): consumption is the counter curve's difference, as in the
 * report. The bill is compared on the part its meters cover (its days and,
 * for a shared account, the sites' shares); the variance is flagged above
 * the policy's threshold, and the causes the data shows are named: a gap
 * in the readings, a meter replaced or a counter event in the period, a
 * meter not covering the whole account or period, the same days billed
 * twice. Per account, the bills together are compared with the meters over
 * the days they cover, which is where a bill counted twice shows.
 * docs/methodology.md, "Reconciliation".
 */
#ifndef OFFICEMETER_RECONCILE_H
#define OFFICEMETER_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "officemeter/config/bills.h"
#include "officemeter/config/factors.h"
#include "officemeter/report/rollup.h"

typedef enum {
    OM_CAUSE_GAP,         /* readings missing in the period: interpolated, or time not known */
    OM_CAUSE_REPLACEMENT, /* a meter replaced in the period */
    OM_CAUSE_COUNTER,     /* a reset, backstep, jump or unconfirmed drop in the period */
    OM_CAUSE_PARTIAL,     /* the meters cover only part of the account's sites or days */
    OM_CAUSE_DOUBLE,      /* the same days billed twice (or one document entered twice) */
    OM_CAUSE__COUNT
} om_recon_cause;

typedef struct {
    size_t bill;          /* index into the bill set; SIZE_MAX: an account's total */
    char site[OM_ID_MAX]; /* the site whose file holds the bill */
    char sites[256];      /* the sites the account covers: "charlie, delta" */
    om_utility utility;
    char account[OM_BILL_TEXT_LEN + 1];
    char document[OM_BILL_TEXT_LEN + 1]; /* "" for a total */
    om_date start, end;   /* local dates, both included */
    double billed;        /* the bill (canonical units: kWh, m³) */
    double compared;      /* the part of it the meters cover */
    double metered;       /* the main meters over the time they cover */
    double estimated;     /* part of metered interpolated across gaps */
    bool comparable;      /* some meter covers some of it */
    double variance;      /* metered - compared */
    double variance_pct;  /* of compared */
    bool flagged;
    unsigned causes;      /* bit (1 << om_recon_cause) */
    char *why;            /* the causes in words; "" when none is seen */
} om_recon_row;

typedef struct {
    int year;
    double threshold_pct;
    om_recon_row *rows;   /* bills in file order, then each account's total */
    size_t nrows;
    size_t nbills, nflagged;
} om_reconciliation;

/* Reconciles the bills whose period touches `year` and that go to one of
 * `sites`. `portfolio` (all sites; NULL: `sites`) is what shared accounts
 * are split over. Returns 0, or -1 (errno; a source failure keeps its
 * own). */
int om_reconcile(const om_site *sites, size_t nsites, const om_site *portfolio,
                 size_t nportfolio, const om_bill_set *bills, const om_policy *policy, int year,
                 double threshold_pct, const om_rollup_source *src, om_reconciliation *out);
void om_reconciliation_free(om_reconciliation *r);

const char *om_recon_cause_name(om_recon_cause c);

/* Markdown, CSV (one row per bill and per account total) and JSON (schema
 * officemeter.reconcile.v1). Return 0, or -1 when writing failed. */
int om_reconciliation_write_md(const om_reconciliation *r, FILE *out);
int om_reconciliation_write_csv(const om_reconciliation *r, FILE *out);
int om_reconciliation_write_json(const om_reconciliation *r, FILE *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * billed.h - bills spread over a site's local months (pure).
 *
 * A bill's quantity is spread evenly over the days of its period (local
 * calendar days of the site, both ends included), each day's part goes to
 * the sites of its account (the bill's own site, or the policy's split by
 * floor area on that day or by fixed shares), and on each site it counts
 * only for the part of the day no main meter of its utility is in service
 * (the policy's `fill`): metered where a main meter covers the time, billed
 * where not, never both. docs/methodology.md, "Bills".
 */
#ifndef OFFICEMETER_BILLED_H
#define OFFICEMETER_BILLED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/id.h"
#include "officemeter/config/bills.h"
#include "officemeter/config/factors.h"
#include "officemeter/config/site.h"

/* One bill's part in one site's local month. */
typedef struct {
    size_t bill;           /* index into the bill set */
    char site[OM_ID_MAX];  /* the site the part is allocated to */
    om_utility utility;
    int year;
    unsigned month;
    unsigned days;         /* days of the bill's period in the month */
    double share;          /* the site's share of those days' quantity (mean) */
    double spread;         /* the bill's quantity for those days x the share */
    double counted;        /* the part counted: the time no main meter covers */
    double metered_days;   /* days (fractional) a main meter covers: not counted */
    int64_t billed_ms;     /* time counted from the bill */
    bool estimated;        /* the bill's source is `estimated` */
    bool reconcile_only;   /* the policy keeps this site's bills out of the figures */
} om_bill_month;

/* The parts of every bill in the local year `year` of the sites they go
 * to, sorted by (site, utility, month, bill). Sites outside `sites` are
 * left out (a report of one site). *out is malloc'd. Returns 0, or -1
 * (memory, an unknown time zone) with errno set. */
int om_bills_spread(const om_site *sites, size_t nsites, const om_bill_set *bills,
                    const om_policy *policy, int year, om_bill_month **out, size_t *n);

/* A site's share of a bill's day. */
typedef struct {
    const om_site *site; /* NULL: a site of the account outside `sites` */
    double share;
} om_bill_share;

/* The sites a bill's day goes to, with their shares: the bill's own site,
 * or the policy's account split by floor area on the day or by fixed
 * shares. Returns the count (at most cap). */
size_t om_bill_shares(const om_site *sites, size_t nsites, const om_bill *bill,
                      const om_policy *policy, om_date day, om_bill_share *out, size_t cap);

/* The time of [a, b) that a main meter of `utility` at `site` is in
 * service for (the union of their service lives). */
int64_t om_main_meter_cover(const om_site *site, om_utility utility, int64_t a, int64_t b);

#endif

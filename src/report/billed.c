/* SPDX-License-Identifier: Apache-2.0 */
/*
 * billed.c - spread bills over months by days, split shared accounts, and
 * keep only the time no main meter covers.
 *
 * Per bill, per day of its period, per site of its account:
 *     part  = quantity / days of the period x the site's share that day
 *     count = part x (time of the local day no main meter is in service)
 *                  / (time of the local day)
 * Parts are summed per (site, month) as weights (share x uncovered
 * fraction, whole days adding up exactly) and multiplied by quantity / days
 * once, so a bill spread over whole months rounds once per month.
 */
#include "officemeter/report/billed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"

typedef struct {
    int64_t a, b;
} span;

static int span_order(const void *pa, const void *pb)
{
    const span *x = pa, *y = pb;
    return x->a < y->a ? -1 : x->a > y->a;
}

int64_t om_main_meter_cover(const om_site *site, om_utility utility, int64_t a, int64_t b)
{
    span spans[64];
    size_t n = 0;
    for (size_t i = 0; i < site->nmeters && n < 64; i++) {
        const om_meter *m = &site->meters[i];
        if (m->role != OM_ROLE_MAIN || m->utility != utility)
            continue;
        int64_t lo = a, hi = b;
        if (om_meter_active_clip(m, &lo, &hi) > 0)
            spans[n++] = (span){lo, hi};
    }
    if (n == 0)
        return 0;
    qsort(spans, n, sizeof *spans, span_order);
    int64_t covered = 0, lo = spans[0].a, hi = spans[0].b;
    for (size_t i = 1; i < n; i++) {
        if (spans[i].a > hi) {
            covered += hi - lo;
            lo = spans[i].a;
            hi = spans[i].b;
        } else if (spans[i].b > hi) {
            hi = spans[i].b;
        }
    }
    return covered + (hi - lo);
}

/* ---- the sites of an account ------------------------------------------- */

static const om_site *find_site(const om_site *sites, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (sites[i].site && strcmp(sites[i].site, id) == 0)
            return &sites[i];
    return NULL;
}

/* Sites outside the portfolio given keep their share (it is not handed to
 * the others). */
size_t om_bill_shares(const om_site *sites, size_t nsites, const om_bill *b,
                      const om_policy *policy, om_date day, om_bill_share *out, size_t cap)
{
    const om_bill_account *acc = om_policy_account(policy, b->account, b->utility);
    if (!acc) {
        out[0] = (om_bill_share){find_site(sites, nsites, b->site), 1.0};
        return 1;
    }
    size_t n = 0;
    if (acc->nshares) {
        for (size_t i = 0; i < acc->nshares && n < cap; i++)
            out[n++] = (om_bill_share){find_site(sites, nsites, acc->shares[i].site),
                                       acc->shares[i].share};
        return n;
    }
    /* By floor area on the day; the areas come from the site files, so a
     * site outside the portfolio given counts with an area of 0. */
    double total = 0;
    for (size_t i = 0; i < acc->nsites && n < cap; i++) {
        const om_site *s = find_site(sites, nsites, acc->sites[i]);
        double area = s ? om_area_on(s->floor_area, s->nfloor_area, day) : 0;
        out[n++] = (om_bill_share){s, area};
        total += area;
    }
    for (size_t i = 0; i < n; i++)
        out[i].share = total > 0 ? out[i].share / total : 1.0 / (double)n;
    return n;
}

/* ---- spreading ------------------------------------------------------------ */

typedef struct {
    om_bill_month *v;
    size_t n, cap;
} parts;

/* The part of bill `bi` in site's (year, month), created on first use.
 * Parts of one bill are consecutive, so the search looks back only over
 * this bill's. */
static om_bill_month *part_of(parts *p, size_t first, size_t bi, const om_bill *b,
                              const om_site *site, int year, unsigned month)
{
    for (size_t i = p->n; i-- > first;)
        if (p->v[i].month == month && strcmp(p->v[i].site, site->site) == 0)
            return &p->v[i];
    om_bill_month *grown = om_grow(p->v, &p->cap, p->n, sizeof *grown);
    if (!grown)
        return NULL;
    p->v = grown;
    om_bill_month *m = &p->v[p->n++];
    memset(m, 0, sizeof *m);
    m->bill = bi;
    snprintf(m->site, sizeof m->site, "%s", site->site);
    m->utility = b->utility;
    m->year = year;
    m->month = month;
    m->estimated = b->source == OM_BILL_ESTIMATED;
    return m;
}

/* Weights kept while spreading one bill: share x day, share x uncovered
 * fraction; turned into quantities at the end. */
static int spread_bill(const om_site *sites, size_t nsites, const om_bill_set *set, size_t bi,
                       const om_policy *policy, int year, parts *p)
{
    const om_bill *b = &set->bills[bi];
    size_t first = p->n;
    om_bill_share alloc[32];
    for (om_date d = b->start; d <= b->end; d++) {
        int y;
        unsigned mo, day;
        om_civil_from_days(d, &y, &mo, &day);
        if (y != year)
            continue;
        size_t na = om_bill_shares(sites, nsites, b, policy, d, alloc, 32);
        for (size_t k = 0; k < na; k++) {
            const om_site *s = alloc[k].site;
            if (!s || alloc[k].share <= 0)
                continue;
            int64_t t0, t1;
            if (om_day_bounds(s->timezone, d, &t0, &t1) < 0) {
                errno = EINVAL;
                return -1;
            }
            om_bill_month *m = part_of(p, first, bi, b, s, y, mo);
            if (!m)
                return -1;
            m->days++;
            m->share += alloc[k].share;  /* a sum of shares for now */
            m->reconcile_only = om_policy_bill_use(policy, s->site, b->utility) ==
                                OM_BILLS_RECONCILE_ONLY;
            int64_t covered = om_main_meter_cover(s, b->utility, t0, t1);
            double frac = (double)(t1 - t0 - covered) / (double)(t1 - t0);
            m->metered_days += 1.0 - frac;
            if (m->reconcile_only)
                continue;
            m->counted += alloc[k].share * frac; /* a weight for now */
            m->billed_ms += t1 - t0 - covered;
        }
    }
    double per_day = b->quantity / (double)om_bill_days(b);
    for (size_t i = first; i < p->n; i++) {
        om_bill_month *m = &p->v[i];
        m->spread = per_day * m->share;
        m->counted = per_day * m->counted;
        m->share = m->days ? m->share / m->days : 0;
    }
    return 0;
}

static int part_order(const void *pa, const void *pb)
{
    const om_bill_month *a = pa, *b = pb;
    int c = strcmp(a->site, b->site);
    if (!c)
        c = (int)a->utility - (int)b->utility;
    if (!c)
        c = a->year * 12 + (int)a->month - (b->year * 12 + (int)b->month);
    if (!c)
        c = a->bill < b->bill ? -1 : a->bill > b->bill;
    return c;
}

int om_bills_spread(const om_site *sites, size_t nsites, const om_bill_set *bills,
                    const om_policy *policy, int year, om_bill_month **out, size_t *n)
{
    parts p = {0};
    *out = NULL;
    *n = 0;
    for (size_t i = 0; bills && i < bills->nbills; i++) {
        const om_bill *b = &bills->bills[i];
        int y0, y1;
        unsigned m, d;
        om_civil_from_days(b->start, &y0, &m, &d);
        om_civil_from_days(b->end, &y1, &m, &d);
        if (y1 < year || y0 > year)
            continue;
        if (spread_bill(sites, nsites, bills, i, policy, year, &p) < 0) {
            free(p.v);
            return -1;
        }
    }
    if (p.n > 1)
        qsort(p.v, p.n, sizeof *p.v, part_order);
    *out = p.v;
    *n = p.n;
    return 0;
}

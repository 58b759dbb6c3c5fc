/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.c - each bill against the main meters of its days, then each
 * account's bills together against the meters over the days they cover.
 *
 * A bill is compared on what its meters can see: its quantity spread by
 * days (as the report spreads it), times the share of each site of the
 * account, times the part of each day a main meter of the utility is in
 * service. The meters are read over the bill's local days with the same
 * counter curve as the rollups, so a bill that matches the meters matches
 * the report's figures too.
 */
#include "officemeter/report/reconcile.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/report/billed.h"

static const char *const cause_names[OM_CAUSE__COUNT] = {"gap", "replacement", "counter",
                                                         "partial_meter", "double_counted"};

const char *om_recon_cause_name(om_recon_cause c)
{
    return (unsigned)c < OM_CAUSE__COUNT ? cause_names[c] : "?";
}

/* ---- words ------------------------------------------------------------------ */

typedef struct {
    char buf[1024];
    size_t len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= sizeof t->buf)
        return;
    if (t->len) {
        memcpy(t->buf + t->len, "; ", 3);
        t->len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < sizeof t->buf ? t->len + (size_t)n : sizeof t->buf - 1;
}

static const char *unit_of(om_utility u)
{
    return u == OM_UTILITY_WATER ? "m³" : "kWh";
}

static void hours(int64_t ms, char *buf, size_t len)
{
    int64_t min = ms / 60000;
    if (min >= 1440)
        snprintf(buf, len, "%" PRId64 " d %" PRId64 " h", min / 1440, min / 60 % 24);
    else
        snprintf(buf, len, "%" PRId64 " h %" PRId64 " min", min / 60, min % 60);
}

/* ---- the meters over a period ------------------------------------------------ */

typedef struct {
    double value, estimated;
    int64_t expected_ms, known_ms, actual_ms;
    size_t meters;
    text why; /* what the meters show: gaps, replacements, counter events */
    unsigned causes;
} metered;

static void note_events(const om_counter *c, const om_meter *m, int64_t a, int64_t b,
                        metered *out)
{
    size_t n;
    const om_counter_event *ev = om_counter_events(c, &n);
    char t[40];
    for (size_t i = 0; i < n; i++) {
        if (!om_counter_event_in(&ev[i], a, b))
            continue;
        switch (ev[i].kind) {
        case OM_CEV_REPLACEMENT:
            out->causes |= 1u << OM_CAUSE_REPLACEMENT;
            put(&out->why, "%s replaced at %s (old meter's final %.3f, new meter's initial %.3f): "
                           "check both values against the meters' displays",
                m->id, om_format_iso8601(ev[i].t, t, sizeof t), ev[i].before, ev[i].after);
            break;
        case OM_CEV_RESET:
        case OM_CEV_BACKSTEP:
        case OM_CEV_JUMP:
        case OM_CEV_UNCONFIRMED:
            out->causes |= 1u << OM_CAUSE_COUNTER;
            put(&out->why, "%s: %s at %s, from %.3f to %.3f (%.3f counted)", m->id,
                om_counter_event_name(ev[i].kind), om_format_iso8601(ev[i].t, t, sizeof t),
                ev[i].before, ev[i].after, ev[i].counted);
            break;
        default:
            break;
        }
    }
}

static int meter_period(const om_site *s, const om_meter *m, const om_policy *policy, int64_t a,
                        int64_t b, const om_rollup_source *src, metered *out)
{
    int64_t lo = a, hi = b;
    if (om_meter_active_clip(m, &lo, &hi) == 0)
        return 0;
    om_quantity q = m->utility == OM_UTILITY_WATER ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH;
    om_sample *samples = NULL;
    size_t n = 0;
    if (src->counter(src->user, s, m, q, lo, hi, OM_ROLLUP_CONTEXT, &samples, &n) < 0)
        return -1;
    om_counter_opts opts;
    om_counter_break *breaks;
    if (om_rollup_counter_opts(s, m, q, policy, &opts, &breaks) < 0) {
        free(samples);
        return -1;
    }
    om_counter *c = om_counter_new(samples, n, &opts);
    free(breaks);
    free(samples);
    if (!c)
        return -1;
    om_consumption r;
    om_counter_consumption(c, lo, hi, &r);
    out->value += r.value;
    out->estimated += r.estimated;
    out->expected_ms += r.expected_ms;
    out->known_ms += r.known_ms;
    out->actual_ms += r.actual_ms;
    out->meters++;
    char d1[32], d2[32];
    if (r.known_ms > r.actual_ms) {
        out->causes |= 1u << OM_CAUSE_GAP;
        hours(r.known_ms - r.actual_ms, d1, sizeof d1);
        put(&out->why, "%s: %s without readings in the period (%.3f %s interpolated across it)",
            m->id, d1, r.estimated, unit_of(m->utility));
    }
    if (r.expected_ms > r.known_ms) {
        out->causes |= 1u << OM_CAUSE_GAP;
        hours(r.expected_ms - r.known_ms, d2, sizeof d2);
        put(&out->why, "%s: no readings %s for %s of the period (not counted)", m->id,
            !r.start_known ? "before its first" : "after its last", d2);
    }
    note_events(c, m, lo, hi, out);
    om_counter_free(c);
    return 0;
}

/* The main meters of a utility at a site over local days [d0, d1]. */
static int site_period(const om_site *s, om_utility u, om_date d0, om_date d1,
                       const om_policy *policy, const om_rollup_source *src, metered *out)
{
    int64_t a, b, x;
    if (om_day_bounds(s->timezone, d0, &a, &x) < 0 || om_day_bounds(s->timezone, d1, &x, &b) < 0) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < s->nmeters; i++) {
        const om_meter *m = &s->meters[i];
        if (m->role == OM_ROLE_MAIN && m->utility == u &&
            meter_period(s, m, policy, a, b, src, out) < 0)
            return -1;
    }
    return 0;
}

/* ---- what a bill's meters cover ---------------------------------------------------- */

typedef struct {
    const om_site *site;
    double share_days;   /* the site's share summed over the days */
    double covered_days; /* ... times the part of each day a main meter covers */
} account_site;

typedef struct {
    double compared;
    account_site sites[32];
    size_t nsites;
} coverage;

static account_site *account_site_of(coverage *cv, const om_site *s)
{
    for (size_t i = 0; i < cv->nsites; i++)
        if (cv->sites[i].site == s)
            return &cv->sites[i];
    if (cv->nsites == 32)
        return NULL;
    cv->sites[cv->nsites] = (account_site){s, 0, 0};
    return &cv->sites[cv->nsites++];
}

static int cover(const om_site *all, size_t nall, const om_bill *b, const om_policy *policy,
                 om_date d0, om_date d1, coverage *cv)
{
    double per_day = b->quantity / (double)om_bill_days(b);
    om_bill_share shares[32];
    for (om_date d = d0; d <= d1; d++) {
        size_t n = om_bill_shares(all, nall, b, policy, d, shares, 32);
        for (size_t k = 0; k < n; k++) {
            const om_site *s = shares[k].site;
            if (!s)
                continue;
            int64_t t0, t1;
            if (om_day_bounds(s->timezone, d, &t0, &t1) < 0) {
                errno = EINVAL;
                return -1;
            }
            double frac = (double)om_main_meter_cover(s, b->utility, t0, t1) / (double)(t1 - t0);
            account_site *as = account_site_of(cv, s);
            if (!as)
                continue;
            as->share_days += shares[k].share;
            as->covered_days += shares[k].share * frac;
            cv->compared += per_day * shares[k].share * frac;
        }
    }
    return 0;
}

/* ---- rows --------------------------------------------------------------------------- */

typedef struct {
    om_recon_row *v;
    size_t n, cap;
} rows;

static om_recon_row *new_row(rows *r)
{
    om_recon_row *grown = om_grow(r->v, &r->cap, r->n, sizeof *grown);
    if (!grown)
        return NULL;
    r->v = grown;
    memset(&grown[r->n], 0, sizeof *grown);
    return &grown[r->n++];
}

static bool same_account(const om_bill *a, const om_bill *b)
{
    return strcmp(a->site, b->site) == 0 && a->utility == b->utility &&
           strcmp(a->account, b->account) == 0;
}

/* The other bill this one doubles: the same days of the account, or the
 * same document. SIZE_MAX when none. */
static size_t doubled_by(const om_bill_set *set, size_t i)
{
    const om_bill *a = &set->bills[i];
    for (size_t j = 0; j < set->nbills; j++) {
        const om_bill *b = &set->bills[j];
        if (j == i || strcmp(a->site, b->site) != 0)
            continue;
        if ((same_account(a, b) && a->start <= b->end && b->start <= a->end) ||
            strcmp(a->document, b->document) == 0)
            return j;
    }
    return SIZE_MAX;
}

static void account_sites(const om_site *all, size_t nall, const om_bill *b,
                          const om_policy *policy, char *buf, size_t len)
{
    om_bill_share shares[32];
    size_t n = om_bill_shares(all, nall, b, policy, b->start, shares, 32);
    const om_bill_account *acc = om_policy_account(policy, b->account, b->utility);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *id = shares[i].site ? shares[i].site->site
                         : acc->nsites  ? acc->sites[i]
                                        : acc->shares[i].site;
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", id);
    }
}

static void judge(om_recon_row *row, double threshold)
{
    row->comparable = row->compared > 0;
    row->variance = row->metered - row->compared;
    if (fabs(row->variance) <= 1e-9 * fmax(1, row->compared))
        row->variance = 0; /* equal but for rounding: no "-0.000" */
    row->variance_pct = row->comparable ? row->variance / row->compared * 100 : 0;
    row->flagged = (row->comparable && fabs(row->variance_pct) > threshold) ||
                   (row->causes & (1u << OM_CAUSE_DOUBLE));
}

/* What the meters do not cover: days, or sites of the account. */
static void partial_why(const coverage *cv, const om_bill *b, om_date d0, om_date d1, text *why,
                        unsigned *causes)
{
    double share = 0, covered = 0;
    for (size_t i = 0; i < cv->nsites; i++) {
        share += cv->sites[i].share_days;
        covered += cv->sites[i].covered_days;
    }
    if (share <= 0 || covered <= 0 || covered >= share * (1 - 1e-9))
        return; /* all covered, or nothing (said once, by the caller) */
    *causes |= 1u << OM_CAUSE_PARTIAL;
    unsigned days = (unsigned)(d1 - d0 + 1);
    if (cv->nsites == 1) {
        put(why, "a main meter covers %.2f of the bill's %u days: compared on those", covered,
            days);
        return;
    }
    for (size_t i = 0; i < cv->nsites; i++) {
        const account_site *as = &cv->sites[i];
        if (as->covered_days < as->share_days * (1 - 1e-9))
            put(why, "%s (%.1f%% of the account) has a main %s meter for %.2f of %u days", 
                as->site->site, as->share_days / (double)days * 100,
                b->utility == OM_UTILITY_WATER ? "water" : "electricity",
                as->share_days > 0 ? as->covered_days / as->share_days * (double)days : 0, days);
    }
}

static int bill_row(const om_site *all, size_t nall, const om_bill_set *set, size_t i,
                    const om_policy *policy, double threshold, const om_rollup_source *src,
                    om_recon_row *row)
{
    const om_bill *b = &set->bills[i];
    row->bill = i;
    snprintf(row->site, sizeof row->site, "%s", b->site);
    account_sites(all, nall, b, policy, row->sites, sizeof row->sites);
    row->utility = b->utility;
    snprintf(row->account, sizeof row->account, "%s", b->account);
    snprintf(row->document, sizeof row->document, "%s", b->document);
    row->start = b->start;
    row->end = b->end;
    row->billed = b->quantity;
    coverage cv = {0};
    if (cover(all, nall, b, policy, b->start, b->end, &cv) < 0)
        return -1;
    row->compared = cv.compared;
    metered m = {0};
    for (size_t k = 0; k < cv.nsites; k++)
        if (cv.sites[k].covered_days > 0 &&
            site_period(cv.sites[k].site, b->utility, b->start, b->end, policy, src, &m) < 0)
            return -1;
    row->metered = m.value;
    row->estimated = m.estimated;
    row->causes = m.causes;
    text why = m.why;
    partial_why(&cv, b, b->start, b->end, &why, &row->causes);
    size_t j = doubled_by(set, i);
    if (j != SIZE_MAX) {
        row->causes |= 1u << OM_CAUSE_DOUBLE;
        if (strcmp(set->bills[j].document, b->document) == 0)
            put(&why, "document %s is also on line %zu: the same bill twice", b->document,
                set->bills[j].line);
        else
            put(&why, "its days are also billed by %s (line %zu): counted twice",
                set->bills[j].document, set->bills[j].line);
    }
    if (cv.compared <= 0)
        put(&why, "no main %s meter in service at %s for these days: nothing to compare",
            b->utility == OM_UTILITY_WATER ? "water" : "electricity", row->sites);
    row->why = strdup(why.buf);
    if (!row->why)
        return -1;
    judge(row, threshold);
    return 0;
}

/* ---- an account's bills together ------------------------------------------------------ */

static int cmp_start(const void *pa, const void *pb)
{
    const om_bill *a = *(const om_bill *const *)pa, *b = *(const om_bill *const *)pb;
    return a->start < b->start ? -1 : a->start > b->start;
}

static int account_total(const om_site *all, size_t nall, const om_bill_set *set,
                         const om_recon_row *bill_rows, size_t nbill_rows, size_t first,
                         const om_policy *policy, double threshold, const om_rollup_source *src,
                         om_recon_row *row)
{
    const om_bill *b0 = &set->bills[bill_rows[first].bill];
    const om_bill **mine = calloc(nbill_rows, sizeof *mine);
    if (!mine)
        return -1;
    size_t n = 0;
    *row = bill_rows[first];
    row->bill = SIZE_MAX;
    row->document[0] = '\0';
    row->billed = row->compared = row->metered = row->estimated = 0;
    row->causes = 0;
    row->why = NULL;
    for (size_t i = first; i < nbill_rows; i++) {
        const om_bill *b = &set->bills[bill_rows[i].bill];
        if (!same_account(b, b0))
            continue;
        mine[n++] = b;
        row->billed += b->quantity;
        row->compared += bill_rows[i].compared;
        row->causes |= bill_rows[i].causes;
        row->start = b->start < row->start ? b->start : row->start;
        row->end = b->end > row->end ? b->end : row->end;
    }
    qsort(mine, n, sizeof *mine, cmp_start);
    /* The meters over the union of the bills' days: a day billed twice is
     * metered once, so a bill counted twice stands out here. */
    metered m = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        om_date lo = mine[i]->start, hi = mine[i]->end;
        size_t k = i + 1;
        while (k < n && mine[k]->start <= hi + 1) {
            hi = mine[k]->end > hi ? mine[k]->end : hi;
            k++;
        }
        coverage cv = {0};
        rc = cover(all, nall, mine[i], policy, lo, hi, &cv);
        for (size_t s = 0; rc == 0 && s < cv.nsites; s++)
            if (cv.sites[s].covered_days > 0)
                rc = site_period(cv.sites[s].site, b0->utility, lo, hi, policy, src, &m);
        i = k;
    }
    free(mine);
    if (rc < 0)
        return -1;
    row->metered = m.value;
    row->estimated = m.estimated;
    text why = {.len = 0};
    put(&why, "%zu bills", n);
    for (int c = 0; c < OM_CAUSE__COUNT; c++)
        if (row->causes & (1u << c))
            put(&why, "%s in a bill (above)", cause_names[c]);
    row->why = strdup(why.buf);
    if (!row->why)
        return -1;
    judge(row, threshold);
    return 0;
}

/* ---- the whole ----------------------------------------------------------------------- */

static bool goes_to(const om_site *sites, size_t nsites, const om_site *all, size_t nall,
                    const om_bill *b, const om_policy *policy)
{
    om_bill_share shares[32];
    size_t n = om_bill_shares(all, nall, b, policy, b->start, shares, 32);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; shares[i].site && k < nsites; k++)
            if (strcmp(shares[i].site->site, sites[k].site) == 0)
                return true;
    return false;
}

int om_reconcile(const om_site *sites, size_t nsites, const om_site *portfolio,
                 size_t nportfolio, const om_bill_set *bills, const om_policy *policy, int year,
                 double threshold_pct, const om_rollup_source *src, om_reconciliation *out)
{
    memset(out, 0, sizeof *out);
    out->year = year;
    out->threshold_pct = threshold_pct;
    const om_site *all = portfolio ? portfolio : sites;
    size_t nall = portfolio ? nportfolio : nsites;
    rows r = {0};
    for (size_t i = 0; bills && i < bills->nbills; i++) {
        const om_bill *b = &bills->bills[i];
        int y0, y1;
        unsigned mo, d;
        om_civil_from_days(b->start, &y0, &mo, &d);
        om_civil_from_days(b->end, &y1, &mo, &d);
        if (y0 > year || y1 < year || !goes_to(sites, nsites, all, nall, b, policy))
            continue;
        om_recon_row *row = new_row(&r);
        if (!row || bill_row(all, nall, bills, i, policy, threshold_pct, src, row) < 0)
            goto fail;
        out->nbills++;
        out->nflagged += row->flagged;
    }
    size_t nbill_rows = r.n;
    for (size_t i = 0; i < nbill_rows; i++) {
        const om_bill *b = &bills->bills[r.v[i].bill];
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = same_account(&bills->bills[r.v[k].bill], b);
        if (seen)
            continue;
        om_recon_row total;
        if (account_total(all, nall, bills, r.v, nbill_rows, i, policy, threshold_pct, src,
                          &total) < 0)
            goto fail;
        om_recon_row *row = new_row(&r);
        if (!row) {
            free(total.why);
            goto fail;
        }
        *row = total;
        out->nflagged += row->flagged;
    }
    out->rows = r.v;
    out->nrows = r.n;
    return 0;
fail:
    out->rows = r.v;
    out->nrows = r.n;
    om_reconciliation_free(out);
    if (!errno)
        errno = ENOMEM;
    return -1;
}

void om_reconciliation_free(om_reconciliation *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows; i++)
        free(r->rows[i].why);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

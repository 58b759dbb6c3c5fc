/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_notes.c - the report's trail in words: which factors were applied,
 * the notes on method and coverage, and each site's estimates and flags.
 *
 * Notes are generated from the figures, never written by hand, so they
 * cannot drift from what was computed: a KPI that covers fewer sites says
 * which and why, an unverified factor says so, an intensity over the whole
 * portfolio warns that it understates.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_private.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"

typedef struct {
    char **lines;
    size_t n;
    bool failed;
} lines;

static void addf(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(lines *l, const char *fmt, ...)
{
    if (l->failed)
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = len < 0 ? NULL : malloc((size_t)len + 1);
    if (s)
        vsnprintf(s, (size_t)len + 1, fmt, again);
    va_end(again);
    char **grown = s ? realloc(l->lines, (l->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(s);
        l->failed = true;
        return;
    }
    l->lines = grown;
    l->lines[l->n++] = s;
}

/* A growing string for lists such as "alpha, bravo". */
typedef struct {
    char buf[1024];
    size_t len;
} list_text;

static void list_add(list_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void list_add(list_text *t, const char *fmt, ...)
{
    if (t->len + 3 >= sizeof t->buf)
        return;
    if (t->len)
        t->len += (size_t)snprintf(t->buf + t->len, sizeof t->buf - t->len, ", ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof t->buf - t->len ? (size_t)n : sizeof t->buf - t->len - 1;
}

/* ---- factors ---------------------------------------------------------------- */

static const char *factor_use(om_factor_kind kind)
{
    switch (kind) {
    case OM_FACTOR_GRID_ELECTRICITY:
        return "scope 2 location-based (and market-based where no residual mix applies)";
    case OM_FACTOR_RESIDUAL_MIX:
        return "scope 2 market-based, electricity not covered by instruments";
    case OM_FACTOR_TD_LOSSES:
    case OM_FACTOR_WTT_GENERATION:
    case OM_FACTOR_WTT_TD:
        return "scope 3 category 3, reported separately";
    case OM_FACTOR_WATER_SUPPLY:
    case OM_FACTOR_WATER_TREATMENT:
        return "scope 3 water, reported separately";
    default:
        return "";
    }
}

static int note_factor(om_report *r, const om_factor *f, bool previous)
{
    if (!f)
        return 0;
    for (size_t i = 0; i < r->nfactors; i++)
        if (r->factors[i].factor == f) {
            r->factors[i].current |= !previous;
            r->factors[i].previous |= previous;
            return 0;
        }
    om_report_factor *grown = realloc(r->factors, (r->nfactors + 1) * sizeof *grown);
    if (!grown)
        return -1;
    r->factors = grown;
    r->factors[r->nfactors++] = (om_report_factor){f, !previous, previous, factor_use(f->kind)};
    return 0;
}

static int note_site_factors(om_report *r, const om_site_ghg *g, bool previous)
{
    int rc = 0;
    if (g->has_location) {
        rc |= note_factor(r, g->grid, previous);
        rc |= note_factor(r, g->residual, previous);
    }
    if (g->has_cat3) {
        rc |= note_factor(r, g->td, previous);
        rc |= note_factor(r, g->wtt_gen, previous);
        rc |= note_factor(r, g->wtt_td, previous);
    }
    if (g->has_water3) {
        rc |= note_factor(r, g->w_supply, previous);
        rc |= note_factor(r, g->w_treatment, previous);
    }
    return rc;
}

static int factor_order(const void *pa, const void *pb)
{
    const om_factor *a = ((const om_report_factor *)pa)->factor;
    const om_factor *b = ((const om_report_factor *)pb)->factor;
    int c = strcmp(a->region, b->region);
    if (c)
        return c;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    if (a->activity_year != b->activity_year)
        return a->activity_year - b->activity_year;
    return strcmp(a->id, b->id);
}

int om_kpi_collect_factors(om_report *r)
{
    for (size_t s = 0; s < r->nsites; s++)
        if (note_site_factors(r, &r->sites[s].ghg, false) < 0 ||
            note_site_factors(r, &r->sites[s].prev_ghg, true) < 0)
            return -1;
    if (r->nfactors > 1)
        qsort(r->factors, r->nfactors, sizeof *r->factors, factor_order);
    return 0;
}

/* ---- notes -------------------------------------------------------------------- */

static const char *area_basis(const om_policy *p)
{
    return p->intensity_area == OM_AREA_TIME_WEIGHTED
               ? "time-weighted floor area (sum of area x days / days in the year)"
               : "floor area at year end";
}

/* Why a site is outside a utility's KPIs. */
static const char *uncovered_reason(const om_site_utility *u)
{
    return u->metered ? "no data" : "not metered, no bills";
}

static void note_coverage(lines *l, const om_report *r, om_kpi_id id, const char *what,
                          bool water)
{
    const om_kpi_figure *f = &r->kpis[id].current;
    if (f->ncovered == r->nsites)
        return;
    list_text in = {0}, out = {0};
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        const om_site_utility *u = water ? &rs->water : &rs->elec;
        if (f->covered[s])
            list_add(&in, "%s", rs->site->site);
        else if (!u->covered)
            list_add(&out, "%s (%s)", rs->site->site, uncovered_reason(u));
        else
            list_add(&out, "%s (no %s factor for %s in %d)", rs->site->site,
                     om_factor_kind_name(OM_FACTOR_GRID_ELECTRICITY), rs->site->grid_region,
                     r->year);
    }
    addf(l, "%s covers %zu of %zu sites (%s; %.1f%% of floor area); not covered: %s.", what,
         f->ncovered, r->nsites, in.len ? in.buf : "none", f->area_share * 100,
         out.len ? out.buf : "none");
}

static void note_method(lines *l, const om_kpi_input *in, const om_report *r)
{
    const om_policy *p = in->policy;
    addf(l, "Reporting year %d: each site's calendar year in its own time zone. Consumption is "
            "the difference of cumulative counters, interpolated linearly at period boundaries.",
         r->year);
    addf(l, "Energy (A2.1) is purchased electricity from the sites' main meters (net of export "
            "where a site declares net_export); sub-meters are a breakdown only, never added. "
            "No fuels are metered.");
    addf(l, "Scope 1 (A1.2): no direct-emission sources (fuels, refrigerants) are metered, so "
            "none is reported and the GHG total is scope 2 location-based.");
    addf(l, "Scope 2 location-based: each site's electricity x the grid factor the policy "
            "selects for its region and year (explicit choice, else the latest factor whose "
            "activity year is not after the year).");
    if (p->restate_previous_year)
        addf(l, "The previous year (%d) is restated with the factors selected for %d, so the "
                "change reflects activity, not factors.",
             r->year - 1, r->year);
    else
        addf(l, "The previous year (%d) uses the factors selected for its own year; the change "
                "mixes activity and factor changes.",
             r->year - 1);
    addf(l, "Intensities per m2 divide by the %s of %s.", area_basis(p),
         p->intensity_scope == OM_SCOPE_COVERED_SITES
             ? "the sites each KPI covers, never by area whose consumption is not counted"
             : "the whole portfolio (policy: whole_portfolio)");
    addf(l, "Estimates: an interval between readings longer than %u x %u s is a gap; "
            "consumption across it is interpolated linearly and counted as estimated.",
         p->gap_intervals, p->poll_interval_s);
}

static void note_market(lines *l, const om_report *r)
{
    list_text with = {0}, residual = {0}, grid = {0};
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        if (!rs->ghg.has_location)
            continue;
        if (rs->ghg.instruments_mwh > 0)
            list_add(&with, "%s %.3f MWh", rs->site->site, rs->ghg.instruments_mwh);
        if (rs->ghg.residual)
            list_add(&residual, "%s", rs->site->site);
        else
            list_add(&grid, "%s", rs->site->site);
    }
    addf(l, "Scope 2 market-based: contractual instruments (%s) are subtracted from each site's "
            "consumption, any excess is not carried over; the rest takes the region's residual "
            "mix (%s), else the grid average (%s).",
         with.len ? with.buf : "none declared", residual.len ? residual.buf : "no site",
         grid.len ? grid.buf : "no site");
}

static void note_employees(lines *l, const om_report *r)
{
    const om_kpi_figure *f = &r->kpis[OM_KPI_ENERGY_INTENSITY_EMPLOYEE].current;
    list_text with = {0}, without = {0};
    size_t nwithout = 0;
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        if (rs->has_headcount) {
            list_add(&with, "%s %u", rs->site->site, rs->headcount);
        } else {
            list_add(&without, "%s", rs->site->site);
            nwithout++;
        }
    }
    if (!with.len) {
        addf(l, "No site declares a headcount for %d: no per-employee intensities.", r->year);
        return;
    }
    addf(l, "Per-employee intensities divide by the headcount of the covered sites that declare "
            "one for %d (%s)%s%s%s; energy per employee covers %zu sites.",
         r->year, with.buf, without.len ? "; " : "", without.len ? without.buf : "",
         nwithout == 0 ? ""
         : nwithout == 1 ? " declares none and is left out of them"
                         : " declare none and are left out of them",
         f->ncovered);
}

static void note_whole_portfolio(lines *l, const om_report *r)
{
    if (r->policy->intensity_scope != OM_SCOPE_WHOLE_PORTFOLIO)
        return;
    const om_kpi_id ids[] = {OM_KPI_ENERGY_INTENSITY_M2, OM_KPI_GHG_INTENSITY_M2,
                             OM_KPI_WATER_INTENSITY_M2};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const om_kpi *k = &r->kpis[ids[i]];
        if (k->current.has_value && k->current.area_share < 1)
            addf(l, "Warning: %s divides by the whole portfolio's floor area (%.1f m2) while its "
                    "numerator covers only %.1f%% of it; it understates the intensity.",
                 k->key, k->current.denominator, k->current.area_share * 100);
    }
}

static void note_quality(lines *l, const om_report *r)
{
    const om_kpi_figure *e = &r->kpis[OM_KPI_ENERGY_ELECTRICITY].current;
    const om_kpi_figure *w = &r->kpis[OM_KPI_WATER].current;
    if (e->ncovered)
        addf(l, "Electricity: %.2f%% of the covered sites' time in service has actual data; "
                "%.2f%% of the consumption is estimated.",
             e->time_share * 100, e->estimated_share * 100);
    if (w->ncovered)
        addf(l, "Water: %.2f%% of the covered sites' time in service has actual data; %.2f%% of "
                "the consumption is estimated.",
             w->time_share * 100, w->estimated_share * 100);
    list_text sub = {0}, prov = {0};
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        if (m->sub_exceeds_main)
            list_add(&sub, "%s %d-%02u", r->sites[m->site].site->site, r->year, m->month);
        if (m->provisional)
            list_add(&prov, "%s %d-%02u", r->sites[m->site].site->site, r->year, m->month);
    }
    if (sub.len)
        addf(l, "Sub-meters add up to more than their main meters in: %s (check wiring, CT "
                "ratios and meter configuration).",
             sub.buf);
    if (prov.len)
        addf(l, "Provisional: these months were not over when they were computed: %s.", prov.buf);
}

/* "2024-01..2024-03, 2024-07" from a month mask. */
static void month_ranges(int year, const bool *in, list_text *t)
{
    for (unsigned m = 0; m < 12; m++) {
        if (!in[m])
            continue;
        unsigned e = m;
        while (e + 1 < 12 && in[e + 1])
            e++;
        if (e == m)
            list_add(t, "%d-%02u", year, m + 1);
        else
            list_add(t, "%d-%02u..%d-%02u", year, m + 1, year, e + 1);
        m = e;
    }
}

static const char *utility_name(bool water)
{
    return water ? "water" : "electricity";
}

/* The sites and months that came from bills, and the bills kept out. */
static void note_bills(lines *l, const om_report *r)
{
    list_text billed = {0}, kept = {0};
    for (size_t s = 0; s < r->nsites; s++)
        for (int water = 0; water <= 1; water++) {
            bool whole[12] = {false}, part[12] = {false}, any = false;
            for (unsigned m = 0; m < 12; m++) {
                const om_site_utility *u = water ? &r->months[s * 12 + m].water
                                                 : &r->months[s * 12 + m].elec;
                if (u->billed_ms == 0)
                    continue;
                any = true;
                (u->metered ? part : whole)[m] = true;
            }
            if (!any)
                continue;
            list_text months = {0};
            month_ranges(r->year, whole, &months);
            list_text parts = {0};
            month_ranges(r->year, part, &parts);
            list_add(&billed, "%s %s %s%s%s%s", r->sites[s].site->site, utility_name(water),
                     months.len ? months.buf : "", months.len && parts.len ? ", " : "",
                     parts.len ? "part of " : "", parts.len ? parts.buf : "");
        }
    size_t not_counted = 0;
    double not_counted_qty[2] = {0, 0};
    for (size_t i = 0; i < r->nbill_months; i++) {
        const om_bill_month *b = &r->bill_months[i];
        if (b->reconcile_only || b->counted < b->spread * (1 - 1e-12)) {
            not_counted++;
            not_counted_qty[b->utility == OM_UTILITY_WATER] +=
                b->reconcile_only ? b->spread : b->spread - b->counted;
        }
    }
    if (billed.len)
        addf(l, "From bills (no main meter in service, docs/methodology.md \"Bills\"): %s. A "
                "bill is spread over its days and counts only for the time no main meter "
                "covers; every bill used is listed under its site.",
             billed.buf);
    if (not_counted)
        list_add(&kept, "%.3f MWh of electricity and %.3f m3 of water", not_counted_qty[0] / 1000,
                 not_counted_qty[1]);
    if (kept.len)
        addf(l, "Bills not counted where a main meter covers the time or the policy keeps "
                "them for reconciliation only (%s): officemeter reconcile compares them with "
                "the meters.",
             kept.buf);
}

/* Months of a site with data for a utility in the year where part of the
 * time has neither a main meter in service nor a bill. */
static void note_no_data(lines *l, const om_report *r)
{
    list_text out = {0};
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        for (int water = 0; water <= 1; water++) {
            const om_site_utility *y = water ? &rs->water : &rs->elec;
            if (!om_site_utility_has(y))
                continue;
            bool hole[12] = {false}, any = false;
            for (unsigned m = 0; m < 12; m++) {
                const om_site_utility *u = water ? &r->months[s * 12 + m].water
                                                 : &r->months[s * 12 + m].elec;
                int64_t a, b;
                if (om_month_bounds(rs->site->timezone, r->year, m + 1, &a, &b) < 0)
                    continue;
                if (u->expected_ms + u->billed_ms < b - a)
                    any = hole[m] = true;
            }
            if (!any)
                continue;
            list_text months = {0};
            month_ranges(r->year, hole, &months);
            list_add(&out, "%s %s %s", rs->site->site, utility_name(water), months.buf);
        }
    }
    if (out.len)
        addf(l, "Time with neither a main meter in service nor a bill (not counted, not "
                "estimated): %s.",
             out.buf);
}

static void note_sources(lines *l, const om_report *r)
{
    const om_kpi_figure *e = &r->kpis[OM_KPI_ENERGY_ELECTRICITY].current;
    const om_kpi_figure *w = &r->kpis[OM_KPI_WATER].current;
    if (e->billed_share == 0 && w->billed_share == 0)
        return;
    addf(l, "Sources: electricity %.1f%% metered, %.1f%% billed, %.1f%% estimated; water "
            "%.1f%% metered, %.1f%% billed, %.1f%% estimated.",
         e->metered_share * 100, e->billed_share * 100, e->estimated_share * 100,
         w->metered_share * 100, w->billed_share * 100, w->estimated_share * 100);
}

static void note_factors(lines *l, const om_report *r)
{
    for (size_t i = 0; i < r->nfactors; i++) {
        const om_factor *f = r->factors[i].factor;
        if (!f->verified)
            addf(l, "Unverified factor used: %s (%s %s, activity year %d, %s), not yet checked "
                    "against its primary source.",
                 f->id, f->region, om_factor_kind_name(f->kind), f->activity_year, f->source);
    }
    if (r->kpis[OM_KPI_GHG_SCOPE3_CAT3].current.ncovered ||
        r->kpis[OM_KPI_GHG_SCOPE3_WATER].current.ncovered)
        addf(l, "Scope 3 (category 3: T&D losses and well-to-tank of electricity; water supply and "
                "treatment) is computed only where factors are configured and is reported "
                "separately, never added to scope 1 and 2.");
}

int om_kpi_write_notes(const om_kpi_input *in, om_report *r)
{
    lines l = {0};
    note_method(&l, in, r);
    note_market(&l, r);
    note_coverage(&l, r, OM_KPI_ENERGY_ELECTRICITY, "Electricity (A2.1)", false);
    note_coverage(&l, r, OM_KPI_GHG_SCOPE2_LOCATION, "Scope 2 (A1.2)", false);
    note_coverage(&l, r, OM_KPI_WATER, "Water (A2.2)", true);
    note_whole_portfolio(&l, r);
    note_employees(&l, r);
    note_quality(&l, r);
    note_bills(&l, r);
    note_sources(&l, r);
    note_no_data(&l, r);
    note_factors(&l, r);
    r->notes = l.lines;
    r->nnotes = l.n;
    return l.failed ? -1 : 0;
}

/* ---- per-site flags ---------------------------------------------------------- */

static void fmt_duration(int64_t ms, char *buf, size_t len)
{
    int64_t min = ms / 60000;
    snprintf(buf, len, "%" PRId64 " d %" PRId64 " h %" PRId64 " min", min / 1440, min / 60 % 24,
             min % 60);
}

void om_month_event_describe(const om_month_event *e, char *buf, size_t len)
{
    const om_counter_event *ev = &e->ev;
    const char *unit = om_quantity_get(e->quantity)->unit;
    char t[40], t2[40], dur[48];
    om_format_iso8601(ev->t, t, sizeof t);
    int n = snprintf(buf, len, "%s %s %s ", e->meter, om_quantity_get(e->quantity)->name, t);
    if (n < 0 || (size_t)n >= len)
        return;
    buf += n;
    len -= (size_t)n;
    switch (ev->kind) {
    case OM_CEV_GLITCH:
        snprintf(buf, len, "glitch: reading %.3f ignored, contradicted by the following readings "
                           "(last accepted %.3f)", ev->after, ev->before);
        break;
    case OM_CEV_WRAP:
        snprintf(buf, len, "rollover: the counter wrapped from %.3f to %.3f; %.3f %s counted "
                           "across it", ev->before, ev->after, ev->counted, unit);
        break;
    case OM_CEV_RESET:
        snprintf(buf, len, "reset: the counter dropped from %.3f to %.3f and stayed; counted "
                           "from zero (%.3f %s)", ev->before, ev->after, ev->counted, unit);
        break;
    case OM_CEV_BACKSTEP:
        snprintf(buf, len, "backwards step from %.3f to %.3f that persisted; nothing counted for "
                           "it", ev->before, ev->after);
        break;
    case OM_CEV_JUMP:
        snprintf(buf, len, "jump from %.3f to %.3f, faster than the plausible maximum; not "
                           "counted", ev->before, ev->after);
        break;
    case OM_CEV_REPLACEMENT:
        snprintf(buf, len, "replacement: old meter's final value %.3f, new meter's initial value "
                           "%.3f; %.3f %s counted after the old meter's last reading",
                 ev->before, ev->after, ev->counted, unit);
        break;
    case OM_CEV_GAP:
        om_format_iso8601(ev->t_end, t2, sizeof t2);
        fmt_duration(ev->t_end - ev->t, dur, sizeof dur);
        snprintf(buf, len, "gap until %s (%s): %.3f %s interpolated across it (estimated)", t2,
                 dur, ev->counted, unit);
        break;
    case OM_CEV_CONFLICT:
        snprintf(buf, len, "two readings at the same time: %.3f kept, %.3f ignored", ev->before,
                 ev->after);
        break;
    case OM_CEV_UNCONFIRMED:
        snprintf(buf, len, "drop from %.3f to %.3f in the last readings, not yet confirmed by a "
                           "later one: ignored for now", ev->before, ev->after);
        break;
    default:
        snprintf(buf, len, "event");
        break;
    }
}

/* The events are sorted by (site, meter, quantity, time, kind): a repeat
 * is next to its first occurrence. */
static bool repeats(const om_report *r, size_t i)
{
    if (i == 0)
        return false;
    const om_month_event *e = &r->events[i], *o = &r->events[i - 1];
    return o->ev.kind == e->ev.kind && o->ev.t == e->ev.t && o->quantity == e->quantity &&
           strcmp(o->meter, e->meter) == 0 && strcmp(o->site, e->site) == 0;
}

static size_t report_site(const om_report *r, const char *site)
{
    for (size_t s = 0; s < r->nsites; s++)
        if (strcmp(r->sites[s].site->site, site) == 0)
            return s;
    return SIZE_MAX;
}

static om_report_event_group *group_of(om_report *r, size_t site, const om_month_event *e)
{
    for (size_t g = r->ngroups; g-- > 0;) {
        om_report_event_group *grp = &r->groups[g];
        if (grp->site == site && grp->kind == e->ev.kind && grp->quantity == e->quantity &&
            strcmp(grp->meter, e->meter) == 0)
            return grp;
        if (grp->site != site || strcmp(grp->meter, e->meter) != 0 || grp->quantity != e->quantity)
            break; /* groups of an earlier meter: this one has none yet */
    }
    om_report_event_group *grown = realloc(r->groups, (r->ngroups + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    r->groups = grown;
    om_report_event_group *grp = &grown[r->ngroups++];
    memset(grp, 0, sizeof *grp);
    grp->site = site;
    memcpy(grp->meter, e->meter, sizeof grp->meter);
    grp->quantity = e->quantity;
    grp->kind = e->ev.kind;
    return grp;
}

int om_kpi_group_events(om_report *r)
{
    r->event_listed = calloc(r->nevents ? r->nevents : 1, sizeof *r->event_listed);
    if (!r->event_listed)
        return -1;
    for (size_t i = 0; i < r->nevents; i++) {
        const om_month_event *e = &r->events[i];
        size_t s = report_site(r, e->site);
        if (e->year != r->year || s == SIZE_MAX || repeats(r, i))
            continue;
        om_report_event_group *grp = group_of(r, s, e);
        if (!grp)
            return -1;
        r->event_listed[i] = grp->count < OM_REPORT_EVENTS_LISTED;
        grp->count++;
        grp->counted += e->ev.counted;
    }
    return 0;
}

/* Every bill counted at the site in the year, once, with what it gave. */
static void bill_flags(const om_report *r, const char *site, lines *l)
{
    char a[16], b[16];
    for (size_t i = 0; i < r->nbill_months; i++) {
        const om_bill_month *p = &r->bill_months[i];
        if (strcmp(p->site, site) != 0 || p->reconcile_only || p->counted <= 0)
            continue;
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = r->bill_months[k].bill != p->bill || strcmp(r->bill_months[k].site, site) != 0;
        if (!first)
            continue;
        double counted = 0, share = 0;
        unsigned days = 0;
        for (size_t k = i; k < r->nbill_months; k++)
            if (r->bill_months[k].bill == p->bill && strcmp(r->bill_months[k].site, site) == 0) {
                counted += r->bill_months[k].counted;
                share += r->bill_months[k].share * r->bill_months[k].days;
                days += r->bill_months[k].days;
            }
        const om_bill *bill = &r->bills->bills[p->bill];
        const char *unit = bill->utility == OM_UTILITY_WATER ? "m³" : "kWh";
        const om_bill_account *acc = om_policy_account(r->policy, bill->account, bill->utility);
        char part[96] = "";
        if (acc && days)
            snprintf(part, sizeof part, "; %.1f%% of the account here%s", share / days * 100,
                     acc->nsites ? ", by floor area" : "");
        addf(l, "%s bill %s (%s, account %s, %s..%s, %.3f %s over %u days%s): %.3f %s counted "
                "in %d.",
             utility_name(bill->utility == OM_UTILITY_WATER), bill->document,
             om_bill_source_name(bill->source), bill->account,
             om_format_date(bill->start, a, sizeof a), om_format_date(bill->end, b, sizeof b),
             bill->quantity, unit, om_bill_days(bill), part, counted, unit, r->year);
    }
}

static void site_flags(const om_kpi_input *in, const om_report *r, size_t s, lines *l)
{
    const om_report_site *rs = &r->sites[s];
    const char *id = rs->site->site;
    if (!rs->elec.metered && rs->elec.billed_ms > 0)
        addf(l, "No main electricity meter in service in %d: electricity from bills.", r->year);
    else if (!rs->elec.metered)
        addf(l, "No main electricity meter in service in %d.", r->year);
    else if (!rs->elec.covered)
        addf(l, "No electricity data in %d: the site is outside the energy and GHG KPIs.",
             r->year);
    if (!rs->water.metered && rs->water.billed_ms > 0)
        addf(l, "No main water meter in service in %d: water from bills.", r->year);
    else if (!rs->water.metered)
        addf(l, "No main water meter and no bills: the site is outside the water KPIs.");
    else if (!rs->water.covered)
        addf(l, "No water data in %d: the site is outside the water KPIs.", r->year);
    bill_flags(r, id, l);
    if (rs->ghg.instruments_mwh > 0 && rs->ghg.has_location &&
        rs->ghg.instruments_mwh * 1000 > rs->elec.value)
        addf(l, "Instruments (%.3f MWh) exceed the consumption (%.3f MWh); the excess is not "
                "carried over.",
             rs->ghg.instruments_mwh, rs->elec.value / 1000);
    for (unsigned m = 0; m < 12; m++)
        if (r->months[s * 12 + m].sub_exceeds_main)
            addf(l, "%d-%02u: sub-meters add up to more than the main meters.", r->year, m + 1);
    for (size_t i = 0; i < r->nrows; i++) {
        const om_meter_month *row = &r->rows[i];
        if (row->year != r->year || strcmp(row->site, id) != 0 || row->expected_ms <= 0 ||
            row->actual_ms >= row->expected_ms)
            continue;
        addf(l, "%s %s %d-%02u: actual data for %.2f%% of the time in service%s%s.", row->meter,
             om_quantity_get(row->quantity)->name, row->year, row->month,
             100.0 * (double)row->actual_ms / (double)row->expected_ms,
             row->start_known ? "" : "; no reading before the month's start",
             row->end_known ? "" : "; no reading after the month's end");
    }
    for (size_t i = 0; i < r->nevents; i++) {
        const om_month_event *e = &r->events[i];
        if (!r->event_listed[i] || strcmp(e->site, id) != 0)
            continue;
        char buf[512];
        om_month_event_describe(e, buf, sizeof buf);
        addf(l, "%s", buf);
    }
    for (size_t g = 0; g < r->ngroups; g++) {
        const om_report_event_group *grp = &r->groups[g];
        if (grp->site == s && grp->count > OM_REPORT_EVENTS_LISTED)
            addf(l, "%s %s: %zu %s events in all, %d listed above (%.3f %s concerned in all; "
                    "every one is in the rollup_events table)",
                 grp->meter, om_quantity_get(grp->quantity)->name, grp->count,
                 om_counter_event_name(grp->kind), OM_REPORT_EVENTS_LISTED, grp->counted,
                 om_quantity_get(grp->quantity)->unit);
    }
}

int om_kpi_write_flags(const om_kpi_input *in, om_report *r)
{
    for (size_t s = 0; s < r->nsites; s++) {
        lines l = {0};
        site_flags(in, r, s, &l);
        r->sites[s].flags = l.lines;
        r->sites[s].nflags = l.n;
        if (l.failed)
            return -1;
    }
    return 0;
}

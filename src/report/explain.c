/* SPDX-License-Identifier: Apache-2.0 */
/*
 * explain.c - the walk from a KPI to the readings, with the arithmetic.
 *
 * Every number printed is one the report used (the KPI, the site totals,
 * the stored months) or one recomputed the same way from the same readings
 * (the boundary values), so the arithmetic on the page can be redone with a
 * calculator and must come out.
 */
#include "officemeter/report/explain.h"

#include <math.h>
#include <string.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"
#include "officemeter/report/evidence.h"

/* The shortest text that reads back as the number. */
static const char *n(double v, char *buf)
{
    if (isnan(v))
        return "–";
    om_format_double(v, buf, 40);
    size_t len = strlen(buf);
    if (len > 2 && strcmp(buf + len - 2, ".0") == 0)
        buf[len - 2] = '\0'; /* 42, not 42.0: this is for people */
    return buf;
}

static const char *t_iso(int64_t t, char *buf)
{
    return om_format_iso8601(t, buf, 40);
}

typedef enum { WHAT_ELECTRICITY, WHAT_WATER } utility_of;

typedef enum {
    NUM_ENERGY,  /* MWh */
    NUM_WATER,   /* m³ */
    NUM_LOC,     /* scope 2 location */
    NUM_MARKET,  /* scope 2 market */
    NUM_CAT3,    /* scope 3 category 3 */
    NUM_WATER3,  /* scope 3 water */
    NUM_NONE,
} numerator;

static numerator numerator_of(om_kpi_id id)
{
    switch (id) {
    case OM_KPI_ENERGY_TOTAL:
    case OM_KPI_ENERGY_ELECTRICITY:
    case OM_KPI_ENERGY_INTENSITY_M2:
    case OM_KPI_ENERGY_INTENSITY_EMPLOYEE:
        return NUM_ENERGY;
    case OM_KPI_WATER:
    case OM_KPI_WATER_INTENSITY_M2:
    case OM_KPI_WATER_INTENSITY_EMPLOYEE:
        return NUM_WATER;
    case OM_KPI_GHG_SCOPE2_LOCATION:
    case OM_KPI_GHG_TOTAL:
    case OM_KPI_GHG_INTENSITY_M2:
    case OM_KPI_GHG_INTENSITY_EMPLOYEE:
        return NUM_LOC;
    case OM_KPI_GHG_SCOPE2_MARKET:
        return NUM_MARKET;
    case OM_KPI_GHG_SCOPE3_CAT3:
        return NUM_CAT3;
    case OM_KPI_GHG_SCOPE3_WATER:
        return NUM_WATER3;
    default:
        return NUM_NONE;
    }
}

static double site_numerator(numerator what, const om_report_site *rs)
{
    switch (what) {
    case NUM_ENERGY: return rs->elec.value / 1000;
    case NUM_WATER: return rs->water.value;
    case NUM_LOC: return rs->ghg.location_t;
    case NUM_MARKET: return rs->ghg.market_t;
    case NUM_CAT3: return rs->ghg.scope3_cat3_t;
    case NUM_WATER3: return rs->ghg.scope3_water_t;
    default: return 0;
    }
}

/* ---- factors ------------------------------------------------------------------------ */

static void factor_line(FILE *out, const om_report *r, const om_factor *f, const char *region)
{
    char a[40], d[16];
    bool pinned = false;
    for (size_t i = 0; i < r->policy->nchoices; i++) {
        const om_factor_choice *c = &r->policy->choices[i];
        pinned |= c->kind == f->kind && c->year == r->year && strcmp(c->region, region) == 0;
    }
    fprintf(out, "  factor %s: %s %s (= %s t per %s), %s %s, activity year %d, \"%s\", published "
                 "%s, %s; %s\n",
            f->id, n(f->value, a), om_factor_unit_name(f->unit),
            n(om_factor_tonnes_per_unit(f), (char[40]){0}),
            f->kind == OM_FACTOR_WATER_SUPPLY || f->kind == OM_FACTOR_WATER_TREATMENT ? "m³"
                                                                                       : "MWh",
            f->region, om_factor_kind_name(f->kind), f->activity_year, f->source,
            om_format_date(f->published, d, sizeof d), f->verified ? "verified" : "unverified",
            pinned ? "pinned by the policy's factor_selection for this year"
                   : "the latest of its region and kind whose activity year is not after the "
                     "report year");
}

/* ---- a site's utility over the year -------------------------------------------------- */

static void boundary_line(FILE *out, const char *which, const om_boundary *b)
{
    char t[40], t1[40], t2[40], v[40], u1[40], u2[40], r1[40], r2[40];
    if (b->before.t == b->after.t) {
        fprintf(out, "      C(%s) at %s = %s: a point of the curve (reading %s)\n", which,
                t_iso(b->t, t), n(b->value, v), n(b->before_reading, r1));
        return;
    }
    double span = (double)(b->after.t - b->before.t) / 60000.0;
    double into = (double)(b->t - b->before.t) / 60000.0;
    fprintf(out, "      C(%s) at %s = %s + (%s - %s) x %s/%s min = %s, between %s (reading %s, "
                 "curve %s) and %s (reading %s, curve %s)\n",
            which, t_iso(b->t, t), n(b->before.u, u1), n(b->after.u, u2), n(b->before.u, u1),
            n(into, (char[40]){0}), n(span, (char[40]){0}), n(b->value, v),
            t_iso(b->before.t, t1), n(b->before_reading, r1), n(b->before.u, u1),
            t_iso(b->after.t, t2), n(b->after_reading, r2), n(b->after.u, u2));
}

static const om_site *site_of(const om_report *r, const char *id)
{
    for (size_t s = 0; s < r->nsites; s++)
        if (strcmp(r->sites[s].site->site, id) == 0)
            return r->sites[s].site;
    return NULL;
}

static int meter_month(FILE *out, const om_report *r, const om_meter_month *row,
                       const om_rollup_source *src)
{
    const om_site *site = site_of(r, row->site);
    const om_meter *m = site ? om_site_find_meter(site, row->meter) : NULL;
    char a[40], b[40], c[40];
    fprintf(out, "    %s %s (%s): %s %s%s%s\n", row->meter, om_quantity_get(row->quantity)->name,
            row->role == OM_ROLE_MAIN ? "main" : "sub", n(row->consumption, a),
            om_quantity_get(row->quantity)->unit,
            row->estimated > 0 ? ", of which estimated across gaps " : "",
            row->estimated > 0 ? n(row->estimated, b) : "");
    if (!m || !src)
        return 0;
    om_month_trace tr;
    if (om_trace_meter_month(site, m, row->quantity, r->policy, row->year, row->month, src, &tr) <
        0)
        return -1;
    if (!tr.known) {
        fprintf(out, "      no readings cover the month: nothing counted\n");
        return 0;
    }
    boundary_line(out, "from", &tr.from);
    boundary_line(out, "to", &tr.to);
    fprintf(out, "      consumption = C(to) - C(from) = %s - %s = %s %s; readings digest %s%s\n",
            n(tr.to.value, a), n(tr.from.value, b), n(tr.consumption, c),
            om_quantity_get(row->quantity)->unit, tr.sha256,
            strcmp(tr.sha256, row->readings_sha256) == 0
                ? " (the stored month's)"
                : " (NOT the stored month's: its readings changed since; recompute it)");
    return 0;
}

static void bill_parts(FILE *out, const om_report *r, const char *site, bool water, unsigned month)
{
    char a[40], b[40], c[40], d0[16], d1[16];
    for (size_t i = 0; i < r->nbill_months; i++) {
        const om_bill_month *p = &r->bill_months[i];
        if (p->month != month || strcmp(p->site, site) != 0 ||
            (p->utility == OM_UTILITY_WATER) != water || p->counted <= 0)
            continue;
        const om_bill *bill = &r->bills->bills[p->bill];
        fprintf(out, "    bill %s (%s, %s line %zu, account %s, %s..%s): %s / %u days x %u days "
                     "x share %s x time no main meter covers = %s %s counted\n",
                bill->document, om_bill_source_name(bill->source), bill->file, bill->line,
                bill->account, om_format_date(bill->start, d0, sizeof d0),
                om_format_date(bill->end, d1, sizeof d1), n(bill->quantity, a),
                om_bill_days(bill), p->days, n(p->share, b), n(p->counted, c),
                water ? "m³" : "kWh");
    }
}

static int site_utility(FILE *out, const om_report *r, size_t s, bool water,
                        const om_rollup_source *src)
{
    const om_report_site *rs = &r->sites[s];
    const om_site_utility *u = water ? &rs->water : &rs->elec;
    char a[40], b[40];
    const char *unit = water ? "m³" : "kWh";
    fprintf(out, "  %s %d = %s %s: the sum of its months (main meters%s)\n",
            water ? "water" : "electricity", r->year, n(u->value, a), unit,
            u->billed > 0 ? " and bills where no main meter is in service" : "");
    for (unsigned m = 1; m <= 12; m++) {
        const om_report_month *mo = &r->months[s * 12 + m - 1];
        const om_site_utility *mu = water ? &mo->water : &mo->elec;
        if (!om_site_utility_has(mu))
            continue;
        fprintf(out, "  %d-%02u: %s %s%s%s\n", r->year, m, n(mu->value, a), unit,
                mu->billed > 0 ? ", of which billed " : "", mu->billed > 0 ? n(mu->billed, b) : "");
        for (size_t i = 0; i < r->nrows; i++) {
            const om_meter_month *row = &r->rows[i];
            if (row->year != r->year || row->month != m || row->role != OM_ROLE_MAIN ||
                (row->utility == OM_UTILITY_WATER) != water ||
                strcmp(row->site, rs->site->site) != 0)
                continue;
            if (meter_month(out, r, row, src) < 0)
                return -1;
        }
        bill_parts(out, r, rs->site->site, water, m);
    }
    return 0;
}

/* ---- denominators ---------------------------------------------------------------------- */

static void area_line(FILE *out, const om_report *r, const om_report_site *rs)
{
    const om_site *s = rs->site;
    char a[40];
    if (r->policy->intensity_area == OM_AREA_YEAR_END) {
        fprintf(out, "  %s: %s m² in force on %d-12-31\n", s->site, n(rs->area_m2, a), r->year);
        return;
    }
    fprintf(out, "  %s: %s m², time-weighted: (", s->site, n(rs->area_m2, a));
    int32_t y0 = om_days_from_civil(r->year, 1, 1), y1 = om_days_from_civil(r->year + 1, 1, 1);
    bool first = true;
    for (size_t i = 0; i < s->nfloor_area; i++) {
        int32_t from = s->floor_area[i].from > y0 ? s->floor_area[i].from : y0;
        int32_t until = i + 1 < s->nfloor_area && s->floor_area[i + 1].from < y1
                            ? s->floor_area[i + 1].from
                            : y1;
        if (until <= from)
            continue;
        fprintf(out, "%s%s m² x %d d", first ? "" : " + ", n(s->floor_area[i].m2, a),
                (int)(until - from));
        first = false;
    }
    fprintf(out, ") / %u d\n", om_days_in_year(r->year));
}

/* ---- the walk ---------------------------------------------------------------------------- */

static int site_walk(FILE *out, const om_report *r, const om_kpi *k, size_t s,
                     const om_rollup_source *src)
{
    const om_report_site *rs = &r->sites[s];
    numerator what = numerator_of(k->id);
    char a[40], b[40], c[40];
    double v = site_numerator(what, rs);
    fprintf(out, "\n## %s (%s): %s %s\n\n", rs->site->site, rs->site->name, n(v, a),
            what == NUM_ENERGY ? "MWh" : what == NUM_WATER ? "m³" : "tCO2e");
    const om_site_ghg *g = &rs->ghg;
    double mwh = rs->elec.value / 1000;
    switch (what) {
    case NUM_ENERGY:
        fprintf(out, "  = %s kWh / 1000\n", n(rs->elec.value, a));
        break;
    case NUM_WATER:
        break;
    case NUM_LOC:
        fprintf(out, "  = %s MWh x %s t/MWh\n", n(mwh, a),
                n(om_factor_tonnes_per_unit(g->grid), b));
        factor_line(out, r, g->grid, rs->site->grid_region);
        break;
    case NUM_MARKET: {
        const om_factor *f = g->residual ? g->residual : g->grid;
        double rest = mwh - g->instruments_mwh > 0 ? mwh - g->instruments_mwh : 0;
        fprintf(out,
                "  = (%s MWh - %s MWh of instruments, not below 0) x %s t/MWh (%s) = %s x %s\n",
                n(mwh, a), n(g->instruments_mwh, b), n(om_factor_tonnes_per_unit(f), c),
                g->residual ? "residual mix" : "grid average: no residual mix configured",
                n(rest, (char[40]){0}), n(om_factor_tonnes_per_unit(f), (char[40]){0}));
        factor_line(out, r, f, rs->site->grid_region);
        break;
    }
    case NUM_CAT3: {
        const om_factor *fs[3] = {g->td, g->wtt_gen, g->wtt_td};
        fprintf(out, "  = %s MWh x (the sum of these factors)\n", n(mwh, a));
        for (int i = 0; i < 3; i++)
            if (fs[i])
                factor_line(out, r, fs[i], rs->site->grid_region);
        break;
    }
    case NUM_WATER3: {
        const om_factor *fs[2] = {g->w_supply, g->w_treatment};
        fprintf(out, "  = %s m³ x (the sum of these factors)\n", n(rs->water.value, a));
        for (int i = 0; i < 2; i++)
            if (fs[i])
                factor_line(out, r, fs[i], rs->site->grid_region);
        break;
    }
    default:
        break;
    }
    bool water = what == NUM_WATER || what == NUM_WATER3;
    return site_utility(out, r, s, water, src);
}

int om_explain(const om_report *r, const char *key, const char *site,
               const om_rollup_source *src, FILE *out)
{
    const om_kpi *k = om_report_kpi(r, key);
    if (!k)
        return -2;
    size_t only = SIZE_MAX;
    for (size_t s = 0; site && s < r->nsites; s++)
        if (strcmp(r->sites[s].site->site, site) == 0)
            only = s;
    if (site && only == SIZE_MAX)
        return -2;
    const om_kpi_figure *f = &k->current;
    char a[40], b[40];
    fprintf(out, "# %s %d: %s %s\n\n%s (HKEX %s).", k->key, r->year,
            f->has_value ? n(f->value, a) : "no value", k->unit, k->label,
            k->hkex[0] ? k->hkex : "–");
    if (!f->has_value) {
        fprintf(out, " No site covers it in %d.\n", r->year);
        return ferror(out) ? -1 : 0;
    }
    numerator what = numerator_of(k->id);
    fprintf(out, " Sites covered: %zu of %zu; %.1f%% of floor area; metered %.2f%%, billed %.2f%%, "
                 "estimated %.2f%%.\n\n",
            f->ncovered, r->nsites, f->area_share * 100, f->metered_share * 100,
            f->billed_share * 100, f->estimated_share * 100);
    fprintf(out, "%s = ", f->denominator > 0 ? "numerator" : "value");
    bool first = true;
    double sum = 0;
    for (size_t s = 0; s < r->nsites; s++) {
        if (!f->covered[s])
            continue;
        double v = site_numerator(what, &r->sites[s]);
        sum += v;
        fprintf(out, "%s%s %s", first ? "" : " + ", r->sites[s].site->site, n(v, a));
        first = false;
    }
    fprintf(out, " = %s\n", n(sum, a));
    if (f->denominator > 0) {
        bool per_m2 = strstr(k->unit, "/m²") != NULL;
        fprintf(out, "denominator = %s %s (%s)\nvalue = %s / %s = %s %s\n", n(f->denominator, a),
                per_m2 ? "m²" : "employees",
                per_m2 ? (r->policy->intensity_scope == OM_SCOPE_WHOLE_PORTFOLIO
                              ? "every site's floor area"
                              : "the covered sites' floor area")
                       : "the covered sites' headcount",
                n(sum, b), n(f->denominator, (char[40]){0}), n(f->value, (char[40]){0}), k->unit);
        for (size_t s = 0; per_m2 && s < r->nsites; s++)
            if (f->covered[s] || r->policy->intensity_scope == OM_SCOPE_WHOLE_PORTFOLIO)
                area_line(out, r, &r->sites[s]);
        for (size_t s = 0; !per_m2 && s < r->nsites; s++)
            if (f->covered[s])
                fprintf(out, "  %s: %u employees in %d\n", r->sites[s].site->site,
                        r->sites[s].headcount, r->year);
    }
    for (size_t s = 0; s < r->nsites; s++) {
        if (!f->covered[s] || (only != SIZE_MAX && s != only))
            continue;
        if (site_walk(out, r, k, s, src) < 0)
            return -1;
    }
    if (only != SIZE_MAX && !f->covered[only])
        fprintf(out, "\n%s is not covered by %s in %d.\n", site, k->key, r->year);
    return ferror(out) ? -1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi.c - site totals, emissions and the KPI figures of the annual report.
 *
 * Three steps, each over sites x months, never readings:
 *   1. site_totals: a site's year per utility from its meters' months, main
 *      meters making the total, sub-meters the breakdown;
 *   2. site_ghg: the site's emissions with the factor the policy selects for
 *      its region and the year (the previous year restated with the current
 *      year's factors when the policy says so);
 *   3. kpi_figure: one KPI over the sites that cover it, with its coverage.
 * Notes and per-site flags are written by kpi_notes.c.
 */
#include "officemeter/report/kpi.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_private.h"
#include "officemeter/base/calendar.h"

static const struct {
    const char *key, *label, *unit, *hkex;
} kpi_meta[OM_KPI__COUNT] = {
    [OM_KPI_ENERGY_TOTAL] = {"energy_total_mwh", "Energy consumption, total", "MWh", "A2.1"},
    [OM_KPI_ENERGY_ELECTRICITY] = {"energy_electricity_mwh", "Purchased electricity", "MWh",
                                   "A2.1"},
    [OM_KPI_ENERGY_INTENSITY_M2] = {"energy_intensity_mwh_per_m2", "Energy intensity",
                                    "MWh/m²", "A2.1"},
    [OM_KPI_ENERGY_INTENSITY_EMPLOYEE] = {"energy_intensity_mwh_per_employee",
                                          "Energy intensity per employee", "MWh/employee",
                                          "A2.1"},
    [OM_KPI_GHG_SCOPE1] = {"ghg_scope1_t", "GHG emissions, scope 1", "tCO2e", "A1.2"},
    [OM_KPI_GHG_SCOPE2_LOCATION] = {"ghg_scope2_location_t",
                                    "GHG emissions, scope 2 (location-based)", "tCO2e", "A1.2"},
    [OM_KPI_GHG_SCOPE2_MARKET] = {"ghg_scope2_market_t", "GHG emissions, scope 2 (market-based)",
                                  "tCO2e", "A1.2"},
    [OM_KPI_GHG_TOTAL] = {"ghg_total_t", "GHG emissions, scope 1 and 2 (location-based)", "tCO2e",
                          "A1.2"},
    [OM_KPI_GHG_INTENSITY_M2] = {"ghg_intensity_t_per_m2", "GHG intensity", "tCO2e/m²", "A1.2"},
    [OM_KPI_GHG_INTENSITY_EMPLOYEE] = {"ghg_intensity_t_per_employee",
                                       "GHG intensity per employee", "tCO2e/employee", "A1.2"},
    [OM_KPI_GHG_SCOPE3_CAT3] = {"ghg_scope3_cat3_t",
                                "Scope 3 category 3 (T&D losses, well-to-tank), reported separately",
                                "tCO2e", ""},
    [OM_KPI_GHG_SCOPE3_WATER] = {"ghg_scope3_water_t",
                                 "Scope 3 water supply and treatment, reported separately",
                                 "tCO2e", ""},
    [OM_KPI_WATER] = {"water_t", "Water consumption", "t", "A2.2"},
    [OM_KPI_WATER_INTENSITY_M2] = {"water_intensity_t_per_m2", "Water intensity", "t/m²", "A2.2"},
    [OM_KPI_WATER_INTENSITY_EMPLOYEE] = {"water_intensity_t_per_employee",
                                         "Water intensity per employee", "t/employee", "A2.2"},
};

/* ---- 1. site totals -------------------------------------------------------- */

static int site_index(const om_kpi_input *in, const char *site)
{
    for (size_t i = 0; i < in->nsites; i++)
        if (strcmp(in->sites[i].site, site) == 0)
            return (int)i;
    return -1;
}

bool om_site_utility_has(const om_site_utility *u)
{
    return u->metered || u->billed_ms > 0;
}

/* Adds one meter-month to a utility's figures. Export rows exist only for
 * sites that net export (rollup.c), so they always subtract. */
static void add_row(om_site_utility *u, const om_meter_month *m)
{
    if (m->role == OM_ROLE_SUB) {
        if (m->quantity != OM_Q_ENERGY_EXPORT_KWH)
            u->sub_value += m->consumption;
        return;
    }
    if (m->quantity == OM_Q_ENERGY_EXPORT_KWH) {
        u->export_kwh += m->consumption;
        u->value -= m->consumption;
        return;
    }
    if (m->quantity == OM_Q_ENERGY_IMPORT_KWH)
        u->import_kwh += m->consumption;
    u->value += m->consumption;
    u->estimated += m->estimated;
    u->expected_ms += m->expected_ms;
    u->actual_ms += m->actual_ms;
    if (m->expected_ms > 0)
        u->metered = true;
}

/* Adds a bill's part in a month: counted for the time no main meter
 * covers (billed.h). */
static void add_bill(om_site_utility *u, const om_bill_month *b)
{
    if (b->reconcile_only || b->billed_ms == 0)
        return;
    u->value += b->counted;
    u->billed += b->counted;
    if (b->estimated)
        u->billed_estimated += b->counted;
    u->billed_ms += b->billed_ms;
}

double om_utility_share(const om_site_utility *u, bool estimated)
{
    if (estimated)
        return u->value > 0 ? (u->estimated + u->billed_estimated) / u->value : 0;
    int64_t expected = u->expected_ms + u->billed_ms;
    return expected > 0 ? (double)(u->actual_ms + u->billed_ms) / (double)expected : 0;
}

static const char *source_of(const om_site_utility *u)
{
    if (u->metered && u->billed_ms > 0)
        return "metered + billed";
    return u->billed_ms > 0 ? "billed" : "metered";
}

void om_month_sources(const om_report_month *m, char *buf, size_t len)
{
    bool e = om_site_utility_has(&m->elec), w = om_site_utility_has(&m->water);
    if (!e && !w)
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, "%s%s%s%s%s", e ? "electricity " : "", e ? source_of(&m->elec) : "",
                 e && w ? "; " : "", w ? "water " : "", w ? source_of(&m->water) : "");
}

static void finish_utility(om_site_utility *u)
{
    u->covered = (u->metered && u->actual_ms > 0) || u->billed_ms > 0;
}

/* A site's year: its meters' months and bills. Rows are sorted, so the
 * sums do not depend on the order the caller fetched them in. */
static void add_year(const om_kpi_input *in, const om_report *r, int year, om_site_year *ys,
                     om_report_month *months, const om_bill_month *parts, size_t nparts)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const om_meter_month *m = &r->rows[i];
        int s = site_index(in, m->site);
        if (s < 0 || m->year != year)
            continue;
        bool water = m->utility == OM_UTILITY_WATER;
        add_row(water ? &ys[s].water : &ys[s].elec, m);
        if (months && m->month >= 1 && m->month <= 12) {
            om_report_month *mo = &months[(size_t)s * 12 + m->month - 1];
            add_row(water ? &mo->water : &mo->elec, m);
            mo->provisional |= m->provisional;
            mo->nevents += m->nevents;
        }
    }
    for (size_t i = 0; i < nparts; i++) {
        const om_bill_month *b = &parts[i];
        int s = site_index(in, b->site);
        if (s < 0 || b->year != year)
            continue;
        bool water = b->utility == OM_UTILITY_WATER;
        add_bill(water ? &ys[s].water : &ys[s].elec, b);
        if (months && b->month >= 1 && b->month <= 12) {
            om_report_month *mo = &months[(size_t)s * 12 + b->month - 1];
            add_bill(water ? &mo->water : &mo->elec, b);
        }
    }
    for (size_t s = 0; s < in->nsites; s++) {
        finish_utility(&ys[s].elec);
        finish_utility(&ys[s].water);
        for (unsigned m = 0; months && m < 12; m++) {
            om_report_month *mo = &months[s * 12 + m];
            finish_utility(&mo->elec);
            finish_utility(&mo->water);
            /* Sub-meters above their mains: a wiring, CT or configuration
             * fault somewhere; the relative slack absorbs rounding only. A
             * month partly billed is not judged: its mains do not cover it. */
            mo->sub_exceeds_main =
                (mo->elec.metered && mo->elec.billed_ms == 0 && mo->elec.actual_ms > 0 &&
                 mo->elec.sub_value > mo->elec.value * (1 + 1e-9)) ||
                (mo->water.metered && mo->water.billed_ms == 0 && mo->water.actual_ms > 0 &&
                 mo->water.sub_value > mo->water.value * (1 + 1e-9));
        }
    }
}

static void site_denominators(const om_kpi_input *in, const om_site *s, int y, om_site_year *ys)
{
    ys->area_time_weighted = om_area_time_weighted(s->floor_area, s->nfloor_area, y);
    ys->area_year_end = om_area_year_end(s->floor_area, s->nfloor_area, y);
    bool tw = in->policy->intensity_area == OM_AREA_TIME_WEIGHTED;
    ys->area_m2 = tw ? ys->area_time_weighted : ys->area_year_end;
    ys->has_headcount = om_site_headcount(s, y, &ys->headcount) && ys->headcount > 0;
}

/* ---- 2. emissions ------------------------------------------------------------ */

static double kpi_instruments_mwh(const om_site *site, int year)
{
    double mwh = 0;
    for (size_t i = 0; i < site->ninstruments; i++)
        if (site->instruments[i].year == year)
            mwh += site->instruments[i].mwh;
    return mwh;
}

static double tonnes(const om_factor *f, double units)
{
    return f ? om_factor_tonnes_per_unit(f) * units : 0;
}

/* A site's emissions for activity of `activity_year` with the factors of
 * `factor_year` (the same year, or the current one for a restatement). */
static void site_ghg(const om_kpi_input *in, const om_site *s, const om_site_utility *elec,
                     const om_site_utility *water, int activity_year, int factor_year,
                     om_site_ghg *g)
{
    const om_factor_set *fs = in->factors;
    const om_policy *p = in->policy;
    const char *region = s->grid_region;
    memset(g, 0, sizeof *g);
    g->grid = om_factors_select(fs, p, region, OM_FACTOR_GRID_ELECTRICITY, factor_year);
    g->residual = om_factors_select(fs, p, region, OM_FACTOR_RESIDUAL_MIX, factor_year);
    g->td = om_factors_select(fs, p, region, OM_FACTOR_TD_LOSSES, factor_year);
    g->wtt_gen = om_factors_select(fs, p, region, OM_FACTOR_WTT_GENERATION, factor_year);
    g->wtt_td = om_factors_select(fs, p, region, OM_FACTOR_WTT_TD, factor_year);
    g->w_supply = om_factors_select(fs, p, region, OM_FACTOR_WATER_SUPPLY, factor_year);
    g->w_treatment = om_factors_select(fs, p, region, OM_FACTOR_WATER_TREATMENT, factor_year);
    g->instruments_mwh = kpi_instruments_mwh(s, activity_year);
    double mwh = elec->value / 1000.0;
    if (elec->covered && g->grid) {
        g->has_location = true;
        g->location_t = tonnes(g->grid, mwh);
        /* Market-based: instruments cover part of the consumption at zero;
         * the rest takes the residual mix, or the grid average where no
         * residual mix is configured (GHG Protocol scope 2 guidance). An
         * excess of instruments is not carried to other sites or years. */
        double rest = mwh - g->instruments_mwh;
        if (rest < 0)
            rest = 0;
        g->market_t = tonnes(g->residual ? g->residual : g->grid, rest);
    }
    if (elec->covered && (g->td || g->wtt_gen || g->wtt_td)) {
        g->has_cat3 = true;
        g->scope3_cat3_t = tonnes(g->td, mwh) + tonnes(g->wtt_gen, mwh) + tonnes(g->wtt_td, mwh);
    }
    if (water->covered && (g->w_supply || g->w_treatment)) {
        g->has_water3 = true;
        g->scope3_water_t = tonnes(g->w_supply, water->value) +
                            tonnes(g->w_treatment, water->value);
    }
}

/* ---- 3. KPI figures ----------------------------------------------------------- */

typedef enum { PER_NONE, PER_M2, PER_EMPLOYEE } per_kind;

/* What a site contributes to one KPI in one year. */
typedef struct {
    bool covered;
    double num;
    const om_site_utility *basis; /* the activity behind it: time and estimate shares */
} contribution;

static contribution site_contribution(om_kpi_id id, const om_site_year *ys)
{
    const om_site_utility *elec = &ys->elec;
    const om_site_utility *water = &ys->water;
    const om_site_ghg *g = &ys->ghg;
    contribution c = {false, 0, elec};
    switch (id) {
    case OM_KPI_ENERGY_TOTAL:
    case OM_KPI_ENERGY_ELECTRICITY:
    case OM_KPI_ENERGY_INTENSITY_M2:
    case OM_KPI_ENERGY_INTENSITY_EMPLOYEE:
        c.covered = elec->covered;
        c.num = elec->value / 1000.0;
        break;
    case OM_KPI_GHG_SCOPE2_LOCATION:
    case OM_KPI_GHG_TOTAL: /* scope 1 is not metered: the total is scope 2 */
    case OM_KPI_GHG_INTENSITY_M2:
    case OM_KPI_GHG_INTENSITY_EMPLOYEE:
        c.covered = g->has_location;
        c.num = g->location_t;
        break;
    case OM_KPI_GHG_SCOPE2_MARKET:
        c.covered = g->has_location;
        c.num = g->market_t;
        break;
    case OM_KPI_GHG_SCOPE3_CAT3:
        c.covered = g->has_cat3;
        c.num = g->scope3_cat3_t;
        break;
    case OM_KPI_GHG_SCOPE3_WATER:
        c.covered = g->has_water3;
        c.num = g->scope3_water_t;
        c.basis = water;
        break;
    case OM_KPI_WATER:
    case OM_KPI_WATER_INTENSITY_M2:
    case OM_KPI_WATER_INTENSITY_EMPLOYEE:
        c.covered = water->covered;
        c.num = water->value;
        c.basis = water;
        break;
    case OM_KPI_GHG_SCOPE1:
    case OM_KPI__COUNT:
        break;
    }
    return c;
}

bool om_kpi_site_value(om_kpi_id id, const om_site_year *ys, double *value)
{
    contribution c = site_contribution(id, ys);
    *value = c.num;
    return c.covered;
}

static per_kind kpi_per(om_kpi_id id)
{
    switch (id) {
    case OM_KPI_ENERGY_INTENSITY_M2:
    case OM_KPI_GHG_INTENSITY_M2:
    case OM_KPI_WATER_INTENSITY_M2:
        return PER_M2;
    case OM_KPI_ENERGY_INTENSITY_EMPLOYEE:
    case OM_KPI_GHG_INTENSITY_EMPLOYEE:
    case OM_KPI_WATER_INTENSITY_EMPLOYEE:
        return PER_EMPLOYEE;
    default:
        return PER_NONE;
    }
}

int om_kpi_compute_figure(const om_kpi_input *in, size_t nsites, const om_site_year *ys,
                          om_kpi_id id, om_kpi_figure *f)
{
    memset(f, 0, sizeof *f);
    f->covered = calloc(nsites ? nsites : 1, sizeof *f->covered);
    if (!f->covered)
        return -1;
    per_kind per = kpi_per(id);
    double num = 0, est = 0, billed = 0, activity = 0, area = 0, all_area = 0, heads = 0;
    int64_t expected = 0, actual = 0;
    for (size_t s = 0; s < nsites; s++) {
        const om_site_year *y = &ys[s];
        all_area += y->area_m2;
        contribution c = site_contribution(id, y);
        if (!c.covered || (per == PER_EMPLOYEE && !y->has_headcount))
            continue;
        f->covered[s] = true;
        f->ncovered++;
        num += c.num;
        area += y->area_m2;
        heads += y->headcount;
        /* Shares by source: gaps interpolated and bills on estimated
         * readings are estimated; bills on actual readings are billed; the
         * rest is metered. Billed time counts as time with data. */
        est += c.basis->estimated + c.basis->billed_estimated;
        billed += c.basis->billed - c.basis->billed_estimated;
        activity += c.basis->value;
        expected += c.basis->expected_ms + c.basis->billed_ms;
        actual += c.basis->actual_ms + c.basis->billed_ms;
    }
    f->area_share = all_area > 0 ? area / all_area : 0;
    f->time_share = expected > 0 ? (double)actual / (double)expected : 0;
    f->estimated_share = activity > 0 ? est / activity : 0;
    f->billed_share = activity > 0 ? billed / activity : 0;
    f->metered_share = activity > 0 ? (activity - est - billed) / activity : 0;
    if (f->ncovered == 0)
        return 0;
    switch (per) {
    case PER_NONE:
        f->has_value = true;
        f->value = num;
        break;
    case PER_M2:
        f->denominator =
            in->policy->intensity_scope == OM_SCOPE_WHOLE_PORTFOLIO ? all_area : area;
        f->has_value = f->denominator > 0;
        f->value = f->has_value ? num / f->denominator : 0;
        break;
    case PER_EMPLOYEE:
        f->denominator = heads;
        f->has_value = heads > 0;
        f->value = f->has_value ? num / heads : 0;
        break;
    }
    return 0;
}

int om_kpi_site_years(const om_kpi_input *in, const om_report *r, int year, int factor_year,
                      om_site_year *ys, om_report_month *months, om_bill_month **parts,
                      size_t *nparts)
{
    om_bill_month *bm = NULL;
    size_t nbm = 0;
    const om_site *all = in->portfolio ? in->portfolio : in->sites;
    size_t nall = in->portfolio ? in->nportfolio : in->nsites;
    if (in->bills && om_bills_spread(all, nall, in->bills, in->policy, year, &bm, &nbm) < 0)
        return -1;
    memset(ys, 0, in->nsites * sizeof *ys);
    for (size_t s = 0; s < in->nsites; s++)
        site_denominators(in, &in->sites[s], year, &ys[s]);
    add_year(in, r, year, ys, months, bm, nbm);
    for (size_t s = 0; s < in->nsites; s++)
        site_ghg(in, &in->sites[s], &ys[s].elec, &ys[s].water, year, factor_year, &ys[s].ghg);
    if (parts) {
        *parts = bm;
        *nparts = nbm;
    } else {
        free(bm);
    }
    return 0;
}

/* ---- the report ------------------------------------------------------------------ */

/* Site, meter, quantity: the order rows and events share. */
static int meter_order(const char *site_a, const char *meter_a, om_quantity q_a,
                       const char *site_b, const char *meter_b, om_quantity q_b)
{
    int c = strcmp(site_a, site_b);
    if (!c)
        c = strcmp(meter_a, meter_b);
    if (!c)
        c = (int)q_a - (int)q_b;
    return c;
}

static int row_order(const void *pa, const void *pb)
{
    const om_meter_month *a = pa, *b = pb;
    int c = meter_order(a->site, a->meter, a->quantity, b->site, b->meter, b->quantity);
    if (!c)
        c = a->year - b->year;
    if (!c)
        c = (int)a->month - (int)b->month;
    return c;
}

static int event_order(const void *pa, const void *pb)
{
    const om_month_event *a = pa, *b = pb;
    int c = meter_order(a->site, a->meter, a->quantity, b->site, b->meter, b->quantity);
    if (!c)
        c = a->ev.t < b->ev.t ? -1 : a->ev.t > b->ev.t;
    if (!c)
        c = (int)a->ev.kind - (int)b->ev.kind;
    if (!c)
        c = a->year * 12 + (int)a->month - (b->year * 12 + (int)b->month);
    return c;
}

/* Sums in floating point depend on their order: sorting first makes the
 * report the same whichever way the rows were fetched. */
static int sorted_inputs(const om_kpi_input *in, om_report *r)
{
    r->rows = malloc((in->nrows ? in->nrows : 1) * sizeof *r->rows);
    r->events = malloc((in->nevents ? in->nevents : 1) * sizeof *r->events);
    if (!r->rows || !r->events)
        return -1;
    if (in->nrows)
        memcpy(r->rows, in->rows, in->nrows * sizeof *r->rows);
    if (in->nevents)
        memcpy(r->events, in->events, in->nevents * sizeof *r->events);
    r->nrows = in->nrows;
    r->nevents = in->nevents;
    qsort(r->rows, r->nrows, sizeof *r->rows, row_order);
    qsort(r->events, r->nevents, sizeof *r->events, event_order);
    return 0;
}

static void copy_year(om_report_site *rs, const om_site_year *cur, const om_site_year *prev)
{
    rs->area_m2 = cur->area_m2;
    rs->area_time_weighted = cur->area_time_weighted;
    rs->area_year_end = cur->area_year_end;
    rs->has_headcount = cur->has_headcount;
    rs->headcount = cur->headcount;
    rs->elec = cur->elec;
    rs->water = cur->water;
    rs->ghg = cur->ghg;
    rs->prev_area_m2 = prev->area_m2;
    rs->prev_has_headcount = prev->has_headcount;
    rs->prev_headcount = prev->headcount;
    rs->prev_elec = prev->elec;
    rs->prev_water = prev->water;
    rs->prev_ghg = prev->ghg;
}

int om_report_compute(const om_kpi_input *in, om_report *r)
{
    memset(r, 0, sizeof *r);
    om_site_year *cur = NULL, *prev = NULL;
    r->year = in->year;
    r->policy = in->policy;
    r->organisation = in->policy->organisation;
    r->bills = in->bills;
    if (sorted_inputs(in, r) < 0)
        goto fail;
    r->nsites = in->nsites;
    r->sites = calloc(in->nsites ? in->nsites : 1, sizeof *r->sites);
    r->nmonths = in->nsites * 12;
    r->months = calloc(r->nmonths ? r->nmonths : 1, sizeof *r->months);
    cur = calloc(in->nsites ? in->nsites : 1, sizeof *cur);
    prev = calloc(in->nsites ? in->nsites : 1, sizeof *prev);
    if (!r->sites || !r->months || !cur || !prev)
        goto fail;
    for (size_t s = 0; s < in->nsites; s++) {
        r->sites[s].site = &in->sites[s];
        for (unsigned m = 0; m < 12; m++) {
            r->months[s * 12 + m].site = s;
            r->months[s * 12 + m].month = m + 1;
        }
    }
    int factor_prev = in->policy->restate_previous_year ? in->year : in->year - 1;
    if (om_kpi_site_years(in, r, in->year, in->year, cur, r->months, &r->bill_months,
                          &r->nbill_months) < 0 ||
        om_kpi_site_years(in, r, in->year - 1, factor_prev, prev, NULL, NULL, NULL) < 0)
        goto fail;
    for (size_t i = 0; i < r->nmonths; i++)
        r->provisional |= r->months[i].provisional;
    for (size_t s = 0; s < r->nsites; s++)
        copy_year(&r->sites[s], &cur[s], &prev[s]);
    for (int k = 0; k < OM_KPI__COUNT; k++) {
        om_kpi *kpi = &r->kpis[k];
        kpi->id = (om_kpi_id)k;
        kpi->key = kpi_meta[k].key;
        kpi->label = kpi_meta[k].label;
        kpi->unit = kpi_meta[k].unit;
        kpi->hkex = kpi_meta[k].hkex;
        kpi->previous_restated = in->policy->restate_previous_year;
        if (om_kpi_compute_figure(in, r->nsites, cur, kpi->id, &kpi->current) < 0 ||
            om_kpi_compute_figure(in, r->nsites, prev, kpi->id, &kpi->previous) < 0)
            goto fail;
    }
    if (om_kpi_collect_factors(r) < 0 || om_kpi_group_events(r) < 0 ||
        om_kpi_decompose(r, cur, prev) < 0 || om_kpi_targets(in, r, cur, prev) < 0 ||
        om_kpi_write_notes(in, r) < 0 || om_kpi_write_flags(in, r) < 0)
        goto fail;
    free(cur);
    free(prev);
    return 0;
fail:
    free(cur);
    free(prev);
    om_report_free(r);
    errno = ENOMEM;
    return -1;
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

void om_report_free(om_report *r)
{
    if (!r)
        return;
    for (int k = 0; k < OM_KPI__COUNT; k++) {
        free(r->kpis[k].current.covered);
        free(r->kpis[k].previous.covered);
    }
    for (size_t s = 0; r->sites && s < r->nsites; s++)
        free_lines(r->sites[s].flags, r->sites[s].nflags);
    free(r->sites);
    free(r->months);
    free(r->rows);
    free(r->events);
    free(r->event_listed);
    free(r->groups);
    free(r->factors);
    free_lines(r->notes, r->nnotes);
    free(r->bill_months);
    free(r->targets);
    for (int d = 0; d < OM_REPORT_DECOMPOSED; d++)
        free(r->decomposition[d].text);
    memset(r, 0, sizeof *r);
}

const om_kpi *om_report_kpi(const om_report *r, const char *key)
{
    for (int k = 0; k < OM_KPI__COUNT; k++)
        if (strcmp(r->kpis[k].key, key) == 0)
            return &r->kpis[k];
    return NULL;
}

bool om_kpi_change_pct(const om_kpi *k, double *pct)
{
    if (!k->current.has_value || !k->previous.has_value || k->previous.value == 0)
        return false;
    *pct = (k->current.value - k->previous.value) / k->previous.value * 100.0;
    return true;
}

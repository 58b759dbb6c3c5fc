/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_csv.c - the report as one tidy CSV table, rounded as shown.
 *
 * One row per figure: section, key, site, period, value, unit, text. A
 * spreadsheet filters it by section; a script reads it without knowing the
 * layout of the Markdown tables. RFC 4180 quoting.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kpi_private.h"
#include "officemeter/base/isotime.h"

static void field(FILE *out, const char *s, bool last)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

static void row(FILE *out, const char *section, const char *key, const char *site,
                const char *period, const char *value, const char *unit, const char *text)
{
    field(out, section, false);
    field(out, key, false);
    field(out, site, false);
    field(out, period, false);
    field(out, value, false);
    field(out, unit, false);
    field(out, text, true);
}

static void fmt(bool has, double v, int decimals, char *buf, size_t len)
{
    if (has)
        snprintf(buf, len, "%.*f", decimals, v);
    else
        buf[0] = '\0';
}

static void kpi_rows(FILE *out, const om_report *r)
{
    char cur[16], prev[16], y[24];
    snprintf(cur, sizeof cur, "%d", r->year);
    snprintf(prev, sizeof prev, "%d", r->year - 1);
    for (int i = 0; i < OM_KPI__COUNT; i++) {
        const om_kpi *k = &r->kpis[i];
        char v[48], sites[512] = "", share[32];
        om_kpi_format(k, k->current.has_value, k->current.value, v, sizeof v);
        row(out, "kpi", k->key, "", cur, k->current.has_value ? v : "", k->unit, k->label);
        om_kpi_format(k, k->previous.has_value, k->previous.value, v, sizeof v);
        row(out, "kpi", k->key, "", prev, k->previous.has_value ? v : "", k->unit,
            k->previous_restated ? "restated with the current year's factors" : "");
        double pct;
        bool has = om_kpi_change_pct(k, &pct);
        fmt(has, pct, 1, v, sizeof v);
        row(out, "kpi_change", k->key, "", cur, v, "%", "");
        for (size_t s = 0; s < r->nsites; s++)
            if (k->current.covered[s]) {
                if (sites[0])
                    strncat(sites, " ", sizeof sites - strlen(sites) - 1);
                strncat(sites, r->sites[s].site->site, sizeof sites - strlen(sites) - 1);
            }
        bool any = k->current.ncovered > 0;
        snprintf(y, sizeof y, "%zu", k->current.ncovered);
        row(out, "kpi_coverage_sites", k->key, "", cur, y, "sites", sites);
        fmt(any, k->current.area_share * 100, 1, share, sizeof share);
        row(out, "kpi_coverage_floor_area", k->key, "", cur, share, "%", "");
        fmt(any, k->current.time_share * 100, 1, share, sizeof share);
        row(out, "kpi_coverage_time", k->key, "", cur, share, "%", "");
        fmt(any, k->current.estimated_share * 100, 1, share, sizeof share);
        row(out, "kpi_estimated", k->key, "", cur, share, "%", "");
        fmt(any, k->current.metered_share * 100, 1, share, sizeof share);
        row(out, "kpi_source_metered", k->key, "", cur, share, "%", "");
        fmt(any, k->current.billed_share * 100, 1, share, sizeof share);
        row(out, "kpi_source_billed", k->key, "", cur, share, "%", "");
    }
}

static void utility_rows(FILE *out, const char *section, const char *site, const char *period,
                         const char *what, const om_site_utility *u, double scale,
                         const char *unit)
{
    char v[48], key[64];
    bool has = om_site_utility_has(u);
    int dec = unit[0] == 'M' ? 3 : 2;
    fmt(has, u->value / scale, dec, v, sizeof v);
    row(out, section, what, site, period, v, unit, "");
    snprintf(key, sizeof key, "%s_actual_data", what);
    fmt(has && u->expected_ms + u->billed_ms > 0, 100.0 * om_utility_share(u, false), 1, v,
        sizeof v);
    row(out, section, key, site, period, v, "%", "");
    snprintf(key, sizeof key, "%s_estimated", what);
    fmt(has, 100.0 * om_utility_share(u, true), 1, v, sizeof v);
    row(out, section, key, site, period, v, "%", "");
    snprintf(key, sizeof key, "%s_billed", what);
    fmt(has, u->billed / scale, dec, v, sizeof v);
    row(out, section, key, site, period, v, unit, "");
}

static void site_rows(FILE *out, const om_report *r)
{
    char cur[16], v[48];
    snprintf(cur, sizeof cur, "%d", r->year);
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        const char *id = rs->site->site;
        utility_rows(out, "site", id, cur, "electricity", &rs->elec, 1000, "MWh");
        fmt(rs->elec.metered, rs->elec.sub_value / 1000, 3, v, sizeof v);
        row(out, "site", "sub_meters", id, cur, v, "MWh", "");
        utility_rows(out, "site", id, cur, "water", &rs->water, 1, "t");
        fmt(rs->ghg.has_location, rs->ghg.location_t, 2, v, sizeof v);
        row(out, "site", "ghg_scope2_location", id, cur, v, "tCO2e", "");
        fmt(rs->ghg.has_location, rs->ghg.market_t, 2, v, sizeof v);
        row(out, "site", "ghg_scope2_market", id, cur, v, "tCO2e", "");
        fmt(true, rs->ghg.instruments_mwh, 2, v, sizeof v);
        row(out, "site", "instruments", id, cur, v, "MWh", "");
        fmt(true, rs->area_m2, 1, v, sizeof v);
        row(out, "site", "floor_area", id, cur, v, "m2",
            r->policy->intensity_area == OM_AREA_TIME_WEIGHTED ? "time-weighted" : "year end");
        if (rs->has_headcount)
            snprintf(v, sizeof v, "%u", rs->headcount);
        else
            v[0] = '\0';
        row(out, "site", "headcount", id, cur, v, "employees", "");
        for (size_t i = 0; i < rs->nflags; i++)
            row(out, "site_flag", "", id, cur, "", "", rs->flags[i]);
    }
}

static void month_rows(FILE *out, const om_report *r)
{
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        const char *id = r->sites[m->site].site->site;
        char label[16], v[48];
        snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
        utility_rows(out, "month", id, label, "electricity", &m->elec, 1000, "MWh");
        fmt(m->elec.metered, m->elec.sub_value / 1000, 3, v, sizeof v);
        row(out, "month", "sub_meters", id, label, v, "MWh",
            m->sub_exceeds_main ? "sub-meters exceed main" : "");
        utility_rows(out, "month", id, label, "water", &m->water, 1, "t");
        char src[96];
        om_month_sources(m, src, sizeof src);
        row(out, "month", "source", id, label, "", "", src);
        if (m->provisional)
            row(out, "month", "provisional", id, label, "", "", "not over when computed");
    }
}

static void factor_rows(FILE *out, const om_report *r)
{
    for (size_t i = 0; i < r->nfactors; i++) {
        const om_report_factor *rf = &r->factors[i];
        const om_factor *f = rf->factor;
        char v[48], period[32], date[16], text[1024];
        snprintf(v, sizeof v, "%g", f->value);
        if (rf->current && rf->previous)
            snprintf(period, sizeof period, "%d %d", r->year, r->year - 1);
        else
            snprintf(period, sizeof period, "%d", rf->current ? r->year : r->year - 1);
        snprintf(text, sizeof text, "%s %s activity year %d; %s; %s; published %s; %s", f->region,
                 om_factor_kind_name(f->kind), f->activity_year, rf->used_for, f->source,
                 om_format_date(f->published, date, sizeof date),
                 f->verified ? "verified" : "unverified");
        row(out, "factor", f->id, "", period, v, om_factor_unit_name(f->unit), text);
    }
}

static void target_rows(FILE *out, const om_report *r)
{
    char v[48], by[16], cur[16], ty[16], text[256];
    snprintf(cur, sizeof cur, "%d", r->year);
    for (size_t i = 0; i < r->ntargets; i++) {
        const om_report_target *t = &r->targets[i];
        const om_kpi *k = &r->kpis[t->kpi];
        snprintf(by, sizeof by, "%d", t->target->baseline_year);
        snprintf(ty, sizeof ty, "%d", t->target->target_year);
        om_kpi_format(k, t->has_baseline, t->baseline, v, sizeof v);
        row(out, "target_baseline", k->key, "", by, t->has_baseline ? v : "", k->unit,
            t->baseline_restated ? "restated with the current year's factors" : "");
        om_kpi_format(k, t->has_current, t->current, v, sizeof v);
        snprintf(text, sizeof text, "%s", om_target_status_name(t->status));
        row(out, "target_current", k->key, "", cur, t->has_current ? v : "", k->unit, text);
        fmt(t->has_baseline && t->has_current && t->baseline != 0, t->change_pct, 1, v, sizeof v);
        row(out, "target_change", k->key, "", cur, v, "%", "since the baseline");
        om_kpi_format(k, t->has_baseline, t->path, v, sizeof v);
        snprintf(text, sizeof text, "straight-line path: %.1f%% below the baseline by %d",
                 t->path_reduction_pct, r->year);
        row(out, "target_path", k->key, "", cur, t->has_baseline ? v : "", k->unit, text);
        om_kpi_format(k, t->has_baseline, t->target_value, v, sizeof v);
        snprintf(text, sizeof text, "%s, %.1f%% below the %d baseline",
                 t->target->type == OM_TARGET_INTENSITY ? "intensity" : "absolute",
                 t->target->reduction_pct, t->target->baseline_year);
        row(out, "target", k->key, "", ty, t->has_baseline ? v : "", k->unit, text);
        for (size_t m = 0; m < t->target->nmilestones; m++) {
            char my[16];
            snprintf(my, sizeof my, "%d", t->target->milestones[m].year);
            fmt(true, t->target->milestones[m].reduction_pct, 1, v, sizeof v);
            row(out, "target_milestone", k->key, "", my, v, "%", "reduction from the baseline");
        }
    }
}

static void change_rows(FILE *out, const om_report *r)
{
    char cur[16], v[48], text[128];
    snprintf(cur, sizeof cur, "%d", r->year);
    for (int i = 0; i < OM_REPORT_DECOMPOSED; i++) {
        const om_decomposition *d = &r->decomposition[i];
        const om_kpi *k = &r->kpis[d->kpi];
        if (!d->has)
            continue;
        int dec = om_kpi_decimals(k);
        long long units[OM_EFFECT__COUNT], points[OM_EFFECT__COUNT];
        double pts[OM_EFFECT__COUNT];
        for (int e = 0; e < OM_EFFECT__COUNT; e++)
            pts[e] = d->effects[e] / d->previous * 100;
        om_round_to_total(d->effects, OM_EFFECT__COUNT, d->change, dec, units);
        om_round_to_total(pts, OM_EFFECT__COUNT, d->change / d->previous * 100, 1, points);
        double scale = pow(10, dec);
        snprintf(v, sizeof v, "%.*f", dec, (double)llround(d->change * scale) / scale);
        snprintf(text, sizeof text, "%.1f%% against %d",
                 (double)llround(d->change / d->previous * 1000) / 10, r->year - 1);
        row(out, "change", k->key, "", cur, v, k->unit, text);
        for (int e = 0; e < OM_EFFECT__COUNT; e++) {
            if (!d->applies[e])
                continue;
            snprintf(v, sizeof v, "%.*f", dec, (double)units[e] / pow(10, dec));
            snprintf(text, sizeof text, "%s: %.1f points", om_effect_name((om_effect_kind)e),
                     (double)points[e] / 10);
            row(out, "change_effect", k->key, "", cur, v, k->unit, text);
        }
        if (d->has_headcount) {
            snprintf(v, sizeof v, "%.*f", dec,
                     (double)llround(d->area_headcount * pow(10, dec)) / pow(10, dec));
            snprintf(text, sizeof text, "of the floor area: headcount: %.1f points",
                     (double)llround(d->area_headcount / d->previous * 1000) / 10);
            row(out, "change_effect", k->key, "", cur, v, k->unit, text);
        }
        row(out, "change_text", k->key, "", cur, "", "", d->text);
    }
}

static void approval_rows(FILE *out, const om_report *r)
{
    const om_report_approval *a = r->approval;
    char y[16], text[512];
    if (!a)
        return;
    snprintf(y, sizeof y, "%d", r->year);
    snprintf(text, sizeof text, "approved on %s by %s", a->approved_at, a->approved_by);
    row(out, "approval", a->restated ? "restated" : "approved", "", y, a->sha256, "sha256", text);
    for (size_t i = 0; i < a->nreasons; i++)
        row(out, "restatement_reason", "", "", y, "", "", a->reasons[i]);
    for (size_t i = 0; i < a->nfigures; i++) {
        snprintf(text, sizeof text, "approved %s", a->figures[i].approved);
        row(out, "restatement_figure", a->figures[i].what, "", y, a->figures[i].now, "", text);
    }
}

int om_report_write_csv(const om_report *r, FILE *out)
{
    row(out, "section", "key", "site", "period", "value", "unit", "text");
    approval_rows(out, r);
    kpi_rows(out, r);
    target_rows(out, r);
    change_rows(out, r);
    site_rows(out, r);
    month_rows(out, r);
    factor_rows(out, r);
    for (size_t i = 0; i < r->nnotes; i++)
        row(out, "note", "", "", "", "", "", r->notes[i]);
    return ferror(out) ? -1 : 0;
}

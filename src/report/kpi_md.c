/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_md.c - the report as Markdown, for people: rounded as shown, one
 * table per section (KPIs, sites, months, factors), then the notes and
 * each site's estimates and flags.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kpi_private.h"
#include "officemeter/base/isotime.h"

int om_kpi_decimals(const om_kpi *k)
{
    if (strstr(k->unit, "/m²"))
        return 4;
    if (strstr(k->unit, "/employee"))
        return 3;
    return 2;
}

void om_kpi_format(const om_kpi *k, bool has, double v, char *buf, size_t len)
{
    if (!has)
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, "%.*f", om_kpi_decimals(k), v);
}

static void fmt_opt(bool has, double v, int decimals, char *buf, size_t len)
{
    if (!has)
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, "%.*f", decimals, v);
}

static void fmt_pct(bool has, double share, char *buf, size_t len)
{
    fmt_opt(has, share * 100, 1, buf, len);
    if (has)
        strncat(buf, "%", len - strlen(buf) - 1);
}

/* A table cell: pipes would break the table. */
static void cell(FILE *out, const char *s)
{
    fputs(" ", out);
    for (; *s; s++)
        fputs(*s == '|' ? "\\|" : (char[]){*s, 0}, out);
    fputs(" |", out);
}

static void kpi_table(FILE *out, const om_report *r)
{
    fprintf(out, "## KPIs (HKEX ESG Reporting Code)\n\n");
    fprintf(out, "| KPI | HKEX | Unit | %d | %d%s | Change | Sites | Floor area | "
                 "Time with data | Metered | Billed | Estimated |\n",
            r->year, r->year - 1, r->policy->restate_previous_year ? " (restated)" : "");
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < OM_KPI__COUNT; i++) {
        const om_kpi *k = &r->kpis[i];
        char cur[32], prev[32], chg[32], sites[32], area[32], time[32], est[32], met[32],
            bil[32];
        double pct;
        bool has_pct = om_kpi_change_pct(k, &pct);
        om_kpi_format(k, k->current.has_value, k->current.value, cur, sizeof cur);
        om_kpi_format(k, k->previous.has_value, k->previous.value, prev, sizeof prev);
        fmt_opt(has_pct, pct, 1, chg, sizeof chg);
        if (has_pct)
            strcat(chg, "%");
        snprintf(sites, sizeof sites, "%zu/%zu", k->current.ncovered, r->nsites);
        bool any = k->current.ncovered > 0;
        fmt_pct(any, k->current.area_share, area, sizeof area);
        fmt_pct(any, k->current.time_share, time, sizeof time);
        fmt_pct(any, k->current.estimated_share, est, sizeof est);
        fmt_pct(any, k->current.metered_share, met, sizeof met);
        fmt_pct(any, k->current.billed_share, bil, sizeof bil);
        fprintf(out, "|");
        cell(out, k->label);
        cell(out, k->hkex[0] ? k->hkex : "–");
        cell(out, k->unit);
        cell(out, cur);
        cell(out, prev);
        cell(out, chg);
        cell(out, sites);
        cell(out, area);
        cell(out, time);
        cell(out, met);
        cell(out, bil);
        cell(out, est);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void share_cell(FILE *out, const om_site_utility *u, bool estimated)
{
    char buf[32];
    fmt_pct(om_site_utility_has(u), om_utility_share(u, estimated), buf, sizeof buf);
    cell(out, buf);
}

static void site_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Sites (%d)\n\n", r->year);
    fprintf(out, "| Site | Time zone | Grid region | Electricity MWh | Sub-meters MWh | Water t | "
                 "Scope 2 location tCO2e | Scope 2 market tCO2e | Instruments MWh | Floor area m² | "
                 "Headcount | Electricity data | Water data | Electricity estimated | "
                 "Water estimated | Electricity billed MWh | Water billed t |\n");
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                 "---:|\n");
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        char e[32], sub[32], w[32], loc[32], mkt[32], ins[32], area[32], heads[32], eb[32],
            wb[32];
        fmt_opt(rs->elec.covered, rs->elec.value / 1000, 2, e, sizeof e);
        fmt_opt(rs->elec.metered, rs->elec.sub_value / 1000, 2, sub, sizeof sub);
        fmt_opt(rs->water.covered, rs->water.value, 2, w, sizeof w);
        fmt_opt(rs->ghg.has_location, rs->ghg.location_t, 2, loc, sizeof loc);
        fmt_opt(rs->ghg.has_location, rs->ghg.market_t, 2, mkt, sizeof mkt);
        fmt_opt(true, rs->ghg.instruments_mwh, 2, ins, sizeof ins);
        fmt_opt(true, rs->area_m2, 1, area, sizeof area);
        fmt_opt(om_site_utility_has(&rs->elec), rs->elec.billed / 1000, 2, eb, sizeof eb);
        fmt_opt(om_site_utility_has(&rs->water), rs->water.billed, 2, wb, sizeof wb);
        if (rs->has_headcount)
            snprintf(heads, sizeof heads, "%u", rs->headcount);
        else
            snprintf(heads, sizeof heads, "–");
        fprintf(out, "|");
        cell(out, rs->site->site);
        cell(out, rs->site->timezone);
        cell(out, rs->site->grid_region);
        cell(out, e);
        cell(out, sub);
        cell(out, w);
        cell(out, loc);
        cell(out, mkt);
        cell(out, ins);
        cell(out, area);
        cell(out, heads);
        share_cell(out, &rs->elec, false);
        share_cell(out, &rs->water, false);
        share_cell(out, &rs->elec, true);
        share_cell(out, &rs->water, true);
        cell(out, eb);
        cell(out, wb);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void month_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Monthly (%d, each site's local months)\n\n", r->year);
    fprintf(out, "| Site | Month | Electricity MWh | Sub-meters MWh | Water t | Electricity data | "
                 "Electricity estimated | Water data | Source | Flags |\n");
    fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n");
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        char label[16], e[32], sub[32], w[32], flags[64] = "", src[96];
        snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
        fmt_opt(om_site_utility_has(&m->elec), m->elec.value / 1000, 3, e, sizeof e);
        fmt_opt(m->elec.metered, m->elec.sub_value / 1000, 3, sub, sizeof sub);
        fmt_opt(om_site_utility_has(&m->water), m->water.value, 2, w, sizeof w);
        om_month_sources(m, src, sizeof src);
        if (m->sub_exceeds_main)
            strcat(flags, "sub-meters exceed main");
        if (m->provisional)
            strcat(flags, flags[0] ? "; provisional" : "provisional");
        fprintf(out, "|");
        cell(out, r->sites[m->site].site->site);
        cell(out, label);
        cell(out, e);
        cell(out, sub);
        cell(out, w);
        share_cell(out, &m->elec, false);
        share_cell(out, &m->elec, true);
        share_cell(out, &m->water, false);
        cell(out, src);
        cell(out, flags[0] ? flags : "–");
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void factor_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Emission factors applied\n\n");
    fprintf(out, "| Id | Region | Kind | Value | Unit | Activity year | Applied to | Used for | "
                 "Source | Published | Verification |\n");
    fprintf(out, "|---|---|---|---:|---|---:|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nfactors; i++) {
        const om_report_factor *rf = &r->factors[i];
        const om_factor *f = rf->factor;
        char value[32], year[16], applied[32], date[16];
        snprintf(value, sizeof value, "%g", f->value);
        snprintf(year, sizeof year, "%d", f->activity_year);
        if (rf->current && rf->previous)
            snprintf(applied, sizeof applied, "%d, %d", r->year, r->year - 1);
        else
            snprintf(applied, sizeof applied, "%d", rf->current ? r->year : r->year - 1);
        fprintf(out, "|");
        cell(out, f->id);
        cell(out, f->region);
        cell(out, om_factor_kind_name(f->kind));
        cell(out, value);
        cell(out, om_factor_unit_name(f->unit));
        cell(out, year);
        cell(out, applied);
        cell(out, rf->used_for);
        cell(out, f->source);
        cell(out, om_format_date(f->published, date, sizeof date));
        cell(out, f->verified ? "verified" : "unverified");
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void approval_section(FILE *out, const om_report *r)
{
    const om_report_approval *a = r->approval;
    if (!a)
        return;
    if (!a->restated) {
        fprintf(out, "**Approved** on %s by %s (SHA-256 %s); this report is the approved "
                     "one.\n\n",
                a->approved_at, a->approved_by, a->sha256);
        return;
    }
    fprintf(out, "## Restatement\n\n");
    fprintf(out, "**This report restates the report of %d approved on %s by %s** (SHA-256 %s; "
                 "this one %s).\n\n",
            r->year, a->approved_at, a->approved_by, a->sha256, a->current_sha256);
    fprintf(out, "Why:\n\n");
    for (size_t i = 0; i < a->nreasons; i++)
        fprintf(out, "- %s\n", a->reasons[i]);
    if (a->nreasons == 0)
        fprintf(out, "- no input file changed: the figures moved with the readings or the "
                     "program\n");
    if (a->nfigures == 0) {
        fprintf(out, "\nNo figure changed: the differences are in the notes and flags below.\n\n");
        return;
    }
    fprintf(out, "\n| Figure | Approved | Now |\n|---|---:|---:|\n");
    for (size_t i = 0; i < a->nfigures; i++) {
        fprintf(out, "|");
        cell(out, a->figures[i].what);
        cell(out, a->figures[i].approved);
        cell(out, a->figures[i].now);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void target_table(FILE *out, const om_report *r)
{
    if (r->ntargets == 0)
        return;
    fprintf(out, "## Targets (HKEX A1.5, A2.3, A2.4)\n\n");
    fprintf(out, "| KPI | Unit | Type | Baseline year | Baseline | %d | Change since baseline | "
                 "Target year | Reduction | Target | Path for %d | Status |\n",
            r->year, r->year);
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < r->ntargets; i++) {
        const om_report_target *t = &r->targets[i];
        const om_kpi *k = &r->kpis[t->kpi];
        char by[16], base[48], cur[32], chg[32], ty[16], red[32], tv[32], path[32];
        snprintf(by, sizeof by, "%d", t->target->baseline_year);
        om_kpi_format(k, t->has_baseline, t->baseline, base, sizeof base);
        if (t->has_baseline && t->baseline_restated)
            strcat(base, " (restated)");
        om_kpi_format(k, t->has_current, t->current, cur, sizeof cur);
        fmt_opt(t->has_baseline && t->has_current && t->baseline != 0, t->change_pct, 1, chg,
                sizeof chg);
        if (strcmp(chg, "–") != 0)
            strcat(chg, "%");
        snprintf(ty, sizeof ty, "%d", t->target->target_year);
        snprintf(red, sizeof red, "%.1f%%", t->target->reduction_pct);
        om_kpi_format(k, t->has_baseline, t->target_value, tv, sizeof tv);
        om_kpi_format(k, t->has_baseline && t->status != OM_TARGET_NOT_STARTED, t->path, path,
                      sizeof path);
        fprintf(out, "|");
        cell(out, k->label);
        cell(out, k->unit);
        cell(out, t->target->type == OM_TARGET_INTENSITY ? "intensity" : "absolute");
        cell(out, by);
        cell(out, base);
        cell(out, cur);
        cell(out, chg);
        cell(out, ty);
        cell(out, red);
        cell(out, tv);
        cell(out, path);
        cell(out, om_target_status_name(t->status));
        fputc('\n', out);
    }
    fputc('\n', out);
    for (size_t i = 0; i < r->ntargets; i++) {
        const om_report_target *t = &r->targets[i];
        const om_kpi *k = &r->kpis[t->kpi];
        fprintf(out, "- %s: %s %.1f%% by %d from %d", k->key,
                t->target->type == OM_TARGET_INTENSITY ? "intensity down" : "down",
                t->target->reduction_pct, t->target->target_year, t->target->baseline_year);
        for (size_t m = 0; m < t->target->nmilestones; m++)
            fprintf(out, "%s%.1f%% by %d", m == 0 ? " (milestones: " : ", ",
                    t->target->milestones[m].reduction_pct, t->target->milestones[m].year);
        fprintf(out, "%s; the straight-line path asks %.1f%% by %d",
                t->target->nmilestones ? ")" : "", t->path_reduction_pct, r->year);
        if (t->has_baseline && t->baseline_ncovered != k->current.ncovered)
            fprintf(out, "; the baseline covers %zu sites, %d covers %zu", t->baseline_ncovered,
                    r->year, k->current.ncovered);
        fprintf(out, ".\n");
    }
    fputc('\n', out);
}

static void change_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Why it moved (%d against %d)\n\n", r->year, r->year - 1);
    fprintf(out, "| KPI | Unit | %d | %d | Change |", r->year - 1, r->year);
    static const char *const heads[OM_EFFECT__COUNT] = {
        "Sites added or removed", "Floor area", "Intensity per m²", "Emission factor"};
    for (int e = 0; e < OM_EFFECT__COUNT; e++)
        fprintf(out, " %s |", heads[e]);
    fprintf(out, " Of the floor area: headcount |");
    fprintf(out, "\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
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
        char a[32], b[32], c[64];
        snprintf(a, sizeof a, "%.*f", dec, d->previous);
        snprintf(b, sizeof b, "%.*f", dec, d->current);
        snprintf(c, sizeof c, "%.*f (%.1f%%)", dec,
                 (double)llround(d->change * pow(10, dec)) / pow(10, dec),
                 (double)llround(d->change / d->previous * 1000) / 10);
        fprintf(out, "|");
        cell(out, k->label);
        cell(out, k->unit);
        cell(out, a);
        cell(out, b);
        cell(out, c);
        for (int e = 0; e < OM_EFFECT__COUNT; e++) {
            char v[64];
            if (d->applies[e])
                snprintf(v, sizeof v, "%.*f (%.1f)", dec, (double)units[e] / pow(10, dec),
                         (double)points[e] / 10);
            else
                snprintf(v, sizeof v, "–");
            cell(out, v);
        }
        char h[64] = "–";
        if (d->has_headcount)
            snprintf(h, sizeof h, "%.*f (%.1f)", dec,
                     (double)llround(d->area_headcount * pow(10, dec)) / pow(10, dec),
                     (double)llround(d->area_headcount / d->previous * 1000) / 10);
        cell(out, h);
        fputc('\n', out);
    }
    fprintf(out, "\nEach effect in the KPI's unit, with its points of the change in brackets; "
                 "the effects add up to the change. The last column is the part of the floor-area "
                 "effect that the headcount explains, where sites declare one in both years.\n\n");
    for (int i = 0; i < OM_REPORT_DECOMPOSED; i++)
        if (r->decomposition[i].has)
            fprintf(out, "%s\n\n", r->decomposition[i].text);
}

int om_report_write_md(const om_report *r, FILE *out)
{
    fprintf(out, "# Annual ESG KPI report %d: %s\n\n", r->year, r->organisation);
    fprintf(out, "Built from monthly rollups of the sites' main meters%s. %s\n\n",
            r->nbill_months ? " and, where no main meter is in service, from bills" : "",
            r->provisional ? "**Provisional**: some months were not over when computed."
                           : "All months complete.");
    approval_section(out, r);
    kpi_table(out, r);
    target_table(out, r);
    change_table(out, r);
    site_table(out, r);
    month_table(out, r);
    factor_table(out, r);
    fprintf(out, "## Notes\n\n");
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "- %s\n", r->notes[i]);
    fprintf(out, "\n## Estimates and flags by site\n");
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        fprintf(out, "\n### %s (%s)\n\n", rs->site->site, rs->site->name);
        if (rs->nflags == 0)
            fprintf(out, "- none\n");
        for (size_t i = 0; i < rs->nflags; i++)
            fprintf(out, "- %s\n", rs->flags[i]);
    }
    return ferror(out) ? -1 : 0;
}

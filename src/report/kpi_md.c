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
                 "Time with data | Estimated |\n",
            r->year, r->year - 1, r->policy->restate_previous_year ? " (restated)" : "");
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < OM_KPI__COUNT; i++) {
        const om_kpi *k = &r->kpis[i];
        char cur[32], prev[32], chg[32], sites[32], area[32], time[32], est[32];
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
        cell(out, est);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void share_cell(FILE *out, const om_site_utility *u, bool estimated)
{
    char buf[32];
    double v = estimated ? (u->value > 0 ? u->estimated / u->value : 0)
                         : (u->expected_ms > 0 ? (double)u->actual_ms / (double)u->expected_ms : 0);
    fmt_pct(u->metered, v, buf, sizeof buf);
    cell(out, buf);
}

static void site_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Sites (%d)\n\n", r->year);
    fprintf(out, "| Site | Time zone | Grid region | Electricity MWh | Sub-meters MWh | Water t | "
                 "Scope 2 location tCO2e | Scope 2 market tCO2e | Instruments MWh | Floor area m² | "
                 "Headcount | Electricity data | Water data | Electricity estimated | "
                 "Water estimated |\n");
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        char e[32], sub[32], w[32], loc[32], mkt[32], ins[32], area[32], heads[32];
        fmt_opt(rs->elec.covered, rs->elec.value / 1000, 2, e, sizeof e);
        fmt_opt(rs->elec.metered, rs->elec.sub_value / 1000, 2, sub, sizeof sub);
        fmt_opt(rs->water.covered, rs->water.value, 2, w, sizeof w);
        fmt_opt(rs->ghg.has_location, rs->ghg.location_t, 2, loc, sizeof loc);
        fmt_opt(rs->ghg.has_location, rs->ghg.market_t, 2, mkt, sizeof mkt);
        fmt_opt(true, rs->ghg.instruments_mwh, 2, ins, sizeof ins);
        fmt_opt(true, rs->area_m2, 1, area, sizeof area);
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
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void month_table(FILE *out, const om_report *r)
{
    fprintf(out, "## Monthly (%d, each site's local months)\n\n", r->year);
    fprintf(out, "| Site | Month | Electricity MWh | Sub-meters MWh | Water t | Electricity data | "
                 "Electricity estimated | Water data | Flags |\n");
    fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        char label[16], e[32], sub[32], w[32], flags[64] = "";
        snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
        fmt_opt(m->elec.metered, m->elec.value / 1000, 3, e, sizeof e);
        fmt_opt(m->elec.metered, m->elec.sub_value / 1000, 3, sub, sizeof sub);
        fmt_opt(m->water.metered, m->water.value, 2, w, sizeof w);
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

int om_report_write_md(const om_report *r, FILE *out)
{
    fprintf(out, "# Annual ESG KPI report %d: %s\n\n", r->year, r->organisation);
    fprintf(out, "Built from monthly rollups of the sites' main meters. %s\n\n",
            r->provisional ? "**Provisional**: some months were not over when computed."
                           : "All months complete.");
    kpi_table(out, r);
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

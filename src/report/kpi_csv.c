/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_csv.c - the report as one tidy CSV table, rounded as shown.
 *
 * One row per figure: section, key, site, period, value, unit, text. A
 * spreadsheet filters it by section; a script reads it without knowing the
 * layout of the Markdown tables. RFC 4180 quoting.
 */
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
    }
}

static void utility_rows(FILE *out, const char *section, const char *site, const char *period,
                         const char *what, const om_site_utility *u, double scale,
                         const char *unit)
{
    char v[48], key[64];
    fmt(u->metered, u->value / scale, unit[0] == 'M' ? 3 : 2, v, sizeof v);
    row(out, section, what, site, period, v, unit, "");
    snprintf(key, sizeof key, "%s_actual_data", what);
    fmt(u->metered && u->expected_ms > 0,
        u->expected_ms ? 100.0 * (double)u->actual_ms / (double)u->expected_ms : 0, 1, v,
        sizeof v);
    row(out, section, key, site, period, v, "%", "");
    snprintf(key, sizeof key, "%s_estimated", what);
    fmt(u->metered, u->value > 0 ? 100.0 * u->estimated / u->value : 0, 1, v, sizeof v);
    row(out, section, key, site, period, v, "%", "");
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

int om_report_write_csv(const om_report *r, FILE *out)
{
    row(out, "section", "key", "site", "period", "value", "unit", "text");
    kpi_rows(out, r);
    site_rows(out, r);
    month_rows(out, r);
    factor_rows(out, r);
    for (size_t i = 0; i < r->nnotes; i++)
        row(out, "note", "", "", "", "", "", r->notes[i]);
    return ferror(out) ? -1 : 0;
}

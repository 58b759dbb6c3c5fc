/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_xlsx.c - the annual report as a workbook: one sheet for the KPI
 * table, one per-site, one monthly, one for the factors, notes and each
 * site's estimates and flags.
 *
 * A missing figure (a KPI with no covered site) is an empty cell, not a
 * zero: the two mean different things in a disclosure.
 */
#include "officemeter/report/kpi_xlsx.h"

#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "kpi_private.h"
#include "officemeter/base/isotime.h"

typedef struct {
    lxw_workbook *wb;
    lxw_format *head, *wrap, *pct, *dec[5];
} book;

static lxw_format *number_format(lxw_workbook *wb, const char *pattern)
{
    lxw_format *f = workbook_add_format(wb);
    format_set_num_format(f, pattern);
    return f;
}

static void formats(book *b)
{
    b->head = workbook_add_format(b->wb);
    format_set_bold(b->head);
    format_set_text_wrap(b->head);
    format_set_align(b->head, LXW_ALIGN_VERTICAL_TOP);
    b->wrap = workbook_add_format(b->wb);
    format_set_text_wrap(b->wrap);
    format_set_align(b->wrap, LXW_ALIGN_VERTICAL_TOP);
    b->pct = number_format(b->wb, "0.0%");
    const char *patterns[5] = {"0", "0.0", "0.00", "0.000", "0.0000"};
    for (int i = 0; i < 5; i++)
        b->dec[i] = number_format(b->wb, patterns[i]);
}

static void header(lxw_worksheet *ws, const book *b, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        worksheet_write_string(ws, 0, (lxw_col_t)i, cols[i], b->head);
    worksheet_freeze_panes(ws, 1, 0);
}

static void num(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, bool has, double v, lxw_format *f)
{
    if (has)
        worksheet_write_number(ws, r, c, v, f);
}

static void kpi_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "KPIs");
    char cur[32], prev[48];
    snprintf(cur, sizeof cur, "%d", r->year);
    snprintf(prev, sizeof prev, "%d%s", r->year - 1,
             r->policy->restate_previous_year ? " (restated)" : "");
    const char *cols[] = {"Key", "KPI", "HKEX", "Unit", cur, prev, "Change %", "Sites covered",
                          "Floor area covered", "Time with actual data", "Estimated",
                          "Denominator", "Metered", "Billed"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 0, 34, NULL);
    worksheet_set_column(ws, 1, 1, 46, NULL);
    worksheet_set_column(ws, 4, 13, 14, NULL);
    for (int i = 0; i < OM_KPI__COUNT; i++) {
        const om_kpi *k = &r->kpis[i];
        lxw_row_t row = (lxw_row_t)i + 1;
        lxw_format *f = b->dec[om_kpi_decimals(k)];
        double pct;
        char sites[512] = "";
        for (size_t s = 0; s < r->nsites; s++)
            if (k->current.covered[s]) {
                if (sites[0])
                    strncat(sites, ", ", sizeof sites - strlen(sites) - 1);
                strncat(sites, r->sites[s].site->site, sizeof sites - strlen(sites) - 1);
            }
        bool any = k->current.ncovered > 0;
        worksheet_write_string(ws, row, 0, k->key, NULL);
        worksheet_write_string(ws, row, 1, k->label, NULL);
        worksheet_write_string(ws, row, 2, k->hkex, NULL);
        worksheet_write_string(ws, row, 3, k->unit, NULL);
        num(ws, row, 4, k->current.has_value, k->current.value, f);
        num(ws, row, 5, k->previous.has_value, k->previous.value, f);
        bool has_pct = om_kpi_change_pct(k, &pct); /* before pct is read */
        num(ws, row, 6, has_pct, pct, b->dec[1]);
        worksheet_write_string(ws, row, 7, sites, NULL);
        num(ws, row, 8, any, k->current.area_share, b->pct);
        num(ws, row, 9, any, k->current.time_share, b->pct);
        num(ws, row, 10, any, k->current.estimated_share, b->pct);
        num(ws, row, 11, k->current.denominator > 0, k->current.denominator, b->dec[1]);
        num(ws, row, 12, any, k->current.metered_share, b->pct);
        num(ws, row, 13, any, k->current.billed_share, b->pct);
    }
}

static void share(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const om_site_utility *u,
                  bool estimated, lxw_format *f)
{
    num(ws, row, col, om_site_utility_has(u), om_utility_share(u, estimated), f);
}

static void site_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Sites");
    const char *cols[] = {"Site", "Name", "Time zone", "Grid region", "Electricity MWh",
                          "Sub-meters MWh", "Water t", "Scope 2 location tCO2e",
                          "Scope 2 market tCO2e", "Scope 3 cat. 3 tCO2e", "Scope 3 water tCO2e",
                          "Instruments MWh", "Floor area m²", "Headcount", "Electricity data",
                          "Water data", "Electricity estimated", "Water estimated",
                          "Electricity billed MWh", "Water billed t"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 3, 16, NULL);
    worksheet_set_column(ws, 4, 19, 13, NULL);
    for (size_t s = 0; s < r->nsites; s++) {
        const om_report_site *rs = &r->sites[s];
        lxw_row_t row = (lxw_row_t)s + 1;
        worksheet_write_string(ws, row, 0, rs->site->site, NULL);
        worksheet_write_string(ws, row, 1, rs->site->name, NULL);
        worksheet_write_string(ws, row, 2, rs->site->timezone, NULL);
        worksheet_write_string(ws, row, 3, rs->site->grid_region, NULL);
        num(ws, row, 4, rs->elec.covered, rs->elec.value / 1000, b->dec[3]);
        num(ws, row, 5, rs->elec.metered, rs->elec.sub_value / 1000, b->dec[3]);
        num(ws, row, 6, rs->water.covered, rs->water.value, b->dec[2]);
        num(ws, row, 7, rs->ghg.has_location, rs->ghg.location_t, b->dec[2]);
        num(ws, row, 8, rs->ghg.has_location, rs->ghg.market_t, b->dec[2]);
        num(ws, row, 9, rs->ghg.has_cat3, rs->ghg.scope3_cat3_t, b->dec[2]);
        num(ws, row, 10, rs->ghg.has_water3, rs->ghg.scope3_water_t, b->dec[2]);
        num(ws, row, 11, true, rs->ghg.instruments_mwh, b->dec[2]);
        num(ws, row, 12, true, rs->area_m2, b->dec[1]);
        num(ws, row, 13, rs->has_headcount, rs->headcount, b->dec[0]);
        share(ws, row, 14, &rs->elec, false, b->pct);
        share(ws, row, 15, &rs->water, false, b->pct);
        share(ws, row, 16, &rs->elec, true, b->pct);
        share(ws, row, 17, &rs->water, true, b->pct);
        num(ws, row, 18, om_site_utility_has(&rs->elec), rs->elec.billed / 1000, b->dec[3]);
        num(ws, row, 19, om_site_utility_has(&rs->water), rs->water.billed, b->dec[2]);
    }
}

static void month_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Monthly");
    const char *cols[] = {"Site", "Month", "Electricity MWh", "Sub-meters MWh", "Water t",
                          "Electricity data", "Electricity estimated", "Water data",
                          "Sub-meters exceed main", "Provisional", "Electricity billed MWh",
                          "Water billed t", "Source"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 12, 14, NULL);
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        lxw_row_t row = (lxw_row_t)i + 1;
        char label[16];
        snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
        worksheet_write_string(ws, row, 0, r->sites[m->site].site->site, NULL);
        worksheet_write_string(ws, row, 1, label, NULL);
        num(ws, row, 2, om_site_utility_has(&m->elec), m->elec.value / 1000, b->dec[3]);
        num(ws, row, 3, m->elec.metered, m->elec.sub_value / 1000, b->dec[3]);
        num(ws, row, 4, om_site_utility_has(&m->water), m->water.value, b->dec[2]);
        share(ws, row, 5, &m->elec, false, b->pct);
        share(ws, row, 6, &m->elec, true, b->pct);
        share(ws, row, 7, &m->water, false, b->pct);
        worksheet_write_string(ws, row, 8, m->sub_exceeds_main ? "yes" : "no", NULL);
        worksheet_write_string(ws, row, 9, m->provisional ? "yes" : "no", NULL);
        char src[96];
        om_month_sources(m, src, sizeof src);
        num(ws, row, 10, om_site_utility_has(&m->elec), m->elec.billed / 1000, b->dec[3]);
        num(ws, row, 11, om_site_utility_has(&m->water), m->water.billed, b->dec[2]);
        worksheet_write_string(ws, row, 12, src, NULL);
    }
}

static void target_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Targets");
    const char *cols[] = {"Key", "KPI", "Unit", "Type", "Baseline year", "Baseline",
                          "Baseline restated", "Value", "Change since baseline %",
                          "Target year", "Reduction %", "Target", "Path reduction %", "Path",
                          "Status"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 1, 34, NULL);
    worksheet_set_column(ws, 2, 14, 13, NULL);
    for (size_t i = 0; i < r->ntargets; i++) {
        const om_report_target *t = &r->targets[i];
        const om_kpi *k = &r->kpis[t->kpi];
        lxw_format *f = b->dec[om_kpi_decimals(k)];
        lxw_row_t row = (lxw_row_t)i + 1;
        worksheet_write_string(ws, row, 0, k->key, NULL);
        worksheet_write_string(ws, row, 1, k->label, NULL);
        worksheet_write_string(ws, row, 2, k->unit, NULL);
        worksheet_write_string(ws, row, 3,
                               t->target->type == OM_TARGET_INTENSITY ? "intensity" : "absolute",
                               NULL);
        worksheet_write_number(ws, row, 4, t->target->baseline_year, b->dec[0]);
        num(ws, row, 5, t->has_baseline, t->baseline, f);
        worksheet_write_string(ws, row, 6, t->baseline_restated ? "yes" : "no", NULL);
        num(ws, row, 7, t->has_current, t->current, f);
        num(ws, row, 8, t->has_baseline && t->has_current && t->baseline != 0, t->change_pct,
            b->dec[1]);
        worksheet_write_number(ws, row, 9, t->target->target_year, b->dec[0]);
        worksheet_write_number(ws, row, 10, t->target->reduction_pct, b->dec[1]);
        num(ws, row, 11, t->has_baseline, t->target_value, f);
        worksheet_write_number(ws, row, 12, t->path_reduction_pct, b->dec[1]);
        num(ws, row, 13, t->has_baseline && t->status != OM_TARGET_NOT_STARTED, t->path, f);
        worksheet_write_string(ws, row, 14, om_target_status_name(t->status), NULL);
    }
}

static void change_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Changes");
    const char *cols[] = {"Key", "KPI", "Unit", "Previous", "Value", "Change", "Change %",
                          "Sites added or removed", "Floor area", "Intensity per m²",
                          "Emission factor", "Of the floor area: headcount", "Explanation"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 1, 30, NULL);
    worksheet_set_column(ws, 2, 11, 13, NULL);
    worksheet_set_column(ws, 12, 12, 100, NULL);
    lxw_row_t row = 1;
    for (int i = 0; i < OM_REPORT_DECOMPOSED; i++) {
        const om_decomposition *d = &r->decomposition[i];
        const om_kpi *k = &r->kpis[d->kpi];
        if (!d->has)
            continue;
        lxw_format *f = b->dec[om_kpi_decimals(k)];
        worksheet_write_string(ws, row, 0, k->key, NULL);
        worksheet_write_string(ws, row, 1, k->label, NULL);
        worksheet_write_string(ws, row, 2, k->unit, NULL);
        worksheet_write_number(ws, row, 3, d->previous, f);
        worksheet_write_number(ws, row, 4, d->current, f);
        worksheet_write_number(ws, row, 5, d->change, f);
        num(ws, row, 6, d->previous != 0, d->change / d->previous * 100, b->dec[1]);
        for (int e = 0; e < OM_EFFECT__COUNT; e++)
            num(ws, row, (lxw_col_t)(7 + e), d->applies[e], d->effects[e], f);
        num(ws, row, 11, d->has_headcount, d->area_headcount, f);
        worksheet_write_string(ws, row, 12, d->text, b->wrap);
        row++;
    }
}

static void approval_sheet(book *b, const om_report *r)
{
    const om_report_approval *a = r->approval;
    if (!a)
        return;
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Approval");
    const char *cols[] = {"Figure", "Approved", "Now"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 0, 50, NULL);
    worksheet_set_column(ws, 1, 2, 24, NULL);
    lxw_row_t row = 1;
    char text[512];
    snprintf(text, sizeof text, "%s: approved on %s by %s, SHA-256 %s",
             a->restated ? "Restatement" : "Approved", a->approved_at, a->approved_by, a->sha256);
    worksheet_write_string(ws, row++, 0, text, NULL);
    for (size_t i = 0; i < a->nreasons; i++)
        worksheet_write_string(ws, row++, 0, a->reasons[i], NULL);
    for (size_t i = 0; i < a->nfigures; i++, row++) {
        worksheet_write_string(ws, row, 0, a->figures[i].what, NULL);
        worksheet_write_string(ws, row, 1, a->figures[i].approved, NULL);
        worksheet_write_string(ws, row, 2, a->figures[i].now, NULL);
    }
}

static void notes_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Factors and notes");
    const char *cols[] = {"Factor", "Region", "Kind", "Value", "Unit", "Activity year",
                          "Applied to", "Used for", "Source", "Published", "Verification"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 0, 24, NULL);
    worksheet_set_column(ws, 1, 7, 14, NULL);
    worksheet_set_column(ws, 8, 8, 60, NULL);
    lxw_row_t row = 1;
    for (size_t i = 0; i < r->nfactors; i++, row++) {
        const om_report_factor *rf = &r->factors[i];
        const om_factor *f = rf->factor;
        char applied[32], date[16];
        if (rf->current && rf->previous)
            snprintf(applied, sizeof applied, "%d, %d", r->year, r->year - 1);
        else
            snprintf(applied, sizeof applied, "%d", rf->current ? r->year : r->year - 1);
        worksheet_write_string(ws, row, 0, f->id, NULL);
        worksheet_write_string(ws, row, 1, f->region, NULL);
        worksheet_write_string(ws, row, 2, om_factor_kind_name(f->kind), NULL);
        worksheet_write_number(ws, row, 3, f->value, NULL);
        worksheet_write_string(ws, row, 4, om_factor_unit_name(f->unit), NULL);
        worksheet_write_number(ws, row, 5, f->activity_year, b->dec[0]);
        worksheet_write_string(ws, row, 6, applied, NULL);
        worksheet_write_string(ws, row, 7, rf->used_for, NULL);
        worksheet_write_string(ws, row, 8, f->source, NULL);
        worksheet_write_string(ws, row, 9, om_format_date(f->published, date, sizeof date), NULL);
        worksheet_write_string(ws, row, 10, f->verified ? "verified" : "unverified", NULL);
    }
    row++;
    worksheet_write_string(ws, row++, 0, "Notes", b->head);
    for (size_t i = 0; i < r->nnotes; i++)
        worksheet_write_string(ws, row++, 0, r->notes[i], NULL);
    row++;
    worksheet_write_string(ws, row, 0, "Site", b->head);
    worksheet_write_string(ws, row++, 1, "Estimates and flags", b->head);
    for (size_t s = 0; s < r->nsites; s++)
        for (size_t i = 0; i < r->sites[s].nflags; i++) {
            worksheet_write_string(ws, row, 0, r->sites[s].site->site, NULL);
            worksheet_write_string(ws, row++, 1, r->sites[s].flags[i], NULL);
        }
}

int om_report_write_xlsx(const om_report *r, const char *path, char *err, size_t errlen)
{
    book b = {0};
    b.wb = workbook_new(path);
    if (!b.wb) {
        snprintf(err, errlen, "cannot create the workbook");
        return -1;
    }
    /* A fixed creation time (the newest month's computation) keeps the same
     * report the same file, byte for byte: the evidence pack hashes it. */
    lxw_doc_properties props = {0};
    int64_t newest = 0;
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].computed_at > newest)
            newest = r->rows[i].computed_at;
    props.created = (time_t)(newest > 1000 ? newest / 1000 : 1);
    workbook_set_properties(b.wb, &props);
    formats(&b);
    kpi_sheet(&b, r);
    site_sheet(&b, r);
    month_sheet(&b, r);
    target_sheet(&b, r);
    change_sheet(&b, r);
    notes_sheet(&b, r);
    approval_sheet(&b, r);
    lxw_error e = workbook_close(b.wb);
    if (e != LXW_NO_ERROR) {
        snprintf(err, errlen, "%s", lxw_strerror(e));
        return -1;
    }
    return 0;
}

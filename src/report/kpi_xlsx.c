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
                          "Denominator"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 0, 34, NULL);
    worksheet_set_column(ws, 1, 1, 46, NULL);
    worksheet_set_column(ws, 4, 11, 14, NULL);
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
    }
}

static void share(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const om_site_utility *u,
                  bool estimated, lxw_format *f)
{
    double v = estimated ? (u->value > 0 ? u->estimated / u->value : 0)
                         : (u->expected_ms > 0 ? (double)u->actual_ms / (double)u->expected_ms
                                               : 0);
    num(ws, row, col, u->metered, v, f);
}

static void site_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Sites");
    const char *cols[] = {"Site", "Name", "Time zone", "Grid region", "Electricity MWh",
                          "Sub-meters MWh", "Water t", "Scope 2 location tCO2e",
                          "Scope 2 market tCO2e", "Scope 3 cat. 3 tCO2e", "Scope 3 water tCO2e",
                          "Instruments MWh", "Floor area m²", "Headcount", "Electricity data",
                          "Water data", "Electricity estimated", "Water estimated"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 3, 16, NULL);
    worksheet_set_column(ws, 4, 17, 13, NULL);
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
    }
}

static void month_sheet(book *b, const om_report *r)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, "Monthly");
    const char *cols[] = {"Site", "Month", "Electricity MWh", "Sub-meters MWh", "Water t",
                          "Electricity data", "Electricity estimated", "Water data",
                          "Sub-meters exceed main", "Provisional"};
    header(ws, b, cols, sizeof cols / sizeof cols[0]);
    worksheet_set_column(ws, 0, 9, 14, NULL);
    for (size_t i = 0; i < r->nmonths; i++) {
        const om_report_month *m = &r->months[i];
        lxw_row_t row = (lxw_row_t)i + 1;
        char label[16];
        snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
        worksheet_write_string(ws, row, 0, r->sites[m->site].site->site, NULL);
        worksheet_write_string(ws, row, 1, label, NULL);
        num(ws, row, 2, m->elec.metered, m->elec.value / 1000, b->dec[3]);
        num(ws, row, 3, m->elec.metered, m->elec.sub_value / 1000, b->dec[3]);
        num(ws, row, 4, m->water.metered, m->water.value, b->dec[2]);
        share(ws, row, 5, &m->elec, false, b->pct);
        share(ws, row, 6, &m->elec, true, b->pct);
        share(ws, row, 7, &m->water, false, b->pct);
        worksheet_write_string(ws, row, 8, m->sub_exceeds_main ? "yes" : "no", NULL);
        worksheet_write_string(ws, row, 9, m->provisional ? "yes" : "no", NULL);
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
    formats(&b);
    kpi_sheet(&b, r);
    site_sheet(&b, r);
    month_sheet(&b, r);
    notes_sheet(&b, r);
    lxw_error e = workbook_close(b.wb);
    if (e != LXW_NO_ERROR) {
        snprintf(err, errlen, "%s", lxw_strerror(e));
        return -1;
    }
    return 0;
}

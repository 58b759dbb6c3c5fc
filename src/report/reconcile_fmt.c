/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile_fmt.c - the reconciliation as Markdown (for the auditor), CSV
 * (one row per bill and per account total) and JSON (full precision,
 * schema officemeter.reconcile.v1).
 */
#include <stdio.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"
#include "officemeter/report/reconcile.h"

static const char *utility_name(om_utility u)
{
    return u == OM_UTILITY_WATER ? "water" : "electricity";
}

static const char *unit_name(om_utility u)
{
    return u == OM_UTILITY_WATER ? "m3" : "kWh";
}

static void period(const om_recon_row *row, char *buf, size_t len)
{
    char a[16], b[16];
    snprintf(buf, len, "%s..%s", om_format_date(row->start, a, sizeof a),
             om_format_date(row->end, b, sizeof b));
}

static void causes(const om_recon_row *row, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int c = 0; c < OM_CAUSE__COUNT; c++)
        if (row->causes & (1u << c))
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? " " : "",
                     om_recon_cause_name((om_recon_cause)c));
}

/* ---- Markdown ---------------------------------------------------------------------- */

static void md_cell(FILE *out, const char *s)
{
    fputs(" ", out);
    for (; *s; s++)
        fputs(*s == '|' ? "\\|" : (char[]){*s, 0}, out);
    fputs(" |", out);
}

int om_reconciliation_write_md(const om_reconciliation *r, FILE *out)
{
    fprintf(out, "# Meters against bills, %d\n\n", r->year);
    fprintf(out, "%zu bills whose period touches %d; %zu rows flagged (variance above %.1f%%, "
                 "or days billed twice). Each bill is compared on the part of it its main "
                 "meters cover: its days, and for a shared account the sites' shares. "
                 "Variance = metered - billed. Method: docs/methodology.md, "
                 "\"Reconciliation\".\n\n",
            r->nbills, r->year, r->nflagged, r->threshold_pct);
    fprintf(out, "| Site | Utility | Account | Bill | Period | Billed | Compared | Metered | "
                 "Variance | Variance %% | Flag | Causes | Why |\n");
    fprintf(out, "|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|---|\n");
    for (size_t i = 0; i < r->nrows; i++) {
        const om_recon_row *row = &r->rows[i];
        char per[40], billed[48], cmp[48], met[48], var[48], pct[32], cs[128];
        period(row, per, sizeof per);
        snprintf(billed, sizeof billed, "%.3f %s", row->billed, unit_name(row->utility));
        snprintf(cmp, sizeof cmp, "%.3f", row->compared);
        if (row->comparable) {
            snprintf(met, sizeof met, "%.3f", row->metered);
            snprintf(var, sizeof var, "%+.3f", row->variance);
            snprintf(pct, sizeof pct, "%+.2f%%", row->variance_pct);
        } else {
            snprintf(met, sizeof met, "–");
            snprintf(var, sizeof var, "–");
            snprintf(pct, sizeof pct, "–");
        }
        causes(row, cs, sizeof cs);
        fprintf(out, "|");
        md_cell(out, row->sites);
        md_cell(out, utility_name(row->utility));
        md_cell(out, row->account);
        md_cell(out, row->bill == SIZE_MAX ? "**all bills**" : row->document);
        md_cell(out, per);
        md_cell(out, billed);
        md_cell(out, cmp);
        md_cell(out, met);
        md_cell(out, var);
        md_cell(out, pct);
        md_cell(out, row->flagged ? "**FLAG**" : "");
        md_cell(out, cs[0] ? cs : "–");
        md_cell(out, row->why[0] ? row->why : "–");
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- CSV -------------------------------------------------------------------------------- */

static void csv_field(FILE *out, const char *s, bool last)
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

int om_reconciliation_write_csv(const om_reconciliation *r, FILE *out)
{
    const char *head[] = {"site", "sites", "utility", "account", "document", "period_start",
                          "period_end", "billed", "compared", "metered", "estimated",
                          "variance", "variance_pct", "unit", "flagged", "causes", "why"};
    size_t nhead = sizeof head / sizeof head[0];
    for (size_t i = 0; i < nhead; i++)
        csv_field(out, head[i], i + 1 == nhead);
    for (size_t i = 0; i < r->nrows; i++) {
        const om_recon_row *row = &r->rows[i];
        char a[16], b[16], billed[32], cmp[32], met[32], est[32], var[32], pct[32], cs[128];
        snprintf(billed, sizeof billed, "%.3f", row->billed);
        snprintf(cmp, sizeof cmp, "%.3f", row->compared);
        snprintf(met, sizeof met, "%.3f", row->metered);
        snprintf(est, sizeof est, "%.3f", row->estimated);
        snprintf(var, sizeof var, "%.3f", row->variance);
        snprintf(pct, sizeof pct, "%.2f", row->variance_pct);
        if (!row->comparable)
            met[0] = var[0] = pct[0] = '\0';
        causes(row, cs, sizeof cs);
        csv_field(out, row->site, false);
        csv_field(out, row->sites, false);
        csv_field(out, utility_name(row->utility), false);
        csv_field(out, row->account, false);
        csv_field(out, row->bill == SIZE_MAX ? "(all bills)" : row->document, false);
        csv_field(out, om_format_date(row->start, a, sizeof a), false);
        csv_field(out, om_format_date(row->end, b, sizeof b), false);
        csv_field(out, billed, false);
        csv_field(out, cmp, false);
        csv_field(out, met, false);
        csv_field(out, est, false);
        csv_field(out, var, false);
        csv_field(out, pct, false);
        csv_field(out, unit_name(row->utility), false);
        csv_field(out, row->flagged ? "yes" : "no", false);
        csv_field(out, cs, false);
        csv_field(out, row->why, true);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_number(FILE *out, bool has, double v)
{
    char buf[40];
    if (has && om_format_double(v, buf, sizeof buf))
        fputs(buf, out);
    else
        fputs("null", out);
}

int om_reconciliation_write_json(const om_reconciliation *r, FILE *out)
{
    fprintf(out, "{\n  \"schema\": \"officemeter.reconcile.v1\",\n  \"year\": %d,\n", r->year);
    fprintf(out, "  \"threshold_pct\": ");
    json_number(out, true, r->threshold_pct);
    fprintf(out, ",\n  \"bills\": %zu,\n  \"flagged\": %zu,\n  \"rows\": [", r->nbills,
            r->nflagged);
    for (size_t i = 0; i < r->nrows; i++) {
        const om_recon_row *row = &r->rows[i];
        char a[16], b[16];
        fprintf(out, "%s\n    {\"site\": ", i ? "," : "");
        json_string(out, row->site);
        fprintf(out, ", \"sites\": ");
        json_string(out, row->sites);
        fprintf(out, ", \"utility\": \"%s\", \"account\": ", utility_name(row->utility));
        json_string(out, row->account);
        fprintf(out, ", \"document\": ");
        if (row->bill == SIZE_MAX)
            fputs("null", out);
        else
            json_string(out, row->document);
        fprintf(out, ", \"period_start\": \"%s\", \"period_end\": \"%s\", \"unit\": \"%s\"",
                om_format_date(row->start, a, sizeof a), om_format_date(row->end, b, sizeof b),
                unit_name(row->utility));
        fprintf(out, ", \"billed\": ");
        json_number(out, true, row->billed);
        fprintf(out, ", \"compared\": ");
        json_number(out, true, row->compared);
        fprintf(out, ", \"metered\": ");
        json_number(out, row->comparable, row->metered);
        fprintf(out, ", \"estimated\": ");
        json_number(out, row->comparable, row->estimated);
        fprintf(out, ", \"variance\": ");
        json_number(out, row->comparable, row->variance);
        fprintf(out, ", \"variance_pct\": ");
        json_number(out, row->comparable, row->variance_pct);
        fprintf(out, ", \"flagged\": %s, \"causes\": [", row->flagged ? "true" : "false");
        bool first = true;
        for (int c = 0; c < OM_CAUSE__COUNT; c++)
            if (row->causes & (1u << c)) {
                fprintf(out, "%s\"%s\"", first ? "" : ", ", om_recon_cause_name((om_recon_cause)c));
                first = false;
            }
        fprintf(out, "], \"why\": ");
        json_string(out, row->why);
        fputc('}', out);
    }
    fprintf(out, "\n  ]\n}\n");
    return ferror(out) ? -1 : 0;
}

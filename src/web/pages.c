/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pages.c - the page frame, the stylesheet, the portfolio page, the report
 * page and its downloads.
 *
 * Pages are plain HTML with inline SVG charts: no script at all, so they
 * work (and print) without JavaScript and the Content-Security-Policy can
 * forbid every script. Each number is in a cell with data-value holding
 * the full-precision figure, which is what the browser tests compare with
 * the API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/report/kpi_xlsx.h"
#include "page.h"
#include "report_build.h"
#include "status_data.h"
#include "summary.h"
#include "svg.h"

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1d2733;background:#f5f7f9}"
    "header{background:#1d3b53;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;"
    "align-items:baseline}header a{color:#fff;text-decoration:none}"
    "header .brand{font-weight:700}header .user{margin-left:auto;opacity:.8}"
    "main{padding:1em 1.2em;max-width:1180px}"
    "h1{font-size:1.45em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
    "table{border-collapse:collapse;background:#fff;margin:.4em 0 1em}"
    "th,td{padding:.3em .6em;border-bottom:1px solid #e1e6ea;text-align:left;"
    "vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.num{white-space:nowrap}"
    "tr.total td{font-weight:600;border-top:2px solid #9aa7b2}"
    ".up{color:#a33}.down{color:#27713b}.STALE,.error{color:#a33;font-weight:600}"
    ".tiles{display:flex;flex-wrap:wrap;gap:.8em}.tile{background:#fff;padding:.6em .9em;"
    "border:1px solid #e1e6ea;min-width:12em}.tile .v{font-size:1.5em;font-weight:600}"
    ".tile .s{color:#58636e;font-size:.9em}"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1em}"
    "figure{margin:0;background:#fff;border:1px solid #e1e6ea;padding:.5em}"
    "figcaption{font-weight:600;margin-bottom:.3em}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg .grid{stroke:#e6eaee;stroke-width:1}svg .tick,svg .unit{font-size:11px;fill:#58636e}"
    "svg .bar{fill:#2f7eb8}svg .bar.prev{fill:#a9c7dd}"
    "svg .line{fill:none;stroke:#2f7eb8;stroke-width:1.6}svg .band{fill:#2f7eb8;"
    "fill-opacity:.18;stroke:none}svg .cell{fill:#c0392b}svg .cell.empty{fill:#eef1f3}"
    "svg .mark{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:4 3}svg .mark.gap{stroke:#e67e22}"
    "nav.zoom a,nav.q a{margin-right:.8em}nav.q a.on{font-weight:700;text-decoration:none;"
    "color:#1d2733}p.note{color:#58636e;font-size:.9em}"
    "@media print{header{background:none;color:#000}header a{color:#000}}";

void web_static_css(web_resp *rs)
{
    rs->type = "text/css; charset=utf-8";
    wb_put(&rs->body, css);
}

void page_begin(wbuf *b, const web_req *rq, const char *title, const char *crumbs_html)
{
    wb_put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    wb_html(b, title);
    wb_put(b, " · officemeter</title><link rel=\"icon\" href=\"data:,\">"
              "<link rel=\"stylesheet\" href=\"/static/web.css\">"
              "</head><body><header><a class=\"brand\" href=\"/\">officemeter</a>");
    if (crumbs_html)
        wb_put(b, crumbs_html);
    wb_put(b, "<span class=\"user\">");
    if (rq->user) {
        wb_put(b, "signed in as ");
        wb_html(b, rq->user->name);
    } else {
        wb_put(b, "local access");
    }
    wb_put(b, "</span></header><main><h1>");
    wb_html(b, title);
    wb_put(b, "</h1>\n");
}

void page_end(wbuf *b, web_ctx *w)
{
    char when[40];
    wb_printf(b, "<p class=\"note\">Figures as of %s UTC. Method: docs/web.md and "
              "docs/methodology.md.</p></main></body></html>\n",
              om_format_iso8601(web_now(w), when, sizeof when));
}

void page_num_cell(wbuf *b, double v, int decimals)
{
    if (isnan(v)) {
        wb_put(b, "<td class=\"num\" data-value=\"\">–</td>");
        return;
    }
    wb_printf(b, "<td class=\"num\" data-value=\"%.17g\">", v);
    wb_fixed(b, v, decimals);
    wb_put(b, "</td>");
}

void page_pct_cell(wbuf *b, double pct)
{
    if (isnan(pct)) {
        wb_put(b, "<td class=\"num\">–</td>");
        return;
    }
    wb_printf(b, "<td class=\"num %s\">%+.1f %%</td>", pct > 0 ? "up" : pct < 0 ? "down" : "",
              pct);
}

/* ---- portfolio ------------------------------------------------------------------ */

static int utc_year(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

static void add(double *sum, double v)
{
    if (!isnan(v))
        *sum = isnan(*sum) ? v : *sum + v;
}

void web_page_portfolio(web_ctx *w, const web_req *rq, web_resp *rs)
{
    wbuf *b = &rs->body;
    web_status st;
    char err[1024];
    if (web_status_load(w, rq, NULL, false, &st, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    page_begin(b, rq, "Portfolio", NULL);
    size_t nsites = 0;
    for (size_t i = 0; i < w->pf.sites.nsites; i++)
        nsites += web_may_see(rq, w->pf.sites.sites[i].site);
    wb_printf(b, "<p>%zu site%s. This month and the year to date against the same periods a "
              "year earlier (each site's local calendar, up to the same hour). Running figures "
              "from the hourly aggregates; the annual report is under "
              "<a href=\"/report/%d\">Report</a>.</p>", nsites, nsites == 1 ? "" : "s",
              utc_year(web_now(w)) - 1);
    wb_put(b, "<table id=\"portfolio\"><thead><tr><th>Site</th>"
              "<th class=\"num\">Electricity this month, MWh</th><th class=\"num\">vs last "
              "year</th><th class=\"num\">Electricity YTD, MWh</th><th class=\"num\">vs last "
              "year</th><th class=\"num\">Water this month, t</th><th class=\"num\">Water YTD, "
              "t</th><th class=\"num\">Scope 2 YTD, tCO2e</th><th class=\"num\">vs last "
              "year</th><th class=\"num\">kWh/m² YTD</th><th class=\"num\">Coverage this "
              "month</th><th class=\"num\">Gateways online</th><th class=\"num\">Stale "
              "meters</th></tr></thead><tbody>");
    double tot[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    const char **labels = calloc(w->pf.sites.nsites + 1, sizeof *labels);
    double *ytd = calloc(w->pf.sites.nsites + 1, sizeof *ytd);
    double *ytd0 = calloc(w->pf.sites.nsites + 1, sizeof *ytd0);
    size_t nbars = 0;
    for (size_t i = 0; i < w->pf.sites.nsites; i++) {
        const om_site *s = &w->pf.sites.sites[i];
        if (!web_may_see(rq, s->site))
            continue;
        web_summary sum;
        if (web_summary_get(w, s, &sum, err, sizeof err) < 0) {
            free(labels);
            free(ytd);
            free(ytd0);
            web_status_free(&st);
            web_error(rq, rs, 500, "%s", err);
            return;
        }
        size_t online = 0, gws = 0, stale = 0;
        for (size_t g = 0; g < st.ngateways; g++)
            if (strcmp(st.gateways[g].site, s->site) == 0 && st.gateways[g].declared) {
                gws++;
                online += st.gateways[g].row && strcmp(st.gateways[g].row->state, "online") == 0;
            }
        for (size_t m = 0; m < st.nmeters; m++)
            stale += strcmp(st.meters[m].site, s->site) == 0 && st.meters[m].stale;
        wb_printf(b, "<tr data-site=\"%s\"><td><a href=\"/sites/%s\">", s->site, s->site);
        wb_html(b, s->name ? s->name : s->site);
        wb_put(b, "</a></td>");
        page_num_cell(b, sum.elec_month_mwh.now_v, 3);
        page_pct_cell(b, web_change_pct(&sum.elec_month_mwh));
        page_num_cell(b, sum.elec_ytd_mwh.now_v, 3);
        page_pct_cell(b, web_change_pct(&sum.elec_ytd_mwh));
        page_num_cell(b, sum.has_water ? sum.water_month_t.now_v : NAN, 1);
        page_num_cell(b, sum.has_water ? sum.water_ytd_t.now_v : NAN, 1);
        page_num_cell(b, sum.ghg_ytd_t.now_v, 2);
        page_pct_cell(b, web_change_pct(&sum.ghg_ytd_t));
        page_num_cell(b, sum.kwh_per_m2_ytd, 1);
        page_num_cell(b, isnan(sum.coverage_month) ? NAN : sum.coverage_month * 100, 1);
        wb_printf(b, "<td class=\"num\">%zu / %zu</td><td class=\"num%s\">%zu</td></tr>", online,
                  gws, stale ? " STALE" : "", stale);
        add(&tot[0], sum.elec_month_mwh.now_v);
        add(&tot[1], sum.elec_ytd_mwh.now_v);
        add(&tot[2], sum.has_water ? sum.water_month_t.now_v : NAN);
        add(&tot[3], sum.has_water ? sum.water_ytd_t.now_v : NAN);
        add(&tot[4], sum.ghg_ytd_t.now_v);
        if (labels && ytd && ytd0) {
            labels[nbars] = s->site;
            ytd[nbars] = sum.elec_ytd_mwh.now_v;
            ytd0[nbars++] = sum.elec_ytd_mwh.before_v;
        }
    }
    wb_put(b, "<tr class=\"total\"><td>Total</td>");
    page_num_cell(b, tot[0], 3);
    wb_put(b, "<td></td>");
    page_num_cell(b, tot[1], 3);
    wb_put(b, "<td></td>");
    page_num_cell(b, tot[2], 1);
    page_num_cell(b, tot[3], 1);
    page_num_cell(b, tot[4], 2);
    wb_printf(b, "<td></td><td></td><td></td><td></td><td class=\"num\">%zu</td></tr>"
              "</tbody></table>", st.stale);
    if (nbars > 0 && nbars <= 40) {
        wb_put(b, "<figure><figcaption>Electricity, year to date, MWh</figcaption>");
        svg_bars(b, "chart-ytd", labels, ytd, ytd0, nbars, "MWh", "this year", "last year");
        wb_put(b, "</figure>");
    }
    free(labels);
    free(ytd);
    free(ytd0);
    web_status_free(&st);
    page_end(b, w);
}

/* ---- the report ------------------------------------------------------------------- */

static const char *const formats[] = {"xlsx", "csv", "json", "md"};

/* The approval of the year, as the md report says it: approved (by, at,
 * SHA-256) or restated, with the reasons and the figures that changed. */
static void approval_section(wbuf *b, const om_report *r)
{
    const om_report_approval *a = r->approval;
    if (!a)
        return;
    wb_printf(b, "<section id=\"approval\" data-restated=\"%s\" data-sha256=\"%s\">",
              a->restated ? "true" : "false", a->sha256);
    if (!a->restated) {
        wb_printf(b, "<p><strong>Approved</strong> on %s by ", a->approved_at);
        wb_html(b, a->approved_by);
        wb_printf(b, " (SHA-256 <code>%s</code>); this report is the approved one.</p>"
                     "</section>", a->sha256);
        return;
    }
    wb_printf(b, "<h2>Restatement</h2><p><strong>This report restates the report of %d "
                 "approved on %s by ", r->year, a->approved_at);
    wb_html(b, a->approved_by);
    wb_printf(b, "</strong> (SHA-256 <code>%s</code>; this one <code>%s</code>).</p>"
                 "<p>Why:</p><ul>", a->sha256, a->current_sha256);
    for (size_t i = 0; i < a->nreasons; i++) {
        wb_put(b, "<li>");
        wb_html(b, a->reasons[i]);
        wb_put(b, "</li>");
    }
    if (a->nreasons == 0)
        wb_put(b, "<li>no input file changed: the figures moved with the readings or the "
                  "program</li>");
    wb_put(b, "</ul>");
    if (a->nfigures) {
        wb_put(b, "<table id=\"restated\"><thead><tr><th>Figure</th><th class=\"num\">"
                  "Approved</th><th class=\"num\">Now</th></tr></thead><tbody>");
        for (size_t i = 0; i < a->nfigures; i++) {
            const om_restated_figure *f = &a->figures[i];
            wb_put(b, "<tr><td>");
            wb_html(b, f->what);
            wb_put(b, "</td><td class=\"num\">");
            wb_html(b, f->approved);
            wb_put(b, "</td><td class=\"num\">");
            wb_html(b, f->now);
            wb_put(b, "</td></tr>");
        }
        wb_put(b, "</tbody></table>");
    }
    wb_put(b, "</section>");
}

void web_page_report(web_ctx *w, const web_req *rq, web_resp *rs, int year)
{
    static const char *const known[] = {"site", NULL};
    const om_site *only;
    if (web_params_only(rq, rs, known) < 0 || web_report_scope(w, rq, rs, &only) < 0)
        return;
    om_built_report built;
    char err[1024];
    if (web_report_build(w, only, year, &built, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    const om_report r = built.r; /* read only; freed with built */
    wbuf *b = &rs->body;
    char title[160];
    snprintf(title, sizeof title, "Annual report %d%s%s", year, only ? ": " : "",
             only ? only->site : "");
    page_begin(b, rq, title, NULL);
    wb_put(b, "<p>The KPI table of <code>officemeter report --format md</code> (HKEX ESG "
              "Reporting Code A1.2, A2.1, A2.2), the previous year ");
    wb_put(b, r.kpis[0].previous_restated ? "restated" : "as reported");
    wb_put(b, r.provisional ? "; <strong>provisional</strong>: some month was not over.</p>"
                            : ".</p>");
    approval_section(b, &r);
    wb_put(b, "<p>Download: ");
    for (size_t i = 0; i < 4; i++) {
        wb_printf(b, "<a href=\"/report/%d/download?format=%s%s%s\">%s</a> ", year, formats[i],
                  only ? "&amp;site=" : "", only ? only->site : "", formats[i]);
    }
    wb_put(b, "</p><table id=\"kpis\"><thead><tr><th>KPI</th><th>HKEX</th><th>Unit</th>"
              "<th class=\"num\">");
    wb_printf(b, "%d</th><th class=\"num\">%d</th><th class=\"num\">Change</th>"
              "<th>Coverage (sites)</th></tr></thead><tbody>", year, year - 1);
    for (int k = 0; k < OM_KPI__COUNT; k++) {
        const om_kpi *kpi = &r.kpis[k];
        int dec = om_kpi_decimals(kpi);
        double pct;
        wb_printf(b, "<tr data-kpi=\"%s\"><td>", kpi->key);
        wb_html(b, kpi->label);
        wb_printf(b, "</td><td>%s</td><td>", kpi->hkex);
        wb_html(b, kpi->unit);
        wb_put(b, "</td>");
        page_num_cell(b, kpi->current.has_value ? kpi->current.value : NAN, dec);
        page_num_cell(b, kpi->previous.has_value ? kpi->previous.value : NAN, dec);
        page_pct_cell(b, om_kpi_change_pct(kpi, &pct) ? pct : NAN);
        size_t n = 0;
        for (size_t s = 0; s < kpi->current.ncovered; s++)
            n += kpi->current.covered[s];
        wb_printf(b, "<td>%zu of %zu</td></tr>", n, r.nsites);
    }
    wb_put(b, "</tbody></table>");
    if (r.nnotes) {
        wb_put(b, "<h2>Notes</h2><ul>");
        for (size_t i = 0; i < r.nnotes; i++) {
            wb_put(b, "<li>");
            wb_html(b, r.notes[i]);
            wb_put(b, "</li>");
        }
        wb_put(b, "</ul>");
    }
    om_built_report_free(&built);
    page_end(b, w);
}

static int read_file(const char *path, wbuf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        wb_putn(out, buf, n);
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

void web_page_report_file(web_ctx *w, const web_req *rq, web_resp *rs, int year,
                          const char *format)
{
    static const char *const known[] = {"format", "site", NULL};
    const om_site *only;
    if (web_params_only(rq, rs, known) < 0)
        return;
    int f = -1;
    for (int i = 0; format && i < 4; i++)
        if (strcmp(format, formats[i]) == 0)
            f = i;
    if (f < 0) {
        web_error(rq, rs, 400, "format: %s (got \"%.16s\", expected xlsx, csv, json or md)",
                  format ? "unknown format" : "missing", format ? format : "");
        return;
    }
    if (web_report_scope(w, rq, rs, &only) < 0)
        return;
    om_built_report built;
    char err[1024];
    if (web_report_build(w, only, year, &built, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    const om_report r = built.r; /* read only; freed with built */
    static const char *const types[] = {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/csv; charset=utf-8", "application/json", "text/markdown; charset=utf-8"};
    int rc = 0;
    if (f == 0) {
        /* libxlsxwriter writes files only: a private temporary one. */
        char tmp[] = "/tmp/officemeter-web-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0 || close(fd) < 0 ||
            om_report_write_xlsx(&r, tmp, err, sizeof err) < 0 || read_file(tmp, &rs->body) < 0)
            rc = -1;
        unlink(tmp);
    } else {
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        rc = !m ? -1
             : f == 1 ? om_report_write_csv(&r, m)
             : f == 2 ? om_report_write_json(&r, m)
                      : om_report_write_md(&r, m);
        if (m && fclose(m) != 0)
            rc = -1;
        if (rc == 0)
            wb_putn(&rs->body, text, len);
        free(text);
    }
    om_built_report_free(&built);
    if (rc < 0) {
        web_error(rq, rs, 500, "cannot write the report as %s", formats[f]);
        return;
    }
    rs->type = types[f];
    snprintf(rs->disposition, sizeof rs->disposition,
             "attachment; filename=\"report-%d%s%s.%s\"", year, only ? "-" : "",
             only ? only->site : "", formats[f]);
}

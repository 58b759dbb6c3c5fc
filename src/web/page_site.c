/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_site.c - one site's dashboard: the running figures; monthly bars
 * this year against last year (the report's monthly figures); daily
 * consumption of the last 90 days; a typical week of the main meter's
 * load; night base load and night flow per night; sub-meters against the
 * main meter this month; every meter and gateway with its health.
 *
 * Monthly bars come from the rollups (the same om_report as the report
 * page and /api/v1/.../monthly); everything shorter than a month from the
 * hourly aggregates (figures.h): a page reads a few thousand aggregate
 * rows, never the readings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts_data.h"
#include "figures.h"
#include "officemeter/store/hours.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"
#include "page.h"
#include "report_build.h"
#include "status_data.h"
#include "summary.h"
#include "svg.h"

#define DAYS 90
#define WEEK_DAYS 28
#define NIGHT_H 5 /* nights are 00:00-05:00 local, as in the rollups */

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void tile(wbuf *b, const char *label, const web_pair *p, const char *unit, int decimals)
{
    wb_put(b, "<div class=\"tile\"><div class=\"s\">");
    wb_html(b, label);
    wb_put(b, "</div><div class=\"v\">");
    wb_fixed(b, p->now_v, decimals);
    wb_printf(b, " %s</div><div class=\"s\">last year ", unit);
    wb_fixed(b, p->before_v, decimals);
    double pct = web_change_pct(p);
    if (!isnan(pct))
        wb_printf(b, " (%+.1f %%)", pct);
    wb_put(b, "</div></div>");
}

/* The report's monthly figures of one site for a year: MWh and t. */
static int monthly(web_ctx *w, const om_site *site, int year, double elec[12], double water[12],
                   char *err, size_t errlen)
{
    for (int m = 0; m < 12; m++)
        elec[m] = water[m] = NAN;
    /* The report's figures over the rows as stored (and computed in
     * memory), without the readings check of an approved year: that reads
     * every reading of the months, and the bars are for looking at
     * (the monthly API and the report page do check). */
    om_year_rows rows = {0};
    om_report r;
    web_conn *c = web_conn_get(w);
    int rc = web_year_rows(w, c, site, year, false, &rows, err, errlen);
    web_conn_put(w, c);
    if (rc == 0 && om_portfolio_report(&w->pf, site, year, &rows, &r) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        om_year_rows_free(&rows);
        return -1;
    }
    for (size_t i = 0; i < r.nmonths; i++) {
        const om_report_month *m = &r.months[i];
        if (m->month < 1 || m->month > 12)
            continue;
        if (m->elec.metered)
            elec[m->month - 1] = m->elec.value / 1000;
        if (m->water.metered)
            water[m->month - 1] = m->water.value;
    }
    om_report_free(&r);
    om_year_rows_free(&rows);
    return 0;
}

static void monthly_section(web_ctx *w, wbuf *b, const om_site *site, int year, char *err,
                            size_t errlen, bool *ok)
{
    double e[12], e0[12], wa[12], wa0[12];
    if (monthly(w, site, year, e, wa, err, errlen) < 0 ||
        monthly(w, site, year - 1, e0, wa0, err, errlen) < 0) {
        *ok = false;
        return;
    }
    char this_y[16], last_y[16];
    snprintf(this_y, sizeof this_y, "%d", year);
    snprintf(last_y, sizeof last_y, "%d", year - 1);
    wb_put(b, "<h2>Months: this year against last year</h2><div class=\"grid2\">"
              "<figure><figcaption>Electricity, MWh</figcaption>");
    svg_bars(b, "chart-monthly-electricity", month_names, e, e0, 12, "MWh", this_y, last_y);
    wb_put(b, "</figure><figure><figcaption>Water, t</figcaption>");
    svg_bars(b, "chart-monthly-water", month_names, wa, wa0, 12, "t", this_y, last_y);
    wb_put(b, "</figure></div>");
    wb_printf(b, "<table id=\"monthly\" data-year=\"%d\"><thead><tr><th>Month</th>"
              "<th class=\"num\">Electricity %d, MWh</th><th class=\"num\">%d</th>"
              "<th class=\"num\">Water %d, t</th><th class=\"num\">%d</th></tr></thead><tbody>",
              year, year, year - 1, year, year - 1);
    for (int m = 0; m < 12; m++) {
        wb_printf(b, "<tr data-month=\"%04d-%02d\"><td>%s</td>", year, m + 1, month_names[m]);
        page_num_cell(b, e[m], 3);
        page_num_cell(b, e0[m], 3);
        page_num_cell(b, wa[m], 1);
        page_num_cell(b, wa0[m], 1);
        wb_put(b, "</tr>");
    }
    wb_put(b, "</tbody></table><p class=\"note\">The report's monthly figures (rollups; the "
              "current month provisional).</p>");
}

/* Daily consumption, nights and the typical week from the main meters. */
static int daily_section(web_ctx *w, wbuf *b, const om_site *site, char *err, size_t errlen)
{
    int64_t now = web_now(w);
    int32_t today = web_local_day(site, now), first = today - DAYS + 1;
    int64_t from = web_day_start(site, first);
    web_series elec, water;
    web_conn *c = web_conn_get(w);
    om_store_read_begin(c->st);
    int rc = web_series_main(c, &w->pf, site, OM_UTILITY_ELECTRICITY, from, now, &elec, err,
                             errlen);
    if (rc == 0 &&
        web_series_main(c, &w->pf, site, OM_UTILITY_WATER, from, now, &water, err, errlen) < 0) {
        web_series_free(&elec);
        rc = -1;
    }
    web_conn_put(w, c);
    if (rc < 0)
        return -1;
    int64_t t[DAYS];
    double ek[DAYS], wm[DAYS], night_kw[DAYS], night_flow[DAYS];
    for (int i = 0; i < DAYS; i++) {
        int64_t s = web_day_start(site, first + i), e = web_day_start(site, first + i + 1);
        t[i] = s;
        ek[i] = web_series_between(&elec, s, e < now ? e : now);
        wm[i] = web_series_between(&water, s, e < now ? e : now);
        int64_t ne = s + NIGHT_H * OM_HOUR_MS;
        night_kw[i] = ne <= now ? web_series_between(&elec, s, ne) / NIGHT_H : NAN;
        night_flow[i] = ne <= now ? web_series_between(&water, s, ne) / NIGHT_H : NAN;
    }
    wb_printf(b, "<h2>Last %d days</h2><div class=\"grid2\"><figure><figcaption>Electricity "
              "per day, kWh</figcaption>", DAYS);
    svg_line(b, "chart-daily-electricity", t, ek, NULL, NULL, DAYS, from, now, "kWh",
             site->timezone, NULL, 0);
    wb_put(b, "</figure><figure><figcaption>Water per day, m³</figcaption>");
    svg_line(b, "chart-daily-water", t, wm, NULL, NULL, DAYS, from, now, "m³", site->timezone,
             NULL, 0);
    wb_put(b, "</figure><figure><figcaption>Night base load (00:00–05:00), kW</figcaption>");
    svg_line(b, "chart-night-electricity", t, night_kw, NULL, NULL, DAYS, from, now, "kW",
             site->timezone, NULL, 0);
    wb_put(b, "</figure><figure><figcaption>Night flow (00:00–05:00), m³/h</figcaption>");
    svg_line(b, "chart-night-water", t, night_flow, NULL, NULL, DAYS, from, now, "m³/h",
             site->timezone, NULL, 0);
    wb_put(b, "</figure>");
    /* A typical week: the mean load of each local hour of the week over
     * the last four weeks, from hourly consumption. */
    double sum[7 * 24] = {0}, week[7 * 24];
    int cnt[7 * 24] = {0};
    int64_t h0 = (now - WEEK_DAYS * 86400000LL) / OM_HOUR_MS * OM_HOUR_MS;
    for (int64_t h = h0; h + OM_HOUR_MS <= now; h += OM_HOUR_MS) {
        double kwh = web_series_between(&elec, h, h + OM_HOUR_MS);
        if (isnan(kwh))
            continue;
        int wday, hour;
        web_local_time(site, h, &wday, &hour);
        int slot = wday * 24 + hour;
        sum[slot] += kwh;
        cnt[slot]++;
    }
    for (int i = 0; i < 7 * 24; i++)
        week[i] = cnt[i] ? sum[i] / cnt[i] : NAN;
    wb_printf(b, "<figure><figcaption>Typical week, main meter load, kW (mean of the last %d "
              "days)</figcaption>", WEEK_DAYS);
    svg_heatmap(b, "chart-week", week, "kW");
    wb_put(b, "</figure></div>");
    wb_put(b, "<table id=\"daily\"><thead><tr><th>Day</th><th class=\"num\">Electricity, kWh"
              "</th><th class=\"num\">Water, m³</th><th class=\"num\">Night load, kW</th>"
              "<th class=\"num\">Night flow, m³/h</th></tr></thead><tbody>");
    for (int i = DAYS - 1; i >= DAYS - 14; i--) {
        char date[16];
        wb_printf(b, "<tr data-date=\"%s\"><td>%s</td>", om_format_date(first + i, date, 16),
                  date);
        page_num_cell(b, ek[i], 1);
        page_num_cell(b, wm[i], 2);
        page_num_cell(b, night_kw[i], 2);
        page_num_cell(b, night_flow[i], 3);
        wb_put(b, "</tr>");
    }
    wb_put(b, "</tbody></table><p class=\"note\">The last 14 days; the API's daily endpoint "
              "has all of them.</p>");
    web_series_free(&elec);
    web_series_free(&water);
    return 0;
}

/* Each sub-meter's consumption this month against its utility's main meters. */
static int submeter_section(web_ctx *w, wbuf *b, const om_site *site, char *err, size_t errlen)
{
    int64_t now = web_now(w), start = web_month_start(site, now);
    wb_put(b, "<h2>Sub-meters this month</h2><table id=\"submeters\"><thead><tr><th>Meter</th>"
              "<th>Utility</th><th class=\"num\">Consumption</th><th>Unit</th>"
              "<th class=\"num\">Share of main</th></tr></thead><tbody>");
    double main_total[2] = {NAN, NAN};
    web_conn *c = web_conn_get(w);
    om_store_read_begin(c->st);
    for (int u = 0; u < 2; u++) {
        web_series s;
        if (web_series_main(c, &w->pf, site, (om_utility)u, start, now, &s, err, errlen) < 0) {
            web_conn_put(w, c);
            return -1;
        }
        main_total[u] = web_series_between(&s, start, now);
        web_series_free(&s);
    }
    for (size_t i = 0; i < site->nmeters; i++) {
        const om_meter *m = &site->meters[i];
        web_series s;
        if (web_series_meter(c, &w->pf, site, m, start, now, &s, err, errlen) < 0) {
            web_conn_put(w, c);
            return -1;
        }
        double v = web_series_between(&s, start, now);
        web_series_free(&s);
        int u = m->utility == OM_UTILITY_WATER;
        wb_printf(b, "<tr data-meter=\"%s\"><td><a href=\"/sites/%s/meters/%s\">%s</a>%s</td>"
                  "<td>%s</td>", m->id, site->site, m->id, m->id,
                  m->role == OM_ROLE_MAIN ? " (main)" : "", u ? "water" : "electricity");
        page_num_cell(b, v, u ? 2 : 1);
        wb_printf(b, "<td>%s</td>", u ? "m³" : "kWh");
        page_num_cell(b, m->role == OM_ROLE_SUB && main_total[u] > 0 ? v / main_total[u] * 100
                                                                     : NAN, 1);
        wb_put(b, "</tr>");
    }
    web_conn_put(w, c);
    wb_put(b, "</tbody></table>");
    return 0;
}

static void age_cell(wbuf *b, int64_t now, int64_t t)
{
    char when[40];
    if (t <= 0) {
        wb_put(b, "<td>never</td><td class=\"num\">–</td>");
        return;
    }
    int64_t s = (now - t) / 1000;
    wb_printf(b, "<td>%s</td><td class=\"num\">", om_format_iso8601(t, when, sizeof when));
    if (s < 120)
        wb_printf(b, "%llds", (long long)s);
    else if (s < 7200)
        wb_printf(b, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        wb_printf(b, "%lldh", (long long)(s / 3600));
    else
        wb_printf(b, "%lldd", (long long)(s / 86400));
    wb_put(b, "</td>");
}

/* The site's open alerts (docs/alerts.md): what the facilities team acts
 * on, so above the charts' detail. */
static void alerts_section(wbuf *b, const web_alerts *al)
{
    wb_put(b, "<h2>Open alerts</h2>");
    if (!al->evaluated) {
        wb_put(b, "<p id=\"alerts\">No alert has been evaluated on this database (the "
                  "officemeter-alerts timer is not running).</p>");
        return;
    }
    if (al->n == 0) {
        wb_put(b, "<p id=\"alerts\">None.</p>");
        return;
    }
    wb_put(b, "<table id=\"alerts\"><thead><tr><th>Alert</th><th>Severity</th><th>Meter or "
              "gateway</th><th>Since</th><th>What</th><th>Acknowledged</th></tr></thead><tbody>");
    char when[40];
    for (size_t i = 0; i < al->n; i++) {
        const om_alert_record *a = &al->rows[i];
        wb_printf(b, "<tr data-alert=\"%lld\"><td>%s</td><td class=\"%s\">%s</td><td>",
                  (long long)a->id, om_alert_rule_name(a->rule),
                  a->severity == OM_SEV_CRITICAL ? "STALE" : "ok",
                  om_alert_severity_name(a->severity));
        wb_html(b, a->subject);
        wb_printf(b, "</td><td>%s</td><td>", om_format_iso8601(a->fired_at, when, sizeof when));
        wb_html(b, a->summary);
        wb_put(b, "</td><td>");
        if (a->acked_by[0])
            wb_html(b, a->acked_by);
        else
            wb_put(b, "–");
        wb_put(b, "</td></tr>");
    }
    wb_put(b, "</tbody></table>");
}

static void health_section(wbuf *b, const web_status *st, const om_site *site)
{
    wb_put(b, "<h2>Meters</h2><table id=\"meters\"><thead><tr><th>Meter</th><th>Gateway</th>"
              "<th>Last reading</th><th class=\"num\">Age</th><th class=\"num\">Errors</th>"
              "<th class=\"num\">Readings</th><th>Status</th></tr></thead><tbody>");
    for (size_t i = 0; i < st->nmeters; i++) {
        const web_meter_status *m = &st->meters[i];
        if (strcmp(m->site, site->site) != 0)
            continue;
        wb_printf(b, "<tr data-meter=\"%s\"><td><a href=\"/sites/%s/meters/%s\">%s</a></td>"
                  "<td>%s</td>", m->meter, site->site, m->meter, m->meter,
                  m->gateway[0] ? m->gateway : "–");
        age_cell(b, st->now, m->row ? m->row->last_t : 0);
        if (m->errors >= 0)
            wb_printf(b, "<td class=\"num\">%lld</td>", (long long)m->errors);
        else
            wb_put(b, "<td class=\"num\">–</td>");
        wb_printf(b, "<td class=\"num\">%llu</td><td class=\"%s\">%s</td></tr>",
                  (unsigned long long)m->readings, m->status, m->status);
    }
    wb_put(b, "</tbody></table><h2>Gateways</h2><table id=\"gateways\"><thead><tr>"
              "<th>Gateway</th><th>State</th><th>Last seen</th><th class=\"num\">Age</th>"
              "<th class=\"num\">Outbox</th><th class=\"num\">Errors</th><th>Status</th>"
              "</tr></thead><tbody>");
    for (size_t i = 0; i < st->ngateways; i++) {
        const web_gateway_status *g = &st->gateways[i];
        if (strcmp(g->site, site->site) != 0)
            continue;
        const om_store_gateway_row *r = g->row;
        wb_printf(b, "<tr data-gateway=\"%s\"><td>%s</td><td>%s</td>", g->gateway, g->gateway,
                  r && r->state[0] ? r->state : "unknown");
        age_cell(b, st->now, r ? r->last_seen : 0);
        if (r && r->outbox_depth >= 0)
            wb_printf(b, "<td class=\"num\">%lld</td>", (long long)r->outbox_depth);
        else
            wb_put(b, "<td class=\"num\">–</td>");
        if (r && r->errors >= 0)
            wb_printf(b, "<td class=\"num\">%lld</td>", (long long)r->errors);
        else
            wb_put(b, "<td class=\"num\">–</td>");
        wb_printf(b, "<td class=\"%s\">%s</td></tr>", g->stale ? "STALE" : "ok",
                  g->stale ? "STALE" : "ok");
    }
    wb_put(b, "</tbody></table>");
}

void web_page_site(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site)
{
    static const char *const known[] = {"year", NULL};
    int64_t now = web_now(w);
    int year;
    unsigned month;
    om_month_of(site->timezone, now, &year, &month);
    if (web_params_only(rq, rs, known) < 0 || web_param_year(rq, rs, "year", &year) < 0)
        return;
    web_summary sum;
    web_status st;
    char err[1024];
    if (web_summary_get(w, site, &sum, err, sizeof err) < 0 ||
        web_status_load(w, rq, site->site, true, &st, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    wbuf *b = &rs->body;
    char crumbs[160];
    snprintf(crumbs, sizeof crumbs, "<a href=\"/sites/%s\">%s</a>", site->site, site->site);
    page_begin(b, rq, site->name ? site->name : site->site, crumbs);
    wb_printf(b, "<p>%s · %s · grid region %s · ", site->site, site->timezone,
              site->grid_region ? site->grid_region : "–");
    wb_fixed(b, sum.area_m2, 0);
    wb_put(b, " m²</p><div class=\"tiles\">");
    tile(b, "Electricity this month", &sum.elec_month_mwh, "MWh", 3);
    tile(b, "Electricity, year to date", &sum.elec_ytd_mwh, "MWh", 3);
    if (sum.has_water) {
        tile(b, "Water this month", &sum.water_month_t, "t", 1);
        tile(b, "Water, year to date", &sum.water_ytd_t, "t", 1);
    }
    tile(b, "Scope 2 (location), year to date", &sum.ghg_ytd_t, "tCO2e", 2);
    wb_put(b, "</div>");
    web_alerts al;
    if (web_open_alerts(w, site->site, &al, err, sizeof err) < 0) {
        web_status_free(&st);
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    alerts_section(b, &al);
    web_alerts_free(&al);
    bool ok = true;
    monthly_section(w, b, site, year, err, sizeof err, &ok);
    if (!ok || daily_section(w, b, site, err, sizeof err) < 0 ||
        submeter_section(w, b, site, err, sizeof err) < 0) {
        web_status_free(&st);
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    health_section(b, &st, site);
    web_status_free(&st);
    page_end(b, w);
}

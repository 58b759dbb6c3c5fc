/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - the JSON API under /api/v1/ (docs/web.md, "API"): what the pages
 * show, for scripts and for the browser tests that compare the two.
 *
 *   sites                                   the user's sites, meters, gateways
 *   sites/{site}/monthly?year=              the report's monthly entries of the site
 *   sites/{site}/daily?from=&to=            consumption per local day (hourly aggregates)
 *   sites/{site}/meters/{meter}/readings?from=&to=&quantity=&points=
 *                                           downsampled in the database, counter events
 *   report?year=[&site=]                    byte for byte `officemeter report --format json`
 *   status                                  what `officemeter status` shows
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_data.h"
#include "figures.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/id.h"
#include "officemeter/base/isotime.h"
#include "officemeter/store/hours.h"
#include "report_build.h"
#include "status_data.h"
#include "wjson.h"

#define MAX_DAYS 400

static const char *iso(int64_t t, char *buf, size_t len)
{
    return om_format_iso8601(t, buf, len);
}

static void send_json(web_resp *rs, json_t *v)
{
    rs->type = "application/json";
    if (!v) {
        rs->body.failed = true;
        return;
    }
    web_json_dump(&rs->body, v);
    json_decref(v);
}

/* ---- sites ---------------------------------------------------------------------------- */

static json_t *site_json(const om_site *s, int64_t now)
{
    json_t *meters = json_array(), *gateways = json_array();
    for (size_t i = 0; i < s->nmeters; i++) {
        const om_meter *m = &s->meters[i];
        json_array_append_new(
            meters, json_pack("{s:s, s:s, s:s, s:s, s:s}", "meter", m->id, "utility",
                              m->utility == OM_UTILITY_WATER ? "water" : "electricity", "role",
                              m->role == OM_ROLE_MAIN ? "main" : "sub", "model", m->model_id,
                              "gateway", m->gateway_id));
    }
    for (size_t g = 0; g < s->ngateways; g++)
        json_array_append_new(gateways, json_string(s->gateways[g].id));
    int32_t today = (int32_t)(now / 86400000);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "site", s->site, "name",
                     s->name ? s->name : s->site, "timezone", s->timezone, "grid_region",
                     s->grid_region ? s->grid_region : "", "floor_area_m2",
                     web_json_num(om_area_on(s->floor_area, s->nfloor_area, today)), "meters",
                     meters, "gateways", gateways);
}

static void api_sites(web_ctx *w, const web_req *rq, web_resp *rs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < w->pf.sites.nsites; i++) {
        const om_site *s = &w->pf.sites.sites[i];
        if (web_may_see(rq, s->site))
            json_array_append_new(list, site_json(s, web_now(w)));
    }
    send_json(rs, json_pack("{s:o}", "sites", list));
}

/* ---- monthly ------------------------------------------------------------------------ */

static void api_monthly(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site)
{
    static const char *const known[] = {"year", NULL};
    int year = 0;
    if (web_params_only(rq, rs, known) < 0 || web_param_year(rq, rs, "year", &year) < 0)
        return;
    if (!year) {
        int64_t now = web_now(w);
        unsigned m;
        om_month_of(site->timezone, now, &year, &m);
    }
    wbuf text = {0};
    char err[1024];
    if (web_report_json(w, site, year, &text, err, sizeof err) < 0) {
        wb_free(&text);
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    json_error_t jerr;
    json_t *report = json_loadb(text.data, text.len, 0, &jerr);
    wb_free(&text);
    json_t *monthly = report ? json_object_get(report, "monthly") : NULL;
    if (!monthly) {
        json_decref(report);
        web_error(rq, rs, 500, "the report has no monthly entries");
        return;
    }
    send_json(rs, json_pack("{s:s, s:i, s:O}", "site", site->site, "year", year, "monthly",
                            monthly));
    json_decref(report);
}

/* ---- daily ---------------------------------------------------------------------------- */

/* from/to (local dates, inclusive) with defaults: the 90 days up to today. */
static int day_range(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site,
                     int32_t *from, int32_t *to)
{
    *to = web_local_day(site, web_now(w));
    *from = *to - 89;
    int a = web_param_date(rq, rs, "from", from), b = web_param_date(rq, rs, "to", to);
    if (a < 0 || b < 0)
        return -1;
    if (*to < *from) {
        web_error(rq, rs, 400, "to: before from (a range of local dates, both included)");
        return -1;
    }
    if (*to - *from + 1 > MAX_DAYS) {
        web_error(rq, rs, 400, "from, to: %d days (at most %d)", *to - *from + 1, MAX_DAYS);
        return -1;
    }
    return 0;
}

static void api_daily(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site)
{
    static const char *const known[] = {"from", "to", NULL};
    int32_t from, to;
    if (web_params_only(rq, rs, known) < 0 || day_range(w, rq, rs, site, &from, &to) < 0)
        return;
    int64_t a = web_day_start(site, from), b = web_day_start(site, to + 1);
    web_series elec, water;
    char err[1024];
    web_conn *c = web_conn_get(w);
    om_store_read_begin(c->st);
    int rc = web_series_main(c, &w->pf, site, OM_UTILITY_ELECTRICITY, a, b, &elec, err,
                             sizeof err);
    if (rc == 0 && web_series_main(c, &w->pf, site, OM_UTILITY_WATER, a, b, &water, err,
                                   sizeof err) < 0) {
        web_series_free(&elec);
        rc = -1;
    }
    web_conn_put(w, c);
    if (rc < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    json_t *days = json_array();
    for (int32_t d = from; d <= to; d++) {
        int64_t s = web_day_start(site, d), e = web_day_start(site, d + 1);
        char date[16];
        json_array_append_new(
            days, json_pack("{s:s, s:o, s:o, s:o}", "date", om_format_date(d, date, sizeof date),
                            "electricity_kwh", web_json_num(web_series_between(&elec, s, e)),
                            "water_m3", web_json_num(web_series_between(&water, s, e)),
                            "coverage", web_json_num(web_series_coverage(&elec, s, e))));
    }
    web_series_free(&elec);
    web_series_free(&water);
    char f[16], t[16];
    send_json(rs, json_pack("{s:s, s:s, s:s, s:s, s:o}", "site", site->site, "timezone",
                            site->timezone, "from", om_format_date(from, f, sizeof f), "to",
                            om_format_date(to, t, sizeof t), "days", days));
}

/* ---- readings ------------------------------------------------------------------------- */

typedef struct {
    json_t *points;
} bucket_sink;

static int add_bucket(const om_bucket *b, void *user)
{
    bucket_sink *s = user;
    char t[40];
    json_array_append_new(s->points, json_pack("{s:s, s:I, s:o, s:o, s:o}", "t",
                                               iso(b->t, t, sizeof t), "n", (json_int_t)b->n,
                                               "min", web_json_num(b->min), "mean",
                                               web_json_num(b->mean), "max",
                                               web_json_num(b->max)));
    return 0;
}

int web_readings_plan(int64_t *from, int64_t to, unsigned points, int64_t *bucket_ms)
{
    int64_t span = to - *from;
    int64_t b = (span + points - 1) / points;
    if (b < 1000)
        b = 1000;
    if (b >= OM_HOUR_MS) {
        /* Whole hours from a whole hour: the aggregates answer. */
        b = (b + OM_HOUR_MS - 1) / OM_HOUR_MS * OM_HOUR_MS;
        *from = *from / OM_HOUR_MS * OM_HOUR_MS;
        while ((to - *from + b - 1) / b > points)
            b += OM_HOUR_MS;
        *bucket_ms = b;
        return 1;
    }
    *bucket_ms = (b + 999) / 1000 * 1000;
    return 0;
}

static void api_readings(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site,
                         const om_meter *meter)
{
    static const char *const known[] = {"from", "to", "quantity", "points", NULL};
    int64_t now = web_now(w), to = now, from = now - 7 * 86400000LL;
    int quantity = meter->utility == OM_UTILITY_WATER ? OM_Q_WATER_M3 : OM_Q_POWER_KW;
    unsigned points = w->cfg->max_points;
    if (web_params_only(rq, rs, known) < 0 || web_param_time(rq, rs, "from", &from) < 0 ||
        web_param_time(rq, rs, "to", &to) < 0 ||
        web_param_quantity(rq, rs, "quantity", &quantity) < 0 ||
        web_param_uint(rq, rs, "points", 10, w->cfg->max_points, &points) < 0)
        return;
    if (to <= from) {
        web_error(rq, rs, 400, "to: not after from");
        return;
    }
    if (to - from > 5 * 366 * 86400000LL) {
        web_error(rq, rs, 400, "from, to: more than five years");
        return;
    }
    int64_t bucket;
    int hourly = web_readings_plan(&from, to, points, &bucket);
    bucket_sink sink = {json_array()};
    web_conn *c = web_conn_get(w);
    int rc = om_store_buckets(c->st, site->site, meter->id, (om_quantity)quantity, from, to,
                              bucket, add_bucket, &sink);
    char err[1024] = "";
    if (rc < 0)
        snprintf(err, sizeof err, "%s", om_store_errmsg(c->st));
    web_conn_put(w, c);
    if (rc < 0) {
        json_decref(sink.points);
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    json_t *events = json_array();
    web_meter_events(w, site, meter, from, to, events);
    const om_quantity_info *qi = om_quantity_get((om_quantity)quantity);
    char f[40], t[40];
    send_json(rs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o}", "site",
                            site->site, "meter", meter->id, "quantity", qi->name, "unit",
                            qi->unit, "kind", qi->kind == OM_KIND_COUNTER ? "counter" : "instant",
                            "from", iso(from, f, sizeof f), "to", iso(to, t, sizeof t),
                            "bucket_s", (json_int_t)(bucket / 1000), "source",
                            hourly ? "hourly aggregates" : "readings", "points", sink.points,
                            "events", events));
}

/* ---- report and status --------------------------------------------------------------- */

static void api_report(web_ctx *w, const web_req *rq, web_resp *rs)
{
    static const char *const known[] = {"year", "site", NULL};
    int year = 0;
    if (web_params_only(rq, rs, known) < 0 || web_param_year(rq, rs, "year", &year) < 0)
        return;
    if (!year) {
        web_error(rq, rs, 400, "year: missing (expected a year from 1990 to 2100)");
        return;
    }
    const om_site *only = NULL;
    if (web_report_scope(w, rq, rs, &only) < 0)
        return;
    char err[1024];
    rs->type = "application/json";
    if (web_report_json(w, only, year, &rs->body, err, sizeof err) < 0)
        web_error(rq, rs, 500, "%s", err);
}

static void api_status(web_ctx *w, const web_req *rq, web_resp *rs)
{
    static const char *const no[] = {NULL};
    if (web_params_only(rq, rs, no) < 0)
        return;
    web_status st;
    char err[1024];
    if (web_status_load(w, rq, NULL, true, &st, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    send_json(rs, web_status_json(&st));
    web_status_free(&st);
}

/* The site's open alerts: the body of the retained MQTT list
 * (officemeter/v1/{site}/alerts, docs/alerts.md), plus whether the
 * evaluator has run on this database at all. */
static void api_alerts(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site)
{
    static const char *const no[] = {NULL};
    if (web_params_only(rq, rs, no) < 0)
        return;
    web_alerts al;
    char err[1024];
    if (web_open_alerts(w, site->site, &al, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    char *text = om_alert_open_json(site->site, web_now(w), al.rows, al.n);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (v)
        json_object_set_new(v, "evaluated", json_boolean(al.evaluated));
    web_alerts_free(&al);
    send_json(rs, v);
}

/* ---- dispatch --------------------------------------------------------------------------- */

void web_api(web_ctx *w, const web_req *rq, web_resp *rs, char **parts, size_t n)
{
    rs->no_store = true;
    if (n == 1 && strcmp(parts[0], "sites") == 0) {
        static const char *const no[] = {NULL};
        if (web_params_only(rq, rs, no) == 0)
            api_sites(w, rq, rs);
        return;
    }
    if (n == 1 && strcmp(parts[0], "report") == 0) {
        api_report(w, rq, rs);
        return;
    }
    if (n == 1 && strcmp(parts[0], "status") == 0) {
        api_status(w, rq, rs);
        return;
    }
    if (n < 3 || strcmp(parts[0], "sites") != 0) {
        web_error(rq, rs, 404, "no API %.200s", rq->path);
        return;
    }
    const char *id = parts[1];
    if (!om_id_valid(id)) {
        web_error(rq, rs, 404, "no site \"%.64s\"", id);
        return;
    }
    if (!web_may_see(rq, id)) {
        web_error(rq, rs, 403, "site %s: not one of your sites", id);
        return;
    }
    const om_site *site = om_portfolio_site(&w->pf, id);
    if (!site) {
        web_error(rq, rs, 404, "no site \"%s\" in the portfolio", id);
        return;
    }
    if (n == 3 && strcmp(parts[2], "monthly") == 0) {
        api_monthly(w, rq, rs, site);
    } else if (n == 3 && strcmp(parts[2], "daily") == 0) {
        api_daily(w, rq, rs, site);
    } else if (n == 3 && strcmp(parts[2], "alerts") == 0) {
        api_alerts(w, rq, rs, site);
    } else if (n == 5 && strcmp(parts[2], "meters") == 0 && strcmp(parts[4], "readings") == 0) {
        const om_meter *m = om_id_valid(parts[3]) ? om_site_find_meter(site, parts[3]) : NULL;
        if (!m)
            web_error(rq, rs, 404, "site %s has no meter \"%.64s\"", id, parts[3]);
        else
            api_readings(w, rq, rs, site, m);
    } else {
        web_error(rq, rs, 404, "no API %.200s", rq->path);
    }
}

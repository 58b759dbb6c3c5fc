/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_meter.c - one meter's readings over a chosen range: the mean of each
 * bucket as a line over its min-max band, broken where there are no
 * readings (a gap), with the counter events of the rollups (rollover,
 * reset, replacement, glitch, gap) marked and listed.
 *
 * Zoom without script: the range is in the URL (from, to), and the links
 * above the chart zoom in on the middle half, zoom out to twice the span,
 * or move by half a span; presets show a day, a week, a month or a year.
 * The series is the API's (om_store_buckets, web_readings_plan), so the
 * page and /api/v1/.../readings show the same points.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/store/hours.h"
#include "page.h"
#include "report_build.h"
#include "svg.h"

#define POINTS 600

typedef struct {
    int64_t *t;
    double *lo, *mean, *hi;
    size_t n, cap;
    int64_t bucket;
    int64_t next; /* where the next bucket would start: a missing one is a gap */
    bool failed;
} series;

static bool push(series *s, int64_t t, double lo, double mean, double hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        int64_t *nt = realloc(s->t, cap * sizeof *nt);
        double *nl = nt ? realloc(s->lo, cap * sizeof *nl) : NULL;
        double *nm = nl ? realloc(s->mean, cap * sizeof *nm) : NULL;
        double *nh = nm ? realloc(s->hi, cap * sizeof *nh) : NULL;
        if (nt)
            s->t = nt;
        if (nl)
            s->lo = nl;
        if (nm)
            s->mean = nm;
        if (!nh) {
            s->failed = true;
            return false;
        }
        s->hi = nh;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->lo[s->n] = lo;
    s->mean[s->n] = mean;
    s->hi[s->n++] = hi;
    return true;
}

static int take(const om_bucket *b, void *user)
{
    series *s = user;
    /* A bucket without readings between two with readings: break the line. */
    if (s->n > 0 && b->t > s->next && !push(s, s->next, NAN, NAN, NAN))
        return 1;
    s->next = b->t + s->bucket;
    return push(s, b->t + s->bucket / 2, b->min, b->mean, b->max) ? 0 : 1;
}

static void range_link(wbuf *b, const om_site *site, const om_meter *m, const char *q,
                       int64_t from, int64_t to, const char *label, const char *id)
{
    char f[40], t[40];
    wb_printf(b, "<a id=\"%s\" href=\"/sites/%s/meters/%s?quantity=%s&amp;from=%s&amp;to=%s\">",
              id, site->site, m->id, q, om_format_iso8601(from, f, sizeof f),
              om_format_iso8601(to, t, sizeof t));
    wb_html(b, label);
    wb_put(b, "</a>");
}

/* The quantities a meter's model reports. */
static size_t meter_quantities(const om_meter *m, om_quantity *out)
{
    size_t n = 0;
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (!m->model || om_model_find_quantity(m->model, (om_quantity)q))
            out[n++] = (om_quantity)q;
    }
    return n;
}

void web_page_meter(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site,
                    const om_meter *meter)
{
    static const char *const known[] = {"from", "to", "quantity", NULL};
    om_quantity qs[OM_Q__COUNT];
    size_t nq = meter_quantities(meter, qs);
    int64_t now = web_now(w), to = now, from = now - 7 * 86400000LL;
    int quantity = nq ? (int)qs[0] : OM_Q_ENERGY_IMPORT_KWH;
    for (size_t i = 0; i < nq; i++)
        if (qs[i] == OM_Q_POWER_KW || qs[i] == OM_Q_FLOW_M3H)
            quantity = (int)qs[i];
    if (web_params_only(rq, rs, known) < 0 || web_param_time(rq, rs, "from", &from) < 0 ||
        web_param_time(rq, rs, "to", &to) < 0 ||
        web_param_quantity(rq, rs, "quantity", &quantity) < 0)
        return;
    if (to <= from) {
        web_error(rq, rs, 400, "to: not after from");
        return;
    }
    if (to - from > 5 * 366 * 86400000LL) {
        web_error(rq, rs, 400, "from, to: more than five years");
        return;
    }
    int64_t span = to - from, bucket, shown_from = from;
    int hourly = web_readings_plan(&shown_from, to, POINTS, &bucket);
    series s = {.bucket = bucket};
    web_conn *c = web_conn_get(w);
    int rc = om_store_buckets(c->st, site->site, meter->id, (om_quantity)quantity, shown_from, to,
                              bucket, take, &s);
    char err[1024] = "";
    if (rc < 0)
        snprintf(err, sizeof err, "%s", om_store_errmsg(c->st));
    web_conn_put(w, c);
    json_t *events = json_array();
    if (rc == 0 && !s.failed)
        web_meter_events(w, site, meter, from, to, events);
    if (rc < 0 || s.failed) {
        web_error(rq, rs, 500, "%s", s.failed ? "out of memory" : err);
        goto done;
    }
    const om_quantity_info *qi = om_quantity_get((om_quantity)quantity);
    wbuf *b = &rs->body;
    char title[200], crumbs[300];
    snprintf(title, sizeof title, "%s / %s", site->site, meter->id);
    snprintf(crumbs, sizeof crumbs, "<a href=\"/sites/%s\">%s</a><a href=\"/sites/%s/meters/%s\">"
             "%s</a>", site->site, site->site, site->site, meter->id, meter->id);
    page_begin(b, rq, title, crumbs);
    char f[40], t[40];
    wb_printf(b, "<p>%s, %s meter (%s); %s over <time id=\"range-from\">%s</time> .. "
              "<time id=\"range-to\">%s</time>, %s buckets of %lld s from the %s.</p>",
              meter->model_id ? meter->model_id : "?",
              meter->role == OM_ROLE_MAIN ? "main" : "sub",
              meter->utility == OM_UTILITY_WATER ? "water" : "electricity", qi->name,
              om_format_iso8601(from, f, sizeof f), om_format_iso8601(to, t, sizeof t),
              hourly ? "whole-hour" : "", (long long)(bucket / 1000),
              hourly ? "hourly aggregates" : "readings");
    wb_put(b, "<nav class=\"q\">");
    for (size_t i = 0; i < nq; i++) {
        const char *name = om_quantity_get(qs[i])->name;
        wb_printf(b, "<a class=\"%s\" href=\"/sites/%s/meters/%s?quantity=%s&amp;from=%s&amp;"
                  "to=%s\">%s</a>", (int)qs[i] == quantity ? "on" : "", site->site, meter->id,
                  name, f, t, name);
    }
    wb_put(b, "</nav><nav class=\"zoom\">");
    const char *qn = qi->name;
    range_link(b, site, meter, qn, from - span / 2, to - span / 2, "← earlier", "zoom-earlier");
    range_link(b, site, meter, qn, from + span / 4, to - span / 4, "zoom in", "zoom-in");
    range_link(b, site, meter, qn, from - span / 2, to + span / 2, "zoom out", "zoom-out");
    range_link(b, site, meter, qn, from + span / 2, to + span / 2, "later →", "zoom-later");
    range_link(b, site, meter, qn, now - 86400000LL, now, "day", "range-day");
    range_link(b, site, meter, qn, now - 7 * 86400000LL, now, "week", "range-week");
    range_link(b, site, meter, qn, now - 31 * 86400000LL, now, "month", "range-month");
    range_link(b, site, meter, qn, now - 365 * 86400000LL, now, "year", "range-year");
    wb_put(b, "</nav>");
    size_t nev = json_array_size(events);
    svg_mark *marks = calloc(nev + 1, sizeof *marks);
    for (size_t i = 0; marks && i < nev; i++) {
        json_t *e = json_array_get(events, i);
        int64_t et = 0;
        om_parse_iso8601(json_string_value(json_object_get(e, "t")), &et);
        marks[i] = (svg_mark){et, json_string_value(json_object_get(e, "kind"))};
    }
    wb_put(b, "<figure><figcaption>");
    wb_html(b, qi->name);
    wb_printf(b, ", %s: mean per bucket, band from minimum to maximum</figcaption>", qi->unit);
    svg_line(b, "chart-readings", s.t, s.mean, s.lo, s.hi, s.n, from, to, qi->unit,
             site->timezone, marks, marks ? nev : 0);
    wb_printf(b, "</figure><p class=\"note\" id=\"points\" data-points=\"%zu\">%zu points",
              s.n, s.n);
    wb_put(b, "; a break in the line is a bucket without readings.</p>");
    free(marks);
    wb_put(b, "<h2>Counter events</h2><table id=\"events\"><thead><tr><th>When</th>"
              "<th>Until</th><th>Kind</th><th>Quantity</th><th class=\"num\">Counted</th></tr>"
              "</thead><tbody>");
    for (size_t i = 0; i < nev; i++) {
        json_t *e = json_array_get(events, i);
        wb_printf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
                  json_string_value(json_object_get(e, "t")),
                  json_string_value(json_object_get(e, "t_end")),
                  json_string_value(json_object_get(e, "kind")),
                  json_string_value(json_object_get(e, "quantity")));
        json_t *counted = json_object_get(e, "counted");
        page_num_cell(b, json_is_real(counted) ? json_real_value(counted) : NAN, 3);
        wb_put(b, "</tr>");
    }
    if (nev == 0)
        wb_put(b, "<tr><td colspan=\"5\">none in this range</td></tr>");
    wb_put(b, "</tbody></table>");
    page_end(b, w);
done:
    json_decref(events);
    free(s.t);
    free(s.lo);
    free(s.mean);
    free(s.hi);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status_data.c - the status of gateways and meters, judged like
 * `officemeter status --config` judges them: the site files say what is
 * expected, a declared gateway or an active meter with nothing newer than
 * stale_after_s is stale, what the database knows beyond the site files is
 * listed as undeclared.
 */
#include "status_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/isotime.h"
#include "officemeter/proto/health.h"
#include "wjson.h"

static const om_store_gateway_row *gw_row(const web_status *s, const char *site, const char *gw)
{
    for (size_t i = 0; i < s->ngw_rows; i++)
        if (strcmp(s->gw_rows[i].site, site) == 0 && strcmp(s->gw_rows[i].gateway, gw) == 0)
            return &s->gw_rows[i];
    return NULL;
}

/* Both arrays come ordered by (site, meter) from the store (SQLite's
 * binary collation is strcmp's order), so a portfolio of thousands of
 * meters is looked up by bisection, not by a scan per meter. */
static int cmp_key(const char *site, const char *meter, const char *s2, const char *m2)
{
    int c = strcmp(site, s2);
    return c ? c : strcmp(meter, m2);
}

static const om_store_meter_row *meter_row(const web_status *s, const char *site,
                                           const char *meter)
{
    size_t lo = 0, hi = s->nmeter_rows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_key(s->meter_rows[mid].site, s->meter_rows[mid].meter, site, meter);
        if (c == 0)
            return &s->meter_rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static uint64_t readings_of(const web_status *s, const char *site, const char *meter)
{
    size_t lo = 0, hi = s->ncounts;
    while (lo < hi) { /* the first row not before (site, meter) */
        size_t mid = (lo + hi) / 2;
        if (cmp_key(s->counts[mid].site, s->counts[mid].meter, site, meter) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t n = 0;
    for (size_t i = lo; i < s->ncounts && cmp_key(s->counts[i].site, s->counts[i].meter, site,
                                                  meter) == 0; i++)
        n += s->counts[i].readings;
    return n;
}

static bool too_old(const web_status *s, int64_t t)
{
    return t <= 0 || s->now - t > s->stale_ms;
}

static bool active(const om_meter *m, int64_t now)
{
    return (m->active_from == OM_TIME_NONE || now >= m->active_from) &&
           (m->active_until == OM_TIME_NONE || now < m->active_until);
}

static int add_gateway(web_status *s, size_t *cap, const char *site, const char *gw,
                       const om_store_gateway_row *row, bool declared)
{
    web_gateway_status *grown = om_grow(s->gateways, cap, s->ngateways, sizeof *grown);
    if (!grown)
        return -1;
    s->gateways = grown;
    web_gateway_status *g = &s->gateways[s->ngateways++];
    memset(g, 0, sizeof *g);
    snprintf(g->site, sizeof g->site, "%s", site);
    snprintf(g->gateway, sizeof g->gateway, "%s", gw);
    g->row = row;
    g->declared = declared;
    g->stale = too_old(s, row ? row->last_seen : 0);
    s->stale += g->stale;
    return 0;
}

static int add_meter(web_status *s, size_t *cap, const char *site, const char *meter,
                     const char *gw, const om_store_meter_row *row, const char *note,
                     char **health)
{
    web_meter_status *grown = om_grow(s->meters, cap, s->nmeters, sizeof *grown);
    if (!grown)
        return -1;
    s->meters = grown;
    web_meter_status *m = &s->meters[s->nmeters++];
    memset(m, 0, sizeof *m);
    snprintf(m->site, sizeof m->site, "%s", site);
    snprintf(m->meter, sizeof m->meter, "%s", meter);
    snprintf(m->gateway, sizeof m->gateway, "%s", gw ? gw : "");
    m->row = row;
    m->readings = readings_of(s, site, meter);
    m->errors = -1;
    /* The meter's own gateway first: one parse of its health message. */
    for (int pass = 0; health && pass < 2 && m->errors < 0; pass++)
        for (size_t i = 0; i < s->ngw_rows && m->errors < 0; i++)
            if (strcmp(s->gw_rows[i].site, site) == 0 && health[i] &&
                (pass == 1 || (gw && strcmp(s->gw_rows[i].gateway, gw) == 0)))
                m->errors = om_health_meter_errors(health[i], meter);
    if (note) {
        m->status = note;
    } else {
        m->stale = too_old(s, row ? row->last_t : 0);
        s->stale += m->stale;
        m->status = m->stale ? "STALE" : "ok";
    }
    return 0;
}

static bool wanted(const web_req *rq, const char *only, const char *site)
{
    return web_may_see(rq, site) && (!only || strcmp(only, site) == 0);
}

static int judge(web_ctx *w, const web_req *rq, const char *only, web_status *s, char **health)
{
    size_t gcap = 0, mcap = 0;
    const om_agg_sites *sites = &w->pf.sites;
    for (size_t i = 0; i < sites->nsites; i++) {
        const om_site *site = &sites->sites[i];
        if (!wanted(rq, only, site->site))
            continue;
        for (size_t g = 0; g < site->ngateways; g++)
            if (add_gateway(s, &gcap, site->site, site->gateways[g].id,
                            gw_row(s, site->site, site->gateways[g].id), true) < 0)
                return -1;
        for (size_t m = 0; m < site->nmeters; m++) {
            const om_meter *mt = &site->meters[m];
            if (add_meter(s, &mcap, site->site, mt->id, mt->gateway_id,
                          meter_row(s, site->site, mt->id),
                          active(mt, s->now) ? NULL : "inactive", health) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < s->ngw_rows; i++) {
        const om_site *site = om_portfolio_site(&w->pf, s->gw_rows[i].site);
        if (wanted(rq, only, s->gw_rows[i].site) &&
            (!site || !om_site_find_gateway(site, s->gw_rows[i].gateway)) &&
            add_gateway(s, &gcap, s->gw_rows[i].site, s->gw_rows[i].gateway, &s->gw_rows[i],
                        false) < 0)
            return -1;
    }
    for (size_t i = 0; i < s->nmeter_rows; i++) {
        const om_store_meter_row *r = &s->meter_rows[i];
        const om_site *site = om_portfolio_site(&w->pf, r->site);
        if (wanted(rq, only, r->site) && (!site || !om_site_find_meter(site, r->meter)) &&
            add_meter(s, &mcap, r->site, r->meter, NULL, r, "undeclared", health) < 0)
            return -1;
    }
    return 0;
}

int web_status_load(web_ctx *w, const web_req *rq, const char *only_site, bool errors,
                    web_status *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->now = web_now(w);
    out->stale_ms = (int64_t)w->cfg->stale_after_s * 1000;
    out->all = web_sees_all(rq);
    web_conn *c = web_conn_get(w);
    om_store *st = c->st;
    char **health = NULL;
    int rc = om_store_read_begin(st) < 0 ||
             om_store_gateways(st, &out->gw_rows, &out->ngw_rows) < 0 ||
             om_store_meters(st, &out->meter_rows, &out->nmeter_rows) < 0 ||
             om_store_reject_counts(st, &out->rejects, &out->nrejects) < 0 ||
             om_store_totals_quick(st, &out->totals) < 0 ||
             (om_store_has_hours(st) &&
              om_store_reading_counts(st, &out->counts, &out->ncounts) < 0)
                 ? -1
                 : 0;
    if (rc == 0 && errors && !(health = calloc(out->ngw_rows + 1, sizeof *health)))
        rc = -1;
    for (size_t i = 0; rc == 0 && health && i < out->ngw_rows; i++)
        if (wanted(rq, only_site, out->gw_rows[i].site) &&
            om_store_gateway_health_json(st, out->gw_rows[i].site, out->gw_rows[i].gateway,
                                         &health[i]) < 0)
            rc = -1;
    if (rc < 0)
        snprintf(err, errlen, "%s", om_store_errmsg(st));
    web_conn_put(w, c);
    if (rc == 0 && judge(w, rq, only_site, out, health) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; health && i < out->ngw_rows; i++)
        free(health[i]);
    free(health);
    if (rc < 0)
        web_status_free(out);
    return rc;
}

void web_status_free(web_status *s)
{
    free(s->gw_rows);
    free(s->meter_rows);
    free(s->counts);
    free(s->rejects);
    free(s->gateways);
    free(s->meters);
    memset(s, 0, sizeof *s);
}

static json_t *when(int64_t t)
{
    char buf[40];
    return t > 0 ? json_string(om_format_iso8601(t, buf, sizeof buf)) : json_null();
}

static json_t *age(const web_status *s, int64_t t)
{
    return t > 0 ? json_integer((s->now - t) / 1000) : json_null();
}

json_t *web_status_json(const web_status *s)
{
    json_t *gws = json_array(), *meters = json_array();
    for (size_t i = 0; i < s->ngateways; i++) {
        const web_gateway_status *g = &s->gateways[i];
        const om_store_gateway_row *r = g->row;
        int64_t seen = r ? r->last_seen : 0;
        json_array_append_new(
            gws, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:s}", "site", g->site,
                           "gateway", g->gateway, "state", r && r->state[0] ? r->state : "unknown",
                           "last_seen", when(seen), "age_s", age(s, seen), "outbox_depth",
                           r && r->outbox_depth >= 0 ? json_integer(r->outbox_depth) : json_null(),
                           "errors", r && r->errors >= 0 ? json_integer(r->errors) : json_null(),
                           "declared", g->declared, "status", g->stale ? "STALE" : "ok"));
    }
    for (size_t i = 0; i < s->nmeters; i++) {
        const web_meter_status *m = &s->meters[i];
        int64_t t = m->row ? m->row->last_t : 0;
        json_array_append_new(
            meters, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:s}", "site", m->site,
                              "meter", m->meter,
                              "gateway", m->gateway[0] ? json_string(m->gateway) : json_null(),
                              "last_reading", when(t), "age_s", age(s, t), "errors",
                              m->errors >= 0 ? json_integer(m->errors) : json_null(), "readings",
                              (json_int_t)m->readings, "status", m->status));
    }
    uint64_t readings = 0;
    for (size_t i = 0; i < s->nmeters; i++)
        readings += s->meters[i].readings;
    json_t *totals = s->all ? json_pack("{s:I, s:I, s:I, s:I}", "readings",
                                        (json_int_t)s->totals.readings, "conflicts",
                                        (json_int_t)s->totals.conflicts, "rejects",
                                        (json_int_t)s->totals.rejects, "quarantined",
                                        (json_int_t)s->totals.quarantined)
                            : json_pack("{s:I}", "readings", (json_int_t)readings);
    return json_pack("{s:o, s:I, s:o, s:o, s:o, s:I}", "now", when(s->now), "stale_after_s",
                     (json_int_t)(s->stale_ms / 1000), "gateways", gws, "meters", meters,
                     "totals", totals, "stale", (json_int_t)s->stale);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - /metrics: the database's figures in the Prometheus text
 * exposition format (version 0.0.4), for IT's Prometheus.
 *
 * Names follow Prometheus's conventions: the officemeter_ prefix, base
 * units (seconds, timestamps in seconds), _total for counters, no label
 * per reading (sites, gateways and meters are bounded by the site files).
 * These come from the database, so any number of web daemons agree; what
 * only the aggregator process knows (commit latency, messages since it
 * started) is on the aggregator's own metrics_listen (docs/web.md,
 * "Metrics").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_data.h"
#include "web.h"

static void head(wbuf *b, const char *name, const char *type, const char *help)
{
    wb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(wbuf *b, const char *name, const char *value, bool first)
{
    wb_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            wb_printf(b, "\\%c", *p);
        else if (*p == '\n')
            wb_put(b, "\\n");
        else
            wb_putn(b, p, 1);
    }
    wb_put(b, "\"");
}

static void gateway_metrics(wbuf *b, const web_status *st)
{
    size_t online = 0;
    for (size_t i = 0; i < st->ngateways; i++)
        online += st->gateways[i].row && strcmp(st->gateways[i].row->state, "online") == 0;
    head(b, "officemeter_gateways", "gauge", "Gateways declared in the site files or seen.");
    wb_printf(b, "officemeter_gateways %zu\n", st->ngateways);
    head(b, "officemeter_gateways_online", "gauge",
         "Gateways whose last status message said online.");
    wb_printf(b, "officemeter_gateways_online %zu\n", online);
    head(b, "officemeter_gateway_up", "gauge", "1 when the gateway's last status was online.");
    for (size_t i = 0; i < st->ngateways; i++) {
        const web_gateway_status *g = &st->gateways[i];
        wb_put(b, "officemeter_gateway_up{");
        label(b, "site", g->site, true);
        label(b, "gateway", g->gateway, false);
        wb_printf(b, "} %d\n", g->row && strcmp(g->row->state, "online") == 0);
    }
    head(b, "officemeter_gateway_last_seen_timestamp_seconds", "gauge",
         "When the aggregator last received anything from the gateway.");
    for (size_t i = 0; i < st->ngateways; i++) {
        const web_gateway_status *g = &st->gateways[i];
        if (!g->row || g->row->last_seen <= 0)
            continue;
        wb_put(b, "officemeter_gateway_last_seen_timestamp_seconds{");
        label(b, "site", g->site, true);
        label(b, "gateway", g->gateway, false);
        wb_printf(b, "} %.3f\n", (double)g->row->last_seen / 1000);
    }
    head(b, "officemeter_gateway_outbox_polls", "gauge",
         "Polls waiting in the gateway's outbox, from its last health message.");
    for (size_t i = 0; i < st->ngateways; i++) {
        const web_gateway_status *g = &st->gateways[i];
        if (!g->row || g->row->outbox_depth < 0)
            continue;
        wb_put(b, "officemeter_gateway_outbox_polls{");
        label(b, "site", g->site, true);
        label(b, "gateway", g->gateway, false);
        wb_printf(b, "} %lld\n", (long long)g->row->outbox_depth);
    }
}

static void meter_metrics(wbuf *b, const web_status *st)
{
    head(b, "officemeter_meter_last_reading_timestamp_seconds", "gauge",
         "Time of the meter's latest stored reading.");
    for (size_t i = 0; i < st->nmeters; i++) {
        const web_meter_status *m = &st->meters[i];
        if (!m->row || m->row->last_t <= 0)
            continue;
        wb_put(b, "officemeter_meter_last_reading_timestamp_seconds{");
        label(b, "site", m->site, true);
        label(b, "meter", m->meter, false);
        wb_printf(b, "} %.3f\n", (double)m->row->last_t / 1000);
    }
    head(b, "officemeter_meter_stale", "gauge",
         "1 when an active meter has no reading newer than stale_after_s.");
    for (size_t i = 0; i < st->nmeters; i++) {
        const web_meter_status *m = &st->meters[i];
        wb_put(b, "officemeter_meter_stale{");
        label(b, "site", m->site, true);
        label(b, "meter", m->meter, false);
        wb_printf(b, "} %d\n", m->stale);
    }
    head(b, "officemeter_meter_readings_total", "counter", "Readings stored for the meter.");
    for (size_t i = 0; i < st->nmeters; i++) {
        const web_meter_status *m = &st->meters[i];
        wb_put(b, "officemeter_meter_readings_total{");
        label(b, "site", m->site, true);
        label(b, "meter", m->meter, false);
        wb_printf(b, "} %llu\n", (unsigned long long)m->readings);
    }
}

static void store_metrics(wbuf *b, const web_status *st)
{
    head(b, "officemeter_readings_stored_total", "counter", "Readings in the database.");
    wb_printf(b, "officemeter_readings_stored_total %llu\n",
              (unsigned long long)st->totals.readings);
    head(b, "officemeter_conflicts_total", "counter",
         "Readings offered again with another value (the stored one kept).");
    wb_printf(b, "officemeter_conflicts_total %llu\n", (unsigned long long)st->totals.conflicts);
    head(b, "officemeter_quarantined_polls", "gauge",
         "Polls held because their meter is not declared.");
    wb_printf(b, "officemeter_quarantined_polls %llu\n",
              (unsigned long long)st->totals.quarantined);
    head(b, "officemeter_rejects_total", "counter",
         "Messages and polls the aggregator refused, by reject code.");
    /* reject_counts is per (site, gateway, code): summed per code here. */
    for (size_t i = 0; i < st->nrejects; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(st->rejects[k].code, st->rejects[i].code) == 0;
        if (seen)
            continue;
        uint64_t n = 0;
        for (size_t k = i; k < st->nrejects; k++)
            if (strcmp(st->rejects[k].code, st->rejects[i].code) == 0)
                n += st->rejects[k].count;
        wb_put(b, "officemeter_rejects_total{");
        label(b, "code", st->rejects[i].code, true);
        wb_printf(b, "} %llu\n", (unsigned long long)n);
    }
}

void web_metrics(web_ctx *w, const web_req *rq, web_resp *rs)
{
    web_status st;
    char err[1024];
    if (web_status_load(w, rq, NULL, false, &st, err, sizeof err) < 0) {
        web_error(rq, rs, 500, "%s", err);
        return;
    }
    wbuf *b = &rs->body;
    rs->type = "text/plain; version=0.0.4; charset=utf-8";
    rs->no_store = true;
    head(b, "officemeter_build_info", "gauge", "The program's version, always 1.");
    wb_put(b, "officemeter_build_info{program=\"officemeter-web\",version=\"" OM_VERSION
              "\"} 1\n");
    gateway_metrics(b, &st);
    meter_metrics(b, &st);
    store_metrics(b, &st);
    uint64_t req[6];
    pthread_mutex_lock(&w->lock);
    memcpy(req, w->requests, sizeof req);
    uint64_t computed = w->pages_computed, shared = w->pages_shared;
    pthread_mutex_unlock(&w->lock);
    static const char *const classes[] = {"2xx", "3xx", "4xx", "5xx"};
    head(b, "officemeter_web_requests_total", "counter",
         "HTTP requests answered by officemeter-web, by status class.");
    for (int i = 0; i < 4; i++)
        wb_printf(b, "officemeter_web_requests_total{code=\"%s\"} %llu\n", classes[i],
                  (unsigned long long)req[i]);
    head(b, "officemeter_web_page_cache_computed_total", "counter",
         "Answers computed to be kept page_cache_s seconds (once per URL and user however "
         "many ask at once).");
    wb_printf(b, "officemeter_web_page_cache_computed_total %llu\n",
              (unsigned long long)computed);
    head(b, "officemeter_web_page_cache_shared_total", "counter",
         "Requests answered by waiting for the same answer another request was computing.");
    wb_printf(b, "officemeter_web_page_cache_shared_total %llu\n", (unsigned long long)shared);
    web_status_free(&st);
}

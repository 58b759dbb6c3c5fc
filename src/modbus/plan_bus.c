/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_bus.c - request plans per bus and per gateway, and their totals.
 *
 * A bus plan holds the plans of the gateway's meters on that bus, in site
 * file order, and what one poll cycle costs there: requests, registers,
 * bytes each way and, on a serial bus, an estimate of the time the cycle
 * occupies the line (plan_wire.c). The same sums for one request per
 * quantity are kept next to them, because that is what the saving is
 * measured against (in --plan output and in the benchmarks).
 */
#include "officemeter/modbus/plan.h"

#include <stdlib.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool on_bus(const om_meter *m, const char *gateway_id, const char *bus_id)
{
    return same(m->gateway_id, gateway_id) && same(m->bus_id, bus_id);
}

/* One read of `registers` added to the running sums. */
static void add_read(const om_bus_plan *plan, unsigned registers, unsigned min_gap_ms,
                     size_t *bytes_sent, size_t *bytes_received, uint64_t *wire_us)
{
    *bytes_sent += om_plan_request_bytes(plan->bus->kind);
    *bytes_received += om_plan_response_bytes(plan->bus->kind, registers);
    if (plan->bus->kind == OM_BUS_RTU)
        *wire_us += om_rtu_read_us(&plan->bus->rtu, registers, min_gap_ms, plan->turnaround_us);
}

static void add_meter(const om_bus_plan *plan, const om_meter_plan *mp, om_plan_totals *t)
{
    unsigned gap = mp->model->min_gap_ms;
    size_t naive_sent = 0, naive_received = 0;
    for (size_t r = 0; r < mp->nrequests; r++) {
        const om_plan_request *req = &mp->requests[r];
        t->requests++;
        t->registers += req->count;
        add_read(plan, req->count, gap, &t->bytes_sent, &t->bytes_received, &t->wire_us);
        for (size_t i = 0; i < req->nitems; i++) {
            t->naive_requests++;
            add_read(plan, req->items[i].count, gap, &naive_sent, &naive_received,
                     &t->naive_wire_us);
        }
    }
    t->naive_bytes += naive_sent + naive_received;
}

void om_bus_plan_totals(om_bus_plan *plan)
{
    om_plan_totals t;
    memset(&t, 0, sizeof t);
    t.meters = plan->nmeters;
    for (size_t i = 0; i < plan->nmeters; i++)
        add_meter(plan, &plan->meters[i], &t);
    plan->totals = t;
}

int om_plan_bus(const om_site *site, const char *gateway_id, const char *bus_id,
                const om_plan_options *opts, om_bus_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->site = site;
    out->gateway = om_site_find_gateway(site, gateway_id);
    if (!out->gateway) {
        snprintf(err, errlen, "%s: no gateway %s", site->path ? site->path : site->site,
                 gateway_id);
        return -1;
    }
    out->bus = om_gateway_find_bus(out->gateway, bus_id);
    if (!out->bus) {
        snprintf(err, errlen, "%s: gateway %s has no bus %s", site->path ? site->path : site->site,
                 gateway_id, bus_id);
        return -1;
    }
    out->turnaround_us = opts ? opts->turnaround_us : OM_PLAN_DEFAULT_TURNAROUND_US;
    /* The bus's own merge-gap limit: the caller's options for its line. */
    om_plan_options bus_opts;
    if (opts)
        bus_opts = *opts;
    else
        om_plan_options_init(&bus_opts);
    bus_opts.transport = out->bus->declared_kind;

    size_t n = 0;
    for (size_t i = 0; i < site->nmeters; i++)
        n += on_bus(&site->meters[i], gateway_id, bus_id);
    out->meters = n ? calloc(n, sizeof *out->meters) : NULL;
    if (n && !out->meters) {
        snprintf(err, errlen, "bus %s: out of memory for %zu meter plans", bus_id, n);
        return -1;
    }
    for (size_t i = 0; i < site->nmeters; i++) {
        if (!on_bus(&site->meters[i], gateway_id, bus_id))
            continue;
        if (om_plan_meter(&site->meters[i], &bus_opts, NULL, &out->meters[out->nmeters], err,
                          errlen) < 0) {
            om_bus_plan_free(out);
            return -1;
        }
        out->nmeters++;
    }
    om_bus_plan_totals(out);
    return 0;
}

void om_bus_plan_free(om_bus_plan *plan)
{
    if (!plan)
        return;
    free(plan->meters);
    plan->meters = NULL;
    plan->nmeters = 0;
}

int om_plan_gateway(const om_site *site, const char *gateway_id, const om_plan_options *opts,
                    om_gateway_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->gateway = om_site_find_gateway(site, gateway_id);
    if (!out->gateway) {
        snprintf(err, errlen, "%s: no gateway %s", site->path ? site->path : site->site,
                 gateway_id);
        return -1;
    }
    size_t n = out->gateway->nbuses;
    out->buses = n ? calloc(n, sizeof *out->buses) : NULL;
    if (n && !out->buses) {
        snprintf(err, errlen, "gateway %s: out of memory for %zu bus plans", gateway_id, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (om_plan_bus(site, gateway_id, out->gateway->buses[i].id, opts, &out->buses[i], err,
                        errlen) < 0) {
            om_gateway_plan_free(out);
            return -1;
        }
        out->nbuses++;
    }
    return 0;
}

void om_gateway_plan_free(om_gateway_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->nbuses; i++)
        om_bus_plan_free(&plan->buses[i]);
    free(plan->buses);
    plan->buses = NULL;
    plan->nbuses = 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollup.c - one meter's month from its counter readings (pure).
 *
 * The counter curve is built from the month's readings plus a few on each
 * side (OM_ROLLUP_CONTEXT), so the boundary values interpolate between the
 * nearest real readings and a month's figures equal what a curve over the
 * whole year would give for that month.
 */
#include "officemeter/report/rollup.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"

#define NIGHT_END_S (5 * 3600)

static void nights_free(om_nights *nights)
{
    if (!nights)
        return;
    free(nights->windows);
    nights->windows = NULL;
    nights->n = 0;
}

static int nights_of_month(const char *zone, int year, unsigned month, om_nights *out)
{
    memset(out, 0, sizeof *out);
    if (month < 1 || month > 12)
        return -1;
    unsigned days = om_days_in_month(year, month);
    out->windows = calloc(days, sizeof *out->windows);
    if (!out->windows)
        return -1;
    int32_t first = om_days_from_civil(year, month, 1);
    for (unsigned d = 0; d < days; d++) {
        if (om_tz_local_to_utc(zone, first + (int32_t)d, 0, &out->windows[d][0]) < 0 ||
            om_tz_local_to_utc(zone, first + (int32_t)d, NIGHT_END_S, &out->windows[d][1]) < 0) {
            nights_free(out);
            return -1;
        }
    }
    out->n = days;
    return 0;
}

size_t om_rollup_quantities(const om_site *site, const om_meter *meter, om_quantity out[2])
{
    if (meter->utility == OM_UTILITY_WATER) {
        out[0] = OM_Q_WATER_M3;
        return 1;
    }
    out[0] = OM_Q_ENERGY_IMPORT_KWH;
    if (site->net_export &&
        (!meter->model || om_model_find_quantity(meter->model, OM_Q_ENERGY_EXPORT_KWH))) {
        out[1] = OM_Q_ENERGY_EXPORT_KWH;
        return 2;
    }
    return 1;
}

static om_quantity rollup_rate_quantity(const om_meter *meter)
{
    return meter->utility == OM_UTILITY_WATER ? OM_Q_FLOW_M3H : OM_Q_POWER_KW;
}

static double value_for(const om_counter_value *vals, size_t n, om_quantity q)
{
    for (size_t i = 0; i < n; i++)
        if (vals[i].quantity == q)
            return vals[i].value;
    return NAN;
}

int om_rollup_counter_opts(const om_site *site, const om_meter *meter, om_quantity q,
                           const om_policy *policy, om_counter_opts *opts,
                           om_counter_break **breaks)
{
    om_counter_opts_default(opts);
    *breaks = NULL;
    const om_quantity_def *def = meter->model ? om_model_find_quantity(meter->model, q) : NULL;
    if (def && def->rollover > 0)
        opts->width = def->rollover * om_quantity_spec(def, meter->litres_per_pulse).scale;
    opts->max_rate_per_h =
        meter->utility == OM_UTILITY_WATER ? policy->max_flow_m3h : policy->max_power_kw;
    opts->interval_ms = (int64_t)policy->poll_interval_s * 1000;
    opts->gap_intervals = policy->gap_intervals;
    opts->active_from = meter->active_from;
    opts->active_until = meter->active_until;
    size_t n = 0;
    for (size_t i = 0; i < site->nreplacements; i++)
        n += strcmp(site->replacements[i].meter_id, meter->id) == 0;
    if (n == 0)
        return 0;
    om_counter_break *b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < site->nreplacements; i++) {
        const om_replacement *r = &site->replacements[i];
        if (strcmp(r->meter_id, meter->id) != 0)
            continue;
        b[k].at = r->at;
        b[k].old_final = value_for(r->old_final, r->nold_final, q);
        b[k].new_initial = value_for(r->new_initial, r->nnew_initial, q);
        k++;
    }
    opts->breaks = b;
    opts->nbreaks = n;
    *breaks = b;
    return 0;
}

/* Mean rate over each complete night (data all through, no gap): kW from
 * kWh, m³/h from m³. */
static void night_rates(const om_counter *c, const om_nights *nights, om_meter_month *out)
{
    double sum = 0, min = NAN;
    uint32_t count = 0;
    for (size_t i = 0; nights && i < nights->n; i++) {
        om_consumption r;
        int64_t a = nights->windows[i][0], b = nights->windows[i][1];
        if (om_counter_consumption(c, a, b, &r) < 0 || r.expected_ms != b - a ||
            r.actual_ms != r.expected_ms)
            continue;
        double rate = r.value / ((double)r.expected_ms / 3600000.0);
        sum += rate;
        if (count == 0 || rate < min)
            min = rate;
        count++;
    }
    out->nights = count;
    out->night_avg = count ? sum / count : NAN;
    out->night_min = count ? min : NAN;
}

static int append_events(const om_counter *c, const om_meter *meter, const om_meter_month *m,
                         om_month_event **events, size_t *nevents)
{
    size_t n;
    const om_counter_event *ev = om_counter_events(c, &n);
    int64_t a = m->start, b = m->end;
    /* Outside its service life a meter's silence or noise is no concern. */
    if (om_meter_active_clip(meter, &a, &b) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!om_counter_event_in(&ev[i], a, b))
            continue;
        om_month_event *grown = realloc(*events, (*nevents + 1) * sizeof *grown);
        if (!grown)
            return -1;
        *events = grown;
        om_month_event *e = &grown[(*nevents)++];
        memset(e, 0, sizeof *e);
        memcpy(e->site, m->site, sizeof e->site);
        memcpy(e->meter, m->meter, sizeof e->meter);
        e->quantity = m->quantity;
        e->year = m->year;
        e->month = m->month;
        e->ev = ev[i];
        if (e->ev.kind == OM_CEV_GAP) {
            /* A month records its own part of a gap, so that the parts of a
             * gap across months add up to the gap. */
            om_consumption part;
            e->ev.t = e->ev.t > a ? e->ev.t : a;
            e->ev.t_end = e->ev.t_end < b ? e->ev.t_end : b;
            om_counter_consumption(c, e->ev.t, e->ev.t_end, &part);
            e->ev.counted = part.value;
        }
    }
    return 0;
}

static void copy_id(char *dst, const char *src)
{
    size_t len = strlen(src);
    if (len >= OM_ID_MAX)
        len = OM_ID_MAX - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int rollup_meter(const om_rollup_job *job, const om_sample *samples, size_t n,
                    om_meter_month *out, om_month_event **events, size_t *nevents)
{
    memset(out, 0, sizeof *out);
    copy_id(out->site, job->site->site);
    copy_id(out->meter, job->meter->id);
    out->quantity = job->quantity;
    out->utility = job->meter->utility;
    out->role = job->meter->role;
    out->year = job->year;
    out->month = job->month;
    out->rate_min = out->rate_max = NAN;
    out->computed_at = job->now;
    if (om_month_bounds(job->site->timezone, job->year, job->month, &out->start, &out->end) < 0) {
        errno = EINVAL;
        return -1;
    }
    out->provisional = job->now < out->end;
    om_counter_opts opts;
    om_counter_break *breaks;
    if (om_rollup_counter_opts(job->site, job->meter, job->quantity, job->policy, &opts,
                               &breaks) < 0)
        return -1;
    om_counter *c = om_counter_new(samples, n, &opts);
    free(breaks);
    if (!c)
        return -1;
    om_consumption r;
    om_counter_consumption(c, out->start, out->end, &r);
    out->consumption = r.value;
    out->estimated = r.estimated;
    out->expected_ms = r.expected_ms;
    out->known_ms = r.known_ms;
    out->actual_ms = r.actual_ms;
    out->start_known = r.start_known;
    out->end_known = r.end_known;
    out->nreadings = (uint32_t)om_samples_count(samples, n, out->start, out->end);
    om_sha256_samples(samples, n, out->readings_sha256);
    night_rates(c, job->nights, out);
    size_t before = *nevents;
    int rc = append_events(c, job->meter, out, events, nevents);
    out->nevents = (uint32_t)(*nevents - before);
    om_counter_free(c);
    return rc;
}

int om_rollup_site_month(const om_site *site, const om_policy *policy, int year, unsigned month,
                         int64_t now, const om_rollup_source *src, om_meter_month **rows,
                         size_t *nrows, om_month_event **events, size_t *nevents)
{
    *rows = NULL;
    *nrows = 0;
    *events = NULL;
    *nevents = 0;
    int64_t start, end;
    om_nights nights;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0 ||
        nights_of_month(site->timezone, year, month, &nights) < 0) {
        errno = EINVAL;
        return -1;
    }
    om_meter_month *out = calloc(site->nmeters * 2 + 1, sizeof *out);
    if (!out) {
        nights_free(&nights);
        return -1;
    }
    int rc = 0;
    size_t n = 0;
    for (size_t i = 0; i < site->nmeters && rc == 0; i++) {
        const om_meter *m = &site->meters[i];
        int64_t a = start, b = end;
        if (om_meter_active_clip(m, &a, &b) == 0)
            continue; /* not in service: no row, nothing expected */
        om_quantity qs[2];
        size_t nq = om_rollup_quantities(site, m, qs);
        for (size_t k = 0; k < nq && rc == 0; k++) {
            om_sample *samples = NULL;
            size_t ns = 0;
            om_rollup_job job = {site, m, qs[k], policy, year, month, &nights, now};
            rc = src->counter(src->user, site, m, qs[k], start, end, OM_ROLLUP_CONTEXT, &samples,
                              &ns);
            if (rc == 0)
                rc = rollup_meter(&job, samples, ns, &out[n], events, nevents);
            free(samples);
            uint64_t dropped = 0;
            if (rc == 0 && src->thinned &&
                (rc = src->thinned(src->user, site, m, qs[k], start, end, &dropped)) == 0)
                out[n].nreadings += (uint32_t)dropped;
            if (rc == 0 && k == 0 && src->rates)
                rc = src->rates(src->user, site, m, rollup_rate_quantity(m), a, b,
                                &out[n].rate_min, &out[n].rate_max);
            if (rc == 0)
                n++;
        }
    }
    nights_free(&nights);
    if (rc < 0) {
        free(out);
        free(*events);
        *events = NULL;
        *nevents = 0;
        return -1;
    }
    *rows = out;
    *nrows = n;
    return 0;
}

int om_rollup_site_digests(const om_site *site, int year, unsigned month,
                           const om_rollup_source *src, om_readings_digest **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0) {
        errno = EINVAL;
        return -1;
    }
    om_readings_digest *d = calloc(site->nmeters * 2 + 1, sizeof *d);
    if (!d)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < site->nmeters; i++) {
        const om_meter *m = &site->meters[i];
        int64_t a = start, b = end;
        if (om_meter_active_clip(m, &a, &b) == 0)
            continue;
        om_quantity qs[2];
        size_t nq = om_rollup_quantities(site, m, qs);
        for (size_t q = 0; q < nq; q++) {
            om_sample *samples = NULL;
            size_t ns = 0;
            if (src->counter(src->user, site, m, qs[q], start, end, OM_ROLLUP_CONTEXT, &samples,
                             &ns) < 0) {
                free(d);
                return -1;
            }
            copy_id(d[k].meter, m->id);
            d[k].quantity = qs[q];
            om_sha256_samples(samples, ns, d[k].sha256);
            free(samples);
            k++;
        }
    }
    *out = d;
    *n = k;
    return 0;
}

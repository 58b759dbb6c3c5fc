/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_night.c - the night rules: water_night_flow (a leak: water runs all
 * night) and base_load_rise (an electricity main meter's night base load
 * above its own median).
 *
 * A night is the window night_from..night_to (default 01:00-05:00) of a
 * local date in the site's zone, converted at each night's own offset: on
 * the night clocks go forward the window is an hour shorter, on the night
 * they go back an hour longer, and flows and loads are per hour of the
 * window as it really was. A night is judged once, in date order, when the
 * readings reach settle_minutes past its end; a night without actual data
 * all through (a gap, out of service) is unknown and neither extends nor
 * breaks a streak.
 */
#include "alerts_private.h"

#include <math.h>
#include <stdlib.h>

/* The lowest flow over the night's steps (m³/h), or the mean load (kW). */
static bool night_value(const om_alert_job *job, int64_t a, int64_t b, double *out)
{
    const om_counter *c = job->series->curve;
    if (job->rule == OM_ALERT_BASE_LOAD_RISE) {
        double kwh;
        if (!alert_complete(c, a, b, &kwh))
            return false;
        *out = kwh / ((double)(b - a) / HOUR_MS);
        return true;
    }
    int64_t step = (int64_t)job->set->p[OM_AP_STEP_MINUTES] * 60000;
    double lowest = INFINITY;
    for (int64_t t = a; t < b; t += step) {
        int64_t e = t + step < b ? t + step : b;
        double m3;
        if (!alert_complete(c, t, e, &m3))
            return false;
        double flow = m3 / ((double)(e - t) / HOUR_MS);
        if (flow < lowest)
            lowest = flow;
    }
    *out = lowest;
    return isfinite(lowest);
}

static json_t *night_evidence(const om_alert_job *job, const om_alert_state *s, size_t n,
                              double baseline)
{
    json_t *ev = json_object();
    const char *zone = job->site->timezone;
    size_t from = s->npts > n ? s->npts - n : 0;
    char window[48];
    unsigned wf = (unsigned)job->set->p[OM_AP_NIGHT_FROM] % 1441;
    unsigned wt = (unsigned)job->set->p[OM_AP_NIGHT_TO] % 1441;
    snprintf(window, sizeof window, "%02u:%02u-%02u:%02u", wf / 60, wf % 60, wt / 60, wt % 60);
    json_object_set_new(ev, "window", json_string(window));
    if (job->rule == OM_ALERT_WATER_NIGHT_FLOW) {
        json_object_set_new(ev, "threshold_m3h", json_real(job->set->p[OM_AP_FLOW_M3H]));
        json_object_set_new(ev, "clear_m3h", json_real(job->set->p[OM_AP_CLEAR_FLOW_M3H]));
        json_object_set_new(ev, "step_minutes", json_integer((json_int_t)job->set->p[OM_AP_STEP_MINUTES]));
        json_object_set_new(ev, "nights", alert_json_points(s->pts + from, s->npts - from, zone,
                                                            "min_flow_m3h"));
    } else {
        json_object_set_new(ev, "baseline_kw", json_real(baseline));
        json_object_set_new(ev, "percent", json_real(job->set->p[OM_AP_PERCENT]));
        json_object_set_new(ev, "kw", json_real(job->set->p[OM_AP_KW]));
        json_object_set_new(ev, "nights", alert_json_points(s->pts + from, s->npts - from, zone,
                                                            "base_kw"));
    }
    return ev;
}

static void lowest_highest(const om_alert_state *s, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = s->npts > n ? s->npts - n : 0; i < s->npts; i++) {
        *lo = s->pts[i].v < *lo ? s->pts[i].v : *lo;
        *hi = s->pts[i].v > *hi ? s->pts[i].v : *hi;
    }
}

static int judge_water(const om_alert_job *job, om_alert_state *s, int64_t a, int64_t b,
                       double flow, om_alert_transitions *out)
{
    const om_alert_settings *p = job->set;
    double lo, hi;
    if (!s->open) {
        if (flow <= p->p[OM_AP_FLOW_M3H]) {
            s->streak = 0;
            s->npts = 0;
            return 0;
        }
        s->streak++;
        alert_point_push(s, a, flow);
        if (s->streak < (unsigned)p->p[OM_AP_NIGHTS])
            return 0;
        s->open = true;
        s->clear_streak = 0;
        lowest_highest(s, s->streak, &lo, &hi);
        return alert_emit(out, OM_ALERT_FIRE, b, night_evidence(job, s, s->streak, 0),
                          "%s: water ran all night on %u nights in a row (lowest flow "
                          "%.3f-%.3f m³/h, threshold %g m³/h): a leak?",
                          job->meter->id, s->streak, lo, hi, p->p[OM_AP_FLOW_M3H]);
    }
    alert_point_push(s, a, flow);
    if (flow > p->p[OM_AP_CLEAR_FLOW_M3H]) {
        s->clear_streak = 0;
        return 0;
    }
    if (++s->clear_streak < (unsigned)p->p[OM_AP_CLEAR_NIGHTS])
        return 0;
    unsigned n = s->clear_streak;
    lowest_highest(s, n, &lo, &hi);
    s->open = false;
    s->streak = s->clear_streak = 0;
    int rc = alert_emit(out, OM_ALERT_RESOLVE, b, night_evidence(job, s, n, 0),
                        "%s: no water at night on %u nights in a row (highest flow %.3f m³/h)",
                        job->meter->id, n, hi);
    s->npts = 0;
    return rc;
}

static int judge_base(const om_alert_job *job, om_alert_state *s, int64_t a, int64_t b,
                      double load, om_alert_transitions *out)
{
    const om_alert_settings *p = job->set;
    size_t want = (size_t)p->p[OM_AP_BASELINE_NIGHTS];
    double vals[OM_ALERT_HISTORY];
    size_t n = alert_hist_values(s, want, vals);
    int rc = 0;
    if (s->open || n >= (size_t)p->p[OM_AP_MIN_BASELINE_NIGHTS]) {
        double baseline = s->open ? s->baseline : om_alert_median(vals, n);
        double rise = load - baseline;
        bool bad = rise > baseline * p->p[OM_AP_PERCENT] / 100.0 && rise >= p->p[OM_AP_KW];
        bool clear = rise <= baseline * p->p[OM_AP_CLEAR_PERCENT] / 100.0 || rise < p->p[OM_AP_KW] / 2;
        double lo, hi;
        if (!s->open && !bad) {
            s->streak = 0;
            s->npts = 0;
        } else if (!s->open) {
            s->streak++;
            alert_point_push(s, a, load);
            if (s->streak >= (unsigned)p->p[OM_AP_NIGHTS]) {
                s->open = true;
                s->baseline = baseline;
                s->clear_streak = 0;
                lowest_highest(s, s->streak, &lo, &hi);
                rc = alert_emit(out, OM_ALERT_FIRE, b, night_evidence(job, s, s->streak, baseline),
                                "%s: night base load %.1f-%.1f kW on %u nights in a row, "
                                "%.0f %% above its %zu-night median of %.1f kW",
                                job->meter->id, lo, hi, s->streak,
                                baseline > 0 ? (lo / baseline - 1) * 100 : 0, n, baseline);
            }
        } else {
            alert_point_push(s, a, load);
            if (!clear) {
                s->clear_streak = 0;
            } else if (++s->clear_streak >= (unsigned)p->p[OM_AP_CLEAR_NIGHTS]) {
                unsigned k = s->clear_streak;
                lowest_highest(s, k, &lo, &hi);
                rc = alert_emit(out, OM_ALERT_RESOLVE, b, night_evidence(job, s, k, baseline),
                                "%s: night base load back to %.1f-%.1f kW (median %.1f kW) on "
                                "%u nights in a row",
                                job->meter->id, lo, hi, baseline, k);
                s->open = false;
                s->baseline = 0;
                s->streak = s->clear_streak = 0;
                s->npts = 0;
            }
        }
    }
    /* The baseline is the meter's own past: nights judged while no alert
     * is open (an open alert keeps the baseline it fired against). */
    if (!s->open)
        alert_hist_push(s, a, load, want);
    return rc;
}

int alert_rule_night(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out)
{
    const om_alert_series *se = job->series;
    if (!se || !se->curve)
        return 0;
    if (s->cursor == 0)
        s->cursor = om_alert_needs_from(job, s, job->meter_facts);
    if (s->cursor == 0 || s->cursor == INT64_MAX) {
        s->cursor = 0;
        return 0;
    }
    const char *zone = job->site->timezone;
    unsigned from = (unsigned)job->set->p[OM_AP_NIGHT_FROM];
    unsigned to = (unsigned)job->set->p[OM_AP_NIGHT_TO];
    int64_t settle = (int64_t)job->set->p[OM_AP_SETTLE_MINUTES] * 60000;
    om_date d;
    if (alert_local_date(zone, s->cursor, &d) < 0)
        return -1;
    for (d -= 1;; d++) {
        int64_t a, b;
        if (alert_night_window(zone, d, from, to, &a, &b) < 0)
            return -1;
        if (a < s->cursor)
            continue;
        if (b + settle > se->data_end) {
            s->next_due = b;
            break;
        }
        double v;
        if (night_value(job, a, b, &v)) {
            int rc = job->rule == OM_ALERT_BASE_LOAD_RISE ? judge_base(job, s, a, b, v, out)
                                                          : judge_water(job, s, a, b, v, out);
            if (rc < 0)
                return -1;
        }
        s->cursor = b;
    }
    return 0;
}

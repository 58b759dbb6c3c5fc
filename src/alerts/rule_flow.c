/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_flow.c - water_continuous_flow: water used in every hour of the
 * last `hours` hours (24 by default): not one hour without consumption.
 *
 * Hours are the hours of the clock in UTC (the hours of every zone with a
 * whole-hour offset), judged once each, in order, when the readings reach
 * settle_minutes past the hour's end. An hour with at most zero_m3 is a
 * zero hour. An hour without actual data (a gap) starts the count again:
 * it is not known to have had water. The alert resolves after clear_hours
 * zero hours in a row.
 */
#include "alerts_private.h"

#include <math.h>

static json_t *flow_evidence(const om_alert_job *job, const om_alert_state *s, int64_t end)
{
    double least = INFINITY, sum = 0;
    for (size_t i = 0; i < s->nhist; i++) {
        least = s->hist[i].v < least ? s->hist[i].v : least;
        sum += s->hist[i].v;
    }
    json_t *ev = json_object();
    json_object_set_new(ev, "hours", json_integer((json_int_t)s->nhist));
    json_object_set_new(ev, "from", alert_json_time(end - (int64_t)s->nhist * HOUR_MS));
    json_object_set_new(ev, "to", alert_json_time(end));
    json_object_set_new(ev, "least_hour_m3", json_real(s->nhist ? least : 0));
    json_object_set_new(ev, "mean_m3h", json_real(s->nhist ? sum / (double)s->nhist : 0));
    json_object_set_new(ev, "zero_m3", json_real(job->set->p[OM_AP_ZERO_M3]));
    return ev;
}

static int judge_hour(const om_alert_job *job, om_alert_state *s, int64_t end, bool known,
                      double m3, om_alert_transitions *out)
{
    const om_alert_settings *p = job->set;
    unsigned hours = (unsigned)p->p[OM_AP_HOURS];
    bool zero = m3 <= p->p[OM_AP_ZERO_M3];
    if (!s->open) {
        if (!known || zero) {
            s->streak = 0;
            s->nhist = 0;
            return 0;
        }
        s->streak++;
        alert_hist_push(s, end - HOUR_MS, m3, hours);
        if (s->streak < hours)
            return 0;
        s->open = true;
        s->clear_streak = 0;
        json_t *ev = flow_evidence(job, s, end);
        double least = json_real_value(json_object_get(ev, "least_hour_m3"));
        double mean = json_real_value(json_object_get(ev, "mean_m3h"));
        return alert_emit(out, OM_ALERT_FIRE, end, ev,
                          "%s: water used in every hour of the last %u hours (least %.3f m³ "
                          "in an hour, %.3f m³/h on average)",
                          job->meter->id, hours, least, mean);
    }
    if (!known)
        return 0;
    if (!zero) {
        s->clear_streak = 0;
        return 0;
    }
    if (++s->clear_streak < (unsigned)p->p[OM_AP_CLEAR_HOURS])
        return 0;
    unsigned n = s->clear_streak;
    s->open = false;
    s->streak = s->clear_streak = 0;
    s->nhist = 0;
    json_t *ev = json_object();
    json_object_set_new(ev, "zero_hours", json_integer(n));
    json_object_set_new(ev, "to", alert_json_time(end));
    return alert_emit(out, OM_ALERT_RESOLVE, end, ev, "%s: no water for %u hours in a row",
                      job->meter->id, n);
}

int alert_rule_continuous_flow(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out)
{
    const om_alert_series *se = job->series;
    if (!se || !se->curve)
        return 0;
    if (s->cursor == 0) {
        int64_t from = om_alert_needs_from(job, s, job->meter_facts);
        if (from == INT64_MAX)
            return 0;
        s->cursor = (from + HOUR_MS - 1) / HOUR_MS * HOUR_MS; /* the next whole hour */
    }
    int64_t settle = (int64_t)job->set->p[OM_AP_SETTLE_MINUTES] * 60000;
    for (int64_t t = s->cursor; t + HOUR_MS + settle <= se->data_end; t += HOUR_MS) {
        double m3 = 0;
        bool known = alert_complete(se->curve, t, t + HOUR_MS, &m3);
        if (judge_hour(job, s, t + HOUR_MS, known, m3, out) < 0)
            return -1;
        s->cursor = t + HOUR_MS;
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_counter.c - counter_anomaly: a reset, a glitch, a backwards step or
 * a jump that the consumption engine had to handle.
 *
 * There is no second detector: the events are the consumption engine's own
 * (report/consumption.h), on a curve built with the rollup's options, so
 * the alert names exactly what the month's rollup will count. An event is
 * judged once it is decided (the engine's look-ahead readings have
 * arrived: final_end), in time order. The first fires; later ones keep the
 * alert open and are counted; it resolves clear_hours of data time after
 * the last one.
 */
#include "alerts_private.h"

#include <stdio.h>

#include "officemeter/base/isotime.h"

static unsigned event_bit(om_counter_event_kind k)
{
    switch (k) {
    case OM_CEV_RESET: return OM_ALERT_EV_RESET;
    case OM_CEV_GLITCH: return OM_ALERT_EV_GLITCH;
    case OM_CEV_BACKSTEP: return OM_ALERT_EV_BACKSTEP;
    case OM_CEV_JUMP: return OM_ALERT_EV_JUMP;
    case OM_CEV_WRAP: return OM_ALERT_EV_WRAP;
    default: return 0;
    }
}

static const char *unit_of(const om_meter *m)
{
    return m->utility == OM_UTILITY_WATER ? "m³" : "kWh";
}

static int resolve(const om_alert_job *job, om_alert_state *s, int64_t at,
                   om_alert_transitions *out)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "events", json_integer(s->count));
    json_object_set_new(ev, "last_event", alert_json_time(s->last_event));
    json_object_set_new(ev, "clear_hours", json_integer((json_int_t)job->set->p[OM_AP_CLEAR_HOURS]));
    unsigned n = s->count;
    s->open = false;
    s->count = 0;
    return alert_emit(out, OM_ALERT_RESOLVE, at, ev,
                      "%s: no counter anomaly for %g hours (%u while open)", job->meter->id,
                      job->set->p[OM_AP_CLEAR_HOURS], n);
}

static int fire(const om_alert_job *job, om_alert_state *s, const om_counter_event *e,
                om_alert_transitions *out)
{
    char when[40];
    json_t *ev = json_object();
    json_object_set_new(ev, "event", json_string(om_counter_event_name(e->kind)));
    json_object_set_new(ev, "t", alert_json_time(e->t));
    json_object_set_new(ev, "before", json_real(e->before));
    json_object_set_new(ev, "after", json_real(e->after));
    json_object_set_new(ev, "counted", json_real(e->counted));
    json_object_set_new(ev, "unit", json_string(unit_of(job->meter)));
    s->open = true;
    s->count = 1;
    s->last_event = e->t;
    return alert_emit(out, OM_ALERT_FIRE, e->t, ev, "%s: counter %s at %s: %.3f -> %.3f %s",
                      job->meter->id, om_counter_event_name(e->kind),
                      om_format_iso8601(e->t, when, sizeof when), e->before, e->after,
                      unit_of(job->meter));
}

int alert_rule_counter_anomaly(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out)
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
    int64_t clear = (int64_t)job->set->p[OM_AP_CLEAR_HOURS] * HOUR_MS;
    size_t n;
    const om_counter_event *events = om_counter_events(se->curve, &n);
    for (size_t i = 0; i < n; i++) {
        const om_counter_event *e = &events[i];
        if (!(event_bit(e->kind) & job->set->events) || e->t <= s->cursor || e->t > se->final_end)
            continue;
        if (s->open && e->t >= s->last_event + clear && resolve(job, s, s->last_event + clear, out) < 0)
            return -1;
        if (!s->open) {
            if (fire(job, s, e, out) < 0)
                return -1;
        } else {
            s->count++;
            s->last_event = e->t;
        }
    }
    if (s->open && se->final_end >= s->last_event + clear &&
        resolve(job, s, s->last_event + clear, out) < 0)
        return -1;
    if (se->final_end > s->cursor)
        s->cursor = se->final_end;
    return 0;
}

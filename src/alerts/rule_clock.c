/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_clock.c - the rules judged on the evaluator's clock: meter_stale,
 * gateway_offline, outbox_backlog, clock_skew, rejects.
 *
 * What arrives is judged by when the evaluator saw it move, not by the
 * time written in it: a meter is fresh while its latest reading keeps
 * moving on from one evaluation to the next, even when the readings are
 * days old (a gateway sending its backlog after an outage, a demo's
 * backfill). Only a value that stops moving ages. The evaluator's clock
 * is the system's, or the simulator's in drills (docs/alerts.md).
 */
#include "alerts_private.h"

#include <stdlib.h>
#include <string.h>

static int64_t poll_interval_ms(const om_alert_job *job)
{
    return job->policy && job->policy->poll_interval_s ? (int64_t)job->policy->poll_interval_s * 1000
                                                        : 60000;
}

static bool in_service(const om_meter *m, int64_t now)
{
    return (m->active_from == OM_TIME_NONE || m->active_from <= now) &&
           (m->active_until == OM_TIME_NONE || m->active_until > now);
}

/* Notes when `value` changed, at the evaluator's clock. */
static void observe(int64_t *seen_value, int64_t *seen_at, int64_t value, int64_t now)
{
    if (*seen_at == 0 || value != *seen_value) {
        *seen_value = value;
        *seen_at = now;
    }
}

/* ---- meter_stale ------------------------------------------------------------------ */

int alert_rule_meter_stale(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out)
{
    const om_meter *m = job->meter;
    int64_t last = job->meter_facts ? job->meter_facts->last_t : 0;
    observe(&s->seen_value, &s->seen_at, last, job->now);
    int64_t fresh = last > s->seen_at ? last : s->seen_at;
    int64_t age = job->now - fresh;
    int64_t interval = poll_interval_ms(job);
    int64_t limit = (int64_t)(job->set->p[OM_AP_INTERVALS] * (double)interval);
    int64_t clear = (int64_t)(job->set->p[OM_AP_CLEAR_INTERVALS] * (double)interval);
    bool serving = in_service(m, job->now);
    json_t *ev = json_object();
    json_object_set_new(ev, "last_reading", last ? alert_json_time(last) : json_null());
    json_object_set_new(ev, "age_s", json_integer(age / 1000));
    json_object_set_new(ev, "threshold_s", json_integer(limit / 1000));
    json_object_set_new(ev, "gateway", json_string(m->gateway_id));
    if (!s->open) {
        if (!serving || job->gateway_down || age <= limit) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                          "%s: no reading for %lld min (more than %g poll intervals of %lld s)",
                          m->id, (long long)(age / 60000), job->set->p[OM_AP_INTERVALS],
                          (long long)(interval / 1000));
    }
    if (serving && age > clear) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    if (!serving)
        return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev, "%s: out of service", m->id);
    return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev, "%s: readings arrive again", m->id);
}

/* ---- gateway_offline ----------------------------------------------------------------- */

int alert_rule_gateway_offline(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out)
{
    const om_alert_gateway_facts *f = job->gateway_facts;
    bool offline = f && strcmp(f->state, "offline") == 0;
    int64_t health_t = f ? f->health_t : 0;
    if (!offline)
        s->since = 0;
    else if (s->since == 0)
        s->since = job->now;
    observe(&s->seen2_value, &s->seen2_at, health_t, job->now);
    int64_t health_age = job->now - s->seen2_at;
    int64_t offline_for = offline ? job->now - s->since : 0;
    int64_t offline_limit = (int64_t)job->set->p[OM_AP_OFFLINE_S] * 1000;
    int64_t health_limit = (int64_t)job->set->p[OM_AP_NO_HEALTH_S] * 1000;
    bool down_by_status = offline && offline_for >= offline_limit;
    bool down_by_health = health_age >= health_limit;
    json_t *ev = json_object();
    json_object_set_new(ev, "state", json_string(f && f->state[0] ? f->state : "unknown"));
    json_object_set_new(ev, "offline_s", json_integer(offline_for / 1000));
    json_object_set_new(ev, "last_health", health_t ? alert_json_time(health_t) : json_null());
    json_object_set_new(ev, "health_age_s", json_integer(health_age / 1000));
    json_object_set_new(ev, "no_health_s", json_integer(health_limit / 1000));
    if (!s->open) {
        if (!down_by_status && !down_by_health) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        if (down_by_status)
            return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                              "gateway %s: offline for %lld s (its last will or a clean stop)",
                              job->gateway, (long long)(offline_for / 1000));
        return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                          "gateway %s: no health message for %lld min", job->gateway,
                          (long long)(health_age / 60000));
    }
    if (offline || health_age >= health_limit / 2) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev, "gateway %s: online again",
                      job->gateway);
}

/* ---- outbox_backlog ---------------------------------------------------------------- */

int alert_rule_outbox_backlog(const om_alert_job *job, om_alert_state *s,
                              om_alert_transitions *out)
{
    const om_alert_gateway_facts *f = job->gateway_facts;
    if (f && !s->open && strcmp(f->state, "offline") == 0) {
        /* Offline, the outbox grows by design (gateway_offline says so), and
         * the depth the gateway reports when it is back is the outage's
         * backlog, draining: judge growth from the first health after it. */
        s->since = 0;
        s->seen_at = 0;
        return 0;
    }
    if (f && f->health_t != 0 && f->outbox_depth >= 0 &&
        (s->seen_at == 0 || f->health_t != s->seen_value)) {
        /* A new health message: is the outbox deeper than last time? */
        double prev = (double)s->seen2_value, depth = (double)f->outbox_depth;
        if (s->seen_at != 0 && depth > prev && s->since == 0) {
            s->since = job->now;
            s->since_value = prev;
        } else if (depth < prev) {
            s->since = 0;
        }
        s->seen_value = f->health_t;
        s->seen_at = job->now;
        s->seen2_value = f->outbox_depth;
    }
    double depth = (double)s->seen2_value;
    int64_t growing = s->since ? job->now - s->since : 0;
    double growth = s->since ? depth - s->since_value : 0;
    double min_growth = job->set->p[OM_AP_MIN_GROWTH];
    json_t *ev = json_object();
    json_object_set_new(ev, "outbox_polls", json_integer(s->seen2_value));
    json_object_set_new(ev, "growing_min", json_integer(growing / 60000));
    json_object_set_new(ev, "growth", json_real(growth));
    if (!s->open) {
        if (!s->since || growing < (int64_t)job->set->p[OM_AP_MINUTES] * 60000 ||
            growth < min_growth) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        s->baseline = s->since_value;
        return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                          "gateway %s: outbox grew by %.0f polls to %.0f in %lld min "
                          "(nothing is acknowledged)",
                          job->gateway, growth, depth, (long long)(growing / 60000));
    }
    if (depth > s->baseline + min_growth / 2) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    s->baseline = 0;
    return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev,
                      "gateway %s: outbox drained to %.0f polls", job->gateway, depth);
}

/* ---- clock_skew ------------------------------------------------------------------- */

int alert_rule_clock_skew(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out)
{
    const om_alert_gateway_facts *f = job->gateway_facts;
    if (!f || f->health_t == 0)
        return 0;
    bool unset = f->clock_ok == 0;
    bool measured = f->health_sent_t != 0;
    int64_t skew = measured ? f->health_sent_t - f->health_t : 0;
    int64_t mag = skew < 0 ? -skew : skew;
    json_t *ev = json_object();
    json_object_set_new(ev, "skew_s", measured ? json_real((double)skew / 1000.0) : json_null());
    json_object_set_new(ev, "clock_ok", f->clock_ok < 0 ? json_null() : json_boolean(f->clock_ok));
    json_object_set_new(ev, "health_sent", measured ? alert_json_time(f->health_sent_t) : json_null());
    json_object_set_new(ev, "health_received", alert_json_time(f->health_t));
    if (!s->open) {
        if (!unset && !(measured && mag > (int64_t)job->set->p[OM_AP_SECONDS] * 1000)) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        if (unset)
            return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                              "gateway %s: its clock is not set (readings are not stamped)",
                              job->gateway);
        return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                          "gateway %s: clock %s by %.0f s", job->gateway,
                          skew > 0 ? "ahead" : "behind", (double)mag / 1000.0);
    }
    if (unset || !measured || mag > (int64_t)job->set->p[OM_AP_CLEAR_SECONDS] * 1000) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev, "gateway %s: clock within %.0f s",
                      job->gateway, (double)mag / 1000.0);
}

/* ---- rejects -------------------------------------------------------------------- */

int alert_rule_rejects(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out)
{
    const om_alert_gateway_facts *f = job->gateway_facts;
    double count = f ? (double)f->rejects : 0;
    int64_t window = (int64_t)job->set->p[OM_AP_WINDOW_MINUTES] * 60000;
    /* Samples at least window/64 apart: the history spans over two windows. */
    if (s->nhist == 0 || job->now - s->hist[s->nhist - 1].t >= window / 64)
        alert_hist_push(s, job->now, count, OM_ALERT_HISTORY);
    const om_alert_point *base = &s->hist[0];
    for (size_t i = 0; i < s->nhist && s->hist[i].t <= job->now - window; i++)
        base = &s->hist[i];
    double in_window = count - base->v;
    double limit = job->set->p[OM_AP_PER_HOUR] * (double)window / 3600000.0;
    json_t *ev = json_object();
    json_object_set_new(ev, "rejects", json_real(in_window));
    json_object_set_new(ev, "since", alert_json_time(base->t));
    json_object_set_new(ev, "limit", json_real(limit));
    if (!s->open) {
        if (in_window <= limit) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        return alert_emit(out, OM_ALERT_FIRE, job->now, ev,
                          "gateway %s: %.0f messages or polls rejected in %lld min (more than "
                          "%g per hour; see officemeter rejects)",
                          job->gateway, in_window, (long long)((job->now - base->t) / 60000),
                          job->set->p[OM_AP_PER_HOUR]);
    }
    if (in_window > limit / 2) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    return alert_emit(out, OM_ALERT_RESOLVE, job->now, ev,
                      "gateway %s: rejects down to %.0f in the last %lld min", job->gateway,
                      in_window, (long long)(window / 60000));
}

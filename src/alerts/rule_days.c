/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_days.c - after_hours_use: a day off (a weekend day or a holiday of
 * the site's calendar) that used more than `share` of a working day.
 *
 * Days are the site's local days (23 or 25 hours when clocks change, so
 * use is compared per 24 hours). A working day with actual data all day
 * goes into the reference; a day off is compared with the median of the
 * last reference_days working days (at least three of them). One such day
 * fires; the alert resolves on the next day off at or below clear_share.
 */
#include "alerts_private.h"

#include <stdio.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"

#define MIN_REFERENCE 3

static int judge_day_off(const om_alert_job *job, om_alert_state *s, om_date d, int64_t end,
                         double per_day, om_alert_transitions *out)
{
    const om_alert_settings *p = job->set;
    size_t want = (size_t)p->p[OM_AP_REFERENCE_DAYS];
    double vals[OM_ALERT_HISTORY];
    size_t n = alert_hist_values(s, want, vals);
    if (n < (want < MIN_REFERENCE ? want : MIN_REFERENCE))
        return 0;
    double ref = om_alert_median(vals, n);
    if (!(ref > 0))
        return 0;
    double share = per_day / ref;
    bool water = job->meter->utility == OM_UTILITY_WATER;
    const char *unit = water ? "m³" : "kWh";
    char day[16];
    om_format_date(d, day, sizeof day);
    json_t *ev = json_object();
    json_object_set_new(ev, "day", json_string(day));
    json_object_set_new(ev, "use_per_24h", json_real(per_day));
    json_object_set_new(ev, "working_day_median", json_real(ref));
    json_object_set_new(ev, "working_days", json_integer((json_int_t)n));
    json_object_set_new(ev, "share", json_real(share));
    json_object_set_new(ev, "unit", json_string(unit));
    if (!s->open) {
        if (share <= p->p[OM_AP_SHARE]) {
            json_decref(ev);
            return 0;
        }
        s->open = true;
        return alert_emit(out, OM_ALERT_FIRE, end, ev,
                          "%s: %s, a day off, used %.1f %s: %.0f %% of a working day's %.1f %s "
                          "(threshold %.0f %%)",
                          job->meter->id, day, per_day, unit, share * 100, ref, unit,
                          p->p[OM_AP_SHARE] * 100);
    }
    if (share > p->p[OM_AP_CLEAR_SHARE]) {
        json_decref(ev);
        return 0;
    }
    s->open = false;
    return alert_emit(out, OM_ALERT_RESOLVE, end, ev,
                      "%s: %s, a day off, used %.0f %% of a working day", job->meter->id, day,
                      share * 100);
}

int alert_rule_after_hours(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out)
{
    const om_alert_series *se = job->series;
    if (!se || !se->curve || !job->cal)
        return 0;
    if (s->cursor == 0)
        s->cursor = om_alert_needs_from(job, s, job->meter_facts);
    if (s->cursor == 0 || s->cursor == INT64_MAX) {
        s->cursor = 0;
        return 0;
    }
    const char *zone = job->site->timezone;
    int64_t settle = (int64_t)job->set->p[OM_AP_SETTLE_MINUTES] * 60000;
    size_t want = (size_t)job->set->p[OM_AP_REFERENCE_DAYS];
    om_date d;
    if (alert_local_date(zone, s->cursor, &d) < 0)
        return -1;
    for (d -= 1;; d++) {
        int64_t a, b;
        if (om_day_bounds(zone, d, &a, &b) < 0)
            return -1;
        if (a < s->cursor)
            continue;
        if (b + settle > se->data_end) {
            s->next_due = b;
            break;
        }
        double use;
        if (alert_complete(se->curve, a, b, &use)) {
            double per_day = use * (double)DAY_MS / (double)(b - a);
            if (om_alert_calendar_working(job->cal, d))
                alert_hist_push(s, a, per_day, want);
            else if (judge_day_off(job, s, d, b, per_day, out) < 0)
                return -1;
        }
        s->cursor = b;
    }
    return 0;
}

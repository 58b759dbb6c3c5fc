/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules.c - dispatch to the rules, and what they share: transitions,
 * streak points, history, local days, night windows, complete periods.
 */
#include "alerts_private.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"

void om_alert_transitions_free(om_alert_transitions *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].evidence);
    free(t->items);
    t->items = NULL;
    t->n = t->cap = 0;
}

int alert_emit(om_alert_transitions *out, om_alert_change kind, int64_t t, json_t *evidence,
               const char *fmt, ...)
{
    om_alert_transition *grown = om_grow(out->items, &out->cap, out->n, sizeof *grown);
    char *text = evidence ? json_dumps(evidence, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10))
                          : strdup("{}");
    json_decref(evidence);
    if (!grown || !text) {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    out->items = grown;
    om_alert_transition *tr = &out->items[out->n++];
    memset(tr, 0, sizeof *tr);
    tr->kind = kind;
    tr->t = t;
    tr->evidence = text;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tr->summary, sizeof tr->summary, fmt, ap);
    va_end(ap);
    return 0;
}

void alert_point_push(om_alert_state *s, int64_t t, double v)
{
    if (s->npts == OM_ALERT_POINTS) {
        memmove(s->pts, s->pts + 1, (OM_ALERT_POINTS - 1) * sizeof *s->pts);
        s->npts--;
    }
    s->pts[s->npts++] = (om_alert_point){t, v};
}

void alert_hist_push(om_alert_state *s, int64_t t, double v, size_t keep)
{
    if (keep > OM_ALERT_HISTORY)
        keep = OM_ALERT_HISTORY;
    if (keep == 0)
        return;
    while (s->nhist >= keep) {
        size_t drop = s->nhist - keep + 1;
        memmove(s->hist, s->hist + drop, (s->nhist - drop) * sizeof *s->hist);
        s->nhist -= drop;
    }
    s->hist[s->nhist++] = (om_alert_point){t, v};
}

size_t alert_hist_values(const om_alert_state *s, size_t n, double *out)
{
    if (n > s->nhist)
        n = s->nhist;
    for (size_t i = 0; i < n; i++)
        out[i] = s->hist[s->nhist - n + i].v;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double om_alert_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

json_t *alert_json_time(int64_t t)
{
    char buf[40];
    return json_string(om_format_iso8601(t, buf, sizeof buf));
}

int alert_local_date(const char *zone, int64_t t, om_date *out)
{
    struct tm tm;
    if (om_tz_utc_to_local(zone, t, &tm) < 0)
        return -1;
    *out = om_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
    return 0;
}

json_t *alert_json_local_date(const char *zone, int64_t t)
{
    om_date d;
    char buf[16];
    if (alert_local_date(zone, t, &d) < 0)
        return alert_json_time(t);
    return json_string(om_format_date(d, buf, sizeof buf));
}

json_t *alert_json_points(const om_alert_point *pts, size_t n, const char *zone,
                          const char *key)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, zone ? "date" : "t",
                            zone ? alert_json_local_date(zone, pts[i].t) : alert_json_time(pts[i].t));
        json_object_set_new(o, key, json_real(pts[i].v));
        json_array_append_new(arr, o);
    }
    return arr;
}

static int local_minute(const char *zone, om_date d, unsigned minute, int64_t *ms)
{
    if (minute >= 1440) /* 24:00 is the next day's midnight */
        return om_tz_local_to_utc(zone, d + 1, (int)(minute - 1440) * 60, ms);
    return om_tz_local_to_utc(zone, d, (int)minute * 60, ms);
}

int alert_night_window(const char *zone, om_date d, unsigned from_min, unsigned to_min,
                       int64_t *start, int64_t *end)
{
    if (local_minute(zone, d, from_min, start) < 0)
        return -1;
    return local_minute(zone, to_min > from_min ? d : d + 1, to_min, end);
}

bool alert_complete(const om_counter *c, int64_t a, int64_t b, double *value)
{
    om_consumption cons;
    if (!c || b <= a || om_counter_consumption(c, a, b, &cons) < 0)
        return false;
    if (cons.expected_ms != b - a || cons.actual_ms != b - a)
        return false;
    *value = cons.value;
    return true;
}

/* ---- the rules ------------------------------------------------------------------ */

int64_t om_alert_needs_from(const om_alert_job *job, const om_alert_state *state,
                            const om_alert_meter_facts *facts)
{
    if (!om_alert_rule_is_data_time(job->rule) || !facts || facts->last_t == 0)
        return INT64_MAX;
    if (state->cursor != 0)
        return state->cursor;
    int64_t from = facts->last_t - OM_ALERT_FIRST_LOOKBACK_MS;
    return from > facts->first_t ? from : facts->first_t;
}

/* The end of the first night (or local day) starting at or after cursor. */
static int next_period_end(const om_alert_job *job, int64_t cursor, bool night, int64_t *end)
{
    const char *zone = job->site->timezone;
    om_date d;
    if (alert_local_date(zone, cursor, &d) < 0)
        return -1;
    for (d -= 1;; d++) {
        int64_t a, b;
        int rc = night ? alert_night_window(zone, d, (unsigned)job->set->p[OM_AP_NIGHT_FROM],
                                            (unsigned)job->set->p[OM_AP_NIGHT_TO], &a, &b)
                       : om_day_bounds(zone, d, &a, &b);
        if (rc < 0)
            return -1;
        if (a >= cursor) {
            *end = b;
            return 0;
        }
    }
}

bool om_alert_due(const om_alert_job *job, const om_alert_state *state,
                  const om_alert_meter_facts *facts)
{
    if (!om_alert_rule_is_data_time(job->rule) || !facts || facts->last_t == 0)
        return false;
    if (state->cursor == 0)
        return true;
    int64_t settle = (int64_t)job->set->p[OM_AP_SETTLE_MINUTES] * 60000;
    int64_t end;
    switch (job->rule) {
    case OM_ALERT_COUNTER_ANOMALY:
        return facts->last_t > state->cursor;
    case OM_ALERT_WATER_CONTINUOUS_FLOW:
        return state->cursor + HOUR_MS + settle <= facts->last_t;
    default:
        break;
    }
    if (state->next_due > state->cursor)
        return state->next_due + settle <= facts->last_t;
    switch (job->rule) {
    case OM_ALERT_AFTER_HOURS_USE:
        return next_period_end(job, state->cursor, false, &end) < 0 ||
               end + settle <= facts->last_t;
    default:
        return next_period_end(job, state->cursor, true, &end) < 0 ||
               end + settle <= facts->last_t;
    }
}

int om_alert_evaluate(const om_alert_job *job, om_alert_state *state, om_alert_transitions *out)
{
    switch (job->rule) {
    case OM_ALERT_METER_STALE:
        return alert_rule_meter_stale(job, state, out);
    case OM_ALERT_GATEWAY_OFFLINE:
        return alert_rule_gateway_offline(job, state, out);
    case OM_ALERT_OUTBOX_BACKLOG:
        return alert_rule_outbox_backlog(job, state, out);
    case OM_ALERT_CLOCK_SKEW:
        return alert_rule_clock_skew(job, state, out);
    case OM_ALERT_REJECTS:
        return alert_rule_rejects(job, state, out);
    case OM_ALERT_WATER_NIGHT_FLOW:
    case OM_ALERT_BASE_LOAD_RISE:
        return alert_rule_night(job, state, out);
    case OM_ALERT_WATER_CONTINUOUS_FLOW:
        return alert_rule_continuous_flow(job, state, out);
    case OM_ALERT_AFTER_HOURS_USE:
        return alert_rule_after_hours(job, state, out);
    case OM_ALERT_COUNTER_ANOMALY:
        return alert_rule_counter_anomaly(job, state, out);
    default:
        errno = EINVAL;
        return -1;
    }
}

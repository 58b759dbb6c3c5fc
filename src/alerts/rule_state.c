/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule_state.c - a rule's saved state as JSON and back.
 *
 * Only fields that are not zero are written, so a state is as small as
 * what the rule keeps. Numbers are written with 17 digits: a baseline read
 * back is the same double, and the next judgement the same as if the
 * evaluator had never stopped.
 */
#include <string.h>

#include <jansson.h>

#include "officemeter/alerts/rules.h"

static void put_int(json_t *o, const char *key, int64_t v)
{
    if (v != 0)
        json_object_set_new(o, key, json_integer(v));
}

static void put_points(json_t *o, const char *key, const om_alert_point *p, size_t n)
{
    if (n == 0)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("[If]", (json_int_t)p[i].t, p[i].v));
    json_object_set_new(o, key, arr);
}

char *om_alert_state_json(const om_alert_state *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (s->open)
        json_object_set_new(o, "open", json_true());
    put_int(o, "cursor", s->cursor);
    put_int(o, "next_due", s->next_due);
    put_int(o, "streak", s->streak);
    put_int(o, "clear_streak", s->clear_streak);
    put_points(o, "pts", s->pts, s->npts);
    put_points(o, "hist", s->hist, s->nhist);
    if (s->baseline != 0)
        json_object_set_new(o, "baseline", json_real(s->baseline));
    put_int(o, "seen_value", s->seen_value);
    put_int(o, "seen_at", s->seen_at);
    put_int(o, "seen2_value", s->seen2_value);
    put_int(o, "seen2_at", s->seen2_at);
    put_int(o, "since", s->since);
    if (s->since_value != 0)
        json_object_set_new(o, "since_value", json_real(s->since_value));
    put_int(o, "count", s->count);
    put_int(o, "last_event", s->last_event);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return text;
}

static int64_t get_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static double get_real(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static size_t get_points(json_t *o, const char *key, om_alert_point *p, size_t cap)
{
    json_t *arr = json_object_get(o, key);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0, k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        json_t *pair = json_array_get(arr, i);
        json_t *t = json_array_get(pair, 0), *v = json_array_get(pair, 1);
        if (json_is_integer(t) && json_is_number(v))
            p[k++] = (om_alert_point){json_integer_value(t), json_number_value(v)};
    }
    return k;
}

int om_alert_state_parse(const char *text, om_alert_state *s)
{
    memset(s, 0, sizeof *s);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    s->open = json_is_true(json_object_get(o, "open"));
    s->cursor = get_int(o, "cursor");
    s->next_due = get_int(o, "next_due");
    s->streak = (unsigned)get_int(o, "streak");
    s->clear_streak = (unsigned)get_int(o, "clear_streak");
    s->npts = get_points(o, "pts", s->pts, OM_ALERT_POINTS);
    s->nhist = get_points(o, "hist", s->hist, OM_ALERT_HISTORY);
    s->baseline = get_real(o, "baseline");
    s->seen_value = get_int(o, "seen_value");
    s->seen_at = get_int(o, "seen_at");
    s->seen2_value = get_int(o, "seen2_value");
    s->seen2_at = get_int(o, "seen2_at");
    s->since = get_int(o, "since");
    s->since_value = get_real(o, "since_value");
    s->count = (unsigned)get_int(o, "count");
    s->last_event = get_int(o, "last_event");
    json_decref(o);
    return 0;
}

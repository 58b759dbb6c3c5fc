/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.c - an alert's JSON for people and machines: the event body of a
 * change (webhook, MQTT event), the retained list of open alerts, and the
 * Alertmanager v2 body. The shapes are a contract: docs/alerts.md,
 * "Delivery", shows each one.
 */
#include "officemeter/alerts/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "officemeter/base/isotime.h"

static const char *const change_names[OM_CHANGE__COUNT] = {
    "fired", "resolved", "acknowledged", "silenced", "unsilenced"};

static const char *const titles[OM_ALERT__COUNT] = {
    [OM_ALERT_METER_STALE] = "meter gone quiet",
    [OM_ALERT_GATEWAY_OFFLINE] = "gateway offline",
    [OM_ALERT_WATER_NIGHT_FLOW] = "water running at night",
    [OM_ALERT_WATER_CONTINUOUS_FLOW] = "water running around the clock",
    [OM_ALERT_BASE_LOAD_RISE] = "night base load crept up",
    [OM_ALERT_AFTER_HOURS_USE] = "high use on a day off",
    [OM_ALERT_COUNTER_ANOMALY] = "meter counter anomaly",
    [OM_ALERT_OUTBOX_BACKLOG] = "gateway outbox growing",
    [OM_ALERT_CLOCK_SKEW] = "gateway clock wrong",
    [OM_ALERT_REJECTS] = "gateway messages rejected",
};

const char *om_alert_change_text(om_alert_change_name c)
{
    return (unsigned)c < OM_CHANGE__COUNT ? change_names[c] : "?";
}

int om_alert_change_from_text(const char *text, om_alert_change_name *out)
{
    for (int i = 0; text && i < OM_CHANGE__COUNT; i++)
        if (strcmp(change_names[i], text) == 0) {
            *out = (om_alert_change_name)i;
            return 0;
        }
    return -1;
}

const char *om_alert_rule_title(om_alert_rule rule)
{
    return (unsigned)rule < OM_ALERT__COUNT ? titles[rule] : "?";
}

void om_alert_record_free(om_alert_record *a)
{
    if (!a)
        return;
    free(a->evidence);
    a->evidence = NULL;
}

void om_alert_records_free(om_alert_record *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        om_alert_record_free(&a[i]);
    free(a);
}

char *om_alert_key(const char *instance, int64_t id, unsigned seq, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%" PRId64 "-%u", instance, id, seq);
    return buf;
}

static json_t *time_or_null(int64_t t)
{
    char buf[40];
    return t ? json_string(om_format_iso8601(t, buf, sizeof buf)) : json_null();
}

static json_t *text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *record_json(const om_alert_record *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "rule", json_string(om_alert_rule_name(a->rule)));
    json_object_set_new(o, "title", json_string(om_alert_rule_title(a->rule)));
    json_object_set_new(o, "severity", json_string(om_alert_severity_name(a->severity)));
    json_object_set_new(o, "site", json_string(a->site));
    json_object_set_new(o, a->gateway ? "gateway" : "meter", json_string(a->subject));
    json_object_set_new(o, "state", json_string(a->open ? "open" : "resolved"));
    json_object_set_new(o, "fired_at", time_or_null(a->fired_at));
    json_object_set_new(o, "resolved_at", time_or_null(a->resolved_at));
    json_object_set_new(o, "detected_at", time_or_null(a->detected_at));
    json_object_set_new(o, "summary", json_string(a->summary));
    json_t *ev = a->evidence ? json_loads(a->evidence, 0, NULL) : NULL;
    json_object_set_new(o, "evidence", ev ? ev : json_object());
    json_object_set_new(o, "changes", json_integer(a->changes));
    json_t *ack = json_null();
    if (a->acked_by[0]) {
        ack = json_object();
        json_object_set_new(ack, "by", json_string(a->acked_by));
        json_object_set_new(ack, "at", time_or_null(a->acked_at));
        json_object_set_new(ack, "note", text_or_null(a->ack_note));
    }
    json_object_set_new(o, "acknowledged", ack);
    json_object_set_new(o, "silenced_until", time_or_null(a->silenced_until));
    return o;
}

static char *dump(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    return text;
}

char *om_alert_event_json(const char *instance, const om_alert_record *a,
                          const om_alert_change_info *c)
{
    char key[128];
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(OM_ALERT_EVENT_SCHEMA));
    json_object_set_new(o, "key", json_string(om_alert_key(instance, a->id, c->seq, key, sizeof key)));
    json_object_set_new(o, "change", json_string(om_alert_change_text(c->change)));
    json_object_set_new(o, "seq", json_integer(c->seq));
    json_object_set_new(o, "t", time_or_null(c->t));
    json_object_set_new(o, "recorded", time_or_null(c->recorded));
    json_object_set_new(o, "by", text_or_null(c->who));
    json_object_set_new(o, "note", text_or_null(c->note));
    json_object_set_new(o, "alert", record_json(a));
    return dump(o);
}

char *om_alert_open_json(const char *site, int64_t now, const om_alert_record *open, size_t n)
{
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(OM_ALERT_OPEN_SCHEMA));
    json_object_set_new(o, "site", json_string(site));
    json_object_set_new(o, "t", time_or_null(now));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, record_json(&open[i]));
    json_object_set_new(o, "open", arr);
    return dump(o);
}

char *om_alert_am_json(const om_alert_record *alerts, size_t n, int64_t now_real,
                       unsigned ends_after_s)
{
    json_t *arr = json_array();
    char id[32];
    for (size_t i = 0; i < n; i++) {
        const om_alert_record *a = &alerts[i];
        json_t *labels = json_object();
        json_object_set_new(labels, "alertname", json_string(om_alert_rule_name(a->rule)));
        json_object_set_new(labels, "site", json_string(a->site));
        json_object_set_new(labels, a->gateway ? "gateway" : "meter", json_string(a->subject));
        json_object_set_new(labels, "severity", json_string(om_alert_severity_name(a->severity)));
        snprintf(id, sizeof id, "%" PRId64, a->id);
        json_object_set_new(labels, "officemeter_alert", json_string(id));
        json_t *ann = json_object();
        json_object_set_new(ann, "summary", json_string(a->summary));
        json_object_set_new(ann, "title", json_string(om_alert_rule_title(a->rule)));
        json_object_set_new(ann, "evidence", json_string(a->evidence ? a->evidence : "{}"));
        json_t *al = json_object();
        json_object_set_new(al, "labels", labels);
        json_object_set_new(al, "annotations", ann);
        json_object_set_new(al, "startsAt", time_or_null(a->fired_at));
        json_object_set_new(al, "endsAt", time_or_null(a->open ? now_real + (int64_t)ends_after_s * 1000
                                                              : a->resolved_at));
        json_array_append_new(arr, al);
    }
    return dump(arr);
}

char *om_alert_record_json(const om_alert_record *a)
{
    return dump(record_json(a));
}

char *om_alert_list_json(const om_alert_record *a, size_t n, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(OM_ALERT_LIST_SCHEMA));
    json_object_set_new(o, "t", time_or_null(now));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, record_json(&a[i]));
    json_object_set_new(o, "alerts", arr);
    return dump(o);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.h - an alert as stored and as delivered: the record, and the JSON
 * bodies of the contract (docs/alerts.md, "Delivery").
 *
 *   om_alert_event_json   one change of one alert: the webhook's POST body
 *                         and the payload of officemeter/v1/{site}/alerts/events
 *   om_alert_open_json    the retained officemeter/v1/{site}/alerts: the
 *                         open alerts of a site
 *   om_alert_am_json      Prometheus Alertmanager's v2 API body
 *                         (POST /api/v2/alerts)
 *
 * Every change has an idempotency key, INSTANCE-ID-SEQ (the database's
 * alert instance, the alert's id, the change's number): a receiver that
 * sees a key twice has seen that change before.
 */
#ifndef OFFICEMETER_ALERTS_RECORD_H
#define OFFICEMETER_ALERTS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/id.h"
#include "officemeter/config/alertcfg.h"

#define OM_ALERT_EVENT_SCHEMA "officemeter.alert.v1"
#define OM_ALERT_OPEN_SCHEMA "officemeter.alerts.v1"

/* The changes an alert goes through, in the history and in event bodies. */
typedef enum {
    OM_CHANGE_FIRED,
    OM_CHANGE_RESOLVED,
    OM_CHANGE_ACKNOWLEDGED,
    OM_CHANGE_SILENCED,
    OM_CHANGE_UNSILENCED,
    OM_CHANGE__COUNT
} om_alert_change_name;

const char *om_alert_change_text(om_alert_change_name c);
int om_alert_change_from_text(const char *text, om_alert_change_name *out);

typedef struct {
    int64_t id;
    char site[OM_ID_MAX];
    om_alert_rule rule;
    char subject[OM_ID_MAX]; /* a meter or a gateway id */
    bool gateway;            /* subject is a gateway */
    om_alert_severity severity;
    bool open;
    int64_t fired_at;        /* data time or clock time (the rule's kind) */
    int64_t resolved_at;     /* 0 while open */
    int64_t detected_at;     /* the evaluator's clock when it fired */
    int64_t resolved_detected_at;
    char summary[320];
    char *evidence;          /* JSON object (owned; may be NULL) */
    unsigned changes;        /* changes so far: the last one's number */
    char acked_by[64];       /* "" when not acknowledged */
    int64_t acked_at;
    char ack_note[256];
    int64_t silenced_until;  /* 0: not silenced now */
} om_alert_record;

void om_alert_record_free(om_alert_record *a);
void om_alert_records_free(om_alert_record *a, size_t n);

/* One change. who/note may be NULL (the evaluator's own changes). */
typedef struct {
    om_alert_change_name change;
    unsigned seq;     /* the change's number for its alert: 1 is its firing */
    int64_t t;        /* when it happened (fired/resolved: the rule's time) */
    int64_t recorded; /* the clock when it was recorded */
    const char *who;
    const char *note;
} om_alert_change_info;

/* The idempotency key into buf (at least 64 bytes). */
char *om_alert_key(const char *instance, int64_t id, unsigned seq, char *buf, size_t len);

/* The event body for one change (malloc'd JSON, NULL on memory). */
char *om_alert_event_json(const char *instance, const om_alert_record *a,
                          const om_alert_change_info *c);
/* The retained list of a site's open alerts at `now`. */
char *om_alert_open_json(const char *site, int64_t now, const om_alert_record *open, size_t n);
/* Alertmanager's body: open alerts with endsAt = now_real + ends_after_s,
 * resolved ones with endsAt = their resolution. */
char *om_alert_am_json(const om_alert_record *alerts, size_t n, int64_t now_real,
                       unsigned ends_after_s);

/* One record as a JSON object (the "alert" of an event body). */
char *om_alert_record_json(const om_alert_record *a);
/* `officemeter alerts --format json`: {"schema": OM_ALERT_LIST_SCHEMA,
 * "t": now, "alerts": [records]}. */
#define OM_ALERT_LIST_SCHEMA "officemeter.alerts.list.v1"
char *om_alert_list_json(const om_alert_record *a, size_t n, int64_t now);

/* "water running at night" - what a rule's alert means, for people. */
const char *om_alert_rule_title(om_alert_rule rule);

#endif

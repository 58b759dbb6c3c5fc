/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_private.h - what the rule files share: emitting transitions with
 * their evidence, streaks of periods, local days and night windows.
 */
#ifndef OM_ALERTS_PRIVATE_H
#define OM_ALERTS_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "officemeter/alerts/rules.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

/* Appends a transition; takes evidence (a JSON object, may be NULL) and
 * formats the summary. Returns 0, or -1 (ENOMEM). */
int alert_emit(om_alert_transitions *out, om_alert_change kind, int64_t t, json_t *evidence,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Keeps the newest OM_ALERT_POINTS points. */
void alert_point_push(om_alert_state *s, int64_t t, double v);
/* Keeps the newest `keep` (at most OM_ALERT_HISTORY) values of hist. */
void alert_hist_push(om_alert_state *s, int64_t t, double v, size_t keep);
/* The values of the newest n history entries into out (n at most nhist). */
size_t alert_hist_values(const om_alert_state *s, size_t n, double *out);

/* "2024-03-31T01:00:00.000Z" as a JSON string. */
json_t *alert_json_time(int64_t t);
/* The local date of t in zone as "YYYY-MM-DD" (a JSON string). */
json_t *alert_json_local_date(const char *zone, int64_t t);
/* The points as [{"date"|"t": …, key: v}, …]; dated by local date when zone. */
json_t *alert_json_points(const om_alert_point *pts, size_t n, const char *zone,
                          const char *key);

/* The local date of an instant in zone; -1 on an unknown zone. */
int alert_local_date(const char *zone, int64_t t, om_date *out);
/* A night's window of local date d: [from, to) minutes of the local day;
 * a `to` not after `from` ends on the next day. */
int alert_night_window(const char *zone, om_date d, unsigned from_min, unsigned to_min,
                       int64_t *start, int64_t *end);

/* Consumption over [a, b) when the meter was in service and the curve has
 * actual data all through (no gap, no edge); false otherwise. */
bool alert_complete(const om_counter *c, int64_t a, int64_t b, double *value);

/* The rules, one file each (rules.c dispatches). */
int alert_rule_meter_stale(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out);
int alert_rule_gateway_offline(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out);
int alert_rule_outbox_backlog(const om_alert_job *job, om_alert_state *s,
                              om_alert_transitions *out);
int alert_rule_clock_skew(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out);
int alert_rule_rejects(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out);
int alert_rule_night(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out);
int alert_rule_continuous_flow(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out);
int alert_rule_after_hours(const om_alert_job *job, om_alert_state *s, om_alert_transitions *out);
int alert_rule_counter_anomaly(const om_alert_job *job, om_alert_state *s,
                               om_alert_transitions *out);

#endif

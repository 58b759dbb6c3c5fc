/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules.h - the alert rules: one rule applied to one meter or gateway, from
 * what is stored, as a small state machine per (rule, subject).
 *
 * Each evaluation takes the rule's saved state, what the store knows now
 * (facts about a gateway or meter, and for data-time rules the meter's
 * counter curve), and the evaluator's clock; it returns the transitions
 * (fire, resolve) and the new state to save with them in one transaction.
 *
 *            bad period (or condition) K times in a row
 *    CLEAR ----------------------------------------------> OPEN   fire
 *      ^                                                    |
 *      +----------------------------------------------------+
 *            clear period (or condition) K' times in a row     resolve
 *
 * A value between the clear and the firing threshold keeps an open alert
 * open and a clear state clear (hysteresis).
 *
 * Two kinds of rules (docs/alerts.md, "Where and when they are evaluated"):
 *
 *   data-time   water_night_flow, water_continuous_flow, base_load_rise,
 *               after_hours_use, counter_anomaly: judged period by period
 *               (a night, an hour, a day, a counter event) in the order of
 *               the readings' own time, each period once, when the readings
 *               reach settle_minutes past its end. Fired and resolved times
 *               are data times. So a day of readings that arrives late in
 *               one burst gives exactly the transitions it would have given
 *               live.
 *   clock       meter_stale and the gateway rules: judged at the evaluator's
 *               clock. Freshness is what the evaluator saw arrive (the time a
 *               meter's latest reading last moved on), never the age of the
 *               readings themselves, so history being backfilled is fresh.
 *
 * Pure: no I/O, no clock of its own, no SQL.
 */
#ifndef OFFICEMETER_ALERTS_RULES_H
#define OFFICEMETER_ALERTS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/config/alertcfg.h"
#include "officemeter/config/factors.h"
#include "officemeter/config/site.h"
#include "officemeter/report/consumption.h"

/* How far back a data-time rule looks the first time it sees a meter:
 * enough for base_load_rise's baseline. */
#define OM_ALERT_FIRST_LOOKBACK_MS (35LL * 86400000)
/* Values a rule keeps: base_load_rise's baseline nights, after_hours_use's
 * working days, water_continuous_flow's hours, rejects' samples. */
#define OM_ALERT_HISTORY 168
/* Evidence points kept for a streak or an open alert. */
#define OM_ALERT_POINTS 16

typedef struct {
    int64_t t;
    double v;
} om_alert_point;

/* The saved state of one rule for one subject (om_alert_state_json,
 * om_alert_state_parse). Fields a rule does not use stay zero. */
typedef struct {
    bool open;
    int64_t cursor;           /* data-time: the end of the last period judged; 0: none yet */
    int64_t next_due;         /* night and day rules: the end of the next period; 0: unknown
                               * (saves a time-zone conversion per cycle in om_alert_due) */
    unsigned streak;          /* bad periods in a row (while clear) */
    unsigned clear_streak;    /* clear periods in a row (while open) */
    om_alert_point pts[OM_ALERT_POINTS]; /* the streak's or the open alert's figures */
    size_t npts;
    om_alert_point hist[OM_ALERT_HISTORY]; /* judged values a rule compares with */
    size_t nhist;
    double baseline;          /* frozen while an alert is open */
    int64_t seen_value;       /* clock rules: the value last seen (a reading time, a count) */
    int64_t seen_at;          /* ... and the evaluator's time it last changed; 0: never seen */
    int64_t seen2_value;      /* gateway_offline: the health message's time */
    int64_t seen2_at;
    int64_t since;            /* a condition holds since (evaluator's time); 0: not */
    double since_value;
    unsigned count;           /* counter_anomaly: events while open */
    int64_t last_event;
} om_alert_state;

/* A change a rule asks for. */
typedef enum { OM_ALERT_FIRE, OM_ALERT_RESOLVE } om_alert_change;

typedef struct {
    om_alert_change kind;
    int64_t t;          /* data time (data-time rules) or the evaluator's time */
    char summary[320];  /* one line for people */
    char *evidence;     /* JSON object: the figures behind it (malloc'd) */
} om_alert_transition;

typedef struct {
    om_alert_transition *items;
    size_t n, cap;
} om_alert_transitions;

void om_alert_transitions_free(om_alert_transitions *t);

/* What the store says about a meter. */
typedef struct {
    int64_t first_t; /* earliest reading of any quantity, 0: none */
    int64_t last_t;  /* latest reading of any quantity, 0: none */
} om_alert_meter_facts;

/* What the store says about a gateway. Times from the aggregator's clock
 * except health_sent_t, which is the gateway's own. */
typedef struct {
    bool known;             /* the database has seen it at all */
    char state[16];         /* "online", "offline", "" */
    int64_t state_t;
    int64_t last_seen;
    int64_t health_t;       /* when the latest health message arrived; 0: none */
    int64_t health_sent_t;  /* its "t": the gateway's clock; 0: none */
    int clock_ok;           /* its "clock_ok": 1, 0, or -1 when absent */
    int64_t outbox_depth;   /* -1: unknown */
    uint64_t rejects;       /* rejects counted for the gateway, ever */
} om_alert_gateway_facts;

/* A meter's utility counter around the periods to judge. */
typedef struct {
    const om_counter *curve; /* NULL: no readings */
    int64_t data_end;        /* the latest reading */
    int64_t final_end;       /* counter events up to here are decided (enough readings after) */
} om_alert_series;

typedef struct {
    om_alert_rule rule;
    const om_site *site;
    const om_meter *meter;            /* meter rules */
    const char *gateway;              /* gateway rules */
    const om_alert_settings *set;
    const om_policy *policy;          /* poll_interval_s for meter_stale */
    const om_alert_calendar *cal;     /* after_hours_use */
    int64_t now;                      /* the evaluator's clock */
    const om_alert_series *series;    /* data-time rules */
    const om_alert_meter_facts *meter_facts;     /* meter_stale */
    const om_alert_gateway_facts *gateway_facts; /* gateway rules */
    bool gateway_down; /* meter_stale: the meter's gateway has gateway_offline open */
} om_alert_job;

/* Where a data-time rule needs the meter's readings from (ms UTC), given
 * its state and the meter's first and last reading: the start of the first
 * period not yet judged. INT64_MAX when it needs none. */
int64_t om_alert_needs_from(const om_alert_job *job, const om_alert_state *state,
                            const om_alert_meter_facts *facts);

/* True when a data-time rule has a period to judge now that the meter's
 * readings reach facts->last_t: the readings are worth fetching. Always
 * true the first time (no cursor yet); false for clock rules. */
bool om_alert_due(const om_alert_job *job, const om_alert_state *state,
                  const om_alert_meter_facts *facts);

/* Judges what is new and appends the transitions to out, in time order.
 * Returns 0, or -1 (errno: ENOMEM, or EINVAL for a zone the calendar does
 * not know). */
int om_alert_evaluate(const om_alert_job *job, om_alert_state *state, om_alert_transitions *out);

/* The state as JSON text (malloc'd), and back: -1 on text that is not a
 * state (the caller starts afresh). */
char *om_alert_state_json(const om_alert_state *state);
int om_alert_state_parse(const char *json, om_alert_state *state);

/* Median of v[0..n) (n > 0; v is reordered). */
double om_alert_median(double *v, size_t n);

#endif
